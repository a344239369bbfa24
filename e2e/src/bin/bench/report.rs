//! What a run measured, the targets it is judged against (issues 13 and 11), and the Markdown
//! and JSON forms of both.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;
use std::time::Duration;

use serde::Serialize;

use crate::cpu::CpuUse;
use crate::endpoints::{
    APPLICATION, CREATE, FLOOD_BUSY, FLOOD_REFUSED, FLOOD_THROTTLED, FLOW, PREFECTURE, PREFECTURES,
    SUBMISSION, VERIFICATION,
};
use crate::load::{Latency, Recorder};
use crate::spa::SpaReport;

/// The concurrency most targets of issue 13 are stated at.
const TARGET_CONCURRENCY: usize = 64;
/// Target (issue 13): complete flows per second at concurrency 64, per backend.
fn flows_per_s_target(backend: &str) -> Option<f64> {
    match backend {
        "SQLite" => Some(2000.0),
        "PostgreSQL ×1" => Some(1200.0),
        _ => None,
    }
}
/// Target (issue 13): server CPU per complete flow at concurrency 64, in ms, per backend.
fn server_cpu_target_ms(backend: &str) -> Option<f64> {
    match backend {
        "SQLite" => Some(0.5),
        "PostgreSQL ×1" => Some(0.7),
        _ => None,
    }
}
/// Target (issue 13): share of the bare endpoint's throughput that each read endpoint reaches.
const READ_RATIOS: [(&str, f64); 2] = [(PREFECTURES, 0.8), (APPLICATION, 0.5)];
/// Target: p99 of every request at concurrency 64, in ms.
const P99_MS: f64 = 20.0;
/// Target (issue 13): a complete flow at concurrency 1, code mail included, p50 in ms.
const SERIAL_FLOW_P50_MS: f64 = 5.0;
/// Target (issue 13): mail handed over to SMTP, p99 in ms, at these concurrencies.
const MAIL_P99_MS: [(usize, f64); 2] = [(64, 100.0), (256, 500.0)];
/// Target (issue 13): peak RSS of each instance under the flow load, in MiB.
const FLOW_RSS_MIB: f64 = 64.0;
/// "PostgreSQL ×2 ≥ ×1": the two-instance figure may be this much below the one-instance
/// figure before it counts as a drop (run-to-run noise on a shared 2-core machine).
const NO_DROP_TOLERANCE: f64 = 0.05;
/// Read targets are judged from this concurrency up: at concurrency 1 throughput is just the
/// inverse of latency.
const READ_JUDGED_FROM: usize = 16;
/// Target (issue 11): peak RSS of each instance during the login flood, in MiB.
const FLOOD_RSS_MIB: f64 = 200.0;
/// Target (issue 11): p99 of the reads during the login flood, in ms.
const FLOOD_READ_P99_MS: f64 = 50.0;

/// The machine and the code measured.
#[derive(Debug, Serialize)]
pub struct Machine {
    /// CPUs available to the processes.
    pub cpus: usize,
    /// `model name` of /proc/cpuinfo.
    pub cpu_model: String,
    /// MemTotal, GiB.
    pub memory_gib: f64,
    /// Linux release.
    pub kernel: String,
    /// `git rev-parse HEAD` of the workspace, `+dirty` with uncommitted changes.
    pub commit: String,
    /// /proc/loadavg at the start and at the end: other work on the machine skews every
    /// figure, so the report shows whether there was any.
    pub load_average: Vec<String>,
}

impl Machine {
    /// Reads /proc and git.
    pub fn detect() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|line| line.starts_with("model name"))
            .and_then(|line| line.split_once(':'))
            .map_or_else(
                || "unknown".to_owned(),
                |(_, model)| model.trim().to_owned(),
            );
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let memory_kib: f64 = meminfo
            .lines()
            .find(|line| line.starts_with("MemTotal:"))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|kib| kib.parse().ok())
            .unwrap_or(0.0);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map_or_else(
            |_| "unknown".to_owned(),
            |release| release.trim().to_owned(),
        );
        Self {
            cpus: std::thread::available_parallelism().map_or(1, usize::from),
            cpu_model,
            memory_gib: memory_kib / 1024.0 / 1024.0,
            kernel,
            commit: commit(),
            load_average: vec![load_average()],
        }
    }
}

/// The 1, 5 and 15-minute load averages.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

fn commit() -> String {
    let root = reissue_e2e::workspace_root();
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(&root)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    match git(&["rev-parse", "HEAD"]) {
        Some(hash) => {
            let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|status| !status.is_empty());
            if dirty {
                format!("{hash}+dirty")
            } else {
                hash
            }
        }
        None => "unknown".to_owned(),
    }
}

/// The counts of the run.
#[derive(Debug, Serialize)]
pub struct Settings {
    /// Concurrency levels.
    pub concurrency: Vec<usize>,
    /// Flows at concurrency 1.
    pub flows_serial: usize,
    /// Flows at each higher concurrency.
    pub flows: usize,
    /// Requests per read endpoint and concurrency.
    pub requests: usize,
    /// Reviewer logins per backend.
    pub logins: usize,
    /// Their concurrency.
    pub login_concurrency: usize,
    /// Logins of the flood, sent all at once (0: no flood).
    pub flood_logins: usize,
    /// Tasks reading during the flood.
    pub flood_readers: usize,
    /// actix workers of the server (its default) and of the baseline.
    pub workers: usize,
    /// The server binary.
    pub server: String,
    /// PostgreSQL's `server_version`, when a PostgreSQL stage ran.
    pub postgres_version: Option<String>,
    /// `--server-env` settings, which make the run differ from the server's defaults.
    pub server_env: Vec<String>,
}

