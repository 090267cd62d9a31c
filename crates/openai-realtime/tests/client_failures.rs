//! Every way a session can fail, against the mock over real sockets: each turns into one typed
//! error with the peer's words and, for known causes, advice.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::time::Duration;

use futures_util::StreamExt;
use openai_realtime::client::{ApiKey, Config, Connection, ErrorKind, KnownIssue};
use openai_realtime::mock::{Audio, HttpRefusal, MockServer, Pacing, Script, Turn};
use openai_realtime::{ApiError, ClientEvent, Dialect, RealtimeSession, ServerEvent};
use tokio::net::TcpListener;

#[path = "support/common.rs"]
mod support;

use support::{config, one_websocket_peer};

const WAIT: Duration = Duration::from_secs(5);

async fn connect_err(config: Config) -> openai_realtime::client::Error {
    match tokio::time::timeout(WAIT, Connection::connect(config))
        .await
        .expect("answer in time")
    {
        Ok(_) => panic!("connect should fail"),
        Err(err) => err,
    }
}

/// The next error from the session, skipping events.
async fn next_error(conn: &mut Connection) -> openai_realtime::client::Error {
    let wait = async {
        loop {
            match conn.recv().await {
                Some(Ok(_)) => {}
                Some(Err(err)) => return err,
                None => panic!("ended without an error"),
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .expect("error in time")
}

#[tokio::test]
async fn beta_header_is_refused_with_close_4000_and_advice() {
    let server = MockServer::start().await.unwrap();
    let err = connect_err(config(&server).with_dialect(Dialect::Beta)).await;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(err.code(), Some("beta_api_shape_disabled"));
    assert!(
        err.request_id().is_some(),
        "the upgrade's request id is kept: {err:?}"
    );
    let close = err.close_frame().expect("close frame kept");
    assert_eq!(close.code(), 4000);
    assert_eq!(
        close.reason(),
        "invalid_request_error.beta_api_shape_disabled"
    );
    assert_eq!(err.known_issue(), Some(KnownIssue::BetaRetired));
    let shown = err.to_string();
    assert!(
        shown.contains("The Realtime Beta API is no longer supported"),
        "{shown}"
    );
    assert!(
        shown.contains("drop the `OpenAI-Beta: realtime=v1` header"),
        "{shown}"
    );

    let mock = server.session(0, WAIT).await.unwrap();
    let (server_close, _) = mock.wait_ended(WAIT).await.unwrap();
    assert_eq!(server_close.unwrap().code, 4000);
    assert!(mock.sent().iter().all(|f| !f.contains("session.created")));
}

#[tokio::test]
async fn retired_model_is_refused_with_close_4004_and_the_current_models() {
    let server = MockServer::start().await.unwrap();
    let err = connect_err(config(&server).with_model("gpt-4o-realtime-preview-2024-12-17")).await;
    assert!(err.is_rejected(), "{err}");
    assert_eq!(err.close_frame().map(|c| c.code()), Some(4004));
    assert_eq!(err.known_issue(), Some(KnownIssue::ModelNotFound));
    assert_eq!(err.model(), Some("gpt-4o-realtime-preview-2024-12-17"));
    let shown = err.to_string();
    assert!(shown.contains("model_not_found"), "{shown}");
    assert!(
        shown.contains("`gpt-4o-realtime-preview-2024-12-17` is retired"),
        "{shown}"
    );
    assert!(
        shown.contains("gpt-realtime-2.1, gpt-realtime-2.1-mini, gpt-realtime-2, gpt-realtime-1.5"),
        "{shown}"
    );
}

#[tokio::test]
async fn wrong_key_is_refused_with_close_3000_and_never_shown() {
    let server = MockServer::builder()
        .api_key("sk-right-key-0000")
        .start()
        .await
        .unwrap();
    let err =
        connect_err(config(&server).with_api_key(ApiKey::new("sk-proj-wrongwrongwrong1234"))).await;
    assert!(err.is_rejected(), "{err}");
    assert_eq!(err.code(), Some("invalid_api_key"));
    assert_eq!(err.close_frame().map(|c| c.code()), Some(3000));
    assert_eq!(err.known_issue(), Some(KnownIssue::InvalidApiKey));
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("Incorrect API key provided: sk-proj-...1234"),
        "{shown}"
    );
    assert!(
        !shown.contains("wrongwrongwrong"),
        "the key leaked: {shown}"
    );
    assert!(
        shown.contains("the API key is invalid or missing"),
        "{shown}"
    );
}

#[tokio::test]
async fn missing_key_is_refused() {
    let server = MockServer::start().await.unwrap();
    let err = connect_err(Config::url(server.url())).await;
    assert_eq!(err.code(), Some("invalid_api_key"));
    assert!(
        err.to_string()
            .contains("Missing bearer or basic authentication in header"),
        "{err}"
    );
}

#[tokio::test]
async fn http_refusals_carry_status_body_and_advice() {
    let server = MockServer::start().await.unwrap();
    for (refusal, status, issue, code) in [
        (
            HttpRefusal::rate_limited(),
            429,
            KnownIssue::RateLimited,
            "rate_limit_exceeded",
        ),
        (
            HttpRefusal::insufficient_quota(),
            429,
            KnownIssue::QuotaExceeded,
            "insufficient_quota",
        ),
        (
            HttpRefusal::forbidden(),
            403,
            KnownIssue::NoModelAccess,
            "model_not_found",
        ),
        (
            HttpRefusal::unauthorized(),
            401,
            KnownIssue::InvalidApiKey,
            "invalid_api_key",
        ),
    ] {
        server.refuse_upgrades(refusal);
        let err = connect_err(config(&server)).await;
        assert!(err.is_refused() && err.is_handshake(), "{err}");
        assert!(err.request_id().unwrap().starts_with("req_mock"), "{err:?}");
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.code(), Some(code));
        assert!(err.body().unwrap().contains(code));
        // A 403 body may say model_not_found; the status decides what the advice is.
        assert_eq!(err.known_issue(), Some(issue), "{err}");
        assert!(err.advice().is_some(), "{err}");
        assert!(err.to_string().contains(&format!("HTTP {status}")), "{err}");
    }
    assert_eq!(server.refused_upgrades(), 4);
    assert!(server.sessions().is_empty());
}

#[tokio::test]
async fn azure_http_refusals_get_azure_advice() {
    let server = MockServer::start().await.unwrap();
    let azure = |server: &MockServer| {
        Config::azure("contoso", "gpt-realtime-whisper", ApiKey::new("azure-key"))
            .with_endpoint(format!("ws://{}/openai/v1/realtime", server.addr()))
            .with_keepalive(None)
    };
    server.refuse_upgrades(HttpRefusal::new(
        400,
        serde_json::json!({"error": {"code": "OpperationNotSupported",
            "message": "The realtime operation does not work with the specified model, gpt-realtime-whisper."}}),
    ));
    let err = connect_err(azure(&server)).await;
    assert_eq!(
        err.known_issue(),
        Some(KnownIssue::AzureBadRequest),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("deployment `gpt-realtime-whisper` may not support realtime"),
        "{err}"
    );

    server.refuse_upgrades(HttpRefusal::new(401, serde_json::json!({"error": {"code": "401", "message": "Access denied due to invalid subscription key."}})));
    assert_eq!(
        connect_err(azure(&server)).await.known_issue(),
        Some(KnownIssue::AzureUnauthorized)
    );

    // Azure's GA path with the api-key header is accepted once refusals stop.
    server.accept_upgrades();
    let conn = Connection::connect(azure(&server).with_model("gpt-realtime-2.1"))
        .await
        .unwrap();
    drop(conn);
    let mock = server.session(0, WAIT).await.unwrap();
    assert_eq!(mock.uri(), "/openai/v1/realtime?model=gpt-realtime-2.1");
    assert_eq!(mock.header("api-key"), Some("<redacted>"));
    assert_eq!(mock.header("authorization"), None);
}

#[tokio::test]
async fn azure_404_at_the_upgrade_gets_azure_not_found_advice() {
    let server = MockServer::start().await.unwrap();
    server.refuse_upgrades(HttpRefusal::new(
        404,
        serde_json::json!({"error": {"code": "DeploymentNotFound",
            "message": "The API deployment for this resource does not exist."}}),
    ));
    let config = Config::azure("contoso", "my-realtime", ApiKey::new("azure-key"))
        .with_endpoint(format!("ws://{}/openai/v1/realtime", server.addr()))
        .with_keepalive(None);
    let err = connect_err(config).await;
    assert!(err.is_refused() && err.is_handshake(), "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.known_issue(), Some(KnownIssue::AzureNotFound), "{err}");
    assert!(
        err.body().unwrap().contains("DeploymentNotFound"),
        "{err:?}"
    );
    let shown = err.to_string();
    assert!(shown.contains("HTTP 404"), "{shown}");
    assert!(
        shown.contains("Azure found no such endpoint") && shown.contains("`my-realtime`"),
        "{shown}"
    );
    assert_eq!(server.refused_upgrades(), 1);
    assert!(server.sessions().is_empty());
}

#[tokio::test]
async fn unknown_path_is_a_404_with_the_body() {
    let server = MockServer::start().await.unwrap();
    let config =
        Config::url(format!("ws://{}/v1/realtimex", server.addr())).with_api_key(ApiKey::new("k"));
    let err = connect_err(config).await;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert!(
        err.to_string().contains("Invalid URL (GET /v1/realtimex)"),
        "{err}"
    );
}

#[tokio::test]
async fn close_1011_mid_call_ends_the_session_with_code_and_reason() {
    let server = MockServer::start().await.unwrap();
    let conn = Connection::connect(config(&server)).await.unwrap();
    let (tx, mut rx) = conn.split();
    let mock = server.session(0, WAIT).await.unwrap();
    mock.close(1011, "server_error").await;

    let err = match tokio::time::timeout(WAIT, rx.recv()).await.unwrap() {
        Some(Err(err)) => err,
        other => panic!("expected the close, got {other:?}"),
    };
    assert!(err.is_closed() && err.is_fatal(), "{err}");
    let close = err.close_frame().unwrap();
    assert_eq!((close.code(), close.reason()), (1011, "server_error"));
    assert!(
        err.to_string().contains("close 1011 `server_error`"),
        "{err}"
    );
    assert!(
        tokio::time::timeout(WAIT, rx.recv())
            .await
            .unwrap()
            .is_none()
    );

    // The sender stops at once, and says why.
    assert!(tx.is_closing());
    let send = tx
        .send(&ClientEvent::input_audio_append("AAAA"))
        .await
        .unwrap_err();
    assert_eq!(send.kind(), ErrorKind::Local);
    assert_eq!(send.close_frame().map(|c| c.code()), Some(1011));

    // The client answered the close, as the protocol asks.
    let (_, client_close) = mock.wait_ended(WAIT).await.unwrap();
    assert_eq!(client_close.map(|c| c.code), Some(1011));
}

#[tokio::test]
async fn error_event_mid_call_is_surfaced_and_the_session_goes_on() {
    let server = MockServer::start().await.unwrap();
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    let mock = server.session(0, WAIT).await.unwrap();
    mock.send_error(
        ApiError::new(
            "server_error",
            "The server had an error while processing your request.",
        )
        .with_code("internal_error")
        .with_param("response")
        .with_event_id("evt_client_9"),
    )
    .await;
    let err = next_error(&mut conn).await;
    assert!(err.is_api() && !err.is_fatal(), "{err}");
    let api = err.api_error().unwrap();
    assert_eq!(api.kind, "server_error");
    assert_eq!(api.code.as_deref(), Some("internal_error"));
    assert_eq!(api.param.as_deref(), Some("response"));
    assert_eq!(
        api.event_id.as_ref().map(|e| e.as_str()),
        Some("evt_client_9")
    );
    let shown = err.to_string();
    assert!(
        shown.contains(
            "server_error.internal_error (param `response`) for client event `evt_client_9`"
        ),
        "{shown}"
    );

    // A benign one from the client's own mistake, then the session still answers.
    conn.send(&ClientEvent::response_cancel()).await.unwrap();
    let err = next_error(&mut conn).await;
    assert_eq!(err.code(), Some("response_cancel_not_active"));
    conn.send(&ClientEvent::response_create()).await.unwrap();
    let wait = async {
        loop {
            if let Some(Ok(ServerEvent::ResponseDone(_))) = conn.recv().await {
                break;
            }
        }
    };
    tokio::time::timeout(WAIT, wait).await.unwrap();
}

#[tokio::test]
async fn active_response_and_short_commit_are_refused_like_the_service() {
    // A response that plays in real time stays active for two seconds.
    let script = Script::new()
        .pacing(Pacing::RealTime)
        .turn(Turn::new().say("A long answer.", Audio::tone(2000)));
    let server = MockServer::builder().script(script).start().await.unwrap();
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    conn.update_session(RealtimeSession::phone_call())
        .await
        .unwrap();
    conn.send(&ClientEvent::input_audio_append("//////////8="))
        .await
        .unwrap();
    conn.send(&ClientEvent::input_audio_commit().with_event_id("evt_commit"))
        .await
        .unwrap();
    let err = next_error(&mut conn).await;
    assert_eq!(err.code(), Some("input_audio_buffer_commit_empty"));
    assert!(
        err.to_string().contains("buffer only has 1.00ms of audio"),
        "{err}"
    );

    let mock = server.session(0, WAIT).await.unwrap();
    mock.start_response().await;
    conn.send(&ClientEvent::response_create().with_event_id("evt_second"))
        .await
        .unwrap();
    let err = next_error(&mut conn).await;
    assert_eq!(err.code(), Some("conversation_already_has_active_response"));
    assert_eq!(err.known_issue(), Some(KnownIssue::ResponseAlreadyActive));
}

#[tokio::test]
async fn session_expiry_is_visible_then_fatal() {
    let server = MockServer::builder()
        .max_session_duration(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    assert!(conn.time_left().unwrap() <= Duration::from_secs(1));
    let err = next_error(&mut conn).await;
    assert!(err.is_closed(), "{err}");
    assert_eq!(err.code(), Some("session_expired"));
    assert_eq!(err.known_issue(), Some(KnownIssue::SessionExpired));
    assert!(err.to_string().contains("open a new session"), "{err}");
}

#[tokio::test]
async fn a_silent_server_gives_connect_and_first_event_timeouts() {
    // Accepts TCP, never answers the upgrade.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut sockets = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            sockets.push(socket);
        }
    });
    let config = Config::url(format!("ws://{addr}/v1/realtime"))
        .with_connect_timeout(Duration::from_millis(100));
    let err = connect_err(config).await;
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("connecting to ws://"), "{err}");
    hold.abort();

    // Upgrades, never sends session.created.
    let (addr, hold) =
        one_websocket_peer(|mut ws| async move { while ws.next().await.is_some() {} }).await;
    let config = Config::url(format!("ws://{addr}/v1/realtime"))
        .with_first_event_timeout(Duration::from_millis(100));
    let err = connect_err(config).await;
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("session.created"), "{err}");
    hold.abort();
}

