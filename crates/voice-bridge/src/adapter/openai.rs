//! The agent leg over an OpenAI Realtime session (feature `openai`).
//!
//! [`OpenAiLeg`] turns an [`openai_realtime::client`] session into an [`AgentLeg`], in
//! either dialect (GA, or beta where a server still speaks it) and against any endpoint
//! the client's [`Config`] names: OpenAI, Azure, a proxy, or the crate's mock server.
//!
//! What it does, per the [guide](crate::guide#writing-an-agent-adapter-an-openai-realtime-leg):
//!
//! - The first [`recv`](AgentLeg::recv) connects, sends `session.update` and waits for the
//!   service to confirm it; only then does it report [`AgentEvent::Ready`] with the
//!   confirmed audio formats. The connecting future lives inside the leg, so `recv` stays
//!   cancel safe. Before each stage it reports [`AgentEvent::Waiting`] with what it waits
//!   for and the URL (credentials redacted), so a bridge whose readiness limit runs out
//!   first names the URL: `the WebSocket handshake and session.created from
//!   wss://api.openai.com/v1/realtime?model=…`, then `session.updated from …`.
//! - Each failure is logged once, by the client, with all its words; the leg's own
//!   lines about it are at DEBUG, and the bridge's line names only its kind.
//! - A refused handshake ends the leg with [`LegEnd::Refused`]: the HTTP status and the
//!   client error's full text (the service's code and message, and advice for known
//!   causes such as a bad key). A refused `session.update` ends it with [`LegEnd::Error`].
//!   Either way the bridge gives the caller its fallback.
//! - Mid-call, an `error` event is a non-fatal [`AgentEvent::Error`]; an error followed by
//!   a close is [`LegEnd::Error`]; a failure close is [`LegEnd::Closed`] with its code and
//!   reason; a normal close by the service is [`LegEnd::Closed`] with its code (`1000`), so
//!   the line that gives the caller the fallback names it; after our own close the end is
//!   [`LegEnd::Finished`].
//! - [`AgentCommand::CancelResponse`] is sent only while a response may be running (from
//!   `response.created`, or a `response.create` of this leg, to `response.done`); with
//!   none running it is a no-op, logged at debug. Each `response.cancel` carries an
//!   `event_id` of this leg.
//! - The rule for the bridge's cancel on barge-in lives here, because only this leg knows
//!   the session's confirmed turn detection: when it is `server_vad` or `semantic_vad`
//!   with `interrupt_response` (true unless set false), the service cancels the running
//!   response itself on `speech_started`, so a cancel for a response that was running
//!   when the caller's speech started is not sent (logged at debug and counted): it could
//!   only be answered `response_cancel_not_active`. The cancel is still sent where it is
//!   needed: without VAD interruption (`interrupt_response: false`, turn detection `null`
//!   or absent from the confirmed session, or a kind this crate does not know), for a
//!   response that started after the speech did, and for this leg's own `response.create`
//!   not yet answered (its response may start after the speech, which the service does
//!   not interrupt). Where a cancel still races the response's end, the service's answer,
//!   `response_cancel_not_active` echoing the cancel's `event_id`, is expected: logged at
//!   debug and counted, never an [`AgentEvent::Error`]. The same code for an event that
//!   is not one of this leg's cancels is reported like any other error.
//! - Server events become the bridge's events (audio deltas with their item, speech
//!   started/stopped, transcripts of both sides, function calls with parsed arguments,
//!   response start and end, and the tokens of every `response.done` summed into
//!   [`AgentEvent::Usage`]); the bridge's commands become client events (append,
//!   truncate, cancel, function output, response, close). A key press becomes a user text
//!   item `[DTMF 5]` and a `response.create`.
//! - No `response.create` goes out while a response is active (`response.created` to
//!   `response.done`, or this leg's own create not yet answered): a create asked for then
//!   (a key press, a tool's result) is sent once that response is done. Each create
//!   carries an `event_id` of this leg. The service's VAD may still start a response just
//!   before our create arrives; its answer, `conversation_already_has_active_response`
//!   echoing our `event_id`, is that race's expected end: logged at debug and counted, and
//!   the create is sent again after that response's `response.done`, except a speak-first
//!   greeting, which needs no second answer when the service already answers the caller.
//!
//! The session defaults to [`RealtimeSession::phone_call`]: G.711 mu-law both ways (so a
//! Twilio call's audio passes through untouched) and server VAD that answers and
//! interrupts by itself.
//!
//! # Example
//!
//! ```no_run
//! use openai_realtime::client::{ApiKey, Config};
//! use openai_realtime::{FunctionTool, Voice};
//! use voice_bridge::{Bridge, OpenAiLeg, memory};
//!
//! # async fn run() {
//! let key = ApiKey::from_env("OPENAI_API_KEY").expect("set OPENAI_API_KEY");
//! let agent = OpenAiLeg::builder(Config::openai(key))
//!     .instructions("You are the clinic's assistant. Confirm the appointment.")
//!     .voice(Voice::Marin)
//!     .tool(FunctionTool::new(
//!         "confirm_appointment",
//!         "Confirms the caller's appointment",
//!         serde_json::json!({"type": "object", "properties": {}}),
//!     ))
//!     .speak_first(true) // an outbound call: greet when the callee answers
//!     .build();
//! # let (call, _phone) = memory::call_leg(8);
//! let report = Bridge::new(call, agent).run().await;
//! # }
//! ```

mod renewal;

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt as _, Stream, StreamExt as _};
use openai_realtime::client::{Config, Connection, Error as ClientError, Sender};
use openai_realtime::{
    ApiError, AudioFormat as WireFormat, ClientEvent, Item, RealtimeSession, ServerEvent, Tool,
    TurnDetection, Voice,
};
use serde_json::Value;

use crate::agent::{
    AgentAudio, AgentCommand, AgentError, AgentEvent, AgentReady, AgentUsage, ResponseDone,
    ResponseStatus, Speaker, Transcript,
};
use crate::agent_session::{AgentSessionInfo, SessionEnd, unix_ms_now};
use crate::audio::{AudioChunk, AudioFormat};
use crate::ids::{ItemId, ResponseId};
use crate::leg::{AgentLeg, LegEnd, LegError};
use crate::tool::ToolCall;

pub use renewal::RenewalPolicy;
use renewal::{History, Planner, RenewalError, Step, SwitchCause};

