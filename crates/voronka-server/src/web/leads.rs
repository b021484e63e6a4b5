//! The lead inbox and the lead card with its actions.

use super::fmt::{self, When};
use super::{
    link, now, query_pairs, query_value, render, render_status, see_other, t, Choice, IdPath, Kept,
    Layout, PageResult, PostForm, WebError,
};
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use std::collections::HashMap;
use voronka_app::{AppError, BulkAction, ConvertInput, Message, RefuseInput};
use voronka_core::intake::Reason;
use voronka_core::{Currency, Id, Money, Stage, Temperature};
use voronka_store::{Cursor, LeadDetail, LeadQuery, LeadRow, LeadSort};

const PAGE: i64 = 50;

// ---------------------------------------------------------------------------------------------
// Inbox

pub(crate) struct RowView {
    pub id: Id,
    pub name: String,
    pub company: String,
    pub phone: String,
    pub email: String,
    pub product: String,
    pub stage: &'static str,
    pub stage_label: &'static str,
    pub temp: &'static str,
    pub temp_label: &'static str,
    pub source: String,
    pub owner: String,
    pub received: When,
    pub touches: i64,
    /// Probability of conversion as a percentage, empty until scored.
    pub conversion: String,
    pub tags: Vec<String>,
}

impl RowView {
    fn new(r: &LeadRow, now: i64) -> RowView {
        let l = &r.lead;
        let source = match (&l.source, &l.medium) {
            (Some(s), Some(m)) => format!("{s} / {m}"),
            (Some(s), None) => s.clone(),
            (None, Some(m)) => format!("— / {m}"),
            (None, None) => String::new(),
        };
        RowView {
            id: l.id,
            name: r.contact_name.clone(),
            company: r.company.clone().unwrap_or_default(),
            phone: r.phone.clone().unwrap_or_default(),
            email: r.email.clone().unwrap_or_default(),
            product: l.product.clone().unwrap_or_default(),
            stage: l.stage.as_str(),
            stage_label: t::stage_label(l.stage),
            temp: l.temperature.as_str(),
            temp_label: t::temperature_label(l.temperature),
            source,
            owner: r.owner_name.clone().unwrap_or_default(),
            received: When::new(l.created_at, now),
            touches: l.touches,
            conversion: t::conversion_percent(l.conversion_probability),
            tags: Vec::new(),
        }
    }
}

pub(crate) struct Tab {
    pub label: &'static str,
    pub href: String,
    /// The number, with a "+" when it is a lower bound (a search matching very many leads).
    pub count: String,
    pub active: bool,
    pub stage: &'static str,
}

#[derive(Template)]
#[template(path = "leads.html")]
struct InboxPage {
    layout: Layout,
    rows: Vec<RowView>,
    /// The tags in use, for the tag filter.
    tags_known: Vec<String>,
    total: String,
    tabs: Vec<Tab>,
    next: Option<String>,
    prev: Option<String>,
    first_page: Option<String>,
    f: Filters,
    stages: Vec<Choice>,
    temperatures: Vec<Choice>,
    owners: Vec<Choice>,
    sorts: Vec<Choice>,
    notices: Vec<String>,
    any_filter: bool,
    /// The changes the selection's bar offers: `assign:ID`, `assign:none`, `stage:S`,
    /// `temperature:T`, `junk`, grouped under their labels.
    bulk: Vec<(&'static str, Vec<Choice>)>,
    /// Where the bar's change returns to: this list's first page with its filters.
    back: String,
    /// Whether this person changes leads (and so gets the boxes and the bar).
    writes: bool,
    /// The address of this list's leads as a CSV file, for people who may export them.
    export: Option<String>,
    /// The earliest freeze date a refusal takes.
    tomorrow: String,
    /// The saved views this person sees.
    views: Vec<ViewChip>,
    /// This list's filters, as a view saves them.
    view_query: String,
    /// Whether this person may share a view with the team.
    shares_views: bool,
}

/// A saved view above the inbox.
struct ViewChip {
    id: Id,
    name: String,
    href: String,
    /// The list shown is this view's.
    active: bool,
    shared: bool,
    /// This person may delete it.
    deletable: bool,
}

/// The inbox filters as typed, to refill the filter form and to keep them in links.
#[derive(Default)]
pub(crate) struct Filters {
    pub stages: Vec<Stage>,
    pub temperature: String,
    pub owner: String,
    pub source: String,
    pub medium: String,
    pub campaign: String,
    pub form: String,
    pub from: String,
    pub to: String,
    pub q: String,
    /// Least probability of conversion, in percent.
    pub min_conversion: String,
    pub fit_level: String,
    pub activity: String,
    pub tag: String,
    pub sort: String,
}

impl Filters {
    /// What the search box sends along besides its text and the stages: every other filter in
    /// force, and the sort.
    pub fn kept_beside_search(&self) -> Vec<(String, String)> {
        self.pairs(&[])
            .into_iter()
            .filter(|(k, v)| k != "q" && !v.is_empty())
            .collect()
    }

