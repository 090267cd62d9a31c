//! The API key appears in no log line of the GPT-Live client at any level, trace included,
//! tungstenite's own `log` records among them: a session that starts and closes, a refused
//! upgrade (401), and a start refused with an `error` and a close.
//!
//! One test in its own binary: it installs the process-wide subscriber and the `log` bridge.
#![cfg(feature = "client")]

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use openai_realtime::client::ApiKey;
use openai_realtime::live::SessionConfig;
use openai_realtime::live::client::{Config, Connection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use tracing_subscriber::filter::LevelFilter;

const WAIT: Duration = Duration::from_secs(5);
const KEY: &str = "sk-proj-live7trace7secret7XYZ";
const KEY_MIDDLE: &str = "live7trace7secret";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A Live peer: checks the key arrived, then answers `session.start` with `answer` frames
/// (and a close when `close` is set), and `session.close` with `session.closed`.
async fn peer(answer: Vec<&'static str>, close: bool) -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v1/live/sessions", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        // tungstenite's refusal type is an HTTP response: large, and never built here.
        #[allow(clippy::result_large_err)]
        let callback = |request: &tokio_tungstenite::tungstenite::handshake::server::Request,
                        response| {
            assert_eq!(
                request.headers()["authorization"],
                format!("Bearer {KEY}").as_str()
            );
            Ok(response)
        };
        let mut ws = tokio_tungstenite::accept_hdr_async(socket, callback)
            .await
            .unwrap();
        while let Ok(Some(Ok(message))) = tokio::time::timeout(WAIT, ws.next()).await {
            let Message::Text(text) = message else {
                continue;
            };
            if text.contains("session.start") {
                for frame in &answer {
                    ws.send(Message::text(*frame)).await.unwrap();
                }
                if close {
                    let _ = ws.close(None).await;
                }
            } else if text.contains("session.close") {
                let closed = r#"{"type":"session.closed","event_id":"e9","reason":"close_requested","session":{"id":"live_1","expires_at":1796300000,"model":"gpt-live-1","status":"active"},"usage":{"seconds":3}}"#;
                ws.send(Message::text(closed)).await.unwrap();
            }
        }
    });
    (url, task)
}

fn config(url: &str) -> Config {
    Config::url(url)
        .with_api_key(ApiKey::new(KEY))
        .with_keepalive(None)
}

#[tokio::test]
async fn the_key_is_in_no_log_line_at_trace() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .try_init()
        .expect("the only subscriber of this binary");

    // A session that starts and closes.
    let started = r#"{"type":"session.started","event_id":"e1","session":{"id":"live_1","expires_at":1796300000,"model":"gpt-live-1","status":"active"}}"#;
    let (url, server) = peer(vec![started], false).await;
    let conn = tokio::time::timeout(
        WAIT,
        Connection::connect(config(&url), SessionConfig::phone_call()),
    )
    .await
    .unwrap()
    .expect("the session starts");
    assert!(!format!("{conn:?}").contains(KEY_MIDDLE));
    conn.close().await.expect("session.closed");
    server.await.unwrap();

    // Refused after the upgrade: `error` invalid_api_key, then a close.
    let refused = r#"{"type":"error","event_id":"e2","error":{"type":"invalid_request_error","code":"invalid_api_key","message":"Incorrect API key provided."}}"#;
    let (url, server) = peer(vec![refused], true).await;
    let err = Connection::connect(config(&url), SessionConfig::phone_call())
        .await
        .unwrap_err();
    assert!(err.is_rejected(), "{err}");
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        err.report().to_string(),
    ] {
        assert!(!shown.contains(KEY_MIDDLE), "{shown}");
    }
    server.await.unwrap();

    // Refused at the upgrade: 401.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v1/live/sessions", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = vec![0; 4096];
        let n = socket.read(&mut request).await.unwrap();
        // The key went out on the wire (below tungstenite), and only there.
        assert!(String::from_utf8_lossy(&request[..n]).contains(KEY));
        let response = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\n\r\n";
        socket.write_all(response.as_bytes()).await.unwrap();
    });
    let err = Connection::connect(config(&url), SessionConfig::phone_call())
        .await
        .unwrap_err();
    assert!(err.is_refused(), "{err}");
    server.await.unwrap();

    assert!(!format!("{:?}", config(&url)).contains(KEY_MIDDLE));
    let logs = String::from_utf8_lossy(&captured.0.lock().unwrap()).into_owned();
    // tungstenite's trace records were captured (the handshake request among them), and the
    // client's own lines: otherwise this test would prove nothing.
    assert!(
        logs.contains("TRACE tungstenite::handshake::client: Request:"),
        "no tungstenite trace lines captured"
    );
    assert!(logs.contains("opening Live session"), "{logs}");
    assert!(logs.contains("Live upgrade refused"), "{logs}");
    assert!(
        !logs.contains(KEY_MIDDLE),
        "the key is in the logs: {}",
        logs.lines()
            .filter(|l| l.contains(KEY_MIDDLE))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
