// Scoring SQL shared by both backends; included after `common.rs` into `sqlite` and `postgres`.

use crate::scoring::*;
use std::collections::{HashMap, HashSet};
use voronka_core::scoring::{Activity as ActivityLevel, FitLevel, Matrix, Profile};

fn json_map(s: &str) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_str(s).unwrap_or_default()
}

fn event_from(r: &DbRow) -> Result<EventRow> {
    let props: String = r.try_get("properties")?;
    Ok(EventRow {
        id: r.try_get("id")?,
        visitor_id: r.try_get("visitor_id")?,
        lead_id: r.try_get("lead_id")?,
        source: r.try_get("source")?,
        name: r.try_get("name")?,
        url: r.try_get("url")?,
        properties: json_map(&props),
        at: r.try_get("at")?,
    })
}

fn site_from(r: &DbRow) -> Result<TrackingSite> {
    let origins: String = r.try_get("origins")?;
    Ok(TrackingSite {
        id: r.try_get("id")?,
        key: r.try_get("key")?,
        name: r.try_get("name")?,
        origins: serde_json::from_str(&origins).unwrap_or_default(),
        honour_dnt: r.try_get("honour_dnt")?,
        created_at: r.try_get("created_at")?,
    })
}

fn stored_score_from(r: &DbRow) -> Result<StoredScore> {
    let fit_level: String = r.try_get("fit_level")?;
    let activity: String = r.try_get("activity")?;
    Ok(StoredScore {
        fit: r.try_get("fit")?,
        engagement: r.try_get("engagement")?,
        total: r.try_get("score")?,
        fit_level: FitLevel::parse(&fit_level).ok_or_else(|| corrupt("fit level", &fit_level))?,
        activity: ActivityLevel::parse(&activity).ok_or_else(|| corrupt("activity", &activity))?,
        temperature_manual: r.try_get("temperature_manual")?,
        scored_at: r.try_get("scored_at")?,
    })
}

const SCORE_COLS: &str =
    "fit, engagement, score, fit_level, activity, temperature_manual, scored_at";

const SITE_COLS: &str = "id, key, name, origins, honour_dnt, created_at";

const EVENT_COLS: &str = "id, visitor_id, lead_id, source, name, url, properties, at";

fn push_ids(qb: &mut QueryBuilder<'_, DB>, ids: &[Id]) {
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
}

fn push_texts<'a>(qb: &mut QueryBuilder<'a, DB>, items: &'a [&'a str]) {
    let mut sep = qb.separated(", ");
    for s in items {
        sep.push_bind(*s);
    }
}

/// The (source, id) pairs among these events that are stored already.
async fn stored_event_keys(
    tx: &mut OpenTx,
    events: &[NewEvent],
) -> Result<HashSet<(String, String)>> {
    let mut by_source: HashMap<&str, Vec<&str>> = HashMap::new();
    for e in events {
        if let Some(k) = e.key.as_deref() {
            by_source.entry(e.source.as_str()).or_default().push(k);
        }
    }
    let mut stored = HashSet::new();
    for (source, keys) in by_source {
        for chunk in keys.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
                "SELECT {} FROM events WHERE source = ",
                json_rows("event_key")
            ));
            qb.push_bind(source).push(" AND event_key IN (");
            push_texts(&mut qb, chunk);
            qb.push(")");
            let found: Vec<(String,)> = json_answer(tx, qb, "event ids").await?;
            stored.extend(found.into_iter().map(|(k,)| (source.to_string(), k)));
        }
    }
    Ok(stored)
}

/// One lead's events as `LEAD_EVENTS_SQL` aggregates them: `[[id, name, url, properties, at], …]`.
type EventTuple = (Id, String, Option<String>, String, Millis);

/// Scoring inputs of these leads, read on one connection (a transaction's or the pool's).
/// One event of a visitor, stored with the lead of the visitor's latest touch (none if the
/// visitor has not identified, or only on leads merged into others); answers the event's id and
/// that lead.
const VISITOR_EVENT_SQL: &str = "INSERT INTO events \
     (visitor_id, lead_id, source, name, url, properties, at, received_at) \
     SELECT $1, (SELECT t.lead_id FROM touches t WHERE t.visitor_id = $1 AND NOT EXISTS \
     (SELECT 1 FROM leads l WHERE l.id = t.lead_id AND l.merged_into IS NOT NULL) \
     ORDER BY t.id DESC LIMIT 1), $2, $3, $4, $5, $6, $7 \
     RETURNING id, lead_id";

