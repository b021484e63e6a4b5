//! Channel analytics: what each source, medium, campaign or form brought — leads, how far they
//! went, the revenue of their deals — against what it cost: marketing spend, spread evenly over
//! the days it paid for.
//!
//! The leads of a report are those created in its period (a cohort): their stage today and every
//! deal made from them count, whenever it was made. Spend counts for the part of its days that
//! falls in the period. Money is never converted between currencies: the figures that divide or
//! subtract money (cost per lead, per customer, return on spend) are in the report's currency,
//! and amounts in other currencies are listed beside them.

use crate::{Currency, Id, Millis, Money};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a report's rows are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelBy {
    Source,
    Medium,
    Campaign,
    /// Source and medium together ("google / cpc").
    SourceMedium,
    Form,
}

impl ChannelBy {
    pub const ALL: [ChannelBy; 5] = [
        ChannelBy::Source,
        ChannelBy::SourceMedium,
        ChannelBy::Medium,
        ChannelBy::Campaign,
        ChannelBy::Form,
    ];

    pub fn parse(s: &str) -> Option<ChannelBy> {
        Self::ALL.into_iter().find(|b| b.as_str() == s.trim())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ChannelBy::Source => "source",
            ChannelBy::Medium => "medium",
            ChannelBy::Campaign => "campaign",
            ChannelBy::SourceMedium => "source_medium",
            ChannelBy::Form => "form",
        }
    }
}

/// The channel a row stands for: only the fields the report groups by are set, and a field left
/// empty on the leads themselves stays `None` (leads without a source are a row of their own).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ChannelKey {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub medium: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub campaign: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub form_id: Option<Id>,
}

impl ChannelKey {
    /// The channel as a report names it at grouping `by`: its source, medium, campaign, both
    /// ("google / cpc"), or its form (`form_name (#id)`); `none` (a face's word) stands for a
    /// field the leads left empty.
    pub fn label(&self, by: ChannelBy, form_name: Option<&str>, none: &str) -> String {
        let or_none = |v: &Option<String>| v.as_deref().unwrap_or(none).to_string();
        match by {
            ChannelBy::Source => or_none(&self.source),
            ChannelBy::Medium => or_none(&self.medium),
            ChannelBy::Campaign => or_none(&self.campaign),
            ChannelBy::SourceMedium => {
                format!("{} / {}", or_none(&self.source), or_none(&self.medium))
            }
            ChannelBy::Form => match (self.form_id, form_name) {
                (Some(id), Some(name)) => format!("{name} (#{id})"),
                (Some(id), None) => format!("#{id}"),
                (None, _) => none.to_string(),
            },
        }
    }
}

/// What the store counted for one channel: the leads created in the period and their deals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChannelTally {
    pub key: ChannelKey,
    /// The form's name, for a report by form.
    pub label: Option<String>,
    /// Submissions without a usable contact (not rejected ones).
    pub interests: i64,
    /// Leads, junk left out.
    pub leads: i64,
    /// Pseudo-leads marked junk.
    pub junk: i64,
    /// Leads that reached MQL or a later stage at some time (converted ones included).
    pub mql: i64,
    /// Leads that reached SQL or converted.
    pub sql: i64,
    pub converted: i64,
    /// Leads refused now (those frozen until a date included).
    pub refused: i64,
    /// The deals of these leads, one sum per currency.
    pub revenue: Vec<Money>,
}

impl ChannelTally {
    /// Adds another tally's counts and revenue to this one's.
    fn absorb(&mut self, t: &ChannelTally) {
        self.interests += t.interests;
        self.leads += t.leads;
        self.junk += t.junk;
        self.mql += t.mql;
        self.sql += t.sql;
        self.converted += t.converted;
        self.refused += t.refused;
        self.revenue.extend(t.revenue.iter().copied());
    }
}

/// A channel as people name it: source / medium / campaign, those given.
pub fn channel_of(source: &str, medium: Option<&str>, campaign: Option<&str>) -> String {
    [Some(source), medium, campaign]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" / ")
}

/// Money a channel cost: a source's whole budget, or one of its media or campaigns, for the days
/// from `starts_at` up to (not including) `ends_at`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpendEntry {
    pub id: Id,
    pub source: String,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub starts_at: Millis,
    pub ends_at: Millis,
    pub amount: Money,
    pub note: Option<String>,
    pub created_by: Option<String>,
    pub created_at: Millis,
}

