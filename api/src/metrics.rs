//! Prometheus metrics, served at `GET /metrics` in the text exposition format.
//!
//! Counters and histograms live in one process-wide registry (the convention of Prometheus
//! clients: one process, one set of series). The outbox gauges are read from the database at
//! each scrape, so every instance behind one PostgreSQL reports the same backlog.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

/// Latency buckets in seconds: fine below 25 ms, where this service should answer.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    mail_attempts: IntCounterVec,
    budget_refusals: IntCounterVec,
    outbox_pending: IntGauge,
    outbox_oldest_age: IntGauge,
    outbox_failed: IntGauge,
}

impl Metrics {
    fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new_custom(Some("reissue".into()), None)?;
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route and status",
            ),
            &["method", "route", "status"],
        )?;
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from the request to the response, by route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        )?;
        let mail_attempts = IntCounterVec::new(
            Opts::new(
                "mail_delivery_attempts_total",
                "Mail delivery tries by outcome: sent, retry (failed, will be tried again), \
                 failed (given up after the last try)",
            ),
            &["outcome"],
        )?;
        let budget_refusals = IntCounterVec::new(
            Opts::new(
                "rate_limit_refusals_total",
                "Requests refused because a budget or rate limit was spent, by limit",
            ),
            &["limit"],
        )?;
        let outbox_pending = IntGauge::new(
            "outbox_pending_messages",
            "Mail queued and not yet delivered (including retries waiting)",
        )?;
        let outbox_oldest_age = IntGauge::new(
            "outbox_oldest_pending_age_seconds",
            "Age of the oldest undelivered mail (0 when none waits)",
        )?;
        let outbox_failed = IntGauge::new(
            "outbox_failed_messages",
            "Mail given up after the last try; an operator must look at these",
        )?;
        registry.register(Box::new(http_requests.clone()))?;
        registry.register(Box::new(http_duration.clone()))?;
        registry.register(Box::new(mail_attempts.clone()))?;
        registry.register(Box::new(budget_refusals.clone()))?;
        registry.register(Box::new(outbox_pending.clone()))?;
        registry.register(Box::new(outbox_oldest_age.clone()))?;
        registry.register(Box::new(outbox_failed.clone()))?;
        Ok(Self {
            registry,
            http_requests,
            http_duration,
            mail_attempts,
            budget_refusals,
            outbox_pending,
            outbox_oldest_age,
            outbox_failed,
        })
    }
}

// Building can fail only for a malformed metric name, which the unit test below would catch;
// a failure must not take the service down, so recording then does nothing.
static METRICS: LazyLock<Result<Metrics, prometheus::Error>> = LazyLock::new(Metrics::new);

fn metrics() -> Option<&'static Metrics> {
    METRICS.as_ref().ok()
}

/// Records one answered request. `route` is the matched pattern, never the concrete path.
pub fn observe_request(method: &str, route: &str, status: u16, elapsed: Duration) {
    if let Some(m) = metrics() {
        m.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        m.http_duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }
}

/// The outcome of one delivery try.
#[derive(Debug, Clone, Copy)]
pub enum MailOutcome {
    /// Handed over to the SMTP server (or the development mailbox).
    Sent,
    /// Failed; will be tried again.
    Retry,
    /// Failed for good.
    Failed,
}

/// Records one delivery try.
pub fn observe_mail(outcome: MailOutcome) {
    let label = match outcome {
        MailOutcome::Sent => "sent",
        MailOutcome::Retry => "retry",
        MailOutcome::Failed => "failed",
    };
    if let Some(m) = metrics() {
        m.mail_attempts.with_label_values(&[label]).inc();
    }
}

/// Records a refusal by the limit named `limit` (a budget kind such as `code:office`, never
/// its subject, which would be an office number or an address).
pub fn observe_refusal(limit: &str) {
    if let Some(m) = metrics() {
        m.budget_refusals.with_label_values(&[limit]).inc();
    }
}

/// The outbox as the gauges show it, read from storage at each scrape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutboxGauges {
    /// Messages not yet delivered (including ones waiting for a retry).
    pub pending: i64,
    /// When the oldest waiting message was queued.
    pub oldest_queued_at: Option<time::OffsetDateTime>,
    /// Messages given up after the last try.
    pub failed: i64,
}

/// The exposition text, with the outbox gauges set from `backlog` read just now. A failure
/// (only possible with a malformed metric, which the unit test rules out) is logged and gives
/// an empty text: a scrape must not fail the service.
pub fn render(backlog: &OutboxGauges, now: time::OffsetDateTime) -> String {
    try_render(backlog, now).unwrap_or_else(|error| {
        tracing::error!(%error, "metrics could not be rendered");
        String::new()
    })
}

fn try_render(
    backlog: &OutboxGauges,
    now: time::OffsetDateTime,
) -> Result<String, prometheus::Error> {
    let m = METRICS
        .as_ref()
        .map_err(|e| prometheus::Error::Msg(e.to_string()))?;
    m.outbox_pending.set(backlog.pending);
    m.outbox_failed.set(backlog.failed);
    let age = backlog
        .oldest_queued_at
        .map_or(0, |queued| (now - queued).whole_seconds().max(0));
    m.outbox_oldest_age.set(age);
    let mut text = Vec::new();
    TextEncoder::new().encode(&m.registry.gather(), &mut text)?;
    String::from_utf8(text).map_err(|e| prometheus::Error::Msg(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_renders_with_its_help_and_the_backlog_gauges_are_set() {
        let now = time::OffsetDateTime::now_utc();
        observe_request("GET", "/api/v1/prefectures", 200, Duration::from_millis(3));
        observe_mail(MailOutcome::Sent);
        observe_refusal("code:office");
        let backlog = OutboxGauges {
            pending: 4,
            oldest_queued_at: Some(now - Duration::from_secs(90)),
            failed: 1,
        };
        let text = try_render(&backlog, now).unwrap_or_else(|e| panic!("{e}"));
        for expected in [
            "reissue_http_requests_total{method=\"GET\",route=\"/api/v1/prefectures\",status=\"200\"}",
            "reissue_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/prefectures\",le=\"0.005\"}",
            "reissue_mail_delivery_attempts_total{outcome=\"sent\"}",
            "reissue_rate_limit_refusals_total{limit=\"code:office\"}",
            "reissue_outbox_pending_messages 4",
            "reissue_outbox_oldest_pending_age_seconds 90",
            "reissue_outbox_failed_messages 1",
            "# HELP reissue_outbox_failed_messages",
        ] {
            assert!(text.contains(expected), "missing {expected} in:\n{text}");
        }
    }
}
