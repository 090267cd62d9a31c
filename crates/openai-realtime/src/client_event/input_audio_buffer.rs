//! `input_audio_buffer.*` and `output_audio_buffer.clear`.

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::EventId;

/// Appends audio to the input buffer. No answer comes back.
///
/// `audio` is base64 in the session's input format, kept as text: a Twilio `media.payload` goes in
/// unchanged when both sides speak G.711 mu-law.
///
/// Wire name: `input_audio_buffer.append`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferAppend {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Base64 audio in the session input format (at most 15 MiB).
    pub audio: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Commits the input buffer as a user item. Not needed with turn detection on; less than 100 ms
/// of audio gives `input_audio_buffer_commit_empty`.
///
/// Wire name: `input_audio_buffer.commit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferCommit {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Drops the uncommitted input audio. The answer is `input_audio_buffer.cleared`.
///
/// Wire name: `input_audio_buffer.clear`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferClear {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Stops the server-side playback (WebRTC and SIP only; a WebSocket client should not send it).
///
/// Wire name: `output_audio_buffer.clear`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputAudioBufferClear {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}
