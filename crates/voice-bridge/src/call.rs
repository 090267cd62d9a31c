//! The telephony leg's vocabulary: what a call tells the bridge and what the bridge asks
//! of it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::audio::{AudioChunk, AudioFormat};
use crate::ids::{CallId, DtmfDigit, ItemId, Mark, StreamId};
use crate::leg::LegEnd;

/// Something that happened on the telephony leg.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// The media stream started: ids, the format the call speaks, what it can do.
    Started(CallStart),
    /// A frame of the caller's audio.
    Audio(AudioChunk),
    /// Playback reached a mark (or a clear discarded the audio before it): the name
    /// exactly as it was sent. Names the engine did not send are counted and ignored.
    MarkPlayed(String),
    /// The caller pressed a key.
    Dtmf(DtmfDigit),
    /// The leg ended; after this the leg sends nothing more.
    Ended(LegEnd),
}

/// The start of a call's media stream.
///
/// ```
/// use voice_bridge::audio::AudioFormat;
/// use voice_bridge::{CallCapabilities, CallEvent, CallStart};
/// let start = CallStart::new("CA1", "MZ1", AudioFormat::MuLaw)
///     .with_parameter("appointment_id", "apt_42")
///     .with_capabilities(CallCapabilities::ALL);
/// assert_eq!(start.parameters["appointment_id"], "apt_42");
/// let event = CallEvent::Started(start);
/// # let _ = event;
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CallStart {
    /// The call's id (Twilio `callSid`).
    pub call_id: CallId,
    /// The media stream's id (Twilio `streamSid`).
    pub stream_id: StreamId,
    /// The format the call sends and can play (Twilio: mu-law 8 kHz).
    pub format: AudioFormat,
    /// Parameters the call was started with (Twilio `customParameters`).
    pub parameters: BTreeMap<String, String>,
    /// What the leg can do besides audio and marks.
    pub capabilities: CallCapabilities,
}

impl CallStart {
    /// A start with no parameters and no optional capabilities.
    pub fn new(
        call_id: impl Into<CallId>,
        stream_id: impl Into<StreamId>,
        format: AudioFormat,
    ) -> Self {
        Self {
            call_id: call_id.into(),
            stream_id: stream_id.into(),
            format,
            parameters: BTreeMap::new(),
            capabilities: CallCapabilities::default(),
        }
    }

    /// Adds a parameter the call was started with (a later value for the same name
    /// replaces the earlier one).
    #[must_use]
    pub fn with_parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.insert(name.into(), value.into());
        self
    }

    /// Sets the capabilities.
    #[must_use]
    pub fn with_capabilities(mut self, capabilities: CallCapabilities) -> Self {
        self.capabilities = capabilities;
        self
    }
}

/// Optional things a telephony leg can do. Audio, marks, clear and hang-up are required
/// of every leg; hand-overs are not.
///
/// Start from [`NONE`](Self::NONE) or [`ALL`](Self::ALL) and set the fields (the struct
/// is `#[non_exhaustive]`, so a capability added later breaks no leg):
///
/// ```
/// use voice_bridge::{CallCapabilities, HandOver};
/// let mut capabilities = CallCapabilities::NONE;
/// capabilities.continue_call = true;
/// assert!(capabilities.supports(&HandOver::Continue));
/// assert!(!capabilities.supports(&HandOver::Url("https://example.com/next".into())));
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CallCapabilities {
    /// [`HandOver::Continue`]: end the stream and let the platform go on with the call's
    /// own next instructions (Twilio: the TwiML after `</Connect>`).
    pub continue_call: bool,
    /// [`HandOver::Markup`]: replace the call's instructions (Twilio: TwiML via REST).
    pub markup: bool,
    /// [`HandOver::Url`]: fetch new instructions from a URL (Twilio: a TwiML URL via REST).
    pub url: bool,
}

impl CallCapabilities {
    /// No optional capability.
    pub const NONE: Self = Self {
        continue_call: false,
        markup: false,
        url: false,
    };
    /// Every optional capability.
    pub const ALL: Self = Self {
        continue_call: true,
        markup: true,
        url: true,
    };

    /// Whether the leg can carry out `hand_over`.
    pub fn supports(&self, hand_over: &HandOver) -> bool {
        match hand_over {
            HandOver::Continue => self.continue_call,
            HandOver::Markup(_) => self.markup,
            HandOver::Url(_) => self.url,
        }
    }
}

/// Where a call goes when the bridge hands it over (a tool's transfer, or the fallback).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum HandOver {
    /// End the media stream; the platform continues with the instructions that follow it
    /// (Twilio: closing the socket of a `<Connect><Stream>` runs the next TwiML verb).
    Continue,
    /// Replace the call's instructions with this document (TwiML or the provider's own).
    Markup(String),
    /// Replace the call's instructions with those fetched from this URL.
    Url(String),
}

/// Where audio sent to the caller comes from.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudioSource {
    /// Part of an agent item's audio.
    Agent {
        /// The item the audio belongs to.
        item_id: ItemId,
        /// The content part within the item.
        content_index: u32,
    },
    /// The configured fallback prompt.
    Fallback,
}

/// Something the bridge asks of the telephony leg.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum CallCommand {
    /// Queue audio for the caller, in the format the call announced in
    /// [`CallStart::format`].
    Play {
        /// The audio.
        chunk: AudioChunk,
        /// Whose audio it is.
        source: AudioSource,
    },
    /// Queue a mark behind the audio sent so far; echo it as
    /// [`CallEvent::MarkPlayed`] when playback reaches it or a clear discards it.
    Mark(Mark),
    /// Drop all queued audio at once; pending marks are echoed (as the leg's protocol
    /// does, or by the leg itself).
    Clear,
    /// End the call.
    HangUp,
    /// Hand the call over; only sent if [`CallCapabilities::supports`] says so.
    HandOver(HandOver),
}
