//! Request extractors: JSON bodies with clear errors, API actors, signed-in users.

use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use serde::de::DeserializeOwned;
use voronka_app::{Actor, AppError, FieldError, Message};
use voronka_core::User;

pub const SESSION_COOKIE: &str = "voronka_session";

/// Reads the body, answering 413 when it exceeds the limit and 400 when it is not readable.
pub async fn read_body(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(state.config.max_body_bytes)
        } else {
            ApiError::BadRequest(Message::new("body_unreadable").with("problem", e))
        }
    })
}

pub fn content_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

/// Every JSON body the API takes is an object. Checked before reading it into a struct, which
/// would otherwise take an array as the struct's fields in order (and `[]` as all defaults).
/// Malformed JSON is 400; well-formed JSON that is not an object is 422.
pub fn require_object(bytes: &[u8]) -> Result<(), ApiError> {
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
        return Ok(());
    }
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Err(e) => Err(ApiError::BadRequest(
            Message::new("json_malformed").with("problem", e),
        )),
        Ok(_) => Err(ApiError::Unprocessable(
            Message::new("body_not_object"),
            vec![FieldError::new(
                "body",
                Message::new("json_object_expected"),
            )],
        )),
    }
}

/// Parses JSON into `T`: syntax errors are 400, wrong shapes are 422 naming the field.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(ApiError::BadRequest(Message::new("body_not_utf8")));
    }
    require_object(bytes)?;
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut *de).map_err(unreadable)?;
    // One value and nothing after it but white space: `{…} }}}` or `{…}{…}` is not a body.
    de.end()
        .map_err(|e| ApiError::BadRequest(Message::new("json_malformed").with("problem", e)))?;
    Ok(value)
}

/// What a JSON body that could not be read into its type answers: a syntax error is 400, a value
/// of the wrong shape 422 naming its field.
fn unreadable(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::BadRequest(Message::new("json_malformed").with("problem", inner));
    }
    let field = if path == "." {
        "body".to_string()
    } else {
        path
    };
    ApiError::Unprocessable(
        Message::new("value_invalid")
            .with("field", &field)
            .with("problem", &inner),
        vec![FieldError::new(
            &field,
            Message::new("value_invalid_here").with("problem", &inner),
        )],
    )
}

/// A JSON request body whose every key must be one `T` reads: a key it would pass over (a typo
/// such as `feilds`) is refused naming it (422), where `JsonBody` leaves it to `T`'s own rules.
/// For documents people write by hand, whose parts are all optional.
pub struct StrictJsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for StrictJsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let JsonBody(value) = JsonBody::<serde_json::Value>::from_request(req, state).await?;
        let mut unknown = Vec::new();
        // Read once, with the path of a value that does not fit and the keys passed over.
        let read: Result<T, _> = serde_path_to_error::deserialize(
            serde_ignored::Deserializer::new(&value, &mut |path: serde_ignored::Path| {
                unknown.push(path.to_string())
            }),
        );
        if !unknown.is_empty() {
            let fields = unknown
                .iter()
                .map(|f| FieldError::new(f, Message::new("field_unknown")))
                .collect();
            return Err(ApiError::Unprocessable(
                Message::new("fields_unknown").with("fields", unknown.join(", ")),
                fields,
            ));
        }
        read.map(StrictJsonBody).map_err(unreadable)
    }
}

/// A query string read into `T`. One that does not fit (an unknown parameter, a value of the
/// wrong kind) answers the API's JSON error naming the parameter: 422.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let field = if path == "." {
                    "query".to_string()
                } else {
                    path
                };
                let inner = e.into_inner();
                ApiError::Unprocessable(
                    Message::new("query_invalid").with("problem", &inner),
                    vec![FieldError::new(
                        &field,
                        Message::new("value_invalid_here").with("problem", &inner),
                    )],
                )
            })
    }
}

