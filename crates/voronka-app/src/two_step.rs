//! Two-step sign-in: after the password, a code from an authenticator app (TOTP, RFC 6238:
//! SHA-1, six digits, 30-second steps, one step of clock drift either way), or one of ten
//! recovery codes, each good once. A code's step is recorded when used, so a code seen over a
//! shoulder does not sign in again. Wrong codes count as failed sign-ins of the person's email.

use crate::auth::{new_secret, own_user, sha256_hex, verify_password};
use crate::{now_ms, Actor, App, AppError, Message, Millis, Result};
use rand::RngCore;
use totp_rs::{Algorithm, Secret, TOTP};
use voronka_core::{Id, User};
use voronka_store::NewAudit;

/// How long a sign-in waits for its second step.
pub const SECOND_STEP_MS: i64 = 5 * 60 * 1000;
/// Recovery codes given at once.
pub const RECOVERY_CODES: usize = 10;
/// The name authenticator apps show beside the account.
const ISSUER: &str = "Voronka";
const STEP_S: u64 = 30;

/// What an authenticator app is given to set up two-step sign-in: the secret (base32, to type)
/// and the `otpauth://` address (to show as a QR code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoStepSetup {
    pub secret: String,
    pub uri: String,
}

/// Where a person's two-step sign-in is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwoStepStatus {
    pub on: bool,
    /// Being set up: what the app is given, until a code confirms it.
    pub setup: Option<TwoStepSetup>,
    pub recovery_codes_left: i64,
}

/// The setting that says whose sign-in must have two steps.
pub const TWO_STEP_POLICY: &str = "two_step_policy";

/// Whose sign-in must have two steps: until they turn it on, the web pages of such a person lead
/// to their account page, where they do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TwoStepPolicy {
    /// Each person chooses.
    #[default]
    Nobody,
    Admins,
    Everyone,
}

impl TwoStepPolicy {
    pub const ALL: [TwoStepPolicy; 3] = [
        TwoStepPolicy::Nobody,
        TwoStepPolicy::Admins,
        TwoStepPolicy::Everyone,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TwoStepPolicy::Nobody => "nobody",
            TwoStepPolicy::Admins => "admins",
            TwoStepPolicy::Everyone => "everyone",
        }
    }

    pub fn parse(s: &str) -> Option<TwoStepPolicy> {
        TwoStepPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
    }

    /// Whether the rule asks a person of this role for two steps.
    pub fn applies_to(self, role: voronka_core::Role) -> bool {
        match self {
            TwoStepPolicy::Nobody => false,
            TwoStepPolicy::Admins => role.is_admin(),
            TwoStepPolicy::Everyone => true,
        }
    }
}

