//! Scoring: the rules in force, behaviour events, rescoring (a lead at a time as its events
//! arrive, all leads in the background when the rules change and every night for decay) and the
//! explanation of a score.

use crate::{now_ms, Actor, App, AppError, Message, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use voronka_core::intake::{normalize, NormalizeSettings, Submission};
use voronka_core::scoring::{self, LeadScore, Matrix, Profile, Rules, Scorer, StageMove};
use voronka_core::{Channel, Id, Millis, Stage};
use voronka_store::{
    Ingested, NewEvent, NewStageChange, ScoreRun, ScoreUpdate, ScoringInput, StoredScore,
    TrackingSite, Tx,
};

/// Rescores every lead: queued when the rules change, and every night so that engagement fades.
pub const RESCORE: &str = "rescore_leads";

/// Leads rescored per transaction, and per job run before the job hands over to the next.
const PAGE: i64 = 2_000;
const SLICE: i64 = 50_000;

/// Most events one request may carry.
pub const MAX_EVENTS: usize = 1_000;
/// A request whose events reach at most this many known leads rescores them in its own
/// transaction (a tracker's beacon, one server-side event): the score is current when the
/// request returns. Larger uploads queue their leads for the rescoring worker.
pub const INLINE_RESCORE: usize = 32;
/// Leads rescored per transaction by the queue worker. Event batches wait for the write lock
/// while a slice is written: 500 kept both the ingest and the scores ahead of 1,000 and as fast as
/// 250 (docs/benchmarks.md).
const QUEUE_SLICE: i64 = 500;

const DAY_MS: Millis = 86_400_000;
/// The oldest an event may be, sent with its age or its time.
const MAX_AGE_MS: Millis = 365 * DAY_MS;

/// The rules the intake and the rescoring apply; replaced when newer rules are saved.
pub(crate) struct ScorerSlot(RwLock<(Option<Id>, Arc<Scorer>)>);

impl Default for ScorerSlot {
    fn default() -> Self {
        ScorerSlot(RwLock::new((None, Arc::new(Scorer::default()))))
    }
}

impl ScorerSlot {
    pub(crate) fn get(&self) -> Arc<Scorer> {
        self.0
            .read()
            .map(|g| g.1.clone())
            .unwrap_or_else(|_| Arc::new(Scorer::default()))
    }
    fn id(&self) -> Option<Id> {
        self.0.read().ok().and_then(|g| g.0)
    }
    fn set(&self, id: Id, s: Scorer) {
        if let Ok(mut g) = self.0.write() {
            *g = (Some(id), Arc::new(s));
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, Default)]
struct RescorePayload {
    run_id: Id,
    after: Id,
}

/// A score with every contribution, as of now.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub lead_id: Id,
    pub stage: Stage,
    pub score: LeadScore,
    /// What is stored on the lead (from the last rescoring).
    pub stored: StoredScore,
    /// The moves the rules would make now.
    pub moves: Vec<StageMove>,
    /// The lead's latest events (at most 50), newest first.
    pub events: Vec<voronka_core::scoring::Event>,
}

/// One event as sent to the API or by the tracker.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventIn {
    /// The event: `page_view`, `view_product`, `email_click_product` … or a custom name.
    pub name: String,
    /// The tracker's first-party visitor id.
    #[serde(default)]
    pub visitor_id: Option<String>,
    /// The lead, when the sender knows it (server-side calls with a token).
    #[serde(default)]
    pub lead_id: Option<Id>,
    #[serde(default)]
    pub url: Option<String>,
    /// When it happened, in milliseconds since the epoch (now when left out).
    #[serde(default)]
    pub at: Option<Millis>,
    /// How long ago it happened, in milliseconds, as the sender counts at sending (instead of
    /// `at`): a sender whose clock is wrong still dates its events right. The tracker sends it
    /// for events it kept and sends again later.
    #[serde(default)]
    pub age: Option<Millis>,
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// The sender's own id of the event (1 to 128 characters): sent again under the same id
    /// by the same source (a retried request), it is stored once.
    #[serde(default)]
    pub id: Option<String>,
}

