//! `voronka score explain|rescore|export-rules|import-rules`: rule-based scoring from the
//! command line.

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use std::fmt::Write;
use std::path::PathBuf;
use voronka_app::{Actor, App, Explanation};
use voronka_core::scoring::{Part, Rules};

use crate::words;

#[derive(Clone, Copy, ValueEnum)]
pub enum RulesFormat {
    Toml,
    Json,
}

#[derive(Subcommand)]
pub enum ScoreCmd {
    /// List every contribution to a lead's score: rule, event, time, points after decay.
    Explain {
        lead_id: i64,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Rescore every lead with the rules in force (decay included), showing progress.
    Rescore,
    /// Print the rules in force (or a preset: b2b, b2c).
    ExportRules {
        #[arg(long, value_enum, default_value = "toml")]
        format: RulesFormat,
        #[arg(long)]
        preset: Option<String>,
    },
    /// Replace the rules with a TOML or JSON file and rescore every lead.
    ImportRules { file: PathBuf },
}

pub async fn run(app: &App, actor: &Actor, cmd: ScoreCmd) -> anyhow::Result<()> {
    match cmd {
        ScoreCmd::Explain { lead_id, json } => {
            let e = app.explain_score(actor, lead_id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&e)?);
            } else {
                print!("{}", explain_text(&e));
            }
        }
        ScoreCmd::Rescore => {
            let mut last = 0;
            let run = app
                .rescore_all("rescore_command_line", |done, total| {
                    let pct = if total > 0 { done * 100 / total } else { 100 };
                    if pct >= last + 10 || done == total {
                        last = pct;
                        eprintln!("{}", words::rescore_progress(done, total, pct));
                    }
                })
                .await?;
            println!("{}", words::rescored(run.done, run.changed));
        }
        ScoreCmd::ExportRules { format, preset } => {
            let rules = match preset {
                Some(p) => Rules::preset(&p)
                    .with_context(|| words::no_preset(&p, Rules::PRESETS.join(", ")))?,
                None => {
                    app.refresh_scoring_rules().await?;
                    app.scorer().rules().clone()
                }
            };
            match format {
                RulesFormat::Toml => print!("{}", rules.to_toml()),
                RulesFormat::Json => println!("{}", serde_json::to_string_pretty(&rules)?),
            }
        }
        ScoreCmd::ImportRules { file } => {
            let text = std::fs::read_to_string(&file)
                .with_context(|| words::cannot_read(file.display()))?;
            let json = file
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"));
            let rules = if json {
                Rules::from_json(&text)
            } else {
                Rules::from_toml(&text)
            }
            .with_context(|| words::no_valid_rules(file.display()))?;
            let (p, b) = (rules.profile.len(), rules.behaviour.len());
            app.save_scoring_rules(actor, rules).await?;
            let run = app.rescore_all("rescore_rules_imported", |_, _| {}).await?;
            println!("{}", words::rules_imported(p, b, run.done, run.changed));
        }
    }
    Ok(())
}

fn date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| ms.to_string())
}

fn explain_text(e: &Explanation) -> String {
    let s = &e.score;
    let mut out = String::new();
    let _ = writeln!(out, "{}", words::explain_head(e));
    if e.stored.temperature_manual {
        let _ = writeln!(out, "{}", words::TEMPERATURE_BY_HAND);
    }
    if s.contributions.is_empty() {
        let _ = writeln!(out, "{}", words::NO_RULE_MATCHED);
    }
    for (part, heading) in [
        (Part::Fit, words::EXPLAIN_FIT),
        (Part::Engagement, words::EXPLAIN_ENGAGEMENT),
    ] {
        let rows: Vec<_> = s.contributions.iter().filter(|c| c.part == part).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{heading}");
        for c in rows {
            let when = c.at.map(date).unwrap_or_default();
            let event = c.event_id.map(|i| format!(" #{i}")).unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:>+5} → {:>7.1}  {}  [{}{}] {}",
                c.points, c.effective, c.rule, c.matched, event, when
            );
        }
    }
    for m in &e.moves {
        let _ = writeln!(out, "{}", words::would_move_to(m.to, &m.rule));
    }
    out
}
