//! Speed to lead: first-response targets per temperature, counted in business time (working
//! hours and holidays of the team), and the steps taken when a target is missed.

use crate::model::{Millis, Temperature};
use crate::routing::{parse_tz, WorkingHours};
use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// SLA settings: the default and overrides per team (by team name).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    #[serde(default)]
    pub default: SlaPolicy,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub teams: BTreeMap<String, SlaPolicy>,
}

impl SlaSettings {
    pub fn from_json(s: &str) -> Result<Self, String> {
        let v: SlaSettings = serde_json::from_str(s).map_err(|e| e.to_string())?;
        v.check()?;
        Ok(v)
    }

    pub fn from_toml(s: &str) -> Result<Self, String> {
        let v: SlaSettings = toml::from_str(s).map_err(|e| e.to_string())?;
        v.check()?;
        Ok(v)
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }

    pub fn check(&self) -> Result<(), String> {
        self.default.check()?;
        for (t, p) in &self.teams {
            p.check().map_err(|e| format!("team {t}: {e}"))?;
        }
        Ok(())
    }

    /// The policy of a team (the default when the team has none).
    pub fn for_team(&self, team: Option<&str>) -> &SlaPolicy {
        team.and_then(|t| {
            self.teams
                .iter()
                .find(|(k, _)| k.to_lowercase() == t.to_lowercase())
                .map(|(_, p)| p)
        })
        .unwrap_or(&self.default)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaPolicy {
    /// Targets like `5m`, `1h`, `1d` (a business day: the same working moment of the next
    /// working day).
    #[serde(default = "hot")]
    pub hot: Target,
    #[serde(default = "warm")]
    pub warm: Target,
    #[serde(default = "cold")]
    pub cold: Target,
    #[serde(default = "utc")]
    pub timezone: String,
    /// Business hours (`mon-sun 00:00-24:00` counts every minute).
    #[serde(default = "office")]
    pub hours: WorkingHours,
    /// Dates (local) on which nobody works.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<NaiveDate>,
    /// What happens after a breach, in order; each step fires once.
    #[serde(default = "default_steps")]
    pub steps: Vec<Step>,
}

fn hot() -> Target {
    Target::Span(Span(5 * MINUTE))
}
fn warm() -> Target {
    Target::Span(Span(60 * MINUTE))
}
fn cold() -> Target {
    Target::BusinessDays(1)
}
fn utc() -> String {
    "UTC".into()
}
fn office() -> WorkingHours {
    WorkingHours::parse("mon-fri 09:00-18:00").expect("valid hours")
}
fn default_steps() -> Vec<Step> {
    vec![
        Step {
            after: Span(0),
            action: StepAction::NotifyOwner,
        },
        Step {
            after: Span(30 * MINUTE),
            action: StepAction::EscalateTeamLead,
        },
    ]
}

impl Default for SlaPolicy {
    fn default() -> Self {
        SlaPolicy {
            hot: hot(),
            warm: warm(),
            cold: cold(),
            timezone: utc(),
            hours: office(),
            holidays: Vec::new(),
            steps: default_steps(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Time after the breach (wall-clock), like `0s` or `30m`.
    #[serde(default)]
    pub after: Span,
    pub action: StepAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    NotifyOwner,
    EscalateTeamLead,
    /// Hand the lead to the next available person by the routing rules.
    Reassign,
}

impl StepAction {
    pub fn as_str(self) -> &'static str {
        match self {
            StepAction::NotifyOwner => "notify_owner",
            StepAction::EscalateTeamLead => "escalate_team_lead",
            StepAction::Reassign => "reassign",
        }
    }
}

/// A first-response target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Business time, like `5m`, `1h` (or `30s`).
    Span(Span),
    /// The same working moment `n` working days later, like `1d`.
    BusinessDays(u32),
}

impl Target {
    pub fn parse(s: &str) -> Result<Target, String> {
        let t = s.trim();
        if let Some(d) = t.strip_suffix('d') {
            return match d.trim().parse::<u32>() {
                Ok(n) if n > 0 => Ok(Target::BusinessDays(n)),
                _ => Err(format!("{s:?}: expected a target like 5m, 1h or 1d")),
            };
        }
        match Span::parse(t) {
            Ok(sp) if sp.0 > 0 => Ok(Target::Span(sp)),
            _ => Err(format!("{s:?}: expected a target like 5m, 1h or 1d")),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Span(sp) => sp.fmt(f),
            Target::BusinessDays(d) => write!(f, "{d}d"),
        }
    }
}

impl Serialize for Target {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Target {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Target::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A length of time written `30s`, `5m`, `2h` (or `0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span(pub Millis);

impl Span {
    pub fn parse(s: &str) -> Result<Span, String> {
        let t = s.trim();
        if t == "0" {
            return Ok(Span(0));
        }
        let bad = || format!("{s:?}: expected a time like 30s, 5m or 2h");
        let unit = t.chars().last().ok_or_else(bad)?;
        let n: i64 = t[..t.len() - unit.len_utf8()]
            .trim()
            .parse()
            .map_err(|_| bad())?;
        if n < 0 {
            return Err(bad());
        }
        let ms = match unit {
            's' => 1_000,
            'm' => 60_000,
            'h' => 3_600_000,
            _ => return Err(bad()),
        };
        Ok(Span(n * ms))
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = self.0;
        if ms == 0 {
            write!(f, "0s")
        } else if ms % 3_600_000 == 0 {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms % 60_000 == 0 {
            write!(f, "{}m", ms / 60_000)
        } else {
            write!(f, "{}s", ms / 1_000)
        }
    }
}

impl Serialize for Span {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Span {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Span::parse(&String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

const MINUTE: Millis = 60_000;

impl SlaPolicy {
    pub fn check(&self) -> Result<(), String> {
        parse_tz(&self.timezone)?;
        Ok(())
    }

    pub fn target(&self, t: Temperature) -> Target {
        match t {
            Temperature::Hot => self.hot,
            Temperature::Warm => self.warm,
            Temperature::Cold => self.cold,
        }
    }

    /// When the first response to a lead of this temperature received at `at` is due.
    pub fn due_at(&self, t: Temperature, at: Millis) -> Millis {
        match self.target(t) {
            Target::Span(sp) => self.add_business_ms(at, sp.0),
            Target::BusinessDays(d) => self.add_business_days(at, d),
        }
    }

    fn tz(&self) -> chrono_tz::Tz {
        parse_tz(&self.timezone).unwrap_or(chrono_tz::UTC)
    }

    /// Working intervals of a local date as instants (empty on holidays and days off).
    fn intervals(&self, tz: chrono_tz::Tz, d: NaiveDate) -> Vec<(Millis, Millis)> {
        if self.holidays.contains(&d) {
            return Vec::new();
        }
        let at = |min: u32| -> Millis {
            let naive = d.and_hms_opt(0, 0, 0).expect("midnight") + Duration::minutes(min as i64);
            tz.from_local_datetime(&naive)
                .earliest()
                .or_else(|| {
                    tz.from_local_datetime(&(naive + Duration::hours(1)))
                        .earliest()
                })
                .map(|t| t.timestamp_millis())
                .unwrap_or(0)
        };
        self.hours
            .day_intervals(d.weekday().num_days_from_monday())
            .into_iter()
            .map(|(a, b)| (at(a), at(b)))
            .collect()
    }

    fn local_date(tz: chrono_tz::Tz, at: Millis) -> NaiveDate {
        tz.timestamp_millis_opt(at)
            .single()
            .map(|t| t.date_naive())
            .unwrap_or_default()
    }

    /// `at` plus `ms` of business time.
    pub fn add_business_ms(&self, at: Millis, ms: i64) -> Millis {
        let tz = self.tz();
        let mut left = ms;
        let mut day = Self::local_date(tz, at) - Duration::days(1);
        // A year without a single working minute is a configuration error: count wall time.
        for _ in 0..400 {
            for (a, b) in self.intervals(tz, day) {
                let start = a.max(at);
                if start >= b {
                    continue;
                }
                if start + left <= b {
                    return start + left;
                }
                left -= b - start;
            }
            day += Duration::days(1);
        }
        at + ms
    }

    /// The first working moment at or after `at`.
    pub fn next_business_moment(&self, at: Millis) -> Millis {
        self.add_business_ms(at, 0)
    }

    /// The same working moment `n` working days later (clamped to that day's hours).
    pub fn add_business_days(&self, at: Millis, n: u32) -> Millis {
        let tz = self.tz();
        let start = self.next_business_moment(at);
        let mut day = Self::local_date(tz, start);
        // Offset into the working day, in business time.
        let offset: Millis = self
            .intervals(tz, day)
            .iter()
            .map(|&(a, b)| (start.min(b) - a).max(0))
            .sum();
        let mut found = 0;
        for _ in 0..400 {
            day += Duration::days(1);
            let iv = self.intervals(tz, day);
            if iv.is_empty() {
                continue;
            }
            found += 1;
            if found == n {
                let mut left = offset;
                for &(a, b) in &iv {
                    if a + left <= b {
                        return a + left;
                    }
                    left -= b - a;
                }
                return iv.last().map(|i| i.1).unwrap_or(start);
            }
        }
        start + n as i64 * 86_400_000
    }
}

/// Median and 90th percentile (nearest rank) of durations.
pub fn median_p90(values: &mut [i64]) -> Option<(i64, i64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = |q: f64| {
        let k = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
        values[k - 1]
    };
    Some((rank(0.5), rank(0.9)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> Millis {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn hot_inside_hours_is_five_minutes() {
        let p = SlaPolicy::default();
        // Monday 2026-11-23 10:00 UTC.
        assert_eq!(
            p.due_at(Temperature::Hot, ms("2026-11-23T10:00:00Z")),
            ms("2026-11-23T10:05:00Z")
        );
        assert_eq!(
            p.due_at(Temperature::Warm, ms("2026-11-23T17:30:00Z")),
            ms("2026-11-24T09:30:00Z")
        );
    }

    #[test]
    fn night_weekend_and_holiday_wait_for_business_hours() {
        let mut p = SlaPolicy {
            timezone: "Europe/Moscow".into(),
            ..SlaPolicy::default()
        };
        // Friday 22:00 Moscow (19:00 UTC) → Monday 09:05 Moscow (06:05 UTC).
        assert_eq!(
            p.due_at(Temperature::Hot, ms("2026-11-27T19:00:00Z")),
            ms("2026-11-30T06:05:00Z")
        );
        p.holidays = vec![NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()];
        assert_eq!(
            p.due_at(Temperature::Hot, ms("2026-11-27T19:00:00Z")),
            ms("2026-12-01T06:05:00Z")
        );
    }

    #[test]
    fn cold_is_one_business_day() {
        let p = SlaPolicy::default();
        // Friday 15:00 → Monday 15:00.
        assert_eq!(
            p.due_at(Temperature::Cold, ms("2026-11-27T15:00:00Z")),
            ms("2026-11-30T15:00:00Z")
        );
        // Saturday → Monday 09:00 start → Tuesday 09:00.
        assert_eq!(
            p.due_at(Temperature::Cold, ms("2026-11-28T12:00:00Z")),
            ms("2026-12-01T09:00:00Z")
        );
    }

    #[test]
    fn no_hours_counts_wall_time() {
        let p = SlaPolicy {
            hours: WorkingHours::parse("mon-sun 00:00-24:00").unwrap(),
            ..SlaPolicy::default()
        };
        let t = ms("2026-11-28T23:58:00Z");
        assert_eq!(p.due_at(Temperature::Hot, t), t + 5 * MINUTE);
    }

    #[test]
    fn settings_round_trip_and_teams() {
        let toml = r#"
[default]
hot = "10m"
timezone = "Europe/Moscow"
holidays = ["2026-12-31"]
steps = [{ action = "notify_owner" }, { after = "15m", action = "reassign" }]

[teams.Kazan]
hot = "3m"
"#;
        let s = SlaSettings::from_toml(toml).unwrap();
        assert_eq!(s.default.hot, Target::Span(Span(10 * MINUTE)));
        assert_eq!(
            s.for_team(Some("kazan")).hot,
            Target::Span(Span(3 * MINUTE))
        );
        assert_eq!(
            s.for_team(Some("Other")).hot,
            Target::Span(Span(10 * MINUTE))
        );
        assert_eq!(s.default.steps[1].after, Span(15 * MINUTE));
        assert_eq!(Target::parse("30s").unwrap().to_string(), "30s");
        assert_eq!(Target::parse("90m").unwrap().to_string(), "90m");
        assert!(Target::parse("0m").is_err() && Target::parse("1w").is_err());
        assert_eq!(s.default.steps[1].action, StepAction::Reassign);
        assert_eq!(SlaSettings::from_toml(&s.to_toml()).unwrap(), s);
        assert_eq!(SlaSettings::from_json(&s.to_json()).unwrap(), s);
        assert!(SlaSettings::from_toml("[default]\nhot = \"soon\"").is_err());
        assert!(SlaSettings::from_toml("[default]\nspeed = 1").is_err());
    }

    #[test]
    fn percentiles() {
        let mut v = vec![5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
        assert_eq!(median_p90(&mut v), Some((5, 9)));
        assert_eq!(median_p90(&mut []), None);
    }
}
