//! Tool calls and response bookkeeping.
//!
//! A tool call becomes [`Action::RunTool`]; the driver runs the user's handler under a
//! timeout and hands back a [`ToolResult`]. The result (or an error result for a failed
//! or late handler) goes to the agent at once. The agent is asked to go on
//! (`CreateResponse`) only when every tool call of the turn has its result and the
//! response that carried the calls is done, so it is asked once per batch and never
//! while a response is active.

use serde_json::json;

use crate::agent::AgentCommand;
use crate::leg::Side;
use crate::report::{EndReason, ToolCallRecord, ToolCallResult};
use crate::tool::{AfterTool, ToolCall, ToolOutcome, ToolResult};

use super::{Action, Engine, ResponseWait, State, Terminal};

impl Engine {
    /// The agent calls a tool: record it and ask the driver to run it.
    pub(super) fn run_tool_call(&mut self, call: ToolCall) {
        tracing::info!(tool = %call.name, call_id = %call.call_id, "tool call");
        self.tool_calls.push(ToolCallRecord {
            call_id: call.call_id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
            at_ms: self.at_ms(),
            duration_ms: None,
            result: None,
        });
        if !self.agent_open {
            return;
        }
        self.pending_tools.push(call.call_id.clone());
        self.push(Action::RunTool(call));
    }

    /// A tool finished: give the result to the agent, then go on, end or hand over.
    pub(super) fn apply_tool_result(&mut self, result: ToolResult) {
        let Some(pos) = self
            .pending_tools
            .iter()
            .position(|id| *id == result.call_id)
        else {
            let message = format!(
                "result for tool call {} that is not pending",
                result.call_id
            );
            self.record_error(Side::Bridge, None, message, false);
            return;
        };
        self.pending_tools.remove(pos);
        let now_ms = self.at_ms();
        let timeout_s = self.config.tool_timeout.as_secs_f64();
        let (output, then, recorded) = match result.outcome {
            ToolOutcome::Reply(reply) => {
                let recorded = ToolCallResult::Ok {
                    output: reply.output.clone(),
                };
                (reply.output, reply.then, recorded)
            }
            ToolOutcome::Failed(message) => {
                let output = json!({ "error": message });
                (
                    output,
                    AfterTool::Continue,
                    ToolCallResult::Error { message },
                )
            }
            ToolOutcome::TimedOut => {
                let output =
                    json!({ "error": format!("the tool did not answer within {timeout_s} s") });
                (output, AfterTool::Continue, ToolCallResult::TimedOut)
            }
        };
        let mut failure = None;
        let name = match self
            .tool_calls
            .iter_mut()
            .rev()
            .find(|r| r.call_id == result.call_id)
        {
            Some(record) => {
                record.duration_ms = Some(now_ms.saturating_sub(record.at_ms));
                tracing::info!(tool = %record.name, result = ?recorded, "tool result");
                if matches!(
                    recorded,
                    ToolCallResult::Error { .. } | ToolCallResult::TimedOut
                ) {
                    failure = Some(format!("tool {} failed: {recorded:?}", record.name));
                }
                record.result = Some(recorded);
                record.name.clone()
            }
            None => String::new(),
        };
        if let Some(message) = failure {
            self.record_error(Side::Bridge, None, message, false);
        }
        if self.agent_open {
            // `Value`'s Display is its JSON text; the output must be a string on the wire.
            let output = output.to_string();
            self.push(Action::Agent(AgentCommand::ToolResult {
                call_id: result.call_id,
                output,
            }));
        }
        match then {
            AfterTool::Continue => {
                if !self.ending_without_response() {
                    self.continue_pending = true;
                }
            }
            AfterTool::EndCall => {
                self.continue_pending = false;
                self.begin_ending(
                    Terminal::HangUp,
                    EndReason::ToolEndedCall { tool: name },
                    false,
                );
            }
            AfterTool::EndCallAfterResponse => {
                self.continue_pending = true;
                self.begin_ending(
                    Terminal::HangUp,
                    EndReason::ToolEndedCall { tool: name },
                    true,
                );
            }
            AfterTool::HandOver(to) => {
                self.continue_pending = false;
                let supported = self
                    .call
                    .as_ref()
                    .is_some_and(|call| call.capabilities.supports(&to));
                if supported {
                    let reason = EndReason::HandedOver {
                        tool: name,
                        to: to.clone(),
                    };
                    self.begin_ending(Terminal::HandOver(to), reason, false);
                } else {
                    let message = format!(
                        "tool {name} asked for {to:?}, which the call leg \
                                           cannot do; hanging up instead"
                    );
                    self.record_error(Side::Bridge, None, message, false);
                    self.begin_ending(
                        Terminal::HangUp,
                        EndReason::ToolEndedCall { tool: name },
                        false,
                    );
                }
            }
        }
        self.continue_after_tools();
    }

    /// Asks the agent to go on once every pending tool has its result and no response is
    /// active (one `CreateResponse` per batch of calls).
    pub(super) fn continue_after_tools(&mut self) {
        if self.continue_pending
            && self.pending_tools.is_empty()
            && !self.response_active
            && self.agent_open
        {
            self.continue_pending = false;
            // Counted as active from now, so a second result cannot ask again before the
            // agent's `response.created` arrives.
            self.response_active = true;
            self.push(Action::Agent(AgentCommand::CreateResponse));
        }
    }

    pub(super) fn response_started(&mut self) {
        self.response_active = true;
        self.response_running = true;
        self.turn_ended = false;
        self.discard_response = false;
        if let State::Ending(ending) = &mut self.state {
            if ending.wait == ResponseWait::Requested {
                ending.wait = ResponseWait::Started;
            }
        }
    }

    pub(super) fn response_done(&mut self) {
        self.response_active = false;
        self.response_running = false;
        self.discard_response = false;
        self.current_item = None;
        if let State::Ending(ending) = &mut self.state {
            if ending.wait == ResponseWait::Started {
                ending.wait = ResponseWait::Done;
            }
        }
        self.continue_after_tools();
    }

    fn ending_without_response(&self) -> bool {
        matches!(&self.state, State::Ending(ending) if ending.wait == ResponseWait::No)
    }
}
