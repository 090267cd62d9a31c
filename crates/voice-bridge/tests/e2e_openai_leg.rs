//! The OpenAI leg against the Realtime mock server on a loopback port: the handshake and
//! its refusals, the mapping of server events, the client events the commands become, and
//! how a session ends. Both dialects.
#![cfg(feature = "openai")]

use std::time::Duration;

use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::{Audio, HttpRefusal, MockServer, MockSession, Pacing, Script, Turn};
use openai_realtime::{ApiError, Dialect, RealtimeSession, TurnDetection};
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::{
    AgentCommand, AgentEvent, AgentLeg, AgentReady, Bridge, CallCommand, CallEvent, CallStart,
    ItemId, LegEnd, OpenAiLeg, ResponseStatus, Side, Speaker, memory,
};

const WAIT: Duration = Duration::from_secs(10);

fn config(server: &MockServer) -> Config {
    Config::url(server.url()).with_api_key(ApiKey::new("sk-test"))
}

/// The next event, past the leg's `Waiting` news while it connects.
async fn next(leg: &mut OpenAiLeg) -> AgentEvent {
    loop {
        let event = tokio::time::timeout(WAIT, leg.recv())
            .await
            .expect("the leg answers in time")
            .expect("the leg works");
        if !matches!(event, AgentEvent::Waiting(_)) {
            return event;
        }
    }
}

/// Events until one matches, returning all of them.
async fn until(leg: &mut OpenAiLeg, done: impl Fn(&AgentEvent) -> bool) -> Vec<AgentEvent> {
    let mut seen = Vec::new();
    loop {
        let event = next(leg).await;
        let stop = done(&event);
        seen.push(event);
        if stop {
            return seen;
        }
    }
}

async fn ready_leg(server: &MockServer, config: Config) -> (OpenAiLeg, MockSession) {
    let mut leg = OpenAiLeg::builder(config).instructions("Be brief.").build();
    let ready = next(&mut leg).await;
    assert_eq!(
        ready,
        AgentEvent::Ready(AgentReady::new(AudioFormat::MuLaw, AudioFormat::MuLaw))
    );
    let session = server.session(0, WAIT).await.unwrap();
    (leg, session)
}

