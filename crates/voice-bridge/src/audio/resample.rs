//! PCM16 resampling between 8 kHz and 16 or 24 kHz.
//!
//! A linear-phase FIR low-pass (windowed sinc, Blackman window, cutoff 3.6 kHz, 32 taps per
//! low-rate sample period) does both jobs: interpolation after zero-stuffing when going up,
//! anti-aliasing before decimation when going down. Upsampling runs the filter in polyphase
//! form, so zeros are never multiplied. The filter delays the signal by 16 samples at
//! 8 kHz (2 ms) each way; [`resample`] compensates for it, the streaming [`Resampler`]
//! does not (a live stream cannot see the future).

use super::{AudioError, AudioFormat, SampleRate};

/// Taps per period of the low rate; the filter has `TAPS_PER_PERIOD * ratio + 1` taps.
const TAPS_PER_PERIOD: usize = 32;
/// Low-pass cutoff in Hz, below the 4 kHz Nyquist frequency of 8 kHz audio.
const CUTOFF_HZ: f64 = 3600.0;
/// The filter's group delay in low-rate (8 kHz) samples.
const DELAY_LOW: usize = TAPS_PER_PERIOD / 2;

/// A streaming resampler for mono PCM16 between 8 kHz and 16 or 24 kHz.
///
/// Feed chunks of any size to [`Resampler::process`]; the filter state carries over, so
/// a stream cut into 20 ms frames sounds the same as one processed whole.
///
/// ```
/// use voice_bridge::audio::{Resampler, SampleRate};
/// let mut up = Resampler::new(SampleRate::Hz8000, SampleRate::Hz24000)?;
/// let mut out = Vec::new();
/// up.process(&[0i16; 160], &mut out);
/// assert_eq!(out.len(), 480);
/// # Ok::<(), voice_bridge::audio::AudioError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Resampler {
    mode: Mode,
    /// Up: one filter phase per output sample position, each aligned with the window.
    /// Down: the filter reversed, aligned with the window.
    phases: Vec<Vec<f32>>,
    /// History (window length - 1 samples) followed by the samples not yet consumed.
    buf: Vec<f32>,
    /// Down: the index in `buf` of the next output position.
    next: usize,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Same,
    Up(usize),
    Down(usize),
}

impl Resampler {
    /// A resampler from one rate to another.
    ///
    /// # Errors
    ///
    /// [`AudioError::Unsupported`] between 16 and 24 kHz (one side must be 8 kHz or the
    /// two rates equal).
    pub fn new(from: SampleRate, to: SampleRate) -> Result<Self, AudioError> {
        let (mode, ratio) = match (from, to) {
            _ if from == to => (Mode::Same, 1),
            (SampleRate::Hz8000, high) => {
                let ratio = (high.hz() / 8000) as usize;
                (Mode::Up(ratio), ratio)
            }
            (high, SampleRate::Hz8000) => {
                let ratio = (high.hz() / 8000) as usize;
                (Mode::Down(ratio), ratio)
            }
            _ => {
                return Err(AudioError::Unsupported {
                    from: AudioFormat::Pcm16 { rate: from },
                    to: AudioFormat::Pcm16 { rate: to },
                });
            }
        };
        let taps = low_pass(ratio);
        let (phases, history) = match mode {
            Mode::Same => (Vec::new(), 0),
            Mode::Up(l) => {
                // Output phase p at input i: sum over d of h[p + d*l] * x[i - d], gain l.
                let window = TAPS_PER_PERIOD + 1;
                let phases = (0..l)
                    .map(|p| {
                        (0..window)
                            .map(|j| {
                                let d = window - 1 - j;
                                taps.get(p + d * l).map_or(0.0, |&h| h * l as f32)
                            })
                            .collect()
                    })
                    .collect();
                (phases, window - 1)
            }
            Mode::Down(_) => {
                let reversed = taps.iter().rev().copied().collect();
                (vec![reversed], taps.len() - 1)
            }
        };
        Ok(Self {
            mode,
            phases,
            buf: vec![0.0; history],
            next: history,
        })
    }

    /// The number of output samples `input` samples give (exact for a stream that has
    /// been fed whole multiples of the down-sampling ratio).
    pub fn output_len(&self, input: usize) -> usize {
        match self.mode {
            Mode::Same => input,
            Mode::Up(l) => input * l,
            Mode::Down(m) => input / m,
        }
    }

