//! Engine scenarios: no runtime, time advanced by hand, actions asserted as transcripts.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{Action, Engine};
use crate::agent::{
    AgentAudio, AgentCommand, AgentError, AgentEvent, AgentReady, ResponseDone, ResponseStatus,
    Speaker, Transcript,
};
use crate::audio::{AudioChunk, AudioFormat};
use crate::call::{AudioSource, CallCapabilities, CallCommand, CallEvent, CallStart, HandOver};
use crate::config::{BridgeConfig, Fallback};
use crate::ids::{DtmfDigit, ItemId, Mark};
use crate::leg::{LegEnd, Side};
use crate::report::{CallReport, EndReason, FallbackUsed, ToolCallResult};
use crate::tool::{ToolCall, ToolOutcome, ToolReply, ToolResult};

/// A call under test: the engine, a hand-driven clock, and helpers that return the
/// actions each input produced, written as short lines.
struct Scenario {
    engine: Engine,
    start: Instant,
    now: Instant,
    call_format: AudioFormat,
    agent_output: AudioFormat,
}

impl Scenario {
    fn new(config: BridgeConfig) -> Self {
        let start = Instant::now();
        Self {
            engine: Engine::new(config, start),
            start,
            now: start,
            call_format: AudioFormat::MuLaw,
            agent_output: AudioFormat::MuLaw,
        }
    }

    /// Started call (mu-law) and ready agent (mu-law both ways).
    fn connected() -> Self {
        Self::connected_with(BridgeConfig::default(), CallCapabilities::NONE)
    }

    fn connected_with(config: BridgeConfig, capabilities: CallCapabilities) -> Self {
        let mut s = Self::new(config);
        s.start_call(capabilities);
        s.ready(AudioFormat::MuLaw, AudioFormat::MuLaw);
        s
    }

    fn at(&mut self, ms: u64) -> &mut Self {
        self.now = self.start + Duration::from_millis(ms);
        self
    }

    fn start_call(&mut self, capabilities: CallCapabilities) -> Vec<String> {
        let start = CallStart::new("CA1", "MZ1", self.call_format).with_capabilities(capabilities);
        self.call(CallEvent::Started(start))
    }

    fn ready(&mut self, input: AudioFormat, output: AudioFormat) -> Vec<String> {
        self.agent_output = output;
        self.agent(AgentEvent::Ready(AgentReady::new(input, output)))
    }

    fn call(&mut self, event: CallEvent) -> Vec<String> {
        self.engine.handle_call(self.now, event);
        self.drain()
    }

    fn agent(&mut self, event: AgentEvent) -> Vec<String> {
        self.engine.handle_agent(self.now, event);
        self.drain()
    }

    fn tool_result(&mut self, call_id: &str, outcome: ToolOutcome) -> Vec<String> {
        let result = ToolResult {
            call_id: call_id.into(),
            outcome,
        };
        self.engine.handle_tool_result(self.now, result);
        self.drain()
    }

    fn timeout(&mut self) -> Vec<String> {
        self.now = self.engine.poll_timeout().expect("a timer is armed");
        self.engine.handle_timeout(self.now);
        self.drain()
    }

    /// A 20 ms frame of caller audio in the call's format.
    fn caller_frame(&mut self, tag: u8) -> Vec<String> {
        let chunk = frame(self.call_format, tag);
        self.call(CallEvent::Audio(chunk))
    }

    /// A 20 ms frame of the agent's item.
    fn agent_frame(&mut self, item: &str) -> Vec<String> {
        let chunk = frame(self.agent_output, 0x55);
        self.agent(AgentEvent::Audio(AgentAudio {
            item_id: item.into(),
            content_index: 0,
            chunk,
        }))
    }

    fn agent_frames(&mut self, item: &str, n: usize) -> Vec<String> {
        (0..n).flat_map(|_| self.agent_frame(item)).collect()
    }

    fn echo(&mut self, seq: u64) -> Vec<String> {
        self.call(CallEvent::MarkPlayed(Mark::new(seq).to_string()))
    }

    fn echo_range(&mut self, seqs: std::ops::RangeInclusive<u64>) -> Vec<String> {
        seqs.flat_map(|seq| self.echo(seq)).collect()
    }

    fn drain(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.engine.poll_action())
            .map(describe)
            .collect()
    }

    fn report(self) -> CallReport {
        self.engine.into_report()
    }
}

fn frame(format: AudioFormat, tag: u8) -> AudioChunk {
    let bytes = 20 * format.bytes_per_second() as usize / 1000;
    AudioChunk::from_bytes(format, vec![tag; bytes]).unwrap()
}

fn response_done() -> AgentEvent {
    AgentEvent::ResponseDone(ResponseDone {
        response_id: None,
        status: ResponseStatus::Completed,
    })
}

fn response_started() -> AgentEvent {
    AgentEvent::ResponseStarted(None)
}

fn describe(action: Action) -> String {
    match action {
        Action::Call(CallCommand::Play {
            chunk,
            source: AudioSource::Agent { item_id, .. },
        }) => {
            format!(
                "call: play {item_id} {}ms {}",
                chunk.duration_ms(),
                chunk.format()
            )
        }
        Action::Call(CallCommand::Play {
            chunk,
            source: AudioSource::Fallback,
        }) => {
            format!("call: play fallback {}ms", chunk.duration_ms())
        }
        Action::Call(CallCommand::Mark(mark)) => format!("call: mark {mark}"),
        Action::Call(CallCommand::Clear) => "call: clear".into(),
        Action::Call(CallCommand::HangUp) => "call: hang up".into(),
        Action::Call(CallCommand::HandOver(to)) => format!("call: hand over {to:?}"),
        Action::Agent(AgentCommand::Audio(chunk)) => {
            format!("agent: audio {}ms {}", chunk.duration_ms(), chunk.format())
        }
        Action::Agent(AgentCommand::Truncate {
            item_id,
            content_index,
            audio_end_ms,
        }) => {
            format!("agent: truncate {item_id}/{content_index} at {audio_end_ms}ms")
        }
        Action::Agent(AgentCommand::CancelResponse) => "agent: cancel response".into(),
        Action::Agent(AgentCommand::ToolResult { call_id, output }) => {
            format!("agent: tool result {call_id} {output}")
        }
        Action::Agent(AgentCommand::CreateResponse) => "agent: create response".into(),
        Action::Agent(AgentCommand::Dtmf(digit)) => format!("agent: dtmf {digit}"),
        Action::Agent(AgentCommand::Close) => "agent: close".into(),
        Action::RunTool(call) => format!("run tool {} {}", call.name, call.call_id),
        Action::End(outcome) => format!(
            "end by {}: {}",
            outcome.ended_by,
            reason_kind(&outcome.reason)
        ),
    }
}

