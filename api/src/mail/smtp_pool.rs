//! SMTP connections of our own, kept open between messages.
//!
//! lettre 0.11's `AsyncSmtpTransport` opens its sockets without `TCP_NODELAY` and writes a
//! message's closing `.` in a write of its own: Nagle's algorithm then holds that small write
//! until the server's delayed ACK, about 40 ms per message even on loopback. Its pool also sends
//! a `NOOP` on every checkout. Here we open the `TcpStream` ourselves with `TCP_NODELAY` and
//! hand it to lettre's `AsyncSmtpConnection::connect_with_transport`; the SMTP dialogue,
//! STARTTLS, implicit TLS and AUTH stay lettre's.
//!
//! A pooled connection is reused without a `NOOP`. If it turns out dead (the server closed it
//! or restarted) before the server accepted `DATA`, the message cannot have been taken, so it
//! is sent once more on a fresh connection; a failure once the content is on its way is
//! reported, never re-sent here (the server may have taken the message: the outbox's back-off
//! decides, and the Message-ID lets mail programs show a repeat once).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
#[expect(
    deprecated,
    reason = "lettre's own TLS over our socket for smtps:// needs its stream type"
)]
use lettre::transport::smtp::client::AsyncNetworkStream;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use lettre::transport::smtp::{SMTP_PORT, SUBMISSIONS_PORT, SUBMISSION_PORT};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// How long a `QUIT` to a connection we are closing may take before we just drop it.
const QUIT_WAIT: Duration = Duration::from_secs(1);

/// How the connection to the server is secured, as the URL says (lettre's `from_url` forms).
#[derive(Clone)]
enum Security {
    /// `smtp://host` without `tls=`: plain text.
    Plain,
    /// `smtp://host?tls=opportunistic`: STARTTLS when the server offers it.
    StartTlsIfOffered(TlsParameters),
    /// `smtp://host?tls=required`: STARTTLS, or no connection.
    StartTlsRequired(TlsParameters),
    /// `smtps://host`: TLS from the first byte.
    ImplicitTls(TlsParameters),
}

/// Where and how to connect: what `REISSUE_SMTP_URL` says.
#[derive(Clone)]
pub struct SmtpServer {
    /// Host name or address literal (without the brackets of an IPv6 literal).
    host: String,
    port: u16,
    security: Security,
    /// The name we give in `EHLO`: the URL's path, else this machine's host name.
    hello_name: ClientId,
    /// `user:pass@` of the URL, percent-decoded.
    credentials: Option<Credentials>,
}

