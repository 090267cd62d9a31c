//! The mock's GPT-Live side: the same [`MockServer`] accepts Live sessions at
//! [`LIVE_PATH`] (`/v1/live/sessions`), as OpenAI serves both APIs from one host.
//!
//! What a Live client sees, following the SDK's types (`openai` 3.57.0, `openai/types/live`)
//! and the protocol reference:
//!
//! - **Upgrade.** No query parameters; the key is checked by the server's [`KeyCheck`](super::KeyCheck). A bad
//!   or missing key gets `error` `invalid_api_key` after the upgrade (the SDK warns that
//!   admission errors come as an `error` event), then close 3000.
//! - **Start.** `session.start` must come first. The mock answers `session.started` with the
//!   resolved session (`id` `live_…`, `expires_at`, `model`, `status: "active"`, the audio
//!   format, the voice, the delegation, `input` echoed) before any audio. The config is
//!   strict: an unknown field gets `unknown_parameter` with its path (`session.turn_detection`),
//!   a missing one `missing_required_parameter`, a bad value `invalid_value`, each echoing the
//!   client's `event_id` as `client_event_id`; the session stays unstarted so a corrected
//!   `session.start` can follow. A model outside [`LiveMockServerBuilderExt`]'s list gets
//!   `model_not_found` and close 4004.
//! - **Output.** One continuous track at real-time pace in the session's format (`audio/pcmu`
//!   or `audio/pcma` at 8000 Hz, `audio/pcm` at 16 or 24 kHz): `session.output_audio.delta`
//!   of [`LiveScript::delta_duration`] each, silence between turns (as the service sends),
//!   scripted speech as a tone with `session.output_transcript.delta` fragments on the
//!   session timeline (`start_ms`/`end_ms`).
//! - **Turns and interruption.** An energy detector (10 ms frames over -25 dBFS, nothing
//!   while muted) hears the caller: when the caller stops
//!   (after [`LiveScript::end_of_turn`] of silence) the mock sends the caller's
//!   `session.input_transcript.delta` fragments and plays the next [`LiveTurn`]. Caller speech
//!   during the mock's speech stops it: the rest of that speech and its transcript are dropped
//!   and the track goes on with silence. No event says so (Live has no truncate, cancel or
//!   speech-started event; the service owns barge-in).
//! - **Tool-like turns.** [`LiveTurn::delegate`] (client delegation:
//!   `session.delegation.created`, answered by `session.commentary.append` with its
//!   `delegation_id`, which the mock speaks), [`LiveTurn::function_call`] (Responses
//!   delegation: `response.event`s around a `function_call`, answered by
//!   `response.item.create` `function_call_output` and one `response.create`) and
//!   [`LiveTurn::decide`] (Decisions delegation: a `decision.event` with the answers).
//!   `decision.create`, `decision.item.create` and `decision.item.delete` are answered too,
//!   and a Decisions trigger (`session.triggers`) gets a `decision.event` naming its firing
//!   (`trigger_id`) and the transcript fragment that fired it (`source_event_id`).
//! - **Errors.** Bad JSON, an unknown event (the message lists the supported ones), a bad body,
//!   an event before `session.start`, a second `session.start`, a change of an immutable
//!   setting in `session.update` (`immutable_field_update`), `response.item.create` without
//!   Responses delegation, a partial batch of tool outputs: each gets an `error` naming the
//!   client's `event_id`.
//! - **Closes.** `session.close` gets `session.closed` with `close_requested`, the session and
//!   the usage (whole seconds), then close 1000; the limit
//!   ([`LiveMockServerBuilderExt::live_max_session_duration`]) gets `session.closed` with
//!   `expired`. `session.usage.updated` every 15 s meanwhile.
//!
//! # The mock's choices
//!
//! Where the reference leaves the service's behaviour open, the mock chooses, and says so:
//!
//! - Close codes: none are documented for Live. The mock uses the Realtime service's (3000
//!   for a bad key, 4004 for an unknown or a Realtime model), 1000 after `session.closed`.
//! - A Realtime model (`gpt-realtime…`) in `session.start` gets `error` `invalid_model`
//!   (param `session.model`, a message pointing to `/v1/realtime`), then close 4004.
//! - A `model` query parameter on the Live path (a Realtime client pointed at the Live URL)
//!   gets `error` `unknown_parameter` (param `model`) and close 4000; other query parameters
//!   are ignored. A Live model in the Realtime path's `?model=` gets `invalid_model` (as
//!   LiteLLM reports for the service) and close 4004.
//! - Events before `session.start` are refused with `session_not_started` (the service is
//!   silent to a passive socket; the SDK queues early commands, so a client never should);
//!   a second `session.start` gets `session_already_started`.
//! - The session timeline is the wall clock (tokio's) since `session.started`, not the input
//!   audio's (the service advances it only while input flows).
//! - The caller's transcript comes whole when the caller stops, one fragment per word.
//! - Barge-in stops the model after [`LiveScript::barge_in_after`] of caller speech (default
//!   at once); the service's model "decides" when to stop.
//! - [`MockServerBuilder::tap`](super::MockServerBuilder::tap) sees Realtime sessions only;
//!   [`MockServerBuilder::record`](super::MockServerBuilder::record) applies to both.
//! - `session.commentary.append` is spoken word for word; the service's model rephrases it.
//! - The `…appended` acknowledgements come at once with `start_ms` = `end_ms` = now on the
//!   timeline, audio in flight or not (the service places them later, and not at all while no
//!   input audio flows).
//! - Only the session config is checked field by field; other client events are read by this
//!   crate's lenient models (a bad body is refused, an unknown member is not).
//! - A Decisions trigger fires on every transcript fragment of its event type (the service
//!   decides when to evaluate), answering each question with a plausible default.
//!
//! # Example
//!
//! ```
//! use std::time::Duration;
//! use openai_realtime::mock::{LiveMockServerBuilderExt, LiveScript, LiveTurn, MockServer};
//! use futures_util::{SinkExt, StreamExt};
//! use tokio_tungstenite::tungstenite::{Message, client::IntoClientRequest};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = MockServer::builder()
//!     .api_key("sk-test")
//!     .live_script(LiveScript::new().turn(LiveTurn::speech("Hello, this is the clinic.")))
//!     .start()
//!     .await?;
//!
//! let mut request = server.live_url().into_client_request()?;
//! request.headers_mut().insert("authorization", "Bearer sk-test".parse()?);
//! let (mut ws, _) = tokio_tungstenite::connect_async(request).await?;
//! ws.send(Message::text(
//!     r#"{"type":"session.start","session":{"model":"gpt-live-1","audio":{"format":{"type":"audio/pcmu","rate":8000}}}}"#,
//! )).await?;
//! let started = ws.next().await.unwrap()?;
//! assert!(started.to_text()?.contains(r#""type":"session.started""#));
//!
//! // Ask for a greeting; the script's first turn plays.
//! ws.send(Message::text(
//!     r#"{"type":"session.instructions.append","delegation_id":null,"content":"Greet the caller."}"#,
//! )).await?;
//! let mut transcript = Vec::new();
//! while transcript.len() < 5 {
//!     let event: serde_json::Value = serde_json::from_str(ws.next().await.unwrap()?.to_text()?)?;
//!     if event["type"] == "session.output_transcript.delta" {
//!         transcript.push(event["delta"].as_str().unwrap_or_default().to_owned());
//!     }
//! }
//! assert_eq!(transcript.concat(), "Hello, this is the clinic.");
//!
//! let session = server.live_session(0, Duration::from_secs(5)).await?;
//! assert_eq!(session.received_types()[0], "session.start");
//! # Ok(())
//! # }
//! ```

