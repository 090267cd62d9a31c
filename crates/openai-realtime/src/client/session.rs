//! A connected session: the sender half, the receiver half, and the two together.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};

use super::config::Config;
use super::connect::{Target, Ws};
use super::error::{CloseFrame, Error, ErrorKind};
use crate::{ApiError, ClientEvent, Dialect, ServerEvent};

/// The error code of a `response.cancel` that found no response running (reference §12.2:
/// harmless). With server VAD the service cancels a response itself when the caller starts
/// talking, so a client's own cancel on barge-in often gets this answer: it is logged at
/// debug, not as a warning, and still returned like every error event.
const BENIGN_CANCEL_CODE: &str = "response_cancel_not_active";

/// Error codes after which the service closes the socket.
const FATAL_CODES: &[&str] = &[
    "invalid_api_key",
    "beta_api_shape_disabled",
    "model_not_found",
    "session_expired",
    "insufficient_quota",
];

/// How a session ended, for the sender half's errors.
#[derive(Debug, Clone, Default)]
struct End {
    close: Option<CloseFrame>,
    api: Option<ApiError>,
}

/// State both halves see.
#[derive(Debug)]
struct Shared {
    sink: tokio::sync::Mutex<SplitSink<Ws, Message>>,
    target: Target,
    dialect: Dialect,
    close_grace: Duration,
    closing: AtomicBool,
    /// We sent the close (so the end of the socket is expected).
    we_closed: AtomicBool,
    end: Mutex<Option<End>>,
    ended: Notify,
    /// Unix seconds; 0 while unknown.
    expires_at: AtomicU64,
    session_id: Mutex<String>,
}

