//! The messages of the intake's reasons, in one place so that they can be translated. A reason
//! keeps its code and the values its message names ([`Args`]); the message is made here from
//! them, when the reason is made and again when a stored one is read.

use std::collections::BTreeMap;

/// The values a reason's message names, by name: ids, numbers as shown, and the person's own
/// text (a name, a phone as typed), which is quoted where the message shows it.
pub type Args = BTreeMap<String, String>;

/// The message of a reason with this code, made from its values; `None` for a code this
/// catalog does not know (its reason keeps the message it was made with).
pub fn reason_message(code: &str, args: &Args) -> Option<String> {
    let a = |name: &str| args.get(name).map(String::as_str).unwrap_or("?");
    let text = match code {
        // Pseudo-lead rules and facts about the submission.
        "honeypot" => "a hidden field meant for bots was filled".to_string(),
        "too_fast" => format!(
            "the form was filled in {} ms, faster than {} ms",
            a("ms"),
            a("min_ms")
        ),
        "burst_ip" => format!(
            "{} submissions from this address in {} s",
            a("count"),
            a("secs")
        ),
        "burst_visitor" => format!(
            "{} submissions from this visitor in {} s",
            a("count"),
            a("secs")
        ),
        "identical_payload" => format!(
            "the same submission came from {} clients in {} s",
            a("count"),
            a("secs")
        ),
        "disqualified" => format!("a quiz answer rules the person out: {}", a("why")),
        "required" => format!("{} is required", a("label")),
        "field_invalid" => a("problem").to_string(),
        "name_missing" => "name is missing".to_string(),
        "name_too_long" => format!("name is longer than {} characters", a("max")),
        "name_invalid" => "name has no letters".to_string(),
        "name_link" => "the name contains a link".to_string(),
        "name_test" => format!("{:?} is a test name", a("name")),
        "name_keyboard_walk" => format!("{:?} is a run of neighbouring keys", a("name")),
        "name_gibberish" => format!("{:?} does not look like a name", a("name")),
        "name_joke" => format!("{:?} is a joke name", a("name")),
        "phone_too_short" => format!("{:?} has only {} digits", a("phone"), a("digits")),
        "phone_invalid" => format!("{:?} is not a valid phone number", a("phone")),
        "phone_pattern" => format!(
            "{:?} is not a real number: {}",
            a("phone"),
            phone_pattern(a("pattern"))
        ),
        "email_invalid" => format!("{:?} is not a valid email address", a("email")),
        "email_typo" => format!("did you mean {}?", a("suggestion")),
        "email_test" => format!("{} is a test address", a("email")),
        "email_disposable" => format!("{} is a disposable mail service", a("domain")),
        "email_competitor" => format!("{} is a competitor's domain", a("domain")),
        "email_role" => format!("{} is a shared mailbox, not a person", a("email")),
        "stop_phrase" => format!("the message contains {:?}", a("phrase")),
        "no_contact" => "no valid phone, email or social profile".to_string(),
        "consent_missing" => "consent to processing of personal data is required".to_string(),
        // Deduplication.
        "same_contact" => format!(
            "same person as contact #{} (match probability {}: {})",
            a("contact"),
            a("probability"),
            fields(args)
        ),
        "same_request" => format!("same request as open lead #{}: added as a touch", a("lead")),
        "reopened" => format!("refused lead #{} asked again: reopened", a("lead")),
        "new_request" => "a new request of a known contact".to_string(),
        "possible_duplicate" => {
            let shared = match args.get("shared") {
                Some(list) if !list.is_empty() => format!(", shared {}", fields(args)),
                _ => String::new(),
            };
            format!(
                "possible duplicate of lead #{} (contact #{}): match probability {}{shared}",
                a("lead"),
                a("contact"),
                a("probability")
            )
        }
        _ => return None,
    };
    Some(text)
}

/// Why a phone cannot be a real number, by the code [`super::scrub::PhonePattern`] gives.
fn phone_pattern(code: &str) -> &str {
    match code {
        "repeated_digit" => "one digit repeated",
        "consecutive_digits" => "a run of consecutive digits",
        "zero_area_code" => "a zero area code",
        other => other,
    }
}

/// The contact fields a match shared (`shared`: codes separated by commas), named for people.
fn fields(args: &Args) -> String {
    let Some(list) = args.get("shared") else {
        return String::new();
    };
    list.split(',')
        .map(|code| match code.trim() {
            "phone" => "phone",
            "email" => "email",
            "social" => "social",
            "name" => "name",
            "company" => "company",
            "city" => "city",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, &str)]) -> Args {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn messages_name_their_values_and_quote_the_persons_text() {
        assert_eq!(
            reason_message("name_test", &args(&[("name", "Test \"Тест\"")])).unwrap(),
            r#""Test \"Тест\"" is a test name"#
        );
        assert_eq!(
            reason_message(
                "phone_pattern",
                &args(&[("phone", "+7 999 999-99-99"), ("pattern", "repeated_digit")])
            )
            .unwrap(),
            "\"+7 999 999-99-99\" is not a real number: one digit repeated"
        );
        assert_eq!(
            reason_message(
                "possible_duplicate",
                &args(&[
                    ("lead", "12"),
                    ("contact", "7"),
                    ("probability", "0.61"),
                    ("shared", "name,company")
                ])
            )
            .unwrap(),
            "possible duplicate of lead #12 (contact #7): match probability 0.61, shared name, company"
        );
        assert_eq!(
            reason_message(
                "possible_duplicate",
                &args(&[("lead", "12"), ("contact", "7"), ("probability", "0.61")])
            )
            .unwrap(),
            "possible duplicate of lead #12 (contact #7): match probability 0.61"
        );
    }

    #[test]
    fn a_missing_value_shows_as_a_question_mark_and_an_unknown_code_has_no_message() {
        assert_eq!(
            reason_message("too_fast", &args(&[("ms", "300")])).unwrap(),
            "the form was filled in 300 ms, faster than ? ms"
        );
        assert_eq!(reason_message("made_up", &Args::new()), None);
    }
}
