// SQL shared by both backends. Included into `sqlite` and `postgres`, each of which defines
// `DB`, `BACKEND`, `MIGRATOR`, `CLAIM_JOBS_SQL`, `SqlStore::connect` and `SqlStore::begin_tx`.
// Placeholders are `$N`, which both engines accept.

use crate::types::*;
use crate::{Backend, IdTable, NewContactRow, Result, StageUpdate, Store, StoreError, Tx};
use async_trait::async_trait;
use sqlx::{Pool, QueryBuilder, Row};
use voronka_core::intake::keys::{email_key, social_key};
use voronka_core::intake::{Candidate, CandidateLead, Normalized};
use voronka_core::{
    Account, Attribution, Channel, Contact, Currency, Customer, Deal, Email, Form, Id, Lead,
    Millis, Money, Note, Phone, Role, Stage, StageChange, Temperature, Touch, User,
};

type DbRow = <DB as sqlx::Database>::Row;

pub struct SqlStore {
    pool: Pool<DB>,
    /// SQLite: this process's writers queue here for the one write lock, and the next is woken
    /// the moment it is free (SQLite's own busy handler would poll with sleeps).
    writer: Option<std::sync::Arc<tokio::sync::Mutex<()>>>,
    /// SQLite file: the one connection of the write transactions (`begin_tx`), kept outside any
    /// pool (see [`OwnConn`]).
    writes: Option<OwnConn>,
    /// SQLite file: a connection whose commits leave the write-ahead log unsynced, and the log's
    /// path, which [`Store::sync_log`] syncs. The intake commits through it and acknowledges only
    /// after that sync, so the sync of one batch overlaps the writing of the next.
    deferred: Option<(OwnConn, std::path::PathBuf)>,
    /// How the lead list reads searches (see [`Store::set_search_limits`]).
    search: SearchLimits,
    /// SQLite file: told of every commit, so that the background checkpointer copies the
    /// committed log into the database file away from the writers (see `spawn_checkpointer`).
    checkpoints: Option<tokio::sync::mpsc::Sender<()>>,
    /// SQLite: the search indexer's connection, with the index's database attached as `search`
    /// for writing (the other connections attach it read-only). Its transactions read the leads
    /// and write only the index's file, so they never hold this database's write lock.
    indexer: Option<Pool<DB>>,
    /// SQLite file: the commits of the intake's own connection (`deferred`), which SQLite's
    /// `data_version` does not count (see [`Tx::intake_generation`]).
    intake_commits: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// SQLite file: the one connection that reads candidates ahead (`candidates_ahead`), so that
    /// the pages those reads bring in are cached once, not in every connection of the pool.
    ahead: Option<Pool<DB>>,
}

/// Above `breadth` matches a search is broad: its page is found by walking the list's order
/// (at most `walk` rows before the index drives after all), and its count stops at `breadth`.
#[derive(Debug)]
struct SearchLimits {
    breadth: std::sync::atomic::AtomicI64,
    walk: std::sync::atomic::AtomicI64,
}

impl Default for SearchLimits {
    fn default() -> Self {
        SearchLimits {
            breadth: DEFAULT_SEARCH_BREADTH.into(),
            walk: DEFAULT_SEARCH_WALK.into(),
        }
    }
}

impl SqlStore {
    fn search_breadth(&self) -> i64 {
        self.search
            .breadth
            .load(std::sync::atomic::Ordering::Relaxed)
    }
    fn search_walk(&self) -> i64 {
        self.search.walk.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl SqlStore {
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Waits for this process's turn to write (SQLite); no wait on PostgreSQL.
    async fn writer_turn(&self) -> Option<tokio::sync::OwnedMutexGuard<()>> {
        match &self.writer {
            Some(w) => Some(w.clone().lock_owned().await),
            None => None,
        }
    }

    /// A write transaction (begun by `begin`, else `BEGIN`) on the writers' own connection where
    /// there is one, else on one of the pool's, once it is this process's turn to write.
    async fn open_write(&self, begin: Option<&'static str>) -> Result<OpenTx> {
        let writer = self.writer_turn().await;
        match &self.writes {
            Some(conn) => OpenTx::begin_own(conn, writer, begin.unwrap_or("BEGIN")).await,
            None => OpenTx::pooled(&self.pool, writer, begin).await,
        }
    }

    /// A write transaction whose commit does not sync the log (SQLite: the intake's connection,
    /// whose log `sync_log` syncs); a plain one elsewhere.
    async fn begin_unsynced_tx(&self) -> Result<SqlTx> {
        match &self.deferred {
            Some((conn, _)) => {
                let writer = self.writer_turn().await;
                Ok(SqlTx {
                    tx: OpenTx::begin_own(conn, writer, BEGIN_WRITE_SQL).await?,
                    settings: Default::default(),
                    committed: self.checkpoints.clone(),
                    intake_commits: Some(self.intake_commits.clone()),
                })
            }
            None => self.begin_tx().await,
        }
    }
}

/// A connection kept outside any pool, for one kind of transaction at a time (SQLite file: the
/// writers' and the intake's). A pool tests every connection given back with a round trip to
/// its thread before another task may take it, and a pool of one made each write transaction
/// wait for the test of the one before.
type OwnConn = std::sync::Arc<tokio::sync::Mutex<<DB as sqlx::Database>::Connection>>;

/// An open write transaction: on a connection of the pool (sqlx's own transaction), or on one
/// of the store's own connections with this process's turn to write held till it ends.
enum OpenTx {
    Pooled(
        sqlx::Transaction<'static, DB>,
        Option<tokio::sync::OwnedMutexGuard<()>>,
    ),
    Own(OwnTx),
}

/// A transaction on one of the store's own connections.
struct OwnTx {
    /// `None` once committed or rolled back.
    conn: Option<tokio::sync::OwnedMutexGuard<<DB as sqlx::Database>::Connection>>,
    /// This process's turn to write (SQLite), given up only after the transaction ends.
    writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl OpenTx {
    /// A transaction that has ended, with nothing to give back.
    const ENDED: OpenTx = OpenTx::Own(OwnTx {
        conn: None,
        writer: None,
    });

    /// Begins on a connection of `pool` (`BEGIN` unless `sql` says otherwise), holding `writer`
    /// till the transaction ends.
    async fn pooled(
        pool: &Pool<DB>,
        writer: Option<tokio::sync::OwnedMutexGuard<()>>,
        sql: Option<&'static str>,
    ) -> Result<Self> {
        let tx = match sql {
            Some(sql) => pool.begin_with(sql).await?,
            None => pool.begin().await?,
        };
        Ok(OpenTx::Pooled(tx, writer))
    }

    /// Begins on the store's own connection `conn` once it is free, holding `writer` till the
    /// transaction ends.
    async fn begin_own(
        conn: &OwnConn,
        writer: Option<tokio::sync::OwnedMutexGuard<()>>,
        sql: &'static str,
    ) -> Result<Self> {
        let mut tx = OwnTx { conn: None, writer };
        // Held by `tx` while the BEGIN runs: if this future is dropped meanwhile, the
        // connection's thread still begins, and the drop's rollback follows it there.
        let c = tx.conn.insert(conn.clone().lock_owned().await);
        if let Err(e) = exec_raw(c, sql).await {
            // Nothing begun, nothing to roll back.
            tx.conn = None;
            return Err(e.into());
        }
        Ok(OpenTx::Own(tx))
    }

    async fn commit(mut self) -> Result<()> {
        match &mut self {
            OpenTx::Pooled(..) => {
                // The turn to write is given up after the end.
                if let OpenTx::Pooled(tx, _turn) = std::mem::replace(&mut self, OpenTx::ENDED) {
                    tx.commit().await?;
                }
            }
            OpenTx::Own(OwnTx { conn, .. }) => {
                if let Some(c) = conn {
                    // A failed COMMIT leaves the transaction to the rollback of `drop`.
                    exec_raw(c, "COMMIT").await?;
                    *conn = None;
                }
            }
        }
        Ok(())
    }

    async fn rollback(mut self) -> Result<()> {
        match &mut self {
            OpenTx::Pooled(..) => {
                // The turn to write is given up after the end.
                if let OpenTx::Pooled(tx, _turn) = std::mem::replace(&mut self, OpenTx::ENDED) {
                    tx.rollback().await?;
                }
            }
            OpenTx::Own(OwnTx { conn, .. }) => {
                if let Some(c) = conn {
                    exec_raw(c, "ROLLBACK").await?;
                    *conn = None;
                }
            }
        }
        Ok(())
    }
}

impl std::ops::Deref for OpenTx {
    type Target = <DB as sqlx::Database>::Connection;
    fn deref(&self) -> &Self::Target {
        match self {
            OpenTx::Pooled(tx, _) => tx,
            OpenTx::Own(OwnTx { conn, .. }) => {
                conn.as_deref().expect("a transaction that has ended")
            }
        }
    }
}

impl std::ops::DerefMut for OpenTx {
    fn deref_mut(&mut self) -> &mut Self::Target {
        match self {
            OpenTx::Pooled(tx, _) => tx,
            OpenTx::Own(OwnTx { conn, .. }) => {
                conn.as_deref_mut().expect("a transaction that has ended")
            }
        }
    }
}

/// One statement without arguments on a connection (typed, so that the futures holding it are
/// `Send` for every lifetime).
async fn exec_raw(
    conn: &mut <DB as sqlx::Database>::Connection,
    sql: &'static str,
) -> sqlx::Result<()> {
    // The executor's boxed future, not `raw_sql`'s generic one.
    sqlx::Executor::execute(conn, sql).await?;
    Ok(())
}

impl Drop for OwnTx {
    /// A transaction left open (an error returned midway) is rolled back before the connection
    /// or the turn to write pass to anyone else: both go with the rollback to a task of its own.
    /// (sqlx queues the rollback of a pooled one itself.)
    fn drop(&mut self) {
        let (Some(mut conn), writer) = (self.conn.take(), self.writer.take()) else {
            return;
        };
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                // Fails harmlessly when what was abandoned was a COMMIT that went through.
                if let Err(e) = exec_raw(&mut conn, "ROLLBACK").await {
                    tracing::debug!(error = %e, "rolling back an abandoned transaction");
                }
                drop(writer);
            });
        }
    }
}

const LEAD_COLS: &str = "l.id, l.contact_id, l.product, l.message, l.value_minor, l.value_currency, \
    l.stage, l.temperature, l.score, l.owner_id, l.form_id, l.source, l.medium, l.campaign, \
    l.refuse_reason, l.frozen_until, l.junk_reason, l.junk_args, l.customer_id, l.merged_into, l.kind, \
    l.touches, l.created_at, l.updated_at, l.first_response_at, l.conversion_ppm";

macro_rules! inbox_rank_update {
    () => {
        "UPDATE leads SET inbox_rank = CASE \
         WHEN stage = 'new' AND owner_id IS NULL THEN 3 WHEN stage = 'new' THEN 2 \
         WHEN stage IN ('working', 'mql', 'sql') AND owner_id IS NULL THEN 1 ELSE 0 END WHERE id "
    };
}

const INBOX_RANK_SQL: &str = concat!(inbox_rank_update!(), "= $1");

/// [`INBOX_RANK_SQL`] for a list of leads: append the ids and a closing parenthesis.
const INBOX_RANK_MANY_SQL: &str = concat!(inbox_rank_update!(), "IN (");

fn corrupt(what: &str, v: &str) -> StoreError {
    StoreError::Corrupt(format!("{what}: {v:?}"))
}

/// Runs a query whose one row is a `json_rows` array and reads the array.
/// What a customer merge moved: the ids of the deals, the leads and the merges into the removed
/// customer it re-pointed.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct CustomerMoves {
    deals: Vec<Id>,
    leads: Vec<Id>,
    merges: Vec<Id>,
}

/// What links to a customer, by table and column, in the order of [`CustomerMoves`]: deals,
/// leads, and the merges into it.
const CUSTOMER_LINKS: [(&str, &str); 3] = [
    ("deals", "customer_id"),
    ("leads", "customer_id"),
    ("customer_merges", "into_id"),
];

const CUSTOMER_MERGE_COLS: &str = "id, from_id, into_id, from_name, deals, leads, actor, at, \
     undone_at, moved IS NOT NULL AS recorded";

fn customer_merge_from(r: &DbRow) -> Result<CustomerMerge> {
    let undone_at: Option<Millis> = r.try_get("undone_at")?;
    Ok(CustomerMerge {
        id: r.try_get("id")?,
        from_id: r.try_get("from_id")?,
        into_id: r.try_get("into_id")?,
        from_name: r.try_get("from_name")?,
        deals: r.try_get("deals")?,
        leads: r.try_get("leads")?,
        actor: r.try_get("actor")?,
        at: r.try_get("at")?,
        undoable: undone_at.is_none() && r.try_get::<bool, _>("recorded")?,
        undone_at,
    })
}

async fn json_answer<T: serde::de::DeserializeOwned>(
    tx: &mut OpenTx,
    mut qb: QueryBuilder<'_, DB>,
    what: &str,
) -> Result<Vec<T>> {
    let found: String = qb.build_query_scalar().fetch_one(&mut **tx).await?;
    serde_json::from_str(&found).map_err(|e| corrupt(what, &e.to_string()))
}

fn money(minor: Option<i64>, cur: Option<String>) -> Result<Option<Money>> {
    match (minor, cur) {
        (Some(m), Some(c)) => Ok(Some(Money::new(
            m,
            Currency::parse(&c).map_err(|_| corrupt("currency", &c))?,
        ))),
        _ => Ok(None),
    }
}

fn lead_from(r: &DbRow) -> Result<Lead> {
    let stage: String = r.try_get("stage")?;
    let temp: String = r.try_get("temperature")?;
    // The intake's junk reason is kept as its code and values; its text is made here.
    let stored: Option<String> = r.try_get("junk_args")?;
    let junk: Option<voronka_core::intake::Reason> = match &stored {
        Some(text) => serde_json::from_str::<Vec<voronka_core::intake::Reason>>(text)
            .map_err(|_| corrupt("junk_args", text))?
            .into_iter()
            .next(),
        None => None,
    };
    Ok(Lead {
        id: r.try_get("id")?,
        contact_id: r.try_get("contact_id")?,
        product: r.try_get("product")?,
        message: r.try_get("message")?,
        value: money(r.try_get("value_minor")?, r.try_get("value_currency")?)?,
        stage: Stage::parse(&stage).map_err(|_| corrupt("stage", &stage))?,
        temperature: Temperature::parse(&temp).ok_or_else(|| corrupt("temperature", &temp))?,
        owner_id: r.try_get("owner_id")?,
        form_id: r.try_get("form_id")?,
        source: r.try_get("source")?,
        medium: r.try_get("medium")?,
        campaign: r.try_get("campaign")?,
        refuse_reason: r.try_get("refuse_reason")?,
        frozen_until: r.try_get("frozen_until")?,
        junk_reason: match &junk {
            Some(reason) => Some(reason.message.clone()),
            None => r.try_get("junk_reason")?,
        },
        junk_code: junk.map(|reason| reason.code),
        customer_id: r.try_get("customer_id")?,
        merged_into: r.try_get("merged_into")?,
        kind: r.try_get("kind")?,
        touches: r.try_get("touches")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        first_response_at: r.try_get("first_response_at")?,
        conversion_probability: probability_from_ppm(r.try_get("conversion_ppm")?),
    })
}

fn lead_brief_from(r: &DbRow) -> Result<LeadBrief> {
    let stage: String = r.try_get("stage")?;
    let temp: String = r.try_get("temperature")?;
    Ok(LeadBrief {
        id: r.try_get("id")?,
        product: r.try_get("product")?,
        stage: Stage::parse(&stage).map_err(|_| corrupt("stage", &stage))?,
        temperature: Temperature::parse(&temp).ok_or_else(|| corrupt("temperature", &temp))?,
        owner_id: r.try_get("owner_id")?,
        created_at: r.try_get("created_at")?,
    })
}

fn session_from(r: &DbRow) -> Result<Session> {
    Ok(Session {
        token_hash: r.try_get("token_hash")?,
        user_id: r.try_get("user_id")?,
        csrf: r.try_get("csrf")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        user_agent: r.try_get("user_agent")?,
        last_seen_at: r.try_get("last_seen_at")?,
    })
}

fn user_from(r: &DbRow) -> Result<User> {
    let role: String = r.try_get("role")?;
    Ok(User {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
        team_id: r.try_get("team_id")?,
        active: r.try_get("active")?,
        created_at: r.try_get("created_at")?,
    })
}

fn form_from(r: &DbRow) -> Result<Form> {
    let origins: String = r.try_get("allowed_origins")?;
    Ok(Form {
        id: r.try_get("id")?,
        public_key: r.try_get("public_key")?,
        name: r.try_get("name")?,
        redirect_url: r.try_get("redirect_url")?,
        allowed_origins: origins.split_whitespace().map(str::to_string).collect(),
        default_region: r.try_get("default_region")?,
        product: r.try_get("product")?,
        honeypot_field: r.try_get("honeypot_field")?,
        min_fill_ms: r.try_get("min_fill_ms")?,
        active: r.try_get("active")?,
        created_at: r.try_get("created_at")?,
        definition: voronka_core::capture::FormDefinition::from_json(
            &r.try_get::<String, _>("definition")?,
        ),
    })
}

fn account_from(r: &DbRow) -> Result<Account> {
    Ok(Account {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        domain: r.try_get("domain")?,
        created_at: r.try_get("created_at")?,
    })
}

fn saved_view_from(r: &DbRow) -> Result<SavedView> {
    Ok(SavedView {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        owner_name: r.try_get("owner_name")?,
        name: r.try_get("name")?,
        query: r.try_get("query")?,
        shared: r.try_get("shared")?,
        created_at: r.try_get("created_at")?,
    })
}

fn customer_from(r: &DbRow) -> Result<Customer> {
    Ok(Customer {
        id: r.try_get("id")?,
        contact_id: r.try_get("contact_id")?,
        account_id: r.try_get("account_id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
    })
}

fn deal_from(r: &DbRow) -> Result<Deal> {
    let cur: String = r.try_get("currency")?;
    Ok(Deal {
        id: r.try_get("id")?,
        customer_id: r.try_get("customer_id")?,
        lead_id: r.try_get("lead_id")?,
        title: r.try_get("title")?,
        amount: Money::new(
            r.try_get("amount_minor")?,
            Currency::parse(&cur).map_err(|_| corrupt("currency", &cur))?,
        ),
        created_at: r.try_get("created_at")?,
    })
}

fn touch_from(r: &DbRow) -> Result<Touch> {
    let channel: String = r.try_get("channel")?;
    let raw: String = r.try_get("raw")?;
    Ok(Touch {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        channel: Channel::parse(&channel).ok_or_else(|| corrupt("channel", &channel))?,
        form_id: r.try_get("form_id")?,
        attribution: Attribution {
            utm_source: r.try_get("utm_source")?,
            utm_medium: r.try_get("utm_medium")?,
            utm_campaign: r.try_get("utm_campaign")?,
            utm_term: r.try_get("utm_term")?,
            utm_content: r.try_get("utm_content")?,
            referrer: r.try_get("referrer")?,
            landing_page: r.try_get("landing_page")?,
        },
        partner: r.try_get("partner")?,
        ip: r.try_get("ip")?,
        user_agent: r.try_get("user_agent")?,
        message: r.try_get("message")?,
        raw: serde_json::from_str(&raw).unwrap_or(serde_json::Value::String(raw)),
        answers: serde_json::from_str(&r.try_get::<String, _>("answers")?).unwrap_or_default(),
        consent_text: r.try_get("consent_text")?,
        variant: r.try_get("variant")?,
        created_at: r.try_get("created_at")?,
    })
}

fn stage_change_from(r: &DbRow) -> Result<StageChange> {
    let from: Option<String> = r.try_get("from_stage")?;
    let to: String = r.try_get("to_stage")?;
    let code: Option<String> = r.try_get("reason_code")?;
    let stored_args: Option<String> = r.try_get("reason_args")?;
    let args: voronka_core::intake::text::Args = match &stored_args {
        Some(text) => serde_json::from_str(text).map_err(|_| corrupt("reason_args", text))?,
        None => Default::default(),
    };
    // A system move's text is made from its code; a person's reason is read as written.
    let reason: Option<String> = match &code {
        Some(c) => Some(voronka_core::history_reason(c, &args).unwrap_or_else(|| c.clone())),
        None => r.try_get("reason")?,
    };
    Ok(StageChange {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        from: match from {
            Some(f) => Some(Stage::parse(&f).map_err(|_| corrupt("stage", &f))?),
            None => None,
        },
        to: Stage::parse(&to).map_err(|_| corrupt("stage", &to))?,
        actor_id: r.try_get("actor_id")?,
        actor: r.try_get("actor")?,
        reason,
        reason_code: code,
        reason_args: args,
        comment: r.try_get("comment")?,
        at: r.try_get("at")?,
    })
}

fn audit_from(r: &DbRow) -> Result<AuditEntry> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        actor_id: r.try_get("actor_id")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        before: r.try_get("before")?,
        after: r.try_get("after")?,
        at: r.try_get("at")?,
    })
}

