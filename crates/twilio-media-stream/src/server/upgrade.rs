//! The WebSocket upgrade of a media stream over hyper: the handshake's checks, the `101`
//! answer, and the socket once the connection is handed over.

use std::error::Error as StdError;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::{Sink, Stream};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode, header};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::DEFAULT_MAX_FRAME_LEN;
use crate::socket::{Frame, Outgoing, TungsteniteSocket};

use super::{Refusal, Verifier};

/// The WebSocket read buffer of an accepted media stream: Twilio's frames are a few
/// hundred bytes (a 20 ms `media` about 400), so 2 KiB holds several per read.
const READ_BUFFER_SIZE: usize = 2 * 1024;

/// The server side of an accepted media stream: reads [`Frame`]s and writes [`Outgoing`]
/// frames (a futures `Stream` and `Sink`), ready for `voice_bridge::TwilioLeg::new` or
/// your own loop over [`StreamEvent`](crate::StreamEvent)s.
///
/// Closing it sends a close frame with code 1000, unless an [`Outgoing::Close`] was
/// written first; after the peer's close frame, closing sends the answer to it (the peer's
/// code echoed, RFC 6455 section 5.5.1). Errors are [`SocketError`]s.
///
/// The WebSocket library underneath is ours to choose and change: this type stays.
///
/// ```no_run
/// use futures_util::{SinkExt as _, StreamExt as _};
/// use twilio_media_stream::server::{MediaSocket, SocketError};
/// use twilio_media_stream::socket::{Frame, Outgoing};
/// use twilio_media_stream::{StreamCommand, StreamEvent};
///
/// async fn run(mut socket: MediaSocket) -> Result<(), SocketError> {
///     while let Some(frame) = socket.next().await {
///         let Frame::Text(text) = frame? else { continue };
///         match StreamEvent::decode(&text) {
///             Ok(StreamEvent::Start(start)) => {
///                 let mark = StreamCommand::mark(start.stream_sid, "hello");
///                 socket.send(Outgoing::Text(mark.encode())).await?;
///             }
///             Ok(StreamEvent::Stop(_)) => break,
///             Ok(_) => {}
///             Err(error) => tracing::warn!(%error, "skipped a frame"),
///         }
///     }
///     socket.close().await
/// }
/// ```
pub struct MediaSocket {
    inner: TungsteniteSocket<TokioIo<Upgraded>>,
}

impl fmt::Debug for MediaSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MediaSocket").finish_non_exhaustive()
    }
}

impl Stream for MediaSocket {
    type Item = Result<Frame, SocketError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.inner)
            .poll_next(cx)
            .map(|item| item.map(|frame| frame.map_err(SocketError)))
    }
}

impl Sink<Outgoing> for MediaSocket {
    type Error = SocketError;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.inner)
            .poll_ready(cx)
            .map_err(SocketError)
    }

    fn start_send(mut self: Pin<&mut Self>, frame: Outgoing) -> Result<(), Self::Error> {
        Pin::new(&mut self.inner)
            .start_send(frame)
            .map_err(SocketError)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.inner)
            .poll_flush(cx)
            .map_err(SocketError)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Pin::new(&mut self.inner)
            .poll_close(cx)
            .map_err(SocketError)
    }
}

/// A [`MediaSocket`] that failed: the connection broke, the peer broke the WebSocket
/// protocol, or a message was over the size limit ([`PendingStream::max_frame_len`]).
///
/// Its text is the WebSocket library's; [`message_too_big`](Self::message_too_big) tells
/// the one case a call needs to tell apart.
pub struct SocketError(tungstenite::Error);

impl SocketError {
    /// The size of a message refused as too big and the limit it broke, in bytes.
    pub fn message_too_big(&self) -> Option<(usize, usize)> {
        match &self.0 {
            tungstenite::Error::Capacity(CapacityError::MessageTooLong { size, max_size }) => {
                Some((*size, *max_size))
            }
            _ => None,
        }
    }
}

impl fmt::Debug for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("SocketError").field(&self.0).finish()
    }
}

// The library's own text and causes: the error stands in for it, saying nothing twice.
impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl StdError for SocketError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source()
    }
}

/// The upgrade of an accepted media stream did not complete ([`PendingStream::socket`]):
/// the client went away before it, or the answer sent was not the `101`. The cause is the
/// HTTP library's error.
#[derive(Debug, thiserror::Error)]
#[error("the media stream's WebSocket upgrade did not complete")]
pub struct UpgradeError {
    #[source]
    source: hyper::Error,
}

/// Checks a media stream's upgrade request against `X-Twilio-Signature`
/// ([`Verifier::check_stream`]), then prepares the `101 Switching Protocols` answer.
/// Return the answer from your handler, and await [`PendingStream::socket`] on a task
/// (the connection is handed over only after the answer is sent).
///
/// `R` is your framework's body type (axum's `Body`, `String`, `http_body_util::Empty`):
/// anything with a `Default`, the empty body of the `101`.
///
/// # Errors
///
/// A [`Refusal`] to send back as is: 403 for a missing or wrong signature (checked
/// first, so an unsigned prober learns nothing else), 426 for a request that is not a
/// WebSocket upgrade or a connection that cannot be upgraded (not HTTP/1.1, or not from
/// hyper), 400 for a malformed handshake.
///
/// # Examples
///
/// See the [module docs](super) for an axum route. With hyper alone:
///
/// ```no_run
/// use hyper::body::Incoming;
/// use twilio_media_stream::server::{self, Verifier};
///
/// fn handle(mut request: hyper::Request<Incoming>, verifier: &Verifier) -> hyper::Response<String> {
///     match server::accept(&mut request, verifier) {
///         Ok((response, pending)) => {
///             tokio::spawn(async move {
///                 match pending.socket().await {
///                     // Read Twilio's messages from `socket`.
///                     Ok(socket) => drop(socket),
///                     Err(error) => tracing::warn!(%error, "media stream upgrade failed"),
///                 }
///             });
///             response
///         }
///         Err(refusal) => refusal.into_response(),
///     }
/// }
/// ```
pub fn accept<B, R: Default>(
    request: &mut Request<B>,
    verifier: &Verifier,
) -> Result<(Response<R>, PendingStream), Refusal> {
    verifier.check_stream(request)?;
    accept_unsigned(request)
}

