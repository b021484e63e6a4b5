//! Embedded default backend: one SQLite file in WAL mode.

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

type DB = sqlx::Sqlite;
const BACKEND: crate::Backend = crate::Backend::Sqlite;
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// SQLite serializes writers, so claiming needs no row locks.
/// Approximate statistics are enough for the planner and take milliseconds even at millions of rows.
/// A connection reads the statistics only when it loads the schema, and a later ANALYZE does not
/// make it load again: connections opened on a small database would plan for it forever (a
/// default inbox page at 100,000 leads took 270 ms on them against 0.8 ms on a new one). A table
/// made and dropped changes the schema, so every connection of every process reloads it, with the
/// new statistics, at its next statement.
const OPTIMIZE_SQL: &[&str] = &[
    "PRAGMA analysis_limit = 1000",
    // The search index's file is attached read-only to these connections, and its table needs
    // no statistics.
    "ANALYZE main",
    "CREATE TABLE voronka_statistics_reload (x)",
    "DROP TABLE voronka_statistics_reload",
];

/// Indexed leads whose search text changed (or that were deleted) since the index took in
/// changes: the index's entries for them may be stale, so their own text is read instead.
macro_rules! search_pending {
    () => {
        "(SELECT lead_id FROM search_changes \
         WHERE seq > (SELECT changes_upto FROM search.search_state))"
    };
}
const SEARCH_PENDING: &str = search_pending!();

/// How many leads the trigram index matches for a term (up to a bound), and their ids as a
/// JSON array.
const SEARCH_MATCHES_SQL: &str = concat!(
    "SELECT COUNT(*), json_group_array(rowid) FROM \
     (SELECT rowid FROM search.leads_search WHERE leads_search MATCH $1 AND rowid NOT IN ",
    search_pending!(),
    " LIMIT $2)"
);

/// A term as an FTS5 phrase: with the trigram tokenizer a phrase matches as a substring, read
/// from the index's positions alone (LIKE re-reads each candidate lead to check it).
fn search_index_arg(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// Adds a search condition read one way (see `TextPlan`).
fn push_text_filter(qb: &mut sqlx::QueryBuilder<'_, DB>, term: &str, plan: &TextPlan) {
    let pattern = format!("%{term}%");
    // Each is one `IN` list, so that the planner drives the query from the matches (an `OR` of
    // two conditions made it walk the list's order instead). The leads the index does not hold
    // yet, and those whose text changed since it took them in, are read directly.
    let behind = |qb: &mut sqlx::QueryBuilder<'_, DB>| {
        qb.push(
            " UNION ALL SELECT id FROM leads \
             WHERE id > (SELECT indexed_upto FROM search.search_state) AND search_text LIKE ",
        )
        .push_bind(pattern.clone())
        .push(format!(
            " UNION ALL SELECT id FROM leads WHERE id IN {SEARCH_PENDING} \
             AND id <= (SELECT indexed_upto FROM search.search_state) AND search_text LIKE "
        ))
        .push_bind(pattern.clone());
    };
    match plan {
        TextPlan::Scan => {
            qb.push(" AND l.search_text LIKE ").push_bind(pattern);
        }
        TextPlan::Ids(ids, with_behind) => {
            qb.push(" AND l.id IN (SELECT value FROM json_each(")
                .push_bind(ids.clone())
                .push(")");
            if *with_behind {
                behind(qb);
            }
            qb.push(")");
        }
        TextPlan::Index => {
            qb.push(
                " AND l.id IN (SELECT rowid FROM search.leads_search WHERE leads_search MATCH ",
            )
            .push_bind(search_index_arg(term))
            .push(format!(" AND rowid NOT IN {SEARCH_PENDING}"));
            behind(qb);
            qb.push(")");
        }
    }
}

/// Listed leads are tallied per stage and owner by triggers (`lead_tallies`); counts that filter
/// on nothing else read the tallies.
const LEAD_TALLIES: bool = true;

