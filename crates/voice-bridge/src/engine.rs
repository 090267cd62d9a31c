//! The sans-IO engine: every rule of the bridge, no sockets, no timers, no runtime.
//!
//! The rules live one per file, each in a function named after it:
//!
//! | rule | file | function |
//! |---|---|---|
//! | caller audio to the agent, agent audio to the caller | `engine/audio_path.rs` | `forward_caller_audio`, `forward_agent_audio` |
//! | playback accounting (marks, heard position) | `engine/playback.rs` | `Playback::mark_after`, `Playback::on_echo`, `Playback::heard_bytes_now` |
//! | barge-in | `engine/barge_in.rs` | `barge_in` |
//! | joining agent deltas into fewer messages | `engine/coalesce.rs` | `Engine::hold_or_send`, `Engine::settle_held` |
//! | early caller audio, agent audio before the call started | `engine/early_audio.rs` | `EarlyAudio::hold`, `EarlyAudio::release` |
//! | tool calls | `engine/tools.rs` | `run_tool_call`, `apply_tool_result`, `continue_after_tools` |
//! | the limit of agent audio queued ahead of the caller | `engine/audio_path.rs` | `Engine::cut_agent_audio` |
//! | a stalled agent (silent while a response is due) | `engine/liveness.rs` | `Engine::awaited`, `Engine::check_stall` |
//! | lifecycle, fallback, limits | `engine/lifecycle.rs` | `agent_failed`, `start_fallback`, `check_ending`, `end_call` |
//! | transcript | `engine/transcript.rs` | `record_transcript` |

mod audio_path;
mod barge_in;
mod coalesce;
mod early_audio;
mod lifecycle;
mod liveness;
mod playback;
mod tools;
mod transcript;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::agent::{AgentAudio, AgentCommand, AgentEvent, AgentReady, AgentUsage};
use crate::audio::{AudioFormat, Transcoder};
use crate::call::{CallCapabilities, CallCommand, CallEvent, HandOver};
use crate::config::BridgeConfig;
use crate::ids::{CallId, Mark, StreamId, ToolCallId};
use crate::leg::Side;
use crate::report::{
    BargeIn, CallReport, Counters, DtmfPress, EndReason, ErrorRecord, FallbackUsed, Outcome,
    Timings, ToolCallRecord, TranscriptLine,
};
use crate::tool::{ToolCall, ToolResult};

use self::coalesce::Held;
use self::early_audio::EarlyAudio;
use self::playback::Playback;
use self::transcript::Partial;

/// The most agent audio held while the call leg has not started yet (a greeting that
/// races the call's start); beyond it the oldest is dropped and counted as refused.
const EARLY_AGENT_AUDIO_LIMIT: Duration = Duration::from_secs(5);

/// Something the engine needs done. The driver carries actions out in order.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send a command to the call leg.
    Call(CallCommand),
    /// Send a command to the agent leg.
    Agent(AgentCommand),
    /// Run a tool call with the user's handler, then give the result to
    /// [`Engine::handle_tool_result`].
    RunTool(ToolCall),
    /// The call is over: every closing command has been emitted before this action.
    /// Take the report with [`Engine::into_report`]. Always the last action.
    End(Outcome),
}

/// The bridge between one call leg and one agent leg, as a state machine.
///
/// The engine holds every rule of a call (playback accounting, barge-in, early audio,
/// tool calls, lifecycle) and performs no I/O: events come in through `handle_*` with the
/// time they happened, and what must be done comes out of `poll_action`. Time is only
/// ever passed in, so tests drive it by hand and every decision is reproducible.
///
/// # Methods
///
/// - **Input**: [`handle_call`](Self::handle_call) (an event from the call leg),
///   [`handle_agent`](Self::handle_agent) (from the agent leg),
///   [`handle_tool_result`](Self::handle_tool_result) (a tool handler finished) and
///   [`handle_timeout`](Self::handle_timeout) (the time from `poll_timeout` has come).
/// - **Output**: [`poll_action`](Self::poll_action) (the next command, in order) and
///   [`poll_timeout`](Self::poll_timeout) (when to call `handle_timeout`).
/// - **End**: [`into_report`](Self::into_report).
///
/// Every `now` must be at or after the previous one; an earlier `now` is treated as the
/// previous one.
///
/// # Run loop
///
/// After **every** `handle_*` call, drain `poll_action` until it returns `None`, carrying
/// out each action in order; then read `poll_timeout` and wait for the next event or that
/// instant, whichever comes first. Draining after each input is what keeps the order of
/// commands right: a barge-in's clear must reach the caller before any later audio. The
/// loop ends after [`Action::End`] has been carried out.
///
/// ```
/// use std::time::Instant;
/// use voice_bridge::{Action, BridgeConfig, CallEvent, CallStart, Engine};
/// use voice_bridge::audio::AudioFormat;
///
/// let start = Instant::now();
/// let mut engine = Engine::new(BridgeConfig::default(), start);
/// engine.handle_call(start, CallEvent::Started(CallStart::new("CA1", "MZ1", AudioFormat::MuLaw)));
/// while let Some(action) = engine.poll_action() {
///     match action {
///         Action::Call(_command) => { /* send to the call leg */ }
///         Action::Agent(_command) => { /* send to the agent leg */ }
///         Action::RunTool(_call) => { /* spawn the handler, later handle_tool_result */ }
///         Action::End(_outcome) => break,
///         _ => {}
///     }
/// }
/// let _wake_at = engine.poll_timeout(); // then wait for an event or this instant
/// ```
#[derive(Debug)]
pub struct Engine {
    config: BridgeConfig,
    start: Instant,
    now: Instant,
    actions: VecDeque<Action>,
    state: State,

