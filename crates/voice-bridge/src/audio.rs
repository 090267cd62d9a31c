//! Audio formats, chunks and conversions.
//!
//! - [`AudioFormat`]: the encodings a call or an agent speaks (G.711 mu-law and A-law at
//!   8 kHz, 16-bit PCM at 8, 16 or 24 kHz).
//! - [`AudioChunk`]: one piece of audio, kept as the base64 text it arrived in when that is
//!   what the next hop wants, so mu-law to mu-law passes through without a decode.
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

    /// Decodes the payload into `out` (cleared first), reusing its allocation.
    pub fn decode_into(&self, out: &mut Vec<u8>) {
        out.clear();
        match &self.payload {
            Payload::Base64 { text, .. } => {
                // Validated in `from_base64`; see `to_bytes`.
                if BASE64.decode_vec(text, out).is_err() {
                    out.clear();
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
    if !body
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    {
        return None;
    }
    Some(bytes.len() / 4 * 3 - padding)
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
    fn odd_pcm_is_refused() {
        assert_eq!(
            AudioChunk::from_bytes(AudioFormat::PCM16_24K, vec![0u8; 3]),
            Err(AudioError::OddPcmLength { len: 3 })
        );
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
