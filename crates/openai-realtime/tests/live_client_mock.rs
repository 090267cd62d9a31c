//! The GPT-Live client against the crate's Live mock over real sockets: a session that
//! starts, speaks, and closes with its usage, and the mock's refusals each turned into the
//! client's typed error with the fix.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::time::Duration;

use base64::Engine as _;

use openai_realtime::client::{ApiKey, ErrorKind, KnownIssue};
use openai_realtime::live::client::{Config, Connection};
use openai_realtime::live::{ClientEvent, CloseReason, ServerEvent, SessionConfig};
use openai_realtime::mock::{LiveMockServerBuilderExt, LiveScript, LiveTurn, MockServer};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(5);

async fn mock(script: LiveScript) -> MockServer {
    MockServer::builder()
        .api_key("sk-test")
        .live_script(script.delta_duration(Duration::from_millis(20)))
        .start()
        .await
        .unwrap()
}

fn config(server: &MockServer, key: &str) -> Config {
    Config::url(server.live_url())
        .with_api_key(ApiKey::new(key))
        .with_keepalive(None)
}

async fn connect_err(config: Config, session: SessionConfig) -> openai_realtime::client::Error {
    match tokio::time::timeout(WAIT, Connection::connect(config, session))
        .await
        .expect("an answer in time")
    {
        Ok(_) => panic!("connect should fail"),
        Err(err) => err,
    }
}

#[tokio::test]
async fn a_session_starts_speaks_first_and_closes() {
    let server = mock(LiveScript::new().turn(LiveTurn::speech("Hello, this is the clinic."))).await;
    let conn = tokio::time::timeout(
        WAIT,
        Connection::connect(config(&server, "sk-test"), SessionConfig::phone_call()),
    )
    .await
    .unwrap()
    .expect("the mock starts the session");
    assert!(
        conn.session_id().starts_with("live_"),
        "{}",
        conn.session_id()
    );
    assert!(
        conn.session()
            .format()
            .is_some_and(|f| f.is_twilio_native())
    );
    let (tx, mut rx) = conn.split();
    // Audio in flight, then ask for the greeting.
    let silence = base64::engine::general_purpose::STANDARD.encode([0xFF; 160]);
    tx.send(&ClientEvent::input_audio_append(silence))
        .await
        .unwrap();
    tx.send(&ClientEvent::instructions_append("Greet the caller.", None))
        .await
        .unwrap();
    let mut said = String::new();
    let mut audio = 0;
    let deadline = tokio::time::Instant::now() + WAIT;
    while said.trim() != "Hello, this is the clinic." {
        match tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("the greeting in time; heard {said:?}"))
        {
            Some(Ok(ServerEvent::OutputTranscriptDelta(delta))) => said.push_str(&delta.delta),
            Some(Ok(ServerEvent::OutputAudioDelta(_))) => audio += 1,
            Some(Ok(_)) => {}
            other => panic!("the greeting, got {other:?}"),
        }
    }
    assert!(audio > 0, "the greeting came with audio");
    tx.close_session().await.unwrap();
    let closed = loop {
        match tokio::time::timeout(WAIT, rx.recv()).await.unwrap() {
            Some(Ok(ServerEvent::SessionClosed(closed))) => break closed,
            Some(Ok(_)) => {}
            other => panic!("session.closed, got {other:?}"),
        }
    };
    assert_eq!(closed.reason, CloseReason::CloseRequested);
    assert!(rx.recv().await.is_none());

    let session = server.live_session(0, WAIT).await.unwrap();
    assert_eq!(session.uri(), "/v1/live/sessions");
    assert_eq!(session.received_types()[0], "session.start");
    assert!(session.received().iter().all(|r| r.refused.is_none()));
}

#[tokio::test]
async fn the_mocks_refusals_are_the_clients_typed_errors() {
    let server = mock(LiveScript::new()).await;

    // A bad key: `invalid_api_key`, then close 3000.
    let err = connect_err(config(&server, "sk-wrong"), SessionConfig::phone_call()).await;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(err.known_issue(), Some(KnownIssue::InvalidApiKey), "{err}");
    assert!(!err.to_string().contains("sk-wrong"), "{err}");

    // A model the mock does not serve: `model_not_found`, then close 4004.
    let err = connect_err(
        config(&server, "sk-test"),
        SessionConfig::phone_call().with_model("gpt-live-9"),
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(err.close_frame().map(|c| c.code()), Some(4004), "{err}");
    assert_eq!(err.known_issue(), Some(KnownIssue::ModelNotFound), "{err}");
    assert!(
        err.to_string().contains("gpt-live-1.1, gpt-live-1"),
        "{err}"
    );

    // A field the strict config refuses: `unknown_parameter` with its path; the mock keeps
    // the socket open for a corrected start, the client gives up after its grace.
    let mut session = SessionConfig::phone_call();
    session
        .extra
        .insert("turn_detection".to_owned(), json!({"type": "server_vad"}));
    let err = connect_err(
        config(&server, "sk-test").with_error_close_grace(Duration::from_millis(200)),
        session,
    )
    .await;
    assert_eq!(err.kind(), ErrorKind::Rejected, "{err}");
    assert_eq!(
        err.known_issue(),
        Some(KnownIssue::SessionConfigRefused),
        "{err}"
    );
    assert_eq!(
        err.api_error().and_then(|a| a.param.as_deref()),
        Some("session.turn_detection")
    );
    assert!(err.to_string().contains("remove it"), "{err}");
}

#[tokio::test]
async fn the_session_limit_is_session_closed_expired_with_the_advice() {
    let server = MockServer::builder()
        .api_key("sk-test")
        .live_script(LiveScript::new().delta_duration(Duration::from_millis(20)))
        .live_max_session_duration(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let mut conn = tokio::time::timeout(
        WAIT,
        Connection::connect(config(&server, "sk-test"), SessionConfig::phone_call()),
    )
    .await
    .unwrap()
    .unwrap();
    let err = loop {
        match tokio::time::timeout(WAIT, conn.recv()).await.unwrap() {
            Some(Ok(_)) => {}
            Some(Err(err)) => break err,
            None => panic!("ended without an error"),
        }
    };
    assert_eq!(err.kind(), ErrorKind::Closed, "{err}");
    assert_eq!(
        err.session_closed().map(|c| c.reason.clone()),
        Some(CloseReason::Expired)
    );
    assert_eq!(err.known_issue(), Some(KnownIssue::SessionExpired));
    assert!(err.to_string().contains("duration limit"), "{err}");
}
