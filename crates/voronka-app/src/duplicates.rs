//! Duplicate review: pairs the matcher was unsure of, merging two leads field by field, "not a
//! duplicate", and undoing a merge from its record.

use crate::{now_ms, Actor, App, AppError, Message, Result};
use voronka_core::{Id, Notice};
use voronka_store::{
    DuplicatePair, LeadDetail, MergeRecord, MergeSnapshot, NewAudit, MERGE_FIELDS,
};

/// A pair for review: both leads side by side.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PairReview {
    pub pair: DuplicatePair,
    pub lead: LeadDetail,
    pub other: LeadDetail,
}

fn require_reviewer(actor: &Actor) -> Result<()> {
    actor.require_write_leads()?;
    if !actor.role().assigns_leads() {
        return Err(AppError::Forbidden(Message::new("merge_leads_forbidden")));
    }
    Ok(())
}

/// The setting that holds the progress of [`App::refresh_block_keys`]: the last contact id
/// looked at, or `done`.
const BLOCK_KEYS_REFRESH: &str = "block_keys_refresh";

impl App {
    /// Brings block keys of an earlier folding up to date, if a migration marked that pending:
    /// contacts whose key holds a digit, in slices, each key replaced only when the earlier
    /// folding of the key made now is the key stored (see
    /// [`voronka_core::intake::keys::refreshed_block_key`]). Resumes where it stopped; returns
    /// how many keys it replaced.
    pub async fn refresh_block_keys(&self) -> Result<usize> {
        const SLICE: i64 = 2_000;
        let Some(mut after) = self
            .store
            .setting(BLOCK_KEYS_REFRESH)
            .await?
            .and_then(|v| v.parse::<Id>().ok())
        else {
            return Ok(0);
        };
        let mut replaced = 0;
        loop {
            let contacts = self.store.contacts_with_digit_keys(after, SLICE).await?;
            let Some(last) = contacts.last().map(|c| c.id) else {
                break;
            };
            let keys: Vec<(Id, String)> = contacts
                .iter()
                .filter_map(|c| {
                    voronka_core::intake::keys::refreshed_block_key(
                        &c.block_key,
                        &c.full_name,
                        c.company.as_deref(),
                        c.emails.iter().map(String::as_str),
                    )
                    .map(|k| (c.id, k))
                })
                .collect();
            self.store.set_block_keys(&keys).await?;
            replaced += keys.len();
            after = last;
            self.store
                .put_setting(BLOCK_KEYS_REFRESH, &after.to_string(), now_ms())
                .await?;
        }
        self.store
            .put_setting(BLOCK_KEYS_REFRESH, "done", now_ms())
            .await?;
        if replaced > 0 {
            tracing::info!(replaced, "block keys of contacts brought up to date");
        }
        Ok(replaced)
    }

    /// Pairs with this status (open, merged, not_duplicate), newest first.
    pub async fn duplicate_pairs(&self, actor: &Actor, status: &str) -> Result<Vec<DuplicatePair>> {
        require_reviewer(actor)?;
        if !matches!(status, "open" | "merged" | "not_duplicate") {
            return Err(AppError::invalid(
                "status",
                Message::new("duplicate_status_unknown").with("status", status),
            ));
        }
        Ok(self.store.duplicate_pairs(status, 500).await?)
    }

    pub async fn duplicate_pair(&self, actor: &Actor, id: Id) -> Result<PairReview> {
        require_reviewer(actor)?;
        let pair = self.store.duplicate_pair(id).await?.ok_or_else(|| {
            AppError::NotFound(Message::new("duplicate_pair_not_found").with("id", id))
        })?;
        let lead = self.lead_detail(actor, pair.lead_id).await?;
        let other = self.lead_detail(actor, pair.other_lead_id).await?;
        Ok(PairReview { pair, lead, other })
    }

