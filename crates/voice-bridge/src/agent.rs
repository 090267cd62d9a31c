//! The agent leg's vocabulary: what a speech-to-speech agent tells the bridge and what
//! the bridge asks of it.

use serde::Serialize;

use crate::audio::{AudioChunk, AudioFormat};
use crate::ids::{DtmfDigit, ItemId, ResponseId, ToolCallId};
use crate::leg::LegEnd;
use crate::tool::ToolCall;

/// Something that happened on the agent leg.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEvent {
    /// The leg is not ready yet and says what it is waiting for, in words that name its
    /// peer without secrets (`the WebSocket handshake and session.created from
    /// wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1`). Optional: if the agent
    /// is not ready within
    /// [`BridgeConfig::agent_ready_timeout`](crate::BridgeConfig::agent_ready_timeout),
    /// the bridge's line and report name the last thing it said.
    Waiting(String),
    /// The agent is connected and its session confirmed these audio formats (OpenAI:
    /// `session.updated`; GPT-Live: `session.started`). Caller audio is held back until
    /// this arrives.
    Ready(AgentReady),
    /// A chunk of the agent's speech.
    Audio(AgentAudio),
    /// The caller started speaking over the agent, or may be about to be answered (OpenAI
    /// `speech_started`; a GPT-Live leg sends it when the service stopped its own speech
    /// for the caller's): the bridge's barge-in rule runs.
    SpeechStarted,
    /// The agent heard the caller stop speaking (OpenAI `speech_stopped`).
    SpeechStopped,
    /// A piece of transcript, of either side.
    Transcript(Transcript),
    /// The agent calls a tool.
    ToolCall(ToolCall),
    /// The agent started a response.
    ResponseStarted(Option<ResponseId>),
    /// A response finished (completed, cancelled or failed).
    ResponseDone(ResponseDone),
    /// The agent reported an error.
    Error(AgentError),
    /// What the agent's service has billed so far, cumulative (GPT-Live:
    /// `session.usage.updated` and the final `session.closed`). The report keeps the last.
    Usage(AgentUsage),
    /// The leg ended; after this the leg sends nothing more.
    Ended(LegEnd),
}

/// The agent's confirmed audio formats.
///
/// ```
/// use voice_bridge::audio::AudioFormat;
/// use voice_bridge::{AgentEvent, AgentReady};
/// // Caller audio goes in as 8 kHz mu-law, the agent answers in 24 kHz PCM16.
/// let ready = AgentEvent::Ready(AgentReady::new(AudioFormat::MuLaw, AudioFormat::PCM16_24K));
/// # let _ = ready;
/// ```
///
/// Like the other structs of the legs' vocabulary it is `#[non_exhaustive]`, so a field
/// added later breaks no one: outside this crate it is built with its constructor, and a
/// struct literal does not compile.
///
/// ```compile_fail,E0639
/// use voice_bridge::AgentReady;
/// use voice_bridge::audio::AudioFormat;
/// let ready = AgentReady { input: AudioFormat::MuLaw, output: AudioFormat::PCM16_24K };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentReady {
    /// The format the agent expects caller audio in.
    pub input: AudioFormat,
    /// The format the agent speaks in.
    pub output: AudioFormat,
    /// Who stops the agent's speech when the caller talks over it.
    pub interruption: Interruption,
}

impl AgentReady {
    /// The agent takes caller audio in `input` and speaks in `output`; the bridge stops
    /// it on barge-in ([`Interruption::Bridge`]).
    pub const fn new(input: AudioFormat, output: AudioFormat) -> Self {
        Self {
            input,
            output,
            interruption: Interruption::Bridge,
        }
    }

    /// Sets who stops the agent's speech on barge-in.
    ///
    /// ```
    /// use voice_bridge::audio::AudioFormat;
    /// use voice_bridge::{AgentReady, Interruption};
    /// // GPT-Live: G.711 both ways, and the service stops itself.
    /// let ready = AgentReady::new(AudioFormat::MuLaw, AudioFormat::MuLaw)
    ///     .with_interruption(Interruption::Agent);
    /// assert_eq!(ready.interruption, Interruption::Agent);
    /// ```
    #[must_use]
    pub const fn with_interruption(mut self, interruption: Interruption) -> Self {
        self.interruption = interruption;
        self
    }
}

