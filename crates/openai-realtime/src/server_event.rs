//! Events the service sends: [`ServerEvent`] and one struct per wire event.

mod conversation;
mod error;
mod input_audio_buffer;
mod mcp;
mod output_audio_buffer;
mod rate_limits;
mod response;
mod session;

pub use conversation::{
    Conversation, ConversationCreated, ConversationItemAdded, ConversationItemCreated,
    ConversationItemDeleted, ConversationItemDone,
    ConversationItemInputAudioTranscriptionCompleted, ConversationItemInputAudioTranscriptionDelta,
    ConversationItemInputAudioTranscriptionFailed, ConversationItemInputAudioTranscriptionSegment,
    ConversationItemRetrieved, ConversationItemTruncated, LogProb, TranscriptionDurationUsage,
    TranscriptionError, TranscriptionInputTokenDetails, TranscriptionLanguage,
    TranscriptionTokenUsage, TranscriptionUsage,
};
pub use error::ErrorEvent;
pub use input_audio_buffer::{
    InputAudioBufferCleared, InputAudioBufferCommitted, InputAudioBufferDtmfEventReceived,
    InputAudioBufferSpeechStarted, InputAudioBufferSpeechStopped, InputAudioBufferTimeoutTriggered,
};
pub use mcp::{
    McpListToolsCompleted, McpListToolsFailed, McpListToolsInProgress,
    ResponseMcpCallArgumentsDelta, ResponseMcpCallArgumentsDone, ResponseMcpCallCompleted,
    ResponseMcpCallFailed, ResponseMcpCallInProgress,
};
pub use output_audio_buffer::{
    OutputAudioBufferCleared, OutputAudioBufferStarted, OutputAudioBufferStopped,
};
pub use rate_limits::{RateLimit, RateLimitName, RateLimitsUpdated};
pub use response::{
    ResponseContentPartAdded, ResponseContentPartDone, ResponseCreated, ResponseDone,
    ResponseFunctionCallArgumentsDelta, ResponseFunctionCallArgumentsDone,
    ResponseOutputAudioDelta, ResponseOutputAudioDone, ResponseOutputAudioTranscriptDelta,
    ResponseOutputAudioTranscriptDone, ResponseOutputItemAdded, ResponseOutputItemDone,
    ResponseOutputTextDelta, ResponseOutputTextDone,
};
pub use session::{SessionCreated, SessionUpdated};

use crate::codec::{decode_in, encode_beta, event_enum};
use crate::dialect::Dialect;
use crate::error::DecodeError;
use crate::ids::EventId;

