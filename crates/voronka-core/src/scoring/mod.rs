//! Rule-based scoring: explicit (profile) points give a lead's **fit**, implicit (behaviour)
//! points give its **engagement**; engagement fades with a half-life. Both place the lead in the
//! fit × activity matrix, set its temperature and may move it to MQL or SQL.
//!
//! Rules are data ([`Rules`], read from and written to TOML or JSON); [`Scorer::score`] is a
//! pure function of the rules, the lead's profile, its events and the time.

mod rules;
#[cfg(test)]
mod tests;

pub use rules::{
    BehaviourRule, Levels, ProfileRule, Qualify, Rules, RulesError, TemperatureBands, POINTS_LIMIT,
};

use crate::intake::Normalized;
use crate::model::{Id, Millis, Stage, Temperature};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DAY_MS: i64 = 86_400_000;

/// Profile fields the quiz fills: its answer points count toward fit and engagement as they are.
pub const QUIZ_FIT: &str = "quiz_fit";
pub const QUIZ_INTENT: &str = "quiz_intent";

/// Event names the tracker and the API know; any other name is a custom event.
pub const STANDARD_EVENTS: &[&str] = &[
    "page_view",
    "view_catalog",
    "view_product",
    "view_pricing",
    "view_delivery_terms",
    "add_to_cart",
    "cart_abandoned",
    "click_social",
    "subscribe_newsletter",
    "unsubscribe",
    "download",
    "webinar_registered",
    "chat_started",
    "email_open",
    "email_click_product",
    "email_click_ad",
    "email_click_other",
    "email_no_reaction",
];

/// A lead's profile: the latest value of each field it was submitted with, plus derived facts
/// (`phone_valid`, `message_length` …). Keys are lower-case field names.
pub type Profile = BTreeMap<String, String>;

/// The profile's keys that voronka fills from what it read and checked, never from a custom field
/// of the same name.
pub const DERIVED: &[&str] = &[
    "name",
    "company",
    "position",
    "country",
    "language",
    "product",
    "source",
    "medium",
    "campaign",
    "kind",
    "email",
    "email_domain",
    "phone",
    "phone_valid",
    "message_length",
    "value",
    QUIZ_FIT,
    QUIZ_INTENT,
];

/// The profile one submission gives.
pub fn profile_of(n: &Normalized) -> Profile {
    let mut p = Profile::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v.map(str::trim).filter(|v| !v.is_empty()) {
            p.insert(k.to_string(), v.to_string());
        }
    };
    for (k, v) in &n.custom {
        // An import keeps unknown columns as `x_<header>`; rules name the field itself.
        let k = k.trim().to_lowercase();
        let k = k.strip_prefix("x_").unwrap_or(&k);
        // The facts voronka derives are its own: a submitted `quiz_fit` or `phone_valid` is not
        // a quiz answered or a phone checked.
        if !DERIVED.contains(&k) {
            put(k, Some(v));
        }
    }
    put("name", n.full_name.as_deref());
    put("company", n.company.as_deref());
    put("position", n.position.as_deref());
    put("country", n.country.as_deref());
    put("language", n.language.as_deref());
    put("product", n.product.as_deref());
    put("source", n.attribution.utm_source.as_deref());
    put("medium", n.attribution.utm_medium.as_deref());
    put("campaign", n.attribution.utm_campaign.as_deref());
    put("kind", n.form.kind.as_deref());
    if let Some(e) = n.emails.first() {
        put("email", Some(&e.normalized));
        put(
            "email_domain",
            e.normalized.rsplit_once('@').map(|(_, d)| d),
        );
    }
    if let Some(ph) = n.phones.iter().find_map(|p| p.e164.as_deref()) {
        put("phone", Some(ph));
    }
    if n.phones.iter().any(|p| p.valid) {
        put("phone_valid", Some("true"));
    }
    if let Some(m) = &n.message {
        put("message_length", Some(&m.chars().count().to_string()));
    }
    if let Some(v) = &n.value {
        put("value", Some(&(v.minor as f64 / 100.0).to_string()));
    }
    if n.form.fit != 0 {
        put(QUIZ_FIT, Some(&n.form.fit.to_string()));
    }
    if n.form.intent != 0 {
        put(QUIZ_INTENT, Some(&n.form.intent.to_string()));
    }
    p
}

