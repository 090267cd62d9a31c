//! A provider-neutral bridge between a phone call and a speech-to-speech AI agent.
//!
//! A [`Bridge`] runs one call between a telephony leg ([`CallLeg`]) and an agent leg
//! ([`AgentLeg`]). The [`adapter`]s provide both for Twilio Media Streams ([`TwilioLeg`],
//! feature `twilio`) and the OpenAI Realtime API ([`OpenAiLeg`], feature `openai`), both on
//! by default. A complete phone agent server, with the check every public one needs: each
//! media stream must carry Twilio's `X-Twilio-Signature` for your public URL, so nobody but
//! Twilio (holding your auth token) can open an AI session on your key.
//!
//! ```no_run
//! # #[cfg(all(feature = "twilio", feature = "openai"))]
//! # mod server {
//! use std::sync::Arc;
//!
//! use axum::extract::{Request, State};
//! use axum::{Router, body::Body, response::Response, routing::get};
//! use voice_bridge::openai_realtime::client::{ApiKey, Config};
//! use voice_bridge::twilio_media_stream::AuthToken;
//! use voice_bridge::twilio_media_stream::server::{self, PublicBase, Verifier};
//! use voice_bridge::{Bridge, OpenAiLeg, TwilioLeg};
//!
//! struct App {
//!     verifier: Verifier,
//!     openai_key: ApiKey,
//! }
//!
//! // Twilio streams each call here, from TwiML such as
//! // `<Connect><Stream url="wss://abc123.ngrok.app/media-stream"/></Connect>`.
//! async fn media_stream(State(app): State<Arc<App>>, mut request: Request) -> Response {
//!     // 403 with the reason (never a secret) unless Twilio signed this upgrade.
//!     let (response, pending) = match server::accept::<_, Body>(&mut request, &app.verifier) {
//!         Ok(accepted) => accepted,
//!         Err(refusal) => {
//!             tracing::warn!(%refusal, "media stream refused");
//!             return refusal.into_response();
//!         }
//!     };
//!     let openai_key = app.openai_key.clone();
//!     tokio::spawn(async move {
//!         let socket = match pending.socket().await {
//!             Ok(socket) => socket,
//!             Err(error) => return tracing::warn!(%error, "media stream upgrade failed"),
//!         };
//!         let call = TwilioLeg::new(socket);
//!         let agent = OpenAiLeg::builder(Config::openai(openai_key))
//!             .instructions("You are the clinic's receptionist. Keep answers short.")
//!             .build(); // G.711 both ways: Twilio's audio passes through untouched
//!         let report = Bridge::new(call, agent).run().await;
//!         tracing::info!(outcome = %report.outcome, "call ended");
//!     });
//!     response // 101 Switching Protocols
//! }
//!
//! pub async fn serve(auth_token: AuthToken, openai_key: ApiKey) -> Result<(), Box<dyn std::error::Error>> {
//!     // The host Twilio reaches (a tunnel or TLS proxy in front of this server): Twilio
//!     // signs that URL, not the loopback address the request arrives on.
//!     let public = PublicBase::parse("abc123.ngrok.app")?;
//!     let app = Arc::new(App { verifier: Verifier::new(auth_token, public), openai_key });
//!     let router = Router::new().route("/media-stream", get(media_stream)).with_state(app);
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:5050").await?;
//!     axum::serve(listener, router).await?;
//!     Ok(())
//! }
//! # }
//! ```
//!
//! [`TwilioLeg::new`] takes any socket of text and close frames, and
//! `twilio_media_stream::server::accept_unsigned` skips the check: use either only where
//! the network itself keeps strangers out (a test on loopback, a private link), never on a
//! public address.
//!
//! Here both legs are in-memory stand-ins ([`memory`]), to show what goes through a bridge:
//!
//! ```
//! use voice_bridge::audio::{AudioChunk, AudioFormat};
//! use voice_bridge::{AgentCommand, AgentEvent, AgentReady, Bridge, CallEvent, CallStart};
//! use voice_bridge::{LegEnd, ToolCall, ToolReply, memory, tool_fn};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let (call, phone) = memory::call_leg(64); // the telephony side
//! let (agent, mut model) = memory::agent_leg(64); // the AI side
//! let tools = tool_fn(|call: ToolCall| async move {
//!     Ok(ToolReply::new(serde_json::json!({ "confirmed": call.arguments["id"] })))
//! });
//! let bridge = tokio::spawn(Bridge::new(call, agent).with_tools(tools).run());
//!
//! let mulaw = AudioFormat::MuLaw;
//! phone.send(CallEvent::Started(CallStart::new("CA1", "MZ1", mulaw))).await.unwrap();
//! model.send(AgentEvent::Ready(AgentReady::new(mulaw, mulaw))).await.unwrap();
//! let frame = AudioChunk::from_base64(mulaw, "////".repeat(54)).unwrap(); // 20 ms
//! phone.send(CallEvent::Audio(frame.clone())).await.unwrap();
//! // Same format both ways: the caller's base64 reaches the agent untouched.
//! assert_eq!(model.recv().await, Some(AgentCommand::Audio(frame)));
//!
//! phone.send(CallEvent::Ended(LegEnd::Finished)).await.unwrap(); // the caller hangs up
//! assert_eq!(model.recv().await, Some(AgentCommand::Close)); // so the AI session closes
//! let report = bridge.await.unwrap();
//! println!("{}", serde_json::to_string_pretty(&report).unwrap());
//! # }
//! ```
//!
//! # What the bridge gets right
//!
//! - **Barge-in**: when the caller speaks over the agent, the caller's playback is cleared
//!   and the agent's item is truncated at what the caller *heard* (from echoed playback
//!   marks, to the frame), even when an earlier item is still playing while a later one
//!   arrives. See [`guide`].
//! - **Lifecycle**: either leg ending closes the other within one second; the AI session
//!   never outlives the call.
//! - **Early audio**: the caller's first words, spoken while the agent is still
//!   connecting, are held and delivered in order.
//! - **Failures**: if the agent refuses, closes or fails, the caller gets a fallback
//!   (a prompt, or the call handed back to its own instructions), never silence.
//! - **Audio**: G.711 mu-law passes through as base64 untouched when both legs speak it;
//!   other pairs are transcoded ([`audio`]).
//! - **Report**: every call ends with a [`CallReport`]: outcome, transcript, tool calls,
//!   barge-ins, latencies, counters, errors.
//!
//! # Layout
//!
//! - [`leg`]: the [`CallLeg`] and [`AgentLeg`] traits and how a leg ends ([`LegEnd`]).
//! - [`CallEvent`]/[`CallCommand`] and [`AgentEvent`]/[`AgentCommand`]: each leg's
//!   vocabulary, in the words of a call.
//! - [`Engine`]: the sans-IO state machine holding every rule (no tokio).
//! - [`Bridge`]: the tokio driver that runs an engine between two legs.
//! - [`observer`]: watch a call live ([`Bridge::with_observer`]): every event and command
//!   as it passes.
//! - [`recording`]: the call as the caller heard it, a stereo WAV (caller left, agent
//!   right) on the caller's clock, with bounded memory.
//! - [`ToolHandler`]: the user's async handler for the agent's tool calls.
//! - [`audio`]: formats, G.711, resampling, transcoding, WAV.
//! - [`report`]: the [`CallReport`] types.
//! - [`memory`]: in-memory legs for tests and demos.
//! - [`guide`]: design notes and what a provider adapter must do.
//! - [`adapter`]: the ready-made legs (below).
//!
//! # Adapters and features
//!
//! - `twilio` (default): [`TwilioLeg`] over a Twilio Media Streams WebSocket: the
//!   `MediaSocket` of `twilio_media_stream::server::accept` (hyper, axum) or any socket of
//!   text and close frames (your framework's, your own). It reads up to `start` on request
//!   ([`TwilioLeg::wait_start`]) so the agent can be chosen from the call's parameters,
//!   verifies a signed call context if asked (a refusal closes with 1008 and the reason),
//!   and logs, counts and skips bad input.
//! - `twilio-rest`: the Twilio leg hangs up and hands calls over to TwiML or a TwiML URL
//!   through Twilio's REST API (`TwilioLeg::with_rest`); without it, hang-up and
//!   [`HandOver::Continue`] close the stream so the TwiML after `</Connect>` runs.
//! - `openai` (default): [`OpenAiLeg`] over an OpenAI Realtime session (OpenAI, Azure, any
//!   URL such as the `openai-realtime` mock server; either dialect). It reports ready only
//!   once `session.update` is confirmed, and every refusal or failure reaches the
//!   [`CallReport`] with the service's own words.
//!
//! Integration features (see [Stability](#stability)):
//! - `tokio-tungstenite-0_30`: `TwilioLeg::from_websocket` and
//!   `adapter::twilio::TungsteniteSocket`, a leg over a tokio-tungstenite 0.30
//!   `WebSocketStream` you accepted yourself.
//! - `rustls-0_23`: the protocol crates' rustls 0.23 methods (`Config::with_tls_config`,
//!   `Config::with_root_certificates`, the REST client's `tls_config`), for users who
//!   depend on voice-bridge alone.
//!
//! # Stability
//!
//! The types of this crate and of the two protocol crates it re-exports
//! ([`twilio_media_stream`], [`openai_realtime`], released with it) are ours to keep
//! stable. Where the API names another crate's types, that crate is at 1.0 or later and
//! is the common vocabulary of its field: `tokio` (1) for the runtime, `serde` and
//! `serde_json` (1) for reports and tool arguments, `bytes` (1) for audio, `schemars` (1)
//! behind the feature of that name, and the `Stream` and `Sink` traits of `futures` 0.3
//! that [`TwilioLeg::new`] takes: the traits every async WebSocket library implements,
//! stable since 2019 (a `futures` 1.0 would be a major version of ours). The leg traits
//! are written with `async-trait` (re-exported as [`async_trait`](macro@async_trait) for
//! implementing them); their methods are plain `Pin<Box<dyn Future>>` signatures of std.
//!
//! The integration features are the exception, named after the dependency and its
//! version: what they add is in that dependency's types and follows its releases, not
//! ours. When it releases a new major version, a new feature comes beside the old one,
//! and the old one may go in our next major version.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// The crate docs link the adapters, which a build without their features does not have.
#![cfg_attr(
    not(all(feature = "twilio", feature = "openai")),
    allow(rustdoc::broken_intra_doc_links)
)]

