//! Watching a call live: every event and command the [`Bridge`](crate::Bridge) passes
//! between the legs, as it passes.
//!
//! An observer sees the same vocabulary as the engine: what the caller's side reported
//! ([`CallEvent`]: start, audio, marks played, DTMF, the end), what the bridge told it
//! ([`CallCommand`]: audio to play, marks, `Clear` on a barge-in, hang-up), what the agent
//! reported ([`AgentEvent`]: transcripts, tool calls, errors) and what the bridge told the
//! agent ([`AgentCommand`]: caller audio, truncation at a barge-in, tool results). Print a
//! live transcript, record the call ([`CallRecorder`](crate::recording::CallRecorder)),
//! export metrics.
//!
//! The observer runs on the bridge's task, synchronously, before the event reaches the
//! engine and before the command reaches its leg: keep it short (no blocking I/O; hand
//! heavy work to a channel). It gets references, so nothing is cloned or allocated for
//! it; a bridge without an observer ([`NoObserver`], the default) compiles the calls away.
//!
//! # Examples
//!
//! A closure over [`Observed`] is an observer through [`observe_fn`]:
//!
//! ```
//! use voice_bridge::observer::{Observed, observe_fn};
//! use voice_bridge::{AgentEvent, Bridge, CallCommand, memory};
//!
//! # async fn example() {
//! let (call, _phone) = memory::call_leg(64);
//! let (agent, _model) = memory::agent_leg(64);
//! let bridge = Bridge::new(call, agent).with_observer(observe_fn(|seen: Observed<'_>| match seen {
//!     Observed::AgentEvent(AgentEvent::Transcript(t)) if t.is_final => {
//!         println!("{:?}: {}", t.speaker, t.text);
//!     }
//!     Observed::CallCommand(CallCommand::Clear) => println!("barge-in"),
//!     _ => {}
//! }));
//! let report = bridge.run().await;
//! # let _ = report;
//! # }
//! ```

use crate::agent::{AgentCommand, AgentEvent};
use crate::call::{CallCommand, CallEvent};

