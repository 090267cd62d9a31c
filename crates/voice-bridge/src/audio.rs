//! Audio formats, chunks and conversions.
//!
//! - [`AudioFormat`]: the encodings a call or an agent speaks (G.711 mu-law and A-law at
//!   8 kHz, 16-bit PCM at 8, 16 or 24 kHz).
//! - [`AudioChunk`]: one piece of audio, kept as the base64 text it arrived in when that is
//!   what the next hop wants, so mu-law to mu-law passes through without a decode;
//!   [`AudioChunk::split_frames`] cuts a long chunk into playback frames, base64 as text.
//! - [`g711`]: mu-law and A-law encode and decode.
//! - [`Resampler`]: a streaming windowed-sinc resampler between 8 kHz and 16 or 24 kHz.
//! - [`Transcoder`]: any supported format to any other, keeping filter state across chunks.
//! - [`WavWriter`]: mono or stereo WAV files in PCM16, mu-law or A-law.

pub mod g711;
mod resample;
mod transcode;
mod wav;

use std::borrow::Cow;
use std::fmt;
use std::iter::FusedIterator;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use serde::Serialize;

pub use resample::{Resampler, resample};
pub use transcode::Transcoder;
pub use wav::{WavSpec, WavWriter};

/// A sample rate the bridge can convert between.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SampleRate {
    /// 8000 Hz, the telephone rate.
    #[serde(rename = "8000")]
    Hz8000,
    /// 16000 Hz, wideband.
    #[serde(rename = "16000")]
    Hz16000,
    /// 24000 Hz, the OpenAI Realtime default for PCM.
    #[serde(rename = "24000")]
    Hz24000,
}

impl SampleRate {
    /// The rate in samples per second.
    pub const fn hz(self) -> u32 {
        match self {
            Self::Hz8000 => 8000,
            Self::Hz16000 => 16000,
            Self::Hz24000 => 24000,
        }
    }

    /// The rate for a number of samples per second, if it is one the bridge supports.
    pub const fn from_hz(hz: u32) -> Option<Self> {
        match hz {
            8000 => Some(Self::Hz8000),
            16000 => Some(Self::Hz16000),
            24000 => Some(Self::Hz24000),
            _ => None,
        }
    }
}

/// The encoding of a stream of mono audio.
///
/// Durations follow from the bytes: G.711 at 8 kHz is 8 bytes per millisecond,
/// PCM16 is two bytes per sample, little-endian.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "encoding", rename_all = "snake_case")]
pub enum AudioFormat {
    /// G.711 mu-law, 8 kHz (Twilio `audio/x-mulaw`, OpenAI `audio/pcmu`).
    MuLaw,
    /// G.711 A-law, 8 kHz (OpenAI `audio/pcma`).
    ALaw,
    /// Signed 16-bit little-endian PCM at the given rate (OpenAI `audio/pcm`).
    Pcm16 {
        /// Samples per second.
        rate: SampleRate,
    },
}

impl AudioFormat {
    /// PCM16 at 8 kHz.
    pub const PCM16_8K: Self = Self::Pcm16 {
        rate: SampleRate::Hz8000,
    };
    /// PCM16 at 16 kHz.
    pub const PCM16_16K: Self = Self::Pcm16 {
        rate: SampleRate::Hz16000,
    };
    /// PCM16 at 24 kHz.
    pub const PCM16_24K: Self = Self::Pcm16 {
        rate: SampleRate::Hz24000,
    };

    /// The sample rate.
    pub const fn sample_rate(self) -> SampleRate {
        match self {
            Self::MuLaw | Self::ALaw => SampleRate::Hz8000,
            Self::Pcm16 { rate } => rate,
        }
    }

    /// Bytes per sample: 1 for G.711, 2 for PCM16.
    pub const fn bytes_per_sample(self) -> u32 {
        match self {
            Self::MuLaw | Self::ALaw => 1,
            Self::Pcm16 { .. } => 2,
        }
    }

