//! The driver with in-memory legs on tokio's paused clock.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use tokio::time::{Instant, sleep, sleep_until, timeout};
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::memory::{self, AgentPeer, CallPeer};
use voice_bridge::report::{CallReport, EndReason, FallbackUsed, ToolCallResult};
use voice_bridge::{
    AgentAudio, AgentCommand, AgentEvent, AgentLeg, AgentReady, Bridge, BridgeConfig, CallCommand,
    CallEvent, CallStart, Fallback, ItemId, LegEnd, LegError, ResponseDone, ResponseStatus, Side,
    ToolCall, ToolError, ToolReply, tool_fn,
};

#[path = "support/driver.rs"]
mod support;

use support::{quiet_config, settle};

const SECOND: Duration = Duration::from_secs(1);

fn frame(tag: u8) -> AudioChunk {
    AudioChunk::from_bytes(AudioFormat::MuLaw, vec![tag; 160]).unwrap()
}

fn started() -> CallEvent {
    CallEvent::Started(CallStart::new("CA42", "MZ42", AudioFormat::MuLaw))
}

fn ready() -> AgentEvent {
    AgentEvent::Ready(AgentReady::new(AudioFormat::MuLaw, AudioFormat::MuLaw))
}

fn agent_audio(item: &str) -> AgentEvent {
    AgentEvent::Audio(AgentAudio::new(item, 0, frame(0x55)))
}

fn response_done() -> AgentEvent {
    AgentEvent::ResponseDone(ResponseDone::new(ResponseStatus::Completed))
}

async fn next_agent_command(model: &mut AgentPeer) -> AgentCommand {
    timeout(10 * SECOND, model.recv())
        .await
        .expect("a command in time")
        .expect("leg open")
}

async fn next_call_command(phone: &mut CallPeer) -> CallCommand {
    timeout(10 * SECOND, phone.recv())
        .await
        .expect("a command in time")
        .expect("leg open")
}

#[tokio::test(start_paused = true)]
async fn caller_hang_up_closes_the_agent_within_a_second() {
    let (call, phone) = memory::call_leg(16);
    let (agent, mut model) = memory::agent_leg(16);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(quiet_config()).run());
    phone.send(started()).await.unwrap();
    model.send(ready()).await.unwrap();
    phone.send(CallEvent::Audio(frame(1))).await.unwrap();
    assert!(matches!(
        next_agent_command(&mut model).await,
        AgentCommand::Audio(_)
    ));

    let hung_up = Instant::now();
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    assert_eq!(next_agent_command(&mut model).await, AgentCommand::Close);
    let report = bridge.await.unwrap();
    assert!(hung_up.elapsed() <= SECOND);
    // The agent leg has been dropped: the model sees the end of its command stream.
    assert!(model.recv().await.is_none());
    assert_eq!(report.outcome.ended_by, Side::Call);
    assert_eq!(
        report.outcome.reason,
        EndReason::CallEnded {
            end: LegEnd::Finished
        }
    );
    assert_eq!(report.call_id.unwrap().as_str(), "CA42");
}

#[tokio::test(start_paused = true)]
async fn caller_hang_up_closes_a_stuck_agent_within_a_second() {
    // The model never reads: its command channel (capacity 1) fills up and every send to
    // it blocks. The hang-up must still end the call within the close bound.
    let (call, phone) = memory::call_leg(16);
    let (agent, model) = memory::agent_leg(1);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(quiet_config()).run());
    phone.send(started()).await.unwrap();
    model.send(ready()).await.unwrap();
    for tag in 0..3 {
        phone.send(CallEvent::Audio(frame(tag))).await.unwrap();
    }
    sleep(Duration::from_millis(100)).await;
    let hung_up = Instant::now();
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    let report = timeout(5 * SECOND, bridge)
        .await
        .expect("bridge ends")
        .unwrap();
    assert!(
        hung_up.elapsed() <= SECOND + Duration::from_millis(1),
        "{:?}",
        hung_up.elapsed()
    );
    assert!(model.is_closed());
    assert_eq!(report.outcome.ended_by, Side::Call);
}

