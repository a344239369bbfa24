//! One backend under test: a fresh database (a SQLite file, or a new PostgreSQL database that
//! is dropped afterwards) holding a generated ledger and benchmark reviewers, the SMTP sink, and
//! one or more `reissue serve` processes sharing the database and the secret key.

use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::{bail, Context as _};
use reissue_e2e::smtp_sink::SmtpSink;
use reissue_e2e::{Server, ServerOptions};
use reissue_shared::OfficeNumber;
use tempfile::TempDir;

/// The prefecture of every generated office (東京都).
pub const PREFECTURE: &str = "13";
/// The password of the benchmark reviewers (at least 12 characters).
pub const REVIEWER_PASSWORD: &str = "bench-reviewer-password";
/// Reviewers created, one per concurrent login at most: a rush of logins is many people.
pub const MAX_REVIEWERS: usize = 16;

/// Where the data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file in the run's temporary folder.
    Sqlite,
    /// A new database on the PostgreSQL server.
    Postgres,
}

/// A running backend; everything stops and is removed when dropped (servers first, then the
/// sink, then the database, then the folder).
pub struct Stack {
    /// The server instances, all on the same database.
    pub servers: Vec<Server>,
    /// Where the servers deliver mail.
    pub sink: Arc<SmtpSink>,
    /// The generated office numbers, in the ledger of [`PREFECTURE`].
    pub offices: Vec<String>,
    /// Benchmark reviewer login ids.
    pub reviewers: Vec<String>,
    /// The PostgreSQL database's name (`None` on SQLite).
    pub postgres_database: Option<String>,
    _database: Option<PostgresDatabase>,
    _dir: TempDir,
}

impl Stack {
    /// Prepares the database with `offices` ledger entries and `reviewers` reviewers, then starts
    /// the sink and `instances` servers.
    pub async fn start(
        binary: &Path,
        database: Database,
        instances: usize,
        offices: usize,
        reviewers: usize,
        postgres_admin_url: &str,
        extra_env: &[(String, String)],
    ) -> anyhow::Result<Self> {
        if !binary.is_file() {
            bail!(
                "{} not found: build it with `cargo build --release -p reissue-api` (./dev bench does)",
                binary.display()
            );
        }
        let dir = tempfile::Builder::new()
            .prefix("reissue-bench-")
            .tempdir()
            .context("creating the run folder")?;
        let (database_url, postgres) = match database {
            Database::Sqlite => (
                dir.path()
                    .join("reissue.sqlite3")
                    .to_string_lossy()
                    .into_owned(),
                None,
            ),
            Database::Postgres => {
                let created = PostgresDatabase::create(postgres_admin_url)?;
                (created.url.clone(), Some(created))
            }
        };
        let sink = Arc::new(
            SmtpSink::start_on(0)
                .await
                .context("starting the SMTP sink")?,
        );
        let env = vec![
            ("REISSUE_DATABASE_URL".to_owned(), database_url),
            // Every instance must share the key: a token minted by one opens the application on
            // the other.
            ("REISSUE_SECRET_KEY".to_owned(), random_hex(32)?),
            ("REISSUE_SMTP_URL".to_owned(), sink.url()),
            // Offices apply from their own networks: as behind a load balancer, every flow
            // names its office's address in `X-Forwarded-For` from the loopback "proxy", and
            // the per-address limit stays at its default.
            (
                "REISSUE_TRUSTED_PROXIES".to_owned(),
                "127.0.0.1, ::1".to_owned(),
            ),
            // Warnings and errors only, into the server's reissue.log.
            ("RUST_LOG".to_owned(), "warn".to_owned()),
        ];
        let env = [env, extra_env.to_vec()].concat();

        let office_numbers = office_numbers(offices);
        let ledger = dir.path().join("ledger.csv");
        std::fs::write(&ledger, ledger_csv(&office_numbers)).context("writing the ledger")?;
        run_cli(
            binary,
            dir.path(),
            &env,
            &["ledger".as_ref(), "import".as_ref(), ledger.as_os_str()],
        )?;
        let reviewer_ids: Vec<String> = (1..=reviewers.clamp(1, MAX_REVIEWERS))
            .map(|n| format!("bench-{n:02}"))
            .collect();
        let mut reviewer_env = env.clone();
        reviewer_env.push((
            "REISSUE_REVIEWER_PASSWORD".to_owned(),
            REVIEWER_PASSWORD.to_owned(),
        ));
        for login_id in &reviewer_ids {
            run_cli(
                binary,
                dir.path(),
                &reviewer_env,
                &[
                    "reviewer".as_ref(),
                    "add".as_ref(),
                    "--prefecture".as_ref(),
                    PREFECTURE.as_ref(),
                    "--login-id".as_ref(),
                    login_id.as_ref(),
                ],
            )?;
        }

        let options = ServerOptions {
            demo: false,
            env,
            binary: Some(binary.to_path_buf()),
            without_web_app: true,
        };
        let mut servers = Vec::new();
        // One after the other: the first runs the migrations (already applied by the import).
        for _ in 0..instances.max(1) {
            servers.push(Server::start_with(&options).await?);
        }
        Ok(Self {
            servers,
            sink,
            offices: office_numbers,
            reviewers: reviewer_ids,
            postgres_database: postgres.as_ref().map(|db| db.name.clone()),
            _database: postgres,
            _dir: dir,
        })
    }