/// The service's answer to a `response.cancel` with no response running.
const CANCEL_NOT_ACTIVE: &str = "response_cancel_not_active";

/// The prefix of the `event_id` of each `response.cancel` this leg sends; a number follows.
const CANCEL_ID_PREFIX: &str = "voice_bridge_cancel_";

/// The service's answer to a `response.create` while a response is active.
const ALREADY_ACTIVE: &str = "conversation_already_has_active_response";

/// The prefix of the `event_id` of each `response.create` this leg sends; a number follows
/// (1 is a speak-first session's greeting).
const CREATE_ID_PREFIX: &str = "voice_bridge_create_";

/// Error codes after which the service ends the session.
const FATAL_CODES: &[&str] = &[
    "invalid_api_key",
    "beta_api_shape_disabled",
    "model_not_found",
    "session_expired",
    "insufficient_quota",
];

type Events = Pin<Box<dyn Stream<Item = Result<ServerEvent, ClientError>> + Send>>;

/// Builds an [`OpenAiLeg`]: the client configuration, then the session's settings.
///
/// Made by [`OpenAiLeg::builder`]; the session starts from
/// [`RealtimeSession::phone_call`].
#[derive(Debug, Clone)]
#[must_use = "call `build` to get the leg"]
pub struct OpenAiLegBuilder {
    config: Config,
    session: RealtimeSession,
    speak_first: bool,
    renewal: RenewalPolicy,
}

impl OpenAiLegBuilder {
    /// Replaces the whole session configuration (for settings the builder has no method
    /// for). Set its audio formats to what the call speaks: the leg reports the formats
    /// the service confirms, and the bridge converts when they differ from the call's.
    pub fn session(mut self, session: RealtimeSession) -> Self {
        self.session = session;
        self
    }

    /// The system instructions.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.session.instructions = Some(instructions.into());
        self
    }

    /// The agent's voice.
    pub fn voice(mut self, voice: Voice) -> Self {
        self.session.set_voice(voice);
        self
    }

    /// Adds a tool the agent may call (a [`FunctionTool`](openai_realtime::FunctionTool)
    /// converts). Its calls reach the bridge's [`ToolHandler`](crate::ToolHandler).
    pub fn tool(mut self, tool: impl Into<Tool>) -> Self {
        self.session
            .tools
            .get_or_insert_with(Vec::new)
            .push(tool.into());
        self
    }

    /// Asks for a response as soon as the session is confirmed, so the agent speaks first
    /// (an outbound call's greeting). Default false: the agent answers the caller.
    pub fn speak_first(mut self, speak_first: bool) -> Self {
        self.speak_first = speak_first;
        self
    }

    /// When a long call continues in a fresh session before the service's limit (its
    /// `expires_at`; 60 minutes on OpenAI). Default [`RenewalPolicy::default`]: from 5
    /// minutes before it, at the next turn boundary, and at 1 minute before it whatever
    /// the turn. [`RenewalPolicy::disabled`] lets the session expire with the call.
    pub fn renewal(mut self, policy: RenewalPolicy) -> Self {
        self.renewal = policy;
        self
    }

    /// The leg. Nothing is connected until the bridge first asks it for an event.
    pub fn build(self) -> OpenAiLeg {
        // A speak-first session asks for a response as soon as it is confirmed.
        let requested = self.speak_first;
        // A fresh session continues the conversation: it does not greet again.
        let mut renew = self.clone();
        renew.speak_first = false;
        OpenAiLeg {
            planner: Planner::new(self.renewal),
            renew: Box::new(renew),
            history: History::default(),
            caller_speaking: false,
            tools_waiting: HashSet::new(),
            sessions: Vec::new(),
            renewing: None,
            standby: None,
            retiring: None,
            wake: None,
            wake_at: None,
            state: State::Idle(Box::new(self)),
            pending: VecDeque::new(),
            output: AudioFormat::MuLaw,
            names: HashMap::new(),
            last_item: None,
            responding: false,
            requested,
            vad_interrupts: false,
            interrupted: false,
            cancels_sent: 0,
            cancels_skipped: 0,
            cancels_raced: 0,
            creates_sent: u64::from(requested),
            greeting: requested,
            create_deferred: false,
            creates_raced: 0,
            creating: None,
            told_error: None,
            usage: AgentUsage::default(),
        }
    }
}

/// An [`AgentLeg`] over an OpenAI Realtime session.
///
/// See the [module docs](self) for what it does.
pub struct OpenAiLeg {
    state: State,
    /// Events decided but not yet returned.
    pending: VecDeque<AgentEvent>,
    /// The confirmed output format.
    output: AudioFormat,
    /// Function names by call id, for dialects whose `arguments.done` has no name.
    names: HashMap<String, String>,
    /// The last audio item's id, so consecutive deltas share one allocation.
    last_item: Option<ItemId>,
    /// A response is running (`response.created` seen, `response.done` not yet).
    responding: bool,
    /// This leg sent `response.create` and has not seen `response.created` since: a
    /// response may be starting.
    requested: bool,
    /// The confirmed session's turn detection cancels the running response itself when
    /// the caller starts speaking (`interrupt_response`).
    vad_interrupts: bool,
    /// The running response was interrupted by the service's VAD (`speech_started` came
    /// while it ran, with `vad_interrupts`): the service is cancelling it.
    interrupted: bool,
    /// How many cancels were not sent because the service's VAD had cancelled already.
    cancels_skipped: u64,
    /// How many `response.cancel` this leg sent; the n-th has the `event_id`
    /// `voice_bridge_cancel_{n}`.
    cancels_sent: u64,
    /// How many of them the service answered with `response_cancel_not_active`: the
    /// response had already ended (usually cancelled by the service's own VAD).
    cancels_raced: u64,
    /// How many `response.create` this leg sent; the n-th has the `event_id`
    /// `voice_bridge_create_{n}`.
    creates_sent: u64,
    /// `voice_bridge_create_1` is a speak-first greeting.
    greeting: bool,
    /// A `response.create` waits for the active response's `response.done`.
    create_deferred: bool,
    /// How many of this leg's creates the service refused because a response of its own
    /// (its VAD answering the caller) had started first.
    creates_raced: u64,
    /// A deferred `response.create` being sent (kept here so `recv` stays cancel safe).
    creating: Option<BoxFuture<'static, Result<(), ClientError>>>,
    /// The `error` event just delivered, while no other event followed it: a close right
    /// after it is reported as the close (the error was already told).
    told_error: Option<ApiError>,
    /// Tokens of every `response.done` so far (the Realtime API bills by the token).
    usage: AgentUsage,
    /// When to continue in a fresh session.
    planner: Planner,
    /// The settings a fresh session is opened with (no greeting).
    renew: Box<OpenAiLegBuilder>,
    /// The conversation so far, to seed a fresh session with.
    history: History,
    /// The service heard the caller start speaking and not yet stop.
    caller_speaking: bool,
    /// Tool calls told to the bridge whose result has not been sent yet.
    tools_waiting: HashSet<String>,
    /// Every session of the call, the current one last.
    sessions: Vec<AgentSessionInfo>,
    /// Opening the fresh session, or seeding it before the switch.
    renewing: Option<BoxFuture<'static, Result<Open, RenewalError>>>,
    /// The fresh session, confirmed, waiting for the switch.
    standby: Option<Open>,
    /// The old session being closed after a switch (its late events are dropped).
    retiring: Option<BoxFuture<'static, ()>>,
    /// The timer of the planner's next deadline, armed at `wake_at` (made at its first
    /// deadline: the leg may be built outside a runtime).
    wake: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Where `wake` is armed; `None`: not armed.
    wake_at: Option<tokio::time::Instant>,
}

