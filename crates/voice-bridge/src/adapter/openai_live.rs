//! The agent leg over an OpenAI GPT-Live session (feature `openai`).
//!
//! [`OpenAiLiveLeg`] turns an [`openai_realtime::live::client`] session (`gpt-live-1`,
//! `gpt-live-1.1`) into an [`AgentLeg`], against any endpoint the client's [`Config`] names:
//! OpenAI, Azure, a proxy, or a mock on loopback. The leg is the place where Live's model of
//! a conversation meets the bridge's, so what it does differently from the Realtime leg
//! ([`OpenAiLeg`](crate::OpenAiLeg)) is said here.
//!
//! # Audio: G.711 straight through
//!
//! The session starts from [`SessionConfig::phone_call`]: `audio/pcmu` at 8000 Hz, one format
//! both ways, so a Twilio call's base64 payloads go to `session.input_audio.append` as they
//! are and `session.output_audio.delta` goes back to Twilio as it is; the bridge converts
//! only when the call and the session disagree. Caller audio must keep flowing, silence
//! included (the session's timeline advances only while it does); a phone stream does.
//!
//! Live's output is one continuous track at real-time pace, silence included, with no item
//! or response ids. The leg passes each turn on whole, pauses between words included, so the
//! caller hears what the service played, as it played it; the silence between turns stays
//! behind (the phone plays silence when it has nothing to play, and a stream of silent
//! media would keep the bridge's playback accounting from ever seeing the agent done, so a
//! hang-up after the goodbye would wait for nothing). It cuts the track into the bridge's
//! vocabulary itself:
//!
//! - a **turn** starts at the first audible delta after silence ([`AgentEvent::ResponseStarted`])
//!   and ends after [`turn_gap`](OpenAiLiveLegBuilder::turn_gap) of silence
//!   ([`AgentEvent::ResponseDone`], completed);
//! - each turn's audio, and the silence up to its end, carries one item id of the leg's own,
//!   `live_out_{n}`, so the report's barge-ins and transcript lines name the turn;
//! - the agent's transcript fragments go to the turn whose audio they speak: by their
//!   `start_ms` on the session timeline against the output track's position, so words sent
//!   just before their audio open the next turn's line rather than close the last one's, and
//!   a turn's final line comes when the turn ends;
//! - the caller's transcript fragments are joined into turns by their timeline gap
//!   (`start_ms` against the last `end_ms`, [`caller_turn_gap`](OpenAiLiveLegBuilder::caller_turn_gap)),
//!   `live_in_{n}`; each side's turn gets a final line when the other side's next turn starts
//!   (or at the end).
//!
//! # Barge-in: the service stops itself, the bridge clears the phone
//!
//! Live has no `speech_started`, no `response.cancel`, no truncation and no item ids on
//! audio: the model owns turn-taking, stops its own speech when the caller talks over it,
//! and its memory of what it said is what it played in real time. So the leg's
//! [`AgentReady`] says [`Interruption::Agent`], and on barge-in the bridge sends the agent
//! neither a cancel nor a truncation ([`AgentCommand::CancelResponse`] and
//! [`AgentCommand::Truncate`] are no-ops here, counted).
//!
//! What the bridge must still do is `clear` Twilio's buffer: audio already sent (the media
//! message being joined, Twilio's jitter buffer) is speech the service has abandoned, and
//! the caller would otherwise hear the agent go on after it stopped. The leg detects the
//! service's interruption from what Live emits and what the caller sends it: **the caller
//! speaking during an agent turn (a caller transcript fragment, or 60 ms of loud caller
//! audio on its way to the service, which hears the same audio), and the agent's output
//! falling silent for [`interruption_silence`](OpenAiLiveLegBuilder::interruption_silence)**,
//! in either order (the model stops on the caller's audio, often before its transcription
//! of the caller arrives; some services send the caller's words only once they stop). Then it sends
//! [`AgentEvent::SpeechStarted`] (the bridge's barge-in: the clear, and the report's record
//! of what the caller heard) and ends the turn as cancelled. This is right for a phone call
//! because the clear removes only what the service itself gave up; when the caller merely
//! backchannels ("mm-hm") the service keeps talking, the output never falls silent, and
//! nothing is cleared. A pause between the agent's words while the caller speaks costs at
//! most the audio queued at that moment, which is mostly that pause; the next audible delta
//! starts a new turn and plays. Interrupting does not cancel delegated work: a tool's late
//! result is still delivered to the service, which decides whether to use it.
//!
//! # Tools: what Live offers
//!
//! Live has no voice-model tools; the model delegates, and the leg maps each form of
//! delegation to the bridge's [`ToolCall`]s, so the same [`ToolHandler`](crate::ToolHandler)
//! serves both legs:
//!
//! - **Responses delegation** (`delegation.type = "responses"` with function tools,
//!   [`OpenAiLiveLegBuilder::tool`]): a `response.event` wrapping `response.output_item.done`
//!   of a completed `function_call` is a tool call with its name and parsed arguments; the
//!   result goes back as `response.item.create` (`function_call_output`), and once every
//!   open call has its output, the bridge's continue is one `response.create`.
//! - **Client delegation** (the default): `session.delegation.created` names no task, so it
//!   becomes a call of the [`delegation_tool`](OpenAiLiveLegBuilder::delegation_tool) with
//!   `{"request": <the caller's words of this turn>}`; the result is spoken through
//!   `session.commentary.append` with the delegation's id.
//! - **Decisions** (`decision.event` of a `decisions` delegation or a trigger): a call of the
//!   delegation tool with `{"answers": [...]}` as the Decision API gave them; the result goes
//!   back as commentary of the delegation (or, for a trigger, as silent
//!   `session.thinking.append` context).
//!
//! A key press becomes silent context (`session.thinking.append`). A greeting
//! ([`OpenAiLiveLegBuilder::greeting`], an outbound call) is a `session.commentary.append`
//! sent right after the first caller audio: the service acknowledges appends only once
//! audio is in flight.
//!
//! # Usage and ends
//!
//! `session.usage.updated` becomes [`AgentEvent::Usage`] (the report's `agent_usage`:
//! billed seconds). `session.closed` ends the leg: `close_requested` (after the bridge's
//! close) is [`LegEnd::Finished`], as is `remote_hangup` (the far end of the service's call
//! hung up); `expired`, `content` and any other reason are [`LegEnd::Error`] with the reason
//! as the code and the client's advice in the message; `connection_lost` is
//! [`LegEnd::Closed`]. A close frame or a dropped socket without `session.closed` is
//! [`LegEnd::Closed`] with its code. A refused start (bad key, no access to the model, a
//! field the strict config refuses) is [`LegEnd::Refused`], so the caller gets the fallback.
//!
//! # Example
//!
//! ```no_run
//! use openai_realtime::client::ApiKey;
//! use openai_realtime::live::FunctionTool;
//! use openai_realtime::live::client::Config;
//! use voice_bridge::{Bridge, OpenAiLiveLeg, memory};
//!
//! # async fn run() {
//! let key = ApiKey::from_env("OPENAI_API_KEY").expect("set OPENAI_API_KEY");
//! let agent = OpenAiLiveLeg::builder(Config::openai(key))
//!     .instructions("You are the clinic's assistant. Confirm the appointment.")
//!     .tool("gpt-5.5", FunctionTool::new("confirm_appointment"))
//!     .greeting("Greet the callee and say you call from the clinic.")
//!     .build();
//! # let (call, _phone) = memory::call_leg(8);
//! let report = Bridge::new(call, agent).run().await;
//! # }
//! ```

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt as _, Stream, StreamExt as _};
use openai_realtime::client::Error as ClientError;
use openai_realtime::live::client::{Config, Connection, Sender};
use openai_realtime::live::{
    AudioFormat as WireFormat, ClientEvent, CloseReason, Delegation, DelegationId,
    DelegationTarget, FunctionTool, ResponsesConfig, ServerEvent, SessionConfig, Voice,
};
use serde_json::{Value, json};

