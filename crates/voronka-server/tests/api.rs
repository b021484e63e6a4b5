//! The REST API and the public capture endpoint over real HTTP on 127.0.0.1:0.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};
use voronka_app::{App, Settings};
use voronka_core::{Role, Scope, ScopeSet};
use voronka_server::ServerConfig;

struct Server {
    base: String,
    app: App,
    admin_token: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start(capture_rate: u32) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("api.db").display());
    let app = App::open(&url, Settings::default()).await.unwrap();
    let base = serve(&app, capture_rate).await;
    let (_, admin_token) = app
        .create_token("test", ScopeSet::new(vec![Scope::Admin]), None, None)
        .await
        .unwrap();
    Server {
        base,
        app,
        admin_token,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

/// Serves the app over HTTP on 127.0.0.1:0 and answers its base URL.
async fn serve(app: &App, capture_rate: u32) -> String {
    common::serve(
        app,
        ServerConfig {
            max_body_bytes: 64 * 1024,
            capture_per_ip_per_sec: capture_rate,
            ..Default::default()
        },
    )
    .await
}

impl Server {
    async fn form(&self, origins: &[&str]) -> String {
        let f = self
            .app
            .create_form(
                &voronka_app::Actor::system("t"),
                voronka_app::FormInput {
                    name: "Contact us".into(),
                    redirect_url: None,
                    allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
                    default_region: Some("RU".into()),
                    product: None,
                    min_fill_ms: Some(0),
                },
            )
            .await
            .unwrap();
        f.public_key
    }
    fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
    }
    fn post(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
    }
    async fn lead_count(&self) -> i64 {
        let v: Value = self
            .get("/api/v1/leads?limit=1", &self.admin_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["total"].as_i64().unwrap()
    }
}

async fn error_of(r: reqwest::Response) -> (StatusCode, Value) {
    let s = r.status();
    let v: Value = r
        .json()
        .await
        .unwrap_or_else(|e| panic!("status {s}: body is not JSON: {e}"));
    assert!(v["error"].is_string() && v["message"].is_string(), "{v}");
    // Every error names its sentence by code; the code has a text in the catalog.
    let code = v["code"].as_str().unwrap_or_else(|| panic!("no code: {v}"));
    assert!(
        voronka_app::message_text(code, &Default::default()).is_some(),
        "{code} is not in the catalog: {v}"
    );
    (s, v)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_capture_json_and_form() {
    let s = start(1000).await;
    let key = s.form(&[]).await;
    let r = s
        .http
        .post(format!("{}/f/{key}", s.base))
        .json(&json!({"name": "Иван Петров", "phone": "8 (916) 123-45-67", "utm_source": "Yandex", "shoe_size": 43}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"], "lead");
    let lead_id = v["lead_id"].as_i64().unwrap();
    assert!(v["contact_id"].as_i64().is_some() && v["touch_id"].as_i64().is_some());
    let d: Value = s
        .get(&format!("/api/v1/leads/{lead_id}"), &s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["contact"]["phones"][0]["e164"], "+79161234567");
    assert_eq!(
        d["touches"][0]["raw"]["shoe_size"], "43",
        "unknown fields are kept"
    );
    assert_eq!(d["touches"][0]["attribution"]["utm_source"], "yandex");

    // A plain HTML form without JavaScript: 303 to the built-in thank-you page.
    let no_redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirect
        .post(format!("{}/f/{key}", s.base))
        .form(&[
            ("name", "Olena Kovalenko"),
            ("phone", "+380 67 123 4567"),
            ("message", "Передзвоніть"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with(&format!("/f/{key}/thanks")), "{loc}");
    let page = s
        .http
        .get(format!("{}{loc}", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("received"));
    assert_eq!(s.lead_count().await, 2);

    // No usable contact: an interest, and the response says so.
    let r = s
        .http
        .post(format!("{}/f/{key}", s.base))
        .json(&json!({"name": "Anon", "phone": "12"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"], "interest");
    assert!(v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["code"] == "no_contact"));
    // A mistyped popular domain comes back with a suggestion for the form to show.
    let r = s
        .http
        .post(format!("{}/f/{key}", s.base))
        .json(&json!({"name": "Ann", "email": "ann@gmial.com"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"], "lead");
    let typo = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "email_typo")
        .unwrap();
    assert_eq!(typo["field"], "email");
    assert_eq!(typo["message"], "did you mean ann@gmail.com?");
    // Honeypot: rejected.
    let r = s
        .http
        .post(format!("{}/f/{key}", s.base))
        .json(&json!({"name": "Bot", "phone": "+79161112233", "website": "spam"}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["result"], "rejected");
    assert_eq!(s.lead_count().await, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn double_submit_is_one_touch() {
    let s = start(1000).await;
    let key = s.form(&[]).await;
    let body = json!({"name": "Anna", "email": "anna@mail.ru"});
    let send = |idem: Option<&'static str>| {
        let mut r = s.http.post(format!("{}/f/{key}", s.base)).json(&body);
        if let Some(k) = idem {
            r = r.header("idempotency-key", k);
        }
        r.send()
    };
    let a: Value = send(Some("abc")).await.unwrap().json().await.unwrap();
    let r = send(Some("abc")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let b: Value = r.json().await.unwrap();
    assert_eq!(a["touch_id"], b["touch_id"]);
    // Identical payload from the same client within 10 s, without a key.
    let c: Value = send(None).await.unwrap().json().await.unwrap();
    assert_eq!(
        c["touch_id"], a["touch_id"],
        "identical payload within the window is the same submission"
    );
    let d: Value = s
        .get(&format!("/api/v1/leads/{}", a["lead_id"]), &s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["touches"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_answered_cleanly_and_loses_nothing() {
    let s = start(1000).await;
    let key = s.form(&["https://shop.example"]).await;
    let f = format!("{}/f/{key}", s.base);
    let ok = s
        .http
        .post(&f)
        .json(&json!({"name": "Kept", "phone": "+79161234567"}))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);

    let raw = |body: Vec<u8>, ct: &str| {
        s.http
            .post(&f)
            .header("content-type", ct.to_string())
            .body(body)
            .send()
    };
    let (st, v) = error_of(
        raw(b"{\"name\": ".to_vec(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert!(v["message"].as_str().unwrap().contains("malformed JSON"));
    // A body is one JSON value: anything after it is refused, and nothing is captured.
    let before = s.lead_count().await;
    for body in [
        &b"{\"name\": \"Tail\", \"phone\": \"+79161234599\"} }}} not json"[..],
        b"{\"name\": \"One\", \"phone\": \"+79161234598\"}{\"name\": \"Two\"}",
    ] {
        let (st, v) = error_of(raw(body.to_vec(), "application/json").await.unwrap()).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
        assert_eq!(v["code"], "json_malformed", "{v}");
    }
    assert_eq!(s.lead_count().await, before);
    let r = s
        .post("/api/v1/leads", &s.admin_token)
        .header("content-type", "application/json")
        .body("{\"name\": \"Tail\", \"email\": \"tail@mail.ru\"} x")
        .send()
        .await
        .unwrap();
    let (st, v) = error_of(r).await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["code"], "json_malformed", "{v}");
    // Trailing white space is not content (the same person again: a touch on the kept lead).
    let ok = raw(
        "{\"name\": \"Kept\", \"phone\": \"+79161234567\", \"message\": \"ещё раз\"} \n\t "
            .as_bytes()
            .to_vec(),
        "application/json",
    )
    .await
    .unwrap();
    assert_eq!(ok.status(), StatusCode::CREATED);
    // A broken percent escape is read leniently, as browsers do; without a contact it is an interest page.
    let r = raw(
        b"name=%ZZ&phone".to_vec(),
        "application/x-www-form-urlencoded",
    )
    .await
    .unwrap();
    assert!(
        r.url().path().ends_with("/thanks") && r.url().query() == Some("r=interest"),
        "{}",
        r.url()
    );
    let (st, v) = error_of(
        raw(
            vec![b'{', b'"', b'n', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}'],
            "application/json",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{v}");
    let (st, _) = error_of(
        raw(
            vec![b'n', b'a', b'm', b'e', b'=', 0xff],
            "application/x-www-form-urlencoded",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = error_of(raw(b"<xml/>".to_vec(), "text/xml").await.unwrap()).await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, _) = error_of(raw(b"[1,2]".to_vec(), "application/json").await.unwrap()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, v) = error_of(
        raw(b"{\"name\":{\"a\":1}}".to_vec(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["code"], "form_field_nested", "{v}");
    assert_eq!(v["args"]["field"], "name", "{v}");
    assert_eq!(v["fields"][0]["field"], "name", "{v}");
    assert_eq!(v["fields"][0]["code"], "nested_objects_refused", "{v}");
    assert_eq!(v["fields"][0]["message"], "nested objects are not accepted");
    let big = vec![b'a'; 10 * 1024 * 1024];
    let r = s
        .http
        .post(&f)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await;
    if let Ok(r) = r {
        let (st, _) = error_of(r).await;
        assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    }
    let (st, v) = error_of(
        s.http
            .post(format!("{}/f/nope", s.base))
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "not_found", "{v}");
    assert_eq!(v["code"], "form_key_not_found", "{v}");
    assert_eq!(v["args"], json!({"key": "nope"}), "{v}");
    assert_eq!(v["message"], "no form with key \"nope\"", "{v}");
    let (st, _) = error_of(
        s.http
            .post(&f)
            .header("origin", "https://evil.example")
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let r = s
        .http
        .post(&f)
        .header("origin", "https://shop.example")
        .json(&json!({"name": "Cors", "email": "cors@mail.ru"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let pre = s
        .http
        .request(reqwest::Method::OPTIONS, &f)
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert_eq!(pre.status(), StatusCode::NO_CONTENT);

    // Hostile strings are stored as given (cleaned of invisible controls) and never break anything.
    let hostile = [
        "<script>alert(1)</script>",
        "Robert'); DROP TABLE leads;--",
        "\u{202e}evil\u{202c} name",
        &"Я".repeat(10_000),
    ];
    for (i, h) in hostile.iter().enumerate() {
        let r = s
            .http
            .post(&f)
            .json(&json!({"name": h, "email": format!("h{i}@mail.ru")}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let v: Value = s
        .get("/api/v1/leads?q=script&limit=10", &s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["contact_name"], "<script>alert(1)</script>");
    let v: Value = s
        .get("/api/v1/leads?q=evil&limit=10", &s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v["items"][0]["contact_name"], "Evil Name",
        "bidi overrides are removed"
    );
    // The 10,000-character name is not a lead; everything accepted before is still there.
    assert_eq!(s.lead_count().await, 5);
    let v: Value = s
        .get("/api/v1/leads?q=kept&limit=10", &s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limit_answers_429() {
    let s = start(2).await;
    let key = s.form(&[]).await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let r = s
            .http
            .post(format!("{}/f/{key}", s.base))
            .json(&json!({"name": "Fast", "email": format!("f{i}@mail.ru")}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(statuses.contains(&StatusCode::CREATED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_auth_roles_and_lead_actions() {
    let s = start(1000).await;
    let admin = s.admin_token.clone();
    // No token, a wrong token, an expired and a revoked token.
    let (st, _) = error_of(
        s.http
            .get(format!("{}/api/v1/leads", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (st, _) = error_of(s.get("/api/v1/leads", "vk_wrong").send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    let (_, expired) = s
        .app
        .create_token("old", ScopeSet::new(vec![Scope::LeadsRead]), None, Some(-1))
        .await
        .unwrap();
    let (st, v) = error_of(s.get("/api/v1/leads", &expired).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(v["message"].as_str().unwrap().contains("expired"));
    let v: Value = s
        .post("/api/v1/tokens", &admin)
        .json(&json!({"name": "ro", "scopes": ["leads:read"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ro = v["token"].as_str().unwrap().to_string();
    // Read-only token cannot write.
    let (st, _) = error_of(
        s.post("/api/v1/leads", &ro)
            .json(&json!({"name": "X", "email": "x@mail.ru"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let r = s
        .http
        .delete(format!("{}/api/v1/tokens/{}", s.base, v["id"]))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let (st, v) = error_of(s.get("/api/v1/leads", &ro).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::UNAUTHORIZED);
    assert!(v["message"].as_str().unwrap().contains("revoked"));

    // Two salespeople with tokens of their own: each sees only their leads.
    let s1 = s
        .app
        .add_user("s1@mail.ru", "S1", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let s2 = s
        .app
        .add_user("s2@mail.ru", "S2", "password-2", Role::Salesperson)
        .await
        .unwrap();
    let (_, t1) = s
        .app
        .create_token(
            "s1",
            ScopeSet::new(vec![Scope::LeadsRead, Scope::LeadsWrite]),
            Some(s1.id),
            None,
        )
        .await
        .unwrap();
    // Made over the API for a person: the token acts as them, on the endpoints of a person too.
    let v: Value = s
        .post("/api/v1/tokens", &admin)
        .json(&json!({"name": "s2", "scopes": ["leads:read", "leads:write"], "user_id": s2.id}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t2 = v["token"].as_str().unwrap().to_string();
    let r = s.get("/api/v1/work-queue", &t2).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s.get("/api/v1/notifications", &t2).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, v) = error_of(
        s.post("/api/v1/tokens", &admin)
            .json(&json!({"name": "nobody", "scopes": ["leads:read"], "user_id": 999999}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["fields"][0]["code"], "token_user_unknown", "{v}");
    let mut ids = Vec::new();
    for i in 0..4 {
        let r = s.post("/api/v1/leads", &admin).json(&json!({"name": format!("Lead {i}"), "email": format!("l{i}@mail.ru"), "product": "CRM", "value": "1500.50", "currency": "EUR"})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        ids.push(v["lead_id"].as_i64().unwrap());
    }
    let mine: Value = s
        .get("/api/v1/leads", &t1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(mine["total"], 2);
    let someone_elses = ids
        .iter()
        .find(|id| {
            !mine["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["id"] == **id)
        })
        .unwrap();
    let (st, _) = error_of(
        s.get(&format!("/api/v1/leads/{someone_elses}"), &t1)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        st,
        StatusCode::NOT_FOUND,
        "a salesperson cannot read another's lead"
    );
    let _ = t2;

    // Stage changes, illegal transitions, refusal, notes, conversion.
    let id = ids[0];
    let r = s
        .post(&format!("/api/v1/leads/{id}/stage"), &admin)
        .json(&json!({"stage": "working"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (st, v) = error_of(
        s.post(&format!("/api/v1/leads/{id}/stage"), &admin)
            .json(&json!({"stage": "new"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"], "illegal_transition");
    let (st, v) = error_of(
        s.post(&format!("/api/v1/leads/{id}/stage"), &admin)
            .json(&json!({"stage": "won"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["fields"][0]["field"], "stage");
    assert_eq!(v["code"], "stage_unknown", "{v}");
    assert_eq!(v["fields"][0]["code"], "stage_unknown", "{v}");
    assert_eq!(v["fields"][0]["args"], json!({"stage": "won"}), "{v}");
    assert_eq!(v["fields"][0]["message"], "unknown stage \"won\"", "{v}");
    let (st, _) = error_of(
        s.post(&format!("/api/v1/leads/{id}/stage"), &admin)
            .header("content-type", "text/plain")
            .body("working")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let (st, _) = error_of(
        s.post(&format!("/api/v1/leads/{id}/stage"), &admin)
            .json(&json!({"stag": "working"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(&format!("/api/v1/leads/{id}/notes"), &admin)
        .json(&json!({"body": "Позвонить после 15:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    // A NUL character is no text a person means: refused, not stored (PostgreSQL cannot).
    let (st, v) = error_of(
        s.post(&format!("/api/v1/leads/{id}/notes"), &admin)
            .json(&json!({"body": "Позвонить\u{0}после"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "text_nul", "{v}");
    // The fields in order, as an array, are not a refusal.
    let (st, v) = error_of(
        s.post(&format!("/api/v1/leads/{}/refuse", ids[1]), &admin)
            .json(&json!(["Too expensive", null, "2099-01-01"]))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["message"], "the body must be a JSON object");
    // A freeze date is at most ten years ahead: New Year's Day two years on.
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 2;
    let r = s
        .post(&format!("/api/v1/leads/{}/refuse", ids[1]), &admin)
        .json(&json!({"reason": "Too expensive", "freeze_until": format!("{year}-01-01")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["stage"], "refused");
    assert!(v["frozen_until"].as_i64().unwrap() > voronka_app::now_ms() + 365 * 86_400_000);
    let r = s
        .post(&format!("/api/v1/leads/{id}/convert"), &admin)
        .json(&json!({"amount_minor": 990000, "currency": "RUB"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let cust: Value = s
        .get(&format!("/api/v1/customers/{}", v["customer_id"]), &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cust["deals"][0]["amount"]["minor"], 990000);
    assert_eq!(cust["leads"][0]["id"], id);
    let d: Value = s
        .get(&format!("/api/v1/leads/{id}"), &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["customer"]["id"], v["customer_id"], "links go both ways");
    assert_eq!(d["notes"][0]["body"], "Позвонить после 15:00");
    assert_eq!(d["history"].as_array().unwrap().len(), 3);
    let audit: Value = s
        .get(&format!("/api/v1/leads/{id}/audit"), &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(audit.as_array().unwrap().len() >= 3);

    // Filters, bad filters, pagination, unknown endpoints.
    let v: Value = s
        .get("/api/v1/leads?stage=new&limit=1", &admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 2);
    let next = v["next_cursor"].as_str().unwrap().to_string();
    let v2: Value = s
        .get(
            &format!("/api/v1/leads?stage=new&limit=1&cursor={next}"),
            &admin,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(v["items"][0]["id"], v2["items"][0]["id"]);
    let prev = v2["prev_cursor"].as_str().unwrap().to_string();
    let v3: Value = s
        .get(
            &format!("/api/v1/leads?stage=new&limit=1&before={prev}"),
            &admin,
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v3["items"][0]["id"], v["items"][0]["id"],
        "back to the first page"
    );
    assert!(
        v["prev_cursor"].is_null(),
        "the first page has nothing before it"
    );
    let (st, _) = error_of(
        s.get("/api/v1/leads?stage=bogus", &admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, bad) = error_of(s.get("/api/v1/leads/abc", &admin).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(bad["code"], "lead_id_invalid", "{bad}");
    assert_eq!(bad["args"]["given"], "abc", "{bad}");
    let (st, bad) = error_of(
        s.get("/api/v1/leads?owner=-3", &admin)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["code"], "owner_id_invalid", "{bad}");
    let (st, _) = error_of(s.get("/api/v1/leads/999999", &admin).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = error_of(s.get("/api/v1/nothing", &admin).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // A method an endpoint does not take, and a query string that does not fit: JSON errors.
    let r = s
        .http
        .delete(format!("{}/api/v1/leads/1", s.base))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    let (st, v) = error_of(r).await;
    assert_eq!(st, StatusCode::METHOD_NOT_ALLOWED, "{v}");
    assert_eq!(v["code"], "method_not_allowed", "{v}");
    for (query, field) in [
        ("/api/v1/leads?limit=abc", "limit"),
        ("/api/v1/leads?limit=99999999999999999999", "limit"),
        ("/api/v1/contacts?limit=", "limit"),
        ("/api/v1/scoring-rules?_=1700000000000", "_"),
    ] {
        let (st, v) = error_of(s.get(query, &admin).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {v}");
        assert_eq!(v["code"], "query_invalid", "{query}: {v}");
        assert_eq!(v["fields"][0]["field"], field, "{query}: {v}");
    }
    // Values that read but do not fit are named by their own sentences.
    for (query, status, code) in [
        (
            "/api/v1/contacts?offset=-1",
            StatusCode::UNPROCESSABLE_ENTITY,
            "offset_negative",
        ),
        (
            "/api/v1/tasks?status=x",
            StatusCode::BAD_REQUEST,
            "task_status_unknown",
        ),
        (
            "/api/v1/tasks?user=0",
            StatusCode::BAD_REQUEST,
            "user_id_invalid",
        ),
    ] {
        let (st, v) = error_of(s.get(query, &admin).send().await.unwrap()).await;
        assert_eq!(st, status, "{query}: {v}");
        assert_eq!(v["code"], code, "{query}: {v}");
    }
    let (st, taken) = error_of(
        s.post("/api/v1/users", &admin)
            .json(&json!({"email": "s1@mail.ru", "password": "password-9", "role": "viewer"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(taken["code"], "user_email_taken", "{taken}");
    assert_eq!(
        taken["message"], "a user with this email already exists",
        "{taken}"
    );

    // The OpenAPI document describes the API.
    let doc: Value = s
        .http
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/api/v1/leads/{id}/refuse"]["post"].is_object());
    let page = s
        .http
        .get(format!("{}/api/docs", s.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("/api/openapi.json"));
}

/// Pseudo-lead rules: junk leads with reasons, rules edited as JSON and TOML, bursts, and the
/// scrub rate by form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudo_leads_are_junked_rejected_and_counted() {
    let s = start(1000).await;
    let key = s.form(&[]).await;
    let capture = |body: Value| {
        let req = s.http.post(format!("{}/f/{key}", s.base)).json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::CREATED);
            r.json::<Value>().await.unwrap()
        }
    };
    let codes = |v: &Value| -> Vec<String> {
        v["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_string())
            .collect()
    };

    // A test entry is stored as a junk lead with its reason, unassigned.
    let v = capture(json!({"name": "Тест Тест", "phone": "+7 916 765-43-21"})).await;
    assert_eq!(v["result"], "lead");
    assert!(codes(&v).contains(&"name_test".to_string()), "{v}");
    let lead = v["lead_id"].as_i64().unwrap();
    let d: Value = s
        .get(&format!("/api/v1/leads/{lead}"), &s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(d["lead"]["stage"], "junk", "{d}");
    assert!(d["lead"]["junk_reason"]
        .as_str()
        .unwrap()
        .contains("test name"));
    assert!(d["lead"]["owner_id"].is_null());

    // A disposable address: junk. A typo: a suggestion, and the lead is kept.
    let v = capture(json!({"name": "Анна Смирнова", "email": "anna@mailinator.com"})).await;
    assert!(codes(&v).contains(&"email_disposable".to_string()), "{v}");
    let v = capture(json!({"name": "Ольга Иванова", "email": "olga@gmial.com"})).await;
    let typo = v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "email_typo")
        .unwrap();
    assert_eq!(typo["message"], "did you mean olga@gmail.com?");
    assert_eq!(typo["field"], "email");
    let clean = capture(json!({"name": "Пётр Соколов", "phone": "+7 903 555-01-23"})).await;
    assert_eq!(clean["result"], "lead");

    // Rules are data: competitors become junk and role mailboxes are rejected.
    let toml = "competitor_domains = [\"rival.ru\"]\n[actions]\nemail_role = \"reject\"\n";
    let r = s
        .http
        .put(format!("{}/api/v1/scrub-rules", s.base))
        .bearer_auth(&s.admin_token)
        .header("content-type", "application/toml")
        .body(toml)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let v = capture(json!({"name": "Игорь Ким", "email": "igor@sales.rival.ru"})).await;
    assert!(codes(&v).contains(&"email_competitor".to_string()), "{v}");
    let v = capture(json!({"name": "Acme desk", "email": "info@acme.ru"})).await;
    assert_eq!(v["result"], "rejected", "{v}");
    let text = s
        .get("/api/v1/scrub-rules?format=toml", &s.admin_token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("rival.ru") && text.contains("email_role = \"reject\""),
        "{text}"
    );
    let j: Value = s
        .get("/api/v1/scrub-rules", &s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let role = j["catalog"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == "email_role")
        .unwrap();
    assert_eq!(role["action"], "reject");
    assert_eq!(role["default_action"], "flag");

    // Bad rules are refused and change nothing; only administrators may edit them.
    let r = s
        .http
        .put(format!("{}/api/v1/scrub-rules", s.base))
        .bearer_auth(&s.admin_token)
        .json(&json!({"actions": {"no_such_rule": "junk"}}))
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("no_such_rule"));
    let (_, reader) = s
        .app
        .create_token("reader", ScopeSet::new(vec![Scope::LeadsRead]), None, None)
        .await
        .unwrap();
    let r = s
        .http
        .put(format!("{}/api/v1/scrub-rules", s.base))
        .bearer_auth(&reader)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);
    let v = capture(json!({"name": "Игорь Ким", "email": "igor2@rival.ru"})).await;
    assert!(
        codes(&v).contains(&"email_competitor".to_string()),
        "rules kept: {v}"
    );

    // Bursts from one address: loopback is exempt by default, so take the exemption away.
    let r = s
        .http
        .put(format!("{}/api/v1/scrub-rules", s.base))
        .bearer_auth(&s.admin_token)
        .json(&json!({"burst_exempt_ips": [], "burst_max_per_ip": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let mut results = Vec::new();
    for i in 0..3 {
        let v =
            capture(json!({"name": "Мария Орлова", "phone": format!("+7 916 200-10-1{i}")})).await;
        results.push(v["result"].as_str().unwrap().to_string());
    }
    assert_eq!(results, ["lead", "lead", "rejected"]);

    // Scrub rate of the form: rejected + junk among all submissions.
    let rep: Value = s
        .get("/api/v1/reports/scrub?by=form", &s.admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let row = &rep["rows"][0];
    assert_eq!(row["submissions"], 10, "{rep}");
    assert_eq!(row["rejected"], 2, "{rep}");
    assert_eq!(row["junk"], 4, "{rep}");
    assert!(
        (row["scrub_rate"].as_f64().unwrap() - 0.6).abs() < 1e-9,
        "{rep}"
    );
    let r = s
        .get("/api/v1/reports/scrub?by=colour", &s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::BAD_REQUEST);
}

/// Merging two leads of one person moves everything into the survivor, the merged id keeps
/// resolving, and the merge can be undone from its record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_and_undo() {
    let s = start(1000).await;
    let key = s.form(&[]).await;
    let capture = |body: Value| {
        let req = s.http.post(format!("{}/f/{key}", s.base)).json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let get = |path: String| {
        let req = s.get(&path, &s.admin_token);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let a = capture(json!({"name": "Иван Петров", "phone": "+7 916 111-22-33", "product": "Диван", "company": "Ромашка"})).await;
    let b = capture(json!({"name": "Ivan Petrov", "email": "ivan.petrov@gmail.com", "product": "Кресло", "position": "CTO"})).await;
    let (la, lb) = (
        a["lead_id"].as_i64().unwrap(),
        b["lead_id"].as_i64().unwrap(),
    );
    assert_ne!(a["contact_id"], b["contact_id"]);
    let r = s
        .post(&format!("/api/v1/leads/{lb}/notes"), &s.admin_token)
        .json(&json!({"body": "Звонил, просил перезвонить"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    assert_eq!(s.lead_count().await, 2);

    // Bad requests first: they change nothing.
    let r = s
        .post(&format!("/api/v1/leads/{la}/merge"), &s.admin_token)
        .json(&json!({"other_lead_id": lb, "take": ["shoe_size"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(&format!("/api/v1/leads/{la}/merge"), &s.admin_token)
        .json(&json!({"other_lead_id": la}))
        .send()
        .await
        .unwrap();
    let (st, itself) = error_of(r).await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(itself["code"], "merge_into_itself", "{itself}");

    let r = s
        .post(&format!("/api/v1/leads/{la}/merge"), &s.admin_token)
        .json(&json!({"other_lead_id": lb, "take": ["position", "product"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let merge_id = r.json::<Value>().await.unwrap()["merge_id"]
        .as_i64()
        .unwrap();
    assert_eq!(s.lead_count().await, 1);

    // The merged id resolves to the survivor, which has everything of both.
    let d = get(format!("/api/v1/leads/{lb}")).await;
    assert_eq!(d["lead"]["id"], la, "{d}");
    assert_eq!(d["lead"]["product"], "Кресло");
    assert_eq!(d["lead"]["touches"], 2);
    assert_eq!(d["touches"].as_array().unwrap().len(), 2);
    assert_eq!(d["contact"]["position"], "CTO");
    assert_eq!(d["contact"]["full_name"], "Иван Петров");
    assert_eq!(
        d["contact"]["emails"][0]["normalized"],
        "ivan.petrov@gmail.com"
    );
    assert_eq!(d["contact"]["phones"][0]["e164"], "+79161112233");
    assert_eq!(d["notes"][0]["body"], "Звонил, просил перезвонить");
    // A new request by the merged contact's email lands on the survivor's contact.
    let again = capture(
        json!({"name": "Ivan Petrov", "email": "ivanpetrov@gmail.com", "product": "Кресло"}),
    )
    .await;
    assert_eq!(again["lead_id"], la, "{again}");
    let merges = get(format!("/api/v1/leads/{la}/merges")).await;
    assert_eq!(merges["items"][0]["id"], merge_id);
    // The merged lead reads as the survivor, but is changed only through it.
    let survivor = get(format!("/api/v1/leads/{la}")).await;
    for (path, body) in [
        ("stage", json!({"stage": "working"})),
        ("notes", json!({"body": "по старой ссылке"})),
        ("junk", json!({"reason": "test"})),
        (
            "convert",
            json!({"amount_minor": 500000, "currency": "RUB"}),
        ),
    ] {
        let r = s
            .post(&format!("/api/v1/leads/{lb}/{path}"), &s.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let (st, v) = error_of(r).await;
        assert_eq!(st, StatusCode::CONFLICT, "{path}: {v}");
        assert_eq!(v["code"], "lead_merged", "{path}: {v}");
        assert_eq!(v["args"]["into"], la.to_string(), "{path}: {v}");
    }
    let d = get(format!("/api/v1/leads/{la}")).await;
    assert_eq!(d["lead"]["stage"], survivor["lead"]["stage"], "{d}");
    assert_eq!(d["notes"], survivor["notes"], "{d}");
    assert!(d["lead"]["customer_id"].is_null(), "{d}");

    // Undo: both leads and contacts come back as they were; the later touch stays on the survivor.
    let r = s
        .post(&format!("/api/v1/merges/{merge_id}/undo"), &s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(s.lead_count().await, 2);
    let da = get(format!("/api/v1/leads/{la}")).await;
    let db = get(format!("/api/v1/leads/{lb}")).await;
    assert_eq!(db["lead"]["id"], lb);
    assert_eq!(db["lead"]["product"], "Кресло");
    assert_eq!(db["notes"][0]["body"], "Звонил, просил перезвонить");
    assert_eq!(db["contact"]["position"], "CTO");
    assert_eq!(da["lead"]["product"], "Диван");
    assert!(da["contact"]["position"].is_null(), "{da}");
    assert_eq!(da["contact"]["emails"].as_array().unwrap().len(), 0);
    assert!(da["notes"].as_array().unwrap().is_empty());
    let r = s
        .post(&format!("/api/v1/merges/{merge_id}/undo"), &s.admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::CONFLICT);
}

/// Same name at the same company with nothing shared: a new lead flagged as a possible
/// duplicate, reviewed through the API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn possible_duplicates_are_reviewed() {
    let s = start(1000).await;
    let key = s.form(&[]).await;
    let capture = |body: Value| {
        let req = s.http.post(format!("{}/f/{key}", s.base)).json(&body);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let get = |path: String| {
        let req = s.get(&path, &s.admin_token);
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let a =
        capture(json!({"name": "Иван Петров", "phone": "+7 916 111-22-33", "company": "Ромашка"}))
            .await;
    let b = capture(
        json!({"name": "Петров Иван", "phone": "+7 926 444-55-66", "company": "ООО «Ромашка»"}),
    )
    .await;
    assert_ne!(
        a["contact_id"], b["contact_id"],
        "nothing shared: a contact of its own"
    );
    assert!(
        b["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["code"] == "possible_duplicate"),
        "{b}"
    );
    let other =
        capture(json!({"name": "Иван Петров", "phone": "+7 903 000-11-22", "company": "Лютик"}))
            .await;
    assert!(other["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["code"] != "possible_duplicate"));

    let open = get("/api/v1/duplicates".into()).await;
    let items = open["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{open}");
    let pair = items[0]["id"].as_i64().unwrap();
    assert_eq!(items[0]["lead_id"], b["lead_id"]);
    assert_eq!(items[0]["other_lead_id"], a["lead_id"]);
    let review = get(format!("/api/v1/duplicates/{pair}")).await;
    assert_eq!(review["lead"]["contact"]["full_name"], "Петров Иван");
    assert_eq!(review["other"]["contact"]["full_name"], "Иван Петров");

    // "Not a duplicate" is remembered.
    let r = s
        .post(
            &format!("/api/v1/duplicates/{pair}/not-duplicate"),
            &s.admin_token,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        get("/api/v1/duplicates".into()).await["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let done = get("/api/v1/duplicates?status=not_duplicate".into()).await;
    assert_eq!(done["items"][0]["id"], pair);
    assert!(done["items"][0]["resolved_by"].is_string());

    // A third one is flagged against the latest; merging it resolves the pair.
    let c = capture(json!({"name": "Иван Петров", "phone": "+7 915 777-88-99", "company": "Ромашка", "product": "Стол"})).await;
    let open = get("/api/v1/duplicates".into()).await;
    let pair = open["items"][0]["id"].as_i64().unwrap();
    let survivor = open["items"][0]["other_lead_id"].as_i64().unwrap();
    let r = s
        .post(&format!("/api/v1/duplicates/{pair}/merge"), &s.admin_token)
        .json(&json!({"survivor_id": c["lead_id"].as_i64().unwrap() + 1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(&format!("/api/v1/duplicates/{pair}/merge"), &s.admin_token)
        .json(&json!({"survivor_id": survivor, "take": ["product"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let merged = get(format!("/api/v1/leads/{}", c["lead_id"])).await;
    assert_eq!(merged["lead"]["id"], survivor);
    assert_eq!(merged["lead"]["product"], "Стол");
    assert_eq!(merged["contact"]["phones"].as_array().unwrap().len(), 2);
    let done = get("/api/v1/duplicates?status=merged".into()).await;
    assert_eq!(done["items"][0]["id"], pair);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracker_events_rules_and_score_explanation() {
    let s = start(1000).await;
    let t = &s.admin_token;
    // A tracking site that accepts one origin.
    let r = s
        .post("/api/v1/tracking-sites", t)
        .json(&json!({"name": "Магазин", "origins": ["https://Shop.example.com/"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let site = v["site"]["key"].as_str().unwrap().to_string();
    assert_eq!(v["site"]["origins"], json!(["https://shop.example.com"]));
    assert!(v["embed"]
        .as_str()
        .unwrap()
        .contains(&format!("/t.js\" data-site=\"{site}\"")));
    let r = s
        .post("/api/v1/tracking-sites", t)
        .json(&json!({"name": "x", "origins": ["shop.example.com/path"]}))
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");

    // The script itself.
    let r = s.http.get(format!("{}/t.js", s.base)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/javascript"));
    assert!(r.text().await.unwrap().contains("voronka:visitor"));

    // Beacons from the allowed origin are stored; other origins are refused.
    let beacon = |origin: &str, body: &str| {
        s.http
            .post(format!("{}/api/v1/events?site={site}", s.base))
            .header("origin", origin)
            .header("content-type", "text/plain")
            .body(body.to_string())
    };
    let body = r#"{"events":[{"name":"view_pricing","visitor_id":"vis-9"},{"name":"view_pricing","visitor_id":"vis-9"}]}"#;
    let r = beacon("https://shop.example.com", body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "https://shop.example.com"
    );
    let r = beacon("https://evil.example", body).send().await.unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);
    // Do-Not-Track is honoured: answered, nothing kept.
    let r = beacon(
        "https://shop.example.com",
        r#"{"name":"view_product","visitor_id":"vis-9"}"#,
    )
    .header("dnt", "1")
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    for (bad, code) in [
        ("{\"events\": [", StatusCode::BAD_REQUEST),
        ("{\"name\": 5}", StatusCode::BAD_REQUEST),
        (
            r#"{"name":"page_view","visitor_id":"v","lead_id":1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let r = beacon("https://shop.example.com", bad)
            .send()
            .await
            .unwrap();
        // The page's script can read a refusal (and so drops the batch rather than retry it).
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://shop.example.com",
            "{bad}"
        );
        let (status, e) = error_of(r).await;
        assert_eq!(status, code, "{bad}: {e}");
    }
    // The tracker's ids: a beacon sent twice stores its events once.
    let twice = r#"{"events":[{"id":"b-1","name":"view_product","visitor_id":"vis-twice"}]}"#;
    for stored in [1, 0] {
        let r = beacon("https://shop.example.com", twice)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        assert_eq!(r.json::<Value>().await.unwrap()["stored"], stored);
    }
    let r = s
        .http
        .post(format!("{}/t/nope/events", s.base))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::NOT_FOUND);

    // The visitor fills a form: the two pricing views count toward the new lead.
    let key = s.form(&[]).await;
    let r = s
        .http
        .post(format!("{}/f/{key}", s.base))
        .json(&json!({"name": "Вера Лебедева", "phone": "+79161112233", "visitor_id": "vis-9"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let lead = r.json::<Value>().await.unwrap()["lead_id"]
        .as_i64()
        .unwrap();
    let v: Value = s
        .get(&format!("/api/v1/leads/{lead}/score"), t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["score"]["engagement"], 20, "{v}");
    assert_eq!(v["score"]["fit"], 15, "{v}");
    let pricing: Vec<&Value> = v["score"]["contributions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["rule"] == "Pricing viewed")
        .collect();
    assert_eq!(pricing.len(), 2, "{v}");

    // Server-side events with a token: one event or a batch; bad ones get clear errors.
    let r = s
        .post("/api/v1/events", t)
        .json(&json!({"name": "email_click_product", "lead_id": lead}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap()["leads"], json!([lead]));
    // A retried request with the events' own ids stores nothing twice.
    let retried = json!({"events": [
        {"id": "crm-77", "name": "email_open", "lead_id": lead},
        {"id": "crm-78", "name": "email_open", "lead_id": lead},
    ]});
    for (stored, duplicates) in [(2, 0), (0, 2)] {
        let r = s
            .post("/api/v1/events", t)
            .json(&retried)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            (&v["stored"], &v["duplicates"]),
            (&json!(stored), &json!(duplicates)),
            "{v}"
        );
    }
    let r = s
        .post("/api/v1/events", t)
        .json(&json!({"id": "", "name": "email_open", "lead_id": lead}))
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert!(e["message"].as_str().unwrap().contains("id"), "{e}");
    let r = s
        .post("/api/v1/events", t)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let r = s
        .post("/api/v1/events", t)
        .json(&json!({"events": [{"name": "email_open", "lead_id": 987654}]}))
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["message"].as_str().unwrap().contains("987654"), "{e}");
    let r = s
        .http
        .post(format!("{}/api/v1/events", s.base))
        .json(&json!({"name": "x", "lead_id": lead}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNAUTHORIZED);

    // Rules as TOML: read, refused with the reason, replaced (a rescoring starts).
    let r = s
        .get("/api/v1/scoring-rules?format=toml", t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let toml = r.text().await.unwrap();
    assert!(
        toml.contains("[[profile]]") && toml.contains("half_life_days"),
        "{toml}"
    );
    let r = s
        .http
        .put(format!("{}/api/v1/scoring-rules", s.base))
        .bearer_auth(t)
        .header("content-type", "application/toml")
        .body("[levels]\nfit = [50, 10, 60]\nactivity = [1, 2, 3]\n")
        .send()
        .await
        .unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(e["message"].as_str().unwrap().contains("fit level"), "{e}");
    let changed = toml.replace(
        "name = \"Valid phone\"\nfield = \"phone_valid\"\npoints = 15",
        "name = \"Valid phone\"\nfield = \"phone_valid\"\npoints = 25",
    );
    assert_ne!(changed, toml);
    let r = s
        .http
        .put(format!("{}/api/v1/scoring-rules", s.base))
        .bearer_auth(t)
        .header("content-type", "application/toml")
        .body(changed)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert!(
        r.json::<Value>().await.unwrap()["rescoring"]["total"]
            .as_i64()
            .unwrap()
            >= 1
    );
    s.app.run_due_jobs("test").await.unwrap();
    let v: Value = s
        .get("/api/v1/scoring/runs/latest", t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["run"]["done"], v["run"]["total"], "{v}");
    let v: Value = s
        .get(&format!("/api/v1/leads/{lead}/score"), t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["stored"]["fit"], 25, "{v}");

    let v: Value = s
        .get("/api/v1/scoring/matrix", t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 4);
    assert_eq!(v["total"], 1, "{v}");
    let r = s
        .get("/api/v1/scoring-rules/presets/b2c", t)
        .send()
        .await
        .unwrap();
    assert!(r.json::<Value>().await.unwrap()["profile"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["field"] == "income"));
    let r = s
        .get("/api/v1/scoring-rules/presets/b2x", t)
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::NOT_FOUND);
    let r = s
        .http
        .delete(format!(
            "{}/api/v1/leads/{lead}/temperature-override",
            s.base
        ))
        .bearer_auth(t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

/// `/healthz` answers without a token; `/api/v1/status` tells an administrator what is stored and
/// what waits, and no one else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_and_status() {
    let s = start(1000).await;
    let r = s
        .http
        .get(format!("{}/healthz", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["cache-control"], "no-store");
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"status": "ok"}));

    let r = s
        .http
        .get(format!("{}/api/v1/status", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::UNAUTHORIZED);
    let (_, reader) = s
        .app
        .create_token("reader", ScopeSet::new(vec![Scope::LeadsRead]), None, None)
        .await
        .unwrap();
    let r = s.get("/api/v1/status", &reader).send().await.unwrap();
    assert_eq!(error_of(r).await.0, StatusCode::FORBIDDEN);

    // 40 leads, then events for each of them in one upload: they wait for the worker.
    let mut leads = Vec::new();
    for i in 0..40 {
        let r = s
            .post("/api/v1/leads", &s.admin_token)
            .json(&json!({"name": format!("Клиент Номер {i}"), "email": format!("client{i}@mail.ru")}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        leads.push(r.json::<Value>().await.unwrap()["lead_id"].clone());
    }
    let status = |s: &Server| {
        let r = s.get("/api/v1/status", &s.admin_token);
        async move {
            let r = r.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let v = status(&s).await;
    assert_eq!(v["backend"], "sqlite", "{v}");
    assert_eq!(v["leads"], 40, "{v}");
    assert_eq!(v["rescore_queue"]["leads"], 0, "{v}");
    assert_eq!(v["rescore_queue"]["oldest_queued_at"], Value::Null, "{v}");
    // The background indexer may have taken the leads in already.
    assert!(
        v["search_backlog"]
            .as_i64()
            .is_some_and(|n| (0..=40).contains(&n)),
        "{v}"
    );
    assert!(v["version"].as_str().is_some_and(|v| !v.is_empty()), "{v}");
    let events: Vec<Value> = leads
        .iter()
        .map(|l| json!({"name": "email_open", "lead_id": l}))
        .collect();
    let r = s
        .post("/api/v1/events", &s.admin_token)
        .json(&json!({ "events": events }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    assert_eq!(r.json::<Value>().await.unwrap()["queued"], 40);
    let v = status(&s).await;
    assert_eq!(v["rescore_queue"]["leads"], 40, "{v}");
    assert!(v["rescore_queue"]["oldest_queued_at"].is_i64(), "{v}");
    assert!(
        v["rescore_queue"]["oldest_wait_ms"]
            .as_i64()
            .is_some_and(|ms| (0..60_000).contains(&ms)),
        "{v}"
    );
}

/// `/healthz` answers 503 while the database does not answer (here a PostgreSQL session holds the
/// table it reads under an exclusive lock), and 200 again once it does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_check_fails_while_the_database_does_not_answer() {
    use sqlx::Connection;
    let admin = std::env::var("VORONKA_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let mut c = sqlx::PgConnection::connect(&admin)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL is required for the test suite ({admin}): {e}; scripts/test starts it"
            )
        });
    let db = format!("voronka_health_{}", std::process::id());
    let drop_db = format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)");
    sqlx::query(&drop_db).execute(&mut c).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&mut c)
        .await
        .unwrap();
    let url = format!("{}/{db}", admin.rsplit_once('/').unwrap().0);
    let app = App::open(&url, Settings::default()).await.unwrap();
    let base = serve(&app, 1000).await;
    let http = reqwest::Client::new();
    let health = || async {
        let r = http.get(format!("{base}/healthz")).send().await.unwrap();
        let status = r.status();
        let store = r.headers()["cache-control"].clone();
        (status, store, r.json::<Value>().await.unwrap())
    };
    assert_eq!(health().await.0, StatusCode::OK);

    let mut locker = sqlx::PgConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut locker).await.unwrap();
    sqlx::query("LOCK TABLE settings IN ACCESS EXCLUSIVE MODE")
        .execute(&mut locker)
        .await
        .unwrap();
    let (status, store, body) = health().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(store, "no-store");
    assert_eq!(body["error"], "unavailable", "{body}");
    sqlx::query("ROLLBACK").execute(&mut locker).await.unwrap();

    let (status, _, body) = health().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    drop(locker);
    drop(app);
    sqlx::query(&drop_db).execute(&mut c).await.unwrap();
}

/// The value of a series in Prometheus' text format: the line of `name` whose labels include
/// every one of `labels`, summed over the others; 0 when there is none.
fn series(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (head, value) = l.rsplit_once(' ')?;
            let (n, set) = match head.split_once('{') {
                Some((n, rest)) => (n, rest.trim_end_matches('}')),
                None => (head, ""),
            };
            let has: Vec<(&str, &str)> = set
                .split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (k, v.trim_matches('"')))
                .collect();
            (n == name && labels.iter().all(|want| has.contains(want)))
                .then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_to_a_token_that_may_read_them() {
    let s = start(1000).await;
    let key = s.form(&[]).await;
    let (_, reader) = s
        .app
        .create_token(
            "prometheus",
            ScopeSet::new(vec![Scope::MetricsRead]),
            None,
            None,
        )
        .await
        .unwrap();
    let (_, leads_only) = s
        .app
        .create_token("crm", ScopeSet::new(vec![Scope::LeadsRead]), None, None)
        .await
        .unwrap();
    let scrape = |token: String| {
        let req = s.get("/metrics", &token);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let kind = r.headers()["content-type"].to_str().unwrap().to_string();
            assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
            r.text().await.unwrap()
        }
    };
    // Counters are the process's, shared with the tests running beside this one: compared
    // before and after.
    let before = scrape(reader.clone()).await;
    for body in [
        json!({"name": "Мария \"<Метрика>\"", "phone": "+7 916 777-10-20"}),
        json!({"name": "Без контакта"}),
    ] {
        let r = s
            .http
            .post(format!("{}/f/{key}", s.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // A method of the client's own invention counts without naming it.
    let r = s
        .http
        .request(
            reqwest::Method::from_bytes(b"FROBNICATE").unwrap(),
            format!("{}/api/v1/leads", s.base),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    let after = scrape(reader.clone()).await;
    assert!(!after.contains("FROBNICATE"), "{after}");
    let grew = |name: &str, labels: &[(&str, &str)]| {
        series(&after, name, labels) - series(&before, name, labels)
    };
    for result in ["lead", "interest"] {
        assert!(
            grew(
                "voronka_captures_total",
                &[("channel", "web_form"), ("result", result)]
            ) >= 1.0,
            "{result}: {after}"
        );
    }
    assert!(
        grew(
            "voronka_http_requests_total",
            &[("method", "POST"), ("route", "/f/{key}"), ("status", "201")]
        ) >= 2.0,
        "{after}"
    );
    assert!(
        series(
            &after,
            "voronka_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", "/f/{key}")]
        ) >= 2.0,
        "{after}"
    );
    assert!(
        grew("voronka_http_requests_total", &[("method", "other")]) >= 1.0,
        "{after}"
    );
    assert!(
        series(&after, "voronka_intake_batch_size_count", &[]) >= 1.0,
        "{after}"
    );
    // The gauges are this database's, read at the scrape.
    assert_eq!(series(&after, "voronka_leads", &[]), 1.0, "{after}");
    assert_eq!(
        series(&after, "voronka_build_info", &[("backend", "sqlite")]),
        1.0,
        "{after}"
    );
    assert!(
        after.contains("# HELP voronka_captures_total Submissions through the intake"),
        "{after}"
    );
    // No personal data: the name captured is nowhere in it.
    assert!(!after.contains("Метрика"), "{after}");

    // A token without the scope, and no token at all, are refused.
    let r = s.get("/metrics", &leads_only).send().await.unwrap();
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("metrics:read"),
        "{e}"
    );
    let r = s
        .http
        .get(format!("{}/metrics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // An administrator's token reads them too.
    scrape(s.admin_token.clone()).await;
}

/// A 422 naming one field, with the code both on the answer and on the field.
async fn refused(r: reqwest::Response, field: &str, code: &str) -> Value {
    let (status, e) = error_of(r).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["code"], code, "{e}");
    assert_eq!(e["fields"][0]["field"], field, "{e}");
    assert_eq!(e["fields"][0]["code"], code, "{e}");
    e
}

/// A server with two leads captured through a form.
async fn with_two_leads() -> (Server, Vec<i64>) {
    let s = start(1000).await;
    let key = s.form(&[]).await;
    let mut leads = Vec::new();
    for (name, phone) in [
        ("Анна Белова", "+7 916 300-00-01"),
        ("Олег Белов", "+7 916 300-00-02"),
    ] {
        let v: Value = s
            .http
            .post(format!("{}/f/{key}", s.base))
            .json(&json!({"name": name, "phone": phone, "company": "Ромашка"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        leads.push(v["lead_id"].as_i64().unwrap_or_else(|| panic!("{v}")));
    }
    (s, leads)
}

impl Server {
    /// A GET's JSON answer.
    async fn json(&self, path: &str, token: &str) -> Value {
        self.get(path, token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// A new token with these scopes, acting as this person when one is given.
    async fn token(&self, scopes: &[Scope], user: Option<i64>) -> String {
        self.app
            .create_token("t", ScopeSet::new(scopes.to_vec()), user, None)
            .await
            .unwrap()
            .1
    }

    /// A PUT with the admin token.
    fn put(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .put(format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token)
    }
}

/// Scoring points and thresholds past ±1,000,000 are refused with the rule or setting named;
/// at the edge of the range a score is exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_points_past_their_range_are_refused() {
    let (s, leads) = with_two_leads().await;
    let t = s.admin_token.as_str();
    let lead = leads[0];
    let huge = json!({"profile": [
        {"name": "Huge", "field": "company", "points": i64::MAX},
        {"name": "One", "field": "phone_valid", "points": 1},
    ]});
    let e = refused(
        s.put("/api/v1/scoring-rules")
            .json(&huge)
            .send()
            .await
            .unwrap(),
        "rules",
        "scoring_points_out_of_range",
    )
    .await;
    assert_eq!(
        e["fields"][0]["args"],
        json!({"name": "Huge", "min": "-1000000", "max": "1000000"}),
        "{e}"
    );
    assert_eq!(
        e["fields"][0]["message"],
        "\"Huge\": points must be from -1000000 to 1000000"
    );
    let e = refused(
        s.put("/api/v1/scoring-rules")
            .json(&json!({"temperature": {"warm": 25, "hot": i64::MAX}}))
            .send()
            .await
            .unwrap(),
        "rules",
        "scoring_points_out_of_range",
    )
    .await;
    assert_eq!(e["fields"][0]["args"]["name"], "temperature.hot", "{e}");
    let most = json!({"profile": [
        {"name": "Huge", "field": "company", "points": 1_000_000},
        {"name": "One", "field": "phone_valid", "points": 1},
    ]});
    let r = s
        .put("/api/v1/scoring-rules")
        .json(&most)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    s.app.run_due_jobs("test").await.unwrap();
    let v: Value = s
        .get(&format!("/api/v1/leads/{lead}/score"), t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["stored"]["fit"], 1_000_001, "{v}");
    assert_eq!(v["score"]["total"], 1_000_001, "{v}");
}

const DAY: i64 = 86_400_000;

/// An event dated more than a year back has a sentence of its own; the future keeps its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_times_past_a_year_are_refused_as_too_old() {
    let (s, leads) = with_two_leads().await;
    let t = s.admin_token.as_str();
    let lead = leads[0];
    let now = voronka_app::now_ms();
    for at in [-1, i64::MIN, 0, now - 366 * DAY] {
        let e = refused(
            s.post("/api/v1/events", t)
                .json(&json!({"name": "page_view", "lead_id": lead, "at": at}))
                .send()
                .await
                .unwrap(),
            "events[0]",
            "event_time_too_old",
        )
        .await;
        assert_eq!(e["fields"][0]["args"], json!({"days": "365"}), "{e}");
        assert_eq!(e["message"], "the time is more than 365 days ago", "{e}");
    }
    for at in [i64::MAX, now + 2 * DAY] {
        refused(
            s.post("/api/v1/events", t)
                .json(&json!({"name": "page_view", "lead_id": lead, "at": at}))
                .send()
                .await
                .unwrap(),
            "events[0]",
            "event_time_in_future",
        )
        .await;
    }
    let r = s
        .post("/api/v1/events", t)
        .json(&json!({"name": "page_view", "lead_id": lead, "at": now - 364 * DAY}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
}

/// Tasks, reminders, call backs and freeze dates lie from 2000-01-01 to ten years ahead; a deal
/// carries 0 to 10^15 minor units.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_times_and_deal_amounts_past_their_range_are_refused() {
    let (s, leads) = with_two_leads().await;
    let t = s.admin_token.as_str();
    let lead = leads[0];
    let now = voronka_app::now_ms();
    // Tasks: due and reminded from 2000-01-01 to ten years ahead.
    let task = |due: i64, remind: Option<i64>| {
        s.post("/api/v1/tasks", t)
            .json(&json!({"lead_id": lead, "kind": "call", "due_at": due, "remind_at": remind}))
            .send()
    };
    for due in [i64::MIN, -1, 0, 946_684_799_999, now + 3651 * DAY, i64::MAX] {
        let e = refused(
            task(due, None).await.unwrap(),
            "due_at",
            "task_due_out_of_range",
        )
        .await;
        assert_eq!(
            e["fields"][0]["args"],
            json!({"from": "2000-01-01", "years": "10"}),
            "{e}"
        );
        assert_eq!(
            e["message"], "the due time must be from 2000-01-01 to 10 years ahead",
            "{e}"
        );
    }
    refused(
        task(now + DAY, Some(i64::MAX)).await.unwrap(),
        "remind_at",
        "task_reminder_out_of_range",
    )
    .await;
    for due in [946_684_800_000, now - DAY, now + 3649 * DAY] {
        let r = task(due, Some(due)).await.unwrap();
        assert_eq!(r.status(), StatusCode::CREATED, "{due}");
    }
    // A call back is scheduled at most ten years ahead too.
    refused(
        s.post(&format!("/api/v1/leads/{lead}/activities"), t)
            .json(&json!({"kind": "call", "outcome": "call_back", "call_back_at": i64::MAX}))
            .send()
            .await
            .unwrap(),
        "call_back_at",
        "call_back_too_far",
    )
    .await;

    // A freeze date at most ten years ahead; the lead stays as it was.
    for until in [
        json!(i64::MAX),
        json!(now + 3651 * DAY),
        json!("9999-01-01"),
    ] {
        let e = refused(
            s.post(&format!("/api/v1/leads/{}/refuse", leads[1]), t)
                .json(&json!({"reason": "Too expensive", "freeze_until": until}))
                .send()
                .await
                .unwrap(),
            "freeze_until",
            "freeze_date_too_far",
        )
        .await;
        assert_eq!(e["fields"][0]["args"], json!({"years": "10"}), "{e}");
    }
    let v: Value = s
        .get(&format!("/api/v1/leads/{}", leads[1]), t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(v["lead"]["stage"], "refused", "{v}");

    // Deal amounts from 0 to 10^15 minor units.
    let convert = |amount: i64| {
        s.post(&format!("/api/v1/leads/{lead}/convert"), t)
            .json(&json!({"amount_minor": amount, "currency": "RUB"}))
            .send()
    };
    for amount in [i64::MAX, 1_000_000_000_000_001] {
        let e = refused(
            convert(amount).await.unwrap(),
            "amount",
            "deal_amount_too_large",
        )
        .await;
        assert_eq!(
            e["fields"][0]["args"],
            json!({"max": "1000000000000000"}),
            "{e}"
        );
    }
    refused(convert(-1).await.unwrap(), "amount", "deal_amount_negative").await;
    let r = convert(1_000_000_000_000_000).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

/// The SMTP host, http(s) URLs and burst exemptions are refused when they do not parse whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_hosts_urls_and_addresses_are_refused() {
    let s = start(1000).await;
    let t = s.admin_token.as_str();
    // SMTP host: a host name or an address, without control characters or URL punctuation.
    let smtp = |host: &str| {
        s.put("/api/v1/smtp-settings")
            .json(&json!({"host": host, "port": 25, "from": "sales@example.com"}))
            .send()
    };
    // A NUL is refused before any field is read: no text of the API holds one.
    refused(smtp("a\u{0}b").await.unwrap(), "body", "text_nul").await;
    for host in [
        "smtp\u{7}.example.com",
        "a\u{85}b",
        "a b/c?d",
        "a/c?d",
        "x@y",
    ] {
        refused(smtp(host).await.unwrap(), "host", "smtp_host_invalid").await;
    }
    for host in ["smtp.example.com", "127.0.0.1", "::1", "mail"] {
        assert_eq!(
            smtp(host).await.unwrap().status(),
            StatusCode::NO_CONTENT,
            "{host}"
        );
    }

    // URLs are parsed whole.
    let webhook = |url: &str| {
        s.put("/api/v1/notify-webhook")
            .json(&json!({ "url": url }))
            .send()
    };
    for url in [
        "http://[::1",
        "http://",
        "https://exa mple.com/",
        "https://exa\tmple.com/",
        "http://a\u{1}b/",
        "https://ex%ample.com/",
        "ftp://example.com/",
    ] {
        refused(webhook(url).await.unwrap(), "url", "webhook_url_invalid").await;
    }
    for url in [
        "https://hooks.example.com/T1/B2",
        "http://[::1]:8080/hook",
        "",
    ] {
        assert_eq!(
            webhook(url).await.unwrap().status(),
            StatusCode::NO_CONTENT,
            "{url}"
        );
    }
    let e = refused(
        s.post("/api/v1/forms", t)
            .json(&json!({"name": "Перезвоните", "redirect_url": "http://[::1"}))
            .send()
            .await
            .unwrap(),
        "redirect_url",
        "url_invalid",
    )
    .await;
    assert_eq!(e["fields"][0]["args"], json!({"url": "http://[::1"}), "{e}");

    // Burst exemptions are IP addresses.
    let e = refused(
        s.put("/api/v1/scrub-rules")
            .json(&json!({"burst_exempt_ips": ["not-an-ip", "300.1.1.1"]}))
            .send()
            .await
            .unwrap(),
        "burst_exempt_ips",
        "scrub_exempt_ip_invalid",
    )
    .await;
    assert_eq!(e["fields"][0]["args"], json!({"entry": "not-an-ip"}), "{e}");
    refused(
        s.put("/api/v1/scrub-rules")
            .json(&json!({"burst_exempt_ips": ["127.0.0.1", "300.1.1.1"]}))
            .send()
            .await
            .unwrap(),
        "burst_exempt_ips",
        "scrub_exempt_ip_invalid",
    )
    .await;
    let r = s
        .put("/api/v1/scrub-rules")
        .json(&json!({"burst_exempt_ips": ["127.0.0.1", "::1", "10.0.0.7"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
}

/// One change for many leads over the API: the leads changed, each one left as it was with its
/// error, and a request that fits no lead refused with the field named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_changes_answer_each_lead() {
    let (s, leads) = with_two_leads().await;
    let tok = s.admin_token.clone();
    // Answered 200 with what was done.
    let bulk = |body: Value| {
        let r = s.post("/api/v1/leads/bulk", &tok).json(&body).send();
        async move {
            let r = r.await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    let v = bulk(json!({"ids": [leads[0], leads[1], 999_999], "action": "stage", "stage": "mql"}))
        .await;
    assert_eq!(v["changed"], json!([leads[0], leads[1]]), "{v}");
    assert_eq!(v["refused"][0]["lead_id"], 999_999, "{v}");
    assert_eq!(v["refused"][0]["error"], "not_found", "{v}");
    // Again: MQL to MQL is no move, each lead says so.
    let v = bulk(json!({"ids": leads, "action": "stage", "stage": "mql"})).await;
    assert_eq!(v["changed"], json!([]), "{v}");
    assert_eq!(v["refused"][1]["error"], "illegal_transition", "{v}");
    let v = bulk(json!({"ids": leads, "action": "temperature", "temperature": "hot"})).await;
    assert_eq!(v["changed"], json!(leads), "{v}");
    let lead: Value = s
        .get(&format!("/api/v1/leads/{}", leads[1]), &tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(lead["lead"]["temperature"], "hot", "{lead}");
    assert_eq!(lead["lead"]["stage"], "mql", "{lead}");
    for (body, field, code) in [
        (
            json!({"ids": leads, "action": "assign", "owner_id": 999_999}),
            "owner_id",
            "owner_not_active",
        ),
        (
            json!({"ids": leads, "action": "refuse", "reason": "потому что"}),
            "reason",
            "refusal_reason_unknown",
        ),
        (
            json!({"ids": leads, "action": "delete"}),
            "action",
            "bulk_action_unknown",
        ),
        (
            json!({"ids": [], "action": "junk", "reason": "spam"}),
            "ids",
            "bulk_no_leads",
        ),
        (
            json!({"ids": leads, "action": "junk"}),
            "reason",
            "junk_reason_required",
        ),
        (
            json!({"ids": leads, "action": "stage", "stage": "converted"}),
            "stage",
            "bulk_stage_open",
        ),
        (
            json!({"ids": leads, "action": "temperature", "temperature": "boiling"}),
            "temperature",
            "temperature_unknown",
        ),
    ] {
        refused(
            s.post("/api/v1/leads/bulk", &tok)
                .json(&body)
                .send()
                .await
                .unwrap(),
            field,
            code,
        )
        .await;
    }
    // A token that reads only may change nothing.
    let reader = s.token(&[Scope::LeadsRead], None).await;
    let r = s
        .post("/api/v1/leads/bulk", &reader)
        .json(&json!({"ids": leads, "action": "temperature", "temperature": "cold"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Refused together, with a comment and a freeze date; a date gone by refuses the change
    // before any lead moves.
    let reason = s.app.refusal_reasons().await.unwrap()[0].clone();
    let body = |until: &str| json!({"ids": leads, "action": "refuse", "reason": reason, "comment": "Вернуться весной", "freeze_until": until});
    refused(
        s.post("/api/v1/leads/bulk", &tok)
            .json(&body("2001-01-01"))
            .send()
            .await
            .unwrap(),
        "freeze_until",
        "freeze_date_in_past",
    )
    .await;
    let v = bulk(body("2031-04-01")).await;
    assert_eq!(v["changed"], json!(leads), "{v}");
    for id in &leads {
        let lead = s.json(&format!("/api/v1/leads/{id}"), &tok).await;
        assert_eq!(lead["lead"]["stage"], "refused", "{lead}");
        assert_eq!(
            lead["lead"]["frozen_until"], 1_932_768_000_000_i64,
            "{lead}"
        );
        let history = lead["history"].as_array().unwrap();
        assert_eq!(
            history.last().unwrap()["comment"],
            "Вернуться весной",
            "{lead}"
        );
    }
}

/// The leads of a filter as a file: every page of them (more than one page's worth), oldest first,
/// in CSV or JSON lines, names in any script intact and formulas typed into a form kept as text;
/// a wrong format or a paging parameter refused; only people who may export personal data get
/// it; each export is in the audit log with its filters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_streams_every_lead_of_the_filters() {
    use futures::StreamExt;
    let (s, two) = with_two_leads().await;
    let tok = s.admin_token.clone();
    let hostile = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let mut bodies = vec![
        json!({"name": hostile, "email": "evil@mail.ru", "value": "1500.50", "currency": "EUR"}),
    ];
    bodies.extend(
        (0..1010)
            .map(|i| json!({"name": format!("Lead {i}"), "email": format!("bulk{i}@mail.ru")})),
    );
    let created: Vec<i64> = futures::stream::iter(bodies)
        .map(|b| {
            let r = s.post("/api/v1/leads", &tok).json(&b).send();
            async move {
                let r = r.await.unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                r.json::<Value>().await.unwrap()["lead_id"]
                    .as_i64()
                    .unwrap()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert_eq!(created.len(), 1011);

    let r = s.get("/api/v1/leads/export", &tok).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert_eq!(header("content-type"), "text/csv; charset=utf-8");
    assert!(
        header("content-disposition").starts_with("attachment; filename=\"leads-"),
        "{}",
        header("content-disposition")
    );
    assert_eq!(header("cache-control"), "no-store");
    let body = r.text().await.unwrap();
    let mut rd = csv::Reader::from_reader(body.as_bytes());
    let head = rd.headers().unwrap().clone();
    assert_eq!(&head[0], "id");
    let col = |name: &str| head.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 1013, "every lead, across pages");
    let ids: std::collections::HashSet<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
    assert_eq!(ids.len(), rows.len(), "none twice");
    let made: Vec<&str> = rows.iter().map(|r| &r[col("created_at")]).collect();
    assert!(made.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    let name_of = |id: i64| {
        rows.iter()
            .find(|r| r[0] == id.to_string())
            .map(|r| r[col("name")].to_string())
            .unwrap()
    };
    assert_eq!(name_of(two[0]), "Анна Белова");
    let evil = rows
        .iter()
        .find(|r| &r[col("email")] == "evil@mail.ru")
        .unwrap();
    assert_eq!(&evil[col("name")], format!("'{hostile}"));
    assert_eq!(&evil[col("value")], "1500.50");
    assert_eq!(&evil[col("currency")], "EUR");
    let phone = &rows.iter().find(|r| r[0] == two[0].to_string()).unwrap()[col("phone")];
    assert!(phone.starts_with("+7"), "a phone stays as it is: {phone}");

    // JSON lines with filters; the byte-order mark on request.
    let r = s
        .get(
            "/api/v1/leads/export?format=jsonl&q=%D0%91%D0%B5%D0%BB%D0%BE%D0%B2&stage=new",
            &tok,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let text = r.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<i64> = lines.iter().map(|v| v["id"].as_i64().unwrap()).collect();
    assert_eq!(got, two, "{text}");
    let bytes = s
        .get("/api/v1/leads/export?bom=true&q=evil", &tok)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(bytes.starts_with("\u{feff}id,".as_bytes()), "{bytes:?}");
    assert_eq!(String::from_utf8_lossy(&bytes).lines().count(), 2);

    // Refused: a format it does not write, paging, a filter it cannot read.
    for (query, field, code) in [
        ("format=xlsx", "format", "export_format_unknown"),
        ("sort=-score", "sort", "export_takes_every_lead"),
        ("limit=10", "limit", "export_takes_every_lead"),
        ("stage=won", "stage", "stage_unknown"),
    ] {
        let r = s
            .get(&format!("/api/v1/leads/export?{query}"), &tok)
            .send()
            .await
            .unwrap();
        let e = refused(r, field, code).await;
        assert!(e["message"].as_str().unwrap().len() > 10, "{e}");
    }

    // A salesperson, and a token that reads no leads, get nothing.
    let seller = s
        .app
        .add_user("seller@mail.ru", "Seller", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let seller_token = s.token(&[Scope::LeadsRead], Some(seller.id)).await;
    let forms_token = s.token(&[Scope::FormsWrite], None).await;
    for (token, code) in [
        (&seller_token, "role_cannot_export_personal_data"),
        (&forms_token, "token_lacks_scope"),
    ] {
        let (st, e) = error_of(s.get("/api/v1/leads/export", token).send().await.unwrap()).await;
        assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
        assert_eq!(e["code"], code, "{e}");
    }

    // Three exports were made, each in the audit log with what it asked for.
    let audit = s
        .app
        .recent_audit(&voronka_app::Actor::system("t"), None, 50)
        .await
        .unwrap();
    let exports: Vec<&String> = audit
        .iter()
        .filter(|a| a.action == "leads.export")
        .map(|a| a.after.as_ref().unwrap())
        .collect();
    assert_eq!(exports.len(), 3, "{exports:?}");
    assert!(
        exports.iter().any(|a| a.contains("\"format\":\"jsonl\"")
            && a.contains("\"q\":\"Белов\"")
            && a.contains("\"stage\":\"new\"")),
        "{exports:?}"
    );
}

/// A customer merged into another over the API: the merge answered, the customer's address
/// answers 404 naming where it went, and what may not merge is refused with its reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_merge_over_the_api() {
    let (s, leads) = with_two_leads().await;
    let tok = s.admin_token.clone();
    let mut customers = Vec::new();
    for id in &leads {
        let r = s
            .post(&format!("/api/v1/leads/{id}/convert"), &tok)
            .json(&json!({"amount_minor": 50_000, "currency": "RUB"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        customers.push(v["customer_id"].as_i64().unwrap_or_else(|| panic!("{v}")));
    }
    // One company: one customer already; a customer of the person's own is made to merge.
    let (from, into) = (customers[0], customers[1]);
    assert_eq!(from, into, "the two people share a company");
    let own = s
        .post("/api/v1/leads", &tok)
        .json(&json!({"name": "Сам По Себе", "phone": "+7 916 300-00-09"}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["lead_id"]
        .as_i64()
        .unwrap();
    let v: Value = s
        .post(&format!("/api/v1/leads/{own}/convert"), &tok)
        .json(&json!({"amount_minor": 7_000, "currency": "RUB"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let lone = v["customer_id"].as_i64().unwrap();
    assert_ne!(lone, into);

    let path = format!("/api/v1/customers/{lone}/merge");
    refused(
        s.post(&path, &tok)
            .json(&json!({"into": lone}))
            .send()
            .await
            .unwrap(),
        "into",
        "customer_merge_into_itself",
    )
    .await;
    refused(
        s.post(&path, &tok)
            .json(&json!({"into": 999_999}))
            .send()
            .await
            .unwrap(),
        "into",
        "customer_not_found",
    )
    .await;
    let seller = s
        .app
        .add_user("seller@mail.ru", "Seller", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let seller_token = s
        .token(&[Scope::LeadsRead, Scope::LeadsWrite], Some(seller.id))
        .await;
    let (st, e) = error_of(
        s.post(&path, &seller_token)
            .json(&json!({"into": into}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["code"], "merge_customers_forbidden", "{e}");

    let r = s
        .post(&path, &tok)
        .json(&json!({"into": into}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let m: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &m["from_id"],
            &m["into_id"],
            &m["deals"],
            &m["leads"],
            &m["from_name"]
        ),
        (
            &json!(lone),
            &json!(into),
            &json!(1),
            &json!(1),
            &json!("Сам По Себе")
        ),
        "{m}"
    );
    let (st, e) = error_of(
        s.get(&format!("/api/v1/customers/{lone}"), &tok)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{e}");
    assert_eq!(e["code"], "customer_merged", "{e}");
    let c: Value = s.json(&format!("/api/v1/customers/{into}"), &tok).await;
    assert_eq!(c["deals"].as_array().unwrap().len(), 3, "{c}");
    assert_eq!(c["merged_from"][0]["from_id"], lone, "{c}");
    assert_eq!(c["merged_from"][0]["undoable"], true, "{c}");

    // Undone: the customer is back with its deal; not twice.
    let undo = format!("/api/v1/customer-merges/{}/undo", m["id"]);
    let (st, e) = error_of(s.post(&undo, &seller_token).send().await.unwrap()).await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::FORBIDDEN, &json!("merge_customers_forbidden")),
        "{e}"
    );
    let r = s.post(&undo, &tok).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let back: Value = r.json().await.unwrap();
    assert_eq!(
        (&back["from_id"], &back["undoable"]),
        (&json!(lone), &json!(false)),
        "{back}"
    );
    assert!(back["undone_at"].as_i64().is_some(), "{back}");
    let c: Value = s.json(&format!("/api/v1/customers/{lone}"), &tok).await;
    assert_eq!(c["deals"].as_array().unwrap().len(), 1, "{c}");
    let c: Value = s.json(&format!("/api/v1/customers/{into}"), &tok).await;
    assert_eq!(c["deals"].as_array().unwrap().len(), 2, "{c}");
    assert_eq!(c["merged_from"], json!([]), "{c}");
    for (path, status, code) in [
        (undo.clone(), StatusCode::CONFLICT, "merge_already_undone"),
        (
            "/api/v1/customer-merges/abc/undo".to_string(),
            StatusCode::BAD_REQUEST,
            "customer_merge_id_invalid",
        ),
        (
            "/api/v1/customer-merges/999999/undo".to_string(),
            StatusCode::NOT_FOUND,
            "customer_merge_not_found",
        ),
    ] {
        let (st, e) = error_of(s.post(&path, &tok).send().await.unwrap()).await;
        assert_eq!((st, &e["code"]), (status, &json!(code)), "{path}: {e}");
    }
}

/// Erasing a person over the API: administrators only, with a reason; the answer counts what
/// went, and the contact then carries no name, phone or email.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_data_is_erased_over_the_api() {
    let (s, leads) = with_two_leads().await;
    let tok = s.admin_token.clone();
    let lead: Value = s.json(&format!("/api/v1/leads/{}", leads[0]), &tok).await;
    let contact = lead["contact"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/contacts/{contact}/erase");
    refused(
        s.post(&path, &tok)
            .json(&json!({"reason": ""}))
            .send()
            .await
            .unwrap(),
        "reason",
        "erase_reason_required",
    )
    .await;
    let reader = s.token(&[Scope::LeadsRead, Scope::LeadsWrite], None).await;
    let r = s
        .post(&path, &reader)
        .json(&json!({"reason": "request"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .post(&path, &tok)
        .json(&json!({"reason": "Запрос от 2026-12-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["contact_id"], &v["contacts"], &v["leads"]),
        (&json!(contact), &json!(1), &json!(1)),
        "{v}"
    );
    let c: Value = s.json(&format!("/api/v1/contacts/{contact}"), &tok).await;
    assert_eq!(c["contact"]["full_name"], "—", "{c}");
    assert_eq!(c["contact"]["phones"], json!([]), "{c}");
    assert!(c["contact"]["erased_at"].is_i64(), "{c}");
    assert!(!c.to_string().contains("Белова"), "{c}");
}

/// Saved views over the API: a person's token saves, lists and deletes them; the query keeps
/// what the inbox reads; a token of nobody has none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_views_over_the_api() {
    let s = start(1000).await;
    let (st, e) = error_of(
        s.post("/api/v1/views", &s.admin_token)
            .json(&json!({"name": "x", "query": "stage=new"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    assert_eq!(e["code"], "views_need_a_person", "{e}");
    let anna = s
        .app
        .add_user("anna@mail.ru", "Анна", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let tok = s.token(&[Scope::LeadsRead], Some(anna.id)).await;
    let r = s
        .post("/api/v1/views", &tok)
        .json(&json!({"name": "Горячие", "query": "?temperature=hot&cursor=x&bogus=1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (&v["query"], &v["shared"]),
        (&json!("temperature=hot"), &json!(false)),
        "{v}"
    );
    refused(
        s.post("/api/v1/views", &tok)
            .json(&json!({"name": " "}))
            .send()
            .await
            .unwrap(),
        "name",
        "view_name_required",
    )
    .await;
    let (st, e) = error_of(
        s.post("/api/v1/views", &tok)
            .json(&json!({"name": "Для всех", "shared": true}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{e}");
    let list = s.json("/api/v1/views", &tok).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["owner_name"], "Анна", "{list}");
    let path = format!("/api/v1/views/{}", v["id"]);
    let del = |token: &str| {
        s.http
            .delete(format!("{}{path}", s.base))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(del(&tok).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(del(&tok).await.unwrap().status(), StatusCode::NOT_FOUND);
}

/// The channel report and marketing spend over HTTP: spend entered by a marketer's token, the
/// report weighing a source's leads against it, every wrong setting a clear error, and who may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_report_and_spend_over_the_api() {
    let s = start(1000).await;
    let mut ids = Vec::new();
    for (name, phone) in [
        ("Вера Вк", "+7 916 930-00-01"),
        ("Глеб Вк", "+7 916 930-00-02"),
    ] {
        let v: Value = s
            .post("/api/v1/leads", &s.admin_token)
            .json(
                &json!({"name": name, "phone": phone, "utm_source": "vk", "utm_medium": "social"}),
            )
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        ids.push(v["lead_id"].as_i64().unwrap_or_else(|| panic!("{v}")));
    }
    let r = s
        .post(&format!("/api/v1/leads/{}/convert", ids[0]), &s.admin_token)
        .json(&json!({"amount_minor": 2_000_000, "currency": "RUB"}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let mila = s
        .app
        .add_user("mila@mail.ru", "Мила", "password-1", Role::Marketer)
        .await
        .unwrap();
    let marketer = s.token(&[Scope::FormsWrite], Some(mila.id)).await;
    let day = |back: i64| utc_day(voronka_app::now_ms() - back * 86_400_000);

    let r = s
        .post("/api/v1/spend", &marketer)
        .json(&json!({"source": "vk", "medium": "social", "from": day(9), "to": day(0), "amount": "5 000,00", "note": "Таргет <b>"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let entry: Value = r.json().await.unwrap();
    assert_eq!(
        entry["amount"],
        json!({"minor": 500_000, "currency": "RUB"}),
        "{entry}"
    );
    assert_eq!(
        (
            &entry["source"],
            &entry["medium"],
            &entry["created_by"],
            &entry["note"]
        ),
        (
            &json!("vk"),
            &json!("social"),
            &json!("token t"),
            &json!("Таргет <b>")
        ),
        "{entry}"
    );
    assert_eq!(
        entry["ends_at"].as_i64().unwrap() - entry["starts_at"].as_i64().unwrap(),
        10 * 86_400_000,
        "{entry}: both days counted"
    );

    let rep = s
        .json("/api/v1/reports/channels?by=source_medium", &marketer)
        .await;
    assert_eq!(rep["by"], "source_medium", "{rep}");
    assert_eq!(rep["currency"], "RUB", "{rep}");
    let row = &rep["rows"][0];
    assert_eq!(
        row["key"],
        json!({"source": "vk", "medium": "social"}),
        "{rep}"
    );
    assert_eq!(
        (&row["leads"], &row["converted"], &row["conversion_rate"]),
        (&json!(2), &json!(1), &json!(0.5)),
        "{row}"
    );
    assert_eq!(
        row["revenue"],
        json!([{"minor": 2_000_000, "currency": "RUB"}]),
        "{row}"
    );
    assert_eq!(
        row["cost_per_lead"],
        json!({"minor": 250_000, "currency": "RUB"}),
        "{row}"
    );
    assert_eq!(row["roi"], json!(3.0), "{row}");
    assert_eq!(rep["total"]["leads"], 2, "{rep}");
    let weekly = s
        .json(
            "/api/v1/reports/channels/weekly?by=source_medium",
            &marketer,
        )
        .await;
    assert_eq!(
        weekly["channels"][0]["key"],
        json!({"source": "vk", "medium": "social"}),
        "{weekly}"
    );
    assert_eq!(
        weekly["total"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_i64().unwrap())
            .sum::<i64>(),
        2,
        "{weekly}"
    );
    let (st, e) = error_of(
        s.get("/api/v1/reports/channels/weekly?top=0", &marketer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::BAD_REQUEST, &json!("weekly_top_out_of_range")),
        "{e}"
    );
    // A period before the leads and the spend: nothing.
    let old = s
        .json(
            &format!("/api/v1/reports/channels?from={}&to={}", day(60), day(40)),
            &marketer,
        )
        .await;
    assert_eq!(old["rows"], json!([]), "{old}");
    // In euros: nothing to divide.
    let eur = s
        .json("/api/v1/reports/channels?currency=eur", &s.admin_token)
        .await;
    assert_eq!(
        (&eur["currency"], &eur["rows"][0]["roi"]),
        (&json!("EUR"), &Value::Null),
        "{eur}"
    );

    let csv = s
        .get("/api/v1/reports/channels?format=csv&by=source", &marketer)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), StatusCode::OK);
    let disposition = csv.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.starts_with("attachment; filename=\"channels-by-source-"),
        "{disposition}"
    );
    let body = csv.text().await.unwrap();
    assert!(body.contains("\nvk,,,,,0,2,"), "{body}");

    // Wrong settings.
    for (query, status, code) in [
        (
            "format=xml",
            StatusCode::BAD_REQUEST,
            "export_format_unknown",
        ),
        ("by=partner", StatusCode::BAD_REQUEST, "report_by_unknown"),
        (
            "from=вчера",
            StatusCode::UNPROCESSABLE_ENTITY,
            "date_unreadable",
        ),
        (
            "from=2026-01-10&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "period_ends_before_start",
        ),
        (
            "from=1990-01-01&to=2026-01-01",
            StatusCode::UNPROCESSABLE_ENTITY,
            "period_too_long",
        ),
        (
            "currency=rubles",
            StatusCode::UNPROCESSABLE_ENTITY,
            "report_currency_invalid",
        ),
    ] {
        let (st, e) = error_of(
            s.get(&format!("/api/v1/reports/channels?{query}"), &marketer)
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (st, e["code"].as_str().unwrap()),
            (status, code),
            "{query}: {e}"
        );
    }
    let (st, e) = error_of(
        s.get("/api/v1/reports/channels?sort=leads", &marketer)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("query_invalid")),
        "{e}"
    );
    let (st, e) = error_of(
        s.post("/api/v1/spend", &marketer)
            .json(&json!({"source": "", "from": day(1), "to": day(3), "amount": "-1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("spend_invalid")),
        "{e}"
    );
    let fields: Vec<(&str, &str)> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("source", "spend_source_required"),
            ("to", "spend_ends_before_start"),
            ("amount", "spend_not_positive")
        ],
        "{e}"
    );

    // Who may: a salesperson's token sees no report; a token that only reads leads enters no
    // spend.
    let sara = s
        .app
        .add_user("sara@mail.ru", "Sara", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let seller = s
        .token(&[Scope::LeadsRead, Scope::FormsWrite], Some(sara.id))
        .await;
    let (st, e) = error_of(
        s.get("/api/v1/reports/channels", &seller)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::FORBIDDEN, &json!("role_cannot_see_reports")),
        "{e}"
    );
    let reader = s.token(&[Scope::LeadsRead], None).await;
    let (st, _) = error_of(
        s.post("/api/v1/spend", &reader)
            .json(&json!({"source": "vk", "from": day(1), "to": day(1), "amount": "1"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Changed with PUT: every field, as when entered; who entered it and when stay.
    let put = |path: String, token: &str, body: Value| {
        s.http
            .put(format!("{}{path}", s.base))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let change =
        json!({"source": "VK", "medium": "social", "from": day(9), "to": day(0), "amount": "6000"});
    let r = put(
        format!("/api/v1/spend/{}", entry["id"]),
        &marketer,
        change.clone(),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let changed: Value = r.json().await.unwrap();
    assert_eq!(
        (&changed["source"], &changed["amount"], &changed["note"]),
        (
            &json!("vk"),
            &json!({"minor": 600_000, "currency": "RUB"}),
            &Value::Null
        ),
        "{changed}"
    );
    assert_eq!(
        (
            &changed["id"],
            &changed["created_by"],
            &changed["created_at"]
        ),
        (&entry["id"], &entry["created_by"], &entry["created_at"]),
        "{changed}"
    );
    let mut wrong = change.clone();
    wrong["amount"] = json!("0");
    let (st, e) = error_of(
        put(format!("/api/v1/spend/{}", entry["id"]), &marketer, wrong)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"], &e["fields"][0]["field"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("spend_invalid"),
            &json!("amount")
        ),
        "{e}"
    );
    let (st, e) = error_of(
        put("/api/v1/spend/999999".into(), &marketer, change.clone())
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::NOT_FOUND, &json!("spend_not_found")),
        "{e}"
    );
    let (st, _) = error_of(
        put(format!("/api/v1/spend/{}", entry["id"]), &reader, change)
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);

    // Listed, then deleted.
    let list = s.json("/api/v1/spend", &reader).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["amount"]["minor"], json!(600_000), "{list}");
    let del = |path: String| {
        s.http
            .delete(format!("{}{path}", s.base))
            .bearer_auth(&marketer)
            .send()
    };
    let path = format!("/api/v1/spend/{}", entry["id"]);
    assert_eq!(
        del(path.clone()).await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let (st, e) = error_of(del(path).await.unwrap()).await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::NOT_FOUND, &json!("spend_not_found")),
        "{e}"
    );
    let (st, e) = error_of(del("/api/v1/spend/abc".into()).await.unwrap()).await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::BAD_REQUEST, &json!("spend_id_invalid")),
        "{e}"
    );
    assert_eq!(s.json("/api/v1/spend", &reader).await, json!([]));

    // A file of spend, its source given apart.
    let file = format!(
        "date,campaign,cost\n{},Весна,1200.50\n{},Весна,99\n",
        day(1),
        day(0)
    );
    let r = s
        .post("/api/v1/spend/import?source=vk&medium=social", &marketer)
        .header("content-type", "text/csv")
        .body(file.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"rows": 2, "added": 2, "replaced": 0})
    );
    let list = s.json("/api/v1/spend", &reader).await;
    assert_eq!(list[0]["campaign"], "Весна", "{list}");
    // A year of daily costs for many campaigns, larger than other requests may be.
    let mut big = String::from("date,campaign,cost\n");
    for c in 0..40 {
        for d in 0..365 {
            big.push_str(&format!("{},Кампания номер {c},1\n", day(d)));
        }
    }
    assert!(big.len() > 256 * 1024);
    let r = s
        .post("/api/v1/spend/import?source=yandex", &marketer)
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["added"], 14_600);
    assert_eq!(list[1]["amount"]["minor"], 120_050, "{list}");
    let (st, e) = error_of(
        s.post("/api/v1/spend/import", &marketer)
            .body(file)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("spend_file_columns")
        ),
        "{e}: no source, neither in the file nor given"
    );
}

/// A moment's UTC day, as the API's date parameters take it.
fn utc_day(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .date_naive()
        .to_string()
}

/// A contact corrected over the API: the whole of its own fields with PUT, a phone added; every
/// wrong field named with 422; a reader's token refused; an unknown contact 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_is_corrected_over_the_api() {
    let (s, leads) = with_two_leads().await;
    let tok = s.admin_token.clone();
    let lead: Value = s.json(&format!("/api/v1/leads/{}", leads[0]), &tok).await;
    let contact = lead["contact"]["id"].as_i64().unwrap();
    let path = format!("/api/v1/contacts/{contact}");
    let put = |token: &str, body: Value| {
        s.http
            .put(format!("{}{path}", s.base))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let r = put(
        &tok,
        json!({"name": "Мария Исправленная", "company": "Лютик", "country": "nl", "add_phone": "06 12345678"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = r.json().await.unwrap();
    assert_eq!(
        (
            &d["contact"]["full_name"],
            &d["contact"]["country"],
            &d["account"]["name"]
        ),
        (&json!("Мария Исправленная"), &json!("NL"), &json!("Лютик")),
        "{d}"
    );
    assert!(
        d["contact"]["phones"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["e164"] == "+31612345678"),
        "{d}: a phone without a country code is read in the contact's country"
    );
    let (st, e) = error_of(
        put(
            &tok,
            json!({"name": "", "language": "russian", "add_email": "x@"}),
        )
        .await
        .unwrap(),
    )
    .await;
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        (st, &e["code"], fields),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("contact_invalid"),
            vec!["name", "language", "add_email"]
        ),
        "{e}"
    );
    let (st, _) = error_of(
        put(&tok, json!({"name": "X", "nickname": "x"}))
            .await
            .unwrap(),
    )
    .await;
    assert!(st.is_client_error(), "{st}");
    let reader = s.token(&[Scope::LeadsRead], None).await;
    let (st, _) = error_of(put(&reader, json!({"name": "X"})).await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let (st, e) = error_of(
        s.http
            .put(format!("{}/api/v1/contacts/999999", s.base))
            .bearer_auth(&tok)
            .json(&json!({"name": "X"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::NOT_FOUND, &json!("contact_not_found")),
        "{e}"
    );
    // The contact's changes: the one correction that went through, field by field.
    let changes: Value = s.json(&format!("{path}/changes"), &reader).await;
    let changes = changes.as_array().unwrap_or_else(|| panic!("{changes}"));
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["action"], "contact.update");
    assert_eq!(changes[0]["erased"], false);
    let field = |name: &str| {
        changes[0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("{name}: {}", changes[0]))
    };
    assert_eq!(
        field("country"),
        json!({"field": "country", "from": null, "to": "NL"})
    );
    assert_eq!(field("company")["to"], "Лютик");
    assert_eq!(field("added_phones")["to"], "+31612345678");
    // Restored: the contact reads as before the correction, and a reader may not restore.
    let restore = format!("{path}/changes/{}/restore", changes[0]["id"]);
    let (st, _) = error_of(s.post(&restore, &reader).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let r = s.post(&restore, &tok).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = r.json().await.unwrap();
    let phones: Vec<&Value> = d["contact"]["phones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["e164"])
        .collect();
    assert_eq!(d["contact"]["country"], json!(null), "{d}");
    assert!(
        phones.len() == 1 && phones[0] != "+31612345678",
        "the phone the correction added went: {d}"
    );
    assert_ne!(d["contact"]["full_name"], "Мария Исправленная", "{d}");
    for (change, status, code) in [
        ("abc", StatusCode::BAD_REQUEST, "change_id_invalid"),
        ("999999", StatusCode::NOT_FOUND, "change_not_found"),
    ] {
        let url = format!("{path}/changes/{change}/restore");
        let (st, e) = error_of(s.post(&url, &tok).send().await.unwrap()).await;
        assert_eq!((st, &e["code"]), (status, &json!(code)), "{e}");
    }
    let (st, e) = error_of(
        s.http
            .get(format!("{}/api/v1/contacts/999999/changes", s.base))
            .bearer_auth(&tok)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"]),
        (StatusCode::NOT_FOUND, &json!("contact_not_found")),
        "{e}"
    );
}

/// What a lead asks for, corrected over the API with PUT; a wrong value named; a reader refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leads_request_is_corrected_over_the_api() {
    let (s, leads) = with_two_leads().await;
    let tok = s.admin_token.clone();
    let path = format!("/api/v1/leads/{}/request", leads[0]);
    let put = |token: &str, body: Value| {
        s.http
            .put(format!("{}{path}", s.base))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let r = put(
        &tok,
        json!({"product": "Стеллажи", "value": "1 200,50", "currency": "EUR"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let l: Value = r.json().await.unwrap();
    assert_eq!(
        (&l["product"], &l["value"]),
        (
            &json!("Стеллажи"),
            &json!({"minor": 120_050, "currency": "EUR"})
        ),
        "{l}"
    );
    let (st, e) = error_of(
        put(&tok, json!({"value": "x", "currency": "XX"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"], &e["fields"][0]["field"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("request_invalid"),
            &json!("currency")
        ),
        "{e}"
    );
    let reader = s.token(&[Scope::LeadsRead], None).await;
    let (st, _) = error_of(put(&reader, json!({})).await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
}

/// A deal corrected over the API with PUT: the deal as it now reads; wrong fields named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_is_corrected_over_the_api() {
    let (s, leads) = with_two_leads().await;
    let tok = s.admin_token.clone();
    let done: Value = s
        .post(&format!("/api/v1/leads/{}/convert", leads[0]), &tok)
        .json(&json!({"amount_minor": 100_000, "currency": "RUB"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let deal = done["deal_id"].as_i64().unwrap_or_else(|| panic!("{done}"));
    let path = format!("/api/v1/deals/{deal}");
    let put = |body: Value| {
        s.http
            .put(format!("{}{path}", s.base))
            .bearer_auth(&tok)
            .json(&body)
            .send()
    };
    let r = put(json!({"title": "Монтаж", "amount": "2 000,50"}))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let d: Value = r.json().await.unwrap();
    assert_eq!(
        (&d["title"], &d["amount"]),
        (
            &json!("Монтаж"),
            &json!({"minor": 200_050, "currency": "RUB"})
        ),
        "{d}"
    );
    assert_eq!(s.json(&path, &tok).await["amount"]["minor"], 200_050);
    let changes: Value = s.json(&format!("{path}/changes"), &tok).await;
    assert_eq!(changes[0]["action"], "deal.update", "{changes}");
    let fields: Vec<&str> = changes[0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "amount"], "{changes}");
    let (st, e) = error_of(put(json!({"title": "", "amount": "-1"})).await.unwrap()).await;
    let fields: Vec<&str> = e["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        (st, &e["code"], fields),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("deal_invalid"),
            vec!["title", "amount"]
        ),
        "{e}"
    );
}

/// A company corrected over the API with PUT; a bad domain and a body of unknown fields refused;
/// its changes listed and one restored; a reader refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_is_corrected_over_the_api() {
    let (s, leads) = with_two_leads().await;
    let tok = s.admin_token.clone();
    let lead: Value = s.json(&format!("/api/v1/leads/{}", leads[0]), &tok).await;
    let account = lead["contact"]["account_id"]
        .as_i64()
        .unwrap_or_else(|| panic!("{lead}"));
    let path = format!("/api/v1/accounts/{account}");
    let put = |token: &str, body: Value| {
        s.http
            .put(format!("{}{path}", s.base))
            .bearer_auth(token)
            .json(&body)
            .send()
    };
    let r = put(
        &tok,
        json!({"name": "Ромашка Плюс", "domain": "romashka.plus"}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let a: Value = r.json().await.unwrap();
    assert_eq!(
        (&a["name"], &a["domain"]),
        (&json!("Ромашка Плюс"), &json!("romashka.plus")),
        "{a}"
    );
    // Both people's leads are found by the new name.
    let found: Value = s.json("/api/v1/leads?q=плюс", &tok).await;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(2), "{found}");
    let (st, e) = error_of(
        put(&tok, json!({"name": "X", "domain": "a b"}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (st, &e["code"], &e["fields"][0]["field"]),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!("account_invalid"),
            &json!("domain")
        ),
        "{e}"
    );
    let (st, _) = error_of(put(&tok, json!({"name": "X", "size": 5})).await.unwrap()).await;
    assert!(st.is_client_error(), "{st}");
    let reader = s.token(&[Scope::LeadsRead], None).await;
    let (st, _) = error_of(put(&reader, json!({"name": "X"})).await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let changes: Value = s.json(&format!("{path}/changes"), &reader).await;
    assert_eq!(changes[0]["action"], "account.update", "{changes}");
    let restore = format!("{path}/changes/{}/restore", changes[0]["id"]);
    let a: Value = s
        .post(&restore, &tok)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (&a["name"], &a["domain"]),
        (&json!("Ромашка"), &json!(null)),
        "{a}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_password_is_set_over_the_api() {
    let s = start(1000).await;
    let olga = s
        .app
        .add_user("olga@mail.ru", "Ольга", "first password", Role::Salesperson)
        .await
        .unwrap();
    let (_, session, _) = s.app.login("olga@mail.ru", "first password").await.unwrap();
    let (_, writer) = s
        .app
        .create_token("crm", ScopeSet::new(vec![Scope::LeadsWrite]), None, None)
        .await
        .unwrap();
    let path = format!("/api/v1/users/{}/password", olga.id);

    // Only administrators; a short password, an unknown field, an unknown user are refused.
    let (st, v) = error_of(
        s.post(&path, &writer)
            .json(&json!({"password": "long enough"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = error_of(
        s.post(&path, &s.admin_token)
            .json(&json!({"password": "short"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "password_too_short", "{v}");
    assert_eq!(v["fields"][0]["field"], "password", "{v}");
    let (st, v) = error_of(
        s.post(&path, &s.admin_token)
            .json(&json!({"password": "long enough", "hash": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = error_of(
        s.post("/api/v1/users/999999/password", &s.admin_token)
            .json(&json!({"password": "long enough"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert!(s.app.session_user(&session).await.unwrap().is_some());

    let r = s
        .post(&path, &s.admin_token)
        .json(&json!({"password": "пароль из API"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert!(s.app.session_user(&session).await.unwrap().is_none());
    assert!(s.app.login("olga@mail.ru", "first password").await.is_err());
    s.app
        .login("olga@mail.ru", "пароль из API")
        .await
        .expect("the new password");
    let doc: Value = s
        .http
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/users/{id}/password"]["post"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_two_step_sign_in_is_turned_off_over_the_api() {
    let s = start(1000).await;
    let olga = s
        .app
        .add_user("olga@mail.ru", "Ольга", "first password", Role::Salesperson)
        .await
        .unwrap();
    let (olga_user, _, _) = s.app.login("olga@mail.ru", "first password").await.unwrap();
    let me = voronka_app::Actor::user(olga_user);
    let setup = s.app.start_two_step(&me).await.unwrap();
    let now = voronka_app::now_ms();
    let code = voronka_app::totp_code(&setup.secret, now).unwrap();
    s.app.confirm_two_step(&me, &code, now).await.unwrap();
    assert!(s.app.login("olga@mail.ru", "first password").await.is_err());
    let (_, writer) = s
        .app
        .create_token("crm", ScopeSet::new(vec![Scope::LeadsWrite]), None, None)
        .await
        .unwrap();
    let path = format!("/api/v1/users/{}/two-step-off", olga.id);
    let (st, v) = error_of(s.post(&path, &writer).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    let (st, v) = error_of(
        s.post("/api/v1/users/999999/two-step-off", &s.admin_token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    let r = s.post(&path, &s.admin_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    s.app
        .login("olga@mail.ru", "first password")
        .await
        .expect("the password alone again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_are_tagged_over_the_api() {
    let (s, ids) = with_two_leads().await;
    let (a, b) = (ids[0], ids[1]);
    let token = &s.admin_token;
    let tag = |id: i64, tag: &str| {
        s.post(&format!("/api/v1/leads/{id}/tags"), token)
            .json(&json!({ "tag": tag }))
            .send()
    };
    let r = tag(a, "VIP клиент").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["tags"], json!(["VIP клиент"]));
    tag(a, "Выставка-2026").await.unwrap();
    tag(b, "vip КЛИЕНТ").await.unwrap();

    let (st, v) = error_of(tag(a, " ").await.unwrap()).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["code"], "tag_empty", "{v}");
    assert_eq!(v["fields"][0]["field"], "tag", "{v}");
    let (st, v) = error_of(tag(999_999, "x1").await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");

    // The detail, the filter and the tags in use.
    let detail = s.json(&format!("/api/v1/leads/{a}"), token).await;
    assert_eq!(
        detail["tags"],
        json!(["VIP клиент", "Выставка-2026"]),
        "{detail}"
    );
    let list = s
        .json(
            "/api/v1/leads?tag=%D0%B2%D1%8B%D1%81%D1%82%D0%B0%D0%B2%D0%BA%D0%B0-2026",
            token,
        )
        .await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["id"], a, "{list}");
    let in_use = s.json("/api/v1/tags", token).await;
    assert_eq!(in_use.as_array().map(Vec::len), Some(2), "{in_use}");
    assert_eq!(in_use[0]["leads"], 2, "{in_use}");

    // Removed by its name in any case, written into the path.
    let r = s
        .http
        .delete(format!(
            "{}/api/v1/leads/{a}/tags/vip%20%D0%BA%D0%BB%D0%B8%D0%B5%D0%BD%D1%82",
            s.base
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["tags"], json!(["Выставка-2026"]));
    let (st, v) = error_of(
        s.http
            .delete(format!("{}/api/v1/leads/{a}/tags/VIP", s.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "tag_not_on_lead", "{v}");

    // Many leads at once.
    let r = s
        .post("/api/v1/leads/bulk", token)
        .json(&json!({"ids": [a, b], "action": "tag", "tag": "Звонок"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["changed"], json!([a, b]), "{v}");
    let list = s
        .json(
            "/api/v1/leads?tag=%D0%B7%D0%B2%D0%BE%D0%BD%D0%BE%D0%BA",
            token,
        )
        .await;
    assert_eq!(list["total"], 2, "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_is_renamed_and_removed_on_every_lead_over_the_api() {
    let (s, ids) = with_two_leads().await;
    let (a, b) = (ids[0], ids[1]);
    let token = &s.admin_token;
    for (id, tag) in [(a, "Выставка"), (b, "ВЫСТАВКА"), (a, "Expo")] {
        let r = s
            .post(&format!("/api/v1/leads/{id}/tags"), token)
            .json(&json!({ "tag": tag }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    // Renamed, written into the path in any case: into a tag in use, the two are one.
    let r = s
        .put("/api/v1/tags/%D0%B2%D1%8B%D1%81%D1%82%D0%B0%D0%B2%D0%BA%D0%B0")
        .json(&json!({ "tag": "Expo" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v, json!({ "tag": "Expo", "leads": 2 }));
    let in_use = s.json("/api/v1/tags", token).await;
    assert_eq!(in_use, json!([{ "tag": "Expo", "leads": 2 }]), "{in_use}");
    let detail = s.json(&format!("/api/v1/leads/{a}"), token).await;
    assert_eq!(detail["tags"], json!(["Expo"]), "{detail}");

    // Refusals: an empty name, an unknown field, a tag no lead has, a salesperson.
    let (st, v) = error_of(
        s.put("/api/v1/tags/Expo")
            .json(&json!({ "tag": "  " }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["fields"][0]["field"], "tag", "{v}");
    let (st, v) = error_of(
        s.put("/api/v1/tags/Expo")
            .json(&json!({ "name": "x" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(st.is_client_error(), "{st} {v}");
    assert_eq!(s.json("/api/v1/tags", token).await[0]["tag"], "Expo");
    let (st, v) = error_of(
        s.put("/api/v1/tags/nothing")
            .json(&json!({ "tag": "x1" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(v["code"], "tag_not_found", "{v}");
    let seller = s
        .app
        .add_user("sp@mail.ru", "Sam", "a good password", Role::Salesperson)
        .await
        .unwrap();
    let theirs = s.token(&[Scope::LeadsWrite], Some(seller.id)).await;
    let (st, v) = error_of(
        s.http
            .delete(format!("{}/api/v1/tags/Expo", s.base))
            .bearer_auth(&theirs)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "role_cannot_manage_tags", "{v}");

    // Removed from every lead; many leads lose a tag with the bulk change too.
    let r = s
        .http
        .delete(format!("{}/api/v1/tags/EXPO", s.base))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v, json!({ "tag": "EXPO", "leads": 2 }));
    assert_eq!(s.json("/api/v1/tags", token).await, json!([]));
    for id in [a, b] {
        s.post(&format!("/api/v1/leads/{id}/tags"), token)
            .json(&json!({ "tag": "Звонок" }))
            .send()
            .await
            .unwrap();
    }
    let r = s
        .post("/api/v1/leads/bulk", token)
        .json(&json!({"ids": [a, b], "action": "untag", "tag": "звонок"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["changed"], json!([a, b]), "{v}");
    assert_eq!(s.json("/api/v1/tags", token).await, json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_read_over_the_api() {
    let (s, ids) = with_two_leads().await;
    let token = &s.admin_token;
    for (id, tag) in [(ids[0], "Один"), (ids[1], "Два")] {
        let r = s
            .post(&format!("/api/v1/leads/{id}/tags"), token)
            .json(&json!({ "tag": tag }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    }
    let page = s.json("/api/v1/audit?action=tag&limit=1", token).await;
    assert_eq!(page.as_array().map(Vec::len), Some(1), "{page}");
    assert_eq!(page[0]["after"], "Два", "{page}");
    let older = s
        .json(
            &format!("/api/v1/audit?action=tag&before={}", page[0]["id"]),
            token,
        )
        .await;
    assert_eq!(older.as_array().map(Vec::len), Some(1), "{older}");
    assert_eq!(older[0]["after"], "Один", "{older}");
    let none = s
        .json(
            "/api/v1/audit?entity=tag&from=2020-01-01&to=2020-01-02",
            token,
        )
        .await;
    assert_eq!(none, json!([]));

    // Refusals: a number that is not, a moment that is not, an unknown format or field, a
    // token that is not an administrator's.
    for (path, status) in [
        ("/api/v1/audit?limit=ten", StatusCode::UNPROCESSABLE_ENTITY),
        (
            "/api/v1/audit?from=yesterday",
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("/api/v1/audit?format=xml", StatusCode::BAD_REQUEST),
        ("/api/v1/audit?who=1", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (st, v) = error_of(s.get(path, token).send().await.unwrap()).await;
        assert_eq!(st, status, "{path}: {v}");
    }
    let reader = s.token(&[Scope::LeadsRead], None).await;
    let (st, v) = error_of(s.get("/api/v1/audit", &reader).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");

    // The CSV.
    let r = s
        .get("/api/v1/audit?action=tag&format=csv", token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let body = r.text().await.unwrap();
    assert_eq!(
        body.trim_start_matches('\u{feff}').lines().count(),
        3,
        "{body}"
    );
}