#[tokio::test(start_paused = true)]
async fn early_caller_audio_reaches_the_agent_in_order() {
    let (call, phone) = memory::call_leg(16);
    let (agent, mut model) = memory::agent_leg(16);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(quiet_config()).run());
    phone.send(started()).await.unwrap();
    for tag in 1..=4 {
        phone.send(CallEvent::Audio(frame(tag))).await.unwrap();
    }
    // The agent's socket takes a while to open.
    sleep(Duration::from_millis(700)).await;
    assert!(model.try_recv().is_none());
    model.send(ready()).await.unwrap();
    sleep(Duration::from_millis(10)).await;
    phone.send(CallEvent::Audio(frame(5))).await.unwrap();
    let mut tags = Vec::new();
    for _ in 0..5 {
        match next_agent_command(&mut model).await {
            AgentCommand::Audio(chunk) => tags.push(chunk.to_bytes()[0]),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(tags, [1, 2, 3, 4, 5]);
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    let report = bridge.await.unwrap();
    assert_eq!(report.counters.early_frames_buffered, 4);
    assert_eq!(report.counters.early_frames_dropped, 0);
}

#[tokio::test(start_paused = true)]
async fn agent_refused_gives_the_fallback_and_a_clean_end() {
    let mut config = quiet_config();
    config.fallback =
        Fallback::Audio(AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0u8; 4000]).unwrap());
    let (call, mut phone) = memory::call_leg(16);
    let (agent, model) = memory::agent_leg(16);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
    phone.send(started()).await.unwrap();
    let refused = LegEnd::Refused {
        status: Some(401),
        detail: "invalid_api_key".into(),
    };
    model
        .send(AgentEvent::Ended(refused.clone()))
        .await
        .unwrap();
    let CallCommand::Play { chunk, .. } = next_call_command(&mut phone).await else {
        panic!("expected the fallback audio")
    };
    assert_eq!(chunk.duration_ms(), 500);
    let CallCommand::Mark(mark) = next_call_command(&mut phone).await else {
        panic!("expected the fallback's mark")
    };
    sleep(Duration::from_millis(500)).await;
    phone
        .send(CallEvent::MarkPlayed(mark.to_string()))
        .await
        .unwrap();
    assert_eq!(next_call_command(&mut phone).await, CallCommand::HangUp);
    let report = bridge.await.unwrap();
    assert_eq!(report.outcome.ended_by, Side::Agent);
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentNotStarted { end: refused }
    );
    assert_eq!(
        report.outcome.fallback,
        Some(FallbackUsed::Audio { heard: true })
    );
}

/// An agent leg whose connection breaks on the first read.
struct BrokenAgent;

#[async_trait]
impl AgentLeg for BrokenAgent {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        sleep(Duration::from_millis(50)).await;
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        Err(LegError::with_source("websocket read failed", io))
    }

    async fn send(&mut self, _command: AgentCommand) -> Result<(), LegError> {
        Err(LegError::new("not connected"))
    }
}

#[tokio::test(start_paused = true)]
async fn agent_transport_error_hangs_up_with_the_cause() {
    let mut config = quiet_config();
    config.fallback = Fallback::HangUp;
    let (call, mut phone) = memory::call_leg(16);
    let began = Instant::now();
    let bridge = tokio::spawn(Bridge::new(call, BrokenAgent).with_config(config).run());
    phone.send(started()).await.unwrap();
    assert_eq!(next_call_command(&mut phone).await, CallCommand::HangUp);
    assert_eq!(phone.recv().await, None);
    // The agent's read fails 50 ms in; the call is released within a second of that.
    let failed_at = began + Duration::from_millis(50);
    assert!(
        Instant::now() <= failed_at + SECOND,
        "{:?}",
        began.elapsed()
    );
    let report = bridge.await.unwrap();
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentNotStarted {
            end: LegEnd::Failed {
                message: "websocket read failed: reset by peer".into()
            }
        }
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.message.contains("reset by peer"))
    );
}

