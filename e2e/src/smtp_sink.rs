//! A small in-process SMTP server ("sink") for integration tests.
//!
//! [`SmtpSink`] listens on `127.0.0.1`, speaks just enough plain SMTP for a
//! client such as lettre (greeting, `EHLO`/`HELO`, `MAIL FROM`, `RCPT TO`,
//! `DATA`, `RSET`, `NOOP`, `QUIT`; no `STARTTLS`, no `AUTH`) and records every
//! accepted message as a [`ReceivedMail`], with its subject and text body
//! decoded by `mail-parser`. Each connection is served by its own task, so
//! concurrent senders are fine.
//!
//! A sink can be stopped with [`SmtpSink::stop`], after which connections to
//! its port are refused, and a new sink can be started on the same port with
//! [`SmtpSink::start_on`] to simulate an SMTP server that goes down and comes
//! back.
//!
//! [`SmtpSink::wait_for_mail_to`] waits for the mail of one recipient without
//! polling, and every message carries the instant it was accepted, so the
//! benchmark can time the hand-over of thousands of concurrent mails.
//!
//! To test a client's connection handling, the sink counts the connections
//! it accepted ([`SmtpSink::connections`]), and [`SmtpSink::after_data_to`]
//! makes it refuse a recipient's messages at the end of `DATA`, or hang up
//! there without answering ([`SmtpSink::not_accepted`] lists them).
//!
//! ```ignore
//! let sink = SmtpSink::start().await;
//! // configure the service under test with `sink.url()` ...
//! let mails = sink.wait_for_messages(1, Duration::from_secs(5)).await;
//! assert_eq!(mails[0].subject, "...");
//! ```

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use mail_parser::MessageParser;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::oneshot;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::Instant;

/// How often [`SmtpSink::wait_for_messages`] looks at the received messages.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Messages received so far, shared between the sink and its connection tasks.
type Store = Arc<Mutex<Received>>;

/// What the sink has received, indexed by recipient.
#[derive(Debug, Default)]
struct Received {
    /// Every accepted message, oldest first.
    messages: Vec<ReceivedMail>,
    /// Positions in `messages` per envelope recipient: with thousands of messages and hundreds
    /// of waiters, scanning all messages on every arrival would cost more than the delivery.
    by_recipient: HashMap<String, Vec<usize>>,
    /// Woken (and removed) when a message to the recipient arrives.
    waiters: HashMap<String, Vec<oneshot::Sender<()>>>,
    /// Connections accepted so far.
    connections: usize,
    /// Recipients whose messages are not accepted at the end of `DATA`, and how.
    not_accepting: HashMap<String, AfterData>,
    /// Messages read to the end of `DATA` but not accepted, oldest first.
    not_accepted: Vec<ReceivedMail>,
}

/// What the sink does at the end of `DATA` for a recipient named in
/// [`SmtpSink::after_data_to`], instead of accepting the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AfterData {
    /// Answers `554 5.7.1` (a permanent refusal); the connection stays usable.
    Refuse,
    /// Closes the connection without answering: the client cannot know
    /// whether the message was taken.
    HangUp,
}

impl Received {
    /// Stores `mail`, wakes whoever waits for one of its recipients, and returns the number of
    /// messages received so far.
    fn push(&mut self, mail: ReceivedMail) -> usize {
        let index = self.messages.len();
        for recipient in &mail.to {
            self.by_recipient
                .entry(recipient.clone())
                .or_default()
                .push(index);
            for waiter in self.waiters.remove(recipient).unwrap_or_default() {
                // A waiter that gave up has dropped its receiver: nothing to wake.
                let _ = waiter.send(());
            }
        }
        self.messages.push(mail);
        self.messages.len()
    }
}