fn reason_kind(reason: &EndReason) -> String {
    serde_json::to_value(reason).unwrap()["kind"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn plays(item: &str, from_mark: u64, n: u64) -> Vec<String> {
    (from_mark..from_mark + n)
        .flat_map(|seq| {
            [
                format!("call: play {item} 20ms pcmu"),
                format!("call: mark vb-{seq}"),
            ]
        })
        .collect()
}

// ---- barge-in -------------------------------------------------------------------------

#[test]
fn barge_in_truncates_the_earlier_item_still_playing_not_the_one_arriving() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    assert_eq!(
        delta_at(&mut s, 0, "item_a", 200),
        ["call: play item_a 200ms pcmu", "call: mark vb-0"]
    );
    s.agent(response_done());
    // A second response arrives while 200 ms of item_a are queued at the caller: its
    // frames are held and joined.
    s.agent(response_started());
    assert!(s.agent_frames("item_b", 3).is_empty());
    // When the caller's queue is down to half a chunk (100 ms), the held 60 ms go out
    // as one message with one mark.
    assert_eq!(
        s.timeout(),
        ["call: play item_b 60ms pcmu", "call: mark vb-1"]
    );
    assert_eq!(s.now, s.start + Duration::from_millis(100));
    // At 150 ms (no echo yet: item_a plays from when it was sent) the caller speaks.
    assert_eq!(
        s.at(150).agent(AgentEvent::SpeechStarted),
        [
            "call: clear",
            "agent: cancel response",
            "agent: truncate item_a/0 at 150ms",
            "agent: truncate item_b/0 at 0ms",
        ]
    );
    // More of the interrupted response is dropped, not played.
    assert!(s.agent_frames("item_b", 2).is_empty());
    // Twilio echoes every mark that was pending at the clear: cleared, not heard.
    assert!(s.echo_range(0..=1).is_empty());
    s.agent(AgentEvent::ResponseDone(ResponseDone {
        response_id: None,
        status: ResponseStatus::Cancelled,
    }));
    // The next answer plays normally, at once: nothing is queued after the clear.
    s.agent(response_started());
    assert_eq!(s.agent_frame("item_c"), plays("item_c", 2, 1));

    let report = s.report();
    assert_eq!(report.barge_ins.len(), 1);
    let barge_in = &report.barge_ins[0];
    assert_eq!(barge_in.item_id, Some(ItemId::new("item_a")));
    assert_eq!(
        (barge_in.heard_ms, barge_in.sent_ms, barge_in.truncated_ms),
        (150, 200, Some(150))
    );
    assert!(barge_in.cancelled_response);
    let c = &report.counters;
    assert_eq!((c.marks_cleared, c.marks_played), (2, 0));
    assert_eq!((c.agent_frames_discarded, c.agent_deltas_joined), (2, 2));
}

#[test]
fn barge_in_of_an_agent_that_stops_itself_clears_the_phone_and_sends_the_agent_nothing() {
    use crate::agent::{AgentUsage, Interruption};
    // GPT-Live: the service stops its own speech; its timeline is what it played.
    let mut s = Scenario::new(BridgeConfig::default());
    s.start_call(CallCapabilities::NONE);
    let ready = AgentReady::new(AudioFormat::MuLaw, AudioFormat::MuLaw)
        .with_interruption(Interruption::Agent);
    s.agent(AgentEvent::Ready(ready));
    s.agent(response_started());
    assert_eq!(
        delta_at(&mut s, 0, "live_out_1", 200),
        ["call: play live_out_1 200ms pcmu", "call: mark vb-0"]
    );
    // Only the clear: no cancel, no truncation.
    assert_eq!(s.at(120).agent(AgentEvent::SpeechStarted), ["call: clear"]);
    s.agent(AgentEvent::ResponseDone(ResponseDone::new(
        ResponseStatus::Cancelled,
    )));
    // The rest of the interrupted turn (its silence) is dropped; the next turn plays.
    assert!(s.agent_frame("live_out_1").is_empty());
    s.agent(response_started());
    assert_eq!(s.agent_frame("live_out_2"), plays("live_out_2", 1, 1));
    s.agent(AgentEvent::Usage(AgentUsage::seconds(7.0)));
    s.agent(AgentEvent::Usage(AgentUsage::seconds(15.0)));

    let report = s.report();
    assert_eq!(report.barge_ins.len(), 1);
    let barge_in = &report.barge_ins[0];
    assert_eq!(barge_in.item_id, Some(ItemId::new("live_out_1")));
    assert_eq!((barge_in.heard_ms, barge_in.truncated_ms), (120, None));
    assert!(!barge_in.cancelled_response);
    // The last usage the agent reported, not a sum.
    assert_eq!(
        report.agent_usage.and_then(|u| u.session_seconds),
        Some(15.0)
    );
}

#[test]
fn barge_in_after_an_answer_played_out_whole_truncates_nothing() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    s.agent_frames("item_a", 3);
    s.agent(response_done());
    s.at(60).echo_range(0..=2);
    // Seconds later the caller speaks: nothing is queued, nothing is being generated.
    assert!(s.at(5000).agent(AgentEvent::SpeechStarted).is_empty());
    s.agent(AgentEvent::SpeechStopped);
    // The next answer's truncation counts from its own start, not from the first answer.
    s.at(5500).agent(response_started());
    assert_eq!(s.agent_frames("item_b", 2), plays("item_b", 3, 2));
    s.at(5520).echo(3);
    // 10 ms into the second frame, which plays from the first one's echo.
    assert_eq!(
        s.at(5530).agent(AgentEvent::SpeechStarted),
        [
            "call: clear",
            "agent: cancel response",
            "agent: truncate item_b/0 at 30ms",
        ]
    );
    let report = s.report();
    assert_eq!(report.barge_ins.len(), 1);
    assert_eq!(report.barge_ins[0].truncated_ms, Some(30));
}

#[test]
fn barge_in_during_generation_cancels_and_truncates_at_what_was_heard() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    s.agent_frames("item_a", 2);
    // No echo yet: by the clock, the caller has heard 10 ms of the first frame.
    assert_eq!(
        s.at(10).agent(AgentEvent::SpeechStarted),
        [
            "call: clear",
            "agent: cancel response",
            "agent: truncate item_a/0 at 10ms",
        ]
    );
    assert!(s.agent_frame("item_a").is_empty());
}

#[test]
fn barge_in_while_generating_with_everything_heard_truncates_at_the_heard_end() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    s.agent_frames("item_a", 2);
    s.echo_range(0..=1);
    // No audio queued, but the response is still running: its later audio must not play,
    // and the item is cut where the caller stopped hearing it.
    assert_eq!(
        s.agent(AgentEvent::SpeechStarted),
        ["agent: cancel response", "agent: truncate item_a/0 at 40ms",]
    );
}

#[test]
fn no_cancel_when_configured_off() {
    let config = BridgeConfig {
        cancel_on_barge_in: false,
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    s.agent(response_started());
    s.agent_frames("item_a", 2);
    s.echo(0);
    assert_eq!(
        s.agent(AgentEvent::SpeechStarted),
        ["call: clear", "agent: truncate item_a/0 at 20ms",]
    );
}

#[test]
fn lost_and_late_marks_do_not_skew_the_heard_position() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    s.agent_frames("item_a", 5);
    s.agent(response_done());
    // The echoes of marks 0 and 1 are lost; mark 2 says 60 ms were played.
    assert!(s.at(60).echo(2).is_empty());
    // A late echo of mark 0 changes nothing.
    assert!(s.echo(0).is_empty());
    assert_eq!(
        s.agent(AgentEvent::SpeechStarted),
        ["call: clear", "agent: truncate item_a/0 at 60ms",]
    );
    // Late echoes of marks pending at the clear are cleared, not heard.
    s.echo_range(3..=4);
    // Echoes of names the bridge never sent are counted and ignored.
    assert!(
        s.call(CallEvent::MarkPlayed("someone-else".into()))
            .is_empty()
    );
    let report = s.report();
    assert_eq!(report.barge_ins[0].heard_ms, 60);
    let c = report.counters;
    assert_eq!((c.marks_sent, c.marks_played, c.marks_implied), (5, 1, 2));
    assert_eq!((c.marks_cleared, c.marks_unexpected), (2, 2));
}

