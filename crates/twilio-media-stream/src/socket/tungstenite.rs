//! A tokio-tungstenite `WebSocketStream` as a socket of [`Frame`]s and [`Outgoing`] frames:
//! public with feature `tokio-tungstenite-0_30`, and inside
//! [`MediaSocket`](crate::server::MediaSocket) either way.

use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use super::{Frame, Outgoing, close_reason};

/// A tokio-tungstenite 0.30 `WebSocketStream` as a socket of [`Frame`]s and [`Outgoing`]
/// frames (feature `tokio-tungstenite-0_30`: its types follow tokio-tungstenite's
/// versions, not ours).
///
/// Closing it sends a close frame with code 1000, unless an [`Outgoing::Close`] was
/// written first; after the peer's close frame, closing sends the answer tungstenite
/// queued (the peer's code echoed, RFC 6455 section 5.5.1).
#[derive(Debug)]
pub struct TungsteniteSocket<T> {
    ws: WebSocketStream<T>,
    close_sent: bool,
    /// The peer's close frame was read: tungstenite has queued its answer (the same
    /// code), which closing sends; no frame of ours may follow.
    peer_closed: bool,
}

impl<T> TungsteniteSocket<T> {
    /// Wraps a WebSocket (server or client side).
    pub fn new(ws: WebSocketStream<T>) -> Self {
        Self {
            ws,
            close_sent: false,
            peer_closed: false,
        }
    }

    /// The WebSocket back.
    #[cfg_attr(
        not(feature = "tokio-tungstenite-0_30"),
        expect(dead_code, reason = "public with the feature only")
    )]
    pub fn into_inner(self) -> WebSocketStream<T> {
        self.ws
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Stream for TungsteniteSocket<T> {
    type Item = Result<Frame, tungstenite::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let message = match ready!(self.ws.poll_next_unpin(cx)) {
            None => return Poll::Ready(None),
            Some(Err(error)) => return Poll::Ready(Some(Err(error))),
            Some(Ok(message)) => message,
        };
        Poll::Ready(Some(Ok(match message {
            Message::Text(text) => Frame::Text(text.as_str().to_owned()),
            Message::Binary(bytes) => Frame::Binary { len: bytes.len() },
            Message::Close(close) => {
                self.peer_closed = true;
                Frame::Close {
                    code: close.as_ref().map(|c| u16::from(c.code)),
                    reason: close
                        .map(|c| c.reason.as_str().to_owned())
                        .unwrap_or_default(),
                }
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Frame::Control,
        })))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Sink<Outgoing> for TungsteniteSocket<T> {
    type Error = tungstenite::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.ws.poll_ready_unpin(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, frame: Outgoing) -> Result<(), Self::Error> {
        match frame {
            Outgoing::Text(text) => self.ws.start_send_unpin(Message::text(text)),
            // The answer to the peer's close is queued already: it is the close frame.
            Outgoing::Close { .. } if self.peer_closed => {
                self.close_sent = true;
                Ok(())
            }
            Outgoing::Close { code, reason } => {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: close_reason(&reason).into(),
                };
                self.close_sent = true;
                self.ws.start_send_unpin(Message::Close(Some(frame)))
            }
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.ws.poll_flush_unpin(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if !self.close_sent && !self.peer_closed {
            ready!(self.ws.poll_ready_unpin(cx))?;
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            };
            self.ws.start_send_unpin(Message::Close(Some(frame)))?;
            self.close_sent = true;
        }
        self.ws.poll_close_unpin(cx)
    }
}
