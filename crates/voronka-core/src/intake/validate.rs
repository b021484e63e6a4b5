//! Validation and scrubbing: is this a reachable person, an interest, or a bot?

use super::scrub::{self, Action, Scrub, ScrubContext};
use super::text::{self, Args};
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

/// One explained decision: a stable code, the field it concerns, the values its message names,
/// and the message the catalog makes from them ([`text::reason_message`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ReasonIn")]
pub struct Reason {
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Args::is_empty")]
    pub args: Args,
    pub message: String,
}

impl Reason {
    /// A reason with the catalog's message for its code and values.
    pub fn new<'a>(
        code: &str,
        field: Option<&str>,
        args: impl IntoIterator<Item = (&'a str, String)>,
    ) -> Self {
        let args: Args = args.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Reason {
            message: text::reason_message(code, &args).unwrap_or_else(|| code.to_string()),
            code: code.to_string(),
            field: field.map(str::to_string),
            args,
        }
    }

    /// The JSON list a lead, touch or interest stores: each reason's code, field and values,
    /// and its message only where the catalog would not make the same one from them.
    pub fn stored_json(list: &[Reason]) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            code: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            field: Option<&'a str>,
            #[serde(skip_serializing_if = "Args::is_empty")]
            args: &'a Args,
            #[serde(skip_serializing_if = "Option::is_none")]
            message: Option<&'a str>,
        }
        let out: Vec<Out> = list
            .iter()
            .map(|r| Out {
                code: &r.code,
                field: r.field.as_deref(),
                args: &r.args,
                message: (text::reason_message(&r.code, &r.args).as_deref()
                    != Some(r.message.as_str()))
                .then_some(r.message.as_str()),
            })
            .collect();
        serde_json::to_string(&out).expect("reasons serialize")
    }

    /// A stored list of reasons with each message made again; `None` when `v` is not one.
    pub fn list_from_json(v: &serde_json::Value) -> Option<Vec<Reason>> {
        Vec::<Reason>::deserialize(v).ok()
    }
}

/// A reason as read: stored reasons leave out the message the catalog makes; those stored
/// before reasons kept their values have only the message.
#[derive(Deserialize)]
struct ReasonIn {
    code: String,
    #[serde(default)]
    field: Option<String>,
    #[serde(default)]
    args: Args,
    #[serde(default)]
    message: Option<String>,
}

impl From<ReasonIn> for Reason {
    fn from(r: ReasonIn) -> Self {
        let message = r
            .message
            .or_else(|| text::reason_message(&r.code, &r.args))
            .unwrap_or_else(|| r.code.clone());
        Reason {
            code: r.code,
            field: r.field,
            args: r.args,
            message,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub outcome: Outcome,
    pub reasons: Vec<Reason>,
    /// For a lead: the first reason whose rule sends it to junk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub junk: Option<Reason>,
}

/// Per-form settings of validation; the pseudo-lead rules are in [`ScrubRules`].
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

/// Reasons collected while checking, with the strongest action among the rules that fired.
struct Findings<'a> {
    scrub: &'a Scrub,
    reasons: Vec<Reason>,
    reject: bool,
    junk: Option<Reason>,
}

impl Findings<'_> {
    /// A fact about the submission: always reported, never configurable.
    fn fact<'a>(
        &mut self,
        code: &str,
        field: Option<&str>,
        args: impl IntoIterator<Item = (&'a str, String)>,
    ) {
        self.reasons.push(Reason::new(code, field, args));
    }

    /// A configurable rule fired; returns false when the rule is switched off.
    fn rule<'a>(
        &mut self,
        code: &str,
        field: Option<&str>,
        args: impl IntoIterator<Item = (&'a str, String)>,
    ) -> bool {
        let action = self.scrub.rules().action(code);
        if action == Action::Off {
            return false;
        }
        let reason = Reason::new(code, field, args);
        match action {
            Action::Reject => self.reject = true,
            Action::Junk if self.junk.is_none() => self.junk = Some(reason.clone()),
            _ => {}
        }
        self.reasons.push(reason);
        true
    }
}

