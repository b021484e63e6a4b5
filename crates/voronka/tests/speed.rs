//! Speed to lead across processes: two real `voronka serve` processes on one fresh PostgreSQL
//! database under load never assign a lead twice and never fire an SLA step twice (nor send
//! its webhook twice); and a timer that fell due while no server ran fires on the next start.

use sqlx::Connection;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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

struct Postgres {
    url: String,
    name: String,
}

impl Postgres {
    fn new() -> Postgres {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let admin = pg_admin_url();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let name = format!(
            "voronka_speed_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        block_on(async {
            let mut c = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|e| panic!("PostgreSQL is required ({admin}): {e}"));
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

    fn scalar(&self, sql: &str) -> i64 {
        let url = self.url.clone();
        let sql = sql.to_string();
        block_on(async move {
            let mut c = sqlx::PgConnection::connect(&url).await.expect("connect");
            sqlx::query_scalar::<_, i64>(&sql)
                .fetch_one(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let admin = pg_admin_url();
        let name = self.name.clone();
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

fn voronka(db: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_voronka"));
    c.env_remove("VORONKA_DATABASE_URL")
        .env_remove("VORONKA_LOG")
        .current_dir(std::env::temp_dir())
        .arg("--database-url")
        .arg(db);
    c
}

fn run(db: &str, args: &[&str], input: &str) -> String {
    let mut child = voronka(db)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run voronka");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A running `voronka serve`, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(db: &str) -> Server {
        let mut child = voronka(db)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--capture-rate",
                "100000",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start voronka serve");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        // Keep reading stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut sink = String::new();
            let _ = out.read_to_string(&mut sink);
        });
        Server { child, base }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A local HTTP receiver for the webhook: counts every posted body.
fn webhook_receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", l.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let g = g.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).unwrap_or(0) == 0 {
                        return;
                    }
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                if r.read_exact(&mut body).is_ok() {
                    if let Ok(v) = serde_json::from_slice(&body) {
                        g.lock().unwrap().push(v);
                    }
                }
                let _ = s.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                );
            });
        }
    });
    (url, got)
}

fn setup(db: &str) -> String {
    run(db, &["migrate"], "");
    for (email, name) in [
        ("anna@example.ru", "Анна"),
        ("boris@example.ru", "Борис"),
        ("vera@example.ru", "Вера"),
    ] {
        run(
            db,
            &[
                "user",
                "add",
                "--email",
                email,
                "--name",
                name,
                "--password-stdin",
                "--role",
                "salesperson",
            ],
            "password-123\n",
        );
    }
    run(
        db,
        &[
            "token",
            "create",
            "--name",
            "load",
            "--scope",
            "admin",
            "--scope",
            "leads:write",
            "--scope",
            "leads:read",
        ],
        "",
    )
    .trim()
    .to_string()
}

fn put(http: &reqwest::Client, url: &str, token: &str, ct: &str, body: String) {
    let r = block_on(
        http.put(url)
            .bearer_auth(token)
            .header("content-type", ct)
            .body(body)
            .send(),
    )
    .unwrap();
    assert!(r.status().is_success(), "{url}: {}", r.status());
}

