//! Barge-in, playback marks and DTMF through the driver: the same scenarios as the
//! engine's own tests, here with in-memory legs on tokio's paused clock.
//!
//! Each test reads as a call trace. [`Phone`] plays the telephony side as Twilio does:
//! the agent's frames queue up at the caller and play when the test says the caller hears
//! them (20 ms each on the paused clock, each frame's mark echoed as playback reaches it,
//! unless the echo is lost or comes late); a clear drops what is queued and echoes every
//! pending mark at once. [`Model`] plays the agent: it starts responses, speaks in 20 ms
//! frames faster than real time and reports the caller's speech. What each leg receives is
//! written as short lines (`"play item_a 20ms"`, `"mark vb-0"`, `"clear"`,
//! `"truncate item_a/0 at 60ms"`, `"cancel response"`, `"dtmf 5"`).

use std::collections::VecDeque;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::memory::{self, AgentPeer, CallPeer};
use voice_bridge::report::CallReport;
use voice_bridge::{
    AgentAudio, AgentCommand, AgentEvent, AgentReady, AudioSource, Bridge, BridgeConfig,
    CallCommand, CallEvent, CallStart, DtmfDigit, ItemId, LegEnd, ResponseDone, ResponseStatus,
};

/// One frame of agent audio, and the length of playback between two marks.
#[path = "support/driver.rs"]
mod support;

use support::{quiet_config, settle};

const FRAME: Duration = Duration::from_millis(20);

/// A call between a [`Phone`] and a [`Model`], started and ready (mu-law both ways).
struct TestCall {
    phone: Phone,
    model: Model,
    bridge: JoinHandle<CallReport>,
    began: Instant,
}

impl TestCall {
    async fn connected(config: BridgeConfig) -> Self {
        let (call, phone) = memory::call_leg(256);
        let (agent, model) = memory::agent_leg(256);
        let began = Instant::now();
        let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
        let mut phone = Phone {
            peer: phone,
            unread: Vec::new(),
            queued_marks: VecDeque::new(),
            unmarked_ms: 0,
        };
        let mut model = Model { peer: model };
        let start = CallStart::new("CA1", "MZ1", AudioFormat::MuLaw);
        phone.send(CallEvent::Started(start)).await;
        let mulaw = AudioFormat::MuLaw;
        model
            .send(AgentEvent::Ready(AgentReady::new(mulaw, mulaw)))
            .await;
        assert!(phone.gets().await.is_empty());
        assert!(model.gets().await.is_empty());
        Self {
            phone,
            model,
            bridge,
            began,
        }
    }

    /// Milliseconds since the bridge started: the clock of the report.
    fn now_ms(&self) -> u64 {
        u64::try_from(self.began.elapsed().as_millis()).unwrap()
    }

    /// The caller hangs up; the agent is closed; the report.
    async fn hang_up(mut self) -> CallReport {
        self.phone.send(CallEvent::Ended(LegEnd::Finished)).await;
        assert_eq!(self.model.gets().await, ["close"]);
        timeout(Duration::from_secs(1), self.bridge)
            .await
            .expect("the bridge ends within a second")
            .unwrap()
    }
}

/// The telephony side, as Twilio behaves.
struct Phone {
    peer: CallPeer,
    /// Commands received and not yet looked at, as lines.
    unread: Vec<String>,
    /// The marks queued for playback, oldest first, each with the milliseconds of audio
    /// queued before it (after the mark before it).
    queued_marks: VecDeque<(String, u64)>,
    /// Milliseconds of audio received since the last mark.
    unmarked_ms: u64,
}

impl Phone {
    async fn send(&mut self, event: CallEvent) {
        self.peer.send(event).await.unwrap();
        settle().await;
    }

    /// Takes what the bridge has sent so far: audio and marks join the playback queue; a
    /// clear empties it and echoes every pending mark (Twilio's answer to a clear).
    async fn take_commands(&mut self) {
        settle().await;
        while let Some(command) = self.peer.try_recv() {
            self.unread.push(describe_call(&command));
            match command {
                CallCommand::Play { chunk, .. } => self.unmarked_ms += chunk.duration_ms(),
                CallCommand::Mark(mark) => {
                    let ms = std::mem::take(&mut self.unmarked_ms);
                    self.queued_marks.push_back((mark.to_string(), ms));
                }
                CallCommand::Clear => {
                    self.unmarked_ms = 0;
                    for (name, _) in std::mem::take(&mut self.queued_marks) {
                        self.peer.send(CallEvent::MarkPlayed(name)).await.unwrap();
                    }
                }
                _ => {}
            }
        }
        settle().await;
    }

