//! Contacts, accounts, customers and deals.

use super::fmt::When;
use super::leads::{
    history_view, touch_view, BriefView, ContactView, DealView, HistoryView, TouchView,
};
use super::{
    link, now, query_value, render, render_status, see_other, t, IdPath, Layout, PageResult,
    PostForm, WebError,
};
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use std::collections::HashMap;
use voronka_app::{AppError, Message};
use voronka_core::Id;
use voronka_store::SimpleQuery;

/// Undoes a customer merge, then shows the customer it brought back.
pub(crate) async fn undo_customer_merge(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    let merge = state.app.undo_customer_merge(&user.actor(), id).await?;
    Ok(see_other(&format!(
        "/customers/{}?done=customer_unmerged",
        merge.from_id
    )))
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    layout: Layout,
    contact: ContactView,
    created: When,
    leads: Vec<BriefView>,
    customer: Option<(Id, String)>,
    /// When the person's data was erased.
    erased: Option<When>,
    /// Whether this person may erase it (administrators).
    erases: bool,
    /// Whether this person may correct it (those who work leads; not once erased).
    edits: bool,
    /// The correction form as typed (the contact as it is, or what was refused), and whether
    /// it opens at once (after a refusal).
    typed: voronka_app::ContactEdit,
    edit_open: bool,
    /// The phones and emails the form offers to remove.
    removable: Vec<Removable>,
    changes: Vec<ChangeView>,
    changes_heading: &'static str,
    /// Where a change's restore is posted (`…/changes`); empty for those who may not.
    restore_base: String,
}

/// One entry of a record's changes, as its page lists them.
pub(crate) struct ChangeView {
    pub(crate) id: Id,
    /// A correction the page may undo.
    pub(crate) restorable: bool,
    pub(crate) when: When,
    pub(crate) who: String,
    pub(crate) action: String,
    pub(crate) erased: bool,
    /// Each field: its name in words, what it said, what it says (— for nothing).
    pub(crate) fields: Vec<(String, String, String)>,
}

impl ChangeView {
    pub(crate) fn list(changes: Vec<voronka_app::Change>) -> Vec<ChangeView> {
        let now = now();
        changes
            .into_iter()
            .map(|c| ChangeView {
                id: c.id,
                restorable: !c.erased && voronka_app::RESTORABLE.contains(&c.action.as_str()),
                when: When::new(c.at, now),
                who: t::system_actor(&c.actor)
                    .map(str::to_string)
                    .unwrap_or(c.actor),
                action: t::audit_action_label(&c.action),
                erased: c.erased,
                fields: c
                    .fields
                    .into_iter()
                    .map(|f| {
                        let dash = || "—".to_string();
                        (
                            t::change_field_label(&f.field),
                            f.from.unwrap_or_else(dash),
                            f.to.unwrap_or_else(dash),
                        )
                    })
                    .collect(),
            })
            .collect()
    }
}

/// A phone or an email the correction form offers to remove.
struct Removable {
    /// The form's field: `remove_phone` or `remove_email`.
    field: &'static str,
    value: String,
    /// Ticked in the form that was refused.
    checked: bool,
}

pub(crate) async fn contact(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let page = contact_page(&state, &user, id, None).await?;
    Ok(render(&ContactPage {
        layout: page
            .layout
            .with_flash(query_value(raw.as_deref(), "done").as_deref()),
        ..page
    }))
}

