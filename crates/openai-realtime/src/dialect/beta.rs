//! The beta dialect as a rewrite of the GA JSON: event names, the flat session shape, the beta
//! response fields and the beta assistant content part names.
//!
//! Both directions work on `serde_json::Map`s of whole events. Only events whose payload
//! differs go through here; the others differ by name only (see `Dialect`).

use serde_json::{Map, Value};

/// Whether a beta event of this type needs its payload rewritten before the GA decode.
pub(crate) fn needs_rewrite(event_type: &str) -> bool {
    matches!(
        event_type,
        "session.update"
            | "transcription_session.update"
            | "session.created"
            | "session.updated"
            | "transcription_session.created"
            | "transcription_session.updated"
            | "conversation.item.create"
            | "conversation.item.created"
            | "conversation.item.added"
            | "conversation.item.done"
            | "conversation.item.retrieved"
            | "response.create"
            | "response.created"
            | "response.done"
            | "response.output_item.added"
            | "response.output_item.done"
    )
}

/// Whether a GA event loses a field in its beta encoding (besides the rewritten ones).
pub(crate) fn drops_fields(event_type: &str) -> bool {
    event_type == "response.function_call_arguments.done"
}

/// Rewrites a beta event into its GA form, in place.
pub(crate) fn event_from_beta(event: &mut Map<String, Value>) {
    let Some(event_type) = event.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    match event_type.as_str() {
        "session.update" | "session.created" | "session.updated" => {
            map_field(event, "session", session_from_beta);
        }
        "transcription_session.update"
        | "transcription_session.created"
        | "transcription_session.updated" => {
            let ga = event_type.replacen("transcription_session", "session", 1);
            event.insert("type".into(), Value::from(ga));
            map_field(event, "session", transcription_session_from_beta);
        }
        "conversation.item.created" => {
            event.insert("type".into(), Value::from("conversation.item.added"));
            map_field(event, "item", item_from_beta);
        }
        "conversation.item.create"
        | "conversation.item.added"
        | "conversation.item.done"
        | "conversation.item.retrieved"
        | "response.output_item.added"
        | "response.output_item.done" => map_field(event, "item", item_from_beta),
        "response.create" => map_field(event, "response", response_params_from_beta),
        "response.created" | "response.done" => map_field(event, "response", response_from_beta),
        _ => {}
    }
}

/// Rewrites a GA event into its beta form, in place (name included).
pub(crate) fn event_to_beta(event: &mut Map<String, Value>) {
    let Some(event_type) = event.get("type").and_then(Value::as_str).map(str::to_owned) else {
        return;
    };
    match event_type.as_str() {
        "session.update" | "session.created" | "session.updated" => {
            let is_transcription = event
                .get("session")
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str)
                == Some("transcription");
            let is_realtime = event
                .get("session")
                .and_then(|s| s.get("type"))
                .and_then(Value::as_str)
                == Some("realtime");
            if is_transcription {
                let beta = event_type.replacen("session", "transcription_session", 1);
                event.insert("type".into(), Value::from(beta));
                map_field(event, "session", transcription_session_to_beta);
            } else if is_realtime {
                map_field(event, "session", session_to_beta);
            }
        }
        "conversation.item.added" => {
            event.insert("type".into(), Value::from("conversation.item.created"));
            map_field(event, "item", item_to_beta);
        }
        "conversation.item.create"
        | "conversation.item.created"
        | "conversation.item.done"
        | "conversation.item.retrieved"
        | "response.output_item.added"
        | "response.output_item.done" => map_field(event, "item", item_to_beta),
        "response.create" => map_field(event, "response", response_params_to_beta),
        "response.created" | "response.done" => map_field(event, "response", response_to_beta),
        "response.function_call_arguments.done" => {
            event.remove("name");
        }
        other => {
            if let Some(beta) = crate::dialect::ga_to_beta_name(other) {
                event.insert("type".into(), Value::from(beta));
            }
        }
    }
}

fn map_field(event: &mut Map<String, Value>, key: &str, f: fn(&mut Map<String, Value>)) {
    if let Some(Value::Object(inner)) = event.get_mut(key) {
        f(inner);
    }
}

fn take(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    map.remove(key)
}

