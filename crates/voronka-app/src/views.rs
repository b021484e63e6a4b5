//! Saved views: inbox filters a person keeps under a name, their own or shared with the team.

use crate::{now_ms, Actor, App, AppError, Message, Result};
use voronka_core::Id;
use voronka_store::SavedView;

/// The most views one person keeps.
pub const MAX_VIEWS: usize = 50;
/// The longest name of a view, in characters.
pub const MAX_VIEW_NAME: usize = 80;
/// The longest query a view keeps, in bytes.
pub const MAX_VIEW_QUERY: usize = 2_000;

/// The person behind the actor: views belong to people, not to tokens of nobody.
fn person(actor: &Actor) -> Result<Id> {
    actor
        .user_id()
        .ok_or_else(|| AppError::Forbidden(Message::new("views_need_a_person")))
}

impl App {
    /// The views this person sees: shared ones first, then their own.
    pub async fn saved_views(&self, actor: &Actor) -> Result<Vec<SavedView>> {
        actor.require_read_leads()?;
        let Some(user) = actor.user_id() else {
            return Ok(Vec::new());
        };
        let mut views = self.store.saved_views(user).await?;
        // By name as people read it, the same on every backend (their collations differ).
        views.sort_by_cached_key(|v| (!v.shared, v.name.to_lowercase(), v.id));
        Ok(views)
    }

    /// Saves the inbox's filters (`query`, as the inbox's address has them) under `name`; a
    /// view `shared` with the team is for sales managers and administrators to make.
    pub async fn save_view(
        &self,
        actor: &Actor,
        name: &str,
        query: &str,
        shared: bool,
    ) -> Result<SavedView> {
        actor.require_read_leads()?;
        let user = person(actor)?;
        if shared && !actor.role().assigns_leads() {
            return Err(AppError::Forbidden(Message::new("share_views_forbidden")));
        }
        let name = voronka_core::intake::normalize::clean_text(name);
        if name.is_empty() {
            return Err(AppError::invalid(
                "name",
                Message::new("view_name_required"),
            ));
        }
        if name.chars().count() > MAX_VIEW_NAME {
            return Err(AppError::invalid(
                "name",
                Message::new("view_name_too_long").with("max", MAX_VIEW_NAME),
            ));
        }
        let query = query.trim().trim_start_matches('?');
        if query.len() > MAX_VIEW_QUERY {
            return Err(AppError::invalid(
                "query",
                Message::new("view_query_too_long").with("max", MAX_VIEW_QUERY),
            ));
        }
        let seen = self.store.saved_views(user).await?;
        let own: Vec<&SavedView> = seen.iter().filter(|v| v.user_id == user).collect();
        if own
            .iter()
            .any(|v| v.name.to_lowercase() == name.to_lowercase())
        {
            return Err(AppError::Conflict(
                Message::new("view_name_taken").with("name", &name),
            ));
        }
        if own.len() >= MAX_VIEWS {
            return Err(AppError::invalid(
                "name",
                Message::new("too_many_views").with("max", MAX_VIEWS),
            ));
        }
        let id = self
            .store
            .add_saved_view(user, &name, query, shared, now_ms())
            .await?;
        self.store
            .saved_view(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("view_not_found").with("id", id)))
    }

    /// Deletes a view: one's own, or a shared one for sales managers and administrators.
    pub async fn delete_view(&self, actor: &Actor, id: Id) -> Result<()> {
        actor.require_read_leads()?;
        let user = person(actor)?;
        let not_found = || AppError::NotFound(Message::new("view_not_found").with("id", id));
        let view = self.store.saved_view(id).await?.ok_or_else(not_found)?;
        let mine = view.user_id == user;
        if !mine && !view.shared {
            return Err(not_found());
        }
        if !mine && !actor.role().assigns_leads() {
            return Err(AppError::Forbidden(Message::new("view_not_yours")));
        }
        self.store.delete_saved_view(id).await?;
        Ok(())
    }
}