/// The contact's page; with `typed`, the correction form holds it (refused) and opens.
async fn contact_page(
    state: &AppState,
    user: &WebUser,
    id: Id,
    typed: Option<voronka_app::ContactEdit>,
) -> Result<ContactPage, AppError> {
    let d = state.app.contact_detail(&user.actor(), id).await?;
    let changes = ChangeView::list(state.app.changes_of(voronka_app::Seen::Contact(&d)).await?);
    let now = now();
    let c = &d.contact;
    let edit_open = typed.is_some();
    let typed = typed.unwrap_or_else(|| voronka_app::ContactEdit {
        name: c.full_name.clone(),
        position: c.position.clone(),
        company: d.account.as_ref().map(|a| a.name.clone()),
        country: c.country.clone(),
        language: c.language.clone(),
        ..Default::default()
    });
    let phones = c.phones.iter().map(|p| {
        (
            "remove_phone",
            p.e164.clone().unwrap_or_else(|| p.raw.clone()),
        )
    });
    let emails = c
        .emails
        .iter()
        .map(|e| ("remove_email", e.normalized.clone()));
    let removable = phones
        .chain(emails)
        .map(|(field, value)| Removable {
            checked: typed.remove_phones.contains(&value) || typed.remove_emails.contains(&value),
            field,
            value,
        })
        .collect();
    Ok(ContactPage {
        removable,
        layout: Layout::new(user, "leads", c.full_name.clone()),
        contact: ContactView::new(c, d.account.as_ref()),
        created: When::new(c.created_at, now),
        leads: d.leads.iter().map(|b| BriefView::new(b, now)).collect(),
        customer: d.customer.as_ref().map(|c| (c.id, c.name.clone())),
        erased: c.erased_at.map(|at| When::new(at, now)),
        erases: user.user.role.is_admin(),
        edits: user.user.role.writes_leads() && c.erased_at.is_none(),
        typed,
        edit_open,
        changes,
        changes_heading: t::CHANGES,
        restore_base: restore_base(user, &format!("/contacts/{id}")),
    })
}

/// Where the restores of a record's changes are posted, for those who correct records.
pub(crate) fn restore_base(user: &WebUser, record: &str) -> String {
    if user.user.role.writes_leads() {
        format!("{record}/changes")
    } else {
        String::new()
    }
}

/// Undoes one correction of a company, a contact, a deal or a lead's request (by the path it is
/// posted to),
/// then shows the record.
pub(crate) async fn restore_change(
    State(state): State<AppState>,
    user: WebUser,
    uri: axum::http::Uri,
    super::ChangePath { id, change }: super::ChangePath,
    body: Bytes,
) -> PageResult {
    PostForm::checked(&body, &user)?;
    let actor = user.actor();
    let back = if uri.path().starts_with("/accounts/") {
        state.app.restore_account_change(&actor, id, change).await?;
        format!("/accounts/{id}")
    } else if uri.path().starts_with("/contacts/") {
        state.app.restore_contact_change(&actor, id, change).await?;
        format!("/contacts/{id}")
    } else if uri.path().starts_with("/deals/") {
        state.app.restore_deal_change(&actor, id, change).await?;
        format!("/deals/{id}")
    } else {
        state.app.restore_request_change(&actor, id, change).await?;
        format!("/leads/{id}")
    };
    Ok(see_other(&format!("{back}?done=change_restored#changes")))
}

/// Corrects the contact as the form says, then shows it; a refusal shows the form again with
/// what was typed and why.
pub(crate) async fn edit_contact(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let opt = |k: &str| form.opt(k).filter(|v| !v.trim().is_empty());
    let edit = voronka_app::ContactEdit {
        name: form.text("name"),
        position: opt("position"),
        company: opt("company"),
        country: opt("country"),
        language: opt("language"),
        add_phone: opt("add_phone"),
        add_email: opt("add_email"),
        remove_phones: form
            .all("remove_phone")
            .into_iter()
            .map(str::to_string)
            .collect(),
        remove_emails: form
            .all("remove_email")
            .into_iter()
            .map(str::to_string)
            .collect(),
    };
    let (status, message) = match state.app.edit_contact(&user.actor(), id, &edit).await {
        Ok(_) => return Ok(see_other(&format!("/contacts/{id}?done=contact_updated"))),
        Err(e) => super::refusal_on_page(e.into())?,
    };
    let page = contact_page(&state, &user, id, Some(edit)).await?;
    let layout = page.layout.with_error(Some(message));
    Ok(render_status(status, &ContactPage { layout, ..page }))
}