/// The events table as the lookup of anonymous visitors reads it. Named, because once ANALYZE has
/// run SQLite prices `lead_id IS NULL` as an equality on `events_lead` (a few rows per lead) and,
/// for a long list of visitors, walks every anonymous event through that index instead.
const ANONYMOUS_EVENTS: &str = "events INDEXED BY events_anonymous";

/// A lead's events (`l` is the lead) as one JSON array of `[id, name, url, properties, at]`.
const LEAD_EVENTS_SQL: &str =
    "SELECT json_group_array(json_array(e.id, e.name, e.url, e.properties, e.at)) \
     FROM events e WHERE e.lead_id = l.id";

/// Rows folded into one JSON array of `[cols…]` arrays: sqlx hands every SQLite row over from its
/// worker thread on its own, which costs far more than the row's bytes.
fn json_rows(cols: &str) -> String {
    format!("json_group_array(json_array({cols}))")
}

/// The latest `limit` live contacts of each block key, in one row: a JSON array of each key's
/// ids. Each key reads only the end of its range of `contacts_block` (a window over every key's
/// contacts sorted them all first: three times the time once keys held dozens of namesakes).
fn block_candidates_query(keys: &[String], limit: i64) -> QueryBuilder<'static, DB> {
    let mut qb: QueryBuilder<DB> = QueryBuilder::new(
        "SELECT json_group_array(json((SELECT json_group_array(id) FROM \
         (SELECT id FROM contacts WHERE name_key = j.value AND merged_into IS NULL \
         ORDER BY id DESC LIMIT ",
    );
    qb.push_bind(limit);
    qb.push(")))) FROM json_each(");
    qb.push_bind(serde_json::to_string(keys).unwrap_or_else(|_| "[]".into()));
    qb.push(") j");
    qb
}

/// A contact's block key holds a digit.
const HAS_DIGIT_KEY_SQL: &str = "c.name_key GLOB '*[0-9]*'";

/// BEGIN IMMEDIATE already holds the only write lock.
const LOCK_INTAKE_SQL: Option<&str> = None;

/// Moves the oldest `$1` entries of the rescoring log into the queue, each lead once (run in
/// order, inside the claim's transaction; the write lock keeps the log's first id the same for
/// both).
const FOLD_RESCORE_SQL: &[&str] = &[
    "INSERT INTO rescore_queue (lead_id, queued_at) SELECT lead_id, MIN(queued_at) \
     FROM rescore_log WHERE id < (SELECT MIN(id) FROM rescore_log) + $1 GROUP BY lead_id \
     ON CONFLICT (lead_id) DO NOTHING",
    "DELETE FROM rescore_log WHERE id < (SELECT MIN(id) FROM rescore_log) + $1",
];

/// Takes the next queued leads after a lead id off the rescoring queue (inside the caller's
/// transaction, so they go back if the rescoring fails).
const CLAIM_RESCORE_SQL: &str = "DELETE FROM rescore_queue WHERE lead_id IN \
     (SELECT lead_id FROM rescore_queue WHERE lead_id > $1 ORDER BY lead_id LIMIT $2) RETURNING lead_id";

const CLAIM_JOBS_SQL: &str =
    "UPDATE jobs SET locked_until = $1, locked_by = $2, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $3 \
     AND (locked_until IS NULL OR locked_until < $3) ORDER BY run_at, id LIMIT $4) \
     RETURNING id, kind, payload, run_at, attempts";

/// The writer holds the database lock (BEGIN IMMEDIATE), so the next ids are simply above the highest.
async fn reserve_ids_sql(tx: &mut OpenTx, table: &str, n: usize) -> crate::Result<Vec<i64>> {
    let top: i64 = sqlx::query_scalar(&format!(
        "SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{table}'), 0), \
         COALESCE((SELECT MAX(id) FROM {table}), 0))"
    ))
    .fetch_one(&mut **tx)
    .await?;
    Ok((1..=n as i64).map(|i| top + i).collect())
}