#[tokio::test]
async fn a_confirmed_session_maps_a_response_and_the_commands() {
    let script = Script::new()
        .turn(
            Turn::new()
                .say("Hello there.", Audio::Raw(vec![0x2A; 800]))
                .call("confirm", r#"{"appointment_id":"42"}"#),
        )
        .delta_duration(Duration::from_millis(50));
    let server = MockServer::builder().script(script).start().await.unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    // The session asked for is the one the service took: G.711 both ways, server VAD.
    let update = session.wait_for("session.update", WAIT).await.unwrap();
    assert!(update.refused.is_none(), "{:?}", update.refused);
    let effective = session.session_config();
    assert_eq!(effective["audio"]["input"]["format"]["type"], "audio/pcmu");
    assert_eq!(effective["audio"]["output"]["format"]["type"], "audio/pcmu");
    assert_eq!(effective["instructions"], "Be brief.");

    // Caller audio goes out as base64, untouched.
    let frame = AudioChunk::from_base64(AudioFormat::MuLaw, "////".repeat(40)).unwrap();
    leg.send(AgentCommand::Audio(frame)).await.unwrap();
    let append = session
        .wait_for("input_audio_buffer.append", WAIT)
        .await
        .unwrap();
    assert_eq!(append.json()["audio"], "////".repeat(40));

    leg.send(AgentCommand::CreateResponse).await.unwrap();
    let events = until(&mut leg, |e| matches!(e, AgentEvent::ResponseDone(_))).await;
    assert!(
        matches!(events[0], AgentEvent::ResponseStarted(Some(_))),
        "{events:?}"
    );
    let audio: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Audio(a) => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(audio.len(), 2, "100 ms in 50 ms deltas");
    assert!(audio.iter().all(|a| a.chunk.format() == AudioFormat::MuLaw));
    assert_eq!(audio.iter().map(|a| a.chunk.byte_len()).sum::<usize>(), 800);
    assert!(audio[0].chunk.to_bytes().iter().all(|&b| b == 0x2A));
    let item = audio[0].item_id.clone();
    assert!(
        audio
            .iter()
            .all(|a| a.item_id == item && a.content_index == 0)
    );
    let transcript: String = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Transcript(t) if t.speaker == Speaker::Agent && !t.is_final => {
                Some(t.text.as_str())
            }
            _ => None,
        })
        .collect();
    assert_eq!(transcript, "Hello there.");
    let tool = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::ToolCall(call) => Some(call),
            _ => None,
        })
        .expect("the function call");
    assert_eq!(tool.name, "confirm");
    assert_eq!(tool.arguments["appointment_id"], "42");
    assert!(matches!(
        events.last(),
        Some(AgentEvent::ResponseDone(done)) if done.status == ResponseStatus::Completed
    ));

    // Truncate, tool result, DTMF: the client events the service expects.
    leg.send(AgentCommand::Truncate {
        item_id: item.clone(),
        content_index: 0,
        audio_end_ms: 60,
    })
    .await
    .unwrap();
    let truncate = session
        .wait_for("conversation.item.truncate", WAIT)
        .await
        .unwrap();
    assert!(truncate.refused.is_none(), "{:?}", truncate.refused);
    assert_eq!(truncate.json()["item_id"], item.as_str());
    assert_eq!(truncate.json()["audio_end_ms"], 60);
    leg.send(AgentCommand::ToolResult {
        call_id: tool.call_id.clone(),
        output: r#"{"confirmed":true}"#.into(),
    })
    .await
    .unwrap();
    let output = session
        .wait_for("conversation.item.create", WAIT)
        .await
        .unwrap();
    assert_eq!(output.json()["item"]["type"], "function_call_output");
    assert_eq!(output.json()["item"]["call_id"], tool.call_id.as_str());
    leg.send(AgentCommand::Dtmf(voice_bridge::DtmfDigit::new('5')))
        .await
        .unwrap();
    let dtmf = session
        .wait_for_nth("conversation.item.create", 1, WAIT)
        .await
        .unwrap();
    assert_eq!(dtmf.json()["item"]["content"][0]["text"], "[DTMF 5]");
    session
        .wait_for_nth("response.create", 1, WAIT)
        .await
        .expect("a key press asks for an answer when none is running");

    // Close: a normal close frame; the session is gone.
    leg.send(AgentCommand::Close).await.unwrap();
    let (_, client_close) = session.wait_ended(WAIT).await.unwrap();
    assert_eq!(client_close.map(|c| c.code), Some(1000));
}

#[tokio::test]
async fn a_refused_upgrade_is_a_refused_end_with_the_advice() {
    let server = MockServer::start().await.unwrap();
    server.refuse_upgrades(HttpRefusal::unauthorized());
    let mut leg = OpenAiLeg::new(config(&server));
    let AgentEvent::Ended(LegEnd::Refused { status, detail }) = next(&mut leg).await else {
        panic!("not refused")
    };
    assert_eq!(status, Some(401));
    assert!(detail.contains("invalid_api_key"), "{detail}");
    assert!(detail.contains("check the key"), "the advice: {detail}");
    assert!(leg.recv().await.is_err(), "nothing after the end");
}

#[tokio::test]
async fn a_bad_key_after_the_upgrade_is_refused_too() {
    let server = MockServer::builder()
        .api_key("sk-right")
        .start()
        .await
        .unwrap();
    let mut leg = OpenAiLeg::new(Config::url(server.url()).with_api_key(ApiKey::new("sk-wrong")));
    let AgentEvent::Ended(LegEnd::Refused { status, detail }) = next(&mut leg).await else {
        panic!("not refused")
    };
    assert_eq!(status, None);
    assert!(
        detail.contains("invalid_api_key") && detail.contains("3000"),
        "{detail}"
    );
}

#[tokio::test]
async fn errors_and_closes_mid_call_are_mapped() {
    let server = MockServer::start().await.unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;

    // An error event: reported, the session goes on.
    let mut error = ApiError::new("invalid_request_error", "Something was off.");
    error.code = Some("invalid_value".into());
    session.send_error(error).await;
    let event = next(&mut leg).await;
    assert_eq!(
        event,
        AgentEvent::Error(
            voice_bridge::AgentError::new("Something was off.", false).with_code("invalid_value")
        )
    );

    // A failure close: the end, with its code and reason.
    session.close(1011, "internal server error").await;
    let end = until(&mut leg, |e| matches!(e, AgentEvent::Ended(_))).await;
    assert_eq!(
        end.last(),
        Some(&AgentEvent::Ended(LegEnd::Closed {
            code: Some(1011),
            reason: "internal server error".into()
        }))
    );
    // Sending after the end is an error, not a hang.
    assert!(leg.send(AgentCommand::CreateResponse).await.is_err());
}

