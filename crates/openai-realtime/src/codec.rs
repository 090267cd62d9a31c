//! The decode/encode machinery shared by both event enums: read the `type` first, then
//! deserialize the one struct it names (the ruma rule, no untagged fallthrough), and name the
//! offending field when a known event has a bad body.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::error::{DecodeError, DecodeErrorKind};

/// The first pass over a frame: only the `type`, borrowed when it has no escapes. Only a JSON
/// object is accepted (a derived struct would also take an array).
struct Peek<'a> {
    event_type: Option<PeekType<'a>>,
    /// The object has more than one `type` key.
    duplicate: bool,
}

impl<'de: 'a, 'a> Deserialize<'de> for Peek<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = Peek<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut event_type = None;
                let mut duplicate = false;
                while let Some(IsType(is_type)) = map.next_key::<IsType>()? {
                    if is_type && event_type.is_none() {
                        event_type = Some(map.next_value::<PeekType<'a>>()?);
                    } else {
                        duplicate |= is_type;
                        map.next_value::<serde::de::IgnoredAny>()?;
                    }
                }
                Ok(Peek {
                    event_type,
                    duplicate,
                })
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

/// Whether an object key is `type`, read without allocating.
struct IsType(bool);

impl<'de> Deserialize<'de> for IsType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = IsType;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object key")
            }

            fn visit_str<E>(self, key: &str) -> Result<IsType, E> {
                Ok(IsType(key == "type"))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

/// The `type` field's value: a string (borrowed when possible) or anything else.
enum PeekType<'a> {
    Text(Cow<'a, str>),
    Other,
}

impl<'de: 'a, 'a> Deserialize<'de> for PeekType<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> serde::de::Visitor<'de> for Visitor<'a> {
            type Value = PeekType<'a>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }

            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(PeekType::Text(Cow::Borrowed(v)))
            }

            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(PeekType::Text(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(PeekType::Text(Cow::Owned(v)))
            }

            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(PeekType::Other)
            }

            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(PeekType::Other)
            }

            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(PeekType::Other)
            }

            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(PeekType::Other)
            }

            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(PeekType::Other)
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(PeekType::Other)
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                while map
                    .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
                    .is_some()
                {}
                Ok(PeekType::Other)
            }
        }
        deserializer.deserialize_any(Visitor(std::marker::PhantomData))
    }
}

/// Reads the `type` of a frame without building the event.
///
/// A frame with more than one top-level `type` is malformed: an
/// [`InvalidEvent`](DecodeErrorKind::InvalidEvent) error at `type` ("duplicate field
/// `type`"), whatever the values. Parsers disagree on which one counts (a streaming reader
/// sees the first, `serde_json::Value` keeps the last), so taking either would let one frame
/// mean two events, and re-encoding it would not be stable.
pub(crate) fn peek_type(json: &str) -> Result<Cow<'_, str>, DecodeError> {
    match serde_json::from_str::<Peek<'_>>(json) {
        Ok(Peek {
            event_type,
            duplicate: true,
        }) => {
            let first = match event_type {
                Some(PeekType::Text(first)) => Some(first.into_owned()),
                _ => None,
            };
            Err(DecodeError::new(
                DecodeErrorKind::InvalidEvent,
                first,
                Some("type".to_owned()),
                Some(<serde_json::Error as serde::de::Error>::duplicate_field(
                    "type",
                )),
            ))
        }
        Ok(Peek {
            event_type: Some(PeekType::Text(event_type)),
            ..
        }) => Ok(event_type),
        Ok(_) => Err(DecodeError::new(
            DecodeErrorKind::MissingType,
            None,
            None,
            None,
        )),
        Err(err) if err.is_data() => Err(DecodeError::new(
            DecodeErrorKind::NotAnObject,
            None,
            None,
            Some(err),
        )),
        Err(err) => Err(DecodeError::new(
            DecodeErrorKind::Syntax,
            None,
            None,
            Some(err),
        )),
    }
}

/// Deserializes the body of a known event, naming the event and the field on failure.
pub(crate) fn decode_body<T: DeserializeOwned>(
    json: &str,
    event_type: &str,
) -> Result<T, DecodeError> {
    serde_json::from_str(json).map_err(|err| invalid_event(json, event_type, err))
}