#[test]
fn a_stalled_playback_never_truncates_beyond_the_oldest_unechoed_mark() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    s.agent_frames("item_a", 2);
    s.agent(response_done());
    s.at(20).echo(0);
    // The caller's side stopped playing (no echo of mark 1 for seconds): the clock is
    // capped at mark 1, 40 ms, never past it.
    assert_eq!(
        s.at(3000).agent(AgentEvent::SpeechStarted),
        ["call: clear", "agent: truncate item_a/0 at 40ms"]
    );
}

// ---- agent deltas and media messages ---------------------------------------------------

/// An agent delta of `ms` milliseconds as the OpenAI leg hands it over: base64 text.
fn delta(format: AudioFormat, ms: usize) -> AudioChunk {
    let bytes: Vec<u8> = (0..ms * format.bytes_per_second() as usize / 1000)
        .map(|i| (i * 7 % 256) as u8)
        .collect();
    let raw = AudioChunk::from_bytes(format, bytes).unwrap();
    AudioChunk::from_base64(format, raw.into_base64()).unwrap()
}

fn agent_audio(item: &str, chunk: AudioChunk) -> AgentEvent {
    AgentEvent::Audio(AgentAudio {
        item_id: item.into(),
        content_index: 0,
        chunk,
    })
}

/// The agent's delta of `ms` for `item`, at `at` ms, and what the engine sent for it.
fn delta_at(s: &mut Scenario, at: u64, item: &str, ms: usize) -> Vec<String> {
    s.at(at)
        .agent(agent_audio(item, delta(AudioFormat::MuLaw, ms)))
}

#[test]
fn service_paced_deltas_go_out_as_few_messages_with_one_mark_each() {
    // The service's pattern: 40 ms first, then 100 and 200 ms in turn, three times faster
    // than real time (a delta of `ms` every `ms / 3`).
    let mut s = Scenario::connected();
    s.agent(response_started());
    // The first three reach a short queue: out at once, as they came.
    assert_eq!(
        delta_at(&mut s, 0, "item_a", 40),
        ["call: play item_a 40ms pcmu", "call: mark vb-0"]
    );
    assert_eq!(
        delta_at(&mut s, 13, "item_a", 100),
        ["call: play item_a 100ms pcmu", "call: mark vb-1"]
    );
    assert_eq!(
        delta_at(&mut s, 47, "item_a", 200),
        ["call: play item_a 200ms pcmu", "call: mark vb-2"]
    );
    // 227 ms queued now: later deltas are joined into messages of at least 200 ms.
    assert!(delta_at(&mut s, 113, "item_a", 100).is_empty());
    assert_eq!(
        delta_at(&mut s, 180, "item_a", 200),
        ["call: play item_a 300ms pcmu", "call: mark vb-3"]
    );
    assert!(delta_at(&mut s, 213, "item_a", 100).is_empty());
    // The response ends: what is held goes out.
    assert_eq!(
        s.agent(response_done()),
        ["call: play item_a 100ms pcmu", "call: mark vb-4"]
    );
    let c = s.report().counters;
    assert_eq!(
        (c.agent_frames, c.agent_frames_sent, c.marks_sent),
        (6, 5, 5)
    );
    assert_eq!(c.agent_deltas_joined, 1);
}

#[test]
fn joined_deltas_carry_exactly_the_agent_bytes_in_order() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    delta_at(&mut s, 0, "item_a", 200);
    let (second, third) = (
        delta(AudioFormat::MuLaw, 60),
        delta(AudioFormat::MuLaw, 160),
    );
    let mut expected = second.to_bytes().into_owned();
    expected.extend_from_slice(&third.to_bytes());
    s.engine.handle_agent(s.now, agent_audio("item_a", second));
    assert!(s.drain().is_empty());
    s.engine.handle_agent(s.now, agent_audio("item_a", third));
    let plays: Vec<AudioChunk> = std::iter::from_fn(|| s.engine.poll_action())
        .filter_map(|action| match action {
            Action::Call(CallCommand::Play { chunk, .. }) => Some(chunk),
            _ => None,
        })
        .collect();
    assert_eq!(plays.len(), 1);
    assert_eq!(plays[0].to_bytes().as_ref(), expected.as_slice());
}

#[test]
fn held_audio_goes_out_when_the_callers_queue_runs_low() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    delta_at(&mut s, 0, "item_a", 400);
    // 400 ms queued: a 40 ms delta is held, with a timer for when 100 ms are left.
    assert!(delta_at(&mut s, 10, "item_a", 40).is_empty());
    assert_eq!(
        s.engine.poll_timeout(),
        Some(s.start + Duration::from_millis(300))
    );
    assert_eq!(
        s.timeout(),
        ["call: play item_a 40ms pcmu", "call: mark vb-1"]
    );
    assert_eq!(s.now, s.start + Duration::from_millis(300));
}

#[test]
fn a_barge_in_drops_held_audio_nobody_heard() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    delta_at(&mut s, 0, "item_a", 400);
    assert!(delta_at(&mut s, 10, "item_a", 100).is_empty());
    assert_eq!(
        s.at(250).agent(AgentEvent::SpeechStarted),
        [
            "call: clear",
            "agent: cancel response",
            "agent: truncate item_a/0 at 250ms",
        ]
    );
    // Nothing of it ever plays, and no timer is left for it.
    assert!(s.at(400).agent(response_done()).is_empty());
    let report = s.report();
    assert_eq!(report.barge_ins[0].sent_ms, 400);
    assert_eq!(report.counters.agent_frames_discarded, 1);
}

#[test]
fn audio_of_another_item_first_sends_what_is_held() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    delta_at(&mut s, 0, "item_a", 400);
    assert!(delta_at(&mut s, 10, "item_a", 100).is_empty());
    assert_eq!(
        delta_at(&mut s, 20, "item_b", 100),
        ["call: play item_a 100ms pcmu", "call: mark vb-1"]
    );
    assert_eq!(
        s.agent(response_done()),
        ["call: play item_b 100ms pcmu", "call: mark vb-2"]
    );
}

#[test]
fn a_200ms_delta_goes_out_whole_and_the_clock_times_the_barge_in() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    let first = delta(AudioFormat::MuLaw, 200);
    let text = first.to_base64().into_owned();
    s.engine.handle_agent(s.now, agent_audio("item_a", first));
    // Passed through: one message, the delta's own text, then one mark.
    let actions: Vec<Action> = std::iter::from_fn(|| s.engine.poll_action()).collect();
    match actions.as_slice() {
        [
            Action::Call(CallCommand::Play { chunk, .. }),
            Action::Call(CallCommand::Mark(mark)),
        ] => {
            assert!(chunk.is_base64());
            assert_eq!(chunk.to_base64(), text);
            assert_eq!(*mark, Mark::new(0));
        }
        other => panic!("expected one play and one mark, got {other:?}"),
    }
    // A second whole chunk is held, reaches the chunk length at once, and goes out.
    assert_eq!(
        s.agent(agent_audio("item_a", delta(AudioFormat::MuLaw, 200))),
        ["call: play item_a 200ms pcmu", "call: mark vb-1"]
    );
    // The caller heard the first delta (echo at 200 ms) and 80 ms of the second.
    assert!(s.at(200).echo(0).is_empty());
    assert_eq!(
        s.at(280).agent(AgentEvent::SpeechStarted),
        [
            "call: clear",
            "agent: cancel response",
            "agent: truncate item_a/0 at 280ms",
        ]
    );
    let report = s.report();
    let barge_in = &report.barge_ins[0];
    assert_eq!(
        (barge_in.heard_ms, barge_in.sent_ms, barge_in.truncated_ms),
        (280, 400, Some(280))
    );
    let c = &report.counters;
    assert_eq!((c.agent_frames, c.agent_frames_sent), (2, 2));
    assert_eq!((c.marks_sent, c.marks_played), (2, 1));
    assert_eq!(c.frames_transcoded, 0);
}