use crate::agent::{
    AgentAudio, AgentCommand, AgentError, AgentEvent, AgentReady, AgentUsage, Interruption,
    ResponseDone, ResponseStatus, Speaker, Transcript,
};
use crate::audio::{AudioChunk, AudioFormat, g711};
use crate::ids::ItemId;
use crate::leg::{AgentLeg, LegEnd, LegError};
use crate::tool::ToolCall;

/// The default [`OpenAiLiveLegBuilder::delegation_tool`].
pub const DEFAULT_DELEGATION_TOOL: &str = "delegate";

/// Peak amplitude above which a sample of the agent's output is speech (about -36 dBFS): the
/// service's silence is digital zero, and its speech peaks far above.
const AUDIBLE_PEAK: u16 = 500;

/// Peak amplitude above which the caller's audio counts as speech (about -24 dBFS): above a
/// phone line's noise floor.
const CALLER_PEAK: u16 = 2000;

/// How much loud caller audio during an agent turn counts as the caller speaking over it.
const CALLER_SPEECH: Duration = Duration::from_millis(60);

type Events = Pin<Box<dyn Stream<Item = Result<ServerEvent, ClientError>> + Send>>;

/// Builds an [`OpenAiLiveLeg`]: the client configuration, then the session's settings.
#[derive(Debug, Clone)]
#[must_use = "call `build` to get the leg"]
pub struct OpenAiLiveLegBuilder {
    config: Config,
    session: SessionConfig,
    greeting: Option<String>,
    delegation_tool: String,
    turn_gap: Duration,
    interruption_silence: Duration,
    caller_turn_gap_ms: u64,
}

impl OpenAiLiveLegBuilder {
    /// Replaces the whole session configuration. Keep its format what the call speaks
    /// (`audio/pcmu` at 8000 Hz for Twilio): the bridge converts otherwise.
    pub fn session(mut self, session: SessionConfig) -> Self {
        self.session = session;
        self
    }

