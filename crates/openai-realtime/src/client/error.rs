//! The client's one error type: what happened, the peer's own words, and what to do.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use tokio_tungstenite::tungstenite;

use crate::ApiError;

use super::config::CURRENT_MODELS;

/// What went wrong, for matching. The details live on [`Error`].
///
/// Every kind except [`ErrorKind::Api`] and [`ErrorKind::Protocol`] ends the session: after it
/// the receiver yields `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The configuration cannot work (bad URL, bad header). Nothing was sent.
    Config,
    /// TCP, DNS or TLS failed before the service answered the upgrade.
    Connect,
    /// A deadline passed: connect, `session.created` (Live: `session.started`),
    /// `session.updated`, keepalive, or Live's `session.closed` after `session.close`.
    Timeout,
    /// The service answered the upgrade with an HTTP error ([`Error::status`],
    /// [`Error::body`]).
    Refused,
    /// The service accepted the upgrade, then refused the session: an `error` event and/or a
    /// close frame before `session.created` (Live: `session.started`)
    /// ([`Error::api_error`], [`Error::close_frame`]).
    Rejected,
    /// An `error` event during the session. The session stays open unless a close follows
    /// (then the error is [`ErrorKind::Closed`] and carries both).
    Api,
    /// The service closed the session with a failure code (anything but 1000/1001), or right
    /// after an `error` event, or the connection dropped without a close frame. On GPT-Live
    /// also a `session.closed` for another reason than `close_requested`
    /// ([`Error::session_closed`]: `expired`, `content`, …), and a socket that ended
    /// without any `session.closed`.
    Closed,
    /// `session.update` was refused (an `error` event for it) or the session did not take
    /// the audio formats it asked for.
    SessionUpdate,
    /// A frame from the service could not be used (malformed JSON of a known event, a binary
    /// frame). Logged and reported; the session goes on.
    Protocol,
    /// The socket failed mid-session (I/O error, WebSocket protocol violation).
    Transport,
    /// The session is already closing or closed on our side; nothing was sent.
    Local,
    /// A REST request ([`retrieve_model`](super::retrieve_model)) was answered with an HTTP
    /// error ([`Error::status`], [`Error::body`], [`Error::api_error`]).
    Lookup,
}

/// A close frame as received from the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloseFrame {
    code: u16,
    reason: String,
}

impl CloseFrame {
    pub(crate) fn new(code: u16, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }

    /// The close code, e.g. 4000, 4004, 3000, 1011; 1006 when the socket ended without one.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The close reason, e.g. `invalid_request_error.model_not_found`. May be empty.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// 1000 (normal) and 1001 (going away) are the only codes that are not failures.
    pub fn is_normal(&self) -> bool {
        matches!(self.code, 1000 | 1001)
    }
}

impl fmt::Display for CloseFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.reason.is_empty() {
            write!(f, "close {}", self.code)
        } else {
            write!(f, "close {} `{}`", self.code, self.reason)
        }
    }
}

/// A known cause of failure, with advice on what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KnownIssue {
    /// `beta_api_shape_disabled` / close 4000: the beta interface is retired.
    BetaRetired,
    /// `model_not_found` / close 4004: the model is retired, unknown or not available.
    ModelNotFound,
    /// `invalid_api_key` / close 3000, or HTTP 401 from OpenAI: bad or missing key.
    InvalidApiKey,
    /// HTTP 403: the key's account or project has no access to the model.
    NoModelAccess,
    /// HTTP 429 or `rate_limit_exceeded`.
    RateLimited,
    /// `insufficient_quota`.
    QuotaExceeded,
    /// `session_expired`: the 60-minute cap.
    SessionExpired,
    /// A `session.update` refused whole (`unknown_parameter`, `missing_required_parameter`,
    /// `invalid_value` on a `session.*` param); the session kept its previous settings.
    SessionUpdateRefused,
    /// `conversation_already_has_active_response`.
    ResponseAlreadyActive,
    /// Azure HTTP 400: usually a deployment that cannot do realtime.
    AzureBadRequest,
    /// Azure HTTP 401: bad `api-key` or token.
    AzureUnauthorized,
    /// Azure HTTP 404: bad resource, deployment or path.
    AzureNotFound,
    /// A GPT-Live model (`gpt-live-1`) or the Live path (`/v1/live/sessions`) given to the
    /// Realtime client, or the service's `invalid_model` for a Live model: refused before
    /// connecting where the client can tell.
    LiveOnRealtime,
    /// A Realtime model (`gpt-realtime…`) or the Realtime path (`/v1/realtime`) given to the
    /// GPT-Live client: refused before connecting.
    RealtimeOnLive,
    /// GPT-Live refused a member of the strict `session.start` configuration
    /// (`unknown_parameter`, `invalid_value`, … with a `session.…` param).
    SessionConfigRefused,
    /// GPT-Live ended the session with `session.closed` reason `content`: the safety filter.
    ContentFiltered,
    /// GPT-Live ended the session with `session.closed` reason `connection_lost`.
    ConnectionLost,
}

