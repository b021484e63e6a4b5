//! Persistence for Voronka: one [`Store`] trait with an embedded SQLite backend (the default)
//! and a PostgreSQL backend for production. Both pass the same conformance suite.

mod channels;
mod routing;
mod scoring;
mod signin;
mod tags;
mod types;

pub mod postgres;
pub mod sqlite;

pub use channels::*;
pub use routing::*;
pub use scoring::*;
pub use signin::*;
pub use tags::*;
pub use types::*;

use async_trait::async_trait;
use std::sync::Arc;
use voronka_core::intake::{Candidate, Normalized};
use voronka_core::{
    Account, Customer, Deal, Form, Id, Lead, Millis, Money, Role, ScopeSet, Stage, Temperature,
    User,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0:?}")]
    Conflict(Conflict),
    #[error("unsupported database URL {0:?}: use sqlite://FILE or postgres://…")]
    BadUrl(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("storage I/O failed: {0}")]
    Io(String),
}

/// Why a change was refused by what is stored; the faces word it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// A unique value is taken already.
    Taken(Unique),
    /// A lead merged into itself.
    MergeIntoItself,
    /// One of the two leads was merged already.
    AlreadyMerged,
    /// The two leads belong to one contact already.
    SameContact,
    /// Both contacts are customers already.
    BothCustomers,
    /// The surviving lead of a merge was merged again since.
    SurvivorMergedAgain,
    /// The customer a merge went into was merged into another since.
    CustomerSurvivorMergedAgain,
    /// The merge was undone already.
    MergeUndone,
    /// The merge was made before merges recorded what they moved.
    MergeNotRecorded,
    /// The person of the removed customer has become a customer again since.
    PersonCustomerAgain,
    /// The contact was merged into another, which is the person now.
    ContactMergedAway,
}

/// The unique values a change may find taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    UserEmail,
    FormKey,
    LandingSlug,
    TeamName,
    Token,
    TrackingSite,
    /// A company's name, in any legal form.
    AccountName,
}

impl StoreError {
    /// Unique-constraint violations become conflicts so callers can answer 409.
    pub(crate) fn from_db(e: sqlx::Error, what: Unique) -> StoreError {
        if let sqlx::Error::Database(d) = &e {
            if d.is_unique_violation() {
                return StoreError::Conflict(Conflict::Taken(what));
            }
        }
        StoreError::Db(e)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// The prefix of identical-payload capture keys: they matter for seconds and are purged
/// ([`Store::purge_payload_keys`]), unlike clients' idempotency keys and imported rows' keys.
pub const PAYLOAD_KEY_PREFIX: &str = "payload:";

/// The statement that purges identical-payload keys stored before `$1`. The prefix is written
/// into it, not bound: it is then word for word the predicate of the partial index
/// `capture_keys_payload` (migration 0019), which is how either planner knows it may read that
/// index alone instead of every capture key.
pub fn purge_payload_keys_sql() -> String {
    format!("DELETE FROM capture_keys WHERE key LIKE '{PAYLOAD_KEY_PREFIX}%' AND created_at < $1")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend's name in the API: `sqlite`, `postgres`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The backend's name as people write it: SQLite, PostgreSQL.
    pub fn display_name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// The most contacts one block key brings to the intake's matcher as candidates
/// ([`Tx::candidates_many`]): those with the highest ids, the latest.
pub const BLOCK_CANDIDATES: usize = 20;

/// How much memory an embedded (SQLite) database may hold of its own pages, per process.
/// PostgreSQL keeps its pages in the server and ignores this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    /// Page cache of each connection, in MiB.
    pub page_cache_mib: u32,
    /// Reads through a memory map of the file up to this size, in MiB (0: read calls). Mapped
    /// pages count in the process's resident memory.
    pub mmap_mib: u32,
}

impl Default for MemoryBudget {
    /// A server: large caches, the database read through a memory map of up to 2 GiB.
    fn default() -> Self {
        MemoryBudget {
            page_cache_mib: 64,
            mmap_mib: 2047,
        }
    }
}

impl MemoryBudget {
    /// A bulk job (import): small caches and no memory map, so that its resident memory stays
    /// low however large the database grows.
    pub fn lean() -> Self {
        MemoryBudget {
            page_cache_mib: 16,
            mmap_mib: 0,
        }
    }
}

/// Opens the database named by the URL (`sqlite://FILE`, `sqlite::memory:`, `postgres://…`).
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    connect_with(url, MemoryBudget::default()).await
}

/// [`connect`] within a memory budget.
pub async fn connect_with(url: &str, memory: MemoryBudget) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqlStore::connect(url, memory).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::SqlStore::connect(url).await?))
    } else {
        Err(StoreError::BadUrl(url.to_string()))
    }
}

