//! The service's validation as the mock reproduces it, seen through the client: refused
//! session updates are typed errors and the session keeps its defaults.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::time::Duration;

use openai_realtime::client::{ApiKey, Config, Connection, KnownIssue};
use openai_realtime::mock::MockServer;
use openai_realtime::{AudioFormat, RealtimeSession};

const WAIT: Duration = Duration::from_secs(5);

fn config(server: &MockServer) -> Config {
    Config::url(server.url())
        .with_api_key(ApiKey::new("sk-test"))
        .with_keepalive(None)
}

#[tokio::test]
async fn refused_session_update_is_a_typed_error_and_the_session_keeps_pcm() {
    let server = MockServer::start().await.unwrap();
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    let mut session = RealtimeSession::phone_call();
    session.audio_output_mut().format = Some(AudioFormat::Unknown(
        serde_json::json!({"type": "audio/wav"}),
    ));
    let err = conn.update_session(session).await.expect_err("refused");
    assert!(err.is_session_update(), "{err}");
    let api = err.api_error().expect("the service's error");
    assert_eq!(api.code.as_deref(), Some("invalid_value"));
    assert_eq!(
        api.event_id.as_ref().map(|e| e.as_str()),
        Some("evt_session_update_1")
    );
    assert_eq!(err.known_issue(), Some(KnownIssue::SessionUpdateRefused));
    assert!(err.to_string().contains("audio/pcm 24 kHz"), "{err}");

    let mock = server.session(0, WAIT).await.unwrap();
    assert_eq!(
        mock.session_config()["audio"]["input"]["format"]["type"],
        "audio/pcm"
    );
    // Still usable afterwards.
    let session = conn
        .update_session(RealtimeSession::phone_call())
        .await
        .unwrap();
    assert_eq!(session.input_format(), Some(&AudioFormat::Pcmu));
}

#[tokio::test]
async fn beta_field_in_a_ga_update_is_refused_whole() {
    let server = MockServer::start().await.unwrap();
    let conn = Connection::connect(config(&server)).await.unwrap();
    let (tx, mut rx) = conn.split();
    tx.send_raw(r#"{"type":"session.update","event_id":"evt_7","session":{"type":"realtime","input_audio_format":"g711_ulaw"}}"#)
        .await
        .unwrap();
    let err = match tokio::time::timeout(WAIT, rx.recv()).await.unwrap() {
        Some(Err(err)) => err,
        other => panic!("expected the error event, got {other:?}"),
    };
    let api = err.api_error().unwrap();
    assert_eq!(api.code.as_deref(), Some("unknown_parameter"));
    assert_eq!(api.param.as_deref(), Some("session.input_audio_format"));
    assert_eq!(api.event_id.as_ref().map(|e| e.as_str()), Some("evt_7"));
    let mock = server.session(0, WAIT).await.unwrap();
    assert_eq!(
        mock.session_config()["audio"]["input"]["format"]["type"],
        "audio/pcm"
    );
}
