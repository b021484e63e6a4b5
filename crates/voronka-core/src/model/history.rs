//! Why the system moved a lead's stage, kept as a code and the values its text names, so that
//! the text is made (and can be translated) where it is shown. People's own reasons (a refusal
//! reason chosen from the list, a junk reason typed in) are kept as they wrote them.

use super::Channel;
use crate::intake::text::{reason_message, Args};
use crate::intake::Reason;

/// A stage move the system made, with what its entry in the history names.
#[derive(Debug, Clone, PartialEq)]
pub enum SystemMove<'a> {
    /// A new lead came in through a channel.
    Captured { channel: Channel },
    /// A new lead came in as junk, for the intake's reason.
    CapturedJunk {
        channel: Channel,
        reason: &'a Reason,
    },
    /// A refused lead asked again and is back in work.
    AskedAgain,
    /// A refused lead's freeze date passed; the refusal's own reason, if it had one.
    FreezePassed { refused: Option<&'a str> },
    /// A salesperson's first activity on a new lead (call, email, meeting, …) started work on it.
    ActivityLogged { kind: &'a str },
    /// A scoring rule moved the lead (new → MQL, MQL → SQL).
    ScoreRule { rule: &'a str },
}

impl SystemMove<'_> {
    /// The code and values the history entry keeps.
    pub fn coded(&self) -> (&'static str, Args) {
        let mut args = Args::new();
        let mut put = |k: &str, v: &str| {
            args.insert(k.to_string(), v.to_string());
        };
        let code = match self {
            SystemMove::Captured { channel } => {
                put("channel", channel.as_str());
                "captured"
            }
            SystemMove::CapturedJunk { channel, reason } => {
                for (k, v) in &reason.args {
                    put(k, v);
                }
                put("channel", channel.as_str());
                put("junk", &reason.code);
                if reason_message(&reason.code, &reason.args).is_none() {
                    // A reason the catalog cannot make again keeps its own words.
                    put("why", &reason.message);
                }
                "captured_junk"
            }
            SystemMove::AskedAgain => "asked_again",
            SystemMove::FreezePassed { refused } => {
                if let Some(r) = refused {
                    put("refused", r);
                }
                "freeze_passed"
            }
            SystemMove::ActivityLogged { kind } => {
                put("kind", kind);
                "activity_logged"
            }
            SystemMove::ScoreRule { rule } => {
                put("rule", rule);
                "score_rule"
            }
        };
        (code, args)
    }

    /// The text of the entry, as [`history_reason`] makes it from the stored code.
    pub fn text(&self) -> String {
        let (code, args) = self.coded();
        history_reason(code, &args).unwrap_or_else(|| code.to_string())
    }
}

/// The text of a history entry the system wrote, from its code and values; `None` for a code
/// this catalog does not know.
pub fn history_reason(code: &str, args: &Args) -> Option<String> {
    let a = |name: &str| args.get(name).map(String::as_str).unwrap_or("?");
    let text = match code {
        "captured" => format!("captured via {}", channel_label(a("channel"))),
        "captured_junk" => {
            let why = reason_message(a("junk"), args)
                .or_else(|| args.get("why").cloned())
                .unwrap_or_else(|| a("junk").to_string());
            format!(
                "captured via {} as junk: {why}",
                channel_label(a("channel"))
            )
        }
        "asked_again" => "asked again: a new request reopened the refused lead".to_string(),
        "freeze_passed" => match args.get("refused") {
            Some(r) => format!("freeze date passed (was refused: {r})"),
            None => "freeze date passed".to_string(),
        },
        "activity_logged" => match a("kind") {
            "call" => "call logged".to_string(),
            "email" => "email logged".to_string(),
            "meeting" => "meeting logged".to_string(),
            other => format!("{other} logged"),
        },
        "score_rule" => format!("scoring rule {:?}", a("rule")),
        _ => return None,
    };
    Some(text)
}

/// A channel's code named for people.
pub fn channel_label(code: &str) -> &str {
    match code {
        "web_form" => "web form",
        "api" => "API",
        "import" => "import",
        "manual" => "manual entry",
        "partner" => "partner",
        "tracking" => "tracking",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_move_keeps_a_code_and_reads_back_as_its_text() {
        let junk = Reason::new(
            "name_test",
            Some("name"),
            [("name", "Тест <b>".to_string())],
        );
        let cases = [
            (
                SystemMove::Captured {
                    channel: Channel::WebForm,
                },
                "captured",
                "captured via web form",
            ),
            (
                SystemMove::CapturedJunk {
                    channel: Channel::Import,
                    reason: &junk,
                },
                "captured_junk",
                "captured via import as junk: \"Тест <b>\" is a test name",
            ),
            (
                SystemMove::AskedAgain,
                "asked_again",
                "asked again: a new request reopened the refused lead",
            ),
            (
                SystemMove::FreezePassed {
                    refused: Some("Дорого"),
                },
                "freeze_passed",
                "freeze date passed (was refused: Дорого)",
            ),
            (
                SystemMove::FreezePassed { refused: None },
                "freeze_passed",
                "freeze date passed",
            ),
            (
                SystemMove::ActivityLogged { kind: "call" },
                "activity_logged",
                "call logged",
            ),
            (
                SystemMove::ScoreRule { rule: "Hot B2B" },
                "score_rule",
                "scoring rule \"Hot B2B\"",
            ),
        ];
        for (m, code, text) in cases {
            let (c, args) = m.coded();
            assert_eq!(c, code);
            assert_eq!(history_reason(c, &args).as_deref(), Some(text), "{m:?}");
            assert_eq!(m.text(), text);
        }
        assert_eq!(history_reason("made_up", &Args::new()), None);
    }

    #[test]
    fn a_junk_reason_the_catalog_cannot_remake_keeps_its_words() {
        let own = Reason {
            code: "form_rule_7".into(),
            field: None,
            args: Args::new(),
            message: "the quiz says: not our region".into(),
        };
        let m = SystemMove::CapturedJunk {
            channel: Channel::Api,
            reason: &own,
        };
        let (code, args) = m.coded();
        assert_eq!(
            args.get("why").map(String::as_str),
            Some(own.message.as_str())
        );
        assert_eq!(
            history_reason(code, &args).unwrap(),
            "captured via API as junk: the quiz says: not our region"
        );
        // A known reason's words are not stored: they are made again.
        let known = Reason::new("honeypot", None, []);
        let (_, args) = SystemMove::CapturedJunk {
            channel: Channel::Api,
            reason: &known,
        }
        .coded();
        assert!(!args.contains_key("why"));
    }
}
