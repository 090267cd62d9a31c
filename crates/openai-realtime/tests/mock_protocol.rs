//! The mock server as any client sees it: raw WebSocket frames, read like a protocol trace.
//! Checks that it behaves like the service described in the reference, not like our client.
#![cfg(feature = "mock-server")]

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use openai_realtime::mock::{Audio, HttpRefusal, MockServer, Pacing, Script, Turn};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

#[path = "support/common.rs"]
mod support;

use support::ulaw;

const WAIT: Duration = Duration::from_secs(5);

/// A bare client: send JSON, expect JSON, nothing clever.
struct Peer {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Peer {
    async fn connect(server: &MockServer, query: &str, headers: &[(&str, &str)]) -> Self {
        let mut request = format!("{}?{query}", server.url())
            .into_client_request()
            .unwrap();
        for (name, value) in headers {
            let name = http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            request.headers_mut().insert(name, value.parse().unwrap());
        }
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade");
        Self { ws }
    }

    /// GA, the default model, a key.
    async fn ga(server: &MockServer) -> Self {
        Self::connect(
            server,
            "model=gpt-realtime-2.1",
            &[("authorization", "Bearer sk-test")],
        )
        .await
    }

    async fn send(&mut self, event: Value) {
        self.ws
            .send(Message::text(event.to_string()))
            .await
            .unwrap();
    }

    async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    async fn recv(&mut self) -> Value {
        loop {
            let msg = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame in time")
                .expect("socket open")
                .expect("frame ok");
            match msg {
                Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
                Message::Close(frame) => panic!("closed: {frame:?}"),
                _ => {}
            }
        }
    }

    /// The next frame, which must be of this type.
    async fn expect(&mut self, event_type: &str) -> Value {
        let event = self.recv().await;
        assert_eq!(event["type"], event_type, "{event}");
        event
    }

    /// Skips frames until one of this type.
    async fn until(&mut self, event_type: &str) -> Value {
        loop {
            let event = self.recv().await;
            if event["type"] == event_type {
                return event;
            }
        }
    }

    /// The next frames up to and including one of this type, by type.
    async fn types_until(&mut self, event_type: &str) -> Vec<String> {
        let mut types = Vec::new();
        loop {
            let event = self.recv().await;
            types.push(event["type"].as_str().unwrap().to_owned());
            if event["type"] == event_type {
                return types;
            }
        }
    }

