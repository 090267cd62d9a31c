//! Conversation items: messages, function calls and their outputs, MCP items, references.

use crate::Extra;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::tagged_enum;
use crate::ids::{CallId, ItemId};
use crate::open_enum::open_enum;

tagged_enum! {
    /// A conversation item, by its `type`.
    ///
    /// Used in `conversation.item.create`, `response.create` input, response output and every
    /// server item event.
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::Item;
    ///
    /// let item = Item::function_call_output("call_1", r#"{"ok":true}"#);
    /// assert_eq!(item.type_str(), Some("function_call_output"));
    /// ```
    pub enum Item {
        /// `message`: a system, user or assistant message.
        "message" => Message(MessageItem),
        /// `function_call`: the model calls a function.
        "function_call" => FunctionCall(FunctionCallItem),
        /// `function_call_output`: the client's answer to a function call.
        "function_call_output" => FunctionCallOutput(FunctionCallOutputItem),
        /// `mcp_approval_response` (GA only).
        "mcp_approval_response" => McpApprovalResponse(McpApprovalResponseItem),
        /// `mcp_list_tools` (GA only).
        "mcp_list_tools" => McpListTools(McpListToolsItem),
        /// `mcp_call` (GA only); boxed, the largest item, so that events stay small.
        "mcp_call" => McpCall(Box<McpCallItem>),
        /// `mcp_approval_request` (GA only).
        "mcp_approval_request" => McpApprovalRequest(McpApprovalRequestItem),
        /// `item_reference`: an earlier item, by id (in `response.create` input).
        "item_reference" => ItemReference(ItemReference),
    }
}

impl Item {
    /// A `function_call_output` item answering the call `call_id`. `output` is a string
    /// (JSON-encode objects).
    pub fn function_call_output(call_id: impl Into<CallId>, output: impl Into<String>) -> Self {
        Self::FunctionCallOutput(FunctionCallOutputItem {
            call_id: call_id.into(),
            output: output.into(),
            ..FunctionCallOutputItem::default()
        })
    }

    /// A user message with one `input_text` part.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self::Message(MessageItem::new(
            Role::User,
            vec![ContentPart::input_text(text)],
        ))
    }

    /// A system message with one `input_text` part.
    pub fn system_text(text: impl Into<String>) -> Self {
        Self::Message(MessageItem::new(
            Role::System,
            vec![ContentPart::input_text(text)],
        ))
    }

    /// A reference to an earlier item.
    pub fn reference(id: impl Into<ItemId>) -> Self {
        Self::ItemReference(ItemReference {
            id: id.into(),
            extra: Default::default(),
        })
    }

    /// The item's id, when it has one.
    pub fn id(&self) -> Option<&ItemId> {
        match self {
            Self::Message(item) => item.id.as_ref(),
            Self::FunctionCall(item) => item.id.as_ref(),
            Self::FunctionCallOutput(item) => item.id.as_ref(),
            Self::McpApprovalResponse(item) => Some(&item.id),
            Self::McpListTools(item) => item.id.as_ref(),
            Self::McpCall(item) => Some(&item.id),
            Self::McpApprovalRequest(item) => Some(&item.id),
            Self::ItemReference(item) => Some(&item.id),
            Self::Unknown(_) => None,
        }
    }
}

open_enum! {
    /// The role of a message.
    pub enum Role {
        /// `system`
        System = "system",
        /// `user`
        User = "user",
        /// `assistant`
        Assistant = "assistant",
    }
}

open_enum! {
    /// The status of an item.
    pub enum ItemStatus {
        /// `completed`
        Completed = "completed",
        /// `incomplete`
        Incomplete = "incomplete",
        /// `in_progress`
        InProgress = "in_progress",
    }
}

/// A `message` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MessageItem {
    /// The item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ItemId>,
    /// `realtime.item`, sent by the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// Who speaks.
    pub role: Role,
    /// The parts (text, audio, image). The service sends assistant items without audio bytes.
    #[serde(default)]
    pub content: Vec<ContentPart>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl MessageItem {
    /// A message with a role and parts.
    pub fn new(role: Role, content: Vec<ContentPart>) -> Self {
        Self {
            id: None,
            object: None,
            status: None,
            role,
            content,
            extra: Default::default(),
        }
    }
}

