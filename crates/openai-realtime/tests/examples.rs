//! Every example of the reference file (both directions, both dialects) decodes to the right
//! variant and encodes back to the same JSON.
//!
//! "The same JSON" is compared as `serde_json::Value` (field order does not matter) after
//! dropping `null` members on both sides: for plain optional fields `null` and absent mean the
//! same to the service and the model writes neither. Where `null` carries meaning ("turn this
//! off": `turn_detection`, `transcription`, `noise_reduction`, `tracing`, `prompt`), the model
//! keeps it, and `null_that_turns_a_feature_off_survives` proves it without the null-dropping.

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
