//! Accepting a Twilio media stream on an axum route: `X-Twilio-Signature` checked on the
//! upgrade request (403 with the reason otherwise), then a tokio-tungstenite WebSocket, the
//! same version the crates use, over hyper's upgraded connection.
//!
//! Generic (nothing here is about appointments): it belongs next to the Twilio adapter in
//! a crate; it lives here until one has it.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use twilio_media_stream::signature::{RequestValidator, SIGNATURE_HEADER};

/// The WebSocket of an accepted media stream.
pub type MediaSocket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Largest frame accepted from Twilio: the crate's decode limit.
const MAX_FRAME: usize = twilio_media_stream::DEFAULT_MAX_FRAME_LEN;

/// Why an upgrade request was refused: answered with `status` and `reason` as the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// 403 for a signature problem, 400/426 for a request that is not a WebSocket upgrade.
    pub status: StatusCode,
    /// What was wrong (names the URL checked, never a secret).
    pub reason: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.status, self.reason).into_response()
    }
}

/// How the upgrade's signature is checked.
#[derive(Debug, Clone, Copy)]
pub enum Check<'a> {
    /// Against this validator, for this public `wss://` URL (the `<Stream url>`).
    Signed(&'a RequestValidator, &'a str),
    /// Not at all (loopback-only serving without an auth token).
    Unsigned,
}

/// Checks the upgrade request and prepares the `101 Switching Protocols` answer. Await the
/// returned [`Pending`] after sending the answer to get the socket.
///
/// # Errors
///
/// A [`Refusal`]: not a WebSocket upgrade (400/426), or a missing or wrong signature (403).
pub fn accept(
    request: &mut Request<Body>,
    check: Check<'_>,
) -> Result<(Response, Pending), Refusal> {
    let headers = request.headers();
    if let Check::Signed(validator, url) = check {
        let signature = headers
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        validator
            .validate_websocket(url, signature)
            .map_err(|err| Refusal {
                status: StatusCode::FORBIDDEN,
                reason: format!("forbidden: {err}"),
            })?;
    }
    let key = websocket_key(headers)?;
    let on_upgrade = request
        .extensions_mut()
        .remove::<OnUpgrade>()
        .ok_or_else(|| Refusal {
            status: StatusCode::UPGRADE_REQUIRED,
            reason: "this connection cannot be upgraded (HTTP/1.1 required)".to_owned(),
        })?;
    let accept = derive_accept_key(key.as_bytes());
    let response = Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Body::empty())
        .map_err(|err| Refusal {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            reason: format!("cannot build the upgrade answer: {err}"),
        })?;
    Ok((response, Pending(on_upgrade)))
}

/// The socket, once the `101` answer has gone out.
#[derive(Debug)]
pub struct Pending(OnUpgrade);

impl Pending {
    /// Waits for the upgrade and wraps the connection as a server-side WebSocket.
    ///
    /// # Errors
    ///
    /// The client went away before the upgrade completed.
    pub async fn socket(self) -> Result<MediaSocket, hyper::Error> {
        let upgraded = self.0.await?;
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_FRAME))
            .max_frame_size(Some(MAX_FRAME));
        Ok(
            WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config))
                .await,
        )
    }
}

fn websocket_key(headers: &HeaderMap) -> Result<HeaderValue, Refusal> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value
                .to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if !has_token(header::UPGRADE, "websocket") || !has_token(header::CONNECTION, "upgrade") {
        return Err(Refusal {
            status: StatusCode::UPGRADE_REQUIRED,
            reason: "this is the media-stream WebSocket endpoint: upgrade to websocket".to_owned(),
        });
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return Err(Refusal {
            status: StatusCode::BAD_REQUEST,
            reason: "Sec-WebSocket-Version must be 13".to_owned(),
        });
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .cloned()
        .ok_or_else(|| Refusal {
            status: StatusCode::BAD_REQUEST,
            reason: "Sec-WebSocket-Key is missing".to_owned(),
        })
}