/// A failure of the Realtime client.
///
/// Opaque on purpose: ask it questions. [`Error::kind`] is for matching; the `is_*`
/// predicates, [`Error::status`], [`Error::body`], [`Error::close_frame`] and
/// [`Error::api_error`] give the peer's own words; [`Error::known_issue`] names a known cause.
/// `Display` says what happened and, for known causes, what to do. Neither `Display` nor
/// `Debug` ever contains the API key.
pub struct Error {
    inner: Box<Inner>,
}

struct Inner {
    kind: ErrorKind,
    message: Option<String>,
    url: Option<String>,
    model: Option<String>,
    request_id: Option<String>,
    azure: bool,
    /// The upgrade carried `OpenAI-Beta: realtime=v1`.
    beta_header: bool,
    status: Option<u16>,
    body: Option<String>,
    api: Option<ApiError>,
    close: Option<CloseFrame>,
    timeout: Option<Duration>,
    /// The `Retry-After` header of a refused upgrade, as sent.
    retry_after: Option<String>,
    /// A GPT-Live connection: the advice names Live's models and rules.
    live: bool,
    /// A cause the client found itself, before the service said anything.
    issue: Option<KnownIssue>,
    /// GPT-Live's terminal event, when it ended the session for another reason than asked.
    session_closed: Option<Box<crate::live::server_event::SessionClosed>>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    pub(crate) fn new(kind: ErrorKind) -> Self {
        Self {
            inner: Box::new(Inner {
                kind,
                message: None,
                url: None,
                model: None,
                request_id: None,
                azure: false,
                beta_header: false,
                status: None,
                body: None,
                api: None,
                close: None,
                timeout: None,
                retry_after: None,
                live: false,
                issue: None,
                session_closed: None,
                source: None,
            }),
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Config).with_message(message)
    }

    pub(crate) fn timeout(what: impl Into<String>, after: Duration) -> Self {
        let mut e = Self::new(ErrorKind::Timeout).with_message(what);
        e.inner.timeout = Some(after);
        e
    }

    pub(crate) fn with_message(mut self, message: impl Into<String>) -> Self {
        self.inner.message = Some(message.into());
        self
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        self.inner.source = Some(source.into());
        self
    }

    /// A tungstenite error as the cause, without the wrapper whose `Display` repeats its own
    /// source's text (`IO error: {0}`, `Space limit exceeded: {0}`, …): the cause is then
    /// the inner error itself, so a chain shows each text once.
    pub(crate) fn with_ws_source(self, error: tungstenite::Error) -> Self {
        use tungstenite::error::{ProtocolError, TlsError};
        match error {
            tungstenite::Error::Io(e) => self.with_source(e),
            tungstenite::Error::Capacity(e) => self.with_source(e),
            tungstenite::Error::Protocol(ProtocolError::HttparseError(e)) => self.with_source(e),
            tungstenite::Error::Protocol(e) => self.with_source(e),
            tungstenite::Error::Tls(TlsError::Rustls(e)) => self.with_source(*e),
            tungstenite::Error::Tls(e) => self.with_source(e),
            tungstenite::Error::Url(e) => self.with_source(e),
            tungstenite::Error::HttpFormat(e) => self.with_source(e),
            other => self.with_source(other),
        }
    }

    pub(crate) fn with_context(mut self, url: &str, model: &str, azure: bool) -> Self {
        self.inner.url = Some(url.to_owned());
        self.inner.model = Some(model.to_owned());
        self.inner.azure = azure;
        self
    }

    pub(crate) fn with_beta_header(mut self, beta_header: bool) -> Self {
        self.inner.beta_header = beta_header;
        self
    }

