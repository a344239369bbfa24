//! SQLite's writes as group commits: one thread runs the process's write transactions back to
//! back, several to a commit, each answered only once its commit is done.
//!
//! SQLite lets one writer in at a time. With a transaction per request on the blocking pool,
//! every request's transaction waited for the writer lock, woke up on another thread (a context
//! switch per hand-over, during which no one wrote) and paid a commit of its own; at
//! concurrency 64 the server sat a quarter idle while requests queued for the lock (issue 13).
//! Here the writer is one thread that stays on the CPU: it takes the transactions queued so
//! far (up to [`MAX_GROUP`]), runs each inside a savepoint of one `BEGIN IMMEDIATE … COMMIT`
//! (a transaction that fails is rolled back to its savepoint, leaving the others whole), and
//! answers every one after the COMMIT. No answer goes out before its own commit, so
//! durability is what it was: WAL with `synchronous = NORMAL`, committed as before, only
//! fewer times. A commit that fails answers every transaction of its group with the failure.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use diesel::connection::SimpleConnection;
use diesel::r2d2::Pool;

use super::{ConnectionManager, DbConnection, StorageError};

/// Transactions per commit at most: enough to take what queues while one group runs at high
/// concurrency, few enough that the first of a group does not wait long for the last.
pub const MAX_GROUP: usize = 32;

/// A queued transaction: runs on the writer's connection inside its savepoint and says
/// whether it succeeded, with what answers its caller once the group's commit is known. Given
/// `Err(reason)` instead of a connection (none could be had, or the transaction could not
/// begin), it does not run and answers its caller that the database is unavailable.
type Job = Box<dyn FnOnce(Result<&mut DbConnection, &str>) -> (bool, Reply) + Send>;

/// Answers a transaction's caller: given the group's commit (`Err` with the reason when it
/// failed).
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;

/// The queue of the writer thread; the thread stops when the last clone is dropped.
#[derive(Clone)]
pub struct GroupCommitter {
    jobs: mpsc::Sender<Job>,
}

impl GroupCommitter {
    /// Starts the writer thread on connections of `pool`, taking `writer` (the process's
    /// writer lock, which CLI transactions and the checkpointer's TRUNCATE also take) for each
    /// group. `None` if no thread could be started: transactions then take the lock one by one.
    pub fn start(pool: Pool<ConnectionManager>, writer: Arc<Mutex<()>>) -> Option<Self> {
        match Self::spawn(pool, writer) {
            Ok((committer, _thread)) => Some(committer),
            Err(error) => {
                tracing::error!(%error, "cannot start the SQLite writer thread; writes take turns on the blocking pool");
                None
            }
        }
    }

    /// [`Self::start`], with the thread's handle.
    fn spawn(
        pool: Pool<ConnectionManager>,
        writer: Arc<Mutex<()>>,
    ) -> std::io::Result<(Self, std::thread::JoinHandle<()>)> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || run(&pool, &writer, &queue))?;
        Ok((Self { jobs }, thread))
    }

    /// Runs `work` in a transaction of the next group and answers when its commit is done (or
    /// with `work`'s error, its writes rolled back).
    pub async fn transaction<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: FnOnce(&mut DbConnection) -> Result<T, E> + Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: Job = Box::new(move |conn: Result<&mut DbConnection, &str>| {
            let result = match conn {
                Ok(conn) => work(conn),
                Err(reason) => Err(E::from(StorageError::Unavailable(reason.to_owned()))),
            };
            let succeeded = result.is_ok();
            let reply: Reply = Box::new(move |committed: Result<(), String>| {
                let result = match committed {
                    Ok(()) => result,
                    // Its own error, if it had one, is the one worth reporting.
                    Err(reason) => result.and_then(|_| {
                        Err(E::from(StorageError::Unavailable(format!(
                            "commit failed: {reason}"
                        ))))
                    }),
                };
                // The caller may have gone (its request was dropped); nothing to answer then.
                let _ = answer.send(result);
            });
            (succeeded, reply)
        });
        self.jobs
            .send(job)
            .map_err(|_| E::from(StorageError::Task("the SQLite writer has stopped".into())))?;
        answered.await.unwrap_or_else(|_| {
            Err(E::from(StorageError::Task(
                "the database task failed (it panicked)".into(),
            )))
        })
    }
}

fn run(pool: &Pool<ConnectionManager>, writer: &Mutex<()>, queue: &mpsc::Receiver<Job>) {
    // Ends when every sender is gone: the `Database` was dropped.
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let writer_turn = writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (replies, committed) = match pool.get() {
            Ok(mut pooled) => commit_group(&mut pooled.conn, group),
            Err(error) => refuse(group, &error.to_string(), Vec::new()),
        };
        drop(writer_turn);
        for reply in replies {
            reply(committed.clone());
        }
    }
}

