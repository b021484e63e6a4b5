use super::*;

fn lead(source: &str, phone_valid: bool) -> LeadFeatures {
    LeadFeatures {
        source: Some(source.into()),
        phone_valid,
        ..Default::default()
    }
}

/// `won` of `n` leads from `source` convert.
fn group(source: &str, n: usize, won: usize) -> Vec<Example> {
    (0..n)
        .map(|i| Example {
            features: lead(source, i % 2 == 0),
            won: i < won,
        })
        .collect()
}

fn quick() -> TrainOptions {
    TrainOptions {
        calibration_share: 0.2,
        test_share: 0.2,
        ..Default::default()
    }
}

#[test]
fn probability_is_of_conversion_whatever_the_label_order_or_majority() {
    // Lost leads come first and are the majority: a library that takes the first or the most
    // frequent label as "positive" would report the probability of losing.
    let mut rows = group("expo", 60, 51);
    let mut lost_first = group("facebook", 300, 15);
    lost_first.reverse();
    lost_first.append(&mut rows);
    let m = train(&lost_first, &quick(), 0).unwrap();
    let expo = m.probability(&lead("expo", true));
    let facebook = m.probability(&lead("facebook", true));
    assert!(expo > 0.6, "expo converts 85% of the time: {expo}");
    assert!(
        facebook < 0.2,
        "facebook converts 5% of the time: {facebook}"
    );

    // Converted leads first and in the majority: the same answer.
    let mut won_first = group("expo", 300, 255);
    won_first.extend(group("facebook", 60, 3));
    let m = train(&won_first, &quick(), 0).unwrap();
    assert!(m.probability(&lead("expo", true)) > 0.6);
    assert!(m.probability(&lead("facebook", true)) < 0.2);
}

#[test]
fn one_binary_feature_recovers_its_log_odds() {
    // 1000 leads with a valid phone convert 60%, 1000 without convert 20%.
    let mut rows = Vec::new();
    for i in 0..1000 {
        rows.push((lead("x", true), i < 600));
        rows.push((lead("x", false), i < 200));
    }
    let enc = Encoder::build(rows.iter().map(|(f, _)| f), 10);
    let m = enc.encode_all(rows.iter().map(|(f, _)| f));
    let y: Vec<bool> = rows.iter().map(|(_, w)| *w).collect();
    let opts = LogisticOptions {
        l2: 1e-6,
        ..Default::default()
    };
    let fit = fit_logistic(&m, &y, enc.width(), &opts);
    assert!(fit.converged);
    let expected = (0.6f64 / 0.4).ln() - (0.2f64 / 0.8).ln();
    // The constant source column shares the intercept; the phone weight is identified.
    assert!(
        (fit.weights[0] - expected).abs() < 1e-3,
        "{:?}",
        fit.weights
    );
    let p_valid = sigmoid(fit.intercept + fit.weights[0] + fit.weights[enc.width() - 1]);
    assert!((p_valid - 0.6).abs() < 1e-3, "{p_valid}");
}

#[test]
fn auc_counts_ranks_and_ties() {
    assert_eq!(auc(&[0.1, 0.2, 0.8, 0.9], &[false, false, true, true]), 1.0);
    assert_eq!(auc(&[0.9, 0.8, 0.2, 0.1], &[false, false, true, true]), 0.0);
    assert_eq!(auc(&[0.5, 0.5, 0.5, 0.5], &[false, true, false, true]), 0.5);
    // One of four pairs mis-ordered.
    assert_eq!(
        auc(&[0.1, 0.6, 0.5, 0.9], &[false, false, true, true]),
        0.75
    );
}

#[test]
fn calibration_table_has_equal_count_bins() {
    let p: Vec<f64> = (0..100).map(|i| i as f64 / 100.0).collect();
    let y: Vec<bool> = (0..100).map(|i| i >= 90).collect();
    let t = calibration_table(&p, &y, 10);
    assert_eq!(t.len(), 10);
    assert!(t.iter().all(|b| b.leads == 10));
    assert_eq!(t[9].observed, 1.0);
    assert_eq!(t[0].observed, 0.0);
    assert!((t[0].predicted - 0.045).abs() < 1e-9);
}

#[test]
fn naive_bayes_multiplies_smoothed_frequencies() {
    let mut rows = Vec::new();
    // Source a: 3 won, 1 lost; source b: 1 won, 3 lost. Everything else equal.
    for (src, won) in [("a", true), ("a", true), ("a", true), ("a", false)] {
        rows.push((lead(src, true), won));
    }
    for (src, won) in [("b", true), ("b", false), ("b", false), ("b", false)] {
        rows.push((lead(src, true), won));
    }
    let nb = NaiveBayes::train(rows.iter().map(|(f, w)| (f, *w)));
    // P(a|won) = 3.1/4.2, P(a|lost) = 1.1/4.2; equal priors; other fields are constant.
    let constant = |k: f64| (k + 0.1) / (k + 0.1); // constant fields contribute 4.1/4.1 to both
    let expected = (3.1 / 4.2) / ((3.1 / 4.2) + (1.1 / 4.2)) * constant(4.0);
    assert!((nb.probability(&lead("a", true)) - expected).abs() < 1e-12);
    // A value never seen is skipped: the prior remains.
    assert!((nb.probability(&lead("zzz", true)) - 0.5).abs() < 1e-12);
}

