//! Lead routing: who works a lead, decided by rules that are data.
//!
//! Rules are evaluated in order; the first rule whose conditions hold and that finds somebody
//! available decides. A rule names a team and/or people and a method (weighted round robin,
//! least open load, sticky owner, account owner). A person is available when active, not away,
//! inside their working hours (in their own time zone) and under their daily and 30-day
//! capacity. When no rule finds anybody, the fallback queue takes the lead.
//!
//! Everything here is pure: storage supplies the people with their counts and the round-robin
//! counters, the caller supplies the clock.

use crate::model::{Id, Millis, Temperature};
use crate::notice::Notice;
use chrono::{Datelike, TimeZone, Timelike};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub use chrono_tz::Tz;
use std::fmt;

/// The routing rules document (stored in `settings`, edited as JSON or TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRules {
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub fallback: Fallback,
}

impl RoutingRules {
    /// Whether an enabled rule routes by least open load, whose tie-break reads how many leads
    /// each person was given in the last 24 hours.
    pub fn uses_least_load(&self) -> bool {
        self.rules
            .iter()
            .any(|r| r.enabled && r.method == Method::LeastLoad)
    }
}

impl Default for RoutingRules {
    /// Existing customers go to their account owner; everybody else round robin over all
    /// salespeople.
    fn default() -> Self {
        RoutingRules {
            rules: vec![
                Rule {
                    name: "Existing customers".into(),
                    enabled: true,
                    when: Conditions {
                        existing_customer: Some(true),
                        ..Conditions::default()
                    },
                    team: None,
                    people: Vec::new(),
                    method: Method::AccountOwner,
                },
                Rule {
                    name: "Everyone".into(),
                    enabled: true,
                    when: Conditions::default(),
                    team: None,
                    people: Vec::new(),
                    method: Method::StickyOwner,
                },
            ],
            fallback: Fallback::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub when: Conditions,
    /// A team by name: its members are the rule's people (besides any listed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// People by email. With neither team nor people, the rule covers every salesperson.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<String>,
    #[serde(default)]
    pub method: Method,
}

fn yes() -> bool {
    true
}

/// Conditions of a rule; an empty list means "any". Text compares without regard to case.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub countries: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cities: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub products: Vec<String>,
    /// Lead source (utm_source) or channel.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partners: Vec<String>,
    /// Form ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub forms: Vec<Id>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub temperatures: Vec<Temperature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_min: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_max: Option<i64>,
    /// `true`: only contacts that are already customers; `false`: only those that are not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub existing_customer: Option<bool>,
    /// Lowest predicted probability of conversion (0–1). A lead without a prediction (no model
    /// trained yet) does not match a rule that names a bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion_min: Option<f64>,
    /// Highest predicted probability of conversion (0–1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversion_max: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Turns in order; a person of weight 3 takes three turns per cycle.
    #[default]
    RoundRobin,
    /// The available person with the fewest open leads (per unit of weight).
    LeastLoad,
    /// The contact's previous owner when available, else round robin.
    StickyOwner,
    /// The owner of the customer's account; the rule is skipped when that person is unavailable.
    AccountOwner,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::RoundRobin => "round robin",
            Method::LeastLoad => "least open load",
            Method::StickyOwner => "sticky owner",
            Method::AccountOwner => "account owner",
        }
    }
}

/// Where a lead goes when no rule finds anybody.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    /// Name of the queue shown on the lead (the lead stays unassigned).
    #[serde(default = "default_queue")]
    pub queue: String,
    /// People (by email) who take such leads in turn, ignoring hours and capacity but not
    /// absence. Empty: the lead waits unassigned in the queue.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<String>,
}

fn default_queue() -> String {
    "unassigned".into()
}

