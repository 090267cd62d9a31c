//! A stand-in for the OpenAI Realtime service on a loopback port (feature `mock-server`).
//!
//! Faithful to the protocol reference, not to this crate's client: point any Realtime client
//! (your bot, a bridge, another SDK) at [`MockServer::url`] and it sees what the service does.
//!
//! - **Refusals like the service.** The upgrade succeeds (HTTP 101), then a bad or missing key
//!   gets `error` `invalid_api_key` and close 3000; the `OpenAI-Beta: realtime=v1` header gets
//!   `beta_api_shape_disabled` and close 4000 (unless [`MockServerBuilder::accept_beta`]); a
//!   retired or unknown model gets `model_not_found` and close 4004. On command
//!   ([`MockServer::refuse_upgrades`]) the upgrade itself is refused with an HTTP status and a
//!   JSON body.
//! - **Both dialects.** GA by default; beta when the beta header is accepted (or on the Azure
//!   preview path).
//! - **Validation like the service.** Bad JSON, unknown events, unknown or beta-only session
//!   fields (the whole update is refused and the session keeps `audio/pcm` 24 kHz), truncation
//!   past the audio sent, `response.create` during a response, a commit of less than 100 ms:
//!   each gets the service's `error` event, echoing the client's `event_id`.
//! - **Server VAD** on the caller's audio (energy over 10 ms frames, in PCM16, mu-law or
//!   A-law, with the session's threshold, prefix padding and silence duration): speech
//!   started/stopped, commit, the user item, an optional transcription, then a response.
//! - **Scripted responses** ([`Script`], [`Turn`]): audio (tone, silence or supplied bytes) in
//!   the session's output format with transcript deltas, function calls, `response.done` with
//!   usage; barge-in and `response.cancel` cancel as the service does.
//! - **Recording** of every frame each client sent ([`MockSession::received`]), with waits
//!   that time out ([`MockSession::wait_for`]), and commands into a live session (close with a
//!   code, send an error mid-call).
//! - **Stalls** ([`MockSession::stall`], [`MockSession::resume`]): the session stops reading
//!   and writing its socket (pings go unanswered, as on a half-open TCP path) and holds what
//!   it would send; resuming sends the backlog at once.
//!
//! - **Model lookups** on the same port: `GET /v1/models/{model}` answers the model object
//!   with its `shutdown_date` (the announced dates by default,
//!   [`MockServerBuilder::shutdown_date`] to change one), a 404 `model_not_found` for a
//!   model it does not know, a 401 for a bad key.
//! - **GPT-Live** on the same server, at [`LIVE_PATH`] ([`MockServer::live_url`]): the Live
//!   protocol with its own script ([`LiveScript`], [`LiveTurn`]) and session handles
//!   ([`MockLiveSession`]); see [`live`] for what it does and the choices it makes where the
//!   service's behaviour is not documented.
//! - **TLS** on demand ([`MockServerBuilder::tls_self_signed`]): `wss://` with a certificate
//!   made at start, for clients that trust [`MockServer::certificate_der`].
//! - **Load tests**: [`MockServerBuilder::record`] turns the per-frame log off, and a
//!   [`Tap`] sees each frame as it passes instead.
//!
//! The server runs on tasks of the current tokio runtime; dropping the [`MockServer`] stops
//! them and ends every session.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use openai_realtime::mock::{MockServer, Script, Turn};
//! use futures_util::{SinkExt, StreamExt};
//! use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = MockServer::builder()
//!     .api_key("sk-test")
//!     .script(Script::new().turn(Turn::speech("Hello!")))
//!     .start()
//!     .await?;
//!
//! // Any WebSocket client will do; this one is raw tungstenite.
//! let mut request = format!("{}?model=gpt-realtime-2.1", server.url()).into_client_request()?;
//! request.headers_mut().insert("authorization", "Bearer sk-test".parse()?);
//! let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
//!
//! let first = ws.next().await.unwrap()?;
//! assert!(first.to_text()?.contains(r#""type":"session.created""#));
//!
//! // Ask for an answer; the script says "Hello!" over a tone, then `response.done`.
//! ws.send(Message::text(r#"{"type":"response.create","event_id":"evt_1"}"#)).await?;
//! let mut transcript = String::new();
//! while let Some(frame) = ws.next().await {
//!     let event: serde_json::Value = serde_json::from_str(frame?.to_text()?)?;
//!     match event["type"].as_str() {
//!         Some("response.output_audio_transcript.delta") => {
//!             transcript.push_str(event["delta"].as_str().unwrap_or_default())
//!         }
//!         Some("response.done") => break,
//!         _ => {}
//!     }
//! }
//! assert_eq!(transcript, "Hello!");
//!
//! // A beta field in a GA update: refused whole, as the service does.
//! ws.send(Message::text(
//!     r#"{"type":"session.update","event_id":"evt_2","session":{"type":"realtime","input_audio_format":"g711_ulaw"}}"#,
//! )).await?;
//! let reply: serde_json::Value = serde_json::from_str(ws.next().await.unwrap()?.to_text()?)?;
//! assert_eq!(reply["error"]["code"], "unknown_parameter");
//! assert_eq!(reply["error"]["event_id"], "evt_2");
//!
//! // Everything the client sent is recorded, per session; the session kept its defaults.
//! let session = server.session(0, Duration::from_secs(5)).await?;
//! let update = session.wait_for("session.update", Duration::from_secs(5)).await?;
//! assert_eq!(update.refused.unwrap().param.as_deref(), Some("session.input_audio_format"));
//! assert_eq!(session.received_types(), ["response.create", "session.update"]);
//! assert_eq!(session.session_config()["audio"]["input"]["format"]["type"], "audio/pcm");
//! # Ok(())
//! # }
//! ```