/// Whether a JSON text holds a NUL character (`\u0000`: JSON has no other way to write one).
/// What the API stores is text, and no text a person means holds one; PostgreSQL refuses it.
fn has_nul(json: &[u8]) -> bool {
    let mut i = 0;
    while i < json.len() {
        if json[i] == b'\\' {
            if json[i + 1..].starts_with(b"u0000") {
                return true;
            }
            // The escaped character is skipped: `\\u0000` is a backslash and `u0000`.
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

/// A JSON request body; requires `Content-Type: application/json`.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let ct = content_type(req.headers());
        if ct != "application/json" && !ct.ends_with("+json") {
            return Err(ApiError::UnsupportedMediaType(
                Message::new("content_type_not_json").with("given", &ct),
            ));
        }
        let bytes = read_body(req, state).await?;
        if has_nul(&bytes) {
            return Err(ApiError::Unprocessable(
                Message::new("text_nul"),
                vec![FieldError::new("body", Message::new("text_nul"))],
            ));
        }
        Ok(JsonBody(parse_json(&bytes)?))
    }
}

/// The caller of an API endpoint: a bearer token, or a signed-in browser session.
pub struct ApiActor(pub Actor);

impl FromRequestParts<AppState> for ApiActor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(h) = parts.headers.get(AUTHORIZATION) {
            let v = h.to_str().map_err(|_| {
                AppError::Unauthorized(Message::new("authorization_header_unreadable"))
            })?;
            let token = v
                .strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
                .ok_or_else(|| AppError::Unauthorized(Message::new("authorization_not_bearer")))?;
            return Ok(ApiActor(state.app.token_actor(token).await?));
        }
        // Browser sessions may read the API; writes from a browser go through CSRF-checked pages.
        if parts.method == axum::http::Method::GET {
            if let Some((user, _)) = session_user(&parts.headers, state).await? {
                return Ok(ApiActor(Actor::user(user)));
            }
        }
        Err(AppError::Unauthorized(Message::new("token_required")).into())
    }
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub async fn session_user(
    headers: &HeaderMap,
    state: &AppState,
) -> Result<Option<(User, String)>, ApiError> {
    match cookie(headers, SESSION_COOKIE) {
        Some(token) => Ok(state.app.session_user(&token).await?),
        None => Ok(None),
    }
}

/// A signed-in user of the web UI, with the session's CSRF token.
pub struct WebUser {
    pub user: User,
    pub csrf: String,
}

impl WebUser {
    pub fn actor(&self) -> Actor {
        Actor::user(self.user.clone())
    }
}

/// Rejection of page requests without a session: a redirect to the login page.
pub struct LoginRedirect(String);

impl axum::response::IntoResponse for LoginRedirect {
    fn into_response(self) -> axum::response::Response {
        let target = format!("/login?next={}", urlencode(&self.0));
        axum::response::Redirect::to(&target).into_response()
    }
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = axum::response::Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        match session_user(&parts.headers, state).await {
            Ok(Some((user, csrf))) => {
                // A person the team's rule asks for two-step sign-in, who has not turned it on,
                // turns it on first: every other page leads to their account page.
                let path = parts.uri.path();
                let setting_up =
                    path == "/me" || path.starts_with("/me/two-step/") || path == "/logout";
                if !setting_up {
                    match state.app.must_set_up_two_step(&user).await {
                        Ok(false) => {}
                        Ok(true) => {
                            return Err(axum::response::Redirect::to(
                                "/me?done=two_step_required#two-step",
                            )
                            .into_response())
                        }
                        Err(e) => return Err(ApiError::from(e).into_response()),
                    }
                }
                Ok(WebUser { user, csrf })
            }
            // After signing in, a page comes back; a form post whose session expired cannot be
            // replayed, so it returns to the page it was posted from.
            Ok(None) => Err(LoginRedirect(if parts.method == axum::http::Method::GET {
                parts
                    .uri
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "/".into())
            } else {
                parts
                    .headers
                    .get(axum::http::header::REFERER)
                    .and_then(|r| r.to_str().ok())
                    .and_then(|r| {
                        r.split_once("://")
                            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_string()))
                    })
                    .unwrap_or_else(|| "/leads".into())
            })
            .into_response()),
            Err(e) => Err(e.into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::has_nul;

    #[test]
    fn a_nul_is_found_only_where_it_is_written() {
        assert!(has_nul(br#"{"body": "a\u0000b"}"#));
        assert!(has_nul(br#"{"body": "\\\u0000"}"#));
        assert!(has_nul(br#"{"a": "\u0000"}"#));
        // An escaped backslash and the letters u0000; another control character; a lone
        // backslash at the end.
        assert!(!has_nul(br#"{"body": "\\u0000"}"#));
        assert!(!has_nul(br#"{"body": "\u0001 \\"}"#));
        assert!(!has_nul(br#"{"body": "trailing \"#));
        assert!(!has_nul("{\"имя\": \"Пётр\"}".as_bytes()));
    }
}