    /// Bytes per second of audio.
    pub const fn bytes_per_second(self) -> u32 {
        self.sample_rate().hz() * self.bytes_per_sample()
    }

    /// Whole milliseconds of audio in `bytes` bytes, rounded down.
    ///
    /// ```
    /// use voice_bridge::audio::AudioFormat;
    /// assert_eq!(AudioFormat::MuLaw.duration_ms(160), 20);
    /// assert_eq!(AudioFormat::PCM16_24K.duration_ms(480), 10);
    /// ```
    pub const fn duration_ms(self, bytes: u64) -> u64 {
        bytes * 1000 / self.bytes_per_second() as u64
    }

    /// How long `bytes` bytes of audio play, to the nanosecond.
    ///
    /// ```
    /// use std::time::Duration;
    /// use voice_bridge::audio::AudioFormat;
    /// assert_eq!(AudioFormat::MuLaw.play_time(1600), Duration::from_millis(200));
    /// assert_eq!(AudioFormat::PCM16_24K.play_time(1), Duration::from_nanos(20_833));
    /// ```
    pub fn play_time(self, bytes: u64) -> Duration {
        let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(self.bytes_per_second());
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// The most bytes of whole samples that fit in `max` of audio (at least one sample).
    ///
    /// ```
    /// use std::time::Duration;
    /// use voice_bridge::audio::AudioFormat;
    /// assert_eq!(AudioFormat::MuLaw.frame_bytes(Duration::from_millis(20)), 160);
    /// assert_eq!(AudioFormat::PCM16_24K.frame_bytes(Duration::from_millis(20)), 960);
    /// assert_eq!(AudioFormat::PCM16_24K.frame_bytes(Duration::ZERO), 2);
    /// ```
    pub fn frame_bytes(self, max: Duration) -> usize {
        // u64 only (this runs for every agent frame): whole seconds, then the fraction.
        let rate = u64::from(self.bytes_per_second());
        let sample = u64::from(self.bytes_per_sample());
        let bytes = rate
            .saturating_mul(max.as_secs())
            .saturating_add(rate * u64::from(max.subsec_nanos()) / 1_000_000_000);
        let whole = (bytes / sample * sample).max(sample);
        usize::try_from(whole).unwrap_or(usize::MAX)
    }

    /// A short lowercase name for logs (`pcmu`, `pcma`, `pcm16/24000`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::MuLaw => "pcmu",
            Self::ALaw => "pcma",
            Self::Pcm16 {
                rate: SampleRate::Hz8000,
            } => "pcm16/8000",
            Self::Pcm16 {
                rate: SampleRate::Hz16000,
            } => "pcm16/16000",
            Self::Pcm16 {
                rate: SampleRate::Hz24000,
            } => "pcm16/24000",
        }
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why audio could not be accepted or converted.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudioError {
    /// The base64 text is not valid standard base64 (with padding).
    #[error("invalid base64 audio payload")]
    InvalidBase64,
    /// A PCM16 payload with an odd number of bytes.
    #[error("pcm16 payload of {len} bytes is not a whole number of samples")]
    OddPcmLength {
        /// The payload length in bytes.
        len: usize,
    },
    /// The bridge cannot convert between these two formats.
    #[error("cannot convert audio from {from} to {to}")]
    Unsupported {
        /// The source format.
        from: AudioFormat,
        /// The target format.
        to: AudioFormat,
    },
    /// A chunk arrived in another format than the stream it belongs to.
    #[error("chunk is {found}, expected {expected}")]
    FormatMismatch {
        /// The stream's format.
        expected: AudioFormat,
        /// The chunk's format.
        found: AudioFormat,
    },
}

/// One piece of mono audio in a known format.
///
/// A chunk keeps its payload the way it came: base64 text from a JSON protocol, or raw
/// bytes. [`AudioChunk::into_base64`] hands base64 text back without touching it, so a
/// frame that goes from one base64 protocol to another in the same format is never
/// decoded. Lengths and durations are computed from the base64 length alone.
#[derive(Clone, PartialEq, Eq)]
pub struct AudioChunk {
    format: AudioFormat,
    payload: Payload,
}

#[derive(Clone, PartialEq, Eq)]
enum Payload {
    Base64 { text: String, len: usize },
    Raw(Bytes),
}

impl AudioChunk {
    /// A chunk from base64 text as received (standard alphabet, padded).
    ///
    /// The text is checked (alphabet and padding, no allocation) but not decoded.
    ///
    /// # Errors
    ///
    /// [`AudioError::InvalidBase64`] if the text is not valid base64, and
    /// [`AudioError::OddPcmLength`] for PCM16 with half a sample.
    ///
    /// ```
    /// use voice_bridge::audio::{AudioChunk, AudioFormat};
    /// let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, "//////8=".to_owned())?;
    /// assert_eq!(chunk.byte_len(), 5);
    /// assert!(AudioChunk::from_base64(AudioFormat::MuLaw, "not base64!".to_owned()).is_err());
    /// # Ok::<(), voice_bridge::audio::AudioError>(())
    /// ```
    pub fn from_base64(format: AudioFormat, text: String) -> Result<Self, AudioError> {
        let len = base64_decoded_len(&text).ok_or(AudioError::InvalidBase64)?;
        check_len(format, len)?;
        Ok(Self {
            format,
            payload: Payload::Base64 { text, len },
        })
    }