/// Complete flows at one concurrency.
#[derive(Debug, Serialize)]
pub struct FlowLevel {
    /// Concurrent flows.
    pub concurrency: usize,
    /// Flows started.
    pub flows: usize,
    /// Flows that ended `submitted`.
    pub completed: usize,
    /// Wall-clock time.
    pub seconds: f64,
    /// Completed flows per second.
    pub flows_per_s: f64,
    /// HTTP requests sent.
    pub requests: usize,
    /// Requests per second.
    pub requests_per_s: f64,
    /// Latency per step, and of the complete flow.
    pub latency: BTreeMap<String, Latency>,
    /// From the code request to the SMTP sink's acceptance.
    pub mail: Latency,
    /// Peak RSS of each instance during this level (MiB).
    pub peak_rss_mib: Vec<Option<f64>>,
    /// Whether the peak covers the whole process life (the kernel refused the reset).
    pub peak_rss_since_start: bool,
    /// Where the machine's CPU time went.
    pub cpu: CpuUse,
    /// CPU time of the server instances per completed flow (ms).
    pub server_cpu_ms_per_flow: f64,
    /// Errors.
    pub errors: usize,
    /// The first few.
    pub error_samples: Vec<String>,
}

impl FlowLevel {
    /// Summarises one level.
    pub fn new(
        concurrency: usize,
        flows: usize,
        mut recorder: Recorder,
        elapsed: Duration,
        (peak_rss_mib, memory_reset): (Vec<Option<f64>>, bool),
        cpu: CpuUse,
    ) -> Self {
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        let server_cpu_ms = cpu.servers_pct / 100.0 * seconds * cpus * 1000.0;
        Self {
            cpu,
            server_cpu_ms_per_flow: server_cpu_ms / recorder.completed.max(1) as f64,
            concurrency,
            flows,
            completed: recorder.completed,
            seconds,
            flows_per_s: recorder.completed as f64 / seconds,
            requests: recorder.requests,
            requests_per_s: recorder.requests as f64 / seconds,
            latency: recorder.latency_per_endpoint(),
            mail: Latency::of(&mut recorder.mail),
            peak_rss_mib,
            peak_rss_since_start: !memory_reset,
            errors: recorder.errors,
            error_samples: recorder.error_samples,
        }
    }
}

/// One read endpoint (or the baseline) at one concurrency.
#[derive(Debug, Serialize)]
pub struct ReadLevel {
    /// Endpoint.
    pub endpoint: String,
    /// Concurrent requests.
    pub concurrency: usize,
    /// Requests sent.
    pub requests: usize,
    /// Wall-clock time.
    pub seconds: f64,
    /// Successful requests per second.
    pub requests_per_s: f64,
    /// Latency of the successful requests.
    pub latency: Latency,
    /// `requests_per_s` over the bare endpoint's at the same concurrency.
    pub ratio_to_baseline: Option<f64>,
    /// Peak RSS of each process during this measurement (MiB).
    pub peak_rss_mib: Vec<Option<f64>>,
    /// Where the machine's CPU time went.
    pub cpu: CpuUse,
    /// Errors.
    pub errors: usize,
    /// The first few.
    pub error_samples: Vec<String>,
}

impl ReadLevel {
    /// Summarises one measurement.
    pub fn new(
        endpoint: &str,
        concurrency: usize,
        mut recorder: Recorder,
        elapsed: Duration,
        peak_rss_mib: Vec<Option<f64>>,
        cpu: CpuUse,
    ) -> Self {
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let latency = recorder
            .latencies
            .values_mut()
            .next()
            .map(|samples| Latency::of(samples))
            .unwrap_or_default();
        Self {
            endpoint: endpoint.to_owned(),
            concurrency,
            requests: recorder.requests,
            seconds,
            requests_per_s: recorder.completed as f64 / seconds,
            latency,
            ratio_to_baseline: None,
            peak_rss_mib,
            cpu,
            errors: recorder.errors,
            error_samples: recorder.error_samples,
        }
    }
}

/// Reviewer logins.
#[derive(Debug, Serialize)]
pub struct LoginResult {
    /// Concurrent logins.
    pub concurrency: usize,
    /// Logins sent.
    pub logins: usize,
    /// Wall-clock time.
    pub seconds: f64,
    /// Successful logins per second.
    pub logins_per_s: f64,
    /// Latency of the successful logins.
    pub latency: Latency,
    /// Where the machine's CPU time went.
    pub cpu: CpuUse,
    /// Errors.
    pub errors: usize,
    /// The first few.
    pub error_samples: Vec<String>,
}

