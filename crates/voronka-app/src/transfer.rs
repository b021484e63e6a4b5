//! CSV import through the intake pipeline, and streamed export of leads.

use crate::{Actor, App, AppError, CaptureRequest, CaptureResult, Message, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::io::{Read, Write};
use tokio::task::JoinSet;
use voronka_core::intake::keys::{email_key, social_key};
use voronka_core::intake::{NormalizeSettings, Submission};
use voronka_core::Channel;
use voronka_store::{LeadQuery, LeadSort};

/// Header → field overrides, read from a TOML file, and optionally how the file is written:
/// ```toml
/// encoding = "windows-1251"   # optional: found from the file when not given
/// delimiter = ";"             # optional: , ; | or tab
/// [columns]
/// "Client" = "name"
/// "Cell" = "phone"
/// ```
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportMap {
    #[serde(default)]
    pub encoding: Option<String>,
    #[serde(default)]
    pub delimiter: Option<String>,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
}

impl ImportMap {
    pub fn from_toml(text: &str) -> Result<ImportMap> {
        let m: ImportMap = toml::from_str(text).map_err(|e| {
            AppError::invalid(
                "map",
                Message::new("mapping_file_invalid").with("problem", e),
            )
        })?;
        for field in m.columns.values() {
            if !voronka_core::intake::normalize::KNOWN_FIELDS.contains(&field.as_str())
                && field != "ignore"
            {
                return Err(AppError::invalid(
                    "map",
                    Message::new("mapping_field_unknown")
                        .with("field", field)
                        .with(
                            "known",
                            voronka_core::intake::normalize::KNOWN_FIELDS.join(", "),
                        ),
                ));
            }
        }
        m.format()?;
        Ok(m)
    }

    /// The encoding and delimiter the mapping file names (each `None` when it names none).
    pub fn format(&self) -> Result<CsvFormat> {
        let named = |e: AppError| {
            AppError::invalid(
                "map",
                Message::new("mapping_file_invalid").with("problem", e),
            )
        };
        Ok(CsvFormat {
            encoding: match &self.encoding {
                Some(label) => Some(CsvFormat::encoding_named(label).map_err(named)?),
                None => None,
            },
            delimiter: match &self.delimiter {
                Some(d) => Some(CsvFormat::delimiter_named(d).map_err(named)?),
                None => None,
            },
        })
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
    /// The text encoding the file was read in (its WHATWG name, e.g. `windows-1251`).
    pub encoding: String,
    /// The field delimiter the file was read with.
    pub delimiter: char,
}

/// How a CSV file's bytes are read: its text encoding and its field delimiter. Either one not
/// given is found from the file's first bytes ([`sniff_encoding`], [`sniff_delimiter`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvFormat {
    pub encoding: Option<&'static encoding_rs::Encoding>,
    pub delimiter: Option<u8>,
}

impl CsvFormat {
    /// An encoding by any of its WHATWG labels (`utf-8`, `windows-1251`, `cp1251`, `koi8-r`,
    /// `utf-16le`, …).
    pub fn encoding_named(label: &str) -> Result<&'static encoding_rs::Encoding> {
        encoding_rs::Encoding::for_label(label.trim().as_bytes()).ok_or_else(|| {
            AppError::invalid(
                "encoding",
                Message::new("encoding_unknown").with("label", label),
            )
        })
    }

    /// A delimiter given as itself (`,` `;` `|`) or by name (`tab`, `comma`, `semicolon`).
    pub fn delimiter_named(text: &str) -> Result<u8> {
        match text {
            "tab" | "\\t" | "\t" => Ok(b'\t'),
            "comma" => Ok(b','),
            "semicolon" => Ok(b';'),
            "pipe" => Ok(b'|'),
            t if t.len() == 1 && t.is_ascii() && t != "\"" && t != "\n" && t != "\r" => {
                Ok(t.as_bytes()[0])
            }
            _ => Err(AppError::invalid(
                "delimiter",
                Message::new("delimiter_invalid").with("given", text),
            )),
        }
    }
}

