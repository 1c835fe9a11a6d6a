use async_trait::async_trait;
use domain::{CustomerId, Millis, TokenId, UserId};

use super::{SqlStore, page_by_id, returned_id};
use crate::rows::{self, to_json};
use crate::{ApiToken, AuditEntry, AuthStore, NewAuditEntry, Page, PageRequest, PrincipalRef, Result};

fn principal_columns(who: PrincipalRef) -> (&'static str, i64) {
    match who {
        PrincipalRef::Staff(u) => ("staff", u.0),
        PrincipalRef::Customer(c) => ("customer", c.0),
    }
}

/// Token use is recorded at most this often, so reads stay reads.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

#[async_trait]
impl AuthStore for SqlStore {
    async fn create_session(&self, token_hash: &str, who: PrincipalRef, now: Millis, expires_at: Millis) -> Result<()> {
        let (kind, id) = principal_columns(who);
        self.execute(
            "INSERT INTO sessions (token_hash, principal_kind, principal_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            vec![token_hash.into(), kind.into(), id.into(), now.into(), expires_at.into()],
        )
        .await?;
        Ok(())
    }

    async fn session(&self, token_hash: &str, now: Millis) -> Result<Option<PrincipalRef>> {
        let r = self
            .fetch_one(
                "SELECT principal_kind, principal_id FROM sessions WHERE token_hash = $1 AND expires_at > $2",
                vec![token_hash.into(), now.into()],
            )
            .await?;
        r.map(|r| {
            let id = r.int(1)?;
            Ok(if r.text(0)? == "staff" {
                PrincipalRef::Staff(UserId(id))
            } else {
                PrincipalRef::Customer(CustomerId(id))
            })
        })
        .transpose()
    }

    async fn delete_session(&self, token_hash: &str) -> Result<()> {
        self.execute("DELETE FROM sessions WHERE token_hash = $1", vec![token_hash.into()]).await?;
        Ok(())
    }

    async fn delete_sessions_of(&self, who: PrincipalRef) -> Result<()> {
        let (kind, id) = principal_columns(who);
        self.execute(
            "DELETE FROM sessions WHERE principal_kind = $1 AND principal_id = $2",
            vec![kind.into(), id.into()],
        )
        .await?;
        Ok(())
    }

    async fn create_api_token(&self, user: UserId, name: &str, token_hash: &str, now: Millis) -> Result<ApiToken> {
        let mut tx = self.begin().await?;
        let id = returned_id(
            &tx.fetch(
                "INSERT INTO api_tokens (user_id, name, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
                vec![user.0.into(), name.into(), token_hash.into(), now.into()],
            )
            .await?,
        )?;
        tx.commit().await?;
        Ok(ApiToken {
            id: TokenId(id),
            user_id: user,
            name: name.to_string(),
            created_at: now,
            last_used_at: None,
            revoked_at: None,
        })
    }

    async fn api_token(&self, token_hash: &str, now: Millis) -> Result<Option<(TokenId, UserId)>> {
        let Some(r) = self
            .fetch_one(
                "SELECT id, user_id, last_used_at FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
                vec![token_hash.into()],
            )
            .await?
        else {
            return Ok(None);
        };
        let (id, user) = (r.int(0)?, r.int(1)?);
        if r.opt_int(2)?.is_none_or(|t| now - t > LAST_USED_GRANULARITY_MS) {
            self.execute("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", vec![now.into(), id.into()]).await?;
        }
        Ok(Some((TokenId(id), UserId(user))))
    }

    async fn api_tokens(&self, user: UserId) -> Result<Vec<ApiToken>> {
        let sql = format!("SELECT {} FROM api_tokens WHERE user_id = $1 ORDER BY id", rows::TOKEN_COLS);
        self.fetch(&sql, vec![user.0.into()]).await?.iter().map(rows::api_token).collect()
    }

    async fn revoke_api_token(&self, user: UserId, id: TokenId, now: Millis) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                vec![now.into(), id.0.into(), user.0.into()],
            )
            .await?;
        Ok(n == 1)
    }

    async fn record_login_failure(&self, key: &str, now: Millis) -> Result<()> {
        self.execute("INSERT INTO login_failures (key, at) VALUES ($1, $2)", vec![key.into(), now.into()]).await?;
        Ok(())
    }

    async fn login_failures_since(&self, key: &str, since: Millis) -> Result<i64> {
        let r = self
            .fetch_one(
                "SELECT COUNT(*) FROM login_failures WHERE key = $1 AND at >= $2",
                vec![key.into(), since.into()],
            )
            .await?;
        Ok(r.map(|r| r.int(0)).transpose()?.unwrap_or(0))
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        self.execute("DELETE FROM login_failures WHERE key = $1", vec![key.into()]).await?;
        Ok(())
    }

    async fn append_audit(&self, e: NewAuditEntry) -> Result<()> {
        self.execute(
            "INSERT INTO audit_log (at, actor, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                e.at.into(),
                e.actor.into(),
                e.action.into(),
                e.target.into(),
                e.outcome.into(),
                to_json(&e.detail).into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn audit(&self, page: PageRequest) -> Result<Page<AuditEntry>> {
        let limit = page.limit.clamp(1, 1000);
        // Newest first: the cursor is the last id seen.
        let sql =
            format!("SELECT {} FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT {}", rows::AUDIT_COLS, limit + 1);
        let items = self
            .fetch(&sql, vec![page.after.unwrap_or(i64::MAX).into()])
            .await?
            .iter()
            .map(rows::audit)
            .collect::<Result<_>>()?;
        Ok(page_by_id(items, limit, |a: &AuditEntry| a.id))
    }
}
