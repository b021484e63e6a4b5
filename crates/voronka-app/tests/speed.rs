//! Speed to lead against both backends: routing rules at intake, reassignment history, SLA
//! steps that fire once, activities as the first response, tasks and the iCal feed.

mod common;

use common::TestDb;
use voronka_app::{
    ActivityInput, Actor, App, AppError, BulkAction, CaptureRequest, ReassignTo, RefuseInput,
    Settings, TaskInput,
};
use voronka_core::intake::Submission;
use voronka_core::routing::RoutingProfile;
use voronka_core::{Channel, Role, Stage, Temperature, User};

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

/// A lead from Moscow with a temperature given at capture.
async fn moscow_lead(app: &App, name: &str, phone: &str, temperature: &str) -> i64 {
    app.capture(req(&[
        ("name", name),
        ("phone", phone),
        ("city", "Москва"),
        ("temperature", temperature),
    ]))
    .await
    .unwrap()
    .lead_id
    .unwrap()
}

/// Refuses a lead with the first reason of the list.
async fn refuse(app: &App, actor: &Actor, lead: i64) {
    let reason = app.refusal_reasons().await.unwrap()[0].clone();
    let input = RefuseInput {
        reason,
        comment: None,
        freeze_until: None,
    };
    app.refuse(actor, lead, input).await.unwrap();
}

struct World {
    app: App,
    admin: Actor,
    anna: User,
    boris: User,
    manager: User,
}

impl World {
    /// Changes a person's routing profile as an admin would.
    async fn change_profile(&self, id: i64, change: impl FnOnce(&mut RoutingProfile)) {
        let mut p = self.app.routing_profile(&self.admin, id).await.unwrap();
        change(&mut p);
        self.app
            .set_routing_profile(&self.admin, id, p)
            .await
            .unwrap();
    }
}

