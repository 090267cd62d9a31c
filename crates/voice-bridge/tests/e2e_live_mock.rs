//! A whole call over loopback sockets through the GPT-Live leg and the crate's Live mock:
//! the Twilio simulator calls a small tokio-tungstenite server that runs a `Bridge` between a
//! `TwilioLeg` and an `OpenAiLiveLeg` pointed at `openai_realtime::mock`'s Live sessions.
//! Real sockets on 127.0.0.1 port 0, real time, a five-second call.
//!
//! The mock plays Live as the protocol crate reads the reference: a continuous real-time
//! track, its own energy detector on the caller's audio, the caller's words sent whole when
//! they stop, its speech stopped by the caller's (no event says so), a Responses-backend
//! function call, usage updates, and `session.closed` for `session.close`.
#![cfg(all(feature = "tokio-tungstenite-0_30", feature = "openai"))]

use std::time::Duration;

use openai_realtime::client::ApiKey;
use openai_realtime::live::FunctionTool;
use openai_realtime::live::client::Config;
use openai_realtime::mock::{LiveMockServerBuilderExt, LiveScript, LiveTurn, MockServer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use twilio_media_stream::simulator::{CallEnd, CallRecord, CallScript, CallerAudio};
use voice_bridge::adapter::twilio::TungsteniteSocket;
use voice_bridge::report::{EndReason, ToolCallResult};
use voice_bridge::{
    Bridge, BridgeConfig, CallReport, LegEnd, OpenAiLiveLeg, Side, Speaker, ToolReply, ToolSpec,
    Tools, TwilioLeg,
};

const WAIT: Duration = Duration::from_secs(10);
const CALL_LIMIT: Duration = Duration::from_secs(30);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
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

/// Bytes of the mock's tone the caller heard (anything but mu-law silence).
fn heard_speech(record: &CallRecord) -> usize {
    record
        .heard
        .iter()
        .filter(|&&b| b != 0xFF && b != 0x7F)
        .count()
}

/// A tool decision of the backend, a barge-in the mock makes itself (the bridge clears the
/// phone, sends the service nothing it has no use for), transcripts of both sides, the
/// usage, and a clean end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_with_the_live_mock_calls_a_tool_is_interrupted_and_ends_cleanly() {
    init_logs();
    let script = LiveScript::new()
        .turn(
            LiveTurn::function_call("lookup_order", r#"{"order_id":"123"}"#)
                .then_say_for("Order 123 shipped yesterday.", 600)
                .with_caller_transcript("where is my order"),
        )
        .turn(
            LiveTurn::new()
                .then_say_for("It arrives on Friday between nine and noon.", 2000)
                .with_caller_transcript("when does it arrive"),
        )
        .turn(
            LiveTurn::new()
                .then_say_for("Sure, go ahead.", 400)
                .with_caller_transcript("wait can I change the address"),
        )
        .delta_duration(ms(20))
        .end_of_turn(ms(300))
        .usage_interval(ms(1000));
    let mock = MockServer::builder()
        .api_key("sk-test")
        .live_script(script)
        .start()
        .await
        .unwrap();
    let config = Config::url(mock.live_url()).with_api_key(ApiKey::new("sk-test"));
    let agent = OpenAiLiveLeg::builder(config)
        .instructions("You answer the phone for Acme. Look orders up.")
        .tool("gpt-5.5", FunctionTool::new("lookup_order"))
        .build();
    let (url, bridge) = serve_one_call(agent).await;

    // The second answer plays from about 2.9 s for 2 s; the caller talks over it at 3.4 s.
    let caller = CallerAudio::speech([
        (ms(200), ms(600)),
        (ms(2200), ms(2600)),
        (ms(3400), ms(3900)),
    ]);
    let script = CallScript::new(url)
        .caller_audio(caller)
        .hang_up_after(ms(5500));
    let record = tokio::time::timeout(CALL_LIMIT, script.run())
        .await
        .expect("the call ends in time")
        .expect("the call connects");
    let report = tokio::time::timeout(WAIT, bridge).await.unwrap().unwrap();
    let session = mock.live_session(0, WAIT).await.unwrap();

    // A clean end, and nothing the mock refused.
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
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let received = session.received();
    assert!(
        received.iter().all(|r| r.refused.is_none()),
        "{:?}",
        received
            .iter()
            .filter_map(|r| r.refused.as_ref())
            .collect::<Vec<_>>()
    );
    let types: Vec<String> = session
        .received_types()
        .into_iter()
        .filter(|t| t != "session.input_audio.append")
        .collect();
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
    // The mock records the client's close as its socket task ends, a moment after the
    // bridge returns.
    let ended = async {
        while !session.is_ended() {
            tokio::time::sleep(ms(10)).await;
        }
    };
    tokio::time::timeout(WAIT, ended)
        .await
        .expect("the mock's socket ends");
    assert!(
        matches!(session.client_close(), Some(close) if close.code == 1000),
        "{:?}",
        session.client_close()
    );

    // The tool decision.
    assert_eq!(report.tool_calls.len(), 1, "{:?}", report.tool_calls);
    let tool = &report.tool_calls[0];
    assert_eq!(tool.name, "lookup_order");
    assert!(
        matches!(&tool.result, Some(ToolCallResult::Ok { .. })),
        "{:?}",
        tool.result
    );

    // The barge-in: one clear, recorded against the second answer, with no truncation or
    // cancel (Live has neither); the caller heard part of that answer, not all of it.
    assert_eq!(record.clears.len(), 1, "{:?}", record.clears);
    assert_eq!(report.barge_ins.len(), 1, "{:?}", report.barge_ins);
    let barge_in = &report.barge_ins[0];
    assert_eq!(barge_in.truncated_ms, None);
    assert!(!barge_in.cancelled_response);
    assert!((100..1500).contains(&barge_in.heard_ms), "{barge_in:?}");
    // 600 ms + part of 2 s + 400 ms of tone, in bytes of 8 kHz G.711.
    let speech_ms = heard_speech(&record) / 8;
    assert!(
        (1100..2900).contains(&speech_ms),
        "the caller heard {speech_ms} ms of the agent"
    );

    // Transcripts of both sides.
    let lines: Vec<(Speaker, &str, bool)> = report
        .transcript
        .iter()
        .map(|l| (l.speaker, l.text.as_str(), l.complete))
        .collect();
    for expected in [
        (Speaker::Caller, "where is my order", true),
        (Speaker::Agent, "Order 123 shipped yesterday.", true),
        (Speaker::Caller, "when does it arrive", true),
        (Speaker::Caller, "wait can I change the address", true),
        (Speaker::Agent, "Sure, go ahead.", true),
    ] {
        assert!(lines.contains(&expected), "{expected:?} not in {lines:#?}");
    }
    // The interrupted answer: only the words said before the caller spoke.
    let interrupted = lines
        .iter()
        .find(|(speaker, text, _)| *speaker == Speaker::Agent && text.starts_with("It arrives"))
        .expect("the interrupted answer's words");
    assert!(
        interrupted.1.len() < "It arrives on Friday between nine and noon.".len(),
        "{interrupted:?}"
    );

    let usage = report.agent_usage.as_ref().expect("usage in the report");
    assert!(usage.session_seconds.is_some_and(|s| s >= 1.0), "{usage:?}");
}