mod audio;
mod engine;
mod handle;
pub mod live;
mod models;
mod response;
mod script;
mod server;
mod session_state;
mod tap;
mod tls;
mod vad;
mod wire;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub use handle::{Close, MockSession, Received, WaitError};
pub use live::{
    LIVE_MODELS, LIVE_PATH, LiveMockServerBuilderExt, LiveOutput, LiveReceived, LiveScript,
    LiveTurn, MockLiveSession,
};
pub use models::ModelLookup;
pub use script::{Audio, DeltaSchedule, Output, Pacing, Script, Turn};
pub use tap::Tap;

use server::{Settings, State};
use tap::TapFactory;
use tls::Tls;

/// Models the mock accepts by default: the current ones and the deprecated ones that still
/// work until 2027-01-20. Everything else (the retired `gpt-4o-realtime-preview*`, typos) gets
/// `model_not_found` and close 4004.
pub const ACCEPTED_MODELS: &[&str] = &[
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-2",
    "gpt-realtime-1.5",
    "gpt-realtime",
    "gpt-realtime-2025-08-28",
    "gpt-realtime-mini",
    "gpt-realtime-mini-2025-12-15",
];

/// How the mock checks credentials (the `Authorization: Bearer` header, Azure's `api-key`
/// header or query parameter, or the browser subprotocol `openai-insecure-api-key.<key>`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyCheck {
    /// Any non-empty key is accepted; a missing one is refused. The default.
    AnyNonEmpty,
    /// Only this key is accepted.
    Exact(String),
    /// No credential needed.
    None,
}

/// An HTTP refusal of the upgrade: a status, a JSON body and any extra headers.
///
/// ```
/// use std::time::Duration;
/// use openai_realtime::mock::HttpRefusal;
///
/// let refusal = HttpRefusal::rate_limited().with_retry_after(Duration::from_secs(20));
/// assert_eq!(refusal.status(), 429);
/// assert_eq!(refusal.headers(), [("retry-after".to_owned(), "20".to_owned())]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRefusal {
    status: u16,
    body: Value,
    headers: Vec<(String, String)>,
}

impl HttpRefusal {
    /// Any status and body.
    pub fn new(status: u16, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// Adds a header to the refusal (a name or value that HTTP does not allow is skipped
    /// when the refusal is sent).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Retry-After` in whole seconds, as the service sends with a 429.
    #[must_use]
    pub fn with_retry_after(self, after: Duration) -> Self {
        self.with_header("retry-after", after.as_secs().to_string())
    }

    /// The extra headers, in order.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// A body in the OpenAI error shape: `{"error":{"message","type","param","code"}}`.
    pub fn openai(status: u16, kind: &str, code: Option<&str>, message: &str) -> Self {
        Self::new(
            status,
            json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
        )
    }

    /// 401 with `invalid_api_key`.
    pub fn unauthorized() -> Self {
        Self::openai(
            401,
            "invalid_request_error",
            Some("invalid_api_key"),
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
        )
    }

    /// 403: the key's project has no access to the model.
    pub fn forbidden() -> Self {
        Self::openai(
            403,
            "invalid_request_error",
            Some("model_not_found"),
            "The model does not exist or you do not have access to it.",
        )
    }

    /// 429 with `rate_limit_exceeded`.
    pub fn rate_limited() -> Self {
        Self::openai(
            429,
            "requests",
            Some("rate_limit_exceeded"),
            "Rate limit reached for requests. Please try again later.",
        )
    }

    /// 429 with `insufficient_quota`.
    pub fn insufficient_quota() -> Self {
        Self::openai(
            429,
            "insufficient_quota",
            Some("insufficient_quota"),
            "You exceeded your current quota, please check your plan and billing details.",
        )
    }

    /// The status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body.
    pub fn body(&self) -> &Value {
        &self.body
    }
}

/// Settings of a [`MockServer`], then [`MockServerBuilder::start`].
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    settings: Settings,
    tls: bool,
}

