//! Tasks the system makes (the next step after a call's outcome, a call to a revived lead) keep
//! a code for their title, and the title is made from it where it is shown, so that it can be
//! translated. A person's own task keeps the title they wrote.

/// A task the system makes, by what it asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemTask {
    /// The call was not answered: call again.
    CallAgain,
    /// The person asked to be called back at an agreed time.
    CallBack,
    /// The number was wrong: write instead.
    WriteInstead,
    /// The person was reached: send the offer.
    SendOffer,
    /// A refused lead's freeze date passed: call it.
    CallRevived,
}

impl SystemTask {
    pub fn code(self) -> &'static str {
        match self {
            SystemTask::CallAgain => "call_again",
            SystemTask::CallBack => "call_back",
            SystemTask::WriteInstead => "write_instead",
            SystemTask::SendOffer => "send_offer",
            SystemTask::CallRevived => "call_revived",
        }
    }

    /// The title, as [`task_title`] makes it from the code.
    pub fn title(self) -> &'static str {
        task_title(self.code()).unwrap_or("")
    }
}

/// The title of a task the system made, from its code; `None` for a code this catalog does not
/// know.
pub fn task_title(code: &str) -> Option<&'static str> {
    Some(match code {
        "call_again" => "Call again",
        "call_back" => "Call back as agreed",
        "write_instead" => "Wrong number: write instead",
        "send_offer" => "Send the offer",
        "call_revived" => "Call the revived lead",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_system_task_has_a_code_and_a_title() {
        let all = [
            SystemTask::CallAgain,
            SystemTask::CallBack,
            SystemTask::WriteInstead,
            SystemTask::SendOffer,
            SystemTask::CallRevived,
        ];
        let mut codes = std::collections::HashSet::new();
        for t in all {
            assert!(codes.insert(t.code()), "{t:?}");
            assert!(!t.title().is_empty(), "{t:?}");
            assert_eq!(task_title(t.code()), Some(t.title()));
        }
        assert_eq!(task_title("made_up"), None);
    }
}
