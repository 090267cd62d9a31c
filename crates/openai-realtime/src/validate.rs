//! Strict decoding of client events: refuse what the service refuses, with its code, message
//! and param, so a mock server (or a test) can reproduce the service's `error` event.
//!
//! The checks, in the order the service reports them:
//!
//! 1. the frame is a JSON object with a string `type` (`invalid_event`, `invalid_type`);
//! 2. the `type` is a client event of the dialect (`invalid_value`, param `type`);
//! 3. required fields are present and of the right JSON type (`missing_required_parameter`,
//!    `invalid_type`), including `session.type` in GA;
//! 4. no field the dialect does not have (`unknown_parameter`, e.g.
//!    `session.input_audio_format` or `session.temperature` on a GA socket): the event is
//!    refused whole;
//! 5. closed values are known ones (`invalid_value`: `session.type`, audio formats and the PCM
//!    rate, turn detection and noise reduction types, voices, modalities, item and tool types).
//!
//! Stateful checks (truncating past an item's audio, a second response while one is active)
//! belong to whoever holds the session state, such as the mock server.

use serde_json::Value;

use crate::client_event::ClientEvent;
use crate::dialect::Dialect;
use crate::error::{DecodeError, RequestError, RequestErrorCode};
use crate::ids::EventId;
use crate::resource::audio_format::AudioFormat;
use crate::resource::item::Item;
use crate::resource::session::{
    AudioInput, MaxOutputTokens, Modality, RealtimeSession, Session, TurnDetection,
};
use crate::resource::tool::Tool;

impl ClientEvent {
    /// Decodes a client event and refuses it the way the service would: malformed frames,
    /// unknown event types, missing or mistyped fields, fields the dialect does not have,
    /// and unknown values of closed fields.
    ///
    /// [`ClientEvent::decode`] is the lenient counterpart for readers.
    ///
    /// # Errors
    ///
    /// A [`RequestError`] with the service's code, message and param;
    /// [`RequestError::to_api_error`] gives the `error` payload the service would send.
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::{ClientEvent, Dialect, RequestErrorCode};
    ///
    /// let beta_field = r#"{"type":"session.update","session":{"type":"realtime","input_audio_format":"g711_ulaw"}}"#;
    /// let err = ClientEvent::decode_strict(beta_field, Dialect::Ga).unwrap_err();
    /// assert_eq!(err.code(), RequestErrorCode::UnknownParameter);
    /// assert_eq!(err.param(), Some("session.input_audio_format"));
    /// assert_eq!(err.message(), "Unknown parameter: 'session.input_audio_format'.");
    ///
    /// let no_type = r#"{"type":"session.update","session":{"instructions":"hi"}}"#;
    /// let err = ClientEvent::decode_strict(no_type, Dialect::Ga).unwrap_err();
    /// assert_eq!(err.code(), RequestErrorCode::MissingRequiredParameter);
    /// assert_eq!(err.param(), Some("session.type"));
    /// ```
    pub fn decode_strict(json: &str, dialect: Dialect) -> Result<Self, RequestError> {
        let value: Value = serde_json::from_str(json).map_err(|err| {
            refuse(
                RequestErrorCode::InvalidEvent,
                format!(
                    "The event could not be parsed as JSON: {}.",
                    strip_position(&err)
                ),
                None,
                None,
            )
        })?;
        let Value::Object(map) = &value else {
            return Err(refuse(
                RequestErrorCode::InvalidEvent,
                "The event must be a JSON object.",
                None,
                None,
            ));
        };
        let event_id = match map.get("event_id") {
            None | Some(Value::Null) => None,
            Some(Value::String(id)) => Some(EventId::new(id.as_str())),
            Some(_) => {
                return Err(invalid_type("event_id", "expected a string", None));
            }
        };
        let event_type = match map.get("type") {
            None | Some(Value::Null) => {
                return Err(refuse(
                    RequestErrorCode::InvalidEvent,
                    "The 'type' field is missing.",
                    None,
                    event_id,
                ));
            }
            Some(Value::String(event_type)) => event_type.as_str(),
            Some(_) => return Err(invalid_type("type", "expected a string", event_id)),
        };
        let known = known_types(dialect);
        if !known.contains(&event_type) {
            return Err(refuse(
                RequestErrorCode::InvalidValue,
                format!(
                    "Invalid value: '{event_type}'. Supported values are: {}.",
                    quoted_list(&known)
                ),
                Some("type".to_owned()),
                event_id,
            ));
        }
        if dialect == Dialect::Ga && event_type == "session.update" {
            check_session_type(&value, event_id.as_ref())?;
        }
        let event =
            Self::decode(json, dialect).map_err(|err| from_decode_error(&err, &event_id))?;
        // What the models name: a member kept only in an `Extra` is one the service refuses.
        let named = crate::live::named_only(|| event.encode(dialect));
        let written: Value = serde_json::from_str(&named).unwrap_or(Value::Null);
        let mut path = String::new();
        if let Some(param) = first_unknown(&value, &written, &mut path) {
            return Err(refuse(
                RequestErrorCode::UnknownParameter,
                format!("Unknown parameter: '{param}'."),
                Some(param),
                event_id,
            ));
        }
        if let Some((param, found, supported)) = invalid_value(&event, dialect) {
            let param = match dialect {
                Dialect::Beta => beta_path(&param),
                _ => param,
            };
            let message = match supported {
                Some(supported) => {
                    format!("Invalid value: '{found}'. Supported values are: {supported}.")
                }
                None => format!("Invalid value: '{found}'."),
            };
            return Err(refuse(
                RequestErrorCode::InvalidValue,
                message,
                Some(param),
                event_id,
            ));
        }
        Ok(event)
    }
}