fn nested_mut<'a>(map: &'a mut Map<String, Value>, path: &[&str]) -> &'a mut Map<String, Value> {
    let mut current = map;
    for key in path {
        let entry = current
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !entry.is_object() {
            *entry = Value::Object(Map::new());
        }
        current = match entry {
            Value::Object(inner) => inner,
            _ => unreachable!("the entry was just made an object"),
        };
    }
    current
}

fn take_nested(map: &mut Map<String, Value>, path: &[&str]) -> Option<Value> {
    let (last, parents) = path.split_last()?;
    let mut current = map;
    for key in parents {
        current = match current.get_mut(*key) {
            Some(Value::Object(inner)) => inner,
            _ => return None,
        };
    }
    current.remove(*last)
}

/// GA `{"type":"audio/pcmu"}` to beta `"g711_ulaw"`; `None` for a format beta cannot name.
fn format_to_beta(format: Value) -> Option<Value> {
    match format.get("type").and_then(Value::as_str) {
        Some("audio/pcm") => Some(Value::from("pcm16")),
        Some("audio/pcmu") => Some(Value::from("g711_ulaw")),
        Some("audio/pcma") => Some(Value::from("g711_alaw")),
        _ if format.is_string() || format.is_null() => Some(format),
        _ => None,
    }
}

/// Beta `"g711_ulaw"` to GA `{"type":"audio/pcmu"}`; unknown strings stay strings.
fn format_from_beta(format: Value) -> Value {
    match format.as_str() {
        Some("pcm16") => serde_json::json!({"type": "audio/pcm", "rate": 24000}),
        Some("g711_ulaw") => serde_json::json!({"type": "audio/pcmu"}),
        Some("g711_alaw") => serde_json::json!({"type": "audio/pcma"}),
        _ => format,
    }
}

/// GA `["audio"]` (audio with its transcript) is beta `["text","audio"]`.
fn modalities_to_beta(modalities: Value) -> Value {
    match &modalities {
        Value::Array(list) if list.iter().any(|m| m == "audio") => {
            serde_json::json!(["text", "audio"])
        }
        _ => modalities,
    }
}

/// A session's beta `modalities`: the beta-only `modalities` kept from a beta decode while
/// they still mean `output_modalities` (not changed since), else `output_modalities` mapped.
fn session_modalities_to_beta(ga: &mut Map<String, Value>, beta: &mut Map<String, Value>) {
    let kept = take(ga, "modalities");
    let Some(output_modalities) = take(ga, "output_modalities") else {
        if let Some(kept) = kept {
            beta.insert("modalities".into(), kept);
        }
        return;
    };
    let modalities = match kept {
        Some(kept) if modalities_from_beta(kept.clone()) == output_modalities => kept,
        _ => modalities_to_beta(output_modalities),
    };
    beta.insert("modalities".into(), modalities);
}

/// Beta `["text","audio"]` is GA `["audio"]` (GA allows one modality).
fn modalities_from_beta(modalities: Value) -> Value {
    match &modalities {
        Value::Array(list) if list.iter().any(|m| m == "audio") => serde_json::json!(["audio"]),
        _ => modalities,
    }
}

/// GA `{"type":"function","name":"f"}` is beta `"f"`; an MCP choice has no beta form.
fn tool_choice_to_beta(choice: Value) -> Option<Value> {
    match choice.get("type").and_then(Value::as_str) {
        Some("function") => choice.get("name").cloned(),
        Some(_) => None,
        None => Some(choice),
    }
}

fn tool_choice_from_beta(choice: Value) -> Value {
    match choice.as_str() {
        Some("auto" | "none" | "required") | None => choice,
        Some(name) => serde_json::json!({"type": "function", "name": name}),
    }
}

/// Beta has function tools only: MCP tools are dropped.
fn tools_to_beta(tools: Value) -> Value {
    match tools {
        Value::Array(list) => Value::Array(
            list.into_iter()
                .filter(|tool| {
                    matches!(
                        tool.get("type").and_then(Value::as_str),
                        None | Some("function")
                    )
                })
                .collect(),
        ),
        other => other,
    }
}

fn move_key(from: &mut Map<String, Value>, to: &mut Map<String, Value>, key: &str, to_key: &str) {
    if let Some(value) = from.remove(key) {
        to.insert(to_key.to_owned(), value);
    }
}

