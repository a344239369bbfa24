//! Storage: the only place with SQL. One diesel `MultiConnection` over SQLite and PostgreSQL,
//! chosen by the URL scheme, an r2d2 pool, and every query run off the async executor but
//! SQLite's reads by key (`Database::lookup`), which take less than the hop would.
//! Backend-specific SQL (row locks, `SKIP LOCKED`) sits in one `match` per query.

/// The first row of `$query` as `$row`, locked until the transaction ends: PostgreSQL reads it
/// `FOR UPDATE`, so a parallel transaction that wants to change the same row waits for this one
/// instead of writing back a count it read before (SQLite's `BEGIN IMMEDIATE` already lets one
/// writer in at a time). `$query` is evaluated once per backend arm.
macro_rules! first_for_update {
    ($conn:expr, $query:expr, $row:ty) => {
        match $conn {
            $crate::db::DbConnection::Postgres(pg) => {
                $crate::db::optional($query.select(<$row>::as_select()).for_update().first(pg))
            }
            $crate::db::DbConnection::Sqlite(sqlite) => {
                $crate::db::optional($query.select(<$row>::as_select()).first(sqlite))
            }
        }
    };
}

/// `$body` with `$c` bound to the backend's own connection (see [`RunOnBackend`]), for a query
/// whose type names its backend, such as a boxed query built up at run time. `$body` is
/// compiled once per backend.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConnection::Postgres($c) => $body,
            $crate::db::DbConnection::Sqlite($c) => $body,
        }
    };
}

#[macro_use]
mod changed_columns;

pub mod accounts;
pub mod applications;
pub mod audit;
mod checkpoints;
pub mod dev_mailbox;
pub mod federation;
mod group_commit;
pub mod idempotency_keys;
pub mod ledger;
pub mod login_failures;
pub mod models;
pub mod notes;
pub mod outbox;
pub mod rate_limits;
pub mod reviewers;
pub mod schema;
pub mod security_codes;
pub mod sessions;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{self, ManageConnection, Pool};
use diesel::{Connection, PgConnection, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::config::{Backend, DatabaseUrl};

/// The PostgreSQL advisory lock key that serialises migrations ("RISU" in ASCII).
const MIGRATION_LOCK: i64 = 0x5249_5355;

/// How long a request may wait for a database connection.
const POOL_WAIT: Duration = Duration::from_secs(3);

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../migrations/postgres");

/// A `COUNT(*)` as the number of rows it is (never negative).
fn row_count(count: i64) -> usize {
    usize::try_from(count).unwrap_or(0)
}

/// What a retention step does with the rows it finds: count them (a dry run) or remove them
/// (`domain::retention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purge {
    /// Only count.
    Count,
    /// Delete or erase, and count.
    Remove,
}

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    /// Production backend.
    Postgres(PgConnection),
    /// Embedded default.
    Sqlite(SqliteConnection),
}

/// What can go wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// No connection could be had (database down or pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed.
    #[error("query failed: {0}")]
    Query(#[from] diesel::result::Error),
    /// A stored value is not one of ours (e.g. an unknown status text).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// Migrations failed.
    #[error("migration failed: {0}")]
    Migration(String),
    /// The blocking task was cancelled or panicked.
    #[error("database task failed: {0}")]
    Task(String),
}

impl StorageError {
    /// Whether the error means "try again later" rather than a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            // Transient: the same request succeeds when tried again.
            Self::Query(diesel::result::Error::DatabaseError(kind, info)) => {
                matches!(
                    kind,
                    diesel::result::DatabaseErrorKind::ClosedConnection
                        | diesel::result::DatabaseErrorKind::UnableToSendCommand
                        | diesel::result::DatabaseErrorKind::SerializationFailure
                ) || info.message().contains("database is locked")
                    || info.message().contains("deadlock detected")
            }
            Self::Query(_) | Self::Corrupt(_) | Self::Migration(_) | Self::Task(_) => false,
        }
    }

    /// Whether a unique constraint refused the write.
    pub fn is_unique_violation(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            ))
        )
    }
}

