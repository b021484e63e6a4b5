//! Validation and scrubbing: is this a reachable person, an interest, or a bot?

use super::Normalized;
use crate::model::Millis;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Lead,
    Interest,
    Reject,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Lead => "lead",
            Outcome::Interest => "interest",
            Outcome::Reject => "rejected",
        }
    }
}

/// One explained decision: a stable code, the field it concerns and a human message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl Reason {
    pub fn new(code: &str, field: Option<&str>, message: impl Into<String>) -> Self {
        Reason {
            code: code.to_string(),
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub outcome: Outcome,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone)]
pub struct ValidationRules {
    /// Submissions faster than this (form shown → submitted) are bots.
    pub min_fill_ms: Millis,
    pub max_name_chars: usize,
    pub require_consent: bool,
}

impl Default for ValidationRules {
    fn default() -> Self {
        ValidationRules {
            min_fill_ms: 0,
            max_name_chars: 200,
            require_consent: false,
        }
    }
}

/// Decides whether a submission is a lead, an interest or rejected, and says why.
pub fn validate(n: &Normalized, rules: &ValidationRules) -> Validation {
    let mut reasons = Vec::new();

    if n.honeypot.is_some() {
        reasons.push(Reason::new(
            "honeypot",
            None,
            "a hidden field meant for bots was filled",
        ));
        return Validation {
            outcome: Outcome::Reject,
            reasons,
        };
    }
    if let Some(ms) = n.fill_ms {
        if rules.min_fill_ms > 0 && ms < rules.min_fill_ms {
            reasons.push(Reason::new(
                "too_fast",
                None,
                format!(
                    "the form was filled in {ms} ms, faster than {} ms",
                    rules.min_fill_ms
                ),
            ));
            return Validation {
                outcome: Outcome::Reject,
                reasons,
            };
        }
    }

    if let Some(why) = &n.form.disqualified {
        reasons.push(Reason::new(
            "disqualified",
            None,
            format!("a quiz answer rules the person out: {why}"),
        ));
        return Validation {
            outcome: Outcome::Interest,
            reasons,
        };
    }
    for (field, label) in &n.form.missing {
        reasons.push(Reason::new(
            "required",
            Some(field),
            format!("{label} is required"),
        ));
    }

    for (field, message) in &n.field_errors {
        reasons.push(Reason::new("field_invalid", Some(field), message.clone()));
    }

    let name_ok = match &n.full_name {
        // A callback request needs only the number to call.
        None if n.form.kind.as_deref() == Some("callback") => true,
        None => {
            reasons.push(Reason::new("name_missing", Some("name"), "name is missing"));
            false
        }
        Some(name) if name.chars().count() > rules.max_name_chars => {
            reasons.push(Reason::new(
                "name_too_long",
                Some("name"),
                format!("name is longer than {} characters", rules.max_name_chars),
            ));
            false
        }
        Some(name) if !name.chars().any(|c| c.is_alphabetic()) => {
            reasons.push(Reason::new(
                "name_invalid",
                Some("name"),
                "name has no letters",
            ));
            false
        }
        Some(_) => true,
    };

    let valid_phones = n.phones.iter().filter(|p| p.valid).count();
    for p in n.phones.iter().filter(|p| !p.valid) {
        reasons.push(Reason::new(
            "phone_invalid",
            Some("phone"),
            format!("{:?} is not a valid phone number", p.raw),
        ));
    }
    let mut valid_emails = 0;
    for e in &n.emails {
        let ascii = e
            .normalized
            .rsplit_once('@')
            .and_then(|(local, d)| super::email::ascii_domain(d).map(|d| (local, d)));
        let valid = ascii.as_ref().is_some_and(|(local, domain)| {
            domain.contains('.')
                && email_address::EmailAddress::parse_with_options(
                    &format!("{local}@{domain}"),
                    email_address::Options::default()
                        .without_display_text()
                        .without_domain_literal(),
                )
                .is_ok()
        });
        if !valid {
            reasons.push(Reason::new(
                "email_invalid",
                Some("email"),
                format!("{:?} is not a valid email address", e.raw),
            ));
            continue;
        }
        valid_emails += 1;
        if let Some((local, domain)) = &ascii {
            if let Some(fix) = super::email::suggest_domain(domain) {
                reasons.push(Reason::new(
                    "email_typo",
                    Some("email"),
                    format!("did you mean {local}@{fix}?"),
                ));
            }
        }
        if super::email::is_role_address(&e.normalized) {
            reasons.push(Reason::new(
                "email_role",
                Some("email"),
                format!("{} is a shared mailbox, not a person", e.normalized),
            ));
        }
    }
    let has_contact = valid_phones > 0 || valid_emails > 0 || !n.socials.is_empty();
    if !has_contact {
        reasons.push(Reason::new(
            "no_contact",
            None,
            "no valid phone, email or social profile",
        ));
    }
    if rules.require_consent && !n.consent {
        reasons.push(Reason::new(
            "consent_missing",
            Some("consent"),
            "consent to processing of personal data is required",
        ));
        return Validation {
            outcome: Outcome::Interest,
            reasons,
        };
    }
    let outcome = if name_ok && has_contact && n.form.missing.is_empty() {
        Outcome::Lead
    } else {
        Outcome::Interest
    };
    Validation { outcome, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::{normalize, Submission};
    use crate::model::Channel;

    fn check(fields: &[(&str, &str)]) -> Validation {
        let mut s = Submission::new(Channel::WebForm, 10_000);
        for (k, v) in fields {
            s = s.with(k, *v);
        }
        validate(
            &normalize(&s, &Default::default()),
            &ValidationRules::default(),
        )
    }

    #[test]
    fn name_and_phone_make_a_lead() {
        let v = check(&[("name", "Ольга"), ("phone", "+7 916 123 45 67")]);
        assert_eq!(v.outcome, Outcome::Lead, "{:?}", v.reasons);
    }

    #[test]
    fn no_contact_is_an_interest() {
        let v = check(&[("name", "Ольга"), ("phone", "12")]);
        assert_eq!(v.outcome, Outcome::Interest);
        assert!(v.reasons.iter().any(|r| r.code == "no_contact"));
        let v = check(&[("email", "olga@example.com")]);
        assert_eq!(v.outcome, Outcome::Interest);
        assert!(v.reasons.iter().any(|r| r.code == "name_missing"));
    }

    #[test]
    fn bad_email_is_explained_but_phone_still_counts() {
        let v = check(&[("name", "Ann"), ("email", "a@b"), ("phone", "+31612345678")]);
        assert_eq!(v.outcome, Outcome::Lead);
        assert!(v.reasons.iter().any(|r| r.code == "email_invalid"));
    }

    #[test]
    fn honeypot_and_speed_reject() {
        let v = check(&[("name", "Bot"), ("phone", "+79161234567"), ("website", "x")]);
        assert_eq!(v.outcome, Outcome::Reject);
        let mut s = Submission::new(Channel::WebForm, 10_000)
            .with("name", "Bot")
            .with("phone", "+79161234567")
            .with("_started_at", "9900");
        s.form_id = Some(1);
        let rules = ValidationRules {
            min_fill_ms: 2_000,
            ..Default::default()
        };
        let v = validate(&normalize(&s, &Default::default()), &rules);
        assert_eq!(v.outcome, Outcome::Reject);
        assert_eq!(v.reasons[0].code, "too_fast");
    }

    #[test]
    fn typos_and_role_mailboxes_are_flagged() {
        let v = check(&[("name", "Ann"), ("email", "ann@gmial.com")]);
        assert_eq!(v.outcome, Outcome::Lead);
        let typo = v.reasons.iter().find(|r| r.code == "email_typo").unwrap();
        assert_eq!(typo.message, "did you mean ann@gmail.com?");
        let v = check(&[("name", "Acme"), ("email", "info@acme.com")]);
        assert!(v.reasons.iter().any(|r| r.code == "email_role"));
        let v = check(&[("name", "Олег"), ("email", "oleg@почта.рф")]);
        assert_eq!(v.outcome, Outcome::Lead, "{:?}", v.reasons);
        let v = check(&[("name", "Bad"), ("email", "bad@[127.0.0.1]")]);
        assert_eq!(v.outcome, Outcome::Interest);
    }

    #[test]
    fn huge_name_is_not_a_lead() {
        let long = "Я".repeat(10_000);
        let v = check(&[("name", &long), ("phone", "+79161234567")]);
        assert_eq!(v.outcome, Outcome::Interest);
        assert!(v.reasons.iter().any(|r| r.code == "name_too_long"));
    }
}
