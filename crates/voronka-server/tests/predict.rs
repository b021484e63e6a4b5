//! The predictive conversion score over real HTTP: leads captured through the public form, closed
//! through the API, the model trained and read through the API, probabilities on leads, in the
//! list (sort and filter) and on the lead card.

mod common;

use reqwest::StatusCode;
use serde_json::{json, Value};
use voronka_app::{App, Settings};
use voronka_core::{Role, Scope, ScopeSet};
use voronka_server::ServerConfig;

const PASSWORD: &str = "correct horse battery";

struct Server {
    base: String,
    app: App,
    token: String,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("p.db").display());
    let app = App::open(&url, Settings::default()).await.unwrap();
    let base = common::serve(
        &app,
        ServerConfig {
            max_body_bytes: 64 * 1024,
            capture_per_ip_per_sec: 10_000,
            ..Default::default()
        },
    )
    .await;
    let (_, token) = app
        .create_token("test", ScopeSet::new(vec![Scope::Admin]), None, None)
        .await
        .unwrap();
    Server {
        base,
        app,
        token,
        http: reqwest::Client::new(),
        _dir: dir,
    }
}

impl Server {
    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }
    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }
    async fn json(&self, r: reqwest::RequestBuilder, status: StatusCode) -> Value {
        let r = r.send().await.unwrap();
        let s = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(s, status, "{v}");
        v
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_over_the_api_and_on_the_pages() {
    let s = start().await;
    let form = s
        .app
        .create_form(
            &voronka_app::Actor::system("t"),
            voronka_app::FormInput {
                name: "Заявка".into(),
                min_fill_ms: Some(0),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let names = [
        "Анна",
        "Борис",
        "Вера",
        "Глеб",
        "Дарья",
        "Егор",
        "Жанна",
        "Зоя",
    ];
    let mut partner = Vec::new();
    let mut social = Vec::new();
    for i in 0..40 {
        let source = if i % 2 == 0 { "partner" } else { "vk" };
        let r = s
            .http
            .post(format!("{}/f/{}", s.base, form.public_key))
            .json(&json!({
                "name": format!("{} {}", names[i % 8], ["Орлова", "Белов", "Чернова", "Зайцев", "Волкова"][i / 8]),
                "phone": format!("+7 903 {:03} {:02} 77", i, i),
                "utm_source": source,
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CREATED);
        let v: Value = r.json().await.unwrap();
        let id = v["lead_id"].as_i64().unwrap();
        if i % 2 == 0 {
            partner.push(id);
        } else {
            social.push(id);
        }
    }

    // Nothing trained yet.
    let v = s.json(s.get("/api/v1/model"), StatusCode::NOT_FOUND).await;
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("no conversion model"));
    let v = s
        .json(
            s.post("/api/v1/model/train"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("too few closed leads"),
        "{v}"
    );

    // Close half: partner leads mostly convert, social ones mostly refuse.
    for (k, id) in partner[..10].iter().enumerate() {
        if k < 8 {
            let body = json!({"amount_minor": 500_000, "currency": "RUB"});
            s.json(
                s.post(&format!("/api/v1/leads/{id}/convert")).json(&body),
                StatusCode::CREATED,
            )
            .await;
        } else {
            let body = json!({"reason": voronka_core::demo::REFUSAL_REASONS[1]});
            s.json(
                s.post(&format!("/api/v1/leads/{id}/refuse")).json(&body),
                StatusCode::OK,
            )
            .await;
        }
    }
    for (k, id) in social[..10].iter().enumerate() {
        if k < 2 {
            let body = json!({"amount_minor": 500_000, "currency": "RUB"});
            s.json(
                s.post(&format!("/api/v1/leads/{id}/convert")).json(&body),
                StatusCode::CREATED,
            )
            .await;
        } else {
            let body = json!({"reason": voronka_core::demo::REFUSAL_REASONS[1]});
            s.json(
                s.post(&format!("/api/v1/leads/{id}/refuse")).json(&body),
                StatusCode::OK,
            )
            .await;
        }
    }

    let t = s.json(s.post("/api/v1/model/train"), StatusCode::OK).await;
    assert_eq!(t["training_size"], 20);
    assert_eq!(t["scored"], 20);
    let m = s.json(s.get("/api/v1/model"), StatusCode::OK).await;
    assert_eq!(m["id"], t["id"]);
    assert_eq!(m["training_size"], 20);
    let metrics = &m["metrics"];
    assert!(metrics["model"]["auc"].as_f64().unwrap() >= 0.0);
    assert!(metrics["baseline"]["auc"].as_f64().is_some());
    assert!(!metrics["model"]["calibration"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(metrics["top_features"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["feature"].as_str().unwrap().starts_with("source = ")));

    // Each open lead carries its probability.
    let open_partner = s
        .json(
            s.get(&format!("/api/v1/leads/{}", partner[15])),
            StatusCode::OK,
        )
        .await;
    let open_social = s
        .json(
            s.get(&format!("/api/v1/leads/{}", social[15])),
            StatusCode::OK,
        )
        .await;
    let (a, b) = (
        open_partner["lead"]["conversion_probability"]
            .as_f64()
            .unwrap(),
        open_social["lead"]["conversion_probability"]
            .as_f64()
            .unwrap(),
    );
    assert!(a > 0.5 && b < 0.5, "{a} {b}");

    // Sorted and filtered by it.
    let list = s
        .json(
            s.get("/api/v1/leads?sort=-conversion&min_conversion=0.5&limit=100"),
            StatusCode::OK,
        )
        .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(list["total"], 10, "the ten open partner leads");
    let ps: Vec<f64> = items
        .iter()
        .map(|i| i["conversion_probability"].as_f64().unwrap())
        .collect();
    assert!(ps.iter().all(|p| *p >= 0.5));
    assert!(ps.windows(2).all(|w| w[0] >= w[1]), "{ps:?}");
    let v = s
        .json(
            s.get("/api/v1/leads?min_conversion=1.5"),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    assert_eq!(v["fields"][0]["field"], "min_conversion");

    // A token that only reads leads sees the model but may not train; the document lists both.
    let (_, reader) = s
        .app
        .create_token("reader", ScopeSet::new(vec![Scope::LeadsRead]), None, None)
        .await
        .unwrap();
    let r = s
        .http
        .get(format!("{}/api/v1/model", s.base))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = s
        .http
        .post(format!("{}/api/v1/model/train", s.base))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let doc: Value = s
        .http
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/model"]["get"].is_object());
    assert!(doc["paths"]["/api/v1/model/train"]["post"].is_object());

    // The lead card and the list show the probability beside the score.
    s.app
        .add_user("boss@mail.ru", "Босс", PASSWORD, Role::Admin)
        .await
        .unwrap();
    let web = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = web
        .post(format!("{}/login", s.base))
        .form(&[
            ("email", "boss@mail.ru"),
            ("password", PASSWORD),
            ("next", "/leads"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let card = page_text(&web, format!("{}/leads/{}", s.base, partner[15])).await;
    let shown = format!("Conversion chance: {:.0}%", a * 100.0);
    assert!(card.contains(&shown), "{shown} not on the card");
    let page = page_text(
        &web,
        format!("{}/leads?sort=-conversion&min_conversion=50", s.base),
    )
    .await;
    assert_eq!(
        page.matches("data-conversion>").count(),
        10,
        "ten rows, each with its chance"
    );
    assert!(page.contains("Most likely to convert"));

    // The scoring page shows the model's figures beside the baseline's, and an administrator
    // trains it again from there.
    let page = page_text(&web, format!("{}/scoring", s.base)).await;
    let auc = format!(
        "<strong>{:.3}</strong>",
        metrics["model"]["auc"].as_f64().unwrap()
    );
    assert!(
        page.contains("id=\"model-quality\"") && page.contains(&auc),
        "{page}"
    );
    assert!(
        page.contains("Trained ") && page.contains(" on 20 closed leads"),
        "{page}"
    );
    assert!(
        page.matches("<tr><td>").count()
            >= 2 + metrics["model"]["calibration"].as_array().unwrap().len(),
        "both scorers and the calibration's tenths: {page}"
    );
    assert!(page.contains("<bdi>source = "), "{page}");
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_string();
    let r = web
        .post(format!("{}/scoring/model", s.base))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/scoring?done=model");
    let m2 = s.json(s.get("/api/v1/model"), StatusCode::OK).await;
    assert_eq!(m2["id"].as_i64(), t["id"].as_i64().map(|i| i + 1));
    let r = web
        .post(format!("{}/scoring/model", s.base))
        .form(&[("csrf", "forged")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

/// A page's text, read with the signed-in browser's cookies.
async fn page_text(web: &reqwest::Client, url: String) -> String {
    web.get(url).send().await.unwrap().text().await.unwrap()
}
