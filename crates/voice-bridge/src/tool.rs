//! Tool (function) calls: what the agent asks for, what the user's handler answers.

use std::error::Error as StdError;
use std::fmt;
use std::future::Future;

use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

use crate::call::HandOver;
use crate::ids::ToolCallId;

mod registry;

pub use registry::{ToolSpec, Tools};

/// The agent calls a tool.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ToolCall {
    /// The call's id, echoed in the result.
    pub call_id: ToolCallId,
    /// The tool's name.
    pub name: String,
    /// The arguments, parsed. An agent leg whose arguments are not valid JSON passes
    /// them as a JSON string, so the handler sees what the model wrote.
    pub arguments: Value,
}

impl ToolCall {
    /// A tool call.
    pub fn new(call_id: impl Into<ToolCallId>, name: impl Into<String>, arguments: Value) -> Self {
        Self {
            call_id: call_id.into(),
            name: name.into(),
            arguments,
        }
    }
}

/// What the bridge does after a tool's result has been given to the agent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "hand_over", rename_all = "snake_case")]
pub enum AfterTool {
    /// Ask the agent to go on (once every pending tool call of the turn has a result).
    Continue,
    /// End the call once the caller has heard what the agent already said (the marks of
    /// the audio sent so far have come back), without asking for another response.
    EndCall,
    /// Ask the agent for one more response (a goodbye), then end the call once the
    /// caller has heard it.
    EndCallAfterResponse,
    /// Hand the call over once the caller has heard what the agent already said.
    HandOver(HandOver),
}

/// A tool handler's successful answer.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolReply {
    /// The output given to the agent (JSON-encoded on the wire).
    pub output: Value,
    /// What happens next.
    pub then: AfterTool,
}

impl ToolReply {
    /// A reply after which the conversation goes on.
    pub fn new(output: Value) -> Self {
        Self {
            output,
            then: AfterTool::Continue,
        }
    }

    /// Ends the call once the caller has heard what was already said.
    #[must_use]
    pub fn end_call(mut self) -> Self {
        self.then = AfterTool::EndCall;
        self
    }

    /// Lets the agent answer once more (a goodbye), then ends the call.
    #[must_use]
    pub fn end_call_after_response(mut self) -> Self {
        self.then = AfterTool::EndCallAfterResponse;
        self
    }

    /// Hands the call over once the caller has heard what was already said.
    #[must_use]
    pub fn hand_over(mut self, to: HandOver) -> Self {
        self.then = AfterTool::HandOver(to);
        self
    }
}

/// A tool handler failed. The agent gets `{"error": "<message>"}` as the tool's output.
///
/// Any error converts into it, so a handler can use `?`.
pub struct ToolError(Box<dyn StdError + Send + Sync>);

impl ToolError {
    /// An error with a message.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into().into())
    }
}

impl<E: Into<Box<dyn StdError + Send + Sync>>> From<E> for ToolError {
    fn from(error: E) -> Self {
        Self(error.into())
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ToolError")
            .field(&self.0.to_string())
            .finish()
    }
}

/// How a tool call turned out.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum ToolOutcome {
    /// The handler answered.
    Reply(ToolReply),
    /// The handler failed, with its error's text.
    Failed(String),
    /// The handler did not answer in time.
    TimedOut,
}

/// A tool call's outcome, given back to the engine.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ToolResult {
    /// The call it answers.
    pub call_id: ToolCallId,
    /// The outcome.
    pub outcome: ToolOutcome,
}

impl ToolResult {
    /// The outcome of the tool call `call_id` (for a driver of your own around
    /// [`Engine`](crate::Engine); the [`Bridge`](crate::Bridge) makes these itself).
    pub fn new(call_id: impl Into<ToolCallId>, outcome: ToolOutcome) -> Self {
        Self {
            call_id: call_id.into(),
            outcome,
        }
    }
}

/// Runs the agent's tool calls. Implemented for closures by [`tool_fn`].
///
/// The bridge calls handlers concurrently with the call's audio, each under the
/// configured timeout; a handler that fails or is too slow gives the agent an error
/// result, never a hung call.
#[async_trait]
pub trait ToolHandler: Send + Sync {
    /// Runs one tool call.
    ///
    /// # Errors
    ///
    /// Any [`ToolError`]; its text goes back to the agent as the tool's output.
    async fn call(&self, call: ToolCall) -> Result<ToolReply, ToolError>;
}

/// A handler for bridges without tools: every call gets an error result.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTools;

#[async_trait]
impl ToolHandler for NoTools {
    async fn call(&self, call: ToolCall) -> Result<ToolReply, ToolError> {
        Err(ToolError::new(format!(
            "no tool named {:?} is available",
            call.name
        )))
    }
}

/// A [`ToolHandler`] made from an async closure; see [`tool_fn`].
#[derive(Clone, Copy)]
pub struct ToolFn<F>(F);

impl<F> fmt::Debug for ToolFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ToolFn")
    }
}

/// A tool handler from a closure that returns a future.
///
/// ```
/// use serde_json::json;
/// use voice_bridge::{ToolCall, ToolError, ToolReply, tool_fn};
///
/// let tools = tool_fn(|call: ToolCall| async move {
///     match call.name.as_str() {
///         "confirm_appointment" => Ok(ToolReply::new(json!({"ok": true}))),
///         "end_call" => Ok(ToolReply::new(json!({"ok": true})).end_call()),
///         other => Err(ToolError::new(format!("unknown tool {other}"))),
///     }
/// });
/// # let _ = tools;
/// ```
pub fn tool_fn<F, Fut>(f: F) -> ToolFn<F>
where
    F: Fn(ToolCall) -> Fut + Send + Sync,
    Fut: Future<Output = Result<ToolReply, ToolError>> + Send,
{
    ToolFn(f)
}

#[async_trait]
impl<F, Fut> ToolHandler for ToolFn<F>
where
    F: Fn(ToolCall) -> Fut + Send + Sync,
    Fut: Future<Output = Result<ToolReply, ToolError>> + Send,
{
    async fn call(&self, call: ToolCall) -> Result<ToolReply, ToolError> {
        (self.0)(call).await
    }
}
