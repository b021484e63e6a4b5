//! Duplicate review: the open pairs, one pair side by side with a choice per field, and undo.

use super::fmt::When;
use super::{now, query_value, render, see_other, t, IdPath, Layout, PageResult, PostForm};
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use voronka_app::{AppError, Message};
use voronka_core::Id;
use voronka_store::{LeadDetail, MERGE_FIELDS};

pub(crate) struct PairLine {
    pub id: Id,
    pub lead_id: Id,
    pub other_lead_id: Id,
    pub name: String,
    pub other_name: String,
    pub why: String,
    pub when: When,
}

#[derive(Template)]
#[template(path = "duplicates.html")]
struct ListPage {
    layout: Layout,
    status: String,
    pairs: Vec<PairLine>,
}

/// The matcher's explanation in a line: each field's level and weight in bits, strongest first.
/// Pairs recorded before the matcher explained itself carry a `reason` text instead.
fn why(explanation: &serde_json::Value) -> String {
    if let Some(reason) = explanation["reason"].as_str() {
        return reason.to_string();
    }
    let mut parts: Vec<(f64, String)> = explanation["explanation"]
        .as_array()
        .map(|fields| {
            fields
                .iter()
                .filter(|f| f["level"] != "null")
                .map(|f| {
                    let w = f["weight"].as_f64().unwrap_or(0.0);
                    let field = f["field"].as_str().unwrap_or("");
                    let level = f["level"].as_str().unwrap_or("");
                    (w, format!("{field} {level} ({w:+.1})"))
                })
                .collect()
        })
        .unwrap_or_default();
    parts.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
    parts
        .into_iter()
        .map(|(_, p)| p)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let status = query_value(raw.as_deref(), "status").unwrap_or_else(|| "open".into());
    let done = query_value(raw.as_deref(), "done");
    let actor = user.actor();
    let pairs = state.app.duplicate_pairs(&actor, &status).await?;
    let now = now();
    let mut lines = Vec::with_capacity(pairs.len());
    for p in pairs {
        // Leads the reviewer may not see are left out rather than failing the page.
        let (Ok(a), Ok(b)) = (
            state.app.lead_detail(&actor, p.lead_id).await,
            state.app.lead_detail(&actor, p.other_lead_id).await,
        ) else {
            continue;
        };
        lines.push(PairLine {
            id: p.id,
            lead_id: p.lead_id,
            other_lead_id: p.other_lead_id,
            name: a.contact.full_name,
            other_name: b.contact.full_name,
            why: why(&p.explanation),
            when: When::new(p.created_at, now),
        });
    }
    Ok(render(&ListPage {
        layout: Layout::new(&user, "duplicates", t::DUP_TITLE).with_flash(done.as_deref()),
        status,
        pairs: lines,
    }))
}

/// One row of the side-by-side table: the field, both values, and which one is kept.
pub(crate) struct FieldRow {
    pub field: &'static str,
    pub label: &'static str,
    pub left: String,
    pub right: String,
    pub differ: bool,
}

#[derive(Template)]
#[template(path = "duplicate.html")]
struct ReviewPage {
    layout: Layout,
    pair_id: Id,
    status: String,
    probability: String,
    why: String,
    left: Side,
    right: Side,
    rows: Vec<FieldRow>,
}

pub(crate) struct Side {
    pub lead_id: Id,
    pub phones: String,
    pub emails: String,
    pub touches: i64,
    pub stage: &'static str,
    pub created: When,
}

fn field_value(d: &LeadDetail, field: &str) -> String {
    let c = &d.contact;
    let l = &d.lead;
    match field {
        "name" => c.full_name.clone(),
        "position" => c.position.clone().unwrap_or_default(),
        "country" => c
            .country
            .as_deref()
            .map(t::country_name)
            .unwrap_or_default(),
        "language" => c
            .language
            .as_deref()
            .map(t::language_name)
            .unwrap_or_default(),
        "account" => d
            .account
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_default(),
        "product" => l.product.clone().unwrap_or_default(),
        "message" => l.message.clone().unwrap_or_default(),
        "value" => l.value.map(|m| m.to_string()).unwrap_or_default(),
        "temperature" => t::temperature_label(l.temperature).to_string(),
        "owner" => d.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        _ => String::new(),
    }
}

fn label(field: &str) -> &'static str {
    match field {
        "name" => t::NAME,
        "position" => t::POSITION,
        "country" => t::COUNTRY,
        "language" => t::LANGUAGE,
        "account" => t::COMPANY,
        "product" => t::PRODUCT,
        "message" => t::MESSAGE,
        "value" => t::VALUE,
        "temperature" => t::TEMPERATURE,
        "owner" => t::OWNER,
        _ => "",
    }
}

fn side(d: &LeadDetail, now: voronka_core::Millis) -> Side {
    Side {
        lead_id: d.lead.id,
        phones: d
            .contact
            .phones
            .iter()
            .map(|p| p.e164.clone().unwrap_or_else(|| p.raw.clone()))
            .collect::<Vec<_>>()
            .join(", "),
        emails: d
            .contact
            .emails
            .iter()
            .map(|e| e.normalized.clone())
            .collect::<Vec<_>>()
            .join(", "),
        touches: d.lead.touches,
        stage: t::stage_label(d.lead.stage),
        created: When::new(d.lead.created_at, now),
    }
}

pub(crate) async fn review(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
) -> PageResult {
    let r = state.app.duplicate_pair(&user.actor(), id).await?;
    let now = now();
    let rows = MERGE_FIELDS
        .iter()
        .map(|f| {
            let left = field_value(&r.lead, f);
            let right = field_value(&r.other, f);
            FieldRow {
                field: f,
                label: label(f),
                differ: left != right,
                left,
                right,
            }
        })
        .collect();
    Ok(render(&ReviewPage {
        layout: Layout::new(&user, "duplicates", t::DUP_TITLE),
        pair_id: r.pair.id,
        status: t::pair_status_label(&r.pair.status),
        probability: format!("{:.0}%", r.pair.probability * 100.0),
        why: why(&r.pair.explanation),
        left: side(&r.lead, now),
        right: side(&r.other, now),
        rows,
    }))
}

/// The survivor is the lead chosen in `keep`; each field's radio says which side's value stays.
pub(crate) async fn merge(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let actor = user.actor();
    let r = state.app.duplicate_pair(&actor, id).await?;
    let (a, b) = (r.pair.lead_id, r.pair.other_lead_id);
    let keep: Id = form
        .text("keep")
        .parse()
        .ok()
        .filter(|k| *k == a || *k == b)
        .ok_or_else(|| AppError::invalid("keep", Message::new("merge_keep_required")))?;
    let merged = if keep == a { b } else { a };
    let take: Vec<String> = MERGE_FIELDS
        .iter()
        .filter(|f| form.get(&format!("f_{f}")) == Some(&merged.to_string()))
        .map(|f| f.to_string())
        .collect();
    state.app.merge_leads(&actor, keep, merged, &take).await?;
    Ok(see_other(&format!("/leads/{keep}?done=merged")))
}

pub(crate) async fn not_duplicate(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    state.app.not_duplicate(&user.actor(), id).await?;
    Ok(see_other("/duplicates?done=not_duplicate"))
}

pub(crate) async fn undo(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    state.app.undo_merge(&user.actor(), id).await?;
    let back = form
        .text("lead")
        .parse::<Id>()
        .map(|l| format!("/leads/{l}?done=unmerged"))
        .unwrap_or_else(|_| "/duplicates?done=unmerged".into());
    Ok(see_other(&back))
}
