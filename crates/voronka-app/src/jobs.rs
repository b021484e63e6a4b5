//! Durable jobs: stored in the database, claimed with a lease so that several processes never
//! run the same job at once, and run late (on start) if they fell due while nobody was running.

use crate::{now_ms, App, Result};
use serde::Deserialize;
use std::time::Duration;

/// Returns a refused lead to working when its freeze date passes.
pub const REVIVE_LEAD: &str = "revive_lead";

const LEASE_MS: i64 = 60_000;

/// Leads added to the search index per transaction: large enough to index in bulk, small enough
/// that the intake waits at most a moment for the write lock.
const SEARCH_INDEX_SLICE: i64 = 5_000;
/// How often the search index takes in new leads (SQLite): each pass holds the write lock for
/// one statement over the leads of that interval.
const SEARCH_INDEX_EVERY: Duration = Duration::from_millis(250);

#[derive(Deserialize)]
struct RevivePayload {
    lead_id: i64,
}

impl App {
    /// Claims and runs the jobs that are due now; returns how many ran.
    pub async fn run_due_jobs(&self, worker: &str) -> Result<usize> {
        self.run_due_jobs_at(worker, now_ms()).await
    }

    /// Claims and runs the jobs due at `now` (a later `now` runs timers early: for tests and
    /// operators catching up).
    pub async fn run_due_jobs_at(&self, worker: &str, now: crate::Millis) -> Result<usize> {
        let mut jobs = self.store.claim_jobs(worker, now, LEASE_MS, 100).await?;
        let n = jobs.len();
        // SLA steps that fell due together run in one transaction; if that fails, one by one.
        let steps: Vec<(voronka_core::Id, crate::speed::SlaStepPayload)> = jobs
            .iter()
            .filter(|j| j.kind == crate::speed::SLA_STEP)
            .filter_map(|j| Some((j.id, serde_json::from_str(&j.payload).ok()?)))
            .collect();
        if steps.len() > 1 {
            match self.run_sla_steps(&steps, worker).await {
                Ok(()) => {
                    crate::telemetry::jobs(crate::speed::SLA_STEP, true, steps.len());
                    let done: std::collections::HashSet<voronka_core::Id> =
                        steps.iter().map(|(id, _)| *id).collect();
                    jobs.retain(|j| !done.contains(&j.id));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "SLA steps as a batch failed; running them one by one")
                }
            }
        }
        for job in jobs {
            let outcome = match job.kind.as_str() {
                REVIVE_LEAD => match serde_json::from_str::<RevivePayload>(&job.payload) {
                    Ok(p) => self.revive_if_due(p.lead_id, now_ms()).await.map(|_| ()),
                    Err(e) => Err(crate::AppError::Io(format!("bad payload: {e}"))),
                },
                crate::predict::RETRAIN_MODEL => self.run_retraining(job.id).await,
                crate::scoring::RESCORE => self.run_rescore_job(job.id, &job.payload).await,
                crate::speed::SLA_STEP => {
                    match serde_json::from_str::<crate::speed::SlaStepPayload>(&job.payload) {
                        Ok(p) => self.run_sla_step(&p, worker).await,
                        Err(e) => Err(crate::AppError::Io(format!("bad payload: {e}"))),
                    }
                }
                crate::speed::WEBHOOK => {
                    match serde_json::from_str::<crate::speed::WebhookPayload>(&job.payload) {
                        Ok(p) => self.send_webhook(&p).await,
                        Err(e) => Err(crate::AppError::Io(format!("bad payload: {e}"))),
                    }
                }
                crate::mail::EMAIL => {
                    match serde_json::from_str::<crate::mail::EmailPayload>(&job.payload) {
                        Ok(p) => self.send_email(&p).await,
                        Err(e) => Err(crate::AppError::Io(format!("bad payload: {e}"))),
                    }
                }
                other => Err(crate::AppError::Io(format!("unknown job kind {other}"))),
            };
            crate::telemetry::jobs(&job.kind, outcome.is_ok(), 1);
            match outcome {
                Ok(()) => self.store.finish_job(job.id, now_ms()).await?,
                Err(e) => {
                    // Back off: 1 min, 2, 4 … up to a day.
                    let delay = (60_000i64 << job.attempts.clamp(0, 10)).min(86_400_000);
                    tracing::warn!(job = job.id, kind = %job.kind, error = %e, "job failed");
                    self.store
                        .fail_job(job.id, &e.to_string(), now_ms() + delay)
                        .await?;
                }
            }
        }
        Ok(n)
    }

    /// Forgets identical-payload keys once their window has passed. Idempotency keys given by
    /// clients and import row keys are kept: they are what makes a repeat or a re-run a no-op.
    pub async fn purge_expired_keys(&self) -> Result<u64> {
        let before = now_ms() - self.settings.duplicate_window_ms * 6;
        Ok(self.store.purge_payload_keys(before).await?)
    }

    /// Adds the leads the search index does not hold yet, a slice per transaction, until it
    /// holds every lead there was when its last slice began; returns how many it added.
    ///
    /// A slice that is not full ends the pass: leads that arrived meanwhile wait for the next
    /// one. Chasing them at once would index every few dozen captured leads in a transaction
    /// of their own, taking the write lock between every two intake batches.
    pub async fn catch_up_search_index(&self) -> Result<u64> {
        let mut added = 0;
        loop {
            let started = std::time::Instant::now();
            let slice = self.store.index_search(SEARCH_INDEX_SLICE).await?;
            if slice.added > 0 {
                tracing::debug!(
                    leads = slice.added,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                    held_ms = slice.held.as_secs_f64() * 1000.0,
                    "search index slice added"
                );
            }
            added += slice.added;
            if slice.added < SEARCH_INDEX_SLICE as u64 {
                return Ok(added);
            }
        }
    }

    /// Keeps the search index (SQLite) up with new leads four times a second, until the process
    /// ends.
    /// Nothing to do on PostgreSQL, whose index is kept in every transaction.
    pub fn spawn_search_indexer(&self) -> Option<tokio::task::JoinHandle<()>> {
        if self.store.backend() != voronka_store::Backend::Sqlite {
            return None;
        }
        let app = self.clone();
        Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(SEARCH_INDEX_EVERY).await;
                if let Err(e) = app.catch_up_search_index().await {
                    tracing::error!(error = %e, "adding new leads to the search index");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }))
    }

    /// Runs jobs until the process ends.
    pub fn spawn_job_runner(&self, worker: String, every: Duration) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        self.spawn_rescorer();
        self.spawn_search_indexer();
        tokio::spawn(async move {
            let mut last_purge = std::time::Instant::now();
            let mut last_stats = std::time::Instant::now();
            loop {
                // SQLite's planner statistics follow the data only if refreshed now and then.
                if last_stats.elapsed() > Duration::from_secs(3600)
                    && app.store.backend() == voronka_store::Backend::Sqlite
                {
                    last_stats = std::time::Instant::now();
                    if let Err(e) = app.store.optimize().await {
                        tracing::error!(error = %e, "refreshing planner statistics");
                    }
                }
                if last_purge.elapsed() > Duration::from_secs(60) {
                    last_purge = std::time::Instant::now();
                    // A model trained by another process or the command line replaces ours.
                    if let Err(e) = app.refresh_model().await {
                        tracing::error!(error = %e, "loading the conversion model");
                    }
                    // So are scoring rules saved by another process.
                    if let Err(e) = app.refresh_scoring_rules().await {
                        tracing::error!(error = %e, "loading the scoring rules");
                    }
                    if let Err(e) = app.purge_expired_keys().await {
                        tracing::error!(error = %e, "purging capture keys");
                    }
                    // SQLite's automatic checkpoints cannot restart the log while writers
                    // queue back to back; a forced one each minute restarts it.
                    match app.store.checkpoint_log().await {
                        Ok(true) => {}
                        Ok(false) => {
                            tracing::warn!("the write-ahead log checkpoint was kept from finishing")
                        }
                        Err(e) => tracing::error!(error = %e, "checkpointing the write-ahead log"),
                    }
                }
                match app.run_due_jobs(&worker).await {
                    Ok(n) if n > 0 => continue,
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = %e, "job runner"),
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}
