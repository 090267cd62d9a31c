//! `conversation.*` server events, input audio transcription included.

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::codec::tagged_enum;
use crate::ids::{ConversationId, EventId, ItemId};
use crate::resource::item::Item;

/// A conversation was created (a legacy event, still in the GA union).
///
/// Wire name: `conversation.created`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationCreated {
    /// The server event id.
    pub event_id: EventId,
    /// The conversation.
    pub conversation: Conversation,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The conversation of `conversation.created`.
///
/// JSON field: `conversation`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Conversation {
    /// The id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ConversationId>,
    /// `realtime.conversation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// An item was created: the legacy GA event, still in the GA union. Beta servers sent
/// `conversation.item.created` for every item; decoded in the beta dialect it becomes
/// [`ConversationItemAdded`](crate::server_event::ConversationItemAdded).
///
/// Wire name: `conversation.item.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemCreated {
    /// The server event id.
    pub event_id: EventId,
    /// The item before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Item,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An item was added to the conversation (while the model generates it, without content yet).
/// Audio bytes are never included. Beta name: `conversation.item.created`.
///
/// Wire name: `conversation.item.added`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemAdded {
    /// The server event id.
    pub event_id: EventId,
    /// The item before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Item,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An item is final (without audio). GA only: the beta dialect has no counterpart, and a beta
/// encoding keeps this GA name.
///
/// Wire name: `conversation.item.done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemDone {
    /// The server event id.
    pub event_id: EventId,
    /// The item before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Item,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to `conversation.item.retrieve` (audio included).
///
/// Wire name: `conversation.item.retrieved`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemRetrieved {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item: Item,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to `conversation.item.truncate`.
///
/// Wire name: `conversation.item.truncated`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemTruncated {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The content part.
    pub content_index: u32,
    /// Where the audio now ends.
    pub audio_end_ms: u32,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to `conversation.item.delete`.
///
/// Wire name: `conversation.item.deleted`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemDeleted {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A piece of the transcript of the caller's audio.
///
/// Wire name: `conversation.item.input_audio_transcription.delta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemInputAudioTranscriptionDelta {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The content part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_index: Option<u32>,
    /// The text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta: Option<String>,
    /// Log probabilities, when asked for with `include`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<LogProb>>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The transcript of the caller's audio (asynchronous to the response).
///
/// Wire name: `conversation.item.input_audio_transcription.completed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemInputAudioTranscriptionCompleted {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The content part.
    pub content_index: u32,
    /// The transcript.
    pub transcript: String,
    /// Usage of the transcription model.
    pub usage: TranscriptionUsage,
    /// The detected languages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<TranscriptionLanguage>>,
    /// Log probabilities, when asked for with `include`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<Vec<LogProb>>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A diarized segment of the caller's audio (GA only).
///
/// Wire name: `conversation.item.input_audio_transcription.segment`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemInputAudioTranscriptionSegment {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The content part.
    pub content_index: u32,
    /// The segment id.
    pub id: String,
    /// The text.
    pub text: String,
    /// The speaker label.
    pub speaker: String,
    /// Start, in seconds.
    pub start: f64,
    /// End, in seconds.
    pub end: f64,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Transcription of the caller's audio failed.
///
/// Wire name: `conversation.item.input_audio_transcription.failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemInputAudioTranscriptionFailed {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The content part.
    pub content_index: u32,
    /// Why.
    pub error: TranscriptionError,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Why a transcription failed.
///
/// JSON field: `error`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptionError {
    /// The error class (`type` on the wire).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The parameter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// The log probability of one token.
///
/// JSON field: `logprobs[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LogProb {
    /// The token.
    pub token: String,
    /// Its log probability.
    pub logprob: f64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// A language detected in the audio.
///
/// JSON field: `languages[]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptionLanguage {
    /// The language code.
    pub code: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// Transcription usage billed by tokens.
///
/// JSON field: `usage (tokens)`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptionTokenUsage {
    /// Input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// All tokens.
    pub total_tokens: u64,
    /// Input tokens by kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_token_details: Option<TranscriptionInputTokenDetails>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Transcription input tokens by kind.
///
/// JSON field: `input_token_details`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptionInputTokenDetails {
    /// Text tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// Transcription usage billed by duration.
///
/// JSON field: `usage (duration)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptionDurationUsage {
    /// Seconds of audio.
    pub seconds: f64,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

tagged_enum! {
    /// The usage of a transcription: by tokens or by duration.
    pub enum TranscriptionUsage {
        /// `type: "tokens"`
        "tokens" => Tokens(TranscriptionTokenUsage),
        /// `type: "duration"`
        "duration" => Duration(TranscriptionDurationUsage),
    }
}

macro_rules! item_event_new {
    ($($name:ident),+) => {$(
        impl $name {
            /// The event for `item`, with no `previous_item_id`.
            pub fn new(event_id: impl Into<EventId>, item: Item) -> Self {
                Self {
                    event_id: event_id.into(),
                    previous_item_id: None,
                    item,
                    extra: Extra::new(),
                }
            }
        }
    )+};
}

item_event_new!(
    ConversationItemCreated,
    ConversationItemAdded,
    ConversationItemDone
);

impl ConversationItemRetrieved {
    /// The event for `item`.
    pub fn new(event_id: impl Into<EventId>, item: Item) -> Self {
        Self {
            event_id: event_id.into(),
            item,
            extra: Default::default(),
        }
    }
}

impl ConversationItemInputAudioTranscriptionCompleted {
    /// The final transcript of a user item's audio.
    pub fn new(
        event_id: impl Into<EventId>,
        item_id: impl Into<ItemId>,
        content_index: u32,
        transcript: impl Into<String>,
        usage: TranscriptionUsage,
    ) -> Self {
        Self {
            event_id: event_id.into(),
            item_id: item_id.into(),
            content_index,
            transcript: transcript.into(),
            usage,
            languages: None,
            logprobs: None,
            extra: Default::default(),
        }
    }
}