/// Folds a newer profile into the lead's: newer values win. A submission's profile never holds
/// an empty value, so nothing it lacks is forgotten; a correction's empty value (see
/// [`correction`]) removes what the lead's profile said of that field.
pub fn merge_profile(into: &mut Profile, newer: &Profile) {
    for (k, v) in newer {
        if v.is_empty() {
            into.remove(k);
        } else {
            into.insert(k.clone(), v.clone());
        }
    }
}

/// The profile fields a contact's correction speaks for (its name, company, position, country,
/// language, phones and emails, and what is derived from them).
pub const CONTACT_FIELDS: &[&str] = &[
    "name",
    "company",
    "position",
    "country",
    "language",
    "email",
    "email_domain",
    "phone",
    "phone_valid",
];

/// The profile fields a correction of a lead's request speaks for.
pub const REQUEST_FIELDS: &[&str] = &["product", "value"];

/// What a correction says of `fields`: each one's value as [`profile_of`] reads it from `n`, and
/// an empty value for each that `n` no longer has, so that [`merge_profile`] removes it.
pub fn correction(n: &Normalized, fields: &[&str]) -> Profile {
    let mut read = profile_of(n);
    fields
        .iter()
        .map(|f| (f.to_string(), read.remove(*f).unwrap_or_default()))
        .collect()
}

/// One behaviour event as the scorer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub id: Id,
    pub name: String,
    pub at: Millis,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FitLevel {
    Stranger,
    Unsuitable,
    Suitable,
    VerySuitable,
}

impl FitLevel {
    pub const ALL: [FitLevel; 4] = [
        FitLevel::Stranger,
        FitLevel::Unsuitable,
        FitLevel::Suitable,
        FitLevel::VerySuitable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FitLevel::Stranger => "stranger",
            FitLevel::Unsuitable => "unsuitable",
            FitLevel::Suitable => "suitable",
            FitLevel::VerySuitable => "very_suitable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }

    fn index(self) -> usize {
        self as usize
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Inactive,
    LessActive,
    Active,
    VeryActive,
}

impl Activity {
    pub const ALL: [Activity; 4] = [
        Activity::Inactive,
        Activity::LessActive,
        Activity::Active,
        Activity::VeryActive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Activity::Inactive => "inactive",
            Activity::LessActive => "less_active",
            Activity::Active => "active",
            Activity::VeryActive => "very_active",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str() == s.trim())
    }

    fn index(self) -> usize {
        self as usize
    }
}

fn level_index(value: i64, thresholds: &[i64; 3]) -> usize {
    thresholds.iter().take_while(|t| value >= **t).count()
}

/// What produced a contribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Fit,
    Engagement,
}

/// One line of a score's explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    pub part: Part,
    pub rule: String,
    /// The profile field or the event the rule matched.
    pub matched: String,
    pub event_id: Option<Id>,
    pub at: Option<Millis>,
    /// Points the rule gives.
    pub points: i64,
    /// Points after decay (engagement) — what counts now.
    pub effective: f64,
}

/// A lead's score at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadScore {
    pub fit: i64,
    pub engagement: i64,
    pub total: i64,
    pub fit_level: FitLevel,
    pub activity: Activity,
    pub temperature: Temperature,
    pub contributions: Vec<Contribution>,
}

/// An automatic stage move and the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageMove {
    pub to: Stage,
    pub rule: String,
}

/// Rules made ready to apply.
#[derive(Debug, Clone)]
pub struct Scorer {
    rules: Rules,
    /// Lower-cased profile rule values, in rule order.
    profile: Vec<rules::CompiledProfile>,
}