    /// The model's instructions (fixed for the session).
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.session = self.session.with_instructions(instructions);
        self
    }

    /// The model (default `gpt-live-1`).
    pub fn model(mut self, model: impl Into<openai_realtime::live::Model>) -> Self {
        self.session = self.session.with_model(model);
        self
    }

    /// The voice (fixed for the session).
    pub fn voice(mut self, voice: impl Into<Voice>) -> Self {
        self.session = self.session.with_voice(voice);
        self
    }

    /// Adds a function tool to a Responses delegation run by `backend_model` (e.g.
    /// `gpt-5.5`): the session's delegation becomes `responses` if it was not, and the
    /// tool's calls reach the bridge's [`ToolHandler`](crate::ToolHandler).
    pub fn tool(mut self, backend_model: impl Into<String>, tool: FunctionTool) -> Self {
        let backend_model = backend_model.into();
        let delegation = self
            .session
            .delegation
            .take()
            .filter(|d| matches!(d, Delegation::Responses(_)));
        let mut config = match delegation {
            Some(Delegation::Responses(responses)) => responses.responses,
            _ => ResponsesConfig::new(backend_model),
        };
        config = config.with_tool(tool);
        self.session = self.session.with_delegation(Delegation::responses(config));
        self
    }

    /// The bridge tool that client delegations and decisions reach (default
    /// [`DEFAULT_DELEGATION_TOOL`], `delegate`).
    pub fn delegation_tool(mut self, name: impl Into<String>) -> Self {
        self.delegation_tool = name.into();
        self
    }

    /// What the agent says first, as an instruction for the model's own words (an
    /// outbound call's greeting); sent with the first caller audio. Default none: the agent
    /// answers the caller.
    pub fn greeting(mut self, greeting: impl Into<String>) -> Self {
        self.greeting = Some(greeting.into());
        self
    }

    /// How long the agent's output stays silent before its turn counts as done. Default
    /// 600 ms.
    pub fn turn_gap(mut self, gap: Duration) -> Self {
        self.turn_gap = gap;
        self
    }

    /// How long the agent's output must fall silent while the caller speaks for the leg to
    /// tell the bridge the service stopped for the caller (its barge-in). Default 100 ms:
    /// longer than the service's gaps between words, and short enough that the clear still
    /// finds abandoned speech in the phone's queue (the bridge keeps 100 to 300 ms there).
    pub fn interruption_silence(mut self, silence: Duration) -> Self {
        self.interruption_silence = silence;
        self
    }

    /// The gap on the session's timeline between two caller transcript fragments that
    /// starts a new caller turn. Default 800 ms.
    pub fn caller_turn_gap(mut self, gap: Duration) -> Self {
        self.caller_turn_gap_ms = u64::try_from(gap.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// The leg. Nothing is connected until the bridge first asks it for an event.
    pub fn build(self) -> OpenAiLiveLeg {
        OpenAiLiveLeg {
            delegation_tool: self.delegation_tool.clone(),
            greeting: self.greeting.clone(),
            turns: Turns::new(self.turn_gap, self.interruption_silence),
            caller: CallerTurns::new(self.caller_turn_gap_ms),
            state: State::Idle(Box::new(self)),
            pending: VecDeque::new(),
            output: AudioFormat::MuLaw,
            calls: HashMap::new(),
            answered: 0,
            interruptions: 0,
            cancels_skipped: 0,
            truncations_skipped: 0,
            final_usage: None,
        }
    }
}

/// An [`AgentLeg`] over an OpenAI GPT-Live session.
///
/// See the [module docs](self) for what it does and how Live's turns, barge-in and
/// delegation map to the bridge's.
pub struct OpenAiLiveLeg {
    state: State,
    pending: VecDeque<AgentEvent>,
    output: AudioFormat,
    delegation_tool: String,
    greeting: Option<String>,
    turns: Turns,
    caller: CallerTurns,
    /// Tool calls not yet answered, by call id: how to answer each.
    calls: HashMap<String, Answer>,
    /// Responses function calls answered since the last `response.create`.
    answered: usize,
    /// Interruptions of the service detected (each told as `SpeechStarted`).
    interruptions: u64,
    /// The bridge's cancels and truncations, which Live has no use for.
    cancels_skipped: u64,
    truncations_skipped: u64,
    /// The usage of the `session.closed` that answered the bridge's close.
    final_usage: Option<AgentUsage>,
}

/// How a tool call's result goes back to the service.
#[derive(Debug, Clone)]
enum Answer {
    /// `response.item.create` with a `function_call_output` (Responses delegation).
    FunctionOutput,
    /// `session.commentary.append` for the delegation (client delegation, decisions).
    Commentary(DelegationId),
    /// `session.thinking.append` without a delegation (a trigger's decision).
    Thinking,
}

enum State {
    Idle(Box<OpenAiLiveLegBuilder>),
    /// The WebSocket handshake, `session.start` and `session.started`.
    Connecting(BoxFuture<'static, Result<Connection, ClientError>>),
    Open {
        sender: Arc<Sender>,
        events: Events,
    },
    Done,
}

impl fmt::Debug for OpenAiLiveLeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(_) => "idle",
            State::Connecting(_) => "connecting",
            State::Open { .. } => "open",
            State::Done => "done",
        };
        f.debug_struct("OpenAiLiveLeg")
            .field("state", &state)
            .field("output", &self.output)
            .field("turn", &self.turns.segment)
            .field("interruptions", &self.interruptions)
            .field("cancels_skipped", &self.cancels_skipped)
            .field("truncations_skipped", &self.truncations_skipped)
            .finish_non_exhaustive()
    }
}

/// The agent's output track cut into turns.
#[derive(Debug)]
struct Turns {
    gap: Duration,
    interruption_silence: Duration,
    /// The current segment: a turn and the silence after it (0: before the first turn).
    segment: u64,
    item: ItemId,
    speaking: bool,
    /// Silence since the last audible delta of this turn.
    silent: Duration,
    /// The caller spoke during this turn: their words arrived, or their audio was loud for
    /// [`CALLER_SPEECH`].
    caller_over: bool,
    /// Loud caller audio sent during this turn.
    caller_loud: Duration,
    /// The agent's transcript of this segment so far.
    text: String,
    /// Transcript fragments ahead of their audio (between turns): the next turn's.
    next_text: Vec<String>,
    /// The output track's position on the session timeline: the audio received so far.
    track_ms: u64,
    /// Silence between turns left behind, for the debug line at the end.
    silence_dropped_ms: u64,
}

impl Turns {
    fn new(gap: Duration, interruption_silence: Duration) -> Self {
        Self {
            gap,
            interruption_silence,
            segment: 0,
            item: ItemId::new("live_out_0"),
            speaking: false,
            silent: Duration::ZERO,
            caller_over: false,
            caller_loud: Duration::ZERO,
            text: String::new(),
            next_text: Vec::new(),
            track_ms: 0,
            silence_dropped_ms: 0,
        }
    }
}

/// The caller's transcript fragments joined into turns.
#[derive(Debug)]
struct CallerTurns {
    gap_ms: u64,
    turn: u64,
    item: ItemId,
    last_end_ms: Option<u64>,
    text: String,
}

impl CallerTurns {
    fn new(gap_ms: u64) -> Self {
        Self {
            gap_ms,
            turn: 1,
            item: ItemId::new("live_in_1"),
            last_end_ms: None,
            text: String::new(),
        }
    }

    /// The final line of the caller's turn so far, and a fresh turn; `None` if it has no
    /// words.
    fn finish(&mut self) -> Option<AgentEvent> {
        if self.text.trim().is_empty() {
            return None;
        }
        let text = std::mem::take(&mut self.text);
        let line =
            Transcript::new(Speaker::Caller, text.trim(), true).with_item_id(self.item.clone());
        self.turn += 1;
        self.item = ItemId::new(format!("live_in_{}", self.turn));
        self.last_end_ms = None;
        Some(AgentEvent::Transcript(line))
    }
}

