//! Speed-to-lead API over real HTTP on 127.0.0.1:0: routing rules as JSON and TOML,
//! reassignment with history, activities, tasks, the work queue, the iCal feed, SLA reports and
//! the outgoing webhook against a real local receiver.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use voronka_app::{App, Settings};
use voronka_core::{Role, Scope, ScopeSet};
use voronka_server::ServerConfig;

struct Server {
    base: String,
    app: App,
    admin: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("api.db").display());
    let app = App::open(&url, Settings::default()).await.unwrap();
    let base = common::serve(
        &app,
        ServerConfig {
            max_body_bytes: 64 * 1024,
            capture_per_ip_per_sec: 1000,
            ..Default::default()
        },
    )
    .await;
    let (_, admin) = app
        .create_token(
            "test",
            ScopeSet::new(vec![Scope::Admin, Scope::LeadsRead, Scope::LeadsWrite]),
            None,
            None,
        )
        .await
        .unwrap();
    Server {
        base,
        app,
        admin,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Server {
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }
    /// The JSON an administrator gets from `p`.
    async fn admin_json(&self, p: &str) -> Value {
        let r = self
            .http
            .get(self.url(p))
            .bearer_auth(&self.admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{p}");
        r.json().await.unwrap()
    }
    async fn token_for(&self, u: &voronka_core::User) -> String {
        self.app
            .create_token(
                &format!("t{}", u.id),
                ScopeSet::new(vec![Scope::LeadsRead, Scope::LeadsWrite]),
                Some(u.id),
                None,
            )
            .await
            .unwrap()
            .1
    }
}

/// A local HTTP server that records the JSON bodies posted to it.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/slack", l.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            let g = g.clone();
            tokio::spawn(async move {
                let mut r = BufReader::new(s);
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    if r.read_line(&mut h).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let h = h.trim_end().to_ascii_lowercase();
                    if h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; len];
                if r.read_exact(&mut body).await.is_ok() {
                    if let Ok(v) = serde_json::from_slice(&body) {
                        g.lock().unwrap().push(v);
                    }
                }
                let _ = r
                    .get_mut()
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    (url, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_rules_api_json_and_toml() {
    let s = start().await;
    let r = s
        .http
        .get(s.url("/api/v1/routing-rules"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["rules"][0]["name"], "Existing customers");
    let toml = "[[rules]]\nname = \"Москва B2B\"\nteam = \"Москва\"\nmethod = \"least_load\"\n[rules.when]\ncities = [\"Москва\"]\n";
    let r = s
        .http
        .put(s.url("/api/v1/routing-rules"))
        .bearer_auth(&s.admin)
        .header("content-type", "application/toml")
        .body(toml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let text = s
        .http
        .get(s.url("/api/v1/routing-rules?format=toml"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("name = \"Москва B2B\""), "{text}");
    assert!(text.contains("least_load"), "{text}");
    // Unknown fields are refused with the field named.
    let r = s
        .http
        .put(s.url("/api/v1/routing-rules"))
        .bearer_auth(&s.admin)
        .json(&json!({"rules": [{"name": "x", "colour": "red"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let v: Value = r.json().await.unwrap();
    assert!(v["message"].as_str().unwrap().contains("colour"), "{v}");
    // SLA settings too.
    let r = s
        .http
        .put(s.url("/api/v1/sla-settings"))
        .bearer_auth(&s.admin)
        .header("content-type", "application/toml")
        .body("[default]\nhot = \"soon\"\n")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A JSON array is not read as the settings' fields in order: `[]` would be all defaults.
    let before = s.admin_json("/api/v1/sla-settings").await;
    for (path, body) in [
        ("/api/v1/sla-settings", "[]"),
        ("/api/v1/routing-rules", "[[]]"),
        ("/api/v1/scoring-rules", "[30]"),
        ("/api/v1/scrub-rules", " []"),
    ] {
        let r = s
            .http
            .put(s.url(path))
            .bearer_auth(&s.admin)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v["message"], "the body must be a JSON object",
            "{path}: {v}"
        );
        assert_eq!(v["fields"][0]["field"], "body", "{path}: {v}");
    }
    let after = s.admin_json("/api/v1/sla-settings").await;
    assert_eq!(before, after, "the settings are kept");
    // A salesperson may not read the rules.
    let u = s
        .app
        .add_user("sp@example.ru", "Продавец", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let t = s.token_for(&u).await;
    let r = s
        .http
        .get(s.url("/api/v1/routing-rules"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_routing_reassign_activities_queue_tasks_and_ical() {
    let s = start().await;
    let anna = s
        .app
        .add_user("anna@example.ru", "Анна", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let boris = s
        .app
        .add_user("boris@example.ru", "Борис", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let (hook, got) = receiver().await;
    let r = s
        .http
        .put(s.url("/api/v1/notify-webhook"))
        .bearer_auth(&s.admin)
        .json(&json!({ "url": hook }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s
        .http
        .post(s.url("/api/v1/leads"))
        .bearer_auth(&s.admin)
        .json(&json!({"name": "Светлана Кузнецова", "phone": "+7 916 555 44 33", "email": "sveta@example.ru", "temperature": "hot"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let lead = r.json::<Value>().await.unwrap()["lead_id"]
        .as_i64()
        .unwrap();
    let v: Value = s
        .http
        .get(s.url(&format!("/api/v1/leads/{lead}/routing")))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["owner_id"], anna.id, "{v}");
    assert_eq!(
        v["explanation"],
        "assigned to Анна by rule \"Everyone\", round robin 1 of 2"
    );
    // The decision's code and values, for a client that words it itself.
    assert_eq!(
        v["why"],
        json!({"code": "route_round_robin", "args": {"person": "Анна", "rule": "Everyone", "turn": "1", "of": "2"}}),
        "{v}"
    );
    assert_eq!(v["history"].as_array().unwrap().len(), 1);
    assert_eq!(v["history"][0]["why"], v["why"], "{v}");
    // The webhook hears of the assignment (the job runner sends it).
    s.app.run_due_jobs("t").await.unwrap();
    {
        let got = got.lock().unwrap();
        assert_eq!(got.len(), 1, "{got:?}");
        assert_eq!(got[0]["event"], "lead_assigned");
        assert_eq!(got[0]["code"], "new_lead_assigned", "{:?}", got[0]);
        assert_eq!(
            got[0]["args"]["decision"], "route_round_robin",
            "{:?}",
            got[0]
        );
        assert!(
            got[0]["text"].as_str().unwrap().contains("Анна"),
            "{:?}",
            got[0]
        );
    }
    // Reassign by hand, then in bulk from Борис back by the rules.
    let r = s
        .http
        .post(s.url(&format!("/api/v1/leads/{lead}/reassign")))
        .bearer_auth(&s.admin)
        .json(&json!({"to": "person", "owner_id": boris.id, "comment": "говорит по-татарски"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let by_hand: Value = r.json().await.unwrap();
    let r = s
        .http
        .post(s.url("/api/v1/leads/reassign"))
        .bearer_auth(&s.admin)
        .json(&json!({"to": "rules", "from_owner": boris.id}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["reassigned"], 1, "{v}");
    let v: Value = s
        .http
        .get(s.url(&format!("/api/v1/leads/{lead}/routing")))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let h = v["history"].as_array().unwrap();
    assert_eq!(h.len(), 3, "{v}");
    assert_eq!(h[1]["to_owner"], boris.id);
    // The answer of the reassignment names the row of the history it made.
    assert_eq!(h[1]["id"], by_hand["id"], "{by_hand}");
    assert!(by_hand["id"].as_i64().unwrap() > 0, "{by_hand}");
    // A person who does not exist has no routing profile to read.
    let r = s
        .http
        .get(s.url("/api/v1/users/999999/routing-profile"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "user_not_found", "{v}");
    assert!(h[1]["explanation"]
        .as_str()
        .unwrap()
        .contains("по-татарски"));
    assert_eq!(h[1]["why"]["code"], "reassigned_by", "{v}");
    assert_eq!(h[1]["why"]["args"]["comment"], "говорит по-татарски", "{v}");
    assert_eq!(h[2]["to_owner"], anna.id);
    assert_eq!(h[2]["why"]["code"], "reassigned_by_rules", "{v}");
    // Анна's queue: the lead with tel: and mailto: material; log a call.
    let ta = s.token_for(&anna).await;
    let q: Value = s
        .http
        .get(s.url("/api/v1/work-queue"))
        .bearer_auth(&ta)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(q["leads"][0]["lead_id"], lead, "{q}");
    assert_eq!(q["leads"][0]["phone"], "+79165554433");
    // The queue is paged: past its one lead it is empty; a limit out of range is named.
    let page = |query: &'static str| {
        s.http
            .get(s.url(&format!("/api/v1/work-queue?{query}")))
            .bearer_auth(&ta)
            .send()
    };
    let rest: Value = page("offset=1&limit=10")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["leads"], json!([]), "{rest}");
    for bad in ["limit=0", "limit=501", "offset=-1", "page=2"] {
        let r = page(bad).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let v: Value = r.json().await.unwrap();
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
    }
    let r = s
        .http
        .post(s.url(&format!("/api/v1/leads/{lead}/activities")))
        .bearer_auth(&ta)
        .json(&json!({"kind": "call", "outcome": "no_answer", "note": "не взяла трубку"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert!(v["next_task_id"].as_i64().is_some(), "{v}");
    let r = s
        .http
        .post(s.url(&format!("/api/v1/leads/{lead}/activities")))
        .bearer_auth(&ta)
        .json(&json!({"kind": "call", "outcome": "maybe"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let sla: Value = s
        .http
        .get(s.url(&format!("/api/v1/leads/{lead}/sla")))
        .bearer_auth(&ta)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(sla["first_response_at"].as_i64().is_some(), "{sla}");
    // Tasks: the scheduled call, overdue view empty, the iCal feed.
    let tasks: Value = s
        .http
        .get(s.url("/api/v1/tasks"))
        .bearer_auth(&ta)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    assert_eq!(tasks[0]["kind"], "call");
    let overdue: Value = s
        .http
        .get(s.url("/api/v1/tasks?status=overdue"))
        .bearer_auth(&ta)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(overdue.as_array().unwrap().len(), 0);
    let v: Value = s
        .http
        .post(s.url("/api/v1/ical-token"))
        .bearer_auth(&ta)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = v["path"].as_str().unwrap().to_string();
    let r = s.http.get(s.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("text/calendar"));
    let ics = r.text().await.unwrap();
    assert!(ics.contains("SUMMARY:Call again (lead #"), "{ics}");
    let r = s
        .http
        .get(s.url("/ical/cal_nope.ics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Notifications and the reports.
    let n: Value = s
        .http
        .get(s.url("/api/v1/notifications"))
        .bearer_auth(&ta)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(n
        .as_array()
        .unwrap()
        .iter()
        .all(|x| x["user_id"] == anna.id));
    assert!(n.as_array().unwrap().len() >= 2, "{n}");
    // Each notification's text is made from its code and values.
    for x in n.as_array().unwrap() {
        let code = x["notice"]["code"].as_str().unwrap_or_default();
        let args: std::collections::BTreeMap<String, String> =
            serde_json::from_value(x["notice"]["args"].clone()).unwrap();
        assert_eq!(
            voronka_core::notice_text(code, &args).as_deref(),
            x["body"].as_str(),
            "{x}"
        );
    }
    let m: Value = s
        .http
        .get(s.url("/api/v1/reports/sla?since=2000-01-01"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(m["overall"]["leads"], 1, "{m}");
    assert_eq!(m["overall"]["responded"], 1, "{m}");
    // The dashboard: the answered lead waits for nobody.
    let d = s.admin_json("/api/v1/reports/sla-dashboard").await;
    assert_eq!(d["due_now"], json!([]), "{d}");
    assert_eq!(d["overdue"], 0, "{d}");
    assert_eq!(d["breached_today"], 0, "{d}");
    let load: Value = s
        .http
        .get(s.url("/api/v1/reports/team-load"))
        .bearer_auth(&s.admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let a = load
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["user_id"] == anna.id)
        .unwrap();
    assert_eq!(a["open_leads"], 1, "{load}");
}
