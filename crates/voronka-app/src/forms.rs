//! Form definitions (builders), widget events and A/B statistics.

use crate::{now_ms, Actor, App, AppError, FieldError, Message, Result};
use serde::{Deserialize, Serialize};
use voronka_core::capture::{take_rate, FormDefinition};
use voronka_core::intake::{
    apply_definition, normalize, validate, NormalizeSettings, Reason, Submission, ValidationRules,
};
use voronka_core::{Currency, Form, Id};
use voronka_store::NewFormEvent;

/// Views, submissions and downloads of one variant, with its take rate (submits / views) and
/// the rate's 95% interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantStats {
    /// Empty for a form without variants (or events recorded before variants existed).
    pub variant: String,
    pub weight: u32,
    pub views: i64,
    pub submits: i64,
    pub downloads: i64,
    pub take_rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// Kinds of widget events.
pub const EVENT_KINDS: [&str; 3] = ["view", "submit", "download"];

/// A row of `form_events`: an unknown variant counts toward the base form, and the visitor id is
/// cut to 100 characters.
pub(crate) fn form_event(
    form: &Form,
    kind: &str,
    variant: Option<&str>,
    visitor_id: Option<&str>,
    at: voronka_core::Millis,
) -> NewFormEvent {
    NewFormEvent {
        form_id: form.id,
        variant: variant
            .and_then(|v| form.definition.variant(v))
            .map(|v| v.key.clone())
            .unwrap_or_default(),
        kind: kind.to_string(),
        visitor_id: visitor_id.map(|v| v.chars().take(100).collect()),
        at,
    }
}

impl App {
    /// A form by id for the builder pages and the API.
    pub async fn form(&self, actor: &Actor, id: Id) -> Result<Form> {
        if !actor.role().manages_forms() && !actor.role().reads_leads() {
            return Err(AppError::Forbidden(Message::new("role_cannot_see_forms")));
        }
        self.store
            .form(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("form_not_found").with("id", id)))
    }

    /// Replaces a form's definition after checking every part of it.
    pub async fn set_form_definition(
        &self,
        actor: &Actor,
        id: Id,
        mut def: FormDefinition,
    ) -> Result<Form> {
        actor.require_forms()?;
        let form = self.form(actor, id).await?;
        def.tidy();
        let problems = def.check();
        if !problems.is_empty() {
            return Err(AppError::invalid_fields(
                Message::new("form_definition_invalid"),
                problems
                    .iter()
                    .map(|p| FieldError::new(&p.field, Message::from(p)))
                    .collect(),
            ));
        }
        let slug = def.landing.as_ref().map(|l| l.slug.clone());
        let json = def.to_json();
        self.store
            .set_form_definition(id, slug.as_deref(), &json)
            .await
            .map_err(|e| match AppError::from(e) {
                AppError::Conflict(_) => AppError::invalid(
                    "landing",
                    Message::new("landing_address_taken")
                        .with("slug", slug.clone().unwrap_or_default()),
                ),
                other => other,
            })?;
        self.forget_form(&form.public_key);
        self.audit_simple(actor, "define", "form", id, &json)
            .await?;
        self.form(actor, id).await
    }

    /// Changes a form's settings (name, redirect, origins, region, product, activity).
    pub async fn update_form(
        &self,
        actor: &Actor,
        id: Id,
        input: crate::FormInput,
        active: bool,
    ) -> Result<Form> {
        actor.require_forms()?;
        let mut form = self.form(actor, id).await?;
        let checked = self.checked_form_input(input)?;
        form.name = checked.name;
        form.redirect_url = checked.redirect_url;
        form.allowed_origins = checked.allowed_origins;
        form.default_region = checked.default_region;
        form.product = checked.product;
        if let Some(ms) = checked.min_fill_ms {
            form.min_fill_ms = ms.max(0);
        }
        form.active = active;
        self.store.update_form(&form).await?;
        self.forget_form(&form.public_key);
        self.audit_simple(actor, "update", "form", id, &form.name)
            .await?;
        Ok(form)
    }

    /// An active form by its landing page address.
    pub async fn form_by_slug(&self, slug: &str) -> Result<Option<Form>> {
        Ok(self.store.form_by_slug(slug).await?.filter(|f| f.active))
    }

    /// Records a widget event. Unknown variants count toward the base form.
    pub async fn record_form_event(
        &self,
        form: &Form,
        kind: &str,
        variant: Option<&str>,
        visitor_id: Option<&str>,
    ) -> Result<()> {
        if !EVENT_KINDS.contains(&kind) {
            return Err(AppError::invalid(
                "kind",
                Message::new("form_event_kind_unknown").with("kind", kind),
            ));
        }
        self.store
            .add_form_event(&form_event(form, kind, variant, visitor_id, now_ms()))
            .await?;
        Ok(())
    }

    /// Views, submits and take rate per variant of a form.
    pub async fn variant_stats(&self, actor: &Actor, id: Id) -> Result<Vec<VariantStats>> {
        let form = self.form(actor, id).await?;
        let counts = self.store.form_event_counts(id).await?;
        let mut keys: Vec<(String, u32)> = form
            .definition
            .variants
            .iter()
            .map(|v| (v.key.clone(), v.weight))
            .collect();
        if keys.is_empty() || counts.iter().any(|c| c.variant.is_empty()) {
            keys.insert(0, (String::new(), 1));
        }
        Ok(keys
            .into_iter()
            .map(|(variant, weight)| {
                let n = |kind: &str| {
                    counts
                        .iter()
                        .filter(|c| c.variant == variant && c.kind == kind)
                        .map(|c| c.count)
                        .sum::<i64>()
                };
                let (views, submits, downloads) = (n("view"), n("submit"), n("download"));
                let rate = take_rate(submits, views);
                VariantStats {
                    variant,
                    weight,
                    views,
                    submits,
                    downloads,
                    take_rate: rate.map(|r| r.rate),
                    low: rate.map(|r| r.low),
                    high: rate.map(|r| r.high),
                }
            })
            .collect())
    }

    /// The pure steps of the intake (normalize and validate) without storing anything, so the
    /// widget can point out problems such as a mistyped email domain before submitting.
    pub async fn check_submission(
        &self,
        form: &Form,
        submission: &Submission,
    ) -> Result<Vec<Reason>> {
        let settings = NormalizeSettings {
            default_region: form.default_region.clone(),
            default_currency: Currency::parse(&self.settings.default_currency)
                .map_err(|e| AppError::Io(format!("default currency: {e}")))?,
            default_product: form.product.clone(),
            honeypot_field: Some(form.honeypot_field.clone()),
        };
        let mut n = normalize(submission, &settings);
        apply_definition(&mut n, submission, &form.definition);
        let rules = ValidationRules {
            require_consent: form.definition.consent.as_ref().is_some_and(|c| c.required),
            ..Default::default()
        };
        // The rules in force, but no traffic counted: a check is not a submission.
        let scrub = self.scrub().await?;
        Ok(validate(&n, &rules, &scrub, &Default::default()).reasons)
    }

    fn forget_form(&self, key: &str) {
        if let Ok(mut cache) = self.forms.write() {
            cache.remove(key);
        }
    }
}
