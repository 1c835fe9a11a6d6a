//! Group commit for backends with a single writer (SQLite): concurrent
//! ticket creations queue here and are written together, in one
//! transaction with a fixed number of statements, instead of one after the
//! other each with its own. The writer runs on a thread of its own with a
//! connection it owns, so a batch's statements run one after the other
//! without handing each to a driver thread and waiting for the answer. If
//! a batch fails, each of its creations is retried alone, so one bad
//! request never fails another.

use domain::TicketId;
use domain::kpi::MeasuredTicket;
use tokio::runtime::Handle;
use tokio::sync::{mpsc, oneshot};

use super::SqlStore;
use super::idempotency;
use crate::{CreatedTicket, IdempotencyKey, OwnedWriter, PreparedImport, Result, StoredTicket, TicketCreate};

/// Most creations written in one transaction.
const BATCH: usize = 64;

pub(crate) struct Job {
    pub new: TicketCreate,
    pub idem: Option<IdempotencyKey>,
    pub reply: oneshot::Sender<Result<CreatedTicket>>,
}

/// What the writer is asked to do: a creation (grouped with others), an
/// import of many tickets or of survey answers in one transaction of its
/// own, or tickets' measured rows for the KPI rollup
/// (`KpiStore::save_measures_many`).
pub(crate) enum Work {
    Create(Box<Job>),
    Import { page: PreparedImport, reply: oneshot::Sender<Result<Vec<TicketId>>> },
    Measures { items: Vec<MeasuredTicket>, reply: oneshot::Sender<Result<usize>> },
    MeasuresUntallied { items: Vec<MeasuredTicket>, reply: oneshot::Sender<Result<super::kpi::UntalliedMeasures>> },
    Rebuilt { prepared: Box<super::kpi_cells::PreparedTally>, complete: bool, reply: oneshot::Sender<Result<()>> },
    Answers { answers: Vec<crate::ImportedAnswer>, reply: oneshot::Sender<Result<usize>> },
}

/// Starts the writer thread; `None` if there is no runtime to drive it or
/// the thread cannot start (then creations write on their own).
pub(crate) fn spawn(store: SqlStore, mut own: Box<dyn OwnedWriter>) -> Option<mpsc::Sender<Work>> {
    let handle = Handle::try_current().ok()?;
    let (tx, mut rx) = mpsc::channel::<Work>(4 * BATCH);
    let run = move || {
        let mut next = None;
        while let Some(work) = next.take().or_else(|| rx.blocking_recv()) {
            let first = match work {
                Work::Create(job) => *job,
                Work::Import { page, reply } => {
                    let _ = reply.send(handle.block_on(store.import_batch(own.as_mut(), page)));
                    continue;
                }
                Work::Answers { answers, reply } => {
                    let _ = reply.send(handle.block_on(store.import_answers_here(own.as_mut(), answers)));
                    continue;
                }
                Work::Measures { items, reply } => {
                    let saved = own.begin().map(|tx| handle.block_on(store.save_measures_in(tx, &items)));
                    let _ = reply.send(saved.and_then(|r| r));
                    continue;
                }
                Work::MeasuresUntallied { items, reply } => {
                    let saved = own.begin().map(|tx| handle.block_on(store.save_untallied_in(tx, &items)));
                    let _ = reply.send(saved.and_then(|r| r));
                    continue;
                }
                Work::Rebuilt { prepared, complete, reply } => {
                    let added = own.begin().map(|tx| handle.block_on(store.add_rebuilt_in(tx, *prepared, complete)));
                    let _ = reply.send(added.and_then(|r| r));
                    continue;
                }
            };
            let mut jobs = vec![first];
            while jobs.len() < BATCH {
                match rx.try_recv() {
                    Ok(Work::Create(job)) => jobs.push(*job),
                    Ok(import) => {
                        next = Some(import);
                        break;
                    }
                    Err(_) => break,
                }
            }
            handle.block_on(async {
                let refs: Vec<&Job> = jobs.iter().collect();
                let results = match store.write_batch(own.as_mut(), &refs).await {
                    Ok(created) => created.into_iter().map(Ok).collect(),
                    Err(e) if jobs.len() == 1 => vec![Err(e)],
                    Err(_) => {
                        let mut one_by_one = Vec::with_capacity(jobs.len());
                        for job in &jobs {
                            one_by_one.push(store.write_batch(own.as_mut(), &[job]).await.and_then(single));
                        }
                        one_by_one
                    }
                };
                for (job, result) in jobs.drain(..).zip(results) {
                    let _ = job.reply.send(result);
                }
            });
        }
    };
    std::thread::Builder::new().name("ticket-writer".into()).spawn(run).ok()?;
    Some(tx)
}

fn single(mut created: Vec<CreatedTicket>) -> Result<CreatedTicket> {
    created.pop().ok_or_else(|| crate::StoreError::Backend("batch lost a ticket".into()))
}

/// Hands `work` to the writer thread and waits for its answer.
pub(crate) async fn ask<T>(
    writer: &mpsc::Sender<Work>,
    work: impl FnOnce(oneshot::Sender<Result<T>>) -> Work,
) -> Result<T> {
    let stopped = || crate::StoreError::Backend("the ticket writer stopped".into());
    let (reply, answer) = oneshot::channel();
    writer.send(work(reply)).await.map_err(|_| stopped())?;
    answer.await.map_err(|_| stopped())?
}

impl SqlStore {
    /// Stores an import in one transaction on the writer's connection.
    async fn import_batch(&self, own: &mut dyn OwnedWriter, page: PreparedImport) -> Result<Vec<TicketId>> {
        let mut tx = own.begin()?;
        let ids = self.store_prepared(tx.as_mut(), page).await?;
        tx.commit().await?;
        Ok(ids)
    }

    /// Stores imported survey answers in one transaction on the writer's connection.
    async fn import_answers_here(
        &self,
        own: &mut dyn OwnedWriter,
        answers: Vec<crate::ImportedAnswer>,
    ) -> Result<usize> {
        let mut tx = own.begin()?;
        let stored = super::feedback::import_answers_in(tx.as_mut(), answers).await?;
        tx.commit().await?;
        Ok(stored)
    }

    /// Writes all jobs in one transaction; on error writes none.
    async fn write_batch(&self, own: &mut dyn OwnedWriter, jobs: &[&Job]) -> Result<Vec<CreatedTicket>> {
        let mut tx = own.begin()?;
        let mut outcomes: Vec<Option<CreatedTicket>> = Vec::with_capacity(jobs.len());
        let mut fresh = Vec::new();
        for job in jobs {
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
        let mut created = Vec::with_capacity(jobs.len());
        for (job, outcome) in jobs.iter().zip(outcomes) {
            let outcome = match outcome {
                Some(replayed) => replayed,
                None => {
                    let s = stored.next().ok_or_else(|| crate::StoreError::Backend("batch lost a ticket".into()))?;
                    let id = s.ticket.id;
                    if let Some(key) = &job.idem {
                        idempotency::remember(tx.as_mut(), key, id.0, job.new.ticket.created_at).await?;
                    }
                    CreatedTicket { id, replayed: false, stored: complete(s, &job.new) }
                }
            };
            created.push(outcome);
        }
        tx.commit().await?;
        Ok(created)
    }
}

/// The stored ticket, unless its messages have attachments (not returned).
pub(crate) fn complete(stored: StoredTicket, new: &TicketCreate) -> Option<StoredTicket> {
    new.messages.iter().all(|m| m.attachment_ids.is_empty()).then_some(stored)
}