/// Two teams: Moscow (Анна, and the manager Мария) and Kazan (Борис). Every minute counts
/// for the SLA, so the timers do not depend on when the test runs.
async fn world(db: &TestDb) -> World {
    let app = App::open(&db.url, Settings::default())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name));
    let admin = Actor::system("test");
    let moscow = app.store().create_team("Москва").await.unwrap();
    let kazan = app.store().create_team("Казань").await.unwrap();
    let anna = app
        .add_user(
            "anna@example.ru",
            "Анна Иванова",
            "password-1",
            Role::Salesperson,
        )
        .await
        .unwrap();
    let boris = app
        .add_user("boris@example.ru", "Борис", "password-1", Role::Salesperson)
        .await
        .unwrap();
    let manager = app
        .add_user(
            "maria@example.ru",
            "Мария",
            "password-1",
            Role::SalesManager,
        )
        .await
        .unwrap();
    for (u, role, team) in [
        (&anna, Role::Salesperson, moscow),
        (&boris, Role::Salesperson, kazan),
        (&manager, Role::SalesManager, moscow),
    ] {
        app.store()
            .update_user(u.id, role, true, Some(team))
            .await
            .unwrap();
    }
    let rules = App::parse_routing_rules(
        r#"
[[rules]]
name = "Moscow B2B"
team = "Москва"
method = "round_robin"
[rules.when]
cities = ["Москва"]

[[rules]]
name = "Rest"
people = ["boris@example.ru"]
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
steps = [{ action = "notify_owner" }, { after = "30m", action = "escalate_team_lead" }, { after = "1h", action = "reassign" }]
"#,
        true,
    )
    .unwrap();
    app.set_sla_settings(&admin, sla).await.unwrap();
    World {
        app,
        admin,
        anna,
        boris,
        manager,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_route_at_intake_and_reassignment_keeps_history() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let a = app
            .capture(req(&[
                ("name", "Олег Смирнов"),
                ("phone", "+7 916 000 11 22"),
                ("city", "москва"),
            ]))
            .await
            .unwrap();
        let lead = app
            .store()
            .lead_detail(a.lead_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(lead.lead.owner_id, Some(w.anna.id), "{n}");
        assert_eq!(
            lead.route_explanation.as_deref(),
            Some("assigned to Анна Иванова by rule \"Moscow B2B\", round robin 1 of 1"),
            "{n}"
        );
        let b = app
            .capture(req(&[
                ("name", "Jean Dupont"),
                ("email", "jean@example.fr"),
            ]))
            .await
            .unwrap();
        let lb = b.lead_id.unwrap();
        assert_eq!(
            app.store().lead(lb).await.unwrap().unwrap().owner_id,
            Some(w.boris.id),
            "{n}: no city: the second rule"
        );
        // History and notification of the intake assignment.
        let h = app.store().assignments_for(lb).await.unwrap();
        assert_eq!(h.len(), 1, "{n}");
        assert_eq!(h[0].rule.as_deref(), Some("Rest"), "{n}");
        assert_eq!(h[0].actor, "routing", "{n}");
        let notes = app.store().notifications_for(w.boris.id, 10).await.unwrap();
        assert!(
            notes
                .iter()
                .any(|x| x.kind == "lead_assigned" && x.lead_id == Some(lb)),
            "{n}: {notes:?}"
        );
        // Manual reassignment, then by the rules (the current owner left out).
        let mgr = Actor::user(w.manager.clone());
        app.reassign(
            &w.admin,
            lb,
            &ReassignTo::Person {
                owner_id: Some(w.anna.id),
            },
            Some("отпуск"),
        )
        .await
        .unwrap();
        let r = app
            .bulk_reassign(&w.admin, &[lb], &ReassignTo::Rules, None)
            .await
            .unwrap();
        assert!(r[0].1.is_ok(), "{n}: {r:?}");
        let h = app.store().assignments_for(lb).await.unwrap();
        assert_eq!(h.len(), 3, "{n}: {h:?}");
        assert_eq!(h[1].from_owner, Some(w.boris.id), "{n}");
        assert_eq!(h[1].to_owner, Some(w.anna.id), "{n}");
        assert!(h[1].explanation.contains("отпуск"), "{n}");
        assert_eq!(h[2].from_owner, Some(w.anna.id), "{n}");
        assert_eq!(h[2].to_owner, Some(w.boris.id), "{n}: {:?}", h[2]);
        // A salesperson may not reassign.
        let err = app
            .reassign(&Actor::user(w.anna.clone()), lb, &ReassignTo::Rules, None)
            .await;
        assert!(err.is_err(), "{n}");
        // Routing again reads the facts the intake routed on: the Moscow lead goes back to the
        // Moscow rule, not to the catch-all.
        let la = a.lead_id.unwrap();
        app.reassign(
            &w.admin,
            la,
            &ReassignTo::Person {
                owner_id: Some(w.boris.id),
            },
            None,
        )
        .await
        .unwrap();
        let back = app
            .reassign(&w.admin, la, &ReassignTo::Rules, None)
            .await
            .unwrap();
        assert_eq!(back.to_owner, Some(w.anna.id), "{n}: {back:?}");
        assert_eq!(back.rule.as_deref(), Some("Moscow B2B"), "{n}: {back:?}");
        let _ = mgr;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn away_and_capacity_send_leads_elsewhere() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        w.change_profile(w.anna.id, |p| p.daily_cap = Some(1)).await;
        let first = app
            .capture(req(&[
                ("name", "Клиент Один"),
                ("phone", "+79160000001"),
                ("city", "Москва"),
            ]))
            .await
            .unwrap();
        let second = app
            .capture(req(&[
                ("name", "Клиент Два"),
                ("phone", "+79160000002"),
                ("city", "Москва"),
            ]))
            .await
            .unwrap();
        let owner = |id| {
            let app = app.clone();
            async move { app.store().lead(id).await.unwrap().unwrap().owner_id }
        };
        assert_eq!(owner(first.lead_id.unwrap()).await, Some(w.anna.id), "{n}");
        assert_eq!(
            owner(second.lead_id.unwrap()).await,
            Some(w.boris.id),
            "{n}: Анна reached her daily capacity"
        );
        // Борис away: nobody fits, the lead waits in the fallback queue.
        w.change_profile(w.boris.id, |p| {
            p.away_until = Some(voronka_app::now_ms() + 86_400_000)
        })
        .await;
        let third = app
            .capture(req(&[("name", "Клиент Три"), ("phone", "+79160000003")]))
            .await
            .unwrap();
        let d = app
            .store()
            .lead_detail(third.lead_id.unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(d.lead.owner_id, None, "{n}");
        assert!(
            d.route_explanation
                .as_deref()
                .unwrap_or("")
                .contains("fallback queue"),
            "{n}: {:?}",
            d.route_explanation
        );
        // A bad profile is refused.
        let mut bad = app.routing_profile(&w.admin, w.anna.id).await.unwrap();
        bad.timezone = "Луна/База".into();
        assert!(app
            .set_routing_profile(&w.admin, w.anna.id, bad)
            .await
            .is_err());
    }
}

/// A monthly cap counts the person's assignments of the last 30 days, stored ones included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_monthly_cap_counts_stored_assignments() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        w.change_profile(w.anna.id, |p| p.monthly_cap = Some(2))
            .await;
        let mut owners = Vec::new();
        for i in 1..=3 {
            let phone = format!("+7916000003{i}");
            let name = format!("Москвич {i}");
            // One capture at a time: each is its own batch, so the count is read back each time.
            let o = app
                .capture(req(&[
                    ("name", name.as_str()),
                    ("phone", phone.as_str()),
                    ("city", "Москва"),
                ]))
                .await
                .unwrap();
            let lead = app.store().lead(o.lead_id.unwrap()).await.unwrap().unwrap();
            owners.push(lead.owner_id);
        }
        assert_eq!(
            owners,
            vec![Some(w.anna.id), Some(w.anna.id), Some(w.boris.id)],
            "{n}: Анна takes two in 30 days, then the next rule's Борис"
        );
    }
}