impl Default for Scorer {
    fn default() -> Self {
        Scorer::new(Rules::default())
    }
}

impl Scorer {
    pub fn new(rules: Rules) -> Scorer {
        let profile = rules
            .profile
            .iter()
            .map(rules::CompiledProfile::new)
            .collect();
        Scorer { rules, profile }
    }

    pub fn rules(&self) -> &Rules {
        &self.rules
    }

    /// The score of a lead with this profile and these events at `now`. `callback` leads are hot
    /// whatever their points: someone asking to be called now is the hottest request there is.
    pub fn score(
        &self,
        profile: &Profile,
        events: &[Event],
        callback: bool,
        now: Millis,
    ) -> LeadScore {
        let mut contributions = Vec::new();
        let mut groups = std::collections::HashSet::new();
        for (rule, compiled) in self.rules.profile.iter().zip(&self.profile) {
            if let Some(value) = profile.get(&compiled.field) {
                let first_of_group =
                    |groups: &mut std::collections::HashSet<String>| match &rule.group {
                        Some(g) => groups.insert(g.trim().to_lowercase()),
                        None => true,
                    };
                if compiled.matches(value) && first_of_group(&mut groups) {
                    contributions.push(Contribution {
                        part: Part::Fit,
                        rule: rule.name.clone(),
                        matched: format!("{} = {}", rule.field, value),
                        event_id: None,
                        at: None,
                        points: rule.points,
                        effective: rule.points as f64,
                    });
                }
            }
        }
        for (field, part, rule) in [
            (QUIZ_FIT, Part::Fit, "quiz: fit"),
            (QUIZ_INTENT, Part::Engagement, "quiz: intent"),
        ] {
            // A quiz's points are points like a rule's, held to the same range.
            let quiz = profile.get(field).and_then(|v| v.parse::<i64>().ok());
            if let Some(points) = quiz.map(|p| p.clamp(-POINTS_LIMIT, POINTS_LIMIT)) {
                contributions.push(Contribution {
                    part,
                    rule: rule.to_string(),
                    matched: format!("{field} = {points}"),
                    event_id: None,
                    at: None,
                    points,
                    effective: points as f64,
                });
            }
        }
        self.behaviour(events, now, &mut contributions);
        // Saturating: rules stored before the points were limited still give a number that
        // orders leads as their points do, never one wrapped around to the other end.
        let fit = contributions
            .iter()
            .filter(|c| c.part == Part::Fit)
            .fold(0i64, |sum, c| sum.saturating_add(c.points));
        let engagement = contributions
            .iter()
            .filter(|c| c.part == Part::Engagement)
            .map(|c| c.effective)
            .sum::<f64>()
            .round() as i64;
        let total = fit.saturating_add(engagement);
        let bands = &self.rules.temperature;
        let temperature = if callback || total >= bands.hot {
            Temperature::Hot
        } else if total >= bands.warm {
            Temperature::Warm
        } else {
            Temperature::Cold
        };
        LeadScore {
            fit,
            engagement,
            total,
            fit_level: FitLevel::ALL[level_index(fit, &self.rules.levels.fit)],
            activity: Activity::ALL[level_index(engagement, &self.rules.levels.activity)],
            temperature,
            contributions,
        }
    }

    fn decay(&self, at: Millis, now: Millis) -> f64 {
        let half_life = self.rules.half_life_days * DAY_MS as f64;
        if half_life <= 0.0 || at >= now {
            return 1.0;
        }
        0.5f64.powf(now.saturating_sub(at) as f64 / half_life)
    }