impl LoginResult {
    /// Summarises the logins.
    pub fn new(
        concurrency: usize,
        logins: usize,
        mut recorder: Recorder,
        elapsed: Duration,
        cpu: CpuUse,
    ) -> Self {
        let seconds = elapsed.as_secs_f64().max(f64::EPSILON);
        let latency = recorder
            .latencies
            .values_mut()
            .next()
            .map(|samples| Latency::of(samples))
            .unwrap_or_default();
        Self {
            concurrency,
            logins,
            seconds,
            logins_per_s: recorder.completed as f64 / seconds,
            latency,
            cpu,
            errors: recorder.errors,
            error_samples: recorder.error_samples,
        }
    }
}

/// The login flood: logins with unknown IDs sent all at once while the reads are measured.
#[derive(Debug, Serialize)]
pub struct LoginFlood {
    /// Logins sent, all at once.
    pub logins: usize,
    /// From the first login sent to the last one answered.
    pub seconds: f64,
    /// Count and latency of each right answer, by status and problem code (every one is
    /// listed, with count 0 when it did not occur).
    pub answers: BTreeMap<String, Latency>,
    /// Logins answered otherwise (another status or problem code) or not at all.
    pub errors: usize,
    /// The first few.
    pub error_samples: Vec<String>,
    /// Latency of the successful reads during the flood, per endpoint.
    pub reads: BTreeMap<String, Latency>,
    /// Reads sent.
    pub read_requests: usize,
    /// Successful reads per second, all endpoints together.
    pub reads_per_s: f64,
    /// Failed reads.
    pub read_errors: usize,
    /// The first few.
    pub read_error_samples: Vec<String>,
    /// Resident memory of each instance just before the flood (MiB).
    pub rss_before_mib: Vec<Option<f64>>,
    /// Peak RSS of each instance during the flood (MiB).
    pub peak_rss_mib: Vec<Option<f64>>,
    /// Whether the peak covers the whole process life (the kernel refused the reset).
    pub peak_rss_since_start: bool,
    /// Where the machine's CPU time went.
    pub cpu: CpuUse,
}

impl LoginFlood {
    /// Summarises the flood and the reads beside it.
    pub fn new(
        logins: usize,
        (mut flood, elapsed): (Recorder, Duration),
        (mut reads, read_elapsed): (Recorder, Duration),
        (peak_rss_mib, memory_reset): (Vec<Option<f64>>, bool),
        rss_before_mib: Vec<Option<f64>>,
        cpu: CpuUse,
    ) -> Self {
        let mut answers = flood.latency_per_endpoint();
        for answer in [FLOOD_REFUSED, FLOOD_THROTTLED, FLOOD_BUSY] {
            answers.entry(answer.to_owned()).or_default();
        }
        Self {
            logins,
            seconds: elapsed.as_secs_f64(),
            answers,
            errors: flood.errors,
            error_samples: flood.error_samples,
            reads: reads.latency_per_endpoint(),
            read_requests: reads.requests,
            reads_per_s: reads.completed as f64 / read_elapsed.as_secs_f64().max(f64::EPSILON),
            read_errors: reads.errors,
            read_error_samples: reads.error_samples,
            rss_before_mib,
            peak_rss_mib,
            peak_rss_since_start: !memory_reset,
            cpu,
        }
    }

    /// One line for the progress output: the answers, the memory and the reads' p99.
    pub fn summary(&self) -> String {
        let answers = self
            .answers
            .iter()
            .map(|(answer, latency)| format!("{} × {answer}", latency.count))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{answers}, {} errors; peak RSS {} MiB; read p99 {} ms",
            self.errors,
            rss(&self.peak_rss_mib),
            self.worst_read_p99()
                .map_or_else(|| "–".to_owned(), |(p99, _)| ms(p99))
        )
    }

    /// The highest p99 of the read endpoints and its endpoint.
    pub fn worst_read_p99(&self) -> Option<(f64, &str)> {
        self.reads
            .iter()
            .filter(|(_, latency)| latency.count > 0)
            .map(|(endpoint, latency)| (latency.p99_ms, endpoint.as_str()))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    }

    /// The highest peak RSS of the instances, when every one was read.
    fn peak_rss(&self) -> Option<f64> {
        self.peak_rss_mib
            .iter()
            .copied()
            .collect::<Option<Vec<f64>>>()?
            .into_iter()
            .max_by(f64::total_cmp)
    }
}

/// Everything measured on one backend.
#[derive(Debug, Serialize)]
pub struct BackendReport {
    /// "SQLite", "PostgreSQL ×1", "PostgreSQL ×2".
    pub name: String,
    /// Server processes on the database.
    pub instances: usize,
    /// PostgreSQL's version, for the PostgreSQL stages.
    pub postgres_version: Option<String>,
    /// Complete flows per concurrency.
    pub flows: Vec<FlowLevel>,
    /// Read endpoints per concurrency.
    pub reads: Vec<ReadLevel>,
    /// The bare endpoint measured again just before the reads of each concurrency: the
    /// reference of their `ratio_to_baseline`.
    pub baseline: Vec<ReadLevel>,
    /// Reviewer logins.
    pub login: Option<LoginResult>,
    /// The login flood, with the reads measured during it.
    pub login_flood: Option<LoginFlood>,
    /// Messages the SMTP sink accepted during the flows.
    pub mails_received: usize,
    /// The end of each instance's log (warnings and errors), when not empty.
    pub server_log: Vec<String>,
    /// Why the stage stopped, when it did.
    pub failure: Option<String>,
}