    call: Option<CallInfo>,
    call_open: bool,
    agent_open: bool,
    agent_ready: Option<AgentReady>,
    /// What the agent leg last said it was waiting for, before it was ready.
    agent_waiting: Option<String>,
    /// Both formats known and transcoders built (`None` = same format, pass through).
    audio_connected: bool,
    to_agent: Option<Transcoder>,
    to_call: Option<Transcoder>,
    /// `playback_chunk` in bytes of the call's format (set with the formats): the size
    /// held audio is joined up to; a message over twice this is cut.
    playback_chunk_bytes: usize,
    refusal_logged: bool,
    /// A cut at `max_playback_ahead` was logged (once per call; the counter has the rest).
    cut_logged: bool,

    response_active: bool,
    /// A response has started (`ResponseStarted`) and not finished: `response_active`
    /// without it is a response asked for and not started yet.
    response_running: bool,
    /// The caller's turn ended (`SpeechStopped`) and no response has started since.
    turn_ended: bool,
    /// When the agent leg last sent anything.
    last_agent_event: Instant,
    /// The agent was declared stalled: its later audio is too late for the caller.
    stalled: bool,
    /// Drop agent audio until the next response: the caller interrupted this one.
    discard_response: bool,
    /// The item receiving audio now.
    current_item: Option<usize>,
    playback: Playback,
    /// Agent audio held to be joined into the next media message.
    held: Option<Held>,
    early: EarlyAudio,
    /// Agent audio that came after the agent was ready but before the call started.
    early_agent: EarlyAudio<AgentAudio>,
    /// Frames of `early_agent` already counted as dropped (refused) in the report.
    early_agent_dropped: u64,

    pending_tools: Vec<ToolCallId>,
    continue_pending: bool,

    last_audio: Instant,
    speech_stopped_at: Option<Instant>,
    ended_at: Option<Instant>,
    cause: Option<(Side, EndReason)>,
    fallback_used: Option<FallbackUsed>,

    partials: Vec<Partial>,
    transcript: Vec<TranscriptLine>,
    tool_calls: Vec<ToolCallRecord>,
    barge_ins: Vec<BargeIn>,
    dtmf: Vec<DtmfPress>,
    timings: Timings,
    counters: Counters,
    errors: Vec<ErrorRecord>,
    agent_usage: Option<AgentUsage>,
}

#[derive(Debug, Clone)]
struct CallInfo {
    call_id: CallId,
    stream_id: StreamId,
    format: AudioFormat,
    capabilities: CallCapabilities,
}

#[derive(Debug)]
enum State {
    /// The call is on.
    Active,
    /// A tool ended the call or handed it over; waiting for the caller to hear the rest.
    Ending(Ending),
    /// The agent failed; the fallback is playing (`mark` is its end mark), or waiting for
    /// the call to start (`mark` is `None`).
    FallingBack {
        mark: Option<Mark>,
        deadline: Instant,
    },
    /// [`Action::End`] has been emitted.
    Ended,
}

#[derive(Debug)]
struct Ending {
    terminal: Terminal,
    reason: EndReason,
    wait: ResponseWait,
    deadline: Instant,
}

/// Whether an ending waits for one more response (a goodbye).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseWait {
    No,
    Requested,
    Started,
    Done,
}

