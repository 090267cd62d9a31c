//! Rate-limited log lines for the input a Twilio leg skips or finds out of order.
//!
//! A peer that misbehaves tends to do it on every frame (50 a second): one line per frame
//! would bury everything else. Each cause logs its first occurrence at once, then at most
//! one line per [`REPEAT_INTERVAL`] saying how many happened since its last line; the
//! counters keep every occurrence, and the leg's last line sums them up.

use std::time::Duration;

use tokio::time::Instant;

/// At most one line per cause per call in this long.
pub(super) const REPEAT_INTERVAL: Duration = Duration::from_secs(10);

/// When one cause may log again.
#[derive(Debug, Default)]
pub(super) struct Throttle {
    last_line: Option<Instant>,
    since_line: u64,
}

impl Throttle {
    /// Records one occurrence at `now`. `Some(n)` when a line is due, `n` being how many
    /// occurrences were not logged since the cause's last line (0 for the first).
    pub(super) fn hit(&mut self, now: Instant) -> Option<u64> {
        match self.last_line {
            Some(at) if now.saturating_duration_since(at) < REPEAT_INTERVAL => {
                self.since_line += 1;
                None
            }
            _ => {
                self.last_line = Some(now);
                Some(std::mem::take(&mut self.since_line))
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_occurrence_logs_then_one_line_per_interval_with_the_count_since() {
        let t0 = Instant::now();
        let mut throttle = Throttle::default();
        assert_eq!(throttle.hit(t0), Some(0), "the first one logs at once");
        for ms in 1..=476 {
            assert_eq!(throttle.hit(t0 + Duration::from_millis(ms)), None);
        }
        // One interval after the last line: a line with the 476 not logged.
        assert_eq!(throttle.hit(t0 + REPEAT_INTERVAL), Some(476));
        assert_eq!(throttle.hit(t0 + REPEAT_INTERVAL), None);
        // A quiet spell: the next one logs at once, with the one since.
        assert_eq!(throttle.hit(t0 + REPEAT_INTERVAL * 5), Some(1));
    }
}
