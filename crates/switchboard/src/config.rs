//! Configuration: built-in defaults, then a TOML file, then `SWITCHBOARD_*`
//! environment variables (and `DATABASE_URL`), then command-line flags.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The commented default configuration (`switchboard config` prints it).
pub const DEFAULT_CONFIG: &str = include_str!("default-config.toml");

/// The settings, as named in the file and (upper-cased, with the
/// SWITCHBOARD_ prefix) in the environment.
const SETTINGS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "public_url",
    "log",
    "admin_email",
    "max_body_bytes",
    "max_attachment_bytes",
    "max_email_bytes",
    "smtp_url",
    "smtp_listen",
    "session_hours",
    "login_max_failures",
    "login_window_minutes",
    "job_lease_seconds",
    "job_batch",
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub log: String,
    pub admin_email: String,
    pub max_body_bytes: usize,
    pub max_attachment_bytes: usize,
    pub max_email_bytes: usize,
    pub smtp_url: Option<String>,
    pub smtp_listen: Option<String>,
    pub session_hours: i64,
    pub login_max_failures: i64,
    pub login_window_minutes: i64,
    pub job_lease_seconds: i64,
    pub job_batch: u32,
    /// Mailboxes kept as the file says (file only, see `mailboxes`).
    pub mailboxes: Vec<MailboxConfig>,
}

/// A `[[mailboxes]]` entry: created if missing, else updated, at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailboxConfig {
    pub address: String,
    pub name: String,
    /// The team its new tickets go to, by name.
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub auto_reply: Option<String>,
    #[serde(default)]
    pub imap: Option<web::api::mailboxes::ImapInput>,
}

impl Default for Config {
    fn default() -> Self {
        let web = web::Settings::default();
        Self {
            listen: web.listen,
            data_dir: PathBuf::from("./switchboard-data"),
            database_url: None,
            public_url: None,
            log: "info".into(),
            admin_email: "admin@switchboard.local".into(),
            max_body_bytes: web.max_body_bytes,
            max_attachment_bytes: web.max_attachment_bytes,
            max_email_bytes: web.max_email_bytes,
            smtp_url: None,
            smtp_listen: None,
            session_hours: web.session_hours,
            login_max_failures: web.login_max_failures,
            login_window_minutes: web.login_window_minutes,
            job_lease_seconds: web.job_lease_seconds,
            job_batch: web.job_batch,
            mailboxes: Vec::new(),
        }
    }
}

/// Values given on the command line; `None` leaves the configured value.
#[derive(Debug, Default, Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
}

impl Config {
    pub fn load(file: Option<&Path>, overrides: &Overrides) -> Result<Self, String> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(f) if !f.exists() => {
                return Err(format!("config file {} does not exist", f.display()));
            }
            Some(f) => figment = figment.merge(Toml::file(f)),
            None if Path::new("switchboard.toml").exists() => figment = figment.merge(Toml::file("switchboard.toml")),
            None => {}
        }
        figment = figment
            // Only our settings: other SWITCHBOARD_* variables (such as the
            // test suite's) are not configuration.
            .merge(Env::prefixed("SWITCHBOARD_").only(SETTINGS))
            .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database_url".into()))
            .merge(Serialized::defaults(overrides));
        let mut config: Config = figment.extract().map_err(|e| format!("configuration: {e}"))?;
        if config.database_url.as_deref().is_some_and(|u| u.trim().is_empty()) {
            config.database_url = None;
        }
        Ok(config)
    }

    pub fn sqlite_path(&self) -> PathBuf {
        self.data_dir.join("switchboard.db")
    }

    pub fn web_settings(&self) -> web::Settings {
        web::Settings {
            listen: self.listen.clone(),
            public_url: self.public_url.clone(),
            attachments_dir: self.data_dir.join("attachments"),
            max_body_bytes: self.max_body_bytes,
            max_attachment_bytes: self.max_attachment_bytes,
            max_email_bytes: self.max_email_bytes,
            smtp_url: self.smtp_url.clone(),
            smtp_listen: self.smtp_listen.clone(),
            session_hours: self.session_hours,
            login_max_failures: self.login_max_failures,
            login_window_minutes: self.login_window_minutes,
            job_lease_seconds: self.job_lease_seconds,
            job_batch: self.job_batch,
            ..web::Settings::default()
        }
    }

    /// Where the data lives, for messages (never prints a password).
    pub fn describe_storage(&self) -> String {
        match &self.database_url {
            Some(url) => format!("PostgreSQL ({})", without_password(url)),
            None => format!("SQLite ({})", self.sqlite_path().display()),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user@host/db`.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((creds, host)) => format!("{scheme}://{}@{host}", creds.split(':').next().unwrap_or_default()),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commented_default_is_the_default() {
        let parsed: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::string(DEFAULT_CONFIG))
            .extract()
            .unwrap();
        assert_eq!(parsed, Config::default());
        let only_file: Config = toml_only(DEFAULT_CONFIG);
        assert_eq!(only_file, Config::default());
    }

    fn toml_only(s: &str) -> Config {
        Figment::from(Toml::string(s)).extract().unwrap()
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(without_password("postgres://sb:secret@db/x"), "postgres://sb@db/x");
        assert_eq!(without_password("postgres://db/x"), "postgres://db/x");
    }

    #[test]
    fn every_setting_can_come_from_the_environment() {
        // Lists of tables (mailboxes) come from the file only.
        let names: Vec<String> = serde_json::to_value(Config::default())
            .unwrap()
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.as_str() != "mailboxes")
            .cloned()
            .collect();
        let mut known: Vec<String> = SETTINGS.iter().map(|s| s.to_string()).collect();
        known.sort();
        let mut names = names;
        names.sort();
        assert_eq!(names, known);
    }

    #[test]
    fn unknown_keys_are_refused() {
        let r: Result<Config, _> = Figment::from(Toml::string("listn = \"x\"")).extract();
        assert!(r.is_err());
    }
}