impl SmtpServer {
    /// Reads the URL as lettre's `AsyncSmtpTransport::from_url` does: `smtp://` is plain on
    /// port 25, `smtp://…?tls=required` or `?tls=opportunistic` upgrades with STARTTLS on port
    /// 587, `smtps://` is implicit TLS on port 465; a port in the URL wins; a path names us in
    /// `EHLO`; `user:pass@` logs in (PLAIN or LOGIN). The error never quotes the URL, which may
    /// hold a password.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let url = url::Url::parse(url).map_err(|e| e.to_string())?;
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(address)) => address.to_string(),
            Some(url::Host::Ipv6(address)) => address.to_string(),
            None => return Err("smtp host undefined".to_owned()),
        };
        let tls = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let tls_parameters = || TlsParameters::new(host.clone()).map_err(|e| e.to_string());
        let (default_port, security) = match (url.scheme(), tls.as_deref()) {
            ("smtp", None) => (SMTP_PORT, Security::Plain),
            ("smtp", Some("required")) => (
                SUBMISSION_PORT,
                Security::StartTlsRequired(tls_parameters()?),
            ),
            ("smtp", Some("opportunistic")) => (
                SUBMISSION_PORT,
                Security::StartTlsIfOffered(tls_parameters()?),
            ),
            ("smtps", _) => (SUBMISSIONS_PORT, Security::ImplicitTls(tls_parameters()?)),
            (scheme, tls) => {
                return Err(format!(
                    "unknown scheme '{scheme}' or tls parameter '{tls:?}' (smtp://, \
                     smtp://…?tls=required, smtp://…?tls=opportunistic or smtps://)"
                ))
            }
        };
        let hello_name = match url.path().trim_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_owned()),
        };
        let credentials = match url.password() {
            Some(password) => Some(Credentials::new(
                percent_decoded(url.username())?,
                percent_decoded(password)?,
            )),
            None => None,
        };
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            hello_name,
            credentials,
        })
    }

    /// Opens a connection ready for a transaction: TCP with `TCP_NODELAY`, TLS as configured,
    /// greeting, `EHLO`, and `AUTH` when the URL has credentials.
    async fn connect(&self) -> Result<AsyncSmtpConnection, SmtpSendError> {
        let stream = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(SmtpSendError::Unreachable)?;
        // The point of this module: no Nagle delay for the small writes of the dialogue.
        stream
            .set_nodelay(true)
            .map_err(SmtpSendError::Unreachable)?;
        self.open_session(stream)
            .await
            .map_err(SmtpSendError::Connect)
    }

    /// Over a connected socket: TLS, greeting, `EHLO`, STARTTLS, `AUTH`.
    async fn open_session(
        &self,
        stream: TcpStream,
    ) -> Result<AsyncSmtpConnection, lettre::transport::smtp::Error> {
        let mut connection = match &self.security {
            Security::ImplicitTls(tls) => {
                #[expect(deprecated, reason = "see ImplicitTlsStream")]
                let mut encrypted = AsyncNetworkStream::use_existing_tokio1(Box::new(stream));
                encrypted.upgrade_tls(tls.clone()).await?;
                AsyncSmtpConnection::connect_with_transport(
                    Box::new(ImplicitTlsStream(encrypted)),
                    &self.hello_name,
                )
                .await?
            }
            Security::Plain | Security::StartTlsIfOffered(_) | Security::StartTlsRequired(_) => {
                AsyncSmtpConnection::connect_with_transport(Box::new(stream), &self.hello_name)
                    .await?
            }
        };
        match &self.security {
            Security::StartTlsRequired(tls) => {
                connection.starttls(tls.clone(), &self.hello_name).await?;
            }
            Security::StartTlsIfOffered(tls) if connection.can_starttls() => {
                connection.starttls(tls.clone(), &self.hello_name).await?;
            }
            Security::StartTlsIfOffered(_) | Security::Plain | Security::ImplicitTls(_) => {}
        }
        if let Some(credentials) = &self.credentials {
            connection.auth(DEFAULT_MECHANISMS, credentials).await?;
        }
        Ok(connection)
    }
}

fn percent_decoded(text: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|e| e.to_string())
}

/// Bounds of a pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolLimits {
    /// Connections open at once (in use or idle).
    pub connections: usize,
    /// For opening a connection (TCP, TLS, greeting, `AUTH`), and again for one message's
    /// transaction.
    pub timeout: Duration,
    /// An idle connection older than this is closed rather than reused: servers drop idle
    /// clients after a few minutes (RFC 5321 suggests 5), and one we would find dead costs
    /// a round trip.
    pub max_idle: Duration,
}

impl PoolLimits {
    /// `connections` at once, 10 s to connect and 10 s per message, idle at most 60 s.
    pub fn new(connections: usize) -> Self {
        Self {
            connections: connections.max(1),
            timeout: Duration::from_secs(10),
            max_idle: Duration::from_secs(60),
        }
    }
}

/// Open SMTP connections to one server, shared by the outbox workers (clones share the pool).
#[derive(Clone)]
pub struct SmtpPool {
    shared: Arc<Shared>,
}

struct Shared {
    server: SmtpServer,
    limits: PoolLimits,
    /// One permit per connection in use; idle connections were opened under a permit that
    /// has since been returned, and a new connection is opened only when none is idle, so at
    /// most `limits.connections` are ever open.
    in_use: Semaphore,
    /// Idle connections, the most recently used last (taken first: the others age out).
    idle: Mutex<Vec<IdleConnection>>,
}

struct IdleConnection {
    connection: AsyncSmtpConnection,
    since: Instant,
}

