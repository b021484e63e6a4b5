//! The web UI end to end: a real server on 127.0.0.1:0 over a temporary SQLite file, driven with
//! an HTTP client that keeps cookies, the way a browser would.

mod common;

#[path = "../../voronka-app/tests/smtp.rs"]
mod smtp;

use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use voronka_app::{Actor, App, CaptureRequest};
use voronka_core::intake::Submission;
use voronka_core::{Channel, Role};
use voronka_server::ServerConfig;

const ADMIN_EMAIL: &str = "admin@mail.ru";
const PASSWORD: &str = "correct horse battery";

struct Server {
    base: String,
    app: App,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let app = App::open(&url, Default::default()).await.expect("open app");
    app.add_user(ADMIN_EMAIL, "Anna Admin", PASSWORD, Role::Admin)
        .await
        .expect("admin");
    let base = common::serve(
        &app,
        ServerConfig {
            ..Default::default()
        },
    )
    .await;
    Server {
        base,
        app,
        _dir: dir,
    }
}

fn client() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .expect("client")
}

struct Resp {
    status: StatusCode,
    location: String,
    cookie: String,
    content_type: String,
    cache: String,
    body: String,
}

async fn read(r: reqwest::Response) -> Resp {
    let h = |name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let (location, cookie, content_type, cache) = (
        h("location"),
        h("set-cookie"),
        h("content-type"),
        h("cache-control"),
    );
    Resp {
        status: r.status(),
        location,
        cookie,
        content_type,
        cache,
        body: r.text().await.expect("body"),
    }
}

impl Server {
    async fn get(&self, c: &Client, path: &str) -> Resp {
        read(
            c.get(format!("{}{path}", self.base))
                .send()
                .await
                .expect("get"),
        )
        .await
    }

    async fn post(&self, c: &Client, path: &str, form: &[(&str, &str)]) -> Resp {
        read(
            c.post(format!("{}{path}", self.base))
                .form(form)
                .send()
                .await
                .expect("post"),
        )
        .await
    }

    /// Signs in and returns the CSRF token found on the inbox page.
    async fn login(&self, c: &Client, email: &str) -> String {
        let r = self
            .post(
                c,
                "/login",
                &[("email", email), ("password", PASSWORD), ("next", "/leads")],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, "/leads");
        let page = self.get(c, "/leads").await;
        assert_eq!(page.status, StatusCode::OK);
        csrf_of(&page.body)
    }

    async fn capture(&self, name: &str, extra: &[(&str, &str)]) -> i64 {
        let mut s = Submission::new(Channel::WebForm, voronka_app::now_ms()).with("name", name);
        for (k, v) in extra {
            s = s.with(k, *v);
        }
        let out = self
            .app
            .capture(CaptureRequest {
                submission: s,
                form: None,
                idempotency_key: None,
                client: None,
            })
            .await
            .expect("capture");
        out.lead_id.expect("a lead")
    }
}

impl Server {
    /// Converts a lead into a deal of `minor` kopecks; answers the customer.
    async fn convert_rub(&self, lead: i64, minor: i64) -> i64 {
        let rub = voronka_core::Currency::parse("RUB").unwrap();
        let input = voronka_app::ConvertInput {
            amount: voronka_core::Money::new(minor, rub),
            title: None,
        };
        let (_, customer, _) = self
            .app
            .convert(&Actor::system("t"), lead, input)
            .await
            .unwrap();
        customer
    }
}

/// A moment as its UTC date, as the pages' date fields read it.
fn utc_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .format("%Y-%m-%d")
        .to_string()
}

/// Some text around a needle, for failure messages.
/// Where the first form of a piece of a page posts.
fn first_action(html: &str) -> String {
    html.split_once("action=\"")
        .and_then(|(_, a)| a.split_once('"'))
        .map(|(href, _)| href.to_string())
        .unwrap_or_else(|| panic!("no form: {html}"))
}

fn around(html: &str, needle: &str) -> String {
    match html.find(needle) {
        Some(i) => {
            let start = html[..i]
                .char_indices()
                .rev()
                .nth(120)
                .map(|(j, _)| j)
                .unwrap_or(0);
            let end = html[i..]
                .char_indices()
                .nth(160)
                .map(|(j, _)| i + j)
                .unwrap_or(html.len());
            html[start..end].to_string()
        }
        None => format!("{needle:?} not found"),
    }
}

/// The card's item of the intake reason with this code, from its mark to its end.
fn reason_item<'a>(html: &'a str, code: &str) -> &'a str {
    html.split(&format!("data-reason=\"{code}\""))
        .nth(1)
        .and_then(|rest| rest.split("</li>").next())
        .unwrap_or_else(|| panic!("no {code} reason on the card: {html}"))
}

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a csrf field") + marker.len();
    html[start..].split('"').next().unwrap_or("").to_string()
}