    /// What the bridge has sent the phone since the last look.
    async fn gets(&mut self) -> Vec<String> {
        self.take_commands().await;
        std::mem::take(&mut self.unread)
    }

    /// The caller hears the next `frames` frames, each echoing its mark when it ends.
    async fn hears(&mut self, frames: usize) {
        self.play(frames, true).await;
    }

    /// The caller hears the next `frames` frames, but their echoes are lost on the way.
    async fn hears_with_echoes_lost(&mut self, frames: usize) {
        self.play(frames, false).await;
    }

    /// Plays `frames` frames of 20 ms in real time; each mark reached is echoed (unless
    /// `echo` is false) the moment the audio before it has played.
    async fn play(&mut self, frames: usize, echo: bool) {
        self.take_commands().await;
        let mut left = FRAME * u32::try_from(frames).unwrap();
        while !left.is_zero() {
            let (mark, ms) = self.queued_marks.front_mut().expect("queued audio");
            let before = Duration::from_millis(*ms);
            if before > left {
                sleep(left).await;
                *ms -= u64::try_from(left.as_millis()).unwrap();
                return;
            }
            sleep(before).await;
            left -= before;
            let mark = mark.clone();
            self.queued_marks.pop_front();
            if echo {
                self.send(CallEvent::MarkPlayed(mark)).await;
            }
        }
    }

    /// An echo of `name` arrives: late, or never sent by the bridge.
    async fn echoes(&mut self, name: &str) {
        self.send(CallEvent::MarkPlayed(name.to_owned())).await;
    }

    /// The caller presses a key.
    async fn presses(&mut self, key: char) {
        self.send(CallEvent::Dtmf(DtmfDigit::new(key))).await;
    }
}

/// The agent side.
struct Model {
    peer: AgentPeer,
}

impl Model {
    async fn send(&mut self, event: AgentEvent) {
        self.peer.send(event).await.unwrap();
        settle().await;
    }

    /// What the bridge has sent the model since the last look.
    async fn gets(&mut self) -> Vec<String> {
        settle().await;
        std::iter::from_fn(|| self.peer.try_recv())
            .map(|command| describe_agent(&command))
            .collect()
    }

    async fn starts_a_response(&mut self) {
        self.send(AgentEvent::ResponseStarted(None)).await;
    }

    /// `frames` 20 ms frames of `item`, faster than real time as a model sends them.
    async fn says(&mut self, item: &str, frames: usize) {
        for _ in 0..frames {
            let chunk = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0x55; 160]).unwrap();
            self.peer
                .send(AgentEvent::Audio(AgentAudio::new(item, 0, chunk)))
                .await
                .unwrap();
        }
        settle().await;
    }

    async fn finishes_the_response(&mut self, status: ResponseStatus) {
        self.send(AgentEvent::ResponseDone(ResponseDone::new(status)))
            .await;
    }

    /// The model's voice activity detection hears the caller start speaking.
    async fn hears_the_caller_start(&mut self) {
        self.send(AgentEvent::SpeechStarted).await;
    }

    async fn hears_the_caller_stop(&mut self) {
        self.send(AgentEvent::SpeechStopped).await;
    }
}

fn describe_call(command: &CallCommand) -> String {
    match command {
        CallCommand::Play {
            chunk,
            source: AudioSource::Agent { item_id, .. },
        } => format!("play {item_id} {}ms", chunk.duration_ms()),
        CallCommand::Mark(mark) => format!("mark {mark}"),
        CallCommand::Clear => "clear".into(),
        CallCommand::HangUp => "hang up".into(),
        other => format!("{other:?}"),
    }
}

fn describe_agent(command: &AgentCommand) -> String {
    match command {
        AgentCommand::Audio(chunk) => format!("audio {}ms", chunk.duration_ms()),
        AgentCommand::Truncate {
            item_id,
            content_index,
            audio_end_ms,
        } => format!("truncate {item_id}/{content_index} at {audio_end_ms}ms"),
        AgentCommand::CancelResponse => "cancel response".into(),
        AgentCommand::Dtmf(digit) => format!("dtmf {digit}"),
        AgentCommand::Close => "close".into(),
        other => format!("{other:?}"),
    }
}

