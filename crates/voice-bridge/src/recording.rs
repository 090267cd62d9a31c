//! A call's recording as the caller heard it: a stereo WAV, caller left, agent right.
//!
//! The caller's frames are the clock: a telephony leg delivers one every 20 ms for the
//! whole call, silence included. The agent's audio reaches the caller faster than real
//! time and queues at the far end (Twilio plays it out at 8 kHz); the recorder queues it
//! the same way, and each caller frame plays the same length of the queue into the right
//! channel, so the agent is heard where the caller heard it. A `Clear` (a barge-in) drops
//! what was still queued, as the far end does.
//!
//! Memory is bounded: the recording keeps at most [`CallRecorder::with_max_duration`] of
//! audio (default 15 minutes: 14.4 MB for 8 kHz G.711 stereo; audio past it is dropped and
//! [`CallRecorder::cut_short`] says so), and the agent's queue at most
//! [`CallRecorder::with_max_queued`] (default 60 s; audio past it is dropped).
//!
//! # Examples
//!
//! As the bridge's observer (`&mut` works, so the recorder is yours again after the call):
//!
//! ```
//! use voice_bridge::recording::CallRecorder;
//! use voice_bridge::{Bridge, memory};
//!
//! # async fn example() -> std::io::Result<()> {
//! let (call, _phone) = memory::call_leg(64);
//! let (agent, _model) = memory::agent_leg(64);
//! let mut recorder = CallRecorder::new();
//! let report = Bridge::new(call, agent).with_observer(&mut recorder).run().await;
//! recorder.write_wav_file(std::path::Path::new("call.wav"))?;
//! # let _ = report;
//! # Ok(())
//! # }
//! ```
//!
//! Or fed by hand:
//!
//! ```
//! use voice_bridge::audio::{AudioChunk, AudioFormat};
//! use voice_bridge::recording::CallRecorder;
//!
//! let frame = |byte: u8, len: usize| AudioChunk::from_bytes(AudioFormat::MuLaw, vec![byte; len]).unwrap();
//! let mut recorder = CallRecorder::new();
//! recorder.agent(&frame(0x20, 240)); // 30 ms of agent audio, sent at once
//! recorder.caller(&frame(0x10, 160)); // 20 ms on the caller's clock: 20 ms of it play
//! recorder.clear(); // a barge-in: the other 10 ms are never heard
//! recorder.caller(&frame(0x11, 160));
//! assert_eq!(recorder.duration().as_millis(), 40);
//! let wav = recorder.write_wav(std::io::Cursor::new(Vec::new()))?.into_inner();
//! assert_eq!(&wav[..4], b"RIFF");
//! # Ok::<(), std::io::Error>(())
//! ```

use std::collections::VecDeque;
use std::io::{self, Seek, Write};
use std::path::Path;
use std::time::Duration;

use crate::audio::{AudioChunk, AudioFormat, WavSpec, WavWriter};
use crate::call::{CallCommand, CallEvent};
use crate::observer::{BridgeObserver, Observed};

/// The default longest recording.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(15 * 60);
/// The default most agent audio queued ahead of the caller's clock.
pub const DEFAULT_MAX_QUEUED: Duration = Duration::from_secs(60);

/// Records one call in memory on the caller's clock; see the [module docs](self).
///
/// The recording's format is the first chunk's (G.711 mu-law for Twilio; any
/// [`AudioFormat`] works); a chunk in another format is skipped, with one log line.
#[derive(Debug)]
pub struct CallRecorder {
    format: Option<AudioFormat>,
    /// Caller and agent samples, interleaved, in `format`.
    interleaved: Vec<u8>,
    /// Agent samples sent but not yet played on the caller's clock.
    queue: VecDeque<u8>,
    scratch: Vec<u8>,
    max_duration: Duration,
    max_queued: Duration,
    cut_short: bool,
    skipped_format: Option<AudioFormat>,
}

impl Default for CallRecorder {
    fn default() -> Self {
        Self::new()
    }
}

impl CallRecorder {
    /// An empty recording with the default limits ([`DEFAULT_MAX_DURATION`],
    /// [`DEFAULT_MAX_QUEUED`]).
    pub fn new() -> Self {
        Self {
            format: None,
            interleaved: Vec::new(),
            queue: VecDeque::new(),
            scratch: Vec::new(),
            max_duration: DEFAULT_MAX_DURATION,
            max_queued: DEFAULT_MAX_QUEUED,
            cut_short: false,
            skipped_format: None,
        }
    }