/// The last command to the call leg.
#[derive(Debug, Clone)]
enum Terminal {
    HangUp,
    HandOver(HandOver),
}

impl Engine {
    /// A new engine for one call, starting at `now`.
    ///
    /// A [`BridgeConfig::playback_chunk`] out of bounds is clamped (and logged).
    pub fn new(mut config: BridgeConfig, now: Instant) -> Self {
        let chunk = config.bounded_playback_chunk();
        if chunk != config.playback_chunk {
            tracing::warn!(
                configured = ?config.playback_chunk,
                used = ?chunk,
                "playback_chunk out of bounds; clamped"
            );
            config.playback_chunk = chunk;
        }
        let early = EarlyAudio::new(config.early_audio_limit);
        Self {
            config,
            start: now,
            now,
            actions: VecDeque::new(),
            state: State::Active,
            call: None,
            call_open: true,
            agent_open: true,
            agent_ready: None,
            agent_waiting: None,
            audio_connected: false,
            to_agent: None,
            to_call: None,
            playback_chunk_bytes: usize::MAX / 2,
            refusal_logged: false,
            cut_logged: false,
            response_active: false,
            response_running: false,
            turn_ended: false,
            last_agent_event: now,
            stalled: false,
            discard_response: false,
            current_item: None,
            playback: Playback::new(now),
            held: None,
            early,
            early_agent: EarlyAudio::new(EARLY_AGENT_AUDIO_LIMIT),
            early_agent_dropped: 0,
            pending_tools: Vec::new(),
            continue_pending: false,
            last_audio: now,
            speech_stopped_at: None,
            ended_at: None,
            cause: None,
            fallback_used: None,
            partials: Vec::new(),
            transcript: Vec::new(),
            tool_calls: Vec::new(),
            barge_ins: Vec::new(),
            dtmf: Vec::new(),
            timings: Timings::default(),
            counters: Counters::default(),
            errors: Vec::new(),
            agent_usage: None,
        }
    }

    /// The configuration (as used: bounded values clamped).
    pub fn config(&self) -> &BridgeConfig {
        &self.config
    }

    /// The call's and stream's ids, once the call leg has started.
    pub fn call_ids(&self) -> Option<(&CallId, &StreamId)> {
        self.call
            .as_ref()
            .map(|call| (&call.call_id, &call.stream_id))
    }

    /// Whether [`Action::End`] has been emitted.
    pub fn is_ended(&self) -> bool {
        matches!(self.state, State::Ended)
    }

    /// Feeds an event from the call leg.
    pub fn handle_call(&mut self, now: Instant, event: CallEvent) {
        self.advance(now);
        if self.is_ended() {
            return;
        }
        match event {
            CallEvent::Started(start) => self.call_started(start),
            CallEvent::Audio(chunk) => self.forward_caller_audio(chunk),
            CallEvent::MarkPlayed(name) => self.mark_played(&name),
            CallEvent::Dtmf(digit) => self.dtmf_pressed(digit),
            CallEvent::Ended(end) => self.call_ended(end),
        }
        self.after_input();
    }

    /// Feeds an event from the agent leg.
    pub fn handle_agent(&mut self, now: Instant, event: AgentEvent) {
        self.advance(now);
        if self.is_ended() {
            return;
        }
        self.last_agent_event = self.now;
        match event {
            AgentEvent::Waiting(what) => {
                tracing::debug!(waiting_for = %what, "agent leg not ready yet");
                self.agent_waiting = Some(what);
            }
            AgentEvent::Ready(ready) => self.agent_ready(ready),
            AgentEvent::Audio(audio) => self.forward_agent_audio(audio),
            AgentEvent::SpeechStarted => {
                self.speech_stopped_at = None;
                self.turn_ended = false;
                self.barge_in();
            }
            AgentEvent::SpeechStopped => {
                self.speech_stopped_at = Some(self.now);
                self.turn_ended = true;
            }
            AgentEvent::Transcript(piece) => self.record_transcript(piece),
            AgentEvent::ToolCall(call) => self.run_tool_call(call),
            AgentEvent::ResponseStarted(_) => self.response_started(),
            AgentEvent::ResponseDone(_) => self.response_done(),
            AgentEvent::Error(error) => self.agent_error(error),
            AgentEvent::Usage(usage) => self.agent_usage = Some(usage),
            AgentEvent::Ended(end) => self.agent_ended(end),
        }
        self.after_input();
    }

