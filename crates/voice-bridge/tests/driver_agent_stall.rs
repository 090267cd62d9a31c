//! A stalled agent: the connection stays open but nothing comes while a response is due.
//! Through the real driver with the real OpenAI client against the Realtime mock on
//! loopback (stalled with `MockSession::stall`), on tokio's paused clock; and with the
//! in-memory agent leg for the other things a response can be awaited for.
#![cfg(feature = "openai")]

#[path = "support/logs.rs"]
mod logs;

use std::time::Duration;

use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::{Audio, MockServer, Pacing, Script, Turn};
use tokio::time::Instant;
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::memory::{self, CallPeer};
use voice_bridge::report::{Awaited, EndReason, FallbackUsed};
use voice_bridge::{
    AgentAudio, AgentEvent, AgentReady, AudioSource, Bridge, BridgeConfig, CallCommand, CallEvent,
    CallReport, CallStart, Fallback, LegEnd, OpenAiLeg,
};

use logs::Captured;

const WAIT: Duration = Duration::from_secs(10);
const PROMPT: u8 = 0x5D;

fn config() -> BridgeConfig {
    let mut config = BridgeConfig::default();
    config.idle_timeout = None;
    // 200 ms of prompt.
    let prompt = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![PROMPT; 1600]).unwrap();
    config.fallback = Fallback::Audio(prompt);
    config
}

/// What the phone got: agent audio (and when), and when the fallback prompt came.
#[derive(Debug, Default)]
struct Heard {
    agent_plays: Vec<Instant>,
    fallback_at: Option<Instant>,
}

/// Takes the bridge's commands until the fallback prompt arrives (echoing its mark so the
/// bridge hangs up) and the hang-up, or until nothing came for `quiet`.
async fn listen(phone: &mut CallPeer, heard: &mut Heard, quiet: Duration) -> bool {
    loop {
        let Ok(command) = tokio::time::timeout(quiet, phone.recv()).await else {
            return false;
        };
        match command {
            Some(CallCommand::Play { source, .. }) => match source {
                AudioSource::Fallback => heard.fallback_at = Some(Instant::now()),
                _ => heard.agent_plays.push(Instant::now()),
            },
            Some(CallCommand::Mark(mark)) if heard.fallback_at.is_some() => {
                phone
                    .send(CallEvent::MarkPlayed(mark.to_string()))
                    .await
                    .unwrap();
            }
            Some(CallCommand::HangUp) | None => return true,
            Some(_) => {}
        }
    }
}

