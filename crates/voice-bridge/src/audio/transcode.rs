//! Conversion of a stream of chunks from one format to another.

use bytes::Bytes;

use super::{AudioChunk, AudioError, AudioFormat, Resampler, g711};

/// Converts a stream of chunks from one [`AudioFormat`] to another.
///
/// The path is decode to PCM16, resample if the rates differ, encode. The resampler keeps
/// its state between chunks, and the working buffers are reused, so a frame costs one
/// allocation: the output payload.
///
/// ```
/// use voice_bridge::audio::{AudioChunk, AudioFormat, Transcoder};
/// let mut to_agent = Transcoder::new(AudioFormat::MuLaw, AudioFormat::PCM16_24K)?;
/// let frame = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0xFFu8; 160])?;
/// let out = to_agent.convert(&frame)?;
/// assert_eq!(out.format(), AudioFormat::PCM16_24K);
/// assert_eq!(out.duration_ms(), 20);
/// # Ok::<(), voice_bridge::audio::AudioError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Transcoder {
    from: AudioFormat,
    to: AudioFormat,
    resampler: Resampler,
    bytes: Vec<u8>,
    decoded: Vec<i16>,
    resampled: Vec<i16>,
}

impl Transcoder {
    /// A transcoder between two formats.
    ///
    /// # Errors
    ///
    /// [`AudioError::Unsupported`] if the sample rates cannot be converted (16 to 24 kHz
    /// and back).
    pub fn new(from: AudioFormat, to: AudioFormat) -> Result<Self, AudioError> {
        let resampler = Resampler::new(from.sample_rate(), to.sample_rate())
            .map_err(|_| AudioError::Unsupported { from, to })?;
        Ok(Self {
            from,
            to,
            resampler,
            bytes: Vec::new(),
            decoded: Vec::new(),
            resampled: Vec::new(),
        })
    }

    /// Whether the two formats are the same (so chunks pass through untouched).
    pub fn is_passthrough(&self) -> bool {
        self.from == self.to
    }

    /// The input format.
    pub fn from_format(&self) -> AudioFormat {
        self.from
    }

    /// The output format.
    pub fn to_format(&self) -> AudioFormat {
        self.to
    }

    /// Converts one chunk. A chunk already in the target format is returned as it is.
    ///
    /// # Errors
    ///
    /// [`AudioError::FormatMismatch`] if the chunk is not in the input format.
    pub fn convert(&mut self, chunk: &AudioChunk) -> Result<AudioChunk, AudioError> {
        if chunk.format() != self.from {
            return Err(AudioError::FormatMismatch {
                expected: self.from,
                found: chunk.format(),
            });
        }
        if self.is_passthrough() {
            return Ok(chunk.clone());
        }
        chunk.decode_into(&mut self.bytes);
        self.decoded.clear();
        match self.from {
            AudioFormat::MuLaw => g711::decode_mulaw(&self.bytes, &mut self.decoded),
            AudioFormat::ALaw => g711::decode_alaw(&self.bytes, &mut self.decoded),
            AudioFormat::Pcm16 { .. } => self.decoded.extend(
                self.bytes
                    .chunks_exact(2)
                    .map(|pair| i16::from_le_bytes([pair[0], pair[1]])),
            ),
        }
        self.resampled.clear();
        self.resampler.process(&self.decoded, &mut self.resampled);
        let samples = &self.resampled;
        let mut out = Vec::with_capacity(samples.len() * self.to.bytes_per_sample() as usize);
        match self.to {
            AudioFormat::MuLaw => g711::encode_mulaw(samples, &mut out),
            AudioFormat::ALaw => g711::encode_alaw(samples, &mut out),
            AudioFormat::Pcm16 { .. } => {
                for s in samples {
                    out.extend_from_slice(&s.to_le_bytes());
                }
            }
        }
        AudioChunk::from_bytes(self.to, Bytes::from(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::SampleRate;

    #[test]
    fn same_format_passes_the_base64_through() {
        let mut t = Transcoder::new(AudioFormat::MuLaw, AudioFormat::MuLaw).unwrap();
        let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, "gICA".to_owned()).unwrap();
        let out = t.convert(&chunk).unwrap();
        assert!(out.is_base64());
        assert_eq!(out.into_base64(), "gICA");
    }

    #[test]
    fn mulaw_to_alaw_keeps_the_sound() {
        let mut t = Transcoder::new(AudioFormat::MuLaw, AudioFormat::ALaw).unwrap();
        let codes: Vec<u8> = (0..=255).collect();
        let out = t.convert(&AudioChunk::from_bytes(AudioFormat::MuLaw, codes.clone()).unwrap());
        let out = out.unwrap();
        for (mu, a) in codes.iter().zip(out.to_bytes().iter()) {
            let (x, y) = (g711::mulaw_to_linear(*mu), g711::alaw_to_linear(*a));
            let tolerance = (i32::from(x).abs() / 16).max(16);
            assert!(
                (i32::from(x) - i32::from(y)).abs() <= tolerance,
                "{mu:#04x}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn twenty_ms_frames_keep_their_duration_both_ways() {
        let mut up = Transcoder::new(AudioFormat::MuLaw, AudioFormat::PCM16_24K).unwrap();
        let mut down = Transcoder::new(AudioFormat::PCM16_24K, AudioFormat::MuLaw).unwrap();
        for _ in 0..5 {
            let frame = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0x80u8; 160]).unwrap();
            let pcm = up.convert(&frame).unwrap();
            assert_eq!(pcm.byte_len(), 960);
            let back = down.convert(&pcm).unwrap();
            assert_eq!(back.byte_len(), 160);
        }
    }

    #[test]
    fn wrong_input_format_is_an_error() {
        let mut t = Transcoder::new(AudioFormat::MuLaw, AudioFormat::PCM16_8K).unwrap();
        let chunk = AudioChunk::from_pcm16(SampleRate::Hz8000, &[0; 4]);
        assert!(matches!(
            t.convert(&chunk),
            Err(AudioError::FormatMismatch { .. })
        ));
        assert!(Transcoder::new(AudioFormat::PCM16_16K, AudioFormat::PCM16_24K).is_err());
    }
}
