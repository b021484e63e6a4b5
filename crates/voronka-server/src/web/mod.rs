//! The server-rendered web UI: thin handlers that parse, call `voronka_app`, and render askama pages.

mod admin;
mod auth;
mod builder;
mod duplicates;
mod fmt;
mod forms;
pub(crate) mod import;
mod leads;
pub(crate) use leads::inbox_query;
mod password;
mod people;
mod reports;
mod scoring;
mod speed;
mod survey;
mod t;
mod tags;

use crate::error::classify;
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use voronka_app::{AppError, Message};
use voronka_core::{Role, User};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/leads") }))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/login/code", post(auth::login_code))
        .route("/logout", post(auth::logout))
        .route(
            "/password/forgot",
            get(password::forgot_form).post(password::forgot),
        )
        .route(
            "/password/reset/{token}",
            get(password::reset_form).post(password::reset),
        )
        .route("/me", get(password::me))
        .route("/me/password", post(password::change))
        .route("/me/two-step/start", post(password::two_step_start))
        .route("/me/two-step/confirm", post(password::two_step_confirm))
        .route("/me/two-step/codes", post(password::two_step_codes))
        .route("/me/two-step/off", post(password::two_step_off))
        .route(
            "/me/sessions/end-others",
            post(password::end_other_sessions),
        )
        .route("/me/sessions/{id}/end", post(password::end_session))
        .route("/assets/{file}", get(asset))
        .route("/s/{token}", get(survey::page).post(survey::answer))
        .route("/leads", get(leads::inbox))
        .route(
            "/import",
            get(import::form)
                .post(import::start)
                .layer(axum::extract::DefaultBodyLimit::max(
                    import::MAX_UPLOAD_BYTES,
                )),
        )
        .route("/import/{id}", get(import::show))
        .route("/import/{id}/rejected.csv", get(import::rejected))
        .route("/leads/bulk", post(leads::bulk))
        .route("/leads/export", get(leads::export))
        .route("/leads/views", post(leads::save_view))
        .route("/leads/views/{id}/delete", post(leads::delete_view))
        .route("/leads/{id}", get(leads::card))
        .route("/leads/{id}/stage", post(leads::stage))
        .route("/leads/{id}/refuse", post(leads::refuse))
        .route("/leads/{id}/junk", post(leads::junk))
        .route("/leads/{id}/convert", post(leads::convert))
        .route("/leads/{id}/request", post(leads::request))
        .route("/leads/{id}/assign", post(leads::assign))
        .route("/leads/{id}/temperature", post(leads::temperature))
        .route("/leads/{id}/notes", post(leads::note))
        .route("/leads/{id}/tags", post(leads::tag))
        .route("/leads/{id}/tags/remove", post(leads::untag))
        .route("/tags", get(tags::page))
        .route("/tags/rename", post(tags::rename))
        .route("/tags/delete", post(tags::delete))
        .route(
            "/contacts/{id}",
            get(people::contact).post(people::edit_contact),
        )
        .route("/contacts/{id}/erase", post(people::erase_contact))
        .route(
            "/accounts/{id}",
            get(people::account).post(people::edit_account),
        )
        .route(
            "/accounts/{id}/changes/{change}/restore",
            post(people::restore_change),
        )
        .route("/customers", get(people::customers))
        .route("/accounts", get(people::accounts))
        .route("/customers/{id}", get(people::customer))
        .route("/customers/{id}/merge", post(people::merge_customer))
        .route(
            "/customer-merges/{id}/undo",
            post(people::undo_customer_merge),
        )
        .route("/deals/{id}", get(people::deal).post(people::edit_deal))
        .route(
            "/contacts/{id}/changes/{change}/restore",
            post(people::restore_change),
        )
        .route(
            "/deals/{id}/changes/{change}/restore",
            post(people::restore_change),
        )
        .route(
            "/leads/{id}/changes/{change}/restore",
            post(people::restore_change),
        )
        .route("/forms", get(forms::list).post(forms::create))
        .route("/forms/{id}", get(builder::edit).post(builder::save))
        .route(
            "/forms/{id}/quiz",
            get(builder::quiz).post(builder::save_quiz),
        )
        .route("/admin", get(|| async { Redirect::to("/admin/users") }))
        .route("/admin/users", get(admin::users).post(admin::add_user))
        .route("/admin/users/{id}", post(admin::update_user))
        .route(
            "/admin/users/{id}/two-step-off",
            post(admin::reset_two_step),
        )
        .route("/admin/users/{id}/password", post(admin::set_password))
        .route("/admin/users/two-step-policy", post(admin::two_step_policy))
        .route(
            "/admin/tokens",
            get(admin::tokens).post(admin::create_token),
        )
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/audit.csv", get(admin::audit_csv))
        .route("/admin/status", get(admin::status))
        .route("/admin/scrub", get(admin::scrub).post(admin::save_scrub))
        .route("/duplicates", get(duplicates::list))
        .route("/duplicates/{id}", get(duplicates::review))
        .route("/duplicates/{id}/merge", post(duplicates::merge))
        .route(
            "/duplicates/{id}/not-duplicate",
            post(duplicates::not_duplicate),
        )
        .route("/merges/{id}/undo", post(duplicates::undo))
        .route("/work", get(speed::work))
        .route("/work/leads/{id}/outcome", post(speed::log_outcome))
        .route("/work/tasks/{id}/done", post(speed::task_done))
        .route("/sla", get(speed::sla))
        .route("/reports", get(reports::channels))
        .route("/reports/channels.csv", get(reports::csv))
        .route("/reports/spend", post(reports::add_spend))
        .route(
            "/reports/spend/import",
            // A file of spend may be larger than other requests: a year of daily costs per
            // campaign runs to megabytes.
            post(reports::import_spend).layer(axum::extract::DefaultBodyLimit::max(
                voronka_app::MAX_SPEND_FILE + 64 * 1024,
            )),
        )
        .route("/reports/spend/{id}", post(reports::update_spend))
        .route("/reports/spend/{id}/delete", post(reports::delete_spend))
        .route("/kanban", get(speed::kanban))
        .route("/kanban/leads/{id}/stage", post(speed::kanban_move))
        .route(
            "/admin/routing",
            get(speed::routing).post(speed::save_routing),
        )
        .route("/scoring", get(scoring::matrix))
        .route("/scoring/model", post(scoring::train_model))
        .route(
            "/admin/scoring",
            get(scoring::rules).post(scoring::save_rules),
        )
}

