//! The mock's GPT-Live side as any Live client sees it: raw WebSocket frames on 127.0.0.1,
//! read like a protocol trace, on tokio's paused clock (pacing and expiry without sleeping).
//!
//! Every test ends by decoding every frame the mock sent with `live::ServerEvent` and
//! re-encoding it: the mock speaks only events the models (and so the SDK) know, and loses
//! nothing on the way. With `LIVE_MOCK_EVENTS=<file>` the frames are also appended to that
//! file, one a line, for `.ci/live-mock-sdk-check.py` to validate against the Python SDK.
#![cfg(feature = "mock-server")]

use std::io::Write as _;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use openai_realtime::live::{CloseReason, LiveError, ServerEvent};
use openai_realtime::mock::{
    HttpRefusal, KeyCheck, LiveMockServerBuilderExt, LiveScript, LiveTurn, MockServer,
};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const WAIT: Duration = Duration::from_secs(30);

/// What came off the socket.
#[derive(Debug)]
enum Frame {
    Event(Value),
    Closed(Option<u16>),
}

struct Peer {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Peer {
    async fn connect_to(url: String, key: Option<&str>) -> Self {
        let mut request = url.into_client_request().unwrap();
        if let Some(key) = key {
            let value = format!("Bearer {key}").parse().unwrap();
            request.headers_mut().insert("authorization", value);
        }
        let (ws, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("upgrade");
        Self { ws }
    }

    async fn connect(server: &MockServer) -> Self {
        Self::connect_to(server.live_url(), Some("sk-test")).await
    }

    /// Connects and starts a session in `format`; returns the `session.started` event.
    async fn started(server: &MockServer, session: Value) -> (Self, Value) {
        let mut peer = Self::connect(server).await;
        peer.send(json!({"type": "session.start", "event_id": "evt_start", "session": session}))
            .await;
        let started = peer.event().await;
        assert_eq!(started["type"], "session.started", "{started}");
        (peer, started)
    }

    async fn send(&mut self, event: Value) {
        self.ws
            .send(Message::text(event.to_string()))
            .await
            .unwrap();
    }

    async fn frame(&mut self) -> Frame {
        loop {
            let next = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a frame in time");
            match next {
                Some(Ok(Message::Text(text))) => {
                    return Frame::Event(serde_json::from_str(text.as_str()).unwrap());
                }
                Some(Ok(Message::Close(frame))) => {
                    return Frame::Closed(frame.map(|f| u16::from(f.code)));
                }
                Some(Ok(_)) => continue,
                Some(Err(tungstenite::Error::ConnectionClosed)) | None => {
                    return Frame::Closed(None);
                }
                Some(Err(error)) => panic!("socket error: {error}"),
            }
        }
    }

    /// The next event, audio deltas included.
    async fn event(&mut self) -> Value {
        match self.frame().await {
            Frame::Event(event) => event,
            Frame::Closed(code) => panic!("closed ({code:?}) while waiting for an event"),
        }
    }

    /// The next event that is not an audio delta or a usage report.
    async fn non_audio(&mut self) -> Value {
        loop {
            let event = self.event().await;
            if !matches!(
                event["type"].as_str(),
                Some("session.output_audio.delta" | "session.usage.updated")
            ) {
                return event;
            }
        }
    }

    /// Every event up to and including the first of `kind`.
    async fn until(&mut self, kind: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let event = self.event().await;
            let done = event["type"] == kind;
            seen.push(event);
            if done {
                return seen;
            }
        }
    }

    /// The close code, after any events.
    async fn closed(&mut self) -> (Vec<Value>, Option<u16>) {
        let mut seen = Vec::new();
        loop {
            match self.frame().await {
                Frame::Event(event) => seen.push(event),
                Frame::Closed(code) => return (seen, code),
            }
        }
    }
}

fn of_type<'a>(events: &'a [Value], kind: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == kind).collect()
}

fn transcript(events: &[Value], kind: &str) -> String {
    of_type(events, kind)
        .iter()
        .map(|e| e["delta"].as_str().unwrap_or_default())
        .collect()
}

/// `ms` of mu-law: a loud square wave or digital silence.
fn ulaw(loud: bool, ms: usize) -> String {
    let bytes: Vec<u8> = (0..ms * 8)
        .map(|i| match (loud, i % 2) {
            (false, _) => 0xff,
            (true, 0) => 0x80,
            (true, _) => 0x00,
        })
        .collect();
    BASE64.encode(bytes)
}

/// Streams `ms` of caller audio in 20 ms frames, as Twilio does.
async fn speak(peer: &mut Peer, loud: bool, ms: usize) {
    for _ in 0..ms / 20 {
        peer.send(json!({"type": "session.input_audio.append", "audio": ulaw(loud, 20)}))
            .await;
    }
}

const PCMU: fn() -> Value = || json!({"type": "audio/pcmu", "rate": 8000});

fn phone(model: &str) -> Value {
    json!({"model": model, "audio": {"format": PCMU()}})
}

