//! The measurements: the baseline, then per backend the complete flow at each concurrency, the
//! read endpoints, reviewer logins and the login flood, then the browser app's figures.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use reissue_e2e::smtp_sink::SmtpSink;
use reissue_shared::admin::LoginRequest;
use reissue_shared::dto::{
    ApplicationView, ChoosePrefectureRequest, CodeSent, CreateApplicationRequest,
    CreatedApplication, Problem, Submitted, Verified, VerifyCodeRequest,
};
use reissue_shared::{ApplicationStatus, ErrorCode};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::baseline::BaselineServer;
use crate::cpu::CpuSample;
use crate::endpoints::{
    APPLICATION, BARE, CREATE, FLOOD_BUSY, FLOOD_LOGIN, FLOOD_REFUSED, FLOOD_THROTTLED, FLOW,
    LOGIN, PREFECTURE, PREFECTURES, SUBMISSION, VERIFICATION,
};
use crate::load::{self, Recorder};
use crate::report::{
    BackendReport, FlowLevel, LoginFlood, LoginResult, Machine, ReadLevel, Report, Settings,
};
use crate::stack::{self, Database, Stack};
use crate::{spa, Plan, Stage};

/// How long a code mail may take before the flow counts as failed.
const MAIL_TIMEOUT: Duration = Duration::from_secs(30);
/// Per request: a server that stops answering fails the request instead of the run.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle keep-alive connections are dropped by the client before actix-web's 5 s keep-alive
/// closes them: otherwise a request sent just as the server closes the connection fails, and a
/// POST is not retried. Real clients behind a pool need the same rule; it is not the server's
/// error.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(3);
/// Tasks reading during the login flood: the staff at work while the logins pour in.
const FLOOD_READERS: usize = 8;
/// The flood's password: any that passes the login form (12 characters or more), so that every
/// attempt reaches the throttle and argon2.
const FLOOD_PASSWORD: &str = "flood-password-0000";
/// The right answers to a flood login with an unknown ID: its status, its problem code, and
/// the name the report counts it under. Anything else is an error.
const FLOOD_ANSWERS: [(StatusCode, ErrorCode, &str); 3] = [
    (
        StatusCode::UNAUTHORIZED,
        ErrorCode::InvalidCredentials,
        FLOOD_REFUSED,
    ),
    (
        StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::RateLimited,
        FLOOD_THROTTLED,
    ),
    (
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::ServiceUnavailable,
        FLOOD_BUSY,
    ),
];

/// Runs the stages of `plan` and gathers the report (a stage that cannot run is reported as
/// such; the others still run).
pub async fn run_all(plan: &Plan) -> anyhow::Result<Report> {
    let http = client(plan)?;
    let mut report = Report::new(Machine::detect(), settings(plan));
    // Kept running: the read measurements compare with it again.
    let mut baseline_server = None;
    if plan.stages.contains(&Stage::Baseline) {
        eprintln!("bench: baseline (bare actix-web)");
        match baseline(plan, &http).await {
            Ok((server, levels)) => {
                baseline_server = Some(server);
                report.baseline = levels;
            }
            Err(error) => report.baseline_failure = Some(format!("{error:#}")),
        }
    }
    let backends = [
        (Stage::Sqlite, "SQLite", Database::Sqlite, 1),
        (Stage::Postgres, "PostgreSQL ×1", Database::Postgres, 1),
        (Stage::Postgres2, "PostgreSQL ×2", Database::Postgres, 2),
    ];
    for (stage, name, database, instances) in backends {
        if !plan.stages.contains(&stage) {
            continue;
        }
        eprintln!("bench: {name}");
        let mut backend = BackendReport::new(name, instances);
        let measured = measure_backend(
            plan,
            &http,
            database,
            &mut backend,
            baseline_server.as_ref(),
        )
        .await;
        if let Err(error) = measured {
            backend.failure = Some(format!("{error:#}"));
        }
        report.backends.push(backend);
    }
    if plan.stages.contains(&Stage::Spa) {
        eprintln!("bench: browser app");
        report.spa = Some(spa::measure(&plan.server).await);
    }
    Ok(report)
}