fn invalid_event(json: &str, event_type: &str, err: serde_json::Error) -> DecodeError {
    let kind = if err.is_syntax() || err.is_eof() {
        DecodeErrorKind::Syntax
    } else {
        DecodeErrorKind::InvalidEvent
    };
    let path = if kind == DecodeErrorKind::InvalidEvent {
        let text = err.to_string();
        // A derived struct reports a missing field at its own closing brace, where the scanner
        // still holds the object's last key: drop it. A tagged union (`tagged_enum!`) reports
        // after the whole nested value, prefixing its tag in backticks: keep the key, which
        // names that value.
        let inside_object = text.starts_with("missing field `");
        let at = json_path_at(json, err.line(), err.column(), inside_object);
        field_path(&at, &text)
    } else {
        None
    };
    DecodeError::new(kind, Some(event_type.to_owned()), path, Some(err))
}

/// Completes the path at the error position with the field a "missing field" error names.
fn field_path(at: &str, text: &str) -> Option<String> {
    let missing = text
        .split_once("missing field `")
        .and_then(|(_, rest)| rest.split('`').next());
    match (at.is_empty(), missing) {
        (true, Some(field)) => Some(field.to_owned()),
        (false, Some(field)) => Some(format!("{at}.{field}")),
        (true, None) => None,
        (false, None) => Some(at.to_owned()),
    }
}

/// The dotted JSON path (`session.tools[0].name`) of the value being read at a 1-based line
/// and column of `json`, as serde_json reports errors.
///
/// A small scanner over the text, used only on the error path: it tracks the stack of object
/// keys and array indexes up to the position.
pub(crate) fn json_path_at(json: &str, line: usize, column: usize, drop_last_key: bool) -> String {
    enum Frame {
        Object(Option<String>),
        Array(usize),
    }
    let offset = byte_offset(json, line, column);
    let bytes = json.as_bytes();
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    let mut last_string: Option<String> = None;
    while i < offset.min(bytes.len()) {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = i.min(bytes.len());
                last_string = json.get(start..end).map(str::to_owned);
            }
            b'{' => stack.push(Frame::Object(None)),
            b'[' => stack.push(Frame::Array(0)),
            b'}' | b']' => {
                stack.pop();
            }
            b':' => {
                if let Some(Frame::Object(key)) = stack.last_mut() {
                    *key = last_string.take();
                }
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array(index)) => *index += 1,
                Some(Frame::Object(key)) => *key = None,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    if drop_last_key {
        if let Some(Frame::Object(key)) = stack.last_mut() {
            *key = None;
        }
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object(Some(key)) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object(None) => {}
            Frame::Array(index) => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
        }
    }
    path
}

fn byte_offset(json: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (index, text) in json.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            // serde_json points at the last character it read; the path is the one of the
            // value that character belongs to, so stop just before it (a closing brace would
            // otherwise already have left the object).
            return offset + column.saturating_sub(1).min(text.len());
        }
        offset += text.len();
    }
    json.len()
}

/// An event body written with its `type` first.
#[derive(Serialize)]
struct Tagged<'a, T: ?Sized> {
    #[serde(rename = "type")]
    event_type: &'a str,
    #[serde(flatten)]
    body: &'a T,
}

/// Serializes `body` (a struct) as an object whose first field is `"type": tag`.
pub(crate) fn serialize_tagged<S: Serializer, T: Serialize + ?Sized>(
    tag: &str,
    body: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    Tagged {
        event_type: tag,
        body,
    }
    .serialize(serializer)
}

/// Writes an event: `{"type": event_type, ...body}`.
pub(crate) fn encode_tagged<T: Serialize + ?Sized>(event_type: &str, body: &T) -> String {
    let tagged = Tagged { event_type, body };
    // Invariant: every body is a struct of strings, numbers, bools, `Value`s and string-keyed
    // maps, which serde_json always serializes; each variant is covered by a round-trip test.
    serde_json::to_string(&tagged).expect("event bodies always serialize to JSON")
}

/// Writes an event as a JSON value (`{"type": event_type, ...body}`), for the beta rewrite.
pub(crate) fn encode_tagged_value<T: Serialize + ?Sized>(event_type: &str, body: &T) -> Value {
    let tagged = Tagged { event_type, body };
    // Invariant: see `encode_tagged`.
    serde_json::to_value(&tagged).expect("event bodies always serialize to JSON")
}

