//! CSV import through the intake pipeline, and streamed export of leads.

use crate::{Actor, App, AppError, CaptureRequest, CaptureResult, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use tokio::task::JoinSet;
use voronka_core::intake::keys::{email_key, social_key};
use voronka_core::intake::{NormalizeSettings, Submission};
use voronka_core::Channel;
use voronka_store::{LeadQuery, LeadSort};

/// Header → field overrides, read from a TOML file:
/// ```toml
/// [columns]
/// "Client" = "name"
/// "Cell" = "phone"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ImportMap {
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

impl ImportMap {
    pub fn from_toml(text: &str) -> Result<ImportMap> {
        let m: ImportMap = toml::from_str(text)
            .map_err(|e| AppError::invalid("map", format!("mapping file: {e}")))?;
        for field in m.columns.values() {
            if !voronka_core::intake::normalize::KNOWN_FIELDS.contains(&field.as_str())
                && field != "ignore"
            {
                return Err(AppError::invalid(
                    "map",
                    format!(
                        "mapping file: unknown field {field:?}; known: {}",
                        voronka_core::intake::normalize::KNOWN_FIELDS.join(", ")
                    ),
                ));
            }
        }
        Ok(m)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportSummary {
    pub rows: u64,
    pub created: u64,
    pub attached: u64,
    pub reopened: u64,
    pub interests: u64,
    pub rejected: u64,
    /// Rows already imported by an earlier run.
    pub skipped: u64,
    pub failed: u64,
    /// Column → field as detected.
    pub mapping: Vec<(String, String)>,
}

/// Recognizes the usual headers of spreadsheets and of HubSpot, Salesforce, amoCRM and Bitrix24 exports.
pub fn detect_field(header: &str) -> Option<&'static str> {
    let h: String = header
        .trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == '_' || c == '-' { ' ' } else { c })
        .collect();
    let h = h.split_whitespace().collect::<Vec<_>>().join(" ");
    let f = match h.as_str() {
        "name"
        | "full name"
        | "fullname"
        | "contact name"
        | "contact"
        | "фио"
        | "имя"
        | "полное имя"
        | "имя контакта"
        | "контакт"
        | "клиент"
        | "основной контакт" => "name",
        "first name" | "firstname" | "given name" => "first_name",
        "last name" | "lastname" | "surname" | "family name" | "фамилия" => "last_name",
        "email"
        | "e mail"
        | "email address"
        | "e mail address"
        | "work email"
        | "почта"
        | "email адрес"
        | "электронная почта"
        | "рабочий e mail"
        | "рабочий email"
        | "личный e mail"
        | "e mail рабочий" => "email",
        "phone"
        | "phone number"
        | "mobile"
        | "mobile phone"
        | "mobile phone number"
        | "telephone"
        | "телефон"
        | "мобильный телефон"
        | "рабочий телефон"
        | "телефон мобильный"
        | "мобильный"
        | "номер телефона" => "phone",
        "company"
        | "company name"
        | "account name"
        | "organization"
        | "organisation"
        | "компания"
        | "название компании"
        | "организация" => "company",
        "position" | "job title" | "title" | "должность" | "позиция" => "position",
        "source"
        | "lead source"
        | "original source"
        | "источник"
        | "источник лида"
        | "utm source" => "utm_source",
        "medium" | "utm medium" => "utm_medium",
        "campaign" | "utm campaign" | "кампания" | "рекламная кампания" => {
            "utm_campaign"
        }
        "utm term" | "keyword" | "ключевое слово" => "utm_term",
        "utm content" => "utm_content",
        "message"
        | "comment"
        | "comments"
        | "description"
        | "notes"
        | "комментарий"
        | "сообщение"
        | "описание"
        | "примечание" => "message",
        "product" | "interest" | "продукт" | "товар" | "услуга" | "интерес" => {
            "product"
        }
        "country" | "страна" => "country",
        "language" | "язык" => "language",
        "budget" | "amount" | "deal amount" | "бюджет" | "сумма" => "value",
        "currency" | "валюта" => "currency",
        "page" | "landing page" | "страница" => "page",
        "referrer" | "реферер" => "referrer",
        "social" | "vk" | "telegram" | "linkedin" | "соцсеть" => "social",
        _ => return None,
    };
    Some(f)
}

fn resolve_mapping(headers: &csv::StringRecord, map: Option<&ImportMap>) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = headers
        .iter()
        .map(|h| {
            let key = h.trim_start_matches('\u{feff}').trim();
            if let Some(f) = map.and_then(|m| m.columns.get(key)) {
                return if f == "ignore" { None } else { Some(f.clone()) };
            }
            detect_field(key)
                .map(str::to_string)
                .or_else(|| Some(format!("x_{key}")))
        })
        .collect();
    // "Имя" beside "Фамилия" is a first name.
    if out.iter().any(|f| f.as_deref() == Some("last_name")) {
        for f in out.iter_mut() {
            if f.as_deref() == Some("name") {
                *f = Some("first_name".into());
            }
        }
    }
    // Only the first column of a field counts; later ones are kept as custom attributes.
    let mut seen = std::collections::HashSet::new();
    for (i, f) in out.iter_mut().enumerate() {
        if let Some(name) = f.clone() {
            if !name.starts_with("x_") && !seen.insert(name.clone()) {
                *f = Some(format!("x_{}", headers.get(i).unwrap_or("column")));
            }
        }
    }
    out
}

