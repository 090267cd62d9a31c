//! The bot with a GPT-Live model (`--model gpt-live-1`): `check` opens a Live session with
//! the bot's own session config and names what the service resolved, or why it refused.
//! (The whole call over Live is in `demo.rs`.)

use std::time::Duration;

use openai_realtime::mock::MockServer;
use voice_agent::check;

use crate::support;

#[tokio::test]
async fn check_opens_a_live_session_with_the_bot_s_config_and_reads_the_model() {
    let mock = MockServer::start().await.unwrap();
    let out = support::temp_dir("check-live");
    let mut config = support::config(&mock.url(), "http://127.0.0.1:9", &out);
    config.agent.model = "gpt-live-1".to_owned();
    config.agent.live_url = Some(mock.live_url());

    let line = check::openai(&config).await;
    let text = line.to_string();
    assert!(line.ok && !line.warning, "{text}");
    assert!(
        text.starts_with("ok   OpenAI GPT-Live (model gpt-live-1): ok, session live_"),
        "{text}"
    );
    assert!(
        text.contains(r#"{"type":"audio/pcmu","rate":8000} both ways"#),
        "{text}"
    );
    let model = check::model(&config, "2026-12-03".parse().unwrap()).await;
    assert!(model.ok && !model.warning, "{model}");
    assert!(
        model.to_string().contains("no announced shutdown date"),
        "{model}"
    );

    // What the bot starts a Live session with: its instructions, G.711, and the four tools
    // as a Responses delegation.
    let session = mock.live_session(0, Duration::from_secs(5)).await.unwrap();
    let start = session.session_config();
    assert_eq!(start["model"], "gpt-live-1");
    assert_eq!(start["audio"]["format"]["type"], "audio/pcmu");
    assert!(
        start["instructions"]
            .as_str()
            .is_some_and(|i| i.contains("Dr. Patel")),
        "{start}"
    );
    assert_eq!(start["delegation"]["type"], "responses");
    let tools: Vec<&str> = start["delegation"]["responses"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(
        tools,
        [
            "confirm_appointment",
            "reschedule_appointment",
            "cancel_appointment",
            "end_call"
        ]
    );
}

#[tokio::test]
async fn check_fails_on_an_unknown_live_model_with_the_service_s_words() {
    let mock = MockServer::start().await.unwrap();
    let out = support::temp_dir("check-live-unknown");
    let mut config = support::config(&mock.url(), "http://127.0.0.1:9", &out);
    config.agent.model = "gpt-live-9".to_owned();
    config.agent.live_url = Some(mock.live_url());

    let line = check::openai(&config).await;
    let text = line.to_string();
    assert!(!line.ok, "{text}");
    assert!(
        text.starts_with("FAIL OpenAI GPT-Live (model gpt-live-9)"),
        "{text}"
    );
    assert!(text.contains("model_not_found"), "{text}");
}
