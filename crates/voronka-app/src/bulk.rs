//! One change applied to many leads at once (the inbox's selection, the API's list): each lead
//! goes through the same use case as on its own, in a transaction of its own, so its history,
//! audit entry and rules are those of a single change; a lead the change does not fit is left as
//! it was and reported, the others are changed.

use crate::{Actor, App, AppError, Message, Result};
use voronka_core::{Id, Stage, Temperature};

/// The most leads one bulk change takes.
pub const MAX_BULK: usize = 500;

/// What a bulk change does to each lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAction {
    /// A new owner, or none.
    Assign(Option<Id>),
    /// A move to an open stage (refusal and conversion ask for more than one value fits all).
    Stage(Stage),
    Temperature(Temperature),
    /// Junk, with the reason every lead gets.
    Junk(String),
    /// Refused, with a reason of the list, and the comment and freeze date every lead gets (no
    /// farewell: that is one email per person, sent from their lead's card).
    Refuse(crate::RefuseInput),
    /// A tag added to each lead.
    Tag(String),
    /// A tag (named in any case) removed from each lead; a lead without it is refused.
    Untag(String),
}

/// What a bulk change did: the leads changed, and each lead left as it was with the reason.
#[derive(Debug, Default)]
pub struct BulkOutcome {
    pub changed: Vec<Id>,
    pub refused: Vec<(Id, AppError)>,
}

impl App {
    /// Applies `action` to each of `ids` (repeats counted once) in the order given.
    pub async fn bulk_leads(
        &self,
        actor: &Actor,
        ids: &[Id],
        action: &BulkAction,
    ) -> Result<BulkOutcome> {
        actor.require_write_leads()?;
        if ids.is_empty() {
            return Err(AppError::invalid("ids", Message::new("bulk_no_leads")));
        }
        let mut seen = std::collections::HashSet::new();
        let ids: Vec<Id> = ids.iter().copied().filter(|id| seen.insert(*id)).collect();
        if ids.len() > MAX_BULK {
            return Err(AppError::invalid(
                "ids",
                Message::new("too_many_leads").with("max", MAX_BULK),
            ));
        }
        // What cannot fit any lead is refused once, before any lead changes.
        match action {
            BulkAction::Assign(owner) => self.check_assignment(actor, *owner).await?,
            BulkAction::Stage(s) if !s.is_open() => {
                return Err(AppError::invalid(
                    "stage",
                    Message::new("bulk_stage_open").with("stage", s),
                ));
            }
            BulkAction::Junk(r) if voronka_core::intake::normalize::clean_text(r).is_empty() => {
                return Err(AppError::invalid(
                    "reason",
                    Message::new("junk_reason_required"),
                ));
            }
            BulkAction::Refuse(r) => {
                self.refusal_reason(&r.reason).await?;
                if let Some(f) = r.freeze_until {
                    crate::leads::check_freeze(f, crate::now_ms())?;
                }
            }
            BulkAction::Tag(tag) | BulkAction::Untag(tag) => {
                crate::tags::checked_tag(tag)?;
            }
            _ => {}
        }
        let mut out = BulkOutcome::default();
        for id in ids {
            let done = match action {
                BulkAction::Assign(owner) => self.assign(actor, id, *owner).await.map(|_| ()),
                BulkAction::Stage(s) => self.change_stage(actor, id, *s, None).await.map(|_| ()),
                BulkAction::Temperature(t) => self.set_temperature(actor, id, *t).await.map(|_| ()),
                BulkAction::Junk(r) => self.mark_junk(actor, id, r).await.map(|_| ()),
                BulkAction::Refuse(r) => self.refuse(actor, id, r.clone()).await.map(|_| ()),
                BulkAction::Tag(tag) => self.tag_lead(actor, id, tag).await.map(|_| ()),
                BulkAction::Untag(tag) => self.untag_lead(actor, id, tag).await.map(|_| ()),
            };
            match done {
                Ok(()) => out.changed.push(id),
                // A failure of the storage stops the change; what is done stays done.
                Err(e @ (AppError::Store(_) | AppError::Io(_) | AppError::Unavailable)) => {
                    return Err(e)
                }
                Err(e) => out.refused.push((id, e)),
            }
        }
        Ok(out)
    }
}