/// One message accepted by the sink through `DATA`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender from `MAIL FROM:<...>`, without angle brackets
    /// (empty for the null sender `<>`).
    pub from: String,
    /// The envelope recipients from each `RCPT TO:<...>`, in order.
    pub to: Vec<String>,
    /// The message data as transmitted (headers and encoded body, CRLF line
    /// endings, dot-unstuffed, without the line break that precedes the
    /// terminating `.` line), decoded from UTF-8 lossily. For lettre this is
    /// exactly `Message::formatted()`.
    pub raw: String,
    /// The decoded `Subject` header (RFC 2047 encoded words decoded, folding
    /// removed); empty if there is none.
    pub subject: String,
    /// The decoded first text body (transfer encoding and charset decoded),
    /// with `\n` line endings; empty if there is none.
    pub body: String,
    /// The `Message-ID` header without angle brackets, if any.
    pub message_id: Option<String>,
    /// When the sink read the end of `DATA`, before answering `250`: the
    /// moment the message was handed over.
    pub received_at: std::time::Instant,
}

/// A running SMTP sink bound to `127.0.0.1`.
///
/// Dropping it without calling [`SmtpSink::stop`] also shuts the server
/// down, but asynchronously; call `stop` when the port must be closed at a
/// known point.
#[derive(Debug)]
pub struct SmtpSink {
    port: u16,
    messages: Store,
    shutdown: oneshot::Sender<()>,
    server: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on a free port of `127.0.0.1`.
    ///
    /// # Panics
    ///
    /// If no socket can be bound, which is a broken test environment.
    pub async fn start() -> SmtpSink {
        match Self::start_on(0).await {
            Ok(sink) => sink,
            Err(error) => panic!("cannot start the SMTP sink on 127.0.0.1: {error}"),
        }
    }

    /// Starts a sink on `127.0.0.1:port` (`0` picks a free port).
    ///
    /// The socket is bound with `SO_REUSEADDR`, so the port of a sink that
    /// was just stopped can be taken again at once.
    pub async fn start_on(port: u16) -> std::io::Result<SmtpSink> {
        let socket = TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(SocketAddr::from(([127, 0, 0, 1], port)))?;
        let listener = socket.listen(128)?;
        let port = listener.local_addr()?.port();

        let messages = Store::default();
        let (shutdown, shutdown_rx) = oneshot::channel();
        let server = tokio::spawn(serve(listener, shutdown_rx, Arc::clone(&messages)));
        Ok(SmtpSink {
            port,
            messages,
            shutdown,
            server,
        })
    }

    /// The port the sink listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The connection URL `smtp://127.0.0.1:PORT`: plain SMTP, no TLS, no
    /// credentials.
    ///
    /// lettre's `from_url` takes it, but exists only with one of lettre's
    /// TLS features; without one, use
    /// `AsyncSmtpTransport::builder_dangerous("127.0.0.1").port(sink.port())`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// A snapshot of the messages received so far, oldest first.
    pub fn messages(&self) -> Vec<ReceivedMail> {
        lock(&self.messages).messages.clone()
    }

    /// How many connections the sink has accepted (whether or not a message
    /// was sent on them).
    pub fn connections(&self) -> usize {
        lock(&self.messages).connections
    }

    /// From now on, messages with `recipient` among their recipients are
    /// read to the end of `DATA` and then refused or hung up on, as `what`
    /// says; they are listed by [`SmtpSink::not_accepted`], not
    /// [`SmtpSink::messages`].
    pub fn after_data_to(&self, recipient: &str, what: AfterData) {
        lock(&self.messages)
            .not_accepting
            .insert(recipient.to_owned(), what);
    }

    /// A snapshot of the messages read to the end of `DATA` but refused or
    /// hung up on (see [`SmtpSink::after_data_to`]), oldest first.
    pub fn not_accepted(&self) -> Vec<ReceivedMail> {
        lock(&self.messages).not_accepted.clone()
    }