event_enum! {
    /// An event the service sends (the 46 GA server events, two of them legacy; the 34 beta
    /// events decode to the same variants).
    ///
    /// # Forward compatibility
    ///
    /// A `type` this version does not know decodes to `Unknown` with the raw JSON, and a
    /// field it does not name is kept in the struct's `extra` ([`Extra`](crate::Extra)) and
    /// written back, so a new event or field from the service never ends a call and a relay
    /// passes it on.
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::{Dialect, ServerEvent};
    ///
    /// let frame = r#"{"type":"response.output_audio.delta","event_id":"e1","response_id":"r1",
    ///     "item_id":"i1","output_index":0,"content_index":0,"delta":"//8="}"#;
    /// match ServerEvent::decode(frame, Dialect::Ga).unwrap() {
    ///     ServerEvent::ResponseOutputAudioDelta(delta) => assert_eq!(delta.delta, "//8="),
    ///     other => panic!("unexpected {}", other.event_type()),
    /// }
    /// ```
    pub enum ServerEvent {
        /// `error`
        Error(ErrorEvent) = "error",
        /// `session.created` (beta also `transcription_session.created`)
        SessionCreated(SessionCreated) = "session.created",
        /// `session.updated` (beta also `transcription_session.updated`)
        SessionUpdated(SessionUpdated) = "session.updated",
        /// `conversation.created` (legacy)
        ConversationCreated(ConversationCreated) = "conversation.created",
        /// `conversation.item.created` (legacy in GA; in the beta dialect this name decodes to
        /// [`ServerEvent::ConversationItemAdded`])
        ConversationItemCreated(ConversationItemCreated) = "conversation.item.created",
        /// `conversation.item.added`
        ConversationItemAdded(ConversationItemAdded) = "conversation.item.added",
        /// `conversation.item.done` (GA only)
        ConversationItemDone(ConversationItemDone) = "conversation.item.done",
        /// `conversation.item.retrieved`
        ConversationItemRetrieved(ConversationItemRetrieved) = "conversation.item.retrieved",
        /// `conversation.item.truncated`
        ConversationItemTruncated(ConversationItemTruncated) = "conversation.item.truncated",
        /// `conversation.item.deleted`
        ConversationItemDeleted(ConversationItemDeleted) = "conversation.item.deleted",
        /// `conversation.item.input_audio_transcription.delta`
        ConversationItemInputAudioTranscriptionDelta(ConversationItemInputAudioTranscriptionDelta)
            = "conversation.item.input_audio_transcription.delta",
        /// `conversation.item.input_audio_transcription.completed`
        ConversationItemInputAudioTranscriptionCompleted(ConversationItemInputAudioTranscriptionCompleted)
            = "conversation.item.input_audio_transcription.completed",
        /// `conversation.item.input_audio_transcription.segment` (GA only)
        ConversationItemInputAudioTranscriptionSegment(ConversationItemInputAudioTranscriptionSegment)
            = "conversation.item.input_audio_transcription.segment",
        /// `conversation.item.input_audio_transcription.failed`
        ConversationItemInputAudioTranscriptionFailed(ConversationItemInputAudioTranscriptionFailed)
            = "conversation.item.input_audio_transcription.failed",
        /// `input_audio_buffer.committed`
        InputAudioBufferCommitted(InputAudioBufferCommitted) = "input_audio_buffer.committed",
        /// `input_audio_buffer.cleared`
        InputAudioBufferCleared(InputAudioBufferCleared) = "input_audio_buffer.cleared",
        /// `input_audio_buffer.speech_started`
        InputAudioBufferSpeechStarted(InputAudioBufferSpeechStarted) = "input_audio_buffer.speech_started",
        /// `input_audio_buffer.speech_stopped`
        InputAudioBufferSpeechStopped(InputAudioBufferSpeechStopped) = "input_audio_buffer.speech_stopped",
        /// `input_audio_buffer.timeout_triggered` (GA only)
        InputAudioBufferTimeoutTriggered(InputAudioBufferTimeoutTriggered) = "input_audio_buffer.timeout_triggered",
        /// `input_audio_buffer.dtmf_event_received` (GA only, SIP)
        InputAudioBufferDtmfEventReceived(InputAudioBufferDtmfEventReceived) = "input_audio_buffer.dtmf_event_received",
        /// `output_audio_buffer.started` (WebRTC/SIP)
        OutputAudioBufferStarted(OutputAudioBufferStarted) = "output_audio_buffer.started",
        /// `output_audio_buffer.stopped` (WebRTC/SIP)
        OutputAudioBufferStopped(OutputAudioBufferStopped) = "output_audio_buffer.stopped",
        /// `output_audio_buffer.cleared` (WebRTC/SIP)
        OutputAudioBufferCleared(OutputAudioBufferCleared) = "output_audio_buffer.cleared",
        /// `response.created`
        ResponseCreated(ResponseCreated) = "response.created",
        /// `response.done`
        ResponseDone(ResponseDone) = "response.done",
        /// `response.output_item.added`
        ResponseOutputItemAdded(ResponseOutputItemAdded) = "response.output_item.added",
        /// `response.output_item.done`
        ResponseOutputItemDone(ResponseOutputItemDone) = "response.output_item.done",
        /// `response.content_part.added`
        ResponseContentPartAdded(ResponseContentPartAdded) = "response.content_part.added",
        /// `response.content_part.done`
        ResponseContentPartDone(ResponseContentPartDone) = "response.content_part.done",
        /// `response.output_text.delta` (beta `response.text.delta`)
        ResponseOutputTextDelta(ResponseOutputTextDelta) = "response.output_text.delta" | "response.text.delta",
        /// `response.output_text.done` (beta `response.text.done`)
        ResponseOutputTextDone(ResponseOutputTextDone) = "response.output_text.done" | "response.text.done",
        /// `response.output_audio.delta` (beta `response.audio.delta`)
        ResponseOutputAudioDelta(ResponseOutputAudioDelta) = "response.output_audio.delta" | "response.audio.delta",
        /// `response.output_audio.done` (beta `response.audio.done`)
        ResponseOutputAudioDone(ResponseOutputAudioDone) = "response.output_audio.done" | "response.audio.done",
        /// `response.output_audio_transcript.delta` (beta `response.audio_transcript.delta`)
        ResponseOutputAudioTranscriptDelta(ResponseOutputAudioTranscriptDelta)
            = "response.output_audio_transcript.delta" | "response.audio_transcript.delta",
        /// `response.output_audio_transcript.done` (beta `response.audio_transcript.done`)
        ResponseOutputAudioTranscriptDone(ResponseOutputAudioTranscriptDone)
            = "response.output_audio_transcript.done" | "response.audio_transcript.done",
        /// `response.function_call_arguments.delta`
        ResponseFunctionCallArgumentsDelta(ResponseFunctionCallArgumentsDelta) = "response.function_call_arguments.delta",
        /// `response.function_call_arguments.done`
        ResponseFunctionCallArgumentsDone(ResponseFunctionCallArgumentsDone) = "response.function_call_arguments.done",
        /// `response.mcp_call_arguments.delta` (GA only)
        ResponseMcpCallArgumentsDelta(ResponseMcpCallArgumentsDelta) = "response.mcp_call_arguments.delta",
        /// `response.mcp_call_arguments.done` (GA only)
        ResponseMcpCallArgumentsDone(ResponseMcpCallArgumentsDone) = "response.mcp_call_arguments.done",
        /// `response.mcp_call.in_progress` (GA only)
        ResponseMcpCallInProgress(ResponseMcpCallInProgress) = "response.mcp_call.in_progress",
        /// `response.mcp_call.completed` (GA only)
        ResponseMcpCallCompleted(ResponseMcpCallCompleted) = "response.mcp_call.completed",
        /// `response.mcp_call.failed` (GA only)
        ResponseMcpCallFailed(ResponseMcpCallFailed) = "response.mcp_call.failed",
        /// `mcp_list_tools.in_progress` (GA only)
        McpListToolsInProgress(McpListToolsInProgress) = "mcp_list_tools.in_progress",
        /// `mcp_list_tools.completed` (GA only)
        McpListToolsCompleted(McpListToolsCompleted) = "mcp_list_tools.completed",
        /// `mcp_list_tools.failed` (GA only)
        McpListToolsFailed(McpListToolsFailed) = "mcp_list_tools.failed",
        /// `rate_limits.updated`
        RateLimitsUpdated(RateLimitsUpdated) = "rate_limits.updated",
    }
}

