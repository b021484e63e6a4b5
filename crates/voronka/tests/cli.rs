//! Integration tests of the `voronka` binary: exit codes, user/token/form management, CSV
//! import (header detection, deduplication, rejected rows, re-runs, resuming after a kill) and
//! export. Each test runs the real binary against its own temporary SQLite file, and where
//! stated against a fresh PostgreSQL database dropped afterwards.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

// ---------- running the binary ----------

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }

    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// A runtime failure: exit code 1 and exactly one line on stderr, starting with "error:".
    #[track_caller]
    fn runtime_error(self) -> String {
        assert_eq!(
            self.code, 1,
            "expected a runtime error\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line on stderr, got {:?}", self.stderr);
        assert!(lines[0].starts_with("error: "), "{:?}", lines[0]);
        lines[0].to_string()
    }

    #[track_caller]
    fn usage_error(self) -> String {
        assert_eq!(
            self.code, 2,
            "expected a usage error\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        assert!(self.stderr.starts_with("error: "), "{:?}", self.stderr);
        assert!(self.stdout.is_empty(), "{:?}", self.stdout);
        self.stderr
    }
}

fn voronka() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_voronka"));
    c.env_remove("VORONKA_DATABASE_URL")
        .env_remove("VORONKA_LOG")
        // A command that falls back to the default database must not write into the repository.
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::null());
    c
}

/// `voronka --database-url DB ARGS…`
fn vk(db: &str, args: &[&str]) -> Run {
    let out = voronka()
        .arg("--database-url")
        .arg(db)
        .args(args)
        .output()
        .expect("run voronka");
    Run::from(out)
}

fn vk_stdin(db: &str, args: &[&str], input: &str) -> Run {
    use std::io::Write;
    let mut child = voronka()
        .arg("--database-url")
        .arg(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run voronka");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .or_else(|e| {
            // A command that fails on its arguments exits without reading its input.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                Ok(())
            } else {
                Err(e)
            }
        })
        .expect("write stdin");
    Run::from(child.wait_with_output().expect("wait"))
}

// ---------- databases ----------

/// A temporary directory holding the SQLite database and the test's files.
struct Sqlite {
    dir: tempfile::TempDir,
    url: String,
}

impl Sqlite {
    fn new() -> Sqlite {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        Sqlite { dir, url }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Copies a fixture next to the database (import writes FILE.rejected.csv beside FILE).
    fn fixture(&self, name: &str) -> PathBuf {
        let src = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name);
        let dst = self.path(name);
        std::fs::copy(&src, &dst).unwrap_or_else(|e| panic!("copy {}: {e}", src.display()));
        dst
    }
}

