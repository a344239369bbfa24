//! The baseline: a bare actix-web server with one JSON GET endpoint, in its own process (the
//! benchmark re-executes itself with the hidden `baseline-server` argument), with as many
//! workers as the real server, so the ratio to it shows what the service's own work costs.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use anyhow::{bail, Context as _};
use serde::Serialize;

/// The endpoint the load generator calls.
pub const PATH: &str = "/ping";

#[derive(Serialize)]
struct Pong {
    status: &'static str,
    service: &'static str,
}

async fn ping() -> HttpResponse {
    HttpResponse::Ok().json(Pong {
        status: "ok",
        service: "baseline",
    })
}

/// Serves `GET /ping` on `bind` until killed.
pub fn serve(bind: &str, workers: usize) -> anyhow::Result<()> {
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(|| App::new().route(PATH, web::get().to(ping)))
            .workers(workers)
            .bind(bind)
            .with_context(|| format!("binding {bind}"))?
            .run()
            .await
            .context("serving")
    })
}

/// The baseline server as a child process; killed when dropped.
#[derive(Debug)]
pub struct BaselineServer {
    child: Child,
    base_url: String,
}

impl BaselineServer {
    /// Starts `bench baseline-server` on a free loopback port and waits until it answers.
    pub async fn start(workers: usize, http: &reqwest::Client) -> anyhow::Result<Self> {
        let port = reissue_e2e::free_port()?;
        let bind = format!("127.0.0.1:{port}");
        let exe = std::env::current_exe().context("finding the bench binary")?;
        let child = Command::new(exe)
            .args(["baseline-server", "--bind", &bind, "--workers"])
            .arg(workers.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("starting the baseline server")?;
        let mut server = Self {
            child,
            base_url: format!("http://{bind}"),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = server.child.try_wait()? {
                bail!("the baseline server exited ({status})");
            }
            if let Ok(response) = http.get(server.url()).send().await {
                if response.status().is_success() {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                bail!("the baseline server did not answer within 10 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The URL of the endpoint.
    pub fn url(&self) -> String {
        format!("{}{PATH}", self.base_url)
    }

    /// The process id, for its memory use.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for BaselineServer {
    fn drop(&mut self) {
        // Killing an already exited child fails harmlessly.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
