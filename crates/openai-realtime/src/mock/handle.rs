//! The test's view of one mock session: what the client sent, what the mock sent, and
//! commands (close, error, response) into the running session.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::{ApiError, ClientEvent, Dialect};

/// One text frame the client sent, as received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Received {
    /// The frame exactly as it arrived.
    pub raw: String,
    /// Its `type`, when it has one.
    pub event_type: Option<String>,
    /// The frame decoded in the session's dialect, when it decodes.
    pub event: Option<ClientEvent>,
    /// The `error` payload the mock answered with, when it refused the frame.
    pub refused: Option<ApiError>,
}

impl Received {
    /// The frame as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.raw).unwrap_or(Value::Null)
    }
}

/// A close frame, from either side.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Close {
    /// The close code.
    pub code: u16,
    /// The close reason.
    pub reason: String,
}

/// A wait on a mock handle ran out of time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitError {
    what: String,
    after: Duration,
    seen: String,
}

impl WaitError {
    pub(crate) fn new(what: String, after: Duration, seen: String) -> Self {
        Self { what, after, seen }
    }
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "mock: timed out after {:?} waiting for {}; seen: {}",
            self.after, self.what, self.seen
        )
    }
}

impl std::error::Error for WaitError {}

#[derive(Debug)]
pub(crate) enum Command {
    Close(u16, String),
    Error(ApiError),
    Event(Value),
    Raw(String),
    StartResponse,
    /// Stop touching the socket; answered once the session loop has stopped.
    Stall(oneshot::Sender<()>),
    /// Send what was held and go on; answered once the session loop has taken it.
    Resume(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
pub(crate) struct Log {
    pub(crate) received: Vec<Received>,
    pub(crate) sent: Vec<String>,
    pub(crate) session: Value,
    pub(crate) closed_by_server: Option<Close>,
    pub(crate) closed_by_client: Option<Close>,
    pub(crate) ended: bool,
    pub(crate) stalled: bool,
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) id: String,
    pub(crate) model: String,
    pub(crate) dialect: Dialect,
    pub(crate) uri: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) log: Mutex<Log>,
    pub(crate) changed: Notify,
    pub(crate) commands: mpsc::Sender<Command>,
}

impl Shared {
    pub(crate) fn log(&self) -> MutexGuard<'_, Log> {
        // A panic while holding this lock can only come from a bug in the mock; the log is
        // still readable, so recover it rather than poison every later assertion.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut Log)) {
        f(&mut self.log());
        self.changed.notify_waiters();
    }
}

/// A handle on one session of the [`MockServer`](super::MockServer): assertions on what the
/// client sent, and commands into the running session. Cheap to clone.
#[derive(Debug, Clone)]
pub struct MockSession {
    pub(crate) shared: Arc<Shared>,
}

impl MockSession {
    /// The session id (`sess_…`) the mock reported in `session.created`.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The model the client asked for in the URL.
    pub fn model(&self) -> &str {
        &self.shared.model
    }

    /// The dialect the mock speaks on this socket.
    pub fn dialect(&self) -> Dialect {
        self.shared.dialect
    }

    /// The request path and query of the upgrade.
    pub fn uri(&self) -> &str {
        &self.shared.uri
    }

