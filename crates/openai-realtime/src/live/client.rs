//! An async client for GPT-Live over WebSocket (feature `client`, on by default).
//!
//! The same machinery as the [Realtime client](crate::client) (its TCP and TLS, the
//! credential headers written below tungstenite so no key reaches a log line at any level,
//! keepalive, and its one [`Error`] type with advice), speaking Live's own handshake:
//!
//! 1. open `wss://api.openai.com/v1/live/sessions` (no query; configurable),
//! 2. send `session.start` with your [`SessionConfig`] (the model travels there),
//! 3. wait for `session.started` (bounded by [`Config::with_start_timeout`]),
//! 4. hand back a [`Connection`] that splits into a [`Sender`] and a [`Receiver`],
//! 5. end with `session.close` and wait for `session.closed` (bounded by
//!    [`Config::with_close_timeout`]), which carries the reason and the final usage.
//!
//! Every refusal and every end is one [`Error`] saying what happened and what to do, with
//! the service's own words: a bad key (HTTP 401, or `invalid_api_key`), no access to the
//! model or an unknown model (`model_not_found`), a field the strict session config refuses
//! (`unknown_parameter` and its `param`), `session.closed` for another reason than asked
//! ([`Error::session_closed`]: `expired`, `content`, `connection_lost`, …), a close code, a
//! socket that ended without `session.closed`. A Realtime model or the Realtime path given
//! here fails before anything is sent ([`KnownIssue::RealtimeOnLive`]), as a Live model
//! given to the Realtime client does ([`KnownIssue::LiveOnRealtime`]).
//!
//! [`KnownIssue::RealtimeOnLive`]: crate::client::KnownIssue::RealtimeOnLive
//! [`KnownIssue::LiveOnRealtime`]: crate::client::KnownIssue::LiveOnRealtime
//!
//! # Example
//!
//! ```no_run
//! use openai_realtime::client::ApiKey;
//! use openai_realtime::live::client::{Config, Connection};
//! use openai_realtime::live::{ClientEvent, ServerEvent, SessionConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = ApiKey::from_env("OPENAI_API_KEY").ok_or("set OPENAI_API_KEY")?;
//! let session = SessionConfig::phone_call().with_instructions("You book dental appointments.");
//! let conn = Connection::connect(Config::openai(key), session).await?; // session.started
//! let (tx, mut rx) = conn.split();
//! tx.send(&ClientEvent::input_audio_append("//////////8=")).await?; // G.711 as is
//! while let Some(event) = rx.recv().await {
//!     match event {
//!         Ok(ServerEvent::OutputAudioDelta(audio)) => { let _ = audio.delta; }
//!         Ok(ServerEvent::SessionClosed(closed)) => println!("ended: {}", closed.reason),
//!         Ok(_) => {}
//!         Err(err) if err.is_fatal() => return Err(err.into()),
//!         Err(err) => eprintln!("{err}"), // an `error` event; the session goes on
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::client::connect::{Target, Ws};
use crate::client::{ApiKey, CloseFrame, Error, ErrorKind, Provider};

use super::server_event::{LiveError, SessionClosed};
use super::{ClientEvent, CloseReason, ServerEvent, SessionConfig, SessionResource};

pub use crate::client::{DEFAULT_KEEPALIVE_INTERVAL, DEFAULT_KEEPALIVE_TIMEOUT};

/// The GPT-Live models the service offers today, newest first. Named in the advice of a
/// `model_not_found` refusal and of a Realtime model given to this client.
pub const MODELS: &[&str] = &["gpt-live-1.1", "gpt-live-1"];

/// How long [`Connection::close`] and a [`Sender::close_session`] wait for `session.closed`
/// (see [`Config::with_close_timeout`]): 10 s. Clients of the service wait 5 to 15 s; the
/// event carries the final usage, so it is worth the wait at the end of a call.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

const OPENAI_URL: &str = "wss://api.openai.com/v1/live/sessions";

/// Error codes after which the service ends the session (admission and billing).
const FATAL_CODES: &[&str] = &[
    "invalid_api_key",
    "model_not_found",
    "invalid_model",
    "insufficient_quota",
    "credit_balance_exhausted",
    "account_deactivated",
    "billing_hard_limit_reached",
];

