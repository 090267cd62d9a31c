//! The two leg traits, and how a leg ends or fails.
//!
//! A leg is anything that speaks the bridge's vocabulary for one side of a call: the
//! telephony side ([`CallLeg`]: Twilio, Telnyx, a SIP stack, a test double) or the agent
//! side ([`AgentLeg`]: OpenAI Realtime, another model). The [`Bridge`](crate::Bridge)
//! runs one call between any two.
//!
//! # Writing a leg
//!
//! - `recv` returns the next event. It must be **cancel safe**: the bridge calls it in a
//!   `select!` and may drop the future when something else happens first, then call it
//!   again. A leg that connects lazily keeps the connecting future inside itself.
//! - After the leg's last event (an `Ended`), or after `recv` returns an error, the bridge
//!   does not call `recv` again.
//! - `send` carries out one command. An error means the leg is broken; the bridge ends
//!   the call with [`LegEnd::Failed`].
//! - A call leg that knows the call's ids before its first event (it has already read the
//!   call's start, as [`TwilioLeg::wait_start`] does) says so in
//!   [`CallLeg::call_ids`]: the bridge puts them on the call's tracing span before it
//!   polls either leg, so even the agent's first lines (its connect) carry them.
//! - The bridge ends every leg by a last command ([`CallCommand::HangUp`],
//!   [`CallCommand::HandOver`] or [`AgentCommand::Close`]) given at most one second, and
//!   then drops it; a leg must release its connection on drop.
//!
//! [`TwilioLeg::wait_start`]: crate::adapter::twilio::TwilioLeg::wait_start
//!
//! # Example: a tiny custom leg
//!
//! A call leg over a pair of channels, as a user might write for a SIP stack or a test:
//!
//! ```
//! use async_trait::async_trait;
//! use tokio::sync::mpsc;
//! use voice_bridge::{CallCommand, CallEvent, CallLeg, LegEnd, LegError};
//!
//! struct ChannelCall {
//!     events: mpsc::Receiver<CallEvent>,
//!     commands: mpsc::Sender<CallCommand>,
//! }
//!
//! #[async_trait]
//! impl CallLeg for ChannelCall {
//!     async fn recv(&mut self) -> Result<CallEvent, LegError> {
//!         // `mpsc::Receiver::recv` is cancel safe, so this is too.
//!         Ok(self.events.recv().await.unwrap_or(CallEvent::Ended(LegEnd::Closed {
//!             code: None,
//!             reason: "event channel closed".into(),
//!         })))
//!     }
//!
//!     async fn send(&mut self, command: CallCommand) -> Result<(), LegError> {
//!         self.commands.send(command).await.map_err(|_| LegError::new("command channel closed"))
//!     }
//! }
//! ```

use std::error::Error as StdError;
use std::fmt;

use async_trait::async_trait;
use serde::Serialize;

use crate::agent::{AgentCommand, AgentEvent, AgentUsage};
use crate::agent_session::AgentSessionInfo;
use crate::call::{CallCommand, CallEvent};
use crate::ids::{CallId, StreamId};

/// The telephony side of a call.
///
/// See the [module docs](crate::leg) for the contract (`recv` is cancel safe, the last
/// command, drop).
#[async_trait]
pub trait CallLeg: Send {
    /// The next event from the call. Cancel safe.
    ///
    /// # Errors
    ///
    /// A [`LegError`] if the leg broke; the bridge treats it as the leg's end.
    async fn recv(&mut self) -> Result<CallEvent, LegError>;

    /// Carries out one command.
    ///
    /// # Errors
    ///
    /// A [`LegError`] if the command could not be delivered; the bridge ends the call.
    async fn send(&mut self, command: CallCommand) -> Result<(), LegError>;

    /// The call's ids, if the leg knows them before its first event (for instance because
    /// it has already read the call's start); the same ids its
    /// [`CallEvent::Started`] will carry.
    ///
    /// The bridge asks once, before it polls either leg, and puts them on the call's
    /// tracing span, so every line of the call carries them from the first. The default,
    /// `None`, means they become known with `Started`: lines the agent leg logs before
    /// that (its connect, a refusal) then have none.
    fn call_ids(&self) -> Option<(CallId, StreamId)> {
        None
    }
}

/// The agent side of a call.
///
/// See the [module docs](crate::leg) for the contract. The first `recv` may be where the
/// leg connects; a refused connection is reported as
/// `AgentEvent::Ended(LegEnd::Refused { .. })`, so the bridge can play the fallback.
#[async_trait]
pub trait AgentLeg: Send {
    /// The next event from the agent. Cancel safe.
    ///
    /// # Errors
    ///
    /// A [`LegError`] if the leg broke; the bridge treats it as the leg's end.
    async fn recv(&mut self) -> Result<AgentEvent, LegError>;

    /// Carries out one command.
    ///
    /// # Errors
    ///
    /// A [`LegError`] if the command could not be delivered; the bridge ends the agent
    /// leg and plays the fallback.
    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError>;

    /// What the agent's service billed for the whole session, if the leg learned it while
    /// carrying out [`AgentCommand::Close`] (GPT-Live's `session.closed` carries the final
    /// usage). The bridge asks once, after the close, and puts it in the report's
    /// `agent_usage`: after the close it reads no more events from the leg. Default `None`.
    fn final_usage(&mut self) -> Option<AgentUsage> {
        None
    }