    async fn expect_close(&mut self) -> (u16, String) {
        loop {
            match tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("close in time")
            {
                Some(Ok(Message::Close(Some(frame)))) => {
                    // Reading on sends our reply to the close.
                    while let Ok(Some(_)) = tokio::time::timeout(WAIT, self.ws.next()).await {}
                    return (u16::from(frame.code), frame.reason.to_string());
                }
                Some(Ok(Message::Close(None))) | None => panic!("closed without a frame"),
                Some(Ok(_)) => {}
                Some(Err(e)) => panic!("socket error: {e}"),
            }
        }
    }
}

fn phone_session() -> Value {
    json!({"type": "session.update", "session": {"type": "realtime",
        "audio": {"input": {"format": {"type": "audio/pcmu"},
                            "turn_detection": {"type": "server_vad", "silence_duration_ms": 300}},
                  "output": {"format": {"type": "audio/pcmu"}}}}})
}

fn append(audio: String) -> Value {
    json!({"type": "input_audio_buffer.append", "audio": audio})
}

#[tokio::test]
async fn session_created_comes_first_with_the_service_defaults() {
    let server = MockServer::start().await.unwrap();
    let mut peer = Peer::ga(&server).await;
    let created = peer.expect("session.created").await;
    let session = &created["session"];
    assert!(created["event_id"].as_str().unwrap().starts_with("event_"));
    assert!(session["id"].as_str().unwrap().starts_with("sess_"));
    assert_eq!(session["type"], "realtime");
    assert_eq!(session["model"], "gpt-realtime-2.1");
    assert_eq!(
        session["audio"]["input"]["format"],
        json!({"type": "audio/pcm", "rate": 24000})
    );
    assert_eq!(
        session["audio"]["output"]["format"],
        json!({"type": "audio/pcm", "rate": 24000})
    );
    assert_eq!(
        session["audio"]["input"]["turn_detection"]["type"],
        "server_vad"
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let expires = session["expires_at"].as_u64().unwrap();
    assert!(
        (now + 3500..=now + 3700).contains(&expires),
        "expires_at {expires}"
    );
}

#[tokio::test]
async fn malformed_and_unknown_events_get_errors_and_the_session_goes_on() {
    let server = MockServer::start().await.unwrap();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;

    peer.send_text("{not json").await;
    let error = peer.expect("error").await;
    assert_eq!(error["error"]["type"], "invalid_request_error");
    assert_eq!(error["error"]["code"], "invalid_event");

    peer.send(json!({"type": "conversation.item.frobnicate", "event_id": "evt_unknown"}))
        .await;
    let error = peer.expect("error").await;
    assert_eq!(error["error"]["code"], "invalid_value");
    assert_eq!(error["error"]["event_id"], "evt_unknown");

    peer.send(json!({"type": "session.update", "event_id": "evt_no_type", "session": {"instructions": "x"}})).await;
    let error = peer.expect("error").await;
    assert_eq!(error["error"]["code"], "missing_required_parameter");
    assert_eq!(error["error"]["param"], "session.type");
    assert_eq!(error["error"]["event_id"], "evt_no_type");

    peer.send(json!({"type": "session.update", "event_id": "evt_tr",
        "session": {"type": "transcription"}}))
        .await;
    let error = peer.expect("error").await;
    assert_eq!(error["error"]["param"], "session.type");
    assert_eq!(error["error"]["event_id"], "evt_tr");

    peer.send(json!({"type": "input_audio_buffer.append", "event_id": "evt_b64", "audio": "!!"}))
        .await;
    let error = peer.expect("error").await;
    assert_eq!(error["error"]["param"], "audio");
    assert_eq!(error["error"]["event_id"], "evt_b64");

    peer.send(json!({"type": "response.create"})).await;
    peer.expect("response.created").await;
    peer.until("response.done").await;

    let session = server.session(0, WAIT).await.unwrap();
    let received = session.received();
    assert_eq!(received.len(), 6);
    assert!(received[0].refused.is_some() && received[0].event_type.is_none());
    assert!(received[5].refused.is_none());
}

#[tokio::test]
async fn a_response_follows_the_service_order_and_reports_usage() {
    let script = Script::new().turn(Turn::new().say("Hello there.", Audio::tone(200)));
    let server = MockServer::builder().script(script).start().await.unwrap();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;
    peer.send(phone_session()).await;
    peer.expect("session.updated").await;
    peer.send(json!({"type": "response.create"})).await;
    let types = peer.types_until("response.done").await;
    assert_eq!(
        types,
        [
            "response.created",
            "rate_limits.updated",
            "response.output_item.added",
            "conversation.item.added",
            "response.content_part.added",
            "response.output_audio.delta",
            "response.output_audio_transcript.delta",
            "response.output_audio.delta",
            "response.output_audio_transcript.delta",
            "response.output_audio.done",
            "response.output_audio_transcript.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
    );
}

#[tokio::test]
async fn server_vad_commits_the_turn_transcribes_it_and_answers() {
    let script =
        Script::new().turn(Turn::speech("Great.").with_input_transcript("Yes, I will be there."));
    let server = MockServer::builder().script(script).start().await.unwrap();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;
    let mut update = phone_session();
    update["session"]["audio"]["input"]["transcription"] =
        json!({"model": "gpt-4o-mini-transcribe"});
    peer.send(update).await;
    peer.expect("session.updated").await;

    peer.send(append(ulaw(false, 1000))).await;
    peer.send(append(ulaw(true, 600))).await;
    peer.send(append(ulaw(false, 400))).await;

    let started = peer.expect("input_audio_buffer.speech_started").await;
    assert_eq!(started["audio_start_ms"], 700);
    let item_id = started["item_id"].clone();
    let stopped = peer.expect("input_audio_buffer.speech_stopped").await;
    assert_eq!(stopped["audio_end_ms"], 1600);
    assert_eq!(stopped["item_id"], item_id);
    let committed = peer.expect("input_audio_buffer.committed").await;
    assert_eq!(committed["item_id"], item_id);
    let added = peer.expect("conversation.item.added").await;
    assert_eq!(added["item"]["role"], "user");
    assert_eq!(added["item"]["content"][0]["type"], "input_audio");
    peer.expect("conversation.item.done").await;
    peer.expect("conversation.item.input_audio_transcription.delta")
        .await;
    let transcript = peer
        .expect("conversation.item.input_audio_transcription.completed")
        .await;
    assert_eq!(transcript["transcript"], "Yes, I will be there.");
    assert_eq!(transcript["item_id"], item_id);
    peer.expect("response.created").await;
    let done = peer.until("response.done").await;
    assert_eq!(done["response"]["status"], "completed");
}

#[tokio::test]
async fn vad_reads_a_law_and_pcm16_too() {
    for (format, silence, loud) in [
        (
            json!({"type": "audio/pcma"}),
            vec![0xd5u8; 8 * 400],
            [0xaau8, 0x2a].repeat(8 * 300 / 2),
        ),
        (
            json!({"type": "audio/pcm", "rate": 24000}),
            vec![0u8; 48 * 400],
            [0x00u8, 0x40, 0x00, 0xc0].repeat(48 * 300 / 4),
        ),
    ] {
        let server = MockServer::start().await.unwrap();
        let mut peer = Peer::ga(&server).await;
        peer.expect("session.created").await;
        peer.send(
            json!({"type": "session.update", "session": {"type": "realtime",
            "audio": {"input": {"format": format, "turn_detection": {"type": "server_vad",
                "create_response": false, "prefix_padding_ms": 0}}}}}),
        )
        .await;
        peer.expect("session.updated").await;
        for chunk in [&silence, &loud, &silence, &silence] {
            peer.send(append(BASE64.encode(chunk))).await;
        }
        let started = peer.expect("input_audio_buffer.speech_started").await;
        assert_eq!(started["audio_start_ms"], 400, "{format}");
        let stopped = peer.expect("input_audio_buffer.speech_stopped").await;
        assert_eq!(stopped["audio_end_ms"], 700, "{format}");
        peer.expect("input_audio_buffer.committed").await;
        // create_response false: the turn is committed, no response follows.
        peer.expect("conversation.item.added").await;
        peer.expect("conversation.item.done").await;
        peer.send(json!({"type": "input_audio_buffer.clear"})).await;
        peer.expect("input_audio_buffer.cleared").await;
    }
}

#[tokio::test]
async fn caller_speech_cancels_a_playing_response() {
    let script = Script::new()
        .pacing(Pacing::RealTime)
        .turn(Turn::new().say("This is a long message.", Audio::tone(3000)));
    let server = MockServer::builder().script(script).start().await.unwrap();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;
    peer.send(phone_session()).await;
    peer.expect("session.updated").await;
    peer.send(json!({"type": "response.create"})).await;
    let delta = peer.until("response.output_audio.delta").await;
    let item_id = delta["item_id"].clone();

    peer.send(append(ulaw(true, 100))).await;
    let started = peer.until("input_audio_buffer.speech_started").await;
    assert_eq!(started["audio_start_ms"], 0);
    let item_done = peer.until("response.output_item.done").await;
    assert_eq!(item_done["item"]["id"], item_id);
    assert_eq!(item_done["item"]["status"], "incomplete");
    let done = peer.until("response.done").await;
    assert_eq!(done["response"]["status"], "cancelled");
    assert_eq!(
        done["response"]["status_details"]["reason"],
        "turn_detected"
    );

    // Only the first delta went out, so truncating past 100 ms is refused.
    peer.send(
        json!({"type": "conversation.item.truncate", "event_id": "evt_t", "item_id": item_id,
        "content_index": 0, "audio_end_ms": 2500}),
    )
    .await;
    let error = peer.until("error").await;
    assert_eq!(error["error"]["param"], "audio_end_ms");
    assert_eq!(error["error"]["event_id"], "evt_t");
    peer.send(json!({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 80}))
        .await;
    let truncated = peer.until("conversation.item.truncated").await;
    assert_eq!(truncated["audio_end_ms"], 80);
}

#[tokio::test]
async fn response_cancel_and_item_commands_answer_like_the_service() {
    let script = Script::new()
        .pacing(Pacing::RealTime)
        .turn(Turn::new().say("Wait.", Audio::tone(2000)));
    let server = MockServer::builder().script(script).start().await.unwrap();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;
    peer.send(json!({"type": "response.create"})).await;
    peer.until("response.output_audio.delta").await;
    peer.send(json!({"type": "response.cancel"})).await;
    let done = peer.until("response.done").await;
    assert_eq!(done["response"]["status"], "cancelled");
    assert_eq!(
        done["response"]["status_details"]["reason"],
        "client_cancelled"
    );

    peer.send(
        json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
        "content": [{"type": "input_text", "text": "hello"}]}}),
    )
    .await;
    let added = peer.expect("conversation.item.added").await;
    let id = added["item"]["id"].as_str().unwrap().to_owned();
    peer.expect("conversation.item.done").await;
    peer.send(json!({"type": "conversation.item.retrieve", "item_id": id}))
        .await;
    assert_eq!(
        peer.expect("conversation.item.retrieved").await["item"]["content"][0]["text"],
        "hello"
    );
    peer.send(
        json!({"type": "conversation.item.truncate", "event_id": "evt_u", "item_id": id,
        "content_index": 0, "audio_end_ms": 0}),
    )
    .await;
    let error = peer.expect("error").await;
    assert_eq!(error["error"]["code"], "invalid_value");
    peer.send(json!({"type": "conversation.item.delete", "item_id": id}))
        .await;
    assert_eq!(
        peer.expect("conversation.item.deleted").await["item_id"],
        id.as_str()
    );
    peer.send(json!({"type": "conversation.item.retrieve", "event_id": "evt_gone", "item_id": id}))
        .await;
    let error = peer.expect("error").await;
    assert_eq!(error["error"]["event_id"], "evt_gone");
}

