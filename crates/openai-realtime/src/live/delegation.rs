//! Who handles the tasks the Live model delegates: your application (`client`), a Responses
//! model the service runs (`responses`), or the Decision API (`decisions`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::tagged_enum;

use super::decision::DecisionQuestion;
use super::extra::Extra;

tagged_enum! {
    /// `session.delegation` at start and in snapshots. Absent means [`Delegation::Client`].
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::live::{Delegation, FunctionTool, ResponsesConfig};
    ///
    /// let lookup = FunctionTool::new("lookup_order")
    ///     .with_description("Look up an order by id.")
    ///     .with_parameters(serde_json::json!({
    ///         "type": "object",
    ///         "properties": {"order_id": {"type": "string"}},
    ///         "required": ["order_id"]
    ///     }));
    /// let delegation = Delegation::responses(ResponsesConfig::new("gpt-5.5").with_tool(lookup));
    /// let json = serde_json::to_value(&delegation).unwrap();
    /// assert_eq!(json["type"], "responses");
    /// assert_eq!(json["responses"]["tools"][0]["name"], "lookup_order");
    /// ```
    pub enum Delegation {
        /// `client`: the model emits `session.delegation.created` and your application
        /// answers with `session.commentary.append` / `session.thinking.append`.
        "client" => Client(ClientDelegation),
        /// `responses`: a Responses model with tools; function calls arrive inside
        /// `response.event`. Boxed: it is much larger than the other two.
        "responses" => Responses(Box<ResponsesDelegation>),
        /// `decisions`: Decision API questions, answered in `decision.event`.
        "decisions" => Decisions(DecisionsDelegation),
    }
}

impl Delegation {
    /// `{"type":"client"}`.
    pub fn client() -> Self {
        Self::Client(ClientDelegation::default())
    }

    /// `{"type":"responses","responses":config}`.
    pub fn responses(config: ResponsesConfig) -> Self {
        Self::Responses(Box::new(ResponsesDelegation {
            responses: config,
            acknowledgement_delay_ms: None,
            extra: Extra::new(),
        }))
    }
}

tagged_enum! {
    /// `session.delegation` in `session.update` (and in a fork's `session.start`): the settings
    /// of the current delegation type, all optional. The type itself cannot change.
    pub enum DelegationUpdate {
        /// `client`
        "client" => Client(ClientDelegation),
        /// `responses` (boxed: it is much larger than the other two)
        "responses" => Responses(Box<ResponsesDelegationUpdate>),
        /// `decisions`
        "decisions" => Decisions(DecisionsDelegationUpdate),
    }
}

/// The body of `{"type":"client"}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientDelegation {
    /// Milliseconds before the model speaks an automatic acknowledgement of a delegation
    /// (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement_delay_ms: Option<u64>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of `{"type":"responses"}` at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponsesDelegation {
    /// The backend model, prompt and tools.
    pub responses: ResponsesConfig,
    /// Milliseconds before an automatic spoken acknowledgement (default 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement_delay_ms: Option<u64>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of `{"type":"responses"}` in an update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponsesDelegationUpdate {
    /// The backend settings to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub responses: Option<ResponsesUpdateConfig>,
    /// Milliseconds before an automatic spoken acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement_delay_ms: Option<u64>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The Responses backend of a `responses` delegation (`ResponsesDelegationConfig`).