// ---------------------------------------------------------------------------------------------
// Assets

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

fn content_type_of(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}

/// A short content hash of the embedded assets, appended to their URLs so that browsers may cache
/// them for long and still see a new version after an upgrade.
pub(crate) fn asset_version() -> &'static str {
    static V: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    V.get_or_init(|| {
        let mut all = String::new();
        for name in Assets::iter() {
            if let Some(f) = Assets::get(&name) {
                all.push_str(&hex::encode(f.metadata.sha256_hash()));
            }
        }
        voronka_app::sha256_hex(&all)[..10].to_string()
    })
}

async fn asset(Path(file): Path<String>) -> Response {
    match Assets::get(&file) {
        Some(f) => (
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type_of(&file)),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            f.data.into_owned(),
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, t::NO_SUCH_ASSET).into_response(),
    }
}

// ---------------------------------------------------------------------------------------------
// Layout and rendering

/// What the frame of every signed-in page needs.
pub(crate) struct Layout {
    pub title: String,
    pub user_name: String,
    pub role_label: &'static str,
    pub is_admin: bool,
    pub reads_leads: bool,
    /// Sales managers and administrators review duplicates.
    pub reviews_duplicates: bool,
    /// Sees the reports (everyone but salespeople).
    pub sees_reports: bool,
    pub t_duplicates: &'static str,
    pub csrf: String,
    pub section: &'static str,
    pub asset_v: &'static str,
    pub flash: Option<String>,
    pub error: Option<String>,
    /// Reload the page after this many seconds (a page showing work in progress).
    pub refresh: Option<u32>,
    /// The page's own address when it is shown in answer to a form sent elsewhere (a refused
    /// action): the browser's address bar is set back to it.
    pub canonical: Option<String>,
    /// May import leads from a CSV file.
    pub imports: bool,
    /// Forms, scoring rules and tracking sites (marketers and administrators).
    pub manages_forms: bool,
    pub t_leads: &'static str,
    pub t_customers: &'static str,
    pub t_forms: &'static str,
    pub t_admin: &'static str,
    pub t_logout: &'static str,
    pub t_work: &'static str,
    pub t_sla: &'static str,
    pub t_scoring: &'static str,
    pub app_name: &'static str,
}

