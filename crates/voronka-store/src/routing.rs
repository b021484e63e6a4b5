//! Storage for speed to lead: routing profiles, assignment history, SLA timers and steps,
//! activities, tasks and notifications. A supertrait of [`crate::Store`] and [`crate::Tx`], so
//! its methods are called on the same objects.

use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use voronka_core::routing::Person;
use voronka_core::{Id, Millis, Notice};

pub const ACTIVITY_KINDS: [&str; 3] = ["call", "email", "meeting"];
pub const TASK_KINDS: [&str; 4] = ["call", "email", "meeting", "send_offer"];

#[derive(Debug, Clone)]
pub struct NewAssignment {
    pub lead_id: Id,
    pub from_owner: Option<Id>,
    pub to_owner: Option<Id>,
    pub rule: Option<String>,
    /// Why, as a code and values; stored so, its text made when read.
    pub why: Notice,
    pub actor_id: Option<Id>,
    pub actor: String,
    pub at: Millis,
}

/// A notification to write (`RoutingTx::insert_notifications`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotification {
    pub user_id: Id,
    pub kind: String,
    pub lead_id: Option<Id>,
    /// What it says, as a code and values; stored so, its text made when read.
    pub body: Notice,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignmentRow {
    pub id: Id,
    pub lead_id: Id,
    pub from_owner: Option<Id>,
    pub to_owner: Option<Id>,
    pub rule: Option<String>,
    /// Why, in words (made from `why` when the row keeps a code).
    pub explanation: String,
    /// Why, as its code and values (`None` for rows stored as text only).
    #[serde(default)]
    pub why: Option<Notice>,
    pub actor: String,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    pub id: Id,
    pub lead_id: Id,
    pub user_id: Option<Id>,
    /// call, email or meeting.
    pub kind: String,
    /// reached, no_answer, wrong_number, call_back … (free text for emails and meetings).
    pub outcome: Option<String>,
    pub note: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewTask {
    pub lead_id: Option<Id>,
    pub owner_id: Option<Id>,
    pub kind: String,
    /// A person's own title; a task the system makes gives `title_code` and its text here.
    pub title: String,
    /// The code of a task the system makes ([`voronka_core::SystemTask`]).
    pub title_code: Option<&'static str>,
    pub due_at: Millis,
    pub remind_at: Option<Millis>,
    pub created_by: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: Id,
    pub lead_id: Option<Id>,
    pub owner_id: Option<Id>,
    pub kind: String,
    /// The title as people read it: their own, or the text of the system's code.
    pub title: String,
    /// The code of a task the system made, from which `title` is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title_code: Option<String>,
    pub due_at: Millis,
    pub remind_at: Option<Millis>,
    pub done_at: Option<Millis>,
    pub created_by: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    pub id: Id,
    pub user_id: Id,
    /// lead_assigned, sla_breached, sla_escalated, task_due.
    pub kind: String,
    pub lead_id: Option<Id>,
    /// What it says, in words (made from `notice` when the row keeps a code).
    pub body: String,
    /// What it says, as its code and values (`None` for rows stored as text only).
    #[serde(default)]
    pub notice: Option<Notice>,
    pub created_at: Millis,
    pub read_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaEvent {
    pub lead_id: Id,
    pub step: i64,
    pub action: String,
    /// What the step did, in words (made from `notice` when the row keeps a code).
    pub detail: String,
    /// What the step did, as its code and values; a row written with one keeps only it.
    #[serde(default)]
    pub notice: Option<Notice>,
    pub worker: Option<String>,
    pub at: Millis,
}

/// A lead as the SLA metrics and the work queue see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlaRow {
    pub lead_id: Id,
    pub owner_id: Option<Id>,
    pub owner_name: Option<String>,
    pub team: Option<String>,
    pub source: Option<String>,
    pub created_at: Millis,
    pub sla_due_at: Option<Millis>,
    pub sla_breached_at: Option<Millis>,
    pub first_response_at: Option<Millis>,
}

/// One line of a salesperson's "what to do now".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueLead {
    pub lead_id: Id,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub product: Option<String>,
    pub stage: String,
    pub temperature: String,
    pub score: i64,
    pub sla_due_at: Option<Millis>,
    pub first_response_at: Option<Millis>,
    pub created_at: Millis,
}