    /// The service sessions the leg ran the call on, in order, each with when and why it
    /// ended: one for most legs, several when a long call was continued in fresh sessions
    /// before the service's limit ([`OpenAiLeg`](crate::OpenAiLeg) with its
    /// [`RenewalPolicy`](crate::RenewalPolicy)). The bridge asks once, when the call has
    /// ended, and lists them in the report's `agent_sessions`. Default: none (the leg does
    /// not tell).
    fn sessions(&self) -> Vec<AgentSessionInfo> {
        Vec::new()
    }
}

#[async_trait]
impl<T: CallLeg + ?Sized> CallLeg for Box<T> {
    async fn recv(&mut self) -> Result<CallEvent, LegError> {
        (**self).recv().await
    }

    async fn send(&mut self, command: CallCommand) -> Result<(), LegError> {
        (**self).send(command).await
    }

    fn call_ids(&self) -> Option<(CallId, StreamId)> {
        (**self).call_ids()
    }
}

#[async_trait]
impl<T: AgentLeg + ?Sized> AgentLeg for Box<T> {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        (**self).recv().await
    }

    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError> {
        (**self).send(command).await
    }

    fn final_usage(&mut self) -> Option<AgentUsage> {
        (**self).final_usage()
    }

    fn sessions(&self) -> Vec<AgentSessionInfo> {
        (**self).sessions()
    }
}

/// Which side of the call.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The telephony leg.
    Call,
    /// The agent leg.
    Agent,
    /// The bridge itself (a limit, a timeout or a tool's decision).
    Bridge,
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Call => "call",
            Self::Agent => "agent",
            Self::Bridge => "bridge",
        })
    }
}

/// How a leg ended.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LegEnd {
    /// The peer ended in the protocol's normal way (Twilio `stop`: the caller hung up or
    /// the call was ended; an agent session ended by the agent).
    Finished,
    /// The connection closed without the protocol's goodbye.
    Closed {
        /// The WebSocket close code, if any.
        code: Option<u16>,
        /// The close reason, or what is known of the close.
        reason: String,
    },
    /// The peer refused the connection (a handshake answered with an error status).
    Refused {
        /// The HTTP status, if the refusal had one.
        status: Option<u16>,
        /// The response body or the error's text.
        detail: String,
    },
    /// The peer reported an error it cannot go on from (e.g. an agent `error` event
    /// followed by a close).
    Error {
        /// The peer's error code, if any.
        code: Option<String>,
        /// The peer's message.
        message: String,
    },
    /// The leg failed locally (I/O error, undeliverable command, protocol violation).
    Failed {
        /// What went wrong, with its causes.
        message: String,
    },
}

impl fmt::Display for LegEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Finished => f.write_str("finished"),
            Self::Closed {
                code: Some(code),
                reason,
            } => write!(f, "closed ({code}): {reason}"),
            Self::Closed { code: None, reason } => write!(f, "closed: {reason}"),
            Self::Refused {
                status: Some(status),
                detail,
            } => {
                write!(f, "refused (status {status}): {detail}")
            }
            Self::Refused {
                status: None,
                detail,
            } => write!(f, "refused: {detail}"),
            Self::Error {
                code: Some(code),
                message,
            } => write!(f, "error {code}: {message}"),
            Self::Error {
                code: None,
                message,
            } => write!(f, "error: {message}"),
            Self::Failed { message } => write!(f, "failed: {message}"),
        }
    }
}

impl From<&LegError> for LegEnd {
    /// [`LegEnd::Failed`] with the error and its causes ([`ErrorChain`]).
    fn from(error: &LegError) -> Self {
        Self::Failed {
            message: ErrorChain(error).to_string(),
        }
    }
}

/// An error and its causes (`source()`, to the root), joined by `": "`, each text once.
///
/// Our errors say only their own message in `Display` and give the cause by `source()`.
/// Some dependencies' errors also print their cause in their own text (tungstenite's
/// `IO error: {0}`, `Space limit exceeded: {0}`): a cause whose text the line already
/// ends with is left out, so no text is said twice.
///
/// ```
/// use voice_bridge::LegError;
/// use voice_bridge::leg::ErrorChain;
///
/// let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
/// let error = LegError::with_source("socket read failed", reset);
/// assert_eq!(ErrorChain(&error).to_string(), "socket read failed: reset by peer");
/// ```
#[derive(Clone, Copy)]
pub struct ErrorChain<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut line = self.0.to_string();
        let mut cause = self.0.source();
        while let Some(error) = cause {
            let text = error.to_string();
            if !text.is_empty() && !line.ends_with(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            cause = error.source();
        }
        f.write_str(&line)
    }
}

impl fmt::Debug for ErrorChain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// A leg could not receive or deliver: its connection or its peer is broken.
#[derive(Debug)]
pub struct LegError {
    message: String,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl LegError {
    /// An error with a message (lowercase, no trailing period).
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    /// An error with a message and the error that caused it.
    pub fn with_source(
        message: impl Into<String>,
        source: impl Into<Box<dyn StdError + Send + Sync>>,
    ) -> Self {
        Self {
            message: message.into(),
            source: Some(source.into()),
        }
    }
}

impl fmt::Display for LegError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for LegError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leg_error_chain_reaches_the_end_reason() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let error = LegError::with_source("websocket read failed", io);
        assert_eq!(
            LegEnd::from(&error),
            LegEnd::Failed {
                message: "websocket read failed: reset by peer".into()
            }
        );
    }

    #[test]
    fn leg_error_is_send_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<LegError>();
    }
}
