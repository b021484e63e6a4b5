//! The one intake path: normalize → validate → dedup → score → qualify → route → commit → jobs.
//!
//! The pure steps before dedup run in the caller's task. Dedup onwards needs a consistent view of
//! storage, so those steps run in the committer, which carries many captures in one transaction
//! (group commit) and answers each caller only after that transaction has committed.

use crate::{App, AppError, Result, Settings};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use voronka_core::intake::keys::{email_key, search_text};
use voronka_core::intake::{
    self, normalize, validate, DedupPolicy, MatchDecision, NormalizeSettings, Normalized, Outcome,
    Plan, Reason, RouteDecision, Score, Submission, ValidationRules,
};
use voronka_core::{Currency, Form, Id, Millis, Stage, SystemMove};
use voronka_store::{IdTable, NewContactRow, PAYLOAD_KEY_PREFIX};
use voronka_store::{
    NewFormEvent, NewInterest, NewLead, NewStageChange, NewTouch, StageUpdate, Store, Tx,
};

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

impl CaptureOutcome {
    fn interest(interest_id: Id, rejected: bool, reasons: Vec<Reason>) -> Self {
        CaptureOutcome {
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
        }
    }

    fn lead(action: &str, lead_id: Id, contact_id: Id, touch_id: Id, reasons: Vec<Reason>) -> Self {
        CaptureOutcome {
            result: CaptureResult::Lead,
            action: action.into(),
            lead_id: Some(lead_id),
            contact_id: Some(contact_id),
            touch_id: Some(touch_id),
            interest_id: None,
            reasons,
            repeated: false,
        }
    }
}

/// A capture outcome as its keys store it. An outcome that made a touch or an interest gives
/// the same reasons as that row keeps, so they are left to the row ([`StoredOutcome::stored`])
/// and read back from it for a replay ([`restore_reasons`]): a lead's possible duplicates made
/// its reasons most of the stored outcome. Outcomes stored whole, and those stored before this
/// form, have no `reasons_on_row`.
#[derive(Serialize, Deserialize)]
struct StoredOutcome {
    #[serde(flatten)]
    outcome: CaptureOutcome,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    reasons_on_row: bool,
}

/// How [`StoredOutcome`] marks the outcomes whose reasons are on their row.
const REASONS_ON_ROW: &str = "\"reasons_on_row\":true";

impl StoredOutcome {
    /// The text stored under the outcome's permanent keys.
    fn stored(o: &CaptureOutcome) -> Result<String> {
        let on_row = !o.reasons.is_empty() && (o.touch_id.is_some() || o.interest_id.is_some());
        let text = if on_row {
            // Every field but the reasons, which are left to the row.
            serde_json::to_string(&StoredOutcome {
                outcome: CaptureOutcome {
                    result: o.result,
                    action: o.action.clone(),
                    lead_id: o.lead_id,
                    contact_id: o.contact_id,
                    touch_id: o.touch_id,
                    interest_id: o.interest_id,
                    reasons: Vec::new(),
                    repeated: o.repeated,
                },
                reasons_on_row: true,
            })
        } else {
            serde_json::to_string(o)
        };
        text.map_err(|e| AppError::Io(e.to_string()))
    }
}

/// Stored outcomes that left their reasons to their touch or interest get them back, so that
/// each text in `stored` is the whole outcome.
async fn restore_reasons(
    tx: &mut dyn Tx,
    stored: &mut HashMap<String, (String, i64)>,
) -> Result<()> {
    let unreadable =
        |e: serde_json::Error| AppError::Io(format!("stored capture result is unreadable: {e}"));
    let mut partial: Vec<(String, CaptureOutcome)> = Vec::new();
    for (key, (text, _)) in stored.iter() {
        if text.contains(REASONS_ON_ROW) {
            let s: StoredOutcome = serde_json::from_str(text).map_err(unreadable)?;
            if s.reasons_on_row {
                partial.push((key.clone(), s.outcome));
            }
        }
    }
    if partial.is_empty() {
        return Ok(());
    }
    let touches: Vec<Id> = partial.iter().filter_map(|(_, o)| o.touch_id).collect();
    let interests: Vec<Id> = partial
        .iter()
        .filter(|(_, o)| o.touch_id.is_none())
        .filter_map(|(_, o)| o.interest_id)
        .collect();
    let rows = tx.stored_reasons(&touches, &interests).await?;
    for (key, mut o) in partial {
        let list = match (o.touch_id, o.interest_id) {
            (Some(id), _) => rows.touches.get(&id),
            (None, Some(id)) => rows.interests.get(&id),
            (None, None) => None,
        };
        // Touches and interests are never deleted; were one gone, the repeat is still a repeat.
        o.reasons = match list {
            Some(list) => serde_json::from_str(list).map_err(unreadable)?,
            None => {
                tracing::warn!(key, "a stored capture result names a row that is gone");
                Vec::new()
            }
        };
        if let Some((text, _)) = stored.get_mut(&key) {
            *text = serde_json::to_string(&o).map_err(|e| AppError::Io(e.to_string()))?;
        }
    }
    Ok(())
}

struct Prepared {
    submission: Submission,
    normalized: Normalized,
    validation: intake::Validation,
    keys: Vec<(String, bool)>,
    /// The form submit this capture counts for the take rate, when it is not a repeat.
    submit: Option<NewFormEvent>,
    /// What depends on the submission alone, worked out in the caller's task so that the
    /// committer, which every capture waits for in turn, does not.
    derived: Derived,
}

/// The parts of a capture's rows and decisions that depend on the submission alone.
struct Derived {
    /// The touch's raw payload (JSON).
    raw: String,
    /// The lead's search text.
    search_text: String,
    /// The emails' matching keys.
    email_keys: Vec<String>,
    /// The keys the batch's pool of candidates is searched by (phones, emails, socials, block).
    person_keys: Vec<String>,
    /// The submission's score under the rules in force.
    score: Score,
}

impl Derived {
    fn of(s: &Submission, n: &Normalized, scorer: &voronka_core::scoring::Scorer) -> Derived {
        let email_keys: Vec<String> = n.emails.iter().map(email_key).collect();
        Derived {
            raw: s.raw_json(),
            search_text: lead_search_text(n, &email_keys),
            person_keys: person_keys(n, &email_keys),
            email_keys,
            score: intake::score(n, scorer, s.received_at),
        }
    }
}

impl Prepared {
    fn interest_row(&self, rejected: bool, reasons: &[Reason]) -> NewInterest {
        let (s, n) = (&self.submission, &self.normalized);
        NewInterest {
            channel: s.channel,
            form_id: s.form_id,
            rejected,
            visitor_id: n.visitor_id.clone(),
            attribution: n.attribution.clone(),
            ip: s.ip.clone(),
            reasons: Reason::stored_json(reasons),
            raw: self.derived.raw.clone(),
            partner: s.partner.clone(),
            created_at: s.received_at,
        }
    }

    fn lead_row(
        &self,
        contact_id: Id,
        score: &Score,
        stage: Stage,
        route: &RouteDecision,
        reasons: &[Reason],
    ) -> NewLead {
        let (s, n) = (&self.submission, &self.normalized);
        NewLead {
            contact_id,
            product: n.product.clone(),
            message: n.message.clone(),
            value: n.value,
            stage,
            junk_reason: None,
            junk_stored: self
                .validation
                .junk
                .as_ref()
                .map(|r| Reason::stored_json(std::slice::from_ref(r))),
            temperature: score.temperature,
            score: score.points,
            owner_id: route.owner_id,
            form_id: s.form_id,
            attribution: n.attribution.clone(),
            reasons: Reason::stored_json(reasons),
            route: Some(route.why.clone()),
            search_text: self.derived.search_text.clone(),
            kind: n
                .form
                .kind
                .clone()
                .unwrap_or_else(voronka_core::request_kind),
            created_at: s.received_at,
            fit: score.fit,
            engagement: score.engagement,
            fit_level: score.fit_level,
            activity: score.activity,
            profile: serde_json::to_string(&score.profile).unwrap_or_else(|_| "{}".into()),
            temperature_manual: n.temperature.is_some(),
            sla_due_at: None,
            conversion: None,
        }
    }