/// Domain-level storage operations. Writes that belong together go through a [`Tx`].
#[async_trait]
pub trait Store:
    RoutingStore + ScoreStore + ChannelStore + SignInStore + TagStore + Send + Sync + 'static
{
    fn backend(&self) -> Backend;
    async fn migrate(&self) -> Result<()>;
    /// Refreshes the query planner's statistics (after bulk loads).
    async fn optimize(&self) -> Result<()>;
    /// SQLite: copies the write-ahead log into the database and has the next write restart it
    /// (the file is reused, not cut back: a log grown anew from nothing syncs slower), waiting
    /// for the readers of the moment; returns whether it completed. PostgreSQL: nothing to do.
    async fn checkpoint_log(&self) -> Result<bool>;
    /// SQLite: copies the write-ahead log into the database and cuts the log's file to nothing,
    /// for the end of a one-off load (the demo) whose log would otherwise keep its size.
    /// PostgreSQL: nothing to do.
    async fn truncate_log(&self) -> Result<()>;
    /// SQLite: takes in up to `limit` indexed leads whose text changed or that were deleted, and
    /// adds up to `limit` of the leads the trigram search index does not hold yet to it, in one
    /// transaction, and tells how many it added (0 when it is current) and how long it held the
    /// index's write lock (SQLite keeps the index in a file of its own). Searches read the leads
    /// above the index's mark directly, so they never miss one. PostgreSQL keeps its index in
    /// every transaction: always none added.
    async fn index_search(&self, limit: i64) -> Result<SearchSlice>;
    async fn begin(&self) -> Result<Box<dyn Tx>>;
    /// A write transaction whose commit may return before it is durable (SQLite: the
    /// write-ahead log is not synced). Whoever acknowledges its writes calls [`Store::sync_log`]
    /// after the commit and before the acknowledgement. PostgreSQL commits durably as usual.
    async fn begin_deferred_sync(&self) -> Result<Box<dyn Tx>>;
    /// Makes every transaction committed so far durable (SQLite: syncs the write-ahead log; a
    /// no-op where commits are durable already).
    async fn sync_log(&self) -> Result<()>;
    /// [`Tx::candidates_many`] read from a snapshot of its own, outside any write transaction,
    /// so that the intake can read the next batch's candidates while it writes the current one
    /// (see [`Tx::intake_generation`] for when such a read is still current).
    async fn candidates_ahead(&self, subs: &[&Normalized]) -> Result<Vec<Candidate>>;

    // Leads and their surroundings.
    async fn lead(&self, id: Id) -> Result<Option<Lead>>;
    async fn lead_detail(&self, id: Id) -> Result<Option<LeadDetail>>;
    async fn list_leads(&self, q: &LeadQuery) -> Result<Vec<LeadRow>>;
    /// Tuning of the lead list's search: above `breadth` matches (default 10,000) a search is
    /// broad (its page walks the list's order for at most `walk` rows, default 10,000, before
    /// the index drives; its count stops at `breadth`).
    fn set_search_limits(&self, breadth: i64, walk: i64);
    /// A page of leads and how many match: exact, except for a search that matches very many
    /// leads, which is counted up to a bound; with `tabs`, the stage tabs' counts too. The search
    /// index is asked once for all of them.
    async fn list_leads_page(&self, q: &LeadQuery, tabs: bool) -> Result<LeadPage>;
    /// Exact count of the leads a query matches.
    async fn count_leads(&self, q: &LeadQuery) -> Result<i64>;
    async fn contact_detail(&self, id: Id) -> Result<Option<ContactDetail>>;
    async fn list_contacts(&self, q: &SimpleQuery) -> Result<Vec<ContactRow>>;
    /// An account and those of its contacts `who` may see.
    async fn account(&self, id: Id, who: &Visibility)
        -> Result<Option<(Account, Vec<ContactRow>)>>;
    async fn list_accounts(&self, q: &SimpleQuery) -> Result<Vec<Account>>;
    async fn customer_detail(&self, id: Id) -> Result<Option<CustomerDetail>>;
    async fn list_customers(&self, q: &SimpleQuery) -> Result<Vec<Customer>>;
    /// The customers of a company (one, unless made before companies bought as one).
    async fn customers_of_account(&self, account_id: Id) -> Result<Vec<Customer>>;
    /// The person, deals and revenue of each of these customers that exists, in no order.
    async fn customer_summaries(&self, ids: &[Id]) -> Result<Vec<CustomerSummary>>;
    /// Where a customer merged into another went (its latest home, however many merges since).
    async fn customer_merged_into(&self, id: Id) -> Result<Option<Id>>;
    /// One customer merge, undone or not.
    async fn customer_merge(&self, id: Id) -> Result<Option<CustomerMerge>>;
    /// Other customers that may be the same buyer: of the same company, or of the same name.
    async fn customer_look_alikes(&self, id: Id, limit: i64) -> Result<Vec<Customer>>;
    async fn deal(&self, id: Id) -> Result<Option<Deal>>;
    async fn list_deals(&self, q: &SimpleQuery) -> Result<Vec<Deal>>;
    async fn count_interests(&self, since: Millis) -> Result<InterestCounts>;
    /// Leads per stage, and whether the counts are exact (see [`Store::list_leads_page`]).
    async fn stage_counts(&self, q: &LeadQuery) -> Result<(Vec<(Stage, i64)>, bool)>;

    // Forms.
    async fn create_form(&self, f: &NewForm) -> Result<Form>;
    async fn update_form(&self, f: &Form) -> Result<()>;
    async fn form(&self, id: Id) -> Result<Option<Form>>;
    async fn form_by_key(&self, key: &str) -> Result<Option<Form>>;
    async fn list_forms(&self) -> Result<Vec<FormStats>>;
    /// Stores a form's definition and its landing page address (unique; `Conflict` when taken).
    async fn set_form_definition(&self, id: Id, slug: Option<&str>, definition: &str)
        -> Result<()>;
    async fn form_by_slug(&self, slug: &str) -> Result<Option<Form>>;
    async fn add_form_event(&self, e: &NewFormEvent) -> Result<()>;
    /// Events of a form counted per variant and kind.
    async fn form_event_counts(&self, form_id: Id) -> Result<Vec<FormEventCount>>;

    // People and access.
    async fn create_user(&self, u: &NewUser) -> Result<User>;
    async fn user(&self, id: Id) -> Result<Option<User>>;
    async fn user_with_hash(&self, email: &str) -> Result<Option<(User, String)>>;
    async fn list_users(&self) -> Result<Vec<User>>;
    async fn update_user(
        &self,
        id: Id,
        role: Role,
        active: bool,
        team_id: Option<Id>,
    ) -> Result<()>;
    async fn count_users(&self) -> Result<i64>;
    async fn create_team(&self, name: &str) -> Result<Id>;
    async fn list_teams(&self) -> Result<Vec<(Id, String)>>;

    async fn create_token(&self, t: &NewToken) -> Result<Id>;
    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>>;
    /// The views a person sees: their own and those shared with the team, shared ones first,
    /// each group by name.
    async fn saved_views(&self, user_id: Id) -> Result<Vec<SavedView>>;
    async fn saved_view(&self, id: Id) -> Result<Option<SavedView>>;
    async fn add_saved_view(
        &self,
        user_id: Id,
        name: &str,
        query: &str,
        shared: bool,
        at: Millis,
    ) -> Result<Id>;
    async fn delete_saved_view(&self, id: Id) -> Result<()>;
    async fn list_tokens(&self) -> Result<Vec<ApiToken>>;
    async fn revoke_token(&self, id: Id, at: Millis) -> Result<()>;
    async fn mark_token_used(&self, id: Id, at: Millis) -> Result<()>;

    async fn create_session(&self, s: &Session) -> Result<()>;
    async fn session(&self, token_hash: &str) -> Result<Option<Session>>;
    async fn delete_session(&self, token_hash: &str) -> Result<()>;

    /// Contacts not merged away, in id order after `after`, for batch deduplication.
    async fn contacts_for_dedup(&self, after: Id, limit: i64) -> Result<Vec<DedupContact>>;
    /// Contacts (merged ones too) whose block key holds a digit, in id order after `after`.
    async fn contacts_with_digit_keys(&self, after: Id, limit: i64) -> Result<Vec<KeyedContact>>;
    /// Replaces these contacts' block keys.
    async fn set_block_keys(&self, keys: &[(Id, String)]) -> Result<()>;
    /// The lead a merged lead now lives in (itself when it was never merged).
    async fn resolve_lead(&self, id: Id) -> Result<Option<Id>>;
    async fn duplicate_pairs(&self, status: &str, limit: i64) -> Result<Vec<DuplicatePair>>;
    async fn duplicate_pair(&self, id: Id) -> Result<Option<DuplicatePair>>;
    async fn merges_for(&self, lead_id: Id) -> Result<Vec<MergeRecord>>;
    async fn merge_record(&self, id: Id) -> Result<Option<MergeRecord>>;

    /// A stored rules document (JSON) by name.
    async fn setting(&self, name: &str) -> Result<Option<String>>;
    async fn put_setting(&self, name: &str, value: &str, at: Millis) -> Result<()>;
    /// Scrub rate of submissions since `since`, grouped by form, source, campaign or partner.
    async fn scrub_report(&self, by: ScrubBy, since: Millis) -> Result<Vec<ScrubRow>>;

    async fn refusal_reasons(&self) -> Result<Vec<String>>;
    async fn add_refusal_reason(&self, label: &str) -> Result<()>;
    async fn audit_for(&self, entity: &str, id: Id) -> Result<Vec<AuditEntry>>;
    /// A record's audit entries of one action, oldest first.
    async fn audit_of_action(&self, entity: &str, id: Id, action: &str) -> Result<Vec<AuditEntry>>;
    /// The latest entries of the audit log, newest first; with `before`, those older than it.
    async fn recent_audit(&self, before: Option<Id>, limit: i64) -> Result<Vec<AuditEntry>>;
    /// The entries of the audit log a query asks for, newest first.
    async fn search_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>>;

    // Jobs: claimed so that several processes never run the same one twice.
    async fn claim_jobs(
        &self,
        worker: &str,
        now: Millis,
        lease_ms: Millis,
        limit: i64,
    ) -> Result<Vec<Job>>;
    async fn finish_job(&self, id: Id, now: Millis) -> Result<()>;
    async fn fail_job(&self, id: Id, error: &str, retry_at: Millis) -> Result<()>;
    async fn pending_jobs(&self) -> Result<i64>;
    /// SQLite: leads the search index has not taken in yet (new ones, and indexed ones whose
    /// text changed); searches read them directly meanwhile. PostgreSQL: always 0.
    async fn search_backlog(&self) -> Result<i64>;
    /// Reads one small table: whether the database answers.
    async fn ping(&self) -> Result<()>;
    /// Forgets identical-payload capture keys (those starting with [`PAYLOAD_KEY_PREFIX`])
    /// stored before `before`; returns how many.
    async fn purge_payload_keys(&self, before: Millis) -> Result<u64>;
    /// Whether a job of this kind, other than `except`, is waiting to run.
    async fn has_pending_job(&self, kind: &str, except: Option<Id>) -> Result<bool>;

    // Predictive conversion score.
    /// Every closed lead (converted = won, refused = lost; junk and merged leads left out) with its features.
    async fn closed_lead_features(&self) -> Result<Vec<voronka_core::predict::Example>>;
    /// Every open lead's features.
    async fn open_lead_features(&self) -> Result<Vec<(Id, voronka_core::predict::LeadFeatures)>>;
    /// These leads' features (those that exist and are not merged away).
    async fn lead_features(
        &self,
        ids: &[Id],
    ) -> Result<Vec<(Id, voronka_core::predict::LeadFeatures)>>;
    async fn save_conversion_model(&self, m: &StoredModel) -> Result<Id>;
    /// The newest model.
    async fn current_conversion_model(&self) -> Result<Option<StoredModel>>;
    async fn current_conversion_model_id(&self) -> Result<Option<Id>>;
    /// Stores probabilities of conversion (lead, probability) in one transaction.
    async fn set_conversion_probabilities(&self, rows: &[(Id, f64)]) -> Result<()>;
    /// Of these leads (every lead with `None`), those the stored probability of conversion can
    /// move now: new leads rated at least `mql`, MQL leads at least `sql` (in millionths; no
    /// threshold, no lead).
    async fn leads_qualifying_by_conversion(
        &self,
        ids: Option<&[Id]>,
        mql: Option<i64>,
        sql: Option<i64>,
    ) -> Result<Vec<Id>>;
}