impl MockServerBuilder {
    /// Accept only this key (default: any non-empty key).
    #[must_use]
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.settings.key = KeyCheck::Exact(key.into());
        self
    }

    /// Sets the credential check.
    #[must_use]
    pub fn key_check(mut self, check: KeyCheck) -> Self {
        self.settings.key = check;
        self
    }

    /// Speak the beta dialect to clients that send `OpenAI-Beta: realtime=v1`, instead of
    /// refusing them as the service does today. For testing against recorded traffic or
    /// beta-compatible servers.
    #[must_use]
    pub fn accept_beta(mut self, accept: bool) -> Self {
        self.settings.accept_beta = accept;
        self
    }

    /// The models (or Azure deployments) the mock accepts (default [`ACCEPTED_MODELS`]).
    #[must_use]
    pub fn models<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.models = models.into_iter().map(Into::into).collect();
        self
    }

    /// The `shutdown_date` that `GET /v1/models/{model}` reports for `model` (`None`: no
    /// date), instead of the announced one
    /// ([`ANNOUNCED_SHUTDOWNS`](crate::models::ANNOUNCED_SHUTDOWNS)); the model becomes
    /// known to the lookup if it was not. A date in the past makes a model already retired.
    ///
    /// The lookup knows the accepted [`models`](Self::models), the models with an
    /// announced date and the GPT-Live ones; another model gets the service's 404
    /// (`model_not_found`). The key is checked as for the WebSocket (a 401 in the
    /// service's words). The WebSocket is not affected: the mock still accepts the model.
    ///
    /// ```
    /// use openai_realtime::mock::MockServer;
    /// use openai_realtime::models::Date;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = MockServer::builder()
    ///     .shutdown_date("gpt-realtime-2.1", Date::new(2026, 1, 1))
    ///     .start()
    ///     .await?;
    /// assert!(server.models_url().ends_with("/v1/models"));
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn shutdown_date(
        mut self,
        model: impl Into<String>,
        date: Option<crate::models::Date>,
    ) -> Self {
        let model = model.into();
        let dates = &mut self.settings.catalogue.dates;
        dates.retain(|(id, _)| *id != model);
        dates.push((model, date));
        self
    }

    /// The responses every session plays (default: [`Script::new`]).
    #[must_use]
    pub fn script(mut self, script: Script) -> Self {
        self.settings.script = script;
        self
    }

    /// How long a session lasts before `session_expired` (default 60 minutes, as the service).
    #[must_use]
    pub fn max_session_duration(mut self, duration: Duration) -> Self {
        self.settings.max_session_duration = duration;
        self
    }

    /// Serves `wss://` (TLS 1.2 and 1.3 with rustls and ring) with a self-signed certificate
    /// for `localhost` and `127.0.0.1`, made at [`start`](Self::start). Clients trust it with
    /// [`MockServer::certificate_der`] (for this crate's client:
    /// [`Config::with_root_certificate_der`](crate::client::Config::with_root_certificate_der)).
    #[must_use]
    pub fn tls_self_signed(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Keeps the session log: every frame received and sent, with the received ones decoded
    /// (default `true`). Turn it off for load tests: the log grows with every frame and
    /// decoding each one twice costs CPU. Without it [`MockSession::received`],
    /// [`MockSession::sent`] and [`MockSession::wait_for`] see nothing; closes, the session
    /// configuration and [`MockSession::is_ended`] are still kept.
    #[must_use]
    pub fn record(mut self, record: bool) -> Self {
        self.settings.record = record;
        self
    }

    /// Gives each session a [`Tap`] made by `make`, which sees every text frame as it passes.
    #[must_use]
    pub fn tap<F, T>(mut self, make: F) -> Self
    where
        F: Fn(&MockSession) -> T + Send + Sync + 'static,
        T: Tap + 'static,
    {
        self.settings.tap = Some(TapFactory::new(make));
        self
    }

    /// Binds 127.0.0.1 on a free port and starts accepting.
    ///
    /// # Errors
    ///
    /// The bind failed, or (with TLS) the certificate could not be made.
    pub async fn start(self) -> io::Result<MockServer> {
        let tls = if self.tls {
            Some(Tls::self_signed()?)
        } else {
            None
        };
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State::new(self.settings));
        let acceptor = tls.as_ref().map(|tls| tls.acceptor.clone());
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&state), acceptor));
        tracing::debug!(%addr, tls = tls.is_some(), "mock Realtime server listening");
        Ok(MockServer {
            addr,
            state,
            task,
            tls,
        })
    }
}

