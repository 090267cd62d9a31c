//! `client::retrieve_model` against the mock's `GET /v1/models/{model}` over loopback:
//! the announced shutdown dates, the service's 404 and 401 in typed errors, TLS with the
//! mock's certificate, a date set by the test, and the WebSocket on the same port still
//! working after a lookup.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::time::Duration;

use openai_realtime::client::{ApiKey, Config, Connection, ErrorKind, KnownIssue, retrieve_model};
use openai_realtime::mock::MockServer;
use openai_realtime::models::{Date, Retirement};

const WAIT: Duration = Duration::from_secs(10);

fn config(server: &MockServer, key: &str) -> Config {
    let config = Config::url(server.url()).with_api_key(ApiKey::new(key));
    match server.certificate_der() {
        Some(certificate) => config.with_root_certificate_der(certificate),
        None => config,
    }
}

fn day(text: &str) -> Date {
    text.parse().unwrap()
}

#[tokio::test]
async fn the_announced_dates_come_back_typed_and_judged() {
    for server in [
        MockServer::start().await.unwrap(),
        MockServer::builder()
            .tls_self_signed()
            .start()
            .await
            .unwrap(),
    ] {
        let config = config(&server, "sk-test");
        let model = retrieve_model(&config, "gpt-realtime").await.unwrap();
        assert_eq!(model.id, "gpt-realtime");
        assert_eq!(model.object, "model");
        assert_eq!(model.shutdown_date, Some(day("2027-01-20")));
        assert_eq!(
            model.retirement(day("2026-12-03")),
            Retirement::Ahead {
                model: "gpt-realtime".to_owned(),
                date: day("2027-01-20"),
                days_left: 48,
                replacement: "gpt-realtime-2.1",
            }
        );
        assert!(model.retirement(day("2027-01-20")).is_retired());

        let current = retrieve_model(&config, "gpt-realtime-2.1").await.unwrap();
        assert_eq!(current.shutdown_date, None);
        assert!(!current.retirement(day("2026-12-03")).is_announced());

        let paths: Vec<String> = server.model_lookups().into_iter().map(|l| l.path).collect();
        assert_eq!(
            paths,
            ["/v1/models/gpt-realtime", "/v1/models/gpt-realtime-2.1"]
        );
    }
}

#[tokio::test]
async fn an_unknown_model_is_the_service_s_404_with_advice() {
    let server = MockServer::start().await.unwrap();
    let err = retrieve_model(&config(&server, "sk-test"), "gpt-4o-realtime-preview")
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Lookup, "{err}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(err.code(), Some("model_not_found"));
    assert_eq!(err.known_issue(), Some(KnownIssue::ModelNotFound));
    let text = err.to_string();
    assert!(text.contains("HTTP 404"), "{text}");
    assert!(
        text.contains("/v1/models/gpt-4o-realtime-preview"),
        "{text}"
    );
    assert!(text.contains("does not exist"), "{text}");
    assert!(
        text.contains("gpt-realtime-2.1-mini"),
        "names the current models: {text}"
    );
    assert_eq!(server.model_lookups()[0].status, 404);
}

#[tokio::test]
async fn a_bad_or_missing_key_is_a_401_and_never_shown() {
    let server = MockServer::builder()
        .api_key("sk-the-right-one-0000")
        .start()
        .await
        .unwrap();
    let key = "sk-proj-wrong7secret7key-1234";
    let err = retrieve_model(&config(&server, key), "gpt-realtime")
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
    assert_eq!(err.code(), Some("invalid_api_key"));
    assert_eq!(err.known_issue(), Some(KnownIssue::InvalidApiKey));
    for shown in [
        err.to_string(),
        format!("{err:?}"),
        err.report().to_string(),
    ] {
        assert!(!shown.contains("wrong7secret7key"), "{shown}");
    }

    let err = retrieve_model(&Config::url(server.url()), "gpt-realtime")
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
    assert!(
        err.to_string().contains("didn't provide an API key"),
        "{err}"
    );

    let model = retrieve_model(&config(&server, "sk-the-right-one-0000"), "gpt-realtime")
        .await
        .unwrap();
    assert_eq!(model.shutdown_date, Some(Date::JAN_20_2027));
}

#[tokio::test]
async fn a_test_can_make_a_model_already_retired() {
    let server = MockServer::builder()
        .shutdown_date("gpt-realtime-2.1", Date::new(2026, 12, 1))
        .shutdown_date("gpt-realtime", None)
        .start()
        .await
        .unwrap();
    let config = config(&server, "sk-test");
    let model = retrieve_model(&config, "gpt-realtime-2.1").await.unwrap();
    let verdict = model.retirement(day("2026-12-03"));
    assert!(verdict.is_retired(), "{verdict}");
    assert!(
        verdict.to_string().contains("was shut down on 2026-12-01"),
        "{verdict}"
    );
    let old = retrieve_model(&config, "gpt-realtime").await.unwrap();
    assert_eq!(old.shutdown_date, None);
}

#[tokio::test]
async fn the_websocket_on_the_same_port_works_after_a_lookup() {
    let server = MockServer::start().await.unwrap();
    let config = config(&server, "sk-test").with_model("gpt-realtime");
    let model = retrieve_model(&config, config.model()).await.unwrap();
    assert_eq!(model.id, "gpt-realtime");
    let connection = tokio::time::timeout(WAIT, Connection::connect(config))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        server.session(0, WAIT).await.unwrap().model(),
        "gpt-realtime"
    );
    connection.close().await.unwrap();
}

#[tokio::test]
async fn nobody_listening_is_a_connect_error_naming_the_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = Config::url(format!("ws://127.0.0.1:{port}/v1/realtime"));
    let err = retrieve_model(&config, "gpt-realtime").await.unwrap_err();
    assert!(err.is_connect(), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("http://127.0.0.1:{port}/v1/models/gpt-realtime")),
        "{err}"
    );
}
