//! A real IMAP server for the tests: Dovecot from Debian's packages
//! (`dovecot-imapd`), started per test in a directory of its own on a free
//! port, plain login, mail in Maildir. Without it the IMAP tests are
//! skipped, unless `SWITCHBOARD_TEST_SERVICES` is set (CI).

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const USER: &str = "support@desk.test";
pub const PASSWORD: &str = "secret";
static NEXT: AtomicU64 = AtomicU64::new(0);

pub struct Dovecot {
    pub port: u16,
    pub dir: PathBuf,
    child: Option<Child>,
    owner: (u32, u32),
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
        if std::env::var_os("SWITCHBOARD_KEEP_DOVECOT").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// uid and gid of a system user, from /etc/passwd.
fn system_user(name: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.split(':').next() == Some(name))?;
    let mut f = line.split(':').skip(2);
    Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
}

fn chown_all(path: &Path, (uid, gid): (u32, u32)) {
    let _ = std::os::unix::fs::chown(path, Some(uid), Some(gid));
    if let Ok(entries) = std::fs::read_dir(path) {
        for e in entries.flatten() {
            chown_all(&e.path(), (uid, gid));
        }
    }
}

impl Dovecot {
    pub async fn start() -> Option<Self> {
        if !Path::new("/usr/sbin/dovecot").exists() {
            assert!(
                std::env::var_os("SWITCHBOARD_TEST_SERVICES").is_none(),
                "SWITCHBOARD_TEST_SERVICES is set but Dovecot is missing (apt-get install dovecot-imapd)"
            );
            eprintln!("skipped: no Dovecot (apt-get install dovecot-imapd)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!(
            "sb-dovecot-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for d in ["run", "state", "home"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        // Dovecot never runs mail processes as root: as root, use its own user.
        let root = is_root();
        let (owner, user_settings) = if root {
            (system_user("dovecot").unwrap(), "uid=dovecot gid=dovecot".to_string())
        } else {
            let name = std::env::var("USER").unwrap();
            let ids = system_user(&name).unwrap();
            (ids, format!("uid={} gid={}", ids.0, ids.1))
        };
        let login_users = if root {
            String::new()
        } else {
            let name = std::env::var("USER").unwrap();
            format!("default_login_user = {name}\ndefault_internal_user = {name}\n")
        };
        let d = dir.display();
        let config = format!(
            "base_dir = {d}/run\nstate_dir = {d}/state\nlog_path = {d}/dovecot.log\nprotocols = imap\nlisten = 127.0.0.1\n\
             ssl = no\nfirst_valid_uid = 1\ndisable_plaintext_auth = no\nauth_mechanisms = plain login\n{login_users}\
             mail_location = maildir:{d}/home/%u/Maildir\n\
             passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN username_format=%u {d}/passwd\n}}\n\
             userdb {{\n  driver = static\n  args = {user_settings} home={d}/home/%u\n}}\n\
             service imap-login {{\n  inet_listener imap {{\n    address = 127.0.0.1\n    port = {port}\n  }}\n  \
             inet_listener imaps {{\n    port = 0\n  }}\n  chroot =\n}}\nservice anvil {{\n  chroot =\n}}\n\
             service stats {{\n  unix_listener stats-writer {{\n    mode = 0666\n  }}\n}}\n"
        );
        std::fs::write(dir.join("dovecot.conf"), config).unwrap();
        std::fs::write(dir.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}\n")).unwrap();
        std::fs::create_dir_all(dir.join("home").join(USER).join("Maildir").join("cur")).unwrap();
        std::fs::create_dir_all(dir.join("home").join(USER).join("Maildir").join("new")).unwrap();
        std::fs::create_dir_all(dir.join("home").join(USER).join("Maildir").join("tmp")).unwrap();
        let mut server = Self { port, dir, child: None, owner };
        server.run().await;
        Some(server)
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.join("home").join(USER).join("Maildir")
    }

    /// Starts (or restarts) the server and waits until it answers.
    pub async fn run(&mut self) {
        chown_all(&self.dir.join("home"), self.owner);
        let _ = std::fs::remove_file(self.dir.join("run").join("master.pid"));
        // Its own process group, so stopping it ends its login and mail
        // processes too (open connections drop, as in a crash).
        let child = Command::new("/usr/sbin/dovecot")
            .process_group(0)
            .args(["-F", "-c"])
            .arg(self.dir.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("Dovecot did not start: {}", std::fs::read_to_string(self.dir.join("dovecot.log")).unwrap_or_default());
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap();
        client.login(USER, PASSWORD).await.map_err(|(e, _)| e).unwrap()
    }

    /// Delivers messages into a folder, as the server would.
    pub async fn append(&self, folder: &str, messages: &[Vec<u8>]) {
        let mut s = self.session().await;
        for m in messages {
            s.append(folder, None, None, m).await.unwrap();
        }
        s.logout().await.unwrap();
    }

    pub async fn create_folder(&self, folder: &str) {
        let mut s = self.session().await;
        s.create(folder).await.unwrap();
        s.logout().await.unwrap();
    }

    /// The flags of each message in a folder, by UID.
    pub async fn flags(&self, folder: &str) -> Vec<(u32, Vec<String>)> {
        use futures::TryStreamExt;
        let mut s = self.session().await;
        let selected = s.select(folder).await.unwrap();
        let mut out: Vec<(u32, Vec<String>)> = if selected.exists == 0 {
            Vec::new()
        } else {
            s.uid_fetch("1:*", "(UID FLAGS)")
                .await
                .unwrap()
                .map_ok(|f| (f.uid.unwrap_or_default(), f.flags().map(|fl| format!("{fl:?}")).collect()))
                .try_collect()
                .await
                .unwrap()
        };
        s.logout().await.unwrap();
        out.sort();
        out
    }
}

/// Whether this process runs as root.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}
