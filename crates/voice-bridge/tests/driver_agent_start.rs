//! A session that never starts, through the real driver with the real OpenAI client: a
//! refusal by the OpenAI Realtime mock on loopback, and a connect that is never answered.
//! What the caller gets, what the report says, and how many lines the log has for it.
#![cfg(feature = "openai")]

#[path = "support/logs.rs"]
mod logs;

use std::time::Duration;

use openai_realtime::Dialect;
use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::MockServer;
use tokio::net::TcpListener;
use voice_bridge::audio::AudioFormat;
use voice_bridge::report::EndReason;
use voice_bridge::{
    Bridge, BridgeConfig, CallCommand, CallEvent, CallReport, CallStart, Fallback, LegEnd,
    OpenAiLeg, memory,
};

use logs::Captured;

/// The model the seed's configuration named, retired by the service.
const RETIRED_MODEL: &str = "gpt-4o-realtime-preview-2024-10-01";

/// Runs one call on the memory call leg against `agent` until the bridge hangs up.
async fn call(agent: OpenAiLeg, config: BridgeConfig) -> CallReport {
    let (call, mut phone) = memory::call_leg(64);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
    let start = CallStart::new("CA16", "MZ16", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();
    loop {
        match phone.recv().await {
            Some(CallCommand::HangUp) | None => break,
            Some(_) => {}
        }
    }
    bridge.await.unwrap()
}

fn hang_up() -> BridgeConfig {
    let mut config = BridgeConfig::default();
    config.fallback = Fallback::HangUp;
    config
}

/// The seed's retired configuration: the beta interface (refused by the service) and a
/// preview model. The service sends one `error` event and closes (4000): the client logs
/// the refusal once, and nothing above it logs the same text again at WARN or ERROR. The
/// report keeps it, and says the session never started.
#[tokio::test(start_paused = true)]
async fn a_refused_session_is_one_line_and_reads_as_never_started() {
    let (captured, _guard) = Captured::start();
    let mock = MockServer::builder()
        .api_key("sk-test")
        .start()
        .await
        .unwrap();
    let config = Config::url(mock.url())
        .with_api_key(ApiKey::new("sk-test"))
        .with_dialect(Dialect::Beta)
        .with_model(RETIRED_MODEL);
    let report = call(OpenAiLeg::new(config), hang_up()).await;

    let EndReason::AgentNotStarted {
        end: LegEnd::Refused { detail, .. },
    } = &report.outcome.reason
    else {
        panic!("{:?}", report.outcome)
    };
    assert!(detail.contains("beta_api_shape_disabled"), "{detail}");
    assert!(
        report
            .outcome
            .to_string()
            .starts_with("the agent session never started: refused"),
        "{}",
        report.outcome
    );
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.errors[0].message.contains("beta_api_shape_disabled"));

    let warnings = captured.warnings();
    let refusal: Vec<&String> = warnings
        .iter()
        .filter(|line| line.contains("beta_api_shape_disabled"))
        .collect();
    assert_eq!(
        refusal.len(),
        1,
        "one line for the cause:\n{}",
        warnings.join("\n")
    );
    // Not repeated at INFO either.
    let text = captured.text();
    let repeated = text
        .lines()
        .filter(|line| !line.contains(" DEBUG ") && line.contains("beta_api_shape_disabled"))
        .count();
    assert_eq!(repeated, 1, "{text}");
    assert!(
        refusal[0].contains("call_id=CA16"),
        "with the call's ids: {}",
        refusal[0]
    );
}

/// A listener that accepts TCP connections and never answers them.
async fn silent_listener() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v1/realtime", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (url, task)
}

/// A connect that is never answered, with the bridge's readiness limit the shorter: the
/// line says what the leg was waiting for, naming the URL, and the limit.
#[tokio::test(start_paused = true)]
async fn a_connect_never_answered_names_the_url_and_the_limit() {
    let (captured, _guard) = Captured::start();
    let (url, _listener) = silent_listener().await;
    let config = Config::url(&url)
        .with_api_key(ApiKey::new("sk-secret-key"))
        .with_connect_timeout(Duration::from_secs(30));
    let mut bridge = hang_up();
    bridge.agent_ready_timeout = Duration::from_secs(3);
    let report = call(OpenAiLeg::new(config), bridge).await;

    let EndReason::AgentNotReady {
        limit_ms: 3000,
        waiting_for: Some(waiting_for),
    } = &report.outcome.reason
    else {
        panic!("{:?}", report.outcome)
    };
    assert!(waiting_for.contains(&url), "{waiting_for}");
    let warnings = captured.warnings();
    let line = warnings
        .iter()
        .find(|line| line.contains("not ready within 3000 ms"))
        .unwrap_or_else(|| panic!("{}", warnings.join("\n")));
    assert!(line.contains(&url), "{line}");
    assert!(line.contains("WebSocket handshake"), "{line}");
    assert!(line.contains("call_id=CA16"), "{line}");
    assert_eq!(warnings.len(), 1, "one line:\n{}", warnings.join("\n"));
    assert!(!captured.text().contains("sk-secret-key"));
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert!(report.errors[0].message.contains(&url));
}

/// The same with the client's connect timeout the shorter: its own line names the URL and
/// the timeout, once; the report says the session never started.
#[tokio::test(start_paused = true)]
async fn a_connect_timeout_of_the_client_is_one_line_naming_the_url() {
    let (captured, _guard) = Captured::start();
    let (url, _listener) = silent_listener().await;
    let config = Config::url(&url)
        .with_api_key(ApiKey::new("sk-test"))
        .with_connect_timeout(Duration::from_secs(2));
    let report = call(OpenAiLeg::new(config), hang_up()).await;

    let EndReason::AgentNotStarted {
        end: LegEnd::Failed { message },
    } = &report.outcome.reason
    else {
        panic!("{:?}", report.outcome)
    };
    assert!(message.contains("timed out"), "{message}");
    assert!(message.contains(&url), "{message}");
    let warnings = captured.warnings();
    let timed_out: Vec<&String> = warnings
        .iter()
        .filter(|line| line.contains("timed out"))
        .collect();
    assert_eq!(timed_out.len(), 1, "{}", warnings.join("\n"));
    assert!(
        timed_out[0].contains("Realtime connect timed out"),
        "{}",
        timed_out[0]
    );
    assert!(timed_out[0].contains(&url), "{}", timed_out[0]);
    assert!(timed_out[0].contains("2s"), "{}", timed_out[0]);
}

/// With the defaults the bridge's readiness limit and the client's connect timeout are
/// both 10 s: whichever runs out first, one WARN line names the URL and the limit.
#[tokio::test(start_paused = true)]
async fn a_connect_never_answered_with_the_defaults_is_one_line_naming_the_url() {
    let (captured, _guard) = Captured::start();
    let (url, _listener) = silent_listener().await;
    let config = Config::url(&url).with_api_key(ApiKey::new("sk-test"));
    let began = tokio::time::Instant::now();
    let report = call(OpenAiLeg::new(config), hang_up()).await;
    assert_eq!(began.elapsed(), Duration::from_secs(10));

    assert!(
        report.outcome.reason.is_agent_failure(),
        "{:?}",
        report.outcome
    );
    let warnings = captured.warnings();
    let naming: Vec<&String> = warnings.iter().filter(|line| line.contains(&url)).collect();
    assert_eq!(naming.len(), 1, "{}", warnings.join("\n"));
    assert!(
        naming[0].contains("10000 ms") || naming[0].contains("after 10s"),
        "{}",
        naming[0]
    );
    assert!(naming[0].contains("call_id=CA16"), "{}", naming[0]);
}