/// One transaction. Dropping it without `commit` rolls back, but only when its connection is next
/// used or returned to the pool: until then its locks stay (on PostgreSQL, rows it locked are
/// skipped by `SKIP LOCKED` claims meanwhile). `rollback` ends it at once.
#[async_trait]
pub trait Tx: RoutingTx + ScoreTx + ChannelTx + SignInTx + TagTx + Send {
    async fn commit(self: Box<Self>) -> Result<()>;
    async fn rollback(self: Box<Self>) -> Result<()>;
    /// Serializes intake transactions across processes, so that two processes never both create
    /// the same person (PostgreSQL: a transaction-level advisory lock; SQLite's writer lock already does).
    async fn lock_intake(&mut self) -> Result<()>;
    /// Where the database's history stands, read in an intake transaction: the commits of every
    /// other connection, and those of the intake's own connection, as two counters. Between two
    /// intake transactions with readings (a, b) and (a, b + 1), the only commit was the first of
    /// them. `None` where commits cannot be followed this way (PostgreSQL, shared by processes;
    /// SQLite in memory).
    async fn intake_generation(&mut self) -> Result<Option<(i64, u64)>>;
    async fn savepoint(&mut self) -> Result<()>;
    async fn rollback_to_savepoint(&mut self) -> Result<()>;
    async fn release_savepoint(&mut self) -> Result<()>;