impl Layout {
    pub fn new(u: &WebUser, section: &'static str, title: impl Into<String>) -> Layout {
        Layout {
            title: title.into(),
            user_name: u.user.name.clone(),
            role_label: t::role_label(u.user.role),
            is_admin: u.user.role.is_admin(),
            reads_leads: u.user.role.reads_leads(),
            reviews_duplicates: u.user.role.assigns_leads(),
            sees_reports: u.user.role != Role::Salesperson,
            t_duplicates: t::NAV_DUPLICATES,
            csrf: u.csrf.clone(),
            section,
            asset_v: asset_version(),
            flash: None,
            error: None,
            refresh: None,
            canonical: None,
            imports: u.user.role.assigns_leads(),
            manages_forms: u.user.role.manages_forms(),
            t_leads: t::NAV_LEADS,
            t_customers: t::NAV_CUSTOMERS,
            t_forms: t::NAV_FORMS,
            t_admin: t::NAV_ADMIN,
            t_logout: t::NAV_LOGOUT,
            t_work: t::NAV_WORK,
            t_sla: t::NAV_SLA,
            t_scoring: t::NAV_SCORING,
            app_name: t::APP_NAME,
        }
    }

    pub fn with_flash(mut self, done: Option<&str>) -> Layout {
        self.flash = done.and_then(t::flash).map(str::to_string);
        self
    }

    pub fn with_error(mut self, e: Option<String>) -> Layout {
        self.error = e;
        self
    }

    /// Shown in answer to a form posted to another address: `path` is the page's own.
    pub fn at(mut self, path: impl Into<String>) -> Layout {
        self.canonical = Some(path.into());
        self
    }
}

/// Security headers of every page: no framing, no foreign scripts or styles.
fn page_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// Renders a page with a status; a template failure is an opaque 500.
pub(crate) fn render_status<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => {
            let mut resp = (
                status,
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/html; charset=utf-8"),
                )],
                html,
            )
                .into_response();
            page_headers(&mut resp);
            resp
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, t::ERR_INTERNAL).into_response()
        }
    }
}

pub(crate) fn render<T: Template>(page: &T) -> Response {
    render_status(StatusCode::OK, page)
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    message: String,
    status: u16,
    signed_in: bool,
    app_name: &'static str,
    asset_v: &'static str,
}

/// An error of a page request, answered with a small HTML page.
#[derive(Debug)]
pub(crate) enum WebError {
    App(AppError),
    Csrf,
    BadRequest(String),
}

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError::App(e)
    }
}