fn refuse(
    code: RequestErrorCode,
    message: impl Into<String>,
    param: Option<String>,
    event_id: Option<EventId>,
) -> RequestError {
    RequestError::new(code, message, param, event_id)
}

fn invalid_type(param: &str, detail: &str, event_id: Option<EventId>) -> RequestError {
    refuse(
        RequestErrorCode::InvalidType,
        format!("Invalid type for '{param}': {detail}."),
        Some(param.to_owned()),
        event_id,
    )
}

fn strip_position(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_owned(),
        None => text,
    }
}

fn known_types(dialect: Dialect) -> Vec<&'static str> {
    let mut known = ClientEvent::GA_TYPES.to_vec();
    if dialect == Dialect::Beta {
        known.push("transcription_session.update");
    }
    known
}

fn quoted_list(values: &[&str]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// GA `session.update` needs `session.type`, `realtime` or `transcription`.
fn check_session_type(value: &Value, event_id: Option<&EventId>) -> Result<(), RequestError> {
    let Some(session) = value.get("session").filter(|s| s.is_object()) else {
        return Ok(()); // reported by the typed decode (missing or mistyped `session`)
    };
    match session.get("type") {
        None | Some(Value::Null) => Err(refuse(
            RequestErrorCode::MissingRequiredParameter,
            "Missing required parameter: 'session.type'.",
            Some("session.type".to_owned()),
            event_id.cloned(),
        )),
        Some(Value::String(kind)) if kind == "realtime" || kind == "transcription" => Ok(()),
        Some(Value::String(kind)) => Err(refuse(
            RequestErrorCode::InvalidValue,
            format!(
                "Invalid value: '{kind}'. Supported values are: 'realtime' and 'transcription'."
            ),
            Some("session.type".to_owned()),
            event_id.cloned(),
        )),
        Some(_) => Err(invalid_type(
            "session.type",
            "expected a string",
            event_id.cloned(),
        )),
    }
}

fn from_decode_error(err: &DecodeError, event_id: &Option<EventId>) -> RequestError {
    let detail = err.detail().unwrap_or_else(|| err.to_string());
    let param = err.path().map(str::to_owned);
    let missing = detail
        .split_once("missing field `")
        .and_then(|(_, rest)| rest.split('`').next());
    match (missing, &param) {
        (Some(_), Some(path)) => refuse(
            RequestErrorCode::MissingRequiredParameter,
            format!("Missing required parameter: '{path}'."),
            param.clone(),
            event_id.clone(),
        ),
        _ if detail.contains("invalid type") => refuse(
            RequestErrorCode::InvalidType,
            format!(
                "Invalid type for '{}': {detail}.",
                param.as_deref().unwrap_or("event")
            ),
            param.clone(),
            event_id.clone(),
        ),
        _ => refuse(
            RequestErrorCode::InvalidValue,
            format!(
                "Invalid value for '{}': {detail}.",
                param.as_deref().unwrap_or("event")
            ),
            param.clone(),
            event_id.clone(),
        ),
    }
}

/// The first member of `input` that the dialect's own writing of the event does not have.
/// A `null` member that disappears is accepted: it means "unset".
fn first_unknown(input: &Value, written: &Value, path: &mut String) -> Option<String> {
    match (input, written) {
        (Value::Object(input), Value::Object(written)) => {
            for (key, value) in input {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                match written.get(key) {
                    None if value.is_null() => {}
                    None => return Some(path.clone()),
                    Some(inner) => {
                        if let Some(found) = first_unknown(value, inner, path) {
                            return Some(found);
                        }
                    }
                }
                path.truncate(len);
            }
            None
        }
        (Value::Array(input), Value::Array(written)) => {
            for (index, (value, inner)) in input.iter().zip(written).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{index}]"));
                if let Some(found) = first_unknown(value, inner, path) {
                    return Some(found);
                }
                path.truncate(len);
            }
            None
        }
        _ => None,
    }
}