#[test]
fn a_1s_pcm16_delta_is_transcoded_then_cut_and_truncated_in_the_agent_format() {
    let mut s = Scenario::new(BridgeConfig::default());
    s.start_call(CallCapabilities::NONE);
    s.ready(AudioFormat::PCM16_24K, AudioFormat::PCM16_24K);
    s.agent(response_started());
    // One second of PCM16 at 24 kHz becomes 8000 bytes of mu-law: more than twice a
    // chunk, so five messages of 200 ms.
    let lines = s.agent(agent_audio("item_a", delta(AudioFormat::PCM16_24K, 1000)));
    let expected: Vec<String> = (0..5)
        .flat_map(|seq| {
            [
                "call: play item_a 200ms pcmu".to_owned(),
                format!("call: mark vb-{seq}"),
            ]
        })
        .collect();
    assert_eq!(lines, expected);
    // The caller has heard the first piece and 145 ms of the second when it speaks.
    s.at(200).echo(0);
    assert_eq!(
        s.at(345).agent(AgentEvent::SpeechStarted),
        [
            "call: clear",
            "agent: cancel response",
            "agent: truncate item_a/0 at 345ms",
        ]
    );
    let report = s.report();
    assert_eq!(report.barge_ins[0].sent_ms, 1000);
    assert_eq!(report.counters.frames_transcoded, 1);
    assert_eq!(report.counters.agent_frames_sent, 5);
}

#[test]
fn a_delta_of_exactly_one_frame_is_forwarded_untouched() {
    let mut s = Scenario::connected();
    let chunk = delta(AudioFormat::MuLaw, 20);
    let text = chunk.to_base64().into_owned();
    s.engine.handle_agent(s.now, agent_audio("item_a", chunk));
    let actions: Vec<Action> = std::iter::from_fn(|| s.engine.poll_action()).collect();
    match actions.as_slice() {
        [
            Action::Call(CallCommand::Play { chunk, source }),
            Action::Call(CallCommand::Mark(mark)),
        ] => {
            assert!(chunk.is_base64());
            assert_eq!(chunk.to_base64(), text);
            assert_eq!(
                *source,
                AudioSource::Agent {
                    item_id: "item_a".into(),
                    content_index: 0
                }
            );
            assert_eq!(*mark, Mark::new(0));
        }
        other => panic!("expected one play and one mark, got {other:?}"),
    }
}

#[test]
fn the_playback_chunk_is_configurable_and_bounded() {
    let config = BridgeConfig {
        playback_chunk: Duration::from_millis(100),
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    // 300 ms of base64 G.711 is over twice the 100 ms chunk: cut at the 3-byte boundary
    // at or before each 800 bytes (798, then 1599), then the rest.
    assert_eq!(
        s.agent(agent_audio("item_a", delta(AudioFormat::MuLaw, 300))),
        [
            "call: play item_a 99ms pcmu",
            "call: mark vb-0",
            "call: play item_a 100ms pcmu",
            "call: mark vb-1",
            "call: play item_a 100ms pcmu",
            "call: mark vb-2",
        ]
    );
    for (configured, used) in [(0, 20), (5, 20), (20, 20), (1000, 1000), (60_000, 1000)] {
        let config = BridgeConfig {
            playback_chunk: Duration::from_millis(configured),
            ..Default::default()
        };
        let engine = Engine::new(config, Instant::now());
        assert_eq!(
            engine.config().playback_chunk,
            Duration::from_millis(used),
            "{configured} ms"
        );
    }
}

// ---- audio paths ----------------------------------------------------------------------

#[test]
fn same_formats_pass_base64_through_untouched() {
    let mut s = Scenario::connected();
    // 216 characters = 160 bytes = 20 ms of mu-law (53 full groups and one padded byte).
    let text = "////".repeat(53) + "/w==";
    let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, text.clone()).unwrap();
    s.engine.handle_call(s.now, CallEvent::Audio(chunk));
    match s.engine.poll_action() {
        Some(Action::Agent(AgentCommand::Audio(out))) => {
            assert!(out.is_base64());
            assert_eq!(out.into_base64(), text);
        }
        other => panic!("expected agent audio, got {other:?}"),
    }
    let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, text.clone()).unwrap();
    let audio = AgentAudio {
        item_id: "item_a".into(),
        content_index: 0,
        chunk,
    };
    s.engine.handle_agent(s.now, AgentEvent::Audio(audio));
    match s.engine.poll_action() {
        Some(Action::Call(CallCommand::Play { chunk, .. })) => {
            assert_eq!(chunk.into_base64(), text);
        }
        other => panic!("expected play, got {other:?}"),
    }
    assert_eq!(s.report().counters.frames_transcoded, 0);
}

#[test]
fn different_formats_are_transcoded_and_truncation_counts_in_the_agent_format() {
    let mut s = Scenario::new(BridgeConfig::default());
    s.start_call(CallCapabilities::NONE);
    s.ready(AudioFormat::PCM16_24K, AudioFormat::PCM16_24K);
    assert_eq!(s.caller_frame(0xFF), ["agent: audio 20ms pcm16/24000"]);
    s.agent(response_started());
    assert_eq!(
        s.agent_frames("item_a", 2),
        [
            "call: play item_a 20ms pcmu",
            "call: mark vb-0",
            "call: play item_a 20ms pcmu",
            "call: mark vb-1",
        ]
    );
    s.echo(0);
    assert_eq!(
        s.agent(AgentEvent::SpeechStarted),
        [
            "call: clear",
            "agent: cancel response",
            "agent: truncate item_a/0 at 20ms",
        ]
    );
    assert_eq!(s.report().counters.frames_transcoded, 3);
}

#[test]
fn audio_in_a_format_the_call_cannot_get_is_refused_and_fails_the_agent() {
    let config = BridgeConfig {
        fallback: Fallback::HangUp,
        ..Default::default()
    };
    let mut s = Scenario::new(config);
    s.call_format = AudioFormat::PCM16_24K;
    s.start_call(CallCapabilities::NONE);
    assert_eq!(
        s.ready(AudioFormat::PCM16_16K, AudioFormat::PCM16_16K),
        [
            "call: hang up",
            "agent: close",
            "end by agent: audio_unsupported",
        ]
    );
    let report = s.report();
    assert!(matches!(
        report.outcome.fallback,
        Some(FallbackUsed::HangUp { .. })
    ));
}

#[test]
fn agent_audio_in_an_unannounced_format_is_refused() {
    let mut s = Scenario::connected();
    let chunk = frame(AudioFormat::PCM16_24K, 0);
    let audio = AgentAudio {
        item_id: "item_a".into(),
        content_index: 0,
        chunk,
    };
    assert!(s.agent(AgentEvent::Audio(audio.clone())).is_empty());
    assert!(s.agent(AgentEvent::Audio(audio)).is_empty());
    let report = s.report();
    assert_eq!(report.counters.frames_refused, 2);
    assert_eq!(
        report.errors.len(),
        1,
        "one record for a stream of bad frames"
    );
}

