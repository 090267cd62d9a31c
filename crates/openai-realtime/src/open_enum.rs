//! Open string sets: enums that keep a value this version does not know.
//!
//! The service adds voices, formats and modes over time. A value that was not known when this
//! crate was written decodes to the `Unknown` variant, which keeps the string as received and
//! writes it back unchanged, so a new value never turns into a decode error mid-call.

use std::fmt;

/// A string value this version of the crate does not know, kept as received.
///
/// It is opaque on purpose: match on the named variants, and read the raw string with
/// `as_str()` on the enum. Code that matched on a specific unknown string would silently stop
/// matching once a later version of this crate names that value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnknownValue(pub(crate) String);

impl UnknownValue {
    /// The value as received.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UnknownValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Declares a `#[non_exhaustive]` string enum with an `Unknown(UnknownValue)` fallback,
/// `as_str()`, `From<&str>`, `Display` and string serde.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        ///
        /// # Forward compatibility
        ///
        /// A value this version does not know decodes to `Unknown` and is written back as
        /// received. Do not match on the string inside `Unknown`: a later version may give that
        /// value its own variant. Use `as_str()` to log or relay it.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A value this version does not know, kept as received.
            Unknown($crate::open_enum::UnknownValue),
        }

        impl $name {
            /// Every value this version knows, in protocol order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The wire string.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(value) => value.as_str(),
                }
            }

            /// Whether this is a value this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, Self::Unknown(_))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $( $wire => Self::$variant, )+
                    other => Self::Unknown($crate::open_enum::UnknownValue(other.to_owned())),
                }
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                match value.as_str() {
                    $( $wire => Self::$variant, )+
                    _ => Self::Unknown($crate::open_enum::UnknownValue(value)),
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = <String as serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from(value))
            }
        }
    };
}

pub(crate) use open_enum;