fn check_event(i: usize, e: &EventIn, now: Millis) -> Result<()> {
    let bad = |msg: Message| AppError::invalid(&format!("events[{i}]"), msg);
    let name = e.name.trim();
    if name.is_empty() || name.chars().count() > 64 {
        return Err(bad(Message::new("event_name_length")));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
    {
        return Err(bad(Message::new("event_name_characters").with("name", name)));
    }
    if e.visitor_id.is_none() && e.lead_id.is_none() {
        return Err(bad(Message::new("event_needs_visitor_or_lead")));
    }
    if e.visitor_id
        .as_deref()
        .is_some_and(|v| v.trim().is_empty() || v.len() > 128)
    {
        return Err(bad(Message::new("event_visitor_id_length")));
    }
    if e.id
        .as_deref()
        .is_some_and(|v| v.trim().is_empty() || v.len() > 128)
    {
        return Err(bad(Message::new("event_id_length")));
    }
    if e.url.as_deref().is_some_and(|u| u.len() > 2048) {
        return Err(bad(Message::new("event_url_too_long")));
    }
    // Stored as text as sent: a control character (a NUL cannot be stored in PostgreSQL text at
    // all) is refused here with the event named, rather than failing the whole store write.
    let control = |s: &Option<String>| {
        s.as_deref()
            .is_some_and(|s| s.chars().any(char::is_control))
    };
    if control(&e.visitor_id) {
        return Err(bad(Message::new("event_visitor_id_control")));
    }
    if control(&e.id) {
        return Err(bad(Message::new("event_id_control")));
    }
    if control(&e.url) {
        return Err(bad(Message::new("event_url_control")));
    }
    if serde_json::Value::Object(e.properties.clone())
        .to_string()
        .len()
        > 8192
    {
        return Err(bad(Message::new("event_properties_too_large")));
    }
    if e.at.is_some_and(|at| at > now.saturating_add(DAY_MS)) {
        return Err(bad(Message::new("event_time_in_future")));
    }
    // As old as an age may say, and no older.
    if e.at.is_some_and(|at| at < now.saturating_sub(MAX_AGE_MS)) {
        return Err(bad(
            Message::new("event_time_too_old").with("days", MAX_AGE_MS / DAY_MS)
        ));
    }
    if e.at.is_some() && e.age.is_some() {
        return Err(bad(Message::new("event_at_and_age")));
    }
    if e.age.is_some_and(|age| !(0..=MAX_AGE_MS).contains(&age)) {
        return Err(bad(Message::new("event_age_out_of_range")));
    }
    Ok(())
}

impl App {
    /// The rules in force.
    pub fn scorer(&self) -> Arc<Scorer> {
        self.scorer.get()
    }

    /// Loads the newest saved rules (at start, and when another process saved some).
    pub async fn refresh_scoring_rules(&self) -> Result<()> {
        let Some(stored) = self.store.current_scoring_rules().await? else {
            return Ok(());
        };
        if Some(stored.id) == self.scorer.id() {
            return Ok(());
        }
        match Rules::from_stored_json(&stored.body) {
            Ok(r) => self.scorer.set(stored.id, Scorer::new(r)),
            Err(e) => tracing::warn!(error = %e, "stored scoring rules not loaded"),
        }
        Ok(())
    }

    /// Saves new rules, puts them in force and rescores every lead in the background.
    pub async fn save_scoring_rules(&self, actor: &Actor, rules: Rules) -> Result<ScoreRun> {
        actor.require_forms()?;
        rules
            .check()
            .map_err(|e| AppError::invalid("rules", Message::from(&e)))?;
        let now = now_ms();
        let id = self
            .store
            .save_scoring_rules(&rules.to_json(), &actor.name(), now)
            .await?;
        self.scorer.set(id, Scorer::new(rules));
        self.start_rescore("rescore_rules_changed", now).await
    }

    /// A full rescoring asked for by a person or a token (those who manage scoring).
    pub async fn rescore_asked(&self, actor: &Actor) -> Result<ScoreRun> {
        actor.require_forms()?;
        self.start_rescore("rescore_asked", now_ms()).await
    }

    /// Queues a full rescoring; its progress is read with [`App::latest_score_run`].
    /// Starts rescoring every lead; `reason` is a code of `voronka_core::notice_text`.
    pub async fn start_rescore(&self, reason: &str, now: Millis) -> Result<ScoreRun> {
        let total = self.store.count_all_leads().await?;
        let run_id = self.store.start_score_run(reason, total, now).await?;
        let payload = serde_json::to_string(&RescorePayload { run_id, after: 0 })
            .map_err(|e| AppError::Io(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        tx.enqueue_job(RESCORE, &payload, now, now).await?;
        tx.commit().await?;
        self.store
            .latest_score_run()
            .await?
            .ok_or_else(|| AppError::Io("the rescoring run was not recorded".into()))
    }

    pub async fn latest_score_run(&self) -> Result<Option<ScoreRun>> {
        Ok(self.store.latest_score_run().await?)
    }

    /// The rescoring job: a slice of leads, then the next slice as a new job, so other jobs
    /// (SLA timers) run in between. The last slice schedules the next nightly run.
    pub(crate) async fn run_rescore_job(&self, job_id: Id, payload: &str) -> Result<()> {
        let mut p: RescorePayload =
            serde_json::from_str(payload).map_err(|e| AppError::Io(format!("bad payload: {e}")))?;
        self.refresh_scoring_rules().await?;
        if p.run_id == 0 {
            // The nightly run is recorded when it starts.
            let total = self.store.count_all_leads().await?;
            p.run_id = self
                .store
                .start_score_run("rescore_nightly", total, now_ms())
                .await?;
        }
        let run = self.store.latest_score_run().await?;
        let (mut done, mut changed) = run
            .as_ref()
            .filter(|r| r.id == p.run_id)
            .map_or((0, 0), |r| (r.done, r.changed));
        let mut after = p.after;
        let mut in_slice = 0;
        loop {
            let (ids, last) = self.store.lead_ids_after(after, PAGE).await?;
            let Some(last) = last else {
                let now = now_ms();
                self.store
                    .progress_score_run(p.run_id, done, changed, Some(now))
                    .await?;
                return self.schedule_nightly_rescore(job_id, now).await;
            };
            changed += self.rescore_ids(&ids, now_ms()).await? as i64;
            done += ids.len() as i64;
            after = last;
            in_slice += ids.len() as i64;
            self.store
                .progress_score_run(p.run_id, done, changed, None)
                .await?;
            if in_slice >= SLICE {
                let now = now_ms();
                let next = serde_json::to_string(&RescorePayload {
                    run_id: p.run_id,
                    after,
                })
                .map_err(|e| AppError::Io(e.to_string()))?;
                let mut tx = self.store.begin().await?;
                tx.enqueue_job(RESCORE, &next, now, now).await?;
                tx.commit().await?;
                return Ok(());
            }
        }
    }

    /// Queues tomorrow night's rescoring (decay moves scores even when nothing happens) unless
    /// one is already waiting.
    async fn schedule_nightly_rescore(&self, running: Id, now: Millis) -> Result<()> {
        if self.store.has_pending_job(RESCORE, Some(running)).await? {
            return Ok(());
        }
        let at = crate::predict::next_retrain_at(now) + 30 * 60_000;
        let payload = serde_json::to_string(&RescorePayload::default())
            .map_err(|e| AppError::Io(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        tx.enqueue_job(RESCORE, &payload, at, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Rescores every lead now, in the caller's task (the command line), reporting progress;
    /// `reason` is a code of `voronka_core::notice_text` (other words are kept as they are).
    pub async fn rescore_all(
        &self,
        reason: &str,
        mut progress: impl FnMut(i64, i64),
    ) -> Result<ScoreRun> {
        self.refresh_scoring_rules().await?;
        let now = now_ms();
        let total = self.store.count_all_leads().await?;
        let run_id = self.store.start_score_run(reason, total, now).await?;
        let (mut done, mut changed, mut after) = (0i64, 0i64, 0);
        loop {
            let (ids, last) = self.store.lead_ids_after(after, PAGE).await?;
            let Some(last) = last else {
                break;
            };
            changed += self.rescore_ids(&ids, now_ms()).await? as i64;
            done += ids.len() as i64;
            after = last;
            progress(done, total);
        }
        self.store
            .progress_score_run(run_id, done, changed, Some(now_ms()))
            .await?;
        self.store
            .latest_score_run()
            .await?
            .ok_or_else(|| AppError::Io("the rescoring run was not recorded".into()))
    }

    /// Rescores these leads in one transaction; returns how many changed.
    async fn rescore_ids(&self, ids: &[Id], now: Millis) -> Result<usize> {
        let scorer = self.scorer();
        let mut tx = self.store.begin().await?;
        let n = rescore_in_tx(tx.as_mut(), &scorer, ids, &HashMap::new(), now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Stores events and rescores the leads they belong to, in one transaction.
    pub async fn ingest_events(&self, source: &str, events: Vec<EventIn>) -> Result<Ingested> {
        if events.is_empty() {
            return Err(AppError::invalid("events", Message::new("events_empty")));
        }
        if events.len() > MAX_EVENTS {
            return Err(AppError::invalid(
                "events",
                Message::new("events_too_many").with("max", MAX_EVENTS),
            ));
        }
        let now = now_ms();
        for (i, e) in events.iter().enumerate() {
            check_event(i, e, now)?;
        }
        let rows: Vec<NewEvent> = events
            .into_iter()
            .map(|e| NewEvent {
                visitor_id: e.visitor_id.map(|v| v.trim().to_string()),
                lead_id: e.lead_id,
                source: source.to_string(),
                name: e.name.trim().to_string(),
                url: e.url,
                properties: e.properties,
                at: e.at.or(e.age.map(|age| now - age)).unwrap_or(now),
                received_at: now,
                key: e.id.map(|k| k.trim().to_string()),
            })
            .collect();
        let scorer = self.scorer();
        // A few events: a durable commit of their own (syncing the log afterwards was measured
        // slower for one event: p99 4.5–14.6 ms against 1.6 ms). A batch: the log is synced
        // after the commit, outside the write lock, so that the next batch is written meanwhile;
        // either way nothing is acknowledged before it is on disk.
        let bulk = rows.len() > INLINE_RESCORE;
        let mut laps = crate::Laps::new();
        let mut tx = if bulk {
            self.store.begin_deferred_sync().await?
        } else {
            self.store.begin().await?
        };
        laps.lap("begin");
        if let Some(missing) = missing_lead(tx.as_mut(), &rows).await? {
            return Err(AppError::invalid(
                "lead_id",
                Message::new("lead_not_found").with("id", missing),
            ));
        }
        let mut ingested = tx.insert_events(&rows).await?;
        laps.lap("store");
        if ingested.leads.len() <= INLINE_RESCORE {
            rescore_in_tx(tx.as_mut(), &scorer, &ingested.leads, &HashMap::new(), now).await?;
            laps.lap("rescore");
            tx.commit().await?;
        } else {
            // A bulk upload: the leads wait on the queue, and the worker rescores them in
            // large slices while the next batches arrive.
            tx.queue_rescore(&ingested.leads, now).await?;
            laps.lap("queue");
            tx.commit().await?;
            ingested.queued = ingested.leads.len();
            self.rescore_wake.notify_one();
        }
        laps.lap("commit");
        if bulk {
            self.store.sync_log().await?;
            laps.lap("sync");
        }
        tracing::debug!(
            events = rows.len(),
            leads = ingested.leads.len(),
            "event batch stored: {laps}"
        );
        crate::telemetry::events(ingested.stored, ingested.duplicates);
        Ok(ingested)
    }

    /// Rescores the leads waiting on the queue, a slice per transaction, until it is empty;
    /// returns how many were rescored.
    pub async fn drain_rescore_queue(&self) -> Result<usize> {
        // Looked at without the write lock: an idle worker takes no write transaction.
        if !self.store.rescore_waiting().await? {
            return Ok(0);
        }
        let mut done = 0;
        loop {
            let scorer = self.scorer();
            // Not synced: a slice lost to a power cut goes back on the queue with it (the
            // claim is in the same transaction), and the next sync of the log keeps both.
            let mut tx = self.store.begin_deferred_sync().await?;
            let after = self.rescore_sweep.load(Ordering::Relaxed);
            let ids = tx.claim_rescore(after, QUEUE_SLICE).await?;
            // The sweep starts again from the first lead once it has passed the last one.
            let next = match ids.last() {
                Some(&last) if ids.len() as i64 == QUEUE_SLICE => last,
                _ => 0,
            };
            self.rescore_sweep.store(next, Ordering::Relaxed);
            if ids.is_empty() {
                // Ended now, not when the connection is next used; committed, so that the log
                // the claim moved into the queue stays moved.
                tx.commit().await?;
                if after == 0 {
                    return Ok(done);
                }
                continue;
            }
            rescore_in_tx(tx.as_mut(), &scorer, &ids, &HashMap::new(), now_ms()).await?;
            tx.commit().await?;
            done += ids.len();
        }
    }

    /// Rescores queued leads until the process ends: woken by bulk ingests in this process,
    /// and every second for leads queued by other processes.
    pub fn spawn_rescorer(&self) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                let _ = tokio::time::timeout(
                    std::time::Duration::from_secs(1),
                    app.rescore_wake.notified(),
                )
                .await;
                if let Err(e) = app.drain_rescore_queue().await {
                    tracing::error!(error = %e, "rescoring queued leads");
                    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
                }
            }
        })
    }

    /// Events from the tracker script of a site: the site must exist and the page's origin be
    /// one it allows.
    pub async fn ingest_tracked(
        &self,
        site_key: &str,
        origin: Option<&str>,
        events: Vec<EventIn>,
    ) -> Result<Ingested> {
        let site = self.tracking_site(site_key).await?;
        if !site.origins.is_empty() {
            let ok =
                origin.is_some_and(|o| site.origins.iter().any(|a| a.trim_end_matches('/') == o));
            if !ok {
                return Err(AppError::Forbidden(match origin {
                    Some(o) => Message::new("events_origin_refused").with("origin", o),
                    None => Message::new("events_origin_unknown"),
                }));
            }
        }
        if events.iter().any(|e| e.lead_id.is_some()) {
            return Err(AppError::invalid(
                "lead_id",
                Message::new("tracker_lead_id_refused"),
            ));
        }
        // A browser's clock is not to be trusted: a tracked event is dated by its age (how long
        // ago it happened, by the browser's own clock, at sending), counted back from its
        // arrival (within a year: a browser's clock may also jump); an event without one is
        // dated when it arrives.
        let events = events
            .into_iter()
            .map(|e| EventIn {
                at: None,
                age: e.age.map(|age| age.clamp(0, MAX_AGE_MS)),
                ..e
            })
            .collect();
        self.ingest_events(&format!("site:{}", site.key), events)
            .await
    }

    pub async fn tracking_site(&self, key: &str) -> Result<TrackingSite> {
        self.store
            .tracking_site_by_key(key.trim())
            .await?
            .ok_or_else(|| {
                AppError::NotFound(Message::new("tracking_site_not_found").with("key", key))
            })
    }

    pub async fn tracking_sites(&self, actor: &Actor) -> Result<Vec<TrackingSite>> {
        actor.require_forms()?;
        Ok(self.store.tracking_sites().await?)
    }

    pub async fn create_tracking_site(
        &self,
        actor: &Actor,
        name: &str,
        origins: &[String],
        honour_dnt: bool,
    ) -> Result<TrackingSite> {
        actor.require_forms()?;
        let name = name.trim();
        if name.is_empty() {
            return Err(AppError::invalid(
                "name",
                Message::new("tracking_site_name_required"),
            ));
        }
        let mut clean = Vec::new();
        for o in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            clean.push(origin_of(o).ok_or_else(|| {
                AppError::invalid("origins", Message::new("origin_invalid").with("origin", o))
            })?);
        }
        let key = crate::auth::new_secret("s_")[..26].to_string();
        Ok(self
            .store
            .create_tracking_site(name, &key, &clean, honour_dnt, now_ms())
            .await?)
    }

    /// Every contribution to a lead's score as of now.
    pub async fn explain_score(&self, actor: &Actor, lead_id: Id) -> Result<Explanation> {
        // A merged lead answers with the lead it was merged into.
        let lead_id = self.visible_lead(actor, lead_id).await?.id;
        let scorer = self.scorer();
        let input = self
            .store
            .scoring_inputs(&[lead_id])
            .await?
            .pop()
            .ok_or_else(|| {
                AppError::NotFound(Message::new("lead_not_found").with("id", lead_id))
            })?;
        let profile = effective_profile(&input);
        let now = now_ms();
        let score = scorer.score(&profile, &input.events, input.callback, now);
        let moves = scorer.stage_moves(
            input.stage,
            score.fit,
            score.engagement,
            input.conversion,
            &input.events,
        );
        let events = input.events.iter().rev().take(50).cloned().collect();
        Ok(Explanation {
            lead_id,
            stage: input.stage,
            score,
            stored: input.stored,
            moves,
            events,
        })
    }

    pub async fn score_matrix(&self, actor: &Actor) -> Result<Matrix> {
        actor.require_read_leads()?;
        let owner = match actor.visibility() {
            voronka_store::Visibility::Owner(id) => Some(id),
            _ => None,
        };
        Ok(self.store.score_matrix(owner).await?)
    }

    /// Clears a hand-set temperature: the rules decide again.
    pub async fn clear_temperature_override(&self, actor: &Actor, lead_id: Id) -> Result<()> {
        actor.require_write_leads()?;
        let lead_id = self.visible_lead(actor, lead_id).await?.id;
        let scorer = self.scorer();
        let mut tx = self.store.begin().await?;
        tx.set_temperature_manual(lead_id, false).await?;
        rescore_in_tx(tx.as_mut(), &scorer, &[lead_id], &HashMap::new(), now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// `https://shop.example.com/` → `https://shop.example.com`; anything with a path is refused.
fn origin_of(o: &str) -> Option<String> {
    let (scheme, rest) = o.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let host = rest.strip_suffix('/').unwrap_or(rest);
    if !matches!(scheme.as_str(), "http" | "https")
        || host.is_empty()
        || host.contains(['/', ' ', '?', '#', '@'])
    {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// The lead's profile, rebuilt from its submissions when it was never recorded.
fn effective_profile(input: &ScoringInput) -> Profile {
    if !input.profile.is_empty() || input.raws.is_empty() {
        return input.profile.clone();
    }
    let mut p = Profile::new();
    for raw in &input.raws {
        let Some(fields) = raw.as_object() else {
            continue;
        };
        let mut s = Submission::new(Channel::Api, 0);
        for (k, v) in fields {
            if let Some(v) = v.as_str() {
                s = s.with(k, v);
            }
        }
        scoring::merge_profile(
            &mut p,
            &scoring::profile_of(&normalize(&s, &NormalizeSettings::default())),
        );
    }
    p
}

async fn missing_lead(tx: &mut dyn Tx, rows: &[NewEvent]) -> Result<Option<Id>> {
    let mut ids: Vec<Id> = rows.iter().filter_map(|e| e.lead_id).collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(None);
    }
    let found: std::collections::HashSet<Id> = tx.unmerged_leads(&ids).await?.into_iter().collect();
    Ok(ids.into_iter().find(|id| !found.contains(id)))
}

/// Rescores leads inside the caller's transaction: profiles (with `newer` profile fields folded
/// in first), events, the stored score, the temperature unless set by hand, and the automatic
/// stage moves with a history entry naming the rule. Returns how many leads changed.
pub(crate) async fn rescore_in_tx(
    tx: &mut dyn Tx,
    scorer: &Scorer,
    ids: &[Id],
    newer: &HashMap<Id, Profile>,
    now: Millis,
) -> Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let inputs = tx.scoring_inputs(ids).await?;
    let mut updates = Vec::new();
    let mut changes = Vec::new();
    for input in &inputs {
        let mut profile = effective_profile(input);
        let rebuilt = input.profile.is_empty() && !profile.is_empty();
        let merged = newer.get(&input.lead_id);
        if let Some(p) = merged {
            scoring::merge_profile(&mut profile, p);
        }
        if rebuilt || merged.is_some() {
            tx.set_profile(input.lead_id, &profile).await?;
        }
        let s = scorer.score(&profile, &input.events, input.callback, now);
        let temperature = (!input.temperature_manual).then_some(s.temperature);
        let old = &input.stored;
        if (
            old.fit,
            old.engagement,
            old.total,
            old.fit_level,
            old.activity,
        ) != (s.fit, s.engagement, s.total, s.fit_level, s.activity)
            || temperature.is_some_and(|t| t != input.temperature)
            || old.scored_at.is_none()
        {
            updates.push(ScoreUpdate {
                lead_id: input.lead_id,
                fit: s.fit,
                engagement: s.engagement,
                total: s.total,
                fit_level: s.fit_level,
                activity: s.activity,
                temperature,
                at: now,
            });
        }
        let mut from = input.stage;
        for m in scorer.stage_moves(
            input.stage,
            s.fit,
            s.engagement,
            input.conversion,
            &input.events,
        ) {
            let to = m.to;
            changes.push((input.lead_id, from, m));
            from = to;
        }
    }
    tx.update_scores(&updates).await?;
    // Each lead's final stage, and a history row per move (a lead may pass MQL on to SQL).
    let mut last: HashMap<Id, voronka_core::Stage> = HashMap::new();
    for (lead_id, _, m) in &changes {
        last.insert(*lead_id, m.to);
    }
    let mut stages: Vec<(Id, voronka_core::Stage)> = last.into_iter().collect();
    stages.sort_unstable_by_key(|(id, _)| *id);
    tx.set_stages(&stages, now).await?;
    let history: Vec<NewStageChange> = changes
        .iter()
        .map(|(lead_id, from, m)| {
            NewStageChange::system(
                *lead_id,
                Some(*from),
                m.to,
                None,
                "scoring",
                &voronka_core::SystemMove::ScoreRule { rule: &m.rule },
                now,
            )
        })
        .collect();
    tx.insert_stage_changes(&history).await?;
    Ok(updates.len().max(changes.len()))
}
