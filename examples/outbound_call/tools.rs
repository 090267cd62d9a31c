//! The agent's session for an appointment call, its tools, and the handler that records
//! what the callee decided.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use openai_realtime::{
    FunctionTool, RealtimeSession, Tool, Transcription, TranscriptionModel, Voice,
};
use serde::Serialize;
use serde_json::{Value, json};
use voice_bridge::{ToolCall, ToolError, ToolHandler, ToolReply};

use crate::appointment::Appointment;

/// `confirm_appointment`.
pub const CONFIRM: &str = "confirm_appointment";
/// `reschedule_appointment`.
pub const RESCHEDULE: &str = "reschedule_appointment";
/// `cancel_appointment`.
pub const CANCEL: &str = "cancel_appointment";
/// `end_call`.
pub const END_CALL: &str = "end_call";

/// The session the agent is configured with: G.711 mu-law both ways with server VAD
/// (Twilio's audio passes through untouched), the appointment's instructions, the four
/// tools, caller transcription for the transcript, and the chosen voice.
pub fn session(appointment: &Appointment, voice: Option<&Voice>) -> RealtimeSession {
    let mut session = RealtimeSession::phone_call();
    session.instructions = Some(appointment.instructions());
    session.tools = Some(definitions());
    let mut transcription = Transcription::new(TranscriptionModel::GptTranscribe);
    transcription.language = Some("en".to_owned());
    session.audio_input_mut().transcription = Some(Some(transcription));
    if let Some(voice) = voice {
        session.set_voice(voice.clone());
    }
    session
}

/// The backend model that runs the tools of a GPT-Live session (its Responses delegation:
/// Live's voice model has no tools of its own and hands tasks to this one).
pub const LIVE_TOOL_MODEL: &str = "gpt-5.5";

/// The four tools as name, description and JSON Schema of the arguments: one table for
/// both protocols.
fn specs() -> [(&'static str, &'static str, Value); 4] {
    [
        (
            CONFIRM,
            "The callee confirmed they will attend the appointment as scheduled.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ),
        (
            RESCHEDULE,
            "The callee wants another time. Call it with the times they said suit them.",
            json!({
                "type": "object",
                "properties": {
                    "preferred_times": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "The times the callee prefers, in their words, e.g. \"Thursday afternoon\"."
                    }
                },
                "required": ["preferred_times"],
                "additionalProperties": false
            }),
        ),
        (
            CANCEL,
            "The callee wants to cancel the appointment.",
            json!({
                "type": "object",
                "properties": {"reason": {"type": "string", "description": "Why, if they said."}},
                "additionalProperties": false
            }),
        ),
        (
            END_CALL,
            "End the call. Call it only after you have said goodbye.",
            json!({"type": "object", "properties": {}, "additionalProperties": false}),
        ),
    ]
}

/// The GPT-Live session for an appointment call: G.711 mu-law at 8000 Hz both ways (Twilio's
/// audio passes through untouched), `model`, the appointment's instructions, the four tools
/// as a Responses delegation run by [`LIVE_TOOL_MODEL`], and the chosen voice. Live has no
/// turn detection setting and no transcription model to pick: both are the service's.
pub fn live_session(
    appointment: &Appointment,
    model: &str,
    voice: Option<&Voice>,
) -> openai_realtime::live::SessionConfig {
    use openai_realtime::live::{BuiltInVoice, Delegation, ResponsesConfig, SessionConfig};
    let tools = live_definitions().into_iter().fold(
        ResponsesConfig::new(LIVE_TOOL_MODEL),
        ResponsesConfig::with_tool,
    );
    let mut session = SessionConfig::phone_call()
        .with_model(model)
        .with_instructions(appointment.instructions())
        .with_delegation(Delegation::responses(tools));
    if let Some(voice) = voice {
        session = session.with_voice(BuiltInVoice::from(voice.as_str()));
    }
    session
}

/// The four tools, as declared to a Realtime agent.
pub fn definitions() -> Vec<Tool> {
    specs()
        .into_iter()
        .map(|(name, description, parameters)| {
            FunctionTool::new(name, description, parameters).into()
        })
        .collect()
}

/// The four tools, as function tools of a GPT-Live session's Responses delegation (run by
/// [`LIVE_TOOL_MODEL`]); their calls reach the same [`AppointmentTools`].
pub fn live_definitions() -> Vec<openai_realtime::live::FunctionTool> {
    specs()
        .into_iter()
        .map(|(name, description, parameters)| {
            openai_realtime::live::FunctionTool::new(name)
                .with_description(description)
                .with_parameters(parameters)
        })
        .collect()
}

/// What the callee decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// They will come.
    Confirmed,
    /// They asked for another time.
    RescheduleRequested {
        /// Their preferred times.
        preferred_times: Vec<String>,
    },
    /// They cancelled.
    Cancelled {
        /// Their reason, if given.
        reason: Option<String>,
    },
    /// A machine answered and the message was left.
    VoicemailLeft,
}

