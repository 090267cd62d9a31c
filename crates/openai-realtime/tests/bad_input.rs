//! Bad input from the network gives a typed error, never a panic.

use openai_realtime::{ClientEvent, DecodeErrorKind, Dialect, ServerEvent};

fn decode_both(frame: &str) -> Vec<Result<(), DecodeErrorKind>> {
    let mut results = Vec::new();
    for dialect in [Dialect::Ga, Dialect::Beta] {
        results.push(
            ServerEvent::decode(frame, dialect)
                .map(|_| ())
                .map_err(|e| e.kind()),
        );
        results.push(
            ClientEvent::decode(frame, dialect)
                .map(|_| ())
                .map_err(|e| e.kind()),
        );
        let _ = ClientEvent::decode_strict(frame, dialect);
    }
    results
}

#[test]
fn malformed_json_is_a_syntax_error() {
    for frame in [
        "",
        "{",
        r#"{"type":"error""#,
        "nul",
        "{\"type\":\"error\",}",
        "\u{0}",
    ] {
        for result in decode_both(frame) {
            assert_eq!(result, Err(DecodeErrorKind::Syntax), "{frame:?}");
        }
    }
}

#[test]
fn non_objects_and_missing_types_are_typed_errors() {
    for frame in ["[]", "42", "\"error\"", "null", "true"] {
        for result in decode_both(frame) {
            assert_eq!(result, Err(DecodeErrorKind::NotAnObject), "{frame}");
        }
    }
    for frame in [
        "{}",
        r#"{"type":null}"#,
        r#"{"type":7}"#,
        r#"{"type":{"a":1}}"#,
        r#"{"Type":"error"}"#,
    ] {
        for result in decode_both(frame) {
            assert_eq!(result, Err(DecodeErrorKind::MissingType), "{frame}");
        }
    }
}

#[test]
fn wrong_field_types_are_invalid_events() {
    for frame in [
        r#"{"type":"error","event_id":"e","error":"boom"}"#,
        r#"{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i","output_index":-1,"content_index":0,"delta":"AA"}"#,
        r#"{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":7}"#,
        r#"{"type":"session.created","event_id":"e","session":[]}"#,
        r#"{"type":"rate_limits.updated","event_id":"e","rate_limits":{"name":"tokens"}}"#,
        r#"{"type":"response.done","event_id":"e","response":{"status":5}}"#,
        r#"{"type":"response.done","event_id":"e","response":{"max_output_tokens":-3}}"#,
    ] {
        let err = ServerEvent::decode(frame, Dialect::Ga).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent, "{frame}: {err}");
        assert!(err.event_type().is_some());
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let depth = 100_000;
    let frame = format!(
        r#"{{"type":"conversation.item.added","event_id":"e","item":{}{}}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let err = ServerEvent::decode(&frame, dialect).unwrap_err();
        assert!(err.event_type().is_some(), "{err}");
    }
    // An unknown event is kept raw, never built into a tree, so its depth does no harm; the
    // strict reader refuses it.
    let unknown = format!(
        r#"{{"type":"x.y","deep":{}1{}}}"#,
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    );
    let event = ServerEvent::decode(&unknown, Dialect::Ga).unwrap();
    assert_eq!(event.encode(Dialect::Beta), unknown);
    let ServerEvent::Unknown(raw) = event else {
        panic!("Unknown expected")
    };
    assert!(raw.to_value().is_err());
    assert!(ClientEvent::decode_strict(&unknown, Dialect::Ga).is_err());
}

#[test]
fn huge_frames_decode_without_trouble() {
    // 16 MiB of audio, above the service's 15 MiB append limit: still a well-formed event.
    let audio = "A".repeat(16 * 1024 * 1024);
    let frame = format!(r#"{{"type":"input_audio_buffer.append","audio":"{audio}"}}"#);
    let ClientEvent::InputAudioBufferAppend(append) =
        ClientEvent::decode(&frame, Dialect::Ga).unwrap()
    else {
        panic!("append expected");
    };
    assert_eq!(append.audio.len(), audio.len());

    let truncated = &frame[..frame.len() - 2];
    assert_eq!(
        ClientEvent::decode(truncated, Dialect::Ga)
            .unwrap_err()
            .kind(),
        DecodeErrorKind::Syntax
    );
}

#[test]
fn bad_base64_is_carried_not_judged() {
    // Audio stays text on the per-frame path: the codec does not decode base64, so a bad
    // payload reaches the caller (who forwards or drops it) instead of failing the frame.
    let frame = r#"{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"!!not base64!!"}"#;
    let ServerEvent::ResponseOutputAudioDelta(delta) =
        ServerEvent::decode(frame, Dialect::Ga).unwrap()
    else {
        panic!("audio delta expected");
    };
    assert_eq!(delta.delta, "!!not base64!!");
}

#[test]
fn escaped_type_names_are_read() {
    let frame = r#"{"type":"input_audio_buffer\u002ecleared","event_id":"e"}"#;
    assert_eq!(
        ServerEvent::decode(frame, Dialect::Ga)
            .unwrap()
            .event_type(),
        "input_audio_buffer.cleared"
    );
}
