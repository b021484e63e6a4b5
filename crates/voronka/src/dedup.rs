//! `voronka dedup --dry-run | --apply [--report clusters.csv]`: finds the contacts of the whole
//! database that are one person, reports the clusters and, with `--apply`, merges them.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use voronka_app::{App, DedupOptions, DedupReport};

use crate::words;

#[derive(Args)]
#[group(required = true, multiple = false)]
pub struct DedupMode {
    /// Report the clusters without changing anything.
    #[arg(long)]
    pub dry_run: bool,
    /// Merge every cluster into its survivor (each merge undoable) and queue uncertain pairs
    /// for review.
    #[arg(long)]
    pub apply: bool,
}

#[derive(Args)]
pub struct DedupArgs {
    #[command(flatten)]
    pub mode: DedupMode,
    /// Write every cluster's contacts to this CSV file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// How many clusters to print (the largest first).
    #[arg(long, default_value_t = 10)]
    pub show: usize,
}

pub async fn run(app: &App, actor: &voronka_app::Actor, a: DedupArgs) -> Result<()> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {bar:40} {pos}/{len}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut progress = |p: voronka_core::linkage::Progress| {
        bar.set_message(words::linkage_step(p.step));
        bar.set_length(p.total.max(p.done));
        bar.set_position(p.done);
    };
    let report = app
        .dedup_contacts(
            actor,
            DedupOptions {
                apply: a.mode.apply,
            },
            &mut progress,
        )
        .await?;
    bar.finish_and_clear();
    print_summary(&report, a.show);
    if let Some(path) = &a.report {
        write_report(&report, path)?;
        println!("{}", words::clusters_written(path.display()));
    }
    Ok(())
}

fn print_summary(r: &DedupReport, show: usize) {
    println!("{}", words::dedup_pairs(r));
    let largest = r
        .clusters
        .iter()
        .map(|c| c.members.len())
        .max()
        .unwrap_or(0);
    let clusters = if r.applied {
        words::dedup_clusters_merged(r.clusters.len(), largest, r.contacts_to_merge)
    } else {
        words::dedup_clusters_dry_run(r.clusters.len(), largest, r.contacts_to_merge)
    };
    println!("{clusters}");
    let mut order: Vec<&voronka_app::DedupCluster> = r.clusters.iter().collect();
    order.sort_by_key(|c| std::cmp::Reverse(c.members.len()));
    for c in order.into_iter().take(show) {
        let names: Vec<String> = c
            .members
            .iter()
            .map(|m| format!("{} (#{})", m.name, m.contact_id))
            .collect();
        println!(
            "{}",
            words::dedup_cluster(c.min_probability, names.join(" = "))
        );
    }
    if r.applied {
        println!(
            "{}",
            words::dedup_merges_recorded(r.merges.len(), r.queued_for_review)
        );
        for (id, why) in &r.not_merged {
            println!("{}", words::dedup_not_merged(id, why));
        }
    }
}

fn write_report(r: &DedupReport, path: &PathBuf) -> Result<()> {
    let mut w =
        csv::Writer::from_path(path).with_context(|| words::cannot_write(path.display()))?;
    w.write_record([
        "cluster",
        "contact_id",
        "survivor",
        "name",
        "phones",
        "emails",
        "company",
        "min_probability",
    ])?;
    for (n, c) in r.clusters.iter().enumerate() {
        for m in &c.members {
            w.write_record([
                (n + 1).to_string(),
                m.contact_id.to_string(),
                (m.contact_id == c.survivor).to_string(),
                m.name.clone(),
                m.phones.join(" "),
                m.emails.join(" "),
                m.company.clone().unwrap_or_default(),
                format!("{:.4}", c.min_probability),
            ])?;
        }
    }
    w.flush()?;
    Ok(())
}