impl Decision {
    /// A short label: `confirmed`, `reschedule_requested`, `cancelled`, `voicemail_left`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::RescheduleRequested { .. } => "reschedule_requested",
            Self::Cancelled { .. } => "cancelled",
            Self::VoicemailLeft => "voicemail_left",
        }
    }
}

/// The tool handler of one call: records decisions (with the call's ids, in the log) and
/// ends the call on `end_call`.
#[derive(Debug, Clone)]
pub struct AppointmentTools {
    call_sid: String,
    appointment_id: String,
    decision: Arc<Mutex<Option<Decision>>>,
}

impl AppointmentTools {
    /// A handler for the call `call_sid` about `appointment`.
    pub fn new(call_sid: impl Into<String>, appointment: &Appointment) -> Self {
        Self {
            call_sid: call_sid.into(),
            appointment_id: appointment.id.clone(),
            decision: Arc::new(Mutex::new(None)),
        }
    }

    /// The last decision the agent recorded, if any.
    pub fn decision(&self) -> Option<Decision> {
        self.decision
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn record(&self, decision: Decision) -> Value {
        tracing::info!(
            call_sid = %self.call_sid,
            appointment_id = %self.appointment_id,
            decision = decision.label(),
            "appointment decision recorded"
        );
        let output = json!({"recorded": decision.label(), "appointment_id": self.appointment_id});
        *self.decision.lock().unwrap_or_else(|e| e.into_inner()) = Some(decision);
        output
    }
}

#[async_trait]
impl ToolHandler for AppointmentTools {
    async fn call(&self, call: ToolCall) -> Result<ToolReply, ToolError> {
        match call.name.as_str() {
            CONFIRM => Ok(ToolReply::new(self.record(Decision::Confirmed))),
            RESCHEDULE => {
                let preferred_times: Vec<String> = call
                    .arguments
                    .get("preferred_times")
                    .and_then(Value::as_array)
                    .map(|times| {
                        times
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default();
                if preferred_times.is_empty() {
                    return Err(ToolError::new(
                        "preferred_times is empty: ask which times suit the callee first",
                    ));
                }
                let output = self.record(Decision::RescheduleRequested { preferred_times });
                Ok(ToolReply::new(json!({
                    "recorded": output["recorded"],
                    "next": "tell the callee the office will call back to confirm the new time"
                })))
            }
            CANCEL => {
                let reason = call
                    .arguments
                    .get("reason")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                Ok(ToolReply::new(self.record(Decision::Cancelled { reason })))
            }
            END_CALL => Ok(ToolReply::new(json!({"ok": true})).end_call()),
            other => Err(ToolError::new(format!(
                "no tool named {other:?}; the tools are {CONFIRM}, {RESCHEDULE}, {CANCEL}, {END_CALL}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voice_bridge::AfterTool;

    fn call(name: &str, arguments: Value) -> ToolCall {
        ToolCall::new("call_1", name, arguments)
    }

    #[tokio::test]
    async fn decisions_are_recorded_and_end_call_ends_after_the_goodbye() {
        let tools = AppointmentTools::new("CA1", &Appointment::demo());
        assert_eq!(tools.decision(), None);
        let reply = tools
            .call(call(
                RESCHEDULE,
                json!({"preferred_times": ["Thursday afternoon"]}),
            ))
            .await
            .unwrap();
        assert_eq!(reply.then, AfterTool::Continue);
        assert_eq!(
            tools.decision(),
            Some(Decision::RescheduleRequested {
                preferred_times: vec!["Thursday afternoon".into()]
            })
        );
        let reply = tools.call(call(END_CALL, json!({}))).await.unwrap();
        assert_eq!(reply.then, AfterTool::EndCall);
    }

    #[tokio::test]
    async fn bad_calls_get_an_error_the_agent_can_act_on() {
        let tools = AppointmentTools::new("CA1", &Appointment::demo());
        let err = tools.call(call(RESCHEDULE, json!({}))).await.unwrap_err();
        assert!(err.to_string().contains("preferred_times"));
        let err = tools.call(call("transfer", json!({}))).await.unwrap_err();
        assert!(err.to_string().contains("no tool named"));
        assert_eq!(tools.decision(), None);
    }

    #[test]
    fn the_session_speaks_mulaw_and_declares_the_tools() {
        let session = session(&Appointment::demo(), Some(&Voice::from("marin")));
        assert_eq!(
            session.input_format(),
            Some(&openai_realtime::AudioFormat::Pcmu)
        );
        assert_eq!(session.tools.as_ref().map(Vec::len), Some(4));
        assert!(
            session
                .instructions
                .as_deref()
                .unwrap()
                .contains("Jane Doe")
        );
    }
}
