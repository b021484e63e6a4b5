//! The same scenarios against both backends: SQLite (embedded default) and PostgreSQL.

mod common;

use common::TestDb;
use voronka_app::{Actor, App, CaptureRequest, CaptureResult, ConvertInput, RefuseInput, Settings};
use voronka_core::intake::Submission;
use voronka_core::{Channel, Currency, Money, Role, Stage, Temperature};
use voronka_store::{LeadQuery, LeadSort, SimpleQuery};

fn sub(fields: &[(&str, &str)]) -> Submission {
    let mut s = Submission::new(Channel::Api, voronka_app::now_ms());
    for (k, v) in fields {
        s = s.with(k, *v);
    }
    s
}

fn req(fields: &[(&str, &str)]) -> CaptureRequest {
    CaptureRequest {
        submission: sub(fields),
        form: None,
        idempotency_key: None,
        client: None,
    }
}

/// The ids of the leads a search by `text` finds, as `actor` sees them.
async fn search_ids(app: &App, actor: &Actor, text: &str) -> Vec<i64> {
    let (rows, _) = app
        .list_leads(
            actor,
            LeadQuery {
                text: Some(text.to_string()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.lead.id).collect()
}

async fn open(db: &TestDb) -> App {
    App::open(&db.url, Settings::default())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn intake_dedup_and_interest() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let a = app
            .capture(req(&[
                ("name", "Иван Петров"),
                ("phone", "8 (916) 123-45-67"),
                ("product", "CRM"),
                ("utm_source", "Yandex"),
                ("utm_medium", "cpc"),
            ]))
            .await
            .unwrap();
        assert_eq!(a.result, CaptureResult::Lead, "{n}");
        assert_eq!(a.action, "new_lead", "{n}");
        // The same person about the same product: a touch on the same lead.
        let b = app
            .capture(req(&[
                ("name", "Иван"),
                ("phone", "+7 916 123 45 67"),
                ("product", "crm"),
                ("email", "ivan@example.ru"),
            ]))
            .await
            .unwrap();
        assert_eq!(b.action, "new_touch", "{n}: {b:?}");
        assert_eq!(b.lead_id, a.lead_id, "{n}");
        // The same person about something else: a new lead of the same contact.
        let c = app
            .capture(req(&[
                ("name", "Иван Петров"),
                ("email", "IVAN@example.ru"),
                ("product", "Training"),
            ]))
            .await
            .unwrap();
        assert_eq!(c.action, "new_lead", "{n}");
        assert_eq!(c.contact_id, a.contact_id, "{n}");
        assert_ne!(c.lead_id, a.lead_id, "{n}");
        // Gmail ignores dots and +tags, and googlemail.com is gmail.com: the same mailbox.
        let g1 = app
            .capture(req(&[
                ("name", "Olga"),
                ("email", "olga.smirnova@gmail.com"),
            ]))
            .await
            .unwrap();
        let g2 = app
            .capture(req(&[
                ("name", "Olga S"),
                ("email", "OlgaSmirnova+ads@googlemail.com"),
            ]))
            .await
            .unwrap();
        assert_eq!(g2.action, "new_touch", "{n}");
        assert_eq!(g1.lead_id, g2.lead_id, "{n}");
        // No usable contact: an interest, never a lead.
        let d = app
            .capture(req(&[("name", "Anon"), ("phone", "123")]))
            .await
            .unwrap();
        assert_eq!(d.result, CaptureResult::Interest, "{n}");
        assert!(d.reasons.iter().any(|r| r.code == "no_contact"), "{n}");
        let admin = Actor::system("test");
        let detail = app.lead_detail(&admin, a.lead_id.unwrap()).await.unwrap();
        assert_eq!(detail.touches.len(), 2, "{n}");
        assert_eq!(detail.lead.touches, 2, "{n}");
        assert_eq!(detail.lead.source.as_deref(), Some("yandex"), "{n}");
        assert_eq!(
            detail.contact.phones[0].e164.as_deref(),
            Some("+79161234567"),
            "{n}"
        );
        assert_eq!(detail.contact.phones[0].raw, "8 (916) 123-45-67", "{n}");
        assert!(
            detail
                .contact
                .emails
                .iter()
                .any(|e| e.normalized == "ivan@example.ru"),
            "{n}"
        );
        assert_eq!(detail.history.len(), 1, "{n}");
        let (rows, total) = app
            .list_leads(
                &admin,
                LeadQuery {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(total, 3, "{n}: interests are not leads");
        assert_eq!(rows.len(), 3, "{n}");
        // The email arrived with the second touch; the first lead is findable by it now.
        let q = LeadQuery {
            text: Some("ivan@example.ru".into()),
            limit: 50,
            ..Default::default()
        };
        let (found, _) = app.list_leads(&admin, q).await.unwrap();
        assert!(found.iter().any(|r| Some(r.lead.id) == a.lead_id), "{n}");
        let counts = app.store().count_interests(0).await.unwrap();
        assert_eq!(counts.interests, 1, "{n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idempotent_captures() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let mut r = req(&[("name", "Anna de Vries"), ("phone", "+31 6 12345678")]);
        r.idempotency_key = Some("k-1".into());
        let first = app.capture(r.clone()).await.unwrap();
        let second = app.capture(r).await.unwrap();
        assert!(!first.repeated && second.repeated, "{n}");
        assert_eq!(first.touch_id, second.touch_id, "{n}");
        // The identical payload from one client within the window counts once.
        let mut p = req(&[("name", "Jan Jansen"), ("email", "jan@example.nl")]);
        p.client = Some("10.0.0.1".into());
        let a = app.capture(p.clone()).await.unwrap();
        let b = app.capture(p).await.unwrap();
        assert_eq!(a.touch_id, b.touch_id, "{n}");
        assert!(b.repeated, "{n}");
        let total = app
            .store()
            .count_leads(&LeadQuery::default())
            .await
            .unwrap();
        assert_eq!(total, 2, "{n}");
        // Payload keys are forgotten after their window; client idempotency keys are kept.
        let mut old = req(&[("name", "Old Timer"), ("email", "old@example.nl")]);
        old.submission.received_at -= 600_000;
        old.client = Some("10.0.0.2".into());
        old.idempotency_key = Some("k-old".into());
        let first_old = app.capture(old.clone()).await.unwrap();
        // SQLite's one writing process keeps payload keys in memory, not as rows.
        let stored_rows = if n == "sqlite" { 0 } else { 1 };
        assert_eq!(app.purge_expired_keys().await.unwrap(), stored_rows, "{n}");
        old.client = None;
        let again = app.capture(old).await.unwrap();
        assert!(
            again.repeated && again.touch_id == first_old.touch_id,
            "{n}"
        );
    }
}

/// The minute-by-minute purge of identical-payload keys reads their own partial index, not every
/// capture key (clients' idempotency keys and every imported row's key stay for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_payload_key_purge_reads_its_own_index() {
    use sqlx::{Connection, Row};
    // A literal time: the plan is asked for without binding anything.
    let purge = voronka_store::purge_payload_keys_sql().replace("$1", "0");
    for db in TestDb::both().await {
        let _app = open(&db).await;
        let plan = if db.name == "sqlite" {
            let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {purge}"))
                .fetch_all(&mut c)
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect::<Vec<_>>()
                .join("; ")
        } else {
            let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
            // Whether the index can serve the statement at all, whatever the table's size.
            sqlx::query("SET enable_seqscan = off")
                .execute(&mut c)
                .await
                .unwrap();
            let rows = sqlx::query(&format!("EXPLAIN {purge}"))
                .fetch_all(&mut c)
                .await
                .unwrap();
            rows.iter()
                .map(|r| r.get::<String, _>(0))
                .collect::<Vec<_>>()
                .join("; ")
        };
        assert!(plan.contains("capture_keys_payload"), "{}: {plan}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stages_refusal_freeze_and_conversion() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let boss = app
            .add_user("boss@mail.ru", "Boss", "password-1", Role::Admin)
            .await
            .unwrap();
        let actor = Actor::user(boss);
        let o = app
            .capture(req(&[
                ("name", "Claire Martin"),
                ("phone", "+33 6 12 34 56 78"),
                ("product", "Sofa"),
            ]))
            .await
            .unwrap();
        let id = o.lead_id.unwrap();
        assert_eq!(
            app.store()
                .lead(id)
                .await
                .unwrap()
                .unwrap()
                .first_response_at,
            None,
            "{n}"
        );
        app.change_stage(&actor, id, Stage::Working, Some("called".into()))
            .await
            .unwrap();
        assert_eq!(
            app.store()
                .lead(id)
                .await
                .unwrap()
                .unwrap()
                .first_response_at,
            None,
            "{n}: a stage change is not a response to the client"
        );
        app.log_activity(
            &actor,
            id,
            voronka_app::ActivityInput {
                kind: "call".into(),
                outcome: Some("reached".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let first = app
            .store()
            .lead(id)
            .await
            .unwrap()
            .unwrap()
            .first_response_at;
        assert!(
            first.is_some(),
            "{n}: the first logged call is the first response"
        );
        let err = app
            .change_stage(&actor, id, Stage::New, None)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("cannot move from working to new"),
            "{n}: {err}"
        );
        // Refuse with a freeze that has already passed by the time the job runs.
        let now = voronka_app::now_ms();
        app.refuse_at(
            &actor,
            id,
            RefuseInput {
                reason: "No budget now".into(),
                comment: Some("call in spring".into()),
                freeze_until: Some(now + 1_000),
            },
            now,
        )
        .await
        .unwrap();
        let bad = app
            .refuse(
                &actor,
                id,
                RefuseInput {
                    reason: "Nonsense".into(),
                    comment: None,
                    freeze_until: None,
                },
            )
            .await;
        assert!(bad.is_err(), "{n}");
        assert_eq!(
            app.store().lead(id).await.unwrap().unwrap().stage,
            Stage::Refused,
            "{n}"
        );
        assert_eq!(
            app.store()
                .lead(id)
                .await
                .unwrap()
                .unwrap()
                .first_response_at,
            first,
            "{n}: later actions keep the first response time"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let ran = app.run_due_jobs("w1").await.unwrap();
        assert_eq!(ran, 1, "{n}");
        let lead = app.store().lead(id).await.unwrap().unwrap();
        assert_eq!(
            lead.stage,
            Stage::Working,
            "{n}: the freeze date passed, so the lead is back in work"
        );
        assert_eq!(
            app.run_due_jobs("w1").await.unwrap(),
            0,
            "{n}: a job runs once"
        );
        // Conversion creates a customer and a deal; a second lead of the contact reuses the customer.
        let eur = Currency::parse("EUR").unwrap();
        let (lead, customer, deal) = app
            .convert(
                &actor,
                id,
                ConvertInput {
                    amount: Money::new(129_900, eur),
                    title: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(lead.stage, Stage::Converted, "{n}");
        assert_eq!(lead.customer_id, Some(customer), "{n}");
        let o2 = app
            .capture(req(&[
                ("name", "Claire Martin"),
                ("phone", "+33612345678"),
                ("product", "Table"),
            ]))
            .await
            .unwrap();
        assert_eq!(o2.action, "new_lead", "{n}");
        let (_, customer2, _) = app
            .convert(
                &actor,
                o2.lead_id.unwrap(),
                ConvertInput {
                    amount: Money::new(50_000, eur),
                    title: Some("Table".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(customer, customer2, "{n}");
        // The customers list adds up the customer's deals.
        let listed = app
            .list_customers_summed(
                &actor,
                voronka_store::SimpleQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let (_, sum) = listed
            .iter()
            .find(|(c, _)| c.id == customer)
            .unwrap_or_else(|| panic!("{n}: {listed:?}"));
        let sum = sum.as_ref().unwrap();
        assert_eq!(sum.deals, 2, "{n}");
        assert_eq!(sum.revenue, vec![Money::new(179_900, eur)], "{n}");
        assert_eq!(sum.contact_name, "Claire Martin", "{n}");
        assert!(sum.last_deal_at.is_some(), "{n}");
        let c = app.customer_detail(&actor, customer).await.unwrap();
        assert_eq!(c.deals.len(), 2, "{n}");
        assert!(
            c.deals
                .iter()
                .any(|d| d.id == deal && d.amount.minor == 129_900 && d.title == "Sofa"),
            "{n}"
        );
        assert_eq!(c.leads.len(), 2, "{n}");
        assert!(
            c.history
                .iter()
                .any(|h| h.to == Stage::Refused && h.reason.as_deref() == Some("No budget now")),
            "{n}"
        );
        let converted = app
            .convert(
                &actor,
                id,
                ConvertInput {
                    amount: Money::new(1, eur),
                    title: None,
                },
            )
            .await;
        assert!(converted.is_err(), "{n}: converted is final");
        let audit = app.audit_for(&actor, "lead", id).await.unwrap();
        assert!(
            audit.iter().any(|a| a.action == "refuse"
                && a.before
                    .as_deref()
                    .is_some_and(|b| b.contains("\"working\""))),
            "{n}"
        );
        assert!(
            audit
                .iter()
                .any(|a| a.action == "revive" && a.actor == "freeze timer"),
            "{n}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_filters_and_pagination() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let s1 = app
            .add_user("s1@mail.ru", "Seller One", "password-1", Role::Salesperson)
            .await
            .unwrap();
        let s2 = app
            .add_user("s2@mail.ru", "Seller Two", "password-2", Role::Salesperson)
            .await
            .unwrap();
        for i in 0..30 {
            let phone = format!("+7916{:07}", 1_000_000 + i);
            let src = if i % 3 == 0 { "google" } else { "vk" };
            app.capture(req(&[
                ("name", &format!("Клиент {i}")),
                ("phone", &phone),
                ("utm_source", src),
                ("company", if i == 7 { "Ромашка" } else { "" }),
            ]))
            .await
            .unwrap();
        }
        let admin = Actor::system("t");
        // Round robin split the leads between the two salespeople.
        let mine = |u: &voronka_core::User| Actor::user(u.clone());
        let (r1, t1) = app
            .list_leads(
                &mine(&s1),
                LeadQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let (_, t2) = app
            .list_leads(
                &mine(&s2),
                LeadQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!((t1, t2), (15, 15), "{n}");
        assert!(r1.iter().all(|r| r.lead.owner_id == Some(s1.id)), "{n}");
        // A salesperson cannot open another's lead.
        let other = app
            .list_leads(
                &mine(&s2),
                LeadQuery {
                    limit: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .0[0]
            .lead
            .id;
        assert!(app.lead_detail(&mine(&s1), other).await.is_err(), "{n}");
        assert!(
            app.change_stage(&mine(&s1), other, Stage::Working, None)
                .await
                .is_err(),
            "{n}"
        );
        // Filters.
        let (_, g) = app
            .list_leads(
                &admin,
                LeadQuery {
                    source: Some("google".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(g, 10, "{n}");
        let (found, t) = app
            .list_leads(
                &admin,
                LeadQuery {
                    text: Some("ромаш".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(t, 1, "{n}");
        assert_eq!(found[0].company.as_deref(), Some("Ромашка"), "{n}");
        let (_, t) = app
            .list_leads(
                &admin,
                LeadQuery {
                    text: Some("9161000007".into()),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(t, 1, "{n}: phone digits are searchable");
        let (_, t) = app
            .list_leads(
                &admin,
                LeadQuery {
                    temperature: Some(Temperature::Hot),
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(t, 0, "{n}");
        // Cursor pagination walks every lead exactly once, in order.
        let mut seen = Vec::new();
        let mut cursors = Vec::new();
        let mut q = LeadQuery {
            sort: LeadSort::CreatedDesc,
            limit: 7,
            ..Default::default()
        };
        loop {
            let (page, _) = app.list_leads(&admin, q.clone()).await.unwrap();
            if page.is_empty() {
                break;
            }
            q.after = Some(page.last().unwrap().cursor());
            seen.extend(page.iter().map(|r| r.lead.id));
            cursors.extend(page.iter().map(|r| r.cursor()));
        }
        // And backwards: the page before a row is the seven rows above it, in the same order.
        let back = LeadQuery {
            sort: LeadSort::CreatedDesc,
            limit: 7,
            before: Some(cursors[14].clone()),
            ..Default::default()
        };
        let (page, _) = app.list_leads(&admin, back).await.unwrap();
        let ids: Vec<_> = page.iter().map(|r| r.lead.id).collect();
        assert_eq!(ids, seen[7..14].to_vec(), "{n}");
        let mut sorted = seen.clone();
        sorted.sort_unstable_by(|a, b| b.cmp(a));
        sorted.dedup();
        assert_eq!(seen.len(), 30, "{n}");
        assert_eq!(seen, sorted, "{n}");
        // Inbox: new and unassigned first.
        app.assign(&admin, seen[5], None).await.unwrap();
        let (inbox, _) = app
            .list_leads(
                &admin,
                LeadQuery {
                    limit: 1,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(inbox[0].lead.id, seen[5], "{n}");
        // What a lead became is seen by whoever sees the lead: each salesperson's deals and
        // customers, and of an account only the contacts of their own leads.
        let eur = Currency::parse("EUR").unwrap();
        let firm = |name: &str| {
            req(&[
                ("name", name),
                (
                    "email",
                    &format!("{}@firma-obshaya.ru", name.to_lowercase()),
                ),
                ("company", "Фирма Общая"),
            ])
        };
        let a = app.capture(firm("Anna")).await.unwrap().lead_id.unwrap();
        let b = app.capture(firm("Boris")).await.unwrap().lead_id.unwrap();
        app.assign(&admin, a, Some(s1.id)).await.unwrap();
        app.assign(&admin, b, Some(s2.id)).await.unwrap();
        let mut deal_of = Vec::new();
        for lead in [a, b] {
            let input = ConvertInput {
                amount: Money::new(10_000, eur),
                title: None,
            };
            deal_of.push(app.convert(&admin, lead, input).await.unwrap());
        }
        let simple = |text: Option<&str>| voronka_store::SimpleQuery {
            text: text.map(str::to_string),
            limit: 100,
            ..Default::default()
        };
        let deals = app.list_deals(&mine(&s1), simple(None)).await.unwrap();
        assert_eq!(
            deals.iter().map(|d| d.lead_id).collect::<Vec<_>>(),
            vec![a],
            "{n}"
        );
        assert_eq!(app.list_deals(&admin, simple(None)).await.unwrap().len(), 2);
        let customers = app.list_customers(&mine(&s1), simple(None)).await.unwrap();
        assert_eq!(
            customers.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![deal_of[0].1],
            "{n}"
        );
        let account = app.store().lead(a).await.unwrap().unwrap();
        let account_id = app
            .contact_detail(&admin, account.contact_id)
            .await
            .unwrap()
            .account
            .unwrap()
            .id;
        let (_, contacts) = app.account_detail(&mine(&s1), account_id).await.unwrap();
        assert_eq!(
            contacts.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![account.contact_id],
            "{n}"
        );
        let (_, all) = app.account_detail(&admin, account_id).await.unwrap();
        assert_eq!(all.len(), 2, "{n}");
        // Accounts are listed to those who see one of their contacts' leads.
        let s1_accounts = app.list_accounts(&mine(&s1), simple(None)).await.unwrap();
        assert!(s1_accounts.iter().any(|a| a.id == account_id), "{n}");
        let admin_accounts = app.list_accounts(&admin, simple(None)).await.unwrap();
        assert!(admin_accounts.len() >= s1_accounts.len(), "{n}");
        let s3 = app
            .add_user(
                "s3@mail.ru",
                "Seller Three",
                "password-3",
                Role::Salesperson,
            )
            .await
            .unwrap();
        assert!(
            app.list_accounts(&mine(&s3), simple(None))
                .await
                .unwrap()
                .is_empty(),
            "{n}"
        );
        assert!(
            app.account_detail(&mine(&s3), account_id).await.is_err(),
            "{n}"
        );
        // Deals are found by their lead's search text.
        let found = app.list_deals(&admin, simple(Some("boris"))).await.unwrap();
        assert_eq!(
            found.iter().map(|d| d.lead_id).collect::<Vec<_>>(),
            vec![b],
            "{n}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_are_claimed_once_across_processes() {
    for db in TestDb::both().await {
        let n = db.name;
        let a = open(&db).await;
        let b = App::open(&db.url, Settings::default()).await.unwrap();
        let actor = Actor::system("t");
        let now = voronka_app::now_ms();
        let mut ids = Vec::new();
        for i in 0..40 {
            let o = a
                .capture(req(&[
                    ("name", "Revive Me"),
                    ("email", &format!("r{i}@mail.ru")),
                ]))
                .await
                .unwrap();
            let id = o.lead_id.unwrap();
            a.refuse_at(
                &actor,
                id,
                RefuseInput {
                    reason: "Bad timing".into(),
                    comment: None,
                    freeze_until: Some(now + 500),
                },
                now,
            )
            .await
            .unwrap();
            ids.push(id);
        }
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let (x, y) = tokio::join!(
            async {
                let mut t = 0;
                while let Ok(k) = a.run_due_jobs("a").await {
                    if k == 0 {
                        break;
                    }
                    t += k;
                }
                t
            },
            async {
                let mut t = 0;
                while let Ok(k) = b.run_due_jobs("b").await {
                    if k == 0 {
                        break;
                    }
                    t += k;
                }
                t
            }
        );
        assert_eq!(x + y, 40, "{n}: every job ran exactly once ({x} + {y})");
        for id in ids {
            let d = a.lead_detail(&actor, id).await.unwrap();
            let revivals = d
                .history
                .iter()
                .filter(|h| h.actor == "freeze timer")
                .count();
            assert_eq!(revivals, 1, "{n}");
            assert_eq!(d.lead.stage, Stage::Working, "{n}");
        }
        // Revived leads get SLA timers of their own; no revival is left waiting.
        assert!(
            !a.store()
                .has_pending_job(voronka_app::jobs::REVIVE_LEAD, None)
                .await
                .unwrap(),
            "{n}"
        );
    }
}

/// Many concurrent captures share transactions; both the bulk writer and the one-by-one writer
/// must give the same result: later items of a batch see what earlier ones created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_captures_group_commit() {
    for db in TestDb::both().await {
        for bulk in [true, false] {
            let n = format!("{} bulk={bulk}", db.name);
            let app = App::open(
                &db.url,
                Settings {
                    bulk_commit: bulk,
                    ..Settings::default()
                },
            )
            .await
            .unwrap();
            let tag = if bulk { "b" } else { "e" };
            let mut handles = Vec::new();
            for round in 0..2 {
                for i in 0..100 {
                    let app = app.clone();
                    let tag = tag.to_string();
                    handles.push(tokio::spawn(async move {
                        let phone = format!("+7925{}{:06}", if tag == "b" { 1 } else { 2 }, i);
                        let mut r = req(&[
                            // Letters only: a name with digits in it is a pseudo-lead.
                            ("name", &format!("Person {tag} {}", letters(i))),
                            ("phone", &phone),
                            ("company", &format!("Firm {}", i % 7)),
                            ("product", "Plan"),
                        ]);
                        // Every tenth person sends round 2 with the key of round 1: one submission.
                        if i % 10 == 0 {
                            r.idempotency_key = Some(format!("{tag}-{i}"));
                        }
                        (round, i, app.capture(r).await)
                    }));
                }
                for i in 0..20 {
                    let app = app.clone();
                    handles.push(tokio::spawn(async move {
                        (
                            9,
                            i,
                            app.capture(req(&[("name", "Nobody"), ("phone", "0")]))
                                .await,
                        )
                    }));
                }
            }
            let mut by_person: std::collections::HashMap<usize, Vec<voronka_app::CaptureOutcome>> =
                Default::default();
            let mut interests = 0;
            for h in handles {
                let (round, i, o) = h.await.unwrap();
                let o = o.unwrap_or_else(|e| panic!("{n}: {e}"));
                if round == 9 {
                    assert_eq!(o.result, CaptureResult::Interest, "{n}");
                    interests += 1;
                } else {
                    by_person.entry(i).or_default().push(o);
                }
            }
            assert_eq!(interests, 40, "{n}");
            let admin = Actor::system("t");
            for (i, outs) in &by_person {
                assert_eq!(outs.len(), 2, "{n}");
                assert_eq!(
                    outs[0].lead_id, outs[1].lead_id,
                    "{n}: person {i} has one lead"
                );
                let d = app
                    .lead_detail(&admin, outs[0].lead_id.unwrap())
                    .await
                    .unwrap();
                let expected = if i % 10 == 0 { 1 } else { 2 };
                assert_eq!(d.touches.len(), expected, "{n}: person {i}");
                assert_eq!(d.lead.touches, expected as i64, "{n}: person {i}");
                assert_eq!(d.history.len(), 1, "{n}");
                assert_eq!(
                    d.account.as_ref().map(|a| a.name.clone()),
                    Some(format!("Firm {}", i % 7)),
                    "{n}"
                );
                if i % 10 == 0 {
                    assert!(
                        outs.iter().any(|o| o.repeated),
                        "{n}: the keyed repeat is replayed"
                    );
                    assert_eq!(outs[0].touch_id, outs[1].touch_id, "{n}");
                }
            }
            let q = LeadQuery {
                // A phrase: the tag's people, not every person whose name holds the letter.
                text: Some(format!("\"person {tag}\"")),
                limit: 1000,
                ..Default::default()
            };
            let (_, total) = app.list_leads(&admin, q).await.unwrap();
            assert_eq!(total, 100, "{n}");
            // Seven firms, each one account however many batches they came in.
            let accounts = app
                .list_accounts(
                    &admin,
                    voronka_store::SimpleQuery {
                        text: Some("firm".into()),
                        limit: 100,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            assert_eq!(accounts.len(), 7, "{n}");
        }
    }
}

/// Two processes on one database capture the same people at the same time: each person ends up
/// as one contact with one lead, whichever process saw them first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_never_duplicate_a_person() {
    for db in TestDb::both().await {
        let n = db.name;
        let a = open(&db).await;
        let b = App::open(&db.url, Settings::default()).await.unwrap();
        let mut handles = Vec::new();
        for i in 0..60 {
            for app in [a.clone(), b.clone()] {
                handles.push(tokio::spawn(async move {
                    let phone = format!("+7926{:07}", 1_000_000 + i);
                    app.capture(req(&[
                        ("name", &format!("Twin {i}")),
                        ("phone", &phone),
                        ("product", "X"),
                    ]))
                    .await
                }));
            }
        }
        for h in handles {
            let o = h.await.unwrap().unwrap();
            assert_eq!(o.result, CaptureResult::Lead, "{n}");
        }
        let admin = Actor::system("t");
        let q = LeadQuery {
            text: Some("twin".into()),
            limit: 1000,
            ..Default::default()
        };
        let (rows, total) = a.list_leads(&admin, q).await.unwrap();
        assert_eq!(total, 60, "{n}: one lead per person");
        assert!(
            rows.iter().all(|r| r.lead.touches == 2),
            "{n}: the second capture is a touch"
        );
        let contacts = a
            .list_contacts(
                &admin,
                voronka_store::SimpleQuery {
                    text: Some("twin".into()),
                    limit: 1000,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(contacts.len(), 60, "{n}: one contact per person");
    }
}

/// A number written in letters a–j, one per digit: 25 → "cf".
fn letters(i: usize) -> String {
    i.to_string()
        .bytes()
        .map(|d| (b'a' + (d - b'0')) as char)
        .collect()
}

/// `voronka dedup` over the whole database: contacts the intake kept apart (no key shared when
/// they came in) are one cluster once a later request joined them; applying merges them — a lead
/// on the same request into the survivor's lead, a lead on another request kept as a lead of
/// its own — and every merge undoes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_dedup_reports_merges_and_undoes() {
    use voronka_app::DedupOptions;
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let admin = Actor::system("test");
        let capture = |fields: &'static [(&'static str, &'static str)]| {
            let app = app.clone();
            async move { app.capture(req(fields)).await.unwrap() }
        };
        let a = capture(&[
            ("name", "Иван Петров"),
            ("phone", "+7 916 123-45-67"),
            ("product", "CRM"),
        ])
        .await;
        let b = capture(&[
            ("name", "Ivan Petrov"),
            ("email", "ivan.petrov@mail.ru"),
            ("product", "crm"),
        ])
        .await;
        let c = capture(&[
            ("name", "Petrov Ivan"),
            ("email", "i.petrov@gmail.com"),
            ("product", "Hosting"),
        ])
        .await;
        // The same person with a's phone and the emails of b and c: a touch on a's or b's CRM
        // lead, which joins the three contacts by their keys.
        let j = capture(&[
            ("name", "Иван Петров"),
            ("phone", "8 916 123 45 67"),
            ("email", "ivan.petrov@mail.ru, i.petrov@gmail.com"),
            ("product", "CRM"),
        ])
        .await;
        assert_eq!(j.action, "new_touch", "{n}");
        assert!(
            j.lead_id == a.lead_id || j.lead_id == b.lead_id,
            "{n}: {j:?}"
        );
        // Someone else behind the same switchboard: uncertain, for review only.
        let m = capture(&[
            ("name", "Мария Соколова"),
            ("phone", "+7 916 123-45-67"),
            ("product", "CRM"),
        ])
        .await;
        let contacts = [a.contact_id, b.contact_id, c.contact_id];
        assert_eq!(
            contacts
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            3,
            "{n}: the intake kept them apart"
        );

        let dry = app
            .dedup_contacts(&admin, DedupOptions { apply: false }, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(dry.clusters.len(), 1, "{n}: {dry:?}");
        let mut members: Vec<_> = dry.clusters[0]
            .members
            .iter()
            .map(|m| Some(m.contact_id))
            .collect();
        members.sort();
        assert_eq!(members, contacts.to_vec(), "{n}");
        assert_eq!(dry.contacts_to_merge, 2, "{n}");
        assert!(dry.merges.is_empty(), "{n}");
        let before = app
            .list_leads(
                &admin,
                LeadQuery {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .1;

        let done = app
            .dedup_contacts(&admin, DedupOptions { apply: true }, &mut |_| {})
            .await
            .unwrap();
        assert_eq!(done.merges.len(), 2, "{n}: {done:?}");
        assert_eq!(done.clusters[0].survivor, a.contact_id.unwrap(), "{n}");
        // b's CRM request merged into a's; c's hosting request stays a lead, now of a's contact.
        let lb = app.lead_detail(&admin, b.lead_id.unwrap()).await.unwrap();
        assert_eq!(
            lb.lead.id,
            a.lead_id.unwrap(),
            "{n}: merged id resolves to the survivor"
        );
        let lc = app.lead_detail(&admin, c.lead_id.unwrap()).await.unwrap();
        assert_eq!(lc.lead.id, c.lead_id.unwrap(), "{n}");
        assert_eq!(Some(lc.lead.contact_id), a.contact_id, "{n}");
        let after = app
            .list_leads(
                &admin,
                LeadQuery {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .1;
        assert_eq!(after, before - 1, "{n}");
        // The shared-switchboard pair is queued for review, not merged.
        assert!(done.queued_for_review >= 1, "{n}");
        let ml = app.lead_detail(&admin, m.lead_id.unwrap()).await.unwrap();
        assert_ne!(Some(ml.lead.contact_id), a.contact_id, "{n}");
        let again = app
            .dedup_contacts(&admin, DedupOptions { apply: false }, &mut |_| {})
            .await
            .unwrap();
        assert!(again.clusters.is_empty(), "{n}: {again:?}");

        // Undo, newest first: everything is where it was.
        for id in done.merges.iter().rev() {
            app.undo_merge(&admin, *id).await.unwrap();
        }
        // The audit log keeps each merge and undo as a code and values, read as a sentence.
        let audit = app.recent_audit(&admin, None, 50).await.unwrap();
        // The next page starts below the entry it is asked to start before.
        assert!(audit.len() >= 3, "{n}");
        let older = app
            .recent_audit(&admin, Some(audit[1].id), 2)
            .await
            .unwrap();
        assert_eq!(
            older.iter().map(|e| e.id).collect::<Vec<_>>(),
            audit[2..4.min(audit.len())]
                .iter()
                .map(|e| e.id)
                .collect::<Vec<_>>(),
            "{n}"
        );
        let read = |action: &str| -> Vec<String> {
            audit
                .iter()
                .filter(|e| e.action == action)
                .map(|e| {
                    let stored = e.after.as_deref().unwrap_or_default();
                    let notice = voronka_core::Notice::from_json(stored)
                        .unwrap_or_else(|| panic!("{n}: {action} kept as text: {stored}"));
                    voronka_core::notice_text(&notice.code, &notice.args)
                        .unwrap_or_else(|| panic!("{n}: no text for {}", notice.code))
                })
                .collect()
        };
        let merged = read("contact.merge");
        assert_eq!(merged.len(), 2, "{n}: {merged:?}");
        for (text, id) in merged.iter().zip(done.merges.iter().rev()) {
            assert!(
                text.starts_with("contact ") && text.contains(&format!("(merge {id}; lead ")),
                "{n}: {text}"
            );
        }
        let undone = read("lead.unmerge");
        assert_eq!(undone.len(), 2, "{n}: {undone:?}");
        assert!(
            undone
                .iter()
                .any(|t| t.starts_with(&format!("merge {} undone: lead ", done.merges[0]))),
            "{n}: {undone:?}"
        );
        let lc = app.lead_detail(&admin, c.lead_id.unwrap()).await.unwrap();
        assert_eq!(Some(lc.lead.contact_id), c.contact_id, "{n}");
        let lb = app.lead_detail(&admin, b.lead_id.unwrap()).await.unwrap();
        assert_eq!(lb.lead.id, b.lead_id.unwrap(), "{n}");
        assert_eq!(Some(lb.lead.contact_id), b.contact_id, "{n}");
        let back = app
            .list_leads(
                &admin,
                LeadQuery {
                    limit: 50,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .1;
        assert_eq!(back, before, "{n}");

        // Only people who may merge leads may run it.
        let viewer = Actor::user(voronka_core::User {
            id: 999,
            email: "v@example.org".into(),
            name: "Viewer".into(),
            role: Role::Viewer,
            team_id: None,
            active: true,
            created_at: 0,
        });
        assert!(app
            .dedup_contacts(&viewer, DedupOptions { apply: false }, &mut |_| {})
            .await
            .is_err());
    }
}

/// Search finds a lead before the search index takes it in and after, a lead whose search text
/// grows after it was indexed is found by the new text, and nothing is counted twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_finds_leads_before_and_after_the_index_takes_them_in() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let admin = Actor::system("t");
        let search = |text: &str| LeadQuery {
            text: Some(text.into()),
            limit: 100,
            ..Default::default()
        };
        let first = app
            .capture(req(&[
                ("name", "Зебулон Кварц"),
                ("phone", "+7 916 555-01-01"),
                ("product", "Склад"),
            ]))
            .await
            .unwrap();
        assert_eq!(first.result, CaptureResult::Lead, "{n}");
        let (found, t) = app.list_leads(&admin, search("зебулон")).await.unwrap();
        assert_eq!((t, found.len()), (1, 1), "{n}: found before indexing");
        assert_eq!(Some(found[0].lead.id), first.lead_id, "{n}");
        let backlog = || async { app.status(&admin).await.unwrap().search_backlog };
        assert_eq!(backlog().await, if n == "sqlite" { 1 } else { 0 }, "{n}");
        let added = app.catch_up_search_index().await.unwrap();
        assert_eq!(added, if n == "sqlite" { 1 } else { 0 }, "{n}");
        assert_eq!(app.catch_up_search_index().await.unwrap(), 0, "{n}");
        assert_eq!(backlog().await, 0, "{n}");
        let (_, t) = app.list_leads(&admin, search("зебулон")).await.unwrap();
        assert_eq!(t, 1, "{n}: found once after indexing");
        // A new address on the same person's next request joins the indexed lead's text.
        let again = app
            .capture(req(&[
                ("name", "Зебулон Кварц"),
                ("phone", "+7 916 555-01-01"),
                ("product", "Склад"),
                ("email", "quartz.new@example.org"),
            ]))
            .await
            .unwrap();
        assert_eq!(again.lead_id, first.lead_id, "{n}: {again:?}");
        let (_, t) = app.list_leads(&admin, search("quartz.new")).await.unwrap();
        assert_eq!(t, 1, "{n}: the grown text is searchable");
        let second = app
            .capture(req(&[
                ("name", "Зебулон Второй"),
                ("phone", "+7 916 555-02-02"),
            ]))
            .await
            .unwrap();
        let (found, t) = app.list_leads(&admin, search("зебулон")).await.unwrap();
        assert_eq!((t, found.len()), (2, 2), "{n}: one indexed, one not yet");
        let ids: Vec<_> = found.iter().map(|r| Some(r.lead.id)).collect();
        assert!(
            ids.contains(&second.lead_id) && ids.contains(&first.lead_id),
            "{n}"
        );
        let (_, t) = app
            .list_leads(&admin, search("nobody-like-this"))
            .await
            .unwrap();
        assert_eq!(t, 0, "{n}");
    }
}

/// A search finds "Артём" written "Артем" and the other way round (before and after the index
/// takes the lead in), and a phone number written as at home ("8 987 …") finds its lead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_reads_yo_as_ye_and_phones_as_written_at_home() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let found = |text: &'static str| {
            let app = app.clone();
            async move {
                let q = LeadQuery {
                    text: Some(text.into()),
                    limit: 100,
                    ..Default::default()
                };
                let (rows, _) = app.list_leads(&Actor::system("t"), q).await.unwrap();
                rows.into_iter().map(|r| r.lead.id).collect::<Vec<_>>()
            }
        };
        let dotted = app
            .capture(req(&[
                ("name", "Артём Жуков"),
                ("phone", "8 987 580-09-14"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let plain = app
            .capture(req(&[
                ("name", "Федор Елкин"),
                ("phone", "+7 916 555-03-03"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        for indexed in [false, true] {
            if indexed {
                app.catch_up_search_index().await.unwrap();
            }
            assert_eq!(found("Артем Жуков").await, vec![dotted], "{n} {indexed}");
            assert_eq!(found("АРТЁМ").await, vec![dotted], "{n} {indexed}");
            assert_eq!(found("Фёдор Ёлкин").await, vec![plain], "{n} {indexed}");
            assert_eq!(
                found("8 987 580-09-14").await,
                vec![dotted],
                "{n} {indexed}"
            );
            assert_eq!(found("89875800914").await, vec![dotted], "{n} {indexed}");
            assert_eq!(found("+79875800914").await, vec![dotted], "{n} {indexed}");
            assert_eq!(
                found("Артем Елкин").await,
                Vec::<i64>::new(),
                "{n} {indexed}"
            );
        }
    }
}

/// A merge adds the merged lead's text to the survivor's, and its undo takes it away again:
/// search follows both at once (before the search index takes the change in) and after it has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_follows_a_merge_and_its_undo() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let admin = Actor::system("t");
        let found = |text: &'static str| {
            let app = app.clone();
            let admin = admin.clone();
            async move {
                let q = LeadQuery {
                    text: Some(text.into()),
                    limit: 100,
                    ..Default::default()
                };
                let (rows, total) = app.list_leads(&admin, q).await.unwrap();
                let mut ids: Vec<_> = rows.iter().map(|r| r.lead.id).collect();
                ids.sort_unstable();
                assert_eq!(total, ids.len() as i64, "{text}");
                ids
            }
        };
        let a = app
            .capture(req(&[
                ("name", "Ярополк Сидоров"),
                ("phone", "+7 916 555-11-11"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let b = app
            .capture(req(&[
                ("name", "Ростислава Жукова"),
                ("phone", "+7 916 555-22-22"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        app.catch_up_search_index().await.unwrap();
        assert_eq!(found("жукова").await, vec![b], "{n}");
        // A search of a thousand words reads its first distinct ones, and answers.
        let many: &'static str =
            Box::leak(format!("{}сидоров", "о ".repeat(1000)).into_boxed_str());
        assert_eq!(found(many).await, vec![a], "{n}");
        let many: &'static str = Box::leak("ab cd ".repeat(600).into_boxed_str());
        assert_eq!(found(many).await, Vec::<i64>::new(), "{n}");
        // Control characters in a search (a NUL among them) are left out, on either reading:
        // through the index, and as a pattern over contacts.
        assert_eq!(found("жук\0ова").await, vec![b], "{n}");
        assert_eq!(found("жу\u{7}").await, vec![b], "{n}");
        assert_eq!(
            found("\0\0\0").await.len(),
            2,
            "{n}: nothing left to search by"
        );
        // Words in any order, each of them required; a short word is checked too.
        assert_eq!(found("сидоров ярополк").await, vec![a], "{n}");
        assert_eq!(found("  Жукова   Рост ").await, vec![b], "{n}");
        assert_eq!(found("жукова ярополк").await, Vec::<i64>::new(), "{n}");
        assert_eq!(found("о сидоров").await, vec![a], "{n}");
        assert_eq!(found("ж сидоров").await, Vec::<i64>::new(), "{n}");
        // A phone as people write it: its digits.
        assert_eq!(found("+7 (916) 555-22-22").await, vec![b], "{n}");
        assert_eq!(found("+7 916 555-22").await, vec![b], "{n}");
        assert_eq!(found("916 555").await, vec![a, b], "{n}");
        assert_eq!(found("\"ярополк сидоров\"").await, vec![a], "{n}");
        assert_eq!(found("\"сидоров ярополк\"").await, Vec::<i64>::new(), "{n}");
        assert_eq!(found("\"ростислава\" жук").await, vec![b], "{n}");
        let contacts = app
            .list_contacts(
                &admin,
                SimpleQuery {
                    text: Some("жук\0ова".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(contacts.len(), 1, "{n}");
        // A change the index takes in before the merge, so that there is one to prune.
        let again = app
            .capture(req(&[
                ("name", "Ярополк Сидоров"),
                ("phone", "+7 916 555-11-11"),
                ("email", "yaropolk@example.org"),
            ]))
            .await
            .unwrap();
        assert_eq!(again.lead_id, Some(a), "{n}");
        app.catch_up_search_index().await.unwrap();
        assert_eq!(found("yaropolk@").await, vec![a], "{n}");
        let merge = app.merge_leads(&admin, a, b, &[]).await.unwrap();
        let backlog = app.status(&admin).await.unwrap().search_backlog;
        assert!(
            if n == "sqlite" {
                backlog >= 1
            } else {
                backlog == 0
            },
            "{n}: {backlog} changed leads to take in"
        );
        // Pruning the applied changes keeps those the index has not taken in yet.
        app.store().checkpoint_log().await.unwrap();
        for step in ["merged", "merged, indexed"] {
            assert_eq!(found("жукова").await, vec![a], "{n}: {step}");
            assert_eq!(found("ярополк").await, vec![a], "{n}: {step}");
            app.catch_up_search_index().await.unwrap();
        }
        app.undo_merge(&admin, merge).await.unwrap();
        for step in ["undone", "undone, indexed"] {
            assert_eq!(found("жукова").await, vec![b], "{n}: {step}");
            assert_eq!(found("ярополк").await, vec![a], "{n}: {step}");
            app.catch_up_search_index().await.unwrap();
        }
        assert_eq!(app.catch_up_search_index().await.unwrap(), 0, "{n}");
        app.store().checkpoint_log().await.unwrap();
        assert_eq!(found("жукова").await, vec![b], "{n}: changes pruned");
        assert_eq!(app.catch_up_search_index().await.unwrap(), 0, "{n}");
    }
}

/// SQLite keeps the search index in a file of its own beside the database (`FILE-search`). An
/// index file built from another database is recognised and built again, so that its ids never
/// point at this database's leads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_index_file_of_another_database_is_built_again() {
    let dir = tempfile::tempdir().unwrap();
    let (a_db, b_db) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let admin = Actor::system("t");
    let search = |text: &str| LeadQuery {
        text: Some(text.into()),
        limit: 100,
        ..Default::default()
    };
    {
        let a = App::open(&format!("sqlite://{}", a_db.display()), Settings::default())
            .await
            .unwrap();
        a.capture(req(&[
            ("name", "Зебулон Кварц"),
            ("phone", "+7 916 555-01-01"),
        ]))
        .await
        .unwrap();
        assert_eq!(a.catch_up_search_index().await.unwrap(), 1);
        // Copies the index's log into its file.
        a.store().checkpoint_log().await.unwrap();
    }
    let a_index = dir.path().join("a.db-search");
    assert!(a_index.exists(), "the index has a file of its own");
    std::fs::copy(&a_index, dir.path().join("b.db-search")).unwrap();
    let b = App::open(&format!("sqlite://{}", b_db.display()), Settings::default())
        .await
        .unwrap();
    let out = b
        .capture(req(&[
            ("name", "Аркадий Пестов"),
            ("phone", "+7 916 555-02-02"),
        ]))
        .await
        .unwrap();
    // The same id as the other database's lead.
    assert_eq!(out.lead_id, Some(1));
    for step in ["opened", "indexed"] {
        let (_, t) = b.list_leads(&admin, search("зебулон")).await.unwrap();
        assert_eq!(t, 0, "{step}: the other database's lead");
        let (rows, t) = b.list_leads(&admin, search("аркадий")).await.unwrap();
        assert_eq!((t, rows[0].lead.id), (1, 1), "{step}");
        b.catch_up_search_index().await.unwrap();
    }
}

/// Many people of one name at one company: each newcomer is compared with the latest twenty of
/// them only, and flagged against at most three, so the cost of a capture does not grow with a
/// common name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowded_block_key_brings_only_its_latest_contacts() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let mut leads = Vec::new();
        for i in 0..26 {
            let phone = format!("+7 916 700-{:02}-{:02}", i / 100, i % 100);
            let email = format!("worker{i}@ромашка-завод.рф");
            let out = app
                .capture(req(&[
                    ("name", "Анна Смирнова"),
                    ("company", "Ромашка"),
                    ("phone", &phone),
                    ("email", &email),
                ]))
                .await
                .unwrap();
            assert_eq!(out.action, "new_lead", "{n}: {out:?}");
            leads.push(out.lead_id.unwrap());
        }
        let last = *leads.last().unwrap();
        let pairs: Vec<_> = app
            .store()
            .duplicate_pairs("open", 1000)
            .await
            .unwrap()
            .into_iter()
            .filter(|p| p.lead_id == last)
            .collect();
        assert!(!pairs.is_empty() && pairs.len() <= 3, "{n}: {pairs:?}");
        // The 25 earlier ones: only the latest 20 were candidates.
        let latest: Vec<_> = leads[5..25].to_vec();
        for p in &pairs {
            assert!(latest.contains(&p.other_lead_id), "{n}: {p:?}");
        }

        // Two keys read in one batch: each brings its own latest twenty, not twenty in all.
        let mut others = Vec::new();
        for i in 0..3 {
            let out = app
                .capture(req(&[
                    ("name", "Иван Петров"),
                    ("company", "Ромашка"),
                    ("phone", &format!("+7 916 701-00-{i:02}")),
                ]))
                .await
                .unwrap();
            others.push(out.contact_id.unwrap());
        }
        let settings = voronka_core::intake::NormalizeSettings::default();
        let newcomers: Vec<_> = [
            ("Анна Смирнова", "+7 916 702-00-01"),
            ("Иван Петров", "+7 916 702-00-02"),
        ]
        .iter()
        .map(|(name, phone)| {
            voronka_core::intake::normalize(
                &sub(&[("name", name), ("company", "Ромашка"), ("phone", phone)]),
                &settings,
            )
        })
        .collect();
        let mut tx = app.store().begin_deferred_sync().await.unwrap();
        let found = tx
            .candidates_many(&newcomers.iter().collect::<Vec<_>>())
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        let mut ids: Vec<_> = found.iter().map(|c| c.contact_id).collect();
        ids.sort_unstable();
        let mut expected = Vec::new();
        for &l in &leads[6..26] {
            expected.push(app.store().lead(l).await.unwrap().unwrap().contact_id);
        }
        expected.extend(others.iter().copied());
        expected.sort_unstable();
        assert_eq!(ids, expected, "{n}");
        let anna = found.iter().find(|c| c.contact_id == expected[0]).unwrap();
        assert_eq!(anna.leads.len(), 1, "{n}: {anna:?}");
        assert_eq!(anna.phones.len(), 1, "{n}: {anna:?}");
        assert_eq!(anna.emails.len(), 1, "{n}: {anna:?}");
    }
}

/// Counts that filter on stages, owner and visibility only (the inbox's count and its stage
/// tabs) agree with counting the leads themselves, through captures, assignment, stage moves,
/// a merge and its undo.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_counts_follow_every_change() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let s1 = app
            .add_user("t1@mail.ru", "Seller One", "password-1", Role::Salesperson)
            .await
            .unwrap();
        let mut ids = Vec::new();
        for i in 0..12 {
            let phone = format!("+7916{:07}", 2_000_000 + i);
            let out = app
                .capture(req(&[
                    ("name", &format!("Считаемый {i}")),
                    ("phone", &phone),
                ]))
                .await
                .unwrap();
            ids.push(out.lead_id.unwrap());
        }
        let admin = Actor::system("t");
        let check = |step: &'static str| {
            let app = app.clone();
            let s1 = s1.clone();
            async move {
                let queries = [
                    LeadQuery::default(),
                    LeadQuery {
                        stages: vec![Stage::New],
                        ..Default::default()
                    },
                    LeadQuery {
                        stages: vec![Stage::Working, Stage::Mql],
                        ..Default::default()
                    },
                    LeadQuery {
                        owner: Some(None),
                        ..Default::default()
                    },
                    LeadQuery {
                        owner: Some(Some(s1.id)),
                        ..Default::default()
                    },
                    LeadQuery {
                        visibility: Actor::user(s1.clone()).visibility(),
                        ..Default::default()
                    },
                ];
                let mut totals = Vec::new();
                for q in queries {
                    // A created-from bound of 0 filters nothing but makes the store count rows.
                    let direct = LeadQuery {
                        created_from: Some(0),
                        ..q.clone()
                    };
                    let store = app.store();
                    let quick = store.count_leads(&q).await.unwrap();
                    let counted = store.count_leads(&direct).await.unwrap();
                    assert_eq!(quick, counted, "{n}: {step}: {q:?}");
                    let tabs = store.stage_counts(&q).await.unwrap();
                    let counted_tabs = store.stage_counts(&direct).await.unwrap();
                    assert_eq!(tabs, counted_tabs, "{n}: {step}: {q:?}");
                    totals.push(quick);
                }
                totals
            }
        };
        let t = check("captured").await;
        assert_eq!(t[0], 12, "{n}");
        let owned_at_start = t[4];
        // Assign four leads to the salesperson and take one back.
        for id in &ids[..4] {
            app.assign(&admin, *id, Some(s1.id)).await.unwrap();
        }
        app.assign(&admin, ids[0], None).await.unwrap();
        let t = check("assigned").await;
        assert!(t[4] >= 3, "{n}: {t:?}");
        assert!(t[4] > owned_at_start || owned_at_start >= 3, "{n}: {t:?}");
        app.change_stage(&admin, ids[1], Stage::Working, None)
            .await
            .unwrap();
        app.change_stage(&admin, ids[2], Stage::Working, None)
            .await
            .unwrap();
        app.change_stage(&admin, ids[2], Stage::Mql, None)
            .await
            .unwrap();
        let t = check("stages moved").await;
        assert_eq!(t[2], 2, "{n}: {t:?}");
        let merge = app.merge_leads(&admin, ids[5], ids[6], &[]).await.unwrap();
        let t = check("merged").await;
        assert_eq!(t[0], 11, "{n}: a merged lead is not listed");
        app.undo_merge(&admin, merge).await.unwrap();
        let t = check("merge undone").await;
        assert_eq!(t[0], 12, "{n}");
    }
}

/// A search matching more leads than the breadth is read by walking the list's order (or, when
/// its matches lie beyond the walk, through the index after all): its pages are the same as a
/// narrow search's, page after page, and its totals say they are lower bounds. A term shorter
/// than a trigram is found too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broad_searches_page_like_narrow_ones_and_say_their_count_is_a_bound() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        for i in 0..12 {
            let phone = format!("+7916{:07}", 3_000_000 + i);
            app.capture(req(&[("name", &format!("Широков {i}")), ("phone", &phone)]))
                .await
                .unwrap();
        }
        // Newer leads that do not match come first in the list's order.
        for i in 0..6 {
            let phone = format!("+7916{:07}", 3_100_000 + i);
            app.capture(req(&[("name", &format!("Другой {i}")), ("phone", &phone)]))
                .await
                .unwrap();
        }
        app.catch_up_search_index().await.unwrap();
        let admin = Actor::system("t");
        let q = |text: &str, after: Option<voronka_store::Cursor>| LeadQuery {
            text: Some(text.into()),
            limit: 5,
            after,
            ..Default::default()
        };
        let pages = |app: App| {
            let admin = admin.clone();
            async move {
                let first = app
                    .list_leads_page(&admin, q("широков", None), false)
                    .await
                    .unwrap();
                let (p1, t1) = (first.rows, first.total);
                let after = p1.last().map(|r| r.cursor());
                let p2 = app
                    .list_leads_page(&admin, q("широков", after), false)
                    .await
                    .unwrap()
                    .rows;
                let ids: Vec<_> = p1.iter().chain(&p2).map(|r| r.lead.id).collect();
                (ids, t1)
            }
        };
        let (narrow, total) = pages(app.clone()).await;
        assert_eq!(narrow.len(), 10, "{n}");
        assert_eq!(total, voronka_store::LeadTotal::exact(12), "{n}");
        // Broad, matches beyond the walk: the index drives after all.
        app.store().set_search_limits(3, 2);
        let (far, total) = pages(app.clone()).await;
        assert_eq!(far, narrow, "{n}");
        assert!(!total.exact && total.n >= 5, "{n}: {total:?}");
        // Broad, matches within the walk.
        app.store().set_search_limits(3, 100);
        let (near, total) = pages(app.clone()).await;
        assert_eq!(near, narrow, "{n}");
        assert!(!total.exact && total.n >= 5, "{n}: {total:?}");
        let (tabs, exact) = app
            .store()
            .stage_counts(&LeadQuery {
                text: Some("широков".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!exact && !tabs.is_empty(), "{n}: {tabs:?}");
        // The page's own tabs read the same answer of the index as the counts above.
        let page = app
            .list_leads_page(
                &admin,
                LeadQuery {
                    text: Some("широков".into()),
                    stages: vec![Stage::New],
                    ..Default::default()
                },
                true,
            )
            .await
            .unwrap();
        assert_eq!(page.tabs, Some((tabs, exact)), "{n}");
        // A two-letter term: no index serves it; the count is exact below its bound.
        let short_page = app
            .list_leads_page(
                &admin,
                LeadQuery {
                    text: Some("ши".into()),
                    limit: 50,
                    ..Default::default()
                },
                false,
            )
            .await
            .unwrap();
        let (short, total) = (short_page.rows, short_page.total);
        assert_eq!(
            (short.len(), total),
            (12, voronka_store::LeadTotal::exact(12)),
            "{n}"
        );
        app.store().set_search_limits(10_000, 10_000);
        let total = app
            .list_leads_page(&admin, q("широков", None), false)
            .await
            .unwrap()
            .total;
        assert_eq!(total, voronka_store::LeadTotal::exact(12), "{n}");
    }
}

/// A database whose block keys were made by the earlier folding (a run of one digit collapsed,
/// so "Studio 2000" was "Studio 20") gets them brought up to date when it is opened after the
/// migration that marks the work pending; a key the contact's data does not explain stays, and
/// the refreshed key finds the person again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_keys_of_the_earlier_folding_are_refreshed_on_open() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let store = app.store().clone();
        assert_eq!(
            store
                .setting("block_keys_refresh")
                .await
                .unwrap()
                .as_deref(),
            Some("done"),
            "{n}: a new database has nothing to refresh"
        );
        let first = app
            .capture(req(&[
                ("name", "Ольга Баккер"),
                ("company", "Студия 2000"),
                ("email", "olga@mail.ru"),
            ]))
            .await
            .unwrap();
        let other = app
            .capture(req(&[
                ("name", "Пётр Сидоров"),
                ("company", "Офис 7"),
                ("email", "petr@mail.ru"),
            ]))
            .await
            .unwrap();
        let keys = |store: std::sync::Arc<dyn voronka_store::Store>| async move {
            store
                .contacts_for_dedup(0, 100)
                .await
                .unwrap()
                .into_iter()
                .map(|c| (c.id, c.block_key.unwrap()))
                .collect::<std::collections::HashMap<_, _>>()
        };
        let now = keys(store.clone()).await;
        let (a, b) = (first.contact_id.unwrap(), other.contact_id.unwrap());
        assert!(now[&a].contains("2000"), "{n}: {now:?}");
        // As the earlier folding left them; the second key is one the contact's data does not
        // explain (made from data it no longer holds).
        let stale = now[&a].replace("2000", "20");
        store
            .set_block_keys(&[(a, stale.clone()), (b, "petr|ofis 77".into())])
            .await
            .unwrap();
        store
            .put_setting("block_keys_refresh", "0", 0)
            .await
            .unwrap();
        let reopened = open(&db).await;
        let after = keys(store.clone()).await;
        assert_eq!(after[&a], now[&a], "{n}: brought up to date");
        assert_eq!(after[&b], "petr|ofis 77", "{n}: left as it was");
        assert_eq!(
            store
                .setting("block_keys_refresh")
                .await
                .unwrap()
                .as_deref(),
            Some("done"),
            "{n}"
        );
        assert_eq!(reopened.refresh_block_keys().await.unwrap(), 0, "{n}");
        // The same person from another mailbox: found by name and company again.
        let again = reopened
            .capture(req(&[
                ("name", "Баккер Ольга"),
                ("company", "Студия 2000"),
                ("email", "olga.bakker@yandex.ru"),
            ]))
            .await
            .unwrap();
        let pairs = store.duplicate_pairs("open", 100).await.unwrap();
        let found = again.contact_id == Some(a)
            || pairs.iter().any(|p| {
                p.lead_id == again.lead_id.unwrap() && p.other_lead_id == first.lead_id.unwrap()
            });
        assert!(found, "{n}: {again:?} {pairs:?}");
        // And with the stale key it would not have been: the check above can fail.
        store.set_block_keys(&[(a, stale)]).await.unwrap();
        let missed = reopened
            .capture(req(&[
                ("name", "Ольга Баккер"),
                ("company", "Студия 2000"),
                ("email", "o.bakker@gmail.com"),
            ]))
            .await
            .unwrap();
        let pairs = store.duplicate_pairs("open", 100).await.unwrap();
        assert!(
            missed.contact_id != Some(a)
                && !pairs.iter().any(|p| p.lead_id == missed.lead_id.unwrap()
                    && p.other_lead_id == first.lead_id.unwrap()),
            "{n}: {missed:?} {pairs:?}"
        );
    }
}

/// A burst fills the intake's queue, so each batch's candidates are read on another connection
/// while the batch before it is written (SQLite). What that batch wrote still counts: a second
/// request of a person whose first request is in the batch before joins the lead it made, and a
/// request to a contact that batch gave a new lead finds that lead. Both backends, same answers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidates_read_ahead_see_what_the_batch_before_wrote() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = App::open(
            &db.url,
            Settings {
                max_batch: 8,
                ..Settings::default()
            },
        )
        .await
        .unwrap();
        // Known contacts, each with a lead on an older request.
        let mut known = Vec::new();
        for i in 0..16 {
            let out = app
                .capture(req(&[
                    ("name", &format!("Known {}", letters(i))),
                    ("email", &format!("known{i}@example.org")),
                    ("product", "Старый тариф"),
                ]))
                .await
                .unwrap();
            known.push((out.contact_id.unwrap(), out.lead_id.unwrap()));
        }
        // Eight people at a time, their first requests queued just before their second ones.
        let mut order: Vec<(bool, usize, u8)> = Vec::new();
        for chunk in 0..6 {
            let existing = chunk % 3 == 0 && chunk / 3 < 2;
            let base = if existing { chunk / 3 * 8 } else { chunk * 8 };
            for round in 0..2u8 {
                for i in base..base + 8 {
                    order.push((existing, i, round));
                }
            }
        }
        let mut handles = Vec::new();
        for (existing, i, round) in order {
            let app = app.clone();
            let fields: Vec<(String, String)> = if existing {
                vec![
                    ("name".into(), format!("Known {}", letters(i))),
                    ("email".into(), format!("known{i}@example.org")),
                    ("product".into(), "Новый тариф".into()),
                    ("message".into(), format!("round {round}")),
                ]
            } else {
                vec![
                    ("name".into(), format!("Burst {}", letters(i))),
                    (
                        "phone".into(),
                        format!("+7 926 400-{:02}-{:02}", i / 100, i % 100),
                    ),
                    ("product".into(), "Plan".into()),
                    ("message".into(), format!("round {round}")),
                ]
            };
            handles.push(tokio::spawn(async move {
                let f: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                (existing, i, app.capture(req(&f)).await)
            }));
        }
        let mut outs: std::collections::HashMap<(bool, usize), Vec<voronka_app::CaptureOutcome>> =
            Default::default();
        for h in handles {
            let (existing, i, o) = h.await.unwrap();
            let o = o.unwrap_or_else(|e| panic!("{n}: {e}"));
            outs.entry((existing, i)).or_default().push(o);
        }
        let admin = Actor::system("t");
        for ((existing, i), list) in &outs {
            assert_eq!(list.len(), 2, "{n}");
            let mut actions: Vec<&str> = list.iter().map(|o| o.action.as_str()).collect();
            actions.sort_unstable();
            assert_eq!(
                actions,
                ["new_lead", "new_touch"],
                "{n}: {existing} {i}: {list:?}"
            );
            assert_eq!(
                list[0].lead_id, list[1].lead_id,
                "{n}: {existing} {i}: {list:?}"
            );
            assert_eq!(
                list[0].contact_id, list[1].contact_id,
                "{n}: {existing} {i}"
            );
            let lead = list[0].lead_id.unwrap();
            let d = app.lead_detail(&admin, lead).await.unwrap();
            assert_eq!(d.touches.len(), 2, "{n}: {existing} {i}");
            if *existing {
                let (contact, old_lead) = known[*i];
                assert_eq!(list[0].contact_id, Some(contact), "{n}: {i}");
                assert_ne!(lead, old_lead, "{n}: {i}: a new request is a new lead");
            }
        }
        assert_eq!(outs.len(), 48, "{n}");
        let counts = app.intake_counts();
        assert!(counts.batches >= 12, "{n}: {counts:?}");
        if n == "sqlite" {
            assert!(counts.candidates_read_ahead > 0, "{n}: {counts:?}");
        } else {
            // Several processes may write PostgreSQL: its candidates are read in the batch.
            assert_eq!(counts.candidates_read_ahead, 0, "{n}: {counts:?}");
        }
    }
}

/// The intake's generation: its own connection's commits and every other connection's, so that
/// candidates read ahead are used only when nothing but the batch before them committed; and
/// candidates read ahead or by id are those the intake reads in its transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_intake_generation_follows_every_commit() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let out = app
            .capture(req(&[
                ("name", "Ольга Зайцева"),
                ("company", "Ромашка"),
                ("phone", "+7 916 703-00-01"),
                ("email", "olga@example.org"),
            ]))
            .await
            .unwrap();
        let generation = || async {
            let mut tx = app.store().begin_deferred_sync().await.unwrap();
            let g = tx.intake_generation().await.unwrap();
            tx.rollback().await.unwrap();
            g
        };
        let first = generation().await;
        if n != "sqlite" {
            assert_eq!(first, None, "{n}");
        } else {
            let (others, own) = first.unwrap();
            assert_eq!(
                generation().await,
                Some((others, own)),
                "{n}: nothing committed"
            );
            // The intake commits on its own connection.
            app.capture(req(&[
                ("name", "Пётр Иванов"),
                ("phone", "+7 916 703-00-02"),
            ]))
            .await
            .unwrap();
            let (others2, own2) = generation().await.unwrap();
            assert_eq!((others2, own2), (others, own + 1), "{n}");
            // A salesperson's change commits on another.
            let admin = Actor::system("t");
            app.add_note(&admin, out.lead_id.unwrap(), "called back")
                .await
                .unwrap();
            let (others3, own3) = generation().await.unwrap();
            assert_ne!(others3, others2, "{n}: another connection committed");
            assert_eq!(own3, own2, "{n}");
        }
        let settings = voronka_core::intake::NormalizeSettings::default();
        let subs: Vec<_> = [
            sub(&[
                ("name", "Ольга Зайцева"),
                ("company", "Ромашка"),
                ("phone", "+7 916 703-99-99"),
            ]),
            sub(&[("name", "Someone"), ("email", "OLGA@example.org")]),
        ]
        .iter()
        .map(|s| voronka_core::intake::normalize(s, &settings))
        .collect();
        let subs: Vec<_> = subs.iter().collect();
        let ahead = app.store().candidates_ahead(&subs).await.unwrap();
        let mut tx = app.store().begin_deferred_sync().await.unwrap();
        let within = tx.candidates_many(&subs).await.unwrap();
        let by_id = tx
            .candidate_cards(&[out.contact_id.unwrap()])
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(ahead, within, "{n}");
        assert_eq!(within.len(), 1, "{n}: {within:?}");
        assert_eq!(by_id, within, "{n}");
        assert_eq!(within[0].leads.len(), 1, "{n}");
        assert_eq!(within[0].company.as_deref(), Some("Ромашка"), "{n}");
    }
}

/// On a connection of its own (as stored, under the store): runs `update` binding `set` and
/// `arg` when `set` is given, then answers the text `select` reads binding `arg`.
async fn raw_text(db: &TestDb, select: &str, update: &str, arg: &str, set: Option<&str>) -> String {
    use sqlx::Connection;
    macro_rules! on {
        ($conn:ty) => {{
            let mut c = <$conn>::connect(&db.url).await.unwrap();
            if let Some(text) = set {
                sqlx::query(update)
                    .bind(text)
                    .bind(arg)
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
            sqlx::query_scalar(select)
                .bind(arg)
                .fetch_one(&mut c)
                .await
                .unwrap()
        }};
    }
    if db.name == "sqlite" {
        on!(sqlx::SqliteConnection)
    } else {
        on!(sqlx::PgConnection)
    }
}

/// A possible duplicate keeps the matcher's explanation in a compact form and reads back with it
/// whole, as the API and the review page show it; a pair stored earlier as a JSON object reads as
/// it was. Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn possible_duplicates_read_back_with_the_whole_explanation() {
    /// The stored text of pair `id`, after storing `set` in its place if given.
    async fn stored(db: &TestDb, id: i64, set: Option<&str>) -> String {
        let (select, update) = (
            "SELECT explanation FROM duplicate_pairs WHERE id = CAST($1 AS BIGINT)",
            "UPDATE duplicate_pairs SET explanation = $1 WHERE id = CAST($2 AS BIGINT)",
        );
        raw_text(db, select, update, &id.to_string(), set).await
    }
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let store = app.store();
        // The same name at the same company, another phone and mailbox: worth a look.
        let person = |phone: &'static str, email: &'static str| {
            app.capture(req(&[
                ("name", "Ольга Баккер"),
                ("company", "Студия <2000> & \"Co\""),
                ("phone", phone),
                ("email", email),
            ]))
        };
        let first = person("+31 6 12345678", "olga@studio.nl").await.unwrap();
        let second = person("+31 6 87654321", "o.bakker@gmail.com")
            .await
            .unwrap();
        assert_ne!(second.contact_id, first.contact_id, "{n}");
        let pairs = store.duplicate_pairs("open", 100).await.unwrap();
        let pair = pairs
            .iter()
            .find(|p| p.lead_id == second.lead_id.unwrap())
            .unwrap_or_else(|| panic!("{n}: no pair in {pairs:?}"));
        assert_eq!(pair.other_lead_id, first.lead_id.unwrap(), "{n}");
        let e = &pair.explanation;
        assert_eq!(
            e["probability"].as_f64(),
            Some(pair.probability),
            "{n}: {e}"
        );
        assert!(e["weight"].is_f64(), "{n}: {e}");
        let fields = e["explanation"].as_array().unwrap();
        let field = |name: &str| {
            fields
                .iter()
                .find(|f| f["field"] == name)
                .unwrap_or_else(|| panic!("{n}: no {name} in {e}"))
        };
        for f in fields {
            let keys: Vec<&str> = f.as_object().unwrap().keys().map(|k| k.as_str()).collect();
            assert_eq!(keys, ["field", "level", "values", "weight"], "{n}: {f}");
            assert_eq!(f["values"].as_array().unwrap().len(), 2, "{n}: {f}");
        }
        assert_eq!(
            field("phone")["values"],
            serde_json::json!(["+31687654321", "+31612345678"]),
            "{n}"
        );
        let company = &field("company")["values"];
        assert_eq!(company[0], company[1], "{n}: {e}");
        assert_eq!(company[0], "Студия <2000> & \"Co\"", "{n}: {e}");
        // Stored compact: an array, not the object the API shows.
        let text = stored(&db, pair.id, None).await;
        assert!(text.starts_with('['), "{n}: {text}");
        let full = serde_json::to_string(e).unwrap();
        assert!(
            text.len() < full.len() * 2 / 3,
            "{n}: {text} against {full}"
        );
        // A pair stored as a JSON object, as before the compact form: read as it was.
        let mut older = e.clone();
        older["weight"] = serde_json::json!(-1.5);
        stored(&db, pair.id, Some(&older.to_string())).await;
        let again = store.duplicate_pairs("open", 100).await.unwrap();
        let read = again.iter().find(|p| p.id == pair.id).unwrap();
        assert_eq!(read.explanation, older, "{n}");
    }
}

/// A repeat under the same idempotency key answers with the first outcome's reasons, which the
/// stored outcome leaves to the touch or interest that keeps them; an outcome stored whole (as
/// before that form) answers with its own. Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_answer_with_the_reasons_their_row_keeps() {
    /// The stored result under the key ending in `key`, after storing `set` in its place.
    async fn result(db: &TestDb, key: &str, set: Option<&str>) -> String {
        let (select, update) = (
            "SELECT result FROM capture_keys WHERE key LIKE $1",
            "UPDATE capture_keys SET result = $1 WHERE key LIKE $2",
        );
        raw_text(db, select, update, &format!("%:{key}"), set).await
    }
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let keyed = |key: &str, fields: &[(&str, &str)]| CaptureRequest {
            idempotency_key: Some(key.to_string()),
            ..req(fields)
        };
        let person = |phone: &'static str| {
            vec![
                ("name", "Анна Смирнова"),
                ("company", "Ромашка <ООО>"),
                ("phone", phone),
            ]
        };
        app.capture(keyed("first", &person("+7 916 555 01 01")))
            .await
            .unwrap();
        // The same name at the same company with another phone: a lead with a possible
        // duplicate among its reasons.
        let lead = app
            .capture(keyed("lead", &person("+7 916 555 02 02")))
            .await
            .unwrap();
        assert!(
            lead.reasons.iter().any(|r| r.code == "possible_duplicate"),
            "{n}: {lead:?}"
        );
        // No usable contact: an interest, with the reason.
        let interest = app
            .capture(keyed(
                "interest",
                &[("name", "Аноним"), ("message", "цена?")],
            ))
            .await
            .unwrap();
        assert_eq!(interest.result, CaptureResult::Interest, "{n}");
        assert!(!interest.reasons.is_empty(), "{n}: {interest:?}");
        for (key, first, fields) in [
            ("lead", &lead, person("+7 916 555 02 02")),
            (
                "interest",
                &interest,
                vec![("name", "Аноним"), ("message", "цена?")],
            ),
        ] {
            let text = result(&db, key, None).await;
            assert!(
                text.contains("\"reasons_on_row\":true")
                    && !text.contains(&first.reasons[0].message),
                "{n}: {text}"
            );
            let again = app.capture(keyed(key, &fields)).await.unwrap();
            assert!(again.repeated, "{n}: {again:?}");
            assert_eq!(
                voronka_app::CaptureOutcome {
                    repeated: false,
                    ..again
                },
                first.clone(),
                "{n}: {key}"
            );
        }
        // Stored whole, as before: answered as stored.
        let mut older = lead.clone();
        older.reasons[0].message = "as stored before".into();
        result(&db, "lead", Some(&serde_json::to_string(&older).unwrap())).await;
        let again = app
            .capture(keyed("lead", &person("+7 916 555 02 02")))
            .await
            .unwrap();
        assert_eq!(again.reasons, older.reasons, "{n}");
        assert_eq!(again.lead_id, lead.lead_id, "{n}");
    }
}

/// A lead's reasons are stored as their codes and values, and read with the messages the
/// catalog makes from them; reasons stored with their messages (as before) read as stored.
/// Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reasons_are_stored_as_codes_and_values_and_read_with_their_messages() {
    /// The stored reasons of lead `id`, after storing `set` in their place.
    async fn stored(db: &TestDb, id: i64, set: Option<&str>) -> String {
        let (select, update) = (
            "SELECT reasons FROM leads WHERE CAST(id AS TEXT) = $1",
            "UPDATE leads SET reasons = $1 WHERE CAST(id AS TEXT) = $2",
        );
        raw_text(db, select, update, &id.to_string(), set).await
    }
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let admin = Actor::system("t");
        let person = |phone: &'static str, email: &'static str| {
            req(&[
                ("name", "Анна \"<Смирнова>\""),
                ("company", "Ромашка <ООО>"),
                ("phone", phone),
                ("email", email),
            ])
        };
        app.capture(person("+7 916 555 01 01", "anna@romashka-ooo.ru"))
            .await
            .unwrap();
        // The same name at the same company with another phone and email: a possible
        // duplicate; a shared mailbox: flagged.
        let lead = app
            .capture(person("+7 916 555 02 02", "info@romashka-ooo.ru"))
            .await
            .unwrap();
        let id = lead.lead_id.unwrap();
        let codes: Vec<&str> = lead.reasons.iter().map(|r| r.code.as_str()).collect();
        assert!(
            codes.contains(&"possible_duplicate") && codes.contains(&"email_role"),
            "{n}: {lead:?}"
        );
        let dup = lead
            .reasons
            .iter()
            .find(|r| r.code == "possible_duplicate")
            .unwrap();
        assert_eq!(dup.args["shared"], "name,company", "{n}: {dup:?}");
        assert!(
            dup.message.starts_with("possible duplicate of lead #")
                && dup.message.ends_with(", shared name, company"),
            "{n}: {dup:?}"
        );
        let text = stored(&db, id, None).await;
        assert!(
            text.contains("\"args\":") && !text.contains("\"message\""),
            "{n}: {text}"
        );
        // Read back: the same reasons, messages made again.
        let detail = app.lead_detail(&admin, id).await.unwrap();
        assert_eq!(
            detail.reasons,
            serde_json::to_value(&lead.reasons).unwrap(),
            "{n}"
        );
        // As stored before reasons kept their values: message only, shown as stored.
        let older = r#"[{"code":"email_role","field":"email","message":"as stored before"},{"code":"custom","message":"kept"}]"#;
        stored(&db, id, Some(older)).await;
        let detail = app.lead_detail(&admin, id).await.unwrap();
        assert_eq!(
            detail.reasons,
            serde_json::json!([
                {"code": "email_role", "field": "email", "message": "as stored before"},
                {"code": "custom", "message": "kept"}
            ]),
            "{n}"
        );
    }
}

/// Captures a request that must make a lead, and gives the lead's id.
async fn new_lead(app: &App, fields: &[(&str, &str)]) -> i64 {
    let out = app.capture(req(fields)).await.unwrap();
    out.lead_id.unwrap_or_else(|| panic!("not a lead: {out:?}"))
}

/// Runs a migration's data statements again (all but its `ALTER TABLE` lines), as on a database
/// whose rows were written before it; `scripts` are its SQLite and PostgreSQL texts.
async fn rerun_updates(db: &TestDb, scripts: (&str, &str)) {
    let script = if db.name == "sqlite" {
        scripts.0
    } else {
        scripts.1
    };
    let updates: Vec<&str> = script
        .lines()
        .filter(|l| !l.starts_with("ALTER TABLE"))
        .collect();
    raw_exec(db, &updates.join("\n")).await;
}

/// Runs `sql` (several statements, no parameters) on the test database.
async fn raw_exec(db: &TestDb, sql: &str) {
    use sqlx::Connection;
    if db.name == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await.unwrap();
        sqlx::raw_sql(sql).execute(&mut c).await.unwrap();
    }
}

/// The history entries of a stage move the system made keep a code and values, not words, and
/// read back with their text; a person's own reason reads as written. Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_stage_moves_are_stored_as_codes_and_read_as_text() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let admin = Actor::system("t");
        let id = new_lead(
            &app,
            &[("name", "Ольга <Ким>"), ("phone", "+7 916 555 11 22")],
        )
        .await;
        let history = app.lead_detail(&admin, id).await.unwrap().history;
        let first = &history[0];
        assert_eq!(first.reason_code.as_deref(), Some("captured"), "{n}");
        assert_eq!(first.reason_args["channel"], "api", "{n}");
        assert_eq!(first.reason.as_deref(), Some("captured via API"), "{n}");
        assert_eq!(first.actor, "intake", "{n}");
        let stored = raw_text(
            &db,
            "SELECT COALESCE(reason, '(none)') FROM stage_changes WHERE lead_id = CAST($1 AS BIGINT)",
            "",
            &id.to_string(),
            None,
        )
        .await;
        assert_eq!(stored, "(none)", "{n}: the words are not stored");

        // A person's refusal keeps its reason; the freeze timer's revival names it.
        let now = voronka_app::now_ms();
        app.change_stage_at(&admin, id, Stage::Working, None, now)
            .await
            .unwrap();
        app.refuse_at(
            &admin,
            id,
            RefuseInput {
                reason: "No budget now".into(),
                comment: Some("весной".into()),
                freeze_until: Some(now + 1_000),
            },
            now,
        )
        .await
        .unwrap();
        assert!(app.revive_if_due(id, now + 2_000).await.unwrap(), "{n}");
        let history = app.lead_detail(&admin, id).await.unwrap().history;
        let refused = history.iter().find(|h| h.to == Stage::Refused).unwrap();
        assert_eq!(refused.reason.as_deref(), Some("No budget now"), "{n}");
        assert_eq!(refused.reason_code, None, "{n}");
        assert_eq!(refused.comment.as_deref(), Some("весной"), "{n}");
        let revived = history.last().unwrap();
        assert_eq!(
            (revived.from, revived.to),
            (Some(Stage::Refused), Stage::Working),
            "{n}"
        );
        assert_eq!(revived.reason_code.as_deref(), Some("freeze_passed"), "{n}");
        assert_eq!(
            revived.reason.as_deref(),
            Some("freeze date passed (was refused: No budget now)"),
            "{n}"
        );
        assert_eq!(revived.actor, "freeze timer", "{n}");

        // A test name comes in as junk: the entry names the channel and the intake's reason.
        let junk = app
            .capture(req(&[("name", "Test"), ("phone", "+7 916 555 33 44")]))
            .await
            .unwrap();
        let junk_id = junk.lead_id.unwrap();
        let entry = &app.lead_detail(&admin, junk_id).await.unwrap().history[0];
        assert_eq!(entry.to, Stage::Junk, "{n}: {junk:?}");
        assert_eq!(entry.reason_code.as_deref(), Some("captured_junk"), "{n}");
        assert_eq!(entry.reason_args["junk"], "name_test", "{n}: {entry:?}");
        assert_eq!(
            entry.reason.as_deref(),
            Some("captured via API as junk: \"Test\" is a test name"),
            "{n}"
        );
        // The lead's own junk reason is the intake's, kept as its code and read as its text.
        let lead = app.store().lead(junk_id).await.unwrap().unwrap();
        assert_eq!(lead.junk_code.as_deref(), Some("name_test"), "{n}");
        assert_eq!(
            lead.junk_reason.as_deref(),
            Some("\"Test\" is a test name"),
            "{n}"
        );
        let stored = raw_text(
            &db,
            "SELECT COALESCE(junk_reason, '(none)') || ' ' || junk_args FROM leads WHERE id = CAST($1 AS BIGINT)",
            "",
            &junk_id.to_string(),
            None,
        )
        .await;
        assert!(
            stored.starts_with("(none) [{\"code\":\"name_test\"") && !stored.contains("message"),
            "{n}: {stored}"
        );
        // A person's junk reason is kept as written.
        let lead = app.mark_junk(&admin, id, "Спам <от бота>").await.unwrap();
        assert_eq!(lead.junk_code, None, "{n}");
        assert_eq!(lead.junk_reason.as_deref(), Some("Спам <от бота>"), "{n}");
    }
}

/// Entries written before codes were kept are recognised by their exact system wording and
/// given codes by the migration; a person's words, and a junk reason the code cannot be told
/// from, stay as written. Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_gives_earlier_system_entries_their_codes() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let admin = Actor::system("t");
        let id = new_lead(
            &app,
            &[("name", "Jan de Vries"), ("phone", "+31 6 12345678")],
        )
        .await;
        raw_exec(
            &db,
            &format!(
                "INSERT INTO stage_changes (lead_id, from_stage, to_stage, actor_id, actor, reason, comment, at) VALUES \
                 ({id}, NULL, 'new', NULL, 'intake', 'captured via import', NULL, 1), \
                 ({id}, 'refused', 'working', NULL, 'intake', 'asked again', 'a new request reopened the refused lead', 2), \
                 ({id}, 'refused', 'working', NULL, 'freeze timer', 'freeze date passed', 'was refused: Дорого', 3), \
                 ({id}, 'new', 'mql', NULL, 'scoring', 'Hot B2B', NULL, 4), \
                 ({id}, 'new', 'working', 7, 'Анна', 'captured via web_form', 'her own words', 5), \
                 ({id}, NULL, 'junk', NULL, 'intake', 'captured via api as junk: older words', NULL, 6)"
            ),
        )
        .await;
        rerun_updates(
            &db,
            (
                include_str!("../../voronka-store/migrations/sqlite/0026_stage_change_codes.sql"),
                include_str!("../../voronka-store/migrations/postgres/0025_stage_change_codes.sql"),
            ),
        )
        .await;
        let history = app.lead_detail(&admin, id).await.unwrap().history;
        let got: Vec<(Option<&str>, Option<&str>, Option<&str>)> = history
            .iter()
            .filter(|h| h.at < 10)
            .map(|h| {
                (
                    h.reason_code.as_deref(),
                    h.reason.as_deref(),
                    h.comment.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("captured"), Some("captured via import"), None),
                (
                    Some("asked_again"),
                    Some("asked again: a new request reopened the refused lead"),
                    None
                ),
                (
                    Some("freeze_passed"),
                    Some("freeze date passed (was refused: Дорого)"),
                    None
                ),
                (Some("score_rule"), Some("scoring rule \"Hot B2B\""), None),
                (None, Some("captured via web_form"), Some("her own words")),
                (None, Some("captured via api as junk: older words"), None),
            ],
            "{n}"
        );
        let hot = history.iter().find(|h| h.at == 4).unwrap();
        assert_eq!(hot.reason_args["rule"], "Hot B2B", "{n}");
    }
}

/// A task the system makes (the next step after a call's outcome) keeps a code for its title,
/// and the title is read from it; a person's own title reads as written; tasks made before the
/// codes are given theirs by the migration. Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_tasks_keep_a_code_for_their_title() {
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let admin = app
            .add_user("boss@mail.ru", "Анна Главная", "password-1", Role::Admin)
            .await
            .unwrap();
        let id = new_lead(&app, &[("name", "Ли Вэй"), ("phone", "+7 916 555 44 33")]).await;
        let (_, task) = app
            .log_activity(
                &Actor::user(admin),
                id,
                voronka_app::ActivityInput {
                    kind: "call".into(),
                    outcome: Some("no_answer".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(task.is_some(), "{n}");
        let tasks = app.store().tasks_for_lead(id).await.unwrap();
        assert_eq!(tasks.len(), 1, "{n}: {tasks:?}");
        assert_eq!(tasks[0].title_code.as_deref(), Some("call_again"), "{n}");
        assert_eq!(tasks[0].title, "Call again", "{n}");
        raw_exec(
            &db,
            &format!(
                "UPDATE tasks SET title = 'stale words' WHERE title_code = 'call_again'; \
                 INSERT INTO tasks (lead_id, owner_id, kind, title, due_at, created_by, created_at) VALUES \
                 ({id}, NULL, 'send_offer', 'Send the offer', 1, 'outcome', 1), \
                 ({id}, NULL, 'call', 'Send the offer', 2, 'Анна Главная', 2), \
                 ({id}, NULL, 'call', 'Позвонить после обеда', 3, 'Анна Главная', 3)"
            ),
        )
        .await;
        rerun_updates(
            &db,
            (
                include_str!("../../voronka-store/migrations/sqlite/0027_task_title_codes.sql"),
                include_str!("../../voronka-store/migrations/postgres/0026_task_title_codes.sql"),
            ),
        )
        .await;
        let got: Vec<(Option<String>, String)> = app
            .store()
            .tasks_for_lead(id)
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.title_code, t.title))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("send_offer".into()), "Send the offer".into()),
                (None, "Send the offer".into()),
                (None, "Позвонить после обеда".into()),
                (Some("call_again".into()), "Call again".into()),
            ],
            "{n}: the code decides the title read; a person's words stay theirs"
        );
    }
}

/// Why a lead went to whom, the notifications and what an SLA step did are stored as a code
/// and values and read as their text; rows stored as text before the codes read as written.
/// Names in any script, markup included, come back as they were given. Both backends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_notices_are_stored_as_codes_and_read_as_text() {
    use voronka_core::Notice;
    for db in TestDb::both().await {
        let app = open(&db).await;
        let n = db.name;
        let admin = app
            .add_user(
                "boss@mail.ru",
                "Анна <i>Главная</i>",
                "password-1",
                Role::Admin,
            )
            .await
            .unwrap();
        let seller = app
            .add_user("olga@mail.ru", "Ольга", "password-2", Role::Salesperson)
            .await
            .unwrap()
            .id;
        let boss = Actor::user(admin);
        let id = new_lead(&app, &[("name", "Ли Вэй"), ("phone", "+7 916 555 44 34")]).await;

        // The intake's decision: kept as a code, read as its text.
        let d = app.store().lead_detail(id).await.unwrap().unwrap();
        let route = d.route.clone().expect("the intake's decision keeps a code");
        assert!(route.code.starts_with("route_"), "{n}: {route:?}");
        assert_eq!(
            d.route_explanation.as_deref(),
            Some(route.text().as_str()),
            "{n}"
        );

        // A manager's reassignment: the history row and the new owner's notification.
        app.reassign(
            &boss,
            id,
            &voronka_app::ReassignTo::Person {
                owner_id: Some(seller),
            },
            Some("на время отпуска <script>"),
        )
        .await
        .unwrap();
        let why = "reassigned by Анна <i>Главная</i>: на время отпуска <script>";
        let rows = app.assignments(&boss, id).await.unwrap();
        let last = rows.last().unwrap();
        assert_eq!(last.explanation, why, "{n}");
        let code = last.why.as_ref().map(|w| w.code.as_str());
        assert_eq!(code, Some("reassigned_by"), "{n}");
        assert_eq!(
            last.why.as_ref().unwrap().args["comment"],
            "на время отпуска <script>",
            "{n}"
        );
        // Newest first: the reassignment's, then the intake's (the default rule routed the new
        // lead to the one salesperson).
        let notes = app.store().notifications_for(seller, 10).await.unwrap();
        let got: Vec<(&str, Option<&str>)> = notes
            .iter()
            .map(|x| (x.body.as_str(), x.notice.as_ref().map(|c| c.code.as_str())))
            .collect();
        let intake = format!("New lead #{id} assigned to Ольга: {}", route.text());
        assert_eq!(
            got,
            vec![
                (
                    format!("Lead #{id} assigned to you: {why}").as_str(),
                    Some("lead_assigned_to_you")
                ),
                (intake.as_str(), Some("new_lead_assigned")),
            ],
            "{n}"
        );
        assert_eq!(route.args["person"], "Ольга", "{n}");

        // An SLA step's detail.
        let detail = Notice::new("sla_escalated")
            .with("lead", id)
            .with("count", 2)
            .with("owner", "Ольга");
        let mut tx = app.store().begin().await.unwrap();
        let fired = tx
            .record_sla_event(&voronka_store::SlaEvent {
                lead_id: id,
                step: 0,
                action: "escalate_team_lead".into(),
                detail: detail.text(),
                notice: Some(detail.clone()),
                worker: None,
                at: 5,
            })
            .await
            .unwrap();
        assert!(fired, "{n}");
        tx.commit().await.unwrap();

        // Rows stored before the codes: their words, no code.
        raw_exec(
            &db,
            &format!(
                "INSERT INTO assignments (lead_id, from_owner, to_owner, rule, explanation, actor_id, actor, at) \
                 VALUES ({id}, NULL, NULL, NULL, 'older words', NULL, 'routing', 9999999999999); \
                 INSERT INTO notifications (user_id, kind, lead_id, body, created_at) \
                 VALUES ({seller}, 'lead_assigned', {id}, 'older body', 9999999999999); \
                 INSERT INTO sla_events (lead_id, step, action, detail, worker, at) \
                 VALUES ({id}, 1, 'notify_owner', 'older detail', NULL, 6)"
            ),
        )
        .await;
        let events = app.sla_events(&boss, id).await.unwrap();
        let got: Vec<(String, Option<Notice>)> =
            events.into_iter().map(|e| (e.detail, e.notice)).collect();
        assert_eq!(
            got,
            vec![
                (
                    format!("lead #{id} escalated to 2 team lead(s); owner Ольга"),
                    Some(detail)
                ),
                ("older detail".into(), None),
            ],
            "{n}"
        );
        let last = app.assignments(&boss, id).await.unwrap().pop().unwrap();
        assert_eq!(
            (last.explanation.as_str(), last.why),
            ("older words", None),
            "{n}"
        );
        let newest = app.store().notifications_for(seller, 10).await.unwrap();
        assert_eq!(newest[0].body, "older body", "{n}");
        assert_eq!(newest[0].notice, None, "{n}");
    }
}

/// A company buys as one customer: the second of its people to convert adds a deal to the
/// customer the first one made, and the customer reads both people's leads; a person without a
/// company stays a customer of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_is_one_customer_whichever_of_its_people_buys() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let actor = Actor::system("test");
        let rub = Currency::parse("RUB").unwrap();
        let mut leads = Vec::new();
        for (name, phone, company) in [
            ("Ирина Закупкина", "+79165550001", "ООО «Ромашка»"),
            ("Пётр Директоров", "+79165550002", "ООО «Ромашка»"),
            ("Одна Сама", "+79165550003", ""),
        ] {
            let mut fields = vec![("name", name), ("phone", phone), ("product", "Склад")];
            if !company.is_empty() {
                fields.push(("company", company));
            }
            let o = app.capture(req(&fields)).await.unwrap();
            assert_eq!(o.action, "new_lead", "{n}: {name}");
            leads.push(o.lead_id.unwrap());
        }
        let convert = |id, minor| {
            app.convert(
                &actor,
                id,
                ConvertInput {
                    amount: Money::new(minor, rub),
                    title: None,
                },
            )
        };
        let (_, first, _) = convert(leads[0], 100_000).await.unwrap();
        let (_, second, _) = convert(leads[1], 250_000).await.unwrap();
        let (_, own, _) = convert(leads[2], 5_000).await.unwrap();
        assert_eq!(first, second, "{n}: one customer for the company");
        assert_ne!(first, own, "{n}");
        let c = app.customer_detail(&actor, first).await.unwrap();
        assert_eq!(c.customer.name, "ООО «Ромашка»", "{n}");
        assert_eq!(c.deals.len(), 2, "{n}");
        let mut ids: Vec<i64> = c.leads.iter().map(|l| l.id).collect();
        ids.sort();
        assert_eq!(ids, vec![leads[0], leads[1]], "{n}: both people's leads");
        assert!(
            c.timeline.iter().any(|t| t.lead_id == leads[1]),
            "{n}: the second person's touches are on the timeline"
        );
        let second_contact = app
            .store()
            .lead(leads[1])
            .await
            .unwrap()
            .unwrap()
            .contact_id;
        assert_eq!(
            c.people,
            vec![(second_contact, "Пётр Директоров".to_string())],
            "{n}"
        );
        // The second person's contact page names the company's customer.
        let cd = app.contact_detail(&actor, second_contact).await.unwrap();
        assert_eq!(cd.customer.map(|c| c.id), Some(first), "{n}");
        let listed = app
            .list_customers_summed(
                &actor,
                SimpleQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), 2, "{n}: {listed:?}");
        let (_, sum) = listed.iter().find(|(c, _)| c.id == first).unwrap();
        assert_eq!(
            sum.as_ref().map(|s| (s.deals, s.revenue.clone())),
            Some((2, vec![Money::new(350_000, rub)])),
            "{n}"
        );
        // The company's customers: this one, with both deals.
        let account = cd.account.as_ref().map(|a| a.id).unwrap();
        let (_, _, of_company) = app.account_page(&actor, account).await.unwrap();
        assert_eq!(
            of_company
                .iter()
                .map(|(c, s)| (c.id, s.as_ref().map(|s| s.deals)))
                .collect::<Vec<_>>(),
            vec![(first, Some(2))],
            "{n}"
        );
        // Found by the second person's name too.
        let found = app
            .list_customers(
                &actor,
                SimpleQuery {
                    text: Some("Директоров".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![first],
            "{n}"
        );
    }
}

/// Two customers that are one buyer become one: the deals and converted leads of the one merged
/// move to the other, its address names where it went (after a second merge too), the next
/// purchase of its person adds to the customer it went to, and what may not be merged is
/// refused before anything moves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_merge_into_one() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let actor = Actor::system("test");
        let rub = Currency::parse("RUB").unwrap();
        let mut leads = Vec::new();
        for (name, phone, product) in [
            ("Иван Петров", "+79165560001", "Склад"),
            ("Иван Петров", "+79165560002", "Склад"),
            ("Мария Третья", "+79165560003", "Склад"),
        ] {
            let o = app
                .capture(req(&[
                    ("name", name),
                    ("phone", phone),
                    ("product", product),
                ]))
                .await
                .unwrap();
            leads.push(o.lead_id.unwrap());
        }
        let convert = |id| {
            app.convert(
                &actor,
                id,
                ConvertInput {
                    amount: Money::new(10_000, rub),
                    title: None,
                },
            )
        };
        let (_, first, _) = convert(leads[0]).await.unwrap();
        let (_, second, _) = convert(leads[1]).await.unwrap();
        let (_, third, _) = convert(leads[2]).await.unwrap();
        assert_ne!(first, second, "{n}: two people, two customers");
        // Of the same name: each is offered as the other's look-alike.
        let alike = app.customer_look_alikes(&actor, second).await.unwrap();
        assert_eq!(
            alike.iter().map(|(c, _)| c.id).collect::<Vec<_>>(),
            vec![first],
            "{n}"
        );

        // Refused before anything moves.
        let seller = app
            .add_user("seller@mail.ru", "Seller", "password-1", Role::Salesperson)
            .await
            .unwrap();
        let refusals = [
            (Actor::user(seller.clone()), first, second),
            (actor.clone(), first, first),
            (actor.clone(), first, 999_999),
            (actor.clone(), 999_999, first),
        ];
        for (who, from, into) in &refusals {
            let e = app.merge_customers(who, *from, *into).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    voronka_app::AppError::Forbidden(_)
                        | voronka_app::AppError::Invalid { .. }
                        | voronka_app::AppError::NotFound(_)
                ),
                "{n}: {from} into {into}: {e:?}"
            );
        }
        assert!(app
            .customer_look_alikes(&Actor::user(seller.clone()), second)
            .await
            .unwrap()
            .is_empty());
        assert_eq!(
            app.customer_detail(&actor, first)
                .await
                .unwrap()
                .deals
                .len(),
            1,
            "{n}"
        );

        let m = app.merge_customers(&actor, first, second).await.unwrap();
        assert_eq!(
            (m.from_id, m.into_id, m.deals, m.leads),
            (first, second, 1, 1),
            "{n}"
        );
        assert_eq!(m.from_name, "Иван Петров", "{n}");
        let e = app.customer_detail(&actor, first).await.unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("merged into customer {second}")),
            "{n}: {e}"
        );
        let c = app.customer_detail(&actor, second).await.unwrap();
        assert_eq!(c.deals.len(), 2, "{n}");
        assert!(c.leads.iter().any(|l| l.id == leads[0]), "{n}");
        assert_eq!(c.merged_from.len(), 1, "{n}");
        assert_eq!(c.merged_from[0].from_id, first, "{n}");
        assert_eq!(c.merged_from[0].actor, "test", "{n}");
        let first_contact = app
            .store()
            .lead(leads[0])
            .await
            .unwrap()
            .unwrap()
            .contact_id;
        assert!(
            c.people.iter().any(|(id, _)| *id == first_contact),
            "{n}: {:?}",
            c.people
        );
        // The merged customer's person buys again: the deal goes where the customer went.
        let again = app
            .capture(req(&[
                ("name", "Иван Петров"),
                ("phone", "+79165560001"),
                ("product", "Доставка"),
            ]))
            .await
            .unwrap();
        assert_eq!(again.contact_id, Some(first_contact), "{n}");
        let (_, to, _) = convert(again.lead_id.unwrap()).await.unwrap();
        assert_eq!(to, second, "{n}");

        // Merged on: the first customer's address follows to the last.
        let m2 = app.merge_customers(&actor, second, third).await.unwrap();
        assert_eq!(
            app.customer_merged_into(&actor, first).await.unwrap(),
            Some(third),
            "{n}"
        );
        assert_eq!(
            app.customer_merged_into(&actor, second).await.unwrap(),
            Some(third),
            "{n}"
        );
        let c = app.customer_detail(&actor, third).await.unwrap();
        assert_eq!(c.deals.len(), 4, "{n}");
        let mut from: Vec<i64> = c.merged_from.iter().map(|m| m.from_id).collect();
        from.sort();
        assert_eq!(from, vec![first, second], "{n}");
        let audit = app.audit_for(&actor, "customer", third).await.unwrap();
        assert!(
            audit.iter().any(|a| a.action == "customer.merge"),
            "{n}: {audit:?}"
        );
        assert!(c.merged_from.iter().all(|m| m.undoable), "{n}");

        // Undone, the last merge first: the second customer is back with all it had then (the
        // first's deal, which came with it, and the later purchase too), and the first customer's
        // address leads to it again.
        let e = app
            .undo_customer_merge(&Actor::user(seller.clone()), m2.id)
            .await
            .unwrap_err();
        assert!(
            matches!(e, voronka_app::AppError::Forbidden(_)),
            "{n}: {e:?}"
        );
        let undone = app.undo_customer_merge(&actor, m2.id).await.unwrap();
        assert_eq!((undone.from_id, undone.undoable), (second, false), "{n}");
        assert!(undone.undone_at.is_some(), "{n}");
        let c = app.customer_detail(&actor, second).await.unwrap();
        assert_eq!(
            (c.customer.name.as_str(), c.deals.len()),
            ("Иван Петров", 3),
            "{n}"
        );
        assert_eq!(
            app.customer_detail(&actor, third)
                .await
                .unwrap()
                .deals
                .len(),
            1,
            "{n}"
        );
        assert_eq!(
            app.customer_merged_into(&actor, first).await.unwrap(),
            Some(second),
            "{n}"
        );
        assert_eq!(
            app.customer_merged_into(&actor, second).await.unwrap(),
            None,
            "{n}"
        );
        assert!(
            app.customer_detail(&actor, third)
                .await
                .unwrap()
                .merged_from
                .is_empty(),
            "{n}: an undone merge is not listed"
        );
        // Then the first: back with its own deal and lead; the purchase made after it stays.
        app.undo_customer_merge(&actor, m.id).await.unwrap();
        let c = app.customer_detail(&actor, first).await.unwrap();
        assert_eq!(c.deals.len(), 1, "{n}");
        assert!(c.leads.iter().any(|l| l.id == leads[0]), "{n}");
        assert_eq!(c.customer.contact_id, first_contact, "{n}");
        let c = app.customer_detail(&actor, second).await.unwrap();
        assert_eq!(c.deals.len(), 2, "{n}");
        assert!(c.merged_from.is_empty(), "{n}");
        assert_eq!(
            app.customer_merged_into(&actor, first).await.unwrap(),
            None,
            "{n}"
        );
        // Not twice, not one that is not there.
        let e = app.undo_customer_merge(&actor, m.id).await.unwrap_err();
        assert!(
            matches!(&e, voronka_app::AppError::Conflict(_))
                && e.to_string().contains("undone already"),
            "{n}: {e:?}"
        );
        let e = app.undo_customer_merge(&actor, 999_999).await.unwrap_err();
        assert!(
            matches!(e, voronka_app::AppError::NotFound(_)),
            "{n}: {e:?}"
        );
        let audit = app.audit_for(&actor, "customer", first).await.unwrap();
        assert!(
            audit.iter().any(|a| a.action == "customer.unmerge"),
            "{n}: {audit:?}"
        );
        // Merged again after the undo, the first goes in as before.
        let again = app.merge_customers(&actor, first, second).await.unwrap();
        assert_eq!((again.deals, again.leads), (1, 1), "{n}");
        // A merge made before merges recorded what they moved stays.
        let moved = raw_text(
            &db,
            "SELECT COALESCE(moved, 'none') FROM customer_merges WHERE id = CAST($1 AS BIGINT)",
            "UPDATE customer_merges SET moved = NULLIF($1, 'none') WHERE id = CAST($2 AS BIGINT)",
            &again.id.to_string(),
            Some("none"),
        )
        .await;
        assert_eq!(moved, "none", "{n}");
        let c = app.customer_detail(&actor, second).await.unwrap();
        assert!(!c.merged_from[0].undoable, "{n}");
        let e = app.undo_customer_merge(&actor, again.id).await.unwrap_err();
        assert!(
            matches!(&e, voronka_app::AppError::Conflict(_))
                && e.to_string().contains("cannot be undone"),
            "{n}: {e:?}"
        );
    }
}

/// A person's data erased at their request: the contact, the record merged into it and every
/// lead of theirs keep nothing that names or reaches them (nor does search find them, nor the
/// audit log quote them), the leads keep what the reports count, only an administrator with a
/// reason may do it, and the same phone afterwards is a new person.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_data_is_erased_on_request() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let actor = Actor::system("test");
        let rub = Currency::parse("RUB").unwrap();
        let first = app
            .capture(req(&[
                ("name", "Иван Стиратель"),
                ("phone", "+79168000001"),
                ("email", "ivan.erase@mail.ru"),
                ("position", "CTO"),
                ("message", "Звоните на +79168000001"),
                ("product", "Склад"),
                ("utm_source", "yandex"),
                ("utm_campaign", "spring"),
                ("visitor_id", "v-erase-1"),
                ("referrer", "https://ref.example/?email=ivan.erase@mail.ru"),
                ("shoe_size", "43"),
            ]))
            .await
            .unwrap();
        let (lead, contact) = (first.lead_id.unwrap(), first.contact_id.unwrap());
        let second = app
            .capture(req(&[
                ("name", "Иван Стиратель"),
                ("phone", "+79168000001"),
                ("product", "Доставка"),
            ]))
            .await
            .unwrap();
        assert_eq!(second.contact_id, Some(contact), "{n}");
        // Another record of them, merged in (kept, with its data, for undo).
        let other = app
            .capture(req(&[
                ("name", "Ivan Sterer"),
                ("phone", "+79168000002"),
                ("email", "ivan.other@mail.ru"),
                ("company", "ООО Стирка"),
                ("product", "Склад и доставка"),
            ]))
            .await
            .unwrap();
        let merged_contact = other.contact_id.unwrap();
        assert_ne!(merged_contact, contact, "{n}");
        app.merge_leads(&actor, lead, other.lead_id.unwrap(), &[])
            .await
            .unwrap();
        app.add_note(&actor, lead, "Жена Ивана просила перезвонить")
            .await
            .unwrap();
        app.ingest_events(
            "test",
            vec![voronka_app::EventIn {
                name: "view_pricing".into(),
                visitor_id: Some("v-erase-1".into()),
                lead_id: None,
                url: Some("https://shop.example/pricing?email=ivan.erase@mail.ru".into()),
                at: None,
                age: None,
                properties: Default::default(),
                id: None,
            }],
        )
        .await
        .unwrap();
        assert!(
            !app.store().lead_events(lead, 10).await.unwrap().is_empty(),
            "{n}: the visitor's event is the lead's"
        );
        let (_, customer, _) = app
            .convert(
                &actor,
                second.lead_id.unwrap(),
                ConvertInput {
                    amount: Money::new(50_000, rub),
                    title: None,
                },
            )
            .await
            .unwrap();
        // Their customer is merged into another person's by mistake (undone after the erasure).
        let other = app
            .capture(req(&[("name", "Пётр Другой"), ("phone", "+79165570001")]))
            .await
            .unwrap();
        let (_, other_customer, _) = app
            .convert(
                &actor,
                other.lead_id.unwrap(),
                ConvertInput {
                    amount: Money::new(1_000, rub),
                    title: None,
                },
            )
            .await
            .unwrap();
        let mistaken = app
            .merge_customers(&actor, customer, other_customer)
            .await
            .unwrap();

        // A farewell waits to be emailed to them.
        app.set_smtp_settings(
            &actor,
            Some(voronka_app::SmtpSettings {
                host: "127.0.0.1".into(),
                port: 2525,
                from: "sales@example.com".into(),
                username: None,
                password: None,
                security: Default::default(),
            }),
        )
        .await
        .unwrap();
        let reason = app.refusal_reasons().await.unwrap()[0].clone();
        let (_, sent) = app
            .refuse_with_farewell(
                &actor,
                lead,
                RefuseInput {
                    reason,
                    comment: Some("Иван сказал: дорого".into()),
                    freeze_until: None,
                },
                Some("http://voronka.example"),
            )
            .await
            .unwrap();
        assert!(sent, "{n}");

        // Administrators only, with a reason, of a contact that exists.
        let manager = app
            .add_user("boss@mail.ru", "Boss", "password-1", Role::SalesManager)
            .await
            .unwrap();
        for (who, id, reason) in [
            (Actor::user(manager), contact, "request"),
            (actor.clone(), contact, "  "),
            (actor.clone(), 999_999, "request"),
        ] {
            let e = app.erase_contact(&who, id, reason).await.unwrap_err();
            assert!(
                matches!(
                    e,
                    voronka_app::AppError::Forbidden(_)
                        | voronka_app::AppError::Invalid { .. }
                        | voronka_app::AppError::NotFound(_)
                ),
                "{n}: {e:?}"
            );
        }
        assert_eq!(
            app.contact_detail(&actor, contact)
                .await
                .unwrap()
                .contact
                .full_name,
            "Иван Стиратель",
            "{n}: nothing erased yet"
        );

        // Asked of the merged record: the person it went into is erased, with it.
        let e = app
            .erase_contact(&actor, merged_contact, "Письмо от 2026-12-01, №17")
            .await
            .unwrap();
        assert_eq!((e.contact_id, e.contacts, e.leads), (contact, 2, 3), "{n}");
        assert!(
            e.notes >= 1 && e.events >= 1 && e.touches >= 3,
            "{n}: {e:?}"
        );
        assert_eq!(e.emails, 1, "{n}: the farewell is not sent to them");
        for id in [contact, merged_contact] {
            let c = app.contact_detail(&actor, id).await.unwrap().contact;
            assert_eq!(c.full_name, "—", "{n}");
            assert!(
                c.emails.is_empty() && c.phones.is_empty() && c.socials.is_empty(),
                "{n}: {c:?}"
            );
            assert_eq!(
                (c.first_name, c.last_name, c.position, c.account_id),
                (None, None, None, None),
                "{n}"
            );
            assert!(c.erased_at.is_some(), "{n}");
        }
        // The leads keep what the reports count, nothing of the person.
        let d = app.lead_detail(&actor, lead).await.unwrap();
        assert_eq!(d.lead.product.as_deref(), Some("Склад"), "{n}");
        assert_eq!(d.lead.source.as_deref(), Some("yandex"), "{n}");
        assert_eq!(d.lead.campaign.as_deref(), Some("spring"), "{n}");
        assert_eq!(d.lead.message, None, "{n}");
        assert!(d.notes.is_empty(), "{n}");
        assert!(!d.touches.is_empty(), "{n}");
        for t in &d.touches {
            assert_eq!(t.raw, serde_json::json!({}), "{n}");
            assert_eq!(
                (&t.ip, &t.user_agent, &t.message, &t.attribution.referrer),
                (&None, &None, &None, &None),
                "{n}"
            );
        }
        assert!(
            d.touches
                .iter()
                .any(|t| t.attribution.utm_source.as_deref() == Some("yandex")),
            "{n}"
        );
        assert!(
            app.store().lead_events(lead, 10).await.unwrap().is_empty(),
            "{n}"
        );
        let whole = serde_json::to_string(&d).unwrap();
        for word in [
            "Стиратель",
            "ivan.erase",
            "79168000001",
            "Ивана",
            "Иван сказал",
            "shoe_size",
            "CTO",
        ] {
            assert!(!whole.contains(word), "{n}: {word} in {whole}");
        }
        // Search finds them no more.
        for q in [
            "Стиратель",
            "ivan.erase",
            "79168000001",
            "ivan.other",
            "Sterer",
        ] {
            let found = app
                .list_leads(
                    &actor,
                    LeadQuery {
                        text: Some(q.into()),
                        limit: 10,
                        ..Default::default()
                    },
                )
                .await
                .unwrap()
                .0;
            assert!(found.is_empty(), "{n}: {q}");
        }
        // Their customer, named after them (they bought with no company), keeps its deal but not
        // the name: neither in the record of the merge nor once the merge is undone.
        let c = app.customer_detail(&actor, other_customer).await.unwrap();
        assert_eq!(
            (
                c.merged_from[0].from_id,
                c.merged_from[0].from_name.as_str()
            ),
            (customer, "—"),
            "{n}"
        );
        app.undo_customer_merge(&actor, mistaken.id).await.unwrap();
        let c = app.customer_detail(&actor, customer).await.unwrap();
        assert_eq!(c.customer.name, "—", "{n}");
        assert_eq!(c.deals.len(), 1, "{n}");
        // The audit log says who erased and why, and quotes nothing of the person.
        let audit = app.audit_for(&actor, "contact", contact).await.unwrap();
        let entry = audit
            .iter()
            .find(|a| a.action == "contact.erase")
            .unwrap_or_else(|| panic!("{n}: {audit:?}"));
        assert!(
            entry
                .after
                .as_deref()
                .unwrap_or("")
                .contains("Письмо от 2026-12-01"),
            "{n}: {entry:?}"
        );
        for a in app.audit_for(&actor, "lead", lead).await.unwrap() {
            let text = format!("{:?} {:?}", a.before, a.after);
            assert!(!text.contains("Стиратель"), "{n}: {text}");
        }
        // Nor does the database's file or its log hold them (SQLite).
        if let Some(path) = db.url.strip_prefix("sqlite://") {
            let mut bytes = std::fs::read(path).unwrap();
            bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
            for word in [
                "ivan.erase@mail.ru",
                "Стиратель",
                "79168000002",
                "Жена Ивана",
            ] {
                let found = bytes.windows(word.len()).any(|w| w == word.as_bytes());
                assert!(!found, "{n}: {word} is still in the database's file");
            }
        }
        // The same phone afterwards is a new person.
        let again = app
            .capture(req(&[
                ("name", "Иван Стиратель"),
                ("phone", "+79168000001"),
            ]))
            .await
            .unwrap();
        assert!(again.lead_id.is_some(), "{n}");
        assert!(
            again.contact_id != Some(contact) && again.contact_id != Some(merged_contact),
            "{n}"
        );
    }
}

/// Saved views: a person's own are theirs alone, a view shared by a manager shows to everyone;
/// names are checked, sharing and deleting others' views are for managers, tokens of nobody
/// have none, and a person keeps at most so many.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn saved_views_are_a_persons_own_or_the_teams() {
    use voronka_app::AppError;
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let add = |email: &'static str, role| {
            let app = app.clone();
            async move {
                Actor::user(
                    app.add_user(email, email, "password-1", role)
                        .await
                        .unwrap(),
                )
            }
        };
        let boss = add("boss@mail.ru", Role::SalesManager).await;
        let anna = add("anna@mail.ru", Role::Salesperson).await;
        let oleg = add("oleg@mail.ru", Role::Salesperson).await;
        let names = |list: Vec<voronka_store::SavedView>| {
            list.into_iter().map(|v| v.name).collect::<Vec<_>>()
        };

        let mine = app
            .save_view(&anna, "  Мои <b>горячие</b> ", "?temperature=hot", false)
            .await
            .unwrap();
        assert_eq!(
            (mine.name.as_str(), mine.query.as_str(), mine.shared),
            ("Мои <b>горячие</b>", "temperature=hot", false),
            "{n}"
        );
        assert_eq!(mine.owner_name, "anna@mail.ru", "{n}");
        let e = app
            .save_view(&anna, "Для всех", "stage=new", true)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        let team = app
            .save_view(&boss, "Команда: новые", "stage=new", true)
            .await
            .unwrap();
        assert_eq!(
            names(app.saved_views(&anna).await.unwrap()),
            ["Команда: новые", "Мои <b>горячие</b>"],
            "{n}: shared first"
        );
        assert_eq!(
            names(app.saved_views(&oleg).await.unwrap()),
            ["Команда: новые"],
            "{n}: another's own views are theirs"
        );
        // By name regardless of case and script, the same on both backends.
        for name in ["б-вид", "A-view", "а-вид", "b-view"] {
            app.save_view(&oleg, name, "", false).await.unwrap();
        }
        assert_eq!(
            names(app.saved_views(&oleg).await.unwrap()),
            ["Команда: новые", "A-view", "b-view", "а-вид", "б-вид"],
            "{n}"
        );
        for v in app.saved_views(&oleg).await.unwrap() {
            if !v.shared {
                app.delete_view(&oleg, v.id).await.unwrap();
            }
        }
        for (name, query) in [
            ("мои <B>ГОРЯЧИЕ</B>", "stage=new"),
            ("   ", "stage=new"),
            (&"я".repeat(81)[..], "stage=new"),
            ("Длинный", &"q=x&".repeat(600)[..]),
        ] {
            let e = app.save_view(&anna, name, query, false).await.unwrap_err();
            assert!(
                matches!(e, AppError::Conflict(_) | AppError::Invalid { .. }),
                "{n}: {name}: {e:?}"
            );
        }
        // Deleting: not another's own, not a shared one unless a manager.
        let e = app.delete_view(&oleg, mine.id).await.unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        let e = app.delete_view(&anna, team.id).await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        app.delete_view(&anna, mine.id).await.unwrap();
        app.delete_view(&boss, team.id).await.unwrap();
        assert!(app.saved_views(&anna).await.unwrap().is_empty(), "{n}");
        let e = app.delete_view(&anna, mine.id).await.unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        // A token of nobody has none and saves none.
        let nobody = Actor::system("crm-sync");
        assert!(app.saved_views(&nobody).await.unwrap().is_empty(), "{n}");
        let e = app
            .save_view(&nobody, "x", "stage=new", false)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        // At most so many a person.
        for i in 0..voronka_app::MAX_VIEWS {
            app.save_view(&oleg, &format!("Вид {i}"), "stage=new", false)
                .await
                .unwrap();
        }
        let e = app
            .save_view(&oleg, "Ещё один", "stage=new", false)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }), "{n}: {e:?}");
    }
}

/// The channel report: the leads of a period per source (how far they went, what their deals
/// came to) against the spend entered for the source, spread over its days; junk, interests,
/// leads of another period and merged-away leads in their places; spend checked and audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn channel_report_weighs_each_sources_leads_against_its_spend() {
    use voronka_app::{AppError, SpendInput};
    use voronka_core::channels::ChannelBy;
    const DAY: i64 = 86_400_000;
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let marketer = Actor::user(
            app.add_user("mila@mail.ru", "Мила", "password-1", Role::Marketer)
                .await
                .unwrap(),
        );
        let seller = Actor::user(
            app.add_user("ivan@mail.ru", "Иван", "password-1", Role::Salesperson)
                .await
                .unwrap(),
        );
        let rub = Currency::parse("RUB").unwrap();
        let eur = Currency::parse("EUR").unwrap();
        let google = |i: usize| {
            vec![
                ("name".to_string(), common::person_name(i)),
                (
                    "phone".to_string(),
                    format!("+7 916 500-{:02}-{:02}", i / 100, i % 100),
                ),
                ("utm_source".to_string(), "google".to_string()),
                ("utm_medium".to_string(), "cpc".to_string()),
            ]
        };
        let lead = |fields: Vec<(String, String)>| {
            let app = app.clone();
            async move {
                let f: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                new_lead(&app, &f).await
            }
        };
        // Google: one bought for 50,000 ₽, one for 100 €, one went to MQL and was refused,
        // one is open, one is junk.
        let bought = lead(google(1)).await;
        app.convert(
            &admin,
            bought,
            ConvertInput {
                amount: Money::new(5_000_000, rub),
                title: None,
            },
        )
        .await
        .unwrap();
        let abroad = lead(google(2)).await;
        app.convert(
            &admin,
            abroad,
            ConvertInput {
                amount: Money::new(10_000, eur),
                title: None,
            },
        )
        .await
        .unwrap();
        let cooled = lead(google(3)).await;
        for to in [Stage::Working, Stage::Mql] {
            app.change_stage(&admin, cooled, to, None).await.unwrap();
        }
        app.refuse(
            &admin,
            cooled,
            RefuseInput {
                reason: "No budget now".into(),
                comment: None,
                freeze_until: None,
            },
        )
        .await
        .unwrap();
        lead(google(4)).await;
        let junk = lead(google(5)).await;
        app.mark_junk(&admin, junk, "test").await.unwrap();
        // Yandex: one open lead; one without any source; an interest from Google (no contact);
        // a Google lead of two months ago.
        lead(vec![
            ("name".into(), "Пётр <b>Яндексов</b>".into()),
            ("email".into(), "petr@yandex.ru".into()),
            ("utm_source".into(), "yandex".into()),
            ("utm_medium".into(), "cpc".into()),
        ])
        .await;
        lead(vec![
            ("name".into(), common::person_name(7)),
            ("email".into(), "x7@mail.ru".into()),
        ])
        .await;
        let out = app
            .capture(req(&[
                ("name", "Аноним"),
                ("utm_source", "google"),
                ("utm_medium", "cpc"),
            ]))
            .await
            .unwrap();
        assert_eq!(out.result, CaptureResult::Interest, "{n}");
        let mut old = req(&[
            ("name", "Давний"),
            ("email", "old@mail.ru"),
            ("utm_source", "google"),
            ("utm_medium", "cpc"),
        ]);
        old.submission.received_at -= 60 * DAY;
        app.capture(old).await.unwrap();

        // Spend: Google for the 30 days up to today, its cpc medium named; VK cost 7,000 ₽ and
        // brought nothing; Yandex's budget covers 60 days, half of them in the period.
        let today = chrono::Utc::now().date_naive();
        let day = |back: i64| (today - chrono::Duration::days(back)).to_string();
        let spend = |source: &str, medium: Option<&str>, from: i64, amount: &str| SpendInput {
            source: source.into(),
            medium: medium.map(Into::into),
            from: day(from),
            to: day(0),
            amount: amount.into(),
            ..Default::default()
        };
        // Typed as people type it: the leads' tags are stored in lower case, and so is the spend.
        let g = app
            .add_spend(&marketer, &spend("Google", Some("CPC"), 29, "30 000"))
            .await
            .unwrap();
        assert_eq!(
            (g.source.as_str(), g.medium.as_deref()),
            ("google", Some("cpc")),
            "{n}"
        );
        assert_eq!(g.amount, Money::new(3_000_000, rub), "{n}");
        assert_eq!(g.created_by.as_deref(), Some("Мила"), "{n}");
        app.add_spend(&marketer, &spend("vk", Some("social"), 29, "7000"))
            .await
            .unwrap();
        app.add_spend(
            &marketer,
            &SpendInput {
                source: "yandex".into(),
                from: day(59),
                to: day(0),
                amount: "12000,00".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();

        let from = voronka_app::day_start("from", &day(29)).unwrap();
        let to = voronka_app::day_start("to", &day(0)).unwrap() + DAY;
        let r = app
            .channel_report(&marketer, ChannelBy::Source, from, to, None)
            .await
            .unwrap();
        let row = |s: Option<&str>| {
            r.rows
                .iter()
                .find(|x| x.key.source.as_deref() == s)
                .unwrap_or_else(|| panic!("{n}: no row {s:?} in {:?}", r.rows))
                .clone()
        };
        let g = row(Some("google"));
        assert_eq!(
            (
                g.interests,
                g.leads,
                g.junk,
                g.mql,
                g.sql,
                g.converted,
                g.refused
            ),
            (1, 4, 1, 3, 2, 2, 1),
            "{n}: {g:?}"
        );
        assert_eq!(
            g.revenue,
            vec![Money::new(5_000_000, rub), Money::new(10_000, eur)],
            "{n}"
        );
        assert_eq!(g.spend, vec![Money::new(3_000_000, rub)], "{n}");
        assert_eq!(g.cost_per_lead, Some(Money::new(750_000, rub)), "{n}");
        assert_eq!(g.cost_per_customer, Some(Money::new(1_500_000, rub)), "{n}");
        // Part of the revenue is in euros: no return is told in roubles.
        assert_eq!(g.roi, None, "{n}");
        assert_eq!(g.conversion_rate, Some(0.5), "{n}");
        let y = row(Some("yandex"));
        assert_eq!((y.leads, y.converted), (1, 0), "{n}");
        // Half of its 60 days (rounded to the kopeck) fall in the period.
        assert_eq!(y.spend, vec![Money::new(600_000, rub)], "{n}");
        assert_eq!(y.roi, Some(-1.0), "{n}");
        let vk = row(Some("vk"));
        assert_eq!((vk.leads, vk.spend_in(rub)), (0, 700_000), "{n}");
        assert_eq!(row(None).leads, 1, "{n}");
        assert_eq!(r.total.leads, 6, "{n}");
        assert_eq!(r.total.spend_in(rub), 4_300_000, "{n}");
        assert!(r.unattributed_spend.is_empty(), "{n}");
        assert_eq!(
            r.rows[0].key.source.as_deref(),
            Some("google"),
            "{n}: most leads first"
        );

        // Week by week: Google on its own, the others together, the old lead outside.
        let w = app
            .weekly_leads(&marketer, ChannelBy::Source, from, to, 1)
            .await
            .unwrap();
        let this_week = voronka_core::channels::week_of(voronka_app::now_ms());
        assert_eq!(w.weeks.last(), Some(&this_week), "{n}");
        assert!((5..=6).contains(&w.weeks.len()), "{n}: {:?}", w.weeks);
        assert_eq!(w.channels.len(), 1, "{n}");
        assert_eq!(w.channels[0].key.source.as_deref(), Some("google"), "{n}");
        let last = w.weeks.len() - 1;
        assert_eq!(
            (w.channels[0].leads[last], w.others[last], w.total[last]),
            (4, 2, 6),
            "{n}: junk left out"
        );
        assert_eq!(w.total.iter().sum::<i64>(), 6, "{n}");

        // By source and medium, Yandex's budget names no medium: set apart.
        let r = app
            .channel_report(&marketer, ChannelBy::SourceMedium, from, to, None)
            .await
            .unwrap();
        let gc = r
            .rows
            .iter()
            .find(|x| x.key.source.as_deref() == Some("google"))
            .unwrap();
        assert_eq!(gc.key.medium.as_deref(), Some("cpc"), "{n}");
        assert_eq!(gc.spend_in(rub), 3_000_000, "{n}");
        assert_eq!(r.unattributed_spend, vec![Money::new(600_000, rub)], "{n}");
        // A period that holds only the old lead: no spend of its days.
        let r = app
            .channel_report(
                &marketer,
                ChannelBy::Source,
                from - 40 * DAY,
                from - 20 * DAY,
                None,
            )
            .await
            .unwrap();
        assert_eq!(r.total.leads, 1, "{n}");
        assert_eq!(
            r.total.spend_in(rub),
            200_000,
            "{n}: ten of Yandex's 60 days"
        );
        // In euros: the euro deal is the revenue, no spend to divide.
        let r = app
            .channel_report(&marketer, ChannelBy::Source, from, to, Some("eur"))
            .await
            .unwrap();
        let g = r
            .rows
            .iter()
            .find(|x| x.key.source.as_deref() == Some("google"))
            .unwrap();
        assert_eq!(g.revenue_in(eur), 10_000, "{n}");
        assert_eq!((g.cost_per_lead, g.roi), (None, None), "{n}");

        // Who may: salespeople see no reports and enter no spend.
        let e = app
            .channel_report(&seller, ChannelBy::Source, from, to, None)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        let e = app
            .add_spend(&seller, &spend("google", None, 1, "1"))
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        // What is refused, with every field named at once.
        let e = app
            .add_spend(
                &marketer,
                &SpendInput {
                    source: "  ".into(),
                    from: day(1),
                    to: day(5),
                    amount: "много".into(),
                    currency: Some("рубли".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        let AppError::Invalid { fields, .. } = &e else {
            panic!("{n}: {e:?}");
        };
        let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["source", "to", "currency"], "{n}: {fields:?}");
        for (amount, field) in [("-5", "amount"), ("0", "amount"), ("1.234", "amount")] {
            let e = app
                .add_spend(&marketer, &spend("google", None, 1, amount))
                .await
                .unwrap_err();
            assert!(
                matches!(&e, AppError::Invalid { fields, .. } if fields[0].field == field),
                "{n}: {amount}: {e:?}"
            );
        }
        let e = app
            .channel_report(&marketer, ChannelBy::Source, to, from, None)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }), "{n}: {e:?}");

        // Deleting: gone from the report, the audit log keeps what it was.
        let listed = app.spend_entries(&marketer, from, to).await.unwrap();
        assert_eq!(listed.len(), 3, "{n}");
        let vk = listed.iter().find(|s| s.source == "vk").unwrap().id;

        // Changing: the report follows, who entered it and when stay, the audit log keeps both.
        let before = app.spend_entry(&marketer, vk).await.unwrap();
        let mut input = SpendInput::of_entry(&before);
        assert_eq!(
            (input.amount.as_str(), &input.from, &input.to),
            ("7000.00", &day(29), &day(0)),
            "{n}: an entry reads back as it was typed"
        );
        input.source = "VK".into();
        input.amount = "9 500,50".into();
        input.note = Some("Ретаргетинг <b>".into());
        let changed = app.update_spend(&marketer, vk, &input).await.unwrap();
        assert_eq!(
            (changed.source.as_str(), changed.amount),
            ("vk", Money::new(950_050, rub)),
            "{n}"
        );
        assert_eq!(
            (changed.created_by.as_deref(), changed.created_at),
            (Some("Мила"), before.created_at),
            "{n}"
        );
        assert_eq!(app.spend_entry(&admin, vk).await.unwrap(), changed, "{n}");
        let r = app
            .channel_report(&marketer, ChannelBy::Source, from, to, None)
            .await
            .unwrap();
        let row = r
            .rows
            .iter()
            .find(|x| x.key.source.as_deref() == Some("vk"))
            .unwrap();
        assert_eq!(row.spend_in(rub), 950_050, "{n}");
        // A wrong change is refused whole, every field named; the entry stays as it was.
        let wrong = SpendInput {
            from: "вчера".into(),
            amount: "0".into(),
            ..input.clone()
        };
        let e = app.update_spend(&marketer, vk, &wrong).await.unwrap_err();
        let AppError::Invalid { fields, .. } = &e else {
            panic!("{n}: {e:?}");
        };
        let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["from", "amount"], "{n}: {fields:?}");
        assert_eq!(app.spend_entry(&admin, vk).await.unwrap(), changed, "{n}");
        let e = app.update_spend(&seller, vk, &input).await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        let e = app
            .update_spend(&marketer, vk + 1000, &input)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        let audit = app.store().audit_for("spend", vk).await.unwrap();
        let update = audit.iter().find(|a| a.action == "spend.update").unwrap();
        assert!(
            update.before.as_deref().unwrap_or("").contains("700000")
                && update.after.as_deref().unwrap_or("").contains("950050"),
            "{n}: {update:?}"
        );

        app.delete_spend(&marketer, vk).await.unwrap();
        let e = app.delete_spend(&marketer, vk).await.unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        let r = app
            .channel_report(&marketer, ChannelBy::Source, from, to, None)
            .await
            .unwrap();
        assert!(
            r.rows.iter().all(|x| x.key.source.as_deref() != Some("vk")),
            "{n}"
        );
        let audit = app.store().audit_for("spend", vk).await.unwrap();
        let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
        assert!(
            actions.contains(&"spend.add") && actions.contains(&"spend.delete"),
            "{n}: {actions:?}"
        );
        let deleted = audit.iter().find(|a| a.action == "spend.delete").unwrap();
        assert!(
            deleted.before.as_deref().unwrap_or("").contains("\"vk\""),
            "{n}"
        );
    }
}

/// A file of spend: Russian headers, semicolons, days written the Russian way, amounts with
/// their currency sign; rows of the same channel and day summed; the same file again replaces
/// what it stored; one wrong row refuses the file with every problem named by its row.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_of_spend_is_stored_whole_or_not_at_all() {
    use voronka_app::{AppError, SpendDefaults};
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let file = "\u{feff}Дата;Кампания;Расход;Валюта\n\
                    01.11.2026;Зима <b>;1 500,00 ₽;RUB\n\
                    01.11.2026;Зима <b>;500;RUB\n\
                    02.11.2026;Зима <b>;2000 руб.;RUB\n\
                    02.11.2026;Лето;10;EUR\n\
                    ;;;\n";
        let defaults = SpendDefaults {
            source: Some("yandex".into()),
            medium: Some("cpc".into()),
            ..Default::default()
        };
        let done = app
            .import_spend(&admin, file.as_bytes(), &defaults)
            .await
            .unwrap();
        assert_eq!((done.rows, done.added, done.replaced), (4, 3, 0), "{n}");
        let day = |d: &str| voronka_app::day_start("d", d).unwrap();
        let all = app
            .spend_entries(&admin, day("2026-11-01"), day("2026-11-03"))
            .await
            .unwrap();
        let mut seen: Vec<(String, String, i64, String)> = all
            .iter()
            .map(|e| {
                (
                    e.campaign.clone().unwrap_or_default(),
                    voronka_app::day_start("d", "2026-11-01")
                        .map(|start| ((e.starts_at - start) / 86_400_000).to_string())
                        .unwrap(),
                    e.amount.minor,
                    e.amount.currency.as_str().to_string(),
                )
            })
            .collect();
        seen.sort();
        assert_eq!(
            seen,
            [
                (
                    "Зима <b>".to_string(),
                    "0".to_string(),
                    200_000,
                    "RUB".to_string()
                ),
                (
                    "Зима <b>".to_string(),
                    "1".to_string(),
                    200_000,
                    "RUB".to_string()
                ),
                (
                    "Лето".to_string(),
                    "1".to_string(),
                    1_000,
                    "EUR".to_string()
                ),
            ],
            "{n}"
        );
        assert!(
            all.iter().all(|e| e.source == "yandex"
                && e.medium.as_deref() == Some("cpc")
                && e.ends_at - e.starts_at == 86_400_000),
            "{n}"
        );
        // The same file again: the same three entries, the earlier ones replaced.
        let again = app
            .import_spend(&admin, file.as_bytes(), &defaults)
            .await
            .unwrap();
        assert_eq!((again.added, again.replaced), (3, 3), "{n}");
        let count = |app: &App| {
            let (app, admin) = (app.clone(), admin.clone());
            async move {
                app.spend_entries(&admin, day("2026-10-01"), day("2026-12-01"))
                    .await
                    .unwrap()
                    .len()
            }
        };
        assert_eq!(count(&app).await, 3, "{n}");

        // Wrong rows: nothing stored, each named.
        let wrong =
            "date,source,amount\n2026-11-05,google,100\n2026-13-01,google,100\n2026-11-06,,много\n";
        let e = app
            .import_spend(&admin, wrong.as_bytes(), &SpendDefaults::default())
            .await
            .unwrap_err();
        let AppError::Invalid { message, fields } = &e else {
            panic!("{n}: {e:?}");
        };
        assert_eq!(message.code, "spend_file_invalid", "{n}");
        let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            named,
            ["row 3: from", "row 3: to", "row 4: source", "row 4: amount"],
            "{n}: {e}"
        );
        assert_eq!(
            count(&app).await,
            3,
            "{n}: nothing of the wrong file stored"
        );
        // Columns it cannot do without.
        let e = app
            .import_spend(&admin, b"campaign,amount\nx,1\n", &SpendDefaults::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid { message, .. } if message.code == "spend_file_columns"),
            "{n}: {e:?}"
        );
        let e = app
            .import_spend(&admin, b"date,source,amount\n", &SpendDefaults::default())
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid { message, .. } if message.code == "spend_file_empty"),
            "{n}: {e:?}"
        );
        // Those who may not enter spend import none.
        let seller = Actor::user(
            app.add_user("ivan@mail.ru", "Иван", "password-1", Role::Salesperson)
                .await
                .unwrap(),
        );
        let e = app
            .import_spend(&seller, file.as_bytes(), &defaults)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
    }
}