impl Shared {
    fn finish(&self, end: End) {
        self.closing.store(true, Ordering::SeqCst);
        let mut slot = self.end.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(end);
        }
        drop(slot);
        self.ended.notify_waiters();
    }

    fn end(&self) -> Option<End> {
        self.end.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn session_id(&self) -> String {
        self.session_id
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn expires_at(&self) -> Option<SystemTime> {
        match self.expires_at.load(Ordering::SeqCst) {
            0 => None,
            secs => Some(UNIX_EPOCH + Duration::from_secs(secs)),
        }
    }
}

fn time_left(expires_at: Option<SystemTime>) -> Option<Duration> {
    let at = expires_at?;
    Some(
        at.duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The writing half of a session. Cheap to share behind an `Arc`: [`Sender::send`] takes
/// `&self`.
///
/// Once the receiver has seen the session end (an error and close, a failure close, a lost
/// socket), every send fails at once with that cause instead of writing into a dead socket.
#[derive(Debug)]
pub struct Sender {
    shared: Arc<Shared>,
}

impl Sender {
    /// Encodes and sends one client event in the session's dialect.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Local`] when the session is closing or closed (with the close frame and
    /// the service's error when known), [`ErrorKind::Transport`] when the socket fails.
    pub async fn send(&self, event: &ClientEvent) -> Result<(), Error> {
        self.send_text(event.encode(self.shared.dialect), event.event_type())
            .await
    }

    /// Sends a text frame exactly as given, for events this crate does not model yet.
    ///
    /// # Errors
    ///
    /// As [`Sender::send`].
    pub async fn send_raw(&self, text: impl Into<String>) -> Result<(), Error> {
        self.send_text(text.into(), "raw").await
    }

    async fn send_text(&self, text: String, event_type: &str) -> Result<(), Error> {
        let ended = self.shared.ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        if self.shared.closing.load(Ordering::SeqCst) {
            return Err(self.closed_error(event_type));
        }
        let send = async {
            self.shared
                .sink
                .lock()
                .await
                .send(Message::text(text))
                .await
        };
        // On a path that carries nothing the write waits once the socket's buffer is full;
        // when the receiver ends the session meanwhile (keepalive timeout), stop waiting.
        let result = tokio::select! {
            result = send => result,
            () = ended => return Err(self.closed_error(event_type)),
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => {
                // The receiver usually learns why the socket went away (the error event and the
                // close); give it a moment so this error can carry the cause too.
                let wait = self.shared.ended.notified();
                if self.shared.end().is_none() {
                    let _ = tokio::time::timeout(self.shared.close_grace, wait).await;
                }
                let err = match e {
                    tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
                        self.closed_error(event_type)
                    }
                    other => self.with_end(
                        self.shared
                            .target
                            .error(ErrorKind::Transport)
                            .with_ws_source(other),
                    ),
                };
                tracing::warn!(session_id = %self.shared.session_id(), event_type, error = %err.report(), "Realtime send failed");
                Err(err)
            }
        }
    }

    fn closed_error(&self, event_type: &str) -> Error {
        self.with_end(
            self.shared
                .target
                .error(ErrorKind::Local)
                .with_message(format!("not sending `{event_type}`")),
        )
    }

    fn with_end(&self, err: Error) -> Error {
        match self.shared.end() {
            Some(end) => err.with_close(end.close).with_api(end.api),
            None => err,
        }
    }

    /// Closes the session normally (close code 1000). Later sends fail.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`] when the close frame cannot be written.
    pub async fn close(&self) -> Result<(), Error> {
        self.shared.we_closed.store(true, Ordering::SeqCst);
        self.shared.closing.store(true, Ordering::SeqCst);
        let frame = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "".into(),
        };
        let mut sink = self.shared.sink.lock().await;
        match sink.send(Message::Close(Some(frame))).await {
            Ok(())
            | Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                tracing::debug!(session_id = %self.shared.session_id(), "Realtime session closed by us");
                Ok(())
            }
            Err(e) => Err(self
                .shared
                .target
                .error(ErrorKind::Transport)
                .with_ws_source(e)),
        }
    }

    /// Turns the sender into a `Sink` of client events, for code written against
    /// `Sink`/`Stream` pairs (see also [`Receiver::into_stream`]). The trait is
    /// `futures` 0.3's, the one kept in the API without a feature ([Stability](crate#stability)).
    pub fn into_sink(self) -> impl futures_util::Sink<ClientEvent, Error = Error> + Send {
        futures_util::sink::unfold(self, |tx, event: ClientEvent| async move {
            tx.send(&event).await.map(|()| tx)
        })
    }

    /// Whether the session is closing or closed; stop sending audio when it is.
    pub fn is_closing(&self) -> bool {
        self.shared.closing.load(Ordering::SeqCst)
    }

    /// When the service ends the session (`expires_at` of `session.created`).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.shared.expires_at()
    }

    /// Time until [`Sender::expires_at`] (zero once passed).
    pub fn time_left(&self) -> Option<Duration> {
        time_left(self.shared.expires_at())
    }

    /// The close frame that ended the session, once it has ended with one: the service's
    /// (a `1000` mid-call is still worth naming), or the answer to ours. `None` while the
    /// session is open, and after an end without a close frame (a dropped connection).
    ///
    /// The receiving half ends its stream with `None` on a normal close; this tells what
    /// the close said.
    pub fn close_frame(&self) -> Option<CloseFrame> {
        self.shared.end()?.close
    }

    /// Whether this client sent the close (with [`Sender::close`]): the end was expected.
    pub fn closed_by_us(&self) -> bool {
        self.shared.we_closed.load(Ordering::SeqCst)
    }
}

/// What one frame amounted to.
// A `Step` lives on the stack for one frame; boxing the event would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
enum Step {
    Yield(Result<ServerEvent, Error>),
    Continue,
    End,
}