    /// Resamples `input`, appending the output to `out`.
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) {
        match self.mode {
            Mode::Same => out.extend_from_slice(input),
            Mode::Up(_) => self.up(input, out),
            Mode::Down(m) => self.down(m, input, out),
        }
    }

    fn up(&mut self, input: &[i16], out: &mut Vec<i16>) {
        let history = self.buf.len();
        self.buf.extend(input.iter().map(|&s| f32::from(s)));
        let window = history + 1;
        out.reserve(input.len() * self.phases.len());
        for end in window..=self.buf.len() {
            let frame = &self.buf[end - window..end];
            for phase in &self.phases {
                out.push(to_i16(dot(phase, frame)));
            }
        }
        self.buf.drain(..self.buf.len() - history);
    }

    fn down(&mut self, ratio: usize, input: &[i16], out: &mut Vec<i16>) {
        let history = self.phases[0].len() - 1;
        self.buf.extend(input.iter().map(|&s| f32::from(s)));
        let taps = &self.phases[0];
        while self.next < self.buf.len() {
            let frame = &self.buf[self.next - history..=self.next];
            out.push(to_i16(dot(taps, frame)));
            self.next += ratio;
        }
        let consumed = self.buf.len() - history;
        self.buf.drain(..consumed);
        self.next -= consumed;
    }
}

/// Resamples a whole signal at once, compensating for the filter delay so the output is
/// aligned with the input and exactly `len * to / from` samples long.
///
/// # Errors
///
/// As [`Resampler::new`].
///
/// ```
/// use voice_bridge::audio::{resample, SampleRate};
/// let up = resample(&[1000i16; 80], SampleRate::Hz8000, SampleRate::Hz16000)?;
/// assert_eq!(up.len(), 160);
/// # Ok::<(), voice_bridge::audio::AudioError>(())
/// ```
pub fn resample(input: &[i16], from: SampleRate, to: SampleRate) -> Result<Vec<i16>, AudioError> {
    let mut resampler = Resampler::new(from, to)?;
    if from == to {
        return Ok(input.to_vec());
    }
    let expected = input.len() * to.hz() as usize / from.hz() as usize;
    let delay_out = DELAY_LOW * to.hz() as usize / 8000;
    let flush = DELAY_LOW * from.hz() as usize / 8000;
    let mut out = Vec::with_capacity(expected + delay_out);
    resampler.process(input, &mut out);
    resampler.process(&vec![0; flush], &mut out);
    out.drain(..delay_out.min(out.len()));
    out.truncate(expected);
    Ok(out)
}

/// A windowed-sinc low-pass at the high rate `8000 * ratio`, normalized to unit DC gain.
fn low_pass(ratio: usize) -> Vec<f32> {
    let len = TAPS_PER_PERIOD * ratio + 1;
    let fs = 8000.0 * ratio as f64;
    let fc = CUTOFF_HZ / fs; // cycles per sample
    let center = (len - 1) as f64 / 2.0;
    let mut taps: Vec<f64> = (0..len)
        .map(|k| {
            let x = k as f64 - center;
            let sinc = if x == 0.0 {
                2.0 * fc
            } else {
                (2.0 * std::f64::consts::PI * fc * x).sin() / (std::f64::consts::PI * x)
            };
            let w = 2.0 * std::f64::consts::PI * k as f64 / (len - 1) as f64;
            let blackman = 0.42 - 0.5 * w.cos() + 0.08 * (2.0 * w).cos();
            sinc * blackman
        })
        .collect();
    let sum: f64 = taps.iter().sum();
    for t in &mut taps {
        *t /= sum;
    }
    taps.into_iter().map(|t| t as f32).collect()
}