/// BEGIN IMMEDIATE takes the write lock up front, so a read-then-write transaction never fails
/// to upgrade its lock under concurrency.
const BEGIN_WRITE_SQL: &str = "BEGIN IMMEDIATE";

/// The next ids of several tables in one statement (the same rule as `reserve_ids_sql`).
async fn reserve_many_ids_sql(
    tx: &mut OpenTx,
    wants: &[(&str, usize)],
) -> crate::Result<Vec<Vec<i64>>> {
    let asked: Vec<&str> = wants
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(t, _)| *t)
        .collect();
    let mut tops: Vec<i64> = Vec::new();
    if !asked.is_empty() {
        let cols: Vec<String> = asked
            .iter()
            .map(|t| {
                format!(
                    "MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = '{t}'), 0), \
                     COALESCE((SELECT MAX(id) FROM {t}), 0))"
                )
            })
            .collect();
        let row = sqlx::query(&format!("SELECT {}", cols.join(", ")))
            .fetch_one(&mut **tx)
            .await?;
        for i in 0..asked.len() {
            tops.push(sqlx::Row::try_get(&row, i)?);
        }
    }
    let mut tops = tops.into_iter();
    Ok(wants
        .iter()
        .map(|(_, n)| match n {
            0 => Vec::new(),
            n => {
                let top = tops.next().unwrap_or(0);
                (1..=*n as i64).map(|i| top + i).collect()
            }
        })
        .collect())
}

/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold (1,000 pages
/// by default): that writer copies the whole log into the database file and syncs it while
/// holding the write lock, and every writer queued behind it waits. Here a connection of its own
/// does it in the background, and the writers' own checkpoint is only a net for a log this long
/// (1 GiB of 4 KiB pages, as PostgreSQL's `max_wal_size`).
///
/// While writers commit back to back the background checkpoints never see the log's end, so the
/// log restarts only through a writer's own checkpoint: it copies what the last background pass
/// left and syncs the database file, with the write lock held (150–250 ms at 1,000,000 leads
/// under event uploads). At 16,384 pages that came every dozen batches of 1,000 events and took
/// half the time of an upload; at this threshold it comes a few times per million events.
const WAL_AUTOCHECKPOINT_PAGES: u64 = 262_144;

/// The search indexer's connection checkpoints the index's own log past this many pages (64 MiB).
const SEARCH_AUTOCHECKPOINT_PAGES: u64 = 16_384;

/// The log file's size past which a restart of the log cuts it back: above the threshold, so
/// that a restart only reuses the file (truncating 1 GiB took 214 ms, with the write lock held).
/// The file thus keeps the size it reached (at most this limit) and is written from its start again.
const WAL_SIZE_LIMIT: u64 = WAL_AUTOCHECKPOINT_PAGES * 4096 + 64 * 1024 * 1024;

/// Prepared statements the intake's connection keeps. A batch's multi-row statements have one
/// text per table and row count, so a busy intake cycles through some hundreds of texts; with
/// sqlx's default of 100 most batches prepared their statements again.
const INTAKE_STATEMENTS: usize = 4096;

/// Pages the background checkpointer copies into the database file before it syncs the file
/// itself (16 MiB of 4 KiB pages).
const SYNC_AFTER_FRAMES: i64 = 4096;

/// How long the background checkpointer lets commits gather before it copies them: a page that
/// several commits change in that time is written to the database file once.
const CHECKPOINT_GATHER: Duration = Duration::from_millis(100);

/// Starts the background checkpointer of a database file: after commits it copies the committed
/// log into the database file (a passive checkpoint: it never waits for readers or writers), and
/// syncs the database file once its passes have copied [`SYNC_AFTER_FRAMES`] pages since. SQLite
/// syncs it only after a checkpoint that reached the log's end, which under steady writes is the
/// writer's own at the threshold: the pages of every pass before it waited in the OS's cache, and
/// that writer's sync wrote them all with the write lock held. It ends when the last sender (the
/// store's) is dropped.
async fn spawn_checkpointer(
    opts: SqliteConnectOptions,
) -> crate::Result<tokio::sync::mpsc::Sender<()>> {
    use sqlx::Connection;
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
    // Opened by the connection above, so it exists. fsync flushes the file whichever
    // descriptor asks.
    let file = std::fs::File::open(opts.get_filename())
        .map_err(|e| StoreError::Io(format!("opening the database file: {e}")))?;
    let file = std::sync::Arc::new(file);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    tokio::spawn(async move {
        // The log's frames in the database file after the last pass, and how many frames the
        // passes have copied since the file was last synced.
        let (mut backfilled, mut unsynced) = (0, 0);
        while rx.recv().await.is_some() {
            tokio::time::sleep(CHECKPOINT_GATHER).await;
            // Commits made meanwhile are in this checkpoint too.
            let _ = rx.try_recv();
            // (busy, frames in the log, frames of it in the database file).
            match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&mut conn)
                .await
            {
                Ok((_, _, frames)) => {
                    // Fewer than before: the log restarted since.
                    unsynced += if frames >= backfilled {
                        frames - backfilled
                    } else {
                        frames
                    };
                    backfilled = frames;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "background checkpoint of the write-ahead log");
                }
            }
            // Under light load a pass reaches the log's end and SQLite syncs the file itself;
            // a sync of ours then only competes with the commits' syncs of the log.
            if unsynced >= SYNC_AFTER_FRAMES {
                unsynced = 0;
                let file = file.clone();
                let synced = tokio::task::spawn_blocking(move || file.sync_data()).await;
                if let Ok(Err(e)) = synced {
                    tracing::warn!(error = %e, "syncing the database file after a checkpoint");
                }
            }
        }
        let _ = conn.close().await;
    });
    Ok(tx)
}

