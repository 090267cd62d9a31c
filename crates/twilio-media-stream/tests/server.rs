//! The `server` module on loopback: hyper serves `accept` on 127.0.0.1 port 0, and the
//! simulator (Twilio's side of the handshake, signed like Twilio) connects to it.
#![cfg(all(feature = "server", feature = "simulator"))]

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use twilio_media_stream::server::{self, PendingStream, PublicBase, Verifier};
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallEnd, CallScript};
use twilio_media_stream::socket::{Frame, Outgoing};
use twilio_media_stream::{StreamCommand, StreamEvent};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const WAIT: Duration = Duration::from_secs(10);

/// What the server saw: each refusal's status, or the events of an accepted stream.
#[derive(Debug)]
enum Seen {
    Refused(u16, String),
    Stream(Vec<String>),
    /// A socket error: its text, and the size and limit of a message refused as too big.
    Failed(String, Option<(usize, usize)>),
}

/// Serves `accept` with this verifier (or unsigned) on loopback; reports what it saw.
async fn serve(verifier: Option<Verifier>) -> (String, mpsc::UnboundedReceiver<Seen>) {
    serve_with(verifier, |pending, tx| async move {
        let mut socket = pending.socket().await.unwrap();
        let mut events = Vec::new();
        while let Some(Ok(frame)) = socket.next().await {
            if let Frame::Text(text) = frame {
                let event = StreamEvent::decode(&text).unwrap();
                events.push(event.event_type().to_owned());
            }
        }
        let _ = tx.send(Seen::Stream(events));
    })
    .await
}

/// Serves `accept` on loopback; each accepted stream goes to `on_stream` on its own task.
async fn serve_with<F, Fut>(
    verifier: Option<Verifier>,
    on_stream: F,
) -> (String, mpsc::UnboundedReceiver<Seen>)
where
    F: Fn(PendingStream, mpsc::UnboundedSender<Seen>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    let verifier = Arc::new(verifier);
    let on_stream = Arc::new(on_stream);
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (tx, verifier, on_stream) = (tx.clone(), verifier.clone(), on_stream.clone());
            let service = service_fn(move |mut request: hyper::Request<Incoming>| {
                let (tx, verifier, on_stream) = (tx.clone(), verifier.clone(), on_stream.clone());
                async move {
                    let accepted = match verifier.as_ref() {
                        Some(verifier) => server::accept::<_, String>(&mut request, verifier),
                        None => server::accept_unsigned(&mut request),
                    };
                    let response = match accepted {
                        Err(refusal) => {
                            let _ = tx.send(Seen::Refused(
                                refusal.status.as_u16(),
                                refusal.reason.clone(),
                            ));
                            refusal.into_response()
                        }
                        Ok((response, pending)) => {
                            tokio::spawn(on_stream(pending, tx));
                            response
                        }
                    };
                    Ok::<_, std::convert::Infallible>(response)
                }
            });
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service)
                    .with_upgrades()
                    .await;
            });
        }
    });
    (url, rx)
}

fn verifier() -> Verifier {
    Verifier::new(
        AuthToken::new(TOKEN),
        PublicBase::parse("bot.example.com").unwrap(),
    )
}

