//! Ready-made legs for Twilio Media Streams and the OpenAI Realtime API.
//!
//! - [`twilio`] (feature `twilio`): [`TwilioLeg`](twilio::TwilioLeg), a [`CallLeg`] over a
//!   Twilio media-stream WebSocket: the protocol crate's `MediaSocket` (hyper, axum) or any
//!   socket of text frames (a user's server). With the feature `twilio-rest` it can hang up and hand
//!   calls over through Twilio's REST API.
//! - [`openai`] (feature `openai`): [`OpenAiLeg`](openai::OpenAiLeg), an [`AgentLeg`] over an
//!   OpenAI Realtime session (OpenAI, Azure or any URL such as the mock server), in either
//!   dialect.
//! - [`openai_live`] (feature `openai`): [`OpenAiLiveLeg`](openai_live::OpenAiLiveLeg), an
//!   [`AgentLeg`] over an OpenAI GPT-Live session (`gpt-live-1`), G.711 straight through.
//!
//! Both follow the mapping tables in [`guide`](crate::guide): every message of the
//! provider's protocol becomes one of the bridge's events, and what cannot be read is
//! logged and skipped (with a counter), never the end of a healthy call.
//!
//! [`CallLeg`]: crate::CallLeg
//! [`AgentLeg`]: crate::AgentLeg

#[cfg(feature = "openai")]
pub mod openai;
#[cfg(feature = "openai")]
pub mod openai_live;
#[cfg(feature = "twilio")]
pub mod twilio;
