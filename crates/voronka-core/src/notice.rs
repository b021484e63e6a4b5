//! Sentences the system writes for people outside the stage history: why a lead went to whom,
//! the notifications it sends, and what an SLA step did. Each is kept as a code and the values
//! it names ([`Notice`]); its text is made when read by [`notice_text`], the one catalog of
//! these sentences and the place to translate them.

use crate::intake::text::Args;
use serde::{Deserialize, Serialize};

/// A sentence kept as a code and the values it names.
///
/// One notice may name another: the inner notice's code is kept under a key of the outer one
/// (`decision` for a routing decision) and its values beside the outer one's own
/// ([`Notice::naming`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Notice {
    pub code: String,
    #[serde(default, skip_serializing_if = "Args::is_empty")]
    pub args: Args,
}

impl Notice {
    pub fn new(code: &str) -> Notice {
        Notice {
            code: code.to_string(),
            args: Args::new(),
        }
    }

    /// The notice with one more value.
    pub fn with(mut self, key: &str, value: impl ToString) -> Notice {
        self.args.insert(key.to_string(), value.to_string());
        self
    }

    /// The notice naming another under `key`: the other's code there, its values beside this
    /// one's (this one's own win where both name the same key).
    pub fn naming(mut self, key: &str, inner: &Notice) -> Notice {
        for (k, v) in &inner.args {
            self.args.entry(k.clone()).or_insert_with(|| v.clone());
        }
        self.args.insert(key.to_string(), inner.code.clone());
        self
    }

    /// The sentence, from the catalog; a code it does not know reads as itself.
    pub fn text(&self) -> String {
        notice_text(&self.code, &self.args).unwrap_or_else(|| self.code.clone())
    }

    /// The stored form: `{"code":…,"args":{…}}`.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the stored form back (`None` for anything else).
    pub fn from_json(s: &str) -> Option<Notice> {
        serde_json::from_str(s).ok()
    }
}

/// The text of a notice, from its code and values; `None` for a code this catalog does not know.
pub fn notice_text(code: &str, args: &Args) -> Option<String> {
    text_at(code, args, 0)
}

/// How deep one notice may name others (stored values that named each other in a circle read
/// as their codes instead of recursing).
const MAX_DEPTH: usize = 4;

fn text_at(code: &str, args: &Args, depth: usize) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let inner = |key: &str| {
        args.get(key)
            .and_then(|c| text_at(c, args, depth + 1))
            .unwrap_or_else(|| args.get(key).cloned().unwrap_or_else(|| "?".into()))
    };
    let a = |name: &str| args.get(name).map(String::as_str).unwrap_or("?");
    // A notice naming a routing decision: the decision's own text.
    let decision = || inner("decision");
    let text = match code {
        // Routing decisions.
        "route_account_owner" => format!(
            "assigned to {} by rule \"{}\", account owner of the existing customer",
            a("person"),
            a("rule")
        ),
        "route_sticky_owner" => format!(
            "assigned to {} by rule \"{}\", sticky owner: the contact's previous owner",
            a("person"),
            a("rule")
        ),
        "route_round_robin" => format!(
            "assigned to {} by rule \"{}\", round robin {} of {}",
            a("person"),
            a("rule"),
            a("turn"),
            a("of")
        ),
        "route_least_load" => format!(
            "assigned to {} by rule \"{}\", least open load ({} open)",
            a("person"),
            a("rule"),
            a("open")
        ),
        "route_fallback" => format!(
            "assigned to {} from the fallback queue \"{}\": no rule found anybody available",
            a("person"),
            a("queue")
        ),
        "route_left_in_queue" => format!(
            "left in the fallback queue \"{}\": no rule found anybody available",
            a("queue")
        ),
        "route_kept_owner" => "kept the lead's owner".to_string(),
        "route_junk" => "not routed: junk".to_string(),
        // Assignments by people.
        "assigned_by" => format!("assigned by {}", a("actor")),
        "reassigned_by" => match args.get("comment") {
            Some(c) => format!("reassigned by {}: {c}", a("actor")),
            None => format!("reassigned by {}", a("actor")),
        },
        "reassigned_by_rules" => format!("reassigned by {}: {}", a("actor"), decision()),
        "reassigned_sla" => format!("SLA breached: {}", decision()),
        // Notifications.
        "new_lead_assigned" => format!(
            "New lead #{} assigned to {}: {}",
            a("lead"),
            a("person"),
            decision()
        ),
        "lead_assigned_to_you" => format!("Lead #{} assigned to you: {}", a("lead"), inner("why")),
        "lead_revived" => format!("Lead #{} is back from the freeze: call it", a("lead")),
        "sla_no_response" => format!("SLA breached: lead #{} has had no response", a("lead")),
        "sla_no_response_of" => format!(
            "SLA breached: lead #{} of {} has had no response",
            a("lead"),
            owner(args)
        ),
        "sla_reassigned_to_you" => {
            format!("Lead #{} reassigned to you after an SLA breach", a("lead"))
        }
        // Why all leads are being rescored.
        "rescore_asked" => "asked for".to_string(),
        "rescore_rules_changed" => "the scoring rules changed".to_string(),
        "rescore_nightly" => "nightly decay".to_string(),
        "rescore_command_line" => "command line".to_string(),
        "rescore_rules_imported" => "rules imported".to_string(),
        // What an SLA step did.
        "sla_owner_notified" => format!(
            "first response to lead #{} overdue; owner {} notified",
            a("lead"),
            owner(args)
        ),
        "sla_escalated" => format!(
            "lead #{} escalated to {} team lead(s); owner {}",
            a("lead"),
            a("count"),
            owner(args)
        ),
        "sla_reassigned" => format!(
            "lead #{} reassigned from {}: {}",
            a("lead"),
            owner(args),
            decision()
        ),
        // An SLA step's detail, as its notification names it.
        "sla_breached" => format!("SLA breached: {}", inner("detail")),
        // What a review of possible duplicates did (the audit log).
        "lead_not_duplicate" => format!("not a duplicate of lead {}", a("other")),
        "lead_merged_in" => format!(
            "lead {} merged in (merge {}; fields taken from it: {})",
            a("merged"),
            a("merge"),
            args.get("fields").map(String::as_str).unwrap_or("none")
        ),
        "lead_unmerged" => format!(
            "merge {} undone: lead {} is separate again",
            a("merge"),
            a("merged")
        ),
        "contact_merged_in" => format!(
            "contact {} merged in by deduplication (merge {}; lead {} merged into lead {})",
            a("contact"),
            a("merge"),
            a("merged"),
            a("survivor")
        ),
        "contact_merged_in_lead_kept" => format!(
            "contact {} merged in by deduplication (merge {}; lead {} kept as a lead of its own)",
            a("contact"),
            a("merge"),
            a("merged")
        ),
        _ => return None,
    };
    Some(text)
}