impl WebError {
    /// Status and the message safe to show; internal details stay in the log.
    pub fn status_message(&self) -> (StatusCode, String) {
        match self {
            WebError::App(e) => {
                let (status, _) = classify(e);
                if let AppError::Stage(se) = e {
                    (status, t::stage_error(se))
                } else if status.is_server_error() {
                    tracing::error!(error = %e, "page failed");
                    (status, t::ERR_INTERNAL.to_string())
                } else {
                    (status, e.to_string())
                }
            }
            WebError::Csrf => (StatusCode::FORBIDDEN, t::ERR_CSRF.to_string()),
            WebError::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = self.status_message();
        let title = match status {
            StatusCode::FORBIDDEN => t::ERR_FORBIDDEN_TITLE,
            StatusCode::NOT_FOUND => t::ERR_NOT_FOUND_TITLE,
            _ => t::ERR_TITLE,
        };
        let message = if status == StatusCode::NOT_FOUND {
            format!("{} ({message})", t::ERR_NOT_FOUND)
        } else {
            message
        };
        render_status(
            status,
            &ErrorPage {
                title: title.to_string(),
                message,
                status: status.as_u16(),
                signed_in: !matches!(self, WebError::App(AppError::Unauthorized(_))),
                app_name: t::APP_NAME,
                asset_v: asset_version(),
            },
        )
    }
}

pub(crate) type PageResult = Result<Response, WebError>;

/// What an action's failure does: a refusal the person can mend (a client error other than
/// "not found" or a failed CSRF check) is shown on the page they acted from, as its status and
/// sentence; anything else stays the error page.
pub(crate) fn refusal_on_page(err: WebError) -> Result<(StatusCode, String), WebError> {
    match &err {
        WebError::App(e) => {
            let (status, _) = crate::error::classify(e);
            if !status.is_client_error() || status == StatusCode::NOT_FOUND {
                return Err(err);
            }
            Ok((status, err.status_message().1))
        }
        WebError::Csrf => Err(err),
        other => Ok(other.status_message()),
    }
}

/// An address no page has.
pub(crate) async fn not_found_page() -> WebError {
    WebError::App(AppError::NotFound(Message::new("page_not_found")))
}

/// A numeric id from the path; anything else is the "not found" page rather than a bare 400.
pub(crate) struct IdPath(pub voronka_core::Id);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for IdPath {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, WebError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::App(AppError::NotFound(Message::new("page_not_found"))))?;
        path_id(&raw).map(IdPath)
    }
}

/// A path's id; anything but a number is "not found".
fn path_id(raw: &str) -> Result<voronka_core::Id, WebError> {
    raw.trim().parse().map_err(|_| {
        WebError::App(AppError::NotFound(
            Message::new("not_an_id").with("given", raw),
        ))
    })
}