impl SpendEntry {
    /// The channel as people name it: source / medium / campaign, those it has.
    pub fn channel(&self) -> String {
        channel_of(
            &self.source,
            self.medium.as_deref(),
            self.campaign.as_deref(),
        )
    }

    /// The row this spend belongs to in a report by `by`; `None` when the entry does not say
    /// (a source's whole budget has no medium; no spend is of a form).
    pub fn key(&self, by: ChannelBy) -> Option<ChannelKey> {
        let k = ChannelKey::default();
        match by {
            ChannelBy::Source => Some(ChannelKey {
                source: Some(self.source.clone()),
                ..k
            }),
            ChannelBy::Medium => self.medium.clone().map(|m| ChannelKey {
                medium: Some(m),
                ..k
            }),
            ChannelBy::Campaign => self.campaign.clone().map(|c| ChannelKey {
                campaign: Some(c),
                ..k
            }),
            ChannelBy::SourceMedium => self.medium.clone().map(|m| ChannelKey {
                source: Some(self.source.clone()),
                medium: Some(m),
                ..k
            }),
            ChannelBy::Form => None,
        }
    }

    /// The part of the amount that falls in `[from, to)`, spread evenly over the entry's time
    /// and rounded to the nearest minor unit.
    pub fn within(&self, from: Millis, to: Millis) -> Money {
        Money::new(
            prorate(self.amount.minor, self.starts_at, self.ends_at, from, to),
            self.amount.currency,
        )
    }
}