/// The search index's database file beside the database file `db` (`FILE-search`).
fn search_file(db: &std::path::Path) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-search");
    std::path::PathBuf::from(name)
}

/// A file path as an SQLite URI opening it read-only: the characters a URI gives a meaning to
/// (and any other outside the unreserved ones) are percent-encoded.
fn read_only_uri(path: &std::path::Path) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
    const KEEP: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'/')
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    format!(
        "file:{}?mode=ro",
        utf8_percent_encode(&path.to_string_lossy(), KEEP)
    )
}

/// The search index's schema, in the database attached as `search`. The table keeps no copy of
/// the text (`content=''`) and deletes by id (`contentless_delete`).
const SEARCH_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS search.search_state (\
        id INTEGER PRIMARY KEY CHECK (id = 1), \
        source TEXT NOT NULL, \
        indexed_upto INTEGER NOT NULL, \
        changes_upto INTEGER NOT NULL)",
    "INSERT OR IGNORE INTO search.search_state (id, source, indexed_upto, changes_upto) \
     VALUES (1, '', 0, 0)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS search.leads_search USING fts5(search_text, \
     content='', contentless_delete=1, tokenize='trigram')",
];

/// Attaches the search index's database to a connection as `search`, writable (`None`: a new
/// database in memory, beside an in-memory one), and makes its schema.
/// A pool of one connection kept open for the process's life (opened at once when `min` is 1).
/// Not tested before each use: a file connection has nothing to lose between uses, and the
/// ping would be a round trip to its thread.
fn one_connection(min: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(min)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
}

/// Attaches the search index to a connection of the pool: read-only from `read_only` (a write
/// transaction there, whose `BEGIN IMMEDIATE` locks every attached database it may write, leaves
/// the index's lock alone), else writable in memory.
async fn attach_search(
    conn: &mut sqlx::SqliteConnection,
    read_only: Option<String>,
    page_cache_mib: u32,
) -> sqlx::Result<()> {
    match read_only {
        Some(uri) => {
            sqlx::query("ATTACH DATABASE $1 AS search")
                .bind(uri)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }
        None => attach_search_writable(conn, None, page_cache_mib).await,
    }
}

