//! Channel analytics under `/api/v1`: the channel report and the marketing spend it weighs
//! each channel's leads against.

use crate::api::IdOf;
use crate::extract::{ApiActor, ApiQuery, JsonBody};
use crate::{ApiError, AppState};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use voronka_app::{report_period, Message, SpendDefaults, SpendImport, SpendInput};
use voronka_core::channels::{ChannelBy, ChannelReport, SpendEntry, WeeklyLeads};

type ApiResult<T> = Result<T, ApiError>;

/// How many days a report covers when no `from` is given.
pub(crate) const REPORT_DAYS: i64 = 30;
/// How many days the spend list covers when no `from` is given.
const SPEND_DAYS: i64 = 365;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/reports/channels", get(channel_report))
        .route("/reports/channels/weekly", get(weekly))
        .route("/spend", get(list_spend).post(add_spend))
        .route("/spend/{id}", delete(delete_spend).put(update_spend))
        .route(
            "/spend/import",
            post(import_spend).layer(axum::extract::DefaultBodyLimit::max(
                voronka_app::MAX_SPEND_FILE,
            )),
        )
}

/// What a report groups by, as a query gives it (`source` when not given).
pub(crate) fn parse_by(given: Option<&str>) -> ApiResult<ChannelBy> {
    let text = given.map(str::trim).filter(|t| !t.is_empty());
    match text {
        None => Ok(ChannelBy::Source),
        Some(t) => ChannelBy::parse(t).ok_or_else(|| {
            ApiError::BadRequest(
                Message::new("report_by_unknown").with(
                    "choices",
                    ChannelBy::ALL
                        .iter()
                        .map(|b| b.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            )
        }),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelQuery {
    /// source (the default), source_medium, medium, campaign or form.
    by: Option<String>,
    /// The first day of the leads' creation, YYYY-MM-DD (UTC); 29 days before `to` by default.
    from: Option<String>,
    /// The last day, YYYY-MM-DD (UTC); today by default.
    to: Option<String>,
    /// The currency of cost per lead, per customer and return on spend (ISO 4217); the
    /// workspace's by default. Amounts in other currencies are listed, not converted.
    currency: Option<String>,
    /// json (the default) or csv: the same report as a spreadsheet file.
    format: Option<String>,
}

/// What each channel's leads of the period came to, and what the channel cost then.
async fn channel_report(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<ChannelQuery>,
) -> ApiResult<Response> {
    let by = parse_by(q.by.as_deref())?;
    let csv = match q.format.as_deref().map(str::trim) {
        None | Some("") | Some("json") => false,
        Some("csv") => true,
        Some(_) => {
            return Err(ApiError::BadRequest(
                Message::new("export_format_unknown").with("choices", "json, csv"),
            ))
        }
    };
    let (from, to) = report_period(q.from.as_deref(), q.to.as_deref(), REPORT_DAYS)?;
    let report = s
        .app
        .channel_report(&actor, by, from, to, q.currency.as_deref())
        .await?;
    if csv {
        Ok(csv_file(&report)?)
    } else {
        Ok(Json(report).into_response())
    }
}

/// The report as a CSV download named after its grouping and days.
pub(crate) fn csv_file(report: &ChannelReport) -> Result<Response, voronka_app::AppError> {
    let body = voronka_app::channel_report_csv(report)?;
    let day = |ms: i64| {
        chrono::DateTime::from_timestamp_millis(ms)
            .map(|t| t.date_naive().to_string())
            .unwrap_or_default()
    };
    let name = format!(
        "channels-by-{}-{}-{}.csv",
        report.by.as_str(),
        day(report.from),
        day(report.to - 86_400_000)
    );
    Ok(crate::export::csv_download(&name, body))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpendQuery {
    /// The first day, YYYY-MM-DD; 364 days before `to` by default.
    from: Option<String>,
    /// The last day, YYYY-MM-DD; today by default.
    to: Option<String>,
}

/// The spend entries whose days overlap the period, the latest first.
async fn list_spend(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<SpendQuery>,
) -> ApiResult<Json<Vec<SpendEntry>>> {
    let (from, to) = report_period(q.from.as_deref(), q.to.as_deref(), SPEND_DAYS)?;
    Ok(Json(s.app.spend_entries(&actor, from, to).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpendBody {
    /// The utm_source the money went to (google, yandex, vk, …).
    source: String,
    /// One medium of the source (cpc, social, …); none for the source's whole budget.
    #[serde(default)]
    medium: Option<String>,
    /// One campaign (its utm_campaign).
    #[serde(default)]
    campaign: Option<String>,
    /// The first day paid for, YYYY-MM-DD.
    from: String,
    /// The last day paid for, YYYY-MM-DD.
    to: String,
    /// The amount in major units as text: "15000", "15 000,50".
    amount: String,
    /// ISO 4217; the workspace's by default.
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    note: Option<String>,
}

impl From<SpendBody> for SpendInput {
    fn from(b: SpendBody) -> SpendInput {
        SpendInput {
            source: b.source,
            medium: b.medium,
            campaign: b.campaign,
            from: b.from,
            to: b.to,
            amount: b.amount,
            currency: b.currency,
            note: b.note,
        }
    }
}

/// Records what a channel cost for some days.
async fn add_spend(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<SpendBody>,
) -> ApiResult<Response> {
    let entry = s.app.add_spend(&actor, &b.into()).await?;
    Ok((StatusCode::CREATED, Json(entry)).into_response())
}

/// Replaces what a spend entry says (every field, as when it is entered).
async fn update_spend(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<SpendBody>,
) -> ApiResult<Json<SpendEntry>> {
    let id = crate::api::parse_id(&id, IdOf::Spend)?;
    Ok(Json(s.app.update_spend(&actor, id, &b.into()).await?))
}

async fn delete_spend(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = crate::api::parse_id(&id, IdOf::Spend)?;
    s.app.delete_spend(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpendImportQuery {
    /// The source of rows without one (an ad platform's export names none).
    source: Option<String>,
    /// The medium of rows without one.
    medium: Option<String>,
    /// The campaign of rows without one.
    campaign: Option<String>,
    /// The currency of rows without one; the workspace's by default.
    currency: Option<String>,
}

/// Stores the spend of a CSV file sent as the body.
async fn import_spend(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<SpendImportQuery>,
    body: axum::body::Bytes,
) -> ApiResult<Json<SpendImport>> {
    let given = |v: Option<String>| v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    let defaults = SpendDefaults {
        source: given(q.source),
        medium: given(q.medium),
        campaign: given(q.campaign),
        currency: given(q.currency),
    };
    Ok(Json(s.app.import_spend(&actor, &body, &defaults).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct WeeklyQuery {
    /// source (the default), source_medium, medium, campaign or form.
    by: Option<String>,
    /// The first day, YYYY-MM-DD (UTC); 29 days before `to` by default.
    from: Option<String>,
    /// The last day, YYYY-MM-DD (UTC); today by default.
    to: Option<String>,
    /// How many channels have a row of their own (1–20, 5 by default); the others are summed.
    top: Option<usize>,
}

/// Leads per week of the channels that brought the most.
async fn weekly(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<WeeklyQuery>,
) -> ApiResult<Json<WeeklyLeads>> {
    let by = parse_by(q.by.as_deref())?;
    let top = q.top.unwrap_or(WEEKLY_TOP);
    if !(1..=20).contains(&top) {
        return Err(ApiError::BadRequest(
            Message::new("weekly_top_out_of_range").with("given", top),
        ));
    }
    let (from, to) = report_period(q.from.as_deref(), q.to.as_deref(), REPORT_DAYS)?;
    Ok(Json(s.app.weekly_leads(&actor, by, from, to, top).await?))
}

/// Channels with a row of their own in the weekly table by default.
pub(crate) const WEEKLY_TOP: usize = 5;
