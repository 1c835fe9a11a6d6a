//! Fetching mailboxes from IMAP servers (async-imap). Each mailbox is held
//! by one node at a time (a lease in storage). A session selects the
//! folder, files every message after the stored UID (`UID n:*`, so a big
//! mailbox is never read again; a new UIDVALIDITY starts over, and the
//! exactly-once filing keeps that harmless), marks what it filed (`\Seen`,
//! or moves it), stores the new UID, then waits with IDLE (or polls) for
//! more. A failure is recorded on the mailbox (state, error, count) and it
//! is tried again after a pause that doubles up to 15 minutes: no busy
//! loop, and one broken mailbox never holds up another.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Arc;
use std::time::Duration;

use domain::{AfterFetch, FetchState, ImapSecurity, ImapSettings, Mailbox, MailboxId, Millis};
use futures::TryStreamExt;
use store::{MailboxFetch, StoreError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::{Inbox, IngestError};

/// How long a node holds a mailbox without renewing.
const LEASE_MS: Millis = 5 * 60_000;
/// IDLE is re-issued this often (servers drop it after 30 minutes), which
/// also renews the lease.
const IDLE_FOR: Duration = Duration::from_secs(120);
/// Messages fetched per `UID FETCH`.
const CHUNK: usize = 25;
/// Longest pause after failures.
const MAX_PAUSE_MS: Millis = 15 * 60_000;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How often the fetcher looks for mailboxes to start or restart.
const SUPERVISE_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("connecting to {0}")]
    Connect(String),
    #[error("IMAP: {0}")]
    Imap(String),
    #[error("filing: {0}")]
    Ingest(#[from] IngestError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("another node took the mailbox")]
    LeaseLost,
    #[error("the mailbox has no IMAP account")]
    NotConfigured,
}

impl From<async_imap::error::Error> for FetchError {
    fn from(e: async_imap::error::Error) -> Self {
        FetchError::Imap(e.to_string())
    }
}

trait ImapIo: AsyncRead + AsyncWrite + Unpin + Send + Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Debug> ImapIo for T {}
type Session = async_imap::Session<Box<dyn ImapIo>>;

async fn tls(host: &str, tcp: TcpStream) -> Result<tokio_rustls::client::TlsStream<TcpStream>, FetchError> {
    use tokio_rustls::rustls;
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| FetchError::Connect(format!("{host}: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from(host.to_string())
        .map_err(|e| FetchError::Connect(format!("{host}: {e}")))?;
    tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| FetchError::Connect(format!("{host}: TLS: {e}")))
}

/// Connects and signs in.
async fn connect(s: &ImapSettings, password: &str) -> Result<Session, FetchError> {
    let at = format!("{}:{}", s.host, s.port);
    let tcp = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect((s.host.as_str(), s.port)))
        .await
        .map_err(|_| FetchError::Connect(format!("{at}: timed out")))?
        .map_err(|e| FetchError::Connect(format!("{at}: {e}")))?;
    let stream: Box<dyn ImapIo> = match s.security {
        ImapSecurity::Plain => Box::new(tcp),
        ImapSecurity::Tls => Box::new(tls(&s.host, tcp).await?),
        ImapSecurity::Starttls => {
            let mut client = async_imap::Client::new(tcp);
            client.read_response().await.map_err(|e| FetchError::Connect(format!("{at}: {e}")))?;
            client.run_command_and_check_ok("STARTTLS", None).await?;
            Box::new(tls(&s.host, client.into_inner()).await?)
        }
    };
    let mut client = async_imap::Client::new(stream);
    if s.security != ImapSecurity::Starttls {
        // The server's greeting.
        client.read_response().await.map_err(|e| FetchError::Connect(format!("{at}: {e}")))?;
    }
    client.login(&s.username, password).await.map_err(|(e, _)| FetchError::Imap(format!("signing in: {e}")))
}

/// Fetches mailboxes. Cheap to clone.
#[derive(Clone)]
pub struct Fetcher {
    pub inbox: Inbox,
    /// This node's name in leases.
    pub holder: String,
    /// The first pause after a failure; it doubles with each failure in a
    /// row, up to 15 minutes.
    pub retry_base: Duration,
}

/// What one pass over a folder did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    pub filed: usize,
}

impl Fetcher {
    fn store(&self) -> &dyn store::Store {
        self.inbox.store.as_ref()
    }

