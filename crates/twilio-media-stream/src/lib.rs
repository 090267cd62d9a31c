//! Typed Twilio Media Streams: messages, session rules, TwiML, request signatures,
//! outbound calls over REST and a call simulator.
//!
//! Twilio streams a phone call's audio to your server over a WebSocket as JSON text frames.
//! This crate turns each frame into a typed [`StreamEvent`], checks the stream's rules with
//! a sans-IO [`StreamSession`], and writes what your server sends back as
//! [`StreamCommand`]s:
//!
//! ```
//! use twilio_media_stream::{StreamCommand, StreamEvent, StreamSession};
//!
//! let mut session = StreamSession::new();
//! let frames = [
//!     r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
//!     r#"{"event":"start","sequenceNumber":"1",
//!         "start":{"accountSid":"ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
//!                  "streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
//!                  "callSid":"CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX","tracks":["inbound"],
//!                  "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},
//!                  "customParameters":{"appointment_id":"apt_42"}},
//!         "streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}"#,
//!     r#"{"event":"media","sequenceNumber":"2","streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
//!         "media":{"track":"inbound","chunk":"1","timestamp":"0","payload":"//////////8="}}"#,
//! ];
//! for frame in frames {
//!     let event = StreamEvent::decode(frame)?;
//!     session.handle(&event)?;
//!     if let StreamEvent::Media(media) = &event {
//!         // Base64 kept as received; length and duration without decoding.
//!         assert_eq!(media.media.payload.decoded_len(), 8);
//!         assert_eq!(media.media.payload.duration_ms(), 1);
//!     }
//! }
//! assert_eq!(session.custom_parameters().unwrap()["appointment_id"], "apt_42");
//!
//! // Everything sent back carries the stream's id.
//! let sid = session.stream_sid().unwrap().clone();
//! session.mark_sent("greeting")?;
//! let frame = StreamCommand::mark(sid, "greeting").encode();
//! assert!(frame.starts_with(r#"{"event":"mark","streamSid":"MZXX"#));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//!
//! Models, codec and rules (no tokio, no feature needed):
//! - [`event`]: [`StreamEvent`], the messages Twilio sends, one struct per event.
//! - [`command`]: [`StreamCommand`], the messages the server sends (`media`, `mark`, `clear`).
//! - [`ids`]: [`StreamSid`], [`CallSid`], [`AccountSid`] (with a form check for
//!   configuration, [`AccountSid::parse`]), [`MarkName`].
//! - [`payload`]: [`Payload`], base64 mu-law kept as text until decoded on request.
//! - [`session`]: [`StreamSession`], the stream's order, identity and mark bookkeeping.
//! - [`error`]: [`DecodeError`], [`PayloadError`], [`SessionError`].
//! - [`twiml`]: a TwiML builder for streaming calls (`<Connect><Stream>` and friends).
//! - [`signature`]: `X-Twilio-Signature` validation for webhooks and the WebSocket upgrade.
//! - [`context`]: a call's context signed into `<Parameter>`s and verified from `start`.
//! - [`callback`]: typed call status, answering-machine and `<Stream>` status webhooks.
//! - [`phone`]: [`PhoneNumber`], an E.164 number checked before it reaches `To` or `From`.
//! - [`socket`]: [`socket::Frame`] and [`socket::Outgoing`], the frames a media-stream
//!   WebSocket reads and writes, whatever WebSocket library carries them.
//!
//! Network features:
//! - `rest`: the `rest` module, outbound calls and call updates over Twilio's REST API.
//! - `server`: the `server` module, accepting a media stream's WebSocket upgrade (hyper,
//!   axum) after checking `X-Twilio-Signature` for the public URL, and checking form
//!   webhooks the same way.
//! - `simulator`: the `simulator` module, a Twilio-like peer that places a simulated call
//!   against any media-stream URL, for tests, demos and benchmarks.
//!
//! Integration features (see [Stability](#stability)):
//! - `tokio-tungstenite-0_30`: `socket::TungsteniteSocket`, a tokio-tungstenite 0.30
//!   `WebSocketStream` you accepted yourself as a socket of [`socket::Frame`]s.
//! - `rustls-0_23`: with `rest`, `rest::ClientBuilder::tls_config` takes your own rustls
//!   0.23 `ClientConfig`.
//!
//! # Stability
//!
//! The types of this crate are ours to keep stable: its models, errors, `server`'s
//! `MediaSocket`, `SocketError` and `UpgradeError`, the simulator, the REST client. Where
//! the API names another crate's types, that crate is at 1.0 or later and is the common
//! vocabulary of its field, so a user already has it: `serde` (1) for the models, `http`
//! (1) for the requests and answers `server` checks (hyper's and axum's own types),
//! `serde_json` (1) where raw JSON is kept, and the `Stream` and `Sink` traits of
//! `futures` 0.3 that `server::MediaSocket` implements: the traits every async WebSocket
//! library implements, stable since 2019 (a `futures` 1.0 would be a major version of
//! ours).
//!
//! The integration features are the exception, named after the dependency and its
//! version: what they add is in that dependency's types and follows its releases, not
//! ours. When it releases a new major version, a new feature comes beside the old one
//! (`tokio-tungstenite-0_31`), and the old one may go in our next major version. Which
//! WebSocket, TLS and HTTP libraries the crate uses inside is ours to change.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// --- models, codec and session rules (owner: core) ---
mod codec;
pub mod command;
pub mod error;
pub mod event;
mod fast;
pub mod ids;
pub mod payload;
pub mod session;

pub use codec::DEFAULT_MAX_FRAME_LEN;
pub use command::StreamCommand;
pub use error::{DecodeError, DecodeErrorKind, PayloadError, SessionError};
pub use event::StreamEvent;
pub use ids::{AccountSid, CallSid, MarkName, StreamSid};
pub use payload::Payload;
pub use session::{Accepted, MarkEcho, MarkOutcome, Phase, SequenceGap, StreamSession};

// --- TwiML, signatures, signed call context, webhooks (owner: edge) ---
pub mod callback;
pub mod context;
pub mod phone;
pub mod signature;
pub mod socket;
pub mod twiml;

pub use phone::PhoneNumber;
pub use signature::{AuthToken, RequestValidator};
pub use twiml::VoiceResponse;

// --- network features ---
#[cfg(feature = "rest")]
pub mod rest;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "simulator")]
pub mod simulator;

// The README's examples compile and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
