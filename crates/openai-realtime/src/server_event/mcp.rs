//! MCP server events (GA only).

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, ItemId, ResponseId};

/// A piece of an MCP call's arguments.
///
/// Wire name: `response.mcp_call_arguments.delta`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseMcpCallArgumentsDelta {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The piece of JSON.
    pub delta: String,
    /// Padding that hides the delta size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub obfuscation: Option<String>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An MCP call's arguments are complete.
///
/// Wire name: `response.mcp_call_arguments.done`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseMcpCallArgumentsDone {
    /// The server event id.
    pub event_id: EventId,
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// The arguments, a JSON string.
    pub arguments: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An MCP call started.
///
/// Wire name: `response.mcp_call.in_progress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseMcpCallInProgress {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An MCP call succeeded.
///
/// Wire name: `response.mcp_call.completed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseMcpCallCompleted {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An MCP call failed.
///
/// Wire name: `response.mcp_call.failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseMcpCallFailed {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// The index of the item in the response output.
    pub output_index: u32,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Listing an MCP server's tools started.
///
/// Wire name: `mcp_list_tools.in_progress`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpListToolsInProgress {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Listing an MCP server's tools succeeded.
///
/// Wire name: `mcp_list_tools.completed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpListToolsCompleted {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Listing an MCP server's tools failed.
///
/// Wire name: `mcp_list_tools.failed`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpListToolsFailed {
    /// The server event id.
    pub event_id: EventId,
    /// The item.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}
