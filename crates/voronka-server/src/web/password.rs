//! Passwords: one's own account page with its password change, and the pages that set a
//! forgotten password through a link sent by email.

use super::fmt::When;
use super::{
    asset_version, query_value, render, render_status, see_other, t, Layout, PageResult, PostForm,
    WebError,
};
use crate::extract::{cookie, WebUser, SESSION_COOKIE};
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use voronka_app::{AppError, Message, MIN_PASSWORD, RESET_LINK_MS};

/// The second copy of a new password must match the first.
fn same_twice(form: &PostForm) -> Result<(), AppError> {
    if form.get("password") != form.get("password2") {
        return Err(AppError::invalid(
            "password2",
            Message::new("passwords_differ"),
        ));
    }
    Ok(())
}

/// One of the person's sessions on their page.
pub(crate) struct SessionView {
    pub id: String,
    pub browser: String,
    pub signed_in: When,
    pub seen: Option<When>,
    pub current: bool,
}

/// The two-step sign-in part of one's account page.
pub(crate) struct TwoStepView {
    pub on: bool,
    /// Being set up: the key to type and the QR code (SVG) of its address.
    pub setup: Option<(String, String)>,
    pub codes_left: i64,
    /// Recovery codes made just now, shown this once.
    pub new_codes: Vec<String>,
}

#[derive(Template)]
#[template(path = "me.html")]
struct MePage {
    layout: Layout,
    name: String,
    email: String,
    min: usize,
    sessions: Vec<SessionView>,
    two_step: TwoStepView,
}

/// An `otpauth://` address as a QR code an authenticator app scans.
fn qr_svg(uri: &str) -> String {
    match qrcode::QrCode::new(uri.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

async fn me_page(
    state: &AppState,
    user: &WebUser,
    headers: &HeaderMap,
) -> Result<MePage, WebError> {
    let current = cookie(headers, SESSION_COOKIE);
    let now = super::now();
    let sessions = state
        .app
        .my_sessions(&user.actor(), current.as_deref())
        .await?
        .into_iter()
        .map(|s| SessionView {
            id: s.id,
            browser: s.user_agent.unwrap_or_default(),
            signed_in: When::new(s.created_at, now),
            seen: s.last_seen_at.map(|at| When::new(at, now)),
            current: s.current,
        })
        .collect();
    let status = state.app.two_step_status(&user.actor()).await?;
    Ok(MePage {
        layout: Layout::new(user, "me", t::ME_TITLE),
        name: user.user.name.clone(),
        email: user.user.email.clone(),
        min: MIN_PASSWORD,
        sessions,
        two_step: TwoStepView {
            on: status.on,
            setup: status.setup.map(|s| {
                let qr = qr_svg(&s.uri);
                (s.secret, qr)
            }),
            codes_left: status.recovery_codes_left,
            new_codes: Vec::new(),
        },
    })
}

/// One's account page again, after a two-step form: with what it refused, or the new recovery
/// codes.
async fn me_after(
    state: &AppState,
    user: &WebUser,
    headers: &HeaderMap,
    res: Result<Vec<String>, AppError>,
) -> PageResult {
    match res {
        Ok(codes) => {
            let mut p = me_page(state, user, headers).await?;
            p.two_step.new_codes = codes;
            p.layout = p.layout.at("/me");
            Ok(render(&p))
        }
        Err(e) => {
            let (status, message) = super::refusal_on_page(WebError::App(e))?;
            let mut p = me_page(state, user, headers).await?;
            p.layout = p.layout.with_error(Some(message)).at("/me");
            Ok(render_status(status, &p))
        }
    }
}

/// Starts setting up two-step sign-in: the page then shows the key and its QR code.
pub(crate) async fn two_step_start(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    match state.app.start_two_step(&user.actor()).await {
        Ok(_) => Ok(see_other("/me#two-step")),
        Err(e) => me_after(&state, &user, &headers, Err(e)).await,
    }
}

/// Turns two-step sign-in on with a code of the app; shows the recovery codes once.
pub(crate) async fn two_step_confirm(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = state
        .app
        .confirm_two_step(&user.actor(), &form.text("code"), voronka_app::now_ms())
        .await;
    me_after(&state, &user, &headers, res).await
}

/// New recovery codes (the password asked); shown once.
pub(crate) async fn two_step_codes(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = state
        .app
        .renew_recovery_codes(&user.actor(), form.get("current_password").unwrap_or(""))
        .await;
    me_after(&state, &user, &headers, res).await
}

/// Turns one's two-step sign-in off (the password asked).
pub(crate) async fn two_step_off(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = state
        .app
        .turn_off_own_two_step(&user.actor(), form.get("current_password").unwrap_or(""))
        .await;
    match res {
        Ok(()) => Ok(see_other("/me?done=two_step_off")),
        Err(e) => me_after(&state, &user, &headers, Err(e)).await,
    }
}

pub(crate) async fn me(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let mut p = me_page(&state, &user, &headers).await?;
    let done = query_value(raw.as_deref(), "done");
    p.layout = p.layout.with_flash(done.as_deref());
    Ok(render(&p))
}

/// Ends one of the person's sessions; ending the one in use signs out.
pub(crate) async fn end_session(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    let current = cookie(&headers, SESSION_COOKIE);
    let signed_out = state
        .app
        .end_my_session(&user.actor(), &id, current.as_deref())
        .await?;
    Ok(see_other(if signed_out {
        "/login"
    } else {
        "/me?done=session_ended"
    }))
}

/// Ends every session of the person but the one in use.
pub(crate) async fn end_other_sessions(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    let current = cookie(&headers, SESSION_COOKIE).unwrap_or_default();
    state
        .app
        .end_my_other_sessions(&user.actor(), &current)
        .await?;
    Ok(see_other("/me?done=sessions_ended"))
}

/// Changes one's own password; the session in use stays, the others end.
pub(crate) async fn change(
    State(state): State<AppState>,
    user: WebUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let session = cookie(&headers, SESSION_COOKIE);
    let res = match same_twice(&form) {
        Ok(()) => {
            state
                .app
                .change_own_password(
                    &user.actor(),
                    form.get("current_password").unwrap_or(""),
                    form.get("password").unwrap_or(""),
                    session.as_deref(),
                )
                .await
        }
        Err(e) => Err(e),
    };
    match res {
        Ok(()) => Ok(see_other("/me?done=password")),
        Err(e) => {
            let (status, message) = super::refusal_on_page(WebError::App(e))?;
            let mut p = me_page(&state, &user, &headers).await?;
            p.layout = p.layout.with_error(Some(message)).at("/me");
            Ok(render_status(status, &p))
        }
    }
}

#[derive(Template)]
#[template(path = "password_forgot.html")]
struct ForgotPage {
    asset_v: &'static str,
    email: String,
    error: Option<String>,
    /// What was answered to a request: the same whether anyone signs in with that email.
    sent: Option<String>,
    no_email: bool,
}

fn forgot_page(email: String) -> ForgotPage {
    ForgotPage {
        asset_v: asset_version(),
        email,
        error: None,
        sent: None,
        no_email: false,
    }
}

pub(crate) async fn forgot_form() -> PageResult {
    Ok(render(&forgot_page(String::new())))
}

/// Sends a link when someone signs in with the email; answers alike either way.
pub(crate) async fn forgot(State(state): State<AppState>, body: Bytes) -> PageResult {
    let form = PostForm::parse(&body)?;
    let email = form.text("email");
    let mut p = forgot_page(email.clone());
    if email.trim().is_empty() {
        p.error = Some(Message::new("user_email_invalid").to_string());
        return Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &p));
    }
    if state
        .app
        .request_password_reset(&email, &state.config.public_url)
        .await?
    {
        p.sent = Some(t::fill1(t::RESET_SENT_N, RESET_LINK_MS / 60_000));
    } else {
        p.no_email = true;
    }
    Ok(render(&p))
}

