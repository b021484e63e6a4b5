//! Channel analytics: the report of what each channel brought and cost, and the marketing spend
//! it weighs against.

use crate::{now_ms, Actor, App, AppError, FieldError, Message, Result};
use chrono::NaiveDate;
use voronka_core::channels::{
    channel_report, weekly_leads, ChannelBy, ChannelReport, SpendEntry, WeeklyLeads,
};
use voronka_core::intake::normalize::{channel_name, clean_text};
use voronka_core::{Currency, Id, Millis, Money};
use voronka_store::NewSpend;

const DAY_MS: Millis = 86_400_000;
/// The longest period a report or a spend entry covers, in days (about ten years).
pub const MAX_DAYS: i64 = 3_660;
/// The longest source, medium or campaign name, in characters.
pub const MAX_CHANNEL_NAME: usize = 200;
/// The longest note of a spend entry, in characters.
pub const MAX_SPEND_NOTE: usize = 500;

/// Spend as typed: days as `YYYY-MM-DD`, both counted; the amount in major units.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpendInput {
    pub source: String,
    #[serde(default)]
    pub medium: Option<String>,
    #[serde(default)]
    pub campaign: Option<String>,
    /// The first day paid for.
    pub from: String,
    /// The last day paid for.
    pub to: String,
    pub amount: String,
    /// The workspace's currency when none is given.
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

impl SpendInput {
    /// A stored entry as it would be typed again: its days as `YYYY-MM-DD`, both counted, and
    /// its amount as a plain number.
    pub fn of_entry(e: &SpendEntry) -> SpendInput {
        SpendInput {
            source: e.source.clone(),
            medium: e.medium.clone(),
            campaign: e.campaign.clone(),
            from: ymd(e.starts_at),
            to: ymd(e.ends_at - DAY_MS),
            amount: e.amount.amount_text(),
            currency: Some(e.amount.currency.as_str().to_string()),
            note: e.note.clone(),
        }
    }
}

/// A UTC day as `YYYY-MM-DD`, as the spend and report dates are typed.
pub fn ymd(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The start of a UTC day written `YYYY-MM-DD`.
pub fn day_start(field: &str, text: &str) -> std::result::Result<Millis, FieldError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| FieldError::new(field, Message::new("date_unreadable")))
}

fn optional_name(field: &str, v: &Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
    let v = clean_text(v.as_deref().unwrap_or(""));
    if v.chars().count() > MAX_CHANNEL_NAME {
        errors.push(FieldError::new(
            field,
            Message::new("channel_text_too_long").with("max", MAX_CHANNEL_NAME),
        ));
    }
    (!v.is_empty()).then_some(v)
}

fn invalid(errors: Vec<FieldError>) -> AppError {
    AppError::invalid_fields(Message::new("spend_invalid"), errors)
}

impl App {
    fn report_currency(&self, given: Option<&str>) -> Result<Currency> {
        let code = given
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .unwrap_or(&self.settings.default_currency);
        Currency::parse(code).map_err(|_| {
            AppError::invalid(
                "currency",
                Message::new("report_currency_invalid").with("given", code),
            )
        })
    }

    /// What each channel's leads of `[from, to)` came to and what the channel cost then, in
    /// `currency` (the workspace's when none). Everyone who sees reports sees it: it holds no
    /// personal data.
    pub async fn channel_report(
        &self,
        actor: &Actor,
        by: ChannelBy,
        from: Millis,
        to: Millis,
        currency: Option<&str>,
    ) -> Result<ChannelReport> {
        actor.require_reports()?;
        let currency = self.report_currency(currency)?;
        check_period(from, to)?;
        let tallies = self.store.channel_tallies(by, from, to).await?;
        let spend = self.store.spend_entries(from, to).await?;
        Ok(channel_report(by, from, to, currency, &tallies, &spend))
    }

