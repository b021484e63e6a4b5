//! Forms, contacts, accounts, customers, deals and people: reads and admin changes with access checks.

use crate::{new_secret, now_ms, Actor, App, AppError, Message, Result};
use std::collections::HashMap;
use voronka_core::{Account, Customer, Deal, Form, Id, Role, ScopeSet, User};
use voronka_store::{
    ApiToken, AuditEntry, ContactDetail, ContactRow, CustomerDetail, FormStats, NewForm,
    SimpleQuery,
};

/// Fields of a new or edited form.
#[derive(Debug, Clone, Default)]
pub struct FormInput {
    pub name: String,
    pub redirect_url: Option<String>,
    pub allowed_origins: Vec<String>,
    pub default_region: Option<String>,
    pub product: Option<String>,
    pub min_fill_ms: Option<i64>,
}

/// A contact as corrected by hand: its own fields, a phone or an email to add, and phones or
/// emails to remove.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactEdit {
    pub name: String,
    #[serde(default)]
    pub position: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    /// ISO 3166 alpha-2 ("RU", "NL"). A new country reads again the phones that did not read
    /// as numbers where they were first read.
    #[serde(default)]
    pub country: Option<String>,
    /// ISO 639-1 ("ru", "en").
    #[serde(default)]
    pub language: Option<String>,
    /// A phone number to add, as written (without a country code: in the contact's country, else
    /// the workspace's region).
    #[serde(default)]
    pub add_phone: Option<String>,
    /// An email address to add.
    #[serde(default)]
    pub add_email: Option<String>,
    /// Phones to remove, as the contact shows them (E.164, or as typed when not valid).
    #[serde(default)]
    pub remove_phones: Vec<String>,
    /// Emails to remove, as the contact shows them (normalized).
    #[serde(default)]
    pub remove_emails: Vec<String>,
}

/// A deal as corrected: its title, and its amount in major units ("150 000,50") in `currency`
/// (the deal's own when none).
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealEdit {
    pub title: String,
    pub amount: String,
    #[serde(default)]
    pub currency: Option<String>,
}

/// A company as corrected by hand: its name (required) and its web domain.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountEdit {
    pub name: String,
    #[serde(default)]
    pub domain: Option<String>,
}

/// The longest name, position or company of a contact, in characters.
pub const MAX_CONTACT_TEXT: usize = 200;

fn check_url(field: &str, u: &str) -> Result<()> {
    if voronka_core::capture::is_http_url(u) {
        Ok(())
    } else {
        Err(AppError::invalid(
            field,
            Message::new("url_invalid").with("url", u),
        ))
    }
}

/// A form's settings after checking.
pub(crate) struct CheckedFormInput {
    pub name: String,
    pub redirect_url: Option<String>,
    pub allowed_origins: Vec<String>,
    pub default_region: String,
    pub product: Option<String>,
    pub min_fill_ms: Option<i64>,
}

/// The most audit entries one page reads.
pub const MAX_AUDIT_PAGE: i64 = 500;
/// The most audit entries one CSV file holds.
pub const MAX_AUDIT_CSV: i64 = 100_000;