/// Stable key of a row so that re-running an import adds nothing.
fn row_hash(source: &str, rec: &csv::StringRecord) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(source.as_bytes());
    for f in rec.iter() {
        h.update([0x1f]);
        h.update(f.trim().as_bytes());
    }
    let d = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

/// At most this many rows are in the pipeline at once; memory stays flat for any file size.
const IN_FLIGHT: usize = 2048;

/// The keys dedup matches a person by (valid phones, emails, social profiles).
fn person_keys(sub: &Submission, settings: &NormalizeSettings) -> Vec<String> {
    let n = voronka_core::intake::normalize(sub, settings);
    let phones = n
        .phones
        .iter()
        .filter(|p| p.valid)
        .filter_map(|p| p.e164.as_ref());
    let mut keys: Vec<String> = phones.map(|p| format!("p:{p}")).collect();
    keys.extend(n.emails.iter().map(|e| format!("e:{}", email_key(e))));
    keys.extend(n.socials.iter().map(|s| format!("s:{}", social_key(s))));
    keys
}

impl App {
    /// Imports a CSV through the intake pipeline. `rejected` receives each row that did not
    /// become a lead, with its reasons. `progress` is called with the number of rows read.
    pub async fn import_csv<R: Read, W: Write>(
        &self,
        actor: &Actor,
        input: R,
        map: Option<&ImportMap>,
        source: Option<&str>,
        rejected: Option<&mut csv::Writer<W>>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportSummary> {
        actor.require_write_leads()?;
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| AppError::invalid("file", format!("cannot read the CSV header: {e}")))?
            .clone();
        let mapping = resolve_mapping(&headers, map);
        if !mapping
            .iter()
            .any(|f| matches!(f.as_deref(), Some("phone" | "email" | "social")))
        {
            return Err(AppError::invalid(
                "file",
                "no phone, email or social column found; give a mapping file with --map",
            ));
        }
        let mut summary = ImportSummary {
            mapping: headers
                .iter()
                .zip(&mapping)
                .filter_map(|(h, f)| {
                    f.as_ref()
                        .filter(|f| !f.starts_with("x_"))
                        .map(|f| (h.to_string(), f.clone()))
                })
                .collect(),
            ..Default::default()
        };
        let mut rejected = rejected;
        if let Some(w) = rejected.as_deref_mut() {
            let mut head: Vec<String> = vec!["row".into(), "result".into(), "reasons".into()];
            head.extend(headers.iter().map(str::to_string));
            w.write_record(&head)
                .map_err(|e| AppError::Io(e.to_string()))?;
        }
        let source = source
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let mut occurrences: HashMap<[u8; 16], u32> = HashMap::new();
        // Rows run concurrently, but rows about the same person are captured in file order: a row
        // waits until the earlier rows sharing a phone, email or social profile have committed,
        // so the first of them makes the lead and the later ones attach to it.
        let norm_settings = NormalizeSettings {
            default_region: self.settings.default_region.clone(),
            ..Default::default()
        };
        let mut people: HashMap<String, tokio::sync::watch::Receiver<()>> = HashMap::new();
        let mut tasks: JoinSet<(u64, csv::StringRecord, Result<crate::CaptureOutcome>)> =
            JoinSet::new();
        let mut record = csv::StringRecord::new();
        let mut row_no: u64 = 1;
        loop {
            let more = match reader.read_record(&mut record) {
                Ok(m) => m,
                Err(e) => {
                    row_no += 1;
                    summary.rows += 1;
                    summary.failed += 1;
                    if let Some(w) = rejected.as_deref_mut() {
                        let _ = w.write_record([
                            row_no.to_string(),
                            "error".into(),
                            format!("unreadable row: {e}"),
                        ]);
                    }
                    continue;
                }
            };
            if !more {
                break;
            }
            row_no += 1;
            summary.rows += 1;
            let hash = row_hash(source.as_deref().unwrap_or(""), &record);
            let n = occurrences.entry(hash).or_insert(0);
            *n += 1;
            let key = format!("import:{}#{}", hex::encode(hash), n);
            let mut sub = Submission::new(Channel::Import, crate::now_ms());
            for (value, field) in record.iter().zip(&mapping) {
                if let Some(field) = field {
                    if !value.is_empty() {
                        sub.fields.insert(field.clone(), value.to_string());
                    }
                }
            }
            if let Some(s) = &source {
                sub.fields
                    .entry("utm_source".into())
                    .or_insert_with(|| s.clone());
            }
            let (done, done_rx) = tokio::sync::watch::channel(());
            let earlier: Vec<_> = person_keys(&sub, &norm_settings)
                .into_iter()
                .filter_map(|k| people.insert(k, done_rx.clone()))
                .collect();
            let app = self.clone();
            let rec = record.clone();
            tasks.spawn(async move {
                for mut rx in earlier {
                    // Resolves when the earlier row's task ends and drops its sender.
                    let _ = rx.changed().await;
                }
                let out = app
                    .capture(CaptureRequest {
                        submission: sub,
                        form: None,
                        idempotency_key: Some(key),
                        client: None,
                    })
                    .await;
                drop(done);
                (row_no, rec, out)
            });
            if people.len() > 4 * IN_FLIGHT {
                people.retain(|_, rx| rx.has_changed().is_ok());
            }
            while tasks.len() >= IN_FLIGHT {
                if let Some(done) = tasks.join_next().await {
                    account(&mut summary, done, rejected.as_deref_mut())?;
                }
            }
            if summary.rows.is_multiple_of(1000) {
                progress(summary.rows);
            }
        }
        while let Some(done) = tasks.join_next().await {
            account(&mut summary, done, rejected.as_deref_mut())?;
        }
        progress(summary.rows);
        if summary.created > 0 {
            // The imported leads join the search index in bulk, not row by row.
            self.catch_up_search_index().await?;
            self.store.optimize().await?;
        }
        if let Some(w) = rejected {
            w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        }
        Ok(summary)
    }