/// Open leads and assignments of a person, for the team-load view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadRow {
    pub user_id: Id,
    pub name: String,
    pub team: Option<String>,
    pub open_leads: i64,
    pub assigned_today: i64,
    pub overdue_tasks: i64,
}

/// What routing reads about a stored lead when it is routed again: the facts its first
/// routing saw (kept in the lead's scoring profile), its first partner, scores and the other
/// leads of its contact.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StoredRouteFacts {
    /// The lead's profile: country, region, city, language, product, source ….
    pub profile: std::collections::BTreeMap<String, String>,
    pub partner: Option<String>,
    pub score: i64,
    /// Predicted probability of conversion, when scored.
    pub conversion: Option<f64>,
    /// The contact's other leads.
    pub others: Vec<voronka_core::intake::CandidateLead>,
}

/// Refused leads that came back, and what became of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RecyclingReport {
    /// Leads refused since the date.
    pub refused: i64,
    /// Of those, leads that came back to work: revived by their freeze date or reopened by a
    /// new request.
    pub came_back: i64,
    pub revived: i64,
    pub reopened_by_touch: i64,
    /// Came back and converted later.
    pub converted: i64,
}

/// The farewell survey of a refused lead (one question, answered once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Survey {
    pub id: Id,
    pub lead_id: Id,
    pub created_at: Millis,
    /// price, timing, other_supplier or other; none until answered.
    pub answer: Option<String>,
    pub comment: Option<String>,
    pub answered_at: Option<Millis>,
}

#[async_trait]
pub trait RoutingStore {
    async fn recycling_report(&self, since: Millis) -> Result<RecyclingReport>;
    async fn routing_profile(&self, user_id: Id) -> Result<Option<String>>;
    async fn put_routing_profile(&self, user_id: Id, json: &str, at: Millis) -> Result<()>;
    async fn assignments_for(&self, lead_id: Id) -> Result<Vec<AssignmentRow>>;
    async fn activities_for(&self, lead_id: Id) -> Result<Vec<Activity>>;
    async fn tasks_for_lead(&self, lead_id: Id) -> Result<Vec<Task>>;
    /// A person's tasks: open ones (due first) or all.
    async fn tasks_for_user(&self, user_id: Id, open_only: bool, limit: i64) -> Result<Vec<Task>>;
    async fn task(&self, id: Id) -> Result<Option<Task>>;
    async fn complete_task(&self, id: Id, at: Millis) -> Result<bool>;
    async fn notifications_for(&self, user_id: Id, limit: i64) -> Result<Vec<Notification>>;
    async fn sla_events_for(&self, lead_id: Id) -> Result<Vec<SlaEvent>>;
    /// Every SLA step fired (for checks across processes).
    async fn count_sla_events(&self) -> Result<i64>;
    /// Leads created since `since` with their SLA facts.
    async fn sla_rows(&self, since: Millis) -> Result<Vec<SlaRow>>;
    /// The SLA facts of one lead (none for a merged or junk lead, as in [`sla_rows`]).
    ///
    /// [`sla_rows`]: RoutingStore::sla_rows
    async fn sla_row(&self, lead_id: Id) -> Result<Option<SlaRow>>;
    /// Leads created since `since` whose response target passed at or after `breached_from`.
    async fn sla_breached_rows(&self, since: Millis, breached_from: Millis) -> Result<Vec<SlaRow>>;
    /// Open leads with no first response whose due time is at most `until`, the earliest first,
    /// however long ago they came.
    async fn sla_due_rows(&self, until: Millis) -> Result<Vec<SlaRow>>;
    /// The contact's name of each of these leads that exists, by lead id.
    async fn lead_names(&self, ids: &[Id]) -> Result<Vec<(Id, String)>>;
    /// A person's open leads, waiting for a first response first (earliest due), then by score;
    /// `limit` of them after skipping `offset`.
    async fn work_queue(&self, user_id: Id, limit: i64, offset: i64) -> Result<Vec<QueueLead>>;
    async fn team_load(&self, now: Millis) -> Result<Vec<LoadRow>>;
    /// Open leads of a person (for bulk reassignment).
    async fn open_leads_of(&self, user_id: Id) -> Result<Vec<Id>>;
    /// The sales managers of a user's team.
    async fn team_leads_of(&self, user_id: Id) -> Result<Vec<Id>>;
    /// Measurement only (the benchmark): spreads the pending jobs of a kind that fall due
    /// before `start + window` evenly over `[start, start + window)`; returns how many.
    async fn reschedule_jobs_for_bench(
        &self,
        kind: &str,
        start: Millis,
        window: Millis,
    ) -> Result<u64>;
    /// Measurement only: `done_at - run_at` of the finished jobs of a kind.
    async fn job_lags_for_bench(&self, kind: &str) -> Result<Vec<i64>>;
    /// Token of a user's iCal feed, stored hashed in `settings` under `ical:{hash}`.
    async fn ical_user(&self, token_hash: &str) -> Result<Option<Id>>;
    async fn survey_by_token(&self, token_hash: &str) -> Result<Option<Survey>>;
    /// Stores the answer unless one was given already (then false).
    async fn answer_survey(
        &self,
        token_hash: &str,
        answer: &str,
        comment: Option<&str>,
        at: Millis,
    ) -> Result<bool>;
    async fn surveys_for(&self, lead_id: Id) -> Result<Vec<Survey>>;
}

