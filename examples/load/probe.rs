//! What the load tool measures with: tags hidden in the audio, per-call tables filled by
//! the mock's tap and the simulated callers, and fixed-size latency histograms.
//!
//! Every 20 ms frame of caller and agent audio starts with a tag: a few mu-law bytes of
//! very low amplitude (about -48 dBFS, far under the mock VAD's -25 dBFS) that carry the
//! call's index and the frame's serial number. The mock's [`Tap`] reads the tag of each
//! caller frame it receives and of each agent delta it sends; the caller reads the tag of
//! each agent frame it receives. Each side looks the frame up in a table laid out at start,
//! so nothing is allocated per frame.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::BytesMut;
use openai_realtime::mock::Tap;

/// Bytes of G.711 mu-law in a 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;
/// Nibbles in a tag: 4 for the call index (up to 65,535 calls), 5 for the serial.
const TAG_NIBBLES: usize = 9;
/// Base64 characters that cover the tag (9 bytes = 12 characters).
const TAG_CHARS: usize = 12;
/// Barge-ins recorded per call (later ones are counted, not compared).
pub const MAX_BARGE_INS: usize = 32;
/// The call field of agent audio tags: the mock's script is shared by all sessions, so its
/// tags carry only the frame's serial; the session tells the call.
pub const AGENT: u32 = 0xFFFF;

/// A frame's tag: which call, which frame of that call's stream (caller or agent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tag {
    pub call: u32,
    pub serial: u32,
}

/// Writes `tag` over the first bytes of a mu-law frame (each byte `0xF0 | nibble`: a
/// sample within ±124 of zero).
pub fn write_tag(frame: &mut [u8], tag: Tag) {
    let value = (u64::from(tag.call) << 20) | u64::from(tag.serial & 0xF_FFFF);
    for (i, byte) in frame.iter_mut().take(TAG_NIBBLES).enumerate() {
        let shift = 4 * (TAG_NIBBLES - 1 - i);
        *byte = 0xF0 | ((value >> shift) & 0xF) as u8;
    }
}

/// Reads the tag at the start of base64 mu-law audio; `None` if it carries none.
pub fn read_tag(base64: &[u8]) -> Option<Tag> {
    let mut bytes = [0u8; TAG_CHARS / 4 * 3];
    decode_base64_prefix(base64.get(..TAG_CHARS)?, &mut bytes)?;
    let mut value = 0u64;
    for byte in &bytes[..TAG_NIBBLES] {
        if byte & 0xF0 != 0xF0 {
            return None;
        }
        value = (value << 4) | u64::from(byte & 0xF);
    }
    Some(Tag {
        call: (value >> 20) as u32,
        serial: (value & 0xF_FFFF) as u32,
    })
}

/// Finds the first tag in base64 mu-law audio that does not start on a frame boundary (a
/// bridge may cut agent audio into its own frames, e.g. 159 or 162 bytes to keep base64
/// whole): decodes up to 171 bytes (a frame and a tag) and looks for nine bytes in a row
/// of the form `0xF_`. Returns the tag and its byte offset in the audio.
pub fn find_tag(base64: &[u8]) -> Option<(Tag, usize)> {
    let mut groups = (base64.len() / 4).min(57);
    if groups > 0 && base64[groups * 4 - 1] == b'=' {
        groups -= 1; // a padded last group: leave its one or two bytes out
    }
    let mut bytes = [0u8; 57 * 3];
    let len = groups * 3;
    decode_base64_prefix(&base64[..groups * 4], &mut bytes[..len])?;
    let bytes = &bytes[..len];
    let start = bytes
        .windows(TAG_NIBBLES)
        .position(|w| w.iter().all(|b| b & 0xF0 == 0xF0))?;
    let mut value = 0u64;
    for byte in &bytes[start..start + TAG_NIBBLES] {
        value = (value << 4) | u64::from(byte & 0xF);
    }
    let tag = Tag {
        call: (value >> 20) as u32,
        serial: (value & 0xF_FFFF) as u32,
    };
    Some((tag, start))
}

/// Standard base64 of `bytes` appended to `out` (with padding), without allocating once
/// `out` has room.
pub fn encode_base64(bytes: &[u8], out: &mut BytesMut) {
    let start = out.len();
    let len = base64::encoded_len(bytes.len(), true).expect("a frame's base64 fits in memory");
    out.resize(start + len, 0);
    let written = BASE64
        .encode_slice(bytes, &mut out[start..])
        .expect("the room made is the encoded length");
    out.truncate(start + written);
}

