//! Values passed to and returned by the store.

use serde::{Deserialize, Serialize};
use voronka_core::{
    Account, Attribution, Channel, Contact, Customer, Deal, Form, Id, Lead, Millis, Money, Note,
    Role, ScopeSet, Stage, StageChange, Temperature, Touch,
};

/// Who is asking, so that row visibility is enforced in the query itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Visibility {
    #[default]
    All,
    /// Leads owned by this user only.
    Owner(Id),
    /// Leads owned by members of this team, and unassigned ones.
    Team(Id),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadSort {
    /// New and unassigned first, then newest.
    #[default]
    Inbox,
    CreatedDesc,
    CreatedAsc,
    UpdatedDesc,
    ScoreDesc,
    /// Highest probability of conversion first; unscored leads last.
    ConversionDesc,
}

impl LeadSort {
    pub const ALL: [LeadSort; 6] = [
        LeadSort::Inbox,
        LeadSort::CreatedDesc,
        LeadSort::CreatedAsc,
        LeadSort::UpdatedDesc,
        LeadSort::ScoreDesc,
        LeadSort::ConversionDesc,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            LeadSort::Inbox => "inbox",
            LeadSort::CreatedDesc => "-created_at",
            LeadSort::CreatedAsc => "created_at",
            LeadSort::UpdatedDesc => "-updated_at",
            LeadSort::ScoreDesc => "-score",
            LeadSort::ConversionDesc => "-conversion",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        LeadSort::ALL.into_iter().find(|x| x.as_str() == s)
    }
    /// Integer sort columns, most significant first, and whether the order is descending.
    pub fn columns(self) -> (&'static [&'static str], bool) {
        match self {
            LeadSort::Inbox => (&["l.inbox_rank", "l.created_at"], true),
            LeadSort::CreatedDesc => (&["l.created_at"], true),
            LeadSort::CreatedAsc => (&["l.created_at"], false),
            LeadSort::UpdatedDesc => (&["l.updated_at"], true),
            LeadSort::ScoreDesc => (&["l.score", "l.created_at"], true),
            LeadSort::ConversionDesc => (&["l.conversion_ppm", "l.created_at"], true),
        }
    }
}

/// Position after the last row of a page: the sort values of that row and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub keys: Vec<i64>,
    pub id: Id,
}

