//! What an operator asks of a running instance: whether it answers (for a load balancer or a
//! process supervisor), and how much work is waiting.

use crate::{now_ms, Actor, App, AppError, Result};
use serde::Serialize;
use std::time::Duration;
use voronka_core::Millis;

/// How long the database may take to answer a health check.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(5);

/// The work waiting in this database, for an administrator.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub version: &'static str,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// Leads stored (merged ones not counted).
    pub leads: i64,
    /// Background jobs not done yet (due now or later).
    pub jobs_pending: i64,
    pub rescore_queue: RescoreQueue,
    /// Leads the search index has not taken in yet (SQLite; searches read them directly
    /// meanwhile): a few seconds' worth while capture runs, the whole database after an upgrade
    /// until the index is built.
    pub search_backlog: i64,
    /// This process's intake committer since it started.
    pub intake: crate::IntakeCounts,
}

/// Leads waiting for the rescoring worker after bulk event uploads.
#[derive(Debug, Clone, Serialize)]
pub struct RescoreQueue {
    pub leads: i64,
    /// When the lead that has waited longest was queued.
    pub oldest_queued_at: Option<Millis>,
    /// How long it has waited, in milliseconds.
    pub oldest_wait_ms: Option<i64>,
}

impl App {
    /// Whether the database answers within a few seconds.
    pub async fn health(&self) -> Result<()> {
        match tokio::time::timeout(HEALTH_TIMEOUT, self.store.ping()).await {
            Ok(answer) => Ok(answer?),
            Err(_) => Err(AppError::Io(format!(
                "the database did not answer within {} s",
                HEALTH_TIMEOUT.as_secs()
            ))),
        }
    }

    /// The work waiting in this database (administrators only).
    pub async fn status(&self, actor: &Actor) -> Result<Status> {
        actor.require_admin()?;
        self.current_status().await
    }

    /// The same figures for the metrics' scrape (a token with metrics:read).
    pub async fn metrics_status(&self, actor: &Actor) -> Result<Status> {
        actor.require_metrics()?;
        self.current_status().await
    }

    async fn current_status(&self) -> Result<Status> {
        let now = now_ms();
        let oldest = self.store.rescore_oldest().await?;
        Ok(Status {
            version: env!("CARGO_PKG_VERSION"),
            backend: self.store.backend().name(),
            leads: self.store.count_all_leads().await?,
            jobs_pending: self.store.pending_jobs().await?,
            rescore_queue: RescoreQueue {
                leads: self.store.rescore_backlog().await?,
                oldest_queued_at: oldest,
                oldest_wait_ms: oldest.map(|at| (now - at).max(0)),
            },
            search_backlog: self.store.search_backlog().await?,
            intake: self.intake_counts(),
        })
    }
}