mod engine;
mod handle;
mod socket;
mod validate;

use std::time::Duration;

use serde_json::Value;

pub use handle::{LiveReceived, MockLiveSession};

pub(crate) use handle::LiveSessions;
pub(crate) use socket::{LiveUpgrade, serve};

use super::{MockServer, MockServerBuilder, WaitError};

/// The path of the Live WebSocket, beside the Realtime ones.
pub const LIVE_PATH: &str = "/v1/live/sessions";

/// The Live models the mock accepts by default.
pub const LIVE_MODELS: &[&str] = &["gpt-live-1", "gpt-live-1.1"];

/// The Live side's settings, fixed at start.
#[derive(Debug, Clone)]
pub(crate) struct LiveSettings {
    pub(crate) models: Vec<String>,
    pub(crate) script: LiveScript,
    pub(crate) max_session_duration: Duration,
}

impl Default for LiveSettings {
    fn default() -> Self {
        Self {
            models: LIVE_MODELS.iter().map(|m| (*m).to_owned()).collect(),
            script: LiveScript::new(),
            // The service's limit is not documented; the Realtime API's is an hour.
            max_session_duration: Duration::from_secs(60 * 60),
        }
    }
}

/// One output of a [`LiveTurn`], in order.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum LiveOutput {
    /// Speech: a 440 Hz tone of `ms` milliseconds in the session's format, with the transcript
    /// sent as `session.output_transcript.delta` fragments (one per word) along it.
    Speech {
        /// What the mock says.
        transcript: String,
        /// How long the tone lasts.
        ms: u32,
    },
    /// Client delegation: `session.delegation.created` (target `client`); the turn waits for
    /// the application's `session.commentary.append` (spoken) or `session.thinking.append`
    /// (silent) with that `delegation_id`.
    Delegate,
    /// Responses delegation: `session.delegation.created` (target `responses`) and the
    /// backend's `response.event`s around one `function_call`; the turn waits for its
    /// `function_call_output` (`response.item.create`) and `response.create`.
    FunctionCall {
        /// The function's name.
        name: String,
        /// Its arguments, a JSON string.
        arguments: String,
    },
    /// Decisions delegation: `session.delegation.created` (target `decisions`), then a
    /// `decision.event` whose `decision.completed` carries these answers (the SDK's
    /// `Decision.answers`: `predicate`, `choice`, `score` or `refusal` objects).
    Decide {
        /// The answers, as JSON objects.
        answers: Vec<Value>,
    },
}

