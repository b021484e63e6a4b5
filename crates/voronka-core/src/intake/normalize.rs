//! Normalization: E.164 phones, normalized emails, clean names, attribution fields.

use crate::model::{Attribution, Email, Money, Phone, Temperature};
use crate::Currency;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use super::Submission;

/// Field names the pipeline understands; everything else is kept as a custom attribute.
pub const KNOWN_FIELDS: &[&str] = &[
    "name",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "position",
    "message",
    "product",
    "consent",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "page",
    "referrer",
    "visitor_id",
    "social",
    "country",
    "language",
    "value",
    "currency",
    "temperature",
    "_started_at",
    "_fill_ms",
];

#[derive(Debug, Clone)]
pub struct NormalizeSettings {
    /// ISO 3166 region used for phones written without a country code.
    pub default_region: String,
    pub default_currency: Currency,
    pub default_product: Option<String>,
    pub honeypot_field: Option<String>,
}

impl Default for NormalizeSettings {
    fn default() -> Self {
        NormalizeSettings {
            default_region: "RU".into(),
            default_currency: Currency::parse("RUB").expect("valid code"),
            default_product: None,
            honeypot_field: Some("website".into()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Normalized {
    pub full_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<Email>,
    pub phones: Vec<Phone>,
    pub socials: Vec<String>,
    pub company: Option<String>,
    pub position: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub message: Option<String>,
    pub product: Option<String>,
    pub consent: bool,
    pub attribution: Attribution,
    pub visitor_id: Option<String>,
    pub value: Option<Money>,
    pub temperature: Option<Temperature>,
    /// Problems found while reading fields (bad value, bad currency …).
    pub field_errors: Vec<(String, String)>,
    pub honeypot: Option<String>,
    pub fill_ms: Option<i64>,
    pub custom: BTreeMap<String, String>,
    /// What the form's definition made of the submission (quiz, required fields, consent).
    #[serde(default)]
    pub form: FormContext,
}

/// The part of a submission read through its form's definition; filled by [`apply_definition`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FormContext {
    /// `callback` for the callback button; `None` is an ordinary request.
    pub kind: Option<String>,
    pub answers: Vec<crate::capture::QuizAnswer>,
    pub fit: i64,
    pub intent: i64,
    pub disqualified: Option<String>,
    /// Required fields left empty: (field, label).
    pub missing: Vec<(String, String)>,
    /// The consent text agreed to, when the form has a consent checkbox and it was ticked.
    pub consent_text: Option<String>,
    pub variant: Option<String>,
}

/// Reads the submission through its form's definition: quiz answers and points, required fields,
/// the consent text, the callback kind and the variant shown.
pub fn apply_definition(
    n: &mut Normalized,
    sub: &Submission,
    def: &crate::capture::FormDefinition,
) {
    use crate::capture::{FieldKind, FormKind};
    let mut ctx = FormContext::default();
    if def.kind == FormKind::Callback {
        ctx.kind = Some("callback".into());
    }
    let variant = sub.field("_variant").and_then(|v| def.variant(v));
    ctx.variant = variant.map(|v| v.key.clone());
    if !def.steps.is_empty() {
        let q = def.evaluate(&sub.fields);
        ctx.answers = q.answers;
        ctx.fit = q.fit;
        ctx.intent = q.intent;
        ctx.disqualified = q.disqualified;
    }
    for f in def.effective_fields() {
        if !f.required || variant.is_some_and(|v| v.hide_fields.contains(&f.name)) {
            continue;
        }
        let filled = sub.field(&f.name).is_some_and(|v| {
            f.kind != FieldKind::Checkbox || !matches!(v, "false" | "0" | "off" | "no")
        });
        if !filled {
            let label = if f.label.is_empty() {
                crate::capture::field_label(f.kind, def.language).to_string()
            } else {
                f.label.clone()
            };
            ctx.missing.push((f.name.clone(), label));
        }
    }
    if let Some(c) = &def.consent {
        if n.consent {
            ctx.consent_text = Some(c.text.clone());
        }
    }
    // Quiz answers and form bookkeeping are not custom attributes of the person.
    n.custom
        .retain(|k, _| !k.starts_with("quiz.") && !k.starts_with('_'));
    n.form = ctx;
}

/// A source or medium as leads keep it (`Google` and `google` are one source): whatever names
/// one — a submission's UTM tag, a spend entry — goes through here.
pub fn channel_name(s: &str) -> String {
    s.to_lowercase()
}

/// Unicode NFKC, control and bidi-override characters dropped, whitespace collapsed.
pub fn clean_text(s: &str) -> String {
    let (mut cur, mut dropped) = clean_once(s);
    // Dropping a character can let its neighbours compose, so repeat until nothing changes. A
    // pass that dropped nothing is final: it only turned whitespace into single spaces, and a
    // space composes with nothing.
    for _ in 0..3 {
        if !dropped {
            break;
        }
        let (next, d) = clean_once(&cur);
        if next == cur {
            break;
        }
        (cur, dropped) = (next, d);
    }
    cur
}

/// One pass: NFKC, invisible controls dropped, whitespace runs as single spaces, trimmed; and
/// whether a character was dropped.
fn clean_once(s: &str) -> (String, bool) {
    // Most text is already in NFKC (all ASCII is): the quick check spares a copy.
    let nfkc: Cow<str> = if is_nfkc_quick(s.chars()) == IsNormalized::Yes {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.nfkc().collect())
    };
    let mut out = String::with_capacity(nfkc.len());
    let mut space = false;
    let mut dropped = false;
    for c in nfkc.chars() {
        if is_invisible_control(c) {
            dropped = true;
            continue;
        }
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(c);
    }
    (out, dropped)
}

/// Keeps line breaks (for messages) but drops other controls and bidi overrides.
fn clean_multiline(s: &str) -> String {
    let nfkc: String = s.nfkc().collect();
    nfkc.lines()
        .map(clean_text)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn is_invisible_control(c: char) -> bool {
    c.is_control() && !c.is_whitespace()
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200e}' | '\u{200f}' | '\u{feff}' | '\u{200b}')
}

fn opt(s: Option<&str>) -> Option<String> {
    s.map(clean_text).filter(|s| !s.is_empty())
}

/// Fixes the case of names typed in caps lock or all lower case ("иВАН ПЕТРОВ" → "Иван Петров")
/// and keeps deliberate mixed case ("de Vries", "McDonald").
pub fn tidy_name(s: &str) -> String {
    let cleaned = clean_text(s);
    let all_lower = !cleaned.chars().any(|c| c.is_uppercase());
    cleaned
        .split(' ')
        .map(|w| {
            let letters: Vec<char> = w.chars().filter(|c| c.is_alphabetic()).collect();
            let all_upper = letters.len() > 1 && letters.iter().all(|c| !c.is_lowercase());
            let inverted = w.chars().next().is_some_and(|c| c.is_lowercase())
                && w.chars().any(|c| c.is_uppercase());
            if all_lower || all_upper || inverted {
                title_case(w)
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn title_case(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    let mut start = true;
    for c in w.chars() {
        if start {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        // Hyphenated and apostrophe names: "анна-мария" → "Анна-Мария", "o'neil" → "O'Neil".
        start = c == '-' || c == '\'' || c == '’';
    }
    out
}

/// Parses a phone in the given default region.
pub fn normalize_phone(raw: &str, region: &str) -> Phone {
    let raw_clean = clean_text(raw);
    let parsed = crate::intake::normalize::phone::parse(&raw_clean, region);
    match parsed {
        Some((e164, valid)) => Phone {
            raw: raw_clean,
            e164: Some(e164),
            valid,
        },
        None => Phone {
            raw: raw_clean,
            e164: None,
            valid: false,
        },
    }
}

/// Trims and lowercases the domain of an email; `None` when it is not an address at all.
pub fn normalize_email(raw: &str) -> Option<Email> {
    let raw_clean = clean_text(raw);
    let trimmed = raw_clean.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace());
    let (local, domain) = trimmed.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    let normalized = format!("{}@{}", local, domain.to_lowercase());
    Some(Email {
        raw: raw_clean,
        normalized,
    })
}

/// Phone parsing (E.164, validity, number type) with libphonenumber's rules; see `phone.rs`.
#[path = "phone.rs"]
pub mod phone;

/// Reads every known field of a submission into domain values.
pub fn normalize(sub: &Submission, settings: &NormalizeSettings) -> Normalized {
    let f = |k: &str| sub.field(k);
    let mut field_errors = Vec::new();

    let mut first_name = f("first_name").map(tidy_name).filter(|s| !s.is_empty());
    let mut last_name = f("last_name").map(tidy_name).filter(|s| !s.is_empty());
    let full_name = match f("name").map(tidy_name).filter(|s| !s.is_empty()) {
        Some(n) => {
            if first_name.is_none() && last_name.is_none() {
                let mut parts = n.splitn(2, ' ');
                first_name = parts.next().map(str::to_string);
                last_name = parts.next().map(str::to_string);
            }
            Some(n)
        }
        None => match (&first_name, &last_name) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (Some(a), None) | (None, Some(a)) => Some(a.clone()),
            (None, None) => None,
        },
    };

    let region = f("country")
        .filter(|c| c.len() == 2 && c.chars().all(|c| c.is_ascii_alphabetic()))
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or_else(|| settings.default_region.clone());

    let phones: Vec<Phone> = f("phone")
        .map(|p| {
            split_multi(p)
                .map(|one| normalize_phone(one, &region))
                .collect()
        })
        .unwrap_or_default();
    let emails: Vec<Email> = f("email")
        .map(|e| split_multi(e).filter_map(normalize_email).collect())
        .unwrap_or_default();
    let socials: Vec<String> = f("social")
        .map(|s| {
            split_multi(s)
                .map(clean_text)
                .filter(|s| looks_like_social(s))
                .collect()
        })
        .unwrap_or_default();

    let currency = match f("currency") {
        Some(c) => match Currency::parse(c) {
            Ok(c) => c,
            Err(e) => {
                field_errors.push(("currency".into(), e.to_string()));
                settings.default_currency
            }
        },
        None => settings.default_currency,
    };
    let value = f("value").and_then(|v| match Money::parse_major(v, currency) {
        Ok(m) if m.minor >= 0 => Some(m),
        Ok(_) => {
            field_errors.push(("value".into(), "value must not be negative".into()));
            None
        }
        Err(e) => {
            field_errors.push(("value".into(), e.to_string()));
            None
        }
    });
    let temperature = f("temperature").and_then(|t| {
        let parsed = Temperature::parse(t);
        if parsed.is_none() {
            field_errors.push((
                "temperature".into(),
                "temperature must be cold, warm or hot".into(),
            ));
        }
        parsed
    });
    let consent = f("consent")
        .map(|c| {
            matches!(
                c.to_lowercase().as_str(),
                "1" | "true" | "on" | "yes" | "да" | "y"
            )
        })
        .unwrap_or(false);

    let fill_ms = f("_fill_ms")
        .and_then(|v| v.parse::<i64>().ok())
        .or_else(|| {
            f("_started_at")
                .and_then(|v| v.parse::<i64>().ok())
                .map(|start| sub.received_at - start)
        });

    let honeypot = settings
        .honeypot_field
        .as_deref()
        .and_then(|h| sub.fields.get(h))
        .map(|s| s.to_string())
        .filter(|s| !s.trim().is_empty());

    let custom = sub
        .fields
        .iter()
        .filter(|(k, _)| {
            !KNOWN_FIELDS.contains(&k.as_str())
                && Some(k.as_str()) != settings.honeypot_field.as_deref()
        })
        .map(|(k, v)| (clean_text(k), v.clone()))
        .collect();

    Normalized {
        full_name,
        first_name,
        last_name,
        emails,
        phones,
        socials,
        company: opt(f("company")),
        position: opt(f("position")),
        country: Some(region.clone()).filter(|_| f("country").is_some()),
        language: opt(f("language")).map(|l| l.to_lowercase()),
        message: f("message").map(clean_multiline).filter(|s| !s.is_empty()),
        product: opt(f("product")).or_else(|| settings.default_product.clone()),
        consent,
        attribution: Attribution {
            utm_source: opt(f("utm_source")).map(|s| channel_name(&s)),
            utm_medium: opt(f("utm_medium")).map(|s| channel_name(&s)),
            utm_campaign: opt(f("utm_campaign")),
            utm_term: opt(f("utm_term")),
            utm_content: opt(f("utm_content")),
            referrer: opt(f("referrer")),
            landing_page: opt(f("page")),
        },
        visitor_id: opt(f("visitor_id")),
        value,
        temperature,
        field_errors,
        honeypot,
        fill_ms,
        custom,
        form: FormContext::default(),
    }
}

fn split_multi(s: &str) -> impl Iterator<Item = &str> {
    s.split([',', ';']).map(str::trim).filter(|s| !s.is_empty())
}

fn looks_like_social(s: &str) -> bool {
    let lower = s.to_lowercase();
    (lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with('@'))
        && s.len() > 2
        || [
            "t.me/",
            "vk.com/",
            "instagram.com/",
            "facebook.com/",
            "linkedin.com/",
            "wa.me/",
        ]
        .iter()
        .any(|d| lower.contains(d))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Channel;

    fn sub() -> Submission {
        Submission::new(Channel::WebForm, 1_000_000)
    }

    #[test]
    fn phone_to_e164_with_default_region() {
        let p = normalize_phone("8 (916) 123-45-67", "RU");
        assert_eq!(p.e164.as_deref(), Some("+79161234567"));
        assert!(p.valid);
        let p = normalize_phone("+31 6 12345678", "RU");
        assert_eq!(p.e164.as_deref(), Some("+31612345678"));
        let p = normalize_phone("not a phone", "RU");
        assert_eq!(p.e164, None);
        assert!(!p.valid);
    }

    #[test]
    fn email_domain_lowercased_local_kept() {
        let e = normalize_email("  Ivan.Petrov@Yandex.RU ").unwrap();
        assert_eq!(e.normalized, "Ivan.Petrov@yandex.ru");
        assert!(normalize_email("nope").is_none());
    }

    #[test]
    fn names_are_cleaned_and_split() {
        let n = normalize(
            &sub().with("name", "  иВАН   ПЕТРОВ\u{202e} "),
            &Default::default(),
        );
        assert_eq!(n.full_name.as_deref(), Some("Иван Петров"));
        assert_eq!(n.first_name.as_deref(), Some("Иван"));
        assert_eq!(n.last_name.as_deref(), Some("Петров"));
        let n = normalize(
            &sub()
                .with("first_name", "Anna")
                .with("last_name", "de Vries"),
            &Default::default(),
        );
        assert_eq!(n.full_name.as_deref(), Some("Anna de Vries"));
    }

    #[test]
    fn unknown_fields_are_custom_and_honeypot_is_read() {
        let n = normalize(
            &sub().with("shoe_size", "43").with("website", "http://spam"),
            &Default::default(),
        );
        assert_eq!(n.custom.get("shoe_size").map(String::as_str), Some("43"));
        assert!(!n.custom.contains_key("website"));
        assert_eq!(n.honeypot.as_deref(), Some("http://spam"));
    }

    #[test]
    fn value_and_bad_value() {
        let n = normalize(
            &sub().with("value", "1500,50").with("currency", "usd"),
            &Default::default(),
        );
        assert_eq!(n.value.unwrap().minor, 150_050);
        assert_eq!(n.value.unwrap().currency.as_str(), "USD");
        let n = normalize(&sub().with("value", "lots"), &Default::default());
        assert!(n.value.is_none());
        assert_eq!(n.field_errors[0].0, "value");
    }

    proptest::proptest! {
        #[test]
        fn clean_text_is_idempotent_and_has_no_controls(s in "\\PC{0,40}") {
            let once = clean_text(&s);
            proptest::prop_assert_eq!(clean_text(&once), once.clone());
            proptest::prop_assert!(!once.chars().any(|c| c.is_control()));
            proptest::prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
        }

        /// Controls, bidi marks, odd spaces and combining marks mixed in: one pass that drops
        /// nothing is final, and the result is NFKC.
        #[test]
        fn clean_text_is_final_with_controls_and_marks(
            s in "[aeoиё \\t\\n\\u{0301}\\u{0308}\\u{0306}\\u{200b}\\u{202e}\\u{00a0}\\u{3000}\\u{0007}\\u{fb01}\\u{2460}]{0,30}"
        ) {
            let once = clean_text(&s);
            proptest::prop_assert_eq!(clean_text(&once), once.clone());
            proptest::prop_assert_eq!(once.nfkc().collect::<String>(), once.clone());
        }

        #[test]
        fn normalize_never_panics(name in "\\PC{0,30}", phone in "[0-9+() -]{0,20}", email in "\\PC{0,20}") {
            let _ = normalize(&sub().with("name", name).with("phone", phone).with("email", email), &Default::default());
        }
    }
}
