//! The simulator's incoming call against a real inbound server on loopback: the signed
//! voice webhook, the TwiML answer, and the stream that answer opens.
#![cfg(all(feature = "server", feature = "simulator"))]

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::sync::mpsc;
use twilio_media_stream::StreamEvent;
use twilio_media_stream::callback::VoiceWebhook;
use twilio_media_stream::event::StartMetadata;
use twilio_media_stream::server::{self, PublicBase, Verifier};
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallEnd, IncomingCall, IncomingCallError};
use twilio_media_stream::socket::Frame;
use twilio_media_stream::twiml::{Connect, Stream, VoiceResponse};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";
const PUBLIC: &str = "bot.example.com";

struct Inbound {
    verifier: Verifier,
    calls: mpsc::UnboundedSender<VoiceWebhook>,
    starts: mpsc::UnboundedSender<StartMetadata>,
}

/// An inbound bot's two routes: the voice webhook answers `<Connect><Stream>` with the
/// caller's number as a parameter; the stream route reads up to `start` and hangs up.
async fn serve() -> (
    String,
    mpsc::UnboundedReceiver<VoiceWebhook>,
    mpsc::UnboundedReceiver<StartMetadata>,
) {
    let (calls, calls_rx) = mpsc::unbounded_channel();
    let (starts, starts_rx) = mpsc::unbounded_channel();
    let verifier = Verifier::new(AuthToken::new(TOKEN), PublicBase::parse(PUBLIC).unwrap());
    let app = axum::Router::new()
        .route("/voice", post(voice))
        .route("/media-stream", get(media_stream))
        .with_state(Arc::new(Inbound {
            verifier,
            calls,
            starts,
        }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("127.0.0.1:{}", addr.port()), calls_rx, starts_rx)
}

async fn voice(
    State(app): State<Arc<Inbound>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = app.verifier.check_webhook(&uri, &headers, &body) {
        return (StatusCode::FORBIDDEN, refusal.to_string()).into_response();
    }
    let call = match VoiceWebhook::from_form(form_urlencoded::parse(&body)) {
        Ok(call) => call,
        Err(err) => return (StatusCode::BAD_REQUEST, err.to_string()).into_response(),
    };
    let stream =
        Stream::new(format!("wss://{PUBLIC}/media-stream")).parameter("caller", &call.from);
    let twiml = VoiceResponse::new()
        .connect(Connect::new().stream(stream))
        .to_xml();
    app.calls.send(call).unwrap();
    ([("content-type", "text/xml")], twiml).into_response()
}

async fn media_stream(State(app): State<Arc<Inbound>>, mut request: Request) -> Response {
    match server::accept::<_, Body>(&mut request, &app.verifier) {
        Err(refusal) => refusal.into_response(),
        Ok((response, pending)) => {
            tokio::spawn(async move {
                let mut socket = pending.socket().await.unwrap();
                while let Some(Ok(Frame::Text(text))) = socket.next().await {
                    if let Ok(StreamEvent::Start(start)) = StreamEvent::decode(&text) {
                        app.starts.send(start.start).unwrap();
                        break;
                    }
                }
                // The bot hangs up: Twilio's side sees the socket close.
                let _ = socket.close().await;
            });
            response
        }
    }
}

#[tokio::test]
async fn an_incoming_call_rings_the_webhook_and_follows_its_stream() {
    let (addr, mut calls, mut starts) = serve().await;
    let token = AuthToken::new(TOKEN);
    let answer = IncomingCall::new(format!("http://{addr}/voice"))
        .auth_token(token.clone())
        .signature_url(format!("https://{PUBLIC}/voice"))
        .from("+14155550123")
        .param("CallerName", "Jane Doe")
        .ring()
        .await
        .unwrap();
    assert_eq!(answer.status, 200, "{}", answer.twiml);
    assert_eq!(answer.verbs, ["Connect"]);
    let webhook = calls.recv().await.unwrap();
    assert!(webhook.is_inbound());
    assert_eq!(webhook.caller_name.as_deref(), Some("Jane Doe"));

    let record = answer
        .stream_call(&format!("ws://{addr}"))
        .unwrap()
        .auth_token(token)
        .max_duration(Duration::from_secs(10))
        .run()
        .await
        .unwrap();
    assert_eq!(record.end, CallEnd::ServerClosed);
    let start = starts.recv().await.unwrap();
    assert_eq!(
        start.call_sid, webhook.call_sid,
        "the stream belongs to the call that rang"
    );
    assert_eq!(start.custom_parameters["caller"], "+14155550123");
}

#[tokio::test]
async fn a_forged_webhook_gets_the_servers_403_and_no_stream() {
    let (addr, mut calls, _starts) = serve().await;
    let answer = IncomingCall::new(format!("http://{addr}/voice"))
        .auth_token(AuthToken::new("ffffffffffffffffffffffffffffffff"))
        .signature_url(format!("https://{PUBLIC}/voice"))
        .ring()
        .await
        .unwrap();
    assert_eq!(answer.status, 403);
    assert!(
        answer.twiml.contains("X-Twilio-Signature"),
        "{}",
        answer.twiml
    );
    assert_eq!(answer.stream, None);
    // The refusal, not a missing <Stream>, is what the test's author needs to read.
    let Err(IncomingCallError::Refused { status, body }) =
        answer.stream_call(&format!("ws://{addr}"))
    else {
        panic!("a refused webhook is Refused");
    };
    assert_eq!(status, 403);
    assert!(body.contains("X-Twilio-Signature"), "{body}");
    assert!(calls.try_recv().is_err(), "the bot never saw a call");
}

#[tokio::test]
async fn an_https_or_unreachable_voice_url_is_a_typed_error() {
    let https = IncomingCall::new("https://bot.example.com/voice")
        .ring()
        .await;
    assert!(
        matches!(https, Err(IncomingCallError::Url { .. })),
        "{https:?}"
    );

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener); // nothing listens there now
    let refused = IncomingCall::new(format!("http://127.0.0.1:{port}/voice"))
        .ring()
        .await
        .unwrap_err();
    assert!(
        matches!(refused, IncomingCallError::Post { .. }),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("/voice"), "{refused}");
}