/// How many bytes of a file its encoding and delimiter are judged by.
const SNIFF_BYTES: usize = 64 * 1024;

/// The text encoding of a file from its first bytes (`complete` when that is the whole file): a
/// byte-order mark names it; text that is valid UTF-8 is UTF-8; anything else is the legacy
/// encoding the text most looks like (Windows-1251 for Cyrillic saved by Excel on a Russian
/// Windows, Windows-1252 for Western European text, …).
pub fn sniff_encoding(sample: &[u8], complete: bool) -> &'static encoding_rs::Encoding {
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(sample) {
        return enc;
    }
    // A UTF-8 file with a few broken rows is still UTF-8 (those rows are reported unreadable);
    // text in a legacy encoding has almost no byte runs that are UTF-8 characters beyond ASCII.
    let (wide, broken) = utf8_census(sample, complete);
    if broken == 0 || wide >= broken * 2 {
        return encoding_rs::UTF_8;
    }
    let mut d = chardetng::EncodingDetector::new();
    d.feed(sample, complete);
    d.guess(None, false)
}

/// How many characters beyond ASCII the bytes hold as UTF-8, and how many byte runs are not
/// UTF-8 (a character cut off at the end of an incomplete sample does not count).
fn utf8_census(mut bytes: &[u8], complete: bool) -> (usize, usize) {
    let (mut wide, mut broken) = (0, 0);
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                wide += text.chars().filter(|c| !c.is_ascii()).count();
                return (wide, broken);
            }
            Err(e) => {
                let good = e.valid_up_to();
                wide += std::str::from_utf8(&bytes[..good])
                    .map(|t| t.chars().filter(|c| !c.is_ascii()).count())
                    .unwrap_or(0);
                match e.error_len() {
                    Some(n) => {
                        broken += 1;
                        bytes = &bytes[good + n..];
                    }
                    None => {
                        broken += usize::from(complete);
                        return (wide, broken);
                    }
                }
            }
        }
    }
}

/// The field delimiter of a CSV file from its header line: whichever of `,` `;` tab `|` it has
/// most of outside quotes; a comma when it has none.
pub fn sniff_delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for b in text.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' | b'\r' if !quoted => break,
            _ if !quoted => {
                if let Some(i) = candidates.iter().position(|c| *c == b) {
                    counts[i] += 1;
                }
            }
            _ => {}
        }
    }
    let (best, n) = counts
        .iter()
        .enumerate()
        .max_by_key(|(i, n)| (**n, std::cmp::Reverse(*i)))
        .unwrap_or((0, &0));
    if *n == 0 {
        b','
    } else {
        candidates[best]
    }
}

/// The file as UTF-8 in the format it was judged to have (or was given), and that format.
fn decoded<'a, R: Read + Send + 'a>(
    mut input: R,
    given: &CsvFormat,
) -> Result<(
    Box<dyn Read + Send + 'a>,
    &'static encoding_rs::Encoding,
    u8,
)> {
    let mut sample = Vec::with_capacity(SNIFF_BYTES);
    (&mut input)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sample)
        .map_err(|e| AppError::Io(format!("cannot read the file: {e}")))?;
    let complete = sample.len() < SNIFF_BYTES;
    let encoding = given
        .encoding
        .unwrap_or_else(|| sniff_encoding(&sample, complete));
    let delimiter = given
        .delimiter
        .unwrap_or_else(|| sniff_delimiter(&encoding.decode(&sample).0));
    let whole = std::io::Cursor::new(sample).chain(input);
    let reader: Box<dyn Read + Send + 'a> = if encoding == encoding_rs::UTF_8 {
        // Read as it is; a byte-order mark is dropped from the first header.
        Box::new(whole)
    } else {
        Box::new(
            encoding_rs_io::DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding))
                .build(whole),
        )
    };
    Ok((reader, encoding, delimiter))
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

/// A row as the file's reader hands it over: its fields, or why it could not be read.
type ReadRow = std::result::Result<csv::StringRecord, csv::Error>;

/// Rows handed over at once, and how many such chunks may wait read ahead.
const READ_CHUNK: usize = 256;
const CHUNKS_AHEAD: usize = 8;

