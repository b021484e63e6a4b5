//! Email: the SMTP settings, one durable `email` job per message, and the texts of the messages.
//! Without SMTP settings nothing is queued and nothing fails.

use crate::{now_ms, Actor, App, AppError, Result};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use voronka_core::Id;
use voronka_store::Tx;

/// The SMTP settings (JSON) in `settings`.
pub const SMTP_SETTINGS: &str = "smtp";
/// The job that sends one email.
pub const EMAIL: &str = "email";

/// The longest a whole SMTP conversation may take, well inside a job's lease.
const SEND_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain text (a relay on the same machine or network).
    None,
    /// Plain connection upgraded with STARTTLS (usually port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl SmtpSecurity {
    pub const ALL: [SmtpSecurity; 3] = [
        SmtpSecurity::None,
        SmtpSecurity::Starttls,
        SmtpSecurity::Tls,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SmtpSecurity::None => "none",
            SmtpSecurity::Starttls => "starttls",
            SmtpSecurity::Tls => "tls",
        }
    }

    pub fn parse(s: &str) -> Result<SmtpSecurity> {
        match s.trim().to_lowercase().as_str() {
            "none" => Ok(SmtpSecurity::None),
            "starttls" => Ok(SmtpSecurity::Starttls),
            "tls" => Ok(SmtpSecurity::Tls),
            _ => Err(AppError::invalid(
                "security",
                crate::Message::new("smtp_security_unknown"),
            )),
        }
    }
}

/// Where and how emails are sent. Stored with the password; shown without it ([`SmtpView`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// The sender: `sales@example.com` or `Voronka <sales@example.com>`.
    pub from: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default)]
    pub security: SmtpSecurity,
}

/// The SMTP settings as shown: the password only as "set".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpView {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub username: Option<String>,
    pub password_set: bool,
    pub security: SmtpSecurity,
}

impl From<&SmtpSettings> for SmtpView {
    fn from(s: &SmtpSettings) -> Self {
        SmtpView {
            host: s.host.clone(),
            port: s.port,
            from: s.from.clone(),
            username: s.username.clone(),
            password_set: s.password.as_deref().is_some_and(|p| !p.is_empty()),
            security: s.security,
        }
    }
}

/// Whether `host` names a mail server: an IP address, or a host name as a URL may hold one
/// (no white space, control characters or URL punctuation such as `/`, `?`, `@`, `:`).
fn is_smtp_host(host: &str) -> bool {
    if host.is_empty() || host.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    host.parse::<std::net::IpAddr>().is_ok()
        || matches!(
            url::Host::parse(host),
            Ok(url::Host::Domain(_) | url::Host::Ipv4(_))
        )
}

impl SmtpSettings {
    /// Trims the fields and checks them; empty username and password become none.
    pub fn checked(mut self) -> Result<SmtpSettings> {
        self.host = self.host.trim().to_string();
        self.from = self.from.trim().to_string();
        self.username = self
            .username
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        self.password = self.password.filter(|p| !p.is_empty());
        if !is_smtp_host(&self.host) {
            return Err(AppError::invalid(
                "host",
                crate::Message::new("smtp_host_invalid"),
            ));
        }
        if self.port == 0 {
            return Err(AppError::invalid(
                "port",
                crate::Message::new("smtp_port_invalid"),
            ));
        }
        if self.from.parse::<Mailbox>().is_err() {
            return Err(AppError::invalid(
                "from",
                crate::Message::new("smtp_sender_invalid"),
            ));
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(AppError::invalid(
                "username",
                crate::Message::new("smtp_username_required"),
            ));
        }
        Ok(self)
    }

    fn parse_stored(json: &str) -> Option<SmtpSettings> {
        if json.trim().is_empty() {
            return None;
        }
        match serde_json::from_str::<SmtpSettings>(json) {
            Ok(s) if !s.host.trim().is_empty() => Some(s),
            Ok(_) => None,
            Err(e) => {
                tracing::error!(error = %e, "stored SMTP settings are unreadable; no email is sent");
                None
            }
        }
    }
}

/// One email to send: the whole message, so that a retry sends the same text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct EmailPayload {
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub body: String,
    pub lead_id: Option<Id>,
}

/// The texts of every email, in one place for translation.
pub mod text {
    use voronka_core::Id;

