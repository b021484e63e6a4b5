//! Passwords, secrets, and who is acting.

use crate::{now_ms, App, AppError, Message, Result};
use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use voronka_core::{Id, Role, Scope, ScopeSet, User};
use voronka_store::{NewToken, NewUser, Session, Visibility};

pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Io(format!("password hashing failed: {e}")))
}

pub(crate) fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A random secret: 32 bytes, hex, with a prefix that says what it is.
pub fn new_secret(prefix: &str) -> String {
    let mut b = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut b);
    format!("{prefix}{}", hex::encode(b))
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Who performs an action: a signed-in user, a token, or the system itself.
#[derive(Debug, Clone)]
pub enum Principal {
    User(User),
    Token {
        id: Id,
        name: String,
        scopes: ScopeSet,
        user: Option<User>,
    },
    System(String),
}

/// The acting principal with what it may do.
#[derive(Debug, Clone)]
pub struct Actor {
    pub principal: Principal,
}

impl Actor {
    pub fn system(name: &str) -> Actor {
        Actor {
            principal: Principal::System(name.to_string()),
        }
    }
    pub fn user(u: User) -> Actor {
        Actor {
            principal: Principal::User(u),
        }
    }
    pub fn user_id(&self) -> Option<Id> {
        match &self.principal {
            Principal::User(u) => Some(u.id),
            Principal::Token { user, .. } => user.as_ref().map(|u| u.id),
            Principal::System(_) => None,
        }
    }
    pub fn name(&self) -> String {
        match &self.principal {
            Principal::User(u) => u.name.clone(),
            Principal::Token { name, .. } => format!("token {name}"),
            Principal::System(n) => n.clone(),
        }
    }
    pub fn role(&self) -> Role {
        match &self.principal {
            Principal::User(u) => u.role,
            Principal::Token { user: Some(u), .. } => u.role,
            Principal::Token { user: None, .. } | Principal::System(_) => Role::Admin,
        }
    }
    fn scope_ok(&self, s: Scope) -> bool {
        match &self.principal {
            Principal::Token { scopes, .. } => scopes.allows(s),
            _ => true,
        }
    }
    /// Rows of leads this actor may see, enforced inside every lead query.
    pub fn visibility(&self) -> Visibility {
        match &self.principal {
            Principal::User(u) | Principal::Token { user: Some(u), .. } => match u.role {
                Role::Salesperson => Visibility::Owner(u.id),
                Role::SalesManager => match u.team_id {
                    Some(t) => Visibility::Team(t),
                    None => Visibility::All,
                },
                _ => Visibility::All,
            },
            _ => Visibility::All,
        }
    }
    pub fn require_read_leads(&self) -> Result<()> {
        if !self.scope_ok(Scope::LeadsRead) {
            return Err(AppError::Forbidden(
                Message::new("token_lacks_scope").with("scope", "leads:read"),
            ));
        }
        if !self.role().reads_leads() {
            return Err(AppError::Forbidden(Message::new(
                "role_cannot_see_personal_data",
            )));
        }
        Ok(())
    }
    pub fn require_write_leads(&self) -> Result<()> {
        if !self.scope_ok(Scope::LeadsWrite) {
            return Err(AppError::Forbidden(
                Message::new("token_lacks_scope").with("scope", "leads:write"),
            ));
        }
        if !self.role().writes_leads() {
            return Err(AppError::Forbidden(Message::new(
                "role_cannot_change_leads",
            )));
        }
        Ok(())
    }
    pub fn require_forms(&self) -> Result<()> {
        if !self.scope_ok(Scope::FormsWrite) {
            return Err(AppError::Forbidden(
                Message::new("token_lacks_scope").with("scope", "forms:write"),
            ));
        }
        if !self.role().manages_forms() {
            return Err(AppError::Forbidden(Message::new(
                "role_cannot_manage_forms",
            )));
        }
        Ok(())
    }
    /// Behaviour events: a token with events:write or leads:write, or a person who may change
    /// leads or manage forms.
    pub fn require_events(&self) -> Result<()> {
        if !(self.scope_ok(Scope::EventsWrite) || self.scope_ok(Scope::LeadsWrite)) {
            return Err(AppError::Forbidden(
                Message::new("token_lacks_scope").with("scope", "events:write"),
            ));
        }
        if !(self.role().writes_leads() || self.role().manages_forms()) {
            return Err(AppError::Forbidden(Message::new("role_cannot_send_events")));
        }
        Ok(())
    }
    /// Operational metrics (no personal data): a token with metrics:read, or an administrator.
    pub fn require_metrics(&self) -> Result<()> {
        if !self.scope_ok(Scope::MetricsRead) || !self.role().is_admin() {
            return Err(AppError::Forbidden(
                Message::new("token_lacks_scope").with("scope", "metrics:read"),
            ));
        }
        Ok(())
    }
    pub fn require_admin(&self) -> Result<()> {
        if !self.scope_ok(Scope::Admin) || !self.role().is_admin() {
            return Err(AppError::Forbidden(Message::new("admins_only")));
        }
        Ok(())
    }
    /// Aggregate reports without personal data: everyone but salespeople, or a token that may
    /// read leads or manage forms.
    pub fn require_reports(&self) -> Result<()> {
        if !(self.scope_ok(Scope::LeadsRead) || self.scope_ok(Scope::FormsWrite)) {
            return Err(AppError::Forbidden(
                Message::new("token_lacks_scope").with("scope", "leads:read or forms:write"),
            ));
        }
        if self.role() == voronka_core::Role::Salesperson {
            return Err(AppError::Forbidden(Message::new("role_cannot_see_reports")));
        }
        Ok(())
    }
    pub fn require_export(&self) -> Result<()> {
        self.require_read_leads()?;
        if !self.role().exports_leads() {
            return Err(AppError::Forbidden(Message::new(
                "role_cannot_export_personal_data",
            )));
        }
        Ok(())
    }
}

