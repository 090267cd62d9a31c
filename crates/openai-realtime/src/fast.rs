//! Fast paths for the two events a phone bridge handles many times a second: the caller's
//! audio out (`input_audio_buffer.append`, written directly) and the agent's audio in
//! (`response.output_audio.delta`, beta `response.audio.delta`, read by a hand-rolled scan).
//!
//! Neither decides anything the generic code would decide otherwise:
//!
//! - [`append`] writes the bytes `serde_json` would write, and only when the text it copies
//!   needs no escape (always, for base64 audio and the ids a client picks); otherwise it
//!   gives up and the generic encoder runs.
//! - [`audio_delta`] accepts only the plain shape the service sends and gives up (`None`) on
//!   anything else, so the full decoder judges the frame: results and errors are the same
//!   with or without it.
//!
//! Accepted by [`audio_delta`]: one JSON object with the keys `type` (exactly
//! `"response.output_audio.delta"` or `"response.audio.delta"`, the two names the full
//! decoder reads as this event in either dialect), `event_id`, `response_id`, `item_id`,
//! `output_index`, `content_index` and `delta`, each once, in any order; the indexes as
//! plain JSON integers (no sign, fraction, exponent or leading zero) that fit a `u32`;
//! strings without escapes or control characters; JSON whitespace between tokens. Anything
//! else (an extra key, which the full decoder may read differently in a later version, an
//! escape, a repeated key, trailing text) is a fallback.

use crate::client_event::InputAudioBufferAppend;
use crate::ids::{EventId, ItemId, ResponseId};
use crate::server_event::ResponseOutputAudioDelta;

/// A cursor over a frame's bytes; every read is bounds-checked.
struct Scan<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Skips whitespace, then takes `byte`.
    fn eat(&mut self, byte: u8) -> Option<()> {
        self.skip_ws();
        (self.peek()? == byte).then(|| self.pos += 1)
    }

    /// A string with no escape and no control character, borrowed from the frame.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.pos;
        let rest = self.text.as_bytes().get(start..)?;
        let len = stop_at(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        // Both ends sit next to an ASCII `"`, so they are char boundaries; `get` checks.
        self.text.get(start..start + len)
    }

    /// A JSON integer as `serde_json` reads it into a `u32`, in its plainest form only:
    /// `0` or a digit 1-9 followed by digits, at most `u32::MAX`. What follows is checked by
    /// the caller (a `.`, `e` or digit after a `0` is not a `,` or `}`: a fallback).
    fn index(&mut self) -> Option<u32> {
        self.skip_ws();
        let digits = self.text.as_bytes().get(self.pos..)?;
        let first = *digits.first()?;
        if first == b'0' {
            self.pos += 1;
            return Some(0);
        }
        if !first.is_ascii_digit() {
            return None;
        }
        let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        self.pos += len;
        digits[..len].iter().try_fold(0u32, |acc, b| {
            acc.checked_mul(10)?.checked_add(u32::from(b - b'0'))
        })
    }

    /// After a member: `true` for `,` (another member follows), `false` for `}`.
    fn next_member(&mut self) -> Option<bool> {
        self.skip_ws();
        let byte = self.peek()?;
        self.pos += 1;
        match byte {
            b',' => Some(true),
            b'}' => Some(false),
            _ => None,
        }
    }

    /// A key and its `:`.
    fn key(&mut self) -> Option<&'a str> {
        let key = self.string()?;
        self.eat(b':')?;
        Some(key)
    }
}

/// Whether a byte ends a JSON string without escapes, or is one `serde_json` escapes.
/// (`|`, not `||`: no branch, so a block's checks become vector instructions.)
fn stops(byte: u8) -> bool {
    (byte == b'"') | (byte == b'\\') | (byte < 0x20)
}