impl OpenAiLiveLeg {
    /// A builder with the client configuration (endpoint, key, timeouts); the session
    /// starts as [`SessionConfig::phone_call`] (`gpt-live-1`, G.711 mu-law both ways).
    pub fn builder(config: Config) -> OpenAiLiveLegBuilder {
        OpenAiLiveLegBuilder {
            config,
            session: SessionConfig::phone_call(),
            greeting: None,
            delegation_tool: DEFAULT_DELEGATION_TOOL.to_owned(),
            turn_gap: Duration::from_millis(600),
            interruption_silence: Duration::from_millis(100),
            caller_turn_gap_ms: 800,
        }
    }

    /// A leg with the phone-call session and nothing else set.
    pub fn new(config: Config) -> Self {
        Self::builder(config).build()
    }

    async fn next_event(&mut self) -> Result<AgentEvent, LegError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            match &mut self.state {
                State::Idle(_) => {
                    if let State::Idle(setup) = std::mem::replace(&mut self.state, State::Done) {
                        let url = display_url(&setup.config);
                        self.pending.push_back(AgentEvent::Waiting(format!(
                            "the WebSocket handshake and `session.started` from {url}"
                        )));
                        let OpenAiLiveLegBuilder {
                            config, session, ..
                        } = *setup;
                        self.state =
                            State::Connecting(Connection::connect(config, session).boxed());
                    }
                }
                State::Connecting(connecting) => match connecting.await {
                    Ok(connection) => return Ok(self.started(connection)),
                    Err(error) => {
                        self.state = State::Done;
                        let end = start_end(&error);
                        // The client logged the cause with all its words.
                        tracing::debug!(%end, "openai-live: the session did not start");
                        return Ok(AgentEvent::Ended(end));
                    }
                },
                State::Open { events, .. } => match events.next().await {
                    Some(Ok(event)) => self.on_event(event),
                    Some(Err(error)) => self.on_error(&error),
                    None => {
                        // The client ends its stream only after an end it already yielded, or
                        // after our own close.
                        self.finish_turns();
                        self.state = State::Done;
                        self.pending.push_back(AgentEvent::Ended(LegEnd::Finished));
                    }
                },
                State::Done => return Err(LegError::new("the openai-live leg has already ended")),
            }
        }
    }

    /// `session.started`: the formats, and the leg is open.
    fn started(&mut self, connection: Connection) -> AgentEvent {
        let session = connection.session();
        let format = match session.format() {
            Some(wire) => bridge_format(wire),
            // Not echoed: the service's default.
            None => Some(AudioFormat::PCM16_24K),
        };
        let Some(format) = format else {
            self.state = State::Done;
            let message = format!(
                "the session started with audio {:?}, which the bridge cannot play",
                session.format()
            );
            tracing::error!(%message, "openai-live: unusable session");
            return AgentEvent::Ended(LegEnd::Error {
                code: None,
                message,
            });
        };
        tracing::info!(session_id = %connection.session_id(), model = %session.model,
            format = %format, "openai-live: session started");
        self.output = format;
        let (sender, receiver) = connection.split();
        self.state = State::Open {
            sender: Arc::new(sender),
            events: Box::pin(receiver.into_stream()),
        };
        AgentEvent::Ready(AgentReady::new(format, format).with_interruption(Interruption::Agent))
    }

    fn on_event(&mut self, event: ServerEvent) {
        match event {
            ServerEvent::OutputAudioDelta(delta) => {
                match AudioChunk::from_base64(self.output, delta.delta) {
                    Ok(chunk) => self.on_audio(chunk),
                    Err(error) => tracing::warn!(%error, "openai-live: audio delta skipped"),
                }
            }
            ServerEvent::InputTranscriptDelta(delta) => {
                self.on_caller_words(delta.delta, delta.start_ms, delta.end_ms);
            }
            ServerEvent::OutputTranscriptDelta(delta) => {
                if !self.turns.speaking && delta.start_ms >= self.turns.track_ms {
                    // Words of audio still to come, and no turn open: the next turn's.
                    self.turns.next_text.push(delta.delta);
                    return;
                }
                self.agent_words(delta.delta);
            }
            ServerEvent::DelegationCreated(created) => {
                let delegation = created.delegation;
                if delegation.target != DelegationTarget::Client {
                    tracing::debug!(delegation_id = %delegation.id, target = %delegation.target,
                        "openai-live: a delegation the service's backend handles");
                    return;
                }
                let request = self.caller.text.trim().to_owned();
                self.calls.insert(
                    delegation.id.to_string(),
                    Answer::Commentary(delegation.id.clone()),
                );
                let call = ToolCall::new(
                    delegation.id.as_str(),
                    self.delegation_tool.clone(),
                    json!({ "request": request }),
                );
                self.pending.push_back(AgentEvent::ToolCall(call));
            }
            ServerEvent::ResponseEvent(event) => {
                if let Some(call) = function_call(&event.event) {
                    self.calls
                        .insert(call.call_id.as_str().to_owned(), Answer::FunctionOutput);
                    self.pending.push_back(AgentEvent::ToolCall(call));
                }
            }
            ServerEvent::DecisionEvent(event) => {
                let Some(decision) = event.decision() else {
                    return;
                };
                let answers = serde_json::to_value(&decision.answers).unwrap_or(Value::Null);
                let (call_id, answer) = match event.delegation() {
                    Some(id) => (id.to_string(), Answer::Commentary(id.clone())),
                    None => (event.event_id.to_string(), Answer::Thinking),
                };
                self.calls.insert(call_id.clone(), answer);
                let call = ToolCall::new(
                    call_id,
                    self.delegation_tool.clone(),
                    json!({ "answers": answers, "trigger_id": event.trigger().map(|t| t.to_string()) }),
                );
                self.pending.push_back(AgentEvent::ToolCall(call));
            }
            ServerEvent::SessionUsageUpdated(updated) => {
                self.pending
                    .push_back(AgentEvent::Usage(usage(&updated.usage)));
            }
            ServerEvent::SessionClosed(closed) => {
                // `close_requested`: the answer to our close (the client yields any other
                // reason as an error).
                self.finish_turns();
                self.pending
                    .push_back(AgentEvent::Usage(usage(&closed.usage)));
                tracing::info!(reason = %closed.reason, seconds = closed.usage.seconds(),
                    "openai-live: session closed");
                self.state = State::Done;
                self.pending.push_back(AgentEvent::Ended(LegEnd::Finished));
            }
            ServerEvent::Info(info) => {
                tracing::debug!(code = %info.code, message = %info.message, "openai-live: info");
            }
            _ => {}
        }
    }

    /// A fragment of the agent's words, in the current turn.
    fn agent_words(&mut self, text: String) {
        self.turns.text.push_str(&text);
        let piece =
            Transcript::new(Speaker::Agent, text, false).with_item_id(self.turns.item.clone());
        self.pending.push_back(AgentEvent::Transcript(piece));
    }

    /// One delta of the output track: turn boundaries, the service's interruption, and the
    /// audio itself (silence between turns stays behind).
    fn on_audio(&mut self, chunk: AudioChunk) {
        let length = chunk.format().play_time(chunk.byte_len() as u64);
        self.turns.track_ms += u64::try_from(length.as_millis()).unwrap_or(u64::MAX);
        if is_audible(&chunk) {
            if !self.turns.speaking {
                self.start_turn();
            }
            self.turns.silent = Duration::ZERO;
        } else if self.turns.speaking {
            self.turns.silent += length;
            if !self.interrupted_now() && self.turns.silent >= self.turns.gap {
                self.end_turn(ResponseStatus::Completed);
            }
        } else {
            self.turns.silence_dropped_ms += u64::try_from(length.as_millis()).unwrap_or(0);
            return;
        }
        self.pending.push_back(AgentEvent::Audio(AgentAudio::new(
            self.turns.item.clone(),
            0,
            chunk,
        )));
    }

    /// Caller words: their turn, and evidence of an interruption when the agent speaks.
    fn on_caller_words(&mut self, text: String, start_ms: u64, end_ms: u64) {
        if text.is_empty() {
            return;
        }
        let caller = &mut self.caller;
        if caller
            .last_end_ms
            .is_some_and(|last| start_ms.saturating_sub(last) > caller.gap_ms)
        {
            if let Some(line) = caller.finish() {
                self.pending.push_back(line);
            }
        }
        let caller = &mut self.caller;
        caller.text.push_str(&text);
        caller.last_end_ms = Some(end_ms);
        let piece = Transcript::new(Speaker::Caller, text, false).with_item_id(caller.item.clone());
        self.pending.push_back(AgentEvent::Transcript(piece));
        if self.turns.speaking {
            self.turns.caller_over = true;
            self.interrupted_now();
        }
    }

    /// Caller audio on its way to the service: loud enough for long enough during an agent
    /// turn, it is the caller speaking over the agent (the service hears the same audio).
    fn hear_caller(&mut self, chunk: &AudioChunk) {
        if !self.turns.speaking || !peaks_above(chunk, CALLER_PEAK) {
            return;
        }
        self.turns.caller_loud += chunk.format().play_time(chunk.byte_len() as u64);
        if self.turns.caller_loud >= CALLER_SPEECH {
            self.turns.caller_over = true;
            self.interrupted_now();
        }
    }

    /// The service stopped for the caller (their words or their loud audio during this
    /// turn, and the output silent long enough): tell the bridge, end the turn as
    /// cancelled.
    fn interrupted_now(&mut self) -> bool {
        let turns = &self.turns;
        if !(turns.speaking && turns.caller_over && turns.silent >= turns.interruption_silence) {
            return false;
        }
        self.interruptions += 1;
        tracing::debug!(item_id = %turns.item, silent_ms = turns.silent.as_millis() as u64,
            interruptions = self.interruptions,
            "openai-live: the service stopped for the caller; clearing what the phone still holds");
        self.pending.push_back(AgentEvent::SpeechStarted);
        self.end_turn(ResponseStatus::Cancelled);
        true
    }

    fn start_turn(&mut self) {
        // The agent answers: the caller's turn is over, and so is the agent's previous one.
        if let Some(line) = self.caller.finish() {
            self.pending.push_back(line);
        }
        self.finish_agent_text();
        self.turns.segment += 1;
        self.turns.item = ItemId::new(format!("live_out_{}", self.turns.segment));
        self.turns.speaking = true;
        self.turns.caller_over = false;
        self.turns.caller_loud = Duration::ZERO;
        self.turns.silent = Duration::ZERO;
        self.pending.push_back(AgentEvent::ResponseStarted(None));
        for words in std::mem::take(&mut self.turns.next_text) {
            self.agent_words(words);
        }
    }

    fn end_turn(&mut self, status: ResponseStatus) {
        self.turns.speaking = false;
        self.turns.caller_over = false;
        self.finish_agent_text();
        self.pending
            .push_back(AgentEvent::ResponseDone(ResponseDone::new(status)));
    }

    fn finish_agent_text(&mut self) {
        let text = std::mem::take(&mut self.turns.text);
        if !text.trim().is_empty() {
            let line = Transcript::new(Speaker::Agent, text.trim(), true)
                .with_item_id(self.turns.item.clone());
            self.pending.push_back(AgentEvent::Transcript(line));
        }
    }

    /// The session is ending: the open turns' final lines.
    fn finish_turns(&mut self) {
        if self.turns.speaking {
            self.end_turn(ResponseStatus::Completed);
        }
        // Words whose audio never came are still what the agent was saying.
        for words in std::mem::take(&mut self.turns.next_text) {
            self.agent_words(words);
        }
        self.finish_agent_text();
        tracing::debug!(
            track_ms = self.turns.track_ms,
            silence_between_turns_ms = self.turns.silence_dropped_ms,
            "openai-live: output track ended"
        );
        if let Some(line) = self.caller.finish() {
            self.pending.push_back(line);
        }
    }

    /// An `Err` from the session: an `error` event (the session goes on), an unusable frame
    /// (skipped), or the end.
    fn on_error(&mut self, error: &ClientError) {
        if error.is_api() {
            let api = error.api_error();
            self.pending.push_back(AgentEvent::Error(AgentError {
                code: error.code().map(str::to_owned),
                message: api.map_or_else(|| error.to_string(), |a| a.message.clone()),
                fatal: false,
            }));
            return;
        }
        if error.is_protocol() {
            tracing::warn!(%error, "openai-live: unusable server frame skipped");
            return;
        }
        self.finish_turns();
        self.state = State::Done;
        let message = error.to_string();
        let end = if let Some(closed) = error.session_closed() {
            self.pending
                .push_back(AgentEvent::Usage(usage(&closed.usage)));
            match &closed.reason {
                CloseReason::RemoteHangup | CloseReason::CloseRequested => LegEnd::Finished,
                CloseReason::ConnectionLost => LegEnd::Closed {
                    code: None,
                    reason: message,
                },
                reason => LegEnd::Error {
                    code: Some(reason.to_string()),
                    message,
                },
            }
        } else if let Some(api) = error.api_error() {
            LegEnd::Error {
                code: api.code.clone(),
                message,
            }
        } else if let Some(close) = error.close_frame() {
            LegEnd::Closed {
                code: Some(close.code()),
                reason: message,
            }
        } else {
            LegEnd::Failed { message }
        };
        tracing::debug!(%end, "openai-live: the session ended");
        self.pending.push_back(AgentEvent::Ended(end));
    }

    async fn send_event(&mut self, event: ClientEvent) -> Result<(), LegError> {
        let State::Open { sender, .. } = &mut self.state else {
            return Err(LegError::new(format!(
                "openai-live: cannot send `{}`: the session is not open",
                event.event_type()
            )));
        };
        let sender: &Sender = sender.as_ref();
        sender.send(&event).await.map_err(|error| {
            let what = event.event_type();
            LegError::with_source(format!("openai-live: sending `{what}` failed"), error)
        })
    }

    async fn tool_result(&mut self, call_id: &str, output: String) -> Result<(), LegError> {
        let Some(answer) = self.calls.remove(call_id) else {
            tracing::warn!(
                call_id,
                "openai-live: a result for no open delegation; not sent"
            );
            return Ok(());
        };
        // A tool's JSON string is the words themselves.
        let words = match serde_json::from_str::<Value>(&output) {
            Ok(Value::String(text)) => text,
            _ => output.clone(),
        };
        match answer {
            Answer::FunctionOutput => {
                self.answered += 1;
                self.send_event(ClientEvent::function_call_output(call_id, output))
                    .await
            }
            Answer::Commentary(id) => {
                self.send_event(ClientEvent::commentary_append(words, Some(id)))
                    .await
            }
            Answer::Thinking => {
                self.send_event(ClientEvent::thinking_append(words, None))
                    .await
            }
        }
    }

    /// One `response.create` once every open function call has its output.
    async fn continue_backend(&mut self) -> Result<(), LegError> {
        let open = self
            .calls
            .values()
            .any(|answer| matches!(answer, Answer::FunctionOutput));
        if self.answered == 0 || open {
            tracing::debug!(
                answered = self.answered,
                open,
                "openai-live: nothing for response.create to continue; the service speaks by itself"
            );
            return Ok(());
        }
        self.answered = 0;
        self.send_event(ClientEvent::response_create()).await
    }

    async fn close(&mut self) -> Result<(), LegError> {
        let state = std::mem::replace(&mut self.state, State::Done);
        let State::Open { sender, mut events } = state else {
            return Ok(());
        };
        if sender.close_session().await.is_ok() {
            // Wait briefly for the service to confirm, so it finalises the session; the
            // bridge gives the last command a second.
            let confirmed = async {
                while let Some(item) = events.next().await {
                    match item {
                        Ok(ServerEvent::SessionClosed(closed)) => return Some(closed),
                        Err(error) if error.is_fatal() => return None,
                        _ => {}
                    }
                }
                None
            };
            let closed = tokio::time::timeout(Duration::from_millis(700), confirmed)
                .await
                .ok()
                .flatten();
            let seconds = closed.as_ref().map(|c| c.usage.seconds());
            tracing::info!(
                confirmed = closed.is_some(),
                seconds,
                "openai-live: session closed by the bridge"
            );
            self.final_usage = closed.map(|c| usage(&c.usage));
        }
        sender.close().await.map_err(|error| {
            LegError::with_source("openai-live: closing the session failed", error)
        })
    }
}

