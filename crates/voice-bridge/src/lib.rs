//! A provider-neutral bridge between a phone call and a speech-to-speech AI agent.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod agent;
pub mod audio;
mod bridge;
mod call;
mod config;
mod engine;
mod ids;
pub mod leg;
pub mod memory;
pub mod report;
mod tool;

pub use agent::{
    AgentAudio, AgentCommand, AgentError, AgentEvent, AgentReady, ResponseDone, ResponseStatus,
    Speaker, Transcript,
};
pub use bridge::Bridge;
pub use call::{AudioSource, CallCapabilities, CallCommand, CallEvent, CallStart, HandOver};
pub use config::{BridgeConfig, Fallback};
pub use engine::{Action, Engine};
pub use ids::{CallId, DtmfDigit, ItemId, Mark, ResponseId, StreamId, ToolCallId};
pub use leg::{AgentLeg, CallLeg, LegEnd, LegError, Side};
pub use report::CallReport;
pub use tool::{
    AfterTool, NoTools, ToolCall, ToolError, ToolFn, ToolHandler, ToolOutcome, ToolReply,
    ToolResult, tool_fn,
};