#[async_trait]
pub trait RoutingTx {
    /// The active salespeople with their profiles and loads at `now`. Each count walks that
    /// span of a person's assignments, so it is made only where something reads it (0 for the
    /// others): `assigned_30d` for people whose profile sets a monthly cap, `assigned_day` for
    /// people with a daily cap, or for everyone when `day_for_all` (a least-load rule's
    /// tie-break reads it).
    async fn routing_people(&mut self, now: Millis, day_for_all: bool) -> Result<Vec<Person>>;
    /// Round-robin counters (`route:…`).
    async fn route_counters(&mut self) -> Result<HashMap<String, u64>>;
    async fn setting_in_tx(&mut self, name: &str) -> Result<Option<String>>;
    /// Reads these settings in one statement; `setting_in_tx` then answers them from memory
    /// for the rest of the transaction.
    async fn prefetch_settings(&mut self, names: &[&str]) -> Result<()>;
    /// Facts for routing this lead again; `None` when there is no such lead.
    async fn route_facts(&mut self, lead_id: Id) -> Result<Option<StoredRouteFacts>>;
    async fn insert_assignments(&mut self, rows: &[NewAssignment]) -> Result<()>;
    /// One assignment; answers its id.
    async fn insert_assignment(&mut self, row: &NewAssignment) -> Result<Id>;
    async fn enqueue_jobs(&mut self, rows: &[(String, String, Millis)], now: Millis) -> Result<()>;
    async fn add_activity(
        &mut self,
        lead_id: Id,
        user_id: Option<Id>,
        kind: &str,
        outcome: Option<&str>,
        note: Option<&str>,
        at: Millis,
    ) -> Result<Id>;
    async fn add_task(&mut self, t: &NewTask) -> Result<Id>;
    async fn add_notification(
        &mut self,
        user_id: Id,
        kind: &str,
        lead_id: Option<Id>,
        body: &Notice,
        at: Millis,
    ) -> Result<()>;
    /// Many notifications in a few statements (the intake's new leads, one each).
    async fn insert_notifications(&mut self, rows: &[NewNotification]) -> Result<()>;
    /// Records that an SLA step fired; false when it had fired already (nothing recorded).
    async fn record_sla_event(&mut self, e: &SlaEvent) -> Result<bool>;
    async fn set_sla_breached(&mut self, lead_id: Id, at: Millis) -> Result<()>;
    async fn add_survey(&mut self, lead_id: Id, token_hash: &str, at: Millis) -> Result<()>;
}
