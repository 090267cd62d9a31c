//! [`Extra`]: the fields of a wire object that the models do not name, kept for the way back.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The members of a JSON object that this version's model does not name, kept as received and
/// written back on encode, so that `encode(decode(frame))` equals `frame` as a JSON value
/// (a proxy, a recorder and a logger rely on it).
///
/// Every Live struct carries one, flattened into its own object. `KEEP_TYPE` says what
/// becomes of a `type` member the struct does not name:
///
/// - `false` (the default), on the body of a tagged event or union (`session.start`, an
///   audio format, a delegation): that `type` is the tag, which the enclosing enum reads and
///   writes itself, so it is not kept here.
/// - `true`, on an object with no tag of its own (a session config, a usage, a Responses
///   backend): a `type` there is one more member this version does not name (a Realtime-style
///   `session.type`, say), kept and written back like any other.
///
/// # Examples
///
/// ```
/// use openai_realtime::live::{ClientEvent, ServerEvent};
///
/// let frame = r#"{"type":"session.output_audio.delta","delta":"//8=","sequence":7}"#;
/// let ServerEvent::OutputAudioDelta(audio) = ServerEvent::decode(frame)? else {
///     panic!("an audio delta");
/// };
/// assert_eq!(audio.extra["sequence"], 7);
/// let back: serde_json::Value = serde_json::from_str(&ServerEvent::from(audio).encode()).unwrap();
/// assert_eq!(back["sequence"], 7);
///
/// // A `type` the session config does not have is kept, not mistaken for a tag.
/// let start = r#"{"type":"session.start","session":{"type":"realtime","model":"gpt-live-1"}}"#;
/// let ClientEvent::SessionStart(start) = ClientEvent::decode(start)? else {
///     panic!("session.start");
/// };
/// assert_eq!(start.session.extra["type"], "realtime");
/// # Ok::<(), openai_realtime::DecodeError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Extra<const KEEP_TYPE: bool = false>(Map<String, Value>);

impl<const KEEP_TYPE: bool> Extra<KEEP_TYPE> {
    /// No extra members.
    pub fn new() -> Self {
        Self(Map::new())
    }

    /// The members as a JSON map.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0
    }
}

impl<const KEEP_TYPE: bool> Deref for Extra<KEEP_TYPE> {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<const KEEP_TYPE: bool> DerefMut for Extra<KEEP_TYPE> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<const KEEP_TYPE: bool> From<Map<String, Value>> for Extra<KEEP_TYPE> {
    /// The members of `map`; without `KEEP_TYPE`, less its `type` (the tag is the
    /// enclosing enum's to write).
    fn from(map: Map<String, Value>) -> Self {
        let mut map = map;
        if !KEEP_TYPE {
            map.remove("type");
        }
        Self(map)
    }
}

impl<'de, const KEEP_TYPE: bool> Deserialize<'de> for Extra<KEEP_TYPE> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<const KEEP_TYPE: bool>;
        impl<'de, const KEEP_TYPE: bool> serde::de::Visitor<'de> for Visitor<KEEP_TYPE> {
            type Value = Extra<KEEP_TYPE>;

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
                    // In a tagged body, the tag belongs to the enclosing event or union,
                    // which writes it.
                    if KEEP_TYPE || key != "type" {
                        members.insert(key, value);
                    }
                }
                Ok(Extra(members))
            }
        }
        deserializer.deserialize_map(Visitor::<KEEP_TYPE>)
    }
}
