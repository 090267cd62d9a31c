//! Every example message of the protocol reference (tests/fixtures/{event,command}/) decodes
//! and encodes back to equal JSON.

use serde_json::Value;
use twilio_media_stream::{StreamCommand, StreamEvent};

fn json(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture is JSON")
}

macro_rules! golden {
    ($($name:ident: $ty:ident, $file:literal, $check:expr;)*) => {
        $(
            #[test]
            fn $name() {
                let text = include_str!(concat!("../fixtures/", $file));
                let decoded = $ty::decode(text).expect("fixture decodes");
                assert_eq!(json(&decoded.encode()), json(text), "{decoded:?}");
                // serde's own entry points agree with decode/encode.
                let via_serde: $ty = serde_json::from_str(text).expect("deserializes");
                assert_eq!(via_serde, decoded);
                assert_eq!(serde_json::to_value(&decoded).expect("serializes"), json(text));
                let check: fn(&$ty) = $check;
                check(&decoded);
            }
        )*
    };
}

golden! {
    event_connected: StreamEvent, "event/connected.json", |e| {
        let StreamEvent::Connected(c) = e else { panic!("{e:?}") };
        assert_eq!((c.protocol.as_str(), c.version.as_str()), ("Call", "1.0.0"));
    };
    event_start: StreamEvent, "event/start.json", |e| {
        let StreamEvent::Start(s) = e else { panic!("{e:?}") };
        assert_eq!(s.sequence_number.get(), 1);
        assert_eq!(s.stream_sid, s.start.stream_sid);
        assert_eq!(s.start.call_sid, "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        assert_eq!(s.start.account_sid, "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        assert!(s.start.media_format.is_mulaw_8k_mono());
        assert_eq!(s.start.tracks.len(), 1);
        assert_eq!(s.start.tracks[0].as_str(), "inbound");
        assert_eq!(s.start.custom_parameters["appointment_id"], "apt_42");
        assert_eq!(s.start.custom_parameters["patient_name"], "Jane Doe");
    };
    event_media: StreamEvent, "event/media.json", |e| {
        let StreamEvent::Media(m) = e else { panic!("{e:?}") };
        assert_eq!(m.sequence_number.get(), 4);
        assert_eq!((m.media.chunk, m.media.timestamp), (2, 5));
        // The reference shortens the payload with "...": kept as is, refused on decode.
        assert_eq!(m.media.payload.as_base64(), "no+JhoaJjpzS...");
        assert!(m.media.payload.decode().is_err());
    };
    event_dtmf: StreamEvent, "event/dtmf.json", |e| {
        let StreamEvent::Dtmf(d) = e else { panic!("{e:?}") };
        assert_eq!((d.dtmf.track.as_str(), d.dtmf.digit.as_str()), ("inbound_track", "1"));
        assert_eq!(d.sequence_number.get(), 5);
    };
    event_mark: StreamEvent, "event/mark.json", |e| {
        let StreamEvent::Mark(m) = e else { panic!("{e:?}") };
        assert_eq!(m.mark.name, "my label");
    };
    event_stop: StreamEvent, "event/stop.json", |e| {
        let StreamEvent::Stop(s) = e else { panic!("{e:?}") };
        assert_eq!(s.stop.call_sid, "CAXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        assert_eq!(s.sequence_number.get(), 5);
    };
    command_media: StreamCommand, "command/media.json", |c| {
        let StreamCommand::Media(m) = c else { panic!("{c:?}") };
        assert_eq!(m.media.payload.as_base64(), "//////////8...");
    };
    command_mark: StreamCommand, "command/mark.json", |c| {
        let StreamCommand::Mark(m) = c else { panic!("{c:?}") };
        assert_eq!(m.mark.name, "item_abc:7");
    };
    command_clear: StreamCommand, "command/clear.json", |c| {
        assert_eq!(c.event_type(), "clear");
        assert_eq!(c.stream_sid(), "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    };
}

/// The constructors write exactly the reference's messages.
#[test]
fn constructors_match_the_reference() {
    let sid = twilio_media_stream::StreamSid::new("MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
    assert_eq!(
        json(&StreamCommand::mark(sid.clone(), "item_abc:7").encode()),
        json(include_str!("../fixtures/command/mark.json"))
    );
    assert_eq!(
        json(&StreamCommand::clear(sid.clone()).encode()),
        json(include_str!("../fixtures/command/clear.json"))
    );
    assert_eq!(
        json(
            &StreamCommand::media(
                sid,
                twilio_media_stream::Payload::from_base64("//////////8...")
            )
            .encode()
        ),
        json(include_str!("../fixtures/command/media.json"))
    );
}