    /// Keeps at most `limit` of audio (both channels); the rest of the call is not
    /// recorded and [`cut_short`](Self::cut_short) becomes true. Memory is about
    /// `2 × limit × bytes per second` of the call's format (16 KB/s for G.711).
    #[must_use]
    pub fn with_max_duration(mut self, limit: Duration) -> Self {
        self.max_duration = limit;
        self
    }

    /// Queues at most `limit` of agent audio ahead of the caller's clock; agent audio past
    /// it is dropped (the far end would still be playing it minutes later).
    #[must_use]
    pub fn with_max_queued(mut self, limit: Duration) -> Self {
        self.max_queued = limit;
        self
    }

    /// A frame of the caller's audio: advances the clock by its length, playing as much of
    /// the queued agent audio (silence when none).
    pub fn caller(&mut self, chunk: &AudioChunk) {
        let Some(format) = self.accept(chunk) else {
            return;
        };
        let width = format.bytes_per_sample() as usize;
        chunk.decode_into(&mut self.scratch);
        let limit = 2 * bytes_for(format, self.max_duration);
        let room = limit.saturating_sub(self.interleaved.len()) / (2 * width) * width;
        if self.scratch.len() > room {
            self.cut_short = true;
        }
        let take = self.scratch.len().min(room);
        self.interleaved.reserve(2 * take);
        let silence = silence(format);
        for caller in self.scratch[..take].chunks_exact(width) {
            self.interleaved.extend_from_slice(caller);
            for byte in silence.iter().take(width) {
                let agent = self.queue.pop_front().unwrap_or(*byte);
                self.interleaved.push(agent);
            }
        }
    }

    /// Agent audio sent to the caller: queued behind what is still playing.
    pub fn agent(&mut self, chunk: &AudioChunk) {
        let Some(format) = self.accept(chunk) else {
            return;
        };
        let width = format.bytes_per_sample() as usize;
        chunk.decode_into(&mut self.scratch);
        let limit = bytes_for(format, self.max_queued);
        let room = limit.saturating_sub(self.queue.len()) / width * width;
        let take = self.scratch.len().min(room);
        self.queue.extend(&self.scratch[..take]);
    }

    /// The caller's playback was cleared (a barge-in): queued agent audio is dropped.
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// The length of the recording.
    pub fn duration(&self) -> Duration {
        let Some(format) = self.format else {
            return Duration::ZERO;
        };
        let per_second = 2 * u64::from(format.bytes_per_second());
        Duration::from_micros(self.interleaved.len() as u64 * 1_000_000 / per_second)
    }

    /// Whether the call went on past [`with_max_duration`](Self::with_max_duration).
    pub fn cut_short(&self) -> bool {
        self.cut_short
    }

    /// The recording's format (`None` before the first chunk).
    pub fn format(&self) -> Option<AudioFormat> {
        self.format
    }

    /// The recorded samples, caller and agent interleaved, in [`format`](Self::format).
    pub fn interleaved(&self) -> &[u8] {
        &self.interleaved
    }

    /// Writes the WAV (stereo, caller left, agent right; mu-law and A-law files use format
    /// tags 7 and 6) and returns the writer. An empty recording is a valid mu-law file of
    /// length zero.
    ///
    /// # Errors
    ///
    /// Writing fails.
    pub fn write_wav<W: Write + Seek>(&self, out: W) -> io::Result<W> {
        let format = self.format.unwrap_or(AudioFormat::MuLaw);
        let mut wav = WavWriter::new(out, WavSpec::stereo(format))?;
        wav.write_encoded(&self.interleaved)?;
        wav.finish()
    }

    /// Writes the WAV to a new file at `path` (see [`write_wav`](Self::write_wav)).
    ///
    /// # Errors
    ///
    /// The file cannot be created or written.
    pub fn write_wav_file(&self, path: &Path) -> io::Result<()> {
        let file = io::BufWriter::new(std::fs::File::create(path)?);
        self.write_wav(file)?.flush()
    }

    /// The recording's format if `chunk` fits it (the first chunk sets it).
    fn accept(&mut self, chunk: &AudioChunk) -> Option<AudioFormat> {
        let format = *self.format.get_or_insert(chunk.format());
        if chunk.format() == format {
            return Some(format);
        }
        if self.skipped_format.is_none() {
            tracing::warn!(
                recording = format.name(),
                chunk = chunk.format().name(),
                "recording skips audio in another format"
            );
            self.skipped_format = Some(chunk.format());
        }
        None
    }
}

