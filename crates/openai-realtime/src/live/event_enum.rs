//! The Live event enums' machinery: one variant per wire event, decoded by peeking the `type`
//! and then deserializing the one struct (the crate's `codec`), `Unknown` for the rest.

/// Declares a Live event enum. Variants under `decoded` are read by their `type`; variants
/// under `manual` share a `type` with one of them and are read by a dedicated decoder.
macro_rules! live_event_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            decoded {
                $( $(#[$vmeta:meta])* $variant:ident($ty:ty) = $tag:literal, )+
            }
            manual {
                $( $(#[$mmeta:meta])* $mvariant:ident($mty:ty) = $mtag:literal, )*
            }
        }
    ) => {
        $(#[$meta])*
        ///
        /// # Forward compatibility
        ///
        /// A `type` this version does not know decodes to `Unknown` with its raw JSON, and
        /// encodes back unchanged; members a known event's model does not name are kept in
        /// its `extra` and written back. A known `type` with a bad body is a
        /// [`DecodeError`](crate::DecodeError) naming the event and the field path.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant($ty), )+
            $( $(#[$mmeta])* $mvariant($mty), )*
            /// An event type this version does not know, kept with its raw JSON. Log or relay
            /// it; it is never an error.
            Unknown($crate::UnknownEvent),
        }

        impl $name {
            /// Every event type this version knows, in the SDK union's order.
            pub const TYPES: &'static [&'static str] = &[$($tag),+];

            /// The `type` of the event (for `Unknown`, the type as received), for logs and
            /// metrics.
            pub fn event_type(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $tag, )+
                    $( Self::$mvariant(_) => $mtag, )*
                    Self::Unknown(event) => event.event_type(),
                }
            }

            /// Writes the event as a JSON text frame: `type` first, then the body, then the
            /// members kept in `extra`. `Unknown` events are written back as received.
            pub fn encode(&self) -> String {
                match self {
                    $( Self::$variant(body) => $crate::codec::encode_tagged($tag, body), )+
                    $( Self::$mvariant(body) => $crate::codec::encode_tagged($mtag, body), )*
                    Self::Unknown(event) => event.raw().to_owned(),
                }
            }

            /// Decodes the body of a frame whose `type` was peeked as `event_type`.
            fn decode_as(json: &str, event_type: &str) -> Result<Self, $crate::DecodeError> {
                Ok(match event_type {
                    $( $tag => Self::$variant($crate::codec::decode_body(json, event_type)?), )+
                    _ => Self::Unknown($crate::UnknownEvent::new(event_type, json)?),
                })
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $( Self::$variant(body) => $crate::codec::serialize_tagged($tag, body, serializer), )+
                    $( Self::$mvariant(body) => $crate::codec::serialize_tagged($mtag, body, serializer), )*
                    Self::Unknown(event) => {
                        let raw = serde_json::value::RawValue::from_string(event.raw().to_owned())
                            .map_err(serde::ser::Error::custom)?;
                        serde::Serialize::serialize(&raw, serializer)
                    }
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
        $(
            impl From<$mty> for $name {
                fn from(event: $mty) -> Self {
                    Self::$mvariant(event)
                }
            }
        )*
    };
}

pub(crate) use live_event_enum;
