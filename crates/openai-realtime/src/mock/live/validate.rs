//! The strict checks of the Live session config, with the service's error codes and the
//! paths of the fields at fault (`session.audio.format.rate`).

// The `Err` is the Live error payload the mock sends, built once per refused config; boxing
// it would only add an allocation on that path.
#![allow(clippy::result_large_err)]

use serde_json::{Map, Value};

use crate::live::LiveError;

/// An `invalid_request_error` with a code, a message and the parameter.
pub(super) fn refusal(code: &str, message: String, param: Option<&str>) -> LiveError {
    let mut error = LiveError::new("invalid_request_error", code, message);
    error.param = param.map(str::to_owned);
    error
}

fn unknown(path: &str) -> LiveError {
    refusal(
        "unknown_parameter",
        format!("Unknown parameter: '{path}'."),
        Some(path),
    )
}

fn missing(path: &str) -> LiveError {
    refusal(
        "missing_required_parameter",
        format!("Missing required parameter: '{path}'."),
        Some(path),
    )
}

fn invalid(path: &str, why: &str) -> LiveError {
    refusal(
        "invalid_value",
        format!("Invalid value for '{path}': {why}"),
        Some(path),
    )
}

fn object<'a>(value: &'a Value, path: &str) -> Result<&'a Map<String, Value>, LiveError> {
    value
        .as_object()
        .ok_or_else(|| invalid(path, "expected an object."))
}

fn only(map: &Map<String, Value>, path: &str, known: &[&str]) -> Result<(), LiveError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(unknown(&format!("{path}.{key}"))),
        None => Ok(()),
    }
}

fn string(map: &Map<String, Value>, path: &str, key: &str) -> Result<Option<String>, LiveError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(&format!("{path}.{key}"), "expected a string.")),
    }
}

/// The startup fields of `SessionConfig`.
const SESSION_FIELDS: &[&str] = &[
    "model",
    "instructions",
    "audio",
    "delegation",
    "input",
    "client",
    "safety_identifier",
    "store",
    "triggers",
];

/// Checks a `session.start` config; returns the model.
pub(super) fn session_config(session: &Value) -> Result<String, LiveError> {
    let map = object(session, "session")?;
    only(map, "session", SESSION_FIELDS)?;
    let model = string(map, "session", "model")?.ok_or_else(|| missing("session.model"))?;
    string(map, "session", "instructions")?;
    string(map, "session", "safety_identifier")?;
    if let Some(store) = map.get("store")
        && !store.is_null()
        && !store.is_boolean()
    {
        return Err(invalid("session.store", "expected a boolean."));
    }
    if let Some(audio) = map.get("audio").filter(|a| !a.is_null()) {
        audio_config(audio)?;
    }
    if let Some(delegation) = map.get("delegation").filter(|d| !d.is_null()) {
        delegation_config(delegation, "session.delegation", false)?;
    }
    for key in ["input", "triggers"] {
        if let Some(list) = map.get(key)
            && !list.is_null()
            && !list.is_array()
        {
            return Err(invalid(&format!("session.{key}"), "expected an array."));
        }
    }
    if let Some(triggers) = map.get("triggers").and_then(Value::as_array) {
        triggers_config(triggers)?;
    }
    if map.get("input").and_then(Value::as_array).map(Vec::len) > Some(128) {
        return Err(invalid("session.input", "at most 128 items."));
    }
    Ok(model)
}

/// Decisions triggers: `{type: "decisions", event_type, decisions: {questions}}`, at most one
/// per transcript event type.
pub(super) fn triggers_config(triggers: &[Value]) -> Result<(), LiveError> {
    let mut seen = Vec::new();
    for (i, trigger) in triggers.iter().enumerate() {
        let path = format!("session.triggers[{i}]");
        let map = object(trigger, &path)?;
        only(map, &path, &["type", "event_type", "decisions"])?;
        if map.get("type").and_then(Value::as_str) != Some("decisions") {
            return Err(invalid(&format!("{path}.type"), "expected 'decisions'."));
        }
        let event_type = string(map, &path, "event_type")?
            .ok_or_else(|| missing(&format!("{path}.event_type")))?;
        if ![
            "session.input_transcript.delta",
            "session.output_transcript.delta",
        ]
        .contains(&event_type.as_str())
        {
            return Err(invalid(
                &format!("{path}.event_type"),
                "expected 'session.input_transcript.delta' or 'session.output_transcript.delta'.",
            ));
        }
        if seen.contains(&event_type) {
            return Err(invalid(
                &format!("{path}.event_type"),
                "at most one Decisions trigger per transcript event type.",
            ));
        }
        seen.push(event_type);
        let questions = map
            .get("decisions")
            .and_then(|d| d.get("questions"))
            .ok_or_else(|| missing(&format!("{path}.decisions.questions")))?;
        if !questions.is_array() {
            return Err(invalid(
                &format!("{path}.decisions.questions"),
                "expected an array.",
            ));
        }
    }
    Ok(())
}

