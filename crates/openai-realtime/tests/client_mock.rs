//! The client against the mock server over real loopback sockets: sessions in both dialects,
//! audio both ways, function calls, truncation.
#![cfg(all(feature = "client", feature = "mock-server"))]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use openai_realtime::client::Connection;
use openai_realtime::mock::{Audio, MockServer, MockServerBuilder, Script, Turn};
use openai_realtime::{
    AudioFormat, ClientEvent, Dialect, RealtimeSession, ResponseStatus, ServerEvent,
};

#[path = "support/common.rs"]
mod support;

use support::{config, ulaw};

const WAIT: Duration = Duration::from_secs(5);

async fn start(builder: MockServerBuilder) -> MockServer {
    builder.start().await.expect("mock binds")
}

/// Reads events until `pick` returns something; fails on any error or the end.
async fn until<T>(conn: &mut Connection, mut pick: impl FnMut(&ServerEvent) -> Option<T>) -> T {
    let wait = async {
        loop {
            match conn.recv().await {
                Some(Ok(event)) => {
                    if let Some(found) = pick(&event) {
                        return found;
                    }
                }
                Some(Err(err)) => panic!("unexpected error: {err}"),
                None => panic!("session ended"),
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .expect("event in time")
}

#[tokio::test]
async fn ga_session_update_is_confirmed_and_pcmu_is_applied() {
    let server = start(MockServer::builder().api_key("sk-test")).await;
    let mut conn = Connection::connect(config(&server))
        .await
        .expect("connects");
    assert!(conn.session_id().starts_with("sess_"));
    assert!(conn.time_left().expect("expires_at known") > Duration::from_secs(59 * 60));
    assert_eq!(
        conn.session()
            .input_format()
            .and_then(AudioFormat::type_str),
        Some("audio/pcm")
    );

    let session = conn
        .update_session(RealtimeSession::phone_call())
        .await
        .expect("update confirmed");
    assert_eq!(session.input_format(), Some(&AudioFormat::Pcmu));
    assert_eq!(session.output_format(), Some(&AudioFormat::Pcmu));

    let mock = server.session(0, WAIT).await.unwrap();
    assert_eq!(mock.dialect(), Dialect::Ga);
    assert_eq!(mock.model(), "gpt-realtime-2.1");
    assert_eq!(mock.header("openai-beta"), None);
    let update = mock.wait_for("session.update", WAIT).await.unwrap();
    assert_eq!(update.json()["session"]["type"], "realtime");
    assert!(update.refused.is_none());
    assert_eq!(
        mock.session_config()["audio"]["output"]["format"]["type"],
        "audio/pcmu"
    );
}

#[tokio::test]
async fn beta_session_update_is_confirmed_when_the_server_accepts_beta() {
    let server = start(MockServer::builder().accept_beta(true)).await;
    let mut conn = Connection::connect(config(&server).with_dialect(Dialect::Beta))
        .await
        .expect("beta accepted");
    let session = conn
        .update_session(RealtimeSession::phone_call())
        .await
        .expect("update confirmed");
    assert_eq!(session.output_format(), Some(&AudioFormat::Pcmu));

    let mock = server.session(0, WAIT).await.unwrap();
    assert_eq!(mock.dialect(), Dialect::Beta);
    assert_eq!(mock.header("openai-beta"), Some("realtime=v1"));
    let update = mock.wait_for("session.update", WAIT).await.unwrap().json();
    assert_eq!(update["session"]["input_audio_format"], "g711_ulaw");
    assert!(
        update["session"].get("audio").is_none(),
        "beta is flat: {update}"
    );
    // What the mock said is in the beta shape too.
    let updated = mock
        .sent()
        .into_iter()
        .find(|f| f.contains("session.updated"))
        .unwrap();
    assert!(
        updated.contains(r#""output_audio_format":"g711_ulaw""#),
        "{updated}"
    );
}

#[tokio::test]
async fn caller_audio_turns_into_a_spoken_answer() {
    let script = Script::new().turn(Turn::new().say("Hi, this is the clinic.", Audio::tone(400)));
    let server = start(MockServer::builder().script(script)).await;
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    conn.update_session(RealtimeSession::phone_call())
        .await
        .unwrap();

    let frames = (0..25)
        .map(|_| false)
        .chain((0..40).map(|_| true))
        .chain((0..40).map(|_| false));
    for loud in frames {
        conn.send(&ClientEvent::input_audio_append(ulaw(loud, 20)))
            .await
            .unwrap();
    }

    let start_ms = until(&mut conn, |e| match e {
        ServerEvent::InputAudioBufferSpeechStarted(s) => Some(s.audio_start_ms),
        _ => None,
    })
    .await;
    // Speech at 500 ms, minus 300 ms of prefix padding.
    assert_eq!(start_ms, 200);
    until(&mut conn, |e| {
        matches!(e, ServerEvent::InputAudioBufferSpeechStopped(_)).then_some(())
    })
    .await;
    until(&mut conn, |e| {
        matches!(e, ServerEvent::InputAudioBufferCommitted(_)).then_some(())
    })
    .await;

    let mut audio = Vec::new();
    let mut transcript = String::new();
    let done = loop {
        match until(&mut conn, |e| Some(e.clone())).await {
            ServerEvent::ResponseOutputAudioDelta(d) => {
                audio.extend(BASE64.decode(&d.delta).unwrap())
            }
            ServerEvent::ResponseOutputAudioTranscriptDelta(d) => transcript.push_str(&d.delta),
            ServerEvent::ResponseDone(done) => break done,
            _ => {}
        }
    };
    // 400 ms of 8 kHz mu-law, as the session asked for.
    assert_eq!(audio.len(), 3200);
    assert_eq!(transcript, "Hi, this is the clinic.");
    assert_eq!(done.response.status, Some(ResponseStatus::Completed));
    assert!(done.response.usage.is_some());

    let mock = server.session(0, WAIT).await.unwrap();
    assert_eq!(
        mock.received_types()
            .iter()
            .filter(|t| *t == "input_audio_buffer.append")
            .count(),
        105
    );
}

#[tokio::test]
async fn function_call_then_output_then_answer() {
    let script = Script::new()
        .turn(Turn::new().call(
            "confirm_appointment",
            r#"{"appointment_id":"42","confirmed":true}"#,
        ))
        .turn(Turn::speech("Thank you, see you then."));
    let server = start(MockServer::builder().script(script)).await;
    let mut conn = Connection::connect(config(&server)).await.unwrap();

    conn.send(&ClientEvent::response_create()).await.unwrap();
    let call = until(&mut conn, |e| match e {
        ServerEvent::ResponseFunctionCallArgumentsDone(d) => Some(d.clone()),
        _ => None,
    })
    .await;
    assert_eq!(call.name.as_deref(), Some("confirm_appointment"));
    assert_eq!(
        call.arguments,
        r#"{"appointment_id":"42","confirmed":true}"#
    );
    until(&mut conn, |e| {
        matches!(e, ServerEvent::ResponseDone(_)).then_some(())
    })
    .await;

    conn.send(&ClientEvent::function_call_output(
        call.call_id.clone(),
        r#"{"ok":true}"#,
    ))
    .await
    .unwrap();
    conn.send(&ClientEvent::response_create()).await.unwrap();
    let transcript = until(&mut conn, |e| match e {
        ServerEvent::ResponseOutputAudioTranscriptDone(d) => Some(d.transcript.clone()),
        _ => None,
    })
    .await;
    assert_eq!(transcript, "Thank you, see you then.");

    let mock = server.session(0, WAIT).await.unwrap();
    let output = mock
        .wait_for("conversation.item.create", WAIT)
        .await
        .unwrap()
        .json();
    assert_eq!(output["item"]["type"], "function_call_output");
    assert_eq!(output["item"]["call_id"], call.call_id.as_str());
    assert_eq!(
        mock.received_types(),
        [
            "response.create",
            "conversation.item.create",
            "response.create"
        ]
    );
}

#[tokio::test]
async fn truncate_is_checked_against_the_audio_sent() {
    let script = Script::new().turn(Turn::new().say("One moment please.", Audio::tone(1000)));
    let server = start(MockServer::builder().script(script)).await;
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    conn.update_session(RealtimeSession::phone_call())
        .await
        .unwrap();
    conn.send(&ClientEvent::response_create()).await.unwrap();
    let item_id = until(&mut conn, |e| match e {
        ServerEvent::ResponseOutputAudioDelta(d) => Some(d.item_id.clone()),
        _ => None,
    })
    .await;
    until(&mut conn, |e| {
        matches!(e, ServerEvent::ResponseDone(_)).then_some(())
    })
    .await;

    conn.send(&ClientEvent::truncate(item_id.clone(), 0, 600))
        .await
        .unwrap();
    let truncated = until(&mut conn, |e| match e {
        ServerEvent::ConversationItemTruncated(t) => Some(t.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        (truncated.item_id.as_str(), truncated.audio_end_ms),
        (item_id.as_str(), 600)
    );

    // Past the end of what was played: the service's error, echoing our event id.
    let too_far = ClientEvent::truncate(item_id, 0, 1500).with_event_id("evt_truncate_2");
    conn.send(&too_far).await.unwrap();
    let err = match tokio::time::timeout(WAIT, conn.recv()).await.unwrap() {
        Some(Err(err)) => err,
        other => panic!("expected the error event, got {other:?}"),
    };
    assert!(err.is_api() && !err.is_fatal(), "{err}");
    let api = err.api_error().unwrap();
    assert_eq!(api.code.as_deref(), Some("invalid_value"));
    assert_eq!(api.param.as_deref(), Some("audio_end_ms"));
    assert_eq!(
        api.event_id.as_ref().map(|e| e.as_str()),
        Some("evt_truncate_2")
    );
    assert!(
        err.to_string()
            .contains("Audio content of 600ms is already shorter than 1500ms"),
        "{err}"
    );
}

#[tokio::test]
async fn split_halves_write_and_read_at_once() {
    let script = Script::new().turn(Turn::speech("Got it."));
    let server = start(MockServer::builder().script(script)).await;
    let mut conn = Connection::connect(config(&server)).await.unwrap();
    conn.update_session(RealtimeSession::phone_call())
        .await
        .unwrap();
    let (tx, mut rx) = conn.split();

    // One task streams the caller's audio (as a bridge would) while this one reads.
    let writer = tokio::spawn(async move {
        let frames = (0..10)
            .map(|_| false)
            .chain((0..30).map(|_| true))
            .chain((0..50).map(|_| false));
        for loud in frames {
            tx.send(&ClientEvent::input_audio_append(ulaw(loud, 20)))
                .await?;
            tokio::task::yield_now().await;
        }
        Ok::<_, openai_realtime::client::Error>(tx)
    });
    let mut seen = Vec::new();
    let read = async {
        while let Some(event) = rx.recv().await {
            let event = event.expect("no error");
            seen.push(event.event_type().to_owned());
            if matches!(event, ServerEvent::ResponseDone(_)) {
                break;
            }
        }
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("response in time");
    let tx = writer.await.unwrap().expect("all frames sent");
    assert!(
        seen.starts_with(&["input_audio_buffer.speech_started".to_owned()]),
        "{seen:?}"
    );
    assert!(seen.contains(&"response.output_audio.delta".to_owned()));

    // A normal close from our side ends the receiver without an error.
    tx.close().await.unwrap();
    let end = tokio::time::timeout(WAIT, async {
        loop {
            match rx.recv().await {
                Some(Ok(_)) => {}
                other => return other.map(|r| r.map(|e| e.event_type().to_owned())),
            }
        }
    })
    .await
    .unwrap();
    assert!(end.is_none(), "{end:?}");
    let mock = server.session(0, WAIT).await.unwrap();
    let (_, client_close) = mock.wait_ended(WAIT).await.unwrap();
    assert_eq!(client_close.unwrap().code, 1000);
}

#[tokio::test]
async fn the_halves_work_as_a_sink_and_a_stream() {
    use futures_util::{SinkExt, StreamExt};

    let server =
        start(MockServer::builder().script(Script::new().turn(Turn::speech("Yes.")))).await;
    let conn = Connection::connect(config(&server)).await.unwrap();
    let (tx, rx) = conn.split();
    let mut sink = Box::pin(tx.into_sink());
    let mut stream = Box::pin(rx.into_stream());
    sink.send(ClientEvent::response_create()).await.unwrap();
    let done = tokio::time::timeout(WAIT, async {
        while let Some(event) = stream.next().await {
            if let ServerEvent::ResponseDone(done) = event.unwrap() {
                return done;
            }
        }
        panic!("ended early");
    })
    .await
    .unwrap();
    assert_eq!(done.response.status, Some(ResponseStatus::Completed));
}