    /// The leads of `[from, to)` per week: the `shown` channels with the most leads on their
    /// own, the rest together.
    pub async fn weekly_leads(
        &self,
        actor: &Actor,
        by: ChannelBy,
        from: Millis,
        to: Millis,
        shown: usize,
    ) -> Result<WeeklyLeads> {
        actor.require_reports()?;
        check_period(from, to)?;
        let tallies = self.store.channel_weeks(by, from, to).await?;
        Ok(weekly_leads(from, to, &tallies, shown))
    }

    /// The spend entries whose days overlap `[from, to)`, the latest first.
    pub async fn spend_entries(
        &self,
        actor: &Actor,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<SpendEntry>> {
        actor.require_reports()?;
        check_period(from, to)?;
        Ok(self.store.spend_entries(from, to).await?)
    }

    /// One spend entry.
    pub async fn spend_entry(&self, actor: &Actor, id: Id) -> Result<SpendEntry> {
        actor.require_reports()?;
        self.store
            .spend_entry(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("spend_not_found").with("id", id)))
    }

    /// Records what a channel cost for some days; for those who run the marketing (forms).
    pub async fn add_spend(&self, actor: &Actor, input: &SpendInput) -> Result<SpendEntry> {
        actor.require_forms()?;
        let row = self
            .checked_spend(actor, input, now_ms())
            .map_err(invalid)?;
        let mut tx = self.store.begin().await?;
        let id = tx.add_spend(&row).await?;
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "spend.add".into(),
            entity: "spend".into(),
            entity_id: Some(id),
            before: None,
            after: Some(spend_json(&row)),
            at: row.created_at,
        })
        .await?;
        tx.commit().await?;
        Ok(stored_entry(id, row))
    }

    /// The spend as it would be stored, or every field that is wrong.
    fn checked_spend(
        &self,
        actor: &Actor,
        input: &SpendInput,
        now: Millis,
    ) -> std::result::Result<NewSpend, Vec<FieldError>> {
        let mut errors = Vec::new();
        let source = clean_text(&input.source);
        if source.is_empty() {
            errors.push(FieldError::new(
                "source",
                Message::new("spend_source_required"),
            ));
        } else if source.chars().count() > MAX_CHANNEL_NAME {
            errors.push(FieldError::new(
                "source",
                Message::new("channel_text_too_long").with("max", MAX_CHANNEL_NAME),
            ));
        }
        let medium = optional_name("medium", &input.medium, &mut errors);
        let campaign = optional_name("campaign", &input.campaign, &mut errors);
        let from = day_start("from", &input.from)
            .map_err(|e| errors.push(e))
            .ok();
        let to = day_start("to", &input.to).map_err(|e| errors.push(e)).ok();
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                errors.push(FieldError::new(
                    "to",
                    Message::new("spend_ends_before_start"),
                ));
            } else if t.saturating_sub(f) / DAY_MS >= MAX_DAYS {
                errors.push(FieldError::new(
                    "to",
                    Message::new("period_too_long").with("max", MAX_DAYS),
                ));
            }
        }
        let currency = self
            .report_currency(input.currency.as_deref())
            .map_err(|e| {
                if let AppError::Invalid { fields, .. } = e {
                    errors.extend(fields);
                }
            })
            .ok();
        let amount = currency.and_then(|c| {
            let bounds = crate::error::AmountBounds {
                min_minor: 1,
                below: Message::new("spend_not_positive"),
                above: Message::new("spend_amount_too_large").with("max", Money::MAX_MINOR),
            };
            crate::error::typed_amount("amount", &input.amount, c, bounds, &mut errors)
        });
        let note = clean_text(input.note.as_deref().unwrap_or(""));
        if note.chars().count() > MAX_SPEND_NOTE {
            errors.push(FieldError::new(
                "note",
                Message::new("channel_text_too_long").with("max", MAX_SPEND_NOTE),
            ));
        }
        let (Some(from), Some(to), Some(amount), true) = (from, to, amount, errors.is_empty())
        else {
            return Err(errors);
        };
        // Named as the leads' own UTM tags are, or the spend would match none of them.
        Ok(NewSpend {
            source: channel_name(&source),
            medium: medium.as_deref().map(channel_name),
            campaign,
            starts_at: from,
            ends_at: to + DAY_MS,
            amount,
            note: (!note.is_empty()).then_some(note),
            created_by: actor.name(),
            created_at: now,
        })
    }

    /// Changes a spend entry to what `input` says (every field, as when it was entered); who
    /// entered it and when stay, and the audit log keeps what it was.
    pub async fn update_spend(
        &self,
        actor: &Actor,
        id: Id,
        input: &SpendInput,
    ) -> Result<SpendEntry> {
        actor.require_forms()?;
        let before = self.spend_entry(actor, id).await?;
        let not_found = || AppError::NotFound(Message::new("spend_not_found").with("id", id));
        let row = self
            .checked_spend(actor, input, now_ms())
            .map_err(invalid)?;
        let mut tx = self.store.begin().await?;
        if !tx.update_spend(id, &row).await? {
            return Err(not_found());
        }
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "spend.update".into(),
            entity: "spend".into(),
            entity_id: Some(id),
            before: serde_json::to_string(&before).ok(),
            after: Some(spend_json(&row)),
            at: row.created_at,
        })
        .await?;
        tx.commit().await?;
        Ok(SpendEntry {
            created_by: before.created_by,
            created_at: before.created_at,
            ..stored_entry(id, row)
        })
    }

    /// Deletes a spend entry (entered by mistake); the audit log keeps what it was.
    pub async fn delete_spend(&self, actor: &Actor, id: Id) -> Result<()> {
        actor.require_forms()?;
        let not_found = || AppError::NotFound(Message::new("spend_not_found").with("id", id));
        let entry = self.store.spend_entry(id).await?.ok_or_else(not_found)?;
        let mut tx = self.store.begin().await?;
        if !tx.delete_spend(id).await? {
            return Err(not_found());
        }
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "spend.delete".into(),
            entity: "spend".into(),
            entity_id: Some(id),
            before: serde_json::to_string(&entry).ok(),
            after: None,
            at: now_ms(),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// An entry as stored from `row` under `id`.
fn stored_entry(id: Id, row: NewSpend) -> SpendEntry {
    SpendEntry {
        id,
        source: row.source,
        medium: row.medium,
        campaign: row.campaign,
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        amount: row.amount,
        note: row.note,
        created_by: Some(row.created_by),
        created_at: row.created_at,
    }
}

fn spend_json(s: &NewSpend) -> String {
    serde_json::json!({
        "source": s.source,
        "medium": s.medium,
        "campaign": s.campaign,
        "starts_at": s.starts_at,
        "ends_at": s.ends_at,
        "amount": s.amount,
        "note": s.note,
    })
    .to_string()
}

/// A report's period: `from` before `to`, at most [`MAX_DAYS`] long.
fn check_period(from: Millis, to: Millis) -> Result<()> {
    if to <= from {
        return Err(AppError::invalid(
            "to",
            Message::new("period_ends_before_start"),
        ));
    }
    if to.saturating_sub(from) / DAY_MS > MAX_DAYS {
        return Err(AppError::invalid(
            "to",
            Message::new("period_too_long").with("max", MAX_DAYS),
        ));
    }
    Ok(())
}

/// What a file of spend did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SpendImport {
    /// Rows read (the header left out).
    pub rows: usize,
    /// Entries stored: rows of the same channel, days and currency are summed into one.
    pub added: usize,
    /// Entries of the same channel and days stored before, which the file replaced.
    pub replaced: u64,
}