/// Decodes whole groups of four base64 characters (no padding) into `out`, exactly filling
/// it; `None` for anything else.
fn decode_base64_prefix(text: &[u8], out: &mut [u8]) -> Option<()> {
    let len = BASE64.decode_slice(text, out).ok()?;
    (len == out.len()).then_some(())
}

/// The text after `key` up to the next `"` (a JSON string value without escapes).
pub fn string_after<'a>(text: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let start = find(text, key)? + key.len();
    let len = text[start..].iter().position(|&b| b == b'"')?;
    Some(&text[start..start + len])
}

/// The unsigned number after `key`.
pub fn number_after(text: &[u8], key: &[u8]) -> Option<u64> {
    let start = find(text, key)? + key.len();
    let digits = text[start..].iter().take_while(|b| b.is_ascii_digit());
    let mut n: u64 = 0;
    let mut any = false;
    for &d in digits {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
        any = true;
    }
    any.then_some(n)
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A latency histogram in microseconds: 32 linear buckets below 32 µs, then 32 buckets per
/// power of two (about 3 % wide) up to 2^40 µs. Lock-free, fixed size.
pub struct Histogram {
    buckets: Box<[AtomicU64]>,
    max: AtomicU64,
}

const SUB: u32 = 32;
const BUCKETS: usize = (SUB as usize) * 37;

impl Histogram {
    pub fn new() -> Self {
        Self {
            buckets: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
            max: AtomicU64::new(0),
        }
    }

    fn index(us: u64) -> usize {
        if us < u64::from(SUB) {
            return us as usize;
        }
        let exp = 63 - us.leading_zeros(); // >= 5
        let sub = (us >> (exp - 5)) - u64::from(SUB);
        ((SUB * (exp - 4)) as u64 + sub).min(BUCKETS as u64 - 1) as usize
    }

    fn lower_bound(index: usize) -> u64 {
        let index = index as u64;
        if index < u64::from(SUB) {
            return index;
        }
        let exp = index / u64::from(SUB) + 4;
        let sub = index % u64::from(SUB);
        (u64::from(SUB) + sub) << (exp - 5)
    }

    pub fn record(&self, us: u64) {
        self.buckets[Self::index(us)].fetch_add(1, Ordering::Relaxed);
        self.max.fetch_max(us, Ordering::Relaxed);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|b| b.load(Ordering::Relaxed)).sum()
    }

    pub fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    /// The value under which `q` (0..=1) of the samples fall (a bucket's lower bound).
    pub fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let rank = ((total as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, bucket) in self.buckets.iter().enumerate() {
            seen += bucket.load(Ordering::Relaxed);
            if seen >= rank {
                return Self::lower_bound(i).min(self.max());
            }
        }
        self.max()
    }

    /// How many samples are at least `us`.
    pub fn at_least(&self, us: u64) -> u64 {
        let from = Self::index(us);
        self.buckets[from..]
            .iter()
            .map(|b| b.load(Ordering::Relaxed))
            .sum()
    }
}

/// Microseconds since the run's epoch (one clock for the mock, the callers and the tap).
#[derive(Clone, Copy)]
pub struct Clock(Instant);

impl Clock {
    pub fn new() -> Self {
        Self(Instant::now())
    }

    pub fn now_us(self) -> u64 {
        // +1 so that 0 means "not yet" in the tables.
        self.0.elapsed().as_micros() as u64 + 1
    }
}

/// One call's tables, laid out at start.
pub struct CallProbe {
    /// When each caller frame was sent (µs, 0 = not sent).
    pub caller_sent: Box<[AtomicU64]>,
    /// Whether the mock received each caller frame.
    pub caller_received: Box<[AtomicBool]>,
    /// When the mock sent each agent frame (µs, 0 = not sent).
    pub agent_sent: Box<[AtomicU64]>,
    /// Whether the caller received each agent frame.
    pub agent_arrived: Box<[AtomicBool]>,
    /// What the caller had heard of the interrupted item when its playback was cleared.
    pub heard_ms: [AtomicU32; MAX_BARGE_INS],
    pub barge_ins: AtomicU32,
    /// The `audio_end_ms` of each truncation the mock received.
    pub truncated_ms: [AtomicU32; MAX_BARGE_INS],
    pub truncations: AtomicU32,
}

