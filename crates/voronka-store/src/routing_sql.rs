// Speed-to-lead SQL shared by both backends; included after `common.rs` into `sqlite` and
// `postgres`.

use crate::routing::*;
use voronka_core::routing::{Person, RoutingProfile};
use voronka_core::Notice;

/// The notice a column keeps as `{"code":…,"args":{…}}` (`None` when empty or not one).
fn notice_in(r: &DbRow, column: &str) -> Result<Option<Notice>> {
    let stored: Option<String> = r.try_get(column)?;
    Ok(stored.as_deref().and_then(Notice::from_json))
}

/// A sentence kept as a code (the row's `coded`) or, written before codes, as the text of
/// `text_column`: its text, made from the code when there is one, and the code.
fn read_coded(r: &DbRow, text_column: &str) -> Result<(String, Option<Notice>)> {
    match notice_in(r, "coded")? {
        Some(n) => Ok((n.text(), Some(n))),
        None => Ok((r.try_get(text_column)?, None)),
    }
}

/// The columns of an `SlaRow`, before the `WHERE`.
const SLA_ROW_SQL: &str =
    "SELECT l.id, l.owner_id, u.name AS owner_name, t.name AS team, l.source, l.created_at, \
     l.sla_due_at, l.sla_breached_at, l.first_response_at \
     FROM leads l LEFT JOIN users u ON u.id = l.owner_id LEFT JOIN teams t ON t.id = u.team_id";

/// The leads SLA figures count: neither merged away nor junk.
const SLA_COUNTED: &str = "l.merged_into IS NULL AND l.stage <> 'junk'";

impl SqlStore {
    /// The SLA facts of the leads `filter` keeps (a condition, then any order, on `SLA_ROW_SQL`'s
    /// `l`, with `$1`, `$2` … for `binds`).
    async fn sla_rows_where(&self, filter: &str, binds: &[i64]) -> Result<Vec<SlaRow>> {
        let sql = format!("{SLA_ROW_SQL} WHERE {filter}");
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(*b);
        }
        q.fetch_all(&self.pool)
            .await?
            .iter()
            .map(sla_row_from)
            .collect()
    }
}

fn sla_row_from(r: &DbRow) -> Result<SlaRow> {
    Ok(SlaRow {
        lead_id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        owner_name: r.try_get("owner_name")?,
        team: r.try_get("team")?,
        source: r.try_get("source")?,
        created_at: r.try_get("created_at")?,
        sla_due_at: r.try_get("sla_due_at")?,
        sla_breached_at: r.try_get("sla_breached_at")?,
        first_response_at: r.try_get("first_response_at")?,
    })
}

