//! The channel report page: what each source, medium, campaign or form brought and cost, and
//! the marketing spend behind it.

use super::fmt::ymd;
use super::{constant_time_eq, PageResult, PostForm, WebError};
use super::{link, query_value, render, render_status, see_other, t, Choice, IdPath, Layout};
use crate::error::classify;
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use voronka_app::{report_period, AppError, SpendInput};
use voronka_core::channels::{channel_of, ChannelBy, ChannelReport, ChannelRow};
use voronka_core::{Currency, Money};

const DAY_MS: i64 = 86_400_000;

/// The report's settings as the page's address has them.
#[derive(Default, Clone)]
pub(crate) struct ReportParams {
    pub by: String,
    pub from: String,
    pub to: String,
    pub currency: String,
}

impl ReportParams {
    fn read(raw: Option<&str>) -> ReportParams {
        let v = |k: &str| query_value(raw, k).unwrap_or_default().trim().to_string();
        ReportParams {
            by: v("by"),
            from: v("from"),
            to: v("to"),
            currency: v("currency"),
        }
    }

    fn pairs(&self) -> Vec<(String, String)> {
        [
            ("by", &self.by),
            ("from", &self.from),
            ("to", &self.to),
            ("currency", &self.currency),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
    }

    /// The report these settings ask for (an unknown grouping reads as by source).
    async fn report(&self, state: &AppState, user: &WebUser) -> Result<ChannelReport, AppError> {
        let by = ChannelBy::parse(&self.by).unwrap_or(ChannelBy::Source);
        let (from, to) = report_period(
            Some(&self.from),
            Some(&self.to),
            crate::channels_api::REPORT_DAYS,
        )?;
        let currency = (!self.currency.is_empty()).then_some(self.currency.as_str());
        state
            .app
            .channel_report(&user.actor(), by, from, to, currency)
            .await
    }

    /// The page's own address with these settings.
    pub fn url(&self) -> String {
        link("/reports", &self.pairs())
    }
}

pub(crate) struct RowView {
    pub label: String,
    /// The inbox of the row's leads (none for leads without the grouped field).
    pub leads_link: Option<String>,
    pub interests: i64,
    pub leads: i64,
    pub junk: i64,
    pub mql: i64,
    pub sql: i64,
    pub converted: i64,
    /// Converted per lead, in per mille for the meter, and as text.
    pub rate_permille: i64,
    pub rate: String,
    pub revenue: Vec<String>,
    pub spend: Vec<String>,
    pub cost_per_lead: String,
    pub cost_per_customer: String,
    pub roi: String,
    /// The spend did not pay back (in the report's currency).
    pub loss: bool,
}

pub(crate) struct SpendView {
    pub id: i64,
    /// The report again with this entry in the form, to be changed.
    pub edit_link: String,
    pub channel: String,
    pub days: String,
    pub amount: String,
    pub note: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    layout: Layout,
    groupings: Vec<Choice>,
    /// The period as shown: first and last day.
    first_day: String,
    last_day: String,
    currency: String,
    rows: Vec<RowView>,
    total: RowView,
    unattributed: Vec<String>,
    /// The page's address, for the forms to come back to.
    back: String,
    /// The same report as a CSV file.
    csv: String,
    /// Leads per week: the heads of the channels' columns and a row per week (none when the
    /// period has too many weeks to show).
    week_heads: Vec<String>,
    weeks: Vec<WeekRow>,
    /// The most leads of a week, the scale of the bars.
    week_max: i64,
    too_many_weeks: bool,
    spend: Vec<SpendView>,
    /// May enter and delete spend.
    edits_spend: bool,
    /// The spend form as typed (refilled after a refusal).
    typed: SpendInput,
    /// The entry the form changes (none: the form adds one), and its channel.
    editing: Option<(i64, String)>,
}

fn grouping_label(by: ChannelBy) -> &'static str {
    match by {
        ChannelBy::Source => t::BY_SOURCE,
        ChannelBy::SourceMedium => t::BY_SOURCE_MEDIUM,
        ChannelBy::Medium => t::BY_MEDIUM,
        ChannelBy::Campaign => t::BY_CAMPAIGN,
        ChannelBy::Form => t::BY_FORM,
    }
}

/// The most weeks the page lays out one by one.
const MAX_WEEKS_SHOWN: usize = 60;

