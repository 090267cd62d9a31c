//! Tools declared and handled in one place: each tool's name, description and argument
//! schema sit next to its handler, so what the agent is told and what runs cannot drift.

use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use serde::Serialize;
use serde_json::Value;

use super::{ToolCall, ToolError, ToolHandler, ToolReply};

/// A tool as the agent is told about it: its name, what it does, and the JSON Schema of
/// its arguments. Provider-neutral; the OpenAI leg takes it as a function tool
/// (`OpenAiLeg::builder(..).tool(spec)`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ToolSpec {
    /// The name the agent calls it by.
    pub name: String,
    /// What it does and when to call it, for the model.
    pub description: String,
    /// The JSON Schema of the arguments (an `object` schema).
    pub parameters: Value,
}

impl ToolSpec {
    /// A tool's declaration.
    pub fn new(name: impl Into<String>, description: impl Into<String>, parameters: Value) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            parameters,
        }
    }
}

#[cfg(feature = "openai")]
impl From<ToolSpec> for openai_realtime::Tool {
    fn from(spec: ToolSpec) -> Self {
        openai_realtime::FunctionTool::new(spec.name, spec.description, spec.parameters).into()
    }
}

#[cfg(feature = "openai")]
impl From<&ToolSpec> for openai_realtime::Tool {
    fn from(spec: &ToolSpec) -> Self {
        spec.clone().into()
    }
}

type Handler =
    Arc<dyn Fn(ToolCall) -> BoxFuture<'static, Result<ToolReply, ToolError>> + Send + Sync>;

/// A set of tools, each declared with its handler: a [`ToolHandler`] that runs a call by
/// the tool's name, and the [`ToolSpec`]s to give the agent.
///
/// ```
/// use serde_json::json;
/// use voice_bridge::{ToolReply, ToolSpec, Tools};
///
/// let tools = Tools::new()
///     .tool(
///         ToolSpec::new(
///             "confirm_appointment",
///             "Confirms the caller's appointment",
///             json!({"type": "object", "properties": {}}),
///         ),
///         |_call| async { Ok(ToolReply::new(json!({"confirmed": true}))) },
///     )
///     .tool(
///         ToolSpec::new("end_call", "Hangs up after the goodbye", json!({"type": "object"})),
///         |_call| async { Ok(ToolReply::new(json!({"ok": true})).end_call()) },
///     );
/// let names: Vec<_> = tools.specs().map(|spec| spec.name.as_str()).collect();
/// assert_eq!(names, ["confirm_appointment", "end_call"]);
/// // With the OpenAI leg (feature `openai`):
/// // let mut agent = OpenAiLeg::builder(config);
/// // for spec in tools.specs() { agent = agent.tool(spec); }
/// // Bridge::new(call, agent.build()).with_tools(tools)
/// ```
///
/// With feature `schemars`, [`Tools::typed`] derives the schema from the arguments' Rust
/// type and hands the handler the arguments already parsed.
#[derive(Clone, Default)]
#[must_use]
pub struct Tools {
    order: Vec<String>,
    entries: BTreeMap<String, (ToolSpec, Handler)>,
}

impl Tools {
    /// No tools yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tool and the handler that runs its calls.
    ///
    /// # Panics
    ///
    /// If a tool of that name was already added: two handlers for one name is a bug in the
    /// program, found at start-up rather than mid-call.
    pub fn tool<F, Fut>(mut self, spec: ToolSpec, handler: F) -> Self
    where
        F: Fn(ToolCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolReply, ToolError>> + Send + 'static,
    {
        let name = spec.name.clone();
        assert!(
            !self.entries.contains_key(&name),
            "the tool {name:?} was added twice"
        );
        let handler: Handler = Arc::new(move |call| Box::pin(handler(call)));
        self.order.push(name.clone());
        self.entries.insert(name, (spec, handler));
        self
    }

    /// Adds a tool whose argument schema comes from `A`'s [`schemars::JsonSchema`], and
    /// whose handler gets the arguments parsed into `A` (with the call, for its id).
    /// Arguments that do not parse give the agent an error naming the mismatch, so the
    /// model can try again; the handler is not called.
    ///
    /// ```
    /// use schemars::JsonSchema;
    /// use serde::Deserialize;
    /// use serde_json::json;
    /// use voice_bridge::{ToolReply, Tools};
    ///
    /// /// A message for the office.
    /// #[derive(Deserialize, JsonSchema)]
    /// struct Message {
    ///     /// The caller's name.
    ///     name: String,
    ///     /// What they want.
    ///     message: String,
    /// }
    ///
    /// let tools = Tools::new().typed("take_message", "Records a message", |args: Message, _call| async move {
    ///     Ok(ToolReply::new(json!({"recorded": args.name})))
    /// });
    /// let spec = tools.specs().next().unwrap();
    /// assert_eq!(spec.parameters["required"], json!(["name", "message"]));
    /// ```
    ///
    /// # Panics
    ///
    /// As [`Tools::tool`], if the name was already added.
    #[cfg(feature = "schemars")]
    #[cfg_attr(docsrs, doc(cfg(feature = "schemars")))]
    pub fn typed<A, F, Fut>(
        self,
        name: impl Into<String>,
        description: impl Into<String>,
        handler: F,
    ) -> Self
    where
        A: serde::de::DeserializeOwned + schemars::JsonSchema + Send + 'static,
        F: Fn(A, ToolCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ToolReply, ToolError>> + Send + 'static,
    {
        let name = name.into();
        let mut parameters = serde_json::to_value(schemars::schema_for!(A)).unwrap_or_default();
        if let Some(schema) = parameters.as_object_mut() {
            // The function's own name and description say this; the meta-schema URL is noise.
            schema.remove("$schema");
            schema.remove("title");
        }
        let spec = ToolSpec::new(name.clone(), description, parameters);
        let handler = Arc::new(handler);
        self.tool(spec, move |call: ToolCall| {
            let handler = Arc::clone(&handler);
            let name = name.clone();
            async move {
                match serde_json::from_value::<A>(call.arguments.clone()) {
                    Ok(args) => handler(args, call).await,
                    Err(err) => Err(ToolError::new(format!(
                        "the arguments of {name} do not match its schema: {err}"
                    ))),
                }
            }
        })
    }

    /// The tools' declarations, in the order they were added.
    pub fn specs(&self) -> impl Iterator<Item = &ToolSpec> {
        self.order
            .iter()
            .filter_map(|name| self.entries.get(name).map(|(spec, _)| spec))
    }

    /// Whether no tool was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl fmt::Debug for Tools {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tools").field("names", &self.order).finish()
    }
}

#[async_trait]
impl ToolHandler for Tools {
    async fn call(&self, call: ToolCall) -> Result<ToolReply, ToolError> {
        let Some((_, handler)) = self.entries.get(&call.name) else {
            return Err(ToolError::new(format!(
                "no tool named {:?}; the tools are {}",
                call.name,
                self.order.join(", ")
            )));
        };
        handler(call).await
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn tools() -> Tools {
        Tools::new()
            .tool(
                ToolSpec::new("echo", "Echoes its arguments", json!({"type": "object"})),
                |call| async move { Ok(ToolReply::new(call.arguments)) },
            )
            .tool(
                ToolSpec::new("fail", "Always fails", json!({"type": "object"})),
                |_call| async { Err(ToolError::new("out of order")) },
            )
    }

    #[tokio::test]
    async fn a_call_runs_the_handler_of_its_name() {
        let reply = tools()
            .call(ToolCall::new("call_1", "echo", json!({"a": 1})))
            .await
            .unwrap();
        assert_eq!(reply, ToolReply::new(json!({"a": 1})));
        let err = tools()
            .call(ToolCall::new("call_2", "fail", json!({})))
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "out of order");
    }