    async fn enrich_contact(&mut self, id: Id, n: &Normalized, at: Millis) -> Result<()>;
    /// Sets a contact's own fields as corrected by hand (its company through the account of that
    /// name), its blocking key, the name of a customer named after it, and the search text of
    /// each of its leads from what it holds now; a conflict when it was merged into another.
    /// Answers the name of the company as its account is named (an account of the same name in
    /// another legal form, "ACME Ltd" for "ACME", is the same company).
    /// Renames a company and sets its domain: the customers named after it take the name, and
    /// its people's blocking keys and their leads' search text follow; a conflict when another
    /// company goes by that name (in any legal form), not found when there is none of `id`.
    /// Answers the leads of its people, whose scoring profiles name the company.
    async fn rename_account(&mut self, id: Id, name: &str, domain: Option<&str>)
        -> Result<Vec<Id>>;
    async fn update_contact(
        &mut self,
        id: Id,
        c: &ContactFields,
        at: Millis,
    ) -> Result<Option<String>>;
    /// Removes phones (by E.164, or as typed when it has none) and emails (normalized) from a
    /// contact; answers how many ways to reach it (phones, emails, profiles) are left.
    async fn remove_contact_details(
        &mut self,
        id: Id,
        phones: &[String],
        emails: &[String],
    ) -> Result<i64>;
    /// Sets what a lead asks for (its product) and what it may be worth, and its search text.
    async fn set_request(
        &mut self,
        id: Id,
        product: Option<&str>,
        value: Option<Money>,
        at: Millis,
    ) -> Result<()>;