#[tokio::test]
async fn the_beta_dialect_uses_the_beta_names_when_accepted() {
    let script = Script::new().turn(Turn::speech("Hi."));
    let server = MockServer::builder()
        .accept_beta(true)
        .script(script)
        .start()
        .await
        .unwrap();
    let mut peer = Peer::connect(
        &server,
        "model=gpt-realtime",
        &[
            ("authorization", "Bearer sk-test"),
            ("openai-beta", "realtime=v1"),
        ],
    )
    .await;
    let created = peer.expect("session.created").await;
    assert_eq!(created["session"]["input_audio_format"], "pcm16");
    peer.send(
        json!({"type": "session.update", "session": {"input_audio_format": "g711_ulaw",
        "output_audio_format": "g711_ulaw", "modalities": ["text", "audio"], "temperature": 0.8}}),
    )
    .await;
    let updated = peer.expect("session.updated").await;
    assert_eq!(updated["session"]["output_audio_format"], "g711_ulaw");
    peer.send(json!({"type": "response.create"})).await;
    let types = peer.types_until("response.done").await;
    assert!(
        types.contains(&"conversation.item.created".to_owned()),
        "{types:?}"
    );
    assert!(
        types.contains(&"response.audio.delta".to_owned()),
        "{types:?}"
    );
    assert!(
        types.contains(&"response.audio_transcript.done".to_owned()),
        "{types:?}"
    );
    assert!(
        !types
            .iter()
            .any(|t| t.contains("output_audio") || t == "conversation.item.done"),
        "{types:?}"
    );
}

