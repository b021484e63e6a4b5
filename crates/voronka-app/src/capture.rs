//! The one intake path: normalize → validate → dedup → score → qualify → route → commit → jobs.
//!
//! The pure steps before dedup run in the caller's task. Dedup onwards needs a consistent view of
//! storage, so those steps run in the committer, which carries many captures in one transaction
//! (group commit) and answers each caller only after that transaction has committed.

use crate::{App, AppError, Result, Settings};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use voronka_core::intake::keys::{email_key, search_text};
use voronka_core::intake::{
    self, normalize, validate, DedupPolicy, MatchDecision, NormalizeSettings, Normalized, Outcome,
    Plan, Reason, Submission, ValidationRules,
};
use voronka_core::{Currency, Form, Id, Stage};
use voronka_store::{NewInterest, NewLead, NewStageChange, NewTouch, StageUpdate, Store, Tx};

/// A submission with its context, as handed to [`App::capture`].
#[derive(Debug, Clone)]
pub struct CaptureRequest {
    pub submission: Submission,
    pub form: Option<Form>,
    /// Client-chosen key: the same key never makes a second touch.
    pub idempotency_key: Option<String>,
    /// Identifies the client (IP) for the identical-payload window.
    pub client: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaptureResult {
    Lead,
    Interest,
    Rejected,
}

/// What happened to one submission; stored under its idempotency keys and replayed for repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaptureOutcome {
    pub result: CaptureResult,
    /// new_lead, new_touch, reopened, interest, rejected.
    pub action: String,
    pub lead_id: Option<Id>,
    pub contact_id: Option<Id>,
    pub touch_id: Option<Id>,
    pub interest_id: Option<Id>,
    pub reasons: Vec<Reason>,
    /// True when this answer replays an earlier identical submission.
    #[serde(default)]
    pub repeated: bool,
}

struct Prepared {
    submission: Submission,
    normalized: Normalized,
    validation: intake::Validation,
    keys: Vec<(String, bool)>,
}

type Reply = oneshot::Sender<Result<CaptureOutcome>>;

#[derive(Clone)]
pub(crate) struct Committer {
    tx: mpsc::Sender<(Prepared, Reply)>,
}

impl Committer {
    pub(crate) fn start(store: Arc<dyn Store>, settings: Arc<Settings>) -> Committer {
        let (tx, rx) = mpsc::channel(settings.max_batch * 4);
        tokio::spawn(run_committer(store, settings, rx));
        Committer { tx }
    }
}

async fn run_committer(
    store: Arc<dyn Store>,
    settings: Arc<Settings>,
    mut rx: mpsc::Receiver<(Prepared, Reply)>,
) {
    let policy = DedupPolicy::default();
    let mut batch = Vec::with_capacity(settings.max_batch);
    while rx.recv_many(&mut batch, settings.max_batch).await > 0 {
        let items = std::mem::take(&mut batch);
        match commit_batch(
            store.as_ref(),
            &policy,
            settings.duplicate_window_ms,
            &items,
        )
        .await
        {
            Ok(outcomes) => {
                for ((_, reply), outcome) in items.into_iter().zip(outcomes) {
                    let _ = reply.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, size = items.len(), "intake batch failed to commit");
                let msg = e.to_string();
                for (_, reply) in items {
                    let _ = reply.send(Err(AppError::Io(format!(
                        "could not store the submission: {msg}"
                    ))));
                }
            }
        }
    }
}

/// One transaction for the whole batch; a failing item is rolled back to its savepoint alone.
async fn commit_batch(
    store: &dyn Store,
    policy: &DedupPolicy,
    window: i64,
    items: &[(Prepared, Reply)],
) -> Result<Vec<Result<CaptureOutcome>>> {
    let mut tx = store.begin().await?;
    let mut out = Vec::with_capacity(items.len());
    for (p, _) in items {
        tx.savepoint().await?;
        match apply_one(tx.as_mut(), policy, window, p).await {
            Ok(o) => {
                tx.release_savepoint().await?;
                out.push(Ok(o));
            }
            Err(e) => {
                tracing::warn!(error = %e, "a capture was rolled back");
                tx.rollback_to_savepoint().await?;
                out.push(Err(e));
            }
        }
    }
    tx.commit().await?;
    Ok(out)
}