impl BackendReport {
    /// An empty report for `name`.
    pub fn new(name: &str, instances: usize) -> Self {
        Self {
            name: name.to_owned(),
            instances,
            postgres_version: None,
            flows: Vec::new(),
            reads: Vec::new(),
            baseline: Vec::new(),
            login: None,
            login_flood: None,
            mails_received: 0,
            server_log: Vec::new(),
            failure: None,
        }
    }

    fn errors(&self) -> usize {
        self.flows.iter().map(|l| l.errors).sum::<usize>()
            + self.reads.iter().map(|l| l.errors).sum::<usize>()
            + self.baseline.iter().map(|l| l.errors).sum::<usize>()
            + self.login.as_ref().map_or(0, |l| l.errors)
            + self
                .login_flood
                .as_ref()
                .map_or(0, |f| f.errors + f.read_errors)
    }
}

/// One target of the issue and how the run did.
#[derive(Debug, Serialize)]
pub struct Target {
    /// The target.
    pub target: String,
    /// What was measured.
    pub measured: String,
    /// `None`: not measured in this run.
    pub met: Option<bool>,
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Start, UTC (RFC 3339).
    pub started_at: String,
    /// Run time, seconds.
    pub duration_s: f64,
    /// Where and what.
    pub machine: Machine,
    /// Counts.
    pub settings: Settings,
    /// The bare endpoint per concurrency.
    pub baseline: Vec<ReadLevel>,
    /// Why the baseline could not run, when it could not.
    pub baseline_failure: Option<String>,
    /// SQLite, PostgreSQL ×1, PostgreSQL ×2.
    pub backends: Vec<BackendReport>,
    /// The browser app's figures.
    pub spa: Option<SpaReport>,
    /// The issue's targets.
    pub targets: Vec<Target>,
    /// Peak RSS of the load generator (with the SMTP sink), MiB.
    pub load_generator_peak_rss_mib: Option<f64>,
}

impl Report {
    /// An empty report.
    pub fn new(machine: Machine, settings: Settings) -> Self {
        let started_at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        Self {
            started_at,
            duration_s: 0.0,
            machine,
            settings,
            baseline: Vec::new(),
            baseline_failure: None,
            backends: Vec::new(),
            spa: None,
            targets: Vec::new(),
            load_generator_peak_rss_mib: None,
        }
    }

    /// Stages that could not run.
    pub fn failed_stages(&self) -> Vec<String> {
        let mut failed: Vec<String> = self
            .backends
            .iter()
            .filter(|b| b.failure.is_some())
            .map(|b| b.name.clone())
            .collect();
        if self.baseline_failure.is_some() {
            failed.insert(0, "baseline".to_owned());
        }
        failed
    }

    /// Records the run time and judges the targets.
    pub fn finish(mut self, elapsed: Duration) -> Self {
        self.duration_s = elapsed.as_secs_f64();
        self.machine.load_average.push(load_average());
        self.load_generator_peak_rss_mib = crate::stack::peak_rss_mib(std::process::id());
        self.settings.postgres_version = self
            .backends
            .iter()
            .find_map(|b| b.postgres_version.clone());
        self.targets = self.judge();
        self
    }

