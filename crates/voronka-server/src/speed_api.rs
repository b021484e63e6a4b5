//! Speed-to-lead endpoints under `/api/v1`: routing rules and profiles, reassignment, SLA
//! settings, activities, tasks, the work queue, notifications and the SLA reports; and the
//! iCal feed at `/ical/{token}` (the token in the URL is the credential, as calendars need).

use crate::api::IdOf;
use crate::extract::{content_type, read_body, ApiActor, ApiQuery, JsonBody};
use crate::{ApiError, AppState};
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use voronka_app::{ActivityInput, Message, ReassignTo, TaskInput};
use voronka_core::routing::RoutingProfile;
use voronka_core::Id;

type ApiResult<T> = Result<T, ApiError>;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/routing-rules", get(get_rules).put(put_rules))
        .route("/sla-settings", get(get_sla).put(put_sla))
        .route("/notify-webhook", get(get_webhook).put(put_webhook))
        .route(
            "/smtp-settings",
            get(get_smtp).put(put_smtp).delete(delete_smtp),
        )
        .route(
            "/users/{id}/routing-profile",
            get(get_profile).put(put_profile),
        )
        .route("/leads/{id}/routing", get(lead_routing))
        .route("/leads/{id}/reassign", post(reassign))
        .route("/leads/reassign", post(bulk_reassign))
        .route(
            "/leads/{id}/activities",
            get(list_activities).post(log_activity),
        )
        .route("/leads/{id}/sla", get(lead_sla))
        .route("/work-queue", get(work_queue))
        .route("/tasks", get(list_tasks).post(create_task))
        .route("/tasks/{id}/done", post(complete_task))
        .route("/notifications", get(notifications))
        .route("/ical-token", post(ical_token))
        .route("/reports/sla", get(sla_report))
        .route("/reports/sla-dashboard", get(sla_dashboard))
        .route("/reports/team-load", get(team_load))
        .route("/reports/recycling", get(recycling))
}

/// Public: the calendar feed.
pub fn public_routes() -> Router<AppState> {
    Router::new().route("/ical/{token}", get(ical_feed))
}

