//! Speed-to-lead pages: the salesperson's work queue ("what to do now"), the routing and SLA
//! settings (admin), and the SLA dashboard with team load (managers).

use super::fmt::{ago, datetime};
use super::{
    now, query_value, refusal_on_page, render, render_status, see_other, t, Choice, IdPath, Kept,
    Layout, PageResult, PostForm, WebError,
};
use crate::error::classify;
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use voronka_app::{ActivityInput, App, AppError, Message, SmtpSecurity, SmtpSettings};
use voronka_core::Millis;

pub(crate) struct QueueItem {
    pub lead_id: i64,
    pub name: String,
    pub product: String,
    pub temperature: String,
    pub temperature_label: &'static str,
    pub score: i64,
    pub due: String,
    pub overdue: bool,
    pub tel: Option<String>,
    pub phone: Option<String>,
    pub mailto: Option<String>,
    pub email: Option<String>,
}

pub(crate) struct TaskItem {
    pub id: i64,
    pub title: String,
    pub lead_id: Option<i64>,
    /// When it is due: in UTC, and as ISO 8601 for our script to show in the browser's zone.
    pub due: String,
    pub due_iso: String,
    pub overdue: bool,
}

#[derive(Template)]
#[template(path = "work.html")]
struct WorkPage {
    layout: Layout,
    leads: Vec<QueueItem>,
    tasks: Vec<TaskItem>,
    outcomes: Vec<(&'static str, &'static str)>,
    prev: Option<String>,
    next: Option<String>,
    /// Where this page starts in the queue (sent back with an outcome, to come back here).
    from: i64,
    /// The lead whose outcome was refused, and what was typed for it.
    kept_lead: Option<voronka_core::Id>,
    kept: Kept,
}

impl WorkPage {
    /// What was typed into `name` for lead `lead` when its outcome was refused.
    fn typed(&self, lead: &voronka_core::Id, name: &str) -> &str {
        match self.kept_lead {
            Some(k) if k == *lead => self.kept.v("outcome", name),
            _ => "",
        }
    }

    fn chose(&self, lead: &voronka_core::Id, name: &str, value: &str) -> bool {
        self.kept_lead == Some(*lead) && self.kept.chose("outcome", name, value)
    }
}

fn due_text(due: Option<Millis>, responded: bool, now: Millis) -> (String, bool) {
    match (due, responded) {
        (_, true) => (t::SLA_RESPONDED.to_string(), false),
        (Some(d), false) if d <= now => (format!("{} {}", t::SLA_OVERDUE, ago(d, now)), true),
        (Some(d), false) => (format!("{} {}", t::SLA_DUE, datetime(d)), false),
        (None, false) => (String::new(), false),
    }
}

/// Leads on one page of the work queue.
const WORK_PAGE: i64 = 100;

pub(crate) async fn work(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let done = query_value(raw.as_deref(), "done");
    let from = super::offset_of(query_value(raw.as_deref(), "from"));
    Ok(render(
        &work_page(&state, &user, done.as_deref(), from).await?,
    ))
}

