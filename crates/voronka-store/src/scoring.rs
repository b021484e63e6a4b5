//! Storage for scoring: behaviour events, the scoring rules, tracking sites, lead scores and
//! rescoring runs. A supertrait of [`crate::Store`] and [`crate::Tx`], so its methods are called
//! on the same objects.

use crate::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use voronka_core::scoring::{Activity, Event, FitLevel, Matrix, Profile};
use voronka_core::{Id, Millis, Stage, Temperature};

/// One behaviour event to store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    pub visitor_id: Option<String>,
    /// Set when the sender knows the lead (server-side calls with a token).
    pub lead_id: Option<Id>,
    /// The tracking site's key, or the API token's name.
    pub source: String,
    pub name: String,
    pub url: Option<String>,
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub at: Millis,
    pub received_at: Millis,
    /// The sender's own id of the event: one its source has stored already is not stored again.
    #[serde(default)]
    pub key: Option<String>,
}

/// A stored event with the lead it belongs to (none while its visitor is anonymous).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: Id,
    pub visitor_id: Option<String>,
    pub lead_id: Option<Id>,
    pub source: String,
    pub name: String,
    pub url: Option<String>,
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub at: Millis,
}

impl EventRow {
    pub fn scoring_event(&self) -> Event {
        Event {
            id: self.id,
            name: self.name.clone(),
            at: self.at,
            url: self.url.clone(),
            properties: self.properties.clone(),
        }
    }
}

/// What ingesting a batch of events did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ingested {
    pub stored: usize,
    /// Leads the events attached to (directly or through their visitor), to rescore.
    pub leads: Vec<Id>,
    /// Visitors seen for the first time, each counted as an interest.
    pub new_visitors: usize,
    /// How many of `leads` were queued for the rescoring worker rather than rescored at once.
    #[serde(default)]
    pub queued: usize,
    /// Events skipped because their source had already sent them under the same id.
    #[serde(default)]
    pub duplicates: usize,
}

/// What the scorer needs of one lead.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoringInput {
    pub lead_id: Id,
    pub stage: Stage,
    pub callback: bool,
    pub temperature: Temperature,
    pub temperature_manual: bool,
    pub profile: Profile,
    /// The raw submissions of the lead's touches, oldest first, when its profile was never
    /// recorded (leads from before scoring): the profile is rebuilt from them.
    pub raws: Vec<serde_json::Value>,
    pub events: Vec<Event>,
    /// The conversion model's probability for the lead, when it has one.
    pub conversion: Option<f64>,
    /// The score as stored, so unchanged leads are not written again.
    pub stored: StoredScore,
}

/// A lead's new score.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreUpdate {
    pub lead_id: Id,
    pub fit: i64,
    pub engagement: i64,
    pub total: i64,
    pub fit_level: FitLevel,
    pub activity: Activity,
    /// `None` keeps the temperature (set by hand).
    pub temperature: Option<Temperature>,
    pub at: Millis,
}

/// A lead's stored score, for the card and the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredScore {
    pub fit: i64,
    pub engagement: i64,
    pub total: i64,
    pub fit_level: FitLevel,
    pub activity: Activity,
    pub temperature_manual: bool,
    pub scored_at: Option<Millis>,
}

/// A site the tracker script runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingSite {
    pub id: Id,
    pub key: String,
    pub name: String,
    /// Origins allowed to send events (`https://shop.example.com`); empty: any.
    pub origins: Vec<String>,
    /// Whether browsers sending Do-Not-Track are left untracked.
    pub honour_dnt: bool,
    pub created_at: Millis,
}

/// A full rescoring, with its progress.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRun {
    pub id: Id,
    /// Why the run started, in words (made from `reason_code` when the run keeps one).
    pub reason: String,
    /// Why the run started, as a code of `voronka_core::notice_text` (`None` for runs stored
    /// with their words).
    #[serde(default)]
    pub reason_code: Option<String>,
    pub total: i64,
    pub done: i64,
    pub changed: i64,
    pub started_at: Millis,
    pub finished_at: Option<Millis>,
}

/// Stored rule sets, newest last.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRules {
    pub id: Id,
    /// The rules as JSON.
    pub body: String,
    pub created_by: String,
    pub created_at: Millis,
}