/// One turn of the mock model: what it does after the caller stops speaking (or when the
/// application asks it to speak first).
///
/// ```
/// use openai_realtime::mock::{LiveOutput, LiveTurn};
///
/// let turn = LiveTurn::speech("Let me check.")
///     .then_delegate()
///     .with_caller_transcript("Is my appointment on Friday?");
/// assert_eq!(turn.outputs().len(), 2);
/// assert!(matches!(turn.outputs()[1], LiveOutput::Delegate));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveTurn {
    outputs: Vec<LiveOutput>,
    caller: Option<String>,
}

impl LiveTurn {
    /// A turn with no output (the model stays silent).
    pub fn new() -> Self {
        Self::default()
    }

    /// A turn that says `transcript` over a tone of about 60 ms per character (200 ms to 5 s).
    pub fn speech(transcript: impl Into<String>) -> Self {
        Self::new().then_say(transcript)
    }

    /// A turn that delegates to the application at once ([`LiveOutput::Delegate`]).
    pub fn delegate() -> Self {
        Self::new().then_delegate()
    }

    /// A turn that calls a function through the Responses backend
    /// ([`LiveOutput::FunctionCall`]).
    pub fn function_call(name: impl Into<String>, arguments: impl Into<String>) -> Self {
        Self::new().then_call(name, arguments)
    }

    /// A turn that asks the Decisions backend and gets these answers ([`LiveOutput::Decide`]).
    pub fn decide(answers: Vec<Value>) -> Self {
        Self::new().then_decide(answers)
    }

    /// Adds speech (tone length from the text, as [`LiveTurn::speech`]).
    #[must_use]
    pub fn then_say(self, transcript: impl Into<String>) -> Self {
        let transcript = transcript.into();
        let ms = (transcript.chars().count() as u32 * 60).clamp(200, 5000);
        self.then_say_for(transcript, ms)
    }

    /// Adds speech over a tone of `ms` milliseconds.
    #[must_use]
    pub fn then_say_for(mut self, transcript: impl Into<String>, ms: u32) -> Self {
        self.outputs.push(LiveOutput::Speech {
            transcript: transcript.into(),
            ms,
        });
        self
    }

    /// Adds a client delegation.
    #[must_use]
    pub fn then_delegate(mut self) -> Self {
        self.outputs.push(LiveOutput::Delegate);
        self
    }

    /// Adds a function call through the Responses backend.
    #[must_use]
    pub fn then_call(mut self, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        self.outputs.push(LiveOutput::FunctionCall {
            name: name.into(),
            arguments: arguments.into(),
        });
        self
    }

    /// Adds a Decisions delegation with these answers.
    #[must_use]
    pub fn then_decide(mut self, answers: Vec<Value>) -> Self {
        self.outputs.push(LiveOutput::Decide { answers });
        self
    }

    /// What the caller said before this turn, sent as `session.input_transcript.delta`
    /// fragments when the caller stops (default `"(caller speech)"`).
    #[must_use]
    pub fn with_caller_transcript(mut self, transcript: impl Into<String>) -> Self {
        self.caller = Some(transcript.into());
        self
    }

    /// The outputs, in order.
    pub fn outputs(&self) -> &[LiveOutput] {
        &self.outputs
    }

    /// The caller's transcript before this turn, if set.
    pub fn caller_transcript(&self) -> Option<&str> {
        self.caller.as_deref()
    }
}

/// The turns every Live session plays, in order, and the timing of the output track.
///
/// ```
/// use std::time::Duration;
/// use openai_realtime::mock::{LiveScript, LiveTurn};
///
/// let script = LiveScript::new()
///     .turn(LiveTurn::speech("Hello!"))
///     .fallback(LiveTurn::speech("Could you say that again?"))
///     .delta_duration(Duration::from_millis(20))
///     .end_of_turn(Duration::from_millis(800));
/// assert_eq!(script.turns().len(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct LiveScript {
    turns: Vec<LiveTurn>,
    fallback: LiveTurn,
    delta: Duration,
    end_of_turn: Duration,
    usage_interval: Duration,
    continuous: bool,
    barge_in_after: Duration,
}