const SESSION_COMMON: &[&str] = &[
    "id",
    "object",
    "model",
    "instructions",
    "tracing",
    "temperature",
    "client_secret",
    "expires_at",
];

fn session_to_beta(session: &mut Map<String, Value>) {
    let mut ga = std::mem::take(session);
    let beta = session;
    for key in SESSION_COMMON {
        move_key(&mut ga, beta, key, key);
    }
    session_modalities_to_beta(&mut ga, beta);
    if let Some(voice) = take_nested(&mut ga, &["audio", "output", "voice"]) {
        if voice.is_string() {
            beta.insert("voice".into(), voice);
        }
    }
    if let Some(format) =
        take_nested(&mut ga, &["audio", "input", "format"]).and_then(format_to_beta)
    {
        beta.insert("input_audio_format".into(), format);
    }
    if let Some(format) =
        take_nested(&mut ga, &["audio", "output", "format"]).and_then(format_to_beta)
    {
        beta.insert("output_audio_format".into(), format);
    }
    input_audio_to_beta(&mut ga, beta);
    if let Some(speed) = take_nested(&mut ga, &["audio", "output", "speed"]) {
        beta.insert("speed".into(), speed);
    }
    if let Some(tools) = take(&mut ga, "tools") {
        beta.insert("tools".into(), tools_to_beta(tools));
    }
    if let Some(choice) = take(&mut ga, "tool_choice").and_then(tool_choice_to_beta) {
        beta.insert("tool_choice".into(), choice);
    }
    move_key(
        &mut ga,
        beta,
        "max_output_tokens",
        "max_response_output_tokens",
    );
    // Dropped, no beta counterpart: type, parallel_tool_calls, reasoning, truncation, prompt,
    // include (and what is left of `audio`). The rest is unknown to the models: kept.
    carry_rest(
        ga,
        beta,
        &[
            "type",
            "parallel_tool_calls",
            "reasoning",
            "truncation",
            "prompt",
            "include",
            "audio",
        ],
    );
}

/// Moves what a rewrite left in `from` to `to`, but the `dropped` keys: members the models
/// do not name (kept in an `Extra` on the way in) go back out where they came, so a round
/// trip in the beta dialect keeps them too.
fn carry_rest(from: Map<String, Value>, to: &mut Map<String, Value>, dropped: &[&str]) {
    for (key, value) in from {
        if !dropped.contains(&key.as_str()) {
            to.entry(key).or_insert(value);
        }
    }
}

fn input_audio_to_beta(ga: &mut Map<String, Value>, beta: &mut Map<String, Value>) {
    if let Some(mut transcription) = take_nested(ga, &["audio", "input", "transcription"]) {
        if let Value::Object(fields) = &mut transcription {
            // GA only: the beta object has model, language and prompt.
            fields.retain(|key, _| !matches!(key.as_str(), "languages" | "keywords" | "delay"));
        }
        beta.insert("input_audio_transcription".into(), transcription);
    }
    if let Some(mut noise) = take_nested(ga, &["audio", "input", "noise_reduction"]) {
        if let Value::Object(fields) = &mut noise {
            // GA only: the beta object has its type alone.
            fields.remove("strength");
        }
        beta.insert("input_audio_noise_reduction".into(), noise);
    }
    if let Some(turn_detection) = take_nested(ga, &["audio", "input", "turn_detection"]) {
        beta.insert("turn_detection".into(), turn_detection);
    }
}

fn input_audio_from_beta(beta: &mut Map<String, Value>, ga: &mut Map<String, Value>) {
    if let Some(format) = take(beta, "input_audio_format") {
        nested_mut(ga, &["audio", "input"]).insert("format".into(), format_from_beta(format));
    }
    if let Some(transcription) = take(beta, "input_audio_transcription") {
        nested_mut(ga, &["audio", "input"]).insert("transcription".into(), transcription);
    }
    if let Some(noise) = take(beta, "input_audio_noise_reduction") {
        nested_mut(ga, &["audio", "input"]).insert("noise_reduction".into(), noise);
    }
    if let Some(turn_detection) = take(beta, "turn_detection") {
        nested_mut(ga, &["audio", "input"]).insert("turn_detection".into(), turn_detection);
    }
}

