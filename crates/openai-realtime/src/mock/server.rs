//! Accepting sockets: the upgrade (paths, refusals on command), the checks the service makes
//! right after it (key, beta header, model), then one task per session running the engine.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::{HeaderValue, StatusCode};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};

use super::engine::{Engine, Outgoing, Setup};
use super::handle::{Close, Command, Log, MockSession, Received, Shared};
use super::script::Script;
use super::tap::TapFactory;
use super::{HttpRefusal, KeyCheck};
use crate::{ApiError, ClientEvent, Dialect};

/// The server's settings, fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) key: KeyCheck,
    pub(crate) accept_beta: bool,
    pub(crate) models: Vec<String>,
    pub(crate) script: Script,
    pub(crate) max_session_duration: Duration,
    /// Keep every frame in the session log.
    pub(crate) record: bool,
    pub(crate) tap: Option<TapFactory>,
    /// `GET /v1/models/{model}`: the dates set by the test, and the lookups answered.
    pub(crate) catalogue: super::models::Catalogue,
    /// The Live side's settings.
    pub(crate) live: super::live::LiveSettings,
}

/// State shared by the accept loop, the sessions and the [`MockServer`](super::MockServer).
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) settings: Settings,
    pub(crate) refusal: Mutex<Option<HttpRefusal>>,
    pub(crate) sessions: Mutex<Vec<MockSession>>,
    pub(crate) refused: AtomicUsize,
    pub(crate) changed: Notify,
    next_id: AtomicUsize,
    next_request: AtomicUsize,
    /// The Live sessions, and their numbering.
    pub(crate) live: super::live::LiveSessions,
    pub(crate) live_next_id: AtomicUsize,
}

impl State {
    pub(crate) fn new(settings: Settings) -> Self {
        Self {
            settings,
            refusal: Mutex::new(None),
            sessions: Mutex::new(Vec::new()),
            refused: AtomicUsize::new(0),
            changed: Notify::new(),
            next_id: AtomicUsize::new(0),
            next_request: AtomicUsize::new(0),
            live: super::live::LiveSessions::default(),
            live_next_id: AtomicUsize::new(0),
        }
    }
}