    /// Files every message after the stored UID, marking each on the server
    /// and saving the UID as it goes.
    async fn pass(
        &self,
        session: &mut Session,
        mailbox: &Mailbox,
        state: &mut MailboxFetch,
        now: &(dyn Fn() -> Millis + Send + Sync),
    ) -> Result<Pass, FetchError> {
        let s = mailbox.imap.as_ref().ok_or(FetchError::NotConfigured)?;
        let selected = session.select(&s.folder).await?;
        let validity = selected.uid_validity.map(i64::from);
        if validity != state.uid_validity {
            // A new numbering: read all again (filing is exactly once).
            state.uid_validity = validity;
            state.last_uid = 0;
        }
        let mut uids: Vec<u32> = session
            .uid_search(format!("UID {}:*", state.last_uid + 1))
            .await?
            .into_iter()
            .filter(|u| i64::from(*u) > state.last_uid)
            .collect();
        uids.sort_unstable();
        let mut pass = Pass::default();
        for chunk in uids.chunks(CHUNK) {
            let set = chunk.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
            let mut fetched: Vec<(u32, Vec<u8>)> = session
                .uid_fetch(&set, "(UID BODY.PEEK[])")
                .await?
                .map_ok(|f| (f.uid.unwrap_or_default(), f.body().unwrap_or_default().to_vec()))
                .try_collect()
                .await?;
            fetched.sort_by_key(|(uid, _)| *uid);
            let mut filed = Vec::new();
            let mut failed = None;
            for (uid, raw) in fetched.into_iter().filter(|(uid, _)| *uid > 0) {
                match self.inbox.ingest(mailbox, &raw, now()).await {
                    Ok(_) => {
                        filed.push(uid);
                        state.last_uid = i64::from(uid);
                        state.fetched += 1;
                    }
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            if !filed.is_empty() {
                self.mark(session, s, &filed).await?;
                pass.filed += filed.len();
                if !self.store().save_fetch(mailbox.id, &self.holder, state, Some(now() + LEASE_MS)).await? {
                    return Err(FetchError::LeaseLost);
                }
            }
            if let Some(e) = failed {
                return Err(e.into());
            }
        }
        Ok(pass)
    }

    /// Marks filed mail on the server: `\Seen`, or moved.
    async fn mark(&self, session: &mut Session, s: &ImapSettings, uids: &[u32]) -> Result<(), FetchError> {
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        match (s.after_fetch, s.move_to.as_deref()) {
            (AfterFetch::Move, Some(folder)) => session.uid_mv(&set, folder).await?,
            _ => {
                let _: Vec<_> = session.uid_store(&set, "+FLAGS.SILENT (\\Seen)").await?.try_collect().await?;
            }
        }
        Ok(())
    }

    /// One connection to a mailbox: passes, then waits for mail (IDLE, or
    /// polling) until stopped, the settings change, or something fails.
    async fn session(
        &self,
        mailbox: Mailbox,
        now: Arc<dyn Fn() -> Millis + Send + Sync>,
        mut stop: watch::Receiver<bool>,
    ) -> Result<(), FetchError> {
        let s = mailbox.imap.clone().ok_or(FetchError::NotConfigured)?;
        let password = mailbox.imap_password.clone().unwrap_or_default();
        let mut state = self.store().mailbox_fetch(mailbox.id).await?;
        let mut session = connect(&s, &password).await?;
        let idle = session.capabilities().await?.has_str("IDLE");
        loop {
            self.pass(&mut session, &mailbox, &mut state, now.as_ref()).await?;
            state.state = FetchState::Ok;
            state.last_ok_at = Some(now());
            state.last_error = None;
            state.failures = 0;
            if !self.store().save_fetch(mailbox.id, &self.holder, &state, Some(now() + LEASE_MS)).await? {
                return Err(FetchError::LeaseLost);
            }
            if idle {
                let mut waiting = session.idle();
                waiting.init().await?;
                let (wait, interrupt) = waiting.wait_with_timeout(IDLE_FOR);
                tokio::select! {
                    r = wait => { r?; }
                    _ = stop.wait_for(|s| *s) => { drop(interrupt); }
                }
                session = waiting.done().await?;
            } else {
                let poll = Duration::from_secs(u64::from(s.poll_seconds.max(5)));
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = stop.wait_for(|s| *s) => {}
                }
            }
            let fresh = self.store().mailbox(mailbox.id).await?;
            if *stop.borrow() || fresh.as_ref() != Some(&mailbox) {
                // Stopping, or an admin changed the mailbox: start afresh.
                let _ = session.logout().await;
                return Ok(());
            }
        }
    }

    /// Records a failed session and when to try again.
    async fn failed(&self, id: MailboxId, error: &FetchError, now: Millis) -> Result<(), StoreError> {
        let mut state = self.store().mailbox_fetch(id).await?;
        state.state = FetchState::Failing;
        state.failures += 1;
        state.last_error = Some(error.to_string());
        let base = i64::try_from(self.retry_base.as_millis()).unwrap_or(MAX_PAUSE_MS);
        state.next_try_at = now + (base << (state.failures - 1).clamp(0, 20)).min(MAX_PAUSE_MS);
        tracing::warn!(mailbox = id.0, error = %error, failures = state.failures, "fetching mail failed");
        self.store().save_fetch(id, &self.holder, &state, None).await.map(|_| ())
    }

    /// Starts a session for every active IMAP mailbox this node can take and
    /// is due, and again after it ends; until `stop` turns true.
    pub async fn run(self, now: Arc<dyn Fn() -> Millis + Send + Sync>, mut stop: watch::Receiver<bool>) {
        let mut running: HashMap<MailboxId, JoinHandle<()>> = HashMap::new();
        loop {
            running.retain(|_, task| !task.is_finished());
            match self.store().mailboxes().await {
                Ok(mailboxes) => {
                    for m in mailboxes.into_iter().filter(|m| m.active && m.imap.is_some()) {
                        if running.contains_key(&m.id) {
                            continue;
                        }
                        if let Some(task) = self.start(m, now.clone(), stop.clone()).await {
                            running.insert(task.0, task.1);
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "listing mailboxes to fetch"),
            }
            tokio::select! {
                _ = tokio::time::sleep(SUPERVISE_EVERY) => {}
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        for (_, task) in running {
            let _ = task.await;
        }
    }

    /// Takes the mailbox if it is due and free, and runs a session for it.
    async fn start(
        &self,
        m: Mailbox,
        now: Arc<dyn Fn() -> Millis + Send + Sync>,
        stop: watch::Receiver<bool>,
    ) -> Option<(MailboxId, JoinHandle<()>)> {
        let at = now();
        let state = self.store().mailbox_fetch(m.id).await.ok()?;
        if state.next_try_at > at || !self.store().claim_fetch(m.id, &self.holder, at, at + LEASE_MS).await.ok()? {
            return None;
        }
        let fetcher = self.clone();
        let id = m.id;
        let task = tokio::spawn(async move {
            match fetcher.session(m, now.clone(), stop).await {
                Ok(()) => {
                    if let Ok(state) = fetcher.store().mailbox_fetch(id).await {
                        let _ = fetcher.store().save_fetch(id, &fetcher.holder, &state, None).await;
                    }
                }
                Err(FetchError::LeaseLost) => {}
                Err(e) => {
                    if let Err(store) = fetcher.failed(id, &e, now()).await {
                        tracing::error!(mailbox = id.0, error = %store, "recording a fetch failure");
                    }
                }
            }
        });
        Some((id, task))
    }
}

/// Signs in and files what is new once: for tests and `bench`.
pub async fn fetch_once(fetcher: &Fetcher, mailbox: &Mailbox, now: Millis) -> Result<Pass, FetchError> {
    let s = mailbox.imap.as_ref().ok_or(FetchError::NotConfigured)?;
    if !fetcher.store().claim_fetch(mailbox.id, &fetcher.holder, now, now + LEASE_MS).await? {
        return Err(FetchError::LeaseLost);
    }
    let mut state = fetcher.store().mailbox_fetch(mailbox.id).await?;
    let mut session = connect(s, mailbox.imap_password.as_deref().unwrap_or_default()).await?;
    let pass = fetcher.pass(&mut session, mailbox, &mut state, &move || now).await?;
    state.state = FetchState::Ok;
    state.last_ok_at = Some(now);
    fetcher.store().save_fetch(mailbox.id, &fetcher.holder, &state, None).await?;
    let _ = session.logout().await;
    Ok(pass)
}
