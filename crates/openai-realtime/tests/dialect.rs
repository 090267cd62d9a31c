//! The beta dialect on the wire: one set of types, beta names and shapes when asked, and what
//! has no counterpart dropped as documented in `openai_realtime::dialect`.

use openai_realtime::server_event::{
    ConversationItemAdded, ConversationItemDone, ResponseFunctionCallArgumentsDone,
};
use openai_realtime::{
    AudioFormat, ClientEvent, ContentPart, ContentPartType, Dialect, FunctionTool, Item,
    MaxOutputTokens, McpTool, MessageItem, Modality, RealtimeSession, Reasoning, ResponseParams,
    Role, ServerEvent, Session, Tool, ToolChoice, Transcription, TranscriptionModel,
    TranscriptionSession, Truncation, Voice,
};
use serde_json::{Value, json};

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

#[test]
fn the_phone_session_in_beta_is_the_flat_g711_shape() {
    let mut session = RealtimeSession::phone_call();
    session.instructions = Some("Confirm the appointment.".into());
    session.set_voice(Voice::Alloy);
    session.max_output_tokens = Some(MaxOutputTokens::Limit(400));
    let event = ClientEvent::session_update(session);
    assert_eq!(
        json_of(&event.encode(Dialect::Beta)),
        json!({"type": "session.update", "session": {
            "instructions": "Confirm the appointment.",
            "modalities": ["text", "audio"],
            "voice": "alloy",
            "input_audio_format": "g711_ulaw",
            "output_audio_format": "g711_ulaw",
            "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                "silence_duration_ms": 500, "create_response": true, "interrupt_response": true},
            "max_response_output_tokens": 400
        }})
    );
    assert_eq!(
        json_of(&event.encode(Dialect::Ga)),
        json!({"type": "session.update", "session": {
            "type": "realtime",
            "instructions": "Confirm the appointment.",
            "output_modalities": ["audio"],
            "audio": {
                "input": {"format": {"type": "audio/pcmu"},
                    "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                        "silence_duration_ms": 500, "create_response": true, "interrupt_response": true}},
                "output": {"format": {"type": "audio/pcmu"}, "voice": "alloy"}
            },
            "max_output_tokens": 400
        }})
    );
}

#[test]
fn a_beta_session_update_reads_into_the_ga_types() {
    let beta = r#"{"type":"session.update","session":{"instructions":"hi","modalities":["text","audio"],
        "voice":"alloy","input_audio_format":"g711_ulaw","output_audio_format":"g711_alaw",
        "input_audio_transcription":{"model":"whisper-1"},"turn_detection":null,
        "tool_choice":"confirm","temperature":0.8,"max_response_output_tokens":"inf","speed":1.1}}"#;
    let event = ClientEvent::decode(beta, Dialect::Beta).unwrap();
    let ClientEvent::SessionUpdate(update) = &event else {
        panic!("session.update expected");
    };
    let Session::Realtime(session) = &update.session else {
        panic!("realtime session expected");
    };
    assert_eq!(session.input_format(), Some(&AudioFormat::Pcmu));
    assert_eq!(session.output_format(), Some(&AudioFormat::Pcma));
    assert_eq!(session.voice(), Some(&Voice::Alloy));
    assert_eq!(session.output_modalities, Some(vec![Modality::Audio]));
    assert_eq!(session.tool_choice, Some(ToolChoice::function("confirm")));
    assert_eq!(session.max_output_tokens, Some(MaxOutputTokens::Inf));
    assert_eq!(session.temperature, Some(0.8));
    let input = session.audio.as_ref().unwrap().input.as_ref().unwrap();
    assert_eq!(
        input.turn_detection,
        Some(None),
        "null (VAD off) survives the translation"
    );
    assert_eq!(
        input.transcription,
        Some(Some(Transcription::new(TranscriptionModel::Whisper1)))
    );
    assert_eq!(
        session
            .audio
            .as_ref()
            .unwrap()
            .output
            .as_ref()
            .unwrap()
            .speed,
        Some(1.1)
    );

    // Back to beta unchanged; to GA without the beta-only temperature, and valid GA.
    assert_eq!(json_of(&event.encode(Dialect::Beta)), json_of(beta));
    let ga = event.encode(Dialect::Ga);
    assert!(!ga.contains("temperature"), "{ga}");
    ClientEvent::decode_strict(&ga, Dialect::Ga).expect("the GA encoding is valid GA");
}

