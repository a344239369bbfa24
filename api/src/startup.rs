//! Wiring: builds the application from `Settings` (storage, migrations, mail transport, the
//! background workers, the HTTP server) and runs it. Tests build it on port 0 with their own
//! clock and database.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{web, App, HttpResponse, HttpServer};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use utoipa::OpenApi;
use utoipa_actix_web::AppExt;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::db::Database;
use crate::domain::outbox::DevMailbox;
use crate::domain::secrets::{Hasher, KeyRing};
use crate::domain::{sweeper, Context};
use crate::mail::outbox::{OutboxWorker, BATCH, WORKERS};
use crate::mail::transport::Transport;
use crate::routes::notice_pdf::NoticeFontCache;
use crate::routes::{self, AppState};

/// Why the application could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The address.
        address: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Storage could not be prepared.
    #[error(transparent)]
    Storage(#[from] crate::db::StorageError),
    /// Mail could not be configured.
    #[error(transparent)]
    Mail(#[from] crate::mail::transport::TransportError),
    /// The argon2 threads could not be started.
    #[error(transparent)]
    Domain(#[from] crate::domain::DomainError),
}

/// A built, not yet running application.
pub struct Application {
    port: u16,
    server: Server,
    metrics: Option<(u16, Server)>,
    context: Context,
    outbox: OutboxWorker,
    background: Vec<JoinHandle<()>>,
}

impl Application {
    /// Builds with the system clock.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Builds with an injected clock: migrations, transport, workers, server.
    pub async fn build_with_clock(
        settings: Settings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, StartupError> {
        let db = Database::new(&settings.database_url, settings.database_pool_size);
        let migrate = db.clone();
        tokio::task::spawn_blocking(move || migrate.run_migrations())
            .await
            .map_err(|e| crate::db::StorageError::Task(e.to_string()))??;
        let smtp_connections = u32::try_from(BATCH * WORKERS).unwrap_or(u32::MAX);
        let transport = Transport::from_settings(
            &settings.mail,
            DevMailbox::new(db.clone()),
            smtp_connections,
        )?;
        let wakeup = Arc::new(Notify::new());
        let keys = KeyRing::new(&settings.secret_key, &settings.previous_secret_keys);
        let context = Context {
            db,
            clock,
            hasher: Hasher::new(keys.clone()),
            sessions: crate::domain::sessions::SessionKeys::new(&keys),
            limits: Arc::new(settings.limits.clone()),
            mail_wakeup: wakeup.clone(),
            passwords: crate::domain::passwords::PasswordWorkers::start(
                settings.limits.password_threads,
                settings.limits.password_queue,
            )?,
            four_eyes: settings.four_eyes,
        };
        let outbox = OutboxWorker {
            ctx: context.clone(),
            transport: transport.clone(),
            settings: settings.mail.clone(),
            wakeup,
        };
        let listener = TcpListener::bind(settings.bind).map_err(|source| StartupError::Bind {
            address: settings.bind.to_string(),
            source,
        })?;
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let metrics_listener = settings
            .metrics_bind
            .map(|address| {
                TcpListener::bind(address).map_err(|source| StartupError::Bind {
                    address: format!("{address} (REISSUE_METRICS_BIND)"),
                    source,
                })
            })
            .transpose()?;
        let state = AppState {
            ctx: context.clone(),
            notice_font: Arc::new(NoticeFontCache::new(settings.notice_font.clone())),
            settings: Arc::new(settings),
            dev_mailbox_enabled: transport.is_dev_mailbox(),
        };
        let metrics = metrics_listener
            .map(|listener| {
                let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
                run_metrics_server(listener, state.clone()).map(|server| (port, server))
            })
            .transpose()?;
        let server = run_server(listener, state)?;
        let mut background: Vec<JoinHandle<()>> = (0..WORKERS)
            .map(|_| tokio::spawn(outbox.clone().run()))
            .collect();
        background.push(tokio::spawn(sweeper::run(
            context.clone(),
            context_sweep_interval(&context),
        )));
        Ok(Self {
            port,
            server,
            metrics,
            context,
            outbox,
            background,
        })
    }

    /// The bound port (useful with port 0).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The port `/metrics` listens on, unless `REISSUE_METRICS_BIND=off`.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(port, _)| *port)
    }

    /// The domain context (tests use it to sweep and inspect).
    pub fn context(&self) -> Context {
        self.context.clone()
    }

    /// The outbox worker (tests use it to deliver at once).
    pub fn outbox(&self) -> OutboxWorker {
        self.outbox.clone()
    }

    /// Serves until the server stops (Ctrl-C / SIGTERM); then stops the workers.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let metrics = self.metrics.map(|(_, server)| {
            let handle = server.handle();
            (handle, tokio::spawn(server))
        });
        let result = self.server.await;
        if let Some((handle, task)) = metrics {
            handle.stop(true).await;
            task.abort();
        }
        for task in self.background {
            task.abort();
        }
        result
    }
}

