//! REST API `/api/v1`: JSON in and out, bearer tokens, one error shape.

use crate::extract::{content_type, read_body, ApiActor, ApiQuery, JsonBody, StrictJsonBody};
use crate::public::{fields_from_body, submission_from};
use crate::{ApiError, AppState};
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use voronka_app::{
    AppError, BulkAction, CaptureRequest, ConvertInput, FormInput, Message, RefuseInput,
};
use voronka_core::scoring::{Activity, FitLevel};
use voronka_core::{
    Channel, Currency, Id, Millis, Money, Role, Scope, ScopeSet, Stage, Temperature,
};
use voronka_store::{Cursor, LeadQuery, LeadSort, SimpleQuery};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/leads", get(list_leads).post(create_lead))
        .route("/leads/bulk", post(bulk))
        .route("/leads/export", get(export_leads))
        .route("/leads/{id}", get(get_lead))
        .route("/leads/{id}/stage", post(change_stage))
        .route("/leads/{id}/refuse", post(refuse))
        .route("/leads/{id}/junk", post(junk))
        .route("/leads/{id}/convert", post(convert))
        .route("/leads/{id}/assign", post(assign))
        .route("/leads/{id}/temperature", post(temperature))
        .route("/leads/{id}/request", put(edit_request))
        .route("/leads/{id}/notes", post(add_note))
        .route("/leads/{id}/tags", post(tag_lead))
        .route("/leads/{id}/tags/{tag}", delete(untag_lead))
        .route("/tags", get(tags_in_use))
        .route("/tags/{tag}", put(rename_tag).delete(delete_tag))
        .route("/leads/{id}/audit", get(lead_audit))
        .route("/audit", get(audit_log))
        .route("/contacts", get(list_contacts))
        .route("/contacts/{id}", get(get_contact).put(edit_contact))
        .route("/contacts/{id}/changes", get(contact_changes))
        .route(
            "/contacts/{id}/changes/{change}/restore",
            post(restore_contact_change),
        )
        .route("/contacts/{id}/erase", post(erase_contact))
        .route("/accounts", get(list_accounts))
        .route("/accounts/{id}", get(get_account).put(edit_account))
        .route("/accounts/{id}/changes", get(account_changes))
        .route(
            "/accounts/{id}/changes/{change}/restore",
            post(restore_account_change),
        )
        .route("/customers", get(list_customers))
        .route("/customers/{id}", get(get_customer))
        .route("/customers/{id}/merge", post(merge_customer))
        .route("/customer-merges/{id}/undo", post(undo_customer_merge))
        .route("/deals", get(list_deals))
        .route("/deals/{id}", get(get_deal).put(edit_deal))
        .route("/deals/{id}/changes", get(deal_changes))
        .route(
            "/deals/{id}/changes/{change}/restore",
            post(restore_deal_change),
        )
        .route("/leads/{id}/changes", get(request_changes))
        .route(
            "/leads/{id}/changes/{change}/restore",
            post(restore_request_change),
        )
        .route("/forms", get(list_forms).post(create_form))
        .route("/forms/{id}", get(get_form).put(update_form))
        .route("/forms/{id}/definition", axum::routing::put(define_form))
        .route("/forms/{id}/variants", get(form_variants))
        .route("/forms/{id}/embed", get(form_embed))
        .route("/refusal-reasons", get(list_reasons).post(add_reason))
        .route("/scrub-rules", get(get_scrub_rules).put(put_scrub_rules))
        .route("/duplicates", get(list_duplicates))
        .route("/duplicates/{id}", get(get_duplicate))
        .route("/duplicates/{id}/merge", post(merge_duplicate))
        .route("/duplicates/{id}/not-duplicate", post(not_duplicate))
        .route("/leads/{id}/merge", post(merge_lead))
        .route("/leads/{id}/merges", get(lead_merges))
        .route("/merges/{id}/undo", post(undo_merge))
        .route("/reports/scrub", get(scrub_report))
        .route("/model", get(get_model))
        .route("/model/train", post(train_model))
        .route("/status", get(status))
        .route("/users", get(list_users).post(create_user))
        .route("/users/{id}", post(update_user))
        .route("/users/{id}/password", post(set_user_password))
        .route("/users/{id}/two-step-off", post(reset_two_step))
        .route("/views", get(list_views).post(create_view))
        .route("/views/{id}", delete(delete_view))
        .route("/tokens", get(list_tokens).post(create_token))
        .route("/tokens/{id}", delete(revoke_token))
        .merge(crate::speed_api::routes())
        .merge(crate::channels_api::routes())
        .merge(crate::scoring_api::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
}

