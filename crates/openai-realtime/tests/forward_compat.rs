//! A new event, field or value from the service never ends a call; a known event with a bad
//! body is a typed error that names the event and the field.

use openai_realtime::server_event::ResponseOutputAudioDelta;
use openai_realtime::{
    AudioFormat, ClientEvent, DecodeErrorKind, Dialect, Item, MaxOutputTokens, ServerEvent,
    Session, Tool, TurnDetection, Voice,
};

#[test]
fn unknown_server_event_keeps_its_type_and_raw_json() {
    let frame =
        r#"{"type":"response.hologram.delta","event_id":"event_9","hologram":{"x":[1,2,3]}}"#;
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let event = ServerEvent::decode(frame, dialect).unwrap();
        let ServerEvent::Unknown(unknown) = &event else {
            panic!("expected Unknown, got {}", event.event_type());
        };
        assert_eq!(unknown.event_type(), "response.hologram.delta");
        assert_eq!(unknown.raw(), frame);
        assert_eq!(event.event_type(), "response.hologram.delta");
        assert_eq!(event.encode(dialect), frame, "relayed unchanged");
    }
}

#[test]
fn unknown_client_event_keeps_its_raw_json_and_can_be_sent() {
    let frame = r#"{"type":"session.teleport","where":"mars"}"#;
    let event = ClientEvent::decode(frame, Dialect::Ga).unwrap();
    assert!(matches!(&event, ClientEvent::Unknown(u) if u.raw() == frame));
    assert_eq!(event.encode(Dialect::Beta), frame);

    let custom = openai_realtime::UnknownEvent::from_json(frame).unwrap();
    assert_eq!(ClientEvent::Unknown(custom).encode(Dialect::Ga), frame);
}

#[test]
fn unknown_fields_are_ignored() {
    let frame = r#"{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i",
        "output_index":0,"content_index":0,"delta":"AAAA","obfuscation":"xyz","timestamp":"12:00"}"#;
    let ServerEvent::ResponseOutputAudioDelta(delta) =
        ServerEvent::decode(frame, Dialect::Ga).unwrap()
    else {
        panic!("audio delta expected");
    };
    assert_eq!(delta.delta, "AAAA");
}

#[test]
fn known_event_with_a_bad_field_names_event_and_field() {
    let frame = r#"{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i",
        "output_index":"zero","content_index":0,"delta":"AAAA"}"#;
    let err = ServerEvent::decode(frame, Dialect::Ga).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent);
    assert_eq!(err.event_type(), Some("response.output_audio.delta"));
    assert_eq!(err.path(), Some("output_index"));
    assert_eq!(err.line(), Some(2));
    let message = err.to_string();
    assert!(
        message.starts_with("invalid `response.output_audio.delta` event at `output_index`"),
        "{message}"
    );

    let missing = r#"{"type":"input_audio_buffer.speech_started","event_id":"e","item_id":"i"}"#;
    let err = ServerEvent::decode(missing, Dialect::Ga).unwrap_err();
    assert_eq!(err.event_type(), Some("input_audio_buffer.speech_started"));
    assert_eq!(err.path(), Some("audio_start_ms"));

    let nested = r#"{"type":"session.updated","event_id":"e","session":{"type":"realtime","audio":{"input":{"turn_detection":{"type":"server_vad","threshold":"high"}}}}}"#;
    let err = ServerEvent::decode(nested, Dialect::Ga).unwrap_err();
    assert_eq!(err.event_type(), Some("session.updated"));
    assert!(
        err.path().unwrap().starts_with("session"),
        "{:?}",
        err.path()
    );
}

#[test]
fn beta_error_names_the_beta_event() {
    let frame = r#"{"type":"response.audio.delta","event_id":"e","response_id":"r","item_id":"i",
        "output_index":0,"content_index":0}"#;
    let err = ServerEvent::decode(frame, Dialect::Beta).unwrap_err();
    assert_eq!(err.event_type(), Some("response.audio.delta"));
    assert_eq!(err.path(), Some("delta"));

    let frame = r#"{"type":"conversation.item.created","event_id":"e","item":{"type":"function_call_output"}}"#;
    let err = ServerEvent::decode(frame, Dialect::Beta).unwrap_err();
    assert_eq!(err.event_type(), Some("conversation.item.created"));
}

#[test]
fn beta_names_decode_to_the_ga_variants_in_both_dialects() {
    let frame = r#"{"type":"response.audio.delta","event_id":"event_B3","response_id":"resp_B1",
        "item_id":"item_B1","output_index":0,"content_index":0,"delta":"//////////8="}"#;
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let event = ServerEvent::decode(frame, dialect).unwrap();
        let ServerEvent::ResponseOutputAudioDelta(ResponseOutputAudioDelta {
            delta, item_id, ..
        }) = &event
        else {
            panic!("expected the GA audio delta variant");
        };
        assert_eq!(delta, "//////////8=");
        assert_eq!(item_id, "item_B1");
    }
    for (beta, ga) in [
        ("response.text.delta", "response.output_text.delta"),
        (
            "response.audio_transcript.delta",
            "response.output_audio_transcript.delta",
        ),
    ] {
        let frame = format!(
            r#"{{"type":"{beta}","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"hi"}}"#
        );
        assert_eq!(
            ServerEvent::decode(&frame, Dialect::Beta)
                .unwrap()
                .event_type(),
            ga
        );
    }
}

