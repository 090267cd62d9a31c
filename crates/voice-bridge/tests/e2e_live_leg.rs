//! A whole call over loopback sockets through the GPT-Live leg: the Twilio simulator calls
//! a small tokio-tungstenite server that runs a `Bridge` between a `TwilioLeg` and an
//! `OpenAiLiveLeg`, pointed at a scripted GPT-Live service on 127.0.0.1 port 0. Real
//! sockets, real time, a five-second call.
//!
//! The scripted service behaves as the reference describes Live: `session.started` answers
//! `session.start`; its output is one continuous track of 20 ms `session.output_audio.delta`
//! at real-time pace, silence included; it hears the caller's audio itself, takes turns,
//! and stops its own speech when the caller talks over it (no event says so); transcripts
//! are timeline fragments; its Responses backend calls a function tool through
//! `response.event`, and continues after `response.item.create` + `response.create`;
//! `session.close` is answered by `session.closed` with the usage.
#![cfg(all(feature = "tokio-tungstenite-0_30", feature = "openai"))]

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt as _, StreamExt as _};
use openai_realtime::client::ApiKey;
use openai_realtime::live::FunctionTool;
use openai_realtime::live::client::Config;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use twilio_media_stream::simulator::{CallEnd, CallRecord, CallScript, CallerAudio};
use voice_bridge::adapter::twilio::TungsteniteSocket;
use voice_bridge::audio::g711;
use voice_bridge::report::{EndReason, ToolCallResult};
use voice_bridge::{
    Bridge, BridgeConfig, CallReport, LegEnd, OpenAiLiveLeg, Side, Speaker, ToolReply, ToolSpec,
    Tools, TwilioLeg,
};

const WAIT: Duration = Duration::from_secs(10);
const CALL_LIMIT: Duration = Duration::from_secs(30);

/// Each of the service's turns is one byte value, so the caller's record tells them apart.
const FIRST: u8 = 0x1A;
const SECOND: u8 = 0x2B;
const THIRD: u8 = 0x3C;
const SILENCE: u8 = 0xFF;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// What the scripted service saw and did.
#[derive(Debug, Default)]
struct Served {
    /// Every client event but the audio appends, in order.
    received: Vec<Value>,
    /// Caller audio appends.
    appends: usize,
    /// Bytes of each turn's value the service put on its track.
    sent: HashMap<u8, usize>,
    /// The client's WebSocket close came after `session.closed`.
    closed_cleanly: bool,
}

fn event(kind: &str, fields: Value) -> Message {
    let mut event = fields;
    event["type"] = json!(kind);
    Message::text(event.to_string())
}

fn transcript(kind: &str, id: u64, delta: &str, start_ms: u64, end_ms: u64) -> Message {
    event(
        kind,
        json!({"event_id": format!("event_t{id}"), "delta": delta, "start_ms": start_ms, "end_ms": end_ms}),
    )
}

/// A G.711 payload with speech in it (what the simulator's caller sends while speaking).
fn loud(payload: &str) -> bool {
    BASE64
        .decode(payload)
        .unwrap_or_default()
        .iter()
        .any(|&code| g711::mulaw_to_linear(code).unsigned_abs() > 2000)
}