/// Where and how to connect to GPT-Live: endpoint, credential, headers and timings. The
/// model and everything else about the session is the [`SessionConfig`] given to
/// [`Connection::connect`].
///
/// ```
/// use std::time::Duration;
/// use openai_realtime::client::ApiKey;
/// use openai_realtime::live::client::Config;
///
/// let config = Config::openai(ApiKey::new("sk-test"))
///     .with_project("proj_123")
///     .with_close_timeout(Duration::from_secs(5));
/// assert_eq!(config.request_url().unwrap().as_str(), "wss://api.openai.com/v1/live/sessions");
/// // The key never shows up in Debug output.
/// assert!(!format!("{config:?}").contains("sk-test"));
/// ```
#[derive(Clone)]
pub struct Config {
    inner: crate::client::Config,
    close_timeout: Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let headers: Vec<(&str, &str)> = i
            .headers
            .iter()
            .map(|(name, value)| {
                let secret = crate::client::connect::is_secret_header(name);
                (name.as_str(), if secret { "<redacted>" } else { value })
            })
            .collect();
        f.debug_struct("live::client::Config")
            .field("endpoint", &i.endpoint)
            .field("provider", &i.provider)
            .field("api_key", &i.api_key)
            .field("headers", &headers)
            .field("keepalive", &i.keepalive)
            .field("keepalive_timeout", &i.keepalive_timeout)
            .field("connect_timeout", &i.connect_timeout)
            .field("start_timeout", &i.first_event_timeout)
            .field("close_timeout", &self.close_timeout)
            .field("error_close_grace", &i.close_grace)
            .field("max_message_size", &i.max_message_size)
            .field("tls", &i.tls)
            .finish()
    }
}

impl Config {
    fn new(endpoint: String, provider: Provider, api_key: Option<ApiKey>) -> Self {
        Self {
            inner: crate::client::Config::live(endpoint, provider, api_key),
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
        }
    }

    /// OpenAI at `wss://api.openai.com/v1/live/sessions`, with `Authorization: Bearer <key>`.
    pub fn openai(api_key: ApiKey) -> Self {
        Self::new(OPENAI_URL.to_owned(), Provider::OpenAi, Some(api_key))
    }

    /// Azure OpenAI (Foundry), which hosts the same protocol:
    /// `wss://<resource>.openai.azure.com/openai/v1/live/sessions` with an `api-key` header.
    pub fn azure(resource: &str, api_key: ApiKey) -> Self {
        let endpoint = format!("wss://{resource}.openai.azure.com/openai/v1/live/sessions");
        Self::new(endpoint, Provider::Azure, Some(api_key))
    }

    /// Any endpoint that speaks Live: a mock server on loopback, a proxy. No credential is
    /// sent unless one is set with [`Config::with_api_key`]; the URL is used as given.
    pub fn url(url: impl Into<String>) -> Self {
        Self::new(url.into(), Provider::OpenAi, None)
    }

    /// Sets the credential (Bearer; `api-key` for [`Config::azure`]).
    #[must_use]
    pub fn with_api_key(mut self, api_key: ApiKey) -> Self {
        self.inner = self.inner.with_api_key(api_key);
        self
    }

    /// Replaces the endpoint URL, keeping the credential shape.
    #[must_use]
    pub fn with_endpoint(mut self, url: impl Into<String>) -> Self {
        self.inner = self.inner.with_endpoint(url);
        self
    }

    /// Adds `OpenAI-Organization`.
    #[must_use]
    pub fn with_organization(mut self, organization: impl Into<String>) -> Self {
        self.inner = self.inner.with_organization(organization);
        self
    }

    /// Adds `OpenAI-Project`.
    #[must_use]
    pub fn with_project(mut self, project: impl Into<String>) -> Self {
        self.inner = self.inner.with_project(project);
        self
    }