/// The reading half of a session.
///
/// [`Receiver::recv`] yields each server event; an `error` event comes as an `Err` of kind
/// [`ErrorKind::Api`] and the session goes on. A fatal end (an error followed by a close, a
/// failure close, a lost socket, a keepalive timeout) comes as one `Err` carrying everything
/// known (the error's type, code, message and param, the close code and reason), and then
/// `recv` returns `None`. A normal close (1000/1001 with no error before it) is just `None`.
///
/// The receiver also sends the keepalive pings, so keep polling it.
#[derive(Debug)]
pub struct Receiver {
    stream: SplitStream<Ws>,
    shared: Arc<Shared>,
    deferred: VecDeque<Result<ServerEvent, Error>>,
    last_error: Option<ApiError>,
    keepalive: Option<Duration>,
    keepalive_timeout: Duration,
    last_rx: Instant,
    last_ping: Instant,
    done: bool,
    /// Inside `connect` and `update_session`, which log the error they return themselves.
    quiet: bool,
}

impl Receiver {
    /// The next server event, `Err` for an `error` event or a failure, `None` once the session
    /// is over.
    pub async fn recv(&mut self) -> Option<Result<ServerEvent, Error>> {
        if let Some(item) = self.deferred.pop_front() {
            return Some(item);
        }
        self.next_from_socket(false).await
    }

    /// Turns the receiver into a `Stream` of the same items (`futures` 0.3's trait, see
    /// [Stability](crate#stability)).
    pub fn into_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<ServerEvent, Error>> + Send {
        futures_util::stream::unfold(self, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
    }

    /// When the service ends the session (`expires_at` of `session.created`).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.shared.expires_at()
    }

    /// Time until [`Receiver::expires_at`] (zero once passed).
    pub fn time_left(&self) -> Option<Duration> {
        time_left(self.shared.expires_at())
    }

    /// The close frame that ended the session (see [`Sender::close_frame`]).
    pub fn close_frame(&self) -> Option<CloseFrame> {
        self.shared.end()?.close
    }

    async fn next_from_socket(&mut self, handshake: bool) -> Option<Result<ServerEvent, Error>> {
        if self.done {
            return None;
        }
        loop {
            // The next ping, or the end of the wait for any frame, whichever comes first.
            let tick_at = self
                .keepalive
                .map(|every| (self.last_ping + every).min(self.last_rx + self.keepalive_timeout));
            let frame = tokio::select! {
                frame = self.stream.next() => frame,
                () = sleep_until(tick_at) => {
                    if let Some(err) = self.keepalive_tick().await {
                        return Some(Err(err));
                    }
                    continue;
                }
            };
            let step = self.on_frame(frame, handshake).await;
            if self.done || matches!(step, Step::End) {
                self.done = true;
                self.complete_close().await;
            }
            match step {
                Step::Yield(item) => return Some(item),
                Step::Continue => {}
                Step::End => return None,
            }
        }
    }

    /// Finishes the closing handshake (sends our reply to the service's close) so the service
    /// sees a clean end; bounded by the close grace.
    async fn complete_close(&mut self) {
        let close = async {
            let mut sink = self.shared.sink.lock().await;
            // Best effort: the service's close was already reported; a failed reply adds nothing.
            let _ = sink.close().await;
        };
        // Bounded so a peer that stops reading cannot hold the receiver; nothing is lost.
        let _ = tokio::time::timeout(self.shared.close_grace, close).await;
    }

    /// Ends the session when nothing has arrived for the keepalive timeout; otherwise sends
    /// the ping that is due.
    async fn keepalive_tick(&mut self) -> Option<Error> {
        let every = self.keepalive?;
        let now = Instant::now();
        let dead_at = self.last_rx + self.keepalive_timeout;
        if now >= dead_at {
            let silent = now.duration_since(self.last_rx);
            let waited_for = format!(
                "waiting for any frame or a pong from the service (keepalive pings every {every:?})"
            );
            let err = self.shared.target.timeout(waited_for.clone(), silent);
            if !self.quiet {
                tracing::error!(
                    session_id = %self.shared.session_id(),
                    waited_for = %waited_for,
                    silent_ms = silent.as_millis() as u64,
                    error = %err.report(),
                    "Realtime keepalive timed out"
                );
            }
            self.shared.finish(End::default());
            self.done = true;
            return Some(err);
        }
        if now < self.last_ping + every {
            return None;
        }
        self.last_ping = now;
        // Bounded by the liveness deadline: on a path that carries nothing the socket's send
        // buffer fills and a write would wait for ever (the sender may be stuck in one, holding
        // the socket). A broken socket fails the next read too, and that read reports it.
        let ping = async {
            let mut sink = self.shared.sink.lock().await;
            let _ = sink.send(Message::Ping(Vec::new().into())).await;
        };
        let _ = tokio::time::timeout_at(dead_at, ping).await;
        None
    }