pub const SESSION_TTL_MS: i64 = 14 * 24 * 3600 * 1000;

/// How often a session's last use is written down.
const SESSION_SEEN_EVERY_MS: i64 = 5 * 60 * 1000;

/// The most of a browser's name kept with a session.
const MAX_USER_AGENT: usize = 400;

/// A browser's name as kept: printable, trimmed, at most [`MAX_USER_AGENT`] characters.
fn user_agent_kept(ua: &str) -> String {
    ua.chars()
        .filter(|c| !c.is_control())
        .take(MAX_USER_AGENT)
        .collect::<String>()
        .trim()
        .to_string()
}

/// One of a person's sessions as they see it: named by an id of its own (never its token),
/// with the browser it signed in from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub id: String,
    pub user_agent: Option<String>,
    pub created_at: crate::Millis,
    pub last_seen_at: Option<crate::Millis>,
    /// The session these were read through.
    pub current: bool,
}

/// A session's id as its person sees it: derived from its stored hash, so the token stays unknown.
fn session_id(token_hash: &str) -> String {
    sha256_hex(&format!("session:{token_hash}"))[..16].to_string()
}

/// Failed sign-ins with one email allowed within [`LOGIN_LOCK_MS`].
pub const LOGIN_FAILURES_ALLOWED: i64 = 5;
/// The while over which failed sign-ins are counted, and how long a locked sign-in waits.
pub const LOGIN_LOCK_MS: i64 = 15 * 60 * 1000;

/// The person signed in as `actor`: only they have sessions and a password of their own.
pub(crate) fn own_user(actor: &Actor) -> Result<&User> {
    match &actor.principal {
        Principal::User(u) => Ok(u),
        _ => Err(AppError::Forbidden(Message::new("password_own_only"))),
    }
}

/// What a right password leads to.
#[derive(Debug)]
pub enum SignIn {
    /// Signed in: the user, the session's token and its CSRF token.
    Done(User, String, String),
    /// The person's two-step sign-in is on: the token of the sign-in waiting for their code.
    SecondStep(String),
}

/// A locked sign-in, open again `wait_ms` from now.
fn login_locked(wait_ms: i64) -> AppError {
    let retry_after_s = (wait_ms.max(1000) as u64).div_ceil(1000);
    AppError::Limited {
        message: Message::new("login_locked").with("minutes", retry_after_s.div_ceil(60)),
        retry_after_s,
    }
}

