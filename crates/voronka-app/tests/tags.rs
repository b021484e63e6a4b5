//! Tags on leads against both backends: added and removed (case-folded, tidied, audited),
//! refused when empty, too long or too many, seen and changed only on leads the person sees,
//! the lead list filtered by them, the tags in use counted, and carried by a merge.

mod common;

use common::TestDb;
use voronka_app::{Actor, App, AppError, BulkAction, CaptureRequest, Settings};
use voronka_core::intake::Submission;
use voronka_core::tags::{MAX_TAG, MAX_TAGS_PER_LEAD};
use voronka_core::{Channel, Role};
use voronka_store::LeadQuery;

async fn lead(app: &App, name: &str, phone: &str, product: &str) -> i64 {
    let s = Submission::new(Channel::Api, voronka_app::now_ms())
        .with("name", name)
        .with("phone", phone)
        .with("product", product);
    app.capture(CaptureRequest {
        submission: s,
        form: None,
        idempotency_key: None,
        client: None,
    })
    .await
    .unwrap()
    .lead_id
    .unwrap()
}

async fn tagged(app: &App, actor: &Actor, tag: &str) -> Vec<i64> {
    let (rows, total) = app
        .list_leads(
            actor,
            LeadQuery {
                tag: Some(tag.to_string()),
                limit: 100,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(total as usize, rows.len(), "{tag}");
    let mut ids: Vec<i64> = rows.iter().map(|r| r.lead.id).collect();
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leads_are_tagged_filtered_and_untagged() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = App::open(&db.url, Settings::default()).await.unwrap();
        let admin_user = app
            .add_user("admin@example.com", "Админ", "admin password", Role::Admin)
            .await
            .unwrap();
        let admin = Actor::user(admin_user.clone());
        let seller = app
            .add_user(
                "seller@example.com",
                "Пётр",
                "seller password",
                Role::Salesperson,
            )
            .await
            .unwrap();
        let viewer = Actor::user(
            app.add_user(
                "viewer@example.com",
                "Вера",
                "viewer password",
                Role::Viewer,
            )
            .await
            .unwrap(),
        );
        let a = lead(&app, "Иван Петров", "+79161234567", "CRM").await;
        let b = lead(&app, "Anna Smith", "+442079460000", "Cloud").await;
        // Whatever the routing did: `a` is the administrator's, `b` the salesperson's.
        app.assign(&admin, a, Some(admin_user.id)).await.unwrap();
        app.assign(&admin, b, Some(seller.id)).await.unwrap();
        let seller = Actor::user(seller);

        // Tidied, kept as first written, one tag in any case.
        let tags = app.tag_lead(&admin, a, "  VIP \t клиент ").await.unwrap();
        assert_eq!(tags, ["VIP клиент"], "{n}");
        let tags = app.tag_lead(&admin, a, "vip КЛИЕНТ").await.unwrap();
        assert_eq!(tags, ["VIP клиент"], "{n}: no second tag");
        let tags = app.tag_lead(&admin, a, "Выставка-2026").await.unwrap();
        assert_eq!(tags, ["VIP клиент", "Выставка-2026"], "{n}");
        app.tag_lead(&seller, b, "vip клиент").await.unwrap();
        assert_eq!(
            app.lead_detail(&admin, a).await.unwrap().tags,
            ["VIP клиент", "Выставка-2026"],
            "{n}"
        );

        // Refusals.
        for (raw, code) in [
            ("   ", "tag_empty"),
            ("!!", "tag_empty"),
            (&"я".repeat(MAX_TAG + 1)[..], "tag_too_long"),
        ] {
            match app.tag_lead(&admin, a, raw).await {
                Err(AppError::Invalid { message, .. }) => assert_eq!(message.code, code, "{n}"),
                other => panic!("{n}: {raw:?}: {other:?}"),
            }
        }
        let e = app.tag_lead(&viewer, a, "x1").await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        // A salesperson sees only their own leads: another's is not there for them.
        let e = app.tag_lead(&seller, a, "x1").await.unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");

        // The list filtered by a tag, in any case, as each person sees it.
        assert_eq!(tagged(&app, &admin, "VIP КЛИЕНТ").await, [a, b], "{n}");
        assert_eq!(tagged(&app, &admin, "выставка-2026").await, [a], "{n}");
        assert_eq!(tagged(&app, &seller, "vip клиент").await, [b], "{n}");
        assert!(tagged(&app, &admin, "нет такого").await.is_empty(), "{n}");
        let in_use = app.tags_in_use(&admin).await.unwrap();
        let counts: Vec<(String, i64)> = in_use.into_iter().map(|u| (u.tag, u.leads)).collect();
        assert_eq!(counts.len(), 2, "{n}: {counts:?}");
        assert_eq!(counts[0].1, 2, "{n}: the most used first: {counts:?}");
        assert!(
            counts[0].0.eq_ignore_ascii_case("vip клиент"),
            "{n}: {counts:?}"
        );
        assert_eq!(counts[1], ("Выставка-2026".to_string(), 1), "{n}");
        // What a tag field offers: every tag once, by name.
        let names = app.tag_names(&seller).await.unwrap();
        assert_eq!(names.len(), 2, "{n}: {names:?}");
        assert!(
            names[0].eq_ignore_ascii_case("vip клиент"),
            "{n}: {names:?}"
        );
        assert_eq!(names[1], "Выставка-2026", "{n}");
        let theirs = app.tags_in_use(&seller).await.unwrap();
        assert_eq!(theirs.len(), 1, "{n}: {theirs:?}");
        assert_eq!(theirs[0].leads, 1, "{n}");

        // Removed by any case; a tag it does not have is not found.
        let tags = app.untag_lead(&admin, a, "VIP КЛИЕНТ").await.unwrap();
        assert_eq!(tags, ["Выставка-2026"], "{n}");
        let e = app.untag_lead(&admin, a, "vip клиент").await.unwrap_err();
        assert!(
            matches!(&e, AppError::NotFound(m) if m.code == "tag_not_on_lead"),
            "{n}: {e:?}"
        );
        assert_eq!(tagged(&app, &admin, "vip клиент").await, [b], "{n}");
        let audit: Vec<(String, Option<String>)> = app
            .store()
            .audit_for("lead", a)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action.contains("tag"))
            .map(|e| (e.action, e.after))
            .collect();
        assert_eq!(
            audit,
            [
                ("tag".to_string(), Some("VIP клиент".to_string())),
                ("tag".to_string(), Some("Выставка-2026".to_string())),
                ("untag".to_string(), Some("VIP клиент".to_string())),
            ],
            "{n}"
        );

        // Many leads at once: each as on its own (a salesperson's other leads are refused), and a
        // tag that cannot be is refused before any lead changes.
        let e = app
            .bulk_leads(&admin, &[a, b], &BulkAction::Tag("  ".into()))
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }), "{n}: {e:?}");
        let out = app
            .bulk_leads(
                &seller,
                &[a, b],
                &BulkAction::Tag("Звонок в понедельник".into()),
            )
            .await
            .unwrap();
        assert_eq!(out.changed, [b], "{n}");
        assert_eq!(out.refused.len(), 1, "{n}");
        assert_eq!(out.refused[0].0, a, "{n}");
        assert_eq!(
            tagged(&app, &admin, "звонок в понедельник").await,
            [b],
            "{n}"
        );

        // At most so many tags on a lead.
        for i in 0..MAX_TAGS_PER_LEAD - 1 {
            app.tag_lead(&admin, a, &format!("метка {i}"))
                .await
                .unwrap();
        }
        match app.tag_lead(&admin, a, "one more").await {
            Err(AppError::Invalid { message, .. }) => {
                assert_eq!(message.code, "tags_too_many", "{n}")
            }
            other => panic!("{n}: {other:?}"),
        }

        // A merge gives the survivor the merged lead's tags.
        let c = lead(&app, "Иван Петров", "+79161234567", "Обучение").await;
        assert_ne!(c, a, "{n}");
        app.tag_lead(&admin, c, "Партнёр").await.unwrap();
        app.tag_lead(&admin, c, "выставка-2026").await.unwrap();
        app.untag_lead(&admin, a, "метка 0").await.unwrap();
        app.merge_leads(&admin, a, c, &[]).await.unwrap();
        let tags = app.lead_detail(&admin, a).await.unwrap().tags;
        assert!(tags.contains(&"Партнёр".to_string()), "{n}: {tags:?}");
        assert_eq!(
            tags.iter()
                .filter(|t| t.to_lowercase() == "выставка-2026")
                .count(),
            1,
            "{n}: {tags:?}"
        );
        assert_eq!(
            tagged(&app, &admin, "партнёр").await,
            [a],
            "{n}: merged leads are not listed"
        );
    }
}