    /// Adds any header to the upgrade request; credential headers are redacted in `Debug`
    /// and written below tungstenite, as the key is.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.inner = self.inner.with_header(name, value);
        self
    }

    /// Ping interval; `None` turns keepalive off. Default [`DEFAULT_KEEPALIVE_INTERVAL`].
    /// See the Realtime [`Config::with_keepalive`](crate::client::Config::with_keepalive).
    #[must_use]
    pub fn with_keepalive(mut self, interval: Option<Duration>) -> Self {
        self.inner = self.inner.with_keepalive(interval);
        self
    }

    /// How long the receiver waits for any frame (an event or a pong) before it ends the
    /// session as dead. Default [`DEFAULT_KEEPALIVE_TIMEOUT`]. Live's output is a continuous
    /// track, so a live session is never quiet for long.
    #[must_use]
    pub fn with_keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.with_keepalive_timeout(timeout);
        self
    }

    /// Limit for TCP, TLS and the HTTP upgrade together. Default 10 s.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.with_connect_timeout(timeout);
        self
    }

    /// Limit for `session.started` to answer `session.start`. Default 10 s.
    #[must_use]
    pub fn with_start_timeout(mut self, timeout: Duration) -> Self {
        self.inner = self.inner.with_first_event_timeout(timeout);
        self
    }

    /// Limit for `session.closed` to answer `session.close`. Default
    /// [`DEFAULT_CLOSE_TIMEOUT`]; past it the session ends with a
    /// [timeout](ErrorKind::Timeout) (its finalisation unconfirmed).
    #[must_use]
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// How long to wait for the close frame after a fatal `error` event, so that both reach
    /// the caller as one error. Default 1 s.
    #[must_use]
    pub fn with_error_close_grace(mut self, grace: Duration) -> Self {
        self.inner = self.inner.with_close_grace(grace);
        self
    }

    /// Largest accepted WebSocket message. Default 32 MiB.
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.inner = self.inner.with_max_message_size(bytes);
        self
    }

    /// Trusts this root certificate (DER) for `wss://` instead of the built-in roots.
    #[must_use]
    pub fn with_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.inner = self.inner.with_root_certificate_der(der);
        self
    }

    /// Trusts the root certificates of this PEM text for `wss://`.
    #[must_use]
    pub fn with_root_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.inner = self.inner.with_root_certificates_pem(pem);
        self
    }

    /// Uses this rustls configuration for `wss://` (feature `rustls-0_23`).
    #[cfg(feature = "rustls-0_23")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls-0_23")))]
    #[must_use]
    pub fn with_tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.inner = self.inner.with_tls_config(config);
        self
    }

    /// The URL the client will open; it never contains the key.
    ///
    /// # Errors
    ///
    /// A URL that does not parse, or whose scheme is not `ws`/`wss`.
    pub fn request_url(&self) -> Result<url::Url, Error> {
        self.inner.request_url()
    }
}

/// How a session ended, for the sender half's errors.
#[derive(Debug, Clone, Default)]
struct End {
    close: Option<CloseFrame>,
    api: Option<crate::ApiError>,
}

/// State both halves see.
#[derive(Debug)]
struct Shared {
    sink: tokio::sync::Mutex<SplitSink<Ws, Message>>,
    target: Target,
    close_grace: Duration,
    close_timeout: Duration,
    /// No more sends (session.close sent, or the session ended).
    closing: AtomicBool,
    /// When `session.close` went out.
    close_requested: Mutex<Option<Instant>>,
    requested: Notify,
    /// We sent the WebSocket close.
    we_closed: AtomicBool,
    end: Mutex<Option<End>>,
    ended: Notify,
    /// Unix seconds; 0 while unknown.
    expires_at: AtomicU64,
    session_id: String,
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