async fn apply_one(
    tx: &mut dyn Tx,
    policy: &DedupPolicy,
    window: i64,
    p: &Prepared,
) -> Result<CaptureOutcome> {
    let now = p.submission.received_at;
    for (key, permanent) in &p.keys {
        let hit = if *permanent {
            tx.capture_key(key).await?
        } else {
            tx.recent_capture_key(key, now - window).await?
        };
        if let Some(stored) = hit {
            let mut o: CaptureOutcome = serde_json::from_str(&stored)
                .map_err(|e| AppError::Io(format!("stored capture result is unreadable: {e}")))?;
            o.repeated = true;
            return Ok(o);
        }
    }
    let candidates = if p.validation.outcome == Outcome::Lead {
        tx.candidates(&p.normalized).await?
    } else {
        Vec::new()
    };
    let route_ctx = if p.validation.outcome == Outcome::Lead {
        tx.route_context().await?
    } else {
        Default::default()
    };
    let plan = intake::plan_lead(
        &p.normalized,
        p.validation.clone(),
        &candidates,
        policy,
        &route_ctx,
        now,
    );
    let outcome = commit_plan(tx, p, plan).await?;
    let stored = serde_json::to_string(&outcome).map_err(|e| AppError::Io(e.to_string()))?;
    for (key, _) in &p.keys {
        tx.put_capture_key(key, &stored, now).await?;
    }
    Ok(outcome)
}

fn reasons_json(r: &[Reason]) -> String {
    serde_json::to_string(r).unwrap_or_else(|_| "[]".into())
}

async fn commit_plan(tx: &mut dyn Tx, p: &Prepared, plan: Plan) -> Result<CaptureOutcome> {
    let s = &p.submission;
    let n = &p.normalized;
    let now = s.received_at;
    let raw = s.raw_json().to_string();
    let (rejected, reasons, decision, score, stage, route) = match plan {
        Plan::Reject { reasons } => (true, reasons, None, None, None, None),
        Plan::Interest { reasons } => (false, reasons, None, None, None, None),
        Plan::Lead {
            decision,
            score,
            stage,
            route,
            reasons,
        } => (
            false,
            reasons,
            Some(decision),
            Some(score),
            Some(stage),
            Some(route),
        ),
    };
    let (Some(decision), Some(score), Some(stage), Some(route)) = (decision, score, stage, route)
    else {
        let interest_id = tx
            .insert_interest(&NewInterest {
                channel: s.channel,
                form_id: s.form_id,
                rejected,
                visitor_id: n.visitor_id.clone(),
                attribution: n.attribution.clone(),
                ip: s.ip.clone(),
                reasons: reasons_json(&reasons),
                raw,
                created_at: now,
            })
            .await?;
        return Ok(CaptureOutcome {
            result: if rejected {
                CaptureResult::Rejected
            } else {
                CaptureResult::Interest
            },
            action: if rejected { "rejected" } else { "interest" }.into(),
            lead_id: None,
            contact_id: None,
            touch_id: None,
            interest_id: Some(interest_id),
            reasons,
            repeated: false,
        });
    };

    let contact_id = match decision.contact_id() {
        Some(id) => {
            tx.enrich_contact(id, n, now).await?;
            id
        }
        None => tx.insert_contact(n, now).await?,
    };
    let (lead_id, action) = match decision {
        MatchDecision::Touch { lead_id, .. } => (lead_id, "new_touch"),
        MatchDecision::Reopen { lead_id, .. } => {
            let lead = tx
                .lead_for_update(lead_id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("lead {lead_id}")))?;
            tx.set_stage(
                lead_id,
                &StageUpdate {
                    stage: Some(Stage::Working),
                    ..Default::default()
                },
                now,
            )
            .await?;
            tx.add_stage_change(&NewStageChange {
                lead_id,
                from: Some(lead.stage),
                to: Stage::Working,
                actor_id: None,
                actor: "intake".into(),
                reason: Some("asked again".into()),
                comment: Some("a new request reopened the refused lead".into()),
                at: now,
            })
            .await?;
            (lead_id, "reopened")
        }
        MatchDecision::NewContact | MatchDecision::NewLead { .. } => {
            let phones: Vec<&str> = n.phones.iter().filter_map(|p| p.e164.as_deref()).collect();
            let digits: Vec<String> = phones
                .iter()
                .map(|p| p.trim_start_matches('+').to_string())
                .collect();
            let emails: Vec<String> = n.emails.iter().map(email_key).collect();
            let mut parts: Vec<&str> = vec![
                n.full_name.as_deref().unwrap_or(""),
                n.company.as_deref().unwrap_or(""),
                n.product.as_deref().unwrap_or(""),
            ];
            parts.extend(phones.iter().copied());
            parts.extend(digits.iter().map(String::as_str));
            parts.extend(emails.iter().map(String::as_str));
            let id = tx
                .insert_lead(&NewLead {
                    contact_id,
                    product: n.product.clone(),
                    message: n.message.clone(),
                    value: n.value,
                    stage,
                    temperature: score.temperature,
                    score: score.points,
                    owner_id: route.owner_id,
                    form_id: s.form_id,
                    attribution: n.attribution.clone(),
                    reasons: reasons_json(&reasons),
                    route_explanation: Some(route.explanation.clone()),
                    search_text: search_text(&parts),
                    created_at: now,
                })
                .await?;
            tx.add_stage_change(&NewStageChange {
                lead_id: id,
                from: None,
                to: stage,
                actor_id: None,
                actor: "intake".into(),
                reason: Some(format!("captured via {}", s.channel.as_str())),
                comment: None,
                at: now,
            })
            .await?;
            if route.used_round_robin {
                tx.bump_counter("round_robin").await?;
            }
            (id, "new_lead")
        }
    };
    if action != "new_lead" {
        tx.lead_touched(lead_id, now).await?;
    }
    let touch_id = tx
        .insert_touch(&NewTouch {
            lead_id,
            channel: s.channel,
            form_id: s.form_id,
            attribution: n.attribution.clone(),
            partner: s.partner.clone(),
            visitor_id: n.visitor_id.clone(),
            ip: s.ip.clone(),
            user_agent: s.user_agent.clone(),
            message: n.message.clone(),
            raw,
            reasons: reasons_json(&reasons),
            created_at: now,
        })
        .await?;
    Ok(CaptureOutcome {
        result: CaptureResult::Lead,
        action: action.into(),
        lead_id: Some(lead_id),
        contact_id: Some(contact_id),
        touch_id: Some(touch_id),
        interest_id: None,
        reasons,
        repeated: false,
    })
}

