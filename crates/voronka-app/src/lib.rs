//! Voronka's use cases. The only crate that combines the pure core with storage: it owns
//! transactions, the group committer of the intake pipeline and the job runner.

mod auth;
mod batch_dedup;
mod bulk;
mod capture;
mod channels;
mod directory;
mod duplicates;
mod error;
mod forms;
mod history;
mod leads;
mod mail;
mod message;
mod passwords;
mod predict;
mod scoring;
mod scrub;
mod speed;
mod status;
mod tags;
pub mod telemetry;
mod transfer;
mod two_step;
mod views;

pub mod demo;
pub mod jobs;

pub use auth::{
    hash_password, new_secret, sha256_hex, Actor, Principal, SessionInfo, SignIn,
    LOGIN_FAILURES_ALLOWED, LOGIN_LOCK_MS,
};
pub use batch_dedup::{DedupCluster, DedupMember, DedupOptions, DedupReport};
pub use bulk::{BulkAction, BulkOutcome, MAX_BULK};
pub use capture::{CaptureOutcome, CaptureRequest, CaptureResult, IntakeCounts, SubmitCount};
pub use channels::{
    channel_report_csv, day_start, report_period, ymd, SpendDefaults, SpendImport, SpendInput,
    MAX_SPEND_FILE,
};
pub use directory::{
    AccountEdit, ContactEdit, DealEdit, FormInput, MAX_AUDIT_CSV, MAX_AUDIT_PAGE, MAX_CONTACT_TEXT,
};
pub use duplicates::PairReview;
pub use error::{AppError, FieldError};
pub use forms::{VariantStats, EVENT_KINDS};
pub use history::{fields_changed, Change, FieldChange, Seen, RESTORABLE};
pub use leads::{ConvertInput, RefuseInput, RequestEdit, MAX_PRODUCT, SURVEY_ANSWERS};
pub use mail::{SmtpSecurity, SmtpSettings, SmtpView, EMAIL, SMTP_SETTINGS};
pub use message::{message_text, Message};
pub use passwords::{MAX_PASSWORD, MIN_PASSWORD, RESET_LINKS_PER_HOUR, RESET_LINK_MS};
pub use predict::{next_retrain_at, CurrentModel, TrainReport, RETRAIN_MODEL};
pub use scoring::{EventIn, Explanation, MAX_EVENTS, RESCORE};
pub use scrub::SCRUB_RULES;
pub use speed::{
    ical, sla_metrics_of, ActivityInput, PersonDue, ReassignTo, SlaDashboard, SlaMetrics, SlaStat,
    TaskInput, NOTIFY_WEBHOOK, OUTCOMES, ROUTING_RULES, SLA_SETTINGS,
};
pub use status::{RescoreQueue, Status};
pub use tags::{TagChange, MAX_TAGS_LISTED};
pub use transfer::{
    sniff_delimiter, sniff_encoding, CsvFormat, ExportFormat, ExportOptions, ImportMap,
    ImportSummary, LeadExport,
};
pub use two_step::{
    totp_code, TwoStepPolicy, TwoStepSetup, TwoStepStatus, RECOVERY_CODES, SECOND_STEP_MS,
};
pub use views::{MAX_VIEWS, MAX_VIEW_NAME, MAX_VIEW_QUERY};

use std::sync::Arc;
use voronka_core::Millis;
use voronka_store::Store;

pub type Result<T> = std::result::Result<T, AppError>;

/// Settings of the application layer.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Global default region for phones written without a country code.
    pub default_region: String,
    pub default_currency: String,
    /// How many captures one transaction may carry.
    pub max_batch: usize,
    /// Identical payloads from one client within this window are one submission.
    pub duplicate_window_ms: Millis,
    /// Write each batch with multi-row statements (falls back to one by one on any error).
    pub bulk_commit: bool,
    /// Memory an embedded database may hold of its pages (`MemoryBudget::lean` for bulk jobs,
    /// see [`App::open_bulk`]).
    pub memory: voronka_store::MemoryBudget,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            default_region: "RU".into(),
            default_currency: "RUB".into(),
            max_batch: 512,
            duplicate_window_ms: 10_000,
            bulk_commit: true,
            memory: Default::default(),
        }
    }
}

/// The application: storage plus the running intake committer.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    committer: capture::Committer,
    settings: Arc<Settings>,
    /// Public form lookups by key, kept for a few seconds: every capture needs its form.
    forms: Arc<std::sync::RwLock<FormCache>>,
    scrub_rules: Arc<scrub::RulesCache>,
    traffic: Arc<scrub::Traffic>,
    /// The current conversion model, shared with the intake committer.
    model: Arc<predict::ModelSlot>,
    /// The scoring rules in force, shared with the intake committer.
    scorer: Arc<scoring::ScorerSlot>,
    /// Wakes the rescoring worker when leads were queued.
    rescore_wake: Arc<tokio::sync::Notify>,
    /// Where the rescoring worker's sweep of the queue is: the last lead id it took.
    rescore_sweep: Arc<std::sync::atomic::AtomicI64>,
}