async fn attach_search_writable(
    conn: &mut sqlx::SqliteConnection,
    file: Option<&std::path::Path>,
    page_cache_mib: u32,
) -> sqlx::Result<()> {
    use sqlx::Executor;
    match file {
        Some(f) => {
            sqlx::query("ATTACH DATABASE $1 AS search")
                .bind(f.to_string_lossy().into_owned())
                .execute(&mut *conn)
                .await?;
            conn.execute("PRAGMA search.journal_mode = WAL").await?;
        }
        None => {
            conn.execute("ATTACH DATABASE ':memory:' AS search").await?;
        }
    }
    // Derived data, built again from the leads if lost: a commit need not sync the log.
    conn.execute("PRAGMA search.synchronous = NORMAL").await?;
    let cache = format!(
        "PRAGMA search.cache_size = -{}",
        u64::from(page_cache_mib) * 1024
    );
    conn.execute(cache.as_str()).await?;
    conn.execute("PRAGMA search.journal_size_limit = 67108864")
        .await?;
    // This connection writes the index's file alone, and nothing else checkpoints its log
    // between the job runner's checkpoints: its commits do, past 64 MiB (the threshold of
    // `WAL_AUTOCHECKPOINT_PAGES` is for the writers of the database's own log).
    let own = format!("PRAGMA wal_autocheckpoint = {SEARCH_AUTOCHECKPOINT_PAGES}");
    conn.execute(own.as_str()).await?;
    for sql in SEARCH_SCHEMA {
        conn.execute(*sql).await?;
    }
    Ok(())
}