    /// A chunk from raw encoded bytes.
    ///
    /// # Errors
    ///
    /// [`AudioError::OddPcmLength`] for PCM16 with half a sample.
    pub fn from_bytes(format: AudioFormat, bytes: impl Into<Bytes>) -> Result<Self, AudioError> {
        let bytes = bytes.into();
        check_len(format, bytes.len())?;
        Ok(Self {
            format,
            payload: Payload::Raw(bytes),
        })
    }

    /// A chunk of raw bytes joined from whole chunks of `format` (so of whole samples;
    /// a stray byte would be cut off rather than refused).
    pub(crate) fn from_whole_samples(format: AudioFormat, mut bytes: Vec<u8>) -> Self {
        let sample = format.bytes_per_sample() as usize;
        bytes.truncate(bytes.len() / sample * sample);
        Self {
            format,
            payload: Payload::Raw(bytes.into()),
        }
    }

    /// A PCM16 chunk from samples.
    pub fn from_pcm16(rate: SampleRate, samples: &[i16]) -> Self {
        let mut bytes = Vec::with_capacity(samples.len() * 2);
        for s in samples {
            bytes.extend_from_slice(&s.to_le_bytes());
        }
        Self {
            format: AudioFormat::Pcm16 { rate },
            payload: Payload::Raw(bytes.into()),
        }
    }

    /// The chunk's format.
    pub fn format(&self) -> AudioFormat {
        self.format
    }

    /// The length of the encoded audio in bytes (after base64 decoding).
    pub fn byte_len(&self) -> usize {
        match &self.payload {
            Payload::Base64 { len, .. } => *len,
            Payload::Raw(bytes) => bytes.len(),
        }
    }

    /// The number of samples.
    pub fn samples(&self) -> usize {
        self.byte_len() / self.format.bytes_per_sample() as usize
    }

    /// Whole milliseconds of audio in the chunk, rounded down.
    pub fn duration_ms(&self) -> u64 {
        self.format.duration_ms(self.byte_len() as u64)
    }

    /// Whether the payload is still the base64 text it was created from.
    pub fn is_base64(&self) -> bool {
        matches!(self.payload, Payload::Base64 { .. })
    }

    /// The payload as base64 text: borrowed if it came as base64, encoded otherwise.
    pub fn to_base64(&self) -> Cow<'_, str> {
        match &self.payload {
            Payload::Base64 { text, .. } => Cow::Borrowed(text),
            Payload::Raw(bytes) => Cow::Owned(BASE64.encode(bytes)),
        }
    }

