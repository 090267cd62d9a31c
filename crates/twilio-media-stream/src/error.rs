//! Errors of the models, the codec and the session rules.
//!
//! - [`DecodeError`]: a text frame that is not a valid message (one per bad frame; skip it).
//! - [`PayloadError`]: an audio payload that is not valid base64.
//! - [`SessionError`]: a valid message that breaks the stream's rules (order, identity).

use std::fmt;

use crate::ids::{MarkName, StreamSid};
use crate::session::Phase;

/// A text frame that could not be decoded into a message.
///
/// Returned by [`StreamEvent::decode`](crate::StreamEvent::decode) and
/// [`StreamCommand::decode`](crate::StreamCommand::decode). It names the event (when the
/// `event` tag could be read) and the path of the field at fault, e.g.
/// `` `start` message: missing field `start.callSid` ``. The underlying `serde_json` error,
/// with line and column, is the [`source`](std::error::Error::source).
///
/// A decode error concerns one frame only: log it and go on with the next frame. It is
/// boxed inside, so a `Result<_, DecodeError>` stays small on the per-frame path.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::{DecodeErrorKind, StreamEvent};
///
/// let err = StreamEvent::decode(r#"{"event":"stop","sequenceNumber":"5","streamSid":"MZ1"}"#)
///     .unwrap_err();
/// assert_eq!(err.kind(), DecodeErrorKind::MissingField);
/// assert_eq!(err.event_type(), Some("stop"));
/// assert_eq!(err.path(), Some("stop"));
/// ```
pub struct DecodeError {
    inner: Box<DecodeInner>,
}

struct DecodeInner {
    kind: DecodeErrorKind,
    event: Option<String>,
    path: Option<String>,
    detail: Detail,
}

enum Detail {
    None,
    TooLarge { len: usize, limit: usize },
    Json(serde_json::Error),
}

/// What kind of [`DecodeError`] this is.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecodeErrorKind {
    /// The frame is longer than the decoder's limit; it was not parsed.
    TooLarge,
    /// The frame is not JSON (or is cut short).
    Syntax,
    /// The frame is JSON but not an object.
    NotAnObject,
    /// The object has no `event` field.
    MissingEvent,
    /// A field the event requires is missing ([`DecodeError::path`] names it).
    MissingField,
    /// A field has the wrong type or an invalid value, or (for commands, which Twilio checks
    /// strictly) is not allowed at all ([`DecodeError::path`] names it).
    InvalidField,
}

impl DecodeError {
    pub(crate) fn too_large(len: usize, limit: usize) -> Self {
        Self::new(
            DecodeErrorKind::TooLarge,
            None,
            None,
            Detail::TooLarge { len, limit },
        )
    }

    pub(crate) fn not_an_object() -> Self {
        Self::new(DecodeErrorKind::NotAnObject, None, None, Detail::None)
    }

    pub(crate) fn missing_event() -> Self {
        Self::new(DecodeErrorKind::MissingEvent, None, None, Detail::None)
    }

    pub(crate) fn json(
        kind: DecodeErrorKind,
        event: Option<&str>,
        path: Option<String>,
        source: serde_json::Error,
    ) -> Self {
        Self::new(kind, event.map(str::to_owned), path, Detail::Json(source))
    }

