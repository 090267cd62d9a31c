//! Audio formats: GA objects (`{"type":"audio/pcmu"}`), beta strings (`"g711_ulaw"`).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The format of input or output audio.
///
/// GA writes it as an object (`{"type":"audio/pcm","rate":24000}`, `{"type":"audio/pcmu"}`,
/// `{"type":"audio/pcma"}`); the beta dialect as a string (`pcm16`, `g711_ulaw`, `g711_alaw`).
///
/// | variant | GA | beta | rate | bytes per ms |
/// |---|---|---|---|---|
/// | `Pcm` | `audio/pcm` | `pcm16` | 24 kHz, 16-bit LE mono | 48 |
/// | `Pcmu` | `audio/pcmu` | `g711_ulaw` | 8 kHz G.711 mu-law | 8 |
/// | `Pcma` | `audio/pcma` | `g711_alaw` | 8 kHz G.711 A-law | 8 |
///
/// # Forward compatibility
///
/// A format this version does not know decodes to `Unknown` with the JSON as received, and is
/// written back unchanged.
///
/// # Examples
///
/// ```
/// use openai_realtime::AudioFormat;
///
/// assert_eq!(AudioFormat::Pcmu.bytes_per_ms(), Some(8));
/// assert_eq!(serde_json::to_string(&AudioFormat::Pcmu).unwrap(), r#"{"type":"audio/pcmu"}"#);
/// assert_eq!(AudioFormat::Pcmu.beta_name(), Some("g711_ulaw"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum AudioFormat {
    /// `audio/pcm`: 16-bit little-endian mono PCM. `rate` is 24000 (the only rate), or absent.
    Pcm {
        /// The sample rate; the service knows only 24000.
        rate: Option<u32>,
    },
    /// `audio/pcmu`: G.711 mu-law at 8 kHz, what Twilio streams.
    Pcmu,
    /// `audio/pcma`: G.711 A-law at 8 kHz.
    Pcma,
    /// A format this version does not know, kept as received (an object in GA, a string in
    /// beta).
    Unknown(Value),
}

impl AudioFormat {
    /// `{"type":"audio/pcm","rate":24000}`, the service's default.
    pub const PCM_24K: AudioFormat = AudioFormat::Pcm { rate: Some(24000) };

    /// The GA `type` string (`audio/pcmu`), or the raw one for `Unknown`.
    pub fn type_str(&self) -> Option<&str> {
        match self {
            Self::Pcm { .. } => Some("audio/pcm"),
            Self::Pcmu => Some("audio/pcmu"),
            Self::Pcma => Some("audio/pcma"),
            Self::Unknown(Value::String(text)) => Some(text),
            Self::Unknown(value) => value.get("type").and_then(Value::as_str),
        }
    }

    /// The beta string for this format (`g711_ulaw`); `None` for an unknown object format.
    pub fn beta_name(&self) -> Option<&str> {
        match self {
            Self::Pcm { .. } => Some("pcm16"),
            Self::Pcmu => Some("g711_ulaw"),
            Self::Pcma => Some("g711_alaw"),
            Self::Unknown(Value::String(text)) => Some(text),
            Self::Unknown(_) => None,
        }
    }

    /// Reads a beta format string (`g711_ulaw`); an unknown string becomes `Unknown`.
    pub fn from_beta_name(name: &str) -> Self {
        match name {
            "pcm16" => Self::PCM_24K,
            "g711_ulaw" => Self::Pcmu,
            "g711_alaw" => Self::Pcma,
            other => Self::Unknown(Value::String(other.to_owned())),
        }
    }

    /// Samples per second: 24000 for PCM, 8000 for G.711; `None` when unknown.
    pub fn sample_rate(&self) -> Option<u32> {
        match self {
            Self::Pcm { rate } => Some(rate.unwrap_or(24000)),
            Self::Pcmu | Self::Pcma => Some(8000),
            Self::Unknown(_) => None,
        }
    }

    /// Bytes of audio per millisecond (48 for 24 kHz PCM16, 8 for G.711), the unit of
    /// `audio_end_ms` arithmetic; `None` when unknown.
    pub fn bytes_per_ms(&self) -> Option<u32> {
        match self {
            Self::Pcm { rate } => Some(rate.unwrap_or(24000) / 1000 * 2),
            Self::Pcmu | Self::Pcma => Some(8),
            Self::Unknown(_) => None,
        }
    }

    /// Whether this is a format this version does not know.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }
}

impl Serialize for AudioFormat {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Unknown(value) => value.serialize(serializer),
            known => {
                let mut map = Map::new();
                map.insert(
                    "type".into(),
                    Value::from(known.type_str().unwrap_or_default()),
                );
                if let Self::Pcm { rate: Some(rate) } = known {
                    map.insert("rate".into(), Value::from(*rate));
                }
                map.serialize(serializer)
            }
        }
    }
}

impl<'de> Deserialize<'de> for AudioFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        match value.get("type").and_then(Value::as_str) {
            Some("audio/pcm") => {
                let rate = match value.get("rate") {
                    None | Some(Value::Null) => None,
                    Some(rate) => Some(
                        rate.as_u64()
                            .and_then(|r| u32::try_from(r).ok())
                            .ok_or_else(|| D::Error::custom("`rate` must be an integer"))?,
                    ),
                };
                Ok(Self::Pcm { rate })
            }
            Some("audio/pcmu") => Ok(Self::Pcmu),
            Some("audio/pcma") => Ok(Self::Pcma),
            _ => Ok(Self::Unknown(value)),
        }
    }
}
