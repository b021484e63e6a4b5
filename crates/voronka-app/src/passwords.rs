//! Passwords: a person changes their own, an administrator (or the command line) sets one, and
//! a link sent by email sets a forgotten one. A new password ends the person's other sessions,
//! is written to the audit log (never the password or its hash), and lifts a locked sign-in.

use crate::auth::{hash_password, new_secret, sha256_hex};
use crate::mail::{smtp_in_tx, text};
use crate::{now_ms, Actor, App, AppError, Message, Millis, Result};
use voronka_core::{Id, User};
use voronka_store::{NewAudit, PasswordReset};

/// The fewest characters a password may have.
pub const MIN_PASSWORD: usize = 8;
/// The most: hashing is slow on purpose, and a megabyte of password must not make it slower.
pub const MAX_PASSWORD: usize = 1024;
/// How long a link that sets a new password works.
pub const RESET_LINK_MS: Millis = 60 * 60 * 1000;
/// The most links sent to one person within [`RESET_LINK_MS`]: nobody's mailbox is flooded
/// through the "forgot your password" page.
pub const RESET_LINKS_PER_HOUR: i64 = 3;

/// Whether a password may be set.
pub(crate) fn check_new_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(AppError::invalid(
            "password",
            Message::new("password_too_short").with("min", MIN_PASSWORD),
        ));
    }
    if n > MAX_PASSWORD {
        return Err(AppError::invalid(
            "password",
            Message::new("password_too_long").with("max", MAX_PASSWORD),
        ));
    }
    Ok(())
}

/// How a password came to be set, as the audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetBy {
    /// The person, knowing the current one.
    Own,
    /// An administrator, or the command line.
    Other,
    /// A link sent by email.
    Link,
}

impl SetBy {
    fn action(self) -> &'static str {
        match self {
            SetBy::Own => "user.password",
            SetBy::Other => "user.password_set",
            SetBy::Link => "user.password_reset",
        }
    }
}

impl App {
    /// Changes the signed-in person's own password; the current one must be right. Their other
    /// sessions end; the one in use (`session`, its token) stays signed in.
    pub async fn change_own_password(
        &self,
        actor: &Actor,
        current: &str,
        new: &str,
        session: Option<&str>,
    ) -> Result<()> {
        let u = crate::auth::own_user(actor)?;
        check_new_password(new)?;
        self.check_own_password(u, current).await?;
        let keep = session.map(sha256_hex);
        self.put_password(actor, u, new, keep.as_deref(), SetBy::Own, now_ms())
            .await
    }

    /// Sets a person's password (administrators): every session of theirs ends, but the one
    /// in use (`session`) when administrators set their own.
    pub async fn admin_set_password(
        &self,
        actor: &Actor,
        user_id: Id,
        new: &str,
        session: Option<&str>,
    ) -> Result<()> {
        actor.require_admin()?;
        check_new_password(new)?;
        let user = self.store.user(user_id).await?.ok_or_else(|| {
            AppError::NotFound(Message::new("user_not_found").with("id", user_id))
        })?;
        let keep = session
            .filter(|_| actor.user_id() == Some(user_id))
            .map(sha256_hex);
        self.put_password(actor, &user, new, keep.as_deref(), SetBy::Other, now_ms())
            .await
    }

    /// The person who signs in with this email (any case), or a clear refusal.
    pub(crate) async fn known_user_by_email(&self, email: &str) -> Result<User> {
        self.user_by_email(email).await?.ok_or_else(|| {
            AppError::NotFound(Message::new("user_email_unknown").with("email", email.trim()))
        })
    }

    /// Sets the password of the person with this email (the command line, for a team whose
    /// every administrator is locked out); every session of theirs ends.
    pub async fn set_password_by_email(&self, email: &str, new: &str) -> Result<User> {
        check_new_password(new)?;
        let user = self.known_user_by_email(email).await?;
        let actor = Actor::system("command line");
        self.put_password(&actor, &user, new, None, SetBy::Other, now_ms())
            .await?;
        Ok(user)
    }

    /// Sends a link that sets a new password to the active person with this email, if email
    /// is set up here: a link of its own, working for [`RESET_LINK_MS`] and once, at most
    /// [`RESET_LINKS_PER_HOUR`] an hour. Answers the same whether there is such a person or
    /// not; `false` only when email is not set up (nobody can be sent a link).
    pub async fn request_password_reset(&self, email: &str, public_url: &str) -> Result<bool> {
        self.request_password_reset_at(email, public_url, now_ms())
            .await
    }

