//! The predictive conversion score end to end on both backends: leads captured through the
//! intake, some closed (converted or refused), a model trained, probabilities on open leads.

mod common;

use common::TestDb;
use voronka_app::{Actor, App, AppError, CaptureRequest, ConvertInput, RefuseInput, Settings};
use voronka_core::intake::Submission;
use voronka_core::{Channel, Currency, Id, Money};
use voronka_store::{LeadQuery, LeadSort};

fn capture_req(i: usize, source: &str, product: &str) -> CaptureRequest {
    let name = common::person_name(i);
    let s = Submission::new(Channel::Api, voronka_app::now_ms())
        .with("name", name)
        .with(
            "phone",
            format!("+7 916 {:03} {:02} {:02}", i / 100, i % 100, 11),
        )
        .with("product", product)
        .with("utm_source", source);
    CaptureRequest {
        submission: s,
        form: None,
        idempotency_key: None,
        client: None,
    }
}

async fn capture(app: &App, i: usize, source: &str, product: &str) -> Id {
    app.capture(capture_req(i, source, product))
        .await
        .unwrap()
        .lead_id
        .unwrap()
}

async fn refuse(app: &App, actor: &Actor, id: Id) {
    app.refuse(
        actor,
        id,
        RefuseInput {
            reason: voronka_core::demo::REFUSAL_REASONS[0].into(),
            comment: None,
            freeze_until: None,
        },
    )
    .await
    .unwrap();
}

async fn convert(app: &App, actor: &Actor, id: Id) {
    app.convert(
        actor,
        id,
        ConvertInput {
            amount: Money::new(100_000, Currency::parse("RUB").unwrap()),
            title: None,
        },
    )
    .await
    .unwrap();
}

async fn probability(app: &App, id: Id) -> Option<f64> {
    app.store()
        .lead(id)
        .await
        .unwrap()
        .unwrap()
        .conversion_probability
}

