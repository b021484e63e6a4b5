//! Date, time and text helpers for the pages; all times are UTC.

use super::t;
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use voronka_core::Millis;

fn utc(ms: Millis) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

/// "just now", "3 min ago", "5 h ago", "yesterday", "4 days ago", then the date.
pub fn ago(ms: Millis, now: Millis) -> String {
    let diff = now - ms;
    if diff < 0 {
        // Clocks of several servers may disagree by a little; far future is a date.
        return if -diff < 60_000 {
            t::JUST_NOW.to_string()
        } else {
            format!("{} {}", t::IN_FUTURE, duration(-diff))
        };
    }
    let min = diff / 60_000;
    let hours = diff / 3_600_000;
    let days = diff / 86_400_000;
    if min < 1 {
        t::JUST_NOW.to_string()
    } else if min < 60 {
        format!("{min} {}", t::MIN_AGO)
    } else if hours < 24 {
        format!("{hours} {}", t::H_AGO)
    } else if days < 2 {
        t::YESTERDAY.to_string()
    } else if days < 7 {
        format!("{days} {}", t::DAYS_AGO)
    } else {
        date(ms)
    }
}

fn duration(ms: i64) -> String {
    let min = ms / 60_000;
    if min < 60 {
        format!("{min} {}", t::MIN)
    } else if min < 48 * 60 {
        format!("{} {}", min / 60, t::H)
    } else {
        format!("{} {}", min / 1440, t::DAYS)
    }
}

/// A length of time to one decimal in the unit that reads best: "4.5 min", "23.9 h", "3.8 days".
pub fn span(ms: i64) -> String {
    let min = ms as f64 / 60_000.0;
    if min < 60.0 {
        format!("{min:.1} {}", t::MIN)
    } else if min < 48.0 * 60.0 {
        format!("{:.1} {}", min / 60.0, t::H)
    } else {
        format!("{:.1} {}", min / 1440.0, t::DAYS)
    }
}

/// "12 Mar 2025".
pub fn date(ms: Millis) -> String {
    match utc(ms) {
        Some(d) => format!(
            "{} {} {}",
            d.day(),
            t::MONTHS[d.month0() as usize],
            d.year()
        ),
        None => String::new(),
    }
}

/// "12 Mar 2025, 14:05 UTC".
pub fn datetime(ms: Millis) -> String {
    match utc(ms) {
        Some(d) => format!("{}, {:02}:{:02} UTC", date(ms), d.hour(), d.minute()),
        None => String::new(),
    }
}

/// RFC 3339 for `<time datetime>`.
pub fn iso(ms: Millis) -> String {
    utc(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// "2025-03-12" for date inputs.
pub fn ymd(ms: Millis) -> String {
    voronka_app::ymd(ms)
}

/// Parses "YYYY-MM-DD" into the millisecond of 00:00 UTC that day.
pub fn parse_ymd(s: &str) -> Option<Millis> {
    let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()?;
    Some(d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis())
}

/// Shows invisible and direction-changing characters as `<U+202E>`, so that raw payloads cannot
/// disguise themselves or flip the text around them.
pub fn visible_controls(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let hidden = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' | '\u{feff}' | '\u{061c}');
        if hidden {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// A time ready for a `<time>` element: relative text, exact title and machine value.
#[derive(Debug, Clone)]
pub struct When {
    pub ago: String,
    pub exact: String,
    pub iso: String,
}

impl When {
    pub fn new(ms: Millis, now: Millis) -> When {
        When {
            ago: ago(ms, now),
            exact: datetime(ms),
            iso: iso(ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = 1_741_788_300_000; // 2025-03-12 14:05 UTC

    #[test]
    fn relative_times() {
        assert_eq!(ago(NOW - 10_000, NOW), "just now");
        assert_eq!(ago(NOW - 3 * 60_000, NOW), "3 min ago");
        assert_eq!(ago(NOW - 5 * 3_600_000, NOW), "5 h ago");
        assert_eq!(ago(NOW - 30 * 3_600_000, NOW), "yesterday");
        assert_eq!(ago(NOW - 4 * 86_400_000, NOW), "4 days ago");
        assert_eq!(ago(NOW - 40 * 86_400_000, NOW), "31 Jan 2025");
        assert_eq!(ago(NOW + 5_000, NOW), "just now");
        assert_eq!(ago(NOW + 3 * 3_600_000, NOW), "in 3 h");
    }

    #[test]
    fn spans_in_the_unit_that_reads_best() {
        assert_eq!(span(270_000), "4.5 min");
        assert_eq!(span(1431 * 60_000), "23.9 h");
        assert_eq!(span(5493 * 60_000), "3.8 days");
    }

    #[test]
    fn exact_times() {
        assert_eq!(datetime(NOW), "12 Mar 2025, 14:05 UTC");
        assert_eq!(iso(NOW), "2025-03-12T14:05:00Z");
        assert_eq!(ymd(NOW), "2025-03-12");
        assert_eq!(parse_ymd("2025-03-12"), Some(1_741_737_600_000));
        assert_eq!(parse_ymd("12.03.2025"), None);
    }

    #[test]
    fn controls_are_shown() {
        assert_eq!(visible_controls("a\u{202e}b\nc"), "a<U+202E>b\nc");
    }
}