    fn touch_row(&self, lead_id: Id, reasons: &[Reason]) -> NewTouch {
        let (s, n) = (&self.submission, &self.normalized);
        NewTouch {
            lead_id,
            channel: s.channel,
            form_id: s.form_id,
            attribution: n.attribution.clone(),
            partner: s.partner.clone(),
            visitor_id: n.visitor_id.clone(),
            ip: s.ip.clone(),
            user_agent: s.user_agent.clone(),
            message: n.message.clone(),
            raw: self.derived.raw.clone(),
            reasons: Reason::stored_json(reasons),
            verdict: self.verdict().into(),
            created_at: s.received_at,
            answers: serde_json::to_string(&n.form.answers).unwrap_or_else(|_| "[]".into()),
            consent_text: n.form.consent_text.clone(),
            variant: n.form.variant.clone(),
        }
    }

    /// What the pseudo-lead rules said: junk, flagged by a rule, or clean.
    fn verdict(&self) -> &'static str {
        let v = &self.validation;
        if v.junk.is_some() {
            "junk"
        } else if v
            .reasons
            .iter()
            .any(|r| voronka_core::intake::scrub::rule_info(&r.code).is_some())
        {
            "flag"
        } else {
            "ok"
        }
    }
}

type Reply = oneshot::Sender<Result<CaptureOutcome>>;

#[derive(Clone)]
pub(crate) struct Committer {
    tx: mpsc::Sender<(Prepared, Reply)>,
    counts: Arc<IntakeCounters>,
}

/// What the committer has done since the process started.
#[derive(Default)]
struct IntakeCounters {
    batches: std::sync::atomic::AtomicU64,
    read_ahead: std::sync::atomic::AtomicU64,
    stale: std::sync::atomic::AtomicU64,
}

/// The intake committer's work since this process started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct IntakeCounts {
    /// Batches committed.
    pub batches: u64,
    /// Batches whose candidates were read on another connection while the batch before them
    /// was written (when a whole batch waits: imports, bursts).
    pub candidates_read_ahead: u64,
    /// Candidates read ahead and then read again, because something else had committed.
    pub read_ahead_stale: u64,
}

impl Committer {
    pub(crate) fn counts(&self) -> IntakeCounts {
        use std::sync::atomic::Ordering::Relaxed;
        IntakeCounts {
            batches: self.counts.batches.load(Relaxed),
            candidates_read_ahead: self.counts.read_ahead.load(Relaxed),
            read_ahead_stale: self.counts.stale.load(Relaxed),
        }
    }
}

impl Committer {
    pub(crate) fn start(
        store: Arc<dyn Store>,
        settings: Arc<Settings>,
        model: Arc<crate::predict::ModelSlot>,
        scorer: Arc<crate::scoring::ScorerSlot>,
    ) -> Committer {
        let (tx, rx) = mpsc::channel(settings.max_batch * 4);
        // The committer runs on a thread and runtime of its own. On the shared runtime each of
        // its awaits (a batch makes about twenty statements) queued behind every request handler
        // ready at that moment, which stretched a batch's cycle, and with it every capture's
        // latency, several times over under load. It ends when the last sender is dropped.
        let counts: Arc<IntakeCounters> = Default::default();
        // Candidates read ahead are parsed on the caller's runtime, off the committer's thread.
        let ahead_on = tokio::runtime::Handle::try_current().ok();
        let committer = run_committer(store, settings, model, scorer, rx, counts.clone(), ahead_on);
        let spawned = std::thread::Builder::new()
            .name("voronka-intake".into())
            .spawn(move || {
                match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt.block_on(committer),
                    Err(e) => tracing::error!(error = %e, "the intake committer could not start"),
                }
            });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "the intake committer thread could not start");
        }
        Committer { tx, counts }
    }
}

async fn run_committer(
    store: Arc<dyn Store>,
    settings: Arc<Settings>,
    model: Arc<crate::predict::ModelSlot>,
    scorer: Arc<crate::scoring::ScorerSlot>,
    mut rx: mpsc::Receiver<(Prepared, Reply)>,
    counts: Arc<IntakeCounters>,
    ahead_on: Option<tokio::runtime::Handle>,
) {
    // Committed batches wait here for the log sync that makes them durable; meanwhile the
    // committer writes the next batch. One sync covers every batch committed before it.
    let (synced_tx, synced_rx) = mpsc::unbounded_channel();
    let syncer = tokio::spawn(run_syncer(store.clone(), synced_rx));
    let policy = DedupPolicy::default();
    // One process writes an SQLite database: its committer sees every capture and keeps the
    // identical-payload keys itself.
    let mut recent = (store.backend() == voronka_store::Backend::Sqlite).then(RecentKeys::default);
    let mut batch = Vec::with_capacity(settings.max_batch);
    // A whole batch that was already waiting when the one before it began, with the pool of
    // candidates read for it meanwhile (`None`: not read, or the read failed).
    let mut waiting: Option<(Batch, Option<Pool>)> = None;
    // What the last committed batch left for the next one to bring its candidates up to date.
    let mut handoff: Option<Handoff> = None;
    loop {
        let (items, pool_ahead) = match waiting.take() {
            Some(w) => w,
            None => {
                if rx.recv_many(&mut batch, settings.max_batch).await == 0 {
                    break;
                }
                (std::mem::take(&mut batch), None)
            }
        };
        // When a whole batch waits behind this one (an import, a burst), its candidates are read
        // on another connection while this one is written.
        let mut next = Vec::new();
        if settings.bulk_commit && rx.len() >= settings.max_batch {
            rx.recv_many(&mut next, settings.max_batch).await;
        }
        let carried = pool_ahead
            .zip(handoff.take())
            .map(|(pool, after)| Carried { pool, after });
        let started = std::time::Instant::now();
        let result = {
            let ctx = BatchContext {
                policy: &policy,
                window: settings.duplicate_window_ms,
                model: model.get(),
                scorer: scorer.get(),
                recent: recent.as_ref(),
                pending: &[],
                counts: &counts,
                ahead_on: ahead_on.as_ref(),
            };
            if settings.bulk_commit {
                let next = (!next.is_empty()).then_some(&next[..]);
                commit_batch(&store, &ctx, &items, carried, next).await
            } else {
                commit_each(store.as_ref(), &ctx, &items).await
            }
        };
        crate::telemetry::intake_batch(
            items.len(),
            started.elapsed().as_secs_f64(),
            result.is_ok(),
        );
        let mut next_pool = None;
        let answers: Vec<(Reply, Result<CaptureOutcome>)> = match result {
            Ok(committed) => {
                counts
                    .batches
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if let Some(r) = recent.as_mut() {
                    r.remember(committed.remembered, settings.duplicate_window_ms);
                }
                handoff = committed.handoff;
                next_pool = committed.next_pool;
                items
                    .into_iter()
                    .zip(committed.outcomes)
                    .map(|((p, reply), outcome)| {
                        crate::telemetry::capture(p.submission.channel.as_str(), &outcome);
                        (reply, outcome)
                    })
                    .collect()
            }
            Err(e) => {
                tracing::error!(error = %e, size = items.len(), "intake batch failed to commit");
                let msg = e.to_string();
                items
                    .into_iter()
                    .map(|(p, reply)| {
                        let failed = Err(AppError::Io(format!(
                            "could not store the submission: {msg}"
                        )));
                        crate::telemetry::capture(p.submission.channel.as_str(), &failed);
                        (reply, failed)
                    })
                    .collect()
            }
        };
        if !next.is_empty() {
            waiting = Some((next, next_pool));
        }
        if synced_tx.send(answers).is_err() {
            break;
        }
    }
    drop(synced_tx);
    let _ = syncer.await;
}

