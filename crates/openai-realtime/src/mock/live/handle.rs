//! The test's view of one Live session: what the client sent, what the mock sent, and
//! commands into the running session (the Realtime [`MockSession`](crate::mock::MockSession)'s
//! counterpart).

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::live::{ClientEvent, CloseReason, LiveError};
use crate::mock::{Close, WaitError};

/// One text frame a Live client sent, as received.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LiveReceived {
    /// The frame exactly as it arrived.
    pub raw: String,
    /// Its `type`, when it has one.
    pub event_type: Option<String>,
    /// The frame decoded as a Live client event, when it decodes.
    pub event: Option<ClientEvent>,
    /// The `error` payload the mock answered with, when it refused the frame.
    pub refused: Option<LiveError>,
}

impl LiveReceived {
    /// The frame as JSON (`Value::Null` if it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.raw).unwrap_or(Value::Null)
    }
}

#[derive(Debug)]
pub(crate) enum LiveCommand {
    Close(u16, String),
    End(CloseReason),
    Error(LiveError),
    Event(Value),
    Raw(String),
    StartTurn,
    Stall(oneshot::Sender<()>),
    Resume(oneshot::Sender<()>),
}

#[derive(Debug, Default)]
pub(crate) struct LiveLog {
    pub(crate) received: Vec<LiveReceived>,
    pub(crate) sent: Vec<String>,
    pub(crate) session: Value,
    pub(crate) closed_by_server: Option<Close>,
    pub(crate) closed_by_client: Option<Close>,
    pub(crate) ended: bool,
    pub(crate) stalled: bool,
}

#[derive(Debug)]
pub(crate) struct LiveShared {
    pub(crate) id: String,
    pub(crate) uri: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) log: Mutex<LiveLog>,
    pub(crate) changed: Notify,
    pub(crate) commands: mpsc::Sender<LiveCommand>,
}

impl LiveShared {
    pub(crate) fn log(&self) -> MutexGuard<'_, LiveLog> {
        // Only a bug in the mock panics while holding the lock; the log stays readable.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn update(&self, f: impl FnOnce(&mut LiveLog)) {
        f(&mut self.log());
        self.changed.notify_waiters();
    }
}

/// The server's list of Live sessions.
#[derive(Debug, Default)]
pub(crate) struct LiveSessions {
    list: Mutex<Vec<MockLiveSession>>,
    changed: Notify,
}

impl LiveSessions {
    pub(crate) fn push(&self, session: MockLiveSession) {
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(session);
        self.changed.notify_waiters();
    }

