//! The `reissue` command line: `serve [--demo]` and `ledger import FILE.csv`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::db::{self, Database};
use crate::domain::audit::{AuditAction, AuditEvent};
use crate::domain::ledger::{parse_ledger_csv, LedgerEntry, LedgerImportError};
use crate::startup::Application;

/// The demo ledger shipped with the repository.
pub const DEMO_LEDGER: &[u8] = include_bytes!("../demo/ledger.csv");

/// 電子請求受付システム ログイン情報再発行サービス
#[derive(Debug, Parser)]
#[command(name = "reissue", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Sub-commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (and the development mailbox when no SMTP server is configured).
    Serve {
        /// Also load the demo ledger (事業所台帳) and print how to try the flow.
        #[arg(long)]
        demo: bool,
    },
    /// Manage the ledger (事業所台帳).
    Ledger {
        /// Ledger action.
        #[command(subcommand)]
        action: LedgerCommand,
    },
}

/// Ledger actions.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Import a CSV file (UTF-8 or Shift_JIS): 事業所番号,事業所名,種別,都道府県コード,郵便番号,住所,電話番号.
    /// A file with any bad row imports nothing.
    Import {
        /// The CSV file.
        file: PathBuf,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Settings.
    #[error("設定エラー: {0}")]
    Settings(#[from] crate::config::SettingsError),
    /// Start-up.
    #[error("起動できません: {0}")]
    Startup(#[from] crate::startup::StartupError),
    /// Storage.
    #[error("データベースエラー: {0}")]
    Storage(#[from] db::StorageError),
    /// The ledger file.
    #[error("{0}")]
    Ledger(#[from] LedgerImportError),
    /// Reading a file.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    let settings = Settings::from_env()?;
    match cli.command {
        Command::Serve { demo } => serve(settings, demo).await,
        Command::Ledger {
            action: LedgerCommand::Import { file },
        } => {
            let bytes = std::fs::read(&file).map_err(|source| CliError::Io {
                path: file.clone(),
                source,
            })?;
            let entries = parse_ledger_csv(&bytes)?;
            let db = Database::new(&settings.database_url, 1);
            let count = tokio::task::spawn_blocking(move || {
                db.run_migrations()?;
                import_ledger(&db, &entries, &file.display().to_string())
            })
            .await
            .map_err(|e| db::StorageError::Task(e.to_string()))??;
            println!("事業所台帳を取り込みました: {count} 件");
            Ok(())
        }
    }
}

/// Stores ledger entries in one transaction, audited.
pub fn import_ledger(
    db: &Database,
    entries: &[LedgerEntry],
    source: &str,
) -> Result<usize, db::StorageError> {
    let now = time::OffsetDateTime::now_utc();
    db.transaction_blocking(|conn| {
        let count = db::ledger::upsert_all(conn, entries, now)?;
        db::audit::append(
            conn,
            &AuditEvent {
                occurred_at: now,
                actor: "operator".into(),
                action: AuditAction::LedgerImported,
                application_id: None,
                office_number: None,
                prefecture_code: None,
                detail: format!("{count} entries from {source}"),
            },
        )?;
        Ok(count)
    })
}

async fn serve(settings: Settings, demo: bool) -> Result<(), CliError> {
    let bind = settings.bind;
    let mail_mode = if settings.mail.smtp_url.is_some() {
        "SMTP"
    } else {
        "development mailbox"
    };
    let application = Application::build(settings).await?;
    if demo {
        let entries = parse_ledger_csv(DEMO_LEDGER)?;
        let db = application.context().db.clone();
        let count =
            tokio::task::spawn_blocking(move || import_ledger(&db, &entries, "demo ledger"))
                .await
                .map_err(|e| db::StorageError::Task(e.to_string()))??;
        let base = format!("http://{}:{}", bind.ip(), application.port());
        println!(
            "\nデモ用の事業所台帳を読み込みました（{count} 件）。\n\
             \n  API:               {base}/api/v1\n  OpenAPI:           {base}/api/openapi.json\n  開発用メールボックス: {base}/dev/mailbox\n\
             \n試せる事業所番号: 1311111111（請求事業所 A、東京都 13、介護）、1312345678（障害、東京都）、1390000012（代理人、東京都）\n\
             README の curl の手順で申請を最後まで進められます。\n"
        );
    }
    tracing::info!(address = %bind, port = application.port(), mail = mail_mode, "serving");
    application
        .run_until_stopped()
        .await
        .map_err(|source| CliError::Io {
            path: PathBuf::from("server"),
            source,
        })
}