    /// Subject and body of a message about a lead to a member of the team. `kind` is the
    /// notification's kind; `what` its in-app text.
    pub fn notification(kind: &str, lead_id: Id, recipient: &str, what: &str) -> (String, String) {
        let subject = match kind {
            "lead_assigned" => format!("New lead #{lead_id} assigned to you"),
            "sla_breached" => format!("SLA breached: lead #{lead_id} has had no response"),
            "sla_escalated" => format!("Escalation: lead #{lead_id} has had no response"),
            _ => format!("Lead #{lead_id}"),
        };
        let body = format!(
            "Hello, {recipient}.\n\n{what}\n\nOpen lead #{lead_id} in Voronka to act on it.\n"
        );
        (subject, body)
    }

    /// Subject and body of the message that tells a person of a change to their own sign-in
    /// (`action`, an audit code), made at `when` by themselves or by `by`.
    pub fn security_notice(
        name: &str,
        action: &str,
        when: &str,
        by: Option<&str>,
    ) -> (String, String) {
        let (subject, what) = match action {
            "user.password" | "user.password_set" | "user.password_reset" => (
                "Your Voronka password was changed",
                match action {
                    "user.password_reset" => {
                        "Your password was set through a link sent to this address"
                    }
                    _ => "Your password was changed",
                },
            ),
            "user.two_step_on" => (
                "Two-step sign-in is on for your Voronka sign-in",
                "Two-step sign-in was turned on",
            ),
            "user.two_step_off" | "user.two_step_reset" => (
                "Two-step sign-in is off for your Voronka sign-in",
                "Two-step sign-in was turned off: your password alone signs you in now",
            ),
            "user.recovery_codes" => (
                "New recovery codes for your Voronka sign-in",
                "New recovery codes were made; the ones before no longer work",
            ),
            "user.recovery_code_used" => (
                "A recovery code signed you in to Voronka",
                "One of your recovery codes was used to sign in",
            ),
            "user.sign_in_locked" => (
                "Your Voronka sign-in is locked for a while",
                "Your sign-in was locked for a quarter of an hour after five failed tries (wrong \
                 passwords or codes)",
            ),
            _ => ("Your Voronka sign-in changed", "Your sign-in changed"),
        };
        let by = by.map(|b| format!(" by {}", b.trim())).unwrap_or_default();
        (
            subject.to_string(),
            format!(
                "Hello, {}.\n\n{what} on {when} (UTC){by}.\n\nIf this was not you, ask an \
                 administrator of your Voronka at once to set a new password for you and end your \
                 sessions.\n",
                name.trim()
            ),
        )
    }

    /// Subject and body of the message with a link that sets a new password, working for
    /// `minutes`.
    pub fn password_reset(name: &str, link: &str, minutes: i64) -> (String, String) {
        (
            "Set a new password for Voronka".to_string(),
            format!(
                "Hello, {}.\n\nSomeone, we hope you, asked to set a new password for your \
                 Voronka sign-in. Open this link to set it:\n{link}\n\nThe link works once, \
                 for {minutes} minutes. If you did not ask, ignore this message: your password \
                 stays as it is.\n",
                name.trim()
            ),
        )
    }

    /// Subject and body of the farewell to a contact who was refused, with the survey link.
    pub fn farewell(contact: &str, survey_url: &str) -> (String, String) {
        let greeting = if contact.trim().is_empty() {
            "Hello.".to_string()
        } else {
            format!("Hello, {}.", contact.trim())
        };
        (
            "Thank you for your time".to_string(),
            format!(
                "{greeting}\n\nThank you for considering us. We understand that this time it did \
                 not work out, and we respect your decision.\n\nWould you tell us why? It is one \
                 question and takes a minute:\n{survey_url}\n\nYour answer helps us do better. \
                 We will be glad to hear from you again.\n"
            ),
        )
    }
}

/// The SMTP settings in force, read inside a transaction: none means no email.
pub(crate) async fn smtp_in_tx(tx: &mut dyn Tx) -> Result<Option<SmtpSettings>> {
    Ok(tx
        .setting_in_tx(SMTP_SETTINGS)
        .await?
        .and_then(|j| SmtpSettings::parse_stored(&j)))
}