    /// Waits for the message to `recipient` that follows the `seen` already
    /// received for it (`seen = 0`: the first), and returns it; `None` after
    /// `timeout`. Waiting costs nothing until a message to `recipient` arrives.
    pub async fn wait_for_mail_to(
        &self,
        recipient: &str,
        seen: usize,
        timeout: Duration,
    ) -> Option<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let arrived = {
                let mut received = lock(&self.messages);
                let index = received
                    .by_recipient
                    .get(recipient)
                    .and_then(|indexes| indexes.get(seen))
                    .copied();
                if let Some(index) = index {
                    return received.messages.get(index).cloned();
                }
                let (waiter, arrived) = oneshot::channel();
                received
                    .waiters
                    .entry(recipient.to_owned())
                    .or_default()
                    .push(waiter);
                arrived
            };
            // Woken or not (a dropped sender), look again until the deadline.
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return None;
            }
        }
    }

    /// Waits until at least `n` messages have been received, or `timeout`
    /// has passed, and returns the messages received by then (possibly fewer
    /// than `n`, possibly more).
    pub async fn wait_for_messages(&self, n: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let messages = self.messages();
            if messages.len() >= n || Instant::now() >= deadline {
                return messages;
            }
            tokio::time::sleep_until(deadline.min(Instant::now() + POLL_INTERVAL)).await;
        }
    }

    /// Stops the sink: closes the listening socket (later connections are
    /// refused) and drops the connections still open.
    pub async fn stop(self) {
        // An error only means the server task is already gone.
        let _ = self.shutdown.send(());
        let _ = self.server.await;
    }
}

/// Locks the message store, ignoring poisoning (a panicking test thread must
/// not hide the messages from the others).
fn lock(store: &Store) -> std::sync::MutexGuard<'_, Received> {
    store.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Accepts connections until `shutdown` fires (or its sender is dropped),
/// then closes the listener and aborts the open connections.
async fn serve(listener: TcpListener, mut shutdown: oneshot::Receiver<()>, store: Store) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    lock(&store).connections += 1;
                    connections.spawn(session(stream, Arc::clone(&store)));
                }
                // E.g. too many open files: back off instead of spinning.
                Err(_) => tokio::time::sleep(POLL_INTERVAL).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}

/// Reads one line (up to and including `\n`) into `line`; `false` at end of
/// stream.
async fn read_line<R>(reader: &mut R, line: &mut Vec<u8>) -> std::io::Result<bool>
where
    R: AsyncBufReadExt + Unpin,
{
    line.clear();
    Ok(reader.read_until(b'\n', line).await? > 0)
}

/// Serves one SMTP connection until `QUIT`, end of stream or an I/O error.
async fn session(stream: TcpStream, store: Store) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut line = Vec::new();
    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();

    writer
        .write_all(b"220 127.0.0.1 ESMTP smtp-sink ready\r\n")
        .await?;
    while read_line(&mut reader, &mut line).await? {
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end_matches(['\r', '\n']);
        let (verb, argument) = command.split_once(' ').unwrap_or((command, ""));
        let argument = argument.trim();

        let reply = match verb.to_ascii_uppercase().as_str() {
            "EHLO" => {
                from = None;
                to.clear();
                format!("250-127.0.0.1 greets {argument}\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            }
            "HELO" => {
                from = None;
                to.clear();
                format!("250 127.0.0.1 greets {argument}\r\n")
            }
            "MAIL" => match strip_prefix_ignore_case(argument, "FROM:") {
                Some(path) => {
                    from = Some(mailbox(path));
                    to.clear();
                    "250 2.1.0 Ok\r\n".to_owned()
                }
                None => "501 5.5.4 Syntax: MAIL FROM:<address>\r\n".to_owned(),
            },
            "RCPT" => match (&from, strip_prefix_ignore_case(argument, "TO:")) {
                (None, _) => "503 5.5.1 Error: need MAIL command\r\n".to_owned(),
                (Some(_), Some(path)) => {
                    to.push(mailbox(path));
                    "250 2.1.5 Ok\r\n".to_owned()
                }
                (Some(_), None) => "501 5.5.4 Syntax: RCPT TO:<address>\r\n".to_owned(),
            },
            "DATA" => match from.take() {
                Some(sender) if !to.is_empty() => {
                    writer
                        .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await?;
                    let Some(raw) = read_data(&mut reader, &mut line).await? else {
                        return Ok(());
                    };
                    let received_at = std::time::Instant::now();
                    let mail = received_mail(sender, std::mem::take(&mut to), &raw, received_at);
                    let mut received = lock(&store);
                    let instead: HashSet<AfterData> = mail
                        .to
                        .iter()
                        .filter_map(|recipient| received.not_accepting.get(recipient).copied())
                        .collect();
                    if instead.is_empty() {
                        let count = received.push(mail);
                        format!("250 2.0.0 Ok: queued as {count}\r\n")
                    } else {
                        received.not_accepted.push(mail);
                        drop(received);
                        if instead.contains(&AfterData::HangUp) {
                            return Ok(());
                        }
                        "554 5.7.1 Message refused\r\n".to_owned()
                    }
                }
                sender => {
                    from = sender;
                    "503 5.5.1 Error: need RCPT command\r\n".to_owned()
                }
            },
            "RSET" => {
                from = None;
                to.clear();
                "250 2.0.0 Ok\r\n".to_owned()
            }
            "NOOP" => "250 2.0.0 Ok\r\n".to_owned(),
            "QUIT" => {
                writer.write_all(b"221 2.0.0 Bye\r\n").await?;
                return writer.shutdown().await;
            }
            _ => "502 5.5.2 Error: command not recognized\r\n".to_owned(),
        };
        writer.write_all(reply.as_bytes()).await?;
    }
    Ok(())
}

/// Reads the message after `354` up to the terminating `.` line, undoing
/// dot-stuffing; `None` if the stream ends first.
///
/// The line break before the `.` line is dropped too: lettre sends its
/// formatted message followed by `\r\n.\r\n` whether or not the message
/// ends with a line break, so keeping it would add a line break to 7bit and
/// quoted-printable bodies (but not to base64 ones).
async fn read_data<R>(reader: &mut R, line: &mut Vec<u8>) -> std::io::Result<Option<Vec<u8>>>
where
    R: AsyncBufReadExt + Unpin,
{
    let mut data = Vec::new();
    while read_line(reader, line).await? {
        match line.as_slice() {
            b".\r\n" | b".\n" => {
                let kept = data
                    .strip_suffix(b"\r\n")
                    .or_else(|| data.strip_suffix(b"\n"))
                    .map_or(data.len(), <[u8]>::len);
                data.truncate(kept);
                return Ok(Some(data));
            }
            [b'.', rest @ ..] => data.extend_from_slice(rest),
            other => data.extend_from_slice(other),
        }
    }
    Ok(None)
}

/// `text` without `prefix`, compared ASCII case-insensitively.
fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text[prefix.len()..].trim_start())
}

