//! End-to-end tests of the example bot (`examples/outbound_call`), over loopback sockets
//! only: the bot's real server on 127.0.0.1 port 0, the OpenAI mock from `openai-realtime`,
//! the Twilio simulator from `twilio-media-stream`, and a stand-in for Twilio's REST API.
//!
//! Simulated calls run in real time (the simulator paces audio on tokio's clock, which a
//! paused clock would race past real sockets), so each call test takes seconds; the
//! scripts are kept short.

mod agent_failures;
mod call;
mod campaign;
mod check;
mod connections;
mod demo;
mod example;
mod instances;
mod live;
mod logs;
mod metrics;
mod readme;
mod retired;
mod secrets;
mod security;
mod shutdown;
mod support;
mod warm;