    fn judge(&self) -> Vec<Target> {
        let mut targets = Vec::new();
        fn at_target(backend: &BackendReport) -> Option<&FlowLevel> {
            backend
                .flows
                .iter()
                .find(|l| l.concurrency == TARGET_CONCURRENCY)
        }
        for backend in &self.backends {
            let Some(goal) = flows_per_s_target(&backend.name) else {
                continue;
            };
            let target = format!(
                "≥ {} complete flows/s on {} (concurrency {TARGET_CONCURRENCY})",
                thousands(goal as usize),
                backend.name
            );
            targets.push(match at_target(backend) {
                Some(level) => Target {
                    target,
                    measured: format!("{:.0} flows/s", level.flows_per_s),
                    met: Some(level.flows_per_s >= goal),
                },
                None => not_measured(target),
            });
        }
        for backend in &self.backends {
            let Some(goal) = server_cpu_target_ms(&backend.name) else {
                continue;
            };
            let target = format!(
                "server CPU ≤ {goal} ms per complete flow on {} (concurrency {TARGET_CONCURRENCY}, server processes only)",
                backend.name
            );
            targets.push(match at_target(backend) {
                Some(level) => Target {
                    target,
                    measured: format!(
                        "{:.2} ms (of the machine: servers {:.0} %, load generator and SMTP sink {:.0} %, PostgreSQL {:.0} %, idle {:.0} %)",
                        level.server_cpu_ms_per_flow,
                        level.cpu.servers_pct,
                        level.cpu.bench_pct,
                        level.cpu.postgres_pct,
                        level.cpu.idle_pct
                    ),
                    met: Some(level.server_cpu_ms_per_flow <= goal),
                },
                None => not_measured(target),
            });
        }
        let one = self.backends.iter().find(|b| b.name == "PostgreSQL ×1");
        let two = self.backends.iter().find(|b| b.name == "PostgreSQL ×2");
        let target = format!(
            "PostgreSQL ×2 ≥ ×1 in flows/s at concurrency {TARGET_CONCURRENCY} ({:.0} % tolerance)",
            NO_DROP_TOLERANCE * 100.0
        );
        targets.push(match (one.and_then(at_target), two.and_then(at_target)) {
            (Some(one), Some(two)) if one.flows_per_s > 0.0 => Target {
                target,
                measured: format!(
                    "×2 {:.0} vs ×1 {:.0} flows/s ({:.0} %)",
                    two.flows_per_s,
                    one.flows_per_s,
                    two.flows_per_s / one.flows_per_s * 100.0
                ),
                met: Some(two.flows_per_s >= one.flows_per_s * (1.0 - NO_DROP_TOLERANCE)),
            },
            _ => not_measured(target),
        });
        for backend in &self.backends {
            let target = format!(
                "a complete flow, code mail included, < {SERIAL_FLOW_P50_MS:.0} ms p50 at concurrency 1 on {}",
                backend.name
            );
            let serial = backend
                .flows
                .iter()
                .find(|l| l.concurrency == 1)
                .and_then(|l| l.latency.get(FLOW));
            targets.push(match serial {
                Some(latency) => Target {
                    target,
                    measured: format!("p50 {} ms", ms(latency.p50_ms)),
                    met: Some(latency.p50_ms < SERIAL_FLOW_P50_MS),
                },
                None => not_measured(target),
            });
        }
        for backend in &self.backends {
            for (endpoint, ratio_goal) in READ_RATIOS {
                let target = format!(
                    "{endpoint} on {} ≥ {:.0} % of the bare endpoint's req/s (concurrency ≥ {READ_JUDGED_FROM})",
                    backend.name,
                    ratio_goal * 100.0
                );
                let worst = backend
                    .reads
                    .iter()
                    .filter(|l| l.endpoint == endpoint && l.concurrency >= READ_JUDGED_FROM)
                    .filter_map(|l| l.ratio_to_baseline.map(|r| (r, l)))
                    .min_by(|a, b| a.0.total_cmp(&b.0));
                targets.push(match worst {
                    Some((ratio, level)) => Target {
                        target,
                        measured: format!(
                            "worst {:.0} % at concurrency {} ({:.0} req/s)",
                            ratio * 100.0,
                            level.concurrency,
                            level.requests_per_s
                        ),
                        met: Some(ratio >= ratio_goal),
                    },
                    None => not_measured(target),
                });
            }
        }
        for backend in &self.backends {
            let target = format!(
                "p99 < 20 ms at concurrency {TARGET_CONCURRENCY} on {} (every request of the flow and the reads)",
                backend.name
            );
            let flow_steps = backend
                .flows
                .iter()
                .filter(|l| l.concurrency == TARGET_CONCURRENCY)
                .flat_map(|l| {
                    l.latency
                        .iter()
                        .filter(|(endpoint, _)| endpoint.as_str() != FLOW)
                        .map(|(endpoint, latency)| (latency.p99_ms, endpoint.clone()))
                });
            let reads = backend
                .reads
                .iter()
                .filter(|l| l.concurrency == TARGET_CONCURRENCY)
                .map(|l| (l.latency.p99_ms, l.endpoint.clone()));
            let worst = flow_steps.chain(reads).max_by(|a, b| a.0.total_cmp(&b.0));
            targets.push(match worst {
                Some((p99, endpoint)) => Target {
                    target,
                    measured: format!("worst p99 {} ms ({endpoint})", ms(p99)),
                    met: Some(p99 < P99_MS),
                },
                None => not_measured(target),
            });
        }
        for backend in &self.backends {
            for (concurrency, goal) in MAIL_P99_MS {
                let target = format!(
                    "mail handed over < {goal:.0} ms p99 at concurrency {concurrency} on {}",
                    backend.name
                );
                let level = backend
                    .flows
                    .iter()
                    .find(|l| l.concurrency == concurrency && l.mail.count > 0);
                targets.push(match level {
                    Some(level) => Target {
                        target,
                        measured: format!("p99 {} ms", ms(level.mail.p99_ms)),
                        met: Some(level.mail.p99_ms < goal),
                    },
                    None => not_measured(target),
                });
            }
        }
        for backend in &self.backends {
            let target = format!(
                "peak RSS < {FLOW_RSS_MIB:.0} MiB per instance under the flow load on {}",
                backend.name
            );
            let peaks: Option<Vec<f64>> = backend
                .flows
                .iter()
                .flat_map(|l| l.peak_rss_mib.iter().copied())
                .collect();
            let peak = peaks
                .filter(|peaks| !peaks.is_empty())
                .and_then(|peaks| peaks.into_iter().max_by(f64::total_cmp));
            let since_start = backend.flows.iter().any(|l| l.peak_rss_since_start);
            targets.push(match peak {
                Some(peak) => Target {
                    target,
                    measured: format!(
                        "{peak:.1} MiB{}",
                        if since_start {
                            " (peak since start)"
                        } else {
                            ""
                        }
                    ),
                    met: Some(peak < FLOW_RSS_MIB),
                },
                None => not_measured(target),
            });
        }
        if self.settings.flood_logins > 0 {
            for backend in &self.backends {
                targets.extend(self.judge_flood(backend));
            }
        }
        let errors: usize = self
            .backends
            .iter()
            .map(BackendReport::errors)
            .sum::<usize>()
            + self.baseline.iter().map(|l| l.errors).sum::<usize>();
        let failed = self.failed_stages();
        targets.push(Target {
            target: "0 errors".to_owned(),
            measured: if failed.is_empty() {
                format!("{errors} errors")
            } else {
                format!(
                    "{errors} errors; stages that could not run: {}",
                    failed.join(", ")
                )
            },
            met: Some(errors == 0 && failed.is_empty()),
        });
        targets
    }

