//! User-facing text of the command line, in one place so that it can be translated: constants
//! for fixed text, and functions for sentences around values (each sentence whole, its values
//! named, so that a translation may reorder them).
//!
//! Some of this text is read by scripts and tests (`error: ` on stderr, `exported N leads`, the
//! `imported …` summary, `active`/`disabled` in `user list`); a change of wording is a change of
//! the command line's interface.

use std::fmt::Display;

// ---------- Errors ----------

/// The one line a failed command prints on stderr.
pub fn error_line(message: impl Display) -> String {
    format!("error: {message}")
}
pub fn cannot_start_runtime(e: impl Display) -> String {
    format!("cannot start the runtime: {e}")
}
pub fn cannot_open(what: impl Display) -> String {
    format!("cannot open {what}")
}
pub fn cannot_read(what: impl Display) -> String {
    format!("cannot read {what}")
}
pub fn cannot_write(what: impl Display) -> String {
    format!("cannot write {what}")
}
pub fn cannot_listen_on(address: impl Display) -> String {
    format!("cannot listen on {address}")
}
pub const READING_PASSWORD: &str = "reading the password";
/// The system clock gave no usable date.
pub const CLOCK: &str = "clock";
pub const SERVER_STOPPED: &str = "server stopped";
/// A step of a record linkage or deduplication run, as its progress bar names it.
pub fn linkage_step(step: voronka_core::linkage::Step) -> &'static str {
    use voronka_core::linkage::Step::*;
    match step {
        Preparing => "preparing",
        Blocking => "blocking",
        Comparing => "comparing",
        Estimating => "estimating",
        ReadingContacts => "reading contacts",
        Merging => "merging",
    }
}
pub fn no_active_user(email: impl Display) -> String {
    format!("there is no active user {email}")
}
pub const OWNER_ARG: &str = "--owner takes a user id or \"none\"";

// ---------- Argument values (shown by the usage error after "invalid value …") ----------

pub fn one_of(choices: impl Display) -> String {
    format!("one of {choices}")
}
pub const TEMPERATURE_CHOICES: &str = "cold, warm or hot";
pub const DATE_EXPECTED: &str = "a date as YYYY-MM-DD";
pub const PROBABILITY_EXPECTED: &str = "a probability between 0 and 1";

// ---------- migrate, user, form, demo, serve ----------

pub fn database_up_to_date(url: impl Display) -> String {
    format!("database is up to date: {url}")
}
pub fn user_added(id: impl Display, email: impl Display, role: impl Display) -> String {
    format!("user {id} added: {email} ({role})")
}
/// After `user password`.
pub fn password_set(id: impl Display, email: impl Display) -> String {
    format!("password of user {id} ({email}) set; their sessions have ended")
}
/// After `user two-step-off`.
pub fn two_step_off(id: impl Display, email: impl Display) -> String {
    format!("two-step sign-in of user {id} ({email}) is off")
}
/// The last column of `user list`.
pub fn contact_erased(contact: impl Display, records: i64, leads: i64) -> String {
    let records = match records {
        1 => "1 record".to_string(),
        n => format!("{n} records"),
    };
    let leads = match leads {
        1 => "1 lead".to_string(),
        n => format!("{n} leads"),
    };
    format!("erased the personal data of contact {contact} ({records}, {leads})")
}

pub const USER_ACTIVE: &str = "active";
pub const USER_DISABLED: &str = "disabled";
/// One line of `form list`: tab-separated columns, the counts with their labels.
pub fn form_list_row(
    id: impl Display,
    key: impl Display,
    name: impl Display,
    leads: impl Display,
    interests: impl Display,
    rejected: impl Display,
) -> String {
    format!("{id}\t{key}\t{name}\tleads {leads}\tinterests {interests}\trejected {rejected}")
}
pub fn loading_demo(leads: impl Display) -> String {
    format!("loading {leads} demo leads…")
}
pub fn demo_loaded(users: impl Display, leads: impl Display) -> String {
    format!("demo data loaded: {users} users, {leads} leads")
}
/// The name of the administrator created when a server starts without users.
pub const DEFAULT_ADMIN_NAME: &str = "Administrator";
pub fn serving(public_url: impl Display) -> String {
    format!("voronka is serving {public_url}/ (API docs: {public_url}/api/docs)")
}
pub fn sign_in_as(email: impl Display, password: impl Display) -> String {
    format!("sign in as {email} with password {password}")
}
pub const SIGN_IN_EXISTING_USER: &str =
    "sign in with an existing user (add one with `voronka user add`)";
