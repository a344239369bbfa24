//! SQLite's WAL checkpoints, run by a thread of their own instead of inside a commit.
//!
//! By default SQLite checkpoints automatically: the commit that takes the WAL past 1000 pages
//! copies the WAL into the database file and syncs both (pwrite and fsync) before it returns,
//! while its writer still holds `Database::sqlite_writer`, so every writer queued behind it
//! waits for the disk (issue 13: the p99 spikes). The pool's connections therefore turn
//! automatic checkpoints off (`wal_autocheckpoint = 0`) and this thread checkpoints instead,
//! on a connection of its own: a PASSIVE checkpoint takes no writer lock, so writers go on
//! appending to the WAL while it copies. Durability does not change: journal mode and
//! `synchronous` are the pool's as before; only who copies the WAL back changes.
//!
//! The thread stops when the last clone of its [`Checkpointer`] (held by every clone of the
//! `Database`) is dropped, so the many servers a test process starts leave no thread behind. A
//! process that ends (a CLI command) needs nothing from it: SQLite checkpoints the WAL and
//! removes it when the last connection closes, and a WAL left by a killed process is valid.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryResult, RunQueryDsl, SqliteConnection};

use crate::config::DatabaseUrl;

/// How often the thread checkpoints. Often enough that each checkpoint copies little (the
/// writes of a fifth of a second, where SQLite's own threshold lets 1000 pages pile up) and
/// the WAL, which every read searches, stays short; a checkpoint finds nothing to do when the
/// WAL has not grown and then touches no file, so an idle server pays only the wake-ups.
pub const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(200);

/// The WAL size (of the frames written since it last started over) past which the thread
/// forces a TRUNCATE checkpoint. A PASSIVE checkpoint can copy the WAL but never make it start
/// over: the next writer does that, once every reader has let go of the old frames. Readers
/// that never all let go at once would let the WAL grow without end, and every read slow down
/// with it. Turning SQLite's automatic checkpoint back on would not help (it is PASSIVE too);
/// TRUNCATE waits for those readers and empties the file. It stalls writers while it runs, so
/// it is kept for a WAL far larger than a busy interval writes (a few MiB), where something
/// is wrong anyway.
const WAL_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

/// How long the TRUNCATE checkpoint waits for readers to finish (SQLite's busy handler), while
/// it holds this process's writers back. Our reads take milliseconds.
const TRUNCATE_WAIT_MS: u32 = 1000;

/// Keeps the checkpoint thread running; it stops when the last clone is dropped. (Nothing is
/// ever sent: the thread only notices that the channel closed.)
#[derive(Clone)]
pub struct Checkpointer {
    _running: mpsc::Sender<()>,
}

/// What `PRAGMA wal_checkpoint` reports: whether it was blocked, the frames in the WAL, and
/// how many of them are now in the database file.
#[derive(diesel::QueryableByName)]
struct CheckpointOutcome {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    busy: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    log: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    checkpointed: i64,
}

impl Checkpointer {
    /// Starts the thread for the SQLite database at `url`. `writer` is the lock this process's
    /// writers queue on, taken for a TRUNCATE checkpoint. `None` when no thread could be
    /// started (the pool's connections then keep SQLite's automatic checkpoints).
    pub fn start(url: &DatabaseUrl, writer: Arc<Mutex<()>>) -> Option<Self> {
        let (running, stopped) = mpsc::channel::<()>();
        let url = url.clone();
        let started = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&url, &writer, &stopped));
        match started {
            Ok(_) => Some(Self { _running: running }),
            Err(error) => {
                tracing::error!(%error, "cannot start the checkpoint thread; SQLite checkpoints in commits");
                None
            }
        }
    }
}