#[test]
fn early_caller_audio_is_held_and_delivered_in_order() {
    let mut s = Scenario::new(BridgeConfig::default());
    s.start_call(CallCapabilities::NONE);
    for tag in 1..=3 {
        assert!(s.caller_frame(tag).is_empty());
    }
    s.engine.handle_agent(
        s.now,
        AgentEvent::Ready(AgentReady::new(AudioFormat::MuLaw, AudioFormat::MuLaw)),
    );
    let mut delivered = Vec::new();
    while let Some(action) = s.engine.poll_action() {
        match action {
            Action::Agent(AgentCommand::Audio(chunk)) => delivered.push(chunk.to_bytes()[0]),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(delivered, [1, 2, 3]);
    // Later frames go straight through.
    assert_eq!(s.caller_frame(4), ["agent: audio 20ms pcmu"]);
    let c = s.report().counters;
    assert_eq!(
        (
            c.early_frames_buffered,
            c.early_frames_dropped,
            c.caller_frames_sent
        ),
        (3, 0, 4)
    );
}

#[test]
fn early_audio_overflow_drops_the_oldest_and_counts_it() {
    let config = BridgeConfig {
        early_audio_limit: Duration::from_millis(40),
        ..Default::default()
    };
    let mut s = Scenario::new(config);
    s.start_call(CallCapabilities::NONE);
    for tag in 1..=5 {
        s.caller_frame(tag);
    }
    assert_eq!(s.ready(AudioFormat::MuLaw, AudioFormat::MuLaw).len(), 2);
    let c = s.report().counters;
    assert_eq!((c.early_frames_buffered, c.early_frames_dropped), (5, 3));
}

#[test]
fn agent_audio_before_the_call_started_is_played_after_it_in_order_with_marks() {
    let mut s = Scenario::new(BridgeConfig::default());
    // The agent is ready and greets first; the call's start is still on its way.
    s.ready(AudioFormat::PCM16_24K, AudioFormat::PCM16_24K);
    s.agent(response_started());
    // 20 ms of PCM16 at 24 kHz, a sample pattern of its own.
    let greeting = AudioChunk::from_bytes(AudioFormat::PCM16_24K, vec![1; 960]).unwrap();
    assert!(s.agent(agent_audio("item_a", greeting.clone())).is_empty());
    // 60 ms in one delta: one message once it can play.
    let second = delta(AudioFormat::PCM16_24K, 60);
    assert!(s.agent(agent_audio("item_a", second)).is_empty());
    // In a format the agent did not announce: still refused, never held.
    assert!(
        s.agent(agent_audio("item_a", frame(AudioFormat::MuLaw, 9)))
            .is_empty()
    );

    let mut plays = Vec::new();
    s.at(30);
    s.engine.handle_call(
        s.now,
        CallEvent::Started(CallStart::new("CA1", "MZ1", AudioFormat::MuLaw)),
    );
    let mut lines = Vec::new();
    while let Some(action) = s.engine.poll_action() {
        if let Action::Call(CallCommand::Play { chunk, .. }) = &action {
            plays.push(chunk.clone());
        }
        lines.push(describe(action));
    }
    // Each held delta goes out as it came (the queue is short), with one mark.
    assert_eq!(
        lines,
        [
            "call: play item_a 20ms pcmu",
            "call: mark vb-0",
            "call: play item_a 60ms pcmu",
            "call: mark vb-1",
        ]
    );
    // The first frame out is the first frame the agent sent (all ones, as mu-law).
    let mut to_call =
        crate::audio::Transcoder::new(AudioFormat::PCM16_24K, AudioFormat::MuLaw).unwrap();
    assert_eq!(
        plays[0].to_bytes(),
        to_call.convert(&greeting).unwrap().to_bytes()
    );
    // Later audio goes straight through, after the held audio.
    assert_eq!(
        s.agent_frame("item_a"),
        ["call: play item_a 20ms pcmu", "call: mark vb-2"]
    );
    let report = s.report();
    assert_eq!(report.counters.agent_frames, 4);
    assert_eq!(report.counters.agent_frames_sent, 3);
    assert_eq!(report.counters.frames_refused, 1);
    assert_eq!(report.timings.first_agent_audio_ms, Some(30));
}

#[test]
fn agent_audio_held_before_the_call_started_is_bounded_and_the_overflow_counted() {
    let mut s = Scenario::new(BridgeConfig::default());
    s.ready(AudioFormat::MuLaw, AudioFormat::MuLaw);
    s.agent(response_started());
    // Six seconds of 1 s deltas: the oldest second does not fit in the five held.
    for _ in 0..6 {
        assert!(
            s.agent(agent_audio("item_a", delta(AudioFormat::MuLaw, 1000)))
                .is_empty()
        );
    }
    let lines = s.start_call(CallCapabilities::NONE);
    assert_eq!(
        lines.len(),
        2 * 5 * 5,
        "five seconds in messages of 200 ms, each with a mark"
    );
    let report = s.report();
    assert_eq!(report.counters.frames_refused, 1);
    assert!(
        report.errors[0].message.contains("overflowed"),
        "{:?}",
        report.errors
    );
}

#[test]
fn dtmf_is_recorded_and_forwarded() {
    let mut s = Scenario::connected();
    assert_eq!(
        s.at(1200).call(CallEvent::Dtmf(DtmfDigit::new('5'))),
        ["agent: dtmf 5"]
    );
    let report = s.report();
    assert_eq!(report.dtmf.len(), 1);
    assert_eq!(
        (report.dtmf[0].at_ms, report.dtmf[0].digit.key()),
        (1200, '5')
    );
}

#[test]
fn turn_latency_runs_from_end_of_speech_to_first_agent_audio() {
    let mut s = Scenario::connected();
    s.at(1000).agent(AgentEvent::SpeechStopped);
    s.at(1450).agent(response_started());
    s.agent_frame("item_a");
    s.at(1470).agent_frame("item_a");
    let timings = s.report().timings;
    assert_eq!(timings.first_agent_audio_ms, Some(1450));
    assert_eq!(timings.turns.len(), 1);
    assert_eq!(
        (
            timings.turns[0].speech_stopped_ms,
            timings.turns[0].latency_ms
        ),
        (1000, 450)
    );
}

#[test]
fn transcript_keeps_whole_texts_and_unfinished_fragments() {
    let mut s = Scenario::connected();
    let piece = |speaker, item: &str, text: &str, is_final| {
        AgentEvent::Transcript(Transcript {
            speaker,
            item_id: Some(item.into()),
            text: text.into(),
            is_final,
        })
    };
    s.at(100)
        .agent(piece(Speaker::Agent, "item_a", "Hel", false));
    s.agent(piece(Speaker::Agent, "item_a", "lo", false));
    s.at(900)
        .agent(piece(Speaker::Agent, "item_a", "Hello there.", true));
    s.at(1500)
        .agent(piece(Speaker::Caller, "item_u", "Hi!", true));
    s.at(2000)
        .agent(piece(Speaker::Agent, "item_b", "I can", false));
    s.agent(piece(Speaker::Agent, "item_b", " help", false));
    let lines = s.report().transcript;
    let got: Vec<_> = lines
        .iter()
        .map(|l| (l.at_ms, l.speaker, l.text.as_str(), l.complete))
        .collect();
    assert_eq!(
        got,
        [
            (900, Speaker::Agent, "Hello there.", true),
            (1500, Speaker::Caller, "Hi!", true),
            (2000, Speaker::Agent, "I can help", false),
        ]
    );
}

// ---- tools ----------------------------------------------------------------------------

fn tool_call(name: &str, id: &str) -> AgentEvent {
    AgentEvent::ToolCall(ToolCall::new(id, name, json!({"day": "monday"})))
}

#[test]
fn tool_success_answers_then_asks_the_agent_to_go_on_after_the_response() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    assert_eq!(
        s.agent(tool_call("confirm", "call_1")),
        ["run tool confirm call_1"]
    );
    // The result arrives before the response carrying the call is done: answer now,
    // ask for the next response only once it is done.
    assert_eq!(
        s.at(300).tool_result(
            "call_1",
            ToolOutcome::Reply(ToolReply::new(json!({"ok": true})))
        ),
        [r#"agent: tool result call_1 {"ok":true}"#,]
    );
    assert_eq!(s.agent(response_done()), ["agent: create response"]);
    let report = s.report();
    let record = &report.tool_calls[0];
    assert_eq!(
        record.result,
        Some(ToolCallResult::Ok {
            output: json!({"ok": true})
        })
    );
    assert_eq!(record.duration_ms, Some(300));
    assert_eq!(record.arguments, json!({"day": "monday"}));
}

#[test]
fn parallel_tool_calls_get_one_continue() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    s.agent(tool_call("a", "call_1"));
    s.agent(tool_call("b", "call_2"));
    s.agent(response_done());
    assert_eq!(
        s.tool_result("call_2", ToolOutcome::Reply(ToolReply::new(json!(2)))),
        ["agent: tool result call_2 2",]
    );
    assert_eq!(
        s.tool_result("call_1", ToolOutcome::Reply(ToolReply::new(json!(1)))),
        ["agent: tool result call_1 1", "agent: create response",]
    );
}

#[test]
fn tool_error_and_timeout_give_the_agent_an_error_result() {
    let mut s = Scenario::connected();
    s.agent(tool_call("lookup", "call_1"));
    assert_eq!(
        s.tool_result("call_1", ToolOutcome::Failed("database down".into())),
        [
            r#"agent: tool result call_1 {"error":"database down"}"#,
            "agent: create response",
        ]
    );
    s.agent(response_started());
    s.agent(tool_call("lookup", "call_2"));
    s.agent(response_done());
    assert_eq!(
        s.tool_result("call_2", ToolOutcome::TimedOut),
        [
            r#"agent: tool result call_2 {"error":"the tool did not answer within 10 s"}"#,
            "agent: create response",
        ]
    );
    // A result nobody asked for is recorded, not sent.
    assert!(s.tool_result("call_9", ToolOutcome::TimedOut).is_empty());
    let report = s.report();
    assert_eq!(
        report.tool_calls[0].result,
        Some(ToolCallResult::Error {
            message: "database down".into()
        })
    );
    assert_eq!(report.tool_calls[1].result, Some(ToolCallResult::TimedOut));
    assert_eq!(report.errors.len(), 3);
}

#[test]
fn tool_ends_the_call_after_the_goodbye_has_been_heard() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    s.agent_frames("goodbye", 3);
    s.agent(tool_call("end_call", "call_1"));
    let reply = ToolReply::new(json!({"ok": true})).end_call();
    assert_eq!(
        s.tool_result("call_1", ToolOutcome::Reply(reply)),
        [r#"agent: tool result call_1 {"ok":true}"#,]
    );
    s.agent(response_done());
    // Two of three frames heard: not yet.
    assert!(s.echo_range(0..=1).is_empty());
    assert_eq!(
        s.at(60).echo(2),
        [
            "agent: close",
            "call: hang up",
            "end by bridge: tool_ended_call"
        ]
    );
    let report = s.report();
    assert_eq!(
        report.outcome.reason,
        EndReason::ToolEndedCall {
            tool: "end_call".into()
        }
    );
    assert_eq!(report.duration_ms, 60);
}

#[test]
fn tool_can_ask_for_a_goodbye_then_end() {
    let mut s = Scenario::connected();
    s.agent(tool_call("end_call", "call_1"));
    let reply = ToolReply::new(json!({"ok": true})).end_call_after_response();
    assert_eq!(
        s.tool_result("call_1", ToolOutcome::Reply(reply)),
        [
            r#"agent: tool result call_1 {"ok":true}"#,
            "agent: create response",
        ]
    );
    s.agent(response_started());
    s.agent_frames("goodbye", 2);
    assert!(s.agent(response_done()).is_empty());
    assert_eq!(
        s.echo(1),
        [
            "agent: close",
            "call: hang up",
            "end by bridge: tool_ended_call"
        ]
    );
}

#[test]
fn tool_hands_over_when_the_leg_can() {
    let mut s = Scenario::connected_with(BridgeConfig::default(), CallCapabilities::ALL);
    s.agent(tool_call("transfer", "call_1"));
    let to = HandOver::Markup("<Response><Dial>+15550100</Dial></Response>".into());
    let reply = ToolReply::new(json!({"ok": true})).hand_over(to.clone());
    assert_eq!(
        s.tool_result("call_1", ToolOutcome::Reply(reply)),
        [
            r#"agent: tool result call_1 {"ok":true}"#,
            "agent: close",
            format!("call: hand over {to:?}").as_str(),
            "end by bridge: handed_over",
        ]
    );
}

#[test]
fn ending_waits_at_most_the_goodbye_timeout_when_marks_never_come() {
    let mut s = Scenario::connected();
    s.agent_frames("goodbye", 3);
    s.agent(tool_call("end_call", "call_1"));
    s.tool_result(
        "call_1",
        ToolOutcome::Reply(ToolReply::new(json!(null)).end_call()),
    );
    assert_eq!(
        s.timeout(),
        [
            "agent: close",
            "call: hang up",
            "end by bridge: tool_ended_call"
        ]
    );
    let report = s.report();
    assert_eq!(report.duration_ms, 15_000);
    assert_eq!(report.errors.len(), 1);
}

// ---- lifecycle ------------------------------------------------------------------------

#[test]
fn caller_hang_up_closes_the_agent_at_once() {
    let mut s = Scenario::connected();
    assert_eq!(
        s.at(4000).call(CallEvent::Ended(LegEnd::Finished)),
        ["agent: close", "end by call: call_ended",]
    );
    assert_eq!(s.engine.poll_timeout(), None);
    // Nothing after the end.
    assert!(s.agent_frame("item_a").is_empty());
    let report = s.report();
    assert_eq!(report.outcome.ended_by, Side::Call);
    assert_eq!(
        report.outcome.reason,
        EndReason::CallEnded {
            end: LegEnd::Finished
        }
    );
    assert_eq!(report.call_id.as_ref().map(|id| id.as_str()), Some("CA1"));
}

fn fallback_audio() -> Fallback {
    Fallback::Audio(AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0x7Fu8; 8000]).unwrap())
}

