//! Storage for signing in: passwords, sessions ended together, links that set a new password,
//! and failed sign-ins counted by email. A supertrait of [`crate::Store`] and [`crate::Tx`], so
//! its methods are called on the same objects.

use crate::Result;
use async_trait::async_trait;
use voronka_core::{Id, Millis};

/// A link that sets a new password: the hash of its token, whose user, and until when it works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordReset {
    pub token_hash: String,
    pub user_id: Id,
    pub created_at: Millis,
    pub expires_at: Millis,
}

#[async_trait]
pub trait SignInStore {
    /// When the latest failed sign-ins with this email (as stored: trimmed, lower case) since
    /// `since` were, the latest first (at most `limit`).
    async fn login_failures(&self, email: &str, since: Millis, limit: i64) -> Result<Vec<Millis>>;
    /// Records a failed sign-in, and forgets every one before `forget_before`.
    async fn record_login_failure(
        &self,
        email: &str,
        at: Millis,
        forget_before: Millis,
    ) -> Result<()>;
    /// Forgets the failed sign-ins with this email (after a sign-in or a new password).
    async fn clear_login_failures(&self, email: &str) -> Result<()>;
    /// The user a link is for, while it is unused and `now` is before its end.
    async fn password_reset_user(&self, token_hash: &str, now: Millis) -> Result<Option<Id>>;
    /// A person's sessions not yet expired at `now`, the latest first.
    async fn sessions_of(&self, user_id: Id, now: Millis) -> Result<Vec<crate::Session>>;
    /// Records that a session was used at `at`.
    async fn session_seen(&self, token_hash: &str, at: Millis) -> Result<()>;
    /// Ends one session of a person; whether it was theirs and there.
    async fn end_session(&self, user_id: Id, token_hash: &str) -> Result<bool>;
}

#[async_trait]
pub trait SignInTx {
    /// Sets a user's password hash; whether there is such a user.
    async fn set_user_password(&mut self, id: Id, hash: &str) -> Result<bool>;
    /// Ends every session of the user but the one whose token hash is `keep`; how many ended.
    async fn end_sessions(&mut self, user_id: Id, keep: Option<&str>) -> Result<u64>;
    async fn insert_password_reset(&mut self, r: &PasswordReset) -> Result<()>;
    /// How many links were made for the user since `since`.
    async fn password_resets_since(&mut self, user_id: Id, since: Millis) -> Result<i64>;
    /// Uses a link up: its user, when it was unused and `now` is before its end. Every other
    /// unused link of that user is used up with it.
    async fn take_password_reset(&mut self, token_hash: &str, now: Millis) -> Result<Option<Id>>;
}