fn audio_config(audio: &Value) -> Result<(), LiveError> {
    let map = object(audio, "session.audio")?;
    only(map, "session.audio", &["format", "output"])?;
    if let Some(format) = map.get("format").filter(|f| !f.is_null()) {
        let path = "session.audio.format";
        let format = object(format, path)?;
        only(format, path, &["type", "rate"])?;
        let kind =
            string(format, path, "type")?.ok_or_else(|| missing("session.audio.format.type"))?;
        let rate = format
            .get("rate")
            .ok_or_else(|| missing("session.audio.format.rate"))?
            .as_u64()
            .ok_or_else(|| invalid("session.audio.format.rate", "expected an integer."))?;
        match (kind.as_str(), rate) {
            ("audio/pcm", 16_000 | 24_000) | ("audio/pcmu" | "audio/pcma", 8000) => {}
            ("audio/pcm", _) => {
                return Err(invalid(
                    "session.audio.format.rate",
                    "audio/pcm supports 16000 or 24000.",
                ));
            }
            ("audio/pcmu" | "audio/pcma", _) => {
                return Err(invalid(
                    "session.audio.format.rate",
                    "G.711 audio uses 8000.",
                ));
            }
            _ => {
                return Err(invalid(
                    "session.audio.format.type",
                    "expected one of 'audio/pcm', 'audio/pcmu', 'audio/pcma'.",
                ));
            }
        }
    }
    if let Some(output) = map.get("output").filter(|o| !o.is_null()) {
        let output = object(output, "session.audio.output")?;
        only(output, "session.audio.output", &["voice"])?;
        match output.get("voice") {
            None | Some(Value::Null | Value::String(_)) => {}
            Some(Value::Object(custom)) if custom.get("id").is_some_and(Value::is_string) => {
                only(custom, "session.audio.output.voice", &["id"])?;
            }
            Some(_) => {
                return Err(invalid(
                    "session.audio.output.voice",
                    "expected a voice name or {\"id\": ...}.",
                ));
            }
        }
    }
    Ok(())
}

/// Checks a delegation (startup or update shape). The backend configs inside
/// (`responses`, `decisions`) are the Responses and Decision APIs' and are not checked
/// field by field, past the required `model` and `questions` at startup.
pub(super) fn delegation_config(
    delegation: &Value,
    path: &str,
    update: bool,
) -> Result<String, LiveError> {
    let map = object(delegation, path)?;
    let kind = string(map, path, "type")?.ok_or_else(|| missing(&format!("{path}.type")))?;
    match kind.as_str() {
        "client" => only(map, path, &["type", "acknowledgement_delay_ms"])?,
        "responses" | "decisions" => {
            only(map, path, &["type", "acknowledgement_delay_ms", &kind])?;
            let inner_path = format!("{path}.{kind}");
            match map.get(&kind) {
                Some(inner) => {
                    let inner = object(inner, &inner_path)?;
                    if !update && !inner.contains_key("model") {
                        return Err(missing(&format!("{inner_path}.model")));
                    }
                    if !update && kind == "decisions" && !inner.contains_key("questions") {
                        return Err(missing(&format!("{inner_path}.questions")));
                    }
                }
                None if update => {}
                None => return Err(missing(&inner_path)),
            }
        }
        _ => {
            return Err(invalid(
                &format!("{path}.type"),
                "expected one of 'client', 'responses', 'decisions'.",
            ));
        }
    }
    if let Some(delay) = map.get("acknowledgement_delay_ms")
        && !delay.is_null()
        && delay.as_u64().is_none()
    {
        return Err(invalid(
            &format!("{path}.acknowledgement_delay_ms"),
            "expected a non-negative integer.",
        ));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn param(session: Value) -> Option<String> {
        session_config(&session).err().and_then(|e| e.param)
    }

    #[test]
    fn names_the_field_at_fault() {
        assert_eq!(
            param(json!({"model": "gpt-live-1", "turn_detection": {}})).as_deref(),
            Some("session.turn_detection")
        );
        assert_eq!(
            param(json!({"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcmu", "rate": 16000}}}))
                .as_deref(),
            Some("session.audio.format.rate")
        );
        assert_eq!(
            param(json!({"model": "gpt-live-1", "audio": {"input": {}}})).as_deref(),
            Some("session.audio.input")
        );
        assert_eq!(param(json!({})).as_deref(), Some("session.model"));
        assert_eq!(
            param(json!({"model": "gpt-live-1", "delegation": {"type": "responses"}})).as_deref(),
            Some("session.delegation.responses")
        );
    }

    #[test]
    fn accepts_the_sdk_shapes() {
        for session in [
            json!({"model": "gpt-live-1"}),
            json!({"model": "gpt-live-1.1", "audio": {"format": {"type": "audio/pcm", "rate": 16000}, "output": {"voice": {"id": "voice_1"}}}}),
            json!({"model": "gpt-live-1", "audio": {"format": {"type": "audio/pcma", "rate": 8000}}, "delegation": {"type": "client", "acknowledgement_delay_ms": 0}, "store": false, "input": []}),
        ] {
            assert_eq!(
                session_config(&session).map_err(|e| e.message),
                Ok(session["model"].as_str().unwrap().to_owned())
            );
        }
    }
}
