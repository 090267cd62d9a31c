//! [`Extra`]: the fields of a wire object that the models do not name, kept for the way back.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The members of a JSON object that this version's model does not name, kept as received and
/// written back on encode, so that `encode(decode(frame))` equals `frame` as a JSON value
/// (a proxy, a recorder and a logger rely on it).
///
/// Every Live struct carries one, flattened into its own object. A `type` member is never
/// kept here: on each struct that has an `Extra`, `type` is either a named field or the tag
/// written by the enclosing event or union.
///
/// # Examples
///
/// ```
/// use openai_realtime::live::ServerEvent;
///
/// let frame = r#"{"type":"session.output_audio.delta","delta":"//8=","sequence":7}"#;
/// let ServerEvent::OutputAudioDelta(audio) = ServerEvent::decode(frame)? else {
///     panic!("an audio delta");
/// };
/// assert_eq!(audio.extra["sequence"], 7);
/// let back: serde_json::Value = serde_json::from_str(&ServerEvent::from(audio).encode()).unwrap();
/// assert_eq!(back["sequence"], 7);
/// # Ok::<(), openai_realtime::DecodeError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Extra(Map<String, Value>);

impl Extra {
    /// No extra members.
    pub fn new() -> Self {
        Self::default()
    }

    /// The members as a JSON map.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

impl Deref for Extra {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for Extra {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<Map<String, Value>> for Extra {
    fn from(map: Map<String, Value>) -> Self {
        let mut map = map;
        map.remove("type");
        Self(map)
    }
}

impl<'de> Deserialize<'de> for Extra {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Extra;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the members of a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut members = Map::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value = map.next_value::<Value>()?;
                    // The tag belongs to the enclosing event or union, which writes it.
                    if key != "type" {
                        members.insert(key, value);
                    }
                }
                Ok(Extra(members))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}