    pub(crate) fn with_request_id(mut self, request_id: Option<String>) -> Self {
        self.inner.request_id = request_id;
        self
    }

    pub(crate) fn with_http(mut self, status: u16, body: Option<String>) -> Self {
        self.inner.api = body.as_deref().and_then(api_error_from_body);
        self.inner.status = Some(status);
        self.inner.body = body;
        self
    }

    pub(crate) fn with_live(mut self, live: bool) -> Self {
        self.inner.live = live;
        self
    }

    pub(crate) fn with_issue(mut self, issue: KnownIssue) -> Self {
        self.inner.issue = Some(issue);
        self
    }

    pub(crate) fn with_session_closed(
        mut self,
        closed: crate::live::server_event::SessionClosed,
    ) -> Self {
        self.inner.session_closed = Some(Box::new(closed));
        self
    }

    pub(crate) fn with_retry_after(mut self, retry_after: Option<String>) -> Self {
        self.inner.retry_after = retry_after;
        self
    }

    pub(crate) fn with_api(mut self, api: Option<ApiError>) -> Self {
        if api.is_some() {
            self.inner.api = api;
        }
        self
    }

    pub(crate) fn with_close(mut self, close: Option<CloseFrame>) -> Self {
        if close.is_some() {
            self.inner.close = close;
        }
        self
    }

    pub(crate) fn set_kind(mut self, kind: ErrorKind) -> Self {
        self.inner.kind = kind;
        self
    }

