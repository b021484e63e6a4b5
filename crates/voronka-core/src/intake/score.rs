//! The score step: the submission's profile through the scoring rules (see [`crate::scoring`]).
//! Behaviour comes later (events stitched in the intake transaction, or arriving afterwards).

use super::Normalized;
use crate::model::{Millis, Stage, Temperature};
use crate::scoring::{profile_of, Activity, FitLevel, Profile, Scorer};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Fit plus engagement.
    pub points: i64,
    pub fit: i64,
    pub engagement: i64,
    pub fit_level: FitLevel,
    pub activity: Activity,
    pub temperature: Temperature,
    /// Which rules contributed, for the lead card.
    pub contributions: Vec<(String, i64)>,
    /// What the rules read: kept on the lead, so rescoring needs no submission.
    pub profile: Profile,
}

/// Scores a submission with the rules. An explicit temperature given by the submitter (an API
/// client or an import) wins over the computed one; a callback request is hot.
pub fn score(n: &Normalized, scorer: &Scorer, now: Millis) -> Score {
    let profile = profile_of(n);
    let callback = n.form.kind.as_deref() == Some("callback");
    let s = scorer.score(&profile, &[], callback, now);
    Score {
        points: s.total,
        fit: s.fit,
        engagement: s.engagement,
        fit_level: s.fit_level,
        activity: s.activity,
        temperature: n.temperature.unwrap_or(s.temperature),
        contributions: s
            .contributions
            .into_iter()
            .map(|c| (c.rule, c.points))
            .collect(),
        profile,
    }
}

/// Every new request starts in `new`; the scoring rules move it on afterwards, with history.
pub fn qualify(_n: &Normalized, _score: &Score) -> Stage {
    Stage::New
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::{normalize, Submission};
    use crate::model::Channel;

    #[test]
    fn complete_request_is_hot_bare_one_is_cold() {
        let full = Submission::new(Channel::WebForm, 0)
            .with("name", "Ivan")
            .with("phone", "+79161234567")
            .with("email", "ivan@example.com")
            .with("company", "ACME")
            .with("product", "CRM")
            .with("message", "We need 40 seats by March, please call");
        let s = score(
            &normalize(&full, &Default::default()),
            &Scorer::default(),
            0,
        );
        assert_eq!(s.points, 45);
        assert_eq!(s.temperature, Temperature::Hot);
        let bare = Submission::new(Channel::WebForm, 0)
            .with("name", "Ivan")
            .with("email", "ivan@example.com");
        let s = score(
            &normalize(&bare, &Default::default()),
            &Scorer::default(),
            0,
        );
        assert_eq!(s.temperature, Temperature::Cold);
        let explicit = bare.with("temperature", "hot");
        assert_eq!(
            score(
                &normalize(&explicit, &Default::default()),
                &Scorer::default(),
                0
            )
            .temperature,
            Temperature::Hot
        );
    }
}
