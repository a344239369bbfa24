//! `bench`: the service's throughput and latency on this machine (issue 6, item 1).
//!
//! It starts the real release server on loopback and drives the complete applicant flow
//! (create → prefecture → verify with the code from the SMTP sink → submit) from a Rust load
//! generator at several concurrencies, on SQLite, on PostgreSQL, and on two instances sharing
//! one PostgreSQL database; measures the read endpoints, reviewer logins (argon2id), a flood of
//! logins with unknown IDs under the server's default throttles (issue 11) and a bare actix-web
//! JSON endpoint as the baseline; and writes `report.md` and `report.json`.
//! `./dev bench` builds what it needs and runs it; `bench --help` lists the options.

mod baseline;
mod cpu;
mod endpoints;
mod load;
mod report;
mod spa;
mod stack;
mod stages;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};

/// Measures the service on this machine and writes report.md and report.json.
#[derive(Debug, Parser)]
#[command(name = "bench")]
struct Args {
    /// Internal: what the benchmark starts itself.
    #[command(subcommand)]
    internal: Option<Internal>,
    /// Complete flows at concurrency 1.
    #[arg(long, default_value_t = 200)]
    flows_serial: usize,
    /// Complete flows at each concurrency above 1.
    #[arg(long, default_value_t = 2000)]
    flows: usize,
    /// Requests per read endpoint (and for the baseline) at each concurrency.
    #[arg(long, default_value_t = 10_000)]
    requests: usize,
    /// Reviewer logins (argon2id) per backend.
    #[arg(long, default_value_t = 160)]
    logins: usize,
    /// Concurrency of the login measurement.
    #[arg(long, default_value_t = 16)]
    login_concurrency: usize,
    /// Logins with unknown IDs sent all at once per backend, while the reads are measured
    /// (0: no flood).
    #[arg(long, default_value_t = 1000)]
    flood_logins: usize,
    /// Concurrency levels, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    concurrency: Vec<usize>,
    /// Run only these stages (comma-separated); default: all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<Stage>,
    /// A tenth of every count: a smoke run of under a minute.
    #[arg(long)]
    quick: bool,
    /// Folder for report.md and report.json [default: <target>/bench].
    #[arg(long)]
    out: Option<PathBuf>,
    /// The `reissue` binary [default: `reissue` beside this binary, i.e. the release build].
    #[arg(long)]
    server: Option<PathBuf>,
    /// Extra server setting for experiments, NAME=VALUE (repeatable); the report lists them.
    #[arg(long = "server-env", value_parser = parse_env)]
    server_env: Vec<(String, String)>,
    /// PostgreSQL database to connect to for creating the benchmark's databases.
    #[arg(
        long,
        env = "TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
}

/// What the benchmark runs; `--only` picks some.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Stage {
    /// The bare actix-web endpoint.
    Baseline,
    /// One instance on SQLite.
    Sqlite,
    /// One instance on PostgreSQL.
    Postgres,
    /// Two instances on one PostgreSQL database.
    Postgres2,
    /// Bundle size and Lighthouse figures of the browser app.
    Spa,
}

#[derive(Debug, Subcommand)]
enum Internal {
    /// The bare actix-web server the benchmark measures as its baseline.
    #[command(hide = true)]
    BaselineServer {
        /// Listen address.
        #[arg(long)]
        bind: String,
        /// actix workers.
        #[arg(long)]
        workers: usize,
    },
}

/// The counts and choices of one run, after `--quick`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Flows at concurrency 1.
    pub flows_serial: usize,
    /// Flows at each higher concurrency.
    pub flows: usize,
    /// Requests per read endpoint and concurrency.
    pub requests: usize,
    /// Reviewer logins.
    pub logins: usize,
    /// Concurrency of the logins.
    pub login_concurrency: usize,
    /// Logins of the flood, all at once (0: none).
    pub flood_logins: usize,
    /// Concurrency levels.
    pub concurrency: Vec<usize>,
    /// Stages to run.
    pub stages: Vec<Stage>,
    /// The `reissue` binary.
    pub server: PathBuf,
    /// The PostgreSQL database used to create and drop the benchmark's databases.
    pub postgres_url: String,
    /// actix workers of the real server (its default) and of the baseline.
    pub workers: usize,
    /// `--server-env` settings.
    pub server_env: Vec<(String, String)>,
}

impl Plan {
    /// Flows at `concurrency`.
    pub fn flows_at(&self, concurrency: usize) -> usize {
        if concurrency <= 1 {
            self.flows_serial
        } else {
            self.flows
        }
    }
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let outcome = match args.internal {
        Some(Internal::BaselineServer { bind, workers }) => baseline::serve(&bind, workers),
        None => run(args),
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bench: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn parse_env(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name.to_owned(), value.to_owned())),
        _ => Err(format!("expected NAME=VALUE, got {text:?}")),
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let divisor = if args.quick { 10 } else { 1 };
    let server = match args.server {
        Some(path) => path,
        None => std::env::current_exe()
            .context("finding the bench binary")?
            .with_file_name("reissue"),
    };
    let stages = if args.only.is_empty() {
        vec![
            Stage::Baseline,
            Stage::Sqlite,
            Stage::Postgres,
            Stage::Postgres2,
            Stage::Spa,
        ]
    } else {
        args.only.clone()
    };
    let plan = Plan {
        flows_serial: (args.flows_serial / divisor).max(1),
        flows: (args.flows / divisor).max(1),
        requests: (args.requests / divisor).max(1),
        logins: (args.logins / divisor).max(1),
        login_concurrency: args.login_concurrency.max(1),
        // Scaled like the other counts, but never to none.
        flood_logins: if args.flood_logins == 0 {
            0
        } else {
            (args.flood_logins / divisor).max(1)
        },
        concurrency: args.concurrency.iter().map(|c| (*c).max(1)).collect(),
        stages,
        server,
        postgres_url: args.postgres_url,
        // What actix-web starts by default, so the baseline has as many workers as the server.
        workers: std::thread::available_parallelism().map_or(1, usize::from),
        server_env: args.server_env,
    };
    let out = args
        .out
        .unwrap_or_else(|| reissue_e2e::target_dir().join("bench"));

    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the load generator's runtime")?;
    let report = runtime.block_on(stages::run_all(&plan))?;
    let report = report.finish(started.elapsed());

    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    let markdown = report.markdown();
    std::fs::write(out.join("report.md"), &markdown)
        .with_context(|| format!("writing {}", out.join("report.md").display()))?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )
    .with_context(|| format!("writing {}", out.join("report.json").display()))?;
    println!("{markdown}");
    println!(
        "report: {} and {}",
        out.join("report.md").display(),
        out.join("report.json").display()
    );
    let failed = report.failed_stages();
    if !failed.is_empty() {
        anyhow::bail!("stages that could not run: {}", failed.join(", "));
    }
    Ok(())
}
