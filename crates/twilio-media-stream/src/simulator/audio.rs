//! What the simulated caller says: [`CallerAudio`], rendered as 8 kHz mu-law frames.

use std::f64::consts::TAU;
use std::path::Path;
use std::time::Duration;

/// Mu-law digital silence.
pub(crate) const MULAW_SILENCE: u8 = 0xFF;

/// Samples per second of Twilio's audio.
const SAMPLE_RATE: u32 = 8000;

/// Peak amplitude of generated tones and speech: about -12 dBFS, far above any voice
/// activity detector's threshold.
const SPEECH_AMPLITUDE: f64 = 8000.0;

/// The caller's audio, sent to the server as `media` frames in real time.
///
/// Build it with [`silence`](Self::silence), [`tone`](Self::tone),
/// [`speech`](Self::speech), [`wav`](Self::wav) / [`wav_file`](Self::wav_file) or
/// [`mulaw`](Self::mulaw). When a finite source (a WAV file, raw mu-law) runs out, the
/// caller goes on in silence.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use twilio_media_stream::simulator::CallerAudio;
///
/// // The caller says something from 0.5 s to 1.5 s and again from 3 s to 3.4 s.
/// let audio = CallerAudio::speech([
///     (Duration::from_millis(500), Duration::from_millis(1500)),
///     (Duration::from_secs(3), Duration::from_millis(3400)),
/// ]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CallerAudio {
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Silence,
    Tone { frequency_hz: f64 },
    Speech { windows: Vec<(Duration, Duration)> },
    Mulaw(Vec<u8>),
}

impl CallerAudio {
    /// Digital silence (mu-law `0xFF`) for the whole call.
    pub fn silence() -> Self {
        Self {
            kind: Kind::Silence,
        }
    }

    /// A steady sine tone at `frequency_hz` (about -12 dBFS) for the whole call.
    pub fn tone(frequency_hz: f64) -> Self {
        Self {
            kind: Kind::Tone { frequency_hz },
        }
    }

    /// Scripted speech: between each `(start, end)` (times from the start of the stream) a
    /// voice-band signal (two tones plus noise, about -12 dBFS) well above a voice activity
    /// detector's energy threshold; digital silence everywhere else.
    pub fn speech(windows: impl IntoIterator<Item = (Duration, Duration)>) -> Self {
        Self {
            kind: Kind::Speech {
                windows: windows.into_iter().collect(),
            },
        }
    }

    /// Raw mu-law bytes (8 kHz mono, no header), then silence.
    pub fn mulaw(bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            kind: Kind::Mulaw(bytes.into()),
        }
    }

    /// A WAV file's contents: 8 kHz mono, either mu-law (format 7) or 16-bit PCM (format 1),
    /// then silence.
    ///
    /// # Errors
    ///
    /// [`WavError`] when the data is not such a WAV file.
    pub fn wav(data: &[u8]) -> Result<Self, WavError> {
        parse_wav(data).map(Self::mulaw)
    }

    /// Reads a WAV file (see [`wav`](Self::wav)).
    ///
    /// # Errors
    ///
    /// [`WavError::Io`] when the file cannot be read, or another [`WavError`] when it is not
    /// an 8 kHz mono mu-law or PCM16 WAV file.
    pub fn wav_file(path: impl AsRef<Path>) -> Result<Self, WavError> {
        let path = path.as_ref();
        let data = std::fs::read(path).map_err(|source| WavError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::wav(&data)
    }

    /// Fills `out` with the frame that starts `sample` samples into the stream.
    pub(crate) fn fill(&self, sample: u64, out: &mut [u8]) {
        match &self.kind {
            Kind::Silence => out.fill(MULAW_SILENCE),
            Kind::Tone { frequency_hz } => {
                for (i, byte) in out.iter_mut().enumerate() {
                    *byte = linear_to_mulaw(tone_sample(*frequency_hz, sample + i as u64));
                }
            }
            Kind::Speech { windows } => {
                for (i, byte) in out.iter_mut().enumerate() {
                    let n = sample + i as u64;
                    let at = Duration::from_micros(n * 125);
                    *byte = if windows.iter().any(|(start, end)| *start <= at && at < *end) {
                        linear_to_mulaw(speech_sample(n))
                    } else {
                        MULAW_SILENCE
                    };
                }
            }
            Kind::Mulaw(bytes) => {
                let start = usize::try_from(sample).unwrap_or(usize::MAX);
                for (i, byte) in out.iter_mut().enumerate() {
                    *byte = start
                        .checked_add(i)
                        .and_then(|index| bytes.get(index))
                        .copied()
                        .unwrap_or(MULAW_SILENCE);
                }
            }
        }
    }
}

