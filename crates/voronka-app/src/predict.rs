//! Predictive conversion score: training on closed leads, scoring open leads, the current model
//! kept in memory for the intake, and nightly retraining as a durable job.

use crate::{now_ms, App, AppError, Message, Result};
use serde::Serialize;
use std::sync::{Arc, RwLock};
use voronka_core::predict::{self, ConversionModel, TrainOptions};
use voronka_core::{Id, Millis};
use voronka_store::StoredModel;

/// Job that retrains the model and schedules the next run.
pub const RETRAIN_MODEL: &str = "retrain_model";
/// Retraining runs daily at this hour (UTC).
const RETRAIN_HOUR_UTC: i64 = 3;
const DAY_MS: Millis = 86_400_000;

/// The model the intake scores new leads with; replaced when a newer one is stored.
#[derive(Default)]
pub(crate) struct ModelSlot(RwLock<Option<(Id, Arc<ConversionModel>)>>);

impl ModelSlot {
    pub(crate) fn get(&self) -> Option<Arc<ConversionModel>> {
        self.0.read().ok()?.as_ref().map(|(_, m)| m.clone())
    }
    fn id(&self) -> Option<Id> {
        self.0.read().ok()?.as_ref().map(|(id, _)| *id)
    }
    fn set(&self, id: Id, m: Arc<ConversionModel>) {
        if let Ok(mut g) = self.0.write() {
            *g = Some((id, m));
        }
    }
}

/// What a training run did.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub model_id: Id,
    /// Closed leads learnt from.
    pub training_size: usize,
    /// Open leads given a probability.
    pub scored: usize,
    /// Time spent reading, training and scoring.
    pub took_ms: u64,
    pub model: ConversionModel,
}

/// The current model with its stored identity.
#[derive(Debug, Clone, Serialize)]
pub struct CurrentModel {
    pub id: Id,
    pub trained_at: Millis,
    pub training_size: i64,
    pub model: ConversionModel,
}

/// The next retraining time after `now`: the coming day's retraining hour.
pub fn next_retrain_at(now: Millis) -> Millis {
    let today = now.div_euclid(DAY_MS) * DAY_MS + RETRAIN_HOUR_UTC * 3_600_000;
    if today > now {
        today
    } else {
        today + DAY_MS
    }
}

fn too_few(e: predict::PredictError) -> AppError {
    AppError::Invalid {
        message: Message::new("model_not_trained_reason").with("problem", e),
        fields: Vec::new(),
    }
}

impl App {
    /// Learns from every closed lead, stores the model, scores every open lead with it and makes
    /// sure the nightly retraining is scheduled.
    pub async fn train_model(&self) -> Result<TrainReport> {
        let r = self.train_model_with(TrainOptions::default()).await?;
        self.schedule_retraining(None).await?;
        Ok(r)
    }

    /// Trains, stores and scores without touching the schedule.
    pub async fn train_model_with(&self, opts: TrainOptions) -> Result<TrainReport> {
        let started = std::time::Instant::now();
        let examples = self.store.closed_lead_features().await?;
        let now = now_ms();
        // Seconds of CPU at a million leads: off the async workers.
        let model = tokio::task::spawn_blocking(move || predict::train(&examples, &opts, now))
            .await
            .map_err(|e| AppError::Io(format!("training stopped: {e}")))?
            .map_err(too_few)?;
        let stored = StoredModel {
            id: 0,
            format: predict::MODEL_FORMAT as i64,
            trained_at: now,
            training_size: model.metrics.closed as i64,
            auc: model.metrics.model.auc,
            baseline_auc: model.metrics.baseline.auc,
            model: model.to_json(),
        };
        let id = self.store.save_conversion_model(&stored).await?;
        let model = Arc::new(model);
        self.model.set(id, model.clone());
        let scored = self.score_open_leads(&model).await?;
        Ok(TrainReport {
            model_id: id,
            training_size: model.metrics.closed,
            scored,
            took_ms: started.elapsed().as_millis() as u64,
            model: (*model).clone(),
        })
    }

    /// Gives every open lead its probability under `model`; returns how many.
    async fn score_open_leads(&self, model: &Arc<ConversionModel>) -> Result<usize> {
        let open = self.store.open_lead_features().await?;
        let m = model.clone();
        let rows: Vec<(Id, f64)> = tokio::task::spawn_blocking(move || {
            open.iter().map(|(id, f)| (*id, m.probability(f))).collect()
        })
        .await
        .map_err(|e| AppError::Io(format!("scoring stopped: {e}")))?;
        self.store.set_conversion_probabilities(&rows).await?;
        self.qualify_by_conversion(None).await?;
        Ok(rows.len())
    }

