//! A small WAV (RIFF) writer for call recordings.

use std::io::{self, Seek, SeekFrom, Write};

use super::{AudioFormat, g711};

/// The shape of a WAV file: sample format and channel count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WavSpec {
    /// The sample encoding (PCM16 at its rate, or G.711 at 8 kHz).
    pub format: AudioFormat,
    /// 1 for mono, 2 for stereo (for a call: caller left, agent right).
    pub channels: u16,
}

impl WavSpec {
    /// Mono in `format`.
    pub const fn mono(format: AudioFormat) -> Self {
        Self {
            format,
            channels: 1,
        }
    }

    /// Stereo in `format`.
    pub const fn stereo(format: AudioFormat) -> Self {
        Self {
            format,
            channels: 2,
        }
    }

    fn format_tag(self) -> u16 {
        match self.format {
            AudioFormat::Pcm16 { .. } => 1,
            AudioFormat::ALaw => 6,
            AudioFormat::MuLaw => 7,
        }
    }

    fn block_align(self) -> u16 {
        self.channels * self.format.bytes_per_sample() as u16
    }
}

/// Writes a WAV file: header first, samples as they come, sizes patched by
/// [`WavWriter::finish`].
///
/// PCM16 files use format tag 1; mu-law and A-law files use tags 7 and 6 with 8-bit
/// samples and a `fact` chunk, which every common player reads. A writer dropped without
/// `finish` leaves a file whose header says it is empty.
///
/// ```
/// use std::io::Cursor;
/// use voice_bridge::audio::{AudioFormat, WavSpec, WavWriter};
/// // A stereo recording: caller on the left, agent on the right.
/// let mut wav = WavWriter::new(Cursor::new(Vec::new()), WavSpec::stereo(AudioFormat::PCM16_8K))?;
/// wav.write_stereo_pcm16(&[100, 200], &[-100, -200])?;
/// let bytes = wav.finish()?.into_inner();
/// assert_eq!(&bytes[..4], b"RIFF");
/// assert_eq!(bytes.len(), 44 + 8);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct WavWriter<W: Write + Seek> {
    out: W,
    spec: WavSpec,
    start: u64,
    data_bytes: u64,
    scratch: Vec<u8>,
}

impl<W: Write + Seek> WavWriter<W> {
    /// Starts a file in `out` at its current position.
    ///
    /// # Errors
    ///
    /// An I/O error from `out`, or [`io::ErrorKind::InvalidInput`] for a channel count
    /// other than 1 or 2.
    pub fn new(mut out: W, spec: WavSpec) -> io::Result<Self> {
        if !(1..=2).contains(&spec.channels) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "wav: 1 or 2 channels",
            ));
        }
        let start = out.stream_position()?;
        let mut writer = Self {
            out,
            spec,
            start,
            data_bytes: 0,
            scratch: Vec::new(),
        };
        writer.write_header()?;
        Ok(writer)
    }

    /// The file's spec.
    pub fn spec(&self) -> WavSpec {
        self.spec
    }

    /// Writes encoded interleaved frames as they are (bytes in the spec's format).
    ///
    /// # Errors
    ///
    /// An I/O error from the writer.
    pub fn write_encoded(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.data_bytes += bytes.len() as u64;
        Ok(())
    }

    /// Writes interleaved PCM16 samples, encoding them to the spec's format.
    ///
    /// # Errors
    ///
    /// An I/O error from the writer.
    pub fn write_pcm16(&mut self, samples: &[i16]) -> io::Result<()> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        encode(self.spec.format, samples.iter().copied(), &mut scratch);
        let result = self.write_encoded(&scratch);
        self.scratch = scratch;
        result
    }

    /// Writes two mono signals as one stereo stream (left first); the shorter one is
    /// padded with silence.
    ///
    /// # Errors
    ///
    /// An I/O error from the writer, or [`io::ErrorKind::InvalidInput`] on a mono file.
    pub fn write_stereo_pcm16(&mut self, left: &[i16], right: &[i16]) -> io::Result<()> {
        if self.spec.channels != 2 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "wav: file is mono",
            ));
        }
        let frames = left.len().max(right.len());
        let interleaved = (0..frames).flat_map(|i| {
            [
                left.get(i).copied().unwrap_or(0),
                right.get(i).copied().unwrap_or(0),
            ]
        });
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        encode(self.spec.format, interleaved, &mut scratch);
        let result = self.write_encoded(&scratch);
        self.scratch = scratch;
        result
    }

    /// Pads the data, patches the sizes in the header and returns the writer, positioned
    /// at the end of the file.
    ///
    /// # Errors
    ///
    /// An I/O error from the writer, or [`io::ErrorKind::InvalidData`] past 4 GiB.
    pub fn finish(mut self) -> io::Result<W> {
        if self.data_bytes % 2 == 1 {
            self.out.write_all(&[0])?;
        }
        let end = self.out.stream_position()?;
        self.out.seek(SeekFrom::Start(self.start))?;
        self.write_header()?;
        self.out.seek(SeekFrom::Start(end))?;
        self.out.flush()?;
        Ok(self.out)
    }

    fn write_header(&mut self) -> io::Result<()> {
        let spec = self.spec;
        let pcm = matches!(spec.format, AudioFormat::Pcm16 { .. });
        let fmt_len: u32 = if pcm { 16 } else { 18 };
        let fact_len: u32 = if pcm { 0 } else { 12 };
        let data = u32::try_from(self.data_bytes)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "wav: data over 4 GiB"))?;
        let padded = data + data % 2;
        let riff = 4 + (8 + fmt_len) + fact_len + 8 + padded;
        let rate = spec.format.sample_rate().hz();
        let block = spec.block_align();
        let mut h = Vec::with_capacity(58);
        h.extend_from_slice(b"RIFF");
        h.extend_from_slice(&riff.to_le_bytes());
        h.extend_from_slice(b"WAVEfmt ");
        h.extend_from_slice(&fmt_len.to_le_bytes());
        h.extend_from_slice(&spec.format_tag().to_le_bytes());
        h.extend_from_slice(&spec.channels.to_le_bytes());
        h.extend_from_slice(&rate.to_le_bytes());
        h.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
        h.extend_from_slice(&block.to_le_bytes());
        h.extend_from_slice(&(spec.format.bytes_per_sample() as u16 * 8).to_le_bytes());
        if !pcm {
            h.extend_from_slice(&0u16.to_le_bytes()); // cbSize
            h.extend_from_slice(b"fact");
            h.extend_from_slice(&4u32.to_le_bytes());
            h.extend_from_slice(&(data / u32::from(block)).to_le_bytes());
        }
        h.extend_from_slice(b"data");
        h.extend_from_slice(&data.to_le_bytes());
        self.out.write_all(&h)
    }
}