impl App {
    pub async fn add_user(
        &self,
        email: &str,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<User> {
        let email = email.trim();
        if !email.contains('@') || email.len() > 254 {
            return Err(AppError::invalid(
                "email",
                Message::new("user_email_invalid"),
            ));
        }
        crate::passwords::check_new_password(password)?;
        let name = if name.trim().is_empty() {
            email.split('@').next().unwrap_or(email).to_string()
        } else {
            voronka_core::intake::normalize::clean_text(name)
        };
        let user = self
            .store
            .create_user(&NewUser {
                email: email.to_string(),
                name,
                password_hash: hash_password(password)?,
                role,
                team_id: None,
                created_at: now_ms(),
            })
            .await?;
        Ok(user)
    }

    /// Checks a password; on success opens a session and returns (user, session token, csrf token).
    ///
    /// After [`LOGIN_FAILURES_ALLOWED`] failed sign-ins with one email within
    /// [`LOGIN_LOCK_MS`], that email's sign-in is refused (even with the right password) until
    /// the oldest of them is that old: guessing a password costs a quarter of an hour every few
    /// tries. Counted in the database, so every process serving it counts the same tries.
    pub async fn login(&self, email: &str, password: &str) -> Result<(User, String, String)> {
        self.sign_in(email, password, None, now_ms()).await
    }

    /// [`App::login`] at a given time.
    pub async fn login_at(
        &self,
        email: &str,
        password: &str,
        now: crate::Millis,
    ) -> Result<(User, String, String)> {
        self.sign_in(email, password, None, now).await
    }

    /// [`App::login`] from a browser that names itself `user_agent` (kept with the session, so
    /// that its person knows it in their list of sessions), at a given time. A person whose
    /// two-step sign-in is on is refused here: [`App::begin_sign_in`] asks for their code.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        user_agent: Option<&str>,
        now: crate::Millis,
    ) -> Result<(User, String, String)> {
        match self.begin_sign_in(email, password, user_agent, now).await? {
            SignIn::Done(user, token, csrf) => Ok((user, token, csrf)),
            SignIn::SecondStep(_) => Err(AppError::Unauthorized(Message::new("two_step_required"))),
        }
    }

    /// Checks a password: signs in, or, when the person's two-step sign-in is on, answers the
    /// token of a sign-in waiting for its code ([`App::finish_sign_in`]) for
    /// [`crate::SECOND_STEP_MS`].
    ///
    /// After [`LOGIN_FAILURES_ALLOWED`] failed sign-ins (wrong passwords or codes) with one email
    /// within [`LOGIN_LOCK_MS`], that email's sign-in is refused (even with the right password)
    /// until the oldest of them is that old.
    pub async fn begin_sign_in(
        &self,
        email: &str,
        password: &str,
        user_agent: Option<&str>,
        now: crate::Millis,
    ) -> Result<SignIn> {
        let key = email.trim().to_lowercase();
        self.check_not_locked(&key, now).await?;
        let found = self
            .store
            .user_with_hash(&key)
            .await?
            .filter(|(u, _)| u.active);
        let checked = match &found {
            Some((user, hash)) => verify_password(password, hash).then(|| user.clone()),
            None => {
                // Same work and same answer whether the user exists or not.
                let _ = verify_password(password, "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$UqHFMoH3A1Kyq5j6BsoE1QG3K6Xc9m6r3Bq0fWQ2b7g");
                None
            }
        };
        let Some(user) = checked else {
            self.failed_sign_in(&key, found.as_ref().map(|(u, _)| u), now)
                .await?;
            return Err(AppError::Unauthorized(Message::new(
                "wrong_email_or_password",
            )));
        };
        let user_agent = user_agent.map(user_agent_kept).filter(|a| !a.is_empty());
        if self.store.two_step(user.id).await?.secret.is_some() {
            // The failures are cleared by the whole sign-in only: a right password does not
            // buy more guesses of the code.
            let token = self.new_challenge(&user, user_agent, now).await?;
            return Ok(SignIn::SecondStep(token));
        }
        self.store.clear_login_failures(&key).await?;
        let (token, csrf) = self.open_session(&user, user_agent, now).await?;
        Ok(SignIn::Done(user, token, csrf))
    }

