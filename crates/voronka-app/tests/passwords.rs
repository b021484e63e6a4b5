//! Passwords against both backends: a person changes their own, an administrator sets one,
//! failed sign-ins lock an email's sign-in for a while, and a link sent by email (to a real
//! SMTP server) sets a forgotten password once.

mod common;
mod smtp;

use common::TestDb;
use smtp::SmtpSink;
use voronka_app::{
    Actor, App, AppError, Settings, LOGIN_FAILURES_ALLOWED, LOGIN_LOCK_MS, RESET_LINKS_PER_HOUR,
    RESET_LINK_MS,
};
use voronka_core::{Role, User};

const URL: &str = "https://crm.example.com/";

struct World {
    app: App,
    admin: Actor,
    admin_user: User,
    olga: User,
}

async fn world(db: &TestDb) -> World {
    let app = App::open(&db.url, Settings::default())
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name));
    let admin_user = app
        .add_user("admin@example.com", "Админ", "admin password", Role::Admin)
        .await
        .unwrap();
    let olga = app
        .add_user(
            "olga@example.com",
            "Ольга <b>Петрова</b>",
            "first password",
            Role::Salesperson,
        )
        .await
        .unwrap();
    World {
        admin: Actor::user(admin_user.clone()),
        admin_user,
        olga,
        app,
    }
}

/// The session token of a sign-in, or the error.
async fn sign_in(app: &App, email: &str, password: &str) -> Result<String, AppError> {
    app.login(email, password).await.map(|(_, token, _)| token)
}

async fn signed_in(app: &App, token: &str) -> bool {
    app.session_user(token).await.unwrap().is_some()
}