enum State {
    /// Not connected yet.
    Idle(Box<OpenAiLegBuilder>),
    /// The WebSocket handshake and `session.created`.
    Connecting(BoxFuture<'static, Result<Connected, ClientError>>),
    /// `session.update` sent, waiting for `session.updated`.
    Confirming(BoxFuture<'static, Result<Open, ClientError>>),
    /// The session is confirmed.
    Open {
        sender: std::sync::Arc<Sender>,
        events: Events,
    },
    /// The leg reported its end (or was closed).
    Done,
}

/// A connected session, not yet configured.
struct Connected {
    connection: Connection,
    session: RealtimeSession,
    speak_first: bool,
    /// The URL, for words (credentials redacted).
    url: String,
}

/// A connected, confirmed session.
struct Open {
    sender: Sender,
    events: Events,
    ready: AgentReady,
    session_id: String,
    /// See [`OpenAiLeg::vad_interrupts`].
    vad_interrupts: bool,
}

impl fmt::Debug for OpenAiLeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Idle(_) => "idle",
            State::Connecting(_) => "connecting",
            State::Confirming(_) => "confirming",
            State::Open { .. } => "open",
            State::Done => "done",
        };
        f.debug_struct("OpenAiLeg")
            .field("state", &state)
            .field("output", &self.output)
            .field("responding", &self.responding)
            .field("vad_interrupts", &self.vad_interrupts)
            .field("cancels_sent", &self.cancels_sent)
            .field("cancels_skipped", &self.cancels_skipped)
            .field("cancels_raced", &self.cancels_raced)
            .field("creates_sent", &self.creates_sent)
            .field("creates_raced", &self.creates_raced)
            .finish_non_exhaustive()
    }
}