async fn read_scoring_inputs(
    conn: &mut <DB as sqlx::Database>::Connection,
    lead_ids: &[Id],
) -> Result<Vec<ScoringInput>> {
    let mut out = Vec::with_capacity(lead_ids.len());
    for chunk in lead_ids.chunks(CHUNK) {
        // One row per lead with its events folded into a JSON array: a rescoring reads far
        // more events than leads, and a row costs far more to hand over than its bytes.
        // Merged leads are skipped here rather than in SQL: with the filter in the query
        // SQLite may prefer a partial index over the key lookups.
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
            "SELECT l.id, l.merged_into, l.stage, l.kind, l.temperature, l.profile, l.conversion_ppm, \
             {SCORE_COLS}, ({LEAD_EVENTS_SQL}) AS events FROM leads l WHERE l.id IN ("
        ));
        push_ids(&mut qb, chunk);
        qb.push(") ORDER BY l.id");
        let mut at: HashMap<Id, usize> = HashMap::new();
        let mut empty_profiles = Vec::new();
        // Streamed: each lead is decoded and its events parsed while the database reads the next.
        let mut rows = qb.build().fetch(&mut *conn);
        while let Some(r) = futures::TryStreamExt::try_next(&mut rows).await? {
            let id: Id = r.try_get("id")?;
            if r.try_get::<Option<Id>, _>("merged_into")?.is_some() {
                continue;
            }
            let stage: String = r.try_get("stage")?;
            let temp: String = r.try_get("temperature")?;
            let kind: String = r.try_get("kind")?;
            let profile: String = r.try_get("profile")?;
            let profile: Profile = serde_json::from_str(&profile).unwrap_or_default();
            if profile.is_empty() {
                empty_profiles.push(id);
            }
            let events: String = r.try_get("events")?;
            let tuples: Vec<EventTuple> = serde_json::from_str(&events)
                .map_err(|e| corrupt("events of a lead", &e.to_string()))?;
            let mut events: Vec<voronka_core::scoring::Event> = tuples
                .into_iter()
                .map(|(id, name, url, props, at)| voronka_core::scoring::Event {
                    id,
                    name,
                    url,
                    // Most events carry no properties; their empty object needs no parser.
                    properties: if props == "{}" {
                        serde_json::Map::new()
                    } else {
                        json_map(&props)
                    },
                    at,
                })
                .collect();
            events.sort_unstable_by_key(|e| (e.at, e.id));
            at.insert(id, out.len());
            out.push(ScoringInput {
                lead_id: id,
                stage: Stage::parse(&stage).map_err(|_| corrupt("stage", &stage))?,
                callback: kind == "callback",
                temperature: Temperature::parse(&temp)
                    .ok_or_else(|| corrupt("temperature", &temp))?,
                temperature_manual: r.try_get("temperature_manual")?,
                profile,
                raws: Vec::new(),
                events,
                conversion: crate::probability_from_ppm(r.try_get("conversion_ppm")?),
                stored: stored_score_from(&r)?,
            });
        }
        drop(rows);
        if !empty_profiles.is_empty() {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("SELECT lead_id, raw FROM touches WHERE lead_id IN (");
            push_ids(&mut qb, &empty_profiles);
            qb.push(") ORDER BY id");
            for r in qb.build().fetch_all(&mut *conn).await? {
                let lead: Id = r.try_get("lead_id")?;
                let raw: String = r.try_get("raw")?;
                if let (Some(i), Ok(v)) = (at.get(&lead), serde_json::from_str(&raw)) {
                    out[*i].raws.push(v);
                }
            }
        }
    }
    Ok(out)
}

