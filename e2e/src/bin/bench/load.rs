//! The load generator: a fixed number of jobs run by N tasks at once, each task looping until
//! all jobs are taken, with every request's latency recorded per endpoint.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde::Serialize;

/// Error bodies kept per measurement, for the report.
const ERROR_SAMPLES: usize = 5;
/// Characters of an error body kept.
const ERROR_BODY_CHARS: usize = 300;

/// What one task recorded; merged across tasks at the end (no lock while measuring).
#[derive(Debug, Default)]
pub struct Recorder {
    /// Latency of each successful request, per endpoint.
    pub latencies: BTreeMap<&'static str, Vec<Duration>>,
    /// From the code request to the sink's acceptance of the mail, per flow.
    pub mail: Vec<Duration>,
    /// Requests answered or failed (successes and errors).
    pub requests: usize,
    /// Jobs that completed without an error.
    pub completed: usize,
    /// Non-2xx answers, transport errors and wrong answers.
    pub errors: usize,
    /// The first few errors, described.
    pub error_samples: Vec<String>,
    /// (id, token) of each submitted application, for the read measurement.
    pub applications: Vec<(String, String)>,
}

impl Recorder {
    /// Counts an error and keeps its description while there are few.
    pub fn error(&mut self, endpoint: &str, what: impl std::fmt::Display) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES {
            let what = what.to_string();
            let what: String = what.chars().take(ERROR_BODY_CHARS).collect();
            self.error_samples.push(format!("{endpoint}: {what}"));
        }
    }

    fn merge(&mut self, other: Recorder) {
        for (endpoint, mut latencies) in other.latencies {
            self.latencies
                .entry(endpoint)
                .or_default()
                .append(&mut latencies);
        }
        self.mail.extend(other.mail);
        self.requests += other.requests;
        self.completed += other.completed;
        self.errors += other.errors;
        for sample in other.error_samples {
            if self.error_samples.len() < ERROR_SAMPLES {
                self.error_samples.push(sample);
            }
        }
        self.applications.extend(other.applications);
    }

    /// Sends `request`, reads the whole body, and records the latency under `endpoint` when the
    /// status is `expected`; otherwise records an error. Returns the body on success.
    pub async fn call(
        &mut self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
        expected: StatusCode,
    ) -> Option<Vec<u8>> {
        let (status, body, elapsed) = self.send(endpoint, request).await?;
        if status != expected {
            self.error(
                endpoint,
                format!("{status}: {}", String::from_utf8_lossy(&body)),
            );
            return None;
        }
        self.latencies.entry(endpoint).or_default().push(elapsed);
        Some(body)
    }

    /// Sends `request` and reads the whole body: its status, body and latency, or `None` with
    /// the transport error recorded under `endpoint`. For a request with more than one right
    /// answer, whose caller judges the status and records the latency itself.
    pub async fn send(
        &mut self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Option<(StatusCode, Vec<u8>, Duration)> {
        self.requests += 1;
        let started = Instant::now();
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                self.error(endpoint, format!("transport: {}", chain(&error)));
                return None;
            }
        };
        let status = response.status();
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => {
                self.error(endpoint, format!("reading the body: {}", chain(&error)));
                return None;
            }
        };
        let elapsed = started.elapsed();
        Some((status, body.to_vec(), elapsed))
    }

    /// Latency per endpoint (sorts each endpoint's samples).
    pub fn latency_per_endpoint(&mut self) -> BTreeMap<String, Latency> {
        self.latencies
            .iter_mut()
            .map(|(endpoint, samples)| ((*endpoint).to_owned(), Latency::of(samples)))
            .collect()
    }
}

/// An error with its causes: reqwest's own message ("error sending request") names none.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Runs `count` jobs with `concurrency` tasks; each job gets its index and the task's recorder
/// and hands the recorder back. Returns what all tasks recorded and the wall-clock time.
pub async fn run<F, Fut>(count: usize, concurrency: usize, job: F) -> (Recorder, Duration)
where
    F: Fn(usize, Recorder) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Recorder> + Send + 'static,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.min(count).max(1) {
        let job = Arc::clone(&job);
        let next = Arc::clone(&next);
        tasks.spawn(async move {
            let mut recorder = Recorder::default();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    return recorder;
                }
                recorder = job(index, recorder).await;
            }
        });
    }
    (gather(tasks).await, started.elapsed())
}

/// Runs jobs with `concurrency` tasks until `stop` is set (each task finishes the job it is
/// on): for a measurement that lasts as long as something else does. Returns what all tasks
/// recorded and the wall-clock time.
pub async fn run_until<F, Fut>(
    concurrency: usize,
    stop: Arc<AtomicBool>,
    job: F,
) -> (Recorder, Duration)
where
    F: Fn(usize, Recorder) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Recorder> + Send + 'static,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let job = Arc::clone(&job);
        let next = Arc::clone(&next);
        let stop = Arc::clone(&stop);
        tasks.spawn(async move {
            let mut recorder = Recorder::default();
            while !stop.load(Ordering::Relaxed) {
                let index = next.fetch_add(1, Ordering::Relaxed);
                recorder = job(index, recorder).await;
            }
            recorder
        });
    }
    (gather(tasks).await, started.elapsed())
}

/// What the tasks recorded, merged.
async fn gather(mut tasks: tokio::task::JoinSet<Recorder>) -> Recorder {
    let mut all = Recorder::default();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(recorder) => all.merge(recorder),
            Err(error) => all.error("load generator", format!("task failed: {error}")),
        }
    }
    all
}

/// p50, p99 and max of a set of latencies, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: usize,
    /// Median.
    pub p50_ms: f64,
    /// 99th percentile (nearest rank).
    pub p99_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

impl Latency {
    /// Summarises `samples` (sorted here).
    pub fn of(samples: &mut [Duration]) -> Self {
        samples.sort_unstable();
        let at = |quantile: f64| {
            if samples.is_empty() {
                return 0.0;
            }
            // Nearest rank: the smallest sample with at least `quantile` of all at or below it.
            let rank = (quantile * samples.len() as f64).ceil() as usize;
            millis(samples[rank.clamp(1, samples.len()) - 1])
        };
        Self {
            count: samples.len(),
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: samples.last().map_or(0.0, |d| millis(*d)),
        }
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut samples: Vec<Duration> = (1..=200).rev().map(Duration::from_millis).collect();
        let latency = Latency::of(&mut samples);
        assert_eq!(latency.count, 200);
        assert_eq!(latency.p50_ms, 100.0);
        assert_eq!(latency.p99_ms, 198.0);
        assert_eq!(latency.max_ms, 200.0);
        assert_eq!(Latency::of(&mut []).p99_ms, 0.0);
    }

    #[tokio::test]
    async fn jobs_run_until_stopped() {
        let stop = Arc::new(AtomicBool::new(false));
        let stopper = Arc::clone(&stop);
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(50)).await;
            stopper.store(true, Ordering::Relaxed);
        });
        let (recorder, elapsed) = run_until(3, stop, |_, mut rec| async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            rec.completed += 1;
            rec
        })
        .await;
        assert!(recorder.completed >= 3, "{}", recorder.completed);
        assert!(elapsed >= Duration::from_millis(50));
    }
}