/// "Least open load" counts each person's open leads as they are now: refused leads and stage
/// changes after assignment count.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn least_load_counts_open_leads_only() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let rules = App::parse_routing_rules(
            r#"
[[rules]]
name = "Everyone"
people = ["anna@example.ru", "boris@example.ru"]
method = "least_load"
"#,
            true,
        )
        .unwrap();
        app.set_routing_rules(&w.admin, rules).await.unwrap();
        let mut leads = Vec::new();
        for i in 1..=4 {
            let phone = format!("+7916000001{i}");
            let name = format!("Клиент {i}");
            let o = app
                .capture(req(&[("name", name.as_str()), ("phone", phone.as_str())]))
                .await
                .unwrap();
            leads.push(o.lead_id.unwrap());
        }
        // Анна: two open leads. Борис: two, one of them refused.
        for (k, owner) in [w.anna.id, w.anna.id, w.boris.id, w.boris.id]
            .into_iter()
            .enumerate()
        {
            app.reassign(
                &w.admin,
                leads[k],
                &ReassignTo::Person {
                    owner_id: Some(owner),
                },
                None,
            )
            .await
            .unwrap();
        }
        let refuse = |id| {
            app.refuse(
                &w.admin,
                id,
                RefuseInput {
                    reason: "No budget now".into(),
                    comment: None,
                    freeze_until: None,
                },
            )
        };
        refuse(leads[3]).await.unwrap();
        let routed = |name: &'static str, phone: &'static str| async move {
            let o = app
                .capture(req(&[("name", name), ("phone", phone)]))
                .await
                .unwrap();
            app.store()
                .lead_detail(o.lead_id.unwrap())
                .await
                .unwrap()
                .unwrap()
        };
        let d = routed("Клиент Пять", "+79160000021").await;
        assert_eq!(d.lead.owner_id, Some(w.boris.id), "{n}");
        let why = d.route_explanation.unwrap_or_default();
        assert!(why.contains("least open load (1 open)"), "{n}: {why}");
        // Анна's two leads refused: she has none open, Борис two.
        refuse(leads[0]).await.unwrap();
        refuse(leads[1]).await.unwrap();
        let d = routed("Клиент Шесть", "+79160000022").await;
        assert_eq!(d.lead.owner_id, Some(w.anna.id), "{n}");
        let why = d.route_explanation.unwrap_or_default();
        assert!(why.contains("least open load (0 open)"), "{n}: {why}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sla_steps_fire_once_each_and_a_call_stops_them() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let now = voronka_app::now_ms();
        let a = app
            .capture(req(&[
                ("name", "Горячий Клиент"),
                ("phone", "+79161112233"),
                ("city", "Москва"),
                ("temperature", "hot"),
            ]))
            .await
            .unwrap();
        let b = app
            .capture(req(&[
                ("name", "Ответили Вовремя"),
                ("phone", "+79161112244"),
                ("city", "Москва"),
                ("temperature", "hot"),
            ]))
            .await
            .unwrap();
        let (la, lb) = (a.lead_id.unwrap(), b.lead_id.unwrap());
        let rows = app.store().sla_rows(0).await.unwrap();
        let due = rows
            .iter()
            .find(|r| r.lead_id == la)
            .unwrap()
            .sla_due_at
            .unwrap();
        assert!(
            due >= now + 5 * MIN && due < now + 6 * MIN,
            "{n}: hot is 5 minutes"
        );
        // Lead b is called in time: its timers do nothing.
        app.log_activity(
            &Actor::user(w.anna.clone()),
            lb,
            ActivityInput {
                kind: "call".into(),
                outcome: Some("no_answer".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        // Nothing is due yet.
        app.run_due_jobs_at("w1", now + MIN).await.unwrap();
        assert!(
            app.store().sla_events_for(la).await.unwrap().is_empty(),
            "{n}"
        );
        // Breach: the owner is notified, once, whichever worker runs.
        app.run_due_jobs_at("w1", now + 6 * MIN).await.unwrap();
        app.run_due_jobs_at("w2", now + 6 * MIN).await.unwrap();
        let ev = app.store().sla_events_for(la).await.unwrap();
        assert_eq!(ev.len(), 1, "{n}: {ev:?}");
        assert_eq!(ev[0].action, "notify_owner", "{n}");
        assert!(
            app.store().sla_events_for(lb).await.unwrap().is_empty(),
            "{n}"
        );
        let notes = app.store().notifications_for(w.anna.id, 20).await.unwrap();
        assert_eq!(
            notes.iter().filter(|x| x.kind == "sla_breached").count(),
            1,
            "{n}"
        );
        // 30 minutes later the team lead hears of it; an hour later the lead moves on.
        app.run_due_jobs_at("w1", now + 40 * MIN).await.unwrap();
        let mgr_notes = app
            .store()
            .notifications_for(w.manager.id, 20)
            .await
            .unwrap();
        assert!(
            mgr_notes
                .iter()
                .any(|x| x.kind == "sla_escalated" && x.lead_id == Some(la)),
            "{n}: {mgr_notes:?}"
        );
        app.run_due_jobs_at("w2", now + 70 * MIN).await.unwrap();
        app.run_due_jobs_at("w1", now + 70 * MIN).await.unwrap();
        let ev = app.store().sla_events_for(la).await.unwrap();
        assert_eq!(
            ev.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            vec!["notify_owner", "escalate_team_lead", "reassign"],
            "{n}"
        );
        // Each step keeps what it did as a code and values, read as its text.
        let codes: Vec<&str> = ev
            .iter()
            .map(|e| e.notice.as_ref().map_or("", |x| x.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec!["sla_owner_notified", "sla_escalated", "sla_reassigned"],
            "{n}"
        );
        let anna = &w.anna.name;
        assert_eq!(
            ev[0].detail,
            format!("first response to lead #{la} overdue; owner {anna} notified"),
            "{n}"
        );
        assert_eq!(
            ev[1].detail,
            format!("lead #{la} escalated to 1 team lead(s); owner {anna}"),
            "{n}"
        );
        assert!(
            ev[2]
                .detail
                .starts_with(&format!("lead #{la} reassigned from {anna}: assigned to ")),
            "{n}: {}",
            ev[2].detail
        );
        let escalation = mgr_notes
            .iter()
            .find(|x| x.kind == "sla_escalated" && x.lead_id == Some(la))
            .unwrap();
        assert_eq!(
            escalation.body,
            format!("SLA breached: lead #{la} of {anna} has had no response"),
            "{n}"
        );
        let lead = app.store().lead(la).await.unwrap().unwrap();
        assert_ne!(
            lead.owner_id,
            Some(w.anna.id),
            "{n}: reassigned away from Анна"
        );
        let h = app.store().assignments_for(la).await.unwrap();
        assert_eq!(h.last().unwrap().actor, "sla", "{n}");
        let why = h.last().unwrap().why.clone().unwrap();
        assert_eq!(why.code, "reassigned_sla", "{n}");
        assert!(why.args["decision"].starts_with("route_"), "{n}: {why:?}");
        let explanation = &h.last().unwrap().explanation;
        assert_eq!(explanation, &why.text(), "{n}");
        assert!(
            explanation.starts_with("SLA breached: "),
            "{n}: {explanation}"
        );
        // Metrics: one of two judged leads hit its target.
        let m = app.sla_metrics(&w.admin, 0).await.unwrap();
        assert_eq!(m.overall.leads, 2, "{n}");
        assert_eq!(m.overall.responded, 1, "{n}");
        assert_eq!(m.overall.hit_rate, Some(0.5), "{n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_lists_open_leads_waiting_for_a_response() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let mut ids = Vec::new();
        for (i, name) in ["Ждущий Первый", "Ждущий Второй"].iter().enumerate()
        {
            let id = moscow_lead(app, name, &format!("+7916333000{i}"), "hot").await;
            ids.push(id);
        }
        let due = |d: &voronka_app::SlaDashboard| -> Vec<i64> {
            let mut v: Vec<i64> = d.due_now.iter().map(|r| r.lead_id).collect();
            v.sort();
            v
        };
        let d = app.sla_dashboard(&w.admin).await.unwrap();
        assert_eq!(due(&d), ids, "{n}: both hot leads are due within the hour");
        assert_eq!(d.overdue, 0, "{n}: neither is late yet");
        // Each owner's line counts their leads, with their name.
        assert_eq!(
            d.per_person.iter().map(|p| p.due).sum::<usize>(),
            2,
            "{n}: {:?}",
            d.per_person
        );
        for (p, r) in d.per_person.iter().flat_map(|p| {
            d.due_now
                .iter()
                .filter(move |r| r.owner_id == p.owner_id)
                .map(move |r| (p, r))
        }) {
            assert_eq!(p.name, r.owner_name, "{n}");
        }
        assert_eq!(d.breached_today, 0, "{n}: nothing late yet");
        // Six minutes on, both hot leads have missed their five minutes: late today, each under
        // its owner, and so says each lead's own SLA record.
        let at = voronka_app::now_ms() + 6 * MIN;
        app.run_due_jobs_at("w1", at).await.unwrap();
        let d = app.sla_dashboard(&w.admin).await.unwrap();
        assert_eq!(d.breached_today, 2, "{n}");
        assert_eq!(
            d.per_person.iter().map(|p| p.late_today).sum::<usize>(),
            2,
            "{n}: {:?}",
            d.per_person
        );
        for id in &ids {
            let row = app.lead_sla(&w.admin, *id).await.unwrap().unwrap();
            assert_eq!(row.lead_id, *id, "{n}");
            assert!(row.sla_breached_at.is_some_and(|b| b <= at), "{n}: {row:?}");
        }
        // A lead that came forty days ago and was never answered still waits, overdue.
        let mut old = req(&[
            ("name", "Забытый Давний"),
            ("phone", "+79163330009"),
            ("city", "Москва"),
            ("temperature", "hot"),
        ]);
        old.submission.received_at = voronka_app::now_ms() - 40 * 86_400_000;
        let forgotten = app.capture(old).await.unwrap().lead_id.unwrap();
        let d = app.sla_dashboard(&w.admin).await.unwrap();
        assert_eq!(d.due_now.first().map(|r| r.lead_id), Some(forgotten), "{n}");
        assert_eq!(d.overdue, 1, "{n}");
        refuse(app, &w.admin, forgotten).await;
        // A refused lead waits for nobody, answered or not.
        refuse(app, &w.admin, ids[1]).await;
        let d = app.sla_dashboard(&w.admin).await.unwrap();
        assert_eq!(due(&d), vec![ids[0]], "{n}");
        let names = app.lead_names(&w.admin, &ids).await.unwrap();
        assert_eq!(names[&ids[0]], "Ждущий Первый", "{n}");
        assert_eq!(names[&ids[1]], "Ждущий Второй", "{n}");
        assert!(app.lead_names(&w.admin, &[]).await.unwrap().is_empty());
        // A salesperson does not read names across the team this way.
        let anna = Actor::user(w.anna.clone());
        assert!(app.lead_names(&anna, &ids).await.is_err(), "{n}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_schedule_tasks_and_the_queue_orders_by_urgency() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let anna = Actor::user(w.anna.clone());
        let warm = moscow_lead(app, "Тёплый", "+79162220001", "warm").await;
        let hot = moscow_lead(app, "Горячий", "+79162220002", "hot").await;
        let q = app.work_queue(&anna, 0, 200).await.unwrap();
        assert_eq!(
            q.iter().map(|l| l.lead_id).collect::<Vec<_>>(),
            vec![hot, warm],
            "{n}: the hot lead's response is due first"
        );
        // A page of the queue: one lead after the first.
        let page = app.work_queue(&anna, 1, 1).await.unwrap();
        assert_eq!(
            page.iter().map(|l| l.lead_id).collect::<Vec<_>>(),
            vec![warm],
            "{n}"
        );
        assert_eq!(q[0].phone.as_deref(), Some("+79162220002"), "{n}");
        let at = voronka_app::now_ms();
        let (_, task) = app
            .log_activity(
                &anna,
                hot,
                ActivityInput {
                    kind: "call".into(),
                    outcome: Some("call_back".into()),
                    call_back_at: Some(at + 3 * 3_600_000),
                    note: Some("просил перезвонить после обеда".into()),
                },
            )
            .await
            .unwrap();
        let task = task.expect("call back schedules a task");
        let tasks = app.tasks_of(&anna, w.anna.id, true).await.unwrap();
        let t = tasks.iter().find(|t| t.id == task).unwrap();
        assert_eq!(t.due_at, at + 3 * 3_600_000, "{n}");
        assert_eq!(t.lead_id, Some(hot), "{n}");
        // Responded leads go after those still waiting.
        let q = app.work_queue(&anna, 0, 200).await.unwrap();
        assert_eq!(q[0].lead_id, warm, "{n}");
        let lead = app.store().lead(hot).await.unwrap().unwrap();
        assert!(lead.first_response_at.is_some(), "{n}");
        assert_eq!(lead.stage, voronka_core::Stage::Working, "{n}");
        // A manual task, the iCal feed, completing.
        let id = app
            .create_task(
                &anna,
                TaskInput {
                    lead_id: Some(warm),
                    kind: "send_offer".into(),
                    title: Some("КП по кухне".into()),
                    due_at: at + 86_400_000,
                    remind_at: None,
                    owner_id: None,
                },
            )
            .await
            .unwrap();
        let token = app.ical_token(&anna).await.unwrap();
        let ics = app.ical_feed(&token).await.unwrap();
        assert!(ics.contains("SUMMARY:КП по кухне (lead #"), "{n}: {ics}");
        assert!(ics.contains(&format!("UID:task-{task}@voronka")), "{n}");
        assert!(app.ical_feed("cal_wrong").await.is_err(), "{n}");
        app.complete_task(&anna, id).await.unwrap();
        assert!(
            app.complete_task(&anna, id).await.is_err(),
            "{n}: done twice"
        );
        assert!(
            !app.ical_feed(&token).await.unwrap().contains("КП по кухне"),
            "{n}"
        );
        // Bad input.
        let bad = app
            .log_activity(
                &anna,
                warm,
                ActivityInput {
                    kind: "telegram".into(),
                    ..Default::default()
                },
            )
            .await;
        assert!(bad.is_err(), "{n}");
        let boris = Actor::user(w.boris.clone());
        assert!(
            app.log_activity(
                &boris,
                warm,
                ActivityInput {
                    kind: "call".into(),
                    ..Default::default()
                }
            )
            .await
            .is_err(),
            "{n}: not Борис's lead"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revived_lead_gets_a_task_and_counts_as_recycled() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let anna = Actor::user(w.anna.clone());
        let id = app
            .capture(req(&[
                ("name", "Заморозка"),
                ("phone", "+79163330001"),
                ("city", "Москва"),
            ]))
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let now = voronka_app::now_ms();
        app.refuse_at(
            &anna,
            id,
            voronka_app::RefuseInput {
                reason: "No budget now".into(),
                comment: Some("вернуться весной".into()),
                freeze_until: Some(now + 1_000),
            },
            now,
        )
        .await
        .unwrap();
        let before = app.recycling_report(&w.admin, 0).await.unwrap();
        assert_eq!((before.refused, before.came_back), (1, 0), "{n}");
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        app.run_due_jobs("w1").await.unwrap();
        let lead = app.store().lead(id).await.unwrap().unwrap();
        assert_eq!(lead.stage, voronka_core::Stage::Working, "{n}");
        let tasks = app.tasks_of(&anna, w.anna.id, true).await.unwrap();
        assert!(
            tasks
                .iter()
                .any(|t| t.lead_id == Some(id) && t.title == "Call the revived lead"),
            "{n}: {tasks:?}"
        );
        let r = app.recycling_report(&w.admin, 0).await.unwrap();
        assert_eq!(
            (r.refused, r.came_back, r.revived, r.converted),
            (1, 1, 1, 0),
            "{n}"
        );
    }
}

/// Timers that fall due together fire together: thirty hot leads breach in the same minute,
/// each step fires once, and the jobs are done after one pass.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_breaches_fires_each_step_once() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let now = voronka_app::now_ms();
        let mut leads = Vec::new();
        for i in 0..30 {
            let o = app
                .capture(req(&[
                    ("name", &common::person_name(i)),
                    ("phone", &format!("+7916555{i:04}")),
                    ("city", "Москва"),
                    ("temperature", "hot"),
                ]))
                .await
                .unwrap();
            leads.push(o.lead_id.unwrap());
        }
        let before = app.store().count_sla_events().await.unwrap();
        let ran = app.run_due_jobs_at("w1", now + 6 * MIN).await.unwrap();
        assert!(ran >= 30, "{n}: {ran}");
        assert_eq!(
            app.store().count_sla_events().await.unwrap() - before,
            30,
            "{n}"
        );
        for &l in &leads {
            let ev = app.store().sla_events_for(l).await.unwrap();
            assert_eq!(ev.len(), 1, "{n}: {ev:?}");
            assert_eq!(ev[0].action, "notify_owner", "{n}");
        }
        // Done: another worker finds nothing left to fire now.
        app.run_due_jobs_at("w2", now + 6 * MIN).await.unwrap();
        assert_eq!(
            app.store().count_sla_events().await.unwrap() - before,
            30,
            "{n}"
        );
        let notes = app.store().notifications_for(w.anna.id, 100).await.unwrap();
        assert_eq!(
            notes.iter().filter(|x| x.kind == "sla_breached").count(),
            30,
            "{n}"
        );
    }
}

/// One change for many leads: each lead changes as on its own (history, audit), a lead the change
/// does not fit is left as it was and named, and what fits no lead is refused before any change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_to_many_leads_changes_each_as_on_its_own() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let a = moscow_lead(app, "Первый Общий", "+79164440001", "warm").await;
        let b = moscow_lead(app, "Второй Общий", "+79164440002", "warm").await;
        let c = moscow_lead(app, "Третий Клиент", "+79164440003", "warm").await;
        app.convert(
            &w.admin,
            c,
            voronka_app::ConvertInput {
                amount: voronka_core::Money::new(
                    10_000,
                    voronka_core::Currency::parse("RUB").unwrap(),
                ),
                title: None,
            },
        )
        .await
        .unwrap();
        let manager = Actor::user(w.manager.clone());
        // To Борис: the converted lead moves too (an owner fits any stage).
        let out = app
            .bulk_leads(
                &manager,
                &[a, b, a, c],
                &BulkAction::Assign(Some(w.boris.id)),
            )
            .await
            .unwrap();
        assert_eq!(out.changed, vec![a, b, c], "{n}: a repeat counts once");
        assert!(out.refused.is_empty(), "{n}");
        for id in [a, b, c] {
            let l = app.store().lead(id).await.unwrap().unwrap();
            assert_eq!(l.owner_id, Some(w.boris.id), "{n}");
        }
        // To working: the converted lead cannot go back, and says why.
        let out = app
            .bulk_leads(&manager, &[a, c, b], &BulkAction::Stage(Stage::Working))
            .await
            .unwrap();
        assert_eq!(out.changed, vec![a, b], "{n}");
        assert_eq!(out.refused.len(), 1, "{n}");
        assert_eq!(out.refused[0].0, c, "{n}");
        assert!(
            matches!(out.refused[0].1, AppError::Stage(_)),
            "{n}: {:?}",
            out.refused[0].1
        );
        let history = app.lead_detail(&manager, a).await.unwrap().history;
        assert_eq!(
            history.last().map(|h| h.to),
            Some(Stage::Working),
            "{n}: the move has its history entry"
        );
        // Борис sees his own leads only: Анна's lead is not his to change.
        let annas = moscow_lead(app, "Анна Владеет", "+79164440004", "warm").await;
        let l = app.store().lead(annas).await.unwrap().unwrap();
        assert_eq!(l.owner_id, Some(w.anna.id), "{n}");
        let boris = Actor::user(w.boris.clone());
        let out = app
            .bulk_leads(
                &boris,
                &[a, annas],
                &BulkAction::Temperature(Temperature::Hot),
            )
            .await
            .unwrap();
        assert_eq!(out.changed, vec![a], "{n}");
        assert!(
            matches!(out.refused[..], [(id, AppError::NotFound(_))] if id == annas),
            "{n}: {:?}",
            out.refused
        );
        // Refused before any change: a salesperson reassigning, an owner who is nobody, a closed
        // stage, junk without a reason, no lead, too many leads.
        for (actor, action, ids) in [
            (&boris, BulkAction::Assign(None), vec![a]),
            (&manager, BulkAction::Assign(Some(999_999)), vec![a]),
            (&manager, BulkAction::Stage(Stage::Converted), vec![a]),
            (&manager, BulkAction::Junk("  ".into()), vec![a]),
            (
                &manager,
                BulkAction::Refuse(RefuseInput {
                    reason: "Не наш клиент?".into(),
                    comment: None,
                    freeze_until: None,
                }),
                vec![a],
            ),
            (
                &manager,
                BulkAction::Refuse(RefuseInput {
                    reason: app.refusal_reasons().await.unwrap()[0].clone(),
                    comment: None,
                    freeze_until: Some(voronka_app::now_ms() - 1000),
                }),
                vec![a],
            ),
            (&manager, BulkAction::Junk("spam".into()), vec![]),
            (
                &manager,
                BulkAction::Junk("spam".into()),
                (1..=501).collect(),
            ),
        ] {
            let e = app.bulk_leads(actor, &ids, &action).await.unwrap_err();
            assert!(
                matches!(e, AppError::Forbidden(_) | AppError::Invalid { .. }),
                "{n}: {action:?}: {e:?}"
            );
        }
        let l = app.store().lead(a).await.unwrap().unwrap();
        assert_eq!(
            (l.stage, l.owner_id),
            (Stage::Working, Some(w.boris.id)),
            "{n}: nothing changed by the refused ones"
        );
        // Refused with a reason of the list, a comment and a freeze date: each lead's history
        // names the reason and the comment, and the lead waits to return to work.
        let reason = app.refusal_reasons().await.unwrap()[0].clone();
        let until = voronka_app::now_ms() + 30 * 24 * 3600 * 1000;
        let refusal = RefuseInput {
            reason: reason.clone(),
            comment: Some("Вернуться после бюджета".into()),
            freeze_until: Some(until),
        };
        let out = app
            .bulk_leads(&manager, &[a], &BulkAction::Refuse(refusal))
            .await
            .unwrap();
        assert_eq!(out.changed, vec![a], "{n}");
        let l = app.store().lead(a).await.unwrap().unwrap();
        assert_eq!(
            (l.stage, l.refuse_reason.as_deref(), l.frozen_until),
            (Stage::Refused, Some(reason.as_str()), Some(until)),
            "{n}"
        );
        let detail = app.lead_detail(&manager, a).await.unwrap();
        assert!(
            detail
                .history
                .iter()
                .any(|h| h.comment.as_deref() == Some("Вернуться после бюджета")),
            "{n}: {:?}",
            detail.history
        );
        // Junk with its reason, each lead's audit entry written.
        let out = app
            .bulk_leads(&manager, &[b], &BulkAction::Junk("Спам-рассылка".into()))
            .await
            .unwrap();
        assert_eq!(out.changed, vec![b], "{n}");
        let l = app.store().lead(b).await.unwrap().unwrap();
        assert_eq!(l.stage, Stage::Junk, "{n}");
        assert_eq!(l.junk_reason.as_deref(), Some("Спам-рассылка"), "{n}");
        let audit = app.audit_for(&manager, "lead", b).await.unwrap();
        assert!(audit.iter().any(|e| e.action == "junk"), "{n}: {audit:?}");
    }
}