    /// The second step of a sign-in: a code of the person's authenticator app or a recovery
    /// code. A wrong code counts as a failed sign-in of their email and keeps the sign-in
    /// waiting; an unknown or expired `challenge` is refused with `two_step_expired`.
    pub async fn finish_sign_in(
        &self,
        challenge: &str,
        code: &str,
        now: crate::Millis,
    ) -> Result<(User, String, String)> {
        let expired = || AppError::Unauthorized(Message::new("two_step_expired"));
        let c = self
            .store
            .signin_challenge(&sha256_hex(challenge), now)
            .await?
            .ok_or_else(expired)?;
        let user = self
            .store
            .user(c.user_id)
            .await?
            .filter(|u| u.active)
            .ok_or_else(expired)?;
        let key = user.email.trim().to_lowercase();
        self.check_not_locked(&key, now).await?;
        if !self.second_step_ok(&user, code, now).await? {
            self.failed_sign_in(&key, Some(&user), now).await?;
            return Err(AppError::Unauthorized(Message::new("two_step_code_wrong")));
        }
        self.store.delete_signin_challenge(&c.token_hash).await?;
        self.store.clear_login_failures(&key).await?;
        let (token, csrf) = self.open_session(&user, c.user_agent, now).await?;
        Ok((user, token, csrf))
    }

