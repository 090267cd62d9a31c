//! The agent fails: the caller is handed back to the TwiML's spoken fallback (the server
//! closes the stream; Twilio then plays the `<Say>` after `</Connect>` and hangs up), and
//! the outcome says why.

use std::time::{Duration, SystemTime};

use openai_realtime::mock::{HttpRefusal, MockServer};
use serde_json::Value;
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallEnd, CallRecord, CallScript, CallerAudio};
use voice_agent::appointment::Appointment;
use voice_agent::config::derive_context_secret;

use crate::support::{self, AUTH_TOKEN, Create, PUBLIC_HOST};

/// A signed call to the bot, whose agent is `mock`; returns what the callee saw and the
/// outcome line.
async fn call(
    mock: &MockServer,
    name: &str,
    during: impl std::future::Future<Output = ()>,
) -> (CallRecord, Value, Vec<support::Received>) {
    let twilio = support::stand_in(Create::Created("CA1")).await;
    let out = support::temp_dir(name);
    let config = support::config(&mock.url(), &twilio.url, &out);
    let (addr, _bot) = support::serve_bot(&config).await;
    let secret = derive_context_secret(AUTH_TOKEN);
    let signed =
        voice_agent::outbound::sign(&Appointment::demo(), &secret, SystemTime::now()).unwrap();
    let simulated = CallScript::new(format!("ws://{addr}/media-stream"))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url(format!("wss://{PUBLIC_HOST}/media-stream"))
        .parameters(signed.parameters())
        .caller_audio(CallerAudio::silence())
        .max_duration(Duration::from_secs(20))
        .run();
    let (record, ()) = tokio::join!(simulated, during);
    let record = record.unwrap();
    let lines = support::wait_outcome_lines(&out, 1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    let requests = twilio.log.lock().unwrap().clone();
    (record, lines[0].clone(), requests)
}

fn assert_fallback(
    record: &CallRecord,
    outcome: &Value,
    requests: &[support::Received],
    cause: &str,
) {
    // The server closed the stream normally: Twilio goes on to the <Say> fallback.
    assert_eq!(record.end, CallEnd::ServerClosed, "{record:?}");
    assert_eq!(
        record.close.as_ref().map(|c| c.code),
        Some(1000),
        "{record:?}"
    );
    // ...and did not hang up through REST, which would skip it.
    assert!(requests.is_empty(), "{requests:?}");
    assert_eq!(outcome["outcome"], "agent_failed", "{outcome}");
    let why = outcome["why"].as_str().unwrap();
    assert!(why.contains(cause), "{why}");
    // The TwiML after <Connect> is the spoken fallback.
    assert!(
        why.contains("handed over to the instructions after the stream"),
        "{why}"
    );
    let report: Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(outcome["folder"].as_str().unwrap()).join("report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(report["report"]["outcome"]["ended_by"], "agent");
    assert_eq!(report["report"]["outcome"]["fallback"]["kind"], "hand_over");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_refusing_the_upgrade_gives_the_fallback() {
    let mock = MockServer::start().await.unwrap();
    mock.refuse_upgrades(HttpRefusal::unauthorized());
    let (record, outcome, requests) = call(&mock, "refused-401", async {}).await;
    assert_fallback(&record, &outcome, &requests, "401");
    assert!(
        record.duration < Duration::from_secs(5),
        "{:?}",
        record.duration
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openai_closing_mid_call_gives_the_fallback() {
    let appointment = Appointment::demo();
    let mock = MockServer::builder()
        .script(voice_agent::demo::script(&appointment))
        .start()
        .await
        .unwrap();
    let close = async {
        let session = mock.session(0, Duration::from_secs(10)).await.unwrap();
        session
            .wait_for("response.create", Duration::from_secs(10))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(500)).await;
        session.close(1011, "server_error").await;
    };
    let (record, outcome, requests) = call(&mock, "closed-1011", close).await;
    assert_fallback(&record, &outcome, &requests, "1011");
    assert!(record.heard_ms() > 0, "the greeting had started");
}