impl OpenAiLeg {
    /// A builder with the client configuration (endpoint, key, model, dialect, timeouts);
    /// the session starts as [`RealtimeSession::phone_call`].
    pub fn builder(config: Config) -> OpenAiLegBuilder {
        OpenAiLegBuilder {
            config,
            session: RealtimeSession::phone_call(),
            speak_first: false,
            renewal: RenewalPolicy::default(),
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
                            "the WebSocket handshake and `session.created` from {url}"
                        )));
                        self.state = State::Connecting(connect(*setup, url).boxed());
                    }
                }
                State::Connecting(connecting) => match connecting.await {
                    Ok(connected) => {
                        self.pending.push_back(AgentEvent::Waiting(format!(
                            "`session.updated` from {}",
                            connected.url
                        )));
                        self.state = State::Confirming(confirm(connected).boxed());
                    }
                    Err(error) => return Ok(self.not_started(&error)),
                },
                State::Confirming(confirming) => {
                    let result = confirming.await;
                    match result {
                        Ok(open) => {
                            tracing::info!(session_id = %open.session_id,
                                input = %open.ready.input, output = %open.ready.output,
                                vad_interrupts = open.vad_interrupts,
                                "openai: session confirmed");
                            self.output = open.ready.output;
                            self.vad_interrupts = open.vad_interrupts;
                            self.planner
                                .on_session(tokio::time::Instant::now(), open.sender.time_left());
                            self.sessions
                                .push(AgentSessionInfo::started(&open.session_id, unix_ms_now()));
                            self.state = State::Open {
                                sender: std::sync::Arc::new(open.sender),
                                events: open.events,
                            };
                            return Ok(AgentEvent::Ready(open.ready));
                        }
                        Err(error) => return Ok(self.not_started(&error)),
                    }
                }
                State::Open { .. } if self.creating.is_some() => {
                    if let Some(creating) = &mut self.creating {
                        let result = creating.await;
                        self.creating = None;
                        if let Err(error) = result {
                            return Err(LegError::with_source(
                                "openai: sending the deferred `response.create` failed",
                                error,
                            ));
                        }
                    }
                }
                State::Open { .. } => {
                    let Some(item) = self.next_open_event().await else {
                        continue;
                    };
                    let State::Open { sender, .. } = &self.state else {
                        continue;
                    };
                    let Some(item) = item else {
                        let end = match sender.close_frame() {
                            // The service ended the session with a normal close while the
                            // call was on: say so with its code, it is why the caller
                            // hears the fallback.
                            Some(close) if !sender.closed_by_us() => {
                                tracing::info!(%close, "openai: the service closed the session");
                                LegEnd::Closed {
                                    code: Some(close.code()),
                                    reason: if close.reason().is_empty() {
                                        "the service closed the session normally".to_owned()
                                    } else {
                                        close.reason().to_owned()
                                    },
                                }
                            }
                            _ => {
                                tracing::info!("openai: session closed normally");
                                LegEnd::Finished
                            }
                        };
                        self.state = State::Done;
                        self.end_session(SessionEnd::Ended {
                            reason: end.to_string(),
                        });
                        return Ok(AgentEvent::Ended(end));
                    };
                    match item {
                        Ok(event) => {
                            self.told_error = None;
                            self.on_event(event);
                        }
                        Err(error) => {
                            if let Some(event) = self.on_error(&error) {
                                if let AgentEvent::Ended(end) = &event {
                                    self.end_session(SessionEnd::Ended {
                                        reason: end.to_string(),
                                    });
                                }
                                return Ok(event);
                            }
                        }
                    }
                }
                State::Done => return Err(LegError::new("the openai leg has already ended")),
            }
        }
    }

    /// Whether the call is between turns: no response running or asked for, the caller
    /// not speaking, no tool call waiting for its result.
    fn at_turn_boundary(&self) -> bool {
        !self.responding
            && !self.requested
            && self.creating.is_none()
            && !self.create_deferred
            && !self.caller_speaking
            && self.tools_waiting.is_empty()
    }

    /// The current session's id, for lines.
    fn session_id(&self) -> &str {
        self.sessions.last().map_or("", |s| s.id.as_str())
    }

    /// Records the current session's end in [`AgentLeg::sessions`].
    fn end_session(&mut self, end: SessionEnd) {
        if let Some(last) = self.sessions.last_mut() {
            last.end(unix_ms_now(), end);
        }
    }

    /// The open session's next event (`Some(None)`: its stream ended), meanwhile driving
    /// the renewal: `None` when a renewal step happened instead, so the caller loops.
    async fn next_open_event(&mut self) -> Option<Option<Result<ServerEvent, ClientError>>> {
        match self
            .planner
            .poll(tokio::time::Instant::now(), self.at_turn_boundary())
        {
            Step::Open => self.start_renewal(),
            Step::Switch(cause) => self.start_switch(cause),
            Step::Wait => {}
        }
        enum Wake {
            Item(Option<Result<ServerEvent, ClientError>>),
            Renewal(Result<Open, RenewalError>),
            Standby(Option<Result<ServerEvent, ClientError>>),
            Retired,
            Timer,
        }
        // One timer for the leg, moved only when the planner's next deadline changes: not a
        // timer armed and dropped for every event of the call.
        let wake_at = self.planner.next_wake();
        if wake_at != self.wake_at {
            self.wake_at = wake_at;
            if let Some(at) = wake_at {
                match &mut self.wake {
                    Some(wake) => wake.as_mut().reset(at),
                    None => self.wake = Some(Box::pin(tokio::time::sleep_until(at))),
                }
            }
        }
        let wake = {
            let State::Open { events, .. } = &mut self.state else {
                return None;
            };
            let renewing = &mut self.renewing;
            let retiring = &mut self.retiring;
            let standby = &mut self.standby;
            let wake = &mut self.wake;
            tokio::select! {
                biased;
                Some(result) = async { Some(renewing.as_mut()?.await) } => Wake::Renewal(result),
                Some(()) = async {
                    retiring.as_mut()?.await;
                    Some(())
                } => Wake::Retired,
                item = events.next() => Wake::Item(item),
                // The fresh session waiting for the switch is read too: its receiver sends the
                // keepalive pings, and a failure of it is told now, not after the switch.
                Some(item) = async { Some(standby.as_mut()?.events.next().await) } => {
                    Wake::Standby(item)
                }
                Some(()) = async {
                    wake.as_mut()?.as_mut().await;
                    Some(())
                }, if wake_at.is_some() => Wake::Timer,
            }
        };
        match wake {
            Wake::Item(item) => return Some(item),
            Wake::Renewal(result) => {
                self.renewing = None;
                match result {
                    Ok(open) if self.planner.is_switching() => self.finish_switch(open),
                    Ok(open) => {
                        tracing::debug!(session_id = %open.session_id,
                            "openai: the fresh session is ready; switching at the next turn boundary");
                        self.standby = Some(open);
                        self.planner.opened();
                    }
                    Err(error) => self.renewal_failed(&error),
                }
            }
            Wake::Standby(item) => self.on_standby_event(item),
            Wake::Retired => self.retiring = None,
            Wake::Timer => self.wake_at = None,
        }
        None
    }

    /// An event of the fresh session before the switch: nothing is asked of it yet, so only
    /// its end or an error matters, and either ends the renewal (the call stays on the
    /// current session).
    fn on_standby_event(&mut self, item: Option<Result<ServerEvent, ClientError>>) {
        let error = match item {
            Some(Ok(ServerEvent::Error(event))) => {
                RenewalError::Standby(format!("the service's error event: {}", event.error))
            }
            Some(Ok(_)) => return,
            Some(Err(error)) => RenewalError::opening(error),
            None => RenewalError::Standby(
                match self.standby.as_ref().and_then(|o| o.sender.close_frame()) {
                    Some(close) => format!("the service closed it ({close})"),
                    None => "its connection ended".to_owned(),
                },
            ),
        };
        self.standby = None;
        self.renewal_failed(&error);
    }

    /// Starts opening the fresh session, with the same settings and no greeting.
    fn start_renewal(&mut self) {
        self.planner.opening();
        let setup = (*self.renew).clone();
        let url = display_url(&setup.config);
        tracing::info!(session_id = %self.session_id(),
            time_left_ms = self.planner.expires().map(|at| {
                u64::try_from(at.saturating_duration_since(tokio::time::Instant::now()).as_millis())
                    .unwrap_or(u64::MAX)
            }),
            "openai: the session's time limit is near; opening a fresh session to continue the call");
        self.renewing = Some(
            async move {
                let connected = connect(setup, url).await.map_err(RenewalError::opening)?;
                confirm(connected).await.map_err(RenewalError::opening)
            }
            .boxed(),
        );
    }

    /// Starts seeding the fresh session with the conversation so far; the switch follows.
    fn start_switch(&mut self, cause: SwitchCause) {
        let Some(open) = self.standby.take() else {
            self.planner.failed();
            return;
        };
        self.planner.switching(cause);
        let events = self.history.events();
        self.renewing = Some(
            async move {
                for event in &events {
                    open.sender
                        .send(event)
                        .await
                        .map_err(RenewalError::seeding)?;
                }
                Ok(open)
            }
            .boxed(),
        );
    }

    /// The fresh session has the conversation: audio goes to it from now on, and the old
    /// one is closed.
    fn finish_switch(&mut self, open: Open) {
        let at_turn_boundary = self.planner.cause() == SwitchCause::TurnBoundary;
        if open.ready.output != self.output {
            tracing::warn!(session_id = %open.session_id, was = %self.output,
                now = %open.ready.output,
                "openai: the fresh session confirmed another output format");
        }
        let old_id = self.session_id().to_owned();
        self.output = open.ready.output;
        self.vad_interrupts = open.vad_interrupts;
        self.responding = false;
        self.requested = false;
        self.interrupted = false;
        self.caller_speaking = false;
        self.last_item = None;
        self.told_error = None;
        self.end_session(SessionEnd::Renewed { at_turn_boundary });
        self.planner
            .on_session(tokio::time::Instant::now(), open.sender.time_left());
        self.sessions
            .push(AgentSessionInfo::started(&open.session_id, unix_ms_now()));
        tracing::info!(old_session_id = %old_id, session_id = %open.session_id,
            items = self.history.len(), at_turn_boundary,
            "openai: the call continues in a fresh session, carrying the conversation");
        let old = std::mem::replace(
            &mut self.state,
            State::Open {
                sender: std::sync::Arc::new(open.sender),
                events: open.events,
            },
        );
        if let State::Open { sender, mut events } = old {
            self.retiring = Some(
                async move {
                    if let Err(error) = sender.close().await {
                        tracing::debug!(%error, "openai: closing the old session failed");
                    }
                    // Its last events (the close's answer) are read and dropped.
                    let drain = async { while events.next().await.is_some() {} };
                    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), drain).await;
                }
                .boxed(),
            );
        }
    }

    /// The renewal failed: one line, one non-fatal error for the report; the call stays
    /// on the current session until it ends.
    fn renewal_failed(&mut self, error: &RenewalError) {
        self.planner.failed();
        tracing::warn!(session_id = %self.session_id(), %error,
            "openai: the call stays on its session until the service's limit ends it");
        self.pending.push_back(AgentEvent::Error(
            AgentError::new(format!("openai: {error}"), false).with_code("session_renewal_failed"),
        ));
    }

    /// The session did not start: the leg's end. The client logged the cause with all
    /// its words, so this line is at DEBUG (one cause, one line).
    fn not_started(&mut self, error: &ClientError) -> AgentEvent {
        self.state = State::Done;
        let end = connect_end(error);
        tracing::debug!(%end, "openai: the session did not start");
        AgentEvent::Ended(end)
    }

    /// One server event: queues what it means for the bridge.
    fn on_event(&mut self, event: ServerEvent) {
        let event = match event {
            ServerEvent::ResponseOutputAudioDelta(delta) => {
                let item_id = self.item_id(delta.item_id.as_str());
                match AudioChunk::from_base64(self.output, delta.delta) {
                    Ok(chunk) => AgentEvent::Audio(AgentAudio {
                        item_id,
                        content_index: delta.content_index,
                        chunk,
                    }),
                    Err(error) => {
                        tracing::warn!(%error, %item_id, "openai: audio delta skipped");
                        return;
                    }
                }
            }
            ServerEvent::InputAudioBufferCommitted(committed) => {
                self.caller_speaking = false;
                self.history.user_item(committed.item_id.as_str());
                return;
            }
            ServerEvent::InputAudioBufferSpeechStarted(_) => {
                self.caller_speaking = true;
                // The service cancels the response in progress at this speech start.
                self.interrupted |= self.vad_interrupts && self.responding;
                AgentEvent::SpeechStarted
            }
            ServerEvent::InputAudioBufferSpeechStopped(_) => {
                self.caller_speaking = false;
                AgentEvent::SpeechStopped
            }
            ServerEvent::ResponseOutputAudioTranscriptDelta(delta) => {
                transcript(Speaker::Agent, delta.item_id.as_str(), delta.delta, false)
            }
            ServerEvent::ResponseOutputAudioTranscriptDone(done) => {
                self.history
                    .assistant_text(done.item_id.as_str(), &done.transcript);
                transcript(Speaker::Agent, done.item_id.as_str(), done.transcript, true)
            }
            ServerEvent::ConversationItemInputAudioTranscriptionDelta(delta) => {
                let Some(text) = delta.delta.filter(|t| !t.is_empty()) else {
                    return;
                };
                transcript(Speaker::Caller, delta.item_id.as_str(), text, false)
            }
            ServerEvent::ConversationItemInputAudioTranscriptionCompleted(done) => {
                self.history
                    .user_text(done.item_id.as_str(), &done.transcript);
                transcript(
                    Speaker::Caller,
                    done.item_id.as_str(),
                    done.transcript,
                    true,
                )
            }
            ServerEvent::ResponseOutputItemAdded(added) => {
                if let Item::Message(message) = &added.item {
                    if let Some(id) = &message.id {
                        self.history.assistant_item(id.as_str());
                    }
                }
                self.note_function(&added.item);
                return;
            }
            ServerEvent::ResponseOutputItemDone(done) => {
                self.note_function(&done.item);
                return;
            }
            ServerEvent::ResponseFunctionCallArgumentsDone(done) => {
                let call_id = done.call_id.as_str();
                let name = done
                    .name
                    .or_else(|| self.names.remove(call_id))
                    .unwrap_or_default();
                self.history.call(call_id, &name, &done.arguments);
                self.tools_waiting.insert(call_id.to_owned());
                let arguments = serde_json::from_str(&done.arguments)
                    .unwrap_or_else(|_| Value::String(done.arguments.clone()));
                AgentEvent::ToolCall(ToolCall::new(call_id, name, arguments))
            }
            ServerEvent::ResponseCreated(created) => {
                self.responding = true;
                self.requested = false;
                self.interrupted = false;
                AgentEvent::ResponseStarted(created.response.id.as_ref().map(response_id))
            }
            ServerEvent::ResponseDone(done) => {
                self.responding = false;
                self.requested = false;
                self.interrupted = false;
                if self.create_deferred {
                    self.send_deferred_create();
                }
                let response = &done.response;
                if let Some(usage) = &response.usage {
                    self.add_usage(usage);
                }
                AgentEvent::ResponseDone(ResponseDone {
                    response_id: response.id.as_ref().map(response_id),
                    status: status(response.status.as_ref()),
                })
            }
            _ => return,
        };
        self.pending.push_back(event);
    }

    /// Adds a response's tokens to the session's, and tells the bridge the new total.
    fn add_usage(&mut self, usage: &openai_realtime::Usage) {
        let add = |total: &mut Option<u64>, more: Option<u64>| {
            if let Some(more) = more {
                *total = Some(total.unwrap_or(0) + more);
            }
        };
        add(&mut self.usage.input_tokens, usage.input_tokens);
        add(&mut self.usage.output_tokens, usage.output_tokens);
        self.pending
            .push_back(AgentEvent::Usage(self.usage.clone()));
    }

    /// An `Err` from the session: an `error` event (the session goes on), an unusable frame
    /// (skipped), or the end of the session.
    fn on_error(&mut self, error: &ClientError) -> Option<AgentEvent> {
        if error.is_api() {
            let api = error.api_error();
            if api.is_some_and(|api| self.is_raced_cancel(api)) {
                self.cancels_raced += 1;
                self.told_error = None;
                tracing::debug!(
                    event_id = api.and_then(|a| a.event_id.as_ref()).map(|id| id.as_str()),
                    raced = self.cancels_raced,
                    "openai: the response had already ended when our cancel arrived"
                );
                return None;
            }
            if let Some(api) = api.filter(|api| self.is_raced_create(api)) {
                self.creates_raced += 1;
                self.told_error = None;
                self.requested = false;
                let greeting = self.greeting
                    && api
                        .event_id
                        .as_ref()
                        .and_then(|id| id.as_str().strip_prefix(CREATE_ID_PREFIX))
                        == Some("1");
                // A greeting needs no second answer when the service already answers the
                // caller; any other create (a key press, a tool's result) goes out once
                // the active response is done.
                self.create_deferred |= !greeting;
                tracing::debug!(
                    event_id = api.event_id.as_ref().map(|id| id.as_str()),
                    raced = self.creates_raced,
                    retried = !greeting,
                    "openai: a response of the service's own was active when our \
                     response.create arrived"
                );
                return None;
            }
            self.told_error = api.cloned();
            let code = error.code().map(str::to_owned);
            // The service closes the session after these; do not wait for the close.
            let fatal = code.as_deref().is_some_and(|c| FATAL_CODES.contains(&c));
            return Some(AgentEvent::Error(AgentError {
                code,
                message: api.map_or_else(|| error.to_string(), |a| a.message.clone()),
                fatal,
            }));
        }
        if error.is_protocol() {
            tracing::warn!(%error, "openai: unusable server frame skipped");
            return None;
        }
        self.state = State::Done;
        let message = error.to_string();
        // An error already told as an event, then a close: the close is the news.
        let api = error
            .api_error()
            .filter(|api| self.told_error.as_ref() != Some(*api));
        let end = match (api, error.close_frame()) {
            (Some(api), _) => LegEnd::Error {
                code: api.code.clone(),
                message,
            },
            (None, Some(close)) if error.is_closed() => LegEnd::Closed {
                code: Some(close.code()),
                reason: if close.reason().is_empty() {
                    message
                } else {
                    close.reason().to_owned()
                },
            },
            _ => LegEnd::Failed { message },
        };
        // The client logged the end with all its words.
        tracing::debug!(%end, "openai: the session ended");
        Some(AgentEvent::Ended(end))
    }

    /// `response_cancel_not_active` answering one of this leg's own cancels: the service
    /// had ended the response first (its VAD's `interrupt_response`), so nothing is wrong.
    fn is_raced_cancel(&self, api: &ApiError) -> bool {
        answers_own(api, CANCEL_NOT_ACTIVE, CANCEL_ID_PREFIX, self.cancels_sent)
    }

    /// `conversation_already_has_active_response` answering one of this leg's creates: the
    /// service's VAD started a response just before our create arrived.
    fn is_raced_create(&self, api: &ApiError) -> bool {
        answers_own(api, ALREADY_ACTIVE, CREATE_ID_PREFIX, self.creates_sent)
    }

    /// Starts sending the deferred `response.create` (finished by `next_event`).
    fn send_deferred_create(&mut self) {
        let State::Open { sender, .. } = &self.state else {
            return;
        };
        self.create_deferred = false;
        self.creates_sent += 1;
        self.requested = true;
        let event = ClientEvent::response_create()
            .with_event_id(format!("{CREATE_ID_PREFIX}{}", self.creates_sent));
        let sender = std::sync::Arc::clone(sender);
        tracing::debug!(
            "openai: the active response is done; sending the deferred response.create"
        );
        self.creating = Some(async move { sender.send(&event).await }.boxed());
    }

    /// `response.cancel` with this leg's next `event_id`, if a response may be running.
    async fn cancel_response(&mut self) -> Result<(), LegError> {
        if !self.responding && !self.requested && matches!(self.state, State::Open { .. }) {
            tracing::debug!("openai: no response is running; cancel not sent");
            return Ok(());
        }
        if self.interrupted && !self.requested {
            self.cancels_skipped += 1;
            tracing::debug!(
                skipped = self.cancels_skipped,
                "openai: the service's turn detection cancels this response itself \
                 (interrupt_response); cancel not sent"
            );
            return Ok(());
        }
        self.cancels_sent += 1;
        let event_id = format!("{CANCEL_ID_PREFIX}{}", self.cancels_sent);
        self.send_event(ClientEvent::response_cancel().with_event_id(event_id))
            .await
    }

    /// `response.create` with this leg's next `event_id`: a response may be starting until
    /// `response.created`. While a response is active (or one of ours is starting) it waits
    /// for that response's `response.done` instead: the service would refuse it.
    async fn create_response(&mut self) -> Result<(), LegError> {
        let active = self.responding || self.requested || self.creating.is_some();
        if active && matches!(self.state, State::Open { .. }) {
            self.create_deferred = true;
            tracing::debug!(
                "openai: a response is active; response.create deferred until it is done"
            );
            return Ok(());
        }
        let event_id = format!("{CREATE_ID_PREFIX}{}", self.creates_sent + 1);
        self.send_event(ClientEvent::response_create().with_event_id(event_id))
            .await?;
        self.creates_sent += 1;
        self.requested = true;
        Ok(())
    }

    fn note_function(&mut self, item: &Item) {
        if let Item::FunctionCall(call) = item {
            if let Some(call_id) = &call.call_id {
                self.names
                    .insert(call_id.as_str().to_owned(), call.name.clone());
            }
        }
    }

    fn item_id(&mut self, id: &str) -> ItemId {
        match &self.last_item {
            Some(last) if last.as_str() == id => last.clone(),
            _ => {
                let item = ItemId::new(id);
                self.last_item = Some(item.clone());
                item
            }
        }
    }

    async fn send_event(&mut self, event: ClientEvent) -> Result<(), LegError> {
        let State::Open { sender, .. } = &mut self.state else {
            return Err(LegError::new(format!(
                "openai: cannot send `{}`: the session is not open",
                event.event_type()
            )));
        };
        // Hold only the sender across the await: the state's event stream is `Send` but not
        // `Sync`, and the trait's future must be `Send`.
        let sender: &Sender = sender.as_ref();
        sender.send(&event).await.map_err(|error| {
            let what = event.event_type();
            LegError::with_source(format!("openai: sending `{what}` failed"), error)
        })
    }
}

