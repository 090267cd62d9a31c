//! Rate-limited log lines: a line that may repeat fast (a peer misbehaving on every frame, a
//! flood of idle connections) is written at most once per interval, and the next line
//! written says how many were held back, so nothing is lost but the repetition.
//!
//! The bridge's Twilio leg logs its skipped input this way; a server of your own can do the
//! same for its accept errors or refused requests.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use tokio::time::Instant;
//! use voice_bridge::throttle::Throttle;
//!
//! let mut throttle = Throttle::new(Duration::from_secs(10));
//! let t0 = Instant::now();
//! assert_eq!(throttle.hit(t0), Some(0)); // the first one is written at once
//! assert_eq!(throttle.hit(t0 + Duration::from_secs(1)), None); // held back
//! // An interval after the last line written: written, with the one held back.
//! assert_eq!(throttle.hit(t0 + Duration::from_secs(10)), Some(1));
//! ```

use std::time::Duration;

use tokio::time::Instant;

/// The interval of [`Throttle::default`]: 10 s.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// One kind of log line, written at most once per interval (see the [module docs](self)).
///
/// Time is tokio's [`Instant`], so tests on a paused clock see it move.
#[derive(Debug, Clone)]
pub struct Throttle {
    interval: Duration,
    last_line: Option<Instant>,
    held_back: u64,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(DEFAULT_INTERVAL)
    }
}

impl Throttle {
    /// At most one line per `interval`.
    pub const fn new(interval: Duration) -> Self {
        Self {
            interval,
            last_line: None,
            held_back: 0,
        }
    }

    /// Records one occurrence at `now`: `Some(n)` when its line is to be written now, `n`
    /// being how many occurrences were held back since the last line written (0 for the
    /// first); `None` when it is held back.
    pub fn hit(&mut self, now: Instant) -> Option<u64> {
        match self.last_line {
            Some(at) if now.saturating_duration_since(at) < self.interval => {
                self.held_back += 1;
                None
            }
            _ => {
                self.last_line = Some(now);
                Some(std::mem::take(&mut self.held_back))
            }
        }
    }
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
        assert_eq!(throttle.hit(t0 + DEFAULT_INTERVAL), Some(476));
        assert_eq!(throttle.hit(t0 + DEFAULT_INTERVAL), None);
        // A quiet spell: the next one logs at once, with the one since.
        assert_eq!(throttle.hit(t0 + DEFAULT_INTERVAL * 5), Some(1));
    }
}