impl Default for Fallback {
    fn default() -> Self {
        Fallback {
            queue: default_queue(),
            people: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read the rules: {0}")]
    Parse(String),
    #[error("rule {0}: the name is empty")]
    EmptyName(usize),
    #[error("two rules are named {0:?}")]
    DuplicateName(String),
    #[error("rule {0:?}: score_min is above score_max")]
    ScoreBand(String),
    #[error("rule {0:?}: a conversion bound is a probability from 0 to 1, and conversion_min is at most conversion_max")]
    ConversionBand(String),
}

impl RoutingRules {
    pub fn from_json(s: &str) -> Result<Self, RulesError> {
        let r: RoutingRules =
            serde_json::from_str(s).map_err(|e| RulesError::Parse(e.to_string()))?;
        r.check()?;
        Ok(r)
    }

    pub fn from_toml(s: &str) -> Result<Self, RulesError> {
        let r: RoutingRules = toml::from_str(s).map_err(|e| RulesError::Parse(e.to_string()))?;
        r.check()?;
        Ok(r)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    pub fn check(&self) -> Result<(), RulesError> {
        let mut seen = std::collections::HashSet::new();
        for (i, r) in self.rules.iter().enumerate() {
            if r.name.trim().is_empty() {
                return Err(RulesError::EmptyName(i + 1));
            }
            if !seen.insert(r.name.trim().to_lowercase()) {
                return Err(RulesError::DuplicateName(r.name.clone()));
            }
            if let (Some(lo), Some(hi)) = (r.when.score_min, r.when.score_max) {
                if lo > hi {
                    return Err(RulesError::ScoreBand(r.name.clone()));
                }
            }
            let (lo, hi) = (r.when.conversion_min, r.when.conversion_max);
            let in_range = |p: Option<f64>| p.is_none_or(|p| (0.0..=1.0).contains(&p));
            if !in_range(lo) || !in_range(hi) || lo.zip(hi).is_some_and(|(lo, hi)| lo > hi) {
                return Err(RulesError::ConversionBand(r.name.clone()));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Working hours

/// Weekly working hours: shifts such as `mon-fri 09:00-18:00, sat 10:00-14:00`, read in the
/// person's (or team's) time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkingHours {
    shifts: Vec<Shift>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shift {
    /// Bit 0 = Monday … bit 6 = Sunday.
    days: u8,
    start_min: u16,
    end_min: u16,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl WorkingHours {
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut shifts = Vec::new();
        for part in s.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
            let (days, time) = part.split_once(char::is_whitespace).ok_or_else(|| {
                format!("{part:?}: expected days and hours, like mon-fri 09:00-18:00")
            })?;
            let mut mask = 0u8;
            for d in days.split('+') {
                let day = |x: &str| {
                    DAYS.iter()
                        .position(|n| x.trim().eq_ignore_ascii_case(n))
                        .ok_or_else(|| format!("{x:?} is not a day (mon … sun)"))
                };
                match d.split_once('-') {
                    Some((a, b)) => {
                        let (a, b) = (day(a)?, day(b)?);
                        let mut i = a;
                        loop {
                            mask |= 1 << i;
                            if i == b {
                                break;
                            }
                            i = (i + 1) % 7;
                        }
                    }
                    None => mask |= 1 << day(d)?,
                }
            }
            let (a, b) = time
                .trim()
                .split_once('-')
                .ok_or_else(|| format!("{time:?}: expected hours like 09:00-18:00"))?;
            let (start_min, end_min) = (hhmm(a)?, hhmm(b)?);
            if end_min <= start_min {
                return Err(format!("{part:?}: the shift ends before it starts"));
            }
            shifts.push(Shift {
                days: mask,
                start_min,
                end_min,
            });
        }
        if shifts.is_empty() {
            return Err("no working hours given".into());
        }
        Ok(WorkingHours { shifts })
    }

    /// Whether a local weekday (0 = Monday) and minute of the day fall inside a shift.
    pub fn contains(&self, weekday: u32, minute: u32) -> bool {
        self.shifts.iter().any(|s| {
            s.days & (1 << weekday) != 0
                && minute >= s.start_min as u32
                && minute < s.end_min as u32
        })
    }

    /// Working intervals of a weekday as (start minute, end minute).
    pub fn day_intervals(&self, weekday: u32) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = self
            .shifts
            .iter()
            .filter(|s| s.days & (1 << weekday) != 0)
            .map(|s| (s.start_min as u32, s.end_min as u32))
            .collect();
        v.sort_unstable();
        v
    }
}

fn hhmm(s: &str) -> Result<u16, String> {
    let s = s.trim();
    let (h, m) = s.split_once(':').unwrap_or((s, "0"));
    let h: u16 = h.parse().map_err(|_| format!("{s:?} is not a time"))?;
    let m: u16 = m.parse().map_err(|_| format!("{s:?} is not a time"))?;
    if h > 24 || m > 59 || (h == 24 && m > 0) {
        return Err(format!("{s:?} is not a time"));
    }
    Ok(h * 60 + m)
}

impl fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (k, s) in self.shifts.iter().enumerate() {
            if k > 0 {
                f.write_str(", ")?;
            }
            let days: Vec<&str> = (0..7)
                .filter(|d| s.days & (1 << d) != 0)
                .map(|d| DAYS[d])
                .collect();
            write!(
                f,
                "{} {:02}:{:02}-{:02}:{:02}",
                days.join("+"),
                s.start_min / 60,
                s.start_min % 60,
                s.end_min / 60,
                s.end_min % 60
            )?;
        }
        Ok(())
    }
}

impl Serialize for WorkingHours {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for WorkingHours {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        WorkingHours::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Local weekday (0 = Monday) and minute of the day of an instant in a time zone.
pub fn local_week_minute(tz: chrono_tz::Tz, at: Millis) -> (u32, u32) {
    let t = tz.timestamp_millis_opt(at).single().unwrap_or_else(|| {
        tz.timestamp_millis_opt(0)
            .single()
            .expect("epoch is representable")
    });
    (
        t.weekday().num_days_from_monday(),
        t.hour() * 60 + t.minute(),
    )
}

pub fn parse_tz(s: &str) -> Result<chrono_tz::Tz, String> {
    s.trim()
        .parse::<chrono_tz::Tz>()
        .map_err(|_| format!("{s:?} is not a time zone (like Europe/Moscow)"))
}

/// A wall-clock time in a time zone as milliseconds since the epoch. A time the clocks skip (the
/// hour a summer time starts) is read an hour later; a time they repeat is the first of the two.
pub fn local_time_ms(at: chrono::NaiveDateTime, tz: Tz) -> Option<i64> {
    tz.from_local_datetime(&at)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(at + chrono::Duration::hours(1)))
                .earliest()
        })
        .map(|d| d.timestamp_millis())
}

// ---------------------------------------------------------------------------------------------
// People

/// A person's routing settings, kept beside the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingProfile {
    /// Share of round-robin turns (1 = one turn per cycle).
    #[serde(default = "one")]
    pub weight: u32,
    /// Most leads a day (rolling 24 hours); none = no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_cap: Option<u32>,
    /// Most leads in 30 days (rolling).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_cap: Option<u32>,
    #[serde(default = "default_tz")]
    pub timezone: String,
    /// None: always available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<WorkingHours>,
    /// Away (vacation) from … until; `away_until` alone means away now until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away_from: Option<Millis>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub away_until: Option<Millis>,
    /// Takes no new leads while set (without a date).
    #[serde(default)]
    pub paused: bool,
}

fn one() -> u32 {
    1
}

fn default_tz() -> String {
    "UTC".into()
}

impl Default for RoutingProfile {
    fn default() -> Self {
        RoutingProfile {
            weight: 1,
            daily_cap: None,
            monthly_cap: None,
            timezone: default_tz(),
            hours: None,
            away_from: None,
            away_until: None,
            paused: false,
        }
    }
}

/// What is wrong with a person's routing profile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    #[error("{0:?} is not a time zone (like Europe/Moscow)")]
    TimeZone(String),
    #[error("weight must be between 1 and 100")]
    Weight,
    #[error("away until is before away from")]
    AwayBackwards,
}