/// (param, value found, supported values) of the first unknown value of a closed field.
type Invalid = (String, String, Option<String>);

fn invalid_value(event: &ClientEvent, dialect: Dialect) -> Option<Invalid> {
    match event {
        ClientEvent::SessionUpdate(update) => match &update.session {
            Session::Realtime(session) => invalid_in_realtime(session, dialect),
            Session::Transcription(session) => session
                .audio
                .as_ref()
                .and_then(|audio| audio.input.as_ref())
                .and_then(|input| invalid_in_input(input, "session.audio.input", dialect)),
            Session::Unknown(raw) => Some((
                "session.type".to_owned(),
                raw.get("type").map(json_text).unwrap_or_default(),
                Some("'realtime' and 'transcription'".to_owned()),
            )),
        },
        ClientEvent::ConversationItemCreate(create) => invalid_item(&create.item, "item"),
        ClientEvent::ResponseCreate(create) => {
            let params = create.response.as_ref()?;
            if let Some(found) = params
                .input
                .iter()
                .flatten()
                .enumerate()
                .find_map(|(i, item)| invalid_item(item, &format!("response.input[{i}]")))
            {
                return Some(found);
            }
            if let Some(modalities) = &params.output_modalities {
                if let Some(found) = invalid_modalities(modalities, "response.output_modalities") {
                    return Some(found);
                }
            }
            let output = params.audio.as_ref()?.output.as_ref()?;
            if let Some(format) = &output.format {
                if let Some(found) = invalid_format(format, "response.audio.output.format", dialect)
                {
                    return Some(found);
                }
            }
            invalid_voice(output.voice.as_ref(), "response.audio.output.voice")
        }
        _ => None,
    }
}

/// The beta (flat) name of a GA session or response path, for refusals on a beta socket.
fn beta_path(param: &str) -> String {
    const RENAMES: &[(&str, &str)] = &[
        ("session.audio.input.format", "session.input_audio_format"),
        ("session.audio.output.format", "session.output_audio_format"),
        ("session.audio.output.voice", "session.voice"),
        (
            "session.audio.input.turn_detection",
            "session.turn_detection",
        ),
        (
            "session.audio.input.noise_reduction",
            "session.input_audio_noise_reduction",
        ),
        ("session.output_modalities", "session.modalities"),
        (
            "response.audio.output.format",
            "response.output_audio_format",
        ),
        ("response.audio.output.voice", "response.voice"),
        ("response.output_modalities", "response.modalities"),
    ];
    RENAMES
        .iter()
        .find_map(|(ga, beta)| param.strip_prefix(ga).map(|rest| format!("{beta}{rest}")))
        .unwrap_or_else(|| param.to_owned())
}

fn json_text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

