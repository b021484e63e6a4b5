//! CSV import from the browser: the file is uploaded, read through the same intake as
//! `voronka import` in the background, and its progress and summary are shown on a page, with
//! the rows that did not become leads to download.
//!
//! Imports are kept by the process that ran them (the last [`KEPT`]), not in the database: a
//! restart forgets the pages, never the leads.

use super::fmt::When;
use super::{constant_time_eq, now, render, t, IdPath, Layout, PageResult, WebError};
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use voronka_app::{CsvFormat, ImportMap, ImportSummary, Message};
use voronka_core::Millis;

/// Largest file the page takes.
pub(crate) const MAX_UPLOAD_BYTES: usize = 512 * 1024 * 1024;
/// How many imports a process keeps for their pages.
const KEPT: usize = 20;

/// The imports this process ran or runs.
#[derive(Default)]
pub(crate) struct Imports {
    jobs: Mutex<VecDeque<Arc<Job>>>,
    next: AtomicU64,
}

impl Imports {
    fn add(&self, job: Job) -> Arc<Job> {
        let job = Arc::new(job);
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.push_front(job.clone());
            jobs.truncate(KEPT);
        }
        job
    }

    fn get(&self, id: u64) -> Option<Arc<Job>> {
        self.jobs
            .lock()
            .ok()
            .and_then(|jobs| jobs.iter().find(|j| j.id == id).cloned())
    }

    fn list(&self) -> Vec<Arc<Job>> {
        self.jobs
            .lock()
            .map(|jobs| jobs.iter().cloned().collect())
            .unwrap_or_default()
    }
}

enum Progress {
    Running,
    Done { summary: ImportSummary, secs: f64 },
    Failed(String),
}

struct Job {
    id: u64,
    file_name: String,
    bytes: u64,
    by: String,
    started: Millis,
    rows: AtomicU64,
    /// Bytes of the file read so far.
    read: Arc<AtomicU64>,
    progress: Mutex<Progress>,
    /// The rows that did not become leads, with their reasons (a CSV file).
    rejected: tempfile::TempPath,
}

impl Job {
    fn view(&self, now: Millis) -> JobView {
        let (state, summary, secs, error) = match self.progress.lock().as_deref() {
            Ok(Progress::Running) => ("running", None, 0.0, String::new()),
            Ok(Progress::Done { summary, secs }) => {
                ("done", Some(summary.clone()), *secs, String::new())
            }
            Ok(Progress::Failed(e)) => ("failed", None, 0.0, e.clone()),
            Err(_) => ("failed", None, 0.0, t::ERR_INTERNAL.to_string()),
        };
        let not_leads = summary
            .as_ref()
            .map_or(0, |s| s.interests + s.rejected + s.failed);
        JobView {
            id: self.id,
            file_name: self.file_name.clone(),
            size: human_bytes(self.bytes),
            by: self.by.clone(),
            started: When::new(self.started, now),
            rows: self.rows.load(Ordering::Relaxed),
            percent: (self.read.load(Ordering::Relaxed) * 100)
                .checked_div(self.bytes)
                .unwrap_or(0)
                .min(100),
            state,
            secs: format!("{secs:.1}"),
            delimiter: summary
                .as_ref()
                .map_or_else(String::new, |s| match s.delimiter {
                    '\t' => t::IMPORT_TAB.to_string(),
                    d => d.to_string(),
                }),
            summary,
            not_leads,
            error,
        }
    }
}

pub(crate) struct JobView {
    pub id: u64,
    pub file_name: String,
    pub size: String,
    pub by: String,
    pub started: When,
    pub rows: u64,
    /// How much of the file has been read, in per cent.
    pub percent: u64,
    pub state: &'static str,
    pub secs: String,
    pub delimiter: String,
    pub summary: Option<ImportSummary>,
    pub not_leads: u64,
    pub error: String,
}

fn human_bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.0} KB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    layout: Layout,
    jobs: Vec<JobView>,
    encodings: [(&'static str, &'static str); 6],
    delimiters: [(&'static str, &'static str); 5],
    max_mb: usize,
}

#[derive(Template)]
#[template(path = "import_job.html")]
struct JobPage {
    layout: Layout,
    job: JobView,
}

/// Who may import: those who see every lead and assign them (sales managers, administrators).
fn may_import(user: &WebUser) -> Result<(), WebError> {
    if user.user.role.assigns_leads() {
        Ok(())
    } else {
        Err(WebError::App(voronka_app::AppError::Forbidden(
            Message::new("managers_only_page"),
        )))
    }
}

fn page(state: &AppState, user: &WebUser) -> ImportPage {
    let now = now();
    ImportPage {
        layout: Layout::new(user, "leads", t::IMPORT_TITLE),
        jobs: state.imports.list().iter().map(|j| j.view(now)).collect(),
        encodings: t::IMPORT_ENCODINGS,
        delimiters: t::IMPORT_DELIMITERS,
        max_mb: MAX_UPLOAD_BYTES >> 20,
    }
}