/// Queues the message that tells a person of a change to their own sign-in (`action`, an audit
/// code), when email is set up; in the transaction that makes the change.
pub(crate) async fn queue_security_notice(
    tx: &mut dyn Tx,
    user: &voronka_core::User,
    action: &str,
    actor: &Actor,
    now: voronka_core::Millis,
) -> Result<()> {
    if smtp_in_tx(tx).await?.is_none() {
        return Ok(());
    }
    let when = chrono::DateTime::from_timestamp_millis(now)
        .map(|t| t.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default();
    let by = (actor.user_id() != Some(user.id)).then(|| actor.name());
    let (subject, body) = text::security_notice(&user.name, action, &when, by.as_deref());
    queue_to_user(tx, user, subject, body, now).await
}

/// Queues an email to a person of the team (not about a lead).
pub(crate) async fn queue_to_user(
    tx: &mut dyn Tx,
    user: &voronka_core::User,
    subject: String,
    body: String,
    now: voronka_core::Millis,
) -> Result<()> {
    let mail = EmailPayload {
        to: user.email.clone(),
        to_name: user.name.clone(),
        subject,
        body,
        lead_id: None,
    };
    tx.enqueue_jobs(&[email_job(&mail, now)], now).await?;
    Ok(())
}

/// An `email` job row for `enqueue_jobs`.
pub(crate) fn email_job(p: &EmailPayload, at: voronka_core::Millis) -> (String, String, i64) {
    (
        EMAIL.to_string(),
        serde_json::to_string(p).unwrap_or_default(),
        at,
    )
}

impl App {
    /// The SMTP settings, without the password.
    pub async fn smtp_settings(&self) -> Result<Option<SmtpView>> {
        Ok(self.smtp_stored().await?.as_ref().map(SmtpView::from))
    }

    async fn smtp_stored(&self) -> Result<Option<SmtpSettings>> {
        Ok(self
            .store
            .setting(SMTP_SETTINGS)
            .await?
            .and_then(|j| SmtpSettings::parse_stored(&j)))
    }

    /// Sets the SMTP settings (administrators); none turns email off. A missing password keeps
    /// the stored one when the username stays the same.
    pub async fn set_smtp_settings(&self, actor: &Actor, s: Option<SmtpSettings>) -> Result<()> {
        actor.require_admin()?;
        let before = self.smtp_stored().await?;
        let after = match s {
            Some(s) => {
                let mut s = s.checked()?;
                if s.password.is_none() {
                    if let Some(b) = &before {
                        if b.username.is_some() && b.username == s.username {
                            s.password = b.password.clone();
                        }
                    }
                }
                Some(s)
            }
            None => None,
        };
        let now = now_ms();
        let json = match &after {
            Some(s) => serde_json::to_string(s).map_err(|e| AppError::Io(e.to_string()))?,
            None => String::new(),
        };
        self.store.put_setting(SMTP_SETTINGS, &json, now).await?;
        // The audit log shows the settings without the password.
        self.audit_setting(
            actor,
            SMTP_SETTINGS,
            &before.as_ref().map(SmtpView::from),
            &after.as_ref().map(SmtpView::from),
            now,
        )
        .await
    }

    /// Sends one email through the SMTP server in force. Settings removed after the job was
    /// queued: nothing is sent and the job is done.
    pub(crate) async fn send_email(&self, p: &EmailPayload) -> Result<()> {
        let Some(s) = self.smtp_stored().await? else {
            tracing::info!(to = %p.to, "no SMTP settings: email dropped");
            return Ok(());
        };
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| AppError::Io(format!("sender address: {e}")))?;
        let to_addr =
            p.to.parse()
                .map_err(|e| AppError::Io(format!("recipient address {}: {e}", p.to)))?;
        let name = p.to_name.trim();
        let to = Mailbox::new((!name.is_empty()).then(|| name.to_string()), to_addr);
        let msg = Message::builder()
            .from(from)
            .to(to)
            .subject(p.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(p.body.clone())
            .map_err(|e| AppError::Io(format!("email: {e}")))?;
        let builder = match s.security {
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(s.host.as_str())
            }
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| AppError::Io(format!("smtp: {e}")))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .map_err(|e| AppError::Io(format!("smtp: {e}")))?,
        };
        let mut builder = builder
            .port(s.port)
            .timeout(Some(std::time::Duration::from_secs(20)));
        if let Some(u) = &s.username {
            builder = builder.credentials(Credentials::new(
                u.clone(),
                s.password.clone().unwrap_or_default(),
            ));
        }
        // A server that stops answering must not hold the job past its lease (another worker
        // would send the message again).
        let transport = builder.build();
        match tokio::time::timeout(SEND_TIMEOUT, transport.send(msg)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(AppError::Io(format!("smtp: {e}"))),
            Err(_) => Err(AppError::Io("smtp: no answer in time".into())),
        }
    }
}