#[tokio::test(start_paused = true)]
async fn agent_dropping_mid_call_hands_the_call_back() {
    let (call, mut phone) = memory::call_leg(16);
    let (agent, model) = memory::agent_leg(16);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(quiet_config()).run());
    let start = CallStart::new("CA1", "MZ1", AudioFormat::MuLaw)
        .with_capabilities(voice_bridge::CallCapabilities::ALL);
    phone.send(CallEvent::Started(start)).await.unwrap();
    model.send(ready()).await.unwrap();
    sleep(SECOND).await;
    let dropped = Instant::now();
    drop(model);
    assert_eq!(
        next_call_command(&mut phone).await,
        CallCommand::HandOver(voice_bridge::HandOver::Continue)
    );
    // The hand-over was the call leg's last command: the bridge then drops the leg.
    assert_eq!(phone.recv().await, None);
    assert!(dropped.elapsed() <= SECOND, "{:?}", dropped.elapsed());
    let report = bridge.await.unwrap();
    assert!(matches!(
        report.outcome.reason,
        EndReason::AgentEnded {
            end: LegEnd::Closed { .. }
        }
    ));
}

// ---- each way a leg can end: the other leg is closed within a second ------------------

/// A call in progress: started, the agent ready, a caller frame delivered to the agent and
/// an agent frame played to the caller.
struct Running {
    bridge: tokio::task::JoinHandle<CallReport>,
    phone: CallPeer,
    model: AgentPeer,
}

async fn running_call(config: BridgeConfig) -> Running {
    let (call, mut phone) = memory::call_leg(16);
    let (agent, mut model) = memory::agent_leg(16);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
    let start = CallStart::new("CA42", "MZ42", AudioFormat::MuLaw)
        .with_capabilities(voice_bridge::CallCapabilities::ALL);
    phone.send(CallEvent::Started(start)).await.unwrap();
    model.send(ready()).await.unwrap();
    phone.send(CallEvent::Audio(frame(1))).await.unwrap();
    assert!(matches!(
        next_agent_command(&mut model).await,
        AgentCommand::Audio(_)
    ));
    model.send(AgentEvent::ResponseStarted(None)).await.unwrap();
    model.send(agent_audio("item_a")).await.unwrap();
    assert!(matches!(
        next_call_command(&mut phone).await,
        CallCommand::Play { .. }
    ));
    assert!(matches!(
        next_call_command(&mut phone).await,
        CallCommand::Mark(_)
    ));
    sleep(SECOND).await;
    Running {
        bridge,
        phone,
        model,
    }
}

/// The call leg ended at `since`: the agent gets its `Close`, then is dropped, all within a
/// second; the call ended from the call's side.
async fn agent_closed_within_a_second(
    bridge: tokio::task::JoinHandle<CallReport>,
    mut model: AgentPeer,
    since: Instant,
) -> CallReport {
    assert_eq!(next_agent_command(&mut model).await, AgentCommand::Close);
    assert_eq!(model.recv().await, None, "the agent leg is dropped");
    let report = bridge.await.unwrap();
    assert!(since.elapsed() <= SECOND, "{:?}", since.elapsed());
    assert_eq!(report.outcome.ended_by, Side::Call);
    report
}

/// The agent leg ended at `since`: the call gets the fallback's last command, then is
/// dropped, all within a second; the call ended from the agent's side.
async fn call_released_within_a_second(
    bridge: tokio::task::JoinHandle<CallReport>,
    mut phone: CallPeer,
    since: Instant,
    last: CallCommand,
) -> CallReport {
    assert_eq!(next_call_command(&mut phone).await, last);
    assert_eq!(phone.recv().await, None, "the call leg is dropped");
    let report = bridge.await.unwrap();
    assert!(since.elapsed() <= SECOND, "{:?}", since.elapsed());
    assert_eq!(report.outcome.ended_by, Side::Agent);
    report
}

