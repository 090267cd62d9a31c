//! `input_audio_buffer.*` server events.

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, ItemId};

/// The input buffer became a user item (by VAD or `input_audio_buffer.commit`).
///
/// Wire name: `input_audio_buffer.committed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferCommitted {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The item before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_item_id: Option<ItemId>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to `input_audio_buffer.clear`.
///
/// Wire name: `input_audio_buffer.cleared`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferCleared {
    /// The server event id.
    pub event_id: EventId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// VAD heard the caller start speaking: the barge-in signal. Clear the caller's playback and
/// truncate the playing assistant item.
///
/// Wire name: `input_audio_buffer.speech_started`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferSpeechStarted {
    /// The server event id.
    pub event_id: EventId,
    /// Since the start of the session's input audio, prefix padding included.
    pub audio_start_ms: u32,
    /// The user item that will hold this speech.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// VAD heard the caller stop speaking.
///
/// Wire name: `input_audio_buffer.speech_stopped`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferSpeechStopped {
    /// The server event id.
    pub event_id: EventId,
    /// Since the start of the session's input audio.
    pub audio_end_ms: u32,
    /// The user item.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The server VAD `idle_timeout_ms` fired; a response follows (GA only).
///
/// Wire name: `input_audio_buffer.timeout_triggered`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferTimeoutTriggered {
    /// The server event id.
    pub event_id: EventId,
    /// Start of the idle audio.
    pub audio_start_ms: u32,
    /// End of the idle audio.
    pub audio_end_ms: u32,
    /// The user item.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A keypad press on a SIP call (GA only). This is the one server event without `event_id`.
///
/// Wire name: `input_audio_buffer.dtmf_event_received`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioBufferDtmfEventReceived {
    /// The key: `0`-`9`, `*`, `#`, `A`-`D`.
    pub event: String,
    /// When, in unix seconds.
    pub received_at: i64,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}