/// A pooled connection and whether it has been found dead.
pub struct PooledDb {
    conn: DbConnection,
    // Set when a query failed and the connection no longer answers (PostgreSQL restarted, the
    // network dropped it): the pool then throws it away instead of lending it out again, so
    // the service recovers by itself when the database is back.
    dead: bool,
}

/// Opens connections of the backend the URL names. (The derive's own `establish` would try
/// each backend in turn, and SQLite accepts any string as a file name.)
#[derive(Debug)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    // False when the checkpoint thread runs (`checkpoints`): a commit then never checkpoints.
    sqlite_checkpoints_in_commits: bool,
}

impl ManageConnection for ConnectionManager {
    type Connection = PooledDb;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PooledDb, r2d2::Error> {
        self.open().map(|conn| PooledDb { conn, dead: false })
    }

    fn is_valid(&self, pooled: &mut PooledDb) -> Result<(), r2d2::Error> {
        pooled
            .conn
            .batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut PooledDb) -> bool {
        pooled.dead
    }
}

impl ConnectionManager {
    fn open(&self) -> Result<DbConnection, r2d2::Error> {
        let url = self.url.connection_string();
        match self.url.backend() {
            Backend::Postgres => PgConnection::establish(url)
                .map(DbConnection::Postgres)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn =
                    SqliteConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer and survives a process kill with
                // synchronous=NORMAL; busy_timeout makes writers queue instead of failing.
                // temp_store=MEMORY keeps the savepoints' sub-journals of a group commit
                // (`group_commit`) in memory: past 64 KiB SQLite spilled them to a temporary
                // file, a third of the writer thread's time in write(2). They only serve to roll
                // a savepoint back within its transaction; what survives a crash is the WAL's.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                     PRAGMA temp_store = MEMORY;",
                )
                .map_err(r2d2::Error::QueryError)?;
                if !self.sqlite_checkpoints_in_commits {
                    conn.batch_execute("PRAGMA wal_autocheckpoint = 0;")
                        .map_err(r2d2::Error::QueryError)?;
                }
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl PooledDb {
    /// After a failed unit of work: is the connection still there? (Only PostgreSQL's can die
    /// under us; the cost is one round trip on error paths only.)
    fn check_alive(&mut self) {
        if matches!(self.conn, DbConnection::Postgres(_))
            && self.conn.batch_execute("SELECT 1").is_err()
        {
            self.dead = true;
        }
    }
}

/// The connection pool; cheap to clone.
#[derive(Clone)]
pub struct Database {
    pool: Pool<ConnectionManager>,
    backend: Backend,
    // SQLite has one writer at a time. Writers of this process queue here, in order, instead
    // of in SQLite's busy handler, which polls with sleeps of up to 100 ms, so a waiting
    // writer could sleep far longer than the lock is held. (Other processes, such as a ledger
    // import, still meet `busy_timeout`.)
    sqlite_writer: Arc<Mutex<()>>,
    // SQLite's WAL checkpoints, off the writers (`checkpoints`); the thread stops when the last
    // clone of the `Database` is dropped.
    _sqlite_checkpoints: Option<checkpoints::Checkpointer>,
    // SQLite: the thread that runs the write transactions of `transaction`, several to a
    // commit (`group_commit`); `None` on PostgreSQL, whose writers run side by side.
    sqlite_group_commit: Option<group_commit::GroupCommitter>,
}

impl Database {
    /// Builds the pool without connecting (so the server starts while the database is down and
    /// `/readyz` says so).
    pub fn new(url: &DatabaseUrl, pool_size: u32) -> Self {
        let sqlite_writer = Arc::new(Mutex::new(()));
        let sqlite_checkpoints = match url.backend() {
            Backend::Sqlite => checkpoints::Checkpointer::start(url, sqlite_writer.clone()),
            Backend::Postgres => None,
        };
        let manager = ConnectionManager {
            url: url.clone(),
            sqlite_checkpoints_in_commits: sqlite_checkpoints.is_none(),
        };
        let pool = Pool::builder()
            .max_size(pool_size.max(1))
            .min_idle(Some(0))
            // While the database is down a request waits this long for a connection, then
            // answers 503: long enough for a burst to queue, short enough not to hang clients.
            .connection_timeout(POOL_WAIT)
            .test_on_check_out(false)
            .build_unchecked(manager);
        let sqlite_group_commit = match url.backend() {
            Backend::Sqlite => {
                group_commit::GroupCommitter::start(pool.clone(), sqlite_writer.clone())
            }
            Backend::Postgres => None,
        };
        Self {
            pool,
            backend: url.backend(),
            sqlite_writer,
            _sqlite_checkpoints: sqlite_checkpoints,
            sqlite_group_commit,
        }
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations of this backend.
    pub fn run_migrations(&self) -> Result<(), StorageError> {
        let mut pooled = self.connection()?;
        let conn = &mut pooled.conn;
        match self.backend {
            Backend::Sqlite => conn
                .run_pending_migrations(SQLITE_MIGRATIONS)
                .map(drop)
                .map_err(|e| StorageError::Migration(e.to_string())),
            Backend::Postgres => {
                // Instances started together would otherwise apply the same migration twice
                // and one of them would fail; the session lock makes them take turns (the
                // lock goes with the connection if the process dies).
                conn.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                let migrated = conn
                    .run_pending_migrations(POSTGRES_MIGRATIONS)
                    .map(drop)
                    .map_err(|e| StorageError::Migration(e.to_string()));
                conn.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                migrated
            }
        }
    }

    fn connection(&self) -> Result<r2d2::PooledConnection<ConnectionManager>, StorageError> {
        // (Returned connections that `work` found dead are dropped by `has_broken`.)
        self.pool
            .get()
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }

    /// Runs `work`, a read of a few rows by key, as [`Self::run`] does, except on SQLite when a
    /// pooled connection is free: then right here, on the calling async worker. Such a read takes
    /// microseconds and never waits for the writer (WAL), while the hop to the blocking pool and
    /// back cost more than the read itself: two thread wake-ups and the pool's condition variable
    /// (a third of the server's CPU for `GET /reissue-applications/{id}`, issue 13). On
    /// PostgreSQL a read waits for the network, so it stays off the async workers.
    pub async fn lookup<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        if self.backend == Backend::Sqlite {
            if let Some(mut pooled) = self.pool.try_get() {
                // As on the blocking pool, a panic answers this caller with an error instead
                // of unwinding through the async worker and the other requests it serves.
                return std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    work(&mut pooled.conn)
                }))
                .unwrap_or_else(|_| {
                    Err(E::from(StorageError::Task(
                        "the database task failed (it panicked)".into(),
                    )))
                });
            }
        }
        self.run(work).await
    }

    /// Runs `work` with a connection on the blocking thread pool.
    pub async fn run<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut pooled = db.connection()?;
            let result = work(&mut pooled.conn);
            if result.is_err() {
                pooled.check_alive();
            }
            result
        })
        .await
        .map_err(|e| E::from(StorageError::Task(e.to_string())))?
    }

    /// Runs `work`, whose writes each stand whole alone (a crash between two of them leaves
    /// nothing half done), without a transaction around them on PostgreSQL: each statement
    /// commits by itself, so `BEGIN` and `COMMIT` (two statements for PostgreSQL to run, and
    /// two round trips) are saved. On SQLite writes go through its one writer, so `work` runs
    /// as [`Self::transaction`] runs it, in a group commit.
    pub async fn autocommit<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        match self.backend {
            Backend::Postgres => self.run(work).await,
            Backend::Sqlite => self.transaction(work).await,
        }
    }

    /// Runs `work` in one transaction; an `Err` rolls its writes back. On SQLite the writer
    /// thread runs it in a group commit (`group_commit`), otherwise it runs on the blocking
    /// thread pool. Either way the answer comes after its commit.
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        if let Some(group_commit) = &self.sqlite_group_commit {
            return group_commit.transaction(work).await;
        }
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.transaction_blocking(work))
            .await
            .map_err(|e| E::from(StorageError::Task(e.to_string())))?
    }

    /// Runs `work` in one transaction on the calling thread (CLI commands, start-up).
    pub fn transaction_blocking<T, E, F>(&self, work: F) -> Result<T, E>
    where
        E: From<StorageError>,
        F: FnOnce(&mut DbConnection) -> Result<T, E>,
    {
        let _writer = match self.backend {
            Backend::Sqlite => Some(
                self.sqlite_writer
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            ),
            Backend::Postgres => None,
        };
        let mut pooled = self.connection()?;
        let result = transaction(&mut pooled.conn, work);
        if result.is_err() {
            pooled.check_alive();
        }
        result
    }

    /// `/readyz`: can we reach the database right now?
    pub async fn ping(&self) -> Result<(), StorageError> {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(StorageError::Query))
            .await
    }
}