    /// What the filter form sends along that it has no field for: the fit level and activity
    /// of the scoring matrix's links.
    pub fn kept_beside_filters(&self) -> Vec<(String, String)> {
        [("fit_level", &self.fit_level), ("activity", &self.activity)]
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    /// Pairs for links; `stages` replaces the stage filter.
    /// The list's filters as its address's query (without paging): what a view keeps.
    fn query(&self) -> String {
        link("", &self.pairs(&self.stages))
            .trim_start_matches('?')
            .to_string()
    }

    fn pairs(&self, stages: &[Stage]) -> Vec<(String, String)> {
        let mut p = Vec::new();
        if !stages.is_empty() {
            let s: Vec<&str> = stages.iter().map(|s| s.as_str()).collect();
            p.push(("stage".to_string(), s.join(",")));
        }
        for (k, v) in [
            ("temperature", &self.temperature),
            ("owner", &self.owner),
            ("source", &self.source),
            ("medium", &self.medium),
            ("campaign", &self.campaign),
            ("form", &self.form),
            ("from", &self.from),
            ("to", &self.to),
            ("q", &self.q),
            ("min_conversion", &self.min_conversion),
            ("fit_level", &self.fit_level),
            ("activity", &self.activity),
            ("tag", &self.tag),
        ] {
            p.push((k.to_string(), v.clone()));
        }
        if self.sort != LeadSort::Inbox.as_str() {
            p.push(("sort".to_string(), self.sort.clone()));
        }
        p
    }
}

/// Reads the inbox query string into a store query; unreadable values become notices, not errors.
fn parse_filters(raw: Option<&str>, notices: &mut Vec<String>) -> (Filters, LeadQuery) {
    let mut f = Filters {
        sort: LeadSort::Inbox.as_str().to_string(),
        ..Default::default()
    };
    let mut q = LeadQuery {
        limit: PAGE + 1,
        ..Default::default()
    };
    for (k, v) in query_pairs(raw) {
        let v = v.trim().to_string();
        if v.is_empty() {
            continue;
        }
        match k.as_str() {
            "stage" => {
                for s in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                    match Stage::parse(s) {
                        Ok(st) if !f.stages.contains(&st) => f.stages.push(st),
                        Ok(_) => {}
                        Err(_) => {
                            notices.push(t::fill1(t::UNKNOWN_STAGE_IGNORED_N, format!("{s:?}")))
                        }
                    }
                }
            }
            "temperature" => match Temperature::parse(&v) {
                Some(tp) => {
                    q.temperature = Some(tp);
                    f.temperature = tp.as_str().into();
                }
                None => notices.push(t::fill1(t::UNKNOWN_TEMPERATURE_IGNORED_N, format!("{v:?}"))),
            },
            "owner" => {
                if v == "none" {
                    q.owner = Some(None);
                    f.owner = v;
                } else if let Ok(id) = v.parse::<Id>() {
                    q.owner = Some(Some(id));
                    f.owner = v;
                } else {
                    notices.push(t::fill1(t::UNKNOWN_OWNER_IGNORED_N, format!("{v:?}")));
                }
            }
            "source" => {
                q.source = Some(v.clone());
                f.source = v;
            }
            "medium" => {
                q.medium = Some(v.clone());
                f.medium = v;
            }
            "campaign" => {
                q.campaign = Some(v.clone());
                f.campaign = v;
            }
            "form" => match v.parse::<Id>() {
                Ok(id) => {
                    q.form_id = Some(id);
                    f.form = v;
                }
                Err(_) => notices.push(t::fill1(t::UNKNOWN_FORM_IGNORED_N, format!("{v:?}"))),
            },
            "from" => match fmt::parse_ymd(&v) {
                Some(ms) => {
                    q.created_from = Some(ms);
                    f.from = v;
                }
                None => notices.push(format!("{} ({v:?})", t::ERR_BAD_DATE)),
            },
            "to" => match fmt::parse_ymd(&v) {
                // The whole day is included.
                Some(ms) => {
                    q.created_to = Some(ms + 86_400_000);
                    f.to = v;
                }
                None => notices.push(format!("{} ({v:?})", t::ERR_BAD_DATE)),
            },
            "q" => {
                q.text = Some(v.clone());
                f.q = v;
            }
            "tag" => {
                q.tag = Some(v.clone());
                f.tag = v;
            }
            "min_conversion" => match v.trim_end_matches('%').trim().parse::<f64>() {
                Ok(pct) if (0.0..=100.0).contains(&pct) => {
                    q.min_conversion = Some(pct / 100.0);
                    f.min_conversion = v;
                }
                _ => notices.push(format!("{} ({v:?})", t::ERR_BAD_PERCENT)),
            },
            "fit_level" => match voronka_core::scoring::FitLevel::parse(&v) {
                Some(l) => {
                    q.fit_level = Some(l);
                    f.fit_level = v;
                }
                None => notices.push(t::fill1(t::UNKNOWN_FIT_LEVEL_IGNORED_N, format!("{v:?}"))),
            },
            "activity" => match voronka_core::scoring::Activity::parse(&v) {
                Some(a) => {
                    q.activity = Some(a);
                    f.activity = v;
                }
                None => notices.push(t::fill1(t::UNKNOWN_ACTIVITY_IGNORED_N, format!("{v:?}"))),
            },
            "sort" => match LeadSort::parse(&v) {
                Some(s) => {
                    q.sort = s;
                    f.sort = v;
                }
                None => notices.push(t::fill1(t::UNKNOWN_SORT_IGNORED_N, format!("{v:?}"))),
            },
            "after" | "before" => match Cursor::decode(&v) {
                Some(c) if k == "after" => q.after = Some(c),
                Some(c) => q.before = Some(c),
                None => notices.push(t::THE_PAGE_POSITION_WAS_NOT_READABLE.into()),
            },
            _ => {}
        }
    }
    q.stages = f.stages.clone();
    (f, q)
}

pub(crate) async fn inbox(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    if !user.user.role.reads_leads() {
        // Marketers work with forms and reports, not with people's contact data.
        return Ok(see_other("/forms"));
    }
    let actor = user.actor();
    let mut notices = Vec::new();
    let (f, q) = parse_filters(raw.as_deref(), &mut notices);
    let paged = q.after.is_some() || q.before.is_some();
    let backward = q.after.is_none() && q.before.is_some();

    // The tabs' counts ignore the stage filter but honour the others.
    let page = state.app.list_leads_page(&actor, q, true).await?;
    let (mut rows, total) = (page.rows, page.total);
    let (counts, counts_exact) = page.tabs.unwrap_or_default();
    let counts: HashMap<Stage, i64> = counts.into_iter().collect();
    let shown = |n: i64, exact: bool| {
        if exact {
            n.to_string()
        } else {
            format!("{n}+")
        }
    };

    // One row beyond the page tells whether there is more in the direction of travel.
    let more = rows.len() as i64 > PAGE;
    if more && backward {
        rows.remove(0);
    }
    rows.truncate(PAGE as usize);
    let page_link = |key: &str, row: Option<&voronka_store::LeadRow>| {
        row.map(|r| {
            let mut p = f.pairs(&f.stages);
            p.push((key.into(), r.cursor().encode()));
            link("/leads", &p)
        })
    };
    let next = if (more && !backward) || (backward && !rows.is_empty()) {
        page_link("after", rows.last())
    } else {
        None
    };
    let prev = if (paged && !backward) || (backward && more) {
        page_link("before", rows.first())
    } else {
        None
    };
    // Only where there is a page before this one (a page reached back from the second is the
    // first already).
    let first_page = prev.is_some().then(|| link("/leads", &f.pairs(&f.stages)));

    let all_count: i64 = counts.values().sum();
    let mut tabs = vec![Tab {
        label: t::ALL,
        href: link("/leads", &f.pairs(&[])),
        count: shown(all_count, counts_exact),
        active: f.stages.is_empty(),
        stage: "all",
    }];
    for s in Stage::ALL {
        tabs.push(Tab {
            label: t::stage_label(s),
            href: link("/leads", &f.pairs(&[s])),
            count: shown(counts.get(&s).copied().unwrap_or(0), counts_exact),
            active: f.stages == [s],
            stage: s.as_str(),
        });
    }

    let now = now();
    let sellers = state.app.sellers().await?;
    let mut owners = vec![
        Choice::new("", t::ANYONE, f.owner.is_empty()),
        Choice::new("none", t::LEAD_UNASSIGNED, f.owner == "none"),
    ];
    owners.extend(sellers.iter().map(|u| {
        Choice::new(
            u.id.to_string(),
            u.name.clone(),
            f.owner == u.id.to_string(),
        )
    }));
    let stages = Stage::ALL
        .iter()
        .map(|s| Choice::new(s.as_str(), t::stage_label(*s), f.stages.contains(s)))
        .collect();
    let mut temperatures = vec![Choice::new("", t::ANY, f.temperature.is_empty())];
    temperatures.extend(Temperature::ALL.iter().map(|tp| {
        Choice::new(
            tp.as_str(),
            t::temperature_label(*tp),
            f.temperature == tp.as_str(),
        )
    }));
    let sorts = LeadSort::ALL
        .iter()
        .map(|s| Choice::new(s.as_str(), t::sort_label(s.as_str()), f.sort == s.as_str()))
        .collect();
    let any_filter = !f.pairs(&f.stages).iter().all(|(_, v)| v.is_empty());

    let bulk = bulk_choices(&state, &user, &sellers).await?;
    let mut layout = Layout::new(&user, "leads", t::NAV_LEADS);
    if query_value(raw.as_deref(), "done").as_deref() == Some("bulk") {
        let count = |k: &str| {
            query_value(raw.as_deref(), k)
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0)
        };
        layout.flash = Some(t::bulk_changed(count("changed")));
        let refused = count("refused");
        if refused > 0 {
            // Lead numbers only: the address is not a place for other words on the page.
            let ids: String = query_value(raw.as_deref(), "refused_ids")
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_digit() || matches!(c, '#' | ',' | ' '))
                .collect();
            notices.push(t::bulk_refused(refused, &ids));
        }
    }

    let back = link("/leads", &f.pairs(&f.stages));
    let view_query = f.query();
    let me = user.user.id;
    let shares_views = user.user.role.assigns_leads();
    let views = state
        .app
        .saved_views(&actor)
        .await?
        .into_iter()
        .map(|v| ViewChip {
            href: if v.query.is_empty() {
                "/leads".to_string()
            } else {
                format!("/leads?{}", v.query)
            },
            active: v.query == view_query,
            deletable: v.user_id == me || (v.shared && shares_views),
            id: v.id,
            name: v.name,
            shared: v.shared,
        })
        .collect();
    if let Some(done) = query_value(raw.as_deref(), "done").filter(|d| d.starts_with("view_")) {
        layout = layout.with_flash(Some(&done));
    }
    let export = user
        .user
        .role
        .exports_leads()
        .then(|| link("/leads/export", &f.pairs(&f.stages)));
    Ok(render(&InboxPage {
        layout,
        rows: {
            let ids: Vec<Id> = rows.iter().map(|r| r.lead.id).collect();
            let mut tags = state.app.tags_of_leads(&ids).await?;
            rows.iter()
                .map(|r| {
                    let mut v = RowView::new(r, now);
                    v.tags = tags.remove(&r.lead.id).unwrap_or_default();
                    v
                })
                .collect()
        },
        tags_known: state.app.tag_names(&actor).await?,
        total: shown(total.n, total.exact),
        tabs,
        next,
        prev,
        first_page,
        f,
        stages,
        temperatures,
        owners,
        sorts,
        notices,
        any_filter,
        bulk,
        export,
        tomorrow: fmt::ymd(now + 86_400_000),
        views,
        view_query,
        shares_views,
        back,
        writes: user.user.role.writes_leads(),
    }))
}

