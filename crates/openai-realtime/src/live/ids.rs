//! Identifiers only Live has. Event, item and call ids are the crate's own
//! ([`EventId`](crate::EventId), [`ItemId`](crate::ItemId), [`CallId`](crate::CallId)).

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! live_id {
    ($(#[$meta:meta])* $name:ident, $example:literal) => {
        $(#[$meta])*
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let id = openai_realtime::live::", stringify!($name), "::new(\"", $example, "\");")]
        #[doc = concat!("assert_eq!(id.as_str(), \"", $example, "\");")]
        /// ```
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id string.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }

            /// The id as the service wrote it.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

live_id!(
    /// The id of a Live session (`live_…`), opaque: keep it unchanged.
    LiveSessionId,
    "live_123"
);
live_id!(
    /// The id of a delegation (`item_…` on the wire today), which
    /// `session.commentary.append` and its siblings repeat to answer it.
    DelegationId,
    "item_123"
);
live_id!(
    /// The id the service gives one firing of a Decisions trigger.
    TriggerId,
    "trg_123"
);