impl SqlStore {
    pub async fn connect(url: &str, memory: crate::MemoryBudget) -> crate::Result<Self> {
        let cache_mib = memory.page_cache_mib;
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: an acknowledged capture survives power loss; group commit pays for the fsync.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30))
            .foreign_keys(true)
            // A multi-row statement inside a transaction keeps a journal of the pages it changes,
            // to undo just itself on a failure; past 64 KiB SQLite writes that journal to a temporary
            // file, a write call per page in every bulk insert of the intake. Kept in memory.
            .pragma("temp_store", "MEMORY")
            .pragma(
                "cache_size",
                format!("-{}", u64::from(memory.page_cache_mib) * 1024),
            )
            // Under steady concurrent writes the automatic checkpoints never find the moment to
            // restart the write-ahead log, which grew by gigabytes; the job runner forces one
            // every minute (`checkpoint_log`).
            .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string())
            // Checkpoints run in the background (`spawn_checkpointer`); a writer checkpoints in
            // its own commit only if the log has grown this far regardless.
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
            // Reads go through a memory map of the database instead of a read call per page.
            .pragma(
                "mmap_size",
                (u64::from(memory.mmap_mib) * 1024 * 1024).to_string(),
            )
            // What a change frees inside a page it writes anyway is zeroed (no extra I/O), so
            // an old version of a name or an address does not linger in the file's free space
            // where an erasure could not reach it (the erasure zeroes freed pages too).
            .pragma("secure_delete", "FAST");
        let memory = url.contains(":memory:");
        let search = (!memory).then(|| search_file(opts.get_filename()));
        let indexer = if let Some(search) = &search {
            // Switching a new file to WAL takes an exclusive lock that the busy timeout does not
            // wait for: one connection does it before the pool opens several at once, and makes
            // the search index's file, which the other connections open read-only.
            use sqlx::Connection;
            let mut first = sqlx::SqliteConnection::connect_with(&opts).await?;
            attach_search_writable(&mut first, Some(search), cache_mib).await?;
            first.close().await?;
            let search = search.clone();
            let pool = one_connection(1)
                .after_connect(move |conn, _| {
                    let search = search.clone();
                    Box::pin(
                        async move { attach_search_writable(conn, Some(&search), cache_mib).await },
                    )
                })
                .connect_with(opts.clone())
                .await?;
            Some(pool)
        } else {
            None
        };
        let deferred = if memory {
            None
        } else {
            // NORMAL: a commit writes the log without syncing it; the intake syncs it itself
            // (`sync_log`) before it acknowledges, outside the write lock.
            let wal = {
                let mut name = opts.get_filename().as_os_str().to_owned();
                name.push("-wal");
                std::path::PathBuf::from(name)
            };
            use sqlx::Connection;
            let conn = sqlx::SqliteConnection::connect_with(
                &opts
                    .clone()
                    .synchronous(SqliteSynchronous::Normal)
                    .statement_cache_capacity(INTAKE_STATEMENTS),
            )
            .await?;
            Some((std::sync::Arc::new(tokio::sync::Mutex::new(conn)), wal))
        };
        let read_only = search.as_deref().map(read_only_uri);
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 8 })
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            // A file connection has nothing to lose between uses; the ping that would test it
            // is a round trip to its thread before every request's first statement.
            .test_before_acquire(false)
            .after_connect({
                let read_only = read_only.clone();
                move |conn, _| Box::pin(attach_search(conn, read_only.clone(), cache_mib))
            })
            .connect_with(opts.clone())
            .await?;
        // The write transactions (one at a time in this process, see `writer`) on one
        // connection of their own: its cache stays current between them, where a connection of
        // the pool, taken in turn, finds its cache outdated by the writes of the others and
        // drops it.
        let writes = if memory {
            None
        } else {
            use sqlx::Connection;
            let mut conn = sqlx::SqliteConnection::connect_with(&opts).await?;
            attach_search(&mut conn, read_only.clone(), cache_mib).await?;
            Some(std::sync::Arc::new(tokio::sync::Mutex::new(conn)))
        };
        // In memory the one connection attaches the index writable and indexes too.
        let indexer = indexer.or_else(|| memory.then(|| pool.clone()));
        // Opened when the intake first reads ahead (a burst, an import).
        let ahead = (!memory).then(|| one_connection(0).connect_lazy_with(opts.clone()));
        let checkpoints = if memory {
            None
        } else {
            Some(spawn_checkpointer(opts).await?)
        };
        Ok(SqlStore {
            pool,
            writer: Some(Default::default()),
            writes,
            deferred,
            search: Default::default(),
            checkpoints,
            indexer,
            intake_commits: Default::default(),
            ahead,
        })
    }

    async fn begin_tx(&self) -> crate::Result<SqlTx> {
        Ok(SqlTx {
            tx: self.open_write(Some(BEGIN_WRITE_SQL)).await?,
            settings: Default::default(),
            committed: self.checkpoints.clone(),
            intake_commits: None,
        })
    }
}

include!("../common.rs");
include!("../routing_sql.rs");
include!("../scoring_sql.rs");
include!("../channels_sql.rs");
include!("../signin_sql.rs");
include!("../tags_sql.rs");

#[cfg(test)]
mod tests {
    use super::*;

    /// A store on a new database file in `dir`, and the file's path.
    async fn file_store(dir: &std::path::Path, name: &str) -> (SqlStore, std::path::PathBuf) {
        let path = dir.join(name);
        let store = SqlStore::connect(&format!("sqlite://{}", path.display()), Default::default())
            .await
            .unwrap();
        (store, path)
    }