/// One transaction. SQLite gets `BEGIN IMMEDIATE`, which takes the write lock up front: a
/// deferred transaction that reads and then writes can fail with "database is locked" when
/// another writer got in between, and busy_timeout cannot help there.
fn transaction<T, E, F>(conn: &mut DbConnection, work: F) -> Result<T, E>
where
    E: From<StorageError>,
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
{
    match conn {
        DbConnection::Postgres(_) => {
            let mut outcome = None;
            let result = conn.transaction::<_, diesel::result::Error, _>(|conn| match work(conn) {
                Ok(value) => {
                    outcome = Some(Ok(value));
                    Ok(())
                }
                Err(error) => {
                    outcome = Some(Err(error));
                    Err(diesel::result::Error::RollbackTransaction)
                }
            });
            match (result, outcome) {
                (_, Some(Err(error))) => Err(error),
                (Ok(()), Some(Ok(value))) => Ok(value),
                (Err(error), _) => Err(E::from(StorageError::Query(error))),
                (Ok(()), None) => Err(E::from(StorageError::Task(
                    "transaction did not run".into(),
                ))),
            }
        }
        DbConnection::Sqlite(_) => {
            conn.batch_execute("BEGIN IMMEDIATE")
                .map_err(|e| E::from(StorageError::Query(e)))?;
            match work(conn) {
                Ok(value) => match conn.batch_execute("COMMIT") {
                    Ok(()) => Ok(value),
                    Err(error) => {
                        let _ = conn.batch_execute("ROLLBACK");
                        Err(E::from(StorageError::Query(error)))
                    }
                },
                Err(error) => {
                    // The error that made us roll back is the one worth reporting.
                    let _ = conn.batch_execute("ROLLBACK");
                    Err(error)
                }
            }
        }
    }
}

