//! Every field of the SDK's Live types is named by the models, and survives a round trip.
//!
//! `fixtures/live-sdk-max-examples.json` holds events generated from the pydantic models of
//! openai-python 3.57.0 (`openai/types/live/`), one object per line:
//!
//! - `minimal: false, nulls: false`: every optional field filled in, at every depth; for each
//!   union the member with the most fields, and then one example per member of every union
//!   at every depth (audio formats, voices, delegations, tools, tool choices, questions,
//!   answers, stored decision items, Responses input items, …), with the enclosing unions set
//!   to the members that lead to it; each member once per direction, in its first carrier.
//! - `minimal: true`: only the required fields, for the same unions: a field the models
//!   require but the SDK leaves optional fails to decode.
//! - `nulls: true`: every optional field that the SDK types as nullable sent as `null`.
//!
//! `alts` records which union member was picked (path, index in the SDK's order).
//!
//! Validating the fixture against the SDK, outside CI (the project never depends on Python):
//! in a scratch virtualenv with `openai==3.57.0`, build a pydantic `TypeAdapter` of the
//! union each entry belongs to (`openai.types.live.ClientEvent`, `ServerEvent`, or the
//! sideband and fork unions `ConnectClientEvent`, `ConnectServerEvent`, `ForkClientEvent`,
//! `ForkServerEvent`, after `direction` and `connection`), validate `example`, check the
//! result's class name equals `class`, and that its `to_dict(mode="json")` equals `example`.
//! The same check holds for `openai-live-examples.json`.

use openai_realtime::live::{ClientEvent, ServerEvent};
use serde_json::Value;

const EXAMPLES: &str = include_str!("fixtures/live-sdk-max-examples.json");

fn examples() -> Vec<Value> {
    serde_json::from_str(EXAMPLES).expect("the fixture parses")
}

/// Decodes an entry as its direction and connection say; returns the decoded event's
/// `Debug` text (when `debug`, else empty), its `event_type()` and its encoding.
fn decode_encode(entry: &Value, debug: bool) -> Result<(String, String, String), String> {
    let frame = entry["example"].to_string();
    let decoded = if entry["direction"] == "client" {
        let event = if entry["connection"] == "fork" {
            ClientEvent::decode_fork(&frame)
        } else {
            ClientEvent::decode(&frame)
        };
        event.map(|e| {
            let unknown = matches!(e, ClientEvent::Unknown(_));
            let text = if debug {
                format!("{e:?}")
            } else {
                String::new()
            };
            (unknown, text, e.event_type().to_owned(), e.encode())
        })
    } else {
        ServerEvent::decode(&frame).map(|e| {
            let unknown = matches!(e, ServerEvent::Unknown(_));
            let text = if debug {
                format!("{e:?}")
            } else {
                String::new()
            };
            (unknown, text, e.event_type().to_owned(), e.encode())
        })
    };
    match decoded {
        Err(err) => Err(format!("does not decode: {err}")),
        Ok((true, ..)) => Err("decodes to Unknown".to_owned()),
        Ok((false, debug, event_type, encoded)) => Ok((debug, event_type, encoded)),
    }
}

fn round_trip(entry: &Value) -> Result<(String, String, String), String> {
    decode_encode(entry, true)
}

fn label(entry: &Value) -> String {
    format!(
        "{} {} {} minimal={} nulls={} alts={}",
        entry["direction"],
        entry["connection"],
        entry["class"],
        entry["minimal"],
        entry["nulls"],
        entry["alts"]
    )
}