/// The audit actions written about a user, oldest first.
async fn audit_of_user(app: &App, id: i64) -> Vec<(String, Option<String>)> {
    app.store()
        .audit_for("user", id)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.after))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_password_changed_and_set_by_an_administrator() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let here = sign_in(app, "olga@example.com", "first password")
            .await
            .unwrap();
        let phone = sign_in(app, "OLGA@example.com ", "first password")
            .await
            .unwrap();
        let olga = Actor::user(w.olga.clone());

        // The current password must be right, the new one long enough.
        let e = app
            .change_own_password(&olga, "wrong", "second password", Some(&here))
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid { fields, .. } if fields[0].field == "current_password"),
            "{n}: {e:?}"
        );
        let e = app
            .change_own_password(&olga, "first password", "short", Some(&here))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("8 characters"), "{n}: {e}");
        let e = app
            .change_own_password(&olga, "first password", &"я".repeat(1025), Some(&here))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("1024"), "{n}: {e}");
        // A token is no person with a password of its own.
        let e = app
            .change_own_password(&Actor::system("sync"), "x", "second password", None)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        assert!(signed_in(app, &phone).await, "{n}: refusals end nothing");

        app.change_own_password(&olga, "first password", "второй пароль", Some(&here))
            .await
            .unwrap();
        assert!(signed_in(app, &here).await, "{n}: the session in use stays");
        assert!(
            !signed_in(app, &phone).await,
            "{n}: the other session ended"
        );
        assert!(sign_in(app, "olga@example.com", "first password")
            .await
            .is_err());
        let laptop = sign_in(app, "olga@example.com", "второй пароль")
            .await
            .unwrap();

        // An administrator sets it: every session of hers ends.
        let e = app
            .admin_set_password(&olga, w.admin_user.id, "taken over now", None)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        let e = app
            .admin_set_password(&w.admin, 999_999, "long enough", None)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        app.admin_set_password(&w.admin, w.olga.id, "третий пароль", Some("not hers"))
            .await
            .unwrap();
        assert!(!signed_in(app, &here).await, "{n}");
        assert!(!signed_in(app, &laptop).await, "{n}");
        sign_in(app, "olga@example.com", "третий пароль")
            .await
            .unwrap();
        // Administrators setting their own keep the session they use.
        let desk = sign_in(app, "admin@example.com", "admin password")
            .await
            .unwrap();
        let other = sign_in(app, "admin@example.com", "admin password")
            .await
            .unwrap();
        app.admin_set_password(&w.admin, w.admin_user.id, "new admin password", Some(&desk))
            .await
            .unwrap();
        assert!(signed_in(app, &desk).await, "{n}");
        assert!(!signed_in(app, &other).await, "{n}");

        // The audit log says who set it and how many sessions ended; never the password.
        let audit = audit_of_user(app, w.olga.id).await;
        let actions: Vec<&str> = audit.iter().map(|(a, _)| a.as_str()).collect();
        assert_eq!(
            actions,
            ["user.password", "user.password_set"],
            "{n}: {audit:?}"
        );
        assert_eq!(
            audit[0].1.as_deref(),
            Some(r#"{"sessions_ended":1}"#),
            "{n}"
        );
        assert_eq!(
            audit[1].1.as_deref(),
            Some(r#"{"sessions_ended":2}"#),
            "{n}"
        );
        let all = format!("{audit:?}");
        assert!(
            !all.contains("пароль") && !all.contains("argon2"),
            "{n}: {all}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_lock_the_email_for_a_while() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let t0 = voronka_app::now_ms();
        for i in 0..LOGIN_FAILURES_ALLOWED {
            let e = app
                .login_at("olga@example.com", "guess", t0 + i * 1000)
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::Unauthorized(_)), "{n}: {e:?}");
        }
        // Locked: even the right password is refused, and says for how long: until the
        // first failure is out of the while.
        let e = app
            .login_at("Olga@Example.com", "first password", t0 + 10_000)
            .await
            .unwrap_err();
        match &e {
            AppError::Limited { retry_after_s, .. } => {
                assert_eq!(*retry_after_s, (LOGIN_LOCK_MS / 1000 - 10) as u64, "{n}")
            }
            other => panic!("{n}: {other:?}"),
        }
        assert!(e.to_string().contains("in 15 min"), "{n}: {e}");
        // Near its end, the wait is what is left of it.
        match app
            .login_at(
                "olga@example.com",
                "first password",
                t0 + LOGIN_LOCK_MS - 30_000,
            )
            .await
            .unwrap_err()
        {
            AppError::Limited {
                retry_after_s,
                message,
            } => {
                assert_eq!(retry_after_s, 30, "{n}");
                assert!(message.to_string().contains("in 1 min"), "{n}: {message}");
            }
            other => panic!("{n}: {other:?}"),
        }
        // Another email is not locked, nor is an unknown one by these tries.
        app.login_at("admin@example.com", "admin password", t0 + 10_000)
            .await
            .unwrap();
        let e = app
            .login_at("nobody@example.com", "guess", t0 + 10_000)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Unauthorized(_)), "{n}: {e:?}");
        // Once the first failure is older than the lock, one more try is allowed, and a right
        // password clears the count.
        let later = t0 + LOGIN_LOCK_MS + 1;
        app.login_at("olga@example.com", "first password", later)
            .await
            .unwrap();
        for i in 0..LOGIN_FAILURES_ALLOWED - 1 {
            app.login_at("olga@example.com", "guess", later + i)
                .await
                .unwrap_err();
        }
        app.login_at("olga@example.com", "first password", later + 100)
            .await
            .expect("four failures do not lock, and the count starts again");

        // A new password set by an administrator lifts a lock.
        for i in 0..LOGIN_FAILURES_ALLOWED {
            app.login_at("olga@example.com", "guess", later + 200 + i)
                .await
                .unwrap_err();
        }
        assert!(matches!(
            app.login_at("olga@example.com", "first password", later + 300)
                .await,
            Err(AppError::Limited { .. })
        ));
        app.admin_set_password(&w.admin, w.olga.id, "fourth password", None)
            .await
            .unwrap();
        app.login_at("olga@example.com", "fourth password", later + 400)
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_sent_by_email_sets_a_forgotten_password_once() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        // Without email set up nobody can be sent a link, and the answer says so.
        assert!(!app
            .request_password_reset("olga@example.com", URL)
            .await
            .unwrap());
        let sink = SmtpSink::start();
        app.set_smtp_settings(&w.admin, Some(sink.settings()))
            .await
            .unwrap();
        let session = sign_in(app, "olga@example.com", "first password")
            .await
            .unwrap();

        // The same answer for a person and for nobody; a disabled person gets no link.
        assert!(app
            .request_password_reset(" Olga@Example.com ", URL)
            .await
            .unwrap());
        assert!(app
            .request_password_reset("nobody@example.com", URL)
            .await
            .unwrap());
        app.run_due_jobs("test").await.unwrap();
        let mails = sink.wait_for(1);
        assert_eq!(mails.len(), 1, "{n}: {mails:?}");
        let mail = &mails[0];
        assert_eq!(mail.rcpt_to, ["olga@example.com"], "{n}");
        assert_eq!(mail.subject, "Set a new password for Voronka", "{n}");
        assert!(
            mail.body.contains("Ольга <b>Петрова</b>"),
            "{n}: {}",
            mail.body
        );
        let link = mail
            .body
            .lines()
            .find(|l| l.starts_with("https://crm.example.com/password/reset/"))
            .unwrap_or_else(|| panic!("{n}: {}", mail.body));
        let token = link.rsplit('/').next().unwrap().trim().to_string();
        assert_eq!(token.len(), 64, "{n}: {token}");
        assert!(app.password_link_works(&token).await.unwrap(), "{n}");
        assert!(!app.password_link_works("00ff").await.unwrap(), "{n}");

        // A short password is refused and leaves the link working.
        let e = app.reset_password(&token, "short").await.unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }), "{n}: {e:?}");
        assert!(app.password_link_works(&token).await.unwrap(), "{n}");
        let user = app
            .reset_password(&token, "пароль по ссылке")
            .await
            .unwrap();
        assert_eq!(user.id, w.olga.id, "{n}");
        assert!(!signed_in(app, &session).await, "{n}: her sessions ended");
        sign_in(app, "olga@example.com", "пароль по ссылке")
            .await
            .unwrap();
        assert!(sign_in(app, "olga@example.com", "first password")
            .await
            .is_err());
        // Once only.
        assert!(!app.password_link_works(&token).await.unwrap(), "{n}");
        let e = app
            .reset_password(&token, "yet another password")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        assert!(e.to_string().contains("expired"), "{n}: {e}");
        let audit = audit_of_user(app, w.olga.id).await;
        assert_eq!(
            audit.last().map(|(a, _)| a.as_str()),
            Some("user.password_reset"),
            "{n}: {audit:?}"
        );

        // The person is told of the new password at their address, without the password.
        app.run_due_jobs("test").await.unwrap();
        let mails = sink.wait_for(2);
        let notice = &mails[1];
        assert_eq!(notice.rcpt_to, ["olga@example.com"], "{n}");
        assert_eq!(notice.subject, "Your Voronka password was changed", "{n}");
        assert!(
            notice
                .body
                .contains("set through a link sent to this address")
                && notice.body.contains("(UTC)")
                && notice.body.contains("If this was not you"),
            "{n}: {}",
            notice.body
        );
        assert!(!notice.body.contains("пароль по ссылке"), "{n}");

        // A link expires; using one uses up the others sent before it.
        let t0 = voronka_app::now_ms();
        app.request_password_reset_at("olga@example.com", URL, t0)
            .await
            .unwrap();
        app.request_password_reset_at("olga@example.com", URL, t0 + 1)
            .await
            .unwrap();
        app.run_due_jobs("test").await.unwrap();
        let mails = sink.wait_for(4);
        let token_of = |body: &str| {
            body.lines()
                .find(|l| l.contains("/password/reset/"))
                .and_then(|l| l.rsplit('/').next())
                .unwrap()
                .trim()
                .to_string()
        };
        let (first, second) = (token_of(&mails[2].body), token_of(&mails[3].body));
        assert_ne!(first, second, "{n}");
        let e = app
            .reset_password_at(&first, "too late password", t0 + RESET_LINK_MS + 1)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: expired: {e:?}");
        app.reset_password_at(&second, "in time password", t0 + 1000)
            .await
            .unwrap();
        let e = app
            .reset_password_at(&first, "the other link", t0 + 2000)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: used up: {e:?}");

        // At most a few links an hour: a mailbox is not flooded.
        let t1 = t0 + 10 * RESET_LINK_MS;
        for i in 0..RESET_LINKS_PER_HOUR + 2 {
            assert!(app
                .request_password_reset_at("olga@example.com", URL, t1 + i)
                .await
                .unwrap());
        }
        app.run_due_jobs_at("test", t1 + 100).await.unwrap();
        // The links so far, two notices of a new password, and the links of this hour.
        let want = 5 + RESET_LINKS_PER_HOUR as usize;
        let mails = sink.wait_for(want);
        // Give a stray extra message time to arrive before counting.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(sink.messages().len(), want, "{n}: {mails:?}");

        // A disabled person's link no longer works.
        let t2 = t1 + 2 * RESET_LINK_MS;
        app.request_password_reset_at("olga@example.com", URL, t2)
            .await
            .unwrap();
        app.run_due_jobs_at("test", t2 + 100).await.unwrap();
        let mails = sink.wait_for(want + 1);
        let last = token_of(&mails[want].body);
        assert!(app.password_link_works(&last).await.unwrap(), "{n}");
        app.admin_update_user(&w.admin, w.olga.id, Role::Salesperson, false)
            .await
            .unwrap();
        assert!(!app.password_link_works(&last).await.unwrap(), "{n}");
        let e = app
            .reset_password(&last, "disabled person")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_sees_and_ends_their_sessions() {
    for db in TestDb::both().await {
        let n = db.name;
        let w = world(&db).await;
        let app = &w.app;
        let olga = Actor::user(w.olga.clone());
        let t0 = voronka_app::now_ms() - 10 * 60_000;
        let sign = |ua: Option<String>, at: i64| {
            let app = app.clone();
            async move {
                app.sign_in("olga@example.com", "first password", ua.as_deref(), at)
                    .await
                    .unwrap()
                    .1
            }
        };
        let desk = sign(Some("Firefox\u{7}/128 <b>Linux</b>".into()), t0).await;
        let phone = sign(None, t0 + 1).await;
        let long = sign(Some("Я".repeat(500)), t0 + 2).await;
        app.login("admin@example.com", "admin password")
            .await
            .unwrap();

        let mine = app.my_sessions(&olga, Some(&desk)).await.unwrap();
        assert_eq!(mine.len(), 3, "{n}: {mine:?}");
        assert_eq!(mine[0].created_at, t0 + 2, "{n}: the latest first");
        assert_eq!(
            mine[0].user_agent.as_deref().map(|a| a.chars().count()),
            Some(400)
        );
        assert_eq!(mine[1].user_agent, None, "{n}");
        assert_eq!(
            mine[2].user_agent.as_deref(),
            Some("Firefox/128 <b>Linux</b>"),
            "{n}"
        );
        let current: Vec<bool> = mine.iter().map(|s| s.current).collect();
        assert_eq!(current, [false, false, true], "{n}");
        for s in &mine {
            assert_eq!(s.id.len(), 16, "{n}");
            assert!(
                ![&desk, &phone, &long].iter().any(|t| t.contains(&s.id)),
                "{n}"
            );
        }
        // Reading through a session notes when it was last active.
        assert_eq!(mine[2].last_seen_at, Some(t0), "{n}");
        app.session_user(&desk).await.unwrap().unwrap();
        let seen = app.my_sessions(&olga, Some(&desk)).await.unwrap()[2].last_seen_at;
        assert!(seen.is_some_and(|s| s > t0 + 5 * 60_000), "{n}: {seen:?}");

        // Only her own: an administrator cannot end hers by its id, nor can a token have any.
        let e = app
            .end_my_session(&w.admin, &mine[1].id, None)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        assert!(signed_in(app, &phone).await, "{n}");
        let e = app
            .my_sessions(&Actor::system("sync"), None)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");

        let was_current = app
            .end_my_session(&olga, &mine[1].id, Some(&desk))
            .await
            .unwrap();
        assert!(
            !was_current,
            "{n}: the phone's session is not the one in use"
        );
        assert!(!signed_in(app, &phone).await, "{n}");
        let e = app
            .end_my_session(&olga, &mine[1].id, None)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::NotFound(_)), "{n}: {e:?}");
        assert_eq!(
            app.end_my_other_sessions(&olga, &desk).await.unwrap(),
            1,
            "{n}"
        );
        assert!(!signed_in(app, &long).await, "{n}");
        assert!(signed_in(app, &desk).await, "{n}");
        let left = app.my_sessions(&olga, Some(&desk)).await.unwrap();
        assert_eq!(left.len(), 1, "{n}: {left:?}");
        assert!(left[0].current, "{n}");
        assert_eq!(
            app.my_sessions(&w.admin, None).await.unwrap().len(),
            1,
            "{n}: the administrator's own session stays"
        );
    }
}
