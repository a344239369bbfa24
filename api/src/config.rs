//! Configuration: one typed `Settings` struct read from `REISSUE_*` environment variables (a
//! `.env` file may set them too), with defaults that make a fresh checkout run.
//!
//! Every limit and budget of the code rules is a setting with a safe default, so an operator can
//! tune it and a load test on loopback can lift the per-client-address limit.

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use rand::RngCore;

/// A secret that never shows in `Debug` or logs.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wraps key material.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The key material; call only where the key is used.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

/// Shortest accepted `REISSUE_SECRET_KEY`, in bytes (256 bits).
pub const MIN_SECRET_KEY_LENGTH: usize = 32;

/// Which storage backend a database URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL (production).
    Postgres,
}

/// Where the database is.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// Wraps a URL or SQLite path.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// `postgres://` or `postgresql://` selects PostgreSQL; anything else is a SQLite path
    /// (an optional `sqlite://` prefix is removed).
    pub fn backend(&self) -> Backend {
        if self.0.starts_with("postgres://") || self.0.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }

    /// The string handed to the driver.
    pub fn connection_string(&self) -> &str {
        self.0.strip_prefix("sqlite://").unwrap_or(&self.0)
    }
}

// The URL may carry a password: show only the backend and, for SQLite, the file.
impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.backend() {
            Backend::Sqlite => write!(f, "sqlite:{}", self.connection_string()),
            Backend::Postgres => f.write_str("postgres://[redacted]"),
        }
    }
}

/// The limits of the code rules (DESIGN.md "Rules the server enforces").
#[derive(Debug, Clone)]
pub struct Limits {
    /// Lifetime of a code (manual step 7: 30 minutes).
    pub code_ttl: Duration,
    /// Wrong tries that kill a code.
    pub code_max_attempts: u32,
    /// Codes one application may receive.
    pub codes_per_application: u32,
    /// Shortest gap between two codes of one application.
    pub resend_interval: Duration,
    /// Codes mailed for one office number within `budget_window`, across applications.
    pub codes_per_office: u32,
    /// Codes mailed to one address within `budget_window`, across applications.
    pub codes_per_email: u32,
    /// Wrong codes entered for one office number within `budget_window`.
    pub wrong_codes_per_office: u32,
    /// Wrong codes entered for applications of one address within `budget_window`.
    pub wrong_codes_per_email: u32,
    /// Window of the office and address budgets.
    pub budget_window: Duration,
    /// Applications created, codes requested and codes entered by one client address within
    /// `client_window`.
    pub requests_per_client: u32,
    /// Window of the per-client limit.
    pub client_window: Duration,
    /// How long an application may stay unsubmitted.
    pub application_ttl: Duration,
    /// Failed reviewer logins in a row that lock the account.
    pub reviewer_max_failed_logins: u32,
    /// How long a locked reviewer account stays locked.
    pub reviewer_lock: Duration,
    /// Lifetime of a reviewer's session (a working day), however active.
    pub reviewer_session_ttl: Duration,
    /// Lifetime of an office's session, however active.
    pub office_session_ttl: Duration,
    /// A session unused for this long ends (reviewers and offices).
    pub session_idle: Duration,
    /// Wrong passwords in a row that lock an office's user ID (the real system's 3).
    pub office_max_failed_logins: u32,
    /// How long a locked user ID stays locked (the real system's 30 minutes).
    pub office_lock: Duration,
    /// Login attempts (office and reviewer) one client address may make per `login_window`.
    pub logins_per_client: u32,
    /// Login attempts of all clients together per `login_window`.
    pub logins_global: u32,
    /// The login throttles' window.
    pub login_window: Duration,
    /// Threads that run argon2 (each hash holds 19 MiB while it runs).
    pub password_threads: usize,
    /// Password checks that may wait for a thread; more are answered 503 at once.
    pub password_queue: usize,
    /// `REISSUE_RETENTION_DAYS`: days after an application ended (approved and posted,
    /// rejected, withdrawn, expired) until its personal data is erased (`domain::retention`).
    pub retention_days: u32,
}

/// The longest retention a setting may ask for: ten years. A longer one is almost surely a
/// typo (days taken for hours), and would keep personal data for a generation.
pub const MAX_RETENTION_DAYS: u32 = 3650;

