//! The REST API and the public capture endpoint over real HTTP on 127.0.0.1:0.

use reqwest::StatusCode;
use serde_json::{json, Value};
use voronka_app::{App, Settings};
use voronka_core::{Role, Scope, ScopeSet};
use voronka_server::{AppState, ServerConfig};

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(
        app.clone(),
        ServerConfig {
            max_body_bytes: 64 * 1024,
            capture_per_ip_per_sec: capture_rate,
            public_url: base.clone(),
            secure_cookies: false,
        },
    );
    tokio::spawn(voronka_server::serve(listener, state));
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
    let body = json!({"name": "Anna", "email": "anna@example.com"});
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
    let (st, _) = error_of(
        raw(b"{\"name\":{\"a\":1}}".to_vec(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
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
    let (st, _) = error_of(
        s.http
            .post(format!("{}/f/nope", s.base))
            .json(&json!({"name": "x"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
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
        .json(&json!({"name": "Cors", "email": "cors@example.com"}))
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
            .json(&json!({"name": h, "email": format!("h{i}@example.com")}))
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
            .json(&json!({"name": "Fast", "email": format!("f{i}@example.com")}))
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
            .json(&json!({"name": "X", "email": "x@example.com"}))
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
        .add_user("s1@example.com", "S1", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let s2 = s
        .app
        .add_user("s2@example.com", "S2", "password-2", Role::Salesperson)
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
    let (_, t2) = s
        .app
        .create_token(
            "s2",
            ScopeSet::new(vec![Scope::LeadsRead, Scope::LeadsWrite]),
            Some(s2.id),
            None,
        )
        .await
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..4 {
        let r = s.post("/api/v1/leads", &admin).json(&json!({"name": format!("Lead {i}"), "email": format!("l{i}@example.com"), "product": "CRM", "value": "1500.50", "currency": "EUR"})).send().await.unwrap();
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
    let r = s
        .post(&format!("/api/v1/leads/{}/refuse", ids[1]), &admin)
        .json(&json!({"reason": "Too expensive", "freeze_until": "2099-01-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["stage"], "refused");
    assert!(v["frozen_until"].as_i64().unwrap() > 4_000_000_000_000);
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
    let (st, _) = error_of(s.get("/api/v1/leads/abc", &admin).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = error_of(s.get("/api/v1/leads/999999", &admin).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = error_of(s.get("/api/v1/nothing", &admin).send().await.unwrap()).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = error_of(
        s.post("/api/v1/users", &admin)
            .json(&json!({"email": "s1@example.com", "password": "password-9", "role": "viewer"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);

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