/// A running mock of the Realtime service. Dropping it stops the server and its sessions.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<State>,
    task: JoinHandle<()>,
    tls: Option<Tls>,
}

impl MockServer {
    /// A server with the default settings.
    ///
    /// # Errors
    ///
    /// The bind failed.
    pub async fn start() -> io::Result<Self> {
        Self::builder().start().await
    }

    /// Settings first.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder {
            settings: Settings {
                key: KeyCheck::AnyNonEmpty,
                accept_beta: false,
                models: ACCEPTED_MODELS.iter().map(|m| (*m).to_owned()).collect(),
                script: Script::new(),
                max_session_duration: Duration::from_secs(60 * 60),
                record: true,
                tap: None,
                catalogue: models::Catalogue::default(),
                live: live::LiveSettings::default(),
            },
            tls: false,
        }
    }

    /// `ws://127.0.0.1:<port>/v1/realtime` (`wss://` with TLS); add `?model=…` or let the
    /// client add it.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}/v1/realtime", self.addr)
    }

    /// `http://127.0.0.1:<port>/v1/models` (`https://` with TLS): the models endpoint on
    /// the same port; `GET …/{model}` answers one model.
    pub fn models_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}/v1/models", self.addr)
    }

    /// Every request the models endpoint answered, oldest first.
    pub fn model_lookups(&self) -> Vec<ModelLookup> {
        self.state
            .settings
            .catalogue
            .lookups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// With [`MockServerBuilder::tls_self_signed`]: the server's self-signed certificate
    /// (DER), for a client to trust. `None` without TLS.
    ///
    /// With this crate's client, hand it to
    /// [`Config::with_root_certificate_der`](crate::client::Config::with_root_certificate_der):
    ///
    /// ```
    /// use openai_realtime::mock::MockServer;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let server = MockServer::builder().tls_self_signed().start().await?;
    /// assert!(server.url().starts_with("wss://127.0.0.1:"));
    /// let certificate = server.certificate_der().expect("a TLS server");
    /// // A client: `Config::url(server.url()).with_root_certificate_der(certificate)`.
    /// assert!(!certificate.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.tls.as_ref().map(|tls| tls.certificate.as_ref())
    }

    /// With TLS: a rustls root store holding only the server's certificate. `None` without
    /// TLS.
    ///
    /// Feature `rustls-0_23`: the type is rustls 0.23's and follows rustls's versions, not
    /// this crate's.
    #[cfg(feature = "rustls-0_23")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls-0_23")))]
    pub fn root_certificates(&self) -> Option<rustls::RootCertStore> {
        self.tls.as_ref().map(Tls::roots)
    }

    /// With TLS: the server's self-signed certificate as rustls's type.
    ///
    /// Feature `rustls-0_23`: the type is rustls 0.23's and follows rustls's versions, not
    /// this crate's.
    #[cfg(feature = "rustls-0_23")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls-0_23")))]
    pub fn certificate(&self) -> Option<&rustls::pki_types::CertificateDer<'static>> {
        self.tls.as_ref().map(|tls| &tls.certificate)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Refuses every upgrade from now on with this status and body (until
    /// [`MockServer::accept_upgrades`]).
    pub fn refuse_upgrades(&self, refusal: HttpRefusal) {
        *self.state.refusal.lock().unwrap_or_else(|e| e.into_inner()) = Some(refusal);
    }

    /// Accepts upgrades again.
    pub fn accept_upgrades(&self) {
        *self.state.refusal.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// How many connections ended before or at the upgrade (HTTP refusals included).
    pub fn refused_upgrades(&self) -> usize {
        self.state.refused.load(Ordering::SeqCst)
    }

    /// Every session so far (upgraded sockets, refused-after-upgrade ones included), oldest
    /// first.
    pub fn sessions(&self) -> Vec<MockSession> {
        self.state
            .sessions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Waits for the `index`-th session (from 0).
    ///
    /// # Errors
    ///
    /// [`WaitError`] after `timeout`.
    pub async fn session(&self, index: usize, timeout: Duration) -> Result<MockSession, WaitError> {
        let wait = async {
            loop {
                let notified = self.state.changed.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(session) = self.sessions().get(index) {
                    return session.clone();
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.map_err(|_| {
            WaitError::new(
                format!("session #{index}"),
                timeout,
                format!("{} sessions", self.sessions().len()),
            )
        })
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
