//! No secret in any log line at any level (issue 16, item 3): the example's own process,
//! at `RUST_LOG=trace`, serving a signed call whose agent checks the key.

use std::time::{Duration, SystemTime};

use openai_realtime::mock::{KeyCheck, MockServer};
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallEnd, CallScript, CallerAudio};
use voice_agent::appointment::Appointment;
use voice_agent::config::derive_context_secret;

use crate::example::Serve;
use crate::support::{self, AUTH_TOKEN, OPENAI_API_KEY, PUBLIC_HOST};

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

    let output = serve.stop();
    // The level really was trace, tungstenite's included, and the handshake was logged.
    assert!(
        output.contains("TRACE"),
        "no trace line at RUST_LOG=trace:\n{output}"
    );
    assert!(
        output.contains("tungstenite::protocol"),
        "no tungstenite line at RUST_LOG=trace:\n{output}"
    );
    assert!(output.contains("Client handshake done"), "{output}");
    for (name, secret) in [
        ("OPENAI_API_KEY", OPENAI_API_KEY),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
    ] {
        let leaks: Vec<&str> = output.lines().filter(|l| l.contains(secret)).collect();
        assert!(leaks.is_empty(), "{name} in the log:\n{}", leaks.join("\n"));
    }
}
