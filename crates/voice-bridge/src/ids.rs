//! Identifier newtypes.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl $name {
            /// The id from its text.
            pub fn new(id: impl Into<Arc<str>>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self::new(id)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self::new(id)
            }
        }
    };
}

string_id!(
    /// The telephony provider's id of the call (Twilio `callSid`).
    CallId
);
string_id!(
    /// The id of the media stream within the call (Twilio `streamSid`).
    StreamId
);
string_id!(
    /// The agent's id of a conversation item that carries audio (OpenAI `item_id`).
    ///
    /// Cloning is cheap (a reference count), so the id can travel with every frame.
    ItemId
);
string_id!(
    /// The agent's id of one tool (function) call (OpenAI `call_id`).
    ToolCallId
);
string_id!(
    /// The agent's id of a response (OpenAI `response.id`).
    ResponseId
);

/// A playback mark the engine sends to the call leg after a chunk of audio.
///
/// Marks carry a sequence number, written `vb-<n>`. The call leg sends the name and
/// echoes it back in [`CallEvent::MarkPlayed`](crate::CallEvent::MarkPlayed) when
/// playback reaches it (or when a clear discards it). A mark is `Copy` and is formatted
/// only by the leg that writes it, so marking a frame allocates nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mark(u64);

impl Mark {
    const PREFIX: &'static str = "vb-";

    /// The mark with sequence number `seq`.
    pub const fn new(seq: u64) -> Self {
        Self(seq)
    }

    /// The sequence number.
    pub const fn seq(self) -> u64 {
        self.0
    }

    /// Parses a mark name written by [`Mark`]'s `Display` (`vb-<n>`).
    ///
    /// ```
    /// use voice_bridge::Mark;
    /// assert_eq!(Mark::parse("vb-7"), Some(Mark::new(7)));
    /// assert_eq!(Mark::new(7).to_string(), "vb-7");
    /// assert_eq!(Mark::parse("someone else's"), None);
    /// ```
    pub fn parse(name: &str) -> Option<Self> {
        let digits = name.strip_prefix(Self::PREFIX)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok().map(Self)
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0)
    }
}

/// A DTMF key the caller pressed: `0`-`9`, `*`, `#`, maybe `A`-`D` (kept as given).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct DtmfDigit(char);

impl DtmfDigit {
    /// The digit for a key.
    pub const fn new(key: char) -> Self {
        Self(key)
    }

    /// The key.
    pub const fn key(self) -> char {
        self.0
    }
}

impl fmt::Display for DtmfDigit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
