//! `voronka`: the command-line face. Every command accepts `--database-url`.
//! Exit codes: 0 ok, 1 runtime error, 2 usage error; errors are one line on stderr.

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::io::Read;
use std::time::Duration;
use voronka_app::{Actor, App, ExportFormat, ImportMap, Settings};
use voronka_core::{Role, Scope, ScopeSet, Stage, Temperature};
use voronka_server::{AppState, ServerConfig};
use voronka_store::LeadQuery;

/// mimalloc: the intake allocates and frees many small strings per row; glibc's allocator spent
/// about a third of the intake thread's time doing so.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod dedup;
mod link;
mod model;
mod report;
mod score;
mod words;

#[derive(Parser)]
#[command(
    name = "voronka",
    version,
    about = "Self-hosted lead generation and lead management"
)]
struct Cli {
    /// sqlite://FILE (default) or postgres://user@host/db
    #[arg(
        long,
        global = true,
        env = "VORONKA_DATABASE_URL",
        default_value = "sqlite://voronka.db"
    )]
    database_url: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web UI, the REST API and the public capture endpoint.
    Serve(ServeArgs),
    /// Create or upgrade the database schema.
    Migrate,
    /// Manage users.
    #[command(subcommand)]
    User(UserCmd),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCmd),
    /// Manage capture forms.
    #[command(subcommand)]
    Form(FormCmd),
    /// People's contact records.
    #[command(subcommand)]
    Contact(ContactCmd),
    /// Import leads from a CSV file through the intake pipeline.
    Import(ImportArgs),
    /// Export data.
    #[command(subcommand)]
    Export(ExportCmd),
    /// Load demo data: a sales team and leads over the last six months.
    Demo(DemoArgs),
    /// Find duplicate records in one CSV file, or the same records in two (record linkage).
    Link(link::LinkArgs),
    /// Find the contacts of the whole database that are one person; report or merge them.
    Dedup(dedup::DedupArgs),
    /// Predictive conversion score: train the model, show its report.
    #[command(subcommand)]
    Model(model::ModelCmd),
    /// Rule-based scoring: explain a lead's score, rescore, export and import the rules.
    #[command(subcommand)]
    Score(score::ScoreCmd),
    /// Reports: what each channel brought and cost.
    #[command(subcommand)]
    Report(report::ReportCmd),
    /// Marketing spend: what each channel cost, for the days it paid for.
    #[command(subcommand)]
    Spend(report::SpendCmd),
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, env = "VORONKA_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Load demo data when the database has no leads yet.
    #[arg(long)]
    demo: bool,
    /// URL under which browsers reach this server (used in embed codes).
    #[arg(long, env = "VORONKA_PUBLIC_URL")]
    public_url: Option<String>,
    /// Public captures per second allowed from one IP address.
    #[arg(long, env = "VORONKA_CAPTURE_RATE", default_value_t = 10)]
    capture_rate: u32,
    /// Largest request body in bytes.
    #[arg(long, env = "VORONKA_MAX_BODY", default_value_t = 256 * 1024)]
    max_body: usize,
}

#[derive(Subcommand)]
enum UserCmd {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long, value_parser = parse_role)]
        role: Role,
    },
    /// Set a user's password, read from standard input; every session of theirs ends and their
    /// sign-in is no longer locked.
    Password {
        #[arg(long)]
        email: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Turn off a user's two-step sign-in (lost phone and recovery codes); they sign in with
    /// their password alone until they turn it on again.
    TwoStepOff {
        #[arg(long)]
        email: String,
    },
    /// List users.
    List,
}

