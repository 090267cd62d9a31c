//! Shared decoding machinery: read the `event` tag, then deserialize the one struct.
//!
//! The fast path is plain `serde_json`. Only when it fails is the frame parsed again with
//! `serde_path_to_error`, to name the field at fault; errors are rare, frames are many.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::error::Category;

use crate::error::{DecodeError, DecodeErrorKind};

/// Default limit on the length of one text frame handed to `decode` (1 MiB).
///
/// Twilio's own frames are a few hundred bytes (a 20 ms `media` frame is about 300). A
/// server-sent `media` may be larger ("any size", says Twilio): 1 MiB of base64 is about 98
/// seconds of audio. Use `decode_with_limit` for another limit.
pub const DEFAULT_MAX_FRAME_LEN: usize = 1024 * 1024;

/// The `event` tag, borrowed when it has no escapes.
#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(borrow, default)]
    event: Option<Tag<'a>>,
}

/// A string that borrows from the input when it can. (serde's own `Option<Cow<str>>` always
/// copies, which would cost an allocation per frame.)
struct Tag<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Tag<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TagVisitor;

        impl<'de> serde::de::Visitor<'de> for TagVisitor {
            type Value = Tag<'de>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Tag<'de>, E> {
                Ok(Tag(Cow::Borrowed(v)))
            }

            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Tag<'de>, E> {
                Ok(Tag(Cow::Owned(v.to_owned())))
            }
        }

        deserializer.deserialize_str(TagVisitor)
    }
}

/// Reads the `event` tag of a frame (and checks that the whole frame is JSON).
pub(crate) fn peek_event(text: &str, limit: usize) -> Result<Cow<'_, str>, DecodeError> {
    if text.len() > limit {
        return Err(DecodeError::too_large(text.len(), limit));
    }
    // serde lets a struct be read from a JSON array too; Twilio's messages are objects only.
    if text.trim_start().as_bytes().first() != Some(&b'{') {
        return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
            Err(e) if e.classify() != Category::Data => {
                DecodeError::json(DecodeErrorKind::Syntax, None, None, e)
            }
            _ => DecodeError::not_an_object(),
        });
    }
    match serde_json::from_str::<Peek<'_>>(text) {
        Ok(Peek {
            event: Some(Tag(event)),
        }) => Ok(event),
        Ok(Peek { event: None }) => Err(DecodeError::missing_event()),
        Err(e) => Err(classify::<Peek<'_>>(text, None, e)),
    }
}

/// Deserializes the body of a frame whose tag is `event`.
pub(crate) fn body<'a, T: Deserialize<'a>>(text: &'a str, event: &str) -> Result<T, DecodeError> {
    serde_json::from_str::<T>(text).map_err(|e| classify::<T>(text, Some(event), e))
}

/// Turns a `serde_json` error into a [`DecodeError`], naming the field path.
fn classify<'a, T: Deserialize<'a>>(
    text: &'a str,
    event: Option<&str>,
    error: serde_json::Error,
) -> DecodeError {
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => {
            return DecodeError::json(DecodeErrorKind::Syntax, event, None, error);
        }
        Category::Data => {}
    }
    // Parse again, tracking the path this time.
    let mut de = serde_json::Deserializer::from_str(text);
    let (path, error) = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(e) => {
            let path = e.path().to_string();
            (path, e.into_inner())
        }
        // Cannot happen (the same input failed above); keep the first error.
        Ok(_) => (String::from("."), error),
    };
    let message = error.to_string();
    let mut path = if path == "." { String::new() } else { path };
    if let Some(field) = missing_field(&message) {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(field);
        return DecodeError::json(DecodeErrorKind::MissingField, event, Some(path), error);
    }
    if path.is_empty() {
        // A type error at the root: the frame is JSON, but not an object.
        return DecodeError::json(DecodeErrorKind::NotAnObject, event, None, error);
    }
    DecodeError::json(DecodeErrorKind::InvalidField, event, Some(path), error)
}

/// The field name in serde's "missing field `x`" message.
fn missing_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("missing field `")?;
    rest.split('`').next()
}

/// Serde helpers for counters that Twilio writes as JSON strings (`"sequenceNumber":"3"`).
///
/// Encoded as decimal strings; decoded from a decimal string or, leniently, a JSON number.
pub(crate) mod string_u64 {
    use std::fmt;

    use serde::Serializer;
    use serde::de::{self, Deserializer, Visitor};

    pub(crate) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        let mut buf = [0u8; 20];
        serializer.serialize_str(format_u64(*value, &mut buf))
    }

    /// Formats without allocating.
    fn format_u64(mut value: u64, buf: &mut [u8; 20]) -> &str {
        let mut i = buf.len();
        loop {
            i -= 1;
            buf[i] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        // ASCII digits only.
        std::str::from_utf8(&buf[i..]).unwrap_or("0")
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        deserializer.deserialize_any(CounterVisitor)
    }

    struct CounterVisitor;

    impl Visitor<'_> for CounterVisitor {
        type Value = u64;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal counter as a string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<u64, E> {
            if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::invalid_value(de::Unexpected::Str(v), &self));
            }
            v.parse()
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &"a counter below 2^64"))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<u64, E> {
            Ok(v)
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<u64, E> {
            u64::try_from(v).map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn formats_edges() {
            let mut buf = [0u8; 20];
            assert_eq!(super::format_u64(0, &mut buf), "0");
            assert_eq!(super::format_u64(u64::MAX, &mut buf), u64::MAX.to_string());
            assert_eq!(super::format_u64(1_000, &mut buf), "1000");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peek_borrows_and_checks_syntax() {
        assert!(matches!(
            peek_event(r#"{"event":"media","x":[1,2]}"#, 100),
            Ok(Cow::Borrowed("media"))
        ));
        assert_eq!(
            peek_event("{\"event\":\"media\"", 100).unwrap_err().kind(),
            DecodeErrorKind::Syntax
        );
        assert_eq!(
            peek_event("[1]", 100).unwrap_err().kind(),
            DecodeErrorKind::NotAnObject
        );
        assert_eq!(
            peek_event("{}", 100).unwrap_err().kind(),
            DecodeErrorKind::MissingEvent
        );
        let err = peek_event(r#"{"event":5}"#, 100).unwrap_err();
        assert_eq!(err.kind(), DecodeErrorKind::InvalidField);
        assert_eq!(err.path(), Some("event"));
        assert_eq!(
            peek_event(&" ".repeat(101), 100).unwrap_err().kind(),
            DecodeErrorKind::TooLarge
        );
    }
}
