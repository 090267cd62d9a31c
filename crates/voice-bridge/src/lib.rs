//! A provider-neutral bridge between a phone call and a speech-to-speech AI agent.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audio;