/// A password given on standard input, without the line's end.
fn password_from_stdin() -> anyhow::Result<String> {
    let mut password = String::new();
    std::io::stdin()
        .read_to_string(&mut password)
        .context(words::READING_PASSWORD)?;
    Ok(password.trim_end_matches(['\n', '\r']).to_string())
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Create an API token and print it once.
    Create {
        #[arg(long)]
        name: String,
        /// leads:read, leads:write, forms:write, events:write, metrics:read, admin (repeatable)
        #[arg(long = "scope", required = true, num_args = 1.., value_parser = parse_scope)]
        scopes: Vec<Scope>,
        /// Days until the token expires.
        #[arg(long)]
        ttl_days: Option<i64>,
        /// The person the token acts as (their email): their own leads, notifications, work
        /// queue and calendar.
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Subcommand)]
enum ContactCmd {
    /// Erase a person's personal data at their request (what names or reaches them, on every
    /// lead and every record merged with them; stages, products and campaigns stay).
    Erase {
        /// The contact's id (any record of the person: one merged into another names it).
        id: i64,
        /// Why: the request, its date or reference (kept in the audit log).
        #[arg(long)]
        reason: String,
    },
}

#[derive(Subcommand)]
enum FormCmd {
    /// Create a form and print its public key.
    Create {
        #[arg(long)]
        name: String,
        /// Where browsers go after a plain HTML submit.
        #[arg(long)]
        redirect: Option<String>,
        /// Origins allowed to post from JavaScript (repeatable); none means any.
        #[arg(long = "origin")]
        origins: Vec<String>,
        /// Region for phones written without a country code.
        #[arg(long)]
        region: Option<String>,
        #[arg(long)]
        product: Option<String>,
    },
    /// List forms.
    List,
}

#[derive(Args)]
struct ImportArgs {
    file: std::path::PathBuf,
    /// TOML file mapping CSV headers to fields.
    #[arg(long)]
    map: Option<std::path::PathBuf>,
    /// Source name recorded as utm_source when the file has none.
    #[arg(long)]
    source: Option<String>,
    /// Where to write rows that did not become leads (default FILE.rejected.csv).
    #[arg(long)]
    rejected: Option<std::path::PathBuf>,
    /// The file's text encoding (utf-8, windows-1251, koi8-r, utf-16le, …); found from the
    /// file when not given.
    #[arg(long, value_parser = encoding_arg)]
    encoding: Option<&'static encoding_rs::Encoding>,
    /// The field delimiter (, ; | or tab); found from the header line when not given.
    #[arg(long, value_parser = delimiter_arg)]
    delimiter: Option<u8>,
}

fn encoding_arg(label: &str) -> Result<&'static encoding_rs::Encoding, String> {
    voronka_app::CsvFormat::encoding_named(label).map_err(|e| e.to_string())
}

fn delimiter_arg(text: &str) -> Result<u8, String> {
    voronka_app::CsvFormat::delimiter_named(text).map_err(|e| e.to_string())
}

#[derive(Subcommand)]
enum ExportCmd {
    /// Export leads with the API's filters.
    Leads(ExportArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Csv,
    Jsonl,
}

#[derive(Args)]
struct ExportArgs {
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    #[arg(long, value_parser = parse_stage)]
    stage: Vec<Stage>,
    #[arg(long, value_parser = parse_temperature)]
    temperature: Option<Temperature>,
    /// Owner user id, or "none" for unassigned.
    #[arg(long)]
    owner: Option<String>,
    #[arg(long)]
    source: Option<String>,
    #[arg(long)]
    medium: Option<String>,
    #[arg(long)]
    campaign: Option<String>,
    #[arg(long)]
    form: Option<i64>,
    /// Created on or after this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    from: Option<i64>,
    /// Created before this date (YYYY-MM-DD).
    #[arg(long, value_parser = parse_date)]
    to: Option<i64>,
    /// Text search over name, email, phone, company.
    #[arg(long)]
    q: Option<String>,
    /// Leads with this tag (in any case).
    #[arg(long)]
    tag: Option<String>,
    /// Output file (default: standard output).
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

#[derive(Args)]
struct DemoArgs {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long, default_value_t = 5000)]
    leads: usize,
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| words::one_of(Role::ALL.map(|r| r.as_str()).join(", ")))
}
fn parse_scope(s: &str) -> Result<Scope, String> {
    Scope::parse(s).ok_or_else(|| words::one_of(Scope::ALL.map(|r| r.as_str()).join(", ")))
}
fn parse_stage(s: &str) -> Result<Stage, String> {
    Stage::parse(s).map_err(|e| e.to_string())
}
fn parse_temperature(s: &str) -> Result<Temperature, String> {
    Temperature::parse(s).ok_or_else(|| words::TEMPERATURE_CHOICES.to_string())
}
fn parse_date(s: &str) -> Result<i64, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
        .ok_or_else(|| words::DATE_EXPECTED.to_string())
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VORONKA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("{}", words::error_line(words::cannot_start_runtime(e)));
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("{}", words::error_line(one_line(&e)));
        std::process::exit(1);
    }
}