#[test]
fn agent_refused_plays_the_fallback_then_hangs_up() {
    let config = BridgeConfig {
        fallback: fallback_audio(),
        ..Default::default()
    };
    let mut s = Scenario::new(config);
    s.start_call(CallCapabilities::NONE);
    s.caller_frame(1);
    let refused = LegEnd::Refused {
        status: Some(401),
        detail: "invalid_api_key".into(),
    };
    assert_eq!(
        s.at(300).agent(AgentEvent::Ended(refused.clone())),
        ["call: play fallback 1000ms", "call: mark vb-0",]
    );
    assert_eq!(
        s.at(1300).echo(0),
        ["call: hang up", "end by agent: agent_not_started"]
    );
    let report = s.report();
    assert_eq!(report.outcome.ended_by, Side::Agent);
    // Refused before it was ready: the session never started (not "mid-call").
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentNotStarted { end: refused }
    );
    assert!(
        report
            .outcome
            .to_string()
            .starts_with("the agent session never started: refused (status 401)"),
        "{}",
        report.outcome
    );
    assert_eq!(
        report.outcome.fallback,
        Some(FallbackUsed::Audio { heard: true })
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.side == Side::Agent && e.fatal)
    );
}

#[test]
fn agent_refused_before_the_call_started_plays_the_fallback_once_it_does() {
    let config = BridgeConfig {
        fallback: fallback_audio(),
        ..Default::default()
    };
    let mut s = Scenario::new(config);
    let refused = LegEnd::Refused {
        status: Some(401),
        detail: "bad key".into(),
    };
    assert!(s.agent(AgentEvent::Ended(refused)).is_empty());
    assert_eq!(
        s.start_call(CallCapabilities::NONE),
        ["call: play fallback 1000ms", "call: mark vb-0",]
    );
    // The mark never comes back: hang up after the audio's length plus the grace.
    assert_eq!(
        s.timeout(),
        ["call: hang up", "end by agent: agent_not_started"]
    );
    assert_eq!(
        s.report().outcome.fallback,
        Some(FallbackUsed::Audio { heard: false })
    );
}

