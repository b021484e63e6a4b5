//! Email settings and the farewell survey over real HTTP on 127.0.0.1:0, with a real SMTP
//! server (aiosmtpd): the SMTP form on Admin → Routing and SLA and its API, refusing with a
//! farewell from the lead card and the API, the public survey page (answered once, unknown
//! tokens 404) and the answer on the card (escaped) and in the lead's API detail.

mod common;

#[path = "../../voronka-app/tests/smtp.rs"]
mod smtp;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use smtp::SmtpSink;
use voronka_app::{App, CaptureRequest, Settings};
use voronka_core::intake::Submission;
use voronka_core::{Channel, Role, Scope, ScopeSet};
use voronka_server::ServerConfig;

const ADMIN_EMAIL: &str = "admin@mail.ru";
const PASSWORD: &str = "correct horse battery";

struct Server {
    base: String,
    app: App,
    token: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let app = App::open(&url, Settings::default()).await.unwrap();
    app.add_user(ADMIN_EMAIL, "Анна Админ", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let base = common::serve(
        &app,
        ServerConfig {
            ..Default::default()
        },
    )
    .await;
    let (_, token) = app
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
        token,
        _dir: dir,
    }
}

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..].split('"').next().unwrap_or("").to_string()
}

impl Server {
    fn url(&self, p: &str) -> String {
        format!("{}{p}", self.base)
    }

    async fn capture(&self, fields: &[(&str, &str)]) -> i64 {
        let mut s = Submission::new(Channel::WebForm, voronka_app::now_ms());
        for (k, v) in fields {
            s = s.with(k, *v);
        }
        self.app
            .capture(CaptureRequest {
                submission: s,
                form: None,
                idempotency_key: None,
                client: None,
            })
            .await
            .unwrap()
            .lead_id
            .unwrap()
    }