/// Why a message was not handed over.
#[derive(Debug, thiserror::Error)]
pub enum SmtpSendError {
    /// No TCP connection to the server.
    #[error("cannot reach the SMTP server: {0}")]
    Unreachable(#[source] io::Error),
    /// Connected, but the greeting, TLS or `AUTH` failed.
    #[error("cannot open an SMTP session: {0}")]
    Connect(#[source] lettre::transport::smtp::Error),
    /// The server refused the message or the connection failed during its transaction.
    #[error("{0}")]
    Transaction(#[source] lettre::transport::smtp::Error),
    /// The server cannot take the message as it is (8-bit content or addresses it does not
    /// announce support for).
    #[error("{0}")]
    Unsupported(&'static str),
    /// No answer in time; after `DATA` the server may still have taken the message.
    #[error("no answer from the SMTP server within {0:?}")]
    TimedOut(Duration),
    /// The pool's semaphore was closed (never done: the pool is going away).
    #[error("the SMTP connection pool is closed")]
    PoolClosed,
}

/// Where in a transaction it failed: before the server accepted `DATA` nothing can have been
/// delivered, after it the message may have been.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Envelope,
    Content,
}

struct Failure {
    stage: Stage,
    error: SmtpSendError,
}

impl Failure {
    /// A reused connection the server had closed: it fails at the first command, with no
    /// answer (end of stream, reset) or with `421` (closing the channel).
    fn is_dead_connection(&self) -> bool {
        match (&self.stage, &self.error) {
            (Stage::Envelope, SmtpSendError::Transaction(error)) => {
                !(error.is_transient() || error.is_permanent())
                    || error.status().map(u16::from) == Some(421)
            }
            _ => false,
        }
    }
}

impl SmtpPool {
    /// A pool to `server`; nothing is opened until the first message. Inside a tokio runtime
    /// it also starts a task that closes connections idle longer than `limits.max_idle`
    /// (ending when the pool is dropped).
    pub fn new(server: SmtpServer, limits: PoolLimits) -> Self {
        let shared = Arc::new(Shared {
            server,
            limits,
            in_use: Semaphore::new(limits.connections),
            idle: Mutex::new(Vec::new()),
        });
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(close_aged_connections(Arc::downgrade(&shared)));
        }
        Self { shared }
    }

    /// Hands `message` (the formatted bytes) over for `envelope`'s recipients: on an idle
    /// connection if there is one, once more on a fresh one if that turns out dead before the
    /// server accepted `DATA`.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<(), SmtpSendError> {
        // The semaphore is never closed; a closed one would mean the pool is going away.
        let _permit = self
            .shared
            .in_use
            .acquire()
            .await
            .map_err(|_| SmtpSendError::PoolClosed)?;
        if let Some(connection) = self.take_idle() {
            match self.transaction(connection, envelope, message).await {
                Ok(connection) => {
                    self.put_back(connection);
                    return Ok(());
                }
                Err(failure) if failure.is_dead_connection() => {
                    tracing::debug!(error = %failure.error, "pooled SMTP connection was closed; sending on a new one");
                }
                Err(failure) => return Err(failure.error),
            }
        }
        let timeout = self.shared.limits.timeout;
        let connection = tokio::time::timeout(timeout, self.shared.server.connect())
            .await
            .map_err(|_| SmtpSendError::TimedOut(timeout))??;
        let connection = self
            .transaction(connection, envelope, message)
            .await
            .map_err(|failure| failure.error)?;
        self.put_back(connection);
        Ok(())
    }

    /// How many connections are idle (for tests).
    pub fn idle_connections(&self) -> usize {
        self.lock_idle().len()
    }

    /// One `MAIL`/`RCPT`/`DATA` transaction, within the timeout; the connection comes back
    /// only if it succeeded (a failed one is closed: its state is unknown).
    async fn transaction(
        &self,
        mut connection: AsyncSmtpConnection,
        envelope: &Envelope,
        message: &[u8],
    ) -> Result<AsyncSmtpConnection, Failure> {
        let timeout = self.shared.limits.timeout;
        let mut stage = Stage::Envelope;
        let outcome = tokio::time::timeout(timeout, async {
            let result = transaction_steps(&mut connection, envelope, message, &mut stage).await;
            if result.is_err() {
                close(&mut connection).await;
            }
            result
        })
        .await;
        match outcome {
            Ok(Ok(())) => Ok(connection),
            Ok(Err(error)) => Err(Failure { stage, error }),
            // Dropping the connection closes the socket.
            Err(_) => Err(Failure {
                stage,
                error: SmtpSendError::TimedOut(timeout),
            }),
        }
    }

    /// The most recently used idle connection young enough to trust; older ones are closed.
    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let max_idle = self.shared.limits.max_idle;
        let mut idle = self.lock_idle();
        let candidate = idle.pop()?;
        if candidate.since.elapsed() <= max_idle {
            return Some(candidate.connection);
        }
        // The others were used before it: older still.
        let mut aged = std::mem::take(&mut *idle);
        drop(idle);
        aged.push(candidate);
        tokio::spawn(close_all(aged));
        None
    }

    fn put_back(&self, connection: AsyncSmtpConnection) {
        self.lock_idle().push(IdleConnection {
            connection,
            since: Instant::now(),
        });
    }