open_enum! {
    /// The type of a content part.
    ///
    /// GA assistant parts are `output_text`/`output_audio`; the beta dialect wrote them
    /// `text`/`audio`, and `response.content_part.*` keeps `text`/`audio` even in GA.
    pub enum ContentPartType {
        /// `input_text`
        InputText = "input_text",
        /// `input_audio`
        InputAudio = "input_audio",
        /// `input_image` (GA only)
        InputImage = "input_image",
        /// `output_text`
        OutputText = "output_text",
        /// `output_audio`
        OutputAudio = "output_audio",
        /// `text`
        Text = "text",
        /// `audio`
        Audio = "audio",
        /// `item_reference` (beta)
        ItemReference = "item_reference",
    }
}

open_enum! {
    /// The detail level of an input image.
    pub enum ImageDetail {
        /// `auto`
        Auto = "auto",
        /// `low`
        Low = "low",
        /// `high`
        High = "high",
    }
}

/// One part of a message's content, or the `part` of `response.content_part.*`.
///
/// Audio stays base64 text as received: nothing decodes it on the way through.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContentPart {
    /// The part type (`type` on the wire).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ContentPartType>,
    /// Text (`input_text`, `output_text`, `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Base64 audio (`input_audio`, `output_audio`, `audio`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<String>,
    /// The transcript of the audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transcript: Option<String>,
    /// A PNG or JPEG data URI (`input_image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// The image detail level (`input_image`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<ImageDetail>,
    /// The referenced item (beta `item_reference` parts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ItemId>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl ContentPart {
    /// An `input_text` part.
    pub fn input_text(text: impl Into<String>) -> Self {
        Self {
            kind: Some(ContentPartType::InputText),
            text: Some(text.into()),
            ..Self::default()
        }
    }

    /// An `input_audio` part with base64 audio in the session's input format.
    pub fn input_audio(base64_audio: impl Into<String>) -> Self {
        Self {
            kind: Some(ContentPartType::InputAudio),
            audio: Some(base64_audio.into()),
            ..Self::default()
        }
    }

    /// An `output_text` part (an assistant message written by the client).
    pub fn output_text(text: impl Into<String>) -> Self {
        Self {
            kind: Some(ContentPartType::OutputText),
            text: Some(text.into()),
            ..Self::default()
        }
    }
}

/// A `function_call` item: the model calls a function.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallItem {
    /// The item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ItemId>,
    /// `realtime.item`, sent by the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// The call id, which the output must repeat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<CallId>,
    /// The function name.
    pub name: String,
    /// The arguments, a JSON string (empty while they stream).
    pub arguments: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `function_call_output` item: the client's answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallOutputItem {
    /// The item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ItemId>,
    /// `realtime.item`, sent by the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ItemStatus>,
    /// The call this answers.
    pub call_id: CallId,
    /// The result, a string (JSON-encode objects).
    pub output: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `mcp_approval_request` item: the model asks to call an MCP tool.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpApprovalRequestItem {
    /// The item id.
    pub id: ItemId,
    /// The MCP server's label.
    pub server_label: String,
    /// The tool name.
    pub name: String,
    /// The arguments, a JSON string.
    pub arguments: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `mcp_approval_response` item: the client approves or denies a request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpApprovalResponseItem {
    /// The item id.
    pub id: ItemId,
    /// The request this answers.
    pub approval_request_id: String,
    /// Approved or not.
    pub approve: bool,
    /// Why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `mcp_list_tools` item: the tools an MCP server offers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpListToolsItem {
    /// The item id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<ItemId>,
    /// The MCP server's label.
    pub server_label: String,
    /// The tools.
    pub tools: Vec<McpToolInfo>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One tool of an `mcp_list_tools` item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpToolInfo {
    /// The tool name.
    pub name: String,
    /// Its input JSON Schema.
    pub input_schema: Value,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Extra annotations, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<Value>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// An `mcp_call` item: a call to an MCP tool and its outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpCallItem {
    /// The item id.
    pub id: ItemId,
    /// The MCP server's label.
    pub server_label: String,
    /// The tool name.
    pub name: String,
    /// The arguments, a JSON string.
    pub arguments: String,
    /// The approval request, if one was needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_request_id: Option<String>,
    /// The output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The error, if the call failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<McpError>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

tagged_enum! {
    /// Why an MCP call failed.
    pub enum McpError {
        /// `protocol_error`
        "protocol_error" => Protocol(McpCodedError),
        /// `tool_execution_error`
        "tool_execution_error" => ToolExecution(McpToolExecutionError),
        /// `http_error`
        "http_error" => Http(McpCodedError),
    }
}

/// An MCP protocol or HTTP error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpCodedError {
    /// The code.
    pub code: i64,
    /// The message.
    pub message: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An MCP tool execution error.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpToolExecutionError {
    /// The message.
    pub message: String,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `item_reference`: an earlier item by id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ItemReference {
    /// The referenced item.
    pub id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}
