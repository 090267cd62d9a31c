//! The OpenAI leg against the Realtime mock server on a loopback port: the handshake and
//! its refusals, the mapping of server events, the client events the commands become, and
//! how a session ends. Both dialects.
#![cfg(feature = "openai")]

use std::time::Duration;

use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::{Audio, HttpRefusal, MockServer, MockSession, Script, Turn};
use openai_realtime::{ApiError, Dialect};
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::{
    AgentCommand, AgentEvent, AgentLeg, AgentReady, ItemId, LegEnd, OpenAiLeg, ResponseStatus,
    Speaker,
};

const WAIT: Duration = Duration::from_secs(10);

fn config(server: &MockServer) -> Config {
    Config::url(server.url()).with_api_key(ApiKey::new("sk-test"))
}

async fn next(leg: &mut OpenAiLeg) -> AgentEvent {
    tokio::time::timeout(WAIT, leg.recv())
        .await
        .expect("the leg answers in time")
        .expect("the leg works")
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
        AgentEvent::Ready(AgentReady {
            input: AudioFormat::MuLaw,
            output: AudioFormat::MuLaw
        })
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
        AgentEvent::Error(voice_bridge::AgentError {
            code: Some("invalid_value".into()),
            message: "Something was off.".into(),
            fatal: false,
        })
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
async fn a_normal_close_by_the_service_is_finished() {
    let server = MockServer::start().await.unwrap();
    let (mut leg, session) = ready_leg(&server, config(&server)).await;
    session.close(1000, "").await;
    let end = until(&mut leg, |e| matches!(e, AgentEvent::Ended(_))).await;
    assert_eq!(end.last(), Some(&AgentEvent::Ended(LegEnd::Finished)));
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
            events.push(event);
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
