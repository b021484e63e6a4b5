// Channel analytics SQL shared by both backends; included after `common.rs` into `sqlite` and
// `postgres`.

use crate::channels::*;
use voronka_core::channels::{ChannelBy, ChannelKey, ChannelTally, SpendEntry, WeekTally};

/// The key columns of a grouping: (source, medium, campaign, form) expressions over the leads
/// (`l`) and over the interests (`i`); the columns a grouping does not use are typed NULLs, so
/// that both engines read every row alike.
fn channel_key_sql(by: ChannelBy) -> (String, String) {
    const TEXT: &str = "CAST(NULL AS TEXT)";
    const NUM: &str = "CAST(NULL AS BIGINT)";
    let cols = |s: &str, m: &str, c: &str, f: &str| {
        format!("{s} AS k_source, {m} AS k_medium, {c} AS k_campaign, {f} AS k_form")
    };
    match by {
        ChannelBy::Source => (
            cols("l.source", TEXT, TEXT, NUM),
            cols("i.utm_source", TEXT, TEXT, NUM),
        ),
        ChannelBy::Medium => (
            cols(TEXT, "l.medium", TEXT, NUM),
            cols(TEXT, "i.utm_medium", TEXT, NUM),
        ),
        ChannelBy::Campaign => (
            cols(TEXT, TEXT, "l.campaign", NUM),
            cols(TEXT, TEXT, "i.utm_campaign", NUM),
        ),
        ChannelBy::SourceMedium => (
            cols("l.source", "l.medium", TEXT, NUM),
            cols("i.utm_source", "i.utm_medium", TEXT, NUM),
        ),
        ChannelBy::Form => (
            cols(TEXT, TEXT, TEXT, "CAST(l.form_id AS BIGINT)"),
            cols(TEXT, TEXT, TEXT, "CAST(i.form_id AS BIGINT)"),
        ),
    }
}

fn channel_key_from(r: &DbRow) -> Result<ChannelKey> {
    Ok(ChannelKey {
        source: r.try_get("k_source")?,
        medium: r.try_get("k_medium")?,
        campaign: r.try_get("k_campaign")?,
        form_id: r.try_get("k_form")?,
    })
}

/// A lead that is (or was, before a refusal) at one of `stages`: its stage now, or an entry of
/// its history. Junk leads count nowhere. The history is read through its index of entries
/// into these stages (`stage_changes_reached`), whose condition the query repeats word for word
/// so that SQLite's planner sees it holds.
fn reached(stages: &str) -> String {
    format!(
        "CAST(SUM(CASE WHEN l.stage IN ({stages}) THEN 1 \
         WHEN l.stage <> 'junk' AND EXISTS (SELECT 1 FROM stage_changes s \
         WHERE s.lead_id = l.id AND s.to_stage IN ({REACHED_STAGES}) \
         AND s.to_stage IN ({stages})) THEN 1 ELSE 0 END) AS BIGINT)"
    )
}

/// The condition of the index `stage_changes_reached`, as its migration writes it.
const REACHED_STAGES: &str = "'mql', 'sql', 'converted'";

/// Every form's name by its id, for the rows of a report by form.
async fn form_names(pool: &Pool<DB>) -> Result<HashMap<Id, String>> {
    sqlx::query("SELECT id, name FROM forms")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
        .collect()
}

fn spend_from(r: &DbRow) -> Result<SpendEntry> {
    let currency: String = r.try_get("currency")?;
    Ok(SpendEntry {
        id: r.try_get("id")?,
        source: r.try_get("source")?,
        medium: r.try_get("medium")?,
        campaign: r.try_get("campaign")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        amount: Money::new(
            r.try_get("amount_minor")?,
            Currency::parse(&currency).map_err(|_| corrupt("currency", &currency))?,
        ),
        note: r.try_get("note")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
    })
}

