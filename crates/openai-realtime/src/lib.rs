//! Typed OpenAI Realtime API events in both dialects (GA and the retired beta), an async
//! client that explains every refusal, and a faithful mock server.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
