//! Capture everywhere over real HTTP: form definitions through the API, the widget's
//! configuration, quiz answers on the touch, callbacks, A/B events, lead magnets, landing pages,
//! the no-JavaScript fallback and the widget's size.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};
use std::io::Write;
use voronka_app::{App, Settings};
use voronka_core::{Scope, ScopeSet};
use voronka_server::ServerConfig;

struct Server {
    base: String,
    token: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("c.db").display());
    let app = App::open(&url, Settings::default()).await.unwrap();
    let base = common::serve(
        &app,
        ServerConfig {
            capture_per_ip_per_sec: 1000,
            ..Default::default()
        },
    )
    .await;
    let (_, token) = app
        .create_token("t", ScopeSet::new(vec![Scope::Admin]), None, None)
        .await
        .unwrap();
    Server {
        base,
        token,
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        _dir: dir,
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .http
            .request(method, self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
    /// A form with the given definition; returns (id, public key).
    async fn form(&self, def: Value) -> (i64, String) {
        let (st, f) = self
            .api(
                reqwest::Method::POST,
                "/api/v1/forms",
                Some(json!({"name": "Quiz", "min_fill_ms": 0})),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{f}");
        let id = f["id"].as_i64().unwrap();
        let (st, f) = self
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/forms/{id}/definition"),
                Some(def),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{f}");
        (id, f["public_key"].as_str().unwrap().to_string())
    }
    async fn capture(&self, key: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(&format!("/f/{key}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        let st = r.status();
        (st, r.json().await.unwrap())
    }
}

fn quiz_definition() -> Value {
    json!({
        "kind": "quiz",
        "language": "ru",
        "title": "Подбор тарифа",
        "fields": [
            {"kind": "name", "required": true},
            {"kind": "phone", "required": true},
            {"kind": "select", "name": "city", "label": "Город", "options": ["Москва", "Казань"]}
        ],
        "consent": {"text": "Я согласен на обработку персональных данных", "policy_url": "https://example.com/privacy"},
        "steps": [
            {"id": "who", "question": "Кто вы?", "options": [
                {"id": "biz", "label": "Компания", "fit": 20, "next": "size"},
                {"id": "person", "label": "Частное лицо", "next": "when"},
                {"id": "student", "label": "Студент", "disqualify": true}
            ]},
            {"id": "size", "question": "Сколько сотрудников?", "options": [
                {"id": "s", "label": "До 10", "fit": 5},
                {"id": "l", "label": "Больше 100", "fit": 20}
            ]},
            {"id": "when", "question": "Когда начать?", "multiple": true, "options": [
                {"id": "now", "label": "Сейчас", "intent": 30},
                {"id": "later", "label": "Позже", "intent": 5}
            ]}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiz_answers_points_consent_and_disqualification() {
    let s = start().await;
    let (_, key) = s.form(quiz_definition()).await;

    // The widget's configuration: labels in Russian, steps, countries of the phone selector.
    let cfg: Value = s
        .http
        .get(s.url(&format!("/f/{key}/config")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cfg["kind"], "quiz");
    assert_eq!(cfg["fields"][0]["label"], "Имя");
    assert_eq!(cfg["texts"]["submit"], "Отправить");
    assert_eq!(cfg["steps"].as_array().unwrap().len(), 3);
    assert!(cfg["phone_countries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c[0] == "RU" && c[1] == "+7"));

    // Company → size → when (the branch skips nothing here), consent given.
    let (st, out) = s
        .capture(
            &key,
            json!({"name": "Ольга", "phone": "+7 916 123-45-67", "city": "Казань", "consent": "yes",
                   "quiz.who": "biz", "quiz.size": "l", "quiz.when": ["now", "later"], "_variant": "nope"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{out}");
    assert_eq!(out["result"], "lead", "{out}");
    let (_, lead) = s
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/leads/{}", out["lead_id"]),
            None,
        )
        .await;
    let touch = &lead["touches"][0];
    let answers = touch["answers"].as_array().unwrap();
    assert_eq!(answers.len(), 3, "{touch}");
    assert_eq!(answers[0]["question"], "Кто вы?");
    assert_eq!(answers[0]["answers"], json!(["Компания"]));
    assert_eq!(answers[2]["answers"], json!(["Сейчас", "Позже"]));
    assert_eq!(
        touch["consent_text"],
        "Я согласен на обработку персональных данных"
    );
    // 15 (phone) + 40 fit + 35 intent: hot.
    assert_eq!(lead["lead"]["temperature"], "hot");
    // Quiz fields are answers, not custom attributes of the person.
    assert_eq!(touch["raw"]["quiz.who"], "biz");

    // A private person skips the size question.
    let (_, out) = s
        .capture(
            &key,
            json!({"name": "Пётр", "phone": "+7 916 000-11-22", "consent": "yes",
                   "quiz.who": "person", "quiz.size": "s", "quiz.when": "later"}),
        )
        .await;
    let (_, lead) = s
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/leads/{}", out["lead_id"]),
            None,
        )
        .await;
    let steps: Vec<&str> = lead["touches"][0]["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["step"].as_str().unwrap())
        .collect();
    assert_eq!(steps, vec!["who", "when"]);
    assert_eq!(lead["lead"]["temperature"], "cold");

    // A disqualifying answer: kept as an interest, never a lead.
    let (_, out) = s
        .capture(
            &key,
            json!({"name": "Стас", "phone": "+7 916 999-88-77", "consent": "yes", "quiz.who": "student"}),
        )
        .await;
    assert_eq!(out["result"], "interest", "{out}");
    assert!(out["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "disqualified"));

    // Missing consent and a missing required phone are field errors the widget can show.
    let (_, out) = s
        .capture(&key, json!({"name": "Анна", "email": "anna@example.com", "quiz.who": "biz", "quiz.size": "s"}))
        .await;
    assert_eq!(out["result"], "interest", "{out}");
    let fields: Vec<&str> = out["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["field"].as_str())
        .collect();
    assert!(
        fields.contains(&"phone") && fields.contains(&"consent"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_lead_is_hot_and_needs_only_a_phone() {
    let s = start().await;
    let (id, key) = s.form(json!({"kind": "callback"})).await;
    let cfg: Value = s
        .http
        .get(s.url(&format!("/f/{key}/config")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = cfg["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["phone", "name"]);
    let (st, out) = s.capture(&key, json!({"phone": "+7 916 555-44-33"})).await;
    assert_eq!(st, StatusCode::CREATED);
    assert_eq!(out["result"], "lead", "{out}");
    let (_, lead) = s
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/leads/{}", out["lead_id"]),
            None,
        )
        .await;
    assert_eq!(lead["lead"]["kind"], "callback");
    assert_eq!(lead["lead"]["temperature"], "hot");
    // The embed code of a callback button is the script alone: there is no place for a form.
    let (_, embed) = s
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/forms/{id}/embed"),
            None,
        )
        .await;
    assert!(!embed["embed_code"].as_str().unwrap().contains("<noscript>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn variants_count_views_submits_downloads_and_take_rate() {
    let s = start().await;
    let (id, key) = s
        .form(json!({
            "title": "Get the checklist",
            "lead_magnet": {"title": "Checklist", "url": "https://example.com/checklist.pdf"},
            "fields": [{"kind": "name"}, {"kind": "email", "required": true}, {"kind": "company"}],
            "variants": [
                {"key": "a", "weight": 1},
                {"key": "short", "weight": 1, "title": "One field only", "hide_fields": ["company"]}
            ]
        }))
        .await;
    for (variant, views) in [("a", 10), ("short", 4)] {
        for _ in 0..views {
            // As sendBeacon sends it: text/plain.
            let r = s
                .http
                .post(s.url(&format!("/f/{key}/event")))
                .header("content-type", "text/plain;charset=UTF-8")
                .body(json!({"kind": "view", "variant": variant, "visitor_id": "v1"}).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::NO_CONTENT);
        }
    }
    for (i, variant) in ["a", "a", "short"].iter().enumerate() {
        let (_, out) = s
            .capture(
                &key,
                json!({"name": format!("Person {i}"), "email": format!("p{i}@example.com"), "_variant": variant}),
            )
            .await;
        assert_eq!(out["result"], "lead", "{out}");
    }
    // A repeated submission (same idempotency key) is not a second submit.
    for _ in 0..2 {
        let r = s
            .http
            .post(s.url(&format!("/f/{key}")))
            .header("idempotency-key", "k-1")
            .json(&json!({"name": "Repeat", "email": "r@example.com", "_variant": "short"}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }
    // Only views are accepted from the page.
    let r = s
        .http
        .post(s.url(&format!("/f/{key}/event")))
        .body(json!({"kind": "submit"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .http
        .get(s.url(&format!("/f/{key}/download?v=short")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection());
    assert_eq!(r.headers()["location"], "https://example.com/checklist.pdf");

    let (_, stats) = s
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/forms/{id}/variants"),
            None,
        )
        .await;
    let items = stats["items"].as_array().unwrap();
    let a = items.iter().find(|v| v["variant"] == "a").unwrap();
    let short = items.iter().find(|v| v["variant"] == "short").unwrap();
    assert_eq!(
        (a["views"].as_i64(), a["submits"].as_i64()),
        (Some(10), Some(2))
    );
    assert_eq!(
        (short["views"].as_i64(), short["submits"].as_i64()),
        (Some(4), Some(2))
    );
    assert_eq!(short["downloads"], 1);
    assert!((a["take_rate"].as_f64().unwrap() - 0.2).abs() < 1e-9);
    let (lo, hi) = (a["low"].as_f64().unwrap(), a["high"].as_f64().unwrap());
    assert!(lo < 0.2 && 0.2 < hi && lo >= 0.0 && hi <= 1.0, "{a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_definitions_are_refused_with_their_places() {
    let s = start().await;
    let (id, _) = s.form(json!({})).await;
    let (st, err) = s
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/forms/{id}/definition"),
            Some(json!({
                "kind": "quiz",
                "steps": [
                    {"id": "a", "question": "First?", "options": [{"id": "x", "label": "X"}, {"id": "y", "label": "Y"}]},
                    {"id": "b", "question": "Second?", "options": [{"id": "x", "label": "X", "next": "a"}, {"id": "y", "label": "Y"}]}
                ],
                "lead_magnet": {"title": "File", "url": "javascript:alert(1)"}
            })),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    let places: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(places.contains(&"steps[1].options[0]"), "{err}");
    assert!(places.contains(&"lead_magnet"), "{err}");
    // A key the definition does not know (a typo) is refused by name, at any depth; the form
    // keeps the definition it had.
    let before = s
        .api(reqwest::Method::GET, &format!("/api/v1/forms/{id}"), None)
        .await
        .1;
    let (st, err) = s
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/forms/{id}/definition"),
            Some(json!({"feilds": [], "fields": [{"kind": "phone", "lable": "Телефон"}]})),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["code"], "fields_unknown", "{err}");
    let unknown: Vec<&str> = err["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert!(unknown.contains(&"feilds"), "{err}");
    assert!(unknown.contains(&"fields.0.lable"), "{err}");
    let after = s
        .api(reqwest::Method::GET, &format!("/api/v1/forms/{id}"), None)
        .await
        .1;
    assert_eq!(before, after);
    // Every part is optional: an empty definition is taken.
    let (st, f) = s
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/forms/{id}/definition"),
            Some(json!({})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{f}");
    // Two forms cannot share a landing page address.
    let landing = json!({"landing": {"slug": "offer"}});
    let (st, _) = s
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/forms/{id}/definition"),
            Some(landing.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (st, f) = s
        .api(
            reqwest::Method::POST,
            "/api/v1/forms",
            Some(json!({"name": "Other"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, err) = s
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/forms/{}/definition", f["id"]),
            Some(landing),
        )
        .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    // The document lists the new operations.
    let doc: Value = s
        .http
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/forms/{id}/definition"]["put"].is_object());
    assert!(doc["paths"]["/l/{slug}"]["get"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn landing_page_no_js_fallback_and_thanks() {
    let s = start().await;
    let (id, key) = s
        .form(json!({
            "language": "en",
            "thank_you": "We will call within 15 minutes.",
            "lead_magnet": {"title": "Price list", "url": "https://example.com/prices.pdf"},
            "steps": [{"id": "need", "question": "What do you need?", "options": [
                {"id": "site", "label": "A website"}, {"id": "shop", "label": "A shop", "intent": 10}]}],
            "landing": {"slug": "spring-offer", "headline": "<b>Spring</b> offer", "text": "Line one\nLine two",
                        "image_url": "https://example.com/hero.png"}
        }))
        .await;
    let r = s.http.get(s.url("/l/spring-offer")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = r.text().await.unwrap();
    assert!(
        html.contains("&#60;b&#62;Spring&#60;/b&#62; offer") && !html.contains("<b>Spring"),
        "{html}"
    );
    assert!(html.contains("<p>Line two</p>"));
    assert!(html.contains(&format!("data-form=\"{key}\"")));
    assert!(html.contains("<noscript>") && html.contains("name=\"quiz.need\""));
    assert_eq!(
        s.http
            .get(s.url("/l/nothing-here"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::NOT_FOUND
    );

    // The embed code carries the same plain form, posting to this server.
    let (_, embed) = s
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/forms/{id}/embed"),
            None,
        )
        .await;
    let code = embed["embed_code"].as_str().unwrap();
    assert!(code.contains(&format!(
        "<script src=\"{}/w.js\" data-form=\"{key}\" async></script>",
        s.base
    )));
    assert!(code.contains(&format!("action=\"{}/f/{key}\"", s.base)));
    assert_eq!(embed["landing_url"], format!("{}/l/spring-offer", s.base));

    // Without JavaScript: a form-encoded post, then the thank-you page with the download.
    let r = s
        .http
        .post(s.url(&format!("/f/{key}")))
        .form(&[
            ("name", "Nina"),
            ("phone", "+31612345678"),
            ("quiz.need", "shop"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let thanks = r.headers()["location"].to_str().unwrap().to_string();
    let page = s
        .http
        .get(s.url(&thanks))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("We will call within 15 minutes."), "{page}");
    assert!(page.contains(&format!("/f/{key}/download")), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_points_out_typos_without_storing() {
    let s = start().await;
    let (_, key) = s.form(json!({})).await;
    let r = s
        .http
        .post(s.url(&format!("/f/{key}/check")))
        .header("origin", "https://site.example")
        .json(&json!({"email": "ann@gmial.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://site.example"
    );
    let v: Value = r.json().await.unwrap();
    let typo = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "email_typo")
        .unwrap_or_else(|| panic!("{v}"));
    assert_eq!(typo["message"], "did you mean ann@gmail.com?");
    let (_, leads) = s
        .api(reqwest::Method::GET, "/api/v1/leads?limit=1", None)
        .await;
    assert_eq!(leads["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn widget_script_is_served_small() {
    let s = start().await;
    let r = s.http.get(s.url("/w.js")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    let bytes = r.bytes().await.unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes).unwrap();
    let size = gz.finish().unwrap().len();
    println!("widget w.js: {} bytes, {size} bytes gzipped", bytes.len());
    assert!(
        size <= 15 * 1024,
        "w.js is {size} bytes gzipped, over 15 KB"
    );
    // Data reaches the page as text only.
    let text = String::from_utf8_lossy(&bytes);
    assert!(!text.contains("innerHTML") && !text.contains("insertAdjacentHTML"));
}