#[tokio::test]
async fn a_normal_close_by_the_service_mid_call_is_named_with_its_code() {
    // Issue 16, item 11: a 1000 from the service mid-call read as `finished`, so the line
    // giving the caller the fallback did not say the service had closed.
    let server = MockServer::start().await.unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    session.close(1000, "").await;
    let end = until(&mut leg, |e| matches!(e, AgentEvent::Ended(_))).await;
    let Some(AgentEvent::Ended(end)) = end.last() else {
        panic!("an end: {end:?}");
    };
    assert_eq!(
        end,
        &LegEnd::Closed {
            code: Some(1000),
            reason: "the service closed the session normally".into()
        }
    );
    assert_eq!(
        end.to_string(),
        "closed (1000): the service closed the session normally"
    );

    // With a reason, the reason is shown.
    let server = MockServer::start().await.unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    session.close(1000, "bye").await;
    let end = until(&mut leg, |e| matches!(e, AgentEvent::Ended(_))).await;
    assert_eq!(
        end.last(),
        Some(&AgentEvent::Ended(LegEnd::Closed {
            code: Some(1000),
            reason: "bye".into()
        }))
    );
}

#[tokio::test]
async fn the_beta_dialect_maps_the_same() {
    let server = MockServer::builder()
        .accept_beta(true)
        .script(Script::new().fallback(Turn::new().say("Hi.", Audio::Raw(vec![0x11; 160]))))
        .start()
        .await
        .unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server).with_dialect(Dialect::Beta)).await;
    assert_eq!(session.dialect(), Dialect::Beta);
    leg.send(AgentCommand::CreateResponse).await.unwrap();
    let events = until(&mut leg, |e| matches!(e, AgentEvent::ResponseDone(_))).await;
    let audio = events
        .iter()
        .find_map(|e| match e {
            AgentEvent::Audio(a) => Some(a),
            _ => None,
        })
        .expect("audio");
    assert_eq!(audio.chunk.byte_len(), 160);
    assert_ne!(audio.item_id, ItemId::new(""));
}

#[tokio::test]
async fn speak_first_asks_for_a_response_before_ready() {
    let server = MockServer::start().await.unwrap();
    let mut leg = OpenAiLeg::builder(config(&server))
        .speak_first(true)
        .build();
    assert!(matches!(next(&mut leg).await, AgentEvent::Ready(_)));
    let session = server.session(0, WAIT).await.unwrap();
    session.wait_for("response.create", WAIT).await.unwrap();
    let events = until(&mut leg, |e| matches!(e, AgentEvent::ResponseDone(_))).await;
    assert!(events.iter().any(|e| matches!(e, AgentEvent::Audio(_))));
}

#[tokio::test]
async fn recv_is_cancel_safe_while_connecting_and_streaming() {
    let server = MockServer::builder()
        .script(Script::new().fallback(Turn::new().say("Hi.", Audio::Raw(vec![0x11; 1600]))))
        .start()
        .await
        .unwrap();
    let mut leg = OpenAiLeg::new(config(&server));
    // Poll `recv` for a moment at a time, dropping it each time, until Ready comes.
    let mut events = Vec::new();
    let mut polls = 0;
    while !matches!(events.last(), Some(AgentEvent::ResponseDone(_))) {
        polls += 1;
        assert!(polls < 100_000, "{events:?}");
        if let Ok(event) = tokio::time::timeout(Duration::from_micros(50), leg.recv()).await {
            let event = event.unwrap();
            if matches!(event, AgentEvent::Ready(_)) {
                leg.send(AgentCommand::CreateResponse).await.unwrap();
            }
            if !matches!(event, AgentEvent::Waiting(_)) {
                events.push(event);
            }
        }
    }
    assert!(matches!(events[0], AgentEvent::Ready(_)));
    let bytes: usize = events
        .iter()
        .filter_map(|e| match e {
            AgentEvent::Audio(a) => Some(a.chunk.byte_len()),
            _ => None,
        })
        .sum();
    assert_eq!(bytes, 1600, "no delta lost to a cancelled recv");
}

