//! [`Extra`]: the fields of a wire object that the models do not name, kept for the way back.

use std::fmt;
use std::ops::{Deref, DerefMut};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

/// The members of a JSON object that this version's model does not name, kept as received and
/// written back on encode, so that `encode(decode(frame))` equals `frame` as a JSON value
/// (a proxy, a recorder and a logger rely on it).
///
/// Every Live and Realtime struct carries one, flattened into its own object. `KEEP_TYPE` says what
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
///
/// An empty `Extra` (the usual case) is one null pointer: no allocation, and the events of
/// the per-frame path stay small; the map is allocated when the first member is kept.
#[derive(Clone, Default)]
pub struct Extra<const KEEP_TYPE: bool = false>(Option<Box<Map<String, Value>>>);

/// The map an empty `Extra` reads as.
fn empty() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

impl<const KEEP_TYPE: bool> Extra<KEEP_TYPE> {
    /// No extra members.
    pub fn new() -> Self {
        Self(None)
    }

    /// Whether there are no extra members (without reaching for a map: the per-frame fast
    /// paths ask this of every event they write).
    pub fn is_empty(&self) -> bool {
        self.0.as_ref().is_none_or(|map| map.is_empty())
    }

    /// The members as a JSON map.
    pub fn into_inner(self) -> Map<String, Value> {
        self.0.map(|map| *map).unwrap_or_default()
    }
}

impl<const KEEP_TYPE: bool> fmt::Debug for Extra<KEEP_TYPE> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Extra").field(&**self).finish()
    }
}

impl<const KEEP_TYPE: bool> PartialEq for Extra<KEEP_TYPE> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<const KEEP_TYPE: bool> Eq for Extra<KEEP_TYPE> {}

impl<const KEEP_TYPE: bool> Serialize for Extra<KEEP_TYPE> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if NAMED_ONLY.get() {
            return empty().serialize(serializer);
        }
        (**self).serialize(serializer)
    }
}

std::thread_local! {
    /// Set while [`named_only`] runs: every `Extra` serializes as empty.
    static NAMED_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f` with every [`Extra`] written as empty: an encoding inside shows only what this
/// version's models name. The strict decoder compares that with the frame to find the first
/// member the service would refuse as unknown; a test can use it to find what a version
/// does not model yet.
///
/// ```
/// use openai_realtime::{Dialect, ServerEvent, named_only};
///
/// let frame = r#"{"type":"input_audio_buffer.cleared","event_id":"e1","new_field":1}"#;
/// let event = ServerEvent::decode(frame, Dialect::Ga)?;
/// assert!(event.encode(Dialect::Ga).contains("new_field"));
/// let named = named_only(|| event.encode(Dialect::Ga));
/// assert_eq!(named, r#"{"type":"input_audio_buffer.cleared","event_id":"e1"}"#);
/// # Ok::<(), openai_realtime::DecodeError>(())
/// ```
pub fn named_only<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            NAMED_ONLY.set(self.0);
        }
    }
    let _restore = Restore(NAMED_ONLY.replace(true));
    f()
}

impl<const KEEP_TYPE: bool> Deref for Extra<KEEP_TYPE> {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Self::Target {
        self.0.as_deref().unwrap_or_else(|| empty())
    }
}

impl<const KEEP_TYPE: bool> DerefMut for Extra<KEEP_TYPE> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.0.get_or_insert_with(Box::default)
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
        Self((!map.is_empty()).then(|| Box::new(map)))
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
                Ok(Extra((!members.is_empty()).then(|| Box::new(members))))
            }
        }
        deserializer.deserialize_map(Visitor::<KEEP_TYPE>)
    }
}
