//! The GPT-Live leg's starts, delegations and ends through the real driver and the real
//! Live client, against scripted Live peers on 127.0.0.1 port 0 (the memory call leg plays
//! the phone): a refused start, `session.closed` with `expired` mid-call, and a client
//! delegation answered through the bridge's tool handler.
#![cfg(all(feature = "openai", feature = "twilio"))]

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use openai_realtime::client::ApiKey;
use openai_realtime::live::client::Config;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use voice_bridge::audio::AudioFormat;
use voice_bridge::report::{EndReason, ToolCallResult};
use voice_bridge::{
    Bridge, BridgeConfig, CallCommand, CallEvent, CallReport, CallStart, Fallback, LegEnd,
    OpenAiLiveLeg, ToolReply, ToolSpec, Tools, memory,
};

const WAIT: Duration = Duration::from_secs(10);

type Ws = WebSocketStream<tokio::net::TcpStream>;

/// A Live peer for one session running `script` after reading `session.start`.
async fn peer<F, Fut>(script: F) -> (String, JoinHandle<()>)
where
    F: FnOnce(Ws, Value) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/v1/live/sessions", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        let start = next_event(&mut ws).await.expect("session.start");
        assert_eq!(start["type"], "session.start");
        script(ws, start).await;
    });
    (url, task)
}