fn script(url: &str) -> CallScript {
    CallScript::new(url)
        .hang_up_after(Duration::from_millis(100))
        .max_duration(Duration::from_secs(5))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_stream_is_upgraded_and_reads_twilios_messages() {
    let (url, mut seen) = serve(Some(verifier())).await;
    let record = tokio::time::timeout(
        WAIT,
        script(&url)
            .auth_token(AuthToken::new(TOKEN))
            .signature_url("wss://bot.example.com/media-stream")
            .run(),
    )
    .await
    .unwrap()
    .expect("the upgrade is accepted");
    assert_eq!(record.end, CallEnd::HungUp);
    let Some(Seen::Stream(events)) = seen.recv().await else {
        panic!("no stream")
    };
    assert_eq!(events.first().map(String::as_str), Some("connected"));
    assert_eq!(events.get(1).map(String::as_str), Some("start"));
    assert_eq!(events.last().map(String::as_str), Some("stop"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_forged_and_misdirected_streams_get_403_with_the_reason() {
    let (url, mut seen) = serve(Some(verifier())).await;
    let cases = [
        (
            None,
            "wss://bot.example.com/media-stream",
            "no X-Twilio-Signature",
        ),
        (
            Some("ffffffffffffffffffffffffffffffff"),
            "wss://bot.example.com/media-stream",
            "does not match",
        ),
        (
            Some(TOKEN),
            "wss://other.example.com/media-stream",
            "does not match",
        ),
        (
            Some(TOKEN),
            "https://bot.example.com/media-stream",
            "does not match",
        ),
    ];
    for (token, signed_url, reason) in cases {
        let mut call = script(&url).signature_url(signed_url);
        if let Some(token) = token {
            call = call.auth_token(AuthToken::new(token));
        }
        let err = tokio::time::timeout(WAIT, call.run())
            .await
            .unwrap()
            .expect_err("refused");
        assert_eq!(err.status(), Some(403), "{signed_url}: {err}");
        let body = err.body().unwrap_or_default();
        assert!(body.contains(reason), "{signed_url}: {body}");
        assert!(
            body.contains("wss://bot.example.com/media-stream") || token.is_none(),
            "names the URL checked: {body}"
        );
        assert!(!body.contains(TOKEN), "{body}");
        let Some(Seen::Refused(403, logged)) = seen.recv().await else {
            panic!("{signed_url}: not refused")
        };
        assert_eq!(logged, body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_server_accepts_any_stream() {
    let (url, mut seen) = serve(None).await;
    tokio::time::timeout(WAIT, script(&url).run())
        .await
        .unwrap()
        .expect("accepted");
    assert!(matches!(seen.recv().await, Some(Seen::Stream(_))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_media_socket_writes_twilio_commands_and_closes_with_its_code() {
    let (url, _seen) = serve_with(None, |pending, _tx| async move {
        let mut socket = pending.socket().await.unwrap();
        while let Some(Ok(frame)) = socket.next().await {
            let Frame::Text(text) = frame else { continue };
            if let Ok(StreamEvent::Start(start)) = StreamEvent::decode(&text) {
                let mark = StreamCommand::mark(start.stream_sid, "greeting");
                socket.send(Outgoing::Text(mark.encode())).await.unwrap();
                let reason = "forbidden: no customer".to_owned();
                socket
                    .send(Outgoing::Close { code: 1008, reason })
                    .await
                    .unwrap();
                socket.close().await.unwrap();
                // Read up to the peer's reply, so the connection ends without a reset.
                while let Some(Ok(_)) = socket.next().await {}
                return;
            }
        }
    })
    .await;
    let record = tokio::time::timeout(WAIT, script(&url).hang_up_after(WAIT).run())
        .await
        .unwrap()
        .expect("accepted");
    assert_eq!(record.end, CallEnd::ServerClosed, "{record:?}");
    assert_eq!(record.mark_names(), ["greeting"]);
    let close = record.close.expect("a close frame");
    assert_eq!(
        (close.code, close.reason.as_str()),
        (1008, "forbidden: no customer")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_is_a_socket_error_with_its_size() {
    const LIMIT: usize = 100;
    let (url, mut seen) = serve_with(None, |pending, tx| async move {
        let mut socket = pending.max_frame_len(LIMIT).socket().await.unwrap();
        let mut events = Vec::new();
        while let Some(frame) = socket.next().await {
            match frame {
                Ok(Frame::Text(text)) => {
                    events.push(StreamEvent::decode(&text).unwrap().event_type().to_owned());
                }
                Ok(_) => {}
                Err(error) => {
                    let _ = tx.send(Seen::Stream(events));
                    let _ = tx.send(Seen::Failed(error.to_string(), error.message_too_big()));
                    return;
                }
            }
        }
        let _ = tx.send(Seen::Stream(events));
    })
    .await;
    let _ = tokio::time::timeout(WAIT, script(&url).run())
        .await
        .unwrap();
    // `connected` fits in 100 bytes; `start` does not.
    let Some(Seen::Stream(events)) = seen.recv().await else {
        panic!("no stream")
    };
    assert_eq!(events, ["connected"]);
    let Some(Seen::Failed(text, too_big)) = seen.recv().await else {
        panic!("no socket error")
    };
    let (size, limit) = too_big.unwrap_or_else(|| panic!("not a size error: {text}"));
    assert_eq!(limit, LIMIT, "{text}");
    assert!(size > LIMIT, "{size}: {text}");
    assert!(text.contains(&size.to_string()), "{text}");
}