/// The mock stalls mid-answer, then resumes with its backlog: the bridge gives the caller
/// the fallback 5 s after the caller's queue ran out, with one line naming what it was
/// waiting for, and none of the backlog reaches the caller.
#[tokio::test(start_paused = true)]
async fn an_agent_stalled_mid_answer_is_ended_after_the_bound_and_its_backlog_not_played() {
    let (captured, _guard) = Captured::start();
    let script = Script::new()
        .fallback(Turn::new().say("A long answer.", Audio::tone(20_000)))
        .pacing(Pacing::RealTime)
        .delta_duration(Duration::from_millis(200));
    let mock = MockServer::builder()
        .api_key("sk-test")
        .script(script)
        .start()
        .await
        .unwrap();
    // A service stuck above the WebSocket layer: the client's keepalive (its own rule for a
    // dead path, which would see the mock's unanswered pings) is off, so this is the
    // bridge's rule at work.
    let client = Config::url(mock.url())
        .with_api_key(ApiKey::new("sk-test"))
        .with_keepalive(None);
    let agent = OpenAiLeg::new(client);
    let (call, mut phone) = memory::call_leg(256);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config()).run());
    let start = CallStart::new("CA3", "MZ3", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();
    let session = mock.session(0, WAIT).await.unwrap();
    session.wait_for("session.update", WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    session.start_response().await;

    // A second of the answer reaches the caller, then the service stalls.
    let mut heard = Heard::default();
    while heard.agent_plays.len() < 5 {
        let command = tokio::time::timeout(WAIT, phone.recv()).await.unwrap();
        if let Some(CallCommand::Play { .. }) = command {
            heard.agent_plays.push(Instant::now());
        }
    }
    session.stall().await;
    let stalled_at = Instant::now();
    let agent_plays = heard.agent_plays.len();
    // Nothing comes; the caller's queue (at most one 200 ms delta) runs out; 5 s later
    // the fallback.
    let fallback_at = loop {
        let command = tokio::time::timeout(WAIT, phone.recv()).await.unwrap();
        match command {
            Some(CallCommand::Play {
                source: AudioSource::Fallback,
                ..
            }) => break Instant::now(),
            Some(CallCommand::Play { .. }) => heard.agent_plays.push(Instant::now()),
            other => assert!(matches!(other, Some(CallCommand::Mark(_))), "{other:?}"),
        }
    };
    let waited = fallback_at - stalled_at;
    assert!(
        waited >= Duration::from_secs(5) && waited <= Duration::from_millis(5_300),
        "{waited:?}"
    );
    assert_eq!(
        heard.agent_plays.len(),
        agent_plays,
        "no agent audio after the stall"
    );
    // The service comes back with its backlog while the prompt plays: none of it reaches
    // the caller. The prompt's mark is echoed once it has played; then the hang-up.
    session.resume().await;
    let mut mark = None;
    let deadline = Instant::now() + Duration::from_millis(200);
    while let Ok(command) = tokio::time::timeout_at(deadline, phone.recv()).await {
        match command {
            Some(CallCommand::Mark(name)) => mark = Some(name),
            other => panic!("after the fallback: {other:?}"),
        }
    }
    phone
        .send(CallEvent::MarkPlayed(
            mark.expect("the prompt's mark").to_string(),
        ))
        .await
        .unwrap();
    assert_eq!(
        tokio::time::timeout(WAIT, phone.recv()).await.unwrap(),
        Some(CallCommand::HangUp)
    );
    let report = bridge.await.unwrap();

    assert_eq!(
        report.outcome.reason,
        EndReason::AgentStalled {
            awaited: Awaited::RestOfResponse,
            limit_ms: 5_000
        }
    );
    assert_eq!(
        report.outcome.fallback,
        Some(FallbackUsed::Audio { heard: true })
    );
    let warnings = captured.warnings();
    let stall: Vec<&String> = warnings
        .iter()
        .filter(|line| line.contains("sent nothing for 5000 ms"))
        .collect();
    assert_eq!(stall.len(), 1, "{}", warnings.join("\n"));
    assert!(stall[0].contains("call_id=CA3"), "{}", stall[0]);
    assert!(stall[0].contains("mid-answer"), "{}", stall[0]);
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.fatal && e.message.contains("its last event came")),
        "{:?}",
        report.errors
    );
}

/// The same stall with the client's defaults: its keepalive and the bridge's rule race to
/// find it, and either way the caller gets the fallback within the bound, with one line
/// of the bridge's.
#[tokio::test(start_paused = true)]
async fn a_stalled_agent_with_the_clients_keepalive_on_still_gets_the_fallback_in_time() {
    let (captured, _guard) = Captured::start();
    let script = Script::new()
        .fallback(Turn::new().say("A long answer.", Audio::tone(20_000)))
        .pacing(Pacing::RealTime)
        .delta_duration(Duration::from_millis(200));
    let mock = MockServer::builder()
        .api_key("sk-test")
        .script(script)
        .start()
        .await
        .unwrap();
    let agent = OpenAiLeg::new(Config::url(mock.url()).with_api_key(ApiKey::new("sk-test")));
    let (call, mut phone) = memory::call_leg(256);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config()).run());
    let start = CallStart::new("CA5", "MZ5", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();
    let session = mock.session(0, WAIT).await.unwrap();
    session.wait_for("session.update", WAIT).await.unwrap();
    tokio::time::sleep(Duration::from_millis(10)).await;
    session.start_response().await;
    let mut plays = 0;
    while plays < 5 {
        if let Some(CallCommand::Play { .. }) =
            tokio::time::timeout(WAIT, phone.recv()).await.unwrap()
        {
            plays += 1;
        }
    }
    session.stall().await;
    let stalled_at = Instant::now();
    let mut heard = Heard::default();
    assert!(listen(&mut phone, &mut heard, Duration::from_secs(6)).await);
    let waited = heard.fallback_at.expect("the fallback") - stalled_at;
    assert!(waited <= Duration::from_millis(5_300), "{waited:?}");
    assert!(
        heard.agent_plays.is_empty(),
        "no agent audio after the stall"
    );
    let report = bridge.await.unwrap();
    assert!(
        report.outcome.reason.is_agent_failure(),
        "{:?}",
        report.outcome
    );
    let warnings = captured.warnings();
    let bridge_lines = warnings
        .iter()
        .filter(|line| line.contains("voice_bridge"))
        .count();
    assert_eq!(bridge_lines, 1, "{}", warnings.join("\n"));
}