/// The scripted GPT-Live service for one session.
async fn live_service() -> (String, JoinHandle<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v1/live/sessions", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let mut served = Served::default();
        // session.start first, G.711 mu-law both ways.
        let start = loop {
            match ws.next().await {
                Some(Ok(Message::Text(text))) => {
                    break serde_json::from_str::<Value>(&text).unwrap();
                }
                Some(Ok(_)) => {}
                other => panic!("no session.start: {other:?}"),
            }
        };
        assert_eq!(start["type"], "session.start", "{start}");
        assert_eq!(
            start["session"]["audio"]["format"],
            json!({"type": "audio/pcmu", "rate": 8000})
        );
        assert_eq!(start["session"]["delegation"]["type"], "responses");
        let mut session = start["session"].clone();
        session["id"] = json!("live_e2e");
        session["expires_at"] = json!(1796300000u64);
        session["status"] = json!("active");
        session["input"] = json!([]);
        served.received.push(start);
        ws.send(event(
            "session.started",
            json!({"event_id": "event_s1", "session": session.clone()}),
        ))
        .await
        .unwrap();

        let mut track: VecDeque<u8> = VecDeque::new();
        let mut tick = tokio::time::interval(ms(20));
        let mut clock_ms = 0u64;
        let (mut speaking, mut loud_ms, mut quiet_ms) = (false, 0u64, 0u64);
        let (mut onsets, mut turns_heard, mut onset_ms) = (0u32, 0u32, 0u64);
        let mut stopped_for_caller = false;
        let mut id = 0u64;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    // The continuous track: 20 ms of the current turn, or silence.
                    let frame: Vec<u8> = (0..160).map(|_| track.pop_front().unwrap_or(SILENCE)).collect();
                    for &byte in frame.iter().filter(|&&b| b != SILENCE) {
                        *served.sent.entry(byte).or_default() += 1;
                    }
                    clock_ms += 20;
                    let delta = event("session.output_audio.delta", json!({"delta": BASE64.encode(&frame)}));
                    if ws.send(delta).await.is_err() {
                        break;
                    }
                }
                message = ws.next() => {
                    let Some(Ok(message)) = message else { break };
                    let Message::Text(text) = message else {
                        if let Message::Close(_) = message { break }
                        continue;
                    };
                    let client: Value = serde_json::from_str(&text).unwrap();
                    let kind = client["type"].as_str().unwrap_or_default().to_owned();
                    if kind != "session.input_audio.append" {
                        served.received.push(client.clone());
                    }
                    id += 1;
                    match kind.as_str() {
                        "session.input_audio.append" => {
                            served.appends += 1;
                            if loud(client["audio"].as_str().unwrap_or_default()) {
                                quiet_ms = 0;
                                if !speaking {
                                    speaking = true;
                                    onsets += 1;
                                    loud_ms = 0;
                                    onset_ms = clock_ms;
                                }
                                loud_ms += 20;
                                // The caller talks over the second answer: the service
                                // stops its own speech after 60 ms of it, and says so only
                                // by the silence (the caller's words come when they stop).
                                if onsets == 3 && loud_ms >= 60 && !track.is_empty() && !stopped_for_caller {
                                    stopped_for_caller = true;
                                    track.clear();
                                }
                            } else if speaking {
                                quiet_ms += 20;
                                if quiet_ms >= 200 {
                                    speaking = false;
                                    turns_heard += 1;
                                    let end_ms = clock_ms - quiet_ms;
                                    match turns_heard {
                                        1 => {
                                            ws.send(transcript("session.input_transcript.delta", id, "where is ", onset_ms, onset_ms + 200)).await.unwrap();
                                            ws.send(transcript("session.input_transcript.delta", id + 1, "my order", onset_ms + 200, end_ms)).await.unwrap();
                                            // The backend decides to look it up.
                                            let call = json!({"event_id": "event_r1", "delegation_id": "dlg_1", "event": {
                                                "type": "response.output_item.done", "output_index": 0, "sequence_number": 7,
                                                "item": {"type": "function_call", "id": "fc_1", "call_id": "call_1",
                                                         "name": "lookup_order", "arguments": "{\"order_id\":\"123\"}",
                                                         "status": "completed"}}});
                                            ws.send(event("response.event", call)).await.unwrap();
                                        }
                                        2 => {
                                            ws.send(transcript("session.input_transcript.delta", id, "when does it arrive", onset_ms, end_ms)).await.unwrap();
                                            track.extend([SECOND; 16000]); // 2 s
                                            ws.send(transcript("session.output_transcript.delta", id + 1, "It arrives on Friday, ", clock_ms, clock_ms + 1000)).await.unwrap();
                                            ws.send(transcript("session.output_transcript.delta", id + 2, "between nine and noon.", clock_ms + 1000, clock_ms + 2000)).await.unwrap();
                                        }
                                        3 => {
                                            ws.send(transcript("session.input_transcript.delta", id, "wait, can I change the address", onset_ms, end_ms)).await.unwrap();
                                            track.extend([THIRD; 2400]); // 300 ms
                                            ws.send(transcript("session.output_transcript.delta", id + 1, "Sure, go ahead.", clock_ms, clock_ms + 300)).await.unwrap();
                                        }
                                        _ => {}
                                    }
                                }
                            }
                        }
                        "response.create" => {
                            // Every call answered: the backend continues and the model speaks.
                            track.extend([FIRST; 3200]); // 400 ms
                            ws.send(transcript("session.output_transcript.delta", id, "Order 123 shipped yesterday.", clock_ms, clock_ms + 400)).await.unwrap();
                            ws.send(event("session.usage.updated", json!({"event_id": "event_u1", "usage": {"seconds": 1}}))).await.unwrap();
                        }
                        "session.close" => {
                            let closed = json!({"event_id": "event_c1", "client_event_id": client["event_id"],
                                "reason": "close_requested", "session": session.clone(),
                                "usage": {"seconds": clock_ms.div_ceil(1000)}});
                            ws.send(event("session.closed", closed)).await.unwrap();
                            // The client closes the WebSocket next.
                            while let Some(Ok(message)) = ws.next().await {
                                if let Message::Close(_) = message {
                                    served.closed_cleanly = true;
                                    break;
                                }
                            }
                            break;
                        }
                        _ => {}
                    }
                }
            }
        }
        served
    });
    (url, task)
}