async fn not_found() -> ApiError {
    AppError::NotFound(Message::new("endpoint_not_found")).into()
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

type ApiResult<T> = Result<T, ApiError>;

/// What an id in a path or a query names: each has its own sentence when it is not an id.
#[derive(Clone, Copy)]
pub(crate) enum IdOf {
    Lead,
    Owner,
    Form,
    Contact,
    Account,
    Customer,
    Deal,
    Pair,
    Merge,
    User,
    Token,
    Task,
    View,
    Spend,
    CustomerMerge,
    Change,
}

impl IdOf {
    fn invalid(self) -> Message {
        match self {
            IdOf::Lead => Message::new("lead_id_invalid"),
            IdOf::Owner => Message::new("owner_id_invalid"),
            IdOf::Form => Message::new("form_id_invalid"),
            IdOf::Contact => Message::new("contact_id_invalid"),
            IdOf::Account => Message::new("account_id_invalid"),
            IdOf::Customer => Message::new("customer_id_invalid"),
            IdOf::Deal => Message::new("deal_id_invalid"),
            IdOf::Pair => Message::new("pair_id_invalid"),
            IdOf::Merge => Message::new("merge_id_invalid"),
            IdOf::User => Message::new("user_id_invalid"),
            IdOf::Token => Message::new("token_id_invalid"),
            IdOf::Task => Message::new("task_id_invalid"),
            IdOf::View => Message::new("view_id_invalid"),
            IdOf::Spend => Message::new("spend_id_invalid"),
            IdOf::CustomerMerge => Message::new("customer_merge_id_invalid"),
            IdOf::Change => Message::new("change_id_invalid"),
        }
    }
}

pub(crate) fn parse_id(s: &str, of: IdOf) -> ApiResult<Id> {
    s.parse::<Id>()
        .ok()
        .filter(|i| *i > 0)
        .ok_or_else(|| ApiError::BadRequest(of.invalid().with("given", s)))
}

/// An id already read as a number: positive, or refused as `parse_id` refuses it.
pub(crate) fn positive_id(id: Id, of: IdOf) -> ApiResult<Id> {
    if id > 0 {
        Ok(id)
    } else {
        Err(ApiError::BadRequest(of.invalid().with("given", id)))
    }
}

/// A moment given as RFC 3339 text, a date (YYYY-MM-DD, midnight UTC) or epoch milliseconds.
pub(crate) fn parse_moment(field: &str, s: &str) -> ApiResult<Millis> {
    let s = s.trim();
    if let Ok(ms) = s.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(d.timestamp_millis());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if let Some(t) = d.and_hms_opt(0, 0, 0) {
            return Ok(t.and_utc().timestamp_millis());
        }
    }
    Err(ApiError::Unprocessable(
        Message::new("moment_invalid").with("field", field),
        vec![voronka_app::FieldError::new(
            field,
            Message::new("date_unreadable"),
        )],
    ))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LeadFilter {
    /// One stage or several, comma-separated: new, working, mql, sql, converted, refused, junk.
    stage: Option<String>,
    /// cold, warm or hot.
    temperature: Option<String>,
    /// A person's id, or `none` for unassigned leads.
    owner: Option<String>,
    /// utm_source of the first touch.
    source: Option<String>,
    medium: Option<String>,
    campaign: Option<String>,
    /// A form's id.
    form: Option<String>,
    /// A contact's id.
    contact: Option<String>,
    /// From this moment on: YYYY-MM-DD, RFC 3339 or epoch milliseconds.
    created_from: Option<String>,
    /// Before this moment.
    created_to: Option<String>,
    /// Words over name, email, phone, company and product, each required in any order; "a phrase"
    /// in quotes is one word; a phone as written is searched by its digits.
    q: Option<String>,
    /// Only leads whose probability of conversion is at least this (0–1).
    min_conversion: Option<String>,
    /// A cell of the fit × activity matrix.
    fit_level: Option<String>,
    activity: Option<String>,
    /// Leads with this tag (in any case).
    tag: Option<String>,
    /// inbox (default), -created_at, created_at, -updated_at, -score or -conversion.
    sort: Option<String>,
    /// The page after this position (`next_cursor` of the page before).
    cursor: Option<String>,
    /// The page before this position.
    before: Option<String>,
    /// 1 to 1000 (50 when not given).
    limit: Option<i64>,
}

fn bad(field: &str, msg: Message) -> ApiError {
    ApiError::Unprocessable(msg.clone(), vec![voronka_app::FieldError::new(field, msg)])
}

impl LeadFilter {
    pub(crate) fn to_query(&self) -> ApiResult<LeadQuery> {
        let mut q = LeadQuery {
            limit: self.limit.unwrap_or(50),
            ..Default::default()
        };
        if !(1..=1000).contains(&q.limit) {
            return Err(bad(
                "limit",
                Message::new("limit_out_of_range")
                    .with("min", 1)
                    .with("max", 1000),
            ));
        }
        if let Some(s) = self.stage.as_deref().filter(|s| !s.is_empty()) {
            for part in s.split(',') {
                q.stages
                    .push(Stage::parse(part).map_err(|e| bad("stage", Message::from(&e)))?);
            }
        }
        if let Some(t) = self.temperature.as_deref().filter(|s| !s.is_empty()) {
            q.temperature = Some(
                Temperature::parse(t)
                    .ok_or_else(|| bad("temperature", Message::new("temperature_unknown")))?,
            );
        }
        if let Some(o) = self.owner.as_deref().filter(|s| !s.is_empty()) {
            q.owner = Some(if o == "none" {
                None
            } else {
                Some(parse_id(o, IdOf::Owner)?)
            });
        }
        q.source = self.source.clone().filter(|s| !s.is_empty());
        q.medium = self.medium.clone().filter(|s| !s.is_empty());
        q.campaign = self.campaign.clone().filter(|s| !s.is_empty());
        if let Some(f) = self.form.as_deref().filter(|s| !s.is_empty()) {
            q.form_id = Some(parse_id(f, IdOf::Form)?);
        }
        if let Some(c) = self.contact.as_deref().filter(|s| !s.is_empty()) {
            q.contact_id = Some(parse_id(c, IdOf::Contact)?);
        }
        if let Some(f) = self.created_from.as_deref().filter(|s| !s.is_empty()) {
            q.created_from = Some(parse_moment("created_from", f)?);
        }
        if let Some(t) = self.created_to.as_deref().filter(|s| !s.is_empty()) {
            q.created_to = Some(parse_moment("created_to", t)?);
        }
        q.text = self.q.clone().filter(|s| !s.trim().is_empty());
        if let Some(p) = self.min_conversion.as_deref().filter(|s| !s.is_empty()) {
            q.min_conversion = Some(
                p.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|p| (0.0..=1.0).contains(p))
                    .ok_or_else(|| bad("min_conversion", Message::new("min_conversion_invalid")))?,
            );
        }
        if let Some(f) = self.fit_level.as_deref().filter(|s| !s.is_empty()) {
            q.fit_level = Some(
                FitLevel::parse(f)
                    .ok_or_else(|| bad("fit_level", Message::new("fit_level_unknown")))?,
            );
        }
        if let Some(a) = self.activity.as_deref().filter(|s| !s.is_empty()) {
            q.activity = Some(
                Activity::parse(a)
                    .ok_or_else(|| bad("activity", Message::new("activity_level_unknown")))?,
            );
        }
        q.tag = self
            .tag
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        if let Some(s) = self.sort.as_deref().filter(|s| !s.is_empty()) {
            q.sort = LeadSort::parse(s).ok_or_else(|| {
                bad(
                    "sort",
                    Message::new("sort_unknown")
                        .with("choices", LeadSort::ALL.map(|s| s.as_str()).join(", ")),
                )
            })?;
        }
        if let Some(c) = self.cursor.as_deref().filter(|s| !s.is_empty()) {
            q.after = Some(
                Cursor::decode(c)
                    .ok_or_else(|| bad("cursor", Message::new("cursor_unreadable")))?,
            );
        }
        if let Some(c) = self.before.as_deref().filter(|s| !s.is_empty()) {
            q.before = Some(
                Cursor::decode(c)
                    .ok_or_else(|| bad("before", Message::new("cursor_unreadable")))?,
            );
        }
        Ok(q)
    }
}

