//! Scoring endpoints under `/api/v1`: behaviour events, the scoring rules (JSON or TOML), the
//! rescoring run, a lead's score explanation, the fit × activity matrix and tracking sites; and
//! the public tracker: `/t.js` and `/t/{site}/events`.

use crate::extract::{content_type, read_body, ApiActor, ApiQuery, JsonBody};
use crate::speed_api::{format_error, rules_body, toml_response, FormatQuery};
use crate::{ApiError, AppState};
use axum::extract::{Path, Request, State};
use axum::http::header::{self, HeaderMap};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use voronka_app::{EventIn, Explanation, Message};
use voronka_core::scoring::{Activity, FitLevel, Rules};
use voronka_core::Id;

type ApiResult<T> = Result<T, ApiError>;

/// The tracker, embedded in the binary like the widget.
pub(crate) const TRACKER_JS: &str = include_str!("../assets/t.js");

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events", post(post_events))
        .route("/scoring-rules", get(get_rules).put(put_rules))
        .route("/scoring-rules/presets/{name}", get(get_preset))
        .route("/scoring/rescore", post(rescore))
        .route("/scoring/runs/latest", get(latest_run))
        .route("/scoring/matrix", get(matrix))
        .route("/leads/{id}/score", get(explain))
        .route("/leads/{id}/temperature-override", delete(clear_override))
        .route("/tracking-sites", get(list_sites).post(create_site))
}

/// Public: the tracker script and the events it sends.
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/t.js", get(script))
        .route("/t/{site}/events", post(tracked_events))
}

fn lead_id(s: &str) -> ApiResult<Id> {
    crate::api::parse_id(s, crate::api::IdOf::Lead)
}

/// One event or `{"events": [...]}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum EventsBody {
    Batch { events: Vec<EventIn> },
    One(EventIn),
}

impl EventsBody {
    fn into_vec(self) -> Vec<EventIn> {
        match self {
            EventsBody::Batch { events } => events,
            EventsBody::One(e) => vec![e],
        }
    }
}

fn parse_events(bytes: &[u8]) -> ApiResult<Vec<EventIn>> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| ApiError::BadRequest(Message::new("body_not_utf8")))?;
    // Read as a value first, so that a syntax error and a wrong shape get their own messages.
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| ApiError::BadRequest(Message::new("json_malformed").with("problem", e)))?;
    let body: EventsBody = serde_json::from_value(value)
        .map_err(|_| ApiError::BadRequest(Message::new("events_body_shape")))?;
    Ok(body.into_vec())
}

/// `POST /api/v1/events`: with a token, or from the tracker with `?site=KEY` and no token.
async fn post_events(
    State(s): State<AppState>,
    peer: axum::extract::ConnectInfo<std::net::SocketAddr>,
    req: Request,
) -> ApiResult<Response> {
    let site = req.uri().query().and_then(|q| {
        url_pairs(q)
            .into_iter()
            .find(|(k, _)| k == "site")
            .map(|(_, v)| v)
    });
    if let Some(site) = site.filter(|_| !req.headers().contains_key(header::AUTHORIZATION)) {
        return Ok(tracked_with_cors(s, site, peer, req).await);
    }
    let (mut parts, body) = req.into_parts();
    let ApiActor(actor) =
        <ApiActor as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, &s)
            .await?;
    let req = Request::from_parts(parts, body);
    actor.require_events()?;
    let ct = content_type(req.headers());
    if ct != "application/json" {
        return Err(ApiError::UnsupportedMediaType(
            Message::new("content_type_not_json").with("given", &ct),
        ));
    }
    let bytes = read_body(req, &s).await?;
    let events = parse_events(&bytes)?;
    let source = format!("api:{}", actor.name());
    let done = s.app.ingest_events(&source, events).await?;
    Ok((StatusCode::ACCEPTED, Json(done)).into_response())
}

async fn script() -> Response {
    crate::widget::embeddable_script(TRACKER_JS)
}

/// Whether the browser asked not to be tracked (Do-Not-Track or Global Privacy Control).
fn declines_tracking(h: &HeaderMap) -> bool {
    ["dnt", "sec-gpc"]
        .iter()
        .any(|n| h.get(*n).and_then(|v| v.to_str().ok()).map(str::trim) == Some("1"))
}

async fn tracked_events(
    State(s): State<AppState>,
    Path(site): Path<String>,
    peer: axum::extract::ConnectInfo<std::net::SocketAddr>,
    req: Request,
) -> Response {
    tracked_with_cors(s, site, peer, req).await
}

async fn tracked_with_cors(
    s: AppState,
    site: String,
    peer: axum::extract::ConnectInfo<std::net::SocketAddr>,
    req: Request,
) -> Response {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Refusals carry the CORS headers too, so that the tracker can read them: it keeps a batch
    // to send again only when the failure was not the batch's own (a 429 or a 5xx).
    let mut resp = match tracked(s, site, peer, origin.as_deref(), req).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    };
    crate::public::cors(resp.headers_mut(), origin.as_deref());
    resp
}

fn url_pairs(q: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(q).unwrap_or_default()
}