/// A completed function call of the Responses backend (`response.output_item.done`).
fn function_call(event: &Value) -> Option<ToolCall> {
    if event.get("type")?.as_str()? != "response.output_item.done" {
        return None;
    }
    let item = event.get("item")?;
    if item.get("type")?.as_str()? != "function_call"
        || item
            .get("status")
            .and_then(Value::as_str)
            .is_some_and(|s| s != "completed")
    {
        return None;
    }
    let call_id = item.get("call_id")?.as_str()?;
    let name = item.get("name")?.as_str()?;
    let raw = item
        .get("arguments")
        .and_then(Value::as_str)
        .unwrap_or("{}");
    let arguments = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_owned()));
    Some(ToolCall::new(call_id, name, arguments))
}

fn usage(usage: &openai_realtime::live::SessionUsage) -> AgentUsage {
    AgentUsage {
        session_seconds: Some(usage.seconds()),
        active_seconds: usage.active_seconds,
        paused_seconds: usage.paused_seconds,
        ..AgentUsage::default()
    }
}

/// Whether a delta of the agent's output holds speech (any sample above [`AUDIBLE_PEAK`]).
fn is_audible(chunk: &AudioChunk) -> bool {
    peaks_above(chunk, AUDIBLE_PEAK)
}

/// Whether any sample of `chunk` is louder than `peak`.
fn peaks_above(chunk: &AudioChunk, peak: u16) -> bool {
    let bytes = chunk.to_bytes();
    match chunk.format() {
        AudioFormat::MuLaw => bytes
            .iter()
            .any(|&code| g711::mulaw_to_linear(code).unsigned_abs() > peak),
        AudioFormat::ALaw => bytes
            .iter()
            .any(|&code| g711::alaw_to_linear(code).unsigned_abs() > peak),
        _ => bytes
            .chunks_exact(2)
            .any(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs() > peak),
    }
}

