//! Messages Twilio sends on a media stream: [`StreamEvent`] and one struct per event.
//!
//! The structs mirror the wire: `start.start.custom_parameters` is
//! `{"start":{"customParameters":{..}}}`. Counters that Twilio writes as JSON strings
//! (`sequenceNumber`, `media.chunk`, `media.timestamp`) are integers here and strings again
//! when encoded. Unknown fields are accepted and dropped, as Twilio may add fields.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::value::RawValue;

use crate::codec::{self, DEFAULT_MAX_FRAME_LEN, string_u64};
use crate::error::DecodeError;
use crate::ids::{AccountSid, CallSid, MarkName, StreamSid};
use crate::payload::Payload;

/// A message from Twilio on a media stream.
///
/// Order on one stream: [`Connected`] (once, first), [`Start`] (once), any mix of
/// [`Media`], [`Dtmf`] and [`Mark`], then [`Stop`]. [`StreamSession`](crate::StreamSession)
/// checks that order.
///
/// Decoding reads the `event` tag first and then deserializes that one struct, so a known
/// event with a bad body is a [`DecodeError`] naming the field, never a silent fallback.
///
/// # Forward compatibility
///
/// An event this crate does not know decodes to [`StreamEvent::Unknown`] with its raw JSON,
/// so a new event from Twilio never breaks a running call. Do not match on `Unknown` to
/// find a particular event: when a later version learns it, it moves to its own variant.
/// Match on [`event_type`](Self::event_type) instead, which keeps working:
///
/// ```
/// # use twilio_media_stream::StreamEvent;
/// # let event = StreamEvent::decode(r#"{"event":"transcript","text":"hi"}"#).unwrap();
/// match event {
///     StreamEvent::Media(media) => { /* audio */ }
///     other if other.event_type() == "transcript" => { /* a new event */ }
///     other => { /* log and skip */ }
/// }
/// ```
///
/// # Examples
///
/// ```
/// use twilio_media_stream::StreamEvent;
///
/// let event = StreamEvent::decode(
///     r#"{"event":"mark","sequenceNumber":"4","streamSid":"MZ1","mark":{"name":"my label"}}"#,
/// )?;
/// let StreamEvent::Mark(mark) = &event else { panic!("not a mark") };
/// assert_eq!(mark.mark.name, "my label");
/// assert_eq!(mark.sequence_number.get(), 4);
/// assert_eq!(event.event_type(), "mark");
/// # Ok::<(), twilio_media_stream::DecodeError>(())
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// `connected`: the first message on the socket.
    Connected(Connected),
    /// `start`: the stream's ids, format, tracks and custom parameters.
    Start(Start),
    /// `media`: one chunk of call audio.
    Media(Media),
    /// `dtmf`: a key the caller pressed (bidirectional streams only).
    Dtmf(Dtmf),
    /// `mark`: the echo of a mark the server sent (bidirectional streams only).
    Mark(Mark),
    /// `stop`: the stream stopped or the call ended.
    Stop(Stop),
    /// An event this version does not know (see "Forward compatibility" above).
    Unknown(UnknownEvent),
}

