//! Messages the server sends to Twilio on a bidirectional stream: [`StreamCommand`].
//!
//! Twilio accepts exactly these shapes: an unknown event, a missing field, an **extra**
//! field or a wrong `streamSid` is dropped with warning 31951 and no reply on the socket.
//! So encoding writes only the fields below, and [`StreamCommand::decode`] (for simulators
//! and tests standing in for Twilio) refuses extra fields as Twilio does.

use serde::de::{self, Deserializer, IgnoredAny};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::codec::{self, DEFAULT_MAX_FRAME_LEN};
use crate::error::{DecodeError, DecodeErrorKind};
use crate::ids::{MarkName, StreamSid};
use crate::payload::Payload;

pub use crate::event::MarkInfo;

/// Room for the keys and punctuation of an encoded command (the longest, `media`, needs
/// 55 bytes besides its `streamSid` and payload), with a little to spare for escapes.
const ENCODE_OVERHEAD: usize = 64;

/// A message the server sends to Twilio: `media`, `mark` or `clear`.
///
/// Build one with [`media`](Self::media), [`mark`](Self::mark) or [`clear`](Self::clear),
/// and turn it into a text frame with [`encode`](Self::encode).
///
/// # Examples
///
/// ```
/// use twilio_media_stream::{Payload, StreamCommand, StreamSid};
///
/// let sid = StreamSid::new("MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
/// let frame = StreamCommand::mark(sid.clone(), "item_abc:7").encode();
/// assert_eq!(
///     frame,
///     r#"{"event":"mark","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","mark":{"name":"item_abc:7"}}"#
/// );
/// let audio = StreamCommand::media(sid.clone(), Payload::from_mulaw(&[0xFF; 160]));
/// assert_eq!(StreamCommand::decode(&audio.encode())?, audio);
/// # Ok::<(), twilio_media_stream::DecodeError>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamCommand {
    /// `media`: audio for Twilio to queue and play to the caller.
    Media(Media),
    /// `mark`: a label queued behind the audio sent so far; Twilio echoes it when playback
    /// reaches it, or when a `clear` drops it.
    Mark(Mark),
    /// `clear`: drop all queued audio at once (barge-in); Twilio then echoes every pending
    /// mark.
    Clear(Clear),
}

impl StreamCommand {
    /// A `media` command carrying `payload` (base64 mu-law 8 kHz mono, no header).
    ///
    /// Keep frames modest (20 to 100 ms) so marks and `clear` stay precise.
    pub fn media(stream_sid: StreamSid, payload: Payload) -> Self {
        Self::Media(Media {
            stream_sid,
            media: MediaPayload { payload },
        })
    }

    /// A `mark` command.
    pub fn mark(stream_sid: StreamSid, name: impl Into<MarkName>) -> Self {
        Self::Mark(Mark {
            stream_sid,
            mark: MarkInfo { name: name.into() },
        })
    }

    /// A `clear` command.
    pub fn clear(stream_sid: StreamSid) -> Self {
        Self::Clear(Clear { stream_sid })
    }

    /// The text frame to send: exactly the fields Twilio accepts.
    pub fn encode(&self) -> String {
        // Sized up front so a `media` frame is written with one allocation.
        let body = match self {
            Self::Media(c) => c.media.payload.as_base64().len(),
            Self::Mark(c) => c.mark.name.as_str().len(),
            Self::Clear(_) => 0,
        };
        if let Self::Media(c) = self {
            let (sid, payload) = (c.stream_sid.as_str(), c.media.payload.as_base64());
            // The hot command: text with nothing to escape is written as is (as serde would).
            if crate::fast::plain(sid) && crate::fast::plain(payload) {
                let mut out = String::with_capacity(ENCODE_OVERHEAD + sid.len() + body);
                out.push_str(r#"{"event":"media","streamSid":""#);
                out.push_str(sid);
                out.push_str(r#"","media":{"payload":""#);
                out.push_str(payload);
                out.push_str(r#""}}"#);
                return out;
            }
        }
        let mut out = Vec::with_capacity(ENCODE_OVERHEAD + self.stream_sid().as_str().len() + body);
        // Invariant: the fields are strings only, which `serde_json` cannot fail on, and it
        // writes UTF-8. The test suite encodes every variant.
        serde_json::to_writer(&mut out, self).expect("stream commands always serialize");
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// Decodes a frame as Twilio would read it (for simulators and tests), refusing frames
    /// over [`DEFAULT_MAX_FRAME_LEN`].
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] for a frame that is too large or not JSON, has no `event`, an event
    /// other than `media`, `mark` and `clear`
    /// ([`InvalidField`](DecodeErrorKind::InvalidField) at `event`), or a missing, mistyped
    /// or extra field: all the cases Twilio drops with warning 31951.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Self::decode_with_limit(text, DEFAULT_MAX_FRAME_LEN)
    }

    /// As [`decode`](Self::decode), refusing frames longer than `limit` bytes.
    ///
    /// # Errors
    ///
    /// As [`decode`](Self::decode).
    pub fn decode_with_limit(text: &str, limit: usize) -> Result<Self, DecodeError> {
        let event = codec::peek_event(text, limit)?;
        Ok(match event.as_ref() {
            "media" => {
                let wire: MediaWire = codec::body(text, &event)?;
                Self::media(wire.stream_sid, wire.media.payload)
            }
            "mark" => {
                let wire: MarkWire = codec::body(text, &event)?;
                Self::mark(wire.stream_sid, wire.mark.name)
            }
            "clear" => {
                let wire: ClearWire = codec::body(text, &event)?;
                Self::clear(wire.stream_sid)
            }
            other => return Err(unknown_command(other)),
        })
    }

    /// The `event` tag: `"media"`, `"mark"` or `"clear"`.
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::Media(_) => "media",
            Self::Mark(_) => "mark",
            Self::Clear(_) => "clear",
        }
    }