fn run(url: &DatabaseUrl, writer: &Mutex<()>, stopped: &mpsc::Receiver<()>) {
    let mut connection: Option<(SqliteConnection, i64)> = None;
    let mut failing = false;
    loop {
        match stopped.recv_timeout(CHECKPOINT_INTERVAL) {
            Err(RecvTimeoutError::Timeout) => {}
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        let checkpointed = match connection.take() {
            Some(opened) => Ok(opened),
            None => open(url),
        }
        .and_then(|(mut sqlite, page_size)| {
            checkpoint(&mut sqlite, page_size, writer, WAL_LIMIT_BYTES)?;
            Ok((sqlite, page_size))
        });
        match checkpointed {
            Ok(opened) => {
                connection = Some(opened);
                failing = false;
            }
            Err(error) => {
                // Once per spell of failures, not five times a second; the next tick opens a
                // fresh connection.
                if !failing {
                    tracing::warn!(%error, "WAL checkpoint failed");
                }
                failing = true;
            }
        }
    }
}

/// The thread's own connection (opened on the first tick, once migrations have made the file)
/// and the database's page size.
fn open(url: &DatabaseUrl) -> Result<(SqliteConnection, i64), String> {
    let mut sqlite =
        SqliteConnection::establish(url.connection_string()).map_err(|e| e.to_string())?;
    sqlite
        .batch_execute(&format!("PRAGMA busy_timeout = {TRUNCATE_WAIT_MS};"))
        .map_err(|e| e.to_string())?;
    #[derive(diesel::QueryableByName)]
    struct PageSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        page_size: i64,
    }
    let page_size = diesel::sql_query("PRAGMA page_size")
        .get_result::<PageSize>(&mut sqlite)
        .map_err(|e| e.to_string())?
        .page_size;
    Ok((sqlite, page_size))
}

/// A PASSIVE checkpoint, then a TRUNCATE one when the WAL holds more than `wal_limit_bytes`.
fn checkpoint(
    sqlite: &mut SqliteConnection,
    page_size: i64,
    writer: &Mutex<()>,
    wal_limit_bytes: i64,
) -> Result<(), String> {
    let passive = wal_checkpoint(sqlite, "PASSIVE").map_err(|e| e.to_string())?;
    if passive.log.saturating_mul(page_size) <= wal_limit_bytes {
        return Ok(());
    }
    // This process's writers wait on the lock, in order, rather than in SQLite's busy handler,
    // which sleeps up to 100 ms between tries.
    let _writers = writer
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let truncate = wal_checkpoint(sqlite, "TRUNCATE").map_err(|e| e.to_string())?;
    if truncate.busy != 0 {
        tracing::warn!(
            frames = truncate.log,
            copied = truncate.checkpointed,
            "the WAL is past its limit and readers kept it from being emptied"
        );
    }
    Ok(())
}