/// An id in a path; a calendar's may end in `.ics`.
fn id(s: &str, of: IdOf) -> ApiResult<Id> {
    crate::api::parse_id(s.trim_end_matches(".ics"), of)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct FormatQuery {
    /// json (default) or toml.
    pub format: Option<String>,
}

pub(crate) fn toml_response(text: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/toml; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Reads a JSON or TOML body as text plus whether it is TOML.
pub(crate) async fn rules_body(s: &AppState, req: Request) -> ApiResult<(String, bool)> {
    let ct = content_type(req.headers());
    let toml = match ct.as_str() {
        "application/json" => false,
        "application/toml" | "text/toml" | "text/plain" => true,
        other => {
            return Err(ApiError::UnsupportedMediaType(
                Message::new("content_type_not_json_or_toml").with("given", other),
            ))
        }
    };
    let bytes = read_body(req, s).await?;
    let text = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest(Message::new("body_not_utf8")))?;
    if !toml {
        crate::extract::require_object(text.as_bytes())?;
    }
    Ok((text, toml))
}

pub(crate) fn format_error(other: &str) -> ApiError {
    ApiError::BadRequest(Message::new("format_unknown").with("given", other))
}

async fn get_rules(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    actor.require_admin()?;
    let rules = s.app.routing_rules().await?;
    match q.format.as_deref() {
        Some("toml") => Ok(toml_response(rules.to_toml())),
        None | Some("json") => Ok(Json(rules).into_response()),
        Some(other) => Err(format_error(other)),
    }
}

async fn put_rules(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    req: Request,
) -> ApiResult<StatusCode> {
    let (text, toml) = rules_body(&s, req).await?;
    let rules = voronka_app::App::parse_routing_rules(&text, toml)?;
    s.app.set_routing_rules(&actor, rules).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_sla(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    actor.require_admin()?;
    let v = s.app.sla_settings().await?;
    match q.format.as_deref() {
        Some("toml") => Ok(toml_response(v.to_toml())),
        None | Some("json") => Ok(Json(v).into_response()),
        Some(other) => Err(format_error(other)),
    }
}

async fn put_sla(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    req: Request,
) -> ApiResult<StatusCode> {
    let (text, toml) = rules_body(&s, req).await?;
    let v = voronka_app::App::parse_sla_settings(&text, toml)?;
    s.app.set_sla_settings(&actor, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookBody {
    url: String,
}

async fn get_webhook(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<serde_json::Value>> {
    actor.require_admin()?;
    Ok(Json(
        json!({ "url": s.app.notify_webhook().await?.unwrap_or_default() }),
    ))
}

async fn put_webhook(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<WebhookBody>,
) -> ApiResult<StatusCode> {
    s.app.set_notify_webhook(&actor, &b.url).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The SMTP settings without the password (`password_set` tells whether one is stored), or
/// null when email is off.
async fn get_smtp(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Option<voronka_app::SmtpView>>> {
    actor.require_admin()?;
    Ok(Json(s.app.smtp_settings().await?))
}

async fn put_smtp(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<voronka_app::SmtpSettings>,
) -> ApiResult<StatusCode> {
    s.app.set_smtp_settings(&actor, Some(b)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn delete_smtp(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<StatusCode> {
    s.app.set_smtp_settings(&actor, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn get_profile(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(uid): Path<String>,
) -> ApiResult<Json<RoutingProfile>> {
    Ok(Json(
        s.app.routing_profile(&actor, id(&uid, IdOf::User)?).await?,
    ))
}

async fn put_profile(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(uid): Path<String>,
    JsonBody(p): JsonBody<RoutingProfile>,
) -> ApiResult<StatusCode> {
    s.app
        .set_routing_profile(&actor, id(&uid, IdOf::User)?, p)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The routing explanation and the assignment history of a lead.
async fn lead_routing(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(lid): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let lid = id(&lid, IdOf::Lead)?;
    let d = s.app.lead_detail(&actor, lid).await?;
    let history = s.app.assignments(&actor, lid).await?;
    Ok(Json(json!({
        "owner_id": d.lead.owner_id,
        "explanation": d.route_explanation,
        "why": d.route,
        "history": history,
    })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReassignBody {
    /// `person` (with owner_id, null = back to the queue) or `rules`.
    to: String,
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    owner_id: Option<Id>,
    #[serde(default)]
    comment: Option<String>,
    /// Bulk only: these leads …
    #[serde(default)]
    #[schema(value_type = Vec<i64>)]
    lead_ids: Vec<Id>,
    /// … or every open lead of this person.
    #[serde(default)]
    #[schema(value_type = Option<i64>)]
    from_owner: Option<Id>,
}

fn target(b: &ReassignBody) -> ApiResult<ReassignTo> {
    match b.to.as_str() {
        "person" => Ok(ReassignTo::Person {
            owner_id: b.owner_id,
        }),
        "rules" => Ok(ReassignTo::Rules),
        other => Err(ApiError::Unprocessable(
            Message::new("reassign_to_unknown").with("given", other),
            vec![voronka_app::FieldError::new(
                "to",
                Message::new("reassign_to_choices"),
            )],
        )),
    }
}

async fn reassign(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(lid): Path<String>,
    JsonBody(b): JsonBody<ReassignBody>,
) -> ApiResult<Json<voronka_store::AssignmentRow>> {
    let to = target(&b)?;
    Ok(Json(
        s.app
            .reassign(&actor, id(&lid, IdOf::Lead)?, &to, b.comment.as_deref())
            .await?,
    ))
}

async fn bulk_reassign(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<ReassignBody>,
) -> ApiResult<Json<serde_json::Value>> {
    let to = target(&b)?;
    let mut ids = b.lead_ids.clone();
    if let Some(from) = b.from_owner {
        ids.extend(s.app.open_leads_of(&actor, from).await?);
    }
    if ids.is_empty() {
        return Err(ApiError::Unprocessable(
            Message::new("reassign_leads_missing"),
            vec![voronka_app::FieldError::new(
                "lead_ids",
                Message::new("lead_ids_empty"),
            )],
        ));
    }
    let out = s
        .app
        .bulk_reassign(&actor, &ids, &to, b.comment.as_deref())
        .await?;
    let ok = out.iter().filter(|(_, r)| r.is_ok()).count();
    let results: Vec<_> = out
        .into_iter()
        .map(|(lead, r)| match r {
            Ok(a) => json!({ "lead_id": lead, "ok": true, "owner_id": a.to_owner, "explanation": a.explanation, "why": a.why }),
            Err(e) => json!({ "lead_id": lead, "ok": false, "error": e }),
        })
        .collect();
    Ok(Json(json!({ "reassigned": ok, "results": results })))
}

async fn list_activities(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(lid): Path<String>,
) -> ApiResult<Json<Vec<voronka_store::Activity>>> {
    Ok(Json(s.app.activities(&actor, id(&lid, IdOf::Lead)?).await?))
}

async fn log_activity(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(lid): Path<String>,
    JsonBody(b): JsonBody<ActivityInput>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let (activity, task) = s.app.log_activity(&actor, id(&lid, IdOf::Lead)?, b).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": activity, "next_task_id": task })),
    ))
}

async fn lead_sla(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(lid): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let lid = id(&lid, IdOf::Lead)?;
    let events = s.app.sla_events(&actor, lid).await?;
    let row = s.app.lead_sla(&actor, lid).await?;
    Ok(Json(json!({
        "due_at": row.as_ref().and_then(|r| r.sla_due_at),
        "breached_at": row.as_ref().and_then(|r| r.sla_breached_at),
        "first_response_at": row.as_ref().and_then(|r| r.first_response_at),
        "events": events,
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkQueueQuery {
    /// Leads to skip: 0 or more.
    offset: Option<i64>,
    /// Leads to list: 1 to 500 (50 when not given).
    limit: Option<i64>,
}

async fn work_queue(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<WorkQueueQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let (offset, limit) = crate::api::page_bounds(q.offset, q.limit, 500)?;
    let leads = s.app.work_queue(&actor, offset, limit).await?;
    let me = actor.user_id().unwrap_or(0);
    let tasks = s.app.tasks_of(&actor, me, true).await?;
    Ok(Json(json!({ "leads": leads, "tasks": tasks })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskQuery {
    /// Whose tasks (managers): a person's id.
    #[param(value_type = Option<i64>)]
    user: Option<Id>,
    /// `open` (default), `overdue` or `all`.
    status: Option<String>,
}

async fn list_tasks(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> ApiResult<Json<Vec<voronka_store::Task>>> {
    // The query is checked whole before anything is read: a wrong status is named as such.
    let status = q.status.as_deref().unwrap_or("open");
    if !matches!(status, "open" | "all" | "overdue") {
        return Err(ApiError::BadRequest(
            Message::new("task_status_unknown").with("given", status),
        ));
    }
    let user = match q.user {
        Some(u) => crate::api::positive_id(u, IdOf::User)?,
        None => actor
            .user_id()
            .ok_or_else(|| ApiError::BadRequest(Message::new("user_required")))?,
    };
    let mut tasks = s.app.tasks_of(&actor, user, status != "all").await?;
    if status == "overdue" {
        let now = voronka_app::now_ms();
        tasks.retain(|t| t.due_at < now);
    }
    Ok(Json(tasks))
}

async fn create_task(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<TaskInput>,
) -> ApiResult<(StatusCode, Json<serde_json::Value>)> {
    let id = s.app.create_task(&actor, b).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

async fn complete_task(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(tid): Path<String>,
) -> ApiResult<StatusCode> {
    s.app.complete_task(&actor, id(&tid, IdOf::Task)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn notifications(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<voronka_store::Notification>>> {
    Ok(Json(s.app.notifications(&actor).await?))
}

async fn ical_token(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<serde_json::Value>> {
    let token = s.app.ical_token(&actor).await?;
    Ok(Json(json!({ "path": format!("/ical/{token}.ics") })))
}

async fn ical_feed(State(s): State<AppState>, Path(token): Path<String>) -> ApiResult<Response> {
    let token = token.trim_end_matches(".ics");
    let body = s.app.ical_feed(token).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response())
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct SinceQuery {
    since: Option<String>,
}

async fn sla_report(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<SinceQuery>,
) -> ApiResult<Json<voronka_app::SlaMetrics>> {
    let since = match q.since.as_deref() {
        Some(v) => crate::api::parse_moment("since", v)?,
        None => voronka_app::now_ms() - 30 * 86_400_000,
    };
    Ok(Json(s.app.sla_metrics(&actor, since).await?))
}

async fn sla_dashboard(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<voronka_app::SlaDashboard>> {
    Ok(Json(s.app.sla_dashboard(&actor).await?))
}

async fn team_load(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<Vec<voronka_store::LoadRow>>> {
    Ok(Json(s.app.team_load(&actor).await?))
}

async fn recycling(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<SinceQuery>,
) -> ApiResult<Json<voronka_store::RecyclingReport>> {
    let since = match q.since.as_deref() {
        Some(v) => crate::api::parse_moment("since", v)?,
        None => 0,
    };
    Ok(Json(s.app.recycling_report(&actor, since).await?))
}