async fn list_leads(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(f): ApiQuery<LeadFilter>,
) -> ApiResult<Json<serde_json::Value>> {
    let q = f.to_query()?;
    let page = s.app.list_leads_page(&actor, q.clone(), false).await?;
    let (rows, total) = (page.rows, page.total);
    // A full page may have more beyond it; a page reached from a cursor has a page behind it.
    let backward = q.after.is_none() && q.before.is_some();
    let full = rows.len() as i64 == q.limit;
    let next = (full || backward)
        .then(|| rows.last().map(|r| r.cursor().encode()))
        .flatten();
    let prev = (q.after.is_some() || (backward && full))
        .then(|| rows.first().map(|r| r.cursor().encode()))
        .flatten();
    Ok(Json(
        json!({ "items": rows, "total": total.n, "total_exact": total.exact, "next_cursor": next, "prev_cursor": prev }),
    ))
}

/// How an export is written; its leads are chosen by the same filters as the list's.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ExportQuery {
    /// csv (default) or jsonl: one lead as a JSON object per line, as the list gives it.
    format: Option<String>,
    /// true starts a CSV file with UTF-8's byte-order mark, for spreadsheet programs (Excel).
    bom: Option<bool>,
}

impl ExportQuery {
    pub(crate) fn options(&self) -> ApiResult<voronka_app::ExportOptions> {
        let format = match self.format.as_deref().filter(|s| !s.trim().is_empty()) {
            None => voronka_app::ExportFormat::Csv,
            Some(f) => voronka_app::ExportFormat::parse(f).ok_or_else(|| {
                bad(
                    "format",
                    Message::new("export_format_unknown").with("choices", "csv, jsonl"),
                )
            })?,
        };
        Ok(voronka_app::ExportOptions {
            format,
            byte_order_mark: self.bom.unwrap_or(false),
        })
    }
}

/// Every lead matching the filters, oldest first, as a file streamed while it is read.
async fn export_leads(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(f): ApiQuery<LeadFilter>,
    ApiQuery(e): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    for (name, given) in [
        ("sort", f.sort.is_some()),
        ("cursor", f.cursor.is_some()),
        ("before", f.before.is_some()),
        ("limit", f.limit.is_some()),
    ] {
        if given {
            return Err(bad(
                name,
                Message::new("export_takes_every_lead").with("parameter", name),
            ));
        }
    }
    let options = e.options()?;
    let export = s.app.start_export(&actor, f.to_query()?, options).await?;
    Ok(crate::export::export_response(export, options.format))
}

/// Creates a lead through the same intake as the public form: fields as a flat JSON object.
async fn create_lead(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    req: Request,
) -> ApiResult<Response> {
    actor.require_write_leads()?;
    let headers = req.headers().clone();
    let ct = content_type(&headers);
    if ct != "application/json" {
        return Err(ApiError::UnsupportedMediaType(Message::new(
            "content_type_json_required",
        )));
    }
    let bytes = read_body(req, &s).await?;
    let mut pairs = fields_from_body(&ct, &bytes)?;
    let form_key = pairs
        .iter()
        .position(|(k, _)| k == "form_key")
        .map(|i| pairs.remove(i).1);
    let form = match form_key {
        Some(k) => Some(s.app.form_by_key(&k).await?.ok_or_else(|| {
            bad(
                "form_key",
                Message::new("form_key_not_found").with("key", &k),
            )
        })?),
        None => None,
    };
    let channel = match pairs
        .iter()
        .position(|(k, _)| k == "channel")
        .map(|i| pairs.remove(i).1)
    {
        Some(c) => Channel::parse(&c).ok_or_else(|| {
            bad(
                "channel",
                Message::new("channel_unknown").with("channel", &c),
            )
        })?,
        None => Channel::Api,
    };
    let partner = pairs
        .iter()
        .position(|(k, _)| k == "partner")
        .map(|i| pairs.remove(i).1);
    let mut sub = submission_from(channel, pairs);
    sub.partner = partner;
    let idem = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let outcome = s
        .app
        .capture(CaptureRequest {
            submission: sub,
            form,
            idempotency_key: idem,
            client: None,
        })
        .await?;
    let status = if outcome.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(outcome)).into_response())
}

/// A lead with everything about it, and the answers of its farewell surveys.
#[derive(Serialize)]
struct LeadView {
    #[serde(flatten)]
    detail: voronka_store::LeadDetail,
    surveys: Vec<voronka_store::Survey>,
}

