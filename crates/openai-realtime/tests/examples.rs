//! Every example of the reference file (both directions, both dialects) decodes to the right
//! variant and encodes back to the same JSON.
//!
//! "The same JSON" is compared as `serde_json::Value` (field order does not matter) after
//! dropping `null` members on both sides: for plain optional fields `null` and absent mean the
//! same to the service and the model writes neither. Where `null` carries meaning ("turn this
//! off": `turn_detection`, `transcription`, `noise_reduction`, `tracing`, `prompt`), the model
//! keeps it, and `null_that_turns_a_feature_off_survives` proves it without the null-dropping.
//!
//! Stricter, over both fixtures (the reference's examples and the SDK's with every field):
//! every example comes back equal as a JSON value, nulls included but for the two listed in
//! `NULLS_READ_AS_ABSENT`, and a member no model names, added to every object of every
//! example, comes back in place (issue 15 part 5: a proxy, a recorder and a logger rely on
//! it).

use openai_realtime::{ClientEvent, Dialect, ServerEvent};
use serde_json::Value;

const EXAMPLES: &str = include_str!("fixtures/openai-realtime-examples.json");

struct Example {
    name: String,
    direction: String,
    dialect: Dialect,
    variant: String,
    json: String,
}

fn examples() -> Vec<Example> {
    let list: Vec<Value> = serde_json::from_str(EXAMPLES).expect("fixture parses");
    list.into_iter()
        .map(|entry| Example {
            name: entry["name"].as_str().unwrap().to_owned(),
            direction: entry["direction"].as_str().unwrap().to_owned(),
            dialect: match entry["dialect"].as_str().unwrap() {
                "ga" => Dialect::Ga,
                "beta" => Dialect::Beta,
                other => panic!("unexpected dialect {other}"),
            },
            variant: entry["variant"].as_str().unwrap().to_owned(),
            json: entry["example"].to_string(),
        })
        .collect()
}

/// The GA event a beta name stands for (reference section 13.1), written out independently of
/// the crate's own tables.
fn expected_ga_type(name: &str, dialect: Dialect) -> String {
    if dialect == Dialect::Ga {
        return name.to_owned();
    }
    match name {
        "conversation.item.created" => "conversation.item.added".to_owned(),
        "transcription_session.update" => "session.update".to_owned(),
        "transcription_session.updated" => "session.updated".to_owned(),
        other => other
            .replace("response.text.", "response.output_text.")
            .replace(
                "response.audio_transcript.",
                "response.output_audio_transcript.",
            )
            .replace("response.audio.", "response.output_audio."),
    }
}

fn drop_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, drop_nulls(v)))
                .collect(),
        ),
        Value::Array(list) => Value::Array(list.into_iter().map(drop_nulls).collect()),
        other => other,
    }
}

fn assert_same_json(label: &str, encoded: &str, original: &str) {
    let encoded: Value = serde_json::from_str(encoded).expect("encoding is JSON");
    let original: Value = serde_json::from_str(original).unwrap();
    assert_eq!(
        drop_nulls(encoded),
        drop_nulls(original),
        "{label}: re-encoded JSON differs"
    );
}

#[test]
fn the_fixture_has_every_event_of_both_dialects() {
    let all = examples();
    assert_eq!(all.len(), 115);
    let count = |direction: &str, dialect: Dialect| {
        all.iter()
            .filter(|e| e.direction == direction && e.dialect == dialect && e.variant == "minimal")
            .count()
    };
    assert_eq!(count("client", Dialect::Ga), 11);
    assert_eq!(count("server", Dialect::Ga), 46);
    assert_eq!(count("client", Dialect::Beta), 12);
    assert_eq!(count("server", Dialect::Beta), 34);
}

#[test]
fn every_client_example_decodes_to_its_variant_and_round_trips() {
    for example in examples().iter().filter(|e| e.direction == "client") {
        let label = format!("{} {:?} {}", example.name, example.dialect, example.variant);
        let event = ClientEvent::decode(&example.json, example.dialect)
            .unwrap_or_else(|err| panic!("{label}: {err}"));
        assert!(
            !matches!(event, ClientEvent::Unknown(_)),
            "{label}: decoded to Unknown"
        );
        assert_eq!(
            event.event_type(),
            expected_ga_type(&example.name, example.dialect),
            "{label}"
        );
        assert_same_json(&label, &event.encode(example.dialect), &example.json);
    }
}