pub(crate) struct WeekRow {
    pub week: String,
    pub cells: Vec<i64>,
    pub total: i64,
}

fn money_list(list: &[Money]) -> Vec<String> {
    list.iter().map(|m| m.to_string()).collect()
}

fn money_or_dash(m: Option<Money>) -> String {
    m.map(|m| m.to_string()).unwrap_or_else(|| "—".into())
}

fn row_view(
    r: &ChannelRow,
    by: ChannelBy,
    currency: Currency,
    period: &(String, String),
    total: bool,
) -> RowView {
    let k = &r.key;
    let label = if total {
        t::ALL_CHANNELS.to_string()
    } else {
        k.label(by, r.label.as_deref(), t::NO_CHANNEL)
    };
    // The inbox filters by what is there; a row of leads without the field has no filter.
    let mut pairs: Vec<(String, String)> = vec![
        ("from".into(), period.0.clone()),
        ("to".into(), period.1.clone()),
    ];
    let filters = [
        ("source", k.source.clone()),
        ("medium", k.medium.clone()),
        ("campaign", k.campaign.clone()),
        ("form", k.form_id.map(|id| id.to_string())),
    ];
    let wanted = match by {
        ChannelBy::Source => vec!["source"],
        ChannelBy::Medium => vec!["medium"],
        ChannelBy::Campaign => vec!["campaign"],
        ChannelBy::SourceMedium => vec!["source", "medium"],
        ChannelBy::Form => vec!["form"],
    };
    let mut linkable = true;
    for (name, value) in filters {
        if !wanted.contains(&name) {
            continue;
        }
        match value {
            Some(v) => pairs.push((name.into(), v)),
            None => linkable = false,
        }
    }
    let leads_link = (total || linkable).then(|| link("/leads", &pairs));
    let rate = r.conversion_rate;
    RowView {
        label,
        leads_link,
        interests: r.interests,
        leads: r.leads,
        junk: r.junk,
        mql: r.mql,
        sql: r.sql,
        converted: r.converted,
        rate_permille: rate.map(|x| (x * 1000.0).round() as i64).unwrap_or(0),
        rate: rate
            .map(|x| format!("{:.1} %", x * 100.0))
            .unwrap_or_else(|| "—".into()),
        revenue: money_list(&r.revenue),
        spend: money_list(&r.spend),
        cost_per_lead: money_or_dash(r.cost_per_lead),
        cost_per_customer: money_or_dash(r.cost_per_customer),
        roi: r
            .roi
            .map(|x| format!("{:+.0} %", x * 100.0))
            .unwrap_or_else(|| "—".into()),
        loss: r.roi.is_some_and(|x| x < 0.0) && r.revenue_in(currency) < r.spend_in(currency),
    }
}

/// What the spend form holds: a new entry or a change to one, as typed.
#[derive(Default)]
struct SpendForm {
    typed: SpendInput,
    editing: Option<i64>,
}