#[test]
fn ours_beats_the_naive_bayes_baseline_and_is_calibrated() {
    let rows = synthetic::closed_leads(20_000, 7);
    let m = train(&rows, &TrainOptions::default(), 1).unwrap();
    let (ours, theirs) = (&m.metrics.model, &m.metrics.baseline);
    assert!(
        ours.auc > theirs.auc,
        "ours {} vs baseline {}",
        ours.auc,
        theirs.auc
    );
    assert!(
        ours.auc > 0.7,
        "the outcome depends on the features: {}",
        ours.auc
    );
    assert!(
        ours.brier < theirs.brier,
        "{} vs {}",
        ours.brier,
        theirs.brier
    );
    assert_eq!(ours.calibration.len(), 10);
    let ece = metrics::calibration_error(&ours.calibration);
    assert!(
        ece < 0.03,
        "calibration error {ece}: {:?}",
        ours.calibration
    );
    for b in &ours.calibration {
        assert!((b.predicted - b.observed).abs() < 0.08, "decile off: {b:?}");
    }
    // The strongest true effects are among the top features.
    let top: Vec<&str> = m
        .metrics
        .top_features
        .iter()
        .map(|f| f.feature.as_str())
        .collect();
    assert!(top.iter().any(|f| f.starts_with("source = ")), "{top:?}");
    assert!(top.iter().any(|f| f.starts_with("product = ")), "{top:?}");
    assert_eq!(
        m.metrics.test_rows + m.metrics.fit_rows + m.metrics.calibration_rows,
        20_000
    );
}

#[test]
fn too_few_closed_leads_is_an_error_that_says_so() {
    let rows = group("a", 19, 10);
    let e = train(&rows, &quick(), 0).unwrap_err();
    assert_eq!(
        e,
        PredictError::TooFew {
            closed: 19,
            won: 10,
            lost: 9
        }
    );
    assert!(e.to_string().contains("at least 20"));
    // Enough leads but one outcome missing.
    let rows = group("a", 40, 40);
    assert!(matches!(
        train(&rows, &quick(), 0),
        Err(PredictError::TooFew { lost: 0, .. })
    ));
}

#[test]
fn the_model_survives_json_and_reads_values_in_any_script() {
    let mut rows = group("Яндекс", 50, 40);
    rows.extend(group("facebook", 50, 5));
    let m = train(&rows, &quick(), 42).unwrap();
    let back = ConversionModel::from_json(&m.to_json()).unwrap();
    assert_eq!(back, m);
    // Case and surrounding spaces do not make a new value.
    let f = lead(" яндекс ", true);
    assert_eq!(back.probability(&f), m.probability(&lead("Яндекс", true)));
    assert!(back.probability(&f) > back.probability(&lead("facebook", true)));
    assert!(
        ConversionModel::from_json(&m.to_json().replacen("\"format\":1", "\"format\":9", 1))
            .is_err()
    );
}

#[test]
fn platt_scaling_repairs_an_overconfident_score() {
    // Scores three times too large: σ(3z) where the truth is σ(z).
    let mut scores = Vec::new();
    let mut won = Vec::new();
    for i in 0..4000 {
        let z = (i % 80) as f64 / 10.0 - 4.0;
        let p = sigmoid(z);
        // Deterministic outcomes at the right rate per score value.
        let k = i / 80;
        won.push((k as f64 + 0.5) / 50.0 < p);
        scores.push(3.0 * z);
    }
    let platt = Platt::fit(&scores, &won);
    assert!((platt.a - 1.0 / 3.0).abs() < 0.05, "{platt:?}");
    assert!(platt.b.abs() < 0.1, "{platt:?}");
}

#[test]
fn unseen_values_and_behaviours_fall_to_the_baseline() {
    let mut rows = group("a", 30, 20);
    rows.extend(group("b", 30, 5));
    let m = train(&rows, &quick(), 0).unwrap();
    let mut f = lead("never seen", true);
    f.behaviour.insert("unknown_event".into(), 5);
    f.fit.insert("unknown_field".into(), "x".into());
    let p = m.probability(&f);
    assert!(p > 0.0 && p < 1.0);
    assert_eq!(p, m.probability(&lead("never seen", true)));
}
