//! OpenAI GPT-Live (`gpt-live-1`, `gpt-live-1.1`): typed events of the Live protocol, the
//! models layer (no tokio, no network).
//!
//! Live is a different protocol from the Realtime API: a WebSocket to
//! `wss://api.openai.com/v1/live/sessions` with no query parameters, [`ClientEvent::SessionStart`]
//! first and [`ServerEvent::SessionStarted`] before any audio, one audio format for both
//! directions chosen at start (G.711 mu-law or A-law at 8000 Hz, PCM16 at 16 or 24 kHz), a
//! continuous real-time paced output track, transcripts as timeline fragments, and
//! delegation of tasks (to your application, a Responses model, or the Decision API) instead
//! of voice-model tools. Turn-taking and barge-in are the service's: there is no VAD setting,
//! truncation, response cancel or item id on audio.
//!
//! It is a module of this crate rather than a sibling crate because it shares the crate's
//! API key handling, its error advice and its mock machinery with the Realtime side, and its
//! models reuse [`DecodeError`](crate::DecodeError), [`UnknownEvent`](crate::UnknownEvent),
//! the ids ([`EventId`](crate::EventId), [`ItemId`](crate::ItemId),
//! [`CallId`](crate::CallId)) and the decoder (peek the `type`, then deserialize the one
//! struct; a bad body names the field path).
//!
//! Ground truth: the Live types of the official Python SDK (`openai` 3.57.0,
//! `openai/types/live/`). Names are the wire's (`session.output_audio.delta` is
//! [`ServerEvent::OutputAudioDelta`], body [`OutputAudioDelta`]).
//!
//! # Round trip keeps what came
//!
//! Every struct keeps the members its model does not name in an [`Extra`], and writes them
//! back: `encode(decode(frame))` equals `frame` as a JSON value, so a proxy, a recorder or a
//! logger loses nothing. Unknown event types keep their raw JSON; unknown values of open
//! string sets (voices, models, close reasons) keep their string.
//!
//! One difference is allowed, and only by `null`s: an optional member that a model types
//! (an `Option` field) reads `null` as absent and writes it back absent, as the SDK and the
//! service read both alike. Members kept as JSON ([`serde_json::Value`] fields, `extra`) keep
//! their `null`s, and so do the members the SDK documents as `null` when they do not apply:
//! the `delegation_id` of the three appends (required by the service), and of
//! `response.event`; `decision.event`'s `delegation_id`, `trigger_id` and sources; a refusal's
//! `name`.
//!
//! # Example: a phone bridge's side of a Live session
//!
//! ```
//! use openai_realtime::live::{ClientEvent, CloseReason, ServerEvent, SessionConfig};
//!
//! // 1. Start: G.711 mu-law at 8000 Hz both ways, so Twilio payloads pass through untouched.
//! let start = ClientEvent::session_start(
//!     SessionConfig::phone_call().with_instructions("You confirm dental appointments."),
//! );
//! assert!(start.encode().contains(r#""format":{"type":"audio/pcmu","rate":8000}"#));
//!
//! // 2. The service answers with the session it resolved.
//! let started = r#"{"type":"session.started","event_id":"event_1","session":{"id":"live_1","expires_at":1796300000,"model":"gpt-live-1","status":"active","audio":{"format":{"type":"audio/pcmu","rate":8000}},"input":[]}}"#;
//! let ServerEvent::SessionStarted(started) = ServerEvent::decode(started)? else {
//!     panic!("session.started decodes to its variant");
//! };
//! assert!(started.session.format().is_some_and(|f| f.is_twilio_native()));
//!
//! // 3. Caller audio in (a Twilio `media.payload` as is), model audio out.
//! let append = ClientEvent::input_audio_append("//////////8=");
//! assert_eq!(append.encode(), r#"{"type":"session.input_audio.append","audio":"//////////8="}"#);
//! let ServerEvent::OutputAudioDelta(audio) =
//!     ServerEvent::decode(r#"{"type":"session.output_audio.delta","delta":"fn5+fn5+fn4="}"#)?
//! else {
//!     panic!("an audio delta");
//! };
//! assert_eq!(audio.delta, "fn5+fn5+fn4=");
//!
//! // 4. Hang up: close, and read why the session ended.
//! assert_eq!(ClientEvent::session_close().encode(), r#"{"type":"session.close"}"#);
//! let closed = r#"{"type":"session.closed","event_id":"event_9","reason":"close_requested","session":{"id":"live_1","expires_at":1796300000,"model":"gpt-live-1","status":"active"},"usage":{"seconds":63}}"#;
//! let ServerEvent::SessionClosed(closed) = ServerEvent::decode(closed)? else {
//!     panic!("session.closed");
//! };
//! assert_eq!(closed.reason, CloseReason::CloseRequested);
//! # Ok::<(), openai_realtime::DecodeError>(())
//! ```
//!
//! # Layout
//!
//! - [`client_event`], [`server_event`]: the two event enums and one struct per wire event.
//! - Session payloads: [`SessionConfig`] (with [`SessionConfig::phone_call`]),
//!   [`SessionResource`], [`SessionUpdateConfig`], [`ForkSessionConfig`], [`Audio`],
//!   [`AudioFormat`], [`Voice`], [`InitialItem`].
//! - Delegation: [`Delegation`], [`DelegationUpdate`], [`ResponsesConfig`], [`FunctionTool`],
//!   [`DecisionsConfig`].
//! - Decisions: [`DecisionQuestion`], [`Trigger`], [`DecisionItem`], and the answers of a
//!   `decision.event`: [`Decision`], [`DecisionAnswer`].
//! - WebRTC data-channel limits: [`ClientConfig`], [`Allowed`].
//! - [`client`] (feature `client`): connect, `session.start`, `session.started`, the send and
//!   receive halves, `session.close` and `session.closed`, every refusal a typed error.
//! - [`Extra`], and the ids only Live has: [`LiveSessionId`], [`DelegationId`],
//!   [`TriggerId`].

