//! Speed to lead: routing rules and profiles, assignment at intake and by hand, SLA timers and
//! their steps, activities (the first response), tasks, notifications and the metrics.

use crate::mail::{email_job, smtp_in_tx, EmailPayload};
use crate::{now_ms, Actor, App, AppError, Message, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use voronka_core::intake::{Origin, RouteContext, RouteDecision};
use voronka_core::routing::{Router, RoutingProfile, RoutingRules};
use voronka_core::sla::{median_p90, SlaSettings, StepAction};
use voronka_core::SystemTask;
use voronka_core::{Id, Millis, Notice, Role, Stage};
use voronka_store::{
    Activity, AssignmentRow, NewAssignment, NewTask, Notification, SlaEvent, SlaRow, Task, Tx,
    ACTIVITY_KINDS, TASK_KINDS,
};

pub const ROUTING_RULES: &str = "routing_rules";
pub const SLA_SETTINGS: &str = "sla";
/// URL that receives Slack-compatible JSON for "new lead assigned" and "SLA breached".
pub const NOTIFY_WEBHOOK: &str = "notify_webhook";

pub const SLA_STEP: &str = "sla_step";
pub const WEBHOOK: &str = "webhook";

const HOUR: Millis = 3_600_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SlaStepPayload {
    pub lead_id: Id,
    pub step: usize,
    pub due: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct WebhookPayload {
    pub url: String,
    pub text: String,
    /// What `text` says, as its code and values (for a receiver that words it itself).
    #[serde(default)]
    pub notice: Option<Notice>,
    pub event: String,
    pub lead_id: Id,
}

/// A new lead as routed at intake, for what follows in the same transaction.
pub(crate) struct Routed {
    pub lead_id: Id,
    pub route: RouteDecision,
    pub team: Option<String>,
    pub at: Millis,
    /// When the first response is due under the team's SLA; the lead's row is written with it.
    pub due: Millis,
}

/// Loads the routing context inside the intake transaction (one query per kind of fact).
/// Reads the settings the intake's routing and its aftermath use in one statement.
pub(crate) async fn prefetch_intake_settings(tx: &mut dyn Tx) -> Result<()> {
    tx.prefetch_settings(&[
        ROUTING_RULES,
        SLA_SETTINGS,
        NOTIFY_WEBHOOK,
        crate::mail::SMTP_SETTINGS,
    ])
    .await?;
    Ok(())
}

pub(crate) async fn route_context(tx: &mut dyn Tx, now: Millis) -> Result<RouteContext> {
    let rules = match tx.setting_in_tx(ROUTING_RULES).await? {
        Some(json) => RoutingRules::from_json(&json).unwrap_or_else(|e| {
            tracing::error!(error = %e, "stored routing rules are unreadable; using the defaults");
            RoutingRules::default()
        }),
        None => RoutingRules::default(),
    };
    let people = tx.routing_people(now, rules.uses_least_load()).await?;
    let counters = tx.route_counters().await?;
    Ok(RouteContext {
        router: Router::new(rules, people, counters),
        origin: Origin::default(),
        model: None,
    })
}

pub(crate) async fn sla_in_tx(tx: &mut dyn Tx) -> Result<SlaSettings> {
    Ok(match tx.setting_in_tx(SLA_SETTINGS).await? {
        Some(json) => SlaSettings::from_json(&json).unwrap_or_default(),
        None => SlaSettings::default(),
    })
}

async fn webhook_in_tx(tx: &mut dyn Tx) -> Result<Option<String>> {
    Ok(tx
        .setting_in_tx(NOTIFY_WEBHOOK)
        .await?
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty()))
}

fn job_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Where a notice goes besides a person's in-app list, as the settings read in this transaction
/// say: an email when SMTP is set up and the person has an address, and the team's webhook when
/// one is set. Collects the jobs that deliver them, to be queued with the transaction's others.
struct Outbox {
    smtp: bool,
    hook: Option<String>,
    jobs: Vec<(String, String, Millis)>,
}

impl Outbox {
    async fn open(tx: &mut dyn Tx) -> Result<Outbox> {
        Ok(Outbox {
            smtp: smtp_in_tx(tx).await?.is_some(),
            hook: webhook_in_tx(tx).await?,
            jobs: Vec::new(),
        })
    }

    /// Whether an email to this person (name, address) goes out.
    fn mails(&self, to: (&str, &str)) -> bool {
        self.smtp && !to.1.trim().is_empty()
    }

    /// The email twin of a notification of this kind to the person (name, address), worded
    /// from the notice; none without SMTP or without an address.
    fn email(&mut self, kind: &str, lead_id: Id, to: (&str, &str), notice: &Notice, at: Millis) {
        if self.mails(to) {
            self.push_email(kind, lead_id, to, &notice.text(), at);
        }
    }

    /// The notice posted to the webhook as this event; none when no webhook is set.
    fn webhook(&mut self, event: &str, lead_id: Id, notice: &Notice, at: Millis) {
        if self.hook.is_some() {
            self.push_webhook(event, lead_id, notice, notice.text(), at);
        }
    }

    /// Both twins of one notification (the email only to a person with an address), the notice
    /// worded once for the two of them.
    fn email_and_webhook(
        &mut self,
        kind: &str,
        lead_id: Id,
        to: Option<(&str, &str)>,
        notice: &Notice,
        at: Millis,
    ) {
        let mail = to.filter(|t| self.mails(*t));
        if mail.is_none() && self.hook.is_none() {
            return;
        }
        let text = notice.text();
        if let Some(to) = mail {
            self.push_email(kind, lead_id, to, &text, at);
        }
        self.push_webhook(kind, lead_id, notice, text, at);
    }

    fn push_email(&mut self, kind: &str, lead_id: Id, to: (&str, &str), text: &str, at: Millis) {
        let (name, address) = to;
        let (subject, body) = crate::mail::text::notification(kind, lead_id, name, text);
        let mail = EmailPayload {
            to: address.to_string(),
            to_name: name.to_string(),
            subject,
            body,
            lead_id: Some(lead_id),
        };
        self.jobs.push(email_job(&mail, at));
    }

    fn push_webhook(
        &mut self,
        event: &str,
        lead_id: Id,
        notice: &Notice,
        text: String,
        at: Millis,
    ) {
        let Some(url) = &self.hook else { return };
        let p = WebhookPayload {
            url: url.clone(),
            text,
            notice: Some(notice.clone()),
            event: event.to_string(),
            lead_id,
        };
        self.jobs.push((WEBHOOK.to_string(), job_json(&p), at));
    }
}

/// Everything that follows the routing of new leads, inside the intake transaction: the
/// assignment history, notifications and the first SLA timer of each lead (its due time is in
/// its row already).
pub(crate) async fn after_routing(
    tx: &mut dyn Tx,
    ctx: &RouteContext,
    sla: &SlaSettings,
    routed: &[Routed],
) -> Result<()> {
    if routed.is_empty() {
        return Ok(());
    }
    let mut out = Outbox::open(tx).await?;
    let now = routed[0].at;
    let mut assignments = Vec::with_capacity(routed.len());
    let mut notifications = Vec::with_capacity(routed.len());
    for r in routed {
        assignments.push(NewAssignment {
            lead_id: r.lead_id,
            from_owner: None,
            to_owner: r.route.owner_id,
            rule: r.route.rule.clone(),
            why: r.route.why.clone(),
            actor_id: None,
            actor: "routing".into(),
            at: r.at,
        });
        if let Some(first) = sla.for_team(r.team.as_deref()).steps.first() {
            let p = SlaStepPayload {
                lead_id: r.lead_id,
                step: 0,
                due: r.due,
            };
            out.jobs
                .push((SLA_STEP.to_string(), job_json(&p), r.due + first.after.0));
        }
        if let Some(owner) = r.route.owner_id {
            let person = ctx.router.person(owner);
            let name = person.map(|p| p.name.clone()).unwrap_or_default();
            let notice = Notice::new("new_lead_assigned")
                .with("lead", r.lead_id)
                .with("person", &name)
                .naming("decision", &r.route.why);
            // Worded here only for an email or a webhook; the in-app one is worded when read.
            out.email_and_webhook(
                "lead_assigned",
                r.lead_id,
                person.map(|p| (p.name.as_str(), p.email.as_str())),
                &notice,
                r.at,
            );
            notifications.push(voronka_store::NewNotification {
                user_id: owner,
                kind: "lead_assigned".into(),
                lead_id: Some(r.lead_id),
                body: notice,
                at: r.at,
            });
        }
    }
    tx.insert_assignments(&assignments).await?;
    tx.insert_notifications(&notifications).await?;
    tx.enqueue_jobs(&out.jobs, now).await?;
    Ok(())
}

/// Where a bulk or manual reassignment sends leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "to")]
pub enum ReassignTo {
    /// A named person (or nobody: back to the queue).
    Person { owner_id: Option<Id> },
    /// Whoever the routing rules pick now (the current owner excluded).
    Rules,
}

/// The outcomes a logged activity can have; each schedules the next task.
pub const OUTCOMES: [&str; 5] = ["reached", "no_answer", "wrong_number", "call_back", "sent"];

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    pub kind: String,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    /// For `call_back`: when to call.
    #[serde(default)]
    pub call_back_at: Option<Millis>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    #[serde(default)]
    pub lead_id: Option<Id>,
    pub kind: String,
    #[serde(default)]
    pub title: Option<String>,
    pub due_at: Millis,
    #[serde(default)]
    pub remind_at: Option<Millis>,
    /// Defaults to the lead's owner, else the author.
    #[serde(default)]
    pub owner_id: Option<Id>,
}