/// What a file of spend leaves to its caller: the channel of rows that do not name it, and
/// their currency.
#[derive(Debug, Clone, Default)]
pub struct SpendDefaults {
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub currency: Option<String>,
}

/// The largest file of spend, in bytes, and its most rows.
pub const MAX_SPEND_FILE: usize = 4 << 20;
pub const MAX_SPEND_ROWS: usize = 20_000;
/// The most problems a refused file lists.
const LISTED_PROBLEMS: usize = 20;

#[derive(Clone, Copy, PartialEq, Eq)]
enum SpendColumn {
    Day,
    From,
    To,
    Source,
    Medium,
    Campaign,
    Amount,
    Currency,
    Note,
}

/// What a header names, in English or Russian, as ad platforms and spreadsheets write it.
fn spend_column(header: &str) -> Option<SpendColumn> {
    use SpendColumn::*;
    let h = header.trim().trim_start_matches('\u{feff}').to_lowercase();
    Some(match h.as_str() {
        "date" | "day" | "дата" | "день" => Day,
        "from" | "start" | "start date" | "starts" | "с" | "начало" | "дата начала" => {
            From
        }
        "to" | "end" | "end date" | "ends" | "по" | "конец" | "дата окончания" => {
            To
        }
        "source" | "utm_source" | "источник" => Source,
        "medium" | "utm_medium" | "тип трафика" => Medium,
        "campaign" | "utm_campaign" | "campaign name" | "кампания" | "название кампании" => {
            Campaign
        }
        "amount" | "cost" | "spend" | "spent" | "сумма" | "расход" | "расходы" | "стоимость"
        | "затраты" => Amount,
        "currency" | "currency code" | "валюта" => Currency,
        "note" | "comment" | "примечание" | "комментарий" => Note,
        _ => return None,
    })
}

