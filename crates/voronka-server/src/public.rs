//! The public front door: `POST /f/{form_key}` from any site, with or without JavaScript.

use crate::escape_html;
use crate::extract::{content_type, parse_json, read_body};
use crate::{ApiError, AppState};
use axum::extract::{ConnectInfo, Path, Query, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use std::net::SocketAddr;
use voronka_app::{CaptureRequest, CaptureResult, Message, SubmitCount};
use voronka_core::intake::Submission;
use voronka_core::{Channel, Form};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/f/{key}", post(capture).options(preflight))
        .route("/f/{key}/thanks", get(thanks))
        .route("/healthz", get(healthz))
}

/// `GET /healthz` (no token): 200 while the database answers, 503 when it does not; for load
/// balancers in front of several `serve` processes and for process supervisors.
async fn healthz(State(s): State<AppState>) -> Response {
    let (status, body) = match s.app.health().await {
        Ok(()) => (StatusCode::OK, serde_json::json!({ "status": "ok" })),
        Err(e) => {
            tracing::warn!(error = %e, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({
                    "error": "unavailable",
                    "message": "the database does not answer",
                }),
            )
        }
    };
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// Whether a browser on `origin` may post to this form. An empty list admits every origin.
pub(crate) fn origin_allowed(form: &Form, origin: Option<&str>) -> bool {
    match origin {
        None => true,
        Some(o) => {
            form.allowed_origins.is_empty()
                || form
                    .allowed_origins
                    .iter()
                    .any(|a| a.eq_ignore_ascii_case(o.trim_end_matches('/')))
        }
    }
}

pub(crate) fn cors(headers: &mut HeaderMap, origin: Option<&str>) {
    if let Some(o) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    }
}

async fn load_form(state: &AppState, key: &str) -> Result<Form, ApiError> {
    state.app.form_by_key(key).await?.ok_or_else(|| {
        voronka_app::AppError::NotFound(Message::new("form_key_not_found").with("key", key)).into()
    })
}