/// Inbox filters as a view keeps them: only what the inbox reads, in its own order and spelling
/// (paging, notices and unknown parameters left out).
pub(crate) fn inbox_query(raw: &str) -> String {
    let (f, _) = parse_filters(Some(raw.trim_start_matches('?')), &mut Vec::new());
    f.query()
}

/// Saves the inbox's filters as a view, then shows the list again.
pub(crate) async fn save_view(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let query = inbox_query(&form.text("query"));
    state
        .app
        .save_view(
            &user.actor(),
            &form.text("name"),
            &query,
            form.get("shared").is_some(),
        )
        .await?;
    Ok(see_other(&if query.is_empty() {
        "/leads?done=view_saved".to_string()
    } else {
        format!("/leads?{query}&done=view_saved")
    }))
}

/// Deletes a saved view, then shows the inbox.
pub(crate) async fn delete_view(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    state.app.delete_view(&user.actor(), id).await?;
    Ok(see_other("/leads?done=view_deleted"))
}

/// The leads of the inbox's filters as a CSV file (every page of them, oldest first), with the
/// byte-order mark by which spreadsheet programs read any script right.
pub(crate) async fn export(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    // Filters the list ignores (with a notice there) are ignored here too: the file holds what
    // the list showed.
    let (_, q) = parse_filters(raw.as_deref(), &mut Vec::new());
    let options = voronka_app::ExportOptions {
        format: voronka_app::ExportFormat::Csv,
        byte_order_mark: true,
    };
    let export = state.app.start_export(&user.actor(), q, options).await?;
    Ok(crate::export::export_response(export, options.format))
}