impl Default for CallerAudio {
    fn default() -> Self {
        Self::silence()
    }
}

fn tone_sample(frequency_hz: f64, n: u64) -> i16 {
    let t = n as f64 / f64::from(SAMPLE_RATE);
    (SPEECH_AMPLITUDE * (TAU * frequency_hz * t).sin()) as i16
}

/// Two tones in the voice band plus a little deterministic noise.
fn speech_sample(n: u64) -> i16 {
    let t = n as f64 / f64::from(SAMPLE_RATE);
    let voiced = 0.6 * (TAU * 220.0 * t).sin() + 0.3 * (TAU * 660.0 * t).sin();
    // A small integer hash as noise, so the signal is the same on every run.
    let hash = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    let noise = (hash as f64 / f64::from(1u32 << 24)) * 2.0 - 1.0;
    (SPEECH_AMPLITUDE * (voiced + 0.1 * noise)) as i16
}

/// G.711 mu-law encoding of one 16-bit sample.
pub(crate) fn linear_to_mulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32635;
    let mut value = i32::from(sample);
    let sign = if value < 0 {
        value = -value;
        0x80
    } else {
        0
    };
    value = value.min(CLIP) + BIAS;
    let mut exponent = 7;
    let mut mask = 0x4000;
    while exponent > 0 && value & mask == 0 {
        exponent -= 1;
        mask >>= 1;
    }
    let mantissa = (value >> (exponent + 3)) & 0x0F;
    // The three parts fit in 8 bits: sign 0x80, exponent <= 7 << 4, mantissa <= 0x0F.
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// A WAV file the simulator cannot play.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    /// The file could not be read.
    #[error("cannot read WAV file {path}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Not a RIFF/WAVE file, or a chunk is cut short.
    #[error("not a WAV file: {0}")]
    Malformed(&'static str),
    /// A format other than 8 kHz mono mu-law or PCM16.
    #[error(
        "unsupported WAV format {format} ({channels} channels, {sample_rate} Hz, {bits} bits); \
         need 8000 Hz mono mu-law (7) or 16-bit PCM (1)"
    )]
    Unsupported {
        /// The WAV format code.
        format: u16,
        /// Channels.
        channels: u16,
        /// Sample rate in Hz.
        sample_rate: u32,
        /// Bits per sample.
        bits: u16,
    },
}