/// The work queue from its `from`th lead, with the flash of what was just done.
async fn work_page(
    state: &AppState,
    user: &WebUser,
    done: Option<&str>,
    from: i64,
) -> Result<WorkPage, WebError> {
    let actor = user.actor();
    let n = now();
    let mut queue = state.app.work_queue(&actor, from, WORK_PAGE + 1).await?;
    let more = queue.len() as i64 > WORK_PAGE;
    queue.truncate(WORK_PAGE as usize);
    let (prev, next) = super::pager(from, WORK_PAGE, more, |at| format!("/work?from={at}"));
    let leads = queue
        .into_iter()
        .map(|l| {
            let (due, overdue) = due_text(l.sla_due_at, l.first_response_at.is_some(), n);
            QueueItem {
                lead_id: l.lead_id,
                name: l.name,
                product: l.product.unwrap_or_default(),
                temperature_label: voronka_core::Temperature::parse(&l.temperature)
                    .map(t::temperature_label)
                    .unwrap_or(""),
                temperature: l.temperature,
                score: l.score,
                due,
                overdue,
                tel: l
                    .phone
                    .as_ref()
                    .map(|p| format!("tel:{}", p.replace(' ', ""))),
                phone: l.phone,
                mailto: l.email.as_ref().map(|e| format!("mailto:{e}")),
                email: l.email,
            }
        })
        .collect();
    let tasks = state
        .app
        .tasks_of(&actor, user.user.id, true)
        .await?
        .into_iter()
        .map(|k| TaskItem {
            id: k.id,
            title: k.title,
            lead_id: k.lead_id,
            due: datetime(k.due_at),
            due_iso: super::fmt::iso(k.due_at),
            overdue: k.due_at < n,
        })
        .collect();
    Ok(WorkPage {
        layout: Layout::new(user, "work", t::WORK_TITLE).with_flash(done),
        leads,
        tasks,
        outcomes: t::OUTCOMES.to_vec(),
        prev,
        next,
        from,
        kept_lead: None,
        kept: Kept::default(),
    })
}

/// Logs a call, email or meeting with its outcome from the work queue.
pub(crate) async fn log_outcome(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let logged = log_outcome_form(&state, &user, id, &form).await;
    // Back to the page of the queue the outcome was sent from.
    let from = super::offset_of(form.opt("from"));
    match logged {
        Ok(()) if from > 0 => Ok(see_other(&format!("/work?done=activity&from={from}"))),
        Ok(()) => Ok(see_other("/work?done=activity")),
        // A choice the rules refuse: the queue again, saying why, not an error page.
        Err(e) => {
            let (status, message) = refusal_on_page(e)?;
            let mut page = work_page(&state, &user, None, from).await?;
            let own = if from > 0 {
                format!("/work?from={from}")
            } else {
                "/work".into()
            };
            page.layout = page.layout.with_error(Some(message)).at(own);
            page.kept_lead = Some(id);
            page.kept = form.kept("outcome");
            Ok(render_status(status, &page))
        }
    }
}

/// The time zone a person's wall-clock times are read in: the browser's (our script sends it with
/// the form), else the one of their routing profile, else UTC.
async fn person_zone(
    state: &AppState,
    user: &WebUser,
    form: &PostForm,
) -> voronka_core::routing::Tz {
    if let Some(tz) = form
        .opt("tz")
        .and_then(|z| voronka_core::routing::parse_tz(&z).ok())
    {
        return tz;
    }
    state
        .app
        .routing_profile(&user.actor(), user.user.id)
        .await
        .ok()
        .and_then(|p| voronka_core::routing::parse_tz(&p.timezone).ok())
        .unwrap_or(voronka_core::routing::Tz::UTC)
}

async fn log_outcome_form(
    state: &AppState,
    user: &WebUser,
    id: voronka_core::Id,
    form: &PostForm,
) -> Result<(), WebError> {
    let call_back_at = match form.opt("call_back_at") {
        Some(v) => Some(match crate::api::parse_moment("call_back_at", &v) {
            Ok(ms) => ms,
            // The browser's date and time field: the person's wall clock.
            Err(_) => {
                let zone = person_zone(state, user, form).await;
                chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
                    .ok()
                    .and_then(|at| voronka_core::routing::local_time_ms(at, zone))
                    .ok_or_else(|| {
                        AppError::invalid("call_back_at", Message::new("date_invalid"))
                    })?
            }
        }),
        None => None,
    };
    state
        .app
        .log_activity(
            &user.actor(),
            id,
            ActivityInput {
                kind: form.opt("kind").unwrap_or_else(|| "call".into()),
                outcome: form.opt("outcome"),
                note: form.opt("note"),
                call_back_at,
            },
        )
        .await?;
    Ok(())
}

pub(crate) async fn task_done(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    state.app.complete_task(&user.actor(), id).await?;
    Ok(see_other("/work?done=task"))
}

// ---------------------------------------------------------------------------------------------
// Routing and SLA settings