impl App {
    pub(crate) fn checked_form_input(&self, input: FormInput) -> Result<CheckedFormInput> {
        let name = voronka_core::intake::normalize::clean_text(&input.name);
        if name.is_empty() {
            return Err(AppError::invalid(
                "name",
                Message::new("form_name_required"),
            ));
        }
        if let Some(r) = &input.redirect_url {
            check_url("redirect_url", r)?;
        }
        for o in &input.allowed_origins {
            check_url("allowed_origins", o)?;
        }
        let region = input
            .default_region
            .unwrap_or_else(|| self.settings.default_region.clone())
            .to_ascii_uppercase();
        if region.len() != 2 || !region.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(AppError::invalid(
                "default_region",
                Message::new("region_invalid"),
            ));
        }
        Ok(CheckedFormInput {
            name,
            redirect_url: input.redirect_url,
            allowed_origins: input
                .allowed_origins
                .iter()
                .map(|o| o.trim_end_matches('/').to_string())
                .collect(),
            default_region: region,
            product: input.product.filter(|p| !p.trim().is_empty()),
            min_fill_ms: input.min_fill_ms,
        })
    }

    pub async fn create_form(&self, actor: &Actor, input: FormInput) -> Result<Form> {
        actor.require_forms()?;
        let c = self.checked_form_input(input)?;
        let form = self
            .store
            .create_form(&NewForm {
                public_key: new_secret("f_")[..26].to_string(),
                name: c.name,
                redirect_url: c.redirect_url,
                allowed_origins: c.allowed_origins,
                default_region: c.default_region,
                product: c.product,
                honeypot_field: "website".into(),
                min_fill_ms: c.min_fill_ms.unwrap_or(1500).max(0),
                created_at: now_ms(),
            })
            .await?;
        if let Ok(mut cache) = self.forms.write() {
            cache.remove(&form.public_key);
        }
        self.audit_simple(actor, "create", "form", form.id, &form.name)
            .await?;
        Ok(form)
    }

    pub async fn list_forms(&self, actor: &Actor) -> Result<Vec<FormStats>> {
        if !actor.role().manages_forms() && !actor.role().reads_leads() {
            return Err(AppError::Forbidden(Message::new("role_cannot_see_forms")));
        }
        Ok(self.store.list_forms().await?)
    }

    /// An active form by its public key (cached for [`crate::FORM_CACHE_TTL`]).
    pub async fn form_by_key(&self, key: &str) -> Result<Option<Form>> {
        if let Ok(cache) = self.forms.read() {
            if let Some((form, at)) = cache.get(key) {
                if at.elapsed() < crate::FORM_CACHE_TTL {
                    return Ok(form.clone());
                }
            }
        }
        let form = self.store.form_by_key(key).await?.filter(|f| f.active);
        if let Ok(mut cache) = self.forms.write() {
            // Unknown keys are cached too, so probing them cannot load the database; the map is
            // bounded by dropping everything when it grows past a size no real site reaches.
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(key.to_string(), (form.clone(), std::time::Instant::now()));
        }
        Ok(form)
    }

    pub async fn contact_detail(&self, actor: &Actor, id: Id) -> Result<ContactDetail> {
        actor.require_read_leads()?;
        let d =
            self.store.contact_detail(id).await?.ok_or_else(|| {
                AppError::NotFound(Message::new("contact_not_found").with("id", id))
            })?;
        if let voronka_store::Visibility::Owner(u) = actor.visibility() {
            if !d.leads.iter().any(|l| l.owner_id == Some(u)) {
                return Err(AppError::NotFound(
                    Message::new("contact_not_found").with("id", id),
                ));
            }
        }
        Ok(d)
    }

    /// Corrects a contact (those who work leads, on contacts they see): its name, position,
    /// company, country and language, a phone or an email added (checked as the intake checks
    /// them) and wrong ones removed (never the last way to reach the person); every problem is
    /// named at once. The contact's leads are found by what it says now, and the audit log keeps
    /// what it said.
    pub async fn edit_contact(
        &self,
        actor: &Actor,
        id: Id,
        edit: &ContactEdit,
    ) -> Result<ContactDetail> {
        self.correct_contact(actor, id, edit, &[], &[]).await
    }

    /// [`App::edit_contact`], with more phones and emails to add than a form's one of each (a
    /// restored change gives back every one it removed), each checked as those are.
    pub(crate) async fn correct_contact(
        &self,
        actor: &Actor,
        id: Id,
        edit: &ContactEdit,
        more_phones: &[String],
        more_emails: &[String],
    ) -> Result<ContactDetail> {
        use voronka_core::intake::normalize::{
            clean_text, normalize_email, normalize_phone, tidy_name,
        };
        actor.require_write_leads()?;
        let before = self.contact_detail(actor, id).await?;
        if before.contact.erased_at.is_some() {
            return Err(AppError::Conflict(Message::new("contact_erased")));
        }
        let mut errors = Vec::new();
        let text = |field: &str, v: &Option<String>, errors: &mut Vec<crate::FieldError>| {
            let v = clean_text(v.as_deref().unwrap_or(""));
            if v.chars().count() > MAX_CONTACT_TEXT {
                errors.push(crate::FieldError::new(
                    field,
                    Message::new("contact_text_too_long").with("max", MAX_CONTACT_TEXT),
                ));
            }
            (!v.is_empty()).then_some(v)
        };
        let name = text("name", &Some(tidy_name(&edit.name)), &mut errors);
        if name.is_none() {
            errors.push(crate::FieldError::new(
                "name",
                Message::new("contact_name_required"),
            ));
        }
        let position = text("position", &edit.position, &mut errors);
        let company = text("company", &edit.company, &mut errors);
        // Codes of the ISO tables only: ISO 3166 alpha-2 countries, ISO 639-1 languages.
        let code = |field: &str,
                    v: &Option<String>,
                    known: fn(&str) -> Option<String>,
                    errors: &mut Vec<crate::FieldError>| {
            let v = v.as_deref().map(str::trim).filter(|v| !v.is_empty())?;
            let found = known(v);
            if found.is_none() {
                errors.push(crate::FieldError::new(
                    field,
                    Message::new("contact_code_invalid").with("given", v),
                ));
            }
            found
        };
        let country = code(
            "country",
            &edit.country,
            |v| {
                let v = v.to_ascii_uppercase();
                (v.len() == 2 && v.parse::<iso_country::Country>().is_ok()).then_some(v)
            },
            &mut errors,
        );
        let language = code(
            "language",
            &edit.language,
            |v| {
                let v = v.to_ascii_lowercase();
                isolang::Language::from_639_1(&v).map(|_| v)
            },
            &mut errors,
        );
        let mut added = voronka_core::intake::Normalized::default();
        let phones = edit.add_phone.iter().chain(more_phones).map(String::as_str);
        for raw in phones.filter(|p| !p.trim().is_empty()) {
            let region = country.as_deref().unwrap_or(&self.settings.default_region);
            let p = normalize_phone(raw, region);
            if p.valid {
                added.phones.push(p);
            } else {
                errors.push(crate::FieldError::new(
                    "add_phone",
                    Message::new("contact_phone_invalid").with("given", raw.trim()),
                ));
            }
        }
        let emails = edit.add_email.iter().chain(more_emails).map(String::as_str);
        for raw in emails.filter(|e| !e.trim().is_empty()) {
            let deliverable = normalize_email(raw).filter(|e| {
                e.normalized
                    .rsplit_once('@')
                    .is_some_and(|(local, domain)| {
                        voronka_core::intake::email::ascii_domain(domain).is_some_and(|d| {
                            voronka_core::intake::validate::email_deliverable(local, &d)
                        })
                    })
            });
            match deliverable {
                Some(e) => added.emails.push(e),
                None => errors.push(crate::FieldError::new(
                    "add_email",
                    Message::new("contact_email_invalid").with("given", raw.trim()),
                )),
            }
        }
        // A phone that did not read as a number in the region it was read in is read again in
        // the country the person turns out to be in; one that now reads replaces it.
        let mut reread = Vec::new();
        if let Some(country) = country
            .as_deref()
            .filter(|c| before.contact.country.as_deref() != Some(*c))
        {
            for p in before.contact.phones.iter().filter(|p| !p.valid) {
                // The phone as the contact shows it and its removal names it.
                let shown = p.e164.as_ref().unwrap_or(&p.raw);
                let again = normalize_phone(&p.raw, country);
                if again.valid
                    && !edit.remove_phones.contains(shown)
                    && !added.phones.iter().any(|a| a.e164 == again.e164)
                {
                    reread.push(shown.clone());
                    added.phones.push(again);
                }
            }
        }
        let Some(full_name) = name.filter(|_| errors.is_empty()) else {
            return Err(AppError::invalid_fields(
                Message::new("contact_invalid"),
                errors,
            ));
        };
        let fields = voronka_store::ContactFields {
            full_name,
            position,
            company,
            country,
            language,
        };
        let at = now_ms();
        let mut tx = self.store.begin().await?;
        if !added.phones.is_empty() || !added.emails.is_empty() {
            tx.enrich_contact(id, &added, at).await?;
        }
        let removed_phones: Vec<String> =
            edit.remove_phones.iter().chain(&reread).cloned().collect();
        if !removed_phones.is_empty() || !edit.remove_emails.is_empty() {
            let left = tx
                .remove_contact_details(id, &removed_phones, &edit.remove_emails)
                .await?;
            // A lead is a person one can reach: the last way is not removed.
            if left == 0 {
                return Err(AppError::invalid(
                    "remove_phones",
                    Message::new("contact_needs_a_way"),
                ));
            }
        }
        let company = tx.update_contact(id, &fields, at).await?;
        let c = &before.contact;
        // The rules may read who the person is and how to reach them: each of their leads is
        // scored by what the contact says now.
        let said = voronka_core::intake::Normalized {
            full_name: Some(fields.full_name.clone()),
            company: company.clone(),
            position: fields.position.clone(),
            country: fields.country.clone(),
            language: fields.language.clone(),
            phones: c
                .phones
                .iter()
                .filter(|p| !removed_phones.contains(p.e164.as_ref().unwrap_or(&p.raw)))
                .chain(&added.phones)
                .cloned()
                .collect(),
            emails: c
                .emails
                .iter()
                .filter(|e| !edit.remove_emails.contains(&e.normalized))
                .chain(&added.emails)
                .cloned()
                .collect(),
            ..Default::default()
        };
        let said = voronka_core::scoring::correction(&said, voronka_core::scoring::CONTACT_FIELDS);
        let leads: Vec<Id> = before.leads.iter().map(|l| l.id).collect();
        let newer = leads.iter().map(|l| (*l, said.clone())).collect();
        crate::scoring::rescore_in_tx(tx.as_mut(), &self.scorer(), &leads, &newer, at).await?;
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "contact.update".into(),
            entity: "contact".into(),
            entity_id: Some(id),
            before: Some(
                serde_json::json!({
                    "full_name": c.full_name,
                    "position": c.position,
                    "company": before.account.as_ref().map(|a| &a.name),
                    "country": c.country,
                    "language": c.language,
                })
                .to_string(),
            ),
            after: Some(
                serde_json::json!({
                    "full_name": fields.full_name,
                    "position": fields.position,
                    "company": company,
                    "country": fields.country,
                    "language": fields.language,
                    "added_phones": added.phones.iter().map(|p| &p.e164).collect::<Vec<_>>(),
                    "added_emails": added.emails.iter().map(|e| &e.normalized).collect::<Vec<_>>(),
                    "removed_phones": removed_phones,
                    "removed_emails": edit.remove_emails,
                })
                .to_string(),
            ),
            at,
        })
        .await?;
        tx.commit().await?;
        self.contact_detail(actor, id).await
    }

    /// Erases a person's personal data at their request (administrators only): what
    /// [`voronka_store::Tx::erase_contact`] names, in one transaction, with an audit entry that
    /// keeps who erased, why and how much, but nothing of the person. A contact merged into
    /// another is the same person as that one: the whole of it is erased.
    pub async fn erase_contact(
        &self,
        actor: &Actor,
        id: Id,
        reason: &str,
    ) -> Result<voronka_store::Erasure> {
        actor.require_admin()?;
        let reason = voronka_core::intake::normalize::clean_text(reason);
        if reason.is_empty() {
            return Err(AppError::invalid(
                "reason",
                Message::new("erase_reason_required"),
            ));
        }
        let at = now_ms();
        let mut tx = self.store.begin().await?;
        let erased = match tx.erase_contact(id, at).await {
            Err(voronka_store::StoreError::NotFound) => {
                return Err(AppError::NotFound(
                    Message::new("contact_not_found").with("id", id),
                ))
            }
            other => other?,
        };
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "contact.erase".into(),
            entity: "contact".into(),
            entity_id: Some(erased.contact_id),
            before: None,
            after: Some(serde_json::json!({ "reason": reason, "erased": &erased }).to_string()),
            at,
        })
        .await?;
        tx.commit().await?;
        // SQLite: the log's older frames still hold the pages as they were; copying the log
        // into the database and cutting it to nothing leaves only the erased versions. The
        // search index drops the person's text. Both are done by the next background passes
        // anyway, so a failure here only delays them.
        if let Err(e) = self.store.truncate_log().await {
            tracing::warn!(error = %e, "cutting the log back after an erasure");
        }
        if let Err(e) = self.catch_up_search_index().await {
            tracing::warn!(error = %e, "updating the search index after an erasure");
        }
        Ok(erased)
    }

    pub async fn list_contacts(
        &self,
        actor: &Actor,
        mut q: SimpleQuery,
    ) -> Result<Vec<ContactRow>> {
        actor.require_read_leads()?;
        q.visibility = actor.visibility();
        Ok(self.store.list_contacts(&q).await?)
    }

    pub async fn account_detail(
        &self,
        actor: &Actor,
        id: Id,
    ) -> Result<(Account, Vec<ContactRow>)> {
        actor.require_read_leads()?;
        let who = actor.visibility();
        self.store
            .account(id, &who)
            .await?
            // A reader who sees none of its contacts does not see the account either.
            .filter(|(_, contacts)| who == voronka_store::Visibility::All || !contacts.is_empty())
            .ok_or_else(|| AppError::NotFound(Message::new("account_not_found").with("id", id)))
    }

    /// Corrects a company's name and domain (those who work leads, on companies they see): its
    /// customers take the name and its people's leads are found by it; refused when another
    /// company goes by that name. The audit log keeps what it said.
    pub async fn edit_account(&self, actor: &Actor, id: Id, edit: &AccountEdit) -> Result<Account> {
        actor.require_write_leads()?;
        let (before, _) = self.account_detail(actor, id).await?;
        let name = voronka_core::intake::normalize::clean_text(&edit.name);
        let mut errors = Vec::new();
        if name.is_empty() {
            errors.push(crate::FieldError::new(
                "name",
                Message::new("account_name_required"),
            ));
        } else if name.chars().count() > MAX_CONTACT_TEXT {
            errors.push(crate::FieldError::new(
                "name",
                Message::new("contact_text_too_long").with("max", MAX_CONTACT_TEXT),
            ));
        }
        let domain = match edit
            .domain
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            None => None,
            Some(d) => {
                let d = d
                    .trim_start_matches("https://")
                    .trim_start_matches("http://");
                let d = d.trim_start_matches("www.").trim_end_matches('/');
                match voronka_core::intake::email::ascii_domain(d)
                    .filter(|a| a.contains('.') && !a.contains('/'))
                {
                    Some(_) => Some(d.to_lowercase()),
                    None => {
                        errors.push(crate::FieldError::new(
                            "domain",
                            Message::new("account_domain_invalid").with("given", d),
                        ));
                        None
                    }
                }
            }
        };
        if !errors.is_empty() {
            return Err(AppError::invalid_fields(
                Message::new("account_invalid"),
                errors,
            ));
        }
        let mut tx = self.store.begin().await?;
        let leads = tx.rename_account(id, &name, domain.as_deref()).await?;
        // The rules may read the company: its people's leads are scored by its name now.
        let said = voronka_core::intake::Normalized {
            company: Some(name.clone()),
            ..Default::default()
        };
        let said = voronka_core::scoring::correction(&said, &["company"]);
        let newer = leads.iter().map(|l| (*l, said.clone())).collect();
        crate::scoring::rescore_in_tx(tx.as_mut(), &self.scorer(), &leads, &newer, now_ms())
            .await?;
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "account.update".into(),
            entity: "account".into(),
            entity_id: Some(id),
            before: Some(
                serde_json::json!({ "name": before.name, "domain": before.domain }).to_string(),
            ),
            after: Some(serde_json::json!({ "name": name, "domain": domain }).to_string()),
            at: now_ms(),
        })
        .await?;
        tx.commit().await?;
        Ok(self.account_detail(actor, id).await?.0)
    }

    pub async fn list_accounts(&self, actor: &Actor, mut q: SimpleQuery) -> Result<Vec<Account>> {
        actor.require_read_leads()?;
        q.visibility = actor.visibility();
        Ok(self.store.list_accounts(&q).await?)
    }

    pub async fn customer_detail(&self, actor: &Actor, id: Id) -> Result<CustomerDetail> {
        actor.require_read_leads()?;
        let Some(d) = self.store.customer_detail(id).await? else {
            return Err(AppError::NotFound(
                match self.store.customer_merged_into(id).await? {
                    Some(into) => Message::new("customer_merged")
                        .with("id", id)
                        .with("into", into),
                    None => Message::new("customer_not_found").with("id", id),
                },
            ));
        };
        if let voronka_store::Visibility::Owner(u) = actor.visibility() {
            if !d.leads.iter().any(|l| l.owner_id == Some(u)) {
                return Err(AppError::NotFound(
                    Message::new("customer_not_found").with("id", id),
                ));
            }
        }
        Ok(d)
    }

    /// Where a customer merged into another went: its address leads there.
    pub async fn customer_merged_into(&self, actor: &Actor, id: Id) -> Result<Option<Id>> {
        actor.require_read_leads()?;
        Ok(self.store.customer_merged_into(id).await?)
    }

    /// Customers that may be the same buyer as this one (of its company, or of its name), each
    /// with its person, deals and revenue; offered to the people who merge customers.
    pub async fn customer_look_alikes(
        &self,
        actor: &Actor,
        id: Id,
    ) -> Result<Vec<(Customer, Option<voronka_store::CustomerSummary>)>> {
        if require_merge_customers(actor).is_err() {
            return Ok(Vec::new());
        }
        let list = self.store.customer_look_alikes(id, 20).await?;
        self.with_summaries(list).await
    }

    /// Merges customer `from` into `into`: its deals and converted leads move to `into`, its
    /// address leads there from now on, a later purchase of its person adds to `into`, and the
    /// audit log and `into`'s card record it. For sales managers and administrators.
    pub async fn merge_customers(
        &self,
        actor: &Actor,
        from: Id,
        into: Id,
    ) -> Result<voronka_store::CustomerMerge> {
        require_merge_customers(actor)?;
        if from == into {
            return Err(AppError::invalid(
                "into",
                Message::new("customer_merge_into_itself"),
            ));
        }
        let found: Vec<Id> = self
            .store
            .customer_summaries(&[from, into])
            .await?
            .iter()
            .map(|s| s.customer_id)
            .collect();
        for (id, field) in [(from, None), (into, Some("into"))] {
            if !found.contains(&id) {
                let m = Message::new("customer_not_found").with("id", id);
                return Err(match field {
                    // The customer to merge into is a value of the request.
                    Some(f) => AppError::invalid(f, m),
                    None => AppError::NotFound(m),
                });
            }
        }
        let at = now_ms();
        let mut tx = self.store.begin().await?;
        let merge = tx.merge_customer(from, into, &actor.name(), at).await?;
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "customer.merge".into(),
            entity: "customer".into(),
            entity_id: Some(into),
            // Without the customer's name: that may be a person's, which an erasure removes
            // from the merge's record but would not find here.
            before: Some(serde_json::json!({ "customer": from }).to_string()),
            after: Some(
                serde_json::json!({ "into": into, "deals": merge.deals, "leads": merge.leads })
                    .to_string(),
            ),
            at,
        })
        .await?;
        tx.commit().await?;
        Ok(merge)
    }

    /// Undoes a customer merge: the removed customer is back under its id with the deals and
    /// leads the merge moved; deals made since stay with the customer it went into.
    pub async fn undo_customer_merge(
        &self,
        actor: &Actor,
        merge_id: Id,
    ) -> Result<voronka_store::CustomerMerge> {
        require_merge_customers(actor)?;
        let not_found =
            || AppError::NotFound(Message::new("customer_merge_not_found").with("id", merge_id));
        let merge = self
            .store
            .customer_merge(merge_id)
            .await?
            .ok_or_else(not_found)?;
        let at = now_ms();
        let mut tx = self.store.begin().await?;
        match tx.undo_customer_merge(merge_id, &actor.name(), at).await {
            Err(voronka_store::StoreError::NotFound) => return Err(not_found()),
            other => other?,
        }
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "customer.unmerge".into(),
            entity: "customer".into(),
            entity_id: Some(merge.from_id),
            before: Some(
                serde_json::json!({ "merge": merge_id, "into": merge.into_id }).to_string(),
            ),
            after: Some(serde_json::json!({ "customer": merge.from_id }).to_string()),
            at,
        })
        .await?;
        tx.commit().await?;
        Ok(voronka_store::CustomerMerge {
            undone_at: Some(at),
            undoable: false,
            ..merge
        })
    }

    pub async fn list_customers(&self, actor: &Actor, mut q: SimpleQuery) -> Result<Vec<Customer>> {
        actor.require_read_leads()?;
        q.visibility = actor.visibility();
        Ok(self.store.list_customers(&q).await?)
    }

    /// A company's page: the company, its people the reader sees, and the customers it became,
    /// each with its person, deals and revenue.
    #[allow(clippy::type_complexity)]
    pub async fn account_page(
        &self,
        actor: &Actor,
        id: Id,
    ) -> Result<(
        Account,
        Vec<ContactRow>,
        Vec<(Customer, Option<voronka_store::CustomerSummary>)>,
    )> {
        let (account, contacts) = self.account_detail(actor, id).await?;
        let list = self.store.customers_of_account(id).await?;
        Ok((account, contacts, self.with_summaries(list).await?))
    }

    /// Each customer with its person, deals and revenue.
    async fn with_summaries(
        &self,
        list: Vec<Customer>,
    ) -> Result<Vec<(Customer, Option<voronka_store::CustomerSummary>)>> {
        let ids: Vec<Id> = list.iter().map(|c| c.id).collect();
        let mut sums: HashMap<Id, voronka_store::CustomerSummary> = self
            .store
            .customer_summaries(&ids)
            .await?
            .into_iter()
            .map(|s| (s.customer_id, s))
            .collect();
        Ok(list
            .into_iter()
            .map(|c| {
                let s = sums.remove(&c.id);
                (c, s)
            })
            .collect())
    }

    /// A page of customers, each with its person, deals and revenue.
    pub async fn list_customers_summed(
        &self,
        actor: &Actor,
        q: SimpleQuery,
    ) -> Result<Vec<(Customer, Option<voronka_store::CustomerSummary>)>> {
        let list = self.list_customers(actor, q).await?;
        self.with_summaries(list).await
    }

    pub async fn deal(&self, actor: &Actor, id: Id) -> Result<Deal> {
        actor.require_read_leads()?;
        let d = self
            .store
            .deal(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("deal_not_found").with("id", id)))?;
        // Access follows the lead the deal came from.
        self.lead_detail(actor, d.lead_id).await?;
        Ok(d)
    }

    /// Corrects a deal's title and amount (those who work leads, on deals of leads they see);
    /// the reports' revenue follows, and the audit log keeps what it said.
    pub async fn edit_deal(&self, actor: &Actor, id: Id, edit: &DealEdit) -> Result<Deal> {
        actor.require_write_leads()?;
        let before = self.deal(actor, id).await?;
        let mut errors = Vec::new();
        let title = voronka_core::intake::normalize::clean_text(&edit.title);
        if title.is_empty() {
            errors.push(crate::FieldError::new(
                "title",
                Message::new("deal_title_required"),
            ));
        } else if title.chars().count() > MAX_CONTACT_TEXT {
            errors.push(crate::FieldError::new(
                "title",
                Message::new("contact_text_too_long").with("max", MAX_CONTACT_TEXT),
            ));
        }
        let currency = crate::error::typed_currency(
            edit.currency.as_deref(),
            before.amount.currency.as_str(),
            &mut errors,
        );
        let amount = currency.and_then(|c| {
            let bounds = crate::error::AmountBounds {
                min_minor: 0,
                below: Message::new("deal_amount_negative"),
                above: Message::new("deal_amount_too_large")
                    .with("max", voronka_core::Money::MAX_MINOR),
            };
            crate::error::typed_amount("amount", &edit.amount, c, bounds, &mut errors)
        });
        let (Some(amount), true) = (amount, errors.is_empty()) else {
            return Err(AppError::invalid_fields(
                Message::new("deal_invalid"),
                errors,
            ));
        };
        let mut tx = self.store.begin().await?;
        if !tx.update_deal(id, &title, amount).await? {
            return Err(AppError::NotFound(
                Message::new("deal_not_found").with("id", id),
            ));
        }
        let after = Deal {
            title,
            amount,
            ..before.clone()
        };
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: "deal.update".into(),
            entity: "deal".into(),
            entity_id: Some(id),
            before: serde_json::to_string(&before).ok(),
            after: serde_json::to_string(&after).ok(),
            at: now_ms(),
        })
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn list_deals(&self, actor: &Actor, mut q: SimpleQuery) -> Result<Vec<Deal>> {
        actor.require_read_leads()?;
        q.visibility = actor.visibility();
        Ok(self.store.list_deals(&q).await?)
    }

    pub async fn refusal_reasons(&self) -> Result<Vec<String>> {
        Ok(self.store.refusal_reasons().await?)
    }

    pub async fn add_refusal_reason(&self, actor: &Actor, label: &str) -> Result<()> {
        actor.require_admin()?;
        let label = voronka_core::intake::normalize::clean_text(label);
        if label.is_empty() {
            return Err(AppError::invalid(
                "label",
                Message::new("refusal_reason_empty"),
            ));
        }
        self.store.add_refusal_reason(&label).await?;
        Ok(())
    }

    /// People who can own leads (for assignment pickers).
    pub async fn sellers(&self) -> Result<Vec<User>> {
        Ok(self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| {
                u.active && matches!(u.role, Role::Salesperson | Role::SalesManager | Role::Admin)
            })
            .collect())
    }

    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<User>> {
        actor.require_admin()?;
        Ok(self.store.list_users().await?)
    }

    pub async fn admin_add_user(
        &self,
        actor: &Actor,
        email: &str,
        name: &str,
        password: &str,
        role: Role,
    ) -> Result<User> {
        actor.require_admin()?;
        let u = self.add_user(email, name, password, role).await?;
        self.audit_simple(
            actor,
            "create",
            "user",
            u.id,
            &format!("{} ({})", u.email, role.as_str()),
        )
        .await?;
        Ok(u)
    }

    pub async fn admin_update_user(
        &self,
        actor: &Actor,
        id: Id,
        role: Role,
        active: bool,
    ) -> Result<()> {
        actor.require_admin()?;
        let before = self
            .store
            .user(id)
            .await?
            .ok_or_else(|| AppError::NotFound(Message::new("user_not_found").with("id", id)))?;
        if actor.user_id() == Some(id) && (!active || role != Role::Admin) {
            return Err(AppError::invalid(
                "role",
                Message::new("cannot_demote_self"),
            ));
        }
        self.store
            .update_user(id, role, active, before.team_id)
            .await?;
        self.audit_simple(
            actor,
            "update",
            "user",
            id,
            &format!("role {} active {}", role.as_str(), active),
        )
        .await?;
        Ok(())
    }

    pub async fn list_tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>> {
        actor.require_admin()?;
        Ok(self.store.list_tokens().await?)
    }

    pub async fn admin_create_token(
        &self,
        actor: &Actor,
        name: &str,
        scopes: ScopeSet,
        user_id: Option<Id>,
        ttl_days: Option<i64>,
    ) -> Result<(Id, String)> {
        actor.require_admin()?;
        // A token made for a person acts as them: their own leads, notifications and tasks.
        if let Some(u) = user_id {
            self.store
                .user(u)
                .await?
                .filter(|u| u.active)
                .ok_or_else(|| {
                    AppError::invalid("user_id", Message::new("token_user_unknown").with("id", u))
                })?;
        }
        let (id, secret) = self
            .create_token(name, scopes.clone(), user_id, ttl_days)
            .await?;
        self.audit_simple(
            actor,
            "create",
            "token",
            id,
            &format!("{name}: {}", scopes.to_text()),
        )
        .await?;
        Ok((id, secret))
    }

    pub async fn revoke_token(&self, actor: &Actor, id: Id) -> Result<()> {
        actor.require_admin()?;
        self.store.revoke_token(id, now_ms()).await?;
        self.audit_simple(actor, "revoke", "token", id, "").await?;
        Ok(())
    }

    pub async fn audit_for(&self, actor: &Actor, entity: &str, id: Id) -> Result<Vec<AuditEntry>> {
        actor.require_read_leads()?;
        Ok(self.store.audit_for(entity, id).await?)
    }

    /// The audit log, newest first, a page at a time: with `before`, the entries older than it.
    pub async fn recent_audit(
        &self,
        actor: &Actor,
        before: Option<Id>,
        limit: i64,
    ) -> Result<Vec<AuditEntry>> {
        actor.require_admin()?;
        Ok(self.store.recent_audit(before, limit).await?)
    }

    /// The audit log's entries a query asks for, newest first (administrators). At most
    /// [`MAX_AUDIT_PAGE`] a page.
    pub async fn search_audit(
        &self,
        actor: &Actor,
        q: &voronka_store::AuditQuery,
    ) -> Result<Vec<AuditEntry>> {
        actor.require_admin()?;
        let q = voronka_store::AuditQuery {
            limit: q.limit.clamp(1, MAX_AUDIT_PAGE),
            ..q.clone()
        };
        Ok(self.store.search_audit(&q).await?)
    }

    /// The audit log's entries a query asks for as CSV, newest first (administrators): at most
    /// [`MAX_AUDIT_CSV`] of them. Codes, not labels, so that the file reads the same in any
    /// language; text that would start a formula is kept as text.
    pub async fn audit_csv(&self, actor: &Actor, q: &voronka_store::AuditQuery) -> Result<Vec<u8>> {
        actor.require_admin()?;
        let io = |e: csv::Error| AppError::Io(e.to_string());
        // A byte-order mark, so that spreadsheet programs read names in any script right.
        let mut out = b"\xEF\xBB\xBF".to_vec();
        {
            let mut w = csv::Writer::from_writer(&mut out);
            w.write_record([
                "id",
                "at",
                "actor_id",
                "actor",
                "action",
                "entity",
                "entity_id",
                "before",
                "after",
            ])
            .map_err(io)?;
            let mut page = voronka_store::AuditQuery {
                limit: MAX_AUDIT_PAGE,
                ..q.clone()
            };
            let mut written = 0;
            while written < MAX_AUDIT_CSV {
                let rows = self.store.search_audit(&page).await?;
                for a in &rows {
                    let text = |v: &Option<String>| {
                        crate::transfer::spreadsheet_safe(v.as_deref().unwrap_or(""))
                    };
                    let at = chrono::DateTime::from_timestamp_millis(a.at)
                        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
                        .unwrap_or_default();
                    w.write_record([
                        a.id.to_string(),
                        at,
                        a.actor_id.map(|i| i.to_string()).unwrap_or_default(),
                        crate::transfer::spreadsheet_safe(&a.actor),
                        a.action.clone(),
                        a.entity.clone(),
                        a.entity_id.map(|i| i.to_string()).unwrap_or_default(),
                        text(&a.before),
                        text(&a.after),
                    ])
                    .map_err(io)?;
                }
                written += rows.len() as i64;
                match rows.last() {
                    Some(last) if rows.len() as i64 == page.limit => page.before = Some(last.id),
                    _ => break,
                }
            }
            w.flush().map_err(|e| AppError::Io(e.to_string()))?;
        }
        Ok(out)
    }

    /// Writes a change of a settings document to the audit log.
    pub(crate) async fn audit_setting<T: serde::Serialize>(
        &self,
        actor: &Actor,
        name: &str,
        before: &T,
        after: &T,
        at: voronka_core::Millis,
    ) -> Result<()> {
        let json = |v: &T| serde_json::to_string(v).ok();
        let mut tx = self.store.begin().await?;
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: format!("{name}.update"),
            entity: "settings".into(),
            entity_id: None,
            before: json(before),
            after: json(after),
            at,
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn audit_simple(
        &self,
        actor: &Actor,
        action: &str,
        entity: &str,
        id: Id,
        after: &str,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        tx.audit(&voronka_store::NewAudit {
            actor_id: actor.user_id(),
            actor: actor.name(),
            action: action.into(),
            entity: entity.into(),
            entity_id: Some(id),
            before: None,
            after: Some(after.to_string()),
            at: now_ms(),
        })
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Merging customers changes what a company bought: for the people who see every lead.
fn require_merge_customers(actor: &Actor) -> Result<()> {
    actor.require_write_leads()?;
    if !actor.role().assigns_leads() {
        return Err(AppError::Forbidden(Message::new(
            "merge_customers_forbidden",
        )));
    }
    Ok(())
}
