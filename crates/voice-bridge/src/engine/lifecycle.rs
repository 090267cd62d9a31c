//! How a call ends: either leg ending, the agent failing, tools ending the call, limits.
//!
//! - The call leg ends: the agent leg is closed at once (the AI session must never
//!   outlive the phone call).
//! - The agent leg ends or fails (refused, closed, fatal error, never ready, unusable
//!   formats): it is closed, and the caller gets the fallback (audio, then hang-up; or a
//!   hand-over), never silence. The first cause is the one reported.
//! - A tool ends the call or hands it over: the bridge waits until the caller has heard
//!   what was already said (every mark echoed, bounded by `goodbye_timeout`), then hangs
//!   up or hands over.
//! - Limits: the maximum call duration and the idle timeout (no audio either way) end the
//!   call from the bridge's side.
//!
//! Every path ends in [`Engine::end_call`], which emits the closing commands and then
//! [`Action::End`].

use std::time::Instant;

use crate::agent::{AgentCommand, AgentError};
use crate::audio::Transcoder;
use crate::call::{AudioSource, CallCommand};
use crate::config::Fallback;
use crate::leg::{LegEnd, Side};
use crate::report::{EndReason, FallbackUsed, Outcome};

use super::{Action, Ending, Engine, ResponseWait, State, Terminal, millis};

impl Engine {
    pub(super) fn call_ended(&mut self, end: LegEnd) {
        tracing::info!(%end, "call leg ended");
        self.call_open = false;
        self.end_call(Side::Call, EndReason::CallEnded { end }, Terminal::HangUp);
    }

    pub(super) fn agent_ended(&mut self, end: LegEnd) {
        if !self.agent_open {
            // Closed by us, or already failed: its end is expected.
            return;
        }
        self.agent_open = false;
        if let State::Ending(_) = self.state {
            // A tool already decided the end; let the caller hear the rest.
            tracing::info!(%end, "agent leg ended while the call was ending");
            return;
        }
        if end != LegEnd::Finished {
            self.note_error(Side::Agent, None, format!("agent leg {end}"), true);
        }
        let reason = self.agent_end_reason(end);
        self.agent_failed(reason);
    }

    /// An agent end before its session was ready is a session that never started.
    fn agent_end_reason(&self, end: LegEnd) -> EndReason {
        if self.agent_ready.is_none() {
            EndReason::AgentNotStarted { end }
        } else {
            EndReason::AgentEnded { end }
        }
    }

    pub(super) fn agent_error(&mut self, error: AgentError) {
        let AgentError {
            code,
            message,
            fatal,
        } = error;
        self.note_error(Side::Agent, code.clone(), message.clone(), fatal);
        if fatal && self.agent_open && !matches!(self.state, State::Ending(_)) {
            let reason = self.agent_end_reason(LegEnd::Error { code, message });
            self.agent_failed(reason);
        }
    }

    /// The agent leg is gone or unusable: close it and give the caller the fallback.
    pub(super) fn agent_failed(&mut self, reason: EndReason) {
        if matches!(self.state, State::FallingBack { .. } | State::Ended) {
            return;
        }
        // The one line of this failure. A leg's own end was logged by the leg with all
        // its words (the OpenAI client logs a refusal once): here only its kind, so the
        // same text is not logged twice; the report keeps every word.
        tracing::warn!(why = %failure_words(&reason), "agent leg failed; giving the caller the fallback");
        self.fall_back(Side::Agent, reason);
    }

    /// The program ends the call (see [`Engine::shut_down`](super::Engine::shut_down)):
    /// the caller gets the fallback, then the agent is closed.
    pub(super) fn shut_down_with_fallback(&mut self, why: &str) {
        if matches!(
            self.state,
            State::FallingBack { .. } | State::Ending(_) | State::Ended
        ) {
            return;
        }
        tracing::info!(%why, "the call is ended by its server; giving the caller the fallback");
        let reason = EndReason::Shutdown {
            why: why.to_owned(),
        };
        self.fall_back(Side::Bridge, reason);
    }

    /// Records `reason` as the cause (unless one came first), closes the agent and gives
    /// the caller the fallback.
    fn fall_back(&mut self, side: Side, reason: EndReason) {
        if self.cause.is_none() {
            self.cause = Some((side, reason));
        }
        let close = std::mem::replace(&mut self.agent_open, false);
        if !self.call_open {
            self.close_failed_agent(close);
            self.end_call(Side::Agent, EndReason::Stopped, Terminal::HangUp);
            return;
        }
        self.start_fallback();
        self.close_failed_agent(close);
    }

    /// The failed agent's `Close`, after the caller's fallback (so a slow close, such as
    /// a stalled socket's, does not keep the caller waiting) and before [`Action::End`].
    fn close_failed_agent(&mut self, close: bool) {
        if !close {
            return;
        }
        let end = match self.actions.back() {
            Some(Action::End(_)) => self.actions.pop_back(),
            _ => None,
        };
        self.push(Action::Agent(AgentCommand::Close));
        self.actions.extend(end);
    }

