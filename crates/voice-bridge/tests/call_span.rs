//! Every log line of a call carries the call's and stream's ids: from the first line when
//! the call leg knows them before the call, from the start otherwise.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tracing::subscriber::DefaultGuard;
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::memory::{self, MemoryAgentLeg, MemoryCallLeg};
use voice_bridge::report::EndReason;
use voice_bridge::{
    AgentAudio, AgentCommand, AgentEvent, AgentLeg, AgentReady, Bridge, BridgeConfig, CallCommand,
    CallEvent, CallId, CallLeg, CallStart, Fallback, LegEnd, LegError, StreamId,
};

/// Everything logged while the guard lives, as the fmt subscriber writes it (with span
/// fields).
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn start() -> (Self, DefaultGuard) {
        let captured = Self::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish();
        (captured, tracing::subscriber::set_default(subscriber))
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Asserts that every line carries the ids; returns the lines before "call started".
fn assert_every_line_has_the_ids<'a>(
    text: &'a str,
    call_id: &str,
    stream_id: &str,
) -> Vec<&'a str> {
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines {
        assert!(
            line.contains(&format!("call_id={call_id}"))
                && line.contains(&format!("stream_id={stream_id}")),
            "a line without the ids: {line}\n{text}"
        );
    }
    let start = lines
        .iter()
        .position(|l| l.contains("call started"))
        .expect("a start line");
    lines[..start].to_vec()
}

#[tokio::test(start_paused = true)]
async fn log_lines_of_a_call_carry_the_call_ids() {
    let (captured, _guard) = Captured::start();

    let (call, phone) = memory::call_leg(16);
    let (agent, model) = memory::agent_leg(16);
    let bridge = tokio::spawn(
        Bridge::new(call, agent)
            .with_config(BridgeConfig::default())
            .run(),
    );
    let start = CallStart::new("CA42", "MZ42", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    let mulaw = AudioFormat::MuLaw;
    model
        .send(AgentEvent::Ready(AgentReady::new(mulaw, mulaw)))
        .await
        .unwrap();
    let chunk = AudioChunk::from_bytes(mulaw, vec![0xFF; 160]).unwrap();
    let audio = AgentAudio::new("item_a", 0, chunk);
    model.send(AgentEvent::ResponseStarted(None)).await.unwrap();
    model.send(AgentEvent::Audio(audio)).await.unwrap();
    model.send(AgentEvent::SpeechStarted).await.unwrap();
    // Let the bridge take the agent's events before the caller hangs up.
    tokio::time::sleep(Duration::from_millis(10)).await;
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    bridge.await.unwrap();

    let text = captured.text();
    // The memory leg learns the ids with `Started`, and nothing is logged before it.
    let before_start = assert_every_line_has_the_ids(&text, "CA42", "MZ42");
    assert!(before_start.is_empty(), "{text}");
    assert!(text.contains("barge-in"), "{text}");
    assert!(text.contains("call ended"), "{text}");
}

/// A call leg that has read the call's start before the bridge runs (as
/// `TwilioLeg::wait_start` does), though its `Started` event comes later.
struct StartedCall {
    leg: MemoryCallLeg,
    ids: (CallId, StreamId),
}

#[async_trait]
impl CallLeg for StartedCall {
    async fn recv(&mut self) -> Result<CallEvent, LegError> {
        self.leg.recv().await
    }

    async fn send(&mut self, command: CallCommand) -> Result<(), LegError> {
        self.leg.send(command).await
    }

    fn call_ids(&self) -> Option<(CallId, StreamId)> {
        Some(self.ids.clone())
    }
}

/// An agent leg that logs as it connects on its first `recv`, as the OpenAI leg does.
struct ConnectingAgent {
    leg: MemoryAgentLeg,
    connecting: bool,
}

#[async_trait]
impl AgentLeg for ConnectingAgent {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        if self.connecting {
            self.connecting = false;
            tracing::debug!("test agent: connecting");
        }
        self.leg.recv().await
    }

    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError> {
        self.leg.send(command).await
    }
}

#[tokio::test(start_paused = true)]
async fn lines_before_the_call_started_carry_the_ids_the_call_leg_knew() {
    let (captured, _guard) = Captured::start();

    let (call, mut phone) = memory::call_leg(16);
    let (agent, model) = memory::agent_leg(16);
    let call = StartedCall {
        leg: call,
        ids: ("CA7".into(), "MZ7".into()),
    };
    let agent = ConnectingAgent {
        leg: agent,
        connecting: true,
    };
    let mut config = BridgeConfig::default();
    config.fallback = Fallback::HangUp;
    // The agent refuses before the call leg has delivered `Started`.
    let refused = LegEnd::Refused {
        status: Some(401),
        detail: "invalid_api_key".into(),
    };
    model
        .send(AgentEvent::Ended(refused.clone()))
        .await
        .unwrap();
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
    tokio::time::sleep(Duration::from_millis(10)).await;
    let start = CallStart::new("CA7", "MZ7", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();
    assert_eq!(phone.recv().await, Some(CallCommand::HangUp));
    let report = bridge.await.unwrap();
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentNotStarted { end: refused }
    );

    let text = captured.text();
    let before_start = assert_every_line_has_the_ids(&text, "CA7", "MZ7");
    assert!(
        before_start
            .iter()
            .any(|l| l.contains("test agent: connecting")),
        "{text}"
    );
    assert!(
        before_start.iter().any(|l| l.contains("agent leg failed")),
        "{text}"
    );
}