pub(crate) async fn form(State(state): State<AppState>, user: WebUser) -> PageResult {
    may_import(&user)?;
    Ok(render(&page(&state, &user)))
}

/// What the upload form sent besides the file.
#[derive(Default)]
struct Upload {
    source: String,
    encoding: String,
    delimiter: String,
    /// A mapping file's text (TOML), as `voronka import --map` takes it.
    map: String,
    file_name: String,
    bytes: u64,
}

/// A new temporary file, made on the blocking pool.
async fn temp_file() -> Result<tempfile::NamedTempFile, WebError> {
    let io = |e: String| WebError::App(voronka_app::AppError::Io(e));
    tokio::task::spawn_blocking(tempfile::NamedTempFile::new)
        .await
        .map_err(|e| io(e.to_string()))?
        .map_err(|e| io(e.to_string()))
}

pub(crate) async fn start(
    State(state): State<AppState>,
    user: WebUser,
    mut multipart: Multipart,
) -> PageResult {
    may_import(&user)?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            WebError::BadRequest(t::import_too_large(MAX_UPLOAD_BYTES >> 20))
        } else {
            WebError::BadRequest(t::import_unreadable(e.body_text()))
        }
    };
    let io = |e: std::io::Error| WebError::App(voronka_app::AppError::Io(e.to_string()));
    // The upload is stored through tokio's file, whose writes run on the blocking pool: a
    // request handler never stalls its worker thread (and the requests queued on it) on the disk.
    let file = temp_file().await?;
    let mut writer = tokio::io::BufWriter::with_capacity(
        1 << 20,
        tokio::fs::File::from_std(file.as_file().try_clone().map_err(io)?),
    );
    let mut up = Upload::default();
    // The token is checked as it arrives: the page's form sends it first, and a file that
    // comes without one before it is refused before any of its bytes are stored.
    let mut csrf_ok = false;
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        match name.as_str() {
            "file" | "map" if !csrf_ok => return Err(WebError::Csrf),
            "file" => {
                up.file_name = field.file_name().unwrap_or("").to_string();
                while let Some(chunk) = field.chunk().await.map_err(bad)? {
                    writer.write_all(&chunk).await.map_err(io)?;
                    up.bytes += chunk.len() as u64;
                }
            }
            other => {
                let value = field.text().await.map_err(bad)?;
                match other {
                    "csrf" => {
                        csrf_ok = constant_time_eq(value.as_bytes(), user.csrf.as_bytes());
                        if !csrf_ok {
                            return Err(WebError::Csrf);
                        }
                    }
                    "source" => up.source = value,
                    "encoding" => up.encoding = value,
                    "delimiter" => up.delimiter = value,
                    "map" => up.map = value,
                    _ => {}
                }
            }
        }
    }
    if !csrf_ok {
        return Err(WebError::Csrf);
    }
    if up.bytes == 0 {
        return Err(WebError::BadRequest(t::IMPORT_NO_FILE.into()));
    }
    let map = match up.map.trim() {
        "" => None,
        text => Some(ImportMap::from_toml(text)?),
    };
    // The page's choices; the import falls back on the mapping file's, then on the file.
    let format = CsvFormat {
        encoding: match up.encoding.trim() {
            "" => None,
            label => Some(CsvFormat::encoding_named(label)?),
        },
        delimiter: match up.delimiter.trim() {
            "" => None,
            d => Some(CsvFormat::delimiter_named(d)?),
        },
    };
    writer.flush().await.map_err(io)?;
    drop(writer);
    let rejected = temp_file().await?.into_temp_path();
    let job = state.imports.add(Job {
        id: state.imports.next.fetch_add(1, Ordering::Relaxed) + 1,
        file_name: up.file_name,
        bytes: up.bytes,
        by: user.user.name.clone(),
        started: now(),
        rows: AtomicU64::new(0),
        read: Default::default(),
        progress: Mutex::new(Progress::Running),
        rejected,
    });
    let source = Some(up.source.trim().to_string()).filter(|s| !s.is_empty());
    tokio::spawn(run(
        state.app.clone(),
        user.actor(),
        job.clone(),
        file,
        format,
        map,
        source,
    ));
    Ok(super::see_other(&format!("/import/{}", job.id)))
}