/// Checks the agent's commands against `expected`, where a truncation may be up to
/// `SLACK_MS` past the expected point: between the phone's plays the test's own steps
/// (`settle`, a millisecond each) pass on the paused clock, and the bridge, which takes
/// the time since the last echo as played (as a real phone plays on), counts them too.
fn assert_agent_got(lines: &[String], expected: &[&str]) {
    const SLACK_MS: u64 = 5;
    let ms_of = |line: &str| -> Option<(String, u64)> {
        let (head, ms) = line.rsplit_once(" at ")?;
        Some((head.to_owned(), ms.strip_suffix("ms")?.parse().ok()?))
    };
    assert_eq!(lines.len(), expected.len(), "{lines:?} vs {expected:?}");
    for (line, want) in lines.iter().zip(expected) {
        match (ms_of(line), ms_of(want)) {
            (Some((head, ms)), Some((want_head, want_ms))) => {
                assert_eq!(head, want_head, "{lines:?}");
                assert!(
                    (want_ms..=want_ms + SLACK_MS).contains(&ms),
                    "{line}: expected {want_ms} ms (up to {SLACK_MS} more)"
                );
            }
            _ => assert_eq!(line, want, "{lines:?}"),
        }
    }
}

/// The lines of `item`'s frames played with the marks `marks`, one frame per mark.
fn plays(item: &str, marks: std::ops::Range<u64>) -> Vec<String> {
    marks
        .flat_map(|seq| [format!("play {item} 20ms"), format!("mark vb-{seq}")])
        .collect()
}

// ---- barge-in -------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn barge_in_truncates_the_earlier_item_still_queued_at_the_caller() {
    let mut call = TestCall::connected(quiet_config()).await;
    call.model.starts_a_response().await;
    call.model.says("item_a", 5).await;
    call.model
        .finishes_the_response(ResponseStatus::Completed)
        .await;
    assert_eq!(call.phone.gets().await, plays("item_a", 0..5));
    // A second answer starts arriving while item_a is still queued at the caller.
    call.model.starts_a_response().await;
    call.model.says("item_b", 3).await;
    // Its first frame reaches a queue under half a chunk (100 ms) and goes out; the next
    // two are held and joined.
    assert_eq!(call.phone.gets().await, plays("item_b", 5..6));
    // The caller has heard 60 ms of item_a when they speak over it. At the first echo
    // the queue is down to 100 ms, and the held 40 ms go out as one message.
    call.phone.hears(3).await;
    let barge_in_ms = call.now_ms();
    call.model.hears_the_caller_start().await;
    assert_eq!(
        call.phone.gets().await,
        ["play item_b 40ms", "mark vb-6", "clear"]
    );
    assert_agent_got(
        &call.model.gets().await,
        &[
            "cancel response",
            "truncate item_a/0 at 60ms",
            "truncate item_b/0 at 0ms",
        ],
    );
    // The rest of the interrupted answer is dropped, not played.
    call.model.says("item_b", 2).await;
    assert!(call.phone.gets().await.is_empty());
    call.model
        .finishes_the_response(ResponseStatus::Cancelled)
        .await;
    // The next answer plays as usual.
    call.model.hears_the_caller_stop().await;
    call.model.starts_a_response().await;
    call.model.says("item_c", 1).await;
    assert_eq!(call.phone.gets().await, plays("item_c", 7..8));

    let report = call.hang_up().await;
    assert_eq!(report.barge_ins.len(), 1);
    let barge_in = &report.barge_ins[0];
    assert_eq!(barge_in.at_ms, barge_in_ms);
    assert_eq!(barge_in.item_id, Some(ItemId::new("item_a")));
    assert!((60..=65).contains(&barge_in.heard_ms), "{barge_in:?}");
    assert_eq!(barge_in.sent_ms, 100);
    assert_eq!(barge_in.truncated_ms, Some(barge_in.heard_ms as u32));
    assert!(barge_in.cancelled_response);
    let c = &report.counters;
    // The phone echoed the four marks pending at the clear: cleared, not heard.
    assert_eq!((c.marks_played, c.marks_cleared), (3, 4));
    assert_eq!(c.agent_frames_discarded, 2);
}

