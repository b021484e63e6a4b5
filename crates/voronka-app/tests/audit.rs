//! The audit log read by who did it, the kind of record, the action and the time, a page at a
//! time, and as a CSV file, against both backends.

mod common;

use common::TestDb;
use voronka_app::{Actor, App, AppError, CaptureRequest, Settings};
use voronka_core::intake::Submission;
use voronka_core::{Channel, Role, Stage};
use voronka_store::AuditQuery;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_is_read_by_person_record_action_and_time() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = App::open(&db.url, Settings::default()).await.unwrap();
        let admin_user = app
            .add_user("admin@example.com", "Админ", "admin password", Role::Admin)
            .await
            .unwrap();
        let admin = Actor::user(admin_user.clone());
        let olga_user = app
            .add_user(
                "olga@example.com",
                "Ольга",
                "olga password",
                Role::SalesManager,
            )
            .await
            .unwrap();
        let olga = Actor::user(olga_user.clone());
        let lead = app
            .capture(CaptureRequest {
                submission: Submission::new(Channel::Api, voronka_app::now_ms())
                    .with("name", "Иван Петров")
                    .with("phone", "+79161234567"),
                form: None,
                idempotency_key: None,
                client: None,
            })
            .await
            .unwrap()
            .lead_id
            .unwrap();
        let t0 = voronka_app::now_ms();
        app.tag_lead(&olga, lead, "=SUM(A1)").await.unwrap();
        app.tag_lead(&admin, lead, "VIP").await.unwrap();
        app.change_stage(&olga, lead, Stage::Working, None)
            .await
            .unwrap();
        app.admin_set_password(&admin, olga_user.id, "a new password", None)
            .await
            .unwrap();
        let t1 = voronka_app::now_ms();

        let search = |q: AuditQuery| {
            let app = &app;
            let admin = &admin;
            async move {
                app.search_audit(admin, &AuditQuery { limit: 100, ..q })
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|e| (e.actor_id, e.action, e.entity))
                    .collect::<Vec<_>>()
            }
        };
        let all = search(AuditQuery::default()).await;
        assert!(all.len() >= 4, "{n}: {all:?}");
        // By the person: Olga's two, newest first.
        let hers = search(AuditQuery {
            actor_id: Some(olga_user.id),
            ..Default::default()
        })
        .await;
        assert_eq!(
            hers,
            [
                (Some(olga_user.id), "stage".into(), "lead".into()),
                (Some(olga_user.id), "tag".into(), "lead".into()),
            ],
            "{n}"
        );
        // By the kind of record and the action.
        let users = search(AuditQuery {
            entity: Some("user".into()),
            ..Default::default()
        })
        .await;
        assert!(
            users
                .iter()
                .any(|(a, act, _)| *a == Some(admin_user.id) && act == "user.password_set"),
            "{n}: {users:?}"
        );
        assert!(users.iter().all(|(_, _, e)| e == "user"), "{n}: {users:?}");
        let tags = search(AuditQuery {
            action: Some("tag".into()),
            ..Default::default()
        })
        .await;
        assert_eq!(tags.len(), 2, "{n}: {tags:?}");
        assert_eq!(
            search(AuditQuery {
                action: Some("tag".into()),
                actor_id: Some(admin_user.id),
                ..Default::default()
            })
            .await
            .len(),
            1,
            "{n}: filters narrow together"
        );
        // By the time: from and to.
        assert!(search(AuditQuery {
            from: Some(t1 + 1),
            ..Default::default()
        })
        .await
        .is_empty());
        assert_eq!(
            search(AuditQuery {
                from: Some(t0),
                to: Some(t1 + 1),
                actor_id: Some(olga_user.id),
                ..Default::default()
            })
            .await
            .len(),
            2,
            "{n}"
        );
        assert!(search(AuditQuery {
            to: Some(t0 - 60_000),
            actor_id: Some(olga_user.id),
            ..Default::default()
        })
        .await
        .is_empty());
        // A page at a time.
        let page = app
            .search_audit(
                &admin,
                &AuditQuery {
                    limit: 1,
                    actor_id: Some(olga_user.id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(page.len(), 1, "{n}");
        let next = app
            .search_audit(
                &admin,
                &AuditQuery {
                    limit: 5,
                    actor_id: Some(olga_user.id),
                    before: Some(page[0].id),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(next.len(), 1, "{n}");
        assert_eq!(next[0].action, "tag", "{n}");
        // Administrators only.
        let e = app
            .search_audit(&olga, &AuditQuery::default())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        let e = app
            .audit_csv(&olga, &AuditQuery::default())
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");

        // The CSV: a byte-order mark, a header, a row per entry of the filters; a formula stays
        // text.
        let csv = app
            .audit_csv(
                &admin,
                &AuditQuery {
                    action: Some("tag".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(csv.starts_with(b"\xEF\xBB\xBF"), "{n}");
        let text = String::from_utf8(csv[3..].to_vec()).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            [
                "id",
                "at",
                "actor_id",
                "actor",
                "action",
                "entity",
                "entity_id",
                "before",
                "after"
            ],
            "{n}"
        );
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2, "{n}: {text}");
        assert_eq!(&rows[0][3], "Админ", "{n}: newest first");
        assert_eq!(&rows[1][8], "'=SUM(A1)", "{n}: {text}");
        assert!(rows[1][1].ends_with('Z') && rows[1][1].contains('T'), "{n}");
    }
}