#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[inline]
fn to_i16(x: f32) -> i16 {
    // `as` saturates for floats, so out-of-range peaks clip instead of wrapping.
    x.round() as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(freq: f64, rate: u32, len: usize, amplitude: f64) -> Vec<i16> {
        (0..len)
            .map(|n| {
                (amplitude * (2.0 * std::f64::consts::PI * freq * n as f64 / f64::from(rate)).sin())
                    as i16
            })
            .collect()
    }

    /// Power of `signal` at `freq` (Goertzel), normalized by length.
    fn power_at(signal: &[i16], freq: f64, rate: u32) -> f64 {
        let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
        let coeff = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &x in signal {
            let s0 = f64::from(x) + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (signal.len() as f64).powi(2)
    }

    fn snr_db(reference: &[i16], test: &[i16]) -> f64 {
        let signal: f64 = reference.iter().map(|&x| f64::from(x).powi(2)).sum();
        let noise: f64 = reference
            .iter()
            .zip(test)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
            .sum();
        10.0 * (signal / noise.max(1e-9)).log10()
    }

    #[test]
    fn round_trips_through_the_high_rates_keep_the_signal() {
        // A mix of tones inside the telephone band.
        let input: Vec<i16> = tone(440.0, 8000, 8000, 6000.0)
            .iter()
            .zip(tone(1850.0, 8000, 8000, 4000.0))
            .zip(tone(3100.0, 8000, 8000, 2000.0))
            .map(|((&a, b), c)| a + b + c)
            .collect();
        for high in [SampleRate::Hz16000, SampleRate::Hz24000] {
            let up = resample(&input, SampleRate::Hz8000, high).unwrap();
            assert_eq!(up.len(), input.len() * (high.hz() / 8000) as usize);
            let back = resample(&up, high, SampleRate::Hz8000).unwrap();
            assert_eq!(back.len(), input.len());
            // Skip the edges, where the filter sees the zeros around the signal.
            let snr = snr_db(&input[100..7900], &back[100..7900]);
            assert!(snr > 30.0, "{high:?}: snr {snr:.1} dB");
        }
    }

    #[test]
    fn upsampling_preserves_a_tone_frequency() {
        let input = tone(1000.0, 8000, 1600, 10000.0);
        for high in [SampleRate::Hz16000, SampleRate::Hz24000] {
            let up = resample(&input, SampleRate::Hz8000, high).unwrap();
            let at_tone = power_at(&up, 1000.0, high.hz());
            // The image of a 1 kHz tone after zero-stuffing sits at 7 kHz; the filter
            // must remove it.
            let at_image = power_at(&up, 7000.0, high.hz());
            let at_other = power_at(&up, 1500.0, high.hz());
            assert!(at_tone > 1000.0 * at_image, "{high:?}: image not filtered");
            assert!(at_tone > 1000.0 * at_other, "{high:?}: tone smeared");
            // The amplitude survives (power of a sine of amplitude A is about A^2/4 here).
            let expected = 10000.0f64.powi(2) / 4.0;
            assert!(
                (at_tone / expected - 1.0).abs() < 0.05,
                "{high:?}: {at_tone}"
            );
        }
    }

    #[test]
    fn downsampling_filters_what_8k_cannot_carry() {
        // A 6 kHz tone at 24 kHz would alias to 2 kHz if samples were simply dropped.
        let input = tone(6000.0, 24000, 4800, 10000.0);
        let down = resample(&input, SampleRate::Hz24000, SampleRate::Hz8000).unwrap();
        let dropped: Vec<i16> = input.iter().step_by(3).copied().collect();
        let alias_kept = power_at(&down, 2000.0, 8000);
        let alias_dropped = power_at(&dropped, 2000.0, 8000);
        assert!(
            alias_dropped > 10_000.0 * alias_kept,
            "{alias_dropped} vs {alias_kept}"
        );
        // And a tone in the band passes at full strength.
        let pass = tone(1000.0, 24000, 4800, 10000.0);
        let down = resample(&pass, SampleRate::Hz24000, SampleRate::Hz8000).unwrap();
        let ratio = power_at(&down, 1000.0, 8000) / (10000.0f64.powi(2) / 4.0);
        assert!((ratio - 1.0).abs() < 0.05, "{ratio}");
    }

    #[test]
    fn streaming_in_frames_equals_processing_whole() {
        let input = tone(700.0, 24000, 2400, 8000.0);
        for (from, to) in [
            (SampleRate::Hz24000, SampleRate::Hz8000),
            (SampleRate::Hz16000, SampleRate::Hz8000),
            (SampleRate::Hz8000, SampleRate::Hz24000),
        ] {
            let mut whole = Vec::new();
            Resampler::new(from, to)
                .unwrap()
                .process(&input, &mut whole);
            let mut framed = Vec::new();
            let mut resampler = Resampler::new(from, to).unwrap();
            // Odd frame sizes, not multiples of the ratio, to exercise the carry-over.
            for frame in input.chunks(157) {
                resampler.process(frame, &mut framed);
            }
            assert_eq!(whole, framed, "{from:?} -> {to:?}");
        }
    }

    #[test]
    fn sixteen_to_twenty_four_is_unsupported() {
        assert!(matches!(
            Resampler::new(SampleRate::Hz16000, SampleRate::Hz24000),
            Err(AudioError::Unsupported { .. })
        ));
        assert_eq!(
            resample(&[1, 2, 3], SampleRate::Hz16000, SampleRate::Hz16000).unwrap(),
            [1, 2, 3]
        );
    }
}