/// Time to first response and SLA hit rate of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaStat {
    pub key: String,
    pub leads: usize,
    pub responded: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
    /// Responded by the due time, among leads whose due time has passed or that responded.
    pub hit_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaMetrics {
    pub overall: SlaStat,
    pub by_person: Vec<SlaStat>,
    pub by_team: Vec<SlaStat>,
    pub by_source: Vec<SlaStat>,
    /// Hour of the day (UTC) the lead arrived.
    pub by_hour: Vec<SlaStat>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaDashboard {
    /// Open leads waiting for a first response whose due time has passed or comes within an
    /// hour, the most overdue first.
    pub due_now: Vec<SlaRow>,
    /// Of those, the ones whose due time has passed.
    pub overdue: usize,
    /// Leads whose first response became late today (UTC), answered since or not.
    pub breached_today: usize,
    /// Per owner (unassigned leads under no owner): leads due now, and late today.
    pub per_person: Vec<PersonDue>,
}

/// One owner's line of the SLA dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PersonDue {
    /// The owner; `None` for leads with no owner.
    pub owner_id: Option<Id>,
    pub name: Option<String>,
    /// Open leads waiting for a first response due within the hour or overdue.
    pub due: usize,
    /// Leads whose first response became late today (UTC).
    pub late_today: usize,
}

fn stat(key: String, rows: &[&SlaRow], now: Millis) -> SlaStat {
    let mut times: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.first_response_at.map(|f| f - r.created_at))
        .collect();
    // Judged: responded, or past due, or already marked breached.
    let judged: Vec<&&SlaRow> = rows
        .iter()
        .filter(|r| {
            r.sla_due_at.is_some()
                && (r.first_response_at.is_some()
                    || r.sla_due_at < Some(now)
                    || r.sla_breached_at.is_some())
        })
        .collect();
    let hits = judged
        .iter()
        .filter(|r| matches!((r.first_response_at, r.sla_due_at), (Some(f), Some(d)) if f <= d))
        .count();
    let mp = median_p90(&mut times);
    SlaStat {
        key,
        leads: rows.len(),
        responded: times.len(),
        median_ms: mp.map(|m| m.0),
        p90_ms: mp.map(|m| m.1),
        hit_rate: (!judged.is_empty()).then(|| hits as f64 / judged.len() as f64),
    }
}

