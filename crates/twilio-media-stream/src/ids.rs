//! Identifiers: [`StreamSid`], [`CallSid`], [`AccountSid`] and [`MarkName`].
//!
//! Each is its own type, so a `CallSid` never goes where a `StreamSid` belongs. They hold
//! the text exactly as Twilio sent it (no format check: Twilio's formats are documented, but
//! a decoder that rejected a new prefix would break running calls).
//!
//! Twilio's ids are 34 characters (`MZ` + 32 hex digits). Values up to
//! 40 bytes are stored inline, so decoding a `media` message does not allocate for its
//! `streamSid`; longer values (mark names can be anything) go to the heap.

use std::borrow::Borrow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// Longest value kept inline (Twilio's SIDs are 34 bytes).
const INLINE_CAPACITY: usize = 40;

/// A string that lives inline when short and on the heap when long.
#[derive(Clone)]
enum SmallStr {
    Inline {
        len: u8,
        bytes: [u8; INLINE_CAPACITY],
    },
    Heap(Box<str>),
}

impl SmallStr {
    fn new(value: &str) -> Self {
        if value.len() <= INLINE_CAPACITY {
            let mut bytes = [0u8; INLINE_CAPACITY];
            bytes[..value.len()].copy_from_slice(value.as_bytes());
            // `len` fits: INLINE_CAPACITY < 256.
            Self::Inline {
                len: value.len() as u8,
                bytes,
            }
        } else {
            Self::Heap(value.into())
        }
    }

    fn from_string(value: String) -> Self {
        if value.len() <= INLINE_CAPACITY {
            Self::new(&value)
        } else {
            Self::Heap(value.into_boxed_str())
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // The inline bytes were copied from a `&str` at a char boundary (the whole
            // string), so they are always valid UTF-8 and the fallback is never taken.
            Self::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Self::Heap(s) => s,
        }
    }
}

struct SmallStrVisitor;

impl Visitor<'_> for SmallStrVisitor {
    type Value = SmallStr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SmallStr, E> {
        Ok(SmallStr::new(v))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<SmallStr, E> {
        Ok(SmallStr::from_string(v))
    }
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(SmallStr);

        impl $name {
            /// Wraps a value as received from Twilio or chosen by you.
            pub fn new(value: impl AsRef<str>) -> Self {
                Self(SmallStr::new(value.as_ref()))
            }

            /// The value as text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(SmallStr::from_string(value))
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(SmallStrVisitor).map(Self)
            }
        }
    };
}

id_type! {
    /// The id of one media stream (`streamSid`, `MZ` + 32 hex digits).
    ///
    /// Every message the server sends must carry the `streamSid` from `start`.
    ///
    /// # Examples
    ///
    /// ```
    /// use twilio_media_stream::StreamSid;
    ///
    /// let sid = StreamSid::new("MZ0123456789abcdef0123456789abcdef");
    /// assert_eq!(sid.as_str(), "MZ0123456789abcdef0123456789abcdef");
    /// assert_eq!(sid, "MZ0123456789abcdef0123456789abcdef");
    /// ```
    StreamSid
}

id_type! {
    /// The id of a call (`callSid`, `CA` + 32 hex digits).
    CallSid
}

id_type! {
    /// The id of the Twilio account that owns the call (`accountSid`, `AC` + 32 hex digits).
    AccountSid
}

id_type! {
    /// The name of a `mark`, chosen by the server and echoed back by Twilio unchanged.
    MarkName
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_values_round_trip() {
        let short = MarkName::new("item_abc:7");
        assert!(matches!(short.0, SmallStr::Inline { .. }));
        assert_eq!(short.as_str(), "item_abc:7");
        let long_text = "é".repeat(40);
        let long = MarkName::from(long_text.clone());
        assert!(matches!(long.0, SmallStr::Heap(_)));
        assert_eq!(long.as_str(), long_text);
        assert_eq!(MarkName::new(""), "");
    }

    #[test]
    fn exactly_inline_capacity_stays_inline() {
        let text = "x".repeat(INLINE_CAPACITY);
        let id = StreamSid::new(&text);
        assert!(matches!(id.0, SmallStr::Inline { .. }));
        assert_eq!(id.as_str(), text);
    }

    #[test]
    fn serde_is_a_plain_string() {
        let sid: StreamSid = serde_json::from_str("\"MZ\\u0041\"").unwrap();
        assert_eq!(sid, "MZA");
        assert_eq!(serde_json::to_string(&sid).unwrap(), "\"MZA\"");
        assert!(serde_json::from_str::<CallSid>("5").is_err());
    }

    #[test]
    fn debug_shows_the_value() {
        assert_eq!(format!("{:?}", CallSid::new("CA1")), "\"CA1\"");
    }
}
