//! The call's recording: a stereo mu-law WAV, caller left, agent right, as the call
//! sounded.
//!
//! The caller's frames are the clock: Twilio sends one every 20 ms for the whole call. The
//! agent's audio arrives faster than real time and queues at Twilio; here it queues too,
//! and each caller frame plays the same length of it into the right channel, so the
//! agent is heard where the caller heard it. A `clear` (barge-in) drops the queued rest,
//! as Twilio does.

use std::collections::VecDeque;
use std::io;
use std::path::Path;

use voice_bridge::audio::{AudioChunk, AudioFormat, WavSpec, WavWriter};

/// Mu-law silence.
const SILENCE: u8 = 0xFF;
/// The longest recording kept, in minutes (8 KB/s per channel: 15 minutes is 14.4 MB).
const MAX_MINUTES: usize = 15;
/// The most agent audio queued, in bytes (60 s).
const MAX_QUEUE: usize = 60 * 8000;

/// Records one call in memory; [`write_wav`](Self::write_wav) writes it out.
#[derive(Debug)]
pub struct Recorder {
    interleaved: Vec<u8>,
    queue: VecDeque<u8>,
    scratch: Vec<u8>,
    cut_short: bool,
    skipped_format: Option<AudioFormat>,
}

impl Default for Recorder {
    fn default() -> Self {
        Self::new()
    }
}

impl Recorder {
    /// An empty recording.
    pub fn new() -> Self {
        Self {
            interleaved: Vec::new(),
            queue: VecDeque::new(),
            scratch: Vec::new(),
            cut_short: false,
            skipped_format: None,
        }
    }

    /// A frame of the caller's audio: advances the clock by its length.
    pub fn caller(&mut self, chunk: &AudioChunk) {
        if !self.mulaw(chunk) {
            return;
        }
        chunk.decode_into(&mut self.scratch);
        let room = (MAX_MINUTES * 60 * 8000 * 2).saturating_sub(self.interleaved.len()) / 2;
        if self.scratch.len() > room {
            self.cut_short = true;
        }
        for &caller in self.scratch.iter().take(room) {
            let agent = self.queue.pop_front().unwrap_or(SILENCE);
            self.interleaved.extend_from_slice(&[caller, agent]);
        }
    }

    /// Agent audio sent to the caller: queued behind what is still playing.
    pub fn agent(&mut self, chunk: &AudioChunk) {
        if !self.mulaw(chunk) {
            return;
        }
        chunk.decode_into(&mut self.scratch);
        let room = MAX_QUEUE.saturating_sub(self.queue.len());
        self.queue.extend(self.scratch.iter().take(room));
    }

    /// The caller's playback was cleared.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// Milliseconds recorded.
    pub fn duration_ms(&self) -> u64 {
        (self.interleaved.len() / 2 / 8) as u64
    }

    /// Whether the recording stopped at its length limit.
    pub fn cut_short(&self) -> bool {
        self.cut_short
    }

    /// Writes the WAV file (format 7, mu-law, 8 kHz, stereo).
    ///
    /// # Errors
    ///
    /// The file cannot be created or written.
    pub fn write_wav(&self, path: &Path) -> io::Result<()> {
        let file = io::BufWriter::new(std::fs::File::create(path)?);
        let mut wav = WavWriter::new(file, WavSpec::stereo(AudioFormat::MuLaw))?;
        wav.write_encoded(&self.interleaved)?;
        wav.finish()?;
        Ok(())
    }

    /// Whether the chunk is mu-law (Twilio's format); anything else is skipped once with
    /// a log line.
    fn mulaw(&mut self, chunk: &AudioChunk) -> bool {
        if chunk.format() == AudioFormat::MuLaw {
            return true;
        }
        if self.skipped_format.is_none() {
            tracing::warn!(
                format = chunk.format().name(),
                "recording skips audio that is not mu-law"
            );
            self.skipped_format = Some(chunk.format());
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mulaw(byte: u8, len: usize) -> AudioChunk {
        AudioChunk::from_bytes(AudioFormat::MuLaw, vec![byte; len]).unwrap()
    }

    #[test]
    fn agent_audio_plays_on_the_callers_clock_and_clear_drops_it() {
        let mut recorder = Recorder::new();
        recorder.agent(&mulaw(0x20, 240)); // 30 ms queued at once
        recorder.caller(&mulaw(0x10, 160)); // 20 ms: plays 20 ms of it
        recorder.clear(); // barge-in: the other 10 ms are dropped
        recorder.caller(&mulaw(0x11, 160));
        assert_eq!(recorder.duration_ms(), 40);
        let (left, right): (Vec<u8>, Vec<u8>) = recorder
            .interleaved
            .chunks(2)
            .map(|pair| (pair[0], pair[1]))
            .unzip();
        assert!(left[..160].iter().all(|&b| b == 0x10));
        assert!(right[..160].iter().all(|&b| b == 0x20));
        assert!(right[160..].iter().all(|&b| b == SILENCE));
    }

    #[test]
    fn the_wav_file_is_stereo_mulaw() {
        let mut recorder = Recorder::new();
        recorder.caller(&mulaw(0x10, 160));
        let path = std::env::temp_dir().join(format!("voice-agent-rec-{}.wav", std::process::id()));
        recorder.write_wav(&path).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..12], b"WAVE");
        assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 7); // mu-law
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 2); // stereo
        assert!(bytes.len() >= 320);
    }
}