#[derive(Template)]
#[template(path = "routing.html")]
struct RoutingPage {
    layout: Layout,
    rules_toml: String,
    sla_toml: String,
    webhook: String,
    smtp: SmtpForm,
}

/// The email (SMTP) settings as the form shows them; the password is never shown.
struct SmtpForm {
    host: String,
    port: String,
    from: String,
    username: String,
    password_set: bool,
    security: Vec<Choice>,
}

impl SmtpForm {
    fn new(v: Option<voronka_app::SmtpView>) -> SmtpForm {
        let security = v.as_ref().map(|v| v.security).unwrap_or_default();
        SmtpForm {
            host: v.as_ref().map(|v| v.host.clone()).unwrap_or_default(),
            port: v
                .as_ref()
                .map(|v| v.port.to_string())
                .unwrap_or_else(|| "587".into()),
            from: v.as_ref().map(|v| v.from.clone()).unwrap_or_default(),
            username: v
                .as_ref()
                .and_then(|v| v.username.clone())
                .unwrap_or_default(),
            password_set: v.as_ref().is_some_and(|v| v.password_set),
            security: security_choices(security),
        }
    }
}

fn security_choices(selected: SmtpSecurity) -> Vec<Choice> {
    SmtpSecurity::ALL
        .iter()
        .map(|s| Choice::new(s.as_str(), s.as_str(), *s == selected))
        .collect()
}

/// The SMTP settings of a posted form; an empty host turns email off.
fn smtp_of(form: &PostForm) -> Result<Option<SmtpSettings>, AppError> {
    let host = form.text("host");
    if host.trim().is_empty() {
        return Ok(None);
    }
    let port = form
        .text("port")
        .trim()
        .parse::<u16>()
        .map_err(|_| AppError::invalid("port", Message::new("smtp_port_invalid")))?;
    Ok(Some(SmtpSettings {
        host,
        port,
        from: form.text("from"),
        username: form.opt("username"),
        password: form.get("password").map(str::to_string),
        security: SmtpSecurity::parse(&form.text("security"))?,
    }))
}

async fn routing_page(state: &AppState, user: &WebUser) -> Result<RoutingPage, AppError> {
    Ok(RoutingPage {
        layout: Layout::new(user, "admin", t::ROUTING_TITLE),
        rules_toml: state.app.routing_rules().await?.to_toml(),
        sla_toml: state.app.sla_settings().await?.to_toml(),
        webhook: state.app.notify_webhook().await?.unwrap_or_default(),
        smtp: SmtpForm::new(state.app.smtp_settings().await?),
    })
}

pub(crate) async fn routing(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    user.actor().require_admin()?;
    let done = query_value(raw.as_deref(), "done");
    let mut p = routing_page(&state, &user).await?;
    p.layout = p.layout.with_flash(done.as_deref());
    Ok(render(&p))
}