/// An error and its causes on one line, each cause once: many errors end their own message
/// with their cause's already.
fn one_line(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let m = cause.to_string();
        if out.ends_with(m.as_str()) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&m);
    }
    out.replace('\n', " ")
}

async fn open(url: &str) -> anyhow::Result<App> {
    App::open(url, Settings::default())
        .await
        .with_context(|| words::cannot_open(url))
}

fn cli_actor() -> Actor {
    Actor::system("command line")
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let url = cli.database_url.clone();
    match cli.command {
        Command::Migrate => {
            open(&url).await?;
            println!("{}", words::database_up_to_date(&url));
        }
        Command::Serve(a) => serve(&url, a).await?,
        Command::User(UserCmd::Add {
            email,
            name,
            password_stdin: _,
            role,
        }) => {
            let password = password_from_stdin()?;
            let app = open(&url).await?;
            let u = app.add_user(&email, &name, &password, role).await?;
            println!("{}", words::user_added(u.id, &u.email, u.role.as_str()));
        }
        Command::User(UserCmd::Password {
            email,
            password_stdin: _,
        }) => {
            let password = password_from_stdin()?;
            let app = open(&url).await?;
            let u = app.set_password_by_email(&email, &password).await?;
            println!("{}", words::password_set(u.id, &u.email));
        }
        Command::User(UserCmd::TwoStepOff { email }) => {
            let app = open(&url).await?;
            let u = app.reset_two_step_by_email(&email).await?;
            println!("{}", words::two_step_off(u.id, &u.email));
        }
        Command::User(UserCmd::List) => {
            let app = open(&url).await?;
            for u in app.store().list_users().await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    u.id,
                    u.email,
                    u.name,
                    u.role.as_str(),
                    if u.active {
                        words::USER_ACTIVE
                    } else {
                        words::USER_DISABLED
                    }
                );
            }
        }
        Command::Token(TokenCmd::Create {
            name,
            scopes,
            ttl_days,
            user,
        }) => {
            let app = open(&url).await?;
            let user_id = match user {
                Some(email) => Some(
                    app.user_by_email(&email)
                        .await?
                        .filter(|u| u.active)
                        .ok_or_else(|| anyhow::anyhow!(words::no_active_user(&email)))?
                        .id,
                ),
                None => None,
            };
            let (_, secret) = app
                .create_token(&name, ScopeSet::new(scopes), user_id, ttl_days)
                .await?;
            println!("{secret}");
        }
        Command::Form(FormCmd::Create {
            name,
            redirect,
            origins,
            region,
            product,
        }) => {
            let app = open(&url).await?;
            let f = app
                .create_form(
                    &cli_actor(),
                    voronka_app::FormInput {
                        name,
                        redirect_url: redirect,
                        allowed_origins: origins,
                        default_region: region,
                        product,
                        min_fill_ms: None,
                    },
                )
                .await?;
            println!("{}", f.public_key);
        }
        Command::Contact(ContactCmd::Erase { id, reason }) => {
            let app = open(&url).await?;
            let e = app.erase_contact(&cli_actor(), id, &reason).await?;
            println!(
                "{}",
                words::contact_erased(e.contact_id, e.contacts, e.leads)
            );
        }
        Command::Form(FormCmd::List) => {
            let app = open(&url).await?;
            for f in app.list_forms(&cli_actor()).await? {
                println!(
                    "{}",
                    words::form_list_row(
                        f.form.id,
                        &f.form.public_key,
                        &f.form.name,
                        f.leads,
                        f.interests,
                        f.rejected
                    )
                );
            }
        }
        Command::Report(c) => report::report(open(&url).await?, &cli_actor(), c).await?,
        Command::Spend(c) => report::spend(open(&url).await?, &cli_actor(), c).await?,
        Command::Import(a) => import(&url, a).await?,
        Command::Export(ExportCmd::Leads(a)) => export(&url, a).await?,
        Command::Link(a) => link::run(a)?,
        Command::Dedup(a) => dedup::run(&open(&url).await?, &cli_actor(), a).await?,
        Command::Model(cmd) => model::run(&open(&url).await?, cmd).await?,
        Command::Score(cmd) => score::run(&open(&url).await?, &cli_actor(), cmd).await?,
        Command::Demo(a) => {
            let app = open(&url).await?;
            let s = load_demo(&app, a.seed, a.leads).await?;
            println!("{}", words::demo_loaded(s.users, s.leads));
            if let Some(p) = s.admin_password {
                println!("{}", words::sign_in_as(&s.admin_email, p));
            }
        }
    }
    Ok(())
}

