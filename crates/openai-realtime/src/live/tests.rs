//! Unit tests of the Live models: decode failures name the field, unknown members survive,
//! `null` and absent stay apart.

use serde_json::Value;

use super::*;
use crate::DecodeErrorKind;

fn same_json(a: &str, b: &str) {
    let a: Value = serde_json::from_str(a).unwrap();
    let b: Value = serde_json::from_str(b).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_missing_field_is_named_with_its_path() {
    let err = ClientEvent::decode(r#"{"type":"session.start","session":{"instructions":"x"}}"#)
        .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent);
    assert_eq!(err.event_type(), Some("session.start"));
    assert_eq!(err.path(), Some("session.model"));
}

#[test]
fn a_wrong_type_is_named_with_its_path() {
    let err = ServerEvent::decode(
        r#"{"type":"session.input_transcript.delta","event_id":"e","delta":"hi","start_ms":"soon","end_ms":1}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent);
    assert_eq!(err.path(), Some("start_ms"));
}

#[test]
fn a_bad_nested_format_names_the_format() {
    let err = ClientEvent::decode(
        r#"{"type":"session.start","session":{"model":"gpt-live-1","audio":{"format":{"type":"audio/pcmu"}}}}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent);
    let path = err.path().unwrap();
    assert!(path.starts_with("session.audio.format"), "{path}");
}

#[test]
fn unknown_type_is_unknown_with_raw_json() {
    let frame = r#"{"type":"session.new_thing","event_id":"e1","x":[1,2]}"#;
    let ServerEvent::Unknown(event) = ServerEvent::decode(frame).unwrap() else {
        panic!("unknown type");
    };
    assert_eq!(event.event_type(), "session.new_thing");
    assert_eq!(ServerEvent::Unknown(event).encode(), frame);
}

#[test]
fn unknown_members_survive_at_every_depth() {
    let frame = r#"{"type":"session.started","event_id":"e","future":true,"session":{"id":"live_1","expires_at":1,"model":"gpt-live-9","status":"paused","tier":"x","audio":{"format":{"type":"audio/opus","rate":48000,"channels":2},"output":{"voice":{"id":"v1","style":"calm"}},"gain":3},"delegation":{"type":"client","acknowledgement_delay_ms":5,"mode":"x"}}}"#;
    let event = ServerEvent::decode(frame).unwrap();
    let ServerEvent::SessionStarted(started) = &event else {
        panic!("session.started");
    };
    assert!(started.session.model.is_unknown());
    assert!(matches!(
        started.session.format(),
        Some(AudioFormat::Unknown(_))
    ));
    assert_eq!(started.extra["future"], true);
    same_json(&event.encode(), frame);
}

#[test]
fn delegation_id_null_and_absent_stay_apart() {
    for frame in [
        r#"{"type":"session.commentary.append","content":"hi"}"#,
        r#"{"type":"session.commentary.append","content":"hi","delegation_id":null}"#,
        r#"{"type":"session.commentary.append","content":"hi","delegation_id":"item_1"}"#,
    ] {
        same_json(&ClientEvent::decode(frame).unwrap().encode(), frame);
    }
}

#[test]
fn numbers_keep_their_kind() {
    for frame in [
        r#"{"type":"session.usage.updated","event_id":"e","usage":{"seconds":7},"context_window":{"usage_ratio":1}}"#,
        r#"{"type":"session.usage.updated","event_id":"e","usage":{"seconds":12.0},"context_window":{"usage_ratio":0.008859375}}"#,
    ] {
        assert_eq!(ServerEvent::decode(frame).unwrap().encode(), frame);
    }
}

#[test]
fn fork_start_has_no_model() {
    let frame = r#"{"type":"session.start","session":{"audio":{"format":{"type":"audio/pcm","rate":24000}},"store":true}}"#;
    assert!(matches!(
        ClientEvent::decode_fork(frame).unwrap(),
        ClientEvent::ForkSessionStart(_)
    ));
    assert!(ClientEvent::decode(frame).is_err());
}

#[test]
fn phone_call_is_g711_mu_law_both_ways() {
    let config = SessionConfig::phone_call();
    assert_eq!(config.model, Model::GptLive1);
    let format = config.format().unwrap();
    assert!(format.is_twilio_native());
    assert_eq!(format.rate(), Some(8000));
}

#[test]
fn constructors_write_what_a_bridge_sends() {
    same_json(
        &ClientEvent::function_call_output("call_1", r#"{"status":"shipped"}"#)
            .with_event_id("evt_r1")
            .encode(),
        r#"{"type":"response.item.create","event_id":"evt_r1","item":{"type":"function_call_output","call_id":"call_1","output":"{\"status\":\"shipped\"}"}}"#,
    );
    same_json(
        &ClientEvent::commentary_append("Order 123 shipped.", Some("dlg_1".into())).encode(),
        r#"{"type":"session.commentary.append","content":"Order 123 shipped.","delegation_id":"dlg_1"}"#,
    );
    same_json(
        &ClientEvent::session_update(SessionUpdateConfig::delegation(DelegationUpdate::Client(
            ClientDelegation::default(),
        )))
        .encode(),
        r#"{"type":"session.update","session":{"delegation":{"type":"client"}}}"#,
    );
    assert_eq!(
        ClientEvent::session_close().with_event_id("bye").encode(),
        r#"{"type":"session.close","event_id":"bye"}"#
    );
}

#[test]
fn error_event_names_the_client_event() {
    let frame = r#"{"type":"error","event_id":"e","error":{"type":"invalid_request_error","code":"unknown_parameter","message":"Unknown parameter: 'session.turn_detection'.","param":"session.turn_detection","client_event_id":"evt_start"}}"#;
    let event = ServerEvent::decode(frame).unwrap();
    assert_eq!(
        event.client_event_id().map(crate::EventId::as_str),
        Some("evt_start")
    );
    let err = event.as_error().unwrap();
    assert_eq!(err.param.as_deref(), Some("session.turn_detection"));
    assert_eq!(
        err.to_api_error()
            .event_id
            .as_ref()
            .map(crate::EventId::as_str),
        Some("evt_start")
    );
}

#[test]
fn an_unknown_client_event_is_kept_whole() {
    let frame = r#"{"type":"session.output_audio.clear","event_id":"evt_7","reason":{"kind":"barge_in","at_ms":[120,240]},"flag":null}"#;
    let event = ClientEvent::decode(frame).unwrap();
    let ClientEvent::Unknown(unknown) = &event else {
        panic!("an unknown type decodes to Unknown, got {event:?}");
    };
    assert_eq!(unknown.event_type(), "session.output_audio.clear");
    assert_eq!(event.event_type(), "session.output_audio.clear");
    assert_eq!(event.event_id(), None);
    // Written back byte for byte, and as the same value through serde.
    assert_eq!(event.encode(), frame);
    same_json(&serde_json::to_string(&event).unwrap(), frame);
    // A fork connection reads it the same way.
    assert_eq!(ClientEvent::decode_fork(frame).unwrap(), event);
}

#[test]
fn an_unknown_server_event_on_any_connection_is_kept_whole() {
    let frame = "{\"type\":\"transport.hold\", \"event_id\":\"e\",\n \"session_id\":\"live_1\",\"music\":true}";
    let event = ServerEvent::decode(frame).unwrap();
    assert!(matches!(event, ServerEvent::Unknown(_)), "{event:?}");
    assert_eq!(event.event_type(), "transport.hold");
    assert_eq!(event.encode(), frame, "whitespace and order as received");
}

#[test]
fn an_unknown_member_of_a_known_event_is_kept_and_written_back() {
    let frame = r#"{"type":"session.input_transcript.delta","event_id":"e1","delta":"Hi","start_ms":0,"end_ms":200,"speaker":{"id":"caller","confidence":0.93},"lang":"en"}"#;
    let event = ServerEvent::decode(frame).unwrap();
    let ServerEvent::InputTranscriptDelta(delta) = &event else {
        panic!("a transcript delta, got {event:?}");
    };
    assert_eq!(delta.delta, "Hi");
    assert_eq!(delta.extra["lang"], "en");
    assert_eq!(delta.extra["speaker"]["confidence"], 0.93);
    assert_eq!(
        delta.extra.len(),
        2,
        "only the unnamed members: {:?}",
        delta.extra
    );
    same_json(&event.encode(), frame);

    // The same on the client side, and set by hand.
    let mut append = ClientEvent::input_audio_append("AAAA");
    if let ClientEvent::InputAudioAppend(body) = &mut append {
        body.extra.insert("sequence".into(), 42.into());
    }
    same_json(
        &append.encode(),
        r#"{"type":"session.input_audio.append","audio":"AAAA","sequence":42}"#,
    );
    assert_eq!(ClientEvent::decode(&append.encode()).unwrap(), append);
}

#[test]
fn malformed_frames_are_typed_errors_not_panics() {
    let cases: &[(&str, DecodeErrorKind)] = &[
        ("", DecodeErrorKind::Syntax),
        ("{", DecodeErrorKind::Syntax),
        (
            r#"{"type":"session.start","session":{"model":"gpt-live-1""#,
            DecodeErrorKind::Syntax,
        ),
        ("not json", DecodeErrorKind::Syntax),
        ("[1,2]", DecodeErrorKind::NotAnObject),
        ("42", DecodeErrorKind::NotAnObject),
        (r#""session.close""#, DecodeErrorKind::NotAnObject),
        ("null", DecodeErrorKind::NotAnObject),
        ("{}", DecodeErrorKind::MissingType),
        (r#"{"event_id":"e"}"#, DecodeErrorKind::MissingType),
        (r#"{"type":7}"#, DecodeErrorKind::MissingType),
        (r#"{"type":null}"#, DecodeErrorKind::MissingType),
        (
            r#"{"type":"session.close","type":"session.start"}"#,
            DecodeErrorKind::InvalidEvent,
        ),
    ];
    for (frame, kind) in cases {
        for (side, result) in [
            ("client", ClientEvent::decode(frame).map(|_| ())),
            ("fork", ClientEvent::decode_fork(frame).map(|_| ())),
            ("server", ServerEvent::decode(frame).map(|_| ())),
        ] {
            let err = result.expect_err(frame);
            assert_eq!(err.kind(), *kind, "{side} {frame:?}: {err}");
            assert!(!err.to_string().is_empty());
        }
    }

    // A known type with a bad body names the event and the field, on both sides.
    let err =
        ClientEvent::decode(r#"{"type":"session.input_audio.append","audio":7}"#).unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent);
    assert_eq!(err.event_type(), Some("session.input_audio.append"));
    assert_eq!(err.path(), Some("audio"));
    let err = ServerEvent::decode(r#"{"type":"session.closed","event_id":"e","reason":"expired"}"#)
        .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent);
    assert_eq!(err.event_type(), Some("session.closed"));
    assert!(err.to_string().contains("missing field `session`"), "{err}");
}

#[test]
fn audio_formats_are_the_sdks() {
    for (format, json) in [
        (AudioFormat::pcmu(), r#"{"type":"audio/pcmu","rate":8000}"#),
        (AudioFormat::pcma(), r#"{"type":"audio/pcma","rate":8000}"#),
        (
            AudioFormat::pcm(16000),
            r#"{"type":"audio/pcm","rate":16000}"#,
        ),
        (
            AudioFormat::pcm(24000),
            r#"{"type":"audio/pcm","rate":24000}"#,
        ),
    ] {
        assert_eq!(serde_json::to_string(&format).unwrap(), json);
        assert_eq!(serde_json::from_str::<AudioFormat>(json).unwrap(), format);
    }
    assert_eq!(AudioFormat::pcma().rate(), Some(8000));
    assert!(
        !AudioFormat::pcma().is_twilio_native(),
        "A-law is not Twilio's"
    );
    assert!(!AudioFormat::pcm(24000).is_twilio_native());
    // A format this version does not know is kept, with its members.
    let opus = r#"{"type":"audio/opus","rate":48000,"channels":2}"#;
    let format: AudioFormat = serde_json::from_str(opus).unwrap();
    assert!(matches!(format, AudioFormat::Unknown(_)));
    assert_eq!(format.rate(), None);
    same_json(&serde_json::to_string(&format).unwrap(), opus);
}

#[test]
fn a_decision_event_reads_its_answers_and_keeps_its_nulls() {
    let frame = r#"{"type":"decision.event","event_id":"e5","delegation_id":null,"trigger_id":"trg_1","source_event_id":"e4","source_event_type":"session.input_transcript.delta","event":{"type":"decision.completed","decision":{"model":"gpt-decision-1","answers":[{"type":"choice","name":"intent","choice":"cancel","confidence":0.91,"probabilities":[{"value":"cancel","probability":0.91},{"value":true,"probability":0.09}]},{"type":"predicate","name":"angry","probability":1},{"type":"refusal","name":null}],"usage":{"input_tokens":120,"input_tokens_details":{"cache_write_tokens":0,"cached_tokens":64},"output_tokens":3,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":123}}}}"#;
    let event = ServerEvent::decode(frame).unwrap();
    let ServerEvent::DecisionEvent(decision_event) = &event else {
        panic!("a decision.event, got {event:?}");
    };
    assert_eq!(decision_event.delegation(), None);
    assert_eq!(decision_event.delegation_id, Some(None), "null, not absent");
    assert_eq!(
        decision_event.trigger().map(TriggerId::as_str),
        Some("trg_1")
    );
    let decision = decision_event.decision().unwrap();
    let Some(DecisionAnswer::Choice(intent)) = decision.answer("intent") else {
        panic!("the intent answer is a choice: {:?}", decision.answers);
    };
    assert_eq!(intent.choice, ChoiceValue::Text("cancel".into()));
    assert_eq!(intent.probabilities[1].value, ChoiceValue::Bool(true));
    assert_eq!(intent.confidence.as_f64(), Some(0.91));
    assert!(matches!(decision.answers[2], DecisionAnswer::Refusal(_)));
    assert_eq!(decision.answers[2].name(), None);
    assert_eq!(decision.usage.input_tokens_details.cached_tokens, 64);
    // Written back as it came: `1` stays `1`, the nulls stay.
    same_json(&event.encode(), frame);
}

#[test]
fn data_channel_limits_are_all_or_a_list() {
    let frame = r#"{"type":"session.start","session":{"model":"gpt-live-1","client":{"data_channel":{"allowed_client_events":"all","allowed_server_events":[{"type":"session.output_transcript.delta"},{"type":"response.event","response_event":"response.output_text.delta"}]}}}}"#;
    let ClientEvent::SessionStart(start) = ClientEvent::decode(frame).unwrap() else {
        panic!("session.start");
    };
    let channel = &start.session.client.as_ref().unwrap().data_channel;
    assert_eq!(channel.allowed_client_events, Some(Allowed::All));
    let Some(Allowed::Only(server)) = &channel.allowed_server_events else {
        panic!("a list: {channel:?}");
    };
    assert_eq!(server[1].event_type, "response.event");
    assert_eq!(
        server[1].response_event.as_deref(),
        Some("response.output_text.delta")
    );
    same_json(&ClientEvent::SessionStart(start).encode(), frame);

    let err = ClientEvent::decode(
        r#"{"type":"session.start","session":{"model":"gpt-live-1","client":{"data_channel":{"allowed_client_events":"some"}}}}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent);
    assert!(
        err.to_string().contains(r#"expected "all" or a list"#),
        "{err}"
    );
}

#[test]
fn a_trigger_asks_its_questions_on_one_transcript() {
    let trigger = r#"{"type":"decisions","event_type":"session.input_transcript.delta","decisions":{"questions":[{"type":"score","instructions":[{"type":"input_text","text":"How upset is the caller?"}],"levels":[{"label":"calm"},{"label":"upset","description":"raised voice"}]}]}}"#;
    let parsed: Trigger = serde_json::from_str(trigger).unwrap();
    let Trigger::Decisions(decisions) = &parsed else {
        panic!("a decisions trigger: {parsed:?}");
    };
    assert_eq!(decisions.event_type, "session.input_transcript.delta");
    let DecisionQuestion::Score(score) = &decisions.decisions.questions[0] else {
        panic!("a score question");
    };
    assert!(matches!(score.instructions, DecisionInstructions::Parts(_)));
    assert_eq!(score.levels[1].description.as_deref(), Some("raised voice"));
    same_json(&serde_json::to_string(&parsed).unwrap(), trigger);
}

#[test]
fn decision_items_are_read_by_role_or_type() {
    let stored = r#"{"type":"decision.item.created","event_id":"e2","client_event_id":"c1","item":{"id":"di_1","type":"message","role":"assistant","phase":"final_answer","content":[{"type":"output_text","text":"Booked."}]}}"#;
    let event = ServerEvent::decode(stored).unwrap();
    let ServerEvent::DecisionItemCreated(created) = &event else {
        panic!("decision.item.created: {event:?}");
    };
    let DecisionItem::Message(message) = &created.item else {
        panic!("a message: {:?}", created.item);
    };
    assert_eq!(message.role, DecisionRole::Assistant);
    assert_eq!(message.phase.as_deref(), Some("final_answer"));
    assert_eq!(created.item.id(), Some("di_1"));
    same_json(&event.encode(), stored);

    let call = r#"{"type":"decision.item.create","item":{"type":"function_call","call_id":"call_1","name":"lookup","arguments":"{}"}}"#;
    let ClientEvent::DecisionItemCreate(create) = ClientEvent::decode(call).unwrap() else {
        panic!("decision.item.create");
    };
    assert!(matches!(&create.item, DecisionItem::FunctionCall(c) if c.name == "lookup"));

    // A kind this version does not know, and a message with no `type`, both kept as sent.
    for frame in [
        r#"{"type":"decision.item.create","item":{"type":"web_page","url":"https://example.com"}}"#,
        r#"{"type":"decision.item.create","item":{"role":"system","content":"Be strict."}}"#,
    ] {
        same_json(&ClientEvent::decode(frame).unwrap().encode(), frame);
    }
    let ClientEvent::DecisionItemCreate(unknown) = ClientEvent::decode(
        r#"{"type":"decision.item.create","item":{"type":"web_page","url":"u"}}"#,
    )
    .unwrap() else {
        panic!("decision.item.create");
    };
    assert!(matches!(unknown.item, DecisionItem::Unknown(_)));

    // A known kind with a bad body is an error naming the event.
    let err = ClientEvent::decode(
        r#"{"type":"decision.item.create","item":{"type":"function_call","call_id":"c"}}"#,
    )
    .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::InvalidEvent);
    assert_eq!(err.event_type(), Some("decision.item.create"));
}
