//! `session.update` is confirmed: refused updates (the service's validation, as the mock
//! reproduces it) and mismatched formats are typed errors, never silence.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::time::Duration;

use openai_realtime::client::{Config, Connection, KnownIssue};
use openai_realtime::mock::MockServer;
use openai_realtime::{AudioFormat, RealtimeSession};

#[path = "support/common.rs"]
mod support;

use support::{config, one_websocket_peer};

const WAIT: Duration = Duration::from_secs(5);

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

#[tokio::test]
async fn an_update_answered_with_other_formats_is_a_mismatch_error() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    // A peer (say, a proxy that drops fields) that confirms every update but keeps PCM.
    let (addr, peer) = one_websocket_peer(|mut ws| async move {
        let pcm = r#"{"type":"realtime","id":"sess_P","audio":{"input":{"format":{"type":"audio/pcm","rate":24000}},"output":{"format":{"type":"audio/pcm","rate":24000}}}}"#;
        ws.send(Message::text(format!(
            r#"{{"type":"session.created","event_id":"e1","session":{pcm}}}"#
        )))
        .await
        .unwrap();
        while let Some(Ok(msg)) = ws.next().await {
            if msg.to_text().unwrap_or_default().contains("session.update") {
                ws.send(Message::text(format!(
                    r#"{{"type":"session.updated","event_id":"e2","session":{pcm}}}"#
                )))
                .await
                .unwrap();
            }
        }
    })
    .await;
    let config = Config::url(format!("ws://{addr}/v1/realtime")).with_keepalive(None);
    let mut conn = Connection::connect(config).await.unwrap();
    let err = conn
        .update_session(RealtimeSession::phone_call())
        .await
        .expect_err("mismatch");
    assert!(err.is_session_update(), "{err}");
    assert!(
        err.to_string()
            .contains("asked for input audio audio/pcmu, the service reports audio/pcm"),
        "{err}"
    );
    // The session reflects what the service reported, not what was asked.
    assert_eq!(
        conn.session()
            .input_format()
            .and_then(AudioFormat::type_str),
        Some("audio/pcm")
    );
    peer.abort();
}

#[tokio::test]
async fn an_unanswered_update_times_out() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    // A peer that starts the session, then ignores everything.
    let (addr, peer) = one_websocket_peer(|mut ws| async move {
        ws.send(Message::text(
            r#"{"type":"session.created","event_id":"e1","session":{"type":"realtime","id":"sess_Q"}}"#,
        ))
        .await
        .unwrap();
        while ws.next().await.is_some() {}
    })
    .await;
    let config = Config::url(format!("ws://{addr}/v1/realtime"))
        .with_keepalive(None)
        .with_session_update_timeout(Duration::from_millis(100));
    let mut conn = Connection::connect(config).await.unwrap();
    let err = conn
        .update_session(RealtimeSession::phone_call())
        .await
        .expect_err("no answer");
    assert!(err.is_timeout(), "{err}");
    assert!(
        err.to_string().contains("waiting for `session.updated`"),
        "{err}"
    );
    peer.abort();
}
