//! Typed Twilio Media Streams: messages, session rules, TwiML, request signatures,
//! outbound calls over REST and a call simulator.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// --- models, codec and session rules (owner: core) ---

// --- TwiML, signatures, signed call context (owner: edge) ---
pub mod context;
pub mod signature;
pub mod twiml;

pub use twiml::VoiceResponse;

// --- network features ---
#[cfg(feature = "rest")]
pub mod rest;
#[cfg(feature = "simulator")]
pub mod simulator;
