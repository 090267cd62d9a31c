//! Per-frame cost of a 20 ms G.711 frame through the adapters and the engine, both ways:
//!
//! - caller to agent: a Twilio `media` text frame read by the `TwilioLeg` (decode, stream
//!   rules, base64 check), the engine, then the `input_audio_buffer.append` text the OpenAI
//!   leg writes (`ClientEvent::encode`, as the client's sender does before the socket);
//! - agent to caller: a `response.output_audio.delta` text frame decoded
//!   (`ServerEvent::decode`, as the client's receiver does) and mapped as the OpenAI leg
//!   maps it, the engine, the `media` and `mark` text frames the `TwilioLeg` writes, and the
//!   mark's echo read back by the `TwilioLeg` into the engine.
//!
//! The sockets are in memory (a queue behind an uncontended mutex, a sink that counts
//! bytes), so the figures are the bridge's own CPU per frame, without syscalls.
//!
//! Run with `cargo bench -p voice-bridge --bench adapter_per_frame`.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::hint::black_box;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::{FutureExt as _, Sink, Stream};
use openai_realtime::{ClientEvent, Dialect, ServerEvent};
use voice_bridge::adapter::twilio::{Frame, Outgoing};
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::{
    Action, AgentAudio, AgentCommand, AgentEvent, AgentReady, BridgeConfig, CallEvent, CallLeg,
    Engine, ItemId, TwilioLeg,
};

/// Frames per untimed set-up batch.
const BATCH: u64 = 1024;
const SID: &str = "MZ00000000000000000000000000000001";

/// An in-memory socket: frames to read, bytes written.
#[derive(Clone, Default)]
struct MemSocket {
    inbox: Arc<Mutex<VecDeque<Frame>>>,
    written: usize,
}

impl Stream for MemSocket {
    type Item = Result<Frame, Infallible>;

    fn poll_next(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.inbox.lock().unwrap().pop_front() {
            Some(frame) => Poll::Ready(Some(Ok(frame))),
            None => Poll::Pending,
        }
    }
}

impl Sink<Outgoing> for MemSocket {
    type Error = Infallible;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, frame: Outgoing) -> Result<(), Infallible> {
        if let Outgoing::Text(text) = frame {
            self.written += black_box(text).len();
        }
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }
}

/// A started Twilio leg over `socket` and an engine with a ready mu-law agent.
fn started(socket: &MemSocket, now: Instant) -> (TwilioLeg<MemSocket>, Engine) {
    socket.inbox.lock().unwrap().extend([
        Frame::Text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.into()),
        Frame::Text(format!(
            r#"{{"event":"start","sequenceNumber":"1","streamSid":"{SID}","start":{{"accountSid":"AC1",
            "streamSid":"{SID}","callSid":"CA1","tracks":["inbound"],"customParameters":{{}},
            "mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
        )),
    ]);
    let mut leg = TwilioLeg::new(socket.clone());
    let start = recv(&mut leg);
    let mut config = BridgeConfig::default();
    config.idle_timeout = None;
    config.max_call_duration = None;
    let mut engine = Engine::new(config, now);
    engine.handle_call(now, start);
    let ready = AgentReady::new(AudioFormat::MuLaw, AudioFormat::MuLaw);
    engine.handle_agent(now, AgentEvent::Ready(ready));
    engine.handle_agent(now, AgentEvent::ResponseStarted(None));
    while engine.poll_action().is_some() {}
    (leg, engine)
}

fn recv(leg: &mut TwilioLeg<MemSocket>) -> CallEvent {
    leg.recv()
        .now_or_never()
        .expect("a frame is queued")
        .expect("the leg reads it")
}

fn payload() -> String {
    AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0x55u8; 160])
        .unwrap()
        .into_base64()
}

