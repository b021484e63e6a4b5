//! Benchmarks with printed figures (see docs/benchmarks.md):
//! - `capture`: public capture over loopback HTTP, N concurrent clients, durable commits.
//! - `import`: CSV import of N generated rows through the full intake; time and peak memory.
//! - `inbox`: a filtered inbox page plus its count on the database the import left.
//! - `link`: record linkage of FEBRL4, FEBRL3 and fake_1000 with the example configurations;
//!   precision, recall, F1 and wall time.
//! - `routing`: one routing decision with 50 rules and 200 salespeople, ns per decision.
//! - `sla-timers`: the claim query with 100,000 pending SLA timers, and the firing lag.
//! - `dedupe-synthetic`: record linkage dedupe of N generated contacts with duplicates; time and
//!   peak memory.
//! - `train`: the predictive conversion model on N generated closed leads; time, AUC of ours and
//!   of the naive-Bayes baseline, peak memory.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use voronka_app::{Actor, App, Settings};
use voronka_server::{AppState, ServerConfig};
use voronka_store::{LeadQuery, LeadSort};

/// mimalloc: the intake allocates and frees many small strings per row; glibc's allocator spent
/// about a third of the intake thread's time doing so.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod link;
mod score;
mod speed;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Public capture throughput and latency.
    Capture {
        #[arg(long, default_value_t = 64)]
        clients: usize,
        #[arg(long, default_value_t = 60)]
        seconds: u64,
        /// Database URL; default a new SQLite file in a temporary folder.
        #[arg(long)]
        database_url: Option<String>,
    },
    /// CSV import through the intake, then inbox queries on the result.
    Import {
        #[arg(long, default_value_t = 1_000_000)]
        rows: usize,
        #[arg(long)]
        database_url: Option<String>,
        /// Keep the database here (SQLite file path) for later `inbox` runs.
        #[arg(long)]
        keep: Option<std::path::PathBuf>,
        /// Number the generated rows from here: with `--database-url` pointing at a database an
        /// earlier run kept, this measures the import's pace at that size.
        #[arg(long, default_value_t = 0)]
        first: usize,
        /// Write the generated file in this encoding (e.g. windows-1251, as Excel on a Russian
        /// Windows saves it) with `;` between fields; the import finds both.
        #[arg(long)]
        encoding: Option<String>,
    },
    /// Inbox page + count on an existing database.
    Inbox {
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 50)]
        repeat: usize,
    },
    /// Record linkage on the reference data sets with their example configurations.
    Link {
        /// Folder with febrl3.csv, febrl4a.csv, febrl4b.csv, fake_1000.csv and the true pairs.
        #[arg(long, default_value = "../shared/data/linkage")]
        data: std::path::PathBuf,
        /// Folder with febrl3.toml, febrl4.toml and fake_1000.toml.
        #[arg(long, default_value = "examples/linkage")]
        configs: std::path::PathBuf,
    },
    /// Routing decision time: rules × salespeople, ns per decision.
    Routing {
        #[arg(long, default_value_t = 50)]
        rules: usize,
        #[arg(long, default_value_t = 200)]
        people: usize,
        #[arg(long, default_value_t = 1_000_000)]
        decisions: usize,
    },
    /// SLA timers: claim query time with N pending, and the firing lag of those falling due.
    SlaTimers {
        #[arg(long, default_value_t = 100_000)]
        pending: usize,
        /// How many of them fall due during the run …
        #[arg(long, default_value_t = 2_000)]
        due: usize,
        /// … spread over this many seconds.
        #[arg(long, default_value_t = 60)]
        window: u64,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Dedupe of generated contact records with realistic duplicates.
    DedupeSynthetic {
        #[arg(long, default_value_t = 1_000_000)]
        records: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Scoring one lead with N events, in memory.
    ScorePure {
        #[arg(long, default_value_t = 50)]
        events: usize,
        #[arg(long, default_value_t = 100_000)]
        repeat: usize,
    },
    /// Event ingest over HTTP and one event's latency to its lead's new score.
    ScoreEvents {
        #[arg(long, default_value_t = 1_000_000)]
        leads: usize,
        #[arg(long, default_value_t = 10_000_000)]
        events: usize,
        #[arg(long, default_value_t = 1_000)]
        batch: usize,
        #[arg(long, default_value_t = 4)]
        clients: usize,
        #[arg(long)]
        database_url: Option<String>,
        /// Each event carries an id of its own (the events API then checks it was not stored
        /// before).
        #[arg(long)]
        ids: bool,
    },
    /// A full rescoring of N leads (seeded when the database has fewer).
    Rescore {
        #[arg(long, default_value_t = 1_000_000)]
        leads: usize,
        /// Events seeded with the leads (half of known leads, half of anonymous visitors),
        /// stored straight through the store; by default half as many as leads, through the
        /// ingest path.
        #[arg(long)]
        events: Option<usize>,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// The intake's dedup decision (candidate lookup + matcher) with N contacts stored.
    DedupDecision {
        #[arg(long, default_value_t = 1_000_000)]
        contacts: usize,
        #[arg(long, default_value_t = 20_000)]
        probes: usize,
        #[arg(long)]
        database_url: Option<String>,
    },
    /// Training of the predictive conversion model on generated closed leads.
    Train {
        #[arg(long, default_value_t = 1_000_000)]
        leads: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> Result<()> {
    // `VORONKA_LOG=voronka_app=debug` shows the intake's batch timings, as in `voronka serve`.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("VORONKA_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    match Cli::parse().cmd {
        Cmd::Capture {
            clients,
            seconds,
            database_url,
        } => capture(clients, seconds, database_url).await,
        Cmd::Import {
            rows,
            database_url,
            keep,
            first,
            encoding,
        } => import(rows, first, database_url, keep, encoding).await,
        Cmd::Inbox {
            database_url,
            repeat,
        } => {
            let app = App::open(&database_url, Settings::default()).await?;
            inbox(&app, repeat).await
        }
        Cmd::Routing {
            rules,
            people,
            decisions,
        } => speed::routing(rules, people, decisions),
        Cmd::SlaTimers {
            pending,
            due,
            window,
            database_url,
        } => speed::sla_timers(pending, due, window, database_url).await,
        Cmd::Link { data, configs } => link::reference(&data, &configs),
        Cmd::DedupeSynthetic { records, seed } => link::synthetic(records, seed, peak_rss_mb),
        Cmd::Train { leads, seed } => train(leads, seed),
        Cmd::DedupDecision {
            contacts,
            probes,
            database_url,
        } => score::dedup_decision(contacts, probes, database_url).await,
        Cmd::ScorePure { events, repeat } => score::pure(events, repeat),
        Cmd::ScoreEvents {
            leads,
            events,
            batch,
            clients,
            database_url,
            ids,
        } => score::events(leads, events, batch, clients, database_url, ids).await,
        Cmd::Rescore {
            leads,
            events,
            database_url,
        } => score::rescore(leads, events, database_url).await,
    }
}

/// Trains on generated closed leads whose outcome depends on known features and prints the
/// time (encoding, fitting, calibration, evaluation and the baseline together) and the AUCs.
fn train(leads: usize, seed: u64) -> Result<()> {
    use voronka_core::predict;
    let started = Instant::now();
    let rows = predict::synthetic::closed_leads(leads, seed);
    let generated = started.elapsed();
    let opts = predict::TrainOptions::default();
    let threads = opts.logistic.threads;
    let started = Instant::now();
    let m = predict::train(&rows, &opts, 0)?;
    let took = started.elapsed();
    let x = &m.metrics;
    println!(
        "train: {} closed leads ({} converted) generated in {:.1} s",
        leads,
        x.won,
        generated.as_secs_f64()
    );
    println!(
        "train: {:.2} s to train on {} leads ({} fit, {} calibrate, {} held out; {} columns; {} Newton iterations; {} threads)",
        took.as_secs_f64(),
        leads,
        x.fit_rows,
        x.calibration_rows,
        x.test_rows,
        m.weights.len(),
        x.iterations,
        threads
    );
    println!(
        "train: held-out AUC ours {:.4} (Brier {:.4}), naive-Bayes baseline {:.4} (Brier {:.4}); calibration error ours {:.4}, baseline {:.4}",
        x.model.auc,
        x.model.brier,
        x.baseline.auc,
        x.baseline.brier,
        predict::metrics::calibration_error(&x.model.calibration),
        predict::metrics::calibration_error(&x.baseline.calibration)
    );
    println!("train: peak RSS {:.0} MB", peak_rss_mb());
    Ok(())
}

async fn capture(clients: usize, seconds: u64, url: Option<String>) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let url = url.unwrap_or_else(|| format!("sqlite://{}", dir.path().join("bench.db").display()));
    let app = App::open(&url, Settings::default()).await?;
    let form = app
        .create_form(
            &Actor::system("bench"),
            voronka_app::FormInput {
                name: "bench".into(),
                min_fill_ms: Some(0),
                ..Default::default()
            },
        )
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state = AppState::new(
        app.clone(),
        ServerConfig {
            capture_per_ip_per_sec: 1_000_000,
            public_url: format!("http://{addr}"),
            ..Default::default()
        },
    );
    tokio::spawn(voronka_server::serve(listener, state));
    let endpoint = format!("http://{addr}/f/{}", form.public_key);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()?;
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let endpoint = endpoint.clone();
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let n = (c as u64) * 10_000_000 + i;
                let body = serde_json::json!({
                    "name": "Иван Петров",
                    "phone": format!("+7916{:07}", (c as u64 * 100_000 + i) % 10_000_000),
                    "email": format!("lead{n}@mail.ru"),
                    "utm_source": "google", "utm_medium": "cpc", "message": "Перезвоните, пожалуйста"
                });
                let t = Instant::now();
                match http.post(&endpoint).json(&body).send().await {
                    Ok(r) if r.status().is_success() => lat.push(t.elapsed().as_micros() as u64),
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await?;
        all.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let stored = app.store().count_leads(&LeadQuery::default()).await?;
    println!(
        "capture: backend {:?}, {clients} clients, {secs:.1} s: {} accepted ({:.0} leads/s), {errors} errors, latency p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms; stored leads {stored}",
        app.store().backend(),
        all.len(),
        all.len() as f64 / secs,
        pct(&all, 0.50),
        pct(&all, 0.99),
        pct(&all, 1.0),
    );
    if stored < all.len() as i64 {
        bail!(
            "acknowledged {} captures but only {stored} leads are stored",
            all.len()
        );
    }
    Ok(())
}

const FIRST: &[&str] = &[
    "Иван",
    "Ольга",
    "Anna",
    "Jan",
    "Claire",
    "Олена",
    "Sergey",
    "Emma",
    "Pieter",
    "Léa",
];
const LAST: &[&str] = &[
    "Петров",
    "Смирнова",
    "de Vries",
    "Jansen",
    "Martin",
    "Коваленко",
    "Ivanov",
    "Wilson",
    "Bakker",
    "Dubois",
];
const SOURCES: &[&str] = &[
    "google",
    "yandex",
    "facebook",
    "vk",
    "newsletter",
    "partner",
    "expo",
    "organic",
];

async fn import(
    rows: usize,
    first: usize,
    url: Option<String>,
    keep: Option<std::path::PathBuf>,
    encoding: Option<String>,
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let csv_path = dir.path().join("leads.csv");
    let legacy = match &encoding {
        Some(label) => Some(voronka_app::CsvFormat::encoding_named(label)?),
        None => None,
    };
    let sep = if legacy.is_some() { ';' } else { ',' };
    {
        let mut text = String::new();
        let mut w = std::io::BufWriter::new(std::fs::File::create(&csv_path)?);
        let flush = |text: &mut String, w: &mut std::io::BufWriter<std::fs::File>| match legacy {
            Some(enc) => {
                // A letter the encoding lacks (an accented Latin letter in Windows-1251) is
                // written as "?", as spreadsheets save it, not as an HTML reference with a ';'.
                let kept: String = text
                    .chars()
                    .map(|c| {
                        let mut b = [0u8; 4];
                        if enc.encode(c.encode_utf8(&mut b)).2 {
                            '?'
                        } else {
                            c
                        }
                    })
                    .collect();
                w.write_all(&enc.encode(&kept).0).map(|_| text.clear())
            }
            None => w.write_all(text.as_bytes()).map(|_| text.clear()),
        };
        writeln!(
            text,
            "Имя{sep}Фамилия{sep}Телефон{sep}Email{sep}Компания{sep}Источник{sep}Комментарий"
        )?;
        for i in first..first + rows {
            if text.len() > 1 << 16 {
                flush(&mut text, &mut w)?;
            }
            writeln!(
                text,
                "{}{sep}{}{sep}+7916{:07}{sep}lead{i}@mail.ru{sep}Company {}{sep}{}{sep}Request {i}",
                FIRST[i % FIRST.len()],
                LAST[(i / 7) % LAST.len()],
                i % 10_000_000,
                i % 5000,
                SOURCES[i % SOURCES.len()]
            )?;
        }
        flush(&mut text, &mut w)?;
    }
    let size = std::fs::metadata(&csv_path)?.len();
    let url = match (url, &keep) {
        (Some(u), _) => u,
        (None, Some(p)) => format!("sqlite://{}", p.display()),
        (None, None) => format!("sqlite://{}", dir.path().join("import.db").display()),
    };
    // As `voronka import` opens it.
    let app = App::open_bulk(&url).await?;
    let file = std::fs::File::open(&csv_path)?;
    let started = Instant::now();
    // The pace of each 50,000 rows read, since it falls as the database grows.
    let mark = std::sync::Mutex::new((Instant::now(), 0u64));
    let pace = |n: u64| {
        let Ok(mut m) = mark.lock() else { return };
        if n >= m.1 + 50_000 {
            let secs = m.0.elapsed().as_secs_f64();
            eprintln!(
                "  {n} rows read: {:.0} rows/s since {}",
                (n - m.1) as f64 / secs,
                m.1
            );
            *m = (Instant::now(), n);
        }
    };
    let s = app
        .import_csv::<_, std::fs::File>(
            &Actor::system("bench"),
            std::io::BufReader::new(file),
            &voronka_app::CsvFormat::default(),
            None,
            None,
            None,
            &pace,
        )
        .await
        .context("import")?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "read as {} with {:?} between fields",
        s.encoding, s.delimiter
    );
    println!(
        "import: backend {:?}, {} rows ({:.0} MB CSV) in {secs:.1} s = {:.0} rows/s; created {}, attached {}, interests {}, rejected {}, failed {}; peak RSS {:.0} MB",
        app.store().backend(),
        s.rows,
        size as f64 / 1e6,
        s.rows as f64 / secs,
        s.created,
        s.attached,
        s.interests,
        s.rejected,
        s.failed,
        peak_rss_mb()
    );
    inbox(&app, 20).await
}

/// Tags every hundredth lead "bench-common" and ten leads "bench-rare", once per database,
/// so that the inbox's tag filter is measured on a common tag and on a rare one.
async fn tag_for_inbox(app: &App, actor: &Actor) -> Result<()> {
    if app
        .tag_names(actor)
        .await?
        .iter()
        .any(|t| t == "bench-common")
    {
        return Ok(());
    }
    let leads = app.store().count_all_leads().await?;
    let started = Instant::now();
    let mut tagged = 0;
    for id in (1..=leads).step_by(100) {
        if app.tag_lead(actor, id, "bench-common").await.is_ok() {
            tagged += 1;
        }
    }
    for id in (1..=leads).step_by((leads as usize / 10).max(1)).take(10) {
        app.tag_lead(actor, id + 7, "bench-rare").await.ok();
    }
    println!(
        "tagged {tagged} leads bench-common and 10 bench-rare in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    app.store().optimize().await?;
    Ok(())
}

async fn inbox(app: &App, repeat: usize) -> Result<()> {
    let actor = Actor::system("bench");
    tag_for_inbox(app, &actor).await?;
    let queries: Vec<(&str, LeadQuery)> = vec![
        (
            "tag bench-common (1 lead in 100)",
            LeadQuery {
                tag: Some("bench-common".into()),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "tag bench-rare (10 leads) in stage new",
            LeadQuery {
                tag: Some("BENCH-RARE".into()),
                stages: vec![voronka_core::Stage::New],
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "default inbox",
            LeadQuery {
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "stage=new source=google",
            LeadQuery {
                stages: vec![voronka_core::Stage::New],
                source: Some("google".into()),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "search \"lead12345\"",
            LeadQuery {
                text: Some("lead12345".into()),
                sort: LeadSort::CreatedDesc,
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "search \"петров\"",
            LeadQuery {
                text: Some("петров".into()),
                sort: LeadSort::CreatedDesc,
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "search \"79160012\"",
            LeadQuery {
                text: Some("79160012".into()),
                sort: LeadSort::CreatedDesc,
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "search \"lead12\" in stage new",
            LeadQuery {
                text: Some("lead12".into()),
                stages: vec![voronka_core::Stage::New],
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "search \"12\"",
            LeadQuery {
                text: Some("12".into()),
                limit: 50,
                ..Default::default()
            },
        ),
        (
            "search \"petrov\"",
            LeadQuery {
                text: Some("petrov".into()),
                sort: LeadSort::CreatedDesc,
                limit: 50,
                ..Default::default()
            },
        ),
    ];
    for (label, q) in queries {
        let mut times = Vec::with_capacity(repeat);
        let mut total = String::new();
        for _ in 0..repeat {
            let t = Instant::now();
            let page = app.list_leads_page(&actor, q.clone(), false).await?;
            let (rows, n) = (page.rows, page.total);
            times.push(t.elapsed().as_micros() as u64);
            total = if n.exact {
                n.n.to_string()
            } else {
                format!("at least {}", n.n)
            };
            std::hint::black_box(rows);
        }
        times.sort_unstable();
        println!(
            "inbox: {label}: page of 50 + count ({total} matching): median {:.1} ms, p95 {:.1} ms over {repeat} runs",
            pct(&times, 0.5),
            pct(&times, 0.95)
        );
    }
    Ok(())
}