    /// Plays or hands over to the configured fallback. Before the call has started there
    /// is nobody to play to: wait for the start (bounded by `playout_grace`).
    pub(super) fn start_fallback(&mut self) {
        let Some(call) = self.call.clone() else {
            let deadline = self.now + self.config.playout_grace;
            self.state = State::FallingBack {
                mark: None,
                deadline,
            };
            return;
        };
        match self.config.fallback.clone() {
            Fallback::Audio(chunk) => {
                let chunk = if chunk.format() == call.format {
                    Ok(chunk)
                } else {
                    Transcoder::new(chunk.format(), call.format).and_then(|mut t| t.convert(&chunk))
                };
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(error) => {
                        let why = format!("fallback audio cannot be played on this call: {error}");
                        self.record_error(Side::Bridge, None, why.clone(), false);
                        self.fallback_used = Some(FallbackUsed::HangUp { why });
                        self.end_call(Side::Agent, EndReason::Stopped, Terminal::HangUp);
                        return;
                    }
                };
                let length = std::time::Duration::from_millis(chunk.duration_ms());
                let queued = std::time::Duration::from_millis(self.playback.unheard_ms());
                self.push(Action::Call(CallCommand::Play {
                    chunk,
                    source: AudioSource::Fallback,
                }));
                let mark = self.playback.mark_after(None, 0, length);
                self.push(Action::Call(CallCommand::Mark(mark)));
                self.counters.marks_sent += 1;
                self.fallback_used = Some(FallbackUsed::Audio { heard: false });
                let deadline = self.now + queued + length + self.config.playout_grace;
                self.state = State::FallingBack {
                    mark: Some(mark),
                    deadline,
                };
            }
            Fallback::HandOver(to) if call.capabilities.supports(&to) => {
                self.fallback_used = Some(FallbackUsed::HandOver { to: to.clone() });
                self.end_call(Side::Agent, EndReason::Stopped, Terminal::HandOver(to));
            }
            Fallback::HandOver(to) => {
                let why = format!("the call leg cannot hand over to {to:?}");
                self.fallback_used = Some(FallbackUsed::HangUp { why });
                self.end_call(Side::Agent, EndReason::Stopped, Terminal::HangUp);
            }
            Fallback::HangUp => {
                let why = "the configured fallback is to hang up".to_owned();
                self.fallback_used = Some(FallbackUsed::HangUp { why });
                self.end_call(Side::Agent, EndReason::Stopped, Terminal::HangUp);
            }
        }
    }

    /// The fallback prompt has been heard: hang up.
    pub(super) fn fallback_mark_echoed(&mut self) {
        let State::FallingBack {
            mark: Some(mark), ..
        } = self.state
        else {
            return;
        };
        if self.playback.is_pending(mark) {
            return;
        }
        self.fallback_used = Some(FallbackUsed::Audio { heard: true });
        self.end_call(Side::Agent, EndReason::Stopped, Terminal::HangUp);
    }

    pub(super) fn begin_ending(&mut self, terminal: Terminal, reason: EndReason, respond: bool) {
        if !matches!(self.state, State::Active) {
            return;
        }
        tracing::info!(
            ?reason,
            "ending the call once the caller has heard the rest"
        );
        let wait = if respond {
            ResponseWait::Requested
        } else {
            ResponseWait::No
        };
        let deadline = self.now + self.config.goodbye_timeout;
        self.state = State::Ending(Ending {
            terminal,
            reason,
            wait,
            deadline,
        });
    }

    /// The end-after-goodbye rule: once no response is running (or the requested goodbye
    /// is done), no tool is pending and every mark has come back, carry out the ending.
    pub(super) fn check_ending(&mut self) {
        let State::Ending(ending) = &self.state else {
            return;
        };
        let response_settled = !self.agent_open
            || match ending.wait {
                ResponseWait::No => !self.response_active,
                ResponseWait::Requested | ResponseWait::Started => false,
                ResponseWait::Done => true,
            };
        if response_settled && self.pending_tools.is_empty() && !self.playback.is_playing() {
            self.finish_ending();
        }
    }

    fn finish_ending(&mut self) {
        let State::Ending(ending) = std::mem::replace(&mut self.state, State::Active) else {
            return;
        };
        self.end_call(Side::Bridge, ending.reason, ending.terminal);
    }

    /// Ends the call: records the first cause, closes the agent, hangs up or hands over
    /// the call (if they are still open), then emits [`Action::End`]. `reason` is used
    /// only if no cause was recorded before (the first cause wins).
    pub(super) fn end_call(&mut self, side: Side, reason: EndReason, terminal: Terminal) {
        if self.is_ended() {
            return;
        }
        let (ended_by, reason) = self.cause.get_or_insert((side, reason)).clone();
        if self.agent_open {
            self.agent_open = false;
            self.push(Action::Agent(AgentCommand::Close));
        }
        if self.call_open {
            self.call_open = false;
            let command = match terminal {
                Terminal::HangUp => CallCommand::HangUp,
                Terminal::HandOver(to) => CallCommand::HandOver(to),
            };
            self.push(Action::Call(command));
        }
        // The reason's kind only for a leg's end: its words were logged by the leg, and
        // the report keeps them.
        tracing::info!(%ended_by, reason = %failure_words(&reason), "call ended");
        self.state = State::Ended;
        self.ended_at = Some(self.now);
        let outcome = Outcome {
            ended_by,
            reason,
            fallback: self.fallback_used.clone(),
        };
        self.push(Action::End(outcome));
    }

    /// The earliest instant a timer rule needs the engine's attention.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |at: Instant| next = Some(next.map_or(at, |n| n.min(at)));
        match &self.state {
            State::Ended => return None,
            State::Active => {
                if let Some(idle) = self.config.idle_timeout {
                    consider(self.last_audio + idle);
                }
                if self.agent_ready.is_none() && self.agent_open {
                    consider(self.start + self.config.agent_ready_timeout);
                }
            }
            State::Ending(ending) => consider(ending.deadline),
            State::FallingBack { deadline, .. } => consider(*deadline),
        }
        if let Some(at) = self.stall_deadline() {
            consider(at);
        }
        if let Some(max) = self.config.max_call_duration {
            consider(self.start + max);
        }
        next
    }

    /// The timer rules: fallback and goodbye bounds, agent readiness, limits.
    pub(super) fn check_deadlines(&mut self) {
        let now = self.now;
        match &self.state {
            State::FallingBack { deadline, mark } if *deadline <= now => {
                let message = match mark {
                    Some(_) => "fallback audio's mark did not come back in time; hanging up",
                    None => "call never started; hanging up",
                };
                self.record_error(Side::Bridge, None, message.to_owned(), false);
                self.end_call(Side::Agent, EndReason::Stopped, Terminal::HangUp);
                return;
            }
            State::Ending(ending) if ending.deadline <= now => {
                let message = "the rest of the call was not confirmed heard in time; ending anyway";
                self.record_error(Side::Bridge, None, message.to_owned(), false);
                self.finish_ending();
                return;
            }
            _ => {}
        }
        if self.check_stall() {
            return;
        }
        if let Some(max) = self.config.max_call_duration {
            if now >= self.start + max {
                let reason = EndReason::MaxDuration {
                    limit_ms: millis(max),
                };
                self.end_call(Side::Bridge, reason, Terminal::HangUp);
                return;
            }
        }
        if !matches!(self.state, State::Active) {
            return;
        }
        if let Some(idle) = self.config.idle_timeout {
            if now >= self.last_audio + idle {
                let reason = EndReason::IdleTimeout {
                    limit_ms: millis(idle),
                };
                self.end_call(Side::Bridge, reason, Terminal::HangUp);
                return;
            }
        }
        if self.agent_ready.is_none()
            && self.agent_open
            && now >= self.start + self.config.agent_ready_timeout
        {
            let limit_ms = millis(self.config.agent_ready_timeout);
            let waiting_for = self.agent_waiting.take();
            let mut message = format!("agent not ready after {limit_ms} ms");
            if let Some(what) = &waiting_for {
                message.push_str(&format!(", waiting for {what}"));
            }
            // Logged once, by the failure's line below.
            self.note_error(Side::Agent, None, message, true);
            self.agent_failed(EndReason::AgentNotReady {
                limit_ms,
                waiting_for,
            });
        }
    }
}

/// The words of an agent failure's log line: the whole reason where the engine found it
/// (a limit, formats), only the kind of a leg's end where the leg reported it (and logged
/// its words).
fn failure_words(reason: &EndReason) -> String {
    match reason {
        EndReason::AgentEnded { end } => format!("the agent ended mid-call: {}", end_kind(end)),
        EndReason::AgentNotStarted { end } => {
            format!("the agent session never started: {}", end_kind(end))
        }
        other => other.to_string(),
    }
}

/// A leg's end without its words: `refused (status 401)`, `closed (1011)`, `error
/// invalid_api_key`.
fn end_kind(end: &LegEnd) -> String {
    match end {
        LegEnd::Closed {
            code: Some(code), ..
        } => format!("closed ({code})"),
        LegEnd::Closed { code: None, .. } => "closed".to_owned(),
        LegEnd::Refused {
            status: Some(status),
            ..
        } => format!("refused (status {status})"),
        LegEnd::Refused { status: None, .. } => "refused".to_owned(),
        LegEnd::Error {
            code: Some(code), ..
        } => format!("error {code}"),
        LegEnd::Error { code: None, .. } => "error".to_owned(),
        LegEnd::Failed { .. } => "failed".to_owned(),
        other => other.to_string(),
    }
}
