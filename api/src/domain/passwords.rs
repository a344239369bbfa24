//! Passwords: argon2id hashing, the dummy hash that makes an unknown ID cost the same time as a
//! known one, the password rules (from `shared`, which the browser runs too), and the one
//! login with lock-out that reviewer and office logins share.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, SaltString};
use argon2::Argon2;
use time::OffsetDateTime;

use reissue_shared::{password, SecretText};

use super::audit::{AuditAction, AuditEvent};
use super::caller::{client_bucket, Caller};
use super::rate_limit::{self, Budget};
use super::secrets::Hasher;
use super::{Context, DomainError};
use crate::db::models::{from_db_time, to_db_time, LoginFailureRow};
use crate::db::{self, DbConnection, StorageError};

/// A password check or hash waiting for an argon2 thread.
type PasswordJob = Box<dyn FnOnce() + Send>;

/// argon2 on threads of its own, never on the blocking pool the database work uses, with a
/// bounded queue: a flood of logins costs at most `threads` × 19 MiB and waits in a queue of
/// `queue`; beyond it a login is answered 503 at once (`DomainError::Busy`) instead of piling up
/// memory and starving every other request.
#[derive(Clone)]
pub struct PasswordWorkers {
    jobs: std::sync::mpsc::SyncSender<PasswordJob>,
    /// One permit per thread and waiting place: a login takes its place before anything else
    /// (even the throttle's database write), so a full queue is answered at once.
    places: Arc<tokio::sync::Semaphore>,
}

/// A place taken on the argon2 threads (running or waiting), given back when dropped.
pub struct PasswordPlace {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl PasswordWorkers {
    /// Starts `threads` threads; at most `queue` jobs wait for them. The threads end when the
    /// last handle is dropped.
    pub fn start(threads: usize, queue: usize) -> Result<Self, DomainError> {
        let threads = threads.max(1);
        let (jobs, waiting) = std::sync::mpsc::sync_channel::<PasswordJob>(threads + queue);
        let waiting = Arc::new(std::sync::Mutex::new(waiting));
        for n in 0..threads {
            let waiting = waiting.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || {
                    ARGON2_MEMORY.with(|memory| *memory.borrow_mut() = Some(Vec::new()));
                    loop {
                        // The lock is held only while taking a job, not while running it.
                        let job = match waiting.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| DomainError::Internal(format!("starting an argon2 thread: {e}")))?;
        }
        Ok(Self {
            jobs,
            places: Arc::new(tokio::sync::Semaphore::new(threads + queue)),
        })
    }

    /// Takes a place on the threads, or refuses with `Busy` when every place is taken.
    pub fn reserve(&self) -> Result<PasswordPlace, DomainError> {
        self.places
            .clone()
            .try_acquire_owned()
            .map(|permit| PasswordPlace { _permit: permit })
            .map_err(|_| {
                crate::metrics::observe_refusal("password:queue");
                DomainError::Busy {
                    retry_after_secs: BUSY_RETRY_AFTER_SECS,
                }
            })
    }

    /// Runs `work` on an argon2 thread, or refuses with `Busy` when the queue is full.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let place = self.reserve()?;
        self.run_in(place, work).await
    }

    /// Runs `work` on an argon2 thread in a place taken before.
    pub async fn run_in<T: Send + 'static>(
        &self,
        place: PasswordPlace,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, DomainError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: PasswordJob = Box::new(move || {
            // The caller may have gone (a dropped request): nobody to tell.
            let _ = answer.send(work());
            drop(place);
        });
        // The channel holds as many jobs as there are places: with a place taken, it has room.
        self.jobs
            .try_send(job)
            .map_err(|_| DomainError::Internal("the argon2 threads are gone".into()))?;
        answered
            .await
            .map_err(|_| DomainError::Internal("an argon2 thread stopped mid-job".into()))
    }
}

thread_local! {
    /// The argon2 working memory of an argon2 thread (19 MiB with the default parameters),
    /// kept from one check to the next: allocated afresh each time, the C allocator keeps the
    /// freed blocks per thread and arena, and a flood of logins left the process at several
    /// hundred MiB. `None` on every other thread, which allocates per check.
    static ARGON2_MEMORY: std::cell::RefCell<Option<Vec<argon2::Block>>> =
        const { std::cell::RefCell::new(None) };
}