impl Cursor {
    pub fn encode(&self) -> String {
        let mut parts: Vec<String> = self.keys.iter().map(|k| k.to_string()).collect();
        parts.push(self.id.to_string());
        parts.join("_")
    }
    pub fn decode(s: &str) -> Option<Cursor> {
        let nums: Vec<i64> = s
            .split('_')
            .map(|p| p.parse().ok())
            .collect::<Option<Vec<_>>>()?;
        let (id, keys) = nums.split_last()?;
        Some(Cursor {
            keys: keys.to_vec(),
            id: *id,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct LeadQuery {
    pub visibility: Visibility,
    pub stages: Vec<Stage>,
    pub temperature: Option<Temperature>,
    /// `Some(None)` asks for unassigned leads.
    pub owner: Option<Option<Id>>,
    pub source: Option<String>,
    pub medium: Option<String>,
    pub campaign: Option<String>,
    pub form_id: Option<Id>,
    pub contact_id: Option<Id>,
    pub created_from: Option<Millis>,
    pub created_to: Option<Millis>,
    /// Free text over name, email, phone and company.
    pub text: Option<String>,
    /// Only leads whose probability of conversion is at least this (0–1).
    pub min_conversion: Option<f64>,
    /// A cell (or a row, or a column) of the fit × activity matrix.
    pub fit_level: Option<voronka_core::scoring::FitLevel>,
    pub activity: Option<voronka_core::scoring::Activity>,
    /// Leads with this tag (its key: case-folded).
    pub tag: Option<String>,
    pub sort: LeadSort,
    pub after: Option<Cursor>,
    /// The page before this position (ignored when `after` is set); rows still come in sort order.
    pub before: Option<Cursor>,
    pub limit: i64,
}

/// How many leads a query matches: exact, or for a search whose term matches very many leads,
/// a lower bound (counting every match of such a term would cost more than showing its page).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeadTotal {
    pub n: i64,
    pub exact: bool,
}

impl LeadTotal {
    pub fn exact(n: i64) -> LeadTotal {
        LeadTotal { n, exact: true }
    }
}

/// A page of the lead list with how many leads match and, when asked, the counts of its stage
/// tabs (every filter but the stage) and whether they are exact.
#[derive(Debug, Clone, PartialEq)]
pub struct LeadPage {
    pub rows: Vec<LeadRow>,
    pub total: LeadTotal,
    pub tabs: Option<(Vec<(Stage, i64)>, bool)>,
}

/// A lead as shown in lists: the lead and the essentials of its contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadRow {
    #[serde(flatten)]
    pub lead: Lead,
    pub contact_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub owner_name: Option<String>,
    #[serde(skip)]
    pub sort_keys: Vec<i64>,
}

impl LeadRow {
    pub fn cursor(&self) -> Cursor {
        Cursor {
            keys: self.sort_keys.clone(),
            id: self.lead.id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadDetail {
    pub lead: Lead,
    pub contact: Contact,
    pub account: Option<Account>,
    pub owner: Option<UserBrief>,
    pub touches: Vec<Touch>,
    pub history: Vec<StageChange>,
    pub notes: Vec<Note>,
    pub customer: Option<Customer>,
    pub deals: Vec<Deal>,
    /// Explanations recorded by the intake pipeline.
    pub reasons: serde_json::Value,
    /// Why the lead went to whom, in words (made from `route` when the lead keeps a code).
    pub route_explanation: Option<String>,
    /// Why the lead went to whom, as its code and values (`None` for leads stored as text).
    pub route: Option<voronka_core::Notice>,
    pub other_leads: Vec<LeadBrief>,
    /// Fit, engagement and their levels as last scored.
    pub score: Option<crate::StoredScore>,
    /// The team's tags on the lead, in the order they were added.
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserBrief {
    pub id: Id,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadBrief {
    pub id: Id,
    pub product: Option<String>,
    pub stage: Stage,
    pub temperature: Temperature,
    pub owner_id: Option<Id>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactDetail {
    pub contact: Contact,
    pub account: Option<Account>,
    pub leads: Vec<LeadBrief>,
    pub customer: Option<Customer>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRow {
    pub id: Id,
    pub full_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerDetail {
    pub customer: Customer,
    pub contact: Contact,
    pub account: Option<Account>,
    pub deals: Vec<Deal>,
    pub leads: Vec<LeadBrief>,
    /// Every touch of every lead of this customer, newest first.
    pub timeline: Vec<Touch>,
    pub history: Vec<StageChange>,
    /// The other people whose leads became this customer's deals (a company's), by id.
    #[serde(default)]
    pub people: Vec<(Id, String)>,
    /// The customers merged into this one, latest first.
    #[serde(default)]
    pub merged_from: Vec<CustomerMerge>,
}

/// Inbox filters saved under a name: the inbox's query string (`stage=new&source=google`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedView {
    pub id: Id,
    pub user_id: Id,
    /// The name of the person who saved it.
    pub owner_name: String,
    pub name: String,
    pub query: String,
    /// Shown to the whole team.
    pub shared: bool,
    pub created_at: Millis,
}

/// What an erasure of a person's data reached.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Erasure {
    /// The person's contact: the one the contact asked for was merged into, if it was.
    pub contact_id: Id,
    /// The person's contact and those merged into it.
    pub contacts: i64,
    pub leads: i64,
    pub touches: i64,
    pub notes: i64,
    pub events: i64,
    pub emails: i64,
}

/// A customer merged into another: what moved, who did it, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerMerge {
    pub id: Id,
    pub from_id: Id,
    pub into_id: Id,
    pub from_name: String,
    /// Deals and converted leads moved.
    pub deals: i64,
    pub leads: i64,
    pub actor: String,
    pub at: Millis,
    /// When it was undone (the removed customer is back).
    #[serde(default)]
    pub undone_at: Option<Millis>,
    /// It recorded what it moved and is not undone: it can be undone.
    #[serde(default)]
    pub undoable: bool,
}

/// What the customers list shows beside a customer's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub customer_id: Id,
    /// The customer's person (a customer named after a company has a person too).
    pub contact_name: String,
    pub deals: i64,
    /// The deals' amounts added up, one sum per currency, the currency of most deals first.
    pub revenue: Vec<Money>,
    pub last_deal_at: Option<Millis>,
}

/// Offset pagination for the smaller lists.
#[derive(Debug, Clone, Default)]
pub struct SimpleQuery {
    pub text: Option<String>,
    pub visibility: Visibility,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InterestCounts {
    pub interests: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone)]
pub struct NewForm {
    pub public_key: String,
    pub name: String,
    pub redirect_url: Option<String>,
    pub allowed_origins: Vec<String>,
    pub default_region: String,
    pub product: Option<String>,
    pub honeypot_field: String,
    pub min_fill_ms: i64,
    pub created_at: Millis,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormStats {
    pub form: Form,
    pub leads: i64,
    pub interests: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: Role,
    pub team_id: Option<Id>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub token_hash: String,
    pub scopes: ScopeSet,
    pub user_id: Option<Id>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiToken {
    pub id: Id,
    pub name: String,
    pub scopes: ScopeSet,
    pub user_id: Option<Id>,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
    pub revoked_at: Option<Millis>,
    pub last_used_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub token_hash: String,
    pub user_id: Id,
    pub csrf: String,
    pub created_at: Millis,
    pub expires_at: Millis,
    /// The browser it signed in from, as it named itself.
    pub user_agent: Option<String>,
    /// When it was last used (updated at most every few minutes).
    pub last_seen_at: Option<Millis>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: Id,
    pub actor_id: Option<Id>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<Id>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: Millis,
}

/// Which entries of the audit log to read: each filter given narrows it; newest first, a page of
/// `limit` at a time (with `before`, the entries older than that id).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Done by this person (or a token acting as them).
    pub actor_id: Option<Id>,
    /// On this kind of record: lead, contact, account, customer, deal, user, token, form, tag,
    /// spend, settings.
    pub entity: Option<String>,
    /// This action's code.
    pub action: Option<String>,
    /// At or after this time.
    pub from: Option<Millis>,
    /// Before this time.
    pub to: Option<Millis>,
    pub before: Option<Id>,
    pub limit: i64,
}

/// What a salesperson corrects in a contact's own fields (phones and emails are added apart).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ContactFields {
    pub full_name: String,
    pub position: Option<String>,
    /// The company, by name: the account of that name (made if there is none).
    pub company: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: Option<String>,
    /// ISO 639-1.
    pub language: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewAudit {
    pub actor_id: Option<Id>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<Id>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: Id,
    pub kind: String,
    pub payload: String,
    pub run_at: Millis,
    pub attempts: i64,
}

#[derive(Debug, Clone)]
pub struct NewLead {
    pub contact_id: Id,
    pub product: Option<String>,
    pub message: Option<String>,
    pub value: Option<Money>,
    pub stage: Stage,
    /// Why the lead is junk when it is stored in stage junk: a person's words ...
    pub junk_reason: Option<String>,
    /// ... or the intake's reason, kept as its code and values (`Reason::stored_json` of it).
    pub junk_stored: Option<String>,
    pub temperature: Temperature,
    pub score: i64,
    pub owner_id: Option<Id>,
    pub form_id: Option<Id>,
    pub attribution: Attribution,
    pub reasons: String,
    /// The routing decision's code and values (stored as such; its text is made when read).
    pub route: Option<voronka_core::Notice>,
    pub search_text: String,
    /// `request` or `callback`.
    pub kind: String,
    pub created_at: Millis,
    /// The score's parts and the profile it was computed from (JSON).
    pub fit: i64,
    pub engagement: i64,
    pub fit_level: voronka_core::scoring::FitLevel,
    pub activity: voronka_core::scoring::Activity,
    pub profile: String,
    /// The temperature was given (by the submitter or a person), not computed: rescoring keeps it.
    pub temperature_manual: bool,
    /// When the first response is due under the SLA, for a routed lead.
    pub sla_due_at: Option<Millis>,
    /// The conversion model's probability at intake, when a model was trained.
    pub conversion: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct NewTouch {
    pub lead_id: Id,
    pub channel: Channel,
    pub form_id: Option<Id>,
    pub attribution: Attribution,
    pub partner: Option<String>,
    pub visitor_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub message: Option<String>,
    pub raw: String,
    pub reasons: String,
    /// ok, flag or junk: what the pseudo-lead rules said of this submission.
    pub verdict: String,
    pub created_at: Millis,
    /// Quiz answers, JSON.
    pub answers: String,
    pub consent_text: Option<String>,
    pub variant: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewInterest {
    pub channel: Channel,
    pub form_id: Option<Id>,
    pub rejected: bool,
    pub visitor_id: Option<String>,
    pub attribution: Attribution,
    pub ip: Option<String>,
    pub reasons: String,
    pub raw: String,
    pub partner: Option<String>,
    pub created_at: Millis,
}

#[derive(Debug, Clone)]
pub struct NewStageChange {
    pub lead_id: Id,
    pub from: Option<Stage>,
    pub to: Stage,
    pub actor_id: Option<Id>,
    pub actor: String,
    /// A person's own reason; a move the system made keeps `code` instead.
    pub reason: Option<String>,
    /// A system move's code and the values its text names ([`voronka_core::SystemMove`]).
    pub code: Option<(&'static str, voronka_core::intake::text::Args)>,
    pub comment: Option<String>,
    pub at: Millis,
}

impl NewStageChange {
    /// An entry for a move the system made: its reason is kept as a code and values.
    pub fn system(
        lead_id: Id,
        from: Option<Stage>,
        to: Stage,
        actor_id: Option<Id>,
        actor: &str,
        why: &voronka_core::SystemMove<'_>,
        at: Millis,
    ) -> Self {
        NewStageChange {
            lead_id,
            from,
            to,
            actor_id,
            actor: actor.to_string(),
            reason: None,
            code: Some(why.coded()),
            comment: None,
            at,
        }
    }

    /// The code and its values as stored: the code, and the values as a JSON object (or none).
    pub(crate) fn stored_code(&self) -> (Option<&'static str>, Option<String>) {
        match &self.code {
            Some((code, args)) if args.is_empty() => (Some(code), None),
            Some((code, args)) => (Some(code), serde_json::to_string(args).ok()),
            None => (None, None),
        }
    }
}

#[derive(Debug, Clone)]
pub struct NewDeal {
    pub customer_id: Id,
    pub lead_id: Id,
    pub title: String,
    pub amount: Money,
    pub created_at: Millis,
}

/// What a scrub-rate report is grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScrubBy {
    Form,
    Source,
    Campaign,
    Partner,
}

impl ScrubBy {
    pub fn parse(s: &str) -> Option<ScrubBy> {
        match s {
            "form" => Some(ScrubBy::Form),
            "source" => Some(ScrubBy::Source),
            "campaign" => Some(ScrubBy::Campaign),
            "partner" => Some(ScrubBy::Partner),
            _ => None,
        }
    }
}

/// Submissions of one form, source, campaign or partner and how many of them were scrubbed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScrubRow {
    /// The form id, source, campaign or partner; `None` for submissions without one.
    pub key: Option<String>,
    pub submissions: i64,
    pub rejected: i64,
    pub junk: i64,
    pub flagged: i64,
    pub interests: i64,
    /// (rejected + junk) / submissions.
    pub scrub_rate: f64,
}

/// A pair of leads the matcher was unsure of, or that someone reviewed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DuplicatePair {
    pub id: Id,
    pub lead_id: Id,
    pub other_lead_id: Id,
    pub probability: f64,
    /// The matcher's explanation (JSON).
    pub explanation: serde_json::Value,
    /// open, merged or not_duplicate.
    pub status: String,
    pub created_at: Millis,
    pub resolved_at: Option<Millis>,
    pub resolved_by: Option<String>,
}

/// [`crate::Tx::stored_reasons`]: each touch's and interest's reasons (a JSON list), by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredReasons {
    pub touches: std::collections::HashMap<Id, String>,
    pub interests: std::collections::HashMap<Id, String>,
}

#[derive(Debug, Clone)]
pub struct NewDuplicatePair {
    pub lead_id: Id,
    pub other_lead_id: Id,
    /// The matcher's verdict: its probability, and its explanation, stored in the compact form
    /// ([`voronka_core::linkage::Comparison::to_compact`]).
    pub comparison: voronka_core::linkage::Comparison,
    pub at: Millis,
}

/// Fields of a survivor lead and its contact before a merge changed them.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MergeSnapshot {
    pub survivor_lead: Id,
    pub merged_lead: Id,
    pub survivor_contact: Id,
    pub merged_contact: Id,
    pub lead_before: serde_json::Value,
    pub contact_before: Option<serde_json::Value>,
    pub moved_touches: Vec<Id>,
    pub moved_notes: Vec<Id>,
    pub moved_stage_changes: Vec<Id>,
    pub moved_deals: Vec<Id>,
    pub moved_leads: Vec<Id>,
    pub added_phones: Vec<String>,
    pub added_emails: Vec<String>,
    pub added_socials: Vec<String>,
    pub moved_customer: Option<Id>,
    /// Only the contacts were merged: the merged lead stayed a lead of its own.
    #[serde(default)]
    pub lead_kept: bool,
    /// Behaviour events of the merged lead, now the survivor's.
    #[serde(default)]
    pub moved_events: Vec<Id>,
    /// The keys of the tags the survivor was given (the merged lead keeps its own).
    #[serde(default)]
    pub added_tags: Vec<String>,
}

/// One merge as recorded, with what undoing it needs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MergeRecord {
    pub id: Id,
    pub survivor_lead_id: Id,
    pub merged_lead_id: Id,
    pub actor: String,
    pub at: Millis,
    pub undone_at: Option<Millis>,
    #[serde(skip)]
    pub snapshot: String,
}

/// Fields a merge takes from the merged lead (and its contact) instead of the survivor's.
pub const MERGE_FIELDS: &[&str] = &[
    "name",
    "position",
    "country",
    "language",
    "account",
    "product",
    "message",
    "value",
    "temperature",
    "owner",
];

/// The fields of `MERGE_FIELDS` that belong to the lead rather than the contact.
pub const LEAD_MERGE_FIELDS: &[&str] = &["product", "message", "value", "temperature", "owner"];

/// A widget event: `view` (rendered), `submit` (accepted) or `download` (lead magnet taken).
#[derive(Debug, Clone)]
pub struct NewFormEvent {
    pub form_id: Id,
    /// Empty for a form without variants.
    pub variant: String,
    pub kind: String,
    pub visitor_id: Option<String>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormEventCount {
    pub variant: String,
    pub kind: String,
    pub count: i64,
}

/// A contact whose block key holds a digit, with what the key is made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyedContact {
    pub id: Id,
    pub full_name: String,
    /// The name of its account.
    pub company: Option<String>,
    /// Its emails, normalized.
    pub emails: Vec<String>,
    /// `contacts.name_key` as stored.
    pub block_key: String,
}

/// A contact as the batch deduplication compares it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DedupContact {
    pub id: Id,
    pub full_name: String,
    pub company: Option<String>,
    /// Valid E.164 numbers.
    pub phones: Vec<String>,
    /// Email match keys.
    pub email_keys: Vec<String>,
    /// Social profile match keys.
    pub socials: Vec<String>,
    /// Name with company or company mail domain (`contacts.name_key`).
    pub block_key: Option<String>,
    pub created_at: Millis,
}

/// A trained conversion model as stored: its headline figures and the model as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredModel {
    pub id: Id,
    pub format: i64,
    pub trained_at: Millis,
    pub training_size: i64,
    pub auc: f64,
    pub baseline_auc: f64,
    pub model: String,
}

/// Probability of conversion as stored on a lead: parts per million, -1 when not scored.
pub fn probability_to_ppm(p: f64) -> i64 {
    (p.clamp(0.0, 1.0) * 1_000_000.0).round() as i64
}

pub fn probability_from_ppm(ppm: i64) -> Option<f64> {
    (ppm >= 0).then(|| ppm as f64 / 1_000_000.0)
}

/// One slice the search index took in (`Store::index_search`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SearchSlice {
    /// Leads added to the index.
    pub added: u64,
    /// How long the slice held the search index's write lock (zero when it took none); the
    /// database's own lock it never takes.
    pub held: std::time::Duration,
}