/// Serialises the transactions that name `key` until the transaction ends, for a limit with
/// no row to lock (a budget counted in `rate_limit_counters` before its bucket has a row, the creation of an office's
/// application). PostgreSQL: a transaction-scoped advisory lock on a 64-bit hash of the key;
/// SQLite's `BEGIN IMMEDIATE` already lets one writer in at a time. Callers that take several
/// keys in one transaction take them in one order (the client's budget first), so that two
/// transactions cannot each hold a key the other waits for.
pub fn lock_key(conn: &mut DbConnection, key: &str) -> Result<(), StorageError> {
    lock_keys(conn, &[key])
}

/// [`lock_key`] for each of `keys` in the order given, in one statement.
pub fn lock_keys(conn: &mut DbConnection, keys: &[&str]) -> Result<(), StorageError> {
    match conn {
        DbConnection::Postgres(pg) => {
            diesel::query_dsl::methods::ExecuteDsl::execute(AdvisoryXactLocks { keys }, pg)?;
        }
        DbConnection::Sqlite(_) => {}
    }
    Ok(())
}

/// `SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0))) FROM unnest($1) AS key`: a
/// statement PostgreSQL prepares once per connection, whatever the number of keys. `unnest`
/// gives the keys in the array's order and the aggregate takes every lock, one after the
/// other, in that order. (As a `sql_query` it was parsed and planned anew on each lock:
/// diesel never caches a `sql_query`.)
struct AdvisoryXactLocks<'a> {
    keys: &'a [&'a str],
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for AdvisoryXactLocks<'_> {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0))) FROM unnest(");
        out.push_bind_param::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(&self.keys)?;
        out.push_sql(") AS key");
        Ok(())
    }
}