/// The bridge's format for the session's; `None` for one it cannot play.
fn bridge_format(format: &WireFormat) -> Option<AudioFormat> {
    match (format, format.rate()) {
        (WireFormat::Pcmu(_), Some(8000)) => Some(AudioFormat::MuLaw),
        (WireFormat::Pcma(_), Some(8000)) => Some(AudioFormat::ALaw),
        (WireFormat::Pcm(_), Some(16000)) => Some(AudioFormat::PCM16_16K),
        (WireFormat::Pcm(_), Some(24000)) => Some(AudioFormat::PCM16_24K),
        _ => None,
    }
}

/// The URL as words for a line: no user name or password (the key travels in a header).
fn display_url(config: &Config) -> String {
    let Ok(mut url) = config.request_url() else {
        return "the configured endpoint".to_owned();
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.to_string()
}

/// How a session that never started ends.
fn start_end(error: &ClientError) -> LegEnd {
    let detail = error.to_string();
    if error.is_refused() {
        LegEnd::Refused {
            status: error.status().map(|s| s.as_u16()),
            detail,
        }
    } else if error.is_rejected() || error.is_config() {
        LegEnd::Refused {
            status: None,
            detail,
        }
    } else {
        LegEnd::Failed { message: detail }
    }
}

#[async_trait]
impl AgentLeg for OpenAiLiveLeg {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        self.next_event().await
    }

    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError> {
        match command {
            AgentCommand::Audio(chunk) => {
                self.hear_caller(&chunk);
                self.send_event(ClientEvent::input_audio_append(chunk.into_base64()))
                    .await?;
                if let Some(greeting) = self.greeting.take() {
                    self.send_event(ClientEvent::commentary_append(greeting, None))
                        .await?;
                }
                Ok(())
            }
            AgentCommand::Truncate { .. } => {
                // The service's timeline is what it played: nothing to cut.
                self.truncations_skipped += 1;
                Ok(())
            }
            AgentCommand::CancelResponse => {
                // The service stops its own speech for the caller.
                self.cancels_skipped += 1;
                Ok(())
            }
            AgentCommand::ToolResult { call_id, output } => {
                self.tool_result(call_id.as_str(), output).await
            }
            AgentCommand::CreateResponse => self.continue_backend().await,
            AgentCommand::Dtmf(digit) => {
                let note = format!("The caller pressed the key {digit} on the phone's keypad.");
                self.send_event(ClientEvent::thinking_append(note, None))
                    .await
            }
            AgentCommand::Close => self.close().await,
        }
    }

    /// The usage of the `session.closed` that answered the bridge's close: the whole
    /// session's billed seconds, where the last `session.usage.updated` may be up to its
    /// interval behind (or absent on a short call).
    fn final_usage(&mut self) -> Option<AgentUsage> {
        self.final_usage.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg() -> OpenAiLiveLeg {
        OpenAiLiveLeg::new(Config::url("ws://127.0.0.1:1/v1/live/sessions"))
    }

    fn mulaw(loud: bool, ms: usize) -> AudioChunk {
        let bytes: Vec<u8> = (0..ms * 8)
            .map(|i| match (loud, i % 2) {
                (false, _) => 0xff,
                (true, 0) => 0x80,
                (true, _) => 0x00,
            })
            .collect();
        AudioChunk::from_bytes(AudioFormat::MuLaw, bytes).unwrap()
    }

    fn drain(leg: &mut OpenAiLiveLeg) -> Vec<String> {
        leg.pending
            .drain(..)
            .filter_map(|event| match event {
                AgentEvent::Audio(_) => None,
                AgentEvent::ResponseStarted(_) => Some("started".to_owned()),
                AgentEvent::ResponseDone(done) => Some(format!("done {:?}", done.status)),
                AgentEvent::SpeechStarted => Some("barge-in".to_owned()),
                AgentEvent::Transcript(t) => Some(format!(
                    "{:?} {} {:?}{}",
                    t.speaker,
                    t.item_id.map(|i| i.to_string()).unwrap_or_default(),
                    t.text,
                    if t.is_final { " final" } else { "" }
                )),
                other => Some(format!("{other:?}")),
            })
            .collect()
    }

    #[test]
    fn silence_and_speech_are_told_apart_in_every_format() {
        assert!(is_audible(&mulaw(true, 20)));
        assert!(!is_audible(&mulaw(false, 20)));
        let quiet = AudioChunk::from_pcm16(crate::audio::SampleRate::Hz24000, &[0, 3, -3, 0]);
        let loud = AudioChunk::from_pcm16(crate::audio::SampleRate::Hz24000, &[0, 9000, -9000]);
        assert!(!is_audible(&quiet) && is_audible(&loud));
    }

    #[test]
    fn a_turn_starts_at_speech_and_ends_after_the_gap() {
        let mut leg = leg();
        leg.on_audio(mulaw(false, 100));
        assert!(
            drain(&mut leg).is_empty(),
            "silence before any speech is no turn"
        );
        leg.on_audio(mulaw(true, 100));
        for _ in 0..5 {
            leg.on_audio(mulaw(false, 100));
        }
        assert_eq!(drain(&mut leg), ["started"]);
        leg.on_audio(mulaw(false, 100));
        assert_eq!(drain(&mut leg), ["done Completed"]);
        assert_eq!(leg.turns.item.as_str(), "live_out_1");
    }

    #[test]
    fn words_ahead_of_their_audio_open_the_next_turn_and_silence_between_turns_stays_behind() {
        fn words(leg: &mut OpenAiLiveLeg, text: &str, start_ms: u64) {
            let frame = json!({"type": "session.output_transcript.delta", "event_id": "event_1",
                "delta": text, "start_ms": start_ms, "end_ms": start_ms + 100});
            leg.on_event(ServerEvent::decode(&frame.to_string()).unwrap());
        }
        fn audio_ms(leg: &OpenAiLiveLeg) -> u64 {
            leg.pending
                .iter()
                .filter_map(|e| match e {
                    AgentEvent::Audio(a) => Some(a.chunk.byte_len() as u64 / 8),
                    _ => None,
                })
                .sum()
        }
        let mut leg = leg();
        // The track's silence before the first turn goes nowhere.
        leg.on_audio(mulaw(false, 100));
        assert_eq!(audio_ms(&leg), 0);
        // The first word comes just before its audio (as the service may send it).
        words(&mut leg, "Hello", 100);
        assert!(leg.pending.is_empty());
        leg.on_audio(mulaw(true, 100));
        words(&mut leg, " there.", 200);
        leg.on_audio(mulaw(true, 100));
        // The pause after the turn is played up to the gap (600 ms), then left behind.
        for _ in 0..10 {
            leg.on_audio(mulaw(false, 100));
        }
        assert_eq!(audio_ms(&leg), 800);
        // The next turn's first word, again ahead of its audio: not the last turn's.
        words(&mut leg, "Bye.", 1300);
        leg.on_audio(mulaw(true, 100));
        assert_eq!(
            drain(&mut leg),
            [
                "started",
                "Agent live_out_1 \"Hello\"",
                "Agent live_out_1 \" there.\"",
                "Agent live_out_1 \"Hello there.\" final",
                "done Completed",
                "started",
                "Agent live_out_2 \"Bye.\"",
            ]
        );
        assert_eq!(leg.turns.silence_dropped_ms, 500);
        assert_eq!(leg.turns.track_ms, 1400);
    }

    #[test]
    fn caller_words_then_silence_is_the_services_interruption() {
        let mut leg = leg();
        leg.on_audio(mulaw(true, 100));
        leg.on_caller_words("wait".into(), 1000, 1200);
        // Still talking, a short pause: a backchannel, not an interruption.
        leg.on_audio(mulaw(true, 100));
        leg.on_audio(mulaw(false, 60));
        assert_eq!(drain(&mut leg), ["started", "Caller live_in_1 \"wait\""]);
        leg.on_audio(mulaw(false, 60));
        assert_eq!(drain(&mut leg), ["barge-in", "done Cancelled"]);
        assert_eq!(leg.interruptions, 1);
        // The next speech is a new turn, heard again.
        leg.on_audio(mulaw(true, 100));
        assert_eq!(
            drain(&mut leg),
            ["Caller live_in_1 \"wait\" final", "started"]
        );
    }

    #[test]
    fn silence_then_caller_words_is_the_interruption_too() {
        let mut leg = leg();
        leg.on_audio(mulaw(true, 100));
        leg.on_audio(mulaw(false, 100));
        assert_eq!(drain(&mut leg), ["started"]);
        leg.on_caller_words("stop".into(), 500, 700);
        assert_eq!(
            drain(&mut leg),
            ["Caller live_in_1 \"stop\"", "barge-in", "done Cancelled"]
        );
    }

    #[test]
    fn loud_caller_audio_then_silence_is_the_interruption_without_any_transcript() {
        let mut leg = leg();
        leg.on_audio(mulaw(true, 100));
        // 40 ms of the caller is not yet speech over the agent; quiet audio never is.
        leg.hear_caller(&mulaw(true, 40));
        leg.hear_caller(&mulaw(false, 100));
        leg.on_audio(mulaw(false, 100));
        assert_eq!(drain(&mut leg), ["started"]);
        assert!(!leg.turns.caller_over);
        leg.hear_caller(&mulaw(true, 20));
        assert_eq!(drain(&mut leg), ["barge-in", "done Cancelled"]);
        // Caller audio between turns interrupts nothing.
        leg.hear_caller(&mulaw(true, 200));
        leg.on_audio(mulaw(false, 100));
        assert!(drain(&mut leg).is_empty());
    }

    #[test]
    fn caller_fragments_join_into_turns_by_their_timeline_gap() {
        let mut leg = leg();
        leg.on_caller_words("where is ".into(), 0, 400);
        leg.on_caller_words("my order".into(), 400, 800);
        leg.on_caller_words("hello?".into(), 3000, 3400);
        assert_eq!(
            drain(&mut leg),
            [
                "Caller live_in_1 \"where is \"",
                "Caller live_in_1 \"my order\"",
                "Caller live_in_1 \"where is my order\" final",
                "Caller live_in_2 \"hello?\"",
            ]
        );
    }

    #[test]
    fn a_completed_function_call_of_the_backend_is_a_tool_call() {
        let done = json!({"type": "response.output_item.done", "output_index": 0, "item": {
            "type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "lookup_order",
            "arguments": "{\"order_id\":\"123\"}", "status": "completed"}});
        let call = function_call(&done).expect("a tool call");
        assert_eq!(call.call_id.as_str(), "call_1");
        assert_eq!(call.name, "lookup_order");
        assert_eq!(call.arguments, json!({"order_id": "123"}));
        let mut partial = done.clone();
        partial["item"]["status"] = json!("in_progress");
        assert!(function_call(&partial).is_none());
        let other = json!({"type": "response.function_call_arguments.done", "arguments": "{}"});
        assert!(function_call(&other).is_none());
    }

    #[test]
    fn formats_map_to_the_bridge_formats() {
        assert_eq!(bridge_format(&WireFormat::pcmu()), Some(AudioFormat::MuLaw));
        assert_eq!(bridge_format(&WireFormat::pcma()), Some(AudioFormat::ALaw));
        assert_eq!(
            bridge_format(&WireFormat::pcm(24000)),
            Some(AudioFormat::PCM16_24K)
        );
        assert_eq!(
            bridge_format(&WireFormat::pcm(16000)),
            Some(AudioFormat::PCM16_16K)
        );
        assert_eq!(bridge_format(&WireFormat::pcm(44100)), None);
    }
}