/// The changes the inbox's bar offers this person, grouped under their labels (none for someone
/// who does not change leads, whose page has no bar).
async fn bulk_choices(
    state: &AppState,
    user: &WebUser,
    sellers: &[voronka_core::User],
) -> Result<Vec<(&'static str, Vec<Choice>)>, AppError> {
    if !user.user.role.writes_leads() {
        return Ok(Vec::new());
    }
    let mut bulk = Vec::new();
    if user.user.role.assigns_leads() {
        let mut to = vec![Choice::new("assign:none", t::LEAD_UNASSIGNED, false)];
        to.extend(
            sellers
                .iter()
                .map(|u| Choice::new(format!("assign:{}", u.id), u.name.clone(), false)),
        );
        bulk.push((t::BULK_ASSIGN_TO, to));
    }
    bulk.push((
        t::BULK_MOVE_TO,
        Stage::ALL
            .iter()
            .filter(|s| s.is_open())
            .map(|s| Choice::new(format!("stage:{}", s.as_str()), t::stage_label(*s), false))
            .collect(),
    ));
    bulk.push((
        t::TEMPERATURE,
        Temperature::ALL
            .iter()
            .map(|tp| {
                Choice::new(
                    format!("temperature:{}", tp.as_str()),
                    t::temperature_label(*tp),
                    false,
                )
            })
            .collect(),
    ));
    bulk.push((
        t::BULK_REFUSE_AS,
        state
            .app
            .refusal_reasons()
            .await?
            .into_iter()
            .map(|r| Choice::new(format!("refuse:{r}"), r, false))
            .collect(),
    ));
    bulk.push((
        t::BULK_OTHER,
        vec![
            Choice::new("tag", t::ADD_TAG, false),
            Choice::new("untag", t::REMOVE_TAG_BULK, false),
            Choice::new("junk", t::BULK_MARK_AS_JUNK, false),
        ],
    ));
    Ok(bulk)
}

/// How many refused leads the inbox names after a change to a selection.
const REFUSED_NAMED: usize = 20;

