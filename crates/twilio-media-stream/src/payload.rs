//! Audio payloads: base64 mu-law kept as text until someone asks for the bytes.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

use crate::error::PayloadError;

/// Bytes of 8 kHz mono mu-law per millisecond.
pub const MULAW_BYTES_PER_MS: usize = 8;

/// Base64 characters validated per step by [`Payload::validate`] (a multiple of 4).
const VALIDATE_CHUNK_CHARS: usize = 1024;

/// The base64 text of an audio payload (`media.payload`), kept as received.
///
/// Twilio sends raw mu-law, 8000 Hz, mono, base64-encoded, with no header. A `Payload` does
/// not decode on the per-frame path: decoding a `media` message allocates the payload text
/// once, and cloning a `Payload` only bumps a reference count. Length and duration come from
/// the text's length. Ask for the bytes with [`decode`](Self::decode) or
/// [`decode_into`](Self::decode_into), or check the text with [`validate`](Self::validate).
///
/// A payload decoded from the wire is **not validated**: its text is whatever the peer sent.
/// [`decoded_len`](Self::decoded_len) and [`duration`](Self::duration) assume the text is
/// valid base64; for text that is not, they are estimates from its length.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::Payload;
///
/// let silence = Payload::from_mulaw(&[0xFF; 160]);
/// assert_eq!(silence.decoded_len(), 160);
/// assert_eq!(silence.duration_ms(), 20);
/// assert_eq!(&silence.as_base64()[..8], "////////");
/// assert_eq!(silence.decode()?, vec![0xFF; 160]);
/// # Ok::<(), twilio_media_stream::PayloadError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Payload(Arc<str>);

impl Payload {
    /// Wraps base64 text as is, without checking it (see [`validate`](Self::validate)).
    ///
    /// This is the pass-through path: audio that arrives base64-encoded from elsewhere (an
    /// AI provider's audio deltas, for instance) goes to Twilio without a decode.
    pub fn from_base64(text: impl Into<Arc<str>>) -> Self {
        Self(text.into())
    }

    /// Encodes raw mu-law bytes (no header) as a payload.
    pub fn from_mulaw(mulaw: &[u8]) -> Self {
        Self(STANDARD.encode(mulaw).into())
    }

    /// An empty payload.
    pub fn empty() -> Self {
        Self(Arc::from(""))
    }

    /// The base64 text.
    pub fn as_base64(&self) -> &str {
        &self.0
    }

    /// Whether the payload holds no audio.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of audio bytes the text decodes to (padding-aware), without decoding.
    pub fn decoded_len(&self) -> usize {
        let text = self.0.as_bytes();
        let full = text.len() / 4 * 3;
        match text.len() % 4 {
            0 => {
                let padding = text.iter().rev().take(2).filter(|&&b| b == b'=').count();
                full - padding.min(full)
            }
            // Unpadded tails (not valid for Twilio, estimated anyway).
            2 => full + 1,
            3 => full + 2,
            _ => full,
        }
    }

    /// Playing time in whole milliseconds at 8 kHz mu-law (8 bytes = 1 ms), rounded down.
    pub fn duration_ms(&self) -> u64 {
        (self.decoded_len() / MULAW_BYTES_PER_MS) as u64
    }

    /// Exact playing time at 8 kHz mu-law (one byte = 125 µs).
    pub fn duration(&self) -> Duration {
        Duration::from_micros(self.decoded_len() as u64 * 125)
    }

    /// Checks that the text is valid standard base64, without allocating.
    ///
    /// # Errors
    ///
    /// The first problem found, with its offset.
    pub fn validate(&self) -> Result<(), PayloadError> {
        let text = self.0.as_bytes();
        let mut scratch = [0u8; VALIDATE_CHUNK_CHARS / 4 * 3];
        let mut offset = 0;
        while offset < text.len() {
            let end = (offset + VALIDATE_CHUNK_CHARS).min(text.len());
            // Only the last chunk may carry padding; `=` at the end of an earlier chunk
            // would look valid to the chunk's own decode, so it is refused here, as a
            // one-shot decode refuses it.
            if end < text.len() {
                if let Some(pos) = text[offset..end].iter().position(|&b| b == b'=') {
                    return Err(PayloadError::InvalidByte {
                        offset: offset + pos,
                        byte: b'=',
                    });
                }
            }
            match STANDARD.decode_slice(&text[offset..end], &mut scratch) {
                Ok(_) => {}
                Err(base64::DecodeSliceError::DecodeError(e)) => {
                    return Err(PayloadError::from_base64(e, offset));
                }
                // Unreachable: a chunk of N characters never decodes to more than N/4*3
                // bytes. Reported as a length problem rather than panicking.
                Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                    return Err(PayloadError::InvalidLength { length: text.len() });
                }
            }
            offset = end;
        }
        Ok(())
    }

    /// Decodes the audio into a new vector (one allocation of the decoded size).
    ///
    /// # Errors
    ///
    /// [`PayloadError`] when the text is not valid standard base64.
    pub fn decode(&self) -> Result<Vec<u8>, PayloadError> {
        STANDARD
            .decode(self.0.as_bytes())
            .map_err(|e| PayloadError::from_base64(e, 0))
    }

    /// Decodes the audio and appends it to `out`, reusing its capacity; returns the number
    /// of bytes appended. On error `out` keeps its previous contents.
    ///
    /// # Errors
    ///
    /// [`PayloadError`] when the text is not valid standard base64.
    pub fn decode_into(&self, out: &mut Vec<u8>) -> Result<usize, PayloadError> {
        let before = out.len();
        match STANDARD.decode_vec(self.0.as_bytes(), out) {
            Ok(()) => Ok(out.len() - before),
            Err(e) => {
                out.truncate(before);
                Err(PayloadError::from_base64(e, 0))
            }
        }
    }
}