#[test]
fn every_server_example_decodes_to_its_variant_and_round_trips() {
    for example in examples().iter().filter(|e| e.direction == "server") {
        let label = format!("{} {:?} {}", example.name, example.dialect, example.variant);
        let event = ServerEvent::decode(&example.json, example.dialect)
            .unwrap_or_else(|err| panic!("{label}: {err}"));
        assert!(
            !matches!(event, ServerEvent::Unknown(_)),
            "{label}: decoded to Unknown"
        );
        assert_eq!(
            event.event_type(),
            expected_ga_type(&example.name, example.dialect),
            "{label}"
        );
        assert_same_json(&label, &event.encode(example.dialect), &example.json);
    }
}

#[test]
fn every_ga_type_of_the_reference_is_known() {
    let all = examples();
    for example in all
        .iter()
        .filter(|e| e.dialect == Dialect::Ga && e.variant == "minimal")
    {
        let known = if example.direction == "client" {
            ClientEvent::GA_TYPES
        } else {
            ServerEvent::GA_TYPES
        };
        assert!(
            known.contains(&example.name.as_str()),
            "{} missing",
            example.name
        );
    }
    assert_eq!(ClientEvent::GA_TYPES.len(), 11);
    assert_eq!(ServerEvent::GA_TYPES.len(), 46);
}

#[test]
fn null_that_turns_a_feature_off_survives() {
    let frame = r#"{"type":"session.update","session":{"type":"realtime","tracing":null,"prompt":null,
        "audio":{"input":{"turn_detection":null,"transcription":null,"noise_reduction":null}}}}"#;
    let event = ClientEvent::decode(frame, Dialect::Ga).unwrap();
    let encoded: Value = serde_json::from_str(&event.encode(Dialect::Ga)).unwrap();
    let original: Value = serde_json::from_str(frame).unwrap();
    assert_eq!(encoded, original);
}

/// Every example of both fixtures (the reference's 115 and the SDK's 134 with every field
/// set), both directions, in its dialect: `(label, dialect, direction, frame)`.
fn every_example() -> Vec<(String, Dialect, String, Value)> {
    const SDK: &str = include_str!("fixtures/sdk-max-examples.json");
    let mut all = Vec::new();
    for (file, text) in [("reference", EXAMPLES), ("sdk", SDK)] {
        let list: Vec<Value> = serde_json::from_str(text).unwrap();
        for entry in list {
            let dialect = if entry["dialect"] == "beta" {
                Dialect::Beta
            } else {
                Dialect::Ga
            };
            let name = entry.get("name").or(entry.get("class")).unwrap();
            let label = format!("{file} {name} {dialect:?} {}", entry["variant"]);
            let direction = entry["direction"].as_str().unwrap().to_owned();
            all.push((label, dialect, direction, entry["example"].clone()));
        }
    }
    assert_eq!(all.len(), 115 + 134);
    all
}

fn round_trip(dialect: Dialect, direction: &str, frame: &Value) -> Value {
    let json = frame.to_string();
    let encoded = if direction == "server" {
        let event = ServerEvent::decode(&json, dialect).unwrap();
        assert!(!matches!(event, ServerEvent::Unknown(_)), "{json}");
        event.encode(dialect)
    } else {
        let event = ClientEvent::decode(&json, dialect).unwrap();
        assert!(!matches!(event, ClientEvent::Unknown(_)), "{json}");
        event.encode(dialect)
    };
    serde_json::from_str(&encoded).unwrap()
}

/// The `null` members the models read as absent (plain optional fields), by example and
/// path: the only difference a round trip may make. Any other difference fails.
const NULLS_READ_AS_ABSENT: &[(&str, &str)] = &[
    (
        "reference \"session.created\" Ga \"realistic\"",
        "session.audio.input.turn_detection.idle_timeout_ms",
    ),
    (
        "reference \"session.created\" Ga \"realistic\"",
        "session.include",
    ),
];