/// A call on the in-memory agent leg, ready, with the fallback prompt.
struct MemoryCall {
    phone: CallPeer,
    model: memory::AgentPeer,
    bridge: tokio::task::JoinHandle<CallReport>,
}

impl MemoryCall {
    async fn start() -> Self {
        let (call, phone) = memory::call_leg(256);
        let (agent, model) = memory::agent_leg(256);
        let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config()).run());
        let start = CallStart::new("CA4", "MZ4", AudioFormat::MuLaw);
        phone.send(CallEvent::Started(start)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        let mulaw = AudioFormat::MuLaw;
        model
            .send(AgentEvent::Ready(AgentReady::new(mulaw, mulaw)))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1)).await;
        Self {
            phone,
            model,
            bridge,
        }
    }
}

/// The caller's turn ends and the agent says nothing at all: after 5 s, the fallback.
#[tokio::test(start_paused = true)]
async fn no_answer_to_the_callers_turn_is_a_stall() {
    // Every test of this file captures its logs: tracing caches whether a line is wanted
    // per call site, and a test thread without a subscriber would make it "never".
    let (captured, _guard) = Captured::start();
    let mut call = MemoryCall::start().await;
    call.model.send(AgentEvent::SpeechStopped).await.unwrap();
    let stopped = Instant::now();
    let mut heard = Heard::default();
    assert!(listen(&mut call.phone, &mut heard, Duration::from_secs(6)).await);
    let waited = heard.fallback_at.expect("the fallback") - stopped;
    assert_eq!(waited, Duration::from_secs(5));
    let report = call.bridge.await.unwrap();
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentStalled {
            awaited: Awaited::Answer,
            limit_ms: 5_000
        }
    );
    let warnings = captured.warnings();
    assert_eq!(warnings.len(), 1, "{}", warnings.join("\n"));
    assert!(
        warnings[0].contains("the caller's turn was waiting for an answer"),
        "{}",
        warnings[0]
    );
}

/// No response is due (the agent answered, the caller is quiet): seconds of silence from
/// the agent are no stall.
#[tokio::test(start_paused = true)]
async fn silence_with_no_response_due_is_not_a_stall() {
    let (captured, _guard) = Captured::start();
    let mut call = MemoryCall::start().await;
    call.model.send(AgentEvent::SpeechStopped).await.unwrap();
    call.model
        .send(AgentEvent::ResponseStarted(None))
        .await
        .unwrap();
    let chunk = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0x11; 1600]).unwrap();
    let audio = AgentAudio::new("item_a", 0, chunk);
    call.model.send(AgentEvent::Audio(audio)).await.unwrap();
    call.model
        .send(AgentEvent::ResponseDone(voice_bridge::ResponseDone::new(
            voice_bridge::ResponseStatus::Completed,
        )))
        .await
        .unwrap();
    let mut heard = Heard::default();
    assert!(!listen(&mut call.phone, &mut heard, Duration::from_secs(20)).await);
    assert_eq!(heard.agent_plays.len(), 1);
    assert!(heard.fallback_at.is_none());
    call.phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    let report = call.bridge.await.unwrap();
    assert!(
        matches!(report.outcome.reason, EndReason::CallEnded { .. }),
        "{:?}",
        report.outcome
    );
    assert!(captured.warnings().is_empty(), "{}", captured.text());
}