/// One thing passing through the bridge.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Observed<'a> {
    /// The call leg reported this (also an end the bridge made of a leg failure).
    CallEvent(&'a CallEvent),
    /// The bridge is sending this to the call leg.
    CallCommand(&'a CallCommand),
    /// The agent leg reported this (also an end the bridge made of a leg failure).
    AgentEvent(&'a AgentEvent),
    /// The bridge is sending this to the agent leg.
    AgentCommand(&'a AgentCommand),
}

/// Sees every event and command of a call as the [`Bridge`](crate::Bridge) passes it.
///
/// Implement it, or wrap a closure with [`observe_fn`]. `&mut` observers (lent for one
/// call), `Option`s of observers and pairs of observers are observers too. See the
/// [module docs](self).
pub trait BridgeObserver: Send {
    /// Called for each event as it arrives and each command as it is sent.
    fn observe(&mut self, seen: Observed<'_>);
}

/// A closure as a [`BridgeObserver`] (made by [`observe_fn`]).
#[derive(Debug, Clone, Copy)]
pub struct ObserveFn<F>(F);

/// Wraps a closure `FnMut(Observed<'_>) + Send` as a [`BridgeObserver`].
pub fn observe_fn<F: FnMut(Observed<'_>) + Send>(f: F) -> ObserveFn<F> {
    ObserveFn(f)
}

impl<F: FnMut(Observed<'_>) + Send> BridgeObserver for ObserveFn<F> {
    #[inline]
    fn observe(&mut self, seen: Observed<'_>) {
        (self.0)(seen);
    }
}

/// Lends an observer to a bridge: it is yours again after the call (e.g. a recorder).
impl<O: BridgeObserver + ?Sized> BridgeObserver for &mut O {
    #[inline]
    fn observe(&mut self, seen: Observed<'_>) {
        (**self).observe(seen);
    }
}

/// An observer that may be absent (e.g. a recorder only when recording is on).
impl<O: BridgeObserver> BridgeObserver for Option<O> {
    #[inline]
    fn observe(&mut self, seen: Observed<'_>) {
        if let Some(observer) = self {
            observer.observe(seen);
        }
    }
}

/// Two observers, each seeing everything (first `.0`, then `.1`); nest for more.
impl<A: BridgeObserver, B: BridgeObserver> BridgeObserver for (A, B) {
    #[inline]
    fn observe(&mut self, seen: Observed<'_>) {
        self.0.observe(seen);
        self.1.observe(seen);
    }
}

/// No observer: the default of a [`Bridge`](crate::Bridge). Its `observe` is empty and
/// inlined, so an unobserved bridge pays nothing per frame.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl BridgeObserver for NoObserver {
    #[inline(always)]
    fn observe(&mut self, _: Observed<'_>) {}
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::audio::{AudioChunk, AudioFormat};
    use crate::{AgentReady, Bridge, CallStart, LegEnd, Speaker, Transcript, memory};

    /// What an observer saw, in words.
    fn name(seen: Observed<'_>) -> String {
        match seen {
            Observed::CallEvent(CallEvent::Started(_)) => "call:started".into(),
            Observed::CallEvent(CallEvent::Audio(_)) => "call:audio".into(),
            Observed::CallEvent(CallEvent::Ended(_)) => "call:ended".into(),
            Observed::AgentEvent(AgentEvent::Ready(_)) => "agent:ready".into(),
            Observed::AgentEvent(AgentEvent::Transcript(t)) => format!("agent:said {}", t.text),
            Observed::AgentCommand(AgentCommand::Audio(_)) => "to-agent:audio".into(),
            Observed::AgentCommand(AgentCommand::Close) => "to-agent:close".into(),
            other => format!("other {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_observer_sees_events_and_commands_in_order() {
        let (call, phone) = memory::call_leg(64);
        let (agent, mut model) = memory::agent_leg(64);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let bridge = tokio::spawn(
            Bridge::new(call, agent)
                .with_observer(observe_fn(move |seen: Observed<'_>| {
                    let _ = tx.send(name(seen));
                }))
                .run(),
        );
        let mulaw = AudioFormat::MuLaw;
        phone
            .send(CallEvent::Started(CallStart::new("CA1", "MZ1", mulaw)))
            .await
            .unwrap();
        let ready = AgentReady::new(mulaw, mulaw);
        model.send(AgentEvent::Ready(ready)).await.unwrap();
        let frame = AudioChunk::from_bytes(mulaw, vec![0xff; 160]).unwrap();
        phone.send(CallEvent::Audio(frame)).await.unwrap();
        assert!(matches!(model.recv().await, Some(AgentCommand::Audio(_))));
        model
            .send(AgentEvent::Transcript(Transcript {
                speaker: Speaker::Caller,
                item_id: None,
                text: "hello".into(),
                is_final: true,
            }))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        phone
            .send(CallEvent::Ended(LegEnd::Finished))
            .await
            .unwrap();
        assert_eq!(model.recv().await, Some(AgentCommand::Close));
        bridge.await.unwrap();

        let mut seen = Vec::new();
        while let Ok(name) = rx.try_recv() {
            seen.push(name);
        }
        // The bridge may take the caller's frame before the agent's `ready` (it then holds
        // the frame as early audio), and set-up commands may come between; these come in
        // this order.
        assert!(seen.iter().any(|name| name == "agent:ready"), "{seen:?}");
        let wanted = [
            "call:started",
            "call:audio",
            "to-agent:audio",
            "agent:said hello",
            "call:ended",
            "to-agent:close",
        ];
        let mut at = 0;
        for name in &seen {
            if at < wanted.len() && name == wanted[at] {
                at += 1;
            }
        }
        assert_eq!(at, wanted.len(), "{seen:?}");
    }

    #[test]
    fn lent_optional_and_paired_observers_all_see_everything() {
        let mut count = 0;
        let mut counter = observe_fn(|_: Observed<'_>| count += 1);
        let mut absent: Option<NoObserver> = None;
        let mut pair = (&mut counter, (&mut absent, NoObserver));
        pair.observe(Observed::CallCommand(&CallCommand::Clear));
        pair.observe(Observed::AgentCommand(&AgentCommand::Close));
        let mut other = 0;
        let mut again = (Some(observe_fn(|_: Observed<'_>| other += 1)), &mut counter);
        again.observe(Observed::CallCommand(&CallCommand::HangUp));
        assert_eq!((count, other), (3, 1));
    }

    #[test]
    fn no_observer_is_zero_sized() {
        assert_eq!(size_of::<NoObserver>(), 0);
    }
}
