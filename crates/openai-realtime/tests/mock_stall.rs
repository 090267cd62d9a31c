//! A stalled mock session (a stuck service, a half-open TCP path) seen by a raw client over
//! loopback, on tokio's paused clock: nothing read, nothing sent, pings unanswered, and the
//! held backlog sent at once on resume.
#![cfg(feature = "mock-server")]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use openai_realtime::mock::{Audio, MockServer, Pacing, Script, Turn};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const WAIT: Duration = Duration::from_secs(5);

async fn connect(server: &MockServer) -> Ws {
    let mut request = format!("{}?model=gpt-realtime-2.1", server.url())
        .into_client_request()
        .unwrap();
    request
        .headers_mut()
        .insert("authorization", "Bearer sk-test".parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    ws
}

/// The next frame: a text frame as JSON, or the frame itself.
async fn next(ws: &mut Ws) -> Result<Value, Message> {
    let frame = tokio::time::timeout(WAIT, ws.next())
        .await
        .expect("a frame in time")
        .expect("the socket is open")
        .expect("a good frame");
    match &frame {
        Message::Text(text) => Ok(serde_json::from_str(text.as_str()).unwrap()),
        _ => Err(frame),
    }
}

async fn next_event(ws: &mut Ws) -> Value {
    loop {
        if let Ok(event) = next(ws).await {
            return event;
        }
    }
}

async fn server_with(script: Script) -> MockServer {
    MockServer::builder().script(script).start().await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_stalled_session_reads_nothing_answers_no_ping_and_sends_its_backlog_on_resume() {
    let server = server_with(Script::new().turn(Turn::speech("Hi"))).await;
    let mut ws = connect(&server).await;
    assert_eq!(next_event(&mut ws).await["type"], "session.created");
    let session = server.session(0, WAIT).await.unwrap();

    session.stall().await;
    assert!(session.is_stalled());
    ws.send(Message::Ping("still there?".into())).await.unwrap();
    ws.send(Message::text(
        json!({"type": "response.create", "event_id": "evt_1"}).to_string(),
    ))
    .await
    .unwrap();
    session
        .send_event(json!({"type": "error", "error": {"type": "server_error", "message": "held"}}))
        .await;

    // Thirty seconds of (paused) silence: no pong, no event, the client's frames unread.
    let quiet = tokio::time::timeout(Duration::from_secs(30), ws.next()).await;
    assert!(quiet.is_err(), "a stalled mock sent {quiet:?}");
    assert!(
        session.received().is_empty(),
        "a stalled mock read the socket"
    );

    session.resume().await;
    assert!(!session.is_stalled());
    // What was held goes first, then the mock reads what waited: the ping (answered) and
    // the `response.create` (the scripted answer).
    assert_eq!(next_event(&mut ws).await["error"]["message"], "held");
    let mut pong = false;
    let mut transcript = String::new();
    loop {
        match next(&mut ws).await {
            Err(Message::Pong(payload)) => {
                pong = true;
                assert_eq!(&payload[..], b"still there?");
            }
            Err(other) => panic!("unexpected frame {other:?}"),
            Ok(event) => match event["type"].as_str() {
                Some("response.output_audio_transcript.delta") => {
                    transcript.push_str(event["delta"].as_str().unwrap());
                }
                Some("response.done") => break,
                _ => {}
            },
        }
    }
    assert!(pong, "the ping that waited was answered after resume");
    assert_eq!(transcript, "Hi");
    assert_eq!(session.received_types(), ["response.create"]);
}

#[tokio::test(start_paused = true)]
async fn response_steps_that_fall_due_while_stalled_come_out_at_once_on_resume() {
    // Two seconds of audio in real time: 20 deltas of 100 ms.
    let script = Script::new()
        .turn(Turn::new().say("Hello there", Audio::tone(2000)))
        .pacing(Pacing::RealTime)
        .delta_duration(Duration::from_millis(100));
    let server = server_with(script).await;
    let mut ws = connect(&server).await;
    assert_eq!(next_event(&mut ws).await["type"], "session.created");
    let session = server.session(0, WAIT).await.unwrap();

    ws.send(Message::text(
        json!({"type": "response.create"}).to_string(),
    ))
    .await
    .unwrap();
    let mut read = 1; // session.created
    let mut deltas = 0;
    while next_event(&mut ws).await["type"] != "response.output_audio.delta" {
        read += 1;
    }
    read += 1;
    deltas += 1;
    session.stall().await;
    // What was written before the stall is still on its way: read it.
    for _ in read..session.sent().len() {
        if next_event(&mut ws).await["type"] == "response.output_audio.delta" {
            deltas += 1;
        }
    }

    let quiet = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
    assert!(quiet.is_err(), "a stalled mock sent {quiet:?}");

    session.resume().await;
    let resumed = Instant::now();
    loop {
        let event = next_event(&mut ws).await;
        match event["type"].as_str() {
            Some("response.output_audio.delta") => deltas += 1,
            Some("response.done") => break,
            _ => {}
        }
    }
    assert_eq!(deltas, 20);
    // Everything was due: the backlog needed no waiting on the mock's clock.
    assert!(
        resumed.elapsed() < Duration::from_millis(100),
        "the backlog took {:?}",
        resumed.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn a_close_ordered_while_stalled_is_held_too() {
    let server = MockServer::start().await.unwrap();
    let mut ws = connect(&server).await;
    assert_eq!(next_event(&mut ws).await["type"], "session.created");
    let session = server.session(0, WAIT).await.unwrap();

    session.stall().await;
    session.close(1011, "gave up").await;
    let quiet = tokio::time::timeout(Duration::from_secs(30), ws.next()).await;
    assert!(quiet.is_err(), "a stalled mock sent {quiet:?}");
    assert!(session.server_close().is_none());

    session.resume().await;
    match next(&mut ws).await {
        Err(Message::Close(Some(frame))) => assert_eq!(u16::from(frame.code), 1011),
        other => panic!("expected the held close, got {other:?}"),
    }
}
