//! In-memory legs over channel pairs: for tests, demos, and as a model for a new leg.
//!
//! [`call_leg`] returns a [`CallLeg`] for the bridge and a [`CallPeer`] that plays the
//! telephony side: it sends [`CallEvent`]s and receives the bridge's [`CallCommand`]s.
//! [`agent_leg`] does the same for the agent side. Channels are bounded, so a peer that
//! stops reading slows the bridge down instead of growing a queue.
//!
//! A peer can also break its leg in the ways a connection breaks:
//!
//! - dropped without sending `Ended`, it looks to the bridge like a connection that
//!   closed without a goodbye ([`LegEnd::Closed`]);
//! - [`CallPeer::fail`] makes the leg's `recv` return an error (a read that failed), after
//!   the events sent before it;
//! - [`CallPeer::fail_sends`] makes every later `send` to the leg fail (a write that
//!   failed).
//!
//! [`AgentPeer`] has the same.
//!
//! ```
//! use voice_bridge::audio::AudioFormat;
//! use voice_bridge::report::EndReason;
//! use voice_bridge::{Bridge, CallEvent, CallStart, LegEnd, LegError, memory};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (call, phone) = memory::call_leg(8);
//! let (agent, _model) = memory::agent_leg(8);
//! let bridge = tokio::spawn(Bridge::new(call, agent).run());
//! let start = CallStart::new("CA1", "MZ1", AudioFormat::MuLaw);
//! phone.send(CallEvent::Started(start)).await.unwrap();
//! phone.fail(LegError::new("connection reset")).await.unwrap();
//!
//! let report = bridge.await.unwrap();
//! let failed = LegEnd::Failed { message: "connection reset".into() };
//! assert_eq!(report.outcome.reason, EndReason::CallEnded { end: failed });
//! # }
//! ```

use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::agent::{AgentCommand, AgentEvent};
use crate::call::{CallCommand, CallEvent};
use crate::leg::{AgentLeg, CallLeg, LegEnd, LegError};

/// A call leg whose other end is a [`CallPeer`].
#[derive(Debug)]
pub struct MemoryCallLeg {
    pipe: LegSide<CallEvent, CallCommand>,
}

/// The telephony side of a [`MemoryCallLeg`].
#[derive(Debug)]
pub struct CallPeer {
    pipe: PeerSide<CallEvent, CallCommand>,
}

/// An agent leg whose other end is an [`AgentPeer`].
#[derive(Debug)]
pub struct MemoryAgentLeg {
    pipe: LegSide<AgentEvent, AgentCommand>,
}

/// The agent side of a [`MemoryAgentLeg`].
#[derive(Debug)]
pub struct AgentPeer {
    pipe: PeerSide<AgentEvent, AgentCommand>,
}

/// A call leg and its peer, with room for `capacity` messages each way.
///
/// # Panics
///
/// If `capacity` is 0.
pub fn call_leg(capacity: usize) -> (MemoryCallLeg, CallPeer) {
    let (leg, peer) = pipe(capacity);
    (MemoryCallLeg { pipe: leg }, CallPeer { pipe: peer })
}

/// An agent leg and its peer, with room for `capacity` messages each way.
///
/// # Panics
///
/// If `capacity` is 0.
pub fn agent_leg(capacity: usize) -> (MemoryAgentLeg, AgentPeer) {
    let (leg, peer) = pipe(capacity);
    (MemoryAgentLeg { pipe: leg }, AgentPeer { pipe: peer })
}

#[async_trait]
impl CallLeg for MemoryCallLeg {
    async fn recv(&mut self) -> Result<CallEvent, LegError> {
        self.pipe.recv(CallEvent::Ended).await
    }

    async fn send(&mut self, command: CallCommand) -> Result<(), LegError> {
        self.pipe.send(command, "in-memory call peer dropped").await
    }
}

#[async_trait]
impl AgentLeg for MemoryAgentLeg {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        self.pipe.recv(AgentEvent::Ended).await
    }

    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError> {
        self.pipe
            .send(command, "in-memory agent peer dropped")
            .await
    }
}

impl CallPeer {
    /// Sends an event to the bridge.
    ///
    /// # Errors
    ///
    /// Gives the event back if the leg has been dropped.
    pub async fn send(&self, event: CallEvent) -> Result<(), CallEvent> {
        self.pipe.send(event).await
    }

    /// Breaks the leg's reading side: once the events sent before have been received, the
    /// leg's `recv` returns `error` (as a socket read that failed).
    ///
    /// # Errors
    ///
    /// Gives the error back if the leg has been dropped.
    pub async fn fail(&self, error: LegError) -> Result<(), LegError> {
        self.pipe.fail(error).await
    }

