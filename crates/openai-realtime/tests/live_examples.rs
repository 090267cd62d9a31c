//! Every example of the Live reference file (149: one minimal example per event of each SDK
//! union, primary, sideband and fork, plus realistic phone-bridge ones, all validated against
//! openai-python 3.57.0) decodes to its own variant, never `Unknown`, and encodes back to the
//! same JSON value: no member dropped, none added, no `null` invented, numbers of the same
//! kind (`7` stays `7`, `12.0` stays `12.0`).
//!
//! One test over all examples that reports every failure at once.

use openai_realtime::live::{ClientEvent, ServerEvent};
use serde_json::Value;

const EXAMPLES: &str = include_str!("fixtures/openai-live-examples.json");

/// The variant each wire event decodes to, written out independently of the crate's tables.
fn expected_variant(direction: &str, connection: &str, event_type: &str) -> &'static str {
    match (direction, event_type) {
        ("client", "session.start") if connection == "fork" => "ForkSessionStart",
        ("client", "session.start") => "SessionStart",
        ("client", "session.update") => "SessionUpdate",
        ("client", "session.input_audio.append") => "InputAudioAppend",
        ("client", "session.input_audio.mute") => "InputAudioMute",
        ("client", "session.input_audio.unmute") => "InputAudioUnmute",
        ("client", "session.output_audio.fixture.play") => "OutputAudioFixturePlay",
        ("client", "session.instructions.append") => "InstructionsAppend",
        ("client", "session.thinking.append") => "ThinkingAppend",
        ("client", "session.commentary.append") => "CommentaryAppend",
        ("client", "decision.create") => "DecisionCreate",
        ("client", "decision.item.create") => "DecisionItemCreate",
        ("client", "decision.item.delete") => "DecisionItemDelete",
        ("client", "response.item.create") => "ResponseItemCreate",
        ("client", "response.create") => "ResponseCreate",
        ("client", "session.close") => "SessionClose",
        ("client", "transport.dtmf.send") => "TransportDtmfSend",
        ("server", "session.started") => "SessionStarted",
        ("server", "session.updated") => "SessionUpdated",
        ("server", "session.paused") => "SessionPaused",
        ("server", "session.resumed") => "SessionResumed",
        ("server", "session.input_audio.muted") => "InputAudioMuted",
        ("server", "session.input_audio.unmuted") => "InputAudioUnmuted",
        ("server", "session.output_audio.fixture.playing") => "OutputAudioFixturePlaying",
        ("server", "session.output_audio.fixture.played") => "OutputAudioFixturePlayed",
        ("server", "session.instructions.appended") => "InstructionsAppended",
        ("server", "session.thinking.appended") => "ThinkingAppended",
        ("server", "session.commentary.appended") => "CommentaryAppended",
        ("server", "session.input_audio.append") => "InputAudioAppend",
        ("server", "session.output_audio.delta") => "OutputAudioDelta",
        ("server", "session.input_transcript.delta") => "InputTranscriptDelta",
        ("server", "session.output_transcript.delta") => "OutputTranscriptDelta",
        ("server", "session.delegation.created") => "DelegationCreated",
        ("server", "decision.event") => "DecisionEvent",
        ("server", "decision.item.created") => "DecisionItemCreated",
        ("server", "decision.item.deleted") => "DecisionItemDeleted",
        ("server", "response.event") => "ResponseEvent",
        ("server", "session.usage.updated") => "SessionUsageUpdated",
        ("server", "session.closed") => "SessionClosed",
        ("server", "error") => "Error",
        ("server", "info") => "Info",
        ("server", "transport.dtmf.received") => "TransportDtmfReceived",
        ("server", "transport.dtmf.send") => "TransportDtmfSend",
        ("server", "transport.dtmf.sent") => "TransportDtmfSent",
        ("server", "transport.ringing") => "TransportRinging",
        ("server", "transport.answered") => "TransportAnswered",
        ("server", "transport.failed") => "TransportFailed",
        _ => "(no variant expected)",
    }
}

/// The variant name of an enum value, from its `Debug` text.
fn variant_name(debug: &str) -> &str {
    debug.split('(').next().unwrap_or(debug)
}

#[test]
fn every_example_decodes_to_its_variant_and_encodes_back_equal() {
    let list: Vec<Value> = serde_json::from_str(EXAMPLES).expect("fixture parses");
    assert!(
        !list.is_empty(),
        "the fixture has no examples: nothing was checked"
    );
    assert_eq!(list.len(), 149, "the reference has 149 examples");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (index, entry) in list.iter().enumerate() {
        checked += 1;
        let direction = entry["direction"].as_str().unwrap();
        let connection = entry["connection"].as_str().unwrap();
        let variant = entry["variant"].as_str().unwrap();
        let example = &entry["example"];
        let event_type = example["type"].as_str().unwrap();
        let label = format!("#{index} {direction} {connection} {variant} {event_type}");
        let frame = example.to_string();
        let decoded = match direction {
            "client" => {
                let decoded = if connection == "fork" {
                    ClientEvent::decode_fork(&frame)
                } else {
                    ClientEvent::decode(&frame)
                };
                decoded.map(|e| (format!("{e:?}"), e.event_type().to_owned(), e.encode()))
            }
            _ => ServerEvent::decode(&frame)
                .map(|e| (format!("{e:?}"), e.event_type().to_owned(), e.encode())),
        };
        let (debug, decoded_type, encoded) = match decoded {
            Ok(decoded) => decoded,
            Err(err) => {
                failures.push(format!("{label}: does not decode: {err}"));
                continue;
            }
        };
        let expected = expected_variant(direction, connection, event_type);
        if variant_name(&debug) != expected {
            failures.push(format!(
                "{label}: decoded to {}, expected {expected}",
                variant_name(&debug)
            ));
        }
        if decoded_type != event_type {
            failures.push(format!("{label}: event_type() is {decoded_type}"));
        }
        let back: Value = serde_json::from_str(&encoded).expect("encoding is JSON");
        if &back != example {
            failures.push(format!(
                "{label}: re-encoded JSON differs\n  sent: {example}\n  back: {back}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} examples fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(checked, 149, "every example was checked");
    println!("{checked} Live examples decode to their variant and re-encode equal");
}

#[test]
fn every_sdk_event_type_has_a_minimal_example() {
    let list: Vec<Value> = serde_json::from_str(EXAMPLES).unwrap();
    let types_of = |direction: &str| -> Vec<String> {
        list.iter()
            .filter(|e| e["direction"] == direction)
            .map(|e| e["example"]["type"].as_str().unwrap().to_owned())
            .collect()
    };
    let client = types_of("client");
    for event_type in ClientEvent::TYPES {
        assert!(
            client.iter().any(|t| t == event_type),
            "no example of {event_type}"
        );
    }
    let server = types_of("server");
    for event_type in ServerEvent::TYPES {
        assert!(
            server.iter().any(|t| t == event_type),
            "no example of {event_type}"
        );
    }
    // And the other way: every example's type is one the enums know.
    for t in &client {
        assert!(
            ClientEvent::TYPES.contains(&t.as_str()),
            "client {t} unknown"
        );
    }
    for t in &server {
        assert!(
            ServerEvent::TYPES.contains(&t.as_str()),
            "server {t} unknown"
        );
    }
}