#[test]
fn agent_closed_mid_call_hands_the_call_back_when_the_leg_can() {
    let mut s = Scenario::connected_with(BridgeConfig::default(), CallCapabilities::ALL);
    let closed = LegEnd::Closed {
        code: Some(1011),
        reason: "server error".into(),
    };
    assert_eq!(
        s.agent(AgentEvent::Ended(closed.clone())),
        ["call: hand over Continue", "end by agent: agent_ended",]
    );
    let report = s.report();
    assert_eq!(report.outcome.reason, EndReason::AgentEnded { end: closed });
    assert_eq!(
        report.outcome.fallback,
        Some(FallbackUsed::HandOver {
            to: HandOver::Continue
        })
    );
}

#[test]
fn agent_closed_mid_call_hangs_up_when_the_leg_cannot_hand_over() {
    let mut s = Scenario::connected();
    let closed = LegEnd::Closed {
        code: Some(1011),
        reason: "server error".into(),
    };
    assert_eq!(
        s.agent(AgentEvent::Ended(closed)),
        ["call: hang up", "end by agent: agent_ended"]
    );
    assert!(matches!(
        s.report().outcome.fallback,
        Some(FallbackUsed::HangUp { .. })
    ));
}

#[test]
fn agent_fatal_error_closes_it_and_plays_the_fallback() {
    let config = BridgeConfig {
        fallback: fallback_audio(),
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    // A non-fatal error changes nothing.
    assert!(
        s.agent(AgentEvent::Error(AgentError {
            code: Some("response_cancel_not_active".into()),
            message: "no active response".into(),
            fatal: false,
        }))
        .is_empty()
    );
    assert_eq!(
        s.agent(AgentEvent::Error(AgentError {
            code: Some("session_expired".into()),
            message: "session hit the 60 minute limit".into(),
            fatal: true,
        })),
        [
            "call: play fallback 1000ms",
            "call: mark vb-0",
            "agent: close",
        ]
    );
    // The leg's own end after the error is expected, not a second failure.
    assert!(
        s.agent(AgentEvent::Ended(LegEnd::Closed {
            code: Some(1000),
            reason: String::new()
        }))
        .is_empty()
    );
    assert_eq!(s.echo(0), ["call: hang up", "end by agent: agent_ended"]);
    let report = s.report();
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentEnded {
            end: LegEnd::Error {
                code: Some("session_expired".into()),
                message: "session hit the 60 minute limit".into()
            }
        }
    );
    assert_eq!(report.errors.len(), 2);
}

#[test]
fn caller_hanging_up_during_the_fallback_keeps_the_first_cause() {
    let config = BridgeConfig {
        fallback: fallback_audio(),
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    s.agent(AgentEvent::Ended(LegEnd::Finished));
    assert_eq!(
        s.call(CallEvent::Ended(LegEnd::Finished)),
        ["end by agent: agent_ended"]
    );
    assert_eq!(
        s.report().outcome.reason,
        EndReason::AgentEnded {
            end: LegEnd::Finished
        }
    );
}

#[test]
fn agent_never_ready_counts_as_a_failure() {
    let mut s = Scenario::new(BridgeConfig::default());
    s.start_call(CallCapabilities::NONE);
    assert_eq!(
        s.timeout(),
        [
            "call: hang up",
            "agent: close",
            "end by agent: agent_not_ready"
        ]
    );
    let report = s.report();
    assert_eq!(report.duration_ms, 10_000);
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentNotReady {
            limit_ms: 10_000,
            waiting_for: None
        }
    );
}