    fn behaviour(&self, events: &[Event], now: Millis, out: &mut Vec<Contribution>) {
        // Newest first: a capped or once-only rule keeps its most recent events, which have
        // faded the least.
        let mut order: Vec<&Event> = events.iter().collect();
        order.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        for rule in &self.rules.behaviour {
            let since = rule
                .within_days
                .map(|d| now.saturating_sub((d * DAY_MS as f64) as i64));
            let mut counted: i64 = 0;
            for e in order.iter().filter(|e| rule.matches(e)) {
                if since.is_some_and(|s| e.at < s) {
                    break;
                }
                let mut points = rule.points;
                if let Some(cap) = rule.cap {
                    let room = cap
                        .saturating_abs()
                        .saturating_sub(counted.saturating_abs());
                    if room <= 0 {
                        break;
                    }
                    if points.saturating_abs() > room {
                        points = room * points.signum();
                    }
                }
                counted = counted.saturating_add(points);
                let factor = if rule.decays {
                    self.decay(e.at, now)
                } else {
                    1.0
                };
                out.push(Contribution {
                    part: Part::Engagement,
                    rule: rule.name.clone(),
                    matched: e.name.clone(),
                    event_id: Some(e.id),
                    at: Some(e.at),
                    points,
                    effective: points as f64 * factor,
                });
                if rule.once {
                    break;
                }
            }
        }
    }

    /// The stage moves the score makes from `current`: new → MQL when fit and engagement pass
    /// their thresholds, or the probability of conversion (`conversion`, the model's, when the
    /// lead has one) passes the MQL one; MQL → SQL when engagement or the probability passes its
    /// SQL threshold or a qualifying event arrived. Leads in any other stage are left to people.
    pub fn stage_moves(
        &self,
        current: Stage,
        fit: i64,
        engagement: i64,
        conversion: Option<f64>,
        events: &[Event],
    ) -> Vec<StageMove> {
        let q = &self.rules.qualify;
        let mut moves = Vec::new();
        let mut stage = current;
        // The probability as the rule's text shows it, in whole percent.
        let percent = |p: f64| format!("{:.0} %", p * 100.0);
        let by_conversion = |threshold: Option<f64>, to: &str| {
            threshold
                .zip(conversion)
                .filter(|(t, p)| p >= t)
                .map(|(t, p)| format!("{to}: predicted conversion {} ≥ {}", percent(p), percent(t)))
        };
        if stage == Stage::New && q.mql_enabled() {
            let by_points = (fit >= q.mql_fit && engagement >= q.mql_engagement).then(|| {
                format!(
                    "MQL: fit {} ≥ {} and engagement {} ≥ {}",
                    fit, q.mql_fit, engagement, q.mql_engagement
                )
            });
            if let Some(rule) = by_points.or_else(|| by_conversion(q.mql_conversion, "MQL")) {
                moves.push(StageMove {
                    to: Stage::Mql,
                    rule,
                });
                stage = Stage::Mql;
            }
        }
        if stage == Stage::Mql {
            let by_points = q
                .sql_engagement
                .filter(|t| engagement >= *t)
                .map(|t| format!("SQL: engagement {} ≥ {}", engagement, t))
                .or_else(|| by_conversion(q.sql_conversion, "SQL"));
            let by_event = || {
                events
                    .iter()
                    .find(|e| q.sql_events.iter().any(|n| n == &e.name))
                    .map(|e| format!("SQL: event {}", e.name))
            };
            if let Some(rule) = by_points.or_else(by_event) {
                moves.push(StageMove {
                    to: Stage::Sql,
                    rule,
                });
            }
        }
        moves
    }
}

/// Counts of leads per fit level × activity cell, fit rows from very suitable down.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    /// `cells[fit][activity]`, indexed as in [`FitLevel::ALL`] and [`Activity::ALL`].
    pub cells: [[i64; 4]; 4],
}

impl Matrix {
    pub fn add(&mut self, fit: FitLevel, activity: Activity, n: i64) {
        self.cells[fit.index()][activity.index()] += n;
    }

    pub fn get(&self, fit: FitLevel, activity: Activity) -> i64 {
        self.cells[fit.index()][activity.index()]
    }

    pub fn total(&self) -> i64 {
        self.cells.iter().flatten().sum()
    }
}