    /// This error with its causes, for a log line or a message to a person: `Display` of an
    /// [`Error`] is its own text only (the cause is [`source`](StdError::source)), and this
    /// walks the chain, each text once.
    ///
    /// ```
    /// use openai_realtime::client::{Config, Connection};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// // A port nobody listens on: the connect fails with the OS's reason.
    /// let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    /// let url = format!("ws://127.0.0.1:{port}/v1/realtime");
    /// let err = Connection::connect(Config::url(&url)).await.unwrap_err();
    /// assert!(err.is_connect());
    /// assert_eq!(err.to_string(), format!("could not connect to {url}?model=gpt-realtime-2.1"));
    /// // The same, then the cause: `…: Connection refused (os error 111)`.
    /// assert!(err.report().to_string().starts_with(&err.to_string()));
    /// assert!(err.report().to_string().len() > err.to_string().len());
    /// # }
    /// ```
    pub fn report(&self) -> Report<'_> {
        Report(self)
    }

    /// What went wrong, for matching.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The configuration cannot work.
    pub fn is_config(&self) -> bool {
        self.inner.kind == ErrorKind::Config
    }

    /// TCP, DNS or TLS failed.
    pub fn is_connect(&self) -> bool {
        self.inner.kind == ErrorKind::Connect
    }

    /// A deadline passed.
    pub fn is_timeout(&self) -> bool {
        self.inner.kind == ErrorKind::Timeout
    }

    /// The session never started: refused at the upgrade ([`ErrorKind::Refused`]) or right
    /// after it ([`ErrorKind::Rejected`]).
    pub fn is_handshake(&self) -> bool {
        matches!(self.inner.kind, ErrorKind::Refused | ErrorKind::Rejected)
    }

    /// An HTTP status answered the upgrade.
    pub fn is_refused(&self) -> bool {
        self.inner.kind == ErrorKind::Refused
    }

    /// The upgrade succeeded, then the service refused the session.
    pub fn is_rejected(&self) -> bool {
        self.inner.kind == ErrorKind::Rejected
    }

    /// An `error` event during the session (the session goes on).
    pub fn is_api(&self) -> bool {
        self.inner.kind == ErrorKind::Api
    }

    /// The service closed the session with a failure.
    pub fn is_closed(&self) -> bool {
        self.inner.kind == ErrorKind::Closed
    }

    /// `session.update` was refused or not applied as asked.
    pub fn is_session_update(&self) -> bool {
        self.inner.kind == ErrorKind::SessionUpdate
    }

    /// A frame could not be used.
    pub fn is_protocol(&self) -> bool {
        self.inner.kind == ErrorKind::Protocol
    }

    /// Whether the session is over after this error. Only [`ErrorKind::Api`] and
    /// [`ErrorKind::Protocol`] errors leave it running.
    pub fn is_fatal(&self) -> bool {
        !matches!(self.inner.kind, ErrorKind::Api | ErrorKind::Protocol)
    }

    /// The HTTP status of a refused upgrade.
    pub fn status(&self) -> Option<http::StatusCode> {
        self.inner
            .status
            .and_then(|s| http::StatusCode::from_u16(s).ok())
    }

    /// How long the service asks the client to wait before trying again: the `Retry-After`
    /// header of a refused upgrade (usually a 429), when it gives a number of seconds. The
    /// header as sent (an HTTP date, say) is in the `Display` text either way.
    pub fn retry_after(&self) -> Option<Duration> {
        let text = self.inner.retry_after.as_deref()?.trim();
        text.parse::<u64>().ok().map(Duration::from_secs)
    }

    /// The body of a refused upgrade, as text.
    pub fn body(&self) -> Option<&str> {
        self.inner.body.as_deref()
    }

    /// The close frame the service sent (code 1006 when the socket ended without one).
    pub fn close_frame(&self) -> Option<&CloseFrame> {
        self.inner.close.as_ref()
    }

    /// The service's error: the `error` event (type, code, message, param, event_id), or the
    /// `{"error":{…}}` body of a refused upgrade.
    pub fn api_error(&self) -> Option<&ApiError> {
        self.inner.api.as_ref()
    }

    /// The error code from the `error` event or the body, e.g. `model_not_found`.
    pub fn code(&self) -> Option<&str> {
        self.inner.api.as_ref().and_then(|a| a.code.as_deref())
    }

    /// GPT-Live's `session.closed`, when it ended the session for another reason than
    /// `close_requested`: its [`reason`](crate::live::server_event::SessionClosed::reason)
    /// (`expired`, `content`, `connection_lost`, …) and the final usage.
    pub fn session_closed(&self) -> Option<&crate::live::server_event::SessionClosed> {
        self.inner.session_closed.as_deref()
    }

    /// Whether the error comes from a GPT-Live connection ([`crate::live::client`]).
    pub fn is_live(&self) -> bool {
        self.inner.live
    }

    /// The URL that was dialled, with any credential in it redacted.
    pub fn url(&self) -> Option<&str> {
        self.inner.url.as_deref()
    }

    /// The model or deployment that was asked for.
    pub fn model(&self) -> Option<&str> {
        self.inner.model.as_deref()
    }

    /// The service's id for the upgrade request (`x-request-id`, or Azure's
    /// `apim-request-id`), worth quoting to support.
    pub fn request_id(&self) -> Option<&str> {
        self.inner.request_id.as_deref()
    }

    /// A known cause, when the code, close code or status names one.
    pub fn known_issue(&self) -> Option<KnownIssue> {
        let i = &self.inner;
        let code = self.code();
        let close = i.close.as_ref().map(CloseFrame::code);
        let has =
            |c: &str| code == Some(c) || i.close.as_ref().is_some_and(|f| f.reason.ends_with(c));
        if let Some(issue) = i.issue {
            return Some(issue);
        }
        if let Some(closed) = &i.session_closed {
            use crate::live::CloseReason;
            match closed.reason {
                CloseReason::Expired => return Some(KnownIssue::SessionExpired),
                CloseReason::Content => return Some(KnownIssue::ContentFiltered),
                CloseReason::ConnectionLost => return Some(KnownIssue::ConnectionLost),
                _ => {}
            }
        }
        let model = i.model.as_deref().unwrap_or_default();
        if has("invalid_model") && super::connect::is_live_model(model) && !i.live {
            return Some(KnownIssue::LiveOnRealtime);
        }
        if i.live && has("model_not_found") {
            // Live answers `model_not_found` both for a name it does not know and for a
            // Live model this project may not use.
            return Some(if crate::live::client::MODELS.contains(&model) {
                KnownIssue::NoModelAccess
            } else {
                KnownIssue::ModelNotFound
            });
        }
        if i.live
            && matches!(
                code,
                Some(
                    "unknown_parameter"
                        | "missing_required_parameter"
                        | "invalid_value"
                        | "invalid_type"
                )
            )
            && i.api
                .as_ref()
                .and_then(|a| a.param.as_deref())
                .is_some_and(|p| p == "session" || p.starts_with("session."))
        {
            return Some(KnownIssue::SessionConfigRefused);
        }
        if i.live && has("credit_balance_exhausted") {
            return Some(KnownIssue::QuotaExceeded);
        }
        // A 403 at the upgrade means no access, whatever the body's code says.
        if i.status == Some(403) {
            return Some(KnownIssue::NoModelAccess);
        }
        if has("beta_api_shape_disabled") || close == Some(4000) {
            return Some(KnownIssue::BetaRetired);
        }
        if has("model_not_found") || close == Some(4004) {
            return Some(KnownIssue::ModelNotFound);
        }
        if has("invalid_api_key") {
            return Some(KnownIssue::InvalidApiKey);
        }
        if has("insufficient_quota") {
            return Some(KnownIssue::QuotaExceeded);
        }
        if has("rate_limit_exceeded") {
            return Some(KnownIssue::RateLimited);
        }
        if has("session_expired") {
            return Some(KnownIssue::SessionExpired);
        }
        if has("conversation_already_has_active_response") {
            return Some(KnownIssue::ResponseAlreadyActive);
        }
        if i.kind == ErrorKind::SessionUpdate
            || (matches!(
                code,
                Some("unknown_parameter" | "missing_required_parameter" | "invalid_value")
            ) && i
                .api
                .as_ref()
                .and_then(|a| a.param.as_deref())
                .is_some_and(|p| p.starts_with("session.")))
        {
            return Some(KnownIssue::SessionUpdateRefused);
        }
        match (i.status, i.azure) {
            (Some(400), true) => Some(KnownIssue::AzureBadRequest),
            (Some(401), true) => Some(KnownIssue::AzureUnauthorized),
            (Some(404), true) => Some(KnownIssue::AzureNotFound),
            (Some(401), false) => Some(KnownIssue::InvalidApiKey),
            (Some(403), _) => Some(KnownIssue::NoModelAccess),
            (Some(429), _) => Some(KnownIssue::RateLimited),
            _ if close == Some(3000) && code.is_none() => {
                Some(KnownIssue::InvalidApiKey).filter(|_| {
                    i.close
                        .as_ref()
                        .is_some_and(|f| f.reason.contains("api_key"))
                })
            }
            _ => None,
        }
    }

    /// Every known cause, the one [`Error::known_issue`] names first.
    ///
    /// The service refuses on the first problem it finds and names only that one, but the
    /// client knows what it asked for: a session refused for the retired beta interface that
    /// also asked for a retired model ([`is_retired_model`](super::is_retired_model)) has
    /// both causes, and so has a `model_not_found` answer to a request that sent the beta
    /// header. Fixing only the named one would just meet the other on the next try.
    pub fn known_issues(&self) -> Vec<KnownIssue> {
        let Some(first) = self.known_issue() else {
            return Vec::new();
        };
        let mut issues = vec![first];
        let retired_model = self
            .inner
            .model
            .as_deref()
            .is_some_and(super::config::is_retired_model);
        match first {
            KnownIssue::BetaRetired if retired_model => issues.push(KnownIssue::ModelNotFound),
            KnownIssue::ModelNotFound if self.inner.beta_header => {
                issues.push(KnownIssue::BetaRetired);
            }
            _ => {}
        }
        issues
    }

    /// What to do about it, for known causes (every one of [`Error::known_issues`], joined
    /// with `; and `).
    pub fn advice(&self) -> Option<String> {
        let issues = self.known_issues();
        if issues.is_empty() {
            return None;
        }
        let all: Vec<String> = issues.into_iter().map(|i| self.advice_for(i)).collect();
        Some(all.join("; and "))
    }

    fn advice_for(&self, issue: KnownIssue) -> String {
        let model = self.inner.model.as_deref().unwrap_or("(unknown)");
        let current = CURRENT_MODELS.join(", ");
        if self.inner.live {
            if let Some(advice) = self.live_advice(issue, model) {
                return advice;
            }
        }
        match issue {
            KnownIssue::BetaRetired => "the Realtime beta interface is retired (since May 2026): \
                drop the `OpenAI-Beta: realtime=v1` header and use the GA dialect \
                (`Dialect::Ga`, the default)"
                .to_owned(),
            KnownIssue::ModelNotFound if super::config::is_retired_model(model) => {
                format!("the model `{model}` is retired: use a current model ({current})")
            }
            KnownIssue::ModelNotFound => format!(
                "the model `{model}` is retired, unknown or not available to this key: \
                 use a current model ({current})"
            ),
            KnownIssue::InvalidApiKey => "the API key is invalid or missing: check the key \
                (an `sk-…` key or an unexpired `ek_…` client secret) and how it is loaded"
                .to_owned(),
            KnownIssue::NoModelAccess => format!(
                "this key's organization or project has no access to `{model}`: check the \
                 project's model permissions, or use another model ({current})"
            ),
            KnownIssue::RateLimited => match self.retry_after() {
                Some(after) => format!(
                    "rate limit reached: retry after {after:?} (the service's Retry-After), \
                     then with backoff, or ask for higher limits"
                ),
                None => "rate limit reached: retry later with backoff, or ask for higher \
                    limits"
                    .to_owned(),
            },
            KnownIssue::QuotaExceeded => "the account's quota is used up: check billing and \
                the project's usage limits"
                .to_owned(),
            KnownIssue::SessionExpired => "sessions last at most 60 minutes: watch \
                `expires_at` and open a new session before it"
                .to_owned(),
            KnownIssue::SessionUpdateRefused => "the whole update was discarded and the \
                session kept its previous settings (by default audio/pcm 24 kHz): send only \
                fields of the session's dialect, with `type: \"realtime\"` in GA"
                .to_owned(),
            KnownIssue::ResponseAlreadyActive => "a response is already running: wait for \
                `response.done` before sending `response.create`"
                .to_owned(),
            KnownIssue::AzureBadRequest => format!(
                "Azure refused the request: the deployment `{model}` may not support realtime \
                 (use a gpt-realtime deployment), or the URL shape is wrong"
            ),
            KnownIssue::AzureUnauthorized => "Azure refused the credential: check the \
                resource's `api-key` (or the Entra token)"
                .to_owned(),
            KnownIssue::AzureNotFound => format!(
                "Azure found no such endpoint: check the resource name, the deployment \
                 `{model}` and the URL shape (GA: /openai/v1/realtime?model=<deployment>)"
            ),
            KnownIssue::LiveOnRealtime => {
                let what = if super::connect::is_live_model(model) {
                    format!("`{model}` is a GPT-Live model")
                } else {
                    "the `/v1/live/sessions` path is GPT-Live's".to_owned()
                };
                format!(
                    "{what}, another protocol than the Realtime API: connect with \
                     `openai_realtime::live::client` (wss://api.openai.com/v1/live/sessions), \
                     or use a Realtime model ({current}) at wss://api.openai.com/v1/realtime"
                )
            }
            KnownIssue::RealtimeOnLive
            | KnownIssue::SessionConfigRefused
            | KnownIssue::ContentFiltered
            | KnownIssue::ConnectionLost => self
                .live_advice(issue, model)
                .unwrap_or_else(|| format!("{issue:?}")),
        }
    }

    /// The advice of a GPT-Live connection, where it differs from the Realtime one.
    fn live_advice(&self, issue: KnownIssue, model: &str) -> Option<String> {
        let live_models = crate::live::client::MODELS.join(", ");
        Some(match issue {
            KnownIssue::ModelNotFound => format!(
                "`{model}` is not a GPT-Live model the service knows: set a Live model \
                 ({live_models}) in the session config"
            ),
            KnownIssue::NoModelAccess => format!(
                "this key's organization or project has no access to `{model}`: enable \
                 GPT-Live for the project, or use a key of a project that has it"
            ),
            KnownIssue::InvalidApiKey => "the API key is invalid or missing: check the \
                `sk-…` key and how it is loaded (GPT-Live takes no ephemeral `ek_…` secrets)"
                .to_owned(),
            KnownIssue::SessionExpired => "the session reached its duration limit \
                (`expires_at` of `session.started`): start a new session before it, seeding \
                it with the conversation so far through the session config's `input`"
                .to_owned(),
            KnownIssue::SessionConfigRefused => {
                let param = self
                    .inner
                    .api
                    .as_ref()
                    .and_then(|a| a.param.as_deref())
                    .unwrap_or("session");
                format!(
                    "GPT-Live's session config is strict and refuses `{param}`: remove it \
                     (Live has no turn detection, tools or transcription settings; the \
                     voice is `audio.output.voice`, fixed at start)"
                )
            }
            KnownIssue::ContentFiltered => "the safety filter ended the session: review the \
                instructions and what the conversation asks of the model; going on takes a \
                new session"
                .to_owned(),
            KnownIssue::ConnectionLost => "the service lost the session's transport: start a \
                new session (a Live session does not resume), seeding it through the session \
                config's `input`"
                .to_owned(),
            KnownIssue::RealtimeOnLive => {
                let what = if super::connect::is_realtime_model(model) {
                    format!("`{model}` is a Realtime API model")
                } else {
                    "the `/v1/realtime` path is the Realtime API's".to_owned()
                };
                format!(
                    "{what}, which GPT-Live does not serve: use a Live model ({live_models}) \
                     at wss://api.openai.com/v1/live/sessions, or connect with \
                     `openai_realtime::client`"
                )
            }
            _ => return None,
        })
    }

    fn write_api(f: &mut fmt::Formatter<'_>, api: &ApiError) -> fmt::Result {
        f.write_str(&api.kind)?;
        if let Some(code) = &api.code {
            write!(f, ".{code}")?;
        }
        if let Some(param) = &api.param {
            write!(f, " (param `{param}`)")?;
        }
        if let Some(event_id) = &api.event_id {
            write!(f, " for client event `{event_id}`")?;
        }
        write!(f, ": {}", api.message)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        match i.kind {
            ErrorKind::Config => f.write_str("invalid client configuration")?,
            ErrorKind::Connect => match &i.url {
                Some(url) => write!(f, "could not connect to {url}")?,
                None => f.write_str("could not connect")?,
            },
            ErrorKind::Timeout => f.write_str("timed out")?,
            ErrorKind::Refused => {
                write!(
                    f,
                    "the service refused the WebSocket upgrade with HTTP {}",
                    i.status.unwrap_or_default()
                )?;
                match (self.retry_after(), &i.retry_after) {
                    (Some(after), _) => write!(f, " (retry after {after:?})")?,
                    (None, Some(raw)) => write!(f, " (Retry-After: {raw})")?,
                    (None, None) => {}
                }
            }
            ErrorKind::Rejected => {
                f.write_str("the service refused the session after the upgrade")?
            }
            ErrorKind::Api => f.write_str("the service reported an error")?,
            ErrorKind::Closed => f.write_str("the service ended the session")?,
            ErrorKind::SessionUpdate => f.write_str("session.update did not take effect")?,
            ErrorKind::Protocol => f.write_str("unusable frame from the service")?,
            ErrorKind::Transport => f.write_str("the connection failed")?,
            ErrorKind::Local => f.write_str("the session is closed")?,
            ErrorKind::Lookup => write!(
                f,
                "the service answered with HTTP {}",
                i.status.unwrap_or_default()
            )?,
        }
        if let Some(message) = &i.message {
            write!(f, ": {message}")?;
        }
        if let Some(after) = i.timeout {
            write!(f, " after {after:?}")?;
        }
        if let Some(api) = &i.api {
            f.write_str(if i.status.is_some() { ": " } else { ": error " })?;
            Self::write_api(f, api)?;
        } else if let Some(body) = i.body.as_deref().filter(|b| !b.trim().is_empty()) {
            let body: String = body.chars().take(300).collect();
            write!(f, ": {}", body.trim())?;
        }
        if let Some(closed) = &i.session_closed {
            let sep = if i.api.is_some() { ", then" } else { ":" };
            write!(
                f,
                "{sep} `session.closed` with reason `{}` after {} s",
                closed.reason,
                closed.usage.seconds()
            )?;
        }
        if let Some(close) = &i.close {
            let sep = if i.api.is_some() || i.session_closed.is_some() {
                ", then"
            } else {
                ":"
            };
            write!(f, "{sep} {close}")?;
        }
        if let Some(advice) = self.advice() {
            write!(f, "; {advice}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        let mut d = f.debug_struct("openai_realtime::client::Error");
        d.field("kind", &i.kind);
        if let Some(m) = &i.message {
            d.field("message", m);
        }
        if let Some(u) = &i.url {
            d.field("url", u);
        }
        if let Some(m) = &i.model {
            d.field("model", m);
        }
        if let Some(r) = &i.request_id {
            d.field("request_id", r);
        }
        if let Some(s) = &i.status {
            d.field("status", s);
        }
        if let Some(b) = &i.body {
            d.field("body", b);
        }
        if let Some(a) = &i.api {
            d.field("api_error", a);
        }
        if let Some(c) = &i.close {
            d.field("close", c);
        }
        if let Some(t) = &i.timeout {
            d.field("timeout", t);
        }
        if let Some(r) = &i.retry_after {
            d.field("retry_after", r);
        }
        if i.live {
            d.field("live", &true);
        }
        if let Some(c) = &i.session_closed {
            d.field("session_closed", c);
        }
        if let Some(s) = &i.source {
            d.field("source", s);
        }
        d.finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner
            .source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// An error with its causes (see [`Error::report`]): its own text, then each
/// [`source`](StdError::source) after `: `. A cause whose text the line already ends with
/// (a dependency's error that repeats its own source) is not written twice.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a>(&'a (dyn StdError + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            if !text.is_empty() && !shown.ends_with(&text) {
                shown.push_str(": ");
                shown.push_str(&text);
            }
            cause = error.source();
        }
        f.write_str(&shown)
    }
}