#[async_trait]
impl ScoreStore for SqlStore {
    async fn current_scoring_rules(&self) -> Result<Option<StoredRules>> {
        let row = sqlx::query(
            "SELECT id, body, created_by, created_at FROM scoring_rules ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(StoredRules {
                id: r.try_get("id")?,
                body: r.try_get("body")?,
                created_by: r.try_get("created_by")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .transpose()
    }

    async fn save_scoring_rules(&self, body: &str, by: &str, at: Millis) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO scoring_rules (body, created_by, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(body)
        .bind(by)
        .bind(at)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn create_tracking_site(
        &self,
        name: &str,
        key: &str,
        origins: &[String],
        honour_dnt: bool,
        at: Millis,
    ) -> Result<TrackingSite> {
        let row = sqlx::query(&format!(
            "INSERT INTO tracking_sites (key, name, origins, honour_dnt, created_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING {SITE_COLS}"
        ))
        .bind(key)
        .bind(name)
        .bind(serde_json::to_string(origins).unwrap_or_else(|_| "[]".into()))
        .bind(honour_dnt)
        .bind(at)
        .fetch_one(&self.pool)
        .await
        .map_err(|e| StoreError::from_db(e, crate::Unique::TrackingSite))?;
        site_from(&row)
    }

    async fn tracking_site_by_key(&self, key: &str) -> Result<Option<TrackingSite>> {
        sqlx::query(&format!(
            "SELECT {SITE_COLS} FROM tracking_sites WHERE key = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| site_from(&r))
        .transpose()
    }

    async fn tracking_sites(&self) -> Result<Vec<TrackingSite>> {
        sqlx::query(&format!(
            "SELECT {SITE_COLS} FROM tracking_sites ORDER BY id"
        ))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(site_from)
        .collect()
    }

    async fn lead_events(&self, lead_id: Id, limit: i64) -> Result<Vec<EventRow>> {
        sqlx::query(&format!(
            "SELECT {EVENT_COLS} FROM events WHERE lead_id = $1 ORDER BY at DESC, id DESC LIMIT $2"
        ))
        .bind(lead_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(event_from)
        .collect()
    }

    async fn scoring_inputs(&self, lead_ids: &[Id]) -> Result<Vec<ScoringInput>> {
        let mut conn = self.pool.acquire().await?;
        read_scoring_inputs(&mut conn, lead_ids).await
    }

    async fn lead_score(&self, lead_id: Id) -> Result<Option<StoredScore>> {
        sqlx::query(&format!("SELECT {SCORE_COLS} FROM leads WHERE id = $1"))
            .bind(lead_id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| stored_score_from(&r))
            .transpose()
    }

    async fn score_matrix(&self, owner: Option<Id>) -> Result<Matrix> {
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(
            "SELECT fit_level, activity, COUNT(*) AS n FROM leads WHERE merged_into IS NULL \
             AND stage IN ('new', 'working', 'mql', 'sql')",
        );
        if let Some(o) = owner {
            qb.push(" AND owner_id = ").push_bind(o);
        }
        qb.push(" GROUP BY fit_level, activity");
        let mut m = Matrix::default();
        for r in qb.build().fetch_all(&self.pool).await? {
            let f: String = r.try_get("fit_level")?;
            let a: String = r.try_get("activity")?;
            let n: i64 = r.try_get("n")?;
            m.add(
                FitLevel::parse(&f).ok_or_else(|| corrupt("fit level", &f))?,
                ActivityLevel::parse(&a).ok_or_else(|| corrupt("activity", &a))?,
                n,
            );
        }
        Ok(m)
    }

    async fn lead_ids_after(&self, after: Id, limit: i64) -> Result<(Vec<Id>, Option<Id>)> {
        // Walks the key; merged leads are skipped here, so every page is a range scan.
        let rows =
            sqlx::query("SELECT id, merged_into FROM leads WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?;
        let mut ids = Vec::with_capacity(rows.len());
        let mut last = None;
        for r in rows {
            let id: Id = r.try_get("id")?;
            last = Some(id);
            if r.try_get::<Option<Id>, _>("merged_into")?.is_none() {
                ids.push(id);
            }
        }
        Ok((ids, last))
    }

    async fn count_all_leads(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM leads WHERE merged_into IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn rescore_backlog(&self) -> Result<i64> {
        // A lead may be in the log several times and in the queue too: counted once.
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT lead_id FROM rescore_queue \
             UNION SELECT lead_id FROM rescore_log) q",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn rescore_waiting(&self) -> Result<bool> {
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM rescore_queue) OR EXISTS (SELECT 1 FROM rescore_log)",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn rescore_oldest(&self) -> Result<Option<Millis>> {
        // The log's first entry is its oldest (read by id, not by a scan of the log, which
        // holds an entry per lead per upload while the worker is behind).
        Ok(sqlx::query_scalar(
            "SELECT MIN(at) FROM (SELECT MIN(queued_at) AS at FROM rescore_queue \
             UNION ALL SELECT (SELECT queued_at FROM rescore_log ORDER BY id LIMIT 1)) q",
        )
        .fetch_one(&self.pool)
        .await?)
    }

    async fn start_score_run(&self, reason: &str, total: i64, at: Millis) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO score_runs (reason, total, started_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(reason)
        .bind(total)
        .bind(at)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn progress_score_run(
        &self,
        id: Id,
        done: i64,
        changed: i64,
        finished_at: Option<Millis>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE score_runs SET done = $1, changed = $2, finished_at = $3 WHERE id = $4",
        )
        .bind(done)
        .bind(changed)
        .bind(finished_at)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn latest_score_run(&self) -> Result<Option<ScoreRun>> {
        let row = sqlx::query(
            "SELECT id, reason, total, done, changed, started_at, finished_at FROM score_runs \
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            // A run started since the codes keeps a code in `reason`; earlier ones their words.
            let stored: String = r.try_get("reason")?;
            let worded = voronka_core::notice_text(&stored, &Default::default());
            Ok(ScoreRun {
                id: r.try_get("id")?,
                reason: worded.clone().unwrap_or_else(|| stored.clone()),
                reason_code: worded.map(|_| stored),
                total: r.try_get("total")?,
                done: r.try_get("done")?,
                changed: r.try_get("changed")?,
                started_at: r.try_get("started_at")?,
                finished_at: r.try_get("finished_at")?,
            })
        })
        .transpose()
    }
}

#[async_trait]
impl ScoreTx for SqlTx {
    async fn insert_events(&mut self, events: &[NewEvent]) -> Result<Ingested> {
        let started = std::time::Instant::now();
        // Events sent again under an id their source has stored (or that came earlier in this
        // batch) are left out before anything else, so they count nowhere.
        let sent = events.len();
        // Borrowed, not copied: the rest reads them.
        let events: Vec<&NewEvent> = if events.iter().any(|e| e.key.is_some()) {
            let stored = stored_event_keys(&mut self.tx, events).await?;
            // Stored ones and the batch's own earlier ones alike: taken.
            let mut taken: HashSet<(&str, &str)> = stored
                .iter()
                .map(|(source, key)| (source.as_str(), key.as_str()))
                .collect();
            events
                .iter()
                .filter(|e| {
                    e.key
                        .as_deref()
                        .is_none_or(|k| taken.insert((e.source.as_str(), k)))
                })
                .collect()
        } else {
            events.iter().collect()
        };
        let anonymous: Vec<&str> = events
            .iter()
            .filter(|e| e.lead_id.is_none())
            .filter_map(|e| e.visitor_id.as_deref())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        // Each visitor's lead: the latest touch that carried the visitor id. Each lookup comes
        // back as one row (`json_rows`): a batch asks about hundreds of visitors.
        // Visitor → (lead, touch id).
        let mut lead_of: HashMap<String, (Id, Id)> = HashMap::new();
        let mut seen: HashSet<String> = HashSet::new();
        // One event of a visitor without an id of its own (the tracker sends each as it
        // happens): the visitor's lead is looked up by the insert itself.
        let single = match events[..] {
            [e] if e.lead_id.is_none() && e.key.is_none() => {
                e.visitor_id.as_deref().map(|v| (e, v))
            }
            _ => None,
        };
        if let Some((e, visitor)) = single {
            let (id, lead): (Id, Option<Id>) = sqlx::query_as(VISITOR_EVENT_SQL)
                .bind(visitor)
                .bind(&e.source)
                .bind(&e.name)
                .bind(&e.url)
                .bind(serde_json::Value::Object(e.properties.clone()).to_string())
                .bind(e.at)
                .bind(e.received_at)
                .fetch_one(&mut *self.tx)
                .await?;
            match lead {
                Some(lead) => {
                    lead_of.insert(visitor.to_string(), (lead, 0));
                }
                None => {
                    let before: bool = sqlx::query_scalar(&format!(
                        "SELECT EXISTS (SELECT 1 FROM {ANONYMOUS_EVENTS} \
                         WHERE lead_id IS NULL AND visitor_id = $1 AND id <> $2)"
                    ))
                    .bind(visitor)
                    .bind(id)
                    .fetch_one(&mut *self.tx)
                    .await?;
                    if before {
                        seen.insert(visitor.to_string());
                    }
                }
            }
        }
        let anonymous = if single.is_some() {
            Vec::new()
        } else {
            anonymous
        };
        for chunk in anonymous.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
                // Written so that both planners look each lead up by its key (a join let SQLite
                // scan the leads).
                "SELECT {} FROM touches t WHERE NOT EXISTS \
                 (SELECT 1 FROM leads l WHERE l.id = t.lead_id AND l.merged_into IS NOT NULL) \
                 AND t.visitor_id IN (",
                json_rows("t.visitor_id, t.lead_id, t.id")
            ));
            push_texts(&mut qb, chunk);
            qb.push(")");
            let found: Vec<(String, Id, Id)> =
                json_answer(&mut self.tx, qb, "touches of visitors").await?;
            for (visitor, lead, touch) in found {
                let latest = lead_of.entry(visitor).or_insert((lead, touch));
                if touch > latest.1 {
                    *latest = (lead, touch);
                }
            }
            // Seen before: a visitor with anonymous events already (an identified one has a
            // touch, found above).
            let unknown: Vec<&str> = chunk
                .iter()
                .copied()
                .filter(|v| !lead_of.contains_key(*v))
                .collect();
            if unknown.is_empty() {
                continue;
            }
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(format!(
                "SELECT {} FROM (SELECT DISTINCT visitor_id FROM {ANONYMOUS_EVENTS} \
                 WHERE lead_id IS NULL AND visitor_id IN (",
                json_rows("visitor_id")
            ));
            push_texts(&mut qb, &unknown);
            qb.push(")) v");
            let found: Vec<(String,)> = json_answer(&mut self.tx, qb, "visitors seen").await?;
            seen.extend(found.into_iter().map(|(v,)| v));
        }
        let looked_up = started.elapsed();
        let resolved: Vec<Option<Id>> = events
            .iter()
            .map(|e| {
                e.lead_id.or_else(|| {
                    e.visitor_id
                        .as_ref()
                        .and_then(|v| lead_of.get(v))
                        .map(|&(lead, _)| lead)
                })
            })
            .collect();
        let rows: Vec<(&NewEvent, Option<Id>)> = events
            .iter()
            .copied()
            .zip(resolved.iter().copied())
            .collect();
        let batch = if single.is_some() { &[][..] } else { &rows[..] };
        for chunk in batch.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO events (visitor_id, lead_id, source, name, url, properties, at, received_at, event_key) ",
            );
            qb.push_values(chunk, |mut b, (e, lead)| {
                b.push_bind(e.visitor_id.clone())
                    .push_bind(*lead)
                    .push_bind(e.source.clone())
                    .push_bind(e.name.clone())
                    .push_bind(e.url.clone())
                    .push_bind(serde_json::Value::Object(e.properties.clone()).to_string())
                    .push_bind(e.at)
                    .push_bind(e.received_at)
                    .push_bind(e.key.clone());
            });
            // Another process may store the same id between the lookup above and this insert
            // (PostgreSQL); the first one stays.
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(&mut *self.tx).await?;
        }
        let inserted = started.elapsed();
        // A visitor never seen and not identified is an interest: a signal without a contact.
        let mut fresh: Vec<&NewEvent> = Vec::new();
        let mut counted: HashSet<&str> = HashSet::new();
        for e in events.iter().filter(|e| e.lead_id.is_none()) {
            if let Some(v) = e.visitor_id.as_deref() {
                if !seen.contains(v) && !lead_of.contains_key(v) && counted.insert(v) {
                    fresh.push(e);
                }
            }
        }
        if !fresh.is_empty() {
            let ids = self.reserve_ids(IdTable::Interests, fresh.len()).await?;
            let rows: Vec<(Id, NewInterest)> = ids
                .into_iter()
                .zip(&fresh)
                .map(|(id, e)| {
                    (
                        id,
                        NewInterest {
                            channel: Channel::Tracking,
                            form_id: None,
                            rejected: false,
                            visitor_id: e.visitor_id.clone(),
                            attribution: Attribution {
                                landing_page: e.url.clone(),
                                ..Default::default()
                            },
                            ip: None,
                            reasons: "[]".into(),
                            raw: serde_json::json!({ "event": e.name, "source": e.source })
                                .to_string(),
                            partner: None,
                            created_at: e.received_at,
                        },
                    )
                })
                .collect();
            self.insert_interests(&rows).await?;
        }
        tracing::debug!(
            lookups_ms = looked_up.as_secs_f64() * 1000.0,
            insert_ms = (inserted - looked_up).as_secs_f64() * 1000.0,
            interests_ms = (started.elapsed() - inserted).as_secs_f64() * 1000.0,
            "events written"
        );
        let leads: Vec<Id> = resolved
            .iter()
            .flatten()
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        Ok(Ingested {
            stored: events.len(),
            leads,
            new_visitors: fresh.len(),
            queued: 0,
            duplicates: sent - events.len(),
        })
    }