impl Default for Limits {
    fn default() -> Self {
        Self {
            code_ttl: Duration::from_secs(30 * 60),
            code_max_attempts: 5,
            codes_per_application: 3,
            resend_interval: Duration::from_secs(60),
            codes_per_office: 10,
            codes_per_email: 10,
            wrong_codes_per_office: 20,
            wrong_codes_per_email: 20,
            budget_window: Duration::from_secs(24 * 60 * 60),
            requests_per_client: 60,
            client_window: Duration::from_secs(60 * 60),
            application_ttl: Duration::from_secs(2 * 60 * 60),
            reviewer_max_failed_logins: 5,
            reviewer_lock: Duration::from_secs(15 * 60),
            reviewer_session_ttl: Duration::from_secs(8 * 60 * 60),
            office_session_ttl: Duration::from_secs(30 * 60),
            session_idle: Duration::from_secs(30 * 60),
            office_max_failed_logins: 3,
            office_lock: Duration::from_secs(30 * 60),
            logins_per_client: 20,
            logins_global: 1000,
            login_window: Duration::from_secs(60),
            password_threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
            password_queue: 64,
            retention_days: 365,
        }
    }
}

/// Mail delivery settings.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `REISSUE_SMTP_URL`, where mail is sent.
    pub smtp_url: Option<SmtpUrl>,
    /// `REISSUE_DEV_MAILBOX` (or `serve --demo`): without SMTP, keep mail in the development
    /// mailbox, readable by loopback clients at `/api/dev/messages`. Off by default: an
    /// operator who forgets `REISSUE_SMTP_URL` gets a server that refuses to start, not one
    /// that publishes every code.
    pub dev_mailbox: bool,
    /// Sender address.
    pub from: String,
    /// Delivery tries before a message is marked failed.
    pub max_attempts: u32,
    /// First retry delay; doubles with every failed try.
    pub retry_base: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// How often the worker looks for due mail when nothing wakes it.
    pub poll_interval: Duration,
}

/// An SMTP URL, which may hold credentials.
#[derive(Clone)]
pub struct SmtpUrl(pub String);

impl fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SmtpUrl([redacted])")
    }
}

/// All configuration of the service.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `REISSUE_BIND`.
    pub bind: SocketAddr,
    /// `REISSUE_DATABASE_URL`.
    pub database_url: DatabaseUrl,
    /// Folder for the SQLite file and the generated secret key.
    pub data_dir: PathBuf,
    /// `REISSUE_SECRET_KEY`: the root of every key (session tokens, stored hashes, sealing).
    pub secret_key: Secret,
    /// `REISSUE_PREVIOUS_SECRET_KEYS`: secrets replaced by a rotation, newest first; what they
    /// made is still accepted until it expires.
    pub previous_secret_keys: Vec<Secret>,
    /// Mail delivery.
    pub mail: MailSettings,
    /// The code rules' limits.
    pub limits: Limits,
    /// How often unsubmitted applications past their lifetime are marked expired.
    pub sweep_interval: Duration,
    /// Database connections per instance.
    pub database_pool_size: u32,
    /// `REISSUE_TRUSTED_PROXIES`: the proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Folder with the built browser app (`index.html`), served at `/` when present.
    pub web_dir: PathBuf,
    /// `REISSUE_HSTS`: send `Strict-Transport-Security` (only behind TLS).
    pub hsts: bool,
    /// `REISSUE_METRICS_BIND`: where `/metrics` is served, apart from the public port (`off`:
    /// nowhere).
    pub metrics_bind: Option<SocketAddr>,
    /// `REISSUE_FOUR_EYES` (default on): an approval waits for a second reviewer of the
    /// prefecture before any temporary password exists, and so does printing a posted notice
    /// again. Off: one reviewer's approval issues at once.
    pub four_eyes: bool,
    /// `REISSUE_NOTICE_FONT`: the Japanese font of the PDF notices (`routes::notice_pdf`), a
    /// TrueType/OpenType file or collection; of a collection the Japanese (`JP`) face is used.
    pub notice_font: PathBuf,
}

/// The PDF notices' font unless `REISSUE_NOTICE_FONT` says otherwise: Noto Sans CJK of
/// Debian's `fonts-noto-cjk` (tools.env's DEBIAN_PACKAGES, installed by `./dev`).
pub const DEFAULT_NOTICE_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";

