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
fn the_probability_of_conversion_qualifies_when_the_rules_say_so() {
    let p = profile(&[("phone_valid", "true")]);
    let mut rules = Rules::default();
    let s = Scorer::new(rules.clone());
    let bare = s.score(&p, &[], false, NOW);
    // Without a threshold, no probability moves a lead.
    assert!(s
        .stage_moves(Stage::New, bare.fit, bare.engagement, Some(0.99), &[])
        .is_empty());
    rules.qualify.mql_conversion = Some(0.3);
    rules.qualify.sql_conversion = Some(0.6);
    rules.check().unwrap();
    assert_eq!(rules.qualify.conversion_threshold(), Some(0.3));
    let s = Scorer::new(rules.clone());
    let moves = |stage, p| s.stage_moves(stage, bare.fit, bare.engagement, p, &[]);
    assert!(moves(Stage::New, Some(0.29)).is_empty());
    assert!(moves(Stage::New, None).is_empty(), "no prediction, no move");
    assert_eq!(
        moves(Stage::New, Some(0.3)),
        vec![StageMove {
            to: Stage::Mql,
            rule: "MQL: predicted conversion 30 % ≥ 30 %".into()
        }]
    );
    assert_eq!(
        moves(Stage::New, Some(0.75))
            .iter()
            .map(|m| (m.to, m.rule.as_str()))
            .collect::<Vec<_>>(),
        vec![
            (Stage::Mql, "MQL: predicted conversion 75 % ≥ 30 %"),
            (Stage::Sql, "SQL: predicted conversion 75 % ≥ 60 %"),
        ]
    );
    assert_eq!(moves(Stage::Mql, Some(0.5)), vec![]);
    assert!(moves(Stage::Working, Some(0.9)).is_empty());
    // Manual MQL only: the probability moves MQLs to SQL, never new leads to MQL.
    rules.qualify.manual_only = true;
    assert_eq!(rules.qualify.conversion_threshold(), Some(0.6));
    let s = Scorer::new(rules.clone());
    assert!(s
        .stage_moves(Stage::New, bare.fit, bare.engagement, Some(0.9), &[])
        .is_empty());
    // A threshold is a probability; the rules say which one is not.
    for (mql, sql, named) in [
        (Some(1.5), None, "qualify.mql_conversion"),
        (None, Some(-0.1), "qualify.sql_conversion"),
        (Some(f64::NAN), None, "qualify.mql_conversion"),
    ] {
        let mut r = Rules::default();
        r.qualify.mql_conversion = mql;
        r.qualify.sql_conversion = sql;
        let e = r.check().unwrap_err();
        assert!(e.to_string().starts_with(named), "{e}");
    }
    // Written and read back in TOML.
    let mut r = Rules::default();
    r.qualify.mql_conversion = Some(0.25);
    let text = r.to_toml();
    assert!(text.contains("mql_conversion = 0.25"), "{text}");
    assert_eq!(Rules::from_toml(&text).unwrap(), r);
}

#[test]
fn stage_moves_name_the_rule() {
    let s = Scorer::default();
    let p = profile(&[("phone_valid", "true"), ("email", "a@b.ru")]);
    let views = [event(1, "view_pricing", 0.0), event(2, "view_pricing", 0.0)];
    let sc = s.score(&p, &views, false, NOW);
    let moves = s.stage_moves(Stage::New, sc.fit, sc.engagement, None, &views);
    assert_eq!(moves.len(), 1);
    assert_eq!(moves[0].to, Stage::Mql);
    assert!(moves[0].rule.contains("fit 20 ≥ 20"), "{}", moves[0].rule);
    // Not enough engagement: stays new. Working leads are left to people.
    let bare = s.score(&p, &[], false, NOW);
    assert!(s
        .stage_moves(Stage::New, bare.fit, bare.engagement, None, &[])
        .is_empty());
    assert!(s
        .stage_moves(Stage::Working, sc.fit, sc.engagement, None, &views)
        .is_empty());
    // Enough for SQL at once: both moves, in order.
    let clicks: Vec<Event> = (0..4)
        .map(|i| event(i, "email_click_product", 0.0))
        .collect();
    let hot = s.score(&p, &clicks, false, NOW);
    let moves = s.stage_moves(Stage::New, hot.fit, hot.engagement, None, &clicks);
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
    let moves = s.stage_moves(Stage::Mql, sc.fit, sc.engagement, None, &demo);
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
        .stage_moves(Stage::New, hot.fit, hot.engagement, None, &clicks)
        .iter()
        .all(|m| m.to != Stage::Mql));
}