impl StreamEvent {
    /// Decodes one text frame from Twilio, refusing frames over
    /// [`DEFAULT_MAX_FRAME_LEN`].
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] for a frame that is too large, not JSON, without an `event`, or a
    /// known event with a missing or mistyped field.
    pub fn decode(text: &str) -> Result<Self, DecodeError> {
        Self::decode_with_limit(text, DEFAULT_MAX_FRAME_LEN)
    }

    /// Decodes one text frame from Twilio, refusing frames longer than `limit` bytes.
    ///
    /// # Errors
    ///
    /// As [`decode`](Self::decode).
    pub fn decode_with_limit(text: &str, limit: usize) -> Result<Self, DecodeError> {
        if text.len() <= limit {
            // The hot message in the shape Twilio sends it; anything else goes the full way.
            if let Some(media) = crate::fast::media(text) {
                return Ok(Self::Media(media));
            }
        }
        Self::decode_full(text, limit)
    }

    /// The full decoder, without the `media` fast path (which must agree with it).
    pub(crate) fn decode_full(text: &str, limit: usize) -> Result<Self, DecodeError> {
        let event = codec::peek_event(text, limit)?;
        Ok(match event.as_ref() {
            "connected" => Self::Connected(codec::body(text, &event)?),
            "start" => Self::Start(codec::body(text, &event)?),
            "media" => Self::Media(codec::body(text, &event)?),
            "dtmf" => Self::Dtmf(codec::body(text, &event)?),
            "mark" => Self::Mark(codec::body(text, &event)?),
            "stop" => Self::Stop(codec::body(text, &event)?),
            _ => Self::Unknown(UnknownEvent::new(event, text)?),
        })
    }

    /// Encodes the message as Twilio would send it (for simulators and tests).
    pub fn encode(&self) -> String {
        // Invariant: every field serializes to a JSON string, number, array or string-keyed
        // map, which `serde_json` cannot fail on; the test suite encodes every variant.
        serde_json::to_string(self).expect("stream events always serialize")
    }

    /// The `event` tag: `"connected"`, `"start"`, `"media"`, `"dtmf"`, `"mark"`, `"stop"`,
    /// or the tag of an unknown event.
    pub fn event_type(&self) -> &str {
        match self {
            Self::Connected(_) => "connected",
            Self::Start(_) => "start",
            Self::Media(_) => "media",
            Self::Dtmf(_) => "dtmf",
            Self::Mark(_) => "mark",
            Self::Stop(_) => "stop",
            Self::Unknown(unknown) => unknown.event_type(),
        }
    }

    /// The message's `sequenceNumber` (every event but `connected` and unknown ones).
    pub fn sequence_number(&self) -> Option<SequenceNumber> {
        match self {
            Self::Start(e) => Some(e.sequence_number),
            Self::Media(e) => Some(e.sequence_number),
            Self::Dtmf(e) => Some(e.sequence_number),
            Self::Mark(e) => Some(e.sequence_number),
            Self::Stop(e) => Some(e.sequence_number),
            Self::Connected(_) | Self::Unknown(_) => None,
        }
    }

    /// The message's top-level `streamSid` (every event but `connected` and unknown ones).
    pub fn stream_sid(&self) -> Option<&StreamSid> {
        match self {
            Self::Start(e) => Some(&e.stream_sid),
            Self::Media(e) => Some(&e.stream_sid),
            Self::Dtmf(e) => Some(&e.stream_sid),
            Self::Mark(e) => Some(&e.stream_sid),
            Self::Stop(e) => Some(&e.stream_sid),
            Self::Connected(_) | Self::Unknown(_) => None,
        }
    }
}

/// Serialization writes the `event` tag first, then the struct's fields.
#[derive(Serialize)]
#[serde(tag = "event", rename_all = "lowercase")]
enum Tagged<'a> {
    Connected(&'a Connected),
    Start(&'a Start),
    Media(&'a Media),
    Dtmf(&'a Dtmf),
    Mark(&'a Mark),
    Stop(&'a Stop),
}

impl Serialize for StreamEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Connected(e) => Tagged::Connected(e).serialize(serializer),
            Self::Start(e) => Tagged::Start(e).serialize(serializer),
            Self::Media(e) => Tagged::Media(e).serialize(serializer),
            Self::Dtmf(e) => Tagged::Dtmf(e).serialize(serializer),
            Self::Mark(e) => Tagged::Mark(e).serialize(serializer),
            Self::Stop(e) => Tagged::Stop(e).serialize(serializer),
            Self::Unknown(e) => e.raw.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for StreamEvent {
    /// Same rules as [`StreamEvent::decode`], without its size limit.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <Box<RawValue>>::deserialize(deserializer)?;
        Self::decode_with_limit(raw.get(), usize::MAX).map_err(de::Error::custom)
    }
}

macro_rules! from_variants {
    ($enum:ident: $($variant:ident),*) => {
        $(
            impl From<$variant> for $enum {
                fn from(value: $variant) -> Self {
                    Self::$variant(value)
                }
            }
        )*
    };
}

from_variants!(StreamEvent: Connected, Start, Media, Dtmf, Mark, Stop);

/// Twilio's per-stream message counter (`sequenceNumber`): `start` is 1, each later message
/// adds 1. `connected` has none.
///
/// A JSON string on the wire (`"3"`); a `u64` here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SequenceNumber(u64);

impl SequenceNumber {
    /// Wraps a counter value.
    pub const fn new(value: u64) -> Self {
        Self(value)
    }

    /// The counter value.
    pub const fn get(self) -> u64 {
        self.0
    }
}

impl From<u64> for SequenceNumber {
    fn from(value: u64) -> Self {
        Self(value)
    }
}

impl fmt::Display for SequenceNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Serialize for SequenceNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        string_u64::serialize(&self.0, serializer)
    }
}

impl<'de> Deserialize<'de> for SequenceNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        string_u64::deserialize(deserializer).map(Self)
    }
}

