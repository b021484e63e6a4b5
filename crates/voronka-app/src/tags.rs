//! Tags on leads: added and removed by those who work the lead (each change in the audit log),
//! listed with their counts, and a filter of the lead list ([`voronka_store::LeadQuery::tag`]).

use crate::{now_ms, Actor, App, AppError, Message, Result};
use voronka_core::tags::{clean_tag, tag_key, TagError, MAX_TAG, MAX_TAGS_PER_LEAD};
use voronka_core::Id;
use voronka_store::{NewAudit, TagUse};

/// The most tags listed as in use.
pub const MAX_TAGS_LISTED: i64 = 200;

/// A tag as kept, or why it cannot be.
pub(crate) fn checked_tag(raw: &str) -> Result<String> {
    clean_tag(raw).map_err(tag_refused)
}

fn tag_refused(e: TagError) -> AppError {
    let message = match e {
        TagError::Empty => Message::new("tag_empty"),
        TagError::TooLong => Message::new("tag_too_long").with("max", MAX_TAG),
    };
    AppError::invalid("tag", message)
}

/// A tag renamed or removed everywhere: its name now (or as it was, when removed) and on how
/// many leads it was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagChange {
    pub tag: String,
    pub leads: i64,
}

/// Renaming and removing a tag on every lead: administrators and sales managers.
fn require_tag_manager(actor: &Actor) -> Result<()> {
    actor.require_write_leads()?;
    if !actor.role().assigns_leads() {
        return Err(AppError::Forbidden(Message::new("role_cannot_manage_tags")));
    }
    Ok(())
}

fn tag_not_found(tag: &str) -> AppError {
    AppError::NotFound(Message::new("tag_not_found").with("tag", tag.trim()))
}

impl App {
    /// Tags a lead; answers its tags. A tag it has already (in any case) changes nothing.
    pub async fn tag_lead(&self, actor: &Actor, lead_id: Id, raw: &str) -> Result<Vec<String>> {
        let tag = checked_tag(raw)?;
        let (mut tx, lead) = self.lead_tx(actor, lead_id).await?;
        let now = now_ms();
        let has = tx.tags_of(lead.id).await?;
        let key = tag_key(&tag);
        if has.iter().any(|t| tag_key(t) == key) {
            tx.rollback().await?;
            return Ok(has);
        }
        if has.len() >= MAX_TAGS_PER_LEAD {
            tx.rollback().await?;
            return Err(AppError::invalid(
                "tag",
                Message::new("tags_too_many").with("max", MAX_TAGS_PER_LEAD),
            ));
        }
        tx.add_tag(lead.id, &tag, &key, now).await?;
        self.audit_tag(tx.as_mut(), actor, lead.id, "tag", &tag, now)
            .await?;
        tx.commit().await?;
        // Added last, as `tags_of` reads them (by when each was added).
        let mut tags = has;
        tags.push(tag);
        Ok(tags)
    }

    /// Removes a tag (named in any case) from a lead; answers its tags. 404 when it has no
    /// such tag.
    pub async fn untag_lead(&self, actor: &Actor, lead_id: Id, tag: &str) -> Result<Vec<String>> {
        let (mut tx, lead) = self.lead_tx(actor, lead_id).await?;
        let key = clean_tag(tag).map(|t| tag_key(&t)).unwrap_or_default();
        let Some(removed) = tx.remove_tag(lead.id, &key).await? else {
            tx.rollback().await?;
            return Err(AppError::NotFound(
                Message::new("tag_not_on_lead")
                    .with("tag", tag.trim())
                    .with("id", lead.id),
            ));
        };
        let now = now_ms();
        self.audit_tag(tx.as_mut(), actor, lead.id, "untag", &removed, now)
            .await?;
        let tags = tx.tags_of(lead.id).await?;
        tx.commit().await?;
        Ok(tags)
    }

    /// The tags on the leads the reader sees, the most used first.
    pub async fn tags_in_use(&self, actor: &Actor) -> Result<Vec<TagUse>> {
        actor.require_read_leads()?;
        Ok(self
            .store
            .tags_in_use(&actor.visibility(), MAX_TAGS_LISTED)
            .await?)
    }

