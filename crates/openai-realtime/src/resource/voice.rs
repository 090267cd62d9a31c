//! The output voice: a named built-in voice or a custom voice id.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::open_enum::UnknownValue;

/// The voice the model speaks with.
///
/// GA accepts a built-in name or a custom voice object `{"id":"voice_…"}`; the beta dialect
/// only names. `marin` and `cedar` are the recommended voices. The voice cannot change once the
/// model has produced audio in the session.
///
/// # Forward compatibility
///
/// A name this version does not know decodes to `Unknown` and is written back as received.
/// Use `as_str()` to read it; do not match on it.
///
/// # Examples
///
/// ```
/// use openai_realtime::Voice;
///
/// assert_eq!(Voice::from("marin"), Voice::Marin);
/// assert_eq!(Voice::from("a-new-voice").as_str(), "a-new-voice");
/// assert_eq!(serde_json::to_string(&Voice::custom("voice_1")).unwrap(), r#"{"id":"voice_1"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Voice {
    /// `alloy`
    Alloy,
    /// `ash`
    Ash,
    /// `ballad`
    Ballad,
    /// `coral`
    Coral,
    /// `echo`
    Echo,
    /// `sage`
    Sage,
    /// `shimmer`
    Shimmer,
    /// `verse`
    Verse,
    /// `marin` (recommended)
    Marin,
    /// `cedar` (recommended)
    Cedar,
    /// A custom voice, written `{"id": "voice_…"}` (GA only).
    Custom {
        /// The custom voice id.
        id: String,
    },
    /// A name this version does not know, kept as received.
    Unknown(UnknownValue),
}

const NAMED: &[(Voice, &str)] = &[
    (Voice::Alloy, "alloy"),
    (Voice::Ash, "ash"),
    (Voice::Ballad, "ballad"),
    (Voice::Coral, "coral"),
    (Voice::Echo, "echo"),
    (Voice::Sage, "sage"),
    (Voice::Shimmer, "shimmer"),
    (Voice::Verse, "verse"),
    (Voice::Marin, "marin"),
    (Voice::Cedar, "cedar"),
];

impl Voice {
    /// A custom voice by id.
    pub fn custom(id: impl Into<String>) -> Self {
        Self::Custom { id: id.into() }
    }

    /// The voice name, or the custom voice's id.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Custom { id } => id,
            Self::Unknown(value) => value.as_str(),
            named => NAMED
                .iter()
                .find(|(voice, _)| voice == named)
                .map_or("", |(_, name)| name),
        }
    }

    /// Every built-in voice this version knows.
    pub fn known() -> impl Iterator<Item = Voice> {
        NAMED.iter().map(|(voice, _)| voice.clone())
    }

    /// Whether this is a name this version does not know.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }
}

impl From<&str> for Voice {
    fn from(name: &str) -> Self {
        NAMED.iter().find(|(_, known)| *known == name).map_or_else(
            || Self::Unknown(UnknownValue(name.to_owned())),
            |(voice, _)| voice.clone(),
        )
    }
}

impl std::fmt::Display for Voice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Voice {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Custom { id } => {
                use serde::ser::SerializeMap;
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("id", id)?;
                map.end()
            }
            other => serializer.serialize_str(other.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for Voice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(deserializer)? {
            Value::String(name) => Ok(Self::from(name.as_str())),
            Value::Object(map) => match map.get("id") {
                Some(Value::String(id)) => Ok(Self::Custom { id: id.clone() }),
                _ => Err(D::Error::custom("a custom voice needs a string `id`")),
            },
            other => Err(D::Error::custom(format_args!(
                "expected a voice name or {{\"id\": …}}, got {other}"
            ))),
        }
    }
}
