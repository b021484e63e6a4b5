//! Scoring against both backends: anonymous events stitched to the lead of the visitor who
//! fills a form, behaviour and profile points, decay, the automatic MQL move with its rule,
//! hand-set temperatures, a rules change rescoring every lead through the job, and bad events
//! refused whole.

mod common;

use common::TestDb;
use serde_json::json;
use voronka_app::{Actor, App, AppError, CaptureRequest, EventIn, Settings};
use voronka_core::intake::Submission;
use voronka_core::scoring::{Activity, FitLevel, Part, Rules};
use voronka_core::{Channel, Stage, Temperature};

const DAY: i64 = 86_400_000;

fn req(fields: &[(&str, &str)]) -> CaptureRequest {
    let mut s = Submission::new(Channel::Api, voronka_app::now_ms());
    for (k, v) in fields {
        s = s.with(k, *v);
    }
    CaptureRequest {
        submission: s,
        form: None,
        idempotency_key: None,
        client: None,
    }
}

fn ev(name: &str, visitor: Option<&str>, lead: Option<i64>, days_ago: i64) -> EventIn {
    EventIn {
        name: name.into(),
        visitor_id: visitor.map(str::to_string),
        lead_id: lead,
        url: Some("https://shop.example.com/pricing".into()),
        at: Some(voronka_app::now_ms() - days_ago * DAY),
        age: None,
        properties: Default::default(),
        id: None,
    }
}