/// Answers the callers of committed batches once the log holding them is synced.
///
/// A sync covers every batch committed before it began. Batches committed while one sync runs
/// need a sync that begins after them, but waiting for the running one to end first made their
/// callers wait for up to two syncs; a second sync starts at once instead (at most
/// [`SYNCS_AT_ONCE`] run together; a sync's answers never wait for another's).
async fn run_syncer(
    store: Arc<dyn Store>,
    mut rx: mpsc::UnboundedReceiver<Vec<(Reply, Result<CaptureOutcome>)>>,
) {
    type Answers = Vec<Vec<(Reply, Result<CaptureOutcome>)>>;
    let mut running: tokio::task::JoinSet<(Answers, voronka_store::Result<()>)> =
        tokio::task::JoinSet::new();
    let mut open = true;
    while open || !running.is_empty() {
        let mut groups: Answers = Vec::new();
        tokio::select! {
            received = rx.recv_many(&mut groups, usize::MAX), if open && running.len() < SYNCS_AT_ONCE => {
                if received == 0 {
                    open = false;
                    continue;
                }
                let store = store.clone();
                running.spawn(async move {
                    let started = std::time::Instant::now();
                    let synced = store.sync_log().await;
                    tracing::debug!(
                        batches = groups.len(),
                        captures = groups.iter().map(Vec::len).sum::<usize>(),
                        elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                        "intake log synced"
                    );
                    (groups, synced)
                });
            }
            Some(done) = running.join_next() => {
                match done {
                    Ok((groups, synced)) => answer_synced(groups, &synced),
                    // The task's answers are dropped with it: their callers hear that the
                    // intake is unavailable, never that their capture is stored.
                    Err(e) => tracing::error!(error = %e, "an intake log sync did not finish"),
                }
            }
        }
    }
}

/// At most this many syncs of the intake's log run at once.
const SYNCS_AT_ONCE: usize = 2;

/// Answers the callers of batches a sync covered: their outcomes, or the sync's failure.
fn answer_synced(
    groups: Vec<Vec<(Reply, Result<CaptureOutcome>)>>,
    synced: &voronka_store::Result<()>,
) {
    if let Err(e) = synced {
        tracing::error!(error = %e, "the intake could not make its commits durable");
    }
    for (reply, outcome) in groups.into_iter().flatten() {
        let answer = match (synced, outcome) {
            (Ok(()), outcome) => outcome,
            (Err(e), _) => Err(AppError::Io(format!(
                "could not make the submission durable: {e}"
            ))),
        };
        let _ = reply.send(answer);
    }
}

/// The batch in bulk statements; if anything in it fails, item by item so that one bad
/// submission cannot take the others down with it.
async fn commit_batch(
    store: &Arc<dyn Store>,
    ctx: &BatchContext<'_>,
    items: &[(Prepared, Reply)],
    carried: Option<Carried>,
    next: Option<&[(Prepared, Reply)]>,
) -> Result<Committed> {
    match commit_bulk(store, ctx, items, carried, next).await {
        Ok(outcomes) => Ok(outcomes),
        Err(e) => {
            tracing::warn!(error = %e, size = items.len(), "bulk intake failed; retrying one by one");
            commit_each(store.as_ref(), ctx, items).await
        }
    }
}

/// What every batch of the committer is decided with.
struct BatchContext<'a> {
    policy: &'a DedupPolicy,
    /// Identical payloads from one client within this window are one submission.
    window: i64,
    /// The conversion model new leads are scored with, when one was trained.
    model: Option<Arc<voronka_core::predict::ConversionModel>>,
    /// The scoring rules in force.
    scorer: Arc<voronka_core::scoring::Scorer>,
    /// Identical-payload keys of the last window, kept here instead of in the database when
    /// this process is the database's only writer (SQLite); `None`: they are stored rows.
    recent: Option<&'a RecentKeys>,
    /// Keys kept in memory by earlier items of this batch, not committed yet (item by item).
    pending: &'a [KeyRow],
    counts: &'a IntakeCounters,
    /// Where the next batch's candidates are read ahead; `None`: they are not.
    ahead_on: Option<&'a tokio::runtime::Handle>,
}

/// A capture key with the stored outcome and when it was stored: (key, outcome JSON, at).
type KeyRow = (String, String, Millis);

/// Identical-payload keys of the last window, in memory. On SQLite one process writes the
/// database, so every capture passes this committer: a row per capture (its outcome, a random
/// index entry, a purge later) cost about a fifth of the intake's pace for a guard that lasts
/// seconds. PostgreSQL may be shared by several processes and keeps them as rows.
#[derive(Default)]
pub(crate) struct RecentKeys {
    keys: HashMap<String, (String, Millis)>,
    order: std::collections::VecDeque<(Millis, String)>,
    /// The latest time kept.
    newest: Millis,
}

impl RecentKeys {
    fn get(&self, key: &str) -> Option<&(String, Millis)> {
        self.keys.get(key)
    }

    /// Keeps the keys of a committed batch and forgets those older than `window` before the
    /// newest.
    fn remember(&mut self, rows: Vec<KeyRow>, window: Millis) {
        for (k, outcome, at) in rows {
            self.newest = self.newest.max(at);
            self.order.push_back((at, k.clone()));
            self.keys.insert(k, (outcome, at));
        }
        while let Some((at, _)) = self.order.front() {
            if *at >= self.newest - window {
                break;
            }
            if let Some((at, k)) = self.order.pop_front() {
                // A key stored again later stays for its newer time.
                if self.keys.get(&k).is_some_and(|(_, kept)| *kept == at) {
                    self.keys.remove(&k);
                }
            }
        }
    }
}

/// A committed batch: each item's outcome, and the identical-payload keys to keep in memory.
struct Committed {
    outcomes: Vec<Result<CaptureOutcome>>,
    remembered: Vec<KeyRow>,
    /// For the next batch, when the database's history could be followed (SQLite file).
    handoff: Option<Handoff>,
    /// The next batch's pool of candidates, read while this one was written.
    next_pool: Option<Pool>,
}

/// The submissions of one batch, each with its caller's reply.
type Batch = Vec<(Prepared, Reply)>;

/// What a committed batch tells the next one about candidates read before it committed.
struct Handoff {
    /// The generation the next batch finds when nothing but this batch committed in between.
    expected: (i64, u64),
    /// The contacts this batch created or changed (ids) with their matching keys
    /// (`person_keys` form).
    written: Vec<(Id, Vec<String>)>,
}

/// The pool of candidates read for a batch while the batch before it was written, and what that
/// batch handed over.
struct Carried {
    pool: Pool,
    after: Handoff,
}

