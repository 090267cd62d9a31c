//! The Twilio leg's closing handshakes and failure texts, over loopback with a raw
//! tokio-tungstenite client playing Twilio: the peer's close is answered, `stop` and a
//! too-big message are closed with the right code and reason, and a failure's text names
//! each cause once. Over the protocol crate's `MediaSocket` (an axum route), and with
//! feature `tokio-tungstenite-0_30` over a tokio-tungstenite socket accepted by hand.
#![cfg(feature = "twilio")]

use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::{Router, routing::get};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use twilio_media_stream::StreamSid;
use twilio_media_stream::event::{Connected, Start, Stop, StreamEvent};
use voice_bridge::adapter::twilio::{Frame, Outgoing};
use voice_bridge::twilio_media_stream::server;
use voice_bridge::{CallEvent, CallLeg, LegEnd, LegError, TwilioLeg};

const WAIT: Duration = Duration::from_secs(10);
const SID: &str = "MZ00000000000000000000000000000043";
/// The server's message limit in these tests (`serve` uses 1 MiB the same way).
const LIMIT: usize = 64 * 1024;

type Client = WebSocketStream<TcpStream>;

/// How the served leg ended: its last event, or the error `recv` returned.
type Served = Result<LegEnd, LegError>;

/// The socket under the leg.
#[derive(Debug, Clone, Copy)]
enum Via {
    /// The protocol crate's `MediaSocket`, from `server::accept_unsigned` in an axum route.
    MediaSocket,
    /// A tokio-tungstenite socket accepted by hand (feature `tokio-tungstenite-0_30`).
    #[cfg(feature = "tokio-tungstenite-0_30")]
    Tungstenite,
}

/// Every socket the leg is tested over.
fn vias() -> Vec<Via> {
    vec![
        Via::MediaSocket,
        #[cfg(feature = "tokio-tungstenite-0_30")]
        Via::Tungstenite,
    ]
}

/// Reads the leg to its end and drops it, as the bridge does.
async fn read_to_end<S, E>(mut leg: TwilioLeg<S>) -> Served
where
    S: futures_util::Stream<Item = Result<Frame, E>> + futures_util::Sink<Outgoing> + Send + Unpin,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
    <S as futures_util::Sink<Outgoing>>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    loop {
        match leg.recv().await {
            Ok(CallEvent::Ended(end)) => return Ok(end),
            Ok(_) => {}
            Err(error) => return Err(error),
        }
    }
}

/// A leg on 127.0.0.1 port 0 (message limit [`LIMIT`]) over `via`, read to its end; the
/// client's TCP connection and WebSocket.
async fn serve(via: Via) -> (Client, tokio::task::JoinHandle<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = match via {
        Via::MediaSocket => {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let tx = std::sync::Arc::new(std::sync::Mutex::new(Some(tx)));
            let route = move |mut request: Request| {
                let tx = tx.clone();
                async move {
                    let (response, pending) =
                        server::accept_unsigned::<_, Body>(&mut request).unwrap();
                    tokio::spawn(async move {
                        let socket = pending.max_frame_len(LIMIT).socket().await.unwrap();
                        let served = read_to_end(TwilioLeg::new(socket)).await;
                        let _ = tx.lock().unwrap().take().unwrap().send(served);
                    });
                    response
                }
            };
            let app = Router::new().route("/media-stream", get(route));
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
            tokio::spawn(async move { rx.await.unwrap() })
        }
        #[cfg(feature = "tokio-tungstenite-0_30")]
        Via::Tungstenite => tokio::spawn(async move {
            use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
            let (tcp, _) = listener.accept().await.unwrap();
            let config = WebSocketConfig::default()
                .max_message_size(Some(LIMIT))
                .max_frame_size(Some(LIMIT));
            let ws = tokio_tungstenite::accept_async_with_config(tcp, Some(config))
                .await
                .unwrap();
            read_to_end(TwilioLeg::from_websocket(ws)).await
        }),
    };
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (client, _) = tokio_tungstenite::client_async(format!("ws://{addr}/media-stream"), tcp)
        .await
        .unwrap();
    (client, task)
}

async fn send(client: &mut Client, event: StreamEvent) {
    client.send(Message::text(event.encode())).await.unwrap();
}