#[async_trait]
impl ChannelStore for SqlStore {
    async fn channel_tallies(
        &self,
        by: ChannelBy,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<ChannelTally>> {
        let (lead_key, interest_key) = channel_key_sql(by);
        let mut out = Vec::new();
        let sql = format!(
            "SELECT {lead_key}, \
             CAST(SUM(CASE WHEN l.stage <> 'junk' THEN 1 ELSE 0 END) AS BIGINT) AS leads, \
             CAST(SUM(CASE WHEN l.stage = 'junk' THEN 1 ELSE 0 END) AS BIGINT) AS junk, \
             {} AS mql, {} AS sqls, \
             CAST(SUM(CASE WHEN l.stage = 'converted' THEN 1 ELSE 0 END) AS BIGINT) AS converted, \
             CAST(SUM(CASE WHEN l.stage = 'refused' THEN 1 ELSE 0 END) AS BIGINT) AS refused \
             FROM leads l WHERE l.merged_into IS NULL AND l.created_at >= $1 AND l.created_at < $2 \
             GROUP BY k_source, k_medium, k_campaign, k_form",
            reached(REACHED_STAGES),
            reached("'sql', 'converted'"),
        );
        for r in sqlx::query(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?
        {
            out.push(ChannelTally {
                key: channel_key_from(&r)?,
                leads: r.try_get("leads")?,
                junk: r.try_get("junk")?,
                mql: r.try_get("mql")?,
                sql: r.try_get("sqls")?,
                converted: r.try_get("converted")?,
                refused: r.try_get("refused")?,
                ..Default::default()
            });
        }
        // Every deal made from these leads, whenever it was made.
        let sql = format!(
            "SELECT k_source, k_medium, k_campaign, k_form, currency, \
             CAST(SUM(amount_minor) AS BIGINT) AS amount \
             FROM (SELECT {lead_key}, d.currency, d.amount_minor FROM deals d \
             JOIN leads l ON l.id = d.lead_id WHERE l.created_at >= $1 AND l.created_at < $2) x \
             GROUP BY k_source, k_medium, k_campaign, k_form, currency"
        );
        for r in sqlx::query(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?
        {
            let currency: String = r.try_get("currency")?;
            let currency =
                Currency::parse(&currency).map_err(|_| corrupt("currency", &currency))?;
            out.push(ChannelTally {
                key: channel_key_from(&r)?,
                revenue: vec![Money::new(r.try_get("amount")?, currency)],
                ..Default::default()
            });
        }
        let sql = format!(
            "SELECT k_source, k_medium, k_campaign, k_form, CAST(COUNT(*) AS BIGINT) AS n \
             FROM (SELECT {interest_key} FROM interests i \
             WHERE NOT i.rejected AND i.created_at >= $1 AND i.created_at < $2) x \
             GROUP BY k_source, k_medium, k_campaign, k_form"
        );
        for r in sqlx::query(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?
        {
            out.push(ChannelTally {
                key: channel_key_from(&r)?,
                interests: r.try_get("n")?,
                ..Default::default()
            });
        }
        if by == ChannelBy::Form {
            let names = form_names(&self.pool).await?;
            for t in &mut out {
                t.label = t.key.form_id.and_then(|id| names.get(&id).cloned());
            }
        }
        Ok(out)
    }

    async fn channel_weeks(
        &self,
        by: ChannelBy,
        from: Millis,
        to: Millis,
    ) -> Result<Vec<WeekTally>> {
        use voronka_core::channels::{WEEK, WEEK_ORIGIN};
        let (lead_key, _) = channel_key_sql(by);
        let sql = format!(
            "SELECT k_source, k_medium, k_campaign, k_form, wk, CAST(COUNT(*) AS BIGINT) AS n \
             FROM (SELECT {lead_key}, CAST((l.created_at - {WEEK_ORIGIN}) / {WEEK} AS BIGINT) AS wk \
             FROM leads l WHERE l.merged_into IS NULL AND l.stage <> 'junk' \
             AND l.created_at >= $1 AND l.created_at < $2) x \
             GROUP BY k_source, k_medium, k_campaign, k_form, wk"
        );
        let names = if by == ChannelBy::Form {
            form_names(&self.pool).await?
        } else {
            HashMap::new()
        };
        sqlx::query(&sql)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                let key = channel_key_from(r)?;
                let wk: i64 = r.try_get("wk")?;
                Ok(WeekTally {
                    label: key.form_id.and_then(|id| names.get(&id).cloned()),
                    key,
                    week: WEEK_ORIGIN + wk * WEEK,
                    leads: r.try_get("n")?,
                })
            })
            .collect()
    }

    async fn spend_entries(&self, from: Millis, to: Millis) -> Result<Vec<SpendEntry>> {
        sqlx::query(
            "SELECT * FROM channel_spend WHERE starts_at < $2 AND ends_at > $1 \
             ORDER BY starts_at DESC, id DESC",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(spend_from)
        .collect()
    }

    async fn spend_entry(&self, id: Id) -> Result<Option<SpendEntry>> {
        sqlx::query("SELECT * FROM channel_spend WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| spend_from(&r))
            .transpose()
    }
}

/// An entry's channel, days, amount and note bound as the first eight arguments.
fn bind_spend<'q>(
    q: sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>>,
    s: &'q NewSpend,
) -> sqlx::query::Query<'q, DB, <DB as sqlx::Database>::Arguments<'q>> {
    q.bind(&s.source)
        .bind(&s.medium)
        .bind(&s.campaign)
        .bind(s.starts_at)
        .bind(s.ends_at)
        .bind(s.amount.minor)
        .bind(s.amount.currency.as_str())
        .bind(&s.note)
}

#[async_trait]
impl ChannelTx for SqlTx {
    async fn add_spend(&mut self, s: &NewSpend) -> Result<Id> {
        let q = sqlx::query(
            "INSERT INTO channel_spend (source, medium, campaign, starts_at, ends_at, \
             amount_minor, currency, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        );
        let row = bind_spend(q, s)
            .bind(&s.created_by)
            .bind(s.created_at)
            .fetch_one(&mut *self.tx)
            .await?;
        Ok(row.try_get("id")?)
    }

    async fn delete_spend_like(&mut self, s: &NewSpend) -> Result<u64> {
        // Stored names are never empty (an empty one is NULL), so '' stands for NULL here.
        Ok(sqlx::query(
            "DELETE FROM channel_spend WHERE source = $1 AND COALESCE(medium, '') = $2 \
             AND COALESCE(campaign, '') = $3 AND starts_at = $4 AND ends_at = $5",
        )
        .bind(&s.source)
        .bind(s.medium.as_deref().unwrap_or(""))
        .bind(s.campaign.as_deref().unwrap_or(""))
        .bind(s.starts_at)
        .bind(s.ends_at)
        .execute(&mut *self.tx)
        .await?
        .rows_affected())
    }

    async fn update_spend(&mut self, id: Id, s: &NewSpend) -> Result<bool> {
        let q = sqlx::query(
            "UPDATE channel_spend SET source = $1, medium = $2, campaign = $3, starts_at = $4, \
             ends_at = $5, amount_minor = $6, currency = $7, note = $8 WHERE id = $9",
        );
        Ok(bind_spend(q, s)
            .bind(id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected()
            > 0)
    }

    async fn delete_spend(&mut self, id: Id) -> Result<bool> {
        Ok(sqlx::query("DELETE FROM channel_spend WHERE id = $1")
            .bind(id)
            .execute(&mut *self.tx)
            .await?
            .rows_affected()
            > 0)
    }
}