    /// Leads (these, or every lead with `None`) that a qualification threshold of the scoring
    /// rules can move with their new probability of conversion — new ones past the MQL
    /// threshold, MQL ones past the SQL threshold — go to the rescoring queue, which makes their
    /// stage moves (with the rule named in their history) as for any other change of their
    /// score. Leads in other stages, which no threshold moves, are left alone.
    async fn qualify_by_conversion(&self, ids: Option<&[Id]>) -> Result<()> {
        let scorer = self.scorer();
        let q = &scorer.rules().qualify;
        if q.conversion_threshold().is_none() {
            return Ok(());
        }
        let ppm = |t: Option<f64>| t.map(voronka_store::probability_to_ppm);
        let reached = self
            .store
            .leads_qualifying_by_conversion(
                ids,
                ppm(q.mql_conversion.filter(|_| q.mql_enabled())),
                ppm(q.sql_conversion),
            )
            .await?;
        if reached.is_empty() {
            return Ok(());
        }
        let mut tx = self.store.begin().await?;
        tx.queue_rescore(&reached, crate::now_ms()).await?;
        tx.commit().await?;
        self.rescore_wake.notify_one();
        Ok(())
    }

    /// Gives these leads their probability under the current model (none without one): a lead
    /// that opens again after it closed was left out when the model scored the open leads.
    pub(crate) async fn predict_leads(&self, ids: &[Id]) -> Result<Vec<(Id, f64)>> {
        let Some(model) = self.model.get() else {
            return Ok(Vec::new());
        };
        let rows: Vec<(Id, f64)> = self
            .store
            .lead_features(ids)
            .await?
            .iter()
            .map(|(id, f)| (*id, model.probability(f)))
            .collect();
        self.store.set_conversion_probabilities(&rows).await?;
        let ids: Vec<Id> = rows.iter().map(|(id, _)| *id).collect();
        self.qualify_by_conversion(Some(&ids)).await?;
        Ok(rows)
    }

    /// Rescores every open lead with the current model (none without a model).
    pub async fn rescore_open_leads(&self) -> Result<usize> {
        self.refresh_model().await?;
        match self.model.get() {
            Some(m) => self.score_open_leads(&m).await,
            None => Ok(0),
        }
    }

    /// The current model for someone allowed to see reports.
    pub async fn model_for(&self, actor: &crate::Actor) -> Result<Option<CurrentModel>> {
        actor.require_reports()?;
        self.current_model().await
    }

    /// Training on request: administrators only.
    pub async fn train_model_as(&self, actor: &crate::Actor) -> Result<TrainReport> {
        actor.require_admin()?;
        self.train_model().await
    }

    /// The stored current model, if any was trained.
    pub async fn current_model(&self) -> Result<Option<CurrentModel>> {
        let Some(s) = self.store.current_conversion_model().await? else {
            return Ok(None);
        };
        let model = ConversionModel::from_json(&s.model)
            .map_err(|e| AppError::Io(format!("stored model {} is unreadable: {e}", s.id)))?;
        Ok(Some(CurrentModel {
            id: s.id,
            trained_at: s.trained_at,
            training_size: s.training_size,
            model,
        }))
    }

    /// Loads the newest stored model into memory when it is not the one held (another process
    /// or the command line may have trained it). One small query when nothing changed.
    pub async fn refresh_model(&self) -> Result<()> {
        let latest = self.store.current_conversion_model_id().await?;
        if latest.is_none() || latest == self.model.id() {
            return Ok(());
        }
        match self.current_model().await {
            Ok(Some(c)) => self.model.set(c.id, Arc::new(c.model)),
            Ok(None) => {}
            // A model of an older format is ignored until the next training.
            Err(e) => tracing::warn!(error = %e, "current conversion model not loaded"),
        }
        Ok(())
    }

    /// Schedules the next retraining unless one (other than the running job `running`) is waiting.
    pub async fn schedule_retraining(&self, running: Option<Id>) -> Result<()> {
        if self.store.has_pending_job(RETRAIN_MODEL, running).await? {
            return Ok(());
        }
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        tx.enqueue_job(RETRAIN_MODEL, "{}", next_retrain_at(now), now)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The retraining job: trains (too few closed leads only postpones to the next night), then
    /// the next run is scheduled.
    pub(crate) async fn run_retraining(&self, job_id: Id) -> Result<()> {
        match self.train_model_with(TrainOptions::default()).await {
            Ok(r) => tracing::info!(
                model = r.model_id,
                closed = r.training_size,
                auc = r.model.metrics.model.auc,
                "conversion model retrained"
            ),
            Err(AppError::Invalid { message, .. }) => {
                tracing::info!(%message, "conversion model not retrained");
            }
            Err(e) => return Err(e),
        }
        self.schedule_retraining(Some(job_id)).await
    }
}