    async fn stitch_visitors(&mut self, rows: &[(String, Id)]) -> Result<Vec<Id>> {
        let mut leads = Vec::new();
        for (visitor, lead) in rows {
            let n = sqlx::query(
                "UPDATE events SET lead_id = $1 WHERE visitor_id = $2 AND lead_id IS NULL",
            )
            .bind(*lead)
            .bind(visitor)
            .execute(&mut *self.tx)
            .await?
            .rows_affected();
            if n > 0 && !leads.contains(lead) {
                leads.push(*lead);
            }
        }
        Ok(leads)
    }

    async fn scoring_inputs(&mut self, lead_ids: &[Id]) -> Result<Vec<ScoringInput>> {
        read_scoring_inputs(&mut self.tx, lead_ids).await
    }

    async fn unmerged_leads(&mut self, lead_ids: &[Id]) -> Result<Vec<Id>> {
        let mut out = Vec::with_capacity(lead_ids.len());
        for chunk in lead_ids.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("SELECT id, merged_into FROM leads WHERE id IN (");
            push_ids(&mut qb, chunk);
            qb.push(")");
            for r in qb.build().fetch_all(&mut *self.tx).await? {
                if r.try_get::<Option<Id>, _>("merged_into")?.is_none() {
                    out.push(r.try_get("id")?);
                }
            }
        }
        Ok(out)
    }

    async fn update_scores(&mut self, rows: &[ScoreUpdate]) -> Result<()> {
        // One statement per chunk: `UPDATE … FROM (VALUES …)` reads the same on both engines,
        // whose VALUES columns are named column1, column2 …
        for chunk in rows.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "UPDATE leads SET fit = v.column2, engagement = v.column3, score = v.column4, \
                 fit_level = v.column5, activity = v.column6, \
                 temperature = COALESCE(v.column7, leads.temperature), scored_at = v.column8 \
                 FROM (",
            );
            qb.push_values(chunk, |mut b, u| {
                b.push_bind(u.lead_id)
                    .push_bind(u.fit)
                    .push_bind(u.engagement)
                    .push_bind(u.total)
                    .push_bind(u.fit_level.as_str())
                    .push_bind(u.activity.as_str())
                    .push_bind(u.temperature.map(|t| t.as_str()))
                    .push_bind(u.at);
            });
            qb.push(") AS v WHERE leads.id = v.column1");
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn set_profile(&mut self, lead_id: Id, profile: &Profile) -> Result<()> {
        sqlx::query("UPDATE leads SET profile = $1 WHERE id = $2")
            .bind(serde_json::to_string(profile).unwrap_or_else(|_| "{}".into()))
            .bind(lead_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn queue_rescore(&mut self, lead_ids: &[Id], at: Millis) -> Result<()> {
        // Appended to the log; the worker moves it into the queue as it claims.
        for chunk in lead_ids.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("INSERT INTO rescore_log (lead_id, queued_at) ");
            qb.push_values(chunk, |mut b, id| {
                b.push_bind(*id).push_bind(at);
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn claim_rescore(&mut self, after: Id, limit: i64) -> Result<Vec<Id>> {
        // The log's oldest entries first, a hundred slices' worth at most, so that a long log
        // (a bulk upload with the worker behind) is moved over several claims.
        for sql in FOLD_RESCORE_SQL {
            sqlx::query(sql)
                .bind(limit.saturating_mul(FOLD_SLICES))
                .execute(&mut *self.tx)
                .await?;
        }
        let mut ids: Vec<Id> = sqlx::query_scalar(CLAIM_RESCORE_SQL)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *self.tx)
            .await?;
        ids.sort_unstable();
        Ok(ids)
    }

    async fn set_temperature_manual(&mut self, lead_id: Id, manual: bool) -> Result<()> {
        sqlx::query("UPDATE leads SET temperature_manual = $1 WHERE id = $2")
            .bind(manual)
            .bind(lead_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
