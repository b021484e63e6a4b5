//! Domain types: contacts, accounts, leads, touches, interests, customers and deals.

mod history;
mod money;
mod stage;
mod task;
mod user;

pub use history::{channel_label, history_reason, SystemMove};
pub use money::{Currency, Money, MoneyError};
pub use stage::{Stage, StageError, Temperature};
pub use task::{task_title, SystemTask};
pub use user::{Role, Scope, ScopeSet};

use serde::{Deserialize, Serialize};

pub type Id = i64;
/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// The earliest time a person may set for something planned (a task, a reminder):
/// 2000-01-01 00:00 UTC. Anything before is a typing or unit mistake.
pub const EARLIEST_PLANNED: Millis = 946_684_800_000;
/// [`EARLIEST_PLANNED`] as the messages name it.
pub const EARLIEST_PLANNED_DATE: &str = "2000-01-01";
/// How far ahead something may be planned (a task, a reminder, a call back, a freeze date).
pub const PLAN_AHEAD_YEARS: i64 = 10;
const PLAN_AHEAD_MS: Millis = PLAN_AHEAD_YEARS * 365 * 86_400_000;

/// Whether `at` is a time something may be planned for, seen at `now`: from
/// [`EARLIEST_PLANNED`] to [`PLAN_AHEAD_YEARS`] ahead.
pub fn plannable(at: Millis, now: Millis) -> bool {
    at >= EARLIEST_PLANNED && within_plan_ahead(at, now)
}

/// Whether `at` is at most [`PLAN_AHEAD_YEARS`] after `now`.
pub fn within_plan_ahead(at: Millis, now: Millis) -> bool {
    at <= now.saturating_add(PLAN_AHEAD_MS)
}

/// How a request reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    WebForm,
    Api,
    Import,
    Manual,
    Partner,
    /// The tracker script: page views and events of a site's visitors.
    Tracking,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::WebForm => "web_form",
            Channel::Api => "api",
            Channel::Import => "import",
            Channel::Manual => "manual",
            Channel::Partner => "partner",
            Channel::Tracking => "tracking",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "web_form" => Channel::WebForm,
            "api" => Channel::Api,
            "import" => Channel::Import,
            "manual" => Channel::Manual,
            "partner" => Channel::Partner,
            "tracking" => Channel::Tracking,
            _ => return None,
        })
    }
}

/// A phone as the person typed it and, when it parsed, in E.164.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    pub raw: String,
    pub e164: Option<String>,
    pub valid: bool,
}

/// An email as typed and in its normalized form (trimmed, domain lowercased).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    pub raw: String,
    pub normalized: String,
}

/// UTM tags and the page context of one touch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub utm_term: Option<String>,
    pub utm_content: Option<String>,
    pub referrer: Option<String>,
    pub landing_page: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: Id,
    pub full_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<Email>,
    pub phones: Vec<Phone>,
    pub socials: Vec<String>,
    pub position: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub account_id: Option<Id>,
    pub created_at: Millis,
    /// When the person's personal data was erased at their request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erased_at: Option<Millis>,
}