/// A reader that counts the bytes read through it, for the page's progress bar.
struct Counting<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Runs one import to its end and records how it ended.
async fn run(
    app: voronka_app::App,
    actor: voronka_app::Actor,
    job: Arc<Job>,
    file: tempfile::NamedTempFile,
    format: CsvFormat,
    map: Option<ImportMap>,
    source: Option<String>,
) {
    let started = std::time::Instant::now();
    let result = async {
        let input = Counting {
            inner: std::io::BufReader::with_capacity(
                1 << 20,
                file.reopen()
                    .map_err(|e| voronka_app::AppError::Io(e.to_string()))?,
            ),
            read: job.read.clone(),
        };
        let mut rejected = csv::WriterBuilder::new()
            .flexible(true)
            .from_path(&job.rejected)
            .map_err(|e| voronka_app::AppError::Io(e.to_string()))?;
        let progress = |rows: u64| job.rows.store(rows, Ordering::Relaxed);
        let summary = app
            .import_csv(
                &actor,
                input,
                &format,
                map.as_ref(),
                source.as_deref(),
                Some(&mut rejected),
                &progress,
            )
            .await?;
        rejected
            .flush()
            .map_err(|e| voronka_app::AppError::Io(e.to_string()))?;
        Ok::<_, voronka_app::AppError>(summary)
    }
    .await;
    let done = match result {
        Ok(summary) => {
            job.rows.store(summary.rows, Ordering::Relaxed);
            Progress::Done {
                summary,
                secs: started.elapsed().as_secs_f64(),
            }
        }
        Err(e) => {
            let (status, _) = crate::error::classify(&e);
            if status.is_server_error() {
                tracing::error!(error = %e, "import failed");
                Progress::Failed(t::ERR_INTERNAL.to_string())
            } else {
                Progress::Failed(e.to_string())
            }
        }
    };
    if let Ok(mut p) = job.progress.lock() {
        *p = done;
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
) -> PageResult {
    may_import(&user)?;
    let job =
        state
            .imports
            .get(id as u64)
            .ok_or(WebError::App(voronka_app::AppError::NotFound(
                Message::new("import_not_found"),
            )))?;
    let view = job.view(now());
    let mut layout = Layout::new(&user, "leads", t::IMPORT_TITLE);
    if view.state == "running" {
        layout.refresh = Some(2);
    }
    Ok(render(&JobPage { layout, job: view }))
}

/// The rows of an import that did not become leads, as a CSV file.
pub(crate) async fn rejected(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
) -> Result<Response, WebError> {
    may_import(&user)?;
    let job = state
        .imports
        .get(id as u64)
        .filter(|j| matches!(j.progress.lock().as_deref(), Ok(Progress::Done { .. })))
        .ok_or(WebError::App(voronka_app::AppError::NotFound(
            Message::new("import_not_found"),
        )))?;
    let file = tokio::fs::File::open(&job.rejected)
        .await
        .map_err(|e| WebError::App(voronka_app::AppError::Io(e.to_string())))?;
    // Streamed: the file may be as large as the import.
    let chunks = futures::stream::unfold(Some(file), |file| async move {
        use tokio::io::AsyncReadExt;
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Ok(crate::export::csv_download(
        &format!("import-{id}-rejected.csv"),
        axum::body::Body::from_stream(chunks),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manager() -> WebUser {
        WebUser {
            user: voronka_core::User {
                id: 1,
                email: "olga@example.ru".into(),
                name: "Ольга".into(),
                role: voronka_core::Role::SalesManager,
                team_id: None,
                active: true,
                created_at: 0,
            },
            csrf: "c".into(),
        }
    }

    fn job(bytes: u64, read: u64) -> Job {
        Job {
            id: 7,
            file_name: "leads <b>.csv".into(),
            bytes,
            by: "Ольга".into(),
            started: 0,
            rows: AtomicU64::new(1_234),
            read: Arc::new(AtomicU64::new(read)),
            progress: Mutex::new(Progress::Running),
            rejected: tempfile::NamedTempFile::new().unwrap().into_temp_path(),
        }
    }

    #[test]
    fn a_running_import_shows_how_much_is_read_and_reloads() {
        let j = job(2_000, 500);
        let mut layout = Layout::new(&manager(), "leads", t::IMPORT_TITLE);
        layout.refresh = Some(2);
        let page = JobPage {
            layout,
            job: j.view(60_000),
        }
        .render()
        .unwrap();
        assert!(page.contains(r#"<progress max="100" value="25""#), "{page}");
        assert!(
            page.contains("Rows read so far: <strong id=\"rows\">1234</strong>."),
            "{page}"
        );
        assert!(
            page.contains(r#"http-equiv="refresh" content="2""#),
            "{page}"
        );
        assert!(page.contains("leads &#60;b&#62;.csv"), "{page}");
        assert!(!page.contains("leads <b>"), "{page}");
        // Reading past the size given (never expected) does not show more than the whole.
        assert_eq!(job(100, 150).view(0).percent, 100);
        assert_eq!(job(0, 0).view(0).percent, 0);
        // Finished: the summary, no bar.
        let j = job(2_000, 2_000);
        *j.progress.lock().unwrap() = Progress::Done {
            summary: ImportSummary {
                rows: 3,
                created: 2,
                interests: 1,
                encoding: "windows-1251".into(),
                delimiter: '\t',
                ..Default::default()
            },
            secs: 0.25,
        };
        let page = JobPage {
            layout: Layout::new(&manager(), "leads", t::IMPORT_TITLE),
            job: j.view(0),
        }
        .render()
        .unwrap();
        assert!(!page.contains("<progress"), "{page}");
        assert!(
            page.contains("s as windows-1251 with <code>tab</code>"),
            "{page}"
        );
        assert!(page.contains(r#"href="/import/7/rejected.csv""#), "{page}");
    }
}