    /// The pair is two different requests or people; the matcher's suggestion is remembered as
    /// rejected and not raised again.
    pub async fn not_duplicate(&self, actor: &Actor, pair_id: Id) -> Result<()> {
        let review = self.duplicate_pair(actor, pair_id).await?;
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        tx.set_pair_status(pair_id, "not_duplicate", Some(&actor.name()), now)
            .await?;
        tx.audit(&NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "lead.not_duplicate".into(),
            entity: "lead".into(),
            entity_id: Some(review.pair.lead_id),
            before: None,
            after: Some(
                Notice::new("lead_not_duplicate")
                    .with("other", review.pair.other_lead_id)
                    .to_json(),
            ),
            at: now,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Merges `merged` into `survivor`: every touch, note, stage change and deal moves, the
    /// contacts become one, and the fields named in `take` come from the merged lead. The merged
    /// id keeps resolving to the survivor. Returns the merge's id, which undoes it.
    pub async fn merge_leads(
        &self,
        actor: &Actor,
        survivor: Id,
        merged: Id,
        take: &[String],
    ) -> Result<Id> {
        require_reviewer(actor)?;
        if let Some(bad) = take.iter().find(|f| !MERGE_FIELDS.contains(&f.as_str())) {
            return Err(AppError::invalid(
                "take",
                Message::new("merge_field_unknown")
                    .with("field", bad)
                    .with("choices", MERGE_FIELDS.join(", ")),
            ));
        }
        // Both must be visible to the actor.
        self.lead_detail(actor, survivor).await?;
        self.lead_detail(actor, merged).await?;
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        let snap = tx.merge_leads(survivor, merged, take, now).await?;
        self.rescore_merged(tx.as_mut(), &snap, false, now).await?;
        let id = tx
            .record_merge(&snap, actor.user_id(), &actor.name(), now)
            .await?;
        tx.set_pairs_status_between(survivor, merged, "merged", Some(&actor.name()), now)
            .await?;
        tx.audit(&NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "lead.merge".into(),
            entity: "lead".into(),
            entity_id: Some(survivor),
            before: None,
            after: Some({
                let n = Notice::new("lead_merged_in")
                    .with("merged", merged)
                    .with("merge", id);
                match take.is_empty() {
                    true => n,
                    false => n.with("fields", take.join(", ")),
                }
                .to_json()
            }),
            at: now,
        })
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn merges_for(&self, actor: &Actor, lead_id: Id) -> Result<Vec<MergeRecord>> {
        self.lead_detail(actor, lead_id).await?;
        Ok(self.store.merges_for(lead_id).await?)
    }

    /// A merge (or its undo, `undone`) moved behaviour events between the two leads: their
    /// scores follow, in the same transaction.
    pub(crate) async fn rescore_merged(
        &self,
        tx: &mut dyn voronka_store::Tx,
        snap: &MergeSnapshot,
        undone: bool,
        now: crate::Millis,
    ) -> Result<()> {
        if snap.moved_events.is_empty() {
            return Ok(());
        }
        let leads: &[Id] = if undone {
            &[snap.survivor_lead, snap.merged_lead]
        } else {
            &[snap.survivor_lead]
        };
        let scorer = self.scorer();
        crate::scoring::rescore_in_tx(tx, &scorer, leads, &Default::default(), now).await?;
        Ok(())
    }

    /// Undoes a merge: the merged lead and contact come back with everything that was theirs.
    pub async fn undo_merge(&self, actor: &Actor, merge_id: Id) -> Result<()> {
        require_reviewer(actor)?;
        let rec = self.store.merge_record(merge_id).await?.ok_or_else(|| {
            AppError::NotFound(Message::new("merge_not_found").with("id", merge_id))
        })?;
        if rec.undone_at.is_some() {
            return Err(AppError::Conflict(Message::new("merge_already_undone")));
        }
        self.lead_detail(actor, rec.survivor_lead_id).await?;
        let snap: MergeSnapshot = serde_json::from_str(&rec.snapshot)
            .map_err(|e| AppError::Io(format!("merge record is unreadable: {e}")))?;
        let now = now_ms();
        let mut tx = self.store.begin().await?;
        tx.undo_merge(merge_id, &snap, now).await?;
        self.rescore_merged(tx.as_mut(), &snap, true, now).await?;
        tx.set_pairs_status_between(snap.survivor_lead, snap.merged_lead, "open", None, now)
            .await?;
        tx.audit(&NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "lead.unmerge".into(),
            entity: "lead".into(),
            entity_id: Some(snap.survivor_lead),
            before: None,
            after: Some(
                Notice::new("lead_unmerged")
                    .with("merge", merge_id)
                    .with("merged", snap.merged_lead)
                    .to_json(),
            ),
            at: now,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
