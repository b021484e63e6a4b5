//! `voronka report channels` and `voronka spend add|list|delete`: the channel report and the
//! marketing spend from the command line.

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;
use voronka_app::{channel_report_csv, report_period, Actor, App, SpendInput};
use voronka_core::channels::{ChannelBy, ChannelReport, ChannelRow};
use voronka_core::Money;

use crate::words;

/// Days a report covers when no `--from` is given.
const REPORT_DAYS: i64 = 30;
/// Days the spend list covers when no `--from` is given.
const SPEND_DAYS: i64 = 365;

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Table,
    Csv,
    Json,
}

fn parse_by(s: &str) -> Result<ChannelBy, String> {
    ChannelBy::parse(s).ok_or_else(|| {
        words::one_of(
            ChannelBy::ALL
                .iter()
                .map(|b| b.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    })
}

#[derive(Subcommand)]
pub enum ReportCmd {
    /// Each channel's leads created in the days given, how far they went and what their deals
    /// came to, against the channel's spend of those days.
    Channels {
        /// source, source_medium, medium, campaign or form.
        #[arg(long, default_value = "source", value_parser = parse_by)]
        by: ChannelBy,
        /// The first day, YYYY-MM-DD (UTC); 29 days before --to by default.
        #[arg(long)]
        from: Option<String>,
        /// The last day, YYYY-MM-DD (UTC); today by default.
        #[arg(long)]
        to: Option<String>,
        /// The currency of cost and return (ISO 4217); the workspace's by default.
        #[arg(long)]
        currency: Option<String>,
        #[arg(long, value_enum, default_value = "table")]
        format: ReportFormat,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum SpendCmd {
    /// Record what a channel cost for some days (both counted).
    Add {
        /// The utm_source the money went to.
        #[arg(long)]
        source: String,
        #[arg(long)]
        medium: Option<String>,
        #[arg(long)]
        campaign: Option<String>,
        /// The first day paid for, YYYY-MM-DD.
        #[arg(long)]
        from: String,
        /// The last day paid for, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        /// In major units: 15000, "15 000,50".
        #[arg(long)]
        amount: String,
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// The entries whose days overlap the period, the latest first.
    List {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
    },
    /// Change an entry: what is given replaces what it says, the rest stays (an empty
    /// --medium, --campaign or --note clears it).
    Edit {
        id: i64,
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        medium: Option<String>,
        #[arg(long)]
        campaign: Option<String>,
        /// The first day paid for, YYYY-MM-DD.
        #[arg(long)]
        from: Option<String>,
        /// The last day paid for, YYYY-MM-DD.
        #[arg(long)]
        to: Option<String>,
        #[arg(long)]
        amount: Option<String>,
        #[arg(long)]
        currency: Option<String>,
        #[arg(long)]
        note: Option<String>,
    },
    /// Delete an entry entered by mistake.
    Delete { id: i64 },
    /// Store the spend of a CSV file (date or from/to, source, medium, campaign, amount,
    /// currency); the same channel and days stored before are replaced.
    Import {
        file: PathBuf,
        /// The source of rows without one.
        #[arg(long)]
        source: Option<String>,
        #[arg(long)]
        medium: Option<String>,
        #[arg(long)]
        campaign: Option<String>,
        #[arg(long)]
        currency: Option<String>,
    },
}

pub async fn report(app: App, actor: &Actor, cmd: ReportCmd) -> anyhow::Result<()> {
    let ReportCmd::Channels {
        by,
        from,
        to,
        currency,
        format,
        output,
    } = cmd;
    let (from, to) = report_period(from.as_deref(), to.as_deref(), REPORT_DAYS)?;
    let r = app
        .channel_report(actor, by, from, to, currency.as_deref())
        .await?;
    let bytes = match format {
        ReportFormat::Csv => channel_report_csv(&r)?,
        ReportFormat::Json => {
            let mut v = serde_json::to_vec_pretty(&r)?;
            v.push(b'\n');
            v
        }
        ReportFormat::Table => table(&r).into_bytes(),
    };
    match output {
        Some(p) => std::fs::write(&p, bytes).with_context(|| words::cannot_write(p.display()))?,
        None => std::io::stdout().write_all(&bytes)?,
    }
    Ok(())
}

fn money(list: &[Money]) -> String {
    if list.is_empty() {
        return "—".into();
    }
    list.iter()
        .map(|m| m.to_string())
        .collect::<Vec<_>>()
        .join(" + ")
}

fn row_cells(r: &ChannelRow, label: String) -> Vec<String> {
    vec![
        label,
        r.leads.to_string(),
        r.mql.to_string(),
        r.sql.to_string(),
        r.converted.to_string(),
        r.conversion_rate
            .map(|x| format!("{:.1} %", x * 100.0))
            .unwrap_or_else(|| "—".into()),
        money(&r.revenue),
        money(&r.spend),
        r.cost_per_lead
            .map(|m| m.to_string())
            .unwrap_or_else(|| "—".into()),
        r.roi
            .map(|x| format!("{:+.0} %", x * 100.0))
            .unwrap_or_else(|| "—".into()),
    ]
}

/// The report as a plain-text table, columns aligned by characters.
fn table(r: &ChannelReport) -> String {
    let label = |row: &ChannelRow| row.key.label(r.by, row.label.as_deref(), words::NO_CHANNEL);
    let mut lines: Vec<Vec<String>> = vec![words::REPORT_COLUMNS
        .iter()
        .map(|c| c.to_string())
        .collect()];
    for row in &r.rows {
        lines.push(row_cells(row, label(row)));
    }
    lines.push(row_cells(&r.total, words::ALL_CHANNELS.to_string()));
    let widths: Vec<usize> = (0..lines[0].len())
        .map(|i| {
            lines
                .iter()
                .map(|l| l[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for l in &lines {
        let cells: Vec<String> = l
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i] - c.chars().count());
                // The channel reads left to right; the figures line up on the right.
                if i == 0 {
                    format!("{c}{pad}")
                } else {
                    format!("{pad}{c}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    if !r.unattributed_spend.is_empty() {
        out.push_str(&words::unattributed_spend(money(&r.unattributed_spend)));
        out.push('\n');
    }
    out
}

pub async fn spend(app: App, actor: &Actor, cmd: SpendCmd) -> anyhow::Result<()> {
    match cmd {
        SpendCmd::Add {
            source,
            medium,
            campaign,
            from,
            to,
            amount,
            currency,
            note,
        } => {
            let e = app
                .add_spend(
                    actor,
                    &SpendInput {
                        source,
                        medium,
                        campaign,
                        from,
                        to,
                        amount,
                        currency,
                        note,
                    },
                )
                .await?;
            println!("{}", words::spend_added(e.id, e.amount));
        }
        SpendCmd::List { from, to } => {
            let (from, to) = report_period(from.as_deref(), to.as_deref(), SPEND_DAYS)?;
            for e in app.spend_entries(actor, from, to).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}",
                    e.id,
                    e.channel(),
                    voronka_app::ymd(e.starts_at),
                    voronka_app::ymd(e.ends_at - 86_400_000),
                    e.amount,
                    e.note.unwrap_or_default()
                );
            }
        }
        SpendCmd::Import {
            file,
            source,
            medium,
            campaign,
            currency,
        } => {
            let bytes = std::fs::read(&file).with_context(|| words::cannot_read(file.display()))?;
            let done = app
                .import_spend(
                    actor,
                    &bytes,
                    &voronka_app::SpendDefaults {
                        source,
                        medium,
                        campaign,
                        currency,
                    },
                )
                .await?;
            println!(
                "{}",
                words::spend_imported(done.rows, done.added, done.replaced)
            );
        }
        SpendCmd::Edit {
            id,
            source,
            medium,
            campaign,
            from,
            to,
            amount,
            currency,
            note,
        } => {
            let mut input = SpendInput::of_entry(&app.spend_entry(actor, id).await?);
            let cleared = |v: String| Some(v).filter(|v| !v.trim().is_empty());
            input.source = source.unwrap_or(input.source);
            input.medium = medium.map_or(input.medium, cleared);
            input.campaign = campaign.map_or(input.campaign, cleared);
            input.from = from.unwrap_or(input.from);
            input.to = to.unwrap_or(input.to);
            input.amount = amount.unwrap_or(input.amount);
            input.currency = currency.or(input.currency);
            input.note = note.map_or(input.note, cleared);
            let e = app.update_spend(actor, id, &input).await?;
            println!("{}", words::spend_updated(e.id, e.amount));
        }
        SpendCmd::Delete { id } => {
            app.delete_spend(actor, id).await?;
            println!("{}", words::spend_deleted(id));
        }
    }
    Ok(())
}
