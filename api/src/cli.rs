//! The `reissue` command line: `serve [--demo]`, `ledger import FILE.csv`, `reviewer …`,
//! `purge [--dry-run]` and `pseudonym ADDRESS`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::db::{self, Database};
use crate::domain::enrolment::reset_mfa;
use crate::domain::ledger::{parse_ledger_csv, ImportMode, LedgerEntry, LedgerImportError};
use crate::domain::reviewers::{disable_reviewer, save_reviewer, NewReviewer};
use crate::domain::secrets::{Hasher, KeyRing};
use crate::domain::DomainError;
use crate::startup::Application;
use reissue_shared::admin::ReviewerRole;
use reissue_shared::federation::PrefectureSettings;

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
    /// Manage federation reviewer accounts.
    Reviewer {
        /// Reviewer action.
        #[command(subcommand)]
        action: ReviewerCommand,
    },
    /// Erase the personal data of applications that ended more than REISSUE_RETENTION_DAYS
    /// ago (notification and client addresses, notes, mails), and old mails and codes; prints
    /// what was erased. The server also does this once a day.
    Purge {
        /// Only print what would be erased.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print the audit log's pseudonym of a client address or e-mail address (under the
    /// current key and each previous one), to find its entries.
    Pseudonym {
        /// An IP address or an e-mail address.
        address: String,
    },
}

/// Reviewer actions.
#[derive(Debug, Subcommand)]
pub enum ReviewerCommand {
    /// Create a reviewer (or reset an existing one's name, role, prefecture and password).
    /// The password is read from REISSUE_REVIEWER_PASSWORD, else from standard input.
    Add {
        /// The federation's prefecture code, 01–47.
        #[arg(long)]
        prefecture: String,
        /// ログインID.
        #[arg(long)]
        login_id: String,
        /// 氏名 (defaults to the login ID).
        #[arg(long)]
        name: Option<String>,
        /// Supervisors can also export the audit log.
        #[arg(long)]
        supervisor: bool,
    },
    /// Disable a reviewer: the login ID can no longer log in, and its sessions end at once
    /// (`reviewer add` with the same login ID enables it again, with a new password).
    Disable {
        /// ログインID.
        login_id: String,
    },
    /// Reset a reviewer's second factor (a lost phone): the authenticator secret and the
    /// recovery codes are forgotten, the reviewer is logged out and enrols again at the next
    /// login.
    ResetMfa {
        /// ログインID.
        login_id: String,
    },
}

