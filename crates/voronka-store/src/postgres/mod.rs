//! Production backend: PostgreSQL, shared by several `voronka serve` processes.

use sqlx::postgres::PgPoolOptions;
use std::time::Duration;

type DB = sqlx::Postgres;
const BACKEND: crate::Backend = crate::Backend::Postgres;
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// SKIP LOCKED lets several processes claim different due jobs at the same moment.
const OPTIMIZE_SQL: &[&str] = &["ANALYZE"];

/// How many leads match a term (up to a bound; pg_trgm's index serves the LIKE), and their ids
/// as a JSON array.
const SEARCH_MATCHES_SQL: &str = "SELECT COUNT(*), CAST(json_agg(id) AS TEXT) FROM \
     (SELECT id FROM leads WHERE search_text LIKE $1 LIMIT $2) x";

fn search_index_arg(term: &str) -> String {
    format!("%{term}%")
}

/// Adds a search condition read one way (see `TextPlan`).
fn push_text_filter(qb: &mut sqlx::QueryBuilder<'_, DB>, term: &str, plan: &TextPlan) {
    let pattern = format!("%{term}%");
    match plan {
        TextPlan::Ids(ids, _) => {
            qb.push(
                " AND l.id IN (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(",
            )
            .push_bind(ids.clone())
            .push(" AS json)))");
        }
        TextPlan::Index => {
            qb.push(" AND l.id IN (SELECT id FROM leads WHERE search_text LIKE ")
                .push_bind(pattern)
                .push(")");
        }
        TextPlan::Scan => {
            qb.push(" AND l.search_text LIKE ").push_bind(pattern);
        }
    }
}

/// No tallies: a tally row would be locked by every writing transaction; counts use the indexes.
const LEAD_TALLIES: bool = false;

/// The events table as the lookup of anonymous visitors reads it (SQLite names its index).
const ANONYMOUS_EVENTS: &str = "events";

/// A lead's events (`l` is the lead) as one JSON array of `[id, name, url, properties, at]`.
const LEAD_EVENTS_SQL: &str = "SELECT COALESCE(CAST(json_agg(json_build_array(e.id, e.name, e.url, e.properties, e.at)) AS TEXT), '[]') \
     FROM events e WHERE e.lead_id = l.id";

/// Rows folded into one JSON array of `[cols…]` arrays (`[]` for none), as on SQLite.
fn json_rows(cols: &str) -> String {
    format!("COALESCE(CAST(json_agg(json_build_array({cols})) AS TEXT), '[]')")
}

/// The latest `limit` live contacts of each block key, in one row: a JSON array of `[id]`
/// arrays. Each key reads only the end of its range of `contacts_block`.
fn block_candidates_query(keys: &[String], limit: i64) -> QueryBuilder<'static, DB> {
    let mut qb: QueryBuilder<DB> =
        QueryBuilder::new(format!("SELECT {} FROM unnest(", json_rows("c.id")));
    qb.push_bind(keys.to_vec());
    qb.push(
        ") AS j(value) CROSS JOIN LATERAL (SELECT id FROM contacts \
         WHERE name_key = j.value AND merged_into IS NULL ORDER BY id DESC LIMIT ",
    );
    qb.push_bind(limit);
    qb.push(") c");
    qb
}

/// A contact's block key holds a digit.
const HAS_DIGIT_KEY_SQL: &str = "c.name_key ~ '[0-9]'";

/// One intake transaction at a time across all processes sharing the database; released at commit.
const LOCK_INTAKE_SQL: Option<&str> = Some("SELECT pg_advisory_xact_lock(7245315402)");