#[test]
fn custom_fields_cannot_pose_as_derived_facts() {
    // A form posted by hand with fields named as the facts scoring derives: no quiz was
    // answered, the phone is no phone, the source is not a campaign's.
    let forged = Submission::new(Channel::WebForm, 0)
        .with("name", "Пётр")
        .with("email", "petr@example.com")
        .with("phone", "12")
        .with("quiz_fit", "1000000")
        .with("QUIZ_INTENT", "1000000")
        .with("x_phone_valid", "true")
        .with("source", "google")
        .with("message_length", "5000")
        .with("company_size", "1–20");
    let n = normalize(&forged, &Default::default());
    let p = profile_of(&n);
    for key in [
        "quiz_fit",
        "quiz_intent",
        "phone_valid",
        "source",
        "message_length",
    ] {
        assert_eq!(p.get(key), None, "{key}: {p:?}");
    }
    // Fields of its own stay.
    assert_eq!(p.get("company_size").map(String::as_str), Some("1–20"));
    let sc = Scorer::default().score(&p, &[], false, NOW);
    assert!(sc.fit < 100, "{sc:?}");
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

#[test]
fn a_correction_replaces_and_removes_only_the_fields_it_speaks_for() {
    let n = normalize(
        &Submission::new(Channel::WebForm, 0)
            .with("name", "Ivan Petrov")
            .with("email", "ivan@example.com")
            .with("company", "ACME")
            .with("position", "CTO")
            .with("product", "CRM")
            .with("company_size", "21–100"),
        &Default::default(),
    );
    let mut lead = profile_of(&n);
    // The person turns out to work elsewhere, in no stated position, with a new address.
    let mut fixed = n.clone();
    fixed.company = Some("Globex".into());
    fixed.position = None;
    fixed.emails = normalize(
        &Submission::new(Channel::WebForm, 0).with("email", "ivan@globex.nl"),
        &Default::default(),
    )
    .emails;
    let said = correction(&fixed, CONTACT_FIELDS);
    assert_eq!(
        said.keys().map(String::as_str).collect::<Vec<_>>(),
        {
            let mut keys = CONTACT_FIELDS.to_vec();
            keys.sort_unstable();
            keys
        },
        "every field the correction speaks for, and nothing else"
    );
    assert_eq!(said["position"], "");
    assert_eq!(said["phone"], "", "the person gave no phone");
    merge_profile(&mut lead, &said);
    assert_eq!(lead.get("company").map(String::as_str), Some("Globex"));
    assert_eq!(
        lead.get("email_domain").map(String::as_str),
        Some("globex.nl")
    );
    assert_eq!(lead.get("position"), None, "cleared by the correction");
    assert_eq!(lead.get("phone_valid"), None);
    assert_eq!(lead.get("product").map(String::as_str), Some("CRM"));
    assert_eq!(lead.get("company_size").map(String::as_str), Some("21–100"));
    // A request corrected to no product at all forgets the old one.
    let mut no_product = n.clone();
    no_product.product = None;
    merge_profile(&mut lead, &correction(&no_product, REQUEST_FIELDS));
    assert_eq!(lead.get("product"), None);
    assert_eq!(lead.get("company").map(String::as_str), Some("Globex"));
}

#[test]
fn points_and_thresholds_outside_the_limit_are_refused() {
    let profile_rule =
        |points: i64| format!("[[profile]]\nname = \"Big\"\nfield = \"x\"\npoints = {points}\n");
    for points in [i64::MAX, i64::MIN, POINTS_LIMIT + 1, -POINTS_LIMIT - 1] {
        assert_eq!(
            Rules::from_toml(&profile_rule(points)).unwrap_err(),
            RulesError::Points("Big".into()),
            "{points}"
        );
    }
    for points in [POINTS_LIMIT, -POINTS_LIMIT] {
        assert!(Rules::from_toml(&profile_rule(points)).is_ok(), "{points}");
    }
    let behaviour = |points: i64, cap: i64| {
        format!("[[behaviour]]\nname = \"Views\"\nevent = \"page_view\"\npoints = {points}\ncap = {cap}\n")
    };
    for (points, cap) in [(i64::MAX, 10), (1, i64::MIN), (1, POINTS_LIMIT + 1)] {
        assert_eq!(
            Rules::from_toml(&behaviour(points, cap)).unwrap_err(),
            RulesError::Points("Views".into()),
            "{points} {cap}"
        );
    }
    assert!(Rules::from_toml(&behaviour(-POINTS_LIMIT, POINTS_LIMIT)).is_ok());
    for (toml, setting) in [
        (
            "[levels]\nfit = [1, 2, 9223372036854775807]\nactivity = [1, 2, 3]\n",
            "levels.fit",
        ),
        (
            "[levels]\nfit = [1, 2, 3]\nactivity = [-9223372036854775808, 2, 3]\n",
            "levels.activity",
        ),
        (
            "[temperature]\nwarm = -1000001\nhot = 45\n",
            "temperature.warm",
        ),
        (
            "[temperature]\nwarm = 25\nhot = 1000001\n",
            "temperature.hot",
        ),
        (
            "[qualify]\nmql_fit = 1000001\nmql_engagement = 20\n",
            "qualify.mql_fit",
        ),
        (
            "[qualify]\nmql_fit = 20\nmql_engagement = -1000001\n",
            "qualify.mql_engagement",
        ),
        (
            "[qualify]\nmql_fit = 20\nmql_engagement = 20\nsql_engagement = 9223372036854775807\n",
            "qualify.sql_engagement",
        ),
    ] {
        assert_eq!(
            Rules::from_toml(toml).unwrap_err(),
            RulesError::Points(setting.into()),
            "{toml}"
        );
    }
    assert_eq!(
        RulesError::Points("Big".into()).to_string(),
        "\"Big\": points must be from -1000000 to 1000000"
    );
}

/// Rules saved before the points were limited never make a score wrap around.
#[test]
fn scores_saturate_instead_of_wrapping() {
    let rule = |name: &str, points: i64| ProfileRule {
        name: name.into(),
        field: "x".into(),
        points,
        group: None,
        any_of: Vec::new(),
        contains: Vec::new(),
        none_of: Vec::new(),
        min: None,
        max: None,
    };
    let scorer = |profile: Vec<ProfileRule>, behaviour: Vec<BehaviourRule>| {
        Scorer::new(Rules {
            profile,
            behaviour,
            ..Rules::from_toml("").unwrap()
        })
    };
    let high = scorer(vec![rule("a", i64::MAX), rule("b", 1)], Vec::new());
    let sc = high.score(&profile(&[("x", "yes")]), &[], false, NOW);
    assert_eq!((sc.fit, sc.total), (i64::MAX, i64::MAX));
    assert_eq!(sc.temperature, Temperature::Hot);
    assert_eq!(sc.fit_level, FitLevel::VerySuitable);
    let low = scorer(vec![rule("a", i64::MIN), rule("b", -1)], Vec::new());
    let sc = low.score(&profile(&[("x", "yes")]), &[], false, NOW);
    assert_eq!((sc.fit, sc.total), (i64::MIN, i64::MIN));
    assert_eq!(sc.fit_level, FitLevel::Stranger);

    // Engagement at the top of the range plus fit at the top stays at the top.
    let views = BehaviourRule {
        name: "Views".into(),
        event: "page_view".into(),
        points: i64::MAX,
        properties: Default::default(),
        url_contains: None,
        min_count: None,
        cap: Some(i64::MIN),
        once: false,
        within_days: Some(1e300),
        decays: false,
    };
    let future_only = BehaviourRule {
        name: "Future only".into(),
        points: -1,
        cap: None,
        within_days: Some(-1e300),
        ..views.clone()
    };
    let fading = BehaviourRule {
        name: "Fading".into(),
        points: 5,
        cap: None,
        within_days: None,
        decays: true,
        ..views.clone()
    };
    let both = scorer(vec![rule("a", i64::MAX)], vec![views, future_only, fading]);
    let mut ancient = event(2, "page_view", 0.0);
    ancient.at = i64::MIN;
    let sc = both.score(
        &profile(&[("x", "yes")]),
        &[event(1, "page_view", 0.0), ancient],
        false,
        NOW,
    );
    assert_eq!((sc.engagement, sc.total), (i64::MAX, i64::MAX), "{sc:?}");
    assert!(points_of(&sc, "Future only").is_empty(), "{sc:?}");
    let fading: Vec<f64> = sc
        .contributions
        .iter()
        .filter(|c| c.rule == "Fading")
        .map(|c| c.effective)
        .collect();
    assert_eq!(fading, vec![5.0, 0.0]);

    // Such rules, saved before the range was checked, are read back as they were saved.
    let saved = both.rules().to_json();
    assert!(matches!(
        Rules::from_json(&saved),
        Err(RulesError::Points(_))
    ));
    assert_eq!(&Rules::from_stored_json(&saved).unwrap(), both.rules());
    assert_eq!(
        Rules::from_stored_json(r#"{"levels": {"fit": [3, 2, 1], "activity": [1, 2, 3]}}"#),
        Err(RulesError::Thresholds("fit level"))
    );

    // Quiz points are held to the range of rule points.
    let sc = Scorer::new(Rules::from_toml("").unwrap()).score(
        &profile(&[
            (QUIZ_FIT, "9223372036854775807"),
            (QUIZ_INTENT, "-9223372036854775808"),
        ]),
        &[],
        false,
        NOW,
    );
    assert_eq!((sc.fit, sc.engagement), (POINTS_LIMIT, -POINTS_LIMIT));
}