    async fn lead_for_update(&mut self, id: Id) -> Result<Option<Lead>>;
    async fn set_stage(&mut self, id: Id, s: &StageUpdate, at: Millis) -> Result<()>;
    /// Moves many leads to a new stage each (the automatic moves of scoring), in a few
    /// statements.
    async fn set_stages(&mut self, rows: &[(Id, Stage)], at: Millis) -> Result<()>;
    async fn add_stage_change(&mut self, c: &NewStageChange) -> Result<Id>;
    async fn set_owner(&mut self, id: Id, owner: Option<Id>, at: Millis) -> Result<()>;
    async fn set_temperature(&mut self, id: Id, t: Temperature, at: Millis) -> Result<()>;
    async fn add_note(
        &mut self,
        lead_id: Id,
        author_id: Option<Id>,
        author: &str,
        body: &str,
        at: Millis,
    ) -> Result<Id>;
    /// The customer a conversion of this contact's lead goes to: the contact's own, else the one
    /// of the contact's company (account), else the one an earlier lead of the contact became (a
    /// customer merged into another), else a new one named `name`.
    async fn customer_for_contact(&mut self, contact_id: Id, name: &str, at: Millis) -> Result<Id>;
    /// Erases a person's personal data: the contact and every contact merged into it keep no
    /// name, phone, email, social profile, position or company; their leads keep their stage,
    /// product, value, channel and UTM tags but lose messages, notes, comments, raw submissions,
    /// IP addresses, behaviour events, duplicate pairs, merge snapshots, audit details and the
    /// emails sent or waiting for them. Counts what it erased; `NotFound` when there is no such
    /// contact.
    async fn erase_contact(&mut self, contact_id: Id, at: Millis) -> Result<Erasure>;
    /// Moves a customer's deals and converted leads to another customer, records where it went
    /// and removes it. Both must exist; the caller checks they differ.
    async fn merge_customer(
        &mut self,
        from: Id,
        into: Id,
        actor: &str,
        at: Millis,
    ) -> Result<CustomerMerge>;
    /// Undoes a customer merge: the removed customer comes back under its id with the deals and
    /// leads the merge moved (those still with the customer it went into), and the merges
    /// re-pointed to that customer point to it again. `NotFound` when there is no such merge;
    /// a conflict when it was undone already, recorded nothing to undo with, its customer was
    /// merged again or its person is a customer again.
    async fn undo_customer_merge(&mut self, merge_id: Id, actor: &str, at: Millis) -> Result<()>;
    async fn insert_deal(&mut self, d: &NewDeal) -> Result<Id>;
    /// Corrects a deal's title and amount; whether there was one.
    async fn update_deal(&mut self, id: Id, title: &str, amount: Money) -> Result<bool>;
    async fn set_lead_customer(&mut self, lead_id: Id, customer_id: Id) -> Result<()>;
    async fn audit(&mut self, e: &NewAudit) -> Result<()>;
    async fn enqueue_job(
        &mut self,
        kind: &str,
        payload: &str,
        run_at: Millis,
        now: Millis,
    ) -> Result<Id>;
    /// Marks claimed jobs done, in the transaction that did their work.
    async fn finish_jobs(&mut self, ids: &[Id], at: Millis) -> Result<()>;

