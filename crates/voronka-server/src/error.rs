//! One mapping from errors to HTTP status, used by the API and the pages.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use voronka_app::{AppError, FieldError, Message};
use voronka_core::intake::text::Args;

/// An error answered as JSON `{error, code, message, args?, fields?}`: `error` names the kind
/// (one per status), `code` and `args` the sentence, `message` is its text from the catalog.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    BadRequest(Message),
    PayloadTooLarge(usize),
    UnsupportedMediaType(Message),
    TooManyRequests,
    Unprocessable(Message, Vec<FieldError>),
    MethodNotAllowed,
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

impl From<voronka_core::StageError> for ApiError {
    fn from(e: voronka_core::StageError) -> Self {
        ApiError::App(e.into())
    }
}

#[derive(Serialize)]
struct Body {
    error: &'static str,
    code: String,
    message: String,
    #[serde(skip_serializing_if = "Args::is_empty")]
    args: Args,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldError>,
}

/// Status and stable error code for an application error.
pub fn classify(e: &AppError) -> (StatusCode, &'static str) {
    match e {
        AppError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        AppError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        AppError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
        AppError::Invalid { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid"),
        AppError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        AppError::Stage(_) => (StatusCode::CONFLICT, "illegal_transition"),
        AppError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        AppError::Limited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        AppError::Store(_) | AppError::Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl ApiError {
    /// Status, kind, what the error says and the fields it names.
    pub fn parts(&self) -> (StatusCode, &'static str, Message, Vec<FieldError>) {
        match self {
            ApiError::App(e) => {
                let (status, kind) = classify(e);
                let message = if status == StatusCode::INTERNAL_SERVER_ERROR {
                    tracing::error!(error = %e, "internal error");
                    Message::new("internal")
                } else {
                    e.message().unwrap_or_else(|| Message::new(kind))
                };
                let fields = match e {
                    AppError::Invalid { fields, .. } => fields.clone(),
                    _ => Vec::new(),
                };
                (status, kind, message, fields)
            }
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone(), vec![]),
            ApiError::PayloadTooLarge(max) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                Message::new("payload_too_large").with("max", max),
                vec![],
            ),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m.clone(),
                vec![],
            ),
            ApiError::TooManyRequests => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                Message::new("rate_limited"),
                vec![],
            ),
            ApiError::Unprocessable(m, f) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                m.clone(),
                f.clone(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                Message::new("method_not_allowed"),
                vec![],
            ),
        }
    }
}

/// The `Retry-After` of a refusal for too many attempts, in seconds.
fn retry_after(e: &ApiError) -> axum::http::HeaderValue {
    match e {
        ApiError::App(AppError::Limited { retry_after_s, .. }) => (*retry_after_s).into(),
        _ => axum::http::HeaderValue::from_static("1"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error, message, fields) = self.parts();
        let mut resp = (
            status,
            Json(Body {
                error,
                message: message.to_string(),
                code: message.code,
                args: message.args,
                fields,
            }),
        )
            .into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after(&self));
        }
        resp
    }
}
