//! The operational metrics this process records, through the `metrics` facade: the server
//! installs a Prometheus recorder and serves them at `/metrics`; without a recorder (the CLI, the
//! benchmarks) recording costs nothing. Every metric's name is here.

use crate::{CaptureOutcome, CaptureResult, Result};

/// Gives the recorder each metric's help text; called once it is installed.
pub fn describe() {
    use metrics::{describe_counter, describe_histogram, Unit};
    describe_counter!(
        "voronka_captures_total",
        "Submissions through the intake, by channel and what they became"
    );
    describe_histogram!(
        "voronka_intake_batch_size",
        Unit::Count,
        "Submissions per batch of the intake's committer"
    );
    describe_histogram!(
        "voronka_intake_batch_seconds",
        Unit::Seconds,
        "Time to write and commit one intake batch, before the log's sync"
    );
    describe_counter!(
        "voronka_intake_batch_failures_total",
        "Intake batches that failed to commit"
    );
    describe_counter!("voronka_events_stored_total", "Behaviour events stored");
    describe_counter!(
        "voronka_events_duplicate_total",
        "Behaviour events sent again under an id already stored, not stored again"
    );
    describe_counter!(
        "voronka_jobs_total",
        "Background jobs run, by kind and outcome (a failed job is retried later)"
    );
}

/// A submission through the intake, by channel and what it became (`lead`, `interest`,
/// `rejected`, `repeated` for a replay of an earlier one, `failed` when it could not be stored).
pub(crate) fn capture(channel: &'static str, outcome: &Result<CaptureOutcome>) {
    let result = match outcome {
        Ok(o) if o.repeated => "repeated",
        Ok(o) => match o.result {
            CaptureResult::Lead => "lead",
            CaptureResult::Interest => "interest",
            CaptureResult::Rejected => "rejected",
        },
        Err(_) => "failed",
    };
    metrics::counter!("voronka_captures_total", "channel" => channel, "result" => result)
        .increment(1);
}

/// One batch of the intake's committer: how many submissions, how long it took to write and
/// commit (before the log's sync), and whether it committed.
pub(crate) fn intake_batch(size: usize, seconds: f64, committed: bool) {
    metrics::histogram!("voronka_intake_batch_size").record(size as f64);
    metrics::histogram!("voronka_intake_batch_seconds").record(seconds);
    if !committed {
        metrics::counter!("voronka_intake_batch_failures_total").increment(1);
    }
}

/// Behaviour events stored, and those a sender had sent before (not stored again).
pub(crate) fn events(stored: usize, duplicates: usize) {
    metrics::counter!("voronka_events_stored_total").increment(stored as u64);
    metrics::counter!("voronka_events_duplicate_total").increment(duplicates as u64);
}

/// Background jobs run, by kind and whether they succeeded (a failed one is retried later).
pub(crate) fn jobs(kind: &str, ok: bool, count: usize) {
    let outcome = if ok { "done" } else { "failed" };
    metrics::counter!("voronka_jobs_total", "kind" => kind.to_string(), "outcome" => outcome)
        .increment(count as u64);
}