fn pg_admin_url() -> String {
    std::env::var("VORONKA_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// A fresh PostgreSQL database, dropped when this value is.
struct Postgres {
    url: String,
    name: String,
}

impl Postgres {
    fn new() -> Postgres {
        use sqlx::Connection;
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let admin = pg_admin_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "voronka_cli_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        block_on(async {
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| {
                    panic!("PostgreSQL is required for the test suite ({admin}): {e}")
                });
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut c)
                .await
                .expect("create database");
        });
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Postgres {
            url: format!("{base}/{name}"),
            name,
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        use sqlx::Connection;
        let admin = pg_admin_url();
        let name = self.name.clone();
        // A plain thread: dropping may happen while a panic unwinds.
        let _ = std::thread::spawn(move || {
            block_on(async {
                let mut c = sqlx::PgConnection::connect(&admin).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

// ---------- reading outputs ----------

const EXPORT_HEADER: [&str; 18] = [
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

/// Parses an exported CSV: checks the header and gives each row as column → value.
#[track_caller]
fn parse_export_csv(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    assert_eq!(header, EXPORT_HEADER, "export header");
    r.records()
        .map(|rec| {
            let rec = rec.expect("a well-formed CSV row");
            assert_eq!(rec.len(), EXPORT_HEADER.len(), "columns in {rec:?}");
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[track_caller]
fn parse_jsonl(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

fn export_csv(db: &str, filters: &[&str]) -> Vec<BTreeMap<String, String>> {
    let mut args = vec!["export", "leads", "--format", "csv"];
    args.extend_from_slice(filters);
    let r = vk(db, &args).ok();
    let rows = parse_export_csv(&r.stdout);
    assert_eq!(r.stderr.trim(), format!("exported {} leads", rows.len()));
    rows
}

fn export_jsonl(db: &str, filters: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["export", "leads", "--format", "jsonl"];
    args.extend_from_slice(filters);
    let r = vk(db, &args).ok();
    let rows = parse_jsonl(&r.stdout);
    assert_eq!(r.stderr.trim(), format!("exported {} leads", rows.len()));
    rows
}

/// The import summary line without its timing: "imported 6 rows: 3 new leads, …".
#[track_caller]
fn summary(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("imported "))
        .unwrap_or_else(|| panic!("no summary in {stdout:?}"));
    let (head, rest) = line.split_once(" in ").expect("timing");
    let (_, counts) = rest.split_once(" s: ").expect("timing");
    format!("{head}: {counts}")
}

/// Rows of a rejected-rows CSV, ordered by row number (rows finish in any order).
fn read_rejected(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let head = r.headers().unwrap().iter().map(str::to_string).collect();
    let mut rows: Vec<Vec<String>> = r
        .records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect();
    rows.sort_by_key(|r| r[0].parse::<u64>().unwrap());
    (head, rows)
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

// ---------- 1. exit codes ----------

#[test]
fn usage_errors_exit_2() {
    let db = Sqlite::new();
    let u = &db.url;
    let e = vk(u, &["frobnicate"]).usage_error();
    assert!(e.contains("frobnicate"), "{e}");
    let e = vk_stdin(
        u,
        &[
            "user",
            "add",
            "--email",
            "a@mail.ru",
            "--password-stdin",
            "--role",
            "wizard",
        ],
        "long enough password\n",
    )
    .usage_error();
    assert!(e.contains("wizard") && e.contains("salesperson"), "{e}");
    let e = vk(u, &["token", "create", "--scope", "leads:read"]).usage_error();
    assert!(e.contains("--name"), "{e}");
    let e = vk(
        u,
        &["token", "create", "--name", "x", "--scope", "everything"],
    )
    .usage_error();
    assert!(
        e.contains("leads:read") && e.contains("metrics:read"),
        "{e}"
    );
    vk(u, &["import"]).usage_error();
    let e = vk(u, &["import", "x.csv", "--encoding", "martian"]).usage_error();
    assert!(e.contains("martian") && e.contains("windows-1251"), "{e}");
    let e = vk(u, &["import", "x.csv", "--delimiter", ";;"]).usage_error();
    assert!(e.contains("tab"), "{e}");
    vk(u, &["export", "leads", "--stage", "nowhere"]).usage_error();
    let e = vk(u, &["export", "leads", "--from", "01.02.2024"]).usage_error();
    assert!(e.contains("YYYY-MM-DD"), "{e}");
    vk(u, &["export", "leads", "--format", "xml"]).usage_error();
    // No usage error touched the database.
    assert!(!db.path("t.db").exists());

    let help = vk(u, &["--help"]).ok();
    assert!(help.stdout.contains("import"), "{}", help.stdout);
    let version = vk(u, &["--version"]).ok();
    assert!(version.stdout.starts_with("voronka "), "{}", version.stdout);
}

#[test]
fn runtime_errors_exit_1_with_one_line() {
    let db = Sqlite::new();
    let u = &db.url;
    let missing = db.path("missing.csv");
    let e = vk(u, &["import", missing.to_str().unwrap()]).runtime_error();
    assert!(
        e.contains("cannot open") && e.contains("missing.csv"),
        "{e}"
    );

    let e = vk("mysql://x", &["migrate"]).runtime_error();
    assert!(e.contains("mysql://x"), "{e}");

    let add = |email: &str, password: &str| {
        vk_stdin(
            u,
            &[
                "user",
                "add",
                "--email",
                email,
                "--password-stdin",
                "--role",
                "viewer",
            ],
            password,
        )
    };
    let e = add("short@mail.ru", "short\n").runtime_error();
    assert!(e.contains("8 characters"), "{e}");
    let e = add("not-an-email", "long enough password\n").runtime_error();
    assert!(e.contains("email"), "{e}");
    add("dup@mail.ru", "long enough password\n").ok();
    add("dup@mail.ru", "another long password\n").runtime_error();

    let e = vk(u, &["export", "leads", "--owner", "somebody"]).runtime_error();
    assert!(e.contains("--owner"), "{e}");

    // The header has no contact column at all.
    let f = db.path("nocontact.csv");
    std::fs::write(&f, "Имя,Компания\nИван,ООО\n").unwrap();
    let e = vk(u, &["import", f.to_str().unwrap()]).runtime_error();
    assert!(e.contains("--map"), "{e}");
}

// ---------- 2. migrate ----------

#[test]
fn migrate_sqlite_twice() {
    let db = Sqlite::new();
    for _ in 0..2 {
        let r = vk(&db.url, &["migrate"]).ok();
        assert_eq!(
            r.stdout.trim(),
            format!("database is up to date: {}", db.url)
        );
        assert_eq!(r.stderr, "");
    }
    assert!(db.path("t.db").exists());
}

#[test]
fn migrate_postgres_twice() {
    let pg = Postgres::new();
    for _ in 0..2 {
        let r = vk(&pg.url, &["migrate"]).ok();
        assert_eq!(
            r.stdout.trim(),
            format!("database is up to date: {}", pg.url)
        );
    }
    // The schema is usable.
    vk(&pg.url, &["form", "create", "--name", "pg"]).ok();
    assert_eq!(export_jsonl(&pg.url, &[]).len(), 0);
}

// ---------- 3, 4. users, tokens, forms ----------

/// Whether a token acts as no person (a token of an integration).
fn crm_sync_acts_as_nobody(url: &str, token: &str) -> bool {
    block_on(async {
        let app = voronka_app::App::open(url, Default::default())
            .await
            .unwrap();
        app.token_actor(token).await.unwrap().user_id().is_none()
    })
}

#[test]
fn users_tokens_and_forms() {
    let db = Sqlite::new();
    let u = &db.url;
    let r = vk_stdin(
        u,
        &[
            "user",
            "add",
            "--email",
            "Olga@mail.ru",
            "--name",
            "Ольга Иванова",
            "--password-stdin",
            "--role",
            "salesperson",
        ],
        "correct horse battery\n",
    )
    .ok();
    assert!(r.stdout.starts_with("user "), "{}", r.stdout);
    assert!(r.stdout.contains("(salesperson)"), "{}", r.stdout);
    vk_stdin(
        u,
        &[
            "user",
            "add",
            "--email",
            "boss@mail.ru",
            "--password-stdin",
            "--role",
            "sales_manager",
        ],
        "another secret",
    )
    .ok();
    let list = vk(u, &["user", "list"]).ok().stdout;
    let rows: Vec<Vec<&str>> = list.lines().map(|l| l.split('\t').collect()).collect();
    assert_eq!(rows.len(), 2, "{list}");
    let olga = rows
        .iter()
        .find(|r| r[1].eq_ignore_ascii_case("olga@mail.ru"))
        .unwrap_or_else(|| panic!("{list}"));
    assert_eq!(&olga[2..], ["Ольга Иванова", "salesperson", "active"]);
    let boss = rows.iter().find(|r| r[1] == "boss@mail.ru").unwrap();
    // Without --name the name is the email's local part.
    assert_eq!(&boss[2..], ["boss", "sales_manager", "active"]);

    // A password set from the command line: the old one stops working, the new one signs in,
    // and the person's sessions end.
    let signs_in = |email: &str, password: &str| {
        block_on(async {
            let app = voronka_app::App::open(u, Default::default()).await.unwrap();
            app.login(email, password).await.map(|(_, token, _)| token)
        })
    };
    let session = signs_in("olga@mail.ru", "correct horse battery").expect("the first password");
    let r = vk_stdin(
        u,
        &[
            "user",
            "password",
            "--email",
            "OLGA@mail.ru",
            "--password-stdin",
        ],
        "новый пароль Ольги\n",
    )
    .ok();
    assert!(r.stdout.contains("olga@mail.ru"), "{}", r.stdout);
    assert!(signs_in("olga@mail.ru", "correct horse battery").is_err());
    assert!(signs_in("olga@mail.ru", "новый пароль Ольги").is_ok());
    let ended = block_on(async {
        let app = voronka_app::App::open(u, Default::default()).await.unwrap();
        app.session_user(&session).await.unwrap()
    });
    assert!(
        ended.is_none(),
        "the session from before the new password ended"
    );
    let e = vk_stdin(
        u,
        &[
            "user",
            "password",
            "--email",
            "nobody@mail.ru",
            "--password-stdin",
        ],
        "long enough password\n",
    )
    .runtime_error();
    assert!(e.contains("nobody@mail.ru"), "{e}");
    let e = vk_stdin(
        u,
        &[
            "user",
            "password",
            "--email",
            "boss@mail.ru",
            "--password-stdin",
        ],
        "short\n",
    )
    .runtime_error();
    assert!(e.contains("8 characters"), "{e}");

    // Two-step sign-in turned off from the command line, for a person who lost their phone.
    block_on(async {
        let app = voronka_app::App::open(u, Default::default()).await.unwrap();
        let (user, _, _) = app.login("boss@mail.ru", "another secret").await.unwrap();
        let me = voronka_app::Actor::user(user);
        let setup = app.start_two_step(&me).await.unwrap();
        let now = voronka_app::now_ms();
        let code = voronka_app::totp_code(&setup.secret, now).unwrap();
        app.confirm_two_step(&me, &code, now).await.unwrap();
    });
    assert!(signs_in("boss@mail.ru", "another secret").is_err());
    let r = vk(u, &["user", "two-step-off", "--email", "Boss@mail.ru"]).ok();
    assert!(r.stdout.contains("boss@mail.ru"), "{}", r.stdout);
    assert!(signs_in("boss@mail.ru", "another secret").is_ok());
    let e = vk(u, &["user", "two-step-off", "--email", "nobody@mail.ru"]).runtime_error();
    assert!(e.contains("nobody@mail.ru"), "{e}");

    let t = vk(
        u,
        &[
            "token",
            "create",
            "--name",
            "crm-sync",
            "--scope",
            "leads:read",
            "--scope",
            "leads:write",
        ],
    )
    .ok();
    let lines: Vec<&str> = t.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", t.stdout);
    assert!(
        lines[0].starts_with("vk_") && lines[0].len() > 20,
        "{lines:?}"
    );
    assert!(!lines[0].contains(char::is_whitespace));
    // Each token is new.
    let t2 = vk(u, &["token", "create", "--name", "n2", "--scope", "admin"]).ok();
    assert_ne!(t2.stdout.trim(), lines[0]);
    // A token made for a person acts as them; a person who is not there is a runtime error.
    let mine = vk(
        u,
        &[
            "token",
            "create",
            "--name",
            "olga",
            "--scope",
            "leads:read",
            "--user",
            "OLGA@mail.ru",
        ],
    )
    .ok();
    let acts_as = block_on(async {
        let app = voronka_app::App::open(u, Default::default()).await.unwrap();
        let actor = app.token_actor(mine.stdout.trim()).await.unwrap();
        actor.user_id()
    });
    assert_eq!(acts_as.map(|id| id.to_string()).as_deref(), Some(olga[0]));
    assert!(crm_sync_acts_as_nobody(u, lines[0]));
    let e = vk(
        u,
        &[
            "token",
            "create",
            "--name",
            "x",
            "--scope",
            "leads:read",
            "--user",
            "nobody@mail.ru",
        ],
    )
    .runtime_error();
    assert!(e.contains("there is no active user nobody@mail.ru"), "{e}");

    let f = vk(
        u,
        &[
            "form",
            "create",
            "--name",
            "Заявка с сайта",
            "--redirect",
            "https://mail.ru/thanks",
        ],
    )
    .ok();
    let key = f.stdout.trim().to_string();
    assert_eq!(f.stdout.lines().count(), 1);
    assert!(key.starts_with("f_") && key.len() > 4, "{key}");
    let list = vk(u, &["form", "list"]).ok().stdout;
    let cols: Vec<&str> = list.trim_end().split('\t').collect();
    assert_eq!(
        &cols[1..],
        [
            key.as_str(),
            "Заявка с сайта",
            "leads 0",
            "interests 0",
            "rejected 0"
        ],
        "{list}"
    );
}

/// `contact erase`: the person's data goes, the export shows the lead without it; an unknown
/// contact and a missing reason are refused with their exit codes.
#[test]
fn contact_erase_forgets_the_person() {
    let db = Sqlite::new();
    let file = db.fixture("ru.csv");
    vk(&db.url, &["import", file.to_str().unwrap()]).ok();
    let before = export_jsonl(&db.url, &[]);
    let lead = &before[0];
    let contact = lead["contact_id"].as_i64().unwrap().to_string();
    let name = lead["contact_name"].as_str().unwrap().to_string();
    assert_ne!(name, "—");
    let r = vk(
        &db.url,
        &[
            "contact",
            "erase",
            &contact,
            "--reason",
            "Письмо от 2026-12-01",
        ],
    )
    .ok();
    assert_eq!(
        r.stdout.trim(),
        format!("erased the personal data of contact {contact} (1 record, 1 lead)")
    );
    let after = export_csv(&db.url, &[]);
    let id = lead["id"].to_string();
    let row = after.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(row["name"], "—");
    assert_eq!((row["email"].as_str(), row["phone"].as_str()), ("", ""));
    assert!(after.iter().all(|r| r["name"] != name), "{after:?}");
    let e = vk(&db.url, &["contact", "erase", "999999", "--reason", "x"]).runtime_error();
    assert!(e.contains("contact 999999 not found"), "{e}");
    vk(&db.url, &["contact", "erase", &contact]).usage_error();
}

// ---------- 5. import ----------

#[test]
fn import_russian_headers_and_rerun() {
    let db = Sqlite::new();
    let file = db.fixture("ru.csv");
    let r = vk(&db.url, &["import", file.to_str().unwrap()]).ok();
    assert_eq!(
        summary(&r.stdout),
        "imported 6 rows: 3 new leads, 1 attached to existing leads, 0 reopened, 2 interests, \
         0 rejected, 0 already imported, 0 failed"
    );
    let rejected_path = db.path("ru.csv.rejected.csv");
    assert!(
        r.stdout.contains(&format!(
            "rows that did not become leads, with reasons: {}",
            rejected_path.display()
        )),
        "{}",
        r.stdout
    );
    let (head, rows) = read_rejected(&rejected_path);
    assert_eq!(
        head,
        [
            "row",
            "result",
            "reasons",
            "Имя",
            "Фамилия",
            "Телефон",
            "Почта",
            "Компания",
            "Источник"
        ]
    );
    assert_eq!(
        rows,
        [
            vec![
                "5",
                "interest",
                "no valid phone, email or social profile",
                "Пётр",
                "Ёлкин",
                "",
                "",
                "Завод №1",
                "vk"
            ],
            vec![
                "7",
                "interest",
                "\"12345\" has only 5 digits; no valid phone, email or social profile",
                "Олег",
                "Кузнецов",
                "12345",
                "",
                "",
                "yandex"
            ],
        ]
    );

    let leads = export_csv(&db.url, &[]);
    let by_name: BTreeMap<&str, &BTreeMap<String, String>> =
        leads.iter().map(|r| (r["name"].as_str(), r)).collect();
    assert_eq!(
        by_name.keys().copied().collect::<Vec<_>>(),
        ["Анна Смирнова", "Иван Петров", "Мария Сидорова"]
    );
    let ivan = by_name["Иван Петров"];
    assert_eq!(ivan["phone"], "+79161234567");
    assert_eq!(ivan["email"], "ivan.petrov@example.ru");
    assert_eq!(ivan["company"], "Рога и копыта, ООО");
    assert_eq!(ivan["source"], "yandex");
    assert_eq!(ivan["touches"], "2");
    assert_eq!(ivan["stage"], "new");
    let maria = by_name["Мария Сидорова"];
    assert_eq!(maria["phone"], "+79257654321");
    assert_eq!(maria["company"], "ИП \"Сидорова\"");
    assert_eq!(maria["touches"], "1");
    // An unreadable phone beside a valid email still makes a lead, reached by email.
    let anna = by_name["Анна Смирнова"];
    assert_eq!(anna["email"], "anna@mail.ru");
    assert_eq!(anna["touches"], "1");

    // The file's first row about Ivan made the lead, so its details are the lead's.
    assert_eq!(ivan["temperature"], "warm");
    let found = export_csv(&db.url, &["--q", "ivan.petrov@example.ru"]);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["name"], "Иван Петров");

    // Tags: a column of their own, and a filter in any case.
    assert_eq!(ivan["tags"], "");
    let ivan_id: i64 = ivan["id"].parse().unwrap();
    block_on(async {
        let app = voronka_app::App::open(&db.url, Default::default())
            .await
            .unwrap();
        let admin = voronka_app::Actor::system("t");
        app.tag_lead(&admin, ivan_id, "VIP").await.unwrap();
        // A few milliseconds apart: tags are listed in the order they were added, by time.
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
        app.tag_lead(&admin, ivan_id, "=Выставка").await.unwrap();
    });
    let tagged = export_csv(&db.url, &["--tag", "vip"]);
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0]["name"], "Иван Петров");
    assert_eq!(tagged[0]["tags"], "VIP; =Выставка");
    let jsonl = export_jsonl(&db.url, &["--tag", "=выставка"]);
    assert_eq!(jsonl.len(), 1);
    assert_eq!(jsonl[0]["tags"], serde_json::json!(["VIP", "=Выставка"]));

    // The same file again adds nothing.
    let before = export_jsonl(&db.url, &[]).len();
    let r = vk(&db.url, &["import", file.to_str().unwrap()]).ok();
    assert_eq!(
        summary(&r.stdout),
        "imported 6 rows: 0 new leads, 0 attached to existing leads, 0 reopened, 0 interests, \
         0 rejected, 6 already imported, 0 failed"
    );
    // Nothing was rejected this time, so no rejected-rows file is left behind.
    assert!(!r.stdout.contains("rows that did not become leads"));
    assert!(!rejected_path.exists());
    let after = export_jsonl(&db.url, &[]);
    assert_eq!(after.len(), before);
    assert_eq!(
        after
            .iter()
            .map(|l| l["touches"].as_i64().unwrap())
            .sum::<i64>(),
        4
    );
}

#[test]
fn import_hubspot_headers_with_source_and_rejected_path() {
    let db = Sqlite::new();
    let file = db.fixture("hubspot.csv");
    let rejected = db.path("out/rejects.csv");
    std::fs::create_dir_all(rejected.parent().unwrap()).unwrap();
    let r = vk(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--source",
            "hubspot",
            "--rejected",
            rejected.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(
        summary(&r.stdout),
        "imported 4 rows: 2 new leads, 1 attached to existing leads, 0 reopened, 1 interests, \
         0 rejected, 0 already imported, 0 failed"
    );
    assert!(!db.path("hubspot.csv.rejected.csv").exists());
    let (head, rows) = read_rejected(&rejected);
    assert_eq!(head[..3], ["row", "result", "reasons"]);
    assert_eq!(
        head[3..],
        [
            "First Name",
            "Last Name",
            "Email",
            "Phone Number",
            "Company Name",
            "Job Title",
            "Original Source"
        ]
    );
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0][..2], ["5", "interest"]);
    assert!(
        rows[0][2].contains("no valid phone, email or social profile"),
        "{rows:?}"
    );
    assert_eq!(
        rows[0][3..],
        ["Bob", "", "", "n/a", "", "", "Direct Traffic"]
    );

    let leads = export_csv(&db.url, &[]);
    assert_eq!(leads.len(), 2);
    let john = leads.iter().find(|l| l["name"] == "John Smith").unwrap();
    // The domain is case-insensitive and lowercased; the local part is kept as written.
    assert_eq!(john["email"], "John.Smith@mail.ru");
    assert_eq!(john["phone"], "+442079460958");
    assert_eq!(john["company"], "Acme Ltd");
    // The file's own source wins over --source.
    assert_eq!(john["source"], "organic search");
    let jane = leads.iter().find(|l| l["name"] == "Jane Doe").unwrap();
    assert_eq!(jane["touches"], "2");
    assert_eq!(jane["source"], "paid search");
    assert_eq!(export_csv(&db.url, &["--source", "Paid Search"]).len(), 1);

    // --source takes part in the row identity: the same file under another source is new input,
    // whose rows attach to the same people instead of duplicating them.
    let r = vk(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--source",
            "other",
            "--rejected",
            rejected.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(
        summary(&r.stdout),
        "imported 4 rows: 0 new leads, 3 attached to existing leads, 0 reopened, 1 interests, \
         0 rejected, 0 already imported, 0 failed"
    );
    assert_eq!(export_jsonl(&db.url, &[]).len(), 2);
}

/// Rows shorter or longer than the header, and a row that is not UTF-8, are accounted for one by
/// one and written to the rejected file; the import itself succeeds.
#[test]
fn import_ragged_and_unreadable_rows() {
    let db = Sqlite::new();
    let file = db.path("ragged.csv");
    let mut bytes = "Имя,Телефон,Почта\n\
                     Иван,+79161234567,ivan@example.ru\n\
                     Пётр\n\
                     Анна,+79161234569,,лишнее,поле\n\
                     Олег,12345,,лишнее\n"
        .as_bytes()
        .to_vec();
    bytes.extend_from_slice(b"\xff\xfe,+79161234568,\n");
    bytes.extend_from_slice("Мария,+79251112233\n".as_bytes());
    std::fs::write(&file, bytes).unwrap();
    let r = vk(&db.url, &["import", file.to_str().unwrap()]).ok();
    assert_eq!(
        summary(&r.stdout),
        "imported 6 rows: 3 new leads, 0 attached to existing leads, 0 reopened, 2 interests, \
         0 rejected, 0 already imported, 1 failed"
    );
    let (head, rows) = read_rejected(&db.path("ragged.csv.rejected.csv"));
    assert_eq!(
        head,
        ["row", "result", "reasons", "Имя", "Телефон", "Почта"]
    );
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(
        rows[0],
        [
            "3",
            "interest",
            "no valid phone, email or social profile",
            "Пётр"
        ]
    );
    assert_eq!(
        rows[1],
        [
            "5",
            "interest",
            "\"12345\" has only 5 digits; no valid phone, email or social profile",
            "Олег",
            "12345",
            "",
            "лишнее"
        ]
    );
    assert_eq!(rows[2][..2], ["6", "error"]);
    assert!(rows[2][2].starts_with("unreadable row: "), "{rows:?}");
    let mut names: Vec<String> = export_csv(&db.url, &[])
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    names.sort();
    assert_eq!(names, ["Анна", "Иван", "Мария"]);
}

/// Files as spreadsheets save them: Excel on a Russian Windows writes Windows-1251 with `;`
/// between fields, its "Unicode text" is UTF-16 with tabs. Both are read as such, found from the
/// file, and an encoding can be given when the file cannot tell.
#[test]
fn import_reads_spreadsheet_encodings_and_delimiters() {
    let db = Sqlite::new();
    let cp1251 = db.path("excel.csv");
    let text = "ФИО;Телефон;Компания;Комментарий\r\n\
                Иван Петров;+7 912 345-67-89;\"ООО \"\"Ромашка; и партнёры\"\"\";Перезвонить вечером\r\n\
                Ольга Смирнова;8 (916) 555-01-01;ИП Смирнова;\r\n";
    std::fs::write(&cp1251, encoding_rs::WINDOWS_1251.encode(text).0).unwrap();
    let r = vk(&db.url, &["import", cp1251.to_str().unwrap()]).ok();
    assert!(
        r.stdout
            .contains("read as windows-1251 with ';' between fields"),
        "{}",
        r.stdout
    );
    assert_eq!(
        summary(&r.stdout),
        "imported 2 rows: 2 new leads, 0 attached to existing leads, 0 reopened, 0 interests, \
         0 rejected, 0 already imported, 0 failed"
    );
    let mut leads: Vec<(String, String)> = export_csv(&db.url, &[])
        .into_iter()
        .map(|r| (r["name"].clone(), r["company"].clone()))
        .collect();
    leads.sort();
    assert_eq!(
        leads,
        [
            (
                "Иван Петров".to_string(),
                "ООО \"Ромашка; и партнёры\"".to_string()
            ),
            ("Ольга Смирнова".to_string(), "ИП Смирнова".to_string()),
        ]
    );
    // The same file again adds nothing.
    let r = vk(&db.url, &["import", cp1251.to_str().unwrap()]).ok();
    assert!(
        summary(&r.stdout).contains("2 already imported"),
        "{}",
        r.stdout
    );

    // UTF-16 with a byte-order mark and tabs.
    let utf16 = db.path("unicode.txt");
    let mut bytes = vec![0xff, 0xfe];
    for u in "Name\tPhone\tEmail\r\nJan de Vries\t+31 6 12345678\tjan@example.nl\r\n".encode_utf16()
    {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    std::fs::write(&utf16, bytes).unwrap();
    let r = vk(&db.url, &["import", utf16.to_str().unwrap()]).ok();
    assert!(
        r.stdout
            .contains("read as utf-16le with tab between fields"),
        "{}",
        r.stdout
    );
    assert!(summary(&r.stdout).contains("1 new leads"), "{}", r.stdout);

    // KOI8-R, named on the command line, with the delimiter given too.
    let koi = db.path("koi8.csv");
    let text = "Имя|Почта\nФёдор|fedor@example.ru\n";
    std::fs::write(&koi, encoding_rs::KOI8_R.encode(text).0).unwrap();
    let r = vk(
        &db.url,
        &[
            "import",
            koi.to_str().unwrap(),
            "--encoding",
            "koi8-r",
            "--delimiter",
            "|",
        ],
    )
    .ok();
    assert!(r.stdout.contains("read as koi8-r with '|'"), "{}", r.stdout);
    let names: Vec<String> = export_csv(&db.url, &[])
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(names.contains(&"Фёдор".to_string()), "{names:?}");

    // The mapping file may say how the file is written; the command line overrides it.
    let latin = db.path("latin.csv");
    let text = "Client|Cell\nJürgen Müller|+49 30 1234567\n";
    std::fs::write(&latin, encoding_rs::WINDOWS_1252.encode(text).0).unwrap();
    let map = db.path("latin.toml");
    std::fs::write(
        &map,
        "encoding = \"windows-1252\"\ndelimiter = \";\"\n[columns]\n\"Client\" = \"name\"\n\"Cell\" = \"phone\"\n",
    )
    .unwrap();
    let (file, map) = (latin.to_str().unwrap(), map.to_str().unwrap());
    let r = vk(&db.url, &["import", file, "--map", map, "--delimiter", "|"]).ok();
    assert!(
        r.stdout.contains("read as windows-1252 with '|'"),
        "{}",
        r.stdout
    );
    let names: Vec<String> = export_csv(&db.url, &[])
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(names.contains(&"Jürgen Müller".to_string()), "{names:?}");
    // A mapping file naming an encoding that does not exist is refused before anything is read.
    let bad = db.path("bad.toml");
    std::fs::write(&bad, "encoding = \"martian\"\n").unwrap();
    let e = vk(&db.url, &["import", file, "--map", bad.to_str().unwrap()]).runtime_error();
    assert!(e.contains("mapping file") && e.contains("martian"), "{e}");
    assert!(names.contains(&"Jan de Vries".to_string()), "{names:?}");
}

/// Rows run concurrently, yet rows about one person keep their file order: the first makes the
/// lead (with its email searchable and its source), the next attaches to it.
#[test]
fn import_keeps_file_order_per_person() {
    use std::fmt::Write;
    let db = Sqlite::new();
    let file = db.path("pairs.csv");
    let mut text = String::from("ФИО,Телефон,Почта,Компания,Источник\n");
    for i in 0..300 {
        // Numbers start at 1000000: 903 000-00-00 is not a real number.
        let n = 1_000_000 + i;
        writeln!(
            text,
            "Клиент {i},+7903{n:07},client{i}@example.ru,Компания {i},first"
        )
        .unwrap();
        writeln!(text, "Клиент {i},8 903 {n:07},,,second").unwrap();
    }
    std::fs::write(&file, text).unwrap();
    let r = vk(&db.url, &["import", file.to_str().unwrap()]).ok();
    assert_eq!(
        summary(&r.stdout),
        "imported 600 rows: 300 new leads, 300 attached to existing leads, 0 reopened, \
         0 interests, 0 rejected, 0 already imported, 0 failed"
    );
    let leads = export_csv(&db.url, &[]);
    assert_eq!(leads.len(), 300);
    assert!(leads.iter().all(|l| l["touches"] == "2"));
    assert_eq!(export_csv(&db.url, &["--source", "first"]).len(), 300);
    assert_eq!(export_csv(&db.url, &["--q", "@example.ru"]).len(), 300);
}

// ---------- 6. mapping files ----------

#[test]
fn import_with_mapping_file() {
    let db = Sqlite::new();
    let file = db.fixture("odd.csv");
    let e = vk(&db.url, &["import", file.to_str().unwrap()]).runtime_error();
    assert!(e.contains("no phone, email or social column"), "{e}");

    let map = db.fixture("odd-map.toml");
    let r = vk(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--map",
            map.to_str().unwrap(),
            "--source",
            "Выставка",
        ],
    )
    .ok();
    assert_eq!(
        summary(&r.stdout),
        "imported 2 rows: 2 new leads, 0 attached to existing leads, 0 reopened, 0 interests, \
         0 rejected, 0 already imported, 0 failed"
    );
    let leads = export_jsonl(&db.url, &[]);
    let mut got: Vec<(String, String, String)> = leads
        .iter()
        .map(|l| {
            (
                l["contact_name"].as_str().unwrap().to_string(),
                l["phone"].as_str().unwrap().to_string(),
                l["source"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "Дмитрий Волков".into(),
                "+79032223344".into(),
                "выставка".into()
            ),
            (
                "Светлана Орлова".into(),
                "+79031112233".into(),
                "выставка".into()
            ),
        ]
    );
    // The ignored column is not kept anywhere.
    assert!(!serde_json::to_string(&leads).unwrap().contains("A-17"));

    let bad = db.fixture("bad-map.toml");
    let e = vk(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--map",
            bad.to_str().unwrap(),
        ],
    )
    .runtime_error();
    assert!(e.contains("unknown field \"mobile_number\""), "{e}");
    assert!(e.contains("phone"), "the known fields are listed: {e}");

    let broken = db.path("broken.toml");
    std::fs::write(&broken, "[columns\n\"Client\" = name\n").unwrap();
    let e = vk(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--map",
            broken.to_str().unwrap(),
        ],
    )
    .runtime_error();
    assert!(e.contains("mapping file"), "{e}");
    let e = vk(
        &db.url,
        &[
            "import",
            file.to_str().unwrap(),
            "--map",
            db.path("nope.toml").to_str().unwrap(),
        ],
    )
    .runtime_error();
    assert!(e.contains("nope.toml"), "{e}");
    // Failed runs stored nothing.
    assert_eq!(export_jsonl(&db.url, &[]).len(), 2);
}

// ---------- 7. resuming a killed import ----------

fn write_people_csv(path: &Path, rows: usize) {
    use std::io::Write;
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    writeln!(w, "Имя,Телефон,Почта").unwrap();
    for i in 0..rows {
        writeln!(w, "Клиент {i},+7916{i:07},client{i}@mail.ru").unwrap();
    }
    w.flush().unwrap();
}

/// Leads stored so far, read straight from the SQLite file (0 while it is not there yet).
fn sqlite_lead_count(db: &Path) -> i64 {
    use sqlx::Connection;
    if !db.exists() {
        return 0;
    }
    block_on(async {
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .busy_timeout(Duration::from_secs(5));
        let Ok(mut c) = sqlx::SqliteConnection::connect_with(&opts).await else {
            return 0;
        };
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM leads")
            .fetch_one(&mut c)
            .await
            .unwrap_or(0);
        let _ = c.close().await;
        n
    })
}

#[test]
fn killed_import_finishes_every_row_exactly_once() {
    let mut rows = 20_000;
    for attempt in 0..3 {
        let db = Sqlite::new();
        let file = db.path("big.csv");
        write_people_csv(&file, rows);
        let mut child = voronka()
            .args(["--database-url", &db.url, "import", file.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start import");
        let started = Instant::now();
        let mut finished = false;
        loop {
            if child.try_wait().unwrap().is_some() {
                finished = true;
                break;
            }
            // Killed once a good part is stored, with more rows in flight.
            if sqlite_lead_count(&db.path("t.db")) >= rows as i64 / 5 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the import stored nothing in a minute"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        if !finished {
            child.kill().expect("kill");
        }
        let status = child.wait().unwrap();
        let before = export_jsonl(&db.url, &[]).len();
        if finished || status.success() || before >= rows {
            eprintln!(
                "attempt {attempt}: {rows} rows finished before the kill; trying a bigger file"
            );
            rows *= 2;
            continue;
        }
        assert!(before > 0, "the kill came after some leads were committed");
        eprintln!(
            "killed after {:.1} s with {before} of {rows} leads stored",
            started.elapsed().as_secs_f64()
        );

        let r = vk(&db.url, &["import", file.to_str().unwrap()]).ok();
        assert_eq!(
            summary(&r.stdout),
            format!(
                "imported {rows} rows: {} new leads, 0 attached to existing leads, 0 reopened, \
                 0 interests, 0 rejected, {before} already imported, 0 failed",
                rows - before
            )
        );
        let leads = export_jsonl(&db.url, &[]);
        assert_eq!(leads.len(), rows);
        let phones: std::collections::HashSet<&str> =
            leads.iter().map(|l| l["phone"].as_str().unwrap()).collect();
        assert_eq!(phones.len(), rows, "every row exactly once");
        assert!(phones.contains("+79160000000"));
        assert!(phones.contains(format!("+7916{:07}", rows - 1).as_str()));
        assert!(leads.iter().all(|l| l["touches"] == 1));

        // And a third run finds everything done.
        let r = vk(&db.url, &["import", file.to_str().unwrap()]).ok();
        assert_eq!(
            summary(&r.stdout),
            format!(
                "imported {rows} rows: 0 new leads, 0 attached to existing leads, 0 reopened, \
                 0 interests, 0 rejected, {rows} already imported, 0 failed"
            )
        );
        return;
    }
    panic!("the import always finished before it could be killed");
}

// ---------- 8. export ----------

#[test]
fn export_filters_formats_and_files() {
    let db = Sqlite::new();
    for f in ["ru.csv", "hubspot.csv"] {
        let file = db.fixture(f);
        vk(&db.url, &["import", file.to_str().unwrap()]).ok();
    }
    let all = export_csv(&db.url, &[]);
    assert_eq!(all.len(), 5);
    // Oldest first, ids ascending within one import.
    let ids: Vec<i64> = all.iter().map(|r| r["id"].parse().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 5);
    let today = today();
    for r in &all {
        assert!(
            r["created_at"].starts_with(&today.format("%Y-%m-%dT").to_string())
                && r["created_at"].ends_with('Z'),
            "{r:?}"
        );
        // "Jane Doe" is a placeholder name: stored, but as junk.
        let expected = if r["name"] == "Jane Doe" {
            "junk"
        } else {
            "new"
        };
        assert_eq!(r["stage"], expected, "{r:?}");
    }

    // The raw text quotes what needs quoting and keeps Cyrillic as is.
    let raw = vk(&db.url, &["export", "leads"]).ok().stdout;
    assert!(raw.starts_with(&(EXPORT_HEADER.join(",") + "\n")), "{raw}");
    assert!(raw.contains(",\"Рога и копыта, ООО\","), "{raw}");
    assert!(raw.contains(",\"ИП \"\"Сидорова\"\"\","), "{raw}");
    assert!(raw.contains(",Мария Сидорова,"), "{raw}");
    assert_eq!(raw.lines().count(), 6);

    let names = |rows: &[BTreeMap<String, String>]| {
        let mut n: Vec<String> = rows.iter().map(|r| r["name"].clone()).collect();
        n.sort();
        n
    };
    assert_eq!(export_csv(&db.url, &["--stage", "new"]).len(), 4);
    assert_eq!(
        names(&export_csv(&db.url, &["--stage", "junk"])),
        ["Jane Doe"]
    );
    assert_eq!(export_csv(&db.url, &["--stage", "converted"]).len(), 0);
    assert_eq!(
        names(&export_csv(&db.url, &["--source", "google"])),
        ["Анна Смирнова", "Мария Сидорова"]
    );
    assert_eq!(
        names(&export_csv(&db.url, &["--source", "Yandex"])),
        ["Иван Петров"]
    );
    assert_eq!(
        names(&export_csv(&db.url, &["--q", "Петров"])),
        ["Иван Петров"]
    );
    assert_eq!(
        names(&export_csv(&db.url, &["--q", "петров"])),
        ["Иван Петров"]
    );
    assert_eq!(
        names(&export_csv(&db.url, &["--q", "globex"])),
        ["Jane Doe"]
    );
    assert_eq!(
        names(&export_csv(&db.url, &["--q", "+7925"])),
        ["Мария Сидорова"]
    );
    assert_eq!(export_csv(&db.url, &["--q", "никого нет"]).len(), 0);
    assert_eq!(
        names(&export_csv(&db.url, &["--q", "mail.ru"])),
        ["John Smith", "Анна Смирнова"]
    );

    let d = |n: i64| {
        (today + chrono::Duration::days(n))
            .format("%Y-%m-%d")
            .to_string()
    };
    assert_eq!(export_csv(&db.url, &["--from", &d(0)]).len(), 5);
    assert_eq!(export_csv(&db.url, &["--from", &d(1)]).len(), 0);
    assert_eq!(export_csv(&db.url, &["--to", &d(0)]).len(), 0);
    assert_eq!(export_csv(&db.url, &["--to", &d(1)]).len(), 5);
    assert_eq!(
        export_csv(&db.url, &["--from", &d(-30), "--to", &d(1)]).len(),
        5
    );
    assert_eq!(
        names(&export_csv(
            &db.url,
            &[
                "--from",
                &d(0),
                "--to",
                &d(1),
                "--source",
                "google",
                "--q",
                "анна"
            ]
        )),
        ["Анна Смирнова"]
    );

    // JSON lines carry the same leads.
    let jl = export_jsonl(&db.url, &[]);
    assert_eq!(jl.len(), 5);
    for (j, c) in jl.iter().zip(&all) {
        assert_eq!(j["id"].to_string(), c["id"]);
        assert_eq!(j["contact_name"].as_str().unwrap(), c["name"]);
        assert_eq!(j["stage"].as_str().unwrap(), c["stage"]);
        assert_eq!(j["touches"].to_string(), c["touches"]);
    }
    assert_eq!(export_jsonl(&db.url, &["--source", "google"]).len(), 2);

    // -o writes the file and nothing to standard output.
    for (format, name) in [("csv", "leads.csv"), ("jsonl", "leads.jsonl")] {
        let out = db.path(name);
        let r = vk(
            &db.url,
            &[
                "export",
                "leads",
                "--format",
                format,
                "--source",
                "google",
                "-o",
                out.to_str().unwrap(),
            ],
        )
        .ok();
        assert_eq!(r.stdout, "");
        assert_eq!(r.stderr.trim(), "exported 2 leads");
        let text = std::fs::read_to_string(&out).unwrap();
        match format {
            "csv" => assert_eq!(
                names(&parse_export_csv(&text)),
                ["Анна Смирнова", "Мария Сидорова"]
            ),
            _ => assert_eq!(parse_jsonl(&text).len(), 2),
        }
    }
    let e = vk(
        &db.url,
        &[
            "export",
            "leads",
            "-o",
            db.path("no/such/dir/x.csv").to_str().unwrap(),
        ],
    )
    .runtime_error();
    assert!(e.contains("cannot write"), "{e}");
}

/// The same file imported into SQLite and into PostgreSQL gives the same leads.
#[test]
fn import_and_export_on_postgres_match_sqlite() {
    let pg = Postgres::new();
    let lite = Sqlite::new();
    let mut exports = Vec::new();
    for url in [&pg.url, &lite.url] {
        let mut lines = Vec::new();
        for f in ["ru.csv", "hubspot.csv"] {
            let file = lite.fixture(f);
            let r = vk(url, &["import", file.to_str().unwrap()]).ok();
            lines.push(summary(&r.stdout));
            let r = vk(url, &["import", file.to_str().unwrap()]).ok();
            lines.push(summary(&r.stdout));
        }
        let mut rows: Vec<Vec<String>> = export_csv(url, &[])
            .into_iter()
            .map(|mut r| {
                r.remove("id");
                r.remove("created_at");
                r.into_values().collect()
            })
            .collect();
        rows.sort();
        assert_eq!(export_csv(url, &["--q", "Петров"]).len(), 1);
        assert_eq!(export_csv(url, &["--source", "GOOGLE"]).len(), 2);
        assert_eq!(
            export_csv(url, &["--to", &today().format("%Y-%m-%d").to_string()]).len(),
            0
        );
        exports.push((lines, rows));
    }
    assert_eq!(exports[0].1.len(), 5);
    assert_eq!(exports[0], exports[1]);
}

// ---------- 9. demo ----------

#[test]
fn demo_is_deterministic_per_seed() {
    let a = Sqlite::new();
    let b = Sqlite::new();
    let mut outputs = Vec::new();
    let day = today();
    for db in [&a, &b] {
        let r = vk(&db.url, &["demo", "--seed", "7", "--leads", "300"]).ok();
        let first = r.stdout.lines().next().unwrap_or_default().to_string();
        let (users, leads) = first
            .strip_prefix("demo data loaded: ")
            .and_then(|s| s.split_once(" users, "))
            .and_then(|(u, l)| {
                Some((
                    u.parse::<usize>().ok()?,
                    l.strip_suffix(" leads")?.parse::<usize>().ok()?,
                ))
            })
            .unwrap_or_else(|| panic!("{:?}", r.stdout));
        assert!(users > 0);
        assert!(leads > 0 && leads <= 300, "{leads}");
        assert!(r.stdout.contains("sign in as "), "{}", r.stdout);
        let csv = vk(&db.url, &["export", "leads", "--format", "csv"])
            .ok()
            .stdout;
        let rows = parse_export_csv(&csv);
        assert_eq!(rows.len(), leads);
        outputs.push((first, csv));
    }
    assert_eq!(outputs[0].0, outputs[1].0);
    if today() == day {
        assert_eq!(outputs[0].1, outputs[1].1, "same seed, same export");
    } else {
        // Demo data is anchored at today's midnight (UTC); this run straddled one.
        let strip = |csv: &str| -> Vec<Vec<String>> {
            parse_export_csv(csv)
                .into_iter()
                .map(|mut r| {
                    r.remove("created_at");
                    r.into_values().collect()
                })
                .collect()
        };
        assert_eq!(strip(&outputs[0].1), strip(&outputs[1].1));
    }

    // Filters over six months of varied data agree with the full export.
    let rows = parse_export_csv(&outputs[0].1);
    let count =
        |f: &dyn Fn(&BTreeMap<String, String>) -> bool| rows.iter().filter(|r| f(r)).count();
    let mut stages: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sources: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &rows {
        *stages.entry(r["stage"].as_str()).or_default() += 1;
        *sources.entry(r["source"].as_str()).or_default() += 1;
    }
    assert!(stages.len() >= 4, "{stages:?}");
    for (stage, n) in &stages {
        assert_eq!(export_csv(&a.url, &["--stage", stage]).len(), *n, "{stage}");
    }
    assert_eq!(
        export_csv(&a.url, &["--stage", "new", "--stage", "converted"]).len(),
        count(&|r| r["stage"] == "new" || r["stage"] == "converted")
    );
    let (source, n) = sources
        .iter()
        .filter(|(s, _)| !s.is_empty())
        .max_by_key(|(_, n)| **n)
        .unwrap();
    assert_eq!(export_jsonl(&a.url, &["--source", source]).len(), *n);
    let from = (today() - chrono::Duration::days(60))
        .format("%Y-%m-%d")
        .to_string();
    let to = (today() - chrono::Duration::days(30))
        .format("%Y-%m-%d")
        .to_string();
    let in_range = count(&|r| r["created_at"][..10] >= *from && r["created_at"][..10] < *to);
    assert!(in_range > 0 && in_range < rows.len(), "{in_range}");
    assert_eq!(
        export_csv(&a.url, &["--from", &from, "--to", &to]).len(),
        in_range
    );
    let converted = export_csv(&a.url, &["--stage", "converted"]);
    assert!(
        converted.iter().all(|r| !r["owner"].is_empty()),
        "converted leads have owners"
    );
}

// ---------- 10. dedup over the whole database ----------

#[test]
fn dedup_dry_run_reports_and_apply_merges() {
    let pg = Postgres::new();
    let lite = Sqlite::new();
    // Imported one file at a time: the first two share nothing the intake could match on,
    // the third joins them.
    let rows = [
        "Иван Петров,+7 916 123-45-67,",
        "Ivan Petrov,,ivan.petrov@mail.ru",
        "Иван Петров,8 (916) 123-45-67,ivan.petrov@mail.ru",
        "Мария Соколова,+7 903 765-43-21,maria.sokolova@yandex.ru",
    ];
    for url in [&lite.url, &pg.url] {
        for (i, row) in rows.iter().enumerate() {
            let f = lite.path(&format!("part{i}.csv"));
            std::fs::write(&f, format!("Имя,Телефон,Почта\n{row}\n")).unwrap();
            vk(url, &["import", f.to_str().unwrap()]).ok();
        }
        assert_eq!(export_csv(url, &[]).len(), 3, "{url}");
        let report = lite.path("clusters.csv");
        let dry = vk(
            url,
            &["dedup", "--dry-run", "--report", report.to_str().unwrap()],
        )
        .ok();
        assert!(
            dry.stdout
                .contains("1 clusters (largest 2 contacts): 1 contacts would be merged"),
            "{}",
            dry.stdout
        );
        assert!(dry.stdout.contains("Иван Петров"), "{}", dry.stdout);
        let (header, clusters) = read_rejected(&report);
        assert_eq!(header[..3], ["cluster", "contact_id", "survivor"]);
        assert_eq!(clusters.len(), 2, "{clusters:?}");
        assert!(clusters.iter().all(|r| r[0] == "1"));
        assert_eq!(clusters.iter().filter(|r| r[2] == "true").count(), 1);
        assert_eq!(export_csv(url, &[]).len(), 3, "a dry run changes nothing");

        let applied = vk(url, &["dedup", "--apply"]).ok();
        assert!(
            applied.stdout.contains("1 merges recorded"),
            "{}",
            applied.stdout
        );
        assert_eq!(export_csv(url, &[]).len(), 2, "{url}");
        let again = vk(url, &["dedup", "--dry-run"]).ok();
        assert!(again.stdout.contains("0 clusters"), "{}", again.stdout);
    }
    // Exactly one of --dry-run and --apply.
    assert_eq!(vk(&lite.url, &["dedup"]).code, 2);
    assert_eq!(vk(&lite.url, &["dedup", "--dry-run", "--apply"]).code, 2);
}

// ---------- 11. scoring ----------

#[test]
fn score_rules_import_export_explain_and_rescore() {
    let db = Sqlite::new();
    let f = db.path("leads.csv");
    std::fs::write(
        &f,
        "Имя,Телефон,Почта,Department\nИрина Волкова,+7 916 123-45-67,irina@mail.ru,IT\nПётр Орлов,,petr@mail.ru,Продажи\n",
    )
    .unwrap();
    // An unknown column is kept as a custom attribute, which profile rules read by its name.
    vk(&db.url, &["import", f.to_str().unwrap()]).ok();
    let rows = export_csv(&db.url, &[]);
    assert_eq!(rows.len(), 2);
    // Export the rules in force as TOML; a preset as JSON.
    let toml = vk(&db.url, &["score", "export-rules"]).ok().stdout;
    assert!(
        toml.contains("[[behaviour]]") && toml.contains("Email: product link clicked"),
        "{toml}"
    );
    let json = vk(
        &db.url,
        &[
            "score",
            "export-rules",
            "--preset",
            "b2c",
            "--format",
            "json",
        ],
    )
    .ok()
    .stdout;
    assert!(json.contains("\"income\""), "{json}");
    let err = vk(&db.url, &["score", "export-rules", "--preset", "nope"]).runtime_error();
    assert!(err.contains("b2b, b2c"), "{err}");

    // Import a changed file: every lead is rescored.
    let changed = toml.replace(
        "name = \"Email given\"\nfield = \"email\"\npoints = 5",
        "name = \"Email given\"\nfield = \"email\"\npoints = 12",
    );
    assert_ne!(changed, toml);
    let rules = db.path("rules.toml");
    std::fs::write(&rules, &changed).unwrap();
    let r = vk(&db.url, &["score", "import-rules", rules.to_str().unwrap()]).ok();
    assert!(r.stdout.contains("rescored 2 leads"), "{}", r.stdout);
    let bad = db.path("bad.toml");
    std::fs::write(
        &bad,
        "[[profile]]\nname = \"x\"\nfield = \"\"\npoints = 1\n",
    )
    .unwrap();
    let err = vk(&db.url, &["score", "import-rules", bad.to_str().unwrap()]).runtime_error();
    assert!(err.contains("field is empty"), "{err}");

    // Explain: every contribution, in text and JSON.
    let id = rows
        .iter()
        .find(|r| r["email"].contains("irina"))
        .map(|r| r["id"].clone())
        .unwrap();
    let text = vk(&db.url, &["score", "explain", &id]).ok().stdout;
    assert!(
        text.contains("Email given") && text.contains("Department: IT"),
        "{text}"
    );
    assert!(text.contains("fit 37"), "{text}");
    let v: serde_json::Value = serde_json::from_str(
        &vk(&db.url, &["score", "explain", &id, "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    assert_eq!(v["score"]["fit"], 37, "{v}");
    let err = vk(&db.url, &["score", "explain", "999999"]).runtime_error();
    assert!(err.contains("999999"), "{err}");
    let r = vk(&db.url, &["score", "rescore"]).ok();
    assert!(
        r.stdout.contains("rescored 2 leads, 0 changed"),
        "{}",
        r.stdout
    );
    vk(&db.url, &["score", "explain", "abc"]).usage_error();
}

/// `report channels` and `spend add|list|delete`: spend entered from the command line shows in
/// the report's table, JSON and CSV; wrong input is refused with its exit code.
#[test]
fn channel_report_and_spend_from_the_command_line() {
    let db = Sqlite::new();
    let file = db.fixture("ru.csv");
    vk(&db.url, &["import", file.to_str().unwrap()]).ok();
    let leads = export_jsonl(&db.url, &[]);
    let google = leads.iter().filter(|l| l["source"] == "google").count() as i64;
    assert!(google > 0, "{leads:?}");
    let today = chrono::Utc::now().date_naive().to_string();
    let r = vk(
        &db.url,
        &[
            "spend",
            "add",
            "--source",
            "google",
            "--from",
            &today,
            "--to",
            &today,
            "--amount",
            "1 500",
            "--note",
            "Поиск",
        ],
    )
    .ok();
    assert_eq!(r.stdout.trim(), "spend entry 1 added: 1\u{202f}500.00 RUB");
    let list = vk(&db.url, &["spend", "list"]).ok();
    assert_eq!(
        list.stdout,
        format!("1\tgoogle\t{today}\t{today}\t1\u{202f}500.00 RUB\tПоиск\n")
    );

    let json = vk(&db.url, &["report", "channels", "--format", "json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(v["total"]["leads"], leads.len() as i64, "{v}");
    let row = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"]["source"] == "google")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(row["leads"], google, "{row}");
    assert_eq!(
        row["spend"],
        serde_json::json!([{"minor": 150_000, "currency": "RUB"}])
    );
    let per_lead = 150_000 / google;
    assert_eq!(row["cost_per_lead"]["minor"], per_lead, "{row}");

    let table = vk(&db.url, &["report", "channels"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("channel") && lines[0].ends_with("return"),
        "{table}"
    );
    let g = lines.iter().find(|l| l.starts_with("google ")).unwrap();
    assert!(
        g.contains("1\u{202f}500.00 RUB") && g.ends_with("-100 %"),
        "{table}"
    );
    assert!(lines.last().unwrap().starts_with("all channels"), "{table}");

    let out = db.dir.path().join("channels.csv");
    vk(
        &db.url,
        &[
            "report",
            "channels",
            "--by",
            "source_medium",
            "--format",
            "csv",
            "-o",
            out.to_str().unwrap(),
        ],
    )
    .ok();
    let csv = std::fs::read_to_string(&out).unwrap();
    assert!(csv.starts_with("\u{feff}source,medium,campaign,"), "{csv}");
    assert!(csv.lines().any(|l| l.starts_with("google,,,")), "{csv}");

    vk(&db.url, &["report", "channels", "--by", "partner"]).usage_error();
    let e = vk(&db.url, &["report", "channels", "--from", "вчера"]).runtime_error();
    assert!(e.contains("unreadable date"), "{e}");
    let e = vk(
        &db.url,
        &[
            "spend", "add", "--source", "vk", "--from", &today, "--to", &today, "--amount", "0",
        ],
    )
    .runtime_error();
    assert!(e.contains("the amount must be more than zero"), "{e}");
    // Changed: what is given replaces, the rest stays; an empty note clears it.
    let r = vk(
        &db.url,
        &[
            "spend", "edit", "1", "--amount", "2000", "--medium", "CPC", "--note", "",
        ],
    )
    .ok();
    assert_eq!(
        r.stdout.trim(),
        "spend entry 1 changed: 2\u{202f}000.00 RUB"
    );
    assert_eq!(
        vk(&db.url, &["spend", "list"]).ok().stdout,
        format!("1\tgoogle / cpc\t{today}\t{today}\t2\u{202f}000.00 RUB\t\n")
    );
    let e = vk(&db.url, &["spend", "edit", "1", "--to", "2000-01-01"]).runtime_error();
    assert!(e.contains("the last day comes before the first"), "{e}");
    let e = vk(&db.url, &["spend", "edit", "7", "--amount", "1"]).runtime_error();
    assert!(e.contains("there is no spend entry 7"), "{e}");
    vk(&db.url, &["spend", "edit"]).usage_error();
    let r = vk(&db.url, &["spend", "delete", "1"]).ok();
    assert_eq!(r.stdout.trim(), "spend entry 1 deleted");
    let e = vk(&db.url, &["spend", "delete", "1"]).runtime_error();
    assert!(e.contains("there is no spend entry 1"), "{e}");
    assert_eq!(vk(&db.url, &["spend", "list"]).ok().stdout, "");

    // A file of spend, twice: the second time replaces what the first stored.
    let csv = db.dir.path().join("spend.csv");
    std::fs::write(
        &csv,
        format!("date;source;amount\n{today};google;100\n{today};vk;50\n"),
    )
    .unwrap();
    let r = vk(&db.url, &["spend", "import", csv.to_str().unwrap()]).ok();
    assert_eq!(
        r.stdout.trim(),
        "spend imported: 2 rows, 2 entries stored, 0 earlier entries replaced"
    );
    let r = vk(&db.url, &["spend", "import", csv.to_str().unwrap()]).ok();
    assert_eq!(
        r.stdout.trim(),
        "spend imported: 2 rows, 2 entries stored, 2 earlier entries replaced"
    );
    assert_eq!(
        vk(&db.url, &["spend", "list"]).ok().stdout.lines().count(),
        2
    );
    std::fs::write(&csv, "date;amount\n2026-11-01;100\n").unwrap();
    let e = vk(&db.url, &["spend", "import", csv.to_str().unwrap()]).runtime_error();
    assert!(e.contains("a file of spend needs"), "{e}");
}
