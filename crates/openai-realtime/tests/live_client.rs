//! The GPT-Live client against scripted Live peers on 127.0.0.1 port 0 (real WebSockets):
//! the handshake it sends, `session.started`, the halves, `session.close` / `session.closed`,
//! and every refusal and end as one typed error with the service's words and the fix.
#![cfg(feature = "client")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use openai_realtime::client::{ApiKey, ErrorKind, KnownIssue};
use openai_realtime::live::client::{Config, Connection};
use openai_realtime::live::{ClientEvent, CloseReason, ServerEvent, SessionConfig};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

const WAIT: Duration = Duration::from_secs(5);
const KEY: &str = "sk-live-test-key";

/// What the peer saw of the upgrade request.
#[derive(Debug, Clone, Default)]
struct Upgrade {
    path_and_query: String,
    authorization: Option<String>,
    project: Option<String>,
}

type Ws = WebSocketStream<TcpStream>;

/// A Live peer that accepts one WebSocket on 127.0.0.1 port 0 and runs `script` on it.
/// Returns the URL to dial (`/v1/live/sessions`), what the upgrade carried, and the task.
async fn peer<F, Fut>(script: F) -> (String, Arc<Mutex<Upgrade>>, tokio::task::JoinHandle<()>)
where
    F: FnOnce(Ws) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v1/live/sessions", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Upgrade::default()));
    let record = Arc::clone(&seen);
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        // tungstenite's refusal type is an HTTP response: large, and never built here.
        #[allow(clippy::result_large_err)]
        let callback =
            move |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
                  response| {
                let header = |name: &str| {
                    request
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                *record.lock().unwrap() = Upgrade {
                    path_and_query: request.uri().to_string(),
                    authorization: header("authorization"),
                    project: header("openai-project"),
                };
                Ok(response)
            };
        let ws = tokio_tungstenite::accept_hdr_async(socket, callback)
            .await
            .unwrap();
        script(ws).await;
    });
    (url, seen, task)
}

/// The next JSON text frame the client sent (pings and pongs skipped); `None` at the end.
async fn next_event(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("a frame in time")
        {
            Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(_)) => {}
        }
    }
}

async fn send(ws: &mut Ws, event: Value) {
    ws.send(Message::text(event.to_string())).await.unwrap();
}

fn session(model: &str) -> Value {
    json!({"id": "live_test1", "expires_at": 1796300000u64, "model": model, "status": "active",
           "audio": {"format": {"type": "audio/pcmu", "rate": 8000}}, "input": []})
}

fn started(model: &str) -> Value {
    json!({"type": "session.started", "event_id": "event_1", "session": session(model)})
}

fn closed(reason: &str, seconds: u64) -> Value {
    json!({"type": "session.closed", "event_id": "event_9", "reason": reason,
           "session": session("gpt-live-1"), "usage": {"seconds": seconds}})
}

fn error_event(code: &str, message: &str, param: Option<&str>) -> Value {
    let mut error = json!({"type": "invalid_request_error", "code": code, "message": message,
                           "client_event_id": "evt_session_start"});
    if let Some(param) = param {
        error["param"] = json!(param);
    }
    json!({"type": "error", "event_id": "event_e1", "client_event_id": "evt_session_start", "error": error})
}

async fn close_with(ws: &mut Ws, code: u16, reason: &str) {
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_owned().into(),
        })))
        .await;
    // Read until the client answers the close.
    while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, ws.next()).await {}
}

fn config(url: &str) -> Config {
    Config::url(url)
        .with_api_key(ApiKey::new(KEY))
        .with_keepalive(None)
}

async fn connect(
    config: Config,
    session: SessionConfig,
) -> Result<Connection, openai_realtime::client::Error> {
    tokio::time::timeout(WAIT, Connection::connect(config, session))
        .await
        .expect("an answer in time")
}