/// One HTTP client for the whole run: one keep-alive connection per concurrent task.
fn client(plan: &Plan) -> anyhow::Result<reqwest::Client> {
    let most = plan.concurrency.iter().copied().max().unwrap_or(1);
    reqwest::Client::builder()
        .pool_max_idle_per_host(most.max(plan.login_concurrency))
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .tcp_nodelay(true)
        .build()
        .context("building the HTTP client")
}

fn settings(plan: &Plan) -> Settings {
    Settings {
        concurrency: plan.concurrency.clone(),
        flows_serial: plan.flows_serial,
        flows: plan.flows,
        requests: plan.requests,
        logins: plan.logins,
        login_concurrency: plan.login_concurrency,
        flood_logins: plan.flood_logins,
        flood_readers: FLOOD_READERS,
        workers: plan.workers,
        server: plan.server.display().to_string(),
        postgres_version: None,
        server_env: plan
            .server_env
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect(),
    }
}

async fn baseline(
    plan: &Plan,
    http: &reqwest::Client,
) -> anyhow::Result<(BaselineServer, Vec<ReadLevel>)> {
    let server = BaselineServer::start(plan.workers, http).await?;
    let mut levels = Vec::new();
    for &concurrency in &plan.concurrency {
        levels.push(bare(plan, http, &server, concurrency).await);
    }
    Ok((server, levels))
}

/// The bare endpoint at one concurrency.
async fn bare(
    plan: &Plan,
    http: &reqwest::Client,
    server: &BaselineServer,
    concurrency: usize,
) -> ReadLevel {
    let urls = Arc::new(vec![server.url()]);
    warm_up(http, &urls, concurrency).await;
    stack::reset_peak_rss(server.pid());
    let before = CpuSample::take(&[server.pid()], None);
    let http = http.clone();
    let (recorder, elapsed) = load::run(plan.requests, concurrency, move |_, mut rec| {
        let request = http.get(urls.first().map_or("", String::as_str));
        async move {
            if rec.call(BARE, request, StatusCode::OK).await.is_some() {
                rec.completed += 1;
            }
            rec
        }
    })
    .await;
    let cpu = before.until(&CpuSample::take(&[server.pid()], None));
    let rss = vec![stack::peak_rss_mib(server.pid())];
    ReadLevel::new(BARE, concurrency, recorder, elapsed, rss, cpu)
}