/// `amount` spread evenly over `[starts, ends)`: the share of `[from, to)`, rounded half away
/// from zero. An empty or reversed span has nothing to spread.
pub fn prorate(amount: i64, starts: Millis, ends: Millis, from: Millis, to: Millis) -> i64 {
    if ends <= starts {
        return 0;
    }
    let overlap = i128::from(ends.min(to)) - i128::from(starts.max(from));
    if overlap <= 0 {
        return 0;
    }
    let whole = i128::from(ends) - i128::from(starts);
    if overlap >= whole {
        return amount;
    }
    let scaled = i128::from(amount) * overlap;
    let half = whole / 2;
    let share = if scaled >= 0 {
        (scaled + half) / whole
    } else {
        (scaled - half) / whole
    };
    // |share| ≤ |amount|, so it fits.
    share as i64
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelRow {
    pub key: ChannelKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub interests: i64,
    pub leads: i64,
    pub junk: i64,
    pub mql: i64,
    pub sql: i64,
    pub converted: i64,
    pub refused: i64,
    /// converted / leads.
    pub conversion_rate: Option<f64>,
    /// One sum per currency, the report's currency first.
    pub revenue: Vec<Money>,
    /// One sum per currency, the report's currency first.
    pub spend: Vec<Money>,
    /// Spend / leads, when all the spend is in the report's currency.
    pub cost_per_lead: Option<Money>,
    /// Spend / converted leads, when all the spend is in the report's currency.
    pub cost_per_customer: Option<Money>,
    /// (revenue − spend) / spend, when all of both are in the report's currency.
    pub roi: Option<f64>,
}

impl ChannelRow {
    /// The revenue in `currency` (zero when there is none).
    pub fn revenue_in(&self, currency: Currency) -> i64 {
        sum_in(&self.revenue, currency)
    }

    /// The spend in `currency` (zero when there is none).
    pub fn spend_in(&self, currency: Currency) -> i64 {
        sum_in(&self.spend, currency)
    }
}

fn sum_in(amounts: &[Money], currency: Currency) -> i64 {
    amounts
        .iter()
        .filter(|m| m.currency == currency)
        .map(|m| m.minor)
        .sum()
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelReport {
    pub by: ChannelBy,
    pub from: Millis,
    pub to: Millis,
    pub currency: Currency,
    /// The channels, those with the most leads first.
    pub rows: Vec<ChannelRow>,
    /// Every row together, spend that no row could take included.
    pub total: ChannelRow,
    /// Spend in the period that the rows cannot show at this grouping (a source's budget in a
    /// report by medium, any spend in a report by form).
    pub unattributed_spend: Vec<Money>,
}

/// Adds `m` to the sums per currency.
fn add(sums: &mut BTreeMap<String, Money>, m: Money) {
    sums.entry(m.currency.as_str().to_string())
        .and_modify(|s| s.minor = s.minor.saturating_add(m.minor))
        .or_insert(m);
}

/// The sums, the report's currency first, then the others by code; zero sums left out.
fn listed(sums: BTreeMap<String, Money>, currency: Currency) -> Vec<Money> {
    let mut v: Vec<Money> = sums.into_values().filter(|m| m.minor != 0).collect();
    v.sort_by_key(|m| (m.currency != currency, m.currency.as_str().to_string()));
    v
}

/// `minor / n`, rounded to the nearest minor unit.
fn per(minor: i64, n: i64, currency: Currency) -> Option<Money> {
    (n > 0).then(|| {
        let q = (i128::from(minor) * 2 + i128::from(n)) / (2 * i128::from(n));
        Money::new(q as i64, currency)
    })
}

fn row(
    key: ChannelKey,
    t: Option<&ChannelTally>,
    spend: BTreeMap<String, Money>,
    currency: Currency,
) -> ChannelRow {
    let t = t.cloned().unwrap_or_default();
    let mut revenue = BTreeMap::new();
    for m in &t.revenue {
        add(&mut revenue, *m);
    }
    let revenue = listed(revenue, currency);
    let spend = listed(spend, currency);
    let spent = sum_in(&spend, currency);
    let earned = sum_in(&revenue, currency);
    // Money is never converted: a figure that would mix currencies is left out.
    let only = |list: &[Money]| list.iter().all(|m| m.currency == currency);
    let spend_divides = spent > 0 && only(&spend);
    ChannelRow {
        key,
        label: t.label,
        interests: t.interests,
        leads: t.leads,
        junk: t.junk,
        mql: t.mql,
        sql: t.sql,
        converted: t.converted,
        refused: t.refused,
        conversion_rate: (t.leads > 0).then(|| t.converted as f64 / t.leads as f64),
        cost_per_lead: if spend_divides {
            per(spent, t.leads, currency)
        } else {
            None
        },
        cost_per_customer: if spend_divides {
            per(spent, t.converted, currency)
        } else {
            None
        },
        roi: (spend_divides && only(&revenue))
            .then(|| (earned as f64 - spent as f64) / spent as f64),
        revenue,
        spend,
    }
}

/// Builds the report of the period `[from, to)` from the store's tallies and the spend entries
/// that touch the period. Channels that cost money and brought nothing have a row too.
pub fn channel_report(
    by: ChannelBy,
    from: Millis,
    to: Millis,
    currency: Currency,
    tallies: &[ChannelTally],
    spend: &[SpendEntry],
) -> ChannelReport {
    let mut spent: BTreeMap<ChannelKey, BTreeMap<String, Money>> = BTreeMap::new();
    let mut unattributed = BTreeMap::new();
    let mut all_spend = BTreeMap::new();
    for e in spend {
        let m = e.within(from, to);
        if m.minor == 0 {
            continue;
        }
        add(&mut all_spend, m);
        match e.key(by) {
            Some(k) => add(spent.entry(k).or_default(), m),
            None => add(&mut unattributed, m),
        }
    }
    let mut tally_of: BTreeMap<ChannelKey, ChannelTally> = BTreeMap::new();
    for t in tallies {
        tally_of
            .entry(t.key.clone())
            .or_insert_with(|| ChannelTally {
                key: t.key.clone(),
                label: t.label.clone(),
                ..Default::default()
            })
            .absorb(t);
    }
    let mut keys: Vec<ChannelKey> = tally_of.keys().cloned().collect();
    keys.extend(spent.keys().filter(|k| !tally_of.contains_key(*k)).cloned());
    let mut rows: Vec<ChannelRow> = keys
        .into_iter()
        .map(|k| {
            let s = spent.remove(&k).unwrap_or_default();
            row(k.clone(), tally_of.get(&k), s, currency)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.leads
            .cmp(&a.leads)
            .then(b.spend_in(currency).cmp(&a.spend_in(currency)))
            .then(b.interests.cmp(&a.interests))
            .then(a.key.cmp(&b.key))
    });
    let mut sum = ChannelTally::default();
    for t in tally_of.values() {
        sum.absorb(t);
    }
    let total = row(ChannelKey::default(), Some(&sum), all_spend, currency);
    ChannelReport {
        by,
        from,
        to,
        currency,
        rows,
        total,
        unattributed_spend: listed(unattributed, currency),
    }
}

/// A Monday, midnight UTC (1970-01-05): weeks are counted from it.
pub const WEEK_ORIGIN: Millis = 4 * 86_400_000;
pub const WEEK: Millis = 7 * 86_400_000;

/// The Monday (midnight UTC) that starts the week of `at`.
pub fn week_of(at: Millis) -> Millis {
    WEEK_ORIGIN + (at - WEEK_ORIGIN).div_euclid(WEEK) * WEEK
}

/// Leads of one channel created in one week, as the store counts them.
#[derive(Debug, Clone, PartialEq)]
pub struct WeekTally {
    pub key: ChannelKey,
    pub label: Option<String>,
    /// The Monday that starts the week.
    pub week: Millis,
    /// Leads, junk left out.
    pub leads: i64,
}

/// Leads per week of the channels that brought the most, the rest together, and all.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyLeads {
    /// Every week of the period, the earliest first (by its Monday).
    pub weeks: Vec<Millis>,
    /// The channels shown on their own, the most leads first.
    pub channels: Vec<WeeklyChannel>,
    /// The other channels' leads per week (zeros when there are none).
    pub others: Vec<i64>,
    /// Every channel's leads per week.
    pub total: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeeklyChannel {
    pub key: ChannelKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Leads per week, in the order of `weeks`.
    pub leads: Vec<i64>,
}

/// Lays the weekly tallies of `[from, to)` out as a table: every week of the period (none left
/// out for having no leads), the `shown` channels with the most leads in their own rows.
pub fn weekly_leads(from: Millis, to: Millis, tallies: &[WeekTally], shown: usize) -> WeeklyLeads {
    let mut weeks = Vec::new();
    if to > from {
        let mut w = week_of(from);
        while w < to {
            weeks.push(w);
            w += WEEK;
        }
    }
    let at = |week: Millis| weeks.binary_search(&week).ok();
    let mut per: BTreeMap<ChannelKey, (Option<String>, Vec<i64>)> = BTreeMap::new();
    let mut total = vec![0; weeks.len()];
    for t in tallies {
        let Some(i) = at(week_of(t.week)) else {
            continue;
        };
        let e = per
            .entry(t.key.clone())
            .or_insert_with(|| (t.label.clone(), vec![0; weeks.len()]));
        e.1[i] += t.leads;
        total[i] += t.leads;
    }
    let mut ranked: Vec<(ChannelKey, Option<String>, Vec<i64>)> =
        per.into_iter().map(|(k, (l, v))| (k, l, v)).collect();
    ranked.sort_by(|a, b| {
        let sum = |v: &Vec<i64>| v.iter().sum::<i64>();
        sum(&b.2).cmp(&sum(&a.2)).then(a.0.cmp(&b.0))
    });
    let mut others = vec![0; weeks.len()];
    for (_, _, v) in ranked.iter().skip(shown) {
        for (o, x) in others.iter_mut().zip(v) {
            *o += x;
        }
    }
    WeeklyLeads {
        channels: ranked
            .into_iter()
            .take(shown)
            .map(|(key, label, leads)| WeeklyChannel { key, label, leads })
            .collect(),
        weeks,
        others,
        total,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Millis = 86_400_000;

    fn rub() -> Currency {
        Currency::parse("RUB").unwrap()
    }

    fn eur() -> Currency {
        Currency::parse("EUR").unwrap()
    }

    fn source(s: &str) -> ChannelKey {
        ChannelKey {
            source: Some(s.into()),
            ..Default::default()
        }
    }

    fn spend(source: &str, medium: Option<&str>, days: (i64, i64), minor: i64) -> SpendEntry {
        SpendEntry {
            id: 1,
            source: source.into(),
            medium: medium.map(Into::into),
            campaign: None,
            starts_at: days.0 * DAY,
            ends_at: days.1 * DAY,
            amount: Money::new(minor, rub()),
            note: None,
            created_by: None,
            created_at: 0,
        }
    }

    #[test]
    fn spend_is_spread_over_its_days() {
        // 30 days for 3,000.00: ten days of it in the period are 1,000.00.
        assert_eq!(prorate(300_000, 0, 30 * DAY, 20 * DAY, 40 * DAY), 100_000);
        assert_eq!(prorate(300_000, 0, 30 * DAY, -DAY, 31 * DAY), 300_000);
        assert_eq!(prorate(300_000, 0, 30 * DAY, 30 * DAY, 40 * DAY), 0);
        assert_eq!(prorate(300_000, 10 * DAY, 10 * DAY, 0, 40 * DAY), 0);
        // 100 kopecks over three days, one day of it: 33.33… rounds to 33; two days to 67.
        assert_eq!(prorate(100, 0, 3 * DAY, 0, DAY), 33);
        assert_eq!(prorate(100, 0, 3 * DAY, 0, 2 * DAY), 67);
        assert_eq!(prorate(-100, 0, 3 * DAY, 0, 2 * DAY), -67);
        // The largest amounts do not overflow.
        assert_eq!(
            prorate(Money::MAX_MINOR, 0, 2 * DAY, 0, DAY),
            Money::MAX_MINOR / 2
        );
    }

    #[test]
    fn a_row_weighs_what_a_channel_brought_against_what_it_cost() {
        let tallies = vec![ChannelTally {
            key: source("google"),
            leads: 40,
            mql: 10,
            sql: 5,
            converted: 4,
            revenue: vec![Money::new(1_000_000, rub()), Money::new(5_000, eur())],
            ..Default::default()
        }];
        let spends = [spend("google", Some("cpc"), (0, 30), 300_000)];
        let r = channel_report(ChannelBy::Source, 0, 30 * DAY, rub(), &tallies, &spends);
        assert_eq!(r.rows.len(), 1);
        let g = &r.rows[0];
        assert_eq!(g.key, source("google"));
        assert_eq!(g.conversion_rate, Some(0.1));
        assert_eq!(g.spend, vec![Money::new(300_000, rub())]);
        assert_eq!(g.cost_per_lead, Some(Money::new(7_500, rub())));
        assert_eq!(g.cost_per_customer, Some(Money::new(75_000, rub())));
        // The euros are listed, not converted: no return to tell.
        assert_eq!(
            g.revenue,
            vec![Money::new(1_000_000, rub()), Money::new(5_000, eur())]
        );
        assert_eq!(g.roi, None);
        // Without them: (10,000 − 3,000) / 3,000.
        let mut roubles = tallies.clone();
        roubles[0].revenue.pop();
        let r = channel_report(ChannelBy::Source, 0, 30 * DAY, rub(), &roubles, &spends);
        assert!((r.rows[0].roi.unwrap() - 7.0 / 3.0).abs() < 1e-9);
        assert!(r.unattributed_spend.is_empty());
        assert_eq!(r.total.spend, g.spend);
    }

    #[test]
    fn channels_that_only_cost_have_rows_and_spend_without_the_grouping_is_set_apart() {
        let tallies = vec![ChannelTally {
            key: ChannelKey {
                medium: Some("cpc".into()),
                ..Default::default()
            },
            leads: 3,
            ..Default::default()
        }];
        let spends = [
            spend("yandex", Some("cpc"), (0, 10), 10_000),
            spend("vk", Some("social"), (0, 10), 20_000),
            // The source's whole budget: no medium to put it under.
            spend("google", None, (0, 10), 5_000),
        ];
        let r = channel_report(ChannelBy::Medium, 0, 10 * DAY, rub(), &tallies, &spends);
        let media: Vec<(Option<&str>, i64, i64)> = r
            .rows
            .iter()
            .map(|x| (x.key.medium.as_deref(), x.leads, x.spend_in(rub())))
            .collect();
        assert_eq!(
            media,
            vec![(Some("cpc"), 3, 10_000), (Some("social"), 0, 20_000)]
        );
        let social = &r.rows[1];
        assert_eq!(social.cost_per_lead, None);
        assert_eq!(social.roi, Some(-1.0));
        assert_eq!(r.unattributed_spend, vec![Money::new(5_000, rub())]);
        assert_eq!(r.total.spend_in(rub()), 35_000);
        assert_eq!(r.total.leads, 3);
        // By form no spend has a row.
        let r = channel_report(ChannelBy::Form, 0, 10 * DAY, rub(), &[], &spends);
        assert!(r.rows.is_empty());
        assert_eq!(r.unattributed_spend, vec![Money::new(35_000, rub())]);
    }

    #[test]
    fn money_in_another_currency_is_listed_but_not_divided() {
        let tallies = vec![ChannelTally {
            key: source("facebook"),
            leads: 10,
            converted: 1,
            revenue: vec![Money::new(50_000, rub())],
            ..Default::default()
        }];
        let mut e = spend("facebook", None, (0, 10), 10_000);
        e.amount.currency = eur();
        let spends = [e];
        let r = channel_report(ChannelBy::Source, 0, 10 * DAY, rub(), &tallies, &spends);
        let f = &r.rows[0];
        assert_eq!(f.spend, vec![Money::new(10_000, eur())]);
        assert_eq!(f.cost_per_lead, None);
        assert_eq!(f.roi, None);
        // In euros the same row divides the spend; its revenue is in roubles: no return.
        let r = channel_report(ChannelBy::Source, 0, 10 * DAY, eur(), &tallies, &spends);
        let f = &r.rows[0];
        assert_eq!(f.cost_per_lead, Some(Money::new(1_000, eur())));
        assert_eq!(f.roi, None);
        assert_eq!(f.revenue, vec![Money::new(50_000, rub())]);
        // Spend in two currencies divides in neither.
        let mut both = spends.to_vec();
        both.push(spend("facebook", None, (0, 10), 90_000));
        let r = channel_report(ChannelBy::Source, 0, 10 * DAY, rub(), &tallies, &both);
        let f = &r.rows[0];
        assert_eq!(
            f.spend,
            vec![Money::new(90_000, rub()), Money::new(10_000, eur())]
        );
        assert_eq!(
            (f.cost_per_lead, f.cost_per_customer, f.roi),
            (None, None, None)
        );
    }

    #[test]
    fn rows_with_the_most_leads_come_first_and_spend_outside_the_period_counts_nowhere() {
        let tallies = vec![
            ChannelTally {
                key: source("a"),
                leads: 1,
                ..Default::default()
            },
            ChannelTally {
                key: source("b"),
                leads: 5,
                ..Default::default()
            },
            ChannelTally {
                key: ChannelKey::default(),
                leads: 2,
                interests: 7,
                ..Default::default()
            },
        ];
        let spends = [spend("c", None, (100, 130), 9_999)];
        let r = channel_report(ChannelBy::Source, 0, 10 * DAY, rub(), &tallies, &spends);
        let order: Vec<Option<&str>> = r.rows.iter().map(|x| x.key.source.as_deref()).collect();
        assert_eq!(order, vec![Some("b"), None, Some("a")]);
        assert_eq!(r.total.leads, 8);
        assert_eq!(r.total.interests, 7);
        assert!(r.total.spend.is_empty());
    }

    #[test]
    fn weeks_start_on_monday_and_every_week_of_the_period_has_a_column() {
        // 2026-12-07 is a Monday; 2026-12-09 a Wednesday.
        let monday = 1_796_601_600_000;
        assert_eq!(week_of(monday), monday);
        assert_eq!(week_of(monday + 2 * DAY + 5), monday);
        assert_eq!(week_of(monday - 1), monday - WEEK);
        let t = |s: &str, week: Millis, leads: i64| WeekTally {
            key: source(s),
            label: None,
            week,
            leads,
        };
        let tallies = [
            t("a", monday - 2 * WEEK, 5),
            t("b", monday, 1),
            t("c", monday, 2),
            t("a", monday, 1),
            // Outside the period: left out.
            t("a", monday + 5 * WEEK, 100),
        ];
        // From a Thursday three weeks back to the Wednesday of this week.
        let w = weekly_leads(monday - 2 * WEEK - 4 * DAY, monday + 3 * DAY, &tallies, 2);
        assert_eq!(
            w.weeks,
            vec![monday - 3 * WEEK, monday - 2 * WEEK, monday - WEEK, monday]
        );
        let rows: Vec<(Option<&str>, &Vec<i64>)> = w
            .channels
            .iter()
            .map(|c| (c.key.source.as_deref(), &c.leads))
            .collect();
        assert_eq!(
            rows,
            vec![
                (Some("a"), &vec![0, 5, 0, 1]),
                (Some("c"), &vec![0, 0, 0, 2])
            ]
        );
        assert_eq!(w.others, vec![0, 0, 0, 1]);
        assert_eq!(w.total, vec![0, 5, 0, 4]);
        assert!(weekly_leads(10, 10, &tallies, 2).weeks.is_empty());
    }

    #[test]
    fn a_channel_is_named_by_its_grouping() {
        let k = ChannelKey {
            source: Some("google".into()),
            medium: None,
            ..Default::default()
        };
        assert_eq!(k.label(ChannelBy::Source, None, "(none)"), "google");
        assert_eq!(
            k.label(ChannelBy::SourceMedium, None, "(none)"),
            "google / (none)"
        );
        let f = ChannelKey {
            form_id: Some(3),
            ..Default::default()
        };
        assert_eq!(f.label(ChannelBy::Form, Some("Заявка"), "—"), "Заявка (#3)");
        assert_eq!(f.label(ChannelBy::Form, None, "—"), "#3");
        assert_eq!(ChannelKey::default().label(ChannelBy::Form, None, "—"), "—");
    }

    #[test]
    fn groupings_read_back_from_their_names() {
        for b in ChannelBy::ALL {
            assert_eq!(ChannelBy::parse(b.as_str()), Some(b));
        }
        assert_eq!(ChannelBy::parse("partner"), None);
    }
}