    /// The base URLs of the instances.
    pub fn base_urls(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|s| s.base_url().to_owned())
            .collect()
    }

    /// The process ids of the instances.
    pub fn pids(&self) -> Vec<u32> {
        self.servers.iter().map(Server::pid).collect()
    }

    /// Forgets the peak memory of every instance, so the next reading covers what follows.
    /// `false` when the kernel refused (the reading is then the peak since start).
    pub fn reset_peak_memory(&self) -> bool {
        self.servers
            .iter()
            .all(|server| reset_peak_rss(server.pid()))
    }

    /// Resident memory of each instance now, in MiB.
    pub fn memory_mib(&self) -> Vec<Option<f64>> {
        self.servers
            .iter()
            .map(|server| rss_mib(server.pid()))
            .collect()
    }

    /// Peak resident memory of each instance, in MiB.
    pub fn peak_memory_mib(&self) -> Vec<Option<f64>> {
        self.servers
            .iter()
            .map(|server| peak_rss_mib(server.pid()))
            .collect()
    }

    /// The last lines of each instance's log (warnings and errors), when it logged anything
    /// but the expected start-up warning that the browser app is not served.
    pub fn log_tails(&self) -> Vec<String> {
        self.servers
            .iter()
            .map(|server| {
                reissue_e2e::tail(&server.data_dir().join("reissue.log"), 11)
                    .lines()
                    .filter(|line| !line.contains("browser app not built"))
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .filter(|tail| !tail.trim().is_empty())
            .collect()
    }
}

/// `count` distinct office numbers of prefecture 13 with a correct check digit: `139`, a
/// 6-digit serial, and the digit that `OfficeNumber::check_digit_matches` accepts.
pub fn office_numbers(count: usize) -> Vec<String> {
    (0..count)
        .filter_map(|serial| {
            (0..10)
                .map(|digit| format!("139{serial:06}{digit}"))
                .find(|number| {
                    OfficeNumber::parse(number)
                        .is_ok_and(|parsed| parsed.check_digit_matches() == Some(true))
                })
        })
        .collect()
}

/// A ledger file (api/demo/ledger.csv's columns) with one care office (介護) per number.
fn ledger_csv(offices: &[String]) -> String {
    let mut csv = String::from("事業所番号,事業所名,種別,都道府県コード,郵便番号,住所,電話番号\n");
    for (n, office) in offices.iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = writeln!(
            csv,
            "{office},ベンチマーク介護事業所 {n},介護,{PREFECTURE},100-0005,東京都千代田区丸の内9-9-{n},03-0000-{:04}",
            n % 10_000
        );
    }
    csv
}

