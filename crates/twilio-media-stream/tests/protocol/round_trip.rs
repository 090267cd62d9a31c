//! Property tests: every message type survives encode -> decode unchanged.

use proptest::prelude::*;
use serde_json::{Value, json};
use twilio_media_stream::event::{Connected, Dtmf, Mark, MediaFormat, Start, Stop, Track};
use twilio_media_stream::{Payload, StreamCommand, StreamEvent, StreamSid, event};

fn id() -> impl Strategy<Value = String> {
    // Short (inline) and long (heap) ids, any characters JSON must escape included.
    prop_oneof!["[A-Z]{2}[0-9a-f]{32}", any::<String>()]
}

fn sid() -> impl Strategy<Value = StreamSid> {
    id().prop_map(StreamSid::from)
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..400).prop_map(|b| Payload::from_mulaw(&b)),
        // Text as received is kept even when it is not base64.
        any::<String>().prop_map(Payload::from_base64),
    ]
}

fn track() -> impl Strategy<Value = Track> {
    prop_oneof![
        Just(Track::Inbound),
        Just(Track::Outbound),
        "[a-z_]{0,16}".prop_map(|s| Track::from(s.as_str())),
    ]
}

fn stream_event() -> impl Strategy<Value = StreamEvent> {
    prop_oneof![
        (any::<String>(), any::<String>()).prop_map(|(protocol, version)| {
            let mut c = Connected::new();
            c.protocol = protocol;
            c.version = version;
            StreamEvent::from(c)
        }),
        (
            any::<u64>(),
            sid(),
            id(),
            id(),
            prop::collection::vec(track(), 0..3),
            prop::collection::btree_map(any::<String>(), any::<String>(), 0..5),
            (any::<String>(), any::<u32>(), any::<u16>()),
        )
            .prop_map(|(seq, sid, account, call, tracks, params, format)| {
                let mut s = Start::new(seq, sid, account.into(), call.into());
                s.start.tracks = tracks;
                s.start.custom_parameters = params;
                s.start.media_format = MediaFormat::new(format.0, format.1, format.2);
                StreamEvent::from(s)
            }),
        (
            any::<u64>(),
            sid(),
            any::<u64>(),
            any::<u64>(),
            payload(),
            track()
        )
            .prop_map(|(seq, sid, chunk, timestamp, payload, track)| {
                let mut m = event::Media::new(seq, sid, chunk, timestamp, payload);
                m.media.track = track;
                StreamEvent::from(m)
            }),
        (any::<u64>(), sid(), any::<String>(), any::<String>()).prop_map(
            |(seq, sid, digit, track)| {
                let mut d = Dtmf::new(seq, sid, digit);
                d.dtmf.track = track;
                StreamEvent::from(d)
            }
        ),
        (any::<u64>(), sid(), id())
            .prop_map(|(seq, sid, name)| { StreamEvent::from(Mark::new(seq, sid, name.into())) }),
        (any::<u64>(), sid(), id(), id()).prop_map(|(seq, sid, account, call)| {
            StreamEvent::from(Stop::new(seq, sid, account.into(), call.into()))
        }),
    ]
}

fn stream_command() -> impl Strategy<Value = StreamCommand> {
    prop_oneof![
        (sid(), payload()).prop_map(|(sid, payload)| StreamCommand::media(sid, payload)),
        (sid(), id()).prop_map(|(sid, name)| StreamCommand::mark(sid, name.as_str())),
        sid().prop_map(StreamCommand::clear),
    ]
}

proptest! {
    #[test]
    fn stream_events_round_trip(event in stream_event()) {
        let text = event.encode();
        let again = StreamEvent::decode(&text).unwrap();
        prop_assert_eq!(&again, &event);
        prop_assert_eq!(again.encode(), text);
    }

    #[test]
    fn stream_commands_round_trip(command in stream_command()) {
        let text = command.encode();
        let again = StreamCommand::decode(&text).unwrap();
        prop_assert_eq!(&again, &command);
        prop_assert_eq!(again.encode(), text);
    }

    #[test]
    fn unknown_events_keep_their_json(
        name in "[a-z_.]{1,20}",
        extra in prop::collection::btree_map("[a-zA-Z]{1,8}", any::<i64>(), 0..4),
    ) {
        prop_assume!(!["connected", "start", "media", "dtmf", "mark", "stop"].contains(&name.as_str()));
        let mut object = json!({ "event": name });
        for (k, v) in extra {
            if k != "event" {
                object[k] = json!(v);
            }
        }
        let text = object.to_string();
        let decoded = StreamEvent::decode(&text).unwrap();
        let StreamEvent::Unknown(unknown) = &decoded else {
            return Err(TestCaseError::fail(format!("{decoded:?}")));
        };
        prop_assert_eq!(unknown.event_type(), name.as_str());
        prop_assert_eq!(unknown.json(), text.as_str());
        prop_assert_eq!(serde_json::from_str::<Value>(&decoded.encode()).unwrap(), object);
    }

    #[test]
    fn payload_bytes_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..2000)) {
        let payload = Payload::from_mulaw(&bytes);
        prop_assert_eq!(payload.decoded_len(), bytes.len());
        prop_assert_eq!(payload.duration_ms(), bytes.len() as u64 / 8);
        prop_assert_eq!(payload.validate(), Ok(()));
        let mut out = Vec::new();
        prop_assert_eq!(payload.decode_into(&mut out), Ok(bytes.len()));
        prop_assert_eq!(out, bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let _ = StreamEvent::decode(&text);
        let _ = StreamCommand::decode(&text);
        let payload = Payload::from_base64(text.as_str());
        prop_assert_eq!(payload.validate(), payload.decode().map(|_| ()));
    }
}