async fn open(db: &TestDb) -> App {
    App::open(&db.url, Settings::default())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_events_join_the_lead_and_qualify_it() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let admin = Actor::system("test");
        let before = app.store().count_interests(0).await.unwrap().interests;
        // A visitor looks at prices twice and a product page, anonymously: one interest.
        let done = app
            .ingest_events(
                "test",
                vec![
                    ev("view_pricing", Some("v-1"), None, 0),
                    ev("view_pricing", Some("v-1"), None, 0),
                    ev("view_product", Some("v-1"), None, 0),
                ],
            )
            .await
            .unwrap();
        assert_eq!((done.stored, done.new_visitors), (3, 1), "{}", db.name);
        assert!(done.leads.is_empty());
        let after = app.store().count_interests(0).await.unwrap().interests;
        assert_eq!(
            after,
            before + 1,
            "{}: the visitor is one interest",
            db.name
        );
        // More events of the same visitor are not another interest.
        let again = app
            .ingest_events("test", vec![ev("page_view", Some("v-1"), None, 0)])
            .await
            .unwrap();
        assert_eq!(again.new_visitors, 0);

        // The visitor fills a form: the past events join the new lead and count.
        let o = app
            .capture(req(&[
                ("name", "Ирина Смирнова"),
                ("phone", "+79161234567"),
                ("email", "irina@example.ru"),
                ("company_size", "12"),
                ("visitor_id", "v-1"),
            ]))
            .await
            .unwrap();
        let lead = o.lead_id.unwrap();
        let e = app.explain_score(&admin, lead).await.unwrap();
        let rules: Vec<&str> = e
            .score
            .contributions
            .iter()
            .map(|c| c.rule.as_str())
            .collect();
        assert!(rules.contains(&"Pricing viewed"), "{}: {rules:?}", db.name);
        assert!(rules.contains(&"Company size 1–20"), "{rules:?}");
        // 15 phone + 5 email + 10 company size; 10 + 10 + 5 + 1 engagement.
        assert_eq!((e.score.fit, e.score.engagement), (30, 26), "{}", db.name);
        assert_eq!(e.stored.fit, 30);
        assert_eq!(e.stored.engagement, 26);
        assert_eq!(e.stored.fit_level, FitLevel::Suitable);
        assert_eq!(e.stored.activity, Activity::LessActive);
        // Fit 30 ≥ 20 and engagement 26 ≥ 20: an MQL, with the rule in the history.
        let d = app.lead_detail(&admin, lead).await.unwrap();
        assert_eq!(d.lead.stage, Stage::Mql, "{}", db.name);
        assert_eq!(d.lead.temperature, Temperature::Hot);
        let mql = d.history.iter().find(|h| h.to == Stage::Mql).unwrap();
        assert_eq!(mql.actor, "scoring");
        assert!(
            mql.reason.as_deref().unwrap().contains("fit 30 ≥ 20"),
            "{:?}",
            mql.reason
        );
        let events = app.store().lead_events(lead, 10).await.unwrap();
        assert_eq!(events.len(), 4, "{}", db.name);
        // Later events of the visitor go straight to the lead.
        let later = app
            .ingest_events("test", vec![ev("add_to_cart", Some("v-1"), None, 0)])
            .await
            .unwrap();
        assert_eq!(later.leads, vec![lead]);
        let e = app.explain_score(&admin, lead).await.unwrap();
        assert_eq!(e.stored.engagement, 41, "{}", db.name);

        let m = app.score_matrix(&admin).await.unwrap();
        assert_eq!(
            m.get(FitLevel::Suitable, Activity::Active),
            1,
            "{}",
            db.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_events_decay_manual_temperature_stays_and_bad_events_are_refused() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let admin = Actor::system("test");
        let o = app
            .capture(req(&[
                ("name", "Олег Петров"),
                ("email", "oleg@example.ru"),
            ]))
            .await
            .unwrap();
        let lead = o.lead_id.unwrap();
        let base = app.explain_score(&admin, lead).await.unwrap();
        assert_eq!((base.score.fit, base.score.engagement), (5, 0));
        // A product click a half-life ago counts half; an open today counts whole.
        app.ingest_events(
            "crm",
            vec![
                ev("email_click_product", None, Some(lead), 30),
                ev("email_open", None, Some(lead), 0),
            ],
        )
        .await
        .unwrap();
        let e = app.explain_score(&admin, lead).await.unwrap();
        let click = e
            .score
            .contributions
            .iter()
            .find(|c| c.rule == "Email: product link clicked")
            .unwrap();
        assert_eq!((click.points, click.part), (30, Part::Engagement));
        assert!((click.effective - 15.0).abs() < 0.1, "{}", click.effective);
        assert_eq!(e.stored.engagement, 20, "{}", db.name);

        // Set by hand: the rules leave the temperature alone until it is cleared.
        app.set_temperature(&admin, lead, Temperature::Hot)
            .await
            .unwrap();
        let mut quiet = ev("email_no_reaction", None, Some(lead), 0);
        quiet.properties.insert("count".into(), json!(6));
        app.ingest_events("crm", vec![quiet]).await.unwrap();
        let d = app.lead_detail(&admin, lead).await.unwrap();
        assert_eq!(d.lead.temperature, Temperature::Hot, "{}", db.name);
        let e = app.explain_score(&admin, lead).await.unwrap();
        assert!(e.stored.temperature_manual);
        assert_eq!(e.stored.engagement, -5);
        app.clear_temperature_override(&admin, lead).await.unwrap();
        let d = app.lead_detail(&admin, lead).await.unwrap();
        assert_eq!(d.lead.temperature, Temperature::Cold, "{}", db.name);

        // Bad events: the whole request is refused and nothing is stored.
        let stored = app.store().lead_events(lead, 100).await.unwrap().len();
        for bad in [
            vec![],
            vec![ev("bad name!", None, Some(lead), 0)],
            vec![ev("page_view", None, None, 0)],
            vec![
                ev("page_view", None, Some(lead), 0),
                ev("page_view", None, Some(999_999), 0),
            ],
            vec![ev("page_view", Some("v"), None, -5)],
            // Older than a year, or before the epoch.
            vec![ev("page_view", None, Some(lead), 366)],
            vec![EventIn {
                at: Some(-1),
                ..ev("page_view", None, Some(lead), 0)
            }],
            // Control characters (PostgreSQL cannot store a NUL in text at all).
            vec![
                ev("page_view", Some("v"), None, 0),
                ev("page_view", Some("v\u{0}1"), None, 0),
            ],
            vec![EventIn {
                url: Some("https://shop.example.com/\u{0}".into()),
                ..ev("page_view", None, Some(lead), 0)
            }],
            // Its time twice over, a negative age, an age past a year.
            vec![EventIn {
                age: Some(1_000),
                ..ev("page_view", None, Some(lead), 0)
            }],
            vec![EventIn {
                at: None,
                age: Some(-1),
                ..ev("page_view", None, Some(lead), 0)
            }],
            vec![EventIn {
                at: None,
                age: Some(366 * DAY),
                ..ev("page_view", None, Some(lead), 0)
            }],
        ] {
            let err = app.ingest_events("crm", bad).await.unwrap_err();
            assert!(matches!(err, AppError::Invalid { .. }), "{err}");
        }
        assert_eq!(
            app.store().lead_events(lead, 100).await.unwrap().len(),
            stored
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rules_change_rescores_every_lead_through_the_job() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let admin = Actor::system("test");
        let mut ids = Vec::new();
        for i in 0..30 {
            let o = app
                .capture(req(&[
                    ("name", &format!("Клиент {i}")),
                    ("email", &format!("c{i}@example.ru")),
                    ("department", if i % 2 == 0 { "IT" } else { "Sales" }),
                ]))
                .await
                .unwrap();
            ids.push(o.lead_id.unwrap());
        }
        let fit = |e: &voronka_app::Explanation| e.stored.fit;
        assert_eq!(
            fit(&app.explain_score(&admin, ids[0]).await.unwrap()),
            5 + 10
        );
        assert_eq!(
            fit(&app.explain_score(&admin, ids[1]).await.unwrap()),
            5 + 1
        );
        // IT is now worth 40: saving queues a rescoring of every lead.
        let mut rules = Rules::default();
        for r in rules
            .profile
            .iter_mut()
            .filter(|r| r.name == "Department: IT")
        {
            r.points = 40;
        }
        let run = app.save_scoring_rules(&admin, rules).await.unwrap();
        assert!(run.total >= 30 && run.finished_at.is_none(), "{run:?}");
        // Intake is not blocked meanwhile, and uses the new rules at once.
        let o = app
            .capture(req(&[
                ("name", "Новый"),
                ("email", "new@example.ru"),
                ("department", "ИТ"),
            ]))
            .await
            .unwrap();
        assert_eq!(
            fit(&app.explain_score(&admin, o.lead_id.unwrap()).await.unwrap()),
            45
        );
        let ran = app
            .run_due_jobs_at("test", voronka_app::now_ms())
            .await
            .unwrap();
        assert!(ran >= 1);
        let run = app.latest_score_run().await.unwrap().unwrap();
        // Every lead, including the one captured after the run was queued.
        assert_eq!(run.done, 31, "{}: {run:?}", db.name);
        assert!(run.finished_at.is_some());
        // The run keeps why it started as a code, and reads as its words.
        assert_eq!(
            run.reason_code.as_deref(),
            Some("rescore_rules_changed"),
            "{}",
            db.name
        );
        assert_eq!(run.reason, "the scoring rules changed", "{}", db.name);
        assert_eq!(run.changed, 15, "{}: the IT leads changed", db.name);
        assert_eq!(fit(&app.explain_score(&admin, ids[0]).await.unwrap()), 45);
        assert_eq!(fit(&app.explain_score(&admin, ids[1]).await.unwrap()), 6);
        // The next nightly rescoring is queued for decay.
        assert!(app
            .store()
            .has_pending_job(voronka_app::RESCORE, None)
            .await
            .unwrap());
        // A saved rule set is what a new process starts with.
        let again = open(&db).await;
        let dept = again
            .scorer()
            .rules()
            .profile
            .iter()
            .find(|r| r.name == "Department: IT")
            .map(|r| r.points);
        assert_eq!(dept, Some(40));
    }
}

/// A bulk upload reaching more leads than one request rescores at once queues them: the events
/// are stored at once, each lead waits once however many of its events came, and draining the
/// queue brings every score up to date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_uploads_queue_their_leads_for_the_worker() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let mut leads = Vec::new();
        for i in 0..40 {
            let name = common::person_name(i);
            let o = app
                .capture(req(&[
                    ("name", &name),
                    ("email", &format!("client{i}@example.ru")),
                ]))
                .await
                .unwrap();
            leads.push(o.lead_id.unwrap());
        }
        let before = app.explain_score(&admin, leads[0]).await.unwrap();
        // Two product clicks for every lead: 80 events, 40 leads.
        let events: Vec<EventIn> = leads
            .iter()
            .flat_map(|&l| {
                [
                    ev("email_click_product", None, Some(l), 0),
                    ev("email_click_product", None, Some(l), 0),
                ]
            })
            .collect();
        let done = app.ingest_events("crm", events).await.unwrap();
        assert_eq!((done.stored, done.queued), (80, 40), "{n}");
        assert_eq!(app.store().rescore_backlog().await.unwrap(), 40, "{n}");
        // What an administrator sees of it; the database answers a health check.
        app.health().await.unwrap();
        let status = app.status(&admin).await.unwrap();
        assert_eq!(status.backend, n);
        assert_eq!(status.leads, 40, "{n}");
        assert_eq!(status.rescore_queue.leads, 40, "{n}");
        assert!(status.rescore_queue.oldest_queued_at.is_some(), "{n}");
        let seller = app
            .add_user(
                "seller@mail.ru",
                "Seller",
                "password-1",
                voronka_core::Role::Salesperson,
            )
            .await
            .unwrap();
        assert!(
            app.status(&Actor::user(seller)).await.is_err(),
            "{n}: administrators only"
        );
        // Stored, not yet rescored.
        let waiting = app.explain_score(&admin, leads[0]).await.unwrap();
        assert_eq!(waiting.stored.engagement, before.stored.engagement, "{n}");
        assert_eq!(app.drain_rescore_queue().await.unwrap(), 40, "{n}");
        assert_eq!(app.store().rescore_backlog().await.unwrap(), 0, "{n}");
        for &l in &leads {
            let e = app.explain_score(&admin, l).await.unwrap();
            assert_eq!(e.stored.engagement, 60, "{n}: lead {l}");
            assert_eq!(e.stored.engagement, e.score.engagement, "{n}");
        }
        // The worker started with the job runner does the same without being asked.
        let runner = app.spawn_job_runner("test".into(), std::time::Duration::from_secs(1));
        let events: Vec<EventIn> = leads
            .iter()
            .map(|&l| ev("email_click_ad", None, Some(l), 0))
            .collect();
        assert_eq!(app.ingest_events("crm", events).await.unwrap().queued, 40);
        let mut waited = 0;
        while app.store().rescore_backlog().await.unwrap() > 0 && waited < 100 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            waited += 1;
        }
        runner.abort();
        let e = app.explain_score(&admin, leads[39]).await.unwrap();
        assert_eq!(e.stored.engagement, 80, "{n}: the worker rescored it");
    }
}