/// Runs a `reissue` command with `env` (and no other `REISSUE_*` variable) in `dir`.
fn run_cli(
    binary: &Path,
    dir: &Path,
    env: &[(String, String)],
    args: &[&std::ffi::OsStr],
) -> anyhow::Result<()> {
    let mut command = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("REISSUE_") {
            command.env_remove(name);
        }
    }
    let output = command
        .args(args)
        .current_dir(dir)
        .env("REISSUE_DATA_DIR", dir)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    if !output.status.success() {
        bail!(
            "`reissue {}` failed ({}): {}{}",
            args.iter()
                .map(|a| a.to_string_lossy())
                .collect::<Vec<_>>()
                .join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// `bytes` random bytes as hex, from the kernel.
fn random_hex(bytes: usize) -> anyhow::Result<String> {
    let mut buffer = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut buffer))
        .context("reading /dev/urandom")?;
    Ok(buffer.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    }))
}

/// A database created for one backend stage on the PostgreSQL server; dropped with it.
pub struct PostgresDatabase {
    admin_url: String,
    name: String,
    /// The URL of the new database.
    pub url: String,
}

impl PostgresDatabase {
    /// Creates `reissue_bench_<pid>_<n>` through `psql` connected to `admin_url`.
    pub fn create(admin_url: &str) -> anyhow::Result<Self> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("reissue_bench_{}_{n}", std::process::id());
        psql(admin_url, &format!("CREATE DATABASE \"{name}\""))?;
        let url = database_url(admin_url, &name)?;
        Ok(Self {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }
}

impl Drop for PostgresDatabase {
    fn drop(&mut self) {
        // FORCE: a server killed a moment ago may still hold a connection.
        if let Err(error) = psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
        ) {
            eprintln!("bench: could not drop database {}: {error:#}", self.name);
        }
    }
}

/// Runs one SQL statement with `psql` and returns what it printed (unaligned, tuples only).
pub fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let output = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-t",
            "-A",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .stdin(Stdio::null())
        .output()
        .context("running psql (install postgresql-client)")?;
    if !output.status.success() {
        bail!(
            "psql `{sql}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `admin_url` with its database name replaced by `name`.
fn database_url(admin_url: &str, name: &str) -> anyhow::Result<String> {
    let (scheme, rest) = admin_url
        .split_once("://")
        .with_context(|| format!("not a postgres:// URL: {admin_url}"))?;
    let (location, query) = match rest.split_once('?') {
        Some((location, query)) => (location, Some(query)),
        None => (rest, None),
    };
    let authority = location.split_once('/').map_or(location, |(a, _)| a);
    let mut url = format!("{scheme}://{authority}/{name}");
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Ok(url)
}

/// VmHWM (peak resident set) of a process, in MiB.
pub fn peak_rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmHWM:")
}

/// VmRSS (resident set now) of a process, in MiB.
pub fn rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmRSS:")
}

/// A `kB` field of /proc/<pid>/status, in MiB.
fn status_mib(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(PathBuf::from(format!("/proc/{pid}/status"))).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Resets VmHWM to the current RSS (`5` in clear_refs, Linux ≥ 4.0).
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn office_numbers_are_distinct_and_carry_a_valid_check_digit() {
        let numbers = office_numbers(1000);
        assert_eq!(numbers.len(), 1000);
        assert_eq!(
            numbers
                .iter()
                .collect::<std::collections::HashSet<_>>()
                .len(),
            1000
        );
        assert_eq!(numbers[0].len(), 10);
    }

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            database_url("postgres://postgres@127.0.0.1:5432/test", "x").ok(),
            Some("postgres://postgres@127.0.0.1:5432/x".to_owned())
        );
        assert_eq!(
            database_url("postgresql://u:p@h/db?sslmode=disable", "x").ok(),
            Some("postgresql://u:p@h/x?sslmode=disable".to_owned())
        );
        assert_eq!(
            database_url("postgres://h:5432", "x").ok(),
            Some("postgres://h:5432/x".to_owned())
        );
    }
}