/// GA server events with no beta counterpart.
const GA_ONLY: &[&str] = &[
    "conversation.item.done",
    "conversation.item.input_audio_transcription.segment",
    "input_audio_buffer.timeout_triggered",
    "input_audio_buffer.dtmf_event_received",
    "response.mcp_call_arguments.delta",
    "response.mcp_call_arguments.done",
    "response.mcp_call.in_progress",
    "response.mcp_call.completed",
    "response.mcp_call.failed",
    "mcp_list_tools.in_progress",
    "mcp_list_tools.completed",
    "mcp_list_tools.failed",
];

impl ServerEvent {
    /// Decodes a server event written in `dialect`. Beta names and shapes decode to the same
    /// variants as GA; fields the models do not name are kept in `extra` and re-encoded.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the frame is not a JSON object with a string `type`, or is a known
    /// event whose body does not match (the error names the event and field). An unknown
    /// `type` is not an error: it is [`ServerEvent::Unknown`].
    pub fn decode(json: &str, dialect: Dialect) -> Result<Self, DecodeError> {
        // The hot event: the plain shape the service sends is scanned directly; anything
        // else is left to the full decoder, which gives the same result for the plain shape.
        if let Some(delta) = crate::fast::audio_delta(json) {
            return Ok(Self::ResponseOutputAudioDelta(delta));
        }
        Self::decode_full(json, dialect)
    }

    /// [`decode`](Self::decode) without the fast path: what the fast path must match.
    pub(crate) fn decode_full(json: &str, dialect: Dialect) -> Result<Self, DecodeError> {
        decode_in(json, dialect, Self::GA_TYPES, Self::decode_ga)
    }

    /// Writes the event in `dialect` (the mock server's side). `Unknown` events are written
    /// back as received.
    ///
    /// What one dialect cannot express is left out; see [the dialect notes](crate::dialect).
    pub fn encode(&self, dialect: Dialect) -> String {
        if let Self::Unknown(event) = self {
            return event.raw().to_owned();
        }
        match dialect {
            Dialect::Beta => encode_beta(
                self.event_type(),
                |name| self.encode_named(name),
                || self.to_ga_value(),
            ),
            // GA: the beta-only fields kept in the model are left out, the GA service refuses
            // them.
            _ => match self.without_beta_only() {
                Some(event) => event.encode_named(event.event_type()),
                None => self.encode_named(self.event_type()),
            },
        }
    }

    /// A copy without the fields only the beta dialect has, or `None` when there are none.
    fn without_beta_only(&self) -> Option<Self> {
        match self {
            Self::SessionCreated(e) => e.session.without_beta_only().map(|session| {
                Self::SessionCreated(SessionCreated::new(e.event_id.clone(), session))
            }),
            Self::SessionUpdated(e) => e.session.without_beta_only().map(|session| {
                Self::SessionUpdated(SessionUpdated::new(e.event_id.clone(), session))
            }),
            Self::ResponseCreated(e) if e.response.temperature.is_some() => {
                let mut e = e.clone();
                e.response.temperature = None;
                Some(Self::ResponseCreated(e))
            }
            Self::ResponseDone(e) if e.response.temperature.is_some() => {
                let mut e = e.clone();
                e.response.temperature = None;
                Some(Self::ResponseDone(e))
            }
            _ => None,
        }
    }