#[test]
fn two_processes_never_assign_or_fire_twice() {
    let pg = Postgres::new();
    let token = setup(&pg.url);
    let a = Server::start(&pg.url);
    let b = Server::start(&pg.url);
    let http = reqwest::Client::new();
    let (hook, got) = webhook_receiver();
    put(
        &http,
        &format!("{}/api/v1/sla-settings", a.base),
        &token,
        "application/toml",
        "[default]\nhot = \"2s\"\nwarm = \"2s\"\ncold = \"2s\"\nhours = \"mon-sun 00:00-24:00\"\nsteps = [{ action = \"notify_owner\" }, { after = \"1s\", action = \"reassign\" }]\n".into(),
    );
    put(
        &http,
        &format!("{}/api/v1/notify-webhook", b.base),
        &token,
        "application/json",
        serde_json::json!({ "url": hook }).to_string(),
    );
    // Load: 8 clients, half on each process, 40 leads each.
    let leads = 320usize;
    let bases = [a.base.clone(), b.base.clone()];
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let ids: Vec<i64> = rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..8usize {
            let http = http.clone();
            let base = bases[c % 2].clone();
            let token = token.clone();
            tasks.push(tokio::spawn(async move {
                let mut ids = Vec::new();
                for i in 0..leads / 8 {
                    let n = c * 1000 + i;
                    let r = http
                        .post(format!("{base}/api/v1/leads"))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({
                            "name": format!("Клиент {n}"),
                            "phone": format!("+7916{:07}", 2_345_678 + n * 13),
                            "temperature": "hot",
                        }))
                        .send()
                        .await
                        .unwrap();
                    assert!(r.status().is_success(), "{}", r.status());
                    let v: serde_json::Value = r.json().await.unwrap();
                    ids.push(v["lead_id"].as_i64().unwrap_or_else(|| panic!("{v}")));
                }
                ids
            }));
        }
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    assert_eq!(ids.len(), leads);
    // Each lead routed exactly once, to somebody.
    assert_eq!(
        pg.scalar("SELECT COUNT(*) FROM assignments WHERE actor = 'routing'"),
        leads as i64
    );
    assert_eq!(
        pg.scalar("SELECT COUNT(*) FROM (SELECT lead_id FROM assignments WHERE actor = 'routing' GROUP BY lead_id HAVING COUNT(*) > 1) x"),
        0
    );
    assert_eq!(
        pg.scalar("SELECT COUNT(*) FROM leads WHERE owner_id IS NULL"),
        0
    );
    // Round robin across processes stays fair: 320 leads over 3 people (SLA reassignments,
    // running meanwhile, take turns of the same counter, so the split is close, not exact).
    let per = pg.scalar(
        "SELECT MAX(c) - MIN(c) FROM (SELECT COUNT(*) AS c FROM assignments WHERE actor = 'routing' GROUP BY to_owner) x",
    );
    assert!(per <= leads as i64 / 10, "unfair split: spread {per}");
    // Both SLA steps of every lead fire, each once, while both processes run their job loops.
    let want = 2 * leads as i64;
    let deadline = Instant::now() + Duration::from_secs(90);
    while pg.scalar("SELECT COUNT(*) FROM sla_events") < want && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    assert_eq!(pg.scalar("SELECT COUNT(*) FROM sla_events"), want);
    assert_eq!(
        pg.scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'sla_breached'"),
        leads as i64,
        "one breach notice per lead"
    );
    assert_eq!(
        pg.scalar("SELECT COUNT(*) FROM assignments WHERE actor = 'sla'"),
        leads as i64,
        "one SLA reassignment per lead"
    );
    let workers = pg.scalar("SELECT COUNT(DISTINCT worker) FROM sla_events");
    assert!(workers >= 1);
    // Webhooks: one "lead assigned" per routed lead and one per SLA step.
    let deadline = Instant::now() + Duration::from_secs(60);
    let want_hooks = leads + 2 * leads;
    while got.lock().unwrap().len() < want_hooks && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(500));
    }
    let hooks = got.lock().unwrap().clone();
    let mut per_event: HashMap<(String, i64, String), usize> = HashMap::new();
    for h in &hooks {
        assert!(h["text"].as_str().is_some_and(|t| !t.is_empty()), "{h}");
        *per_event
            .entry((
                h["event"].as_str().unwrap_or("").to_string(),
                h["lead_id"].as_i64().unwrap_or(0),
                h["text"].as_str().unwrap_or("").to_string(),
            ))
            .or_default() += 1;
    }
    assert!(
        per_event.values().all(|&n| n == 1),
        "a webhook was sent twice"
    );
    let breached = hooks
        .iter()
        .filter(|h| h["event"] == "sla_breached")
        .count();
    assert_eq!(breached, 2 * leads, "one webhook per SLA step");
}

#[test]
fn a_timer_due_while_down_fires_on_start() {
    let pg = Postgres::new();
    let token = setup(&pg.url);
    let http = reqwest::Client::new();
    let ids: Vec<i64> = {
        let a = Server::start(&pg.url);
        put(
            &http,
            &format!("{}/api/v1/sla-settings", a.base),
            &token,
            "application/toml",
            "[default]\nhot = \"3s\"\nhours = \"mon-sun 00:00-24:00\"\nsteps = [{ action = \"notify_owner\" }]\n".into(),
        );
        let ids = (0..5)
            .map(|i| {
                let r = block_on(
                    http.post(format!("{}/api/v1/leads", a.base))
                        .bearer_auth(&token)
                        .json(&serde_json::json!({
                            "name": format!("Ночной {i}"),
                            "phone": format!("+7917{:07}", 3_456_789 + i * 17),
                            "temperature": "hot",
                        }))
                        .send(),
                )
                .unwrap();
                let v: serde_json::Value = block_on(r.json()).unwrap();
                v["lead_id"].as_i64().unwrap()
            })
            .collect();
        ids
        // The server stops here, before the timers fall due.
    };
    assert_eq!(pg.scalar("SELECT COUNT(*) FROM sla_events"), 0);
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(
        pg.scalar("SELECT COUNT(*) FROM sla_events"),
        0,
        "nothing fires while no server runs"
    );
    let started = Instant::now();
    let _b = Server::start(&pg.url);
    while pg.scalar("SELECT COUNT(*) FROM sla_events") < ids.len() as i64
        && started.elapsed() < Duration::from_secs(30)
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        pg.scalar("SELECT COUNT(*) FROM sla_events"),
        ids.len() as i64
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "late timers fire on start, took {:?}",
        started.elapsed()
    );
}