pub const STOPPING: &str = "stopping";

// ---------- import, export ----------

/// The progress bar's message while a file is imported.
pub fn progress_rows(rows: impl Display) -> String {
    format!("{rows} rows")
}
/// How the file was read: its encoding and its field delimiter.
pub fn import_read_as(encoding: impl Display, delimiter: char) -> String {
    match delimiter {
        '\t' => format!("read as {encoding} with tab between fields"),
        d => format!("read as {encoding} with {d:?} between fields"),
    }
}
pub fn imported(s: &voronka_app::ImportSummary, secs: f64) -> String {
    format!(
        "imported {rows} rows in {secs:.1} s: {created} new leads, {attached} attached to existing leads, \
         {reopened} reopened, {interests} interests, {rejected} rejected, {skipped} already imported, \
         {failed} failed",
        rows = s.rows,
        created = s.created,
        attached = s.attached,
        reopened = s.reopened,
        interests = s.interests,
        rejected = s.rejected,
        skipped = s.skipped,
        failed = s.failed,
    )
}
pub fn rejected_rows_at(path: impl Display) -> String {
    format!("rows that did not become leads, with reasons: {path}")
}
pub fn exported(leads: impl Display) -> String {
    format!("exported {leads} leads")
}

// ---------- link ----------

pub fn cannot_read_header(path: impl Display) -> String {
    format!("cannot read the header of {path}")
}
pub fn no_id_column(path: impl Display, column: &str) -> String {
    format!("{path} has no id column {column:?}")
}
pub fn needs_two_id_columns(path: impl Display) -> String {
    format!("{path} needs two id columns")
}
pub fn not_link_configuration(path: impl Display) -> String {
    format!("{path} is not a valid link configuration")
}

/// The figures of one `voronka link` run.
pub struct LinkSummary<'a> {
    /// The record count, or the two counts as "A + B".
    pub records: &'a str,
    pub candidates: usize,
    pub threshold: f64,
    pub accepted: usize,
    /// Clusters, and how many of them hold more than one record (deduplication only).
    pub clusters: Option<(usize, usize)>,
    pub secs: f64,
    pub prior: f64,
    pub iterations: usize,
    pub out: &'a dyn Display,
}

pub fn link_summary(s: &LinkSummary) -> String {
    let LinkSummary {
        records,
        candidates,
        threshold,
        accepted,
        secs,
        prior,
        iterations,
        out,
        ..
    } = s;
    match s.clusters {
        Some((clusters, multi)) => format!(
            "records {records}, candidate pairs {candidates}, pairs at or above {threshold} \
             {accepted}, {clusters} clusters ({multi} with more than one record), {secs:.2} s; \
             EM: prior {prior:.4} after {iterations} iterations; pairs written to {out}"
        ),
        None => format!(
            "records {records}, candidate pairs {candidates}, pairs at or above {threshold} \
             {accepted}, {secs:.2} s; EM: prior {prior:.4} after {iterations} iterations; pairs \
             written to {out}"
        ),
    }
}
pub fn link_skipped_blocks(blocks: impl Display, max_block: impl Display) -> String {
    format!("note: {blocks} blocks larger than max_block = {max_block} were skipped")
}
pub fn link_quality(q: &voronka_core::linkage::Quality) -> String {
    format!(
        "precision {precision:.4}, recall {recall:.4}, F1 {f1:.4} ({found} true pairs found, \
         {false_pairs} false, {missed} missed)",
        precision = q.precision,
        recall = q.recall,
        f1 = q.f1,
        found = q.true_positives,
        false_pairs = q.false_positives,
        missed = q.false_negatives,
    )
}