/// The text between `after` and the next `"`, e.g. the id in `href="/customers/`.
fn value_after(html: &str, after: &str) -> String {
    let start = html
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} not in page"))
        + after.len();
    html[start..]
        .split(['"', '#', '?'])
        .next()
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_inbox_card_actions_and_conversion() {
    let srv = start().await;
    let c = client();

    // Pages need a session; the login page says so and keeps where we were going.
    let r = srv.get(&c, "/leads?stage=new").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location.starts_with("/login?next="), "{}", r.location);
    let r = srv.get(&c, "/").await;
    assert_eq!(r.location, "/leads");

    let r = srv.get(&c, "/login").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("name=\"password\""));
    assert!(r.body.contains("<meta charset=\"utf-8\">"));

    let r = srv
        .post(
            &c,
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", "wrong password"),
                ("next", "/leads"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Wrong email or password."));
    assert!(
        r.body.contains(ADMIN_EMAIL),
        "the email is kept in the form"
    );

    // A foreign `next` is not followed.
    let r = srv
        .post(
            &c,
            "/login",
            &[
                ("email", ADMIN_EMAIL),
                ("password", PASSWORD),
                ("next", "//evil.example/x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/leads");
    assert!(r.cookie.starts_with("voronka_session="), "{}", r.cookie);
    assert!(
        r.cookie.contains("HttpOnly")
            && r.cookie.contains("SameSite=Lax")
            && r.cookie.contains("Path=/")
    );
    assert!(!r.cookie.contains("Secure"));

    let inbox = srv.get(&c, "/leads").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(inbox.body.contains("No leads here."));
    assert!(inbox.body.contains("Anna Admin"));
    assert!(
        inbox.body.contains("href=\"/admin/users\""),
        "admins see Admin in the menu"
    );
    let csrf = csrf_of(&inbox.body);

    // A lead arrives.
    let id = srv
        .capture(
            "Иван Петров",
            &[
                ("phone", "8 (912) 345-67-89"),
                ("email", "Ivan@mail.ru"),
                ("product", "Окна ПВХ"),
                ("company", "ООО Ромашка"),
                ("message", "Перезвоните, пожалуйста"),
                ("utm_source", "yandex"),
                ("utm_medium", "cpc"),
                ("utm_campaign", "spring"),
                ("country", "kz"),
                ("language", "RU"),
            ],
        )
        .await;

    let inbox = srv.get(&c, "/leads").await;
    assert!(inbox.body.contains("Иван Петров"));
    assert!(inbox.body.contains("ООО Ромашка"));
    assert!(inbox.body.contains("yandex / cpc"));
    assert!(inbox
        .body
        .contains("<td class=\"nowrap\"><time datetime=\""));
    assert!(inbox.body.contains(">just now</time>"));
    assert!(inbox.body.contains("stage-new"));
    assert!(inbox.body.contains(&format!("href=\"/leads/{id}\"")));
    assert!(
        inbox.body.contains("UTC\">"),
        "the exact time is in the title"
    );

    // Filters: the text search finds the lead, a stage filter and a bad date do not break the page.
    let r = srv
        .get(
            &c,
            "/leads?q=%D0%A0%D0%BE%D0%BC%D0%B0%D1%88%D0%BA%D0%B0&sort=-created_at",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Иван Петров"));
    let r = srv.get(&c, "/leads?stage=working,mql").await;
    assert!(!r.body.contains("Иван Петров"));
    assert!(r.body.contains("No leads here."));
    let r = srv.get(&c, "/leads?from=yesterday&stage=bogus").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Dates are written as YYYY-MM-DD."));
    assert!(
        r.body
            .contains("Unknown stage &#34;bogus&#34; was ignored."),
        "{}",
        r.body
    );

    // The card shows the contact, the request and the touch with its attribution.
    let card = srv.get(&c, &format!("/leads/{id}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(card.body.contains("+79123456789"), "E.164 phone");
    assert!(card.body.contains("8 (912) 345-67-89"), "phone as typed");
    assert!(
        card.body.contains("<dd>Kazakhstan</dd>") && card.body.contains("<dd>Russian</dd>"),
        "country and language by name: {}",
        around(&card.body, "Country")
    );
    assert!(card.body.contains("Окна ПВХ"));
    assert!(card.body.contains("Перезвоните, пожалуйста"));
    assert!(card.body.contains("spring"));
    assert!(card.body.contains("Raw payload"));
    // The history's first entry is the system's: marked with its code, its text and its
    // actor named for people.
    let entry = card
        .body
        .split("data-history=\"captured\"")
        .nth(1)
        .and_then(|rest| rest.split("</li>").next())
        .unwrap_or_else(|| panic!("no captured entry: {}", around(&card.body, "h-history")));
    assert!(
        entry.contains("captured via web form") && entry.contains("<bdi>Intake</bdi>"),
        "{entry}"
    );
    assert!(card.body.contains("Move to stage"));
    assert!(card.body.contains("value=\"working\""));
    assert!(
        !card.body.contains("<option value=\"converted\""),
        "converted is reached only by conversion"
    );

    // Stage change.
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/stage"),
            &[
                ("csrf", &csrf),
                ("stage", "working"),
                ("comment", "called back"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("/leads/{id}?done=stage"));
    let card = srv.get(&c, &r.location).await;
    assert!(card.body.contains("Stage changed."));
    assert!(card.body.contains("called back"));
    assert!(card.body.contains("badge stage-working"));

    // An illegal move re-renders the card with the reason and a 409.
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/stage"),
            &[("csrf", &csrf), ("stage", "new")],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(r.body.contains("flash-error"));
    assert!(
        r.body.contains("A lead in “Working” cannot move to “New”."),
        "{}",
        r.body
    );
    assert!(r.body.contains("Иван Петров"), "the card is shown again");

    // A note.
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/notes"),
            &[("csrf", &csrf), ("body", "Клиент просит смету до пятницы")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let card = srv.get(&c, &format!("/leads/{id}")).await;
    assert!(card.body.contains("Клиент просит смету до пятницы"));
    // An empty note is a 422 with the message.
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/notes"),
            &[("csrf", &csrf), ("body", "  ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("the note is empty"));

    // Temperature.
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/temperature"),
            &[("csrf", &csrf), ("temperature", "hot")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let card = srv.get(&c, &format!("/leads/{id}")).await;
    assert!(card.body.contains("badge temp-hot"));

    // Refuse with a reason from the list, a comment and a freeze date.
    let reasons = srv.app.refusal_reasons().await.expect("reasons");
    let reason = reasons.first().expect("default reasons").clone();
    assert!(
        card.body.contains(&format!("<option value=\"{reason}\">"))
            || card.body.contains("name=\"reason\"")
    );
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/refuse"),
            &[
                ("csrf", &csrf),
                ("reason", "no such reason"),
                ("comment", "клиент <уехал> & вернётся"),
                ("freeze_until", "2031-03-01"),
                ("farewell", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("unknown refusal reason"));
    // Nothing typed is lost: the refusal form is open again with its comment (escaped), date and
    // choice, and the address bar is set back to the card's own address.
    assert!(r
        .body
        .contains("<details class=\"action\" open>\n    <summary>Refuse"));
    assert!(
        r.body
            .contains("клиент &#60;уехал&#62; &#38; вернётся</textarea>"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"2031-03-01\""));
    assert!(r.body.contains("name=\"farewell\" value=\"1\" checked"));
    assert!(r
        .body
        .contains(&format!("<link rel=\"canonical\" href=\"/leads/{id}\">")));
    assert!(
        !r.body
            .contains("<details class=\"action\" open>\n    <summary>Mark as junk"),
        "only the refused form opens"
    );
    // A freeze date is at most ten years ahead: the 15th of January two years on.
    let year = chrono::Datelike::year(&chrono::Utc::now()) + 2;
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/refuse"),
            &[
                ("csrf", &csrf),
                ("reason", &reason),
                ("comment", "бюджет в следующем квартале"),
                ("freeze_until", &format!("{year}-01-15")),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let card = srv.get(&c, &format!("/leads/{id}")).await;
    assert!(card.body.contains("badge stage-refused"));
    assert!(card.body.contains("бюджет в следующем квартале"));
    assert!(
        card.body.contains(&format!("15 Jan {year}")),
        "freeze date shown"
    );
    assert!(
        !card.body.contains("Convert to a deal"),
        "a refused lead is not converted"
    );

    // Back to working, then convert.
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/stage"),
            &[("csrf", &csrf), ("stage", "working")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/convert"),
            &[
                ("csrf", &csrf),
                ("amount", "abc"),
                ("currency", "RUB"),
                ("title", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("The amount is not a number"));
    assert!(
        r.body.contains("name=\"amount\" value=\"abc\""),
        "the typed amount is kept"
    );
    assert!(r.body.contains("name=\"title\" value=\"x\""));
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/convert"),
            &[
                ("csrf", &csrf),
                ("amount", "125000,50"),
                ("currency", "rub"),
                ("title", "Остекление дачи"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let card = srv.get(&c, &format!("/leads/{id}")).await;
    assert!(card.body.contains("badge stage-converted"));
    assert!(card.body.contains("Остекление дачи"));
    assert!(card.body.contains("125\u{202f}000.50 RUB"));
    let customer_id = value_after(&card.body, "href=\"/customers/");
    let deal_id = value_after(&card.body, "href=\"/deals/");

    let customers = srv.get(&c, "/customers").await;
    assert_eq!(customers.status, StatusCode::OK);
    assert!(customers
        .body
        .contains(&format!("href=\"/customers/{customer_id}\"")));
    // Beside the name: one deal and its sum.
    assert!(
        customers.body.contains("<td class=\"num\">1</td>")
            && customers.body.contains("<div>125\u{202f}000.50 RUB</div>"),
        "{}",
        customers.body
    );

    let cust = srv.get(&c, &format!("/customers/{customer_id}")).await;
    assert_eq!(cust.status, StatusCode::OK);
    assert!(cust.body.contains("Остекление дачи"));
    assert!(cust.body.contains("125\u{202f}000.50 RUB"));
    assert!(cust.body.contains("Timeline"));
    assert!(cust.body.contains("Touch: Web form"));
    assert!(
        cust.body.contains("бюджет в следующем квартале"),
        "stage history across the leads"
    );

    let deal = srv.get(&c, &format!("/deals/{deal_id}")).await;
    assert_eq!(deal.status, StatusCode::OK);
    assert!(deal.body.contains("Остекление дачи"));
    assert!(deal.body.contains(&format!("href=\"/leads/{id}\"")));

    // Contact and company pages.
    let contact_id = value_after(&card.body, "href=\"/contacts/");
    let contact = srv.get(&c, &format!("/contacts/{contact_id}")).await;
    assert_eq!(contact.status, StatusCode::OK);
    assert!(contact.body.contains("Иван Петров"));
    assert!(contact.body.contains(&format!("href=\"/leads/{id}\"")));
    if card.body.contains("href=\"/accounts/") {
        let account_id = value_after(&card.body, "href=\"/accounts/");
        let account = srv.get(&c, &format!("/accounts/{account_id}")).await;
        assert_eq!(account.status, StatusCode::OK);
        assert!(account.body.contains("ООО Ромашка"));
    }

    // Missing things are a 404 page.
    let r = srv.get(&c, "/leads/999999").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Not found"));

    // The audit log records the changes.
    let audit = srv.get(&c, "/admin/audit").await;
    assert_eq!(audit.status, StatusCode::OK);
    // Each entry says in words what was done, and what it changed field by field.
    assert!(audit.body.contains("<td>Converted</td>"), "{}", audit.body);
    assert!(audit.body.contains("<td>Refused</td>"));
    assert!(audit.body.contains("→ refused"), "{}", audit.body);
    assert!(!audit.body.contains("<code>"));
    // A short log has no older page.
    assert!(!audit.body.contains("Older entries"));

    // The instance's status: the health check and what is stored and waiting.
    let status = srv.get(&c, "/admin/status").await;
    assert_eq!(status.status, StatusCode::OK);
    assert!(
        status.body.contains("The database answers"),
        "{}",
        status.body
    );
    let leads = srv.app.status(&Actor::system("test")).await.unwrap().leads;
    assert!(leads > 0);
    assert!(
        status
            .body
            .contains(&format!("<a href=\"/leads\">{leads}</a>")),
        "{}",
        status.body
    );
    assert!(status.body.contains("<dd>SQLite</dd>"));
    assert!(
        status.body.contains(&format!(
            "<code data-metrics-url>{}/metrics</code>",
            srv.base
        )),
        "{}",
        status.body
    );
    assert!(status
        .body
        .contains("href=\"/admin/status\" aria-current=\"page\""));

    // Logging out ends the session.
    let r = srv.post(&c, "/logout", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/login");
    let r = srv.get(&c, "/leads").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location.starts_with("/login"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_rendered_escaped() {
    let srv = start().await;
    let c = client();
    srv.login(&c, ADMIN_EMAIL).await;
    let id = srv
        .capture(
            "<script>alert(1)</script> Mallory\u{202e}gnp.exe",
            &[
                ("email", "mallory@mail.ru"),
                (
                    "message",
                    "<img src=x onerror=alert(2)> \"quoted\" \u{202e}reversed",
                ),
                ("product", "<b>bold</b>"),
                ("utm_source", "\"><script>alert(3)</script>"),
            ],
        )
        .await;
    for path in ["/leads".to_string(), format!("/leads/{id}")] {
        let r = srv.get(&c, &path).await;
        assert_eq!(r.status, StatusCode::OK);
        let b = &r.body;
        assert!(!b.contains("<script>alert"), "{path}: raw script tag");
        assert!(!b.contains("<img src=x"), "{path}: raw img tag");
        assert!(!b.contains("<b>bold</b>"), "{path}: raw markup");
        assert!(!b.contains("\"><script>"), "{path}: attribute breakout");
        assert!(
            b.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "{path}: escaped name: {}",
            around(b, "alert(1)")
        );
        assert!(
            b.contains("&#60;b&#62;bold&#60;/b&#62;"),
            "{path}: escaped product"
        );
        assert!(
            !b.contains('\u{202e}'),
            "{path}: a right-to-left override reached the page"
        );
        assert!(b.contains("<bdi>"), "{path}: user text is isolated");
    }
    let card = srv.get(&c, &format!("/leads/{id}")).await;
    assert!(card.body.contains("&#60;img src=x onerror=alert(2)&#62;"));
    // The raw payload keeps the override, shown as a visible code point.
    assert!(
        card.body.contains("&#60;U+202E&#62;"),
        "raw payload shows the control character"
    );
    // Pages carry a content security policy that forbids inline scripts.
    let r = c
        .get(format!("{}/leads/{id}", srv.base))
        .send()
        .await
        .expect("get");
    let csp = r
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posts_without_csrf_are_refused() {
    let srv = start().await;
    let c = client();
    let csrf = srv.login(&c, ADMIN_EMAIL).await;
    let id = srv
        .capture("Пётр Сидоров", &[("phone", "+7 912 000-11-22")])
        .await;

    for (path, form) in [
        (format!("/leads/{id}/notes"), vec![("body", "sneaky")]),
        (format!("/leads/{id}/stage"), vec![("stage", "working")]),
        (
            format!("/leads/{id}/convert"),
            vec![("amount", "1"), ("currency", "RUB")],
        ),
        ("/forms".to_string(), vec![("name", "Sneaky form")]),
        (
            "/admin/tokens".to_string(),
            vec![("name", "sneaky"), ("scope", "admin")],
        ),
        ("/logout".to_string(), vec![]),
    ] {
        let r = srv.post(&c, &path, &form).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} without csrf");
        assert!(r.body.contains("did not come from this site"), "{path}");
        let mut wrong = form.clone();
        wrong.push(("csrf", "not-the-token"));
        let r = srv.post(&c, &path, &wrong).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{path} with a wrong csrf");
    }
    // Nothing happened.
    let card = srv.get(&c, &format!("/leads/{id}")).await;
    assert!(!card.body.contains("sneaky"));
    assert!(card.body.contains("badge stage-new"));
    assert!(
        srv.get(&c, "/leads").await.status == StatusCode::OK,
        "still signed in"
    );
    // The right token works.
    let r = srv
        .post(
            &c,
            &format!("/leads/{id}/notes"),
            &[("csrf", &csrf), ("body", "fine")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn salesperson_sees_only_own_leads() {
    let srv = start().await;
    let sara = srv
        .app
        .add_user("sara@mail.ru", "Sara Seller", PASSWORD, Role::Salesperson)
        .await
        .expect("sara");
    srv.app
        .add_user("tom@mail.ru", "Tom Seller", PASSWORD, Role::Salesperson)
        .await
        .expect("tom");
    let id = srv
        .capture(
            "Ольга Клиентова",
            &[("phone", "+7 912 555-44-33"), ("product", "Двери")],
        )
        .await;
    srv.app
        .assign(&Actor::system("test"), id, Some(sara.id))
        .await
        .expect("assign");

    let tom = client();
    let tom_csrf = srv.login(&tom, "tom@mail.ru").await;
    let r = srv.get(&tom, &format!("/leads/{id}")).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another salesperson's lead is not even acknowledged"
    );
    assert!(!r.body.contains("Ольга"));
    let inbox = srv.get(&tom, "/leads").await;
    assert!(!inbox.body.contains("Ольга Клиентова"));
    assert!(
        !inbox.body.contains("href=\"/admin/users\""),
        "no Admin menu for salespeople"
    );
    let r = srv
        .post(
            &tom,
            &format!("/leads/{id}/notes"),
            &[("csrf", &tom_csrf), ("body", "mine now")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = srv.get(&tom, "/admin/users").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(r.body.contains("Not allowed"));
    let r = srv.get(&tom, "/admin/status").await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let sara_c = client();
    srv.login(&sara_c, "sara@mail.ru").await;
    let inbox = srv.get(&sara_c, "/leads").await;
    assert!(inbox.body.contains("Ольга Клиентова"));
    let card = srv.get(&sara_c, &format!("/leads/{id}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(card.body.contains("Двери"));
    assert!(card.body.contains("Change stage"), "the owner may act");

    assert!(!card
        .body
        .contains(&format!("action=\"/leads/{id}/assign\"")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_page_creates_a_form_with_embed_code() {
    let srv = start().await;
    let c = client();
    let csrf = srv.login(&c, ADMIN_EMAIL).await;

    let r = srv.get(&c, "/forms").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("No forms yet."));

    let r = srv
        .post(
            &c,
            "/forms",
            &[
                ("csrf", &csrf),
                ("name", "Broken"),
                ("redirect_url", "ftp://nope"),
                ("default_region", "RU"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("is not an http(s) URL"));
    assert!(r.body.contains("value=\"Broken\""), "the form is refilled");

    let r = srv
        .post(
            &c,
            "/forms",
            &[
                ("csrf", &csrf),
                ("name", "Замер окон"),
                ("redirect_url", "https://mail.ru/thanks"),
                (
                    "allowed_origins",
                    "https://mail.ru\r\nhttps://www.mail.ru\r\n",
                ),
                ("default_region", "ru"),
                ("product", "Окна"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location.starts_with("/forms?done=form"));

    let forms = srv
        .app
        .list_forms(&Actor::system("test"))
        .await
        .expect("forms");
    assert_eq!(forms.len(), 1);
    let form = &forms[0].form;
    assert_eq!(form.allowed_origins.len(), 2);

    let page = srv.get(&c, &r.location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Form created."));
    assert!(page.body.contains("Замер окон"));
    assert!(page.body.contains(&form.public_key));
    let action = format!(
        "&#60;form method=&#34;post&#34; action=&#34;{}/f/{}&#34;",
        srv.base, form.public_key
    );
    assert!(
        page.body.contains(&action),
        "embed code with the public URL: {}",
        around(&page.body, "/f/")
    );
    assert!(
        page.body.contains("name=&#34;website&#34;"),
        "honeypot field"
    );
    assert!(
        page.body.contains("position:absolute;left:-10000px"),
        "honeypot hidden with CSS"
    );
    for field in ["name", "phone", "email", "message"] {
        assert!(
            page.body.contains(&format!("name=&#34;{field}&#34;")),
            "{field}"
        );
    }
    assert!(page.body.contains("data-copy=\"#embed-"), "copy button");

    // A lead through the form shows in the counts.
    let mut s = Submission::new(Channel::WebForm, voronka_app::now_ms())
        .with("name", "Форма Тест")
        .with("phone", "+7 912 111-22-33");
    s.form_id = Some(form.id);
    srv.app
        .capture(CaptureRequest {
            submission: s,
            form: Some(form.clone()),
            idempotency_key: None,
            client: None,
        })
        .await
        .expect("capture");
    let page = srv.get(&c, "/forms").await;
    assert!(page
        .body
        .contains("<span class=\"stat-n\">1</span><span class=\"stat-l\">leads</span>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn form_and_quiz_builders_save_the_definition() {
    let srv = start().await;
    let c = client();
    let csrf = srv.login(&c, ADMIN_EMAIL).await;
    let r = srv
        .post(
            &c,
            "/forms",
            &[("csrf", &csrf), ("name", "Квиз"), ("default_region", "RU")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let form = srv.app.list_forms(&Actor::system("t")).await.unwrap()[0]
        .form
        .clone();
    let page = srv.get(&c, &format!("/forms/{}", form.id)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Form builder"));
    assert!(
        page.body.contains("name=\"field_kind_0\""),
        "an empty row to add a field"
    );

    // A bad image URL and a backward branch are refused, and what was typed is kept.
    let path = format!("/forms/{}/quiz", form.id);
    let bad = srv
        .post(
            &c,
            &path,
            &[
                ("csrf", &csrf),
                ("s0_id", "who"),
                ("s0_question", "Кто вы?"),
                ("s0_o0_label", "Компания"),
                ("s0_o0_image", "javascript:alert(1)"),
                ("s0_o1_label", "Студент"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("an image must be an http(s) URL"));
    assert!(bad.body.contains("value=\"Кто вы?\""));
    let ok = srv
        .post(
            &c,
            &path,
            &[
                ("csrf", &csrf),
                ("make_quiz", "on"),
                ("s0_id", "who"),
                ("s0_question", "Кто вы?"),
                ("s0_o0_label", "Компания"),
                ("s0_o0_fit", "20"),
                ("s0_o0_next", "contact"),
                ("s0_o1_label", "Студент"),
                ("s0_o1_dq", "on"),
                ("s1_question", "Когда?"),
                ("s1_o0_label", "Сейчас"),
                ("s1_o0_intent", "30"),
                ("s1_o1_label", "Потом"),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);

    let save = srv
        .post(
            &c,
            &format!("/forms/{}", form.id),
            &[
                ("csrf", &csrf),
                ("name", "Квиз"),
                ("default_region", "RU"),
                ("min_fill_ms", "0"),
                ("active", "on"),
                ("kind", "quiz"),
                ("language", "ru"),
                ("title", "Подберём окна"),
                ("field_kind_0", "name"),
                ("field_required_0", "on"),
                ("field_kind_1", "phone"),
                ("field_required_1", "on"),
                ("field_kind_2", "multi_select"),
                ("field_name_2", "rooms"),
                ("field_label_2", "Комнаты"),
                ("field_options_2", "Кухня\r\nСпальня"),
                ("field_kind_3", ""),
                ("consent_text", "Согласен на обработку данных"),
                ("consent_url", "https://example.com/privacy"),
                ("consent_required", "on"),
                ("popup_trigger", "none"),
                ("landing_slug", "okna"),
                ("landing_headline", "Окна за 3 дня"),
                ("var_key_0", "a"),
                ("var_weight_0", "1"),
                ("var_key_1", "b"),
                ("var_weight_1", "1"),
                ("var_title_1", "Окна со скидкой"),
                ("var_hide_1", "rooms"),
            ],
        )
        .await;
    assert_eq!(save.status, StatusCode::SEE_OTHER, "{}", save.body);
    let form = srv.app.form(&Actor::system("t"), form.id).await.unwrap();
    let d = &form.definition;
    assert_eq!(d.steps.len(), 2, "the form builder keeps the quiz");
    assert!(d.steps[0].options[1].disqualify);
    assert_eq!(d.fields.len(), 3);
    assert_eq!(d.fields[2].options, vec!["Кухня", "Спальня"]);
    assert_eq!(d.variants[1].hide_fields, vec!["rooms"]);
    let page = srv.get(&c, &format!("/forms/{}?done=saved", form.id)).await;
    assert!(page.body.contains("Form saved."));
    assert!(page.body.contains("Take rate"));
    assert!(page.body.contains("data-variant=\"b\""));
    assert!(page.body.contains(&format!("{}/l/okna", srv.base)));
    let quiz = srv.get(&c, &path).await;
    assert!(quiz.body.contains("value=\"Когда?\""));
    let landing = srv.get(&c, "/l/okna").await;
    assert_eq!(landing.status, StatusCode::OK);
    assert!(landing.body.contains("Окна за 3 дня"));

    // The answers and the consent text show on the lead card.
    let mut s = Submission::new(Channel::WebForm, voronka_app::now_ms())
        .with("name", "Ответ Квизов")
        .with("phone", "+7 912 444-55-66")
        .with("consent", "yes")
        .with("quiz.who", "a1")
        .with("_variant", "b");
    s.form_id = Some(form.id);
    let out = srv
        .app
        .capture(CaptureRequest {
            submission: s,
            form: Some(form.clone()),
            idempotency_key: None,
            client: None,
        })
        .await
        .expect("capture");
    let card = srv
        .get(&c, &format!("/leads/{}", out.lead_id.expect("a lead")))
        .await;
    assert!(card.body.contains("Quiz answers"), "{}", card.body);
    assert!(card.body.contains("Кто вы?"));
    assert!(card.body.contains("<strong>Компания</strong>"));
    assert!(card.body.contains("fit +20"));
    assert!(card.body.contains("Согласен на обработку данных"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_pages_tokens_users_and_assets() {
    let srv = start().await;
    let c = client();
    let csrf = srv.login(&c, ADMIN_EMAIL).await;

    let r = srv
        .post(
            &c,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("email", "mia@mail.ru"),
                ("name", "Мия Менеджер"),
                ("password", PASSWORD),
                ("role", "sales_manager"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let users = srv.get(&c, &r.location).await;
    assert!(users.body.contains("Мия Менеджер"));
    assert!(users.body.contains("User saved."));
    let r = srv
        .post(
            &c,
            "/admin/users",
            &[
                ("csrf", &csrf),
                ("email", "x@mail.ru"),
                ("password", "short"),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("at least 8 characters"));

    // An admin cannot demote themselves.
    let me = srv
        .app
        .store()
        .list_users()
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.email == ADMIN_EMAIL)
        .expect("me");
    let r = srv
        .post(
            &c,
            &format!("/admin/users/{}", me.id),
            &[("csrf", &csrf), ("role", "viewer")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("cannot demote or disable yourself"));

    let r = srv
        .post(
            &c,
            "/admin/tokens",
            &[
                ("csrf", &csrf),
                ("name", "Сайт"),
                ("scope", "leads:read"),
                ("scope", "leads:write"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("shown only once"));
    let secret = value_after(&r.body, "<pre class=\"code\" id=\"token-secret\">");
    let secret = secret.split('<').next().unwrap_or("").to_string();
    assert!(secret.starts_with("vk_"), "{secret}");
    srv.app
        .token_actor(&secret)
        .await
        .expect("the shown secret works");
    let tokens = srv.get(&c, "/admin/tokens").await;
    assert!(tokens.body.contains("leads:read leads:write"));
    assert!(
        !tokens.body.contains(&secret),
        "the secret is not shown again"
    );
    let token_id = value_after(&tokens.body, "action=\"/admin/tokens/");
    let token_id = token_id.split('/').next().unwrap_or("").to_string();
    let r = srv
        .post(
            &c,
            &format!("/admin/tokens/{token_id}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(srv.app.token_actor(&secret).await.is_err(), "revoked");

    // Not an id: the friendly 404 page, not a bare 400.
    let r = srv.get(&c, "/leads/abc").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("Not found"));

    // Marketers work with forms: no leads in their menu, the inbox sends them to forms.
    srv.app
        .add_user("max@mail.ru", "Max Marketer", PASSWORD, Role::Marketer)
        .await
        .expect("marketer");
    let m = client();
    let r = srv
        .post(
            &m,
            "/login",
            &[("email", "max@mail.ru"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = srv.get(&m, "/leads").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/forms");
    let r = srv.get(&m, "/forms").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(!r.body.contains("href=\"/customers\""));
    assert!(r.body.contains("New form"));

    let r = srv.get(&c, "/assets/app.css").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.content_type.starts_with("text/css"));
    assert!(r.cache.contains("max-age"));
    assert!(r.body.contains(".badge"));
    let r = srv.get(&c, "/assets/app.js").await;
    assert!(r.content_type.starts_with("text/javascript"));
    assert!(r.body.contains("keydown"));
    assert_eq!(
        srv.get(&c, "/assets/nope.js").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_session_returns_to_the_page_after_login() {
    let s = start().await;
    let c = client();
    // A page visit keeps its own address as the place to come back to.
    let r = read(
        c.get(format!("{}/leads?stage=new", s.base))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/login?next=/leads%3Fstage%3Dnew");
    // A form post cannot be replayed: it comes back to the page it was posted from.
    let r = read(
        c.post(format!("{}/leads/7/notes", s.base))
            .header("referer", format!("{}/leads/7", s.base))
            .form(&[("body", "x")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/login?next=/leads/7");
    let r = read(
        c.post(format!("{}/leads/7/notes", s.base))
            .form(&[("body", "x")])
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.location, "/login?next=/leads");
}

/// A lead's temperature badge reads as its word, not as its code.
fn assert_temperature_in_words(body: &str) {
    assert!(
        ["temp-cold\">Cold<", "temp-warm\">Warm<", "temp-hot\">Hot<"]
            .iter()
            .any(|b| body.contains(b)),
        "{}",
        around(body, "badge temp-")
    );
}

/// The href of the link with this rel, HTML-unescaped.
fn rel_link(html: &str, rel: &str) -> Option<String> {
    let at = html.find(&format!("rel=\"{rel}\""))?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(
        html[start..end]
            .replace("&amp;", "&")
            .replace("&#38;", "&")
            .replace("&#x3D;", "=")
            .replace("&#61;", "="),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_pages_forward_and_back() {
    let s = start().await;
    for i in 0..120 {
        s.capture(
            &format!("Paged Person {i:03}"),
            &[("email", &format!("p{i}@mail.ru"))],
        )
        .await;
    }
    let c = client();
    s.login(&c, ADMIN_EMAIL).await;
    let first = s.get(&c, "/leads?sort=-created_at").await;
    assert!(
        rel_link(&first.body, "prev").is_none(),
        "the first page has no previous page"
    );
    let next = rel_link(&first.body, "next").expect("a next page");
    let second = s.get(&c, &next).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(
        !second.body.contains("Paged Person 119"),
        "page two starts after page one: {next} {}",
        around(&second.body, "Paged Person 119")
    );
    let prev = rel_link(&second.body, "prev").expect("a previous page");
    let back = s.get(&c, &prev).await;
    assert!(
        back.body.contains("Paged Person 119") && back.body.contains("Paged Person 070"),
        "back to page one"
    );
    assert!(!back.body.contains("Paged Person 069"));
    assert!(
        rel_link(&back.body, "prev").is_none(),
        "nothing before page one"
    );
    assert!(
        !back.body.contains("First page"),
        "page one offers no way to itself"
    );
    assert!(second.body.contains("First page"));
    assert!(rel_link(&back.body, "next").is_some());
}

/// The duplicates pages: a flagged pair side by side, a merge that takes a field from the other
/// lead, the merged id resolving to the survivor, undo from the card, and the rules page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_review_merge_undo_and_rules_pages() {
    let s = start().await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let a = s
        .capture(
            "Иван Петров",
            &[
                ("phone", "+7 916 111-22-33"),
                ("company", "Ромашка"),
                ("product", "Диван"),
            ],
        )
        .await;
    let b = s
        .capture(
            "Ivan Petrov",
            &[
                ("phone", "+7 926 444-55-66"),
                ("company", "Romashka"),
                ("product", "Кресло"),
            ],
        )
        .await;
    let list = s.get(&c, "/duplicates").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Ivan Petrov"), "{}", list.body);
    let pair = s
        .app
        .duplicate_pairs(&voronka_app::Actor::system("t"), "open")
        .await
        .unwrap();
    assert_eq!(
        pair.len(),
        1,
        "one person in two scripts at one company is flagged"
    );
    let pid = pair[0].id;
    // The second lead's card explains the possible duplicate and links the first lead.
    let card = s.get(&c, &format!("/leads/{b}")).await;
    let why = reason_item(&card.body, "possible_duplicate");
    assert!(
        why.contains(&format!("possible duplicate of lead #{a}"))
            && why.contains(&format!("<a href=\"/leads/{a}\">Lead #{a}</a>")),
        "{why}"
    );
    let review = s.get(&c, &format!("/duplicates/{pid}")).await;
    assert!(
        review.body.contains("Диван") && review.body.contains("Кресло"),
        "{}",
        review.body
    );
    // Where the review stands and the leads' temperatures, in words.
    assert!(
        review.body.contains("waiting for review"),
        "{}",
        review.body
    );
    assert!(
        !review.body.contains("status open"),
        "the code, not the words"
    );

    // Keep the first lead, take the product of the second.
    let r = s
        .post(
            &c,
            &format!("/duplicates/{pid}/merge"),
            &[
                ("csrf", csrf.as_str()),
                ("keep", &a.to_string()),
                ("f_product", &b.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // The merged lead's address moves to the survivor's, saying so.
    let moved = s.get(&c, &format!("/leads/{b}")).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    assert_eq!(moved.location, format!("/leads/{a}?done=merged_away"));
    let card = s.get(&c, &moved.location).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(
        card.body.contains(&format!("lead #{a}")) && card.body.contains("was merged into this one"),
        "the merged id shows the survivor"
    );
    assert!(card.body.contains("Кресло"));
    assert!(
        card.body.contains("+79264445566") || card.body.contains("+7 926"),
        "both phones"
    );
    let merge_id = value_after(&card.body, "/merges/")
        .split('/')
        .next()
        .unwrap_or("")
        .to_string();
    let r = s
        .post(
            &c,
            &format!("/merges/{merge_id}/undo"),
            &[("csrf", csrf.as_str()), ("lead", &a.to_string())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let back = s.get(&c, &format!("/leads/{b}")).await;
    assert!(back.body.contains(&format!("lead #{b}")), "separate again");
    let card = s.get(&c, &format!("/leads/{a}")).await;
    assert!(card.body.contains("Диван"));

    // The rules page saves a competitor list and shows it again.
    let rules = s.get(&c, "/admin/scrub").await;
    assert_eq!(rules.status, StatusCode::OK);
    assert!(rules.body.contains("email_disposable"));
    let r = s
        .post(
            &c,
            "/admin/scrub",
            &[
                ("csrf", csrf.as_str()),
                ("mode", "toml"),
                ("toml", "competitor_domains = [\"rival.ru\"]\n"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let rules = s.get(&c, "/admin/scrub").await;
    assert!(rules.body.contains("rival.ru"));
    let r = s
        .post(
            &c,
            "/admin/scrub",
            &[
                ("csrf", csrf.as_str()),
                ("mode", "toml"),
                ("toml", "bogus = 1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    // A reason about a field names it beside the code; the card's markup keeps the code alone.
    let flagged = s
        .capture(
            "Пётр Сидоров",
            &[
                ("phone", "+7 903 222-33-44"),
                ("email", "info@sidorov-stroy.ru"),
            ],
        )
        .await;
    let card = s.get(&c, &format!("/leads/{flagged}")).await;
    let why = reason_item(&card.body, "email_role");
    assert!(
        why.contains("info@sidorov-stroy.ru is a shared mailbox, not a person")
            && why.contains("(email_role: email)")
            && !why.contains("/leads/"),
        "{why}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoring_matrix_rules_editor_sites_and_card_explanation() {
    let s = start().await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let lead = s
        .capture(
            "Вера Соколова",
            &[
                ("phone", "+7 916 555-44-33"),
                ("company_size", "12"),
                ("visitor_id", "web-v1"),
            ],
        )
        .await;
    s.app
        .ingest_events(
            "test",
            vec![voronka_app::EventIn {
                name: "view_pricing".into(),
                visitor_id: Some("web-v1".into()),
                lead_id: None,
                url: Some("https://shop.example.com/<script>".into()),
                at: None,
                age: None,
                properties: Default::default(),
                id: None,
            }],
        )
        .await
        .unwrap();

    // The matrix: the lead's cell counts it and links to the filtered inbox.
    let m = s.get(&c, "/scoring").await;
    assert_eq!(m.status, StatusCode::OK);
    assert!(m.body.contains("id=\"score-matrix\""), "{}", m.body);
    let cell = "/leads?stage=new,working,mql,sql&#38;fit_level=suitable&#38;activity=less_active";
    assert!(m.body.contains(cell), "{}", around(&m.body, "Suitable"));
    assert!(
        m.body.contains("Suitable × Less active: 1"),
        "{}",
        around(&m.body, "Suitable")
    );
    let inbox = s
        .get(&c, "/leads?fit_level=suitable&activity=less_active")
        .await;
    assert!(
        inbox.body.contains(&format!("/leads/{lead}")),
        "{}",
        inbox.body
    );
    let other = s.get(&c, "/leads?fit_level=very_suitable").await;
    assert!(
        !other.body.contains(&format!("/leads/{lead}\"")),
        "{}",
        other.body
    );

    // The card lists the contributions.
    let card = s.get(&c, &format!("/leads/{lead}")).await;
    assert!(
        card.body.contains("Pricing viewed"),
        "{}",
        around(&card.body, "Score")
    );
    assert!(card.body.contains("Company size 1–20"));
    // The latest behaviour in words, with the page address rendered as text.
    assert!(card.body.contains("id=\"lead-events\""), "{}", card.body);
    let events = around(&card.body, "id=\"lead-events\"");
    assert!(
        events.contains("Viewed pricing") && !events.contains("view_pricing"),
        "{events}"
    );
    assert!(
        card.body.contains("shop.example.com/&#60;script&#62;"),
        "{}",
        around(&card.body, "lead-events")
    );
    assert!(!card.body.contains("/<script>"));

    // No conversion model yet: the page says so, and training with no closed lead is refused
    // with the reason on the same page.
    assert!(
        m.body.contains("id=\"model\"") && m.body.contains("No conversion model yet"),
        "{}",
        around(&m.body, "h-model")
    );
    let r = s.post(&c, "/scoring/model", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("too few closed leads") && r.body.contains("id=\"score-matrix\""),
        "{}",
        r.body
    );
    // Someone who does not manage scoring may neither rescore nor train, nor read the model.
    s.app
        .add_user("viewer@mail.ru", "Вика Смотрит", PASSWORD, Role::Viewer)
        .await
        .unwrap();
    let v = client();
    let vcsrf = s.login(&v, "viewer@mail.ru").await;
    let runs_before = s.app.latest_score_run().await.unwrap().map(|r| r.id);
    let r = s
        .post(
            &v,
            "/admin/scoring",
            &[("csrf", vcsrf.as_str()), ("mode", "rescore")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert_eq!(
        s.app.latest_score_run().await.unwrap().map(|r| r.id),
        runs_before,
        "no rescoring started"
    );
    let r = s
        .post(&v, "/scoring/model", &[("csrf", vcsrf.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // Rules editor: a preset loads into the editor, bad TOML is refused with the reason and kept.
    let page = s.get(&c, "/admin/scoring").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("half_life_days"), "{}", page.body);
    let preset = s.get(&c, "/admin/scoring?preset=b2c").await;
    assert!(preset.body.contains("Income 150,000+"), "{}", preset.body);
    let bad = s
        .post(
            &c,
            "/admin/scoring",
            &[
                ("csrf", &csrf),
                ("mode", "rules"),
                ("rules_toml", "half_life_days = -3"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(
        bad.body.contains("half-life") && bad.body.contains("half_life_days = -3"),
        "{}",
        bad.body
    );
    let rules = voronka_core::scoring::Rules {
        half_life_days: 7.0,
        ..Default::default()
    };
    let ok = s
        .post(
            &c,
            "/admin/scoring",
            &[
                ("csrf", &csrf),
                ("mode", "rules"),
                ("rules_toml", &rules.to_toml()),
            ],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(s.app.scorer().rules().half_life_days, 7.0);
    let after = s.get(&c, "/admin/scoring").await;
    assert!(after.body.contains("id=\"score-run\""), "{}", after.body);

    // A tracking site with its embed code.
    let r = s
        .post(
            &c,
            "/admin/scoring",
            &[
                ("csrf", &csrf),
                ("mode", "site"),
                ("name", "Shop <1>"),
                ("origins", "https://shop.example.com"),
                ("honour_dnt", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&c, "/admin/scoring").await;
    assert!(
        page.body.contains("Shop &#60;1&#62;") && page.body.contains("/t.js"),
        "{}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_queue_sla_dashboard_and_kanban() {
    let s = start().await;
    let seller = s
        .app
        .add_user("olga@mail.ru", "Ольга Продажи", PASSWORD, Role::Salesperson)
        .await
        .unwrap();
    let lead = s
        .capture(
            "Пётр Звонков",
            &[("phone", "+7 916 777-66-55"), ("email", "petr@mail.ru")],
        )
        .await;
    s.app
        .assign(&Actor::system("t"), lead, Some(seller.id))
        .await
        .unwrap();

    // The salesperson's queue: the lead with one-click call and email, and an outcome form.
    let c = client();
    let csrf = s.login(&c, "olga@mail.ru").await;
    let work = s.get(&c, "/work").await;
    assert_eq!(work.status, StatusCode::OK);
    assert!(work.body.contains("Пётр Звонков"), "{}", work.body);
    assert!(
        work.body.contains("href=\"tel:+79167776655\""),
        "{}",
        around(&work.body, "tel:")
    );
    assert!(work.body.contains("mailto:petr@mail.ru"));
    assert_temperature_in_words(&work.body);
    let r = s
        .post(
            &c,
            &format!("/work/leads/{lead}/outcome"),
            &[("csrf", &csrf), ("kind", "call"), ("outcome", "no_answer")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    // A call-back without its time: the queue again, with the reason, not an error page.
    let refused = s
        .post(
            &c,
            &format!("/work/leads/{lead}/outcome"),
            &[("csrf", &csrf), ("kind", "call"), ("outcome", "call_back")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .body
            .contains("<option value=\"call_back\" selected>"),
        "the chosen outcome is kept"
    );
    assert!(refused
        .body
        .contains("<link rel=\"canonical\" href=\"/work\">"));
    assert!(
        refused.body.contains("flash-error") && refused.body.contains("Пётр Звонков"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("href=\"/work\""),
        "the top bar is there"
    );
    // A call-back time is the person's wall clock: the browser's zone, else their profile's.
    let next_year = chrono::Datelike::year(&chrono::Utc::now()) + 1;
    for (tz, utc_hour) in [("Europe/Moscow", 12), ("", 15)] {
        let r = s
            .post(
                &c,
                &format!("/work/leads/{lead}/outcome"),
                &[
                    ("csrf", &csrf),
                    ("kind", "call"),
                    ("outcome", "call_back"),
                    ("tz", tz),
                    ("call_back_at", &format!("{next_year}-05-01T15:00")),
                ],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let due = chrono::NaiveDate::from_ymd_opt(next_year, 5, 1)
            .unwrap()
            .and_hms_opt(utc_hour, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let tasks = s
            .app
            .tasks_of(&Actor::system("t"), seller.id, true)
            .await
            .unwrap();
        assert!(
            tasks
                .iter()
                .any(|k| k.lead_id == Some(lead) && k.due_at == due),
            "{tz:?}: {tasks:?}"
        );
    }
    // The call is the first response; no answer schedules the next call.
    let d = s.app.lead_detail(&Actor::system("t"), lead).await.unwrap();
    assert!(d.lead.first_response_at.is_some());
    let work = s.get(&c, "/work?done=activity").await;
    let task = value_after(&work.body, "action=\"/work/tasks/");
    let task = task.trim_end_matches("/done").to_string();
    assert!(
        task.parse::<i64>().is_ok(),
        "{}",
        around(&work.body, "/work/tasks/")
    );
    let r = s
        .post(&c, &format!("/work/tasks/{task}/done"), &[("csrf", &csrf)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/work?done=task");
    // Managers' pages are not for salespeople.
    let sla = s.get(&c, "/sla").await;
    assert_ne!(sla.status, StatusCode::OK);
    assert!(sla.body.contains("Only sales managers"), "{}", sla.body);

    // The manager's views.
    let m = client();
    let mcsrf = s.login(&m, ADMIN_EMAIL).await;
    let sla = s.get(&m, "/sla").await;
    assert_eq!(sla.status, StatusCode::OK);
    assert!(
        sla.body.contains("id=\"team-load\"") && sla.body.contains("Ольга Продажи"),
        "{}",
        sla.body
    );
    assert!(
        sla.body.contains("<td><bdi>Everyone</bdi></td>"),
        "the response-time table's first row is every lead, in words"
    );
    // A column shows its first 100 cards and counts them all. Their first responses are due in
    // five minutes, any hour of the week.
    let sla = voronka_app::App::parse_sla_settings(
        "[default]\nhot = \"5m\"\nwarm = \"5m\"\ncold = \"5m\"\nhours = \"mon-sun 00:00-24:00\"\n",
        true,
    )
    .unwrap();
    s.app
        .set_sla_settings(&Actor::system("t"), sla)
        .await
        .unwrap();
    for i in 0..101 {
        s.capture(
            &format!("Kanban {i}"),
            &[(
                "phone",
                &format!("+7 916 100-{:02}-{:02}", i / 100, i % 100),
            )],
        )
        .await;
    }
    // The dashboard pages the 101 leads waiting, 50 at a time, named.
    let sla = s.get(&m, "/sla").await;
    assert!(
        sla.body
            .contains("<span class=\"stat-n\" id=\"due-soon\">101</span>"),
        "{}",
        around(&sla.body, "due-soon")
    );
    assert!(
        sla.body.contains("1–50 of 101"),
        "{}",
        around(&sla.body, "caption")
    );
    assert!(sla.body.contains("<bdi>Kanban 0</bdi>"));
    assert!(
        sla.body.contains(
            "<bdi>Ольга Продажи</bdi></a></td><td class=\"num\">101</td><td class=\"num\">0</td></tr>"
        ),
        "{}",
        around(&sla.body, "due-per-person")
    );
    // A person's line opens the inbox of their open leads.
    let theirs = format!("/leads?stage=new,working,mql,sql&owner={}", seller.id);
    assert!(
        sla.body
            .contains(&format!("href=\"{}\"", theirs.replace('&', "&#38;"))),
        "{}",
        around(&sla.body, "due-per-person")
    );
    let inbox = s.get(&m, &theirs).await;
    assert!(
        inbox.body.contains("<bdi>Kanban 100</bdi>")
            && inbox
                .body
                .contains(&format!("<option value=\"{}\" selected>", seller.id)),
        "{}",
        inbox.body
    );
    assert!(sla.body.contains("href=\"/sla?from=50\" rel=\"next\""));
    assert!(!sla.body.contains("rel=\"prev\""));
    let last = s.get(&m, "/sla?from=100").await;
    assert!(
        last.body.contains("101–101 of 101"),
        "{}",
        around(&last.body, "caption")
    );
    assert!(last.body.contains("href=\"/sla?from=50\" rel=\"prev\""));
    assert!(!last.body.contains("rel=\"next\""));
    for odd in [
        "/sla?from=18446744073709551615",
        "/sla?from=-1",
        "/sla?from=x",
    ] {
        let r = s.get(&m, odd).await;
        assert_eq!(r.status, StatusCode::OK, "{odd}");
    }
    let past = s.get(&m, "/sla?from=5000").await;
    assert!(
        past.body.contains("101–101 of 101"),
        "a page past the end is the last one"
    );
    // The salesperson's queue pages too: 100 leads, then the rest.
    let work = s.get(&c, "/work").await;
    assert_eq!(
        work.body.matches("<tr data-lead=").count(),
        100,
        "{}",
        around(&work.body, "pager")
    );
    assert!(work.body.contains("href=\"/work?from=100\" rel=\"next\""));
    for odd in [
        "/work?from=9223372036854775807",
        "/work?from=-3",
        "/work?from=x",
    ] {
        let r = s.get(&c, odd).await;
        assert_eq!(r.status, StatusCode::OK, "{odd}");
    }
    let rest = s.get(&c, "/work?from=100").await;
    assert_eq!(rest.body.matches("<tr data-lead=").count(), 2);
    assert!(rest.body.contains("href=\"/work?from=0\" rel=\"prev\""));
    // An outcome sent from the second page comes back to it, refused or logged.
    let second: i64 = value_after(&rest.body, "<tr data-lead=\"")
        .trim_end_matches('"')
        .parse()
        .unwrap();
    let refused = s
        .post(
            &c,
            &format!("/work/leads/{second}/outcome"),
            &[
                ("csrf", &csrf),
                ("kind", "email"),
                ("outcome", "call_back"),
                ("from", "100"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused
        .body
        .contains("<link rel=\"canonical\" href=\"/work?from=100\">"));
    assert!(
        refused.body.contains("<option value=\"email\" selected>"),
        "the row's choices are kept on its page"
    );
    let board = s.get(&m, "/kanban").await;
    assert_eq!(board.status, StatusCode::OK);
    assert!(
        board.body.contains("data-count>101</span>"),
        "{}",
        around(&board.body, "data-count")
    );
    assert!(
        board
            .body
            .contains("href=\"/leads?stage=new\">1 more in the inbox"),
        "{}",
        around(&board.body, "more in")
    );
    assert_temperature_in_words(&board.body);
    assert!(
        board.body.contains(&format!("data-lead=\"{lead}\"")),
        "{}",
        board.body
    );
    // Drag and drop: a legal move is made, an illegal one refused with the reason.
    let moved = m
        .post(format!("{}/kanban/leads/{lead}/stage", s.base))
        .form(&[("csrf", mcsrf.as_str()), ("stage", "mql")])
        .send()
        .await
        .unwrap();
    assert!(moved.status().is_success());
    let v: serde_json::Value = moved.json().await.unwrap();
    assert_eq!(v["stage"], "mql", "{v}");
    let refused = m
        .post(format!("{}/kanban/leads/{lead}/stage", s.base))
        .form(&[("csrf", mcsrf.as_str()), ("stage", "converted")])
        .send()
        .await
        .unwrap();
    assert!(refused.status().is_client_error());
    let v: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("conver"),
        "{v}"
    );
    // A logged outcome from the queue's second page comes back to that page.
    let logged = s
        .post(
            &c,
            &format!("/work/leads/{second}/outcome"),
            &[
                ("csrf", &csrf),
                ("kind", "call"),
                ("outcome", "no_answer"),
                ("from", "100"),
            ],
        )
        .await;
    assert_eq!(logged.location, "/work?done=activity&from=100");
}

/// The inbox's search box keeps the other filters in force and the sort; the filter form keeps the
/// scoring matrix's fit level and activity; an address no page has is the styled "not found" page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_keeps_filters_and_unknown_pages_are_styled() {
    let s = start().await;
    let c = client();
    s.login(&c, ADMIN_EMAIL).await;
    let page = s
        .get(
            &c,
            "/leads?stage=new&temperature=hot&source=google&fit_level=suitable&activity=active&sort=-score",
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    // From the form's mark to its end.
    let form_at = |mark: &str| {
        let from = page
            .body
            .find(mark)
            .unwrap_or_else(|| panic!("{mark} not found"));
        let len = page.body[from..].find("</form>").expect("the form's end");
        page.body[from..from + len].to_string()
    };
    let search = form_at("role=\"search\"");
    for (k, v) in [
        ("stage", "new"),
        ("temperature", "hot"),
        ("source", "google"),
        ("fit_level", "suitable"),
        ("activity", "active"),
        ("sort", "-score"),
    ] {
        assert!(
            search.contains(&format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{v}\">"
            )),
            "{k}: {search}"
        );
    }
    let filters = form_at("class=\"filter-grid\"");
    assert!(
        filters.contains("name=\"fit_level\" value=\"suitable\"")
            && filters.contains("name=\"activity\" value=\"active\""),
        "{filters}"
    );
    // A lead from Britain is converted in pounds unless it says otherwise.
    let uk = s
        .capture("Oliver Bennett", &[("phone", "+44 20 7946 0958")])
        .await;
    let card = s.get(&c, &format!("/leads/{uk}")).await;
    assert!(
        card.body.contains("name=\"currency\" value=\"GBP\""),
        "{}",
        around(&card.body, "name=\"currency\"")
    );
    // The audit log is read a page at a time.
    for i in 0..101 {
        s.app
            .add_note(&Actor::system("t"), uk, &format!("note {i}"))
            .await
            .unwrap();
    }
    let audit = s.get(&c, "/admin/audit").await;
    let older = value_after(&audit.body, "href=\"/admin/audit?before=");
    assert!(
        older.parse::<i64>().is_ok(),
        "{}",
        around(&audit.body, "before=")
    );
    let page2 = s.get(&c, &format!("/admin/audit?before={older}")).await;
    assert_eq!(page2.status, StatusCode::OK);
    assert!(page2.body.contains("Newest entries") && page2.body.contains("Note added"));
    assert!(
        !page2.body.contains("Older entries"),
        "the second page is the last"
    );
    // An empty search is not an empty list; an empty queue has no table.
    let customers = s
        .get(&c, "/customers?q=%D0%93%D1%80%D0%B0%D0%BD%D0%B8%D1%82")
        .await;
    assert!(
        customers.body.contains("No customer matches this search.")
            && !customers.body.contains("No customers yet"),
        "{}",
        customers.body
    );
    let work = s.get(&c, "/work").await;
    assert!(
        work.body.contains("No open leads") && !work.body.contains("id=\"work-queue\""),
        "{}",
        work.body
    );
    // Each role's navigation links only what it may open.
    for (email, role) in [
        ("mkt@mail.ru", Role::Marketer),
        ("sell@mail.ru", Role::Salesperson),
    ] {
        s.app
            .add_user(email, "Someone", PASSWORD, role)
            .await
            .unwrap();
    }
    let mkt = client();
    let r = s
        .post(
            &mkt,
            "/login",
            &[
                ("email", "mkt@mail.ru"),
                ("password", PASSWORD),
                ("next", "/forms"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let rules = s.get(&mkt, "/admin/scoring").await;
    assert_eq!(rules.status, StatusCode::OK);
    assert!(
        rules.body.contains("href=\"/admin/scoring\""),
        "{}",
        rules.body
    );
    for admin_only in [
        "/admin/users",
        "/admin/tokens",
        "/admin/audit",
        "/admin/status",
    ] {
        assert!(
            !rules.body.contains(&format!("href=\"{admin_only}\"")),
            "{admin_only} offered to a marketer"
        );
    }
    let sell = client();
    s.login(&sell, "sell@mail.ru").await;
    let inbox = s.get(&sell, "/leads").await;
    assert!(inbox.body.contains("href=\"/kanban\""), "no pipeline link");
    assert!(
        !inbox.body.contains("href=\"/admin/"),
        "admin links for a salesperson"
    );
    let missing = s.get(&c, "/no-such-page").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.content_type.starts_with("text/html") && missing.body.contains("<h1"),
        "{} {}",
        missing.content_type,
        missing.body
    );
    // The API keeps answering JSON.
    let api = s.get(&c, "/api/v1/no-such-thing").await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(
        api.content_type.starts_with("application/json"),
        "{}",
        api.content_type
    );
}

/// The page of an import once it has ended (done or stopped), read as the browser reloads it.
async fn import_ended(srv: &Server, c: &Client, job: &str) -> Resp {
    for _ in 0..200 {
        let p = srv.get(c, job).await;
        assert_eq!(p.status, StatusCode::OK, "{}", p.body);
        if !p.body.contains("data-state=\"running\"") {
            assert!(!p.body.contains("http-equiv=\"refresh\""), "{}", p.body);
            return p;
        }
        assert!(p.body.contains("http-equiv=\"refresh\""), "{}", p.body);
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the import {job} did not end");
}

/// An import from the browser: a Windows-1251 file with `;` between fields is uploaded, read
/// through the intake in the background, and its page shows the summary, the columns and the
/// rows that did not become leads; only managers may import, and only with the form's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn csv_import_from_the_browser() {
    let srv = start().await;
    let c = client();
    let csrf = srv.login(&c, ADMIN_EMAIL).await;
    let inbox = srv.get(&c, "/leads").await;
    assert!(
        inbox.body.contains("href=\"/import\""),
        "managers see the way in"
    );
    let page = srv.get(&c, "/import").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("enctype=\"multipart/form-data\""));
    assert!(page.body.contains("Windows-1251"));

    let text = "ФИО;Телефон;Компания\r\n\
                Иван <b>Петров</b>;+7 912 345-67-89;ООО Ромашка\r\n\
                Ольга Смирнова;8 (916) 555-01-01;\r\n\
                Пётр;12345;\r\n";
    let bytes = encoding_rs::WINDOWS_1251.encode(text).0.into_owned();
    let upload = |csrf: &str, bytes: Vec<u8>| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .text("source", "выставка-2026")
            .text("encoding", "")
            .text("delimiter", "")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("клиенты <1>.csv"),
            )
    };
    // Without the form's token nothing is imported.
    let r = read(
        c.post(format!("{}/import", srv.base))
            .multipart(upload("forged", bytes.clone()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    // A file sent before the token is refused before it is stored, whatever token follows.
    let file_first = reqwest::multipart::Form::new()
        .part(
            "file",
            reqwest::multipart::Part::bytes(bytes.clone()).file_name("клиенты.csv"),
        )
        .text("csrf", csrf.clone());
    let r = read(
        c.post(format!("{}/import", srv.base))
            .multipart(file_first)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let listed = srv.get(&c, "/import").await;
    assert!(!listed.body.contains("/import/1\""), "nothing started");

    let r = read(
        c.post(format!("{}/import", srv.base))
            .multipart(upload(&csrf, bytes.clone()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let job = r.location.clone();
    assert!(job.starts_with("/import/"), "{job}");
    // The page reloads itself while the import runs; then it shows the summary.
    let p = import_ended(&srv, &c, &job).await;
    assert!(p.body.contains("data-state=\"done\""), "{}", p.body);
    let n = |name: &str| {
        p.body
            .split(&format!("data-n=\"{name}\">"))
            .nth(1)
            .and_then(|r| r.split('<').next())
            .unwrap_or_else(|| panic!("no {name}: {}", p.body))
            .to_string()
    };
    assert_eq!(
        (n("created"), n("interests"), n("failed")),
        ("2".into(), "1".into(), "0".into())
    );
    assert!(
        p.body.contains("s as windows-1251 with <code>;</code>"),
        "{}",
        p.body
    );
    assert!(
        p.body.contains("клиенты &#60;1&#62;.csv"),
        "the file name is escaped: {}",
        p.body.split("<h1>").nth(1).unwrap_or("")
    );
    assert!(
        p.body.contains("<bdi>ФИО</bdi></td><td><code>name</code>"),
        "{}",
        p.body
    );
    // The row that became an interest, with its reason.
    let rej = c
        .get(format!("{}{job}/rejected.csv", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(rej.status(), StatusCode::OK);
    assert!(rej.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let rej = rej.text().await.unwrap();
    assert!(
        rej.starts_with("row,result,reasons,ФИО,Телефон,Компания"),
        "{rej}"
    );
    assert!(rej.contains("4,interest,") && rej.contains("Пётр"), "{rej}");
    // The leads are there, their names escaped on the inbox page.
    let inbox = srv
        .get(
            &c,
            "/leads?source=%D0%B2%D1%8B%D1%81%D1%82%D0%B0%D0%B2%D0%BA%D0%B0-2026",
        )
        .await;
    assert!(inbox.body.contains("Ольга Смирнова"), "{}", inbox.body);
    assert!(inbox.body.contains("Иван &#60;b&#62;Петров&#60;/b&#62;"));
    // The same file again adds nothing; the list of imports names both.
    let r = read(
        c.post(format!("{}/import", srv.base))
            .multipart(upload(&csrf, bytes))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let again = r.location.clone();
    let p = import_ended(&srv, &c, &again).await;
    assert!(p.body.contains("data-n=\"skipped\">3<"), "{}", p.body);
    let list = srv.get(&c, "/import").await;
    assert_eq!(list.body.matches("клиенты &#60;1&#62;.csv").count(), 2);
    // An empty upload is refused with a message; an unknown import is not found.
    let r = read(
        c.post(format!("{}/import", srv.base))
            .multipart(upload(&csrf, Vec::new()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("Choose a CSV file"), "{}", r.body);
    // A file that is not a table of people (a picture's bytes) stops with the reason, adding nothing.
    let before = srv
        .get(&c, "/leads")
        .await
        .body
        .matches("href=\"/leads/")
        .count();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..4096u32).map(|i| (i * 7919 % 251) as u8));
    let r = read(
        c.post(format!("{}/import", srv.base))
            .multipart(upload(&csrf, png))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let bad = r.location.clone();
    let p = import_ended(&srv, &c, &bad).await;
    assert!(p.body.contains("data-state=\"failed\""), "{}", p.body);
    assert!(
        p.body.contains("no phone, email or social column found"),
        "{}",
        p.body
    );
    let after = srv
        .get(&c, "/leads")
        .await
        .body
        .matches("href=\"/leads/")
        .count();
    assert_eq!(before, after);
    assert_eq!(
        srv.get(&c, "/import/999").await.status,
        StatusCode::NOT_FOUND
    );

    // Headers the import does not know, with a mapping file; a mapping file that names an
    // unknown field is refused before anything is read.
    let with_map = |map: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(
                    b"Client|Cell\nJan de Vries|+31 6 12345678\n".to_vec(),
                )
                .file_name("partner.csv"),
            )
            .part(
                "map",
                reqwest::multipart::Part::bytes(map.as_bytes().to_vec()).file_name("partner.toml"),
            )
    };
    let r = read(
        c.post(format!("{}/import", srv.base))
            .multipart(with_map(
                "delimiter = \"|\"\n[columns]\n\"Client\" = \"name\"\n\"Cell\" = \"phone\"\n",
            ))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let p = import_ended(&srv, &c, &r.location).await;
    assert!(p.body.contains("data-n=\"created\">1<"), "{}", p.body);
    assert!(
        p.body
            .contains("<bdi>Cell</bdi></td><td><code>phone</code>"),
        "{}",
        p.body
    );
    let r = read(
        c.post(format!("{}/import", srv.base))
            .multipart(with_map("[columns]\n\"Cell\" = \"mobile\"\n"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("unknown field"), "{}", r.body);

    // A salesperson may not import.
    srv.app
        .add_user("sp@mail.ru", "Продавец", PASSWORD, Role::Salesperson)
        .await
        .unwrap();
    let sp = client();
    srv.login(&sp, "sp@mail.ru").await;
    assert!(!srv
        .get(&sp, "/leads")
        .await
        .body
        .contains("href=\"/import\""));
    assert_eq!(srv.get(&sp, "/import").await.status, StatusCode::FORBIDDEN);
    assert_eq!(srv.get(&sp, &job).await.status, StatusCode::FORBIDDEN);
}

/// The inbox's selection: each row has its box, the bar applies one change to the chosen leads
/// and returns to the same list saying how many changed and which were left as they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_selection_changes_many_leads() {
    let s = start().await;
    let a = s
        .capture("Выбранный Первый", &[("phone", "+7 916 500-00-01")])
        .await;
    let b = s
        .capture("Выбранный Второй", &[("phone", "+7 916 500-00-02")])
        .await;
    let done = s
        .capture("Уже Клиент", &[("phone", "+7 916 500-00-03")])
        .await;
    s.convert_rub(done, 50_000).await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let inbox = s.get(&c, "/leads").await;
    for id in [a, b, done] {
        assert!(
            inbox.body.contains(&format!("name=\"id\" value=\"{id}\"")),
            "{}",
            around(&inbox.body, "data-bulk")
        );
    }
    assert!(inbox.body.contains("value=\"temperature:hot\""));
    assert!(inbox.body.contains("value=\"assign:none\""));
    let reason = s.app.refusal_reasons().await.unwrap()[0].clone();
    assert!(
        inbox.body.contains(&format!("value=\"refuse:{reason}\"")),
        "{}",
        around(&inbox.body, "refuse:")
    );
    assert!(inbox.body.contains("<kbd>x</kbd> select"));

    let (sa, sb, sd) = (a.to_string(), b.to_string(), done.to_string());
    let r = s
        .post(
            &c,
            "/leads/bulk",
            &[
                ("csrf", csrf.as_str()),
                ("back", "/leads?stage=new"),
                ("id", &sa),
                ("id", &sb),
                ("action", "temperature:hot"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location
            .starts_with("/leads?stage=new&done=bulk&changed=2&refused=0"),
        "{}",
        r.location
    );
    let back = s.get(&c, &r.location).await;
    assert!(back.body.contains("2 leads changed."), "{}", back.body);
    for id in [a, b] {
        let l = s.app.store().lead(id).await.unwrap().unwrap();
        assert_eq!(l.temperature, voronka_core::Temperature::Hot);
    }
    // The converted lead cannot move back to work: named, the other moved.
    let r = s
        .post(
            &c,
            "/leads/bulk",
            &[
                ("csrf", csrf.as_str()),
                ("back", "/leads"),
                ("id", &sa),
                ("id", &sd),
                ("action", "stage:working"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let back = s.get(&c, &r.location).await;
    assert!(back.body.contains("1 lead changed."), "{}", back.body);
    assert!(
        back.body.contains(&format!(
            "1 lead was left unchanged (its stage or your rights do not allow this change): #{done}."
        )),
        "{}",
        back.body
    );
    // Refused together with a comment and a date to return to work; a date that cannot be
    // read refuses the change before any lead moves.
    let reason = s.app.refusal_reasons().await.unwrap()[0].clone();
    let refuse_with = format!("refuse:{reason}");
    let third = s
        .capture("Заморозить Позже", &[("phone", "+7 916 500-00-04")])
        .await;
    let st = third.to_string();
    let refuse_until = |until: &'static str| {
        let form = [
            ("csrf", csrf.clone()),
            ("id", st.clone()),
            ("action", refuse_with.clone()),
            ("comment", "Бюджет в марте".to_string()),
            ("freeze_until", until.to_string()),
        ];
        let (s, c) = (&s, &c);
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            s.post(c, "/leads/bulk", &form).await
        }
    };
    let r = refuse_until("31.02.2030").await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let l = s.app.store().lead(third).await.unwrap().unwrap();
    assert_eq!(l.stage, voronka_core::Stage::New);
    let r = refuse_until("2030-03-01").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let l = s.app.store().lead(third).await.unwrap().unwrap();
    assert_eq!(l.stage, voronka_core::Stage::Refused);
    assert_eq!(l.frozen_until.map(utc_date), Some("2030-03-01".to_string()));
    let card = s.get(&c, &format!("/leads/{third}")).await;
    assert!(card.body.contains("Бюджет в марте"), "{}", card.body);
    // The list's address is another site's: back to the inbox instead.
    let r = s
        .post(
            &c,
            "/leads/bulk",
            &[
                ("csrf", csrf.as_str()),
                ("back", "//evil.example/leads"),
                ("id", &sb),
                ("action", "assign:none"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.location.starts_with("/leads?done=bulk"), "{}", r.location);
    // Nothing chosen, or no change chosen: the reason, nothing changed; a forged form: refused.
    let r = s
        .post(
            &c,
            "/leads/bulk",
            &[("csrf", csrf.as_str()), ("action", "temperature:cold")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("choose at least one lead"), "{}", r.body);
    let r = s
        .post(&c, "/leads/bulk", &[("csrf", csrf.as_str()), ("id", &sa)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("choose the change to apply"), "{}", r.body);
    let r = s
        .post(
            &c,
            "/leads/bulk",
            &[
                ("csrf", "forged"),
                ("id", &sa),
                ("action", "temperature:cold"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let l = s.app.store().lead(a).await.unwrap().unwrap();
    assert_eq!(l.temperature, voronka_core::Temperature::Hot);
    // Someone who only reads leads gets neither the boxes nor the bar, and may not post one.
    s.app
        .add_user("reader@mail.ru", "Читатель", PASSWORD, Role::Viewer)
        .await
        .unwrap();
    let v = client();
    let vcsrf = s.login(&v, "reader@mail.ru").await;
    let list = s.get(&v, "/leads").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains(&format!("/leads/{a}"))
            && !list.body.contains("data-bulk")
            && !list.body.contains("name=\"id\""),
        "{}",
        list.body
    );
    let r = s
        .post(
            &v,
            "/leads/bulk",
            &[
                ("csrf", vcsrf.as_str()),
                ("id", &sa),
                ("action", "temperature:cold"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Words typed into the address are not shown as the list of leads left as they were.
    let page = s
        .get(
            &c,
            "/leads?done=bulk&changed=0&refused=1&refused_ids=%3Cb%3Ecall+us%3C%2Fb%3E",
        )
        .await;
    assert!(!page.body.contains("call us"), "{}", page.body);

    // Two people of one company convert: one customer, whose card names the second person.
    let mut customer = None;
    for (name, phone) in [
        ("Ирина Закупкина", "+7 916 500-00-11"),
        ("Пётр <b>Директоров</b>", "+7 916 500-00-12"),
    ] {
        let id = s
            .capture(name, &[("phone", phone), ("company", "ООО «Ромашка»")])
            .await;
        let cust = s.convert_rub(id, 1_000).await;
        assert!(customer.is_none_or(|c| c == cust));
        customer = Some(cust);
    }
    let card = s
        .get(&c, &format!("/customers/{}", customer.unwrap()))
        .await;
    assert!(
        card.body.contains("id=\"customer-people\"")
            && card.body.contains("Пётр &#60;b&#62;Директоров&#60;/b&#62;"),
        "{}",
        around(&card.body, "customer-people")
    );
    // The company's page leads to its customer, with both deals.
    let account = value_after(&card.body, "href=\"/accounts/");
    let page = s.get(&c, &format!("/accounts/{account}")).await;
    assert!(
        page.body
            .contains(&format!("href=\"/customers/{}\"", customer.unwrap()))
            && page.body.contains("<td class=\"num\">2</td>"),
        "{}",
        page.body
    );
}

/// The inbox's "Export CSV" gives every lead of its filters as a file a spreadsheet program reads
/// right (UTF-8's byte-order mark, names in any script); people who may not export personal data
/// get neither the button nor the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_exports_its_leads_as_csv() {
    let s = start().await;
    let first = s
        .capture(
            "Экспорт Первый",
            &[("phone", "+7 916 600-00-01"), ("company", "Ромашка")],
        )
        .await;
    let second = s
        .capture("Экспорт <b>Второй</b>", &[("email", "second@mail.ru")])
        .await;
    let other = s
        .capture("Другой Человек", &[("phone", "+7 916 600-00-02")])
        .await;
    let c = client();
    s.login(&c, ADMIN_EMAIL).await;
    let page = s
        .get(&c, "/leads?q=%D0%AD%D0%BA%D1%81%D0%BF%D0%BE%D1%80%D1%82")
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let start_at = page
        .body
        .find("href=\"/leads/export")
        .unwrap_or_else(|| panic!("no export link: {}", around(&page.body, "page-head")));
    let href: String = page.body[start_at + 6..]
        .chars()
        .take_while(|c| *c != '"')
        .collect::<String>()
        .replace("&amp;", "&");
    assert!(href.contains("q=%D0%AD"), "{href}");
    let file = s.get(&c, &href).await;
    assert_eq!(file.status, StatusCode::OK, "{}", file.body);
    assert_eq!(file.content_type, "text/csv; charset=utf-8");
    assert_eq!(file.cache, "no-store");
    let text = file
        .body
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("no byte-order mark: {:?}", &file.body[..20]));
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    let ids: Vec<(String, String)> = rd
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[4].to_string())
        })
        .collect();
    assert_eq!(
        ids,
        [
            (first.to_string(), "Экспорт Первый".to_string()),
            (second.to_string(), "Экспорт <b>Второй</b>".to_string()),
        ]
    );
    // Without filters: every lead.
    let all = s.get(&c, "/leads/export").await;
    assert_eq!(all.status, StatusCode::OK);
    assert!(all.body.contains("Другой Человек"), "{}", all.body);
    assert!(all.body.contains(&format!("\n{other},")), "{}", all.body);

    let seller_email = "exporter@mail.ru";
    s.app
        .add_user(seller_email, "Sam Seller", PASSWORD, Role::Salesperson)
        .await
        .unwrap();
    let sc = client();
    s.login(&sc, seller_email).await;
    let inbox = s.get(&sc, "/leads").await;
    assert_eq!(inbox.status, StatusCode::OK);
    assert!(
        !inbox.body.contains("/leads/export"),
        "{}",
        around(&inbox.body, "page-head")
    );
    let refused = s.get(&sc, "/leads/export").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(!refused.body.contains("Экспорт"), "{}", refused.body);
}

/// Two customers of one name: the card offers the other as the same buyer, merging moves its deal
/// here and says so, its old address leads here, and what may not merge is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_merge_from_the_card() {
    let s = start().await;
    let a = s
        .capture("Пётр <b>Двойник</b>", &[("phone", "+7 916 700-00-01")])
        .await;
    let b = s
        .capture("Пётр <b>Двойник</b>", &[("phone", "+7 916 700-00-02")])
        .await;
    let first = s.convert_rub(a, 10_000).await;
    let second = s.convert_rub(b, 20_000).await;
    assert_ne!(first, second);
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let card = s.get(&c, &format!("/customers/{second}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(
        card.body.contains("id=\"customer-look-alikes\"")
            && card
                .body
                .contains(&format!("action=\"/customers/{first}/merge\""))
            && card.body.contains("Пётр &#60;b&#62;Двойник&#60;/b&#62;")
            && !card.body.contains("<b>Двойник"),
        "{}",
        around(&card.body, "customer-look-alikes")
    );
    // Not a number, a forged form: refused, nothing moved.
    let r = s
        .post(
            &c,
            &format!("/customers/{first}/merge"),
            &[("csrf", csrf.as_str()), ("into", "второй")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("customer id must be a positive integer"),
        "{}",
        r.body
    );
    let into = second.to_string();
    let r = s
        .post(
            &c,
            &format!("/customers/{first}/merge"),
            &[("csrf", "forged"), ("into", into.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.get(&c, &format!("/customers/{first}")).await.status,
        StatusCode::OK
    );

    let r = s
        .post(
            &c,
            &format!("/customers/{first}/merge"),
            &[("csrf", csrf.as_str()), ("into", into.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location,
        format!("/customers/{second}?done=customer_merged")
    );
    let card = s.get(&c, &r.location).await;
    assert!(
        card.body
            .contains("Customer merged: its deals and leads are this customer")
            && card.body.contains("1 deal and 1 lead moved")
            && card.body.contains(&format!("(#{first})")),
        "{}",
        around(&card.body, "customer-merged")
    );
    assert!(
        card.body.contains("300.00 RUB"),
        "both deals add up: {}",
        around(&card.body, "big-pill")
    );
    assert!(!card.body.contains("id=\"customer-look-alikes\""));
    // The merged customer's address leads to where it went.
    let old = s.get(&c, &format!("/customers/{first}")).await;
    assert_eq!(old.status, StatusCode::SEE_OTHER);
    assert_eq!(old.location, format!("/customers/{second}"));

    // A salesperson gets no merge form and may not post one.
    s.app
        .add_user("merger@mail.ru", "Sam Seller", PASSWORD, Role::Salesperson)
        .await
        .unwrap();
    let sc = client();
    let scsrf = s.login(&sc, "merger@mail.ru").await;
    // Nor learns where a customer that is not theirs went.
    let old = s.get(&sc, &format!("/customers/{first}")).await;
    assert_eq!(old.status, StatusCode::NOT_FOUND, "{}", old.location);
    let r = s
        .post(
            &sc,
            &format!("/customers/{second}/merge"),
            &[("csrf", scsrf.as_str()), ("into", "1")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    // Undone from the card of the customer it went into: the first customer is back.
    let card = s.get(&c, &format!("/customers/{second}")).await;
    let merge = s
        .app
        .store()
        .customer_detail(second)
        .await
        .unwrap()
        .unwrap()
        .merged_from[0]
        .id;
    let action = format!("action=\"/customer-merges/{merge}/undo\"");
    assert!(
        card.body.contains(&action) && card.body.contains("data-confirm=\"Undo this merge?"),
        "{}",
        around(&card.body, "customer-merged")
    );
    let undo = format!("/customer-merges/{merge}/undo");
    let r = s.post(&sc, &undo, &[("csrf", scsrf.as_str())]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let r = s.post(&c, &undo, &[("csrf", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.post(&c, &undo, &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location,
        format!("/customers/{first}?done=customer_unmerged")
    );
    let card = s.get(&c, &r.location).await;
    assert!(
        card.body.contains("Merge undone: the customer is back"),
        "{}",
        card.body
    );
    let card = s.get(&c, &format!("/customers/{second}")).await;
    assert!(
        !card.body.contains("id=\"customer-merged\"") && !card.body.contains(&action),
        "{}",
        around(&card.body, "customer-merged")
    );
    let r = s.post(&c, &undo, &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    assert!(
        r.body.contains("this merge was undone already"),
        "{}",
        r.body
    );
}

/// An administrator erases a person's data from their contact page, confirming it: the page then
/// says so and shows nothing of them; a sales manager gets no such form and may not post one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_data_is_erased_from_the_contact_page() {
    let s = start().await;
    let lead = s
        .capture(
            "Стереть <b>Меня</b>",
            &[("phone", "+7 916 900-00-01"), ("email", "erase.me@mail.ru")],
        )
        .await;
    let contact = s.app.store().lead(lead).await.unwrap().unwrap().contact_id;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let path = format!("/contacts/{contact}");
    let page = s.get(&c, &path).await;
    assert!(
        page.body
            .contains(&format!("action=\"/contacts/{contact}/erase\""))
            && page.body.contains("Стереть &#60;b&#62;Меня&#60;/b&#62;"),
        "{}",
        around(&page.body, "h-erase")
    );
    let erase = format!("/contacts/{contact}/erase");
    // Not confirmed, or no reason: refused, nothing erased.
    for form in [
        vec![("csrf", csrf.as_str()), ("reason", "Просьба от 01.12")],
        vec![("csrf", csrf.as_str()), ("confirm", "1"), ("reason", " ")],
    ] {
        let r = s.post(&c, &erase, &form).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    }
    assert!(s.get(&c, &path).await.body.contains("erase.me@mail.ru"));
    // A sales manager may not.
    s.app
        .add_user("boss@mail.ru", "Boss", PASSWORD, Role::SalesManager)
        .await
        .unwrap();
    let m = client();
    let mcsrf = s.login(&m, "boss@mail.ru").await;
    assert!(!s.get(&m, &path).await.body.contains("/erase\""));
    let r = s
        .post(
            &m,
            &erase,
            &[("csrf", mcsrf.as_str()), ("confirm", "1"), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    let r = s
        .post(
            &c,
            &erase,
            &[
                ("csrf", csrf.as_str()),
                ("confirm", "1"),
                ("reason", "Просьба от 01.12"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("{path}?done=erased"));
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body.contains("id=\"contact-erased\"")
            && page
                .body
                .contains("The person&#39;s personal data is erased.")
            && !page.body.contains("Стереть")
            && !page.body.contains("erase.me")
            && !page.body.contains("900-00-01")
            && !page.body.contains("action=\"/contacts/"),
        "{}",
        page.body
    );
    let card = s.get(&c, &format!("/leads/{lead}")).await;
    assert_eq!(card.status, StatusCode::OK);
    assert!(!card.body.contains("Стереть") && !card.body.contains("erase.me"));
}

/// The inbox saves its filters as a view: the view shows above the list (its name escaped), opens
/// the same list, is marked while shown, and is deleted from there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_filters_saved_as_a_view() {
    let s = start().await;
    s.capture("Горячий Клиент", &[("phone", "+7 916 910-00-01")])
        .await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let list = s.get(&c, "/leads?stage=new&sort=-score&after=abc").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body
            .contains("name=\"query\" value=\"stage=new&#38;sort=-score\""),
        "{}",
        around(&list.body, "name=\"query\"")
    );
    let r = s
        .post(
            &c,
            "/leads/views",
            &[
                ("csrf", csrf.as_str()),
                ("name", "Новые <i>по баллам</i>"),
                ("query", "stage=new&sort=-score&after=abc&bogus=1"),
                ("shared", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/leads?stage=new&sort=-score&done=view_saved");
    let page = s.get(&c, &r.location).await;
    assert!(page.body.contains("View saved."), "{}", page.body);
    let chip = around(&page.body, "view-chip");
    assert!(
        page.body.contains("Новые &#60;i&#62;по баллам&#60;/i&#62;")
            && page.body.contains("view-chip is-active")
            && page
                .body
                .contains("href=\"/leads?stage=new&#38;sort=-score\" aria-current")
            && page.body.contains(">team</span>"),
        "{chip}"
    );
    // Elsewhere the view is there, not marked.
    let other = s.get(&c, "/leads").await;
    assert!(
        other.body.contains("Новые &#60;i&#62;по баллам")
            && !other.body.contains("view-chip is-active"),
        "{}",
        around(&other.body, "view-chip")
    );
    // The same name again: refused.
    let r = s
        .post(
            &c,
            "/leads/views",
            &[
                ("csrf", csrf.as_str()),
                ("name", "новые <i>по баллам</i>"),
                ("query", ""),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.body);
    let id = s.app.store().saved_views(1).await.unwrap()[0].id;
    let r = s
        .post(
            &c,
            &format!("/leads/views/{id}/delete"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .post(
            &c,
            &format!("/leads/views/{id}/delete"),
            &[("csrf", csrf.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = s.get(&c, &r.location).await;
    assert!(page.body.contains("View deleted."));
    assert!(!page.body.contains("по баллам"));
}

/// The channel report: each source's leads against the spend entered for it, the spend form
/// (kept as typed when refused, CSRF-checked), deleting an entry, unreadable settings, and who
/// sees the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_report_and_marketing_spend() {
    let s = start().await;
    let utm = |source: &'static str| [("utm_source", source), ("utm_medium", "cpc")];
    let a = s
        .capture(
            "Анна Гуглова",
            &[&utm("google")[..], &[("phone", "+7 916 920-00-01")]].concat(),
        )
        .await;
    s.capture(
        "Борис Гуглов",
        &[&utm("google")[..], &[("phone", "+7 916 920-00-02")]].concat(),
    )
    .await;
    s.capture(
        "Хакер",
        &[
            ("utm_source", "<script>alert(1)</script>"),
            ("phone", "+7 916 920-00-03"),
        ],
    )
    .await;
    s.convert_rub(a, 3_000_000).await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let today = utc_date(voronka_app::now_ms());
    let week_ago = utc_date(voronka_app::now_ms() - 6 * 86_400_000);

    let page = s.get(&c, "/reports").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("href=\"/reports\" aria-current=\"page\""),
        "{}",
        around(&page.body, "/reports")
    );
    let table = around(&page.body, "id=\"channel-report\"");
    assert!(
        page.body
            .contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            && !page.body.contains("<script>alert"),
        "{table}"
    );
    // Leads per week: this week's row has the three leads.
    let weekly = around(&page.body, "id=\"weekly-leads\"");
    assert!(
        page.body.contains("Leads per week")
            && page.body.contains(&format!(
                "<th scope=\"row\" class=\"nowrap\">{}</th>",
                utc_date(voronka_core::channels::week_of(voronka_app::now_ms()))
            )),
        "{weekly}"
    );
    // The row opens the inbox of its leads of these days.
    assert!(
        page.body.contains(&format!(
            "href=\"/leads?from={}&#38;to={today}&#38;source=google\"",
            utc_date(voronka_app::now_ms() - 29 * 86_400_000)
        )),
        "{}",
        around(&page.body, "source=google")
    );

    // Spend: entered, then the row weighs it.
    let r = s
        .post(
            &c,
            "/reports/spend",
            &[
                ("csrf", csrf.as_str()),
                ("back", "/reports?by=source_medium"),
                ("source", "google"),
                ("medium", "cpc"),
                ("from", week_ago.as_str()),
                ("to", today.as_str()),
                ("amount", "10 000"),
                ("currency", ""),
                ("note", "Кампания <b>зима</b>"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/reports?by=source_medium&done=spend_added");
    let page = s.get(&c, &r.location).await;
    assert!(page.body.contains("Spend added."), "{}", page.body);
    let spend = around(&page.body, "id=\"spend-entries\"");
    assert!(
        page.body.contains("google / cpc")
            && page.body.contains("10\u{202f}000.00 RUB")
            && page.body.contains("Кампания &#60;b&#62;зима&#60;/b&#62;")
            && page.body.contains("Anna Admin"),
        "{spend}"
    );
    // Two leads for 10,000: 5,000 each; 30,000 earned: +200 %.
    let row = around(&page.body, "google / cpc</bdi>");
    assert!(
        page.body.contains("5\u{202f}000.00 RUB") && page.body.contains("+200 %"),
        "{row}"
    );

    // The same report as a file.
    let start = page
        .body
        .find("href=\"/reports/channels.csv?")
        .expect("the CSV link")
        + 6;
    let end = start + page.body[start..].find('"').unwrap();
    let link = page.body[start..end].replace("&#38;", "&");
    assert!(
        link.contains("by=source_medium") && link.contains("currency=RUB"),
        "{link}"
    );
    let file = s.get(&c, &link).await;
    assert_eq!(file.status, StatusCode::OK);
    assert!(
        file.content_type.starts_with("text/csv"),
        "{}",
        file.content_type
    );
    assert!(
        file.body.starts_with("\u{feff}source,medium,")
            && file.body.contains("\ngoogle,cpc,,,,0,2,0,1,1,1,0,0.5000,30000.00,,10000.00,,5000.00,10000.00,2.0000\n"),
        "{}",
        file.body
    );

    // Refused: said why, the form keeps what was typed.
    let r = s
        .post(
            &c,
            "/reports/spend",
            &[
                ("csrf", csrf.as_str()),
                ("back", "/reports?by=source"),
                ("source", "yandex-набранный"),
                ("from", today.as_str()),
                ("to", week_ago.as_str()),
                ("amount", "много"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("the last day comes before the first")
            && r.body.contains("The amount is not a number")
            && r.body.contains("value=\"yandex-набранный\"")
            && r.body.contains("value=\"много\""),
        "{}",
        around(&r.body, "add-spend")
    );
    let r = s
        .post(
            &c,
            "/reports/spend",
            &[
                ("csrf", "forged"),
                ("source", "google"),
                ("from", today.as_str()),
                ("to", today.as_str()),
                ("amount", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.app
            .store()
            .spend_entries(0, i64::MAX / 2)
            .await
            .unwrap()
            .len(),
        1
    );

    // Changed: the row's link brings the entry into the form, which saves it in its place.
    let id = s.app.store().spend_entries(0, i64::MAX / 2).await.unwrap()[0].id;
    let page = s.get(&c, "/reports?by=source_medium").await;
    let edit = format!("/reports?by=source_medium&edit={id}#add-spend");
    assert!(
        page.body.contains(&edit.replace('&', "&#38;")),
        "{}",
        around(&page.body, "spend-entries")
    );
    let form = s.get(&c, &edit).await;
    assert_eq!(form.status, StatusCode::OK);
    let typed = around(&form.body, "id=\"add-spend\"");
    assert!(
        form.body
            .contains(&format!("action=\"/reports/spend/{id}\""))
            && form.body.contains("Changing the spend entry google / cpc")
            && form.body.contains("value=\"10000.00\"")
            && form.body.contains(&format!("value=\"{week_ago}\""))
            && form.body.contains("Кампания &#60;b&#62;зима&#60;/b&#62;")
            && form.body.contains("Save the entry"),
        "{typed}"
    );
    let change = |csrf: &str, amount: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("back", "/reports?by=source_medium".to_string()),
            ("source", "google".to_string()),
            ("medium", "cpc".to_string()),
            ("from", week_ago.clone()),
            ("to", today.clone()),
            ("amount", amount.to_string()),
            ("currency", "RUB".to_string()),
            ("note", "Кампания <b>зима</b>".to_string()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = format!("{}/reports/spend/{id}", s.base);
        async move { read(c.post(url).form(&fields).send().await.unwrap()).await }
    };
    let r = post(change(&csrf, "12 000")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/reports?by=source_medium&done=spend_updated");
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body.contains("Spend entry changed.")
            && page.body.contains("12\u{202f}000.00 RUB")
            && !page.body.contains("10\u{202f}000.00 RUB"),
        "{}",
        around(&page.body, "spend-entries")
    );
    // Refused: the form stays on the entry with what was typed.
    let r = post(change(&csrf, "много")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("The amount is not a number")
            && r.body.contains(&format!("action=\"/reports/spend/{id}\""))
            && r.body.contains("value=\"много\""),
        "{}",
        around(&r.body, "add-spend")
    );
    let r = post(change("forged", "1")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let stored = s.app.store().spend_entry(id).await.unwrap().unwrap();
    assert_eq!(stored.amount.minor, 1_200_000);
    for bad in ["abc", "999999"] {
        let r = s.get(&c, &format!("/reports?edit={bad}")).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
    }

    // Deleted from its row.
    let r = s
        .post(
            &c,
            &format!("/reports/spend/{id}/delete"),
            &[
                ("csrf", csrf.as_str()),
                ("back", "https://evil.example/?by=form"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/reports?by=form&done=spend_deleted");
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body.contains("Spend entry deleted.") && !page.body.contains("зима"),
        "{}",
        around(&page.body, "spend")
    );

    // A file of spend uploaded from the page (Windows-1251, as Excel saves it), then a wrong one.
    let upload = |csrf: &str, text: &str| {
        reqwest::multipart::Form::new()
            .text("csrf", csrf.to_string())
            .text("back", "/reports?by=campaign")
            .text("source", "vk")
            .text("medium", "")
            .part(
                "file",
                reqwest::multipart::Part::bytes(
                    encoding_rs::WINDOWS_1251.encode(text).0.into_owned(),
                )
                .file_name("расходы.csv"),
            )
    };
    let good = format!("Дата;Кампания;Сумма\r\n{today};Осень;700\r\n");
    let r = read(
        c.post(format!("{}/reports/spend/import", s.base))
            .multipart(upload(&csrf, &good))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/reports?by=campaign&done=spend_imported");
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body.contains("Spend imported.") && page.body.contains("vk / Осень"),
        "{}",
        around(&page.body, "spend-entries")
    );
    let r = read(
        c.post(format!("{}/reports/spend/import", s.base))
            .multipart(upload(&csrf, "Дата;Сумма\r\nвчера;700\r\n"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("nothing was stored") && r.body.contains("row 2: from"),
        "{}",
        around(&r.body, "nothing was stored")
    );
    let r = read(
        c.post(format!("{}/reports/spend/import", s.base))
            .multipart(upload("forged", &good))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Unreadable settings: said so, with the report of the defaults.
    let page = s.get(&c, "/reports?from=2026-13-45&currency=рубль").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("unreadable date") && page.body.contains("id=\"channel-report\""),
        "{}",
        page.body
    );
    let page = s.get(&c, "/reports?currency=рубль").await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("is not a currency"), "{}", page.body);

    // A marketer sees it and enters spend; a salesperson has neither the page nor its link.
    s.app
        .add_user("mila@mail.ru", "Мила", PASSWORD, Role::Marketer)
        .await
        .unwrap();
    s.app
        .add_user("sara@mail.ru", "Sara Seller", PASSWORD, Role::Salesperson)
        .await
        .unwrap();
    let m = client();
    let r = s
        .post(
            &m,
            "/login",
            &[
                ("email", "mila@mail.ru"),
                ("password", PASSWORD),
                ("next", "/reports"),
            ],
        )
        .await;
    assert_eq!(r.location, "/reports");
    let page = s.get(&m, "/reports").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("id=\"add-spend\""));
    let seller = client();
    let csrf = s.login(&seller, "sara@mail.ru").await;
    let inbox = s.get(&seller, "/leads").await;
    assert!(!inbox.body.contains("href=\"/reports\""));
    assert_eq!(
        s.get(&seller, "/reports").await.status,
        StatusCode::FORBIDDEN
    );
    let r = s
        .post(
            &seller,
            "/reports/spend",
            &[
                ("csrf", csrf.as_str()),
                ("source", "google"),
                ("from", today.as_str()),
                ("to", today.as_str()),
                ("amount", "1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// A contact corrected from its page: the form holds what it says (escaped), a refusal keeps
/// what was typed and says why, a saved correction shows at once; a viewer gets no form and may
/// not post one; a forged form changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_is_corrected_from_its_page() {
    let s = start().await;
    let lead = s
        .capture(
            "Анна <i>Опечатка</i>",
            &[("phone", "+7 916 910-00-01"), ("company", "Ромашка")],
        )
        .await;
    let contact = s.app.store().lead(lead).await.unwrap().unwrap().contact_id;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let path = format!("/contacts/{contact}");
    let page = s.get(&c, &path).await;
    assert!(
        page.body
            .contains(&format!("action=\"/contacts/{contact}\""))
            && page
                .body
                .contains("value=\"Анна &#60;i&#62;Опечатка&#60;/i&#62;\"")
            && page.body.contains("value=\"Ромашка\""),
        "{}",
        around(&page.body, "edit-contact")
    );
    assert!(!page.body.contains("id=\"changes\""), "nothing changed yet");
    let form = |csrf: &str, name: &str, phone: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("name", name.to_string()),
            ("position", "Бухгалтер".to_string()),
            ("company", "Лютик".to_string()),
            ("country", "RU".to_string()),
            ("language", "ru".to_string()),
            ("add_phone", phone.to_string()),
            ("add_email", String::new()),
        ]
    };
    let post = |fields: Vec<(&'static str, String)>| {
        let c = c.clone();
        let url = format!("{}{path}", s.base);
        async move { read(c.post(url).form(&fields).send().await.unwrap()).await }
    };
    let r = post(form(&csrf, "Анна Верная", "12")).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("is not a valid phone number")
            && r.body.contains("value=\"Анна Верная\"")
            && r.body.contains("id=\"edit-contact\" open"),
        "{}",
        around(&r.body, "edit-contact")
    );
    let r = post(form(&csrf, "Анна Верная", "+7 916 910-00-02")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("{path}?done=contact_updated"));
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body.contains("Contact saved.")
            && page.body.contains("<h1><bdi>Анна Верная</bdi></h1>")
            && page.body.contains("+79169100002")
            && page.body.contains("Лютик")
            && page.body.contains("Бухгалтер"),
        "{}",
        page.body
    );
    // The page lists the change, field by field, the old name escaped as everywhere.
    let section = |body: &str| {
        let after = body
            .split_once("id=\"changes\"")
            .map(|(_, a)| a)
            .unwrap_or("");
        after.split("</section>").next().unwrap_or("").to_string()
    };
    let changes = section(&page.body);
    assert!(
        changes.contains("Contact corrected")
            && changes.contains(
                "<dt>Name</dt><dd><del><bdi>Анна &#60;i&#62;Опечатка&#60;/i&#62;</bdi></del> → \
                 <ins><bdi>Анна Верная</bdi></ins></dd>"
            )
            && changes.contains("<dt>Company</dt><dd><del><bdi>Ромашка</bdi></del>")
            && changes.contains("<dt>Phone added</dt><dd><del><bdi>—</bdi></del> → <ins><bdi>+79169100002</bdi></ins>")
            && !changes.contains("<i>"),
        "{changes}"
    );
    // The first phone removed with its box ticked.
    assert!(
        page.body
            .contains("name=\"remove_phone\" value=\"+79169100001\""),
        "{}",
        around(&page.body, "edit-contact-form")
    );
    let mut remove = form(&csrf, "Анна Верная", "");
    remove.push(("remove_phone", "+79169100001".to_string()));
    let r = post(remove).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&c, &path).await;
    assert!(
        !page.body.contains("tel:+79169100001") && page.body.contains("tel:+79169100002"),
        "{}",
        page.body
    );
    let changes = section(&page.body);
    let (removed, added) = (
        changes.find(
            "<dt>Phone removed</dt><dd><del><bdi>+79169100001</bdi></del> → <ins><bdi>—</bdi></ins>",
        ),
        changes.find("Phone added"),
    );
    assert!(
        changes.contains("<span class=\"count\">2</span>")
            && removed.is_some()
            && added.is_some()
            && removed < added,
        "the newest first: {changes}"
    );
    let r = post(form("forged", "Кто-то", "")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A viewer reads the contact but gets no form and may not post one.
    s.app
        .add_user("look@mail.ru", "Look", PASSWORD, Role::Viewer)
        .await
        .unwrap();
    let v = client();
    let vcsrf = s.login(&v, "look@mail.ru").await;
    let page = s.get(&v, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("edit-contact-form"), "{}", page.body);
    let r = read(
        v.post(format!("{}{path}", s.base))
            .form(&form(&vcsrf, "Кто-то", ""))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    let stored = s
        .app
        .store()
        .contact_detail(contact)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.contact.full_name, "Анна Верная");
}

/// What a lead asks for, corrected from its card: the form holds the product and value, a
/// refusal keeps what was typed and opens the form, a saved one shows on the card with the
/// correction listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leads_request_is_corrected_on_its_card() {
    let s = start().await;
    let lead = s
        .capture(
            "Вера Запрос",
            &[("phone", "+7 916 920-00-01"), ("product", "Полки <b>")],
        )
        .await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let path = format!("/leads/{lead}");
    let card = s.get(&c, &path).await;
    assert!(
        card.body
            .contains(&format!("action=\"/leads/{lead}/request\""))
            && card
                .body
                .contains("name=\"product\" value=\"Полки &#60;b&#62;\""),
        "{}",
        around(&card.body, "edit-request")
    );
    let url = format!("{path}/request");
    let r = s
        .post(
            &c,
            &url,
            &[
                ("csrf", csrf.as_str()),
                ("product", "Стеллажи"),
                ("value", "дорого"),
                ("currency", "RUB"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("id=\"edit-request\" open")
            && r.body.contains("value=\"дорого\"")
            && r.body.contains("The amount is not a number"),
        "{}",
        around(&r.body, "edit-request")
    );
    let r = s
        .post(
            &c,
            &url,
            &[
                ("csrf", csrf.as_str()),
                ("product", "Стеллажи"),
                ("value", "250 000"),
                ("currency", "RUB"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("{path}?done=request"));
    let card = s.get(&c, &r.location).await;
    assert!(
        card.body.contains("Request saved.")
            && card.body.contains("<bdi>Стеллажи</bdi>")
            && card.body.contains("250\u{202f}000.00 RUB"),
        "{}",
        around(&card.body, "h-request")
    );
    // The correction is listed on the card: the product and value only (the points the
    // rescoring moved have their own place), the old product escaped.
    let changes = card
        .body
        .split_once("id=\"changes\"")
        .map(|(_, a)| a.split("</section>").next().unwrap_or(""))
        .unwrap_or("");
    assert!(
        changes.contains("Corrections of the request")
            && changes.contains("Request corrected")
            && changes.contains(
                "<dt>Product</dt><dd><del><bdi>Полки &#60;b&#62;</bdi></del> → <ins><bdi>Стеллажи</bdi></ins></dd>"
            )
            && changes.contains("<dt>Value estimate</dt><dd><del><bdi>—</bdi></del> → <ins><bdi>250\u{202f}000.00 RUB</bdi></ins></dd>")
            && changes.matches("<dt>").count() == 2,
        "{changes}"
    );
    let restore = first_action(changes);
    let r = s.post(&c, &restore, &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location
            .starts_with(&format!("{path}?done=change_restored")),
        "{}",
        r.location
    );
    let card = s.get(&c, &r.location).await;
    assert!(
        card.body
            .contains("name=\"product\" value=\"Полки &#60;b&#62;\"")
            && card
                .body
                .contains("<dt>Value</dt><dd><span class=\"muted\">—</span></dd>"),
        "{}",
        around(&card.body, "h-request")
    );
    let r = s
        .post(&c, &url, &[("csrf", "forged"), ("product", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

/// A deal corrected from its page: the form holds its title and amount (escaped), a refusal keeps
/// what was typed, a saved one shows at once; a viewer gets no form.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_is_corrected_on_its_page() {
    let s = start().await;
    let lead = s
        .capture("Дина Сделкина", &[("phone", "+7 916 930-00-01")])
        .await;
    let (_, _, deal) = s
        .app
        .convert(
            &voronka_app::Actor::system("test"),
            lead,
            voronka_app::ConvertInput {
                amount: voronka_core::Money::new(
                    1_000_000,
                    voronka_core::Currency::parse("RUB").unwrap(),
                ),
                title: Some("Стеллажи <b>".into()),
            },
        )
        .await
        .unwrap();
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let path = format!("/deals/{deal}");
    let page = s.get(&c, &path).await;
    assert!(
        page.body.contains(&format!("action=\"/deals/{deal}\""))
            && page.body.contains("value=\"Стеллажи &#60;b&#62;\"")
            && page.body.contains("value=\"10000.00\""),
        "{}",
        around(&page.body, "edit-deal")
    );
    let r = s
        .post(
            &c,
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("title", "Монтаж"),
                ("amount", "сколько-то"),
                ("currency", "RUB"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("id=\"edit-deal\" open") && r.body.contains("value=\"сколько-то\""),
        "{}",
        around(&r.body, "edit-deal")
    );
    let r = s
        .post(
            &c,
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("title", "Монтаж"),
                ("amount", "12 000"),
                ("currency", "RUB"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, format!("{path}?done=deal_updated"));
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body.contains("Deal saved.")
            && page.body.contains("<h1><bdi>Монтаж</bdi></h1>")
            && page.body.contains("12\u{202f}000.00 RUB"),
        "{}",
        page.body
    );
    // The change, listed on the page: title and amount as they read before and after.
    let changes = page
        .body
        .split_once("id=\"changes\"")
        .map(|(_, a)| a.split("</section>").next().unwrap_or(""))
        .unwrap_or("");
    assert!(
        changes.contains("Deal corrected")
            && changes.contains("<del><bdi>Стеллажи &#60;b&#62;</bdi></del> → <ins><bdi>Монтаж</bdi></ins>")
            && changes.contains("<del><bdi>10\u{202f}000.00 RUB</bdi></del> → <ins><bdi>12\u{202f}000.00 RUB</bdi></ins>"),
        "{changes}"
    );
    // Restored from the list: the deal reads as before the correction.
    let restore = first_action(changes);
    assert!(
        restore.starts_with(&format!("{path}/changes/")) && restore.ends_with("/restore"),
        "{restore}"
    );
    let r = s.post(&c, &restore, &[("csrf", "forged")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s.post(&c, &restore, &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body
            .contains("Restored as it read before that change.")
            && page
                .body
                .contains("<h1><bdi>Стеллажи &#60;b&#62;</bdi></h1>")
            && page.body.contains("10\u{202f}000.00 RUB"),
        "{}",
        page.body
    );
    s.app
        .add_user("deal.look@mail.ru", "Look", PASSWORD, Role::Viewer)
        .await
        .unwrap();
    let v = client();
    s.login(&v, "deal.look@mail.ru").await;
    let page = s.get(&v, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("edit-deal-form"));
    assert!(
        page.body.contains("id=\"changes\"") && !page.body.contains("change-restore"),
        "a viewer reads the changes but restores nothing"
    );
}

/// A company corrected from its page: the form holds its name (escaped), a refusal keeps what was
/// typed and opens the form, a saved one shows at once and is listed and restorable; a viewer
/// gets neither the form nor the restore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_is_corrected_on_its_page() {
    let s = start().await;
    let lead = s
        .capture(
            "Гена Компаниев",
            &[("phone", "+7 916 940-00-01"), ("company", "Ромашкаа <i>")],
        )
        .await;
    let contact = s.app.store().lead(lead).await.unwrap().unwrap().contact_id;
    let account = s
        .app
        .store()
        .contact_detail(contact)
        .await
        .unwrap()
        .unwrap()
        .contact
        .account_id
        .unwrap();
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let path = format!("/accounts/{account}");
    let page = s.get(&c, &path).await;
    assert!(
        page.body.contains(&format!("action=\"{path}\""))
            && page.body.contains("value=\"Ромашкаа &#60;i&#62;\""),
        "{}",
        around(&page.body, "edit-account")
    );
    let r = s
        .post(
            &c,
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Ромашка"),
                ("domain", "не домен"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("id=\"edit-account\" open") && r.body.contains("value=\"не домен\""),
        "{}",
        around(&r.body, "edit-account")
    );
    let r = s
        .post(
            &c,
            &path,
            &[
                ("csrf", csrf.as_str()),
                ("name", "Ромашка"),
                ("domain", "romashka.ru"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&c, &r.location).await;
    let changes = page
        .body
        .split_once("id=\"changes\"")
        .map(|(_, a)| a.split("</section>").next().unwrap_or(""))
        .unwrap_or("");
    assert!(
        page.body.contains("Company saved.")
            && page.body.contains("<h1><bdi>Ромашка</bdi></h1>")
            && changes.contains("Company corrected")
            && changes.contains(
                "<dt>Name</dt><dd><del><bdi>Ромашкаа &#60;i&#62;</bdi></del> → <ins><bdi>Ромашка</bdi></ins></dd>"
            ),
        "{changes}"
    );
    let restore = first_action(changes);
    let r = s.post(&c, &restore, &[("csrf", csrf.as_str())]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body
            .contains("<h1><bdi>Ромашкаа &#60;i&#62;</bdi></h1>"),
        "{}",
        page.body
    );
    let r = s
        .post(&c, &path, &[("csrf", "forged"), ("name", "x")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    s.app
        .add_user("acc.look@mail.ru", "Look", PASSWORD, Role::Viewer)
        .await
        .unwrap();
    let v = client();
    s.login(&v, "acc.look@mail.ru").await;
    let page = s.get(&v, &path).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("edit-account-form") && !page.body.contains("change-restore"),
        "{}",
        page.body
    );
}

/// The companies page: every company by name with its domain, searched by name in any legal form,
/// names escaped; a salesperson sees only the companies of their own leads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn companies_are_listed_and_searched() {
    let s = start().await;
    s.capture(
        "Ада Списочная",
        &[
            ("phone", "+7 916 950-00-01"),
            ("company", "ООО «Ромашка <b>»"),
        ],
    )
    .await;
    s.capture(
        "Боб Списочный",
        &[("phone", "+7 916 950-00-02"), ("company", "Лютик")],
    )
    .await;
    let c = client();
    s.login(&c, ADMIN_EMAIL).await;
    let page = s.get(&c, "/accounts").await;
    assert_eq!(page.status, StatusCode::OK);
    let table = page
        .body
        .split_once("id=\"companies\"")
        .map(|(_, a)| a.split("</table>").next().unwrap_or(""))
        .unwrap_or_else(|| panic!("{}", page.body));
    let (lyutik, romashka) = (table.find("Лютик"), table.find("Ромашка &#60;b&#62;"));
    assert!(
        lyutik.is_some() && romashka.is_some() && lyutik < romashka && !table.contains("<b>"),
        "by name, escaped: {table}"
    );
    let found = s
        .get(
            &c,
            "/accounts?q=%D0%90%D0%9E+%D0%A0%D0%BE%D0%BC%D0%B0%D1%88",
        )
        .await;
    assert!(
        found.body.contains("Ромашка &#60;b&#62;") && !found.body.contains("Лютик</bdi>"),
        "\"АО Ромаш\" finds the company kept as «Ромашка»: {}",
        found.body
    );
    let none = s.get(&c, "/accounts?q=zzz").await;
    assert!(
        none.body.contains("No company matches this search."),
        "{}",
        none.body
    );
    // A salesperson with no leads sees no company.
    s.app
        .add_user("acc.seller@mail.ru", "Seller", PASSWORD, Role::Salesperson)
        .await
        .unwrap();
    let v = client();
    s.login(&v, "acc.seller@mail.ru").await;
    let page = s.get(&v, "/accounts").await;
    assert!(
        page.body.contains("No companies yet") && !page.body.contains("Лютик"),
        "{}",
        page.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_are_changed_set_and_reset_from_the_pages() {
    let s = start().await;
    let olga = s
        .app
        .add_user(
            "olga@mail.ru",
            "Ольга <script>alert(1)</script>",
            PASSWORD,
            Role::Salesperson,
        )
        .await
        .unwrap();
    let admin = client();
    let admin_csrf = s.login(&admin, ADMIN_EMAIL).await;
    let (b, b2) = (client(), client());
    let csrf = s.login(&b, "olga@mail.ru").await;
    s.login(&b2, "olga@mail.ru").await;

    // Her own page: her name escaped, linked from the top bar.
    let me = s.get(&b, "/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains("&#60;script&#62;"), "{}", me.body);
    assert!(!me.body.contains("<script>alert"), "{}", me.body);
    assert!(me.body.contains(r#"href="/me""#));
    assert!(me.body.contains(r#"action="/me/password""#));

    // Refusals: no CSRF token, a wrong current password, two new ones that differ.
    let change = |current: &'static str, new: &'static str, again: &'static str| {
        [
            ("current_password", current),
            ("password", new),
            ("password2", again),
        ]
    };
    let r = s
        .post(
            &b,
            "/me/password",
            &change(PASSWORD, "второй пароль", "второй пароль"),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let with_csrf = |f: [(&'static str, &'static str); 3], csrf: &str| {
        let mut v: Vec<(String, String)> = f
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        v.push(("csrf".into(), csrf.to_string()));
        v
    };
    let post_owned = |c: &Client, path: &str, f: Vec<(String, String)>| {
        let req = c.post(format!("{}{path}", s.base)).form(&f);
        async move { read(req.send().await.unwrap()).await }
    };
    let r = post_owned(
        &b,
        "/me/password",
        with_csrf(change("wrong", "второй пароль", "второй пароль"), &csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("the current password is not right"),
        "{}",
        r.body
    );
    assert!(r.body.contains(r#"<link rel="canonical" href="/me">"#));
    let r = post_owned(
        &b,
        "/me/password",
        with_csrf(change(PASSWORD, "второй пароль", "другой пароль"), &csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("the two new passwords differ"),
        "{}",
        r.body
    );
    // Changed: this session stays, the other one ends.
    let r = post_owned(
        &b,
        "/me/password",
        with_csrf(change(PASSWORD, "второй пароль", "второй пароль"), &csrf),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/me?done=password");
    let r = s.get(&b, "/me?done=password").await;
    assert!(r.body.contains("Your password is changed."), "{}", r.body);
    assert_eq!(s.get(&b2, "/leads").await.status, StatusCode::SEE_OTHER);

    // An administrator sets it from the users page: her sessions end.
    let users = s.get(&admin, "/admin/users").await;
    let action = format!(r#"action="/admin/users/{}/password""#, olga.id);
    assert!(users.body.contains(&action), "{}", users.body);
    let path = format!("/admin/users/{}/password", olga.id);
    let r = s
        .post(
            &admin,
            &path,
            &[("csrf", admin_csrf.as_str()), ("password", "short")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("8 characters"), "{}", r.body);
    let r = s
        .post(
            &admin,
            &path,
            &[
                ("csrf", admin_csrf.as_str()),
                ("password", "пароль от админа"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/admin/users?done=password_set");
    assert_eq!(s.get(&b, "/me").await.status, StatusCode::SEE_OTHER);
    let audit = s.get(&admin, "/admin/audit").await;
    assert!(audit.body.contains("Password set"), "{}", audit.body);
    assert!(!audit.body.contains("пароль от админа"));

    // Five wrong guesses lock her sign-in: the right password then waits too.
    let login = |password: &'static str| {
        let req = client().post(format!("{}/login", s.base)).form(&[
            ("email", "olga@mail.ru"),
            ("password", password),
            ("next", "/leads"),
        ]);
        async move { read(req.send().await.unwrap()).await }
    };
    for _ in 0..voronka_app::LOGIN_FAILURES_ALLOWED {
        assert_eq!(login("guess").await.status, StatusCode::UNAUTHORIZED);
    }
    let locked = client()
        .post(format!("{}/login", s.base))
        .form(&[("email", "olga@mail.ru"), ("password", "пароль от админа")])
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    // What is left of the quarter of an hour since the first failure, a moment ago.
    let wait: u64 = locked.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((880..=900).contains(&wait), "{wait}");
    let body = locked.text().await.unwrap();
    assert!(body.contains("Too many failed sign-ins"), "{body}");
    assert!(body.contains(r#"href="/password/forgot""#), "{body}");

    // A forgotten password without email set up: the page says to ask an administrator.
    let anon = client();
    let r = s
        .post(&anon, "/password/forgot", &[("email", "olga@mail.ru")])
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Ask an administrator"), "{}", r.body);
    // With email: the same answer for her and for nobody, and one message, to her.
    let sink = smtp::SmtpSink::start();
    s.app
        .set_smtp_settings(
            &Actor::system("t"),
            Some(voronka_app::SmtpSettings {
                host: "127.0.0.1".into(),
                port: sink.port,
                from: "crm@mail.ru".into(),
                username: None,
                password: None,
                security: voronka_app::SmtpSecurity::None,
            }),
        )
        .await
        .unwrap();
    assert_eq!(
        s.get(&anon, "/password/forgot").await.status,
        StatusCode::OK
    );
    let hers = s
        .post(&anon, "/password/forgot", &[("email", "olga@mail.ru")])
        .await;
    let nobodys = s
        .post(&anon, "/password/forgot", &[("email", "nobody@mail.ru")])
        .await;
    assert_eq!(hers.status, StatusCode::OK);
    assert!(hers.body.contains("is on its way"), "{}", hers.body);
    assert_eq!(hers.body, nobodys.body, "nothing tells who signs in here");
    s.app
        .run_due_jobs_at("t", voronka_app::now_ms() + 1000)
        .await
        .unwrap();
    let mails = sink.wait_for(1);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].rcpt_to, ["olga@mail.ru"]);
    let link = mails[0]
        .body
        .lines()
        .find_map(|l| l.trim().split_once("/password/reset/"))
        .map(|(_, token)| format!("/password/reset/{token}"))
        .unwrap_or_else(|| panic!("{}", mails[0].body));

    let form = s.get(&anon, &link).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(
        form.body.contains(&format!(r#"action="{link}""#)),
        "{}",
        form.body
    );
    let r = s
        .post(
            &anon,
            &link,
            &[("password", "пароль по ссылке"), ("password2", "другой")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("the two new passwords differ"),
        "{}",
        r.body
    );
    let r = s
        .post(
            &anon,
            &link,
            &[
                ("password", "пароль по ссылке"),
                ("password2", "пароль по ссылке"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/login?done=password_reset");
    let r = s.get(&anon, "/login?done=password_reset").await;
    assert!(r.body.contains("Your new password is set."), "{}", r.body);
    // The new password signs in at once: the lock went with the old one.
    assert_eq!(
        login("пароль по ссылке").await.status,
        StatusCode::SEE_OTHER
    );
    // The link worked once; a made-up one never did.
    let again = s.get(&anon, &link).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert!(again.body.contains("has expired or was used already"));
    assert!(again.body.contains(r#"href="/password/forgot""#));
    let r = s
        .post(
            &anon,
            &link,
            &[
                ("password", "once more please"),
                ("password2", "once more please"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for bad in ["/password/reset/nothex<script>", "/password/reset/00ff"] {
        let r = s.get(&anon, bad).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{bad}");
        assert!(!r.body.contains("<script>"), "{}", r.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_lists_and_ends_their_sessions_on_their_page() {
    let s = start().await;
    let browser = |name: &str| {
        Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .user_agent(name)
            .build()
            .unwrap()
    };
    let desk = browser("Mozilla/5.0 <script>alert(1)</script>");
    let phone = browser("Тестовый браузер");
    let csrf = s.login(&desk, ADMIN_EMAIL).await;
    s.login(&phone, ADMIN_EMAIL).await;

    let me = s.get(&desk, "/me").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(me.body.contains("Where you are signed in"), "{}", me.body);
    assert!(
        me.body.contains("Mozilla/5.0 &#60;script&#62;"),
        "{}",
        me.body
    );
    assert!(!me.body.contains("<script>alert"));
    assert!(me.body.contains("Тестовый браузер"));
    assert_eq!(me.body.matches("This browser").count(), 1, "{}", me.body);
    // The other session's row, by its form.
    let other_id = |body: &str| -> String {
        body.split("<tr>")
            .find(|row| row.contains("/me/sessions/") && !row.contains("This browser"))
            .and_then(|row| row.split("/me/sessions/").nth(1))
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_else(|| panic!("{body}"))
            .to_string()
    };
    let phone_id = other_id(&me.body);
    let end = |id: String| {
        let req = desk
            .post(format!("{}/me/sessions/{id}/end", s.base))
            .form(&[("csrf", csrf.clone())]);
        async move { read(req.send().await.unwrap()).await }
    };

    // Without the CSRF token nothing ends; with it, the other session ends.
    let r = s.post(&desk, "/me/sessions/end-others", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(s.get(&phone, "/leads").await.status, StatusCode::OK);
    let r = s
        .post(&desk, "/me/sessions/end-others", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/me?done=sessions_ended");
    assert_eq!(s.get(&phone, "/leads").await.status, StatusCode::SEE_OTHER);
    let r = end(phone_id.clone()).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "an ended session is gone");

    // One session ended by its row; ending the one in use signs out.
    s.login(&phone, ADMIN_EMAIL).await;
    let phone_id = other_id(&s.get(&desk, "/me").await.body);
    let r = end(phone_id.clone()).await;
    assert_eq!(r.location, "/me?done=session_ended");
    assert_eq!(s.get(&phone, "/leads").await.status, StatusCode::SEE_OTHER);
    let me = s.get(&desk, "/me").await;
    let own_id = me
        .body
        .split("/me/sessions/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap()
        .to_string();
    let r = end(own_id.clone()).await;
    assert_eq!(r.location, "/login");
    assert_eq!(s.get(&desk, "/leads").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_are_tagged_on_the_card_and_filtered_in_the_inbox() {
    let s = start().await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let a = s.capture("Иван Петров", &[("phone", "+79161234567")]).await;
    let b = s.capture("Anna Smith", &[("phone", "+442079460000")]).await;
    let hostile = "<img src=x onerror=alert(1)>";
    let card = format!("/leads/{a}");
    let tags = format!("/leads/{a}/tags");

    // Without the CSRF token nothing is tagged.
    let r = s.post(&c, &tags, &[("tag", "VIP")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    for tag in ["VIP клиент", hostile] {
        let r = s
            .post(&c, &tags, &[("csrf", csrf.as_str()), ("tag", tag)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, format!("{card}?done=tag"));
    }
    // An empty tag is refused on the card, which keeps what was typed.
    let r = s
        .post(&c, &tags, &[("csrf", csrf.as_str()), ("tag", "  !! ")])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("a tag needs a letter or a digit"),
        "{}",
        r.body
    );
    let page = s.get(&c, &format!("{card}?done=tag")).await;
    assert!(page.body.contains("Tag added."), "{}", page.body);
    assert!(page.body.contains("VIP клиент"));
    assert!(page.body.contains("&#60;img src=x"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"), "the tag is escaped");
    assert!(
        page.body
            .contains(r#"href="/leads?tag=VIP+%D0%BA%D0%BB%D0%B8%D0%B5%D0%BD%D1%82""#),
        "{}",
        page.body
    );

    // The inbox: tags beside the name, filtered by one in any case, offered to pick from.
    let inbox = s.get(&c, "/leads").await;
    assert!(inbox
        .body
        .contains(r#"<span class="tag"><bdi>VIP клиент</bdi></span>"#));
    assert!(
        inbox.body.contains(r#"<option value="VIP клиент">"#),
        "{}",
        inbox.body
    );
    let only = s
        .get(&c, "/leads?tag=vip+%D0%9A%D0%9B%D0%98%D0%95%D0%9D%D0%A2")
        .await;
    assert!(only.body.contains(&format!(r#"href="/leads/{a}""#)));
    assert!(
        !only.body.contains(&format!(r#"href="/leads/{b}""#)),
        "{}",
        only.body
    );

    // Removed from the card; a second removal is done all the same.
    for _ in 0..2 {
        let r = s
            .post(
                &c,
                &format!("/leads/{a}/tags/remove"),
                &[("csrf", csrf.as_str()), ("tag", hostile)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        assert_eq!(r.location, format!("{card}?done=untag"));
    }
    let page = s.get(&c, &card).await;
    assert!(!page.body.contains("&#60;img src=x"));
    // A tag for the leads selected in the inbox.
    let (sa, sb) = (a.to_string(), b.to_string());
    let r = s
        .post(
            &c,
            "/leads/bulk",
            &[
                ("csrf", csrf.as_str()),
                ("back", "/leads"),
                ("id", sa.as_str()),
                ("id", sb.as_str()),
                ("action", "tag"),
                ("tag", "Звонок"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let both = s
        .get(&c, "/leads?tag=%D0%B7%D0%B2%D0%BE%D0%BD%D0%BE%D0%BA")
        .await;
    assert!(both.body.contains(&format!(r#"href="/leads/{a}""#)));
    assert!(
        both.body.contains(&format!(r#"href="/leads/{b}""#)),
        "{}",
        both.body
    );
    let audit = s.get(&c, "/admin/audit").await;
    assert!(audit.body.contains("Tag added") && audit.body.contains("Tag removed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_are_listed_renamed_and_removed_on_their_page() {
    let s = start().await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let sara = s
        .app
        .add_user("sara@mail.ru", "Sara Seller", PASSWORD, Role::Salesperson)
        .await
        .expect("sara");
    let system = Actor::system("test");
    let a = s.capture("Иван Петров", &[("phone", "+79161234567")]).await;
    let b = s.capture("Anna Smith", &[("phone", "+442079460000")]).await;
    // Whatever the routing did: `b` is Sara's, `a` nobody's.
    s.app.assign(&system, a, None).await.unwrap();
    s.app.assign(&system, b, Some(sara.id)).await.unwrap();
    let hostile = "<img src=x onerror=alert(1)>";
    for (id, tag) in [(a, "Выставка"), (b, "выставка"), (a, hostile), (b, "Expo")] {
        s.app.tag_lead(&system, id, tag).await.unwrap();
    }

    // Every tag with its count and a link to its leads; names escaped; rename and remove forms.
    let page = s.get(&c, "/tags").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(
            r#"href="/leads?tag=%D0%92%D1%8B%D1%81%D1%82%D0%B0%D0%B2%D0%BA%D0%B0">2</a>"#
        ),
        "{}",
        page.body
    );
    assert!(page.body.contains("&#60;img src=x"), "{}", page.body);
    assert!(!page.body.contains("<img src=x"), "the tag is escaped");
    assert!(page.body.contains(r#"action="/tags/rename""#));
    assert!(page.body.contains(r#"action="/tags/delete""#));
    // The inbox leads to it.
    assert!(s.get(&c, "/leads").await.body.contains(r#"href="/tags""#));

    // Without the CSRF token nothing changes.
    let r = s
        .post(&c, "/tags/rename", &[("tag", "выставка"), ("to", "Expo")])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Renamed into a tag in use: the two are one.
    let r = s
        .post(
            &c,
            "/tags/rename",
            &[("csrf", csrf.as_str()), ("tag", "выставка"), ("to", "Expo")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/tags?done=tag_renamed");
    let page = s.get(&c, &r.location).await;
    assert!(
        page.body.contains("Tag renamed on every lead."),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"href="/leads?tag=Expo">2</a>"#),
        "{}",
        page.body
    );
    assert!(!page.body.contains("Выставка"), "{}", page.body);
    // A name that cannot be is said on the page; a tag gone already too.
    let r = s
        .post(
            &c,
            "/tags/rename",
            &[("csrf", csrf.as_str()), ("tag", "Expo"), ("to", " !! ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("a tag needs a letter or a digit"),
        "{}",
        r.body
    );
    let r = s
        .post(
            &c,
            "/tags/delete",
            &[("csrf", csrf.as_str()), ("tag", "выставка")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.body.contains("no lead you see has the tag"), "{}", r.body);
    assert!(
        r.body.contains(r#"action="/tags/rename""#),
        "the page itself"
    );

    // Removed from every lead.
    let r = s
        .post(
            &c,
            "/tags/delete",
            &[("csrf", csrf.as_str()), ("tag", hostile)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/tags?done=tag_deleted");
    assert_eq!(s.app.lead_detail(&system, a).await.unwrap().tags, ["Expo"]);
    let audit = s.get(&c, "/admin/audit").await;
    assert!(audit.body.contains("Tag renamed on every lead"));
    assert!(audit.body.contains("Tag removed from every lead"));

    // Many leads of the inbox lose a tag at once.
    let (sa, sb) = (a.to_string(), b.to_string());
    let r = s
        .post(
            &c,
            "/leads/bulk",
            &[
                ("csrf", csrf.as_str()),
                ("back", "/leads"),
                ("id", sa.as_str()),
                ("id", sb.as_str()),
                ("action", "untag"),
                ("tag", "EXPO"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(r.location.contains("changed=2"), "{}", r.location);
    assert!(s.app.lead_detail(&system, b).await.unwrap().tags.is_empty());

    // A salesperson sees the tags of their leads, and neither renames nor removes them.
    s.app.tag_lead(&system, b, "Звонок").await.unwrap();
    s.app.tag_lead(&system, a, "Чужой").await.unwrap();
    let c2 = client();
    let csrf2 = s.login(&c2, "sara@mail.ru").await;
    let page = s.get(&c2, "/tags").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Звонок"), "{}", page.body);
    assert!(!page.body.contains("Чужой"), "{}", page.body);
    assert!(!page.body.contains(r#"action="/tags/rename""#));
    let inbox = s.get(&c2, "/leads").await;
    assert!(!inbox.body.contains("Чужой"), "not even offered");
    let r = s
        .post(
            &c2,
            "/tags/delete",
            &[("csrf", csrf2.as_str()), ("tag", "Звонок")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.app.lead_detail(&system, b).await.unwrap().tags,
        ["Звонок"]
    );
}

/// The text of an element that starts right after `after` and ends at the next `<`.
fn text_after(html: &str, after: &str) -> String {
    let start = html
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} not in page"))
        + after.len();
    html[start..].split('<').next().unwrap_or("").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_sign_in_is_set_up_on_the_account_page_and_asked_at_sign_in() {
    let s = start().await;
    let olga = s
        .app
        .add_user("olga@mail.ru", "Ольга <b>", PASSWORD, Role::Salesperson)
        .await
        .expect("olga");
    let c = client();
    let csrf = s.login(&c, "olga@mail.ru").await;

    // Turned on: without the CSRF token nothing starts; then the key and its QR code.
    let r = s.post(&c, "/me/two-step/start", &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .post(&c, "/me/two-step/start", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = s.get(&c, "/me").await;
    assert!(page.body.contains("<svg"), "a QR code: {}", page.body);
    let key = text_after(&page.body, r#"<code class="totp-key">"#);
    assert_eq!(key.len(), 32, "{key}");
    // A wrong code is said on the page, which keeps the key.
    let now = voronka_app::now_ms();
    let right = voronka_app::totp_code(&key, now).unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = s
        .post(
            &c,
            "/me/two-step/confirm",
            &[("csrf", csrf.as_str()), ("code", wrong)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains(&key), "{}", r.body);
    let r = s
        .post(
            &c,
            "/me/two-step/confirm",
            &[("csrf", csrf.as_str()), ("code", right.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("Your recovery codes"), "{}", r.body);
    let recovery = text_after(&r.body, "<li><code>");
    assert_eq!(recovery.len(), 11, "{recovery}");
    let page = s.get(&c, "/me").await;
    assert!(page.body.contains("Two-step sign-in is on."));
    assert!(page.body.contains("Recovery codes left: 10."));
    assert!(!page.body.contains(&recovery), "shown once");

    // Signing in asks for a code after the password; no session until then.
    let c2 = client();
    let r = s
        .post(
            &c2,
            "/login",
            &[
                ("email", "olga@mail.ru"),
                ("password", PASSWORD),
                ("next", "/me"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.cookie.is_empty(), "{}", r.cookie);
    assert!(r.body.contains(r#"action="/login/code""#), "{}", r.body);
    let challenge = value_after(&r.body, r#"name="challenge" value=""#);
    let code = |code: String| {
        let challenge = challenge.clone();
        let c2 = c2.clone();
        let s = &s;
        async move {
            s.post(
                &c2,
                "/login/code",
                &[
                    ("challenge", challenge.as_str()),
                    ("code", code.as_str()),
                    ("next", "/me"),
                ],
            )
            .await
        }
    };
    let r = code(wrong.to_string()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("That code is not right."), "{}", r.body);
    assert!(r.body.contains(&challenge), "the same sign-in waits");
    // The next step's code is within the clock drift allowed, and not used yet.
    let next = voronka_app::totp_code(&key, voronka_app::now_ms() + 30_000).unwrap();
    let r = code(next).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/me");
    assert!(r.cookie.starts_with("voronka_session="), "{}", r.cookie);
    assert_eq!(s.get(&c2, "/me").await.status, StatusCode::OK);
    // The waiting sign-in is done: its token leads back to the start.
    let r = code(recovery.clone()).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.body.contains("Sign in again."), "{}", r.body);
    assert!(r.body.contains(r#"action="/login""#), "{}", r.body);

    // A recovery code signs in once.
    let c3 = client();
    let r = s
        .post(
            &c3,
            "/login",
            &[("email", "olga@mail.ru"), ("password", PASSWORD)],
        )
        .await;
    let challenge = value_after(&r.body, r#"name="challenge" value=""#);
    let r = s
        .post(
            &c3,
            "/login/code",
            &[
                ("challenge", challenge.as_str()),
                ("code", recovery.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    // An administrator sees it on and turns it off; the audit log names both.
    let admin = client();
    let admin_csrf = s.login(&admin, ADMIN_EMAIL).await;
    let users = s.get(&admin, "/admin/users").await;
    let reset = format!("/admin/users/{}/two-step-off", olga.id);
    assert!(users.body.contains(&reset), "{}", users.body);
    assert!(users.body.contains("Ольга &#60;b&#62;"), "escaped");
    let r = s.post(&admin, &reset, &[]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = s
        .post(&admin, &reset, &[("csrf", admin_csrf.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location, "/admin/users?done=two_step_reset",
        "{}",
        r.location
    );
    assert!(!s.get(&admin, "/admin/users").await.body.contains(&reset));
    let r = s
        .post(
            &client(),
            "/login",
            &[("email", "olga@mail.ru"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "the password alone again");
    let audit = s.get(&admin, "/admin/audit").await;
    assert!(audit.body.contains("Two-step sign-in turned on"));
    assert!(audit.body.contains("Two-step sign-in turned off"));
    assert!(audit.body.contains("Signed in with a recovery code"));

    // Turned off by its owner, who types their password.
    let r = s
        .post(&c, "/me/two-step/start", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let key = text_after(&s.get(&c, "/me").await.body, r#"<code class="totp-key">"#);
    let now_code = voronka_app::totp_code(&key, voronka_app::now_ms()).unwrap();
    let r = s
        .post(
            &c,
            "/me/two-step/confirm",
            &[("csrf", csrf.as_str()), ("code", now_code.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = s
        .post(
            &c,
            "/me/two-step/off",
            &[("csrf", csrf.as_str()), ("current_password", "not it")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let r = s
        .post(
            &c,
            "/me/two-step/off",
            &[("csrf", csrf.as_str()), ("current_password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/me?done=two_step_off");
    assert!(s
        .get(&c, &r.location)
        .await
        .body
        .contains("Two-step sign-in is off."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_filtered_and_downloaded() {
    let s = start().await;
    let c = client();
    let csrf = s.login(&c, ADMIN_EMAIL).await;
    let olga = s
        .app
        .add_user("olga@mail.ru", "Ольга <b>", PASSWORD, Role::SalesManager)
        .await
        .expect("olga");
    let lead = s.capture("Иван Петров", &[("phone", "+79161234567")]).await;
    let r = s
        .post(
            &c,
            &format!("/leads/{lead}/tags"),
            &[("csrf", csrf.as_str()), ("tag", "От админа")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    s.app
        .tag_lead(&Actor::user(olga.clone()), lead, "От Ольги")
        .await
        .unwrap();

    // The filters: people by name (escaped), kinds of record, actions by their labels.
    let page = s.get(&c, "/admin/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!(
            r#"<option value="{}" >Ольга &#60;b&#62;</option>"#,
            olga.id
        )),
        "{}",
        page.body
    );
    assert!(page
        .body
        .contains(r#"<option value="tag" >Tag added</option>"#));
    assert!(page.body.contains("От админа") && page.body.contains("От Ольги"));
    // Olga's only.
    let hers = s
        .get(
            &c,
            &format!("/admin/audit?actor={}&kind=lead&action=tag", olga.id),
        )
        .await;
    assert!(hers.body.contains("От Ольги"), "{}", hers.body);
    assert!(!hers.body.contains("От админа"), "{}", hers.body);
    assert!(
        hers.body.contains(&format!(
            r#"href="/admin/audit.csv?actor={}&#38;kind=lead&#38;action=tag""#,
            olga.id
        )),
        "{}",
        hers.body
    );
    assert!(hers
        .body
        .contains(&format!(r#"<option value="{}" selected>"#, olga.id)));
    // A day with nothing, and a kind of record with nothing.
    let none = s.get(&c, "/admin/audit?to=2020-01-01").await;
    assert!(
        none.body.contains("No entry matches these filters."),
        "{}",
        none.body
    );
    let none = s.get(&c, "/admin/audit?kind=spend").await;
    assert!(none.body.contains("No entry matches these filters."));
    // Filters that cannot be read are left out, not an error.
    let any = s
        .get(&c, "/admin/audit?actor=x&kind=nothing&from=yesterday")
        .await;
    assert_eq!(any.status, StatusCode::OK);
    assert!(any.body.contains("От Ольги") && any.body.contains("От админа"));

    // The CSV of the same filters.
    let r = c
        .get(format!(
            "{}/admin/audit.csv?actor={}&action=tag",
            s.base, olga.id
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("audit.csv"));
    let body = r.text().await.unwrap();
    let lines: Vec<&str> = body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines.len(), 2, "{body}");
    assert!(lines[1].contains("От Ольги"), "{body}");

    // Administrators only.
    let c2 = client();
    s.login(&c2, "olga@mail.ru").await;
    assert_eq!(
        s.get(&c2, "/admin/audit").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        s.get(&c2, "/admin/audit.csv").await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_required_two_step_sign_in_is_turned_on_before_anything_else() {
    let s = start().await;
    s.app
        .add_user("sara@mail.ru", "Sara Seller", PASSWORD, Role::Salesperson)
        .await
        .expect("sara");
    let admin = client();
    let admin_csrf = s.login(&admin, ADMIN_EMAIL).await;
    let users = s.get(&admin, "/admin/users").await;
    assert!(
        users.body.contains(r#"<option value="nobody" selected>"#),
        "{}",
        users.body
    );
    let r = s
        .post(
            &admin,
            "/admin/users/two-step-policy",
            &[("policy", "everyone")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "without the CSRF token");
    let r = s
        .post(
            &admin,
            "/admin/users/two-step-policy",
            &[("csrf", admin_csrf.as_str()), ("policy", "sometimes")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = s
        .post(
            &admin,
            "/admin/users/two-step-policy",
            &[("csrf", admin_csrf.as_str()), ("policy", "everyone")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(r.location, "/admin/users?done=two_step_policy");
    // The administrator too: every page leads to their account page.
    let r = s.get(&admin, "/leads").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/me?done=two_step_required#two-step");

    // Sara signs in, and turns it on first.
    let c = client();
    let r = s
        .post(
            &c,
            "/login",
            &[
                ("email", "sara@mail.ru"),
                ("password", PASSWORD),
                ("next", "/leads"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = s.get(&c, "/leads").await;
    assert_eq!(r.location, "/me?done=two_step_required#two-step");
    let me = s.get(&c, "/me?done=two_step_required").await;
    assert_eq!(me.status, StatusCode::OK);
    assert!(
        me.body.contains("Your team requires two-step sign-in"),
        "{}",
        me.body
    );
    let csrf = csrf_of(&me.body);
    // A form elsewhere is not taken either.
    let r = s
        .post(
            &c,
            "/leads/views",
            &[("csrf", csrf.as_str()), ("name", "x")],
        )
        .await;
    assert_eq!(r.location, "/me?done=two_step_required#two-step");
    let r = s
        .post(&c, "/me/two-step/start", &[("csrf", csrf.as_str())])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let key = text_after(&s.get(&c, "/me").await.body, r#"<code class="totp-key">"#);
    let code = voronka_app::totp_code(&key, voronka_app::now_ms()).unwrap();
    let r = s
        .post(
            &c,
            "/me/two-step/confirm",
            &[("csrf", csrf.as_str()), ("code", code.as_str())],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(s.get(&c, "/leads").await.status, StatusCode::OK);
}