    /// Breaks the leg's writing side: from now on every `send` to the leg fails with a
    /// [`LegError`] saying `message` (as a socket write that failed). Commands already
    /// sent can still be received. Only the first call counts.
    pub fn fail_sends(&self, message: impl Into<String>) {
        self.pipe.fail_sends(message.into());
    }

    /// The bridge's next command; `None` once the leg has been dropped.
    pub async fn recv(&mut self) -> Option<CallCommand> {
        self.pipe.commands.recv().await
    }

    /// The next command if one is waiting.
    pub fn try_recv(&mut self) -> Option<CallCommand> {
        self.pipe.commands.try_recv().ok()
    }

    /// Whether the bridge has dropped the leg.
    pub fn is_closed(&self) -> bool {
        self.pipe.events.is_closed()
    }
}

impl AgentPeer {
    /// Sends an event to the bridge.
    ///
    /// # Errors
    ///
    /// Gives the event back if the leg has been dropped.
    pub async fn send(&self, event: AgentEvent) -> Result<(), AgentEvent> {
        self.pipe.send(event).await
    }

    /// Breaks the leg's reading side: once the events sent before have been received, the
    /// leg's `recv` returns `error` (as a socket read that failed).
    ///
    /// # Errors
    ///
    /// Gives the error back if the leg has been dropped.
    pub async fn fail(&self, error: LegError) -> Result<(), LegError> {
        self.pipe.fail(error).await
    }

    /// Breaks the leg's writing side: from now on every `send` to the leg fails with a
    /// [`LegError`] saying `message` (as a socket write that failed). Commands already
    /// sent can still be received. Only the first call counts.
    pub fn fail_sends(&self, message: impl Into<String>) {
        self.pipe.fail_sends(message.into());
    }

    /// The bridge's next command; `None` once the leg has been dropped.
    pub async fn recv(&mut self) -> Option<AgentCommand> {
        self.pipe.commands.recv().await
    }

    /// The next command if one is waiting.
    pub fn try_recv(&mut self) -> Option<AgentCommand> {
        self.pipe.commands.try_recv().ok()
    }

    /// Whether the bridge has dropped the leg.
    pub fn is_closed(&self) -> bool {
        self.pipe.events.is_closed()
    }
}

/// The leg's end of a pair of channels: events (or a read error) in, commands out.
#[derive(Debug)]
struct LegSide<E, C> {
    events: mpsc::Receiver<Result<E, LegError>>,
    commands: mpsc::Sender<C>,
    /// Set by the peer: why every send now fails.
    sends_fail: Arc<OnceLock<String>>,
}

/// The peer's end of the same channels.
#[derive(Debug)]
struct PeerSide<E, C> {
    events: mpsc::Sender<Result<E, LegError>>,
    commands: mpsc::Receiver<C>,
    sends_fail: Arc<OnceLock<String>>,
}

fn pipe<E, C>(capacity: usize) -> (LegSide<E, C>, PeerSide<E, C>) {
    let (event_tx, event_rx) = mpsc::channel(capacity);
    let (command_tx, command_rx) = mpsc::channel(capacity);
    let sends_fail = Arc::new(OnceLock::new());
    (
        LegSide {
            events: event_rx,
            commands: command_tx,
            sends_fail: sends_fail.clone(),
        },
        PeerSide {
            events: event_tx,
            commands: command_rx,
            sends_fail,
        },
    )
}

impl<E: Send, C: Send> LegSide<E, C> {
    /// The next event; `ended` makes the leg's `Ended` event when the peer is gone.
    /// Cancel safe (`mpsc::Receiver::recv` is).
    async fn recv(&mut self, ended: fn(LegEnd) -> E) -> Result<E, LegError> {
        self.events.recv().await.unwrap_or_else(|| {
            Ok(ended(LegEnd::Closed {
                code: None,
                reason: "in-memory peer dropped".into(),
            }))
        })
    }

    async fn send(&mut self, command: C, peer_dropped: &'static str) -> Result<(), LegError> {
        if let Some(message) = self.sends_fail.get() {
            return Err(LegError::new(message.clone()));
        }
        self.commands
            .send(command)
            .await
            .map_err(|_| LegError::new(peer_dropped))
    }
}

impl<E, C> PeerSide<E, C> {
    /// Sends an event, or gives it back if the leg is gone. (Reserving first keeps the
    /// event in hand until there is room for it.)
    async fn send(&self, event: E) -> Result<(), E> {
        match self.events.reserve().await {
            Ok(permit) => {
                permit.send(Ok(event));
                Ok(())
            }
            Err(_closed) => Err(event),
        }
    }

    async fn fail(&self, error: LegError) -> Result<(), LegError> {
        match self.events.reserve().await {
            Ok(permit) => {
                permit.send(Err(error));
                Ok(())
            }
            Err(_closed) => Err(error),
        }
    }

    fn fail_sends(&self, message: String) {
        // Only the first reason counts: a write side breaks once.
        let _ = self.sends_fail.set(message);
    }
}