#[tokio::test]
async fn a_peer_that_stops_answering_pings_times_out() {
    // Sends session.created, then never reads again (so never answers a ping).
    let (addr, hold) = one_websocket_peer(|mut ws| async move {
        use futures_util::SinkExt;
        ws.send(tokio_tungstenite::tungstenite::Message::text(
            r#"{"type":"session.created","event_id":"e1","session":{"type":"realtime","id":"sess_1"}}"#,
        ))
        .await
        .unwrap();
        std::future::pending::<()>().await;
        drop(ws);
    })
    .await;
    let config = Config::url(format!("ws://{addr}/v1/realtime"))
        .with_keepalive(Some(Duration::from_millis(50)))
        .with_keepalive_timeout(Duration::from_millis(150));
    let mut conn = Connection::connect(config).await.unwrap();
    let err = next_error(&mut conn).await;
    assert!(err.is_timeout(), "{err}");
    assert!(err.to_string().contains("keepalive"), "{err}");
    assert!(conn.recv().await.is_none());
    hold.abort();
}

#[tokio::test]
async fn error_and_close_in_one_error_after_the_upgrade_even_without_a_code() {
    // A generic fatal error: `error` then close 3000 with `type.code`, before session.created.
    let (addr, hold) = one_websocket_peer(|mut ws| async move {
        use futures_util::SinkExt;
        use tokio_tungstenite::tungstenite::protocol::{CloseFrame, frame::coding::CloseCode};
        ws.send(tokio_tungstenite::tungstenite::Message::text(
            r#"{"type":"error","event_id":"e1","error":{"type":"server_error","code":null,"message":"The server had an error.","param":null,"event_id":null}}"#,
        ))
        .await
        .unwrap();
        ws.close(Some(CloseFrame {
            code: CloseCode::from(3000),
            reason: "server_error".into(),
        }))
        .await
        .unwrap();
        while ws.next().await.is_some() {}
    })
    .await;
    let err = connect_err(Config::url(format!("ws://{addr}/v1/realtime"))).await;
    assert!(err.is_rejected(), "{err}");
    assert_eq!(
        err.api_error().map(|a| a.kind.as_str()),
        Some("server_error")
    );
    assert_eq!(err.close_frame().map(|c| c.code()), Some(3000));
    assert!(
        err.to_string().contains(
            "error server_error: The server had an error., then close 3000 `server_error`"
        ),
        "{err}"
    );
    hold.abort();
}

