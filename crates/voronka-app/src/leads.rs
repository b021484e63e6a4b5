//! Use cases on leads: reading with row-level access, stage changes, conversion, assignment, notes.

use crate::{now_ms, Actor, App, AppError, Message, Result};
use serde::Deserialize;
use voronka_core::{Id, Lead, Millis, Money, Role, Stage, Temperature};
use voronka_store::{
    LeadDetail, LeadPage, LeadQuery, LeadRow, NewAudit, NewDeal, NewStageChange, StageUpdate,
    Survey, Tx, Visibility,
};

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct RefuseInput {
    pub reason: String,
    #[serde(default)]
    pub comment: Option<String>,
    /// When this moment passes the lead returns to working by itself.
    #[serde(default)]
    pub freeze_until: Option<Millis>,
}

/// A freeze date a refusal may carry: after `now`, and within the years the plans reach.
pub(crate) fn check_freeze(until: Millis, now: Millis) -> Result<()> {
    if until <= now {
        return Err(AppError::invalid(
            "freeze_until",
            Message::new("freeze_date_in_past"),
        ));
    }
    if !voronka_core::within_plan_ahead(until, now) {
        return Err(AppError::invalid(
            "freeze_until",
            Message::new("freeze_date_too_far").with("years", voronka_core::PLAN_AHEAD_YEARS),
        ));
    }
    Ok(())
}

/// The answers of the farewell survey ("why did it not work out?").
pub const SURVEY_ANSWERS: [&str; 4] = ["price", "timing", "other_supplier", "other"];

#[derive(Debug, Clone)]
pub struct ConvertInput {
    pub amount: Money,
    pub title: Option<String>,
}

/// What a lead asks for and may be worth, as typed: the value in major units ("150 000,50"),
/// in `currency` (the workspace's when none); no value clears it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestEdit {
    #[serde(default)]
    pub product: Option<String>,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
}

/// The longest product of a lead, in characters.
pub const MAX_PRODUCT: usize = 200;

fn lead_json(l: &Lead) -> Option<String> {
    serde_json::to_string(l).ok()
}

impl App {
    fn check_visible(&self, actor: &Actor, lead: &Lead) -> Result<()> {
        let ok = match actor.visibility() {
            Visibility::All => true,
            Visibility::Owner(u) => lead.owner_id == Some(u),
            // Team membership is checked by the store for lists; for one lead, the owner's team.
            Visibility::Team(_) => true,
        };
        if ok {
            Ok(())
        } else {
            // Not 403: a salesperson must not learn which ids exist.
            Err(AppError::NotFound(
                Message::new("lead_not_found").with("id", lead.id),
            ))
        }
    }

    async fn check_team(&self, actor: &Actor, lead: &Lead) -> Result<()> {
        if let (Visibility::Team(team), Some(owner)) = (actor.visibility(), lead.owner_id) {
            let owner = self.store.user(owner).await?;
            if owner.and_then(|o| o.team_id) != Some(team) {
                return Err(AppError::NotFound(
                    Message::new("lead_not_found").with("id", lead.id),
                ));
            }
        }
        Ok(())
    }

    /// A page of leads and how many match (see [`App::list_leads_page`]); for a search that
    /// matches very many leads the number is a lower bound.
    pub async fn list_leads(&self, actor: &Actor, q: LeadQuery) -> Result<(Vec<LeadRow>, i64)> {
        let page = self.list_leads_page(actor, q, false).await?;
        Ok((page.rows, page.total.n))
    }

    /// A page of leads the actor may see and their total: exact, except for a search whose term
    /// matches very many leads, which is counted up to a bound (the list says "more than");
    /// with `tabs`, the counts of the stage tabs too.
    pub async fn list_leads_page(
        &self,
        actor: &Actor,
        mut q: LeadQuery,
        tabs: bool,
    ) -> Result<LeadPage> {
        actor.require_read_leads()?;
        q.visibility = actor.visibility();
        // A phone number as people write it at home is searched in the form the leads hold.
        if let Some(e164) = q.text.as_deref().and_then(|t| {
            voronka_core::intake::keys::search_phone(t, &self.settings.default_region)
        }) {
            q.text = Some(e164);
        }
        Ok(self.store.list_leads_page(&q, tabs).await?)
    }