fn token_from(r: &DbRow) -> Result<ApiToken> {
    let scopes: String = r.try_get("scopes")?;
    Ok(ApiToken {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        scopes: crate::scopes_from(&scopes),
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// A contact as lists show it (`c` the contact, `a` its account): its first email and phone.
const CONTACT_ROW_COLS: &str = "c.id, c.full_name, c.created_at, a.name AS company, \
    (SELECT e.normalized FROM contact_emails e WHERE e.contact_id = c.id LIMIT 1) AS email, \
    (SELECT COALESCE(p.e164, p.raw) FROM contact_phones p WHERE p.contact_id = c.id LIMIT 1) AS phone";

fn contact_row_from(r: &DbRow) -> Result<ContactRow> {
    Ok(ContactRow {
        id: r.try_get("id")?,
        full_name: r.try_get("full_name")?,
        email: r.try_get("email")?,
        phone: r.try_get("phone")?,
        company: r.try_get("company")?,
        created_at: r.try_get("created_at")?,
    })
}

/// Keeps the rows whose `column` is the `leads_column` (a contact's or a lead's id) of a lead
/// `who` may see: their own leads (a salesperson), their team's and unassigned ones (a manager).
fn push_visible(qb: &mut QueryBuilder<'_, DB>, column: &str, leads_column: &str, who: &Visibility) {
    match who {
        Visibility::All => {}
        Visibility::Owner(u) => {
            qb.push(format!(
                " AND {column} IN (SELECT {leads_column} FROM leads WHERE owner_id = "
            ))
            .push_bind(*u)
            .push(")");
        }
        Visibility::Team(t) => {
            qb.push(format!(
                " AND {column} IN (SELECT {leads_column} FROM leads WHERE owner_id IS NULL \
                 OR owner_id IN (SELECT id FROM users WHERE team_id = "
            ))
            .push_bind(*t)
            .push("))");
        }
    }
}

/// Keeps the rows whose `column` is the `leads_column` of a lead `q`'s reader may see and, with a
/// search, of a lead whose search text holds it.
fn push_through_leads(
    qb: &mut QueryBuilder<'_, DB>,
    column: &str,
    leads_column: &str,
    q: &SimpleQuery,
) {
    push_visible(qb, column, leads_column, &q.visibility);
    if let Some(t) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
        qb.push(format!(
            " AND {column} IN (SELECT {leads_column} FROM leads WHERE search_text LIKE "
        ))
        .push_bind(like_pattern(t))
        .push(" ESCAPE '\\')");
    }
}

/// The order and the page of a simple list.
fn push_page(qb: &mut QueryBuilder<'_, DB>, order: &str, q: &SimpleQuery) {
    qb.push(format!(" ORDER BY {order} LIMIT "))
        .push_bind(q.limit.clamp(1, 1000))
        .push(" OFFSET ")
        .push_bind(q.offset.max(0));
}

fn like_pattern(text: &str) -> String {
    let mut p = String::from("%");
    // Control characters (a NUL among them, which PostgreSQL refuses in text) match nothing
    // that is stored: stored text is cleaned of them.
    for c in text
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_control())
    {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Adds the WHERE conditions of a lead query; they use only `leads l` columns so that
/// the count needs no joins.
fn push_lead_filters<'a>(qb: &mut QueryBuilder<'a, DB>, q: &'a LeadQuery, text: Option<&TextPlan>) {
    // Merged leads resolve to their survivor and are never listed; the list indexes are
    // partial on this very condition.
    qb.push(" AND l.merged_into IS NULL");
    push_who_filters(qb, q, &LEADS_WHO);
    if let Some(t) = q.temperature {
        qb.push(" AND l.temperature = ").push_bind(t.as_str());
    }
    if let Some(f) = q.fit_level {
        qb.push(" AND l.fit_level = ").push_bind(f.as_str());
    }
    if let Some(a) = q.activity {
        qb.push(" AND l.activity = ").push_bind(a.as_str());
    }
    if let Some(s) = &q.source {
        qb.push(" AND l.source = ").push_bind(s.to_lowercase());
    }
    if let Some(s) = &q.medium {
        qb.push(" AND l.medium = ").push_bind(s.to_lowercase());
    }
    if let Some(s) = &q.campaign {
        qb.push(" AND l.campaign = ").push_bind(s.as_str());
    }
    if let Some(f) = q.form_id {
        qb.push(" AND l.form_id = ").push_bind(f);
    }
    if let Some(c) = q.contact_id {
        qb.push(" AND l.contact_id = ").push_bind(c);
    }
    if let Some(t) = q.created_from {
        qb.push(" AND l.created_at >= ").push_bind(t);
    }
    if let Some(t) = q.created_to {
        qb.push(" AND l.created_at < ").push_bind(t);
    }
    if let Some(p) = q.min_conversion {
        qb.push(" AND l.conversion_ppm >= ")
            .push_bind(probability_to_ppm(p));
    }
    if let Some(t) = &q.tag {
        // As a list of ids, not a correlated EXISTS: a planner may read a rare tag's few leads
        // from the tag's index instead of testing every lead the page's order walks past.
        qb.push(" AND l.id IN (SELECT lt.lead_id FROM lead_tags lt WHERE lt.tag_key = ")
            .push_bind(voronka_core::tags::tag_key(t))
            .push(")");
    }
    if let (Some(words), Some(plan)) = (search_words(q), text) {
        let read = index_word(&words);
        push_text_filter(qb, read, plan);
        // Each word (or quoted phrase) of a search, in any order: the index reads one (the
        // longest), and every other word is checked on what it found.
        for w in words.iter().filter(|w| w.as_str() != read) {
            qb.push(" AND l.search_text LIKE ")
                .push_bind(format!("%{w}%"));
        }
    }
}

/// The word of a search the index reads: its longest (the fewest matches to check).
fn index_word(words: &[String]) -> &str {
    words
        .iter()
        .max_by_key(|w| w.chars().count())
        .map(String::as_str)
        .unwrap_or_default()
}

/// A search that is a phone number as people write it (`+7 (916) 123-45`): its digits, and the
/// `+` it starts with. The search text holds each phone in E.164 and as digits alone.
fn phone_like(term: &str) -> Option<String> {
    let phone_chars = |c: char| c.is_ascii_digit() || " +-()".contains(c);
    let digits = term.chars().filter(char::is_ascii_digit).count();
    if digits < 4 || !term.chars().all(phone_chars) {
        return None;
    }
    let plus = term.trim_start().starts_with('+');
    let mut out = String::from(if plus { "+" } else { "" });
    out.extend(term.chars().filter(char::is_ascii_digit));
    Some(out)
}

/// The free text of a query as searched: its words, each required and in any order (a phrase in
/// double quotes is one word; a phone number written with spaces, dashes or brackets is searched
/// by its digits), lowercased, without LIKE wildcards (dropped rather than escaped, so that the
/// trigram indexes can serve the pattern) and without control characters (stored text has none;
/// a NUL would break the index's query).
fn search_words(q: &LeadQuery) -> Option<Vec<String>> {
    // As the search text is written (`voronka_core::intake::keys::search_text`).
    let cleaned: String = voronka_core::intake::keys::fold_search(q.text.as_deref()?)
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\') && !c.is_control())
        .collect();
    if let Some(phone) = phone_like(cleaned.trim()) {
        return Some(vec![phone]);
    }
    let mut words = Vec::new();
    // Outside quotes, then inside, in turn.
    for (i, part) in cleaned.split('"').enumerate() {
        let spaced = part.split_whitespace();
        if i % 2 == 1 {
            let phrase = spaced.collect::<Vec<_>>().join(" ");
            words.extend((!phrase.is_empty()).then_some(phrase));
        } else {
            words.extend(spaced.map(str::to_string));
        }
    }
    // Each word is a condition of its own: a search reads its first few distinct words.
    let mut seen = std::collections::HashSet::new();
    words.retain(|w| seen.insert(w.clone()));
    words.truncate(MAX_SEARCH_WORDS);
    (!words.is_empty()).then_some(words)
}

/// The words of a search that count (a query of a thousand words would nest past what the
/// databases' expression trees take).
const MAX_SEARCH_WORDS: usize = 16;

/// A search whose term matches more leads than this is broad: its page is found by walking the
/// list's order, and its count stops here.
const DEFAULT_SEARCH_BREADTH: i64 = 10_000;

/// How far down the list's order a broad search walks for its page before the index drives.
const DEFAULT_SEARCH_WALK: i64 = 10_000;

/// A search term shorter than a trigram is counted up to this many leads.
const SHORT_TERM_COUNT: i64 = 1_000;

/// What the trigram index says of a search term.
#[derive(Debug, Clone, PartialEq, Eq)]
enum SearchMatches {
    /// At most the breadth's number of leads, all of them (a JSON array of ids).
    Narrow(String),
    /// More than that; the first ones (a JSON array of ids).
    Broad(String),
    /// Shorter than a trigram: no index serves it.
    Short,
}

/// A count that stopped at one more than `bound`: exact when it stopped before.
fn bounded_total(n: i64, bound: i64) -> LeadTotal {
    if n <= bound {
        LeadTotal::exact(n)
    } else {
        LeadTotal {
            n: bound,
            exact: false,
        }
    }
}

/// How a query's free-text condition is read.
#[derive(Debug, Clone, PartialEq, Eq)]
enum TextPlan {
    /// These leads (a JSON array of ids from [`SearchMatches`]), and with `true` also those the
    /// background indexer has not reached yet (SQLite).
    Ids(String, bool),
    /// Each lead's own search text, checked as the query walks its order.
    Scan,
    /// Through the trigram index, however many it matches.
    Index,
}

impl SqlStore {
    /// The trigram index's matches of a search term, up to one more than the breadth,
    /// read once for a page and its count.
    async fn search_matches(&self, words: &[String]) -> Result<SearchMatches> {
        if index_word(words).chars().count() < 3 {
            return Ok(SearchMatches::Short);
        }
        let row = sqlx::query(SEARCH_MATCHES_SQL)
            .bind(search_index_arg(index_word(words)))
            .bind(self.search_breadth() + 1)
            .fetch_one(&self.pool)
            .await?;
        let n: i64 = row.try_get(0)?;
        let ids: Option<String> = row.try_get(1)?;
        let ids = ids.unwrap_or_else(|| "[]".into());
        Ok(if n <= self.search_breadth() {
            SearchMatches::Narrow(ids)
        } else {
            SearchMatches::Broad(ids)
        })
    }

    /// The position `walk` rows down the query's order (ignoring its search), if the
    /// list is that long: a broad search's walk stops there.
    async fn walk_bound(&self, q: &LeadQuery) -> Result<Option<Cursor>> {
        let (cols, _) = q.sort.columns();
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
            "SELECT {}, l.id FROM leads l WHERE 1 = 1",
            cols.join(", ")
        ));
        push_lead_filters(&mut qb, q, None);
        push_order(&mut qb, q, None);
        qb.push(" OFFSET ").push_bind(self.search_walk());
        let row = qb.build().fetch_optional(&self.pool).await?;
        row.map(|r| {
            let keys = (0..cols.len())
                .map(|i| r.try_get::<i64, _>(i))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(Cursor {
                keys,
                id: r.try_get(cols.len())?,
            })
        })
        .transpose()
    }

    /// The index's answer for the query's search term, if it has one.
    async fn matches_for(&self, q: &LeadQuery) -> Result<Option<SearchMatches>> {
        match search_words(q) {
            Some(words) => Ok(Some(self.search_matches(&words).await?)),
            None => Ok(None),
        }
    }

    /// A page of the list, the search read from the index's answer.
    async fn page_rows(
        &self,
        q: &LeadQuery,
        matches: Option<&SearchMatches>,
    ) -> Result<Vec<LeadRow>> {
        match matches {
            None => self.lead_rows(q, None, None).await,
            // Few matches: they drive the page.
            Some(SearchMatches::Narrow(ids)) => {
                self.lead_rows(q, Some(&TextPlan::Ids(ids.clone(), true)), None)
                    .await
            }
            // Many matches, spread out: the page fills within the first rows of the list's
            // order. Many matches far down the order: the index drives after all.
            Some(SearchMatches::Broad(_)) => match self.walk_bound(q).await? {
                None => self.lead_rows(q, Some(&TextPlan::Scan), None).await,
                Some(bound) => {
                    let rows = self
                        .lead_rows(q, Some(&TextPlan::Scan), Some(&bound))
                        .await?;
                    if rows.len() as i64 >= q.limit.clamp(1, 1000) {
                        Ok(rows)
                    } else {
                        self.lead_rows(q, Some(&TextPlan::Index), None).await
                    }
                }
            },
            // No index serves a term this short: walk the order.
            Some(SearchMatches::Short) => self.lead_rows(q, Some(&TextPlan::Scan), None).await,
        }
    }

    /// How many leads match, the search read from the index's answer: exact for few matches,
    /// a lower bound (at least the page's rows) for many, a bounded count for a short term.
    async fn page_total(
        &self,
        q: &LeadQuery,
        matches: Option<&SearchMatches>,
        shown: usize,
    ) -> Result<LeadTotal> {
        match matches {
            None => Ok(LeadTotal::exact(self.count_leads(q).await?)),
            Some(SearchMatches::Narrow(ids)) => Ok(LeadTotal::exact(
                self.count_with(q, &TextPlan::Ids(ids.clone(), true), None)
                    .await?,
            )),
            Some(SearchMatches::Broad(first)) => {
                let n = self
                    .count_with(q, &TextPlan::Ids(first.clone(), false), None)
                    .await?;
                Ok(LeadTotal {
                    n: n.min(self.search_breadth()).max(shown as i64),
                    exact: false,
                })
            }
            Some(SearchMatches::Short) => {
                let n = self
                    .count_with(q, &TextPlan::Scan, Some(SHORT_TERM_COUNT + 1))
                    .await?;
                Ok(bounded_total(n, SHORT_TERM_COUNT))
            }
        }
    }

    /// Leads per stage, the search read from the index's answer.
    async fn tabs_with(
        &self,
        q: &LeadQuery,
        matches: Option<&SearchMatches>,
    ) -> Result<(Vec<(Stage, i64)>, bool)> {
        let (plan, cap) = match matches {
            None => (None, None),
            Some(SearchMatches::Narrow(ids)) => (Some(TextPlan::Ids(ids.clone(), true)), None),
            Some(SearchMatches::Broad(first)) => (Some(TextPlan::Ids(first.clone(), false)), None),
            Some(SearchMatches::Short) => (Some(TextPlan::Scan), Some(SHORT_TERM_COUNT + 1)),
        };
        let mut qb: QueryBuilder<DB> = if LEAD_TALLIES && tallies_answer(q) {
            let mut qb = QueryBuilder::new(
                "SELECT t.stage AS stage, CAST(SUM(t.n) AS BIGINT) AS n FROM lead_tallies t WHERE t.n <> 0",
            );
            push_who_filters(&mut qb, q, &TALLIES_WHO);
            qb.push(" GROUP BY t.stage");
            qb
        } else {
            let mut qb = QueryBuilder::new(
                "SELECT x.stage AS stage, COUNT(*) AS n FROM (SELECT l.stage AS stage FROM leads l WHERE 1 = 1",
            );
            push_lead_filters(&mut qb, q, plan.as_ref());
            if let Some(cap) = cap {
                qb.push(" LIMIT ").push_bind(cap);
            }
            qb.push(") x GROUP BY x.stage");
            qb
        };
        let rows = qb.build().fetch_all(&self.pool).await?;
        let mut out = Vec::new();
        for r in rows {
            let s: String = r.try_get("stage")?;
            out.push((
                Stage::parse(&s).map_err(|_| corrupt("stage", &s))?,
                r.try_get("n")?,
            ));
        }
        out.sort_by_key(|(s, _)| *s);
        let exact = match plan {
            Some(TextPlan::Ids(_, false)) => false,
            Some(TextPlan::Scan) => {
                bounded_total(out.iter().map(|(_, n)| n).sum(), SHORT_TERM_COUNT).exact
            }
            _ => true,
        };
        Ok((out, exact))
    }

    /// How many leads match with the search read one way, stopping at `cap` if given.
    async fn count_with(&self, q: &LeadQuery, text: &TextPlan, cap: Option<i64>) -> Result<i64> {
        let mut qb: QueryBuilder<DB> =
            QueryBuilder::new("SELECT COUNT(*) FROM (SELECT 1 FROM leads l WHERE 1 = 1");
        push_lead_filters(&mut qb, q, Some(text));
        if let Some(cap) = cap {
            qb.push(" LIMIT ").push_bind(cap);
        }
        qb.push(") x");
        Ok(qb.build_query_scalar::<i64>().fetch_one(&self.pool).await?)
    }

    /// A page of the list, the search read one way; `bound` stops the walk at a position.
    async fn lead_rows(
        &self,
        q: &LeadQuery,
        text: Option<&TextPlan>,
        bound: Option<&Cursor>,
    ) -> Result<Vec<LeadRow>> {
        let (cols, _) = q.sort.columns();
        // The page's leads are chosen first, on the leads alone; their contact, first email and
        // phone, company and owner are then read for those rows only. In one query SQLite read
        // them for every row it sorted (for a broad search, thousands) before keeping the page.
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
            "SELECT {LEAD_COLS}, {keys}, c.full_name AS contact_name, \
             (SELECT e.normalized FROM contact_emails e WHERE e.contact_id = c.id ORDER BY e.normalized LIMIT 1) AS email, \
             (SELECT COALESCE(p.e164, p.raw) FROM contact_phones p WHERE p.contact_id = c.id ORDER BY p.valid DESC LIMIT 1) AS phone, \
             a.name AS company, u.name AS owner_name \
             FROM (SELECT l.id AS page_id FROM leads l WHERE 1 = 1",
            keys = cols
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c} AS sort_key{i}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        push_lead_filters(&mut qb, q, text);
        let backward = push_order(&mut qb, q, bound);
        qb.push(
            ") page JOIN leads l ON l.id = page.page_id JOIN contacts c ON c.id = l.contact_id \
             LEFT JOIN accounts a ON a.id = c.account_id LEFT JOIN users u ON u.id = l.owner_id",
        );
        qb.push(order_by(q).0);
        let rows = qb.build().fetch_all(&self.pool).await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(LeadRow {
                    lead: lead_from(r)?,
                    contact_name: r.try_get("contact_name")?,
                    email: r.try_get("email")?,
                    phone: r.try_get("phone")?,
                    company: r.try_get("company")?,
                    owner_name: r.try_get("owner_name")?,
                    sort_keys: (0..cols.len())
                        .map(|i| r.try_get::<i64, _>(format!("sort_key{i}").as_str()))
                        .collect::<std::result::Result<Vec<_>, _>>()?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if backward {
            out.reverse();
        }
        Ok(out)
    }
}

/// Adds the cursor's condition (and a walk's bound), the order and the page's LIMIT; returns
/// whether the page is walked backwards (it is then in reverse order).
fn push_order<'a>(qb: &mut QueryBuilder<'a, DB>, q: &'a LeadQuery, bound: Option<&Cursor>) -> bool {
    let (cols, _) = q.sort.columns();
    let (order, walk_desc, backward) = order_by(q);
    let cursor = if backward {
        q.before.as_ref()
    } else {
        q.after.as_ref()
    };
    let past = |qb: &mut QueryBuilder<'a, DB>, at: &Cursor, op: &str| {
        qb.push(format!(" AND ({}, l.id) {op} (", cols.join(", ")));
        let mut sep = qb.separated(", ");
        for k in &at.keys {
            sep.push_bind(*k);
        }
        sep.push_bind(at.id);
        qb.push(")");
    };
    if let Some(at) = cursor.filter(|a| a.keys.len() == cols.len()) {
        past(qb, at, if walk_desc { "<" } else { ">" });
    }
    if let Some(at) = bound.filter(|a| a.keys.len() == cols.len()) {
        past(qb, at, if walk_desc { ">=" } else { "<=" });
    }
    qb.push(order);
    qb.push(" LIMIT ").push_bind(q.limit.clamp(1, 1000));
    backward
}

/// The ORDER BY a page is walked in, whether it walks descending, and whether it walks
/// backwards (from a `before` cursor: the reversed order, the page flipped back afterwards).
fn order_by(q: &LeadQuery) -> (String, bool, bool) {
    let (cols, desc) = q.sort.columns();
    let backward = q.after.is_none() && q.before.is_some();
    let walk_desc = desc != backward;
    let dir = if walk_desc { " DESC" } else { " ASC" };
    let mut order = String::from(" ORDER BY ");
    for c in cols {
        order.push_str(c);
        order.push_str(dir);
        order.push_str(", ");
    }
    order.push_str("l.id");
    order.push_str(dir);
    (order, walk_desc, backward)
}

/// Whether the per-stage-and-owner tallies answer this query's count: it filters on nothing
/// but stages, owner and visibility.
fn tallies_answer(q: &LeadQuery) -> bool {
    let LeadQuery {
        visibility: _,
        stages: _,
        owner: _,
        temperature,
        source,
        medium,
        campaign,
        form_id,
        contact_id,
        created_from,
        created_to,
        text,
        min_conversion,
        fit_level,
        activity,
        tag,
        sort: _,
        after: _,
        before: _,
        limit: _,
    } = q;
    temperature.is_none()
        && source.is_none()
        && medium.is_none()
        && campaign.is_none()
        && form_id.is_none()
        && contact_id.is_none()
        && created_from.is_none()
        && created_to.is_none()
        && text.as_deref().is_none_or(|t| t.trim().is_empty())
        && min_conversion.is_none()
        && fit_level.is_none()
        && activity.is_none()
        && tag.is_none()
}