/// Reads the rows on the blocking pool and hands them over in chunks, a few chunks ahead of the
/// import; stops when the file ends or the import stops listening.
fn read_rows<R: Read + Send + 'static>(
    mut reader: csv::Reader<R>,
) -> tokio::sync::mpsc::Receiver<Vec<ReadRow>> {
    let (tx, rx) = tokio::sync::mpsc::channel(CHUNKS_AHEAD);
    tokio::task::spawn_blocking(move || {
        let mut chunk = Vec::with_capacity(READ_CHUNK);
        loop {
            let mut record = csv::StringRecord::new();
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => chunk.push(Ok(record)),
                // A row that does not parse is reported and the next one read; a failing file
                // ends the reading (it would fail again at every row).
                Err(e) => {
                    let fatal = e.is_io_error();
                    chunk.push(Err(e));
                    if fatal {
                        break;
                    }
                }
            }
            if chunk.len() == READ_CHUNK {
                let full = std::mem::replace(&mut chunk, Vec::with_capacity(READ_CHUNK));
                if tx.blocking_send(full).is_err() {
                    return;
                }
            }
        }
        if !chunk.is_empty() {
            let _ = tx.blocking_send(chunk);
        }
    });
    rx
}

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
    /// Imports a CSV through the intake pipeline, read in `format` where it makes a choice, else
    /// as the mapping file says, else as found from the file. `rejected` receives each row that did not
    /// become a lead, with its reasons. `progress` is called with the number of rows read.
    #[allow(clippy::too_many_arguments)]
    pub async fn import_csv<R: Read + Send + 'static, W: Write>(
        &self,
        actor: &Actor,
        input: R,
        format: &CsvFormat,
        map: Option<&ImportMap>,
        source: Option<&str>,
        rejected: Option<&mut csv::Writer<W>>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<ImportSummary> {
        actor.require_write_leads()?;
        // The caller's choices, else the mapping file's, else found from the file.
        let mapped = match map {
            Some(m) => m.format()?,
            None => CsvFormat::default(),
        };
        let format = CsvFormat {
            encoding: format.encoding.or(mapped.encoding),
            delimiter: format.delimiter.or(mapped.delimiter),
        };
        // The file is read and parsed on the blocking pool, never on an async worker (the
        // server's import page runs this beside the requests); rows come over in chunks.
        let opened = tokio::task::spawn_blocking(move || {
            let (input, encoding, delimiter) = decoded(input, &format)?;
            let mut reader = csv::ReaderBuilder::new()
                .flexible(true)
                .trim(csv::Trim::All)
                .delimiter(delimiter)
                .from_reader(input);
            let headers = reader
                .headers()
                .map_err(|e| {
                    AppError::invalid(
                        "file",
                        Message::new("csv_header_unreadable").with("problem", e),
                    )
                })?
                .clone();
            Ok::<_, AppError>((reader, headers, encoding, delimiter))
        })
        .await
        .map_err(|e| AppError::Io(format!("the file's reader stopped: {e}")))?;
        let (reader, headers, encoding, delimiter) = opened?;
        let mapping = resolve_mapping(&headers, map);
        if !mapping
            .iter()
            .any(|f| matches!(f.as_deref(), Some("phone" | "email" | "social")))
        {
            return Err(AppError::invalid(
                "file",
                Message::new("csv_no_contact_column"),
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
            encoding: encoding.name().to_ascii_lowercase(),
            delimiter: delimiter as char,
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
        let mut rows = read_rows(reader);
        let mut chunk: std::vec::IntoIter<ReadRow> = Vec::new().into_iter();
        let mut row_no: u64 = 1;
        loop {
            let next = match chunk.next() {
                Some(r) => Some(r),
                None => match rows.recv().await {
                    Some(c) => {
                        chunk = c.into_iter();
                        chunk.next()
                    }
                    None => None,
                },
            };
            let Some(next) = next else { break };
            let record = match next {
                Ok(r) => r,
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
            let rec = record;
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

    /// Starts an export of every lead matching the query, oldest first: checks the right to
    /// export personal data, writes who exported what to the audit log, and returns the export,
    /// which reads the leads a page at a time (memory stays constant however many there are).
    pub async fn start_export(
        &self,
        actor: &Actor,
        mut q: LeadQuery,
        options: ExportOptions,
    ) -> Result<LeadExport> {
        actor.require_export()?;
        q.visibility = actor.visibility();
        q.sort = LeadSort::CreatedAsc;
        q.limit = EXPORT_PAGE;
        q.after = None;
        q.before = None;
        let mut tx = self.store.begin().await?;
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "leads.export".into(),
            entity: "lead".into(),
            entity_id: None,
            before: None,
            after: Some(export_description(&q, options.format)),
            at: crate::now_ms(),
        })
        .await?;
        tx.commit().await?;
        Ok(LeadExport {
            app: self.clone(),
            q,
            options,
            started: false,
            finished: false,
            rows: 0,
        })
    }

    /// Writes every lead matching the query, oldest first, in pages: memory stays constant.
    pub async fn export_leads<W: Write>(
        &self,
        actor: &Actor,
        q: LeadQuery,
        format: ExportFormat,
        mut out: W,
    ) -> Result<u64> {
        let mut export = self
            .start_export(
                actor,
                q,
                ExportOptions {
                    format,
                    byte_order_mark: false,
                },
            )
            .await?;
        while let Some(chunk) = export.next_chunk().await? {
            out.write_all(&chunk)
                .map_err(|e| AppError::Io(e.to_string()))?;
        }
        out.flush().map_err(|e| AppError::Io(e.to_string()))?;
        Ok(export.rows())
    }
}

/// Leads read (and written out) at a time by an export.
const EXPORT_PAGE: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s.trim().to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "jsonl" | "ndjson" => Some(ExportFormat::Jsonl),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }
    /// The media type of the exported file.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Jsonl => "application/x-ndjson",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExportOptions {
    pub format: ExportFormat,
    /// Starts a CSV file with UTF-8's byte-order mark, by which spreadsheet programs (Excel)
    /// read names in any script right instead of guessing a legacy encoding.
    pub byte_order_mark: bool,
}

/// An export under way: each call of [`LeadExport::next_chunk`] reads the next page of leads
/// and returns it written out, until there are no more.
pub struct LeadExport {
    app: App,
    q: LeadQuery,
    options: ExportOptions,
    started: bool,
    finished: bool,
    rows: u64,
}

impl LeadExport {
    /// The next part of the file; `None` once every lead is written.
    pub async fn next_chunk(&mut self) -> Result<Option<Vec<u8>>> {
        if self.finished {
            return Ok(None);
        }
        let mut out = Vec::new();
        if !self.started {
            self.started = true;
            if self.options.format == ExportFormat::Csv {
                if self.options.byte_order_mark {
                    out.extend_from_slice("\u{feff}".as_bytes());
                }
                let mut w = csv::Writer::from_writer(&mut out);
                w.write_record(EXPORT_COLUMNS).map_err(io)?;
                w.flush().map_err(|e| AppError::Io(e.to_string()))?;
            }
        }
        let page = self.app.store.list_leads(&self.q).await?;
        if (page.len() as i64) < self.q.limit {
            self.finished = true;
        }
        let ids: Vec<voronka_core::Id> = page.iter().map(|r| r.lead.id).collect();
        let mut tags = self.app.store.tags_of_leads(&ids).await?;
        let mut tags_of = |id| tags.remove(&id).unwrap_or_default();
        if let Some(last) = page.last() {
            self.q.after = Some(last.cursor());
        }
        match self.options.format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(&mut out);
                for row in &page {
                    let tags = tags_of(row.lead.id);
                    w.write_record(export_record(row, &tags)).map_err(io)?;
                }
                w.flush().map_err(|e| AppError::Io(e.to_string()))?;
            }
            ExportFormat::Jsonl => {
                for row in &page {
                    let mut v =
                        serde_json::to_value(row).map_err(|e| AppError::Io(e.to_string()))?;
                    if let Some(o) = v.as_object_mut() {
                        o.insert("tags".into(), tags_of(row.lead.id).into());
                    }
                    serde_json::to_writer(&mut out, &v).map_err(|e| AppError::Io(e.to_string()))?;
                    out.push(b'\n');
                }
            }
        }
        self.rows += page.len() as u64;
        if out.is_empty() && self.finished {
            return Ok(None);
        }
        Ok(Some(out))
    }

    /// How many leads are written so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }
}

