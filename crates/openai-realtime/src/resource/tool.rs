//! Tools the model may call, and how it chooses them.

use crate::Extra;
use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::codec::tagged_enum;

tagged_enum! {
    /// A tool the model may call.
    pub enum Tool {
        /// `type: "function"`: a function the client runs.
        "function" => Function(FunctionTool),
        /// `type: "mcp"`: a remote MCP server the service calls (GA only).
        "mcp" => Mcp(McpTool),
    }
}

impl From<FunctionTool> for Tool {
    fn from(tool: FunctionTool) -> Self {
        Self::Function(tool)
    }
}

/// A function tool: the model calls it with JSON arguments, the client answers with a
/// `function_call_output` item.
///
/// # Examples
///
/// ```
/// use openai_realtime::FunctionTool;
///
/// let tool = FunctionTool::new(
///     "confirm_appointment",
///     "Record whether the caller confirms the appointment.",
///     serde_json::json!({"type": "object", "properties": {"confirmed": {"type": "boolean"}}}),
/// );
/// assert_eq!(tool.name.as_deref(), Some("confirm_appointment"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionTool {
    /// The function name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// When and how to call it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The arguments, as a JSON Schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl FunctionTool {
    /// A function tool with its name, description and JSON Schema parameters.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self {
            name: Some(name.into()),
            description: Some(description.into()),
            parameters: Some(parameters),
            extra: Default::default(),
        }
    }
}

/// An MCP server tool (GA only). `allowed_tools` (a list of names or a filter) and
/// `require_approval` (`"always"`, `"never"` or a filter) are kept as JSON.
///
/// `Debug` redacts `authorization` and the header values, which carry credentials.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpTool {
    /// A label for the server, used in tool calls.
    pub server_label: String,
    /// The server URL (or use `connector_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_url: Option<String>,
    /// A built-in connector, e.g. `connector_gmail`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connector_id: Option<String>,
    /// What the server is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_description: Option<String>,
    /// Which of the server's tools the model may use, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_tools: Option<Value>,
    /// Who may call the tools: `direct`, `programmatic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_callers: Option<Vec<String>>,
    /// Which calls need approval, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_approval: Option<Value>,
    /// An OAuth access token for the server. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
    /// Extra HTTP headers for the server. Values may be secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers: Option<BTreeMap<String, String>>,
    /// Load the tool list lazily.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub defer_loading: Option<bool>,
    /// A tunnel id for private servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tunnel_id: Option<String>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl fmt::Debug for McpTool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers = self.headers.as_ref().map(|headers| {
            headers
                .keys()
                .map(|key| (key, "<redacted>"))
                .collect::<Vec<_>>()
        });
        f.debug_struct("McpTool")
            .field("server_label", &self.server_label)
            .field("server_url", &self.server_url)
            .field("connector_id", &self.connector_id)
            .field("server_description", &self.server_description)
            .field("allowed_tools", &self.allowed_tools)
            .field("allowed_callers", &self.allowed_callers)
            .field("require_approval", &self.require_approval)
            .field(
                "authorization",
                &self.authorization.as_ref().map(|_| "<redacted>"),
            )
            .field("headers", &headers)
            .field("defer_loading", &self.defer_loading)
            .field("tunnel_id", &self.tunnel_id)
            .finish()
    }
}

/// `tool_choice`: how the model chooses tools.
///
/// GA writes `"auto"`, `"none"`, `"required"`, `{"type":"function","name":…}` or
/// `{"type":"mcp","server_label":…,"name":…}`; the beta dialect writes a string, where a
/// function is named by its name alone.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ToolChoice {
    /// `"auto"`: the model decides (the default).
    Auto,
    /// `"none"`: no tools.
    None,
    /// `"required"`: at least one tool call.
    Required,
    /// This function.
    Function {
        /// The function name.
        name: String,
    },
    /// A tool of this MCP server (GA only).
    Mcp {
        /// The server label.
        server_label: String,
        /// The tool, or any of the server's.
        name: Option<String>,
    },
    /// A value this version does not know, kept as received.
    Unknown(Value),
}

impl ToolChoice {
    /// Force a call to this function.
    pub fn function(name: impl Into<String>) -> Self {
        Self::Function { name: name.into() }
    }
}

impl Serialize for ToolChoice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Auto => serializer.serialize_str("auto"),
            Self::None => serializer.serialize_str("none"),
            Self::Required => serializer.serialize_str("required"),
            Self::Function { name } => {
                let mut map = Map::new();
                map.insert("type".into(), "function".into());
                map.insert("name".into(), name.clone().into());
                map.serialize(serializer)
            }
            Self::Mcp { server_label, name } => {
                let mut map = Map::new();
                map.insert("type".into(), "mcp".into());
                map.insert("server_label".into(), server_label.clone().into());
                if let Some(name) = name {
                    map.insert("name".into(), name.clone().into());
                }
                map.serialize(serializer)
            }
            Self::Unknown(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        match &value {
            Value::String(choice) => Ok(match choice.as_str() {
                "auto" => Self::Auto,
                "none" => Self::None,
                "required" => Self::Required,
                _ => Self::Unknown(value),
            }),
            Value::Object(map) => match map.get("type").and_then(Value::as_str) {
                Some("function") => Ok(Self::Function {
                    name: text("name").ok_or_else(|| D::Error::custom("missing field `name`"))?,
                }),
                Some("mcp") => Ok(Self::Mcp {
                    server_label: text("server_label")
                        .ok_or_else(|| D::Error::custom("missing field `server_label`"))?,
                    name: text("name"),
                }),
                _ => Ok(Self::Unknown(value)),
            },
            _ => Ok(Self::Unknown(value)),
        }
    }
}