/// Thirty leads from an expo and thirty from Яндекс, the first fifteen of each closed: expo
/// leads mostly convert (12 of 15), Яндекс leads mostly refuse (12 of 15).
async fn expo_and_yandex(app: &App, actor: &Actor) -> (Vec<Id>, Vec<Id>) {
    let mut expo = Vec::new();
    let mut yandex = Vec::new();
    for i in 0..30 {
        expo.push(capture(app, i, "expo", "CRM").await);
        yandex.push(capture(app, 100 + i, "Яндекс", "CRM").await);
    }
    for (k, id) in expo[..15].iter().enumerate() {
        if k < 12 {
            convert(app, actor, *id).await;
        } else {
            refuse(app, actor, *id).await;
        }
    }
    for (k, id) in yandex[..15].iter().enumerate() {
        if k < 3 {
            convert(app, actor, *id).await;
        } else {
            refuse(app, actor, *id).await;
        }
    }
    (expo, yandex)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trains_on_closed_leads_and_scores_open_ones() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = App::open(&db.url, Settings::default()).await.unwrap();
        let actor = Actor::system("test");

        // Too few closed leads: a clear refusal, no model.
        let e = app.train_model().await.unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }), "{n}: {e:?}");
        assert!(e.to_string().contains("too few closed leads"), "{n}: {e}");
        assert!(app.current_model().await.unwrap().is_none(), "{n}");

        let (expo, yandex) = expo_and_yandex(&app, &actor).await;
        // A junk lead is neither won nor lost.
        app.mark_junk(&actor, yandex[29], "test entry")
            .await
            .unwrap();
        assert_eq!(
            probability(&app, expo[20]).await,
            None,
            "{n}: not scored before training"
        );

        let r = app.train_model().await.unwrap();
        assert_eq!(r.training_size, 30, "{n}");
        assert_eq!(r.model.metrics.won, 15, "{n}");
        assert_eq!(r.model.metrics.lost, 15, "{n}");
        assert_eq!(
            r.scored, 29,
            "{n}: every open lead (the junk one is not open)"
        );
        for id in &expo[15..] {
            let p = probability(&app, *id).await.expect("scored");
            assert!(p > 0.5, "{n}: expo converts 80%: {p}");
        }
        for id in &yandex[15..29] {
            let p = probability(&app, *id).await.expect("scored");
            assert!(p < 0.5, "{n}: Яндекс converts 20%: {p}");
        }
        assert_eq!(
            probability(&app, yandex[29]).await,
            None,
            "{n}: junk is not scored"
        );

        // The stored model is the current one, and the nightly retraining is scheduled.
        let c = app.current_model().await.unwrap().unwrap();
        assert_eq!(c.id, r.model_id, "{n}");
        assert_eq!(c.training_size, 30, "{n}");
        assert_eq!(c.model, r.model, "{n}: the model survives the database");
        assert!(
            app.store()
                .has_pending_job(voronka_app::RETRAIN_MODEL, None)
                .await
                .unwrap(),
            "{n}"
        );

        // A new lead is scored at intake with the current model.
        let fresh_expo = capture(&app, 500, "expo", "CRM").await;
        let fresh_yandex = capture(&app, 501, "яндекс", "CRM").await;
        let (a, b) = (
            probability(&app, fresh_expo)
                .await
                .expect("scored at intake"),
            probability(&app, fresh_yandex)
                .await
                .expect("scored at intake"),
        );
        assert!(a > b, "{n}: {a} vs {b}");
        // A refused lead moved back to work is scored as it opens again.
        assert_eq!(probability(&app, yandex[14]).await, None, "{n}: closed");
        let back = app
            .change_stage(&actor, yandex[14], voronka_core::Stage::Working, None)
            .await
            .unwrap();
        let p = probability(&app, yandex[14])
            .await
            .expect("scored on reopening");
        assert!(p < 0.5, "{n}: a Яндекс lead: {p}");
        assert_eq!(
            back.conversion_probability,
            Some(p),
            "{n}: the answer says so too"
        );
        // So is a refused lead whose person asks about the same thing again.
        assert_eq!(probability(&app, yandex[13]).await, None, "{n}: closed");
        let again = app
            .capture(capture_req(113, "Яндекс", "CRM"))
            .await
            .unwrap();
        assert_eq!(again.action, "reopened", "{n}: {again:?}");
        assert_eq!(again.lead_id, Some(yandex[13]), "{n}");
        let p = probability(&app, yandex[13])
            .await
            .expect("scored on asking again");
        assert!(p < 0.5, "{n}: a Яндекс lead: {p}");
        // The intake and a full rescore agree on a new lead.
        app.rescore_open_leads().await.unwrap();
        let again = probability(&app, fresh_expo).await.unwrap();
        assert!((again - a).abs() < 1e-6, "{n}: intake {a}, rescore {again}");

        // The list sorts and filters by the probability.
        let q = LeadQuery {
            sort: LeadSort::ConversionDesc,
            limit: 100,
            ..Default::default()
        };
        let (rows, _) = app.list_leads(&actor, q.clone()).await.unwrap();
        let ps: Vec<i64> = rows
            .iter()
            .map(|r| {
                r.lead
                    .conversion_probability
                    .map_or(-1, |p| (p * 1e6).round() as i64)
            })
            .collect();
        assert!(ps.windows(2).all(|w| w[0] >= w[1]), "{n}: {ps:?}");
        assert!(ps[0] > 500_000, "{n}");
        let likely = LeadQuery {
            min_conversion: Some(0.5),
            ..q
        };
        let (rows, total) = app.list_leads(&actor, likely).await.unwrap();
        assert_eq!(total, 16, "{n}: 15 open expo leads and the new one");
        assert!(rows
            .iter()
            .all(|r| r.lead.conversion_probability.unwrap() >= 0.5));

        // Routing rules can name the probability: likely buyers go to the senior salesperson.
        let senior = app
            .add_user(
                "senior@example.ru",
                "Старший продавец",
                "password-1",
                voronka_core::Role::Salesperson,
            )
            .await
            .unwrap();
        let junior = app
            .add_user(
                "junior@example.ru",
                "Младший продавец",
                "password-1",
                voronka_core::Role::Salesperson,
            )
            .await
            .unwrap();
        let rules = App::parse_routing_rules(
            r#"
[[rules]]
name = "Likely buyers"
people = ["senior@example.ru"]
[rules.when]
conversion_min = 0.5

[[rules]]
name = "Everyone else"
people = ["junior@example.ru"]
"#,
            true,
        )
        .unwrap();
        app.set_routing_rules(&actor, rules).await.unwrap();
        let likely = capture(&app, 700, "expo", "CRM").await;
        let unlikely = capture(&app, 701, "Яндекс", "CRM").await;
        for (id, who, rule) in [
            (likely, senior.id, "Likely buyers"),
            (unlikely, junior.id, "Everyone else"),
        ] {
            let l = app.store().lead(id).await.unwrap().unwrap();
            assert_eq!(l.owner_id, Some(who), "{n}: {l:?}");
            let h = app.store().assignments_for(id).await.unwrap();
            assert_eq!(h[0].rule.as_deref(), Some(rule), "{n}: {h:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retraining_job_retrains_and_schedules_the_next_night() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = App::open(&db.url, Settings::default()).await.unwrap();
        let actor = Actor::system("test");
        for i in 0..24 {
            let id = capture(&app, i, if i % 2 == 0 { "expo" } else { "vk" }, "ERP").await;
            if i % 4 == 0 || (i % 2 == 1 && i % 8 == 1) {
                convert(&app, &actor, id).await;
            } else {
                refuse(&app, &actor, id).await;
            }
        }
        // Due now, as if the night had come while no server ran.
        let now = voronka_app::now_ms();
        let mut tx = app.store().begin().await.unwrap();
        tx.enqueue_job(voronka_app::RETRAIN_MODEL, "{}", now - 1000, now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert!(app.current_model().await.unwrap().is_none(), "{n}");
        assert_eq!(app.run_due_jobs("w").await.unwrap(), 1, "{n}");
        let m = app
            .current_model()
            .await
            .unwrap()
            .expect("trained by the job");
        assert_eq!(m.training_size, 24, "{n}");
        // The next run is scheduled, not due yet (new leads' SLA timers are jobs too).
        assert!(
            app.store()
                .has_pending_job(voronka_app::RETRAIN_MODEL, None)
                .await
                .unwrap(),
            "{n}"
        );
        assert_eq!(app.run_due_jobs("w").await.unwrap(), 0, "{n}");
        assert!(voronka_app::next_retrain_at(now) > now);
    }
}

/// The demo data teaches the model as it is loaded: its open leads show their chance at once, and
/// each of its worked leads had its first response (the owner's call) before anything else; the
/// load leaves no log behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_leads_have_their_chance_and_first_response_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("demo.db").display());
    let app = App::open(&url, Settings::default()).await.unwrap();
    app.load_demo(&voronka_core::demo::DemoConfig::new(
        7,
        300,
        voronka_app::now_ms(),
    ))
    .await
    .unwrap();
    // The manager's views are shared with the team.
    let views = app.store().saved_views(1).await.unwrap();
    assert_eq!(
        views
            .iter()
            .filter(|v| v.shared)
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        ["Hot and still new", "Most likely to buy", "Nobody's yet"]
    );
    // Requests without a way back stay interests, in the channel report too; the paid channels
    // have their spend.
    let day = 86_400_000;
    let r = app
        .channel_report(
            &Actor::system("test"),
            voronka_core::channels::ChannelBy::Source,
            voronka_app::now_ms() - 200 * day,
            voronka_app::now_ms() + day,
            None,
        )
        .await
        .unwrap();
    assert_eq!(r.total.interests, 12, "{:?}", r.total);
    let yandex = r
        .rows
        .iter()
        .find(|x| x.key.source.as_deref() == Some("yandex"))
        .unwrap();
    assert!(
        yandex.interests > 0 && yandex.spend_in(voronka_core::Currency::parse("RUB").unwrap()) > 0
    );
    assert!(yandex.cost_per_lead.is_some(), "{yandex:?}");
    // The load's log is cut back once it is in the database.
    let wal = std::fs::metadata(dir.path().join("demo.db-wal")).map_or(0, |m| m.len());
    assert!(wal < 1024 * 1024, "{wal} bytes of log left");
    let (rows, _) = app
        .list_leads(
            &Actor::system("test"),
            LeadQuery {
                stages: vec![voronka_core::Stage::New, voronka_core::Stage::Working],
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!rows.is_empty());
    assert!(
        rows.iter().all(|r| r.lead.conversion_probability.is_some()),
        "open leads without a chance"
    );
    // Someone took up every request within two weeks: a person asking again while their lead
    // was open added a touch to it, rather than a second lead left new (the people's steps are
    // taken in time order between the submissions).
    let fortnight = voronka_app::now_ms() - 14 * 86_400_000;
    let stale: Vec<_> = rows
        .iter()
        .filter(|r| r.lead.stage == voronka_core::Stage::New && r.lead.created_at < fortnight)
        .map(|r| r.lead.id)
        .collect();
    assert!(stale.is_empty(), "left new for weeks: {stale:?}");
    let (all, _) = app
        .list_leads(
            &Actor::system("test"),
            LeadQuery {
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(
        all.iter().any(|r| r.lead.touches > 1),
        "no repeat became a touch"
    );
    let (converted, _) = app
        .list_leads(
            &Actor::system("test"),
            LeadQuery {
                stages: vec![voronka_core::Stage::Converted],
                limit: 500,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(!converted.is_empty());
    for r in &converted {
        let first = r
            .lead
            .first_response_at
            .expect("a converted lead was answered");
        assert!(first > r.lead.created_at, "{first} {}", r.lead.created_at);
    }
}

/// With a qualification threshold on the probability of conversion in the scoring rules, a new
/// lead the model rates that high moves to MQL by itself once the model scores it, its history
/// naming the rule; the leads rated lower stay new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_probability_past_the_rules_threshold_qualifies_the_lead() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = App::open(&db.url, Settings::default()).await.unwrap();
        let actor = Actor::system("test");
        let mut rules = voronka_core::scoring::Rules::default();
        // Points alone never qualify here: only the probability does.
        rules.qualify.mql_fit = 100_000;
        rules.qualify.mql_conversion = Some(0.5);
        app.save_scoring_rules(&actor, rules).await.unwrap();

        let (expo, yandex) = expo_and_yandex(&app, &actor).await;
        app.drain_rescore_queue().await.unwrap();
        let stage = |id: Id| {
            let app = app.clone();
            async move { app.store().lead(id).await.unwrap().unwrap().stage }
        };
        assert_eq!(stage(expo[20]).await, voronka_core::Stage::New, "{n}");

        app.train_model().await.unwrap();
        let queued = app.drain_rescore_queue().await.unwrap();
        assert_eq!(queued, 15, "{n}: the open expo leads, rated past 50 %");
        for id in &expo[15..] {
            assert_eq!(stage(*id).await, voronka_core::Stage::Mql, "{n}: {id}");
            let d = app.lead_detail(&actor, *id).await.unwrap();
            let last = d.history.last().unwrap();
            let why = last.reason.clone().unwrap_or_default();
            assert!(
                why.contains("MQL: predicted conversion ") && why.contains("≥ 50 %"),
                "{n}: {why}"
            );
        }
        for id in &yandex[15..] {
            assert_eq!(stage(*id).await, voronka_core::Stage::New, "{n}: {id}");
        }
        // Trained again (as every night): the leads it moved are MQL now, which no threshold
        // moves on (there is none for SQL), and the others are still below it: none is queued.
        app.train_model().await.unwrap();
        assert_eq!(app.drain_rescore_queue().await.unwrap(), 0, "{n}");
        // With an SQL threshold too, the next training queues those MQL leads, once, and they
        // move on to SQL.
        let mut rules = app.scorer().rules().clone();
        rules.qualify.sql_conversion = Some(0.5);
        app.save_scoring_rules(&actor, rules).await.unwrap();
        app.train_model().await.unwrap();
        assert_eq!(app.drain_rescore_queue().await.unwrap(), 15, "{n}");
        for id in &expo[15..] {
            assert_eq!(stage(*id).await, voronka_core::Stage::Sql, "{n}: {id}");
        }
        app.train_model().await.unwrap();
        assert_eq!(
            app.drain_rescore_queue().await.unwrap(),
            0,
            "{n}: SQL leads stay put"
        );
    }
}
