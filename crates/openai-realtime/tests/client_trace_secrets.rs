//! The API key appears in no log line at any level, trace included, and that includes the
//! `log` records of tungstenite (which logs each handshake request it writes): a successful
//! connect (plain and TLS), a refused upgrade (401 with a body), and a session refused with
//! an `error` and a close; and the model lookup (`GET /v1/models/{model}`, plain and TLS,
//! answered and refused with a 401), whose HTTP client never holds the key either.
//!
//! One test in its own binary: it installs the process-wide subscriber and the `log` bridge
//! (tracing-subscriber's `try_init` sets up tracing-log's `LogTracer`).
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::io;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use openai_realtime::client::{ApiKey, Config, Connection, retrieve_model};
use openai_realtime::mock::{HttpRefusal, MockServer};
use tracing_subscriber::filter::LevelFilter;

const WAIT: Duration = Duration::from_secs(10);
const KEY: &str = "sk-proj-trace7secret7value7XYZ";
/// A part of the key that no masking would show.
const KEY_MIDDLE: &str = "trace7secret7value";

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

fn config(server: &MockServer, key: &str) -> Config {
    let config = Config::url(server.url()).with_api_key(ApiKey::new(key));
    match server.certificate_der() {
        Some(certificate) => config.with_root_certificate_der(certificate),
        None => config,
    }
}

async fn connect(config: Config) -> Result<Connection, openai_realtime::client::Error> {
    tokio::time::timeout(WAIT, Connection::connect(config))
        .await
        .expect("an answer in time")
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

    // A session that works, over ws:// and wss://, ended by us.
    for server in [
        MockServer::builder().api_key(KEY).start().await.unwrap(),
        MockServer::builder()
            .api_key(KEY)
            .tls_self_signed()
            .start()
            .await
            .unwrap(),
    ] {
        let conn = connect(config(&server, KEY)).await.expect("the key works");
        // The key reached the service: the mock accepts only this one.
        assert_eq!(
            server
                .session(0, WAIT)
                .await
                .unwrap()
                .header("authorization"),
            Some("<redacted>")
        );
        conn.close().await.unwrap();
        let debug = format!("{conn:?}");
        assert!(!debug.contains(KEY_MIDDLE), "{debug}");
        // The model lookup on the same server, with the same key: accepted (the mock
        // checks it), then refused with another key.
        let model = retrieve_model(&config(&server, KEY), "gpt-realtime")
            .await
            .expect("the key works for the lookup");
        assert!(model.shutdown_date.is_some());
        let err = retrieve_model(&config(&server, &KEY.replace("XYZ", "XYW")), "gpt-realtime")
            .await
            .unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(KEY_MIDDLE), "{shown}");
        }
    }

    // Refused at the upgrade: 401 with the service's body.
    let server = MockServer::start().await.unwrap();
    server.refuse_upgrades(HttpRefusal::unauthorized());
    let err = connect(config(&server, KEY)).await.unwrap_err();
    assert!(err.is_refused(), "{err}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(KEY_MIDDLE), "{shown}");
    }

    // Refused after the upgrade: `error` invalid_api_key, then close 3000.
    let server = MockServer::builder()
        .api_key("sk-another-key-0000")
        .start()
        .await
        .unwrap();
    let err = connect(config(&server, KEY)).await.unwrap_err();
    assert!(err.is_rejected(), "{err}");
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(!shown.contains(KEY_MIDDLE), "{shown}");
    }

    let config_debug = format!("{:?}", config(&server, KEY));
    assert!(!config_debug.contains(KEY_MIDDLE), "{config_debug}");

    let logs = captured.text();
    // The capture saw tungstenite's own trace records (through the `log` bridge), handshakes
    // included: otherwise this test would prove nothing.
    assert!(
        logs.contains("TRACE tungstenite::handshake::client: Request:"),
        "no tungstenite trace lines captured"
    );
    assert!(logs.contains("Server handshake done"), "{logs}");
    assert!(logs.contains("model looked up"), "{logs}");
    assert!(logs.contains("model lookup failed"), "{logs}");
    assert!(
        !logs.contains(KEY_MIDDLE),
        "the key is in the logs: {}",
        logs.lines()
            .filter(|l| l.contains(KEY_MIDDLE))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