/// Where `/metrics` listens unless `REISSUE_METRICS_BIND` says otherwise: loopback, on the
/// port Prometheus exporters commonly take, so that only the machine itself (or a scraper an
/// operator points at a bind address of their choosing) reads it.
pub const DEFAULT_METRICS_BIND: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 9464);

/// A setting that could not be used; names the variable.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The value does not parse.
    #[error("{variable}: {message}")]
    Invalid {
        /// The environment variable.
        variable: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The data folder or key file could not be used.
    #[error("{variable}: {source}")]
    Io {
        /// The environment variable it relates to.
        variable: &'static str,
        /// The cause.
        source: std::io::Error,
    },
}

/// The load balancers and reverse proxies in front of the service (`REISSUE_TRUSTED_PROXIES`:
/// addresses or CIDRs, separated by commas or spaces). Only a request whose TCP peer is one of
/// them has its `X-Forwarded-For` read, and then the client is the right-most entry that is not
/// one of them: entries further left were written by the client and prove nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ipnet::IpNet>);

impl TrustedProxies {
    /// Parses the setting's text.
    pub fn parse(text: &str) -> Result<Self, String> {
        text.split([',', ' ', '\t', '\n'])
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| format!("{entry:?} is neither an IP address nor a CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// Whether `address` is one of the proxies (an IPv4-mapped IPv6 address as its IPv4).
    pub fn contains(&self, address: std::net::IpAddr) -> bool {
        let address = address.to_canonical();
        self.0.iter().any(|net| net.contains(&address))
    }

    /// Whether any proxy is configured.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `REISSUE_TRUSTED_PROXIES`, and the refusal of the setting it replaced: believing
/// `X-Forwarded-For` from any peer let every client choose its own address.
fn trusted_proxies(env: &Reader<'_>) -> Result<TrustedProxies, SettingsError> {
    if env.parse("REISSUE_TRUST_FORWARDED_FOR", false)? {
        return Err(SettingsError::Invalid {
            variable: "REISSUE_TRUST_FORWARDED_FOR",
            message: "is replaced by REISSUE_TRUSTED_PROXIES: set it to the load balancers' \
                      addresses or CIDRs (e.g. 10.0.0.0/24) and remove this setting"
                .into(),
        });
    }
    env.string("REISSUE_TRUSTED_PROXIES")
        .map_or(Ok(TrustedProxies::default()), |text| {
            TrustedProxies::parse(&text).map_err(|message| SettingsError::Invalid {
                variable: "REISSUE_TRUSTED_PROXIES",
                message,
            })
        })
}

/// `REISSUE_METRICS_BIND`: an address and port, or `off`.
fn metrics_bind(env: &Reader<'_>) -> Result<Option<SocketAddr>, SettingsError> {
    match env.string("REISSUE_METRICS_BIND") {
        None => Ok(Some(DEFAULT_METRICS_BIND)),
        Some(text) if text.trim().eq_ignore_ascii_case("off") => Ok(None),
        Some(_) => env
            .parse("REISSUE_METRICS_BIND", DEFAULT_METRICS_BIND)
            .map(Some),
    }
}

/// Reads one variable through a lookup function (the environment, or a map in tests).
struct Reader<'a> {
    lookup: &'a dyn Fn(&str) -> Option<String>,
}

impl Reader<'_> {
    fn string(&self, variable: &str) -> Option<String> {
        (self.lookup)(variable).filter(|v| !v.trim().is_empty())
    }

    fn parse<T: FromStr>(&self, variable: &'static str, default: T) -> Result<T, SettingsError>
    where
        T::Err: fmt::Display,
    {
        match self.string(variable) {
            None => Ok(default),
            Some(raw) => raw
                .trim()
                .parse()
                .map_err(|e: T::Err| SettingsError::Invalid {
                    variable,
                    message: format!("cannot use {raw:?}: {e}"),
                }),
        }
    }

    fn seconds(
        &self,
        variable: &'static str,
        default: Duration,
    ) -> Result<Duration, SettingsError> {
        self.parse(variable, default.as_secs())
            .map(Duration::from_secs)
    }

    fn millis(&self, variable: &'static str, default: Duration) -> Result<Duration, SettingsError> {
        let millis = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
        self.parse(variable, millis).map(Duration::from_millis)
    }
}

impl Settings {
    /// Reads the process environment (after loading `.env` when present).
    pub fn from_env() -> Result<Self, SettingsError> {
        // A missing .env is normal; a malformed one is reported by the variables it breaks.
        let _ = dotenvy::dotenv();
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`; creates the data folder and, when no key is configured,
    /// a persistent generated key in it.
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let env = Reader { lookup };
        let data_dir: PathBuf = env.parse("REISSUE_DATA_DIR", PathBuf::from("data"))?;
        let database_url = match env.string("REISSUE_DATABASE_URL") {
            Some(url) => DatabaseUrl::new(url.trim()),
            None => DatabaseUrl::new(data_dir.join("reissue.sqlite3").to_string_lossy()),
        };
        if database_url.backend() == Backend::Sqlite || env.string("REISSUE_SECRET_KEY").is_none() {
            std::fs::create_dir_all(&data_dir).map_err(|source| SettingsError::Io {
                variable: "REISSUE_DATA_DIR",
                source,
            })?;
        }
        let secret_key = match env.string("REISSUE_SECRET_KEY") {
            Some(key) => parse_secret_key(&key)?,
            None => load_or_create_secret_key(&data_dir.join("secret.key")).map_err(|source| {
                SettingsError::Io {
                    variable: "REISSUE_SECRET_KEY",
                    source,
                }
            })?,
        };
        let defaults = Limits::default();
        let limits = Limits {
            code_ttl: env.seconds("REISSUE_CODE_TTL_SECONDS", defaults.code_ttl)?,
            code_max_attempts: env
                .parse("REISSUE_CODE_MAX_ATTEMPTS", defaults.code_max_attempts)?,
            codes_per_application: env.parse(
                "REISSUE_CODES_PER_APPLICATION",
                defaults.codes_per_application,
            )?,
            resend_interval: env
                .seconds("REISSUE_RESEND_INTERVAL_SECONDS", defaults.resend_interval)?,
            codes_per_office: env.parse("REISSUE_CODES_PER_OFFICE", defaults.codes_per_office)?,
            codes_per_email: env.parse("REISSUE_CODES_PER_EMAIL", defaults.codes_per_email)?,
            wrong_codes_per_office: env.parse(
                "REISSUE_WRONG_CODES_PER_OFFICE",
                defaults.wrong_codes_per_office,
            )?,
            wrong_codes_per_email: env.parse(
                "REISSUE_WRONG_CODES_PER_EMAIL",
                defaults.wrong_codes_per_email,
            )?,
            budget_window: env.seconds("REISSUE_BUDGET_WINDOW_SECONDS", defaults.budget_window)?,
            requests_per_client: env
                .parse("REISSUE_REQUESTS_PER_CLIENT", defaults.requests_per_client)?,
            client_window: env.seconds("REISSUE_CLIENT_WINDOW_SECONDS", defaults.client_window)?,
            application_ttl: env
                .seconds("REISSUE_APPLICATION_TTL_SECONDS", defaults.application_ttl)?,
            reviewer_max_failed_logins: env.parse(
                "REISSUE_REVIEWER_MAX_FAILED_LOGINS",
                defaults.reviewer_max_failed_logins,
            )?,
            reviewer_lock: env.seconds("REISSUE_REVIEWER_LOCK_SECONDS", defaults.reviewer_lock)?,
            reviewer_session_ttl: env.seconds(
                "REISSUE_REVIEWER_SESSION_SECONDS",
                defaults.reviewer_session_ttl,
            )?,
            office_session_ttl: env.seconds(
                "REISSUE_OFFICE_SESSION_SECONDS",
                defaults.office_session_ttl,
            )?,
            session_idle: env.seconds("REISSUE_SESSION_IDLE_SECONDS", defaults.session_idle)?,
            office_max_failed_logins: env.parse(
                "REISSUE_OFFICE_MAX_FAILED_LOGINS",
                defaults.office_max_failed_logins,
            )?,
            office_lock: env.seconds("REISSUE_OFFICE_LOCK_SECONDS", defaults.office_lock)?,
            logins_per_client: env
                .parse("REISSUE_LOGINS_PER_CLIENT", defaults.logins_per_client)?,
            logins_global: env.parse("REISSUE_LOGINS_GLOBAL", defaults.logins_global)?,
            login_window: env.seconds("REISSUE_LOGIN_WINDOW_SECONDS", defaults.login_window)?,
            password_threads: env.parse("REISSUE_PASSWORD_THREADS", defaults.password_threads)?,
            password_queue: env.parse("REISSUE_PASSWORD_QUEUE", defaults.password_queue)?,
            retention_days: env.parse("REISSUE_RETENTION_DAYS", defaults.retention_days)?,
        };
        if !(1..=MAX_RETENTION_DAYS).contains(&limits.retention_days) {
            return Err(SettingsError::Invalid {
                variable: "REISSUE_RETENTION_DAYS",
                message: format!("personal data is kept from 1 to {MAX_RETENTION_DAYS} days"),
            });
        }
        if limits.password_threads == 0 {
            return Err(SettingsError::Invalid {
                variable: "REISSUE_PASSWORD_THREADS",
                message: "at least one thread must check passwords".into(),
            });
        }
        // A session shorter than a minute could not be used at all: every token would be
        // refused as soon as it was issued.
        for (variable, value) in [
            ("REISSUE_SESSION_IDLE_SECONDS", limits.session_idle),
            (
                "REISSUE_REVIEWER_SESSION_SECONDS",
                limits.reviewer_session_ttl,
            ),
            ("REISSUE_OFFICE_SESSION_SECONDS", limits.office_session_ttl),
        ] {
            if value < Duration::from_secs(60) {
                return Err(SettingsError::Invalid {
                    variable,
                    message: "a session must last at least 60 seconds".into(),
                });
            }
        }
        if limits.code_max_attempts == 0 || limits.codes_per_application == 0 {
            return Err(SettingsError::Invalid {
                variable: "REISSUE_CODE_MAX_ATTEMPTS",
                message: "attempts and codes per application must be at least 1".into(),
            });
        }
        let mail = MailSettings {
            smtp_url: env
                .string("REISSUE_SMTP_URL")
                .map(|url| SmtpUrl(url.trim().to_owned())),
            dev_mailbox: env.parse("REISSUE_DEV_MAILBOX", false)?,
            from: env
                .string("REISSUE_MAIL_FROM")
                .unwrap_or_else(|| "電子請求受付システム <no-reply@e-seikyuu.example>".to_owned()),
            max_attempts: env.parse("REISSUE_MAIL_MAX_ATTEMPTS", 8)?,
            retry_base: env.millis("REISSUE_MAIL_RETRY_BASE_MS", Duration::from_secs(2))?,
            retry_max: env.millis("REISSUE_MAIL_RETRY_MAX_MS", Duration::from_secs(10 * 60))?,
            poll_interval: env.millis("REISSUE_MAIL_POLL_MS", Duration::from_millis(500))?,
        };
        if let Some(url) = &mail.smtp_url {
            if !(url.0.starts_with("smtp://") || url.0.starts_with("smtps://")) {
                return Err(SettingsError::Invalid {
                    variable: "REISSUE_SMTP_URL",
                    message: "must start with smtp:// or smtps://".into(),
                });
            }
        }
        Ok(Self {
            bind: env.parse("REISSUE_BIND", SocketAddr::from(([127, 0, 0, 1], 8080)))?,
            database_url,
            data_dir,
            secret_key,
            previous_secret_keys: previous_secret_keys(&env)?,
            mail,
            limits,
            sweep_interval: env
                .seconds("REISSUE_SWEEP_INTERVAL_SECONDS", Duration::from_secs(60))?,
            database_pool_size: env.parse("REISSUE_DATABASE_POOL_SIZE", 10)?,
            trusted_proxies: trusted_proxies(&env)?,
            web_dir: env.parse("REISSUE_WEB_DIR", PathBuf::from("dist"))?,
            hsts: env.parse("REISSUE_HSTS", false)?,
            metrics_bind: metrics_bind(&env)?,
            four_eyes: env.parse("REISSUE_FOUR_EYES", true)?,
            notice_font: env.parse("REISSUE_NOTICE_FONT", PathBuf::from(DEFAULT_NOTICE_FONT))?,
        })
    }
}

/// `REISSUE_PREVIOUS_SECRET_KEYS`: secrets separated by commas or white space, each as long as
/// `REISSUE_SECRET_KEY` must be.
fn previous_secret_keys(env: &Reader<'_>) -> Result<Vec<Secret>, SettingsError> {
    let Some(text) = env.string("REISSUE_PREVIOUS_SECRET_KEYS") else {
        return Ok(Vec::new());
    };
    text.split([',', ' ', '\t', '\n'])
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            parse_secret_key(entry).map_err(|_| SettingsError::Invalid {
                variable: "REISSUE_PREVIOUS_SECRET_KEYS",
                message: format!(
                    "every previous key must be at least {MIN_SECRET_KEY_LENGTH} bytes, like REISSUE_SECRET_KEY"
                ),
            })
        })
        .collect()
}

fn parse_secret_key(raw: &str) -> Result<Secret, SettingsError> {
    let key = raw.trim().as_bytes().to_vec();
    if key.len() < MIN_SECRET_KEY_LENGTH {
        return Err(SettingsError::Invalid {
            variable: "REISSUE_SECRET_KEY",
            message: format!(
                "too short ({} bytes); use at least {MIN_SECRET_KEY_LENGTH} random characters, e.g. `openssl rand -hex 32`",
                key.len()
            ),
        });
    }
    Ok(Secret::new(key))
}

/// The generated secret key of a fresh installation: created once in the data folder with
/// owner-only permissions, reused on every later start so codes and tokens stay valid.
///
/// Reads the key file, or creates it with 32 random bytes (hex) when it does not exist.
fn load_or_create_secret_key(path: &Path) -> std::io::Result<Secret> {
    match std::fs::read_to_string(path) {
        Ok(text) if text.trim().len() >= MIN_SECRET_KEY_LENGTH => {
            Ok(Secret::new(text.trim().as_bytes().to_vec()))
        }
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{} is too short; delete it to generate a new key",
                path.display()
            ),
        )),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            let key = hex::encode(bytes);
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            file.write_all(key.as_bytes())?;
            file.sync_all()?;
            Ok(Secret::new(key.into_bytes()))
        }
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let dir = std::env::temp_dir().join(format!("reissue-settings-{}", uuid::Uuid::new_v4()));
        let mut map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        map.insert(
            "REISSUE_DATA_DIR".into(),
            dir.to_string_lossy().into_owned(),
        );
        Settings::from_lookup(&move |name| map.get(name).cloned())
    }

    #[test]
    fn defaults_run_on_sqlite_on_loopback() {
        let settings = settings(&[]).ok();
        let settings = settings.as_ref();
        assert_eq!(
            settings.map(|s| s.bind.to_string()).as_deref(),
            Some("127.0.0.1:8080")
        );
        assert_eq!(
            settings.map(|s| s.database_url.backend()),
            Some(Backend::Sqlite)
        );
        assert_eq!(
            settings.map(|s| s.limits.code_ttl),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(settings.map(|s| s.secret_key.expose().len()), Some(64));
    }

    #[test]
    fn personal_data_is_kept_a_year_unless_set_within_one_day_and_ten_years() {
        let days = |pairs: &[(&str, &str)]| settings(pairs).map(|s| s.limits.retention_days);
        assert!(matches!(days(&[]), Ok(365)));
        assert!(matches!(
            days(&[("REISSUE_RETENTION_DAYS", "730")]),
            Ok(730)
        ));
        for refused in ["0", "3651", "-1", "a year"] {
            let error = days(&[("REISSUE_RETENTION_DAYS", refused)])
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                error.starts_with("REISSUE_RETENTION_DAYS"),
                "{refused}: {error}"
            );
        }
    }

    #[test]
    fn metrics_listen_on_loopback_unless_moved_or_turned_off() {
        let bind = |pairs: &[(&str, &str)]| settings(pairs).map(|s| s.metrics_bind);
        assert_eq!(
            bind(&[]).ok().flatten().map(|a| a.to_string()).as_deref(),
            Some("127.0.0.1:9464")
        );
        assert_eq!(
            bind(&[("REISSUE_METRICS_BIND", "10.0.0.5:9100")])
                .ok()
                .flatten()
                .map(|a| a.to_string())
                .as_deref(),
            Some("10.0.0.5:9100")
        );
        assert!(matches!(bind(&[("REISSUE_METRICS_BIND", "off")]), Ok(None)));
        let error = bind(&[("REISSUE_METRICS_BIND", "everywhere")])
            .err()
            .map(|e| e.to_string());
        assert!(error
            .unwrap_or_default()
            .starts_with("REISSUE_METRICS_BIND"));
    }

    #[test]
    fn previous_secret_keys_are_read_in_order_and_each_must_be_long_enough() {
        let old = "old-secret-old-secret-old-secret-1";
        let older = "older-secret-older-secret-older-22";
        let keys = settings(&[("REISSUE_PREVIOUS_SECRET_KEYS", &format!("{old}, {older}"))])
            .map(|s| s.previous_secret_keys);
        let keys: Vec<Vec<u8>> = keys
            .map(|keys| keys.iter().map(|k| k.expose().to_vec()).collect())
            .unwrap_or_default();
        assert_eq!(
            keys,
            vec![old.as_bytes().to_vec(), older.as_bytes().to_vec()]
        );
        assert!(settings(&[]).is_ok_and(|s| s.previous_secret_keys.is_empty()));
        let error = settings(&[("REISSUE_PREVIOUS_SECRET_KEYS", &format!("{old},short"))])
            .err()
            .map(|e| e.to_string());
        assert!(error
            .unwrap_or_default()
            .starts_with("REISSUE_PREVIOUS_SECRET_KEYS"));
    }

    #[test]
    fn a_short_secret_key_is_refused_naming_the_variable() {
        let error = settings(&[("REISSUE_SECRET_KEY", "short")])
            .err()
            .map(|e| e.to_string());
        assert!(error.unwrap_or_default().starts_with("REISSUE_SECRET_KEY"));
    }

    #[test]
    fn sessions_last_a_working_day_idle_half_an_hour_and_never_under_a_minute() {
        let limits = settings(&[]).map(|s| s.limits);
        assert_eq!(
            limits
                .as_ref()
                .map(|l| (l.reviewer_session_ttl, l.office_session_ttl, l.session_idle))
                .ok(),
            Some((
                Duration::from_secs(8 * 3600),
                Duration::from_secs(1800),
                Duration::from_secs(1800)
            ))
        );
        let error = settings(&[("REISSUE_SESSION_IDLE_SECONDS", "0")])
            .err()
            .map(|e| e.to_string());
        assert!(error
            .unwrap_or_default()
            .starts_with("REISSUE_SESSION_IDLE_SECONDS"));
    }

    #[test]
    fn an_invalid_number_names_the_variable() {
        let error = settings(&[("REISSUE_CODE_MAX_ATTEMPTS", "many")])
            .err()
            .map(|e| e.to_string());
        assert!(error
            .unwrap_or_default()
            .starts_with("REISSUE_CODE_MAX_ATTEMPTS"));
    }

    #[test]
    fn office_lock_out_defaults_to_three_tries_and_thirty_minutes_and_can_be_set() {
        let defaults = settings(&[]).ok().map(|s| s.limits);
        assert_eq!(
            defaults
                .as_ref()
                .map(|l| (l.office_max_failed_logins, l.office_lock)),
            Some((3, Duration::from_secs(1800)))
        );
        let set = settings(&[
            ("REISSUE_OFFICE_MAX_FAILED_LOGINS", "5"),
            ("REISSUE_OFFICE_LOCK_SECONDS", "60"),
        ])
        .ok()
        .map(|s| s.limits);
        assert_eq!(
            set.map(|l| (l.office_max_failed_logins, l.office_lock)),
            Some((5, Duration::from_secs(60)))
        );
        let error = settings(&[("REISSUE_OFFICE_LOCK_SECONDS", "soon")])
            .err()
            .map(|e| e.to_string());
        assert!(error
            .unwrap_or_default()
            .starts_with("REISSUE_OFFICE_LOCK_SECONDS"));
    }

    #[test]
    fn postgres_urls_select_postgres_and_are_redacted_in_debug() {
        let url = DatabaseUrl::new("postgres://user:hunter2@db/reissue");
        assert_eq!(url.backend(), Backend::Postgres);
        assert!(!format!("{url:?}").contains("hunter2"));
        assert!(!format!("{:?}", Secret::new(b"abc".to_vec())).contains("abc"));
    }
}