    /// Writes every lead matching the query, oldest first, in pages: memory stays constant.
    pub async fn export_leads<W: Write>(
        &self,
        actor: &Actor,
        mut q: LeadQuery,
        format: ExportFormat,
        out: W,
    ) -> Result<u64> {
        actor.require_export()?;
        q.visibility = actor.visibility();
        q.sort = LeadSort::CreatedAsc;
        q.limit = 1000;
        q.after = None;
        let mut csv_out = None;
        let mut raw_out = None;
        match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(EXPORT_COLUMNS).map_err(io)?;
                csv_out = Some(w);
            }
            ExportFormat::Jsonl => raw_out = Some(std::io::BufWriter::new(out)),
        }
        let mut n = 0;
        loop {
            let page = self.store.list_leads(&q).await?;
            let Some(last) = page.last() else { break };
            q.after = Some(last.cursor());
            for row in &page {
                n += 1;
                if let Some(w) = csv_out.as_mut() {
                    w.write_record(export_record(row)).map_err(io)?;
                }
                if let Some(w) = raw_out.as_mut() {
                    serde_json::to_writer(&mut *w, row).map_err(|e| AppError::Io(e.to_string()))?;
                    w.write_all(b"\n")
                        .map_err(|e| AppError::Io(e.to_string()))?;
                }
            }
            if (page.len() as i64) < q.limit {
                break;
            }
        }
        if let Some(mut w) = csv_out {
            w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        }
        if let Some(mut w) = raw_out {
            w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        }
        Ok(n)
    }
}