/// A batch's pool of candidates read ahead (`Carried::pool`) made current: they were read from a
/// snapshot taken once the batch before began, and nothing but that batch committed since (the
/// generation says so). The contacts it wrote that this batch may match, or that the snapshot
/// brought in their older state, are read again here; the rest is as the snapshot had it.
async fn pool_made_current(
    tx: &mut dyn Tx,
    pool: Pool,
    written: &[(Id, Vec<String>)],
    wanted: &std::collections::HashSet<&str>,
) -> Result<Pool> {
    let read: std::collections::HashSet<Id> = pool.contacts.iter().map(|c| c.contact_id).collect();
    let mut again: Vec<Id> = written
        .iter()
        .filter(|(id, keys)| read.contains(id) || keys.iter().any(|k| wanted.contains(k.as_str())))
        .map(|(id, _)| *id)
        .collect();
    if again.is_empty() {
        return Ok(pool);
    }
    let mut found = pool.contacts;
    again.sort_unstable();
    again.dedup();
    tracing::debug!(
        read_ahead = found.len(),
        read_again = again.len(),
        "candidates read ahead made current"
    );
    found.retain(|c| again.binary_search(&c.contact_id).is_err());
    found.extend(tx.candidate_cards(&again).await?);
    let found = as_the_store_reads(found, wanted);
    Ok(Pool::new(found, wanted.iter().map(|k| k.to_string())))
}

/// Of contacts that include every one the store would bring for the `wanted` keys, those it
/// brings, in id order: each sharing a phone, email or social profile key, and of each wanted
/// block key its latest [`voronka_store::BLOCK_CANDIDATES`]. The batch before may have added
/// contacts to a block key the snapshot had already filled.
fn as_the_store_reads(
    mut contacts: Vec<intake::Candidate>,
    wanted: &std::collections::HashSet<&str>,
) -> Vec<intake::Candidate> {
    contacts.sort_by_key(|c| std::cmp::Reverse(c.contact_id));
    let mut per_block: HashMap<String, usize> = HashMap::new();
    let keep: Vec<bool> = contacts
        .iter()
        .map(|c| {
            // Every block key counts its latest, whether or not a person key brings them too.
            let mut kept = false;
            for (kind, value) in keyed(c) {
                let key = format!("{kind}{value}");
                if !wanted.contains(key.as_str()) {
                    continue;
                }
                kept |= kind != "b:" || {
                    let n = per_block.entry(key).or_default();
                    *n += 1;
                    *n <= voronka_store::BLOCK_CANDIDATES
                };
            }
            kept
        })
        .collect();
    let mut keep = keep.into_iter();
    contacts.retain(|_| keep.next().unwrap_or(false));
    contacts.reverse();
    contacts
}

/// One transaction for the whole batch; a failing item is rolled back to its savepoint alone.
async fn commit_each(
    store: &dyn Store,
    ctx: &BatchContext<'_>,
    items: &[(Prepared, Reply)],
) -> Result<Committed> {
    let mut tx = store.begin_deferred_sync().await?;
    tx.lock_intake().await?;
    let mut out = Vec::with_capacity(items.len());
    let mut remembered = Vec::new();
    for i in 0..items.len() {
        tx.savepoint().await?;
        // The same writer as the bulk path, one submission at a time; earlier items of the
        // batch are already in the transaction, so later ones see them (and the keys they keep
        // in memory, through `pending`).
        let item = BatchContext {
            policy: ctx.policy,
            window: ctx.window,
            model: ctx.model.clone(),
            scorer: ctx.scorer.clone(),
            recent: ctx.recent,
            pending: &remembered,
            counts: ctx.counts,
            ahead_on: None,
        };
        let written = write_batch(tx.as_mut(), &item, &items[i..=i], None, false).await;
        match written {
            Ok(mut w) => {
                tx.release_savepoint().await?;
                remembered.append(&mut w.remembered);
                out.push(
                    w.outcomes
                        .pop()
                        .ok_or_else(|| AppError::Io("no outcome".into())),
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "a capture was rolled back");
                tx.rollback_to_savepoint().await?;
                out.push(Err(e));
            }
        }
    }
    tx.commit().await?;
    Ok(Committed {
        outcomes: out,
        remembered,
        handoff: None,
        next_pool: None,
    })
}

/// Lowercased text the lead list searches: name, company, product, phones (E.164 and digits), emails.
fn lead_search_text(n: &Normalized, emails: &[String]) -> String {
    let phones: Vec<&str> = n.phones.iter().filter_map(|p| p.e164.as_deref()).collect();
    let digits: Vec<&str> = phones.iter().map(|p| p.trim_start_matches('+')).collect();
    let mut parts: Vec<&str> = vec![
        n.full_name.as_deref().unwrap_or(""),
        n.company.as_deref().unwrap_or(""),
        n.product.as_deref().unwrap_or(""),
    ];
    parts.extend(phones.iter().copied());
    parts.extend(digits);
    parts.extend(emails.iter().map(String::as_str));
    search_text(&parts)
}

/// The key of the identical-payload window (`PAYLOAD_KEY_PREFIX` and a hash of the form, the
/// client and the fields); it matters only for that window.
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
    format!("{PAYLOAD_KEY_PREFIX}{}", hex::encode(h.finalize()))
}

/// A post of a form by a visitor, counted as a submit of the variant shown (for the take rate).
#[derive(Debug, Clone, Default)]
pub struct SubmitCount {
    /// The variant the visitor was shown; an unknown one counts toward the base form.
    pub variant: Option<String>,
    pub visitor_id: Option<String>,
}

impl App {
    /// The intake pipeline. Every face (public form, API, import, demo) captures through here.
    pub async fn capture(&self, req: CaptureRequest) -> Result<CaptureOutcome> {
        self.capture_counted(req, None).await
    }

    /// [`App::capture`] of a visitor's form post: an accepted capture that is not a repeat also
    /// counts a submit of the form in the same transaction, so the take rate never disagrees
    /// with the leads stored and the count costs no write of its own.
    pub async fn capture_counted(
        &self,
        req: CaptureRequest,
        submit: Option<SubmitCount>,
    ) -> Result<CaptureOutcome> {
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
        let mut normalized = normalize(&submission, &norm_settings);
        if let Some(f) = form {
            intake::apply_definition(&mut normalized, &submission, &f.definition);
        }
        let rules = ValidationRules {
            min_fill_ms: form.map(|f| f.min_fill_ms).unwrap_or(0),
            require_consent: form
                .and_then(|f| f.definition.consent.as_ref())
                .is_some_and(|c| c.required),
            ..Default::default()
        };
        let scrub = self.scrub().await?;
        let ctx = self.traffic.observe(&submission, scrub.rules());
        let validation = validate(&normalized, &rules, &scrub, &ctx);
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
        let derived = Derived::of(&submission, &normalized, &self.scorer.get());
        let submit = match (form, submit) {
            (Some(f), Some(c)) => Some(crate::forms::form_event(
                f,
                "submit",
                c.variant.as_deref(),
                c.visitor_id.as_deref(),
                submission.received_at,
            )),
            _ => None,
        };
        let (reply, answer) = oneshot::channel();
        self.committer
            .tx
            .send((
                Prepared {
                    submission,
                    normalized,
                    validation,
                    keys,
                    submit,
                    derived,
                },
                reply,
            ))
            .await
            .map_err(|_| AppError::Unavailable)?;
        let outcome = answer.await.map_err(|_| AppError::Unavailable)??;
        // A refused lead the person asked about again is open once more: its conversion chance.
        if outcome.action == "reopened" {
            if let Some(id) = outcome.lead_id {
                if let Err(e) = self.predict_leads(&[id]).await {
                    tracing::warn!(lead = id, error = %e, "scoring a reopened lead");
                }
            }
        }
        Ok(outcome)
    }
}

