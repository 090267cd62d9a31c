//! Graceful drain: what `serve` does between the first SIGTERM (or Ctrl-C) and its exit.
//!
//! 1. **Serving**: streams and webhooks are taken; `/readyz` answers 200.
//! 2. **Draining** (the first signal): `/readyz` answers 503 at once so a load balancer
//!    sends no new calls; a new media stream is refused with 503 and `Retry-After`; the
//!    calls in progress go on. Webhooks are still answered: they are about calls already
//!    placed (a status callback may be an unanswered call's outcome, an answering
//!    machine's verdict decides its voicemail), and refusing them would lose outcomes.
//! 3. **Ending** (the drain deadline passed, or a second signal): each call still running
//!    gets the fallback message and ends ([`voice_bridge::Bridge::with_shutdown`]); its
//!    report and outcome are written as for any call.
//! 4. The process exits once no call is left (every report written).
//!
//! [`Drain`] is the state only, with no signals and no timers, so it is tested without a
//! process; `serve` ([`crate::serve::run`]) drives it.

use std::sync::Arc;

use tokio::sync::watch;

/// The phase a server is in (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Taking calls.
    Serving,
    /// Taking no new calls; the calls in progress go on.
    Draining,
    /// Ending the calls still running with the fallback.
    Ending,
}

#[derive(Debug, Clone, Copy)]
struct State {
    phase: Phase,
    calls: usize,
}

/// The drain state a server's handlers share: its phase and its calls in progress.
#[derive(Debug)]
pub struct Drain {
    state: watch::Sender<State>,
}

impl Default for Drain {
    fn default() -> Self {
        Self::new()
    }
}

impl Drain {
    /// Serving, no calls.
    pub fn new() -> Self {
        let (state, _) = watch::channel(State {
            phase: Phase::Serving,
            calls: 0,
        });
        Self { state }
    }

    /// The phase now.
    pub fn phase(&self) -> Phase {
        self.state.borrow().phase
    }

    /// Whether new calls are taken (the answer of `/readyz`).
    pub fn is_accepting(&self) -> bool {
        self.phase() == Phase::Serving
    }

    /// The calls in progress.
    pub fn calls(&self) -> usize {
        self.state.borrow().calls
    }

    /// Stops taking new calls (the first signal). Returns whether this call changed the
    /// phase.
    pub fn begin(&self) -> bool {
        self.state.send_if_modified(|state| {
            let changed = state.phase == Phase::Serving;
            if changed {
                state.phase = Phase::Draining;
            }
            changed
        })
    }

    /// Ends the calls still running with the fallback (the deadline, or a second
    /// signal). Returns whether this call changed the phase.
    pub fn end_calls(&self) -> bool {
        self.state.send_if_modified(|state| {
            let changed = state.phase != Phase::Ending;
            state.phase = Phase::Ending;
            changed
        })
    }

    /// Counts a call in progress until the guard is dropped (after its report is
    /// written). Taken when the stream is accepted, before its task starts, so a drain
    /// never sees zero calls while one is on its way in.
    pub fn call(self: &Arc<Self>) -> CallGuard {
        self.state.send_modify(|state| state.calls += 1);
        CallGuard {
            drain: Arc::clone(self),
        }
    }

    /// Completes once no call is in progress.
    pub async fn idle(&self) {
        let mut state = self.state.subscribe();
        // The sender lives in `self`, which outlives this future: `wait_for` cannot fail.
        let _ = state.wait_for(|state| state.calls == 0).await;
    }

    /// Completes when the calls are to be ended ([`Phase::Ending`]), with the reason a
    /// call's report gives.
    pub fn ending(&self) -> impl Future<Output = String> + Send + 'static {
        let mut state = self.state.subscribe();
        async move {
            if state
                .wait_for(|state| state.phase == Phase::Ending)
                .await
                .is_err()
            {
                // The server is gone without ending its calls: nothing to wait for.
                std::future::pending::<()>().await;
            }
            "the server is shutting down and its drain deadline passed".to_owned()
        }
    }
}

/// A call in progress, counted by its [`Drain`] until dropped.
#[derive(Debug)]
#[must_use = "the call is counted only while the guard is held"]
pub struct CallGuard {
    drain: Arc<Drain>,
}

impl Drop for CallGuard {
    fn drop(&mut self) {
        self.drain
            .state
            .send_modify(|state| state.calls = state.calls.saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_drain_refuses_new_calls_waits_for_the_running_ones_then_ends_them() {
        let drain = Arc::new(Drain::new());
        assert!(drain.is_accepting());
        let first = drain.call();
        let second = drain.call();
        assert_eq!(drain.calls(), 2);

        assert!(drain.begin());
        assert!(!drain.begin(), "a second begin changes nothing");
        assert_eq!(drain.phase(), Phase::Draining);
        assert!(!drain.is_accepting());

        let ending = tokio::spawn(drain.ending());
        tokio::task::yield_now().await;
        assert!(!ending.is_finished(), "draining does not end the calls");
        drop(first);
        assert_eq!(drain.calls(), 1);

        assert!(drain.end_calls());
        assert!(!drain.end_calls());
        let why = ending.await.unwrap();
        assert!(why.contains("drain deadline passed"), "{why}");

        let idle = tokio::spawn({
            let drain = Arc::clone(&drain);
            async move { drain.idle().await }
        });
        tokio::task::yield_now().await;
        assert!(!idle.is_finished(), "a call is still running");
        drop(second);
        idle.await.unwrap();
        assert_eq!(drain.calls(), 0);
    }

    #[tokio::test]
    async fn a_second_signal_can_end_the_calls_without_a_drain_first() {
        let drain = Arc::new(Drain::new());
        let guard = drain.call();
        assert!(drain.end_calls());
        assert_eq!(drain.phase(), Phase::Ending);
        assert!(!drain.is_accepting());
        drain.ending().await;
        drop(guard);
        drain.idle().await;
    }
}