///
/// The tool list is typed for function tools (the ones your application runs); OpenAI-hosted
/// tools (`web_search`, `mcp`, `shell`, …) and the nested `reasoning`, `text` and
/// `tool_choice` objects are kept as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponsesConfig {
    /// The Responses model, e.g. `gpt-5.5`.
    pub model: String,
    /// The backend's instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// A cap on output tokens per response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Whether the backend may call tools in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// How much the backend reasons, and whether it summarises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
    /// `auto`, `default`, `flex`, `priority`, `ultrafast`, `fast_tier_temp_pilot` (the SDK's
    /// values), or another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// How verbose the backend's text is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    /// `"auto"`, `"none"`, `"required"` or a tool choice object, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// The tools the backend may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ResponsesTool>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl ResponsesConfig {
    /// A backend running `model` with no tools.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            instructions: None,
            max_output_tokens: None,
            parallel_tool_calls: None,
            reasoning: None,
            service_tier: None,
            text: None,
            tool_choice: None,
            tools: None,
            extra: Extra::new(),
        }
    }

    /// Sets the backend's instructions.
    #[must_use]
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Adds a function tool.
    #[must_use]
    pub fn with_tool(mut self, tool: FunctionTool) -> Self {
        self.tools
            .get_or_insert_with(Vec::new)
            .push(ResponsesTool::Function(tool));
        self
    }
}

/// The Responses backend settings of an update (`ResponsesDelegationUpdateConfig`): the same
/// fields as [`ResponsesConfig`], all optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponsesUpdateConfig {
    /// The Responses model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The backend's instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// A cap on output tokens per response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// Whether the backend may call tools in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// How much the backend reasons, and whether it summarises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
    /// The service tier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tier: Option<String>,
    /// How verbose the backend's text is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<TextConfig>,
    /// The tool choice, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<Value>,
    /// The tools the backend may use.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ResponsesTool>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

tagged_enum! {
    /// A tool of the Responses backend. Function tools are typed; the hosted ones
    /// (`web_search`, `file_search`, `code_interpreter`, `shell`, `image_generation`, `mcp`,
    /// `custom`, `namespace`, `tool_search`, `programmatic_tool_calling`, `computer`,
    /// `apply_patch`) are `Unknown` with their JSON.
    pub enum ResponsesTool {
        /// `function`: a function your application runs.
        "function" => Function(FunctionTool),
    }
}

/// A function tool of the Responses backend (`FunctionTool`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionTool {
    /// The name the backend calls it by.
    pub name: String,
    /// What it does and when to call it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Whether the backend must follow the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl FunctionTool {
    /// A function tool named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: None,
            parameters: None,
            strict: None,
            extra: Extra::new(),
        }
    }

    /// Sets the description.
    #[must_use]
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the JSON Schema of the arguments.
    #[must_use]
    pub fn with_parameters(mut self, parameters: Value) -> Self {
        self.parameters = Some(parameters);
        self
    }
}

/// The body of `{"type":"decisions"}` at start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionsDelegation {
    /// The Decision API model and questions.
    pub decisions: DecisionsConfig,
    /// Milliseconds before an automatic spoken acknowledgement (default 400 here).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement_delay_ms: Option<u64>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of `{"type":"decisions"}` in an update.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionsDelegationUpdate {
    /// The Decision API settings to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<DecisionsUpdateConfig>,
    /// Milliseconds before an automatic spoken acknowledgement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledgement_delay_ms: Option<u64>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The Decision API backend (`DecisionsDelegationConfig`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionsConfig {
    /// The Decision API model.
    pub model: String,
    /// The questions, evaluated together in order.
    pub questions: Vec<DecisionQuestion>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl DecisionsConfig {
    /// A backend running `model` on `questions`.
    pub fn new(model: impl Into<String>, questions: Vec<DecisionQuestion>) -> Self {
        Self {
            model: model.into(),
            questions,
            extra: Extra::new(),
        }
    }
}

/// The Decision API settings of an update (`DecisionsDelegationUpdateConfig`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionsUpdateConfig {
    /// The Decision API model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub questions: Option<Vec<DecisionQuestion>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// `reasoning` of a Responses backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reasoning {
    /// `none`, `minimal`, `low`, `medium`, `high` or `xhigh`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<String>,
    /// `concise`, `detailed` or `auto`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// `text` of a Responses backend.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TextConfig {
    /// `low`, `medium` or `high`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}