async fn connect_err(config: Config, session: SessionConfig) -> openai_realtime::client::Error {
    match connect(config, session).await {
        Ok(_) => panic!("connect should fail"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn a_session_starts_streams_and_closes_with_its_usage() {
    let (url, seen, server) = peer(|mut ws| async move {
        let start = next_event(&mut ws).await.expect("session.start first");
        assert_eq!(start["type"], "session.start", "{start}");
        assert_eq!(start["session"]["model"], "gpt-live-1");
        assert_eq!(
            start["session"]["audio"]["format"],
            json!({"type": "audio/pcmu", "rate": 8000})
        );
        let start_id = start["event_id"].clone();
        let mut answer = started("gpt-live-1");
        answer["client_event_id"] = start_id;
        send(&mut ws, answer).await;
        let audio = next_event(&mut ws).await.expect("caller audio");
        assert_eq!(
            audio,
            json!({"type": "session.input_audio.append", "audio": "//////////8="})
        );
        send(
            &mut ws,
            json!({"type": "session.output_audio.delta", "delta": "fn5+fn5+fn4="}),
        )
        .await;
        send(
            &mut ws,
            json!({"type": "session.output_transcript.delta", "event_id": "event_3",
                             "delta": "Hello", "start_ms": 0, "end_ms": 200}),
        )
        .await;
        let close = next_event(&mut ws).await.expect("session.close");
        assert_eq!(close["type"], "session.close", "{close}");
        let mut answer = closed("close_requested", 63);
        answer["client_event_id"] = close["event_id"].clone();
        send(&mut ws, answer).await;
        // The client then closes the WebSocket itself.
        assert!(
            next_event(&mut ws).await.is_none(),
            "nothing after session.closed"
        );
    })
    .await;

    let conn = connect(
        config(&url).with_project("proj_live"),
        SessionConfig::phone_call(),
    )
    .await
    .expect("the session starts");
    assert_eq!(conn.session_id(), "live_test1");
    assert!(
        conn.session()
            .format()
            .is_some_and(|f| f.is_twilio_native())
    );
    assert!(conn.expires_at().is_some());
    {
        let upgrade = seen.lock().unwrap().clone();
        // No query: the model travels in session.start.
        assert_eq!(upgrade.path_and_query, "/v1/live/sessions");
        assert_eq!(
            upgrade.authorization.as_deref(),
            Some("Bearer sk-live-test-key")
        );
        assert_eq!(upgrade.project.as_deref(), Some("proj_live"));
    }
    let (tx, mut rx) = conn.split();
    tx.send(&ClientEvent::input_audio_append("//////////8="))
        .await
        .unwrap();
    let Some(Ok(ServerEvent::OutputAudioDelta(audio))) = rx.recv().await else {
        panic!("model audio");
    };
    assert_eq!(audio.delta, "fn5+fn5+fn4=");
    let Some(Ok(ServerEvent::OutputTranscriptDelta(text))) = rx.recv().await else {
        panic!("a transcript fragment");
    };
    assert_eq!(text.delta, "Hello");
    tx.close_session().await.unwrap();
    assert!(tx.is_closing());
    let refused = tx
        .send(&ClientEvent::input_audio_append("//8="))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Local, "{refused}");
    let Some(Ok(ServerEvent::SessionClosed(closed))) = rx.recv().await else {
        panic!("session.closed");
    };
    assert_eq!(closed.reason, CloseReason::CloseRequested);
    assert_eq!(closed.usage.seconds(), 63.0);
    assert!(
        rx.recv().await.is_none(),
        "the receiver ends after session.closed"
    );
    // The receiver closed the socket; closing again is no error.
    tx.close().await.expect("a second close is a no-op");
    server.await.unwrap();
}

#[tokio::test]
async fn connection_close_waits_for_session_closed_and_returns_it() {
    let (url, _, server) = peer(|mut ws| async move {
        next_event(&mut ws).await.expect("session.start");
        send(&mut ws, started("gpt-live-1.1")).await;
        let close = next_event(&mut ws).await.expect("session.close");
        assert_eq!(close["type"], "session.close");
        // Audio still flows until the service finalises.
        send(
            &mut ws,
            json!({"type": "session.output_audio.delta", "delta": "fn4="}),
        )
        .await;
        send(&mut ws, closed("close_requested", 12)).await;
        assert!(next_event(&mut ws).await.is_none());
    })
    .await;
    let conn = connect(config(&url), SessionConfig::new("gpt-live-1.1"))
        .await
        .unwrap();
    let closed = tokio::time::timeout(WAIT, conn.close())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.reason, CloseReason::CloseRequested);
    assert_eq!(closed.usage.seconds(), 12.0);
    server.await.unwrap();
}

#[tokio::test]
async fn a_bad_key_is_refused_at_the_upgrade_with_the_fix() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v1/live/sessions", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0; 4096];
        let n = socket.read(&mut request).await.unwrap();
        assert!(
            String::from_utf8_lossy(&request[..n]).starts_with("GET /v1/live/sessions HTTP/1.1")
        );
        let body = r#"{"error":{"type":"invalid_request_error","code":"invalid_api_key","message":"Incorrect API key provided: sk-live-***-key."}}"#;
        let response = format!(
            "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\nx-request-id: req_live_1\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        socket.write_all(response.as_bytes()).await.unwrap();
        socket.shutdown().await.unwrap();
    });
    let err = connect_err(config(&url), SessionConfig::phone_call()).await;
    assert_eq!(err.kind(), ErrorKind::Refused, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.code(), Some("invalid_api_key"));
    assert_eq!(err.request_id(), Some("req_live_1"));
    assert_eq!(err.known_issue(), Some(KnownIssue::InvalidApiKey));
    assert!(err.is_live());
    let shown = err.to_string();
    assert!(shown.contains("Incorrect API key provided"), "{shown}");
    assert!(shown.contains("GPT-Live takes no ephemeral"), "{shown}");
    assert!(!shown.contains(KEY), "{shown}");
    server.await.unwrap();
}