#[tokio::test]
async fn a_fatal_error_with_its_close_is_an_error_end() {
    // The service ends sessions at their time limit: `session_expired`, then the close.
    let server = MockServer::builder()
        .max_session_duration(Duration::from_millis(300))
        .start()
        .await
        .unwrap();
    let (mut leg, _session) = ready_leg(&server, config(&server)).await;
    let events = until(&mut leg, |e| matches!(e, AgentEvent::Ended(_))).await;
    let Some(AgentEvent::Ended(LegEnd::Error { code, message })) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(code.as_deref(), Some("session_expired"));
    assert!(message.contains("60 minutes"), "with the advice: {message}");
}

/// Caller audio in mu-law: a full-scale square wave (speech to the mock's VAD) or silence.
fn caller_audio(speech: bool, ms: usize) -> AudioChunk {
    let bytes = if speech {
        [0x00, 0x80].repeat(ms * 4)
    } else {
        vec![0xFF; ms * 8]
    };
    AudioChunk::from_bytes(AudioFormat::MuLaw, bytes).unwrap()
}

/// A long first answer, paced in real time so it is still running when the caller talks,
/// then a short one.
fn long_then_short() -> Script {
    Script::new()
        .turn(Turn::new().say("A long answer.", Audio::Raw(vec![0x2A; 40_000]))) // 5 s
        .fallback(Turn::new().say("Okay.", Audio::Raw(vec![0x3C; 160]))) // 20 ms
        .pacing(Pacing::RealTime)
        .delta_duration(Duration::from_millis(20))
}

fn refused_code(session: &MockSession, event_type: &str) -> Vec<Option<String>> {
    session
        .received()
        .into_iter()
        .filter(|r| r.event_type.as_deref() == Some(event_type))
        .map(|r| r.refused.and_then(|e| e.code))
        .collect()
}

/// The caller talks over a running answer, then the bridge's barge-in asks to cancel;
/// returns the events up to the next answer's start.
async fn barge_in_over_an_answer(leg: &mut OpenAiLeg) -> Vec<AgentEvent> {
    leg.send(AgentCommand::CreateResponse).await.unwrap();
    until(leg, |e| matches!(e, AgentEvent::Audio(_))).await;
    leg.send(AgentCommand::Audio(caller_audio(true, 300)))
        .await
        .unwrap();
    until(leg, |e| matches!(e, AgentEvent::SpeechStarted)).await;
    leg.send(AgentCommand::CancelResponse).await.unwrap();
    // The caller stops (the phone preset's VAD waits 500 ms of silence); the next answer
    // comes after everything the leg sent before.
    leg.send(AgentCommand::Audio(caller_audio(false, 800)))
        .await
        .unwrap();
    let events = until(leg, |e| matches!(e, AgentEvent::ResponseStarted(_))).await;
    assert!(
        events.iter().any(|e| matches!(
            e,
            AgentEvent::ResponseDone(done) if done.status == ResponseStatus::Cancelled
        )),
        "the answer was cancelled: {events:?}"
    );
    assert!(
        !events.iter().any(|e| matches!(e, AgentEvent::Error(_))),
        "{events:?}"
    );
    events
}

#[tokio::test]
async fn with_vad_interrupting_the_bridge_sends_no_cancel_of_its_own() {
    let server = MockServer::builder()
        .script(long_then_short())
        .start()
        .await
        .unwrap();
    // The phone preset: server VAD with `interrupt_response` (true by default).
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    barge_in_over_an_answer(&mut leg).await;
    // The service cancelled the answer by itself; a cancel of ours could only have been
    // refused with `response_cancel_not_active`.
    let types = session.received_types();
    assert!(!types.iter().any(|t| t == "response.cancel"), "{types:?}");
    assert!(format!("{leg:?}").contains("cancels_skipped: 1"), "{leg:?}");
}