/// An event carries its sender's id: sent again under it by the same source (a retried
/// request, or twice in one request) it is stored once and scores once; another source's event
/// with the same id is its own; an empty id is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_sent_again_under_their_id_are_stored_once() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let lead = app
            .capture(req(&[("name", "Дарья Ким"), ("email", "kim@example.ru")]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let with_id = |name: &str, id: &str| EventIn {
            id: Some(id.into()),
            ..ev(name, None, Some(lead), 0)
        };
        let first = app
            .ingest_events(
                "crm",
                vec![
                    with_id("email_click_product", "m-1"),
                    with_id("email_click_product", "m-2"),
                    with_id("email_click_product", "m-1"),
                ],
            )
            .await
            .unwrap();
        assert_eq!((first.stored, first.duplicates), (2, 1), "{n}");
        let once = app.explain_score(&admin, lead).await.unwrap();
        // The request again, as a client retrying after a lost answer, with one new event.
        let again = app
            .ingest_events(
                "crm",
                vec![
                    with_id("email_click_product", "m-1"),
                    with_id("email_click_product", "m-2"),
                    with_id("email_open", "m-3"),
                ],
            )
            .await
            .unwrap();
        assert_eq!((again.stored, again.duplicates), (1, 2), "{n}");
        let events = app.store().lead_events(lead, 100).await.unwrap();
        assert_eq!(events.len(), 3, "{n}: {events:?}");
        let clicks = events
            .iter()
            .filter(|e| e.name == "email_click_product")
            .count();
        assert_eq!(clicks, 2, "{n}");
        let after = app.explain_score(&admin, lead).await.unwrap();
        assert!(
            after.stored.engagement > once.stored.engagement,
            "{n}: the new event scores"
        );
        // Everything a duplicate: nothing stored, the score as it was.
        let repeat = app
            .ingest_events("crm", vec![with_id("email_click_product", "m-1")])
            .await
            .unwrap();
        assert_eq!((repeat.stored, repeat.duplicates), (0, 1), "{n}");
        assert!(repeat.leads.is_empty(), "{n}: no lead to rescore");
        let same = app.explain_score(&admin, lead).await.unwrap();
        assert_eq!(same.stored.engagement, after.stored.engagement, "{n}");
        // Ids are the sender's own: another source may use the same one.
        let other = app
            .ingest_events("shop", vec![with_id("email_click_product", "m-1")])
            .await
            .unwrap();
        assert_eq!((other.stored, other.duplicates), (1, 0), "{n}");
        for bad in ["", "  ", "a\u{0}b"] {
            let err = app
                .ingest_events("crm", vec![with_id("page_view", bad)])
                .await
                .unwrap_err();
            assert!(
                matches!(err, AppError::Invalid { .. }),
                "{n}: {bad:?}: {err}"
            );
        }
        let long = "x".repeat(129);
        let err = app
            .ingest_events("crm", vec![with_id("page_view", &long)])
            .await
            .unwrap_err();
        assert!(matches!(err, AppError::Invalid { .. }), "{n}: {err}");
        assert_eq!(
            app.store().lead_events(lead, 100).await.unwrap().len(),
            4,
            "{n}"
        );
    }
}

