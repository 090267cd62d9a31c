//! `check` against the OpenAI mock and the Twilio stand-in: nothing is dialled.

use openai_realtime::Dialect;
use openai_realtime::mock::MockServer;
use voice_agent::check;

use crate::support::{self, Create};

#[tokio::test]
async fn the_original_bots_settings_are_named_retired_in_one_line() {
    let mock = MockServer::start().await.unwrap();
    let out = support::temp_dir("check-retired");
    let mut config = support::config(&mock.url(), "http://127.0.0.1:9", &out);
    config.agent.model = "gpt-4o-realtime-preview-2024-10-01".to_owned();
    config.agent.dialect = Dialect::Beta;

    let line = check::openai(&config).await;
    let text = line.to_string();
    assert!(!line.ok, "{text}");
    assert!(!text.contains('\n'), "one line: {text}");
    // The service's words, and what to do about the interface and the model in the
    // command line's words (not the library's `Dialect::Ga`).
    assert!(text.contains("beta_api_shape_disabled"), "{text}");
    assert!(
        text.contains("retired the Realtime beta interface"),
        "{text}"
    );
    assert!(
        text.contains("`--dialect ga` or OPENAI_DIALECT=ga"),
        "{text}"
    );
    assert!(!text.contains("Dialect::"), "{text}");
    assert!(
        text.contains("`gpt-4o-realtime-preview-2024-10-01` is retired or unknown"),
        "{text}"
    );
    assert!(text.contains("`--model` or OPENAI_MODEL"), "{text}");
    assert!(
        text.contains("gpt-realtime-2.1"),
        "names a current model: {text}"
    );
}

#[tokio::test]
async fn a_working_setup_passes_every_check() {
    let mock = MockServer::start().await.unwrap();
    let twilio = support::stand_in(Create::Created("CA1")).await;
    let out = support::temp_dir("check-ok");
    let config = support::config(&mock.url(), &twilio.url, &out);

    let lines = check::run(&config).await;
    for line in &lines {
        assert!(line.ok, "{line}");
    }
    let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
    assert!(text[0].contains("confirmed the bot's settings"), "{text:?}");
    assert!(
        text[1].contains("gpt-realtime-2.1 (shutdown date): the model `gpt-realtime-2.1` has no announced shutdown date"),
        "{text:?}"
    );
    assert!(
        text[2].contains("credentials accepted, status active"),
        "{text:?}"
    );
    assert!(
        text[3].contains("a voice-capable number of this account"),
        "{text:?}"
    );
    assert!(
        text[4].contains("wss://bot.example.test/media-stream"),
        "{text:?}"
    );
    // The session was configured as a call would be, then closed.
    let session = mock
        .session(0, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        session
            .received_types()
            .contains(&"session.update".to_owned())
    );
    // Nothing was dialled.
    assert!(twilio.log.lock().unwrap().iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn a_bad_key_and_bad_twilio_credentials_are_named() {
    let mock = MockServer::builder()
        .api_key("sk-the-right-one")
        .start()
        .await
        .unwrap();
    let twilio = support::stand_in(Create::Created("CA1")).await;
    let out = support::temp_dir("check-bad");
    let mut config = support::config(&mock.url(), &twilio.url, &out);
    if let Some(twilio) = &mut config.twilio {
        twilio.auth_token = twilio_media_stream::AuthToken::new("0000000000000000000000000000000a");
    }

    let lines = check::run(&config).await;
    let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
    assert!(
        !lines[0].ok && text[0].contains("API key is invalid"),
        "{text:?}"
    );
    // The model look-up is refused too (401), which a proxy without the endpoint would
    // also give: a warning, the session line above already fails.
    assert!(lines[1].warning && text[1].contains("HTTP 401"), "{text:?}");
    assert!(
        !lines[2].ok && text[2].contains("Twilio error 20003"),
        "{text:?}"
    );
    assert!(text[2].contains("TWILIO_AUTH_TOKEN"), "{text:?}");
}
