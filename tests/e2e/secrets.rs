//! No secret in any log line at any level (issue 16, item 3): the example's own process,
//! at `RUST_LOG=trace`, serving a signed call whose agent checks the key.

use std::time::{Duration, SystemTime};

use openai_realtime::mock::{KeyCheck, MockServer};
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallEnd, CallScript, CallerAudio};
use voice_agent::appointment::Appointment;
use voice_agent::config::derive_context_secret;

use crate::example::{self, Serve};
use crate::support::{self, ACCOUNT_SID, AUTH_TOKEN, Create, FROM, OPENAI_API_KEY, PUBLIC_HOST};

/// Fails if `output` holds a secret, and unless it holds trace lines of tungstenite's
/// (else the test would prove nothing).
fn assert_no_secret(output: &str) {
    assert!(
        output.contains("TRACE"),
        "no trace line at RUST_LOG=trace:\n{output}"
    );
    assert!(
        output.contains("tungstenite::protocol"),
        "no tungstenite line at RUST_LOG=trace:\n{output}"
    );
    assert!(output.contains("Client handshake done"), "{output}");
    use base64::Engine as _;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"));
    for (name, secret) in [
        ("OPENAI_API_KEY", OPENAI_API_KEY),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("Twilio's basic auth", basic.as_str()),
    ] {
        let leaks: Vec<&str> = output.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "{name} in the log:\n{}", leaks.join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_at_rust_log_trace_prints_neither_the_openai_key_nor_the_auth_token() {
    // The agent accepts this key only: a call it answers was sent the key.
    let mock = MockServer::builder()
        .key_check(KeyCheck::Exact(OPENAI_API_KEY.to_owned()))
        .start()
        .await
        .unwrap();
    let dir = support::temp_dir("trace-logs");
    let out = dir.join("out");
    let env = [
        ("RUST_LOG", "trace".to_owned()),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
        ("PUBLIC_URL", format!("https://{PUBLIC_HOST}")),
        ("OPENAI_API_KEY", OPENAI_API_KEY.to_owned()),
        ("OPENAI_REALTIME_URL", mock.url()),
        ("OUTPUT_DIR", out.display().to_string()),
    ];
    let serve = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Serve::start(&dir, &env, None)
    })
    .await
    .unwrap();

    let secret = derive_context_secret(AUTH_TOKEN);
    let signed =
        voice_agent::outbound::sign(&Appointment::demo(), &secret, SystemTime::now()).unwrap();
    let record = CallScript::new(format!("ws://{}/media-stream", serve.addr))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url(format!("wss://{PUBLIC_HOST}/media-stream"))
        .parameters(signed.parameters())
        .caller_audio(CallerAudio::silence())
        .hang_up_after(Duration::from_millis(1500))
        .max_duration(Duration::from_secs(20))
        .run()
        .await
        .unwrap();
    assert_eq!(record.end, CallEnd::HungUp, "{record:?}");
    assert!(
        record.media_received > 0,
        "the agent took the key and spoke"
    );
    let lines = support::wait_outcome_lines(&out, 1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");

    assert_no_secret(&serve.stop());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_at_rust_log_trace_prints_no_secret() {
    let mock = MockServer::builder()
        .key_check(KeyCheck::Exact(OPENAI_API_KEY.to_owned()))
        .start()
        .await
        .unwrap();
    let twilio = support::stand_in(Create::Created("CA1")).await;
    let dir = support::temp_dir("trace-check");
    let env = [
        ("RUST_LOG", "trace".to_owned()),
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID.to_owned()),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
        ("TWILIO_FROM_NUMBER", FROM.to_owned()),
        ("TWILIO_API_URL", twilio.url.clone()),
        ("PUBLIC_URL", format!("https://{PUBLIC_HOST}")),
        ("OPENAI_API_KEY", OPENAI_API_KEY.to_owned()),
        ("OPENAI_REALTIME_URL", mock.url()),
    ];
    let (status, output) = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        example::run(&dir, &env, &["check"])
    })
    .await
    .unwrap();
    assert!(status.success(), "every check passes:\n{output}");
    assert!(output.contains("all checks passed"), "{output}");
    assert_no_secret(&output);
}