    /// The payload as base64 text, without copying if it came as base64.
    pub fn into_base64(self) -> String {
        match self.payload {
            Payload::Base64 { text, .. } => text,
            Payload::Raw(bytes) => BASE64.encode(bytes),
        }
    }

    /// The encoded bytes: borrowed if raw, decoded if base64.
    pub fn to_bytes(&self) -> Cow<'_, [u8]> {
        match &self.payload {
            // Validated in `from_base64`, so decoding cannot fail; an empty result is the
            // defensive answer if it ever did.
            Payload::Base64 { text, .. } => Cow::Owned(BASE64.decode(text).unwrap_or_default()),
            Payload::Raw(bytes) => Cow::Borrowed(bytes),
        }
    }

    /// Splits the chunk into consecutive frames of about `max` of audio each, in order.
    ///
    /// A chunk no longer than `max` ([`AudioFormat::frame_bytes`]) comes back whole, as it
    /// is: no copy, no allocation. A longer one is cut where `max`, 2 × `max`, 3 × `max`, …
    /// of audio fall, each cut moved back to the nearest boundary the payload allows:
    ///
    /// - raw bytes are cut at sample boundaries, sharing the chunk's buffer (no copy);
    /// - base64 text is cut **without decoding**, at 4-character boundaries, so each frame
    ///   is a whole number of 3-byte groups (6-byte groups for PCM16, so also whole
    ///   samples); one `String` per frame is allocated. For 20 ms of G.711 (160 bytes)
    ///   the cuts fall at 159, 318, 480, 639, … bytes: frames of 159, 159 and 162 bytes
    ///   (212 or 216 characters) in turn.
    ///
    /// Cutting on the `max` grid rather than into equal pieces a little under `max` keeps
    /// every cut within one group (0.375 ms of G.711) before its grid point, however long
    /// the chunk: a listener that plays 20 ms packets (as Twilio does) reaches each mark in
    /// the packet it belongs to. So a frame may exceed `max` by less than one group; the
    /// last frame holds the rest (and any base64 padding) and ends the chunk. A frame is
    /// never shorter than one sample (one group for base64), even if `max` is.
    ///
    /// ```
    /// use std::time::Duration;
    /// use voice_bridge::audio::{AudioChunk, AudioFormat};
    /// // 100 ms of mu-law, as an agent might send it.
    /// let delta = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0xFFu8; 800])?;
    /// let frames: Vec<AudioChunk> = delta.split_frames(Duration::from_millis(20)).collect();
    /// assert_eq!(frames.len(), 5);
    /// assert!(frames.iter().all(|frame| frame.duration_ms() == 20));
    ///
    /// // The same as base64 text: cut at 4-character boundaries, never decoded.
    /// let delta = AudioChunk::from_base64(AudioFormat::MuLaw, "/".repeat(1064) + "//8=")?;
    /// let frames = delta.split_frames(Duration::from_millis(20));
    /// let sizes: Vec<usize> = frames.map(|frame| frame.byte_len()).collect();
    /// assert_eq!(sizes, [159, 159, 162, 159, 161]);
    /// # Ok::<(), voice_bridge::audio::AudioError>(())
    /// ```
    pub fn split_frames(self, max: Duration) -> SplitFrames {
        let frame = self.format.frame_bytes(max);
        let format = self.format;
        let len = self.byte_len();
        let rest = if len <= frame {
            Rest::Whole(Some(self))
        } else {
            // A 4-character boundary is a 3-byte boundary; PCM16 also needs whole samples,
            // so its base64 groups are 6 bytes (8 characters).
            let sample = format.bytes_per_sample() as usize;
            let (payload, group) = match self.payload {
                Payload::Raw(bytes) => (Left::Raw(bytes), sample),
                Payload::Base64 { text, .. } => (Left::Base64 { text, at: 0 }, 3 * sample),
            };
            let cuts = Cuts {
                frame: frame.max(group),
                group,
                next: 1,
                done: 0,
                len,
            };
            Rest::Split { payload, cuts }
        };
        SplitFrames { format, rest }
    }

    /// Decodes the payload into `out` (cleared first), reusing its allocation.
    pub fn decode_into(&self, out: &mut Vec<u8>) {
        out.clear();
        self.append_to(out);
    }

    /// Appends the decoded payload to `out` (joining chunks into one).
    pub(crate) fn append_to(&self, out: &mut Vec<u8>) {
        match &self.payload {
            Payload::Base64 { text, .. } => {
                // Validated in `from_base64`; see `to_bytes`. Should it ever fail, nothing
                // of this chunk is kept.
                let before = out.len();
                if BASE64.decode_vec(text, out).is_err() {
                    out.truncate(before);
                }
            }
            Payload::Raw(bytes) => out.extend_from_slice(bytes),
        }
    }
}