/// A contact corrected by hand: every wrong field named at once and nothing changed; then the
/// name, position, company, country and language as typed (the name's case tidied), a phone and
/// an email added; the leads are found by the new name and not the old; the added phone brings a
/// later request of the person to the same contact; the audit log keeps what it said; who may.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_is_corrected_by_hand() {
    use voronka_app::{AppError, ContactEdit};
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let o = app
            .capture(req(&[
                ("name", "Иван Петроф"),
                ("phone", "+79165580001"),
                ("company", "Ромашка"),
                ("product", "Склад"),
            ]))
            .await
            .unwrap();
        let (lead, contact) = (o.lead_id.unwrap(), o.contact_id.unwrap());
        assert_eq!(search_ids(&app, &admin, "петроф").await, vec![lead], "{n}");

        let e = app
            .edit_contact(
                &admin,
                contact,
                &ContactEdit {
                    name: "  ".into(),
                    country: Some("XX".into()),
                    language: Some("zz".into()),
                    add_phone: Some("12".into()),
                    add_email: Some("ivan@".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        let AppError::Invalid { fields, .. } = &e else {
            panic!("{n}: {e:?}");
        };
        let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            named,
            ["name", "country", "language", "add_phone", "add_email"],
            "{n}: {fields:?}"
        );
        let d = app.contact_detail(&admin, contact).await.unwrap();
        assert_eq!(d.contact.full_name, "Иван Петроф", "{n}: nothing changed");

        let d = app
            .edit_contact(
                &admin,
                contact,
                &ContactEdit {
                    name: "иван петров".into(),
                    position: Some("Директор <b>".into()),
                    company: Some("ООО Лютик".into()),
                    country: Some("ru".into()),
                    language: Some("RU".into()),
                    add_phone: Some("8 916 558-00-02".into()),
                    add_email: Some("Ivan@Lutik.RU".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let c = &d.contact;
        assert_eq!(
            (
                c.full_name.as_str(),
                c.position.as_deref(),
                c.country.as_deref(),
                c.language.as_deref()
            ),
            ("Иван Петров", Some("Директор <b>"), Some("RU"), Some("ru")),
            "{n}"
        );
        assert_eq!(
            d.account.as_ref().map(|a| a.name.as_str()),
            Some("ООО Лютик"),
            "{n}"
        );
        let phones: Vec<&str> = c.phones.iter().filter_map(|p| p.e164.as_deref()).collect();
        assert_eq!(phones, ["+79165580001", "+79165580002"], "{n}");
        assert!(
            c.emails.iter().any(|e| e.normalized == "Ivan@lutik.ru"),
            "{n}: {:?}",
            c.emails
        );
        // Found by what it says now, not by the old name or company.
        assert_eq!(search_ids(&app, &admin, "петров").await, vec![lead], "{n}");
        assert_eq!(search_ids(&app, &admin, "лютик").await, vec![lead], "{n}");
        assert_eq!(
            search_ids(&app, &admin, "79165580002").await,
            vec![lead],
            "{n}"
        );
        assert!(search_ids(&app, &admin, "петроф").await.is_empty(), "{n}");
        assert!(search_ids(&app, &admin, "ромашка").await.is_empty(), "{n}");
        // A wrong phone removed: the other stays; the last ways to reach the person stay.
        let keep = ContactEdit {
            name: "Иван Петров".into(),
            company: Some("ООО Лютик".into()),
            ..Default::default()
        };
        let d = app
            .edit_contact(
                &admin,
                contact,
                &ContactEdit {
                    remove_phones: vec!["+79165580001".into()],
                    ..keep.clone()
                },
            )
            .await
            .unwrap();
        let phones: Vec<&str> = d
            .contact
            .phones
            .iter()
            .filter_map(|p| p.e164.as_deref())
            .collect();
        assert_eq!(phones, ["+79165580002"], "{n}");
        assert!(
            search_ids(&app, &admin, "79165580001").await.is_empty(),
            "{n}"
        );
        let e = app
            .edit_contact(
                &admin,
                contact,
                &ContactEdit {
                    remove_phones: vec!["+79165580002".into()],
                    remove_emails: vec!["Ivan@lutik.ru".into()],
                    ..keep.clone()
                },
            )
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("at least one phone, email or profile"),
            "{n}: {e}"
        );
        let d = app.contact_detail(&admin, contact).await.unwrap();
        assert_eq!(
            (d.contact.phones.len(), d.contact.emails.len()),
            (1, 1),
            "{n}: nothing removed"
        );
        // The person asks again from the added phone: the same contact.
        let again = app
            .capture(req(&[
                ("name", "Иван Петров"),
                ("phone", "+7 916 558-00-02"),
                ("product", "Доставка"),
            ]))
            .await
            .unwrap();
        assert_eq!(again.contact_id, Some(contact), "{n}");
        let audit = app.audit_for(&admin, "contact", contact).await.unwrap();
        let entry = audit
            .iter()
            .find(|a| a.action == "contact.update")
            .unwrap_or_else(|| panic!("{n}: {audit:?}"));
        assert!(
            entry
                .before
                .as_deref()
                .unwrap_or("")
                .contains("Иван Петроф")
                && entry
                    .after
                    .as_deref()
                    .unwrap_or("")
                    .contains("+79165580002"),
            "{n}: {entry:?}"
        );

        // A customer named after the person (they bought without a company) follows the name.
        let private = app
            .capture(req(&[
                ("name", "Ольга Опечаткина"),
                ("phone", "+79165580009"),
            ]))
            .await
            .unwrap();
        let (_, customer, _) = app
            .convert(
                &admin,
                private.lead_id.unwrap(),
                ConvertInput {
                    amount: Money::new(10_000, Currency::parse("RUB").unwrap()),
                    title: None,
                },
            )
            .await
            .unwrap();
        app.edit_contact(
            &admin,
            private.contact_id.unwrap(),
            &ContactEdit {
                name: "Ольга Опечаткина-Верная".into(),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let c = app.customer_detail(&admin, customer).await.unwrap();
        assert_eq!(c.customer.name, "Ольга Опечаткина-Верная", "{n}");

        // Who may: a viewer not; a salesperson only a contact of their own leads.
        let viewer = Actor::user(
            app.add_user("view@mail.ru", "View", "password-1", Role::Viewer)
                .await
                .unwrap(),
        );
        let seller = Actor::user(
            app.add_user("sell@mail.ru", "Sell", "password-1", Role::Salesperson)
                .await
                .unwrap(),
        );
        let edit = ContactEdit {
            name: "Кто-то Другой".into(),
            ..Default::default()
        };
        let e = app.edit_contact(&viewer, contact, &edit).await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        let e = app.edit_contact(&seller, contact, &edit).await.unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        // A contact merged into another is not corrected: the other is the person now.
        let twin = app
            .capture(req(&[
                ("name", "Иван Двойников"),
                ("phone", "+79165580077"),
            ]))
            .await
            .unwrap();
        app.merge_leads(&admin, lead, twin.lead_id.unwrap(), &[])
            .await
            .unwrap();
        let e = app
            .edit_contact(&admin, twin.contact_id.unwrap(), &edit)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Conflict(_)) && e.to_string().contains("merged into another"),
            "{n}: {e:?}"
        );
        // Not once the person's data is erased.
        app.erase_contact(&admin, contact, "по просьбе")
            .await
            .unwrap();
        let e = app.edit_contact(&admin, contact, &edit).await.unwrap_err();
        assert!(matches!(e, AppError::Conflict(_)), "{n}: {e:?}");
    }
}

/// What a lead asks for and may be worth, corrected: both wrong at once refused with both named;
/// then set (the search finds the lead by its new product, not the old), then the value cleared;
/// the audit log keeps each change; a salesperson may not change another's lead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leads_request_is_corrected() {
    use voronka_app::{AppError, RequestEdit};
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let o = app
            .capture(req(&[
                ("name", "Сергей Запросов"),
                ("phone", "+79165590001"),
                ("product", "Стеллажи"),
            ]))
            .await
            .unwrap();
        let lead = o.lead_id.unwrap();
        let e = app
            .edit_request(
                &admin,
                lead,
                &RequestEdit {
                    product: Some("П".repeat(201)),
                    value: Some("много".into()),
                    currency: None,
                },
            )
            .await
            .unwrap_err();
        let AppError::Invalid { fields, .. } = &e else {
            panic!("{n}: {e:?}");
        };
        let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["product", "value"], "{n}");
        let l = app
            .edit_request(
                &admin,
                lead,
                &RequestEdit {
                    product: Some("  Складские стеллажи ".into()),
                    value: Some("150 000,50".into()),
                    currency: Some("eur".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(l.product.as_deref(), Some("Складские стеллажи"), "{n}");
        assert_eq!(
            l.value,
            Some(Money::new(15_000_050, Currency::parse("EUR").unwrap())),
            "{n}"
        );
        assert_eq!(
            search_ids(&app, &admin, "складские").await,
            vec![lead],
            "{n}"
        );
        assert_eq!(
            search_ids(&app, &admin, "запросов").await,
            vec![lead],
            "{n}: the name stays findable"
        );
        let l = app
            .edit_request(
                &admin,
                lead,
                &RequestEdit {
                    product: Some("Полки".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (l.product.as_deref(), l.value),
            (Some("Полки"), None),
            "{n}"
        );
        assert!(
            search_ids(&app, &admin, "складские").await.is_empty(),
            "{n}"
        );
        let audit = app.audit_for(&admin, "lead", lead).await.unwrap();
        assert_eq!(
            audit.iter().filter(|a| a.action == "request").count(),
            2,
            "{n}"
        );
        // The card's list: newest first, the product and value only.
        let changes = app.request_changes(&admin, lead).await.unwrap();
        let fields: Vec<Vec<&str>> = changes
            .iter()
            .map(|c| c.fields.iter().map(|f| f.field.as_str()).collect())
            .collect();
        assert_eq!(
            fields,
            vec![vec!["product", "value"], vec!["product", "value"]],
            "{n}"
        );
        assert_eq!(
            (
                changes[0].fields[0].to.as_deref(),
                changes[0].fields[1].to.as_deref()
            ),
            (Some("Полки"), None),
            "{n}"
        );
        let seller = Actor::user(
            app.add_user("req@mail.ru", "Req", "password-1", Role::Salesperson)
                .await
                .unwrap(),
        );
        let e = app
            .edit_request(&seller, lead, &RequestEdit::default())
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::NotFound(_) | AppError::Forbidden(_)),
            "{n}: {e:?}"
        );
        let e = app.request_changes(&seller, lead).await.unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
    }
}

/// A deal corrected: its title and amount (in another currency too) as typed, the customer's
/// revenue follows, what is wrong is named and changes nothing, the audit log keeps both; a
/// viewer may not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deal_is_corrected() {
    use voronka_app::{AppError, DealEdit};
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let rub = Currency::parse("RUB").unwrap();
        let o = app
            .capture(req(&[("name", "Дина Сделкина"), ("phone", "+79165600001")]))
            .await
            .unwrap();
        let (_, customer, deal) = app
            .convert(
                &admin,
                o.lead_id.unwrap(),
                ConvertInput {
                    amount: Money::new(1_000_000, rub),
                    title: Some("Стеллажи".into()),
                },
            )
            .await
            .unwrap();
        let e = app
            .edit_deal(
                &admin,
                deal,
                &DealEdit {
                    title: " ".into(),
                    amount: "-5".into(),
                    currency: None,
                },
            )
            .await
            .unwrap_err();
        let AppError::Invalid { fields, .. } = &e else {
            panic!("{n}: {e:?}");
        };
        let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["title", "amount"], "{n}");
        assert_eq!(
            app.deal(&admin, deal).await.unwrap().amount,
            Money::new(1_000_000, rub),
            "{n}"
        );
        let d = app
            .edit_deal(
                &admin,
                deal,
                &DealEdit {
                    title: "Стеллажи и монтаж".into(),
                    amount: "12 500,50".into(),
                    currency: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (d.title.as_str(), d.amount),
            ("Стеллажи и монтаж", Money::new(1_250_050, rub)),
            "{n}"
        );
        assert_eq!(app.deal(&admin, deal).await.unwrap(), d, "{n}");
        let c = app.customer_detail(&admin, customer).await.unwrap();
        assert_eq!(c.deals[0].amount, Money::new(1_250_050, rub), "{n}");
        let eur = app
            .edit_deal(
                &admin,
                deal,
                &DealEdit {
                    title: "Стеллажи и монтаж".into(),
                    amount: "100".into(),
                    currency: Some("eur".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            eur.amount,
            Money::new(10_000, Currency::parse("EUR").unwrap()),
            "{n}"
        );
        let audit = app.audit_for(&admin, "deal", deal).await.unwrap();
        assert_eq!(
            audit.iter().filter(|a| a.action == "deal.update").count(),
            2,
            "{n}"
        );
        let viewer = Actor::user(
            app.add_user("deal.view@mail.ru", "View", "password-1", Role::Viewer)
                .await
                .unwrap(),
        );
        let e = app
            .edit_deal(
                &viewer,
                deal,
                &DealEdit {
                    title: "x".into(),
                    amount: "1".into(),
                    currency: None,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
    }
}

/// Audit entries of customer merges written before merges named customers by id only lose the
/// removed customer's name when the database is migrated, and keep the ids; other entries keep
/// what they say.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_customer_merge_entries_lose_the_customers_name() {
    use sqlx::Connection;
    const OLD: &str = r#"{"customer":3,"name":"Иван Петров"}"#;
    const OTHER: &str = r#"{"name":"Иван Петров"}"#;
    let statements = [
        format!(
            "INSERT INTO audit_log (actor, action, entity, entity_id, before, after, at) \
             VALUES ('test', 'customer.merge', 'customer', 7, '{OLD}', '{{\"into\":7}}', 1)"
        ),
        format!(
            "INSERT INTO audit_log (actor, action, entity, entity_id, before, after, at) \
             VALUES ('test', 'contact.update', 'contact', 5, '{OTHER}', NULL, 2)"
        ),
        // As a database migrated before this migration existed.
        "DELETE FROM _sqlx_migrations WHERE description = 'customer merge audit names'".into(),
    ];
    for db in TestDb::both().await {
        let n = db.name;
        drop(open(&db).await);
        // Each statement on a connection of the backend's own, one row each.
        macro_rules! run {
            ($conn:ty) => {{
                let mut c = <$conn>::connect(&db.url).await.unwrap();
                for s in &statements {
                    let done = sqlx::query(s).execute(&mut c).await.unwrap();
                    assert_eq!(done.rows_affected(), 1, "{n}: {s}");
                }
            }};
        }
        if n == "sqlite" {
            run!(sqlx::SqliteConnection);
        } else {
            run!(sqlx::PgConnection);
        }
        let app = open(&db).await;
        let admin = Actor::system("test");
        let before = |entity: &'static str, id: i64| {
            let app = app.clone();
            let admin = admin.clone();
            async move {
                let entries = app.audit_for(&admin, entity, id).await.unwrap();
                assert_eq!(entries.len(), 1, "{entity} {id}");
                let text = entries[0].before.clone().unwrap();
                serde_json::from_str::<serde_json::Value>(&text).unwrap()
            }
        };
        assert_eq!(
            before("customer", 7).await,
            serde_json::json!({"customer": 3}),
            "{n}"
        );
        assert_eq!(
            before("contact", 5).await,
            serde_json::from_str::<serde_json::Value>(OTHER).unwrap(),
            "{n}"
        );
    }
}

/// A contact's and a deal's changes, newest first, field by field, to those who see them; an
/// erasure leaves the entries, without their details.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_records_changes_read_field_by_field() {
    use voronka_app::{AppError, ContactEdit, DealEdit};
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let o = app
            .capture(req(&[
                ("name", "Олег Историев"),
                ("phone", "+79165592001"),
                ("company", "Ромашка"),
            ]))
            .await
            .unwrap();
        let (lead, contact) = (o.lead_id.unwrap(), o.contact_id.unwrap());
        assert!(
            app.contact_changes(&admin, contact)
                .await
                .unwrap()
                .is_empty(),
            "{n}"
        );
        let edit = ContactEdit {
            name: "Олег Историев".into(),
            company: Some("Лютик".into()),
            ..Default::default()
        };
        app.edit_contact(&admin, contact, &edit).await.unwrap();
        app.edit_contact(
            &admin,
            contact,
            &ContactEdit {
                position: Some("Директор".into()),
                add_email: Some("oleg@lyutik.ru".into()),
                ..edit
            },
        )
        .await
        .unwrap();
        // The same company in another legal form is the same account: a save that changes
        // nothing is not listed.
        let d = app
            .edit_contact(
                &admin,
                contact,
                &ContactEdit {
                    name: "Олег Историев".into(),
                    company: Some("ООО «Лютик»".into()),
                    position: Some("Директор".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(d.account.map(|a| a.name).as_deref(), Some("Лютик"), "{n}");
        let changes = app.contact_changes(&admin, contact).await.unwrap();
        let read: Vec<Vec<voronka_app::FieldChange>> =
            changes.iter().map(|c| c.fields.clone()).collect();
        let f = |field: &str, from: Option<&str>, to: &str| voronka_app::FieldChange {
            field: field.into(),
            from: from.map(str::to_string),
            to: Some(to.into()),
        };
        assert_eq!(
            read,
            vec![
                vec![
                    f("position", None, "Директор"),
                    f("added_emails", None, "oleg@lyutik.ru"),
                ],
                vec![f("company", Some("Ромашка"), "Лютик")],
            ],
            "{n}: newest first"
        );
        assert!(
            changes
                .iter()
                .all(|c| c.action == "contact.update" && c.actor == "test" && !c.erased),
            "{n}: {changes:?}"
        );

        let (_, _, deal) = app
            .convert(
                &admin,
                lead,
                ConvertInput {
                    amount: Money::new(500_000, Currency::parse("RUB").unwrap()),
                    title: Some("Полки".into()),
                },
            )
            .await
            .unwrap();
        app.edit_deal(
            &admin,
            deal,
            &DealEdit {
                title: "Полки".into(),
                amount: "7 500".into(),
                currency: None,
            },
        )
        .await
        .unwrap();
        let changes = app.deal_changes(&admin, deal).await.unwrap();
        assert_eq!(changes.len(), 1, "{n}");
        assert_eq!(
            changes[0]
                .fields
                .iter()
                .map(|f| (f.field.as_str(), f.from.clone(), f.to.clone()))
                .collect::<Vec<_>>(),
            vec![(
                "amount",
                Some(Money::new(500_000, Currency::parse("RUB").unwrap()).to_string()),
                Some(Money::new(750_000, Currency::parse("RUB").unwrap()).to_string())
            )],
            "{n}"
        );

        // A salesperson with no lead of this person sees neither.
        let seller = Actor::user(
            app.add_user("hist@mail.ru", "Hist", "password-1", Role::Salesperson)
                .await
                .unwrap(),
        );
        let e = app.contact_changes(&seller, contact).await.unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        let e = app.deal_changes(&seller, deal).await.unwrap_err();
        assert!(
            matches!(e, AppError::NotFound(_) | AppError::Forbidden(_)),
            "{n}: {e:?}"
        );

        // Erased: the entries stay, saying nothing of the person.
        app.erase_contact(&admin, contact, "по просьбе")
            .await
            .unwrap();
        let changes = app.contact_changes(&admin, contact).await.unwrap();
        // (the save that changed nothing among them: its details went too, so it shows)
        assert_eq!(changes.len(), 4, "{n}: {changes:?}");
        assert_eq!(changes[0].action, "contact.erase", "{n}");
        assert!(
            changes[1..].iter().all(|c| c.erased && c.fields.is_empty()),
            "{n}: {changes:?}"
        );
    }
}

/// A phone written without its country code that did not read in the workspace's region reads
/// again when the contact's country is corrected: it is kept as the number it now is (found by
/// it, scored as a valid phone), and the audit log names the swap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_country_reads_the_contacts_phones_again() {
    use voronka_app::ContactEdit;
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let o = app
            .capture(req(&[
                ("name", "Joost de Vries"),
                ("phone", "020 794 3111"),
                ("email", "joost@devries.nl"),
            ]))
            .await
            .unwrap();
        let contact = o.contact_id.unwrap();
        let phones = |d: &voronka_store::ContactDetail| {
            d.contact
                .phones
                .iter()
                .map(|p| (p.raw.clone(), p.e164.clone(), p.valid))
                .collect::<Vec<_>>()
        };
        let d = app.contact_detail(&admin, contact).await.unwrap();
        assert!(
            phones(&d).iter().all(|(_, _, valid)| !valid),
            "{n}: a Dutch number read in Russia: {:?}",
            phones(&d)
        );
        let edit = ContactEdit {
            name: "Joost de Vries".into(),
            country: Some("NL".into()),
            ..Default::default()
        };
        let d = app.edit_contact(&admin, contact, &edit).await.unwrap();
        assert_eq!(
            phones(&d),
            vec![("020 794 3111".into(), Some("+31207943111".into()), true)],
            "{n}"
        );
        // Unchanged country: nothing read again, nothing lost.
        let d = app.edit_contact(&admin, contact, &edit).await.unwrap();
        assert_eq!(phones(&d).len(), 1, "{n}");
        let changes = app.contact_changes(&admin, contact).await.unwrap();
        let first = changes.last().unwrap();
        assert!(
            first
                .fields
                .iter()
                .any(|f| f.field == "added_phones" && f.to.as_deref() == Some("+31207943111"))
                && first
                    .fields
                    .iter()
                    .any(|f| f.field == "removed_phones" && f.from.is_some() && f.to.is_none()),
            "{n}: {first:?}"
        );
        let (found, _) = app
            .list_leads(
                &admin,
                LeadQuery {
                    text: Some("+31207943111".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            found.iter().map(|l| l.lead.id).collect::<Vec<_>>(),
            vec![o.lead_id.unwrap()],
            "{n}"
        );
    }
}

/// One correction undone from the record's changes: the fields it changed read as before it while
/// later changes of other fields stay; the phones it added go and those it removed come back; a
/// deal's amount and a lead's product likewise; every restore is itself a listed change; an
/// unknown change is not found, and a reader may not restore.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_is_restored_from_the_changes() {
    use voronka_app::{AppError, ContactEdit, DealEdit, RequestEdit};
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let o = app
            .capture(req(&[
                ("name", "Пётр Возвратов"),
                ("phone", "+79165593001"),
                ("company", "Ромашка"),
                ("product", "Полки"),
            ]))
            .await
            .unwrap();
        let (lead, contact) = (o.lead_id.unwrap(), o.contact_id.unwrap());
        // A wrong correction: another company, the phone swapped for another.
        let wrong = ContactEdit {
            name: "Пётр Возвратов".into(),
            company: Some("Лютик".into()),
            add_phone: Some("+79165593002".into()),
            remove_phones: vec!["+79165593001".into()],
            ..Default::default()
        };
        app.edit_contact(&admin, contact, &wrong).await.unwrap();
        // Then a right one of another field.
        app.edit_contact(
            &admin,
            contact,
            &ContactEdit {
                position: Some("Снабженец".into()),
                add_phone: None,
                remove_phones: vec![],
                ..wrong
            },
        )
        .await
        .unwrap();
        let changes = app.contact_changes(&admin, contact).await.unwrap();
        let d = app
            .restore_contact_change(&admin, contact, changes[1].id)
            .await
            .unwrap();
        let phones: Vec<_> = d
            .contact
            .phones
            .iter()
            .filter_map(|p| p.e164.clone())
            .collect();
        assert_eq!(
            (
                d.account.as_ref().map(|a| a.name.as_str()),
                d.contact.position.as_deref(),
                phones
            ),
            (
                Some("Ромашка"),
                Some("Снабженец"),
                vec!["+79165593001".to_string()]
            ),
            "{n}"
        );
        assert_eq!(
            app.contact_changes(&admin, contact).await.unwrap().len(),
            3,
            "{n}"
        );

        // The request.
        app.edit_request(
            &admin,
            lead,
            &RequestEdit {
                product: Some("Стеллажи".into()),
                value: Some("1000".into()),
                currency: Some("EUR".into()),
            },
        )
        .await
        .unwrap();
        let change = app.request_changes(&admin, lead).await.unwrap()[0].id;
        let l = app
            .restore_request_change(&admin, lead, change)
            .await
            .unwrap();
        assert_eq!(
            (l.product.as_deref(), l.value),
            (Some("Полки"), None),
            "{n}"
        );

        // The deal.
        let (_, _, deal) = app
            .convert(
                &admin,
                lead,
                ConvertInput {
                    amount: Money::new(100_000, Currency::parse("RUB").unwrap()),
                    title: Some("Полки".into()),
                },
            )
            .await
            .unwrap();
        app.edit_deal(
            &admin,
            deal,
            &DealEdit {
                title: "Полки".into(),
                amount: "99".into(),
                currency: Some("USD".into()),
            },
        )
        .await
        .unwrap();
        app.edit_deal(
            &admin,
            deal,
            &DealEdit {
                title: "Полки и монтаж".into(),
                amount: "99".into(),
                currency: Some("USD".into()),
            },
        )
        .await
        .unwrap();
        let changes = app.deal_changes(&admin, deal).await.unwrap();
        let d = app
            .restore_deal_change(&admin, deal, changes[1].id)
            .await
            .unwrap();
        assert_eq!(
            (d.title.as_str(), d.amount),
            (
                "Полки и монтаж",
                Money::new(100_000, Currency::parse("RUB").unwrap())
            ),
            "{n}: the amount as before, the later title stays"
        );

        let e = app
            .restore_deal_change(&admin, deal, 999_999)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        let e = app
            .restore_contact_change(&admin, contact, changes[0].id)
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::NotFound(_)),
            "{n}: a deal's change is not the contact's: {e:?}"
        );
        let viewer = Actor::user(
            app.add_user("rest@mail.ru", "Rest", "password-1", Role::Viewer)
                .await
                .unwrap(),
        );
        let e = app
            .restore_deal_change(&viewer, deal, changes[0].id)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
    }
}