#[tokio::test(start_paused = true)]
async fn call_socket_closing_without_stop_closes_the_agent_within_a_second() {
    let Running {
        bridge,
        phone,
        model,
    } = running_call(quiet_config()).await;
    let closed = Instant::now();
    drop(phone);
    let report = agent_closed_within_a_second(bridge, model, closed).await;
    let end = LegEnd::Closed {
        code: None,
        reason: "in-memory peer dropped".into(),
    };
    assert_eq!(report.outcome.reason, EndReason::CallEnded { end });
}

#[tokio::test(start_paused = true)]
async fn call_leg_read_error_closes_the_agent_within_a_second() {
    let Running {
        bridge,
        mut phone,
        model,
    } = running_call(quiet_config()).await;
    let failed = Instant::now();
    let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
    phone
        .fail(LegError::with_source("websocket read failed", io))
        .await
        .unwrap();
    let report = agent_closed_within_a_second(bridge, model, failed).await;
    let end = LegEnd::Failed {
        message: "websocket read failed: reset by peer".into(),
    };
    assert_eq!(report.outcome.reason, EndReason::CallEnded { end });
    // A broken leg gets no hang-up: it is dropped.
    assert_eq!(phone.recv().await, None);
}

#[tokio::test(start_paused = true)]
async fn failed_send_to_the_call_closes_the_agent_within_a_second() {
    let Running {
        bridge,
        mut phone,
        model,
    } = running_call(quiet_config()).await;
    phone.fail_sends("websocket write failed: broken pipe");
    // The next agent frame cannot be played to the caller.
    let failed = Instant::now();
    model.send(agent_audio("item_a")).await.unwrap();
    let report = agent_closed_within_a_second(bridge, model, failed).await;
    let end = LegEnd::Failed {
        message: "websocket write failed: broken pipe".into(),
    };
    assert_eq!(report.outcome.reason, EndReason::CallEnded { end });
    assert_eq!(phone.recv().await, None);
}

#[tokio::test(start_paused = true)]
async fn agent_leg_read_error_releases_the_call_within_a_second() {
    let mut config = quiet_config();
    config.fallback = Fallback::HangUp;
    let Running {
        bridge,
        phone,
        model,
    } = running_call(config).await;
    let failed = Instant::now();
    model
        .fail(LegError::new("websocket read failed"))
        .await
        .unwrap();
    let report = call_released_within_a_second(bridge, phone, failed, CallCommand::HangUp).await;
    let end = LegEnd::Failed {
        message: "websocket read failed".into(),
    };
    assert_eq!(report.outcome.reason, EndReason::AgentEnded { end });
    assert!(model.is_closed());
}

#[tokio::test(start_paused = true)]
async fn failed_send_to_the_agent_releases_the_call_within_a_second() {
    let Running {
        bridge,
        phone,
        model,
    } = running_call(quiet_config()).await;
    model.fail_sends("websocket write failed: broken pipe");
    // The caller's next frame cannot reach the agent.
    let failed = Instant::now();
    phone.send(CallEvent::Audio(frame(2))).await.unwrap();
    let hand_back = CallCommand::HandOver(voice_bridge::HandOver::Continue);
    let report = call_released_within_a_second(bridge, phone, failed, hand_back).await;
    let end = LegEnd::Failed {
        message: "websocket write failed: broken pipe".into(),
    };
    assert_eq!(report.outcome.reason, EndReason::AgentEnded { end });
    assert_eq!(
        report.outcome.fallback,
        Some(FallbackUsed::HandOver {
            to: voice_bridge::HandOver::Continue
        })
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.side == Side::Agent && e.message.contains("broken pipe")),
        "{:?}",
        report.errors
    );
}