#[cfg(any(feature = "twilio", feature = "openai"))]
pub mod adapter;
mod agent;
mod agent_session;
pub mod audio;
mod bridge;
mod call;
mod config;
mod engine;
pub mod guide;
mod ids;
pub mod leg;
pub mod memory;
pub mod observer;
pub mod recording;
pub mod report;
pub mod throttle;
mod tool;
pub mod warm;

pub use agent::{
    AgentAudio, AgentCommand, AgentError, AgentEvent, AgentReady, AgentUsage, Interruption,
    ResponseDone, ResponseStatus, Speaker, Transcript,
};
pub use agent_session::{AgentSessionInfo, SessionEnd};
pub use bridge::Bridge;
pub use call::{AudioSource, CallCapabilities, CallCommand, CallEvent, CallStart, HandOver};
pub use config::{BridgeConfig, Fallback};
pub use engine::{Action, Engine};
pub use ids::{CallId, DtmfDigit, ItemId, Mark, ResponseId, StreamId, ToolCallId};
pub use leg::{AgentLeg, CallLeg, LegEnd, LegError, Side};
pub use report::CallReport;
pub use tool::{
    AfterTool, NoTools, ToolCall, ToolError, ToolFn, ToolHandler, ToolOutcome, ToolReply,
    ToolResult, ToolSpec, Tools, tool_fn,
};

// The crates a user of the adapters needs, at the version this crate was built with, so
// one dependency on `voice-bridge` is enough (and their versions never disagree).
/// Implement [`ToolHandler`] (or your own [`CallLeg`]/[`AgentLeg`]) without adding
/// `async-trait` yourself: `#[voice_bridge::async_trait]`.
pub use async_trait::async_trait;
#[cfg(feature = "openai")]
#[doc(no_inline)]
pub use openai_realtime;
#[cfg(feature = "twilio")]
#[doc(no_inline)]
pub use twilio_media_stream;

#[cfg(feature = "openai")]
pub use adapter::openai::{OpenAiLeg, RenewalPolicy};
#[cfg(feature = "openai")]
pub use adapter::openai_live::OpenAiLiveLeg;
#[cfg(feature = "twilio")]
pub use adapter::twilio::TwilioLeg;

// The README's examples compile and run as doctests.
#[cfg(all(doctest, feature = "twilio", feature = "openai"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
