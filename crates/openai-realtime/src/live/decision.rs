//! The Decision API as Live carries it: the questions of a `decisions` delegation or a
//! transcript trigger, and the answers of a `decision.event`.

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::codec::{json_kind, nullable, serialize_tagged, tagged_enum};
use crate::open_enum::open_enum;

use super::extra::Extra;

tagged_enum! {
    /// A Decision API question (`DecisionQuestion` in the SDK), asked together with the others
    /// of its list, in order. Answers come back in the same order in a `decision.event`.
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::live::{ChoiceQuestion, DecisionQuestion, DecisionsConfig};
    ///
    /// let intent = ChoiceQuestion::new(
    ///     "What does the caller want?",
    ///     ["reschedule", "cancel", "other"],
    /// )
    /// .with_name("intent");
    /// let config = DecisionsConfig::new("gpt-decision-1", vec![DecisionQuestion::Choice(intent)]);
    /// let json = serde_json::to_value(&config).unwrap();
    /// assert_eq!(json["questions"][0]["type"], "choice");
    /// assert_eq!(json["questions"][0]["choices"][1]["value"], "cancel");
    /// ```
    pub enum DecisionQuestion {
        /// `choice`: pick one of the listed values.
        "choice" => Choice(ChoiceQuestion),
        /// `predicate`: the probability that a statement holds.
        "predicate" => Predicate(PredicateQuestion),
        /// `score`: place the answer on labelled levels.
        "score" => Score(ScoreQuestion),
    }
}

/// What a question asks: text, or a list of input parts (`input_text`, `input_image`,
/// `input_json`), kept as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum DecisionInstructions {
    /// Plain text.
    Text(String),
    /// Input parts, as JSON.
    Parts(Vec<Value>),
}

impl From<&str> for DecisionInstructions {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<String> for DecisionInstructions {
    fn from(text: String) -> Self {
        Self::Text(text)
    }
}

/// A value of a choice: the SDK keeps `"true"` and `true` apart, and so does this type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ChoiceValue {
    /// A string value.
    Text(String),
    /// A boolean value.
    Bool(bool),
}

impl From<&str> for ChoiceValue {
    fn from(text: &str) -> Self {
        Self::Text(text.to_owned())
    }
}

impl From<bool> for ChoiceValue {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

/// The body of `{"type":"choice"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChoiceQuestion {
    /// The values to choose from.
    pub choices: Vec<DecisionChoiceOption>,
    /// The question.
    pub instructions: DecisionInstructions,
    /// A name to find its answer by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ChoiceQuestion {
    /// A question with its choices.
    pub fn new<V: Into<ChoiceValue>>(
        instructions: impl Into<DecisionInstructions>,
        choices: impl IntoIterator<Item = V>,
    ) -> Self {
        Self {
            choices: choices
                .into_iter()
                .map(|value| DecisionChoiceOption::new(value))
                .collect(),
            instructions: instructions.into(),
            name: None,
            extra: Extra::new(),
        }
    }

    /// Names the question.
    #[must_use]
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }
}

/// One value of a [`ChoiceQuestion`] (`DecisionChoiceOption`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionChoiceOption {
    /// The value the answer names.
    pub value: ChoiceValue,
    /// What the value means, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl DecisionChoiceOption {
    /// A value with no description.
    pub fn new(value: impl Into<ChoiceValue>) -> Self {
        Self {
            value: value.into(),
            description: None,
            extra: Extra::new(),
        }
    }
}

/// The body of `{"type":"predicate"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PredicateQuestion {
    /// The statement to judge.
    pub instructions: DecisionInstructions,
    /// A name to find its answer by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of `{"type":"score"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScoreQuestion {
    /// The question.
    pub instructions: DecisionInstructions,
    /// The levels, in order.
    pub levels: Vec<ScoreLevel>,
    /// A name to find its answer by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One level of a [`ScoreQuestion`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScoreLevel {
    /// The level's label.
    pub label: String,
    /// What the level means, for the model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

tagged_enum! {
    /// A trigger of the session config (`triggers`): questions evaluated on every
    /// transcript delta of one direction, answered in `decision.event` with a `trigger_id`.
    pub enum Trigger {
        /// `decisions`: Decision API questions.
        "decisions" => Decisions(DecisionTrigger),
    }
}