    fn new(
        kind: DecodeErrorKind,
        event: Option<String>,
        path: Option<String>,
        detail: Detail,
    ) -> Self {
        Self {
            inner: Box::new(DecodeInner {
                kind,
                event,
                path,
                detail,
            }),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> DecodeErrorKind {
        self.inner.kind
    }

    /// The `event` tag of the message, when it could be read.
    pub fn event_type(&self) -> Option<&str> {
        self.inner.event.as_deref()
    }

    /// The dotted path of the field at fault in protocol spelling (`start.mediaFormat.sampleRate`,
    /// `start.tracks[0]`), for [`MissingField`](DecodeErrorKind::MissingField) and
    /// [`InvalidField`](DecodeErrorKind::InvalidField).
    pub fn path(&self) -> Option<&str> {
        self.inner.path.as_deref()
    }

    /// Line of the error in the frame (1-based), when known.
    pub fn line(&self) -> Option<usize> {
        match &self.inner.detail {
            Detail::Json(e) => Some(e.line()),
            _ => None,
        }
    }

    /// Column of the error in the frame (1-based), when known.
    pub fn column(&self) -> Option<usize> {
        match &self.inner.detail {
            Detail::Json(e) => Some(e.column()),
            _ => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = &*self.inner;
        if let Some(event) = &inner.event {
            write!(f, "`{event}` message: ")?;
        }
        match (inner.kind, &inner.detail) {
            (DecodeErrorKind::TooLarge, Detail::TooLarge { len, limit }) => {
                write!(f, "frame of {len} bytes exceeds the limit of {limit} bytes")
            }
            (DecodeErrorKind::Syntax, _) => f.write_str("malformed JSON"),
            (DecodeErrorKind::NotAnObject, _) => f.write_str("not a JSON object"),
            (DecodeErrorKind::MissingEvent, _) => f.write_str("no `event` field"),
            (DecodeErrorKind::MissingField, _) => match &inner.path {
                Some(path) => write!(f, "missing field `{path}`"),
                None => f.write_str("missing field"),
            },
            (_, _) => match &inner.path {
                Some(path) => write!(f, "invalid field `{path}`"),
                None => f.write_str("invalid message"),
            },
        }
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DecodeError");
        d.field("kind", &self.inner.kind);
        if let Some(event) = &self.inner.event {
            d.field("event", event);
        }
        if let Some(path) = &self.inner.path {
            d.field("path", path);
        }
        match &self.inner.detail {
            Detail::None => {}
            Detail::TooLarge { len, limit } => {
                d.field("len", len).field("limit", limit);
            }
            Detail::Json(e) => {
                d.field("source", e);
            }
        }
        d.finish()
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.detail {
            Detail::Json(e) => Some(e),
            _ => None,
        }
    }
}

/// An audio payload that is not valid standard base64 (RFC 4648, with padding).
///
/// Offsets count characters of the base64 text.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum PayloadError {
    /// A character outside the base64 alphabet (or `=` before the end).
    #[error("invalid base64 character {byte:#04x} at offset {offset}")]
    InvalidByte {
        /// Where the character is.
        offset: usize,
        /// The character's byte.
        byte: u8,
    },
    /// The text length is not a valid base64 length.
    #[error("invalid base64 length {length}")]
    InvalidLength {
        /// Length of the text.
        length: usize,
    },
    /// The last character carries bits that do not belong to the data (not canonical).
    #[error("invalid last base64 character {byte:#04x} at offset {offset}")]
    InvalidLastSymbol {
        /// Where the character is.
        offset: usize,
        /// The character's byte.
        byte: u8,
    },
    /// Padding is missing or malformed.
    #[error("invalid base64 padding")]
    InvalidPadding,
}

impl PayloadError {
    pub(crate) fn from_base64(error: base64::DecodeError, chunk_offset: usize) -> Self {
        match error {
            base64::DecodeError::InvalidByte(offset, byte) => Self::InvalidByte {
                offset: chunk_offset + offset,
                byte,
            },
            base64::DecodeError::InvalidLength(length) => Self::InvalidLength {
                length: chunk_offset + length,
            },
            base64::DecodeError::InvalidLastSymbol(offset, byte) => Self::InvalidLastSymbol {
                offset: chunk_offset + offset,
                byte,
            },
            base64::DecodeError::InvalidPadding => Self::InvalidPadding,
        }
    }
}

/// A message that is valid on its own but breaks the stream's rules, or a call on
/// [`StreamSession`](crate::StreamSession) that the stream's state does not allow.
///
/// Each variant says whether it is **fatal** (the stream cannot go on as a Twilio stream:
/// close it and report) or **skippable** (the message was ignored and the session is
/// unchanged: log one line and go on with the next message).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// A message other than `connected` came first.
    ///
    /// Fatal: the peer does not speak the Media Streams protocol (Twilio always sends
    /// `connected` first).
    #[error("`{event}` received before `connected`")]
    BeforeConnected {
        /// The event that came instead.
        event: String,
    },
    /// A second `connected`.
    ///
    /// Skippable: ignored.
    #[error("`connected` received again")]
    ConnectedRepeated,
    /// A `media`, `dtmf`, `mark` or `stop` before `start`.
    ///
    /// Skippable: ignored (there is no stream to apply it to yet).
    #[error("`{event}` received before `start`")]
    BeforeStart {
        /// The event.
        event: String,
    },
    /// A second `start` on the same socket.
    ///
    /// Skippable: ignored; the first `start` stands (one socket carries one stream).
    #[error("`start` received again (stream {current} already started, got {found})")]
    StartRepeated {
        /// The stream that started first.
        current: StreamSid,
        /// The `streamSid` of the repeated `start`.
        found: StreamSid,
    },
    /// A message whose `streamSid` is not this stream's.
    ///
    /// Skippable: ignored (Twilio never mixes streams on one socket, so this is a bug
    /// upstream; it must not touch this stream's state).
    #[error("message for stream {found} on stream {expected}")]
    ForeignStream {
        /// This stream.
        expected: StreamSid,
        /// The `streamSid` of the message.
        found: StreamSid,
    },
    /// A message after `stop`.
    ///
    /// Skippable: ignored.
    #[error("`{event}` received after `stop`")]
    AfterStop {
        /// The event.
        event: String,
    },
    /// A `mark` echo whose name is not among the marks sent and not yet echoed.
    ///
    /// Skippable: ignored. Either the mark was never reported with
    /// [`StreamSession::mark_sent`](crate::StreamSession::mark_sent) or it was echoed twice.
    #[error("echo of mark {name:?} that is not pending")]
    UnexpectedMark {
        /// The echoed name.
        name: MarkName,
    },
    /// [`mark_sent`](crate::StreamSession::mark_sent) or
    /// [`clear_sent`](crate::StreamSession::clear_sent) was called while the stream is not
    /// streaming (before `start` or after `stop`).
    ///
    /// Skippable: nothing was recorded. Twilio drops anything sent before `start` (warning
    /// 31951), so do not send the command either.
    #[error("cannot send commands in phase {phase:?}")]
    NotStreaming {
        /// The session's phase at the call.
        phase: Phase,
    },
    /// [`mark_sent`](crate::StreamSession::mark_sent) with as many marks pending as the
    /// session's limit allows.
    ///
    /// Skippable: the mark was not recorded. Twilio is not echoing marks back (or far too
    /// many marks are in flight); the session refuses to grow without bound.
    #[error("too many pending marks (limit {limit})")]
    TooManyPendingMarks {
        /// The limit.
        limit: usize,
    },
}

impl SessionError {
    /// Whether the stream cannot go on after this error (see each variant).
    pub fn is_fatal(&self) -> bool {
        matches!(self, Self::BeforeConnected { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + 'static>() {}

    #[test]
    fn errors_are_send_sync_and_small() {
        assert_send_sync::<DecodeError>();
        assert_send_sync::<PayloadError>();
        assert_send_sync::<SessionError>();
        assert_eq!(size_of::<DecodeError>(), size_of::<usize>());
    }
}
