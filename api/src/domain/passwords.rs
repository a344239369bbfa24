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
use super::{Context, DomainError};
use crate::db::DbConnection;

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

/// When failed logins lock an account, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failed logins in a row that lock it.
    pub max_failed: u32,
    /// How long it stays locked.
    pub lock: Duration,
}

impl LockoutPolicy {
    /// What one more failure means for an account that has failed `failed_before` times in a
    /// row.
    pub fn after_failure(&self, failed_before: u32, now: OffsetDateTime) -> Failure {
        let in_a_row = failed_before.saturating_add(1);
        Failure {
            at: now,
            in_a_row,
            locked_until: (in_a_row >= self.max_failed).then(|| now + self.lock),
        }
    }
}

/// A failed login as the lock-out policy counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    /// When it happened.
    pub at: OffsetDateTime,
    /// Failed logins in a row, this one included.
    pub in_a_row: u32,
    /// Set when this failure locks the account.
    pub locked_until: Option<OffsetDateTime>,
}

impl Failure {
    /// The count to store: a lock starts the count again.
    pub fn failed_logins(&self) -> u32 {
        if self.locked_until.is_some() {
            0
        } else {
            self.in_a_row
        }
    }
}

/// An account that logs in with a password and is locked after too many failures in a row.
pub trait PasswordAccount: Sized + Send + 'static {
    /// Which of its passwords matched (`()` for an account with one password).
    type Matched: Copy + Send + 'static;

    /// The account a login ID names.
    fn find(conn: &mut DbConnection, login_id: &str) -> Result<Option<Self>, DomainError>;

    /// The same, locked until the transaction ends, so that parallel failed logins each count.
    fn find_for_update(
        conn: &mut DbConnection,
        login_id: &str,
    ) -> Result<Option<Self>, DomainError>;

    /// The password hashes a login may match at `now`, in the order they are tried.
    fn password_hashes(&self, now: OffsetDateTime) -> Vec<(Self::Matched, String)>;

    /// Failed logins in a row.
    fn failed_logins(&self) -> u32;

    /// Locked until then, if set.
    fn locked_until(&self) -> Option<OffsetDateTime>;

    /// Sets the failure count and the lock.
    fn set_lockout(&mut self, failed_logins: u32, locked_until: Option<OffsetDateTime>);

    /// Stores the failure count and the lock set at `at`.
    fn store_lockout(
        &mut self,
        conn: &mut DbConnection,
        at: OffsetDateTime,
    ) -> Result<(), DomainError>;

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