/// `connected`, then `start`.
async fn open(client: &mut Client) {
    send(client, Connected::new().into()).await;
    let start = Start::new(1, StreamSid::new(SID), "AC1".into(), "CA1".into());
    send(client, start.into()).await;
}

/// Reads until the server's close frame, then on to the end (which sends the client's
/// reply); the frame's code and reason, `None` if it had none.
async fn server_close(client: &mut Client) -> Option<CloseFrame> {
    let read = async {
        while let Some(message) = client.next().await {
            match message {
                Ok(Message::Close(frame)) => {
                    while client.next().await.is_some() {}
                    return frame;
                }
                Ok(_) => {}
                Err(error) => panic!("the connection failed before a close frame: {error}"),
            }
        }
        panic!("the connection ended without a close frame")
    };
    tokio::time::timeout(WAIT, read)
        .await
        .expect("a close frame in time")
}

async fn served(task: tokio::task::JoinHandle<Served>) -> Served {
    tokio::time::timeout(WAIT, task)
        .await
        .expect("the leg ends in time")
        .unwrap()
}

#[tokio::test]
async fn the_peers_close_is_answered_with_its_code() {
    for via in vias() {
        let (mut client, task) = serve(via).await;
        open(&mut client).await;
        client
            .close(Some(CloseFrame {
                code: CloseCode::Away,
                reason: "caller went away".into(),
            }))
            .await
            .unwrap();
        // RFC 6455 section 5.5.1: the answer echoes the code.
        let answer = server_close(&mut client).await.expect("a close code");
        assert_eq!(answer.code, CloseCode::Away, "{answer:?}");
        let end = served(task).await.unwrap();
        assert_eq!(
            end,
            LegEnd::Closed {
                code: Some(1001),
                reason: "caller went away".into()
            }
        );
    }
}

#[tokio::test]
async fn stop_is_followed_by_a_normal_close() {
    for via in vias() {
        let (mut client, task) = serve(via).await;
        open(&mut client).await;
        let stop = Stop::new(2, StreamSid::new(SID), "AC1".into(), "CA1".into());
        send(&mut client, stop.into()).await;
        let close = server_close(&mut client).await.expect("a close code");
        assert_eq!(
            (close.code, close.reason.as_str()),
            (CloseCode::Normal, "stream stopped")
        );
        assert_eq!(served(task).await.unwrap(), LegEnd::Finished);
    }
}

#[tokio::test]
async fn a_too_big_message_is_closed_with_1009_and_named_once() {
    for via in vias() {
        let (mut client, task) = serve(via).await;
        open(&mut client).await;
        let size = LIMIT + 1000;
        let huge = format!(r#"{{"event":"media","pad":"{}"}}"#, "x".repeat(size - 26));
        assert_eq!(huge.len(), size);
        client.send(Message::text(huge)).await.unwrap();
        let close = server_close(&mut client).await.expect("a close code");
        assert_eq!(close.code, CloseCode::Size, "{close:?}");
        assert_eq!(
            close.reason.as_str(),
            format!("message of {size} bytes exceeds the limit of {LIMIT} bytes")
        );

        let error = served(task).await.expect_err("the leg fails");
        let LegEnd::Failed { message } = LegEnd::from(&error) else {
            unreachable!()
        };
        assert!(
            message.starts_with("twilio media-stream message too big; closed with 1009"),
            "{message}"
        );
        let cause = format!("Message too long: {size} > {LIMIT}");
        assert_eq!(message.matches(&cause).count(), 1, "{message}");
    }
}

#[tokio::test]
async fn a_reset_connection_names_its_cause_once() {
    for via in vias() {
        let (mut client, task) = serve(via).await;
        open(&mut client).await;
        // Linger 0: closing the socket resets the connection instead of closing it.
        #[allow(deprecated)]
        // a zero linger never blocks the thread on drop, the deprecation's reason
        client.get_ref().set_linger(Some(Duration::ZERO)).unwrap();
        drop(client);

        let error = served(task).await.expect_err("the leg fails");
        let LegEnd::Failed { message } = LegEnd::from(&error) else {
            unreachable!()
        };
        assert!(
            message.starts_with("twilio media-stream socket failed"),
            "{message}"
        );
        assert_eq!(
            message.matches("Connection reset by peer").count(),
            1,
            "{message}"
        );
    }
}
