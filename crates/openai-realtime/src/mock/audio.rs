//! Audio the mock hears and speaks: the three wire formats, G.711 companding, tones.

/// The audio formats of a session, in the mock's own small terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// 16-bit little-endian mono PCM at 24 kHz (`audio/pcm`, beta `pcm16`).
    Pcm16,
    /// G.711 mu-law at 8 kHz (`audio/pcmu`, beta `g711_ulaw`).
    Pcmu,
    /// G.711 A-law at 8 kHz (`audio/pcma`, beta `g711_alaw`).
    Pcma,
}

impl Format {
    /// Reads a GA format object (`{"type":"audio/pcmu"}`).
    pub(crate) fn from_ga(value: &serde_json::Value) -> Option<Self> {
        match value.get("type")?.as_str()? {
            "audio/pcm" => Some(Self::Pcm16),
            "audio/pcmu" => Some(Self::Pcmu),
            "audio/pcma" => Some(Self::Pcma),
            _ => None,
        }
    }

    /// Bytes of audio per millisecond.
    pub(crate) fn bytes_per_ms(self) -> usize {
        match self {
            Self::Pcm16 => 48,
            Self::Pcmu | Self::Pcma => 8,
        }
    }

    pub(crate) fn sample_rate(self) -> u32 {
        match self {
            Self::Pcm16 => 24_000,
            Self::Pcmu | Self::Pcma => 8_000,
        }
    }

    /// Milliseconds of audio in `bytes` bytes, as a fraction.
    pub(crate) fn ms_of(self, bytes: usize) -> f64 {
        bytes as f64 / self.bytes_per_ms() as f64
    }

    /// Decodes bytes into linear samples.
    pub(crate) fn samples(self, bytes: &[u8]) -> impl Iterator<Item = i16> + '_ {
        let step = if self == Self::Pcm16 { 2 } else { 1 };
        bytes.chunks_exact(step).map(move |c| match self {
            Self::Pcm16 => i16::from_le_bytes([c[0], c[1]]),
            Self::Pcmu => ulaw_to_linear(c[0]),
            Self::Pcma => alaw_to_linear(c[0]),
        })
    }

    /// Encodes linear samples (at this format's rate) into bytes.
    pub(crate) fn encode(self, samples: impl Iterator<Item = i16>) -> Vec<u8> {
        let mut out = Vec::new();
        for s in samples {
            match self {
                Self::Pcm16 => out.extend_from_slice(&s.to_le_bytes()),
                Self::Pcmu => out.push(linear_to_ulaw(s)),
                Self::Pcma => out.push(linear_to_alaw(s)),
            }
        }
        out
    }

    /// `ms` milliseconds of a sine tone at `hz`, at a quarter of full scale.
    pub(crate) fn tone(self, hz: f64, ms: u32) -> Vec<u8> {
        let rate = f64::from(self.sample_rate());
        let n = (u64::from(self.sample_rate()) * u64::from(ms) / 1000) as usize;
        self.encode((0..n).map(|i| {
            let t = i as f64 / rate;
            ((t * hz * std::f64::consts::TAU).sin() * 8192.0) as i16
        }))
    }

    /// `ms` milliseconds of digital silence.
    pub(crate) fn silence(self, ms: u32) -> Vec<u8> {
        let n = (u64::from(self.sample_rate()) * u64::from(ms) / 1000) as usize;
        self.encode(std::iter::repeat_n(0, n))
    }
}

/// G.711 mu-law byte to 16-bit linear.
pub(crate) fn ulaw_to_linear(byte: u8) -> i16 {
    let u = !byte;
    let exponent = (u >> 4) & 0x07;
    let mantissa = i32::from(u & 0x0f);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    let value = if u & 0x80 != 0 { -magnitude } else { magnitude };
    value as i16
}

/// 16-bit linear to G.711 mu-law.
pub(crate) fn linear_to_ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut s = i32::from(sample);
    let sign = if s < 0 {
        s = -s;
        0x80
    } else {
        0
    };
    let s = s.min(CLIP) + BIAS;
    let exponent = (0..8).rev().find(|e| s & (0x80 << e) != 0).unwrap_or(0);
    let mantissa = (s >> (exponent + 3)) & 0x0f;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// G.711 A-law byte to 16-bit linear.
pub(crate) fn alaw_to_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let exponent = i32::from((a >> 4) & 0x07);
    let mantissa = i32::from(a & 0x0f);
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    let value = if a & 0x80 != 0 { magnitude } else { -magnitude };
    value as i16
}

/// 16-bit linear to G.711 A-law.
pub(crate) fn linear_to_alaw(sample: i16) -> u8 {
    let s = i32::from(sample);
    let (sign, magnitude) = if s >= 0 { (0x80, s) } else { (0x00, -s - 1) };
    let magnitude = magnitude.min(0x7fff);
    let byte = if magnitude < 256 {
        (magnitude >> 4) as u8
    } else {
        let exponent = (1..8)
            .rev()
            .find(|e| magnitude >= (0x100 << (e - 1)))
            .unwrap_or(1);
        ((exponent << 4) as u8) | ((magnitude >> (exponent + 3)) & 0x0f) as u8
    };
    (byte | sign) ^ 0x55
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_round_trips_every_byte() {
        for b in 0..=255u8 {
            let back = linear_to_ulaw(ulaw_to_linear(b));
            // 0x7f and 0xff both mean zero.
            assert_eq!(ulaw_to_linear(back), ulaw_to_linear(b), "byte {b:#x}");
        }
        assert_eq!(ulaw_to_linear(0xff), 0);
    }

    #[test]
    fn alaw_round_trips_every_byte() {
        for b in 0..=255u8 {
            assert_eq!(linear_to_alaw(alaw_to_linear(b)), b, "byte {b:#x}");
        }
    }

    #[test]
    fn tone_has_the_right_length_and_energy() {
        let tone = Format::Pcmu.tone(440.0, 100);
        assert_eq!(tone.len(), 800);
        let peak = Format::Pcmu
            .samples(&tone)
            .map(|s| s.unsigned_abs())
            .max()
            .unwrap();
        assert!((7000..=8500).contains(&peak), "peak {peak}");
        assert_eq!(Format::Pcm16.tone(440.0, 20).len(), 960);
        assert!(
            Format::Pcma
                .silence(20)
                .iter()
                .all(|&b| alaw_to_linear(b).abs() < 16)
        );
    }
}