impl CallProbe {
    pub fn new(caller_frames: usize, agent_frames: usize) -> Self {
        Self {
            caller_sent: (0..caller_frames).map(|_| AtomicU64::new(0)).collect(),
            caller_received: (0..caller_frames).map(|_| AtomicBool::new(false)).collect(),
            agent_sent: (0..agent_frames).map(|_| AtomicU64::new(0)).collect(),
            agent_arrived: (0..agent_frames).map(|_| AtomicBool::new(false)).collect(),
            heard_ms: std::array::from_fn(|_| AtomicU32::new(0)),
            barge_ins: AtomicU32::new(0),
            truncated_ms: std::array::from_fn(|_| AtomicU32::new(0)),
            truncations: AtomicU32::new(0),
        }
    }
}

/// Everything the tap and the callers share.
pub struct Probes {
    pub clock: Clock,
    pub calls: Box<[CallProbe]>,
    /// Agent audio: the mock wrote the delta -> the caller read the frame.
    pub agent_latency: Histogram,
    /// Caller audio: the caller wrote the frame -> the mock read the append.
    pub caller_latency: Histogram,
    /// How late the callers' 20 ms ticks ran (the tool's own lag).
    pub tick_lateness: Histogram,
    /// Frames that carried no readable tag, or a tag out of range.
    pub untagged: AtomicU64,
    /// Agent frames a caller received twice.
    pub duplicates: AtomicU64,
    /// The `error` events the mock sent, by code (rare: a lock is cheap enough).
    pub agent_errors: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
}

impl Probes {
    pub fn new(calls: usize, caller_frames: usize, agent_frames: usize) -> Arc<Self> {
        Arc::new(Self {
            clock: Clock::new(),
            calls: (0..calls)
                .map(|_| CallProbe::new(caller_frames, agent_frames))
                .collect(),
            agent_latency: Histogram::new(),
            caller_latency: Histogram::new(),
            tick_lateness: Histogram::new(),
            untagged: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            agent_errors: std::sync::Mutex::new(std::collections::BTreeMap::new()),
        })
    }

    fn call(&self, tag: Tag) -> Option<&CallProbe> {
        self.calls.get(tag.call as usize)
    }

    /// The caller of call `tag.call` sent frame `tag.serial` now.
    pub fn caller_sent(&self, tag: Tag, now_us: u64) {
        if let Some(slot) = self
            .call(tag)
            .and_then(|c| c.caller_sent.get(tag.serial as usize))
        {
            slot.store(now_us, Ordering::Relaxed);
        }
    }

