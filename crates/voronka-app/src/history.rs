//! A record's changes as its page shows them: the audit log's entries for it, newest first, each
//! with the fields it changed (what they said before and after), read from the entry's JSON; an
//! entry that changed nothing is left out.

use crate::{
    AccountEdit, Actor, App, AppError, ContactEdit, DealEdit, Message, RequestEdit, Result,
};
use serde::Serialize;
use serde_json::{Map, Value};
use voronka_core::{Deal, Id, Lead, Millis, Money};
use voronka_store::AuditEntry;

/// One field a change changed; `None` where it said nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One entry of a record's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub id: Id,
    pub at: Millis,
    pub actor: String,
    /// The audit log's action code (`contact.update`, `deal.update` …).
    pub action: String,
    pub fields: Vec<FieldChange>,
    /// Its details went with the person's data when that was erased.
    pub erased: bool,
}

/// Keys that say when, not what: a change of them alone is no change of the record.
const WHEN_KEYS: &[&str] = &["updated_at"];

/// The order in which a page lists the fields it knows; others follow by name.
const FIELD_ORDER: &[&str] = &[
    "full_name",
    "name",
    "domain",
    "title",
    "product",
    "value",
    "amount",
    "position",
    "company",
    "country",
    "language",
    "added_phones",
    "added_emails",
    "removed_phones",
    "removed_emails",
];

/// The fields whose values differ between an entry's `before` and `after` (JSON objects), those
/// of [`FIELD_ORDER`] first; what a `removed_…` list names reads as there before and gone after. Money (`{minor, currency}`) reads as an amount, a list as its items
/// joined; an empty list or text, and any other nested document, as nothing.
pub fn fields_changed(before: Option<&str>, after: Option<&str>) -> Vec<FieldChange> {
    let object = |text: Option<&str>| -> Map<String, Value> {
        match text.and_then(|t| serde_json::from_str::<Value>(t).ok()) {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        }
    };
    let (before, after) = (object(before), object(after));
    let mut keys: Vec<&String> = after
        .keys()
        .chain(before.keys().filter(|k| !after.contains_key(*k)))
        .collect();
    keys.sort_by_key(|k| {
        (
            FIELD_ORDER
                .iter()
                .position(|f| f == k)
                .unwrap_or(FIELD_ORDER.len()),
            k.as_str(),
        )
    });
    let mut out = Vec::new();
    for key in keys {
        if WHEN_KEYS.contains(&key.as_str()) {
            continue;
        }
        let mut from = before.get(key).and_then(shown);
        let mut to = after.get(key).and_then(shown);
        // What a change removed (`removed_phones`) was there before it and is not after.
        if key.starts_with("removed_") && from.is_none() {
            std::mem::swap(&mut from, &mut to);
        }
        if from != to {
            out.push(FieldChange {
                field: key.clone(),
                from,
                to,
            });
        }
    }
    out
}

/// A JSON value as a page shows it; nothing for null, an empty text or an empty list.
fn shown(v: &Value) -> Option<String> {
    let text = match v {
        Value::Null => return None,
        Value::String(s) => s.trim().to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items
            .iter()
            .filter_map(shown)
            .collect::<Vec<_>>()
            .join(", "),
        // Money reads as an amount; other documents (an erasure's counts) are the audit log's.
        Value::Object(_) => serde_json::from_value::<Money>(v.clone()).ok()?.to_string(),
    };
    (!text.is_empty()).then_some(text)
}

/// The entries, newest first, less those that changed nothing (a form saved as it was).
fn changes(entries: Vec<AuditEntry>) -> Vec<Change> {
    entries
        .into_iter()
        .rev()
        .map(|e| Change {
            fields: fields_changed(e.before.as_deref(), e.after.as_deref()),
            erased: e.before.is_none() && e.after.is_none(),
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
        })
        .filter(|c| c.erased || !c.fields.is_empty())
        .collect()
}

