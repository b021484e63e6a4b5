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

/// A person's two-step sign-in: the secret of their authenticator app when it is on, the one
/// being set up, and the last time step whose code was used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TwoStep {
    pub secret: Option<String>,
    pub pending: Option<String>,
    pub last_step: Option<i64>,
}

/// A sign-in waiting for its second step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInChallenge {
    pub token_hash: String,
    pub user_id: Id,
    pub user_agent: Option<String>,
    pub expires_at: Millis,
}

#[async_trait]
pub trait SignInStore {
    /// A person's two-step sign-in (all empty for an unknown id).
    async fn two_step(&self, user_id: Id) -> Result<TwoStep>;
    /// The people whose two-step sign-in is on.
    async fn two_step_users(&self) -> Result<Vec<Id>>;
    /// How many of a person's recovery codes are unused.
    async fn recovery_codes_left(&self, user_id: Id) -> Result<i64>;
    /// A sign-in waiting for its second step, while `now` is before its end.
    async fn signin_challenge(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<SignInChallenge>>;
    /// Records a sign-in waiting for its second step, and forgets those ended before `now`.
    async fn insert_signin_challenge(&self, c: &SignInChallenge, now: Millis) -> Result<()>;
    /// Forgets a sign-in's second step (done, or given up).
    async fn delete_signin_challenge(&self, token_hash: &str) -> Result<()>;
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
    /// Ends every session of the user but the one whose token hash is `keep`, and every sign-in
    /// of theirs waiting for its second step; how many sessions ended.
    async fn end_sessions(&mut self, user_id: Id, keep: Option<&str>) -> Result<u64>;
    async fn insert_password_reset(&mut self, r: &PasswordReset) -> Result<()>;
    /// How many links were made for the user since `since`.
    async fn password_resets_since(&mut self, user_id: Id, since: Millis) -> Result<i64>;
    /// Uses a link up: its user, when it was unused and `now` is before its end. Every other
    /// unused link of that user is used up with it.
    async fn take_password_reset(&mut self, token_hash: &str, now: Millis) -> Result<Option<Id>>;
    /// Keeps (or, with `None`, forgets) the secret of a two-step sign-in being set up.
    async fn set_two_step_pending(&mut self, user_id: Id, secret: Option<&str>) -> Result<()>;
    /// Turns two-step sign-in on with the secret being set up, its code of `step` used, and
    /// these recovery codes' hashes replacing any before.
    async fn enable_two_step(&mut self, user_id: Id, step: i64, codes: &[String]) -> Result<()>;
    /// Turns two-step sign-in off: the secrets and recovery codes go.
    async fn disable_two_step(&mut self, user_id: Id) -> Result<()>;
    /// Records the code of `step` as used; false when it or a later one was used already.
    async fn use_two_step_step(&mut self, user_id: Id, step: i64) -> Result<bool>;
    /// Uses up a recovery code by its hash; whether it was there unused.
    async fn use_recovery_code(&mut self, user_id: Id, code_hash: &str, at: Millis)
        -> Result<bool>;
    /// Replaces a person's recovery codes with these hashes.
    async fn replace_recovery_codes(&mut self, user_id: Id, codes: &[String]) -> Result<()>;
}