/// How long a login refused for a full queue is told to wait.
const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// How often a login is tried again when the account's password changed between the argon2
/// check and the transaction.
const LOGIN_TRIES: usize = 3;

/// argon2id with the crate's default (OWASP-recommended) parameters.
pub fn hash_password(password: &str) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| DomainError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the stored PHC string (a string that is not one matches nothing).
/// The argon2 crate's own verifier, except that the working memory is the argon2 thread's
/// (see [`ARGON2_MEMORY`]) and is zeroed after use.
pub fn verify_password(stored: &str, password: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(expected), Some(salt)) = (hash.hash, hash.salt) else {
        return false;
    };
    let (Ok(algorithm), Ok(params)) = (
        argon2::Algorithm::try_from(hash.algorithm),
        argon2::Params::try_from(&hash),
    ) else {
        return false;
    };
    let version = match hash.version.map(argon2::Version::try_from).transpose() {
        Ok(version) => version.unwrap_or_default(),
        Err(_) => return false,
    };
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let argon2 = Argon2::new(algorithm, version, params.clone());
    let mut computed = vec![0u8; expected.len()];
    let hashed = ARGON2_MEMORY.with(|memory| match memory.borrow_mut().as_mut() {
        Some(blocks) => {
            blocks.resize(params.block_count(), argon2::Block::default());
            let hashed = argon2.hash_password_into_with_memory(
                password.as_bytes(),
                salt,
                &mut computed,
                &mut *blocks,
            );
            blocks.fill(argon2::Block::default());
            hashed
        }
        None => argon2.hash_password_into(password.as_bytes(), salt, &mut computed),
    });
    hashed.is_ok()
        && bool::from(subtle::ConstantTimeEq::ct_eq(
            expected.as_bytes(),
            computed.as_slice(),
        ))
}

/// A valid argon2id hash of a random password, computed once.
fn dummy_hash() -> Result<&'static str, DomainError> {
    static HASH: OnceLock<String> = OnceLock::new();
    if let Some(hash) = HASH.get() {
        return Ok(hash);
    }
    let hash = hash_password(&uuid::Uuid::new_v4().to_string())?;
    Ok(HASH.get_or_init(|| hash))
}

/// The manual's rule for a new office password (see [`password::check_new_password`]).
pub fn check_new_office_password(
    new: &str,
    user_id: &str,
    temporary: Option<&str>,
) -> Result<(), DomainError> {
    password::check_new_password(new, user_id, temporary)
        .map_err(|error| DomainError::Validation(vec![error]))
}

/// The reviewer accounts' rule (see [`password::check_reviewer_password`]).
pub fn check_reviewer_password(new: &str) -> Result<(), DomainError> {
    password::check_reviewer_password(new).map_err(|error| DomainError::Validation(vec![error]))
}

/// When failed logins lock a client out of a login ID, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failed logins in a row, from one client on one ID, that lock that client out of it.
    pub max_failed: u32,
    /// How long the first lock lasts; each further lock of the same client on the same ID
    /// (with no success in between) lasts twice as long as the one before, up to a day.
    pub lock: Duration,
}

/// Failures in a row of one login ID, from all clients together, after which it cannot log in
/// at all until its password is set anew (NIST SP 800-63B section 5.2.2 allows at most 100).
pub const MAX_CONSECUTIVE_FAILURES: u32 = 100;

/// The longest lock of one client on one login ID.
const LONGEST_LOCK: Duration = Duration::from_secs(24 * 60 * 60);

/// How long failure counts are kept after the last failure (the sweeper forgets older ones).
pub const FAILURE_MEMORY: Duration = Duration::from_secs(30 * 24 * 60 * 60);

impl LockoutPolicy {
    /// How long the `nth` lock (1-based) of a client on an ID lasts.
    pub fn lock_for(&self, nth: u32) -> Duration {
        let doublings = nth.saturating_sub(1).min(16);
        self.lock
            .checked_mul(1 << doublings)
            .unwrap_or(LONGEST_LOCK)
            .min(LONGEST_LOCK.max(self.lock))
    }