/// Runs `group` in one transaction, each job in its own savepoint; returns the replies of the
/// jobs that ran and the commit's outcome. Should SQLite roll the whole transaction back by
/// itself (some I/O errors do), the savepoint is gone: the group stops there, every job that
/// ran hears that its commit failed, and the rest are refused unrun ([`refuse`]).
fn commit_group(conn: &mut DbConnection, mut group: Vec<Job>) -> (Vec<Reply>, Result<(), String>) {
    let mut replies = Vec::with_capacity(group.len());
    if let Err(error) = conn.batch_execute("BEGIN IMMEDIATE") {
        return refuse(group, &error.to_string(), replies);
    }
    // Alone in its group (the usual case under light load), a transaction needs no
    // savepoint: two statements fewer, each parsed anew by SQLite.
    if group.len() == 1 {
        let alone = group
            .pop()
            .is_some_and(|job| run_job(conn, job, &mut replies));
        if !alone {
            // Its own error answers it; nothing of it is kept.
            let _ = conn.batch_execute("ROLLBACK");
            return (replies, Ok(()));
        }
        return commit(conn, replies);
    }
    let mut jobs = group.into_iter();
    while let Some(job) = jobs.next() {
        if let Err(error) = conn.batch_execute("SAVEPOINT job") {
            let _ = conn.batch_execute("ROLLBACK");
            return refuse(
                std::iter::once(job).chain(jobs),
                &error.to_string(),
                replies,
            );
        }
        let succeeded = run_job(conn, job, &mut replies);
        let closed = if succeeded {
            conn.batch_execute("RELEASE job")
        } else {
            conn.batch_execute("ROLLBACK TO job; RELEASE job")
        };
        if let Err(error) = closed {
            let _ = conn.batch_execute("ROLLBACK");
            return refuse(jobs, &error.to_string(), replies);
        }
    }
    commit(conn, replies)
}

/// The jobs that cannot run (no connection, no transaction, or the transaction lost): each
/// answers its caller that the database is unavailable (503, try again), and the `replies` of
/// those that did run hear that their commit failed.
fn refuse(
    jobs: impl IntoIterator<Item = Job>,
    reason: &str,
    mut replies: Vec<Reply>,
) -> (Vec<Reply>, Result<(), String>) {
    tracing::warn!(%reason, "write transactions refused");
    for job in jobs {
        replies.push(job(Err(reason)).1);
    }
    (replies, Err(reason.to_owned()))
}

/// Commits the open transaction: the replies, and the outcome they are answered with.
fn commit(conn: &mut DbConnection, replies: Vec<Reply>) -> (Vec<Reply>, Result<(), String>) {
    match conn.batch_execute("COMMIT") {
        Ok(()) => (replies, Ok(())),
        Err(error) => {
            let _ = conn.batch_execute("ROLLBACK");
            (replies, Err(error.to_string()))
        }
    }
}