/// The lead's owner as an SLA step names them: "nobody" when it had none.
fn owner(args: &Args) -> &str {
    args.get("owner").map(String::as_str).unwrap_or("nobody")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> Notice {
        Notice::new("route_round_robin")
            .with("person", "Ольга <b>")
            .with("rule", "Moscow")
            .with("turn", 2)
            .with("of", 3)
    }

    #[test]
    fn each_code_reads_as_its_sentence() {
        let d = decision();
        let cases = [
            (
                Notice::new("route_account_owner")
                    .with("person", "Ann")
                    .with("rule", "Customers"),
                "assigned to Ann by rule \"Customers\", account owner of the existing customer",
            ),
            (
                Notice::new("route_sticky_owner")
                    .with("person", "Ann")
                    .with("rule", "Repeat"),
                "assigned to Ann by rule \"Repeat\", sticky owner: the contact's previous owner",
            ),
            (
                d.clone(),
                "assigned to Ольга <b> by rule \"Moscow\", round robin 2 of 3",
            ),
            (
                Notice::new("route_least_load")
                    .with("person", "Ann")
                    .with("rule", "B2B")
                    .with("open", 4),
                "assigned to Ann by rule \"B2B\", least open load (4 open)",
            ),
            (
                Notice::new("route_fallback")
                    .with("person", "Ann")
                    .with("queue", "night"),
                "assigned to Ann from the fallback queue \"night\": no rule found anybody available",
            ),
            (
                Notice::new("route_left_in_queue").with("queue", "unassigned"),
                "left in the fallback queue \"unassigned\": no rule found anybody available",
            ),
            (Notice::new("route_kept_owner"), "kept the lead's owner"),
            (Notice::new("rescore_asked"), "asked for"),
            (Notice::new("rescore_rules_changed"), "the scoring rules changed"),
            (Notice::new("rescore_nightly"), "nightly decay"),
            (Notice::new("rescore_command_line"), "command line"),
            (Notice::new("rescore_rules_imported"), "rules imported"),
            (Notice::new("route_junk"), "not routed: junk"),
            (
                Notice::new("assigned_by").with("actor", "Ann"),
                "assigned by Ann",
            ),
            (
                Notice::new("reassigned_by")
                    .with("actor", "Boss")
                    .with("comment", "на отпуске"),
                "reassigned by Boss: на отпуске",
            ),
            (
                Notice::new("reassigned_by").with("actor", "Boss"),
                "reassigned by Boss",
            ),
            (
                Notice::new("reassigned_by_rules")
                    .with("actor", "Boss")
                    .naming("decision", &d),
                "reassigned by Boss: assigned to Ольга <b> by rule \"Moscow\", round robin 2 of 3",
            ),
            (
                Notice::new("reassigned_sla").naming("decision", &Notice::new("route_kept_owner")),
                "SLA breached: kept the lead's owner",
            ),
            (
                Notice::new("new_lead_assigned")
                    .with("lead", 7)
                    .with("person", "Ольга <b>")
                    .naming("decision", &d),
                "New lead #7 assigned to Ольга <b>: assigned to Ольга <b> by rule \"Moscow\", round robin 2 of 3",
            ),
            (
                Notice::new("lead_assigned_to_you")
                    .with("lead", 7)
                    .naming("why", &Notice::new("reassigned_by").with("actor", "Boss")),
                "Lead #7 assigned to you: reassigned by Boss",
            ),
            (
                Notice::new("lead_revived").with("lead", 7),
                "Lead #7 is back from the freeze: call it",
            ),
            (
                Notice::new("sla_no_response").with("lead", 7),
                "SLA breached: lead #7 has had no response",
            ),
            (
                Notice::new("sla_no_response_of")
                    .with("lead", 7)
                    .with("owner", "Ann"),
                "SLA breached: lead #7 of Ann has had no response",
            ),
            (
                Notice::new("sla_no_response_of").with("lead", 7),
                "SLA breached: lead #7 of nobody has had no response",
            ),
            (
                Notice::new("sla_reassigned_to_you").with("lead", 7),
                "Lead #7 reassigned to you after an SLA breach",
            ),
            (
                Notice::new("sla_owner_notified").with("lead", 7),
                "first response to lead #7 overdue; owner nobody notified",
            ),
            (
                Notice::new("sla_escalated")
                    .with("lead", 7)
                    .with("count", 2)
                    .with("owner", "Ann"),
                "lead #7 escalated to 2 team lead(s); owner Ann",
            ),
            (
                Notice::new("sla_reassigned")
                    .with("lead", 7)
                    .with("owner", "Ann")
                    .naming("decision", &Notice::new("route_left_in_queue").with("queue", "q")),
                "lead #7 reassigned from Ann: left in the fallback queue \"q\": no rule found anybody available",
            ),
            (
                Notice::new("sla_breached")
                    .naming("detail", &Notice::new("sla_owner_notified").with("lead", 7).with("owner", "Ann")),
                "SLA breached: first response to lead #7 overdue; owner Ann notified",
            ),
            (
                Notice::new("lead_not_duplicate").with("other", 9),
                "not a duplicate of lead 9",
            ),
            (
                Notice::new("lead_merged_in")
                    .with("merged", 9)
                    .with("merge", 3)
                    .with("fields", "phone, имя"),
                "lead 9 merged in (merge 3; fields taken from it: phone, имя)",
            ),
            (
                Notice::new("lead_merged_in").with("merged", 9).with("merge", 3),
                "lead 9 merged in (merge 3; fields taken from it: none)",
            ),
            (
                Notice::new("lead_unmerged").with("merge", 3).with("merged", 9),
                "merge 3 undone: lead 9 is separate again",
            ),
            (
                Notice::new("contact_merged_in")
                    .with("contact", 5)
                    .with("merge", 3)
                    .with("merged", 9)
                    .with("survivor", 8),
                "contact 5 merged in by deduplication (merge 3; lead 9 merged into lead 8)",
            ),
            (
                Notice::new("contact_merged_in_lead_kept")
                    .with("contact", 5)
                    .with("merge", 3)
                    .with("merged", 9),
                "contact 5 merged in by deduplication (merge 3; lead 9 kept as a lead of its own)",
            ),
        ];
        for (n, text) in cases {
            assert_eq!(
                notice_text(&n.code, &n.args).as_deref(),
                Some(text),
                "{n:?}"
            );
            let back = Notice::from_json(&n.to_json()).expect("stored form reads back");
            assert_eq!(back, n);
            assert_eq!(back.text(), text);
        }
    }

    #[test]
    fn an_unknown_code_reads_as_itself_and_other_json_is_not_a_notice() {
        assert_eq!(notice_text("made_up", &Args::new()), None);
        assert_eq!(Notice::new("made_up").text(), "made_up");
        assert_eq!(Notice::from_json("assigned to Ann"), None);
        assert_eq!(Notice::from_json("[1,2]"), None);
        assert_eq!(
            Notice::new("route_kept_owner").to_json(),
            r#"{"code":"route_kept_owner"}"#
        );
    }

    #[test]
    fn notices_naming_each_other_in_a_circle_end() {
        let mut args = Args::new();
        args.insert("decision".into(), "reassigned_sla".into());
        let text = notice_text("reassigned_sla", &args).expect("known code");
        assert!(text.starts_with("SLA breached: SLA breached: "), "{text}");
        assert!(text.ends_with("reassigned_sla"), "{text}");
    }

    #[test]
    fn the_outer_notice_keeps_its_own_values_over_the_inner_ones() {
        let inner = Notice::new("route_fallback")
            .with("person", "Inner")
            .with("queue", "q");
        let n = Notice::new("new_lead_assigned")
            .with("person", "Outer")
            .with("lead", 1)
            .naming("decision", &inner);
        assert_eq!(n.args["person"], "Outer");
        assert_eq!(n.args["queue"], "q");
        assert_eq!(n.args["decision"], "route_fallback");
    }
}