fn encode(format: AudioFormat, samples: impl Iterator<Item = i16>, out: &mut Vec<u8>) {
    match format {
        AudioFormat::Pcm16 { .. } => samples.for_each(|s| out.extend_from_slice(&s.to_le_bytes())),
        AudioFormat::MuLaw => out.extend(samples.map(g711::linear_to_mulaw)),
        AudioFormat::ALaw => out.extend(samples.map(g711::linear_to_alaw)),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn mono_pcm16_header_is_canonical() {
        let mut wav = WavWriter::new(
            Cursor::new(Vec::new()),
            WavSpec::mono(AudioFormat::PCM16_24K),
        )
        .unwrap();
        wav.write_pcm16(&[1, -1, 300]).unwrap();
        let b = wav.finish().unwrap().into_inner();
        assert_eq!(&b[0..4], b"RIFF");
        assert_eq!(u32_at(&b, 4) as usize, b.len() - 8);
        assert_eq!(&b[8..16], b"WAVEfmt ");
        assert_eq!(u32_at(&b, 16), 16);
        assert_eq!(u16_at(&b, 20), 1); // PCM
        assert_eq!(u16_at(&b, 22), 1); // mono
        assert_eq!(u32_at(&b, 24), 24000);
        assert_eq!(u32_at(&b, 28), 48000); // byte rate
        assert_eq!(u16_at(&b, 32), 2); // block align
        assert_eq!(u16_at(&b, 34), 16);
        assert_eq!(&b[36..40], b"data");
        assert_eq!(u32_at(&b, 40), 6);
        assert_eq!(&b[44..], &[1, 0, 0xFF, 0xFF, 0x2C, 0x01]);
    }

    #[test]
    fn stereo_mulaw_has_fact_chunk_and_interleaves() {
        let mut wav =
            WavWriter::new(Cursor::new(Vec::new()), WavSpec::stereo(AudioFormat::MuLaw)).unwrap();
        wav.write_stereo_pcm16(&[0, 0, 0], &[32124]).unwrap();
        let b = wav.finish().unwrap().into_inner();
        assert_eq!(u32_at(&b, 16), 18);
        assert_eq!(u16_at(&b, 20), 7); // mu-law
        assert_eq!(u16_at(&b, 22), 2);
        assert_eq!(u32_at(&b, 24), 8000);
        assert_eq!(u32_at(&b, 28), 16000);
        assert_eq!(u16_at(&b, 32), 2);
        assert_eq!(u16_at(&b, 34), 8);
        assert_eq!(&b[38..42], b"fact");
        assert_eq!(u32_at(&b, 46), 3); // frames per channel
        assert_eq!(&b[50..54], b"data");
        assert_eq!(u32_at(&b, 54), 6);
        assert_eq!(&b[58..64], &[0xFF, 0x80, 0xFF, 0xFF, 0xFF, 0xFF]);
        assert_eq!(u32_at(&b, 4) as usize, b.len() - 8);
    }

    #[test]
    fn alaw_odd_data_is_padded() {
        let mut wav =
            WavWriter::new(Cursor::new(Vec::new()), WavSpec::mono(AudioFormat::ALaw)).unwrap();
        wav.write_encoded(&[0xD5; 3]).unwrap();
        let b = wav.finish().unwrap().into_inner();
        assert_eq!(u16_at(&b, 20), 6);
        assert_eq!(u32_at(&b, 54), 3);
        assert_eq!(b.len(), 58 + 4);
        assert_eq!(u32_at(&b, 4) as usize, b.len() - 8);
    }

    #[test]
    fn stereo_write_on_mono_file_is_refused() {
        let mut wav =
            WavWriter::new(Cursor::new(Vec::new()), WavSpec::mono(AudioFormat::MuLaw)).unwrap();
        assert!(wav.write_stereo_pcm16(&[1], &[1]).is_err());
        assert!(
            WavWriter::new(
                Cursor::new(Vec::new()),
                WavSpec {
                    format: AudioFormat::MuLaw,
                    channels: 3
                }
            )
            .is_err()
        );
    }
}