// One SQL text whatever the keys: diesel may cache it by type.
impl diesel::query_builder::QueryId for AdvisoryXactLocks<'_> {
    type QueryId = AdvisoryXactLocks<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

/// Runs a diesel query on the backend's own connection inside a [`DbConnection`].
///
/// Why not `RunQueryDsl` on the `DbConnection` itself: diesel's `MultiConnection` wraps every
/// query in a serialising shim that builds its SQL text again on every execution (three times:
/// for the text, for the cache check and while collecting binds), so even a statement the
/// backend has prepared and cached costs a full SQL build, which grows with the number of
/// columns. On the backend's own connection a query with a static query id is prepared once
/// per connection and then only bound, on SQLite and on PostgreSQL. Storage code calls these
/// (a test below refuses `RunQueryDsl` calls on a `DbConnection` in storage code).
pub trait RunOnBackend: Sized {
    /// `RunQueryDsl::execute` on the backend's connection.
    fn execute_on(self, conn: &mut DbConnection) -> diesel::QueryResult<usize>
    where
        Self: diesel::query_dsl::methods::ExecuteDsl<PgConnection>
            + diesel::query_dsl::methods::ExecuteDsl<SqliteConnection>,
    {
        use diesel::query_dsl::methods::ExecuteDsl;
        match conn {
            DbConnection::Postgres(pg) => ExecuteDsl::execute(self, pg),
            DbConnection::Sqlite(sqlite) => ExecuteDsl::execute(self, sqlite),
        }
    }

    /// `RunQueryDsl::load` on the backend's connection.
    fn load_on<'query, U>(self, conn: &mut DbConnection) -> diesel::QueryResult<Vec<U>>
    where
        Self: diesel::query_dsl::LoadQuery<'query, PgConnection, U>
            + diesel::query_dsl::LoadQuery<'query, SqliteConnection, U>,
    {
        use diesel::RunQueryDsl;
        match conn {
            DbConnection::Postgres(pg) => RunQueryDsl::load(self, pg),
            DbConnection::Sqlite(sqlite) => RunQueryDsl::load(self, sqlite),
        }
    }

    /// `RunQueryDsl::get_result` on the backend's connection.
    fn get_result_on<'query, U>(self, conn: &mut DbConnection) -> diesel::QueryResult<U>
    where
        Self: diesel::query_dsl::LoadQuery<'query, PgConnection, U>
            + diesel::query_dsl::LoadQuery<'query, SqliteConnection, U>,
    {
        use diesel::RunQueryDsl;
        match conn {
            DbConnection::Postgres(pg) => RunQueryDsl::get_result(self, pg),
            DbConnection::Sqlite(sqlite) => RunQueryDsl::get_result(self, sqlite),
        }
    }

    /// `RunQueryDsl::first` on the backend's connection.
    fn first_on<'query, U>(self, conn: &mut DbConnection) -> diesel::QueryResult<U>
    where
        Self: diesel::query_dsl::methods::LimitDsl,
        diesel::dsl::Limit<Self>: diesel::query_dsl::LoadQuery<'query, PgConnection, U>
            + diesel::query_dsl::LoadQuery<'query, SqliteConnection, U>,
    {
        diesel::query_dsl::methods::LimitDsl::limit(self, 1).get_result_on(conn)
    }
}

impl<Query> RunOnBackend for Query {}