/// One change for the leads selected in the inbox; back to the list with what was done.
pub(crate) async fn bulk(State(state): State<AppState>, user: WebUser, body: Bytes) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    // Back to the inbox only: a list address of this site, never another site's.
    let back = form
        .get("back")
        .filter(|b| (*b == "/leads" || b.starts_with("/leads?")) && !b.contains("//"))
        .unwrap_or("/leads")
        .to_string();
    let ids: Vec<Id> = form
        .all("id")
        .iter()
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let chosen = form.text("action");
    let action = match chosen.split_once(':') {
        Some(("assign", "none")) => Some(BulkAction::Assign(None)),
        Some(("assign", v)) => v.parse().ok().map(|id| BulkAction::Assign(Some(id))),
        Some(("stage", v)) => Stage::parse(v).ok().map(BulkAction::Stage),
        Some(("temperature", v)) => Temperature::parse(v).map(BulkAction::Temperature),
        Some(("refuse", v)) => {
            let freeze_until = match form.opt("freeze_until") {
                Some(d) => Some(
                    fmt::parse_ymd(&d)
                        .ok_or_else(|| invalid("freeze_until", Message::new("date_invalid")))?,
                ),
                None => None,
            };
            Some(BulkAction::Refuse(RefuseInput {
                reason: v.to_string(),
                comment: form.opt("comment"),
                freeze_until,
            }))
        }
        None if chosen == "junk" => Some(BulkAction::Junk(form.text("reason"))),
        None if chosen == "tag" => Some(BulkAction::Tag(form.text("tag"))),
        None if chosen == "untag" => Some(BulkAction::Untag(form.text("tag"))),
        _ => None,
    };
    let res = match action {
        Some(a) => state.app.bulk_leads(&user.actor(), &ids, &a).await,
        None => Err(AppError::invalid(
            "action",
            Message::new("bulk_choose_action"),
        )),
    };
    match res {
        Ok(out) => {
            let named: Vec<String> = out
                .refused
                .iter()
                .take(REFUSED_NAMED)
                .map(|(id, _)| format!("#{id}"))
                .collect();
            let sep = if back.contains('?') { '&' } else { '?' };
            Ok(see_other(&format!(
                "{back}{sep}{}",
                serde_urlencoded::to_string([
                    ("done", "bulk".to_string()),
                    ("changed", out.changed.len().to_string()),
                    ("refused", out.refused.len().to_string()),
                    ("refused_ids", named.join(", ")),
                ])
                .unwrap_or_default()
            )))
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------
// Lead card

pub(crate) struct TouchView {
    pub id: Id,
    pub channel: &'static str,
    pub form: String,
    pub utm: Vec<(&'static str, String)>,
    pub partner: String,
    pub ip: String,
    pub user_agent: String,
    pub message: String,
    pub raw: String,
    pub when: When,
    pub answers: Vec<AnswerView>,
    pub consent_text: String,
    pub variant: String,
}

/// One quiz answer on the lead card.
pub(crate) struct AnswerView {
    pub question: String,
    pub answers: String,
    pub points: String,
}

pub(crate) struct HistoryView {
    pub who: String,
    pub when: When,
    pub from: &'static str,
    pub from_label: &'static str,
    pub to: &'static str,
    pub to_label: &'static str,
    pub reason: String,
    /// The code of a move the system made (empty for a person's own reason).
    pub code: String,
    pub comment: String,
}

pub(crate) struct NoteView {
    pub author: String,
    pub body: String,
    pub when: When,
}

pub(crate) struct BriefView {
    pub id: Id,
    pub product: String,
    pub stage: &'static str,
    pub stage_label: &'static str,
    pub temp: &'static str,
    pub temp_label: &'static str,
    pub when: When,
}

impl BriefView {
    pub fn new(b: &voronka_store::LeadBrief, now: i64) -> BriefView {
        BriefView {
            id: b.id,
            product: b.product.clone().unwrap_or_default(),
            stage: b.stage.as_str(),
            stage_label: t::stage_label(b.stage),
            temp: b.temperature.as_str(),
            temp_label: t::temperature_label(b.temperature),
            when: When::new(b.created_at, now),
        }
    }
}

pub(crate) struct PhoneView {
    pub raw: String,
    pub e164: String,
    pub valid: bool,
}

pub(crate) struct EmailView {
    pub raw: String,
    pub normalized: String,
}

pub(crate) struct ContactView {
    pub id: Id,
    pub name: String,
    pub phones: Vec<PhoneView>,
    pub emails: Vec<EmailView>,
    pub socials: Vec<String>,
    pub position: String,
    pub country: String,
    pub language: String,
    pub account: Option<(Id, String)>,
}

impl ContactView {
    pub fn new(c: &voronka_core::Contact, account: Option<&voronka_core::Account>) -> ContactView {
        ContactView {
            id: c.id,
            name: c.full_name.clone(),
            phones: c
                .phones
                .iter()
                .map(|p| PhoneView {
                    raw: p.raw.clone(),
                    e164: p.e164.clone().unwrap_or_default(),
                    valid: p.valid,
                })
                .collect(),
            emails: c
                .emails
                .iter()
                .map(|e| EmailView {
                    raw: e.raw.clone(),
                    normalized: e.normalized.clone(),
                })
                .collect(),
            socials: c.socials.clone(),
            position: c.position.clone().unwrap_or_default(),
            country: c
                .country
                .as_deref()
                .map(t::country_name)
                .unwrap_or_default(),
            language: c
                .language
                .as_deref()
                .map(t::language_name)
                .unwrap_or_default(),
            account: account.map(|a| (a.id, a.name.clone())),
        }
    }
}

pub(crate) fn touch_view(
    tc: &voronka_core::Touch,
    forms: &HashMap<Id, String>,
    now: i64,
) -> TouchView {
    let a = &tc.attribution;
    let utm: Vec<(&'static str, String)> = [
        (t::SOURCE, &a.utm_source),
        (t::MEDIUM, &a.utm_medium),
        (t::CAMPAIGN, &a.utm_campaign),
        (t::TERM, &a.utm_term),
        (t::CONTENT, &a.utm_content),
        (t::REFERRER, &a.referrer),
        (t::LANDING_PAGE, &a.landing_page),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
    .collect();
    TouchView {
        id: tc.id,
        channel: t::channel_label(tc.channel),
        form: tc
            .form_id
            .map(|id| forms.get(&id).cloned().unwrap_or_else(|| format!("#{id}")))
            .unwrap_or_default(),
        utm,
        partner: tc.partner.clone().unwrap_or_default(),
        ip: tc.ip.clone().unwrap_or_default(),
        user_agent: tc.user_agent.clone().unwrap_or_default(),
        message: tc.message.clone().unwrap_or_default(),
        raw: fmt::visible_controls(&serde_json::to_string_pretty(&tc.raw).unwrap_or_default()),
        when: When::new(tc.created_at, now),
        answers: tc
            .answers
            .iter()
            .map(|a| AnswerView {
                question: a.question.clone(),
                answers: a.answers.join(", "),
                points: match (a.fit, a.intent) {
                    (0, 0) => String::new(),
                    (f, 0) => format!("fit {f:+}"),
                    (0, i) => format!("intent {i:+}"),
                    (f, i) => format!("fit {f:+}, intent {i:+}"),
                },
            })
            .collect(),
        consent_text: tc.consent_text.clone().unwrap_or_default(),
        variant: tc.variant.clone().unwrap_or_default(),
    }
}

pub(crate) fn history_view(h: &voronka_core::StageChange, now: i64) -> HistoryView {
    let who = match h.actor_id {
        None => t::system_actor(&h.actor).map_or_else(|| h.actor.clone(), str::to_string),
        Some(_) => h.actor.clone(),
    };
    HistoryView {
        who,
        when: When::new(h.at, now),
        from: h.from.map(|s| s.as_str()).unwrap_or(""),
        from_label: h.from.map(t::stage_label).unwrap_or(""),
        to: h.to.as_str(),
        to_label: t::stage_label(h.to),
        reason: h.reason.clone().unwrap_or_default(),
        code: h.reason_code.clone().unwrap_or_default(),
        comment: h.comment.clone().unwrap_or_default(),
    }
}

pub(crate) struct DealView {
    pub id: Id,
    pub title: String,
    pub amount: String,
    pub when: When,
}

pub(crate) struct ContributionView {
    pub part: &'static str,
    pub rule: String,
    pub matched: String,
    pub points: i64,
    pub effective: String,
    pub when: String,
}

pub(crate) struct ScoreView {
    pub fit: i64,
    pub engagement: i64,
    pub total: i64,
    pub fit_level: &'static str,
    pub activity: &'static str,
    pub manual: bool,
    pub contributions: Vec<ContributionView>,
    /// The latest events: (name, when, page).
    pub events: Vec<(String, String, String)>,
}

fn score_view(e: voronka_app::Explanation) -> ScoreView {
    use voronka_core::scoring::Part;
    let s = e.score;
    let events = e
        .events
        .iter()
        .take(10)
        .map(|ev| {
            (
                t::event_label(&ev.name),
                fmt::datetime(ev.at),
                ev.url.clone().unwrap_or_default(),
            )
        })
        .collect();
    ScoreView {
        events,
        fit: s.fit,
        engagement: s.engagement,
        total: s.total,
        fit_level: t::fit_level_label(s.fit_level),
        activity: t::activity_label(s.activity),
        manual: e.stored.temperature_manual,
        contributions: s
            .contributions
            .into_iter()
            .map(|c| ContributionView {
                part: match c.part {
                    Part::Fit => t::SCORE_FIT,
                    Part::Engagement => t::SCORE_ENGAGEMENT,
                },
                rule: c.rule,
                // A behaviour rule matches an event: named in words; a profile rule's field and
                // value stay as written.
                matched: t::event_label(&c.matched),
                points: c.points,
                effective: format!("{:.1}", c.effective),
                when: c.at.map(fmt::datetime).unwrap_or_default(),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "lead.html")]
struct CardPage {
    layout: Layout,
    id: Id,
    /// Merges this lead took part in: (merge id, other lead, how it reads, undoable).
    merges: Vec<(Id, Id, String, bool)>,
    contact: ContactView,
    product: String,
    message: String,
    value: String,
    stage: &'static str,
    stage_label: &'static str,
    temp: &'static str,
    temp_label: &'static str,
    kind: String,
    owner: String,
    /// Probability of conversion as a percentage, empty until scored.
    conversion: String,
    score_reasons: Vec<ReasonView>,
    score: Option<ScoreView>,
    route: String,
    refuse_reason: String,
    /// Farewell surveys sent on refusal, with their answers.
    surveys: Vec<SurveyView>,
    frozen_until: String,
    junk_reason: String,
    created: When,
    updated: When,
    first_response: Option<When>,
    touches: Vec<TouchView>,
    history: Vec<HistoryView>,
    notes: Vec<NoteView>,
    others: Vec<BriefView>,
    customer: Option<(Id, String)>,
    deals: Vec<DealView>,
    /// The team's tags on the lead, and the tags in use to pick from.
    tags: Vec<(String, String)>,
    tags_known: Vec<String>,
    // Actions.
    can_write: bool,
    can_assign: bool,
    next_stages: Vec<Choice>,
    can_refuse: bool,
    can_junk: bool,
    can_convert: bool,
    refusal_reasons: Vec<String>,
    temperatures: Vec<Choice>,
    sellers: Vec<Choice>,
    convert_amount: String,
    convert_currency: String,
    convert_title: String,
    /// The request form: the product, the value (empty when none) and its currency.
    request_product: String,
    request_value: String,
    request_currency: String,
    tomorrow: String,
    /// What was typed into a refused action's form.
    kept: Kept,
    /// The corrections of what the lead asks for.
    changes: Vec<super::people::ChangeView>,
    changes_heading: &'static str,
    restore_base: String,
}

/// A farewell survey on the card.
struct SurveyView {
    sent: When,
    /// The chosen answer's label; empty while unanswered.
    answer: String,
    comment: String,
    answered: String,
}

/// One intake reason on the card: its message, its code (and field), and the other lead it
/// names (a possible duplicate, the open lead a touch joined, a reopened lead), linked.
pub(crate) struct ReasonView {
    pub text: String,
    pub code: String,
    /// The field it concerns; empty when none.
    pub field: String,
    pub lead: Option<Id>,
}

/// Intake reasons are a JSON list of `{code, field?, args?, message}`; anything else is shown as is.
fn reason_lines(v: &serde_json::Value) -> Vec<ReasonView> {
    match Reason::list_from_json(v) {
        Some(list) => list
            .into_iter()
            .map(|r| ReasonView {
                lead: r.args.get("lead").and_then(|id| id.parse().ok()),
                code: r.code,
                field: r.field.unwrap_or_default(),
                text: r.message,
            })
            .collect(),
        None if v.is_null() => Vec::new(),
        None => vec![ReasonView {
            text: v.to_string(),
            code: String::new(),
            field: String::new(),
            lead: None,
        }],
    }
}

async fn card_page(state: &AppState, user: &WebUser, d: LeadDetail) -> Result<CardPage, WebError> {
    let now = now();
    let l = &d.lead;
    let role = user.user.role;
    let changes =
        super::people::ChangeView::list(state.app.changes_of(voronka_app::Seen::Lead(l)).await?);
    let merges = state
        .app
        .merges_for(&user.actor(), l.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|m| {
            let other = if m.survivor_lead_id == l.id {
                m.merged_lead_id
            } else {
                m.survivor_lead_id
            };
            let when = fmt::When::new(m.at, now);
            let text = match m.undone_at {
                Some(_) => t::fill3(t::MERGED_UNDONE_N, other, &when.exact, &m.actor),
                None => t::fill3(t::MERGED_N, other, &when.exact, &m.actor),
            };
            (
                m.id,
                other,
                text,
                m.undone_at.is_none() && role.assigns_leads(),
            )
        })
        .collect();
    let forms: HashMap<Id, String> = state
        .app
        .list_forms(&user.actor())
        .await
        .map(|fs| fs.into_iter().map(|f| (f.form.id, f.form.name)).collect())
        .unwrap_or_default();
    let next_stages = Stage::ALL
        .into_iter()
        .filter(|s| {
            !matches!(s, Stage::Refused | Stage::Junk | Stage::Converted)
                && l.stage.check_transition(*s).is_ok()
        })
        .map(|s| Choice::new(s.as_str(), t::stage_label(s), false))
        .collect();
    let can_write = role.writes_leads();
    let can_assign = role.assigns_leads() && can_write;
    let sellers = if can_assign {
        let mut v = vec![Choice::new("", t::LEAD_UNASSIGNED, l.owner_id.is_none())];
        v.extend(state.app.sellers().await?.into_iter().map(|u| {
            Choice::new(
                u.id.to_string(),
                super::user_label(&u),
                l.owner_id == Some(u.id),
            )
        }));
        v
    } else {
        Vec::new()
    };
    // The lead's own value's currency, else that of the contact's country (given, or their
    // phone's), else the business's.
    let currency = l
        .value
        .map(|m| m.currency)
        .or_else(|| {
            d.contact
                .home_country()
                .as_deref()
                .and_then(voronka_core::Currency::of_country)
        })
        .map(|c| c.as_str().to_string())
        .unwrap_or_else(|| state.app.settings().default_currency.clone());
    let amount = l
        .value
        .map(|m| format!("{}.{:02}", m.minor / 100, (m.minor % 100).abs()))
        .unwrap_or_default();
    Ok(CardPage {
        layout: Layout::new(
            user,
            "leads",
            format!("{} — lead #{}", d.contact.full_name, l.id),
        ),
        merges,
        id: l.id,
        contact: ContactView::new(&d.contact, d.account.as_ref()),
        product: l.product.clone().unwrap_or_default(),
        message: l.message.clone().unwrap_or_default(),
        value: l.value.map(|m| m.to_string()).unwrap_or_default(),
        stage: l.stage.as_str(),
        stage_label: t::stage_label(l.stage),
        temp: l.temperature.as_str(),
        temp_label: t::temperature_label(l.temperature),
        kind: l.kind.clone(),
        owner: d.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        conversion: t::conversion_percent(l.conversion_probability),
        score_reasons: reason_lines(&d.reasons),
        score: state
            .app
            .explain_score(&user.actor(), l.id)
            .await
            .ok()
            .map(score_view),
        route: d.route_explanation.clone().unwrap_or_default(),
        refuse_reason: l.refuse_reason.clone().unwrap_or_default(),
        surveys: state
            .app
            .lead_surveys(&user.actor(), l.id)
            .await?
            .iter()
            .map(|sv| SurveyView {
                sent: When::new(sv.created_at, now),
                answer: sv
                    .answer
                    .as_deref()
                    .map(t::survey_answer_label)
                    .unwrap_or_default()
                    .to_string(),
                comment: sv.comment.clone().unwrap_or_default(),
                answered: sv.answered_at.map(fmt::date).unwrap_or_default(),
            })
            .collect(),
        frozen_until: l.frozen_until.map(fmt::date).unwrap_or_default(),
        junk_reason: l.junk_reason.clone().unwrap_or_default(),
        created: When::new(l.created_at, now),
        updated: When::new(l.updated_at, now),
        first_response: l.first_response_at.map(|ms| When::new(ms, now)),
        touches: d
            .touches
            .iter()
            .map(|tc| touch_view(tc, &forms, now))
            .collect(),
        history: d.history.iter().map(|h| history_view(h, now)).collect(),
        notes: d
            .notes
            .iter()
            .map(|n| NoteView {
                author: n.author.clone(),
                body: n.body.clone(),
                when: When::new(n.created_at, now),
            })
            .collect(),
        others: d
            .other_leads
            .iter()
            .map(|b| BriefView::new(b, now))
            .collect(),
        customer: d.customer.as_ref().map(|c| (c.id, c.name.clone())),
        deals: d
            .deals
            .iter()
            .map(|x| DealView {
                id: x.id,
                title: x.title.clone(),
                amount: x.amount.to_string(),
                when: When::new(x.created_at, now),
            })
            .collect(),
        tags: d
            .tags
            .iter()
            .map(|tg| {
                let href = super::link("/leads", &[("tag".to_string(), tg.clone())]);
                (tg.clone(), href)
            })
            .collect(),
        tags_known: if can_write {
            state.app.tag_names(&user.actor()).await?
        } else {
            Vec::new()
        },
        can_write,
        can_assign,
        next_stages,
        can_refuse: can_write && l.stage.check_transition(Stage::Refused).is_ok(),
        can_junk: can_write && l.stage.check_transition(Stage::Junk).is_ok(),
        can_convert: can_write && l.stage.can_convert(),
        refusal_reasons: state.app.refusal_reasons().await?,
        temperatures: Temperature::ALL
            .iter()
            .map(|tp| Choice::new(tp.as_str(), t::temperature_label(*tp), *tp == l.temperature))
            .collect(),
        sellers,
        request_product: l.product.clone().unwrap_or_default(),
        request_value: amount.clone(),
        request_currency: currency.clone(),
        convert_amount: amount,
        convert_currency: currency,
        convert_title: l.product.clone().unwrap_or_default(),
        tomorrow: fmt::ymd(now + 86_400_000),
        kept: Kept::default(),
        changes,
        changes_heading: t::REQUEST_CHANGES,
        restore_base: super::people::restore_base(user, &format!("/leads/{}", l.id)),
    })
}

pub(crate) async fn card(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let d = state.app.lead_detail(&user.actor(), id).await?;
    // A lead merged into another is read as that one: its address moves there, saying so.
    if d.lead.id != id {
        return Ok(see_other(&format!("/leads/{}?done=merged_away", d.lead.id)));
    }
    let mut page = card_page(&state, &user, d).await?;
    let done = query_value(raw.as_deref(), "done");
    page.layout = page.layout.with_flash(done.as_deref());
    Ok(render(&page))
}

/// After an action: back to the card on success; on failure the card again at its own address,
/// with the message, the status of the error and what was typed into the refused form.
async fn after_action(
    state: &AppState,
    user: &WebUser,
    id: Id,
    done: &str,
    sent: Kept,
    result: Result<(), WebError>,
) -> PageResult {
    let (status, message) = match result {
        Ok(()) => return Ok(see_other(&format!("/leads/{id}?done={done}"))),
        Err(e) => super::refusal_on_page(e)?,
    };
    let d = state.app.lead_detail(&user.actor(), id).await?;
    let mut page = card_page(state, user, d).await?;
    page.layout = page
        .layout
        .with_error(Some(message))
        .at(format!("/leads/{id}"));
    if sent.is("request") {
        page.request_product = sent.v("request", "product").to_string();
        page.request_value = sent.v("request", "value").to_string();
        page.request_currency = sent.v("request", "currency").to_string();
    }
    if sent.is("convert") {
        page.convert_title = sent.v("convert", "title").to_string();
        page.convert_amount = sent.v("convert", "amount").to_string();
        page.convert_currency = sent.v("convert", "currency").to_string();
    }
    page.kept = sent;
    Ok(render_status(status, &page))
}

fn invalid(field: &str, m: Message) -> WebError {
    WebError::App(AppError::invalid(field, m))
}

pub(crate) async fn stage(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = async {
        let to = Stage::parse(&form.text("stage"))
            .map_err(|_| invalid("stage", Message::new("stage_choose")))?;
        state
            .app
            .change_stage(&user.actor(), id, to, form.opt("comment"))
            .await?;
        Ok(())
    }
    .await;
    after_action(&state, &user, id, "stage", form.kept("stage"), res).await
}

pub(crate) async fn refuse(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = async {
        let freeze_until = match form.opt("freeze_until") {
            Some(d) => Some(
                fmt::parse_ymd(&d)
                    .ok_or_else(|| invalid("freeze_until", Message::new("date_invalid")))?,
            ),
            None => None,
        };
        let input = RefuseInput {
            reason: form.text("reason"),
            comment: form.opt("comment"),
            freeze_until,
        };
        if form.get("farewell").is_some() {
            let (_, sent) = state
                .app
                .refuse_with_farewell(&user.actor(), id, input, Some(&state.config.public_url))
                .await?;
            return Ok(if sent {
                "refuse_farewell"
            } else {
                "refuse_no_farewell"
            });
        }
        state.app.refuse(&user.actor(), id, input).await?;
        Ok("refuse")
    }
    .await;
    match res {
        Ok(done) => after_action(&state, &user, id, done, Kept::default(), Ok(())).await,
        Err(e) => after_action(&state, &user, id, "refuse", form.kept("refuse"), Err(e)).await,
    }
}

pub(crate) async fn junk(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = async {
        state
            .app
            .mark_junk(&user.actor(), id, &form.text("reason"))
            .await?;
        Ok(())
    }
    .await;
    after_action(&state, &user, id, "junk", form.kept("junk"), res).await
}

/// Corrects what the lead asks for and may be worth.
pub(crate) async fn request(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let edit = voronka_app::RequestEdit {
        product: form.opt("product"),
        value: form.opt("value"),
        currency: form.opt("currency"),
    };
    let res = async {
        state.app.edit_request(&user.actor(), id, &edit).await?;
        Ok(())
    }
    .await;
    after_action(&state, &user, id, "request", form.kept("request"), res).await
}

pub(crate) async fn convert(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = async {
        let currency = Currency::parse(&form.text("currency"))
            .map_err(|_| invalid("currency", Message::new("currency_choose")))?;
        let amount = Money::parse_major(&form.text("amount"), currency)
            .map_err(|_| invalid("amount", Message::new("amount_invalid")))?;
        let input = ConvertInput {
            amount,
            title: form.opt("title"),
        };
        state.app.convert(&user.actor(), id, input).await?;
        Ok(())
    }
    .await;
    after_action(&state, &user, id, "convert", form.kept("convert"), res).await
}

pub(crate) async fn assign(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = async {
        let owner = match form.opt("owner") {
            None => None,
            Some(v) if v == "none" => None,
            Some(v) => Some(
                v.parse::<Id>()
                    .map_err(|_| invalid("owner", Message::new("owner_choose")))?,
            ),
        };
        state.app.assign(&user.actor(), id, owner).await?;
        Ok(())
    }
    .await;
    after_action(&state, &user, id, "assign", form.kept("assign"), res).await
}

pub(crate) async fn temperature(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = async {
        if form.text("temperature") == "auto" {
            state
                .app
                .clear_temperature_override(&user.actor(), id)
                .await?;
            return Ok(());
        }
        let tp = Temperature::parse(&form.text("temperature"))
            .ok_or_else(|| invalid("temperature", Message::new("temperature_choose")))?;
        state.app.set_temperature(&user.actor(), id, tp).await?;
        Ok(())
    }
    .await;
    after_action(
        &state,
        &user,
        id,
        "temperature",
        form.kept("temperature"),
        res,
    )
    .await
}

/// Tags the lead.
pub(crate) async fn tag(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = state
        .app
        .tag_lead(&user.actor(), id, &form.text("tag"))
        .await
        .map(|_| ())
        .map_err(WebError::from);
    after_action(&state, &user, id, "tag", form.kept("tag"), res).await
}

/// Removes a tag from the lead.
pub(crate) async fn untag(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = state
        .app
        .untag_lead(&user.actor(), id, &form.text("tag"))
        .await
        .map(|_| ());
    // Removed already (a second click, another tab): done all the same.
    let res = match res {
        Err(AppError::NotFound(m)) if m.code == "tag_not_on_lead" => Ok(()),
        other => other.map_err(WebError::from),
    };
    after_action(&state, &user, id, "untag", form.kept("untag"), res).await
}

pub(crate) async fn note(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = async {
        state
            .app
            .add_note(&user.actor(), id, &form.text("body"))
            .await?;
        Ok(())
    }
    .await;
    after_action(&state, &user, id, "note", form.kept("note"), res).await
}