/// A record as its own checked read gave it: its changes need no second look at who may see it.
pub enum Seen<'a> {
    Contact(&'a voronka_store::ContactDetail),
    Account(&'a voronka_core::Account),
    Deal(&'a Deal),
    /// A lead, for the corrections of its request.
    Lead(&'a Lead),
}

impl App {
    /// The changes of a record already read, newest first. A lead's are the corrections of what
    /// it asks for (product and value estimate); its other changes have their own history
    /// (stages, owner, notes).
    pub async fn changes_of(&self, seen: Seen<'_>) -> Result<Vec<Change>> {
        let (entity, id) = match seen {
            Seen::Contact(d) => ("contact", d.contact.id),
            Seen::Account(a) => ("account", a.id),
            Seen::Deal(d) => ("deal", d.id),
            Seen::Lead(l) => {
                let mut out = changes(self.store.audit_of_action("lead", l.id, "request").await?);
                for c in &mut out {
                    c.fields.retain(|f| {
                        voronka_core::scoring::REQUEST_FIELDS.contains(&f.field.as_str())
                    });
                }
                out.retain(|c| c.erased || !c.fields.is_empty());
                return Ok(out);
            }
        };
        Ok(changes(self.store.audit_for(entity, id).await?))
    }

    /// A contact's changes, newest first, to those who see the contact.
    pub async fn contact_changes(&self, actor: &Actor, id: Id) -> Result<Vec<Change>> {
        let d = self.contact_detail(actor, id).await?;
        self.changes_of(Seen::Contact(&d)).await
    }

    /// The corrections of what a lead asks for, newest first, to those who see the lead.
    pub async fn request_changes(&self, actor: &Actor, id: Id) -> Result<Vec<Change>> {
        let d = self.lead_detail(actor, id).await?;
        self.changes_of(Seen::Lead(&d.lead)).await
    }

    /// A company's changes, newest first, to those who see the company.
    pub async fn account_changes(&self, actor: &Actor, id: Id) -> Result<Vec<Change>> {
        let (a, _) = self.account_detail(actor, id).await?;
        self.changes_of(Seen::Account(&a)).await
    }

    /// A deal's changes, newest first, to those who see the lead it came from.
    pub async fn deal_changes(&self, actor: &Actor, id: Id) -> Result<Vec<Change>> {
        let d = self.deal(actor, id).await?;
        self.changes_of(Seen::Deal(&d)).await
    }
}

/// The audit actions a record's page may restore, each by the correction it undoes.
pub const RESTORABLE: &[&str] = &["contact.update", "deal.update", "request", "account.update"];

/// A text field of an entry's document.
fn text_of(doc: &Map<String, Value>, key: &str) -> Option<String> {
    doc.get(key).and_then(Value::as_str).map(str::to_string)
}

/// A list of texts of an entry's document (nothing when it holds none).
fn texts_of(doc: &Map<String, Value>, key: &str) -> Vec<String> {
    doc.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Money of an entry's document.
fn money_of(doc: &Map<String, Value>, key: &str) -> Option<Money> {
    serde_json::from_value(doc.get(key)?.clone()).ok()
}

impl App {
    /// The entry `change` of the record, when it is a correction `action` of it: its before and
    /// after documents, and the names of the fields it changed.
    async fn correction(
        &self,
        entity: &str,
        id: Id,
        change: Id,
        action: &str,
    ) -> Result<(Map<String, Value>, Map<String, Value>, Vec<String>)> {
        let e = self
            .store
            .audit_of_action(entity, id, action)
            .await?
            .into_iter()
            .find(|e| e.id == change)
            .ok_or_else(|| {
                AppError::NotFound(Message::new("change_not_found").with("id", change))
            })?;
        let doc = |text: &Option<String>| match text.as_deref().map(serde_json::from_str) {
            Some(Ok(Value::Object(m))) => Some(m),
            _ => None,
        };
        let (Some(before), Some(after)) = (doc(&e.before), doc(&e.after)) else {
            return Err(AppError::Conflict(Message::new("change_erased")));
        };
        let fields = fields_changed(e.before.as_deref(), e.after.as_deref())
            .into_iter()
            .map(|f| f.field)
            .collect();
        Ok((before, after, fields))
    }

    /// Undoes one correction of a contact: the fields it changed read as they did before it
    /// (the others stay as they are now), the phones and emails it added go and those it removed
    /// come back; checked and recorded as any correction.
    pub async fn restore_contact_change(
        &self,
        actor: &Actor,
        id: Id,
        change: Id,
    ) -> Result<voronka_store::ContactDetail> {
        actor.require_write_leads()?;
        let now = self.contact_detail(actor, id).await?;
        let (before, after, fields) = self
            .correction("contact", id, change, "contact.update")
            .await?;
        let c = &now.contact;
        let mut edit = ContactEdit {
            name: c.full_name.clone(),
            position: c.position.clone(),
            company: now.account.as_ref().map(|a| a.name.clone()),
            country: c.country.clone(),
            language: c.language.clone(),
            remove_phones: texts_of(&after, "added_phones"),
            remove_emails: texts_of(&after, "added_emails"),
            ..Default::default()
        };
        for f in &fields {
            let old = text_of(&before, f);
            match f.as_str() {
                "full_name" => edit.name = old.unwrap_or(edit.name),
                "position" => edit.position = old,
                "company" => edit.company = old,
                "country" => edit.country = old,
                "language" => edit.language = old,
                _ => {}
            }
        }
        let phones = texts_of(&after, "removed_phones");
        let emails = texts_of(&after, "removed_emails");
        self.correct_contact(actor, id, &edit, &phones, &emails)
            .await
    }

    /// Undoes one correction of a company: the name or domain it changed reads as before it.
    pub async fn restore_account_change(
        &self,
        actor: &Actor,
        id: Id,
        change: Id,
    ) -> Result<voronka_core::Account> {
        let (now, _) = self.account_detail(actor, id).await?;
        let (before, _, fields) = self
            .correction("account", id, change, "account.update")
            .await?;
        let mut edit = AccountEdit {
            name: now.name,
            domain: now.domain,
        };
        for f in &fields {
            match f.as_str() {
                "name" => edit.name = text_of(&before, f).unwrap_or(edit.name),
                "domain" => edit.domain = text_of(&before, f),
                _ => {}
            }
        }
        self.edit_account(actor, id, &edit).await
    }

    /// Undoes one correction of a deal: the title or amount it changed reads as before it.
    pub async fn restore_deal_change(&self, actor: &Actor, id: Id, change: Id) -> Result<Deal> {
        let now = self.deal(actor, id).await?;
        let (before, _, fields) = self.correction("deal", id, change, "deal.update").await?;
        let mut title = now.title;
        let mut amount = now.amount;
        for f in &fields {
            match f.as_str() {
                "title" => title = text_of(&before, f).unwrap_or(title),
                "amount" => amount = money_of(&before, f).unwrap_or(amount),
                _ => {}
            }
        }
        let edit = DealEdit {
            title,
            amount: amount.amount_text(),
            currency: Some(amount.currency.as_str().to_string()),
        };
        self.edit_deal(actor, id, &edit).await
    }

    /// Undoes one correction of what a lead asks for: the product or value it changed reads as
    /// before it.
    pub async fn restore_request_change(&self, actor: &Actor, id: Id, change: Id) -> Result<Lead> {
        let now = self.lead_detail(actor, id).await?.lead;
        let (before, _, fields) = self.correction("lead", id, change, "request").await?;
        let mut product = now.product;
        let mut value = now.value;
        for f in &fields {
            match f.as_str() {
                "product" => product = text_of(&before, f),
                "value" => value = money_of(&before, f),
                _ => {}
            }
        }
        let edit = RequestEdit {
            product,
            value: value.map(|v| v.amount_text()),
            currency: value.map(|v| v.currency.as_str().to_string()),
        };
        self.edit_request(actor, id, &edit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(field: &str, from: Option<&str>, to: Option<&str>) -> FieldChange {
        FieldChange {
            field: field.into(),
            from: from.map(str::to_string),
            to: to.map(str::to_string),
        }
    }

    #[test]
    fn a_contacts_correction_reads_field_by_field() {
        let before = r#"{"full_name":"Иван Петроф","position":"менеджер","company":"Ромашка","country":null,"language":"ru"}"#;
        let after = r#"{"full_name":"Иван Петров","position":null,"company":"Ромашка","country":"RU","language":"ru","added_phones":["+79161234567"],"added_emails":[],"removed_phones":[],"removed_emails":["old@mail.ru"]}"#;
        assert_eq!(
            fields_changed(Some(before), Some(after)),
            vec![
                change("full_name", Some("Иван Петроф"), Some("Иван Петров")),
                change("position", Some("менеджер"), None),
                change("country", None, Some("RU")),
                change("added_phones", None, Some("+79161234567")),
                change("removed_emails", Some("old@mail.ru"), None),
            ]
        );
    }

    #[test]
    fn a_deals_amount_reads_as_money_and_the_time_of_the_change_is_no_change() {
        let before = r#"{"id":4,"title":"Склад","amount":{"minor":1500000,"currency":"RUB"},"updated_at":1}"#;
        let after = r#"{"id":4,"title":"Склад","amount":{"minor":1750050,"currency":"EUR"},"updated_at":2}"#;
        let from = Money::new(1_500_000, voronka_core::Currency::parse("RUB").unwrap());
        let to = Money::new(1_750_050, voronka_core::Currency::parse("EUR").unwrap());
        assert_eq!(
            fields_changed(Some(before), Some(after)),
            vec![change(
                "amount",
                Some(&from.to_string()),
                Some(&to.to_string())
            )]
        );
    }

    #[test]
    fn what_is_not_an_object_or_not_there_changes_nothing_it_cannot_read() {
        assert!(fields_changed(None, None).is_empty());
        assert!(fields_changed(Some("not json"), Some("[1, 2]")).is_empty());
        assert_eq!(
            fields_changed(Some(r#"{"name":"A","gone":"x"}"#), Some(r#"{"name":"A"}"#)),
            vec![change("gone", Some("x"), None)]
        );
        assert_eq!(
            fields_changed(None, Some(r#"{"reason":"asked","erased":{"leads":2}}"#)),
            vec![change("reason", None, Some("asked"))]
        );
    }
}