    fn close_requested(&self) -> Option<Instant> {
        *self
            .close_requested
            .lock()
            .unwrap_or_else(|e| e.into_inner())
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

/// The writing half of a Live session; [`Sender::send`] takes `&self`.
///
/// Once the session ends (or [`Sender::close_session`] was sent), every send fails at once
/// with the cause instead of writing into a dead socket.
#[derive(Debug)]
pub struct Sender {
    shared: Arc<Shared>,
}

impl Sender {
    /// Encodes and sends one client event.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Local`] when the session is closing or closed (with the close frame and
    /// the service's error when known), [`ErrorKind::Transport`] when the socket fails.
    pub async fn send(&self, event: &ClientEvent) -> Result<(), Error> {
        self.send_text(event.encode(), event.event_type()).await
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
        self.write(text, event_type, ended).await
    }

    async fn write(
        &self,
        text: String,
        event_type: &str,
        ended: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
    ) -> Result<(), Error> {
        let send = async {
            self.shared
                .sink
                .lock()
                .await
                .send(Message::text(text))
                .await
        };
        let result = tokio::select! {
            result = send => result,
            () = ended => return Err(self.closed_error(event_type)),
        };
        result.map_err(|e| {
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
            tracing::warn!(session_id = %self.shared.session_id, event_type, error = %err.report(), "Live send failed");
            err
        })
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

    /// Sends `session.close`: the service finalises the session and answers
    /// `session.closed`, which the [`Receiver`] yields (reason `close_requested`) before it
    /// ends. Later sends fail. The receiver waits at most the
    /// [close timeout](Config::with_close_timeout) for it.
    ///
    /// # Errors
    ///
    /// As [`Sender::send`]; a second call fails with [`ErrorKind::Local`].
    pub async fn close_session(&self) -> Result<(), Error> {
        let ended = self.shared.ended.notified();
        tokio::pin!(ended);
        ended.as_mut().enable();
        if self.shared.closing.swap(true, Ordering::SeqCst) {
            return Err(self.closed_error("session.close"));
        }
        let event = ClientEvent::session_close().with_event_id("evt_session_close");
        self.write(event.encode(), "session.close", ended).await?;
        *self
            .shared
            .close_requested
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        self.shared.requested.notify_waiters();
        tracing::debug!(session_id = %self.shared.session_id, "Live session.close sent");
        Ok(())
    }

    /// Closes the WebSocket (code 1000) without `session.close`: the session's end is then
    /// unconfirmed. Prefer [`Sender::close_session`] (or [`Connection::close`]).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Transport`] when the close frame cannot be written.
    pub async fn close(&self) -> Result<(), Error> {
        self.shared.closing.store(true, Ordering::SeqCst);
        if self.shared.we_closed.swap(true, Ordering::SeqCst) {
            // Closed already (the receiver closes the socket after `session.closed`).
            return Ok(());
        }
        let frame = tungstenite::protocol::CloseFrame {
            code: tungstenite::protocol::frame::coding::CloseCode::Normal,
            reason: "".into(),
        };
        let mut sink = self.shared.sink.lock().await;
        match sink.send(Message::Close(Some(frame))).await {
            Ok(())
            | Err(
                tungstenite::Error::ConnectionClosed
                | tungstenite::Error::AlreadyClosed
                | tungstenite::Error::Protocol(tungstenite::error::ProtocolError::SendAfterClosing),
            ) => Ok(()),
            Err(e) => Err(self
                .shared
                .target
                .error(ErrorKind::Transport)
                .with_ws_source(e)),
        }
    }

    /// Whether the session is closing or closed; stop sending audio when it is.
    pub fn is_closing(&self) -> bool {
        self.shared.closing.load(Ordering::SeqCst)
    }

    /// The session id (`live_…`) of `session.started`.
    pub fn session_id(&self) -> &str {
        &self.shared.session_id
    }

    /// When the service ends the session (`expires_at` of `session.started`).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.shared.expires_at()
    }

    /// Time until [`Sender::expires_at`] (zero once passed).
    pub fn time_left(&self) -> Option<Duration> {
        time_left(self.shared.expires_at())
    }
}

/// What one frame amounted to.
#[allow(clippy::large_enum_variant)]
enum Step {
    Yield(Result<ServerEvent, Error>),
    Continue,
    End,
}

/// The reading half of a Live session.
///
/// [`Receiver::recv`] yields each server event; an `error` event comes as an `Err` of kind
/// [`ErrorKind::Api`] and the session goes on. `session.closed` with reason
/// `close_requested` comes as the last `Ok`, then `recv` returns `None`. Any other end is one
/// `Err` carrying everything known, then `None`: `session.closed` for another reason
/// ([`Error::session_closed`], with advice), an `error` and a close, a close or a lost socket
/// without `session.closed`, a keepalive timeout, or no `session.closed` within the
/// [close timeout](Config::with_close_timeout) after `session.close`.
///
/// The receiver also sends the keepalive pings, so keep polling it.
#[derive(Debug)]
pub struct Receiver {
    stream: SplitStream<Ws>,
    shared: Arc<Shared>,
    deferred: VecDeque<Result<ServerEvent, Error>>,
    last_error: Option<LiveError>,
    keepalive: Option<Duration>,
    keepalive_timeout: Duration,
    last_rx: Instant,
    last_ping: Instant,
    done: bool,
    /// Inside `connect`, which logs the error it returns itself.
    quiet: bool,
}

impl Receiver {
    /// The next server event, `Err` for an `error` event or an end that was not asked for,
    /// `None` once the session is over.
    pub async fn recv(&mut self) -> Option<Result<ServerEvent, Error>> {
        if let Some(item) = self.deferred.pop_front() {
            return Some(item);
        }
        self.next_from_socket(false).await
    }

    /// Turns the receiver into a `Stream` of the same items.
    pub fn into_stream(
        self,
    ) -> impl futures_util::Stream<Item = Result<ServerEvent, Error>> + Send {
        futures_util::stream::unfold(self, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        })
    }

    /// The session id (`live_…`).
    pub fn session_id(&self) -> &str {
        &self.shared.session_id
    }

    /// When the service ends the session (`expires_at` of `session.started`).
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.shared.expires_at()
    }