#[tokio::test]
async fn refusals_after_the_upgrade_are_an_error_then_a_close() {
    let server = MockServer::builder()
        .api_key("sk-right")
        .start()
        .await
        .unwrap();
    for (query, headers, code, close) in [
        ("model=gpt-realtime-2.1", vec![], "invalid_api_key", 3000),
        (
            "model=gpt-realtime-2.1",
            vec![("authorization", "Bearer sk-wrong")],
            "invalid_api_key",
            3000,
        ),
        (
            "model=gpt-realtime-2.1",
            vec![
                ("authorization", "Bearer sk-right"),
                ("openai-beta", "realtime=v1"),
            ],
            "beta_api_shape_disabled",
            4000,
        ),
        (
            "model=gpt-4o-realtime-preview",
            vec![("authorization", "Bearer sk-right")],
            "model_not_found",
            4004,
        ),
        (
            "",
            vec![("authorization", "Bearer sk-right")],
            "missing_required_parameter",
            3000,
        ),
    ] {
        let mut peer = Peer::connect(&server, query, &headers).await;
        let error = peer.expect("error").await;
        assert_eq!(error["error"]["type"], "invalid_request_error");
        assert_eq!(error["error"]["code"], code);
        assert_eq!(error["error"]["event_id"], Value::Null);
        assert_eq!(
            peer.expect_close().await,
            (close, format!("invalid_request_error.{code}"))
        );
    }
}