/// The address of a `<address> [PARAM=VALUE ...]` path argument.
fn mailbox(path: &str) -> String {
    match path.strip_prefix('<').and_then(|rest| rest.split_once('>')) {
        Some((address, _parameters)) => address.to_owned(),
        None => path
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Builds a [`ReceivedMail`], decoding the subject and text body of `raw`.
fn received_mail(
    from: String,
    to: Vec<String>,
    raw: &[u8],
    received_at: std::time::Instant,
) -> ReceivedMail {
    let (subject, body, message_id) = match MessageParser::default().parse(raw) {
        Some(message) => (
            message.subject().unwrap_or_default().to_owned(),
            message
                .body_text(0)
                .map(|body| body.replace("\r\n", "\n"))
                .unwrap_or_default(),
            message.message_id().map(str::to_owned),
        ),
        None => (String::new(), String::new(), None),
    };
    ReceivedMail {
        from,
        to,
        raw: String::from_utf8_lossy(raw).into_owned(),
        subject,
        body,
        message_id,
        received_at,
    }
}

/// Checks the sink against lettre, the client the service uses.
#[cfg(test)]
mod tests {
    use std::error::Error;
    use std::time::Duration;

    use lettre::message::header::ContentType;
    use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpStream;

    use super::{AfterData, SmtpSink};

    type TestResult = Result<(), Box<dyn Error>>;

    const SUBJECT: &str = "確認コード発行通知(介護保険)";
    const WAIT: Duration = Duration::from_secs(5);

    /// A plain-SMTP lettre transport to `sink`. (`from_url` exists only
    /// with one of lettre's TLS features.)
    fn transport(sink: &SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(sink.port())
            .timeout(Some(WAIT))
            .build()
    }

    fn message(subject: &str, body: &str) -> Result<Message, Box<dyn Error>> {
        Ok(Message::builder()
            // A generated `<…@hostname>` id, as the server sets its own.
            .message_id(None)
            .from("送信者 <noreply@example.com>".parse()?)
            .to("user@example.jp".parse()?)
            .cc("other@example.jp".parse()?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_owned())?)
    }

    #[tokio::test]
    async fn decodes_what_lettre_sends() -> TestResult {
        let sink = SmtpSink::start().await;
        assert_eq!(sink.url(), format!("smtp://127.0.0.1:{}", sink.port()));
        let long_subject = format!("{SUBJECT} {SUBJECT} {SUBJECT} {SUBJECT} and ascii");
        let cases = [
            // Japanese text: lettre picks base64.
            (
                SUBJECT.to_owned(),
                "山田 太郎 様\r\n\r\n確認コードは 123456 です。\n.有効期限は30分です。\n"
                    .to_owned(),
            ),
            // Mostly ASCII with long lines: quoted-printable with soft breaks.
            (
                long_subject,
                format!("Hello,\n..two dots\n.\n{}\nend é", "abc ".repeat(60)),
            ),
            // Plain ASCII: 7bit, dot-stuffed on the wire.
            ("plain".to_owned(), ".leading dot\n\nlast\n\n".to_owned()),
            // Long base64 lines.
            (
                SUBJECT.to_owned(),
                format!("{}\n", "長い本文の行です。".repeat(2000)),
            ),
            ("no body".to_owned(), String::new()),
        ];
        for (index, (subject, body)) in cases.iter().enumerate() {
            let message = message(subject, body)?;
            let formatted = String::from_utf8(message.formatted())?;
            transport(&sink).send(message).await?;
            let mails = sink.wait_for_messages(index + 1, WAIT).await;
            let mail = &mails[index];
            assert_eq!(mail.from, "noreply@example.com");
            assert_eq!(mail.to, ["user@example.jp", "other@example.jp"]);
            assert_eq!(mail.raw, formatted);
            assert_eq!(&mail.subject, subject);
            assert_eq!(mail.body, body.replace("\r\n", "\n"));
            let message_id = mail.message_id.as_deref().unwrap_or_default();
            assert!(
                !message_id.is_empty()
                    && formatted.contains(&format!("Message-ID: <{message_id}>")),
                "Message-ID {message_id:?} is the header's"
            );
        }
        sink.stop().await;
        Ok(())
    }

    #[tokio::test]
    async fn refuses_after_stop_and_restarts_on_the_same_port() -> TestResult {
        let sink = SmtpSink::start().await;
        let port = sink.port();
        let mailer = transport(&sink);
        mailer.send(message(SUBJECT, "1")?).await?;
        assert_eq!(sink.messages().len(), 1);
        // An idle connection must not keep the sink up.
        let _idle = TcpStream::connect(("127.0.0.1", port)).await?;
        sink.stop().await;

        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
        assert!(mailer.send(message(SUBJECT, "2")?).await.is_err());

        let sink = SmtpSink::start_on(port).await?;
        assert_eq!(sink.port(), port);
        assert!(SmtpSink::start_on(port).await.is_err(), "port in use");
        mailer.send(message(SUBJECT, "3")?).await?;
        let mails = sink.wait_for_messages(1, WAIT).await;
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].body, "3");
        sink.stop().await;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn serves_concurrent_connections() -> TestResult {
        let sink = SmtpSink::start().await;
        let mailer = transport(&sink);
        let mut sends = tokio::task::JoinSet::new();
        for i in 0..20 {
            let mailer = mailer.clone();
            let message = message(&format!("{SUBJECT} {i}"), &format!("本文 {i}\n"))?;
            sends.spawn(async move { mailer.send(message).await.map(drop) });
        }
        while let Some(sent) = sends.join_next().await {
            sent??;
        }
        let mut subjects: Vec<String> = sink
            .wait_for_messages(20, WAIT)
            .await
            .into_iter()
            .map(|mail| mail.subject)
            .collect();
        subjects.sort();
        let mut expected: Vec<String> = (0..20).map(|i| format!("{SUBJECT} {i}")).collect();
        expected.sort();
        assert_eq!(subjects, expected);
        Ok(())
    }

    #[tokio::test]
    async fn wait_returns_what_it_has_at_the_timeout() {
        let sink = SmtpSink::start().await;
        let started = tokio::time::Instant::now();
        assert!(sink
            .wait_for_messages(1, Duration::from_millis(100))
            .await
            .is_empty());
        assert!(started.elapsed() >= Duration::from_millis(100));
    }

    #[tokio::test]
    async fn waits_for_the_mail_of_one_recipient() -> TestResult {
        let sink = SmtpSink::start().await;
        let mailer = transport(&sink);
        let before = std::time::Instant::now();
        let waiting = tokio::join!(sink.wait_for_mail_to("other@example.jp", 1, WAIT), async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            for body in ["1", "2"] {
                mailer.send(message(SUBJECT, body)?).await?;
            }
            Ok::<_, Box<dyn Error>>(())
        });
        waiting.1?;
        // The second mail to the Cc recipient, timed after the sender started.
        let second = waiting.0.ok_or("no second mail to other@example.jp")?;
        assert_eq!(second.body, "2");
        assert!(second.received_at > before);
        let first = sink.wait_for_mail_to("user@example.jp", 0, WAIT).await;
        assert_eq!(first.map(|mail| mail.body).as_deref(), Some("1"));
        assert!(sink
            .wait_for_mail_to("nobody@example.jp", 0, Duration::from_millis(50))
            .await
            .is_none());
        Ok(())
    }

    #[tokio::test]
    async fn counts_connections_and_refuses_or_hangs_up_as_told() -> TestResult {
        let sink = SmtpSink::start().await;
        let mailer = transport(&sink);
        mailer.send(message(SUBJECT, "accepted")?).await?;
        sink.after_data_to("other@example.jp", AfterData::Refuse);
        let refused = mailer.send(message(SUBJECT, "refused")?).await;
        assert!(refused.is_err_and(|e| e.is_permanent()));
        sink.after_data_to("other@example.jp", AfterData::HangUp);
        assert!(mailer.send(message(SUBJECT, "hung up")?).await.is_err());
        // Without lettre's pool, one connection per message.
        assert_eq!(sink.connections(), 3);
        let bodies = |mails: Vec<super::ReceivedMail>| -> Vec<String> {
            mails.into_iter().map(|mail| mail.body).collect()
        };
        assert_eq!(bodies(sink.messages()), ["accepted"]);
        assert_eq!(bodies(sink.not_accepted()), ["refused", "hung up"]);
        Ok(())
    }

    #[tokio::test]
    async fn answers_commands() -> TestResult {
        let sink = SmtpSink::start().await;
        let (reader, mut writer) = TcpStream::connect(("127.0.0.1", sink.port()))
            .await?
            .into_split();
        let mut reader = BufReader::new(reader);
        let script = [
            "HELO tester",
            "EHLO tester",
            "VRFY someone",
            "RCPT TO:<a@x>",
            "DATA",
            "mail from: <s@x> BODY=8BITMIME",
            "rcpt to:<r1@x>",
            "NOOP",
            "RSET",
            "DATA",
            "MAIL FROM:<>",
            "RCPT TO:<r@x>",
            "DATA",
            "Subject: hi\r\n\r\n..x\r\nbody\r\n.",
            "QUIT",
        ];
        let mut codes = Vec::new();
        let mut line = String::new();
        reader.read_line(&mut line).await?;
        codes.push(line[..3].to_owned());
        for command in script {
            writer
                .write_all(format!("{command}\r\n").as_bytes())
                .await?;
            loop {
                line.clear();
                reader.read_line(&mut line).await?;
                if line.as_bytes().get(3) != Some(&b'-') {
                    break;
                }
            }
            codes.push(line[..3].to_owned());
        }
        line.clear();
        assert_eq!(reader.read_line(&mut line).await?, 0, "closed after QUIT");
        assert_eq!(
            codes,
            [
                "220", "250", "250", "502", "503", "503", "250", "250", "250", "250", "503", "250",
                "250", "354", "250", "221"
            ]
        );
        let mails = sink.messages();
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0].from, "");
        assert_eq!(mails[0].to, ["r@x"]);
        assert_eq!(mails[0].raw, "Subject: hi\r\n\r\n.x\r\nbody");
        assert_eq!(
            (mails[0].subject.as_str(), mails[0].body.as_str()),
            ("hi", ".x\nbody")
        );
        Ok(())
    }
}