    /// The two targets of the login flood on `backend`: memory and the reads' p99.
    fn judge_flood(&self, backend: &BackendReport) -> [Target; 2] {
        let flood = backend.login_flood.as_ref();
        let logins = thousands(flood.map_or(self.settings.flood_logins, |f| f.logins));
        let memory = format!(
            "peak RSS during a {logins}-login flood < {FLOOD_RSS_MIB:.0} MiB on {}",
            backend.name
        );
        let memory = match flood.and_then(|f| f.peak_rss().map(|peak| (f, peak))) {
            Some((flood, peak)) => Target {
                target: memory,
                measured: format!(
                    "{} MiB{}",
                    rss(&flood.peak_rss_mib),
                    if flood.peak_rss_since_start {
                        " (peak since start)"
                    } else {
                        ""
                    }
                ),
                met: Some(peak < FLOOD_RSS_MIB),
            },
            None => not_measured(memory),
        };
        let reads = format!(
            "read p99 during the {logins}-login flood < {FLOOD_READ_P99_MS:.0} ms on {}",
            backend.name
        );
        let reads = match flood.and_then(|f| f.worst_read_p99().map(|worst| (f, worst))) {
            Some((flood, (p99, endpoint))) => Target {
                target: reads,
                measured: format!(
                    "worst p99 {} ms (`{endpoint}`, {} reads)",
                    ms(p99),
                    flood.reads.values().map(|l| l.count).sum::<usize>()
                ),
                met: Some(p99 < FLOOD_READ_P99_MS),
            },
            None => not_measured(reads),
        };
        [memory, reads]
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        // Writing to a String cannot fail: the results of writeln! are ignored throughout.
        let _ = writeln!(md, "# Benchmark: ログイン情報再発行 service\n");
        let _ = writeln!(
            md,
            "Run {} for {}, commit `{}`.\n",
            self.started_at,
            duration(self.duration_s),
            self.machine.commit
        );
        let _ =
            writeln!(
            md,
            "- Machine: {} CPUs ({}), {:.1} GiB memory, Linux {}; load average {} at the start, \
             {} at the end. The load generator, the SMTP sink and PostgreSQL share it with the \
             server.",
            self.machine.cpus,
            self.machine.cpu_model,
            self.machine.memory_gib,
            self.machine.kernel,
            self.machine.load_average.first().map_or("?", String::as_str),
            self.machine.load_average.last().map_or("?", String::as_str)
        );
        if let Some(rss) = self.load_generator_peak_rss_mib {
            let _ = writeln!(
                md,
                "- Load generator: tokio + reqwest, one task per concurrent flow, keep-alive \
                 connections opened before each measurement; peak RSS {rss:.0} MiB."
            );
        }
        let s = &self.settings;
        let _ = writeln!(
            md,
            "- Server: `{}` with its defaults ({} actix workers, 10 database connections per \
             instance, outbox polled every 500 ms and woken on commit), logs at `warn`; \
             every flow from its own client address (`X-Forwarded-For`, trusted) under the \
             default per-address limit. Durable storage: SQLite in WAL mode with \
             `synchronous = NORMAL` (the server's setting, survives a process kill); \
             PostgreSQL {} with its default settings (`synchronous_commit = on`).",
            s.server,
            s.workers,
            s.postgres_version.as_deref().unwrap_or("(not run)")
        );
        if !s.server_env.is_empty() {
            let _ = writeln!(
                md,
                "- **Changed server settings** (an experiment, not the defaults): `{}`.",
                s.server_env.join("`, `")
            );
        }
        let _ = writeln!(
            md,
            "- Counts: {} flows at concurrency 1 and {} at each higher level ({}); {} requests \
             per read endpoint and level; {} reviewer logins at concurrency {}; a flood of {} \
             logins with unknown IDs at once, read by {} tasks meanwhile. The baseline is a bare \
             actix-web `GET /ping` JSON endpoint with {} workers in its own process.",
            s.flows_serial,
            s.flows,
            s.concurrency
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            s.requests,
            s.logins,
            s.login_concurrency,
            thousands(s.flood_logins),
            s.flood_readers,
            s.workers
        );
        let _ = writeln!(
            md,
            "- A flow: create → prefecture (ledger check, code queued) → wait for the mail in the \
             SMTP sink → verify → submit, ending `submitted` with a reference number; on two \
             instances its requests alternate between them. The levels run in the order \
             listed on one database per backend, so later levels find more rows. Mail = from \
             sending the prefecture \
             request to the sink accepting the message. Latencies in ms, of successful requests, \
             nearest-rank percentiles; req/s counts every request.\n"
        );

        let _ = writeln!(md, "## Targets\n");
        let _ = writeln!(md, "| target | measured | result |\n| --- | --- | --- |");
        for target in &self.targets {
            let result = match target.met {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "not measured",
            };
            let _ = writeln!(md, "| {} | {} | {result} |", target.target, target.measured);
        }
        md.push('\n');

        let _ = writeln!(md, "## Baseline: bare actix-web JSON endpoint\n");
        if let Some(failure) = &self.baseline_failure {
            let _ = writeln!(md, "Not measured: {failure}\n");
        }
        if !self.baseline.is_empty() {
            let _ = writeln!(
                md,
                "| concurrency | req/s | p50 | p99 | max | peak RSS MiB | CPU % server / load gen / PostgreSQL / other / idle | errors |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
            );
            for level in &self.baseline {
                let _ = writeln!(
                    md,
                    "| {} | {:.0} | {} | {} | {} | {} | {} | {} |",
                    level.concurrency,
                    level.requests_per_s,
                    ms(level.latency.p50_ms),
                    ms(level.latency.p99_ms),
                    ms(level.latency.max_ms),
                    rss(&level.peak_rss_mib),
                    cpu(&level.cpu),
                    level.errors
                );
            }
            md.push('\n');
        }

        for backend in &self.backends {
            backend_markdown(&mut md, backend);
        }
        if let Some(spa) = &self.spa {
            spa.markdown(&mut md);
        }
        md
    }
}