/// Stores a failed login (the count and any lock) and audits it, with the lock when it causes
/// one.
fn record_failure<A: PasswordAccount>(
    conn: &mut DbConnection,
    account: &mut A,
    failure: Failure,
    client: &Caller,
) -> Result<(), DomainError> {
    account.set_lockout(failure.failed_logins(), failure.locked_until);
    account.store_lockout(conn, failure.at)?;
    let detail = [
        A::failure_detail(&failure),
        format!("from {}", client.address),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(", ");
    account
        .audit_event(A::LOGIN_FAILED, detail, failure.at)
        .record(conn)?;
    if let Some(until) = failure.locked_until {
        account
            .audit_event(A::LOCKED, format!("until {until}"), failure.at)
            .record(conn)?;
    }
    Ok(())
}

/// A wrong password typed by someone the account already knows is theirs, such as the
/// current password of a password change: counted, stored and audited like a failed login
/// (a stolen session cannot guess the password without limit). Answers the lock when this
/// failure causes one or the account is locked already, else `wrong`. The account is read
/// locked, so parallel wrong tries each count.
pub fn count_wrong_password<A: PasswordAccount>(
    conn: &mut DbConnection,
    login_id: &str,
    policy: LockoutPolicy,
    client: &Caller,
    now: OffsetDateTime,
    wrong: DomainError,
) -> Result<DomainError, DomainError> {
    let Some(mut account) = A::find_for_update(conn, login_id)? else {
        return Ok(wrong);
    };
    if let Some(until) = account.locked_until().filter(|until| *until > now) {
        return Ok(locked(until, now));
    }
    let failure = policy.after_failure(account.failed_logins(), now);
    record_failure(conn, &mut account, failure, client)?;
    Ok(failure
        .locked_until
        .map_or(wrong, |until| locked(until, now)))
}

/// The answer for an account that is locked at `now`, if it is.
pub fn refuse_if_locked<A: PasswordAccount>(
    account: &A,
    now: OffsetDateTime,
) -> Result<(), DomainError> {
    match account.locked_until().filter(|until| *until > now) {
        Some(until) => Err(locked(until, now)),
        None => Ok(()),
    }
}

/// A password login to try.
#[derive(Clone)]
pub struct LoginAttempt {
    /// The login ID, normalised.
    pub login_id: String,
    /// The password as typed.
    pub password: SecretText,
    /// When failures lock the account.
    pub policy: LockoutPolicy,
    /// How the screen names the ID, for the answer to a wrong one.
    pub id_label: &'static str,
    /// Who is trying (for the login throttle).
    pub client: Caller,
}

/// Logs in to an account of type `A` with lock-out, answering alike for an unknown ID and a
/// wrong password.
///
/// argon2 takes tens of milliseconds: the hashes are checked outside any transaction, so a
/// login never holds a database connection or (on SQLite) the write lock meanwhile. The
/// transaction then applies the outcome to the account as it is by then, unless its passwords
/// changed in between, in which case the check is made again. A failure is counted (locking
/// the account by `policy`), stored and audited, and committed before it is answered; a
/// success clears the count and lock, and `succeeded` stores the account and opens the
/// session.
pub async fn login_with_lockout<A, S, G>(
    ctx: &Context,
    attempt: LoginAttempt,
    succeeded: G,
) -> Result<S, DomainError>
where
    A: PasswordAccount,
    S: Send + 'static,
    G: Fn(&mut DbConnection, &Context, A, A::Matched, OffsetDateTime) -> Result<S, DomainError>
        + Send
        + Sync
        + 'static,
{
    let succeeded = Arc::new(succeeded);
    let invalid = DomainError::InvalidCredentials {
        id_label: attempt.id_label,
    };
    // A place on the argon2 threads first: when they are full, the answer is 503 at once,
    // before the throttle's write (which queues behind every other write on SQLite).
    let mut place = Some(ctx.passwords.reserve()?);
    let budgets = login_budgets(ctx, &attempt.client);
    ctx.transaction(move |tx| rate_limit::spend(tx.conn, &budgets, tx.now))
        .await?;
    for _ in 0..LOGIN_TRIES {
        let login_id = attempt.login_id.clone();
        let snapshot = ctx.db.run(move |conn| A::find(conn, &login_id)).await?;
        let checked_at = ctx.clock.now();
        if let Some(until) = snapshot
            .as_ref()
            .and_then(A::locked_until)
            .filter(|until| *until > checked_at)
        {
            return Err(locked(until, checked_at));
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
        if snapshot.is_none() {
            // Audited too: a run of unknown IDs from one address is what an operator looks
            // for. The ID is kept short (it may be a password typed in the wrong field).
            let event = AuditEvent {
                occurred_at: checked_at,
                actor: format!("client@{}", attempt.client.address),
                action: A::LOGIN_FAILED,
                application_id: None,
                office_number: None,
                prefecture_code: None,
                detail: format!(
                    "unknown ID {:?}",
                    attempt.login_id.chars().take(32).collect::<String>()
                ),
            };
            ctx.transaction(move |tx| Ok::<_, DomainError>(event.record(tx.conn)?))
                .await?;
            return Err(invalid);
        }
        let (ctx2, succeeded) = (ctx.clone(), succeeded.clone());
        let (login_id, policy, id_label, client) = (
            attempt.login_id.clone(),
            attempt.policy,
            attempt.id_label,
            attempt.client.clone(),
        );
        let outcome = ctx
            .db
            .transaction(move |conn| {
                let Some(mut account) = A::find_for_update(conn, &login_id)? else {
                    return Ok(None);
                };
                let unchanged = account
                    .password_hashes(checked_at)
                    .iter()
                    .map(|(_, hash)| hash)
                    .eq(hashes.iter().map(|(_, hash)| hash));
                if !unchanged {
                    return Ok(None);
                }
                let now = ctx2.clock.now();
                if let Some(until) = account.locked_until().filter(|until| *until > now) {
                    return Ok(Some(Err(locked(until, now))));
                }
                let Some(matched) = matched else {
                    let failure = policy.after_failure(account.failed_logins(), now);
                    record_failure(conn, &mut account, failure, &client)?;
                    return Ok(Some(Err(match failure.locked_until {
                        Some(until) => locked(until, now),
                        None => DomainError::InvalidCredentials { id_label },
                    })));
                };
                account.set_lockout(0, None);
                succeeded(conn, &ctx2, account, matched, now).map(|session| Some(Ok(session)))
            })
            .await?;
        if let Some(outcome) = outcome {
            return outcome;
        }
    }
    Err(invalid)
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

/// The login throttles: attempts per client address, and of everyone together, counted
/// before any password is checked (a refused attempt costs no argon2).
fn login_budgets(ctx: &Context, client: &Caller) -> [Budget; 2] {
    [
        Budget::new(
            "login:client",
            &client_bucket(&client.address),
            ctx.limits.logins_per_client,
            ctx.limits.login_window,
        ),
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
    fn the_policy_locks_at_the_limit_and_starts_the_count_again() {
        let policy = LockoutPolicy {
            max_failed: 3,
            lock: Duration::from_secs(1800),
        };
        let now = OffsetDateTime::UNIX_EPOCH;
        let second = policy.after_failure(1, now);
        assert_eq!((second.in_a_row, second.locked_until), (2, None));
        assert_eq!(second.failed_logins(), 2);
        let third = policy.after_failure(2, now);
        assert_eq!(third.in_a_row, 3);
        assert_eq!(third.locked_until, Some(now + Duration::from_secs(1800)));
        assert_eq!(third.failed_logins(), 0);
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
