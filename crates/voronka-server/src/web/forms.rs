//! Web forms: the list with counts, creation, and the embed code of each.

use super::fmt::When;
use super::{
    now, query_pairs, render, render_status, see_other, t, Layout, PageResult, PostForm, WebError,
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

/// A plain HTML form that posts to the public capture endpoint; the honeypot field is hidden
/// with CSS so that people never fill it and naive bots do.
pub(crate) fn embed_snippet(public_url: &str, f: &Form) -> String {
    let base = public_url.trim_end_matches('/');
    let hp = if f.honeypot_field.is_empty() {
        "website"
    } else {
        f.honeypot_field.as_str()
    };
    format!(
        r#"<form method="post" action="{base}/f/{key}" accept-charset="utf-8">
  <p><label>Name <input name="name" autocomplete="name" required></label></p>
  <p><label>Phone <input name="phone" type="tel" autocomplete="tel"></label></p>
  <p><label>Email <input name="email" type="email" autocomplete="email"></label></p>
  <p><label>Message <textarea name="message" rows="3"></textarea></label></p>
  <div style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden" aria-hidden="true">
    <label>Leave this empty <input name="{hp}" tabindex="-1" autocomplete="off"></label>
  </div>
  <p><button type="submit">Send</button></p>
</form>"#,
        key = f.public_key,
    )
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
    let pairs = query_pairs(raw.as_deref());
    let done = pairs
        .iter()
        .find(|(k, _)| k == "done")
        .map(|(_, v)| v.as_str());
    let new: Option<Id> = pairs
        .iter()
        .find(|(k, _)| k == "new")
        .and_then(|(_, v)| v.parse().ok());
    for f in &mut p.forms {
        f.highlight = Some(f.id) == new;
    }
    p.layout = p.layout.with_flash(done);
    Ok(render(&p))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let origins: Vec<String> = form
        .text("allowed_origins")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
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