/// The columns of the row type `Row`, in its fields' order, as a select clause that both
/// backends run. (`Row::as_select()` names one backend in its type, so a query that selects it
/// can run through [`RunOnBackend`] on one backend only.) The row is then read by position:
/// its `Queryable` derive takes the columns in the order of its fields, which is the order
/// `Selectable` gives them.
pub fn selection<Row>() -> <Row as diesel::Selectable<diesel::sqlite::Sqlite>>::SelectExpression
where
    Row: diesel::Selectable<diesel::sqlite::Sqlite>,
{
    Row::construct_selection()
}

/// `diesel::result::Error::NotFound` as `None`.
pub fn optional<T>(result: Result<T, diesel::result::Error>) -> Result<Option<T>, StorageError> {
    use diesel::OptionalExtension;
    result.optional().map_err(StorageError::Query)
}

/// A migrated SQLite database in a new temporary folder (deleted when the folder is dropped),
/// for the storage unit tests.
#[cfg(test)]
pub(crate) fn temporary_sqlite(pool_size: u32) -> (tempfile::TempDir, Database) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let url = DatabaseUrl::new(dir.path().join("t.sqlite3").to_string_lossy());
    let db = Database::new(&url, pool_size);
    db.run_migrations().unwrap_or_else(|e| panic!("{e}"));
    (dir, db)
}

