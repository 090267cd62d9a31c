//! A dead path to the service is found within the keepalive timeout (a few seconds), not a
//! minute later: the client against a stalled mock (socket open, nothing read or written, no
//! pong) on tokio's paused clock.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use openai_realtime::client::{
    ApiKey, Config, Connection, DEFAULT_KEEPALIVE_INTERVAL, DEFAULT_KEEPALIVE_TIMEOUT, ErrorKind,
};
use openai_realtime::mock::MockServer;
use tokio::time::Instant;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::util::SubscriberInitExt;

const WAIT: Duration = Duration::from_secs(60);

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

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

/// Installs a DEBUG subscriber writing to the returned buffer, for this thread only.
///
/// Every test of this file calls it: with a single thread-local subscriber in the process,
/// tracing caches a callsite's interest from whichever thread hits it first, and a test
/// thread without a subscriber would turn the line off for the one that captures.
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let writer = captured.clone();
    let guard = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();
    (captured, guard)
}

/// A client of the mock with the default keepalive (pings every 2 s, dead after 5 s).
fn config(server: &MockServer) -> Config {
    Config::url(server.url()).with_api_key(ApiKey::new("sk-test"))
}

/// Waits for the session's end: the one error and then `None`; returns the error and when
/// it came.
async fn fatal_error(conn: &mut Connection) -> (openai_realtime::client::Error, Instant) {
    let wait = async {
        loop {
            match conn.recv().await {
                Some(Ok(_)) => {}
                Some(Err(err)) => return (err, Instant::now()),
                None => panic!("ended without an error"),
            }
        }
    };
    let found = tokio::time::timeout(WAIT, wait).await.expect("an error");
    assert!(conn.recv().await.is_none(), "the session ends after it");
    found
}

#[test]
fn the_defaults_suit_a_phone_call() {
    assert_eq!(DEFAULT_KEEPALIVE_INTERVAL, Duration::from_secs(2));
    assert_eq!(DEFAULT_KEEPALIVE_TIMEOUT, Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn a_stalled_service_is_found_dead_after_the_keepalive_timeout_and_logged_once() {
    let (captured, _guard) = capture();
    let server = MockServer::start().await.unwrap();
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    let session_id = conn.session_id();
    let mock = server.session(0, WAIT).await.unwrap();

    // A quiet but live session: the pongs keep it up well past the timeout.
    let quiet = tokio::time::timeout(Duration::from_secs(20), conn.recv()).await;
    assert!(quiet.is_err(), "a live quiet session went on: {quiet:?}");

    mock.stall().await;
    let stalled = Instant::now();
    let (err, at) = fatal_error(&mut conn).await;
    let found_after = at - stalled;
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    // The last pong came at most one ping interval before the stall.
    assert!(
        found_after <= DEFAULT_KEEPALIVE_TIMEOUT
            && found_after >= DEFAULT_KEEPALIVE_TIMEOUT - DEFAULT_KEEPALIVE_INTERVAL,
        "found dead {found_after:?} after the stall"
    );
    let shown = err.to_string();
    assert!(shown.contains("pong"), "{shown}");
    assert!(shown.contains("after 5"), "{shown}");

    let logs = captured.text();
    let lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("Realtime keepalive timed out"))
        .collect();
    assert_eq!(lines.len(), 1, "{logs}");
    let line = lines[0];
    assert!(line.contains(" ERROR "), "{line}");
    assert!(line.contains(&session_id), "{line}");
    assert!(line.contains("waited_for="), "{line}");
    assert!(line.contains("silent_ms=5000"), "{line}");
}

#[tokio::test(start_paused = true)]
async fn the_timeout_is_configurable() {
    let _logs = capture();
    let server = MockServer::start().await.unwrap();
    let config = config(&server)
        .with_keepalive(Some(Duration::from_millis(500)))
        .with_keepalive_timeout(Duration::from_millis(1500));
    let mut conn = Connection::connect(config).await.unwrap();
    let mock = server.session(0, WAIT).await.unwrap();
    mock.stall().await;
    let stalled = Instant::now();
    let (err, at) = fatal_error(&mut conn).await;
    assert!(err.is_timeout(), "{err}");
    let found_after = at - stalled;
    assert!(
        found_after <= Duration::from_millis(1500) && found_after >= Duration::from_millis(1000),
        "found dead {found_after:?} after the stall"
    );
}

#[tokio::test(start_paused = true)]
async fn a_service_that_resumes_in_time_keeps_the_session() {
    let _logs = capture();
    let server = MockServer::start().await.unwrap();
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    let mock = server.session(0, WAIT).await.unwrap();
    mock.stall().await;
    let quiet = tokio::time::timeout(Duration::from_secs(2), conn.recv()).await;
    assert!(quiet.is_err(), "{quiet:?}");
    mock.resume().await;
    // The pongs that waited arrive; the session lives on.
    let quiet = tokio::time::timeout(Duration::from_secs(20), conn.recv()).await;
    assert!(quiet.is_err(), "the session ended: {quiet:?}");
    assert!(!mock.is_ended());
}

#[tokio::test(start_paused = true)]
async fn a_send_stuck_on_the_dead_path_returns_when_the_session_is_found_dead() {
    let _logs = capture();
    let server = MockServer::start().await.unwrap();
    let conn = Connection::connect(config(&server)).await.unwrap();
    let mock = server.session(0, WAIT).await.unwrap();
    mock.stall().await;
    let (tx, mut rx) = conn.split();
    // Audio into a socket nobody reads: the writes fill the buffers, then one waits.
    let chunk = format!(
        r#"{{"type":"input_audio_buffer.append","audio":"{}"}}"#,
        "A".repeat(64 * 1024)
    );
    let sending = tokio::spawn(async move {
        let mut sent = 0u32;
        loop {
            match tx.send_raw(chunk.clone()).await {
                Ok(()) => sent += 1,
                Err(err) => return (sent, err, Instant::now()),
            }
        }
    });
    let (err, dead_at) = {
        let wait = async {
            loop {
                if let Some(Err(err)) = rx.recv().await {
                    return (err, Instant::now());
                }
            }
        };
        tokio::time::timeout(WAIT, wait).await.expect("found dead")
    };
    assert!(err.is_timeout(), "{err}");
    let (sent, send_err, returned_at) = tokio::time::timeout(WAIT, sending)
        .await
        .expect("the stuck send returned")
        .unwrap();
    assert!(sent > 0, "some audio went into the buffers first");
    assert_eq!(send_err.kind(), ErrorKind::Local, "{send_err}");
    assert!(returned_at - dead_at < Duration::from_millis(10));
}
