//! A last command (hang-up, hand-over) that the call leg cannot deliver: the call is over
//! by then, so the report's errors are the only place the bridge's caller learns of it.

use voice_bridge::audio::AudioFormat;
use voice_bridge::memory;
use voice_bridge::{
    AgentEvent, AgentReady, Bridge, CallEvent, CallStart, Fallback, LegError, Side,
};

#[path = "support/driver.rs"]
mod support;

use support::{quiet_config, settle};

#[tokio::test(start_paused = true)]
async fn a_failed_hang_up_is_in_the_report() {
    let mut config = quiet_config();
    config.fallback = Fallback::HangUp;
    let (call, phone) = memory::call_leg(16);
    let (agent, model) = memory::agent_leg(16);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
    let start = CallStart::new("CA42", "MZ42", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();
    settle().await;
    model
        .send(AgentEvent::Ready(AgentReady::new(
            AudioFormat::MuLaw,
            AudioFormat::MuLaw,
        )))
        .await
        .unwrap();
    settle().await;
    // The agent fails, so the bridge hangs up: a hang-up the call leg cannot deliver.
    phone.fail_sends("REST hang-up refused: 21220");
    model
        .fail(LegError::new("websocket read failed"))
        .await
        .unwrap();
    let report = bridge.await.unwrap();
    let failed: Vec<_> = report
        .errors
        .iter()
        .filter(|e| e.side == Side::Call && e.message.contains("last command failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", report.errors);
    assert!(failed[0].message.contains("21220"), "{}", failed[0].message);
    assert!(failed[0].fatal);
}
