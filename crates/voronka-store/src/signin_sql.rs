// Signing-in SQL shared by both backends; included after `common.rs` into `sqlite` and
// `postgres`.

use crate::signin::*;

#[async_trait]
impl SignInStore for SqlStore {
    async fn two_step(&self, user_id: Id) -> Result<TwoStep> {
        let row = sqlx::query(
            "SELECT totp_secret, totp_pending, totp_last_step FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(TwoStep::default());
        };
        Ok(TwoStep {
            secret: r.try_get("totp_secret")?,
            pending: r.try_get("totp_pending")?,
            last_step: r.try_get("totp_last_step")?,
        })
    }

    async fn two_step_users(&self) -> Result<Vec<Id>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM users WHERE totp_secret IS NOT NULL ORDER BY id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn recovery_codes_left(&self, user_id: Id) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        )
        .bind(user_id)
        .fetch_one(&self.pool)
        .await?)
    }

    async fn signin_challenge(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> Result<Option<SignInChallenge>> {
        let row = sqlx::query(
            "SELECT token_hash, user_id, user_agent, expires_at FROM signin_challenges \
             WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SignInChallenge {
                token_hash: r.try_get("token_hash")?,
                user_id: r.try_get("user_id")?,
                user_agent: r.try_get("user_agent")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    async fn insert_signin_challenge(&self, c: &SignInChallenge, now: Millis) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM signin_challenges WHERE expires_at <= $1")
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO signin_challenges (token_hash, user_id, user_agent, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&c.token_hash)
        .bind(c.user_id)
        .bind(&c.user_agent)
        .bind(c.expires_at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_signin_challenge(&self, token_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM signin_challenges WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn login_failures(&self, email: &str, since: Millis, limit: i64) -> Result<Vec<Millis>> {
        Ok(sqlx::query_scalar(
            "SELECT at FROM login_failures WHERE email = $1 AND at >= $2 ORDER BY at DESC LIMIT $3",
        )
        .bind(email)
        .bind(since)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn record_login_failure(
        &self,
        email: &str,
        at: Millis,
        forget_before: Millis,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (email, at) VALUES ($1, $2)")
            .bind(email)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn clear_login_failures(&self, email: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(email)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn password_reset_user(&self, token_hash: &str, now: Millis) -> Result<Option<Id>> {
        Ok(sqlx::query_scalar(
            "SELECT user_id FROM password_resets \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn sessions_of(&self, user_id: Id, now: Millis) -> Result<Vec<Session>> {
        sqlx::query(
            "SELECT * FROM sessions WHERE user_id = $1 AND expires_at > $2 \
             ORDER BY created_at DESC, token_hash",
        )
        .bind(user_id)
        .bind(now)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_from)
        .collect()
    }

    async fn session_seen(&self, token_hash: &str, at: Millis) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(at)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn end_session(&self, user_id: Id, token_hash: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash = $2")
            .bind(user_id)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl SignInTx for SqlTx {
    async fn set_user_password(&mut self, id: Id, hash: &str) -> Result<bool> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(hash)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn end_sessions(&mut self, user_id: Id, keep: Option<&str>) -> Result<u64> {
        let done = sqlx::query(
            "DELETE FROM sessions WHERE user_id = $1 AND (CAST($2 AS TEXT) IS NULL OR token_hash <> $2)",
        )
        .bind(user_id)
        .bind(keep)
        .execute(&mut *self.tx)
        .await?;
        // A sign-in waiting for its code ends with them: it began with the old password.
        sqlx::query("DELETE FROM signin_challenges WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected())
    }

    async fn insert_password_reset(&mut self, r: &PasswordReset) -> Result<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&r.token_hash)
        .bind(r.user_id)
        .bind(r.created_at)
        .bind(r.expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn password_resets_since(&mut self, user_id: Id, since: Millis) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM password_resets WHERE user_id = $1 AND created_at >= $2",
        )
        .bind(user_id)
        .bind(since)
        .fetch_one(&mut *self.tx)
        .await?)
    }

    async fn take_password_reset(&mut self, token_hash: &str, now: Millis) -> Result<Option<Id>> {
        let user: Option<Id> = sqlx::query_scalar(
            "UPDATE password_resets SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&mut *self.tx)
        .await?;
        if let Some(u) = user {
            sqlx::query(
                "UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL",
            )
            .bind(u)
            .bind(now)
            .execute(&mut *self.tx)
            .await?;
        }
        Ok(user)
    }

    async fn set_two_step_pending(&mut self, user_id: Id, secret: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE users SET totp_pending = $1 WHERE id = $2")
            .bind(secret)
            .bind(user_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn enable_two_step(&mut self, user_id: Id, step: i64, codes: &[String]) -> Result<()> {
        sqlx::query(
            "UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $1 \
             WHERE id = $2",
        )
        .bind(step)
        .bind(user_id)
        .execute(&mut *self.tx)
        .await?;
        self.replace_recovery_codes(user_id, codes).await
    }

    async fn disable_two_step(&mut self, user_id: Id) -> Result<()> {
        sqlx::query(
            "UPDATE users SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL \
             WHERE id = $1",
        )
        .bind(user_id)
        .execute(&mut *self.tx)
        .await?;
        self.replace_recovery_codes(user_id, &[]).await
    }

    async fn use_two_step_step(&mut self, user_id: Id, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 \
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn use_recovery_code(
        &mut self,
        user_id: Id,
        code_hash: &str,
        at: Millis,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(at)
        .bind(user_id)
        .bind(code_hash)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn replace_recovery_codes(&mut self, user_id: Id, codes: &[String]) -> Result<()> {
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *self.tx)
            .await?;
        for c in codes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(c)
                .execute(&mut *self.tx)
                .await?;
        }
        Ok(())
    }
}