/// `connected`: the first message; it has no `streamSid` and no `sequenceNumber`.
///
/// Wire: `{"event":"connected","protocol":"Call","version":"1.0.0"}`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Connected {
    /// `protocol`: `"Call"`.
    pub protocol: String,
    /// `version`: the protocol's semantic version, `"1.0.0"`.
    pub version: String,
}

impl Connected {
    /// `connected` as Twilio sends it today (protocol `Call`, version `1.0.0`).
    pub fn new() -> Self {
        Self {
            protocol: "Call".to_owned(),
            version: "1.0.0".to_owned(),
        }
    }
}

impl Default for Connected {
    fn default() -> Self {
        Self::new()
    }
}

/// `start`: the stream began; carries everything known about it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    /// `sequenceNumber`: `1` for `start`.
    pub sequence_number: SequenceNumber,
    /// `streamSid` (repeated inside [`StartMetadata`]).
    pub stream_sid: StreamSid,
    /// `start`: the stream's metadata.
    pub start: StartMetadata,
}

impl Start {
    /// A `start` for an inbound-only mu-law/8000/mono stream with no custom parameters;
    /// change the public fields for anything else.
    ///
    /// # Examples
    ///
    /// ```
    /// use twilio_media_stream::event::Start;
    ///
    /// let mut start = Start::new(1, "MZ1".into(), "AC1".into(), "CA1".into());
    /// start.start.custom_parameters.insert("appointment_id".into(), "apt_42".into());
    /// ```
    pub fn new(
        sequence_number: u64,
        stream_sid: StreamSid,
        account_sid: AccountSid,
        call_sid: CallSid,
    ) -> Self {
        Self {
            sequence_number: SequenceNumber(sequence_number),
            start: StartMetadata {
                stream_sid: stream_sid.clone(),
                account_sid,
                call_sid,
                tracks: vec![Track::Inbound],
                custom_parameters: BTreeMap::new(),
                media_format: MediaFormat::mulaw_8k_mono(),
            },
            stream_sid,
        }
    }
}

/// The `start` object of a [`Start`] message.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartMetadata {
    /// `start.streamSid`: the same as the message's `streamSid`.
    pub stream_sid: StreamSid,
    /// `start.accountSid`.
    pub account_sid: AccountSid,
    /// `start.callSid`.
    pub call_sid: CallSid,
    /// `start.tracks`: `[inbound]`, or `[inbound, outbound]` for a `both_tracks` stream.
    pub tracks: Vec<Track>,
    /// `start.customParameters`: the `<Parameter>`s of the `<Stream>` (empty when none).
    ///
    /// Twilio neither signs nor encrypts them; see [`crate::context`] to verify values
    /// your server put there.
    #[serde(default)]
    pub custom_parameters: BTreeMap<String, String>,
    /// `start.mediaFormat`.
    pub media_format: MediaFormat,
}