async fn page(
    state: &AppState,
    user: &WebUser,
    params: ReportParams,
    form: SpendForm,
) -> Result<ReportsPage, AppError> {
    let SpendForm { typed, editing } = form;
    let actor = user.actor();
    let report = params.report(state, user).await?;
    let (by, from, to) = (report.by, report.from, report.to);
    let spend = state.app.spend_entries(&actor, from, to).await?;
    let weekly = state
        .app
        .weekly_leads(&actor, by, from, to, crate::channels_api::WEEKLY_TOP)
        .await?;
    let too_many_weeks = weekly.weeks.len() > MAX_WEEKS_SHOWN;
    let mut week_heads: Vec<String> = weekly
        .channels
        .iter()
        .map(|c| c.key.label(by, c.label.as_deref(), t::NO_CHANNEL))
        .collect();
    let has_others = weekly.others.iter().any(|n| *n > 0);
    if has_others {
        week_heads.push(t::OTHER_CHANNELS.to_string());
    }
    let weeks: Vec<WeekRow> = if too_many_weeks {
        Vec::new()
    } else {
        weekly
            .weeks
            .iter()
            .enumerate()
            .map(|(i, w)| WeekRow {
                week: ymd(*w),
                cells: weekly
                    .channels
                    .iter()
                    .map(|c| c.leads[i])
                    .chain(has_others.then(|| weekly.others[i]))
                    .collect(),
                total: weekly.total[i],
            })
            .collect()
    };
    let week_max = weekly.total.iter().copied().max().unwrap_or(0);
    let period = (ymd(from), ymd(to - DAY_MS));
    let c = report.currency;
    Ok(ReportsPage {
        layout: Layout::new(user, "reports", t::REPORTS_TITLE),
        groupings: ChannelBy::ALL
            .iter()
            .map(|b| Choice {
                value: b.as_str().into(),
                label: grouping_label(*b).into(),
                selected: *b == by,
            })
            .collect(),
        first_day: period.0.clone(),
        last_day: period.1.clone(),
        currency: c.as_str().to_string(),
        rows: report
            .rows
            .iter()
            .map(|r| row_view(r, by, c, &period, false))
            .collect(),
        total: row_view(&report.total, by, c, &period, true),
        unattributed: money_list(&report.unattributed_spend),
        back: params.url(),
        csv: link(
            "/reports/channels.csv",
            &ReportParams {
                from: period.0.clone(),
                to: period.1.clone(),
                by: by.as_str().into(),
                currency: c.as_str().into(),
            }
            .pairs(),
        ),
        editing: editing.map(|id| {
            let channel = channel_of(
                &typed.source,
                typed.medium.as_deref(),
                typed.campaign.as_deref(),
            );
            (id, channel)
        }),
        spend: spend
            .into_iter()
            .map(|s| SpendView {
                id: s.id,
                edit_link: format!(
                    "{}#add-spend",
                    with_param(&params.url(), "edit", &s.id.to_string())
                ),
                channel: s.channel(),
                days: format!("{} – {}", ymd(s.starts_at), ymd(s.ends_at - DAY_MS)),
                amount: s.amount.to_string(),
                note: s.note.unwrap_or_default(),
                by: s.created_by.unwrap_or_default(),
            })
            .collect(),
        edits_spend: user.actor().role().manages_forms(),
        week_heads,
        weeks,
        week_max,
        too_many_weeks,
        typed,
    })
}

/// The report as the page shows it, as a CSV file.
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let report = ReportParams::read(raw.as_deref())
        .report(&state, &user)
        .await?;
    Ok(crate::channels_api::csv_file(&report)?)
}

