//! Administration: users, API tokens, the audit log and the instance's status. The use cases
//! enforce "admins only".

use super::fmt::{self, When};
use super::{
    link, now, query_value, render, render_status, role_options, see_other, t, Choice, IdPath,
    Layout, PageResult, PostForm, WebError,
};
use crate::error::classify;
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use voronka_app::{AppError, Message};
use voronka_core::{Id, Role, Scope, ScopeSet};
use voronka_store::AuditQuery;

/// Shows a failed admin change on its page again; 5xx and 403 become the error page.
fn recoverable(e: &AppError) -> bool {
    let (status, _) = classify(e);
    status.is_client_error()
        && status != axum::http::StatusCode::FORBIDDEN
        && status != axum::http::StatusCode::NOT_FOUND
}

// ---------------------------------------------------------------------------------------------
// Users

pub(crate) struct UserView {
    pub id: Id,
    pub name: String,
    pub email: String,
    pub role_label: &'static str,
    pub roles: Vec<Choice>,
    pub active: bool,
    pub is_me: bool,
    pub created: When,
    /// Two-step sign-in is on.
    pub two_step: bool,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserView>,
    roles: Vec<Choice>,
    email: String,
    name: String,
    min_password: usize,
    /// Whose sign-in must have two steps, the rule in force selected.
    two_step_policy: Vec<Choice>,
}

async fn users_page(state: &AppState, user: &WebUser) -> Result<UsersPage, WebError> {
    let list = state.app.list_users(&user.actor()).await?;
    let two_step = state.app.two_step_users(&user.actor()).await?;
    let policy = state.app.two_step_policy().await?;
    let now = now();
    Ok(UsersPage {
        layout: Layout::new(user, "admin", t::USERS),
        users: list
            .iter()
            .map(|u| UserView {
                id: u.id,
                name: u.name.clone(),
                email: u.email.clone(),
                role_label: t::role_label(u.role),
                roles: role_options(u.role),
                active: u.active,
                is_me: u.id == user.user.id,
                created: When::new(u.created_at, now),
                two_step: two_step.contains(&u.id),
            })
            .collect(),
        roles: role_options(Role::Salesperson),
        email: String::new(),
        name: String::new(),
        min_password: voronka_app::MIN_PASSWORD,
        two_step_policy: voronka_app::TwoStepPolicy::ALL
            .iter()
            .map(|p| Choice::new(p.as_str(), t::two_step_policy_label(*p), *p == policy))
            .collect(),
    })
}

pub(crate) async fn users(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let mut p = users_page(&state, &user).await?;
    let done = query_value(raw.as_deref(), "done");
    p.layout = p.layout.with_flash(done.as_deref());
    Ok(render(&p))
}

pub(crate) async fn add_user(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = match Role::parse(&form.text("role")) {
        Some(role) => state
            .app
            .admin_add_user(
                &user.actor(),
                &form.text("email"),
                &form.text("name"),
                form.get("password").unwrap_or(""),
                role,
            )
            .await
            .map(|_| ()),
        None => Err(AppError::invalid("role", Message::new("role_choose"))),
    };
    match res {
        Ok(()) => Ok(see_other("/admin/users?done=user")),
        Err(e) if recoverable(&e) => {
            let (status, _) = classify(&e);
            let mut p = users_page(&state, &user).await?;
            p.layout = p.layout.with_error(Some(e.to_string()));
            p.email = form.text("email");
            p.name = form.text("name");
            if let Some(r) = Role::parse(&form.text("role")) {
                p.roles = role_options(r);
            }
            Ok(render_status(status, &p))
        }
        Err(e) => Err(e.into()),
    }
}

