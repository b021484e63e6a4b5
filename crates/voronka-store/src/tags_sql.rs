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

    async fn copy_tags(&mut self, from_lead: Id, to_lead: Id) -> Result<()> {
        sqlx::query(
            "INSERT INTO lead_tags (lead_id, tag, tag_key, created_at) \
             SELECT $2, tag, tag_key, created_at FROM lead_tags WHERE lead_id = $1 \
             ON CONFLICT (lead_id, tag_key) DO NOTHING",
        )
        .bind(from_lead)
        .bind(to_lead)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}