/// A day as spreadsheets write it: `2026-11-30`, or `30.11.2026` as Russian exports do.
fn iso_day(text: &str) -> String {
    let t = text.trim();
    match NaiveDate::parse_from_str(t, "%d.%m.%Y") {
        Ok(d) => d.to_string(),
        Err(_) => t.to_string(),
    }
}

/// An amount without the currency sign or word a spreadsheet may add to it.
fn bare_amount(text: &str) -> String {
    let mut t = text.trim().to_string();
    for sign in ["₽", "$", "€", "£", "₴"] {
        t = t.replace(sign, "");
    }
    let lower = t.to_lowercase();
    for word in ["руб.", "руб", "rub"] {
        if let Some(rest) = lower.strip_suffix(word) {
            t = t[..rest.len()].to_string();
            break;
        }
    }
    t.trim().to_string()
}

impl App {
    /// Stores the spend of a CSV file (an ad platform's daily costs, a budget sheet): a row per
    /// channel and day (`date`) or days (`from`, `to`), with its amount. Rows of the same
    /// channel, days and currency are summed; entries stored before for the same channel and
    /// days are replaced, so a file sent again changes nothing. Any wrong row refuses the whole
    /// file, every problem listed with its row.
    pub async fn import_spend(
        &self,
        actor: &Actor,
        bytes: &[u8],
        defaults: &SpendDefaults,
    ) -> Result<SpendImport> {
        actor.require_forms()?;
        if bytes.len() > MAX_SPEND_FILE {
            return Err(AppError::invalid(
                "file",
                Message::new("spend_file_too_large").with("max", MAX_SPEND_FILE >> 20),
            ));
        }
        let encoding = crate::transfer::sniff_encoding(bytes, true);
        let (text, _, _) = encoding.decode(bytes);
        let header_line = text.lines().next().unwrap_or("");
        let delimiter = crate::transfer::sniff_delimiter(header_line);
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|_| AppError::invalid("file", Message::new("spend_file_unreadable")))?
            .clone();
        let columns: Vec<Option<SpendColumn>> = headers.iter().map(spend_column).collect();
        let has = |c: SpendColumn| columns.contains(&Some(c));
        use SpendColumn::*;
        let dated = has(Day) || (has(From) && has(To));
        if !has(Amount) || !dated || !(has(Source) || defaults.source.is_some()) {
            return Err(AppError::invalid(
                "file",
                Message::new("spend_file_columns")
                    .with("found", headers.iter().collect::<Vec<_>>().join(", ")),
            ));
        }
        let now = now_ms();
        let mut problems: Vec<FieldError> = Vec::new();
        // (channel, days, currency) → the entry, amounts summed.
        let mut entries: Vec<NewSpend> = Vec::new();
        let mut rows = 0;
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            let Ok(record) = record else {
                problems.push(FieldError::new(
                    &format!("row {line}"),
                    Message::new("spend_row_unreadable"),
                ));
                continue;
            };
            if record.iter().all(|v| v.trim().is_empty()) {
                continue;
            }
            rows += 1;
            if rows > MAX_SPEND_ROWS {
                return Err(AppError::invalid(
                    "file",
                    Message::new("spend_file_too_long").with("max", MAX_SPEND_ROWS),
                ));
            }
            let cell = |c: SpendColumn| {
                columns
                    .iter()
                    .position(|x| *x == Some(c))
                    .and_then(|at| record.get(at))
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
            };
            let day = cell(Day);
            let input = SpendInput {
                source: cell(Source)
                    .or_else(|| defaults.source.clone())
                    .unwrap_or_default(),
                medium: cell(Medium).or_else(|| defaults.medium.clone()),
                campaign: cell(Campaign).or_else(|| defaults.campaign.clone()),
                from: iso_day(&cell(From).or_else(|| day.clone()).unwrap_or_default()),
                to: iso_day(&cell(To).or(day).unwrap_or_default()),
                amount: bare_amount(&cell(Amount).unwrap_or_default()),
                currency: cell(Currency).or_else(|| defaults.currency.clone()),
                note: cell(Note),
            };
            match self.checked_spend(actor, &input, now) {
                Ok(row) => {
                    let same = entries.iter_mut().find(|e| {
                        (&e.source, &e.medium, &e.campaign, e.starts_at, e.ends_at)
                            == (
                                &row.source,
                                &row.medium,
                                &row.campaign,
                                row.starts_at,
                                row.ends_at,
                            )
                            && e.amount.currency == row.amount.currency
                    });
                    match same {
                        Some(e) => e.amount.minor = e.amount.minor.saturating_add(row.amount.minor),
                        None => entries.push(row),
                    }
                }
                Err(errors) => problems.extend(errors.into_iter().map(|e| FieldError {
                    field: format!("row {line}: {}", e.field),
                    ..e
                })),
            }
        }
        if !problems.is_empty() {
            let listed: Vec<String> = problems
                .iter()
                .take(LISTED_PROBLEMS)
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            return Err(AppError::Invalid {
                message: Message::new("spend_file_invalid")
                    .with("count", problems.len())
                    .with("problems", listed.join("; ")),
                fields: problems.into_iter().take(LISTED_PROBLEMS).collect(),
            });
        }
        if entries.is_empty() {
            return Err(AppError::invalid("file", Message::new("spend_file_empty")));
        }
        let mut tx = self.store.begin().await?;
        let mut replaced = 0;
        for e in &entries {
            replaced += tx.delete_spend_like(e).await?;
        }
        for e in &entries {
            tx.add_spend(e).await?;
        }
        let done = SpendImport {
            rows,
            added: entries.len(),
            replaced,
        };
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "spend.import".into(),
            entity: "spend".into(),
            entity_id: None,
            before: None,
            after: serde_json::to_string(&done).ok(),
            at: now,
        })
        .await?;
        tx.commit().await?;
        Ok(done)
    }
}