/// Erases the person's personal data (the form says why), then shows what is left of them.
pub(crate) async fn erase_contact(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    if form.get("confirm").is_none() {
        return Err(AppError::invalid("confirm", Message::new("erase_not_confirmed")).into());
    }
    let erased = state
        .app
        .erase_contact(&user.actor(), id, &form.text("reason"))
        .await?;
    Ok(see_other(&format!(
        "/contacts/{}?done=erased",
        erased.contact_id
    )))
}

pub(crate) struct ContactLine {
    pub id: Id,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub when: When,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    id: Id,
    name: String,
    domain: String,
    created: When,
    contacts: Vec<ContactLine>,
    /// What the company became, with its deals.
    customers: Vec<CustomerLine>,
    /// Whether this person may correct it, the form as typed, and whether it opens at once.
    edits: bool,
    typed: voronka_app::AccountEdit,
    edit_open: bool,
    changes: Vec<ChangeView>,
    changes_heading: &'static str,
    restore_base: String,
}

pub(crate) async fn account(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let page = account_page(&state, &user, id, None).await?;
    Ok(render(&AccountPage {
        layout: page
            .layout
            .with_flash(query_value(raw.as_deref(), "done").as_deref()),
        ..page
    }))
}

/// The company's page; with `typed`, the correction form holds it (refused) and opens.
async fn account_page(
    state: &AppState,
    user: &WebUser,
    id: Id,
    typed: Option<voronka_app::AccountEdit>,
) -> Result<AccountPage, AppError> {
    let (a, contacts, customers) = state.app.account_page(&user.actor(), id).await?;
    let changes = ChangeView::list(state.app.changes_of(voronka_app::Seen::Account(&a)).await?);
    let now = now();
    let customers = customers
        .iter()
        .map(|(c, sum)| customer_line(c, sum.as_ref(), now))
        .collect();
    let edit_open = typed.is_some();
    Ok(AccountPage {
        customers,
        layout: Layout::new(user, "accounts", a.name.clone()),
        id,
        name: a.name.clone(),
        domain: a.domain.clone().unwrap_or_default(),
        created: When::new(a.created_at, now),
        contacts: contacts
            .iter()
            .map(|c| ContactLine {
                id: c.id,
                name: c.full_name.clone(),
                email: c.email.clone().unwrap_or_default(),
                phone: c.phone.clone().unwrap_or_default(),
                when: When::new(c.created_at, now),
            })
            .collect(),
        edits: user.user.role.writes_leads(),
        typed: typed.unwrap_or_else(|| voronka_app::AccountEdit {
            name: a.name.clone(),
            domain: a.domain.clone(),
        }),
        edit_open,
        changes,
        changes_heading: t::CHANGES,
        restore_base: restore_base(user, &format!("/accounts/{id}")),
    })
}

/// Corrects the company as the form says, then shows it; a refusal shows the form again.
pub(crate) async fn edit_account(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let edit = voronka_app::AccountEdit {
        name: form.text("name"),
        domain: form.opt("domain"),
    };
    let (status, message) = match state.app.edit_account(&user.actor(), id, &edit).await {
        Ok(_) => return Ok(see_other(&format!("/accounts/{id}?done=account_updated"))),
        Err(e) => super::refusal_on_page(e.into())?,
    };
    let page = account_page(&state, &user, id, Some(edit)).await?;
    let layout = page.layout.with_error(Some(message));
    Ok(render_status(status, &AccountPage { layout, ..page }))
}

pub(crate) struct CustomerLine {
    pub id: Id,
    pub name: String,
    /// The customer's person, when the customer bears another name (a company's).
    pub person: Option<String>,
    pub deals: i64,
    /// The sums of the deals, one per currency.
    pub revenue: Vec<String>,
    pub last_deal: Option<When>,
    pub when: When,
}