    /// The `streamSid` the command is for.
    pub fn stream_sid(&self) -> &StreamSid {
        match self {
            Self::Media(c) => &c.stream_sid,
            Self::Mark(c) => &c.stream_sid,
            Self::Clear(c) => &c.stream_sid,
        }
    }
}

fn unknown_command(event: &str) -> DecodeError {
    let error =
        <serde_json::Error as de::Error>::unknown_variant(event, &["media", "mark", "clear"]);
    DecodeError::json(
        DecodeErrorKind::InvalidField,
        Some(event),
        Some("event".to_owned()),
        error,
    )
}

#[derive(Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Tagged<'a> {
    Media(&'a Media),
    Mark(&'a Mark),
    Clear(&'a Clear),
}

impl Serialize for StreamCommand {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Media(c) => Tagged::Media(c).serialize(serializer),
            Self::Mark(c) => Tagged::Mark(c).serialize(serializer),
            Self::Clear(c) => Tagged::Clear(c).serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for StreamCommand {
    /// Same rules as [`StreamCommand::decode`], without its size limit.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(deserializer)?;
        Self::decode_with_limit(raw.get(), usize::MAX).map_err(de::Error::custom)
    }
}

impl From<Media> for StreamCommand {
    fn from(value: Media) -> Self {
        Self::Media(value)
    }
}

impl From<Mark> for StreamCommand {
    fn from(value: Mark) -> Self {
        Self::Mark(value)
    }
}

impl From<Clear> for StreamCommand {
    fn from(value: Clear) -> Self {
        Self::Clear(value)
    }
}

/// `media` to Twilio: `{"event":"media","streamSid":"MZ..","media":{"payload":".."}}`.
///
/// Only `media.payload` is sent: `track`, `chunk` or `timestamp` would make Twilio drop the
/// message (31951).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// `streamSid`: the stream from `start`.
    pub stream_sid: StreamSid,
    /// `media`.
    pub media: MediaPayload,
}

/// The `media` object of a [`Media`] command.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaPayload {
    /// `media.payload`: base64 mu-law, 8 kHz, mono, no WAV header.
    pub payload: Payload,
}

/// `mark` to Twilio: `{"event":"mark","streamSid":"MZ..","mark":{"name":".."}}`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Mark {
    /// `streamSid`: the stream from `start`.
    pub stream_sid: StreamSid,
    /// `mark`.
    pub mark: MarkInfo,
}

/// `clear` to Twilio: `{"event":"clear","streamSid":"MZ.."}`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Clear {
    /// `streamSid`: the stream from `start`.
    pub stream_sid: StreamSid,
}

// Strict wire shapes for `decode`: the tag plus exactly the fields Twilio accepts.

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MediaWire {
    #[serde(rename = "event")]
    _event: IgnoredAny,
    stream_sid: StreamSid,
    media: MediaPayload,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct MarkWire {
    #[serde(rename = "event")]
    _event: IgnoredAny,
    stream_sid: StreamSid,
    mark: MarkInfoWire,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkInfoWire {
    name: MarkName,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClearWire {
    #[serde(rename = "event")]
    _event: IgnoredAny,
    stream_sid: StreamSid,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_fields_are_refused_like_twilio_does() {
        let err = StreamCommand::decode(
            r#"{"event":"media","streamSid":"MZ1","media":{"payload":"AAAA","track":"outbound"}}"#,
        )
        .unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::InvalidField);
        assert_eq!(err.path(), Some("media.track"));
        let err =
            StreamCommand::decode(r#"{"event":"clear","streamSid":"MZ1","sequenceNumber":"1"}"#)
                .unwrap_err();
        assert_eq!(err.path(), Some("sequenceNumber"));
    }

    #[test]
    fn unknown_command_is_an_error() {
        let err = StreamCommand::decode(r#"{"event":"dtmf","streamSid":"MZ1"}"#).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::InvalidField);
        assert_eq!(err.path(), Some("event"));
        assert_eq!(err.event_type(), Some("dtmf"));
    }

    #[test]
    fn missing_stream_sid_is_named() {
        let err = StreamCommand::decode(r#"{"event":"clear"}"#).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::MissingField);
        assert_eq!(err.path(), Some("streamSid"));
    }

    #[test]
    fn every_variant_encodes() {
        let sid = StreamSid::new("MZ1");
        for command in [
            StreamCommand::media(sid.clone(), Payload::from_mulaw(&[1, 2, 3])),
            StreamCommand::mark(sid.clone(), "a"),
            StreamCommand::clear(sid.clone()),
        ] {
            let text = command.encode();
            assert_eq!(StreamCommand::decode(&text).unwrap(), command);
            assert_eq!(command.stream_sid(), &sid);
            assert!(text.contains(command.event_type()));
        }
    }
}
