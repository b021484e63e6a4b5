//! Scoring rules as data: what they are, their defaults and their checks.

use super::Event;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The most points (either way) a rule, a cap or a threshold may name. Far above what any rule
/// set needs, and low enough that a lead's fit, engagement and total stay exact sums.
pub const POINTS_LIMIT: i64 = 1_000_000;

/// The whole rule set: profile rules (fit), behaviour rules (engagement), decay, levels,
/// temperature bands and qualification thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Engagement points lose half their weight every this many days; 0 turns decay off.
    #[serde(default = "default_half_life")]
    pub half_life_days: f64,
    #[serde(default)]
    pub levels: Levels,
    #[serde(default)]
    pub temperature: TemperatureBands,
    #[serde(default)]
    pub qualify: Qualify,
    #[serde(default)]
    pub profile: Vec<ProfileRule>,
    #[serde(default)]
    pub behaviour: Vec<BehaviourRule>,
}

fn default_half_life() -> f64 {
    30.0
}

/// Where the levels of the fit × activity matrix begin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    /// Fit from which a lead is unsuitable, suitable, very suitable (below the first: stranger).
    pub fit: [i64; 3],
    /// Engagement from which a lead is less active, active, very active (below: inactive).
    pub activity: [i64; 3],
}

impl Default for Levels {
    fn default() -> Self {
        Levels {
            fit: [10, 25, 45],
            activity: [10, 30, 60],
        }
    }
}

/// Total points (fit + engagement) from which a lead is warm and hot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemperatureBands {
    pub warm: i64,
    pub hot: i64,
}

impl Default for TemperatureBands {
    fn default() -> Self {
        TemperatureBands { warm: 25, hot: 45 }
    }
}

/// Automatic stage moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Qualify {
    /// A new lead becomes an MQL when its fit and its engagement both reach these …
    pub mql_fit: i64,
    pub mql_engagement: i64,
    /// … or when the conversion model's probability for it reaches this (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mql_conversion: Option<f64>,
    /// An MQL becomes an SQL when its engagement reaches this …
    #[serde(default)]
    pub sql_engagement: Option<i64>,
    /// … or when its probability of conversion reaches this (0–1) …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_conversion: Option<f64>,
    /// … or when one of these events arrives (sales acceptance is always possible by hand).
    #[serde(default)]
    pub sql_events: Vec<String>,
    /// Turns automatic MQL off.
    #[serde(default)]
    pub manual_only: bool,
}

impl Qualify {
    pub fn mql_enabled(&self) -> bool {
        !self.manual_only
    }

    /// The lowest probability of conversion that moves a lead by itself, when any does: a lead
    /// whose new probability reaches it is rescored to make the move.
    pub fn conversion_threshold(&self) -> Option<f64> {
        let mql = self.mql_conversion.filter(|_| self.mql_enabled());
        match (mql, self.sql_conversion) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Default for Qualify {
    fn default() -> Self {
        Qualify {
            mql_fit: 20,
            mql_engagement: 20,
            mql_conversion: None,
            sql_engagement: Some(100),
            sql_conversion: None,
            sql_events: Vec::new(),
            manual_only: false,
        }
    }
}

/// An explicit rule: a condition on one profile field gives points toward fit. With no
/// condition the rule matches any non-empty value. Within a `group` only the first matching rule
/// counts (bands such as company size 1–20 / 21–100 / 101+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileRule {
    pub name: String,
    pub field: String,
    pub points: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The value equals one of these (case and spacing ignored).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_of: Vec<String>,
    /// The value contains one of these words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contains: Vec<String>,
    /// The value neither equals nor contains any of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub none_of: Vec<String>,
    /// Numeric bounds on the value's first number ("21–100" reads as 21).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// An implicit rule: each matching event gives points toward engagement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BehaviourRule {
    pub name: String,
    pub event: String,
    pub points: i64,
    /// Property conditions: the event's property equals this value (case ignored); `*` means
    /// present.
    #[serde(default, rename = "where", skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    /// The page address contains this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_contains: Option<String>,
    /// The event's `count` property is at least this (e.g. no reaction to 5+ emails).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_count: Option<i64>,
    /// Most points this rule gives one lead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<i64>,
    /// Counts one event only (the latest).
    #[serde(default)]
    pub once: bool,
    /// Only events of the last this many days count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<f64>,
    /// Whether the points fade with the half-life.
    #[serde(default = "yes")]
    pub decays: bool,
}

fn yes() -> bool {
    true
}

impl BehaviourRule {
    pub(super) fn matches(&self, e: &Event) -> bool {
        if e.name != self.event {
            return false;
        }
        if let Some(part) = &self.url_contains {
            let part = part.to_lowercase();
            if !e
                .url
                .as_deref()
                .is_some_and(|u| u.to_lowercase().contains(&part))
            {
                return false;
            }
        }
        if let Some(min) = self.min_count {
            let count = e.properties.get("count").and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            });
            if count.is_none_or(|c| c < min) {
                return false;
            }
        }
        self.properties.iter().all(|(k, want)| {
            let Some(v) = e.properties.get(k) else {
                return false;
            };
            if want == "*" {
                return !v.is_null();
            }
            let got = match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            fold(&got) == fold(want)
        })
    }
}