#[tokio::test]
async fn wss_uses_rustls_with_ring_and_reports_a_tls_failure() {
    // A plain TCP peer where TLS is expected: the handshake fails as a connect error (no
    // panic about a missing crypto provider).
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    let config = Config::url(format!("wss://{addr}/v1/realtime"))
        .with_api_key(ApiKey::new("sk-secret-value"));
    let err = connect_err(config).await;
    assert!(err.is_connect(), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "could not connect to wss://{addr}/v1/realtime?model="
        )),
        "{err}"
    );
    assert!(!format!("{err:?}").contains("sk-secret-value"));
    peer.abort();
}

#[tokio::test]
async fn a_429_shows_its_retry_after() {
    let server = MockServer::start().await.unwrap();
    server.refuse_upgrades(HttpRefusal::rate_limited().with_retry_after(Duration::from_secs(20)));
    let err = connect_err(config(&server)).await;
    assert_eq!(err.known_issue(), Some(KnownIssue::RateLimited), "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(20)));
    let shown = err.to_string();
    assert!(
        shown.starts_with(
            "the service refused the WebSocket upgrade with HTTP 429 (retry after 20s)"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("retry after 20s (the service's Retry-After)"),
        "{shown}"
    );

    // A date instead of seconds: no duration, but the header is shown as sent.
    let date = "Wed, 21 Oct 2026 07:28:00 GMT";
    server.refuse_upgrades(HttpRefusal::rate_limited().with_header("Retry-After", date));
    let err = connect_err(config(&server)).await;
    assert_eq!(err.retry_after(), None);
    assert!(
        err.to_string().contains(&format!("(Retry-After: {date})")),
        "{err}"
    );

    // Without the header nothing is made up.
    server.refuse_upgrades(HttpRefusal::rate_limited());
    let err = connect_err(config(&server)).await;
    assert_eq!(err.retry_after(), None);
    assert!(
        !err.to_string().to_lowercase().contains("retry-after"),
        "{err}"
    );
}