/// Who stops the agent's speech when the caller talks over it, and so what the bridge's
/// barge-in does beyond clearing the caller's queue of agent audio (which it always does).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Interruption {
    /// The bridge (OpenAI Realtime): it cancels the running response
    /// ([`AgentCommand::CancelResponse`]) and cuts each item the caller was hearing at what
    /// was heard ([`AgentCommand::Truncate`]), so the agent does not believe it said words
    /// nobody heard.
    #[default]
    Bridge,
    /// The agent itself (GPT-Live): the service owns turn-taking, stops its own output, and
    /// its timeline is what it played in real time, so there is nothing to cancel or
    /// truncate; the bridge sends neither.
    Agent,
}

/// What the agent's service has billed for the session so far, cumulative: each
/// [`AgentEvent::Usage`] replaces the previous one. The fields a service does not report
/// are `None`.
///
/// ```
/// use voice_bridge::{AgentEvent, AgentUsage};
/// let usage = AgentUsage::seconds(63.0);
/// assert_eq!(usage.session_seconds, Some(63.0));
/// let event = AgentEvent::Usage(usage);
/// # let _ = event;
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[non_exhaustive]
pub struct AgentUsage {
    /// Billed session seconds (GPT-Live bills by the session second).
    pub session_seconds: Option<f64>,
    /// Of those, seconds of active inference (GPT-Live `active_seconds`).
    pub active_seconds: Option<u64>,
    /// Of those, seconds paused in standby (GPT-Live `paused_seconds`).
    pub paused_seconds: Option<u64>,
    /// Input tokens (services that bill by the token).
    pub input_tokens: Option<u64>,
    /// Output tokens (services that bill by the token).
    pub output_tokens: Option<u64>,
}

impl AgentUsage {
    /// A usage of `seconds` billed session seconds, nothing else known.
    pub fn seconds(seconds: f64) -> Self {
        Self {
            session_seconds: Some(seconds),
            ..Self::default()
        }
    }
}

/// A chunk of an agent item's audio.
///
/// ```
/// use voice_bridge::audio::{AudioChunk, AudioFormat};
/// use voice_bridge::{AgentAudio, AgentEvent};
/// let chunk = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0xff; 160])?;
/// let audio = AgentEvent::Audio(AgentAudio::new("item_1", 0, chunk));
/// # let _ = audio;
/// # Ok::<(), voice_bridge::audio::AudioError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AgentAudio {
    /// The item the audio belongs to.
    pub item_id: ItemId,
    /// The content part within the item (OpenAI: 0 for audio).
    pub content_index: u32,
    /// The audio, in [`AgentReady::output`].
    pub chunk: AudioChunk,
}

impl AgentAudio {
    /// Audio of the item `item_id`, content part `content_index`.
    pub fn new(item_id: impl Into<ItemId>, content_index: u32, chunk: AudioChunk) -> Self {
        Self {
            item_id: item_id.into(),
            content_index,
            chunk,
        }
    }
}

/// Who said something.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Speaker {
    /// The person on the phone.
    Caller,
    /// The AI agent.
    Agent,
}

/// A piece of transcript.
///
/// ```
/// use voice_bridge::{AgentEvent, Speaker, Transcript};
/// // A fragment as it streams in, then the item's whole text.
/// let delta = Transcript::new(Speaker::Agent, "Hello", false).with_item_id("item_1");
/// let done = Transcript::new(Speaker::Agent, "Hello, how can I help?", true).with_item_id("item_1");
/// assert!(!delta.is_final && done.is_final);
/// let event = AgentEvent::Transcript(done);
/// # let _ = event;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transcript {
    /// Whose words.
    pub speaker: Speaker,
    /// The item the words belong to, if the agent says.
    pub item_id: Option<ItemId>,
    /// The text: a fragment if `is_final` is false, the whole item's text if true.
    pub text: String,
    /// Whether this is the item's complete text (OpenAI `*.done`/`*.completed`).
    pub is_final: bool,
}

