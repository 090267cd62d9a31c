//! One huge agent delta, through the real driver with the real OpenAI client against the
//! Realtime mock on loopback: the bridge queues at most `max_playback_ahead` toward the
//! caller, cuts the rest with one line and counts it.
#![cfg(feature = "openai")]

#[path = "support/logs.rs"]
mod logs;

use std::time::Duration;

use base64::Engine as _;
use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::MockServer;
use serde_json::json;
use voice_bridge::audio::AudioFormat;
use voice_bridge::{
    Bridge, BridgeConfig, CallCommand, CallEvent, CallStart, LegEnd, OpenAiLeg, memory,
};

use logs::Captured;

const WAIT: Duration = Duration::from_secs(10);

/// Five minutes of mu-law (2.4 MB) in one `response.output_audio.delta`, against a limit of
/// 20 s ahead: about 100 messages of 200 ms go to the caller, not 1,500; 280 s are cut,
/// with one line.
#[tokio::test(start_paused = true)]
async fn one_huge_delta_is_cut_at_the_limit_ahead_of_playback() {
    let (captured, _guard) = Captured::start();
    let mock = MockServer::builder()
        .api_key("sk-test")
        .start()
        .await
        .unwrap();
    let agent = OpenAiLeg::new(Config::url(mock.url()).with_api_key(ApiKey::new("sk-test")));
    let mut config = BridgeConfig::default();
    config.idle_timeout = None;
    config.max_playback_ahead = Duration::from_secs(20);
    let (call, mut phone) = memory::call_leg(64);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
    let start = CallStart::new("CA9", "MZ9", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();

    let session = mock.session(0, WAIT).await.unwrap();
    session.wait_for("session.update", WAIT).await.unwrap();
    // Let the bridge take the confirmation before the delta.
    tokio::time::sleep(Duration::from_millis(10)).await;
    let minutes = vec![0x2Au8; 8_000 * 300];
    let delta = base64::engine::general_purpose::STANDARD.encode(&minutes);
    let common = json!({"response_id": "resp_1", "item_id": "item_1", "output_index": 0});
    session
        .send_event(json!({"type": "response.created", "event_id": "event_1",
            "response": {"id": "resp_1", "object": "realtime.response", "status": "in_progress",
                "output": []}}))
        .await;
    let mut event = json!({"type": "response.output_audio.delta", "event_id": "event_2",
        "content_index": 0, "delta": delta});
    for (key, value) in common.as_object().unwrap() {
        event[key] = value.clone();
    }
    session.send_event(event).await;

    // Take what the bridge sends until it has been quiet for a (paused) second.
    let mut played = Duration::ZERO;
    let mut plays = 0;
    while let Ok(Some(command)) = tokio::time::timeout(Duration::from_secs(1), phone.recv()).await {
        if let CallCommand::Play { chunk, .. } = command {
            plays += 1;
            played += chunk.format().play_time(chunk.byte_len() as u64);
        }
    }
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    let report = bridge.await.unwrap();

    assert!(
        played <= Duration::from_secs(20),
        "{played:?} queued toward the caller in {plays} messages"
    );
    assert!(played >= Duration::from_secs(19), "{played:?}");
    assert!(plays <= 101, "{plays} messages");
    let counters = report.counters;
    // 20 s kept (the last piece may still be held to be joined when the call ends).
    assert_eq!(counters.agent_audio_cut_ms, 280_000);
    let warnings = captured.warnings();
    let cut: Vec<&String> = warnings
        .iter()
        .filter(|line| line.contains("agent audio cut"))
        .collect();
    assert_eq!(cut.len(), 1, "{}", warnings.join("\n"));
    assert!(cut[0].contains("call_id=CA9"), "{}", cut[0]);
    assert!(warnings.len() <= 2, "{}", warnings.join("\n"));
}