#[tokio::test(start_paused = true)]
async fn barge_in_right_after_an_answer_played_out_whole_truncates_nothing() {
    let mut call = TestCall::connected(quiet_config()).await;
    call.model.starts_a_response().await;
    call.model.says("item_a", 3).await;
    call.model
        .finishes_the_response(ResponseStatus::Completed)
        .await;
    assert_eq!(call.phone.gets().await, plays("item_a", 0..3));
    call.phone.hears(3).await;
    // The caller speaks right after: nothing is queued, nothing is being generated.
    call.model.hears_the_caller_start().await;
    assert!(call.phone.gets().await.is_empty());
    assert!(call.model.gets().await.is_empty());
    call.model.hears_the_caller_stop().await;
    // Seconds later, the next answer: its truncation counts from its own start, not from
    // the first answer's (a start time never reset would make it seconds too long).
    sleep(Duration::from_secs(5)).await;
    call.model.starts_a_response().await;
    call.model.says("item_b", 2).await;
    assert_eq!(call.phone.gets().await, plays("item_b", 3..5));
    call.phone.hears(1).await;
    call.model.hears_the_caller_start().await;
    assert_eq!(call.phone.gets().await, ["clear"]);
    assert_agent_got(
        &call.model.gets().await,
        &["cancel response", "truncate item_b/0 at 20ms"],
    );

    let report = call.hang_up().await;
    assert_eq!(report.barge_ins.len(), 1, "{:?}", report.barge_ins);
    assert_eq!(report.barge_ins[0].item_id, Some(ItemId::new("item_b")));
    let truncated = report.barge_ins[0].truncated_ms.unwrap();
    assert!((20..=25).contains(&truncated), "{truncated} ms");
}

#[tokio::test(start_paused = true)]
async fn barge_in_during_generation_cancels_and_truncates_at_what_was_heard() {
    let mut call = TestCall::connected(quiet_config()).await;
    call.model.starts_a_response().await;
    call.model.says("item_a", 2).await;
    assert_eq!(call.phone.gets().await, plays("item_a", 0..2));
    // Nothing echoed yet: by the clock, the caller has heard the few ms since it was sent.
    call.model.hears_the_caller_start().await;
    assert_eq!(call.phone.gets().await, ["clear"]);
    assert_agent_got(
        &call.model.gets().await,
        &["cancel response", "truncate item_a/0 at 0ms"],
    );
    // Audio the model sent before it saw the cancel never reaches the caller.
    call.model.says("item_a", 3).await;
    assert!(call.phone.gets().await.is_empty());

    let report = call.hang_up().await;
    let barge_in = &report.barge_ins[0];
    assert!(barge_in.heard_ms <= 5, "{barge_in:?}");
    assert_eq!(barge_in.sent_ms, 40);
    assert_eq!(barge_in.truncated_ms, Some(barge_in.heard_ms as u32));
    assert!(barge_in.cancelled_response);
}

#[tokio::test(start_paused = true)]
async fn barge_in_during_generation_with_all_sent_audio_heard_only_cancels_and_truncates() {
    let mut call = TestCall::connected(quiet_config()).await;
    call.model.starts_a_response().await;
    call.model.says("item_a", 2).await;
    assert_eq!(call.phone.gets().await, plays("item_a", 0..2));
    call.phone.hears(2).await;
    // Nothing is queued at the caller (no clear), but the response is still running: its
    // later audio must not play, and the item is cut where the caller stopped hearing it.
    call.model.hears_the_caller_start().await;
    assert!(call.phone.gets().await.is_empty());
    assert_agent_got(
        &call.model.gets().await,
        &["cancel response", "truncate item_a/0 at 40ms"],
    );
    call.model.says("item_a", 1).await;
    assert!(call.phone.gets().await.is_empty());
    let report = call.hang_up().await;
    assert_eq!(report.barge_ins[0].truncated_ms, Some(40));
}

#[tokio::test(start_paused = true)]
async fn barge_in_without_cancel_when_configured_off() {
    let mut config = quiet_config();
    config.cancel_on_barge_in = false;
    let mut call = TestCall::connected(config).await;
    call.model.starts_a_response().await;
    call.model.says("item_a", 2).await;
    assert_eq!(call.phone.gets().await, plays("item_a", 0..2));
    call.phone.hears(1).await;
    call.model.hears_the_caller_start().await;
    assert_eq!(call.phone.gets().await, ["clear"]);
    assert_agent_got(&call.model.gets().await, &["truncate item_a/0 at 20ms"]);
    let report = call.hang_up().await;
    assert!(!report.barge_ins[0].cancelled_response);
}

