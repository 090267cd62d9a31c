//! `response.*` server events.

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::{CallId, EventId, ItemId, ResponseId};
use crate::resource::item::{ContentPart, Item};
use crate::resource::response::Response;

/// A response started (`status: in_progress`).
///
/// Wire name: `response.created`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseCreated {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response: Box<Response>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A response ended: `completed`, `cancelled` (`turn_detected` on barge-in), `failed` or
/// `incomplete`, with its output (without audio) and usage.
///
/// Wire name: `response.done`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseDone {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response: Box<Response>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A response added an output item.
///
/// Wire name: `response.output_item.added`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseOutputItemAdded {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The item.
    pub item: Item,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An output item is final.
///
/// Wire name: `response.output_item.done`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseOutputItemDone {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The item.
    pub item: Item,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A content part was added (`part.type` stays `audio`/`text` in GA).
///
/// Wire name: `response.content_part.added`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseContentPartAdded {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The index of the content part in the item.
    pub content_index: u32,
    /// The part (boxed, so that events stay small on the per-frame path).
    pub part: Box<ContentPart>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A content part is final.
///
/// Wire name: `response.content_part.done`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseContentPartDone {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The index of the content part in the item.
    pub content_index: u32,
    /// The part (boxed, so that events stay small on the per-frame path).
    pub part: Box<ContentPart>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A piece of output text. Beta name: `response.text.delta`.
///
/// Wire name: `response.output_text.delta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseOutputTextDelta {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The index of the content part in the item.
    pub content_index: u32,
    /// The text.
    pub delta: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The output text is final. Beta name: `response.text.done`.
///
/// Wire name: `response.output_text.done`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseOutputTextDone {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The index of the content part in the item.
    pub content_index: u32,
    /// The full text.
    pub text: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A piece of output audio, base64 in the session's output format, kept as received: with
/// G.711 mu-law it goes to Twilio's `media.payload` unchanged. Beta name: `response.audio.delta`.
///
/// Wire name: `response.output_audio.delta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseOutputAudioDelta {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The index of the content part in the item.
    pub content_index: u32,
    /// Base64 audio.
    pub delta: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The output audio is complete. Beta name: `response.audio.done`.
///
/// Wire name: `response.output_audio.done`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseOutputAudioDone {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The index of the content part in the item.
    pub content_index: u32,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A piece of the transcript of the output audio. Beta name: `response.audio_transcript.delta`.
///
/// Wire name: `response.output_audio_transcript.delta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseOutputAudioTranscriptDelta {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The index of the content part in the item.
    pub content_index: u32,
    /// The text.
    pub delta: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The transcript of the output audio is final. Beta name: `response.audio_transcript.done`.
///
/// Wire name: `response.output_audio_transcript.done`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseOutputAudioTranscriptDone {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The index of the content part in the item.
    pub content_index: u32,
    /// The full transcript.
    pub transcript: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A piece of a function call's arguments.
///
/// Wire name: `response.function_call_arguments.delta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseFunctionCallArgumentsDelta {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The call.
    pub call_id: CallId,
    /// The piece of JSON.
    pub delta: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A function call's arguments are complete: run the function, then send a
/// `function_call_output` item and `response.create`.
///
/// `name` is always sent in GA and never in beta; a beta encoding leaves it out.
///
/// Wire name: `response.function_call_arguments.done`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseFunctionCallArgumentsDone {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The call.
    pub call_id: CallId,
    /// The function name (GA only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The arguments, a JSON string.
    pub arguments: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResponseOutputItemAdded {
    /// The event for an output item.
    pub fn new(
        event_id: impl Into<EventId>,
        response_id: impl Into<ResponseId>,
        output_index: u32,
        item: Item,
    ) -> Self {
        Self {
            event_id: event_id.into(),
            response_id: response_id.into(),
            output_index,
            item,
            extra: Default::default(),
        }
    }
}

impl ResponseOutputItemDone {
    /// The event for an output item.
    pub fn new(
        event_id: impl Into<EventId>,
        response_id: impl Into<ResponseId>,
        output_index: u32,
        item: Item,
    ) -> Self {
        Self {
            event_id: event_id.into(),
            response_id: response_id.into(),
            output_index,
            item,
            extra: Default::default(),
        }
    }
}