async fn get_lead(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<LeadView>> {
    let detail = s
        .app
        .lead_detail(&actor, parse_id(&id, IdOf::Lead)?)
        .await?;
    let surveys = s.app.lead_surveys(&actor, detail.lead.id).await?;
    Ok(Json(LeadView { detail, surveys }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct StageBody {
    stage: String,
    #[serde(default)]
    comment: Option<String>,
}

async fn change_stage(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<StageBody>,
) -> ApiResult<Json<voronka_core::Lead>> {
    let stage = Stage::parse(&b.stage).map_err(|e| bad("stage", Message::from(&e)))?;
    Ok(Json(
        s.app
            .change_stage(&actor, parse_id(&id, IdOf::Lead)?, stage, b.comment)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RefuseBody {
    reason: String,
    #[serde(default)]
    comment: Option<String>,
    /// When the lead returns to working by itself: ms since the epoch or a date (time), in the
    /// future and at most 10 years ahead.
    #[serde(default)]
    freeze_until: Option<serde_json::Value>,
    /// Email the contact a farewell with the survey link.
    #[serde(default)]
    farewell: bool,
}

/// A freeze date as given: ms since the epoch or a date (time); none when left out or null.
fn freeze_until(v: Option<serde_json::Value>) -> ApiResult<Option<Millis>> {
    Ok(match v {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(t)) => Some(parse_moment("freeze_until", &t)?),
        Some(serde_json::Value::Number(n)) => Some(
            n.as_i64()
                .ok_or_else(|| bad("freeze_until", Message::new("not_an_integer")))?,
        ),
        Some(_) => return Err(bad("freeze_until", Message::new("moment_expected"))),
    })
}

async fn refuse(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<RefuseBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let input = RefuseInput {
        reason: b.reason,
        comment: b.comment,
        freeze_until: freeze_until(b.freeze_until)?,
    };
    let id = parse_id(&id, IdOf::Lead)?;
    if !b.farewell {
        let lead = s.app.refuse(&actor, id, input).await?;
        return Ok(Json(serde_json::to_value(lead).unwrap_or_default()));
    }
    let (lead, sent) = s
        .app
        .refuse_with_farewell(&actor, id, input, Some(&s.config.public_url))
        .await?;
    let mut v = serde_json::to_value(lead).unwrap_or_default();
    if let Some(m) = v.as_object_mut() {
        m.insert("farewell_sent".into(), sent.into());
    }
    Ok(Json(v))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct JunkBody {
    reason: String,
}

async fn junk(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<JunkBody>,
) -> ApiResult<Json<voronka_core::Lead>> {
    Ok(Json(
        s.app
            .mark_junk(&actor, parse_id(&id, IdOf::Lead)?, &b.reason)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConvertBody {
    /// Amount in minor units (cents, kopecks), 0 to 10^15.
    #[schema(minimum = 0, maximum = 1_000_000_000_000_000_i64)]
    amount_minor: i64,
    currency: String,
    #[serde(default)]
    title: Option<String>,
}

#[derive(Serialize)]
struct ConvertResponse {
    lead: voronka_core::Lead,
    customer_id: Id,
    deal_id: Id,
}

async fn convert(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ConvertBody>,
) -> ApiResult<(StatusCode, Json<ConvertResponse>)> {
    let currency = Currency::parse(&b.currency).map_err(|e| {
        bad(
            "currency",
            Message::new("currency_invalid").with("problem", e),
        )
    })?;
    let input = ConvertInput {
        amount: Money::new(b.amount_minor, currency),
        title: b.title,
    };
    let (lead, customer_id, deal_id) = s
        .app
        .convert(&actor, parse_id(&id, IdOf::Lead)?, input)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(ConvertResponse {
            lead,
            customer_id,
            deal_id,
        }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AssignBody {
    #[schema(value_type = Option<i64>)]
    owner_id: Option<Id>,
}

async fn assign(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<AssignBody>,
) -> ApiResult<Json<voronka_core::Lead>> {
    Ok(Json(
        s.app
            .assign(&actor, parse_id(&id, IdOf::Lead)?, b.owner_id)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkBody {
    /// The leads to change, at most 500.
    #[schema(value_type = Vec<i64>)]
    ids: Vec<Id>,
    /// `assign`, `stage` (an open one), `temperature`, `refuse` (a reason of the list), `junk`,
    /// `tag` or `untag`.
    action: String,
    /// For `assign`: the new owner; null or left out unassigns.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    owner_id: Option<Id>,
    /// For `stage`.
    #[serde(default)]
    stage: Option<String>,
    /// For `temperature`.
    #[serde(default)]
    temperature: Option<String>,
    /// For `refuse` and `junk`.
    #[serde(default)]
    reason: Option<String>,
    /// For `refuse`: the comment every lead's history gets.
    #[serde(default)]
    comment: Option<String>,
    /// For `refuse`: when the leads return to working by themselves (ms since the epoch or a
    /// date (time), in the future and at most 10 years ahead).
    #[serde(default)]
    freeze_until: Option<serde_json::Value>,
    /// For `tag`: the tag every lead gets; for `untag`: the tag (in any case) every lead loses.
    #[serde(default)]
    tag: Option<String>,
}

/// One change for many leads; each lead is changed as on its own, and a lead the change does not
/// fit is listed with the error it would have had.
async fn bulk(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<BulkBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let action = match b.action.as_str() {
        "assign" => BulkAction::Assign(b.owner_id),
        "stage" => BulkAction::Stage(
            Stage::parse(b.stage.as_deref().unwrap_or_default())
                .map_err(|e| bad("stage", Message::from(&e)))?,
        ),
        "temperature" => BulkAction::Temperature(
            Temperature::parse(b.temperature.as_deref().unwrap_or_default())
                .ok_or_else(|| bad("temperature", Message::new("temperature_unknown")))?,
        ),
        "junk" => BulkAction::Junk(b.reason.unwrap_or_default()),
        "tag" => BulkAction::Tag(b.tag.unwrap_or_default()),
        "untag" => BulkAction::Untag(b.tag.unwrap_or_default()),
        "refuse" => BulkAction::Refuse(RefuseInput {
            reason: b.reason.unwrap_or_default(),
            comment: b.comment,
            freeze_until: freeze_until(b.freeze_until)?,
        }),
        _ => {
            return Err(bad(
                "action",
                Message::new("bulk_action_unknown").with(
                    "choices",
                    "assign, stage, temperature, refuse, junk, tag, untag",
                ),
            ))
        }
    };
    let out = s.app.bulk_leads(&actor, &b.ids, &action).await?;
    let refused: Vec<serde_json::Value> = out
        .refused
        .iter()
        .map(|(id, e)| {
            let (_, code) = crate::error::classify(e);
            json!({ "lead_id": id, "error": code, "message": e.to_string() })
        })
        .collect();
    Ok(Json(json!({ "changed": out.changed, "refused": refused })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RequestBody {
    /// What the lead asks for; none clears it.
    #[serde(default)]
    product: Option<String>,
    /// What it may be worth, in major units as text ("150000", "150 000,50"); none clears it.
    #[serde(default)]
    value: Option<String>,
    /// ISO 4217; the workspace's by default.
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct DealBody {
    title: String,
    /// In major units as text ("150000", "150 000,50").
    amount: String,
    /// ISO 4217; the deal's own by default.
    #[serde(default)]
    currency: Option<String>,
}

/// Corrects a deal's title and amount.
async fn edit_deal(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<DealBody>,
) -> ApiResult<Json<voronka_core::Deal>> {
    let edit = voronka_app::DealEdit {
        title: b.title,
        amount: b.amount,
        currency: b.currency,
    };
    Ok(Json(
        s.app
            .edit_deal(&actor, parse_id(&id, IdOf::Deal)?, &edit)
            .await?,
    ))
}

/// Corrects what a lead asks for and what it may be worth.
async fn edit_request(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<RequestBody>,
) -> ApiResult<Json<voronka_core::Lead>> {
    let edit = voronka_app::RequestEdit {
        product: b.product,
        value: b.value,
        currency: b.currency,
    };
    Ok(Json(
        s.app
            .edit_request(&actor, parse_id(&id, IdOf::Lead)?, &edit)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TemperatureBody {
    temperature: String,
}

async fn temperature(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TemperatureBody>,
) -> ApiResult<Json<voronka_core::Lead>> {
    let t = Temperature::parse(&b.temperature)
        .ok_or_else(|| bad("temperature", Message::new("temperature_unknown")))?;
    Ok(Json(
        s.app
            .set_temperature(&actor, parse_id(&id, IdOf::Lead)?, t)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoteBody {
    body: String,
}

async fn add_note(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<NoteBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let note_id = s
        .app
        .add_note(&actor, parse_id(&id, IdOf::Lead)?, &b.body)
        .await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": note_id }))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TagBody {
    tag: String,
}

async fn tag_lead(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TagBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let tags = s
        .app
        .tag_lead(&actor, parse_id(&id, IdOf::Lead)?, &b.tag)
        .await?;
    Ok(Json(json!({ "tags": tags })))
}

async fn untag_lead(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, tag)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let tags = s
        .app
        .untag_lead(&actor, parse_id(&id, IdOf::Lead)?, &tag)
        .await?;
    Ok(Json(json!({ "tags": tags })))
}

async fn tags_in_use(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<voronka_store::TagUse>>> {
    Ok(Json(s.app.tags_in_use(&actor).await?))
}

async fn rename_tag(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(tag): Path<String>,
    JsonBody(b): JsonBody<TagBody>,
) -> ApiResult<Json<voronka_app::TagChange>> {
    Ok(Json(s.app.rename_tag(&actor, &tag, &b.tag).await?))
}

async fn delete_tag(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(tag): Path<String>,
) -> ApiResult<Json<voronka_app::TagChange>> {
    Ok(Json(s.app.delete_tag(&actor, &tag).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    /// Done by this person (their id).
    actor_id: Option<String>,
    /// On this kind of record: lead, contact, account, customer, deal, user, token, form, tag,
    /// spend or settings.
    entity: Option<String>,
    /// This action's code, e.g. stage, assign, tag.rename, user.password_set.
    action: Option<String>,
    /// From this moment on: YYYY-MM-DD, RFC 3339 or epoch milliseconds.
    from: Option<String>,
    /// Before this moment.
    to: Option<String>,
    /// Entries older than this id (the next page: the last id of a page).
    before: Option<String>,
    /// At most this many (1–500, 100 by default).
    limit: Option<String>,
    /// json (the default) or csv: every entry of the filters (up to 100,000) as a spreadsheet file.
    format: Option<String>,
}

/// The audit log, newest first, filtered (administrators).
async fn audit_log(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<AuditParams>,
) -> ApiResult<axum::response::Response> {
    let given = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let number = |field: &str, v: &Option<String>| -> ApiResult<Option<i64>> {
        given(v)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    bad(
                        field,
                        Message::new("whole_number_expected").with("given", v.as_str()),
                    )
                })
            })
            .transpose()
    };
    let moment = |field: &str, v: &Option<String>| -> ApiResult<Option<Millis>> {
        given(v).map(|v| parse_moment(field, &v)).transpose()
    };
    let q = voronka_store::AuditQuery {
        actor_id: number("actor_id", &p.actor_id)?,
        entity: given(&p.entity),
        action: given(&p.action),
        from: moment("from", &p.from)?,
        to: moment("to", &p.to)?,
        before: number("before", &p.before)?,
        limit: number("limit", &p.limit)?.unwrap_or(100),
    };
    match given(&p.format).as_deref() {
        None | Some("json") => Ok(Json(s.app.search_audit(&actor, &q).await?).into_response()),
        Some("csv") => {
            let body = s
                .app
                .audit_csv(&actor, &voronka_store::AuditQuery { before: None, ..q })
                .await?;
            Ok(crate::export::csv_download("audit.csv", body))
        }
        Some(_) => Err(ApiError::BadRequest(
            Message::new("export_format_unknown").with("choices", "json, csv"),
        )),
    }
}

async fn lead_audit(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<voronka_store::AuditEntry>>> {
    let id = parse_id(&id, IdOf::Lead)?;
    s.app.lead_detail(&actor, id).await?;
    Ok(Json(s.app.audit_for(&actor, "lead", id).await?))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct PageQuery {
    /// Text the records' leads hold (name, email, phone, company).
    q: Option<String>,
    /// How many to skip: 0 or more.
    offset: Option<i64>,
    /// 1 to 1000 (50 when not given).
    limit: Option<i64>,
}

/// A page's `offset` (0 when not given) and `limit` (50 when not given, at most `max`), checked.
pub(crate) fn page_bounds(
    offset: Option<i64>,
    limit: Option<i64>,
    max: i64,
) -> ApiResult<(i64, i64)> {
    let limit = limit.unwrap_or(50);
    if !(1..=max).contains(&limit) {
        return Err(bad(
            "limit",
            Message::new("limit_out_of_range")
                .with("min", 1)
                .with("max", max),
        ));
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(bad("offset", Message::new("offset_negative")));
    }
    Ok((offset, limit))
}

impl PageQuery {
    fn simple(&self) -> ApiResult<SimpleQuery> {
        let (offset, limit) = page_bounds(self.offset, self.limit, 1000)?;
        Ok(SimpleQuery {
            text: self.q.clone(),
            offset,
            limit,
            ..Default::default()
        })
    }
}

async fn list_contacts(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({ "items": s.app.list_contacts(&actor, p.simple()?).await? }),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContactBody {
    /// The person's name as it should read.
    name: String,
    #[serde(default)]
    position: Option<String>,
    /// The company, by name (its account is found or made).
    #[serde(default)]
    company: Option<String>,
    /// ISO 3166 alpha-2.
    #[serde(default)]
    country: Option<String>,
    /// ISO 639-1.
    #[serde(default)]
    language: Option<String>,
    /// A phone number to add (without a country code: in the contact's country, else the
    /// workspace's region).
    #[serde(default)]
    add_phone: Option<String>,
    /// An email address to add.
    #[serde(default)]
    add_email: Option<String>,
    /// Phones to remove, as the contact lists them (E.164).
    #[serde(default)]
    remove_phones: Vec<String>,
    /// Emails to remove, as the contact lists them (normalized).
    #[serde(default)]
    remove_emails: Vec<String>,
}

/// Corrects a contact: every own field as it should read, and a phone or an email to add.
async fn edit_contact(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<ContactBody>,
) -> ApiResult<Json<voronka_store::ContactDetail>> {
    let edit = voronka_app::ContactEdit {
        name: b.name,
        position: b.position,
        company: b.company,
        country: b.country,
        language: b.language,
        add_phone: b.add_phone,
        add_email: b.add_email,
        remove_phones: b.remove_phones,
        remove_emails: b.remove_emails,
    };
    Ok(Json(
        s.app
            .edit_contact(&actor, parse_id(&id, IdOf::Contact)?, &edit)
            .await?,
    ))
}

async fn get_contact(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<voronka_store::ContactDetail>> {
    Ok(Json(
        s.app
            .contact_detail(&actor, parse_id(&id, IdOf::Contact)?)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ViewBody {
    name: String,
    /// The inbox's filters as its address has them: `stage=new,working&source=google&sort=-score`.
    #[serde(default)]
    query: String,
    /// Show it to the whole team (sales managers and administrators).
    #[serde(default)]
    shared: bool,
}

/// The saved views this person sees: shared ones first, then their own.
async fn list_views(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<voronka_store::SavedView>>> {
    Ok(Json(s.app.saved_views(&actor).await?))
}

/// Saves inbox filters under a name; the query keeps only what the inbox reads.
async fn create_view(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<ViewBody>,
) -> ApiResult<Response> {
    let query = crate::web::inbox_query(&b.query);
    let view = s.app.save_view(&actor, &b.name, &query, b.shared).await?;
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

async fn delete_view(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, IdOf::View)?;
    s.app.delete_view(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EraseBody {
    /// Why: the person's request, its date or reference.
    reason: String,
}

/// Erases a person's personal data at their request (administrators).
async fn erase_contact(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<EraseBody>,
) -> ApiResult<Json<voronka_store::Erasure>> {
    let id = parse_id(&id, IdOf::Contact)?;
    Ok(Json(s.app.erase_contact(&actor, id, &b.reason).await?))
}

async fn list_accounts(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({ "items": s.app.list_accounts(&actor, p.simple()?).await? }),
    ))
}

async fn get_account(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let (account, contacts) = s
        .app
        .account_detail(&actor, parse_id(&id, IdOf::Account)?)
        .await?;
    Ok(Json(json!({ "account": account, "contacts": contacts })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AccountBody {
    name: String,
    /// The company's web domain ("romashka.ru"); none clears it.
    #[serde(default)]
    domain: Option<String>,
}

/// Corrects a company's name and domain.
async fn edit_account(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<AccountBody>,
) -> ApiResult<Json<voronka_core::Account>> {
    let edit = voronka_app::AccountEdit {
        name: b.name,
        domain: b.domain,
    };
    let id = parse_id(&id, IdOf::Account)?;
    Ok(Json(s.app.edit_account(&actor, id, &edit).await?))
}

async fn account_changes(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<voronka_app::Change>>> {
    let id = parse_id(&id, IdOf::Account)?;
    Ok(Json(s.app.account_changes(&actor, id).await?))
}

async fn restore_account_change(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, change)): Path<(String, String)>,
) -> ApiResult<Json<voronka_core::Account>> {
    let (id, change) = (
        parse_id(&id, IdOf::Account)?,
        parse_id(&change, IdOf::Change)?,
    );
    Ok(Json(
        s.app.restore_account_change(&actor, id, change).await?,
    ))
}

async fn list_customers(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({ "items": s.app.list_customers(&actor, p.simple()?).await? }),
    ))
}

async fn get_customer(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<voronka_store::CustomerDetail>> {
    Ok(Json(
        s.app
            .customer_detail(&actor, parse_id(&id, IdOf::Customer)?)
            .await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CustomerMergeBody {
    /// The customer that takes this one's deals and leads.
    #[schema(value_type = i64)]
    into: Id,
}

/// Merges the customer of the path into another: its deals and converted leads move there.
async fn merge_customer(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CustomerMergeBody>,
) -> ApiResult<Json<voronka_store::CustomerMerge>> {
    let from = parse_id(&id, IdOf::Customer)?;
    Ok(Json(s.app.merge_customers(&actor, from, b.into).await?))
}

/// Undoes a customer merge: the removed customer is back with what the merge moved.
async fn undo_customer_merge(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<voronka_store::CustomerMerge>> {
    let id = parse_id(&id, IdOf::CustomerMerge)?;
    Ok(Json(s.app.undo_customer_merge(&actor, id).await?))
}

async fn list_deals(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(p): ApiQuery<PageQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(
        json!({ "items": s.app.list_deals(&actor, p.simple()?).await? }),
    ))
}

async fn get_deal(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<voronka_core::Deal>> {
    Ok(Json(s.app.deal(&actor, parse_id(&id, IdOf::Deal)?).await?))
}

async fn contact_changes(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<voronka_app::Change>>> {
    let id = parse_id(&id, IdOf::Contact)?;
    Ok(Json(s.app.contact_changes(&actor, id).await?))
}

async fn deal_changes(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<voronka_app::Change>>> {
    let id = parse_id(&id, IdOf::Deal)?;
    Ok(Json(s.app.deal_changes(&actor, id).await?))
}

async fn request_changes(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<voronka_app::Change>>> {
    let id = parse_id(&id, IdOf::Lead)?;
    Ok(Json(s.app.request_changes(&actor, id).await?))
}

async fn restore_contact_change(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, change)): Path<(String, String)>,
) -> ApiResult<Json<voronka_store::ContactDetail>> {
    let (id, change) = (
        parse_id(&id, IdOf::Contact)?,
        parse_id(&change, IdOf::Change)?,
    );
    Ok(Json(
        s.app.restore_contact_change(&actor, id, change).await?,
    ))
}

async fn restore_deal_change(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, change)): Path<(String, String)>,
) -> ApiResult<Json<voronka_core::Deal>> {
    let (id, change) = (parse_id(&id, IdOf::Deal)?, parse_id(&change, IdOf::Change)?);
    Ok(Json(s.app.restore_deal_change(&actor, id, change).await?))
}

async fn restore_request_change(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, change)): Path<(String, String)>,
) -> ApiResult<Json<voronka_core::Lead>> {
    let (id, change) = (parse_id(&id, IdOf::Lead)?, parse_id(&change, IdOf::Change)?);
    Ok(Json(
        s.app.restore_request_change(&actor, id, change).await?,
    ))
}

async fn list_forms(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(json!({ "items": s.app.list_forms(&actor).await? })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormBody {
    name: String,
    #[serde(default)]
    redirect_url: Option<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    default_region: Option<String>,
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    min_fill_ms: Option<i64>,
}

async fn create_form(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<FormBody>,
) -> ApiResult<(StatusCode, Json<voronka_core::Form>)> {
    let form = s
        .app
        .create_form(
            &actor,
            FormInput {
                name: b.name,
                redirect_url: b.redirect_url,
                allowed_origins: b.allowed_origins,
                default_region: b.default_region,
                product: b.product,
                min_fill_ms: b.min_fill_ms,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(form)))
}

async fn get_form(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<voronka_core::Form>> {
    Ok(Json(s.app.form(&actor, parse_id(&id, IdOf::Form)?).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormUpdateBody {
    name: String,
    #[serde(default)]
    redirect_url: Option<String>,
    #[serde(default)]
    allowed_origins: Vec<String>,
    #[serde(default)]
    default_region: Option<String>,
    #[serde(default)]
    product: Option<String>,
    #[serde(default)]
    min_fill_ms: Option<i64>,
    #[serde(default = "yes")]
    active: bool,
}

fn yes() -> bool {
    true
}

async fn update_form(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<FormUpdateBody>,
) -> ApiResult<Json<voronka_core::Form>> {
    let form = s
        .app
        .update_form(
            &actor,
            parse_id(&id, IdOf::Form)?,
            FormInput {
                name: b.name,
                redirect_url: b.redirect_url,
                allowed_origins: b.allowed_origins,
                default_region: b.default_region,
                product: b.product,
                min_fill_ms: b.min_fill_ms,
            },
            b.active,
        )
        .await?;
    Ok(Json(form))
}

/// Replaces the definition: fields, quiz steps, texts, popup, lead magnet, landing page, variants.
async fn define_form(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    StrictJsonBody(def): StrictJsonBody<voronka_core::capture::FormDefinition>,
) -> ApiResult<Json<voronka_core::Form>> {
    Ok(Json(
        s.app
            .set_form_definition(&actor, parse_id(&id, IdOf::Form)?, def)
            .await?,
    ))
}

async fn form_variants(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let items = s
        .app
        .variant_stats(&actor, parse_id(&id, IdOf::Form)?)
        .await?;
    Ok(Json(json!({ "items": items })))
}

async fn form_embed(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let form = s.app.form(&actor, parse_id(&id, IdOf::Form)?).await?;
    let base = s.config.public_url.trim_end_matches('/');
    Ok(Json(json!({
        "embed_code": crate::widget::embed_code(base, &form),
        "widget_url": format!("{base}/w.js"),
        "landing_url": form.definition.landing.as_ref().map(|l| format!("{base}/l/{}", l.slug)),
    })))
}

async fn list_reasons(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<String>>> {
    actor.require_read_leads()?;
    Ok(Json(s.app.refusal_reasons().await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReasonBody {
    label: String,
}

async fn add_reason(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<ReasonBody>,
) -> ApiResult<StatusCode> {
    s.app.add_refusal_reason(&actor, &b.label).await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct PairsQuery {
    /// open (default), merged or not_duplicate.
    status: Option<String>,
}

async fn list_duplicates(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<PairsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let pairs = s
        .app
        .duplicate_pairs(&actor, q.status.as_deref().unwrap_or("open"))
        .await?;
    Ok(Json(json!({ "items": pairs })))
}

async fn get_duplicate(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<voronka_app::PairReview>> {
    let id = parse_id(&id, IdOf::Pair)?;
    Ok(Json(s.app.duplicate_pair(&actor, id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PairMergeBody {
    /// Id of the lead that survives: one of the pair's two leads.
    #[schema(value_type = i64)]
    survivor_id: Id,
    #[serde(default)]
    take: Vec<String>,
}

async fn merge_duplicate(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PairMergeBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = parse_id(&id, IdOf::Pair)?;
    let review = s.app.duplicate_pair(&actor, id).await?;
    let (a, o) = (review.pair.lead_id, review.pair.other_lead_id);
    let merged = if b.survivor_id == a {
        o
    } else if b.survivor_id == o {
        a
    } else {
        return Err(AppError::invalid(
            "survivor_id",
            Message::new("survivor_id_invalid")
                .with("a", a)
                .with("b", o),
        )
        .into());
    };
    let merge_id = s
        .app
        .merge_leads(&actor, b.survivor_id, merged, &b.take)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "merge_id": merge_id, "survivor_id": b.survivor_id, "merged_id": merged })),
    ))
}

async fn not_duplicate(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, IdOf::Pair)?;
    s.app.not_duplicate(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LeadMergeBody {
    #[schema(value_type = i64)]
    other_lead_id: Id,
    #[serde(default)]
    take: Vec<String>,
}

async fn merge_lead(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<LeadMergeBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = parse_id(&id, IdOf::Lead)?;
    let merge_id = s
        .app
        .merge_leads(&actor, id, b.other_lead_id, &b.take)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "merge_id": merge_id, "survivor_id": id, "merged_id": b.other_lead_id })),
    ))
}

async fn lead_merges(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = parse_id(&id, IdOf::Lead)?;
    Ok(Json(
        json!({ "items": s.app.merges_for(&actor, id).await? }),
    ))
}

async fn undo_merge(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = parse_id(&id, IdOf::Merge)?;
    s.app.undo_merge(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesQuery {
    format: Option<String>,
}

/// The pseudo-lead rules with the catalog of rule codes; `?format=toml` answers the TOML file.
async fn get_scrub_rules(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<RulesQuery>,
) -> ApiResult<Response> {
    actor.require_admin()?;
    let rules = s.app.scrub_rules().await?;
    match q.format.as_deref() {
        Some("toml") => {
            let text = voronka_app::App::scrub_rules_toml(&rules)?;
            Ok((
                [(
                    axum::http::header::CONTENT_TYPE,
                    "application/toml; charset=utf-8",
                )],
                text,
            )
                .into_response())
        }
        None | Some("json") => {
            let catalog: Vec<_> = voronka_core::intake::scrub::CATALOG
                .iter()
                .map(|r| {
                    json!({
                        "code": r.code,
                        "description": r.description,
                        "default_action": r.default_action,
                        "action": rules.action(r.code),
                    })
                })
                .collect();
            Ok(Json(json!({ "rules": &rules, "catalog": catalog })).into_response())
        }
        Some(other) => Err(ApiError::BadRequest(
            Message::new("format_unknown").with("given", other),
        )),
    }
}

/// Replaces the pseudo-lead rules from JSON or a TOML file (`Content-Type: application/toml`).
async fn put_scrub_rules(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    req: Request,
) -> ApiResult<StatusCode> {
    let ct = content_type(req.headers());
    let bytes = read_body(req, &s).await?;
    let rules = match ct.as_str() {
        "application/json" => crate::extract::parse_json(&bytes)?,
        "application/toml" | "text/toml" | "text/plain" => {
            let text = std::str::from_utf8(&bytes)
                .map_err(|_| ApiError::BadRequest(Message::new("body_not_utf8")))?;
            voronka_app::App::parse_scrub_rules_toml(text)?
        }
        other => {
            return Err(ApiError::UnsupportedMediaType(
                Message::new("content_type_not_json_or_toml").with("given", other),
            ))
        }
    };
    s.app.set_scrub_rules(&actor, rules).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScrubQuery {
    by: Option<String>,
    since: Option<String>,
}

async fn scrub_report(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ScrubQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let by_text = q.by.as_deref().unwrap_or("form");
    let by = voronka_store::ScrubBy::parse(by_text).ok_or_else(|| {
        ApiError::BadRequest(Message::new("scrub_by_unknown").with("given", by_text))
    })?;
    let since = match q.since.as_deref() {
        Some(t) => parse_moment("since", t)?,
        None => 0,
    };
    let rows = s.app.scrub_report(&actor, by, since).await?;
    Ok(Json(json!({ "by": by, "since": since, "rows": rows })))
}

/// The current predictive model's figures.
async fn get_model(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<serde_json::Value>> {
    let c = s
        .app
        .model_for(&actor)
        .await?
        .ok_or_else(|| AppError::NotFound(Message::new("model_not_trained")))?;
    Ok(Json(json!({
        "id": c.id,
        "trained_at": c.trained_at,
        "training_size": c.training_size,
        "metrics": c.model.metrics,
    })))
}

async fn train_model(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<serde_json::Value>> {
    let r = s.app.train_model_as(&actor).await?;
    Ok(Json(json!({
        "id": r.model_id,
        "training_size": r.training_size,
        "scored": r.scored,
        "took_ms": r.took_ms,
        "metrics": r.model.metrics,
    })))
}

async fn status(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<voronka_app::Status>> {
    Ok(Json(s.app.status(&actor).await?))
}

async fn list_users(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<voronka_core::User>>> {
    Ok(Json(s.app.list_users(&actor).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserBody {
    email: String,
    #[serde(default)]
    name: String,
    password: String,
    role: String,
}

fn role(s: &str) -> ApiResult<Role> {
    Role::parse(s).ok_or_else(|| {
        bad(
            "role",
            Message::new("role_unknown").with("choices", Role::ALL.map(|r| r.as_str()).join(", ")),
        )
    })
}

async fn create_user(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<UserBody>,
) -> ApiResult<(StatusCode, Json<voronka_core::User>)> {
    let u = s
        .app
        .admin_add_user(&actor, &b.email, &b.name, &b.password, role(&b.role)?)
        .await?;
    Ok((StatusCode::CREATED, Json(u)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserUpdateBody {
    role: String,
    active: bool,
}

async fn update_user(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<UserUpdateBody>,
) -> ApiResult<StatusCode> {
    s.app
        .admin_update_user(&actor, parse_id(&id, IdOf::User)?, role(&b.role)?, b.active)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordBody {
    password: String,
}

async fn set_user_password(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PasswordBody>,
) -> ApiResult<StatusCode> {
    s.app
        .admin_set_password(&actor, parse_id(&id, IdOf::User)?, &b.password, None)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn reset_two_step(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.app
        .reset_two_step(&actor, parse_id(&id, IdOf::User)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
struct TokenView {
    id: Id,
    name: String,
    scopes: Vec<&'static str>,
    created_at: Millis,
    expires_at: Option<Millis>,
    revoked_at: Option<Millis>,
    last_used_at: Option<Millis>,
}

async fn list_tokens(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<TokenView>>> {
    Ok(Json(
        s.app
            .list_tokens(&actor)
            .await?
            .into_iter()
            .map(|t| TokenView {
                id: t.id,
                name: t.name,
                scopes: t.scopes.as_slice().iter().map(|s| s.as_str()).collect(),
                created_at: t.created_at,
                expires_at: t.expires_at,
                revoked_at: t.revoked_at,
                last_used_at: t.last_used_at,
            })
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TokenBody {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    ttl_days: Option<i64>,
    /// The person the token acts as (their own leads, notifications, work queue and calendar).
    #[serde(default)]
    user_id: Option<i64>,
}

async fn create_token(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<TokenBody>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let mut scopes = Vec::new();
    for sc in &b.scopes {
        scopes.push(Scope::parse(sc).ok_or_else(|| {
            bad(
                "scopes",
                Message::new("scope_unknown")
                    .with("scope", sc)
                    .with("known", Scope::ALL.map(|s| s.as_str()).join(", ")),
            )
        })?);
    }
    let (id, secret) = s
        .app
        .admin_create_token(
            &actor,
            &b.name,
            ScopeSet::new(scopes),
            b.user_id,
            b.ttl_days,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "token": secret })),
    ))
}

async fn revoke_token(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.app
        .revoke_token(&actor, parse_id(&id, IdOf::Token)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