/// A customer as the lists show it: its name, person, deals and their sums.
fn customer_line(
    c: &voronka_core::Customer,
    sum: Option<&voronka_store::CustomerSummary>,
    now: voronka_core::Millis,
) -> CustomerLine {
    CustomerLine {
        id: c.id,
        name: c.name.clone(),
        person: sum.map(|s| s.contact_name.clone()).filter(|p| *p != c.name),
        deals: sum.map_or(0, |s| s.deals),
        revenue: sum
            .map(|s| s.revenue.iter().map(|m| m.to_string()).collect())
            .unwrap_or_default(),
        last_deal: sum
            .and_then(|s| s.last_deal_at)
            .map(|at| When::new(at, now)),
        when: When::new(c.created_at, now),
    }
}

#[derive(Template)]
#[template(path = "customers.html")]
struct CustomersPage {
    layout: Layout,
    customers: Vec<CustomerLine>,
    q: String,
    prev: Option<String>,
    next: Option<String>,
}

const CUSTOMERS_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "accounts.html")]
struct AccountsPage {
    layout: Layout,
    /// (id, name, domain, known since).
    accounts: Vec<(Id, String, String, When)>,
    q: String,
    prev: Option<String>,
    next: Option<String>,
}

/// A searched list's page as the address asks for it: the search text, and the query for one
/// page of `CUSTOMERS_PAGE` (one more, to learn whether another page follows).
fn searched_page(raw: Option<&str>) -> (String, SimpleQuery) {
    let q = query_value(raw, "q")
        .map(|v| v.trim().to_string())
        .unwrap_or_default();
    let query = SimpleQuery {
        text: Some(q.clone()).filter(|s| !s.is_empty()),
        offset: super::offset_of(query_value(raw, "offset")),
        limit: CUSTOMERS_PAGE + 1,
        ..Default::default()
    };
    (q, query)
}

/// The links to the page before and after this one of a searched list at `path`.
fn searched_pager(
    path: &str,
    q: &str,
    offset: i64,
    found: usize,
) -> (Option<String>, Option<String>) {
    let page_link = |off: i64| {
        let off = if off > 0 {
            off.to_string()
        } else {
            String::new()
        };
        link(path, &[("q".into(), q.to_string()), ("offset".into(), off)])
    };
    super::pager(
        offset,
        CUSTOMERS_PAGE,
        found as i64 > CUSTOMERS_PAGE,
        page_link,
    )
}

/// The companies the reader sees, by name, a page at a time, searched by name.
pub(crate) async fn accounts(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (q, query) = searched_page(raw.as_deref());
    let offset = query.offset;
    let list = state.app.list_accounts(&user.actor(), query).await?;
    let now = now();
    let (prev, next) = searched_pager("/accounts", &q, offset, list.len());
    Ok(render(&AccountsPage {
        layout: Layout::new(&user, "accounts", t::NAV_COMPANIES),
        accounts: list
            .into_iter()
            .take(CUSTOMERS_PAGE as usize)
            .map(|a| {
                let when = When::new(a.created_at, now);
                (a.id, a.name, a.domain.unwrap_or_default(), when)
            })
            .collect(),
        prev,
        next,
        q,
    }))
}

pub(crate) async fn customers(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let (q, query) = searched_page(raw.as_deref());
    let offset = query.offset;
    let list = state
        .app
        .list_customers_summed(&user.actor(), query)
        .await?;
    let now = now();
    let (prev, next) = searched_pager("/customers", &q, offset, list.len());
    Ok(render(&CustomersPage {
        layout: Layout::new(&user, "customers", t::NAV_CUSTOMERS),
        customers: list
            .iter()
            .take(CUSTOMERS_PAGE as usize)
            .map(|(c, sum)| customer_line(c, sum.as_ref(), now))
            .collect(),
        prev,
        next,
        q,
    }))
}

/// One entry of a customer's timeline: a touch or a stage change of one of the leads.
pub(crate) struct TimelineItem {
    pub at: i64,
    pub lead_id: Id,
    pub touch: Option<TouchView>,
    pub change: Option<HistoryView>,
}