    /// The close frame that ended the WebSocket, once it has ended with one.
    pub fn close_frame(&self) -> Option<CloseFrame> {
        self.shared.end()?.close
    }

    async fn next_from_socket(&mut self, handshake: bool) -> Option<Result<ServerEvent, Error>> {
        if self.done {
            return None;
        }
        loop {
            let keepalive_at = self
                .keepalive
                .map(|every| (self.last_ping + every).min(self.last_rx + self.keepalive_timeout));
            // Registered before the deadline is read, so a `session.close` sent in between
            // still wakes this wait.
            let shared = Arc::clone(&self.shared);
            let requested = shared.requested.notified();
            tokio::pin!(requested);
            requested.as_mut().enable();
            let close_by = self
                .shared
                .close_requested()
                .map(|at| at + self.shared.close_timeout);
            let frame = tokio::select! {
                frame = self.stream.next() => frame,
                () = sleep_until(keepalive_at) => {
                    if let Some(err) = self.keepalive_tick().await {
                        return Some(Err(err));
                    }
                    continue;
                }
                () = sleep_until(close_by) => {
                    return Some(Err(self.close_timed_out().await));
                }
                // `session.close` just went out: wait for its answer with a deadline.
                () = requested, if close_by.is_none() => continue,
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

    /// No `session.closed` within the close timeout of `session.close`.
    async fn close_timed_out(&mut self) -> Error {
        let err = self.shared.target.timeout(
            "waiting for `session.closed` after `session.close` (the session's end is unconfirmed)",
            self.shared.close_timeout,
        );
        tracing::warn!(session_id = %self.shared.session_id, error = %err.report(), "Live session.closed did not come");
        self.shared.finish(End::default());
        self.done = true;
        self.complete_close().await;
        err
    }

    /// Finishes the closing handshake (sends our close, or the reply to the service's);
    /// bounded by the close grace.
    async fn complete_close(&mut self) {
        self.shared.we_closed.store(true, Ordering::SeqCst);
        let close = async {
            let mut sink = self.shared.sink.lock().await;
            // A normal close with its code (1000); after the service's own close frame
            // tungstenite has answered it already and this send is refused, harmlessly.
            let frame = tungstenite::protocol::CloseFrame {
                code: tungstenite::protocol::frame::coding::CloseCode::Normal,
                reason: "".into(),
            };
            let _ = sink.send(Message::Close(Some(frame))).await;
            let _ = sink.close().await;
        };
        let _ = tokio::time::timeout(self.shared.close_grace, close).await;
    }

    async fn keepalive_tick(&mut self) -> Option<Error> {
        let every = self.keepalive?;
        let now = Instant::now();
        let dead_at = self.last_rx + self.keepalive_timeout;
        if now >= dead_at {
            let silent = now.duration_since(self.last_rx);
            let err = self.shared.target.timeout(
                format!(
                    "waiting for any frame or a pong from the service (keepalive pings every {every:?})"
                ),
                silent,
            );
            if !self.quiet {
                tracing::error!(session_id = %self.shared.session_id, silent_ms = silent.as_millis() as u64, error = %err.report(), "Live keepalive timed out");
            }
            self.shared.finish(End::default());
            self.done = true;
            return Some(err);
        }
        if now < self.last_ping + every {
            return None;
        }
        self.last_ping = now;
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
            Some(Ok(Message::Close(frame))) => self.on_close(close_frame(frame), handshake),
            Some(Ok(Message::Binary(bytes))) => {
                tracing::warn!(session_id = %self.shared.session_id, len = bytes.len(), "Live: skipping a binary frame (the protocol sends JSON text only)");
                Step::Continue
            }
            Some(Ok(_)) => Step::Continue,
            Some(Err(
                tungstenite::Error::ConnectionClosed
                | tungstenite::Error::AlreadyClosed
                | tungstenite::Error::Protocol(
                    tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                ),
            ))
            | None => self.on_close(
                CloseFrame::new(1006, "connection ended without a close frame"),
                handshake,
            ),
            Some(Err(e)) => {
                let err = self
                    .shared
                    .target
                    .error(if handshake {
                        ErrorKind::Rejected
                    } else {
                        ErrorKind::Transport
                    })
                    .with_api(self.last_error.take().map(|e| e.to_api_error()))
                    .with_ws_source(e);
                if !self.quiet {
                    tracing::error!(session_id = %self.shared.session_id, error = %err.report(), "Live socket failed");
                }
                self.shared.finish(End::default());
                self.done = true;
                Step::Yield(Err(err))
            }
        }
    }

    async fn on_text(&mut self, text: &str, handshake: bool) -> Step {
        let event = match ServerEvent::decode(text) {
            Ok(event) => event,
            Err(e) => {
                tracing::warn!(session_id = %self.shared.session_id, error = %e, "Live: undecodable server event");
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
            ServerEvent::Error(event) => self.on_error(event.error, handshake).await,
            ServerEvent::SessionClosed(closed) => self.on_session_closed(closed),
            event => {
                self.last_error = None;
                Step::Yield(Ok(event))
            }
        }
    }

    async fn on_error(&mut self, error: LiveError, handshake: bool) -> Step {
        let fatal = handshake || FATAL_CODES.contains(&error.code.as_str());
        if fatal {
            // A fatal error is followed by the close (or `session.closed`): wait for it so
            // both travel as one error.
            self.last_error = Some(error.clone());
            match tokio::time::timeout(self.shared.close_grace, self.stream.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    return self.on_close(close_frame(frame), handshake);
                }
                Ok(None | Some(Err(_))) => {
                    return self.on_close(
                        CloseFrame::new(1006, "connection ended without a close frame"),
                        handshake,
                    );
                }
                Ok(Some(Ok(other))) => {
                    let next = Box::pin(self.on_frame(Some(Ok(other)), handshake)).await;
                    match next {
                        // `session.closed` (or the close) carried the error with it.
                        Step::Yield(Err(err)) if err.is_fatal() => return Step::Yield(Err(err)),
                        Step::Yield(item) => self.deferred.push_back(item),
                        Step::End => return Step::End,
                        Step::Continue => {}
                    }
                }
                Err(_) => {}
            }
        }
        self.last_error = Some(error.clone());
        let kind = if handshake {
            ErrorKind::Rejected
        } else {
            ErrorKind::Api
        };
        let err = self
            .shared
            .target
            .error(kind)
            .with_api(Some(error.to_api_error()));
        if !self.quiet {
            tracing::warn!(session_id = %self.shared.session_id, error = %err.report(), "Live error event");
        }
        Step::Yield(Err(err))
    }

    fn on_session_closed(&mut self, closed: SessionClosed) -> Step {
        let api = self.last_error.take().map(|e| e.to_api_error());
        self.shared.finish(End {
            close: None,
            api: api.clone(),
        });
        self.done = true;
        if closed.reason == CloseReason::CloseRequested && api.is_none() {
            tracing::debug!(session_id = %self.shared.session_id, seconds = closed.usage.seconds(), "Live session closed");
            return Step::Yield(Ok(ServerEvent::SessionClosed(closed)));
        }
        let err = self
            .shared
            .target
            .error(ErrorKind::Closed)
            .with_api(api)
            .with_session_closed(closed);
        if !self.quiet {
            tracing::error!(session_id = %self.shared.session_id, error = %err.report(), "Live session ended");
        }
        Step::Yield(Err(err))
    }

    fn on_close(&mut self, close: CloseFrame, handshake: bool) -> Step {
        let api = self.last_error.take().map(|e| e.to_api_error());
        let we_closed = self.shared.we_closed.load(Ordering::SeqCst);
        self.shared.finish(End {
            close: Some(close.clone()),
            api: api.clone(),
        });
        self.done = true;
        if !handshake && we_closed && api.is_none() {
            tracing::debug!(session_id = %self.shared.session_id, %close, "Live WebSocket closed by us");
            return Step::End;
        }
        let (kind, message) = if handshake {
            (ErrorKind::Rejected, None)
        } else {
            (
                ErrorKind::Closed,
                Some(
                    "the socket closed without `session.closed` (the session's end is unconfirmed)",
                ),
            )
        };
        let mut err = self
            .shared
            .target
            .error(kind)
            .with_api(api)
            .with_close(Some(close));
        if let Some(message) = message {
            err = err.with_message(message);
        }
        if !self.quiet {
            tracing::error!(session_id = %self.shared.session_id, error = %err.report(), "Live session ended");
        }
        Step::Yield(Err(err))
    }
}

fn close_frame(frame: Option<tungstenite::protocol::CloseFrame>) -> CloseFrame {
    frame.map_or_else(
        || CloseFrame::new(1005, ""),
        |f| CloseFrame::new(u16::from(f.code), f.reason.as_str()),
    )
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A started GPT-Live session, both halves together.
///
/// [`Connection::connect`] returns once `session.started` arrived; send audio with
/// [`Connection::send`] (or [`split`](Connection::split) so one task reads while another
/// writes), end with [`Connection::close`]. No task is spawned: the receiver half does the
/// reading and the pings.
#[derive(Debug)]
pub struct Connection {
    sender: Sender,
    receiver: Receiver,
    session: SessionResource,
}

impl Connection {
    /// Connects, sends `session.start` with `session` and waits for `session.started`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] (a bad URL or header, or a Realtime model or path, refused
    /// before anything is sent), [`ErrorKind::Connect`], [`ErrorKind::Timeout`],
    /// [`ErrorKind::Refused`] (HTTP status and body: a bad key is a 401) or
    /// [`ErrorKind::Rejected`] (the `error` event and/or close that refused the session: an
    /// unknown model or one this project may not use, a field the strict config refuses),
    /// each with advice for known causes.
    pub async fn connect(config: Config, session: SessionConfig) -> Result<Self, Error> {
        let mut inner = config.inner;
        inner.model = session.model.as_str().to_owned();
        let (ws, target) = crate::client::connect::open(&inner).await?;
        let (mut sink, mut stream) = ws.split();
        let start = ClientEvent::session_start(session).with_event_id("evt_session_start");
        let now = Instant::now();
        let sent = tokio::time::timeout(
            inner.first_event_timeout,
            sink.send(Message::text(start.encode())),
        )
        .await;
        match sent {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                // The socket may already hold the refusal (an error and a close); read it.
                let err = match tokio::time::timeout(inner.close_grace, stream.next()).await {
                    Ok(Some(Ok(Message::Close(frame)))) => target
                        .error(ErrorKind::Rejected)
                        .with_close(Some(close_frame(frame))),
                    _ => target.error(ErrorKind::Rejected).with_ws_source(e),
                };
                tracing::error!(url = %target.url, error = %err.report(), "Live session refused");
                return Err(err);
            }
            Err(_) => {
                let err = target.timeout("sending `session.start`", inner.first_event_timeout);
                tracing::error!(url = %target.url, error = %err.report(), "Live session did not start");
                return Err(err);
            }
        }
        let shared = Arc::new(Shared {
            sink: tokio::sync::Mutex::new(sink),
            target: target.clone(),
            close_grace: inner.close_grace,
            close_timeout: config.close_timeout,
            closing: AtomicBool::new(false),
            close_requested: Mutex::new(None),
            requested: Notify::new(),
            we_closed: AtomicBool::new(false),
            end: Mutex::new(None),
            ended: Notify::new(),
            expires_at: AtomicU64::new(0),
            session_id: String::new(),
        });
        let mut receiver = Receiver {
            stream,
            shared,
            deferred: VecDeque::new(),
            last_error: None,
            keepalive: inner.keepalive,
            keepalive_timeout: inner.keepalive_timeout,
            last_rx: now,
            last_ping: now,
            done: false,
            quiet: true,
        };
        let first = async {
            let mut early = VecDeque::new();
            loop {
                match receiver.next_from_socket(true).await {
                    Some(Ok(ServerEvent::SessionStarted(started))) => {
                        return Ok((started.session, early));
                    }
                    Some(Ok(other)) => early.push_back(Ok(other)),
                    Some(Err(err)) if err.is_protocol() => early.push_back(Err(err)),
                    Some(Err(err)) if err.is_api() || err.is_closed() => {
                        return Err(err.set_kind(ErrorKind::Rejected));
                    }
                    Some(Err(err)) => return Err(err),
                    None => {
                        return Err(target
                            .error(ErrorKind::Rejected)
                            .with_message("the socket closed before `session.started`"));
                    }
                }
            }
        };
        let (session, early) = match tokio::time::timeout(inner.first_event_timeout, first).await {
            Ok(Ok(found)) => found,
            Ok(Err(err)) => {
                tracing::error!(
                    url = %target.url,
                    model = %target.model,
                    request_id = err.request_id().unwrap_or("-"),
                    error = %err.report(),
                    "Live session refused"
                );
                receiver.complete_close().await;
                return Err(err);
            }
            Err(_) => {
                let err =
                    target.timeout("waiting for `session.started`", inner.first_event_timeout);
                tracing::error!(url = %target.url, error = %err.report(), "Live session did not start");
                receiver.complete_close().await;
                return Err(err);
            }
        };
        // The session id is known now: rebuild the shared state around it (no other
        // reference exists yet).
        let shared = Arc::get_mut(&mut receiver.shared).expect("only the receiver holds it");
        shared.session_id = session.id.to_string();
        shared
            .expires_at
            .store(session.expires_at, Ordering::SeqCst);
        tracing::debug!(
            session_id = %session.id,
            model = %target.model,
            expires_at = session.expires_at,
            "Live session started"
        );
        receiver.deferred.extend(early);
        receiver.quiet = false;
        Ok(Self {
            sender: Sender {
                shared: Arc::clone(&receiver.shared),
            },
            receiver,
            session,
        })
    }

    /// The session as `session.started` reported it (id, model, format, voice, delegation,
    /// `expires_at`).
    pub fn session(&self) -> &SessionResource {
        &self.session
    }

    /// The session id (`live_…`).
    pub fn session_id(&self) -> &str {
        self.sender.session_id()
    }

    /// When the service ends the session.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.sender.expires_at()
    }

    /// Time until [`Connection::expires_at`] (zero once passed).
    pub fn time_left(&self) -> Option<Duration> {
        self.sender.time_left()
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

    /// Ends the session: sends `session.close`, waits (at most the
    /// [close timeout](Config::with_close_timeout)) for `session.closed`, and returns it,
    /// with its reason and the final usage. Events that arrive meanwhile are dropped.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Timeout`] without `session.closed` in time, [`ErrorKind::Closed`] when
    /// the session ended otherwise (another reason, a close without `session.closed`), or the
    /// send's error.
    pub async fn close(mut self) -> Result<SessionClosed, Error> {
        self.sender.close_session().await?;
        loop {
            match self.receiver.recv().await {
                Some(Ok(ServerEvent::SessionClosed(closed))) => return Ok(closed),
                Some(Ok(_)) => {}
                Some(Err(err)) if err.is_fatal() => return Err(err),
                Some(Err(_)) => {}
                None => {
                    return Err(self
                        .sender
                        .shared
                        .target
                        .error(ErrorKind::Closed)
                        .with_message("the session ended before `session.closed`"));
                }
            }
        }
    }

    /// The two halves, for reading and writing at once.
    pub fn split(self) -> (Sender, Receiver) {
        (self.sender, self.receiver)
    }
}

/// Connects with this configuration; the same as [`Connection::connect`].
///
/// # Errors
///
/// See [`Connection::connect`].
pub async fn connect(config: Config, session: SessionConfig) -> Result<Connection, Error> {
    Connection::connect(config, session).await
}