/// Where one item of a bulk batch ended up, before ids are known.
enum Slot {
    Replay(CaptureOutcome),
    /// The same submission as an earlier item of this batch.
    SameAs(usize),
    /// Index into the batch's interests.
    Interest(usize, bool, Vec<Reason>),
    Lead {
        contact: Ref,
        lead: Ref,
        action: &'static str,
        touch: usize,
        reasons: Vec<Reason>,
    },
}

/// An existing row, or the n-th row of its table that this batch creates.
#[derive(Clone, Copy)]
enum Ref {
    Existing(Id),
    New(usize),
}

impl Ref {
    /// Negative ids stand for rows of this batch inside the pure decisions.
    fn from_id(id: Id) -> Ref {
        if id < 0 {
            Ref::New((-id - 1) as usize)
        } else {
            Ref::Existing(id)
        }
    }
    fn to_id(self) -> Id {
        match self {
            Ref::Existing(id) => id,
            Ref::New(i) => -(i as Id) - 1,
        }
    }
    fn resolve(self, fresh: &[Id]) -> Id {
        match self {
            Ref::Existing(id) => id,
            Ref::New(i) => fresh[i],
        }
    }
}

/// The batch's view of candidate contacts, indexed by matching key; it grows as items create
/// contacts, leads and new phones or emails, so later items of the batch see them.
struct Pool {
    contacts: Vec<intake::Candidate>,
    by_key: HashMap<String, Vec<usize>>,
    by_id: HashMap<Id, usize>,
    /// The keys the batch's items search by: only these are indexed. A crowded block key brings
    /// thousands of namesakes a batch, whose own phones and emails no item asks for.
    wanted: std::collections::HashSet<String>,
}

/// The batch's items that may become leads: the ones matched against candidates.
fn lead_items(items: &[(Prepared, Reply)]) -> impl Iterator<Item = &Prepared> {
    items
        .iter()
        .map(|(p, _)| p)
        .filter(|p| p.validation.outcome == Outcome::Lead)
}

/// A candidate's matching keys as (kind, value); `kind` + `value` is the `person_keys` form.
fn keyed(c: &intake::Candidate) -> impl Iterator<Item = (&'static str, &String)> {
    c.phones
        .iter()
        .map(|p| ("p:", p))
        .chain(c.emails.iter().map(|e| ("e:", e)))
        .chain(c.socials.iter().map(|s| ("s:", s)))
        .chain(c.block_key.iter().map(|b| ("b:", b)))
}

fn person_keys(n: &Normalized, email_keys: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = n
        .phones
        .iter()
        .filter(|p| p.valid)
        .filter_map(|p| p.e164.as_ref().map(|e| format!("p:{e}")))
        .collect();
    keys.extend(email_keys.iter().map(|e| format!("e:{e}")));
    keys.extend(
        n.socials
            .iter()
            .map(|s| format!("s:{}", voronka_core::intake::keys::social_key(s))),
    );
    keys.extend(voronka_core::intake::keys::block_key(n).map(|b| format!("b:{b}")));
    keys
}

impl Pool {
    fn new(found: Vec<intake::Candidate>, wanted: impl Iterator<Item = String>) -> Pool {
        let mut pool = Pool {
            contacts: Vec::with_capacity(found.len()),
            by_key: HashMap::new(),
            by_id: HashMap::new(),
            wanted: wanted.collect(),
        };
        for c in found {
            pool.add(c);
        }
        pool
    }

    /// Every matching key of the contact (`person_keys` form), wanted or not.
    fn keys_of(&self, contact_id: Id) -> Vec<String> {
        let Some(c) = self.by_id.get(&contact_id).map(|&i| &self.contacts[i]) else {
            return Vec::new();
        };
        keyed(c)
            .map(|(kind, value)| format!("{kind}{value}"))
            .collect()
    }

    fn index(&mut self, i: usize) {
        let c = &self.contacts[i];
        let mut key = String::new();
        for (kind, value) in keyed(c) {
            key.clear();
            key.push_str(kind);
            key.push_str(value);
            if !self.wanted.contains(&key) {
                continue;
            }
            let v = self.by_key.entry(key.clone()).or_default();
            if !v.contains(&i) {
                v.push(i);
            }
        }
    }

    fn add(&mut self, c: intake::Candidate) {
        let i = self.contacts.len();
        self.by_id.insert(c.contact_id, i);
        self.contacts.push(c);
        self.index(i);
    }

    /// Contacts sharing a phone, email, social profile or block key (`person_keys`) with the
    /// submission.
    fn matching(&self, person_keys: &[String]) -> Vec<&intake::Candidate> {
        let mut idx: Vec<usize> = person_keys
            .iter()
            .filter_map(|k| self.by_key.get(k))
            .flatten()
            .copied()
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(|i| &self.contacts[i]).collect()
    }

    fn get_mut(&mut self, contact_id: Id) -> Option<&mut intake::Candidate> {
        let i = *self.by_id.get(&contact_id)?;
        self.contacts.get_mut(i)
    }

    /// Records the submission's phones and emails (by their keys) on the contact it was matched
    /// to.
    fn absorb(&mut self, contact_id: Id, n: &Normalized, email_keys: &[String]) {
        let Some(&i) = self.by_id.get(&contact_id) else {
            return;
        };
        let c = &mut self.contacts[i];
        for p in n
            .phones
            .iter()
            .filter(|p| p.valid)
            .filter_map(|p| p.e164.clone())
        {
            if !c.phones.contains(&p) {
                c.phones.push(p);
            }
        }
        for e in email_keys {
            if !c.emails.contains(e) {
                c.emails.push(e.clone());
            }
        }
        self.index(i);
    }
}

fn account_row(n: &Normalized) -> Option<(String, String, Option<String>)> {
    n.company.as_ref().map(|c| {
        let key = voronka_core::intake::keys::account_key(c);
        let key = if key.is_empty() {
            c.to_lowercase()
        } else {
            key
        };
        let domain = n
            .emails
            .first()
            .and_then(|e| e.normalized.rsplit_once('@').map(|(_, d)| d.to_string()));
        (c.clone(), key, domain)
    })
}

