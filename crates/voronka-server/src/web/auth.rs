//! Signing in and out.

use super::{asset_version, render, render_status, see_other, t, PageResult, PostForm, WebError};
use crate::extract::{cookie, session_user, WebUser, SESSION_COOKIE};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use voronka_app::SignIn;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    title: &'static str,
    app_name: &'static str,
    asset_v: &'static str,
    email: String,
    next: String,
    error: Option<String>,
    flash: Option<&'static str>,
}

/// Only local paths are followed after signing in, so the login page cannot bounce elsewhere.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.contains('\\')
                && !n.chars().any(char::is_control) =>
        {
            n.to_string()
        }
        _ => "/leads".to_string(),
    }
}

fn page(email: String, next: String, error: Option<String>) -> LoginPage {
    LoginPage {
        title: t::LOGIN_TITLE,
        app_name: t::APP_NAME,
        asset_v: asset_version(),
        email,
        next,
        error,
        flash: None,
    }
}

pub(crate) async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let next = super::query_value(raw.as_deref(), "next");
    let next = safe_next(next.as_deref());
    if let Ok(Some(_)) = session_user(&headers, &state).await {
        return Ok(see_other(&next));
    }
    let mut p = page(String::new(), next, None);
    p.flash = super::query_value(raw.as_deref(), "done")
        .as_deref()
        .and_then(t::flash);
    Ok(render(&p))
}

fn session_cookie(state: &AppState, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{SESSION_COOKIE}={value}; HttpOnly; SameSite=Lax; Path=/");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if state.config.secure_cookies {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = PostForm::parse(&body)?;
    let email = form.text("email");
    let next = safe_next(form.get("next"));
    // Read as UTF-8 where it is, whatever a client put in it.
    let browser = headers
        .get(header::USER_AGENT)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let res = state
        .app
        .begin_sign_in(
            email.trim(),
            form.get("password").unwrap_or(""),
            browser.as_deref(),
            voronka_app::now_ms(),
        )
        .await;
    match res {
        Ok(SignIn::Done(_, token, _)) => Ok(signed_in(&state, &token, &next)),
        Ok(SignIn::SecondStep(challenge)) => Ok(render(&code_page(challenge, next, None))),
        Err(e) => refused(e, |message| page(email, next, Some(message))),
    }
}

/// The sign-in's second step: a code of the person's app, or a recovery code.
pub(crate) async fn login_code(State(state): State<AppState>, body: Bytes) -> PageResult {
    let form = PostForm::parse(&body)?;
    let next = safe_next(form.get("next"));
    let challenge = form.text("challenge");
    let res = state
        .app
        .finish_sign_in(&challenge, &form.text("code"), voronka_app::now_ms())
        .await;
    match res {
        Ok((_, token, _)) => Ok(signed_in(&state, &token, &next)),
        // Waited too long, or not a sign-in at all: from the start.
        Err(voronka_app::AppError::Unauthorized(m)) if m.code == "two_step_expired" => {
            Ok(render_status(
                StatusCode::UNAUTHORIZED,
                &page(String::new(), next, Some(t::TWO_STEP_EXPIRED.to_string())),
            ))
        }
        Err(voronka_app::AppError::Unauthorized(_)) => Ok(render_status(
            StatusCode::UNAUTHORIZED,
            &code_page(challenge, next, Some(t::TWO_STEP_WRONG.to_string())),
        )),
        Err(e) => refused(e, |message| page(String::new(), next, Some(message))),
    }
}

/// Signed in: the session's cookie, and on to where the person was going.
fn signed_in(state: &AppState, token: &str, next: &str) -> Response {
    let mut resp = see_other(next);
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(state, token, None));
    resp
}

/// A refused sign-in on the sign-in page: a wrong password, or a lock with how long it lasts.
fn refused(e: voronka_app::AppError, page: impl FnOnce(String) -> LoginPage) -> PageResult {
    match e {
        voronka_app::AppError::Unauthorized(_) => Ok(render_status(
            StatusCode::UNAUTHORIZED,
            &page(t::LOGIN_FAILED.to_string()),
        )),
        voronka_app::AppError::Limited { retry_after_s, .. } => {
            let wait = HeaderValue::from(retry_after_s);
            let minutes = retry_after_s.div_ceil(60);
            let mut resp = render_status(
                StatusCode::TOO_MANY_REQUESTS,
                &page(t::fill1(t::LOGIN_LOCKED_N, minutes)),
            );
            resp.headers_mut().insert(header::RETRY_AFTER, wait);
            Ok(resp)
        }
        e => Err(WebError::App(e)),
    }
}

#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    title: &'static str,
    app_name: &'static str,
    asset_v: &'static str,
    challenge: String,
    next: String,
    error: Option<String>,
}

fn code_page(challenge: String, next: String, error: Option<String>) -> CodePage {
    CodePage {
        title: t::TWO_STEP_TITLE,
        app_name: t::APP_NAME,
        asset_v: asset_version(),
        challenge,
        next,
        error,
    }
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    PostForm::checked(&body, &user)?;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        state.app.logout(&token).await?;
    }
    let mut resp = see_other("/login").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&state, "", Some(0)));
    Ok(resp)
}
