//! Email notifications and the farewell survey against both backends, sent to a real SMTP
//! server (aiosmtpd): "new lead assigned" to the owner, "SLA breached" once per step (the
//! owner, then the team's sales managers), the farewell with its survey link, and no email at
//! all (and no failing job) without SMTP settings.

mod common;
mod smtp;

use common::TestDb;
use smtp::SmtpSink;
use voronka_app::{Actor, App, CaptureRequest, RefuseInput, Settings, SmtpSecurity, SmtpSettings};
use voronka_core::intake::Submission;
use voronka_core::{Channel, Role, User};

const MIN: i64 = 60_000;

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

struct World {
    app: App,
    admin: Actor,
    anna: User,
    manager: User,
}

/// One team (Москва): Анна sells, Мария manages. Every lead goes to Анна; the SLA counts
/// every minute, so the timers do not depend on when the test runs.
async fn world(db: &TestDb) -> World {
    let app = App::open(&db.url, Settings::default())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name));
    let admin = Actor::system("test");
    let moscow = app.store().create_team("Москва").await.unwrap();
    let anna = app
        .add_user(
            "anna@example.ru",
            "Анна Иванова",
            "password-1",
            Role::Salesperson,
        )
        .await
        .unwrap();
    let manager = app
        .add_user(
            "maria@example.ru",
            "Мария Петрова",
            "password-1",
            Role::SalesManager,
        )
        .await
        .unwrap();
    for (u, role) in [(&anna, Role::Salesperson), (&manager, Role::SalesManager)] {
        app.store()
            .update_user(u.id, role, true, Some(moscow))
            .await
            .unwrap();
    }
    let rules = App::parse_routing_rules(
        r#"
[[rules]]
name = "All to Анна"
people = ["anna@example.ru"]
"#,
        true,
    )
    .unwrap();
    app.set_routing_rules(&admin, rules).await.unwrap();
    let sla = App::parse_sla_settings(
        r#"
[default]
hot = "5m"
warm = "1h"
cold = "1d"
hours = "mon-sun 00:00-24:00"
steps = [{ action = "notify_owner" }, { after = "30m", action = "escalate_team_lead" }]
"#,
        true,
    )
    .unwrap();
    app.set_sla_settings(&admin, sla).await.unwrap();
    World {
        app,
        admin,
        anna,
        manager,
    }
}