/// The worker sweeps the queue by lead id: a claim takes the next queued leads above the sweep's
/// position in ascending order, a claim rolled back puts its leads back, and a drain that ends a
/// sweep on a full slice starts again from the first lead and finds the queue empty.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rescoring_queue_is_swept_by_lead_id() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let store = app.store();
        let mut tx = store.begin().await.unwrap();
        tx.queue_rescore(&[30, 10, 50, 20, 40], 1_000)
            .await
            .unwrap();
        // Queued again later: the lead waits once.
        tx.queue_rescore(&[20], 2_000).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(store.rescore_backlog().await.unwrap(), 5, "{n}");
        assert!(store.rescore_waiting().await.unwrap(), "{n}");
        let mut tx = store.begin().await.unwrap();
        assert_eq!(tx.claim_rescore(0, 2).await.unwrap(), vec![10, 20], "{n}");
        assert_eq!(tx.claim_rescore(20, 2).await.unwrap(), vec![30, 40], "{n}");
        assert_eq!(tx.claim_rescore(40, 2).await.unwrap(), vec![50], "{n}");
        assert!(tx.claim_rescore(50, 2).await.unwrap().is_empty(), "{n}");
        tx.rollback().await.unwrap();
        assert_eq!(
            store.rescore_backlog().await.unwrap(),
            5,
            "{n}: back on the queue"
        );
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.claim_rescore(25, 10).await.unwrap(),
            vec![30, 40, 50],
            "{n}"
        );
        tx.commit().await.unwrap();
        assert_eq!(store.rescore_backlog().await.unwrap(), 2, "{n}");
        // A thousand in all (the rest no such leads: nothing to score), full slices only: the
        // drain passes the last of them, finds nothing above, and sweeps again from the first lead.
        let many: Vec<i64> = (1_000_001..=1_000_998).collect();
        let mut tx = store.begin().await.unwrap();
        tx.queue_rescore(&many, 3_000).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(app.drain_rescore_queue().await.unwrap(), 1_000, "{n}");
        assert_eq!(store.rescore_backlog().await.unwrap(), 0, "{n}");
        assert_eq!(app.drain_rescore_queue().await.unwrap(), 0, "{n}");
        // Uploads append their leads to a log that a claim moves into the queue a hundred
        // slices' worth at a time, oldest first: with 500 leads logged from the highest id
        // down, a claim of two sees only the first 200 logged.
        let mut tx = store.begin().await.unwrap();
        for chunk in (2_001..=2_500).rev().collect::<Vec<i64>>().chunks(100) {
            tx.queue_rescore(chunk, 4_000).await.unwrap();
        }
        tx.commit().await.unwrap();
        assert_eq!(store.rescore_backlog().await.unwrap(), 500, "{n}");
        let mut tx = store.begin().await.unwrap();
        assert_eq!(
            tx.claim_rescore(0, 2).await.unwrap(),
            vec![2_301, 2_302],
            "{n}"
        );
        tx.commit().await.unwrap();
        assert_eq!(store.rescore_backlog().await.unwrap(), 498, "{n}");
        assert_eq!(app.drain_rescore_queue().await.unwrap(), 498, "{n}");
        assert_eq!(store.rescore_backlog().await.unwrap(), 0, "{n}");
        assert!(!store.rescore_waiting().await.unwrap(), "{n}");
    }
}

