//! G.711 mu-law and A-law, both ways.
//!
//! Encoding follows the ITU-T G.711 segment tables (mu-law works on the top 14 bits of a
//! 16-bit sample with a bias of 33, A-law on the top 13 bits); decoding returns the
//! reconstruction value in the middle of each quantization step, scaled to 16 bits.
//! Decoding is a table lookup; the tables are built at compile time.

/// The mu-law code of digital silence (`0xFF`, base64 `////`).
pub const MULAW_SILENCE: u8 = 0xFF;
/// The A-law code nearest to zero (`0xD5`).
pub const ALAW_SILENCE: u8 = 0xD5;

const MULAW_BIAS: i32 = 0x21; // 33, on 14-bit magnitudes
const MULAW_CLIP: i32 = 8159; // largest 14-bit magnitude before the bias

static MULAW_TABLE: [i16; 256] = build_mulaw_table();
static ALAW_TABLE: [i16; 256] = build_alaw_table();

/// Decodes one mu-law code to a 16-bit linear sample.
///
/// ```
/// use voice_bridge::audio::g711;
/// assert_eq!(g711::mulaw_to_linear(0xFF), 0);
/// assert_eq!(g711::mulaw_to_linear(0x80), 32124);
/// assert_eq!(g711::mulaw_to_linear(0x00), -32124);
/// ```
#[inline]
pub fn mulaw_to_linear(code: u8) -> i16 {
    MULAW_TABLE[code as usize]
}

/// Decodes one A-law code to a 16-bit linear sample.
///
/// ```
/// use voice_bridge::audio::g711;
/// assert_eq!(g711::alaw_to_linear(0xD5), 8);
/// assert_eq!(g711::alaw_to_linear(0xAA), 32256);
/// ```
#[inline]
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TABLE[code as usize]
}

/// Encodes one 16-bit linear sample as mu-law.
#[inline]
pub fn linear_to_mulaw(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 2;
    let mask: u8 = if value < 0 {
        value = -value;
        0x7F
    } else {
        0xFF
    };
    value = value.min(MULAW_CLIP) + MULAW_BIAS;
    if value > 0x1FFF {
        return 0x7F ^ mask;
    }
    // Segment = position of the highest set bit above bit 5 (0x3F is segment 0's end).
    let segment = (31 - (value as u32 | 0x3F).leading_zeros()) - 5;
    let mantissa = ((value >> (segment + 1)) & 0x0F) as u8;
    ((segment as u8) << 4 | mantissa) ^ mask
}

/// Encodes one 16-bit linear sample as A-law.
#[inline]
pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut value = i32::from(sample) >> 3;
    let mask: u8 = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    if value > 0x0FFF {
        return 0x7F ^ mask;
    }
    // Segment = position of the highest set bit above bit 4 (0x1F is segment 0's end).
    let segment = (31 - (value as u32 | 0x1F).leading_zeros()) - 4;
    let shift = if segment < 2 { 1 } else { segment };
    let mantissa = ((value >> shift) & 0x0F) as u8;
    ((segment as u8) << 4 | mantissa) ^ mask
}

/// Decodes mu-law bytes, appending samples to `out`.
pub fn decode_mulaw(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| mulaw_to_linear(c)));
}

/// Decodes A-law bytes, appending samples to `out`.
pub fn decode_alaw(codes: &[u8], out: &mut Vec<i16>) {
    out.extend(codes.iter().map(|&c| alaw_to_linear(c)));
}

/// Encodes samples as mu-law, appending bytes to `out`.
pub fn encode_mulaw(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| linear_to_mulaw(s)));
}

/// Encodes samples as A-law, appending bytes to `out`.
pub fn encode_alaw(samples: &[i16], out: &mut Vec<u8>) {
    out.extend(samples.iter().map(|&s| linear_to_alaw(s)));
}

const fn build_mulaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let u = !(code as u8);
        let mut t = (((u & 0x0F) as i32) << 3) + 0x84;
        t <<= ((u & 0x70) >> 4) as i32;
        table[code] = if u & 0x80 != 0 {
            (0x84 - t) as i16
        } else {
            (t - 0x84) as i16
        };
        code += 1;
    }
    table
}