impl Default for LiveScript {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveScript {
    /// No turns; every caller turn gets the fallback (`"I'm a mock; I heard you."`). Deltas of
    /// 100 ms (as observed on the service), end of turn after 500 ms of silence, usage every
    /// 15 s, silence between turns.
    pub fn new() -> Self {
        Self {
            turns: Vec::new(),
            fallback: LiveTurn::speech("I'm a mock; I heard you."),
            delta: Duration::from_millis(100),
            end_of_turn: Duration::from_millis(500),
            usage_interval: Duration::from_secs(15),
            continuous: true,
            barge_in_after: Duration::ZERO,
        }
    }

    /// Adds a turn.
    #[must_use]
    pub fn turn(mut self, turn: LiveTurn) -> Self {
        self.turns.push(turn);
        self
    }

    /// The turn played once the scripted ones are spent.
    #[must_use]
    pub fn fallback(mut self, turn: LiveTurn) -> Self {
        self.fallback = turn;
        self
    }

    /// The audio in each `session.output_audio.delta` (default 100 ms; at least 10 ms).
    #[must_use]
    pub fn delta_duration(mut self, delta: Duration) -> Self {
        self.delta = delta.max(Duration::from_millis(10));
        self
    }

    /// The caller's silence that ends the caller's turn (default 500 ms).
    #[must_use]
    pub fn end_of_turn(mut self, silence: Duration) -> Self {
        self.end_of_turn = silence;
        self
    }

    /// How often `session.usage.updated` comes (default 15 s, as observed).
    #[must_use]
    pub fn usage_interval(mut self, interval: Duration) -> Self {
        self.usage_interval = interval.max(Duration::from_millis(100));
        self
    }

    /// Whether the track carries silence between turns (default `true`, as the service).
    /// With `false` only speech is sent, which keeps test logs short.
    #[must_use]
    pub fn continuous(mut self, continuous: bool) -> Self {
        self.continuous = continuous;
        self
    }

    /// How long the caller must speak over the model before it stops (default zero: at the
    /// first voiced 10 ms of caller audio). The service's reaction time is not documented;
    /// set it to test what a bridge plays between the caller's first word and the model's
    /// silence.
    #[must_use]
    pub fn barge_in_after(mut self, speech: Duration) -> Self {
        self.barge_in_after = speech;
        self
    }

    /// The scripted turns.
    pub fn turns(&self) -> &[LiveTurn] {
        &self.turns
    }
}

/// The Live settings of a [`MockServerBuilder`] (an extension trait, so the Realtime
/// builder's own methods stay as they are).
pub trait LiveMockServerBuilderExt: Sized {
    /// The turns every Live session plays (default [`LiveScript::new`]).
    #[must_use]
    fn live_script(self, script: LiveScript) -> Self;

    /// The Live models accepted in `session.start` (default [`LIVE_MODELS`]).
    #[must_use]
    fn live_models<I, S>(self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>;

    /// How long a Live session lasts before `session.closed` with `expired` (default 60
    /// minutes; the service's limit is not documented). `expires_at` follows it.
    #[must_use]
    fn live_max_session_duration(self, duration: Duration) -> Self;
}

impl LiveMockServerBuilderExt for MockServerBuilder {
    fn live_script(mut self, script: LiveScript) -> Self {
        self.settings.live.script = script;
        self
    }

    fn live_models<I, S>(mut self, models: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.settings.live.models = models.into_iter().map(Into::into).collect();
        self
    }

    fn live_max_session_duration(mut self, duration: Duration) -> Self {
        self.settings.live.max_session_duration = duration;
        self
    }
}

impl MockServer {
    /// `ws://127.0.0.1:<port>/v1/live/sessions` (`wss://` with TLS): the Live endpoint, no
    /// query parameters.
    pub fn live_url(&self) -> String {
        let scheme = if self.tls.is_some() { "wss" } else { "ws" };
        format!("{scheme}://{}{LIVE_PATH}", self.addr)
    }

    /// Every Live session so far (refused ones included), oldest first.
    pub fn live_sessions(&self) -> Vec<MockLiveSession> {
        self.state.live.all()
    }

    /// Waits for the `index`-th Live session (from 0).
    ///
    /// # Errors
    ///
    /// [`WaitError`] after `timeout`.
    pub async fn live_session(
        &self,
        index: usize,
        timeout: Duration,
    ) -> Result<MockLiveSession, WaitError> {
        self.state.live.wait(index, timeout).await
    }
}