/// Merging two leads gives the survivor the merged lead's behaviour (and its score follows);
/// undoing the merge gives it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_follow_a_merge_and_its_undo() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let mut ids = Vec::new();
        for (name, email) in [
            ("Олег Петров", "oleg@example.ru"),
            ("Oleg Petrov", "o.petrov@example.ru"),
        ] {
            let o = app
                .capture(req(&[("name", name), ("email", email)]))
                .await
                .unwrap();
            ids.push(o.lead_id.unwrap());
        }
        let (a, b) = (ids[0], ids[1]);
        app.ingest_events("crm", vec![ev("email_open", None, Some(a), 0)])
            .await
            .unwrap();
        app.ingest_events("crm", vec![ev("email_click_product", None, Some(b), 0)])
            .await
            .unwrap();
        let engagement = |id| {
            let app = app.clone();
            let admin = admin.clone();
            async move {
                app.explain_score(&admin, id)
                    .await
                    .unwrap()
                    .stored
                    .engagement
            }
        };
        assert_eq!((engagement(a).await, engagement(b).await), (5, 30), "{n}");
        let merge = app.merge_leads(&admin, a, b, &[]).await.unwrap();
        assert_eq!(engagement(a).await, 35, "{n}: both leads' behaviour");
        assert_eq!(
            app.store().lead_events(a, 10).await.unwrap().len(),
            2,
            "{n}"
        );
        app.undo_merge(&admin, merge).await.unwrap();
        assert_eq!((engagement(a).await, engagement(b).await), (5, 30), "{n}");
        assert_eq!(
            app.store().lead_events(b, 10).await.unwrap().len(),
            1,
            "{n}"
        );
    }
}