    /// Writers restart the log only past the threshold of their own checkpoint, and a restart
    /// then reuses the log's file rather than cutting it back with the write lock held.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restart_of_the_log_reuses_its_file() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = file_store(dir.path(), "r.db").await;
        let mut read = Vec::new();
        for name in ["wal_autocheckpoint", "page_size", "journal_size_limit"] {
            let sql = format!("PRAGMA main.{name}");
            read.push(
                sqlx::query_scalar::<_, i64>(&sql)
                    .fetch_one(&store.pool)
                    .await
                    .unwrap(),
            );
        }
        let [threshold, page, limit] = read[..] else {
            unreachable!()
        };
        // The search index's writer keeps its own log short.
        let indexer = store.indexer.as_ref().unwrap();
        let own: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(indexer)
            .await
            .unwrap();
        assert_eq!(own, 16_384);
        assert_eq!(own as u64, SEARCH_AUTOCHECKPOINT_PAGES);
        assert_eq!(threshold, 262_144);
        assert!(
            limit > threshold * page,
            "a log of {threshold} pages of {page} bytes is cut back to {limit} bytes"
        );
    }

    /// A new database file opened by a pool of several connections at once ends in WAL mode with
    /// no connection failing on the journal-mode switch.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn new_files_open_in_wal_under_concurrent_connections() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..20 {
            let url = format!("sqlite://{}/n{i}.db", dir.path().display());
            let store = SqlStore::connect(&url, Default::default()).await.unwrap();
            let mut tasks = Vec::new();
            for _ in 0..8 {
                let pool = store.pool.clone();
                tasks.push(tokio::spawn(async move {
                    let mut conn = pool.acquire().await?;
                    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
                        .fetch_one(&mut *conn)
                        .await?;
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    Ok::<_, sqlx::Error>(mode)
                }));
            }
            for t in tasks {
                assert_eq!(t.await.unwrap().unwrap(), "wal");
            }
        }
    }

    /// Statistics gathered by `optimize` reach connections that were already open and had
    /// planned with the older ones.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn new_statistics_reach_connections_already_open() {
        use crate::Store;
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = file_store(dir.path(), "s.db").await;
        let mut early = store.pool.acquire().await.unwrap();
        for sql in [
            "CREATE TABLE t (x INTEGER, y INTEGER)",
            "CREATE INDEX t_y ON t(y)",
            "CREATE INDEX t_x ON t(x)",
        ] {
            sqlx::query(sql).execute(&mut *early).await.unwrap();
        }
        store.optimize().await.unwrap();
        let plan = |rows: Vec<sqlx::sqlite::SqliteRow>| {
            rows.iter()
                .map(|r| r.get::<String, _>("detail"))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let explain = "EXPLAIN QUERY PLAN SELECT * FROM t WHERE x = 1 AND y = 5";
        // Planned on an empty table: either index will do.
        let before = plan(sqlx::query(explain).fetch_all(&mut *early).await.unwrap());
        assert!(before.contains("USING INDEX"), "{before}");
        // Every row has x = 1: only the index on y narrows anything.
        sqlx::query(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) \
             INSERT INTO t SELECT 1, i FROM n",
        )
        .execute(&mut *early)
        .await
        .unwrap();
        store.optimize().await.unwrap();
        sqlx::query("SELECT COUNT(*) FROM t")
            .fetch_one(&mut *early)
            .await
            .unwrap();
        // A new text, so that the connection prepares it again rather than reuse its cached plan.
        let explain = format!("{explain} AND 1");
        let after = plan(sqlx::query(&explain).fetch_all(&mut *early).await.unwrap());
        assert!(after.contains("INDEX t_y"), "{after}");
    }

    /// Committed writes reach the database file soon after their commit, without a writer
    /// checkpointing (SQLite's own checkpoint waits for 1,000 pages of log, here far more).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn commits_are_checkpointed_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let (store, path) = file_store(dir.path(), "b.db").await;
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&store.pool)
            .await
            .unwrap();
        let file_len = || std::fs::metadata(&path).unwrap().len();
        let before = file_len();
        // About 500 pages: over a megabyte, well under both thresholds.
        let mut tx = store.begin_tx().await.unwrap();
        for _ in 0..500 {
            sqlx::query("INSERT INTO t VALUES (randomblob(4000))")
                .execute(&mut *tx.tx)
                .await
                .unwrap();
        }
        tx.finish().await.unwrap();
        let wal = std::fs::metadata(dir.path().join("b.db-wal"))
            .unwrap()
            .len();
        assert!(
            wal > 2_000_000,
            "the rows are in the log first ({wal} bytes)"
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while file_len() < before + 2_000_000 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            file_len() >= before + 2_000_000,
            "the database file is still {} bytes",
            file_len()
        );
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM t")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(n, 500);
    }

    /// Reads by a contact, a form or an account go through an index, not the whole table: a
    /// contact's social profiles (the lead's page, the intake's candidates), the forms page's
    /// counts of leads and interests, an account's contacts.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_by_contact_form_and_account_go_through_indexes() {
        use crate::Store;
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = file_store(dir.path(), "s.db").await;
        store.migrate().await.unwrap();
        for (sql, index) in [
            (
                "SELECT url FROM contact_socials WHERE contact_id = 7",
                "contact_socials_contact",
            ),
            (
                "SELECT contact_id, match_key FROM contact_socials WHERE contact_id IN (1, 2, 3)",
                "contact_socials_contact",
            ),
            (
                "SELECT f.id, (SELECT COUNT(*) FROM leads l WHERE l.form_id = f.id) FROM forms f",
                "leads_form",
            ),
            (
                "SELECT f.id, (SELECT COUNT(*) FROM interests i WHERE i.form_id = f.id \
                 AND NOT i.rejected) FROM forms f",
                "interests_form",
            ),
            (
                "SELECT c.id FROM contacts c WHERE c.account_id = 3 ORDER BY c.id",
                "contacts_account",
            ),
            // The channel report's look into each lead's history for MQL and for SQL.
            (
                &format!(
                    "SELECT {} FROM leads l",
                    super::reached(super::REACHED_STAGES)
                ),
                "stage_changes_reached",
            ),
            (
                &format!(
                    "SELECT {} FROM leads l",
                    super::reached("'sql', 'converted'")
                ),
                "stage_changes_reached",
            ),
        ] {
            let plan: Vec<(i64, i64, i64, String)> =
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .fetch_all(&store.pool)
                    .await
                    .unwrap();
            let plan: Vec<&str> = plan.iter().map(|r| r.3.as_str()).collect();
            assert!(
                plan.iter().any(|s| s.contains(&format!("INDEX {index}"))),
                "{sql}: {plan:?}"
            );
        }
    }

    /// After writes and reads on pooled connections, a forced checkpoint completes, and the next
    /// write restarts the log at the start of its file.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_log_is_checkpointed_and_restarted_after_reads_and_writes() {
        use crate::{ScoreStore, Store};
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = file_store(dir.path(), "c.db").await;
        store.migrate().await.unwrap();
        for i in 0..50 {
            store
                .create_tracking_site(&format!("site {i}"), &format!("k{i}"), &[], true, i)
                .await
                .unwrap();
            // A lookup that reads one row of several.
            assert!(store.tracking_site_by_key("k0").await.unwrap().is_some());
            store.tracking_sites().await.unwrap();
        }
        let wal = dir.path().join("c.db-wal");
        assert!(std::fs::metadata(&wal).unwrap().len() > 0);
        assert!(
            store.checkpoint_log().await.unwrap(),
            "a reader kept the checkpoint from finishing"
        );
        let size = std::fs::metadata(&wal).unwrap().len();
        store
            .create_tracking_site("one more", "k-last", &[], true, 50)
            .await
            .unwrap();
        assert_eq!(
            std::fs::metadata(&wal).unwrap().len(),
            size,
            "the write went to the start of the log's file"
        );
        // (busy, frames in the log, frames checkpointed): the log holds that write alone.
        let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert!(frames < 10, "{frames} frames in the log");
    }
}