/// Runs the accept loop until the task is aborted; sessions die with it. With an acceptor,
/// each connection's TLS handshake runs on its own task.
pub(crate) async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    tls: Option<TlsAcceptor>,
) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    let _ = tcp.set_nodelay(true);
                    let state = Arc::clone(&state);
                    match &tls {
                        None => {
                            sessions.spawn(serve(tcp, peer, state));
                        }
                        Some(acceptor) => {
                            sessions.spawn(serve_tls(acceptor.clone(), tcp, peer, state));
                        }
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "mock: accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// What the upgrade request said.
#[derive(Debug, Default)]
struct Upgrade {
    uri: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    credential: Option<String>,
    beta: bool,
    azure_preview: bool,
}

impl Upgrade {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn read_upgrade(req: &Request) -> Upgrade {
    let uri = req.uri().to_string();
    let query = req.uri().query().map(query::pairs).unwrap_or_default();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut credential = header("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned))
        .or_else(|| header("api-key"));
    let protocols = header("sec-websocket-protocol").unwrap_or_default();
    for protocol in protocols.split(',').map(str::trim) {
        if let Some(key) = protocol.strip_prefix("openai-insecure-api-key.") {
            credential.get_or_insert_with(|| key.to_owned());
        }
    }
    if credential.is_none() {
        credential = query
            .iter()
            .find(|(k, _)| k == "api-key")
            .map(|(_, v)| v.clone());
    }
    let beta = header("openai-beta").is_some_and(|v| v.contains("realtime=v1"))
        || protocols
            .split(',')
            .any(|p| p.trim() == "openai-beta.realtime-v1");
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            let value = if matches!(k.as_str(), "authorization" | "api-key") {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (k.as_str().to_owned(), value)
        })
        .collect();
    Upgrade {
        azure_preview: req.uri().path() == "/openai/realtime",
        uri,
        query,
        headers,
        credential,
        beta,
    }
}

mod query {
    /// Splits a query string into decoded pairs; malformed escapes stay as they are.
    pub(super) fn pairs(query: &str) -> Vec<(String, String)> {
        query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }

    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let escaped = match bytes.get(i..i + 3) {
                Some([b'%', hi, lo]) => hex(*hi).zip(hex(*lo)).map(|(h, l)| h << 4 | l),
                _ => None,
            };
            match (escaped, bytes[i]) {
                (Some(b), _) => {
                    out.push(b);
                    i += 3;
                }
                (None, b'+') => {
                    out.push(b' ');
                    i += 1;
                }
                (None, b) => {
                    out.push(b);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn decodes_escapes_and_keeps_broken_ones() {
            let got = super::pairs("model=gpt%2Drealtime&x=a+b%20c&&bad=%zz%a\u{e9}%4");
            assert_eq!(
                got,
                [
                    ("model".to_owned(), "gpt-realtime".to_owned()),
                    ("x".to_owned(), "a b c".to_owned()),
                    ("bad".to_owned(), "%zz%a\u{e9}%4".to_owned()),
                ]
            );
        }
    }
}

const PATHS: &[&str] = &[
    "/v1/realtime",
    "/openai/v1/realtime",
    "/openai/realtime",
    super::live::LIVE_PATH,
];

fn error_response(
    status: u16,
    body: &Value,
    headers: &[(String, String)],
    request_id: &HeaderValue,
) -> ErrorResponse {
    let mut response = ErrorResponse::new(Some(body.to_string()));
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
        .headers_mut()
        .insert("x-request-id", request_id.clone());
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

/// The TLS handshake, then the WebSocket upgrade over it. A failed handshake counts as a
/// refused upgrade.
async fn serve_tls(acceptor: TlsAcceptor, tcp: TcpStream, peer: SocketAddr, state: Arc<State>) {
    match acceptor.accept(tcp).await {
        Ok(stream) => serve(stream, peer, state).await,
        Err(error) => {
            state.refused.fetch_add(1, Ordering::SeqCst);
            state.changed.notify_waiters();
            tracing::debug!(%peer, %error, "mock: TLS handshake failed");
        }
    }
}

async fn serve<S>(tcp: S, peer: SocketAddr, state: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    // A model lookup (`GET /v1/models/…`) is answered there; anything else is an upgrade.
    let Some(tcp) = super::models::route(tcp, &state).await else {
        return;
    };
    let mut upgrade = Upgrade::default();
    let n = state.next_request.fetch_add(1, Ordering::SeqCst) + 1;
    let request_id = HeaderValue::from_str(&format!("req_mock{n:06}"))
        .unwrap_or_else(|_| HeaderValue::from_static("req_mock"));
    let refusal = state
        .refusal
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    // A refusal is counted before its response is written, so a client that has read the
    // refusal always finds it counted in `MockServer::refused_upgrades`.
    let mut counted = false;
    let mut count_refusal = || {
        state.refused.fetch_add(1, Ordering::SeqCst);
        state.changed.notify_waiters();
        counted = true;
    };
    // The callback's signature (and its large `Err`) is tungstenite's.
    #[allow(clippy::result_large_err)]
    let callback = |req: &Request, mut response: Response| {
        upgrade = read_upgrade(req);
        if !PATHS.contains(&req.uri().path()) {
            let body = json!({"error": {
                "message": format!("Invalid URL (GET {})", req.uri().path()),
                "type": "invalid_request_error", "param": null, "code": null}});
            count_refusal();
            return Err(error_response(404, &body, &[], &request_id));
        }
        if let Some(refusal) = &refusal {
            count_refusal();
            return Err(error_response(
                refusal.status,
                &refusal.body,
                &refusal.headers,
                &request_id,
            ));
        }
        let protocols = req
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        response
            .headers_mut()
            .insert("x-request-id", request_id.clone());
        if protocols.split(',').any(|p| p.trim() == "realtime") {
            response.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_static("realtime"),
            );
        }
        Ok(response)
    };
    // tungstenite zero-fills its read buffer before every read: keep it small (its default
    // of 128 KiB costs more CPU than the rest of a small frame's path).
    let mut ws_config = WebSocketConfig::default();
    ws_config.read_buffer_size = 16 * 1024;
    let accepted = tokio_tungstenite::accept_hdr_async_with_config(tcp, callback, Some(ws_config));
    let ws = match accepted.await {
        Ok(ws) => ws,
        Err(error) => {
            if !counted {
                state.refused.fetch_add(1, Ordering::SeqCst);
                state.changed.notify_waiters();
            }
            tracing::debug!(%peer, %error, "mock: upgrade not completed");
            return;
        }
    };
    if upgrade.uri.split('?').next() == Some(super::live::LIVE_PATH) {
        let live = super::live::LiveUpgrade {
            uri: upgrade.uri,
            query: upgrade.query,
            headers: upgrade.headers,
            credential: upgrade.credential,
        };
        return super::live::serve(ws, live, state).await;
    }
    run_session(ws, upgrade, state).await;
}

/// The checks the service makes after the upgrade, in order: key, beta header, model.
fn refusal_after_upgrade(
    upgrade: &Upgrade,
    settings: &Settings,
    model: &str,
) -> Option<(ApiError, u16)> {
    let invalid_key = |message: String| {
        Some((
            ApiError::new("invalid_request_error", message).with_code("invalid_api_key"),
            3000,
        ))
    };
    match (&settings.key, &upgrade.credential) {
        (KeyCheck::None, _) => {}
        (_, None) => {
            return invalid_key("Missing bearer or basic authentication in header".to_owned());
        }
        (KeyCheck::Exact(expected), Some(got)) if got != expected => {
            return invalid_key(format!(
                "Incorrect API key provided: {}. You can find your API key at \
                 https://platform.openai.com/account/api-keys.",
                mask_key(got)
            ));
        }
        (KeyCheck::AnyNonEmpty, Some(got)) if got.trim().is_empty() => {
            return invalid_key("Missing bearer or basic authentication in header".to_owned());
        }
        _ => {}
    }
    if upgrade.beta && !settings.accept_beta {
        return Some((
            ApiError::new(
                "invalid_request_error",
                "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API.",
            )
            .with_code("beta_api_shape_disabled"),
            4000,
        ));
    }
    if model.is_empty() {
        return Some((
            ApiError::new(
                "invalid_request_error",
                "You must provide a model parameter.",
            )
            .with_code("missing_required_parameter")
            .with_param("model"),
            3000,
        ));
    }
    if model.starts_with("gpt-live") {
        // A Live model on the Realtime path (the mock's choice of close code).
        return Some((
            ApiError::new(
                "invalid_request_error",
                format!(
                    "The model `{model}` is a Live model and cannot be used with the Realtime API. \
                     Connect to /v1/live/sessions and send it in session.start."
                ),
            )
            .with_code("invalid_model")
            .with_param("model"),
            4004,
        ));
    }
    if !settings.models.iter().any(|m| m == model) {
        return Some((
            ApiError::new(
                "invalid_request_error",
                format!("The model `{model}` does not exist or you do not have access to it."),
            )
            .with_code("model_not_found"),
            4004,
        ));
    }
    None
}

/// `sk-proj-...sQoA`, as the service shows a wrong key.
pub(crate) fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 12 {
        return "*".repeat(chars.len().min(8));
    }
    let head: String = chars[..8].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}...{tail}")
}

async fn run_session<S>(mut ws: WebSocketStream<S>, upgrade: Upgrade, state: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let settings = &state.settings;
    let n = state.next_id.fetch_add(1, Ordering::SeqCst) + 1;
    let session_id = format!("sess_mock{n:06}");
    let model = upgrade
        .param("model")
        .or_else(|| upgrade.param("deployment"))
        .unwrap_or_default()
        .to_owned();
    // The Azure preview path speaks the beta protocol without the header.
    let beta = upgrade.beta || upgrade.azure_preview;
    let dialect = if beta { Dialect::Beta } else { Dialect::Ga };
    let (tx, mut commands) = mpsc::channel(64);
    let shared = Arc::new(Shared {
        id: session_id.clone(),
        model: model.clone(),
        dialect,
        uri: upgrade.uri.clone(),
        headers: upgrade.headers.clone(),
        log: Mutex::new(Log::default()),
        changed: Notify::new(),
        commands: tx,
    });
    let handle = MockSession {
        shared: Arc::clone(&shared),
    };
    let mut tap = settings.tap.as_ref().map(|make| make.make(&handle));
    state
        .sessions
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(handle);
    state.changed.notify_waiters();
    let record = settings.record;

    let unix_now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut engine = Engine::new(
        Setup {
            session_id,
            dialect,
            model: model.clone(),
            script: settings.script.clone(),
            max_duration: settings.max_session_duration,
            unix_now,
        },
        now(),
    );
    if let Some((error, code)) = refusal_after_upgrade(&upgrade, settings, &model) {
        // Refused before anything else: drop `session.created` and send only the error.
        engine.discard_pending();
        tracing::debug!(code, error = %error, "mock: refusing session after upgrade");
        engine.fatal(error, code);
    }
    shared.update(|log| log.session = engine.session().clone());
    let mut session_version = engine.session_version();

    let mut closing = false;
    // While stalled the loop touches neither the socket nor the engine's output: the engine
    // holds what it would send, and only commands are read (see `MockSession::stall`).
    let mut stalled = false;
    'session: loop {
        if stalled {
            match commands.recv().await {
                Some(command) => apply(&mut engine, command, &shared, &mut stalled),
                None => break,
            }
            continue;
        }
        while let Some(out) = engine.poll_output(now()) {
            match out {
                Outgoing::Text(text) => {
                    if record {
                        shared.update(|log| log.sent.push(text.clone()));
                    }
                    let Some(tap) = tap.as_mut() else {
                        if ws.send(Message::text(text)).await.is_err() {
                            break 'session;
                        }
                        continue;
                    };
                    let message = Message::text(text);
                    let sent = ws.send(message.clone()).await;
                    if sent.is_err() {
                        break 'session;
                    }
                    if let Message::Text(text) = &message {
                        tap.sent(text.as_str());
                    }
                }
                Outgoing::Close(code, reason) => {
                    shared.update(|log| {
                        log.closed_by_server = Some(Close {
                            code,
                            reason: reason.clone(),
                        });
                    });
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ = ws.send(Message::Close(Some(frame))).await;
                    closing = true;
                }
            }
        }
        if engine.session_version() != session_version {
            session_version = engine.session_version();
            shared.update(|log| log.session = engine.session().clone());
        }
        if closing {
            // Read until the client answers the close (or give up after a second).
            let drain = async {
                while let Some(Ok(msg)) = ws.next().await {
                    if let Message::Close(frame) = msg {
                        record_client_close(&shared, frame.as_ref());
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(Duration::from_secs(1), drain).await;
            break;
        }
        let deadline = engine.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str();
                    if let Some(tap) = tap.as_mut() {
                        tap.received(text);
                    }
                    let refused = engine.handle_text(now(), text);
                    if record {
                        let event_type = peek_type(text);
                        let event = ClientEvent::decode(text, dialect).ok();
                        shared.update(|log| log.received.push(Received {
                            raw: text.to_owned(),
                            event_type,
                            event,
                            refused,
                        }));
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    record_client_close(&shared, frame.as_ref());
                    // Flushing sends tungstenite's queued reply to the close; the socket then
                    // ends.
                    let _ = ws.flush().await;
                    while let Some(Ok(_)) = ws.next().await {}
                    break;
                }
                Some(Ok(Message::Binary(_))) => {
                    engine.send_error(
                        ApiError::new("invalid_request_error", "Binary frames are not supported; send JSON text frames.")
                            .with_code("invalid_event"),
                    );
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tracing::debug!(%error, "mock: socket error");
                    break;
                }
                None => break,
            },
            Some(command) = commands.recv() => apply(&mut engine, command, &shared, &mut stalled),
            () = sleep_until(deadline) => {}
        }
    }
    shared.update(|log| log.ended = true);
}

/// Carries out a command from the session's handle.
fn apply(engine: &mut Engine, command: Command, shared: &Shared, stalled: &mut bool) {
    match command {
        Command::Close(code, reason) => engine.close(code, reason),
        Command::Error(error) => engine.send_error(error),
        Command::Event(event) => engine.send_event(event),
        Command::Raw(text) => engine.send_raw(text),
        Command::StartResponse => engine.start_response(now(), None),
        Command::Stall(done) => {
            *stalled = true;
            shared.update(|log| log.stalled = true);
            let _ = done.send(());
        }
        Command::Resume(done) => {
            *stalled = false;
            shared.update(|log| log.stalled = false);
            let _ = done.send(());
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn record_client_close(shared: &Shared, frame: Option<&CloseFrame>) {
    let close = frame.map(|f| Close {
        code: u16::from(f.code),
        reason: f.reason.to_string(),
    });
    shared.update(|log| {
        log.closed_by_client = close.or(Some(Close {
            code: 1005,
            reason: String::new(),
        }))
    });
}

fn peek_type(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}

/// The tokio clock as a std `Instant`, so paused test time drives the engine too.
fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}