/// Ledger actions.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Import a CSV file (UTF-8 or Shift_JIS): 事業所番号,事業所名,種別,都道府県コード,郵便番号,住所,電話番号.
    /// The file is the whole ledger of the prefectures it lists: an office of theirs it does
    /// not list is removed. Prints the offices added, changed and removed. A file with any
    /// bad row imports nothing.
    Import {
        /// The CSV file.
        file: PathBuf,
        /// Only print what the import would add, change and remove.
        #[arg(long)]
        dry_run: bool,
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
    /// A rule refused the input.
    #[error("{0}")]
    Invalid(String),
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
            action: LedgerCommand::Import { file, dry_run },
        } => {
            let bytes = std::fs::read(&file).map_err(|source| CliError::Io {
                path: file.clone(),
                source,
            })?;
            let entries = parse_ledger_csv(&bytes)?;
            let db = Database::new(&settings.database_url, 1);
            let count = entries.len();
            let bar = progress_bar(count, dry_run);
            let diff = tokio::task::spawn_blocking(move || {
                db.run_migrations()?;
                let imported = crate::domain::ledger::import_with_progress(
                    &db,
                    &entries,
                    &file.display().to_string(),
                    time::OffsetDateTime::now_utc(),
                    ImportMode::Replace,
                    dry_run,
                    &|done| bar.set_position(done as u64),
                );
                bar.finish_and_clear();
                imported
            })
            .await
            .map_err(|e| db::StorageError::Task(e.to_string()))??;
            if dry_run {
                println!("事業所台帳の確認（取り込みはしていません）: ファイルの {count} 件");
            } else {
                println!("事業所台帳を取り込みました: {count} 件");
            }
            print!("{}", diff.report(20));
            Ok(())
        }
        Command::Reviewer {
            action:
                ReviewerCommand::Add {
                    prefecture,
                    login_id,
                    name,
                    supervisor,
                },
        } => {
            let prefecture = reissue_shared::PrefectureCode::parse(&prefecture)
                .map_err(|e| CliError::Invalid(e.message))?;
            let password = match std::env::var("REISSUE_REVIEWER_PASSWORD") {
                Ok(password) => password,
                Err(_) => {
                    eprintln!("パスワードを入力してください（12文字以上）:");
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .map_err(|source| CliError::Io {
                            path: PathBuf::from("stdin"),
                            source,
                        })?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let reviewer = NewReviewer {
                name: name.unwrap_or_else(|| login_id.clone()),
                login_id,
                role: if supervisor {
                    ReviewerRole::Supervisor
                } else {
                    ReviewerRole::Reviewer
                },
                prefecture,
                password,
            };
            let db = Database::new(&settings.database_url, 1);
            let hasher = Hasher::new(KeyRing::new(
                &settings.secret_key,
                &settings.previous_secret_keys,
            ));
            let login_id = reviewer.login_id.clone();
            tokio::task::spawn_blocking(move || {
                db.run_migrations()?;
                save_reviewers(&db, &hasher, &[reviewer])
            })
            .await
            .map_err(|e| db::StorageError::Task(e.to_string()))??;
            println!(
                "審査担当者を登録しました: {login_id}（{}）",
                prefecture.name()
            );
            Ok(())
        }
        Command::Purge { dry_run } => {
            let db = Database::new(&settings.database_url, 1);
            let days = settings.limits.retention_days;
            let report = tokio::task::spawn_blocking(move || {
                db.run_migrations()?;
                crate::domain::retention::purge_blocking(
                    &db,
                    time::OffsetDateTime::now_utc(),
                    days,
                    "operator",
                    dry_run,
                )
                .map_err(cli_error)
            })
            .await
            .map_err(|e| db::StorageError::Task(e.to_string()))??;
            print!("{}", report.render());
            Ok(())
        }
        Command::Pseudonym { address } => {
            use crate::domain::pseudonyms::{classify, pseudonyms_under_every_key};
            let hasher = Hasher::new(KeyRing::new(
                &settings.secret_key,
                &settings.previous_secret_keys,
            ));
            for pseudonym in pseudonyms_under_every_key(&hasher, classify(&address)) {
                println!("{pseudonym}");
            }
            Ok(())
        }
        Command::Reviewer {
            action: ReviewerCommand::Disable { login_id },
        } => {
            let done = "審査担当者を無効にしました（ログイン中のセッションも終了しました）";
            on_existing_reviewer(&settings, login_id, disable_reviewer, done).await
        }
        Command::Reviewer {
            action: ReviewerCommand::ResetMfa { login_id },
        } => {
            let done = "二段階認証を再設定しました（次のログインで認証アプリを登録し直します）";
            on_existing_reviewer(&settings, login_id, reset_mfa, done).await
        }
    }
}

/// Runs `change` on the reviewer `login_id` in one transaction and prints `done`; an unknown
/// login ID is an error the operator reads.
async fn on_existing_reviewer(
    settings: &Settings,
    login_id: String,
    change: fn(&mut db::DbConnection, &str, time::OffsetDateTime) -> Result<bool, DomainError>,
    done: &str,
) -> Result<(), CliError> {
    let db = Database::new(&settings.database_url, 1);
    let shown = login_id.clone();
    let found = tokio::task::spawn_blocking(move || {
        db.run_migrations()?;
        db.transaction_blocking(|conn| change(conn, &login_id, time::OffsetDateTime::now_utc()))
            .map_err(cli_error)
    })
    .await
    .map_err(|e| db::StorageError::Task(e.to_string()))??;
    if !found {
        return Err(CliError::Invalid(format!(
            "ログインID {shown} の審査担当者はいません。"
        )));
    }
    println!("{done}: {shown}");
    Ok(())
}