// ---------- dedup ----------

pub fn dedup_pairs(r: &voronka_app::DedupReport) -> String {
    format!(
        "{contacts} contacts, {candidates} candidate pairs ({skipped} oversized blocks skipped): \
         {same} same-person pairs, {uncertain} uncertain",
        contacts = r.contacts,
        candidates = r.candidate_pairs,
        skipped = r.skipped_blocks,
        same = r.same_person_pairs,
        uncertain = r.uncertain_pairs,
    )
}
pub fn dedup_clusters_merged(
    clusters: impl Display,
    largest: impl Display,
    contacts: impl Display,
) -> String {
    format!(
        "{clusters} clusters (largest {largest} contacts): {contacts} contacts merged into their \
         cluster's survivor"
    )
}
pub fn dedup_clusters_dry_run(
    clusters: impl Display,
    largest: impl Display,
    contacts: impl Display,
) -> String {
    format!(
        "{clusters} clusters (largest {largest} contacts): {contacts} contacts would be merged \
         (dry run: nothing changed)"
    )
}
/// One cluster: the lowest pair probability in it, then its contacts.
pub fn dedup_cluster(min_probability: f64, contacts: impl Display) -> String {
    format!("  p ≥ {min_probability:.3}: {contacts}")
}
pub fn dedup_merges_recorded(merges: impl Display, queued: impl Display) -> String {
    format!(
        "{merges} merges recorded (undo each from the lead card or POST /api/v1/merges/ID/undo); \
         {queued} uncertain pairs queued for review"
    )
}
pub fn dedup_not_merged(contact: impl Display, why: impl Display) -> String {
    format!("  contact #{contact} not merged: {why}")
}
pub fn clusters_written(path: impl Display) -> String {
    format!("clusters written to {path}")
}

// ---------- model ----------

pub fn model_trained(
    model: impl Display,
    closed: impl Display,
    won: impl Display,
    lost: impl Display,
    secs: f64,
) -> String {
    format!(
        "trained model {model} on {closed} closed leads ({won} converted, {lost} refused) in \
         {secs:.1} s"
    )
}
pub fn model_held_out_auc(ours: f64, baseline: f64, leads: impl Display) -> String {
    format!("held-out AUC: ours {ours:.3}, naive-Bayes baseline {baseline:.3} ({leads} leads)")
}
pub fn model_scored(leads: impl Display) -> String {
    format!("scored {leads} open leads")
}
pub const NO_MODEL_YET: &str = "no model has been trained yet: run `voronka model train`";
pub fn model_report_head(
    model: impl Display,
    trained: impl Display,
    closed: impl Display,
    won: impl Display,
    lost: impl Display,
) -> String {
    format!(
        "model {model}, trained {trained} on {closed} closed leads ({won} converted, {lost} refused)"
    )
}
pub fn model_split(fit: impl Display, calibrate: impl Display, held_out: impl Display) -> String {
    format!("split: {fit} to fit, {calibrate} to calibrate, {held_out} held out for this report")
}
pub const MODEL_OURS: &str = "ours (calibrated logistic regression)";
pub const MODEL_BASELINE: &str = "baseline (naive Bayes over field frequencies)";
pub fn model_evaluation(model: impl Display, auc: f64, brier: f64) -> String {
    format!("{model}: AUC {auc:.3}, Brier score {brier:.4}")
}
/// The calibration table: its heading, then one row per decile aligned under it.
pub const MODEL_CALIBRATION_HEADING: &str = "  decile  leads  predicted  observed";
pub fn model_calibration_row(
    decile: usize,
    leads: impl Display,
    predicted_pct: f64,
    observed_pct: f64,
) -> String {
    format!("  {decile:>6}  {leads:>5}  {predicted_pct:>8.1}%  {observed_pct:>7.1}%")
}
pub const MODEL_TOP_FEATURES: &str = "top features of ours (log-odds per unit):";
pub const MODEL_TOP_BASELINE: &str = "top values of the baseline (log likelihood ratio):";