/// After a change on the users page: back to it with `done`, or the refusal shown on it.
async fn after_user_change(
    state: &AppState,
    user: &WebUser,
    res: Result<(), AppError>,
    done: &str,
) -> PageResult {
    match res {
        Ok(()) => Ok(see_other(&format!("/admin/users?done={done}"))),
        Err(e) if recoverable(&e) => {
            let (status, _) = classify(&e);
            let mut p = users_page(state, user).await?;
            p.layout = p.layout.with_error(Some(e.to_string()));
            Ok(render_status(status, &p))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn update_user(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = match Role::parse(&form.text("role")) {
        Some(role) => {
            state
                .app
                .admin_update_user(&user.actor(), id, role, form.get("active").is_some())
                .await
        }
        None => Err(AppError::invalid("role", Message::new("role_choose"))),
    };
    after_user_change(&state, &user, res, "user").await
}

/// Sets a person's password; their sessions end (but the one in use when it is one's own).
pub(crate) async fn set_password(
    State(state): State<AppState>,
    user: WebUser,
    headers: axum::http::HeaderMap,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let session = crate::extract::cookie(&headers, crate::extract::SESSION_COOKIE);
    let res = state
        .app
        .admin_set_password(
            &user.actor(),
            id,
            form.get("password").unwrap_or(""),
            session.as_deref(),
        )
        .await;
    after_user_change(&state, &user, res, "password_set").await
}

/// Sets whose sign-in must have two steps.
pub(crate) async fn two_step_policy(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = match voronka_app::TwoStepPolicy::parse(&form.text("policy")) {
        Some(p) => state.app.set_two_step_policy(&user.actor(), p).await,
        None => Err(AppError::invalid(
            "policy",
            Message::new("two_step_policy_unknown"),
        )),
    };
    after_user_change(&state, &user, res, "two_step_policy").await
}

/// Turns a person's two-step sign-in off: for someone who lost their phone and their codes.
pub(crate) async fn reset_two_step(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    let res = state.app.reset_two_step(&user.actor(), id).await;
    after_user_change(&state, &user, res, "two_step_reset").await
}

// ---------------------------------------------------------------------------------------------
// Tokens

pub(crate) struct TokenView {
    pub id: Id,
    pub name: String,
    pub scopes: String,
    pub created: When,
    pub last_used: Option<When>,
    pub expires: Option<When>,
    pub revoked: Option<When>,
}

pub(crate) struct ScopeBox {
    pub value: &'static str,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenView>,
    scopes: Vec<ScopeBox>,
    name: String,
    secret: Option<String>,
    secret_name: String,
}

async fn tokens_page(state: &AppState, user: &WebUser) -> Result<TokensPage, WebError> {
    let list = state.app.list_tokens(&user.actor()).await?;
    let now = now();
    Ok(TokensPage {
        layout: Layout::new(user, "admin", "API tokens"),
        tokens: list
            .iter()
            .map(|tk| TokenView {
                id: tk.id,
                name: tk.name.clone(),
                scopes: tk.scopes.to_text(),
                created: When::new(tk.created_at, now),
                last_used: tk.last_used_at.map(|m| When::new(m, now)),
                expires: tk.expires_at.map(|m| When::new(m, now)),
                revoked: tk.revoked_at.map(|m| When::new(m, now)),
            })
            .collect(),
        scopes: Scope::ALL
            .iter()
            .map(|s| ScopeBox {
                value: s.as_str(),
                checked: *s == Scope::LeadsRead,
            })
            .collect(),
        name: String::new(),
        secret: None,
        secret_name: String::new(),
    })
}

pub(crate) async fn tokens(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let mut p = tokens_page(&state, &user).await?;
    let done = query_value(raw.as_deref(), "done");
    p.layout = p.layout.with_flash(done.as_deref());
    Ok(render(&p))
}

pub(crate) async fn create_token(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let scopes: Vec<Scope> = form
        .all("scope")
        .into_iter()
        .filter_map(Scope::parse)
        .collect();
    let name = form.text("name");
    match state
        .app
        .admin_create_token(
            &user.actor(),
            &name,
            ScopeSet::new(scopes.clone()),
            None,
            None,
        )
        .await
    {
        // The secret is shown on this answer only; it is not stored in clear anywhere.
        Ok((_, secret)) => {
            let mut p = tokens_page(&state, &user).await?;
            p.secret = Some(secret);
            p.secret_name = name.trim().to_string();
            Ok(render(&p))
        }
        Err(e) if recoverable(&e) => {
            let (status, _) = classify(&e);
            let mut p = tokens_page(&state, &user).await?;
            p.layout = p.layout.with_error(Some(e.to_string()));
            p.name = name;
            for b in &mut p.scopes {
                b.checked = scopes.iter().any(|s| s.as_str() == b.value);
            }
            Ok(render_status(status, &p))
        }
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn revoke_token(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    state.app.revoke_token(&user.actor(), id).await?;
    Ok(see_other("/admin/tokens?done=revoked"))
}

// ---------------------------------------------------------------------------------------------
// Audit

pub(crate) struct AuditView {
    pub who: String,
    pub action: String,
    pub entity: String,
    pub link: Option<String>,
    pub after: String,
    pub when: When,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    entries: Vec<AuditView>,
    /// The filters' choices: people, kinds of record, actions (each with the one chosen).
    people: Vec<Choice>,
    kinds: Vec<Choice>,
    actions: Vec<Choice>,
    from: String,
    to: String,
    /// The same entries as a CSV file.
    csv: String,
    /// Some filter is set.
    filtered: bool,
    /// The next page, of older entries, when this one is full.
    older: Option<String>,
    /// Back to the newest entries, from an older page.
    newest: Option<&'static str>,
}

fn summary(s: &str) -> String {
    // A sentence the system keeps as a code and values (what an SLA step did) reads as its text.
    let worded = voronka_core::Notice::from_json(s)
        .and_then(|n| voronka_core::notice_text(&n.code, &n.args));
    let s = super::fmt::visible_controls(worded.as_deref().unwrap_or(s));
    if s.chars().count() > 160 {
        let cut: String = s.chars().take(160).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// Entries on a page of the audit log.
const AUDIT_PAGE: i64 = 100;

/// What an entry changed, read from its before and after: each field that differs as
/// "field: old → new" (the update time left out); a single document (a notice, a setting)
/// is shown as itself.
fn changes(before: Option<&str>, after: Option<&str>) -> String {
    let object = |s: Option<&str>| {
        matches!(
            s.map(serde_json::from_str::<serde_json::Value>),
            Some(Ok(serde_json::Value::Object(_)))
        )
    };
    if !(object(before) && object(after)) {
        return summary(after.unwrap_or_default());
    }
    let parts: Vec<String> = voronka_app::fields_changed(before, after)
        .iter()
        .map(|c| {
            format!(
                "{}: {} → {}",
                t::change_field_label(&c.field),
                c.from.as_deref().unwrap_or("—"),
                c.to.as_deref().unwrap_or("—")
            )
        })
        .collect();
    summary(&parts.join("; "))
}

/// The audit log's filters as read from a page's address.
struct AuditFilter {
    q: AuditQuery,
    /// The filters as given, for links (the pages, the CSV) and the form.
    pairs: Vec<(String, String)>,
}

fn audit_filter(raw: Option<&str>) -> AuditFilter {
    let get = |name: &str| query_value(raw, name).map(|v| v.trim().to_string());
    let mut pairs = Vec::new();
    let mut keep = |name: &str, v: &Option<String>| {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            pairs.push((name.to_string(), v.to_string()));
        }
    };
    let actor = get("actor");
    let kind = get("kind");
    let action = get("action");
    let from = get("from");
    let to = get("to");
    keep("actor", &actor);
    keep("kind", &kind);
    keep("action", &action);
    keep("from", &from);
    keep("to", &to);
    let q = AuditQuery {
        actor_id: actor.and_then(|v| v.parse().ok()),
        entity: kind.filter(|k| AUDIT_KINDS.contains(&k.as_str())),
        action: action.filter(|a| !a.is_empty()),
        from: from.as_deref().and_then(fmt::parse_ymd),
        // The day given is included.
        to: to
            .as_deref()
            .and_then(fmt::parse_ymd)
            .map(|t| t + 86_400_000),
        before: get("before").and_then(|v| v.parse().ok()),
        limit: AUDIT_PAGE,
    };
    AuditFilter { q, pairs }
}

/// The kinds of record the audit log names.
const AUDIT_KINDS: &[&str] = &[
    "lead", "contact", "account", "customer", "deal", "user", "token", "form", "tag", "spend",
    "settings",
];

pub(crate) async fn audit(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let f = audit_filter(raw.as_deref());
    let list = state.app.search_audit(&user.actor(), &f.q).await?;
    let people = state.app.list_users(&user.actor()).await?;
    let now = now();
    let older = (list.len() as i64 == AUDIT_PAGE)
        .then(|| {
            list.last().map(|a| {
                let mut p = f.pairs.clone();
                p.push(("before".to_string(), a.id.to_string()));
                link("/admin/audit", &p)
            })
        })
        .flatten();
    let chosen = |name: &str| {
        f.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (actor, kind, action) = (chosen("actor"), chosen("kind"), chosen("action"));
    let any = |label: &'static str| Choice::new("", label, false);
    let mut people_choices = vec![any(t::AUDIT_ANYONE)];
    people_choices.extend(
        people
            .iter()
            .map(|u| Choice::new(u.id.to_string(), u.name.clone(), actor == u.id.to_string())),
    );
    let mut kinds = vec![any(t::AUDIT_ANY_KIND)];
    kinds.extend(
        AUDIT_KINDS
            .iter()
            .map(|k| Choice::new(*k, t::audit_kind_label(k), kind == *k)),
    );
    let mut actions = vec![any(t::AUDIT_ANY_ACTION)];
    actions.extend(
        t::AUDIT_ACTIONS
            .iter()
            .map(|(a, label)| Choice::new(*a, *label, action == *a)),
    );
    Ok(render(&AuditPage {
        layout: Layout::new(&user, "admin", t::AUDIT_LOG),
        older,
        newest: f.q.before.is_some().then_some("/admin/audit"),
        people: people_choices,
        kinds,
        actions,
        from: chosen("from"),
        to: chosen("to"),
        csv: link("/admin/audit.csv", &f.pairs),
        filtered: !f.pairs.is_empty(),
        entries: list
            .iter()
            .map(|a| AuditView {
                who: t::system_actor(&a.actor)
                    .map(str::to_string)
                    .unwrap_or_else(|| a.actor.clone()),
                action: t::audit_action_label(&a.action),
                entity: match a.entity_id {
                    Some(id) => format!("{} #{id}", a.entity),
                    None => a.entity.clone(),
                },
                link: a.entity_id.and_then(|id| match a.entity.as_str() {
                    "lead" => Some(format!("/leads/{id}")),
                    "customer" => Some(format!("/customers/{id}")),
                    "deal" => Some(format!("/deals/{id}")),
                    "contact" => Some(format!("/contacts/{id}")),
                    _ => None,
                }),
                after: changes(a.before.as_deref(), a.after.as_deref()),
                when: When::new(a.at, now),
            })
            .collect(),
    }))
}

/// The audit log's entries of the page's filters as a CSV file (all pages, newest first).
pub(crate) async fn audit_csv(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let mut f = audit_filter(raw.as_deref());
    f.q.before = None;
    let body = state.app.audit_csv(&user.actor(), &f.q).await?;
    Ok(crate::export::csv_download("audit.csv", body))
}

// ---------------------------------------------------------------------------------------------
// Status

#[derive(Template)]
#[template(path = "status.html")]
struct StatusPage {
    layout: Layout,
    /// Why the database did not answer the health check, if it did not.
    unhealthy: Option<String>,
    /// What is stored and what waits; not asked for when the database does not answer.
    figures: Option<StatusView>,
    /// Where Prometheus scrapes this instance's metrics.
    metrics_url: String,
}

struct StatusView {
    version: &'static str,
    backend: &'static str,
    leads: i64,
    jobs_pending: i64,
    rescore_leads: i64,
    /// When the longest-waiting lead of the rescoring queue was queued.
    rescore_oldest: Option<When>,
    search_backlog: i64,
    intake: voronka_app::IntakeCounts,
}

/// What an administrator asks of the running instance: the health check a load balancer sees,
/// what is stored and what waits (the page of `GET /api/v1/status`).
pub(crate) async fn status(State(state): State<AppState>, user: WebUser) -> PageResult {
    let actor = user.actor();
    actor.require_admin()?;
    // The health check first: when the database does not answer, the page says so at once
    // instead of waiting for the figures' queries.
    let unhealthy = state.app.health().await.err().map(|e| e.to_string());
    let figures = match unhealthy {
        Some(_) => None,
        None => {
            let s = state.app.status(&actor).await?;
            Some(StatusView {
                version: s.version,
                backend: state.app.store().backend().display_name(),
                leads: s.leads,
                jobs_pending: s.jobs_pending,
                rescore_leads: s.rescore_queue.leads,
                rescore_oldest: s
                    .rescore_queue
                    .oldest_queued_at
                    .map(|at| When::new(at, now())),
                search_backlog: s.search_backlog,
                intake: s.intake,
            })
        }
    };
    Ok(render(&StatusPage {
        layout: Layout::new(&user, "admin", t::STATUS_TITLE),
        unhealthy,
        figures,
        metrics_url: format!("{}/metrics", state.config.public_url.trim_end_matches('/')),
    }))
}

// ---------------------------------------------------------------------------------------------
// Pseudo-lead rules

pub(crate) struct RuleView {
    pub code: &'static str,
    pub description: &'static str,
    pub actions: Vec<Choice>,
}

#[derive(Template)]
#[template(path = "scrub.html")]
struct ScrubPage {
    layout: Layout,
    rules: Vec<RuleView>,
    lists: Vec<(&'static str, &'static str, String)>,
    numbers: Vec<(&'static str, &'static str, u32)>,
    toml: String,
}

const ACTIONS: &[voronka_core::intake::Action] = &[
    voronka_core::intake::Action::Off,
    voronka_core::intake::Action::Flag,
    voronka_core::intake::Action::Junk,
    voronka_core::intake::Action::Reject,
];

fn scrub_page(user: &WebUser, r: &voronka_core::intake::ScrubRules) -> ScrubPage {
    let lines = |v: &[String]| v.join("\n");
    ScrubPage {
        layout: Layout::new(user, "admin", t::SCRUB_TITLE),
        rules: voronka_core::intake::scrub::CATALOG
            .iter()
            .map(|info| RuleView {
                code: info.code,
                description: info.description,
                actions: ACTIONS
                    .iter()
                    .map(|a| {
                        Choice::new(a.as_str(), t::action_label(*a), r.action(info.code) == *a)
                    })
                    .collect(),
            })
            .collect(),
        lists: vec![
            ("test_names", t::SCRUB_TEST_NAMES, lines(&r.test_names)),
            ("joke_names", t::SCRUB_JOKE_NAMES, lines(&r.joke_names)),
            (
                "test_email_locals",
                t::SCRUB_TEST_LOCALS,
                lines(&r.test_email_locals),
            ),
            (
                "test_email_domains",
                t::SCRUB_TEST_DOMAINS,
                lines(&r.test_email_domains),
            ),
            (
                "disposable_domains",
                t::SCRUB_DISPOSABLE,
                lines(&r.disposable_domains),
            ),
            (
                "allowed_domains",
                t::SCRUB_ALLOWED,
                lines(&r.allowed_domains),
            ),
            (
                "competitor_domains",
                t::SCRUB_COMPETITORS,
                lines(&r.competitor_domains),
            ),
            (
                "stop_phrases",
                t::SCRUB_STOP_PHRASES,
                lines(&r.stop_phrases),
            ),
            (
                "burst_exempt_ips",
                t::SCRUB_EXEMPT_IPS,
                lines(&r.burst_exempt_ips),
            ),
        ],
        numbers: vec![
            ("burst_window_secs", t::SCRUB_WINDOW, r.burst_window_secs),
            ("burst_max_per_ip", t::SCRUB_MAX_IP, r.burst_max_per_ip),
            (
                "burst_max_per_visitor",
                t::SCRUB_MAX_VISITOR,
                r.burst_max_per_visitor,
            ),
            (
                "identical_max_clients",
                t::SCRUB_MAX_IDENTICAL,
                r.identical_max_clients,
            ),
            ("min_phone_digits", t::SCRUB_MIN_DIGITS, r.min_phone_digits),
        ],
        toml: voronka_app::App::scrub_rules_toml(r).unwrap_or_default(),
    }
}

pub(crate) async fn scrub(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    user.actor().require_admin()?;
    let rules = state.app.scrub_rules().await?;
    let done = query_value(raw.as_deref(), "done");
    let mut p = scrub_page(&user, &rules);
    p.layout = p.layout.with_flash(done.as_deref());
    Ok(render(&p))
}

/// Reads the rules page (or, when the TOML box was submitted, the TOML file) into rules.
fn rules_from_form(
    form: &PostForm,
    current: &voronka_core::intake::ScrubRules,
) -> Result<voronka_core::intake::ScrubRules, AppError> {
    if form.get("mode") == Some("toml") {
        return voronka_app::App::parse_scrub_rules_toml(&form.text("toml"));
    }
    let mut r = current.clone();
    for info in voronka_core::intake::scrub::CATALOG {
        if let Some(v) = form.get(&format!("action_{}", info.code)) {
            let a = ACTIONS
                .iter()
                .find(|a| a.as_str() == v)
                .ok_or_else(|| AppError::invalid(info.code, Message::new("scrub_action_choose")))?;
            if *a == info.default_action {
                r.actions.remove(info.code);
            } else {
                r.actions.insert(info.code.to_string(), *a);
            }
        }
    }
    let list = |name: &str| -> Vec<String> {
        form.get(name)
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    };
    r.test_names = list("test_names");
    r.joke_names = list("joke_names");
    r.test_email_locals = list("test_email_locals");
    r.test_email_domains = list("test_email_domains");
    r.disposable_domains = list("disposable_domains");
    r.allowed_domains = list("allowed_domains");
    r.competitor_domains = list("competitor_domains");
    r.stop_phrases = list("stop_phrases");
    r.burst_exempt_ips = list("burst_exempt_ips");
    let number = |name: &str| -> Result<u32, AppError> {
        form.text(name)
            .trim()
            .parse::<u32>()
            .map_err(|_| AppError::invalid(name, Message::new("whole_number_invalid")))
    };
    r.burst_window_secs = number("burst_window_secs")?;
    r.burst_max_per_ip = number("burst_max_per_ip")?;
    r.burst_max_per_visitor = number("burst_max_per_visitor")?;
    r.identical_max_clients = number("identical_max_clients")?;
    r.min_phone_digits = number("min_phone_digits")?;
    Ok(r)
}

pub(crate) async fn save_scrub(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let current = state.app.scrub_rules().await?;
    let res = match rules_from_form(&form, &current) {
        Ok(r) => state.app.set_scrub_rules(&user.actor(), r).await,
        Err(e) => Err(e),
    };
    match res {
        Ok(()) => Ok(see_other("/admin/scrub?done=rules")),
        Err(e) if recoverable(&e) => {
            let (status, _) = classify(&e);
            let mut p = scrub_page(&user, &current);
            p.layout = p.layout.with_error(Some(e.to_string()));
            if form.get("mode") == Some("toml") {
                p.toml = form.text("toml");
            }
            Ok(render_status(status, &p))
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::WebUser;

    fn admin() -> WebUser {
        WebUser {
            user: voronka_core::User {
                id: 1,
                email: "anna@example.ru".into(),
                name: "Анна".into(),
                role: Role::Admin,
                team_id: None,
                active: true,
                created_at: 0,
            },
            csrf: "c".into(),
        }
    }

    #[test]
    fn an_audit_entry_kept_as_a_code_reads_as_its_text() {
        let step = voronka_core::Notice::new("sla_escalated")
            .with("lead", 7)
            .with("count", 1)
            .with("owner", "Ольга");
        assert_eq!(
            summary(&step.to_json()),
            "lead #7 escalated to 1 team lead(s); owner Ольга"
        );
        // Anything else is shown as stored: settings, and a code no catalog knows.
        let settings = r#"{"code":"x1","args":{"a":"b"}}"#;
        assert_eq!(summary(settings), settings);
        assert_eq!(summary(r#"{"weight":2}"#), r#"{"weight":2}"#);
    }

    #[test]
    fn a_database_that_does_not_answer_is_said_so_without_figures() {
        let page = StatusPage {
            layout: Layout::new(&admin(), "admin", t::STATUS_TITLE),
            unhealthy: Some("timed out <script>alert(1)</script>".into()),
            figures: None,
            metrics_url: "https://crm.example.ru/metrics".into(),
        }
        .render()
        .unwrap();
        assert!(page.contains("The database does not answer"), "{page}");
        assert!(
            page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{page}"
        );
        assert!(!page.contains("<script>alert(1)"), "{page}");
        assert!(!page.contains("Leads stored"), "{page}");
        assert!(!page.contains("The database answers"), "{page}");
    }
}