#[test]
fn max_duration_ends_the_call() {
    let config = BridgeConfig {
        max_call_duration: Some(Duration::from_secs(60)),
        idle_timeout: None,
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    assert_eq!(
        s.engine.poll_timeout(),
        Some(s.start + Duration::from_secs(60))
    );
    assert_eq!(
        s.timeout(),
        [
            "agent: close",
            "call: hang up",
            "end by bridge: max_duration"
        ]
    );
    assert_eq!(s.report().duration_ms, 60_000);
}

#[test]
fn idle_timeout_counts_from_the_last_audio_either_way() {
    let config = BridgeConfig {
        idle_timeout: Some(Duration::from_secs(5)),
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    s.at(2000).caller_frame(1);
    s.at(4000).agent_frame("item_a");
    assert_eq!(
        s.engine.poll_timeout(),
        Some(s.start + Duration::from_secs(9))
    );
    assert_eq!(
        s.timeout(),
        [
            "agent: close",
            "call: hang up",
            "end by bridge: idle_timeout"
        ]
    );
    assert_eq!(
        s.report().outcome.reason,
        EndReason::IdleTimeout { limit_ms: 5000 }
    );
}

#[test]
fn report_serializes_to_json() {
    let mut s = Scenario::connected();
    s.at(500).call(CallEvent::Ended(LegEnd::Finished));
    let json = serde_json::to_value(s.report()).unwrap();
    assert_eq!(json["outcome"]["ended_by"], "call");
    assert_eq!(json["outcome"]["reason"]["kind"], "call_ended");
    assert_eq!(json["outcome"]["reason"]["end"]["kind"], "finished");
    assert_eq!(json["stream_id"], "MZ1");
    assert_eq!(json["duration_ms"], 500);
}

#[test]
fn report_taken_early_says_stopped() {
    let s = Scenario::connected();
    let report = s.report();
    assert_eq!(
        (report.outcome.ended_by, report.outcome.reason),
        (Side::Bridge, EndReason::Stopped)
    );
}

// ---- properties -----------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    AgentFrame(u8),
    Echo(u64),
    SpeechStarted,
    SpeechStopped,
    ResponseStarted,
    ResponseDone,
    CallerFrame,
    Advance(u64),
}

fn op() -> impl proptest::strategy::Strategy<Value = Op> {
    use proptest::prelude::*;
    prop_oneof![
        4 => (0u8..3).prop_map(Op::AgentFrame),
        4 => (0u64..60).prop_map(Op::Echo),
        1 => Just(Op::SpeechStarted),
        1 => Just(Op::SpeechStopped),
        1 => Just(Op::ResponseStarted),
        1 => Just(Op::ResponseDone),
        2 => Just(Op::CallerFrame),
        1 => (0u64..500).prop_map(Op::Advance),
    ]
}

proptest::proptest! {
    /// Whatever order events come in: truncations never exceed what was sent of the item,
    /// and an interrupted item never plays again.
    #[test]
    fn truncation_never_exceeds_what_was_sent(ops in proptest::collection::vec(op(), 0..200)) {
        let mut s = Scenario::connected();
        let mut sent_ms: Vec<(String, u64)> = Vec::new();
        let mut truncated: Vec<String> = Vec::new();
        let mut clock = 0;
        for op in ops {
            let lines = match op {
                Op::AgentFrame(n) => s.agent_frame(&format!("item_{n}")),
                Op::Echo(seq) => s.echo(seq),
                Op::SpeechStarted => s.agent(AgentEvent::SpeechStarted),
                Op::SpeechStopped => s.agent(AgentEvent::SpeechStopped),
                Op::ResponseStarted => s.agent(response_started()),
                Op::ResponseDone => s.agent(response_done()),
                Op::CallerFrame => s.caller_frame(0xFF),
                Op::Advance(ms) => {
                    clock += ms;
                    s.at(clock);
                    Vec::new()
                }
            };
            for line in lines {
                let words: Vec<&str> = line.split(' ').collect();
                match words.as_slice() {
                    ["call:", "play", item, ms, "pcmu"] => {
                        proptest::prop_assert!(!truncated.iter().any(|t| t == item), "{item} played after its truncation");
                        let ms: u64 = ms.trim_end_matches("ms").parse().unwrap();
                        proptest::prop_assert_eq!(ms % 20, 0, "whole frames in, whole frames joined");
                        match sent_ms.iter_mut().find(|(id, _)| id == item) {
                            Some((_, sent)) => *sent += ms,
                            None => sent_ms.push(((*item).to_owned(), ms)),
                        }
                    }
                    ["agent:", "truncate", item_part, "at", ms] => {
                        let item = item_part.trim_end_matches("/0");
                        let ms: u64 = ms.trim_end_matches("ms").parse().unwrap();
                        let sent = sent_ms.iter().find(|(id, _)| id == item).map_or(0, |(_, ms)| *ms);
                        proptest::prop_assert!(ms <= sent, "{item}: truncated at {ms} of {sent} sent");
                        truncated.push(item.to_owned());
                    }
                    _ => {}
                }
            }
        }
    }
}

// ---- a stalled agent (liveness.rs) -----------------------------------------------------

#[test]
fn a_requested_response_that_never_starts_is_a_stall_after_the_bound() {
    let mut s = Scenario::connected();
    s.agent(response_started());
    s.agent(tool_call("confirm", "call_1"));
    s.tool_result(
        "call_1",
        ToolOutcome::Reply(ToolReply::new(json!({"ok": true}))),
    );
    assert_eq!(s.agent(response_done()), ["agent: create response"]);
    // Nothing from the agent: 5 s after its last event, the fallback (here a hang-up: the
    // call leg cannot hand over).
    assert_eq!(
        s.timeout(),
        [
            "call: hang up",
            "agent: close",
            "end by agent: agent_stalled"
        ]
    );
    assert_eq!(s.now - s.start, Duration::from_secs(5));
    let report = s.report();
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentStalled {
            awaited: crate::report::Awaited::RequestedResponse,
            limit_ms: 5_000
        }
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.fatal && e.side == Side::Agent)
    );
}

#[test]
fn a_stall_counts_from_when_the_callers_queue_ran_out_and_later_audio_is_late() {
    let config = BridgeConfig {
        fallback: fallback_audio(),
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    s.agent(response_started());
    // Three seconds of answer at once, then nothing: the caller hears it until 3 s, and
    // the bound runs from there.
    assert_eq!(delta_at(&mut s, 0, "item_a", 3_000).len(), 30);
    assert_eq!(
        s.timeout(),
        [
            "call: play fallback 1000ms",
            "call: mark vb-15",
            "agent: close"
        ]
    );
    assert_eq!(s.now - s.start, Duration::from_secs(8));
    // The backlog of a stalled agent is too late for the caller: counted, never played.
    assert!(s.agent_frames("item_a", 3).is_empty());
    let report = s.report();
    assert_eq!(report.counters.agent_frames_late, 3);
    assert!(matches!(
        report.outcome.reason,
        EndReason::AgentStalled {
            awaited: crate::report::Awaited::RestOfResponse,
            ..
        }
    ));
}

#[test]
fn no_stall_rule_when_it_is_turned_off() {
    let config = BridgeConfig {
        agent_stall_timeout: None,
        idle_timeout: None,
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    s.agent(AgentEvent::SpeechStopped);
    // Only the call-length limit is left.
    assert_eq!(
        s.timeout(),
        [
            "agent: close",
            "call: hang up",
            "end by bridge: max_duration"
        ]
    );
}

// ---- the limit of audio queued ahead of the caller (audio_path.rs) ---------------------

#[test]
fn audio_beyond_the_limit_ahead_is_cut_with_the_rest_of_its_item() {
    let config = BridgeConfig {
        max_playback_ahead: Duration::from_secs(2),
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    s.agent(response_started());
    // 5 s in one delta: 2 s are queued (sent, or held to be joined), 3 s are cut.
    let sent = delta_at(&mut s, 0, "item_a", 5_000);
    let played_ms = |actions: &[String]| -> u64 {
        actions
            .iter()
            .filter_map(|a| a.strip_prefix("call: play "))
            .map(|a| a.split(' ').nth(1).unwrap().trim_end_matches("ms"))
            .map(|ms| ms.parse::<u64>().unwrap())
            .sum()
    };
    assert!((1_600..=2_000).contains(&played_ms(&sent)), "{sent:?}");
    // The rest of the item is dropped too, even once there is room again: no gap in
    // the middle of an answer.
    assert!(delta_at(&mut s, 1_500, "item_a", 200).is_empty());
    // The response ends: what was held goes out.
    let rest = s.agent(response_done());
    // (Each message's length is shown rounded down to the millisecond.)
    let queued = played_ms(&sent) + played_ms(&rest);
    assert!((1_990..=2_000).contains(&queued), "{queued} {rest:?}");
    // The next answer plays as usual once the caller's queue has room.
    s.agent(response_started());
    let next = delta_at(&mut s, 1_600, "item_b", 200);
    assert!((199..=200).contains(&played_ms(&next)), "{next:?}");
    let report = s.report();
    assert_eq!(report.counters.agent_audio_cut_ms, 3_200);
}

#[test]
fn a_shutdown_plays_the_fallback_closes_the_agent_and_says_why() {
    let config = BridgeConfig {
        fallback: fallback_audio(),
        ..Default::default()
    };
    let mut s = Scenario::connected_with(config, CallCapabilities::NONE);
    let now = s.now;
    s.engine.shut_down(now, "drain deadline passed");
    assert_eq!(
        s.drain(),
        [
            "call: play fallback 1000ms",
            "call: mark vb-0",
            "agent: close",
        ]
    );
    // A second request changes nothing: the fallback is already playing.
    let now = s.now;
    s.engine.shut_down(now, "again");
    assert!(s.drain().is_empty());
    assert_eq!(s.echo(0), ["call: hang up", "end by bridge: shutdown"]);
    let report = s.report();
    assert_eq!(report.outcome.ended_by, Side::Bridge);
    assert_eq!(
        report.outcome.reason,
        EndReason::Shutdown {
            why: "drain deadline passed".into()
        }
    );
    assert!(!report.outcome.reason.is_agent_failure());
    assert_eq!(
        report.outcome.reason.to_string(),
        "the call was ended by its server: drain deadline passed"
    );
    assert_eq!(
        report.outcome.fallback,
        Some(FallbackUsed::Audio { heard: true })
    );
}