async fn load_demo(
    app: &App,
    seed: u64,
    leads: usize,
) -> anyhow::Result<voronka_app::demo::DemoSummary> {
    // Anchored at today's midnight so that one seed gives the same data all day.
    let today = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .context(words::CLOCK)?;
    let cfg = voronka_core::demo::DemoConfig {
        seed,
        leads,
        anchor: today.and_utc().timestamp_millis(),
    };
    let bar = indicatif::ProgressBar::new_spinner().with_message(words::loading_demo(leads));
    bar.enable_steady_tick(Duration::from_millis(120));
    let s = app.load_demo(&cfg).await?;
    bar.finish_and_clear();
    Ok(s)
}

async fn serve(url: &str, a: ServeArgs) -> anyhow::Result<()> {
    let app = open(url).await?;
    let mut login_hint = None;
    if a.demo && app.is_empty().await? {
        let s = load_demo(&app, 42, voronka_core::demo::DEFAULT_LEADS).await?;
        if let Some(p) = s.admin_password {
            login_hint = Some((s.admin_email, p));
        }
    }
    if app.store().count_users().await? == 0 {
        let password = voronka_app::new_secret("")[..16].to_string();
        let u = app
            .add_user(
                "admin@localhost.localdomain",
                words::DEFAULT_ADMIN_NAME,
                &password,
                Role::Admin,
            )
            .await?;
        login_hint = Some((u.email, password));
    }
    let listener = tokio::net::TcpListener::bind(&a.listen)
        .await
        .with_context(|| words::cannot_listen_on(&a.listen))?;
    let addr = listener.local_addr()?;
    let public_url = a.public_url.unwrap_or_else(|| format!("http://{addr}"));
    let state = AppState::new(
        app.clone(),
        ServerConfig {
            max_body_bytes: a.max_body,
            capture_per_ip_per_sec: a.capture_rate,
            public_url: public_url.clone(),
            secure_cookies: public_url.starts_with("https://"),
        },
    );
    let worker = format!("{}-{}", std::process::id(), addr.port());
    app.spawn_job_runner(worker, Duration::from_secs(2));
    println!("{}", words::serving(&public_url));
    match login_hint {
        Some((email, password)) => println!("{}", words::sign_in_as(email, password)),
        None => println!("{}", words::SIGN_IN_EXISTING_USER),
    }
    tokio::select! {
        r = voronka_server::serve(listener, state) => r.context(words::SERVER_STOPPED)?,
        _ = tokio::signal::ctrl_c() => println!("{}", words::STOPPING),
    }
    Ok(())
}

