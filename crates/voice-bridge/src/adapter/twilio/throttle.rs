//! Rate-limited log lines for the input a Twilio leg skips or finds out of order.
//!
//! A peer that misbehaves tends to do it on every frame (50 a second): one line per frame
//! would bury everything else. Each cause logs its first occurrence at once, then at most
//! one line per [`REPEAT_INTERVAL`] saying how many happened since its last line; the
//! counters keep every occurrence, and the leg's last line sums them up.

use std::time::Duration;

pub(super) use crate::throttle::Throttle;

/// At most one line per cause per call in this long.
pub(super) const REPEAT_INTERVAL: Duration = crate::throttle::DEFAULT_INTERVAL;

/// One [`Throttle`] per cause a Twilio leg logs as a warning while the call goes on.
#[derive(Debug, Default)]
pub(super) struct Throttles {
    /// Text frames that do not decode.
    pub(super) undecodable: Throttle,
    /// Messages that break the stream's rules.
    pub(super) rules: Throttle,
    /// `sequenceNumber` gaps and reorders.
    pub(super) gaps: Throttle,
    /// `media` payloads that are not base64.
    pub(super) payloads: Throttle,
    /// Binary frames.
    pub(super) binary: Throttle,
    /// DTMF messages whose digit is not one key.
    pub(super) dtmf: Throttle,
    /// Marks not sent (too many pending: the caller's side stopped echoing them).
    pub(super) marks: Throttle,
    /// `clear`s the session could not record.
    pub(super) clears: Throttle,
}