async fn measure_backend(
    plan: &Plan,
    http: &reqwest::Client,
    database: Database,
    backend: &mut BackendReport,
    baseline: Option<&BaselineServer>,
) -> anyhow::Result<()> {
    let offices: usize = plan.concurrency.iter().map(|c| plan.flows_at(*c)).sum();
    let stack = Stack::start(
        &plan.server,
        database,
        backend.instances,
        offices,
        plan.login_concurrency,
        &plan.postgres_url,
        &plan.server_env,
    )
    .await?;
    if database == Database::Postgres {
        backend.postgres_version = stack::psql(&plan.postgres_url, "SHOW server_version").ok();
    }
    let bases = Arc::new(stack.base_urls());
    let pids = stack.pids();
    let warm_up_urls = Arc::new(
        bases
            .iter()
            .map(|base| format!("{base}/api/v1/prefectures"))
            .collect::<Vec<_>>(),
    );
    let mut office_pool = stack.offices.iter();
    let mut applications = Vec::new();
    for (level, &concurrency) in plan.concurrency.iter().enumerate() {
        let count = plan.flows_at(concurrency);
        let offices: Vec<String> = office_pool.by_ref().take(count).cloned().collect();
        warm_up(http, &warm_up_urls, concurrency).await;
        let memory_reset = stack.reset_peak_memory();
        let before = CpuSample::take(&pids, stack.postgres_database.as_deref());
        let context = Arc::new(FlowContext {
            http: http.clone(),
            bases: Arc::clone(&bases),
            sink: Arc::clone(&stack.sink),
            offices,
            level,
        });
        let (mut recorder, elapsed) = load::run(count, concurrency, move |index, rec| {
            flow(Arc::clone(&context), index, rec)
        })
        .await;
        let cpu = before.until(&CpuSample::take(&pids, stack.postgres_database.as_deref()));
        applications.append(&mut recorder.applications);
        let level = FlowLevel::new(
            concurrency,
            count,
            recorder,
            elapsed,
            (stack.peak_memory_mib(), memory_reset),
            cpu,
        );
        eprintln!(
            "bench:   concurrency {concurrency}: {:.0} flows/s, {} errors",
            level.flows_per_s, level.errors
        );
        backend.flows.push(level);
    }
    backend.mails_received = stack.sink.messages().len();

    let applications = Arc::new(applications);
    for &concurrency in &plan.concurrency {
        // The bare endpoint again, just before: other work on the machine changes over a run,
        // and the ratio should compare like with like.
        let bare_now = match baseline {
            Some(server) => {
                let level = bare(plan, http, server, concurrency).await;
                let requests_per_s = level.requests_per_s;
                backend.baseline.push(level);
                Some(requests_per_s)
            }
            None => None,
        };
        for endpoint in [PREFECTURES, APPLICATION] {
            warm_up(http, &warm_up_urls, concurrency).await;
            stack.reset_peak_memory();
            let before = CpuSample::take(&pids, stack.postgres_database.as_deref());
            let (recorder, elapsed) = read(
                http,
                &bases,
                &applications,
                endpoint,
                plan.requests,
                concurrency,
            )
            .await;
            let cpu = before.until(&CpuSample::take(&pids, stack.postgres_database.as_deref()));
            let mut level = ReadLevel::new(
                endpoint,
                concurrency,
                recorder,
                elapsed,
                stack.peak_memory_mib(),
                cpu,
            );
            level.ratio_to_baseline = bare_now.map(|bare| level.requests_per_s / bare);
            backend.reads.push(level);
        }
    }

    stack.reset_peak_memory();
    let before = CpuSample::take(&pids, stack.postgres_database.as_deref());
    let mut login = logins(plan, http, &bases, &stack.reviewers).await;
    login.cpu = before.until(&CpuSample::take(&pids, stack.postgres_database.as_deref()));
    backend.login = Some(login);

    if plan.flood_logins > 0 {
        let flood = login_flood(plan, http, &stack, &bases, &applications).await;
        eprintln!("bench:   login flood: {}", flood.summary());
        backend.login_flood = Some(flood);
    }
    backend.server_log = stack.log_tails();
    Ok(())
}

/// Opens the keep-alive connections a measurement will use (two requests per task), so that
/// connection set-up is not measured.
async fn warm_up(http: &reqwest::Client, urls: &Arc<Vec<String>>, concurrency: usize) {
    let http = http.clone();
    let urls = Arc::clone(urls);
    let _ = load::run(concurrency * 2, concurrency, move |index, mut rec| {
        let url = urls
            .get(index % urls.len().max(1))
            .cloned()
            .unwrap_or_default();
        let request = http.get(url);
        async move {
            // Not measured: an error here shows in the measurement that follows.
            let _ = rec.call("warm-up", request, StatusCode::OK).await;
            rec
        }
    })
    .await;
}

/// What every flow of one concurrency level shares.
struct FlowContext {
    http: reqwest::Client,
    bases: Arc<Vec<String>>,
    sink: Arc<SmtpSink>,
    offices: Vec<String>,
    /// Position of the level in the plan: with the index of the flow, a fresh address (the
    /// sink finds a flow's mail by its recipient, and a level may repeat a concurrency).
    level: usize,
}

impl FlowContext {
    /// The instance for step `step` of flow `index`: with two instances behind one database,
    /// consecutive requests of a flow go to different instances, as behind a round-robin
    /// load balancer.
    fn base(&self, index: usize, step: usize) -> &str {
        let n = self.bases.len().max(1);
        self.bases
            .get((index + step) % n)
            .map_or("", String::as_str)
    }
}

/// One complete applicant flow; any failure ends it and counts as an error.
async fn flow(context: Arc<FlowContext>, index: usize, mut rec: Recorder) -> Recorder {
    let started = Instant::now();
    if run_flow(&context, index, &mut rec).await.is_some() {
        rec.completed += 1;
        rec.latencies
            .entry(FLOW)
            .or_default()
            .push(started.elapsed());
    }
    rec
}