/// The audio format of a stream (`start.mediaFormat`).
///
/// Today always mu-law, 8000 Hz, mono ([`is_mulaw_8k_mono`](Self::is_mulaw_8k_mono)); kept as
/// data so a stream in another format is seen and refused, not misplayed.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MediaFormat {
    /// `encoding`: `"audio/x-mulaw"`.
    pub encoding: String,
    /// `sampleRate` (a JSON number): `8000`.
    pub sample_rate: u32,
    /// `channels` (a JSON number): `1`.
    pub channels: u16,
}

impl MediaFormat {
    /// The encoding name of G.711 mu-law.
    pub const MULAW: &'static str = "audio/x-mulaw";

    /// A format from its parts.
    pub fn new(encoding: impl Into<String>, sample_rate: u32, channels: u16) -> Self {
        Self {
            encoding: encoding.into(),
            sample_rate,
            channels,
        }
    }

    /// mu-law, 8000 Hz, mono: what Twilio streams.
    pub fn mulaw_8k_mono() -> Self {
        Self::new(Self::MULAW, 8000, 1)
    }

    /// Whether this is mu-law, 8000 Hz, mono.
    pub fn is_mulaw_8k_mono(&self) -> bool {
        self.encoding == Self::MULAW && self.sample_rate == 8000 && self.channels == 1
    }
}

/// Which side of the call a stream or a chunk of audio carries (`start.tracks`,
/// `media.track`).
///
/// Note that `dtmf.track` and TwiML use other spellings (`inbound_track`); see
/// [`DtmfInfo::track`].
///
/// # Forward compatibility
///
/// A value this version does not know is kept and written back unchanged; compare with
/// [`as_str`](Self::as_str) rather than matching on the hidden variant.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Track {
    /// `inbound`: audio Twilio receives from the far end (the caller).
    Inbound,
    /// `outbound`: audio Twilio plays into the call.
    Outbound,
    #[doc(hidden)]
    _Custom(PrivateStr),
}

/// A string inside a hidden enum variant; not part of the public API.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PrivateStr(Box<str>);

impl Track {
    /// The wire value (`"inbound"`, `"outbound"`, or an unknown value as received).
    pub fn as_str(&self) -> &str {
        match self {
            Self::Inbound => "inbound",
            Self::Outbound => "outbound",
            Self::_Custom(s) => &s.0,
        }
    }
}

impl From<&str> for Track {
    fn from(value: &str) -> Self {
        match value {
            "inbound" => Self::Inbound,
            "outbound" => Self::Outbound,
            other => Self::_Custom(PrivateStr(other.into())),
        }
    }
}

impl fmt::Display for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Track {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Track {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // A visitor rather than `Cow<str>` (which always copies): the known values cost no
        // allocation on the per-frame path.
        struct TrackVisitor;

        impl de::Visitor<'_> for TrackVisitor {
            type Value = Track;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a track name")
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Track, E> {
                Ok(Track::from(v))
            }
        }

        deserializer.deserialize_str(TrackVisitor)
    }
}

/// `media`: one chunk of call audio.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Media {
    /// `sequenceNumber`.
    pub sequence_number: SequenceNumber,
    /// `streamSid`.
    pub stream_sid: StreamSid,
    /// `media`: the chunk.
    pub media: MediaChunk,
}

impl Media {
    /// An inbound `media` message.
    pub fn new(
        sequence_number: u64,
        stream_sid: StreamSid,
        chunk: u64,
        timestamp: u64,
        payload: Payload,
    ) -> Self {
        Self {
            sequence_number: SequenceNumber(sequence_number),
            stream_sid,
            media: MediaChunk {
                track: Track::Inbound,
                chunk,
                timestamp,
                payload,
            },
        }
    }
}

/// The `media` object of a [`Media`] message.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MediaChunk {
    /// `media.track`: `inbound` (or `outbound` on a unidirectional `both_tracks` stream).
    pub track: Track,
    /// `media.chunk` (a JSON string on the wire): the chunk counter, from 1.
    #[serde(with = "string_u64")]
    pub chunk: u64,
    /// `media.timestamp` (a JSON string on the wire): presentation time in milliseconds
    /// since the stream started. Use it, not arrival time, to measure the caller's audio.
    #[serde(with = "string_u64")]
    pub timestamp: u64,
    /// `media.payload`: base64 mu-law, 8 kHz, mono, kept as received.
    pub payload: Payload,
}

