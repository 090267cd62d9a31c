//! A fast path for the one hot message, `media`: a hand-rolled scan of the shape Twilio
//! sends, which gives up (returns `None`) on anything it does not handle, so that the caller
//! falls back to the full `serde` decoder. It never decides an error: whatever it refuses,
//! the full decoder judges, so results are the same with or without it.
//!
//! Accepted: one JSON object with the keys `event` (exactly `"media"`), `sequenceNumber`,
//! `media` and `streamSid`, each once, in any order; `media` an object with `track`,
//! `chunk`, `timestamp` and `payload`, each once, in any order; counters as strings of
//! decimal digits below 2^64; strings without escapes or control characters; JSON
//! whitespace anywhere between tokens. Anything else (an extra field, an escape, a number
//! where a string belongs, a duplicate key, trailing text) is a fallback.

use crate::event::{Media, MediaChunk, SequenceNumber, Track};
use crate::ids::StreamSid;
use crate::payload::Payload;

/// A cursor over the frame's bytes; every read is bounds-checked.
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
        let len = string_len(rest)?;
        if rest[len] != b'"' {
            return None;
        }
        self.pos = start + len + 1;
        // `start` and `start + len` sit next to ASCII bytes (`"`), so both are char
        // boundaries; `get` checks anyway.
        self.text.get(start..start + len)
    }

    /// A counter written as a string of decimal digits (as `string_u64` reads it).
    fn counter(&mut self) -> Option<u64> {
        let digits = self.string()?;
        if digits.is_empty() {
            return None;
        }
        digits.bytes().try_fold(0u64, |acc, b| {
            let digit = b.checked_sub(b'0').filter(|d| *d <= 9)?;
            acc.checked_mul(10)?.checked_add(u64::from(digit))
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

/// Whether a byte ends a JSON string without escapes (or needs one). `|`, not `||`: no
/// branch, so a block's checks become vector instructions.
fn stops(byte: u8) -> bool {
    (byte == b'"') | (byte == b'\\') | (byte < 0x20)
}

/// The index of the first `"`, `\\` or control character in `bytes`.
///
/// Eight bytes at a time as one `u64` (SWAR): each of the three tests sets the top bit of
/// every byte that matches, and may set it in bytes after a match but never before, so
/// the lowest set bit marks the first match. A short string costs one or two words; a long
/// one (the payload) goes on in blocks of 32 checked whole; the last few bytes are
/// searched one by one.
fn string_len(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    // Top bit of each byte of `v` that is below `n` (n <= 0x80).
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH;
    let word_stop = |word: &[u8]| {
        let mut le = [0u8; 8];
        le.copy_from_slice(word);
        let v = u64::from_le_bytes(le);
        let mask = below(v ^ (ONES * u64::from(b'"')), 1)
            | below(v ^ (ONES * u64::from(b'\\')), 1)
            | below(v, 0x20);
        (mask != 0).then(|| mask.trailing_zeros() as usize / 8)
    };
    let mut start = 0;
    // The first two words one by one (most strings end there), then blocks of 32 checked
    // whole (vector compares), the word with the stop found again word by word.
    for word in bytes.chunks_exact(8).take(2) {
        if let Some(at) = word_stop(word) {
            return Some(start + at);
        }
        start += 8;
    }
    for block in bytes.get(start..)?.chunks_exact(32) {
        if block.iter().fold(false, |stop, &b| stop | stops(b)) {
            break;
        }
        start += 32;
    }
    for word in bytes.get(start..)?.chunks_exact(8) {
        if let Some(at) = word_stop(word) {
            return Some(start + at);
        }
        start += 8;
    }
    let at = bytes.get(start..)?.iter().position(|&b| stops(b))?;
    Some(start + at)
}

/// Whether `text` can go into a JSON string as is (no `"`, `\\` or control character).
pub(crate) fn plain(text: &str) -> bool {
    string_len(text.as_bytes()).is_none()
}

/// Sets `slot` once; a second value for the same key is a fallback.
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// Decodes `text` if it is a `media` message of the plain shape above; `None` otherwise.
pub(crate) fn media(text: &str) -> Option<Media> {
    let mut scan = Scan { text, pos: 0 };
    scan.eat(b'{')?;
    let (mut event, mut sequence, mut chunk_obj, mut sid) = (None, None, None, None);
    loop {
        match scan.key()? {
            "event" => once(&mut event, (scan.string()? == "media").then_some(())?)?,
            "sequenceNumber" => once(&mut sequence, scan.counter()?)?,
            "streamSid" => once(&mut sid, scan.string()?)?,
            "media" => {
                let chunk = media_chunk(&mut scan)?;
                once(&mut chunk_obj, chunk)?;
            }
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
    event?;
    Some(Media {
        sequence_number: SequenceNumber::new(sequence?),
        stream_sid: StreamSid::new(sid?),
        media: chunk_obj?,
    })
}

/// The `media` object.
fn media_chunk(scan: &mut Scan<'_>) -> Option<MediaChunk> {
    scan.eat(b'{')?;
    let (mut track, mut chunk, mut timestamp, mut payload) = (None, None, None, None);
    loop {
        match scan.key()? {
            "track" => once(&mut track, scan.string()?)?,
            "chunk" => once(&mut chunk, scan.counter()?)?,
            "timestamp" => once(&mut timestamp, scan.counter()?)?,
            "payload" => once(&mut payload, scan.string()?)?,
            _ => return None,
        }
        if !scan.next_member()? {
            break;
        }
    }
    Some(MediaChunk {
        track: Track::from(track?),
        chunk: chunk?,
        timestamp: timestamp?,
        payload: Payload::from_base64(payload?),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::StreamEvent;

    /// Every stop byte at every place of the first 100 bytes (the first words, the blocks
    /// after them, the words and bytes after those), after bytes that sit next to the
    /// word scan's edges (0x1F and 0x20, 0x21 and 0x23 around `"`, 0x5B and 0x5D around
    /// `\\`, 0x7F, 0x80, 0xA0, 0xFF), and after an earlier stop.
    #[test]
    fn the_word_scan_finds_the_first_stop_wherever_it_is() {
        let fillers = [0x20u8, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xA0, 0xDC, 0xFF];
        for filler in fillers {
            for stop in [b'"', b'\\', 0x00, 0x1F, 0x0A] {
                for at in 0..100 {
                    let mut bytes = vec![filler; 104];
                    bytes[at] = stop;
                    assert_eq!(
                        super::string_len(&bytes),
                        Some(at),
                        "{filler:#x} {stop:#x} {at}"
                    );
                    // A second stop after the first changes nothing.
                    if at + 1 < bytes.len() {
                        bytes[at + 1] = b'"';
                        assert_eq!(super::string_len(&bytes), Some(at));
                    }
                }
                assert_eq!(super::string_len(&[filler; 104]), None);
            }
        }
    }
    use crate::codec::DEFAULT_MAX_FRAME_LEN;

    /// The fast path and the full decoder agree on `text` (same event or same error).
    fn same(text: &str) {
        let fast = StreamEvent::decode(text);
        let full = StreamEvent::decode_full(text, DEFAULT_MAX_FRAME_LEN);
        match (&fast, &full) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text:?}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text:?}"),
            _ => panic!("fast {fast:?} != full {full:?} for {text:?}"),
        }
    }

    const FRAME: &str = r#"{"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"no+JhoaJjpzS/w=="},"streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}"#;

    #[test]
    fn the_plain_shape_takes_the_fast_path() {
        let media = super::media(FRAME).expect("the plain shape");
        assert_eq!(media.sequence_number.get(), 4);
        assert_eq!(media.media.chunk, 2);
        assert_eq!(media.media.timestamp, 5);
        assert_eq!(media.media.payload.as_base64(), "no+JhoaJjpzS/w==");
        assert_eq!(media.stream_sid, "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX");
        same(FRAME);
        // The fixture (with its line breaks) and other key orders too.
        let fixture = include_str!("../tests/fixtures/event/media.json");
        assert!(super::media(fixture).is_some());
        same(fixture);
        let reordered = r#"{"streamSid":"MZ1","media":{"payload":"","timestamp":"0","chunk":"1","track":"outbound"},"sequenceNumber":"18446744073709551615","event":"media"}"#;
        assert!(super::media(reordered).is_some());
        same(reordered);
    }

    #[test]
    fn anything_unusual_falls_back_with_the_same_result() {
        let cases = [
            // escapes, numbers for counters, overflow, extra and duplicate keys
            FRAME.replace("\"inbound\"", "\"in\\u0062ound\""),
            FRAME.replace("\"event\":\"media\"", "\"ev\\u0065nt\":\"media\""),
            FRAME.replace("\"4\"", "4"),
            FRAME.replace("\"4\"", "\"18446744073709551616\""),
            FRAME.replace("\"4\"", "\"\""),
            FRAME.replace("\"4\"", "\"-4\""),
            FRAME.replace("\"4\"", "\"+4\""),
            FRAME.replace("\"4\"", "\"0004\""),
            FRAME.replace("\"chunk\":\"2\",", "\"chunk\":\"2\",\"chunk\":\"3\","),
            FRAME.replace("\"chunk\":\"2\",", ""),
            FRAME.replace("\"chunk\":\"2\",", "\"extra\":[1,{}],\"chunk\":\"2\","),
            FRAME.replace(
                "\"sequenceNumber\":\"4\",",
                "\"sequenceNumber\":\"4\",\"x\":null,",
            ),
            FRAME.replace("\"sequenceNumber\":\"4\",", ""),
            FRAME.replace(
                "\"event\":\"media\",",
                "\"event\":\"media\",\"event\":\"media\",",
            ),
            FRAME.replace("\"media\",", "\"mark\","),
            FRAME.replace("\"MZ", "\"\tMZ"),
            FRAME.replace("\"MZ", "\"M\\\"Z"),
            FRAME.replace(":", " :\n "),
            format!("  {FRAME}\r\n"),
            format!("{FRAME},"),
            format!("{FRAME}}}"),
            format!("[{FRAME}]"),
            FRAME.replace("{\"track\"", "[\"track\""),
            FRAME.replace("}", ""),
            String::new(),
            String::from("{"),
            String::from("{}"),
            FRAME.replace("\"media\":{", "\"media\":null,\"m\":{"),
            FRAME.replace("\"payload\":\"no+JhoaJjpzS/w==\"", "\"payload\":\"é\""),
        ];
        for case in &cases {
            same(case);
        }
    }

    /// Bytes that matter to the scan and to JSON.
    fn interesting() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::sample::select(vec![
                '"', '\\', '{', '}', '[', ']', ':', ',', ' ', '\n', '\t', '0', '9', 'a', 'u', '-',
                '+', '.', 'e', '\u{1}', '\u{7f}', 'é', 'n', 't', 'f',
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

    /// A `media` frame in any key order, with optional whitespace and counters.
    fn frame() -> impl Strategy<Value = String> {
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            prop::sample::select(vec!["inbound", "outbound", "both", ""]),
            "[A-Za-z0-9+/=]{0,40}",
            "[A-Z0-9]{0,36}",
            Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
            Just(vec![0usize, 1, 2, 3]).prop_shuffle(),
            prop::sample::select(vec!["", " ", "\n ", "\r\n\t"]),
        )
            .prop_map(|(seq, chunk, ts, track, payload, sid, top, inner, ws)| {
                let inner_members = [
                    format!("\"track\"{ws}:{ws}\"{track}\""),
                    format!("\"chunk\":\"{chunk}\""),
                    format!("\"timestamp\":{ws}\"{ts}\""),
                    format!("\"payload\":\"{payload}\""),
                ];
                let inner: Vec<&str> = inner.iter().map(|&i| inner_members[i].as_str()).collect();
                let top_members = [
                    String::from("\"event\":\"media\""),
                    format!("\"sequenceNumber\":\"{seq}\""),
                    format!("\"media\":{ws}{{{}}}", inner.join(",")),
                    format!("\"streamSid\":\"{sid}\""),
                ];
                let top: Vec<&str> = top.iter().map(|&i| top_members[i].as_str()).collect();
                format!("{ws}{{{}}}{ws}", top.join(&format!(",{ws}")))
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn generated_frames_decode_the_same(text in frame()) {
            same(&text);
            prop_assert!(super::media(&text).is_some(), "{text:?}");
        }

        #[test]
        fn mutated_frames_decode_the_same(text in frame(), edits in prop::collection::vec(edit(), 1..4)) {
            same(&apply(&text, &edits));
        }

        #[test]
        fn mutated_fixture_decodes_the_same(edits in prop::collection::vec(edit(), 1..6)) {
            same(&apply(FRAME, &edits));
        }

        #[test]
        fn the_block_scan_finds_what_the_byte_scan_finds(bytes in prop::collection::vec(prop_oneof![30 => 0x23u8..0x5c, 1 => any::<u8>()], 0..200)) {
            let bytewise = bytes.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20);
            prop_assert_eq!(super::string_len(&bytes), bytewise);
        }

        #[test]
        fn media_encodes_as_serde_writes_it(sid in ".{0,40}", payload in prop_oneof![".{0,60}", "[A-Za-z0-9+/=]{0,300}"]) {
            let command = crate::StreamCommand::media(crate::StreamSid::new(&sid), crate::Payload::from_base64(payload.as_str()));
            prop_assert_eq!(command.encode(), serde_json::to_string(&command).unwrap());
        }

        #[test]
        fn any_text_decodes_the_same(text in ".{0,64}") {
            same(&text);
        }
    }
}