async fn run_flow(context: &FlowContext, index: usize, rec: &mut Recorder) -> Option<()> {
    let http = &context.http;
    let office = context.offices.get(index)?.clone();
    let email = format!("l{}-{index}@bench.example.jp", context.level);
    // The office's own address (in 10.0.0.0/8), new for every flow.
    let office_address = format!("10.{}.{}.{}", context.level, index / 256, index % 256);
    let from_office = |request: reqwest::RequestBuilder| {
        request.header("x-forwarded-for", office_address.as_str())
    };
    let api = |step: usize| format!("{}/api/v1/reissue-applications", context.base(index, step));

    let body = CreateApplicationRequest {
        office_number: office,
        email: email.clone(),
        email_confirmation: email.clone(),
    };
    let created: CreatedApplication = json(
        rec,
        CREATE,
        from_office(http.post(api(0))).json(&body),
        StatusCode::CREATED,
    )
    .await?;
    let id = created.id.to_string();
    let token = created.token.expose().to_owned();

    let asked = Instant::now();
    let body = ChoosePrefectureRequest {
        prefecture_code: stack::PREFECTURE.to_owned(),
    };
    let sent: CodeSent = json(
        rec,
        PREFECTURE,
        from_office(http.put(format!("{}/{id}/prefecture", api(1))))
            .bearer_auth(&token)
            .json(&body),
        StatusCode::OK,
    )
    .await?;
    expect_status(rec, PREFECTURE, sent.status, ApplicationStatus::CodeSent)?;

    let Some(mail) = context.sink.wait_for_mail_to(&email, 0, MAIL_TIMEOUT).await else {
        rec.error(
            "mail",
            format!("no code mail to {email} within {MAIL_TIMEOUT:?}"),
        );
        return None;
    };
    rec.mail
        .push(mail.received_at.saturating_duration_since(asked));
    let Some(code) = reissue_e2e::code_from_body(&mail.body) else {
        rec.error("mail", format!("no code in the mail {:?}", mail.subject));
        return None;
    };

    let verified: Verified = json(
        rec,
        VERIFICATION,
        from_office(http.post(format!("{}/{id}/verification", api(2))))
            .bearer_auth(&token)
            .json(&VerifyCodeRequest { code: code.into() }),
        StatusCode::OK,
    )
    .await?;
    expect_status(
        rec,
        VERIFICATION,
        verified.status,
        ApplicationStatus::Verified,
    )?;

    let submitted: Submitted = json(
        rec,
        SUBMISSION,
        from_office(http.post(format!("{}/{id}/submission", api(3)))).bearer_auth(&token),
        StatusCode::OK,
    )
    .await?;
    expect_status(
        rec,
        SUBMISSION,
        submitted.status,
        ApplicationStatus::Submitted,
    )?;
    if submitted.reference_number.is_empty() {
        rec.error(SUBMISSION, "submitted without a reference number");
        return None;
    }
    rec.applications.push((id, token));
    Some(())
}

/// Calls and decodes the answer; a body that does not decode is an error.
async fn json<T: DeserializeOwned>(
    rec: &mut Recorder,
    endpoint: &'static str,
    request: reqwest::RequestBuilder,
    expected: StatusCode,
) -> Option<T> {
    let body = rec.call(endpoint, request, expected).await?;
    match serde_json::from_slice(&body) {
        Ok(value) => Some(value),
        Err(error) => {
            rec.error(
                endpoint,
                format!(
                    "undecodable answer ({error}): {}",
                    String::from_utf8_lossy(&body)
                ),
            );
            None
        }
    }
}

fn expect_status(
    rec: &mut Recorder,
    endpoint: &'static str,
    actual: ApplicationStatus,
    expected: ApplicationStatus,
) -> Option<()> {
    if actual == expected {
        Some(())
    } else {
        rec.error(
            endpoint,
            format!("status {actual:?} instead of {expected:?}"),
        );
        None
    }
}

/// `requests` reads of one endpoint; the application reads cycle through the submitted
/// applications and check they are still `submitted`.
async fn read(
    http: &reqwest::Client,
    bases: &Arc<Vec<String>>,
    applications: &Arc<Vec<(String, String)>>,
    endpoint: &'static str,
    requests: usize,
    concurrency: usize,
) -> (Recorder, Duration) {
    let http = http.clone();
    let bases = Arc::clone(bases);
    let applications = Arc::clone(applications);
    load::run(requests, concurrency, move |index, rec| {
        read_one(
            http.clone(),
            instance(&bases, index),
            nth_application(&applications, index),
            endpoint,
            rec,
        )
    })
    .await
}