/// Event properties reach the rules intact through the stored events, whatever their text:
/// quotes, backslashes, markup and Cyrillic in a property value match the rule's condition,
/// events are counted in time order (a `once` rule takes the latest), and a full rescoring
/// reads every lead's events the same way a single event's rescoring does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn property_rules_match_any_text_through_a_full_rescoring() {
    let category = "Диваны \"Люкс\" \\ <b>&amp;</b> 'x'";
    for db in TestDb::both().await {
        let app = open(&db).await;
        let admin = Actor::system("test");
        let mut rules = Rules::default();
        rules.behaviour.push(voronka_core::scoring::BehaviourRule {
            name: "Sofas viewed".into(),
            event: "view_product".into(),
            points: 7,
            properties: [("category".to_string(), category.to_lowercase())].into(),
            url_contains: None,
            min_count: None,
            cap: None,
            once: true,
            within_days: None,
            decays: false,
        });
        app.save_scoring_rules(&admin, rules).await.unwrap();
        let lead = app
            .capture(req(&[("name", "Ольга"), ("email", "olga@example.ru")]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let other = app
            .capture(req(&[("name", "Пётр"), ("email", "petr@example.ru")]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let with = |days_ago: i64, value: &str| {
            let mut e = ev("view_product", None, Some(lead), days_ago);
            e.properties.insert("category".into(), json!(value));
            e
        };
        // Sent newest first: the rule's one counted event must still be the latest.
        let mut wrong = ev("view_product", None, Some(other), 0);
        wrong
            .properties
            .insert("category".into(), json!("Диваны \"Люкс\""));
        app.ingest_events("crm", vec![with(1, category), with(3, category), wrong])
            .await
            .unwrap();
        let check = |e: &voronka_app::Explanation| {
            e.score
                .contributions
                .iter()
                .filter(|c| c.rule == "Sofas viewed")
                .map(|c| (c.points, c.at))
                .collect::<Vec<_>>()
        };
        let e = app.explain_score(&admin, lead).await.unwrap();
        let found = check(&e);
        assert_eq!(found.len(), 1, "{}: {found:?}", db.name);
        assert_eq!(found[0].0, 7, "{}", db.name);
        let newest = app.store().lead_events(lead, 10).await.unwrap()[0].at;
        assert_eq!(
            found[0].1,
            Some(newest),
            "{}: the latest event counts",
            db.name
        );
        assert!(check(&app.explain_score(&admin, other).await.unwrap()).is_empty());
        let before = e.stored.engagement;
        // Everything rescored from the stored events: the same answer.
        let run = app.rescore_all("test", |_, _| {}).await.unwrap();
        assert!(run.done >= 2, "{run:?}");
        // Words that are no code are kept as they are.
        let kept = app.latest_score_run().await.unwrap().unwrap();
        assert_eq!((kept.reason.as_str(), kept.reason_code), ("test", None));
        let e = app.explain_score(&admin, lead).await.unwrap();
        assert_eq!(e.stored.engagement, before, "{}", db.name);
        assert!(
            e.stored.engagement >= 7,
            "{}: {}",
            db.name,
            e.stored.engagement
        );
        let other_score = app.explain_score(&admin, other).await.unwrap();
        assert!(check(&other_score).is_empty(), "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracked_events_are_dated_by_their_age_not_the_browser_clock() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let admin = Actor::system("test");
        let site = app
            .create_tracking_site(&admin, "Shop", &[], false)
            .await
            .unwrap();
        let o = app
            .capture(req(&[
                ("name", "Анна Смирнова"),
                ("email", "anna@example.ru"),
                ("visitor_id", "v-age"),
            ]))
            .await
            .unwrap();
        let lead = o.lead_id.unwrap();
        let before = voronka_app::now_ms();
        // A browser whose clock is a year behind: its `at` is ignored; the event kept three days
        // in the browser and sent again is dated three days back from its arrival.
        let year_ago = before - 365 * DAY;
        let kept = EventIn {
            age: Some(3 * DAY),
            at: Some(year_ago),
            ..ev("view_pricing", Some("v-age"), None, 0)
        };
        let fresh = EventIn {
            at: Some(year_ago),
            ..ev("view_product", Some("v-age"), None, 0)
        };
        app.ingest_tracked(&site.key, None, vec![kept, fresh])
            .await
            .unwrap();
        let after = voronka_app::now_ms();
        let events = app.store().lead_events(lead, 10).await.unwrap();
        let at = |name: &str| events.iter().find(|e| e.name == name).unwrap().at;
        let kept_at = at("view_pricing");
        assert!(
            (before - 3 * DAY..=after - 3 * DAY).contains(&kept_at),
            "{}: {kept_at}",
            db.name
        );
        assert!(
            (before..=after).contains(&at("view_product")),
            "{}",
            db.name
        );
        // Through the API with a token, `age` dates an event the same way.
        app.ingest_events(
            "crm",
            vec![EventIn {
                at: None,
                age: Some(DAY),
                ..ev("email_open", None, Some(lead), 0)
            }],
        )
        .await
        .unwrap();
        let events = app.store().lead_events(lead, 10).await.unwrap();
        let open_at = events.iter().find(|e| e.name == "email_open").unwrap().at;
        assert!(
            (before - DAY..=voronka_app::now_ms() - DAY).contains(&open_at),
            "{}",
            db.name
        );
    }
}

/// Rules saved before points had a range stay in force as saved, and a lead's score stops at
/// the end of the range instead of wrapping around to the other end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_saved_with_points_past_the_range_score_without_wrapping() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let admin = Actor::system("test");
        let old = r#"{"profile": [
            {"name": "Huge", "field": "company", "points": 9223372036854775807},
            {"name": "One", "field": "phone_valid", "points": 1}
        ]}"#;
        assert!(Rules::from_json(old).is_err());
        app.store()
            .save_scoring_rules(old, "before", voronka_app::now_ms())
            .await
            .unwrap();
        app.refresh_scoring_rules().await.unwrap();
        assert_eq!(
            app.scorer().rules().profile[0].points,
            i64::MAX,
            "{}",
            db.name
        );
        let lead = app
            .capture(req(&[
                ("name", "Вера Лосева"),
                ("phone", "+79161234567"),
                ("company", "Ромашка"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let e = app.explain_score(&admin, lead).await.unwrap();
        assert_eq!(
            (e.score.fit, e.score.total),
            (i64::MAX, i64::MAX),
            "{}",
            db.name
        );
        assert_eq!(
            (e.stored.fit, e.stored.total),
            (i64::MAX, i64::MAX),
            "{}",
            db.name
        );
        assert_eq!(e.stored.fit_level, FitLevel::VerySuitable, "{}", db.name);
        let d = app.lead_detail(&admin, lead).await.unwrap();
        assert_eq!(d.lead.temperature, Temperature::Hot, "{}", db.name);
    }
}

/// A single event of a visitor (the tracker's usual request) finds the same lead a batch would:
/// the one of the visitor's latest touch; a first event of an unknown visitor is one interest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_event_finds_the_lead_of_the_latest_touch() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let before = app.store().count_interests(0).await.unwrap().interests;
        let first = app
            .ingest_events("test", vec![ev("page_view", Some("v-single"), None, 0)])
            .await
            .unwrap();
        assert_eq!(
            (first.stored, first.new_visitors, first.leads.len()),
            (1, 1, 0),
            "{}",
            db.name
        );
        let second = app
            .ingest_events("test", vec![ev("view_pricing", Some("v-single"), None, 0)])
            .await
            .unwrap();
        assert_eq!((second.stored, second.new_visitors), (1, 0), "{}", db.name);
        assert_eq!(
            app.store().count_interests(0).await.unwrap().interests,
            before + 1,
            "{}: one visitor, one interest",
            db.name
        );
        // Two people share a browser: each fills a form with the same visitor id.
        let mut leads = Vec::new();
        for (name, phone) in [
            ("Олег Петров", "+79161112233"),
            ("Anna Berg", "+31612345678"),
        ] {
            let o = app
                .capture(req(&[
                    ("name", name),
                    ("phone", phone),
                    ("visitor_id", "v-single"),
                ]))
                .await
                .unwrap();
            leads.push(o.lead_id.unwrap());
        }
        // The anonymous events went to the first; a later event goes to the latest touch's lead.
        let one = app
            .ingest_events("test", vec![ev("add_to_cart", Some("v-single"), None, 0)])
            .await
            .unwrap();
        assert_eq!(
            (one.leads.clone(), one.new_visitors),
            (vec![leads[1]], 0),
            "{}",
            db.name
        );
        let events = app.store().lead_events(leads[1], 10).await.unwrap();
        assert_eq!(events.len(), 1, "{}", db.name);
        assert_eq!(events[0].name, "add_to_cart");
        // A batch of the same visitor reaches the same lead.
        let batch = app
            .ingest_events(
                "test",
                vec![
                    ev("page_view", Some("v-single"), None, 0),
                    ev("view_product", Some("v-single"), None, 0),
                ],
            )
            .await
            .unwrap();
        assert_eq!(batch.leads, vec![leads[1]], "{}", db.name);
    }
}

/// A lead is scored by what its contact and its request say now: a contact's company, position or
/// email corrected, or the request's product and value, move the profile points at once (stored on
/// the lead and named in the explanation), and a field cleared by the correction no longer counts;
/// a company renamed on its own page rescores its people's leads too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_rescores_the_lead() {
    use voronka_app::{ContactEdit, RequestEdit};
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let profile = Rules::from_toml(
            r#"
[[profile]]
name = "Wants shelving"
field = "product"
points = 20
contains = ["стеллаж"]

[[profile]]
name = "Big request"
field = "value"
points = 11
min = 100000

[[profile]]
name = "Globex"
field = "company"
points = 7
any_of = ["Globex"]

[[profile]]
name = "Director"
field = "position"
points = 5
contains = ["директор"]

[[profile]]
name = "Corporate mail"
field = "email_domain"
points = 3
any_of = ["globex.nl"]
"#,
        )
        .unwrap()
        .profile;
        let rules = Rules {
            profile,
            ..Default::default()
        };
        app.save_scoring_rules(&admin, rules).await.unwrap();
        let o = app
            .capture(req(&[
                ("name", "Анна Правкина"),
                ("phone", "+79165591001"),
                ("company", "Ромашка"),
                ("product", "Полки"),
            ]))
            .await
            .unwrap();
        let (lead, contact) = (o.lead_id.unwrap(), o.contact_id.unwrap());
        let fit = || async {
            let e = app.explain_score(&admin, lead).await.unwrap();
            let mut rules: Vec<String> = e
                .score
                .contributions
                .iter()
                .map(|c| c.rule.clone())
                .collect();
            rules.sort();
            (e.stored.fit, rules)
        };
        assert_eq!(fit().await, (0, vec![]), "{n}");

        let request = |product: Option<&str>| {
            let (app, admin) = (app.clone(), admin.clone());
            let edit = RequestEdit {
                product: product.map(str::to_string),
                value: Some("150000".into()),
                currency: Some("RUB".into()),
            };
            async move { app.edit_request(&admin, lead, &edit).await.unwrap() }
        };
        request(Some("Складские стеллажи")).await;
        assert_eq!(
            fit().await,
            (31, vec!["Big request".into(), "Wants shelving".into()]),
            "{n}"
        );

        let edit = ContactEdit {
            name: "Анна Правкина".into(),
            company: Some("Globex".into()),
            position: Some("Коммерческий директор".into()),
            add_email: Some("anna@globex.nl".into()),
            ..Default::default()
        };
        app.edit_contact(&admin, contact, &edit).await.unwrap();
        assert_eq!(fit().await.0, 31 + 7 + 5 + 3, "{n}");

        // The position cleared and the product corrected away: their points go.
        app.edit_contact(
            &admin,
            contact,
            &ContactEdit {
                position: None,
                add_email: None,
                ..edit
            },
        )
        .await
        .unwrap();
        request(None).await;
        assert_eq!(
            fit().await,
            (
                11 + 7 + 3,
                vec![
                    "Big request".into(),
                    "Corporate mail".into(),
                    "Globex".into()
                ]
            ),
            "{n}"
        );
        // Removing the corporate address takes its points with it; the phone stays to reach her.
        app.edit_contact(
            &admin,
            contact,
            &ContactEdit {
                name: "Анна Правкина".into(),
                company: Some("Globex".into()),
                remove_emails: vec!["anna@globex.nl".into()],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(fit().await.0, 11 + 7, "{n}");
        // The company renamed on its own page: its people's leads lose its points.
        let account = app
            .contact_detail(&admin, contact)
            .await
            .unwrap()
            .contact
            .account_id
            .unwrap();
        app.edit_account(
            &admin,
            account,
            &voronka_app::AccountEdit {
                name: "Initech".into(),
                domain: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(fit().await.0, 11, "{n}");
    }
}