#[test]
fn ga_only_session_fields_are_dropped_from_beta() {
    let mut session = RealtimeSession::phone_call();
    session.truncation = Some(Truncation::Disabled);
    session.reasoning = Some(Reasoning::default());
    session.parallel_tool_calls = Some(true);
    session.include = Some(vec!["item.input_audio_transcription.logprobs".into()]);
    session.set_voice(Voice::custom("voice_123"));
    let mut mcp = McpTool::default();
    mcp.server_label = "calendar".into();
    session.tools = Some(vec![
        Tool::Mcp(mcp),
        Tool::Function(FunctionTool::new(
            "confirm",
            "Confirm.",
            json!({"type": "object"}),
        )),
    ]);
    session.tool_choice = Some(ToolChoice::Mcp {
        server_label: "calendar".into(),
        name: None,
    });
    let beta = json_of(&ClientEvent::session_update(session).encode(Dialect::Beta));
    let session = beta["session"].as_object().unwrap();
    for dropped in [
        "type",
        "truncation",
        "reasoning",
        "parallel_tool_calls",
        "include",
        "voice",
        "tool_choice",
        "audio",
    ] {
        assert!(
            !session.contains_key(dropped),
            "{dropped} should be dropped: {beta}"
        );
    }
    assert_eq!(
        beta["session"]["tools"],
        json!([{"type": "function", "name": "confirm", "description": "Confirm.",
                "parameters": {"type": "object"}}]),
        "MCP tools have no beta form"
    );
}

#[test]
fn temperature_never_reaches_a_ga_socket() {
    let mut params = ResponseParams::new();
    params.temperature = Some(0.7);
    params.instructions = Some("Bye.".into());
    let event = ClientEvent::response_create_with(params);
    assert_eq!(
        json_of(&event.encode(Dialect::Ga)),
        json!({"type": "response.create", "response": {"instructions": "Bye."}})
    );
    assert_eq!(
        json_of(&event.encode(Dialect::Beta)),
        json!({"type": "response.create", "response": {"instructions": "Bye.", "temperature": 0.7}})
    );
    assert!(
        event
            .encode(Dialect::Ga)
            .starts_with(r#"{"type":"response.create""#),
        "GA frames are written with their type first"
    );
    let strict = ClientEvent::decode_strict(
        r#"{"type":"response.create","response":{"temperature":0.7}}"#,
        Dialect::Ga,
    )
    .unwrap_err();
    assert_eq!(strict.param(), Some("response.temperature"));
}

#[test]
fn response_create_overrides_translate() {
    let beta = r#"{"type":"response.create","response":{"modalities":["text"],"voice":"ash",
        "output_audio_format":"pcm16","max_response_output_tokens":50,"tool_choice":"none",
        "conversation":"none","metadata":{"topic":"goodbye"},
        "input":[{"type":"item_reference","id":"item_1"}]}}"#;
    let event = ClientEvent::decode(beta, Dialect::Beta).unwrap();
    assert_eq!(
        json_of(&event.encode(Dialect::Ga)),
        json!({"type": "response.create", "response": {
            "output_modalities": ["text"],
            "audio": {"output": {"voice": "ash", "format": {"type": "audio/pcm", "rate": 24000}}},
            "max_output_tokens": 50, "tool_choice": "none", "conversation": "none",
            "metadata": {"topic": "goodbye"}, "input": [{"type": "item_reference", "id": "item_1"}]
        }})
    );
    assert_eq!(json_of(&event.encode(Dialect::Beta)), json_of(beta));
}

