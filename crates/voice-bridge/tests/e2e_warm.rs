//! A warm agent session (voice_bridge::warm) against the Realtime mock: opened while the
//! phone rings, its greeting is ready when the call starts, and the caller hears it at
//! once; an unclaimed one is closed with a normal close. Paused clock, real sockets.
#![cfg(feature = "openai")]

use std::time::Duration;

use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::{Audio, MockServer, Pacing, Script, Turn};
use voice_bridge::audio::AudioFormat;
use voice_bridge::warm::WarmAgent;
use voice_bridge::{Bridge, CallCommand, CallEvent, CallStart, LegEnd, OpenAiLeg, memory};

const WAIT: Duration = Duration::from_secs(60);

async fn mock() -> MockServer {
    MockServer::builder()
        .script(
            Script::new()
                .turn(Turn::new().say("Hello, this is the clinic.", Audio::Raw(vec![0x2A; 4000])))
                .pacing(Pacing::RealTime)
                // The service's own time to first audio.
                .response_latency(Duration::from_millis(400))
                .delta_duration(Duration::from_millis(100)),
        )
        .start()
        .await
        .unwrap()
}

fn leg(server: &MockServer) -> OpenAiLeg {
    OpenAiLeg::builder(Config::url(server.url()).with_api_key(ApiKey::new("sk-test")))
        .speak_first(true)
        .build()
}

/// Runs a call over `agent` from its start to the first audio the caller gets; returns
/// the report's time from the start to the first agent audio.
async fn first_audio(agent: Box<dyn voice_bridge::AgentLeg>) -> u64 {
    let (call, mut phone) = memory::call_leg(64);
    let bridge = tokio::spawn(Bridge::new(call, agent).run());
    phone
        .send(CallEvent::Started(CallStart::new(
            "CA1",
            "MZ1",
            AudioFormat::MuLaw,
        )))
        .await
        .unwrap();
    loop {
        match tokio::time::timeout(WAIT, phone.recv()).await.unwrap() {
            Some(CallCommand::Play { .. }) => break,
            Some(_) => {}
            None => panic!("the bridge ended before any audio"),
        }
    }
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    let report = tokio::time::timeout(WAIT, bridge).await.unwrap().unwrap();
    report.timings.first_audio_after_start_ms().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_warm_session_has_the_greeting_ready_when_the_call_starts() {
    let server = mock().await;
    let warm = WarmAgent::open(leg(&server), Duration::from_secs(75));
    // The phone rings for 4 s: the session is confirmed and asked for the greeting.
    let session = server.session(0, WAIT).await.unwrap();
    session.wait_for("response.create", WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_secs(4)).await;
    let warmed = warm.claim().await.expect("the warm session");
    assert!(warmed.was_ready());
    assert!(warmed.waited() >= Duration::from_secs(4));
    let warm_ms = first_audio(Box::new(warmed)).await;
    assert_eq!(server.sessions().len(), 1, "the call used the warm session");

    // The same call cold: the handshake, the session's confirmation and the first delta
    // come after the start.
    let cold_server = mock().await;
    let cold_ms = first_audio(Box::new(leg(&cold_server))).await;
    assert!(
        warm_ms < cold_ms,
        "warm {warm_ms} ms, cold {cold_ms} ms from the start to the first audio"
    );
    // Cold, the caller waits for the service; warm, the greeting was waiting for the call.
    assert!(cold_ms >= 400, "{cold_ms}");
    assert!(warm_ms <= 50, "{warm_ms}");
}

#[tokio::test(start_paused = true)]
async fn an_unclaimed_warm_session_is_closed_normally_at_its_limit() {
    let server = mock().await;
    let warm = WarmAgent::open(leg(&server), Duration::from_secs(30));
    let session = server.session(0, WAIT).await.unwrap();
    let started = tokio::time::Instant::now();
    let (server_close, client_close) = session.wait_ended(WAIT).await.unwrap();
    assert_eq!(client_close.map(|c| c.code), Some(1000));
    assert!(server_close.is_none(), "{server_close:?}");
    assert!(started.elapsed() <= Duration::from_secs(30));
    assert!(started.elapsed() >= Duration::from_secs(29));
    assert!(warm.claim().await.is_none());
}