fn fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfkc()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The first number in a value: "21–100" → 21, "101+" → 101, "1 500" → 1500.
fn first_number(s: &str) -> Option<f64> {
    let mut digits = String::new();
    let mut started = false;
    for c in s.chars() {
        if c.is_ascii_digit() || (started && (c == '.' || c == ',')) {
            digits.push(if c == ',' { '.' } else { c });
            started = true;
        } else if started && (c == ' ' || c == '\u{a0}') {
            continue;
        } else if started {
            break;
        }
    }
    digits.trim_end_matches('.').parse().ok()
}

/// A profile rule with its words folded once.
#[derive(Debug, Clone)]
pub(super) struct CompiledProfile {
    pub field: String,
    any_of: Vec<String>,
    contains: Vec<String>,
    none_of: Vec<String>,
    min: Option<f64>,
    max: Option<f64>,
}

impl CompiledProfile {
    pub fn new(r: &ProfileRule) -> Self {
        let f = |v: &Vec<String>| v.iter().map(|s| fold(s)).collect();
        CompiledProfile {
            field: r.field.trim().to_lowercase(),
            any_of: f(&r.any_of),
            contains: f(&r.contains),
            none_of: f(&r.none_of),
            min: r.min,
            max: r.max,
        }
    }

    pub fn matches(&self, value: &str) -> bool {
        let v = fold(value);
        if v.is_empty() {
            return false;
        }
        if !self.any_of.is_empty() && !self.any_of.contains(&v) {
            return false;
        }
        if !self.contains.is_empty() && !self.contains.iter().any(|w| contains_word(&v, w)) {
            return false;
        }
        if self.none_of.iter().any(|w| v == *w || contains_word(&v, w)) {
            return false;
        }
        if self.min.is_some() || self.max.is_some() {
            let Some(n) = first_number(&v) else {
                return false;
            };
            if self.min.is_some_and(|m| n < m) || self.max.is_some_and(|m| n > m) {
                return false;
            }
        }
        true
    }
}

