//! Webhooks and their delivery log.

use async_trait::async_trait;
use domain::integration::{Delivery, Webhook, WebhookKind};
use domain::{DeliveryId, WebhookId};

use super::{SqlStore, page_by_id, returned_id};
use crate::rows::word;
use crate::{IntegrationStore, Page, PageRequest, Result, SqlRow, StoreError};

const HOOK_COLS: &str = "id, name, kind, url, events, only_bad_ratings, secret, active, failures_in_a_row, \
    disabled_reason, created_at, updated_at";

fn hook(r: &SqlRow) -> Result<Webhook> {
    Ok(Webhook {
        id: WebhookId(r.int(0)?),
        name: r.text(1)?,
        kind: word(WebhookKind::parse("kind", &r.text(2)?))?,
        url: r.text(3)?,
        events: serde_json::from_str(&r.text(4)?).map_err(|e| StoreError::Corrupt(format!("webhook events: {e}")))?,
        only_bad_ratings: r.bool(5)?,
        secret: r.text(6)?,
        active: r.bool(7)?,
        failures_in_a_row: r.int(8)?,
        disabled_reason: r.opt_text(9)?,
        created_at: r.int(10)?,
        updated_at: r.int(11)?,
    })
}

fn delivery(r: &SqlRow) -> Result<Delivery> {
    Ok(Delivery {
        id: DeliveryId(r.int(0)?),
        webhook_id: WebhookId(r.int(1)?),
        event: r.text(2)?,
        attempt: r.int(3)?,
        status_code: r.opt_int(4)?,
        error: r.opt_text(5)?,
        duration_ms: r.int(6)?,
        at: r.int(7)?,
    })
}

fn events_json(events: &[String]) -> String {
    serde_json::to_string(events).unwrap_or_else(|_| "[]".into())
}

#[async_trait]
impl IntegrationStore for SqlStore {
    async fn create_webhook(&self, h: Webhook) -> Result<WebhookId> {
        // A write: on SQLite only a transaction has the writer.
        let mut tx = self.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO webhooks (name, kind, url, events, only_bad_ratings, secret, active, failures_in_a_row, \
                 created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9) RETURNING id",
                vec![
                    h.name.into(),
                    h.kind.as_str().into(),
                    h.url.into(),
                    events_json(&h.events).into(),
                    h.only_bad_ratings.into(),
                    h.secret.into(),
                    h.active.into(),
                    h.created_at.into(),
                    h.updated_at.into(),
                ],
            )
            .await?;
        let id = returned_id(&rows)?;
        tx.commit().await?;
        Ok(WebhookId(id))
    }

    async fn update_webhook(&self, h: &Webhook) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE webhooks SET name = $1, kind = $2, url = $3, events = $4, only_bad_ratings = $5, \
                 failures_in_a_row = CASE WHEN $6 AND NOT active THEN 0 ELSE failures_in_a_row END, \
                 disabled_reason = CASE WHEN $6 THEN NULL ELSE disabled_reason END, \
                 active = $6, updated_at = $7 WHERE id = $8",
                vec![
                    h.name.clone().into(),
                    h.kind.as_str().into(),
                    h.url.clone().into(),
                    events_json(&h.events).into(),
                    h.only_bad_ratings.into(),
                    h.active.into(),
                    h.updated_at.into(),
                    h.id.0.into(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn delete_webhook(&self, id: WebhookId) -> Result<bool> {
        let mut tx = self.begin().await?;
        tx.execute("DELETE FROM webhook_deliveries WHERE webhook_id = $1", vec![id.0.into()]).await?;
        let n = tx.execute("DELETE FROM webhooks WHERE id = $1", vec![id.0.into()]).await?;
        tx.commit().await?;
        Ok(n == 1)
    }

    async fn webhook(&self, id: WebhookId) -> Result<Option<Webhook>> {
        let sql = format!("SELECT {HOOK_COLS} FROM webhooks WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(hook).transpose()
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>> {
        let sql = format!("SELECT {HOOK_COLS} FROM webhooks ORDER BY id");
        self.fetch(&sql, vec![]).await?.iter().map(hook).collect()
    }

    async fn record_delivery(&self, d: Delivery, disable_after: i64) -> Result<bool> {
        let ok = d.succeeded();
        let mut tx = self.begin().await?;
        // The hook's row first, so concurrent attempts count one after another.
        let rows = tx
            .fetch(
                "UPDATE webhooks SET failures_in_a_row = \
                 CASE WHEN $1 THEN 0 WHEN active THEN failures_in_a_row + 1 ELSE failures_in_a_row END \
                 WHERE id = $2 RETURNING failures_in_a_row, active",
                vec![ok.into(), d.webhook_id.0.into()],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(false);
        };
        let (failures, active) = (row.int(0)?, row.bool(1)?);
        tx.execute(
            "INSERT INTO webhook_deliveries (webhook_id, event, attempt, status_code, error, duration_ms, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                d.webhook_id.0.into(),
                d.event.clone().into(),
                d.attempt.into(),
                d.status_code.into(),
                d.error.clone().map(crate::storable_text).into(),
                d.duration_ms.into(),
                d.at.into(),
            ],
        )
        .await?;
        let disable = !ok && active && failures >= disable_after;
        if disable {
            let reason = format!(
                "switched off after {failures} failed deliveries in a row; the last: {}",
                d.error.clone().unwrap_or_else(|| format!("HTTP {}", d.status_code.unwrap_or_default()))
            );
            tx.execute(
                "UPDATE webhooks SET active = $1, disabled_reason = $2, updated_at = $3 WHERE id = $4",
                vec![false.into(), reason.into(), d.at.into(), d.webhook_id.0.into()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(disable)
    }

    async fn deliveries(&self, hook: WebhookId, page: PageRequest) -> Result<Page<Delivery>> {
        let limit = page.limit.clamp(1, 1000);
        let mut sql = "SELECT id, webhook_id, event, attempt, status_code, error, duration_ms, at \
                       FROM webhook_deliveries WHERE webhook_id = $1"
            .to_string();
        let mut params = vec![hook.0.into()];
        if let Some(after) = page.after {
            sql.push_str(" AND id < $2");
            params.push(after.into());
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", limit + 1));
        let items = self.fetch(&sql, params).await?.iter().map(delivery).collect::<Result<Vec<_>>>()?;
        Ok(page_by_id(items, limit, |d: &Delivery| d.id.0))
    }
}