/// The JSON type of a value, for error messages.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Declares a `#[non_exhaustive]` enum tagged by a `type` field, whose unknown tags decode to
/// `Unknown(serde_json::Value)` with the JSON kept as received.
macro_rules! tagged_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $tag:literal => $variant:ident($ty:ty), )+
        }
    ) => {
        $(#[$meta])*
        ///
        /// # Forward compatibility
        ///
        /// A `type` this version does not know decodes to `Unknown` with the JSON as received,
        /// and is written back unchanged. A known `type` with a bad body is a decode error.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant($ty), )+
            /// A `type` this version does not know (or no `type` at all), kept as received.
            Unknown(serde_json::Value),
        }

        impl $name {
            /// The `type` tag (for `Unknown`, the received `type` if it had one).
            pub fn type_str(&self) -> Option<&str> {
                match self {
                    $( Self::$variant(_) => Some($tag), )+
                    Self::Unknown(value) => value.get("type").and_then(serde_json::Value::as_str),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(body) => $crate::codec::serialize_tagged($tag, body, serializer), )+
                    Self::Unknown(value) => serde::Serialize::serialize(value, serializer),
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                use serde::de::Error as _;
                let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                if !value.is_object() {
                    return Err(D::Error::custom(format_args!(
                        "invalid type: {}, expected an object",
                        $crate::codec::json_kind(&value)
                    )));
                }
                let tag = value.get("type").and_then(serde_json::Value::as_str);
                match tag {
                    $( Some($tag) => <$ty as serde::Deserialize>::deserialize(value)
                        .map(Self::$variant)
                        .map_err(|err| D::Error::custom(format_args!("`{}`: {err}", $tag))), )+
                    _ => Ok(Self::Unknown(value)),
                }
            }
        }
    };
}

pub(crate) use tagged_enum;

/// Rewrites a frame's JSON with `translate` and returns the new text and its `type`.
pub(crate) fn rewrite(
    json: &str,
    event_type: &str,
    translate: fn(&mut serde_json::Map<String, Value>),
) -> Result<(String, String), DecodeError> {
    let mut value: Value =
        serde_json::from_str(json).map_err(|err| invalid_event(json, event_type, err))?;
    let Value::Object(map) = &mut value else {
        return Err(DecodeError::new(
            DecodeErrorKind::NotAnObject,
            None,
            None,
            None,
        ));
    };
    translate(map);
    let new_type = map
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or(event_type)
        .to_owned();
    Ok((value.to_string(), new_type))
}

/// Decodes a frame in a dialect: beta frames whose payload differs are rewritten to the GA
/// shape first; names that differ only are aliases of the GA decode.
pub(crate) fn decode_in<E>(
    json: &str,
    dialect: crate::Dialect,
    known: &[&str],
    decode_ga: fn(&str, &str) -> Result<E, DecodeError>,
) -> Result<E, DecodeError> {
    let event_type = peek_type(json)?;
    let beta_shape = event_type.starts_with("transcription_session.")
        || (dialect == crate::Dialect::Beta && crate::dialect::beta::needs_rewrite(&event_type));
    if beta_shape {
        let (text, ga_type) = rewrite(json, &event_type, crate::dialect::beta::event_from_beta)?;
        // A rewrite only serves events of this direction; anything else (a client event read
        // as a server event) stays `Unknown` with the frame as received.
        if known.contains(&ga_type.as_str()) {
            return decode_ga(&text, &ga_type).map_err(|err| err.with_event_type(&event_type));
        }
    }
    decode_ga(json, &event_type)
}

/// Encodes an event known by its GA `type` in the beta dialect: events whose payload differs
/// are rewritten from their GA JSON, the others only take their beta name.
pub(crate) fn encode_beta(
    event_type: &str,
    named: impl FnOnce(&str) -> String,
    value: impl FnOnce() -> Value,
) -> String {
    use crate::dialect::beta;
    if beta::needs_rewrite(event_type) || beta::drops_fields(event_type) {
        let mut event = value();
        if let Value::Object(map) = &mut event {
            beta::event_to_beta(map);
        }
        return event.to_string();
    }
    named(crate::dialect::ga_to_beta_name(event_type).unwrap_or(event_type))
}

