//! The frames of a media-stream WebSocket, in the words a call needs: what a socket reads
//! ([`Frame`]) and what it writes ([`Outgoing`]). No feature, no runtime.
//!
//! A socket that reads `Result<Frame, E>` and writes [`Outgoing`] frames (a futures
//! `Stream` and `Sink`) can carry a call whatever WebSocket library is underneath:
//! `server::MediaSocket` (feature `server`) is one, and so is
//! any framework's socket mapped to these frames (`voice_bridge::TwilioLeg::new` takes
//! either). With feature `tokio-tungstenite-0_30`, `TungsteniteSocket` wraps a
//! tokio-tungstenite 0.30 `WebSocketStream` you accepted yourself.
//!
//! ```
//! use twilio_media_stream::socket::{Frame, Outgoing};
//! use twilio_media_stream::{StreamCommand, StreamEvent, StreamSid};
//!
//! let frame = Frame::Text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.into());
//! if let Frame::Text(text) = &frame {
//!     assert!(matches!(StreamEvent::decode(text)?, StreamEvent::Connected(_)));
//! }
//! let sid = StreamSid::new("MZ0123456789abcdef0123456789abcdef");
//! let reply = Outgoing::Text(StreamCommand::mark(sid, "greeting").encode());
//! assert!(matches!(reply, Outgoing::Text(text) if text.contains(r#""event":"mark""#)));
//! # Ok::<(), twilio_media_stream::DecodeError>(())
//! ```

#[cfg(any(feature = "server", feature = "tokio-tungstenite-0_30"))]
mod tungstenite;

#[cfg(feature = "tokio-tungstenite-0_30")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-tungstenite-0_30")))]
pub use tungstenite::TungsteniteSocket;
#[cfg(all(feature = "server", not(feature = "tokio-tungstenite-0_30")))]
pub(crate) use tungstenite::TungsteniteSocket;

/// One message read from a media-stream WebSocket.
///
/// Map your WebSocket library's message type to it when it is not one of ours.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame: one Twilio JSON message.
    Text(String),
    /// A binary frame (Twilio sends none).
    Binary {
        /// Its length in bytes.
        len: usize,
    },
    /// The peer's close frame.
    Close {
        /// The close code, if the frame had one.
        code: Option<u16>,
        /// The close reason (may be empty).
        reason: String,
    },
    /// Ping, pong or anything else the WebSocket library handles itself.
    Control,
}

/// One frame to write to a media-stream WebSocket.
///
/// Map it to your WebSocket library's message type when it is not one of ours.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A text frame: one Twilio JSON message (`media`, `mark`, `clear`).
    Text(String),
    /// A close frame with this code and reason. Close the sink (`SinkExt::close`) right
    /// after; closing without it sends a normal close (1000), and after the peer's close
    /// frame, closing sends the answer to it (the sink's close must do so: ours, tungstenite
    /// and axum do).
    Close {
        /// The close code (RFC 6455 section 7.4).
        code: u16,
        /// Why, at most [`MAX_CLOSE_REASON_LEN`] bytes.
        reason: String,
    },
}

/// The longest close reason a WebSocket close frame can carry, in bytes (a control frame's
/// payload is at most 125 bytes, two of which are the code).
pub const MAX_CLOSE_REASON_LEN: usize = 123;

/// `reason` cut to at most [`MAX_CLOSE_REASON_LEN`] bytes, on a character boundary.
///
/// ```
/// use twilio_media_stream::socket::{MAX_CLOSE_REASON_LEN, close_reason};
///
/// let long = "é".repeat(100); // 200 bytes
/// let cut = close_reason(&long);
/// assert!(cut.len() <= MAX_CLOSE_REASON_LEN);
/// assert_eq!(cut, "é".repeat(61));
/// assert_eq!(close_reason("forbidden"), "forbidden");
/// ```
pub fn close_reason(reason: &str) -> &str {
    if reason.len() <= MAX_CLOSE_REASON_LEN {
        return reason;
    }
    let mut end = MAX_CLOSE_REASON_LEN;
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason[..end]
}