    async fn login(&self, c: &Client) -> String {
        let r = c
            .post(self.url("/login"))
            .form(&[
                ("email", ADMIN_EMAIL),
                ("password", PASSWORD),
                ("next", "/leads"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let page = c.get(self.url("/leads")).send().await.unwrap();
        csrf_of(&page.text().await.unwrap())
    }

    async fn run_jobs(&self) {
        self.app
            .run_due_jobs_at("test", voronka_app::now_ms() + 60_000)
            .await
            .unwrap();
    }
}

/// The survey link in a farewell body, made relative to the server.
fn survey_path(base: &str, body: &str) -> String {
    let link = body
        .split_whitespace()
        .find(|w| w.starts_with(&format!("{base}/s/")))
        .unwrap_or_else(|| panic!("no survey link in {body:?}"));
    link.trim_start_matches(base).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn farewell_survey_from_the_card_is_answered_once_and_shown_escaped() {
    let s = start().await;
    let sink = SmtpSink::start();
    let c = browser();
    let csrf = s.login(&c).await;

    // Email settings on Admin → Routing and SLA.
    let port = sink.port.to_string();
    let r = c
        .post(s.url("/admin/routing"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("mode", "smtp"),
            ("host", "127.0.0.1"),
            ("port", port.as_str()),
            ("security", "none"),
            ("from", "Отдел продаж <sales@example.com>"),
            ("username", ""),
            ("password", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page = c
        .get(s.url("/admin/routing?done=smtp"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Email settings saved."), "{page}");
    assert!(page.contains("value=\"127.0.0.1\""), "{page}");
    // A bad sender is refused with the reason, and what was typed stays.
    let r = c
        .post(s.url("/admin/routing"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("mode", "smtp"),
            ("host", "smtp.example.com"),
            ("port", "587"),
            ("security", "starttls"),
            ("from", "nobody"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = r.text().await.unwrap();
    assert!(body.contains("value=\"smtp.example.com\""), "{body}");
    assert_eq!(
        s.app.smtp_settings().await.unwrap().unwrap().host,
        "127.0.0.1"
    );

    // Refuse from the card with a farewell.
    let lead = s
        .capture(&[
            ("name", "Людмила Кузнецова"),
            ("email", "ludmila@example.ru"),
        ])
        .await;
    let card = c
        .get(s.url(&format!("/leads/{lead}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("Send a farewell message"),
        "the refuse form offers it"
    );
    let reason = s.app.refusal_reasons().await.unwrap()[0].clone();
    let r = c
        .post(s.url(&format!("/leads/{lead}/refuse")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", reason.as_str()),
            ("farewell", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/leads/{lead}?done=refuse_farewell")
    );
    s.run_jobs().await;
    let m = sink.wait_for(1);
    let farewell = m
        .iter()
        .find(|x| x.rcpt_to == vec!["ludmila@example.ru"])
        .unwrap_or_else(|| panic!("{m:?}"));
    assert_eq!(farewell.to, "Людмила Кузнецова <ludmila@example.ru>");
    assert_eq!(farewell.from, "Отдел продаж <sales@example.com>");
    let path = survey_path(&s.base, &farewell.body);

    // The public page: no sign-in, one question.
    let anon = browser();
    let r = anon.get(s.url(&path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(page.contains("Why did it not work out?"), "{page}");
    for choice in ["price", "timing", "other_supplier", "other"] {
        assert!(page.contains(&format!("value=\"{choice}\"")), "{choice}");
    }
    // An unknown choice is refused and the form stays.
    let r = anon
        .post(s.url(&path))
        .form(&[("answer", "weather")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // The answer, with a hostile comment.
    let hostile = "<script>alert('x')</script> Слишком дорого";
    let r = anon
        .post(s.url(&path))
        .form(&[("answer", "price"), ("comment", hostile)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("Your answer has been received"));
    // Once only.
    let r = anon
        .post(s.url(&path))
        .form(&[("answer", "timing")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("already been answered"));
    let r = anon.get(s.url(&path)).send().await.unwrap();
    assert!(r.text().await.unwrap().contains("already been answered"));
    // Unknown and malformed tokens: a clear 404 page.
    for bad in ["/s/0000", "/s/%3Cscript%3E", &format!("{path}x")] {
        let r = anon.get(s.url(bad)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
        let body = r.text().await.unwrap();
        assert!(body.contains("Survey not found"), "{bad}: {body}");
        assert!(!body.contains("<script>"), "{bad}");
    }
    let r = anon
        .post(s.url("/s/0000"))
        .form(&[("answer", "price")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    // On the card, escaped.
    let card = c
        .get(s.url(&format!("/leads/{lead}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains("Farewell survey"), "{card}");
    assert!(card.contains("The price"), "{card}");
    let escaped = [
        "&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62; Слишком дорого",
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; Слишком дорого",
    ];
    assert!(escaped.iter().any(|e| card.contains(e)), "{card}");
    assert!(!card.contains("<script>alert"), "{card}");

    // A contact without an email address: refused, and the card says no farewell went out.
    let silent = s
        .capture(&[("name", "Без Почты"), ("phone", "+79161234567")])
        .await;
    let r = c
        .post(s.url(&format!("/leads/{silent}/refuse")))
        .form(&[
            ("csrf", csrf.as_str()),
            ("reason", reason.as_str()),
            ("farewell", "1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        format!("/leads/{silent}?done=refuse_no_farewell")
    );
    let card = c
        .get(s.url(&format!("/leads/{silent}?done=refuse_no_farewell")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains("No farewell was sent"), "{card}");
    assert!(!card.contains("Farewell survey"), "{card}");

    // In the lead's API detail.
    let v: Value = reqwest::Client::new()
        .get(s.url(&format!("/api/v1/leads/{lead}")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["lead"]["id"], lead, "{v}");
    assert_eq!(v["surveys"][0]["answer"], "price", "{v}");
    assert_eq!(v["surveys"][0]["comment"], hostile, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_settings_and_farewell_through_the_api() {
    let s = start().await;
    let sink = SmtpSink::start();
    let http = reqwest::Client::new();
    // Off at first: no farewell, and the refusal still works.
    let get = || async {
        http.get(s.url("/api/v1/smtp-settings"))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(get().await, Value::Null);
    let reason = s.app.refusal_reasons().await.unwrap()[0].clone();
    let first = s
        .capture(&[("name", "Пётр Первый"), ("email", "petr@example.ru")])
        .await;
    let v: Value = http
        .post(s.url(&format!("/api/v1/leads/{first}/refuse")))
        .bearer_auth(&s.token)
        .json(&json!({ "reason": reason, "farewell": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["stage"], "refused", "{v}");
    assert_eq!(v["farewell_sent"], false, "{v}");

    // Settings with a password: stored, never shown.
    let r = http
        .put(s.url("/api/v1/smtp-settings"))
        .bearer_auth(&s.token)
        .json(&json!({
            "host": "127.0.0.1", "port": sink.port, "from": "sales@example.com",
            "username": "robot", "password": "s3cret", "security": "none"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let v = get().await;
    assert_eq!(v["host"], "127.0.0.1", "{v}");
    assert_eq!(v["password_set"], true, "{v}");
    assert!(!v.to_string().contains("s3cret"), "{v}");
    // Unknown security and unknown fields are refused.
    for bad in [
        json!({"host": "h", "port": 25, "from": "a@b.ru", "security": "ssl3"}),
        json!({"host": "h", "port": 25, "from": "a@b.ru", "colour": "red"}),
    ] {
        let r = http
            .put(s.url("/api/v1/smtp-settings"))
            .bearer_auth(&s.token)
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_client_error(), "{bad}: {}", r.status());
    }
    let second = s
        .capture(&[
            ("name", "Зоя Космодемьянская"),
            ("email", "zoya@example.ru"),
        ])
        .await;
    let v: Value = http
        .post(s.url(&format!("/api/v1/leads/{second}/refuse")))
        .bearer_auth(&s.token)
        .json(&json!({ "reason": reason, "farewell": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["farewell_sent"], true, "{v}");
    s.run_jobs().await;
    let m = sink.wait_for(1);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].rcpt_to, vec!["zoya@example.ru"]);
    assert_eq!(
        m[0].auth_user.as_deref(),
        Some("robot"),
        "signed in with the stored login"
    );
    assert_eq!(m[0].to, "Зоя Космодемьянская <zoya@example.ru>");
    // The name travels as an encoded word (UTF-8), decoded above.
    assert!(m[0].raw_to.is_ascii(), "{}", m[0].raw_to);
    assert!(
        m[0].raw_to.to_lowercase().contains("=?utf-8?"),
        "{}",
        m[0].raw_to
    );
    let path = survey_path(&s.base, &m[0].body);
    let v: Value = http
        .get(s.url(&format!("/api/v1/leads/{second}")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["surveys"].as_array().unwrap().len(), 1, "{v}");
    assert!(v["surveys"][0]["answer"].is_null(), "{v}");
    assert!(
        !v.to_string().contains(path.trim_start_matches("/s/")),
        "the token is not in the API"
    );
    // Turned off.
    let r = http
        .delete(s.url("/api/v1/smtp-settings"))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(get().await, Value::Null);
}