impl RoutingProfile {
    pub fn check(&self) -> Result<(), ProfileError> {
        if parse_tz(&self.timezone).is_err() {
            return Err(ProfileError::TimeZone(self.timezone.clone()));
        }
        if self.weight == 0 || self.weight > 100 {
            return Err(ProfileError::Weight);
        }
        if let (Some(a), Some(b)) = (self.away_from, self.away_until) {
            if b < a {
                return Err(ProfileError::AwayBackwards);
            }
        }
        Ok(())
    }

    pub fn away_at(&self, now: Millis) -> bool {
        if self.paused {
            return true;
        }
        match (self.away_from, self.away_until) {
            (Some(a), Some(b)) => now >= a && now < b,
            (Some(a), None) => now >= a,
            (None, Some(b)) => now < b,
            (None, None) => false,
        }
    }
}

/// A salesperson as routing sees them: who, where, settings and current counts.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: Id,
    pub name: String,
    pub email: String,
    pub team: Option<String>,
    pub profile: RoutingProfile,
    /// Leads assigned in the last 24 hours and 30 days, and open leads now.
    pub assigned_day: u32,
    pub assigned_30d: u32,
    pub open_load: u32,
}

impl Person {
    pub fn new(id: Id, name: &str, email: &str) -> Self {
        Person {
            id,
            name: name.into(),
            email: email.into(),
            team: None,
            profile: RoutingProfile::default(),
            assigned_day: 0,
            assigned_30d: 0,
            open_load: 0,
        }
    }
}

/// Why a person could not take a lead now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unavailable {
    Away,
    OffHours,
    DailyCap,
    MonthlyCap,
}

// ---------------------------------------------------------------------------------------------
// Facts and decisions

/// What routing reads about a lead.
#[derive(Debug, Clone, Default)]
pub struct LeadFacts<'a> {
    pub country: Option<&'a str>,
    pub region: Option<&'a str>,
    pub city: Option<&'a str>,
    pub product: Option<&'a str>,
    pub source: Option<&'a str>,
    pub partner: Option<&'a str>,
    pub form_id: Option<Id>,
    pub language: Option<&'a str>,
    pub temperature: Temperature,
    pub score: i64,
    /// Predicted probability of conversion, when a model is trained.
    pub conversion: Option<f64>,
    /// The owner of the contact's customer account, when the contact is a customer.
    pub account_owner: Option<Id>,
    pub existing_customer: bool,
    /// The owner of the contact's most recent other lead.
    pub previous_owner: Option<Id>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub owner_id: Option<Id>,
    /// Name of the rule that decided (none for the fallback).
    pub rule: Option<String>,
    /// Why: a routing decision's code and values (`crate::notice_text` makes its text).
    pub why: Notice,
    /// The round-robin counter this decision consumed a turn of.
    pub counter: Option<String>,
}

struct CompiledRule {
    lower: LowerConditions,
    members: Vec<usize>,
    /// Prefix sums of members' weights, for weighted turns.
    cum_weight: Vec<u64>,
    counter: String,
}

#[derive(Default)]
struct LowerConditions {
    countries: Vec<String>,
    regions: Vec<String>,
    cities: Vec<String>,
    products: Vec<String>,
    sources: Vec<String>,
    partners: Vec<String>,
    languages: Vec<String>,
}

fn lower(v: &[String]) -> Vec<String> {
    v.iter().map(|s| s.trim().to_lowercase()).collect()
}

/// `list` and `v` are already lowercased (Unicode: "МОСКВА" is "москва").
fn any_of(list: &[String], v: Option<&str>) -> bool {
    list.is_empty() || v.is_some_and(|v| list.iter().any(|x| x == v))
}

fn low(v: Option<&str>) -> Option<String> {
    v.map(|s| s.trim().to_lowercase())
}

/// The text facts of a lead, lowercased once per decision.
struct LowFacts {
    country: Option<String>,
    region: Option<String>,
    city: Option<String>,
    product: Option<String>,
    source: Option<String>,
    partner: Option<String>,
    language: Option<String>,
}