/// Every frame every Live session of `server` sent decodes to a known `live::ServerEvent`
/// and re-encodes to the same JSON. Appends them to `$LIVE_MOCK_EVENTS` when set.
fn assert_all_decode(server: &MockServer) {
    let mut dump = std::env::var_os("LIVE_MOCK_EVENTS").map(|path| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("LIVE_MOCK_EVENTS opens")
    });
    let mut count = 0;
    for session in server.live_sessions() {
        for frame in session.sent() {
            let event = ServerEvent::decode(&frame).unwrap_or_else(|e| panic!("{e}: {frame}"));
            assert!(
                !matches!(event, ServerEvent::Unknown(_)),
                "the models do not know {frame}"
            );
            let back: Value = serde_json::from_str(&event.encode()).unwrap();
            let sent: Value = serde_json::from_str(&frame).unwrap();
            assert_eq!(back, sent, "round trip of {frame}");
            if let Some(file) = dump.as_mut() {
                writeln!(file, "{frame}").unwrap();
            }
            count += 1;
        }
    }
    assert!(count > 0, "the mock sent nothing");
}

#[tokio::test(start_paused = true)]
async fn session_started_comes_first_with_the_resolved_session_then_a_paced_track() {
    let server = MockServer::builder()
        .live_max_session_duration(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (mut peer, started) = Peer::started(&server, phone("gpt-live-1")).await;
    let t0 = Instant::now();
    let session = &started["session"];
    assert!(session["id"].as_str().unwrap().starts_with("live_"));
    assert_eq!(session["model"], "gpt-live-1");
    assert_eq!(session["status"], "active");
    assert_eq!(session["audio"]["format"], PCMU());
    assert_eq!(session["audio"]["output"]["voice"], "marin");
    assert_eq!(session["delegation"]["type"], "client");
    assert_eq!(session["input"], json!([]));
    let expires_in = session["expires_at"].as_u64().unwrap() - before;
    assert!(
        (599..=601).contains(&expires_in),
        "expires in {expires_in} s"
    );
    assert!(started.get("client_event_id").is_none(), "observed: none");

    // One continuous track: 100 ms of mu-law silence each, at real-time pace.
    for n in 1..=10u32 {
        let delta = peer.event().await;
        assert_eq!(delta["type"], "session.output_audio.delta");
        assert!(
            delta.get("event_id").is_none(),
            "no event_id on primary audio"
        );
        let bytes = BASE64.decode(delta["delta"].as_str().unwrap()).unwrap();
        assert_eq!(bytes.len(), 800);
        assert!(bytes.iter().all(|b| *b == 0xff), "digital silence");
        assert_eq!(t0.elapsed(), Duration::from_millis(100) * n);
    }
    let session = server.live_session(0, WAIT).await.unwrap();
    assert_eq!(session.session_config(), started["session"]);
    assert_eq!(session.received_types(), ["session.start"]);
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn a_greeting_turn_plays_in_pcm16_at_16khz_with_transcript_fragments_on_the_timeline() {
    let text = "Hello, this is the clinic.";
    let server = MockServer::builder()
        .live_script(LiveScript::new().turn(LiveTurn::new().then_say_for(text, 1000)))
        .start()
        .await
        .unwrap();
    let session =
        json!({"model": "gpt-live-1.1", "audio": {"format": {"type": "audio/pcm", "rate": 16000}}});
    let (mut peer, _) = Peer::started(&server, session).await;
    peer.send(json!({"type": "session.instructions.append", "event_id": "evt_hi", "delegation_id": null, "content": "Greet the caller."}))
        .await;
    let ack = peer.non_audio().await;
    assert_eq!(ack["type"], "session.instructions.appended");
    assert_eq!(ack["client_event_id"], "evt_hi");

    let t0 = Instant::now();
    let mut events = Vec::new();
    let mut voiced_bytes = 0;
    // 1 s of speech and a little silence after it.
    while t0.elapsed() < Duration::from_millis(1300) {
        let event = peer.event().await;
        if event["type"] == "session.output_audio.delta" {
            let bytes = BASE64.decode(event["delta"].as_str().unwrap()).unwrap();
            assert_eq!(bytes.len(), 3200, "100 ms of PCM16 at 16 kHz");
            voiced_bytes += bytes
                .chunks_exact(2)
                .filter(|s| i16::from_le_bytes([s[0], s[1]]) != 0)
                .count();
        }
        events.push(event);
    }
    assert_eq!(transcript(&events, "session.output_transcript.delta"), text);
    let fragments = of_type(&events, "session.output_transcript.delta");
    assert_eq!(fragments.len(), 5, "one per word");
    let mut last_end = 0;
    for fragment in fragments {
        let (start, end) = (
            fragment["start_ms"].as_u64().unwrap(),
            fragment["end_ms"].as_u64().unwrap(),
        );
        assert!(start >= last_end && end > start, "{fragment}");
        last_end = end;
    }
    // About 1 s of tone at 16 kHz (a few zero crossings aside).
    assert!(
        (15_500..=16_000).contains(&voiced_bytes),
        "{voiced_bytes} voiced samples"
    );
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn the_caller_speaks_then_stops_then_the_next_turn_answers() {
    let server = MockServer::builder()
        .live_script(LiveScript::new().continuous(false).turn(
            LiveTurn::speech("Friday at ten.").with_caller_transcript("When is my appointment?"),
        ))
        .start()
        .await
        .unwrap();
    let (mut peer, _) = Peer::started(&server, phone("gpt-live-1")).await;
    speak(&mut peer, true, 600).await;
    speak(&mut peer, false, 600).await;
    let events = peer.until("session.output_transcript.delta").await;
    let heard = of_type(&events, "session.input_transcript.delta");
    assert_eq!(
        transcript(&events, "session.input_transcript.delta"),
        "When is my appointment?"
    );
    assert_eq!(heard[0]["start_ms"], 0);
    assert_eq!(heard.last().unwrap()["end_ms"], 600);
    let rest = peer.until("session.output_transcript.delta").await;
    assert!(!rest.is_empty());
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn caller_speech_during_output_stops_it_with_no_event() {
    let long = "one two three four five six seven eight nine ten";
    let server = MockServer::builder()
        .live_script(LiveScript::new().turn(LiveTurn::new().then_say_for(long, 5000)))
        .start()
        .await
        .unwrap();
    let (mut peer, _) = Peer::started(&server, phone("gpt-live-1")).await;
    let live = server.live_session(0, WAIT).await.unwrap();
    live.start_turn().await;
    // A second of the turn: two words out.
    let t0 = Instant::now();
    let mut before = Vec::new();
    while t0.elapsed() < Duration::from_millis(1000) {
        before.push(peer.event().await);
    }
    let said_before = transcript(&before, "session.output_transcript.delta");
    assert_eq!(said_before, "one two ");
    // The caller barges in; from the next delta on the track is silence and the rest of the
    // transcript never comes.
    speak(&mut peer, true, 100).await;
    let mut after = Vec::new();
    let t1 = Instant::now();
    while t1.elapsed() < Duration::from_millis(6000) {
        after.push(peer.event().await);
    }
    let deltas = of_type(&after, "session.output_audio.delta");
    assert!(
        deltas.len() >= 55,
        "the track goes on: {} deltas",
        deltas.len()
    );
    let silent = deltas[2..].iter().all(|d| {
        BASE64
            .decode(d["delta"].as_str().unwrap())
            .unwrap()
            .iter()
            .all(|b| *b == 0xff)
    });
    assert!(silent, "output stopped");
    let said_after = transcript(&after, "session.output_transcript.delta");
    assert!(
        said_after.len() <= "three ".len(),
        "the rest was dropped: {said_after:?}"
    );
    for kind in ["error", "session.closed"] {
        assert!(of_type(&after, kind).is_empty(), "no {kind}");
    }
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn a_strict_config_refuses_a_realtime_field_by_its_path_and_the_session_can_start_after() {
    let server = MockServer::start().await.unwrap();
    let mut peer = Peer::connect(&server).await;
    peer.send(
        json!({"type": "session.start", "event_id": "evt_start", "session": {
        "model": "gpt-live-1", "turn_detection": {"type": "server_vad"}}}),
    )
    .await;
    let error = peer.event().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["client_event_id"], "evt_start");
    assert_eq!(error["error"]["code"], "unknown_parameter");
    assert_eq!(error["error"]["param"], "session.turn_detection");
    assert_eq!(error["error"]["client_event_id"], "evt_start");
    assert_eq!(
        error["error"]["message"],
        "Unknown parameter: 'session.turn_detection'."
    );

    for (session, param, code) in [
        (
            json!({"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcmu", "rate": 16000}}}),
            "session.audio.format.rate",
            "invalid_value",
        ),
        (
            json!({"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcmu"}}}),
            "session.audio.format.rate",
            "missing_required_parameter",
        ),
        (
            json!({"audio": {}}),
            "session.model",
            "missing_required_parameter",
        ),
        (
            json!({"model": "gpt-live-1", "voice": "marin"}),
            "session.voice",
            "unknown_parameter",
        ),
    ] {
        peer.send(json!({"type": "session.start", "session": session}))
            .await;
        let error = peer.event().await;
        assert_eq!(error["error"]["code"], code, "{error}");
        assert_eq!(error["error"]["param"], param, "{error}");
    }
    let session = server.live_session(0, WAIT).await.unwrap();
    assert!(session.session_config().is_null(), "not started");
    let refused = session.received()[0].refused.clone().unwrap();
    assert_eq!(refused.param.as_deref(), Some("session.turn_detection"));

    peer.send(json!({"type": "session.start", "session": phone("gpt-live-1")}))
        .await;
    assert_eq!(peer.event().await["type"], "session.started");
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn unknown_and_realtime_models_are_refused_with_their_own_codes_and_close_4004() {
    let server = MockServer::builder()
        .live_models(["gpt-live-1"])
        .start()
        .await
        .unwrap();
    for (model, code) in [
        ("gpt-live-1.1", "model_not_found"),
        ("gpt-live-9", "model_not_found"),
        ("gpt-realtime-2.1", "invalid_model"),
    ] {
        let mut peer = Peer::connect(&server).await;
        peer.send(json!({"type": "session.start", "event_id": "evt_1", "session": phone(model)}))
            .await;
        let (events, close) = peer.closed().await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["error"]["code"], code);
        assert_eq!(events[0]["error"]["param"], "session.model");
        assert_eq!(events[0]["client_event_id"], "evt_1");
        assert!(
            events[0]["error"]["message"]
                .as_str()
                .unwrap()
                .contains(model)
        );
        assert_eq!(close, Some(4004));
    }
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn a_bad_key_is_refused_after_the_upgrade_with_close_3000() {
    let server = MockServer::builder()
        .api_key("sk-right")
        .start()
        .await
        .unwrap();
    for key in [Some("sk-wrong-key-of-some-length"), None] {
        let mut peer = Peer::connect_to(server.live_url(), key).await;
        let (events, close) = peer.closed().await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["type"], "error");
        assert_eq!(events[0]["error"]["code"], "invalid_api_key");
        let message = events[0]["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains("sk-wrong-key-of-some-length"),
            "the key is masked"
        );
        assert_eq!(close, Some(3000));
    }
    let open = MockServer::builder()
        .key_check(KeyCheck::None)
        .start()
        .await
        .unwrap();
    let (_peer, _) = Peer::started(&open, phone("gpt-live-1")).await;
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn the_other_apis_url_is_refused_and_explained_both_ways() {
    let server = MockServer::start().await.unwrap();
    // A Realtime client pointed at the Live URL.
    let url = format!("{}?model=gpt-realtime-2.1", server.live_url());
    let mut peer = Peer::connect_to(url, Some("sk-test")).await;
    let (events, close) = peer.closed().await;
    assert_eq!(events[0]["error"]["code"], "unknown_parameter");
    assert_eq!(events[0]["error"]["param"], "model");
    assert!(
        events[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/realtime")
    );
    assert_eq!(close, Some(4000));
    assert_all_decode(&server);

    // A Live model on the Realtime path.
    let url = format!("{}?model=gpt-live-1", server.url());
    let mut peer = Peer::connect_to(url, Some("sk-test")).await;
    let (events, close) = peer.closed().await;
    assert_eq!(events[0]["error"]["code"], "invalid_model");
    assert!(
        events[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("/v1/live/sessions")
    );
    assert_eq!(close, Some(4004));
}

#[tokio::test(start_paused = true)]
async fn bad_client_events_get_errors_naming_them() {
    let server = MockServer::builder()
        .live_script(LiveScript::new().continuous(false))
        .start()
        .await
        .unwrap();
    let mut peer = Peer::connect(&server).await;
    peer.send(json!({"type": "session.input_audio.append", "event_id": "evt_early", "audio": ulaw(false, 20)}))
        .await;
    let early = peer.event().await;
    assert_eq!(early["error"]["code"], "session_not_started");
    assert_eq!(early["client_event_id"], "evt_early");
    peer.send(json!({"type": "session.start", "session": phone("gpt-live-1")}))
        .await;
    assert_eq!(peer.event().await["type"], "session.started");

    peer.ws.send(Message::text("{not json")).await.unwrap();
    assert_eq!(peer.event().await["error"]["code"], "invalid_json");
    peer.send(json!({"type": "input_audio_buffer.commit", "event_id": "evt_c"}))
        .await;
    let unknown = peer.event().await;
    assert_eq!(unknown["client_event_id"], "evt_c");
    let message = unknown["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("'session.input_audio.append'") && message.contains("'session.close'"),
        "{message}"
    );
    peer.send(json!({"type": "session.input_audio.append", "event_id": "evt_b", "audio": "%%%"}))
        .await;
    assert_eq!(peer.event().await["error"]["param"], "audio");
    peer.send(
        json!({"type": "session.start", "event_id": "evt_again", "session": phone("gpt-live-1")}),
    )
    .await;
    assert_eq!(
        peer.event().await["error"]["code"],
        "session_already_started"
    );
    peer.send(json!({"type": "session.commentary.append", "event_id": "evt_d", "delegation_id": "item_nope", "content": "x"}))
        .await;
    assert_eq!(peer.event().await["error"]["param"], "delegation_id");
    peer.send(json!({"type": "response.item.create", "event_id": "evt_r", "item": {"type": "function_call_output", "call_id": "call_1", "output": "{}"}}))
        .await;
    let error = peer.event().await;
    assert_eq!(
        error["error"]["message"],
        "response.item.create requires Responses delegation."
    );
    peer.send(json!({"type": "decision.create", "event_id": "evt_dc"}))
        .await;
    assert_eq!(
        peer.event().await["error"]["message"],
        "decision.create requires Decisions delegation."
    );

    let session = server.live_session(0, WAIT).await.unwrap();
    let refused = session
        .received()
        .iter()
        .filter(|r| r.refused.is_some())
        .count();
    assert_eq!(refused, 8, "{:?}", session.received_types());
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn session_update_changes_delegation_settings_only() {
    let server = MockServer::builder()
        .live_script(LiveScript::new().continuous(false))
        .start()
        .await
        .unwrap();
    let (mut peer, _) = Peer::started(&server, phone("gpt-live-1")).await;
    peer.send(
        json!({"type": "session.update", "event_id": "evt_u1", "session": {
        "delegation": {"type": "client", "acknowledgement_delay_ms": 250}}}),
    )
    .await;
    let updated = peer.event().await;
    assert_eq!(updated["type"], "session.updated");
    assert_eq!(updated["client_event_id"], "evt_u1");
    assert_eq!(
        updated["session"]["delegation"]["acknowledgement_delay_ms"],
        250
    );
    assert_eq!(updated["session"]["audio"]["format"], PCMU());

    for (session, param, code) in [
        (
            json!({"instructions": "Be rude."}),
            "session.instructions",
            "immutable_field_update",
        ),
        (
            json!({"audio": {"format": {"type": "audio/pcm", "rate": 24000}}}),
            "session.audio",
            "immutable_field_update",
        ),
        (
            json!({"delegation": {"type": "responses", "responses": {"model": "gpt-5.5"}}}),
            "session.delegation.type",
            "immutable_field_update",
        ),
        (
            json!({"turn_detection": null}),
            "session.turn_detection",
            "unknown_parameter",
        ),
    ] {
        peer.send(json!({"type": "session.update", "event_id": "evt_u", "session": session}))
            .await;
        let error = peer.event().await;
        assert_eq!(error["error"]["code"], code, "{error}");
        assert_eq!(error["error"]["param"], param, "{error}");
    }
    let live = server.live_session(0, WAIT).await.unwrap();
    assert_eq!(
        live.session_config()["delegation"]["acknowledgement_delay_ms"],
        250
    );
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn session_close_gets_session_closed_with_usage_then_close_1000() {
    let server = MockServer::start().await.unwrap();
    let (mut peer, started) = Peer::started(&server, phone("gpt-live-1")).await;
    let t0 = Instant::now();
    let events = peer.until("session.usage.updated").await;
    assert_eq!(t0.elapsed(), Duration::from_secs(15));
    assert_eq!(events.last().unwrap()["usage"]["seconds"], 15);
    while t0.elapsed() < Duration::from_millis(63_050) {
        peer.event().await;
    }
    peer.send(json!({"type": "session.close", "event_id": "evt_bye"}))
        .await;
    let (events, close) = peer.closed().await;
    let closed = of_type(&events, "session.closed");
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0]["reason"], "close_requested");
    assert_eq!(closed[0]["client_event_id"], "evt_bye");
    assert_eq!(closed[0]["usage"]["seconds"], 63);
    assert_eq!(closed[0]["session"], started["session"]);
    assert_eq!(
        events.last().unwrap()["type"],
        "session.closed",
        "nothing after it"
    );
    assert_eq!(close, Some(1000));
    let session = server.live_session(0, WAIT).await.unwrap();
    let (server_close, _) = session.wait_ended(WAIT).await.unwrap();
    assert_eq!(server_close.unwrap().code, 1000);
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn the_session_limit_ends_it_with_expired() {
    let server = MockServer::builder()
        .live_max_session_duration(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let (mut peer, started) = Peer::started(&server, phone("gpt-live-1")).await;
    let t0 = Instant::now();
    let (events, close) = peer.closed().await;
    assert_eq!(t0.elapsed(), Duration::from_secs(2));
    let closed = events.last().unwrap();
    assert_eq!(closed["type"], "session.closed");
    assert_eq!(closed["reason"], "expired");
    assert_eq!(closed["usage"]["seconds"], 2);
    assert_eq!(
        closed["session"]["expires_at"],
        started["session"]["expires_at"]
    );
    assert_eq!(close, Some(1000));
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn a_client_delegation_is_answered_with_commentary_that_the_model_speaks() {
    let server = MockServer::builder()
        .live_script(
            LiveScript::new().continuous(false).turn(
                LiveTurn::speech("Let me check.")
                    .then_delegate()
                    .then_say("Anything else?"),
            ),
        )
        .start()
        .await
        .unwrap();
    let (mut peer, _) = Peer::started(&server, phone("gpt-live-1")).await;
    server
        .live_session(0, WAIT)
        .await
        .unwrap()
        .start_turn()
        .await;
    let events = peer.until("session.delegation.created").await;
    assert_eq!(
        transcript(&events, "session.output_transcript.delta"),
        "Let me check."
    );
    let created = events.last().unwrap();
    assert_eq!(created["delegation"]["target"], "client");
    assert_eq!(created["delegation"]["type"], "delegation");
    let id = created["delegation"]["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("item_"));
    assert!(created["offset_ms"].as_u64().unwrap() >= 800);

    // Nothing more is said until the application answers.
    let quiet = tokio::time::timeout(Duration::from_secs(3), peer.ws.next()).await;
    assert!(
        quiet.is_err(),
        "the model waits for the delegation: {quiet:?}"
    );
    peer.send(
        json!({"type": "session.commentary.append", "event_id": "evt_c1", "delegation_id": id,
        "content": "Your order shipped yesterday."}),
    )
    .await;
    let ack = peer.event().await;
    assert_eq!(ack["type"], "session.commentary.appended");
    assert_eq!(ack["client_event_id"], "evt_c1");
    let mut events = Vec::new();
    while transcript(&events, "session.output_transcript.delta")
        != "Your order shipped yesterday.Anything else?"
    {
        events.push(peer.event().await);
        assert!(events.len() < 500, "{events:?}");
    }
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn a_responses_function_call_waits_for_every_output_then_response_create() {
    let server = MockServer::builder()
        .live_script(
            LiveScript::new().continuous(false).turn(
                LiveTurn::function_call("lookup_order", r#"{"order_id":"123"}"#)
                    .then_say("It shipped."),
            ),
        )
        .start()
        .await
        .unwrap();
    let session = json!({"model": "gpt-live-1", "audio": {"format": PCMU()}, "delegation": {
        "type": "responses", "responses": {"model": "gpt-5.5", "tools": [{"type": "function",
        "name": "lookup_order", "parameters": {"type": "object"}}]}}});
    let (mut peer, _) = Peer::started(&server, session).await;
    server
        .live_session(0, WAIT)
        .await
        .unwrap()
        .start_turn()
        .await;
    let created = peer.non_audio().await;
    assert_eq!(created["type"], "session.delegation.created");
    assert_eq!(created["delegation"]["target"], "responses");
    let delegation = created["delegation"]["id"].clone();
    let events = peer.until("response.event").await;
    assert_eq!(events.len(), 1);
    let mut nested = vec![events[0]["event"]["type"].clone()];
    let mut call_id = Value::Null;
    while nested.last().unwrap() != "response.completed" {
        let event = peer.non_audio().await;
        assert_eq!(event["type"], "response.event");
        assert_eq!(event["delegation_id"], delegation);
        if event["event"]["type"] == "response.output_item.done" {
            assert_eq!(event["event"]["item"]["type"], "function_call");
            assert_eq!(event["event"]["item"]["status"], "completed");
            assert_eq!(event["event"]["item"]["arguments"], r#"{"order_id":"123"}"#);
            call_id = event["event"]["item"]["call_id"].clone();
        }
        nested.push(event["event"]["type"].clone());
    }
    assert!(call_id.is_string());

    // A partial batch is refused; an unknown call too.
    peer.send(json!({"type": "response.create", "event_id": "evt_early"}))
        .await;
    let error = peer.non_audio().await;
    assert_eq!(error["type"], "error");
    assert_eq!(error["client_event_id"], "evt_early");
    peer.send(
        json!({"type": "response.item.create", "event_id": "evt_x", "item": {
        "type": "function_call_output", "call_id": "call_other", "output": "{}"}}),
    )
    .await;
    assert_eq!(peer.non_audio().await["error"]["param"], "item.call_id");

    peer.send(json!({"type": "response.item.create", "item": {
        "type": "function_call_output", "call_id": call_id, "output": r#"{"status":"shipped"}"#}}))
        .await;
    peer.send(json!({"type": "response.create"})).await;
    let events = peer.until("session.output_transcript.delta").await;
    let backend = of_type(&events, "response.event");
    assert_eq!(
        backend.last().unwrap()["event"]["type"],
        "response.completed"
    );
    assert!(of_type(&events, "error").is_empty(), "{events:?}");
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn decisions_come_as_decision_events_and_decision_commands_are_answered() {
    let server = MockServer::builder()
        .live_script(
            LiveScript::new()
                .continuous(false)
                .turn(LiveTurn::decide(Vec::new())),
        )
        .start()
        .await
        .unwrap();
    let session = json!({"model": "gpt-live-1", "audio": {"format": PCMU()}, "delegation": {
    "type": "decisions", "decisions": {"model": "gpt-5.5-mini", "questions": [
        {"type": "predicate", "name": "wants_human", "instructions": "Does the caller ask for a person?"},
        {"type": "choice", "name": "intent", "instructions": "What for?", "choices": [{"value": "billing"}, {"value": "orders"}]}
    ]}}});
    let (mut peer, _) = Peer::started(&server, session).await;
    server
        .live_session(0, WAIT)
        .await
        .unwrap()
        .start_turn()
        .await;
    let created = peer.non_audio().await;
    assert_eq!(created["delegation"]["target"], "decisions");
    let decision = peer.non_audio().await;
    assert_eq!(decision["type"], "decision.event");
    assert_eq!(decision["delegation_id"], created["delegation"]["id"]);
    assert_eq!(decision["event"]["type"], "decision.completed");
    let answers = &decision["event"]["decision"]["answers"];
    assert_eq!(answers[0]["type"], "predicate");
    assert_eq!(answers[0]["name"], "wants_human");
    assert_eq!(answers[1]["choice"], "billing");
    assert_eq!(decision["event"]["decision"]["model"], "gpt-5.5-mini");

    peer.send(json!({"type": "decision.create", "event_id": "evt_d1"}))
        .await;
    assert_eq!(peer.non_audio().await["type"], "decision.event");
    peer.send(json!({"type": "decision.create", "event_id": "evt_d1"}))
        .await;
    assert_eq!(
        peer.non_audio().await["error"]["code"],
        "duplicate_event_id"
    );
    peer.send(json!({"type": "decision.item.create", "event_id": "evt_i", "item": {"role": "user", "content": "Order 123."}}))
        .await;
    let created = peer.non_audio().await;
    assert_eq!(created["type"], "decision.item.created");
    let item_id = created["item"]["id"].clone();
    peer.send(json!({"type": "decision.item.delete", "item_id": item_id}))
        .await;
    let deleted = peer.non_audio().await;
    assert_eq!(deleted["type"], "decision.item.deleted");
    assert_eq!(deleted["item_id"], item_id);
    peer.send(json!({"type": "decision.item.delete", "item_id": item_id}))
        .await;
    assert_eq!(peer.non_audio().await["error"]["param"], "item_id");
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn mute_fixture_and_the_handles_commands() {
    let server = MockServer::builder()
        .live_script(LiveScript::new().continuous(false))
        .start()
        .await
        .unwrap();
    let (mut peer, _) = Peer::started(&server, phone("gpt-live-1")).await;
    let live = server.live_session(0, WAIT).await.unwrap();
    peer.send(json!({"type": "session.input_audio.mute", "event_id": "evt_m"}))
        .await;
    assert_eq!(peer.event().await["client_event_id"], "evt_m");
    peer.send(json!({"type": "session.input_audio.unmute"}))
        .await;
    assert_eq!(peer.event().await["type"], "session.input_audio.unmuted");

    // 300 ms of PCM16 24 kHz, played in the session's mu-law.
    let fixture = BASE64.encode(vec![0x10u8; 24 * 2 * 300]);
    peer.send(
        json!({"type": "session.output_audio.fixture.play", "event_id": "evt_f", "audio": fixture}),
    )
    .await;
    // The three appends are refused while it plays.
    peer.send(json!({"type": "session.commentary.append", "event_id": "evt_during", "delegation_id": null, "content": "Hi"}))
        .await;
    let events = peer.until("session.output_audio.fixture.played").await;
    let refused = of_type(&events, "error");
    assert_eq!(refused.len(), 1, "{events:?}");
    assert_eq!(refused[0]["error"]["code"], "fixture_playing");
    assert_eq!(refused[0]["client_event_id"], "evt_during");
    assert_eq!(events[0]["type"], "session.output_audio.fixture.playing");
    assert_eq!(of_type(&events, "session.output_audio.delta").len(), 3);
    assert_eq!(events.last().unwrap()["client_event_id"], "evt_f");

    live.send_event(json!({"type": "info", "code": "data_channel_permissions", "message": "mock"}))
        .await;
    let info = peer.event().await;
    assert_eq!(info["type"], "info");
    assert!(info["event_id"].is_string(), "an event_id is added");
    live.send_error(LiveError::new(
        "server_error",
        "server_error",
        "mock failure",
    ))
    .await;
    assert_eq!(peer.event().await["error"]["code"], "server_error");
    live.send_raw(r#"{"type":"session.input_audio.unmuted","event_id":"evt_raw"}"#)
        .await;
    assert_eq!(peer.event().await["event_id"], "evt_raw");

    // A stall holds everything; resume sends it in order.
    live.stall().await;
    assert!(live.is_stalled());
    live.send_raw(r#"{"type":"session.input_audio.muted","event_id":"evt_held"}"#)
        .await;
    let quiet = tokio::time::timeout(Duration::from_millis(500), peer.ws.next()).await;
    assert!(quiet.is_err(), "a stalled mock sent {quiet:?}");
    live.resume().await;
    assert_eq!(peer.event().await["event_id"], "evt_held");

    live.end(CloseReason::RemoteHangup).await;
    let (events, close) = peer.closed().await;
    assert_eq!(events.last().unwrap()["reason"], "remote_hangup");
    assert_eq!(close, Some(1000));
    assert_eq!(
        live.received_types(),
        [
            "session.start",
            "session.input_audio.mute",
            "session.input_audio.unmute",
            "session.output_audio.fixture.play",
            "session.commentary.append",
        ]
    );
    assert!(live.sent().iter().any(|s| s.contains("evt_held")));
    assert_all_decode(&server);

    // `close` ends the socket without `session.closed` (a lost connection).
    let (mut peer, _) = Peer::started(&server, phone("gpt-live-1")).await;
    let second = server.live_session(1, WAIT).await.unwrap();
    second.close(1011, "mock failure").await;
    let (events, close) = peer.closed().await;
    assert!(of_type(&events, "session.closed").is_empty());
    assert_eq!(close, Some(1011));
}

#[tokio::test(start_paused = true)]
async fn every_format_gets_its_own_delta_size_and_silence() {
    let server = MockServer::start().await.unwrap();
    // (format, bytes per 100 ms, the format's digital silence as bytes)
    for (format, bytes, silence) in [
        (json!({"type": "audio/pcmu", "rate": 8000}), 800, vec![0xff]),
        (json!({"type": "audio/pcma", "rate": 8000}), 800, vec![0xd5]),
        (
            json!({"type": "audio/pcm", "rate": 16000}),
            3200,
            vec![0, 0],
        ),
        (
            json!({"type": "audio/pcm", "rate": 24000}),
            4800,
            vec![0, 0],
        ),
    ] {
        let (mut peer, started) = Peer::started(
            &server,
            json!({"model": "gpt-live-1", "audio": {"format": format}}),
        )
        .await;
        assert_eq!(started["session"]["audio"]["format"], format);
        let delta = peer.event().await;
        let audio = BASE64.decode(delta["delta"].as_str().unwrap()).unwrap();
        assert_eq!(audio.len(), bytes, "{format}");
        assert!(
            audio.chunks(silence.len()).all(|c| c == silence),
            "{format}: silence"
        );
    }
    // No format: PCM16 at 24 kHz, the SDK's default.
    let (_, started) = Peer::started(&server, json!({"model": "gpt-live-1"})).await;
    assert_eq!(
        started["session"]["audio"]["format"],
        json!({"type": "audio/pcm", "rate": 24000})
    );
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn an_http_refusal_on_command_refuses_live_upgrades_too() {
    let server = MockServer::start().await.unwrap();
    server.refuse_upgrades(HttpRefusal::rate_limited());
    let request = server.live_url().into_client_request().unwrap();
    let error = tokio_tungstenite::connect_async(request).await.unwrap_err();
    let tungstenite::Error::Http(response) = error else {
        panic!("an HTTP refusal, got {error}");
    };
    assert_eq!(response.status(), 429);
    assert_eq!(server.refused_upgrades(), 1);
    assert!(server.live_sessions().is_empty());
    server.accept_upgrades();
    let (_peer, _) = Peer::started(&server, phone("gpt-live-1")).await;
    assert_eq!(server.live_sessions().len(), 1);
    assert!(
        server.sessions().is_empty(),
        "no Realtime session for a Live socket"
    );
}

#[tokio::test(start_paused = true)]
async fn a_transcript_trigger_fires_a_decision_naming_the_fragment() {
    let server = MockServer::builder()
        .live_script(
            LiveScript::new()
                .continuous(false)
                .turn(LiveTurn::speech("Sure.").with_caller_transcript("Get me a person.")),
        )
        .start()
        .await
        .unwrap();
    let trigger = json!({"type": "decisions", "event_type": "session.input_transcript.delta",
        "decisions": {"questions": [{"type": "predicate", "name": "wants_human",
        "instructions": "Does the caller ask for a person?"}]}});
    let session =
        json!({"model": "gpt-live-1", "audio": {"format": PCMU()}, "triggers": [trigger]});
    let (mut peer, started) = Peer::started(&server, session).await;
    assert_eq!(started["session"]["triggers"][0], trigger);
    speak(&mut peer, true, 400).await;
    speak(&mut peer, false, 600).await;
    let events = peer.until("session.output_transcript.delta").await;
    let fragments = of_type(&events, "session.input_transcript.delta");
    let decisions = of_type(&events, "decision.event");
    assert_eq!(fragments.len(), 4);
    assert_eq!(decisions.len(), fragments.len(), "one per fragment");
    for (fragment, decision) in fragments.iter().zip(&decisions) {
        assert_eq!(decision["source_event_id"], fragment["event_id"]);
        assert_eq!(
            decision["source_event_type"],
            "session.input_transcript.delta"
        );
        assert!(decision["trigger_id"].is_string());
        assert!(decision.get("delegation_id").is_none());
        assert_eq!(
            decision["event"]["decision"]["answers"][0]["name"],
            "wants_human"
        );
    }
    // The model's fragment fired nothing: no trigger on its type.
    assert_eq!(events.last().unwrap()["delta"], "Sure.");
    let t0 = Instant::now();
    let mut rest = Vec::new();
    while t0.elapsed() < Duration::from_secs(2) {
        rest.push(peer.event().await);
    }
    assert!(of_type(&rest, "decision.event").is_empty(), "{rest:?}");

    // Two triggers on one event type are refused.
    let mut peer = Peer::connect(&server).await;
    let session = json!({"model": "gpt-live-1", "triggers": [trigger, trigger]});
    peer.send(json!({"type": "session.start", "session": session}))
        .await;
    let error = peer.event().await;
    assert_eq!(error["error"]["param"], "session.triggers[1].event_type");
    assert_all_decode(&server);
}

#[tokio::test(start_paused = true)]
async fn barge_in_after_lets_a_short_noise_pass_and_stops_for_longer_speech() {
    let server = MockServer::builder()
        .live_script(
            LiveScript::new()
                .continuous(false)
                .barge_in_after(Duration::from_millis(300))
                .fallback(LiveTurn::new().then_say_for("one two three four five", 5000)),
        )
        .start()
        .await
        .unwrap();
    let (mut peer, _) = Peer::started(&server, phone("gpt-live-1")).await;
    server
        .live_session(0, WAIT)
        .await
        .unwrap()
        .start_turn()
        .await;
    let voiced = |events: &[Value]| {
        of_type(events, "session.output_audio.delta")
            .iter()
            .filter(|d| {
                BASE64
                    .decode(d["delta"].as_str().unwrap())
                    .unwrap()
                    .iter()
                    .any(|b| *b != 0xff)
            })
            .count()
    };
    let mut events = Vec::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(500) {
        events.push(peer.event().await);
    }
    // 200 ms of caller noise and a short pause: under the 300 ms, the model talks on.
    speak(&mut peer, true, 200).await;
    speak(&mut peer, false, 100).await;
    let t1 = Instant::now();
    let mut during = Vec::new();
    while t1.elapsed() < Duration::from_millis(1000) {
        during.push(peer.event().await);
    }
    assert_eq!(voiced(&during), 10, "still speaking");
    // The caller goes on (past 300 ms since the first word): the model stops, and without
    // the continuous track nothing more is sent, no transcript either.
    speak(&mut peer, true, 300).await;
    let rest = tokio::time::timeout(Duration::from_secs(3), peer.non_audio()).await;
    assert!(rest.is_err(), "nothing after the barge-in: {rest:?}");
    assert_all_decode(&server);
}