fn invalid_in_realtime(session: &RealtimeSession, dialect: Dialect) -> Option<Invalid> {
    if let Some(MaxOutputTokens::Unknown(value)) = &session.max_output_tokens {
        let at = match dialect {
            Dialect::Beta => "session.max_response_output_tokens",
            _ => "session.max_output_tokens",
        };
        return Some((
            at.to_owned(),
            value.as_str().to_owned(),
            Some("an integer from 1 to 4096, or 'inf'".to_owned()),
        ));
    }
    if let Some(modalities) = &session.output_modalities {
        if let Some(found) = invalid_modalities(modalities, "session.output_modalities") {
            return Some(found);
        }
    }
    if let Some(tools) = &session.tools {
        for (index, tool) in tools.iter().enumerate() {
            if let Tool::Unknown(raw) = tool {
                return Some((
                    format!("session.tools[{index}].type"),
                    raw.get("type").map(json_text).unwrap_or_default(),
                    Some("'function' and 'mcp'".to_owned()),
                ));
            }
        }
    }
    let audio = session.audio.as_ref()?;
    if let Some(input) = &audio.input {
        if let Some(found) = invalid_in_input(input, "session.audio.input", dialect) {
            return Some(found);
        }
    }
    let output = audio.output.as_ref()?;
    if let Some(format) = &output.format {
        if let Some(found) = invalid_format(format, "session.audio.output.format", dialect) {
            return Some(found);
        }
    }
    invalid_voice(output.voice.as_ref(), "session.audio.output.voice")
}

fn invalid_in_input(input: &AudioInput, at: &str, dialect: Dialect) -> Option<Invalid> {
    if let Some(format) = &input.format {
        if let Some(found) = invalid_format(format, &format!("{at}.format"), dialect) {
            return Some(found);
        }
    }
    if let Some(Some(TurnDetection::Unknown(raw))) = &input.turn_detection {
        return Some((
            format!("{at}.turn_detection.type"),
            raw.get("type").map(json_text).unwrap_or_default(),
            Some("'server_vad' and 'semantic_vad'".to_owned()),
        ));
    }
    if let Some(Some(noise)) = &input.noise_reduction {
        if let Some(kind) = noise.kind.as_ref().filter(|kind| kind.is_unknown()) {
            return Some((
                format!("{at}.noise_reduction.type"),
                kind.as_str().to_owned(),
                Some("'near_field' and 'far_field'".to_owned()),
            ));
        }
    }
    None
}

fn invalid_format(format: &AudioFormat, at: &str, dialect: Dialect) -> Option<Invalid> {
    match (format, dialect) {
        (AudioFormat::Pcm { rate: Some(rate) }, _) if *rate != 24000 => Some((
            format!("{at}.rate"),
            rate.to_string(),
            Some("24000".to_owned()),
        )),
        (AudioFormat::Unknown(raw), Dialect::Beta) => Some((
            at.to_owned(),
            json_text(raw),
            Some("'pcm16', 'g711_ulaw' and 'g711_alaw'".to_owned()),
        )),
        (AudioFormat::Unknown(raw), _) => Some((
            format!("{at}.type"),
            raw.get("type").map_or_else(|| json_text(raw), json_text),
            Some("'audio/pcm', 'audio/pcmu' and 'audio/pcma'".to_owned()),
        )),
        _ => None,
    }
}

fn invalid_voice(voice: Option<&crate::Voice>, at: &str) -> Option<Invalid> {
    let voice = voice.filter(|voice| voice.is_unknown())?;
    let names: Vec<String> = crate::Voice::known()
        .map(|v| format!("'{}'", v.as_str()))
        .collect();
    Some((
        at.to_owned(),
        voice.as_str().to_owned(),
        Some(names.join(", ")),
    ))
}

fn invalid_modalities(modalities: &[Modality], at: &str) -> Option<Invalid> {
    if let Some((index, unknown)) = modalities.iter().enumerate().find(|(_, m)| m.is_unknown()) {
        return Some((
            format!("{at}[{index}]"),
            unknown.as_str().to_owned(),
            Some("'text' and 'audio'".to_owned()),
        ));
    }
    None
}

fn invalid_item(item: &Item, at: &str) -> Option<Invalid> {
    match item {
        Item::Unknown(raw) => Some((
            format!("{at}.type"),
            raw.get("type").map(json_text).unwrap_or_default(),
            Some(
                "'message', 'function_call', 'function_call_output', 'mcp_approval_response', \
                 'mcp_list_tools', 'mcp_call', 'mcp_approval_request' and 'item_reference'"
                    .to_owned(),
            ),
        )),
        Item::Message(message) if message.role.is_unknown() => Some((
            format!("{at}.role"),
            message.role.as_str().to_owned(),
            Some("'system', 'user' and 'assistant'".to_owned()),
        )),
        _ => None,
    }
}
