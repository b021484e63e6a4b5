//! `voronka model train|report`: the predictive conversion score from the command line.

use clap::Subcommand;
use std::fmt::Write;
use voronka_app::App;
use voronka_core::predict::{ConversionModel, Evaluation, FeatureWeight};

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
                "trained model {} on {} closed leads ({} converted, {} refused) in {:.1} s",
                r.model_id,
                r.training_size,
                m.won,
                m.lost,
                r.took_ms as f64 / 1000.0
            );
            println!(
                "held-out AUC: ours {:.3}, naive-Bayes baseline {:.3} ({} leads)",
                m.model.auc, m.baseline.auc, m.test_rows
            );
            println!("scored {} open leads", r.scored);
        }
        ModelCmd::Report => match app.current_model().await? {
            Some(c) => print!("{}", report(c.id, &c.model)),
            None => anyhow::bail!("no model has been trained yet: run `voronka model train`"),
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
    let _ = writeln!(out, "{name}: AUC {:.3}, Brier score {:.4}", e.auc, e.brier);
    let _ = writeln!(out, "  decile  leads  predicted  observed");
    for (i, b) in e.calibration.iter().enumerate() {
        let _ = writeln!(
            out,
            "  {:>6}  {:>5}  {:>8.1}%  {:>7.1}%",
            i + 1,
            b.leads,
            b.predicted * 100.0,
            b.observed * 100.0
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
        "model {id}, trained {} on {} closed leads ({} converted, {} refused)",
        date(m.trained_at),
        x.closed,
        x.won,
        x.lost
    );
    let _ = writeln!(
        out,
        "split: {} to fit, {} to calibrate, {} held out for this report",
        x.fit_rows, x.calibration_rows, x.test_rows
    );
    evaluation(&mut out, "ours (calibrated logistic regression)", &x.model);
    evaluation(
        &mut out,
        "baseline (naive Bayes over field frequencies)",
        &x.baseline,
    );
    features(
        &mut out,
        "top features of ours (log-odds per unit):",
        &x.top_features,
    );
    features(
        &mut out,
        "top values of the baseline (log likelihood ratio):",
        &x.baseline_top_features,
    );
    out
}
