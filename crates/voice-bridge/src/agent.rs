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
    /// `session.updated`). Caller audio is held back until this arrives.
    Ready(AgentReady),
    /// A chunk of the agent's speech.
    Audio(AgentAudio),
    /// The agent heard the caller start speaking (OpenAI `speech_started`).
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
    /// The leg ended; after this the leg sends nothing more.
    Ended(LegEnd),
}

/// The agent's confirmed audio formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentReady {
    /// The format the agent expects caller audio in.
    pub input: AudioFormat,
    /// The format the agent speaks in.
    pub output: AudioFormat,
}

/// A chunk of an agent item's audio.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentAudio {
    /// The item the audio belongs to.
    pub item_id: ItemId,
    /// The content part within the item (OpenAI: 0 for audio).
    pub content_index: u32,
    /// The audio, in [`AgentReady::output`].
    pub chunk: AudioChunk,
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
#[derive(Debug, Clone, PartialEq, Eq)]
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

/// The end of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseDone {
    /// The response's id, if known.
    pub response_id: Option<ResponseId>,
    /// How it ended.
    pub status: ResponseStatus,
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentError {
    /// A machine-readable code (OpenAI `error.code`), if any.
    pub code: Option<String>,
    /// The message as the agent wrote it.
    pub message: String,
    /// Whether the session cannot go on (the leg will end).
    pub fatal: bool,
}

/// Something the bridge asks of the agent leg.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum AgentCommand {
    /// Caller audio, in [`AgentReady::input`] (OpenAI `input_audio_buffer.append`).
    Audio(AudioChunk),
    /// Cut an item's audio at what the caller heard (OpenAI `conversation.item.truncate`).
    Truncate {
        /// The item.
        item_id: ItemId,
        /// The content part within the item.
        content_index: u32,
        /// Milliseconds of that item's audio the caller heard.
        audio_end_ms: u32,
    },
    /// Stop the response being generated (OpenAI `response.cancel`).
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
