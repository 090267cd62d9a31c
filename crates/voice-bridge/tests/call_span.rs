//! Every log line of a call carries the call's and stream's ids.

use std::io::Write;
use std::sync::{Arc, Mutex};

use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::memory;
use voice_bridge::{
    AgentAudio, AgentEvent, AgentReady, Bridge, BridgeConfig, CallEvent, CallStart, LegEnd,
};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn log_lines_after_the_start_carry_the_call_ids() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (call, phone) = memory::call_leg(16);
    let (agent, model) = memory::agent_leg(16);
    let bridge = tokio::spawn(
        Bridge::new(call, agent)
            .with_config(BridgeConfig::default())
            .run(),
    );
    let start = CallStart::new("CA42", "MZ42", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    let mulaw = AudioFormat::MuLaw;
    model
        .send(AgentEvent::Ready(AgentReady {
            input: mulaw,
            output: mulaw,
        }))
        .await
        .unwrap();
    let chunk = AudioChunk::from_bytes(mulaw, vec![0xFF; 160]).unwrap();
    let audio = AgentAudio {
        item_id: "item_a".into(),
        content_index: 0,
        chunk,
    };
    model.send(AgentEvent::ResponseStarted(None)).await.unwrap();
    model.send(AgentEvent::Audio(audio)).await.unwrap();
    model.send(AgentEvent::SpeechStarted).await.unwrap();
    // Let the bridge take the agent's events before the caller hangs up.
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    bridge.await.unwrap();

    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let first = lines
        .iter()
        .position(|l| l.contains("call started"))
        .expect("a start line");
    let after_start = &lines[first + 1..];
    assert!(after_start.iter().any(|l| l.contains("barge-in")), "{text}");
    assert!(
        after_start.iter().any(|l| l.contains("call ended")),
        "{text}"
    );
    for line in after_start {
        assert!(
            line.contains("call_id=CA42") && line.contains("stream_id=MZ42"),
            "{line}"
        );
    }
}
