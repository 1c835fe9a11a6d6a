//! Durable jobs and schedules.

use async_trait::async_trait;
use domain::{Job, JobId, JobStatus, Millis, NewJob, Schedule};

use super::{Params, SqlStore, page_by_id};
use crate::rows::{json, to_json};
use crate::{JobStore, Page, PageRequest, Result, SqlRow, StoreError, Transaction};

const JOB_COLS: &str = "id, kind, payload, status, run_at, attempts, max_attempts, holder, lease_until, last_error, \
    idempotency_key, created_at, finished_at";

fn job(r: &SqlRow) -> Result<Job> {
    Ok(Job {
        id: JobId(r.int(0)?),
        kind: r.text(1)?,
        payload: json(&r.text(2)?)?,
        status: JobStatus::parse("status", &r.text(3)?).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        run_at: r.int(4)?,
        attempts: r.int(5)?,
        max_attempts: r.int(6)?,
        holder: r.opt_text(7)?,
        lease_until: r.opt_int(8)?,
        last_error: r.opt_text(9)?,
        idempotency_key: r.opt_text(10)?,
        created_at: r.int(11)?,
        finished_at: r.opt_int(12)?,
    })
}

fn schedule(r: &SqlRow) -> Result<Schedule> {
    Ok(Schedule {
        name: r.text(0)?,
        kind: r.text(1)?,
        payload: json(&r.text(2)?)?,
        every_ms: r.int(3)?,
        next_run_at: r.int(4)?,
    })
}

/// Inserts a job in `tx`; an existing key answers with its job's id.
async fn insert_job(tx: &mut dyn Transaction, j: NewJob) -> Result<JobId> {
    let rows = tx
        .fetch(
            "INSERT INTO jobs (kind, payload, status, run_at, max_attempts, idempotency_key, created_at) \
             VALUES ($1, $2, 'queued', $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            vec![
                j.kind.into(),
                to_json(&j.payload).into(),
                j.run_at.into(),
                j.max_attempts.max(1).into(),
                j.idempotency_key.clone().into(),
                j.created_at.into(),
            ],
        )
        .await?;
    if let Some(r) = rows.first() {
        return Ok(JobId(r.int(0)?));
    }
    let rows = tx.fetch("SELECT id FROM jobs WHERE idempotency_key = $1", vec![j.idempotency_key.into()]).await?;
    Ok(JobId(rows.first().ok_or_else(|| StoreError::Backend("job vanished".into()))?.int(0)?))
}