pub(crate) async fn preflight(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let form = load_form(&state, &key).await?;
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if !origin_allowed(&form, origin) {
        return Err(voronka_app::AppError::Forbidden(Message::new("origin_not_allowed")).into());
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let h = resp.headers_mut();
    cors(h, origin);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type, idempotency-key"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    Ok(resp)
}

/// Reads a form-encoded or JSON body into submission fields; repeated fields are joined.
pub(crate) fn fields_from_body(ct: &str, bytes: &[u8]) -> Result<Vec<(String, String)>, ApiError> {
    match ct {
        "application/x-www-form-urlencoded" => {
            let text = std::str::from_utf8(bytes)
                .map_err(|_| ApiError::BadRequest(Message::new("form_body_not_utf8")))?;
            let pairs: Vec<(String, String)> = serde_urlencoded::from_str(text).map_err(|e| {
                ApiError::BadRequest(Message::new("form_body_malformed").with("problem", e))
            })?;
            Ok(pairs)
        }
        "application/json" => {
            let map: serde_json::Map<String, serde_json::Value> = parse_json(bytes)?;
            let mut out = Vec::with_capacity(map.len());
            for (k, v) in map {
                let s = match v {
                    serde_json::Value::Null => continue,
                    serde_json::Value::String(s) => s,
                    serde_json::Value::Bool(b) => b.to_string(),
                    serde_json::Value::Number(n) => n.to_string(),
                    serde_json::Value::Array(items) => items
                        .into_iter()
                        .map(|i| match i {
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                    serde_json::Value::Object(_) => {
                        return Err(ApiError::Unprocessable(
                            Message::new("form_field_nested").with("field", &k),
                            vec![voronka_app::FieldError::new(
                                &k,
                                Message::new("nested_objects_refused"),
                            )],
                        ))
                    }
                };
                out.push((k, s));
            }
            Ok(out)
        }
        other => Err(ApiError::UnsupportedMediaType(
            Message::new("form_content_type_unknown").with("given", other),
        )),
    }
}

/// Builds a submission from received fields; over-long values are cut so one field cannot
/// crowd out the rest, and the name length check still sees that the name was too long.
pub(crate) fn submission_from(channel: Channel, pairs: Vec<(String, String)>) -> Submission {
    let mut sub = Submission::new(channel, voronka_app::now_ms());
    for (k, v) in pairs {
        let k: String = k.chars().take(100).collect();
        let v: String = v.chars().take(20_000).collect();
        sub.fields
            .entry(k)
            .and_modify(|e| {
                e.push_str(", ");
                e.push_str(&v);
            })
            .or_insert(v);
    }
    sub
}

/// A browser's post to a form: the origin must be one the form admits; answers the request's
/// headers, its origin and the fields of its body (JSON or form-encoded).
pub(crate) async fn read_form_post(
    state: &AppState,
    form: &Form,
    req: Request,
) -> Result<(HeaderMap, Option<String>, Vec<(String, String)>), ApiError> {
    let headers = req.headers().clone();
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if !origin_allowed(form, origin.as_deref()) {
        return Err(voronka_app::AppError::Forbidden(Message::new("origin_not_allowed")).into());
    }
    let ct = content_type(&headers);
    let bytes = read_body(req, state).await?;
    let pairs = fields_from_body(&ct, &bytes)?;
    Ok((headers, origin, pairs))
}

async fn capture(
    State(state): State<AppState>,
    Path(key): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Result<Response, ApiError> {
    if state.capture_limiter.check_key(&peer.ip()).is_err() {
        return Err(ApiError::TooManyRequests);
    }
    let form = load_form(&state, &key).await?;
    let (headers, origin, pairs) = read_form_post(&state, &form, req).await?;
    let mut sub = submission_from(Channel::WebForm, pairs);
    sub.ip = Some(peer.ip().to_string());
    sub.user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(500).collect());
    if !sub.fields.contains_key("referrer") {
        if let Some(r) = headers.get(header::REFERER).and_then(|v| v.to_str().ok()) {
            sub.fields.insert("page".into(), r.to_string());
        }
    }
    let variant = sub.fields.get("_variant").cloned();
    let visitor = sub.fields.get("visitor_id").cloned();
    let idem = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect::<String>());
    let outcome = state
        .app
        .capture_counted(
            CaptureRequest {
                submission: sub,
                form: Some(form.clone()),
                idempotency_key: idem,
                client: Some(peer.ip().to_string()),
            },
            Some(SubmitCount {
                variant,
                visitor_id: visitor,
            }),
        )
        .await?;
    if content_type(&headers) == "application/x-www-form-urlencoded" {
        let target = match (&form.redirect_url, outcome.result) {
            (Some(url), CaptureResult::Lead | CaptureResult::Rejected) => url.clone(),
            _ => format!(
                "/f/{}/thanks?r={}",
                crate::extract::urlencode(&key),
                match outcome.result {
                    CaptureResult::Interest => "interest",
                    _ => "ok",
                }
            ),
        };
        return Ok(Redirect::to(&target).into_response());
    }
    let status = if outcome.repeated {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut resp = (status, Json(&outcome)).into_response();
    cors(resp.headers_mut(), origin.as_deref());
    Ok(resp)
}

#[derive(Deserialize)]
struct ThanksQuery {
    r: Option<String>,
}

/// The page a plain (no-JavaScript) form lands on: the form's thank-you text in its language,
/// and the lead magnet's download link when it has one.
async fn thanks(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<ThanksQuery>,
) -> Html<String> {
    let form = state.app.form_by_key(&key).await.ok().flatten();
    let def = form
        .as_ref()
        .map(|f| f.definition.clone())
        .unwrap_or_default();
    let tx = voronka_core::capture::texts(def.language);
    let interest = q.r.as_deref() == Some("interest");
    let (title, text) = if interest {
        (
            "Thank you",
            "We received your message, but without a valid phone number or email we cannot reply. \
             Please go back and check your contact details."
                .to_string(),
        )
    } else if def.thank_you.is_empty() {
        ("Thank you!", tx.thank_you.to_string())
    } else {
        ("Thank you!", def.thank_you.clone())
    };
    let magnet = match (&def.lead_magnet, interest) {
        (Some(m), false) => format!(
            "<p><a href=\"/f/{}/download\">{}: {}</a></p>",
            crate::extract::urlencode(&key),
            escape_html(tx.download),
            escape_html(&m.title)
        ),
        _ => String::new(),
    };
    Html(format!(
        "<!doctype html><html lang=\"{lang}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" \
         content=\"width=device-width, initial-scale=1\"><title>{title}</title><style>body{{font-family:system-ui,sans-serif;\
         display:grid;place-items:center;min-height:90vh;margin:0;background:#f6f7fb;color:#1d2433}}main{{background:#fff;\
         padding:2.5rem 3rem;border-radius:12px;box-shadow:0 4px 24px #0001;max-width:32rem}}</style></head>\
         <body><main><h1>{title}</h1><p>{text}</p>{magnet}</main></body></html>",
        lang = def.language.as_str(),
        text = escape_html(&text),
    ))
}