/// What an export asked for, as the audit log keeps it.
fn export_description(q: &LeadQuery, format: ExportFormat) -> String {
    let mut filters = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        filters.insert(k.to_string(), v);
    };
    put("format", format.as_str().into());
    if !q.stages.is_empty() {
        put(
            "stage",
            q.stages
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(",")
                .into(),
        );
    }
    if let Some(t) = q.temperature {
        put("temperature", t.as_str().into());
    }
    match q.owner {
        Some(Some(id)) => put("owner", id.into()),
        Some(None) => put("owner", "none".into()),
        None => {}
    }
    for (k, v) in [
        ("source", &q.source),
        ("medium", &q.medium),
        ("campaign", &q.campaign),
        ("q", &q.text),
    ] {
        if let Some(v) = v {
            put(k, v.as_str().into());
        }
    }
    if let Some(f) = q.form_id {
        put("form", f.into());
    }
    if let Some(c) = q.contact_id {
        put("contact", c.into());
    }
    if let Some(t) = q.created_from {
        put("created_from", t.into());
    }
    if let Some(t) = q.created_to {
        put("created_to", t.into());
    }
    if let Some(p) = q.min_conversion {
        put("min_conversion", p.into());
    }
    if let Some(f) = q.fit_level {
        put("fit_level", f.as_str().into());
    }
    if let Some(a) = q.activity {
        put("activity", a.as_str().into());
    }
    if let Some(t) = &q.tag {
        put("tag", t.as_str().into());
    }
    serde_json::Value::Object(filters).to_string()
}

