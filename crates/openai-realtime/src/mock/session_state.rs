//! The effective session of a mock connection, kept in the GA shape: defaults as the service
//! reports them in `session.created`, and the update rules (only present fields change).

use serde_json::{Value, json};

use super::audio::Format;
use super::vad::VadParams;

/// The session object the service reports before any update (GA shape).
pub(crate) fn default_session(id: &str, model: &str, expires_at: u64) -> Value {
    json!({
        "type": "realtime",
        "object": "realtime.session",
        "id": id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": "",
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": null,
        "prompt": null,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": null,
                "noise_reduction": null,
                "turn_detection": {
                    "type": "server_vad",
                    "threshold": 0.5,
                    "prefix_padding_ms": 300,
                    "silence_duration_ms": 200,
                    "idle_timeout_ms": null,
                    "create_response": true,
                    "interrupt_response": true
                }
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "marin",
                "speed": 1.0
            }
        },
        "include": null
    })
}

/// Applies a GA `session.update`'s `session` to the effective session: objects that group
/// settings (`session`, `audio`, `audio.input`, `audio.output`) merge field by field; every
/// other present field replaces the old value (`null` turns a feature off, `""`/`[]` clear).
pub(crate) fn apply_update(session: &mut Value, update: &Value) {
    let Some(update) = update.as_object() else {
        return;
    };
    for (key, value) in update {
        match key.as_str() {
            // The model is fixed by the URL; the type does not change.
            "model" | "type" | "object" | "id" | "expires_at" => {}
            "audio" => merge_audio(session, value),
            _ => {
                session[key] = value.clone();
            }
        }
    }
}

fn merge_audio(session: &mut Value, audio: &Value) {
    for side in ["input", "output"] {
        let Some(fields) = audio.get(side).and_then(Value::as_object) else {
            continue;
        };
        for (key, value) in fields {
            let value = if key == "turn_detection" {
                with_vad_defaults(value)
            } else if key == "format" {
                with_format_defaults(value)
            } else {
                value.clone()
            };
            session["audio"][side][key] = value;
        }
    }
}

fn with_format_defaults(format: &Value) -> Value {
    let mut format = format.clone();
    if format.get("type").and_then(Value::as_str) == Some("audio/pcm")
        && format.get("rate").is_none()
    {
        format["rate"] = json!(24000);
    }
    format
}

/// Fills the parameters a client left out, as the service reports them.
fn with_vad_defaults(td: &Value) -> Value {
    let Some(obj) = td.as_object() else {
        return Value::Null;
    };
    let defaults = match obj.get("type").and_then(Value::as_str) {
        Some("semantic_vad") => json!({
            "type": "semantic_vad", "eagerness": "auto",
            "create_response": true, "interrupt_response": true
        }),
        _ => json!({
            "type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
            "silence_duration_ms": 500, "idle_timeout_ms": null,
            "create_response": true, "interrupt_response": true
        }),
    };
    let mut merged = defaults;
    for (k, v) in obj {
        merged[k] = v.clone();
    }
    merged
}

/// The input format of the session.
pub(crate) fn input_format(session: &Value) -> Format {
    Format::from_ga(&session["audio"]["input"]["format"]).unwrap_or(Format::Pcm16)
}

/// The output format of the session.
pub(crate) fn output_format(session: &Value) -> Format {
    Format::from_ga(&session["audio"]["output"]["format"]).unwrap_or(Format::Pcm16)
}

/// Turn detection as the mock runs it: `None` when off.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct TurnDetection {
    pub(crate) vad: VadParams,
    pub(crate) create_response: bool,
    pub(crate) interrupt_response: bool,
}

pub(crate) fn turn_detection(session: &Value) -> Option<TurnDetection> {
    let td = session["audio"]["input"]["turn_detection"].as_object()?;
    let num = |k: &str, d: f64| td.get(k).and_then(Value::as_f64).unwrap_or(d);
    let flag = |k: &str| td.get(k).and_then(Value::as_bool).unwrap_or(true);
    let vad = match td.get("type").and_then(Value::as_str) {
        // Semantic VAD waits for the end of a thought; the mock treats "eagerness" as a longer
        // silence (high 200 ms .. low 800 ms) over the same energy detector.
        Some("semantic_vad") => VadParams {
            silence_duration_ms: match td.get("eagerness").and_then(Value::as_str) {
                Some("high") => 200,
                Some("low") => 800,
                _ => 500,
            },
            ..VadParams::default()
        },
        _ => VadParams {
            threshold: num("threshold", 0.5),
            prefix_padding_ms: num("prefix_padding_ms", 300.0) as u64,
            silence_duration_ms: num("silence_duration_ms", 500.0) as u64,
        },
    };
    Some(TurnDetection {
        vad,
        create_response: flag("create_response"),
        interrupt_response: flag("interrupt_response"),
    })
}

/// Whether the session transcribes the caller's audio.
pub(crate) fn transcribes(session: &Value) -> bool {
    session["audio"]["input"]["transcription"].is_object()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_changes_only_present_fields() {
        let mut s = default_session("sess_1", "gpt-realtime-2.1", 0);
        apply_update(
            &mut s,
            &json!({"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcmu"}}}, "instructions": "hi"}),
        );
        assert_eq!(input_format(&s), Format::Pcmu);
        assert_eq!(output_format(&s), Format::Pcm16);
        assert_eq!(s["instructions"], "hi");
        assert_eq!(s["audio"]["output"]["voice"], "marin");
    }

    #[test]
    fn null_turn_detection_turns_vad_off_and_partial_vad_gets_defaults() {
        let mut s = default_session("sess_1", "m", 0);
        apply_update(
            &mut s,
            &json!({"audio": {"input": {"turn_detection": null}}}),
        );
        assert!(turn_detection(&s).is_none());
        apply_update(
            &mut s,
            &json!({"audio": {"input": {"turn_detection": {"type": "server_vad", "silence_duration_ms": 700}}}}),
        );
        let td = turn_detection(&s).unwrap();
        assert_eq!(td.vad.silence_duration_ms, 700);
        assert_eq!(td.vad.prefix_padding_ms, 300);
        assert!(td.create_response);
    }
}