/// Connects: the WebSocket handshake and `session.created`.
async fn connect(setup: OpenAiLegBuilder, url: String) -> Result<Connected, ClientError> {
    let OpenAiLegBuilder {
        config,
        session,
        speak_first,
        ..
    } = setup;
    let connection = Connection::connect(config).await?;
    Ok(Connected {
        connection,
        session,
        speak_first,
        url,
    })
}

/// The URL the client opens, as words for a line: no user name, password or credential
/// in the query (the key itself travels in a header, never in the URL).
fn display_url(config: &Config) -> String {
    const SECRET_PARAMS: &[&str] = &["api-key", "api_key", "key", "token", "access_token"];
    let Ok(mut url) = config.request_url() else {
        return "the configured endpoint".to_owned();
    };
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(name, value)| {
            let value = if SECRET_PARAMS.contains(&name.as_ref()) {
                "<redacted>".to_owned()
            } else {
                value.into_owned()
            };
            (name.into_owned(), value)
        })
        .collect();
    if !pairs.is_empty() {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// Configures the connected session, confirms it, and maps its formats.
async fn confirm(connected: Connected) -> Result<Open, ClientError> {
    let Connected {
        mut connection,
        session,
        speak_first,
        ..
    } = connected;
    let confirmed = connection.update_session(session).await?;
    let (ready, vad_interrupts) = match confirmed {
        openai_realtime::Session::Realtime(session) => (
            AgentReady::new(
                format(session.input_format()),
                format(session.output_format()),
            ),
            vad_interrupts(session),
        ),
        _ => (
            AgentReady::new(AudioFormat::PCM16_24K, AudioFormat::PCM16_24K),
            false,
        ),
    };
    if speak_first {
        let greeting = ClientEvent::response_create().with_event_id(format!("{CREATE_ID_PREFIX}1"));
        connection.send(&greeting).await?;
    }
    let session_id = connection.session_id();
    let (sender, receiver) = connection.split();
    Ok(Open {
        sender,
        events: Box::pin(receiver.into_stream()),
        ready,
        session_id,
        vad_interrupts,
    })
}

/// Whether `api` is the error `code` answering one of the `sent` events this leg numbered
/// `{prefix}1`, `{prefix}2`, ...
fn answers_own(api: &ApiError, code: &str, prefix: &str, sent: u64) -> bool {
    api.code.as_deref() == Some(code)
        && api
            .event_id
            .as_ref()
            .and_then(|id| id.as_str().strip_prefix(prefix))
            .and_then(|n| n.parse::<u64>().ok())
            .is_some_and(|n| (1..=sent).contains(&n))
}

/// Whether the session's turn detection cancels the running response when the caller
/// starts speaking: `server_vad` or `semantic_vad` with `interrupt_response` not false
/// (the service's default is true). Turn detection `null`, absent, or of an unknown kind
/// counts as not interrupting, so the bridge's own cancel is kept.
fn vad_interrupts(session: &RealtimeSession) -> bool {
    let detection = session
        .audio
        .as_ref()
        .and_then(|audio| audio.input.as_ref())
        .and_then(|input| input.turn_detection.as_ref());
    match detection {
        Some(Some(TurnDetection::ServerVad(vad))) => vad.interrupt_response != Some(false),
        Some(Some(TurnDetection::SemanticVad(vad))) => vad.interrupt_response != Some(false),
        _ => false,
    }
}

/// The bridge's format for a confirmed wire format; absent means the service default.
fn format(format: Option<&WireFormat>) -> AudioFormat {
    match format {
        Some(WireFormat::Pcmu) => AudioFormat::MuLaw,
        Some(WireFormat::Pcma) => AudioFormat::ALaw,
        // The service knows only 24 kHz PCM; an unknown format cannot have been confirmed
        // (the client checks the formats it asked for), so the default is the safe reading.
        _ => AudioFormat::PCM16_24K,
    }
}

/// How a session that never started ends.
fn connect_end(error: &ClientError) -> LegEnd {
    let detail = error.to_string();
    if error.is_refused() {
        LegEnd::Refused {
            status: error.status().map(|s| s.as_u16()),
            detail,
        }
    } else if error.is_rejected() {
        LegEnd::Refused {
            status: None,
            detail,
        }
    } else if error.is_session_update() || error.is_api() {
        LegEnd::Error {
            code: error.code().map(str::to_owned),
            message: detail,
        }
    } else {
        LegEnd::Failed { message: detail }
    }
}

fn transcript(speaker: Speaker, item_id: &str, text: String, is_final: bool) -> AgentEvent {
    AgentEvent::Transcript(Transcript {
        speaker,
        item_id: Some(ItemId::new(item_id)),
        text,
        is_final,
    })
}

fn response_id(id: &openai_realtime::ResponseId) -> ResponseId {
    ResponseId::new(id.as_str())
}

fn status(status: Option<&openai_realtime::ResponseStatus>) -> ResponseStatus {
    use openai_realtime::ResponseStatus as Wire;
    match status {
        Some(Wire::Cancelled) => ResponseStatus::Cancelled,
        Some(Wire::Failed) => ResponseStatus::Failed,
        Some(Wire::Incomplete) => ResponseStatus::Incomplete,
        _ => ResponseStatus::Completed,
    }
}

#[async_trait]
impl AgentLeg for OpenAiLeg {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        self.next_event().await
    }

    fn sessions(&self) -> Vec<AgentSessionInfo> {
        self.sessions.clone()
    }

    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError> {
        match command {
            AgentCommand::Audio(chunk) => {
                self.send_event(ClientEvent::input_audio_append(chunk.into_base64()))
                    .await
            }
            AgentCommand::Truncate {
                item_id,
                content_index,
                audio_end_ms,
            } => {
                tracing::debug!(%item_id, audio_end_ms, "openai: truncating the item heard");
                self.send_event(ClientEvent::truncate(
                    item_id.as_str(),
                    content_index,
                    audio_end_ms,
                ))
                .await
            }
            AgentCommand::CancelResponse => self.cancel_response().await,
            AgentCommand::ToolResult { call_id, output } => {
                self.tools_waiting.remove(call_id.as_str());
                self.history.output(call_id.as_str(), &output);
                self.send_event(ClientEvent::function_call_output(call_id.as_str(), output))
                    .await
            }
            AgentCommand::CreateResponse => self.create_response().await,
            AgentCommand::Dtmf(digit) => {
                let text = format!("[DTMF {digit}]");
                self.history.user_typed(&text);
                self.send_event(ClientEvent::item_create(Item::user_text(text)))
                    .await?;
                self.create_response().await
            }
            AgentCommand::Close => {
                self.renewing = None;
                self.retiring = None;
                if let Some(standby) = self.standby.take() {
                    // Opened for a switch that will not come: close it, never leave it billed.
                    let _ = standby.sender.close().await;
                }
                if matches!(self.state, State::Open { .. }) {
                    self.end_session(SessionEnd::Closed);
                }
                let state = std::mem::replace(&mut self.state, State::Done);
                if let State::Open { sender, .. } = state {
                    sender.close().await.map_err(|error| {
                        LegError::with_source("openai: closing the session failed", error)
                    })?;
                    tracing::info!("openai: session closed by the bridge");
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_map_to_the_bridge_formats() {
        assert_eq!(format(Some(&WireFormat::Pcmu)), AudioFormat::MuLaw);
        assert_eq!(format(Some(&WireFormat::Pcma)), AudioFormat::ALaw);
        assert_eq!(format(Some(&WireFormat::PCM_24K)), AudioFormat::PCM16_24K);
        assert_eq!(format(None), AudioFormat::PCM16_24K);
    }

    #[test]
    fn the_builder_starts_from_the_phone_preset() {
        let leg = OpenAiLeg::builder(Config::url("ws://127.0.0.1:1/v1/realtime"))
            .instructions("be brief")
            .voice(Voice::Marin);
        assert_eq!(leg.session.input_format(), Some(&WireFormat::Pcmu));
        assert_eq!(leg.session.output_format(), Some(&WireFormat::Pcmu));
        assert_eq!(leg.session.instructions.as_deref(), Some("be brief"));
        assert_eq!(leg.session.voice(), Some(&Voice::Marin));
        assert!(format!("{:?}", leg.build()).contains("idle"));
    }

    #[test]
    fn the_url_in_words_has_no_credentials() {
        let config = Config::url("wss://user:pass@proxy.test/v1/realtime?api-key=sk-1&x=1")
            .with_model("gpt-realtime-2.1");
        let url = display_url(&config);
        assert_eq!(
            url,
            "wss://proxy.test/v1/realtime?api-key=%3Credacted%3E&x=1&model=gpt-realtime-2.1"
        );
        assert!(!url.contains("sk-1") && !url.contains("pass"), "{url}");
        let plain = Config::url("ws://127.0.0.1:9/v1/realtime");
        assert_eq!(
            display_url(&plain),
            "ws://127.0.0.1:9/v1/realtime?model=gpt-realtime-2.1"
        );
    }

    #[test]
    fn the_tokens_of_every_response_done_are_summed_into_the_usage() {
        let mut leg = OpenAiLeg::new(Config::url("ws://127.0.0.1:1/v1/realtime"));
        for (input, output) in [(120, 30), (80, 45)] {
            let done = format!(
                r#"{{"type":"response.done","event_id":"event_1","response":{{"object":"realtime.response","id":"resp_1","status":"completed","output":[],"usage":{{"total_tokens":{},"input_tokens":{input},"output_tokens":{output}}}}}}}"#,
                input + output
            );
            leg.on_event(ServerEvent::decode(&done, openai_realtime::Dialect::Ga).unwrap());
        }
        let usages: Vec<(Option<u64>, Option<u64>)> = leg
            .pending
            .iter()
            .filter_map(|event| match event {
                AgentEvent::Usage(usage) => Some((usage.input_tokens, usage.output_tokens)),
                _ => None,
            })
            .collect();
        assert_eq!(usages, [(Some(120), Some(30)), (Some(200), Some(75))]);
    }

    #[test]
    fn only_our_own_cancels_answered_not_active_are_the_race() {
        let mut leg = OpenAiLeg::new(Config::url("ws://127.0.0.1:1/v1/realtime"));
        leg.cancels_sent = 2;
        let answer = |code: &str, event_id: Option<&str>| {
            let mut error = ApiError::new("invalid_request_error", "Cancellation failed");
            error.code = Some(code.into());
            error.event_id = event_id.map(Into::into);
            error
        };
        for ours in ["voice_bridge_cancel_1", "voice_bridge_cancel_2"] {
            assert!(
                leg.is_raced_cancel(&answer(CANCEL_NOT_ACTIVE, Some(ours))),
                "{ours}"
            );
        }
        // Not sent (yet), not ours, not echoed, or another error for our cancel.
        for other in [
            Some("voice_bridge_cancel_3"),
            Some("voice_bridge_cancel_0"),
            Some("voice_bridge_cancel_x"),
            Some("event_42"),
            None,
        ] {
            assert!(
                !leg.is_raced_cancel(&answer(CANCEL_NOT_ACTIVE, other)),
                "{other:?}"
            );
        }
        let other_code = answer("invalid_value", Some("voice_bridge_cancel_1"));
        assert!(!leg.is_raced_cancel(&other_code));
    }

    #[test]
    fn only_our_own_creates_answered_already_active_are_the_race() {
        let mut leg = OpenAiLeg::new(Config::url("ws://127.0.0.1:1/v1/realtime"));
        leg.creates_sent = 2;
        let answer = |code: &str, event_id: Option<&str>| {
            let mut error = ApiError::new("invalid_request_error", "Conversation already has");
            error.code = Some(code.into());
            error.event_id = event_id.map(Into::into);
            error
        };
        assert!(leg.is_raced_create(&answer(ALREADY_ACTIVE, Some("voice_bridge_create_2"))));
        for other in [Some("voice_bridge_create_3"), Some("event_1"), None] {
            assert!(
                !leg.is_raced_create(&answer(ALREADY_ACTIVE, other)),
                "{other:?}"
            );
        }
        assert!(!leg.is_raced_create(&answer("invalid_value", Some("voice_bridge_create_1"))));
    }
}
