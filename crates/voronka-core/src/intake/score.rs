//! Scoring and qualification from the submission's own content.

use super::Normalized;
use crate::model::{Stage, Temperature};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Profile completeness and intent points.
    pub points: i64,
    pub temperature: Temperature,
    /// Which signals contributed, for the lead card.
    pub contributions: Vec<(String, i64)>,
}

/// Points for how reachable and specific the request is. An explicit temperature given by
/// the submitter (an API client or an import) wins over the computed one.
pub fn score(n: &Normalized) -> Score {
    let mut contributions: Vec<(String, i64)> = Vec::new();
    let mut add = |what: &str, pts: i64| contributions.push((what.to_string(), pts));
    if n.phones.iter().any(|p| p.valid) {
        add("valid phone", 15);
    }
    if !n.emails.is_empty() {
        add("email", 5);
    }
    if n.company.is_some() {
        add("company", 5);
    }
    if n.position.is_some() {
        add("position", 5);
    }
    if n.product.is_some() {
        add("product named", 10);
    }
    if n.message
        .as_deref()
        .is_some_and(|m| m.chars().count() >= 20)
    {
        add("detailed message", 10);
    }
    if n.value.is_some() {
        add("budget stated", 10);
    }
    if n.form.fit != 0 {
        add("quiz: fit", n.form.fit);
    }
    if n.form.intent != 0 {
        add("quiz: intent", n.form.intent);
    }
    let points = contributions.iter().map(|(_, p)| p).sum();
    // Someone asking to be called back now is the hottest request there is.
    let callback = n.form.kind.as_deref() == Some("callback");
    let temperature = n.temperature.unwrap_or(if callback || points >= 45 {
        Temperature::Hot
    } else if points >= 25 {
        Temperature::Warm
    } else {
        Temperature::Cold
    });
    Score {
        points,
        temperature,
        contributions,
    }
}

/// Every new request starts in `new`; qualification rules move it on later.
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
        let s = score(&normalize(&full, &Default::default()));
        assert_eq!(s.points, 45);
        assert_eq!(s.temperature, Temperature::Hot);
        let bare = Submission::new(Channel::WebForm, 0)
            .with("name", "Ivan")
            .with("email", "ivan@example.com");
        let s = score(&normalize(&bare, &Default::default()));
        assert_eq!(s.temperature, Temperature::Cold);
        let explicit = bare.with("temperature", "hot");
        assert_eq!(
            score(&normalize(&explicit, &Default::default())).temperature,
            Temperature::Hot
        );
    }
}