// ---- marks lost or late ---------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn lost_and_late_mark_echoes_do_not_skew_the_truncation() {
    let mut call = TestCall::connected(quiet_config()).await;
    call.model.starts_a_response().await;
    call.model.says("item_a", 5).await;
    call.model
        .finishes_the_response(ResponseStatus::Completed)
        .await;
    assert_eq!(call.phone.gets().await, plays("item_a", 0..5));
    // Two frames play but their echoes are lost; the third's echo says 60 ms were heard.
    call.phone.hears_with_echoes_lost(2).await;
    call.phone.hears(1).await;
    // The echo of the first mark arrives late: it changes nothing.
    call.phone.echoes("vb-0").await;
    call.model.hears_the_caller_start().await;
    assert_eq!(call.phone.gets().await, ["clear"]);
    // The response was done: nothing to cancel.
    assert_agent_got(&call.model.gets().await, &["truncate item_a/0 at 60ms"]);
    // The phone echoed vb-3 and vb-4 at the clear: cleared, not heard. An echo of a mark
    // the bridge never sent is counted and ignored.
    call.phone.echoes("someone-else").await;
    assert!(call.phone.gets().await.is_empty());
    assert!(call.model.gets().await.is_empty());

    let report = call.hang_up().await;
    let barge_in = &report.barge_ins[0];
    assert!((60..=65).contains(&barge_in.heard_ms), "{barge_in:?}");
    assert_eq!(barge_in.truncated_ms, Some(barge_in.heard_ms as u32));
    let c = &report.counters;
    assert_eq!((c.marks_sent, c.marks_played, c.marks_implied), (5, 1, 2));
    // The late vb-0 and the stranger are unexpected.
    assert_eq!((c.marks_cleared, c.marks_unexpected), (2, 2));
}

#[tokio::test(start_paused = true)]
async fn marks_echoed_late_after_more_audio_still_give_the_heard_position() {
    let mut call = TestCall::connected(quiet_config()).await;
    call.model.starts_a_response().await;
    call.model.says("item_a", 4).await;
    assert_eq!(call.phone.gets().await, plays("item_a", 0..4));
    // The phone plays three frames, but its echoes lag: none has arrived yet.
    call.phone.hears_with_echoes_lost(3).await;
    call.model.says("item_a", 2).await;
    assert_eq!(call.phone.gets().await, plays("item_a", 4..6));
    // The echoes of the first two arrive late, after more audio was sent.
    call.phone.echoes("vb-0").await;
    call.phone.echoes("vb-1").await;
    call.model.hears_the_caller_start().await;
    assert_eq!(call.phone.gets().await, ["clear"]);
    // Truncated at what the echoes prove was heard (40 ms), not at what was sent.
    assert_agent_got(
        &call.model.gets().await,
        &["cancel response", "truncate item_a/0 at 40ms"],
    );
    let report = call.hang_up().await;
    let barge_in = &report.barge_ins[0];
    assert!((40..=45).contains(&barge_in.heard_ms), "{barge_in:?}");
    assert_eq!(barge_in.sent_ms, 120);
}

// ---- DTMF -----------------------------------------------------------------------------

#[tokio::test(start_paused = true)]
async fn dtmf_is_forwarded_to_the_agent_and_recorded() {
    let mut call = TestCall::connected(quiet_config()).await;
    sleep(Duration::from_millis(1200)).await;
    let pressed_ms = call.now_ms();
    call.phone.presses('5').await;
    assert_eq!(call.model.gets().await, ["dtmf 5"]);
    // A key press while the agent speaks is not a barge-in: its audio keeps playing.
    call.model.starts_a_response().await;
    call.model.says("item_a", 2).await;
    call.phone.presses('#').await;
    assert_eq!(call.model.gets().await, ["dtmf #"]);
    assert_eq!(call.phone.gets().await, plays("item_a", 0..2));

    let report = call.hang_up().await;
    let presses: Vec<_> = report.dtmf.iter().map(|p| p.digit.key()).collect();
    assert_eq!(presses, ['5', '#']);
    assert_eq!(report.dtmf[0].at_ms, pressed_ms);
    assert!(report.barge_ins.is_empty());
}

#[tokio::test(start_paused = true)]
async fn dtmf_is_recorded_but_not_forwarded_when_configured_off() {
    let mut config = quiet_config();
    config.forward_dtmf = false;
    let mut call = TestCall::connected(config).await;
    call.phone.presses('7').await;
    assert!(call.model.gets().await.is_empty());
    let report = call.hang_up().await;
    assert_eq!(report.dtmf.len(), 1);
    assert_eq!(report.dtmf[0].digit.key(), '7');
}