/// `dtmf`: the caller pressed a key (bidirectional streams only).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dtmf {
    /// `sequenceNumber`.
    pub sequence_number: SequenceNumber,
    /// `streamSid`.
    pub stream_sid: StreamSid,
    /// `dtmf`: the key.
    pub dtmf: DtmfInfo,
}

impl Dtmf {
    /// A `dtmf` message on the inbound track.
    pub fn new(sequence_number: u64, stream_sid: StreamSid, digit: impl Into<String>) -> Self {
        Self {
            sequence_number: SequenceNumber(sequence_number),
            stream_sid,
            dtmf: DtmfInfo {
                track: DtmfInfo::INBOUND_TRACK.to_owned(),
                digit: digit.into(),
            },
        }
    }
}

/// The `dtmf` object of a [`Dtmf`] message.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DtmfInfo {
    /// `dtmf.track`: always `inbound_track` (note: not `inbound` as in `media.track`).
    pub track: String,
    /// `dtmf.digit`: `0`-`9`, `*`, `#` (possibly `A`-`D`); treat as an opaque string.
    pub digit: String,
}

impl DtmfInfo {
    /// The only `dtmf.track` Twilio sends.
    pub const INBOUND_TRACK: &'static str = "inbound_track";
}

/// `mark`: the echo of a mark the server sent, when the audio before it finished playing
/// or when a `clear` dropped it (the two look the same on the wire; see
/// [`StreamSession`](crate::StreamSession) to tell them apart).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mark {
    /// `sequenceNumber`.
    pub sequence_number: SequenceNumber,
    /// `streamSid`.
    pub stream_sid: StreamSid,
    /// `mark`: the name.
    pub mark: MarkInfo,
}

impl Mark {
    /// A `mark` echo.
    pub fn new(sequence_number: u64, stream_sid: StreamSid, name: MarkName) -> Self {
        Self {
            sequence_number: SequenceNumber(sequence_number),
            stream_sid,
            mark: MarkInfo { name },
        }
    }
}

/// The `mark` object of a mark, in both directions.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkInfo {
    /// `mark.name`: exactly the name the server sent.
    pub name: MarkName,
}

impl MarkInfo {
    /// A mark with this name.
    pub fn new(name: MarkName) -> Self {
        Self { name }
    }
}

/// `stop`: the stream stopped (the call ended, or the stream was stopped).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stop {
    /// `sequenceNumber`.
    pub sequence_number: SequenceNumber,
    /// `streamSid`.
    pub stream_sid: StreamSid,
    /// `stop`: the call's ids.
    pub stop: StopInfo,
}

impl Stop {
    /// A `stop` message.
    pub fn new(
        sequence_number: u64,
        stream_sid: StreamSid,
        account_sid: AccountSid,
        call_sid: CallSid,
    ) -> Self {
        Self {
            sequence_number: SequenceNumber(sequence_number),
            stream_sid,
            stop: StopInfo {
                account_sid,
                call_sid,
            },
        }
    }
}

/// The `stop` object of a [`Stop`] message.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopInfo {
    /// `stop.accountSid`.
    pub account_sid: AccountSid,
    /// `stop.callSid`.
    pub call_sid: CallSid,
}

/// An event this version does not know: its tag and its raw JSON, unchanged.
///
/// Log it or relay it; it is not an error. [`StreamEvent::encode`] writes the raw JSON back
/// as received (modulo surrounding whitespace).
#[derive(Clone)]
pub struct UnknownEvent {
    event: String,
    raw: Box<RawValue>,
}

impl UnknownEvent {
    fn new(event: Cow<'_, str>, text: &str) -> Result<Self, DecodeError> {
        let raw = RawValue::from_string(text.to_owned())
            .map_err(|e| DecodeError::json(crate::DecodeErrorKind::Syntax, None, None, e))?;
        Ok(Self {
            event: event.into_owned(),
            raw,
        })
    }