#[async_trait]
pub trait ScoreStore {
    /// The rules in force, if any were ever saved.
    async fn current_scoring_rules(&self) -> Result<Option<StoredRules>>;
    async fn save_scoring_rules(&self, body: &str, by: &str, at: Millis) -> Result<Id>;

    async fn create_tracking_site(
        &self,
        name: &str,
        key: &str,
        origins: &[String],
        honour_dnt: bool,
        at: Millis,
    ) -> Result<TrackingSite>;
    async fn tracking_site_by_key(&self, key: &str) -> Result<Option<TrackingSite>>;
    async fn tracking_sites(&self) -> Result<Vec<TrackingSite>>;

    /// A lead's events, newest first.
    async fn lead_events(&self, lead_id: Id, limit: i64) -> Result<Vec<EventRow>>;
    /// Scoring inputs of these leads, read outside any transaction (explanations).
    async fn scoring_inputs(&self, lead_ids: &[Id]) -> Result<Vec<ScoringInput>>;
    async fn lead_score(&self, lead_id: Id) -> Result<Option<StoredScore>>;
    /// Open leads per fit level × activity (all when `owner` is `None`).
    async fn score_matrix(&self, owner: Option<Id>) -> Result<Matrix>;
    /// The pages of a full rescoring: the unmerged lead ids among the `limit` leads after
    /// `after` (in id order), and the last id looked at (`None` at the end).
    async fn lead_ids_after(&self, after: Id, limit: i64) -> Result<(Vec<Id>, Option<Id>)>;
    async fn count_all_leads(&self) -> Result<i64>;
    /// Leads waiting on the rescoring queue (each once, across the queue and the log).
    async fn rescore_backlog(&self) -> Result<i64>;
    /// Whether any lead waits on the rescoring queue: cheap at any length, unlike the count.
    async fn rescore_waiting(&self) -> Result<bool>;
    /// When the lead that has waited longest on the rescoring queue was queued.
    async fn rescore_oldest(&self) -> Result<Option<Millis>>;

    async fn start_score_run(&self, reason: &str, total: i64, at: Millis) -> Result<Id>;
    async fn progress_score_run(
        &self,
        id: Id,
        done: i64,
        changed: i64,
        finished_at: Option<Millis>,
    ) -> Result<()>;
    async fn latest_score_run(&self) -> Result<Option<ScoreRun>>;
}

#[async_trait]
pub trait ScoreTx {
    /// Stores events, attaching each to its lead (given, or through the visitor's latest touch),
    /// and records an interest for each visitor never seen before.
    async fn insert_events(&mut self, events: &[NewEvent]) -> Result<Ingested>;
    /// Gives the anonymous events of these visitors to a lead (the visitor has just identified);
    /// returns the leads that received any.
    async fn stitch_visitors(&mut self, rows: &[(String, Id)]) -> Result<Vec<Id>>;
    /// Scoring inputs of these leads (merged-away leads are left out).
    async fn scoring_inputs(&mut self, lead_ids: &[Id]) -> Result<Vec<ScoringInput>>;
    /// Which of these leads exist and are not merged away.
    async fn unmerged_leads(&mut self, lead_ids: &[Id]) -> Result<Vec<Id>>;
    async fn update_scores(&mut self, rows: &[ScoreUpdate]) -> Result<()>;
    /// Replaces a lead's profile.
    async fn set_profile(&mut self, lead_id: Id, profile: &Profile) -> Result<()>;
    /// Sets or clears the hand-set temperature mark.
    async fn set_temperature_manual(&mut self, lead_id: Id, manual: bool) -> Result<()>;
    /// Puts leads on the rescoring queue (a lead already waiting is queued once).
    async fn queue_rescore(&mut self, lead_ids: &[Id], at: Millis) -> Result<()>;
    /// Takes up to `limit` queued leads with ids above `after` off the rescoring queue, in
    /// ascending order of id: the worker sweeps the queue by lead id, so that one transaction's
    /// leads lie close together in the tables and their indexes, and a lead waits at most one
    /// sweep. They return to the queue if the transaction does not commit; on PostgreSQL
    /// concurrent workers take different leads.
    async fn claim_rescore(&mut self, after: Id, limit: i64) -> Result<Vec<Id>>;
}