const fn build_alaw_table() -> [i16; 256] {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        let a = (code as u8) ^ 0x55;
        let mut t = ((a & 0x0F) as i32) << 4;
        let segment = ((a & 0x70) >> 4) as i32;
        t = match segment {
            0 => t + 8,
            1 => t + 0x108,
            _ => (t + 0x108) << (segment - 1),
        };
        table[code] = if a & 0x80 != 0 { t as i16 } else { -t as i16 };
        code += 1;
    }
    table
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Code/linear pairs from the G.711 tables (decoder outputs scaled to 16 bits, as in
    /// the ITU-T reference implementation's `ulaw2linear`/`alaw2linear`).
    const MULAW_PAIRS: &[(u8, i16)] = &[
        (0x00, -32124),
        (0x0F, -16764),
        (0x10, -15996),
        (0x70, -120),
        (0x7E, -8),
        (0x7F, 0),
        (0x80, 32124),
        (0x8F, 16764),
        (0xEF, 132),
        (0xF0, 120),
        (0xFE, 8),
        (0xFF, 0),
    ];
    const ALAW_PAIRS: &[(u8, i16)] = &[
        (0x55, -8),
        (0xD5, 8),
        (0x2A, -32256),
        (0xAA, 32256),
        (0x54, -24),
        (0xD4, 24),
        (0x45, -264),
        (0xC5, 264),
        (0x5A, -248),
        (0xDA, 248),
    ];

    #[test]
    fn mulaw_decodes_to_reference_values() {
        for &(code, linear) in MULAW_PAIRS {
            assert_eq!(mulaw_to_linear(code), linear, "code {code:#04x}");
        }
    }

    #[test]
    fn alaw_decodes_to_reference_values() {
        for &(code, linear) in ALAW_PAIRS {
            assert_eq!(alaw_to_linear(code), linear, "code {code:#04x}");
        }
    }

    #[test]
    fn mulaw_encodes_reference_values() {
        assert_eq!(linear_to_mulaw(0), 0xFF);
        assert_eq!(linear_to_mulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_mulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_mulaw(8), 0xFE);
        assert_eq!(linear_to_mulaw(-8), 0x7E);
        assert_eq!(linear_to_mulaw(1000), 0xCE);
        assert_eq!(linear_to_mulaw(-1000), 0x4E);
    }

    #[test]
    fn alaw_encodes_reference_values() {
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xAA);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2A);
        assert_eq!(linear_to_alaw(1000), 0xFA);
        assert_eq!(linear_to_alaw(-1000), 0x7A);
    }

    #[test]
    fn every_mulaw_code_is_a_fixed_point() {
        for code in 0..=255u8 {
            let linear = mulaw_to_linear(code);
            assert_eq!(
                mulaw_to_linear(linear_to_mulaw(linear)),
                linear,
                "{code:#04x}"
            );
            // Only negative zero (0x7F) re-encodes to another code (positive zero).
            if code != 0x7F {
                assert_eq!(linear_to_mulaw(linear), code);
            }
        }
    }

    #[test]
    fn every_alaw_code_is_a_fixed_point() {
        for code in 0..=255u8 {
            let linear = alaw_to_linear(code);
            assert_eq!(linear_to_alaw(linear), code, "{code:#04x}");
        }
    }

    #[test]
    fn decoding_is_monotonic_in_the_magnitude_code() {
        // Within each sign half, the code order is the reverse (mu-law) of magnitude.
        for code in 0x80..0xFFu8 {
            assert!(mulaw_to_linear(code) > mulaw_to_linear(code + 1));
        }
        for code in 0..0x7Fu8 {
            assert!(mulaw_to_linear(code) < mulaw_to_linear(code + 1));
        }
    }

    #[test]
    fn encoding_error_is_within_one_step() {
        // The quantization error is at most half a step of the segment, which is at most
        // 1024 (mu-law top segment) or 1024 (A-law top segment).
        for sample in i16::MIN..=i16::MAX {
            let mu = mulaw_to_linear(linear_to_mulaw(sample));
            let a = alaw_to_linear(linear_to_alaw(sample));
            let step = |x: i16| {
                if x.unsigned_abs() < 256 {
                    16
                } else {
                    x.unsigned_abs() / 16 + 8
                }
            };
            assert!(
                (i32::from(mu) - i32::from(sample)).unsigned_abs() <= u32::from(step(sample)) + 4,
                "mu {sample} -> {mu}"
            );
            assert!(
                (i32::from(a) - i32::from(sample)).unsigned_abs() <= u32::from(step(sample)) + 4,
                "a {sample} -> {a}"
            );
        }
    }
}