/// The whole batch in a few statements per table: lookups for every item at once, the pure
/// decisions in memory (later items see what earlier items of the batch created), then
/// multi-row inserts with ids reserved up front.
async fn commit_bulk(
    store: &Arc<dyn Store>,
    ctx: &BatchContext<'_>,
    items: &[(Prepared, Reply)],
    carried: Option<Carried>,
    next: Option<&[(Prepared, Reply)]>,
) -> Result<Committed> {
    let started = std::time::Instant::now();
    let mut tx = store.begin_deferred_sync().await?;
    tx.lock_intake().await?;
    // Read once this batch holds the write lock: a snapshot taken after it (for the next
    // batch's candidates) misses only what this batch writes, and anything else committed
    // before the next batch begins shows in the next batch's generation.
    let generation = if carried.is_some() || next.is_some() {
        tx.intake_generation().await?
    } else {
        None
    };
    let ahead = carried.and_then(|c| {
        let current = generation == Some(c.after.expected);
        let counter = if current {
            &ctx.counts.read_ahead
        } else {
            tracing::debug!("candidates read ahead are stale; read again");
            &ctx.counts.stale
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        current.then_some(c)
    });
    let begun = started.elapsed();
    let (next_subs, next_wanted): (Vec<Normalized>, Vec<String>) =
        match (generation, next, ctx.ahead_on) {
            (Some(_), Some(next), Some(_)) => lead_items(next)
                .map(|p| (p.normalized.clone(), p.derived.person_keys.clone()))
                .fold(Default::default(), |(mut subs, mut wanted), (n, keys)| {
                    subs.push(n);
                    wanted.extend(keys);
                    (subs, wanted)
                }),
            _ => Default::default(),
        };
    // The pool is built there too: a crowded database brings thousands of candidates a batch.
    let read_ahead = match ctx.ahead_on {
        Some(runtime) if !next_subs.is_empty() => {
            let store = store.clone();
            Some(runtime.spawn(async move {
                let subs: Vec<&Normalized> = next_subs.iter().collect();
                let found = store.candidates_ahead(&subs).await?;
                Ok::<_, voronka_store::StoreError>(Pool::new(found, next_wanted.into_iter()))
            }))
        }
        _ => None,
    };
    let hand_over = read_ahead.is_some();
    let written = write_batch(tx.as_mut(), ctx, items, ahead, hand_over).await?;
    let wrote = started.elapsed();
    tx.commit().await?;
    let next_pool = match read_ahead {
        None => None,
        Some(read) => match read.await {
            Ok(Ok(pool)) => Some(pool),
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "reading the next batch's candidates failed");
                None
            }
            Err(e) => {
                tracing::warn!(error = %e, "reading the next batch's candidates did not finish");
                None
            }
        },
    };
    tracing::debug!(
        size = items.len(),
        begin_ms = begun.as_secs_f64() * 1000.0,
        write_ms = (wrote - begun).as_secs_f64() * 1000.0,
        commit_ms = (started.elapsed() - wrote).as_secs_f64() * 1000.0,
        "intake batch committed"
    );
    Ok(Committed {
        outcomes: written.outcomes.into_iter().map(Ok).collect(),
        remembered: written.remembered,
        handoff: generation
            .filter(|_| hand_over)
            .map(|(others, own)| Handoff {
                expected: (others, own + 1),
                written: written.contacts,
            }),
        next_pool,
    })
}