fn grouped<F: Fn(&SlaRow) -> String>(rows: &[SlaRow], now: Millis, key: F) -> Vec<SlaStat> {
    let mut g: BTreeMap<String, Vec<&SlaRow>> = BTreeMap::new();
    for r in rows {
        g.entry(key(r)).or_default().push(r);
    }
    g.into_iter().map(|(k, v)| stat(k, &v, now)).collect()
}

/// SLA metrics over rows (pure, for the report and its tests).
pub fn sla_metrics_of(rows: &[SlaRow], now: Millis) -> SlaMetrics {
    let all: Vec<&SlaRow> = rows.iter().collect();
    SlaMetrics {
        overall: stat("all".into(), &all, now),
        by_person: grouped(rows, now, |r| {
            r.owner_name.clone().unwrap_or_else(|| "unassigned".into())
        }),
        by_team: grouped(rows, now, |r| {
            r.team.clone().unwrap_or_else(|| "no team".into())
        }),
        by_source: grouped(rows, now, |r| {
            r.source.clone().unwrap_or_else(|| "direct".into())
        }),
        by_hour: grouped(rows, now, |r| {
            format!("{:02}", (r.created_at.rem_euclid(86_400_000)) / HOUR)
        }),
    }
}

fn require_manager(actor: &Actor) -> Result<()> {
    if actor.role().assigns_leads() {
        Ok(())
    } else {
        Err(AppError::Forbidden(Message::new("routing_forbidden")))
    }
}

impl App {
    /// The routing rules in force: the stored document, or the defaults.
    pub async fn routing_rules(&self) -> Result<RoutingRules> {
        match self.store.setting(ROUTING_RULES).await? {
            Some(json) => RoutingRules::from_json(&json)
                .map_err(|e| AppError::Io(format!("stored routing rules are unreadable: {e}"))),
            None => Ok(RoutingRules::default()),
        }
    }

    pub async fn set_routing_rules(&self, actor: &Actor, rules: RoutingRules) -> Result<()> {
        actor.require_admin()?;
        rules
            .check()
            .map_err(|e| AppError::invalid("rules", Message::from(&e)))?;
        let before = self.routing_rules().await?;
        let now = now_ms();
        self.store
            .put_setting(ROUTING_RULES, &rules.to_json(), now)
            .await?;
        self.audit_setting(actor, ROUTING_RULES, &before, &rules, now)
            .await
    }

    pub fn parse_routing_rules(text: &str, toml: bool) -> Result<RoutingRules> {
        let r = if toml {
            RoutingRules::from_toml(text)
        } else {
            RoutingRules::from_json(text)
        };
        r.map_err(|e| AppError::invalid("rules", Message::from(&e)))
    }

    pub async fn sla_settings(&self) -> Result<SlaSettings> {
        match self.store.setting(SLA_SETTINGS).await? {
            Some(json) => SlaSettings::from_json(&json)
                .map_err(|e| AppError::Io(format!("stored SLA settings are unreadable: {e}"))),
            None => Ok(SlaSettings::default()),
        }
    }

    pub async fn set_sla_settings(&self, actor: &Actor, s: SlaSettings) -> Result<()> {
        actor.require_admin()?;
        s.check().map_err(|e| {
            AppError::invalid("sla", Message::new("sla_invalid").with("problem", e))
        })?;
        let before = self.sla_settings().await?;
        let now = now_ms();
        self.store
            .put_setting(SLA_SETTINGS, &s.to_json(), now)
            .await?;
        self.audit_setting(actor, SLA_SETTINGS, &before, &s, now)
            .await
    }

    pub fn parse_sla_settings(text: &str, toml: bool) -> Result<SlaSettings> {
        let r = if toml {
            SlaSettings::from_toml(text)
        } else {
            SlaSettings::from_json(text)
        };
        r.map_err(|e| AppError::invalid("sla", Message::new("sla_invalid").with("problem", e)))
    }

    pub async fn notify_webhook(&self) -> Result<Option<String>> {
        Ok(self.store.setting(NOTIFY_WEBHOOK).await?)
    }

    pub async fn set_notify_webhook(&self, actor: &Actor, url: &str) -> Result<()> {
        actor.require_admin()?;
        let url = url.trim();
        if !(url.is_empty() || voronka_core::capture::is_http_url(url)) {
            return Err(AppError::invalid(
                "url",
                Message::new("webhook_url_invalid"),
            ));
        }
        let before = self.notify_webhook().await?;
        let now = now_ms();
        self.store.put_setting(NOTIFY_WEBHOOK, url, now).await?;
        self.audit_setting(actor, NOTIFY_WEBHOOK, &before, &Some(url.to_string()), now)
            .await
    }

