//! Typed Twilio Media Streams: messages, session rules, TwiML, request signatures,
//! outbound calls over REST and a call simulator.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