fn backend_markdown(md: &mut String, backend: &BackendReport) {
    let _ = writeln!(md, "## {}\n", backend.name);
    if let Some(failure) = &backend.failure {
        let _ = writeln!(md, "**The stage stopped:** {failure}\n");
    }
    if !backend.flows.is_empty() {
        let _ = writeln!(md, "### Complete flows\n");
        let _ = writeln!(
            md,
            "| concurrency | flows | flows/s | req/s | flow p50 | flow p99 | mail p50 | mail p99 | peak RSS MiB | server CPU ms/flow | CPU % server / load gen / PostgreSQL / other / idle | errors |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for level in &backend.flows {
            let flow = level.latency.get(FLOW).copied().unwrap_or_default();
            let _ = writeln!(
                md,
                "| {} | {}/{} | {:.0} | {:.0} | {} | {} | {} | {} | {} | {:.2} | {} | {} |",
                level.concurrency,
                level.completed,
                level.flows,
                level.flows_per_s,
                level.requests_per_s,
                ms(flow.p50_ms),
                ms(flow.p99_ms),
                ms(level.mail.p50_ms),
                ms(level.mail.p99_ms),
                rss(&level.peak_rss_mib),
                level.server_cpu_ms_per_flow,
                cpu(&level.cpu),
                level.errors
            );
        }
        let _ = writeln!(
            md,
            "\nMails accepted by the sink: {} for {} flows started.\n",
            backend.mails_received,
            backend.flows.iter().map(|l| l.flows).sum::<usize>()
        );
        let _ = writeln!(md, "### Latency per step (ms: p50 / p99 / max)\n");
        let _ = writeln!(
            md,
            "| concurrency | create | prefecture | verification | submission |\n| ---: | ---: | ---: | ---: | ---: |"
        );
        for level in &backend.flows {
            let cell = |endpoint: &str| {
                level.latency.get(endpoint).map_or_else(
                    || "–".to_owned(),
                    |l| format!("{} / {} / {}", ms(l.p50_ms), ms(l.p99_ms), ms(l.max_ms)),
                )
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                level.concurrency,
                cell(CREATE),
                cell(PREFECTURE),
                cell(VERIFICATION),
                cell(SUBMISSION)
            );
        }
        md.push('\n');
    }
    if !backend.reads.is_empty() {
        let _ = writeln!(
            md,
            "### Read endpoints\n\nThe bare endpoint is measured again just before the reads of \
             each concurrency; \"vs bare\" compares with that measurement.\n"
        );
        let _ = writeln!(
            md,
            "| concurrency | endpoint | req/s | p50 | p99 | max | vs bare | peak RSS MiB | CPU % server / load gen / PostgreSQL / other / idle | errors |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        let reads = backend.reads.iter().map(|level| (level, false));
        let bare = backend.baseline.iter().map(|level| (level, true));
        let mut rows: Vec<_> = reads.chain(bare).collect();
        // By concurrency, the bare endpoint first: it was measured just before the reads.
        rows.sort_by_key(|(level, is_bare)| (level.concurrency, !is_bare));
        for (level, _) in rows {
            let _ = writeln!(
                md,
                "| {} | `{}` | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
                level.concurrency,
                level.endpoint,
                level.requests_per_s,
                ms(level.latency.p50_ms),
                ms(level.latency.p99_ms),
                ms(level.latency.max_ms),
                level
                    .ratio_to_baseline
                    .map_or_else(|| "–".to_owned(), |r| format!("{:.0} %", r * 100.0)),
                rss(&level.peak_rss_mib),
                cpu(&level.cpu),
                level.errors
            );
        }
        md.push('\n');
    }
    if let Some(login) = &backend.login {
        let _ = writeln!(
            md,
            "### Reviewer login (argon2id, `POST /admin/sessions`)\n"
        );
        let _ = writeln!(
            md,
            "| concurrency | logins | logins/s | p50 | p99 | max | CPU % server / load gen / PostgreSQL / other / idle | errors |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        let _ = writeln!(
            md,
            "| {} | {} | {:.1} | {} | {} | {} | {} | {} |\n",
            login.concurrency,
            login.logins,
            login.logins_per_s,
            ms(login.latency.p50_ms),
            ms(login.latency.p99_ms),
            ms(login.latency.max_ms),
            cpu(&login.cpu),
            login.errors
        );
    }
    if let Some(flood) = &backend.login_flood {
        flood_markdown(md, flood);
    }
    let samples: Vec<&String> = backend
        .flows
        .iter()
        .flat_map(|l| &l.error_samples)
        .chain(backend.reads.iter().flat_map(|l| &l.error_samples))
        .chain(backend.login.iter().flat_map(|l| &l.error_samples))
        .chain(backend.login_flood.iter().flat_map(|f| &f.error_samples))
        .chain(
            backend
                .login_flood
                .iter()
                .flat_map(|f| &f.read_error_samples),
        )
        .take(5)
        .collect();
    if !samples.is_empty() {
        let _ = writeln!(md, "First errors:\n");
        for sample in samples {
            let _ = writeln!(md, "- `{}`", sample.replace('`', "'"));
        }
        md.push('\n');
    }
    for log in &backend.server_log {
        let _ = writeln!(md, "Server log (last lines):\n\n```\n{log}\n```\n");
    }
}

fn flood_markdown(md: &mut String, flood: &LoginFlood) {
    let _ = writeln!(md, "### Login flood\n");
    let _ = writeln!(
        md,
        "{} reviewer logins with unknown IDs (`POST /admin/sessions`), sent all at once, each \
         from its own client address, under the server's login throttles and argon2 queue (by \
         default 1,000 logins a minute in all, 20 per address, 64 waiting for argon2; the \
         reviewer logins just before may count in the same minute). Meanwhile the reads run \
         until the last login is answered.\n",
        thousands(flood.logins)
    );
    let _ = writeln!(
        md,
        "| answer | logins | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for (answer, latency) in &flood.answers {
        if latency.count == 0 {
            let _ = writeln!(md, "| {answer} | 0 | – | – | – |");
            continue;
        }
        let _ = writeln!(
            md,
            "| {answer} | {} | {} | {} | {} |",
            latency.count,
            ms(latency.p50_ms),
            ms(latency.p99_ms),
            ms(latency.max_ms)
        );
    }
    let _ = writeln!(
        md,
        "| errors (any other answer, or none) | {} | – | – | – |\n",
        flood.errors
    );
    let _ = writeln!(
        md,
        "| read during the flood | reads | p50 | p99 | max |\n| --- | ---: | ---: | ---: | ---: |"
    );
    for (endpoint, latency) in &flood.reads {
        let _ = writeln!(
            md,
            "| `{endpoint}` | {} | {} | {} | {} |",
            latency.count,
            ms(latency.p50_ms),
            ms(latency.p99_ms),
            ms(latency.max_ms)
        );
    }
    let _ = writeln!(
        md,
        "\nThe flood took {:.1} s to the last answer; {:.0} reads/s, {} read errors. Peak RSS \
         {} MiB{} ({} MiB just before). CPU % server / load gen / PostgreSQL / other / idle: \
         {}.\n",
        flood.seconds,
        flood.reads_per_s,
        flood.read_errors,
        rss(&flood.peak_rss_mib),
        if flood.peak_rss_since_start {
            ", since the start: the kernel refused the reset"
        } else {
            ""
        },
        rss(&flood.rss_before_mib),
        cpu(&flood.cpu)
    );
}

fn not_measured(target: String) -> Target {
    Target {
        target,
        measured: "–".to_owned(),
        met: None,
    }
}

/// Milliseconds: two decimals below 1, one below 100.
fn ms(value: f64) -> String {
    if value < 1.0 {
        format!("{value:.2}")
    } else if value < 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.0}")
    }
}

/// CPU shares as `server / load gen / PostgreSQL / other / idle`.
fn cpu(cpu: &CpuUse) -> String {
    format!(
        "{:.0} / {:.0} / {:.0} / {:.0} / {:.0}",
        cpu.servers_pct, cpu.bench_pct, cpu.postgres_pct, cpu.other_pct, cpu.idle_pct
    )
}

/// Peak RSS of one or more processes.
fn rss(values: &[Option<f64>]) -> String {
    values
        .iter()
        .map(|v| v.map_or_else(|| "?".to_owned(), |mib| format!("{mib:.0}")))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A count with thousands separated: 1,000.
fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut text = String::new();
    for (n, digit) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text
}

fn duration(seconds: f64) -> String {
    let whole = seconds.round() as u64;
    format!("{} min {:02} s", whole / 60, whole % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_written_with_thousands_separated() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(100), "100");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
