//! A real SMTP server to send to: Python's aiosmtpd (Debian's
//! `python3-aiosmtpd`), storing what it receives in a Maildir the tests
//! read. Without it the tests that need it are skipped, unless
//! `SWITCHBOARD_TEST_SERVICES` is set (CI), where that is a failure.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct SmtpSink {
    pub url: String,
    maildir: PathBuf,
    child: Child,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> Option<&'static str> {
    ["/usr/bin/python3", "python3"].into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

impl SmtpSink {
    pub async fn start() -> Option<Self> {
        let Some(python) = python() else {
            assert!(
                std::env::var_os("SWITCHBOARD_TEST_SERVICES").is_none(),
                "SWITCHBOARD_TEST_SERVICES is set but aiosmtpd is missing (apt-get install python3-aiosmtpd)"
            );
            eprintln!("skipped: no python3 with aiosmtpd");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let maildir = crate::support::temp_dir().join("maildir");
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Owned at once, so dropping it (on any path) stops the server.
        let sink = Self { url: format!("smtp://127.0.0.1:{port}"), maildir, child };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Some(sink);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    /// The messages received so far, oldest first.
    pub fn received(&self) -> Vec<String> {
        let mut files: Vec<(std::time::SystemTime, String, PathBuf)> = std::fs::read_dir(self.maildir.join("new"))
            .map(|d| {
                d.flatten()
                    .map(|e| {
                        let at = e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
                        (at, e.file_name().to_string_lossy().into_owned(), e.path())
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.into_iter().map(|(_, _, p)| std::fs::read_to_string(p).unwrap()).collect()
    }

    /// Waits until `n` messages arrived (the outbox is polled every second).
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..100 {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("expected {n} messages, got {}", self.received().len());
    }
}

/// A header's value, unfolded.
pub fn header(raw: &str, name: &str) -> String {
    let unfolded = raw.replace("\r\n", "\n").replace("\n ", " ").replace("\n\t", " ");
    unfolded
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no {name} header in\n{raw}"))
}