#[test]
fn unknown_enum_values_keep_their_raw_value() {
    let frame = r#"{"type":"session.updated","event_id":"e","session":{"type":"realtime",
        "output_modalities":["audio","smell"],
        "audio":{"input":{"format":{"type":"audio/opus","rate":48000},
                          "turn_detection":{"type":"psychic_vad","foresight_ms":20},
                          "noise_reduction":{"type":"deep_space"}},
                 "output":{"format":{"type":"audio/pcmu"},"voice":"nightingale"}},
        "tools":[{"type":"teleporter","range":3}],"max_output_tokens":"unbounded"}}"#;
    let ServerEvent::SessionUpdated(updated) = ServerEvent::decode(frame, Dialect::Ga).unwrap()
    else {
        panic!("session.updated expected");
    };
    let Session::Realtime(session) = &updated.session else {
        panic!("realtime session expected");
    };
    let audio = session.audio.as_ref().unwrap();
    let input = audio.input.as_ref().unwrap();
    assert!(
        matches!(&input.format, Some(AudioFormat::Unknown(raw)) if raw["type"] == "audio/opus")
    );
    assert_eq!(
        input.format.as_ref().unwrap().type_str(),
        Some("audio/opus")
    );
    assert!(
        matches!(&input.turn_detection, Some(Some(TurnDetection::Unknown(raw))) if raw["foresight_ms"] == 20)
    );
    let noise = input.noise_reduction.as_ref().unwrap().as_ref().unwrap();
    assert_eq!(noise.kind.as_ref().unwrap().as_str(), "deep_space");
    let voice = audio.output.as_ref().unwrap().voice.as_ref().unwrap();
    assert!(voice.is_unknown());
    assert_eq!(voice.as_str(), "nightingale");
    assert_eq!(
        session.output_modalities.as_ref().unwrap()[1].as_str(),
        "smell"
    );
    assert!(matches!(&session.tools.as_ref().unwrap()[0], Tool::Unknown(raw) if raw["range"] == 3));
    assert!(
        matches!(&session.max_output_tokens, Some(MaxOutputTokens::Unknown(v)) if v.as_str() == "unbounded")
    );

    // Everything unknown is written back as received.
    let again: serde_json::Value =
        serde_json::from_str(&ServerEvent::SessionUpdated(updated.clone()).encode(Dialect::Ga))
            .unwrap();
    let original: serde_json::Value = serde_json::from_str(frame).unwrap();
    assert_eq!(again, original);
    assert_eq!(Voice::from("marin"), Voice::Marin);
}

#[test]
fn unknown_item_types_keep_their_raw_json() {
    let frame = r#"{"type":"conversation.item.added","event_id":"e","item":{"type":"hologram","id":"item_1","frames":2}}"#;
    let ServerEvent::ConversationItemAdded(added) =
        ServerEvent::decode(frame, Dialect::Ga).unwrap()
    else {
        panic!("conversation.item.added expected");
    };
    assert!(matches!(&added.item, Item::Unknown(raw) if raw["frames"] == 2));
    assert_eq!(added.item.type_str(), Some("hologram"));
}

#[test]
fn an_event_of_the_other_direction_stays_unknown_and_unchanged() {
    // Found by the fuzzer: the beta rewrite must not leak into an `Unknown` of the wrong
    // direction.
    let frame = r#"{"session": {}, "type": "transcription_session.update"}"#;
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let event = ServerEvent::decode(frame, dialect).unwrap();
        assert!(matches!(&event, ServerEvent::Unknown(u) if u.raw() == frame));
        assert_eq!(event.encode(dialect), frame);
    }
    let frame = r#"{"type":"transcription_session.updated","event_id":"e","session":{}}"#;
    let event = ClientEvent::decode(frame, Dialect::Beta).unwrap();
    assert!(matches!(&event, ClientEvent::Unknown(u) if u.raw() == frame));
}

#[test]
fn numbers_inside_unknown_values_re_encode_exactly() {
    // Found by the fuzzer: a long mantissa kept in a raw JSON value came back one ulp off.
    let frame = r#"{"type":"session.created","event_id":"e","session":{"type":"realt-me","rate":2.4001e+131,"x":0.1000000000000000055511151231257827}}"#;
    let event = ServerEvent::decode(frame, Dialect::Ga).unwrap();
    let once = event.encode(Dialect::Ga);
    assert_eq!(
        ServerEvent::decode(&once, Dialect::Ga)
            .unwrap()
            .encode(Dialect::Ga),
        once
    );
    assert!(
        once.contains("2.4001e131") || once.contains("2.4001e+131"),
        "{once}"
    );
}