    // Bulk forms used by the intake's group commit: a handful of statements per batch.
    /// Stored results under any of these keys: (key, result, created_at).
    async fn capture_keys_many(&mut self, keys: &[String])
        -> Result<Vec<(String, String, Millis)>>;
    async fn put_capture_keys(&mut self, rows: &[(String, String, Millis)]) -> Result<()>;
    /// The reasons (JSON lists) kept on these touches and interests, by id: what a stored capture
    /// outcome that left its reasons to its row answers with again.
    async fn stored_reasons(&mut self, touches: &[Id], interests: &[Id]) -> Result<StoredReasons>;
    /// Every contact sharing a phone, email or social profile with any of the submissions.
    async fn candidates_many(&mut self, subs: &[&Normalized]) -> Result<Vec<Candidate>>;
    /// The contacts as [`Tx::candidates_many`] brings them, by id.
    async fn candidate_cards(&mut self, ids: &[Id]) -> Result<Vec<Candidate>>;
    /// Reserves `n` fresh ids of a table for rows inserted with explicit ids.
    async fn reserve_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<Id>>;
    /// [`Tx::reserve_ids`] for several tables at once (one statement on SQLite).
    async fn reserve_ids_many(&mut self, wants: &[(IdTable, usize)]) -> Result<Vec<Vec<Id>>>;
    /// Account ids by account key, creating the missing accounts: (name, key, domain).
    async fn accounts_for(
        &mut self,
        rows: &[(String, String, Option<String>)],
        at: Millis,
    ) -> Result<Vec<(String, Id)>>;
    async fn insert_contacts(&mut self, rows: &[NewContactRow<'_>]) -> Result<()>;
    /// New leads, each counted with its first touch.
    async fn insert_leads(&mut self, rows: &[(Id, NewLead)]) -> Result<()>;
    /// Touches; the leads' touch counters are maintained by the caller.
    async fn insert_touches(&mut self, rows: &[(Id, NewTouch)]) -> Result<()>;
    async fn insert_interests(&mut self, rows: &[(Id, NewInterest)]) -> Result<()>;
    async fn insert_stage_changes(&mut self, rows: &[NewStageChange]) -> Result<()>;
    /// Form events (submits counted for the take rate) written with the captures they count.
    async fn insert_form_events(&mut self, rows: &[NewFormEvent]) -> Result<()>;
    async fn add_to_counter(&mut self, name: &str, by: i64) -> Result<()>;
    /// Records the first time a person acted on the lead (kept if already set).
    async fn mark_first_response(&mut self, lead_id: Id, at: Millis) -> Result<()>;
    async fn insert_duplicate_pairs(&mut self, rows: &[NewDuplicatePair]) -> Result<()>;
    async fn set_pair_status(
        &mut self,
        id: Id,
        status: &str,
        by: Option<&str>,
        at: Millis,
    ) -> Result<()>;
    /// Pairs between these two leads, either way round, take this status.
    async fn set_pairs_status_between(
        &mut self,
        a: Id,
        b: Id,
        status: &str,
        by: Option<&str>,
        at: Millis,
    ) -> Result<()>;
    /// Moves everything of `merged` into `survivor`, taking the named fields from `merged`.
    async fn merge_leads(
        &mut self,
        survivor: Id,
        merged: Id,
        take: &[String],
        at: Millis,
    ) -> Result<MergeSnapshot>;
    /// Merges the contact of `merged` into the contact of `survivor`; both leads stay leads of
    /// their own, now of one contact. Undone like a lead merge.
    async fn merge_contacts(
        &mut self,
        survivor: Id,
        merged: Id,
        take: &[String],
        at: Millis,
    ) -> Result<MergeSnapshot>;
    async fn record_merge(
        &mut self,
        s: &MergeSnapshot,
        actor_id: Option<Id>,
        actor: &str,
        at: Millis,
    ) -> Result<Id>;
    /// Puts back what a merge moved and changed.
    async fn undo_merge(&mut self, merge_id: Id, s: &MergeSnapshot, at: Millis) -> Result<()>;
    /// One more touch on a lead, received at `at`.
    async fn count_touch(&mut self, lead_id: Id, at: Millis) -> Result<()>;
    /// Stores probabilities of conversion (lead, probability).
    async fn set_conversion_probabilities(&mut self, rows: &[(Id, f64)]) -> Result<()>;
}

/// Tables whose ids the intake reserves in bulk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdTable {
    Contacts,
    Leads,
    Touches,
    Interests,
}

impl IdTable {
    pub fn name(self) -> &'static str {
        match self {
            IdTable::Contacts => "contacts",
            IdTable::Leads => "leads",
            IdTable::Touches => "touches",
            IdTable::Interests => "interests",
        }
    }
}

/// A new contact written with an id reserved beforehand.
#[derive(Debug, Clone)]
pub struct NewContactRow<'a> {
    pub id: Id,
    pub n: &'a Normalized,
    pub account_id: Option<Id>,
    pub at: Millis,
}

/// Values kept on a lead's row when its stage changes.
#[derive(Debug, Clone, Default)]
pub struct StageUpdate {
    pub stage: Option<Stage>,
    pub refuse_reason: Option<String>,
    pub frozen_until: Option<Millis>,
    pub junk_reason: Option<String>,
}

pub(crate) fn scopes_from(s: &str) -> ScopeSet {
    ScopeSet::from_text(s)
}