fn io(e: csv::Error) -> AppError {
    AppError::Io(e.to_string())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

const EXPORT_COLUMNS: [&str; 17] = [
    "id",
    "created_at",
    "stage",
    "temperature",
    "name",
    "email",
    "phone",
    "company",
    "product",
    "message",
    "value",
    "currency",
    "source",
    "medium",
    "campaign",
    "owner",
    "touches",
];

fn export_record(r: &voronka_store::LeadRow) -> Vec<String> {
    let l = &r.lead;
    let ts = chrono::DateTime::from_timestamp_millis(l.created_at)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    vec![
        l.id.to_string(),
        ts,
        l.stage.as_str().into(),
        l.temperature.as_str().into(),
        r.contact_name.clone(),
        s(&r.email),
        s(&r.phone),
        s(&r.company),
        s(&l.product),
        s(&l.message),
        l.value
            .map(|v| format!("{}.{:02}", v.minor / 100, (v.minor % 100).abs()))
            .unwrap_or_default(),
        l.value
            .map(|v| v.currency.as_str().to_string())
            .unwrap_or_default(),
        s(&l.source),
        s(&l.medium),
        s(&l.campaign),
        s(&r.owner_name),
        l.touches.to_string(),
    ]
}

fn account<W: Write>(
    summary: &mut ImportSummary,
    done: std::result::Result<
        (u64, csv::StringRecord, Result<crate::CaptureOutcome>),
        tokio::task::JoinError,
    >,
    rejected: Option<&mut csv::Writer<W>>,
) -> Result<()> {
    let (row, rec, outcome) = done.map_err(|e| AppError::Io(format!("import task failed: {e}")))?;
    let (label, reasons) = match outcome {
        Ok(o) if o.repeated => {
            summary.skipped += 1;
            return Ok(());
        }
        Ok(o) => match o.result {
            CaptureResult::Lead => {
                match o.action.as_str() {
                    "new_touch" => summary.attached += 1,
                    "reopened" => summary.reopened += 1,
                    _ => summary.created += 1,
                }
                return Ok(());
            }
            CaptureResult::Interest => {
                summary.interests += 1;
                (
                    "interest",
                    o.reasons
                        .iter()
                        .map(|r| r.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            }
            CaptureResult::Rejected => {
                summary.rejected += 1;
                (
                    "rejected",
                    o.reasons
                        .iter()
                        .map(|r| r.message.clone())
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            }
        },
        Err(e) => {
            summary.failed += 1;
            ("error", e.to_string())
        }
    };
    if let Some(w) = rejected {
        let mut out: Vec<String> = vec![row.to_string(), label.into(), reasons];
        out.extend(rec.iter().map(str::to_string));
        w.write_record(&out).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_common_headers() {
        assert_eq!(detect_field("ФИО"), Some("name"));
        assert_eq!(detect_field("Телефон"), Some("phone"));
        assert_eq!(detect_field("E-mail"), Some("email"));
        assert_eq!(detect_field("Рабочий e-mail"), Some("email"));
        assert_eq!(detect_field("Lead Source"), Some("utm_source"));
        assert_eq!(detect_field("Job Title"), Some("position"));
        assert_eq!(detect_field("\u{feff}Email"), Some("email"));
        assert_eq!(detect_field("UTM_Campaign"), Some("utm_campaign"));
        assert_eq!(detect_field("Shoe size"), None);
    }

    #[test]
    fn first_name_beside_last_name() {
        let h = csv::StringRecord::from(vec!["Имя", "Фамилия", "Телефон", "Телефон", "Размер"]);
        let m = resolve_mapping(&h, None);
        assert_eq!(m[0].as_deref(), Some("first_name"));
        assert_eq!(m[1].as_deref(), Some("last_name"));
        assert_eq!(m[2].as_deref(), Some("phone"));
        assert_eq!(m[3].as_deref(), Some("x_Телефон"));
        assert_eq!(m[4].as_deref(), Some("x_Размер"));
    }

    #[test]
    fn mapping_file_overrides_and_is_checked() {
        let m = ImportMap::from_toml("[columns]\n\"Cell\" = \"phone\"\n\"Junk\" = \"ignore\"\n")
            .unwrap();
        let h = csv::StringRecord::from(vec!["Cell", "Junk"]);
        let r = resolve_mapping(&h, Some(&m));
        assert_eq!(r, vec![Some("phone".to_string()), None]);
        assert!(ImportMap::from_toml("[columns]\n\"A\" = \"nonsense\"\n").is_err());
    }
}
