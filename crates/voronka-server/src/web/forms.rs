//! Web forms: the list with counts, creation, and the embed code of each.

use super::fmt::When;
use super::{
    now, query_value, render, render_status, see_other, t, Layout, PageResult, PostForm, WebError,
};
use crate::error::classify;
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use voronka_app::FormInput;
use voronka_core::{Form, Id};

pub(crate) struct FormView {
    pub id: Id,
    pub name: String,
    pub key: String,
    pub product: String,
    pub region: String,
    pub redirect: String,
    pub origins: String,
    pub active: bool,
    pub leads: i64,
    pub interests: i64,
    pub rejected: i64,
    pub junk: i64,
    /// Rejected and junk among all submissions, as a percentage with one decimal.
    pub scrub_rate: String,
    pub created: When,
    pub snippet: String,
    pub highlight: bool,
}

/// The code to paste into a site: the widget script with its no-JavaScript fallback form.
pub(crate) fn embed_snippet(public_url: &str, f: &Form) -> String {
    crate::widget::embed_code(public_url, f)
}

#[derive(Template)]
#[template(path = "forms.html")]
struct FormsPage {
    layout: Layout,
    forms: Vec<FormView>,
    can_create: bool,
    public_url: String,
    // The create form refilled after an error.
    name: String,
    redirect_url: String,
    origins: String,
    region: String,
    product: String,
}

async fn page(state: &AppState, user: &WebUser) -> Result<FormsPage, WebError> {
    let list = state.app.list_forms(&user.actor()).await?;
    let scrub: std::collections::HashMap<String, voronka_store::ScrubRow> = state
        .app
        .scrub_report(&user.actor(), voronka_store::ScrubBy::Form, 0)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| r.key.clone().map(|k| (k, r)))
        .collect();
    let now = now();
    Ok(FormsPage {
        layout: Layout::new(user, "forms", t::NAV_FORMS),
        forms: list
            .iter()
            .map(|s| FormView {
                id: s.form.id,
                name: s.form.name.clone(),
                key: s.form.public_key.clone(),
                product: s.form.product.clone().unwrap_or_default(),
                region: s.form.default_region.clone(),
                redirect: s.form.redirect_url.clone().unwrap_or_default(),
                origins: s.form.allowed_origins.join(", "),
                active: s.form.active,
                leads: s.leads,
                interests: s.interests,
                rejected: s.rejected,
                junk: scrub.get(&s.form.id.to_string()).map_or(0, |r| r.junk),
                scrub_rate: scrub
                    .get(&s.form.id.to_string())
                    .map_or_else(|| "—".into(), |r| format!("{:.1}%", r.scrub_rate * 100.0)),
                created: When::new(s.form.created_at, now),
                snippet: embed_snippet(&state.config.public_url, &s.form),
                highlight: false,
            })
            .collect(),
        can_create: user.user.role.manages_forms(),
        public_url: state.config.public_url.clone(),
        name: String::new(),
        redirect_url: String::new(),
        origins: String::new(),
        region: state.app.settings().default_region.clone(),
        product: String::new(),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let mut p = page(&state, &user).await?;
    let done = query_value(raw.as_deref(), "done");
    let new: Option<Id> = query_value(raw.as_deref(), "new").and_then(|v| v.parse().ok());
    for f in &mut p.forms {
        f.highlight = Some(f.id) == new;
    }
    p.layout = p.layout.with_flash(done.as_deref());
    Ok(render(&p))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let origins = super::origins_list(&form.text("allowed_origins"));
    let input = FormInput {
        name: form.text("name"),
        redirect_url: form.opt("redirect_url"),
        allowed_origins: origins,
        default_region: form.opt("default_region"),
        product: form.opt("product"),
        min_fill_ms: None,
    };
    match state.app.create_form(&user.actor(), input).await {
        Ok(f) => Ok(see_other(&format!(
            "/forms?done=form&new={}#form-{}",
            f.id, f.id
        ))),
        Err(e) => {
            let (status, _) = classify(&e);
            if status.is_server_error() {
                return Err(e.into());
            }
            let mut p = page(&state, &user).await?;
            p.layout = p.layout.with_error(Some(e.to_string()));
            p.name = form.text("name");
            p.redirect_url = form.text("redirect_url");
            p.origins = form.text("allowed_origins");
            p.region = form.text("default_region");
            p.product = form.text("product");
            Ok(render_status(status, &p))
        }
    }
}