    pub(crate) fn all(&self) -> Vec<MockLiveSession> {
        self.list.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) async fn wait(
        &self,
        index: usize,
        timeout: Duration,
    ) -> Result<MockLiveSession, WaitError> {
        let wait = async {
            loop {
                let notified = self.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(session) = self.all().get(index) {
                    return session.clone();
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.map_err(|_| {
            WaitError::new(
                format!("Live session #{index}"),
                timeout,
                format!("{} Live sessions", self.all().len()),
            )
        })
    }
}

/// A handle on one Live session of the [`MockServer`](crate::mock::MockServer): what the
/// client sent and the mock answered, and commands into the running session. Cheap to clone.
///
/// ```no_run
/// use std::time::Duration;
/// use openai_realtime::live::CloseReason;
/// use openai_realtime::mock::MockServer;
///
/// # async fn demo(server: MockServer) -> Result<(), Box<dyn std::error::Error>> {
/// let session = server.live_session(0, Duration::from_secs(5)).await?;
/// session.wait_for("session.start", Duration::from_secs(5)).await?;
/// assert_eq!(session.session_config()["audio"]["format"]["type"], "audio/pcmu");
/// // The caller hung up: `session.closed` with `remote_hangup`, then the socket closes.
/// session.end(CloseReason::RemoteHangup).await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MockLiveSession {
    pub(crate) shared: Arc<LiveShared>,
}

impl MockLiveSession {
    /// The session id (`live_…`) the mock reports in `session.started`.
    pub fn id(&self) -> &str {
        &self.shared.id
    }

    /// The request path and query of the upgrade.
    pub fn uri(&self) -> &str {
        &self.shared.uri
    }

    /// A request header of the upgrade (first value). Credentials read `<redacted>`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.shared
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every text frame the client sent, in order.
    pub fn received(&self) -> Vec<LiveReceived> {
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

    /// Every text frame the mock sent, in order.
    pub fn sent(&self) -> Vec<String> {
        self.shared.log().sent.clone()
    }

    /// The resolved session (what `session.started` and `session.updated` report); `Null`
    /// before `session.started`.
    pub fn session_config(&self) -> Value {
        self.shared.log().session.clone()
    }

    /// The close frame the mock sent, if any.
    pub fn server_close(&self) -> Option<Close> {
        self.shared.log().closed_by_server.clone()
    }

    /// The close frame the client sent, if any.
    pub fn client_close(&self) -> Option<Close> {
        self.shared.log().closed_by_client.clone()
    }

    /// Whether the socket is gone.
    pub fn is_ended(&self) -> bool {
        self.shared.log().ended
    }

    /// Whether the session is stalled (see [`stall`](Self::stall)).
    pub fn is_stalled(&self) -> bool {
        self.shared.log().stalled
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
        mut pred: impl FnMut(&LiveReceived) -> bool,
    ) -> Result<LiveReceived, WaitError> {
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
    ) -> Result<LiveReceived, WaitError> {
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
    ) -> Result<LiveReceived, WaitError> {
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
        mut f: impl FnMut(&[LiveReceived]) -> Option<T>,
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
            .map_err(|_| WaitError::new(what.to_owned(), timeout, self.received_types().join(", ")))
    }

    /// Waits until the socket is gone; returns the closes of both sides (server, client).
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
        tokio::time::timeout(timeout, wait).await.map_err(|_| {
            WaitError::new(
                "the end of the Live session".to_owned(),
                timeout,
                self.received_types().join(", "),
            )
        })
    }

    async fn command(&self, command: LiveCommand) {
        // An ended session has nobody to command; that is fine.
        let _ = self.shared.commands.send(command).await;
    }

    /// Closes the socket with this code and reason, without `session.closed` (as a lost
    /// connection or a server failure, e.g. 1011).
    pub async fn close(&self, code: u16, reason: &str) {
        self.command(LiveCommand::Close(code, reason.to_owned()))
            .await;
    }

    /// Ends the session as the service does: `session.closed` with this reason (e.g.
    /// `remote_hangup`, `content`), the session and the usage, then close 1000.
    pub async fn end(&self, reason: CloseReason) {
        self.command(LiveCommand::End(reason)).await;
    }

    /// Sends an `error` event mid-session; the session stays open. An empty `event_id` is
    /// filled in.
    pub async fn send_error(&self, error: LiveError) {
        self.command(LiveCommand::Error(error)).await;
    }

    /// Sends a server event as JSON (an `event_id` is added when it has none and its type
    /// carries one).
    pub async fn send_event(&self, event: Value) {
        self.command(LiveCommand::Event(event)).await;
    }

    /// Sends a text frame exactly as given (for malformed-input tests).
    pub async fn send_raw(&self, text: impl Into<String>) {
        self.command(LiveCommand::Raw(text.into())).await;
    }

    /// Plays the next scripted turn now, as if the caller had just stopped speaking.
    pub async fn start_turn(&self) {
        self.command(LiveCommand::StartTurn).await;
    }

    /// Stalls the session: from the moment this returns the mock neither reads nor writes the
    /// socket (pings go unanswered, as on a half-open TCP path) and holds what it would send,
    /// the paced track included, until [`resume`](Self::resume).
    pub async fn stall(&self) {
        let (done, acked) = oneshot::channel();
        self.command(LiveCommand::Stall(done)).await;
        let _ = acked.await;
    }

    /// Ends a [`stall`](Self::stall): the held events go out at once, in order.
    pub async fn resume(&self) {
        let (done, acked) = oneshot::channel();
        self.command(LiveCommand::Resume(done)).await;
        let _ = acked.await;
    }
}