    async fn on_frame(
        &mut self,
        frame: Option<Result<Message, tungstenite::Error>>,
        handshake: bool,
    ) -> Step {
        self.last_rx = Instant::now();
        match frame {
            Some(Ok(Message::Text(text))) => self.on_text(text.as_str(), handshake).await,
            Some(Ok(Message::Close(frame))) => {
                let close = frame.map_or_else(
                    || CloseFrame::new(1005, ""),
                    |f| CloseFrame::new(u16::from(f.code), f.reason.as_str()),
                );
                self.on_close(close, handshake)
            }
            Some(Ok(Message::Binary(bytes))) => {
                tracing::warn!(
                    session_id = %self.shared.session_id(),
                    len = bytes.len(),
                    "Realtime: skipping a binary frame (the protocol sends JSON text only)"
                );
                Step::Continue
            }
            Some(Ok(_)) => Step::Continue,
            Some(Err(
                tungstenite::Error::ConnectionClosed
                | tungstenite::Error::AlreadyClosed
                | tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                ),
            )) => {
                if self.shared.we_closed.load(Ordering::SeqCst) {
                    self.shared.finish(End::default());
                    Step::End
                } else {
                    self.on_close(
                        CloseFrame::new(1006, "connection ended without a close frame"),
                        handshake,
                    )
                }
            }
            Some(Err(e)) => {
                let err = self
                    .shared
                    .target
                    .error(if handshake {
                        ErrorKind::Rejected
                    } else {
                        ErrorKind::Transport
                    })
                    .with_api(self.last_error.take())
                    .with_ws_source(e);
                if !self.quiet {
                    tracing::error!(session_id = %self.shared.session_id(), error = %err.report(), "Realtime socket failed");
                }
                self.shared.finish(End::default());
                self.done = true;
                Step::Yield(Err(err))
            }
            None => {
                if self.shared.we_closed.load(Ordering::SeqCst) {
                    self.shared.finish(End::default());
                    Step::End
                } else {
                    self.on_close(
                        CloseFrame::new(1006, "connection ended without a close frame"),
                        handshake,
                    )
                }
            }
        }
    }

    async fn on_text(&mut self, text: &str, handshake: bool) -> Step {
        let event = match ServerEvent::decode(text, self.shared.dialect) {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(session_id = %self.shared.session_id(), error = %e, "Realtime: undecodable server event");
                let err = self
                    .shared
                    .target
                    .error(ErrorKind::Protocol)
                    .with_message("server event could not be decoded")
                    .with_source(e);
                return Step::Yield(Err(err));
            }
        };
        match event {
            ServerEvent::Error(event) => {
                let api = event.error;
                let fatal = handshake
                    || api
                        .code
                        .as_deref()
                        .is_some_and(|c| FATAL_CODES.contains(&c));
                if fatal {
                    // A fatal error is followed by the close: wait for it so both travel as one.
                    let grace = self.shared.close_grace;
                    self.last_error = Some(api.clone());
                    match tokio::time::timeout(grace, self.stream.next()).await {
                        Ok(Some(Ok(Message::Close(frame)))) => {
                            let close = frame.map_or_else(
                                || CloseFrame::new(1005, ""),
                                |f| CloseFrame::new(u16::from(f.code), f.reason.as_str()),
                            );
                            return self.on_close(close, handshake);
                        }
                        Ok(None | Some(Err(_))) => {
                            return self.on_close(
                                CloseFrame::new(1006, "connection ended without a close frame"),
                                handshake,
                            );
                        }
                        Ok(Some(Ok(other))) => {
                            // Not closed after all: deliver the error, then what followed.
                            self.last_rx = Instant::now();
                            let next = Box::pin(self.on_frame(Some(Ok(other)), handshake)).await;
                            if let Step::Yield(item) = next {
                                self.deferred.push_back(item);
                            }
                        }
                        // No close within the grace: the error is still returned just below.
                        Err(_) => {}
                    }
                }
                self.last_error = Some(api.clone());
                let benign = api.code.as_deref() == Some(BENIGN_CANCEL_CODE);
                let err = self.shared.target.error(ErrorKind::Api).with_api(Some(api));
                if !self.quiet {
                    if benign {
                        // The usual end of a race with the service's own cancel on barge-in:
                        // still returned to the caller, but no warning in the log.
                        tracing::debug!(session_id = %self.shared.session_id(), error = %err.report(), "Realtime error event (benign)");
                    } else {
                        tracing::warn!(session_id = %self.shared.session_id(), error = %err.report(), "Realtime error event");
                    }
                }
                Step::Yield(Err(err))
            }
            event => {
                self.last_error = None;
                if let ServerEvent::SessionCreated(created) = &event {
                    self.note_session(&created.session, true);
                } else if let ServerEvent::SessionUpdated(updated) = &event {
                    self.note_session(&updated.session, false);
                }
                Step::Yield(Ok(event))
            }
        }
    }

    fn note_session(&self, session: &crate::Session, created: bool) {
        if let crate::Session::Realtime(s) = session {
            if let Some(at) = s.expires_at.and_then(|t| u64::try_from(t).ok()) {
                self.shared.expires_at.store(at, Ordering::SeqCst);
            }
            if let Some(id) = &s.id {
                *self
                    .shared
                    .session_id
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = id.to_string();
            }
        }
        if created {
            tracing::debug!(
                session_id = %self.shared.session_id(),
                model = %self.shared.target.model,
                dialect = ?self.shared.dialect,
                expires_at = ?self.shared.expires_at(),
                "Realtime session created"
            );
        }
    }

    fn on_close(&mut self, close: CloseFrame, handshake: bool) -> Step {
        let api = self.last_error.take();
        let we_closed = self.shared.we_closed.load(Ordering::SeqCst);
        self.shared.finish(End {
            close: Some(close.clone()),
            api: api.clone(),
        });
        self.done = true;
        // Our own close ends the session normally, whatever came just before it; otherwise a
        // close is a failure unless it is 1000/1001 with no error right before it.
        let expected = close.is_normal() || close.code() == 1005;
        if !handshake && ((we_closed && expected) || (api.is_none() && close.is_normal())) {
            tracing::debug!(session_id = %self.shared.session_id(), %close, "Realtime session closed");
            return Step::End;
        }
        let kind = if handshake {
            ErrorKind::Rejected
        } else {
            ErrorKind::Closed
        };
        let err = self
            .shared
            .target
            .error(kind)
            .with_api(api)
            .with_close(Some(close));
        if !self.quiet {
            tracing::error!(session_id = %self.shared.session_id(), error = %err.report(), "Realtime session ended");
        }
        Step::Yield(Err(err))
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A connected Realtime session, both halves together.
///
/// Configure it with [`Connection::update_session`] (which waits for the service to confirm),
/// then either use it directly or [`split`](Connection::split) it so one task reads while
/// another writes. No task is spawned: the receiver half does the reading and the pings.
#[derive(Debug)]
pub struct Connection {
    sender: Sender,
    receiver: Receiver,
    session: crate::Session,
    update_timeout: Duration,
    updates: u64,
}

impl Connection {
    /// Connects, performs the handshake and waits for `session.created`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`], [`ErrorKind::Connect`], [`ErrorKind::Timeout`],
    /// [`ErrorKind::Refused`] (HTTP status and body) or [`ErrorKind::Rejected`] (the `error`
    /// event and the close that refused the session), each with advice for known causes.
    pub async fn connect(config: Config) -> Result<Self, Error> {
        let (ws, target) = super::connect::open(&config).await?;
        let (sink, stream) = ws.split();
        let now = Instant::now();
        let shared = Arc::new(Shared {
            sink: tokio::sync::Mutex::new(sink),
            target: target.clone(),
            dialect: config.dialect,
            close_grace: config.close_grace,
            closing: AtomicBool::new(false),
            we_closed: AtomicBool::new(false),
            end: Mutex::new(None),
            ended: Notify::new(),
            expires_at: AtomicU64::new(0),
            session_id: Mutex::new(String::new()),
        });
        let mut receiver = Receiver {
            stream,
            shared: Arc::clone(&shared),
            deferred: VecDeque::new(),
            last_error: None,
            keepalive: config.keepalive,
            keepalive_timeout: config.keepalive_timeout,
            last_rx: now,
            last_ping: now,
            done: false,
            quiet: true,
        };
        let first = async {
            let mut early = VecDeque::new();
            loop {
                match receiver.next_from_socket(true).await {
                    Some(Ok(ServerEvent::SessionCreated(created))) => {
                        return Ok((created.session, early));
                    }
                    // Not the first event the service sends; keep it for the caller.
                    Some(Ok(other)) => early.push_back(Ok(other)),
                    Some(Err(err)) if err.is_api() => {
                        return Err(err.set_kind(ErrorKind::Rejected));
                    }
                    Some(Err(err)) => return Err(err),
                    None => {
                        return Err(target
                            .error(ErrorKind::Rejected)
                            .with_message("the socket closed before `session.created`"));
                    }
                }
            }
        };
        let (session, early) = match tokio::time::timeout(config.first_event_timeout, first).await {
            Ok(Ok(found)) => found,
            Ok(Err(err)) => {
                tracing::error!(
                    url = %target.url,
                    model = %target.model,
                    request_id = err.request_id().unwrap_or("-"),
                    error = %err.report(),
                    "Realtime session refused"
                );
                return Err(err);
            }
            Err(_) => {
                let err =
                    target.timeout("waiting for `session.created`", config.first_event_timeout);
                tracing::error!(url = %target.url, error = %err.report(), "Realtime session did not start");
                return Err(err);
            }
        };
        receiver.deferred.extend(early);
        receiver.quiet = false;
        Ok(Self {
            sender: Sender { shared },
            receiver,
            session,
            update_timeout: config.session_update_timeout,
            updates: 0,
        })
    }

    /// The session as the service last reported it (`session.created`, then each confirmed
    /// update).
    pub fn session(&self) -> &crate::Session {
        &self.session
    }

    /// The session id (`sess_…`).
    pub fn session_id(&self) -> String {
        self.sender.shared.session_id()
    }

    /// When the service ends the session.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.sender.expires_at()
    }

    /// Time until [`Connection::expires_at`] (zero once passed).
    pub fn time_left(&self) -> Option<Duration> {
        self.sender.time_left()
    }

    /// Sends `session.update` and waits for `session.updated`; checks that the audio formats
    /// asked for are the ones the service now reports.
    ///
    /// Events that arrive meanwhile are kept, in order, for [`Connection::recv`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::SessionUpdate`] when the service refuses the update (its `error` names
    /// the code, message and param; the session keeps its old settings) or reports other
    /// formats than asked; [`ErrorKind::Timeout`] without an answer; any fatal error.
    pub async fn update_session(
        &mut self,
        session: impl Into<crate::Session>,
    ) -> Result<&crate::Session, Error> {
        let session = session.into();
        let asked_in = session.input_format().cloned();
        let asked_out = session.output_format().cloned();
        self.updates += 1;
        let event_id = format!("evt_session_update_{}", self.updates);
        let mut update = crate::client_event::SessionUpdate::new(session);
        update.event_id = Some(crate::EventId::new(event_id.clone()));
        self.sender
            .send(&ClientEvent::SessionUpdate(update))
            .await?;
        tracing::debug!(session_id = %self.session_id(), %event_id, "session.update sent");

        let target = self.sender.shared.target.clone();
        let receiver = &mut self.receiver;
        receiver.quiet = true;
        let mut kept = VecDeque::new();
        let wait = async {
            loop {
                match receiver.next_from_socket(false).await {
                    Some(Ok(ServerEvent::SessionUpdated(updated))) => return Ok(updated.session),
                    Some(Err(err)) if err.is_api() => {
                        let api = err.api_error();
                        let ours = api
                            .and_then(|a| a.event_id.as_ref())
                            .is_some_and(|id| id.as_str() == event_id);
                        let about_session = api
                            .and_then(|a| a.param.as_deref())
                            .is_some_and(|p| p.starts_with("session"))
                            && api.is_some_and(|a| a.event_id.is_none());
                        if ours || about_session {
                            return Err(err
                                .set_kind(ErrorKind::SessionUpdate)
                                .with_message("the service refused it"));
                        }
                        // Not about this update: logged here, delivered later by `recv`.
                        tracing::warn!(session_id = %receiver.shared.session_id(), error = %err.report(), "Realtime error event");
                        kept.push_back(Err(err));
                    }
                    Some(other) => kept.push_back(other),
                    None => {
                        return Err(target
                            .error(ErrorKind::Closed)
                            .with_message("the session ended before `session.updated`"));
                    }
                }
            }
        };
        let result = tokio::time::timeout(self.update_timeout, wait).await;
        receiver.quiet = false;
        receiver.deferred.extend(kept);
        let reported = match result {
            Ok(Ok(session)) => session,
            Ok(Err(err)) => {
                tracing::error!(session_id = %self.session_id(), error = %err.report(), "session.update failed");
                return Err(err);
            }
            Err(_) => {
                let err = target.timeout("waiting for `session.updated`", self.update_timeout);
                tracing::error!(session_id = %self.session_id(), error = %err.report(), "session.update not confirmed");
                return Err(err);
            }
        };
        for (side, asked, got) in [
            ("input", asked_in, reported.input_format().cloned()),
            ("output", asked_out, reported.output_format().cloned()),
        ] {
            if let Some(asked) = asked {
                let same = got
                    .as_ref()
                    .is_some_and(|g| g.type_str() == asked.type_str());
                if !same {
                    let shown = |f: Option<&crate::AudioFormat>| {
                        f.and_then(crate::AudioFormat::type_str)
                            .unwrap_or("nothing")
                            .to_owned()
                    };
                    let err = target.error(ErrorKind::SessionUpdate).with_message(format!(
                        "asked for {side} audio {}, the service reports {}",
                        shown(Some(&asked)),
                        shown(got.as_ref())
                    ));
                    tracing::error!(session_id = %self.session_id(), error = %err.report(), "session.update mismatch");
                    self.session = reported;
                    return Err(err);
                }
            }
        }
        tracing::debug!(session_id = %self.session_id(), "session.updated confirmed");
        self.session = reported;
        Ok(&self.session)
    }

    /// Sends one client event. See [`Sender::send`].
    ///
    /// # Errors
    ///
    /// As [`Sender::send`].
    pub async fn send(&self, event: &ClientEvent) -> Result<(), Error> {
        self.sender.send(event).await
    }

    /// The next server event. See [`Receiver::recv`].
    pub async fn recv(&mut self) -> Option<Result<ServerEvent, Error>> {
        self.receiver.recv().await
    }

    /// Closes the session normally (1000).
    ///
    /// # Errors
    ///
    /// As [`Sender::close`].
    pub async fn close(&self) -> Result<(), Error> {
        self.sender.close().await
    }

    /// The two halves, for reading and writing at once.
    pub fn split(self) -> (Sender, Receiver) {
        (self.sender, self.receiver)
    }
}
