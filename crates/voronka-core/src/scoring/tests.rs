use super::*;
use crate::intake::{normalize, Submission};
use crate::model::Channel;
use serde_json::json;

const NOW: Millis = 1_800_000_000_000;

fn event(id: Id, name: &str, days_ago: f64) -> Event {
    Event {
        id,
        name: name.into(),
        at: NOW - (days_ago * DAY_MS as f64) as i64,
        url: None,
        properties: Default::default(),
    }
}

fn profile(pairs: &[(&str, &str)]) -> Profile {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn points_of(s: &LeadScore, rule: &str) -> Vec<i64> {
    s.contributions
        .iter()
        .filter(|c| c.rule == rule)
        .map(|c| c.points)
        .collect()
}

#[test]
fn presets_read_and_round_trip_through_toml_and_json() {
    for name in Rules::PRESETS {
        let r = Rules::preset(name).unwrap();
        assert!(r.profile.len() > 6, "{name}");
        assert!(r.behaviour.len() > 10, "{name}");
        assert_eq!(Rules::from_toml(&r.to_toml()).unwrap(), r);
        assert_eq!(Rules::from_json(&r.to_json()).unwrap(), r);
    }
    assert!(Rules::preset("b2x").is_none());
}

#[test]
fn bad_rules_are_refused_with_the_reason() {
    let e = Rules::from_toml("[[profile]]\nname = \"a\"\nfield = \"x\"\npoints = 1\n[[behaviour]]\nname = \"A\"\nevent = \"e\"\npoints = 1\n")
        .unwrap_err();
    assert_eq!(e, RulesError::DuplicateName("A".into()));
    let e = Rules::from_toml("[[profile]]\nname = \"a\"\nfield = \" \"\npoints = 1\n").unwrap_err();
    assert_eq!(e, RulesError::EmptyField("a".into()));
    let e = Rules::from_toml(
        "[[profile]]\nname = \"a\"\nfield = \"x\"\nmin = 5\nmax = 1\npoints = 1\n",
    )
    .unwrap_err();
    assert_eq!(e, RulesError::Band("a".into()));
    let e = Rules::from_toml("[levels]\nfit = [30, 20, 40]\nactivity = [1, 2, 3]\n").unwrap_err();
    assert_eq!(e, RulesError::Thresholds("fit level"));
    let e = Rules::from_toml("half_life_days = -1\n").unwrap_err();
    assert_eq!(e, RulesError::HalfLife);
    let e = Rules::from_toml("[[profile]]\nname = \"a\"\nfeild = \"x\"\npoints = 1\n").unwrap_err();
    assert!(
        matches!(e, RulesError::Parse(ref m) if m.contains("feild")),
        "{e}"
    );
    assert!(Rules::from_json("{").is_err());
}

#[test]
fn b2b_profile_points_follow_the_practice_table() {
    let s = Scorer::new(Rules::preset("b2b").unwrap());
    let fit = |size: &str, dept: &str, pos: &str| {
        s.score(
            &profile(&[
                ("company_size", size),
                ("department", dept),
                ("position", pos),
            ]),
            &[],
            false,
            NOW,
        )
        .fit
    };
    assert_eq!(fit("1–20", "IT", "Head of IT"), 10 + 10 + 10);
    assert_eq!(fit("21-100", "Sales", "Sales manager"), 5 + 1 + 5);
    assert_eq!(fit("101+", "ИТ", "Аналитик"), 2 + 10 + 1);
    assert_eq!(fit("5000", "it", "Генеральный директор"), 2 + 10 + 10);
    // A word inside another word is not a match: "ahead" is not "head".
    assert_eq!(fit("15", "Marketing", "Ahead planner"), 10 + 1 + 1);
    // Missing fields give nothing.
    assert_eq!(s.score(&Profile::new(), &[], false, NOW).fit, 0);
}

#[test]
fn b2c_profile_uses_bands_and_regions() {
    let s = Scorer::new(Rules::preset("b2c").unwrap());
    let sc = s.score(
        &profile(&[
            ("income", "95 000"),
            ("age", "31"),
            ("region", "Москва"),
            ("interest", "mortgage"),
        ]),
        &[],
        false,
        NOW,
    );
    assert_eq!(sc.fit, 7 + 10 + 10 + 5);
    assert_eq!(points_of(&sc, "Income 80,000–149,999"), vec![7]);
    let sc = s.score(
        &profile(&[("age", "70"), ("region", "Kazan")]),
        &[],
        false,
        NOW,
    );
    assert_eq!(sc.fit, 3);
}

#[test]
fn email_rules_decay_and_cap() {
    let s = Scorer::new(Rules::preset("b2b").unwrap());
    let fresh = s.score(
        &Profile::new(),
        &[
            event(1, "email_click_product", 0.0),
            event(2, "email_click_ad", 0.0),
            event(3, "email_click_other", 0.0),
            event(4, "email_open", 0.0),
        ],
        false,
        NOW,
    );
    assert_eq!(fresh.engagement, 30 + 20 + 10 + 5);
    // One half-life ago the same clicks count half.
    let old = s.score(
        &Profile::new(),
        &[event(1, "email_click_product", 30.0)],
        false,
        NOW,
    );
    assert_eq!(old.engagement, 15);
    let c = &old.contributions[0];
    assert_eq!(
        (c.points, c.event_id, c.part),
        (30, Some(1), Part::Engagement)
    );
    assert!((c.effective - 15.0).abs() < 1e-9);
    // A year ago: next to nothing.
    let ancient = s.score(
        &Profile::new(),
        &[event(1, "email_click_product", 365.0)],
        false,
        NOW,
    );
    assert_eq!(ancient.engagement, 0);
    // Pricing views are capped at 30 points however many there are.
    let views: Vec<Event> = (0..10).map(|i| event(i, "view_pricing", 0.0)).collect();
    let sc = s.score(&Profile::new(), &views, false, NOW);
    assert_eq!(sc.engagement, 30);
    assert_eq!(points_of(&sc, "Pricing viewed"), vec![10, 10, 10]);
}

#[test]
fn negative_once_and_count_rules() {
    let s = Scorer::new(Rules::preset("b2b").unwrap());
    let mut quiet = event(1, "email_no_reaction", 0.0);
    quiet.properties.insert("count".into(), json!(4));
    assert_eq!(
        s.score(&Profile::new(), &[quiet.clone()], false, NOW)
            .engagement,
        0
    );
    quiet.properties.insert("count".into(), json!("6"));
    let mut again = quiet.clone();
    again.id = 2;
    // Counted once, and it does not fade.
    let sc = s.score(&Profile::new(), &[quiet, again], false, NOW + 90 * DAY_MS);
    assert_eq!(sc.engagement, -25);
    let mut careers = event(3, "page_view", 0.0);
    careers.url = Some("https://example.com/Careers/dev".into());
    let sc = s.score(&Profile::new(), &[careers], false, NOW);
    assert_eq!(points_of(&sc, "Careers page"), vec![-20]);
    assert_eq!(points_of(&sc, "Page view"), vec![1]);
    assert_eq!(sc.engagement, -19);
}

#[test]
fn property_conditions_and_windows() {
    let rules = Rules::from_toml(
        r#"
        half_life_days = 0
        [[behaviour]]
        name = "CRM product page"
        event = "view_product"
        where = { category = "CRM" }
        points = 7
        within_days = 7
        [[behaviour]]
        name = "Any download"
        event = "download"
        where = { file = "*" }
        points = 3
        "#,
    )
    .unwrap();
    let s = Scorer::new(rules);
    let mut crm = event(1, "view_product", 1.0);
    crm.properties.insert("category".into(), json!("crm"));
    let mut crm_old = event(2, "view_product", 8.0);
    crm_old.properties.insert("category".into(), json!("crm"));
    let mut other = event(3, "view_product", 1.0);
    other.properties.insert("category".into(), json!("erp"));
    let mut dl = event(4, "download", 1.0);
    dl.properties.insert("file".into(), json!("price.pdf"));
    let bare_dl = event(5, "download", 1.0);
    let sc = s.score(
        &Profile::new(),
        &[crm, crm_old, other, dl, bare_dl],
        false,
        NOW,
    );
    assert_eq!(points_of(&sc, "CRM product page"), vec![7]);
    assert_eq!(points_of(&sc, "Any download"), vec![3]);
    assert_eq!(sc.engagement, 10);
}

#[test]
fn levels_temperature_and_callbacks() {
    let s = Scorer::default();
    let cold = s.score(&profile(&[("email", "a@b.ru")]), &[], false, NOW);
    assert_eq!(
        (cold.fit_level, cold.activity, cold.temperature),
        (FitLevel::Stranger, Activity::Inactive, Temperature::Cold)
    );
    assert_eq!(
        s.score(&profile(&[("email", "a@b.ru")]), &[], true, NOW)
            .temperature,
        Temperature::Hot
    );
    let events: Vec<Event> = (0..4)
        .map(|i| event(i, "email_click_product", 0.0))
        .collect();
    let p = profile(&[
        ("phone_valid", "true"),
        ("email", "a@b.ru"),
        ("company", "ACME"),
    ]);
    let sc = s.score(&p, &events, false, NOW);
    assert_eq!((sc.fit, sc.engagement, sc.total), (25, 120, 145));
    assert_eq!(
        (sc.fit_level, sc.activity),
        (FitLevel::Suitable, Activity::VeryActive)
    );
    assert_eq!(sc.temperature, Temperature::Hot);
    let mut m = Matrix::default();
    m.add(sc.fit_level, sc.activity, 1);
    m.add(FitLevel::Suitable, Activity::VeryActive, 2);
    assert_eq!(
        (m.get(FitLevel::Suitable, Activity::VeryActive), m.total()),
        (3, 3)
    );
}

#[test]
fn quiz_points_count_toward_fit_and_engagement() {
    let s = Scorer::default();
    let sc = s.score(
        &profile(&[(QUIZ_FIT, "12"), (QUIZ_INTENT, "8")]),
        &[],
        false,
        NOW,
    );
    assert_eq!((sc.fit, sc.engagement), (12, 8));
}

#[test]
fn stage_moves_name_the_rule() {
    let s = Scorer::default();
    let p = profile(&[("phone_valid", "true"), ("email", "a@b.ru")]);
    let views = [event(1, "view_pricing", 0.0), event(2, "view_pricing", 0.0)];
    let sc = s.score(&p, &views, false, NOW);
    let moves = s.stage_moves(Stage::New, sc.fit, sc.engagement, &views);
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0].to, Stage::Mql);
    assert!(moves[0].rule.contains("fit 20 ≥ 20"), "{}", moves[0].rule);
    // Not enough engagement: stays new. Working leads are left to people.
    let bare = s.score(&p, &[], false, NOW);
    assert!(s
        .stage_moves(Stage::New, bare.fit, bare.engagement, &[])
        .is_empty());
    assert!(s
        .stage_moves(Stage::Working, sc.fit, sc.engagement, &views)
        .is_empty());
    // Enough for SQL at once: both moves, in order.
    let clicks: Vec<Event> = (0..4)
        .map(|i| event(i, "email_click_product", 0.0))
        .collect();
    let hot = s.score(&p, &clicks, false, NOW);
    let moves = s.stage_moves(Stage::New, hot.fit, hot.engagement, &clicks);
    assert_eq!(
        moves.iter().map(|m| m.to).collect::<Vec<_>>(),
        vec![Stage::Mql, Stage::Sql]
    );
    // A qualifying event moves an MQL to SQL.
    let mut rules = Rules::default();
    rules.qualify.sql_events = vec!["demo_requested".into()];
    rules.qualify.sql_engagement = None;
    let s = Scorer::new(rules);
    let demo = [event(9, "demo_requested", 0.0)];
    let sc = s.score(&p, &demo, false, NOW);
    let moves = s.stage_moves(Stage::Mql, sc.fit, sc.engagement, &demo);
    assert_eq!(
        moves,
        vec![StageMove {
            to: Stage::Sql,
            rule: "SQL: event demo_requested".into()
        }]
    );
    // Manual only: nothing moves by itself.
    let mut rules = Rules::default();
    rules.qualify.manual_only = true;
    let s = Scorer::new(rules);
    assert!(s
        .stage_moves(Stage::New, hot.fit, hot.engagement, &clicks)
        .iter()
        .all(|m| m.to != Stage::Mql));
}