#[derive(Template)]
#[template(path = "password_reset.html")]
struct ResetPage {
    asset_v: &'static str,
    token: String,
    works: bool,
    min: usize,
    error: Option<String>,
}

/// A link's token: hex as made; anything else is no link at all.
fn token_of(raw: &str) -> Option<&str> {
    (!raw.is_empty() && raw.len() <= 128 && raw.bytes().all(|b| b.is_ascii_hexdigit()))
        .then_some(raw)
}

pub(crate) async fn reset_form(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> PageResult {
    let works = match token_of(&raw) {
        Some(token) => state.app.password_link_works(token).await?,
        None => false,
    };
    let page = ResetPage {
        asset_v: asset_version(),
        token: if works { raw } else { String::new() },
        works,
        min: MIN_PASSWORD,
        error: None,
    };
    let status = if works {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    Ok(render_status(status, &page))
}

/// Sets the new password through the link, then sends the person to sign in with it.
pub(crate) async fn reset(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = PostForm::parse(&body)?;
    let res = match (token_of(&raw), same_twice(&form)) {
        (None, _) => Err(AppError::NotFound(Message::new("reset_link_invalid"))),
        (Some(_), Err(e)) => Err(e),
        (Some(token), Ok(())) => state
            .app
            .reset_password(token, form.get("password").unwrap_or(""))
            .await
            .map(|_| ()),
    };
    let mut page = ResetPage {
        asset_v: asset_version(),
        token: raw,
        works: true,
        min: MIN_PASSWORD,
        error: None,
    };
    match res {
        Ok(()) => Ok(see_other("/login?done=password_reset")),
        Err(AppError::NotFound(_)) => {
            page.works = false;
            page.token.clear();
            Ok(render_status(StatusCode::NOT_FOUND, &page))
        }
        Err(e @ AppError::Invalid { .. }) => {
            page.error = Some(e.to_string());
            Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
        }
        Err(e) => Err(e.into()),
    }
}