#[tokio::test(start_paused = true)]
async fn max_duration_and_idle_timeout_end_the_call() {
    for (max, idle, expected) in [
        (Some(90), None, EndReason::MaxDuration { limit_ms: 90_000 }),
        (None, Some(20), EndReason::IdleTimeout { limit_ms: 20_000 }),
    ] {
        let mut config = quiet_config();
        config.max_call_duration = max.map(Duration::from_secs);
        config.idle_timeout = idle.map(Duration::from_secs);
        let (call, mut phone) = memory::call_leg(16);
        let (agent, mut model) = memory::agent_leg(16);
        let began = Instant::now();
        let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
        phone.send(started()).await.unwrap();
        model.send(ready()).await.unwrap();
        let hang_up = timeout(200 * SECOND, phone.recv()).await.expect("in time");
        assert_eq!(hang_up, Some(CallCommand::HangUp));
        assert_eq!(next_agent_command(&mut model).await, AgentCommand::Close);
        let report = bridge.await.unwrap();
        assert_eq!(report.outcome.ended_by, Side::Bridge);
        assert_eq!(report.outcome.reason, expected);
        let limit = Duration::from_secs(max.or(idle).unwrap());
        assert!(began.elapsed() >= limit && began.elapsed() <= limit + SECOND);
    }
}

