//! The agent leg over TLS: the mock behind rustls with a self-signed certificate, the client
//! trusting exactly that certificate, over `wss://` on loopback.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use openai_realtime::client::Connection;
use openai_realtime::mock::{MockServer, Script, Tap, Turn};
use openai_realtime::{ClientEvent, ServerEvent};

#[path = "support/common.rs"]
mod support;

use support::config;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn client_trusting_the_mock_certificate_talks_over_wss() {
    let server = MockServer::builder()
        .tls_self_signed()
        .script(Script::new().turn(Turn::speech("Over TLS.")))
        .start()
        .await
        .expect("mock starts");
    assert!(
        server.url().starts_with("wss://127.0.0.1:"),
        "{}",
        server.url()
    );
    let certificate = server.certificate_der().expect("a TLS server");

    let mut conn = tokio::time::timeout(
        WAIT,
        Connection::connect(config(&server).with_root_certificate_der(certificate)),
    )
    .await
    .expect("connects in time")
    .expect("TLS handshake and upgrade succeed");
    conn.send(&ClientEvent::response_create()).await.unwrap();
    let mut transcript = String::new();
    let done = async {
        while let Some(event) = conn.recv().await {
            match event.expect("no error") {
                ServerEvent::ResponseOutputAudioTranscriptDelta(delta) => {
                    transcript.push_str(&delta.delta)
                }
                ServerEvent::ResponseDone(_) => return,
                _ => {}
            }
        }
        panic!("session ended before response.done");
    };
    tokio::time::timeout(WAIT, done)
        .await
        .expect("response in time");
    assert_eq!(transcript, "Over TLS.");
    conn.close().await.unwrap();

    // The mock saw the session (and its log works over TLS too).
    let session = server.session(0, WAIT).await.unwrap();
    assert_eq!(session.received_types(), ["response.create"]);
}

#[tokio::test]
async fn client_with_the_built_in_roots_refuses_the_self_signed_certificate() {
    let server = MockServer::builder()
        .tls_self_signed()
        .start()
        .await
        .expect("mock starts");
    let Err(err) = tokio::time::timeout(WAIT, Connection::connect(config(&server)))
        .await
        .expect("fails in time")
    else {
        panic!("an unknown issuer must be refused");
    };
    assert!(err.is_connect(), "{err}");
    let chain = format!("{err:?}");
    assert!(
        chain.contains("UnknownIssuer") || chain.contains("certificate"),
        "{chain}"
    );
    // The failed handshake reached the mock as a connection that never upgraded.
    let refused = async {
        while server.refused_upgrades() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(WAIT, refused).await.expect("counted");
    assert!(server.sessions().is_empty());
}

/// The certificate as a PEM block, lines of 64 base64 characters.
fn pem(der: &[u8]) -> String {
    use base64::Engine as _;
    let text = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

/// Connects and reads `session.created`: the handshake went through.
async fn connects(config: openai_realtime::client::Config) -> Result<(), String> {
    match tokio::time::timeout(WAIT, Connection::connect(config)).await {
        Ok(Ok(conn)) => {
            conn.close().await.unwrap();
            Ok(())
        }
        Ok(Err(err)) => Err(format!("{err:?}")),
        Err(_) => panic!("no answer in time"),
    }
}

#[tokio::test]
async fn client_trusting_the_mock_certificate_as_pem_talks_over_wss() {
    let server = MockServer::builder()
        .tls_self_signed()
        .start()
        .await
        .expect("mock starts");
    let certificate = server.certificate_der().expect("a TLS server");
    // A bundle with some text around the block, as CA files have.
    let bundle = format!("# the mock's CA\n{}", pem(certificate));
    let config = config(&server).with_root_certificates_pem(&bundle);
    assert!(format!("{config:?}").contains("Roots(1 certificates)"));
    connects(config)
        .await
        .expect("TLS handshake and upgrade succeed");
}

#[tokio::test]
async fn a_certificate_that_does_not_parse_fails_the_connection_as_configuration() {
    let server = MockServer::builder()
        .tls_self_signed()
        .start()
        .await
        .expect("mock starts");
    let certificate = server.certificate_der().expect("a TLS server").to_vec();
    let cases = [
        (
            config(&server)
                .with_root_certificate_der(certificate.clone())
                .with_root_certificate_der(b"not a certificate".to_vec()),
            "root certificate 2 refused",
        ),
        (
            config(&server).with_root_certificates_pem("no PEM here"),
            "holds no CERTIFICATE",
        ),
        (
            config(&server).with_root_certificates_pem(
                "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n",
            ),
            "root certificate 1 refused: PEM",
        ),
    ];
    for (config, reason) in cases {
        let err = tokio::time::timeout(WAIT, Connection::connect(config))
            .await
            .expect("fails in time")
            .err()
            .unwrap_or_else(|| panic!("{reason}: connected"));
        assert!(err.is_config(), "{reason}: {err:?}");
        assert!(err.to_string().contains(reason), "{reason}: {err}");
    }
    // Nothing reached the mock: the refusal came before the connection.
    assert_eq!(server.refused_upgrades(), 0);
    assert!(server.sessions().is_empty());
}

#[cfg(feature = "rustls-0_23")]
#[tokio::test]
async fn with_rustls_0_23_the_root_store_and_configuration_of_rustls_work() {
    let server = MockServer::builder()
        .tls_self_signed()
        .start()
        .await
        .expect("mock starts");
    let roots = server.root_certificates().expect("a TLS server");
    assert_eq!(roots.len(), 1);
    assert_eq!(
        server.certificate().map(|c| c.as_ref()),
        server.certificate_der()
    );
    connects(config(&server).with_root_certificates(roots.clone()))
        .await
        .expect("with the root store");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    connects(config(&server).with_tls_config(Arc::new(tls)))
        .await
        .expect("with the configuration");
}

/// Counts the frames both ways.
struct Count(Arc<[AtomicUsize; 2]>);

impl Tap for Count {
    fn received(&mut self, _text: &str) {
        self.0[0].fetch_add(1, Ordering::SeqCst);
    }
    fn sent(&mut self, _text: &str) {
        self.0[1].fetch_add(1, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn without_recording_a_tap_still_sees_every_frame() {
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let seen = Arc::clone(&counts);
    let server = MockServer::builder()
        .record(false)
        .tap(move |_| Count(Arc::clone(&seen)))
        .script(Script::new().turn(Turn::speech("Untracked.")))
        .start()
        .await
        .expect("mock starts");
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    conn.send(&ClientEvent::response_create()).await.unwrap();
    let mut events = 1; // session.created, read by connect
    let done = async {
        while let Some(event) = conn.recv().await {
            events += 1;
            if matches!(event.unwrap(), ServerEvent::ResponseDone(_)) {
                return;
            }
        }
    };
    tokio::time::timeout(WAIT, done)
        .await
        .expect("response in time");
    let session = server.session(0, WAIT).await.unwrap();
    assert!(session.received().is_empty() && session.sent().is_empty());
    assert_eq!(counts[0].load(Ordering::SeqCst), 1, "response.create");
    assert_eq!(counts[1].load(Ordering::SeqCst), events);
}
