//! Each text of an error's chain appears once: the client's `Display` is its own message, the
//! cause is its `source()`, and no cause repeats its own source's text (tungstenite's
//! `Space limit exceeded: {0}` and `IO error: {0}` wrappers are not kept as causes).
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::error::Error as _;
use std::time::Duration;

use futures_util::SinkExt;
use openai_realtime::client::{Config, Connection, ErrorKind};
use openai_realtime::mock::MockServer;
use tokio_tungstenite::tungstenite::Message;

#[path = "support/common.rs"]
mod support;

use support::{config, one_websocket_peer};

const WAIT: Duration = Duration::from_secs(5);

/// The chain as a program that walks `source()` prints it.
fn chain(err: &openai_realtime::client::Error) -> String {
    let mut shown = err.to_string();
    let mut cause = err.source();
    while let Some(error) = cause {
        shown.push_str(": ");
        shown.push_str(&error.to_string());
        cause = error.source();
    }
    shown
}

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
        .expect("an error in time")
}

fn assert_once(shown: &str, text: &str) {
    assert_eq!(shown.matches(text).count(), 1, "`{text}` once in: {shown}");
}

#[tokio::test]
async fn a_too_big_frame_names_its_size_once() {
    let server = MockServer::start().await.unwrap();
    let mut conn = Connection::connect(config(&server).with_max_message_size(64 * 1024))
        .await
        .unwrap();
    let mock = server.session(0, WAIT).await.unwrap();
    let big = format!(r#"{{"type":"x","pad":"{}"}}"#, "a".repeat(100 * 1024));
    mock.send_raw(big).await;
    let err = next_error(&mut conn).await;
    assert_eq!(err.kind(), ErrorKind::Transport, "{err:?}");
    let shown = chain(&err);
    assert_once(&shown, "Message too long");
    assert_once(&shown, "> 65536");
    assert_eq!(err.report().to_string(), shown);
}

#[tokio::test]
async fn a_connection_reset_is_named_once() {
    let (addr, peer) = one_websocket_peer(|mut ws| async move {
        ws.send(Message::text(
            r#"{"type":"session.created","event_id":"e1","session":{"type":"realtime","id":"sess_1"}}"#,
        ))
        .await
        .unwrap();
        // Unread data in the receive buffer makes the close an RST, as does zero linger.
        tokio::time::sleep(Duration::from_millis(50)).await;
        ws.get_ref().set_zero_linger().unwrap();
        drop(ws);
    })
    .await;
    let config = Config::url(format!("ws://{addr}/v1/realtime")).with_keepalive(None);
    let mut conn = Connection::connect(config).await.unwrap();
    peer.await.unwrap();
    let err = next_error(&mut conn).await;
    let shown = chain(&err);
    assert_once(&shown, "Connection reset by peer");
    assert_eq!(err.report().to_string(), shown);
}

#[tokio::test]
async fn an_undecodable_event_names_the_parser_message_once() {
    let server = MockServer::start().await.unwrap();
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    let mock = server.session(0, WAIT).await.unwrap();
    mock.send_raw(r#"{"type":"response.done","event_id":"e9"}"#)
        .await;
    let err = next_error(&mut conn).await;
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err:?}");
    let shown = chain(&err);
    assert_once(&shown, "missing field");
    assert_once(&shown, "response.done");
}