/// The channel report.
pub(crate) async fn channels(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let params = ReportParams::read(raw.as_deref());
    let done = query_value(raw.as_deref(), "done");
    // `edit=ID`: that entry in the form, to be changed.
    let form = match query_value(raw.as_deref(), "edit") {
        Some(id) => {
            let id: i64 = id.trim().parse().map_err(|_| {
                WebError::App(AppError::NotFound(
                    voronka_app::Message::new("not_an_id").with("given", &id),
                ))
            })?;
            let entry = state.app.spend_entry(&user.actor(), id).await?;
            SpendForm {
                typed: SpendInput::of_entry(&entry),
                editing: Some(id),
            }
        }
        None => SpendForm::default(),
    };
    match page(&state, &user, params.clone(), form).await {
        Ok(mut p) => {
            p.layout = p.layout.with_flash(done.as_deref());
            Ok(render(&p))
        }
        // Unreadable dates or currency: the report of the defaults, with what was wrong.
        Err(e @ AppError::Invalid { .. }) => {
            let mut p = page(
                &state,
                &user,
                ReportParams {
                    by: params.by,
                    ..Default::default()
                },
                SpendForm::default(),
            )
            .await?;
            p.layout = p.layout.with_error(Some(e.to_string()));
            Ok(render_status(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                &p,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// The spend form's fields, and the report it came from.
fn spend_form(form: &PostForm) -> (SpendInput, ReportParams) {
    let back_raw = form.text("back");
    let back = ReportParams::read(Some(back_query(&back_raw)));
    let opt = |k: &str| Some(form.text(k)).filter(|v| !v.trim().is_empty());
    let input = SpendInput {
        source: form.text("source"),
        medium: opt("medium"),
        campaign: opt("campaign"),
        from: form.text("from"),
        to: form.text("to"),
        amount: form.text("amount"),
        currency: opt("currency"),
        note: opt("note"),
    };
    (input, back)
}

/// Records spend, then shows the report again.
pub(crate) async fn add_spend(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    save_spend(&state, &user, &body, None).await
}

/// Changes a spend entry, then shows the report again.
pub(crate) async fn update_spend(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    save_spend(&state, &user, &body, Some(id)).await
}

/// The spend form stored as a new entry, or as the entry it changes.
async fn save_spend(
    state: &AppState,
    user: &WebUser,
    body: &[u8],
    editing: Option<i64>,
) -> PageResult {
    let form = PostForm::checked(body, user)?;
    let (typed, back) = spend_form(&form);
    let saved = match editing {
        Some(id) => state
            .app
            .update_spend(&user.actor(), id, &typed)
            .await
            .map(|_| "spend_updated"),
        None => state
            .app
            .add_spend(&user.actor(), &typed)
            .await
            .map(|_| "spend_added"),
    };
    match saved {
        Ok(done) => Ok(see_other(&with_done(&back.url(), done))),
        Err(e) => refused(state, user, back, SpendForm { typed, editing }, e).await,
    }
}

/// A refused spend entry or file: the report again with why and what was typed; errors other
/// than wrong input go to the error page.
async fn refused(
    state: &AppState,
    user: &WebUser,
    back: ReportParams,
    form: SpendForm,
    e: AppError,
) -> PageResult {
    if !matches!(e, AppError::Invalid { .. }) {
        return Err(e.into());
    }
    let (status, _) = classify(&e);
    let mut p = page(state, user, back, form).await?;
    p.layout = p.layout.with_error(Some(e.to_string())).at(p.back.clone());
    Ok(render_status(status, &p))
}

/// Stores the spend of an uploaded CSV file, then shows the report again.
pub(crate) async fn import_spend(
    State(state): State<AppState>,
    user: WebUser,
    mut multipart: axum::extract::Multipart,
) -> PageResult {
    let bad = |e: axum::extract::multipart::MultipartError| {
        WebError::BadRequest(t::import_unreadable(e.body_text()))
    };
    let mut csrf_ok = false;
    let mut bytes = Vec::new();
    let mut defaults = voronka_app::SpendDefaults::default();
    let mut back_raw = String::new();
    while let Some(mut field) = multipart.next_field().await.map_err(bad)? {
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            if !csrf_ok {
                return Err(WebError::Csrf);
            }
            while let Some(chunk) = field.chunk().await.map_err(bad)? {
                bytes.extend_from_slice(&chunk);
                if bytes.len() > voronka_app::MAX_SPEND_FILE {
                    break;
                }
            }
            continue;
        }
        let value = field.text().await.map_err(bad)?;
        let given = || Some(value.trim().to_string()).filter(|v| !v.is_empty());
        match name.as_str() {
            "csrf" => {
                csrf_ok = constant_time_eq(value.as_bytes(), user.csrf.as_bytes());
                if !csrf_ok {
                    return Err(WebError::Csrf);
                }
            }
            "source" => defaults.source = given(),
            "medium" => defaults.medium = given(),
            "back" => back_raw = value,
            _ => {}
        }
    }
    if !csrf_ok {
        return Err(WebError::Csrf);
    }
    let back = ReportParams::read(Some(back_query(&back_raw)));
    match state
        .app
        .import_spend(&user.actor(), &bytes, &defaults)
        .await
    {
        Ok(_) => Ok(see_other(&with_done(&back.url(), "spend_imported"))),
        Err(e) => refused(&state, &user, back, SpendForm::default(), e).await,
    }
}

/// Deletes a spend entry, then shows the report again.
pub(crate) async fn delete_spend(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    state.app.delete_spend(&user.actor(), id).await?;
    let back_raw = form.text("back");
    let back = ReportParams::read(Some(back_query(&back_raw)));
    Ok(see_other(&with_done(&back.url(), "spend_deleted")))
}

/// The report's settings in a form's `back` (the page's address): only its query is read, so
/// that the answer never leads off the report.
fn back_query(back: &str) -> &str {
    back.split_once('?').map(|(_, q)| q).unwrap_or("")
}

fn with_done(url: &str, done: &str) -> String {
    with_param(url, "done", done)
}

/// `url` with one more query parameter (`value` needs no escaping).
fn with_param(url: &str, key: &str, value: &str) -> String {
    let joint = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joint}{key}={value}")
}