/// The body of `{"type":"decisions"}` in `triggers` (`DecisionTrigger`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionTrigger {
    /// `session.input_transcript.delta` or `session.output_transcript.delta`: which
    /// transcript fires it.
    pub event_type: String,
    /// The questions.
    pub decisions: TriggerQuestions,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `decisions` of a [`DecisionTrigger`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TriggerQuestions {
    /// Evaluated together, in order, on the transcript and the session's decision items.
    pub questions: Vec<DecisionQuestion>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

tagged_enum! {
    /// The `event` of a `decision.event`.
    pub enum DecisionOutcome {
        /// `decision.completed`: the Decision API answered.
        "decision.completed" => Completed(DecisionCompleted),
    }
}

/// The body of `{"type":"decision.completed"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionCompleted {
    /// The Decision API's response.
    pub decision: Decision,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Decision API response: the answers, in question order, and the usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Decision {
    /// One answer per question, in order; any of them can be a refusal.
    pub answers: Vec<DecisionAnswer>,
    /// The model used.
    pub model: String,
    /// Token usage.
    pub usage: DecisionUsage,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl Decision {
    /// The answer to the question named `name`.
    pub fn answer(&self, name: &str) -> Option<&DecisionAnswer> {
        self.answers.iter().find(|a| a.name() == Some(name))
    }
}

tagged_enum! {
    /// The answer to one question.
    ///
    /// Probabilities, confidences and scores are [`Number`]s as the service wrote them (so
    /// that `1` is written back `1`, not `1.0`): read them with `as_f64()`.
    pub enum DecisionAnswer {
        /// `predicate`
        "predicate" => Predicate(PredicateAnswer),
        /// `choice`
        "choice" => Choice(ChoiceAnswer),
        /// `score`
        "score" => Score(ScoreAnswer),
        /// `refusal`: the model declined this question.
        "refusal" => Refusal(RefusalAnswer),
    }
}

impl DecisionAnswer {
    /// The name of the question it answers, when the question had one.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Predicate(a) => a.name.as_deref(),
            Self::Choice(a) => a.name.as_deref(),
            Self::Score(a) => a.name.as_deref(),
            Self::Refusal(a) => a.name.as_ref().and_then(Option::as_deref),
            Self::Unknown(value) => value.get("name").and_then(Value::as_str),
        }
    }
}

/// The answer to a predicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PredicateAnswer {
    /// The question's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The probability that the statement holds.
    pub probability: Number,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to a choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChoiceAnswer {
    /// The value chosen.
    pub choice: ChoiceValue,
    /// How sure the model is.
    pub confidence: Number,
    /// The question's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The probability of every value.
    pub probabilities: Vec<ChoiceProbability>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The probability of one value of a choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChoiceProbability {
    /// Its probability.
    pub probability: Number,
    /// The value.
    pub value: ChoiceValue,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// The answer to a score question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScoreAnswer {
    /// How sure the model is.
    pub confidence: Number,
    /// The question's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The probability of every level.
    pub probabilities: Vec<ScoreProbability>,
    /// The expected score.
    pub score: Number,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The probability of one level of a score question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScoreProbability {
    /// The level's label.
    pub label: String,
    /// Its probability.
    pub probability: Number,
    /// The level's value.
    pub value: i64,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// The model declined to answer one question; the others can still have answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefusalAnswer {
    /// The question's name: absent, `null` (an unnamed question, as the SDK documents it) or
    /// the name.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub name: Option<Option<String>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Token usage of a Decision API request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionUsage {
    /// Input tokens.
    pub input_tokens: u64,
    /// Their breakdown.
    pub input_tokens_details: InputTokensDetails,
    /// Output tokens.
    pub output_tokens: u64,
    /// Their breakdown.
    pub output_tokens_details: OutputTokensDetails,
    /// Input plus output.
    pub total_tokens: u64,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// The breakdown of [`DecisionUsage::input_tokens`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputTokensDetails {
    /// Tokens written to the cache.
    pub cache_write_tokens: u64,
    /// Tokens read from the cache.
    pub cached_tokens: u64,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// The breakdown of [`DecisionUsage::output_tokens`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputTokensDetails {
    /// Reasoning tokens.
    pub reasoning_tokens: u64,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

open_enum! {
    /// The author of a [`DecisionMessage`].
    pub enum DecisionRole {
        /// `user`
        User = "user",
        /// `developer`
        Developer = "developer",
        /// `system`
        System = "system",
        /// `assistant`
        Assistant = "assistant",
    }
}

/// An input item of the Decision API: context that later decisions read
/// (`decision.item.create`), or the item as stored, with its `id` (`decision.item.created`).
///
/// Messages are told apart by `role` (their `type`, `message`, is optional); the other items
/// by `type`. An item of another kind is `Unknown`, with its JSON.
///
/// # Examples
///
/// ```
/// use openai_realtime::live::{ClientEvent, DecisionItem};
///
/// let note = ClientEvent::decision_item_create(DecisionItem::user_text("The caller's plan is Gold."));
/// assert_eq!(
///     note.encode(),
///     r#"{"type":"decision.item.create","item":{"role":"user","content":"The caller's plan is Gold."}}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum DecisionItem {
    /// A message (`role` user, developer, system or assistant).
    Message(DecisionMessage),
    /// `function_call`
    FunctionCall(DecisionFunctionCall),
    /// `function_call_output`
    FunctionCallOutput(DecisionToolOutput),
    /// `custom_tool_call`
    CustomToolCall(DecisionCustomToolCall),
    /// `custom_tool_call_output`
    CustomToolCallOutput(DecisionToolOutput),
    /// An item of a kind this version does not know, kept as received.
    Unknown(Value),
}

impl DecisionItem {
    /// A user message of plain text.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self::Message(DecisionMessage {
            role: DecisionRole::User,
            content: MessageContent::Text(text.into()),
            id: None,
            phase: None,
            item_type: None,
            extra: Extra::new(),
        })
    }

    /// The item's id, when it has one (a stored item always has).
    pub fn id(&self) -> Option<&str> {
        match self {
            Self::Message(m) => m.id.as_deref(),
            Self::FunctionCall(c) => c.id.as_deref(),
            Self::CustomToolCall(c) => c.id.as_deref(),
            Self::FunctionCallOutput(o) | Self::CustomToolCallOutput(o) => o.id.as_deref(),
            Self::Unknown(value) => value.get("id").and_then(Value::as_str),
        }
    }
}