/// Declares an event enum (`ClientEvent`, `ServerEvent`): one variant per wire event, each
/// with its GA name and the aliases it is also read under, plus `Unknown`.
macro_rules! event_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident($ty:ty) = $ga:literal $(| $alias:literal)*, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant($ty), )+
            /// An event type this version does not know, kept with its raw JSON. Log or relay
            /// it; it is never an error.
            Unknown($crate::unknown::UnknownEvent),
        }

        impl $name {
            /// Every GA event type this version knows, in protocol order.
            pub const GA_TYPES: &'static [&'static str] = &[$($ga),+];

            /// The GA `type` of the event (for `Unknown`, the type as received), for logs and
            /// metrics.
            pub fn event_type(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $ga, )+
                    Self::Unknown(event) => event.event_type(),
                }
            }

            /// Decodes a GA-shaped frame whose `type` is `event_type` (GA name or alias).
            pub(crate) fn decode_ga(json: &str, event_type: &str) -> Result<Self, $crate::error::DecodeError> {
                Ok(match event_type {
                    $( $ga $(| $alias)* => Self::$variant($crate::codec::decode_body(json, event_type)?), )+
                    _ => Self::Unknown($crate::unknown::UnknownEvent::new(event_type, json)?),
                })
            }

            /// Writes the event in the GA shape under `name`.
            pub(crate) fn encode_named(&self, name: &str) -> String {
                match self {
                    $( Self::$variant(body) => $crate::codec::encode_tagged(name, body), )+
                    Self::Unknown(event) => event.raw().to_owned(),
                }
            }

            /// The event in the GA shape, as a JSON value.
            pub(crate) fn to_ga_value(&self) -> serde_json::Value {
                match self {
                    $( Self::$variant(body) => $crate::codec::encode_tagged_value($ga, body), )+
                    // Never reached by `encode`, which writes `Unknown` events back raw.
                    Self::Unknown(_) => serde_json::Value::Null,
                }
            }
        }

        $(
            impl From<$ty> for $name {
                fn from(event: $ty) -> Self {
                    Self::$variant(event)
                }
            }
        )+
    };
}

pub(crate) use event_enum;

/// serde helpers for `Option<Option<T>>` fields where `null` means "turn this off" and absent
/// means "leave it": outer `None` is absent, `Some(None)` is `null`.
pub(crate) mod nullable {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<S: Serializer, T: Serialize>(
        value: &Option<Option<T>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match value {
            Some(Some(inner)) => inner.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_names_nested_keys_and_indexes() {
        let json = r#"{"type":"x","session":{"tools":[{"a":1},{"name":5}]}}"#;
        let column = json.find("5}").unwrap() + 2;
        assert_eq!(
            json_path_at(json, 1, column, false),
            "session.tools[1].name"
        );
    }

    #[test]
    fn path_handles_escaped_quotes_in_strings() {
        let json = r#"{"a":"x\"y","b":{"c":true}}"#;
        let column = json.find("true").unwrap() + 2;
        assert_eq!(json_path_at(json, 1, column, false), "b.c");
    }

    #[test]
    fn peek_reports_each_failure_kind() {
        assert_eq!(peek_type("{").unwrap_err().kind(), DecodeErrorKind::Syntax);
        assert_eq!(
            peek_type("[1]").unwrap_err().kind(),
            DecodeErrorKind::NotAnObject
        );
        assert_eq!(
            peek_type("{}").unwrap_err().kind(),
            DecodeErrorKind::MissingType
        );
        assert_eq!(
            peek_type(r#"{"type":5}"#).unwrap_err().kind(),
            DecodeErrorKind::MissingType
        );
        assert_eq!(peek_type(r#"{"type":"a\u002eb"}"#).unwrap(), "a.b");
        let twice = peek_type(r#"{"type":"a","x":1,"type":"b"}"#).unwrap_err();
        assert_eq!(twice.kind(), DecodeErrorKind::InvalidEvent);
        assert_eq!(twice.event_type(), Some("a"));
        assert_eq!(twice.path(), Some("type"));
        assert!(
            twice.to_string().contains("duplicate field `type`"),
            "{twice}"
        );
    }
}