fn context_sweep_interval(context: &Context) -> std::time::Duration {
    // Sweeping more often than a tenth of the application lifetime gains nothing.
    (context.limits.application_ttl / 10).clamp(
        std::time::Duration::from_secs(1),
        std::time::Duration::from_secs(60),
    )
}

/// The routes: `/api/v1/...`, the OpenAPI document and its reference page, health, the
/// development mailbox, and the front page; anything else is a problem+json 404.
fn run_server(listener: TcpListener, state: AppState) -> Result<Server, StartupError> {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let web_dir = state.settings.web_dir.clone();
    let serve_app = routes::spa::is_built(&web_dir);
    if !serve_app {
        tracing::warn!(web_dir = %web_dir.display(), "browser app not built; serving the API only (./dev run builds it)");
    } else if !routes::spa::console_is_built(&web_dir) {
        tracing::warn!(web_dir = %web_dir.display(), "the reviewers' console is not built (console/index.html); /admin shows the office app");
    }
    if !routes::api_docs::viewer_is_built(&web_dir) {
        tracing::warn!(web_dir = %web_dir.display(), "the API reference's viewer is not built ({}/); /api/docs says so (./dev build builds it)", routes::api_docs::VIEWER_DIR);
    }
    // One cache of the apps' compressed files (and the API reference's) for all the workers.
    let static_files = web::Data::new(routes::spa::StaticFiles::new(web_dir.clone()));
    let security_headers = web::Data::new(routes::security_headers::SecurityHeaders::new(
        &web_dir,
        state.settings.hsts,
    ));
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        let (app, api) = App::new()
            .into_utoipa_app()
            .openapi(routes::openapi::ApiDoc::openapi())
            .app_data(data.clone())
            .app_data(routes::json_config())
            .app_data(routes::path_config())
            .app_data(routes::query_config())
            .service(
                utoipa_actix_web::scope("/api/v1")
                    .configure(routes::prefectures::configure)
                    .configure(routes::applications::configure)
                    .configure(routes::reissue_status::configure)
                    .configure(routes::admin::configure)
                    .configure(routes::federation::configure)
                    .configure(routes::mfa::configure)
                    .configure(routes::auth::configure)
                    .configure(routes::security_email::configure),
            )
            .configure(routes::health::configure)
            .configure(routes::dev_mailbox::configure)
            .configure(routes::api_docs::configure)
            .split_for_parts();
        let api = web::Data::new(routes::openapi::finish(api));
        let app = app
            // The JSON answers, compressed on the fly (they are small). The apps' files come
            // compressed once (`routes::spa::StaticFiles`; until then they pass through here
            // as before), and `Compress` leaves an answer with a Content-Encoding as it is.
            .wrap(actix_web::middleware::Compress::default())
            .wrap(from_fn(routes::rate_limit_headers::middleware))
            .wrap(from_fn(routes::security_headers::middleware))
            .wrap(from_fn(crate::telemetry::request_id_middleware))
            .app_data(security_headers.clone())
            .app_data(static_files.clone())
            .app_data(api)
            .route("/api/openapi.json", web::get().to(openapi_json))
            .configure(routes::api_docs::configure_files);
        let app = if serve_app {
            app.service(routes::spa::service(static_files.clone()))
        } else {
            app.route("/", web::get().to(routes::spa::front_page))
        };
        app.default_service(web::to(routes::not_found))
    })
    .listen(listener)
    .map_err(|source| StartupError::Bind { address, source })?
    .run();
    Ok(server)
}

/// `/metrics` alone, on its own listener: one worker is plenty for a scraper, and nothing of
/// the public app (its routes, the SPA, the request metrics) is reachable there.
fn run_metrics_server(listener: TcpListener, state: AppState) -> Result<Server, StartupError> {
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let data = web::Data::new(state);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .configure(routes::health::configure_metrics)
            .default_service(web::to(|| async {
                Err::<HttpResponse, crate::error::ApiError>(crate::error::ApiError::RouteNotFound)
            }))
    })
    .workers(1)
    .listen(listener)
    .map_err(|source| StartupError::Bind { address, source })?
    .run())
}

async fn openapi_json(api: web::Data<utoipa::openapi::OpenApi>) -> HttpResponse {
    HttpResponse::Ok().json(api.get_ref())
}
