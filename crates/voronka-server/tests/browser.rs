//! The widget and the pages in a real browser: Debian's Chromium driven through chromedriver
//! (started here) with WebDriver. The widget is embedded in a page served by a second HTTP
//! server on another port, so it runs cross-origin the way it does on a customer's site.
//! Screenshots go to `target/test-artifacts/`.

mod common;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use voronka_app::{App, Settings};
use voronka_core::{Role, Scope, ScopeSet};
use voronka_server::ServerConfig;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ADMIN_EMAIL: &str = "admin@example.com";
const PASSWORD: &str = "correct horse battery";

/// The tracker's events sent and not yet answered for, as a JavaScript expression.
const TRACKER_KEPT: &str = "JSON.parse(localStorage.getItem('voronka:events') || '[]')";

/// One browser at a time: the machines running the suite are small.
static BROWSER_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Voronka {
    base: String,
    token: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn voronka() -> Voronka {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("b.db").display());
    let app = App::open(&url, Settings::default()).await.unwrap();
    app.add_user(ADMIN_EMAIL, "Anna Admin", PASSWORD, Role::Admin)
        .await
        .unwrap();
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
    Voronka {
        base,
        token,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Voronka {
    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let v: Value = resp.json().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {v}");
        v
    }

    /// A tracking site accepting events from `origin`; returns its embed code.
    async fn tracking_site(&self, origin: &str) -> String {
        let site = self
            .api(
                reqwest::Method::POST,
                "/api/v1/tracking-sites",
                Some(json!({"name": "Acme", "origins": [origin]})),
            )
            .await;
        site["embed"].as_str().unwrap().to_string()
    }

    /// A form admitting posts from `origin` only; returns (id, key).
    async fn form(&self, origin: &str, def: Value) -> (i64, String) {
        let f = self
            .api(
                reqwest::Method::POST,
                "/api/v1/forms",
                Some(json!({"name": "Site form", "min_fill_ms": 0, "allowed_origins": [origin]})),
            )
            .await;
        let id = f["id"].as_i64().unwrap();
        let f = self
            .api(
                reqwest::Method::PUT,
                &format!("/api/v1/forms/{id}/definition"),
                Some(def),
            )
            .await;
        (id, f["public_key"].as_str().unwrap().to_string())
    }

    /// The code Voronka gives a site to paste for this form.
    async fn embed_code(&self, form_id: i64) -> String {
        let v = self
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/forms/{form_id}/embed"),
                None,
            )
            .await;
        v["embed_code"].as_str().unwrap().to_string()
    }

    /// Posts a JSON submission to a form; it must make a lead.
    async fn capture(&self, key: &str, body: Value) -> Value {
        let out: Value = self
            .http
            .post(format!("{}/f/{key}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(out["result"], "lead", "{out}");
        out
    }

    async fn leads(&self) -> Vec<Value> {
        let v = self
            .api(reqwest::Method::GET, "/api/v1/leads?limit=50", None)
            .await;
        v["items"].as_array().cloned().unwrap_or_default()
    }

    async fn lead(&self, id: &Value) -> Value {
        self.api(reqwest::Method::GET, &format!("/api/v1/leads/{id}"), None)
            .await
    }

    /// Waits until there are `n` leads, then returns them.
    async fn wait_leads(&self, n: usize, within: Duration) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let l = self.leads().await;
            if l.len() >= n || start.elapsed() > within {
                return l;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The customer's site: another port, so another origin. Serves one page.
async fn site(html: impl Fn(&str) -> String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let page = html(&origin);
    serve_page(listener, page);
    origin
}

/// Serves one page at `/` of the customer's site.
fn serve_page(listener: tokio::net::TcpListener, page: String) {
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(move || {
            let page = page.clone();
            async move { axum::response::Html(page) }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
}

fn page_with(body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Customer site</title></head>\
         <body><h1>Acme windows</h1><p>We make windows.</p>{body}<p>Footer</p></body></html>"
    )
}

struct Browser {
    client: Client,
    driver: Child,
    driver_url: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(javascript: bool) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{CHROMEDRIVER} did not start ({e}); scripts/test installs it")
            });
        let driver_url = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "chromedriver did not listen"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let mut opts = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1200,900",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        });
        if !javascript {
            opts["prefs"] = json!({"profile.managed_default_content_settings.javascript": 2});
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), opts);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&driver_url)
            .await
            .expect("a WebDriver session with Chromium");
        Browser {
            client,
            driver,
            driver_url,
            _profile: profile,
        }
    }

    /// Opens a page of Voronka.
    /// Signs in as the administrator through the login page, landing on the inbox.
    async fn sign_in(&self, v: &Voronka) {
        self.client
            .goto(&format!("{}/login", v.base))
            .await
            .unwrap();
        for (css, text) in [
            ("input[name='email']", ADMIN_EMAIL),
            ("input[name='password']", PASSWORD),
        ] {
            self.client
                .find(Locator::Css(css))
                .await
                .unwrap()
                .send_keys(text)
                .await
                .unwrap();
        }
        self.click("form button[type='submit']").await;
        self.until(
            "the inbox after signing in",
            "return location.pathname === '/leads'",
            Duration::from_secs(10),
        )
        .await;
    }

    async fn open(&self, v: &Voronka, path: &str) {
        self.client
            .goto(&format!("{}{path}", v.base))
            .await
            .unwrap();
    }

    /// Clicks the element `css` selects.
    async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .unwrap();
    }

    async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/test-artifacts");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    /// The widget's shadow root for a form key, once it has rendered.
    async fn widget(&self, key: &str) -> fantoccini::elements::ShadowRoot {
        let host = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(&format!("[data-voronka='{key}']")))
            .await
            .expect("the widget renders");
        host.shadow_root().await.unwrap()
    }

    /// Polls a script until it returns true.
    async fn until(&self, what: &str, script: &str, within: Duration) {
        let start = Instant::now();
        loop {
            let v = self.client.execute(script, vec![]).await.unwrap();
            if v == Value::Bool(true) {
                return;
            }
            assert!(start.elapsed() < within, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends what the tracker holds and waits until the server has answered for all of it
    /// (nothing left in its store of unanswered events).
    async fn flush_tracker(&self, what: &str) {
        self.client
            .execute("window.voronka.flush(); return true;", vec![])
            .await
            .unwrap();
        self.until(
            what,
            &format!("return {TRACKER_KEPT}.length === 0"),
            Duration::from_secs(10),
        )
        .await;
    }

    /// Chromium's network emulation through chromedriver: offline or back online.
    async fn set_offline(&self, offline: bool) {
        let sid = self.client.session_id().await.unwrap().unwrap();
        let url = format!(
            "{}/session/{sid}/chromium/network_conditions",
            self.driver_url
        );
        let http = reqwest::Client::new();
        let r = if offline {
            http.post(url)
                .json(
                    &json!({"network_conditions": {"offline": true, "latency": 0,
                    "download_throughput": 0, "upload_throughput": 0}}),
                )
                .send()
                .await
        } else {
            http.delete(url).send().await
        }
        .unwrap();
        assert!(
            r.status().is_success(),
            "network conditions: {}",
            r.status()
        );
    }

    async fn finish(mut self) {
        let _ = self.client.close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

const HOST: &str = "document.querySelector('[data-voronka]')";

fn quiz() -> Value {
    json!({
        "kind": "quiz",
        "title": "Find your window",
        "fields": [{"kind": "name", "required": true}, {"kind": "phone", "required": true}],
        "consent": {"text": "I agree to the processing of my personal data", "policy_url": "https://example.com/privacy"},
        "steps": [
            {"id": "who", "question": "Who are you?", "options": [
                {"id": "biz", "label": "A company", "fit": 20, "next": "size"},
                {"id": "home", "label": "A home owner", "next": "when"},
                {"id": "student", "label": "A student", "disqualify": true}]},
            {"id": "size", "question": "How many windows?", "options": [
                {"id": "few", "label": "Up to 10", "fit": 5},
                {"id": "many", "label": "More than 100", "fit": 20, "next": "contact"}]},
            {"id": "when", "question": "When?", "options": [
                {"id": "now", "label": "This month", "intent": 30},
                {"id": "later", "label": "Later", "intent": 5}]}
        ]
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branching_quiz_from_another_origin() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let key_cell = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    // The site's origin must be known to allow it, and the page must name the key: bind first.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (id, key) = v.form(&origin, quiz()).await;
    *key_cell.lock().unwrap() = key.clone();
    // The page carries the embed code exactly as Voronka gives it to the site.
    let embed = v.embed_code(id).await;
    let embed = embed.as_str();
    assert!(
        embed.contains(&format!(
            "rel=\"preload\" href=\"{}/f/{key}/config\"",
            v.base
        )),
        "{embed}"
    );
    let page = page_with(embed);
    serve_page(listener, page);

    let b = Browser::start(true).await;
    b.client
        .goto(&format!("{origin}/?utm_source=yandex&utm_campaign=spring"))
        .await
        .unwrap();
    // First render: from the moment the script starts to the form in place, in the page's own
    // clock. Measured on the first (cold) load and two reloads; each is held to the target (the
    // embed code preloads the configuration, so even the cold load needs no second round trip).
    let mut renders = Vec::new();
    for load in 0..3 {
        if load > 0 {
            b.client.refresh().await.unwrap();
        }
        b.widget(&key).await;
        let ms: f64 = b
            .client
            .execute(
                &format!("return {HOST}.getAttribute('data-render-ms')"),
                vec![],
            )
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let config_ms = b
            .client
            .execute(
                &format!("return {HOST}.getAttribute('data-config-ms')"),
                vec![],
            )
            .await
            .unwrap();
        println!("widget first render, load {}: {ms:.1} ms after the script started (configuration after {} ms)", load + 1, config_ms.as_str().unwrap_or("?"));
        renders.push(ms);
    }
    let w = b.widget(&key).await;
    let render_ms = renders.iter().copied().fold(0.0, f64::max);
    println!("widget first render: slowest {render_ms:.1} ms of {renders:?}");
    b.screenshot("quiz-step-1").await;
    // A company: the branch goes to the size question, and "more than 100" straight to contact.
    w.find(Locator::Css("[data-option='biz']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the size step",
        &format!("return !!{HOST}.shadowRoot.querySelector(\"fieldset[data-step='size']\")"),
        Duration::from_secs(5),
    )
    .await;
    w.find(Locator::Css("[data-option='many']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let name = w.find(Locator::Css("input[name='name']")).await.unwrap();
    name.send_keys("Olga Smirnova").await.unwrap();
    w.find(Locator::Css("input[name='phone']"))
        .await
        .unwrap()
        .send_keys("9161234567")
        .await
        .unwrap();
    let masked = b
        .client
        .execute(
            &format!("return {HOST}.shadowRoot.querySelector(\"input[name='phone']\").value"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(masked, "(916) 123-45-67");
    // Required consent is checked in the page before anything is sent.
    w.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let err = w
        .find(Locator::Css("#e-consent"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!err.is_empty(), "the missing consent is announced");
    w.find(Locator::Css("input[name='consent']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.screenshot("quiz-contact-step").await;
    w.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the thank-you message",
        &format!(
            "return {HOST}.shadowRoot.querySelector('.vk').getAttribute('data-result') === 'lead'"
        ),
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("quiz-thank-you").await;
    b.finish().await;

    let leads = v.leads().await;
    assert_eq!(leads.len(), 1);
    let lead = v.lead(&leads[0]["id"]).await;
    assert_eq!(lead["contact"]["full_name"], "Olga Smirnova");
    assert_eq!(lead["contact"]["phones"][0]["e164"], "+79161234567");
    assert_eq!(lead["lead"]["source"], "yandex");
    let t = &lead["touches"][0];
    let steps: Vec<(&str, &str)> = t["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["step"].as_str().unwrap(),
                a["answers"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(steps, vec![("who", "A company"), ("size", "More than 100")]);
    assert_eq!(
        t["consent_text"],
        "I agree to the processing of my personal data"
    );
    assert!(t["attribution"]["landing_page"]
        .as_str()
        .unwrap()
        .starts_with(&origin));
    assert!(
        render_ms <= 100.0,
        "a first render took {render_ms} ms (of {renders:?}), over the 100 ms target"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_form_works_without_javascript() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (id, key) = v
        .form(
            &origin,
            json!({"thank_you": "Thanks, we will call you today.",
                   "fields": [{"kind": "name", "required": true}, {"kind": "phone"}, {"kind": "email"}]}),
        )
        .await;
    let page = page_with(&v.embed_code(id).await);
    serve_page(listener, page);

    let b = Browser::start(false).await;
    b.client.goto(&origin).await.unwrap();
    let form = b
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css("form.voronka-form"))
        .await
        .unwrap();
    // No script ran, so no widget.
    assert!(b
        .client
        .find(Locator::Css(&format!("[data-voronka='{key}']")))
        .await
        .is_err());
    form.find(Locator::Css("input[name='name']"))
        .await
        .unwrap()
        .send_keys("Boris Plain")
        .await
        .unwrap();
    form.find(Locator::Css("input[name='phone']"))
        .await
        .unwrap()
        .send_keys("+7 916 765-43-21")
        .await
        .unwrap();
    b.screenshot("nojs-form").await;
    form.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let body = b
        .client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::XPath(
            "//*[contains(text(), 'Thanks, we will call you today.')]",
        ))
        .await;
    assert!(body.is_ok(), "the thank-you page is shown");
    b.screenshot("nojs-thanks").await;
    b.finish().await;
    let leads = v.leads().await;
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["contact_name"], "Boris Plain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callback_button_makes_a_hot_callback_lead() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (_, key) = v
        .form(&origin, json!({"kind": "callback", "language": "ru"}))
        .await;
    let page = page_with(&format!(
        "<script src=\"{}/w.js\" data-form=\"{key}\" async></script>",
        v.base
    ));
    serve_page(listener, page);

    let b = Browser::start(true).await;
    b.client.goto(&origin).await.unwrap();
    let w = b.widget(&key).await;
    let fab = w.find(Locator::Css("button.fab")).await.unwrap();
    assert_eq!(fab.text().await.unwrap(), "Перезвоните мне");
    b.screenshot("callback-button").await;
    fab.click().await.unwrap();
    let phone = w.find(Locator::Css("input[name='phone']")).await.unwrap();
    phone.send_keys("9035551122").await.unwrap();
    w.find(Locator::Css("input[name='name']"))
        .await
        .unwrap()
        .send_keys("Вера")
        .await
        .unwrap();
    b.screenshot("callback-dialog").await;
    w.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the callback to be accepted",
        &format!(
            "return {HOST}.shadowRoot.querySelector('.vk').getAttribute('data-result') === 'lead'"
        ),
        Duration::from_secs(10),
    )
    .await;
    b.finish().await;
    let leads = v.leads().await;
    assert_eq!(leads.len(), 1);
    let lead = v.lead(&leads[0]["id"]).await;
    assert_eq!(lead["lead"]["kind"], "callback");
    assert_eq!(lead["lead"]["temperature"], "hot");
    assert_eq!(lead["contact"]["phones"][0]["e164"], "+79035551122");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_intent_popup_opens_once_and_counts_a_view() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (id, key) = v
        .form(
            &origin,
            json!({"title": "Wait! 10% off", "offer": "Leave your email and get the discount",
                   "popup": {"trigger": "exit"},
                   "fields": [{"kind": "name", "required": true}, {"kind": "email", "required": true}]}),
        )
        .await;
    let page = page_with(&format!(
        "<script src=\"{}/w.js\" data-form=\"{key}\" async></script>",
        v.base
    ));
    serve_page(listener, page);

    let b = Browser::start(true).await;
    b.client.goto(&origin).await.unwrap();
    let w = b.widget(&key).await;
    let overlay_hidden = format!("return {HOST}.shadowRoot.querySelector('.ov').hidden");
    assert_eq!(
        b.client.execute(&overlay_hidden, vec![]).await.unwrap(),
        true
    );
    let views = |s: Value| s["items"][0]["views"].as_i64().unwrap();
    let stats = v
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/forms/{id}/variants"),
            None,
        )
        .await;
    assert_eq!(views(stats), 0, "a popup not shown is not a view");
    // The pointer leaves the page through its top edge, toward the tabs.
    b.client
        .execute(
            "document.dispatchEvent(new MouseEvent('mouseout', {clientX: 600, clientY: 0, bubbles: true, relatedTarget: null}))",
            vec![],
        )
        .await
        .unwrap();
    b.until(
        "the popup",
        &format!("return {HOST}.shadowRoot.querySelector('.ov').hidden === false"),
        Duration::from_secs(5),
    )
    .await;
    b.screenshot("exit-intent-popup").await;
    // The email typo is pointed out before sending, and fixed with one click.
    w.find(Locator::Css("input[name='name']"))
        .await
        .unwrap()
        .send_keys("Ivan Popup")
        .await
        .unwrap();
    let email = w.find(Locator::Css("input[name='email']")).await.unwrap();
    email.send_keys("ivan@gmial.com").await.unwrap();
    w.find(Locator::Css("input[name='name']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the suggestion",
        &format!("return !!{HOST}.shadowRoot.querySelector('#e-email button.sug')"),
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("email-suggestion").await;
    w.find(Locator::Css("#e-email button.sug"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    w.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the thank-you message",
        &format!(
            "return {HOST}.shadowRoot.querySelector('.vk').getAttribute('data-result') === 'lead'"
        ),
        Duration::from_secs(10),
    )
    .await;
    b.finish().await;
    let leads = v.leads().await;
    assert_eq!(leads.len(), 1);
    assert_eq!(leads[0]["email"], "ivan@gmail.com");
    let stats = v
        .api(
            reqwest::Method::GET,
            &format!("/api/v1/forms/{id}/variants"),
            None,
        )
        .await;
    assert_eq!(stats["items"][0]["views"], 1);
    assert_eq!(stats["items"][0]["submits"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_submission_is_sent_once_when_back_online() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (_, key) = v
        .form(&origin, json!({"fields": [{"kind": "name", "required": true}, {"kind": "phone", "required": true}]}))
        .await;
    let page = page_with(&format!(
        "<script src=\"{}/w.js\" data-form=\"{key}\" async></script>",
        v.base
    ));
    serve_page(listener, page);

    let b = Browser::start(true).await;
    b.client.goto(&origin).await.unwrap();
    let w = b.widget(&key).await;
    w.find(Locator::Css("input[name='name']"))
        .await
        .unwrap()
        .send_keys("Olga Offline")
        .await
        .unwrap();
    w.find(Locator::Css("input[name='phone']"))
        .await
        .unwrap()
        .send_keys("9167778899")
        .await
        .unwrap();
    b.set_offline(true).await;
    w.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the submission to be queued",
        &format!("return {HOST}.shadowRoot.querySelector('.vk').getAttribute('data-result') === 'queued'"),
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("offline-queued").await;
    let queued = b
        .client
        .execute(
            &format!("return JSON.parse(localStorage.getItem('voronka:q:{key}')).length"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(queued, 1);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(v.leads().await.is_empty(), "nothing arrives while offline");
    b.set_offline(false).await;
    let leads = v.wait_leads(1, Duration::from_secs(20)).await;
    assert_eq!(leads.len(), 1, "the queued submission arrives");
    b.until(
        "the thank-you message",
        &format!(
            "return {HOST}.shadowRoot.querySelector('.vk').getAttribute('data-result') === 'lead'"
        ),
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("offline-recovered").await;
    // A reload finds an empty queue; nothing is sent twice.
    b.client.refresh().await.unwrap();
    b.widget(&key).await;
    let left = b
        .client
        .execute(
            &format!("return localStorage.getItem('voronka:q:{key}')"),
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(left, Value::Null);
    tokio::time::sleep(Duration::from_secs(2)).await;
    b.finish().await;
    let leads = v.leads().await;
    assert_eq!(leads.len(), 1);
    let lead = v.lead(&leads[0]["id"]).await;
    assert_eq!(lead["lead"]["touches"], 1, "exactly one touch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_name_is_shown_as_text_on_the_lead_card() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let origin = site(|_| String::new()).await;
    let (_, key) = v.form(&origin, json!({})).await;
    let hostile = "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">Eve";
    let out = v
        .capture(&key, json!({"name": hostile, "phone": "+7 916 111-22-33"}))
        .await;

    let b = Browser::start(true).await;
    b.sign_in(&v).await;
    b.open(&v, &format!("/leads/{}", out["lead_id"])).await;
    let h1 = b
        .client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(h1.contains("<script>window.__pwned=1</script>"), "{h1}");
    assert!(h1.contains("<img src=x"), "{h1}");
    let pwned = b
        .client
        .execute("return window.__pwned === undefined", vec![])
        .await
        .unwrap();
    assert_eq!(pwned, true, "no script from the name ran");
    let imgs = b
        .client
        .execute(
            "return document.querySelectorAll('img[src=\"x\"]').length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(imgs, 0);
    b.screenshot("hostile-name-lead-card").await;

    // A refused action shows the card again with what was typed, at the card's own address.
    let out = v
        .capture(
            &key,
            json!({"name": "Ольга Петрова", "phone": "+7 916 222-33-44"}),
        )
        .await;
    b.open(&v, &format!("/leads/{}", out["lead_id"])).await;
    let amount = b
        .client
        .find(Locator::Css(
            "form[action$='/convert'] input[name='amount']",
        ))
        .await
        .unwrap();
    amount.clear().await.unwrap();
    amount.send_keys("двенадцать").await.unwrap();
    b.click("form[action$='/convert'] button[type='submit']")
        .await;
    b.until(
        "the refused conversion's message",
        "return !!document.querySelector('.flash-error')",
        Duration::from_secs(10),
    )
    .await;
    let (path, typed) = (
        b.client
            .execute("return location.pathname", vec![])
            .await
            .unwrap(),
        b.client
            .execute(
                "return document.querySelector(\"form[action$='/convert'] input[name='amount']\").value",
                vec![],
            )
            .await
            .unwrap(),
    );
    assert_eq!(path, format!("/leads/{}", out["lead_id"]));
    assert_eq!(typed, "двенадцать");

    // The work queue's call-back time carries the browser's time zone.
    v.api(
        reqwest::Method::POST,
        &format!("/api/v1/leads/{}/assign", out["lead_id"]),
        Some(json!({"owner_id": 1})),
    )
    .await;
    // A task's due time is shown in the browser's zone, its UTC text kept as the title.
    let due = chrono::Utc::now().timestamp_millis() + 3 * 3_600_000;
    v.api(
        reqwest::Method::POST,
        "/api/v1/tasks",
        Some(json!({"lead_id": out["lead_id"], "kind": "call", "title": "Перезвонить", "due_at": due, "owner_id": 1})),
    )
    .await;
    b.open(&v, "/work").await;
    let shown = b
        .client
        .execute(
            "const t = document.querySelector('#tasks time[data-local]'); \
             return [t.textContent, t.title, new Date(t.getAttribute('datetime')).getTime()]",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        shown[1].as_str().is_some_and(|t| t.ends_with("UTC"))
            && shown[0]
                .as_str()
                .is_some_and(|t| !t.is_empty() && !t.ends_with("UTC")),
        "{shown}"
    );
    assert_eq!(shown[2].as_i64(), Some(due / 1000 * 1000), "{shown}");
    let zone = b
        .client
        .execute(
            "return [document.querySelector('input[data-tz]').value, \
             Intl.DateTimeFormat().resolvedOptions().timeZone]",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        zone[0].as_str().is_some_and(|z| !z.is_empty()) && zone[0] == zone[1],
        "{zone}"
    );

    // The inbox's selection: the box in the head chooses every row, "x" takes the current row
    // back out, and the bar's change applies to the rows still chosen.
    b.open(&v, "/leads").await;
    b.click("input[data-select-all]").await;
    let picked = b
        .client
        .execute(
            "return [document.querySelectorAll('input[name=id]:checked').length, \
             document.querySelectorAll('input[name=id]').length, \
             document.querySelector('[data-selected]').textContent]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(picked[0], picked[1], "{picked}");
    assert_eq!(picked[2], picked[0].to_string(), "{picked}");
    let rows = picked[1].as_i64().unwrap();
    assert!(rows >= 2, "{picked}");
    let after = b
        .client
        .execute(
            "document.activeElement.blur(); \
             for (const k of ['j', 'x']) document.dispatchEvent(new KeyboardEvent('keydown', {key: k, bubbles: true})); \
             return [document.querySelectorAll('input[name=id]:checked').length, \
             document.querySelector('[data-selected]').textContent, \
             document.querySelector('input[data-select-all]').indeterminate]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(after[0].as_i64(), Some(rows - 1), "{after}");
    assert_eq!(after[1], (rows - 1).to_string(), "{after}");
    assert_eq!(after[2], true, "{after}");
    // The bar shows the fields of the chosen change only: none at first, a refusal's comment and
    // date for a refusal, the reason for junk, the tag for a tag.
    let shown_fields = "return Array.from(document.querySelectorAll('.bulk-bar [data-for]')) \
         .filter(e => e.offsetParent !== null).map(e => e.getAttribute('data-for') + ':' + \
         (e.getAttribute('name') || e.querySelector('input').getAttribute('name'))).join(' ')";
    let choose =
        "const s = document.querySelector('select[name=action]'); s.value = arguments[0]; \
         s.dispatchEvent(new Event('change', {bubbles: true}))";
    let fields = b.client.execute(shown_fields, vec![]).await.unwrap();
    assert_eq!(fields, "", "{fields}");
    let refuse = b
        .client
        .execute(
            "return Array.from(document.querySelectorAll('select[name=action] option')) \
             .map(o => o.value).find(v => v.startsWith('refuse:'))",
            vec![],
        )
        .await
        .unwrap();
    assert!(refuse.as_str().is_some(), "{refuse}");
    b.client.execute(choose, vec![refuse]).await.unwrap();
    let fields = b.client.execute(shown_fields, vec![]).await.unwrap();
    assert_eq!(fields, "refuse:comment refuse:freeze_until", "{fields}");
    b.client.execute(choose, vec!["junk".into()]).await.unwrap();
    let fields = b.client.execute(shown_fields, vec![]).await.unwrap();
    assert_eq!(fields, "junk:reason", "{fields}");
    // Adding and removing a tag share the tag field.
    for kind in ["tag", "untag"] {
        b.client.execute(choose, vec![kind.into()]).await.unwrap();
        let fields = b.client.execute(shown_fields, vec![]).await.unwrap();
        assert_eq!(fields, "tag untag:tag", "{kind}: {fields}");
    }
    b.client
        .execute(choose, vec!["temperature:cold".into()])
        .await
        .unwrap();
    let fields = b.client.execute(shown_fields, vec![]).await.unwrap();
    assert_eq!(fields, "", "{fields}");
    b.click(".bulk-bar button[type='submit']").await;
    b.until(
        "the change's summary",
        "return !!document.querySelector('.flash-ok')",
        Duration::from_secs(10),
    )
    .await;
    let said = b
        .client
        .find(Locator::Css(".flash-ok"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let expected = if rows - 1 == 1 {
        "1 lead changed.".to_string()
    } else {
        format!("{} leads changed.", rows - 1)
    };
    assert_eq!(said, expected);
    b.screenshot("inbox-selection").await;
    b.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracker_joins_page_views_to_the_lead_of_the_visitor() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let embed = v.tracking_site(&origin).await;
    let (_, key) = v
        .form(&origin, json!({"kind": "callback", "language": "en"}))
        .await;
    // The pricing block reports itself when the page loads; the form is the callback button.
    let page = page_with(&format!(
        "{embed}<section data-voronka-event=\"view_pricing\" data-voronka-plan=\"pro\"><h2>Prices</h2></section>\
         <script src=\"{}/w.js\" data-form=\"{key}\" async></script>",
        v.base
    ));
    serve_page(listener, page);

    let b = Browser::start(true).await;
    b.client.goto(&origin).await.unwrap();
    // Tracker and widget share the first-party visitor id.
    b.until(
        "the tracker to set the visitor id",
        "return !!(window.voronka && window.voronka.visitor && localStorage.getItem('voronka:visitor') === window.voronka.visitor)",
        Duration::from_secs(10),
    )
    .await;
    // A custom event through the page's own call.
    b.client
        .execute(
            "window.voronka.track('price_calculator', {rooms: 3}); return true;",
            vec![],
        )
        .await
        .unwrap();
    let w = b.widget(&key).await;
    w.find(Locator::Css("button.fab"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    w.find(Locator::Css("input[name='phone']"))
        .await
        .unwrap()
        .send_keys("9035551133")
        .await
        .unwrap();
    w.find(Locator::Css("input[name='name']"))
        .await
        .unwrap()
        .send_keys("Вера Тестова")
        .await
        .unwrap();
    w.find(Locator::Css("button[type='submit']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.until(
        "the callback to be accepted",
        &format!(
            "return {HOST}.shadowRoot.querySelector('.vk').getAttribute('data-result') === 'lead'"
        ),
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("tracker-callback").await;
    // Whatever the tracker still holds goes now, with the browser open.
    b.client
        .execute("window.voronka.flush(); return true;", vec![])
        .await
        .unwrap();
    let leads = v.wait_leads(1, Duration::from_secs(10)).await;
    assert_eq!(leads.len(), 1);
    let id = leads[0]["id"].clone();
    // The page view, the pricing block and the custom event all reach the lead's score.
    let start = Instant::now();
    let explained = loop {
        let e = v
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/leads/{id}/score"),
                None,
            )
            .await;
        let rules: Vec<String> = e["score"]["contributions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["rule"].as_str().unwrap_or("").to_string())
            .collect();
        let custom = e["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["name"] == "price_calculator");
        if custom
            && rules.iter().any(|r| r == "Pricing viewed")
            && rules.iter().any(|r| r == "Page view")
        {
            break e;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the tracked events did not reach the lead: {e}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    b.finish().await;
    assert!(
        explained["score"]["engagement"].as_i64().unwrap() >= 11,
        "{explained}"
    );
    let names: Vec<&str> = explained["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["name"].as_str())
        .collect();
    assert!(names.contains(&"price_calculator"), "{names:?}");
    let pricing = explained["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "view_pricing")
        .unwrap();
    assert_eq!(pricing["properties"]["plan"], "pro");
    assert!(pricing["url"].as_str().unwrap().starts_with(&origin));
}

/// The tracker keeps what it could not send: an event made offline waits in localStorage and
/// goes out once the browser is back online; an event whose answer was lost (kept when the page
/// closed) is sent again by the next page and stored once, by its id; an event kept for days is
/// dated when it was made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracker_keeps_events_made_offline_and_stores_each_once() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let page = page_with(&v.tracking_site(&origin).await);
    serve_page(listener, page);
    const KEPT: &str = TRACKER_KEPT;

    let b = Browser::start(true).await;
    b.client.goto(&origin).await.unwrap();
    b.until(
        "the tracker",
        "return !!(window.voronka && window.voronka.visitor)",
        Duration::from_secs(10),
    )
    .await;
    // The page view goes out and is answered: nothing stays kept.
    b.flush_tracker("the page view to be answered").await;

    b.set_offline(true).await;
    b.client
        .execute(
            "window.voronka.track('offline_event', {n: 1}); window.voronka.flush(); return true;",
            vec![],
        )
        .await
        .unwrap();
    b.until(
        "the event made offline to be kept",
        &format!("var l = {KEPT}; return l.length === 1 && l[0].e.name === 'offline_event' && l[0].t >= 1"),
        Duration::from_secs(10),
    )
    .await;
    let kept = b
        .client
        .execute(&format!("return JSON.stringify({KEPT}[0].e)"), vec![])
        .await
        .unwrap();
    let event: Value = serde_json::from_str(kept.as_str().unwrap()).unwrap();
    assert!(
        event["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{event}"
    );
    b.set_offline(false).await;
    b.until(
        "the kept event to be sent once online",
        &format!("return {KEPT}.length === 0"),
        Duration::from_secs(40),
    )
    .await;

    // As if a page had closed before the answer came: the event is kept again, and the next
    // page sends it again. Beside it, an event kept for two days: it is dated when it was made.
    let two_days_ago = voronka_app::now_ms() - 2 * 86_400_000;
    b.client
        .execute(
            "var old = {id: 'kept-2d', name: 'kept_two_days', visitor_id: window.voronka.visitor, \
             url: location.href, at: Date.now() - 2 * 86400000, properties: {}}; \
             localStorage.setItem('voronka:events', JSON.stringify([{e: JSON.parse(arguments[0]), t: 0}, {e: old, t: 1}])); return true;",
            vec![Value::String(kept.as_str().unwrap().to_string())],
        )
        .await
        .unwrap();
    b.client.refresh().await.unwrap();
    b.until(
        "the next page to send the kept event",
        &format!("return !!(window.voronka && window.voronka.visitor) && {KEPT}.length === 0"),
        Duration::from_secs(10),
    )
    .await;
    b.flush_tracker("the second page view to be answered").await;
    let visitor = b
        .client
        .execute("return window.voronka.visitor", vec![])
        .await
        .unwrap();
    b.finish().await;

    // The visitor leaves a contact: the events join the lead, the offline one once.
    let out = v
        .api(
            reqwest::Method::POST,
            "/api/v1/leads",
            Some(
                json!({"name": "Вера Соколова", "email": "vera.sokolova@mail.ru",
                "visitor_id": visitor}),
            ),
        )
        .await;
    let id = out["lead_id"].clone();
    assert!(id.is_i64(), "{out}");
    let start = Instant::now();
    let (names, old) = loop {
        let e = v
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/leads/{id}/score"),
                None,
            )
            .await;
        let names: Vec<String> = e["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["name"].as_str().map(str::to_string))
            .collect();
        if names.iter().filter(|n| *n == "page_view").count() >= 2 {
            let old = e["events"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["name"] == "kept_two_days")
                .cloned();
            break (names, old);
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the tracked events did not reach the lead: {e}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        names.iter().filter(|n| *n == "offline_event").count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "page_view").count(),
        2,
        "{names:?}"
    );
    // Sent with its age: dated two days back (within the test's own minute), not on arrival.
    let old = old.expect("the event kept for two days reached the lead");
    let at = old["at"].as_i64().unwrap();
    assert!(
        (at - two_days_ago).abs() < 60_000,
        "{old} against {two_days_ago}"
    );
}

/// In the browser: a customer's page offers its namesake, whose merge lands back on the card with
/// what moved; a person's data is erased from their contact page only once the erasure is
/// confirmed (the form will not go without the box ticked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_merge_and_a_person_is_erased_in_the_browser() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let origin = site(|_| String::new()).await;
    let (_, key) = v.form(&origin, json!({})).await;
    let mut leads = Vec::new();
    let mut customers = Vec::new();
    for phone in ["+7 916 700-10-01", "+7 916 700-10-02"] {
        let out = v
            .capture(&key, json!({"name": "Пётр Двойник", "phone": phone}))
            .await;
        let lead = out["lead_id"].as_i64().unwrap();
        let done = v
            .api(
                reqwest::Method::POST,
                &format!("/api/v1/leads/{lead}/convert"),
                Some(json!({"amount_minor": 100_000, "currency": "RUB"})),
            )
            .await;
        leads.push(out);
        customers.push(done["customer_id"].as_i64().unwrap());
    }
    let b = Browser::start(true).await;
    b.sign_in(&v).await;
    b.open(&v, &format!("/customers/{}", customers[1])).await;
    b.screenshot("customer-look-alikes").await;
    b.click("#customer-look-alikes form button[type='submit']")
        .await;
    b.until(
        "the card after the merge",
        "return !!document.querySelector('#customer-merged')",
        Duration::from_secs(10),
    )
    .await;
    let (path, merged) = (
        b.client
            .execute("return location.pathname", vec![])
            .await
            .unwrap(),
        b.client
            .execute(
                "return document.querySelector('#customer-merged').textContent",
                vec![],
            )
            .await
            .unwrap(),
    );
    assert_eq!(path, format!("/customers/{}", customers[1]));
    assert!(
        merged.as_str().unwrap().contains("1 deal and 1 lead moved"),
        "{merged}"
    );
    b.screenshot("customer-merged").await;
    // Undone from the same card once confirmed: the first customer is back on its own.
    b.click("#customer-merged form button[type='submit']").await;
    b.client.accept_alert().await.unwrap();
    b.until(
        "the customer brought back",
        &format!("return location.pathname === '/customers/{}'", customers[0]),
        Duration::from_secs(10),
    )
    .await;

    // The person corrected from their contact page: a new name and an email added.
    let contact = leads[0]["contact_id"].as_i64().unwrap();
    b.open(&v, &format!("/contacts/{contact}")).await;
    b.click("#edit-contact summary").await;
    let name = b
        .client
        .find(Locator::Css("#edit-contact-form [name=name]"))
        .await
        .unwrap();
    name.clear().await.unwrap();
    name.send_keys("Пётр Верный").await.unwrap();
    b.client
        .find(Locator::Css("#edit-contact-form [name=add_email]"))
        .await
        .unwrap()
        .send_keys("petr@verny.ru")
        .await
        .unwrap();
    b.click("#edit-contact-form button[type='submit']").await;
    b.until(
        "the corrected contact",
        "return document.querySelector('h1').textContent.trim() === 'Пётр Верный' && \
         document.body.textContent.includes('petr@verny.ru')",
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("contact-corrected").await;
    b.client
        .find(Locator::Css("form[action$='/erase'] input[name='reason']"))
        .await
        .unwrap()
        .send_keys("Письмо от 1 декабря")
        .await
        .unwrap();
    // Not confirmed: the browser keeps the form.
    b.click("form[action$='/erase'] button[type='submit']")
        .await;
    let kept = b
        .client
        .execute(
            "return [location.pathname, !!document.querySelector('#contact-erased'), \
             document.querySelector('form[action$=\"/erase\"] input[name=confirm]').validity.valueMissing]",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(kept, json!([format!("/contacts/{contact}"), false, true]));
    b.click("form[action$='/erase'] input[name='confirm']")
        .await;
    b.screenshot("contact-erase").await;
    b.click("form[action$='/erase'] button[type='submit']")
        .await;
    b.until(
        "the contact after the erasure",
        "return !!document.querySelector('#contact-erased')",
        Duration::from_secs(10),
    )
    .await;
    let h1 = b
        .client
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "—");
    let body = b
        .client
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The phone is gone; the customer it bought as (merged with its namesake's) keeps the
    // other person's name.
    assert!(
        !body.contains("700-10-01") && body.contains("Personal data erased"),
        "{body}"
    );
    b.screenshot("contact-erased").await;
    b.finish().await;
}

/// The channel report in the browser: spend entered through its form shows in the row of its
/// source as cost per lead and return, the grouping changes with the select, and an entry is
/// deleted once its confirmation is accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_report_weighs_spend_entered_in_the_browser() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let origin = site(|_| String::new()).await;
    let (form_id, key) = v.form(&origin, json!({})).await;
    let mut first = None;
    for phone in [
        "+7 916 710-10-01",
        "+7 916 710-10-02",
        "+7 916 710-10-03",
        "+7 916 710-10-04",
    ] {
        let out = v
            .capture(
                &key,
                json!({"name": "Инна Рекламная", "phone": phone, "utm_source": "yandex", "utm_medium": "cpc"}),
            )
            .await;
        first.get_or_insert(out["lead_id"].as_i64().unwrap());
    }
    let lead = first.unwrap();
    v.api(
        reqwest::Method::POST,
        &format!("/api/v1/leads/{lead}/convert"),
        Some(json!({"amount_minor": 6_000_000, "currency": "RUB"})),
    )
    .await;
    let b = Browser::start(true).await;
    b.sign_in(&v).await;
    b.click("nav a[href='/reports']").await;
    b.until(
        "the channel report",
        "return !!document.querySelector('#channel-report')",
        Duration::from_secs(10),
    )
    .await;
    let today = chrono::Utc::now().date_naive();
    let week_ago = today - chrono::Duration::days(6);
    // Date fields take their value as the browser's own picker would leave it.
    b.client
        .execute(
            "document.querySelector('#add-spend [name=from]').value = arguments[0]; \
             document.querySelector('#add-spend [name=to]').value = arguments[1];",
            vec![json!(week_ago.to_string()), json!(today.to_string())],
        )
        .await
        .unwrap();
    for (css, text) in [
        ("#add-spend [name=source]", "yandex"),
        ("#add-spend [name=medium]", "cpc"),
        ("#add-spend [name=amount]", "20000"),
    ] {
        b.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .send_keys(text)
            .await
            .unwrap();
    }
    b.click("#add-spend button[type='submit']").await;
    b.until(
        "the report with the spend",
        "return !!document.querySelector('#spend-entries')",
        Duration::from_secs(10),
    )
    .await;
    let row = b
        .client
        .execute(
            "const r = [...document.querySelectorAll('#channel-report tbody tr')]\
               .find(r => r.querySelector('th').textContent.trim() === 'yandex'); \
             return [...r.querySelectorAll('td')].map(td => td.textContent.trim());",
            vec![],
        )
        .await
        .unwrap();
    // Interests, leads, junk, MQL, SQL, converted, conversion, revenue, spend, per lead,
    // per customer, return.
    assert_eq!(
        row,
        json!([
            "0",
            "4",
            "0",
            "1",
            "1",
            "1",
            "25.0 %",
            "60\u{202f}000.00 RUB",
            "20\u{202f}000.00 RUB",
            "5\u{202f}000.00 RUB",
            "20\u{202f}000.00 RUB",
            "+200 %"
        ])
    );
    b.screenshot("channel-report").await;

    // Changed from its row: the entry comes into the form, and the report follows the new sum.
    b.click("#spend-entries a").await;
    b.until(
        "the entry in the form",
        "return !!document.querySelector('#h-edit-spend') && \
         document.querySelector('#add-spend [name=amount]').value === '20000.00'",
        Duration::from_secs(10),
    )
    .await;
    let amount = b
        .client
        .find(Locator::Css("#add-spend [name=amount]"))
        .await
        .unwrap();
    amount.clear().await.unwrap();
    amount.send_keys("40 000").await.unwrap();
    b.click("#add-spend button[type='submit']").await;
    b.until(
        "the report with the changed spend",
        "return !document.querySelector('#h-edit-spend') && \
         [...document.querySelectorAll('#spend-entries td')].some(td => td.textContent.includes('40\\u202f000.00'))",
        Duration::from_secs(10),
    )
    .await;
    let row = b
        .client
        .execute(
            "const r = [...document.querySelectorAll('#channel-report tbody tr')]\
               .find(r => r.querySelector('th').textContent.trim() === 'yandex'); \
             return [...r.querySelectorAll('td')].slice(8).map(td => td.textContent.trim());",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        row,
        json!([
            "40\u{202f}000.00 RUB",
            "10\u{202f}000.00 RUB",
            "40\u{202f}000.00 RUB",
            "+50 %"
        ])
    );

    // By form: the form's row opens the inbox of its leads; its spend has no row.
    b.client
        .execute(
            "document.querySelector('#report-filters [name=by]').value = 'form';",
            vec![],
        )
        .await
        .unwrap();
    b.click("#report-filters button[type='submit']").await;
    b.until(
        "the report by form",
        "return location.search.includes('by=form') && !!document.querySelector('#unattributed-spend')",
        Duration::from_secs(10),
    )
    .await;
    let link = b
        .client
        .execute(
            "return document.querySelector('#channel-report tbody th a').getAttribute('href')",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        link.as_str()
            .unwrap()
            .ends_with(&format!("&form={form_id}")),
        "{link}"
    );

    // Deleted once confirmed.
    b.click("#spend-entries button[type='submit']").await;
    b.client.accept_alert().await.unwrap();
    b.until(
        "the report without the spend",
        "return !document.querySelector('#spend-entries') && location.search.includes('by=form')",
        Duration::from_secs(10),
    )
    .await;
}

/// Corrections in the browser: a lead's request through the card's folded form, then the deal it
/// became through the deal's page; each shows what it says now, and the deal's correction is
/// undone from its list of changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_and_its_deal_are_corrected_in_the_browser() {
    let _one = BROWSER_LOCK.lock().await;
    let v = voronka().await;
    let origin = site(|_| String::new()).await;
    let (_, key) = v.form(&origin, json!({})).await;
    let out = v
        .capture(
            &key,
            json!({"name": "Роман Правкин", "phone": "+7 916 720-10-01", "product": "Полки"}),
        )
        .await;
    let lead = out["lead_id"].as_i64().unwrap();
    let b = Browser::start(true).await;
    b.sign_in(&v).await;
    b.open(&v, &format!("/leads/{lead}")).await;
    b.click("#edit-request summary").await;
    for (css, text) in [
        ("#edit-request-form [name=product]", "Стеллажи"),
        ("#edit-request-form [name=value]", "90 000"),
    ] {
        let field = b.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }
    b.click("#edit-request-form button[type='submit']").await;
    b.until(
        "the card with the corrected request",
        "return !!document.querySelector('.flash-ok') && \
         document.querySelector('#h-request').parentElement.textContent.includes('Стеллажи')",
        Duration::from_secs(10),
    )
    .await;
    let request = b
        .client
        .execute(
            "return document.querySelector('#h-request').parentElement.querySelector('dl').textContent",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        request.as_str().unwrap().contains("90\u{202f}000.00"),
        "{request}"
    );
    b.screenshot("request-corrected").await;

    let done = v
        .api(
            reqwest::Method::POST,
            &format!("/api/v1/leads/{lead}/convert"),
            Some(json!({"amount_minor": 9_000_000, "currency": "RUB"})),
        )
        .await;
    let deal = done["deal_id"].as_i64().unwrap();
    b.open(&v, &format!("/deals/{deal}")).await;
    b.click("#edit-deal summary").await;
    let amount = b
        .client
        .find(Locator::Css("#edit-deal-form [name=amount]"))
        .await
        .unwrap();
    amount.clear().await.unwrap();
    amount.send_keys("85000").await.unwrap();
    b.click("#edit-deal-form button[type='submit']").await;
    b.until(
        "the deal with its new amount",
        "return document.querySelector('.big-pill').textContent.includes('85\u{202f}000.00')",
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("deal-corrected").await;
    // The correction, undone from the deal's list of changes.
    b.click("#changes .change-restore button").await;
    b.until(
        "the deal as it was before the correction",
        "return !!document.querySelector('.flash-ok') && \
         document.querySelector('.big-pill').textContent.includes('90\u{202f}000.00')",
        Duration::from_secs(10),
    )
    .await;
    b.screenshot("deal-restored").await;
    b.finish().await;
}