fn wal_checkpoint(sqlite: &mut SqliteConnection, mode: &str) -> QueryResult<CheckpointOutcome> {
    diesel::sql_query(format!("PRAGMA wal_checkpoint({mode})")).get_result(sqlite)
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Instant;

    use super::*;
    use crate::db::{Database, DbConnection, StorageError};

    fn database(dir: &Path) -> Database {
        Database::new(
            &DatabaseUrl::new(dir.join("test.sqlite3").to_string_lossy()),
            2,
        )
    }

    /// `PRAGMA wal_autocheckpoint` and `PRAGMA synchronous` of a pooled connection.
    fn pooled_settings(db: &Database) -> (i64, i64) {
        #[derive(diesel::QueryableByName)]
        struct AutoCheckpoint {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            wal_autocheckpoint: i64,
        }
        #[derive(diesel::QueryableByName)]
        struct Synchronous {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            synchronous: i64,
        }
        let mut pooled = db.connection().unwrap();
        let DbConnection::Sqlite(sqlite) = &mut pooled.conn else {
            panic!("not SQLite");
        };
        let threshold = diesel::sql_query("PRAGMA wal_autocheckpoint")
            .get_result::<AutoCheckpoint>(sqlite)
            .unwrap();
        let synchronous = diesel::sql_query("PRAGMA synchronous")
            .get_result::<Synchronous>(sqlite)
            .unwrap();
        (threshold.wal_autocheckpoint, synchronous.synchronous)
    }

    /// The database's size in bytes, as the pool's connections see it (WAL included).
    fn database_size(db: &Database) -> u64 {
        #[derive(diesel::QueryableByName)]
        struct Size {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            bytes: i64,
        }
        let mut pooled = db.connection().unwrap();
        let DbConnection::Sqlite(sqlite) = &mut pooled.conn else {
            panic!("not SQLite");
        };
        let size = diesel::sql_query(
            "SELECT page_count * page_size AS bytes FROM pragma_page_count(), pragma_page_size()",
        )
        .get_result::<Size>(sqlite)
        .unwrap();
        u64::try_from(size.bytes).unwrap()
    }

    /// Waits up to five seconds for `done`.
    fn eventually(mut done: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        done()
    }

    #[test]
    fn pooled_connections_never_checkpoint_in_a_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path());
        // (1: NORMAL, as before.)
        assert_eq!(pooled_settings(&db), (0, 1));
    }

    #[test]
    fn the_thread_copies_the_wal_into_the_database_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path());
        // About 1500 pages, past the 1000 at which SQLite would checkpoint in a commit.
        for _ in 0..30 {
            db.transaction_blocking(|conn| {
                conn.batch_execute(
                    "CREATE TABLE IF NOT EXISTS filler (data BLOB NOT NULL); \
                     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) \
                     INSERT INTO filler (data) SELECT randomblob(4000) FROM n;",
                )
                .map_err(StorageError::Query)
            })
            .unwrap();
        }
        let expected = database_size(&db);
        assert!(expected > 1000 * 4096, "{expected}");
        // Only a checkpoint writes pages to the database file: the commits wrote the WAL.
        let file = dir.path().join("test.sqlite3");
        let file_size = || std::fs::metadata(&file).map_or(0, |m| m.len());
        assert!(
            eventually(|| file_size() == expected),
            "the database file holds {} bytes, not {expected}",
            file_size()
        );
    }

    #[test]
    fn a_wal_past_its_limit_is_emptied() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path());
        db.transaction_blocking(|conn| {
            conn.batch_execute(
                "CREATE TABLE filler (data BLOB NOT NULL); \
                 INSERT INTO filler (data) VALUES (randomblob(100000));",
            )
            .map_err(StorageError::Query)
        })
        .unwrap();
        let url = DatabaseUrl::new(dir.path().join("test.sqlite3").to_string_lossy());
        let (mut sqlite, page_size) = open(&url).unwrap();
        checkpoint(&mut sqlite, page_size, &Mutex::new(()), 0).unwrap();
        let wal = dir.path().join("test.sqlite3-wal");
        assert_eq!(std::fs::metadata(wal).unwrap().len(), 0);
    }

    #[test]
    fn the_thread_stops_with_the_last_database_handle() {
        let dir = tempfile::tempdir().unwrap();
        let db = database(dir.path());
        db.transaction_blocking(|conn| {
            conn.batch_execute("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
                .map_err(StorageError::Query)
        })
        .unwrap();
        let wal = dir.path().join("test.sqlite3-wal");
        // The thread has opened its connection once it has checkpointed.
        std::thread::sleep(CHECKPOINT_INTERVAL * 2);
        assert!(wal.exists());
        let clone = db.clone();
        drop(db);
        drop(clone);
        // SQLite removes the WAL when the last connection closes. The pool's, the writer's and
        // this thread's close at about the same time, and two closing at once may each see the
        // other still open and leave the WAL; so a connection of the test's own opens and closes:
        // it removes the WAL only when no connection of the dropped database is left.
        let path = dir.path().join("test.sqlite3");
        assert!(
            eventually(|| {
                use diesel::connection::SimpleConnection;
                use diesel::Connection;
                // A read opens the WAL, so closing may remove it.
                if let Ok(mut conn) = diesel::SqliteConnection::establish(&path.to_string_lossy()) {
                    let _ = conn.batch_execute("SELECT count(*) FROM sqlite_master");
                }
                !wal.exists()
            }),
            "the WAL is still there: a connection of the dropped database is still open"
        );
    }
}
