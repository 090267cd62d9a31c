//! Typed OpenAI Realtime API events in both dialects (GA and the retired beta), an async
//! client that explains every refusal, and a faithful mock server.
//!
//! # Public names (models layer, no tokio)
//!
//! - [`Dialect`] `{ Ga, Beta }` (default `Ga`); the mapping between them is documented in
//!   [`dialect`].
//! - [`ClientEvent`] (what the client sends) with [`ClientEvent::decode`],
//!   [`ClientEvent::encode`], [`ClientEvent::decode_strict`] (the service's refusals, as a
//!   [`RequestError`]) and constructors: [`ClientEvent::session_update`],
//!   [`ClientEvent::input_audio_append`], [`ClientEvent::input_audio_commit`],
//!   [`ClientEvent::truncate`], [`ClientEvent::function_call_output`],
//!   [`ClientEvent::response_create`], [`ClientEvent::response_cancel`], …
//!   The per-event structs are in [`client_event`].
//! - [`ServerEvent`] (what the service sends) with [`ServerEvent::decode`],
//!   [`ServerEvent::encode`], [`ServerEvent::exists_in`], [`ServerEvent::as_error`]; the
//!   per-event structs are in [`server_event`] (e.g. [`server_event::ResponseOutputAudioDelta`]).
//! - Both enums: `event_type()` (GA name), `event_id()`, and `Unknown(`[`UnknownEvent`]`)`.
//! - Session configuration: [`Session`] (`Realtime` | `Transcription`), [`RealtimeSession`]
//!   (with [`RealtimeSession::phone_call`], G.711 mu-law both ways and server VAD),
//!   [`TranscriptionSession`], [`AudioConfig`], [`AudioInput`], [`AudioOutput`],
//!   [`AudioFormat`], [`Voice`], [`TurnDetection`], [`ServerVad`], [`SemanticVad`],
//!   [`Transcription`], [`NoiseReduction`], [`Modality`], [`MaxOutputTokens`], [`Tool`],
//!   [`FunctionTool`], [`ToolChoice`].
//! - Items and responses: [`Item`], [`MessageItem`], [`ContentPart`], [`ResponseParams`],
//!   [`Response`], [`Usage`], [`ResponseStatus`].
//! - Errors: [`DecodeError`] (a frame we could not read), [`ApiError`] (the `error` event's
//!   payload), [`RequestError`] (a client event the service would refuse).
//! - Ids: [`EventId`], [`ItemId`], [`ResponseId`], [`CallId`], [`ConversationId`],
//!   [`SessionId`].
//! - [`live`]: OpenAI's GPT-Live protocol (`gpt-live-1`), its own event enums and session
//!   config beside the Realtime ones, and (feature `client`) its client, `live::client`.
//! - [`models`]: the [`Model`](models::Model) of `GET /v1/models/{model}` and the
//!   [`Retirement`](models::Retirement) verdict on its `shutdown_date` (the lookup is
//!   `client::retrieve_model`).
//!
//! # Layout
//!
//! - [`client_event`], [`server_event`]: the two event enums and one struct per wire event.
//! - [`resource`]: payloads shared by events (session, audio formats, voices, tools, items,
//!   responses).
//! - [`dialect`]: GA and beta on the wire, and what each cannot express.
//! - Private: `codec` (peek the `type`, then deserialize the one struct; field paths in
//!   errors), `validate` (the service's refusals), `dialect::beta` (the beta JSON rewrite).
//! - `client` and `mock` (features `client`, `mock-server`): the network side, on tokio.
//! - Integration feature `rustls-0_23` (see [Stability](#stability)): with `client`,
//!   `Config::with_root_certificates` and `Config::with_tls_config` take rustls 0.23's
//!   own types; with `mock-server`, `MockServer::root_certificates` and
//!   `MockServer::certificate` give them. Without it, roots are DER or PEM bytes
//!   (`Config::with_root_certificate_der`, `MockServer::certificate_der`).
//!
//! # Stability
//!
//! The types of this crate are ours to keep stable: the events and resources, the
//! client's `Config`, `Connection` and `Error`, the mock server. Where the API names
//! another crate's types, that crate is at 1.0 or later and is the common vocabulary of
//! its field: `serde` and `serde_json` (1) for events and raw JSON, `http` (1) for the
//! status of a refused upgrade (`Error::status`), `url` (2) for the request URL, and the
//! `Stream` and `Sink` traits of `futures` 0.3 that `Receiver::into_stream` and
//! `Sender::into_sink` return: the traits every async library implements, stable since
//! 2019 (a `futures` 1.0 would be a major version of ours).
//!
//! The integration feature is the exception, named after the dependency and its version:
//! what it adds is in rustls's types and follows rustls's releases, not ours. A rustls
//! 0.24 would come as a `rustls-0_24` feature beside it, and the old one may go in our
//! next major version. Which WebSocket and TLS libraries the client uses inside is ours
//! to change.
//!
//! # Example
//!
//! ```
//! use openai_realtime::{ClientEvent, Dialect, RealtimeSession, ServerEvent};
//!
//! // The session a phone bridge asks for: G.711 mu-law both ways, server VAD.
//! let update = ClientEvent::session_update(RealtimeSession::phone_call());
//! let frame = update.encode(Dialect::Ga);
//! assert!(frame.contains(r#""type":"realtime""#));
//!
//! // Audio from the model, kept as base64 text for Twilio.
//! let frame = r#"{"type":"response.output_audio.delta","event_id":"event_C3","response_id":"resp_C1","item_id":"item_CcXk1","output_index":0,"content_index":0,"delta":"//////////8="}"#;
//! let ServerEvent::ResponseOutputAudioDelta(audio) = ServerEvent::decode(frame, Dialect::Ga)? else {
//!     panic!("an audio delta decodes to its variant");
//! };
//! assert_eq!(audio.delta, "//////////8=");
//! # Ok::<(), openai_realtime::DecodeError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// --- models and dialects (owner: models) ---
pub mod client_event;
mod codec;
pub mod dialect;
mod error;
mod fast;
mod ids;
pub mod live;
pub mod models;
mod open_enum;
pub mod resource;
pub mod server_event;
mod unknown;
mod validate;