#[test]
fn submissions_give_profiles_that_keep_the_old_content_points() {
    let full = Submission::new(Channel::WebForm, 0)
        .with("name", "Иван Петров")
        .with("phone", "+79161234567")
        .with("email", "ivan@example.com")
        .with("company", "ACME")
        .with("product", "CRM")
        .with("message", "We need 40 seats by March, please call")
        .with("company_size", "21–100");
    let n = normalize(&full, &Default::default());
    let p = profile_of(&n);
    assert_eq!(p.get("phone_valid").map(String::as_str), Some("true"));
    assert_eq!(
        p.get("email_domain").map(String::as_str),
        Some("example.com")
    );
    assert_eq!(p.get("company_size").map(String::as_str), Some("21–100"));
    let sc = Scorer::default().score(&p, &[], false, NOW);
    assert_eq!(sc.fit, 15 + 5 + 5 + 10 + 10 + 5);
    assert_eq!(sc.temperature, Temperature::Hot);
    let mut merged = p.clone();
    merge_profile(
        &mut merged,
        &profile(&[("company_size", "250"), ("department", "IT")]),
    );
    assert_eq!(merged.get("company_size").map(String::as_str), Some("250"));
    assert_eq!(merged.get("company").map(String::as_str), Some("ACME"));
}