impl Contact {
    /// The country the person is in as far as known: the one given, else that of their first
    /// valid phone number (ISO 3166 alpha-2).
    pub fn home_country(&self) -> Option<String> {
        self.country.clone().or_else(|| {
            self.phones
                .iter()
                .filter(|p| p.valid)
                .filter_map(|p| p.e164.as_deref())
                .find_map(|e| crate::intake::normalize::phone::parse_number(e, "")?.region)
                .filter(|r| r.len() == 2)
        })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: Id,
    pub name: String,
    pub domain: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub id: Id,
    pub contact_id: Id,
    pub product: Option<String>,
    pub message: Option<String>,
    pub value: Option<Money>,
    pub stage: Stage,
    pub temperature: Temperature,
    pub owner_id: Option<Id>,
    pub form_id: Option<Id>,
    /// Attribution of the first touch, kept on the lead for filtering.
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub refuse_reason: Option<String>,
    pub frozen_until: Option<Millis>,
    /// Why the lead is junk, as people read it: a person's words, or the text of the intake's
    /// reason, made from `junk_code` and its values when read.
    pub junk_reason: Option<String>,
    /// The code of the intake's reason when the intake found the lead to be junk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junk_code: Option<String>,
    pub customer_id: Option<Id>,
    /// The lead this one was merged into: it is read as that one and changed only through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merged_into: Option<Id>,
    /// What was asked for: `request` (a form or an API call) or `callback` (the callback button).
    #[serde(default = "request_kind")]
    pub kind: String,
    pub touches: i64,
    pub created_at: Millis,
    pub updated_at: Millis,
    pub first_response_at: Option<Millis>,
    /// Probability of conversion from the current predictive model; `None` until scored.
    #[serde(default)]
    pub conversion_probability: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Touch {
    pub id: Id,
    pub lead_id: Id,
    pub channel: Channel,
    pub form_id: Option<Id>,
    pub attribution: Attribution,
    pub partner: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub message: Option<String>,
    pub raw: serde_json::Value,
    /// Quiz answers given with this touch.
    #[serde(default)]
    pub answers: Vec<crate::capture::QuizAnswer>,
    /// The consent text the person agreed to, as it read at the time.
    #[serde(default)]
    pub consent_text: Option<String>,
    /// The A/B variant of the form that was shown.
    #[serde(default)]
    pub variant: Option<String>,
    pub created_at: Millis,
}

pub fn request_kind() -> String {
    "request".into()
}

/// A signal without usable contact. Kept and counted, never shown as a lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interest {
    pub id: Id,
    pub channel: Channel,
    pub form_id: Option<Id>,
    pub visitor_id: Option<String>,
    pub attribution: Attribution,
    pub reasons: Vec<String>,
    pub raw: serde_json::Value,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Customer {
    pub id: Id,
    pub contact_id: Id,
    pub account_id: Option<Id>,
    pub name: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deal {
    pub id: Id,
    pub customer_id: Id,
    pub lead_id: Id,
    pub title: String,
    pub amount: Money,
    pub created_at: Millis,
}

/// One entry of a lead's stage history: who moved it, when and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageChange {
    pub id: Id,
    pub lead_id: Id,
    pub from: Option<Stage>,
    pub to: Stage,
    pub actor_id: Option<Id>,
    pub actor: String,
    /// The reason as people read it: a person's own words, or the text of the system's code.
    pub reason: Option<String>,
    /// The code of a move the system made ([`SystemMove`]), from which `reason` is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// The values the code's text names.
    #[serde(default, skip_serializing_if = "crate::intake::text::Args::is_empty")]
    pub reason_args: crate::intake::text::Args,
    pub comment: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub id: Id,
    pub lead_id: Id,
    pub author_id: Option<Id>,
    pub author: String,
    pub body: String,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub id: Id,
    pub public_key: String,
    pub name: String,
    pub redirect_url: Option<String>,
    pub allowed_origins: Vec<String>,
    pub default_region: String,
    pub product: Option<String>,
    pub honeypot_field: String,
    pub min_fill_ms: i64,
    pub active: bool,
    pub created_at: Millis,
    /// Fields, quiz, texts, popup, lead magnet, landing page and variants.
    #[serde(default)]
    pub definition: crate::capture::FormDefinition,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: Id,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub team_id: Option<Id>,
    pub active: bool,
    pub created_at: Millis,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_times_lie_from_2000_to_ten_years_ahead() {
        let now = 1_800_000_000_000;
        let year = 365 * 86_400_000;
        for at in [EARLIEST_PLANNED, now - year, now, now + 10 * year] {
            assert!(plannable(at, now), "{at}");
        }
        for at in [
            i64::MIN,
            -1,
            0,
            EARLIEST_PLANNED - 1,
            now + 10 * year + 1,
            i64::MAX,
        ] {
            assert!(!plannable(at, now), "{at}");
        }
        assert!(within_plan_ahead(i64::MIN, now));
        assert!(!within_plan_ahead(i64::MAX, now));
        // A clock at the end of time does not overflow.
        assert!(within_plan_ahead(i64::MAX, i64::MAX - 1));
    }
}
