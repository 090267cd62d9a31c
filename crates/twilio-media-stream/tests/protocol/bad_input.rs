//! Bad input from the network: every case is a typed error (or a documented skip), never a
//! panic.

use twilio_media_stream::{
    DEFAULT_MAX_FRAME_LEN, DecodeErrorKind, Payload, PayloadError, Phase, SessionError,
    StreamCommand, StreamEvent, StreamSession,
};

const START: &str = include_str!("../fixtures/event/start.json");
const MEDIA: &str = include_str!("../fixtures/event/media.json");
const SID: &str = "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";

fn kind(text: &str) -> DecodeErrorKind {
    StreamEvent::decode(text).expect_err(text).kind()
}

#[test]
fn malformed_json_is_a_syntax_error() {
    for text in [
        "",
        "{",
        "{\"event\":\"media\"",
        "nope",
        "{\"event\":\"media\",}",
        "\u{0}",
    ] {
        assert_eq!(kind(text), DecodeErrorKind::Syntax, "{text:?}");
    }
    let err = StreamEvent::decode("{\"event\":\"media\" x}").unwrap_err();
    assert_eq!((err.line(), err.column().is_some()), (Some(1), true));
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn json_that_is_not_an_event() {
    assert_eq!(kind("[]"), DecodeErrorKind::NotAnObject);
    assert_eq!(kind("\"media\""), DecodeErrorKind::NotAnObject);
    assert_eq!(kind("{}"), DecodeErrorKind::MissingEvent);
    assert_eq!(kind(r#"{"event":null}"#), DecodeErrorKind::MissingEvent);
    let err = StreamEvent::decode(r#"{"event":["media"]}"#).unwrap_err();
    assert_eq!(
        (err.kind(), err.path()),
        (DecodeErrorKind::InvalidField, Some("event"))
    );
}

#[test]
fn wrong_types_name_the_event_and_the_field() {
    let cases = [
        (
            START.replace("\"sampleRate\":8000", "\"sampleRate\":\"8000\""),
            "start.mediaFormat.sampleRate",
        ),
        (
            START.replace("\"tracks\":[\"inbound\"]", "\"tracks\":[1]"),
            "start.tracks[0]",
        ),
        (
            START.replace("\"apt_42\"", "42"),
            "start.customParameters.appointment_id",
        ),
        (
            MEDIA.replace("\"chunk\":\"2\"", "\"chunk\":\"two\""),
            "media.chunk",
        ),
        (
            MEDIA.replace("\"timestamp\":\"5\"", "\"timestamp\":{}"),
            "media.timestamp",
        ),
        (
            MEDIA.replace("\"payload\":\"no+JhoaJjpzS...\"", "\"payload\":7"),
            "media.payload",
        ),
        (MEDIA.replace(&format!("\"{SID}\""), "5"), "streamSid"),
    ];
    for (text, path) in cases {
        let err = StreamEvent::decode(&text).expect_err(&text);
        assert_eq!(err.kind(), DecodeErrorKind::InvalidField, "{text}");
        assert_eq!(err.path(), Some(path), "{text}");
        assert!(err.to_string().contains(path), "{err}");
        assert!(err.event_type().is_some());
    }
}

#[test]
fn missing_fields_name_the_path() {
    let cases = [
        (START.replace("\"callSid\":\"CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\",", ""), "start", "start.callSid"),
        (START.replace("\"channels\":1", "\"x\":1"), "start", "start.mediaFormat.channels"),
        (MEDIA.replace("\"sequenceNumber\":\"4\",", ""), "media", "sequenceNumber"),
        (r#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track"}}"#.to_owned(), "dtmf", "dtmf.digit"),
        (r#"{"event":"connected","protocol":"Call"}"#.to_owned(), "connected", "version"),
    ];
    for (text, event, path) in cases {
        let err = StreamEvent::decode(&text).expect_err(&text);
        assert_eq!(err.kind(), DecodeErrorKind::MissingField, "{text}");
        assert_eq!(err.event_type(), Some(event));
        assert_eq!(err.path(), Some(path), "{text}");
        assert_eq!(
            err.to_string(),
            format!("`{event}` message: missing field `{path}`")
        );
    }
}

#[test]
fn missing_custom_parameters_mean_none() {
    let text = START.replace(
        ",\n          \"customParameters\":{\"appointment_id\":\"apt_42\",\"patient_name\":\"Jane Doe\"}",
        "",
    );
    assert_ne!(text, START, "fixture layout changed");
    let StreamEvent::Start(start) = StreamEvent::decode(&text).unwrap() else {
        panic!()
    };
    assert!(start.start.custom_parameters.is_empty());
}

#[test]
fn huge_frames_are_refused_before_parsing() {
    let payload = "A".repeat(10 * 1024 * 1024);
    let text = MEDIA.replace("no+JhoaJjpzS...", &payload);
    let err = StreamEvent::decode(&text).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::TooLarge);
    assert!(
        err.to_string().contains(&DEFAULT_MAX_FRAME_LEN.to_string()),
        "{err}"
    );
    assert_eq!(
        StreamCommand::decode(&text).unwrap_err().kind(),
        DecodeErrorKind::TooLarge
    );

    // With a higher limit it decodes, and the payload's size comes without a decode.
    let StreamEvent::Media(media) = StreamEvent::decode_with_limit(&text, usize::MAX).unwrap()
    else {
        panic!("not media")
    };
    assert_eq!(media.media.payload.decoded_len(), 10 * 1024 * 1024 / 4 * 3);
    assert_eq!(
        media.media.payload.duration_ms(),
        10 * 1024 * 1024 / 4 * 3 / 8
    );
}

#[test]
fn invalid_base64_is_a_payload_error() {
    let cases = [
        (
            "no+JhoaJjpzS...",
            PayloadError::InvalidByte {
                offset: 12,
                byte: b'.',
            },
        ),
        ("AAA", PayloadError::InvalidPadding),
        (
            "AA=A",
            PayloadError::InvalidByte {
                offset: 2,
                byte: b'=',
            },
        ),
        (
            "AB==",
            PayloadError::InvalidLastSymbol {
                offset: 1,
                byte: b'B',
            },
        ),
        ("A", PayloadError::InvalidLength { length: 1 }),
    ];
    for (text, expected) in cases {
        let payload = Payload::from_base64(text);
        assert_eq!(payload.decode(), Err(expected), "{text}");
        assert_eq!(payload.validate(), Err(expected), "{text}");
        assert!(payload.decode_into(&mut Vec::new()).is_err());
    }
}

#[test]
fn unknown_events_are_kept_not_refused() {
    let text = r#"{"event":"transcription","sequenceNumber":"9","streamSid":"MZ1","text":"hi"}"#;
    let event = StreamEvent::decode(text).unwrap();
    assert_eq!(event.event_type(), "transcription");
    let StreamEvent::Unknown(unknown) = &event else {
        panic!("{event:?}")
    };
    assert_eq!(unknown.json(), text);
    assert_eq!(event.encode(), text);
    // Twilio refuses unknown commands; so does the command decoder.
    let err = StreamCommand::decode(r#"{"event":"play","streamSid":"MZ1"}"#).unwrap_err();
    assert_eq!(
        (err.kind(), err.path()),
        (DecodeErrorKind::InvalidField, Some("event"))
    );
}

fn decode(text: &str) -> StreamEvent {
    StreamEvent::decode(text).unwrap()
}

#[test]
fn out_of_order_messages_are_session_errors() {
    let connected = decode(include_str!("../fixtures/event/connected.json"));
    let start = decode(START);
    let media = decode(MEDIA);
    let stop = decode(include_str!("../fixtures/event/stop.json"));

    let mut session = StreamSession::new();
    assert!(session.handle(&media).unwrap_err().is_fatal());
    assert_eq!(
        session.handle(&start),
        Err(SessionError::BeforeConnected {
            event: "start".into()
        })
    );
    session.handle(&connected).unwrap();
    assert_eq!(
        session.handle(&media),
        Err(SessionError::BeforeStart {
            event: "media".into()
        })
    );
    assert_eq!(
        session.handle(&stop),
        Err(SessionError::BeforeStart {
            event: "stop".into()
        })
    );
    session.handle(&start).unwrap();
    assert!(matches!(
        session.handle(&start),
        Err(SessionError::StartRepeated { .. })
    ));
    assert_eq!(
        session.handle(&connected),
        Err(SessionError::ConnectedRepeated)
    );
    // The fixture's media says sequenceNumber 4 after start's 1: a reported gap, applied.
    let gap = session.handle(&media).unwrap().gap.unwrap();
    assert_eq!((gap.expected, gap.found, gap.missing()), (2, 4, 2));
    session.handle(&stop).unwrap();
    assert_eq!(session.phase(), Phase::Stopped);
    assert_eq!(
        session.handle(&media),
        Err(SessionError::AfterStop {
            event: "media".into()
        })
    );
}

#[test]
fn foreign_stream_sid_is_refused_and_ignored() {
    let mut session = StreamSession::new();
    session
        .handle(&decode(include_str!("../fixtures/event/connected.json")))
        .unwrap();
    session.handle(&decode(START)).unwrap();
    let foreign = decode(&MEDIA.replace(SID, "MZ0000000000000000000000000000000f"));
    let err = session.handle(&foreign).unwrap_err();
    assert!(!err.is_fatal());
    let SessionError::ForeignStream { expected, found } = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (expected.as_str(), found.as_str()),
        (SID, "MZ0000000000000000000000000000000f")
    );
    assert_eq!(session.stream_sid().unwrap(), SID);
}