/// Where a table keeps a lead's stage and owner, for [`push_who_filters`].
struct WhoColumns {
    stage: &'static str,
    owner: &'static str,
    unassigned: &'static str,
}

const LEADS_WHO: WhoColumns = WhoColumns {
    stage: "l.stage",
    owner: "l.owner_id",
    unassigned: "l.owner_id IS NULL",
};

/// `lead_tallies t` keeps unassigned leads under owner 0.
const TALLIES_WHO: WhoColumns = WhoColumns {
    stage: "t.stage",
    owner: "t.owner_key",
    unassigned: "t.owner_key = 0",
};

/// The query's visibility (who may see which leads), stages and owner: the conditions the
/// lead list and the tallies share, so that both enforce visibility the same way.
fn push_who_filters<'a>(qb: &mut QueryBuilder<'a, DB>, q: &'a LeadQuery, c: &WhoColumns) {
    match &q.visibility {
        Visibility::All => {}
        Visibility::Owner(u) => {
            qb.push(format!(" AND {} = ", c.owner)).push_bind(*u);
        }
        Visibility::Team(t) => {
            qb.push(format!(
                " AND ({} OR {} IN (SELECT id FROM users WHERE team_id = ",
                c.unassigned, c.owner
            ))
            .push_bind(*t)
            .push("))");
        }
    }
    if !q.stages.is_empty() {
        qb.push(format!(" AND {} IN (", c.stage));
        let mut sep = qb.separated(", ");
        for s in &q.stages {
            sep.push_bind(s.as_str());
        }
        qb.push(")");
    }
    match q.owner {
        Some(Some(o)) => {
            qb.push(format!(" AND {} = ", c.owner)).push_bind(o);
        }
        Some(None) => {
            qb.push(format!(" AND {}", c.unassigned));
        }
        None => {}
    }
}

fn pair_from(r: &<DB as sqlx::Database>::Row) -> Result<DuplicatePair> {
    let explanation: String = r.try_get("explanation")?;
    Ok(DuplicatePair {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        other_lead_id: r.try_get("other_lead_id")?,
        probability: r.try_get("probability")?,
        // The compact form, or a JSON object as pairs were stored before it.
        explanation: match voronka_core::linkage::Comparison::from_compact(&explanation) {
            Some(c) => serde_json::to_value(c).unwrap_or_default(),
            None => {
                serde_json::from_str(&explanation).unwrap_or(serde_json::Value::String(explanation))
            }
        },
        status: r.try_get("status")?,
        created_at: r.try_get("created_at")?,
        resolved_at: r.try_get("resolved_at")?,
        resolved_by: r.try_get("resolved_by")?,
    })
}

fn merge_from(r: &<DB as sqlx::Database>::Row) -> Result<MergeRecord> {
    Ok(MergeRecord {
        id: r.try_get("id")?,
        survivor_lead_id: r.try_get("survivor_lead_id")?,
        merged_lead_id: r.try_get("merged_lead_id")?,
        actor: r.try_get("actor")?,
        at: r.try_get("at")?,
        undone_at: r.try_get("undone_at")?,
        snapshot: r.try_get("snapshot")?,
    })
}

/// Stages whose leads the predictive model learns from (converted = won, refused = lost);
/// junk is neither.
const CLOSED_STAGES: &str = "('converted', 'refused')";
/// The open stages, as SQL: leads that get a probability of conversion and count toward a
/// salesperson's load. PostgreSQL's index `leads_owner_open` (migration 0020) names the same list
/// in its predicate, which is what lets routing's count of open leads read that index alone.
const OPEN_STAGES: &str = "('new', 'working', 'mql', 'sql')";

/// A lead's feature row: one row per lead, followed by ` AND l.stage IN (…)`.
const FEATURE_SQL: &str = "SELECT l.id, l.stage, l.source, l.medium, l.campaign, l.form_id, l.product, \
    l.kind, l.value_minor, l.score, l.touches, l.created_at, l.first_response_at, c.country, c.position, \
    c.account_id, \
    (SELECT COUNT(*) FROM contact_phones p WHERE p.contact_id = c.id AND p.valid) AS valid_phones, \
    (SELECT COUNT(*) FROM contact_emails e WHERE e.contact_id = c.id) AS emails \
    FROM leads l JOIN contacts c ON c.id = l.contact_id WHERE l.merged_into IS NULL";

fn features_from(
    r: &DbRow,
    behaviour: &mut std::collections::HashMap<Id, std::collections::BTreeMap<String, i64>>,
) -> Result<(Id, String, voronka_core::predict::LeadFeatures)> {
    use voronka_core::predict::features::{fit_fields, TOUCHES};
    let id: Id = r.try_get("id")?;
    let stage: String = r.try_get("stage")?;
    let kind: String = r.try_get("kind")?;
    let position: Option<String> = r.try_get("position")?;
    let account: Option<Id> = r.try_get("account_id")?;
    let created: Millis = r.try_get("created_at")?;
    let first: Option<Millis> = r.try_get("first_response_at")?;
    let form: Option<Id> = r.try_get("form_id")?;
    let mut counts = behaviour.remove(&id).unwrap_or_default();
    counts.insert(TOUCHES.to_string(), r.try_get("touches")?);
    let f = voronka_core::predict::LeadFeatures {
        source: r.try_get("source")?,
        medium: r.try_get("medium")?,
        campaign: r.try_get("campaign")?,
        form: form.map(|f| f.to_string()),
        product: r.try_get("product")?,
        country: r.try_get("country")?,
        phone_valid: r.try_get::<i64, _>("valid_phones")? > 0,
        email_valid: r.try_get::<i64, _>("emails")? > 0,
        fit: fit_fields(
            position.as_deref(),
            account.is_some(),
            &kind,
            r.try_get("value_minor")?,
            r.try_get("score")?,
        ),
        behaviour: counts,
        first_response_ms: first.map(|t| (t - created).max(0)),
    };
    Ok((id, stage, f))
}

impl SqlStore {
    /// Behaviour counts of the leads `which` selects (a condition on `l`): lead → (name →
    /// count), from touches per channel and tracked events.
    async fn behaviour_counts(
        &self,
        which: &str,
    ) -> Result<std::collections::HashMap<Id, std::collections::BTreeMap<String, i64>>> {
        // Tracked events count too; for a closed lead only those until it closed (its last
        // update), so that what happened after the outcome does not teach the outcome.
        let sql = format!(
            "SELECT t.lead_id, 'channel.' || t.channel AS name, COUNT(*) AS n FROM touches t \
             JOIN leads l ON l.id = t.lead_id WHERE l.merged_into IS NULL AND {which} \
             GROUP BY t.lead_id, t.channel \
             UNION ALL \
             SELECT e.lead_id, 'event.' || e.name AS name, COUNT(*) AS n FROM events e \
             JOIN leads l ON l.id = e.lead_id WHERE l.merged_into IS NULL AND {which} \
             AND (l.stage NOT IN ('converted', 'refused', 'junk') OR e.at <= l.updated_at) \
             GROUP BY e.lead_id, e.name"
        );
        let mut out: std::collections::HashMap<Id, std::collections::BTreeMap<String, i64>> =
            std::collections::HashMap::new();
        let mut rows = sqlx::query(&sql).fetch(&self.pool);
        while let Some(r) = futures::TryStreamExt::try_next(&mut rows).await? {
            out.entry(r.try_get("lead_id")?)
                .or_default()
                .insert(r.try_get("name")?, r.try_get("n")?);
        }
        Ok(out)
    }

    /// The features of the leads `which` selects (a condition on `l`).
    async fn features_where(
        &self,
        which: &str,
    ) -> Result<Vec<(Id, voronka_core::predict::LeadFeatures)>> {
        let mut behaviour = self.behaviour_counts(which).await?;
        let sql = format!("{FEATURE_SQL} AND {which}");
        let mut rows = sqlx::query(&sql).fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(r) = futures::TryStreamExt::try_next(&mut rows).await? {
            let (id, _, f) = features_from(&r, &mut behaviour)?;
            out.push((id, f));
        }
        Ok(out)
    }