/// What a refused reviewer command prints.
fn cli_error(error: DomainError) -> CliError {
    match error {
        DomainError::Validation(errors) => CliError::Invalid(
            errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        DomainError::Storage(storage) => CliError::Storage(storage),
        other => CliError::Invalid(other.to_string()),
    }
}

/// Stores reviewer accounts in one transaction.
/// (`hasher` names their failure counts, which a new password clears.)
pub fn save_reviewers(
    db: &Database,
    hasher: &Hasher,
    reviewers: &[NewReviewer],
) -> Result<(), CliError> {
    let now = time::OffsetDateTime::now_utc();
    db.transaction_blocking(|conn| {
        for reviewer in reviewers {
            save_reviewer(conn, hasher, reviewer, now)?;
        }
        Ok::<_, DomainError>(())
    })
    .map_err(cli_error)
}

/// Office accounts for the demo ledger's care offices (user ID: KJ and the office number).
pub fn save_demo_accounts(
    db: &Database,
    entries: &[LedgerEntry],
    password: &str,
) -> Result<(), CliError> {
    let now = time::OffsetDateTime::now_utc();
    let password_hash = crate::domain::passwords::hash_password(password)
        .map_err(|e| CliError::Invalid(e.to_string()))?;
    db.transaction_blocking(|conn| {
        for entry in entries
            .iter()
            .filter(|e| e.kind == crate::domain::ledger::OfficeKind::Care)
        {
            let office = entry.office_number.as_str();
            crate::domain::accounts::save_account_with_password(
                conn,
                entry.prefecture_code.as_str(),
                office,
                &crate::domain::accounts::demo_user_id(office),
                &password_hash,
                now,
            )?;
        }
        Ok::<_, DomainError>(())
    })
    .map_err(|error| match error {
        DomainError::Storage(storage) => CliError::Storage(storage),
        other => CliError::Invalid(other.to_string()),
    })
}

/// The demo federations' settings: 東京都 posts the notice without further ado; 鳥取県 asks
/// for a stamped return envelope (460円: a 25 g letter and 簡易書留) and a call to the ledger's
/// number before approving, so both ways of working can be tried.
pub fn demo_prefecture_settings() -> Vec<(reissue_shared::PrefectureCode, PrefectureSettings)> {
    use reissue_shared::PrefectureCode;
    vec![
        (
            PrefectureCode::TOKYO,
            PrefectureSettings {
                federation_name: "東京都国民健康保険団体連合会".to_owned(),
                federation_address: "〒102-0072 東京都千代田区飯田橋9-9-9（デモ）".to_owned(),
                federation_phone: "03-0000-0013".to_owned(),
                helpdesk_phone: reissue_shared::federation::MANUAL_HELPDESK_PHONE.to_owned(),
                return_envelope_required: false,
                envelope_instructions: String::new(),
                callback_required: false,
                review_target_business_days: 5,
            },
        ),
        (
            PrefectureCode::TOTTORI,
            PrefectureSettings {
                federation_name: "鳥取県国民健康保険団体連合会".to_owned(),
                federation_address: "〒680-0845 鳥取県鳥取市富安9-9-9（デモ）".to_owned(),
                federation_phone: "0857-00-0031".to_owned(),
                helpdesk_phone: reissue_shared::federation::MANUAL_HELPDESK_PHONE.to_owned(),
                return_envelope_required: true,
                envelope_instructions: "長形3号の封筒に、事業所台帳の住所と事業所名を宛先として書き、460円分の切手（簡易書留）を貼って、受付番号を書いたメモを添えて、次の宛先へお送りください。\n〒680-0845 鳥取県鳥取市富安9-9-9 鳥取県国民健康保険団体連合会 介護保険課 電子請求ログイン情報再発行係（デモ）".to_owned(),
                callback_required: true,
                review_target_business_days: 10,
            },
        ),
    ]
}

/// The demo reviewers of `serve --demo`: two per prefecture (東京都 and 鳥取県), so that one
/// approves and the other confirms (four-eyes issuance). The first of each is a supervisor.
pub fn demo_reviewers(password: &str) -> Vec<NewReviewer> {
    use reissue_shared::PrefectureCode;
    [
        (
            "demo-tokyo",
            "東京都国保連合会 審査担当（デモ）",
            PrefectureCode::TOKYO,
            ReviewerRole::Supervisor,
        ),
        (
            "demo-tokyo-2",
            "東京都国保連合会 審査担当2（デモ）",
            PrefectureCode::TOKYO,
            ReviewerRole::Reviewer,
        ),
        (
            "demo-tottori",
            "鳥取県国保連合会 審査担当（デモ）",
            PrefectureCode::TOTTORI,
            ReviewerRole::Supervisor,
        ),
        (
            "demo-tottori-2",
            "鳥取県国保連合会 審査担当2（デモ）",
            PrefectureCode::TOTTORI,
            ReviewerRole::Reviewer,
        ),
    ]
    .into_iter()
    .map(|(login_id, name, prefecture, role)| NewReviewer {
        login_id: login_id.to_owned(),
        name: name.to_owned(),
        role,
        prefecture,
        password: password.to_owned(),
    })
    .collect()
}

/// The import's progress bar: drawn only when standard error is a terminal (indicatif hides
/// it otherwise, so scripts and logs see only the report).
fn progress_bar(total: usize, dry_run: bool) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(total as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let style =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} 件 ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(if dry_run {
        "確認中"
    } else {
        "取り込み中"
    });
    bar
}