    /// A request header of the upgrade (first value). Credentials (`authorization`,
    /// `api-key`) read `<redacted>`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.shared
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every text frame the client sent, in order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.log().received.clone()
    }

    /// The `type` of every frame the client sent, in order (`"?"` for frames without one).
    pub fn received_types(&self) -> Vec<String> {
        self.shared
            .log()
            .received
            .iter()
            .map(|r| r.event_type.clone().unwrap_or_else(|| "?".to_owned()))
            .collect()
    }

    /// Every text frame the mock sent, in order, in the session's dialect.
    pub fn sent(&self) -> Vec<String> {
        self.shared.log().sent.clone()
    }

    /// The effective session configuration, in the GA shape (what `session.updated` reports).
    pub fn session_config(&self) -> Value {
        self.shared.log().session.clone()
    }

    /// The close the mock sent, if any.
    pub fn server_close(&self) -> Option<Close> {
        self.shared.log().closed_by_server.clone()
    }

    /// The close the client sent, if any.
    pub fn client_close(&self) -> Option<Close> {
        self.shared.log().closed_by_client.clone()
    }

    /// Whether the socket is gone.
    pub fn is_ended(&self) -> bool {
        self.shared.log().ended
    }

    /// Waits until some received frame satisfies `pred`, and returns the first that does.
    ///
    /// # Errors
    ///
    /// [`WaitError`] after `timeout`, listing the types received so far.
    pub async fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut pred: impl FnMut(&Received) -> bool,
    ) -> Result<Received, WaitError> {
        self.scan(what, timeout, |all| all.iter().find(|r| pred(r)).cloned())
            .await
    }

    /// Waits for the first received frame of this `type`.
    ///
    /// # Errors
    ///
    /// [`WaitError`] after `timeout`.
    pub async fn wait_for(
        &self,
        event_type: &str,
        timeout: Duration,
    ) -> Result<Received, WaitError> {
        self.wait_for_nth(event_type, 0, timeout).await
    }

    /// Waits for the `n`-th (from 0) received frame of this `type`.
    ///
    /// # Errors
    ///
    /// [`WaitError`] after `timeout`.
    pub async fn wait_for_nth(
        &self,
        event_type: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Received, WaitError> {
        self.scan(&format!("{event_type} #{n}"), timeout, |all| {
            all.iter()
                .filter(|r| r.event_type.as_deref() == Some(event_type))
                .nth(n)
                .cloned()
        })
        .await
    }

    async fn scan<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut f: impl FnMut(&[Received]) -> Option<T>,
    ) -> Result<T, WaitError> {
        let wait = async {
            loop {
                let notified = self.shared.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(found) = f(&self.shared.log().received) {
                    return found;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| WaitError {
                what: what.to_owned(),
                after: timeout,
                seen: self.received_types().join(", "),
            })
    }

    /// Waits until the socket is gone; returns the closes of both sides.
    ///
    /// # Errors
    ///
    /// [`WaitError`] after `timeout`.
    pub async fn wait_ended(
        &self,
        timeout: Duration,
    ) -> Result<(Option<Close>, Option<Close>), WaitError> {
        let wait = async {
            loop {
                let notified = self.shared.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                {
                    let log = self.shared.log();
                    if log.ended {
                        return (log.closed_by_server.clone(), log.closed_by_client.clone());
                    }
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| WaitError {
                what: "the end of the session".to_owned(),
                after: timeout,
                seen: self.received_types().join(", "),
            })
    }

    async fn command(&self, command: Command) {
        // The session may have ended; then there is nobody to command, and that is fine.
        let _ = self.shared.commands.send(command).await;
    }

    /// Closes the session with this code and reason (e.g. 1011 for a server failure).
    pub async fn close(&self, code: u16, reason: &str) {
        self.command(Command::Close(code, reason.to_owned())).await;
    }

    /// Sends an `error` event mid-call; the session stays open.
    pub async fn send_error(&self, error: ApiError) {
        self.command(Command::Error(error)).await;
    }

    /// Sends a server event written in the GA shape (translated for a beta session).
    pub async fn send_event(&self, event: Value) {
        self.command(Command::Event(event)).await;
    }

    /// Sends a text frame exactly as given (for malformed-input tests).
    pub async fn send_raw(&self, text: impl Into<String>) {
        self.command(Command::Raw(text.into())).await;
    }

    /// Starts the next scripted response, as if server VAD had ended a turn.
    pub async fn start_response(&self) {
        self.command(Command::StartResponse).await;
    }

    /// Stalls the session, as a stuck service or a half-open TCP path would: from the moment
    /// this returns the mock neither reads from nor writes to the socket. The client's frames
    /// (pings included) stay unread and unanswered in the socket's buffers; every event the
    /// mock would send meanwhile (scripted response steps as they fall due, and the output of
    /// [`close`](Self::close), [`send_error`](Self::send_error),
    /// [`send_event`](Self::send_event), [`send_raw`](Self::send_raw) and
    /// [`start_response`](Self::start_response)) is held, in order, until
    /// [`resume`](Self::resume). Stalling a stalled or ended session does nothing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use openai_realtime::mock::MockServer;
    /// use futures_util::{SinkExt, StreamExt};
    /// use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = MockServer::start().await?;
    /// let mut request = format!("{}?model=gpt-realtime-2.1", server.url()).into_client_request()?;
    /// request.headers_mut().insert("authorization", "Bearer sk-test".parse()?);
    /// let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
    /// let created = ws.next().await.unwrap()?; // session.created
    /// assert!(created.to_text()?.contains("session.created"));
    ///
    /// let session = server.session(0, Duration::from_secs(5)).await?;
    /// session.stall().await;
    /// // Nothing comes back: no pong, no event (the held `error` below included).
    /// ws.send(Message::Ping("are you there".into())).await?;
    /// session.send_event(serde_json::json!({"type": "error", "error": {
    ///     "type": "server_error", "message": "late"}})).await;
    /// let quiet = tokio::time::timeout(Duration::from_millis(200), ws.next()).await;
    /// assert!(quiet.is_err(), "a stalled mock sent {quiet:?}");
    ///
    /// // The held event comes first, then the pong the mock now reads the ping for.
    /// session.resume().await;
    /// let held = ws.next().await.unwrap()?;
    /// assert!(held.to_text()?.contains("late"));
    /// assert!(matches!(ws.next().await.unwrap()?, Message::Pong(_)));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn stall(&self) {
        let (done, acked) = oneshot::channel();
        self.command(Command::Stall(done)).await;
        // An ended session drops the sender: nothing to stall.
        let _ = acked.await;
    }

    /// Ends a [`stall`](Self::stall): the mock sends everything it held, in order, then
    /// reads the socket again (answering the pings that waited) and goes on. Resuming a
    /// session that is not stalled does nothing.
    pub async fn resume(&self) {
        let (done, acked) = oneshot::channel();
        self.command(Command::Resume(done)).await;
        let _ = acked.await;
    }

    /// Whether the session is stalled (see [`stall`](Self::stall)).
    pub fn is_stalled(&self) -> bool {
        self.shared.log().stalled
    }
}