impl Serialize for DecisionItem {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Message(message) => message.serialize(serializer),
            Self::FunctionCall(body) => serialize_tagged("function_call", body, serializer),
            Self::FunctionCallOutput(body) => {
                serialize_tagged("function_call_output", body, serializer)
            }
            Self::CustomToolCall(body) => serialize_tagged("custom_tool_call", body, serializer),
            Self::CustomToolCallOutput(body) => {
                serialize_tagged("custom_tool_call_output", body, serializer)
            }
            Self::Unknown(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for DecisionItem {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        if !value.is_object() {
            return Err(D::Error::custom(format_args!(
                "invalid type: {}, expected an object",
                json_kind(&value)
            )));
        }
        fn body<T: serde::de::DeserializeOwned, E: serde::de::Error>(
            value: Value,
            tag: &str,
        ) -> Result<T, E> {
            serde_json::from_value(value).map_err(|err| E::custom(format_args!("`{tag}`: {err}")))
        }
        let tag = value.get("type").and_then(Value::as_str).map(str::to_owned);
        match tag.as_deref() {
            Some("function_call") => body(value, "function_call").map(Self::FunctionCall),
            Some("function_call_output") => {
                body(value, "function_call_output").map(Self::FunctionCallOutput)
            }
            Some("custom_tool_call") => body(value, "custom_tool_call").map(Self::CustomToolCall),
            Some("custom_tool_call_output") => {
                body(value, "custom_tool_call_output").map(Self::CustomToolCallOutput)
            }
            None | Some("message") if value.get("role").is_some() => {
                body(value, "message").map(Self::Message)
            }
            _ => Ok(Self::Unknown(value)),
        }
    }
}

/// The content of a [`DecisionMessage`]: text, or a list of parts (`input_text`,
/// `input_image`, `input_json`; `output_text`, `refusal` for the assistant), kept as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Content parts, as JSON.
    Parts(Vec<Value>),
}

/// A message item of the Decision API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionMessage {
    /// Who wrote it.
    pub role: DecisionRole,
    /// What it says.
    pub content: MessageContent,
    /// Its id (always present once stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// For an assistant message: `commentary` or `final_answer`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// `message`, when the sender wrote it.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of a `function_call` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionFunctionCall {
    /// The call's id, which its output repeats.
    pub call_id: String,
    /// The function's name.
    pub name: String,
    /// The arguments, as JSON text.
    pub arguments: String,
    /// The item's id (always present once stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The function's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of a `custom_tool_call` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionCustomToolCall {
    /// The call's id, which its output repeats.
    pub call_id: String,
    /// The tool's name.
    pub name: String,
    /// The tool's input text.
    pub input: String,
    /// The item's id (always present once stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The tool's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The body of a `function_call_output` or `custom_tool_call_output` item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionToolOutput {
    /// The `call_id` of the call it answers.
    pub call_id: String,
    /// Text, or a list of `input_text` / `input_image` parts, as JSON.
    pub output: Value,
    /// The item's id (always present once stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `in_progress`, `completed` or `incomplete`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}