    /// `bytes` of agent audio reached the caller of call `call`; returns the serial of the
    /// first tagged frame in it. The script's frames (tags every 160 bytes) whose start
    /// falls within this audio count as arrived, so audio cut at any boundary is counted
    /// once.
    pub fn agent_arrived(&self, call: u32, payload: &[u8], bytes: usize) -> Option<u32> {
        let now = self.clock.now_us();
        let Some((tag, offset)) = find_tag(payload).filter(|(t, _)| t.call == AGENT) else {
            self.untagged.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let probe = self.calls.get(call as usize)?;
        let found = tag.serial as usize;
        let Some(sent) = probe.agent_sent.get(found) else {
            self.untagged.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        // Where this audio starts in the script, and the frames starting inside it.
        let start = (found * FRAME).saturating_sub(offset);
        let first = start.div_ceil(FRAME);
        let end = (start + bytes).div_ceil(FRAME);
        for arrived in probe
            .agent_arrived
            .iter()
            .skip(first)
            .take(end.saturating_sub(first))
        {
            if arrived.swap(true, Ordering::Relaxed) {
                self.duplicates.fetch_add(1, Ordering::Relaxed);
            }
        }
        let sent = sent.load(Ordering::Relaxed);
        if sent != 0 {
            self.agent_latency.record(now.saturating_sub(sent));
        }
        Some(tag.serial)
    }
}

/// The mock's view of one session: learns its call from the first tagged caller frame.
pub struct SessionTap {
    probes: Arc<Probes>,
    call: OnceLock<u32>,
}

impl SessionTap {
    pub fn new(probes: Arc<Probes>) -> Self {
        Self {
            probes,
            call: OnceLock::new(),
        }
    }
}

impl Tap for SessionTap {
    fn received(&mut self, text: &str) {
        let now = self.probes.clock.now_us();
        let text = text.as_bytes();
        if let Some(audio) = string_after(text, br#""audio":""#) {
            let Some(tag) = read_tag(audio) else {
                self.probes.untagged.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let _ = self.call.set(tag.call);
            let Some(probe) = self.probes.call(tag) else {
                return;
            };
            let serial = tag.serial as usize;
            if let (Some(sent), Some(received)) = (
                probe.caller_sent.get(serial),
                probe.caller_received.get(serial),
            ) {
                received.store(true, Ordering::Relaxed);
                let sent = sent.load(Ordering::Relaxed);
                // 0: not sent yet; 1: sent, but not sampled (the caller's warm-up).
                if sent > 1 {
                    self.probes.caller_latency.record(now.saturating_sub(sent));
                }
            }
        } else if find(text, br#""conversation.item.truncate""#).is_some() {
            let (Some(&call), Some(end_ms)) =
                (self.call.get(), number_after(text, br#""audio_end_ms":"#))
            else {
                return;
            };
            if let Some(probe) = self.probes.calls.get(call as usize) {
                let n = probe.truncations.fetch_add(1, Ordering::Relaxed) as usize;
                if let Some(slot) = probe.truncated_ms.get(n) {
                    slot.store(end_ms as u32, Ordering::Relaxed);
                }
            }
        }
    }

    fn sent(&mut self, text: &str) {
        let now = self.probes.clock.now_us();
        let text = text.as_bytes();
        // An `error` event: short, unlike the audio deltas, so the search is cheap.
        if text.len() < 2048 && find(text, br#""type":"error""#).is_some() {
            let code = string_after(text, br#""code":""#).unwrap_or(b"(none)");
            let code = String::from_utf8_lossy(code).into_owned();
            *self
                .probes
                .agent_errors
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(code)
                .or_default() += 1;
            return;
        }
        let (Some(&call), Some(delta)) = (self.call.get(), string_after(text, br#""delta":""#))
        else {
            return;
        };
        // Transcript deltas have a `delta` too; only audio carries a tag.
        let Some(tag) = read_tag(delta).filter(|t| t.call == AGENT) else {
            return;
        };
        let frames = (delta.len() / 4 * 3 / FRAME).max(1);
        if let Some(probe) = self.probes.calls.get(call as usize) {
            for slot in probe
                .agent_sent
                .iter()
                .skip(tag.serial as usize)
                .take(frames)
            {
                slot.store(now, Ordering::Relaxed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_through_base64() {
        let mut frame = [0xFFu8; FRAME];
        let tag = Tag {
            call: 1999,
            serial: 123_456,
        };
        write_tag(&mut frame, tag);
        let mut text = bytes::BytesMut::new();
        encode_base64(&frame, &mut text);
        assert_eq!(text.len(), 216);
        assert_eq!(read_tag(&text), Some(tag));
    }

    #[test]
    fn tags_are_found_in_audio_cut_off_the_frame_grid() {
        let mut audio = vec![0x20u8; 4 * FRAME];
        for serial in 0..4 {
            let tag = Tag {
                call: AGENT,
                serial: 100 + serial,
            };
            write_tag(&mut audio[serial as usize * FRAME..], tag);
        }
        // A bridge's 159-byte frame starting at byte 159: the tag of frame 1 at offset 1.
        let mut text = bytes::BytesMut::new();
        encode_base64(&audio[159..318], &mut text);
        let (tag, offset) = find_tag(&text).unwrap();
        assert_eq!((tag.serial, offset), (101, 1));
        // The whole audio: the first tag at 0.
        let mut text = bytes::BytesMut::new();
        encode_base64(&audio, &mut text);
        assert_eq!(find_tag(&text).map(|(t, o)| (t.serial, o)), Some((100, 0)));
    }

    #[test]
    fn histogram_quantiles_are_within_a_bucket() {
        let h = Histogram::new();
        for us in 1..=10_000 {
            h.record(us);
        }
        let p50 = h.quantile(0.5);
        assert!((4_800..=5_000).contains(&p50), "{p50}");
        assert_eq!(h.max(), 10_000);
    }
}