    pub async fn lead_detail(&self, actor: &Actor, id: Id) -> Result<LeadDetail> {
        actor.require_read_leads()?;
        // A merged lead answers with the lead it was merged into.
        let id = self.store.resolve_lead(id).await?.unwrap_or(id);
        let d = self
            .store
            .lead_detail(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("lead_not_found").with("id", id)))?;
        self.check_visible(actor, &d.lead)?;
        self.check_team(actor, &d.lead).await?;
        Ok(d)
    }

    /// Opens a transaction with the lead locked, after checking that the actor may change it.
    /// A lead the actor may see; a merged lead answers with the lead it was merged into.
    pub(crate) async fn visible_lead(&self, actor: &Actor, id: Id) -> Result<Lead> {
        actor.require_read_leads()?;
        let id = self.store.resolve_lead(id).await?.unwrap_or(id);
        let lead = self
            .store
            .lead(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("lead_not_found").with("id", id)))?;
        self.check_visible(actor, &lead)?;
        self.check_team(actor, &lead).await?;
        Ok(lead)
    }

    pub(crate) async fn lead_tx(&self, actor: &Actor, id: Id) -> Result<(Box<dyn Tx>, Lead)> {
        actor.require_write_leads()?;
        let mut tx = self.store.begin().await?;
        let lead = tx
            .lead_for_update(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("lead_not_found").with("id", id)))?;
        // A lead merged into another is read as that one, but changed only through it: the
        // caller learns where its lead went rather than changing a lead nobody sees.
        if let Some(next) = lead.merged_into {
            // The survivor at the end of the chain (it may have been merged again since).
            let into = self.store.resolve_lead(next).await?.unwrap_or(next);
            return Err(AppError::Conflict(
                Message::new("lead_merged")
                    .with("id", id)
                    .with("into", into),
            ));
        }
        self.check_visible(actor, &lead)?;
        self.check_team(actor, &lead).await?;
        Ok((tx, lead))
    }

    pub(crate) async fn finish(
        &self,
        mut tx: Box<dyn Tx>,
        actor: &Actor,
        action: &str,
        before: &Lead,
        at: Millis,
    ) -> Result<Lead> {
        // The first response is the first logged call, email or meeting (`log_activity`).
        let after = tx.lead_for_update(before.id).await?.ok_or_else(|| {
            AppError::NotFound(Message::new("lead_not_found").with("id", before.id))
        })?;
        tx.audit(&NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: action.into(),
            entity: "lead".into(),
            entity_id: Some(before.id),
            before: lead_json(before),
            after: lead_json(&after),
            at,
        })
        .await?;
        tx.commit().await?;
        // A closed lead open again (revived, or moved back by hand) is given its probability.
        if after.stage.is_open() && !before.stage.is_open() {
            match self.predict_leads(&[after.id]).await {
                // The lead as stored, probability and all; the action stands either way.
                Ok(p) if !p.is_empty() => {
                    if let Ok(Some(scored)) = self.store.lead(after.id).await {
                        return Ok(scored);
                    }
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(lead = after.id, error = %e, "scoring a reopened lead"),
            }
        }
        Ok(after)
    }

    async fn record_stage(
        tx: &mut dyn Tx,
        actor: &Actor,
        lead: &Lead,
        upd: StageUpdate,
        reason: Option<String>,
        comment: Option<String>,
        at: Millis,
    ) -> Result<()> {
        let to = upd.stage.unwrap_or(lead.stage);
        tx.set_stage(lead.id, &upd, at).await?;
        tx.add_stage_change(&NewStageChange {
            lead_id: lead.id,
            from: Some(lead.stage),
            to,
            actor_id: actor.user_id(),
            actor: actor.name(),
            reason,
            code: None,
            comment,
            at,
        })
        .await?;
        Ok(())
    }

    /// Moves a lead along the funnel (new → working → mql → sql, back to working, or a revival).
    pub async fn change_stage(
        &self,
        actor: &Actor,
        id: Id,
        to: Stage,
        comment: Option<String>,
    ) -> Result<Lead> {
        self.change_stage_at(actor, id, to, comment, now_ms()).await
    }

    pub async fn change_stage_at(
        &self,
        actor: &Actor,
        id: Id,
        to: Stage,
        comment: Option<String>,
        at: Millis,
    ) -> Result<Lead> {
        match to {
            Stage::Refused => {
                return Err(AppError::invalid("stage", Message::new("stage_use_refuse")))
            }
            Stage::Junk => return Err(AppError::invalid("stage", Message::new("stage_use_junk"))),
            _ => {}
        }
        let (mut tx, lead) = self.lead_tx(actor, id).await?;
        lead.stage.check_transition(to)?;
        let upd = StageUpdate {
            stage: Some(to),
            ..Default::default()
        };
        Self::record_stage(tx.as_mut(), actor, &lead, upd, None, clean_opt(comment), at).await?;
        self.finish(tx, actor, "stage", &lead, at).await
    }

    pub async fn refuse(&self, actor: &Actor, id: Id, input: RefuseInput) -> Result<Lead> {
        self.refuse_at(actor, id, input, now_ms()).await
    }

    pub async fn refuse_at(
        &self,
        actor: &Actor,
        id: Id,
        input: RefuseInput,
        at: Millis,
    ) -> Result<Lead> {
        Ok(self.refuse_inner(actor, id, input, None, at).await?.0)
    }

    /// Refuses a lead and, when `public_url` is given, emails the contact a farewell with the
    /// link of a one-question survey (`{public_url}/s/{token}`). The farewell needs an email
    /// address and SMTP settings; the answer tells whether it was queued.
    pub async fn refuse_with_farewell(
        &self,
        actor: &Actor,
        id: Id,
        input: RefuseInput,
        public_url: Option<&str>,
    ) -> Result<(Lead, bool)> {
        self.refuse_inner(actor, id, input, public_url, now_ms())
            .await
    }

    /// The reason as typed, cleaned, when it is one of the list's.
    pub(crate) async fn refusal_reason(&self, typed: &str) -> Result<String> {
        let reason = voronka_core::intake::normalize::clean_text(typed);
        if reason.is_empty() {
            return Err(AppError::invalid(
                "reason",
                Message::new("refusal_reason_required"),
            ));
        }
        let known = self.store.refusal_reasons().await?;
        if !known.iter().any(|k| k == &reason) {
            return Err(AppError::invalid(
                "reason",
                Message::new("refusal_reason_unknown").with("choices", known.join(", ")),
            ));
        }
        Ok(reason)
    }

    async fn refuse_inner(
        &self,
        actor: &Actor,
        id: Id,
        input: RefuseInput,
        farewell: Option<&str>,
        at: Millis,
    ) -> Result<(Lead, bool)> {
        let reason = self.refusal_reason(&input.reason).await?;
        if let Some(f) = input.freeze_until {
            check_freeze(f, at)?;
        }
        let (mut tx, lead) = self.lead_tx(actor, id).await?;
        lead.stage.check_transition(Stage::Refused)?;
        let upd = StageUpdate {
            stage: Some(Stage::Refused),
            refuse_reason: Some(reason.clone()),
            frozen_until: input.freeze_until,
            junk_reason: None,
        };
        Self::record_stage(
            tx.as_mut(),
            actor,
            &lead,
            upd,
            Some(reason),
            clean_opt(input.comment),
            at,
        )
        .await?;
        if let Some(until) = input.freeze_until {
            let payload = serde_json::json!({ "lead_id": id, "frozen_until": until }).to_string();
            tx.enqueue_job(crate::jobs::REVIVE_LEAD, &payload, until, at)
                .await?;
        }
        let mut farewell_sent = false;
        if let Some(base) = farewell {
            let contact = self
                .store
                .lead_detail(id)
                .await?
                .map(|d| d.contact)
                .ok_or_else(|| AppError::NotFound(Message::new("lead_not_found").with("id", id)))?;
            let email = contact.emails.first().map(|e| e.normalized.clone());
            if let Some(email) = email.filter(|e| !e.is_empty()) {
                if crate::mail::smtp_in_tx(tx.as_mut()).await?.is_some() {
                    let token = crate::new_secret("");
                    tx.add_survey(id, &crate::sha256_hex(&token), at).await?;
                    let url = format!("{}/s/{token}", base.trim_end_matches('/'));
                    let (subject, body) = crate::mail::text::farewell(&contact.full_name, &url);
                    let mail = crate::mail::EmailPayload {
                        to: email,
                        to_name: contact.full_name.clone(),
                        subject,
                        body,
                        lead_id: Some(id),
                    };
                    tx.enqueue_jobs(&[crate::mail::email_job(&mail, at)], at)
                        .await?;
                    farewell_sent = true;
                }
            }
        }
        let lead = self.finish(tx, actor, "refuse", &lead, at).await?;
        Ok((lead, farewell_sent))
    }

    /// The farewell surveys of a lead, with their answers.
    pub async fn lead_surveys(&self, actor: &Actor, lead_id: Id) -> Result<Vec<Survey>> {
        let d = self.lead_detail(actor, lead_id).await?;
        Ok(self.store.surveys_for(d.lead.id).await?)
    }

    /// The survey behind a public link; an unknown token is "not found".
    pub async fn survey(&self, token: &str) -> Result<Survey> {
        let token = token.trim();
        if token.is_empty() || token.len() > 200 {
            return Err(AppError::NotFound(Message::new("survey_not_found")));
        }
        self.store
            .survey_by_token(&crate::sha256_hex(token))
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("survey_not_found")))
    }

    /// Stores the answer of a survey; a second answer is refused.
    pub async fn answer_survey(
        &self,
        token: &str,
        answer: &str,
        comment: Option<&str>,
    ) -> Result<Survey> {
        let survey = self.survey(token).await?;
        if survey.answered_at.is_some() {
            return Err(AppError::Conflict(Message::new("survey_answered")));
        }
        let answer = answer.trim();
        if !SURVEY_ANSWERS.contains(&answer) {
            return Err(AppError::invalid(
                "answer",
                Message::new("survey_answer_unknown").with("choices", SURVEY_ANSWERS.join(", ")),
            ));
        }
        let comment = comment
            .map(voronka_core::intake::normalize::clean_text)
            .filter(|c| !c.is_empty());
        if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
            return Err(AppError::invalid(
                "comment",
                Message::new("survey_comment_too_long").with("max", 2000),
            ));
        }
        let at = now_ms();
        let done = self
            .store
            .answer_survey(
                &crate::sha256_hex(token.trim()),
                answer,
                comment.as_deref(),
                at,
            )
            .await?;
        if !done {
            return Err(AppError::Conflict(Message::new("survey_answered")));
        }
        self.survey(token).await
    }

    pub async fn mark_junk(&self, actor: &Actor, id: Id, reason: &str) -> Result<Lead> {
        let reason = voronka_core::intake::normalize::clean_text(reason);
        if reason.is_empty() {
            return Err(AppError::invalid(
                "reason",
                Message::new("junk_reason_required"),
            ));
        }
        let at = now_ms();
        let (mut tx, lead) = self.lead_tx(actor, id).await?;
        lead.stage.check_transition(Stage::Junk)?;
        let upd = StageUpdate {
            stage: Some(Stage::Junk),
            junk_reason: Some(reason.clone()),
            ..Default::default()
        };
        Self::record_stage(tx.as_mut(), actor, &lead, upd, Some(reason), None, at).await?;
        self.finish(tx, actor, "junk", &lead, at).await
    }

    /// Returns a frozen lead to working when its date has passed. Safe to run twice.
    pub async fn revive_if_due(&self, id: Id, now: Millis) -> Result<bool> {
        let actor = Actor::system("freeze timer");
        let mut tx = self.store.begin().await?;
        let Some(lead) = tx.lead_for_update(id).await? else {
            return Ok(false);
        };
        let due = lead.merged_into.is_none()
            && lead.stage == Stage::Refused
            && lead.frozen_until.is_some_and(|f| f <= now);
        if !due {
            return Ok(false);
        }
        let upd = StageUpdate {
            stage: Some(Stage::Working),
            ..Default::default()
        };
        tx.set_stage(lead.id, &upd, now).await?;
        tx.add_stage_change(&NewStageChange::system(
            lead.id,
            Some(lead.stage),
            Stage::Working,
            None,
            &actor.name(),
            &voronka_core::SystemMove::FreezePassed {
                refused: lead.refuse_reason.as_deref(),
            },
            now,
        ))
        .await?;
        // The owner gets a task to call the revived lead, and a notification.
        if let Some(owner) = lead.owner_id {
            tx.add_task(&voronka_store::NewTask {
                lead_id: Some(id),
                owner_id: Some(owner),
                kind: "call".into(),
                title: voronka_core::SystemTask::CallRevived.title().into(),
                title_code: Some(voronka_core::SystemTask::CallRevived.code()),
                due_at: now,
                remind_at: None,
                created_by: actor.name(),
                created_at: now,
            })
            .await?;
            tx.add_notification(
                owner,
                "lead_revived",
                Some(id),
                &voronka_core::Notice::new("lead_revived").with("lead", id),
                now,
            )
            .await?;
        }
        self.finish(tx, &actor, "revive", &lead, now).await?;
        Ok(true)
    }

    /// Converts a lead: creates or reuses the contact's customer and creates a deal.
    pub async fn convert(
        &self,
        actor: &Actor,
        id: Id,
        input: ConvertInput,
    ) -> Result<(Lead, Id, Id)> {
        self.convert_at(actor, id, input, now_ms()).await
    }

    pub async fn convert_at(
        &self,
        actor: &Actor,
        id: Id,
        input: ConvertInput,
        at: Millis,
    ) -> Result<(Lead, Id, Id)> {
        if input.amount.minor < 0 {
            return Err(AppError::invalid(
                "amount",
                Message::new("deal_amount_negative"),
            ));
        }
        if input.amount.minor > Money::MAX_MINOR {
            return Err(AppError::invalid(
                "amount",
                Message::new("deal_amount_too_large").with("max", Money::MAX_MINOR),
            ));
        }
        let (mut tx, lead) = self.lead_tx(actor, id).await?;
        if !lead.stage.can_convert() {
            return Err(voronka_core::StageError::Illegal {
                from: lead.stage,
                to: Stage::Converted,
            }
            .into());
        }
        let detail = self
            .store
            .contact_detail(lead.contact_id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("lead_contact_missing")))?;
        let name = detail
            .account
            .as_ref()
            .map(|a| a.name.clone())
            .unwrap_or_else(|| detail.contact.full_name.clone());
        let customer_id = tx.customer_for_contact(lead.contact_id, &name, at).await?;
        let title = input
            .title
            .map(|t| voronka_core::intake::normalize::clean_text(&t))
            .filter(|t| !t.is_empty())
            .or_else(|| lead.product.clone())
            .unwrap_or_else(|| format!("Deal from lead #{id}"));
        let deal_id = tx
            .insert_deal(&NewDeal {
                customer_id,
                lead_id: id,
                title,
                amount: input.amount,
                created_at: at,
            })
            .await?;
        tx.set_lead_customer(id, customer_id).await?;
        let upd = StageUpdate {
            stage: Some(Stage::Converted),
            ..Default::default()
        };
        Self::record_stage(
            tx.as_mut(),
            actor,
            &lead,
            upd,
            Some(format!("deal #{deal_id}")),
            None,
            at,
        )
        .await?;
        let lead = self.finish(tx, actor, "convert", &lead, at).await?;
        Ok((lead, customer_id, deal_id))
    }

    pub async fn assign(&self, actor: &Actor, id: Id, owner: Option<Id>) -> Result<Lead> {
        self.check_assignment(actor, owner).await?;
        let at = now_ms();
        let (mut tx, lead) = self.lead_tx(actor, id).await?;
        tx.set_owner(id, owner, at).await?;
        // Every assignment keeps its history row beside the audit entry.
        tx.insert_assignments(&[voronka_store::NewAssignment {
            lead_id: id,
            from_owner: lead.owner_id,
            to_owner: owner,
            rule: None,
            why: voronka_core::Notice::new("assigned_by").with("actor", actor.name()),
            actor_id: actor.user_id(),
            actor: actor.name(),
            at,
        }])
        .await?;
        self.finish(tx, actor, "assign", &lead, at).await
    }

    /// Whether this person may give leads to `owner` (an active person who sells; `None`:
    /// nobody).
    pub(crate) async fn check_assignment(&self, actor: &Actor, owner: Option<Id>) -> Result<()> {
        if !actor.role().assigns_leads() {
            return Err(AppError::Forbidden(Message::new("reassign_forbidden")));
        }
        if let Some(o) = owner {
            let u = self
                .store
                .user(o)
                .await?
                .filter(|u| u.active)
                .ok_or_else(|| {
                    AppError::invalid("owner_id", Message::new("owner_not_active").with("id", o))
                })?;
            if matches!(u.role, Role::Marketer | Role::Viewer) {
                return Err(AppError::invalid(
                    "owner_id",
                    Message::new("owner_does_not_sell"),
                ));
            }
        }
        Ok(())
    }

    pub async fn set_temperature(&self, actor: &Actor, id: Id, t: Temperature) -> Result<Lead> {
        let at = now_ms();
        let (mut tx, lead) = self.lead_tx(actor, id).await?;
        tx.set_temperature(id, t, at).await?;
        self.finish(tx, actor, "temperature", &lead, at).await
    }

    /// Corrects what a lead asks for and what it may be worth (the lead's search follows its
    /// product); every wrong field is named at once.
    pub async fn edit_request(&self, actor: &Actor, id: Id, edit: &RequestEdit) -> Result<Lead> {
        let mut errors = Vec::new();
        let product =
            voronka_core::intake::normalize::clean_text(edit.product.as_deref().unwrap_or(""));
        if product.chars().count() > MAX_PRODUCT {
            errors.push(crate::FieldError::new(
                "product",
                Message::new("product_too_long").with("max", MAX_PRODUCT),
            ));
        }
        let value = match edit
            .value
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
        {
            None => None,
            Some(text) => {
                let currency = crate::error::typed_currency(
                    edit.currency.as_deref(),
                    &self.settings.default_currency,
                    &mut errors,
                );
                currency.and_then(|c| {
                    let bounds = crate::error::AmountBounds {
                        min_minor: 0,
                        below: Message::new("amount_invalid"),
                        above: Message::new("amount_invalid"),
                    };
                    crate::error::typed_amount("value", text, c, bounds, &mut errors)
                })
            }
        };
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(
                Message::new("request_invalid"),
                errors,
            ));
        }
        let at = now_ms();
        let (mut tx, lead) = self.lead_tx(actor, id).await?;
        let product = (!product.is_empty()).then_some(product);
        tx.set_request(id, product.as_deref(), value, at).await?;
        // The rules may read the product and the value: the lead is scored by what it says now.
        let said = voronka_core::intake::Normalized {
            product,
            value,
            ..Default::default()
        };
        let newer = std::collections::HashMap::from([(
            id,
            voronka_core::scoring::correction(&said, voronka_core::scoring::REQUEST_FIELDS),
        )]);
        crate::scoring::rescore_in_tx(tx.as_mut(), &self.scorer(), &[id], &newer, at).await?;
        self.finish(tx, actor, "request", &lead, at).await
    }

    pub async fn add_note(&self, actor: &Actor, id: Id, body: &str) -> Result<Id> {
        self.add_note_at(actor, id, body, now_ms()).await
    }

    pub async fn add_note_at(&self, actor: &Actor, id: Id, body: &str, at: Millis) -> Result<Id> {
        let body = body.trim();
        if body.is_empty() {
            return Err(AppError::invalid("body", Message::new("note_empty")));
        }
        if body.chars().count() > 20_000 {
            return Err(AppError::invalid(
                "body",
                Message::new("note_too_long").with("max", 20_000),
            ));
        }
        let (mut tx, lead) = self.lead_tx(actor, id).await?;
        let note_id = tx
            .add_note(id, actor.user_id(), &actor.name(), body, at)
            .await?;
        tx.audit(&NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "note".into(),
            entity: "lead".into(),
            entity_id: Some(lead.id),
            before: None,
            after: Some(body.to_string()),
            at,
        })
        .await?;
        tx.commit().await?;
        Ok(note_id)
    }
}

fn clean_opt(s: Option<String>) -> Option<String> {
    s.map(|c| c.trim().to_string()).filter(|c| !c.is_empty())
}