/// The next client event other than caller audio; `None` at the end.
async fn next_event(ws: &mut Ws) -> Option<Value> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.ok()?? {
            Ok(Message::Text(text)) => {
                let event: Value = serde_json::from_str(&text).unwrap();
                if event["type"] != "session.input_audio.append" {
                    return Some(event);
                }
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn send(ws: &mut Ws, kind: &str, mut fields: Value) {
    fields["type"] = json!(kind);
    ws.send(Message::text(fields.to_string())).await.unwrap();
}

fn session() -> Value {
    json!({"id": "live_ends", "expires_at": 1796300000u64, "model": "gpt-live-1", "status": "active",
           "audio": {"format": {"type": "audio/pcmu", "rate": 8000}}, "input": []})
}

fn agent(url: &str) -> OpenAiLiveLeg {
    let config = Config::url(url)
        .with_api_key(ApiKey::new("sk-test"))
        .with_keepalive(None)
        .with_error_close_grace(Duration::from_millis(200));
    OpenAiLiveLeg::new(config)
}

fn hang_up() -> BridgeConfig {
    let mut config = BridgeConfig::default();
    config.fallback = Fallback::HangUp;
    config
}

/// One call on the memory call leg until the bridge hangs up, or until `hang_up_on` fires
/// (then the caller hangs up).
async fn call(
    agent: OpenAiLiveLeg,
    tools: Tools,
    hang_up_on: Option<oneshot::Receiver<()>>,
) -> CallReport {
    let (call, mut phone) = memory::call_leg(64);
    let bridge = tokio::spawn(
        Bridge::new(call, agent)
            .with_config(hang_up())
            .with_tools(tools)
            .run(),
    );
    let start = CallStart::new("CA17", "MZ17", AudioFormat::MuLaw);
    phone.send(CallEvent::Started(start)).await.unwrap();
    let hang_up = async {
        match hang_up_on {
            Some(signal) => {
                let _ = signal.await;
            }
            None => std::future::pending().await,
        }
    };
    tokio::pin!(hang_up);
    loop {
        tokio::select! {
            command = phone.recv() => match command {
                Some(CallCommand::HangUp) | None => break,
                Some(_) => {}
            },
            () = &mut hang_up => {
                phone.send(CallEvent::Ended(LegEnd::Finished)).await.unwrap();
                break;
            }
        }
    }
    tokio::time::timeout(WAIT, bridge).await.unwrap().unwrap()
}

#[tokio::test]
async fn a_refused_start_never_starts_and_says_the_fix() {
    let (url, service) = peer(|mut ws, _| async move {
        send(
            &mut ws,
            "error",
            json!({"event_id": "event_e1", "error": {
            "type": "invalid_request_error", "code": "model_not_found",
            "message": "The model `gpt-live-1` does not exist or you do not have access to it."}}),
        )
        .await;
        let _ = ws
            .send(Message::Close(Some(CloseFrame {
                code: 4004.into(),
                reason: "invalid_request_error.model_not_found".into(),
            })))
            .await;
        while next_event(&mut ws).await.is_some() {}
    })
    .await;
    let report = call(agent(&url), Tools::new(), None).await;
    let EndReason::AgentNotStarted {
        end: LegEnd::Refused { detail, .. },
    } = &report.outcome.reason
    else {
        panic!("{}", report.outcome)
    };
    assert!(detail.contains("model_not_found"), "{detail}");
    assert!(
        detail.contains("enable GPT-Live for the project"),
        "{detail}"
    );
    service.await.unwrap();
}

#[tokio::test]
async fn session_closed_expired_mid_call_ends_the_agent_with_its_reason_and_usage() {
    let (url, service) = peer(|mut ws, _| async move {
        send(
            &mut ws,
            "session.started",
            json!({"event_id": "event_1", "session": session()}),
        )
        .await;
        for _ in 0..5 {
            send(
                &mut ws,
                "session.output_audio.delta",
                json!({"delta": "/////////////////////w=="}),
            )
            .await;
        }
        send(
            &mut ws,
            "session.closed",
            json!({"event_id": "event_9", "reason": "expired",
            "session": session(), "usage": {"seconds": 3600, "active_seconds": 3500}}),
        )
        .await;
        while next_event(&mut ws).await.is_some() {}
    })
    .await;
    let report = call(agent(&url), Tools::new(), None).await;
    let EndReason::AgentEnded {
        end: LegEnd::Error { code, message },
    } = &report.outcome.reason
    else {
        panic!("{}", report.outcome)
    };
    assert_eq!(code.as_deref(), Some("expired"));
    assert!(message.contains("duration limit"), "{message}");
    let usage = report.agent_usage.as_ref().expect("the final usage");
    assert_eq!(
        (usage.session_seconds, usage.active_seconds),
        (Some(3600.0), Some(3500))
    );
    service.await.unwrap();
}

#[tokio::test]
async fn a_client_delegation_is_a_tool_call_answered_as_commentary() {
    let (answered, on_answer) = oneshot::channel();
    let (url, service) = peer(|mut ws, start| async move {
        // Client delegation: the default, so the session names none.
        assert!(start["session"].get("delegation").is_none(), "{start}");
        send(
            &mut ws,
            "session.started",
            json!({"event_id": "event_1", "session": session()}),
        )
        .await;
        send(
            &mut ws,
            "session.input_transcript.delta",
            json!({"event_id": "event_2",
            "delta": "where is my order", "start_ms": 0, "end_ms": 800}),
        )
        .await;
        send(
            &mut ws,
            "session.delegation.created",
            json!({"event_id": "event_3", "offset_ms": 900,
            "delegation": {"type": "delegation", "id": "item_dlg1", "target": "client"}}),
        )
        .await;
        let commentary = next_event(&mut ws).await.expect("the delegation's answer");
        assert_eq!(
            commentary,
            json!({"type": "session.commentary.append", "delegation_id": "item_dlg1",
                   "content": "Order 123 shipped yesterday."})
        );
        answered.send(()).unwrap();
        let close = next_event(&mut ws).await.expect("session.close");
        assert_eq!(close["type"], "session.close");
        let mut closed = json!({"event_id": "event_9", "reason": "close_requested",
            "session": session(), "usage": {"seconds": 2}});
        closed["client_event_id"] = close["event_id"].clone();
        send(&mut ws, "session.closed", closed).await;
        while next_event(&mut ws).await.is_some() {}
    })
    .await;
    let tools = Tools::new().tool(
        ToolSpec::new(
            "delegate",
            "Handles what the model delegates",
            json!({"type": "object"}),
        ),
        |call| async move {
            assert_eq!(call.arguments, json!({"request": "where is my order"}));
            Ok(ToolReply::new(json!("Order 123 shipped yesterday.")))
        },
    );
    let report = call(agent(&url), tools, Some(on_answer)).await;
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
    assert_eq!(report.tool_calls.len(), 1, "{:?}", report.tool_calls);
    let tool = &report.tool_calls[0];
    assert_eq!(
        (tool.name.as_str(), tool.call_id.as_str()),
        ("delegate", "item_dlg1")
    );
    assert!(matches!(&tool.result, Some(ToolCallResult::Ok { .. })));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    service.await.unwrap();
}