    /// The tags there are, by name: what a tag field offers (those who read leads). Someone who
    /// sees only some leads is offered the tags on those.
    pub async fn tag_names(&self, actor: &Actor) -> Result<Vec<String>> {
        actor.require_read_leads()?;
        let who = actor.visibility();
        if who != voronka_store::Visibility::All {
            let mut names: Vec<String> = self
                .store
                .tags_in_use(&who, MAX_TAGS_LISTED)
                .await?
                .into_iter()
                .map(|t| t.tag)
                .collect();
            names.sort_by_cached_key(|t| tag_key(t));
            return Ok(names);
        }
        Ok(self.store.tag_names(MAX_TAGS_LISTED).await?)
    }

    /// Renames a tag (named in any case) on every lead the actor sees: a lead that has the new
    /// name already keeps it once, so a rename to a tag in use joins the two. A change of case
    /// alone is a rename too. Administrators and sales managers; one audit entry with the count.
    pub async fn rename_tag(&self, actor: &Actor, from: &str, to: &str) -> Result<TagChange> {
        require_tag_manager(actor)?;
        let to = checked_tag(to)?;
        let from_key = clean_tag(from).map(|t| tag_key(&t)).unwrap_or_default();
        let who = actor.visibility();
        let mut tx = self.store.begin().await?;
        let leads = tx.rename_tag(&who, &from_key, &to, &tag_key(&to)).await?;
        if leads == 0 {
            tx.rollback().await?;
            return Err(tag_not_found(from));
        }
        self.audit_tags(
            tx.as_mut(),
            actor,
            "tag.rename",
            Some(from.trim()),
            Some(&to),
            leads,
        )
        .await?;
        tx.commit().await?;
        Ok(TagChange { tag: to, leads })
    }

    /// Removes a tag (named in any case) from every lead the actor sees. Administrators and
    /// sales managers; one audit entry with the count.
    pub async fn delete_tag(&self, actor: &Actor, tag: &str) -> Result<TagChange> {
        require_tag_manager(actor)?;
        let key = clean_tag(tag).map(|t| tag_key(&t)).unwrap_or_default();
        let mut tx = self.store.begin().await?;
        let leads = tx.delete_tag(&actor.visibility(), &key).await?;
        if leads == 0 {
            tx.rollback().await?;
            return Err(tag_not_found(tag));
        }
        self.audit_tags(
            tx.as_mut(),
            actor,
            "tag.delete",
            Some(tag.trim()),
            None,
            leads,
        )
        .await?;
        tx.commit().await?;
        Ok(TagChange {
            tag: tag.trim().to_string(),
            leads,
        })
    }

    async fn audit_tags(
        &self,
        tx: &mut dyn voronka_store::Tx,
        actor: &Actor,
        action: &str,
        before: Option<&str>,
        after: Option<&str>,
        leads: i64,
    ) -> Result<()> {
        let value = |t: Option<&str>| {
            t.map(|t| serde_json::json!({ "tag": t, "leads": leads }).to_string())
        };
        tx.audit(&NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: action.into(),
            entity: "tag".into(),
            entity_id: None,
            before: value(before),
            after: value(after),
            at: now_ms(),
        })
        .await?;
        Ok(())
    }

    /// The tags of each of these leads (a page of the list, which the caller has read as the
    /// reader sees it).
    pub async fn tags_of_leads(
        &self,
        lead_ids: &[Id],
    ) -> Result<std::collections::HashMap<Id, Vec<String>>> {
        Ok(self.store.tags_of_leads(lead_ids).await?)
    }

    async fn audit_tag(
        &self,
        tx: &mut dyn voronka_store::Tx,
        actor: &Actor,
        lead_id: Id,
        action: &str,
        tag: &str,
        at: voronka_core::Millis,
    ) -> Result<()> {
        tx.audit(&NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: action.into(),
            entity: "lead".into(),
            entity_id: Some(lead_id),
            before: None,
            after: Some(tag.to_string()),
            at,
        })
        .await?;
        Ok(())
    }
}