/// `error` for the start, then a close: one `Rejected` error with both.
async fn refused_start(
    model: &str,
    error: Value,
    close: Option<(u16, &'static str)>,
) -> openai_realtime::client::Error {
    let (url, _, server) = peer(move |mut ws| async move {
        let start = next_event(&mut ws).await.expect("session.start");
        assert_eq!(start["event_id"], "evt_session_start");
        send(&mut ws, error).await;
        match close {
            Some((code, reason)) => close_with(&mut ws, code, reason).await,
            // The service keeps the socket: the client gives up after its grace and closes.
            None => assert!(next_event(&mut ws).await.is_none()),
        }
    })
    .await;
    let err = connect_err(
        config(&url).with_error_close_grace(Duration::from_millis(200)),
        SessionConfig::phone_call().with_model(model),
    )
    .await;
    server.await.unwrap();
    err
}

#[tokio::test]
async fn a_live_model_this_project_may_not_use_is_no_access() {
    let err = refused_start(
        "gpt-live-1",
        error_event(
            "model_not_found",
            "The model `gpt-live-1` does not exist or you do not have access to it.",
            None,
        ),
        Some((1008, "invalid_request_error.model_not_found")),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(err.code(), Some("model_not_found"));
    assert_eq!(err.close_frame().map(|c| c.code()), Some(1008));
    assert_eq!(err.known_issue(), Some(KnownIssue::NoModelAccess));
    let shown = err.to_string();
    assert!(shown.contains("enable GPT-Live for the project"), "{shown}");
    assert!(shown.contains("close 1008"), "{shown}");
}

#[tokio::test]
async fn an_unknown_model_names_the_live_models() {
    let err = refused_start(
        "gpt-live-7",
        error_event(
            "model_not_found",
            "The model `gpt-live-7` does not exist.",
            None,
        ),
        Some((1008, "")),
    )
    .await;
    assert_eq!(err.known_issue(), Some(KnownIssue::ModelNotFound));
    let shown = err.to_string();
    assert!(
        shown.contains("`gpt-live-7` is not a GPT-Live model"),
        "{shown}"
    );
    assert!(shown.contains("gpt-live-1.1, gpt-live-1"), "{shown}");
}

#[tokio::test]
async fn a_field_the_strict_config_refuses_names_its_param() {
    // No close after the error: the client stops waiting after its grace.
    let err = refused_start(
        "gpt-live-1",
        error_event(
            "unknown_parameter",
            "Unknown parameter: 'session.turn_detection'.",
            Some("session.turn_detection"),
        ),
        None,
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(err.known_issue(), Some(KnownIssue::SessionConfigRefused));
    let api = err.api_error().expect("the error event is kept");
    assert_eq!(api.param.as_deref(), Some("session.turn_detection"));
    assert_eq!(
        api.event_id.as_ref().map(|id| id.as_str()),
        Some("evt_session_start")
    );
    let shown = err.to_string();
    assert!(
        shown.contains("refuses `session.turn_detection`: remove it"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_key_refused_after_the_upgrade_is_a_bad_key() {
    let err = refused_start(
        "gpt-live-1",
        error_event("invalid_api_key", "Incorrect API key provided.", None),
        Some((1008, "")),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(err.known_issue(), Some(KnownIssue::InvalidApiKey));
}

#[tokio::test]
async fn a_realtime_model_or_path_is_refused_before_connecting() {
    // A port nobody listens on: had the client dialled, the error would be `Connect`.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let live_url = format!("ws://127.0.0.1:{port}/v1/live/sessions");
    let err = connect_err(
        config(&live_url),
        SessionConfig::phone_call().with_model("gpt-realtime-2.1"),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert_eq!(err.known_issue(), Some(KnownIssue::RealtimeOnLive));
    let shown = err.to_string();
    assert!(
        shown.contains("`gpt-realtime-2.1` is a Realtime API model"),
        "{shown}"
    );
    assert!(shown.contains("gpt-live-1.1, gpt-live-1"), "{shown}");

    let realtime_url = format!("ws://127.0.0.1:{port}/v1/realtime");
    let err = connect_err(config(&realtime_url), SessionConfig::phone_call()).await;
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert_eq!(err.known_issue(), Some(KnownIssue::RealtimeOnLive));
    assert!(err.to_string().contains("`/v1/realtime` path"), "{err}");

    // The other way round: the Realtime client given a Live model or the Live path.
    use openai_realtime::client::{Config as RealtimeConfig, Connection as RealtimeConnection};
    let err = RealtimeConnection::connect(
        RealtimeConfig::openai(ApiKey::new(KEY))
            .with_endpoint(format!("ws://127.0.0.1:{port}/v1/realtime"))
            .with_model("gpt-live-1"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config, "{err}");
    assert_eq!(err.known_issue(), Some(KnownIssue::LiveOnRealtime));
    let shown = err.to_string();
    assert!(
        shown.contains("`gpt-live-1` is a GPT-Live model"),
        "{shown}"
    );
    assert!(shown.contains("openai_realtime::live::client"), "{shown}");
    let err = RealtimeConnection::connect(RealtimeConfig::url(&live_url))
        .await
        .unwrap_err();
    assert_eq!(err.known_issue(), Some(KnownIssue::LiveOnRealtime), "{err}");
}

/// A started session that the peer then ends with `session.closed` for `reason`.
async fn ended_by_service(reason: &'static str) -> openai_realtime::client::Error {
    let (url, _, server) = peer(move |mut ws| async move {
        next_event(&mut ws).await.expect("session.start");
        send(&mut ws, started("gpt-live-1")).await;
        send(
            &mut ws,
            json!({"type": "session.output_audio.delta", "delta": "fn4="}),
        )
        .await;
        send(&mut ws, closed(reason, 3600)).await;
        assert!(next_event(&mut ws).await.is_none(), "the client closes");
    })
    .await;
    let mut conn = connect(config(&url), SessionConfig::phone_call())
        .await
        .unwrap();
    assert!(matches!(
        conn.recv().await,
        Some(Ok(ServerEvent::OutputAudioDelta(_)))
    ));
    let err = match conn.recv().await {
        Some(Err(err)) => err,
        other => panic!("the end as an error, got {other:?}"),
    };
    assert!(conn.recv().await.is_none(), "nothing after the end");
    let refused = conn
        .send(&ClientEvent::input_audio_append("//8="))
        .await
        .unwrap_err();
    assert_eq!(refused.kind(), ErrorKind::Local);
    server.await.unwrap();
    err
}

#[tokio::test]
async fn session_closed_expired_content_and_others_are_errors_with_their_reason() {
    for (reason, issue, advice) in [
        (
            "expired",
            Some(KnownIssue::SessionExpired),
            "duration limit",
        ),
        (
            "content",
            Some(KnownIssue::ContentFiltered),
            "safety filter",
        ),
        (
            "connection_lost",
            Some(KnownIssue::ConnectionLost),
            "does not resume",
        ),
        ("remote_hangup", None, "`remote_hangup`"),
        ("a_reason_of_2027", None, "`a_reason_of_2027`"),
    ] {
        let err = ended_by_service(reason).await;
        assert_eq!(err.kind(), ErrorKind::Closed, "{reason}: {err}");
        assert!(err.is_fatal());
        let closed = err.session_closed().expect("session.closed kept");
        assert_eq!(closed.reason.as_str(), reason);
        assert_eq!(closed.usage.seconds(), 3600.0);
        assert_eq!(err.known_issue(), issue, "{reason}: {err}");
        let shown = err.to_string();
        assert!(
            shown.contains(&format!(
                "`session.closed` with reason `{reason}` after 3600 s"
            )),
            "{shown}"
        );
        assert!(shown.contains(advice), "{reason}: {shown}");
    }
}

#[tokio::test]
async fn a_close_code_without_session_closed_is_an_error_with_the_code() {
    let (url, _, server) = peer(|mut ws| async move {
        next_event(&mut ws).await.expect("session.start");
        send(&mut ws, started("gpt-live-1")).await;
        close_with(&mut ws, 1011, "server_error").await;
    })
    .await;
    let mut conn = connect(config(&url), SessionConfig::phone_call())
        .await
        .unwrap();
    let Some(Err(err)) = conn.recv().await else {
        panic!("the close as an error");
    };
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    let close = err.close_frame().expect("the close frame");
    assert_eq!((close.code(), close.reason()), (1011, "server_error"));
    assert!(
        err.to_string().contains("without `session.closed`"),
        "{err}"
    );
    assert!(conn.recv().await.is_none());
    server.await.unwrap();
}

#[tokio::test]
async fn an_error_event_mid_session_is_not_fatal() {
    let (url, _, server) = peer(|mut ws| async move {
        next_event(&mut ws).await.expect("session.start");
        send(&mut ws, started("gpt-live-1")).await;
        let sent = next_event(&mut ws).await.expect("response.create");
        assert_eq!(sent["type"], "response.create");
        send(
            &mut ws,
            json!({"type": "error", "event_id": "event_e2", "error": {
            "type": "invalid_request_error", "code": "invalid_request_error",
            "message": "response.create requires Responses delegation."}}),
        )
        .await;
        send(
            &mut ws,
            json!({"type": "session.input_transcript.delta", "event_id": "event_4",
                             "delta": "hello", "start_ms": 0, "end_ms": 200}),
        )
        .await;
        next_event(&mut ws).await.expect("session.close");
        send(&mut ws, closed("close_requested", 5)).await;
        let _ = next_event(&mut ws).await;
    })
    .await;
    let mut conn = connect(config(&url), SessionConfig::phone_call())
        .await
        .unwrap();
    conn.send(&ClientEvent::response_create()).await.unwrap();
    let Some(Err(err)) = conn.recv().await else {
        panic!("the error event");
    };
    assert_eq!(err.kind(), ErrorKind::Api, "{err}");
    assert!(!err.is_fatal());
    assert!(
        err.to_string().contains("requires Responses delegation"),
        "{err}"
    );
    assert!(matches!(
        conn.recv().await,
        Some(Ok(ServerEvent::InputTranscriptDelta(_)))
    ));
    let closed = conn.close().await.unwrap();
    assert_eq!(closed.usage.seconds(), 5.0);
    server.await.unwrap();
}

#[tokio::test]
async fn no_session_started_is_a_timeout() {
    let (url, _, server) = peer(|mut ws| async move {
        next_event(&mut ws).await.expect("session.start");
        // Never answers; the client gives up and closes.
        assert!(next_event(&mut ws).await.is_none());
    })
    .await;
    let err = connect_err(
        config(&url).with_start_timeout(Duration::from_millis(200)),
        SessionConfig::phone_call(),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        err.to_string().contains("waiting for `session.started`"),
        "{err}"
    );
    server.await.unwrap();
}

#[tokio::test]
async fn no_session_closed_after_session_close_is_a_timeout() {
    let (url, _, server) = peer(|mut ws| async move {
        next_event(&mut ws).await.expect("session.start");
        send(&mut ws, started("gpt-live-1")).await;
        next_event(&mut ws).await.expect("session.close");
        // Never answers; the client gives up and closes.
        assert!(next_event(&mut ws).await.is_none());
    })
    .await;
    let conn = connect(
        config(&url).with_close_timeout(Duration::from_millis(200)),
        SessionConfig::phone_call(),
    )
    .await
    .unwrap();
    let err = tokio::time::timeout(WAIT, conn.close())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(
        err.to_string().contains("waiting for `session.closed`"),
        "{err}"
    );
    server.await.unwrap();
}
