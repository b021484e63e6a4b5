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
        // What a tag field offers: every tag once, by name; to a salesperson, those on their
        // leads only.
        let names = app.tag_names(&admin).await.unwrap();
        assert_eq!(names.len(), 2, "{n}: {names:?}");
        assert!(
            names[0].eq_ignore_ascii_case("vip клиент"),
            "{n}: {names:?}"
        );
        assert_eq!(names[1], "Выставка-2026", "{n}");
        let names = app.tag_names(&seller).await.unwrap();
        assert_eq!(names.len(), 1, "{n}: {names:?}");
        assert!(
            names[0].eq_ignore_ascii_case("vip клиент"),
            "{n}: {names:?}"
        );
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

/// The application on this database, and an administrator of it.
async fn with_admin(db: &TestDb) -> (App, Actor) {
    let app = App::open(&db.url, Settings::default()).await.unwrap();
    let admin = app
        .add_user("admin@example.com", "Админ", "admin password", Role::Admin)
        .await
        .unwrap();
    (app, Actor::user(admin))
}

/// The audit entries of tags renamed or removed everywhere: action, before, after.
async fn tag_audit(app: &App) -> Vec<(String, Option<String>, Option<String>)> {
    let mut rows: Vec<_> = app
        .store()
        .recent_audit(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.entity == "tag")
        .map(|e| (e.action, e.before, e.after))
        .collect();
    rows.sort_by_key(|(a, b, _)| (a.clone(), b.clone()));
    rows
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_is_renamed_joined_and_removed_on_every_lead_seen() {
    for db in TestDb::both().await {
        let n = db.name;
        let (app, admin) = with_admin(&db).await;
        let moscow = app.store().create_team("Москва").await.unwrap();
        let kazan = app.store().create_team("Казань").await.unwrap();
        let mut people = Vec::new();
        for (email, role, team) in [
            ("anna@example.com", Role::Salesperson, moscow),
            ("boris@example.com", Role::Salesperson, kazan),
            ("maria@example.com", Role::SalesManager, moscow),
        ] {
            let mut u = app
                .add_user(email, email, "a good password", role)
                .await
                .unwrap();
            app.store()
                .update_user(u.id, role, true, Some(team))
                .await
                .unwrap();
            u.team_id = Some(team);
            people.push(u);
        }
        let (anna, boris, maria) = (&people[0], &people[1], &people[2]);
        let a = lead(&app, "Иван Петров", "+79161234567", "CRM").await;
        let b = lead(&app, "Anna Smith", "+442079460000", "Cloud").await;
        let c = lead(&app, "Jan de Vries", "+31201234567", "Hosting").await;
        app.assign(&admin, a, Some(anna.id)).await.unwrap();
        app.assign(&admin, b, Some(anna.id)).await.unwrap();
        app.assign(&admin, c, Some(boris.id)).await.unwrap();
        for (id, tag) in [
            (a, "Выставка"),
            (b, "выставка"),
            (c, "ВЫСТАВКА"),
            (a, "Expo 2026"),
            (c, "Горячий"),
        ] {
            app.tag_lead(&admin, id, tag).await.unwrap();
        }

        // Only administrators and sales managers; a tag no lead has is not found.
        let e = app
            .rename_tag(&Actor::user(anna.clone()), "выставка", "x1")
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Forbidden(m) if m.code == "role_cannot_manage_tags"),
            "{n}: {e:?}"
        );
        let e = app
            .delete_tag(&Actor::user(anna.clone()), "выставка")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        let e = app
            .rename_tag(&admin, "нет такого", "x1")
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::NotFound(m) if m.code == "tag_not_found"),
            "{n}: {e:?}"
        );
        let e = app.rename_tag(&admin, "выставка", "  ").await.unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }), "{n}: {e:?}");

        // A change of case alone: every lead's tag reads the same after it.
        let done = app
            .rename_tag(&admin, "выставка", "Выставка")
            .await
            .unwrap();
        assert_eq!((done.tag.as_str(), done.leads), ("Выставка", 3), "{n}");
        for id in [a, b, c] {
            let tags = app.lead_detail(&admin, id).await.unwrap().tags;
            assert!(
                tags.contains(&"Выставка".to_string()),
                "{n}: {id}: {tags:?}"
            );
        }

        // A sales manager's rename reaches the leads of their team (and those of nobody) only.
        let done = app
            .rename_tag(&Actor::user(maria.clone()), "ВЫСТАВКА", "Выставка 2026")
            .await
            .unwrap();
        assert_eq!(done.leads, 2, "{n}");
        assert_eq!(tagged(&app, &admin, "выставка 2026").await, [a, b], "{n}");
        assert_eq!(tagged(&app, &admin, "выставка").await, [c], "{n}");

        // A rename into a tag in use joins the two: a lead with both keeps one.
        let done = app
            .rename_tag(&admin, "expo 2026", "выставка 2026")
            .await
            .unwrap();
        assert_eq!((done.tag.as_str(), done.leads), ("выставка 2026", 1), "{n}");
        assert_eq!(
            app.lead_detail(&admin, a).await.unwrap().tags,
            ["Выставка 2026"],
            "{n}: one tag where there were two"
        );
        assert!(tagged(&app, &admin, "expo 2026").await.is_empty(), "{n}");
        let in_use: Vec<(String, i64)> = app
            .tags_in_use(&admin)
            .await
            .unwrap()
            .into_iter()
            .map(|u| (u.tag.to_lowercase(), u.leads))
            .collect();
        assert_eq!(
            in_use,
            [
                ("выставка 2026".to_string(), 2),
                ("выставка".to_string(), 1),
                ("горячий".to_string(), 1)
            ],
            "{n}"
        );

        // Removed from every lead seen: the manager's team has no "Горячий", the admin's has.
        let e = app
            .delete_tag(&Actor::user(maria.clone()), "горячий")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        let done = app.delete_tag(&admin, "горячий").await.unwrap();
        assert_eq!(done.leads, 1, "{n}");
        assert!(tagged(&app, &admin, "горячий").await.is_empty(), "{n}");
        assert_eq!(
            app.lead_detail(&admin, c).await.unwrap().tags,
            ["Выставка"],
            "{n}"
        );

        // Each in the audit log with its count, once.
        let audit = tag_audit(&app).await;
        let json = |tag: &str, leads: i64| {
            Some(serde_json::json!({ "tag": tag, "leads": leads }).to_string())
        };
        assert_eq!(
            audit,
            [
                ("tag.delete".to_string(), json("горячий", 1), None),
                (
                    "tag.rename".to_string(),
                    json("expo 2026", 1),
                    json("выставка 2026", 1)
                ),
                (
                    "tag.rename".to_string(),
                    json("ВЫСТАВКА", 2),
                    json("Выставка 2026", 2)
                ),
                (
                    "tag.rename".to_string(),
                    json("выставка", 3),
                    json("Выставка", 3)
                ),
            ],
            "{n}"
        );

        // Many leads at once lose a tag; a lead without it is listed as refused.
        let out = app
            .bulk_leads(
                &admin,
                &[a, b, c],
                &BulkAction::Untag("ВЫСТАВКА 2026".into()),
            )
            .await
            .unwrap();
        assert_eq!(out.changed, [a, b], "{n}");
        assert_eq!(out.refused.len(), 1, "{n}");
        assert!(
            matches!(&out.refused[0], (id, AppError::NotFound(m)) if *id == c && m.code == "tag_not_on_lead"),
            "{n}: {:?}",
            out.refused
        );
        assert!(
            tagged(&app, &admin, "выставка 2026").await.is_empty(),
            "{n}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_gives_tags_up_to_the_most_and_its_undo_takes_them_back() {
    for db in TestDb::both().await {
        let n = db.name;
        let (app, admin) = with_admin(&db).await;
        let a = lead(&app, "Иван Петров", "+79161234567", "CRM").await;
        let c = lead(&app, "Иван Петров", "+79161234567", "Обучение").await;
        assert_ne!(a, c, "{n}");
        for i in 0..MAX_TAGS_PER_LEAD - 2 {
            app.tag_lead(&admin, a, &format!("метка {i}"))
                .await
                .unwrap();
        }
        // Added a few milliseconds apart: the order they were added in is theirs.
        for tag in ["Метка 0", "Партнёр", "VIP", "Ещё одна"] {
            tokio::time::sleep(std::time::Duration::from_millis(3)).await;
            app.tag_lead(&admin, c, tag).await.unwrap();
        }
        let before = app.lead_detail(&admin, a).await.unwrap().tags;
        let merge = app.merge_leads(&admin, a, c, &[]).await.unwrap();
        // Room for two: the merged lead's earliest it did not have, in order.
        let tags = app.lead_detail(&admin, a).await.unwrap().tags;
        assert_eq!(tags.len(), MAX_TAGS_PER_LEAD, "{n}: {tags:?}");
        assert_eq!(&tags[..before.len()], &before[..], "{n}");
        assert_eq!(&tags[before.len()..], ["Партнёр", "VIP"], "{n}");

        // The undo takes off what the merge gave; the merged lead has its own again.
        app.undo_merge(&admin, merge).await.unwrap();
        assert_eq!(
            app.lead_detail(&admin, a).await.unwrap().tags,
            before,
            "{n}"
        );
        assert_eq!(
            app.lead_detail(&admin, c).await.unwrap().tags,
            ["Метка 0", "Партнёр", "VIP", "Ещё одна"],
            "{n}"
        );
        assert_eq!(tagged(&app, &admin, "партнёр").await, [c], "{n}");
    }
}