#[tokio::test(start_paused = true)]
async fn tool_calls_succeed_fail_and_time_out() {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    let tools = tool_fn(move |call: ToolCall| {
        let seen = seen.clone();
        async move {
            match call.name.as_str() {
                "confirm" => Ok(ToolReply::new(
                    json!({"ok": true, "day": call.arguments["day"]}),
                )),
                "broken" => Err(ToolError::new("database down")),
                "slow" => {
                    sleep(Duration::from_secs(60)).await;
                    Ok(ToolReply::new(json!("too late")))
                }
                _ => {
                    seen.fetch_add(1, Ordering::SeqCst);
                    panic!("handler bug")
                }
            }
        }
    });
    let mut config = quiet_config();
    config.tool_timeout = Duration::from_secs(3);
    let (call, phone) = memory::call_leg(16);
    let (agent, mut model) = memory::agent_leg(16);
    let bridge = tokio::spawn(
        Bridge::new(call, agent)
            .with_config(config)
            .with_tools(tools)
            .run(),
    );
    phone.send(started()).await.unwrap();
    settle().await;
    model.send(ready()).await.unwrap();

    let cases = [
        ("confirm", r#"{"day":"monday","ok":true}"#),
        ("broken", r#"{"error":"database down"}"#),
        ("slow", r#"{"error":"the tool did not answer within 3 s"}"#),
        ("buggy", r#"{"error":"the tool failed unexpectedly"}"#),
    ];
    for (n, (name, expected)) in cases.into_iter().enumerate() {
        let id = format!("call_{n}");
        let call = ToolCall::new(id.as_str(), name, json!({"day": "monday"}));
        model.send(AgentEvent::ResponseStarted(None)).await.unwrap();
        model.send(AgentEvent::ToolCall(call)).await.unwrap();
        model.send(response_done()).await.unwrap();
        let began = Instant::now();
        assert_eq!(
            next_agent_command(&mut model).await,
            AgentCommand::ToolResult {
                call_id: id.as_str().into(),
                output: expected.into()
            }
        );
        assert_eq!(
            next_agent_command(&mut model).await,
            AgentCommand::CreateResponse
        );
        if name == "slow" {
            assert!(began.elapsed() >= Duration::from_secs(3));
            assert!(began.elapsed() < Duration::from_secs(4));
        }
    }
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    let report = bridge.await.unwrap();
    assert_eq!(panics.load(Ordering::SeqCst), 1);
    let results: Vec<_> = report
        .tool_calls
        .iter()
        .map(|t| t.result.clone().unwrap())
        .collect();
    assert!(matches!(results[0], ToolCallResult::Ok { .. }));
    assert!(matches!(results[1], ToolCallResult::Error { .. }));
    assert_eq!(results[2], ToolCallResult::TimedOut);
    assert!(matches!(results[3], ToolCallResult::Error { .. }));
}

#[tokio::test(start_paused = true)]
async fn a_tool_can_end_the_call_after_the_goodbye_is_heard() {
    let tools =
        tool_fn(|_call: ToolCall| async { Ok(ToolReply::new(json!({"ok": true})).end_call()) });
    let (call, mut phone) = memory::call_leg(64);
    let (agent, mut model) = memory::agent_leg(64);
    let bridge = tokio::spawn(
        Bridge::new(call, agent)
            .with_config(quiet_config())
            .with_tools(tools)
            .run(),
    );
    phone.send(started()).await.unwrap();
    settle().await;
    model.send(ready()).await.unwrap();
    model.send(AgentEvent::ResponseStarted(None)).await.unwrap();
    for _ in 0..3 {
        model.send(agent_audio("goodbye")).await.unwrap();
    }
    model
        .send(AgentEvent::ToolCall(ToolCall::new(
            "call_1",
            "end_call",
            json!({}),
        )))
        .await
        .unwrap();
    model.send(response_done()).await.unwrap();
    let mut marks = Vec::new();
    while marks.len() < 3 {
        if let CallCommand::Mark(mark) = next_call_command(&mut phone).await {
            marks.push(mark);
        }
    }
    assert!(matches!(
        next_agent_command(&mut model).await,
        AgentCommand::ToolResult { .. }
    ));
    // The goodbye plays for 60 ms; only then does the call end.
    for mark in marks {
        sleep(Duration::from_millis(20)).await;
        assert!(
            phone.try_recv().is_none(),
            "nothing before the goodbye is heard"
        );
        phone
            .send(CallEvent::MarkPlayed(mark.to_string()))
            .await
            .unwrap();
    }
    assert_eq!(next_agent_command(&mut model).await, AgentCommand::Close);
    assert_eq!(next_call_command(&mut phone).await, CallCommand::HangUp);
    let report = bridge.await.unwrap();
    assert_eq!(
        report.outcome.reason,
        EndReason::ToolEndedCall {
            tool: "end_call".into()
        }
    );
}

/// A phone that plays audio in real time (paused clock) and echoes marks as Twilio does:
/// when playback reaches them, and all pending ones at once on a clear. It keeps count of
/// how many milliseconds of each item the caller really heard.
struct Phone {
    peer: CallPeer,
    queue: VecDeque<Queued>,
    playing_since: Option<Instant>,
    heard: Vec<(ItemId, u64)>,
}

enum Queued {
    Audio { item: ItemId, ms: u64 },
    Mark(String),
}

impl Phone {
    fn new(peer: CallPeer) -> Self {
        Self {
            peer,
            queue: VecDeque::new(),
            playing_since: None,
            heard: Vec::new(),
        }
    }

    fn add_heard(&mut self, item: &ItemId, ms: u64) {
        match self.heard.iter_mut().find(|(id, _)| id == item) {
            Some((_, total)) => *total += ms,
            None => self.heard.push((item.clone(), ms)),
        }
    }

    fn heard_ms(&self, item: &str) -> u64 {
        self.heard
            .iter()
            .find(|(id, _)| id.as_str() == item)
            .map_or(0, |(_, ms)| *ms)
    }

    /// Plays until `until`, echoing marks as playback reaches them.
    async fn run_until(&mut self, until: Instant) {
        loop {
            // Echo marks at the head of the queue: the audio before them has played.
            while let Some(Queued::Mark(_)) = self.queue.front() {
                let Some(Queued::Mark(name)) = self.queue.pop_front() else {
                    unreachable!()
                };
                self.peer.send(CallEvent::MarkPlayed(name)).await.unwrap();
            }
            let chunk_end = match (self.queue.front(), self.playing_since) {
                (Some(Queued::Audio { ms, .. }), Some(since)) => {
                    Some(since + Duration::from_millis(*ms))
                }
                (Some(Queued::Audio { .. }), None) => {
                    self.playing_since = Some(Instant::now());
                    continue;
                }
                _ => None,
            };
            let wake = chunk_end.map_or(until, |end| end.min(until));
            tokio::select! {
                command = self.peer.recv() => match command {
                    Some(CallCommand::Play { chunk, source: voice_bridge::AudioSource::Agent { item_id, .. } }) => {
                        self.queue.push_back(Queued::Audio { item: item_id, ms: chunk.duration_ms() });
                    }
                    Some(CallCommand::Mark(mark)) => self.queue.push_back(Queued::Mark(mark.to_string())),
                    Some(CallCommand::Clear) => {
                        // Count the part of the chunk playing now, then drop the rest and
                        // echo every pending mark.
                        if let (Some(since), Some(Queued::Audio { item, .. })) = (self.playing_since, self.queue.front()) {
                            let item = item.clone();
                            let partial = u64::try_from(since.elapsed().as_millis()).unwrap();
                            self.add_heard(&item, partial);
                        }
                        self.playing_since = None;
                        for queued in std::mem::take(&mut self.queue) {
                            if let Queued::Mark(name) = queued {
                                self.peer.send(CallEvent::MarkPlayed(name)).await.unwrap();
                            }
                        }
                    }
                    Some(other) => panic!("unexpected {other:?}"),
                    None => return,
                },
                () = sleep_until(wake) => {
                    if chunk_end.is_some_and(|end| end <= Instant::now()) {
                        if let Some(Queued::Audio { item, ms }) = self.queue.pop_front() {
                            self.add_heard(&item, ms);
                        }
                        self.playing_since = None;
                    }
                    if Instant::now() >= until {
                        return;
                    }
                }
            }
        }
    }
}

#[tokio::test(start_paused = true)]
async fn two_turns_and_a_barge_in_truncate_within_a_frame_of_what_was_heard() {
    let (call, phone_peer) = memory::call_leg(256);
    let (agent, mut model) = memory::agent_leg(256);
    let mut config = quiet_config();
    config.cancel_on_barge_in = true;
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
    let mut phone = Phone::new(phone_peer);
    phone.peer.send(started()).await.unwrap();
    settle().await;
    model.send(ready()).await.unwrap();

    // Turn 1: a 400 ms answer, sent all at once (faster than real time), heard whole.
    model.send(AgentEvent::SpeechStopped).await.unwrap();
    model.send(AgentEvent::ResponseStarted(None)).await.unwrap();
    for _ in 0..20 {
        model.send(agent_audio("answer_1")).await.unwrap();
    }
    model.send(response_done()).await.unwrap();
    phone.run_until(Instant::now() + SECOND).await;
    assert_eq!(phone.heard_ms("answer_1"), 400);

    // Turn 2: a 2 s answer; the caller speaks over it after about 730 ms of it.
    model.send(AgentEvent::SpeechStopped).await.unwrap();
    model.send(AgentEvent::ResponseStarted(None)).await.unwrap();
    for _ in 0..100 {
        model.send(agent_audio("answer_2")).await.unwrap();
    }
    phone
        .run_until(Instant::now() + Duration::from_millis(737))
        .await;
    model.send(AgentEvent::SpeechStarted).await.unwrap();
    phone
        .run_until(Instant::now() + Duration::from_millis(100))
        .await;
    let heard = phone.heard_ms("answer_2");

    let mut truncate = None;
    while let Some(command) = model.try_recv() {
        if let AgentCommand::Truncate {
            item_id,
            audio_end_ms,
            ..
        } = command
        {
            truncate = Some((item_id, audio_end_ms));
        }
    }
    let (item_id, audio_end_ms) = truncate.expect("a truncate");
    assert_eq!(item_id.as_str(), "answer_2");
    assert!(
        u64::from(audio_end_ms) <= heard && heard - u64::from(audio_end_ms) <= 20,
        "truncated at {audio_end_ms} ms, caller heard {heard} ms"
    );
    // The rest of the answer was never played.
    phone.run_until(Instant::now() + 3 * SECOND).await;
    assert_eq!(phone.heard_ms("answer_2"), heard);

    phone
        .peer
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    let report = bridge.await.unwrap();
    assert_eq!(report.barge_ins.len(), 1);
    assert_eq!(report.barge_ins[0].truncated_ms, Some(audio_end_ms));
    assert_eq!(report.timings.turns.len(), 2);
    // 120 frames of 20 ms went out in messages of up to 200 ms, one mark each (the
    // first few alone, while the caller's queue was short), not a mark per frame.
    let c = &report.counters;
    assert_eq!(c.marks_sent, c.agent_frames_sent);
    assert!(c.marks_sent <= 25, "{} marks for 120 frames", c.marks_sent);
}
