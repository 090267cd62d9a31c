//! `output_audio_buffer.*` server events (WebRTC and SIP only).

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, ResponseId};

/// Server-side playback started (WebRTC/SIP only).
///
/// Wire name: `output_audio_buffer.started`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputAudioBufferStarted {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Server-side playback finished (WebRTC/SIP only).
///
/// Wire name: `output_audio_buffer.stopped`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputAudioBufferStopped {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Server-side playback was cleared (WebRTC/SIP only).
///
/// Wire name: `output_audio_buffer.cleared`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputAudioBufferCleared {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}
