//! The two dialects of the Realtime API on the wire, and how one set of Rust types maps to
//! both.
//!
//! [`Dialect::Ga`] is the current interface and the default. [`Dialect::Beta`] is the
//! interface retired in May 2026 (`OpenAI-Beta: realtime=v1`), still needed for recorded
//! traffic, compatible third-party servers and migration. Choosing the dialect is one setting:
//! the Rust events are the same, only their JSON differs.
//!
//! # Names
//!
//! | GA | beta |
//! |---|---|
//! | `response.output_text.delta` / `.done` | `response.text.delta` / `.done` |
//! | `response.output_audio.delta` / `.done` | `response.audio.delta` / `.done` |
//! | `response.output_audio_transcript.delta` / `.done` | `response.audio_transcript.delta` / `.done` |
//! | `conversation.item.added` | `conversation.item.created` |
//! | `session.update` / `.created` / `.updated` with a transcription session | `transcription_session.update` / `.created` / `.updated` |
//!
//! Decoding accepts both names of an event in both dialects, so recorded beta traffic read as
//! GA still gives the GA variants (`response.audio.delta` decodes to
//! [`ServerEvent::ResponseOutputAudioDelta`](crate::ServerEvent::ResponseOutputAudioDelta)).
//! A name that exists only in beta (`transcription_session.*`) is read with the beta shape in
//! either dialect.
//!
//! `conversation.item.created` is special: GA keeps it as a legacy event
//! ([`ServerEvent::ConversationItemCreated`](crate::ServerEvent::ConversationItemCreated)),
//! while in the beta dialect it is the one item event and decodes to
//! [`ServerEvent::ConversationItemAdded`](crate::ServerEvent::ConversationItemAdded), so code
//! written for GA sees the same variant in both dialects.
//!
//! # Shapes
//!
//! - The session: GA nests audio settings (`audio.input.format`, `audio.output.voice`, …) and
//!   writes `output_modalities` and `max_output_tokens`; beta is flat (`input_audio_format`,
//!   `voice`, `turn_detection`, `modalities`, `max_response_output_tokens`, …).
//! - Audio formats: GA `{"type":"audio/pcmu"}`, beta `"g711_ulaw"` (see
//!   [`AudioFormat`](crate::AudioFormat)).
//! - Modalities: GA `["audio"]` (audio includes its transcript) is beta `["text","audio"]`;
//!   `["text"]` is the same in both.
//! - `tool_choice`: GA `{"type":"function","name":"f"}` is beta `"f"`.
//! - Responses: GA `audio.output.{format,voice}` and `output_modalities` are beta
//!   `output_audio_format`, `voice`, `modalities`; `response.create`'s `max_output_tokens` is
//!   beta `max_response_output_tokens`.
//! - Assistant content parts: GA `output_text` / `output_audio`, beta `text` / `audio`.
//!
//! # What has no counterpart
//!
//! [`encode`](crate::ServerEvent::encode) cannot fail, so what one dialect cannot say is
//! dropped, never invented:
//!
//! - GA to beta, dropped: `session.type`, `truncation`, `prompt`, `reasoning`,
//!   `parallel_tool_calls`, `include` (realtime sessions), MCP tools and MCP tool choices, a
//!   custom voice object, an audio format beta cannot name, the `languages`, `keywords` and
//!   `delay` of transcription, the `strength` of noise reduction, and the `name` of
//!   `response.function_call_arguments.done`.
//! - GA-only events (`conversation.item.done`, `input_audio_buffer.timeout_triggered`,
//!   `input_audio_buffer.dtmf_event_received`, `…transcription.segment`, the MCP events) keep
//!   their GA name in a beta encoding; a beta peer ignores them.
//!   [`ServerEvent::exists_in`](crate::ServerEvent::exists_in) tells them apart so a beta
//!   peer (such as a mock server) can skip them.
//! - Beta to GA, dropped from the encoding: `temperature`, `client_secret` and the `modalities`
//!   of a transcription session. They are kept in
//!   the model ([`RealtimeSession::temperature`](crate::RealtimeSession::temperature),
//!   [`ResponseParams::temperature`](crate::ResponseParams::temperature), …) so a beta frame
//!   re-encodes as beta unchanged, but a GA encoding leaves them out because the GA service
//!   refuses them. Strict decoding ([`ClientEvent::decode_strict`](crate::ClientEvent::decode_strict))
//!   refuses them on a GA socket with `unknown_parameter`, as the service does.
//! - Beta items and turn detection are flat objects in the beta SDK types; they are read by
//!   their `type` like GA, so fields of another type (`arguments` on a `message`, `eagerness`
//!   or, on `semantic_vad`, `threshold`/`prefix_padding_ms`/`silence_duration_ms`) are not
//!   named by the struct: like any field this crate does not know, in either dialect, they
//!   are kept in its `extra` ([`Extra`](crate::Extra)) and written back where they came, so
//!   a round trip in one dialect loses nothing. (Three closed shapes keep no extra members:
//!   an audio format, a custom voice `{id}`, a tool choice object.)

pub(crate) mod beta;

use std::fmt;

/// Which interface of the Realtime API a frame is written in.
///
/// # Examples
///
/// ```
/// use openai_realtime::{Dialect, ServerEvent};
///
/// let beta = r#"{"type":"response.audio.delta","event_id":"e1","response_id":"r1",
///     "item_id":"i1","output_index":0,"content_index":0,"delta":"//8="}"#;
/// let event = ServerEvent::decode(beta, Dialect::Beta).unwrap();
/// assert_eq!(event.event_type(), "response.output_audio.delta");
/// assert!(event.encode(Dialect::Beta).starts_with(r#"{"type":"response.audio.delta""#));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Dialect {
    /// The GA interface (since August 2025): the only one the service accepts today.
    #[default]
    Ga,
    /// The beta interface (`OpenAI-Beta: realtime=v1`), retired in May 2026.
    Beta,
}

impl Dialect {
    /// `"ga"` or `"beta"`, for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ga => "ga",
            Self::Beta => "beta",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The beta name of a GA event whose name differs (payload unchanged or rewritten).
pub(crate) fn ga_to_beta_name(ga: &str) -> Option<&'static str> {
    Some(match ga {
        "response.output_text.delta" => "response.text.delta",
        "response.output_text.done" => "response.text.done",
        "response.output_audio.delta" => "response.audio.delta",
        "response.output_audio.done" => "response.audio.done",
        "response.output_audio_transcript.delta" => "response.audio_transcript.delta",
        "response.output_audio_transcript.done" => "response.audio_transcript.done",
        "conversation.item.added" => "conversation.item.created",
        _ => return None,
    })
}
