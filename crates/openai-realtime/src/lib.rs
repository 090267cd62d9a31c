//! Typed OpenAI Realtime API events in both dialects (GA and the retired beta), an async
//! client that explains every refusal, and a faithful mock server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// --- models and dialects (owner: models) ---

// --- network features (owner: net) ---
#[cfg(feature = "client")]
pub mod client;
#[cfg(feature = "mock-server")]
pub mod mock;
