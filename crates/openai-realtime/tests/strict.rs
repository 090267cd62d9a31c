//! `ClientEvent::decode_strict` refuses what the service refuses, with the service's code,
//! message and param (reference section 12.2).

use openai_realtime::{ClientEvent, Dialect, RequestErrorCode};

fn refusal(json: &str, dialect: Dialect) -> (RequestErrorCode, String, Option<String>) {
    let err = ClientEvent::decode_strict(json, dialect).expect_err("the service refuses this");
    (
        err.code(),
        err.message().to_owned(),
        err.param().map(str::to_owned),
    )
}

#[test]
fn ga_session_update_without_session_type_is_missing_required_parameter() {
    let (code, message, param) = refusal(
        r#"{"type":"session.update","session":{"instructions":"hi"}}"#,
        Dialect::Ga,
    );
    assert_eq!(code, RequestErrorCode::MissingRequiredParameter);
    assert_eq!(message, "Missing required parameter: 'session.type'.");
    assert_eq!(param.as_deref(), Some("session.type"));
}

#[test]
fn ga_session_update_with_a_beta_field_is_unknown_parameter_naming_it() {
    for (field, value) in [
        ("input_audio_format", r#""g711_ulaw""#),
        ("output_audio_format", r#""g711_ulaw""#),
        ("modalities", r#"["text","audio"]"#),
        ("temperature", "0.8"),
        ("voice", r#""alloy""#),
        ("turn_detection", r#"{"type":"server_vad"}"#),
        ("max_response_output_tokens", "100"),
        ("input_audio_transcription", r#"{"model":"whisper-1"}"#),
    ] {
        let frame = format!(
            r#"{{"type":"session.update","event_id":"evt_1","session":{{"type":"realtime","{field}":{value}}}}}"#
        );
        let err = ClientEvent::decode_strict(&frame, Dialect::Ga).expect_err(field);
        assert_eq!(err.code(), RequestErrorCode::UnknownParameter, "{field}");
        let path = format!("session.{field}");
        assert_eq!(err.param(), Some(path.as_str()));
        assert_eq!(err.message(), format!("Unknown parameter: '{path}'."));
        assert_eq!(err.event_id().map(|id| id.as_str()), Some("evt_1"));
        let api = err.to_api_error();
        assert_eq!(api.kind, "invalid_request_error");
        assert_eq!(api.code.as_deref(), Some("unknown_parameter"));
    }
}

#[test]
fn unknown_nested_and_top_level_fields_are_named_by_path() {
    let (code, _, param) = refusal(
        r#"{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"},"bogus":1}}}}"#,
        Dialect::Ga,
    );
    assert_eq!(code, RequestErrorCode::UnknownParameter);
    assert_eq!(param.as_deref(), Some("session.audio.input.bogus"));

    let (code, _, param) = refusal(
        r#"{"type":"input_audio_buffer.append","audio":"AAAA","extra":true}"#,
        Dialect::Ga,
    );
    assert_eq!(code, RequestErrorCode::UnknownParameter);
    assert_eq!(param.as_deref(), Some("extra"));
}

#[test]
fn unknown_event_type_is_invalid_value() {
    let (code, message, param) = refusal(r#"{"type":"session.updat"}"#, Dialect::Ga);
    assert_eq!(code, RequestErrorCode::InvalidValue);
    assert!(
        message
            .starts_with("Invalid value: 'session.updat'. Supported values are: 'session.update'")
    );
    assert_eq!(param.as_deref(), Some("type"));

    // The beta-only client event does not exist on a GA socket.
    let (code, _, _) = refusal(
        r#"{"type":"transcription_session.update","session":{}}"#,
        Dialect::Ga,
    );
    assert_eq!(code, RequestErrorCode::InvalidValue);
    assert!(
        ClientEvent::decode_strict(
            r#"{"type":"transcription_session.update","session":{}}"#,
            Dialect::Beta
        )
        .is_ok()
    );
}

#[test]
fn malformed_events_are_invalid_event() {
    for frame in ["{", "not json", "[1,2]", "42", r#"{"event_id":"e1"}"#] {
        let (code, _, _) = refusal(frame, Dialect::Ga);
        assert_eq!(code, RequestErrorCode::InvalidEvent, "{frame}");
    }
    let (_, message, _) = refusal(r#"{"event_id":"e1"}"#, Dialect::Ga);
    assert_eq!(message, "The 'type' field is missing.");
    let err = ClientEvent::decode_strict(r#"{"event_id":"e1"}"#, Dialect::Ga).unwrap_err();
    assert_eq!(err.event_id().map(|id| id.as_str()), Some("e1"));
}

#[test]
fn missing_and_mistyped_fields_name_their_path() {
    let (code, message, param) = refusal(
        r#"{"type":"conversation.item.truncate","item_id":"item_1","content_index":0}"#,
        Dialect::Ga,
    );
    assert_eq!(code, RequestErrorCode::MissingRequiredParameter);
    assert_eq!(param.as_deref(), Some("audio_end_ms"));
    assert_eq!(message, "Missing required parameter: 'audio_end_ms'.");

    let (code, _, param) = refusal(
        r#"{"type":"conversation.item.truncate","item_id":"item_1","content_index":0,"audio_end_ms":"12"}"#,
        Dialect::Ga,
    );
    assert_eq!(code, RequestErrorCode::InvalidType);
    assert_eq!(param.as_deref(), Some("audio_end_ms"));

    let (code, _, param) = refusal(
        r#"{"type":"conversation.item.create","item":{"type":"function_call_output","output":"{}"}}"#,
        Dialect::Ga,
    );
    assert_eq!(code, RequestErrorCode::MissingRequiredParameter);
    assert_eq!(param.as_deref(), Some("item.call_id"));
}

#[test]
fn unknown_values_of_closed_fields_are_invalid_value() {
    let cases = [
        (
            r#"{"type":"realtime","audio":{"input":{"format":{"type":"audio/opus"}}}}"#,
            "session.audio.input.format.type",
        ),
        (
            r#"{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcm","rate":16000}}}}"#,
            "session.audio.input.format.rate",
        ),
        (
            r#"{"type":"realtime","audio":{"input":{"turn_detection":{"type":"magic_vad"}}}}"#,
            "session.audio.input.turn_detection.type",
        ),
        (
            r#"{"type":"realtime","audio":{"output":{"voice":"nova"}}}"#,
            "session.audio.output.voice",
        ),
        (
            r#"{"type":"realtime","output_modalities":["video"]}"#,
            "session.output_modalities[0]",
        ),
        (r#"{"type":"session"}"#, "session.type"),
        (
            r#"{"type":"realtime","max_output_tokens":"lots"}"#,
            "session.max_output_tokens",
        ),
    ];
    for (session, path) in cases {
        let frame = format!(r#"{{"type":"session.update","session":{session}}}"#);
        let (code, message, param) = refusal(&frame, Dialect::Ga);
        assert_eq!(code, RequestErrorCode::InvalidValue, "{session}");
        assert_eq!(param.as_deref(), Some(path), "{session}");
        assert!(message.starts_with("Invalid value: '"), "{message}");
    }
}

#[test]
fn valid_events_pass_in_both_dialects() {
    let ga = r#"{"type":"session.update","event_id":"evt_bridge_001","session":{
      "type":"realtime","output_modalities":["audio"],
      "instructions":"You are calling to confirm a dental appointment.",
      "audio":{
        "input":{"format":{"type":"audio/pcmu"},
                 "turn_detection":{"type":"server_vad","threshold":0.5,"prefix_padding_ms":300,"silence_duration_ms":500,"create_response":true,"interrupt_response":true},
                 "transcription":{"model":"gpt-4o-mini-transcribe","language":"en"}},
        "output":{"format":{"type":"audio/pcmu"},"voice":"marin"}},
      "tools":[{"type":"function","name":"confirm_appointment","description":"Record it.",
                "parameters":{"type":"object","properties":{"confirmed":{"type":"boolean"}}}}],
      "tool_choice":"auto","max_output_tokens":"inf"}}"#;
    ClientEvent::decode_strict(ga, Dialect::Ga).expect("the reference's phone session is valid GA");

    let beta = r#"{"type":"session.update","session":{"modalities":["text","audio"],"voice":"alloy",
      "input_audio_format":"g711_ulaw","output_audio_format":"g711_ulaw",
      "turn_detection":{"type":"server_vad"},"input_audio_transcription":{"model":"whisper-1"},
      "instructions":"hi","temperature":0.8,"tool_choice":"auto"}}"#;
    ClientEvent::decode_strict(beta, Dialect::Beta).expect("the beta phone session is valid beta");

    // The GA shape is foreign to a beta socket.
    let (code, _, param) = refusal(ga, Dialect::Beta);
    assert_eq!(code, RequestErrorCode::UnknownParameter);
    let param = param.unwrap();
    assert!(
        [
            "session.type",
            "session.audio",
            "session.output_modalities",
            "session.max_output_tokens"
        ]
        .contains(&param.as_str()),
        "{param}"
    );

    for frame in [
        r#"{"type":"input_audio_buffer.append","audio":"//8="}"#,
        r#"{"type":"conversation.item.create","item":{"type":"function_call_output","call_id":"c1","output":"{}"}}"#,
        r#"{"type":"conversation.item.truncate","item_id":"i1","content_index":0,"audio_end_ms":1460}"#,
        r#"{"type":"response.create"}"#,
        r#"{"type":"response.cancel","event_id":null}"#,
    ] {
        ClientEvent::decode_strict(frame, Dialect::Ga)
            .unwrap_or_else(|err| panic!("{frame}: {err}"));
    }
}

#[test]
fn beta_refusals_name_the_beta_fields() {
    for (session, path) in [
        (r#"{"voice":"nova"}"#, "session.voice"),
        (
            r#"{"input_audio_format":"opus"}"#,
            "session.input_audio_format",
        ),
        (
            r#"{"turn_detection":{"type":"magic_vad"}}"#,
            "session.turn_detection.type",
        ),
        (r#"{"modalities":["video"]}"#, "session.modalities[0]"),
    ] {
        let frame = format!(r#"{{"type":"session.update","session":{session}}}"#);
        let (code, _, param) = refusal(&frame, Dialect::Beta);
        assert_eq!(code, RequestErrorCode::InvalidValue, "{session}");
        assert_eq!(param.as_deref(), Some(path), "{session}");
    }
}