fn io(e: csv::Error) -> AppError {
    AppError::Io(e.to_string())
}

const EXPORT_COLUMNS: [&str; 18] = [
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
    "tags",
];

/// One lead's row of the CSV; its tags are one cell, separated by "; ".
fn export_record(r: &voronka_store::LeadRow, tags: &[String]) -> Vec<String> {
    let l = &r.lead;
    let ts = chrono::DateTime::from_timestamp_millis(l.created_at)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default();
    let s = |o: &Option<String>| spreadsheet_safe(o.as_deref().unwrap_or_default());
    vec![
        l.id.to_string(),
        ts,
        l.stage.as_str().into(),
        l.temperature.as_str().into(),
        spreadsheet_safe(&r.contact_name),
        s(&r.email),
        s(&r.phone),
        s(&r.company),
        s(&l.product),
        s(&l.message),
        l.value.map(|v| v.amount_text()).unwrap_or_default(),
        l.value
            .map(|v| v.currency.as_str().to_string())
            .unwrap_or_default(),
        s(&l.source),
        s(&l.medium),
        s(&l.campaign),
        s(&r.owner_name),
        l.touches.to_string(),
        spreadsheet_safe(&tags.join("; ")),
    ]
}

/// A text cell as a spreadsheet program may open it: text that would start a formula (`=`, `@`,
/// `+` or `-` followed by more than a number, a tab or a carriage return) gets a leading `'`, so
/// that a name such as `=HYPERLINK(…)` typed into a form shows as text instead of running.
/// Phones written `+7 916 …` and negative numbers stay as they are.
pub(crate) fn spreadsheet_safe(text: &str) -> String {
    let number_like = |rest: &str| {
        !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '(' | ')' | '-' | '.' | ','))
    };
    let risky = match text.chars().next() {
        Some('=' | '@' | '\t' | '\r') => true,
        Some(c @ ('+' | '-')) => !number_like(&text[c.len_utf8()..]),
        _ => false,
    };
    if risky {
        format!("'{text}")
    } else {
        text.to_string()
    }
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
    fn text_that_would_start_a_formula_is_exported_as_text() {
        for (cell, out) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3+cmd", "'-2+3+cmd"),
            ("\tTab", "'\tTab"),
            ("\r=1", "'\r=1"),
            ("+", "'+"),
            ("+7 916 123-45-67", "+7 916 123-45-67"),
            ("+79161234567", "+79161234567"),
            ("-1500.50", "-1500.50"),
            ("Иван = Петров", "Иван = Петров"),
            ("", ""),
            ("O'Brien", "O'Brien"),
        ] {
            assert_eq!(spreadsheet_safe(cell), out, "{cell:?}");
        }
    }

    #[test]
    fn export_formats_are_read_by_name() {
        assert_eq!(ExportFormat::parse("CSV"), Some(ExportFormat::Csv));
        assert_eq!(ExportFormat::parse(" jsonl"), Some(ExportFormat::Jsonl));
        assert_eq!(ExportFormat::parse("ndjson"), Some(ExportFormat::Jsonl));
        assert_eq!(ExportFormat::parse("xlsx"), None);
        for f in [ExportFormat::Csv, ExportFormat::Jsonl] {
            assert_eq!(ExportFormat::parse(f.as_str()), Some(f));
        }
    }

    #[test]
    fn the_encoding_is_found_from_the_first_bytes() {
        let text = "Имя;Телефон;Почта\nИван Петров;+7 912 345-67-89;ivan@mail.ru\nОльга;+7 916 555 01 01;\n";
        let (cp1251, _, _) = encoding_rs::WINDOWS_1251.encode(text);
        assert_eq!(sniff_encoding(&cp1251, true), encoding_rs::WINDOWS_1251);
        assert_eq!(sniff_encoding(text.as_bytes(), true), encoding_rs::UTF_8);
        // Cut in the middle of a character: still UTF-8 when more is to come.
        let cut = &text.as_bytes()[..4];
        assert_eq!(sniff_encoding(cut, false), encoding_rs::UTF_8);
        // A UTF-8 file with one broken row stays UTF-8.
        let mut broken = text.as_bytes().to_vec();
        broken.extend_from_slice(b"\xff\xfe;+79161234568\n");
        assert_eq!(sniff_encoding(&broken, true), encoding_rs::UTF_8);
        // A byte-order mark names the encoding.
        let mut utf16: Vec<u8> = vec![0xff, 0xfe];
        for u in "Name\tPhone\n".encode_utf16() {
            utf16.extend_from_slice(&u.to_le_bytes());
        }
        assert_eq!(sniff_encoding(&utf16, true), encoding_rs::UTF_16LE);
        let (latin, _, _) = encoding_rs::WINDOWS_1252
            .encode("Name;Ort\nJürgen Müller;Düsseldorf\nFrançois Lefèvre;Besançon\n");
        assert_eq!(sniff_encoding(&latin, true), encoding_rs::WINDOWS_1252);
    }

    #[test]
    fn the_delimiter_is_the_header_lines_most_frequent_outside_quotes() {
        assert_eq!(sniff_delimiter("Имя;Телефон;Почта\nа,б,в,г,д\n"), b';');
        assert_eq!(sniff_delimiter("\"Name, full\";Phone;Email\n"), b';');
        assert_eq!(sniff_delimiter("Name\tPhone\tEmail\r\n"), b'\t');
        assert_eq!(sniff_delimiter("Name,Phone\n"), b',');
        assert_eq!(sniff_delimiter("Name|Phone|Email"), b'|');
        assert_eq!(sniff_delimiter("Phone\n"), b',');
        assert_eq!(CsvFormat::delimiter_named("tab").unwrap(), b'\t');
        assert_eq!(CsvFormat::delimiter_named(";").unwrap(), b';');
        assert!(CsvFormat::delimiter_named(";;").is_err());
        assert!(CsvFormat::delimiter_named("\"").is_err());
        assert_eq!(
            CsvFormat::encoding_named("cp1251").unwrap(),
            encoding_rs::WINDOWS_1251
        );
        assert!(CsvFormat::encoding_named("martian").is_err());
    }

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
