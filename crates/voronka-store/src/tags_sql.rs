// Tags SQL shared by both backends; included after `common.rs` into `sqlite` and `postgres`.

use crate::tags::*;

#[async_trait]
impl TagStore for SqlStore {
    async fn tags_of_leads(&self, lead_ids: &[Id]) -> Result<HashMap<Id, Vec<String>>> {
        let mut out: HashMap<Id, Vec<String>> = HashMap::new();
        for chunk in lead_ids.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("SELECT lead_id, tag FROM lead_tags WHERE lead_id IN (");
            push_ids(&mut qb, chunk);
            qb.push(") ORDER BY lead_id, created_at, tag_key");
            for r in qb.build().fetch_all(&self.pool).await? {
                out.entry(r.try_get("lead_id")?)
                    .or_default()
                    .push(r.try_get("tag")?);
            }
        }
        Ok(out)
    }

    async fn tags_in_use(&self, who: &Visibility, limit: i64) -> Result<Vec<TagUse>> {
        let mut qb: QueryBuilder<DB> = QueryBuilder::new(
            "SELECT MIN(t.tag) AS tag, COUNT(*) AS n FROM lead_tags t \
             JOIN leads l ON l.id = t.lead_id WHERE l.merged_into IS NULL",
        );
        push_visible(&mut qb, "l.id", "id", who);
        qb.push(" GROUP BY t.tag_key ORDER BY n DESC, t.tag_key LIMIT ")
            .push_bind(limit);
        qb.build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| {
                Ok(TagUse {
                    tag: r.try_get("tag")?,
                    leads: r.try_get("n")?,
                })
            })
            .collect()
    }

    async fn tag_names(&self, limit: i64) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT MIN(tag) FROM lead_tags GROUP BY tag_key ORDER BY tag_key LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[async_trait]
impl TagTx for SqlTx {
    async fn add_tag(&mut self, lead_id: Id, tag: &str, key: &str, at: Millis) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO lead_tags (lead_id, tag, tag_key, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (lead_id, tag_key) DO NOTHING",
        )
        .bind(lead_id)
        .bind(tag)
        .bind(key)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_tag(&mut self, lead_id: Id, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "DELETE FROM lead_tags WHERE lead_id = $1 AND tag_key = $2 RETURNING tag",
        )
        .bind(lead_id)
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await?)
    }

    async fn tags_of(&mut self, lead_id: Id) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar(
            "SELECT tag FROM lead_tags WHERE lead_id = $1 ORDER BY created_at, tag_key",
        )
        .bind(lead_id)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    async fn copy_tags(&mut self, from_lead: Id, to_lead: Id, max: usize) -> Result<Vec<String>> {
        let has: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lead_tags WHERE lead_id = $1")
            .bind(to_lead)
            .fetch_one(&mut *self.tx)
            .await?;
        let room = (max as i64 - has).max(0);
        if room == 0 {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_scalar(
            "INSERT INTO lead_tags (lead_id, tag, tag_key, created_at) \
             SELECT $2, tag, tag_key, created_at FROM lead_tags WHERE lead_id = $1 \
             AND tag_key NOT IN (SELECT tag_key FROM lead_tags WHERE lead_id = $2) \
             ORDER BY created_at, tag_key LIMIT $3 RETURNING tag_key",
        )
        .bind(from_lead)
        .bind(to_lead)
        .bind(room)
        .fetch_all(&mut *self.tx)
        .await?)
    }

    async fn remove_tags(&mut self, lead_id: Id, keys: &[String]) -> Result<()> {
        for chunk in keys.chunks(CHUNK) {
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("DELETE FROM lead_tags WHERE lead_id = ");
            qb.push_bind(lead_id).push(" AND tag_key IN (");
            let mut sep = qb.separated(", ");
            for k in chunk {
                sep.push_bind(k.as_str());
            }
            qb.push(")");
            qb.build().execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn rename_tag(
        &mut self,
        who: &Visibility,
        from_key: &str,
        tag: &str,
        key: &str,
    ) -> Result<i64> {
        let mut had = 0;
        if key != from_key {
            // Leads with both: the old one goes, the one with the new name stays.
            let mut qb: QueryBuilder<DB> =
                QueryBuilder::new("DELETE FROM lead_tags WHERE tag_key = ");
            qb.push_bind(from_key)
                .push(" AND lead_id IN (SELECT lead_id FROM lead_tags WHERE tag_key = ")
                .push_bind(key)
                .push(")");
            push_visible(&mut qb, "lead_id", "id", who);
            had += qb.build().execute(&mut *self.tx).await?.rows_affected() as i64;
        }
        let mut qb: QueryBuilder<DB> = QueryBuilder::new("UPDATE lead_tags SET tag = ");
        qb.push_bind(tag)
            .push(", tag_key = ")
            .push_bind(key)
            .push(" WHERE tag_key = ")
            .push_bind(from_key);
        push_visible(&mut qb, "lead_id", "id", who);
        had += qb.build().execute(&mut *self.tx).await?.rows_affected() as i64;
        Ok(had)
    }

    async fn delete_tag(&mut self, who: &Visibility, key: &str) -> Result<i64> {
        let mut qb: QueryBuilder<DB> = QueryBuilder::new("DELETE FROM lead_tags WHERE tag_key = ");
        qb.push_bind(key);
        push_visible(&mut qb, "lead_id", "id", who);
        Ok(qb.build().execute(&mut *self.tx).await?.rows_affected() as i64)
    }
}