impl fmt::Debug for AudioChunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AudioChunk")
            .field("format", &self.format)
            .field("bytes", &self.byte_len())
            .field("base64", &self.is_base64())
            .finish()
    }
}

/// The frames of a chunk, in order: see [`AudioChunk::split_frames`].
#[derive(Debug, Clone)]
pub struct SplitFrames {
    format: AudioFormat,
    rest: Rest,
}

#[derive(Debug, Clone)]
enum Rest {
    /// The chunk fits in one frame (`None` once handed out).
    Whole(Option<AudioChunk>),
    /// The chunk is cut at `cuts`.
    Split { payload: Left, cuts: Cuts },
}

/// The part of the payload not handed out yet.
#[derive(Debug, Clone)]
enum Left {
    /// The bytes left.
    Raw(Bytes),
    /// `text[at..]` is left.
    Base64 { text: String, at: usize },
}

/// Where the frames of a split chunk end, in decoded bytes.
#[derive(Debug, Clone)]
struct Cuts {
    /// Bytes per frame (at least one group).
    frame: usize,
    /// The payload's cutting granularity in bytes.
    group: usize,
    /// The grid point of the next cut, in frames.
    next: usize,
    /// Bytes handed out so far (the last cut).
    done: usize,
    len: usize,
}

impl Cuts {
    /// The length of the next frame, and whether it is the last.
    fn next_len(&mut self) -> Option<(usize, bool)> {
        if self.done >= self.len {
            return None;
        }
        let grid = self.next.saturating_mul(self.frame);
        let (end, last) = if grid < self.len {
            // On the grid, moved back to a group boundary; still past the last cut, as
            // grid points are at least a group apart.
            (grid / self.group * self.group, false)
        } else {
            (self.len, true)
        };
        let n = end - self.done;
        self.next += 1;
        self.done = end;
        Some((n, last))
    }

    /// Frames not handed out yet: one per grid point inside the chunk, and the last.
    fn remaining(&self) -> usize {
        if self.done >= self.len {
            return 0;
        }
        // Grid points n * frame < len for n in next..=(len - 1) / frame.
        ((self.len - 1) / self.frame + 1).saturating_sub(self.next) + 1
    }
}

impl Iterator for SplitFrames {
    type Item = AudioChunk;