#[test]
fn item_added_is_beta_item_created_and_item_done_has_no_beta_name() {
    let item = Item::user_text("hello");
    let added =
        ServerEvent::ConversationItemAdded(ConversationItemAdded::new("event_1", item.clone()));
    let beta = added.encode(Dialect::Beta);
    assert_eq!(json_of(&beta)["type"], "conversation.item.created");
    assert_eq!(ServerEvent::decode(&beta, Dialect::Beta).unwrap(), added);
    // On a GA socket the legacy name stays its own variant.
    assert_eq!(
        ServerEvent::decode(&beta, Dialect::Ga)
            .unwrap()
            .event_type(),
        "conversation.item.created"
    );

    let done = ServerEvent::ConversationItemDone(ConversationItemDone::new("event_2", item));
    assert!(!done.exists_in(Dialect::Beta));
    assert!(done.exists_in(Dialect::Ga));
    assert!(added.exists_in(Dialect::Beta));
    assert_eq!(
        json_of(&done.encode(Dialect::Beta))["type"],
        "conversation.item.done"
    );
}

#[test]
fn function_call_arguments_done_has_no_name_in_beta() {
    let ga = r#"{"type":"response.function_call_arguments.done","event_id":"event_C4","response_id":"resp_C2",
        "item_id":"item_C9","output_index":0,"call_id":"call_9Xf2","name":"confirm_appointment",
        "arguments":"{\"appointment_id\":\"42\"}"}"#;
    let event = ServerEvent::decode(ga, Dialect::Ga).unwrap();
    let beta = event.encode(Dialect::Beta);
    assert!(json_of(&beta).get("name").is_none(), "{beta}");
    let ServerEvent::ResponseFunctionCallArgumentsDone(ResponseFunctionCallArgumentsDone {
        name,
        call_id,
        arguments,
        ..
    }) = ServerEvent::decode(&beta, Dialect::Beta).unwrap()
    else {
        panic!("function_call_arguments.done expected");
    };
    assert_eq!(name, None);
    assert_eq!(call_id, "call_9Xf2");
    assert_eq!(arguments, r#"{"appointment_id":"42"}"#);
}

#[test]
fn assistant_parts_are_output_text_in_ga_and_text_in_beta() {
    let mut audio_part = ContentPart::default();
    audio_part.kind = Some(ContentPartType::OutputAudio);
    audio_part.transcript = Some("Hello".into());
    let item = Item::Message(MessageItem::new(
        Role::Assistant,
        vec![ContentPart::output_text("Hello"), audio_part],
    ));
    let event = ServerEvent::ConversationItemAdded(ConversationItemAdded::new("e", item));
    let beta = json_of(&event.encode(Dialect::Beta));
    assert_eq!(beta["item"]["content"][0]["type"], "text");
    assert_eq!(beta["item"]["content"][1]["type"], "audio");
    let ga = json_of(&event.encode(Dialect::Ga));
    assert_eq!(ga["item"]["content"][0]["type"], "output_text");
    assert_eq!(
        ServerEvent::decode(&beta.to_string(), Dialect::Beta).unwrap(),
        event
    );
}

#[test]
fn transcription_sessions_use_the_beta_transcription_events() {
    let mut session = TranscriptionSession::new();
    let mut input = openai_realtime::AudioInput::default();
    input.format = Some(AudioFormat::Pcmu);
    input.transcription = Some(Some(Transcription::new(
        TranscriptionModel::Gpt4oTranscribe,
    )));
    let mut audio = openai_realtime::TranscriptionAudio::default();
    audio.input = Some(input);
    session.audio = Some(audio);
    let event = ClientEvent::session_update(session);
    assert_eq!(
        json_of(&event.encode(Dialect::Beta)),
        json!({"type": "transcription_session.update", "session": {
            "input_audio_format": "g711_ulaw",
            "input_audio_transcription": {"model": "gpt-4o-transcribe"}
        }})
    );
    assert_eq!(
        json_of(&event.encode(Dialect::Ga)),
        json!({"type": "session.update", "session": {"type": "transcription",
            "audio": {"input": {"format": {"type": "audio/pcmu"},
                                "transcription": {"model": "gpt-4o-transcribe"}}}}})
    );
    assert_eq!(
        ClientEvent::decode(&event.encode(Dialect::Beta), Dialect::Beta).unwrap(),
        event
    );
}

