//! `voronka link A.csv [B.csv] --config link.toml --out pairs.csv`: record linkage of one CSV
//! file (dedupe) or two (link) with the settings of a TOML file; writes the accepted pairs
//! with their probability and per-field levels, and prints a summary.

use anyhow::{bail, Context, Result};
use clap::Args;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use voronka_core::linkage::{self, LinkConfig, Progress, Table};

use crate::words;

#[derive(Args)]
pub struct LinkArgs {
    /// CSV file to deduplicate, or the first of two files to link.
    pub a: PathBuf,
    /// Second CSV file: link A with B instead of deduplicating A.
    pub b: Option<PathBuf>,
    /// TOML file with the fields, comparators and blocking rules.
    #[arg(long)]
    pub config: PathBuf,
    /// Where to write the accepted pairs (CSV).
    #[arg(long)]
    pub out: PathBuf,
    /// Probability at or above which a pair is accepted (overrides the config).
    #[arg(long, value_parser = parse_probability)]
    pub threshold: Option<f64>,
    /// CSV of true pairs: also print precision, recall and F1.
    #[arg(long)]
    pub truth: Option<PathBuf>,
}

fn parse_probability(s: &str) -> Result<f64, String> {
    s.parse::<f64>()
        .ok()
        .filter(|p| (0.0..=1.0).contains(p))
        .ok_or_else(|| words::PROBABILITY_EXPECTED.to_string())
}

/// Reads a CSV file into a table plus the id of every row (the `id` column, or row numbers).
pub fn read_table(path: &Path, id: Option<&str>) -> Result<(Table, Vec<String>)> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| words::cannot_open(path.display()))?;
    let headers: Vec<String> = r
        .headers()
        .with_context(|| words::cannot_read_header(path.display()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let id_col = match id {
        Some(name) => Some(
            headers
                .iter()
                .position(|h| h == name)
                .with_context(|| words::no_id_column(path.display(), name))?,
        ),
        None => None,
    };
    let mut table = Table::new(headers.clone());
    let mut ids = Vec::new();
    let mut row = csv::StringRecord::new();
    while r
        .read_record(&mut row)
        .with_context(|| words::cannot_read(path.display()))?
    {
        let values: Vec<&str> = row.iter().take(headers.len()).collect();
        ids.push(match id_col {
            Some(c) => values.get(c).copied().unwrap_or("").trim().to_string(),
            None => (ids.len() + 1).to_string(),
        });
        table.push_row(&values)?;
    }
    Ok((table, ids))
}

/// Reads true pairs: the `*_l`/`*_r` id columns when present (splink's labels), else the first
/// two columns. Rows whose `clerical_match_score`, `match` or `is_match` is below 0.5 are left out.
pub fn read_truth(path: &Path) -> Result<Vec<(String, String)>> {
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| words::cannot_open(path.display()))?;
    let headers: Vec<String> = r.headers()?.iter().map(|h| h.trim().to_string()).collect();
    let left = headers.iter().position(|h| h.ends_with("id_l"));
    let right = headers.iter().position(|h| h.ends_with("id_r"));
    let (a, b) = match (left, right) {
        (Some(a), Some(b)) => (a, b),
        _ if headers.len() >= 2 => (0, 1),
        _ => bail!(words::needs_two_id_columns(path.display())),
    };
    let score = headers
        .iter()
        .position(|h| matches!(h.as_str(), "clerical_match_score" | "match" | "is_match"));
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| words::cannot_read(path.display()))?;
        if let Some(s) = score {
            let v: f64 = rec.get(s).unwrap_or("").trim().parse().unwrap_or(0.0);
            if v < 0.5 {
                continue;
            }
        }
        let (x, y) = (rec.get(a).unwrap_or(""), rec.get(b).unwrap_or(""));
        if !x.is_empty() && !y.is_empty() && x != y {
            out.push((x.trim().to_string(), y.trim().to_string()));
        }
    }
    Ok(out)
}

pub fn run(a: LinkArgs) -> Result<()> {
    let text = std::fs::read_to_string(&a.config)
        .with_context(|| words::cannot_read(a.config.display()))?;
    let mut cfg = LinkConfig::from_toml(&text)
        .with_context(|| words::not_link_configuration(a.config.display()))?;
    if let Some(t) = a.threshold {
        cfg.threshold = t;
    }
    let truth = a.truth.as_deref().map(read_truth).transpose()?;
    let started = Instant::now();
    let (ta, ids_a) = read_table(&a.a, cfg.id.as_deref())?;
    let second = match &a.b {
        Some(p) => Some(read_table(p, cfg.id.as_deref())?),
        None => None,
    };
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(1);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{msg:12} {bar:40} {pos}/{len} ({eta})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut progress = |p: Progress| {
        bar.set_message(words::linkage_step(p.step));
        bar.set_length(p.total.max(1));
        bar.set_position(p.done);
    };
    let result = match &second {
        Some((tb, _)) => linkage::link(&cfg, &ta, tb, &mut progress)?,
        None => linkage::dedupe(&cfg, &ta, &mut progress)?,
    };
    bar.finish_and_clear();
    let ids_b = second.as_ref().map(|s| &s.1).unwrap_or(&ids_a);

    let mut w =
        csv::Writer::from_path(&a.out).with_context(|| words::cannot_write(a.out.display()))?;
    let names = result.field_names();
    let mut header = vec!["id_a", "id_b", "probability", "weight"];
    header.extend(names.iter().copied());
    w.write_record(&header)?;
    let mut predicted = Vec::with_capacity(result.pairs.len());
    for p in &result.pairs {
        let (ia, ib) = (&ids_a[p.a as usize], &ids_b[p.b as usize]);
        let mut rec = vec![
            ia.clone(),
            ib.clone(),
            format!("{:.6}", p.probability),
            format!("{:.3}", p.weight),
        ];
        rec.extend((0..names.len()).map(|k| result.level_label(p, k).to_string()));
        w.write_record(&rec)?;
        predicted.push((ia.clone(), ib.clone()));
    }
    w.flush()
        .with_context(|| words::cannot_write(a.out.display()))?;
    let secs = started.elapsed().as_secs_f64();

    let records = match &second {
        Some((tb, _)) => format!("{} + {}", ta.len(), tb.len()),
        None => ta.len().to_string(),
    };
    let clusters = match &result.clusters {
        Some(c) => {
            let mut sizes = std::collections::HashMap::<u32, usize>::new();
            for &x in c {
                *sizes.entry(x).or_default() += 1;
            }
            Some((sizes.len(), sizes.values().filter(|&&n| n > 1).count()))
        }
        None => None,
    };
    println!(
        "{}",
        words::link_summary(&words::LinkSummary {
            records: &records,
            candidates: result.candidates,
            threshold: cfg.threshold,
            accepted: result.pairs.len(),
            clusters,
            secs,
            prior: result.model.prior,
            iterations: result.model.iterations,
            out: &a.out.display(),
        })
    );
    if result.skipped_blocks > 0 {
        println!(
            "{}",
            words::link_skipped_blocks(result.skipped_blocks, cfg.max_block)
        );
    }
    if let Some(truth) = truth {
        let q = linkage::evaluate(&predicted, &truth);
        println!("{}", words::link_quality(&q));
    }
    Ok(())
}