fn smtp_to(sink: &SmtpSink) -> SmtpSettings {
    SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port,
        from: "Воронка <sales@example.com>".into(),
        username: None,
        password: None,
        security: SmtpSecurity::None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_and_sla_steps_are_emailed_once_each() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let sink = SmtpSink::start();
        app.set_smtp_settings(&w.admin, Some(smtp_to(&sink)))
            .await
            .unwrap();
        let now = voronka_app::now_ms();
        let lead = app
            .capture(req(&[
                ("name", "Олег Смирнов"),
                ("phone", "+79161112233"),
                ("temperature", "hot"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        // The assignment email goes out with the jobs due now.
        app.run_due_jobs_at("w1", now + MIN).await.unwrap();
        let m = sink.wait_for(1);
        assert_eq!(m.len(), 1, "{n}: {m:?}");
        assert_eq!(m[0].rcpt_to, vec!["anna@example.ru"], "{n}");
        assert_eq!(m[0].to, "Анна Иванова <anna@example.ru>", "{n}");
        assert_eq!(m[0].from, "Воронка <sales@example.com>", "{n}");
        assert_eq!(
            m[0].subject,
            format!("New lead #{lead} assigned to you"),
            "{n}"
        );
        assert!(m[0].body.contains("Hello, Анна Иванова."), "{n}: {m:?}");
        assert!(m[0].body.contains("All to Анна"), "{n}: {m:?}");
        assert_eq!(m[0].content_type, "text/plain", "{n}");
        assert!(m[0].raw_to.is_ascii(), "{n}: {}", m[0].raw_to);
        assert!(
            m[0].raw_to.to_lowercase().contains("=?utf-8?"),
            "{n}: {}",
            m[0].raw_to
        );
        // Breach: the owner hears of it once, however many workers run the timer.
        app.run_due_jobs_at("w1", now + 6 * MIN).await.unwrap();
        app.run_due_jobs_at("w2", now + 6 * MIN).await.unwrap();
        app.run_due_jobs_at("w1", now + 7 * MIN).await.unwrap();
        let m = sink.wait_for(2);
        assert_eq!(m.len(), 2, "{n}: {m:?}");
        assert_eq!(m[1].rcpt_to, vec!["anna@example.ru"], "{n}");
        assert_eq!(
            m[1].subject,
            format!("SLA breached: lead #{lead} has had no response"),
            "{n}"
        );
        // Escalation: the team's sales manager, once.
        app.run_due_jobs_at("w2", now + 40 * MIN).await.unwrap();
        app.run_due_jobs_at("w1", now + 41 * MIN).await.unwrap();
        app.run_due_jobs_at("w1", now + 42 * MIN).await.unwrap();
        let m = sink.wait_for(3);
        assert_eq!(m.len(), 3, "{n}: {m:?}");
        assert_eq!(m[2].rcpt_to, vec![w.manager.email.clone()], "{n}");
        assert_eq!(m[2].to, "Мария Петрова <maria@example.ru>", "{n}");
        assert_eq!(
            m[2].subject,
            format!("Escalation: lead #{lead} has had no response"),
            "{n}"
        );
        assert!(m[2].body.contains("Анна Иванова"), "{n}: {m:?}");
        assert!(
            !app.store().has_pending_job("email", None).await.unwrap(),
            "{n}: every email was sent"
        );
        // Nothing more arrives.
        app.run_due_jobs_at("w1", now + 300 * MIN).await.unwrap();
        std::thread::sleep(std::time::Duration::from_millis(200));
        assert_eq!(sink.messages().len(), 3, "{n}");
        // Reassigned by hand: the new owner is emailed.
        app.reassign(
            &w.admin,
            lead,
            &voronka_app::ReassignTo::Person {
                owner_id: Some(w.manager.id),
            },
            Some("отпуск"),
        )
        .await
        .unwrap();
        app.run_due_jobs_at("w1", voronka_app::now_ms() + MIN)
            .await
            .unwrap();
        let m = sink.wait_for(4);
        assert_eq!(m.len(), 4, "{n}: {m:?}");
        assert_eq!(m[3].rcpt_to, vec![w.manager.email.clone()], "{n}");
        assert_eq!(
            m[3].subject,
            format!("New lead #{lead} assigned to you"),
            "{n}"
        );
        assert!(m[3].body.contains("отпуск"), "{n}: {m:?}");
        // The API view of the settings hides the password.
        let mut with_login = smtp_to(&sink);
        with_login.username = Some("robot".into());
        with_login.password = Some("секрет".into());
        app.set_smtp_settings(&w.admin, Some(with_login.clone()))
            .await
            .unwrap();
        let v = app.smtp_settings().await.unwrap().unwrap();
        assert!(v.password_set, "{n}");
        assert!(
            !serde_json::to_string(&v).unwrap().contains("секрет"),
            "{n}"
        );
        // Saved again without a password: the stored one stays.
        with_login.password = None;
        app.set_smtp_settings(&w.admin, Some(with_login))
            .await
            .unwrap();
        assert!(
            app.smtp_settings().await.unwrap().unwrap().password_set,
            "{n}"
        );
        // Bad settings are refused; only administrators change them.
        let mut bad = smtp_to(&sink);
        bad.from = "not an address".into();
        assert!(
            app.set_smtp_settings(&w.admin, Some(bad)).await.is_err(),
            "{n}"
        );
        assert!(
            app.set_smtp_settings(&Actor::user(w.anna.clone()), None)
                .await
                .is_err(),
            "{n}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_nothing_is_sent_and_no_job_fails() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let now = voronka_app::now_ms();
        let lead = app
            .capture(req(&[
                ("name", "Без Почты"),
                ("phone", "+79161112255"),
                ("email", "client@example.ru"),
                ("temperature", "hot"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        assert!(
            !app.store().has_pending_job("email", None).await.unwrap(),
            "{n}: no SMTP, no email job"
        );
        app.run_due_jobs_at("w1", now + 6 * MIN).await.unwrap();
        app.run_due_jobs_at("w1", now + 40 * MIN).await.unwrap();
        // The steps ran (in-app notifications) and left nothing behind to retry.
        assert_eq!(
            app.store().sla_events_for(lead).await.unwrap().len(),
            2,
            "{n}"
        );
        assert_eq!(app.store().pending_jobs().await.unwrap(), 0, "{n}");
        // A farewell without SMTP: the lead is refused, nothing is sent, no survey is made.
        let reason = app.refusal_reasons().await.unwrap()[0].clone();
        let (l, sent) = app
            .refuse_with_farewell(
                &w.admin,
                lead,
                RefuseInput {
                    reason,
                    comment: None,
                    freeze_until: None,
                },
                Some("https://crm.example.com"),
            )
            .await
            .unwrap();
        assert_eq!(l.stage.as_str(), "refused", "{n}");
        assert!(!sent, "{n}");
        assert!(
            app.store().surveys_for(lead).await.unwrap().is_empty(),
            "{n}"
        );
        assert_eq!(app.store().pending_jobs().await.unwrap(), 0, "{n}");

        // Settings removed after an email was queued: the job ends without sending.
        let sink = SmtpSink::start();
        app.set_smtp_settings(&w.admin, Some(smtp_to(&sink)))
            .await
            .unwrap();
        app.capture(req(&[("name", "Второй"), ("phone", "+79161112266")]))
            .await
            .unwrap();
        assert!(
            app.store().has_pending_job("email", None).await.unwrap(),
            "{n}"
        );
        app.set_smtp_settings(&w.admin, None).await.unwrap();
        assert!(app.smtp_settings().await.unwrap().is_none(), "{n}");
        app.run_due_jobs_at("w1", voronka_app::now_ms() + MIN)
            .await
            .unwrap();
        assert!(
            !app.store().has_pending_job("email", None).await.unwrap(),
            "{n}: done, not failed"
        );
        assert!(sink.messages().is_empty(), "{n}");

        // An SMTP server that does not answer: the email job fails and waits for a retry.
        let port = sink.port;
        drop(sink);
        let gone = SmtpSettings {
            host: "127.0.0.1".into(),
            port,
            from: "sales@example.com".into(),
            username: None,
            password: None,
            security: SmtpSecurity::None,
        };
        app.set_smtp_settings(&w.admin, Some(gone)).await.unwrap();
        app.capture(req(&[("name", "Третий"), ("phone", "+79161112277")]))
            .await
            .unwrap();
        app.run_due_jobs_at("w1", voronka_app::now_ms() + MIN)
            .await
            .unwrap();
        assert!(
            app.store().has_pending_job("email", None).await.unwrap(),
            "{n}: kept for a retry"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn farewell_carries_a_survey_link_answered_once() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let sink = SmtpSink::start();
        app.set_smtp_settings(&w.admin, Some(smtp_to(&sink)))
            .await
            .unwrap();
        let lead = app
            .capture(req(&[
                ("name", "Людмила Кузнецова"),
                ("email", "ludmila@example.ru"),
                ("phone", "+79161112299"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let reason = app.refusal_reasons().await.unwrap()[0].clone();
        let (_, sent) = app
            .refuse_with_farewell(
                &Actor::user(w.anna.clone()),
                lead,
                RefuseInput {
                    reason,
                    comment: Some("дорого".into()),
                    freeze_until: None,
                },
                Some("https://crm.example.com/"),
            )
            .await
            .unwrap();
        assert!(sent, "{n}");
        app.run_due_jobs_at("w1", voronka_app::now_ms() + MIN)
            .await
            .unwrap();
        let m = sink.wait_for(2);
        let farewell = m
            .iter()
            .find(|x| x.rcpt_to == vec!["ludmila@example.ru"])
            .unwrap_or_else(|| panic!("{n}: {m:?}"));
        assert_eq!(farewell.subject, "Thank you for your time", "{n}");
        assert_eq!(farewell.to, "Людмила Кузнецова <ludmila@example.ru>", "{n}");
        assert!(farewell.body.contains("Hello, Людмила Кузнецова."), "{n}");
        let link = farewell
            .body
            .split_whitespace()
            .find(|w| w.starts_with("https://crm.example.com/s/"))
            .unwrap_or_else(|| panic!("{n}: no survey link in {:?}", farewell.body));
        let token = link.trim_start_matches("https://crm.example.com/s/");
        assert_eq!(token.len(), 64, "{n}: {token}");
        // The token is stored hashed only.
        let s = app.survey(token).await.unwrap();
        assert_eq!(s.lead_id, lead, "{n}");
        assert!(s.answered_at.is_none(), "{n}");
        assert!(app.survey("0123").await.is_err(), "{n}: unknown token");
        // A bad answer is refused; a good one is stored once.
        assert!(
            app.answer_survey(token, "weather", None).await.is_err(),
            "{n}"
        );
        let a = app
            .answer_survey(token, "price", Some("  Слишком дорого <b>!</b> "))
            .await
            .unwrap();
        assert_eq!(a.answer.as_deref(), Some("price"), "{n}");
        assert_eq!(a.comment.as_deref(), Some("Слишком дорого <b>!</b>"), "{n}");
        let again = app.answer_survey(token, "timing", None).await;
        assert!(
            matches!(again, Err(voronka_app::AppError::Conflict(_))),
            "{n}: {again:?}"
        );
        // Attached to the lead, for the card and the API.
        let list = app.lead_surveys(&w.admin, lead).await.unwrap();
        assert_eq!(list.len(), 1, "{n}");
        assert_eq!(list[0].answer.as_deref(), Some("price"), "{n}");
        // No email address: no farewell.
        let other = app
            .capture(req(&[("name", "Без Адреса"), ("phone", "+79161112200")]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let reason = app.refusal_reasons().await.unwrap()[0].clone();
        let (_, sent) = app
            .refuse_with_farewell(
                &w.admin,
                other,
                RefuseInput {
                    reason,
                    comment: None,
                    freeze_until: None,
                },
                Some("https://crm.example.com"),
            )
            .await
            .unwrap();
        assert!(!sent, "{n}");
    }
}