#[tokio::test]
async fn without_vad_interruption_the_bridge_cancels_itself() {
    let server = MockServer::builder()
        .script(long_then_short())
        .start()
        .await
        .unwrap();
    let mut phone = RealtimeSession::phone_call();
    if let Some(Some(TurnDetection::ServerVad(vad))) = &mut phone.audio_input_mut().turn_detection {
        vad.interrupt_response = Some(false);
    }
    let mut leg = OpenAiLeg::builder(config(&server)).session(phone).build();
    assert!(matches!(next(&mut leg).await, AgentEvent::Ready(_)));
    let session = server.session(0, WAIT).await.unwrap();
    barge_in_over_an_answer(&mut leg).await;
    let cancel = session.wait_for("response.cancel", WAIT).await.unwrap();
    assert_eq!(cancel.json()["event_id"], "voice_bridge_cancel_1");
    // It found the answer running and cancelled it.
    assert_eq!(refused_code(&session, "response.cancel"), [None]);
}

#[tokio::test]
async fn a_cancel_with_no_response_running_sends_nothing() {
    let server = MockServer::builder()
        .script(Script::new().fallback(Turn::new().say("Hi.", Audio::Raw(vec![0x11; 160]))))
        .start()
        .await
        .unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    // Before any response, and after one has ended.
    leg.send(AgentCommand::CancelResponse).await.unwrap();
    leg.send(AgentCommand::CreateResponse).await.unwrap();
    until(&mut leg, |e| matches!(e, AgentEvent::ResponseDone(_))).await;
    leg.send(AgentCommand::CancelResponse).await.unwrap();
    // Client events arrive in order: once this one is in, a cancel would be too.
    leg.send(AgentCommand::Audio(caller_audio(false, 20)))
        .await
        .unwrap();
    session
        .wait_for("input_audio_buffer.append", WAIT)
        .await
        .unwrap();
    let types = session.received_types();
    assert!(!types.iter().any(|t| t == "response.cancel"), "{types:?}");
    assert_eq!(
        types.iter().filter(|t| *t == "response.create").count(),
        1,
        "{types:?}"
    );
}

#[tokio::test]
async fn a_cancel_while_a_response_runs_is_sent_with_our_event_id() {
    let server = MockServer::builder()
        .script(long_then_short())
        .start()
        .await
        .unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    leg.send(AgentCommand::CreateResponse).await.unwrap();
    until(&mut leg, |e| matches!(e, AgentEvent::Audio(_))).await;
    leg.send(AgentCommand::CancelResponse).await.unwrap();
    let events = until(&mut leg, |e| matches!(e, AgentEvent::ResponseDone(_))).await;
    assert!(
        matches!(events.last(), Some(AgentEvent::ResponseDone(done)) if done.status == ResponseStatus::Cancelled),
        "{events:?}"
    );
    let cancel = session.wait_for("response.cancel", WAIT).await.unwrap();
    assert_eq!(cancel.json()["event_id"], "voice_bridge_cancel_1");
    assert_eq!(refused_code(&session, "response.cancel"), [None]);
}

#[tokio::test]
async fn other_errors_and_cancel_errors_not_ours_are_still_reported() {
    let server = MockServer::start().await.unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    let error = |code: &str, event_id: Option<&str>| {
        let mut error = ApiError::new("invalid_request_error", format!("{code} happened"));
        error.code = Some(code.into());
        error.event_id = event_id.map(Into::into);
        error
    };
    // Not one of this leg's cancels (another id, none, or one it never sent), and another
    // error about an event of ours: each is reported.
    let cases = [
        error("response_cancel_not_active", Some("event_567")),
        error("response_cancel_not_active", None),
        error("response_cancel_not_active", Some("voice_bridge_cancel_1")),
        error("invalid_value", Some("voice_bridge_cancel_1")),
    ];
    for case in cases {
        session.send_error(case.clone()).await;
        let event = next(&mut leg).await;
        let mut expected = voice_bridge::AgentError::new(case.message.clone(), false);
        expected.code = case.code.clone();
        assert_eq!(event, AgentEvent::Error(expected), "{case:?}");
    }
}