    pub async fn routing_profile(&self, actor: &Actor, user_id: Id) -> Result<RoutingProfile> {
        if actor.user_id() != Some(user_id) {
            require_manager(actor)?;
        }
        self.store.user(user_id).await?.ok_or_else(|| {
            AppError::NotFound(Message::new("user_not_found").with("id", user_id))
        })?;
        Ok(match self.store.routing_profile(user_id).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => RoutingProfile::default(),
        })
    }

    /// Sets a person's routing profile (managers and admins; a person may mark themselves away).
    pub async fn set_routing_profile(
        &self,
        actor: &Actor,
        user_id: Id,
        p: RoutingProfile,
    ) -> Result<()> {
        if actor.user_id() != Some(user_id) {
            require_manager(actor)?;
        }
        p.check()
            .map_err(|e| AppError::invalid("profile", Message::from(&e)))?;
        // The profile as it was; reading it also finds a person who is not there (404).
        let before = self.routing_profile(actor, user_id).await?;
        let json = serde_json::to_string(&p).map_err(|e| AppError::Io(e.to_string()))?;
        let now = now_ms();
        self.store.put_routing_profile(user_id, &json, now).await?;
        self.audit_setting(
            actor,
            &format!("routing_profile.{user_id}"),
            &before,
            &p,
            now,
        )
        .await
    }

    pub async fn assignments(&self, actor: &Actor, lead_id: Id) -> Result<Vec<AssignmentRow>> {
        self.lead_detail(actor, lead_id).await?;
        Ok(self.store.assignments_for(lead_id).await?)
    }

    /// Reassigns one lead, keeping the history (who, from, to, why).
    pub async fn reassign(
        &self,
        actor: &Actor,
        lead_id: Id,
        to: &ReassignTo,
        comment: Option<&str>,
    ) -> Result<AssignmentRow> {
        require_manager(actor)?;
        let at = now_ms();
        let (mut tx, lead) = self.lead_tx(actor, lead_id).await?;
        let (owner, rule, why) = match to {
            ReassignTo::Person { owner_id } => {
                if let Some(o) = owner_id {
                    let u = self
                        .store
                        .user(*o)
                        .await?
                        .filter(|u| u.active)
                        .ok_or_else(|| {
                            AppError::invalid(
                                "owner_id",
                                Message::new("owner_not_active").with("id", o),
                            )
                        })?;
                    if matches!(u.role, Role::Marketer | Role::Viewer) {
                        return Err(AppError::invalid(
                            "owner_id",
                            Message::new("owner_does_not_sell"),
                        ));
                    }
                }
                let mut why = Notice::new("reassigned_by").with("actor", actor.name());
                if let Some(c) = comment.map(str::trim).filter(|c| !c.is_empty()) {
                    why = why.with("comment", c);
                }
                (*owner_id, None, why)
            }
            ReassignTo::Rules => {
                let d = self.route_again(tx.as_mut(), &lead, at).await?;
                (
                    d.owner_id,
                    d.rule,
                    Notice::new("reassigned_by_rules")
                        .with("actor", actor.name())
                        .naming("decision", &d.why),
                )
            }
        };
        tx.set_owner(lead_id, owner, at).await?;
        let row = NewAssignment {
            lead_id,
            from_owner: lead.owner_id,
            to_owner: owner,
            rule: rule.clone(),
            why: why.clone(),
            actor_id: actor.user_id(),
            actor: actor.name(),
            at,
        };
        let assignment_id = tx.insert_assignment(&row).await?;
        if let Some(o) = owner {
            let notice = Notice::new("lead_assigned_to_you")
                .with("lead", lead_id)
                .naming("why", &why);
            tx.add_notification(o, "lead_assigned", Some(lead_id), &notice, at)
                .await?;
            let mut out = Outbox::open(tx.as_mut()).await?;
            let u = self.reachable(&out, o).await?;
            let to = u.as_ref().map(|u| (u.name.as_str(), u.email.as_str()));
            out.email_and_webhook("lead_assigned", lead_id, to, &notice, at);
            tx.enqueue_jobs(&out.jobs, at).await?;
        }
        self.finish(tx, actor, "assign", &lead, at).await?;
        Ok(AssignmentRow {
            id: assignment_id,
            lead_id,
            from_owner: row.from_owner,
            to_owner: owner,
            rule,
            explanation: why.text(),
            why: Some(why),
            actor: row.actor,
            at,
        })
    }

    /// Reassigns many leads (each with its own history row); answers per lead.
    pub async fn bulk_reassign(
        &self,
        actor: &Actor,
        lead_ids: &[Id],
        to: &ReassignTo,
        comment: Option<&str>,
    ) -> Result<Vec<(Id, std::result::Result<AssignmentRow, String>)>> {
        require_manager(actor)?;
        if lead_ids.len() > 10_000 {
            return Err(AppError::invalid(
                "lead_ids",
                Message::new("too_many_leads").with("max", 10_000),
            ));
        }
        let mut out = Vec::with_capacity(lead_ids.len());
        for &id in lead_ids {
            let r = self.reassign(actor, id, to, comment).await;
            out.push((id, r.map_err(|e| e.to_string())));
        }
        Ok(out)
    }

    /// Routes an existing lead again by the rules, leaving out its current owner.
    async fn route_again(
        &self,
        tx: &mut dyn Tx,
        lead: &voronka_core::Lead,
        at: Millis,
    ) -> Result<RouteDecision> {
        let mut ctx = route_context(tx, at).await?;
        if let Some(o) = lead.owner_id {
            // The current owner is not a candidate: mark them away for this decision.
            ctx.router = exclude(ctx.router, o, at);
        }
        // The same facts the intake routed on: territory, language, product and source from
        // the lead's profile, its partner, scores and the contact's other leads.
        let stored = tx.route_facts(lead.id).await?.unwrap_or_default();
        let field = |k: &str| stored.profile.get(k).map(String::as_str);
        let owners = voronka_core::intake::ContactOwners::of(&stored.others);
        let facts = voronka_core::routing::LeadFacts {
            country: field("country"),
            region: field("region"),
            city: field("city"),
            product: lead.product.as_deref().or(field("product")),
            source: lead.source.as_deref().or(field("source")),
            partner: stored.partner.as_deref(),
            form_id: lead.form_id,
            language: field("language"),
            temperature: lead.temperature,
            score: stored.score,
            conversion: stored.conversion,
            account_owner: owners.account_owner,
            existing_customer: owners.existing_customer,
            previous_owner: owners.previous_owner,
        };
        let a = ctx.router.decide(&facts, at);
        let d = RouteDecision {
            owner_id: a.owner_id,
            why: a.why.clone(),
            used_round_robin: a.counter.is_some(),
            rule: a.rule.clone(),
            counter: a.counter.clone(),
        };
        ctx.router.record(&a);
        for (name, by) in ctx.router.counter_deltas() {
            tx.add_to_counter(name, by as i64).await?;
        }
        Ok(d)
    }

    /// Logs a call, email or meeting. The first one on a lead is its first response; the
    /// outcome schedules the next task for the lead's owner.
    pub async fn log_activity(
        &self,
        actor: &Actor,
        lead_id: Id,
        input: ActivityInput,
    ) -> Result<(Id, Option<Id>)> {
        self.log_activity_at(actor, lead_id, input, now_ms()).await
    }

    pub async fn log_activity_at(
        &self,
        actor: &Actor,
        lead_id: Id,
        input: ActivityInput,
        at: Millis,
    ) -> Result<(Id, Option<Id>)> {
        let kind = input.kind.trim().to_lowercase();
        if !ACTIVITY_KINDS.contains(&kind.as_str()) {
            return Err(AppError::invalid(
                "kind",
                Message::new("activity_kind_unknown"),
            ));
        }
        let outcome = input
            .outcome
            .as_deref()
            .map(|o| o.trim().to_lowercase())
            .filter(|o| !o.is_empty());
        if let Some(o) = &outcome {
            if !OUTCOMES.contains(&o.as_str()) {
                return Err(AppError::invalid(
                    "outcome",
                    Message::new("activity_outcome_unknown").with("choices", OUTCOMES.join(", ")),
                ));
            }
        }
        if outcome.as_deref() == Some("call_back") && input.call_back_at.is_none_or(|c| c <= at) {
            return Err(AppError::invalid(
                "call_back_at",
                Message::new("call_back_in_past"),
            ));
        }
        if outcome.as_deref() == Some("call_back")
            && input
                .call_back_at
                .is_some_and(|c| !voronka_core::within_plan_ahead(c, at))
        {
            return Err(AppError::invalid(
                "call_back_at",
                Message::new("call_back_too_far").with("years", voronka_core::PLAN_AHEAD_YEARS),
            ));
        }
        let note = input
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty());
        let (mut tx, lead) = self.lead_tx(actor, lead_id).await?;
        let id = tx
            .add_activity(
                lead_id,
                actor.user_id(),
                &kind,
                outcome.as_deref(),
                note,
                at,
            )
            .await?;
        if actor.user_id().is_some() {
            tx.mark_first_response(lead_id, at).await?;
        }
        let next = match outcome.as_deref() {
            Some("no_answer") => Some(("call", SystemTask::CallAgain, at + 2 * HOUR)),
            Some("call_back") => Some((
                "call",
                SystemTask::CallBack,
                input.call_back_at.unwrap_or(at),
            )),
            Some("wrong_number") => Some(("email", SystemTask::WriteInstead, at + HOUR)),
            Some("reached") => Some(("send_offer", SystemTask::SendOffer, at + 24 * HOUR)),
            _ => None,
        };
        let task = match next {
            Some((k, title, due)) => Some(
                tx.add_task(&NewTask {
                    lead_id: Some(lead_id),
                    owner_id: lead.owner_id.or(actor.user_id()),
                    kind: k.into(),
                    title: title.title().into(),
                    title_code: Some(title.code()),
                    due_at: due,
                    remind_at: Some(due - 15 * 60_000),
                    created_by: "outcome".into(),
                    created_at: at,
                })
                .await?,
            ),
            None => None,
        };
        if lead.stage == Stage::New && actor.user_id().is_some() {
            // Working the lead: the stage follows the first contact attempt.
            tx.set_stage(
                lead_id,
                &voronka_store::StageUpdate {
                    stage: Some(Stage::Working),
                    ..Default::default()
                },
                at,
            )
            .await?;
            tx.add_stage_change(&voronka_store::NewStageChange::system(
                lead_id,
                Some(Stage::New),
                Stage::Working,
                actor.user_id(),
                &actor.name(),
                &voronka_core::SystemMove::ActivityLogged { kind: &kind },
                at,
            ))
            .await?;
        }
        self.finish(tx, actor, "activity", &lead, at).await?;
        Ok((id, task))
    }

    pub async fn activities(&self, actor: &Actor, lead_id: Id) -> Result<Vec<Activity>> {
        self.lead_detail(actor, lead_id).await?;
        Ok(self.store.activities_for(lead_id).await?)
    }

    pub async fn create_task(&self, actor: &Actor, input: TaskInput) -> Result<Id> {
        actor.require_write_leads()?;
        let kind = input.kind.trim().to_lowercase();
        if !TASK_KINDS.contains(&kind.as_str()) {
            return Err(AppError::invalid(
                "kind",
                Message::new("task_kind_unknown").with("choices", TASK_KINDS.join(", ")),
            ));
        }
        let at = now_ms();
        let window = |field: &str, m: Message| {
            AppError::invalid(
                field,
                m.with("from", voronka_core::EARLIEST_PLANNED_DATE)
                    .with("years", voronka_core::PLAN_AHEAD_YEARS),
            )
        };
        if !voronka_core::plannable(input.due_at, at) {
            return Err(window("due_at", Message::new("task_due_out_of_range")));
        }
        if input
            .remind_at
            .is_some_and(|r| !voronka_core::plannable(r, at))
        {
            return Err(window(
                "remind_at",
                Message::new("task_reminder_out_of_range"),
            ));
        }
        let mut owner = input.owner_id.or(actor.user_id());
        if let Some(l) = input.lead_id {
            let d = self.lead_detail(actor, l).await?;
            if input.owner_id.is_none() {
                owner = d.lead.owner_id.or(owner);
            }
        }
        let title = input
            .title
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .unwrap_or_else(|| kind.replace('_', " "));
        let mut tx = self.store.begin().await?;
        let id = tx
            .add_task(&NewTask {
                lead_id: input.lead_id,
                owner_id: owner,
                kind,
                title,
                title_code: None,
                due_at: input.due_at,
                remind_at: input.remind_at,
                created_by: actor.name(),
                created_at: at,
            })
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn complete_task(&self, actor: &Actor, id: Id) -> Result<()> {
        actor.require_write_leads()?;
        let t = self
            .store
            .task(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("task_not_found").with("id", id)))?;
        if t.owner_id != actor.user_id() && !actor.role().assigns_leads() {
            return Err(AppError::NotFound(
                Message::new("task_not_found").with("id", id),
            ));
        }
        if !self.store.complete_task(id, now_ms()).await? {
            return Err(AppError::Conflict(Message::new("task_already_done")));
        }
        Ok(())
    }

    /// A person's tasks: open (due first) or all.
    pub async fn tasks_of(&self, actor: &Actor, user_id: Id, open_only: bool) -> Result<Vec<Task>> {
        if actor.user_id() != Some(user_id) {
            require_manager(actor)?;
        }
        Ok(self.store.tasks_for_user(user_id, open_only, 500).await?)
    }

    pub async fn notifications(&self, actor: &Actor) -> Result<Vec<Notification>> {
        let me = actor
            .user_id()
            .ok_or_else(|| AppError::Forbidden(Message::new("notifications_need_person")))?;
        Ok(self.store.notifications_for(me, 100).await?)
    }

    /// The person's open leads by urgency: `limit` of them (1 to 500) after the first `offset`.
    pub async fn work_queue(
        &self,
        actor: &Actor,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<voronka_store::QueueLead>> {
        actor.require_read_leads()?;
        let me = actor
            .user_id()
            .ok_or_else(|| AppError::Forbidden(Message::new("work_queue_needs_person")))?;
        Ok(self
            .store
            .work_queue(me, limit.clamp(1, 500), offset.max(0))
            .await?)
    }

    pub async fn sla_metrics(&self, actor: &Actor, since: Millis) -> Result<SlaMetrics> {
        actor.require_reports()?;
        let rows = self.store.sla_rows(since).await?;
        Ok(sla_metrics_of(&rows, now_ms()))
    }

    pub async fn sla_dashboard(&self, actor: &Actor) -> Result<SlaDashboard> {
        actor.require_reports()?;
        let now = now_ms();
        let day_start = now - now.rem_euclid(86_400_000);
        // Late today: leads due at most a month ago can be (no target is longer).
        let recent = self
            .store
            .sla_breached_rows(now - 31 * 86_400_000, day_start)
            .await?;
        // Waiting: every open lead not answered, however old.
        let due_now = self.store.sla_due_rows(now + HOUR).await?;
        // By owner, keeping each owner's name.
        let mut per: BTreeMap<Option<Id>, PersonDue> = BTreeMap::new();
        fn entry<'a>(
            per: &'a mut BTreeMap<Option<Id>, PersonDue>,
            r: &SlaRow,
        ) -> &'a mut PersonDue {
            per.entry(r.owner_id).or_insert_with(|| PersonDue {
                owner_id: r.owner_id,
                name: r.owner_name.clone(),
                due: 0,
                late_today: 0,
            })
        }
        // Each of these was late since midnight.
        for r in &recent {
            entry(&mut per, r).late_today += 1;
        }
        let mut overdue = 0;
        for r in &due_now {
            entry(&mut per, r).due += 1;
            overdue += usize::from(r.sla_due_at.is_some_and(|d| d <= now));
        }
        let mut per_person: Vec<PersonDue> = per.into_values().collect();
        // Unassigned first, then by name.
        per_person
            .sort_by(|a, b| (a.owner_id.is_some(), &a.name).cmp(&(b.owner_id.is_some(), &b.name)));
        Ok(SlaDashboard {
            due_now,
            overdue,
            breached_today: recent.len(),
            per_person,
        })
    }

    /// Open leads, assignments in 24 h and overdue tasks per salesperson.
    pub async fn team_load(&self, actor: &Actor) -> Result<Vec<voronka_store::LoadRow>> {
        actor.require_reports()?;
        Ok(self.store.team_load(now_ms()).await?)
    }

    /// Open leads of a person (managers: for bulk reassignment).
    pub async fn open_leads_of(&self, actor: &Actor, user_id: Id) -> Result<Vec<Id>> {
        require_manager(actor)?;
        Ok(self.store.open_leads_of(user_id).await?)
    }

    /// The contact's name of each of these leads (managers, who see every lead), by lead id.
    pub async fn lead_names(&self, actor: &Actor, ids: &[Id]) -> Result<HashMap<Id, String>> {
        require_manager(actor)?;
        Ok(self.store.lead_names(ids).await?.into_iter().collect())
    }

    /// The SLA facts of one lead.
    pub async fn lead_sla(&self, actor: &Actor, lead_id: Id) -> Result<Option<SlaRow>> {
        let d = self.lead_detail(actor, lead_id).await?;
        Ok(self.store.sla_row(d.lead.id).await?)
    }

    /// Refused leads that came back (revived or asked again) and how many converted later.
    pub async fn recycling_report(
        &self,
        actor: &Actor,
        since: Millis,
    ) -> Result<voronka_store::RecyclingReport> {
        actor.require_reports()?;
        Ok(self.store.recycling_report(since).await?)
    }

    pub async fn sla_events(&self, actor: &Actor, lead_id: Id) -> Result<Vec<SlaEvent>> {
        self.lead_detail(actor, lead_id).await?;
        Ok(self.store.sla_events_for(lead_id).await?)
    }

    /// Runs one SLA step of a lead in its own transaction.
    pub(crate) async fn run_sla_step(&self, p: &SlaStepPayload, worker: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        self.sla_step_in_tx(tx.as_mut(), p, worker, now_ms())
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Runs SLA steps that fell due together in one transaction (one durable commit for the
    /// lot, so a burst of timers is not held to the disk's commit rate), marking their jobs
    /// done in it. An error fails the whole batch; the caller then runs them one by one.
    pub(crate) async fn run_sla_steps(
        &self,
        steps: &[(Id, SlaStepPayload)],
        worker: &str,
    ) -> Result<()> {
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        for (_, p) in steps {
            self.sla_step_in_tx(tx.as_mut(), p, worker, now).await?;
        }
        let ids: Vec<Id> = steps.iter().map(|(id, _)| *id).collect();
        tx.finish_jobs(&ids, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One SLA step inside the caller's transaction, behind a savepoint: a step with nothing
    /// left to do, or fired already by another worker, leaves no trace.
    async fn sla_step_in_tx(
        &self,
        tx: &mut dyn Tx,
        p: &SlaStepPayload,
        worker: &str,
        now: Millis,
    ) -> Result<()> {
        tx.savepoint().await?;
        if self.sla_step_body(tx, p, worker, now).await? {
            tx.release_savepoint().await?;
        } else {
            tx.rollback_to_savepoint().await?;
        }
        Ok(())
    }

    /// The step itself. It is recorded under a unique key in the same transaction as its
    /// effects, so it fires once however many workers hold the job.
    async fn sla_step_body(
        &self,
        tx: &mut dyn Tx,
        p: &SlaStepPayload,
        worker: &str,
        now: Millis,
    ) -> Result<bool> {
        let Some(lead) = tx.lead_for_update(p.lead_id).await? else {
            return Ok(false);
        };
        // A lead merged into another has no clock of its own: the survivor's runs.
        if lead.merged_into.is_some() {
            return Ok(false);
        }
        let open = matches!(
            lead.stage,
            Stage::New | Stage::Working | Stage::Mql | Stage::Sql
        );
        // Somebody has responded (late ones count as breached in the metrics): no more steps.
        if !open || lead.first_response_at.is_some() {
            return Ok(false);
        }
        let sla = sla_in_tx(tx).await?;
        let team = match lead.owner_id {
            Some(o) => self.team_name_of(o).await?,
            None => None,
        };
        let policy = sla.for_team(team.as_deref());
        let Some(step) = policy.steps.get(p.step).copied() else {
            return Ok(false);
        };
        let owner_name = match lead.owner_id {
            Some(o) => self.store.user(o).await?.map(|u| u.name),
            None => None,
        };
        // The owner's name where the step's detail names them; left out for none ("nobody").
        let of_lead = |code: &str| {
            let n = Notice::new(code).with("lead", lead.id);
            match &owner_name {
                Some(name) => n.with("owner", name),
                None => n,
            }
        };
        let detail: Notice;
        let mut notify: Vec<(Id, &str, Notice)> = Vec::new();
        match step.action {
            StepAction::NotifyOwner => {
                detail = of_lead("sla_owner_notified");
                if let Some(o) = lead.owner_id {
                    notify.push((
                        o,
                        "sla_breached",
                        Notice::new("sla_no_response").with("lead", lead.id),
                    ));
                }
            }
            StepAction::EscalateTeamLead => {
                let managers = match lead.owner_id {
                    Some(o) => self.store.team_leads_of(o).await?,
                    None => Vec::new(),
                };
                detail = of_lead("sla_escalated").with("count", managers.len());
                for m in managers {
                    notify.push((m, "sla_escalated", of_lead("sla_no_response_of")));
                }
            }
            StepAction::Reassign => {
                let d = self.route_again(tx, &lead, now).await?;
                tx.set_owner(lead.id, d.owner_id, now).await?;
                tx.insert_assignments(&[NewAssignment {
                    lead_id: lead.id,
                    from_owner: lead.owner_id,
                    to_owner: d.owner_id,
                    rule: d.rule.clone(),
                    why: Notice::new("reassigned_sla").naming("decision", &d.why),
                    actor_id: None,
                    actor: "sla".into(),
                    at: now,
                }])
                .await?;
                detail = of_lead("sla_reassigned").naming("decision", &d.why);
                if let Some(o) = d.owner_id {
                    notify.push((
                        o,
                        "lead_assigned",
                        Notice::new("sla_reassigned_to_you").with("lead", lead.id),
                    ));
                }
            }
        }
        let fired = tx
            .record_sla_event(&SlaEvent {
                lead_id: lead.id,
                step: p.step as i64,
                action: step.action.as_str().into(),
                detail: detail.text(),
                notice: Some(detail.clone()),
                worker: Some(worker.into()),
                at: now,
            })
            .await?;
        if !fired {
            // Another worker fired this step: drop everything done here.
            return Ok(false);
        }
        tx.set_sla_breached(lead.id, p.due).await?;
        let mut out = Outbox::open(tx).await?;
        for (user, kind, notice) in &notify {
            tx.add_notification(*user, kind, Some(lead.id), notice, now)
                .await?;
            if let Some(u) = self.reachable(&out, *user).await? {
                out.email(kind, lead.id, (&u.name, &u.email), notice, now);
            }
        }
        let breached = Notice::new("sla_breached").naming("detail", &detail);
        out.webhook("sla_breached", lead.id, &breached, now);
        if let Some(next) = policy.steps.get(p.step + 1) {
            let q = SlaStepPayload {
                lead_id: lead.id,
                step: p.step + 1,
                due: p.due,
            };
            out.jobs
                .push((SLA_STEP.to_string(), job_json(&q), p.due + next.after.0));
        }
        tx.enqueue_jobs(&out.jobs, now).await?;
        tx.audit(&voronka_store::NewAudit {
            actor_id: None,
            actor: "sla".into(),
            action: format!("sla.{}", step.action.as_str()),
            entity: "lead".into(),
            entity_id: Some(lead.id),
            before: None,
            after: Some(detail.to_json()),
            at: now,
        })
        .await?;
        Ok(true)
    }

    /// The person an email of this outbox would reach: an active user with an address, and
    /// only looked up when the outbox sends email at all.
    async fn reachable(&self, out: &Outbox, user: Id) -> Result<Option<voronka_core::User>> {
        if !out.smtp {
            return Ok(None);
        }
        Ok(self
            .store
            .user(user)
            .await?
            .filter(|u| u.active && !u.email.trim().is_empty()))
    }

    async fn team_name_of(&self, user: Id) -> Result<Option<String>> {
        let Some(u) = self.store.user(user).await? else {
            return Ok(None);
        };
        let Some(t) = u.team_id else {
            return Ok(None);
        };
        Ok(self
            .store
            .list_teams()
            .await?
            .into_iter()
            .find(|(id, _)| *id == t)
            .map(|(_, n)| n))
    }

    /// Sends a Slack-compatible message (`{"text": …}` plus the event) to the webhook.
    pub(crate) async fn send_webhook(&self, p: &WebhookPayload) -> Result<()> {
        let mut body =
            serde_json::json!({ "text": p.text, "event": p.event, "lead_id": p.lead_id });
        if let Some(n) = &p.notice {
            body["code"] = serde_json::json!(n.code);
            body["args"] = serde_json::json!(n.args);
        }
        let resp = reqwest::Client::new()
            .post(&p.url)
            .timeout(std::time::Duration::from_secs(10))
            .json(&body)
            .send()
            .await
            .map_err(|e| AppError::Io(format!("webhook: {e}")))?;
        if !resp.status().is_success() {
            return Err(AppError::Io(format!("webhook answered {}", resp.status())));
        }
        Ok(())
    }

    /// A new secret for a person's iCal feed (replaces nothing: old links keep working until
    /// the settings row is removed).
    pub async fn ical_token(&self, actor: &Actor) -> Result<String> {
        let me = actor
            .user_id()
            .ok_or_else(|| AppError::Forbidden(Message::new("calendar_needs_person")))?;
        let token = crate::new_secret("cal_");
        let hash = crate::sha256_hex(&token);
        self.store
            .put_setting(&format!("ical:{hash}"), &me.to_string(), now_ms())
            .await?;
        Ok(token)
    }

    /// The iCal feed of open tasks of the person the token belongs to.
    pub async fn ical_feed(&self, token: &str) -> Result<String> {
        let hash = crate::sha256_hex(token);
        let user = self
            .store
            .ical_user(&hash)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("calendar_not_found")))?;
        let tasks = self.store.tasks_for_user(user, true, 1000).await?;
        Ok(ical(&tasks, now_ms()))
    }
}

fn ical_time(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y%m%dT%H%M%SZ").to_string())
        .unwrap_or_default()
}

fn ical_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Tasks as an iCalendar document (RFC 5545): one 15-minute event per task, with an alarm.
pub fn ical(tasks: &[Task], now: Millis) -> String {
    let mut s = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Voronka//Tasks//EN\r\n");
    for t in tasks {
        s.push_str("BEGIN:VEVENT\r\n");
        s.push_str(&format!("UID:task-{}@voronka\r\n", t.id));
        s.push_str(&format!("DTSTAMP:{}\r\n", ical_time(now)));
        s.push_str(&format!("DTSTART:{}\r\n", ical_time(t.due_at)));
        s.push_str(&format!("DTEND:{}\r\n", ical_time(t.due_at + 15 * 60_000)));
        let lead = t
            .lead_id
            .map(|l| format!(" (lead #{l})"))
            .unwrap_or_default();
        s.push_str(&format!("SUMMARY:{}{}\r\n", ical_text(&t.title), lead));
        if let Some(r) = t.remind_at {
            s.push_str("BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\n");
            s.push_str(&format!(
                "TRIGGER;VALUE=DATE-TIME:{}\r\nEND:VALARM\r\n",
                ical_time(r)
            ));
        }
        s.push_str("END:VEVENT\r\n");
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

/// Router with one person made unavailable (for "someone else" decisions).
fn exclude(router: Router, user: Id, at: Millis) -> Router {
    let rules = router.rules().clone();
    let mut people = router.people().to_vec();
    for p in &mut people {
        if p.id == user {
            p.profile.away_from = Some(at - 1);
            p.profile.away_until = None;
        }
    }
    // Counters restart from the stored values; the turn taken is persisted by the caller.
    Router::new(rules, people, router.counters().clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(owner: &str, created: Millis, due: Millis, first: Option<Millis>) -> SlaRow {
        SlaRow {
            lead_id: 1,
            owner_id: Some(1),
            owner_name: Some(owner.into()),
            team: Some("Москва".into()),
            source: Some("yandex".into()),
            created_at: created,
            sla_due_at: Some(due),
            sla_breached_at: None,
            first_response_at: first,
        }
    }

    #[test]
    fn metrics_median_p90_and_hit_rate() {
        let rows = vec![
            row("Анна", 0, 300_000, Some(60_000)),
            row("Анна", 0, 300_000, Some(600_000)),
            row("Борис", 0, 300_000, None),
            row("Борис", 10 * HOUR, 20 * HOUR, None),
        ];
        let m = sla_metrics_of(&rows, HOUR);
        assert_eq!(m.overall.leads, 4);
        assert_eq!(m.overall.responded, 2);
        assert_eq!(m.overall.median_ms, Some(60_000));
        assert_eq!(m.overall.p90_ms, Some(600_000));
        // Judged: two responded and one overdue; the fourth is not due yet.
        assert_eq!(m.overall.hit_rate, Some(1.0 / 3.0));
        let anna = m.by_person.iter().find(|s| s.key == "Анна").unwrap();
        assert_eq!(anna.hit_rate, Some(0.5));
        assert_eq!(
            m.by_hour.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
            vec!["00", "10"]
        );
    }

    #[test]
    fn ical_escapes_and_has_alarms() {
        let t = Task {
            id: 7,
            lead_id: Some(3),
            owner_id: Some(1),
            kind: "call".into(),
            title: "Позвонить; уточнить, бюджет".into(),
            title_code: None,
            due_at: 1_795_000_000_000,
            remind_at: Some(1_795_000_000_000 - 900_000),
            done_at: None,
            created_by: "x".into(),
            created_at: 0,
        };
        let s = ical(&[t], 0);
        assert!(s.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(s.contains("SUMMARY:Позвонить\\; уточнить\\, бюджет (lead #3)\r\n"));
        assert!(s.contains("BEGIN:VALARM"));
        assert!(s.contains("UID:task-7@voronka"));
    }
}
