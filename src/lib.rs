//! The example bot's modules (`examples/outbound_call/`), compiled as this package's
//! library so that the example's `main.rs` and the end-to-end tests in `tests/` run the
//! same code. Nothing here is meant for use outside this repository: read the files in
//! `examples/outbound_call/` as the example.
//!
//! One job per file:
//! - `config`: environment and `.env`, checked at start, one message listing what to set;
//! - `appointment`: the appointment, its signed-context fields, the agent's instructions;
//! - `tools`: the agent session, its tools, and the handler recording the decision;
//! - `server`: routes and webhooks, every request's signature checked (the checks and the
//!   WebSocket upgrade are `twilio_media_stream::server`'s);
//! - `connections`: the accept loop: header-read timeout, the limit on connections not yet
//!   authenticated, accept errors; `throttle`: rate-limited log lines;
//! - `stream`: one stream from `start` (signed context) to its outcome line;
//! - `legs`: the Twilio and OpenAI legs of the bridge;
//! - `outbound`: the call's TwiML and REST request; `calls`: `call` and the one-shot batch;
//! - `campaign`: `batch`'s resumable campaign (SQLite store, states, retries, calling hours);
//! - `serve`: the `serve` command and the bot every server is built from;
//! - `check`: the preflight; `demo`: the offline demo; `advice`: what to do about the
//!   agent's known refusals, in the command line's words; `retirement`: the model's
//!   announced shutdown date (`check`'s line, `serve`'s warning at start);
//! - `tap`: the bridge's observer, reporting what happens live; `transcript` prints it;
//! - `metrics`: `GET /metrics` (Prometheus text format), a registry per bot;
//! - `warm`: agent sessions opened while the phone rings, taken by the call's stream;
//! - `output`: report, recording (`voice_bridge::recording`) and outcome lines on disk.

#[path = "../examples/outbound_call/advice.rs"]
pub mod advice;
#[path = "../examples/outbound_call/appointment.rs"]
pub mod appointment;
#[path = "../examples/outbound_call/calls.rs"]
pub mod calls;
#[path = "../examples/outbound_call/campaign/mod.rs"]
pub mod campaign;
#[path = "../examples/outbound_call/check.rs"]
pub mod check;
#[path = "../examples/outbound_call/config.rs"]
pub mod config;
#[path = "../examples/outbound_call/connections.rs"]
pub mod connections;
#[path = "../examples/outbound_call/demo.rs"]
pub mod demo;
#[path = "../examples/outbound_call/drain.rs"]
pub mod drain;
#[path = "../examples/outbound_call/legs.rs"]
pub mod legs;
#[path = "../examples/outbound_call/metrics.rs"]
pub mod metrics;
#[path = "../examples/outbound_call/outbound.rs"]
pub mod outbound;
#[path = "../examples/outbound_call/output.rs"]
pub mod output;
#[path = "../examples/outbound_call/retirement.rs"]
pub mod retirement;
#[path = "../examples/outbound_call/serve.rs"]
pub mod serve;
#[path = "../examples/outbound_call/server.rs"]
pub mod server;
#[path = "../examples/outbound_call/stream.rs"]
pub mod stream;
#[path = "../examples/outbound_call/tap.rs"]
pub mod tap;
#[path = "../examples/outbound_call/throttle.rs"]
pub mod throttle;
#[path = "../examples/outbound_call/tools.rs"]
pub mod tools;
#[path = "../examples/outbound_call/transcript.rs"]
pub mod transcript;
#[path = "../examples/outbound_call/warm.rs"]
pub mod warm;

/// The README's Rust code blocks, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