    /// One more failure, given the counts before it.
    pub fn after_failure(&self, before: FailureCounts, now: OffsetDateTime) -> Failure {
        let mut pair = before.pair;
        let mut id = before.id;
        pair.failures = pair.failures.saturating_add(1);
        id.failures = id.failures.saturating_add(1);
        let in_a_row = pair.failures;
        let mut locked_until = None;
        if pair.failures >= self.max_failed {
            pair.locks = pair.locks.saturating_add(1);
            let until = now + self.lock_for(pair.locks);
            pair.locked_until = Some(until);
            // The next lock needs as many failures again (and lasts longer).
            pair.failures = 0;
            locked_until = Some(until);
        }
        Failure {
            at: now,
            in_a_row,
            locked_until,
            suspended: id.failures >= MAX_CONSECUTIVE_FAILURES,
            counts: FailureCounts { pair, id },
        }
    }
}

/// The failure count of one key: a (login ID, client) pair, or a login ID alone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCount {
    /// Failures in a row (for a pair: since its last lock).
    pub failures: u32,
    /// Locks so far, for a pair: each lasts longer.
    pub locks: u32,
    /// Locked until then, for a pair.
    pub locked_until: Option<OffsetDateTime>,
}

/// The counts a login attempt is judged by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCounts {
    /// This client on this login ID.
    pub pair: FailureCount,
    /// This login ID from every client.
    pub id: FailureCount,
}

impl FailureCounts {
    /// Why a login with these counts is refused before its password is looked at, if it is:
    /// the ID has failed too often in a row, or this client is locked out of it.
    pub fn refusal(&self, now: OffsetDateTime, suspended: &'static str) -> Option<DomainError> {
        if self.id.failures >= MAX_CONSECUTIVE_FAILURES {
            return Some(DomainError::LoginSuspended { remedy: suspended });
        }
        self.pair
            .locked_until
            .filter(|until| *until > now)
            .map(|until| locked(until, now))
    }
}

/// A failed login as the lock-out policy counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Failed logins in a row of this client on this ID, this one included.
    pub in_a_row: u32,
    /// Set when this failure locks the client out of the ID.
    pub locked_until: Option<OffsetDateTime>,
    /// Whether the ID has now failed [`MAX_CONSECUTIVE_FAILURES`] times in a row.
    pub suspended: bool,
    /// The counts to store.
    pub counts: FailureCounts,
}

/// An account that logs in with a password. Its failures are counted in `login_failures`,
/// keyed by [`PasswordAccount::KIND`] and the login ID, whether or not the ID exists.
pub trait PasswordAccount: Sized + Send + 'static {
    /// Which of its passwords matched (`()` for an account with one password).
    type Matched: Copy + Send + 'static;

    /// What the failure counts of its IDs are filed under.
    const KIND: &'static str;

    /// What the answer to an ID that failed too often in a row tells the person to do.
    const SUSPENDED_REMEDY: &'static str;

    /// The account a login ID names.
    fn find(conn: &mut DbConnection, login_id: &str) -> Result<Option<Self>, DomainError>;

    /// The same, locked until the transaction ends, so that its passwords cannot change
    /// between the check and the session.
    fn find_for_update(
        conn: &mut DbConnection,
        login_id: &str,
    ) -> Result<Option<Self>, DomainError>;

    /// The password hashes a login may match at `now`, in the order they are tried.
    fn password_hashes(&self, now: OffsetDateTime) -> Vec<(Self::Matched, String)>;

    /// The audit log's actions for a failed login and for the lock it may cause.
    const LOGIN_FAILED: AuditAction;
    /// See [`PasswordAccount::LOGIN_FAILED`].
    const LOCKED: AuditAction;

    /// What the audit log says of a failed login.
    fn failure_detail(_failure: &Failure) -> String {
        String::new()
    }

    /// An audit event of this account.
    fn audit_event(&self, action: AuditAction, detail: String, at: OffsetDateTime) -> AuditEvent;
}