fn session_from_beta(session: &mut Map<String, Value>) {
    let mut beta = std::mem::take(session);
    let ga = session;
    ga.insert("type".into(), Value::from("realtime"));
    for key in SESSION_COMMON {
        move_key(&mut beta, ga, key, key);
    }
    if let Some(modalities) = take(&mut beta, "modalities") {
        let output_modalities = modalities_from_beta(modalities.clone());
        if modalities_to_beta(output_modalities.clone()) != modalities {
            // Beta `["audio"]`: GA says it as `["audio"]` too, which encodes back as beta
            // `["text","audio"]`; the beta-only field keeps what came.
            ga.insert("modalities".into(), modalities);
        }
        ga.insert("output_modalities".into(), output_modalities);
    }
    input_audio_from_beta(&mut beta, ga);
    if let Some(format) = take(&mut beta, "output_audio_format") {
        nested_mut(ga, &["audio", "output"]).insert("format".into(), format_from_beta(format));
    }
    if let Some(voice) = take(&mut beta, "voice") {
        nested_mut(ga, &["audio", "output"]).insert("voice".into(), voice);
    }
    if let Some(speed) = take(&mut beta, "speed") {
        nested_mut(ga, &["audio", "output"]).insert("speed".into(), speed);
    }
    move_key(&mut beta, ga, "tools", "tools");
    if let Some(choice) = take(&mut beta, "tool_choice") {
        ga.insert("tool_choice".into(), tool_choice_from_beta(choice));
    }
    move_key(
        &mut beta,
        ga,
        "max_response_output_tokens",
        "max_output_tokens",
    );
    carry_rest(beta, ga, &[]);
}

fn transcription_session_to_beta(session: &mut Map<String, Value>) {
    let mut ga = std::mem::take(session);
    let beta = session;
    if let Some(format) =
        take_nested(&mut ga, &["audio", "input", "format"]).and_then(format_to_beta)
    {
        beta.insert("input_audio_format".into(), format);
    }
    input_audio_to_beta(&mut ga, beta);
    move_key(&mut ga, beta, "include", "include");
    move_key(&mut ga, beta, "client_secret", "client_secret");
    move_key(&mut ga, beta, "modalities", "modalities");
    carry_rest(ga, beta, &["type", "audio"]);
}

fn transcription_session_from_beta(session: &mut Map<String, Value>) {
    let mut beta = std::mem::take(session);
    let ga = session;
    ga.insert("type".into(), Value::from("transcription"));
    input_audio_from_beta(&mut beta, ga);
    move_key(&mut beta, ga, "include", "include");
    move_key(&mut beta, ga, "client_secret", "client_secret");
    move_key(&mut beta, ga, "modalities", "modalities");
    carry_rest(beta, ga, &[]);
}

fn response_params_to_beta(params: &mut Map<String, Value>) {
    let mut ga = std::mem::take(params);
    let beta = params;
    for key in ["conversation", "instructions", "metadata", "temperature"] {
        move_key(&mut ga, beta, key, key);
    }
    if let Some(Value::Array(mut input)) = take(&mut ga, "input") {
        input.iter_mut().for_each(|item| {
            if let Value::Object(item) = item {
                item_to_beta(item);
            }
        });
        beta.insert("input".into(), Value::Array(input));
    }
    response_audio_to_beta(&mut ga, beta);
    if let Some(tools) = take(&mut ga, "tools") {
        beta.insert("tools".into(), tools_to_beta(tools));
    }
    if let Some(choice) = take(&mut ga, "tool_choice").and_then(tool_choice_to_beta) {
        beta.insert("tool_choice".into(), choice);
    }
    move_key(
        &mut ga,
        beta,
        "max_output_tokens",
        "max_response_output_tokens",
    );
    // Dropped, no beta counterpart: parallel_tool_calls, reasoning, prompt (and what is left
    // of `audio`). The rest is unknown to the models: kept.
    carry_rest(
        ga,
        beta,
        &["parallel_tool_calls", "reasoning", "prompt", "audio"],
    );
}

