//! What happened on a simulated call: [`CallRecord`].

use std::time::Duration;

use crate::error::PayloadError;
use crate::ids::{AccountSid, CallSid, MarkName, StreamSid};
use crate::payload::MULAW_BYTES_PER_MS;

/// The record of one simulated call, returned by
/// [`CallScript::run`](super::CallScript::run).
///
/// Times are measured from the moment the WebSocket opened, on tokio's clock.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub struct CallRecord {
    /// The `streamSid` the simulator used.
    pub stream_sid: StreamSid,
    /// The `callSid` the simulator used.
    pub call_sid: CallSid,
    /// The `accountSid` the simulator used.
    pub account_sid: AccountSid,
    /// The mu-law bytes the caller heard, in playback order (8 kHz mono).
    pub heard: Vec<u8>,
    /// Every mark the server sent, in arrival order (which is also echo order), with its
    /// echo.
    pub marks: Vec<MarkRecord>,
    /// Every `clear` the server sent, in order.
    pub clears: Vec<ClearRecord>,
    /// Caller `media` frames sent.
    pub media_frames_sent: u64,
    /// DTMF digits sent, with when.
    pub dtmf_sent: Vec<(Duration, String)>,
    /// `media` messages received from the server (valid ones).
    pub media_received: u64,
    /// When the first `media` from the server arrived.
    pub first_media_received: Option<Duration>,
    /// When the caller started hearing the server's audio (first byte played).
    pub first_audio_played: Option<Duration>,
    /// How long the call lasted, from the socket opening to its end.
    pub duration: Duration,
    /// How the call ended.
    pub end: CallEnd,
    /// The close frame the server sent, if any (also when it only answered ours).
    pub close: Option<CloseInfo>,
    /// Everything the server sent that Twilio would have dropped, and socket failures.
    pub issues: Vec<CallIssue>,
}

impl CallRecord {
    /// Bytes of server audio the caller heard.
    pub fn heard_bytes(&self) -> usize {
        self.heard.len()
    }

    /// Milliseconds of server audio the caller heard (8 bytes = 1 ms).
    pub fn heard_ms(&self) -> u64 {
        (self.heard.len() / MULAW_BYTES_PER_MS) as u64
    }

    /// The names of the echoed marks, in echo order.
    pub fn mark_names(&self) -> Vec<&str> {
        self.marks
            .iter()
            .filter(|m| m.echoed_at.is_some())
            .map(|m| m.name.as_str())
            .collect()
    }
}

/// One mark, from its arrival to its echo.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkRecord {
    /// The mark's name.
    pub name: MarkName,
    /// When the server's `mark` arrived.
    pub received_at: Duration,
    /// When the simulator echoed it (`None`: the call ended first).
    pub echoed_at: Option<Duration>,
    /// How much audio the caller had heard when it was echoed, in bytes.
    pub heard_bytes_at_echo: Option<usize>,
    /// Whether it was echoed because a `clear` dropped it (Twilio's echo looks the same).
    pub cleared: bool,
}

/// One `clear` from the server.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearRecord {
    /// When it arrived.
    pub at: Duration,
    /// Queued audio it dropped, in bytes.
    pub dropped_bytes: usize,
    /// Marks it caused to be echoed at once.
    pub marks_echoed: usize,
}

impl ClearRecord {
    /// Queued audio it dropped, in milliseconds.
    pub fn dropped_ms(&self) -> u64 {
        (self.dropped_bytes / MULAW_BYTES_PER_MS) as u64
    }
}

/// How a simulated call ended.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallEnd {
    /// The script hung up: the simulator sent `stop` and closed the socket.
    HungUp,
    /// The server closed the socket (the simulator sends no `stop` then, like Twilio).
    ServerClosed,
    /// The socket failed or ended without a close frame (see [`CallRecord::issues`]).
    ConnectionLost,
    /// The script's maximum duration passed; the simulator sent `stop` and closed.
    MaxDuration,
}

/// A WebSocket close frame.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CloseInfo {
    /// The close code (1000 = normal).
    pub code: u16,
    /// The reason text.
    pub reason: String,
}

/// Something that went wrong during a call. Twilio would drop the message and log a
/// warning (31950/31951) without a word on the socket; the simulator records it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallIssue {
    /// A text frame that is not a valid command (31951): bad JSON, unknown event, missing
    /// or extra field.
    InvalidFrame {
        /// When it arrived.
        at: Duration,
        /// The decode error, as text.
        error: String,
    },
    /// A binary frame (31950).
    BinaryFrame {
        /// When it arrived.
        at: Duration,
        /// Its length.
        len: usize,
    },
    /// A command for another `streamSid` (31951).
    ForeignStreamSid {
        /// When it arrived.
        at: Duration,
        /// The `streamSid` it carried.
        found: StreamSid,
    },
    /// A `media` whose payload is not valid base64.
    InvalidPayload {
        /// When it arrived.
        at: Duration,
        /// Why.
        error: PayloadError,
    },
    /// `media` beyond the playout buffer's limit, dropped.
    PlayoutOverflow {
        /// When it arrived.
        at: Duration,
        /// Bytes dropped.
        dropped_bytes: usize,
    },
    /// The socket failed.
    Socket {
        /// When.
        at: Duration,
        /// The error, as text.
        error: String,
    },
}