    /// Ends the call on the program's request (e.g. a server's drain deadline passed):
    /// the caller gets the configured fallback, as when the agent fails, and the agent leg
    /// is closed after it; the report's reason is [`EndReason::Shutdown`] with `why`.
    /// Does nothing once the call is ending.
    pub fn shut_down(&mut self, now: Instant, why: &str) {
        self.advance(now);
        if self.is_ended() {
            return;
        }
        self.shut_down_with_fallback(why);
        self.after_input();
    }

    /// Feeds the outcome of a tool call the engine asked for with [`Action::RunTool`].
    pub fn handle_tool_result(&mut self, now: Instant, result: ToolResult) {
        self.advance(now);
        if self.is_ended() {
            return;
        }
        self.apply_tool_result(result);
        self.after_input();
    }

    /// Tells the engine that the instant from [`poll_timeout`](Self::poll_timeout) has
    /// come (calling it early does nothing harmful).
    pub fn handle_timeout(&mut self, now: Instant) {
        self.advance(now);
        if self.is_ended() {
            return;
        }
        self.check_deadlines();
        self.after_input();
    }

    /// The next action, in the order the engine decided them.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// When to call [`handle_timeout`](Self::handle_timeout) if nothing else happens
    /// first; `None` once the call has ended.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let next = self.next_deadline()?;
        Some(self.held_deadline().map_or(next, |held| held.min(next)))
    }

    /// The call's report. Call it after [`Action::End`]; taken earlier, the outcome is
    /// [`EndReason::Stopped`].
    pub fn into_report(mut self) -> CallReport {
        self.flush_partials();
        let end = self.ended_at.unwrap_or(self.now);
        let (ended_by, reason) = self
            .cause
            .take()
            .unwrap_or((Side::Bridge, EndReason::Stopped));
        self.counters.early_frames_buffered = self.early.buffered;
        self.counters.early_frames_dropped = self.early.dropped;
        let (call_id, stream_id) = match self.call {
            Some(call) => (Some(call.call_id), Some(call.stream_id)),
            None => (None, None),
        };
        CallReport {
            call_id,
            stream_id,
            outcome: Outcome {
                ended_by,
                reason,
                fallback: self.fallback_used,
            },
            duration_ms: millis(end - self.start),
            transcript: self.transcript,
            tool_calls: self.tool_calls,
            barge_ins: self.barge_ins,
            dtmf: self.dtmf,
            timings: self.timings,
            counters: self.counters,
            errors: self.errors,
            agent_usage: self.agent_usage,
            agent_sessions: Vec::new(),
        }
    }

    /// The rules every input ends with: held audio that is due goes out (or is dropped),
    /// then the end-after-goodbye rule, which must see that audio as playing.
    fn after_input(&mut self) {
        self.settle_held();
        self.check_ending();
    }

    fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.playback.advance(self.now);
    }

    fn push(&mut self, action: Action) {
        self.actions.push_back(action);
    }

    /// Milliseconds since the start, for the report.
    fn at_ms(&self) -> u64 {
        millis(self.now - self.start)
    }

    /// Records the agent's usage for the whole session, learned after the call ended (the
    /// leg's [`final_usage`](crate::AgentLeg::final_usage) once it closed): a fact of the
    /// report, taken even though the engine has ended.
    pub(crate) fn record_final_usage(&mut self, usage: AgentUsage) {
        self.agent_usage = Some(usage);
    }

    /// Records a failed last command (hang-up, hand-over) in the report, logged once: the
    /// call is already over, so nothing else would tell the caller of the bridge.
    pub(crate) fn record_last_command_failure(
        &mut self,
        now: Instant,
        side: Side,
        message: String,
    ) {
        self.advance(now);
        self.record_error(side, None, message, true);
    }

    /// Records an error the engine found itself, and logs it (a WARN line).
    fn record_error(&mut self, side: Side, code: Option<String>, message: String, fatal: bool) {
        tracing::warn!(%side, code = code.as_deref(), fatal, "{message}");
        self.push_error(side, code, message, fatal);
    }

    /// Records an error a leg reported, in the report only (logged at DEBUG): the leg
    /// logged it already, and one cause is one line.
    fn note_error(&mut self, side: Side, code: Option<String>, message: String, fatal: bool) {
        tracing::debug!(%side, code = code.as_deref(), fatal, "{message}");
        self.push_error(side, code, message, fatal);
    }

    fn push_error(&mut self, side: Side, code: Option<String>, message: String, fatal: bool) {
        self.errors.push(ErrorRecord {
            at_ms: self.at_ms(),
            side,
            code,
            message,
            fatal,
        });
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
