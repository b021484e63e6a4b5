//! Storage for channel analytics: what the leads of a period came to per channel, and the
//! marketing spend entered for each channel. A supertrait of [`crate::Store`] and
//! [`crate::Tx`], so its methods are called on the same objects.

use crate::Result;
use async_trait::async_trait;
use voronka_core::channels::{ChannelBy, ChannelTally, SpendEntry, WeekTally};
use voronka_core::{Id, Millis, Money};

/// Spend to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSpend {
    pub source: String,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    /// The first moment paid for.
    pub starts_at: Millis,
    /// The moment after the last one paid for.
    pub ends_at: Millis,
    pub amount: Money,
    pub note: Option<String>,
    /// Who entered it, as the audit log names them.
    pub created_by: String,
    pub created_at: Millis,
}

#[async_trait]
pub trait ChannelStore {
    /// The leads created in `[from, to)` grouped by `by`: how many, how far they went and what
    /// their deals came to (one sum per currency); and the interests of the period. Merged
    /// leads are left out (their survivor counts). Several tallies of one key may come back:
    /// their sums are the channel's.
    async fn channel_tallies(
        &self,
        by: ChannelBy,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<ChannelTally>>;
    /// The leads (junk left out) created in `[from, to)` per key of `by` and week (Monday to
    /// Sunday, UTC).
    async fn channel_weeks(
        &self,
        by: ChannelBy,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<WeekTally>>;
    /// The spend entries whose days overlap `[from, to)`, the latest first.
    async fn spend_entries(&self, from: Millis, to: Millis) -> Result<Vec<SpendEntry>>;
    async fn spend_entry(&self, id: Id) -> Result<Option<SpendEntry>>;
}

#[async_trait]
pub trait ChannelTx {
    async fn add_spend(&mut self, s: &NewSpend) -> Result<Id>;
    /// Changes an entry's channel, days, amount and note (who entered it and when stay);
    /// whether there was one.
    async fn update_spend(&mut self, id: Id, s: &NewSpend) -> Result<bool>;
    /// Deletes an entry; whether there was one.
    async fn delete_spend(&mut self, id: Id) -> Result<bool>;
    /// Deletes the entries of the same channel (source, medium, campaign) and the same days as
    /// `s`, which a file of spend replaces; how many there were.
    async fn delete_spend_like(&mut self, s: &NewSpend) -> Result<u64>;
}