/// Audits a failed login, with the lock or the stop it causes: as the account's event, or, for
/// an ID that names no account, as the client's (the ID kept short: it may be a password
/// typed in the wrong field).
fn record_failure<A: PasswordAccount>(
    conn: &mut DbConnection,
    account: Option<&A>,
    attempt: &LoginAttempt,
    failure: &Failure,
    client: &str,
) -> Result<(), DomainError> {
    let from = format!("from {client}");
    let event = |action: AuditAction, detail: String| match account {
        Some(account) => account.audit_event(action, detail, failure.at),
        None => AuditEvent {
            occurred_at: failure.at,
            actor: format!("client@{client}"),
            action,
            application_id: None,
            office_number: None,
            prefecture_code: None,
            detail: format!(
                "unknown ID {:?}, {detail}",
                attempt.login_id.chars().take(32).collect::<String>()
            ),
        },
    };
    let detail = [A::failure_detail(failure), from.clone()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    event(A::LOGIN_FAILED, detail).record(conn)?;
    if let Some(until) = failure.locked_until {
        event(A::LOCKED, format!("{from} until {until}")).record(conn)?;
    }
    if failure.suspended && failure.counts.id.failures == MAX_CONSECUTIVE_FAILURES {
        event(
            A::LOCKED,
            format!("{MAX_CONSECUTIVE_FAILURES} failures in a row: no login until a new password"),
        )
        .record(conn)?;
    }
    Ok(())
}

/// What a failed login is answered.
fn failure_answer<A: PasswordAccount>(failure: &Failure, attempt: &LoginAttempt) -> DomainError {
    if failure.suspended {
        DomainError::LoginSuspended {
            remedy: A::SUSPENDED_REMEDY,
        }
    } else if let Some(until) = failure.locked_until {
        locked(until, failure.at)
    } else {
        DomainError::InvalidCredentials {
            id_label: attempt.id_label,
        }
    }
}

/// Why `attempt` would be refused before its password is looked at, if it would (see
/// [`FailureCounts::refusal`]): for a check of a password outside a login, such as the
/// current password of a password change.
pub async fn refusal<A: PasswordAccount>(
    ctx: &Context,
    attempt: &LoginAttempt,
) -> Result<Option<DomainError>, DomainError> {
    let keys = FailureKeys::new(ctx, A::KIND, &attempt.login_id, &attempt.client);
    let counts = ctx.db.run(move |conn| keys.load(conn)).await?;
    Ok(counts.refusal(ctx.clock.now(), A::SUSPENDED_REMEDY))
}

/// A wrong password typed by someone already known to hold the account, such as the current
/// password of a password change: counted, stored and audited like a failed login (a stolen
/// session cannot guess the password without limit). Returns the answer: the lock or stop it
/// causes, or `wrong`.
pub fn count_wrong_password<A: PasswordAccount>(
    conn: &mut DbConnection,
    ctx: &Context,
    account: &A,
    attempt: &LoginAttempt,
    now: OffsetDateTime,
    wrong: DomainError,
) -> Result<DomainError, DomainError> {
    let keys = FailureKeys::new(ctx, A::KIND, &attempt.login_id, &attempt.client);
    keys.lock(conn)?;
    let counts = keys.load(conn)?;
    if let Some(refusal) = counts.refusal(now, A::SUSPENDED_REMEDY) {
        return Ok(refusal);
    }
    Ok(
        match count_failure(conn, &keys, counts, Some(account), attempt, now)? {
            DomainError::InvalidCredentials { .. } => wrong,
            other => other,
        },
    )
}

/// One more failure on `counts` (read under `keys.lock`): stored, audited, and the answer.
fn count_failure<A: PasswordAccount>(
    conn: &mut DbConnection,
    keys: &FailureKeys,
    counts: FailureCounts,
    account: Option<&A>,
    attempt: &LoginAttempt,
    now: OffsetDateTime,
) -> Result<DomainError, DomainError> {
    let failure = attempt.policy.after_failure(counts, now);
    keys.store(conn, &failure.counts, now)?;
    record_failure(conn, account, attempt, &failure, &keys.client)?;
    Ok(failure_answer::<A>(&failure, attempt))
}

/// What the step after a right password decided (see [`login_with_lockout`]).
#[derive(Debug)]
pub enum LoginStep<S> {
    /// Logged in: the session.
    Granted(S),
    /// The account needs a second factor the request did not carry: answered, not counted.
    SecondFactorMissing(DomainError),
    /// The second factor was wrong: counted as a failed login, and answered with this unless
    /// the count locks the ID (then the lock's answer). Nothing else the step wrote is kept
    /// apart from the count, because the step writes nothing before deciding.
    SecondFactorWrong(DomainError),
}

/// A password login to try.
#[derive(Clone)]
pub struct LoginAttempt {
    /// The login ID, normalised.
    pub login_id: String,
    /// The password as typed.
    pub password: SecretText,
    /// When failures lock a client out of the ID.
    pub policy: LockoutPolicy,
    /// How the screen names the ID, for the answer to a wrong one.
    pub id_label: &'static str,
    /// Who is trying (for the login throttle and the failure counts).
    pub client: Caller,
}

/// What the keyed hashes of failure counts are made for.
const FAILURE_PURPOSE: &str = "login-failures";

/// The keys of one login attempt's failure counts: keyed hashes of the account kind, the login
/// ID and (for the pair) the client's bucket, so the table holds no login ID in clear and an
/// unknown ID is counted exactly like a known one.
struct FailureKeys {
    /// The login ID's own count; also what every pair of the ID is filed under.
    id: String,
    /// This client on this login ID.
    pair: String,
    /// The client as the audit log names it (`domain::pseudonyms`).
    client: String,
}

impl FailureKeys {
    fn new(ctx: &Context, kind: &str, login_id: &str, client: &Caller) -> Self {
        Self {
            id: failure_subject(&ctx.hasher, kind, login_id),
            pair: ctx.hasher.digest(
                FAILURE_PURPOSE,
                &[kind, login_id, &client_bucket(&client.address)],
            ),
            client: client.pseudonym(&ctx.hasher),
        }
    }

    /// The counts as stored now. In a transaction, call [`FailureKeys::lock`] first.
    fn load(&self, conn: &mut DbConnection) -> Result<FailureCounts, DomainError> {
        let count = |row: Option<LoginFailureRow>| -> Result<FailureCount, DomainError> {
            row.map_or(Ok(FailureCount::default()), FailureCount::try_from)
        };
        Ok(FailureCounts {
            pair: count(db::login_failures::find(conn, &self.pair)?)?,
            id: count(db::login_failures::find(conn, &self.id)?)?,
        })
    }

    /// Serialises the transactions that count failures of this pair and this ID (the pair
    /// first, as everywhere).
    fn lock(&self, conn: &mut DbConnection) -> Result<(), DomainError> {
        let pair = format!("login-failures:{}", self.pair);
        let id = format!("login-failures:{}", self.id);
        db::lock_keys(conn, &[&pair, &id])?;
        Ok(())
    }

    fn store(
        &self,
        conn: &mut DbConnection,
        counts: &FailureCounts,
        now: OffsetDateTime,
    ) -> Result<(), DomainError> {
        for (key, count) in [(&self.pair, &counts.pair), (&self.id, &counts.id)] {
            db::login_failures::save(conn, &count.to_row(key, &self.id, now))?;
        }
        Ok(())
    }

    /// After a success: this client's count and the ID's count start again.
    fn forget(&self, conn: &mut DbConnection) -> Result<(), DomainError> {
        db::login_failures::delete(conn, &[self.pair.clone(), self.id.clone()])?;
        Ok(())
    }
}

fn failure_subject(hasher: &Hasher, kind: &str, login_id: &str) -> String {
    hasher.digest(FAILURE_PURPOSE, &[kind, login_id])
}

/// A new password was set for `login_id` (a reset, a new temporary password, an operator's
/// reset): every failure count and lock of the ID, from any client, is forgotten, and an ID
/// that had failed too often in a row can log in again.
pub fn forget_failures<A: PasswordAccount>(
    conn: &mut DbConnection,
    hasher: &Hasher,
    login_id: &str,
) -> Result<usize, StorageError> {
    db::login_failures::delete_subject(conn, &failure_subject(hasher, A::KIND, login_id))
}

impl FailureCount {
    fn to_row(self, key: &str, subject: &str, now: OffsetDateTime) -> LoginFailureRow {
        LoginFailureRow {
            key: key.to_owned(),
            subject: subject.to_owned(),
            failures: i32::try_from(self.failures).unwrap_or(i32::MAX),
            locks: i32::try_from(self.locks).unwrap_or(i32::MAX),
            locked_until: self.locked_until.map(to_db_time),
            updated_at: to_db_time(now),
        }
    }
}

impl TryFrom<LoginFailureRow> for FailureCount {
    type Error = DomainError;

    fn try_from(row: LoginFailureRow) -> Result<Self, DomainError> {
        let count = |value: i32, column: &str| {
            u32::try_from(value).map_err(|_| {
                DomainError::Storage(StorageError::Corrupt(format!(
                    "login_failures {}: {column}",
                    row.key
                )))
            })
        };
        Ok(Self {
            failures: count(row.failures, "failures")?,
            locks: count(row.locks, "locks")?,
            locked_until: row.locked_until.map(from_db_time),
        })
    }
}

/// Logs in to an account of type `A` with lock-out, answering an unknown ID exactly as a
/// wrong password of a known one: the same argon2 work (against the dummy hash), the same
/// counting and locking, the same answers.
///
/// Failures are counted per (login ID, client) and per login ID (see [`LockoutPolicy`] and
/// [`MAX_CONSECUTIVE_FAILURES`]): a client that keeps guessing is locked out for longer each
/// time, while the owner, from another address, still logs in.
///
/// argon2 takes tens of milliseconds: the hashes are checked outside any transaction, so a
/// login never holds a database connection or (on SQLite) the write lock meanwhile. The
/// transaction then applies the outcome to the counts as they are by then (under a lock, so
/// parallel failures each count), unless the account's passwords changed in between, in which
/// case the check is made again. A failure is stored and audited, and committed before it is
/// answered; a success forgets this client's and the ID's counts, and `succeeded` opens the
/// session.
pub async fn login_with_lockout<A, S, G>(
    ctx: &Context,
    attempt: LoginAttempt,
    succeeded: G,
) -> Result<S, DomainError>
where
    A: PasswordAccount + Clone,
    S: Send + 'static,
    G: Fn(
            &mut DbConnection,
            &Context,
            A,
            A::Matched,
            OffsetDateTime,
        ) -> Result<LoginStep<S>, DomainError>
        + Send
        + Sync
        + 'static,
{
    let succeeded = Arc::new(succeeded);
    // A place on the argon2 threads first: when they are full, the answer is 503 at once,
    // before the throttle's write (which queues behind every other write on SQLite).
    let mut place = Some(ctx.passwords.reserve()?);
    let budgets = login_budgets(ctx, &attempt.client);
    ctx.transaction(move |tx| rate_limit::spend(tx.conn, &budgets, tx.now))
        .await?;
    let keys = Arc::new(FailureKeys::new(
        ctx,
        A::KIND,
        &attempt.login_id,
        &attempt.client,
    ));
    for _ in 0..LOGIN_TRIES {
        let (login_id, read_keys) = (attempt.login_id.clone(), keys.clone());
        let (snapshot, counts) = ctx
            .db
            .run(move |conn| {
                Ok::<_, DomainError>((A::find(conn, &login_id)?, read_keys.load(conn)?))
            })
            .await?;
        let checked_at = ctx.clock.now();
        if let Some(refusal) = counts.refusal(checked_at, A::SUSPENDED_REMEDY) {
            return Err(refusal);
        }
        let hashes = snapshot
            .as_ref()
            .map(|account| account.password_hashes(checked_at))
            .unwrap_or_default();
        let matched = first_match(
            &ctx.passwords,
            place.take(),
            hashes.clone(),
            attempt.password.clone(),
        )
        .await?;
        let (ctx2, succeeded, keys) = (ctx.clone(), succeeded.clone(), keys.clone());
        let attempt = attempt.clone();
        let outcome = ctx
            .db
            .transaction(move |conn| {
                keys.lock(conn)?;
                let account = A::find_for_update(conn, &attempt.login_id)?;
                let unchanged = account
                    .as_ref()
                    .map(|account| account.password_hashes(checked_at))
                    .unwrap_or_default()
                    .iter()
                    .map(|(_, hash)| hash)
                    .eq(hashes.iter().map(|(_, hash)| hash));
                if !unchanged {
                    return Ok(None);
                }
                let now = ctx2.clock.now();
                let counts = keys.load(conn)?;
                if let Some(refusal) = counts.refusal(now, A::SUSPENDED_REMEDY) {
                    return Ok(Some(Err(refusal)));
                }
                match (account, matched) {
                    (Some(account), Some(matched)) => {
                        match succeeded(conn, &ctx2, account.clone(), matched, now)? {
                            LoginStep::Granted(session) => {
                                keys.forget(conn)?;
                                Ok(Some(Ok(session)))
                            }
                            // Neither counted nor forgiven: the password alone proves too
                            // little to clear the failures before it.
                            LoginStep::SecondFactorMissing(answer) => Ok(Some(Err(answer))),
                            LoginStep::SecondFactorWrong(wrong) => {
                                let answer = count_failure(
                                    conn,
                                    &keys,
                                    counts,
                                    Some(&account),
                                    &attempt,
                                    now,
                                )?;
                                Ok(Some(Err(match answer {
                                    DomainError::InvalidCredentials { .. } => wrong,
                                    other => other,
                                })))
                            }
                        }
                    }
                    (account, _) => {
                        count_failure(conn, &keys, counts, account.as_ref(), &attempt, now)
                            .map(|answer| Some(Err(answer)))
                    }
                }
            })
            .await?;
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
    Err(DomainError::InvalidCredentials {
        id_label: attempt.id_label,
    })
}

/// The answer for an account locked until `until`, seen at `now`.
fn locked(until: OffsetDateTime, now: OffsetDateTime) -> DomainError {
    DomainError::AccountLocked {
        until,
        retry_after_secs: super::application::seconds_until(now, until),
    }
}

/// Which of `hashes` `password` matches, first one first, on the argon2 threads. With none to
/// try (no such account, or no password set), the same work is done against the dummy hash, so
/// timing does not tell which IDs exist.
async fn first_match<M: Copy + Send + 'static>(
    workers: &PasswordWorkers,
    place: Option<PasswordPlace>,
    hashes: Vec<(M, String)>,
    password: SecretText,
) -> Result<Option<M>, DomainError> {
    let place = match place {
        Some(place) => place,
        None => workers.reserve()?,
    };
    workers
        .run_in(place, move || {
            if hashes.is_empty() {
                verify_password(dummy_hash()?, password.expose());
                return Ok(None);
            }
            Ok(hashes
                .into_iter()
                .find(|(_, hash)| verify_password(hash, password.expose()))
                .map(|(matched, _)| matched))
        })
        .await?
}

/// The login throttle of one client (its address; an IPv6 one by its /64).
pub(crate) fn client_login_budget(ctx: &Context, client: &Caller) -> Budget {
    Budget::new(
        "login:client",
        &client_bucket(&client.address),
        ctx.limits.logins_per_client,
        ctx.limits.login_window,
    )
}

/// The login throttles: attempts per client address, and of everyone together, counted
/// before any password is checked (a refused attempt costs no argon2).
fn login_budgets(ctx: &Context, client: &Caller) -> [Budget; 2] {
    [
        client_login_budget(ctx, client),
        Budget::new(
            "login:all",
            "",
            ctx.limits.logins_global,
            ctx.limits.login_window,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery").unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, "correct horse battery"));
        assert!(!verify_password(&hash, "correct horse battery!"));
        assert!(!verify_password("not a hash", "x"));
    }

    #[test]
    fn the_dummy_hash_is_a_real_hash_computed_once() {
        let first = dummy_hash().ok();
        assert!(first.is_some_and(|hash| hash.starts_with("$argon2id$")));
        assert_eq!(dummy_hash().ok(), first);
    }

    #[test]
    fn a_client_is_locked_at_the_limit_for_longer_each_time_and_the_id_counts_on() {
        let policy = LockoutPolicy {
            max_failed: 3,
            lock: Duration::from_secs(1800),
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut counts = FailureCounts::default();
        let mut locks = Vec::new();
        for _ in 0..9 {
            let failure = policy.after_failure(counts, now);
            locks.extend(
                failure
                    .locked_until
                    .map(|until| (failure.in_a_row, until - now)),
            );
            assert!(!failure.suspended);
            counts = failure.counts;
        }
        let minutes = |m: i64| time::Duration::minutes(m);
        assert_eq!(
            locks,
            [(3, minutes(30)), (3, minutes(60)), (3, minutes(120))]
        );
        // The ID's own count is not reset by the locks.
        assert_eq!((counts.id.failures, counts.pair.failures), (9, 0));
        // A lock never lasts beyond a day.
        assert_eq!(policy.lock_for(12), LONGEST_LOCK);
        // The hundredth failure in a row of the ID stops it, whatever the client.
        let before = FailureCounts {
            pair: FailureCount::default(),
            id: FailureCount {
                failures: MAX_CONSECUTIVE_FAILURES - 1,
                ..FailureCount::default()
            },
        };
        let last = policy.after_failure(before, now);
        assert!(last.suspended);
        assert!(matches!(
            last.counts.refusal(now, "remedy"),
            Some(DomainError::LoginSuspended { remedy: "remedy" })
        ));
        assert!(before.refusal(now, "remedy").is_none());
    }

    #[tokio::test]
    async fn the_first_matching_hash_wins_and_none_costs_a_dummy_check() {
        let current = hash_password("current-password").unwrap_or_default();
        let temporary = hash_password("temporary-pass").unwrap_or_default();
        let hashes = vec![(1, temporary), (2, current)];
        let workers = PasswordWorkers::start(2, 4).ok();
        let Some(workers) = workers else {
            panic!("the argon2 threads start");
        };
        let matched = |password: &str| first_match(&workers, None, hashes.clone(), password.into());
        assert_eq!(matched("temporary-pass").await.ok(), Some(Some(1)));
        assert_eq!(matched("current-password").await.ok(), Some(Some(2)));
        assert_eq!(matched("neither").await.ok(), Some(None));
        assert_eq!(
            first_match::<u8>(&workers, None, Vec::new(), "anything".into())
                .await
                .ok(),
            Some(None)
        );
    }

    #[tokio::test]
    async fn the_argon2_threads_verify_in_their_own_memory_as_the_crate_does() {
        use argon2::password_hash::PasswordVerifier;
        let Ok(workers) = PasswordWorkers::start(1, 4) else {
            panic!("the argon2 thread starts");
        };
        let salt = SaltString::generate(&mut OsRng);
        let small = Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8192, 1, 1, None).unwrap(),
        )
        .hash_password(b"small-params-pw", &salt)
        .unwrap()
        .to_string();
        let default = hash_password("default-params").unwrap();
        // Default, smaller, default again: the kept memory shrinks and grows between checks.
        for (stored, right) in [
            (default.clone(), "default-params"),
            (small, "small-params-pw"),
            (default, "default-params"),
        ] {
            let crate_says = Argon2::default()
                .verify_password(right.as_bytes(), &PasswordHash::new(&stored).unwrap())
                .is_ok();
            assert!(crate_says);
            let (on_worker, wrong_on_worker) = {
                let (a, b) = (stored.clone(), stored.clone());
                (
                    workers
                        .run(move || verify_password(&a, right))
                        .await
                        .unwrap(),
                    workers
                        .run(move || verify_password(&b, "wrong"))
                        .await
                        .unwrap(),
                )
            };
            assert_eq!((on_worker, wrong_on_worker), (true, false));
            assert!(
                verify_password(&stored, right),
                "off the argon2 threads too"
            );
        }
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_at_once_not_queued() {
        let Ok(workers) = PasswordWorkers::start(1, 1) else {
            panic!("the argon2 thread starts");
        };
        let (started, has_started) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        // The only thread takes one job and holds it until released ...
        let running = {
            let workers = workers.clone();
            tokio::spawn(async move {
                workers
                    .run(move || {
                        let _ = started.send(());
                        released.recv().is_ok()
                    })
                    .await
            })
        };
        let began = tokio::task::spawn_blocking(move || has_started.recv().is_ok()).await;
        assert!(matches!(began, Ok(true)), "the first job runs");
        // ... the one waiting place fills (that call waits for the busy thread) ...
        let waiting = tokio::time::timeout(Duration::from_millis(200), workers.run(|| true)).await;
        assert!(waiting.is_err(), "the second job waits in the queue");
        // ... and the next is refused at once instead of waiting.
        let refused = workers.run(|| true).await;
        assert!(
            matches!(refused, Err(DomainError::Busy { retry_after_secs }) if retry_after_secs == BUSY_RETRY_AFTER_SECS)
        );
        let _ = release.send(());
        assert!(matches!(running.await, Ok(Ok(true))));
    }
}