/// A record's id and one of its changes' ids from the path, read as [`IdPath`] reads one.
pub(crate) struct ChangePath {
    pub id: voronka_core::Id,
    pub change: voronka_core::Id,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ChangePath {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, WebError> {
        let Path((id, change)) = Path::<(String, String)>::from_request_parts(parts, state)
            .await
            .map_err(|_| WebError::App(AppError::NotFound(Message::new("page_not_found"))))?;
        Ok(ChangePath {
            id: path_id(&id)?,
            change: path_id(&change)?,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Form bodies

/// A urlencoded form body whose CSRF token has been checked.
pub(crate) struct PostForm {
    pairs: Vec<(String, String)>,
}

impl PostForm {
    /// Parses the body; the `csrf` field must equal the session's token.
    pub fn checked(body: &[u8], user: &WebUser) -> Result<PostForm, WebError> {
        let f = PostForm::parse(body)?;
        match f.get("csrf") {
            Some(c) if constant_time_eq(c.as_bytes(), user.csrf.as_bytes()) => Ok(f),
            _ => Err(WebError::Csrf),
        }
    }

    pub fn parse(body: &[u8]) -> Result<PostForm, WebError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
            .map_err(|_| WebError::BadRequest(t::ERR_BAD_FORM.into()))?;
        Ok(PostForm { pairs })
    }

    /// The first value of a field, as sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first value, trimmed, or nothing when empty.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_string()
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// What was typed into the form named `form`, to show it again when the action is refused.
    pub fn kept(&self, form: &'static str) -> Kept {
        Kept {
            form,
            pairs: self
                .pairs
                .iter()
                .filter(|(k, _)| k != "csrf")
                .cloned()
                .collect(),
        }
    }
}

/// The input of a refused form, shown again in that form so nothing typed is lost.
#[derive(Debug, Default)]
pub(crate) struct Kept {
    /// Which of the page's forms it came from; empty when none was refused.
    pub form: &'static str,
    pairs: Vec<(String, String)>,
}

impl Kept {
    /// The value typed into `name` of form `form`; empty for any other form.
    pub fn v(&self, form: &str, name: &str) -> &str {
        if self.form != form {
            return "";
        }
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Whether `value` was chosen in `name` of form `form`.
    pub fn chose(&self, form: &str, name: &str, value: &str) -> bool {
        self.form == form && self.pairs.iter().any(|(k, v)| k == name && v == value)
    }

    /// Whether this is the refused form (a folded section opens to show it).
    pub fn is(&self, form: &str) -> bool {
        self.form == form
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Query-string pairs, keeping repeated keys.
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.and_then(|q| serde_urlencoded::from_str(q).ok())
        .unwrap_or_default()
}

/// The origins typed into a form: one per line, or separated by commas or spaces (an origin holds
/// none of them).
pub(crate) fn origins_list(text: &str) -> Vec<String> {
    text.split([',', '\n', '\r', ' ', '\t'])
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(str::to_string)
        .collect()
}

/// A page's place in a list from a query or form value: 0 when absent, negative or not a number.
pub(crate) fn offset_of(value: Option<String>) -> i64 {
    value
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(0)
        .max(0)
}

/// The links to the pages before and after one that starts at `from` and holds `page` rows
/// (`more`: rows follow it); `at` makes the address of the page starting at an offset.
pub(crate) fn pager(
    from: i64,
    page: i64,
    more: bool,
    at: impl Fn(i64) -> String,
) -> (Option<String>, Option<String>) {
    (
        (from > 0).then(|| at((from - page).max(0))),
        more.then(|| at(from.saturating_add(page))),
    )
}

/// The first value of one query-string field, as sent.
pub(crate) fn query_value(raw: Option<&str>, name: &str) -> Option<String> {
    query_pairs(raw)
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// Builds `path?k=v&…` from pairs, skipping empty values.
pub(crate) fn link(path: &str, pairs: &[(String, String)]) -> String {
    let kept: Vec<&(String, String)> = pairs.iter().filter(|(_, v)| !v.is_empty()).collect();
    if kept.is_empty() {
        return path.to_string();
    }
    match serde_urlencoded::to_string(kept) {
        Ok(q) => format!("{path}?{q}"),
        Err(_) => path.to_string(),
    }
}

pub(crate) fn role_options(selected: Role) -> Vec<Choice> {
    Role::ALL
        .iter()
        .map(|r| Choice::new(r.as_str(), t::role_label(*r), *r == selected))
        .collect()
}

/// One `<option>` of a select.
#[derive(Debug, Clone)]
pub(crate) struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, selected: bool) -> Choice {
        Choice {
            value: value.into(),
            label: label.into(),
            selected,
        }
    }
}

pub(crate) fn user_label(u: &User) -> String {
    format!("{} ({})", u.name, t::role_label(u.role))
}

pub(crate) fn now() -> voronka_core::Millis {
    voronka_app::now_ms()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_by_line_comma_or_space() {
        assert_eq!(
            origins_list(
                "https://a.example\r\nhttps://b.example, https://c.example  https://d.example,\n"
            ),
            vec![
                "https://a.example",
                "https://b.example",
                "https://c.example",
                "https://d.example"
            ]
        );
        assert!(origins_list(" \n , ").is_empty());
    }

    #[test]
    fn page_offsets_and_their_neighbours() {
        assert_eq!(offset_of(Some(" 40 ".into())), 40);
        assert_eq!(offset_of(Some("-3".into())), 0);
        assert_eq!(offset_of(Some("x".into())), 0);
        assert_eq!(offset_of(None), 0);
        let at = |o: i64| format!("/p?from={o}");
        assert_eq!(pager(0, 50, true, at), (None, Some("/p?from=50".into())));
        assert_eq!(
            pager(30, 50, false, at),
            (Some("/p?from=0".into()), None),
            "a page before the first starts at 0"
        );
        assert_eq!(
            pager(i64::MAX, 50, true, at).1,
            Some(format!("/p?from={}", i64::MAX))
        );
    }

    #[test]
    fn one_query_value() {
        assert_eq!(
            query_value(Some("a=1&b=%D0%AF&b=2"), "b").as_deref(),
            Some("Я")
        );
        assert_eq!(query_value(Some("a=1"), "b"), None);
        assert_eq!(query_value(None, "a"), None);
    }
}