    fn next(&mut self) -> Option<AudioChunk> {
        let (payload, cuts) = match &mut self.rest {
            Rest::Whole(chunk) => return chunk.take(),
            Rest::Split { payload, cuts } => (payload, cuts),
        };
        let (len, last) = cuts.next_len()?;
        let payload = match payload {
            Left::Raw(bytes) => Payload::Raw(bytes.split_to(len)),
            Left::Base64 { text, at } => {
                // Whole groups are 4 characters per 3 bytes; the last frame takes the rest
                // of the text, padding included.
                let end = if last { text.len() } else { *at + len / 3 * 4 };
                let piece = text[*at..end].to_owned();
                *at = end;
                Payload::Base64 { text: piece, len }
            }
        };
        Some(AudioChunk {
            format: self.format,
            payload,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = match &self.rest {
            Rest::Whole(chunk) => usize::from(chunk.is_some()),
            Rest::Split { cuts, .. } => cuts.remaining(),
        };
        (n, Some(n))
    }
}

impl ExactSizeIterator for SplitFrames {}

impl FusedIterator for SplitFrames {}

fn check_len(format: AudioFormat, len: usize) -> Result<(), AudioError> {
    if format.bytes_per_sample() == 2 && len % 2 != 0 {
        return Err(AudioError::OddPcmLength { len });
    }
    Ok(())
}

/// The decoded length of padded standard base64, or `None` if the text is not valid.
fn base64_decoded_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    if padding > 2 {
        return None;
    }
    let body = &bytes[..bytes.len() - padding];
    // Checked a block at a time without branching inside a block, which the compiler turns
    // into vector compares: a byte-by-byte short-circuit test cost about 15 instructions a
    // character, most of a `media` frame's mapping.
    if !body
        .chunks(32)
        .all(|block| block.iter().fold(true, |ok, &b| ok & is_base64_symbol(b)))
    {
        return None;
    }
    // The bits of the last symbol past the final byte must be zero, as the `base64` crate
    // demands when it decodes (`to_bytes`, transcoding): "AB==" would pass here and then
    // decode to nothing.
    let unused_bits = match padding {
        2 => 0b1111,
        1 => 0b11,
        _ => 0,
    };
    if let Some(&last) = body.last() {
        if base64_value(last) & unused_bits != 0 {
            return None;
        }
    }
    Some(bytes.len() / 4 * 3 - padding)
}

/// The 6-bit value of a base64 symbol (already checked by [`is_base64_symbol`]).
fn base64_value(b: u8) -> u8 {
    match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        _ => 63,
    }
}