/// Moves the oldest `$1` entries of the rescoring log into the queue, each lead once, inside the
/// claim's transaction. Only the entries this statement deleted are moved: an upload that commits
/// a lower id meanwhile (sequences do not follow commit order) keeps its entry for the next
/// claim; entries another process is moving are skipped.
const FOLD_RESCORE_SQL: &[&str] = &["WITH moved AS (DELETE FROM rescore_log WHERE id IN \
     (SELECT id FROM rescore_log ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) \
     RETURNING lead_id, queued_at) \
     INSERT INTO rescore_queue (lead_id, queued_at) SELECT lead_id, MIN(queued_at) FROM moved \
     GROUP BY lead_id ON CONFLICT (lead_id) DO NOTHING"];

/// Takes the next queued leads after a lead id off the rescoring queue (inside the caller's
/// transaction, so they go back if the rescoring fails); leads another process is claiming are
/// skipped.
const CLAIM_RESCORE_SQL: &str = "DELETE FROM rescore_queue WHERE lead_id IN \
     (SELECT lead_id FROM rescore_queue WHERE lead_id > $1 ORDER BY lead_id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING lead_id";

const CLAIM_JOBS_SQL: &str = "UPDATE jobs SET locked_until = $1, locked_by = $2, attempts = attempts + 1 \
     WHERE id IN (SELECT id FROM jobs WHERE done_at IS NULL AND run_at <= $3 \
     AND (locked_until IS NULL OR locked_until < $3) ORDER BY run_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, payload, run_at, attempts";

/// Sequences hand out ids safely to concurrent writers.
async fn reserve_ids_sql(tx: &mut OpenTx, table: &str, n: usize) -> crate::Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)",
    )
    .bind(table)
    .bind(n as i64)
    .fetch_all(&mut **tx)
    .await?)
}

/// Commits are durable, so the intake's transactions begin as any other.
const BEGIN_WRITE_SQL: &str = "BEGIN";

/// Each table's sequence in turn.
async fn reserve_many_ids_sql(
    tx: &mut OpenTx,
    wants: &[(&str, usize)],
) -> crate::Result<Vec<Vec<i64>>> {
    let mut out = Vec::with_capacity(wants.len());
    for (table, n) in wants {
        out.push(if *n == 0 {
            Vec::new()
        } else {
            reserve_ids_sql(tx, table, *n).await?
        });
    }
    Ok(out)
}

impl SqlStore {
    pub async fn connect(url: &str) -> crate::Result<Self> {
        // No JIT: it compiles any statement the planner prices high — a rescoring slice, a count
        // over a broad filter — and on statements that run in milliseconds compiling them took
        // over 100 ms.
        let opts: sqlx::postgres::PgConnectOptions = url.parse()?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(opts.options([("jit", "off")]))
            .await?;
        Ok(SqlStore {
            pool,
            writer: None,
            writes: None,
            deferred: None,
            search: Default::default(),
            checkpoints: None,
            indexer: None,
            intake_commits: Default::default(),
            ahead: None,
        })
    }

    async fn begin_tx(&self) -> crate::Result<SqlTx> {
        Ok(SqlTx {
            tx: self.open_write(None).await?,
            settings: Default::default(),
            committed: None,
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

    /// Routing's count of a person's open leads is answered from the partial index of open leads
    /// only while the index's predicate names the same stages as the count.
    #[test]
    fn the_open_leads_index_names_the_open_stages() {
        let sql = include_str!("../../migrations/postgres/0020_leads_owner_open.sql");
        assert!(sql.contains(&format!("stage IN {OPEN_STAGES}")), "{sql}");
    }

    /// Every connection of the pool runs with JIT compilation off, whatever the server's default.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_run_without_jit() {
        let url = std::env::var("VORONKA_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let store = SqlStore::connect(&url).await.unwrap();
        let mut conns = Vec::new();
        for _ in 0..3 {
            conns.push(store.pool.acquire().await.unwrap());
        }
        for conn in &mut conns {
            let jit: String = sqlx::query_scalar("SHOW jit")
                .fetch_one(&mut **conn)
                .await
                .unwrap();
            assert_eq!(jit, "off");
        }
    }
}