fn payload_key(form: Option<Id>, client: &str, s: &Submission) -> String {
    let mut h = Sha256::new();
    h.update(form.unwrap_or(0).to_le_bytes());
    h.update(client.as_bytes());
    for (k, v) in &s.fields {
        // Timing fields differ between two clicks of the same submit button.
        if k == "_started_at" || k == "_fill_ms" {
            continue;
        }
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
        h.update([0]);
    }
    format!("payload:{}", hex::encode(h.finalize()))
}

impl App {
    /// The intake pipeline. Every face (public form, API, import, demo) captures through here.
    pub async fn capture(&self, req: CaptureRequest) -> Result<CaptureOutcome> {
        let settings = &self.settings;
        let form = req.form.as_ref();
        let mut submission = req.submission;
        if let Some(f) = form {
            submission.form_id = Some(f.id);
        }
        let norm_settings = NormalizeSettings {
            default_region: form
                .map(|f| f.default_region.clone())
                .unwrap_or_else(|| settings.default_region.clone()),
            default_currency: Currency::parse(&settings.default_currency)
                .map_err(|e| AppError::Io(format!("default currency: {e}")))?,
            default_product: form.and_then(|f| f.product.clone()),
            honeypot_field: form
                .map(|f| f.honeypot_field.clone())
                .or(Some("website".into())),
        };
        let normalized = normalize(&submission, &norm_settings);
        let rules = ValidationRules {
            min_fill_ms: form.map(|f| f.min_fill_ms).unwrap_or(0),
            ..Default::default()
        };
        let validation = validate(&normalized, &rules);
        let mut keys = Vec::new();
        if let Some(k) = req
            .idempotency_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
        {
            keys.push((
                format!("idem:{}:{}", submission.form_id.unwrap_or(0), k.trim()),
                true,
            ));
        }
        if let Some(client) = req.client.as_deref() {
            keys.push((payload_key(submission.form_id, client, &submission), false));
        }
        let (reply, answer) = oneshot::channel();
        self.committer
            .tx
            .send((
                Prepared {
                    submission,
                    normalized,
                    validation,
                    keys,
                },
                reply,
            ))
            .await
            .map_err(|_| AppError::Unavailable)?;
        answer.await.map_err(|_| AppError::Unavailable)?
    }
}
