//! Helpers the bridge-driver tests share, included by each as
//! `#[path = "support/driver.rs"] mod support;`.

use std::time::Duration;

use tokio::time::sleep;
use voice_bridge::BridgeConfig;

/// The default config without the idle, call-length and agent-stall timers, so that a
/// test's paused clock can jump ahead without ending the call.
pub fn quiet_config() -> BridgeConfig {
    let mut config = BridgeConfig::default();
    config.idle_timeout = None;
    config.max_call_duration = None;
    config.agent_stall_timeout = None;
    config
}

/// Lets the bridge take every event sent so far: on the paused clock, time moves (here by
/// a millisecond) only once every task is idle. Without it the bridge's `select!` may take
/// an agent event sent later before the call's `Started` (and agent audio before the call
/// has started is dropped).
pub async fn settle() {
    sleep(Duration::from_millis(1)).await;
}