#[test]
fn beta_response_done_reads_into_the_ga_response() {
    let beta = r#"{"type":"response.done","event_id":"e","response":{"id":"resp_1","object":"realtime.response",
        "status":"cancelled","status_details":{"type":"cancelled","reason":"turn_detected"},
        "modalities":["text","audio"],"voice":"alloy","output_audio_format":"g711_ulaw","temperature":0.8,
        "output":[{"id":"item_1","type":"message","role":"assistant","content":[{"type":"audio","transcript":"Hi"}]}],
        "usage":{"total_tokens":10,"input_tokens":4,"output_tokens":6}}}"#;
    let ServerEvent::ResponseDone(done) = ServerEvent::decode(beta, Dialect::Beta).unwrap() else {
        panic!("response.done expected");
    };
    let response = &done.response;
    assert_eq!(
        response.status,
        Some(openai_realtime::ResponseStatus::Cancelled)
    );
    assert_eq!(
        response.status_details.as_ref().unwrap().reason,
        Some(openai_realtime::StatusReason::TurnDetected)
    );
    let output = response.audio.as_ref().unwrap().output.as_ref().unwrap();
    assert_eq!(output.format, Some(AudioFormat::Pcmu));
    assert_eq!(output.voice, Some(Voice::Alloy));
    assert_eq!(response.output_modalities, Some(vec![Modality::Audio]));
    let Item::Message(message) = &response.output.as_ref().unwrap()[0] else {
        panic!("message expected");
    };
    assert_eq!(message.content[0].kind, Some(ContentPartType::OutputAudio));
    assert_eq!(response.usage.as_ref().unwrap().total_tokens, Some(10));
    let event = ServerEvent::ResponseDone(done.clone());
    assert_eq!(json_of(&event.encode(Dialect::Beta)), json_of(beta));
    assert!(!event.encode(Dialect::Ga).contains("temperature"));
}

/// Issue 16, item 12: a beta session with `"modalities": ["audio"]` came back as
/// `["text","audio"]` (GA has one way to say both).
#[test]
fn beta_modalities_come_back_as_they_came() {
    for modalities in [
        json!(["audio"]),
        json!(["audio", "text"]),
        json!(["text", "audio"]),
    ] {
        let beta = json!({"type": "session.created", "event_id": "event_1", "session": {
            "id": "sess_1", "object": "realtime.session", "model": "gpt-realtime",
            "modalities": modalities
        }});
        let event = ServerEvent::decode(&beta.to_string(), Dialect::Beta).unwrap();
        assert_eq!(json_of(&event.encode(Dialect::Beta)), beta, "{modalities}");
        let ga = json_of(&event.encode(Dialect::Ga));
        assert_eq!(ga["session"]["output_modalities"], json!(["audio"]), "{ga}");
        assert!(
            ga["session"].get("modalities").is_none(),
            "GA has no modalities: {ga}"
        );
    }
}

/// The kept beta `modalities` give way once `output_modalities` is changed.
#[test]
fn changed_output_modalities_win_over_the_kept_beta_ones() {
    let beta = r#"{"type":"session.update","session":{"modalities":["audio"]}}"#;
    let ClientEvent::SessionUpdate(mut update) = ClientEvent::decode(beta, Dialect::Beta).unwrap()
    else {
        panic!("session.update expected");
    };
    let Session::Realtime(session) = &mut update.session else {
        panic!("realtime session expected");
    };
    assert_eq!(session.modalities, Some(vec![Modality::Audio]));
    session.output_modalities = Some(vec![Modality::Text]);
    let event = ClientEvent::SessionUpdate(update);
    assert_eq!(
        json_of(&event.encode(Dialect::Beta)),
        json!({"type": "session.update", "session": {"modalities": ["text"]}})
    );
}