pub(crate) async fn save_routing(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let actor = user.actor();
    let res = match form.get("mode") {
        Some("sla") => match App::parse_sla_settings(&form.text("sla_toml"), true) {
            Ok(s) => state.app.set_sla_settings(&actor, s).await,
            Err(e) => Err(e),
        },
        Some("webhook") => {
            state
                .app
                .set_notify_webhook(&actor, &form.text("webhook"))
                .await
        }
        Some("smtp") => match smtp_of(&form) {
            Ok(s) => state.app.set_smtp_settings(&actor, s).await,
            Err(e) => Err(e),
        },
        _ => match App::parse_routing_rules(&form.text("rules_toml"), true) {
            Ok(r) => state.app.set_routing_rules(&actor, r).await,
            Err(e) => Err(e),
        },
    };
    match res {
        Ok(()) if form.get("mode") == Some("smtp") => Ok(see_other("/admin/routing?done=smtp")),
        Ok(()) => Ok(see_other("/admin/routing?done=rules")),
        Err(e @ AppError::Invalid { .. }) => {
            let (status, _) = classify(&e);
            let mut p = routing_page(&state, &user).await?;
            p.layout = p.layout.with_error(Some(e.to_string()));
            match form.get("mode") {
                Some("sla") => p.sla_toml = form.text("sla_toml"),
                Some("webhook") => p.webhook = form.text("webhook"),
                Some("smtp") => {
                    p.smtp.host = form.text("host");
                    p.smtp.port = form.text("port");
                    p.smtp.from = form.text("from");
                    p.smtp.username = form.text("username");
                    p.smtp.security = security_choices(
                        SmtpSecurity::parse(&form.text("security")).unwrap_or_default(),
                    );
                }
                _ => p.rules_toml = form.text("rules_toml"),
            }
            Ok(render_status(status, &p))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// SLA dashboard and team load

pub(crate) struct DueRow {
    pub lead_id: i64,
    /// The contact's name.
    pub name: String,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
}

pub(crate) struct StatRow {
    pub key: String,
    pub leads: usize,
    pub median: String,
    pub p90: String,
    pub hit: String,
}

#[derive(Template)]
#[template(path = "sla.html")]
struct SlaPage {
    layout: Layout,
    /// One page of the leads due now.
    due: Vec<DueRow>,
    /// How many are due now in all, and of those overdue.
    due_count: usize,
    overdue: usize,
    /// The rows' place among them (from 1), and the pages before and after.
    first_row: usize,
    prev: Option<String>,
    next: Option<String>,
    breached_today: usize,
    /// Per owner: (name, due now, late today).
    /// Name, due now, late today, and the inbox of that person's open leads.
    per_person: Vec<(String, usize, usize, String)>,
    load: Vec<voronka_store::LoadRow>,
    stats: Vec<StatRow>,
}

fn minutes(ms: Option<i64>) -> String {
    ms.map(super::fmt::span).unwrap_or_else(|| "—".into())
}

/// Rows of the SLA dashboard's "due now" table on one page.
const SLA_PAGE: usize = 50;

pub(crate) async fn sla(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let actor = user.actor();
    if !actor.role().assigns_leads() {
        return Err(AppError::Forbidden(Message::new("managers_only_page")).into());
    }
    let from = super::offset_of(query_value(raw.as_deref(), "from"));
    let n = now();
    let d = state.app.sla_dashboard(&actor).await?;
    let m = state.app.sla_metrics(&actor, n - 30 * 86_400_000).await?;
    let load = state.app.team_load(&actor).await?;
    let overall = voronka_app::SlaStat {
        key: t::EVERYONE.into(),
        ..m.overall
    };
    let stats = std::iter::once(overall)
        .chain(m.by_person)
        .map(|s| StatRow {
            key: s.key,
            leads: s.leads,
            median: minutes(s.median_ms),
            p90: minutes(s.p90_ms),
            hit: s
                .hit_rate
                .map(|h| format!("{:.0}%", h * 100.0))
                .unwrap_or_else(|| "—".into()),
        })
        .collect();
    let due_count = d.due_now.len();
    // A page past the end shows the last one.
    let from = from.min((due_count.saturating_sub(1) / SLA_PAGE * SLA_PAGE) as i64);
    let shown: Vec<_> = d
        .due_now
        .into_iter()
        .skip(from as usize)
        .take(SLA_PAGE)
        .collect();
    let (prev, next) = super::pager(
        from,
        SLA_PAGE as i64,
        from as usize + SLA_PAGE < due_count,
        |at| format!("/sla?from={at}"),
    );
    let ids: Vec<voronka_core::Id> = shown.iter().map(|r| r.lead_id).collect();
    let mut names = state.app.lead_names(&actor, &ids).await?;
    let p = SlaPage {
        layout: Layout::new(&user, "sla", t::SLA_TITLE),
        due: shown
            .into_iter()
            .map(|r| {
                let due = r.sla_due_at.unwrap_or(n);
                DueRow {
                    lead_id: r.lead_id,
                    name: names.remove(&r.lead_id).unwrap_or_default(),
                    owner: r.owner_name.unwrap_or_else(|| t::UNASSIGNED.into()),
                    due: if due <= n { ago(due, n) } else { datetime(due) },
                    overdue: due <= n,
                }
            })
            .collect(),
        due_count,
        overdue: d.overdue,
        first_row: from as usize + 1,
        prev,
        next,
        breached_today: d.breached_today,
        per_person: d
            .per_person
            .into_iter()
            .map(|p| {
                let (name, owner) = match p.owner_id {
                    Some(id) => (p.name.unwrap_or_default(), id.to_string()),
                    None => (t::UNASSIGNED.to_string(), "none".to_string()),
                };
                (name, p.due, p.late_today, open_leads_of(&owner))
            })
            .collect(),
        load,
        stats,
    };
    Ok(render(&p))
}

// ---------------------------------------------------------------------------------------------
// Kanban by stage

pub(crate) struct KanbanCard {
    pub id: i64,
    pub name: String,
    pub owner: String,
    pub temperature: String,
    pub temperature_label: &'static str,
}

pub(crate) struct KanbanColumn {
    pub stage: &'static str,
    pub label: &'static str,
    /// Open leads in the stage that the viewer sees, beyond the cards shown too.
    pub total: i64,
    pub cards: Vec<KanbanCard>,
}

#[derive(Template)]
#[template(path = "kanban.html")]
struct KanbanPage {
    layout: Layout,
    columns: Vec<KanbanColumn>,
}

/// Cards shown in a column of the pipeline; the rest are a link to the inbox away.
const KANBAN_CARDS: i64 = 100;

/// Open leads by stage; cards move by drag and drop (or the select on each card), and the
/// server enforces the stage rules.
pub(crate) async fn kanban(State(state): State<AppState>, user: WebUser) -> PageResult {
    use voronka_core::Stage;
    let actor = user.actor();
    let mut columns = Vec::new();
    for (stage, label) in [
        (Stage::New, t::STAGE_NEW),
        (Stage::Working, t::STAGE_WORKING),
        (Stage::Mql, t::STAGE_MQL),
        (Stage::Sql, t::STAGE_SQL),
    ] {
        let (rows, total) = state
            .app
            .list_leads(
                &actor,
                voronka_store::LeadQuery {
                    stages: vec![stage],
                    limit: KANBAN_CARDS,
                    ..Default::default()
                },
            )
            .await?;
        columns.push(KanbanColumn {
            stage: stage.as_str(),
            label,
            total,
            cards: rows
                .into_iter()
                .map(|r| KanbanCard {
                    id: r.lead.id,
                    name: r.contact_name,
                    owner: r.owner_name.unwrap_or_else(|| t::UNASSIGNED.into()),
                    temperature: r.lead.temperature.as_str().into(),
                    temperature_label: t::temperature_label(r.lead.temperature),
                })
                .collect(),
        });
    }
    Ok(render(&KanbanPage {
        layout: Layout::new(&user, "kanban", t::KANBAN_TITLE),
        columns,
    }))
}

/// A card dropped on a column: JSON answer for the page's script (the stage rules decide).
pub(crate) async fn kanban_move(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> Result<axum::response::Response, super::WebError> {
    use axum::response::IntoResponse;
    let form = PostForm::checked(&body, &user)?;
    let to = voronka_core::Stage::parse(&form.text("stage"))
        .map_err(|_| AppError::invalid("stage", Message::new("stage_choose")))?;
    match state.app.change_stage(&user.actor(), id, to, None).await {
        Ok(l) => Ok(
            axum::Json(serde_json::json!({ "ok": true, "stage": l.stage.as_str() }))
                .into_response(),
        ),
        Err(e) => {
            let (status, _) = classify(&e);
            Ok((
                status,
                axum::Json(serde_json::json!({ "ok": false, "message": e.to_string() })),
            )
                .into_response())
        }
    }
}

/// The inbox of one owner's open leads (`none`: the unassigned ones).
fn open_leads_of(owner: &str) -> String {
    format!("/leads?stage=new,working,mql,sql&owner={owner}")
}