/// As [`accept`], without checking the signature: for tests, or a server that only
/// listens on loopback. Anyone who can reach it can open a stream.
///
/// # Errors
///
/// As [`accept`], without the 403.
pub fn accept_unsigned<B, R: Default>(
    request: &mut Request<B>,
) -> Result<(Response<R>, PendingStream), Refusal> {
    let key = websocket_key(request.headers())?;
    let on_upgrade = request.extensions_mut().remove::<OnUpgrade>().ok_or_else(|| {
        Refusal::new(
            StatusCode::UPGRADE_REQUIRED,
            "this connection cannot be upgraded (HTTP/1.1 through hyper with upgrades required)",
        )
    })?;
    let mut response = Response::new(R::default());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    let accept = derive_accept_key(key.as_bytes());
    let accept = HeaderValue::from_str(&accept).map_err(|err| {
        Refusal::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot build the upgrade answer: {err}"),
        )
    })?;
    headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    Ok((
        response,
        PendingStream {
            on_upgrade,
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
        },
    ))
}

/// A media stream whose `101` answer is on its way: await [`socket`](Self::socket).
#[derive(Debug)]
pub struct PendingStream {
    on_upgrade: OnUpgrade,
    max_frame_len: usize,
}

impl PendingStream {
    /// Refuses WebSocket messages and frames over `limit` bytes (the socket then fails).
    /// Default [`DEFAULT_MAX_FRAME_LEN`], the codec's own limit.
    #[must_use]
    pub fn max_frame_len(mut self, limit: usize) -> Self {
        self.max_frame_len = limit;
        self
    }

    /// Waits for hyper to hand the connection over, and wraps it as the server side of a
    /// WebSocket.
    ///
    /// # Errors
    ///
    /// The client went away before the upgrade completed, or the answer was not a `101`.
    pub async fn socket(self) -> Result<MediaSocket, UpgradeError> {
        let upgraded = self
            .on_upgrade
            .await
            .map_err(|source| UpgradeError { source })?;
        // A small read buffer instead of tungstenite's 128 KiB default, which it zero-fills
        // before every read (BENCHMARKS.md: 37 % of a bridge's CPU at 128 KiB, 40 % of its
        // instructions still at 16 KiB) and which costs memory per call.
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_SIZE)
            .max_message_size(Some(self.max_frame_len))
            .max_frame_size(Some(self.max_frame_len));
        let ws =
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await;
        Ok(MediaSocket {
            inner: TungsteniteSocket::new(ws),
        })
    }
}

/// The handshake's headers (RFC 6455 section 4.2.1): `Upgrade: websocket`,
/// `Connection: upgrade`, version 13 and a key.
fn websocket_key(headers: &HeaderMap) -> Result<HeaderValue, Refusal> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has_token(header::UPGRADE, "websocket") || !has_token(header::CONNECTION, "upgrade") {
        return Err(Refusal::new(
            StatusCode::UPGRADE_REQUIRED,
            "this is a media-stream WebSocket endpoint: upgrade to websocket",
        ));
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Version must be 13",
        ));
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .filter(|key| !key.is_empty())
        .cloned()
        .ok_or_else(|| Refusal::new(StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handshake() -> http::request::Builder {
        handshake_version("13")
    }

    fn handshake_version(version: &str) -> http::request::Builder {
        Request::get("/media-stream")
            .header("upgrade", "websocket")
            .header("connection", "keep-alive, Upgrade")
            .header("sec-websocket-version", version)
            .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    }

    #[test]
    fn malformed_handshakes_are_named() {
        let cases = [
            (
                Request::get("/media-stream"),
                StatusCode::UPGRADE_REQUIRED,
                "upgrade to websocket",
            ),
            (
                handshake_version("8"),
                StatusCode::BAD_REQUEST,
                "Version must be 13",
            ),
        ];
        for (builder, status, reason) in cases {
            let mut request = builder.body(()).unwrap();
            let refusal = accept_unsigned::<_, String>(&mut request).unwrap_err();
            assert_eq!(refusal.status, status, "{refusal}");
            assert!(refusal.reason.contains(reason), "{refusal}");
        }
        let mut no_key = Request::get("/media-stream")
            .header("upgrade", "websocket")
            .header("connection", "upgrade")
            .header("sec-websocket-version", "13")
            .body(())
            .unwrap();
        let refusal = accept_unsigned::<_, String>(&mut no_key).unwrap_err();
        assert!(refusal.reason.contains("Key is missing"), "{refusal}");
    }

    #[test]
    fn a_request_not_from_hyper_cannot_be_upgraded() {
        let mut request = handshake().body(()).unwrap();
        let refusal = accept_unsigned::<_, String>(&mut request).unwrap_err();
        assert_eq!(refusal.status, StatusCode::UPGRADE_REQUIRED);
        assert!(refusal.reason.contains("cannot be upgraded"), "{refusal}");
    }
}