/// A period from its days as typed (`YYYY-MM-DD`, both counted), as `[from, to)`: by default
/// it ends today (UTC) and is `default_days` long.
pub fn report_period(
    from: Option<&str>,
    to: Option<&str>,
    default_days: i64,
) -> Result<(Millis, Millis)> {
    let day = |field: &str, text: &str| {
        day_start(field, text).map_err(|e| AppError::Invalid {
            message: Message::new("date_unreadable"),
            fields: vec![e],
        })
    };
    let today = now_ms().div_euclid(DAY_MS) * DAY_MS;
    let to = to.map(str::trim).filter(|v| !v.is_empty());
    let from = from.map(str::trim).filter(|v| !v.is_empty());
    let last = match to {
        Some(t) => day("to", t)?,
        None => today,
    };
    let first = match from {
        Some(f) => day("from", f)?,
        None => last.saturating_sub((default_days - 1) * DAY_MS),
    };
    let end = last.saturating_add(DAY_MS);
    check_period(first, end)?;
    Ok((first, end))
}

/// The report as a CSV file for a spreadsheet, with UTF-8's byte-order mark: a row per channel
/// and one for all of them; money as plain numbers in the report's currency, and what is in
/// other currencies as text beside it.
pub fn channel_report_csv(r: &ChannelReport) -> Result<Vec<u8>> {
    use voronka_core::channels::ChannelRow;
    let c = r.currency;
    let others = |list: &[Money]| {
        list.iter()
            .filter(|m| m.currency != c)
            .map(|m| format!("{} {}", m.amount_text(), m.currency.as_str()))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let in_c = |minor: i64| Money::new(minor, c).amount_text();
    let opt = |m: Option<Money>| m.map(|m| m.amount_text()).unwrap_or_default();
    let ratio = |x: Option<f64>| x.map(|x| format!("{x:.4}")).unwrap_or_default();
    let text = |v: &Option<String>| crate::transfer::spreadsheet_safe(v.as_deref().unwrap_or(""));
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let io = |e: csv::Error| AppError::Io(e.to_string());
        let cur = c.as_str();
        w.write_record([
            "source".to_string(),
            "medium".into(),
            "campaign".into(),
            "form_id".into(),
            "form".into(),
            "interests".into(),
            "leads".into(),
            "junk".into(),
            "mql".into(),
            "sql".into(),
            "converted".into(),
            "refused".into(),
            "conversion_rate".into(),
            format!("revenue_{cur}"),
            "revenue_other_currencies".into(),
            format!("spend_{cur}"),
            "spend_other_currencies".into(),
            format!("cost_per_lead_{cur}"),
            format!("cost_per_customer_{cur}"),
            "roi".into(),
        ])
        .map_err(io)?;
        let mut line = |row: &ChannelRow, all: bool| {
            let k = &row.key;
            w.write_record([
                if all {
                    "*".to_string()
                } else {
                    text(&k.source)
                },
                text(&k.medium),
                text(&k.campaign),
                k.form_id.map(|id| id.to_string()).unwrap_or_default(),
                text(&row.label),
                row.interests.to_string(),
                row.leads.to_string(),
                row.junk.to_string(),
                row.mql.to_string(),
                row.sql.to_string(),
                row.converted.to_string(),
                row.refused.to_string(),
                ratio(row.conversion_rate),
                in_c(row.revenue_in(c)),
                others(&row.revenue),
                in_c(row.spend_in(c)),
                others(&row.spend),
                opt(row.cost_per_lead),
                opt(row.cost_per_customer),
                ratio(row.roi),
            ])
        };
        for row in &r.rows {
            line(row, false).map_err(io)?;
        }
        line(&r.total, true).map_err(io)?;
        w.flush().map_err(|e| AppError::Io(e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use voronka_core::channels::{ChannelKey, ChannelTally};

    #[test]
    fn the_csv_has_a_row_per_channel_and_keeps_formulas_as_text() {
        let rub = Currency::parse("RUB").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let tallies = vec![ChannelTally {
            key: ChannelKey {
                source: Some("=HYPERLINK(\"x\")".into()),
                ..Default::default()
            },
            leads: 4,
            converted: 1,
            revenue: vec![Money::new(100_000, rub), Money::new(-50, eur)],
            ..Default::default()
        }];
        let r = channel_report(ChannelBy::Source, 0, DAY_MS, rub, &tallies, &[]);
        let bytes = channel_report_csv(&r).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with('\u{feff}'));
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("source,medium,") && lines[0].contains(",revenue_RUB,"));
        assert_eq!(
            lines[1],
            "\"'=HYPERLINK(\"\"x\"\")\",,,,,0,4,0,0,0,1,0,0.2500,1000.00,-0.50 EUR,0.00,,,,"
        );
        assert!(lines[2].starts_with("*,,,,,0,4,"), "{}", lines[2]);
    }
}