    /// Whether a server of `dialect` sends this event at all. GA-only events
    /// (`conversation.item.done`, MCP, DTMF, …) are `false` for [`Dialect::Beta`]; a beta
    /// peer should skip them rather than send them under their GA names. `Unknown` events are
    /// `true`.
    pub fn exists_in(&self, dialect: Dialect) -> bool {
        match dialect {
            Dialect::Beta => !GA_ONLY.contains(&self.event_type()),
            _ => true,
        }
    }

    /// The server's `event_id` (absent only on `input_audio_buffer.dtmf_event_received` and
    /// on `Unknown` events).
    pub fn event_id(&self) -> Option<&EventId> {
        Some(match self {
            Self::Error(e) => &e.event_id,
            Self::SessionCreated(e) => &e.event_id,
            Self::SessionUpdated(e) => &e.event_id,
            Self::ConversationCreated(e) => &e.event_id,
            Self::ConversationItemCreated(e) => &e.event_id,
            Self::ConversationItemAdded(e) => &e.event_id,
            Self::ConversationItemDone(e) => &e.event_id,
            Self::ConversationItemRetrieved(e) => &e.event_id,
            Self::ConversationItemTruncated(e) => &e.event_id,
            Self::ConversationItemDeleted(e) => &e.event_id,
            Self::ConversationItemInputAudioTranscriptionDelta(e) => &e.event_id,
            Self::ConversationItemInputAudioTranscriptionCompleted(e) => &e.event_id,
            Self::ConversationItemInputAudioTranscriptionSegment(e) => &e.event_id,
            Self::ConversationItemInputAudioTranscriptionFailed(e) => &e.event_id,
            Self::InputAudioBufferCommitted(e) => &e.event_id,
            Self::InputAudioBufferCleared(e) => &e.event_id,
            Self::InputAudioBufferSpeechStarted(e) => &e.event_id,
            Self::InputAudioBufferSpeechStopped(e) => &e.event_id,
            Self::InputAudioBufferTimeoutTriggered(e) => &e.event_id,
            Self::InputAudioBufferDtmfEventReceived(_) => return None,
            Self::OutputAudioBufferStarted(e) => &e.event_id,
            Self::OutputAudioBufferStopped(e) => &e.event_id,
            Self::OutputAudioBufferCleared(e) => &e.event_id,
            Self::ResponseCreated(e) => &e.event_id,
            Self::ResponseDone(e) => &e.event_id,
            Self::ResponseOutputItemAdded(e) => &e.event_id,
            Self::ResponseOutputItemDone(e) => &e.event_id,
            Self::ResponseContentPartAdded(e) => &e.event_id,
            Self::ResponseContentPartDone(e) => &e.event_id,
            Self::ResponseOutputTextDelta(e) => &e.event_id,
            Self::ResponseOutputTextDone(e) => &e.event_id,
            Self::ResponseOutputAudioDelta(e) => &e.event_id,
            Self::ResponseOutputAudioDone(e) => &e.event_id,
            Self::ResponseOutputAudioTranscriptDelta(e) => &e.event_id,
            Self::ResponseOutputAudioTranscriptDone(e) => &e.event_id,
            Self::ResponseFunctionCallArgumentsDelta(e) => &e.event_id,
            Self::ResponseFunctionCallArgumentsDone(e) => &e.event_id,
            Self::ResponseMcpCallArgumentsDelta(e) => &e.event_id,
            Self::ResponseMcpCallArgumentsDone(e) => &e.event_id,
            Self::ResponseMcpCallInProgress(e) => &e.event_id,
            Self::ResponseMcpCallCompleted(e) => &e.event_id,
            Self::ResponseMcpCallFailed(e) => &e.event_id,
            Self::McpListToolsInProgress(e) => &e.event_id,
            Self::McpListToolsCompleted(e) => &e.event_id,
            Self::McpListToolsFailed(e) => &e.event_id,
            Self::RateLimitsUpdated(e) => &e.event_id,
            Self::Unknown(_) => return None,
        })
    }

    /// The `error` payload, if this is an `error` event.
    pub fn as_error(&self) -> Option<&crate::ApiError> {
        match self {
            Self::Error(e) => Some(&e.error),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_small_on_the_per_frame_path() {
        // Big payloads (sessions, responses, response overrides) are boxed so that moving an
        // audio delta does not move a session configuration (and an `mcp_call` item and a
        // content part event's part, so that every struct's `Extra` fits). Over 256 bytes,
        // moving the event out of `decode` takes memcpy's loop, ~60 instructions more per
        // audio delta (callgrind).
        assert!(
            size_of::<ServerEvent>() <= 256,
            "{}",
            size_of::<ServerEvent>()
        );
        assert!(
            size_of::<crate::ClientEvent>() <= 256,
            "{}",
            size_of::<crate::ClientEvent>()
        );
    }
}