/// Adds and updates ledger entries in one transaction, removing none, audited (see
/// `domain::ledger::import`): the demo ledger, and tests adding offices. Returns how many the
/// file listed.
pub fn import_ledger(
    db: &Database,
    entries: &[LedgerEntry],
    source: &str,
) -> Result<usize, db::StorageError> {
    crate::domain::ledger::import(
        db,
        entries,
        source,
        time::OffsetDateTime::now_utc(),
        ImportMode::Merge,
        false,
    )
    .map(|_| entries.len())
}

async fn serve(mut settings: Settings, demo: bool) -> Result<(), CliError> {
    // The demo is for trying the service on one machine: its mail goes to the development
    // mailbox unless SMTP is configured.
    settings.mail.dev_mailbox |= demo;
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
        // The demo password: REISSUE_DEMO_PASSWORD, or a fresh random one printed below.
        let (password, generated) = match std::env::var("REISSUE_DEMO_PASSWORD") {
            Ok(password) if !password.is_empty() => (password, false),
            _ => (
                crate::domain::secrets::generate_token()[..16].to_owned(),
                true,
            ),
        };
        for (prefecture, settings) in demo_prefecture_settings() {
            crate::domain::federation::seed_if_unset(&application.context(), prefecture, settings)
                .await
                .map_err(|error| match error {
                    DomainError::Storage(storage) => CliError::Storage(storage),
                    other => CliError::Invalid(other.to_string()),
                })?;
        }
        let db = application.context().db.clone();
        let hasher = application.context().hasher.clone();
        let reviewers = demo_reviewers(&password);
        let entries = parse_ledger_csv(DEMO_LEDGER)?;
        let office_password = password.clone();
        tokio::task::spawn_blocking(move || {
            save_reviewers(&db, &hasher, &reviewers)?;
            save_demo_accounts(&db, &entries, &office_password)
        })
        .await
        .map_err(|e| db::StorageError::Task(e.to_string()))??;
        let shown_password = if generated {
            password.as_str()
        } else {
            "（REISSUE_DEMO_PASSWORD の値）"
        };
        let base = format!("http://{}:{}", bind.ip(), application.port());
        println!(
            "\nデモ用の事業所台帳を読み込みました（{count} 件）。\n\
             \n  API:               {base}/api/v1\n  OpenAPI:           {base}/api/openapi.json\n  開発用メールボックス: {base}/dev/mailbox\n\
             \n試せる事業所番号: 1311111111（請求事業所 A、東京都 13、介護）、1312345678（障害、東京都）、1390000012（代理人、東京都）\n\
             README の curl の手順で申請を最後まで進められます。\n\n\
             審査担当者（デモ）: demo-tokyo・demo-tokyo-2（東京都）、demo-tottori・demo-tottori-2（鳥取県）  パスワード: {shown_password}\n\
             （承認は、同じ都道府県のもう一人の審査担当者が確認して確定します）\n\
             （{base}/admin でログインします。初回は認証アプリ（Google Authenticator など）の登録を求められます）\n\
             事業所のユーザID（デモ）: KJ と事業所番号（例: KJ1311111111）  パスワード: {shown_password}\n"
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
