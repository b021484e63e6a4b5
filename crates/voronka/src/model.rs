//! `voronka model train|report`: the predictive conversion score from the command line.

use clap::Subcommand;
use std::fmt::Write;
use voronka_app::App;
use voronka_core::predict::{ConversionModel, Evaluation, FeatureWeight};

use crate::words;

#[derive(Subcommand)]
pub enum ModelCmd {
    /// Learn the probability of conversion from closed leads and score every open lead.
    Train,
    /// Show the current model's figures on its held-out leads, beside the naive-Bayes baseline.
    Report,
}

pub async fn run(app: &App, cmd: ModelCmd) -> anyhow::Result<()> {
    match cmd {
        ModelCmd::Train => {
            let r = app.train_model().await?;
            let m = &r.model.metrics;
            println!(
                "{}",
                words::model_trained(
                    r.model_id,
                    r.training_size,
                    m.won,
                    m.lost,
                    r.took_ms as f64 / 1000.0
                )
            );
            println!(
                "{}",
                words::model_held_out_auc(m.model.auc, m.baseline.auc, m.test_rows)
            );
            println!("{}", words::model_scored(r.scored));
        }
        ModelCmd::Report => match app.current_model().await? {
            Some(c) => print!("{}", report(c.id, &c.model)),
            None => anyhow::bail!(words::NO_MODEL_YET),
        },
    }
    Ok(())
}

fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn evaluation(out: &mut String, name: &str, e: &Evaluation) {
    let _ = writeln!(out, "{}", words::model_evaluation(name, e.auc, e.brier));
    let _ = writeln!(out, "{}", words::MODEL_CALIBRATION_HEADING);
    for (i, b) in e.calibration.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}",
            words::model_calibration_row(i + 1, b.leads, b.predicted * 100.0, b.observed * 100.0)
        );
    }
}

fn features(out: &mut String, title: &str, fs: &[FeatureWeight]) {
    let _ = writeln!(out, "{title}");
    for f in fs {
        let _ = writeln!(out, "  {:>+7.3}  {}", f.weight, f.feature);
    }
}

/// The report as printed.
pub fn report(id: i64, m: &ConversionModel) -> String {
    let x = &m.metrics;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        words::model_report_head(id, date(m.trained_at), x.closed, x.won, x.lost)
    );
    let _ = writeln!(
        out,
        "{}",
        words::model_split(x.fit_rows, x.calibration_rows, x.test_rows)
    );
    evaluation(&mut out, words::MODEL_OURS, &x.model);
    evaluation(&mut out, words::MODEL_BASELINE, &x.baseline);
    features(&mut out, words::MODEL_TOP_FEATURES, &x.top_features);
    features(
        &mut out,
        words::MODEL_TOP_BASELINE,
        &x.baseline_top_features,
    );
    out
}
