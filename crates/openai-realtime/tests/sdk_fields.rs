//! Every field of the official SDK's types survives a decode and re-encode.
//!
//! `fixtures/sdk-max-examples.json` holds one event per class of the openai-python 3.57
//! `RealtimeServerEvent`/`RealtimeClientEvent` unions (GA and beta), with every field filled
//! in, generated from the SDK's pydantic models (for a union, the member with the most
//! fields), then every member of the GA sub-unions (items, MCP errors, tools, turn
//! detection, audio formats, transcription usage, tool choice, truncation, tracing), each in a
//! carrier event. A field the crate does not model would be kept only in an `Extra`: the
//! re-encoding is written with [`named_only`](openai_realtime::named_only), so such a
//! field vanishes from it and fails here.
//!
//! The beta SDK types are flat objects whose fields all coexist; the generated beta examples
//! keep only the fields that belong to the object's `type`: a `message` item has no
//! `arguments`/`call_id`/`name`/`output`, and `server_vad` has no `eagerness` (the crate reads
//! beta items and turn detection by their `type`, like GA; fields of another type are kept
//! in `extra`, not named).

use openai_realtime::{ClientEvent, Dialect, ServerEvent, named_only};
use serde_json::Value;

const EXAMPLES: &str = include_str!("fixtures/sdk-max-examples.json");

/// Members of `input` missing from `output` (modulo nulls), as dotted paths.
fn missing(input: &Value, output: &Value, path: &str, found: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(i), Value::Object(o)) => {
            for (key, value) in i {
                let here = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match o.get(key) {
                    None if value.is_null() => {}
                    None => found.push(here),
                    Some(inner) => missing(value, inner, &here, found),
                }
            }
        }
        (Value::Array(i), Value::Array(o)) => {
            for (index, (value, inner)) in i.iter().zip(o).enumerate() {
                missing(value, inner, &format!("{path}[{index}]"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_sdk_field_survives_a_round_trip() {
    let list: Vec<Value> = serde_json::from_str(EXAMPLES).unwrap();
    assert!(
        list.len() > 103,
        "103 union classes plus every member of the GA sub-unions"
    );
    let mut problems = Vec::new();
    for entry in &list {
        let dialect = if entry["dialect"] == "beta" {
            Dialect::Beta
        } else {
            Dialect::Ga
        };
        let json = entry["example"].to_string();
        let encoded = if entry["direction"] == "server" {
            ServerEvent::decode(&json, dialect).map(|e| {
                assert!(!matches!(e, ServerEvent::Unknown(_)), "{json}");
                named_only(|| e.encode(dialect))
            })
        } else {
            ClientEvent::decode(&json, dialect).map(|e| {
                assert!(!matches!(e, ClientEvent::Unknown(_)), "{json}");
                named_only(|| e.encode(dialect))
            })
        };
        match encoded {
            Err(err) => problems.push(format!("{} {:?}: {err}", entry["class"], dialect)),
            Ok(encoded) => {
                let mut found = Vec::new();
                missing(
                    &entry["example"],
                    &serde_json::from_str(&encoded).unwrap(),
                    "",
                    &mut found,
                );
                if !found.is_empty() {
                    problems.push(format!(
                        "{} {:?}: dropped {found:?}",
                        entry["class"], dialect
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