/// Rules resolved against the people (team and emails turned into indexes) with the current
/// counters. Built once per batch; [`Router::record`] keeps counts current within it.
pub struct Router {
    rules: RoutingRules,
    compiled: Vec<CompiledRule>,
    people: Vec<Person>,
    by_id: HashMap<Id, usize>,
    fallback: Vec<usize>,
    counters: HashMap<String, u64>,
    /// Turns taken since the router was built, per counter: what the caller persists.
    deltas: HashMap<String, u64>,
    tz: Vec<chrono_tz::Tz>,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Router")
            .field("rules", &self.rules.rules.len())
            .field("people", &self.people.len())
            .finish()
    }
}

impl Default for Router {
    fn default() -> Self {
        Router::new(RoutingRules::default(), Vec::new(), HashMap::new())
    }
}

/// The counter name of a rule's round robin.
pub fn counter_name(rule: &str) -> String {
    format!("route:{}", rule.trim().to_lowercase())
}

impl Router {
    /// `counters`: round-robin turns taken so far, by [`counter_name`].
    pub fn new(rules: RoutingRules, people: Vec<Person>, counters: HashMap<String, u64>) -> Self {
        let by_id: HashMap<Id, usize> = people.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let by_email: HashMap<String, usize> = people
            .iter()
            .enumerate()
            .map(|(i, p)| (p.email.trim().to_lowercase(), i))
            .collect();
        let resolve = |team: Option<&str>, emails: &[String], all_if_empty: bool| -> Vec<usize> {
            let mut v: Vec<usize> = Vec::new();
            if let Some(t) = team {
                v.extend(
                    people
                        .iter()
                        .enumerate()
                        .filter(|(_, p)| {
                            p.team.as_deref().is_some_and(|pt| {
                                pt.trim().to_lowercase() == t.trim().to_lowercase()
                            })
                        })
                        .map(|(i, _)| i),
                );
            }
            for e in emails {
                if let Some(&i) = by_email.get(&e.trim().to_lowercase()) {
                    if !v.contains(&i) {
                        v.push(i);
                    }
                }
            }
            if all_if_empty && team.is_none() && emails.is_empty() {
                v = (0..people.len()).collect();
            }
            v.sort_by_key(|&i| people[i].id);
            v
        };
        let compiled = rules
            .rules
            .iter()
            .map(|r| {
                let members = resolve(r.team.as_deref(), &r.people, true);
                let mut acc = 0u64;
                let cum_weight = members
                    .iter()
                    .map(|&i| {
                        acc += people[i].profile.weight.max(1) as u64;
                        acc
                    })
                    .collect();
                let w = &r.when;
                CompiledRule {
                    lower: LowerConditions {
                        countries: lower(&w.countries),
                        regions: lower(&w.regions),
                        cities: lower(&w.cities),
                        products: lower(&w.products),
                        sources: lower(&w.sources),
                        partners: lower(&w.partners),
                        languages: lower(&w.languages),
                    },
                    members,
                    cum_weight,
                    counter: counter_name(&r.name),
                }
            })
            .collect();
        let fallback = resolve(None, &rules.fallback.people, false);
        let tz = people
            .iter()
            .map(|p| parse_tz(&p.profile.timezone).unwrap_or(chrono_tz::UTC))
            .collect();
        Router {
            rules,
            compiled,
            people,
            by_id,
            fallback,
            counters,
            deltas: HashMap::new(),
            tz,
        }
    }

    pub fn rules(&self) -> &RoutingRules {
        &self.rules
    }

    pub fn people(&self) -> &[Person] {
        &self.people
    }

    /// Round-robin turns stored when the router was built.
    pub fn counters(&self) -> &HashMap<String, u64> {
        &self.counters
    }

    pub fn person(&self, id: Id) -> Option<&Person> {
        self.by_id.get(&id).map(|&i| &self.people[i])
    }

    /// Turns consumed since the router was built, per counter.
    pub fn counter_deltas(&self) -> impl Iterator<Item = (&str, u64)> {
        self.deltas.iter().map(|(k, v)| (k.as_str(), *v))
    }

    /// Whether person `i` can take a lead now, and if not, why.
    fn availability(&self, i: usize, now: Millis) -> Result<(), Unavailable> {
        let p = &self.people[i];
        let pr = &p.profile;
        if pr.away_at(now) {
            return Err(Unavailable::Away);
        }
        if let Some(h) = &pr.hours {
            let (wd, min) = local_week_minute(self.tz[i], now);
            if !h.contains(wd, min) {
                return Err(Unavailable::OffHours);
            }
        }
        if pr.daily_cap.is_some_and(|c| p.assigned_day >= c) {
            return Err(Unavailable::DailyCap);
        }
        if pr.monthly_cap.is_some_and(|c| p.assigned_30d >= c) {
            return Err(Unavailable::MonthlyCap);
        }
        Ok(())
    }

    pub fn is_available(&self, id: Id, now: Millis) -> bool {
        self.by_id
            .get(&id)
            .is_some_and(|&i| self.availability(i, now).is_ok())
    }