impl Transcript {
    /// `speaker`'s words: a fragment, or the item's whole text if `is_final`. No item id
    /// (see [`with_item_id`](Self::with_item_id)).
    pub fn new(speaker: Speaker, text: impl Into<String>, is_final: bool) -> Self {
        Self {
            speaker,
            item_id: None,
            text: text.into(),
            is_final,
        }
    }

    /// Sets the item the words belong to.
    #[must_use]
    pub fn with_item_id(mut self, item_id: impl Into<ItemId>) -> Self {
        self.item_id = Some(item_id.into());
        self
    }
}

/// The end of a response.
///
/// ```
/// use voice_bridge::{AgentEvent, ResponseDone, ResponseStatus};
/// let done = ResponseDone::new(ResponseStatus::Completed).with_response_id("resp_1");
/// let event = AgentEvent::ResponseDone(done);
/// # let _ = event;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ResponseDone {
    /// The response's id, if known.
    pub response_id: Option<ResponseId>,
    /// How it ended.
    pub status: ResponseStatus,
}

impl ResponseDone {
    /// A response ended with `status`; its id unknown (see
    /// [`with_response_id`](Self::with_response_id)).
    pub fn new(status: ResponseStatus) -> Self {
        Self {
            response_id: None,
            status,
        }
    }

    /// Sets the response's id.
    #[must_use]
    pub fn with_response_id(mut self, response_id: impl Into<ResponseId>) -> Self {
        self.response_id = Some(response_id.into());
        self
    }
}

/// How a response ended.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseStatus {
    /// Finished normally.
    Completed,
    /// Cancelled (by the client or by the agent's own turn detection).
    Cancelled,
    /// Cut short by a limit (OpenAI `incomplete`).
    Incomplete,
    /// Failed.
    Failed,
}

/// An error the agent reported.
///
/// ```
/// use voice_bridge::{AgentError, AgentEvent};
/// let error = AgentError::new("Incorrect API key provided", true).with_code("invalid_api_key");
/// assert_eq!(error.code.as_deref(), Some("invalid_api_key"));
/// let event = AgentEvent::Error(error);
/// # let _ = event;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AgentError {
    /// A machine-readable code (OpenAI `error.code`), if any.
    pub code: Option<String>,
    /// The message as the agent wrote it.
    pub message: String,
    /// Whether the session cannot go on (the leg will end).
    pub fatal: bool,
}

impl AgentError {
    /// An error in the agent's words; `fatal` if the session cannot go on. No code (see
    /// [`with_code`](Self::with_code)).
    pub fn new(message: impl Into<String>, fatal: bool) -> Self {
        Self {
            code: None,
            message: message.into(),
            fatal,
        }
    }

    /// Sets the machine-readable code.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }
}

/// Something the bridge asks of the agent leg.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum AgentCommand {
    /// Caller audio, in [`AgentReady::input`] (OpenAI `input_audio_buffer.append`).
    Audio(AudioChunk),
    /// Cut an item's audio at what the caller heard (OpenAI `conversation.item.truncate`).
    /// Sent only to an agent whose barge-in is the bridge's ([`Interruption::Bridge`]).
    Truncate {
        /// The item.
        item_id: ItemId,
        /// The content part within the item.
        content_index: u32,
        /// Milliseconds of that item's audio the caller heard.
        audio_end_ms: u32,
    },
    /// Stop the response being generated (OpenAI `response.cancel`). Sent only to an agent
    /// whose barge-in is the bridge's ([`Interruption::Bridge`]).
    CancelResponse,
    /// A tool's result (OpenAI `conversation.item.create` with `function_call_output`).
    ToolResult {
        /// The call it answers.
        call_id: ToolCallId,
        /// The output, JSON-encoded.
        output: String,
    },
    /// Ask the agent to respond (OpenAI `response.create`).
    CreateResponse,
    /// The caller pressed a key; the leg decides how to tell its agent (OpenAI: a user
    /// text item such as `[DTMF 1]`).
    Dtmf(DtmfDigit),
    /// End the session and close the connection.
    Close,
}