/// Reads `{"error":{"type","code","message","param"}}` from a refused upgrade's body.
fn api_error_from_body(body: &str) -> Option<ApiError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Body,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default, rename = "type")]
        error_type: Option<String>,
        #[serde(default)]
        code: Option<serde_json::Value>,
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        param: Option<String>,
    }
    let env: Envelope = serde_json::from_str(body).ok()?;
    let code = match env.error.code {
        Some(serde_json::Value::String(s)) => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let mut api = ApiError::new(
        env.error
            .error_type
            .unwrap_or_else(|| "http_error".to_owned()),
        env.error.message.unwrap_or_default(),
    );
    api.code = code;
    api.param = env.error.param;
    Some(api)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: &str, message: &str) -> ApiError {
        ApiError::new("invalid_request_error", message).with_code(code)
    }

    #[test]
    fn error_is_small_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Error>();
        assert_eq!(size_of::<Error>(), size_of::<usize>());
    }

    #[test]
    fn beta_refusal_names_the_header_and_the_close() {
        let e = Error::new(ErrorKind::Rejected)
            .with_context(
                "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1",
                "gpt-realtime-2.1",
                false,
            )
            .with_api(Some(api(
                "beta_api_shape_disabled",
                "The Realtime Beta API is no longer supported.",
            )))
            .with_close(Some(CloseFrame::new(
                4000,
                "invalid_request_error.beta_api_shape_disabled",
            )));
        assert_eq!(e.known_issue(), Some(KnownIssue::BetaRetired));
        let shown = e.to_string();
        assert!(shown.contains("beta_api_shape_disabled"), "{shown}");
        assert!(shown.contains("close 4000"), "{shown}");
        assert!(shown.contains("OpenAI-Beta"), "{shown}");
    }

    #[test]
    fn model_advice_names_the_model_and_the_current_ones() {
        let e = Error::new(ErrorKind::Rejected)
            .with_context("ws://x", "gpt-4o-realtime-preview", false)
            .with_close(Some(CloseFrame::new(4004, "")));
        let shown = e.to_string();
        assert!(shown.contains("gpt-4o-realtime-preview"), "{shown}");
        assert!(shown.contains("gpt-realtime-2.1-mini"), "{shown}");
    }

    #[test]
    fn http_body_error_is_parsed() {
        let body = r#"{"error":{"code":"OpperationNotSupported","message":"The realtime operation does not work with the specified model"}}"#;
        let e = Error::new(ErrorKind::Refused)
            .with_context(
                "wss://r.openai.azure.com/openai/v1/realtime?model=w",
                "w",
                true,
            )
            .with_http(400, Some(body.to_owned()));
        assert_eq!(e.status(), Some(http::StatusCode::BAD_REQUEST));
        assert_eq!(e.code(), Some("OpperationNotSupported"));
        assert_eq!(e.known_issue(), Some(KnownIssue::AzureBadRequest));
        assert!(
            e.to_string()
                .contains("does not work with the specified model")
        );
    }

    #[test]
    fn plain_text_body_is_shown() {
        let e = Error::new(ErrorKind::Refused).with_http(403, Some("Forbidden".to_owned()));
        assert_eq!(e.known_issue(), Some(KnownIssue::NoModelAccess));
        assert!(e.to_string().contains("HTTP 403: Forbidden"), "{e}");
    }
}