fn totp(secret_b32: &str) -> Option<TOTP> {
    let bytes = Secret::Encoded(secret_b32.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_S, bytes).ok()
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The step whose code `code` is, within a step of `now` either way.
pub(crate) fn totp_step(secret_b32: &str, code: &str, now: Millis) -> Option<i64> {
    let t = totp(secret_b32)?;
    let current = (now.max(0) as u64 / 1000) / STEP_S;
    [current, current.saturating_sub(1), current + 1]
        .into_iter()
        .find(|step| same(&t.generate(step * STEP_S), code))
        .map(|s| s as i64)
}

/// The code of the step `now` falls in, for a secret (what an authenticator app shows).
pub fn totp_code(secret_b32: &str, now: Millis) -> Option<String> {
    Some(totp(secret_b32)?.generate(now.max(0) as u64 / 1000))
}

/// A code as typed: spaces and dashes dropped, lower case.
fn typed(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

fn recovery_hash(user_id: Id, code: &str) -> String {
    sha256_hex(&format!("recovery:{user_id}:{}", typed(code)))
}

/// Ten codes of ten letters and digits (no 0, 1, o, l), written in two halves.
fn new_recovery_codes(user_id: Id) -> (Vec<String>, Vec<String>) {
    const ALPHABET: &[u8] = b"23456789abcdefghijkmnpqrstuvwxyz";
    let mut rng = rand::thread_rng();
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let mut b = [0u8; 10];
            rng.fill_bytes(&mut b);
            let s: String = b
                .iter()
                .map(|x| ALPHABET[(*x as usize) % ALPHABET.len()] as char)
                .collect();
            format!("{}-{}", &s[..5], &s[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| recovery_hash(user_id, c)).collect();
    (codes, hashes)
}

fn setup_of(user: &User, secret: &str) -> TwoStepSetup {
    let mut uri = url::Url::parse("otpauth://totp/").expect("a fixed address");
    uri.set_path(&format!("{ISSUER}:{}", user.email));
    uri.query_pairs_mut()
        .append_pair("secret", secret)
        .append_pair("issuer", ISSUER)
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", "6")
        .append_pair("period", "30");
    TwoStepSetup {
        secret: secret.to_string(),
        uri: uri.to_string(),
    }
}

fn code_wrong() -> AppError {
    AppError::invalid("code", Message::new("two_step_code_wrong"))
}

impl App {
    /// Where the signed-in person's two-step sign-in is.
    pub async fn two_step_status(&self, actor: &Actor) -> Result<TwoStepStatus> {
        let u = own_user(actor)?;
        let s = self.store.two_step(u.id).await?;
        Ok(TwoStepStatus {
            on: s.secret.is_some(),
            setup: s
                .pending
                .filter(|_| s.secret.is_none())
                .map(|p| setup_of(u, &p)),
            recovery_codes_left: self.store.recovery_codes_left(u.id).await?,
        })
    }

    /// Starts setting up two-step sign-in: a new secret for the person's authenticator app,
    /// kept until a code from the app confirms it.
    pub async fn start_two_step(&self, actor: &Actor) -> Result<TwoStepSetup> {
        let u = own_user(actor)?;
        if self.store.two_step(u.id).await?.secret.is_some() {
            return Err(AppError::Conflict(Message::new("two_step_on_already")));
        }
        let mut raw = [0u8; 20];
        rand::thread_rng().fill_bytes(&mut raw);
        let Secret::Encoded(secret) = Secret::Raw(raw.to_vec()).to_encoded() else {
            return Err(AppError::Io("a secret could not be encoded".into()));
        };
        let mut tx = self.store.begin().await?;
        tx.set_two_step_pending(u.id, Some(&secret)).await?;
        tx.commit().await?;
        Ok(setup_of(u, &secret))
    }

    /// Turns two-step sign-in on with a code from the app being set up; answers the recovery
    /// codes, shown this once.
    pub async fn confirm_two_step(
        &self,
        actor: &Actor,
        code: &str,
        now: Millis,
    ) -> Result<Vec<String>> {
        let u = own_user(actor)?;
        let s = self.store.two_step(u.id).await?;
        if s.secret.is_some() {
            return Err(AppError::Conflict(Message::new("two_step_on_already")));
        }
        let pending = s
            .pending
            .ok_or_else(|| AppError::invalid("code", Message::new("two_step_not_started")))?;
        let step = totp_step(&pending, &typed(code), now).ok_or_else(code_wrong)?;
        let (codes, hashes) = new_recovery_codes(u.id);
        let mut tx = self.store.begin().await?;
        tx.enable_two_step(u.id, step, &hashes).await?;
        audit_user(tx.as_mut(), actor, u, "user.two_step_on", now).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// New recovery codes for the signed-in person (their password asked); the old ones stop
    /// working.
    pub async fn renew_recovery_codes(&self, actor: &Actor, password: &str) -> Result<Vec<String>> {
        let u = own_user(actor)?;
        self.check_own_password(u, password).await?;
        if self.store.two_step(u.id).await?.secret.is_none() {
            return Err(AppError::Conflict(Message::new("two_step_off")));
        }
        let (codes, hashes) = new_recovery_codes(u.id);
        let mut tx = self.store.begin().await?;
        tx.replace_recovery_codes(u.id, &hashes).await?;
        audit_user(tx.as_mut(), actor, u, "user.recovery_codes", now_ms()).await?;
        tx.commit().await?;
        Ok(codes)
    }

    /// Turns the signed-in person's two-step sign-in off (their password asked).
    pub async fn turn_off_own_two_step(&self, actor: &Actor, password: &str) -> Result<()> {
        let u = own_user(actor)?;
        self.check_own_password(u, password).await?;
        self.two_step_off(actor, u, "user.two_step_off").await
    }

    /// Turns a person's two-step sign-in off (administrators): for someone who lost their
    /// phone and their recovery codes.
    pub async fn reset_two_step(&self, actor: &Actor, user_id: Id) -> Result<()> {
        actor.require_admin()?;
        let user = self.store.user(user_id).await?.ok_or_else(|| {
            AppError::NotFound(Message::new("user_not_found").with("id", user_id))
        })?;
        self.two_step_off(actor, &user, "user.two_step_reset").await
    }

    /// Turns off the two-step sign-in of the person with this email (the command line, for a
    /// team whose every administrator is locked out).
    pub async fn reset_two_step_by_email(&self, email: &str) -> Result<User> {
        let user = self.known_user_by_email(email).await?;
        self.two_step_off(&Actor::system("command line"), &user, "user.two_step_reset")
            .await?;
        Ok(user)
    }

    async fn two_step_off(&self, actor: &Actor, user: &User, action: &str) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.disable_two_step(user.id).await?;
        audit_user(tx.as_mut(), actor, user, action, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn check_own_password(&self, u: &User, password: &str) -> Result<()> {
        let (_, hash) =
            self.store.user_with_hash(&u.email).await?.ok_or_else(|| {
                AppError::NotFound(Message::new("user_not_found").with("id", u.id))
            })?;
        if !verify_password(password, &hash) {
            return Err(AppError::invalid(
                "current_password",
                Message::new("password_current_wrong"),
            ));
        }
        Ok(())
    }

    /// Whose sign-in must have two steps.
    pub async fn two_step_policy(&self) -> Result<TwoStepPolicy> {
        Ok(self
            .store
            .setting(TWO_STEP_POLICY)
            .await?
            .and_then(|v| TwoStepPolicy::parse(&v))
            .unwrap_or_default())
    }

    /// Sets whose sign-in must have two steps (administrators); the audit log keeps it.
    pub async fn set_two_step_policy(&self, actor: &Actor, policy: TwoStepPolicy) -> Result<()> {
        actor.require_admin()?;
        let before = self.two_step_policy().await?;
        let now = now_ms();
        self.store
            .put_setting(TWO_STEP_POLICY, policy.as_str(), now)
            .await?;
        self.audit_setting(
            actor,
            TWO_STEP_POLICY,
            &before.as_str(),
            &policy.as_str(),
            now,
        )
        .await
    }

    /// Whether this person must turn two-step sign-in on before anything else: the rule asks it
    /// of their role and theirs is off.
    pub async fn must_set_up_two_step(&self, user: &User) -> Result<bool> {
        if !self.two_step_policy().await?.applies_to(user.role) {
            return Ok(false);
        }
        Ok(self.store.two_step(user.id).await?.secret.is_none())
    }

    /// The people whose two-step sign-in is on (administrators).
    pub async fn two_step_users(&self, actor: &Actor) -> Result<Vec<Id>> {
        actor.require_admin()?;
        Ok(self.store.two_step_users().await?)
    }

    /// Whether `code` is the person's second step now: a code of their app not used before
    /// (its step is recorded), or an unused recovery code (used up).
    pub(crate) async fn second_step_ok(
        &self,
        user: &User,
        code: &str,
        now: Millis,
    ) -> Result<bool> {
        let code = typed(code);
        let Some(secret) = self.store.two_step(user.id).await?.secret else {
            return Ok(false);
        };
        let mut tx = self.store.begin().await?;
        let ok = if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            match totp_step(&secret, &code, now) {
                Some(step) => tx.use_two_step_step(user.id, step).await?,
                None => false,
            }
        } else {
            let used = tx
                .use_recovery_code(user.id, &recovery_hash(user.id, &code), now)
                .await?;
            if used {
                audit_user(
                    tx.as_mut(),
                    &Actor::user(user.clone()),
                    user,
                    "user.recovery_code_used",
                    now,
                )
                .await?;
            }
            used
        };
        tx.commit().await?;
        Ok(ok)
    }

    /// A new token for a sign-in waiting for its second step.
    pub(crate) async fn new_challenge(
        &self,
        user: &User,
        user_agent: Option<String>,
        now: Millis,
    ) -> Result<String> {
        let token = new_secret("");
        self.store
            .insert_signin_challenge(
                &voronka_store::SignInChallenge {
                    token_hash: sha256_hex(&token),
                    user_id: user.id,
                    user_agent,
                    expires_at: now + SECOND_STEP_MS,
                },
                now,
            )
            .await?;
        Ok(token)
    }
}

/// Writes a change of a person's two-step sign-in to the audit log and tells them by email.
async fn audit_user(
    tx: &mut dyn voronka_store::Tx,
    actor: &Actor,
    user: &User,
    action: &str,
    at: Millis,
) -> Result<()> {
    tx.audit(&NewAudit {
        actor_id: actor.user_id(),
        actor: actor.name(),
        action: action.into(),
        entity: "user".into(),
        entity_id: Some(user.id),
        before: None,
        after: None,
        at,
    })
    .await?;
    crate::mail::queue_security_notice(tx, user, action, actor, at).await
}