#[tokio::test]
async fn the_browser_subprotocol_carries_the_key() {
    let server = MockServer::builder()
        .api_key("ek_test")
        .start()
        .await
        .unwrap();
    let mut request = format!("{}?model=gpt-realtime-2", server.url())
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "realtime, openai-insecure-api-key.ek_test".parse().unwrap(),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "realtime");
    let first = ws.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().contains("session.created"));
}

#[tokio::test]
async fn http_refusal_on_command_then_accepting_again() {
    let server = MockServer::start().await.unwrap();
    server.refuse_upgrades(HttpRefusal::rate_limited());
    let request = format!("{}?model=gpt-realtime-2.1", server.url())
        .into_client_request()
        .unwrap();
    match tokio_tungstenite::connect_async(request).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429);
            let body: Value = serde_json::from_slice(response.body().as_deref().unwrap()).unwrap();
            assert_eq!(body["error"]["code"], "rate_limit_exceeded");
        }
        other => panic!("expected an HTTP refusal, got {other:?}"),
    }
    server.accept_upgrades();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;
}

#[tokio::test]
async fn commands_close_inject_and_record_both_closes() {
    let server = MockServer::start().await.unwrap();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;
    let session = server.session(0, WAIT).await.unwrap();

    session
        .send_raw(r#"{"type":"some.future_event","event_id":"event_X"}"#)
        .await;
    assert_eq!(
        peer.expect("some.future_event").await["event_id"],
        "event_X"
    );
    session
        .send_event(json!({"type": "rate_limits.updated", "rate_limits": []}))
        .await;
    peer.expect("rate_limits.updated").await;

    session.close(1011, "server_error").await;
    assert_eq!(peer.expect_close().await, (1011, "server_error".to_owned()));
    let (server_close, client_close) = session.wait_ended(WAIT).await.unwrap();
    assert_eq!(server_close.unwrap().code, 1011);
    assert_eq!(client_close.unwrap().code, 1011);
    assert!(session.is_ended());
}

#[tokio::test]
async fn session_expiry_sends_session_expired_then_closes() {
    let server = MockServer::builder()
        .max_session_duration(Duration::from_millis(200))
        .start()
        .await
        .unwrap();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;
    let error = peer.expect("error").await;
    assert_eq!(error["error"]["code"], "session_expired");
    assert_eq!(peer.expect_close().await.0, 3000);
}

#[tokio::test]
async fn supplied_audio_goes_out_unchanged_in_deltas_of_the_set_size() {
    let audio: Vec<u8> = (0..2000u32).map(|i| (i % 251) as u8).collect();
    let script = Script::new()
        .delta_duration(Duration::from_millis(20))
        .turn(Turn::new().say("Raw.", Audio::Raw(audio.clone())));
    let server = MockServer::builder().script(script).start().await.unwrap();
    let mut peer = Peer::ga(&server).await;
    peer.expect("session.created").await;
    peer.send(phone_session()).await;
    peer.expect("session.updated").await;
    peer.send(json!({"type": "response.create"})).await;
    let mut got = Vec::new();
    let mut sizes = Vec::new();
    loop {
        let event = peer.recv().await;
        match event["type"].as_str().unwrap() {
            "response.output_audio.delta" => {
                let bytes = BASE64.decode(event["delta"].as_str().unwrap()).unwrap();
                sizes.push(bytes.len());
                got.extend(bytes);
            }
            "response.done" => break,
            _ => {}
        }
    }
    assert_eq!(got, audio);
    // 20 ms of 8 kHz G.711 is 160 bytes; the last delta carries the rest.
    assert!(
        sizes[..sizes.len() - 1].iter().all(|&n| n == 160),
        "{sizes:?}"
    );
    assert_eq!(sizes.last(), Some(&(2000 % 160)));
}
