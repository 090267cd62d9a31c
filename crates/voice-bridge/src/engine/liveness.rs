//! A stalled agent: a connection that stays open but sends nothing while a response is due.
//!
//! A response is due ([`Engine::awaited`]) once the agent is ready and:
//!
//! - the caller's turn ended (`SpeechStopped`) and no response has started since: the
//!   agent's turn detection answers each turn by itself;
//! - the bridge asked for a response (after a tool's result) and it has not started;
//! - a response started and has not finished: its audio (or its end) is on the way.
//!
//! If the agent then sends nothing for
//! [`agent_stall_timeout`](crate::BridgeConfig::agent_stall_timeout), counted from its last
//! event or from when the caller's queue of agent audio ran out (whichever is later, so a
//! caller still hearing a long answer is not in silence yet), the agent leg is stalled: a
//! stuck service or a half-open TCP path. Mid-call it is ended as any failed agent is (one
//! line naming what was awaited and for how long; the caller's fallback); while a tool's
//! goodbye is being awaited, the agent leg is closed and the call ends once the caller has
//! heard the rest. Audio the agent sends after that is counted as late and dropped: the
//! caller has been given up on it, and a backlog played seconds late answers nothing.

use std::time::{Duration, Instant};

use crate::agent::AgentCommand;
use crate::leg::Side;
use crate::report::{Awaited, EndReason};

use super::{Action, Engine, State, millis};

impl Engine {
    /// What the agent owes the caller now, if anything (see the module docs).
    pub(super) fn awaited(&self) -> Option<Awaited> {
        if !self.agent_open || self.agent_ready.is_none() {
            return None;
        }
        if self.response_active {
            return Some(if self.response_running {
                Awaited::RestOfResponse
            } else {
                Awaited::RequestedResponse
            });
        }
        self.turn_ended.then_some(Awaited::Answer)
    }

    /// When the agent counts as stalled if it sends nothing before.
    pub(super) fn stall_deadline(&self) -> Option<Instant> {
        let limit = self.config.agent_stall_timeout?;
        if !matches!(self.state, State::Active | State::Ending(_)) {
            return None;
        }
        self.awaited()?;
        let queue_empty_at = self
            .playback
            .queue_down_to(Duration::ZERO)
            .unwrap_or(self.last_agent_event);
        Some(self.last_agent_event.max(queue_empty_at) + limit)
    }

    /// The stall rule; true if it ended the agent leg.
    pub(super) fn check_stall(&mut self) -> bool {
        let (Some(limit), Some(at)) = (self.config.agent_stall_timeout, self.stall_deadline())
        else {
            return false;
        };
        if self.now < at {
            return false;
        }
        let Some(awaited) = self.awaited() else {
            return false;
        };
        let limit_ms = millis(limit);
        let silent_ms = millis(self.now - self.last_agent_event);
        let reason = EndReason::AgentStalled { awaited, limit_ms };
        self.stalled = true;
        self.drop_held();
        let message = format!("{reason} (its last event came {silent_ms} ms ago)");
        if let State::Ending(_) = self.state {
            // A tool already decided the end: let the caller hear the rest, without the
            // goodbye that is not coming.
            self.record_error(Side::Agent, None, message, true);
            self.agent_open = false;
            self.push(Action::Agent(AgentCommand::Close));
            return true;
        }
        // The report keeps the message; the failure's line below says it.
        self.note_error(Side::Agent, None, message, true);
        self.agent_failed(reason);
        true
    }
}