    async fn contact_by_id(&self, id: Id) -> Result<Option<Contact>> {
        let Some(r) = sqlx::query("SELECT * FROM contacts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let phones =
            sqlx::query("SELECT raw, e164, valid FROM contact_phones WHERE contact_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|p| {
                    Ok(Phone {
                        raw: p.try_get("raw")?,
                        e164: p.try_get("e164")?,
                        valid: p.try_get("valid")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
        let emails =
            sqlx::query("SELECT raw, normalized FROM contact_emails WHERE contact_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|e| {
                    Ok(Email {
                        raw: e.try_get("raw")?,
                        normalized: e.try_get("normalized")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
        let socials: Vec<String> =
            sqlx::query_scalar("SELECT url FROM contact_socials WHERE contact_id = $1")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(Contact {
            id,
            full_name: r.try_get("full_name")?,
            first_name: r.try_get("first_name")?,
            last_name: r.try_get("last_name")?,
            emails,
            phones,
            socials,
            position: r.try_get("position")?,
            country: r.try_get("country")?,
            language: r.try_get("language")?,
            account_id: r.try_get("account_id")?,
            created_at: r.try_get("created_at")?,
            erased_at: r.try_get("erased_at")?,
        }))
    }

    async fn account_by_id(&self, id: Option<Id>) -> Result<Option<Account>> {
        let Some(id) = id else { return Ok(None) };
        sqlx::query("SELECT * FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| account_from(&r))
            .transpose()
    }

    async fn lead_briefs(&self, sql: &str, id: Id) -> Result<Vec<LeadBrief>> {
        sqlx::query(sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(lead_brief_from)
            .collect()
    }

    async fn touches_of(&self, sql: &str, id: Id) -> Result<Vec<Touch>> {
        sqlx::query(sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(touch_from)
            .collect()
    }

    async fn history_of(&self, sql: &str, id: Id) -> Result<Vec<StageChange>> {
        sqlx::query(sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(stage_change_from)
            .collect()
    }

    async fn deals_of(&self, sql: &str, id: Id) -> Result<Vec<Deal>> {
        sqlx::query(sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(deal_from)
            .collect()
    }
}

const BRIEF_COLS: &str = "id, product, stage, temperature, owner_id, created_at";

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        BACKEND
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        // An index file of another database (or of an older copy of this one) is emptied
        // before anything searches it.
        self.search_pass(0).await?;
        sqlx::query("INSERT INTO counters (name, value) VALUES ('round_robin', 0) ON CONFLICT (name) DO NOTHING")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn optimize(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        for sql in OPTIMIZE_SQL {
            sqlx::query(sql).execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn checkpoint_log(&self) -> Result<bool> {
        if BACKEND != Backend::Sqlite {
            return Ok(true);
        }
        if let Some(indexer) = &self.indexer {
            // The changes the search index has taken in are no longer needed.
            let applied: i64 = sqlx::query_scalar("SELECT changes_upto FROM search.search_state")
                .fetch_one(indexer)
                .await?;
            let stale: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM search_changes WHERE seq <= $1)")
                    .bind(applied)
                    .fetch_one(&self.pool)
                    .await?;
            if stale {
                let mut t = self.begin_unsynced_tx().await?;
                sqlx::query("DELETE FROM search_changes WHERE seq <= $1")
                    .bind(applied)
                    .execute(&mut *t.tx)
                    .await?;
                t.finish().await?;
            }
        }
        // `main`: the search index's file is attached read-only to these connections; its
        // own log is checkpointed through the indexer's connection, which writes it. RESTART,
        // not TRUNCATE: single events committed after a truncation, while the log grew again,
        // took p50 0.73–0.88 ms against 0.44 ms in a log whose file is reused.
        // (busy, log frames, frames checkpointed); busy = 1 when a reader kept it from finishing.
        let row = sqlx::query("PRAGMA main.wal_checkpoint(RESTART)")
            .fetch_one(&self.pool)
            .await?;
        let busy: i64 = row.try_get(0)?;
        if let Some(indexer) = &self.indexer {
            sqlx::query("PRAGMA search.wal_checkpoint(TRUNCATE)")
                .fetch_one(indexer)
                .await?;
        }
        Ok(busy == 0)
    }

    async fn truncate_log(&self) -> Result<()> {
        if BACKEND != Backend::Sqlite || self.deferred.is_none() {
            return Ok(());
        }
        // Waits for the writers of this process, whose turn it takes.
        let _turn = self.writer_turn().await;
        sqlx::query("PRAGMA main.wal_checkpoint(TRUNCATE)")
            .fetch_one(&self.pool)
            .await?;
        Ok(())
    }

    async fn begin(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(self.begin_tx().await?))
    }

    async fn index_search(&self, limit: i64) -> Result<SearchSlice> {
        self.search_pass(limit.max(1)).await
    }

    async fn begin_deferred_sync(&self) -> Result<Box<dyn Tx>> {
        Ok(Box::new(self.begin_unsynced_tx().await?))
    }

    async fn candidates_ahead(&self, subs: &[&Normalized]) -> Result<Vec<Candidate>> {
        let pool = self.ahead.as_ref().unwrap_or(&self.pool);
        let mut tx = OpenTx::pooled(pool, None, None).await?;
        let found = candidates_in(&mut tx, subs).await?;
        tx.rollback().await?;
        Ok(found)
    }

    async fn sync_log(&self) -> Result<()> {
        let Some((_, wal)) = &self.deferred else {
            return Ok(());
        };
        let wal = wal.clone();
        let synced = tokio::task::spawn_blocking(move || match std::fs::File::open(&wal) {
            // fsync flushes the file whichever descriptor asks.
            Ok(f) => f.sync_data(),
            // No log: everything was checkpointed into the database file, and synced there.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        })
        .await
        .map_err(|e| StoreError::Io(format!("syncing the write-ahead log: {e}")))?;
        synced.map_err(|e| StoreError::Io(format!("syncing the write-ahead log: {e}")))
    }

    async fn lead(&self, id: Id) -> Result<Option<Lead>> {
        sqlx::query(&format!("SELECT {LEAD_COLS} FROM leads l WHERE l.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| lead_from(&r))
            .transpose()
    }

    async fn lead_detail(&self, id: Id) -> Result<Option<LeadDetail>> {
        let Some(r) = sqlx::query(&format!(
            "SELECT {LEAD_COLS}, l.reasons, l.route_explanation, l.route_coded FROM leads l WHERE l.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let lead = lead_from(&r)?;
        let reasons: String = r.try_get("reasons")?;
        let route = notice_in(&r, "route_coded")?;
        let route_explanation: Option<String> = match &route {
            Some(n) => Some(n.text()),
            None => r.try_get("route_explanation")?,
        };
        let contact = self
            .contact_by_id(lead.contact_id)
            .await?
            .ok_or_else(|| corrupt("lead without contact", &lead.id.to_string()))?;
        let account = self.account_by_id(contact.account_id).await?;
        let owner = match lead.owner_id {
            Some(o) => sqlx::query("SELECT id, name, email FROM users WHERE id = $1")
                .bind(o)
                .fetch_optional(&self.pool)
                .await?
                .map(|u| -> Result<UserBrief> {
                    Ok(UserBrief {
                        id: u.try_get("id")?,
                        name: u.try_get("name")?,
                        email: u.try_get("email")?,
                    })
                })
                .transpose()?,
            None => None,
        };
        let touches = self
            .touches_of(
                "SELECT * FROM touches WHERE lead_id = $1 ORDER BY created_at DESC, id DESC",
                id,
            )
            .await?;
        let history = self
            .history_of(
                "SELECT * FROM stage_changes WHERE lead_id = $1 ORDER BY at, id",
                id,
            )
            .await?;
        let notes =
            sqlx::query("SELECT * FROM notes WHERE lead_id = $1 ORDER BY created_at DESC, id DESC")
                .bind(id)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|n| {
                    Ok(Note {
                        id: n.try_get("id")?,
                        lead_id: n.try_get("lead_id")?,
                        author_id: n.try_get("author_id")?,
                        author: n.try_get("author")?,
                        body: n.try_get("body")?,
                        created_at: n.try_get("created_at")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
        let customer = match lead.customer_id {
            Some(c) => sqlx::query("SELECT * FROM customers WHERE id = $1")
                .bind(c)
                .fetch_optional(&self.pool)
                .await?
                .map(|r| customer_from(&r))
                .transpose()?,
            None => None,
        };
        let deals = self
            .deals_of(
                "SELECT * FROM deals WHERE lead_id = $1 ORDER BY created_at, id",
                id,
            )
            .await?;
        let other_leads = self
            .lead_briefs(
                &format!("SELECT {BRIEF_COLS} FROM leads WHERE contact_id = $1 AND merged_into IS NULL ORDER BY created_at DESC"),
                lead.contact_id,
            )
            .await?
            .into_iter()
            .filter(|b| b.id != id)
            .collect();
        Ok(Some(LeadDetail {
            lead,
            contact,
            account,
            owner,
            touches,
            history,
            notes,
            customer,
            deals,
            // Stored without the messages the catalog makes from the values; read with them.
            reasons: match serde_json::from_str::<Vec<voronka_core::intake::Reason>>(&reasons) {
                Ok(list) => serde_json::to_value(list).unwrap_or_default(),
                Err(_) => serde_json::from_str(&reasons).unwrap_or(serde_json::Value::Null),
            },
            route_explanation,
            route,
            other_leads,
            score: crate::ScoreStore::lead_score(self, id).await?,
            tags: self
                .tags_of_leads(&[id])
                .await?
                .remove(&id)
                .unwrap_or_default(),
        }))
    }

    async fn list_leads(&self, q: &LeadQuery) -> Result<Vec<LeadRow>> {
        let matches = self.matches_for(q).await?;
        self.page_rows(q, matches.as_ref()).await
    }

    fn set_search_limits(&self, breadth: i64, walk: i64) {
        use std::sync::atomic::Ordering::Relaxed;
        self.search.breadth.store(breadth.max(1), Relaxed);
        self.search.walk.store(walk.max(1), Relaxed);
    }

    async fn list_leads_page(&self, q: &LeadQuery, tabs: bool) -> Result<LeadPage> {
        // The index is asked once; the rows, the total and the tabs all read its answer.
        let matches = self.matches_for(q).await?;
        let rows = self.page_rows(q, matches.as_ref()).await?;
        let total = self.page_total(q, matches.as_ref(), rows.len()).await?;
        let tabs = if tabs {
            // The tabs are the stages: they honour every filter but the stage.
            let all_stages = LeadQuery {
                stages: Vec::new(),
                ..q.clone()
            };
            Some(self.tabs_with(&all_stages, matches.as_ref()).await?)
        } else {
            None
        };
        Ok(LeadPage { rows, total, tabs })
    }

    async fn count_leads(&self, q: &LeadQuery) -> Result<i64> {
        if LEAD_TALLIES && tallies_answer(q) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "SELECT CAST(COALESCE(SUM(t.n), 0) AS BIGINT) FROM lead_tallies t WHERE 1 = 1",
            );
            push_who_filters(&mut qb, q, &TALLIES_WHO);
            return Ok(qb.build_query_scalar::<i64>().fetch_one(&self.pool).await?);
        }
        let mut qb: QueryBuilder<DB> =
            QueryBuilder::new("SELECT COUNT(*) FROM leads l WHERE 1 = 1");
        push_lead_filters(&mut qb, q, Some(&TextPlan::Index));
        Ok(qb.build_query_scalar::<i64>().fetch_one(&self.pool).await?)
    }

    async fn stage_counts(&self, q: &LeadQuery) -> Result<(Vec<(Stage, i64)>, bool)> {
        let matches = self.matches_for(q).await?;
        self.tabs_with(q, matches.as_ref()).await
    }

    async fn contact_detail(&self, id: Id) -> Result<Option<ContactDetail>> {
        let Some(contact) = self.contact_by_id(id).await? else {
            return Ok(None);
        };
        let account = self.account_by_id(contact.account_id).await?;
        let leads = self
            .lead_briefs(
                &format!("SELECT {BRIEF_COLS} FROM leads WHERE contact_id = $1 AND merged_into IS NULL ORDER BY created_at DESC"),
                id,
            )
            .await?;
        // The person's own customer, or the company's that one of their leads became.
        let customer = sqlx::query(
            "SELECT * FROM customers WHERE contact_id = $1 OR id IN \
             (SELECT customer_id FROM leads WHERE contact_id = $1 AND customer_id IS NOT NULL) \
             ORDER BY CASE WHEN contact_id = $1 THEN 0 ELSE 1 END, id LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| customer_from(&r))
        .transpose()?;
        Ok(Some(ContactDetail {
            contact,
            account,
            leads,
            customer,
        }))
    }

    async fn list_contacts(&self, q: &SimpleQuery) -> Result<Vec<ContactRow>> {
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
            "SELECT {CONTACT_ROW_COLS} FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id \
             WHERE 1 = 1"
        ));
        push_through_leads(&mut qb, "c.id", "contact_id", q);
        push_page(&mut qb, "c.id DESC", q);
        qb.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(contact_row_from)
            .collect()
    }

    async fn account(
        &self,
        id: Id,
        who: &Visibility,
    ) -> Result<Option<(Account, Vec<ContactRow>)>> {
        let Some(a) = self.account_by_id(Some(id)).await? else {
            return Ok(None);
        };
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
            "SELECT {CONTACT_ROW_COLS} FROM contacts c JOIN accounts a ON a.id = c.account_id \
             WHERE c.account_id = "
        ));
        qb.push_bind(id);
        push_visible(&mut qb, "c.id", "contact_id", who);
        qb.push(" ORDER BY c.id");
        let contacts = qb
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(contact_row_from)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((a, contacts)))
    }

    async fn list_accounts(&self, q: &SimpleQuery) -> Result<Vec<Account>> {
        let mut qb: QueryBuilder<DB> = QueryBuilder::new("SELECT * FROM accounts WHERE 1 = 1");
        // An account is seen through a contact of a lead the reader may see.
        if q.visibility != Visibility::All {
            qb.push(" AND id IN (SELECT c.account_id FROM contacts c WHERE 1 = 1");
            push_visible(&mut qb, "c.id", "contact_id", &q.visibility);
            qb.push(")");
        }
        if let Some(t) = q.text.as_deref().filter(|t| !t.trim().is_empty()) {
            // Searched as names are kept: "ООО «Ромашка»" finds "Ромашка".
            let key = voronka_core::intake::keys::account_key(t);
            qb.push(" AND name_key LIKE ")
                .push_bind(like_pattern(if key.is_empty() { t } else { &key }))
                .push(" ESCAPE '\\'");
        }
        qb.push(" ORDER BY name LIMIT ")
            .push_bind(q.limit.clamp(1, 1000))
            .push(" OFFSET ")
            .push_bind(q.offset.max(0));
        qb.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(account_from)
            .collect()
    }

    async fn customer_detail(&self, id: Id) -> Result<Option<CustomerDetail>> {
        let Some(r) = sqlx::query("SELECT * FROM customers WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(None);
        };
        let customer = customer_from(&r)?;
        let contact = self
            .contact_by_id(customer.contact_id)
            .await?
            .ok_or_else(|| corrupt("customer without contact", &id.to_string()))?;
        let account = self.account_by_id(customer.account_id).await?;
        let deals = self
            .deals_of(
                "SELECT * FROM deals WHERE customer_id = $1 ORDER BY created_at DESC, id DESC",
                id,
            )
            .await?;
        // The customer's leads: those converted into it (a company's, by any of its people) and
        // every other lead of its person.
        let of_customer = "(l.customer_id = $1 OR l.contact_id = \
                           (SELECT contact_id FROM customers WHERE id = $1))";
        let leads = self
            .lead_briefs(
                &format!(
                    "SELECT {BRIEF_COLS} FROM leads l WHERE {of_customer} AND merged_into IS NULL \
                     ORDER BY created_at DESC"
                ),
                id,
            )
            .await?;
        let timeline = self
            .touches_of(
                &format!(
                    "SELECT t.* FROM touches t JOIN leads l ON l.id = t.lead_id WHERE {of_customer} \
                     ORDER BY t.created_at DESC, t.id DESC"
                ),
                id,
            )
            .await?;
        let history = self
            .history_of(
                &format!(
                    "SELECT s.* FROM stage_changes s JOIN leads l ON l.id = s.lead_id WHERE {of_customer} \
                     ORDER BY s.at, s.id"
                ),
                id,
            )
            .await?;
        let people: Vec<(Id, String)> = sqlx::query_as(
            "SELECT DISTINCT c.id, c.full_name FROM contacts c JOIN leads l ON l.contact_id = c.id \
             WHERE l.customer_id = $1 AND c.id <> $2 AND c.merged_into IS NULL ORDER BY c.id",
        )
        .bind(id)
        .bind(customer.contact_id)
        .fetch_all(&self.pool)
        .await?;
        let merged_from = sqlx::query(&format!(
            "SELECT {CUSTOMER_MERGE_COLS} FROM customer_merges \
             WHERE into_id = $1 AND undone_at IS NULL ORDER BY at DESC, id DESC"
        ))
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(customer_merge_from)
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(CustomerDetail {
            customer,
            contact,
            account,
            deals,
            leads,
            timeline,
            history,
            people,
            merged_from,
        }))
    }

    async fn customer_merged_into(&self, id: Id) -> Result<Option<Id>> {
        // A merge re-points the merges into the customer it removes, so one step is the last.
        Ok(sqlx::query_scalar(
            "SELECT into_id FROM customer_merges WHERE from_id = $1 AND undone_at IS NULL \
             ORDER BY id DESC LIMIT 1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn customer_merge(&self, id: Id) -> Result<Option<CustomerMerge>> {
        sqlx::query(&format!(
            "SELECT {CUSTOMER_MERGE_COLS} FROM customer_merges WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| customer_merge_from(&r))
        .transpose()
    }

    async fn customer_look_alikes(&self, id: Id, limit: i64) -> Result<Vec<Customer>> {
        sqlx::query(
            "SELECT o.* FROM customers c JOIN customers o ON o.id <> c.id \
             AND (o.account_id = c.account_id OR o.name = c.name) \
             WHERE c.id = $1 ORDER BY o.id LIMIT $2",
        )
        .bind(id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(customer_from)
        .collect()
    }

    async fn list_customers(&self, q: &SimpleQuery) -> Result<Vec<Customer>> {
        let mut qb: QueryBuilder<DB> = QueryBuilder::new("SELECT * FROM customers WHERE 1 = 1");
        // Seen and found through the leads converted into it.
        push_through_leads(&mut qb, "id", "customer_id", q);
        push_page(&mut qb, "id DESC", q);
        qb.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(customer_from)
            .collect()
    }

    async fn customers_of_account(&self, account_id: Id) -> Result<Vec<Customer>> {
        sqlx::query("SELECT * FROM customers WHERE account_id = $1 ORDER BY id")
            .bind(account_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(customer_from)
            .collect()
    }

    async fn customer_summaries(&self, ids: &[Id]) -> Result<Vec<CustomerSummary>> {
        let mut out: Vec<CustomerSummary> = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "SELECT cu.id, c.full_name FROM customers cu JOIN contacts c ON c.id = cu.contact_id \
                 WHERE cu.id IN (",
            );
            push_ids(&mut qb, chunk);
            qb.push(")");
            let people: Vec<(Id, String)> = qb.build_query_as().fetch_all(&self.pool).await?;
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "SELECT customer_id, currency, COUNT(*) AS n, CAST(SUM(amount_minor) AS BIGINT) AS total, \
                 MAX(created_at) AS last FROM deals WHERE customer_id IN (",
            );
            push_ids(&mut qb, chunk);
            qb.push(") GROUP BY customer_id, currency");
            let sums: Vec<(Id, String, i64, i64, Millis)> =
                qb.build_query_as().fetch_all(&self.pool).await?;
            for (customer_id, contact_name) in people {
                let mut mine: Vec<&(Id, String, i64, i64, Millis)> =
                    sums.iter().filter(|r| r.0 == customer_id).collect();
                mine.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.1.cmp(&b.1)));
                let revenue = mine
                    .iter()
                    .map(|(_, cur, _, total, _)| {
                        Ok(Money::new(
                            *total,
                            Currency::parse(cur).map_err(|_| corrupt("currency", cur))?,
                        ))
                    })
                    .collect::<Result<Vec<Money>>>()?;
                out.push(CustomerSummary {
                    customer_id,
                    contact_name,
                    deals: mine.iter().map(|r| r.2).sum(),
                    revenue,
                    last_deal_at: mine.iter().map(|r| r.4).max(),
                });
            }
        }
        Ok(out)
    }

    async fn deal(&self, id: Id) -> Result<Option<Deal>> {
        sqlx::query("SELECT * FROM deals WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| deal_from(&r))
            .transpose()
    }

    async fn list_deals(&self, q: &SimpleQuery) -> Result<Vec<Deal>> {
        // A deal is seen by whoever may see the lead it came from.
        let mut qb: QueryBuilder<DB> = QueryBuilder::new("SELECT * FROM deals WHERE 1 = 1");
        push_through_leads(&mut qb, "lead_id", "id", q);
        push_page(&mut qb, "created_at DESC, id DESC", q);
        qb.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(deal_from)
            .collect()
    }

    async fn count_interests(&self, since: Millis) -> Result<InterestCounts> {
        let r = sqlx::query(
            "SELECT CAST(COALESCE(SUM(CASE WHEN rejected THEN 0 ELSE 1 END), 0) AS BIGINT) AS i, \
             CAST(COALESCE(SUM(CASE WHEN rejected THEN 1 ELSE 0 END), 0) AS BIGINT) AS r \
             FROM interests WHERE created_at >= $1",
        )
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(InterestCounts {
            interests: r.try_get("i")?,
            rejected: r.try_get("r")?,
        })
    }

    async fn create_form(&self, f: &NewForm) -> Result<Form> {
        let r = sqlx::query(
            "INSERT INTO forms (public_key, name, redirect_url, allowed_origins, default_region, product, \
             honeypot_field, min_fill_ms, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, TRUE, $9) \
             RETURNING *",
        )
        .bind(&f.public_key)
        .bind(&f.name)
        .bind(&f.redirect_url)
        .bind(f.allowed_origins.join(" "))
        .bind(&f.default_region)
        .bind(&f.product)
        .bind(&f.honeypot_field)
        .bind(f.min_fill_ms)
        .bind(f.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::from_db(e, crate::Unique::FormKey))?;
        form_from(&r)
    }

    async fn update_form(&self, f: &Form) -> Result<()> {
        let done = sqlx::query(
            "UPDATE forms SET name = $1, redirect_url = $2, allowed_origins = $3, default_region = $4, \
             product = $5, honeypot_field = $6, min_fill_ms = $7, active = $8 WHERE id = $9",
        )
        .bind(&f.name)
        .bind(&f.redirect_url)
        .bind(f.allowed_origins.join(" "))
        .bind(&f.default_region)
        .bind(&f.product)
        .bind(&f.honeypot_field)
        .bind(f.min_fill_ms)
        .bind(f.active)
        .bind(f.id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn form(&self, id: Id) -> Result<Option<Form>> {
        sqlx::query("SELECT * FROM forms WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| form_from(&r))
            .transpose()
    }

    async fn form_by_key(&self, key: &str) -> Result<Option<Form>> {
        sqlx::query("SELECT * FROM forms WHERE public_key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| form_from(&r))
            .transpose()
    }

    async fn list_forms(&self) -> Result<Vec<FormStats>> {
        let rows = sqlx::query(
            "SELECT f.*, \
             (SELECT COUNT(*) FROM leads l WHERE l.form_id = f.id) AS n_leads, \
             (SELECT COUNT(*) FROM interests i WHERE i.form_id = f.id AND NOT i.rejected) AS n_interests, \
             (SELECT COUNT(*) FROM interests i WHERE i.form_id = f.id AND i.rejected) AS n_rejected \
             FROM forms f ORDER BY f.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FormStats {
                    form: form_from(r)?,
                    leads: r.try_get("n_leads")?,
                    interests: r.try_get("n_interests")?,
                    rejected: r.try_get("n_rejected")?,
                })
            })
            .collect()
    }

    async fn set_form_definition(
        &self,
        id: Id,
        slug: Option<&str>,
        definition: &str,
    ) -> Result<()> {
        let done = sqlx::query("UPDATE forms SET definition = $1, slug = $2 WHERE id = $3")
            .bind(definition)
            .bind(slug)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| StoreError::from_db(e, crate::Unique::LandingSlug))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn form_by_slug(&self, slug: &str) -> Result<Option<Form>> {
        sqlx::query("SELECT * FROM forms WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| form_from(&r))
            .transpose()
    }

    async fn add_form_event(&self, e: &NewFormEvent) -> Result<()> {
        sqlx::query("INSERT INTO form_events (form_id, variant, kind, visitor_id, at) VALUES ($1, $2, $3, $4, $5)")
            .bind(e.form_id)
            .bind(&e.variant)
            .bind(&e.kind)
            .bind(&e.visitor_id)
            .bind(e.at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn form_event_counts(&self, form_id: Id) -> Result<Vec<FormEventCount>> {
        let rows = sqlx::query(
            "SELECT variant, kind, COUNT(*) AS n FROM form_events WHERE form_id = $1 \
             GROUP BY variant, kind ORDER BY variant, kind",
        )
        .bind(form_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(FormEventCount {
                    variant: r.try_get("variant")?,
                    kind: r.try_get("kind")?,
                    count: r.try_get("n")?,
                })
            })
            .collect()
    }

    async fn create_user(&self, u: &NewUser) -> Result<User> {
        let r = sqlx::query(
            "INSERT INTO users (email, name, password_hash, role, team_id, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, TRUE, $6) RETURNING *",
        )
        .bind(u.email.trim().to_lowercase())
        .bind(&u.name)
        .bind(&u.password_hash)
        .bind(u.role.as_str())
        .bind(u.team_id)
        .bind(u.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::from_db(e, crate::Unique::UserEmail))?;
        user_from(&r)
    }

    async fn user(&self, id: Id) -> Result<Option<User>> {
        sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| user_from(&r))
            .transpose()
    }

    async fn user_with_hash(&self, email: &str) -> Result<Option<(User, String)>> {
        sqlx::query("SELECT * FROM users WHERE email = $1")
            .bind(email.trim().to_lowercase())
            .fetch_optional(&self.pool)
            .await?
            .map(|r| Ok((user_from(&r)?, r.try_get("password_hash")?)))
            .transpose()
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        sqlx::query("SELECT * FROM users ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(user_from)
            .collect()
    }

    async fn update_user(
        &self,
        id: Id,
        role: Role,
        active: bool,
        team_id: Option<Id>,
    ) -> Result<()> {
        let done =
            sqlx::query("UPDATE users SET role = $1, active = $2, team_id = $3 WHERE id = $4")
                .bind(role.as_str())
                .bind(active)
                .bind(team_id)
                .bind(id)
                .execute(&self.pool)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn count_users(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn create_team(&self, name: &str) -> Result<Id> {
        sqlx::query_scalar("INSERT INTO teams (name) VALUES ($1) RETURNING id")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| StoreError::from_db(e, crate::Unique::TeamName))
    }

    async fn list_teams(&self) -> Result<Vec<(Id, String)>> {
        sqlx::query("SELECT id, name FROM teams ORDER BY name")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
            .collect()
    }

    async fn create_token(&self, t: &NewToken) -> Result<Id> {
        sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, scopes, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&t.name)
        .bind(&t.token_hash)
        .bind(t.scopes.to_text())
        .bind(t.user_id)
        .bind(t.created_at)
        .bind(t.expires_at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::from_db(e, crate::Unique::Token))
    }

    async fn token_by_hash(&self, hash: &str) -> Result<Option<ApiToken>> {
        sqlx::query("SELECT * FROM api_tokens WHERE token_hash = $1")
            .bind(hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| token_from(&r))
            .transpose()
    }

    async fn saved_views(&self, user_id: Id) -> Result<Vec<SavedView>> {
        sqlx::query(
            "SELECT v.*, u.name AS owner_name FROM saved_views v JOIN users u ON u.id = v.user_id \
             WHERE v.user_id = $1 OR v.shared ORDER BY v.shared DESC, v.name, v.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(saved_view_from)
        .collect()
    }

    async fn saved_view(&self, id: Id) -> Result<Option<SavedView>> {
        sqlx::query(
            "SELECT v.*, u.name AS owner_name FROM saved_views v JOIN users u ON u.id = v.user_id \
             WHERE v.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| saved_view_from(&r))
        .transpose()
    }

    async fn add_saved_view(
        &self,
        user_id: Id,
        name: &str,
        query: &str,
        shared: bool,
        at: Millis,
    ) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO saved_views (user_id, name, query, shared, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(query)
        .bind(shared)
        .bind(at)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn delete_saved_view(&self, id: Id) -> Result<()> {
        let done = sqlx::query("DELETE FROM saved_views WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_tokens(&self) -> Result<Vec<ApiToken>> {
        sqlx::query("SELECT * FROM api_tokens ORDER BY id")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(token_from)
            .collect()
    }

    async fn revoke_token(&self, id: Id, at: Millis) -> Result<()> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn mark_token_used(&self, id: Id, at: Millis) -> Result<()> {
        // A write outside a transaction queues with the others (SQLite) instead of meeting
        // SQLite's sleeping busy handler.
        let _turn = self.writer_turn().await;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn create_session(&self, s: &Session) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at, user_agent, \
             last_seen_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&s.token_hash)
        .bind(s.user_id)
        .bind(&s.csrf)
        .bind(s.created_at)
        .bind(s.expires_at)
        .bind(&s.user_agent)
        .bind(s.last_seen_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        sqlx::query("SELECT * FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| session_from(&r))
            .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn contacts_with_digit_keys(&self, after: Id, limit: i64) -> Result<Vec<KeyedContact>> {
        let rows = sqlx::query(&format!(
            "SELECT c.id, c.full_name, c.name_key, a.name AS company \
             FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id \
             WHERE c.id > $1 AND {HAS_DIGIT_KEY_SQL} ORDER BY c.id LIMIT $2"
        ))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<KeyedContact> = rows
            .iter()
            .map(|r| {
                Ok(KeyedContact {
                    id: r.try_get("id")?,
                    full_name: r.try_get("full_name")?,
                    company: r.try_get("company")?,
                    emails: Vec::new(),
                    block_key: r.try_get("name_key")?,
                })
            })
            .collect::<Result<_>>()?;
        if out.is_empty() {
            return Ok(out);
        }
        let index: std::collections::HashMap<Id, usize> =
            out.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(
            "SELECT contact_id, normalized FROM contact_emails WHERE contact_id IN (",
        );
        push_ids(&mut qb, &out.iter().map(|c| c.id).collect::<Vec<_>>());
        qb.push(")");
        let emails: Vec<(Id, String)> = qb.build_query_as().fetch_all(&self.pool).await?;
        for (contact, email) in emails {
            if let Some(&i) = index.get(&contact) {
                out[i].emails.push(email);
            }
        }
        Ok(out)
    }

    async fn set_block_keys(&self, keys: &[(Id, String)]) -> Result<()> {
        if keys.is_empty() {
            return Ok(());
        }
        // The store's own write transaction (on SQLite: the writers' turn and BEGIN IMMEDIATE).
        let mut t = self.begin_tx().await?;
        for (id, key) in keys {
            sqlx::query("UPDATE contacts SET name_key = $1 WHERE id = $2")
                .bind(key)
                .bind(id)
                .execute(&mut *t.tx)
                .await?;
        }
        t.finish().await?;
        Ok(())
    }

    async fn contacts_for_dedup(&self, after: Id, limit: i64) -> Result<Vec<DedupContact>> {
        let rows = sqlx::query(
            "SELECT c.id, c.full_name, c.name_key, c.created_at, a.name AS company \
             FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id \
             WHERE c.id > $1 AND c.merged_into IS NULL ORDER BY c.id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let mut out: Vec<DedupContact> = rows
            .iter()
            .map(|r| {
                Ok(DedupContact {
                    id: r.try_get("id")?,
                    full_name: r.try_get("full_name")?,
                    company: r.try_get("company")?,
                    phones: Vec::new(),
                    email_keys: Vec::new(),
                    socials: Vec::new(),
                    block_key: r.try_get("name_key")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<Result<_>>()?;
        let (Some(first), Some(last)) = (out.first().map(|c| c.id), out.last().map(|c| c.id))
        else {
            return Ok(out);
        };
        let index: std::collections::HashMap<Id, usize> =
            out.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
        for (k, sql) in [
            "SELECT contact_id, e164 AS v FROM contact_phones WHERE valid AND e164 IS NOT NULL AND contact_id BETWEEN $1 AND $2",
            "SELECT contact_id, match_key AS v FROM contact_emails WHERE contact_id BETWEEN $1 AND $2",
            "SELECT contact_id, match_key AS v FROM contact_socials WHERE contact_id BETWEEN $1 AND $2",
        ]
        .into_iter()
        .enumerate()
        {
            let rows: Vec<(Id, String)> = sqlx::query_as(sql).bind(first).bind(last).fetch_all(&self.pool).await?;
            for (id, v) in rows {
                if let Some(&i) = index.get(&id) {
                    let c = &mut out[i];
                    match k {
                        0 => c.phones.push(v),
                        1 => c.email_keys.push(v),
                        _ => c.socials.push(v),
                    }
                }
            }
        }
        Ok(out)
    }

    async fn resolve_lead(&self, id: Id) -> Result<Option<Id>> {
        let mut cur = id;
        // Merges chain (a survivor may itself be merged later); a chain is short.
        for _ in 0..32 {
            let next: Option<Option<Id>> =
                sqlx::query_scalar("SELECT merged_into FROM leads WHERE id = $1")
                    .bind(cur)
                    .fetch_optional(&self.pool)
                    .await?;
            match next {
                None => return Ok(None),
                Some(None) => return Ok(Some(cur)),
                Some(Some(n)) => cur = n,
            }
        }
        Ok(Some(cur))
    }

    async fn duplicate_pairs(&self, status: &str, limit: i64) -> Result<Vec<DuplicatePair>> {
        sqlx::query("SELECT * FROM duplicate_pairs WHERE status = $1 ORDER BY created_at DESC, id DESC LIMIT $2")
            .bind(status)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(pair_from)
            .collect()
    }

    async fn duplicate_pair(&self, id: Id) -> Result<Option<DuplicatePair>> {
        sqlx::query("SELECT * FROM duplicate_pairs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(pair_from)
            .transpose()
    }

    async fn merges_for(&self, lead_id: Id) -> Result<Vec<MergeRecord>> {
        sqlx::query("SELECT * FROM merges WHERE survivor_lead_id = $1 OR merged_lead_id = $1 ORDER BY id DESC")
            .bind(lead_id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(merge_from)
            .collect()
    }

    async fn merge_record(&self, id: Id) -> Result<Option<MergeRecord>> {
        sqlx::query("SELECT * FROM merges WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(merge_from)
            .transpose()
    }

    async fn setting(&self, name: &str) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn put_setting(&self, name: &str, value: &str, at: Millis) -> Result<()> {
        sqlx::query(
            "INSERT INTO settings (name, value, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(name)
        .bind(value)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn scrub_report(&self, by: ScrubBy, since: Millis) -> Result<Vec<ScrubRow>> {
        let (t, i) = match by {
            ScrubBy::Form => ("CAST(form_id AS TEXT)", "CAST(form_id AS TEXT)"),
            ScrubBy::Source => ("utm_source", "utm_source"),
            ScrubBy::Campaign => ("utm_campaign", "utm_campaign"),
            ScrubBy::Partner => ("partner", "partner"),
        };
        let sql = format!(
            "SELECT k, CAST(SUM(n) AS BIGINT) AS n, CAST(SUM(rej) AS BIGINT) AS rej, CAST(SUM(junk) AS BIGINT) AS junk, \
             CAST(SUM(flag) AS BIGINT) AS flag, CAST(SUM(intr) AS BIGINT) AS intr FROM ( \
             SELECT {t} AS k, COUNT(*) AS n, 0 AS rej, SUM(CASE WHEN verdict = 'junk' THEN 1 ELSE 0 END) AS junk, \
             SUM(CASE WHEN verdict = 'flag' THEN 1 ELSE 0 END) AS flag, 0 AS intr FROM touches WHERE created_at >= $1 GROUP BY {t} \
             UNION ALL \
             SELECT {i} AS k, COUNT(*) AS n, SUM(CASE WHEN rejected THEN 1 ELSE 0 END) AS rej, 0 AS junk, 0 AS flag, \
             SUM(CASE WHEN rejected THEN 0 ELSE 1 END) AS intr FROM interests WHERE created_at >= $1 GROUP BY {i} \
             ) x GROUP BY k ORDER BY n DESC, k"
        );
        let rows = sqlx::query(&sql).bind(since).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let n: i64 = r.try_get("n")?;
                let rej: i64 = r.try_get("rej")?;
                let junk: i64 = r.try_get("junk")?;
                Ok(ScrubRow {
                    key: r.try_get("k")?,
                    submissions: n,
                    rejected: rej,
                    junk,
                    flagged: r.try_get("flag")?,
                    interests: r.try_get("intr")?,
                    scrub_rate: if n > 0 {
                        (rej + junk) as f64 / n as f64
                    } else {
                        0.0
                    },
                })
            })
            .collect()
    }

    async fn refusal_reasons(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT label FROM refusal_reasons WHERE active ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn add_refusal_reason(&self, label: &str) -> Result<()> {
        sqlx::query("INSERT INTO refusal_reasons (label, active) VALUES ($1, TRUE) ON CONFLICT (label) DO UPDATE SET active = TRUE")
            .bind(label)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn audit_for(&self, entity: &str, id: Id) -> Result<Vec<AuditEntry>> {
        sqlx::query("SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 ORDER BY at, id")
            .bind(entity)
            .bind(id)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_from)
            .collect()
    }

    async fn audit_of_action(&self, entity: &str, id: Id, action: &str) -> Result<Vec<AuditEntry>> {
        sqlx::query(
            "SELECT * FROM audit_log WHERE entity = $1 AND entity_id = $2 AND action = $3 \
             ORDER BY at, id",
        )
        .bind(entity)
        .bind(id)
        .bind(action)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(audit_from)
        .collect()
    }

    async fn recent_audit(&self, before: Option<Id>, limit: i64) -> Result<Vec<AuditEntry>> {
        self.search_audit(&AuditQuery {
            before,
            limit,
            ..Default::default()
        })
        .await
    }

    async fn search_audit(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
        let mut qb: QueryBuilder<DB> = QueryBuilder::new("SELECT * FROM audit_log WHERE id < ");
        qb.push_bind(q.before.unwrap_or(Id::MAX));
        if let Some(a) = q.actor_id {
            qb.push(" AND actor_id = ").push_bind(a);
        }
        if let Some(e) = &q.entity {
            qb.push(" AND entity = ").push_bind(e.clone());
        }
        if let Some(a) = &q.action {
            qb.push(" AND action = ").push_bind(a.clone());
        }
        if let Some(f) = q.from {
            qb.push(" AND at >= ").push_bind(f);
        }
        if let Some(t) = q.to {
            qb.push(" AND at < ").push_bind(t);
        }
        qb.push(" ORDER BY id DESC LIMIT ").push_bind(q.limit);
        qb.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(audit_from)
            .collect()
    }

    async fn claim_jobs(
        &self,
        worker: &str,
        now: Millis,
        lease_ms: Millis,
        limit: i64,
    ) -> Result<Vec<Job>> {
        // A write outside a transaction queues with the others (SQLite) instead of meeting
        // SQLite's sleeping busy handler.
        let _turn = self.writer_turn().await;
        let rows = sqlx::query(CLAIM_JOBS_SQL)
            .bind(now + lease_ms)
            .bind(worker)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Job {
                    id: r.try_get("id")?,
                    kind: r.try_get("kind")?,
                    payload: r.try_get("payload")?,
                    run_at: r.try_get("run_at")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    async fn finish_job(&self, id: Id, now: Millis) -> Result<()> {
        // A write outside a transaction queues with the others (SQLite) instead of meeting
        // SQLite's sleeping busy handler.
        let _turn = self.writer_turn().await;
        sqlx::query("UPDATE jobs SET done_at = $1, locked_until = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn fail_job(&self, id: Id, error: &str, retry_at: Millis) -> Result<()> {
        // A write outside a transaction queues with the others (SQLite) instead of meeting
        // SQLite's sleeping busy handler.
        let _turn = self.writer_turn().await;
        sqlx::query(
            "UPDATE jobs SET last_error = $1, run_at = $2, locked_until = NULL WHERE id = $3",
        )
        .bind(error)
        .bind(retry_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn purge_payload_keys(&self, before: Millis) -> Result<u64> {
        // A write outside a transaction queues with the others (SQLite) instead of meeting
        // SQLite's sleeping busy handler.
        let _turn = self.writer_turn().await;
        let done = sqlx::query(&crate::purge_payload_keys_sql())
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn ping(&self) -> Result<()> {
        // A table, not a bare `SELECT 1`: that answers without the database (SQLite opens
        // no read transaction for it, PostgreSQL reads no table).
        sqlx::query("SELECT COUNT(*) FROM settings")
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn pending_jobs(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM jobs WHERE done_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn search_backlog(&self) -> Result<i64> {
        if self.indexer.is_none() {
            return Ok(0);
        }
        Ok(sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM leads \
             WHERE id > (SELECT indexed_upto FROM search.search_state)) + \
             (SELECT COUNT(DISTINCT lead_id) FROM search_changes \
             WHERE seq > (SELECT changes_upto FROM search.search_state))",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn has_pending_job(&self, kind: &str, except: Option<Id>) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs WHERE done_at IS NULL AND kind = $1 AND id <> $2",
        )
        .bind(kind)
        .bind(except.unwrap_or(-1))
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    async fn closed_lead_features(&self) -> Result<Vec<voronka_core::predict::Example>> {
        let mut behaviour = self
            .behaviour_counts(&format!("l.stage IN {CLOSED_STAGES}"))
            .await?;
        let sql = format!("{FEATURE_SQL} AND l.stage IN {CLOSED_STAGES}");
        let mut rows = sqlx::query(&sql).fetch(&self.pool);
        let mut out = Vec::new();
        while let Some(r) = futures::TryStreamExt::try_next(&mut rows).await? {
            let (_, stage, f) = features_from(&r, &mut behaviour)?;
            out.push(voronka_core::predict::Example {
                features: f,
                won: stage == Stage::Converted.as_str(),
            });
        }
        Ok(out)
    }

    async fn open_lead_features(&self) -> Result<Vec<(Id, voronka_core::predict::LeadFeatures)>> {
        self.features_where(&format!("l.stage IN {OPEN_STAGES}"))
            .await
    }

    async fn lead_features(
        &self,
        ids: &[Id],
    ) -> Result<Vec<(Id, voronka_core::predict::LeadFeatures)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Ids are numbers: written into the statement, they need no placeholders.
        let list: Vec<String> = ids.iter().map(Id::to_string).collect();
        self.features_where(&format!("l.id IN ({})", list.join(", ")))
            .await
    }

    async fn save_conversion_model(&self, m: &StoredModel) -> Result<Id> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO conversion_models (format, trained_at, training_size, auc, baseline_auc, model) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(m.format)
        .bind(m.trained_at)
        .bind(m.training_size)
        .bind(m.auc)
        .bind(m.baseline_auc)
        .bind(&m.model)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    async fn current_conversion_model(&self) -> Result<Option<StoredModel>> {
        let r = sqlx::query("SELECT * FROM conversion_models ORDER BY id DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        r.map(|r| {
            Ok(StoredModel {
                id: r.try_get("id")?,
                format: r.try_get("format")?,
                trained_at: r.try_get("trained_at")?,
                training_size: r.try_get("training_size")?,
                auc: r.try_get("auc")?,
                baseline_auc: r.try_get("baseline_auc")?,
                model: r.try_get("model")?,
            })
        })
        .transpose()
    }

    async fn current_conversion_model_id(&self) -> Result<Option<Id>> {
        Ok(sqlx::query_scalar("SELECT MAX(id) FROM conversion_models")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn set_conversion_probabilities(&self, rows: &[(Id, f64)]) -> Result<()> {
        let mut tx = self.begin_tx().await?;
        tx.set_conversion_probabilities(rows).await?;
        Box::new(tx).commit().await
    }

    async fn leads_qualifying_by_conversion(
        &self,
        ids: Option<&[Id]>,
        mql: Option<i64>,
        sql: Option<i64>,
    ) -> Result<Vec<Id>> {
        if mql.is_none() && sql.is_none() {
            return Ok(Vec::new());
        }
        // A threshold not set is one no probability reaches.
        let (mql, sql) = (mql.unwrap_or(i64::MAX), sql.unwrap_or(i64::MAX));
        let start = || {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "SELECT id FROM leads WHERE merged_into IS NULL AND ((stage = 'new' AND conversion_ppm >= ",
            );
            qb.push_bind(mql)
                .push(") OR (stage = 'mql' AND conversion_ppm >= ")
                .push_bind(sql)
                .push("))");
            qb
        };
        let mut out = Vec::new();
        match ids {
            None => {
                let mut qb = start();
                qb.push(" ORDER BY id");
                out = qb.build_query_scalar().fetch_all(&self.pool).await?;
            }
            Some(ids) => {
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = start();
                    qb.push(" AND id IN (");
                    push_ids(&mut qb, chunk);
                    qb.push(") ORDER BY id");
                    out.extend(qb.build_query_scalar::<Id>().fetch_all(&self.pool).await?);
                }
            }
        }
        Ok(out)
    }
}

pub struct SqlTx {
    /// Holds this process's turn to write (SQLite) until the transaction ends.
    tx: OpenTx,
    /// Settings read ahead in this transaction (`prefetch_settings`); `None`: known absent.
    settings: std::collections::HashMap<String, Option<String>>,
    /// Told once the transaction has committed (the background checkpointer, SQLite file).
    committed: Option<tokio::sync::mpsc::Sender<()>>,
    /// SQLite file, the intake's connection: counts its commits.
    intake_commits: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

impl SqlTx {
    /// Commits, and tells the background checkpointer.
    async fn finish(self) -> Result<()> {
        self.tx.commit().await?;
        if let Some(n) = &self.intake_commits {
            n.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        if let Some(c) = &self.committed {
            // Full: a checkpoint is already due, and it will take this commit too.
            let _ = c.try_send(());
        }
        Ok(())
    }

    /// A merge of two leads, or with `keep_lead` only of their contacts: the merged lead then
    /// moves to the surviving contact as a lead of its own.
    async fn merge(
        &mut self,
        survivor: Id,
        merged: Id,
        take: &[String],
        keep_lead: bool,
        at: Millis,
    ) -> Result<MergeSnapshot> {
        if survivor == merged {
            return Err(StoreError::Conflict(crate::Conflict::MergeIntoItself));
        }
        let row = |id: Id| {
            sqlx::query(
                "SELECT id, contact_id, merged_into, product, message, value_minor, value_currency, temperature, \
                 owner_id, touches, search_text FROM leads WHERE id = $1",
            )
            .bind(id)
        };
        let s_row = row(survivor)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let m_row = row(merged)
            .fetch_optional(&mut *self.tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let merged_already = |r: &<DB as sqlx::Database>::Row| -> Result<bool> {
            Ok(r.try_get::<Option<Id>, _>("merged_into")?.is_some())
        };
        if merged_already(&s_row)? || merged_already(&m_row)? {
            return Err(StoreError::Conflict(crate::Conflict::AlreadyMerged));
        }
        let cs: Id = s_row.try_get("contact_id")?;
        let cm: Id = m_row.try_get("contact_id")?;
        let lead_before = serde_json::json!({
            "product": s_row.try_get::<Option<String>, _>("product")?,
            "message": s_row.try_get::<Option<String>, _>("message")?,
            "value_minor": s_row.try_get::<Option<i64>, _>("value_minor")?,
            "value_currency": s_row.try_get::<Option<String>, _>("value_currency")?,
            "temperature": s_row.try_get::<String, _>("temperature")?,
            "owner_id": s_row.try_get::<Option<Id>, _>("owner_id")?,
            "touches": s_row.try_get::<i64, _>("touches")?,
            "search_text": s_row.try_get::<String, _>("search_text")?,
        });
        if keep_lead && cs == cm {
            return Err(StoreError::Conflict(crate::Conflict::SameContact));
        }
        let takes =
            |f: &str| take.iter().any(|t| t == f) && !(keep_lead && LEAD_MERGE_FIELDS.contains(&f));

        // The lead: chosen fields, touches counted together, both searchable.
        let mut sets: Vec<&str> = Vec::new();
        for (field, cols) in [
            ("product", &["product"][..]),
            ("message", &["message"][..]),
            ("value", &["value_minor", "value_currency"][..]),
            ("temperature", &["temperature"][..]),
            ("owner", &["owner_id"][..]),
        ] {
            if takes(field) {
                sets.extend_from_slice(cols);
            }
        }
        let mut qb: QueryBuilder<DB> = QueryBuilder::new("UPDATE leads SET touches = touches + ");
        qb.push_bind(m_row.try_get::<i64, _>("touches")?);
        qb.push(", search_text = search_text || ' ' || ")
            .push_bind(m_row.try_get::<String, _>("search_text")?);
        qb.push(", updated_at = ").push_bind(at);
        for c in &sets {
            qb.push(format!(", {c} = (SELECT m.{c} FROM leads m WHERE m.id = "))
                .push_bind(merged)
                .push(")");
        }
        qb.push(" WHERE id = ").push_bind(survivor);
        if !keep_lead {
            qb.build().execute(&mut *self.tx).await?;
        }

        // The survivor carries the merged lead's tags too, up to a lead's most; an undo takes
        // them off again.
        let added_tags = if keep_lead {
            Vec::new()
        } else {
            self.copy_tags(merged, survivor, voronka_core::tags::MAX_TAGS_PER_LEAD)
                .await?
        };
        let mut moved: Vec<Vec<Id>> = Vec::with_capacity(5);
        for table in ["touches", "notes", "stage_changes", "deals", "events"] {
            if keep_lead {
                moved.push(Vec::new());
                continue;
            }
            let select = format!("SELECT id FROM {table} WHERE lead_id = $1 ORDER BY id");
            let ids: Vec<Id> = sqlx::query_scalar(&select)
                .bind(merged)
                .fetch_all(&mut *self.tx)
                .await?;
            let update = format!("UPDATE {table} SET lead_id = $1 WHERE lead_id = $2");
            sqlx::query(&update)
                .bind(survivor)
                .bind(merged)
                .execute(&mut *self.tx)
                .await?;
            moved.push(ids);
        }
        let moved_events = moved.pop().unwrap_or_default();
        let moved_deals = moved.pop().unwrap_or_default();
        let moved_stage_changes = moved.pop().unwrap_or_default();
        let moved_notes = moved.pop().unwrap_or_default();
        let moved_touches = moved.pop().unwrap_or_default();

        let mut snap = MergeSnapshot {
            survivor_lead: survivor,
            merged_lead: merged,
            survivor_contact: cs,
            merged_contact: cm,
            lead_before,
            contact_before: None,
            moved_touches,
            moved_notes,
            moved_stage_changes,
            moved_deals,
            moved_leads: Vec::new(),
            added_phones: Vec::new(),
            added_emails: Vec::new(),
            added_socials: Vec::new(),
            moved_customer: None,
            lead_kept: keep_lead,
            moved_events,
            added_tags,
        };
        if cs != cm {
            let c = sqlx::query(
                "SELECT full_name, first_name, last_name, position, country, language, account_id, name_key \
                 FROM contacts WHERE id = $1",
            )
            .bind(cs)
            .fetch_one(&mut *self.tx)
            .await?;
            snap.contact_before = Some(serde_json::json!({
                "full_name": c.try_get::<String, _>("full_name")?,
                "first_name": c.try_get::<Option<String>, _>("first_name")?,
                "last_name": c.try_get::<Option<String>, _>("last_name")?,
                "position": c.try_get::<Option<String>, _>("position")?,
                "country": c.try_get::<Option<String>, _>("country")?,
                "language": c.try_get::<Option<String>, _>("language")?,
                "account_id": c.try_get::<Option<Id>, _>("account_id")?,
                "name_key": c.try_get::<Option<String>, _>("name_key")?,
            }));
            let customers: Vec<(Id, Id)> =
                sqlx::query_as("SELECT id, contact_id FROM customers WHERE contact_id IN ($1, $2)")
                    .bind(cs)
                    .bind(cm)
                    .fetch_all(&mut *self.tx)
                    .await?;
            if customers.len() == 2 {
                return Err(StoreError::Conflict(crate::Conflict::BothCustomers));
            }
            if let Some((cid, _)) = customers.iter().find(|(_, contact)| *contact == cm) {
                sqlx::query("UPDATE customers SET contact_id = $1 WHERE id = $2")
                    .bind(cs)
                    .bind(cid)
                    .execute(&mut *self.tx)
                    .await?;
                snap.moved_customer = Some(*cid);
            }
            let mut sets: Vec<&str> = Vec::new();
            for (field, cols) in [
                (
                    "name",
                    &["full_name", "first_name", "last_name", "name_key"][..],
                ),
                ("position", &["position"][..]),
                ("country", &["country"][..]),
                ("language", &["language"][..]),
                ("account", &["account_id"][..]),
            ] {
                if takes(field) {
                    sets.extend_from_slice(cols);
                }
            }
            let mut qb: QueryBuilder<DB> = QueryBuilder::new("UPDATE contacts SET updated_at = ");
            qb.push_bind(at);
            for c in &sets {
                qb.push(format!(
                    ", {c} = (SELECT m.{c} FROM contacts m WHERE m.id = "
                ))
                .push_bind(cm)
                .push(")");
            }
            qb.push(" WHERE id = ").push_bind(cs);
            qb.build().execute(&mut *self.tx).await?;
            snap.added_phones = sqlx::query_scalar(
                "INSERT INTO contact_phones (contact_id, raw, e164, valid) SELECT $1, raw, e164, valid FROM contact_phones \
                 WHERE contact_id = $2 AND raw NOT IN (SELECT raw FROM contact_phones WHERE contact_id = $1) \
                 AND (e164 IS NULL OR e164 NOT IN (SELECT e164 FROM contact_phones WHERE contact_id = $1 AND e164 IS NOT NULL)) \
                 RETURNING raw",
            )
            .bind(cs)
            .bind(cm)
            .fetch_all(&mut *self.tx)
            .await?;
            snap.added_emails = sqlx::query_scalar(
                "INSERT INTO contact_emails (contact_id, raw, normalized, match_key) SELECT $1, raw, normalized, match_key \
                 FROM contact_emails WHERE contact_id = $2 AND match_key NOT IN (SELECT match_key FROM contact_emails WHERE contact_id = $1) \
                 RETURNING normalized",
            )
            .bind(cs)
            .bind(cm)
            .fetch_all(&mut *self.tx)
            .await?;
            snap.added_socials = sqlx::query_scalar(
                "INSERT INTO contact_socials (contact_id, url, match_key) SELECT $1, url, match_key FROM contact_socials \
                 WHERE contact_id = $2 AND match_key NOT IN (SELECT match_key FROM contact_socials WHERE contact_id = $1) \
                 RETURNING url",
            )
            .bind(cs)
            .bind(cm)
            .fetch_all(&mut *self.tx)
            .await?;
            snap.moved_leads =
                sqlx::query_scalar("SELECT id FROM leads WHERE contact_id = $1 ORDER BY id")
                    .bind(cm)
                    .fetch_all(&mut *self.tx)
                    .await?;
            sqlx::query("UPDATE leads SET contact_id = $1 WHERE contact_id = $2")
                .bind(cs)
                .bind(cm)
                .execute(&mut *self.tx)
                .await?;
            sqlx::query("UPDATE contacts SET merged_into = $1, updated_at = $2 WHERE id = $3")
                .bind(cs)
                .bind(at)
                .bind(cm)
                .execute(&mut *self.tx)
                .await?;
        }
        if !keep_lead {
            sqlx::query("UPDATE leads SET merged_into = $1, updated_at = $2 WHERE id = $3")
                .bind(survivor)
                .bind(at)
                .bind(merged)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(snap)
    }
}

#[async_trait]
impl Tx for SqlTx {
    async fn commit(self: Box<Self>) -> Result<()> {
        (*self).finish().await
    }

    async fn rollback(self: Box<Self>) -> Result<()> {
        self.tx.rollback().await?;
        Ok(())
    }

    async fn lock_intake(&mut self) -> Result<()> {
        if let Some(sql) = LOCK_INTAKE_SQL {
            sqlx::query(sql).execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn intake_generation(&mut self) -> Result<Option<(i64, u64)>> {
        let Some(own) = &self.intake_commits else {
            return Ok(None);
        };
        if BACKEND != Backend::Sqlite {
            return Ok(None);
        }
        // Changes whenever another connection has committed since this one last looked.
        let others: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(Some((
            others,
            own.load(std::sync::atomic::Ordering::Acquire),
        )))
    }

    async fn savepoint(&mut self) -> Result<()> {
        sqlx::query("SAVEPOINT item").execute(&mut *self.tx).await?;
        Ok(())
    }

    async fn rollback_to_savepoint(&mut self) -> Result<()> {
        sqlx::query("ROLLBACK TO SAVEPOINT item")
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("RELEASE SAVEPOINT item")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn release_savepoint(&mut self) -> Result<()> {
        sqlx::query("RELEASE SAVEPOINT item")
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn enrich_contact(&mut self, id: Id, n: &Normalized, at: Millis) -> Result<()> {
        let phones: Vec<String> = sqlx::query_scalar(
            "SELECT COALESCE(e164, raw) FROM contact_phones WHERE contact_id = $1",
        )
        .bind(id)
        .fetch_all(&mut *self.tx)
        .await?;
        let emails: Vec<String> =
            sqlx::query_scalar("SELECT match_key FROM contact_emails WHERE contact_id = $1")
                .bind(id)
                .fetch_all(&mut *self.tx)
                .await?;
        let socials: Vec<String> =
            sqlx::query_scalar("SELECT match_key FROM contact_socials WHERE contact_id = $1")
                .bind(id)
                .fetch_all(&mut *self.tx)
                .await?;
        let tokens = self.add_details(id, n, &phones, &emails, &socials).await?;
        if !tokens.is_empty() {
            // The contact's leads become findable by the new phone or email too.
            sqlx::query(
                "UPDATE leads SET search_text = search_text || ' ' || $1 WHERE contact_id = $2",
            )
            .bind(tokens.join(" "))
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        }
        // Fill what the contact lacked; never overwrite what a salesperson may have corrected.
        let account_id = match &n.company {
            Some(company) => Some(self.account_for(company, n, at).await?),
            None => None,
        };
        sqlx::query(
            "UPDATE contacts SET position = COALESCE(position, $1), country = COALESCE(country, $2), \
             language = COALESCE(language, $3), account_id = COALESCE(account_id, $4), updated_at = $5 WHERE id = $6",
        )
        .bind(&n.position)
        .bind(&n.country)
        .bind(&n.language)
        .bind(account_id)
        .bind(at)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn rename_account(
        &mut self,
        id: Id,
        name: &str,
        domain: Option<&str>,
    ) -> Result<Vec<Id>> {
        use voronka_core::intake::keys::{account_key, block_key_of};
        let key = account_key(name);
        let key = if key.is_empty() {
            name.to_lowercase()
        } else {
            key
        };
        let taken: Option<Id> =
            sqlx::query_scalar("SELECT id FROM accounts WHERE name_key = $1 AND id <> $2")
                .bind(&key)
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(crate::Conflict::Taken(
                crate::Unique::AccountName,
            )));
        }
        let done =
            sqlx::query("UPDATE accounts SET name = $1, name_key = $2, domain = $3 WHERE id = $4")
                .bind(name)
                .bind(&key)
                .bind(domain)
                .bind(id)
                .execute(&mut *self.tx)
                .await
                // Another writer may have taken the name since the look above.
                .map_err(|e| StoreError::from_db(e, crate::Unique::AccountName))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("UPDATE customers SET name = $1 WHERE account_id = $2")
            .bind(name)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        let people: Vec<(Id, String)> =
            sqlx::query_as("SELECT id, full_name FROM contacts WHERE account_id = $1")
                .bind(id)
                .fetch_all(&mut *self.tx)
                .await?;
        for (contact, full_name) in people {
            let emails: Vec<String> = sqlx::query_scalar(
                "SELECT normalized FROM contact_emails WHERE contact_id = $1 ORDER BY normalized",
            )
            .bind(contact)
            .fetch_all(&mut *self.tx)
            .await?;
            let block = block_key_of(&full_name, Some(name), emails.iter().map(String::as_str));
            sqlx::query("UPDATE contacts SET name_key = $1 WHERE id = $2")
                .bind(block)
                .bind(contact)
                .execute(&mut *self.tx)
                .await?;
            self.refresh_search_text(contact).await?;
        }
        Ok(sqlx::query_scalar(
            "SELECT l.id FROM leads l JOIN contacts c ON c.id = l.contact_id \
             WHERE c.account_id = $1 ORDER BY l.id",
        )
        .bind(id)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    async fn update_contact(
        &mut self,
        id: Id,
        c: &ContactFields,
        at: Millis,
    ) -> Result<Option<String>> {
        use voronka_core::intake::keys::block_key_of;
        let merged: Option<Option<Id>> =
            sqlx::query_scalar("SELECT merged_into FROM contacts WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *self.tx)
                .await?;
        match merged {
            None => return Err(StoreError::NotFound),
            Some(Some(_)) => return Err(StoreError::Conflict(crate::Conflict::ContactMergedAway)),
            Some(None) => {}
        }
        let account_id = match &c.company {
            Some(company) => Some(
                self.account_for(company, &Normalized::default(), at)
                    .await?,
            ),
            None => None,
        };
        let emails: Vec<(String, String)> = sqlx::query_as(
            "SELECT normalized, match_key FROM contact_emails WHERE contact_id = $1 \
             ORDER BY normalized",
        )
        .bind(id)
        .fetch_all(&mut *self.tx)
        .await?;
        let block = block_key_of(
            &c.full_name,
            c.company.as_deref(),
            emails.iter().map(|(e, _)| e.as_str()),
        );
        // A customer named after the person (no company) is named as the person now is.
        sqlx::query(
            "UPDATE customers SET name = $1 WHERE contact_id = $2 AND account_id IS NULL \
             AND name = (SELECT full_name FROM contacts WHERE id = $2)",
        )
        .bind(&c.full_name)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        // A name typed anew does not say which word is the first name: both parts are kept
        // only while the whole stays the same.
        sqlx::query(
            "UPDATE contacts SET \
             first_name = CASE WHEN full_name = $1 THEN first_name ELSE NULL END, \
             last_name = CASE WHEN full_name = $1 THEN last_name ELSE NULL END, \
             full_name = $1, position = $2, country = $3, language = $4, account_id = $5, \
             name_key = $6, updated_at = $7 WHERE id = $8",
        )
        .bind(&c.full_name)
        .bind(&c.position)
        .bind(&c.country)
        .bind(&c.language)
        .bind(account_id)
        .bind(block)
        .bind(at)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        // The old name does not stay findable.
        self.refresh_search_text(id).await?;
        Ok(match account_id {
            Some(a) => Some(
                sqlx::query_scalar("SELECT name FROM accounts WHERE id = $1")
                    .bind(a)
                    .fetch_one(&mut *self.tx)
                    .await?,
            ),
            None => None,
        })
    }

    async fn remove_contact_details(
        &mut self,
        id: Id,
        phones: &[String],
        emails: &[String],
    ) -> Result<i64> {
        for p in phones {
            sqlx::query(
                "DELETE FROM contact_phones WHERE contact_id = $1 AND COALESCE(e164, raw) = $2",
            )
            .bind(id)
            .bind(p)
            .execute(&mut *self.tx)
            .await?;
        }
        for e in emails {
            sqlx::query("DELETE FROM contact_emails WHERE contact_id = $1 AND normalized = $2")
                .bind(id)
                .bind(e)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(sqlx::query_scalar(
            "SELECT (SELECT COUNT(*) FROM contact_phones WHERE contact_id = $1) \
             + (SELECT COUNT(*) FROM contact_emails WHERE contact_id = $1) \
             + (SELECT COUNT(*) FROM contact_socials WHERE contact_id = $1)",
        )
        .bind(id)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn set_request(
        &mut self,
        id: Id,
        product: Option<&str>,
        value: Option<Money>,
        at: Millis,
    ) -> Result<()> {
        let contact: Id = sqlx::query_scalar(
            "UPDATE leads SET product = $1, value_minor = $2, value_currency = $3, updated_at = $4 \
             WHERE id = $5 RETURNING contact_id",
        )
        .bind(product)
        .bind(value.map(|m| m.minor))
        .bind(value.as_ref().map(|m| m.currency.as_str().to_string()))
        .bind(at)
        .bind(id)
        .fetch_one(&mut *self.tx)
        .await?;
        self.refresh_search_text(contact).await
    }

    async fn lead_for_update(&mut self, id: Id) -> Result<Option<Lead>> {
        let lock = if BACKEND == Backend::Postgres {
            " FOR UPDATE"
        } else {
            ""
        };
        sqlx::query(&format!(
            "SELECT {LEAD_COLS} FROM leads l WHERE l.id = $1{lock}"
        ))
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?
        .map(|r| lead_from(&r))
        .transpose()
    }

    async fn set_stage(&mut self, id: Id, s: &StageUpdate, at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE leads SET stage = COALESCE($1, stage), refuse_reason = $2, frozen_until = $3, junk_reason = $4, \
             junk_args = NULL, updated_at = $5 WHERE id = $6",
        )
        .bind(s.stage.map(|s| s.as_str()))
        .bind(&s.refuse_reason)
        .bind(s.frozen_until)
        .bind(&s.junk_reason)
        .bind(at)
        .bind(id)
        .execute(&mut *self.tx)
        .await?;
        sqlx::query(INBOX_RANK_SQL)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn set_stages(&mut self, rows: &[(Id, Stage)], at: Millis) -> Result<()> {
        for chunk in rows.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("UPDATE leads SET stage = v.column2, updated_at = ");
            qb.push_bind(at).push(" FROM (");
            qb.push_values(chunk, |mut b, (id, stage)| {
                b.push_bind(*id).push_bind(stage.as_str());
            });
            qb.push(") AS v WHERE leads.id = v.column1");
            qb.build().execute(&mut *self.tx).await?;
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(INBOX_RANK_MANY_SQL);
            let ids: Vec<Id> = chunk.iter().map(|(id, _)| *id).collect();
            push_ids(&mut qb, &ids);
            qb.push(")");
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn add_stage_change(&mut self, c: &NewStageChange) -> Result<Id> {
        let (code, args) = c.stored_code();
        Ok(sqlx::query_scalar(
            "INSERT INTO stage_changes (lead_id, from_stage, to_stage, actor_id, actor, reason, reason_code, reason_args, comment, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(c.lead_id)
        .bind(c.from.map(|s| s.as_str()))
        .bind(c.to.as_str())
        .bind(c.actor_id)
        .bind(&c.actor)
        .bind(&c.reason)
        .bind(code)
        .bind(args)
        .bind(&c.comment)
        .bind(c.at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn set_owner(&mut self, id: Id, owner: Option<Id>, at: Millis) -> Result<()> {
        sqlx::query("UPDATE leads SET owner_id = $1, updated_at = $2 WHERE id = $3")
            .bind(owner)
            .bind(at)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query(INBOX_RANK_SQL)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn set_temperature(&mut self, id: Id, t: Temperature, at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE leads SET temperature = $1, temperature_manual = TRUE, updated_at = $2 WHERE id = $3",
        )
            .bind(t.as_str())
            .bind(at)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn add_note(
        &mut self,
        lead_id: Id,
        author_id: Option<Id>,
        author: &str,
        body: &str,
        at: Millis,
    ) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO notes (lead_id, author_id, author, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(lead_id)
        .bind(author_id)
        .bind(author)
        .bind(body)
        .bind(at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn customer_for_contact(&mut self, contact_id: Id, name: &str, at: Millis) -> Result<Id> {
        // The person's own customer first, then their company's: a company buys as one
        // customer, whichever of its people asked. Then the customer an earlier lead of theirs
        // became: their own customer merged into another goes on in that one.
        if let Some((id, _)) = sqlx::query_as::<_, (i64, i32)>(
            "SELECT id, 0 AS mine FROM customers WHERE contact_id = $1 UNION ALL \
             SELECT cu.id, 1 FROM customers cu JOIN contacts c ON c.account_id = cu.account_id \
             WHERE c.id = $1 UNION ALL \
             SELECT customer_id, 2 FROM leads WHERE contact_id = $1 AND customer_id IS NOT NULL \
             ORDER BY 2, 1 LIMIT 1",
        )
        .bind(contact_id)
        .fetch_optional(&mut *self.tx)
        .await?
        {
            return Ok(id);
        }
        Ok(sqlx::query_scalar(
            "INSERT INTO customers (contact_id, account_id, name, created_at) \
             SELECT id, account_id, $2, $3 FROM contacts WHERE id = $1 RETURNING id",
        )
        .bind(contact_id)
        .bind(name)
        .bind(at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn erase_contact(&mut self, contact_id: Id, at: Millis) -> Result<Erasure> {
        // The person is the contact that survived the merges this one went into, with every
        // contact merged into it (kept for undo, with their data).
        let root: Id = sqlx::query_scalar(
            "WITH RECURSIVE up(id, next) AS (SELECT id, merged_into FROM contacts WHERE id = $1 \
             UNION SELECT c.id, c.merged_into FROM contacts c JOIN up ON c.id = up.next) \
             SELECT id FROM up WHERE next IS NULL",
        )
        .bind(contact_id)
        .fetch_optional(&mut *self.tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        // SQLite zeroes what this transaction frees, whole pages put on the free list included.
        let sqlite = matches!(BACKEND, crate::Backend::Sqlite);
        if sqlite {
            sqlx::query("PRAGMA secure_delete = ON")
                .execute(&mut *self.tx)
                .await?;
        }
        let contacts: Vec<Id> = sqlx::query_scalar(
            "WITH RECURSIVE cs(id) AS (SELECT CAST($1 AS BIGINT) UNION \
             SELECT c.id FROM contacts c JOIN cs ON c.merged_into = cs.id) SELECT id FROM cs",
        )
        .bind(root)
        .fetch_all(&mut *self.tx)
        .await?;
        let mut leads: Vec<Id> = Vec::new();
        for chunk in contacts.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("SELECT id FROM leads WHERE contact_id IN (");
            push_ids(&mut qb, chunk);
            qb.push(")");
            leads.extend(
                qb.build_query_scalar::<Id>()
                    .fetch_all(&mut *self.tx)
                    .await?,
            );
        }
        let mut out = Erasure {
            contact_id: root,
            contacts: contacts.len() as i64,
            leads: leads.len() as i64,
            ..Default::default()
        };
        // The visitors the person was: their anonymous page views go with their own events.
        let mut visitors: Vec<String> = Vec::new();
        for chunk in leads.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "SELECT DISTINCT visitor_id FROM touches WHERE visitor_id IS NOT NULL AND lead_id IN (",
            );
            push_ids(&mut qb, chunk);
            qb.push(")");
            visitors.extend(
                qb.build_query_scalar::<String>()
                    .fetch_all(&mut *self.tx)
                    .await?,
            );
        }
        for chunk in visitors.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("DELETE FROM events WHERE visitor_id IN (");
            let mut sep = qb.separated(", ");
            for v in chunk {
                sep.push_bind(v.clone());
            }
            qb.push(")");
            out.events += qb.build().execute(&mut *self.tx).await?.rows_affected() as i64;
        }
        /// What a statement's rows count toward in the answer.
        enum Tally {
            Events,
            Notes,
            Touches,
            Uncounted,
        }
        // Statements over the person's leads, each run on slices of their ids (numbers read
        // from the database, written into the statement: two of them name the slice twice).
        for (sql, tally) in [
            ("DELETE FROM events WHERE lead_id IN (", Tally::Events),
            ("DELETE FROM notes WHERE lead_id IN (", Tally::Notes),
            (
                "DELETE FROM notifications WHERE lead_id IN (",
                Tally::Uncounted,
            ),
            (
                "DELETE FROM duplicate_pairs WHERE lead_id IN ({ids}) OR other_lead_id IN (",
                Tally::Uncounted,
            ),
            (
                "DELETE FROM merges WHERE merged_lead_id IN ({ids}) OR survivor_lead_id IN (",
                Tally::Uncounted,
            ),
            (
                "UPDATE touches SET referrer = NULL, landing_page = NULL, visitor_id = NULL, \
                 ip = NULL, user_agent = NULL, message = NULL, raw = '{}', answers = '[]', \
                 reasons = '[]' WHERE lead_id IN (",
                Tally::Touches,
            ),
            (
                "UPDATE leads SET message = NULL, search_text = '', profile = '{}', \
                 reasons = '[]' WHERE id IN (",
                Tally::Uncounted,
            ),
            (
                "UPDATE stage_changes SET comment = NULL WHERE lead_id IN (",
                Tally::Uncounted,
            ),
            (
                "UPDATE activities SET note = NULL WHERE lead_id IN (",
                Tally::Uncounted,
            ),
            (
                "UPDATE tasks SET title = '—' WHERE title_code IS NULL AND lead_id IN (",
                Tally::Uncounted,
            ),
            (
                "UPDATE surveys SET comment = NULL WHERE lead_id IN (",
                Tally::Uncounted,
            ),
            (
                "UPDATE audit_log SET before = NULL, after = NULL \
                 WHERE entity = 'lead' AND entity_id IN (",
                Tally::Uncounted,
            ),
        ] {
            for chunk in leads.chunks(CHUNK) {
                let ids: Vec<String> = chunk.iter().map(|id| id.to_string()).collect();
                let ids = ids.join(", ");
                let sql = sql.replace("{ids}", &ids);
                let mut qb: QueryBuilder<DB> = QueryBuilder::new(sql);
                qb.push(&ids).push(")");
                let n = qb.build().execute(&mut *self.tx).await?.rows_affected() as i64;
                match tally {
                    Tally::Events => out.events += n,
                    Tally::Notes => out.notes += n,
                    Tally::Touches => out.touches += n,
                    Tally::Uncounted => {}
                }
            }
        }
        // Emails to the person, sent or waiting: their address and text go.
        let mail: Vec<(Id, String)> =
            sqlx::query_as("SELECT id, payload FROM jobs WHERE kind = 'email'")
                .fetch_all(&mut *self.tx)
                .await?;
        let theirs: Vec<Id> = mail
            .into_iter()
            .filter(|(_, payload)| {
                serde_json::from_str::<serde_json::Value>(payload)
                    .ok()
                    .and_then(|v| v.get("lead_id").and_then(|l| l.as_i64()))
                    .is_some_and(|l| leads.contains(&l))
            })
            .map(|(id, _)| id)
            .collect();
        for chunk in theirs.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new("DELETE FROM jobs WHERE id IN (");
            push_ids(&mut qb, chunk);
            qb.push(")");
            out.emails += qb.build().execute(&mut *self.tx).await?.rows_affected() as i64;
        }
        for chunk in contacts.chunks(CHUNK) {
            for sql in [
                "DELETE FROM contact_phones WHERE contact_id IN (",
                "DELETE FROM contact_emails WHERE contact_id IN (",
                "DELETE FROM contact_socials WHERE contact_id IN (",
                // A customer named after the person (not after a company) loses the name.
                "UPDATE customers SET name = '—' WHERE account_id IS NULL AND contact_id IN (",
                // And so does the record of such a customer merged into another.
                "UPDATE customer_merges SET from_name = '—' \
                 WHERE from_account_id IS NULL AND from_contact_id IN (",
                "UPDATE audit_log SET before = NULL, after = NULL \
                 WHERE entity = 'contact' AND entity_id IN (",
            ] {
                let mut qb: QueryBuilder<DB> = QueryBuilder::new(sql);
                push_ids(&mut qb, chunk);
                qb.push(")");
                qb.build().execute(&mut *self.tx).await?;
            }
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "UPDATE contacts SET full_name = '—', first_name = NULL, last_name = NULL, \
                 position = NULL, name_key = NULL, account_id = NULL, erased_at = ",
            );
            qb.push_bind(at)
                .push(", updated_at = ")
                .push_bind(at)
                .push(" WHERE id IN (");
            push_ids(&mut qb, chunk);
            qb.push(")");
            qb.build().execute(&mut *self.tx).await?;
        }
        if sqlite {
            sqlx::query("PRAGMA secure_delete = FAST")
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(out)
    }

    async fn merge_customer(
        &mut self,
        from: Id,
        into: Id,
        actor: &str,
        at: Millis,
    ) -> Result<CustomerMerge> {
        let (from_name, contact_id, account_id, created_at): (String, Id, Option<Id>, Millis) =
            sqlx::query_as(
                "SELECT name, contact_id, account_id, created_at FROM customers WHERE id = $1",
            )
            .bind(from)
            .fetch_one(&mut *self.tx)
            .await?;
        // Moved, and what moved kept for an undo. Links to customers merged into this one lead
        // on to where it goes now.
        let mut moved = CustomerMoves::default();
        let [deals, leads, merges] = CUSTOMER_LINKS;
        for ((table, column), ids) in [
            (deals, &mut moved.deals),
            (leads, &mut moved.leads),
            (merges, &mut moved.merges),
        ] {
            *ids = sqlx::query_scalar(&format!(
                "UPDATE {table} SET {column} = $1 WHERE {column} = $2 RETURNING id"
            ))
            .bind(into)
            .bind(from)
            .fetch_all(&mut *self.tx)
            .await?;
        }
        let (deals, leads) = (moved.deals.len() as i64, moved.leads.len() as i64);
        let id: Id = sqlx::query_scalar(
            "INSERT INTO customer_merges (from_id, into_id, from_name, deals, leads, actor, at, \
             from_contact_id, from_account_id, from_created_at, moved) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(from)
        .bind(into)
        .bind(&from_name)
        .bind(deals)
        .bind(leads)
        .bind(actor)
        .bind(at)
        .bind(contact_id)
        .bind(account_id)
        .bind(created_at)
        .bind(serde_json::to_string(&moved).unwrap_or_default())
        .fetch_one(&mut *self.tx)
        .await?;
        sqlx::query("DELETE FROM customers WHERE id = $1")
            .bind(from)
            .execute(&mut *self.tx)
            .await?;
        Ok(CustomerMerge {
            id,
            from_id: from,
            into_id: into,
            from_name,
            deals,
            leads,
            actor: actor.to_string(),
            at,
            undone_at: None,
            undoable: true,
        })
    }

    async fn undo_customer_merge(&mut self, merge_id: Id, actor: &str, at: Millis) -> Result<()> {
        let Some(r) = sqlx::query(
            "SELECT from_id, into_id, from_name, from_contact_id, from_account_id, \
             from_created_at, moved, undone_at FROM customer_merges WHERE id = $1",
        )
        .bind(merge_id)
        .fetch_optional(&mut *self.tx)
        .await?
        else {
            return Err(StoreError::NotFound);
        };
        let (from, into): (Id, Id) = (r.try_get("from_id")?, r.try_get("into_id")?);
        if r.try_get::<Option<Millis>, _>("undone_at")?.is_some() {
            return Err(StoreError::Conflict(crate::Conflict::MergeUndone));
        }
        let (Some(contact_id), Some(created_at), Some(moved)) = (
            r.try_get::<Option<Id>, _>("from_contact_id")?,
            r.try_get::<Option<Millis>, _>("from_created_at")?,
            r.try_get::<Option<String>, _>("moved")?,
        ) else {
            return Err(StoreError::Conflict(crate::Conflict::MergeNotRecorded));
        };
        let moved: CustomerMoves =
            serde_json::from_str(&moved).map_err(|e| corrupt("customer merge", &e.to_string()))?;
        let survivor: Option<Id> = sqlx::query_scalar("SELECT id FROM customers WHERE id = $1")
            .bind(into)
            .fetch_optional(&mut *self.tx)
            .await?;
        if survivor.is_none() {
            return Err(StoreError::Conflict(
                crate::Conflict::CustomerSurvivorMergedAgain,
            ));
        }
        let again: Option<Id> =
            sqlx::query_scalar("SELECT id FROM customers WHERE contact_id = $1")
                .bind(contact_id)
                .fetch_optional(&mut *self.tx)
                .await?;
        if again.is_some() {
            return Err(StoreError::Conflict(crate::Conflict::PersonCustomerAgain));
        }
        sqlx::query(
            "INSERT INTO customers (id, contact_id, account_id, name, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(from)
        .bind(contact_id)
        .bind(r.try_get::<Option<Id>, _>("from_account_id")?)
        .bind(r.try_get::<String, _>("from_name")?)
        .bind(created_at)
        .execute(&mut *self.tx)
        .await?;
        // Back only what is still with the customer it went into.
        let [deals, leads, merges] = CUSTOMER_LINKS;
        for ((table, column), ids) in [
            (deals, &moved.deals),
            (leads, &moved.leads),
            (merges, &moved.merges),
        ] {
            for chunk in ids.chunks(CHUNK) {
                let mut qb: QueryBuilder<DB> =
                    QueryBuilder::new(format!("UPDATE {table} SET {column} = "));
                qb.push_bind(from)
                    .push(format!(" WHERE {column} = "))
                    .push_bind(into)
                    .push(" AND id IN (");
                push_ids(&mut qb, chunk);
                qb.push(")");
                qb.build().execute(&mut *self.tx).await?;
            }
        }
        sqlx::query("UPDATE customer_merges SET undone_at = $1, undone_by = $2 WHERE id = $3")
            .bind(at)
            .bind(actor)
            .bind(merge_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn update_deal(&mut self, id: Id, title: &str, amount: Money) -> Result<bool> {
        Ok(sqlx::query(
            "UPDATE deals SET title = $1, amount_minor = $2, currency = $3 WHERE id = $4",
        )
        .bind(title)
        .bind(amount.minor)
        .bind(amount.currency.as_str())
        .bind(id)
        .execute(&mut *self.tx)
        .await?
        .rows_affected()
            > 0)
    }

    async fn insert_deal(&mut self, d: &NewDeal) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO deals (customer_id, lead_id, title, amount_minor, currency, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(d.customer_id)
        .bind(d.lead_id)
        .bind(&d.title)
        .bind(d.amount.minor)
        .bind(d.amount.currency.as_str())
        .bind(d.created_at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn set_lead_customer(&mut self, lead_id: Id, customer_id: Id) -> Result<()> {
        sqlx::query("UPDATE leads SET customer_id = $1 WHERE id = $2")
            .bind(customer_id)
            .bind(lead_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn audit(&mut self, e: &NewAudit) -> Result<()> {
        sqlx::query(
            "INSERT INTO audit_log (actor_id, actor, action, entity, entity_id, before, after, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.actor_id)
        .bind(&e.actor)
        .bind(&e.action)
        .bind(&e.entity)
        .bind(e.entity_id)
        .bind(&e.before)
        .bind(&e.after)
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn finish_jobs(&mut self, ids: &[Id], at: Millis) -> Result<()> {
        for chunk in ids.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new("UPDATE jobs SET done_at = ");
            qb.push_bind(at).push(", locked_until = NULL WHERE id IN (");
            push_ids(&mut qb, chunk);
            qb.push(")");
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn enqueue_job(
        &mut self,
        kind: &str,
        payload: &str,
        run_at: Millis,
        now: Millis,
    ) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, run_at, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(kind)
        .bind(payload)
        .bind(run_at)
        .bind(now)
        .fetch_one(&mut *self.tx)
        .await?)
    }
    async fn capture_keys_many(
        &mut self,
        keys: &[String],
    ) -> Result<Vec<(String, String, Millis)>> {
        let mut out = Vec::new();
        for chunk in keys.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "SELECT key, result, created_at FROM capture_keys WHERE key IN (",
            );
            let mut sep = qb.separated(", ");
            for k in chunk {
                sep.push_bind(k.clone());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *self.tx).await? {
                out.push((
                    r.try_get("key")?,
                    r.try_get("result")?,
                    r.try_get("created_at")?,
                ));
            }
        }
        Ok(out)
    }

    async fn put_capture_keys(&mut self, rows: &[(String, String, Millis)]) -> Result<()> {
        for chunk in rows.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("INSERT INTO capture_keys (key, result, created_at) ");
            qb.push_values(chunk, |mut b, (k, r, at)| {
                b.push_bind(k.clone()).push_bind(r.clone()).push_bind(*at);
            });
            qb.push(" ON CONFLICT (key) DO UPDATE SET result = excluded.result, created_at = excluded.created_at");
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn stored_reasons(&mut self, touches: &[Id], interests: &[Id]) -> Result<StoredReasons> {
        let mut found = StoredReasons::default();
        for (table, ids, into) in [
            ("touches", touches, &mut found.touches),
            ("interests", interests, &mut found.interests),
        ] {
            for chunk in ids.chunks(CHUNK) {
                let mut qb: QueryBuilder<DB> =
                    QueryBuilder::new(format!("SELECT id, reasons FROM {table} WHERE id IN ("));
                push_ids(&mut qb, chunk);
                qb.push(")");
                for r in qb.build().fetch_all(&mut *self.tx).await? {
                    into.insert(r.try_get("id")?, r.try_get("reasons")?);
                }
            }
        }
        Ok(found)
    }

    async fn candidates_many(&mut self, subs: &[&Normalized]) -> Result<Vec<Candidate>> {
        candidates_in(&mut self.tx, subs).await
    }

    async fn candidate_cards(&mut self, ids: &[Id]) -> Result<Vec<Candidate>> {
        candidate_cards_in(&mut self.tx, ids.to_vec()).await
    }

    async fn reserve_ids(&mut self, table: IdTable, n: usize) -> Result<Vec<Id>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        reserve_ids_sql(&mut self.tx, table.name(), n).await
    }

    async fn reserve_ids_many(&mut self, wants: &[(IdTable, usize)]) -> Result<Vec<Vec<Id>>> {
        let named: Vec<(&str, usize)> = wants.iter().map(|(t, n)| (t.name(), *n)).collect();
        reserve_many_ids_sql(&mut self.tx, &named).await
    }

    async fn accounts_for(
        &mut self,
        rows: &[(String, String, Option<String>)],
        at: Millis,
    ) -> Result<Vec<(String, Id)>> {
        let mut out = Vec::new();
        for chunk in rows.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("INSERT INTO accounts (name, name_key, domain, created_at) ");
            qb.push_values(chunk, |mut b, (name, key, domain)| {
                b.push_bind(name.clone())
                    .push_bind(key.clone())
                    .push_bind(domain.clone())
                    .push_bind(at);
            });
            qb.push(" ON CONFLICT (name_key) DO NOTHING");
            qb.build().execute(&mut *self.tx).await?;
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("SELECT name_key, id FROM accounts WHERE name_key IN (");
            let mut sep = qb.separated(", ");
            for (_, key, _) in chunk {
                sep.push_bind(key.clone());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *self.tx).await? {
                out.push((r.try_get("name_key")?, r.try_get("id")?));
            }
        }
        Ok(out)
    }

    async fn insert_contacts(&mut self, rows: &[NewContactRow<'_>]) -> Result<()> {
        for chunk in rows.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO contacts (id, full_name, first_name, last_name, position, country, language, account_id, created_at, updated_at, name_key) ",
            );
            qb.push_values(chunk, |mut b, c| {
                b.push_bind(c.id)
                    .push_bind(c.n.full_name.clone().unwrap_or_default())
                    .push_bind(c.n.first_name.clone())
                    .push_bind(c.n.last_name.clone())
                    .push_bind(c.n.position.clone())
                    .push_bind(c.n.country.clone())
                    .push_bind(c.n.language.clone())
                    .push_bind(c.account_id)
                    .push_bind(c.at)
                    .push_bind(c.at)
                    .push_bind(voronka_core::intake::keys::block_key(c.n));
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        let phones: Vec<(Id, &voronka_core::Phone)> = rows
            .iter()
            .flat_map(|c| c.n.phones.iter().map(move |p| (c.id, p)))
            .collect();
        for chunk in phones.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("INSERT INTO contact_phones (contact_id, raw, e164, valid) ");
            qb.push_values(chunk, |mut b, (id, p)| {
                b.push_bind(*id)
                    .push_bind(p.raw.clone())
                    .push_bind(p.e164.clone())
                    .push_bind(p.valid);
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        let emails: Vec<(Id, &Email)> = rows
            .iter()
            .flat_map(|c| c.n.emails.iter().map(move |e| (c.id, e)))
            .collect();
        for chunk in emails.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO contact_emails (contact_id, raw, normalized, match_key) ",
            );
            qb.push_values(chunk, |mut b, (id, e)| {
                b.push_bind(*id)
                    .push_bind(e.raw.clone())
                    .push_bind(e.normalized.clone())
                    .push_bind(email_key(e));
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        let socials: Vec<(Id, &String)> = rows
            .iter()
            .flat_map(|c| c.n.socials.iter().map(move |s| (c.id, s)))
            .collect();
        for chunk in socials.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("INSERT INTO contact_socials (contact_id, url, match_key) ");
            qb.push_values(chunk, |mut b, (id, s)| {
                b.push_bind(*id)
                    .push_bind((*s).clone())
                    .push_bind(social_key(s));
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_leads(&mut self, rows: &[(Id, NewLead)]) -> Result<()> {
        for chunk in rows.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO leads (id, contact_id, product, message, value_minor, value_currency, stage, temperature, score, \
                 owner_id, form_id, source, medium, campaign, touches, reasons, route_coded, search_text, inbox_rank, \
                 created_at, updated_at, junk_reason, junk_args, kind, fit, engagement, fit_level, activity, profile, scored_at, temperature_manual, \
                 sla_due_at, conversion_ppm) ",
            );
            qb.push_values(chunk, |mut b, (id, l)| {
                let rank: i64 = match (l.stage, l.owner_id.is_none()) {
                    (Stage::New, true) => 3,
                    (Stage::New, false) => 2,
                    (s, true) if s.is_open() => 1,
                    _ => 0,
                };
                b.push_bind(*id)
                    .push_bind(l.contact_id)
                    .push_bind(l.product.clone())
                    .push_bind(l.message.clone())
                    .push_bind(l.value.map(|m| m.minor))
                    .push_bind(l.value.map(|m| m.currency.as_str().to_string()))
                    .push_bind(l.stage.as_str())
                    .push_bind(l.temperature.as_str())
                    .push_bind(l.score)
                    .push_bind(l.owner_id)
                    .push_bind(l.form_id)
                    .push_bind(l.attribution.utm_source.clone())
                    .push_bind(l.attribution.utm_medium.clone())
                    .push_bind(l.attribution.utm_campaign.clone())
                    .push_bind(1i64)
                    .push_bind(l.reasons.clone())
                    .push_bind(l.route.as_ref().map(voronka_core::Notice::to_json))
                    .push_bind(l.search_text.clone())
                    .push_bind(rank)
                    .push_bind(l.created_at)
                    .push_bind(l.created_at)
                    .push_bind(l.junk_reason.clone())
                    .push_bind(l.junk_stored.clone())
                    .push_bind(l.kind.clone())
                    .push_bind(l.fit)
                    .push_bind(l.engagement)
                    .push_bind(l.fit_level.as_str())
                    .push_bind(l.activity.as_str())
                    .push_bind(l.profile.clone())
                    .push_bind(l.created_at)
                    .push_bind(l.temperature_manual)
                    .push_bind(l.sla_due_at)
                    // -1: no probability, as the column's default says.
                    .push_bind(l.conversion.map_or(-1, probability_to_ppm));
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_touches(&mut self, rows: &[(Id, NewTouch)]) -> Result<()> {
        for chunk in rows.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO touches (id, lead_id, channel, form_id, utm_source, utm_medium, utm_campaign, utm_term, \
                 utm_content, referrer, landing_page, partner, visitor_id, ip, user_agent, message, raw, reasons, created_at, \
                 verdict, answers, consent_text, variant) ",
            );
            qb.push_values(chunk, |mut b, (id, t)| {
                b.push_bind(*id)
                    .push_bind(t.lead_id)
                    .push_bind(t.channel.as_str())
                    .push_bind(t.form_id)
                    .push_bind(t.attribution.utm_source.clone())
                    .push_bind(t.attribution.utm_medium.clone())
                    .push_bind(t.attribution.utm_campaign.clone())
                    .push_bind(t.attribution.utm_term.clone())
                    .push_bind(t.attribution.utm_content.clone())
                    .push_bind(t.attribution.referrer.clone())
                    .push_bind(t.attribution.landing_page.clone())
                    .push_bind(t.partner.clone())
                    .push_bind(t.visitor_id.clone())
                    .push_bind(t.ip.clone())
                    .push_bind(t.user_agent.clone())
                    .push_bind(t.message.clone())
                    .push_bind(t.raw.clone())
                    .push_bind(t.reasons.clone())
                    .push_bind(t.created_at)
                    .push_bind(t.verdict.clone())
                    .push_bind(t.answers.clone())
                    .push_bind(t.consent_text.clone())
                    .push_bind(t.variant.clone());
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_interests(&mut self, rows: &[(Id, NewInterest)]) -> Result<()> {
        for chunk in rows.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO interests (id, channel, form_id, rejected, visitor_id, utm_source, utm_medium, utm_campaign, ip, \
                 reasons, raw, created_at, partner) ",
            );
            qb.push_values(chunk, |mut b, (id, i)| {
                b.push_bind(*id)
                    .push_bind(i.channel.as_str())
                    .push_bind(i.form_id)
                    .push_bind(i.rejected)
                    .push_bind(i.visitor_id.clone())
                    .push_bind(i.attribution.utm_source.clone())
                    .push_bind(i.attribution.utm_medium.clone())
                    .push_bind(i.attribution.utm_campaign.clone())
                    .push_bind(i.ip.clone())
                    .push_bind(i.reasons.clone())
                    .push_bind(i.raw.clone())
                    .push_bind(i.created_at)
                    .push_bind(i.partner.clone());
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_form_events(&mut self, rows: &[NewFormEvent]) -> Result<()> {
        for chunk in rows.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO form_events (form_id, variant, kind, visitor_id, at) ",
            );
            qb.push_values(chunk, |mut b, e| {
                b.push_bind(e.form_id)
                    .push_bind(e.variant.clone())
                    .push_bind(e.kind.clone())
                    .push_bind(e.visitor_id.clone())
                    .push_bind(e.at);
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_stage_changes(&mut self, rows: &[NewStageChange]) -> Result<()> {
        for chunk in rows.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO stage_changes (lead_id, from_stage, to_stage, actor_id, actor, reason, reason_code, reason_args, comment, at) ",
            );
            qb.push_values(chunk, |mut b, c| {
                let (code, args) = c.stored_code();
                b.push_bind(c.lead_id)
                    .push_bind(c.from.map(|s| s.as_str()))
                    .push_bind(c.to.as_str())
                    .push_bind(c.actor_id)
                    .push_bind(c.actor.clone())
                    .push_bind(c.reason.clone())
                    .push_bind(code)
                    .push_bind(args)
                    .push_bind(c.comment.clone())
                    .push_bind(c.at);
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_duplicate_pairs(&mut self, rows: &[NewDuplicatePair]) -> Result<()> {
        for chunk in rows.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO duplicate_pairs (lead_id, other_lead_id, probability, explanation, status, created_at) ",
            );
            qb.push_values(chunk, |mut b, p| {
                b.push_bind(p.lead_id)
                    .push_bind(p.other_lead_id)
                    .push_bind(p.comparison.probability)
                    .push_bind(p.comparison.to_compact())
                    .push_bind("open")
                    .push_bind(p.at);
            });
            qb.push(" ON CONFLICT (lead_id, other_lead_id) DO NOTHING");
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn set_pair_status(
        &mut self,
        id: Id,
        status: &str,
        by: Option<&str>,
        at: Millis,
    ) -> Result<()> {
        sqlx::query("UPDATE duplicate_pairs SET status = $1, resolved_by = $2, resolved_at = $3 WHERE id = $4")
            .bind(status)
            .bind(by)
            .bind(if status == "open" { None } else { Some(at) })
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn set_pairs_status_between(
        &mut self,
        a: Id,
        b: Id,
        status: &str,
        by: Option<&str>,
        at: Millis,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE duplicate_pairs SET status = $1, resolved_by = $2, resolved_at = $3 \
             WHERE (lead_id = $4 AND other_lead_id = $5) OR (lead_id = $5 AND other_lead_id = $4)",
        )
        .bind(status)
        .bind(by)
        .bind(if status == "open" { None } else { Some(at) })
        .bind(a)
        .bind(b)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn merge_leads(
        &mut self,
        survivor: Id,
        merged: Id,
        take: &[String],
        at: Millis,
    ) -> Result<MergeSnapshot> {
        self.merge(survivor, merged, take, false, at).await
    }

    async fn merge_contacts(
        &mut self,
        survivor: Id,
        merged: Id,
        take: &[String],
        at: Millis,
    ) -> Result<MergeSnapshot> {
        self.merge(survivor, merged, take, true, at).await
    }

    async fn record_merge(
        &mut self,
        s: &MergeSnapshot,
        actor_id: Option<Id>,
        actor: &str,
        at: Millis,
    ) -> Result<Id> {
        let json = serde_json::to_string(s).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(sqlx::query_scalar(
            "INSERT INTO merges (survivor_lead_id, merged_lead_id, snapshot, actor_id, actor, at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(s.survivor_lead)
        .bind(s.merged_lead)
        .bind(json)
        .bind(actor_id)
        .bind(actor)
        .bind(at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn undo_merge(&mut self, merge_id: Id, s: &MergeSnapshot, at: Millis) -> Result<()> {
        let later: Option<Id> = sqlx::query_scalar("SELECT merged_into FROM leads WHERE id = $1")
            .bind(s.survivor_lead)
            .fetch_optional(&mut *self.tx)
            .await?
            .flatten();
        if later.is_some() {
            return Err(StoreError::Conflict(crate::Conflict::SurvivorMergedAgain));
        }
        let b = &s.lead_before;
        if !s.lead_kept {
            sqlx::query(
            "UPDATE leads SET product = $1, message = $2, value_minor = $3, value_currency = $4, temperature = $5, \
             owner_id = $6, touches = CASE WHEN touches - $7 < 1 THEN 1 ELSE touches - $7 END, search_text = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(b["product"].as_str())
        .bind(b["message"].as_str())
        .bind(b["value_minor"].as_i64())
        .bind(b["value_currency"].as_str())
        .bind(b["temperature"].as_str().unwrap_or("cold"))
        .bind(b["owner_id"].as_i64())
        .bind(s.moved_touches.len() as i64)
        .bind(b["search_text"].as_str().unwrap_or(""))
        .bind(at)
        .bind(s.survivor_lead)
        .execute(&mut *self.tx)
        .await?;
        }
        self.remove_tags(s.survivor_lead, &s.added_tags).await?;
        for (table, ids) in [
            ("touches", &s.moved_touches),
            ("notes", &s.moved_notes),
            ("stage_changes", &s.moved_stage_changes),
            ("deals", &s.moved_deals),
            ("events", &s.moved_events),
        ] {
            for chunk in ids.chunks(CHUNK) {
                let mut qb: QueryBuilder<DB> =
                    QueryBuilder::new(format!("UPDATE {table} SET lead_id = "));
                qb.push_bind(s.merged_lead).push(" WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&mut *self.tx).await?;
            }
        }
        if let Some(c) = &s.contact_before {
            sqlx::query(
                "UPDATE contacts SET full_name = $1, first_name = $2, last_name = $3, position = $4, country = $5, \
                 language = $6, account_id = $7, name_key = $8, updated_at = $9 WHERE id = $10",
            )
            .bind(c["full_name"].as_str().unwrap_or(""))
            .bind(c["first_name"].as_str())
            .bind(c["last_name"].as_str())
            .bind(c["position"].as_str())
            .bind(c["country"].as_str())
            .bind(c["language"].as_str())
            .bind(c["account_id"].as_i64())
            .bind(c["name_key"].as_str())
            .bind(at)
            .bind(s.survivor_contact)
            .execute(&mut *self.tx)
            .await?;
            for (sql, values) in [
                (
                    "DELETE FROM contact_phones WHERE contact_id = $1 AND raw = $2",
                    &s.added_phones,
                ),
                (
                    "DELETE FROM contact_emails WHERE contact_id = $1 AND normalized = $2",
                    &s.added_emails,
                ),
                (
                    "DELETE FROM contact_socials WHERE contact_id = $1 AND url = $2",
                    &s.added_socials,
                ),
            ] {
                for v in values {
                    sqlx::query(sql)
                        .bind(s.survivor_contact)
                        .bind(v)
                        .execute(&mut *self.tx)
                        .await?;
                }
            }
            for chunk in s.moved_leads.chunks(CHUNK) {
                let mut qb: QueryBuilder<DB> = QueryBuilder::new("UPDATE leads SET contact_id = ");
                qb.push_bind(s.merged_contact).push(" WHERE id IN (");
                let mut sep = qb.separated(", ");
                for id in chunk {
                    sep.push_bind(*id);
                }
                qb.push(")");
                qb.build().execute(&mut *self.tx).await?;
            }
            if let Some(cid) = s.moved_customer {
                sqlx::query("UPDATE customers SET contact_id = $1 WHERE id = $2")
                    .bind(s.merged_contact)
                    .bind(cid)
                    .execute(&mut *self.tx)
                    .await?;
            }
            sqlx::query("UPDATE contacts SET merged_into = NULL, updated_at = $1 WHERE id = $2")
                .bind(at)
                .bind(s.merged_contact)
                .execute(&mut *self.tx)
                .await?;
        }
        sqlx::query("UPDATE leads SET merged_into = NULL, updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(s.merged_lead)
            .execute(&mut *self.tx)
            .await?;
        sqlx::query("UPDATE merges SET undone_at = $1 WHERE id = $2")
            .bind(at)
            .bind(merge_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn mark_first_response(&mut self, lead_id: Id, at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE leads SET first_response_at = $1 WHERE id = $2 AND first_response_at IS NULL",
        )
        .bind(at)
        .bind(lead_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn set_conversion_probabilities(&mut self, rows: &[(Id, f64)]) -> Result<()> {
        // One statement per chunk: CASE maps each id to its value in both engines.
        for chunk in rows.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("UPDATE leads SET conversion_ppm = CASE id");
            for (id, p) in chunk {
                qb.push(" WHEN ")
                    .push_bind(*id)
                    .push(" THEN ")
                    .push_bind(probability_to_ppm(*p));
            }
            qb.push(" ELSE conversion_ppm END WHERE id IN (");
            let ids: Vec<Id> = chunk.iter().map(|(id, _)| *id).collect();
            push_ids(&mut qb, &ids);
            qb.push(")");
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn count_touch(&mut self, lead_id: Id, at: Millis) -> Result<()> {
        sqlx::query("UPDATE leads SET touches = touches + 1, updated_at = $1 WHERE id = $2")
            .bind(at)
            .bind(lead_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn add_to_counter(&mut self, name: &str, by: i64) -> Result<()> {
        if by == 0 {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO counters (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = counters.value + $2",
        )
        .bind(name)
        .bind(by)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

/// Every contact sharing a phone, email or social profile with any of the submissions, and the
/// latest of those sharing a block key (see [`Tx::candidates_many`]).
async fn candidates_in(tx: &mut OpenTx, subs: &[&Normalized]) -> Result<Vec<Candidate>> {
    let mut phones = Vec::new();
    let mut emails = Vec::new();
    let mut socials = Vec::new();
    let mut blocks = Vec::new();
    for n in subs {
        blocks.extend(voronka_core::intake::keys::block_key(n));
        phones.extend(
            n.phones
                .iter()
                .filter(|p| p.valid)
                .filter_map(|p| p.e164.clone()),
        );
        emails.extend(n.emails.iter().map(email_key));
        socials.extend(n.socials.iter().map(|s| social_key(s)));
    }
    for v in [&mut phones, &mut emails, &mut socials, &mut blocks] {
        v.sort_unstable();
        v.dedup();
    }
    // Every answer comes back folded into one row (`json_rows`): a batch of 500 submissions
    // brings thousands of candidates, and sqlx hands each SQLite row over on its own.
    let mut ids: Vec<i64> = Vec::new();
    for (table, col, vals) in [
        ("contact_phones", "e164", &phones),
        ("contact_emails", "match_key", &emails),
        ("contact_socials", "match_key", &socials),
    ] {
        for chunk in vals.chunks(CHUNK) {
            // Merged contacts keep their rows for undo but are never matched again. Written
            // so that both planners look each contact up by its key: a join let SQLite scan
            // the contacts when its statistics were taken on few rows.
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
                "SELECT {} FROM {table} t WHERE NOT EXISTS \
                 (SELECT 1 FROM contacts c WHERE c.id = t.contact_id AND c.merged_into IS NOT NULL) \
                 AND t.{col} IN (",
                json_rows("t.contact_id")
            ));
            let mut sep = qb.separated(", ");
            for v in chunk {
                sep.push_bind(v.as_str());
            }
            qb.push(")");
            let found: Vec<(i64,)> = json_answer(tx, qb, "candidate contacts").await?;
            ids.extend(found.into_iter().map(|(id,)| id));
        }
    }
    // A block key (name and company) only ever flags possible duplicates: its latest
    // contacts are enough, and a key shared by many more (a common name at a large company)
    // would make every capture compare them all.
    if !blocks.is_empty() {
        let qb = block_candidates_query(&blocks, BLOCK_CANDIDATES);
        let found: Vec<Vec<i64>> = json_answer(tx, qb, "candidate blocks").await?;
        ids.extend(found.into_iter().flatten());
    }
    candidate_cards_in(tx, ids).await
}

/// The contacts' cards as candidates: phones, emails, social profiles, name and company,
/// and their leads; by id.
async fn candidate_cards_in(tx: &mut OpenTx, mut ids: Vec<i64>) -> Result<Vec<Candidate>> {
    ids.sort_unstable();
    ids.dedup();
    let mut by_id: std::collections::BTreeMap<i64, Candidate> = ids
        .iter()
        .map(|&id| {
            (
                id,
                Candidate {
                    contact_id: id,
                    ..Default::default()
                },
            )
        })
        .collect();
    for chunk in ids.chunks(CHUNK) {
        for (table, col, only, kind) in [
            // A phone that is not a valid number has no e164.
            ("contact_phones", "e164", "e164 IS NOT NULL AND ", 0),
            ("contact_emails", "match_key", "", 1),
            ("contact_socials", "match_key", "", 2),
        ] {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
                "SELECT {} FROM {table} WHERE {only}contact_id IN (",
                json_rows(&format!("contact_id, {col}"))
            ));
            push_ids(&mut qb, chunk);
            qb.push(")");
            let found: Vec<(i64, String)> = json_answer(tx, qb, table).await?;
            for (cid, v) in found {
                if let Some(c) = by_id.get_mut(&cid) {
                    match kind {
                        0 => c.phones.push(v),
                        1 => c.emails.push(v),
                        _ => c.socials.push(v),
                    }
                }
            }
        }
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
            "SELECT {} FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id WHERE c.id IN (",
            json_rows("c.id, c.full_name, c.name_key, a.name")
        ));
        push_ids(&mut qb, chunk);
        qb.push(")");
        let found: Vec<(i64, String, Option<String>, Option<String>)> =
            json_answer(tx, qb, "candidate names").await?;
        for (id, name, block_key, company) in found {
            if let Some(c) = by_id.get_mut(&id) {
                c.name = name;
                c.block_key = block_key;
                c.company = company;
            }
        }
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
            "SELECT {} FROM leads WHERE merged_into IS NULL AND contact_id IN (",
            json_rows("id, contact_id, product, stage, owner_id, updated_at")
        ));
        push_ids(&mut qb, chunk);
        qb.push(")");
        type LeadTuple = (Id, Id, Option<String>, String, Option<Id>, Millis);
        let found: Vec<LeadTuple> = json_answer(tx, qb, "candidate leads").await?;
        for (lead_id, cid, product, stage, owner_id, updated_at) in found {
            if let Some(c) = by_id.get_mut(&cid) {
                c.leads.push(CandidateLead {
                    lead_id,
                    product,
                    stage: Stage::parse(&stage).map_err(|_| corrupt("stage", &stage))?,
                    owner_id,
                    updated_at,
                });
            }
        }
    }
    Ok(by_id.into_values().collect())
}

/// Rows per multi-row statement: well under both engines' limits on bound parameters.
const CHUNK: usize = 400;

/// A claim of the rescoring queue first moves at most this many slices' worth of the rescoring
/// log into it.
const FOLD_SLICES: i64 = 100;

/// The search index's mark (`search.search_state`) beside what the database holds now: whether
/// the index belongs to it, and how far it is behind.
const SEARCH_STATE_SQL: &str = "SELECT s.source = (SELECT token FROM search_source), \
     s.indexed_upto, s.changes_upto, \
     (SELECT COALESCE(MAX(id), 0) FROM leads), \
     (SELECT COALESCE(MAX(seq), 0) FROM search_changes), \
     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'leads'), 0), \
     COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'search_changes'), 0) \
     FROM search.search_state s";

/// One reading of [`SEARCH_STATE_SQL`].
struct SearchState {
    ours: bool,
    indexed_upto: i64,
    changes_upto: i64,
    top_lead: i64,
    top_change: i64,
    /// The largest lead id and change number the database ever gave.
    ever_lead: i64,
    ever_change: i64,
}

impl SearchState {
    async fn read(conn: &mut <DB as sqlx::Database>::Connection) -> Result<SearchState> {
        let r = sqlx::query(SEARCH_STATE_SQL).fetch_one(conn).await?;
        Ok(SearchState {
            ours: r.try_get::<Option<bool>, _>(0)?.unwrap_or(false),
            indexed_upto: r.try_get(1)?,
            changes_upto: r.try_get(2)?,
            top_lead: r.try_get(3)?,
            top_change: r.try_get(4)?,
            ever_lead: r.try_get(5)?,
            ever_change: r.try_get(6)?,
        })
    }

    /// The index was built from another database, or from a later state of this one (a copy
    /// restored over it): it is emptied and built again.
    fn foreign(&self) -> bool {
        !self.ours || self.indexed_upto > self.ever_lead || self.changes_upto > self.ever_change
    }

    fn current(&self) -> bool {
        !self.foreign()
            && self.indexed_upto >= self.top_lead
            && self.changes_upto >= self.top_change
    }
}

impl SqlStore {
    /// One slice of the search indexer (SQLite): first the changed leads the index holds (up
    /// to `limit`), then up to `limit` new ones, in one transaction that reads this database
    /// and writes only the index's file. With `limit` 0 it only empties an index that is not
    /// this database's.
    async fn search_pass(&self, limit: i64) -> Result<SearchSlice> {
        let Some(indexer) = &self.indexer else {
            return Ok(SearchSlice::default());
        };
        let mut conn = indexer.acquire().await?;
        // Looked at outside a transaction first: an idle indexer writes nothing, nor does a
        // check (`limit` 0) of an index that is this database's.
        let seen = SearchState::read(&mut conn).await?;
        if seen.current() || (limit == 0 && !seen.foreign()) {
            return Ok(SearchSlice::default());
        }
        let held = std::time::Instant::now();
        // A deferred transaction: the index's file is locked by the first write below, and
        // this database is only read (a snapshot taken at its first read, after that lock).
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        sqlx::query("UPDATE search.search_state SET id = 1")
            .execute(&mut *tx)
            .await?;
        let mut state = SearchState::read(&mut tx).await?;
        if state.foreign() {
            tracing::info!("the search index belongs to another database; building it again");
            // All entries at once, rather than a delete per row.
            sqlx::query("INSERT INTO search.leads_search (leads_search) VALUES ('delete-all')")
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE search.search_state SET source = (SELECT token FROM search_source), \
                 indexed_upto = 0, changes_upto = $1",
            )
            .bind(state.top_change)
            .execute(&mut *tx)
            .await?;
            (state.ours, state.indexed_upto, state.changes_upto) = (true, 0, state.top_change);
        }
        let mut added = 0u64;
        if limit > 0 && state.changes_upto < state.top_change {
            let changes: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT seq, lead_id FROM search_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(state.changes_upto)
            .bind(limit)
            .fetch_all(&mut *tx)
            .await?;
            let mut ids: Vec<i64> = changes
                .iter()
                .map(|(_, id)| *id)
                .filter(|id| *id <= state.indexed_upto)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            let ids_json = serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into());
            sqlx::query(
                "DELETE FROM search.leads_search WHERE rowid IN (SELECT value FROM json_each($1))",
            )
            .bind(&ids_json)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO search.leads_search (rowid, search_text) SELECT id, search_text \
                 FROM leads WHERE id IN (SELECT value FROM json_each($1))",
            )
            .bind(&ids_json)
            .execute(&mut *tx)
            .await?;
            state.changes_upto = changes.last().map_or(state.changes_upto, |(seq, _)| *seq);
            added += ids.len() as u64;
        }
        let upto = state.indexed_upto;
        let to = state.top_lead.min(upto.saturating_add(limit));
        if to > upto {
            sqlx::query(
                "INSERT INTO search.leads_search (rowid, search_text) \
                 SELECT id, search_text FROM leads WHERE id > $1 AND id <= $2",
            )
            .bind(upto)
            .bind(to)
            .execute(&mut *tx)
            .await?;
            added += (to - upto) as u64;
        }
        sqlx::query("UPDATE search.search_state SET indexed_upto = $1, changes_upto = $2")
            .bind(to.max(upto))
            .bind(state.changes_upto)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(SearchSlice {
            added,
            held: held.elapsed(),
        })
    }
}

const BLOCK_CANDIDATES: i64 = crate::BLOCK_CANDIDATES as i64;

impl SqlTx {
    /// Each lead of a contact gets its search text as the intake writes it (name, company,
    /// product, phones as E.164 and digits, emails), from what is stored now.
    async fn refresh_search_text(&mut self, contact_id: Id) -> Result<()> {
        use voronka_core::intake::keys::search_text;
        let (name, company): (String, Option<String>) = sqlx::query_as(
            "SELECT c.full_name, a.name FROM contacts c LEFT JOIN accounts a ON a.id = c.account_id \
             WHERE c.id = $1",
        )
        .bind(contact_id)
        .fetch_one(&mut *self.tx)
        .await?;
        let phones: Vec<String> = sqlx::query_scalar(
            "SELECT e164 FROM contact_phones WHERE contact_id = $1 AND e164 IS NOT NULL \
             ORDER BY e164",
        )
        .bind(contact_id)
        .fetch_all(&mut *self.tx)
        .await?;
        let emails: Vec<String> = sqlx::query_scalar(
            "SELECT match_key FROM contact_emails WHERE contact_id = $1 ORDER BY match_key",
        )
        .bind(contact_id)
        .fetch_all(&mut *self.tx)
        .await?;
        let digits: Vec<&str> = phones.iter().map(|p| p.trim_start_matches('+')).collect();
        let leads: Vec<(Id, Option<String>)> =
            sqlx::query_as("SELECT id, product FROM leads WHERE contact_id = $1")
                .bind(contact_id)
                .fetch_all(&mut *self.tx)
                .await?;
        for (lead, product) in leads {
            let mut parts: Vec<&str> = vec![
                &name,
                company.as_deref().unwrap_or(""),
                product.as_deref().unwrap_or(""),
            ];
            parts.extend(phones.iter().map(String::as_str));
            parts.extend(digits.iter().copied());
            parts.extend(emails.iter().map(String::as_str));
            sqlx::query("UPDATE leads SET search_text = $1 WHERE id = $2")
                .bind(search_text(&parts))
                .bind(lead)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }

    async fn account_for(&mut self, company: &str, n: &Normalized, at: Millis) -> Result<Id> {
        let key = voronka_core::intake::keys::account_key(company);
        let key = if key.is_empty() {
            company.to_lowercase()
        } else {
            key
        };
        let domain = n
            .emails
            .first()
            .and_then(|e| e.normalized.rsplit_once('@').map(|(_, d)| d.to_string()));
        sqlx::query(
            "INSERT INTO accounts (name, name_key, domain, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name_key) DO NOTHING",
        )
        .bind(company)
        .bind(&key)
        .bind(domain)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(
            sqlx::query_scalar("SELECT id FROM accounts WHERE name_key = $1")
                .bind(&key)
                .fetch_one(&mut *self.tx)
                .await?,
        )
    }

    async fn add_details(
        &mut self,
        id: Id,
        n: &Normalized,
        have_phones: &[String],
        have_emails: &[String],
        have_socials: &[String],
    ) -> Result<Vec<String>> {
        // What was new, in the lowercased form the lead search runs over.
        let mut tokens = Vec::new();
        for p in &n.phones {
            let key = p.e164.clone().unwrap_or_else(|| p.raw.clone());
            if have_phones.contains(&key) {
                continue;
            }
            if let Some(e) = &p.e164 {
                tokens.push(e.clone());
                tokens.push(e.trim_start_matches('+').to_string());
            }
            sqlx::query(
                "INSERT INTO contact_phones (contact_id, raw, e164, valid) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(&p.raw)
            .bind(&p.e164)
            .bind(p.valid)
            .execute(&mut *self.tx)
            .await?;
        }
        for e in &n.emails {
            let key = email_key(e);
            if have_emails.contains(&key) {
                continue;
            }
            tokens.push(key.clone());
            sqlx::query("INSERT INTO contact_emails (contact_id, raw, normalized, match_key) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(&e.raw)
                .bind(&e.normalized)
                .bind(&key)
                .execute(&mut *self.tx)
                .await?;
        }
        for s in &n.socials {
            let key = social_key(s);
            if have_socials.contains(&key) {
                continue;
            }
            sqlx::query(
                "INSERT INTO contact_socials (contact_id, url, match_key) VALUES ($1, $2, $3)",
            )
            .bind(id)
            .bind(s)
            .bind(&key)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(tokens)
    }
}