/// The index of the first `"`, `\\` or control character in `bytes`: where a JSON string
/// without escapes ends, or where `serde_json` would escape.
///
/// Blocks of 32 bytes, then of 8, are checked whole, without an early exit, which the
/// compiler turns into a few vector instructions per block (a 1,068-character delta is 33
/// blocks and a few); the last few bytes are searched one by one.
fn stop_at(bytes: &[u8]) -> Option<usize> {
    let mut start = 0;
    for block in [32, 8] {
        for chunk in bytes.get(start..)?.chunks_exact(block) {
            if chunk.iter().fold(false, |stop, &b| stop | stops(b)) {
                break;
            }
            start += block;
        }
    }
    let at = bytes.get(start..)?.iter().position(|&b| stops(b))?;
    Some(start + at)
}

/// Whether `text` goes into a JSON string as it is: `serde_json` escapes only `"`, `\\` and
/// control characters.
fn plain(text: &str) -> bool {
    stop_at(text.as_bytes()).is_none()
}

/// Sets `slot` once; a second value for the same key is a fallback.
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// The frame the generic encoder writes for `event` (`type`, then `event_id` when set, then
/// `audio`; the same name in both dialects), or `None` when a string needs an escape or the
/// event carries members the model does not name.
pub(crate) fn append(event: &InputAudioBufferAppend) -> Option<String> {
    const TYPE: &str = r#"{"type":"input_audio_buffer.append","#;
    const EVENT_ID: &str = r#""event_id":""#;
    const AUDIO: &str = r#""audio":""#;
    let id = event.event_id.as_ref().map(EventId::as_str);
    // Members the model does not name (kept from a decoded frame) are serde's to write.
    if !event.extra.is_empty() || !plain(&event.audio) || !id.is_none_or(plain) {
        return None;
    }
    let id_len = id.map_or(0, |id| EVENT_ID.len() + id.len() + 2);
    let mut out = String::with_capacity(TYPE.len() + id_len + AUDIO.len() + event.audio.len() + 2);
    out.push_str(TYPE);
    if let Some(id) = id {
        out.push_str(EVENT_ID);
        out.push_str(id);
        out.push_str("\",");
    }
    out.push_str(AUDIO);
    out.push_str(&event.audio);
    out.push_str("\"}");
    Some(out)
}

