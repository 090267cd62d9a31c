//! A log line that may repeat fast (a flood of idle connections, a listener out of file
//! descriptors) is written at most once per interval; the next line written says how many
//! were held back in between, so nothing is lost but the repetition.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// How often a repeated line is written at most.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// One kind of log line, rate-limited. Time is tokio's, so tests on a paused clock see it.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    last: Option<Instant>,
    held_back: u64,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(INTERVAL)
    }
}

impl Throttle {
    /// At most one line per `interval`.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            state: Mutex::new(State::default()),
        }
    }

    /// One more occurrence: `Some(n)` when it is to be written now, `n` being how many were
    /// held back since the last line written; `None` when it is held back.
    pub fn hit(&self) -> Option<u64> {
        let now = Instant::now();
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        match state.last {
            Some(last) if now.duration_since(last) < self.interval => {
                state.held_back += 1;
                None
            }
            _ => {
                state.last = Some(now);
                Some(std::mem::take(&mut state.held_back))
            }
        }
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
