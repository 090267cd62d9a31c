//! Every caller frame reaches the agent once the agent is ready: a whole bridge between a
//! `TwilioLeg` and an `OpenAiLeg` on loopback sockets (127.0.0.1 port 0), with the OpenAI
//! Realtime mock counting every `input_audio_buffer.append` it reads.
//!
//! The Twilio side is a hand-written peer here, because the case is a burst: frames that
//! reach the bridge together with the caller's `stop` (a network stall, then TCP delivers
//! what queued up; Twilio's simulator never sends faster than real time). Nothing here
//! waits on a clock: the test waits for the mock's log and for the sockets to close.
#![cfg(all(feature = "tokio-tungstenite-0_30", feature = "openai"))]

use std::time::Duration;

use futures_util::SinkExt as _;
use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::MockServer;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::Message;
use voice_bridge::{Bridge, BridgeConfig, CallReport, OpenAiLeg, TwilioLeg};

/// Generous bound for anything that should take well under a second.
const WAIT: Duration = Duration::from_secs(10);

/// A media-stream server for one call, bridged to the mock.
async fn serve_one_call(mock: &MockServer) -> (String, tokio::task::JoinHandle<CallReport>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    let config = Config::url(mock.url()).with_api_key(ApiKey::new("sk-test"));
    let agent = OpenAiLeg::new(config);
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let call = TwilioLeg::from_websocket(ws);
        Bridge::new(call, agent)
            .with_config(BridgeConfig::default())
            .run()
            .await
    });
    (url, task)
}

const SID: &str = "MZ00000000000000000000000000000042";

fn media(seq: u64, chunk: u64) -> Message {
    // 160 bytes of mu-law silence (0xFF), base64.
    let payload = "/".repeat(213) + "w==";
    Message::text(format!(
        r#"{{"event":"media","sequenceNumber":"{seq}","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{ts}","payload":"{payload}"}},"streamSid":"{SID}"}}"#,
        ts = (chunk - 1) * 20
    ))
}

/// Frames sent in one burst with the `stop` right behind them all reach the agent before
/// the bridge closes its session: the call ended, but those frames came first.
#[tokio::test]
async fn caller_frames_in_a_burst_with_the_stop_all_reach_the_agent() {
    const BURST: u64 = 50;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mock = MockServer::start().await.unwrap();
    let (url, served) = serve_one_call(&mock).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .unwrap();
    let connected = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
    let start = format!(
        r#"{{"event":"start","sequenceNumber":"1","start":{{"accountSid":"AC00000000000000000000000000000042","streamSid":"{SID}","callSid":"CA00000000000000000000000000000042","tracks":["inbound"],"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"customParameters":{{}}}},"streamSid":"{SID}"}}"#
    );
    ws.send(Message::text(connected)).await.unwrap();
    ws.send(Message::text(start)).await.unwrap();
    // One frame first, and its arrival at the mock: the agent is ready and audio flows.
    ws.send(media(2, 1)).await.unwrap();
    let session = mock.session(0, WAIT).await.unwrap();
    session
        .wait_for("input_audio_buffer.append", WAIT)
        .await
        .unwrap();
    // The burst and the stop, written together and flushed once.
    for n in 0..BURST {
        ws.feed(media(3 + n, 2 + n)).await.unwrap();
    }
    let stop = format!(
        r#"{{"event":"stop","sequenceNumber":"{}","stop":{{"accountSid":"AC00000000000000000000000000000042","callSid":"CA00000000000000000000000000000042"}},"streamSid":"{SID}"}}"#,
        3 + BURST
    );
    ws.feed(Message::text(stop)).await.unwrap();
    ws.flush().await.unwrap();

    let report = tokio::time::timeout(WAIT, served).await.unwrap().unwrap();
    session.wait_ended(WAIT).await.unwrap();
    let appended = session
        .received_types()
        .iter()
        .filter(|t| *t == "input_audio_buffer.append")
        .count() as u64;
    assert_eq!(report.counters.caller_frames, BURST + 1, "{report:?}");
    assert_eq!(
        appended,
        BURST + 1,
        "caller frames the mock read: {:?}",
        session.received_types()
    );
    assert_eq!(report.counters.caller_frames_sent, BURST + 1);
}