/// Decodes `text` if it is an audio delta of the plain shape above; `None` otherwise.
pub(crate) fn audio_delta(text: &str) -> Option<ResponseOutputAudioDelta> {
    let mut scan = Scan { text, pos: 0 };
    scan.eat(b'{')?;
    let (mut event_type, mut event_id, mut response_id, mut item_id) = (None, None, None, None);
    let (mut output_index, mut content_index, mut delta) = (None, None, None);
    loop {
        match scan.key()? {
            "type" => {
                let name = scan.string()?;
                let known = matches!(name, "response.output_audio.delta" | "response.audio.delta");
                once(&mut event_type, known.then_some(())?)?;
            }
            "event_id" => once(&mut event_id, scan.string()?)?,
            "response_id" => once(&mut response_id, scan.string()?)?,
            "item_id" => once(&mut item_id, scan.string()?)?,
            "output_index" => once(&mut output_index, scan.index()?)?,
            "content_index" => once(&mut content_index, scan.index()?)?,
            "delta" => once(&mut delta, scan.string()?)?,
            _ => return None,
        }
        if !scan.next_member()? {
            break;
        }
    }
    scan.skip_ws();
    if scan.pos != text.len() {
        return None;
    }
    event_type?;
    Some(ResponseOutputAudioDelta {
        event_id: EventId::new(event_id?),
        response_id: ResponseId::new(response_id?),
        item_id: ItemId::new(item_id?),
        output_index: output_index?,
        content_index: content_index?,
        delta: delta?.to_owned(),
        extra: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::{ClientEvent, Dialect, ServerEvent};

    const DIALECTS: [Dialect; 2] = [Dialect::Ga, Dialect::Beta];

    /// The fast path and the full decoder agree on `text` in both dialects (same event or
    /// same error, kind, event type, path and message).
    fn same(text: &str) {
        for dialect in DIALECTS {
            let fast = ServerEvent::decode(text, dialect);
            let full = ServerEvent::decode_full(text, dialect);
            match (&fast, &full) {
                (Ok(a), Ok(b)) => assert_eq!(a, b, "{dialect} {text:?}"),
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string(), "{dialect} {text:?}");
                    assert_eq!(a.kind(), b.kind(), "{dialect} {text:?}");
                    assert_eq!(a.path(), b.path(), "{dialect} {text:?}");
                    assert_eq!(a.event_type(), b.event_type(), "{dialect} {text:?}");
                }
                _ => panic!("{dialect}: fast {fast:?} != full {full:?} for {text:?}"),
            }
        }
    }

    const FRAME: &str = r#"{"type":"response.output_audio.delta","event_id":"event_CcXk1Sq3ySd2ghSkBmzY1","response_id":"resp_CcXk1bFfE7CzYvEnWqhAj","item_id":"item_CcXk1dMj5Qz2V7GtRu4eP","output_index":0,"content_index":0,"delta":"//////8="}"#;

    #[test]
    fn the_plain_shape_takes_the_fast_path() {
        let delta = super::audio_delta(FRAME).expect("the plain shape");
        assert_eq!(delta.event_id, "event_CcXk1Sq3ySd2ghSkBmzY1");
        assert_eq!(delta.response_id, "resp_CcXk1bFfE7CzYvEnWqhAj");
        assert_eq!(delta.item_id, "item_CcXk1dMj5Qz2V7GtRu4eP");
        assert_eq!((delta.output_index, delta.content_index), (0, 0));
        assert_eq!(delta.delta, "//////8=");
        same(FRAME);
        let beta = FRAME.replace("output_audio", "audio");
        assert!(super::audio_delta(&beta).is_some());
        same(&beta);
        let reordered = r#" { "delta" : "" , "content_index":4294967295,"output_index":10,
            "item_id":"i","response_id":"r","event_id":"é","type":"response.audio.delta"}
        "#;
        let delta = super::audio_delta(reordered).expect("any order, any whitespace");
        assert_eq!((delta.output_index, delta.content_index), (10, u32::MAX));
        same(reordered);
    }

    #[test]
    fn anything_unusual_falls_back_with_the_same_result() {
        let cases = [
            // escapes in keys and values
            FRAME.replace("\"delta\":", "\"d\\u0065lta\":"),
            FRAME.replace("8=\"", "8\\u003d\""),
            FRAME.replace("output_audio.delta", "output_audio\\u002edelta"),
            FRAME.replace("\"r", "\"\\\"r"),
            FRAME.replace("\"item_C", "\"\titem_C"),
            // other events and no type
            FRAME.replace("output_audio.delta", "output_audio.done"),
            FRAME.replace("output_audio.delta", "output_text.delta"),
            FRAME.replace("\"type\":\"response.output_audio.delta\",", ""),
            FRAME.replace("\"response.output_audio.delta\"", "5"),
            // numbers serde reads otherwise, or refuses
            FRAME.replace("\"output_index\":0", "\"output_index\":-0"),
            FRAME.replace("\"output_index\":0", "\"output_index\":-1"),
            FRAME.replace("\"output_index\":0", "\"output_index\":01"),
            FRAME.replace("\"output_index\":0", "\"output_index\":0.0"),
            FRAME.replace("\"output_index\":0", "\"output_index\":1e2"),
            FRAME.replace("\"output_index\":0", "\"output_index\":4294967296"),
            FRAME.replace("\"output_index\":0", "\"output_index\":\"0\""),
            FRAME.replace("\"output_index\":0", "\"output_index\":null"),
            // extra, repeated and missing keys
            FRAME.replace("\"delta\":", "\"extra\":[1,{}],\"delta\":"),
            FRAME.replace("\"delta\":", "\"extra\":\"x\",\"delta\":"),
            FRAME.replace("\"delta\":", "\"output_index\":0,\"delta\":"),
            FRAME.replace("\"delta\":", "\"delta\":null,\"delta\":"),
            FRAME.replace("\"delta\":", "\"delta\":\"x\",\"delta\":"),
            FRAME.replace(
                "\"delta\":",
                "\"type\":\"response.output_audio.delta\",\"delta\":",
            ),
            FRAME.replace("\"delta\":", "\"type\":\"x\",\"delta\":"),
            FRAME.replace("\"content_index\":0,", ""),
            FRAME.replace(",\"delta\":\"//////8=\"", ""),
            // the object's bounds
            format!("{FRAME},"),
            format!("{FRAME}}}"),
            format!("[{FRAME}]"),
            FRAME.replace('}', ""),
            FRAME.replace(":0,", ":0,,"),
            String::new(),
            String::from("{"),
            String::from("{}"),
            String::from("null"),
        ];
        for case in &cases {
            assert!(super::audio_delta(case).is_none(), "{case:?}");
            same(case);
        }
    }

    #[test]
    fn append_is_written_as_the_generic_encoder_writes_it() {
        let plain = ClientEvent::input_audio_append("//8=");
        let cases = [
            plain.clone(),
            plain.clone().with_event_id("evt_1"),
            plain.clone().with_event_id(""),
            ClientEvent::input_audio_append(""),
            ClientEvent::input_audio_append("a\"b\\c\n\u{1}é"),
            plain.with_event_id("a\"b"),
        ];
        for event in &cases {
            for dialect in DIALECTS {
                assert_eq!(event.encode(dialect), event.encode_generic(dialect));
            }
        }
        let ClientEvent::InputAudioBufferAppend(body) = &cases[1] else {
            unreachable!()
        };
        assert_eq!(
            super::append(body).as_deref(),
            Some(r#"{"type":"input_audio_buffer.append","event_id":"evt_1","audio":"//8="}"#)
        );
        let ClientEvent::InputAudioBufferAppend(body) = &cases[4] else {
            unreachable!()
        };
        assert_eq!(
            super::append(body),
            None,
            "a string to escape is left to serde"
        );
    }

    #[test]
    fn members_the_model_does_not_name_leave_the_fast_paths_and_survive() {
        // Decode: an extra key is a fallback; the full decoder keeps it.
        let frame = FRAME.replace("\"delta\":", "\"obfuscation\":\"x1\",\"delta\":");
        assert!(super::audio_delta(&frame).is_none());
        let ServerEvent::ResponseOutputAudioDelta(delta) =
            ServerEvent::decode(&frame, Dialect::Ga).unwrap()
        else {
            panic!("an audio delta");
        };
        assert_eq!(delta.extra["obfuscation"], "x1");
        let back: serde_json::Value =
            serde_json::from_str(&ServerEvent::from(delta).encode(Dialect::Ga)).unwrap();
        assert_eq!(
            back,
            serde_json::from_str::<serde_json::Value>(&frame).unwrap()
        );
        // Encode: an append carrying one is the generic encoder's to write.
        let text = r#"{"type":"input_audio_buffer.append","audio":"//8=","x":[1]}"#;
        let event = ClientEvent::decode(text, Dialect::Ga).unwrap();
        let ClientEvent::InputAudioBufferAppend(body) = &event else {
            panic!("an append");
        };
        assert_eq!(super::append(body), None);
        assert_eq!(event.encode(Dialect::Ga), text);
    }

    /// Bytes that matter to the scan and to JSON.
    fn interesting() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::sample::select(vec![
                '"', '\\', '{', '}', '[', ']', ':', ',', ' ', '\n', '\t', '0', '1', '9', 'a', 'u',
                '-', '+', '.', 'e', 'E', '\u{1}', '\u{7f}', 'é', 'n', 't', 'f',
            ]),
            any::<char>(),
        ]
    }

    /// One edit of a frame: delete, insert or replace at a char index, or cut the end.
    #[derive(Debug, Clone)]
    enum Edit {
        Delete(usize),
        Insert(usize, char),
        Replace(usize, char),
        Truncate(usize),
    }

    fn edit() -> impl Strategy<Value = Edit> {
        prop_oneof![
            any::<usize>().prop_map(Edit::Delete),
            (any::<usize>(), interesting()).prop_map(|(i, c)| Edit::Insert(i, c)),
            (any::<usize>(), interesting()).prop_map(|(i, c)| Edit::Replace(i, c)),
            any::<usize>().prop_map(Edit::Truncate),
        ]
    }

    fn apply(text: &str, edits: &[Edit]) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        for edit in edits {
            let len = chars.len();
            match *edit {
                Edit::Delete(i) if len > 0 => {
                    chars.remove(i % len);
                }
                Edit::Insert(i, c) => chars.insert(i % (len + 1), c),
                Edit::Replace(i, c) if len > 0 => chars[i % len] = c,
                Edit::Truncate(i) => chars.truncate(i % (len + 1)),
                _ => {}
            }
        }
        chars.into_iter().collect()
    }

    /// An index as JSON, mostly small, sometimes near or past `u32::MAX`.
    fn index() -> impl Strategy<Value = u64> {
        prop_oneof![
            0u64..4,
            any::<u32>().prop_map(u64::from),
            u64::from(u32::MAX) - 2..u64::from(u32::MAX) + 3,
        ]
    }

    /// An audio delta in either name, any key order, optional whitespace, and whether its
    /// indexes fit a `u32`.
    fn frame_fits() -> impl Strategy<Value = (String, bool)> {
        (
            prop::sample::select(vec!["response.output_audio.delta", "response.audio.delta"]),
            (
                "[a-zA-Z0-9_]{0,30}",
                "[a-zA-Z0-9_]{0,30}",
                "[^\"\\\\\\x00-\\x1f]{0,12}",
            ),
            (index(), index()),
            "[A-Za-z0-9+/=]{0,1100}",
            Just((0usize..7).collect::<Vec<_>>()).prop_shuffle(),
            prop::sample::select(vec!["", " ", "\n ", "\r\n\t"]),
        )
            .prop_map(
                |(
                    event_type,
                    (event_id, response_id, item_id),
                    (output, content),
                    delta,
                    order,
                    ws,
                )| {
                    let members = [
                        format!("\"type\"{ws}:{ws}\"{event_type}\""),
                        format!("\"event_id\":\"{event_id}\""),
                        format!("\"response_id\":{ws}\"{response_id}\""),
                        format!("\"item_id\":\"{item_id}\""),
                        format!("\"output_index\":{ws}{output}{ws}"),
                        format!("\"content_index\":{content}"),
                        format!("\"delta\":\"{delta}\""),
                    ];
                    let members: Vec<&str> = order.iter().map(|&i| members[i].as_str()).collect();
                    let fits = u32::try_from(output).is_ok() && u32::try_from(content).is_ok();
                    (
                        format!("{ws}{{{}}}{ws}", members.join(&format!(",{ws}"))),
                        fits,
                    )
                },
            )
    }

    fn frame() -> impl Strategy<Value = String> {
        frame_fits().prop_map(|(text, _)| text)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn generated_deltas_decode_the_same((text, fits) in frame_fits()) {
            same(&text);
            prop_assert_eq!(super::audio_delta(&text).is_some(), fits, "{:?}", text);
        }

        #[test]
        fn mutated_deltas_decode_the_same(text in frame(), edits in prop::collection::vec(edit(), 1..4)) {
            same(&apply(&text, &edits));
        }

        #[test]
        fn mutated_service_frame_decodes_the_same(edits in prop::collection::vec(edit(), 1..6)) {
            same(&apply(FRAME, &edits));
        }

        #[test]
        fn any_text_decodes_the_same(text in ".{0,64}") {
            same(&text);
        }

        #[test]
        fn the_block_scan_finds_what_the_byte_scan_finds(bytes in prop::collection::vec(prop_oneof![30 => 0x23u8..0x5c, 1 => any::<u8>()], 0..200)) {
            let bytewise = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(super::stop_at(&bytes), bytewise);
        }

        #[test]
        fn append_encodes_as_the_generic_encoder(
            audio in prop_oneof![".{0,60}", "[A-Za-z0-9+/=]{0,1100}"],
            event_id in proptest::option::of(prop_oneof![".{0,20}", "[a-z0-9_]{0,20}"]),
        ) {
            let mut event = ClientEvent::input_audio_append(audio);
            if let Some(id) = event_id {
                event = event.with_event_id(id);
            }
            for dialect in DIALECTS {
                prop_assert_eq!(event.encode(dialect), event.encode_generic(dialect));
            }
            prop_assert_eq!(
                ClientEvent::decode(&event.encode(Dialect::Ga), Dialect::Ga).unwrap(),
                event
            );
        }
    }
}