type FormCache =
    std::collections::HashMap<String, (Option<voronka_core::Form>, std::time::Instant)>;

/// How long a form lookup is reused; edits to a form reach the capture endpoint within this time.
pub const FORM_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

pub fn now_ms() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

impl App {
    /// The intake committer's work since this process started.
    pub fn intake_counts(&self) -> IntakeCounts {
        self.committer.counts()
    }

    /// Starts the intake committer on the current Tokio runtime.
    pub fn new(store: Arc<dyn Store>, settings: Settings) -> App {
        let settings = Arc::new(settings);
        let model: Arc<predict::ModelSlot> = Default::default();
        let scorer: Arc<scoring::ScorerSlot> = Default::default();
        let committer = capture::Committer::start(
            store.clone(),
            settings.clone(),
            model.clone(),
            scorer.clone(),
        );
        App {
            store,
            committer,
            settings,
            forms: Default::default(),
            scrub_rules: Default::default(),
            traffic: Default::default(),
            model,
            scorer,
            rescore_wake: Default::default(),
            rescore_sweep: Default::default(),
        }
    }

    /// Connects, applies migrations and starts the application.
    pub async fn open(url: &str, settings: Settings) -> Result<App> {
        let store = voronka_store::connect_with(url, settings.memory).await?;
        store.migrate().await?;
        // SQLite keeps no statistics by itself, and bounded ANALYZE takes milliseconds; PostgreSQL's
        // autovacuum analyzes on its own, and a full ANALYZE at every start would cost a large database dearly.
        if store.backend() == voronka_store::Backend::Sqlite {
            store.optimize().await?;
        }
        let app = App::new(store, settings);
        app.ensure_defaults().await?;
        app.refresh_block_keys().await?;
        app.refresh_model().await?;
        app.refresh_scoring_rules().await?;
        Ok(app)
    }

    /// Opens the database for a bulk job (an import): small caches and no memory map
    /// (`MemoryBudget::lean`), and the allocator's arenas capped, so that the process's memory
    /// stays low however large the database grows.
    pub async fn open_bulk(url: &str) -> Result<App> {
        cap_allocator_arenas();
        App::open(
            url,
            Settings {
                memory: voronka_store::MemoryBudget::lean(),
                ..Settings::default()
            },
        )
        .await
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    async fn ensure_defaults(&self) -> Result<()> {
        if self.store.refusal_reasons().await?.is_empty() {
            for r in voronka_core::demo::REFUSAL_REASONS {
                self.store.add_refusal_reason(r).await?;
            }
        }
        Ok(())
    }
}

/// Milliseconds spent in each step of a batch, for the debug log (an intake batch, an event batch).
pub(crate) struct Laps {
    last: std::time::Instant,
    done: Vec<(&'static str, f64)>,
}

impl Laps {
    pub(crate) fn new() -> Laps {
        Laps {
            last: std::time::Instant::now(),
            done: Vec::new(),
        }
    }

    pub(crate) fn lap(&mut self, step: &'static str) {
        let now = std::time::Instant::now();
        self.done
            .push((step, (now - self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }
}

impl std::fmt::Display for Laps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (step, ms)) in self.done.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{step}={ms:.2}")?;
        }
        Ok(())
    }
}

/// For a bulk job ([`App::open_bulk`]): caps the allocator's arenas at one per core (at least two). glibc
/// makes up to eight per core and lets each thread that meets a busy one start another; every
/// arena keeps the memory freed in it, so the database's worker threads left a 100,000-row import
/// at 262 MB of peak resident memory against 211 MB with two. Returns whether the cap was set
/// (always `false` off glibc, which has no such arenas).
fn cap_allocator_arenas() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from(cores)
            .unwrap_or(libc::c_int::MAX)
            .max(2);
        // SAFETY: mallopt only tunes the allocator; M_ARENA_MAX bounds arenas created from now on
        // and is safe to set while other threads allocate.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, arenas) == 1 }
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

#[cfg(test)]
mod allocator_tests {
    /// The allocator takes the cap where it has arenas.
    #[test]
    fn the_arena_cap_is_taken_on_glibc() {
        assert_eq!(
            super::cap_allocator_arenas(),
            cfg!(all(target_os = "linux", target_env = "gnu"))
        );
    }
}
