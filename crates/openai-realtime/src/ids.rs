//! Identifiers as newtypes, so an [`ItemId`] never goes where a [`ResponseId`] belongs.
//!
//! Every id is a thin wrapper over the string the service sent; none is validated, since the
//! service may change its id formats at any time.

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! id_newtype {
    ($(#[$meta:meta])* $name:ident, $example:literal) => {
        $(#[$meta])*
        ///
        /// # Examples
        ///
        /// ```
        #[doc = concat!("let id = openai_realtime::", stringify!($name), "::new(\"", $example, "\");")]
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

            /// Unwraps the id string.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id_newtype!(
    /// The `event_id` of an event: chosen by the client for client events (echoed in
    /// `error.event_id` when the event fails), `event_…` for server events.
    EventId,
    "event_123"
);
id_newtype!(
    /// The id of a conversation item (`item_…`).
    ItemId,
    "item_123"
);
id_newtype!(
    /// The id of a response (`resp_…`).
    ResponseId,
    "resp_123"
);
id_newtype!(
    /// The `call_id` of a function call, which its `function_call_output` must repeat.
    CallId,
    "call_123"
);
id_newtype!(
    /// The id of a conversation (`conv_…`).
    ConversationId,
    "conv_123"
);
id_newtype!(
    /// The id of a session (`sess_…`).
    SessionId,
    "sess_123"
);