/// The instance for request `index`: round-robin, as behind a load balancer.
fn instance(bases: &[String], index: usize) -> String {
    bases
        .get(index % bases.len().max(1))
        .cloned()
        .unwrap_or_default()
}

/// The submitted application read by request `index`.
fn nth_application(applications: &[(String, String)], index: usize) -> Option<(String, String)> {
    if applications.is_empty() {
        None
    } else {
        applications.get(index % applications.len()).cloned()
    }
}

/// One read of `endpoint` from `base`: the 47 prefectures, or `application` with its token,
/// still `submitted`.
async fn read_one(
    http: reqwest::Client,
    base: String,
    application: Option<(String, String)>,
    endpoint: &'static str,
    mut rec: Recorder,
) -> Recorder {
    match endpoint {
        PREFECTURES => {
            let request = http.get(format!("{base}/api/v1/prefectures"));
            let list: Option<Vec<reissue_shared::dto::Prefecture>> =
                json(&mut rec, PREFECTURES, request, StatusCode::OK).await;
            match list.map(|list| list.len()) {
                Some(47) => rec.completed += 1,
                Some(n) => rec.error(PREFECTURES, format!("{n} prefectures instead of 47")),
                None => {}
            }
        }
        _ => {
            let Some((id, token)) = application else {
                rec.error(APPLICATION, "no submitted application to read");
                return rec;
            };
            let request = http
                .get(format!("{base}/api/v1/reissue-applications/{id}"))
                .bearer_auth(token);
            let view: Option<ApplicationView> =
                json(&mut rec, APPLICATION, request, StatusCode::OK).await;
            if let Some(view) = view {
                if expect_status(
                    &mut rec,
                    APPLICATION,
                    view.status,
                    ApplicationStatus::Submitted,
                )
                .is_some()
                {
                    rec.completed += 1;
                }
            }
        }
    }
    rec
}

/// Reviewer logins (argon2id verification) at the login concurrency, spread over the
/// benchmark reviewers and the instances, each from its own client address (in 172.16.0.0/12):
/// from one address, the per-client login throttle would refuse all but the first few.
async fn logins(
    plan: &Plan,
    http: &reqwest::Client,
    bases: &Arc<Vec<String>>,
    reviewers: &[String],
) -> LoginResult {
    let http = http.clone();
    let bases = Arc::clone(bases);
    let reviewers: Arc<Vec<String>> = Arc::new(reviewers.to_vec());
    let (recorder, elapsed) = load::run(
        plan.logins,
        plan.login_concurrency,
        move |index, mut rec| {
            let base = bases
                .get(index % bases.len().max(1))
                .cloned()
                .unwrap_or_default();
            let body = LoginRequest {
                login_id: reviewers
                    .get(index % reviewers.len().max(1))
                    .cloned()
                    .unwrap_or_default(),
                password: stack::REVIEWER_PASSWORD.into(),
                // The benchmark's reviewers are not enrolled: the login answers a session
                // that enrols, after the same password check.
                ..LoginRequest::default()
            };
            let request = http
                .post(format!("{base}/api/v1/admin/sessions"))
                .header(
                    "x-forwarded-for",
                    format!("172.16.{}.{}", index / 256, index % 256),
                )
                .json(&body);
            async move {
                if rec.call(LOGIN, request, StatusCode::OK).await.is_some() {
                    rec.completed += 1;
                }
                rec
            }
        },
    )
    .await;
    LoginResult::new(
        plan.login_concurrency,
        plan.logins,
        recorder,
        elapsed,
        crate::cpu::CpuUse::default(),
    )
}

