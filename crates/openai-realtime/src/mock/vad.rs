//! Server VAD: an energy detector over the caller's audio, with the session's threshold,
//! prefix padding and silence duration. Sans-IO: bytes in, events out.

use super::audio::Format;

/// The server_vad parameters the mock honours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct VadParams {
    /// 0..1; speech when a 10 ms frame's RMS exceeds `-50 + 50 * threshold` dBFS
    /// (-25 dBFS at the default 0.5, so a quarter-scale tone at -15 dBFS is speech).
    pub(crate) threshold: f64,
    pub(crate) prefix_padding_ms: u64,
    pub(crate) silence_duration_ms: u64,
}

impl Default for VadParams {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 200,
        }
    }
}

/// What the detector saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VadEvent {
    /// Speech began; `audio_start_ms` includes the prefix padding.
    SpeechStarted { audio_start_ms: u64 },
    /// The silence lasted `silence_duration_ms`; `audio_end_ms` is where speech ended.
    SpeechStopped { audio_end_ms: u64 },
}

const FRAME_MS: u64 = 10;

/// Energy VAD state over the session's input audio timeline.
#[derive(Debug)]
pub(crate) struct Vad {
    params: VadParams,
    /// Milliseconds of input audio processed since the session started.
    position_ms: u64,
    /// Where the current buffer starts (after the last commit or clear).
    buffer_start_ms: u64,
    pending: Vec<u8>,
    speaking: bool,
    /// End of the last voiced frame while speaking.
    last_voice_end_ms: u64,
}

impl Vad {
    pub(crate) fn new(params: VadParams) -> Self {
        Self {
            params,
            position_ms: 0,
            buffer_start_ms: 0,
            pending: Vec::new(),
            speaking: false,
            last_voice_end_ms: 0,
        }
    }

    pub(crate) fn set_params(&mut self, params: VadParams) {
        self.params = params;
    }

    /// Forgets buffered audio (commit, clear): the next speech starts no earlier than now.
    pub(crate) fn reset_buffer(&mut self) {
        self.buffer_start_ms = self.position_ms;
        self.speaking = false;
    }

    /// Feeds appended audio; returns what was detected, in order.
    pub(crate) fn push(&mut self, format: Format, bytes: &[u8]) -> Vec<VadEvent> {
        let frame_bytes = format.bytes_per_ms() * FRAME_MS as usize;
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let level_dbfs = -50.0 + 50.0 * self.params.threshold.clamp(0.0, 1.0);
        let level = 10f64.powf(level_dbfs / 20.0) * 32768.0;
        let mut offset = 0;
        while self.pending.len() - offset >= frame_bytes {
            let frame = &self.pending[offset..offset + frame_bytes];
            offset += frame_bytes;
            let (sum, n) = format.samples(frame).fold((0.0f64, 0usize), |(s, n), x| {
                (s + f64::from(x) * f64::from(x), n + 1)
            });
            let rms = (sum / n.max(1) as f64).sqrt();
            let start = self.position_ms;
            self.position_ms += FRAME_MS;
            let voiced = rms > level;
            if voiced {
                if !self.speaking {
                    self.speaking = true;
                    let audio_start_ms = start
                        .saturating_sub(self.params.prefix_padding_ms)
                        .max(self.buffer_start_ms);
                    events.push(VadEvent::SpeechStarted { audio_start_ms });
                }
                self.last_voice_end_ms = self.position_ms;
            } else if self.speaking
                && self.position_ms - self.last_voice_end_ms >= self.params.silence_duration_ms
            {
                self.speaking = false;
                events.push(VadEvent::SpeechStopped {
                    audio_end_ms: self.last_voice_end_ms,
                });
            }
        }
        self.pending.drain(..offset);
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tone_between_silences_is_one_turn() {
        let mut vad = Vad::new(VadParams {
            threshold: 0.5,
            prefix_padding_ms: 300,
            silence_duration_ms: 500,
        });
        let f = Format::Pcmu;
        assert!(vad.push(f, &f.silence(1000)).is_empty());
        let started = vad.push(f, &f.tone(440.0, 800));
        assert_eq!(
            started,
            vec![VadEvent::SpeechStarted {
                audio_start_ms: 700
            }]
        );
        assert!(
            vad.push(f, &f.silence(400)).is_empty(),
            "400 ms < silence duration"
        );
        let stopped = vad.push(f, &f.silence(200));
        assert_eq!(
            stopped,
            vec![VadEvent::SpeechStopped { audio_end_ms: 1800 }]
        );
    }

    #[test]
    fn audio_split_at_odd_sizes_gives_the_same_events() {
        let f = Format::Pcm16;
        let mut audio = f.silence(100);
        audio.extend(f.tone(300.0, 300));
        audio.extend(f.silence(300));
        let mut vad = Vad::new(VadParams::default());
        let mut events = Vec::new();
        for chunk in audio.chunks(333) {
            events.extend(vad.push(f, chunk));
        }
        assert_eq!(
            events,
            vec![
                VadEvent::SpeechStarted { audio_start_ms: 0 },
                VadEvent::SpeechStopped { audio_end_ms: 400 }
            ]
        );
    }

    #[test]
    fn higher_threshold_ignores_quiet_audio() {
        let f = Format::Pcma;
        let mut vad = Vad::new(VadParams {
            threshold: 0.95,
            ..VadParams::default()
        });
        assert!(vad.push(f, &f.tone(440.0, 500)).is_empty());
    }
}