/// The SQL text of `statement` on PostgreSQL, without its binds (unit tests of hand-written
/// statements).
#[cfg(test)]
pub(crate) fn pg_text<T: diesel::query_builder::QueryFragment<diesel::pg::Pg>>(
    statement: &T,
) -> String {
    let text = diesel::debug_query::<diesel::pg::Pg, _>(statement).to_string();
    match text.split_once(" -- ") {
        Some((sql, _binds)) => sql.to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    /// Both backends must carry the same migrations, by name.
    #[test]
    fn sqlite_and_postgres_have_the_same_migrations() {
        let names = |backend: &str| -> Vec<String> {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../migrations")
                .join(backend);
            let mut names: Vec<String> = std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            names.sort();
            names
        };
        let sqlite = names("sqlite");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, names("postgres"));
    }

    /// The bundled SQLite is built with the query planner stability guarantee
    /// (`.cargo/config.toml`): without it cached statements are prepared again whenever a
    /// bound value changes.
    #[test]
    fn sqlite_keeps_its_plans_whatever_values_are_bound() -> Result<(), diesel::result::Error> {
        use diesel::{Connection, RunQueryDsl};
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = diesel::SqliteConnection::establish(":memory:")
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.into()))?;
        let options: Vec<String> = diesel::sql_query("PRAGMA compile_options")
            .load::<CompileOption>(&mut conn)?
            .into_iter()
            .map(|o| o.compile_options)
            .collect();
        assert!(options.iter().any(|o| o == "ENABLE_STAT4"), "{options:?}");
        assert!(options.iter().any(|o| o == "ENABLE_QPSG"), "{options:?}");
        Ok(())
    }

    /// Pooled SQLite connections (the group commit's writer among them) keep temporary files,
    /// the savepoints' sub-journals among them, in memory, and stay durable as before.
    #[test]
    fn sqlite_connections_keep_sub_journals_in_memory() {
        use diesel::RunQueryDsl;
        #[derive(diesel::QueryableByName)]
        struct Setting {
            #[diesel(sql_type = diesel::sql_types::Text)]
            value: String,
        }
        let (_dir, db) = super::temporary_sqlite(1);
        let mut pooled = db.connection().unwrap();
        let super::DbConnection::Sqlite(sqlite) = &mut pooled.conn else {
            panic!("not SQLite");
        };
        let read = |sqlite: &mut diesel::SqliteConnection, pragma: &str| {
            diesel::sql_query(format!(
                "SELECT CAST({pragma} AS TEXT) AS value FROM pragma_{pragma}()"
            ))
            .get_result::<Setting>(sqlite)
            .unwrap()
            .value
        };
        // 2: MEMORY; 1: NORMAL; wal.
        assert_eq!(read(sqlite, "temp_store"), "2");
        assert_eq!(read(sqlite, "synchronous"), "1");
        assert_eq!(read(sqlite, "journal_mode"), "wal");
    }

    /// A SQLite read by key runs on the calling thread when a connection is free, and on the
    /// blocking pool, waiting for one, when none is.
    #[tokio::test]
    async fn a_sqlite_lookup_runs_here_when_a_connection_is_free() {
        use diesel::connection::SimpleConnection;
        let (_dir, db) = super::temporary_sqlite(1);
        let here = std::thread::current().id();
        let ran_on = |db: super::Database| async move {
            db.lookup(|conn| {
                conn.batch_execute("SELECT 1")?;
                Ok::<_, super::StorageError>(std::thread::current().id())
            })
            .await
        };
        assert_eq!(ran_on(db.clone()).await.unwrap(), here);
        // The only connection taken: the read waits on the blocking pool until it is back.
        let taken = db.connection().unwrap();
        let waiting = ran_on(db.clone());
        let release = async {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            drop(taken);
        };
        let (ran, ()) = tokio::join!(waiting, release);
        assert_ne!(ran.unwrap(), here);
    }

    /// A lookup that panics answers its caller with an error, and the next one runs.
    #[tokio::test]
    async fn a_panicking_lookup_is_an_error_for_its_caller_alone() {
        let (_dir, db) = super::temporary_sqlite(1);
        let failed = db
            .lookup(|_conn| -> Result<(), super::StorageError> { panic!("a bug in a read") })
            .await;
        assert!(
            matches!(failed, Err(super::StorageError::Task(_))),
            "{failed:?}"
        );
        let next = db
            .lookup(|conn| {
                use diesel::connection::SimpleConnection;
                conn.batch_execute("SELECT 1")
                    .map_err(super::StorageError::Query)
            })
            .await;
        assert!(next.is_ok(), "{next:?}");
    }

    /// The advisory locks of `lock_keys` are one statement, whatever their number, that
    /// diesel caches on PostgreSQL.
    #[test]
    fn the_advisory_locks_are_one_statement_diesel_caches() -> diesel::QueryResult<()> {
        use diesel::query_builder::{QueryFragment, QueryId};
        let keys = [
            "budget:wrong:office:1311111111",
            "budget:wrong:email:a@example.jp",
        ];
        let locks = super::AdvisoryXactLocks { keys: &keys };
        assert_eq!(
            diesel::debug_query::<diesel::pg::Pg, _>(&locks).to_string(),
            "SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0))) FROM unnest($1) AS key \
             -- binds: [[\"budget:wrong:office:1311111111\", \"budget:wrong:email:a@example.jp\"]]"
        );
        assert!(locks.is_safe_to_cache_prepared(&diesel::pg::Pg)?);
        assert!(super::AdvisoryXactLocks::query_id().is_some());
        Ok(())
    }

    /// Storage code runs its queries through `RunOnBackend` (`execute_on`, `load_on`, ...):
    /// the same call on the `DbConnection` compiles, and works, but builds its SQL anew on
    /// every execution.
    #[test]
    fn storage_code_runs_queries_on_the_backends_own_connection() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/db");
        let mut read = 0;
        let mut offences = Vec::new();
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(source) = std::fs::read_to_string(&path) else {
                continue;
            };
            read += 1;
            for (number, line) in source.lines().enumerate() {
                let compact: String = line.split_whitespace().collect();
                for method in ["execute", "load", "get_result", "get_results", "first"] {
                    if compact.contains(&format!(".{method}(conn)")) {
                        offences.push(format!(
                            "{}:{}: {}",
                            path.display(),
                            number + 1,
                            line.trim()
                        ));
                    }
                }
            }
        }
        assert!(read >= 10, "read only {read} files of {}", dir.display());
        assert!(
            offences.is_empty(),
            "use RunOnBackend:\n{}",
            offences.join("\n")
        );
    }
}
