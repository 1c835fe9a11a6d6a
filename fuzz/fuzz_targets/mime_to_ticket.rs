//! The whole inbound path, MIME bytes → ticket: parse, sanitize, thread and
//! store, on a SQLite store of its own. Whatever the bytes, filing must not
//! panic and must end as a stored message, a duplicate or a quarantine
//! entry, never as an error (storage is local and healthy here).
#![no_main]

use std::sync::{Arc, OnceLock};

use domain::{EmailAddress, Mailbox};
use libfuzzer_sys::fuzz_target;
use mail::{Inbox, Outcome};
use store::{MailStore, Store};

struct Desk {
    runtime: tokio::runtime::Runtime,
    inbox: Inbox,
    mailbox: Mailbox,
}

fn desk() -> &'static Desk {
    static DESK: OnceLock<Desk> = OnceLock::new();
    DESK.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let dir = std::env::temp_dir().join(format!("switchboard-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("files")).unwrap();
        let (inbox, mailbox) = runtime.block_on(async {
            let store = store_sqlite::open(&dir.join("fuzz.db")).await.unwrap();
            let mut mailbox = Mailbox::new(&EmailAddress::parse("support@desk.test").unwrap(), "Support", None, 0);
            mailbox.id = store.create_mailbox(mailbox.clone(), "token", None).await.unwrap().id;
            let files = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.join("files")).unwrap());
            let inbox = Inbox {
                store: Arc::new(store) as Arc<dyn Store>,
                files,
                secret: "fuzz".into(),
                max_attachment_bytes: 64 * 1024,
            };
            (inbox, mailbox)
        });
        Desk { runtime, inbox, mailbox }
    })
}

fuzz_target!(|raw: &[u8]| {
    let d = desk();
    let outcome = d.runtime.block_on(d.inbox.ingest(&d.mailbox, raw, 1_793_000_000_000));
    match outcome {
        Ok(Outcome::Stored { .. } | Outcome::Duplicate { .. } | Outcome::Quarantined { .. }) => {}
        Err(e) => panic!("filing failed: {e}"),
    }
});