/// Runs one job, keeping its reply; whether it succeeded. A panic in one transaction must not
/// take the writer (and every later write) down with it: it counts as a failure, whose writes
/// the caller rolls back, and the job's caller hears of a failed task (its answer channel
/// closes unanswered).
fn run_job(conn: &mut DbConnection, job: Job, replies: &mut Vec<Reply>) -> bool {
    match std::panic::catch_unwind(AssertUnwindSafe(|| job(Ok(conn)))) {
        Ok((succeeded, reply)) => {
            replies.push(reply);
            succeeded
        }
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use diesel::prelude::*;

    use crate::db::models::RateLimitCounterRow;
    use crate::db::schema::rate_limit_counters::dsl;
    use crate::db::{Database, RunOnBackend, StorageError};

    fn database() -> (tempfile::TempDir, Database) {
        crate::db::temporary_sqlite(4)
    }

    fn counter(bucket: &str) -> RateLimitCounterRow {
        RateLimitCounterRow {
            bucket: bucket.to_owned(),
            slot_seconds: 60,
            slots: "1:1".to_owned(),
            expires_at: time::macros::datetime!(2026-12-07 10:00:00),
        }
    }

    fn insert(conn: &mut crate::db::DbConnection, bucket: &str) -> Result<(), StorageError> {
        diesel::insert_into(dsl::rate_limit_counters)
            .values(counter(bucket))
            .execute_on(conn)?;
        Ok(())
    }

    fn buckets(db: &Database) -> Vec<String> {
        db.transaction_blocking(|conn| {
            Ok::<_, StorageError>(
                dsl::rate_limit_counters
                    .select(dsl::bucket)
                    .order(dsl::bucket.asc())
                    .load_on(conn)?,
            )
        })
        .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Transactions sent at once share commits, yet each is answered with its own outcome: a
    /// failed one leaves nothing behind, a panicking one neither, and the others are stored.
    #[tokio::test]
    async fn each_transaction_of_a_group_keeps_its_own_outcome() {
        let (_dir, db) = database();
        let mut tasks = Vec::new();
        for n in 0..40 {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                db.transaction(move |conn| {
                    insert(conn, &format!("ok:{n:02}"))?;
                    match n % 10 {
                        // Writes, then fails: its write must not stay.
                        3 => {
                            insert(conn, &format!("failed:{n:02}"))?;
                            Err(StorageError::Corrupt(format!("refused {n}")))
                        }
                        // Writes, then panics.
                        7 => {
                            insert(conn, &format!("panicked:{n:02}"))?;
                            panic!("transaction {n} panics")
                        }
                        // A unique violation: the row of an earlier transaction of this run.
                        9 => insert(conn, "ok:00").map(|()| n),
                        _ => Ok(n),
                    }
                })
                .await
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(task.await.unwrap_or_else(|e| panic!("{e}")));
        }
        for (n, answer) in answers.iter().enumerate() {
            match n % 10 {
                3 => assert!(
                    matches!(answer, Err(StorageError::Corrupt(_))),
                    "{n}: {answer:?}"
                ),
                7 => assert!(
                    matches!(answer, Err(StorageError::Task(_))),
                    "{n}: {answer:?}"
                ),
                9 => assert!(
                    answer
                        .as_ref()
                        .is_err_and(StorageError::is_unique_violation),
                    "{n}: {answer:?}"
                ),
                _ => assert_eq!(answer.as_ref().ok(), Some(&n), "{n}"),
            }
        }
        let expected: Vec<String> = (0..40)
            .filter(|n| ![3, 7, 9].contains(&(n % 10)))
            .map(|n| format!("ok:{n:02}"))
            .collect();
        assert_eq!(buckets(&db), expected);
    }

    /// One at a time, each transaction is alone in its group (no savepoint): the same
    /// outcomes.
    #[tokio::test]
    async fn a_transaction_alone_in_its_group_keeps_its_own_outcome() {
        let (_dir, db) = database();
        let stored = db.transaction(|conn| insert(conn, "a").map(|()| 1)).await;
        assert_eq!(stored.ok(), Some(1));
        let failed: Result<(), StorageError> = db
            .transaction(|conn| {
                insert(conn, "failed")?;
                Err(StorageError::Corrupt("refused".into()))
            })
            .await;
        assert!(
            matches!(failed, Err(StorageError::Corrupt(_))),
            "{failed:?}"
        );
        let panicked: Result<(), StorageError> = db
            .transaction(|conn| {
                insert(conn, "panicked")?;
                panic!("alone and panicking")
            })
            .await;
        assert!(
            matches!(panicked, Err(StorageError::Task(_))),
            "{panicked:?}"
        );
        let after = db.transaction(|conn| insert(conn, "b").map(|()| 2)).await;
        assert_eq!(after.ok(), Some(2));
        assert_eq!(buckets(&db), ["a", "b"]);
    }

    /// A database that cannot be opened answers "unavailable" (503, try again), as the
    /// blocking path did, never a failed task (500).
    #[tokio::test]
    async fn a_database_that_cannot_be_opened_is_unavailable() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let missing = dir.path().join("no-such-folder").join("t.sqlite3");
        let db = Database::new(
            &crate::config::DatabaseUrl::new(missing.to_string_lossy()),
            1,
        );
        let answer = db.transaction(|conn| insert(conn, "never")).await;
        assert!(
            answer.as_ref().is_err_and(StorageError::is_unavailable),
            "{answer:?}"
        );
    }

    /// The writer thread stops with the last clone of its queue (each `Database` clone holds
    /// one), so the many servers of a test process leave no thread behind.
    #[tokio::test]
    async fn the_writer_thread_ends_with_its_queue() {
        let (_dir, db) = database();
        let (committer, thread) =
            super::GroupCommitter::spawn(db.pool.clone(), std::sync::Arc::default())
                .unwrap_or_else(|e| panic!("{e}"));
        let written = committer
            .transaction(|conn| insert(conn, "one").map(|()| 1))
            .await;
        assert_eq!(written.ok(), Some(1));
        let copy = committer.clone();
        drop(committer);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!thread.is_finished(), "stopped while a clone was left");
        drop(copy);
        for _ in 0..200 {
            if thread.is_finished() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(thread.is_finished());
    }
}