/// A company corrected by hand: its people's leads are found by the new name and no longer by
/// the old, the customer named after it follows, a name another company goes by is refused (in
/// another legal form too), a domain must be one; the change is listed and restored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_company_is_corrected_by_hand() {
    use voronka_app::{AccountEdit, AppError};
    for db in TestDb::both().await {
        let n = db.name;
        let app = open(&db).await;
        let admin = Actor::system("test");
        let o = app
            .capture(req(&[
                ("name", "Ирина Компанейская"),
                ("phone", "+79165594001"),
                ("company", "Ромашкаа"),
            ]))
            .await
            .unwrap();
        let other = app
            .capture(req(&[
                ("name", "Олег Другой"),
                ("phone", "+79165594002"),
                ("company", "Лютик"),
            ]))
            .await
            .unwrap();
        let lead = o.lead_id.unwrap();
        let contact = app
            .contact_detail(&admin, o.contact_id.unwrap())
            .await
            .unwrap();
        let account = contact.contact.account_id.unwrap();
        let (_, _, _) = app
            .convert(
                &admin,
                lead,
                ConvertInput {
                    amount: Money::new(100_000, Currency::parse("RUB").unwrap()),
                    title: None,
                },
            )
            .await
            .unwrap();
        assert_eq!(
            search_ids(&app, &admin, "ромашкаа").await,
            vec![lead],
            "{n}"
        );

        let e = app
            .edit_account(
                &admin,
                account,
                &AccountEdit {
                    name: " ".into(),
                    domain: Some("not a domain".into()),
                },
            )
            .await
            .unwrap_err();
        let AppError::Invalid { fields, .. } = &e else {
            panic!("{n}: {e:?}");
        };
        let named: Vec<&str> = fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(named, ["name", "domain"], "{n}");
        let e = app
            .edit_account(
                &admin,
                account,
                &AccountEdit {
                    name: "ООО «Лютик»".into(),
                    domain: None,
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, AppError::Conflict(_)),
            "{n}: another company's name: {e:?}"
        );

        let a = app
            .edit_account(
                &admin,
                account,
                &AccountEdit {
                    name: "Ромашка".into(),
                    domain: Some("https://www.Romashka.ru/".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (a.name.as_str(), a.domain.as_deref()),
            ("Ромашка", Some("romashka.ru")),
            "{n}"
        );
        assert_eq!(search_ids(&app, &admin, "ромашка").await, vec![lead], "{n}");
        assert!(
            search_ids(&app, &admin, "ромашкаа").await.is_empty(),
            "{n}: the old name is not found"
        );
        let (_, _, customers) = app.account_page(&admin, account).await.unwrap();
        assert_eq!(
            customers
                .iter()
                .map(|(c, _)| c.name.as_str())
                .collect::<Vec<_>>(),
            vec!["Ромашка"],
            "{n}"
        );
        let theirs = app
            .contact_detail(&admin, other.contact_id.unwrap())
            .await
            .unwrap();
        assert_eq!(
            theirs.account.map(|a| a.name).as_deref(),
            Some("Лютик"),
            "{n}: another company stays as it is"
        );

        let changes = app.account_changes(&admin, account).await.unwrap();
        assert_eq!(changes.len(), 1, "{n}");
        let fields: Vec<&str> = changes[0].fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "domain"], "{n}");
        let a = app
            .restore_account_change(&admin, account, changes[0].id)
            .await
            .unwrap();
        assert_eq!((a.name.as_str(), a.domain), ("Ромашкаа", None), "{n}");
        assert_eq!(
            search_ids(&app, &admin, "ромашкаа").await,
            vec![lead],
            "{n}"
        );

        let viewer = Actor::user(
            app.add_user("acc@mail.ru", "Acc", "password-1", Role::Viewer)
                .await
                .unwrap(),
        );
        let e = app
            .edit_account(
                &viewer,
                account,
                &AccountEdit {
                    name: "X".into(),
                    domain: None,
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
    }
}