/// Writes the batch inside the caller's transaction and returns each item's outcome.
///
/// `ahead`: the batch's candidates read before the batch before it committed, still current but
/// for what that batch wrote; `None`: they are read here. `hand_over`: the next batch's
/// candidates are being read ahead, so the contacts this batch writes are listed for it.
async fn write_batch(
    tx: &mut dyn Tx,
    ctx: &BatchContext<'_>,
    items: &[(Prepared, Reply)],
    ahead: Option<Carried>,
    hand_over: bool,
) -> Result<Written> {
    let (policy, window) = (ctx.policy, ctx.window);
    let mut laps = crate::Laps::new();
    // Kept in memory: identical-payload keys, when the committer keeps them (`recent`).
    let in_memory = |permanent: bool| !permanent && ctx.recent.is_some();
    let all_keys: Vec<String> = items
        .iter()
        .flat_map(|(p, _)| p.keys.iter())
        .filter(|(_, permanent)| !in_memory(*permanent))
        .map(|(k, _)| k.clone())
        .collect();
    let mut stored: HashMap<String, (String, i64)> = if all_keys.is_empty() {
        HashMap::new()
    } else {
        tx.capture_keys_many(&all_keys)
            .await?
            .into_iter()
            .map(|(k, r, at)| (k, (r, at)))
            .collect()
    };
    if let Some(recent) = ctx.recent {
        for (k, _) in items
            .iter()
            .flat_map(|(p, _)| p.keys.iter())
            .filter(|(_, permanent)| !permanent)
        {
            let pending = ctx.pending.iter().rev().find(|(key, _, _)| key == k);
            if let Some((_, outcome, at)) = pending {
                stored.insert(k.clone(), (outcome.clone(), *at));
            } else if let Some(kept) = recent.get(k) {
                stored.insert(k.clone(), kept.clone());
            }
        }
    }
    restore_reasons(tx, &mut stored).await?;
    let lead_subs: Vec<&Normalized> = lead_items(items).map(|p| &p.normalized).collect();
    laps.lap("keys");
    let wanted: std::collections::HashSet<&str> = lead_items(items)
        .flat_map(|p| p.derived.person_keys.iter().map(String::as_str))
        .collect();
    let new_pool = |found| Pool::new(found, wanted.iter().map(|k| k.to_string()));
    let mut pool = match ahead {
        _ if lead_subs.is_empty() => new_pool(Vec::new()),
        Some(c) => pool_made_current(tx, c.pool, &c.after.written, &wanted).await?,
        None => new_pool(tx.candidates_many(&lead_subs).await?),
    };
    laps.lap("candidates");
    let mut route_ctx = if lead_subs.is_empty() {
        Default::default()
    } else {
        crate::speed::prefetch_intake_settings(tx).await?;
        crate::speed::route_context(tx, items[0].0.submission.received_at).await?
    };
    route_ctx.model = ctx.model.clone();
    // New leads routed by the rules, by index in `new_leads`: what the assignment history,
    // notifications and SLA timers need.
    let mut routed: Vec<(usize, RouteDecision, voronka_core::Temperature, Millis)> = Vec::new();

    let mut slots: Vec<Slot> = Vec::with_capacity(items.len());
    let mut in_batch: HashMap<&str, usize> = HashMap::new();
    let mut new_contacts: Vec<usize> = Vec::new();
    let mut new_leads: Vec<NewLead> = Vec::new();
    // How each new lead came in, for its first entry in the stage history.
    let mut captured: Vec<SystemMove> = Vec::new();
    let mut touches: Vec<(Ref, NewTouch)> = Vec::new();
    let mut interests: Vec<NewInterest> = Vec::new();
    let mut touched: Vec<(Ref, i64)> = Vec::new();
    let mut enrich: Vec<(Ref, usize)> = Vec::new();
    let mut reopened: Vec<(Ref, Stage, i64)> = Vec::new();
    let mut pairs: Vec<(Ref, Ref, voronka_core::linkage::Comparison)> = Vec::new();
    // Scoring after the rows are written: visitors whose anonymous events join their lead,
    // leads touched again (with the newer profile fields), new leads the rules qualify at once.
    let mut visitors: Vec<(String, Ref)> = Vec::new();
    let mut newer_profiles: Vec<(Ref, voronka_core::scoring::Profile)> = Vec::new();
    let mut rescore: Vec<Ref> = Vec::new();

    for (idx, (p, _)) in items.iter().enumerate() {
        let now = p.submission.received_at;
        if let Some(first) = p
            .keys
            .iter()
            .find_map(|(k, _)| in_batch.get(k.as_str()).copied())
        {
            slots.push(Slot::SameAs(first));
            continue;
        }
        let earlier = p.keys.iter().find_map(|(k, permanent)| {
            stored
                .get(k)
                .filter(|(_, at)| *permanent || *at >= now - window)
                .map(|(r, _)| r.clone())
        });
        if let Some(json) = earlier {
            let mut o: CaptureOutcome = serde_json::from_str(&json)
                .map_err(|e| AppError::Io(format!("stored capture result is unreadable: {e}")))?;
            o.repeated = true;
            slots.push(Slot::Replay(o));
            continue;
        }
        for (k, _) in &p.keys {
            in_batch.insert(k.as_str(), idx);
        }
        let n = &p.normalized;
        let candidates: Vec<&intake::Candidate> = if p.validation.outcome == Outcome::Lead {
            pool.matching(&p.derived.person_keys)
        } else {
            Vec::new()
        };
        route_ctx.origin = intake::Origin {
            form_id: p.submission.form_id,
            partner: p.submission.partner.clone(),
            channel: Some(p.submission.channel.as_str().to_string()),
            received_at: now,
        };
        let plan = intake::plan_lead(
            n,
            p.validation.clone(),
            p.derived.score.clone(),
            &candidates,
            policy,
            &route_ctx,
            now,
        );
        let (decision, score, stage, route, reasons, maybe_same, conversion) = match plan {
            Plan::Reject { reasons } | Plan::Interest { reasons } => {
                let rejected = p.validation.outcome == Outcome::Reject;
                interests.push(p.interest_row(rejected, &reasons));
                slots.push(Slot::Interest(interests.len() - 1, rejected, reasons));
                continue;
            }
            Plan::Lead {
                decision,
                score,
                stage,
                route,
                reasons,
                possible_duplicate_of,
                conversion,
            } => (
                decision,
                score,
                stage,
                route,
                reasons,
                possible_duplicate_of,
                conversion,
            ),
        };
        let contact = match decision.contact_id() {
            Some(id) => {
                let r = Ref::from_id(id);
                enrich.push((r, idx));
                r
            }
            None => {
                new_contacts.push(idx);
                let r = Ref::New(new_contacts.len() - 1);
                pool.add(intake::Candidate::from_submission(r.to_id(), n));
                r
            }
        };
        let profile = score.profile.clone();
        let qualifies_now = stage == Stage::New
            && !ctx
                .scorer
                .stage_moves(Stage::New, score.fit, score.engagement, conversion, &[])
                .is_empty();
        let (lead, action) = match decision {
            MatchDecision::Touch { lead_id, .. } => (Ref::from_id(lead_id), "new_touch"),
            MatchDecision::Reopen { lead_id, .. } => (Ref::from_id(lead_id), "reopened"),
            MatchDecision::NewContact | MatchDecision::NewLead { .. } => {
                let mut row = p.lead_row(contact.to_id(), &score, stage, &route, &reasons);
                row.conversion = conversion;
                new_leads.push(row);
                let channel = p.submission.channel;
                captured.push(match &p.validation.junk {
                    Some(reason) => SystemMove::CapturedJunk { channel, reason },
                    None => SystemMove::Captured { channel },
                });
                let lead = Ref::New(new_leads.len() - 1);
                if stage != Stage::Junk {
                    route_ctx.record(&route);
                    routed.push((new_leads.len() - 1, route.clone(), score.temperature, now));
                }
                for other in maybe_same {
                    pairs.push((lead, Ref::from_id(other.lead_id), other.comparison));
                }
                (lead, "new_lead")
            }
        };
        // Keep the pool current for the items after this one.
        let contact_id = contact.to_id();
        pool.absorb(contact_id, n, &p.derived.email_keys);
        if let Some(c) = pool.get_mut(contact_id) {
            match c.leads.iter_mut().find(|l| l.lead_id == lead.to_id()) {
                Some(l) => {
                    l.updated_at = now;
                    if action == "reopened" {
                        reopened.push((lead, l.stage, now));
                        l.stage = Stage::Working;
                    }
                }
                None => c.leads.push(intake::CandidateLead {
                    lead_id: lead.to_id(),
                    product: n.product.clone(),
                    stage,
                    owner_id: route.owner_id,
                    updated_at: now,
                }),
            }
        }
        if action != "new_lead" {
            touched.push((lead, now));
            newer_profiles.push((lead, profile));
        } else if qualifies_now {
            rescore.push(lead);
        }
        if let Some(v) = &n.visitor_id {
            if stage != Stage::Junk {
                visitors.push((v.clone(), lead));
            }
        }
        touches.push((lead, p.touch_row(0, &reasons)));
        slots.push(Slot::Lead {
            contact,
            lead,
            action,
            touch: touches.len() - 1,
            reasons,
        });
    }

    laps.lap("plan");
    // Ids, then the rows.
    let mut ids = tx
        .reserve_ids_many(&[
            (IdTable::Contacts, new_contacts.len()),
            (IdTable::Leads, new_leads.len()),
            (IdTable::Touches, touches.len()),
            (IdTable::Interests, interests.len()),
        ])
        .await?
        .into_iter();
    let mut next_ids = || ids.next().unwrap_or_default();
    let (contact_ids, lead_ids, touch_ids, interest_ids) =
        (next_ids(), next_ids(), next_ids(), next_ids());

    let mut accounts: Vec<(String, String, Option<String>)> = new_contacts
        .iter()
        .filter_map(|&i| account_row(&items[i].0.normalized))
        .collect();
    accounts.sort_by(|a, b| a.1.cmp(&b.1));
    accounts.dedup_by(|a, b| a.1 == b.1);
    let account_ids: HashMap<String, Id> = if accounts.is_empty() {
        HashMap::new()
    } else {
        let at = items[0].0.submission.received_at;
        tx.accounts_for(&accounts, at).await?.into_iter().collect()
    };
    let contact_rows: Vec<NewContactRow> = new_contacts
        .iter()
        .enumerate()
        .map(|(k, &i)| {
            let n = &items[i].0.normalized;
            NewContactRow {
                id: contact_ids[k],
                n,
                account_id: account_row(n).and_then(|(_, key, _)| account_ids.get(&key).copied()),
                at: items[i].0.submission.received_at,
            }
        })
        .collect();
    tx.insert_contacts(&contact_rows).await?;
    laps.lap("contacts");
    for (r, i) in &enrich {
        let (p, _) = &items[*i];
        tx.enrich_contact(
            r.resolve(&contact_ids),
            &p.normalized,
            p.submission.received_at,
        )
        .await?;
    }
    // The routed leads' SLA due times go into their rows.
    let (sla, routed) = if routed.is_empty() {
        (None, Vec::new())
    } else {
        let sla = crate::speed::sla_in_tx(tx).await?;
        let routed: Vec<crate::speed::Routed> = routed
            .into_iter()
            .map(|(k, route, temperature, at)| {
                let team = route
                    .owner_id
                    .and_then(|o| route_ctx.router.person(o))
                    .and_then(|p| p.team.clone());
                let due = sla.for_team(team.as_deref()).due_at(temperature, at);
                new_leads[k].sla_due_at = Some(due);
                crate::speed::Routed {
                    lead_id: lead_ids[k],
                    team,
                    route,
                    at,
                    due,
                }
            })
            .collect();
        (Some(sla), routed)
    };
    let lead_rows: Vec<(Id, NewLead)> = new_leads
        .into_iter()
        .enumerate()
        .map(|(k, mut l)| {
            l.contact_id = Ref::from_id(l.contact_id).resolve(&contact_ids);
            (lead_ids[k], l)
        })
        .collect();
    laps.lap("enrich");
    tx.insert_leads(&lead_rows).await?;
    let changes: Vec<NewStageChange> = lead_rows
        .iter()
        .zip(&captured)
        .map(|((id, l), how)| {
            NewStageChange::system(*id, None, l.stage, None, "intake", how, l.created_at)
        })
        .collect();
    laps.lap("leads");
    tx.insert_stage_changes(&changes).await?;
    laps.lap("history");
    let at = items[0].0.submission.received_at;
    let pair_rows: Vec<voronka_store::NewDuplicatePair> = pairs
        .into_iter()
        .map(
            |(lead, other, comparison)| voronka_store::NewDuplicatePair {
                lead_id: lead.resolve(&lead_ids),
                other_lead_id: other.resolve(&lead_ids),
                comparison,
                at,
            },
        )
        .collect();
    tx.insert_duplicate_pairs(&pair_rows).await?;
    laps.lap("pairs");
    for (r, from, at) in &reopened {
        let id = r.resolve(&lead_ids);
        let upd = StageUpdate {
            stage: Some(Stage::Working),
            ..Default::default()
        };
        tx.set_stage(id, &upd, *at).await?;
        tx.add_stage_change(&NewStageChange::system(
            id,
            Some(*from),
            Stage::Working,
            None,
            "intake",
            &SystemMove::AskedAgain,
            *at,
        ))
        .await?;
    }
    for (r, at) in &touched {
        tx.count_touch(r.resolve(&lead_ids), *at).await?;
    }
    let touch_rows: Vec<(Id, NewTouch)> = touches
        .into_iter()
        .enumerate()
        .map(|(k, (r, mut t))| {
            t.lead_id = r.resolve(&lead_ids);
            (touch_ids[k], t)
        })
        .collect();
    laps.lap("reopened");
    tx.insert_touches(&touch_rows).await?;
    let interest_rows: Vec<(Id, NewInterest)> = interests
        .into_iter()
        .enumerate()
        .map(|(k, i)| (interest_ids[k], i))
        .collect();
    tx.insert_interests(&interest_rows).await?;
    laps.lap("touches");
    for (name, by) in route_ctx.router.counter_deltas() {
        tx.add_to_counter(name, by as i64).await?;
    }
    if let Some(sla) = &sla {
        crate::speed::after_routing(tx, &route_ctx, sla, &routed).await?;
    }
    laps.lap("routing");

    // Scoring: the identified visitors' events, the touched leads' merged profiles, and the
    // moves the rules make (with history), in this same transaction.
    let stitch: Vec<(String, Id)> = visitors
        .iter()
        .map(|(v, r)| (v.clone(), r.resolve(&lead_ids)))
        .collect();
    let mut ids: Vec<Id> = if stitch.is_empty() {
        Vec::new()
    } else {
        tx.stitch_visitors(&stitch).await?
    };
    let mut newer: HashMap<Id, voronka_core::scoring::Profile> = HashMap::new();
    for (r, p) in newer_profiles {
        let id = r.resolve(&lead_ids);
        voronka_core::scoring::merge_profile(newer.entry(id).or_default(), &p);
        ids.push(id);
    }
    ids.extend(rescore.iter().map(|r| r.resolve(&lead_ids)));
    ids.sort_unstable();
    ids.dedup();
    crate::scoring::rescore_in_tx(tx, &ctx.scorer, &ids, &newer, at).await?;
    laps.lap("scoring");

    // Every lead item wrote its contact: a new one, or a new lead, touch or phone on one.
    let mut contacts: Vec<(Id, Vec<String>)> = Vec::new();
    let mut listed = std::collections::HashSet::new();
    if hand_over {
        for slot in &slots {
            if let Slot::Lead { contact, .. } = slot {
                let id = contact.resolve(&contact_ids);
                if listed.insert(id) {
                    contacts.push((id, pool.keys_of(contact.to_id())));
                }
            }
        }
    }
    // Outcomes, stored under each item's keys so that repeats replay them.
    let mut outcomes: Vec<CaptureOutcome> = Vec::with_capacity(slots.len());
    for slot in slots {
        let o = match slot {
            Slot::Replay(o) => o,
            Slot::SameAs(first) => CaptureOutcome {
                repeated: true,
                ..outcomes[first].clone()
            },
            Slot::Interest(k, rejected, reasons) => {
                CaptureOutcome::interest(interest_ids[k], rejected, reasons)
            }
            Slot::Lead {
                contact,
                lead,
                action,
                touch,
                reasons,
            } => CaptureOutcome::lead(
                action,
                lead.resolve(&lead_ids),
                contact.resolve(&contact_ids),
                touch_ids[touch],
                reasons,
            ),
        };
        outcomes.push(o);
    }
    let submits: Vec<NewFormEvent> = items
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| !o.repeated && o.result != CaptureResult::Rejected)
        .filter_map(|((p, _), _)| p.submit.clone())
        .collect();
    tx.insert_form_events(&submits).await?;
    let mut key_rows = Vec::new();
    let mut remembered = Vec::new();
    for ((p, _), o) in items.iter().zip(&outcomes) {
        if o.repeated {
            continue;
        }
        // Whole in memory; in the store, without the reasons the touch or interest keeps.
        let at = p.submission.received_at;
        let (mem, kept): (Vec<_>, Vec<_>) = p
            .keys
            .iter()
            .partition(|(_, permanent)| in_memory(*permanent));
        if !mem.is_empty() {
            let whole = serde_json::to_string(o).map_err(|e| AppError::Io(e.to_string()))?;
            remembered.extend(mem.into_iter().map(|(k, _)| (k.clone(), whole.clone(), at)));
        }
        if !kept.is_empty() {
            let text = StoredOutcome::stored(o)?;
            key_rows.extend(kept.into_iter().map(|(k, _)| (k.clone(), text.clone(), at)));
        }
    }
    tx.put_capture_keys(&key_rows).await?;
    laps.lap("outcomes");
    tracing::debug!(size = items.len(), steps = %laps, "intake batch written");
    Ok(Written {
        outcomes,
        remembered,
        contacts,
    })
}