async fn import(url: &str, a: ImportArgs) -> anyhow::Result<()> {
    let map = match &a.map {
        Some(p) => Some(ImportMap::from_toml(
            &std::fs::read_to_string(p).with_context(|| words::cannot_read(p.display()))?,
        )?),
        None => None,
    };
    let file =
        std::fs::File::open(&a.file).with_context(|| words::cannot_open(a.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let rejected_path = a.rejected.clone().unwrap_or_else(|| {
        let mut p = a.file.clone().into_os_string();
        p.push(".rejected.csv");
        p.into()
    });
    // An import holds little in memory however large the database grows.
    let app = App::open_bulk(url)
        .await
        .with_context(|| words::cannot_open(url))?;
    let counting = CountingReader {
        inner: std::io::BufReader::with_capacity(1 << 20, file),
        read: Default::default(),
    };
    let read = counting.read.clone();
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = |rows: u64| {
        bar.set_position(read.load(std::sync::atomic::Ordering::Relaxed));
        bar.set_message(words::progress_rows(rows));
    };
    // Flexible: rejected rows are written as read, and a CSV row may be shorter or longer
    // than the header (or unreadable, leaving only the row, result and reason).
    let mut rejected = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(&rejected_path)
        .with_context(|| words::cannot_write(rejected_path.display()))?;
    let format = voronka_app::CsvFormat {
        encoding: a.encoding,
        delimiter: a.delimiter,
    };
    let started = std::time::Instant::now();
    let s = app
        .import_csv(
            &cli_actor(),
            counting,
            &format,
            map.as_ref(),
            a.source.as_deref(),
            Some(&mut rejected),
            &progress,
        )
        .await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!("{}", words::import_read_as(&s.encoding, s.delimiter));
    println!("{}", words::imported(&s, secs));
    if s.interests + s.rejected + s.failed > 0 {
        println!("{}", words::rejected_rows_at(rejected_path.display()));
    } else {
        drop(rejected);
        let _ = std::fs::remove_file(&rejected_path);
    }
    Ok(())
}

struct CountingReader<R> {
    inner: R,
    read: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

async fn export(url: &str, a: ExportArgs) -> anyhow::Result<()> {
    let owner = match a.owner.as_deref() {
        None => None,
        Some("none") => Some(None),
        Some(o) => match o.parse::<i64>() {
            Ok(id) => Some(Some(id)),
            Err(_) => bail!(words::OWNER_ARG),
        },
    };
    let q = LeadQuery {
        stages: a.stage,
        temperature: a.temperature,
        owner,
        source: a.source,
        medium: a.medium,
        campaign: a.campaign,
        form_id: a.form,
        created_from: a.from,
        created_to: a.to,
        text: a.q,
        tag: a.tag,
        ..Default::default()
    };
    let format = match a.format {
        Format::Csv => ExportFormat::Csv,
        Format::Jsonl => ExportFormat::Jsonl,
    };
    let app = open(url).await?;
    let n = match a.output {
        Some(p) => {
            let f = std::fs::File::create(&p).with_context(|| words::cannot_write(p.display()))?;
            app.export_leads(&cli_actor(), q, format, f).await?
        }
        None => {
            app.export_leads(&cli_actor(), q, format, std::io::stdout().lock())
                .await?
        }
    };
    eprintln!("{}", words::exported(n));
    Ok(())
}

#[cfg(test)]
mod tests {
    /// An error that quotes its cause in its own message (after a prefix), as many library
    /// errors do.
    #[derive(Debug)]
    struct Quoting(&'static str, std::io::Error);

    impl std::fmt::Display for Quoting {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{}: {}", self.0, self.1)
        }
    }

    impl std::error::Error for Quoting {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.1)
        }
    }

    #[test]
    fn an_error_line_names_each_cause_once() {
        let io = |text: &str| std::io::Error::other(text.to_string());
        let (first, second) = ("x", "y");
        let opening = |what: &str| super::words::cannot_open(what);
        let e = anyhow::Error::new(Quoting("m", io("d\nf"))).context(opening(first));
        assert_eq!(super::one_line(&e), format!("{}: m: d f", opening(first)));
        let plain = anyhow::Error::new(io("n")).context(opening(second));
        assert_eq!(super::one_line(&plain), format!("{}: n", opening(second)));
    }
}