    fn matches(&self, k: usize, f: &LeadFacts<'_>, lf: &LowFacts) -> bool {
        let w = &self.rules.rules[k].when;
        let l = &self.compiled[k].lower;
        any_of(&l.countries, lf.country.as_deref())
            && any_of(&l.regions, lf.region.as_deref())
            && any_of(&l.cities, lf.city.as_deref())
            && any_of(&l.products, lf.product.as_deref())
            && any_of(&l.sources, lf.source.as_deref())
            && any_of(&l.partners, lf.partner.as_deref())
            && any_of(&l.languages, lf.language.as_deref())
            && (w.forms.is_empty() || f.form_id.is_some_and(|id| w.forms.contains(&id)))
            && (w.temperatures.is_empty() || w.temperatures.contains(&f.temperature))
            && w.score_min.is_none_or(|m| f.score >= m)
            && w.score_max.is_none_or(|m| f.score <= m)
            && w.existing_customer.is_none_or(|c| c == f.existing_customer)
            && w.conversion_min
                .is_none_or(|m| f.conversion.is_some_and(|p| p >= m))
            && w.conversion_max
                .is_none_or(|m| f.conversion.is_some_and(|p| p <= m))
    }

    /// Decides who takes the lead. Does not change any count: call [`Router::record`] with
    /// the result when the lead is assigned.
    pub fn decide(&self, f: &LeadFacts<'_>, now: Millis) -> Assignment {
        let lf = LowFacts {
            country: low(f.country),
            region: low(f.region),
            city: low(f.city),
            product: low(f.product),
            source: low(f.source),
            partner: low(f.partner),
            language: low(f.language),
        };
        for (k, rule) in self.rules.rules.iter().enumerate() {
            if !rule.enabled || !self.matches(k, f, &lf) {
                continue;
            }
            let c = &self.compiled[k];
            let found = match rule.method {
                Method::AccountOwner => f
                    .account_owner
                    .and_then(|o| self.by_id.get(&o).copied())
                    .filter(|&i| self.availability(i, now).is_ok())
                    .map(|i| (i, Notice::new("route_account_owner"), false)),
                Method::StickyOwner => f
                    .previous_owner
                    .and_then(|o| self.by_id.get(&o).copied())
                    .filter(|&i| c.members.contains(&i) && self.availability(i, now).is_ok())
                    .map(|i| (i, Notice::new("route_sticky_owner"), false))
                    .or_else(|| self.round_robin(k, now)),
                Method::RoundRobin => self.round_robin(k, now),
                Method::LeastLoad => self.least_load(k, now),
            };
            if let Some((i, how, turn)) = found {
                let p = &self.people[i];
                return Assignment {
                    owner_id: Some(p.id),
                    rule: Some(rule.name.clone()),
                    why: how.with("person", &p.name).with("rule", &rule.name),
                    counter: turn.then(|| c.counter.clone()),
                };
            }
        }
        self.fallback(now)
    }

    fn fallback(&self, now: Millis) -> Assignment {
        let fb = &self.rules.fallback;
        let avail: Vec<usize> = self
            .fallback
            .iter()
            .copied()
            .filter(|&i| !self.people[i].profile.away_at(now))
            .collect();
        let name = counter_name(&format!("fallback {}", fb.queue));
        if !avail.is_empty() {
            let turn = self.counter(&name);
            let i = avail[(turn % avail.len() as u64) as usize];
            return Assignment {
                owner_id: Some(self.people[i].id),
                rule: None,
                why: Notice::new("route_fallback")
                    .with("person", &self.people[i].name)
                    .with("queue", &fb.queue),
                counter: Some(name),
            };
        }
        Assignment {
            owner_id: None,
            rule: None,
            why: Notice::new("route_left_in_queue").with("queue", &fb.queue),
            counter: None,
        }
    }

    fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0) + self.deltas.get(name).copied().unwrap_or(0)
    }

    /// Weighted round robin: the counter picks a slot in the cycle of total weight; the first
    /// available member from that slot on takes the lead.
    fn round_robin(&self, k: usize, now: Millis) -> Option<(usize, Notice, bool)> {
        let c = &self.compiled[k];
        let n = c.members.len();
        let total = *c.cum_weight.last()?;
        let slot = self.counter(&c.counter) % total;
        let start = c.cum_weight.partition_point(|&w| w <= slot);
        (0..n)
            .map(|d| (start + d) % n)
            .find(|&j| self.availability(c.members[j], now).is_ok())
            .map(|j| {
                (
                    c.members[j],
                    Notice::new("route_round_robin")
                        .with("turn", j + 1)
                        .with("of", n),
                    true,
                )
            })
    }

    fn least_load(&self, k: usize, now: Millis) -> Option<(usize, Notice, bool)> {
        let c = &self.compiled[k];
        c.members
            .iter()
            .copied()
            .filter(|&i| self.availability(i, now).is_ok())
            .min_by(|&a, &b| {
                let (pa, pb) = (&self.people[a], &self.people[b]);
                // open / weight compared without division.
                let la = pa.open_load as u64 * pb.profile.weight.max(1) as u64;
                let lb = pb.open_load as u64 * pa.profile.weight.max(1) as u64;
                la.cmp(&lb)
                    .then(pa.assigned_day.cmp(&pb.assigned_day))
                    .then(pa.id.cmp(&pb.id))
            })
            .map(|i| {
                (
                    i,
                    Notice::new("route_least_load").with("open", self.people[i].open_load),
                    false,
                )
            })
    }

    /// Counts an assignment: the owner's loads and the round-robin turn it used.
    pub fn record(&mut self, a: &Assignment) {
        if let Some(c) = &a.counter {
            *self.deltas.entry(c.clone()).or_insert(0) += 1;
        }
        if let Some(&i) = a.owner_id.as_ref().and_then(|o| self.by_id.get(o)) {
            let p = &mut self.people[i];
            p.assigned_day += 1;
            p.assigned_30d += 1;
            p.open_load += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MONDAY_NOON_UTC: Millis = 1_763_985_600_000; // 2025-11-24 12:00 UTC, a Monday

    #[test]
    fn local_times_read_in_their_zone() {
        let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap();
        let tz = |s: &str| parse_tz(s).unwrap();
        // Moscow is three hours ahead of UTC all year.
        assert_eq!(
            local_time_ms(at("2025-11-24T15:00"), tz("Europe/Moscow")),
            Some(MONDAY_NOON_UTC)
        );
        assert_eq!(
            local_time_ms(at("2025-11-24T12:00"), tz("UTC")),
            Some(MONDAY_NOON_UTC)
        );
        // Amsterdam on the night summer time starts: 02:30 does not exist, read as 03:30 CEST
        // (01:30 UTC); on the night it ends 02:30 comes twice, the first (CEST, 00:30 UTC) counts.
        let ams = tz("Europe/Amsterdam");
        let utc = |s: &str| at(s).and_utc().timestamp_millis();
        assert_eq!(
            local_time_ms(at("2025-03-30T02:30"), ams),
            Some(utc("2025-03-30T01:30"))
        );
        assert_eq!(
            local_time_ms(at("2025-10-26T02:30"), ams),
            Some(utc("2025-10-26T00:30"))
        );
    }

    fn people(n: usize) -> Vec<Person> {
        (0..n)
            .map(|i| {
                let mut p = Person::new(
                    10 + i as Id,
                    &format!("Продавец {i}"),
                    &format!("p{i}@example.com"),
                );
                p.team = Some(if i % 2 == 0 { "Moscow" } else { "Kazan" }.into());
                p
            })
            .collect()
    }

    fn rule(name: &str, method: Method) -> Rule {
        Rule {
            name: name.into(),
            enabled: true,
            when: Conditions::default(),
            team: None,
            people: vec![],
            method,
        }
    }

    fn decide_n(r: &mut Router, f: &LeadFacts<'_>, n: usize) -> Vec<Option<Id>> {
        (0..n)
            .map(|_| {
                let a = r.decide(f, MONDAY_NOON_UTC);
                r.record(&a);
                a.owner_id
            })
            .collect()
    }

    #[test]
    fn round_robin_cycles_and_explains() {
        let rules = RoutingRules {
            rules: vec![rule("Moscow B2B", Method::RoundRobin)],
            fallback: Fallback::default(),
        };
        let mut r = Router::new(rules, people(5), HashMap::new());
        let f = LeadFacts::default();
        let a = r.decide(&f, MONDAY_NOON_UTC);
        assert_eq!(
            a.why.text(),
            "assigned to Продавец 0 by rule \"Moscow B2B\", round robin 1 of 5"
        );
        let owners = decide_n(&mut r, &f, 6);
        assert_eq!(
            owners,
            vec![Some(10), Some(11), Some(12), Some(13), Some(14), Some(10)]
        );
        assert_eq!(
            r.counter_deltas().collect::<Vec<_>>(),
            vec![("route:moscow b2b", 6)]
        );
    }

    #[test]
    fn counters_continue_from_storage() {
        let rules = RoutingRules {
            rules: vec![rule("All", Method::RoundRobin)],
            fallback: Fallback::default(),
        };
        let r = Router::new(rules, people(5), HashMap::from([(counter_name("All"), 7)]));
        let a = r.decide(&LeadFacts::default(), MONDAY_NOON_UTC);
        assert_eq!(a.owner_id, Some(12));
        assert!(a.why.text().ends_with("round robin 3 of 5"));
    }

    #[test]
    fn weights_give_more_turns() {
        let mut ps = people(2);
        ps[0].profile.weight = 3;
        let rules = RoutingRules {
            rules: vec![rule("All", Method::RoundRobin)],
            fallback: Fallback::default(),
        };
        let mut r = Router::new(rules, ps, HashMap::new());
        let owners = decide_n(&mut r, &LeadFacts::default(), 8);
        assert_eq!(owners.iter().filter(|o| **o == Some(10)).count(), 6);
        assert_eq!(owners.iter().filter(|o| **o == Some(11)).count(), 2);
    }

    #[test]
    fn conditions_pick_the_rule_in_order() {
        let mut moscow = rule("Moscow B2B", Method::RoundRobin);
        moscow.team = Some("Moscow".into());
        moscow.when.cities = vec!["москва".into()];
        moscow.when.temperatures = vec![Temperature::Hot, Temperature::Warm];
        let mut rest = rule("Rest", Method::RoundRobin);
        rest.people = vec!["P1@example.com".into()];
        let rules = RoutingRules {
            rules: vec![moscow, rest],
            fallback: Fallback::default(),
        };
        let r = Router::new(rules, people(4), HashMap::new());
        let hot_moscow = LeadFacts {
            city: Some("МОСКВА"),
            temperature: Temperature::Hot,
            ..LeadFacts::default()
        };
        let a = r.decide(&hot_moscow, MONDAY_NOON_UTC);
        assert_eq!(a.rule.as_deref(), Some("Moscow B2B"));
        assert!(matches!(a.owner_id, Some(10) | Some(12)));
        let cold_moscow = LeadFacts {
            temperature: Temperature::Cold,
            ..hot_moscow.clone()
        };
        let a = r.decide(&cold_moscow, MONDAY_NOON_UTC);
        assert_eq!(a.rule.as_deref(), Some("Rest"));
        assert_eq!(a.owner_id, Some(11));
    }

    #[test]
    fn conversion_band_needs_a_prediction_within_it() {
        let mut likely = rule("Likely buyers", Method::RoundRobin);
        likely.when.conversion_min = Some(0.4);
        likely.people = vec!["p2@example.com".into()];
        let rules = RoutingRules {
            rules: vec![likely],
            fallback: Fallback::default(),
        };
        let r = Router::new(rules, people(3), HashMap::new());
        let mut f = LeadFacts {
            conversion: Some(0.55),
            ..LeadFacts::default()
        };
        let a = r.decide(&f, MONDAY_NOON_UTC);
        assert_eq!(
            (a.owner_id, a.rule.as_deref()),
            (Some(12), Some("Likely buyers"))
        );
        f.conversion = Some(0.39);
        assert_eq!(r.decide(&f, MONDAY_NOON_UTC).owner_id, None);
        // No model trained: the bound cannot be checked, so the rule does not apply.
        f.conversion = None;
        assert_eq!(r.decide(&f, MONDAY_NOON_UTC).owner_id, None);
        for bad in [
            r#"{"rules":[{"name":"a","when":{"conversion_min":1.5}}]}"#,
            r#"{"rules":[{"name":"a","when":{"conversion_min":0.6,"conversion_max":0.2}}]}"#,
        ] {
            assert!(matches!(
                RoutingRules::from_json(bad),
                Err(RulesError::ConversionBand(_))
            ));
        }
        let toml = "[[rules]]\nname = \"b\"\n[rules.when]\nconversion_max = 0.1\n";
        let parsed = RoutingRules::from_toml(toml).expect("rules with a conversion bound");
        assert_eq!(parsed.rules[0].when.conversion_max, Some(0.1));
    }

    #[test]
    fn score_band_form_partner_and_language() {
        let mut big = rule("Big", Method::RoundRobin);
        big.when.score_min = Some(50);
        big.when.forms = vec![7];
        big.when.partners = vec!["Partner A".into()];
        big.when.languages = vec!["ru".into()];
        big.people = vec!["p3@example.com".into()];
        let rules = RoutingRules {
            rules: vec![big],
            fallback: Fallback::default(),
        };
        let r = Router::new(rules, people(4), HashMap::new());
        let mut f = LeadFacts {
            score: 60,
            form_id: Some(7),
            partner: Some("partner a"),
            language: Some("RU"),
            ..LeadFacts::default()
        };
        assert_eq!(r.decide(&f, MONDAY_NOON_UTC).owner_id, Some(13));
        f.score = 49;
        let a = r.decide(&f, MONDAY_NOON_UTC);
        assert_eq!(a.owner_id, None);
        assert!(a.why.text().contains("fallback queue \"unassigned\""));
    }

    #[test]
    fn existing_customer_goes_to_account_owner_unless_away() {
        let mut ps = people(3);
        let rules = RoutingRules::default();
        let f = LeadFacts {
            existing_customer: true,
            account_owner: Some(12),
            previous_owner: Some(11),
            ..LeadFacts::default()
        };
        let r = Router::new(rules.clone(), ps.clone(), HashMap::new());
        let a = r.decide(&f, MONDAY_NOON_UTC);
        assert_eq!(a.owner_id, Some(12));
        assert_eq!(a.rule.as_deref(), Some("Existing customers"));
        ps[2].profile.away_until = Some(MONDAY_NOON_UTC + 1);
        let r = Router::new(rules, ps, HashMap::new());
        let a = r.decide(&f, MONDAY_NOON_UTC);
        assert_eq!(
            a.owner_id,
            Some(11),
            "sticky owner takes it while the account owner is away"
        );
        assert!(a.why.text().contains("sticky owner"));
    }

    #[test]
    fn least_load_prefers_the_least_busy() {
        let mut ps = people(3);
        ps[0].open_load = 5;
        ps[1].open_load = 2;
        ps[2].open_load = 3;
        let rules = RoutingRules {
            rules: vec![rule("Load", Method::LeastLoad)],
            fallback: Fallback::default(),
        };
        let mut r = Router::new(rules, ps, HashMap::new());
        let owners = decide_n(&mut r, &LeadFacts::default(), 3);
        // 2 → 3 (tie with 3, fewer assigned today wins: id 12), then 11 again.
        assert_eq!(owners, vec![Some(11), Some(12), Some(11)]);
    }

    #[test]
    fn capacity_hours_and_absence() {
        let mut ps = people(3);
        ps[0].profile.daily_cap = Some(1);
        ps[1].profile.hours = Some(WorkingHours::parse("mon-fri 09:00-18:00").unwrap());
        ps[1].profile.timezone = "Asia/Vladivostok".into(); // UTC+10: 22:00 local
        ps[2].profile.monthly_cap = Some(2);
        ps[2].assigned_30d = 1;
        let rules = RoutingRules {
            rules: vec![rule("All", Method::RoundRobin)],
            fallback: Fallback {
                queue: "night".into(),
                people: vec!["p1@example.com".into()],
            },
        };
        let mut r = Router::new(rules, ps, HashMap::new());
        let owners = decide_n(&mut r, &LeadFacts::default(), 3);
        // p0 once (daily cap), p2 once (30-day cap), then nobody fits: the fallback person
        // takes it although off hours.
        assert_eq!(owners, vec![Some(10), Some(12), Some(11)]);
        let a = r.decide(&LeadFacts::default(), MONDAY_NOON_UTC);
        assert!(
            a.why.text().contains("fallback queue \"night\""),
            "{}",
            a.why.text()
        );
        // Inside Vladivostok hours (02:00 UTC = 12:00 local) p1 takes turns normally.
        assert!(r.is_available(11, MONDAY_NOON_UTC - 10 * 3_600_000));
    }

    #[test]
    fn working_hours_parse_and_print() {
        let h = WorkingHours::parse("mon-fri 09:00-18:00, sat 10:00-14:00").unwrap();
        assert!(h.contains(0, 9 * 60));
        assert!(!h.contains(0, 18 * 60));
        assert!(h.contains(5, 11 * 60));
        assert!(!h.contains(6, 11 * 60));
        assert_eq!(
            h.to_string(),
            "mon+tue+wed+thu+fri 09:00-18:00, sat 10:00-14:00"
        );
        assert_eq!(WorkingHours::parse(&h.to_string()).unwrap(), h);
        let wrap = WorkingHours::parse("fri-mon 10:00-12:00").unwrap();
        assert!(wrap.contains(6, 600) && wrap.contains(0, 600) && !wrap.contains(2, 600));
        assert!(WorkingHours::parse("mon 18:00-09:00").is_err());
        assert!(WorkingHours::parse("funday 09:00-10:00").is_err());
    }

    #[test]
    fn rules_round_trip_and_reject_unknown_fields() {
        let toml = r#"
[[rules]]
name = "Moscow B2B"
team = "Moscow"
method = "round_robin"
[rules.when]
cities = ["Москва"]
temperatures = ["hot"]
score_min = 20

[[rules]]
name = "Partners"
people = ["anna@example.com"]
method = "least_load"
[rules.when]
partners = ["Партнёр"]

[fallback]
queue = "night"
"#;
        let r = RoutingRules::from_toml(toml).unwrap();
        assert_eq!(r.rules.len(), 2);
        assert_eq!(r.rules[0].when.cities, vec!["Москва"]);
        assert_eq!(RoutingRules::from_toml(&r.to_toml()).unwrap(), r);
        assert_eq!(RoutingRules::from_json(&r.to_json()).unwrap(), r);
        assert!(RoutingRules::from_toml("[[rules]]\nname = \"x\"\ncolour = \"red\"").is_err());
        assert!(matches!(
            RoutingRules::from_json(r#"{"rules":[{"name":"a"},{"name":"A"}]}"#),
            Err(RulesError::DuplicateName(_))
        ));
        assert!(RoutingRules::from_json(
            r#"{"rules":[{"name":"a","when":{"score_min":5,"score_max":1}}]}"#
        )
        .is_err());
    }

    #[test]
    fn profile_checks() {
        let mut p = RoutingProfile::default();
        assert!(p.check().is_ok());
        p.timezone = "Mars/Olympus".into();
        assert!(p.check().is_err());
        p.timezone = "Europe/Moscow".into();
        p.weight = 0;
        assert!(p.check().is_err());
        p.weight = 2;
        p.away_from = Some(100);
        p.away_until = Some(200);
        assert!(p.away_at(150) && !p.away_at(200) && !p.away_at(99));
    }

    proptest! {
        /// Over whole cycles each person gets turns in proportion to their weight, and
        /// nobody unavailable is ever chosen.
        #[test]
        fn weighted_turns_are_fair(weights in proptest::collection::vec(1u32..5, 1..8), away in 0usize..8) {
            let mut ps = people(weights.len());
            for (p, w) in ps.iter_mut().zip(&weights) {
                p.profile.weight = *w;
            }
            let away = (away < ps.len()).then_some(away);
            if let Some(a) = away {
                ps[a].profile.paused = true;
            }
            let rules = RoutingRules { rules: vec![rule("All", Method::RoundRobin)], fallback: Fallback::default() };
            let mut r = Router::new(rules, ps.clone(), HashMap::new());
            let total: u32 = weights.iter().sum();
            let owners = decide_n(&mut r, &LeadFacts::default(), (total * 3) as usize);
            if let Some(a) = away {
                prop_assert!(!owners.contains(&Some(ps[a].id)));
                if ps.len() == 1 { prop_assert!(owners.iter().all(|o| o.is_none())); }
            } else {
                for (p, w) in ps.iter().zip(&weights) {
                    let got = owners.iter().filter(|o| **o == Some(p.id)).count() as u32;
                    prop_assert_eq!(got, w * 3);
                }
            }
        }

        /// Whatever the facts, a decision names a configured person or nobody, and explains itself.
        #[test]
        fn decisions_are_explained(score in -50i64..150, hot in any::<bool>(), n in 0usize..6) {
            let rules = RoutingRules::default();
            let r = Router::new(rules, people(n), HashMap::new());
            let f = LeadFacts { score, temperature: if hot { Temperature::Hot } else { Temperature::Cold }, ..LeadFacts::default() };
            let a = r.decide(&f, MONDAY_NOON_UTC);
            prop_assert!(!a.why.text().is_empty());
            prop_assert_eq!(a.owner_id.is_some(), n > 0);
            if let Some(o) = a.owner_id { prop_assert!(r.person(o).is_some()); }
        }
    }
}