/// Whether `local@domain` (domain in ASCII form) is an address mail can be delivered to:
/// strict syntax (no quoted local part, no IP literal) and a registrable domain under a known
/// public suffix.
pub fn email_deliverable(local: &str, domain: &str) -> bool {
    if local.starts_with('"') || local.contains(' ') || !domain.contains('.') {
        return false;
    }
    let syntax = email_address::EmailAddress::parse_with_options(
        &format!("{local}@{domain}"),
        email_address::Options::default()
            .without_display_text()
            .without_domain_literal(),
    )
    .is_ok();
    syntax && psl::domain(domain.as_bytes()).is_some_and(|d| d.suffix().is_known())
}

/// Decides whether a submission is a lead, an interest or rejected, and says why.
pub fn validate(
    n: &Normalized,
    rules: &ValidationRules,
    scrub: &Scrub,
    ctx: &ScrubContext,
) -> Validation {
    let mut f = Findings {
        scrub,
        reasons: Vec::new(),
        reject: false,
        junk: None,
    };

    if n.honeypot.is_some() {
        f.rule("honeypot", None, []);
    }
    if let Some(ms) = n.fill_ms {
        if rules.min_fill_ms > 0 && ms < rules.min_fill_ms {
            f.rule(
                "too_fast",
                None,
                [
                    ("ms", ms.to_string()),
                    ("min_ms", rules.min_fill_ms.to_string()),
                ],
            );
        }
    }
    let limits = scrub.rules();
    if ctx.from_ip > limits.burst_max_per_ip {
        f.rule(
            "burst_ip",
            None,
            [
                ("count", ctx.from_ip.to_string()),
                ("secs", limits.burst_window_secs.to_string()),
            ],
        );
    }
    if ctx.from_visitor > limits.burst_max_per_visitor {
        f.rule(
            "burst_visitor",
            None,
            [
                ("count", ctx.from_visitor.to_string()),
                ("secs", limits.burst_window_secs.to_string()),
            ],
        );
    }
    if ctx.identical_clients > limits.identical_max_clients {
        f.rule(
            "identical_payload",
            None,
            [
                ("count", ctx.identical_clients.to_string()),
                ("secs", limits.burst_window_secs.to_string()),
            ],
        );
    }

    if let Some(why) = &n.form.disqualified {
        f.fact("disqualified", None, [("why", why.clone())]);
        return Validation {
            outcome: if f.reject {
                Outcome::Reject
            } else {
                Outcome::Interest
            },
            reasons: f.reasons,
            junk: None,
        };
    }
    for (field, label) in &n.form.missing {
        f.fact("required", Some(field), [("label", label.clone())]);
    }

    for (field, message) in &n.field_errors {
        f.fact("field_invalid", Some(field), [("problem", message.clone())]);
    }

    let name_ok = match &n.full_name {
        // A callback request needs only the number to call.
        None if n.form.kind.as_deref() == Some("callback") => true,
        None => {
            f.fact("name_missing", Some("name"), []);
            false
        }
        Some(name) if name.chars().count() > rules.max_name_chars => {
            f.fact(
                "name_too_long",
                Some("name"),
                [("max", rules.max_name_chars.to_string())],
            );
            false
        }
        Some(name) if !name.chars().any(|c| c.is_alphabetic()) => {
            f.fact("name_invalid", Some("name"), []);
            false
        }
        Some(name) => {
            if scrub::name_has_link(name) {
                f.rule("name_link", Some("name"), []);
            }
            if scrub.is_test_name(name) {
                f.rule("name_test", Some("name"), [("name", name.clone())]);
            } else if scrub::is_keyboard_walk(name) {
                f.rule("name_keyboard_walk", Some("name"), [("name", name.clone())]);
            } else if scrub::is_gibberish(name) {
                f.rule("name_gibberish", Some("name"), [("name", name.clone())]);
            }
            if scrub.is_joke_name(name) {
                f.rule("name_joke", Some("name"), [("name", name.clone())]);
            }
            true
        }
    };

    let mut valid_phones = 0;
    for p in &n.phones {
        let digits = p.raw.chars().filter(char::is_ascii_digit).count();
        if digits < limits.min_phone_digits as usize {
            f.rule(
                "phone_too_short",
                Some("phone"),
                [("phone", p.raw.clone()), ("digits", digits.to_string())],
            );
            if !p.valid {
                continue;
            }
        }
        if !p.valid {
            f.fact("phone_invalid", Some("phone"), [("phone", p.raw.clone())]);
            continue;
        }
        let pattern = p.e164.as_deref().and_then(scrub::phone_pattern);
        match pattern {
            Some(why) => {
                f.rule(
                    "phone_pattern",
                    Some("phone"),
                    [
                        ("phone", p.raw.clone()),
                        ("pattern", why.code().to_string()),
                    ],
                );
            }
            None => valid_phones += 1,
        }
    }
    let mut valid_emails = 0;
    for e in &n.emails {
        let parts = e
            .normalized
            .rsplit_once('@')
            .and_then(|(local, d)| super::email::ascii_domain(d).map(|d| (local, d)));
        let Some((local, domain)) = parts else {
            f.fact("email_invalid", Some("email"), [("email", e.raw.clone())]);
            continue;
        };
        let typo = super::email::suggest_domain(&domain);
        if let Some(fix) = typo {
            f.rule(
                "email_typo",
                Some("email"),
                [("suggestion", format!("{local}@{fix}"))],
            );
        }
        if !email_deliverable(local, &domain) {
            f.fact("email_invalid", Some("email"), [("email", e.raw.clone())]);
            continue;
        }
        valid_emails += 1;
        if scrub.is_test_email(local, &domain) {
            f.rule(
                "email_test",
                Some("email"),
                [("email", e.normalized.clone())],
            );
        } else if typo.is_none() && scrub.is_disposable(&domain) {
            // A typo of a popular domain is often on disposable lists as a trap; the person
            // meant the real one, so they get the suggestion rather than junk.
            f.rule(
                "email_disposable",
                Some("email"),
                [("domain", domain.to_string())],
            );
        }
        if scrub.is_competitor(&domain) {
            f.rule(
                "email_competitor",
                Some("email"),
                [("domain", domain.to_string())],
            );
        }
        if super::email::is_role_address(&e.normalized) {
            f.rule(
                "email_role",
                Some("email"),
                [("email", e.normalized.clone())],
            );
        }
    }
    if let Some(phrase) = n.message.as_deref().and_then(|m| scrub.stop_phrase(m)) {
        f.rule(
            "stop_phrase",
            Some("message"),
            [("phrase", phrase.to_string())],
        );
    }
    let has_contact = valid_phones > 0 || valid_emails > 0 || !n.socials.is_empty();
    if !has_contact {
        f.fact("no_contact", None, []);
    }
    let consent_ok = !rules.require_consent || n.consent;
    if !consent_ok {
        f.fact("consent_missing", Some("consent"), []);
    }
    let outcome = if f.reject {
        Outcome::Reject
    } else if name_ok && has_contact && consent_ok && n.form.missing.is_empty() {
        Outcome::Lead
    } else {
        Outcome::Interest
    };
    Validation {
        outcome,
        reasons: f.reasons,
        junk: if outcome == Outcome::Lead {
            f.junk
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::{normalize, ScrubRules, Submission};
    use crate::model::Channel;

    fn check(fields: &[(&str, &str)]) -> Validation {
        let mut s = Submission::new(Channel::WebForm, 10_000);
        for (k, v) in fields {
            s = s.with(k, *v);
        }
        validate(
            &normalize(&s, &Default::default()),
            &ValidationRules::default(),
            &Scrub::new(ScrubRules::default()),
            &ScrubContext::default(),
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
        let v = validate(
            &normalize(&s, &Default::default()),
            &rules,
            &Scrub::new(ScrubRules::default()),
            &ScrubContext::default(),
        );
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

    /// Every reason code, configurable or not, fired by a submission made for it.
    #[test]
    fn every_reason_code_fires() {
        let ok = [("name", "Анна Смирнова"), ("phone", "+79161234567")];
        fn with_fields<'a>(
            base: &[(&'a str, &'a str)],
            extra: &[(&'a str, &'a str)],
        ) -> Vec<(&'a str, &'a str)> {
            let mut f: Vec<(&str, &str)> = base.to_vec();
            for (k, v) in extra {
                f.retain(|(x, _)| x != k);
                f.push((k, v));
            }
            f
        }
        let long = "Я".repeat(300);
        let busy = ScrubContext {
            from_ip: 99,
            from_visitor: 99,
            identical_clients: 99,
        };
        type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, ScrubContext, Outcome);
        let cases: Vec<Case> = vec![
            (
                "honeypot",
                with_fields(&ok, &[("website", "x")]),
                Default::default(),
                Outcome::Reject,
            ),
            (
                "too_fast",
                with_fields(&ok, &[("_fill_ms", "100")]),
                Default::default(),
                Outcome::Reject,
            ),
            ("burst_ip", ok.to_vec(), busy, Outcome::Reject),
            ("burst_visitor", ok.to_vec(), busy, Outcome::Reject),
            ("identical_payload", ok.to_vec(), busy, Outcome::Reject),
            (
                "name_link",
                with_fields(&ok, &[("name", "Buy now http://spam.ru")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "name_gibberish",
                with_fields(&ok, &[("name", "Sdfkjhsdkfjh")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "name_keyboard_walk",
                with_fields(&ok, &[("name", "Qwerty Ivanov")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "name_test",
                with_fields(&ok, &[("name", "Тест Тест")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "name_joke",
                with_fields(&ok, &[("name", "Вася Пупкин")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "email_disposable",
                with_fields(&ok, &[("email", "anna@mailinator.com")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "email_test",
                with_fields(&ok, &[("email", "test@gmail.com")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "email_typo",
                with_fields(&ok, &[("email", "anna@gmial.com")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "email_role",
                with_fields(&ok, &[("email", "info@acme.ru")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "phone_pattern",
                with_fields(&ok, &[("phone", "+7 999 999 99 99")]),
                Default::default(),
                Outcome::Interest,
            ),
            (
                "phone_too_short",
                with_fields(&ok, &[("phone", "12-34")]),
                Default::default(),
                Outcome::Interest,
            ),
            (
                "stop_phrase",
                with_fields(&ok, &[("message", "Это тест, не звоните")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "email_competitor",
                with_fields(&ok, &[("email", "sales@rival.ru")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "field_invalid",
                with_fields(&ok, &[("currency", "rubles"), ("value", "10")]),
                Default::default(),
                Outcome::Lead,
            ),
            (
                "name_missing",
                vec![("phone", "+79161234567")],
                Default::default(),
                Outcome::Interest,
            ),
            (
                "name_too_long",
                with_fields(&ok, &[("name", long.as_str())]),
                Default::default(),
                Outcome::Interest,
            ),
            (
                "name_invalid",
                with_fields(&ok, &[("name", "12345")]),
                Default::default(),
                Outcome::Interest,
            ),
            (
                "phone_invalid",
                with_fields(&ok, &[("phone", "+7 916 123")]),
                Default::default(),
                Outcome::Interest,
            ),
            (
                "email_invalid",
                vec![("name", "Анна"), ("email", "anna@yandex.ri")],
                Default::default(),
                Outcome::Interest,
            ),
            (
                "no_contact",
                vec![("name", "Анна")],
                Default::default(),
                Outcome::Interest,
            ),
        ];
        for info in scrub::CATALOG {
            assert!(
                cases.iter().any(|(code, ..)| *code == info.code),
                "rule {} has no case here",
                info.code
            );
        }
        let rules = ValidationRules {
            min_fill_ms: 2_000,
            ..Default::default()
        };
        let scrub = Scrub::new(ScrubRules {
            competitor_domains: vec!["rival.ru".into()],
            ..Default::default()
        });
        for (code, fields, ctx, outcome) in cases {
            let mut s = Submission::new(Channel::WebForm, 10_000);
            for (k, v) in &fields {
                s = s.with(k, *v);
            }
            s.form_id = Some(1);
            let v = validate(&normalize(&s, &Default::default()), &rules, &scrub, &ctx);
            assert!(
                v.reasons.iter().any(|r| r.code == code),
                "{code}: {:?}",
                v.reasons
            );
            assert_eq!(v.outcome, outcome, "{code}: {:?}", v.reasons);
            let junk = scrub::rule_info(code).map(|r| r.default_action) == Some(Action::Junk);
            if junk && outcome == Outcome::Lead {
                assert_eq!(v.junk.as_ref().map(|r| r.code.as_str()), Some(code));
            }
        }
    }

    #[test]
    fn actions_are_configurable() {
        let s = Submission::new(Channel::WebForm, 10_000)
            .with("name", "Анна")
            .with("email", "info@acme.ru");
        let n = normalize(&s, &Default::default());
        let mut scrub = ScrubRules::default();
        let run = |scrub: &ScrubRules| {
            let scrub = Scrub::new(scrub.clone());
            validate(&n, &ValidationRules::default(), &scrub, &Default::default())
        };
        assert_eq!(run(&scrub).outcome, Outcome::Lead);
        assert!(run(&scrub).junk.is_none());
        scrub.actions.insert("email_role".into(), Action::Junk);
        assert_eq!(run(&scrub).junk.unwrap().code, "email_role");
        scrub.actions.insert("email_role".into(), Action::Reject);
        assert_eq!(run(&scrub).outcome, Outcome::Reject);
        scrub.actions.insert("email_role".into(), Action::Off);
        assert!(run(&scrub).reasons.iter().all(|r| r.code != "email_role"));
    }

    #[test]
    fn typo_suggestion_comes_even_when_the_domain_does_not_exist() {
        let v = check(&[("name", "Ann"), ("email", "ann@yandex.ri")]);
        assert!(v.reasons.iter().any(|r| r.code == "email_invalid"));
        let typo = v.reasons.iter().find(|r| r.code == "email_typo").unwrap();
        assert_eq!(typo.message, "did you mean ann@yandex.ru?");
        let v = check(&[("name", "Ann"), ("email", "ann@mail.ur")]);
        assert!(v
            .reasons
            .iter()
            .any(|r| r.message == "did you mean ann@mail.ru?"));
        for bad in [
            "a@b",
            "\"john doe\"@gmail.com",
            "x@[10.0.0.1]",
            "x@localhost",
            "x@co.uk",
            "x@site.invalidtld",
        ] {
            let v = check(&[("name", "Ann"), ("email", bad)]);
            assert!(
                v.reasons.iter().any(|r| r.code == "email_invalid"),
                "{bad}: {:?}",
                v.reasons
            );
        }
    }

    #[test]
    fn huge_name_is_not_a_lead() {
        let long = "Я".repeat(10_000);
        let v = check(&[("name", &long), ("phone", "+79161234567")]);
        assert_eq!(v.outcome, Outcome::Interest);
        assert!(v.reasons.iter().any(|r| r.code == "name_too_long"));
    }
}

#[cfg(test)]
mod stored_tests {
    use super::*;

    #[test]
    fn stored_reasons_keep_codes_and_values_and_read_back_whole() {
        let list = vec![
            Reason::new(
                "name_test",
                Some("name"),
                [("name", "Тест <b>\"x\"</b>".to_string())],
            ),
            Reason::new("no_contact", None, []),
            // Not in the catalog: its message is kept.
            Reason {
                code: "custom".into(),
                field: None,
                args: Args::new(),
                message: "a message of its own".into(),
            },
        ];
        assert_eq!(list[0].message, "\"Тест <b>\\\"x\\\"</b>\" is a test name");
        let text = Reason::stored_json(&list);
        assert_eq!(text.matches("\"message\"").count(), 1, "{text}");
        assert!(text.contains("a message of its own"), "{text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(Reason::list_from_json(&value).unwrap(), list);
        // The API's form (messages included) reads back the same.
        let full = serde_json::to_value(&list).unwrap();
        assert_eq!(Reason::list_from_json(&full).unwrap(), list);
        assert_eq!(Reason::list_from_json(&serde_json::json!({"a": 1})), None);
    }
}