    /// Records a failed sign-in of an email. The failure that locks it tells the person it is
    /// theirs by email (when email is set up): someone may be guessing their password.
    async fn failed_sign_in(
        &self,
        key: &str,
        user: Option<&User>,
        now: crate::Millis,
    ) -> Result<()> {
        self.store
            .record_login_failure(key, now, now - LOGIN_LOCK_MS)
            .await?;
        // Counted whether the email is anyone's, so that the answer takes alike either way.
        let failures = self
            .store
            .login_failures(key, now - LOGIN_LOCK_MS, LOGIN_FAILURES_ALLOWED + 1)
            .await?;
        if let Some(u) = user.filter(|_| failures.len() as i64 == LOGIN_FAILURES_ALLOWED) {
            let mut tx = self.store.begin().await?;
            crate::mail::queue_security_notice(
                tx.as_mut(),
                u,
                "user.sign_in_locked",
                &Actor::user(u.clone()),
                now,
            )
            .await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Refuses a sign-in of an email locked by its failures.
    async fn check_not_locked(&self, key: &str, now: crate::Millis) -> Result<()> {
        let failures = self
            .store
            .login_failures(key, now - LOGIN_LOCK_MS, LOGIN_FAILURES_ALLOWED)
            .await?;
        if failures.len() as i64 >= LOGIN_FAILURES_ALLOWED {
            // Open again once the oldest of the latest allowed failures is out of the while.
            let oldest = failures.last().copied().unwrap_or(now);
            return Err(login_locked(oldest + LOGIN_LOCK_MS - now));
        }
        Ok(())
    }

    async fn open_session(
        &self,
        user: &User,
        user_agent: Option<String>,
        now: crate::Millis,
    ) -> Result<(String, String)> {
        let token = new_secret("");
        let csrf = new_secret("");
        self.store
            .create_session(&Session {
                token_hash: sha256_hex(&token),
                user_id: user.id,
                csrf: csrf.clone(),
                created_at: now,
                expires_at: now + SESSION_TTL_MS,
                user_agent,
                last_seen_at: Some(now),
            })
            .await?;
        Ok((token, csrf))
    }

    /// Resolves a session cookie to its user and CSRF token.
    pub async fn session_user(&self, token: &str) -> Result<Option<(User, String)>> {
        let Some(s) = self.store.session(&sha256_hex(token)).await? else {
            return Ok(None);
        };
        let now = now_ms();
        if s.expires_at < now {
            self.store.delete_session(&s.token_hash).await?;
            return Ok(None);
        }
        // When it was last seen is informative: written every few minutes, and a failure to
        // write it refuses nothing.
        if s.last_seen_at
            .is_none_or(|l| now - l > SESSION_SEEN_EVERY_MS)
        {
            let _ = self.store.session_seen(&s.token_hash, now).await;
        }
        Ok(self
            .store
            .user(s.user_id)
            .await?
            .filter(|u| u.active)
            .map(|u| (u, s.csrf)))
    }

    /// The signed-in person's sessions, the latest first; `current` is the token of the one in
    /// use.
    pub async fn my_sessions(
        &self,
        actor: &Actor,
        current: Option<&str>,
    ) -> Result<Vec<SessionInfo>> {
        let user = own_user(actor)?;
        let current = current.map(sha256_hex);
        Ok(self
            .store
            .sessions_of(user.id, now_ms())
            .await?
            .into_iter()
            .map(|s| SessionInfo {
                id: session_id(&s.token_hash),
                current: current.as_deref() == Some(s.token_hash.as_str()),
                user_agent: s.user_agent,
                created_at: s.created_at,
                last_seen_at: s.last_seen_at,
            })
            .collect())
    }

    /// Ends one of the signed-in person's sessions, by its id in [`App::my_sessions`]; whether
    /// it was the one in use (`current`, its token), so that its page knows it signed out.
    pub async fn end_my_session(
        &self,
        actor: &Actor,
        id: &str,
        current: Option<&str>,
    ) -> Result<bool> {
        let user = own_user(actor)?;
        let found = self
            .store
            .sessions_of(user.id, now_ms())
            .await?
            .into_iter()
            .find(|s| session_id(&s.token_hash) == id);
        match found {
            Some(s) if self.store.end_session(user.id, &s.token_hash).await? => {
                Ok(current.map(sha256_hex).as_deref() == Some(s.token_hash.as_str()))
            }
            _ => Err(AppError::NotFound(Message::new("session_not_found"))),
        }
    }

    /// Ends every session of the signed-in person but the one in use; how many ended.
    pub async fn end_my_other_sessions(&self, actor: &Actor, current: &str) -> Result<u64> {
        let user = own_user(actor)?;
        let mut tx = self.store.begin().await?;
        let ended = tx.end_sessions(user.id, Some(&sha256_hex(current))).await?;
        tx.commit().await?;
        Ok(ended)
    }

    pub async fn logout(&self, token: &str) -> Result<()> {
        self.store.delete_session(&sha256_hex(token)).await?;
        Ok(())
    }

    /// The user with this email (as they sign in with it), if there is one.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>> {
        Ok(self
            .store
            .user_with_hash(&email.trim().to_lowercase())
            .await?
            .map(|(u, _)| u))
    }

    /// Creates an API token; the secret is returned once and only its hash is stored.
    pub async fn create_token(
        &self,
        name: &str,
        scopes: ScopeSet,
        user_id: Option<Id>,
        ttl_days: Option<i64>,
    ) -> Result<(Id, String)> {
        if name.trim().is_empty() {
            return Err(AppError::invalid(
                "name",
                Message::new("token_name_required"),
            ));
        }
        if scopes.as_slice().is_empty() {
            return Err(AppError::invalid(
                "scopes",
                Message::new("token_scopes_required"),
            ));
        }
        let secret = new_secret("vk_");
        let now = now_ms();
        let id = self
            .store
            .create_token(&NewToken {
                name: name.trim().to_string(),
                token_hash: sha256_hex(&secret),
                scopes,
                user_id,
                created_at: now,
                expires_at: ttl_days.map(|d| now + d * 24 * 3600 * 1000),
            })
            .await?;
        Ok((id, secret))
    }

    /// Resolves a bearer token to an actor; expired and revoked tokens are refused.
    pub async fn token_actor(&self, secret: &str) -> Result<Actor> {
        let t = self
            .store
            .token_by_hash(&sha256_hex(secret.trim()))
            .await?
            .ok_or_else(|| AppError::Unauthorized(Message::new("token_unknown")))?;
        let now = now_ms();
        if t.revoked_at.is_some() {
            return Err(AppError::Unauthorized(Message::new("token_revoked")));
        }
        if t.expires_at.is_some_and(|e| e < now) {
            return Err(AppError::Unauthorized(Message::new("token_expired")));
        }
        let user = match t.user_id {
            Some(u) => Some(
                self.store
                    .user(u)
                    .await?
                    .filter(|u| u.active)
                    .ok_or_else(|| AppError::Unauthorized(Message::new("token_user_disabled")))?,
            ),
            None => None,
        };
        // Last-used is informative; a failure to record it must not refuse the request.
        if t.last_used_at.is_none_or(|l| now - l > 60_000) {
            let _ = self.store.mark_token_used(t.id, now).await;
        }
        Ok(Actor {
            principal: Principal::Token {
                id: t.id,
                name: t.name,
                scopes: t.scopes,
                user,
            },
        })
    }
}