/// A whole bridge over an in-memory phone: the caller talks over a running answer and the
/// service's VAD cancels it while the bridge's barge-in asks for a cancel too. The report
/// has the barge-in and no agent error.
#[tokio::test]
async fn a_barge_in_the_service_already_cancelled_leaves_no_error_in_the_report() {
    const LONG: u8 = 0x2A;
    const SHORT: u8 = 0x3C;
    let server = MockServer::builder()
        .script(long_then_short())
        .start()
        .await
        .unwrap();
    let agent = OpenAiLeg::builder(config(&server))
        .speak_first(true)
        .build();
    let (call, mut phone) = memory::call_leg(64);
    let bridge = tokio::spawn(Bridge::new(call, agent).run());
    phone
        .send(CallEvent::Started(CallStart::new(
            "CA1",
            "MZ1",
            AudioFormat::MuLaw,
        )))
        .await
        .unwrap();
    // The first Play (its first byte) or Clear the bridge sends the phone.
    let next_play_or_clear = async |phone: &mut memory::CallPeer| loop {
        let command = tokio::time::timeout(WAIT, phone.recv())
            .await
            .expect("a command in time")
            .expect("the bridge runs");
        match command {
            CallCommand::Play { chunk, .. } => return Some(chunk.to_bytes()[0]),
            CallCommand::Clear => return None,
            _ => {}
        }
    };
    // The greeting plays (no mark is ever echoed: it stays queued at the phone).
    assert_eq!(next_play_or_clear(&mut phone).await, Some(LONG));
    for _ in 0..15 {
        phone
            .send(CallEvent::Audio(caller_audio(true, 20)))
            .await
            .unwrap();
    }
    // The bridge clears the greeting on the barge-in; then the caller falls silent.
    while next_play_or_clear(&mut phone).await.is_some() {}
    for _ in 0..40 {
        phone
            .send(CallEvent::Audio(caller_audio(false, 20)))
            .await
            .unwrap();
    }
    // The answer to the caller's turn comes after the service's answer to any cancel.
    while next_play_or_clear(&mut phone).await != Some(SHORT) {}
    phone
        .send(CallEvent::Ended(LegEnd::Finished))
        .await
        .unwrap();
    let report = tokio::time::timeout(WAIT, bridge).await.unwrap().unwrap();

    assert_eq!(report.barge_ins.len(), 1, "{:?}", report.barge_ins);
    assert!(
        report.barge_ins[0].cancelled_response,
        "{:?}",
        report.barge_ins
    );
    // The service's VAD cancelled the answer; a cancel from the bridge, if the leg sent one
    // at all, found nothing left to cancel.
    let session = server.session(0, WAIT).await.unwrap();
    assert!(
        session.sent().iter().any(|e| e.contains("turn_detected")),
        "{:?}",
        session.sent()
    );
    let cancels = refused_code(&session, "response.cancel");
    assert!(
        cancels
            .iter()
            .all(|c| c.as_deref() == Some("response_cancel_not_active")),
        "{cancels:?}"
    );
    assert!(
        !report.errors.iter().any(|e| e.side == Side::Agent),
        "{:?}",
        report.errors
    );
}

#[tokio::test]
async fn a_key_press_during_an_answer_asks_for_the_next_one_once_it_is_done() {
    let server = MockServer::builder()
        .script(
            Script::new()
                .turn(Turn::new().say("First.", Audio::Raw(vec![0x2A; 1600]))) // 200 ms
                .fallback(Turn::new().say("Second.", Audio::Raw(vec![0x3C; 160])))
                .pacing(Pacing::RealTime)
                .delta_duration(Duration::from_millis(20)),
        )
        .start()
        .await
        .unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    leg.send(AgentCommand::CreateResponse).await.unwrap();
    until(&mut leg, |e| matches!(e, AgentEvent::Audio(_))).await;
    // The answer is running: the key's item goes in now, its response.create waits.
    leg.send(AgentCommand::Dtmf(voice_bridge::DtmfDigit::new('5')))
        .await
        .unwrap();
    let events = until(&mut leg, |e| matches!(e, AgentEvent::ResponseDone(_))).await;
    assert!(
        !events.iter().any(|e| matches!(e, AgentEvent::Error(_))),
        "{events:?}"
    );
    // The next answer, asked for once the first was done.
    until(&mut leg, |e| matches!(e, AgentEvent::ResponseStarted(_))).await;
    let second = session
        .wait_for_nth("response.create", 1, WAIT)
        .await
        .unwrap();
    assert_eq!(second.json()["event_id"], "voice_bridge_create_2");
    assert_eq!(refused_code(&session, "response.create"), [None, None]);
}
