//! Golden tests: the builder writes every document of `fixtures/twilio-twiml-examples.json`
//! (made with Twilio's official Python SDK) byte for byte.

use serde_json::Value;
use twilio_media_stream::twiml::{
    Connect, Method, Pause, Redirect, Say, Start, Stop, Stream, Track, VoiceResponse,
};

const FIXTURE: &str = include_str!("fixtures/twilio-twiml-examples.json");

/// The fixture documents as `(description, twiml)`.
fn documents() -> Vec<(String, String)> {
    let all: Vec<Value> = serde_json::from_str(FIXTURE).expect("fixture is a JSON array");
    all.iter()
        .map(|doc| {
            (
                doc["description"].as_str().expect("description").to_owned(),
                doc["twiml"].as_str().expect("twiml").to_owned(),
            )
        })
        .collect()
}

/// Asserts that `ours` equals the fixture document at `index`, naming it on failure.
fn assert_matches_sdk(index: usize, ours: &str) {
    let (description, expected) = &documents()[index];
    assert_eq!(ours, expected, "document {index}: {description}");
}

/// One test per fixture document; the `documents_are_all_covered` test keeps the list honest.
macro_rules! golden {
    ($($name:ident: $index:expr => $xml:expr;)*) => {
        $(
            #[test]
            fn $name() {
                assert_matches_sdk($index, &$xml);
            }
        )*

        #[test]
        fn documents_are_all_covered() {
            let covered = [$($index),*];
            let count = documents().len();
            for index in 0..count {
                assert!(covered.contains(&index), "fixture document {index} has no test");
            }
            assert_eq!(covered.len(), count);
        }
    };
}

golden! {
    connect_stream_with_two_parameters: 0 => VoiceResponse::new()
        .connect(Connect::new().stream(
            Stream::new("wss://bot.example.com/media-stream")
                .parameter("appointment_id", "apt_42")
                .parameter("patient_name", "Jane Doe"),
        ))
        .to_xml();

    connect_stream_with_status_callback_then_say_and_hangup: 1 => VoiceResponse::new()
        .connect(Connect::new().stream(
            Stream::new("wss://bot.example.com/media-stream")
                .status_callback("https://bot.example.com/twilio/stream-status")
                .status_callback_method(Method::Post)
                .parameter("appointment_id", "apt_42"),
        ))
        .say("Sorry, our assistant is not available right now. We will call you back. Goodbye.")
        .hangup()
        .to_xml();

    start_stream_named_both_tracks_with_status_callback: 2 => VoiceResponse::new()
        .start(Start::new().stream(
            Stream::new("wss://bot.example.com/listen")
                .name("monitor")
                .track(Track::BothTracks)
                .status_callback("https://bot.example.com/twilio/stream-status")
                .status_callback_method(Method::Post),
        ))
        .to_xml();

    start_stream_then_say_and_pause: 3 => VoiceResponse::new()
        .start(Start::new().stream(
            Stream::new("wss://bot.example.com/listen").track(Track::InboundTrack),
        ))
        .say("This call may be recorded for quality purposes.")
        .pause(Pause::new().length(60))
        .to_xml();

    escaping_in_attributes_and_text: 4 => VoiceResponse::new()
        .connect(Connect::new().stream(
            Stream::new("wss://bot.example.com/media-stream?x=1&y=2")
                .parameter("note", "Ana & <Bob> \"O'Neil\" — café"),
        ))
        .say("Tom & Jerry <3 \"quotes\" 'apostrophes'")
        .to_xml();

    stop_named_stream: 5 => VoiceResponse::new()
        .stop(Stop::new().stream("monitor"))
        .to_xml();

    say_with_voice_and_language_then_hangup: 6 => VoiceResponse::new()
        .say(
            Say::new("Thank you. Your appointment is confirmed. Goodbye.")
                .voice("Polly.Joanna")
                .language("en-US"),
        )
        .hangup()
        .to_xml();

    without_xml_declaration: 7 => VoiceResponse::new()
        .connect(Connect::new().stream(Stream::new("wss://bot.example.com/media-stream")))
        .to_xml_without_declaration();

    connect_stream_with_signature_like_parameter: 8 => VoiceResponse::new()
        .connect(Connect::new().stream(
            Stream::new("wss://bot.example.com/media-stream")
                .parameter("appointment_id", "42")
                .parameter("sig", "v1.1767225600.abc+/="),
        ))
        .to_xml();

    connect_stream_escaped_parameter_then_fallback: 9 => VoiceResponse::new()
        .connect(Connect::new().stream(
            Stream::new("wss://bot.example.com/media-stream")
                .status_callback("https://bot.example.com/stream-status")
                .status_callback_method(Method::Post)
                .parameter("name", "Ana & <Bob> \"O'Neil\""),
        ))
        .say(
            Say::new("Sorry, our assistant is unavailable. We will call you back.")
                .voice("alice"),
        )
        .hangup()
        .to_xml();

    start_stream_then_say_pause_redirect: 10 => VoiceResponse::new()
        .start(Start::new().stream(
            Stream::new("wss://bot.example.com/listen")
                .name("monitor")
                .status_callback("https://bot.example.com/stream-status")
                .track(Track::BothTracks),
        ))
        .say("This call may be recorded.")
        .pause(Pause::new().length(2))
        .redirect(Redirect::new("https://bot.example.com/next").method(Method::Post))
        .to_xml();
}

#[test]
fn declaration_is_the_only_difference_between_the_two_forms() {
    let response = VoiceResponse::new()
        .connect(Connect::new().stream(Stream::new("wss://bot.example.com/media-stream")));
    let with = response.to_xml();
    let without = response.to_xml_without_declaration();
    assert_eq!(
        with.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"),
        Some(without.as_str())
    );
}

/// `loop` (no SDK document in the fixture has it): written in the SDK's alphabetical
/// attribute order, between `language` and `voice`; `0` (until the call ends) is kept.
#[test]
fn say_loop_sits_in_alphabetical_order() {
    let xml = VoiceResponse::new()
        .say(
            Say::new("Please call us back.")
                .voice("Polly.Joanna")
                .language("en-US")
                .loop_count(2),
        )
        .say(Say::new("Hold on.").loop_count(0))
        .to_xml_without_declaration();
    assert_eq!(
        xml,
        "<Response><Say language=\"en-US\" loop=\"2\" voice=\"Polly.Joanna\">Please call us back.</Say>\
         <Say loop=\"0\">Hold on.</Say></Response>"
    );
}