/// A media-stream server for one call, bridging it to the Live leg with one tool.
async fn serve_one_call(agent: OpenAiLiveLeg) -> (String, JoinHandle<CallReport>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let call = TwilioLeg::new(TungsteniteSocket::new(ws));
        let tools = Tools::new().tool(
            ToolSpec::new(
                "lookup_order",
                "Looks up an order",
                json!({"type": "object", "properties": {"order_id": {"type": "string"}}}),
            ),
            |call| async move {
                assert_eq!(call.arguments["order_id"], "123");
                Ok(ToolReply::new(
                    json!({"status": "shipped", "eta": "Friday"}),
                ))
            },
        );
        Bridge::new(call, agent)
            .with_config(BridgeConfig::default())
            .with_tools(tools)
            .run()
            .await
    });
    (url, task)
}

fn heard(record: &CallRecord, value: u8) -> usize {
    record.heard.iter().filter(|&&b| b == value).count()
}

/// Turns, a tool decision of the backend, a barge-in the service makes itself (the bridge
/// clears the phone and sends the service nothing it has no use for), transcripts of both
/// sides, the usage, and a clean end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_call_takes_turns_calls_a_tool_is_interrupted_and_ends_cleanly() {
    init_logs();
    let (live_url, service) = live_service().await;
    let config = Config::url(&live_url).with_api_key(ApiKey::new("sk-test"));
    let agent = OpenAiLiveLeg::builder(config)
        .instructions("You answer the phone for Acme. Look orders up.")
        .tool("gpt-5.5", FunctionTool::new("lookup_order"))
        .build();
    let (url, bridge) = serve_one_call(agent).await;

    // Three caller turns; the third talks over the second answer (2.6 s to 4.6 s).
    let caller = CallerAudio::speech([
        (ms(200), ms(600)),
        (ms(2000), ms(2400)),
        (ms(3200), ms(3700)),
    ]);
    let script = CallScript::new(url)
        .caller_audio(caller)
        .hang_up_after(ms(5000));
    let record = tokio::time::timeout(CALL_LIMIT, script.run())
        .await
        .expect("the call ends in time")
        .expect("the call connects");
    let report = tokio::time::timeout(WAIT, bridge).await.unwrap().unwrap();
    let served = tokio::time::timeout(WAIT, service).await.unwrap().unwrap();

    // A clean end: the caller hung up, the bridge closed the session with session.close,
    // the service confirmed, and the WebSocket closed after that.
    assert_eq!(record.end, CallEnd::HungUp);
    assert!(record.issues.is_empty(), "{:?}", record.issues);
    assert_eq!(report.outcome.ended_by, Side::Call, "{}", report.outcome);
    assert!(
        matches!(
            &report.outcome.reason,
            EndReason::CallEnded {
                end: LegEnd::Finished
            }
        ),
        "{}",
        report.outcome
    );
    assert!(
        served.closed_cleanly,
        "the client closed the socket after session.closed"
    );
    let types: Vec<&str> = served
        .received
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    // Nothing Live has no use for (truncate, cancel) reached the service.
    assert_eq!(
        types,
        [
            "session.start",
            "response.item.create",
            "response.create",
            "session.close"
        ],
        "{types:?}"
    );
    assert!(
        served.appends > 200,
        "caller audio streamed: {}",
        served.appends
    );

    // The tool decision: one call, its output to the backend, then one response.create.
    assert_eq!(report.tool_calls.len(), 1, "{:?}", report.tool_calls);
    let tool = &report.tool_calls[0];
    assert_eq!(
        (tool.name.as_str(), tool.call_id.as_str()),
        ("lookup_order", "call_1")
    );
    assert!(
        matches!(&tool.result, Some(ToolCallResult::Ok { .. })),
        "{:?}",
        tool.result
    );
    let output = &served.received[1]["item"];
    assert_eq!(output["type"], "function_call_output");
    assert_eq!(output["call_id"], "call_1");
    assert_eq!(
        serde_json::from_str::<Value>(output["output"].as_str().unwrap()).unwrap(),
        json!({"status": "shipped", "eta": "Friday"})
    );

    // G.711 straight through: what the service played is what the caller heard, for the
    // turns nobody interrupted.
    assert_eq!(heard(&record, FIRST), 3200);
    assert_eq!(heard(&record, THIRD), 2400);
    assert_eq!(served.sent[&FIRST], 3200);

    // The barge-in: the service stopped its second answer itself; the bridge cleared what
    // the phone still held, once, and the caller heard no more of it than the service sent.
    let second_sent = served.sent[&SECOND];
    assert!(
        (3000..12000).contains(&second_sent),
        "the service stopped mid-answer: {second_sent} bytes"
    );
    tracing::info!(
        second_sent,
        second_heard = heard(&record, SECOND),
        "the interrupted answer: put on the track by the service, heard by the caller"
    );
    assert!(heard(&record, SECOND) <= second_sent);
    assert_eq!(record.clears.len(), 1, "{:?}", record.clears);
    assert_eq!(report.barge_ins.len(), 1, "{:?}", report.barge_ins);
    let barge_in = &report.barge_ins[0];
    assert_eq!(
        barge_in.item_id.as_ref().map(|i| i.as_str()),
        Some("live_out_2")
    );
    assert_eq!(barge_in.truncated_ms, None, "Live has no truncation");
    assert!(!barge_in.cancelled_response, "Live has no response.cancel");

    // Transcripts of both sides, joined into turns.
    let lines: Vec<(Speaker, &str, bool)> = report
        .transcript
        .iter()
        .map(|line| (line.speaker, line.text.as_str(), line.complete))
        .collect();
    for expected in [
        (Speaker::Caller, "where is my order", true),
        (Speaker::Agent, "Order 123 shipped yesterday.", true),
        (Speaker::Caller, "when does it arrive", true),
        (
            Speaker::Agent,
            "It arrives on Friday, between nine and noon.",
            true,
        ),
        (Speaker::Caller, "wait, can I change the address", true),
        (Speaker::Agent, "Sure, go ahead.", true),
    ] {
        assert!(lines.contains(&expected), "{expected:?} not in {lines:#?}");
    }

    // The usage: the session.closed that answered the bridge's close (whole seconds of the
    // call, about 6), not the 1 s of the session.usage.updated before it.
    let usage = report.agent_usage.as_ref().expect("usage in the report");
    assert!(
        usage.session_seconds.is_some_and(|s| s > 1.0),
        "the final usage, not the last update: {usage:?}"
    );
}