/// Whether `b` is in the standard base64 alphabet (`A-Z`, `a-z`, `0-9`, `+`, `/`).
fn is_base64_symbol(b: u8) -> bool {
    (b.wrapping_sub(b'A') < 26)
        | (b.wrapping_sub(b'a') < 26)
        | (b.wrapping_sub(b'0') < 10)
        | (b == b'+')
        | (b == b'/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_length_is_computed_without_decoding() {
        for n in 0..40 {
            let data: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let text = BASE64.encode(&data);
            let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, text.clone()).unwrap();
            assert_eq!(chunk.byte_len(), n);
            assert_eq!(chunk.to_bytes().as_ref(), &data[..]);
            assert_eq!(chunk.into_base64(), text);
        }
    }

    #[test]
    fn bad_base64_is_refused() {
        for bad in ["abc", "ab=c", "a===", "ab c", "ab\u{e9}="] {
            assert_eq!(
                AudioChunk::from_base64(AudioFormat::MuLaw, bad.to_owned()),
                Err(AudioError::InvalidBase64),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_alphabet_check_matches_the_base64_crate() {
        for b in 0..=u8::MAX {
            let text = format!("AA{}A", char::from(b));
            let valid = b.is_ascii() && BASE64.decode(&text).is_ok();
            assert_eq!(is_base64_symbol(b), valid, "byte {b:#04x}");
        }
        // A bad byte is found in any block, not only the first.
        for at in [0, 31, 32, 33, 200, 215] {
            let mut text = "A".repeat(216).into_bytes();
            text[at] = b'-';
            let text = String::from_utf8(text).unwrap();
            assert_eq!(base64_decoded_len(&text), None, "bad byte at {at}");
        }
        assert_eq!(base64_decoded_len(&"A".repeat(216)), Some(162));
    }

    #[test]
    fn stray_bits_before_the_padding_are_refused_as_the_decoder_does() {
        for text in [
            "AB==", "AAB=", "AAAAAB==", "//9=", "AQ==", "AAE=", "//8=", "////",
        ] {
            let decodes = BASE64.decode(text).is_ok();
            let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, text.to_owned());
            assert_eq!(chunk.is_ok(), decodes, "{text}");
            if let Ok(chunk) = chunk {
                assert_eq!(chunk.to_bytes().len(), chunk.byte_len(), "{text}");
            }
        }
        assert!(AudioChunk::from_base64(AudioFormat::MuLaw, "AB==".to_owned()).is_err());
    }

    #[test]
    fn odd_pcm_is_refused() {
        assert_eq!(
            AudioChunk::from_bytes(AudioFormat::PCM16_24K, vec![0u8; 3]),
            Err(AudioError::OddPcmLength { len: 3 })
        );
    }

    const MS20: Duration = Duration::from_millis(20);

    #[test]
    fn a_chunk_of_one_frame_or_less_comes_back_untouched() {
        for n in [0, 1, 159, 160] {
            let text = BASE64.encode(vec![0x7Fu8; n]);
            let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, text.clone()).unwrap();
            let mut frames = chunk.split_frames(MS20);
            assert_eq!(frames.len(), 1);
            let only = frames.next().unwrap();
            assert!(only.is_base64());
            assert_eq!(only.into_base64(), text, "{n} bytes");
            assert!(frames.next().is_none());
        }
        let raw = AudioChunk::from_bytes(AudioFormat::PCM16_24K, vec![1u8; 960]).unwrap();
        let frames: Vec<_> = raw.clone().split_frames(MS20).collect();
        assert_eq!(frames, [raw]);
    }

    /// Where each frame but the last ends, in bytes from the chunk's start.
    fn cut_points(frames: &[AudioChunk]) -> Vec<usize> {
        frames[..frames.len() - 1]
            .iter()
            .scan(0, |end, frame| {
                *end += frame.byte_len();
                Some(*end)
            })
            .collect()
    }

    #[test]
    fn base64_mulaw_is_cut_on_the_20_ms_grid_at_3_byte_boundaries() {
        // 200 ms: cuts at the 3-byte boundary at or before each 160 bytes.
        let data: Vec<u8> = (0..1600).map(|i| (i % 251) as u8).collect();
        let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, BASE64.encode(&data)).unwrap();
        let frames: Vec<_> = chunk.split_frames(MS20).collect();
        assert_eq!(
            cut_points(&frames),
            [159, 318, 480, 639, 798, 960, 1119, 1278, 1440]
        );
        let lens: Vec<usize> = frames.iter().map(AudioChunk::byte_len).collect();
        assert_eq!(lens, [159, 159, 162, 159, 159, 162, 159, 159, 162, 160]);
        assert!(frames.iter().all(AudioChunk::is_base64));
        let texts: Vec<usize> = frames.iter().map(|f| f.to_base64().len()).collect();
        assert_eq!(texts, [212, 212, 216, 212, 212, 216, 212, 212, 216, 216]);
    }

    #[test]
    fn base64_pcm16_pieces_are_whole_samples() {
        // PCM16 at 16 kHz: 20 ms is 640 bytes; cuts fall on 6-byte groups at or before
        // each 640 bytes.
        let data: Vec<u8> = (0..6400).map(|i| (i % 256) as u8).collect();
        let chunk = AudioChunk::from_base64(AudioFormat::PCM16_16K, BASE64.encode(&data)).unwrap();
        let frames: Vec<_> = chunk.split_frames(MS20).collect();
        assert_eq!(frames.len(), 10);
        assert_eq!(
            cut_points(&frames),
            [636, 1278, 1920, 2556, 3198, 3840, 4476, 5118, 5760]
        );
        assert!(frames.iter().all(|f| f.byte_len() % 2 == 0));
        let joined: Vec<u8> = frames.iter().flat_map(|f| f.to_bytes().to_vec()).collect();
        assert_eq!(joined, data);
    }

    #[test]
    fn raw_pcm16_is_cut_at_sample_boundaries_sharing_the_buffer() {
        let samples: Vec<i16> = (0..4800).map(|i| i as i16).collect();
        let chunk = AudioChunk::from_pcm16(SampleRate::Hz24000, &samples);
        // 200 ms at 24 kHz: ten frames of 960 bytes.
        let frames: Vec<_> = chunk.clone().split_frames(MS20).collect();
        assert_eq!(frames.len(), 10);
        assert!(frames.iter().all(|f| f.byte_len() == 960 && !f.is_base64()));
        // A frame that is not a whole number of samples long is cut at a sample boundary.
        let odd = Duration::from_micros(20_030); // 480.72 samples
        let frames: Vec<_> = chunk.split_frames(odd).collect();
        assert_eq!(frames.len(), 10);
        assert!(frames.iter().all(|f| f.byte_len() == 960));
        let joined: Vec<i16> = frames
            .iter()
            .flat_map(|f| {
                f.to_bytes()
                    .chunks_exact(2)
                    .map(|p| i16::from_le_bytes([p[0], p[1]]))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(joined, samples);
    }

    #[test]
    fn a_frame_shorter_than_a_sample_still_makes_progress() {
        let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, BASE64.encode([1u8; 7])).unwrap();
        let lens: Vec<usize> = chunk
            .split_frames(Duration::ZERO)
            .map(|f| f.byte_len())
            .collect();
        assert_eq!(lens, [3, 3, 1]);
    }

    proptest::proptest! {
        /// Base64 pieces decode to exactly the original bytes, in order, each within the
        /// frame, whatever the length (padding included) and frame size.
        #[test]
        fn base64_pieces_decode_to_the_original(
            data in proptest::collection::vec(proptest::num::u8::ANY, 0..4000),
            frame_ms in 1u64..120,
            pcm in proptest::bool::ANY,
        ) {
            let (format, mut data) = if pcm {
                (AudioFormat::PCM16_24K, data)
            } else {
                (AudioFormat::MuLaw, data)
            };
            if pcm && data.len() % 2 == 1 {
                data.pop();
            }
            let max = Duration::from_millis(frame_ms);
            let chunk = AudioChunk::from_base64(format, BASE64.encode(&data)).unwrap();
            let frames = chunk.split_frames(max);
            let expected = frames.len();
            let frames: Vec<_> = frames.collect();
            proptest::prop_assert_eq!(frames.len(), expected);
            // Frame k ends within one group before k frames of audio.
            let frame = format.frame_bytes(max);
            let group = 3 * format.bytes_per_sample() as usize;
            for (k, end) in cut_points(&frames).into_iter().enumerate() {
                let grid = (k + 1) * frame;
                proptest::prop_assert!(end <= grid && end + group > grid, "cut {end} for {grid}");
            }
            proptest::prop_assert!(frames.last().unwrap().byte_len() < frame + group);
            let mut joined = Vec::new();
            for frame in &frames {
                proptest::prop_assert!(frame.is_base64());
                proptest::prop_assert_eq!(frame.byte_len() % format.bytes_per_sample() as usize, 0);
                let text = frame.to_base64();
                // Each piece is valid base64 on its own (the checked constructor agrees).
                let again = AudioChunk::from_base64(format, text.into_owned()).unwrap();
                proptest::prop_assert_eq!(again.byte_len(), frame.byte_len());
                joined.extend_from_slice(&frame.to_bytes());
            }
            proptest::prop_assert_eq!(joined, data);
        }
    }

    #[test]
    fn durations_follow_the_byte_maths() {
        // 8 bytes of mu-law = 1 ms; 48 bytes of pcm16 at 24 kHz = 1 ms.
        assert_eq!(AudioFormat::MuLaw.duration_ms(8), 1);
        assert_eq!(AudioFormat::ALaw.duration_ms(160), 20);
        assert_eq!(AudioFormat::PCM16_24K.duration_ms(48), 1);
        assert_eq!(AudioFormat::PCM16_16K.duration_ms(640), 20);
        let chunk = AudioChunk::from_pcm16(SampleRate::Hz8000, &[0; 160]);
        assert_eq!(chunk.duration_ms(), 20);
        assert_eq!(chunk.samples(), 160);
    }
}