#[cfg(feature = "client")]
pub mod client;
pub mod client_event;
mod decision;
mod delegation;
mod event_enum;
mod extra;
mod ids;
pub mod server_event;
mod session;

pub use client_event::ClientEvent;
pub use decision::{
    ChoiceAnswer, ChoiceProbability, ChoiceQuestion, ChoiceValue, Decision, DecisionAnswer,
    DecisionChoiceOption, DecisionCompleted, DecisionCustomToolCall, DecisionFunctionCall,
    DecisionInstructions, DecisionItem, DecisionMessage, DecisionOutcome, DecisionQuestion,
    DecisionRole, DecisionToolOutput, DecisionTrigger, DecisionUsage, InputTokensDetails,
    MessageContent, OutputTokensDetails, PredicateAnswer, PredicateQuestion, RefusalAnswer,
    ScoreAnswer, ScoreLevel, ScoreProbability, ScoreQuestion, Trigger, TriggerQuestions,
};
pub use delegation::{
    ClientDelegation, DecisionsConfig, DecisionsDelegation, DecisionsDelegationUpdate,
    DecisionsUpdateConfig, Delegation, DelegationUpdate, FunctionTool, Reasoning, ResponsesConfig,
    ResponsesDelegation, ResponsesDelegationUpdate, ResponsesTool, ResponsesUpdateConfig,
    TextConfig,
};
pub use extra::Extra;
pub use extra::named_only;
pub use ids::{DelegationId, LiveSessionId, TriggerId};
pub use server_event::{
    CloseReason, DelegationTarget, LiveError, OutputAudioDelta, ServerEvent, SessionUsage,
};
pub use session::{
    Allowed, Audio, AudioFormat, AudioOutput, BuiltInVoice, ClientConfig, CustomVoice,
    DataChannelConfig, ForkSessionConfig, InitialContent, InitialItem, Model, Rate, Role,
    ServerEventSelector, SessionConfig, SessionResource, SessionStatus, SessionUpdateConfig, Voice,
};

#[cfg(test)]
mod tests;