fn caller_to_agent(c: &mut Criterion) {
    let payload = payload();
    c.bench_function("adapters/caller_to_agent/twilio_media_to_openai_append", |b| {
        b.iter_custom(|iters| {
            let now = Instant::now();
            let socket = MemSocket::default();
            let (mut leg, mut engine) = started(&socket, now);
            let mut total = Duration::ZERO;
            let mut seq = 2;
            let mut done = 0;
            while done < iters {
                let n = BATCH.min(iters - done);
                // Untimed: the frames as the WebSocket library hands them over.
                socket.inbox.lock().unwrap().extend((0..n).map(|i| {
                    let s = seq + i;
                    Frame::Text(format!(
                        r#"{{"event":"media","sequenceNumber":"{s}","streamSid":"{SID}","media":{{"track":"inbound","chunk":"{s}","timestamp":"{}","payload":"{payload}"}}}}"#,
                        s * 20
                    ))
                }));
                seq += n;
                let started = Instant::now();
                for _ in 0..n {
                    let event = recv(&mut leg);
                    engine.handle_call(now, event);
                    while let Some(action) = engine.poll_action() {
                        if let Action::Agent(AgentCommand::Audio(chunk)) = action {
                            let text = ClientEvent::input_audio_append(chunk.into_base64())
                                .encode(Dialect::Ga);
                            black_box(text);
                        }
                    }
                }
                total += started.elapsed();
                done += n;
            }
            let counters = leg.stats().counters();
            assert_eq!(counters.media_frames, seq - 2, "every frame reached the engine");
            assert_eq!(counters.rule_violations + counters.decode_errors, 0);
            total
        });
    });
}

fn agent_to_caller(c: &mut Criterion) {
    let payload = payload();
    c.bench_function("adapters/agent_to_caller/openai_delta_to_twilio_media_and_mark", |b| {
        b.iter_custom(|iters| {
            let now = Instant::now();
            let socket = MemSocket::default();
            let (mut leg, mut engine) = started(&socket, now);
            let item = ItemId::new("item_C3bench");
            let mut total = Duration::ZERO;
            let mut mark = 0;
            let mut done = 0;
            while done < iters {
                let n = BATCH.min(iters - done);
                // Untimed: the service's deltas, and Twilio's echoes of the marks to come.
                let deltas: Vec<String> = (0..n)
                    .map(|i| {
                        format!(
                            r#"{{"type":"response.output_audio.delta","event_id":"event_{i}","response_id":"resp_1","item_id":"item_C3bench","output_index":0,"content_index":0,"delta":"{payload}"}}"#
                        )
                    })
                    .collect();
                socket.inbox.lock().unwrap().extend((0..n).map(|i| {
                    let m = mark + i;
                    Frame::Text(format!(
                        r#"{{"event":"mark","sequenceNumber":"{}","streamSid":"{SID}","mark":{{"name":"vb-{m}"}}}}"#,
                        m + 2
                    ))
                }));
                mark += n;
                let started = Instant::now();
                for delta in &deltas {
                    // The OpenAI leg's side: decode, then map the delta.
                    let Ok(ServerEvent::ResponseOutputAudioDelta(delta)) =
                        ServerEvent::decode(delta, Dialect::Ga)
                    else {
                        unreachable!("a delta")
                    };
                    let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, delta.delta).unwrap();
                    let audio = AgentAudio::new(item.clone(), delta.content_index, chunk);
                    engine.handle_agent(now, AgentEvent::Audio(audio));
                    // The Twilio leg writes the media and the mark.
                    while let Some(action) = engine.poll_action() {
                        if let Action::Call(command) = action {
                            leg.send(command).now_or_never().unwrap().unwrap();
                        }
                    }
                    // The echo comes back through the Twilio leg.
                    let echo = recv(&mut leg);
                    engine.handle_call(now, echo);
                    while let Some(action) = engine.poll_action() {
                        black_box(action);
                    }
                }
                total += started.elapsed();
                done += n;
            }
            let counters = leg.stats().counters();
            assert_eq!(counters.rule_violations, 0, "every echo matched a mark sent");
            assert_eq!(counters.commands_sent, 2 * mark, "a media and a mark per delta");
            total
        });
    });
}

// `criterion_group!` generates an undocumented `pub fn`.
#[allow(missing_docs)]
mod group {
    use super::*;

    criterion_group! {
        name = benches;
        // Short runs: the machine is shared.
        config = Criterion::default()
            .sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        targets = caller_to_agent, agent_to_caller
    }
}
criterion_main!(group::benches);