/// Whether `word` occurs in `text` at word starts ("head of sales" contains "head"; "ahead"
/// does not).
fn contains_word(text: &str, word: &str) -> bool {
    text.match_indices(word).any(|(i, _)| {
        i == 0
            || !text[..i]
                .chars()
                .next_back()
                .is_some_and(char::is_alphanumeric)
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read the scoring rules: {0}")]
    Parse(String),
    #[error("scoring rule {0}: the name is empty")]
    EmptyName(usize),
    #[error("two scoring rules are named {0:?}")]
    DuplicateName(String),
    #[error("scoring rule {0:?}: the field is empty")]
    EmptyField(String),
    #[error("scoring rule {0:?}: the event is empty")]
    EmptyEvent(String),
    #[error("scoring rule {0:?}: min is above max")]
    Band(String),
    #[error("the {0} thresholds must rise")]
    Thresholds(&'static str),
    #[error("the half-life must be zero (no decay) or positive")]
    HalfLife,
    /// A qualification threshold on the probability of conversion outside 0–1.
    #[error("{0}: a probability of conversion is from 0 to 1")]
    Probability(&'static str),
    /// A rule's points or cap, or a threshold (named by its setting), outside ±[`POINTS_LIMIT`].
    #[error("{0:?}: points must be from {min} to {max}", min = -POINTS_LIMIT, max = POINTS_LIMIT)]
    Points(String),
}

impl Default for Rules {
    fn default() -> Self {
        Rules::preset("b2b").expect("the B2B preset is valid")
    }
}

const B2B: &str = include_str!("b2b.toml");
const B2C: &str = include_str!("b2c.toml");

impl Rules {
    /// Names of the shipped rule sets.
    pub const PRESETS: [&'static str; 2] = ["b2b", "b2c"];

    /// A shipped rule set: `b2b` (company size, department, seniority) or `b2c` (income, age,
    /// region, interest); both with contact-data, site and email behaviour rules.
    pub fn preset(name: &str) -> Option<Rules> {
        let text = match name {
            "b2b" => B2B,
            "b2c" => B2C,
            _ => return None,
        };
        Some(Rules::from_toml(text).expect("shipped presets are valid"))
    }

    pub fn from_json(s: &str) -> Result<Self, RulesError> {
        let r: Rules = serde_json::from_str(s).map_err(|e| RulesError::Parse(e.to_string()))?;
        r.check()?;
        Ok(r)
    }

    pub fn from_toml(s: &str) -> Result<Self, RulesError> {
        let r: Rules = toml::from_str(s).map_err(|e| RulesError::Parse(e.to_string()))?;
        r.check()?;
        Ok(r)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads rules saved earlier. They are checked as new rules are, except for the range of
    /// points: rules saved before it was checked stay in force as they were saved (the scorer
    /// saturates their sums), instead of being dropped for the defaults.
    pub fn from_stored_json(s: &str) -> Result<Self, RulesError> {
        let r: Rules = serde_json::from_str(s).map_err(|e| RulesError::Parse(e.to_string()))?;
        r.check_shape()?;
        Ok(r)
    }

    pub fn check(&self) -> Result<(), RulesError> {
        self.check_shape()?;
        self.check_points()
    }

    /// Everything but the range of points: names, fields, events, bands, rising thresholds and
    /// the half-life.
    fn check_shape(&self) -> Result<(), RulesError> {
        let mut seen = std::collections::HashSet::new();
        let names = self
            .profile
            .iter()
            .map(|r| &r.name)
            .chain(self.behaviour.iter().map(|r| &r.name));
        for (i, name) in names.enumerate() {
            if name.trim().is_empty() {
                return Err(RulesError::EmptyName(i + 1));
            }
            if !seen.insert(name.trim().to_lowercase()) {
                return Err(RulesError::DuplicateName(name.clone()));
            }
        }
        for r in &self.profile {
            if r.field.trim().is_empty() {
                return Err(RulesError::EmptyField(r.name.clone()));
            }
            if let (Some(lo), Some(hi)) = (r.min, r.max) {
                if lo > hi {
                    return Err(RulesError::Band(r.name.clone()));
                }
            }
        }
        for r in &self.behaviour {
            if r.event.trim().is_empty() {
                return Err(RulesError::EmptyEvent(r.name.clone()));
            }
        }
        let rising = |t: &[i64; 3]| t[0] <= t[1] && t[1] <= t[2];
        if !rising(&self.levels.fit) {
            return Err(RulesError::Thresholds("fit level"));
        }
        if !rising(&self.levels.activity) {
            return Err(RulesError::Thresholds("activity level"));
        }
        if self.temperature.warm > self.temperature.hot {
            return Err(RulesError::Thresholds("temperature"));
        }
        if !(self.half_life_days >= 0.0 && self.half_life_days.is_finite()) {
            return Err(RulesError::HalfLife);
        }
        for (name, p) in [
            ("qualify.mql_conversion", self.qualify.mql_conversion),
            ("qualify.sql_conversion", self.qualify.sql_conversion),
        ] {
            if p.is_some_and(|p| !(0.0..=1.0).contains(&p)) {
                return Err(RulesError::Probability(name));
            }
        }
        Ok(())
    }

    /// Every rule's points and cap, and every threshold, within ±[`POINTS_LIMIT`].
    fn check_points(&self) -> Result<(), RulesError> {
        let in_range = |p: i64| (-POINTS_LIMIT..=POINTS_LIMIT).contains(&p);
        for r in &self.profile {
            if !in_range(r.points) {
                return Err(RulesError::Points(r.name.clone()));
            }
        }
        for r in &self.behaviour {
            if !in_range(r.points) || r.cap.is_some_and(|c| !in_range(c)) {
                return Err(RulesError::Points(r.name.clone()));
            }
        }
        let q = &self.qualify;
        let thresholds: [(&str, &[i64]); 7] = [
            ("levels.fit", self.levels.fit.as_slice()),
            ("levels.activity", self.levels.activity.as_slice()),
            ("temperature.warm", &[self.temperature.warm]),
            ("temperature.hot", &[self.temperature.hot]),
            ("qualify.mql_fit", &[q.mql_fit]),
            ("qualify.mql_engagement", &[q.mql_engagement]),
            ("qualify.sql_engagement", q.sql_engagement.as_slice()),
        ];
        for (setting, values) in thresholds {
            if !values.iter().all(|v| in_range(*v)) {
                return Err(RulesError::Points(setting.to_string()));
            }
        }
        Ok(())
    }
}
