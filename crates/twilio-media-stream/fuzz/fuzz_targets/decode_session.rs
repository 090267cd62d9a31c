//! Decode + session rules on arbitrary input.
//!
//! The input is a call script: one frame per line. A line `!mark NAME` records a sent mark,
//! `!clear` a sent clear; any other line is a frame from Twilio, decoded and handed to the
//! session. Besides "no panic", it checks that what decodes encodes back to the same message
//! and that payload validation agrees with decoding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twilio_media_stream::{StreamCommand, StreamEvent, StreamSession};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut session = StreamSession::new().with_max_pending_marks(64);
    for line in text.split('\n') {
        if let Some(name) = line.strip_prefix("!mark ") {
            let _ = session.mark_sent(name);
            continue;
        }
        if line == "!clear" {
            let _ = session.clear_sent();
            continue;
        }
        if let Ok(command) = StreamCommand::decode(line) {
            let again = StreamCommand::decode(&command.encode()).expect("command re-decodes");
            assert_eq!(again, command);
        }
        let Ok(event) = StreamEvent::decode(line) else {
            continue;
        };
        let again = StreamEvent::decode(&event.encode()).expect("event re-decodes");
        assert_eq!(again, event);
        if let StreamEvent::Media(media) = &event {
            let payload = &media.media.payload;
            let decoded = payload.decode();
            assert_eq!(
                payload.validate(),
                decoded.as_ref().map(|_| ()).map_err(|e| *e)
            );
            if let Ok(bytes) = decoded {
                assert_eq!(bytes.len(), payload.decoded_len());
            }
        }
        let _ = session.handle(&event);
        let _ = (
            session.phase(),
            session.stream_sid(),
            session.pending_marks().len(),
        );
    }
});