/// Records the call's audio: caller frames ([`CallEvent::Audio`]), agent audio played to
/// the caller ([`CallCommand::Play`]) and clears ([`CallCommand::Clear`]).
impl BridgeObserver for CallRecorder {
    fn observe(&mut self, seen: Observed<'_>) {
        match seen {
            Observed::CallEvent(CallEvent::Audio(chunk)) => self.caller(chunk),
            Observed::CallCommand(CallCommand::Play { chunk, .. }) => self.agent(chunk),
            Observed::CallCommand(CallCommand::Clear) => self.clear(),
            _ => {}
        }
    }
}

/// Bytes of `format` in `duration`, rounded down to whole samples.
fn bytes_for(format: AudioFormat, duration: Duration) -> usize {
    let bytes = u128::from(format.bytes_per_second()) * duration.as_millis() / 1000;
    let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
    let width = format.bytes_per_sample() as usize;
    bytes / width * width
}

/// One sample of silence in `format`.
fn silence(format: AudioFormat) -> [u8; 2] {
    match format {
        AudioFormat::MuLaw => [0xFF, 0xFF],
        AudioFormat::ALaw => [0xD5, 0xD5],
        AudioFormat::Pcm16 { .. } => [0, 0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::AudioSource;

    fn chunk(format: AudioFormat, byte: u8, len: usize) -> AudioChunk {
        AudioChunk::from_bytes(format, vec![byte; len]).unwrap()
    }

    fn mulaw(byte: u8, len: usize) -> AudioChunk {
        chunk(AudioFormat::MuLaw, byte, len)
    }

    fn channels(recorder: &CallRecorder) -> (Vec<u8>, Vec<u8>) {
        recorder
            .interleaved()
            .chunks(2)
            .map(|pair| (pair[0], pair[1]))
            .unzip()
    }

    #[test]
    fn agent_audio_plays_on_the_callers_clock_and_clear_drops_it() {
        let mut recorder = CallRecorder::new();
        recorder.agent(&mulaw(0x20, 240)); // 30 ms queued at once
        recorder.caller(&mulaw(0x10, 160)); // 20 ms: plays 20 ms of it
        recorder.clear(); // barge-in: the other 10 ms are dropped
        recorder.caller(&mulaw(0x11, 160));
        assert_eq!(recorder.duration(), Duration::from_millis(40));
        let (left, right) = channels(&recorder);
        assert!(left[..160].iter().all(|&b| b == 0x10));
        assert!(left[160..].iter().all(|&b| b == 0x11));
        assert!(right[..160].iter().all(|&b| b == 0x20));
        assert!(right[160..].iter().all(|&b| b == 0xFF), "mu-law silence");
    }

    #[test]
    fn agent_audio_waits_for_the_caller_and_keeps_its_order() {
        let mut recorder = CallRecorder::new();
        recorder.caller(&mulaw(0x10, 80)); // nothing queued yet: silence
        recorder.agent(&mulaw(0x21, 80));
        recorder.agent(&mulaw(0x22, 80));
        recorder.caller(&mulaw(0x10, 120));
        recorder.caller(&mulaw(0x10, 80));
        let (_, right) = channels(&recorder);
        assert!(right[..80].iter().all(|&b| b == 0xFF));
        assert!(right[80..160].iter().all(|&b| b == 0x21));
        assert!(right[160..240].iter().all(|&b| b == 0x22));
        assert!(right[240..].iter().all(|&b| b == 0xFF));
    }

    #[test]
    fn memory_is_bounded_by_both_limits() {
        let mut recorder = CallRecorder::new()
            .with_max_duration(Duration::from_millis(100))
            .with_max_queued(Duration::from_millis(30));
        recorder.agent(&mulaw(0x20, 8000)); // 1 s sent: only 30 ms kept
        for _ in 0..10 {
            recorder.caller(&mulaw(0x10, 160)); // 200 ms of caller audio
        }
        assert_eq!(recorder.duration(), Duration::from_millis(100));
        assert_eq!(recorder.interleaved().len(), 2 * 800);
        assert!(recorder.cut_short());
        let (_, right) = channels(&recorder);
        assert_eq!(right.iter().filter(|&&b| b == 0x20).count(), 240);
    }

    #[test]
    fn the_format_is_the_first_chunks_and_others_are_skipped() {
        let mut recorder = CallRecorder::new();
        recorder.caller(&chunk(AudioFormat::ALaw, 0x10, 80));
        recorder.agent(&mulaw(0x20, 80)); // skipped
        recorder.caller(&chunk(AudioFormat::ALaw, 0x10, 80));
        assert_eq!(recorder.format(), Some(AudioFormat::ALaw));
        let (_, right) = channels(&recorder);
        assert!(
            right.iter().all(|&b| b == 0xD5),
            "A-law silence, mu-law skipped"
        );

        // PCM16: samples of two bytes stay whole.
        let mut pcm = CallRecorder::new();
        let samples: Vec<i16> = (0..80).collect();
        pcm.agent(&AudioChunk::from_pcm16(
            crate::audio::SampleRate::Hz8000,
            &samples,
        ));
        pcm.caller(&AudioChunk::from_pcm16(
            crate::audio::SampleRate::Hz8000,
            &[7; 160],
        ));
        assert_eq!(pcm.duration(), Duration::from_millis(20));
        let frames: Vec<(i16, i16)> = pcm
            .interleaved()
            .chunks(4)
            .map(|f| {
                (
                    i16::from_le_bytes([f[0], f[1]]),
                    i16::from_le_bytes([f[2], f[3]]),
                )
            })
            .collect();
        assert_eq!(frames[5], (7, 5));
        assert_eq!(frames[100], (7, 0));
    }

    #[test]
    fn the_wav_is_stereo_in_the_calls_format() {
        let mut recorder = CallRecorder::new();
        recorder.caller(&mulaw(0x10, 160));
        let bytes = recorder
            .write_wav(io::Cursor::new(Vec::new()))
            .unwrap()
            .into_inner();
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..12], b"WAVE");
        assert_eq!(u16::from_le_bytes([bytes[20], bytes[21]]), 7); // mu-law
        assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 2); // stereo
        assert!(bytes.ends_with(recorder.interleaved()));

        let path = std::env::temp_dir().join(format!("vb-recording-{}.wav", std::process::id()));
        recorder.write_wav_file(&path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn as_an_observer_it_records_what_passes_the_bridge() {
        let mut recorder = CallRecorder::new();
        recorder.observe(Observed::CallCommand(&CallCommand::Play {
            chunk: mulaw(0x20, 160),
            source: AudioSource::Fallback,
        }));
        recorder.observe(Observed::CallEvent(&CallEvent::Audio(mulaw(0x10, 80))));
        recorder.observe(Observed::CallCommand(&CallCommand::Clear));
        recorder.observe(Observed::CallEvent(&CallEvent::Audio(mulaw(0x10, 80))));
        let (_, right) = channels(&recorder);
        assert_eq!(right.iter().filter(|&&b| b == 0x20).count(), 80);
    }

    #[tokio::test(start_paused = true)]
    async fn lent_to_a_bridge_it_records_the_call_on_the_callers_clock() {
        use crate::{
            AgentAudio, AgentEvent, AgentReady, Bridge, CallStart, ItemId, LegEnd, memory,
        };

        let (call, mut phone) = memory::call_leg(256);
        let (agent, model) = memory::agent_leg(256);
        let mut recorder = CallRecorder::new();
        let g711 = AudioFormat::MuLaw;
        let script = async move {
            phone
                .send(CallEvent::Started(CallStart::new("CA1", "MZ1", g711)))
                .await
                .unwrap();
            let ready = AgentReady::new(g711, g711);
            model.send(AgentEvent::Ready(ready)).await.unwrap();
            model.send(AgentEvent::ResponseStarted(None)).await.unwrap();
            // 100 ms of the agent at once, then five caller frames on the 20 ms clock. The
            // two legs race: the bridge may take this audio before the call's start, and
            // holds it until the call has started, so every order records the same call.
            let audio = AgentAudio {
                item_id: ItemId::new("item_1"),
                content_index: 0,
                chunk: mulaw(0x20, 800),
            };
            model.send(AgentEvent::Audio(audio)).await.unwrap();
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                phone
                    .send(CallEvent::Audio(mulaw(0x10, 160)))
                    .await
                    .unwrap();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            phone
                .send(CallEvent::Ended(LegEnd::Finished))
                .await
                .unwrap();
            // Keep both peers until the bridge has finished with them.
            while phone.recv().await.is_some() {}
            drop(model);
        };
        let bridge = Bridge::new(call, agent).with_observer(&mut recorder).run();
        let (report, ()) = tokio::join!(bridge, script);
        drop(report);

        assert_eq!(recorder.duration(), Duration::from_millis(100));
        let (left, right) = channels(&recorder);
        assert!(left.iter().all(|&b| b == 0x10));
        // The agent's audio was played out on the caller's frames, as it was sent.
        assert_eq!(right.iter().filter(|&&b| b == 0x20).count(), 800);
    }
}