/// The JSON with every `null` member removed, at every depth.
fn strip_nulls(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(key, v)| (key.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(list) => Value::Array(list.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

#[test]
fn every_sdk_field_is_named_and_survives_a_round_trip() {
    let list = examples();
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in list.iter().filter(|e| e["nulls"] == false) {
        checked += 1;
        let label = label(entry);
        let (debug, event_type, encoded) = match round_trip(entry) {
            Ok(decoded) => decoded,
            Err(err) => {
                failures.push(format!("{label}: {err}"));
                continue;
            }
        };
        if event_type != entry["example"]["type"] {
            failures.push(format!("{label}: event_type() is {event_type}"));
        }
        // A member the models do not name lands in an `Extra`, whose Debug text is
        // `Extra({"name": …})` when it holds anything.
        if let Some(at) = debug.find("Extra({\"") {
            let rest = &debug[at..];
            let shown = &rest[..rest.len().min(200)];
            failures.push(format!("{label}: a member the models do not name: {shown}"));
        }
        let back: Value = serde_json::from_str(&encoded).expect("the encoding is JSON");
        if back != entry["example"] {
            failures.push(format!(
                "{label}: re-encoded JSON differs\n  sent: {}\n  back: {back}",
                entry["example"]
            ));
        }
    }
    assert!(
        checked > 250,
        "the fixture has the SDK's examples ({checked} found)"
    );
    assert!(
        failures.is_empty(),
        "{} of {checked} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{checked} SDK examples: every field named, every re-encoding equal");
}

#[test]
fn every_sdk_event_class_has_a_generated_example() {
    let list = examples();
    let types = |direction: &str| -> Vec<String> {
        list.iter()
            .filter(|e| e["direction"] == direction)
            .map(|e| e["example"]["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let (client, server) = (types("client"), types("server"));
    for event_type in ClientEvent::TYPES {
        assert!(client.iter().any(|t| t == event_type), "no {event_type}");
    }
    for event_type in ServerEvent::TYPES {
        assert!(server.iter().any(|t| t == event_type), "no {event_type}");
    }
}

/// Top-level members the SDK documents as `null` when they do not apply, which the models
/// keep apart from absent: `(event type, member)`.
const KEPT_NULLS: &[(&str, &str)] = &[
    ("session.instructions.append", "delegation_id"),
    ("session.thinking.append", "delegation_id"),
    ("session.commentary.append", "delegation_id"),
    ("decision.event", "delegation_id"),
    ("decision.event", "trigger_id"),
    ("decision.event", "source_event_id"),
    ("decision.event", "source_event_type"),
    ("response.event", "delegation_id"),
];

/// An explicit `null` of an optional member that the models type decodes as absent and is
/// written back absent: the one place where a re-encoding differs from the frame, and only
/// by `null`s (the SDK and the service read `null` and absent alike there). Parts kept as
/// JSON keep their `null`s, and so do the members the SDK documents as `null` when they do
/// not apply ([`KEPT_NULLS`]).
#[test]
fn a_null_optional_member_is_the_only_difference() {
    let list = examples();
    let mut checked = 0;
    let mut kept = 0;
    let mut failures = Vec::new();
    for entry in list.iter().filter(|e| e["nulls"] == true) {
        checked += 1;
        let label = label(entry);
        let example = &entry["example"];
        let back: Value = match round_trip(entry) {
            Err(err) => {
                failures.push(format!("{label}: {err}"));
                continue;
            }
            Ok((_, _, encoded)) => serde_json::from_str(&encoded).unwrap(),
        };
        if strip_nulls(&back) != strip_nulls(example) {
            failures.push(format!("{label}:\n  sent: {example}\n  back: {back}"));
        }
        for (event_type, member) in KEPT_NULLS {
            if example["type"] == *event_type && example.get(*member) == Some(&Value::Null) {
                kept += 1;
                if back.get(*member) != Some(&Value::Null) {
                    failures.push(format!("{label}: the null {member} is lost: {back}"));
                }
            }
        }
    }
    assert!(
        checked > 30,
        "the fixture has null examples ({checked} found)"
    );
    assert_eq!(kept, KEPT_NULLS.len(), "every kept null was sent once");
    assert!(
        failures.is_empty(),
        "{} of {checked} fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Every path to an object inside `value`, as lists of keys and indexes.
fn object_paths(value: &Value, here: &mut Vec<Step>, found: &mut Vec<Vec<Step>>) {
    match value {
        Value::Object(map) => {
            found.push(here.clone());
            for (key, inner) in map {
                here.push(Step::Key(key.clone()));
                object_paths(inner, here, found);
                here.pop();
            }
        }
        Value::Array(list) => {
            for (index, inner) in list.iter().enumerate() {
                here.push(Step::Index(index));
                object_paths(inner, here, found);
                here.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

fn object_at<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut serde_json::Map<String, Value> {
    let mut node = value;
    for step in path {
        node = match step {
            Step::Key(key) => &mut node[key.as_str()],
            Step::Index(index) => &mut node[*index],
        };
    }
    node.as_object_mut().expect("the path leads to an object")
}

/// A member no model names, added to every object of every example (the event, its
/// session, its audio format, a tool, an answer, …), is written back where it was; and so is
/// a `type` added to every object that has none (a session config, a usage, …).
#[test]
fn an_unknown_member_at_any_depth_is_written_back() {
    let list = examples();
    let mut objects = 0;
    let mut typed = 0;
    let mut failures = Vec::new();
    for entry in list.iter().filter(|e| e["nulls"] == false) {
        let mut paths = Vec::new();
        object_paths(&entry["example"], &mut Vec::new(), &mut paths);
        let mut changed = entry.clone();
        for (depth, path) in paths.iter().enumerate() {
            objects += 1;
            let object = object_at(&mut changed["example"], path);
            object.insert(
                "x_future_member".to_owned(),
                serde_json::json!({"kept": [depth, 2.5, null, "three"]}),
            );
            // An object with no tag gets a `type` too: one more member no model names.
            if !object.contains_key("type") {
                typed += 1;
                object.insert("type".to_owned(), Value::from("x_future_type"));
            }
        }
        let label = label(entry);
        match decode_encode(&changed, false) {
            Err(err) => failures.push(format!("{label}: {err}")),
            Ok((_, _, encoded)) => {
                let back: Value = serde_json::from_str(&encoded).unwrap();
                if back != changed["example"] {
                    failures.push(format!(
                        "{label}:\n  sent: {}\n  back: {back}",
                        changed["example"]
                    ));
                }
            }
        }
    }
    assert!(objects > 1000, "objects changed: {objects}");
    assert!(typed > 500, "objects given a type: {typed}");
    assert!(
        failures.is_empty(),
        "{} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    println!("{objects} objects ({typed} given a `type`): an unknown member written back at each");
}