/// The login flood (issue 11): `plan.flood_logins` reviewer logins with unknown IDs, all sent at
/// once, each from its own client address, spread over the instances, while [`FLOOD_READERS`]
/// tasks read an application and the prefectures until the last login is answered. The server
/// keeps its default login throttles and argon2 queue: whether they hold its memory and the
/// reads' latency is what is measured. The peak memory is the kernel's high-water mark since
/// the reset just before the flood: exact, where sampling could miss a short peak.
async fn login_flood(
    plan: &Plan,
    http: &reqwest::Client,
    stack: &Stack,
    bases: &Arc<Vec<String>>,
    applications: &Arc<Vec<(String, String)>>,
) -> LoginFlood {
    let pids = stack.pids();
    let read_urls = Arc::new(
        bases
            .iter()
            .map(|base| format!("{base}/api/v1/prefectures"))
            .collect::<Vec<_>>(),
    );
    warm_up(http, &read_urls, FLOOD_READERS).await;
    let rss_before = stack.memory_mib();
    let memory_reset = stack.reset_peak_memory();
    let before = CpuSample::take(&pids, stack.postgres_database.as_deref());

    let stop = Arc::new(AtomicBool::new(false));
    let readers = {
        let http = http.clone();
        let bases = Arc::clone(bases);
        let applications = Arc::clone(applications);
        tokio::spawn(load::run_until(
            FLOOD_READERS,
            Arc::clone(&stop),
            move |index, rec| {
                let endpoint = if index % 2 == 0 {
                    APPLICATION
                } else {
                    PREFECTURES
                };
                // Each endpoint on every instance in turn.
                let nth = index / 2;
                read_one(
                    http.clone(),
                    instance(&bases, nth),
                    nth_application(&applications, nth),
                    endpoint,
                    rec,
                )
            },
        ))
    };

    let flood_http = http.clone();
    let flood_bases = Arc::clone(bases);
    let (logins, elapsed) = load::run(plan.flood_logins, plan.flood_logins, move |index, rec| {
        let body = LoginRequest {
            login_id: format!("flood-{index}"),
            password: FLOOD_PASSWORD.into(),
            ..LoginRequest::default()
        };
        let request = flood_http
            .post(format!(
                "{}/api/v1/admin/sessions",
                instance(&flood_bases, index)
            ))
            .header("x-forwarded-for", flood_address(index))
            .json(&body);
        flood_login(request, rec)
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    let (reads, read_elapsed) = match readers.await {
        Ok(measured) => measured,
        Err(error) => {
            let mut rec = Recorder::default();
            rec.error("readers", format!("task failed: {error}"));
            (rec, Duration::ZERO)
        }
    };
    let cpu = before.until(&CpuSample::take(&pids, stack.postgres_database.as_deref()));
    LoginFlood::new(
        plan.flood_logins,
        (logins, elapsed),
        (reads, read_elapsed),
        (stack.peak_memory_mib(), memory_reset),
        rss_before,
        cpu,
    )
}

/// The client address of flood login `index`, in 198.18.0.0/15 (set aside for benchmarks,
/// RFC 2544): one per login, so the per-client throttle does not refuse them and only the
/// global throttle and the argon2 queue stand between the flood and the server.
fn flood_address(index: usize) -> String {
    format!(
        "198.{}.{}.{}",
        18 + index / 65_536 % 2,
        index / 256 % 256,
        index % 256
    )
}

/// One flood login: counted under its answer when it is one of [`FLOOD_ANSWERS`] with the
/// matching problem code, otherwise an error.
async fn flood_login(request: reqwest::RequestBuilder, mut rec: Recorder) -> Recorder {
    let Some((status, body, elapsed)) = rec.send(FLOOD_LOGIN, request).await else {
        return rec;
    };
    let code = serde_json::from_slice::<Problem>(&body)
        .ok()
        .map(|problem| problem.code);
    let answer = FLOOD_ANSWERS
        .iter()
        .find(|(expected, problem_code, _)| *expected == status && code == Some(*problem_code));
    match answer {
        Some((_, _, name)) => {
            rec.latencies.entry(*name).or_default().push(elapsed);
            rec.completed += 1;
        }
        None => rec.error(
            FLOOD_LOGIN,
            format!("{status}: {}", String::from_utf8_lossy(&body)),
        ),
    }
    rec
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flood_login_has_its_own_address_in_the_benchmark_range() {
        let addresses: std::collections::HashSet<String> =
            (0..131_072).map(flood_address).collect();
        assert_eq!(addresses.len(), 131_072);
        assert_eq!(flood_address(0), "198.18.0.0");
        assert_eq!(flood_address(999), "198.18.3.231");
        assert_eq!(flood_address(131_071), "198.19.255.255");
        assert!(addresses
            .iter()
            .all(|address| address.parse::<std::net::Ipv4Addr>().is_ok()));
    }
}
