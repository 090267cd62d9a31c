//! In-memory legs over channel pairs: for tests, demos, and as a model for a new leg.
//!
//! [`call_leg`] returns a [`CallLeg`] for the bridge and a [`CallPeer`] that plays the
//! telephony side: it sends [`CallEvent`]s and receives the bridge's [`CallCommand`]s.
//! [`agent_leg`] does the same for the agent side. Channels are bounded, so a peer that
//! stops reading slows the bridge down instead of growing a queue.
//!
//! A peer dropped without sending `Ended` looks to the bridge like a connection that
//! closed without a goodbye ([`LegEnd::Closed`]).

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::agent::{AgentCommand, AgentEvent};
use crate::call::{CallCommand, CallEvent};
use crate::leg::{AgentLeg, CallLeg, LegEnd, LegError};

/// A call leg whose other end is a [`CallPeer`].
#[derive(Debug)]
pub struct MemoryCallLeg {
    events: mpsc::Receiver<CallEvent>,
    commands: mpsc::Sender<CallCommand>,
}

/// The telephony side of a [`MemoryCallLeg`].
#[derive(Debug)]
pub struct CallPeer {
    events: mpsc::Sender<CallEvent>,
    commands: mpsc::Receiver<CallCommand>,
}

/// An agent leg whose other end is an [`AgentPeer`].
#[derive(Debug)]
pub struct MemoryAgentLeg {
    events: mpsc::Receiver<AgentEvent>,
    commands: mpsc::Sender<AgentCommand>,
}

/// The agent side of a [`MemoryAgentLeg`].
#[derive(Debug)]
pub struct AgentPeer {
    events: mpsc::Sender<AgentEvent>,
    commands: mpsc::Receiver<AgentCommand>,
}

/// A call leg and its peer, with room for `capacity` messages each way.
///
/// # Panics
///
/// If `capacity` is 0.
pub fn call_leg(capacity: usize) -> (MemoryCallLeg, CallPeer) {
    let (event_tx, event_rx) = mpsc::channel(capacity);
    let (command_tx, command_rx) = mpsc::channel(capacity);
    (
        MemoryCallLeg {
            events: event_rx,
            commands: command_tx,
        },
        CallPeer {
            events: event_tx,
            commands: command_rx,
        },
    )
}

/// An agent leg and its peer, with room for `capacity` messages each way.
///
/// # Panics
///
/// If `capacity` is 0.
pub fn agent_leg(capacity: usize) -> (MemoryAgentLeg, AgentPeer) {
    let (event_tx, event_rx) = mpsc::channel(capacity);
    let (command_tx, command_rx) = mpsc::channel(capacity);
    (
        MemoryAgentLeg {
            events: event_rx,
            commands: command_tx,
        },
        AgentPeer {
            events: event_tx,
            commands: command_rx,
        },
    )
}

fn peer_gone() -> LegEnd {
    LegEnd::Closed {
        code: None,
        reason: "in-memory peer dropped".into(),
    }
}

#[async_trait]
impl CallLeg for MemoryCallLeg {
    async fn recv(&mut self) -> Result<CallEvent, LegError> {
        Ok(self
            .events
            .recv()
            .await
            .unwrap_or_else(|| CallEvent::Ended(peer_gone())))
    }

    async fn send(&mut self, command: CallCommand) -> Result<(), LegError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| LegError::new("in-memory call peer dropped"))
    }
}

#[async_trait]
impl AgentLeg for MemoryAgentLeg {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        Ok(self
            .events
            .recv()
            .await
            .unwrap_or_else(|| AgentEvent::Ended(peer_gone())))
    }

    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError> {
        self.commands
            .send(command)
            .await
            .map_err(|_| LegError::new("in-memory agent peer dropped"))
    }
}

impl CallPeer {
    /// Sends an event to the bridge.
    ///
    /// # Errors
    ///
    /// Gives the event back if the leg has been dropped.
    pub async fn send(&self, event: CallEvent) -> Result<(), CallEvent> {
        self.events.send(event).await.map_err(|error| error.0)
    }

    /// The bridge's next command; `None` once the leg has been dropped.
    pub async fn recv(&mut self) -> Option<CallCommand> {
        self.commands.recv().await
    }

    /// The next command if one is waiting.
    pub fn try_recv(&mut self) -> Option<CallCommand> {
        self.commands.try_recv().ok()
    }

    /// Whether the bridge has dropped the leg.
    pub fn is_closed(&self) -> bool {
        self.events.is_closed()
    }
}

impl AgentPeer {
    /// Sends an event to the bridge.
    ///
    /// # Errors
    ///
    /// Gives the event back if the leg has been dropped.
    pub async fn send(&self, event: AgentEvent) -> Result<(), AgentEvent> {
        self.events.send(event).await.map_err(|error| error.0)
    }

    /// The bridge's next command; `None` once the leg has been dropped.
    pub async fn recv(&mut self) -> Option<AgentCommand> {
        self.commands.recv().await
    }

    /// The next command if one is waiting.
    pub fn try_recv(&mut self) -> Option<AgentCommand> {
        self.commands.try_recv().ok()
    }

    /// Whether the bridge has dropped the leg.
    pub fn is_closed(&self) -> bool {
        self.events.is_closed()
    }
}
