//! Two-step sign-in against both backends: set up with an authenticator app's code, a sign-in
//! that then waits for a code, each code good once, recovery codes, wrong codes locking the
//! email's sign-in, an expired wait, new recovery codes, and turning it off (by its owner, an
//! administrator, the command line).

mod common;
mod smtp;

use common::TestDb;
use smtp::SmtpSink;
use voronka_app::{
    totp_code, Actor, App, AppError, Settings, SignIn, TwoStepPolicy, LOGIN_FAILURES_ALLOWED,
    RECOVERY_CODES, SECOND_STEP_MS,
};
use voronka_core::{Role, User};

const STEP: i64 = 30_000;

async fn person(app: &App, email: &str) -> User {
    app.add_user(email, "Ольга", "first password", Role::Salesperson)
        .await
        .unwrap()
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

/// Turns two-step sign-in on for a person at `now`; the app's key and the recovery codes.
async fn turned_on(app: &App, who: &Actor, now: i64) -> (String, Vec<String>) {
    let setup = app.start_two_step(who).await.unwrap();
    let codes = app
        .confirm_two_step(who, &totp_code(&setup.secret, now).unwrap(), now)
        .await
        .unwrap();
    (setup.secret, codes)
}

/// The token of a sign-in waiting for its code.
async fn waiting(app: &App, email: &str, now: i64) -> String {
    match app
        .begin_sign_in(email, "first password", Some("Firefox"), now)
        .await
        .unwrap()
    {
        SignIn::SecondStep(token) => token,
        other => panic!("{other:?}"),
    }
}

fn is_code_wrong(e: &AppError) -> bool {
    matches!(e, AppError::Unauthorized(m) if m.code == "two_step_code_wrong")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_step_sign_in_set_up_used_and_turned_off() {
    for db in TestDb::both().await {
        let n = db.name;
        let (app, admin) = with_admin(&db).await;
        let olga_user = person(&app, "olga@example.com").await;
        let olga = Actor::user(olga_user.clone());
        let t0 = voronka_app::now_ms();

        // Set up: a key and its address for the app; a wrong code does not turn it on.
        let status = app.two_step_status(&olga).await.unwrap();
        assert!(!status.on && status.setup.is_none(), "{n}: {status:?}");
        let e = app.confirm_two_step(&olga, "123456", t0).await.unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid { message, .. } if message.code == "two_step_not_started"),
            "{n}: {e:?}"
        );
        let setup = app.start_two_step(&olga).await.unwrap();
        assert_eq!(setup.secret.len(), 32, "{n}: 160 bits in base32");
        assert!(
            setup
                .uri
                .starts_with("otpauth://totp/Voronka:olga@example.com?secret=")
                || setup
                    .uri
                    .starts_with("otpauth://totp/Voronka:olga%40example.com?secret="),
            "{n}: {}",
            setup.uri
        );
        assert!(setup.uri.contains(&setup.secret) && setup.uri.contains("issuer=Voronka"));
        let status = app.two_step_status(&olga).await.unwrap();
        assert_eq!(status.setup.as_ref(), Some(&setup), "{n}");
        let code = totp_code(&setup.secret, t0).unwrap();
        let wrong = if code == "000000" { "111111" } else { "000000" };
        let e = app.confirm_two_step(&olga, wrong, t0).await.unwrap_err();
        assert!(
            matches!(&e, AppError::Invalid { message, .. } if message.code == "two_step_code_wrong"),
            "{n}: {e:?}"
        );
        assert!(!app.two_step_status(&olga).await.unwrap().on, "{n}");
        let codes = app.confirm_two_step(&olga, &code, t0).await.unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES, "{n}");
        let mut distinct = codes.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), RECOVERY_CODES, "{n}: {codes:?}");
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-'),
            "{n}: {codes:?}"
        );
        let status = app.two_step_status(&olga).await.unwrap();
        assert!(status.on && status.setup.is_none(), "{n}: {status:?}");
        assert_eq!(status.recovery_codes_left, RECOVERY_CODES as i64, "{n}");
        let e = app.start_two_step(&olga).await.unwrap_err();
        assert!(matches!(e, AppError::Conflict(_)), "{n}: {e:?}");
        assert_eq!(
            app.two_step_users(&admin).await.unwrap(),
            [olga_user.id],
            "{n}"
        );

        // The password alone no longer signs in; the sign-in waits for a code.
        let e = app
            .login_at("olga@example.com", "first password", t0)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Unauthorized(m) if m.code == "two_step_required"),
            "{n}: {e:?}"
        );
        // The code that turned it on has been used: a later step's code signs in, once.
        let t1 = t0 + 2 * STEP;
        let token = waiting(&app, "olga@example.com", t1).await;
        let e = app
            .finish_sign_in(&token, &totp_code(&setup.secret, t0).unwrap(), t1)
            .await;
        // t0's step is within the drift of t1's only when t1 is one step on; two steps on it
        // is not, and used already either way.
        assert!(is_code_wrong(&e.unwrap_err()), "{n}");
        let e = app.finish_sign_in(&token, wrong, t1).await.unwrap_err();
        assert!(is_code_wrong(&e), "{n}: {e:?}");
        let code1 = totp_code(&setup.secret, t1).unwrap();
        let (u, session, _) = app
            .finish_sign_in(&token, &format!(" {} {} ", &code1[..3], &code1[3..]), t1)
            .await
            .unwrap();
        assert_eq!(u.id, olga_user.id, "{n}");
        assert!(app.session_user(&session).await.unwrap().is_some(), "{n}");
        let sessions = app.my_sessions(&olga, Some(&session)).await.unwrap();
        assert_eq!(
            sessions[0].user_agent.as_deref(),
            Some("Firefox"),
            "{n}: the browser named at the password step"
        );
        // The waiting sign-in is done: its token signs in no more.
        let e = app.finish_sign_in(&token, &code1, t1).await.unwrap_err();
        assert!(
            matches!(&e, AppError::Unauthorized(m) if m.code == "two_step_expired"),
            "{n}: {e:?}"
        );
        // The same code again, on a new sign-in, is refused: seen once, used once.
        let token = waiting(&app, "olga@example.com", t1 + 1000).await;
        let e = app
            .finish_sign_in(&token, &code1, t1 + 1000)
            .await
            .unwrap_err();
        assert!(is_code_wrong(&e), "{n}: {e:?}");

        // A recovery code, in any case and with spaces, once.
        let typed = codes[0].to_uppercase().replace('-', " ");
        app.finish_sign_in(&token, &typed, t1 + 2000).await.unwrap();
        let token = waiting(&app, "olga@example.com", t1 + 3000).await;
        let e = app
            .finish_sign_in(&token, &codes[0], t1 + 3000)
            .await
            .unwrap_err();
        assert!(is_code_wrong(&e), "{n}: {e:?}");
        assert_eq!(
            app.two_step_status(&olga)
                .await
                .unwrap()
                .recovery_codes_left,
            RECOVERY_CODES as i64 - 1,
            "{n}"
        );

        // A sign-in waits so long for its code, and no longer.
        let late = t1 + 3000 + SECOND_STEP_MS + 1;
        let e = app
            .finish_sign_in(&token, &totp_code(&setup.secret, late).unwrap(), late)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Unauthorized(m) if m.code == "two_step_expired"),
            "{n}: {e:?}"
        );

        // New recovery codes need the password; the old ones stop working.
        let e = app.renew_recovery_codes(&olga, "not it").await.unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }), "{n}: {e:?}");
        let fresh = app
            .renew_recovery_codes(&olga, "first password")
            .await
            .unwrap();
        assert_eq!(fresh.len(), RECOVERY_CODES, "{n}");
        let t2 = late + STEP;
        let token = waiting(&app, "olga@example.com", t2).await;
        let e = app.finish_sign_in(&token, &codes[1], t2).await.unwrap_err();
        assert!(is_code_wrong(&e), "{n}: {e:?}");
        app.finish_sign_in(&token, &fresh[3], t2).await.unwrap();

        // A new password ends a sign-in waiting for its code: it began with the old one.
        let token = waiting(&app, "olga@example.com", t2 + 1000).await;
        app.admin_set_password(&admin, olga_user.id, "first password", None)
            .await
            .unwrap();
        let e = app
            .finish_sign_in(&token, &fresh[4], t2 + 1000)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, AppError::Unauthorized(m) if m.code == "two_step_expired"),
            "{n}: {e:?}"
        );

        // Turned off by its owner (password asked), then on again and off by an administrator.
        let e = app
            .turn_off_own_two_step(&olga, "not it")
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Invalid { .. }), "{n}: {e:?}");
        app.turn_off_own_two_step(&olga, "first password")
            .await
            .unwrap();
        app.login_at("olga@example.com", "first password", t2)
            .await
            .expect("the password alone again");
        turned_on(&app, &olga, t2).await;
        let e = app.reset_two_step(&olga, olga_user.id).await.unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        app.reset_two_step(&admin, olga_user.id).await.unwrap();
        assert!(!app.two_step_status(&olga).await.unwrap().on, "{n}");
        assert_eq!(
            app.two_step_status(&olga)
                .await
                .unwrap()
                .recovery_codes_left,
            0,
            "{n}: the codes go with it"
        );
        turned_on(&app, &olga, t2 + STEP).await;
        let u = app
            .reset_two_step_by_email(" OLGA@example.com ")
            .await
            .unwrap();
        assert_eq!(u.id, olga_user.id, "{n}");
        app.login_at("olga@example.com", "first password", t2 + 2 * STEP)
            .await
            .unwrap();

        let actions: Vec<String> = app
            .store()
            .audit_for("user", olga_user.id)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        for a in [
            "user.two_step_on",
            "user.recovery_code_used",
            "user.recovery_codes",
            "user.two_step_off",
            "user.two_step_reset",
        ] {
            assert!(actions.iter().any(|x| x == a), "{n}: {a}: {actions:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_lock_the_email_as_wrong_passwords_do() {
    for db in TestDb::both().await {
        let n = db.name;
        let app = App::open(&db.url, Settings::default()).await.unwrap();
        let boris = Actor::user(person(&app, "boris@example.com").await);
        let t0 = voronka_app::now_ms();
        let (secret, codes) = turned_on(&app, &boris, t0).await;
        let t1 = t0 + 2 * STEP;
        let right = totp_code(&secret, t1).unwrap();
        let wrong = if right == "000000" {
            "111111"
        } else {
            "000000"
        };
        // A right password in between does not buy more guesses.
        let token = waiting(&app, "boris@example.com", t1).await;
        for i in 0..LOGIN_FAILURES_ALLOWED {
            if i == 2 {
                waiting(&app, "boris@example.com", t1 + i).await;
            }
            let e = app.finish_sign_in(&token, wrong, t1 + i).await.unwrap_err();
            assert!(is_code_wrong(&e), "{n}: {e:?}");
        }
        // Locked: neither the right code, a recovery code nor the password passes.
        for code in [right.as_str(), codes[0].as_str()] {
            let e = app
                .finish_sign_in(&token, code, t1 + 100)
                .await
                .unwrap_err();
            assert!(matches!(e, AppError::Limited { .. }), "{n}: {e:?}");
        }
        let e = app
            .begin_sign_in("boris@example.com", "first password", None, t1 + 100)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Limited { .. }), "{n}: {e:?}");
        // The recovery code was not used up by the locked try.
        assert_eq!(
            app.two_step_status(&boris)
                .await
                .unwrap()
                .recovery_codes_left,
            RECOVERY_CODES as i64,
            "{n}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_person_is_told_by_email_of_each_change_to_their_sign_in() {
    for db in TestDb::both().await {
        let n = db.name;
        let (app, admin) = with_admin(&db).await;
        let vera_user = person(&app, "vera@example.com").await;
        let vera = Actor::user(vera_user.clone());
        let sink = SmtpSink::start();
        app.set_smtp_settings(&admin, Some(sink.settings()))
            .await
            .unwrap();
        let t0 = voronka_app::now_ms();
        let (_, codes) = turned_on(&app, &vera, t0).await;
        let token = waiting(&app, "vera@example.com", t0 + 1000).await;
        app.finish_sign_in(&token, &codes[0], t0 + 1000)
            .await
            .unwrap();
        app.reset_two_step(&admin, vera_user.id).await.unwrap();
        app.change_own_password(&vera, "first password", "a second password", None)
            .await
            .unwrap();
        // Five wrong passwords lock the sign-in and tell its person once; an email nobody signs
        // in with tells nobody.
        for i in 0..LOGIN_FAILURES_ALLOWED + 1 {
            for email in ["vera@example.com", "nobody@example.com"] {
                app.login_at(email, "a guess", t0 + 2000 + i)
                    .await
                    .unwrap_err();
            }
        }
        app.run_due_jobs_at("test", t0 + 60_000).await.unwrap();
        let mails = sink.wait_for(5);
        // Give a stray extra message time to arrive before counting.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(sink.messages().len(), 5, "{n}: {mails:?}");
        let mut got: Vec<&str> = mails.iter().map(|m| m.subject.as_str()).collect();
        got.sort_unstable();
        assert_eq!(
            got,
            [
                "A recovery code signed you in to Voronka",
                "Two-step sign-in is off for your Voronka sign-in",
                "Two-step sign-in is on for your Voronka sign-in",
                "Your Voronka password was changed",
                "Your Voronka sign-in is locked for a while",
            ],
            "{n}"
        );
        assert!(
            mails.iter().all(|m| m.rcpt_to == ["vera@example.com"]),
            "{n}: {mails:?}"
        );
        // Who made a change for them is named; their own changes are not.
        let body = |subject: &str| {
            mails
                .iter()
                .find(|m| m.subject.starts_with(subject))
                .map(|m| m.body.clone())
                .unwrap()
        };
        let off = body("Two-step sign-in is off");
        assert!(off.contains("by Админ"), "{n}: {off}");
        let own = body("Your Voronka password");
        assert!(!own.contains(" by "), "{n}: {own}");
        assert!(
            mails.iter().all(|m| !m.body.contains(&codes[0])),
            "{n}: no code is ever sent"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_requires_two_step_sign_in_of_administrators_or_everyone() {
    for db in TestDb::both().await {
        let n = db.name;
        let (app, admin) = with_admin(&db).await;
        let admin_user = app
            .user_by_email("admin@example.com")
            .await
            .unwrap()
            .unwrap();
        let olga_user = person(&app, "olga@example.com").await;
        let olga = Actor::user(olga_user.clone());
        assert_eq!(
            app.two_step_policy().await.unwrap(),
            TwoStepPolicy::Nobody,
            "{n}"
        );
        assert!(!app.must_set_up_two_step(&admin_user).await.unwrap(), "{n}");

        // Only administrators set the rule; the audit log keeps it.
        let e = app
            .set_two_step_policy(&olga, TwoStepPolicy::Everyone)
            .await
            .unwrap_err();
        assert!(matches!(e, AppError::Forbidden(_)), "{n}: {e:?}");
        app.set_two_step_policy(&admin, TwoStepPolicy::Admins)
            .await
            .unwrap();
        assert_eq!(
            app.two_step_policy().await.unwrap(),
            TwoStepPolicy::Admins,
            "{n}"
        );
        assert!(app.must_set_up_two_step(&admin_user).await.unwrap(), "{n}");
        assert!(!app.must_set_up_two_step(&olga_user).await.unwrap(), "{n}");
        app.set_two_step_policy(&admin, TwoStepPolicy::Everyone)
            .await
            .unwrap();
        assert!(app.must_set_up_two_step(&olga_user).await.unwrap(), "{n}");
        // Turned on, it is asked no more.
        turned_on(&app, &olga, voronka_app::now_ms()).await;
        assert!(!app.must_set_up_two_step(&olga_user).await.unwrap(), "{n}");
        let changes: Vec<(Option<String>, Option<String>)> = app
            .store()
            .recent_audit(None, 50)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "two_step_policy.update")
            .map(|e| (e.before, e.after))
            .collect();
        assert_eq!(
            changes,
            [
                (Some(r#""admins""#.into()), Some(r#""everyone""#.into())),
                (Some(r#""nobody""#.into()), Some(r#""admins""#.into())),
            ],
            "{n}"
        );
    }
}
