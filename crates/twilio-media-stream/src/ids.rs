//! Identifiers: [`StreamSid`], [`CallSid`], [`AccountSid`] and [`MarkName`].
//!
//! Each is its own type, so a `CallSid` never goes where a `StreamSid` belongs. They hold
//! the text exactly as Twilio sent it (no format check: Twilio's formats are documented, but
//! a decoder that rejected a new prefix would break running calls). Where a person types
//! an id, as in configuration, [`AccountSid::parse`] checks its form and says what is wrong.
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

impl AccountSid {
    /// Checks that `value` is an Account SID as the Twilio Console shows it, `AC` and 32
    /// hex digits, for configuration a person typed. (Decoding Twilio's messages never
    /// checks: see the [module docs](self).)
    ///
    /// # Errors
    ///
    /// What is wrong, without echoing the value (a secret pasted into the wrong variable
    /// stays out of logs): an API key SID (`SK…`, a common mix-up), another prefix, another
    /// length, or characters that are not hex digits.
    ///
    /// # Examples
    ///
    /// ```
    /// use twilio_media_stream::AccountSid;
    /// use twilio_media_stream::ids::InvalidAccountSid;
    ///
    /// let sid = AccountSid::parse("AC0123456789abcdef0123456789abcdef")?;
    /// assert_eq!(sid, "AC0123456789abcdef0123456789abcdef");
    /// assert_eq!(
    ///     AccountSid::parse("SK0123456789abcdef0123456789abcdef"),
    ///     Err(InvalidAccountSid::ApiKeySid)
    /// );
    /// # Ok::<(), InvalidAccountSid>(())
    /// ```
    pub fn parse(value: &str) -> Result<Self, InvalidAccountSid> {
        if value.starts_with("SK") {
            return Err(InvalidAccountSid::ApiKeySid);
        }
        if !value.starts_with("AC") {
            return Err(InvalidAccountSid::WrongPrefix);
        }
        if value.len() != 34 {
            return Err(InvalidAccountSid::WrongLength {
                len: value.chars().count(),
            });
        }
        if !value[2..].bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InvalidAccountSid::NotHex);
        }
        Ok(Self::new(value))
    }
}

/// Why a value is not an Account SID ([`AccountSid::parse`]). The messages never repeat the
/// value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidAccountSid {
    /// It starts with `SK`: an API key's SID, which names a key, not the account.
    #[error(
        "an API key SID (SK…) is not an Account SID: use the Account SID, AC followed by 32 \
         hex digits"
    )]
    ApiKeySid,
    /// It does not start with `AC`.
    #[error("an Account SID starts with AC, followed by 32 hex digits")]
    WrongPrefix,
    /// It is not 34 characters long.
    #[error("an Account SID is 34 characters (AC and 32 hex digits), not {len}")]
    WrongLength {
        /// Its length in characters.
        len: usize,
    },
    /// Something after `AC` is not a hex digit.
    #[error("an Account SID is AC followed by 32 hex digits (0-9, a-f)")]
    NotHex,
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
    fn account_sids_are_checked_for_their_form() {
        let good = "AC0123456789abcdef0123456789ABCDEF";
        assert_eq!(AccountSid::parse(good).unwrap(), good);
        let cases = [
            (
                "SK0123456789abcdef0123456789abcdef",
                InvalidAccountSid::ApiKeySid,
            ),
            (
                "CA0123456789abcdef0123456789abcdef",
                InvalidAccountSid::WrongPrefix,
            ),
            ("", InvalidAccountSid::WrongPrefix),
            (
                "AC0123456789abcdef0123456789abcde",
                InvalidAccountSid::WrongLength { len: 33 },
            ),
            (
                "AC0123456789abcdef0123456789abcdef ",
                InvalidAccountSid::WrongLength { len: 35 },
            ),
            (
                "AC0123456789abcdef0123456789abcdeg",
                InvalidAccountSid::NotHex,
            ),
            // Multi-byte characters: 34 bytes but not hex digits, and no panic.
            ("ACéééééééééééééééé", InvalidAccountSid::NotHex),
        ];
        for (value, expected) in cases {
            let err = AccountSid::parse(value).unwrap_err();
            assert_eq!(err, expected, "{value:?}");
            assert!(
                value.len() < 3 || !err.to_string().contains(&value[2..]),
                "{err}"
            );
        }
    }

    #[test]
    fn debug_shows_the_value() {
        assert_eq!(format!("{:?}", CallSid::new("CA1")), "\"CA1\"");
    }
}