impl Default for Payload {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Payload {
    /// Shows the size and the first characters, not the whole audio.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self.0.chars().take(16).collect();
        let ellipsis = if self.0.len() > head.len() { "..." } else { "" };
        write!(
            f,
            "Payload({} bytes, \"{head}{ellipsis}\")",
            self.decoded_len()
        )
    }
}

impl From<&str> for Payload {
    fn from(text: &str) -> Self {
        Self::from_base64(text)
    }
}

impl From<String> for Payload {
    fn from(text: String) -> Self {
        Self::from_base64(text)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PayloadVisitor;

        impl Visitor<'_> for PayloadVisitor {
            type Value = Payload;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a base64 string")
            }

            // `serde_json::from_str` lends unescaped strings, so this is the payload's only
            // allocation.
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Payload, E> {
                Ok(Payload(Arc::from(v)))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Payload, E> {
                Ok(Payload(Arc::from(v)))
            }
        }

        deserializer.deserialize_str(PayloadVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_padding() {
        for n in 0..50usize {
            let bytes: Vec<u8> = (0..n).map(|i| i as u8).collect();
            let p = Payload::from_mulaw(&bytes);
            assert_eq!(p.decoded_len(), n, "n = {n}");
            assert_eq!(p.decode().unwrap(), bytes);
            assert_eq!(p.as_base64().len(), 4 * n.div_ceil(3));
            p.validate().unwrap();
        }
    }

    #[test]
    fn twenty_ms_frame() {
        let p = Payload::from_mulaw(&[0x7F; 160]);
        assert_eq!(p.as_base64().len(), 216);
        assert_eq!(p.duration_ms(), 20);
        assert_eq!(p.duration(), Duration::from_millis(20));
        assert_eq!(
            Payload::from_mulaw(&[0; 4]).duration(),
            Duration::from_micros(500)
        );
    }

    #[test]
    fn invalid_base64_is_a_typed_error() {
        let p = Payload::from_base64("ab!d");
        assert_eq!(
            p.decode(),
            Err(PayloadError::InvalidByte {
                offset: 2,
                byte: b'!'
            })
        );
        assert_eq!(p.validate(), p.decode().map(|_| ()));
        assert!(Payload::from_base64("abc").validate().is_err());
        assert!(Payload::from_base64("no+JhoaJjpzS...").decode().is_err());
    }

    #[test]
    fn validate_reports_offsets_past_the_first_chunk() {
        let mut text = "A".repeat(VALIDATE_CHUNK_CHARS * 3);
        text.replace_range(2500..2501, "*");
        let p = Payload::from_base64(text);
        assert_eq!(
            p.validate(),
            Err(PayloadError::InvalidByte {
                offset: 2500,
                byte: b'*'
            })
        );
        assert_eq!(p.validate(), p.decode().map(|_| ()));
    }

    #[test]
    fn padding_in_an_early_chunk_is_invalid() {
        let mut text = "AAAA".repeat(VALIDATE_CHUNK_CHARS / 4);
        text.replace_range(VALIDATE_CHUNK_CHARS - 2.., "==");
        text.push_str("AAAA");
        let p = Payload::from_base64(text);
        assert!(p.validate().is_err());
        assert_eq!(p.validate(), p.decode().map(|_| ()));
    }

    #[test]
    fn decode_into_appends_and_keeps_on_error() {
        let mut out = vec![1, 2];
        assert_eq!(Payload::from_mulaw(&[9; 5]).decode_into(&mut out), Ok(5));
        assert_eq!(out, [1, 2, 9, 9, 9, 9, 9]);
        assert!(Payload::from_base64("****").decode_into(&mut out).is_err());
        assert_eq!(out, [1, 2, 9, 9, 9, 9, 9]);
    }

    #[test]
    fn debug_is_short() {
        let p = Payload::from_mulaw(&[0xFF; 1600]);
        let s = format!("{p:?}");
        assert!(s.len() < 60, "{s}");
        assert!(s.contains("1600 bytes"));
    }
}