// ---------- score ----------

pub fn rescore_progress(done: impl Display, total: impl Display, pct: impl Display) -> String {
    format!("rescored {done} of {total} leads ({pct} %)")
}
pub fn rescored(leads: impl Display, changed: impl Display) -> String {
    format!("rescored {leads} leads, {changed} changed")
}
pub fn no_preset(preset: &str, presets: impl Display) -> String {
    format!("no preset {preset:?}; there are {presets}")
}
pub fn no_valid_rules(path: impl Display) -> String {
    format!("{path} holds no valid scoring rules")
}
pub fn rules_imported(
    profile: impl Display,
    behaviour: impl Display,
    leads: impl Display,
    changed: impl Display,
) -> String {
    format!(
        "imported {profile} profile and {behaviour} behaviour rules; rescored {leads} leads, \
         {changed} changed"
    )
}
pub fn fit_level(l: voronka_core::scoring::FitLevel) -> &'static str {
    use voronka_core::scoring::FitLevel::*;
    match l {
        Stranger => "Stranger",
        Unsuitable => "Unsuitable",
        Suitable => "Suitable",
        VerySuitable => "Very suitable",
    }
}
pub fn activity(a: voronka_core::scoring::Activity) -> &'static str {
    use voronka_core::scoring::Activity::*;
    match a {
        Inactive => "Inactive",
        LessActive => "Less active",
        Active => "Active",
        VeryActive => "Very active",
    }
}
/// The first line of `score explain`.
pub fn explain_head(e: &voronka_app::Explanation) -> String {
    let s = &e.score;
    format!(
        "lead {lead}: fit {fit} ({fit_level}), engagement {engagement} ({activity}), total {total}, \
         {temperature} — stage {stage}",
        lead = e.lead_id,
        fit = s.fit,
        fit_level = fit_level(s.fit_level),
        engagement = s.engagement,
        activity = activity(s.activity),
        total = s.total,
        temperature = s.temperature.as_str(),
        stage = e.stage,
    )
}
pub const TEMPERATURE_BY_HAND: &str = "the temperature was set by hand and stays until cleared";
pub const NO_RULE_MATCHED: &str = "no rule matched";
/// Headings of the two lists of contributions.
pub const EXPLAIN_FIT: &str = "fit:";
pub const EXPLAIN_ENGAGEMENT: &str = "engagement:";
pub fn would_move_to(stage: impl Display, rule: impl Display) -> String {
    format!("would move to {stage}: {rule}")
}

// ---------- Channel report and spend ----------

/// The channel report's columns, in the table's order.
pub const REPORT_COLUMNS: [&str; 10] = [
    "channel",
    "leads",
    "MQL",
    "SQL",
    "converted",
    "conversion",
    "revenue",
    "spend",
    "cost per lead",
    "return",
];
/// The row of leads without the grouped field.
pub const NO_CHANNEL: &str = "(none)";
pub const ALL_CHANNELS: &str = "all channels";
pub fn unattributed_spend(amounts: impl Display) -> String {
    format!("spend this grouping cannot show: {amounts}")
}
pub fn spend_added(id: i64, amount: impl Display) -> String {
    format!("spend entry {id} added: {amount}")
}
pub fn spend_updated(id: i64, amount: impl Display) -> String {
    format!("spend entry {id} changed: {amount}")
}
pub fn spend_deleted(id: i64) -> String {
    format!("spend entry {id} deleted")
}
pub fn spend_imported(rows: usize, added: usize, replaced: u64) -> String {
    format!(
        "spend imported: {rows} rows, {added} entries stored, {replaced} earlier entries replaced"
    )
}