#[derive(Template)]
#[template(path = "customer.html")]
struct CustomerPage {
    layout: Layout,
    id: Id,
    name: String,
    created: When,
    contact: ContactView,
    deals: Vec<DealView>,
    total: String,
    leads: Vec<BriefView>,
    timeline: Vec<TimelineItem>,
    /// The other people of a company customer, with their contact pages.
    people: Vec<(Id, String)>,
    /// Customers that may be the same buyer, for people who merge customers.
    look_alikes: Vec<LookAlike>,
    /// The customers merged into this one.
    merged_from: Vec<MergedView>,
    /// Whether this person merges customers (and so gets the merge form).
    merges: bool,
}

/// A customer that may be the same buyer as the one shown.
struct LookAlike {
    id: Id,
    name: String,
    person: String,
    /// "3 deals", and their sums.
    deals: String,
    revenue: String,
}

/// A customer merged into the one shown.
struct MergedView {
    /// The merge, when it can be undone.
    undo: Option<Id>,
    from_id: Id,
    from_name: String,
    /// What moved: "2 deals and 3 leads moved".
    moved: String,
    who: String,
    when: When,
}

pub(crate) async fn customer(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let actor = user.actor();
    let d = match state.app.customer_detail(&actor, id).await {
        Ok(d) => d,
        Err(e @ AppError::NotFound(_)) => {
            // A customer merged into another: its old address leads to where it went, for
            // whoever may see that one.
            return match state.app.customer_merged_into(&actor, id).await? {
                Some(into) if state.app.customer_detail(&actor, into).await.is_ok() => {
                    Ok(see_other(&format!("/customers/{into}")))
                }
                _ => Err(e.into()),
            };
        }
        Err(e) => return Err(e.into()),
    };
    let look_alikes = state
        .app
        .customer_look_alikes(&actor, id)
        .await?
        .into_iter()
        .map(|(c, sum)| LookAlike {
            id: c.id,
            person: sum
                .as_ref()
                .map(|s| s.contact_name.clone())
                .filter(|p| *p != c.name)
                .unwrap_or_default(),
            deals: t::count(sum.as_ref().map(|s| s.deals).unwrap_or(0), t::N_DEALS),
            revenue: sum
                .map(|s| {
                    s.revenue
                        .iter()
                        .map(|m| m.to_string())
                        .collect::<Vec<_>>()
                        .join(" + ")
                })
                .unwrap_or_default(),
            name: c.name,
        })
        .collect();
    let now = now();
    let forms: HashMap<Id, String> = state
        .app
        .list_forms(&user.actor())
        .await
        .map(|fs| fs.into_iter().map(|f| (f.form.id, f.form.name)).collect())
        .unwrap_or_default();
    let mut timeline: Vec<TimelineItem> = d
        .timeline
        .iter()
        .map(|tc| TimelineItem {
            at: tc.created_at,
            lead_id: tc.lead_id,
            touch: Some(touch_view(tc, &forms, now)),
            change: None,
        })
        .chain(d.history.iter().map(|h| TimelineItem {
            at: h.at,
            lead_id: h.lead_id,
            touch: None,
            change: Some(history_view(h, now)),
        }))
        .collect();
    timeline.sort_by_key(|item| std::cmp::Reverse(item.at));
    // Totals per currency: deals in different currencies are never added together.
    let mut totals: Vec<(voronka_core::Currency, i64)> = Vec::new();
    for deal in &d.deals {
        match totals.iter_mut().find(|(c, _)| *c == deal.amount.currency) {
            Some((_, sum)) => *sum += deal.amount.minor,
            None => totals.push((deal.amount.currency, deal.amount.minor)),
        }
    }
    let total = totals
        .into_iter()
        .map(|(c, m)| voronka_core::Money::new(m, c).to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    Ok(render(&CustomerPage {
        layout: Layout::new(&user, "customers", d.customer.name.clone())
            .with_flash(query_value(raw.as_deref(), "done").as_deref()),
        id: d.customer.id,
        name: d.customer.name.clone(),
        created: When::new(d.customer.created_at, now),
        contact: ContactView::new(&d.contact, d.account.as_ref()),
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
        total,
        leads: d.leads.iter().map(|b| BriefView::new(b, now)).collect(),
        timeline,
        people: d.people.clone(),
        look_alikes,
        merged_from: d
            .merged_from
            .iter()
            .map(|m| MergedView {
                undo: m.undoable.then_some(m.id),
                from_id: m.from_id,
                from_name: m.from_name.clone(),
                moved: t::fill2(
                    t::MERGED_MOVED_N_N,
                    t::count(m.deals, t::N_DEALS),
                    t::count(m.leads, t::N_LEADS),
                ),
                who: m.actor.clone(),
                when: When::new(m.at, now),
            })
            .collect(),
        merges: user.user.role.assigns_leads() && user.user.role.writes_leads(),
    }))
}

/// Merges the customer of the address into the one the form names (`into`), then shows that one.
pub(crate) async fn merge_customer(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let into: Id = form
        .opt("into")
        .map(|v| v.trim_start_matches('#').trim().to_string())
        .and_then(|v| v.parse().ok())
        .filter(|v| *v > 0)
        .ok_or_else(|| {
            WebError::from(AppError::invalid(
                "into",
                Message::new("customer_id_invalid").with("given", form.text("into")),
            ))
        })?;
    state.app.merge_customers(&user.actor(), id, into).await?;
    Ok(see_other(&format!(
        "/customers/{into}?done=customer_merged"
    )))
}

#[derive(Template)]
#[template(path = "deal.html")]
struct DealPage {
    layout: Layout,
    id: Id,
    title: String,
    amount: String,
    created: When,
    customer_id: Id,
    lead_id: Id,
    /// Whether this person may correct it, the correction form as typed, and whether it opens
    /// at once (after a refusal).
    edits: bool,
    typed: voronka_app::DealEdit,
    edit_open: bool,
    changes: Vec<ChangeView>,
    changes_heading: &'static str,
    /// Where a change's restore is posted (`…/changes`); empty for those who may not.
    restore_base: String,
}

pub(crate) async fn deal(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let page = deal_page(&state, &user, id, None).await?;
    Ok(render(&DealPage {
        layout: page
            .layout
            .with_flash(query_value(raw.as_deref(), "done").as_deref()),
        ..page
    }))
}

/// The deal's page; with `typed`, the correction form holds it (refused) and opens.
async fn deal_page(
    state: &AppState,
    user: &WebUser,
    id: Id,
    typed: Option<voronka_app::DealEdit>,
) -> Result<DealPage, AppError> {
    let d = state.app.deal(&user.actor(), id).await?;
    let changes = ChangeView::list(state.app.changes_of(voronka_app::Seen::Deal(&d)).await?);
    let edit_open = typed.is_some();
    Ok(DealPage {
        layout: Layout::new(user, "customers", d.title.clone()),
        id: d.id,
        title: d.title.clone(),
        amount: d.amount.to_string(),
        created: When::new(d.created_at, now()),
        customer_id: d.customer_id,
        lead_id: d.lead_id,
        edits: user.user.role.writes_leads(),
        typed: typed.unwrap_or_else(|| voronka_app::DealEdit {
            title: d.title.clone(),
            amount: d.amount.amount_text(),
            currency: Some(d.amount.currency.as_str().to_string()),
        }),
        edit_open,
        changes,
        changes_heading: t::CHANGES,
        restore_base: restore_base(user, &format!("/deals/{id}")),
    })
}

/// Corrects the deal as the form says, then shows it; a refusal shows the form again.
pub(crate) async fn edit_deal(
    State(state): State<AppState>,
    user: WebUser,
    IdPath(id): IdPath,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let edit = voronka_app::DealEdit {
        title: form.text("title"),
        amount: form.text("amount"),
        currency: form.opt("currency"),
    };
    let (status, message) = match state.app.edit_deal(&user.actor(), id, &edit).await {
        Ok(_) => return Ok(see_other(&format!("/deals/{id}?done=deal_updated"))),
        Err(e) => super::refusal_on_page(e.into())?,
    };
    let page = deal_page(&state, &user, id, Some(edit)).await?;
    let layout = page.layout.with_error(Some(message));
    Ok(render_status(status, &DealPage { layout, ..page }))
}