/// Reads an 8 kHz mono mu-law or PCM16 WAV file into mu-law bytes.
fn parse_wav(data: &[u8]) -> Result<Vec<u8>, WavError> {
    if data.len() < 12 || &data[0..4] != b"RIFF" || &data[8..12] != b"WAVE" {
        return Err(WavError::Malformed("no RIFF/WAVE header"));
    }
    let mut format = None;
    let mut rest = &data[12..];
    while rest.len() >= 8 {
        let id = &rest[0..4];
        let size = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]) as usize;
        let body = rest
            .get(8..8usize.saturating_add(size))
            .ok_or(WavError::Malformed("chunk longer than the file"))?;
        match id {
            b"fmt " => {
                if body.len() < 16 {
                    return Err(WavError::Malformed("fmt chunk too short"));
                }
                let u16_at = |i: usize| u16::from_le_bytes([body[i], body[i + 1]]);
                format = Some((
                    u16_at(0),
                    u16_at(2),
                    u32::from_le_bytes([body[4], body[5], body[6], body[7]]),
                    u16_at(14),
                ));
            }
            b"data" => {
                let Some((code, channels, sample_rate, bits)) = format else {
                    return Err(WavError::Malformed("data chunk before fmt chunk"));
                };
                return match (code, channels, sample_rate, bits) {
                    (7, 1, 8000, 8) => Ok(body.to_vec()),
                    (1, 1, 8000, 16) => Ok(body
                        .chunks_exact(2)
                        .map(|pair| linear_to_mulaw(i16::from_le_bytes([pair[0], pair[1]])))
                        .collect()),
                    _ => Err(WavError::Unsupported {
                        format: code,
                        channels,
                        sample_rate,
                        bits,
                    }),
                };
            }
            _ => {}
        }
        // Chunks are padded to an even length.
        let advance = 8usize.saturating_add(size).saturating_add(size % 2);
        rest = rest.get(advance..).unwrap_or_default();
    }
    Err(WavError::Malformed("no data chunk"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(format: u16, bits: u16, data: &[u8]) -> Vec<u8> {
        let mut out = b"RIFF\0\0\0\0WAVE".to_vec();
        out.extend_from_slice(b"fmt \x10\0\0\0");
        out.extend_from_slice(&format.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&8000u32.to_le_bytes());
        out.extend_from_slice(&(8000 * u32::from(bits) / 8).to_le_bytes());
        out.extend_from_slice(&(bits / 8).to_le_bytes());
        out.extend_from_slice(&bits.to_le_bytes());
        out.extend_from_slice(b"LIST\x03\0\0\0abc\0");
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn mulaw_encoding_matches_g711() {
        assert_eq!(linear_to_mulaw(0), 0xFF);
        assert_eq!(linear_to_mulaw(-1), 0x7F);
        assert_eq!(linear_to_mulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_mulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_mulaw(1000), 0xCE);
    }

    #[test]
    fn wav_mulaw_and_pcm16() {
        assert_eq!(parse_wav(&wav(7, 8, &[1, 2, 3])).unwrap(), [1, 2, 3]);
        let pcm: Vec<u8> = [0i16, 1000, -1]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        assert_eq!(parse_wav(&wav(1, 16, &pcm)).unwrap(), [0xFF, 0xCE, 0x7F]);
    }

    #[test]
    fn wav_errors_are_typed() {
        assert!(matches!(parse_wav(b"nope"), Err(WavError::Malformed(_))));
        let mut stereo = wav(1, 16, &[0, 0]);
        stereo[22] = 2;
        assert!(matches!(
            parse_wav(&stereo),
            Err(WavError::Unsupported { channels: 2, .. })
        ));
        let mut cut = wav(7, 8, &[1, 2, 3]);
        cut.truncate(cut.len() - 1);
        assert!(matches!(parse_wav(&cut), Err(WavError::Malformed(_))));
        assert!(matches!(
            CallerAudio::wav_file("/nonexistent/x.wav"),
            Err(WavError::Io { .. })
        ));
    }

    #[test]
    fn speech_windows_are_loud_and_silence_is_silent() {
        let audio = CallerAudio::speech([(Duration::from_millis(20), Duration::from_millis(40))]);
        let mut frame = [0u8; 160];
        audio.fill(0, &mut frame);
        assert!(frame.iter().all(|&b| b == MULAW_SILENCE));
        audio.fill(160, &mut frame);
        assert!(frame.iter().filter(|&&b| b == MULAW_SILENCE).count() < 10);
        audio.fill(320, &mut frame);
        assert!(frame.iter().all(|&b| b == MULAW_SILENCE));
    }

    #[test]
    fn finite_sources_end_in_silence() {
        let audio = CallerAudio::mulaw(vec![1; 200]);
        let mut frame = [0u8; 160];
        audio.fill(160, &mut frame);
        assert_eq!(&frame[..40], &[1; 40]);
        assert!(frame[40..].iter().all(|&b| b == MULAW_SILENCE));
        let tone = CallerAudio::tone(440.0);
        tone.fill(0, &mut frame);
        assert!(frame.iter().any(|&b| b != MULAW_SILENCE));
    }
}