/// Removes the `null` at `path` (dotted keys).
fn remove_null(value: &mut Value, path: &str) {
    let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
    let mut at = value;
    for part in parent.split('.').filter(|p| !p.is_empty()) {
        at = at.get_mut(part).unwrap();
    }
    let removed = at.as_object_mut().unwrap().remove(key);
    assert_eq!(removed, Some(Value::Null), "{path}");
}

#[test]
fn every_example_round_trips_to_the_same_json_value() {
    for (label, dialect, direction, frame) in every_example() {
        let mut expected = frame.clone();
        for (example, path) in NULLS_READ_AS_ABSENT {
            if *example == label {
                remove_null(&mut expected, path);
            }
        }
        assert_eq!(
            round_trip(dialect, &direction, &frame),
            expected,
            "{label}: re-encoded JSON differs"
        );
    }
}

/// Adds a member no version names to every object of `value`, recursively, except audio
/// formats (see below). Returns how many it added.
fn add_unknown_members(value: &mut Value, key: &str) -> usize {
    match value {
        Value::Object(map) => {
            let mut added = 0;
            for (name, inner) in map.iter_mut() {
                // Three values are enums of closed shapes with no room for more (an audio
                // format, `AudioFormat::Pcmu`; a custom voice `{id}`, `Voice::Custom`; a
                // tool choice `{type, name}`): their unknown members are not kept (an
                // unknown format, voice or choice is kept whole).
                if matches!(name.as_str(), "format" | "voice" | "tool_choice")
                    || name.ends_with("_audio_format")
                {
                    continue;
                }
                // `metadata` and an MCP tool's `headers` are string maps: a string member is
                // their kind.
                if name == "metadata" || name == "headers" {
                    if let Value::Object(metadata) = inner {
                        metadata.insert(key.to_owned(), Value::from("kept"));
                        added += 1;
                    }
                    continue;
                }
                added += add_unknown_members(inner, key);
            }
            map.insert(
                key.to_owned(),
                serde_json::json!({"kept": [1, "two", null]}),
            );
            added + 1
        }
        Value::Array(list) => list.iter_mut().map(|v| add_unknown_members(v, key)).sum(),
        _ => 0,
    }
}

/// A proxy, a recorder and a logger rely on `encode(decode(frame))` keeping what the models
/// do not name: a member unknown to this version, added to every object of every example
/// (the event itself, its session, items, content parts, tools, usage, errors…), comes
/// back in place.
#[test]
fn members_no_model_names_survive_in_every_object_of_every_example() {
    let mut objects = 0;
    for (label, dialect, direction, frame) in every_example() {
        let mut expected = frame.clone();
        for (example, path) in NULLS_READ_AS_ABSENT {
            if *example == label {
                remove_null(&mut expected, path);
            }
        }
        let mut with_unknown = frame.clone();
        objects += add_unknown_members(&mut with_unknown, "x_not_named");
        add_unknown_members(&mut expected, "x_not_named");
        assert_eq!(
            round_trip(dialect, &direction, &with_unknown),
            expected,
            "{label}: a member the model does not name was lost or moved"
        );
    }
    // Every example has at least its own object; most have several.
    assert!(objects > 500, "{objects} objects");
}

/// The three losses the issue named, each written as the service might send it.
#[test]
fn the_fields_the_issue_named_survive() {
    let cases = [
        (
            Dialect::Ga,
            r#"{"type":"conversation.item.input_audio_transcription.delta","event_id":"e1","item_id":"i1","content_index":0,"delta":"Hel","obfuscation":"aBc"}"#,
        ),
        (
            Dialect::Ga,
            r#"{"type":"conversation.item.retrieved","event_id":"e2","previous_item_id":"i0","item":{"id":"i1","type":"message","role":"user","content":[]}}"#,
        ),
        (
            Dialect::Beta,
            r#"{"type":"session.updated","event_id":"e3","session":{"id":"s1","turn_detection":{"type":"server_vad","threshold":0.5,"eagerness":"auto"}}}"#,
        ),
    ];
    for (dialect, frame) in cases {
        let event = ServerEvent::decode(frame, dialect).unwrap();
        let back: Value = serde_json::from_str(&event.encode(dialect)).unwrap();
        let sent: Value = serde_json::from_str(frame).unwrap();
        assert_eq!(back, sent, "{frame}");
    }
}