    fn lock_idle(&self) -> std::sync::MutexGuard<'_, Vec<IdleConnection>> {
        self.shared
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// `MAIL FROM`, `RCPT TO` for each recipient, `DATA`, the content; `stage` says how far it got.
async fn transaction_steps(
    connection: &mut AsyncSmtpConnection,
    envelope: &Envelope,
    message: &[u8],
    stage: &mut Stage,
) -> Result<(), SmtpSendError> {
    // What lettre's own `send` checks and announces (RFC 6531, RFC 6152).
    let mut parameters = Vec::new();
    let addresses_are_ascii = envelope
        .from()
        .into_iter()
        .chain(envelope.to())
        .all(|address| AsRef::<str>::as_ref(address).is_ascii());
    if !addresses_are_ascii {
        if !connection
            .server_info()
            .supports_feature(Extension::SmtpUtfEight)
        {
            return Err(SmtpSendError::Unsupported(
                "non-ASCII addresses, but the SMTP server does not support SMTPUTF8",
            ));
        }
        parameters.push(MailParameter::SmtpUtfEight);
    }
    if !message.is_ascii() {
        if !connection
            .server_info()
            .supports_feature(Extension::EightBitMime)
        {
            return Err(SmtpSendError::Unsupported(
                "8-bit content, but the SMTP server does not support 8BITMIME",
            ));
        }
        parameters.push(MailParameter::Body(MailBodyParameter::EightBitMime));
    }
    connection
        .command(Mail::new(envelope.from().cloned(), parameters))
        .await
        .map_err(SmtpSendError::Transaction)?;
    for recipient in envelope.to() {
        connection
            .command(Rcpt::new(recipient.clone(), Vec::new()))
            .await
            .map_err(SmtpSendError::Transaction)?;
    }
    connection
        .command(Data)
        .await
        .map_err(SmtpSendError::Transaction)?;
    *stage = Stage::Content;
    connection
        .message(message)
        .await
        .map(drop)
        .map_err(SmtpSendError::Transaction)
}

/// Says `QUIT` (briefly) and closes.
async fn close(connection: &mut AsyncSmtpConnection) {
    // lettre's `abort` says QUIT (unless the connection broke) and closes the stream;
    // whatever the answer, the connection is done with.
    let _ = tokio::time::timeout(QUIT_WAIT, connection.abort()).await;
}

async fn close_all(connections: Vec<IdleConnection>) {
    futures_util::future::join_all(connections.into_iter().map(|mut idle| async move {
        close(&mut idle.connection).await;
    }))
    .await;
}

/// Every `max_idle / 2`, closes the connections idle longer than `max_idle`, so a quiet
/// service does not keep sockets the server has long given up on; ends with the pool.
async fn close_aged_connections(pool: Weak<Shared>) {
    let period = match pool.upgrade() {
        Some(shared) => (shared.limits.max_idle / 2).max(Duration::from_millis(10)),
        None => return,
    };
    loop {
        tokio::time::sleep(period).await;
        let Some(shared) = pool.upgrade() else {
            return;
        };
        let aged: Vec<IdleConnection> = {
            let mut idle = shared.idle.lock().unwrap_or_else(PoisonError::into_inner);
            let max_idle = shared.limits.max_idle;
            let (aged, young) = std::mem::take(&mut *idle)
                .into_iter()
                .partition(|candidate| candidate.since.elapsed() > max_idle);
            *idle = young;
            aged
        };
        drop(shared);
        close_all(aged).await;
    }
}

/// A TLS session over our own TCP socket, for `smtps://`: lettre's `connect_with_transport`
/// reads the server's greeting at once, so the stream it is given must already be encrypted.
/// lettre's `AsyncNetworkStream` puts its TLS (the `TlsParameters` of the URL, as its own
/// transport does) around our socket; this adapts its futures-io side to the tokio traits that
/// `AsyncTokioStream` asks for.
#[expect(deprecated, reason = "see the type's comment")]
#[derive(Debug)]
struct ImplicitTlsStream(AsyncNetworkStream);

impl tokio::io::AsyncRead for ImplicitTlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let unfilled = buf.initialize_unfilled();
        match futures_util::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, unfilled) {
            Poll::Ready(Ok(read)) => {
                buf.advance(read);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for ImplicitTlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_util::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_util::io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_util::io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

impl AsyncTokioStream for ImplicitTlsStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.peer_addr()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reissue_e2e::smtp_sink::SmtpSink;

    fn limits(max_idle: Duration, timeout: Duration) -> PoolLimits {
        PoolLimits {
            connections: 4,
            timeout,
            max_idle,
        }
    }

    fn pool_to(port: u16, limits: PoolLimits) -> SmtpPool {
        SmtpPool::new(server(&format!("smtp://127.0.0.1:{port}")), limits)
    }

    fn envelope() -> Envelope {
        Envelope::new(
            Some("noreply@example.jp".parse().unwrap()),
            vec!["office@example.jp".parse().unwrap()],
        )
        .unwrap()
    }

    const MESSAGE: &[u8] = b"Subject: test\r\n\r\nbody";

    #[tokio::test]
    async fn a_connection_idle_longer_than_max_idle_is_closed_not_reused() {
        let sink = SmtpSink::start().await;
        let limits = limits(Duration::from_millis(200), Duration::from_secs(5));
        let pool = pool_to(sink.port(), limits);
        for _ in 0..3 {
            assert!(pool.send(&envelope(), MESSAGE).await.is_ok());
        }
        assert_eq!((sink.connections(), pool.idle_connections()), (1, 1));
        // The sweeper (every 100 ms) closes it.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(pool.idle_connections(), 0);
        assert!(pool.send(&envelope(), MESSAGE).await.is_ok());
        assert_eq!(sink.connections(), 2);
        assert_eq!(sink.messages().len(), 4);
    }

    #[tokio::test]
    async fn a_server_that_never_answers_fails_the_send_within_the_timeout() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = silent.local_addr().unwrap().port();
        let held = tokio::spawn(async move {
            let mut open = Vec::new();
            while let Ok((stream, _)) = silent.accept().await {
                open.push(stream);
            }
        });
        let pool = pool_to(
            port,
            limits(Duration::from_secs(60), Duration::from_millis(300)),
        );
        let started = Instant::now();
        let outcome = pool.send(&envelope(), MESSAGE).await;
        assert!(
            matches!(outcome, Err(SmtpSendError::TimedOut(_))),
            "{outcome:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(2));
        held.abort();
    }

    #[tokio::test]
    async fn no_server_is_an_error_naming_the_connection() {
        let sink = SmtpSink::start().await;
        let port = sink.port();
        sink.stop().await;
        let pool = pool_to(port, PoolLimits::new(1));
        let outcome = pool.send(&envelope(), MESSAGE).await;
        assert!(
            matches!(outcome, Err(SmtpSendError::Unreachable(_))),
            "{outcome:?}"
        );
    }

    fn server(url: &str) -> SmtpServer {
        SmtpServer::from_url(url).unwrap()
    }

    #[test]
    fn every_documented_url_form_is_read_as_lettre_reads_it() {
        let implicit = server("smtps://user:p%40ss@mail.example.jp");
        assert_eq!(
            (implicit.host.as_str(), implicit.port),
            ("mail.example.jp", 465)
        );
        assert!(matches!(implicit.security, Security::ImplicitTls(_)));
        assert!(implicit.credentials.is_some());

        let required = server("smtp://mail.internal:25?tls=required");
        assert_eq!(
            (required.host.as_str(), required.port),
            ("mail.internal", 25)
        );
        assert!(matches!(required.security, Security::StartTlsRequired(_)));
        assert!(required.credentials.is_none());

        let opportunistic = server("smtp://mail.internal?tls=opportunistic");
        assert_eq!(opportunistic.port, 587);
        assert!(matches!(
            opportunistic.security,
            Security::StartTlsIfOffered(_)
        ));

        let plain = server("smtp://127.0.0.1:2525/reissue.example.jp");
        assert_eq!((plain.host.as_str(), plain.port), ("127.0.0.1", 2525));
        assert!(matches!(plain.security, Security::Plain));
        assert_eq!(
            plain.hello_name.to_string(),
            ClientId::Domain("reissue.example.jp".to_owned()).to_string()
        );
        assert_eq!(server("smtp://mail.internal").port, 25);
        assert_eq!(server("smtp://[::1]:2525").host, "::1");
    }

    #[test]
    fn an_unknown_scheme_or_tls_value_is_refused_without_quoting_the_password() {
        for url in [
            "smtp://user:secret@mail.example.jp?tls=sometimes",
            "http://user:secret@mail.example.jp",
            "smtp://",
        ] {
            match SmtpServer::from_url(url) {
                Ok(_) => panic!("{url} was accepted"),
                Err(error) => assert!(!error.contains("secret"), "{error}"),
            }
        }
    }
}
