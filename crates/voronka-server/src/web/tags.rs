//! The tags page: every tag on the leads the reader sees with its count, each a link to its
//! leads; administrators and sales managers rename a tag (into another one to join the two) or
//! remove it from every lead.

use super::{
    link, query_value, refusal_on_page, render, render_status, see_other, t, Layout, PageResult,
    PostForm, WebError,
};
use crate::extract::WebUser;
use crate::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use voronka_app::AppError;

/// One tag on the page.
pub(crate) struct TagRow {
    pub tag: String,
    pub leads: i64,
    /// The inbox filtered by it.
    pub href: String,
}

#[derive(Template)]
#[template(path = "tags.html")]
struct TagsPage {
    layout: Layout,
    tags: Vec<TagRow>,
    /// May rename and remove tags.
    manages: bool,
    /// The most tags listed.
    max: usize,
}

async fn tags_page(state: &AppState, user: &WebUser) -> Result<TagsPage, WebError> {
    let tags = state
        .app
        .tags_in_use(&user.actor())
        .await?
        .into_iter()
        .map(|u| TagRow {
            href: link("/leads", &[("tag".to_string(), u.tag.clone())]),
            tag: u.tag,
            leads: u.leads,
        })
        .collect();
    Ok(TagsPage {
        layout: Layout::new(user, "leads", t::TAGS),
        tags,
        manages: user.user.role.assigns_leads(),
        max: voronka_app::MAX_TAGS_LISTED as usize,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: WebUser,
    RawQuery(raw): RawQuery,
) -> PageResult {
    let mut p = tags_page(&state, &user).await?;
    p.layout = p
        .layout
        .with_flash(query_value(raw.as_deref(), "done").as_deref());
    Ok(render(&p))
}

/// Back to the page with what was done, or the page again with why not.
async fn answered(
    state: &AppState,
    user: &WebUser,
    res: Result<voronka_app::TagChange, AppError>,
    done: &str,
) -> PageResult {
    let (status, message) = match res {
        Ok(_) => return Ok(see_other(&format!("/tags?done={done}"))),
        // Gone already (another tab, another person): said on the page, not as a lost page.
        Err(e @ AppError::NotFound(_)) => WebError::App(e).status_message(),
        Err(e) => refusal_on_page(WebError::App(e))?,
    };
    let mut p = tags_page(state, user).await?;
    p.layout = p.layout.with_error(Some(message)).at("/tags");
    Ok(render_status(status, &p))
}

/// Renames a tag on every lead the person sees.
pub(crate) async fn rename(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = state
        .app
        .rename_tag(&user.actor(), &form.text("tag"), &form.text("to"))
        .await;
    answered(&state, &user, res, "tag_renamed").await
}

/// Removes a tag from every lead the person sees.
pub(crate) async fn delete(
    State(state): State<AppState>,
    user: WebUser,
    body: Bytes,
) -> PageResult {
    let form = PostForm::checked(&body, &user)?;
    let res = state.app.delete_tag(&user.actor(), &form.text("tag")).await;
    answered(&state, &user, res, "tag_deleted").await
}