    /// The `event` tag.
    pub fn event_type(&self) -> &str {
        &self.event
    }

    /// The whole message as received, as JSON text.
    pub fn json(&self) -> &str {
        self.raw.get()
    }

    /// The whole message as received.
    pub fn raw(&self) -> &RawValue {
        &self.raw
    }
}

impl fmt::Debug for UnknownEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnknownEvent")
            .field("event", &self.event)
            .field("json", &self.raw.get())
            .finish()
    }
}

impl PartialEq for UnknownEvent {
    fn eq(&self, other: &Self) -> bool {
        self.event == other.event && self.raw.get() == other.raw.get()
    }
}

impl Eq for UnknownEvent {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DecodeErrorKind;

    const SID: &str = "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";

    #[test]
    fn counters_decode_from_strings_and_encode_as_strings() {
        let text = format!(
            r#"{{"event":"media","sequenceNumber":"4","streamSid":"{SID}",
            "media":{{"track":"inbound","chunk":"2","timestamp":"5","payload":"AAAA"}}}}"#
        );
        let event = StreamEvent::decode(&text).unwrap();
        let StreamEvent::Media(media) = &event else {
            panic!("{event:?}")
        };
        assert_eq!(media.sequence_number.get(), 4);
        assert_eq!((media.media.chunk, media.media.timestamp), (2, 5));
        let back: serde_json::Value = serde_json::from_str(&event.encode()).unwrap();
        assert_eq!(back["sequenceNumber"], "4");
        assert_eq!(back["media"]["chunk"], "2");
        assert_eq!(back["media"]["timestamp"], "5");
        assert_eq!(back["event"], "media");
    }

    #[test]
    fn non_decimal_counter_names_the_field() {
        let text = format!(
            r#"{{"event":"mark","sequenceNumber":"4x","streamSid":"{SID}","mark":{{"name":"a"}}}}"#
        );
        let err = StreamEvent::decode(&text).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::InvalidField);
        assert_eq!(err.path(), Some("sequenceNumber"));
        assert_eq!(err.event_type(), Some("mark"));
    }

    #[test]
    fn negative_numeric_counter_is_refused() {
        let text = format!(
            r#"{{"event":"mark","sequenceNumber":-1,"streamSid":"{SID}","mark":{{"name":"a"}}}}"#
        );
        assert_eq!(
            StreamEvent::decode(&text).unwrap_err().path(),
            Some("sequenceNumber")
        );
    }

    #[test]
    fn unknown_track_round_trips() {
        let track: Track = serde_json::from_str("\"both\"").unwrap();
        assert_eq!(track.as_str(), "both");
        assert_eq!(serde_json::to_string(&track).unwrap(), "\"both\"");
        assert_eq!(Track::from("inbound"), Track::Inbound);
    }

    #[test]
    fn accessors_cover_every_variant() {
        let sid = StreamSid::new(SID);
        let events: Vec<StreamEvent> = vec![
            Connected::new().into(),
            Start::new(1, sid.clone(), "AC".into(), "CA".into()).into(),
            Media::new(2, sid.clone(), 1, 0, Payload::from_mulaw(&[0xFF; 160])).into(),
            Dtmf::new(3, sid.clone(), "1").into(),
            Mark::new(4, sid.clone(), "m".into()).into(),
            Stop::new(5, sid.clone(), "AC".into(), "CA".into()).into(),
        ];
        for (i, event) in events.iter().enumerate() {
            let again = StreamEvent::decode(&event.encode()).unwrap();
            assert_eq!(&again, event);
            if i == 0 {
                assert_eq!(event.sequence_number(), None);
                assert_eq!(event.stream_sid(), None);
            } else {
                assert_eq!(event.sequence_number(), Some(SequenceNumber::new(i as u64)));
                assert_eq!(event.stream_sid(), Some(&sid));
            }
        }
    }
}