#[cfg(test)]
mod proptests;

pub use client_event::ClientEvent;
pub use dialect::Dialect;
pub use error::{ApiError, DecodeError, DecodeErrorKind, RequestError, RequestErrorCode};
pub use ids::{CallId, ConversationId, EventId, ItemId, ResponseId, SessionId};
pub use live::{Extra, named_only};
pub use open_enum::UnknownValue;
pub use resource::audio_format::AudioFormat;
pub use resource::item::{
    ContentPart, ContentPartType, FunctionCallItem, FunctionCallOutputItem, ImageDetail, Item,
    ItemReference, ItemStatus, McpApprovalRequestItem, McpApprovalResponseItem, McpCallItem,
    McpCodedError, McpError, McpListToolsItem, McpToolExecutionError, McpToolInfo, MessageItem,
    Role,
};
pub use resource::response::{
    CachedTokensDetails, ConversationMode, InputTokenDetails, OutputTokenDetails, Response,
    ResponseAudio, ResponseAudioOutput, ResponseParams, ResponseStatus, StatusDetails, StatusError,
    StatusReason, Usage,
};
pub use resource::session::{
    AudioConfig, AudioInput, AudioOutput, Eagerness, MaxOutputTokens, Modality, NoiseReduction,
    NoiseReductionType, Prompt, RealtimeSession, Reasoning, ReasoningEffort, RetentionRatio,
    SemanticVad, ServerVad, Session, TokenLimits, Tracing, TracingConfig, Transcription,
    TranscriptionAudio, TranscriptionDelay, TranscriptionModel, TranscriptionSession, Truncation,
    TurnDetection,
};
pub use resource::tool::{FunctionTool, McpTool, Tool, ToolChoice};
pub use resource::voice::Voice;
pub use server_event::ServerEvent;
pub use unknown::UnknownEvent;

// --- network features (owner: net) ---
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "mock-server")]
pub mod mock;

// The README's examples compile and run as doctests.
#[cfg(all(doctest, feature = "client"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
