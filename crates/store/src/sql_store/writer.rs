//! Group commit for backends with a single writer (SQLite): concurrent
//! ticket creations queue here and are written together, in one
//! transaction with a fixed number of statements, instead of one after the
//! other each with its own. If a batch fails, each of its creations is
//! retried alone, so one bad request never fails another.

use domain::TicketId;
use tokio::sync::{mpsc, oneshot};

use super::SqlStore;
use super::idempotency;
use crate::{CreatedTicket, IdempotencyKey, Result, StoredTicket, TicketCreate};

/// Most creations written in one transaction.
const BATCH: usize = 64;

pub(crate) struct Job {
    pub new: TicketCreate,
    pub idem: Option<IdempotencyKey>,
    pub reply: oneshot::Sender<Result<CreatedTicket>>,
}

pub(crate) fn spawn(store: SqlStore) -> mpsc::Sender<Job> {
    let (tx, mut rx) = mpsc::channel::<Job>(4 * BATCH);
    tokio::spawn(async move {
        while let Some(first) = rx.recv().await {
            let mut jobs = vec![first];
            while jobs.len() < BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            if jobs.len() == 1 || store.write_batch(&mut jobs).await.is_err() {
                for job in jobs {
                    let result = store.create_alone(job.new, job.idem).await;
                    let _ = job.reply.send(result);
                }
            }
        }
    });
    tx
}

impl SqlStore {
    /// Writes all jobs in one transaction and answers them; on error answers
    /// none and leaves them for the caller to retry one by one.
    async fn write_batch(&self, jobs: &mut Vec<Job>) -> Result<()> {
        let mut tx = self.begin().await?;
        let mut outcomes: Vec<Option<CreatedTicket>> = Vec::with_capacity(jobs.len());
        let mut fresh = Vec::new();
        for job in jobs.iter() {
            let replayed = match &job.idem {
                Some(key) => idempotency::replayed(tx.as_mut(), key).await?,
                None => None,
            };
            match replayed {
                Some(id) => outcomes.push(Some(CreatedTicket { id: TicketId(id), replayed: true, stored: None })),
                None => {
                    outcomes.push(None);
                    fresh.push(job.new.clone());
                }
            }
        }
        let mut stored = self.insert_tickets(tx.as_mut(), &fresh).await?.into_iter();
        for (job, outcome) in jobs.iter().zip(outcomes.iter_mut()) {
            if outcome.is_none() {
                let s = stored.next().ok_or_else(|| crate::StoreError::Backend("batch lost a ticket".into()))?;
                let id = s.ticket.id;
                if let Some(key) = &job.idem {
                    idempotency::remember(tx.as_mut(), key, id.0, job.new.ticket.created_at).await?;
                }
                *outcome = Some(CreatedTicket { id, replayed: false, stored: complete(s, &job.new) });
            }
        }
        tx.commit().await?;
        for (job, outcome) in jobs.drain(..).zip(outcomes) {
            if let Some(created) = outcome {
                let _ = job.reply.send(Ok(created));
            }
        }
        Ok(())
    }
}

/// The stored ticket, unless its messages have attachments (not returned).
pub(crate) fn complete(stored: StoredTicket, new: &TicketCreate) -> Option<StoredTicket> {
    new.messages.iter().all(|m| m.attachment_ids.is_empty()).then_some(stored)
}
