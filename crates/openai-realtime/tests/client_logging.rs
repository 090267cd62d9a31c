//! What the client logs when the service refuses a session: one warn/error line that names
//! the cause, a debug line for the handshake with the model and dialect, and never the key.
//!
//! Each test installs its own subscriber for its thread only (`set_default`), so tests stay
//! parallel-safe. `#[tokio::test]` runs a current-thread runtime, so the client's and the
//! mock's tasks all log on this thread into this test's buffer.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use openai_realtime::Dialect;
use openai_realtime::client::{ApiKey, Config, Connection};
use openai_realtime::mock::MockServer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::util::SubscriberInitExt;

const WAIT: Duration = Duration::from_secs(5);
const KEY: &str = "sk-proj-wrongwrongwrong1234";

/// Log output shared with the subscriber's writer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The lines at `WARN` or `ERROR`.
    fn problems(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
            .map(str::to_owned)
            .collect()
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

/// Connects with `config` while a DEBUG subscriber writes to the returned buffer; the
/// connect must fail.
async fn refused_connect_logs(config: Config) -> Captured {
    let captured = Captured::default();
    let writer = captured.clone();
    let _guard = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish()
        .set_default();
    let result = tokio::time::timeout(WAIT, Connection::connect(config))
        .await
        .expect("answer in time");
    assert!(result.is_err(), "connect should fail");
    captured
}

fn assert_key_never_shown(logs: &str) {
    assert!(!logs.contains(KEY), "the key leaked: {logs}");
    assert!(
        !logs.contains("wrongwrongwrong"),
        "part of the key leaked: {logs}"
    );
}

fn handshake_line(logs: &str) -> &str {
    logs.lines()
        .find(|line| line.contains(" DEBUG ") && line.contains("opening Realtime session"))
        .unwrap_or_else(|| panic!("no handshake debug line in {logs}"))
}

#[tokio::test]
async fn a_wrong_key_is_logged_once_with_its_cause_and_never_the_key() {
    let server = MockServer::builder()
        .api_key("sk-right-key-0000")
        .start()
        .await
        .unwrap();
    let config = Config::url(server.url())
        .with_api_key(ApiKey::new(KEY))
        .with_model("gpt-realtime-2.1")
        .with_keepalive(None);
    let captured = refused_connect_logs(config).await;
    let logs = captured.text();

    let problems = captured.problems();
    assert_eq!(problems.len(), 1, "one warn/error line: {logs}");
    let line = &problems[0];
    assert!(line.contains("invalid_api_key"), "{line}");
    assert!(line.contains("close 3000"), "{line}");
    assert!(line.contains("gpt-realtime-2.1"), "{line}");

    let handshake = handshake_line(&logs);
    assert!(handshake.contains("model=gpt-realtime-2.1"), "{handshake}");
    assert!(handshake.contains("dialect=Ga"), "{handshake}");

    assert_key_never_shown(&logs);
}

#[tokio::test]
async fn the_beta_dialect_is_logged_once_as_retired_and_never_the_key() {
    let server = MockServer::start().await.unwrap();
    let config = Config::url(server.url())
        .with_api_key(ApiKey::new(KEY))
        .with_model("gpt-realtime-2.1")
        .with_dialect(Dialect::Beta)
        .with_keepalive(None);
    let captured = refused_connect_logs(config).await;
    let logs = captured.text();

    let problems = captured.problems();
    assert_eq!(problems.len(), 1, "one warn/error line: {logs}");
    let line = &problems[0];
    assert!(line.contains("beta_api_shape_disabled"), "{line}");
    assert!(line.contains("close 4000"), "{line}");

    let handshake = handshake_line(&logs);
    assert!(handshake.contains("model=gpt-realtime-2.1"), "{handshake}");
    assert!(handshake.contains("dialect=Beta"), "{handshake}");

    assert_key_never_shown(&logs);
}

/// A refusal for both the retired beta interface and a retired model: one line that names
/// both, with the fix for each, whichever of the two the service names.
fn assert_names_interface_and_model(captured: &Captured, code: &str, close: &str) {
    let logs = captured.text();
    let problems = captured.problems();
    assert_eq!(problems.len(), 1, "one warn/error line: {logs}");
    let line = &problems[0];
    assert!(line.contains(code), "{line}");
    assert!(line.contains(close), "{line}");
    // The interface, with its fix.
    assert!(
        line.contains("the Realtime beta interface is retired")
            && line.contains("drop the `OpenAI-Beta: realtime=v1` header"),
        "{line}"
    );
    // The model, with its fix.
    assert!(
        line.contains(
            "the model `gpt-4o-realtime-preview` is retired: use a current model (gpt-realtime-2.1"
        ),
        "{line}"
    );
    assert_key_never_shown(&logs);
}

#[tokio::test]
async fn a_retired_interface_and_a_retired_model_are_named_together_once() {
    // The service checks the interface first: `beta_api_shape_disabled`, close 4000.
    let server = MockServer::start().await.unwrap();
    let config = Config::url(server.url())
        .with_api_key(ApiKey::new(KEY))
        .with_model("gpt-4o-realtime-preview")
        .with_dialect(Dialect::Beta)
        .with_keepalive(None);
    let captured = refused_connect_logs(config).await;
    assert_names_interface_and_model(&captured, "beta_api_shape_disabled", "close 4000");
}

#[tokio::test]
async fn a_model_refusal_to_a_beta_request_names_the_interface_too_once() {
    // A server that still speaks beta but not the model: `model_not_found`, close 4004.
    let server = MockServer::builder()
        .accept_beta(true)
        .start()
        .await
        .unwrap();
    let config = Config::url(server.url())
        .with_api_key(ApiKey::new(KEY))
        .with_model("gpt-4o-realtime-preview")
        .with_dialect(Dialect::Beta)
        .with_keepalive(None);
    let captured = refused_connect_logs(config).await;
    assert_names_interface_and_model(&captured, "model_not_found", "close 4004");
}