    /// [`App::request_password_reset`] at a given time.
    pub async fn request_password_reset_at(
        &self,
        email: &str,
        public_url: &str,
        now: Millis,
    ) -> Result<bool> {
        let found = self
            .store
            .user_with_hash(&email.trim().to_lowercase())
            .await?
            .map(|(u, _)| u)
            .filter(|u| u.active);
        let mut tx = self.store.begin().await?;
        if smtp_in_tx(tx.as_mut()).await?.is_none() {
            tx.rollback().await?;
            return Ok(false);
        }
        let Some(user) = found else {
            tx.rollback().await?;
            return Ok(true);
        };
        if tx
            .password_resets_since(user.id, now - RESET_LINK_MS)
            .await?
            >= RESET_LINKS_PER_HOUR
        {
            tracing::info!(
                user = user.id,
                "password link not sent: enough sent this hour"
            );
            tx.rollback().await?;
            return Ok(true);
        }
        let token = new_secret("");
        tx.insert_password_reset(&PasswordReset {
            token_hash: sha256_hex(&token),
            user_id: user.id,
            created_at: now,
            expires_at: now + RESET_LINK_MS,
        })
        .await?;
        let link = format!(
            "{}/password/reset/{token}",
            public_url.trim_end_matches('/')
        );
        let (subject, body) = text::password_reset(&user.name, &link, RESET_LINK_MS / 60_000);
        crate::mail::queue_to_user(tx.as_mut(), &user, subject, body, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether a link still sets a password (unused, not expired, its person active).
    pub async fn password_link_works(&self, token: &str) -> Result<bool> {
        let Some(id) = self
            .store
            .password_reset_user(&sha256_hex(token), now_ms())
            .await?
        else {
            return Ok(false);
        };
        Ok(self.store.user(id).await?.is_some_and(|u| u.active))
    }

    /// Sets a new password through a link sent by email. The link is used up (and every other
    /// link of that person with it), every session of theirs ends, and their sign-in is no
    /// longer locked. Returns the person, who signs in with the new password.
    pub async fn reset_password(&self, token: &str, new: &str) -> Result<User> {
        self.reset_password_at(token, new, now_ms()).await
    }

    /// [`App::reset_password`] at a given time.
    pub async fn reset_password_at(&self, token: &str, new: &str, now: Millis) -> Result<User> {
        check_new_password(new)?;
        let invalid = || AppError::NotFound(Message::new("reset_link_invalid"));
        let hash = hash_password(new)?;
        let mut tx = self.store.begin().await?;
        let Some(user_id) = tx.take_password_reset(&sha256_hex(token), now).await? else {
            tx.rollback().await?;
            return Err(invalid());
        };
        let Some(user) = self.store.user(user_id).await?.filter(|u| u.active) else {
            tx.rollback().await?;
            return Err(invalid());
        };
        let actor = Actor::user(user.clone());
        write_password(tx.as_mut(), &actor, &user, &hash, None, SetBy::Link, now).await?;
        tx.commit().await?;
        self.store.clear_login_failures(&user.email).await?;
        Ok(user)
    }

    async fn put_password(
        &self,
        actor: &Actor,
        user: &User,
        new: &str,
        keep: Option<&str>,
        by: SetBy,
        now: Millis,
    ) -> Result<()> {
        let hash = hash_password(new)?;
        let mut tx = self.store.begin().await?;
        write_password(tx.as_mut(), actor, user, &hash, keep, by, now).await?;
        tx.commit().await?;
        self.store.clear_login_failures(&user.email).await?;
        Ok(())
    }
}

/// Stores the hash, ends the sessions but `keep`, and writes the audit entry (how many
/// sessions ended; nothing of the password).
async fn write_password(
    tx: &mut dyn voronka_store::Tx,
    actor: &Actor,
    user: &User,
    hash: &str,
    keep: Option<&str>,
    by: SetBy,
    now: Millis,
) -> Result<()> {
    if !tx.set_user_password(user.id, hash).await? {
        return Err(AppError::NotFound(
            Message::new("user_not_found").with("id", user.id),
        ));
    }
    let ended = tx.end_sessions(user.id, keep).await?;
    tx.audit(&NewAudit {
        actor_id: actor.user_id(),
        actor: actor.name(),
        action: by.action().into(),
        entity: "user".into(),
        entity_id: Some(user.id),
        before: None,
        after: Some(serde_json::json!({ "sessions_ended": ended }).to_string()),
        at: now,
    })
    .await?;
    crate::mail::queue_security_notice(tx, user, by.action(), actor, now).await
}
