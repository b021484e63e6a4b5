//! Storage for the tags on leads. A supertrait of [`crate::Store`] and [`crate::Tx`], so its
//! methods are called on the same objects.

use crate::{Result, Visibility};
use async_trait::async_trait;
use std::collections::HashMap;
use voronka_core::{Id, Millis};

/// A tag in use and how many leads (not merged away) the reader sees with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TagUse {
    pub tag: String,
    pub leads: i64,
}

#[async_trait]
pub trait TagStore {
    /// The tags of each of these leads, in the order they were added.
    async fn tags_of_leads(&self, lead_ids: &[Id]) -> Result<HashMap<Id, Vec<String>>>;
    /// The tags on leads `who` sees, the most used first (at most `limit`).
    async fn tags_in_use(&self, who: &Visibility, limit: i64) -> Result<Vec<TagUse>>;
    /// The tags there are, by name (at most `limit`), read from the tags' index alone: what a
    /// tag field offers to pick from.
    async fn tag_names(&self, limit: i64) -> Result<Vec<String>>;
}

#[async_trait]
pub trait TagTx {
    /// Adds a tag (kept as `tag`, compared by `key`); whether the lead did not have it yet.
    async fn add_tag(&mut self, lead_id: Id, tag: &str, key: &str, at: Millis) -> Result<bool>;
    /// Removes a tag by its key; the tag as it was kept, when the lead had it.
    async fn remove_tag(&mut self, lead_id: Id, key: &str) -> Result<Option<String>>;
    /// The lead's tags, in the order they were added.
    async fn tags_of(&mut self, lead_id: Id) -> Result<Vec<String>>;
    /// Gives the survivor of a merge the merged lead's tags it does not have, the earliest
    /// added first, while it has fewer than `max`; the keys of those it was given.
    async fn copy_tags(&mut self, from_lead: Id, to_lead: Id, max: usize) -> Result<Vec<String>>;
    /// Removes these tags (by key) from a lead: those a merge gave it, when the merge is undone.
    async fn remove_tags(&mut self, lead_id: Id, keys: &[String]) -> Result<()>;
    /// Renames the tag `from_key` to `tag` (compared by `key`) on the leads `who` sees; a lead
    /// that has the new name already keeps it once. How many leads had the old one.
    async fn rename_tag(
        &mut self,
        who: &Visibility,
        from_key: &str,
        tag: &str,
        key: &str,
    ) -> Result<i64>;
    /// Removes the tag `key` from every lead `who` sees; from how many.
    async fn delete_tag(&mut self, who: &Visibility, key: &str) -> Result<i64>;
}
