//! The example bot's modules (`examples/outbound_call/`), compiled as this package's
//! library so that the example's `main.rs` and the end-to-end tests in `tests/` run the
//! same code. Nothing here is meant for use outside this repository: read the files in
//! `examples/outbound_call/` as the example.
//!
//! One job per file:
//! - `config`: environment and `.env`, checked at start, one message listing what to set;
//! - `appointment`: the appointment, its signed-context fields, the agent's instructions;
//! - `tools`: the agent session, its tools, and the handler recording the decision;
//! - `tap`: taps on both legs reporting what happens live; `transcript` prints it;
//! - `recording`: the stereo WAV (caller left, agent right);
//! - `output`: report, recording and outcome lines on disk;
//! - `upgrade`: the media-stream WebSocket upgrade with its signature check.

#[path = "../examples/outbound_call/appointment.rs"]
pub mod appointment;
#[path = "../examples/outbound_call/config.rs"]
pub mod config;
#[path = "../examples/outbound_call/output.rs"]
pub mod output;
#[path = "../examples/outbound_call/recording.rs"]
pub mod recording;
#[path = "../examples/outbound_call/tap.rs"]
pub mod tap;
#[path = "../examples/outbound_call/tools.rs"]
pub mod tools;
#[path = "../examples/outbound_call/transcript.rs"]
pub mod transcript;
#[path = "../examples/outbound_call/upgrade.rs"]
pub mod upgrade;