/// What a batch wrote: each item's outcome, and the identical-payload keys the committer keeps
/// in memory once the batch has committed.
struct Written {
    outcomes: Vec<CaptureOutcome>,
    remembered: Vec<KeyRow>,
    /// The contacts the batch created or changed, with their matching keys (see [`Handoff`]);
    /// listed only when the next batch's candidates are read ahead.
    contacts: Vec<(Id, Vec<String>)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(id: Id, block: &str, phone: &str) -> intake::Candidate {
        intake::Candidate {
            contact_id: id,
            block_key: Some(block.into()),
            phones: vec![phone.into()],
            ..Default::default()
        }
    }

    #[test]
    fn candidates_are_trimmed_to_what_the_store_reads() {
        // 25 namesakes, one of them also sharing the phone asked for, and one of another key.
        let mut all: Vec<_> = (1..=25)
            .map(|i| contact(i, "anna|firm", &format!("+7916000{i:04}")))
            .collect();
        all.push(contact(26, "ivan|firm", "+79160009999"));
        all.reverse();
        let wanted: std::collections::HashSet<&str> =
            ["b:anna|firm", "p:+79160000002"].into_iter().collect();
        let ids: Vec<Id> = as_the_store_reads(all, &wanted)
            .iter()
            .map(|c| c.contact_id)
            .collect();
        let mut expected = vec![2];
        expected.extend(6..=25);
        assert_eq!(ids, expected);
    }

    #[test]
    fn recent_keys_are_forgotten_after_their_window() {
        let mut r = RecentKeys::default();
        let row = |k: &str, at: Millis| (k.to_string(), format!("outcome of {k}"), at);
        r.remember(vec![row("a", 1_000), row("b", 5_000)], 10_000);
        assert_eq!(
            r.get("a").map(|(o, at)| (o.as_str(), *at)),
            Some(("outcome of a", 1_000))
        );
        // "a" stored again later stays for its newer time when its first time passes.
        r.remember(vec![row("a", 9_000), row("c", 12_000)], 10_000);
        r.remember(vec![row("d", 14_500)], 10_000);
        assert_eq!(r.get("a").map(|(_, at)| *at), Some(9_000));
        assert!(r.get("b").is_some());
        r.remember(vec![row("e", 21_000)], 10_000);
        assert!(
            r.get("b").is_none(),
            "older than the window before the newest"
        );
        assert!(r.get("a").is_none());
        assert!(r.get("c").is_some() && r.get("e").is_some());
        assert_eq!(r.keys.len(), r.order.len());
    }
}