fn response_params_from_beta(params: &mut Map<String, Value>) {
    let mut beta = std::mem::take(params);
    let ga = params;
    for key in [
        "conversation",
        "instructions",
        "metadata",
        "temperature",
        "tools",
    ] {
        move_key(&mut beta, ga, key, key);
    }
    if let Some(Value::Array(mut input)) = take(&mut beta, "input") {
        input.iter_mut().for_each(|item| {
            if let Value::Object(item) = item {
                item_from_beta(item);
            }
        });
        ga.insert("input".into(), Value::Array(input));
    }
    response_audio_from_beta(&mut beta, ga);
    if let Some(choice) = take(&mut beta, "tool_choice") {
        ga.insert("tool_choice".into(), tool_choice_from_beta(choice));
    }
    move_key(
        &mut beta,
        ga,
        "max_response_output_tokens",
        "max_output_tokens",
    );
    carry_rest(beta, ga, &[]);
}

fn response_audio_to_beta(ga: &mut Map<String, Value>, beta: &mut Map<String, Value>) {
    if let Some(modalities) = take(ga, "output_modalities") {
        beta.insert("modalities".into(), modalities_to_beta(modalities));
    }
    if let Some(voice) = take_nested(ga, &["audio", "output", "voice"]) {
        if voice.is_string() {
            beta.insert("voice".into(), voice);
        }
    }
    if let Some(format) = take_nested(ga, &["audio", "output", "format"]).and_then(format_to_beta) {
        beta.insert("output_audio_format".into(), format);
    }
}

fn response_audio_from_beta(beta: &mut Map<String, Value>, ga: &mut Map<String, Value>) {
    if let Some(modalities) = take(beta, "modalities") {
        ga.insert("output_modalities".into(), modalities_from_beta(modalities));
    }
    if let Some(voice) = take(beta, "voice") {
        nested_mut(ga, &["audio", "output"]).insert("voice".into(), voice);
    }
    if let Some(format) = take(beta, "output_audio_format") {
        nested_mut(ga, &["audio", "output"]).insert("format".into(), format_from_beta(format));
    }
}

/// The members of a response object that have the same name and shape in both dialects.
const RESPONSE_SAME_KEYS: [&str; 9] = [
    "id",
    "object",
    "conversation_id",
    "status",
    "status_details",
    "usage",
    "metadata",
    "max_output_tokens",
    "temperature",
];

fn response_to_beta(response: &mut Map<String, Value>) {
    let mut ga = std::mem::take(response);
    let beta = response;
    for key in RESPONSE_SAME_KEYS {
        move_key(&mut ga, beta, key, key);
    }
    if let Some(Value::Array(mut output)) = take(&mut ga, "output") {
        output.iter_mut().for_each(|item| {
            if let Value::Object(item) = item {
                item_to_beta(item);
            }
        });
        beta.insert("output".into(), Value::Array(output));
    }
    response_audio_to_beta(&mut ga, beta);
    carry_rest(ga, beta, &["audio"]);
}

fn response_from_beta(response: &mut Map<String, Value>) {
    let mut beta = std::mem::take(response);
    let ga = response;
    for key in RESPONSE_SAME_KEYS {
        move_key(&mut beta, ga, key, key);
    }
    if let Some(Value::Array(mut output)) = take(&mut beta, "output") {
        output.iter_mut().for_each(|item| {
            if let Value::Object(item) = item {
                item_from_beta(item);
            }
        });
        ga.insert("output".into(), Value::Array(output));
    }
    response_audio_from_beta(&mut beta, ga);
    carry_rest(beta, ga, &[]);
}

fn rename_assistant_parts(item: &mut Map<String, Value>, renames: &[(&str, &str)]) {
    let is_assistant = item.get("role").and_then(Value::as_str) == Some("assistant");
    if !is_assistant {
        return;
    }
    if let Some(Value::Array(parts)) = item.get_mut("content") {
        for part in parts {
            if let Some(kind) = part.get_mut("type") {
                if let Some((_, to)) = renames.iter().find(|(from, _)| kind == *from) {
                    *kind = Value::from(*to);
                }
            }
        }
    }
}

/// GA assistant `output_text`/`output_audio` parts are beta `text`/`audio`.
fn item_to_beta(item: &mut Map<String, Value>) {
    rename_assistant_parts(item, &[("output_text", "text"), ("output_audio", "audio")]);
}

fn item_from_beta(item: &mut Map<String, Value>) {
    rename_assistant_parts(item, &[("text", "output_text"), ("audio", "output_audio")]);
}