#[async_trait]
impl JobStore for SqlStore {
    async fn enqueue_job(&self, j: NewJob) -> Result<JobId> {
        let mut tx = self.begin().await?;
        let id = insert_job(tx.as_mut(), j).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn claim_jobs(&self, now: Millis, holder: &str, lease_until: Millis, limit: u32) -> Result<Vec<Job>> {
        let mut tx = self.begin().await?;
        let sql = format!(
            "SELECT id FROM jobs WHERE (status = 'queued' AND run_at <= $1) OR (status = 'running' AND lease_until <= $1) \
             ORDER BY run_at, id LIMIT {}{}",
            limit.clamp(1, 1000),
            self.db.skip_locked()
        );
        let ids: Vec<i64> = tx.fetch(&sql, vec![now.into()]).await?.iter().map(|r| r.int(0)).collect::<Result<_>>()?;
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let mut p = Params::default();
        let (h, lease) = (p.push(holder.to_string()), p.push(lease_until));
        let list = p.list(&ids);
        let sql = format!(
            "UPDATE jobs SET status = 'running', holder = {h}, lease_until = {lease}, attempts = attempts + 1 \
             WHERE id IN ({list}) RETURNING {JOB_COLS}"
        );
        let mut jobs = tx.fetch(&sql, p.values).await?.iter().map(job).collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        jobs.sort_by_key(|j| (j.run_at, j.id));
        Ok(jobs)
    }

    async fn complete_job(&self, id: JobId, holder: &str, at: Millis) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE jobs SET status = 'done', finished_at = $1, holder = NULL, lease_until = NULL, last_error = NULL \
                 WHERE id = $2 AND holder = $3 AND status = 'running'",
                vec![at.into(), id.0.into(), holder.to_string().into()],
            )
            .await?;
        Ok(n == 1)
    }

    async fn fail_job(
        &self,
        id: JobId,
        holder: &str,
        error: &str,
        retry_at: Option<Millis>,
        at: Millis,
    ) -> Result<bool> {
        let (status, run_at, finished) = match retry_at {
            Some(r) => ("queued", Some(r), None),
            None => ("dead", None, Some(at)),
        };
        let n = self
            .execute(
                "UPDATE jobs SET status = $1, run_at = COALESCE($2, run_at), finished_at = $3, holder = NULL, \
                 lease_until = NULL, last_error = $4 WHERE id = $5 AND holder = $6 AND status = 'running'",
                vec![
                    status.into(),
                    run_at.into(),
                    finished.into(),
                    crate::storable_text(error.chars().take(2000).collect()).into(),
                    id.0.into(),
                    holder.to_string().into(),
                ],
            )
            .await?;
        Ok(n == 1)
    }

    async fn job(&self, id: JobId) -> Result<Option<Job>> {
        let sql = format!("SELECT {JOB_COLS} FROM jobs WHERE id = $1");
        self.fetch_one(&sql, vec![id.0.into()]).await?.as_ref().map(job).transpose()
    }

    async fn jobs(&self, status: Option<JobStatus>, page: PageRequest) -> Result<Page<Job>> {
        let limit = page.limit.clamp(1, 1000);
        let mut p = Params::default();
        let mut conditions = Vec::new();
        if let Some(after) = page.after {
            conditions.push(format!("id < {}", p.push(after)));
        }
        if let Some(s) = status {
            conditions.push(format!("status = {}", p.push(s.as_str())));
        }
        let where_sql =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!("SELECT {JOB_COLS} FROM jobs {where_sql} ORDER BY id DESC LIMIT {}", limit + 1);
        let items = self.fetch(&sql, p.values).await?.iter().map(job).collect::<Result<Vec<_>>>()?;
        Ok(page_by_id(items, limit, |j: &Job| j.id.0))
    }

    async fn retry_job(&self, id: JobId, now: Millis) -> Result<bool> {
        let n = self
            .execute(
                "UPDATE jobs SET status = 'queued', run_at = $1, attempts = 0, finished_at = NULL WHERE id = $2 AND status = 'dead'",
                vec![now.into(), id.0.into()],
            )
            .await?;
        Ok(n == 1)
    }

    async fn delete_done_jobs(&self, before: Millis) -> Result<u64> {
        self.execute("DELETE FROM jobs WHERE status = 'done' AND finished_at < $1", vec![before.into()]).await
    }

    async fn ensure_schedule(&self, s: &Schedule) -> Result<()> {
        self.execute(
            "INSERT INTO schedules (name, kind, payload, every_ms, next_run_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, payload = excluded.payload, every_ms = excluded.every_ms",
            vec![s.name.clone().into(), s.kind.clone().into(), to_json(&s.payload).into(), s.every_ms.into(), s.next_run_at.into()],
        )
        .await
        .map(|_| ())
    }

    async fn schedules(&self) -> Result<Vec<Schedule>> {
        self.fetch("SELECT name, kind, payload, every_ms, next_run_at FROM schedules ORDER BY name", vec![])
            .await?
            .iter()
            .map(schedule)
            .collect()
    }

    async fn advance_schedule(&self, name: &str, due: Millis, next: Millis, j: NewJob) -> Result<bool> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE schedules SET next_run_at = $1 WHERE name = $2 AND next_run_at = $3",
                vec![next.into(), name.to_string().into(), due.into()],
            )
            .await?;
        if n != 1 {
            return Ok(false);
        }
        insert_job(tx.as_mut(), j).await?;
        tx.commit().await?;
        Ok(true)
    }
}