    #[tokio::test]
    async fn an_unknown_name_is_an_error_listing_the_tools() {
        let err = tools()
            .call(ToolCall::new("call_1", "nope", json!({})))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"no tool named "nope"; the tools are echo, fail"#
        );
    }

    #[test]
    fn specs_come_in_the_order_added() {
        let names: Vec<_> = tools().specs().map(|s| s.name.clone()).collect();
        assert_eq!(names, ["echo", "fail"]);
        assert!(!tools().is_empty());
        assert!(Tools::new().is_empty());
        assert_eq!(
            format!("{:?}", tools()),
            r#"Tools { names: ["echo", "fail"] }"#
        );
    }

    #[test]
    #[should_panic(expected = "the tool \"echo\" was added twice")]
    fn a_name_added_twice_panics_at_start_up() {
        let _ = tools().tool(ToolSpec::new("echo", "again", json!({})), |_call| async {
            Ok(ToolReply::new(json!(null)))
        });
    }

    #[cfg(feature = "openai")]
    #[test]
    fn a_spec_is_an_openai_function_tool() {
        let spec = ToolSpec::new(
            "echo",
            "Echoes",
            json!({"type": "object", "properties": {}}),
        );
        let tool: openai_realtime::Tool = (&spec).into();
        let wire = serde_json::to_value(&tool).unwrap();
        assert_eq!(wire["type"], "function");
        assert_eq!(wire["name"], "echo");
        assert_eq!(wire["description"], "Echoes");
        assert_eq!(wire["parameters"], spec.parameters);
    }

    #[cfg(feature = "schemars")]
    mod typed {
        use schemars::JsonSchema;
        use serde::Deserialize;

        use super::*;

        #[derive(Deserialize, JsonSchema)]
        struct Reschedule {
            /// When the caller would rather come.
            preferred_times: Vec<String>,
            reason: Option<String>,
        }

        fn tools() -> Tools {
            Tools::new().typed(
                "reschedule",
                "Asks for another time",
                |args: Reschedule, call| async move {
                    Ok(ToolReply::new(json!({
                        "call": call.call_id.as_str(),
                        "first": args.preferred_times.first(),
                        "reason": args.reason,
                    })))
                },
            )
        }

        #[test]
        fn the_schema_is_derived_from_the_type() {
            let tools = tools();
            let spec = tools.specs().next().unwrap();
            assert_eq!(spec.parameters["type"], "object");
            assert_eq!(spec.parameters["required"], json!(["preferred_times"]));
            assert_eq!(
                spec.parameters["properties"]["preferred_times"]["type"],
                "array"
            );
            assert_eq!(
                spec.parameters["properties"]["preferred_times"]["description"],
                "When the caller would rather come."
            );
            assert!(spec.parameters.get("$schema").is_none());
        }

        #[tokio::test]
        async fn parsed_arguments_reach_the_handler_and_bad_ones_the_agent() {
            let reply = tools()
                .call(ToolCall::new(
                    "call_7",
                    "reschedule",
                    json!({"preferred_times": ["Thu"]}),
                ))
                .await
                .unwrap();
            assert_eq!(
                reply.output,
                json!({"call": "call_7", "first": "Thu", "reason": null})
            );

            let err = tools()
                .call(ToolCall::new(
                    "call_8",
                    "reschedule",
                    json!({"preferred_times": "Thu"}),
                ))
                .await
                .unwrap_err();
            assert!(
                err.to_string().starts_with(
                    "the arguments of reschedule do not match its schema: invalid type"
                ),
                "{err}"
            );
        }
    }
}
