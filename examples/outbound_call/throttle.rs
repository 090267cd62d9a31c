//! A log line that may repeat fast (a flood of idle connections, a listener out of file
//! descriptors) is written at most once per interval; the next line written says how many
//! were held back in between, so nothing is lost but the repetition. This is
//! [`voice_bridge::throttle::Throttle`] shared between the server's tasks.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How often a repeated line is written at most.
pub const INTERVAL: Duration = voice_bridge::throttle::DEFAULT_INTERVAL;

/// One kind of log line, rate-limited, shared between tasks. Time is tokio's, so tests on a
/// paused clock see it.
#[derive(Debug, Default)]
pub struct Throttle(Mutex<voice_bridge::throttle::Throttle>);

impl Throttle {
    /// At most one line per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self(Mutex::new(voice_bridge::throttle::Throttle::new(interval)))
    }

    /// One more occurrence: `Some(n)` when it is to be written now, `n` being how many were
    /// held back since the last line written; `None` when it is held back.
    pub fn hit(&self) -> Option<u64> {
        self.0
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .hit(Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn one_line_per_interval_and_the_next_counts_the_rest() {
        let throttle = Throttle::new(Duration::from_secs(10));
        assert_eq!(throttle.hit(), Some(0), "the first is written");
        for _ in 0..5 {
            tokio::time::sleep(Duration::from_secs(1)).await;
            assert_eq!(throttle.hit(), None);
        }
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            throttle.hit(),
            Some(5),
            "10 s after the first: written with the 5"
        );
        assert_eq!(throttle.hit(), None);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(throttle.hit(), Some(1));
    }
}
