//! Decode (lenient and strict) on arbitrary input, as client and server events, in both
//! dialects.
//!
//! Besides "no panic", it checks that whatever decodes encodes to JSON that decodes again,
//! and that the encoding is a fixed point after one pass: decoding normalizes (drops what the
//! dialect cannot say, fills the GA `type`), so `encode(decode(encode(decode(x))))` must equal
//! `encode(decode(x))`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openai_realtime::{ClientEvent, Dialect, ServerEvent};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for dialect in [Dialect::Ga, Dialect::Beta] {
        if let Ok(event) = ServerEvent::decode(text, dialect) {
            let once = event.encode(dialect);
            let again = ServerEvent::decode(&once, dialect).expect("a server encoding re-decodes");
            assert_eq!(again.encode(dialect), once, "server encoding is stable");
        }
        if let Ok(event) = ClientEvent::decode(text, dialect) {
            let once = event.encode(dialect);
            let again = ClientEvent::decode(&once, dialect).expect("a client encoding re-decodes");
            assert_eq!(again.encode(dialect), once, "client encoding is stable");
        }
        if let Ok(event) = ClientEvent::decode_strict(text, dialect) {
            let lenient = ClientEvent::decode(text, dialect).expect("strict implies lenient");
            assert_eq!(event, lenient);
        }
    }
});