fn task_from(r: &DbRow) -> Result<Task> {
    let code: Option<String> = r.try_get("title_code")?;
    // A system task's title is made from its code; a person's reads as written.
    let title = match code.as_deref().and_then(voronka_core::task_title) {
        Some(text) => text.to_string(),
        None => r.try_get("title")?,
    };
    Ok(Task {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        owner_id: r.try_get("owner_id")?,
        kind: r.try_get("kind")?,
        title,
        title_code: code,
        due_at: r.try_get("due_at")?,
        remind_at: r.try_get("remind_at")?,
        done_at: r.try_get("done_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

const SURVEY_COLS: &str = "id, lead_id, created_at, answer, comment, answered_at";

fn survey_from(r: &DbRow) -> Result<Survey> {
    Ok(Survey {
        id: r.try_get("id")?,
        lead_id: r.try_get("lead_id")?,
        created_at: r.try_get("created_at")?,
        answer: r.try_get("answer")?,
        comment: r.try_get("comment")?,
        answered_at: r.try_get("answered_at")?,
    })
}

const TASK_COLS: &str =
    "id, lead_id, owner_id, kind, title, title_code, due_at, remind_at, done_at, created_by, created_at";

#[async_trait]
impl RoutingStore for SqlStore {
    async fn recycling_report(&self, since: Millis) -> Result<RecyclingReport> {
        let back = "SELECT DISTINCT lead_id FROM stage_changes WHERE from_stage = 'refused' AND to_stage = 'working' AND at >= $1";
        let q = |sql: String| {
            let pool = self.pool.clone();
            async move {
                sqlx::query_scalar::<_, i64>(&sql)
                    .bind(since)
                    .fetch_one(&pool)
                    .await
            }
        };
        Ok(RecyclingReport {
            refused: q("SELECT COUNT(DISTINCT lead_id) FROM stage_changes WHERE to_stage = 'refused' AND at >= $1".into()).await?,
            came_back: q(format!("SELECT COUNT(*) FROM ({back}) x")).await?,
            revived: q("SELECT COUNT(DISTINCT lead_id) FROM stage_changes WHERE from_stage = 'refused' AND to_stage = 'working' AND actor = 'freeze timer' AND at >= $1".into()).await?,
            reopened_by_touch: q("SELECT COUNT(DISTINCT lead_id) FROM stage_changes WHERE from_stage = 'refused' AND to_stage = 'working' AND actor = 'intake' AND at >= $1".into()).await?,
            converted: q(format!("SELECT COUNT(*) FROM leads WHERE stage = 'converted' AND id IN ({back})")).await?,
        })
    }

    async fn routing_profile(&self, user_id: Id) -> Result<Option<String>> {
        Ok(
            sqlx::query_scalar("SELECT profile FROM routing_profiles WHERE user_id = $1")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    async fn put_routing_profile(&self, user_id: Id, json: &str, at: Millis) -> Result<()> {
        sqlx::query(
            "INSERT INTO routing_profiles (user_id, profile, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET profile = excluded.profile, updated_at = excluded.updated_at",
        )
        .bind(user_id)
        .bind(json)
        .bind(at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn assignments_for(&self, lead_id: Id) -> Result<Vec<AssignmentRow>> {
        let rows = sqlx::query(
            "SELECT id, lead_id, from_owner, to_owner, rule, explanation, coded, actor, at FROM assignments \
             WHERE lead_id = $1 ORDER BY at, id",
        )
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (explanation, why) = read_coded(r, "explanation")?;
                Ok(AssignmentRow {
                    id: r.try_get("id")?,
                    lead_id: r.try_get("lead_id")?,
                    from_owner: r.try_get("from_owner")?,
                    to_owner: r.try_get("to_owner")?,
                    rule: r.try_get("rule")?,
                    explanation,
                    why,
                    actor: r.try_get("actor")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn activities_for(&self, lead_id: Id) -> Result<Vec<Activity>> {
        let rows = sqlx::query(
            "SELECT id, lead_id, user_id, kind, outcome, note, at FROM activities WHERE lead_id = $1 ORDER BY at, id",
        )
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Activity {
                    id: r.try_get("id")?,
                    lead_id: r.try_get("lead_id")?,
                    user_id: r.try_get("user_id")?,
                    kind: r.try_get("kind")?,
                    outcome: r.try_get("outcome")?,
                    note: r.try_get("note")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn tasks_for_lead(&self, lead_id: Id) -> Result<Vec<Task>> {
        let rows = sqlx::query(&format!(
            "SELECT {TASK_COLS} FROM tasks WHERE lead_id = $1 ORDER BY due_at, id"
        ))
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(task_from).collect()
    }

    async fn tasks_for_user(&self, user_id: Id, open_only: bool, limit: i64) -> Result<Vec<Task>> {
        let filter = if open_only {
            " AND done_at IS NULL"
        } else {
            ""
        };
        let rows = sqlx::query(&format!(
            "SELECT {TASK_COLS} FROM tasks WHERE owner_id = $1{filter} ORDER BY due_at, id LIMIT $2"
        ))
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(task_from).collect()
    }

    async fn task(&self, id: Id) -> Result<Option<Task>> {
        let row = sqlx::query(&format!("SELECT {TASK_COLS} FROM tasks WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(task_from).transpose()
    }

    async fn complete_task(&self, id: Id, at: Millis) -> Result<bool> {
        let done = sqlx::query("UPDATE tasks SET done_at = $1 WHERE id = $2 AND done_at IS NULL")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn notifications_for(&self, user_id: Id, limit: i64) -> Result<Vec<Notification>> {
        let rows = sqlx::query(
            "SELECT id, user_id, kind, lead_id, body, coded, created_at, read_at FROM notifications \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (body, notice) = read_coded(r, "body")?;
                Ok(Notification {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    kind: r.try_get("kind")?,
                    lead_id: r.try_get("lead_id")?,
                    body,
                    notice,
                    created_at: r.try_get("created_at")?,
                    read_at: r.try_get("read_at")?,
                })
            })
            .collect()
    }

    async fn sla_events_for(&self, lead_id: Id) -> Result<Vec<SlaEvent>> {
        let rows = sqlx::query(
            "SELECT lead_id, step, action, detail, coded, worker, at FROM sla_events WHERE lead_id = $1 ORDER BY step",
        )
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let (detail, notice) = read_coded(r, "detail")?;
                Ok(SlaEvent {
                    lead_id: r.try_get("lead_id")?,
                    step: r.try_get("step")?,
                    action: r.try_get("action")?,
                    detail,
                    notice,
                    worker: r.try_get("worker")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    async fn count_sla_events(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sla_events")
            .fetch_one(&self.pool)
            .await?)
    }

    async fn sla_rows(&self, since: Millis) -> Result<Vec<SlaRow>> {
        self.sla_rows_where(
            &format!("l.created_at >= $1 AND {SLA_COUNTED} ORDER BY l.created_at"),
            &[since],
        )
        .await
    }

    async fn sla_row(&self, lead_id: Id) -> Result<Option<SlaRow>> {
        Ok(self
            .sla_rows_where(&format!("l.id = $1 AND {SLA_COUNTED}"), &[lead_id])
            .await?
            .pop())
    }

    async fn sla_breached_rows(&self, since: Millis, breached_from: Millis) -> Result<Vec<SlaRow>> {
        // Bounded by the creation time so that both engines walk the leads of that span only.
        self.sla_rows_where(
            &format!(
                "l.created_at >= $1 AND l.sla_breached_at >= $2 AND {SLA_COUNTED} \
                 ORDER BY l.created_at"
            ),
            &[since, breached_from],
        )
        .await
    }

    async fn sla_due_rows(&self, until: Millis) -> Result<Vec<SlaRow>> {
        // The partial index `leads_sla_due` holds exactly the leads waiting for a response.
        self.sla_rows_where(
            &format!(
                "l.first_response_at IS NULL AND l.merged_into IS NULL \
                 AND l.sla_due_at <= $1 AND l.stage IN {OPEN_STAGES} ORDER BY l.sla_due_at, l.id"
            ),
            &[until],
        )
        .await
    }

    async fn lead_names(&self, ids: &[Id]) -> Result<Vec<(Id, String)>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT l.id, c.full_name FROM leads l JOIN contacts c ON c.id = l.contact_id \
             WHERE l.id IN ({}) ORDER BY l.id",
            marks.join(", ")
        );
        let mut q = sqlx::query_as::<_, (Id, String)>(&sql);
        for id in ids {
            q = q.bind(*id);
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    async fn work_queue(&self, user_id: Id, limit: i64, offset: i64) -> Result<Vec<QueueLead>> {
        let rows = sqlx::query(&format!(
            "SELECT l.id, c.full_name, l.product, l.stage, l.temperature, l.score, l.sla_due_at, \
             l.first_response_at, l.created_at, \
             (SELECT COALESCE(p.e164, p.raw) FROM contact_phones p WHERE p.contact_id = c.id LIMIT 1) AS phone, \
             (SELECT e.normalized FROM contact_emails e WHERE e.contact_id = c.id LIMIT 1) AS email \
             FROM leads l JOIN contacts c ON c.id = l.contact_id \
             WHERE l.owner_id = $1 AND l.merged_into IS NULL AND l.stage IN {OPEN_STAGES} \
             ORDER BY CASE WHEN l.first_response_at IS NULL AND l.sla_due_at IS NOT NULL THEN 0 ELSE 1 END, \
             CASE WHEN l.first_response_at IS NULL THEN l.sla_due_at ELSE NULL END, l.score DESC, l.id \
             LIMIT $2 OFFSET $3"
        ))
        .bind(user_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(QueueLead {
                    lead_id: r.try_get("id")?,
                    name: r.try_get("full_name")?,
                    phone: r.try_get("phone")?,
                    email: r.try_get("email")?,
                    product: r.try_get("product")?,
                    stage: r.try_get("stage")?,
                    temperature: r.try_get("temperature")?,
                    score: r.try_get("score")?,
                    sla_due_at: r.try_get("sla_due_at")?,
                    first_response_at: r.try_get("first_response_at")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn team_load(&self, now: Millis) -> Result<Vec<LoadRow>> {
        let rows = sqlx::query(&format!(
            "SELECT u.id, u.name, t.name AS team, \
             (SELECT COUNT(*) FROM leads l WHERE l.owner_id = u.id AND l.merged_into IS NULL AND l.stage IN {OPEN_STAGES}) AS open_leads, \
             (SELECT COUNT(*) FROM assignments a WHERE a.to_owner = u.id AND a.at >= $1) AS assigned_today, \
             (SELECT COUNT(*) FROM tasks k WHERE k.owner_id = u.id AND k.done_at IS NULL AND k.due_at < $2) AS overdue_tasks \
             FROM users u LEFT JOIN teams t ON t.id = u.team_id \
             WHERE u.active AND u.role IN ('salesperson', 'sales_manager') ORDER BY t.name, u.name, u.id"
        ))
        .bind(now - 86_400_000)
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LoadRow {
                    user_id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    team: r.try_get("team")?,
                    open_leads: r.try_get("open_leads")?,
                    assigned_today: r.try_get("assigned_today")?,
                    overdue_tasks: r.try_get("overdue_tasks")?,
                })
            })
            .collect()
    }

    async fn open_leads_of(&self, user_id: Id) -> Result<Vec<Id>> {
        Ok(sqlx::query_scalar(&format!(
            "SELECT id FROM leads WHERE owner_id = $1 AND merged_into IS NULL AND stage IN {OPEN_STAGES} ORDER BY id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn team_leads_of(&self, user_id: Id) -> Result<Vec<Id>> {
        Ok(sqlx::query_scalar(
            "SELECT m.id FROM users u JOIN users m ON m.team_id = u.team_id \
             WHERE u.id = $1 AND m.active AND m.role = 'sales_manager' AND m.id <> u.id ORDER BY m.id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn reschedule_jobs_for_bench(
        &self,
        kind: &str,
        start: Millis,
        window: Millis,
    ) -> Result<u64> {
        let done = sqlx::query(
            "UPDATE jobs SET run_at = $1 + ((id * 7919) % $2) WHERE kind = $3 AND done_at IS NULL AND run_at < $1 + $2",
        )
        .bind(start)
        .bind(window.max(1))
        .bind(kind)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    async fn job_lags_for_bench(&self, kind: &str) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT done_at - run_at FROM jobs WHERE kind = $1 AND done_at IS NOT NULL",
        )
        .bind(kind)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn ical_user(&self, token_hash: &str) -> Result<Option<Id>> {
        let v: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
            .bind(format!("ical:{token_hash}"))
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.and_then(|v| v.parse().ok()))
    }

    async fn survey_by_token(&self, token_hash: &str) -> Result<Option<Survey>> {
        let r = sqlx::query(&format!(
            "SELECT {SURVEY_COLS} FROM surveys WHERE token_hash = $1"
        ))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        r.as_ref().map(survey_from).transpose()
    }

    async fn answer_survey(
        &self,
        token_hash: &str,
        answer: &str,
        comment: Option<&str>,
        at: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE surveys SET answer = $1, comment = $2, answered_at = $3 \
             WHERE token_hash = $4 AND answered_at IS NULL",
        )
        .bind(answer)
        .bind(comment)
        .bind(at)
        .bind(token_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn surveys_for(&self, lead_id: Id) -> Result<Vec<Survey>> {
        let rows = sqlx::query(&format!(
            "SELECT {SURVEY_COLS} FROM surveys WHERE lead_id = $1 ORDER BY created_at, id"
        ))
        .bind(lead_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(survey_from).collect()
    }
}

#[async_trait]
impl RoutingTx for SqlTx {
    async fn routing_people(&mut self, now: Millis, day_for_all: bool) -> Result<Vec<Person>> {
        // Every intake batch asks this. Counting a person's open leads from `leads` reads each
        // of their leads' rows for its stage (the owner's index does not hold it): 20 people
        // with 5,000 leads each took 150 ms a batch. SQLite's tallies per stage and owner hold
        // the same number, kept in every writing transaction; PostgreSQL reads its partial index
        // of open leads alone (`leads_owner_open`), 110-140 → 5-9 ms there.
        let open = if LEAD_TALLIES {
            format!(
                "(SELECT CAST(COALESCE(SUM(lt.n), 0) AS BIGINT) FROM lead_tallies lt \
                 WHERE lt.owner_key = u.id AND lt.stage IN {OPEN_STAGES})"
            )
        } else {
            format!(
                "(SELECT COUNT(*) FROM leads l WHERE l.owner_id = u.id AND l.merged_into IS NULL \
                 AND l.stage IN {OPEN_STAGES})"
            )
        };
        // A count walks that span of the person's assignments in the index: the last day's grew
        // with the day's volume, and at a few thousand a second it was most of a batch's routing.
        // Each is made only where it is read (a profile leaves an unset cap's key out).
        let rows = sqlx::query(&format!(
            "SELECT u.id, u.name, u.email, t.name AS team, rp.profile, \
             CASE WHEN $3 OR rp.profile LIKE '%\"daily_cap\"%' THEN \
             (SELECT COUNT(*) FROM assignments a WHERE a.to_owner = u.id AND a.at >= $1) ELSE 0 END AS day, \
             CASE WHEN rp.profile LIKE '%\"monthly_cap\"%' THEN \
             (SELECT COUNT(*) FROM assignments a WHERE a.to_owner = u.id AND a.at >= $2) ELSE 0 END AS month, \
             {open} AS open \
             FROM users u LEFT JOIN teams t ON t.id = u.team_id LEFT JOIN routing_profiles rp ON rp.user_id = u.id \
             WHERE u.active AND u.role = 'salesperson' ORDER BY u.id"
        ))
        .bind(now - 86_400_000)
        .bind(now - 30 * 86_400_000)
        .bind(day_for_all)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter()
            .map(|r| {
                let profile: Option<String> = r.try_get("profile")?;
                let profile = profile
                    .and_then(|p| serde_json::from_str::<RoutingProfile>(&p).ok())
                    .unwrap_or_default();
                Ok(Person {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    email: r.try_get("email")?,
                    team: r.try_get("team")?,
                    profile,
                    assigned_day: r.try_get::<i64, _>("day")?.max(0) as u32,
                    assigned_30d: r.try_get::<i64, _>("month")?.max(0) as u32,
                    open_load: r.try_get::<i64, _>("open")?.max(0) as u32,
                })
            })
            .collect()
    }

    async fn route_counters(&mut self) -> Result<std::collections::HashMap<String, u64>> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, value FROM counters WHERE name LIKE 'route:%'")
                .fetch_all(&mut *self.tx)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(k, v)| (k, v.max(0) as u64))
            .collect())
    }

    async fn prefetch_settings(&mut self, names: &[&str]) -> Result<()> {
        if names.is_empty() {
            return Ok(());
        }
        let mut qb: QueryBuilder<DB> =
            QueryBuilder::new("SELECT name, value FROM settings WHERE name IN (");
        let mut sep = qb.separated(", ");
        for n in names {
            sep.push_bind(n.to_string());
        }
        qb.push(")");
        let rows = qb.build().fetch_all(&mut *self.tx).await?;
        for n in names {
            self.settings.insert(n.to_string(), None);
        }
        for r in rows {
            self.settings
                .insert(r.try_get("name")?, Some(r.try_get("value")?));
        }
        Ok(())
    }

    async fn setting_in_tx(&mut self, name: &str) -> Result<Option<String>> {
        if let Some(v) = self.settings.get(name) {
            return Ok(v.clone());
        }
        Ok(
            sqlx::query_scalar("SELECT value FROM settings WHERE name = $1")
                .bind(name)
                .fetch_optional(&mut *self.tx)
                .await?,
        )
    }

    async fn route_facts(&mut self, lead_id: Id) -> Result<Option<StoredRouteFacts>> {
        let Some(row) = sqlx::query(
            "SELECT contact_id, profile, score, conversion_ppm FROM leads WHERE id = $1",
        )
        .bind(lead_id)
        .fetch_optional(&mut *self.tx)
        .await?
        else {
            return Ok(None);
        };
        let contact_id: Id = row.try_get("contact_id")?;
        let profile: Option<String> = row.try_get("profile")?;
        let ppm: i64 = row.try_get("conversion_ppm")?;
        let partner: Option<String> = sqlx::query_scalar(
            "SELECT partner FROM touches WHERE lead_id = $1 AND partner IS NOT NULL ORDER BY id LIMIT 1",
        )
        .bind(lead_id)
        .fetch_optional(&mut *self.tx)
        .await?
        .flatten();
        let rows = sqlx::query(
            "SELECT id, product, stage, owner_id, updated_at FROM leads \
             WHERE contact_id = $1 AND id <> $2 AND merged_into IS NULL",
        )
        .bind(contact_id)
        .bind(lead_id)
        .fetch_all(&mut *self.tx)
        .await?;
        let others = rows
            .iter()
            .map(|r| {
                let stage: String = r.try_get("stage")?;
                Ok(voronka_core::intake::CandidateLead {
                    lead_id: r.try_get("id")?,
                    product: r.try_get("product")?,
                    stage: Stage::parse(&stage).map_err(|_| corrupt("stage", &stage))?,
                    owner_id: r.try_get("owner_id")?,
                    updated_at: r.try_get("updated_at")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Some(StoredRouteFacts {
            profile: profile
                .and_then(|p| serde_json::from_str(&p).ok())
                .unwrap_or_default(),
            partner,
            score: row.try_get("score")?,
            conversion: (ppm >= 0).then(|| ppm as f64 / 1_000_000.0),
            others,
        }))
    }

    async fn insert_assignments(&mut self, rows: &[NewAssignment]) -> Result<()> {
        for chunk in rows.chunks(CHUNK / 2) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO assignments (lead_id, from_owner, to_owner, rule, explanation, coded, actor_id, actor, at) ",
            );
            qb.push_values(chunk, |mut b, a| {
                b.push_bind(a.lead_id)
                    .push_bind(a.from_owner)
                    .push_bind(a.to_owner)
                    .push_bind(a.rule.clone())
                    .push_bind("")
                    .push_bind(a.why.to_json())
                    .push_bind(a.actor_id)
                    .push_bind(a.actor.clone())
                    .push_bind(a.at);
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn insert_assignment(&mut self, a: &NewAssignment) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO assignments (lead_id, from_owner, to_owner, rule, explanation, coded, actor_id, actor, at) \
             VALUES ($1, $2, $3, $4, '', $5, $6, $7, $8) RETURNING id",
        )
        .bind(a.lead_id)
        .bind(a.from_owner)
        .bind(a.to_owner)
        .bind(a.rule.clone())
        .bind(a.why.to_json())
        .bind(a.actor_id)
        .bind(a.actor.clone())
        .bind(a.at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn enqueue_jobs(&mut self, rows: &[(String, String, Millis)], now: Millis) -> Result<()> {
        for chunk in rows.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("INSERT INTO jobs (kind, payload, run_at, created_at) ");
            qb.push_values(chunk, |mut b, (kind, payload, run_at)| {
                b.push_bind(kind.clone())
                    .push_bind(payload.clone())
                    .push_bind(*run_at)
                    .push_bind(now);
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn add_activity(
        &mut self,
        lead_id: Id,
        user_id: Option<Id>,
        kind: &str,
        outcome: Option<&str>,
        note: Option<&str>,
        at: Millis,
    ) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO activities (lead_id, user_id, kind, outcome, note, at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(lead_id)
        .bind(user_id)
        .bind(kind)
        .bind(outcome)
        .bind(note)
        .bind(at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn add_task(&mut self, t: &NewTask) -> Result<Id> {
        Ok(sqlx::query_scalar(
            "INSERT INTO tasks (lead_id, owner_id, kind, title, title_code, due_at, remind_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(t.lead_id)
        .bind(t.owner_id)
        .bind(&t.kind)
        .bind(&t.title)
        .bind(t.title_code)
        .bind(t.due_at)
        .bind(t.remind_at)
        .bind(&t.created_by)
        .bind(t.created_at)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn add_notification(
        &mut self,
        user_id: Id,
        kind: &str,
        lead_id: Option<Id>,
        body: &Notice,
        at: Millis,
    ) -> Result<()> {
        self.insert_notifications(&[NewNotification {
            user_id,
            kind: kind.to_string(),
            lead_id,
            body: body.clone(),
            at,
        }])
        .await
    }

    async fn insert_notifications(&mut self, rows: &[NewNotification]) -> Result<()> {
        for chunk in rows.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> = QueryBuilder::new(
                "INSERT INTO notifications (user_id, kind, lead_id, body, coded, created_at) ",
            );
            qb.push_values(chunk, |mut b, n| {
                b.push_bind(n.user_id)
                    .push_bind(n.kind.clone())
                    .push_bind(n.lead_id)
                    .push_bind("")
                    .push_bind(n.body.to_json())
                    .push_bind(n.at);
            });
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn record_sla_event(&mut self, e: &SlaEvent) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO sla_events (lead_id, step, action, detail, coded, worker, at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (lead_id, step) DO NOTHING",
        )
        .bind(e.lead_id)
        .bind(e.step)
        .bind(&e.action)
        // A step with a code keeps only it; its text is made when read.
        .bind(if e.notice.is_some() { "" } else { e.detail.as_str() })
        .bind(e.notice.as_ref().map(Notice::to_json))
        .bind(&e.worker)
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn set_sla_breached(&mut self, lead_id: Id, at: Millis) -> Result<()> {
        sqlx::query(
            "UPDATE leads SET sla_breached_at = $1 WHERE id = $2 AND sla_breached_at IS NULL",
        )
        .bind(at)
        .bind(lead_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn add_survey(&mut self, lead_id: Id, token_hash: &str, at: Millis) -> Result<()> {
        sqlx::query("INSERT INTO surveys (lead_id, token_hash, created_at) VALUES ($1, $2, $3)")
            .bind(lead_id)
            .bind(token_hash)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }
}
