use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("currency must be a three-letter ISO 4217 code")]
    BadCurrency,
    #[error("amount is not a number with at most two decimals")]
    BadAmount,
}

/// ISO 4217 currency code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(s: &str) -> Result<Self, MoneyError> {
        let b = s.trim().as_bytes();
        if b.len() != 3 || !b.iter().all(|c| c.is_ascii_alphabetic()) {
            return Err(MoneyError::BadCurrency);
        }
        Ok(Currency([
            b[0].to_ascii_uppercase(),
            b[1].to_ascii_uppercase(),
            b[2].to_ascii_uppercase(),
        ]))
    }
    /// The currency people pay in in a country (ISO 3166 alpha-2, any case): its first legal
    /// tender that is no fund (`US`: USD, not USN); `None` for an unknown country.
    pub fn of_country(country: &str) -> Option<Currency> {
        let country: iso_currency::Country = country.trim().to_ascii_uppercase().parse().ok()?;
        iso_currency::Currency::from_country(country)
            .into_iter()
            .find(|c| !c.is_fund())
            .and_then(|c| Currency::parse(c.code()).ok())
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An amount in integer minor units (kopecks, cents) with its currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    /// The largest amount a deal may carry, in minor units: 10^15 (ten trillion in a currency of
    /// two decimals). Sums of many such amounts still fit in the 64-bit totals of the reports.
    pub const MAX_MINOR: i64 = 1_000_000_000_000_000;

    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    /// Parses "1500", "1500.5", "1 500,50" into minor units (two decimals).
    pub fn parse_major(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        let cleaned: String = amount
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '\u{a0}' && *c != '_')
            .map(|c| if c == ',' { '.' } else { c })
            .collect();
        let (neg, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (int, frac) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int.is_empty() && frac.is_empty()
            || !int.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
            || frac.len() > 2
        {
            return Err(MoneyError::BadAmount);
        }
        let int_v: i64 = if int.is_empty() {
            0
        } else {
            int.parse().map_err(|_| MoneyError::BadAmount)?
        };
        let frac_v: i64 = match frac.len() {
            0 => 0,
            1 => frac.parse::<i64>().map_err(|_| MoneyError::BadAmount)? * 10,
            _ => frac.parse().map_err(|_| MoneyError::BadAmount)?,
        };
        let minor = int_v
            .checked_mul(100)
            .and_then(|v| v.checked_add(frac_v))
            .ok_or(MoneyError::BadAmount)?;
        Ok(Money::new(if neg { -minor } else { minor }, currency))
    }

    /// The amount as a plain number for files and programs: `-1234.05`, no grouping, no currency.
    pub fn amount_text(&self) -> String {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let major = abs / 100;
        let minor = abs % 100;
        // Thin grouping of thousands keeps large amounts readable in any locale.
        let digits = major.to_string();
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push('\u{202f}');
            }
            grouped.push(c);
        }
        write!(f, "{sign}{grouped}.{minor:02} {}", self.currency.as_str())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_amount_as_plain_text_keeps_its_sign() {
        let rub = Currency::parse("RUB").unwrap();
        let text = |minor| Money::new(minor, rub).amount_text();
        assert_eq!(text(-50), "-0.50");
        assert_eq!(text(-123_405), "-1234.05");
        assert_eq!(text(7), "0.07");
        assert_eq!(text(150_000), "1500.00");
        assert_eq!(text(i64::MIN), "-92233720368547758.08");
        for minor in [-123_405, -50, 0, 7, 150_000] {
            let back = Money::parse_major(&text(minor), rub).unwrap();
            assert_eq!(back.minor, minor);
        }
    }

    #[test]
    fn a_country_pays_in_its_own_currency() {
        let of = |c: &str| Currency::of_country(c).map(|c| c.as_str().to_string());
        assert_eq!(of("RU").as_deref(), Some("RUB"));
        assert_eq!(of("gb").as_deref(), Some("GBP"));
        assert_eq!(of("US").as_deref(), Some("USD"));
        assert_eq!(of("NL").as_deref(), Some("EUR"));
        assert_eq!(of("UA").as_deref(), Some("UAH"));
        assert_eq!(of("ZZ"), None);
        assert_eq!(of(""), None);
    }

    use super::*;

    #[test]
    fn parses_major_amounts() {
        let rub = Currency::parse("rub").unwrap();
        assert_eq!(Money::parse_major("1500", rub).unwrap().minor, 150_000);
        assert_eq!(Money::parse_major("1 500,5", rub).unwrap().minor, 150_050);
        assert_eq!(Money::parse_major("0.07", rub).unwrap().minor, 7);
        assert_eq!(Money::parse_major("-3.10", rub).unwrap().minor, -310);
        assert!(Money::parse_major("1.234", rub).is_err());
        assert!(Money::parse_major("abc", rub).is_err());
        assert!(Money::parse_major("", rub).is_err());
        assert!(Currency::parse("RU").is_err());
    }

    #[test]
    fn displays_grouped() {
        let m = Money::new(123_456_789, Currency::parse("EUR").unwrap());
        assert_eq!(m.to_string(), "1\u{202f}234\u{202f}567.89 EUR");
    }
}