/// Events from the tracker script of a site.
async fn tracked(
    s: AppState,
    site: String,
    axum::extract::ConnectInfo(peer): axum::extract::ConnectInfo<std::net::SocketAddr>,
    origin: Option<&str>,
    req: Request,
) -> ApiResult<Response> {
    if s.capture_limiter.check_key(&peer.ip()).is_err() {
        return Err(ApiError::TooManyRequests);
    }
    let site = s.app.tracking_site(&site).await?;
    let headers = req.headers().clone();
    // Beacons send text/plain, which needs no preflight.
    let ct = content_type(&headers);
    if !matches!(ct.as_str(), "text/plain" | "application/json" | "") {
        return Err(ApiError::UnsupportedMediaType(
            Message::new("content_type_not_beacon").with("given", &ct),
        ));
    }
    let bytes = read_body(req, &s).await?;
    let resp = if site.honour_dnt && declines_tracking(&headers) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        let events = parse_events(&bytes)?;
        let done = s.app.ingest_tracked(&site.key, origin, events).await?;
        (StatusCode::ACCEPTED, Json(json!({ "stored": done.stored }))).into_response()
    };
    Ok(resp)
}

fn rules_response(rules: &Rules, format: Option<&str>) -> ApiResult<Response> {
    match format {
        Some("toml") => Ok(toml_response(rules.to_toml())),
        None | Some("json") => Ok(Json(rules).into_response()),
        Some(other) => Err(format_error(other)),
    }
}

async fn get_rules(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    actor.require_read_leads()?;
    rules_response(s.app.scorer().rules(), q.format.as_deref())
}

async fn get_preset(
    ApiActor(actor): ApiActor,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<FormatQuery>,
) -> ApiResult<Response> {
    actor.require_read_leads()?;
    let rules = Rules::preset(&name).ok_or_else(|| {
        voronka_app::AppError::NotFound(
            Message::new("scoring_preset_not_found")
                .with("name", &name)
                .with("presets", Rules::PRESETS.join(", ")),
        )
    })?;
    rules_response(&rules, q.format.as_deref())
}

async fn put_rules(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    req: Request,
) -> ApiResult<Response> {
    let (text, toml) = rules_body(&s, req).await?;
    let rules = if toml {
        Rules::from_toml(&text)
    } else {
        Rules::from_json(&text)
    }
    .map_err(|e| voronka_app::AppError::invalid("rules", Message::from(&e)))?;
    let run = s.app.save_scoring_rules(&actor, rules).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "rescoring": run }))).into_response())
}

async fn rescore(State(s): State<AppState>, ApiActor(actor): ApiActor) -> ApiResult<Response> {
    let run = s.app.rescore_asked(&actor).await?;
    Ok((StatusCode::ACCEPTED, Json(run)).into_response())
}

async fn latest_run(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<serde_json::Value>> {
    actor.require_read_leads()?;
    Ok(Json(json!({ "run": s.app.latest_score_run().await? })))
}

async fn matrix(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<serde_json::Value>> {
    let m = s.app.score_matrix(&actor).await?;
    let rows: Vec<serde_json::Value> = FitLevel::ALL
        .iter()
        .rev()
        .map(|f| {
            json!({
                "fit_level": f.as_str(),
                "cells": Activity::ALL.iter().map(|a| json!({
                    "activity": a.as_str(),
                    "leads": m.get(*f, *a),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    Ok(Json(json!({ "total": m.total(), "rows": rows })))
}

async fn explain(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<Json<Explanation>> {
    let id = lead_id(&id)?;
    Ok(Json(s.app.explain_score(&actor, id).await?))
}

async fn clear_override(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = lead_id(&id)?;
    s.app.clear_temperature_override(&actor, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list_sites(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> ApiResult<Json<serde_json::Value>> {
    let sites = s.app.tracking_sites(&actor).await?;
    let base = s.config.public_url.trim_end_matches('/').to_string();
    let items: Vec<serde_json::Value> = sites
        .iter()
        .map(|site| json!({ "site": site, "embed": embed_code(&base, &site.key, site.honour_dnt) }))
        .collect();
    Ok(Json(json!({ "items": items })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NewSite {
    name: String,
    #[serde(default)]
    origins: Vec<String>,
    #[serde(default = "yes")]
    honour_dnt: bool,
}

fn yes() -> bool {
    true
}

/// The tracker's embed code; a site that does not honour Do-Not-Track says so to the script.
pub(crate) fn embed_code(base: &str, key: &str, honour_dnt: bool) -> String {
    let dnt = if honour_dnt {
        ""
    } else {
        " data-dnt=\"ignore\""
    };
    format!("<script src=\"{base}/t.js\" data-site=\"{key}\"{dnt} async></script>")
}

async fn create_site(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    JsonBody(b): JsonBody<NewSite>,
) -> ApiResult<Response> {
    let site = s
        .app
        .create_tracking_site(&actor, &b.name, &b.origins, b.honour_dnt)
        .await?;
    let base = s.config.public_url.trim_end_matches('/').to_string();
    let embed = embed_code(&base, &site.key, site.honour_dnt);
    Ok((
        StatusCode::CREATED,
        Json(json!({ "site": site, "embed": embed })),
    )
        .into_response())
}
