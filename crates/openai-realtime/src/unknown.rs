//! [`UnknownEvent`]: an event whose `type` this version does not know, kept whole.

use serde_json::value::RawValue;

use crate::error::{DecodeError, DecodeErrorKind};

/// An event whose `type` this version of the crate does not know, with its raw JSON.
///
/// The service adds event types over time; such a frame is not an error. Log or relay it:
/// [`encode`](crate::ServerEvent::encode) writes the raw JSON back unchanged, in either
/// dialect. A client can also send an event this crate does not model yet with
/// [`UnknownEvent::from_json`].
///
/// # Examples
///
/// ```
/// use openai_realtime::{Dialect, ServerEvent};
///
/// let frame = r#"{"type":"response.new_thing","event_id":"e1","x":1}"#;
/// let ServerEvent::Unknown(event) = ServerEvent::decode(frame, Dialect::Ga).unwrap() else {
///     panic!("an unknown type decodes to Unknown");
/// };
/// assert_eq!(event.event_type(), "response.new_thing");
/// assert_eq!(event.raw(), frame);
/// ```
#[derive(Debug, Clone)]
pub struct UnknownEvent {
    event_type: String,
    raw: Box<RawValue>,
}

impl UnknownEvent {
    pub(crate) fn new(event_type: &str, json: &str) -> Result<Self, DecodeError> {
        let raw = RawValue::from_string(json.to_owned())
            .map_err(|err| DecodeError::new(DecodeErrorKind::Syntax, None, None, Some(err)))?;
        Ok(Self {
            event_type: event_type.to_owned(),
            raw,
        })
    }

    /// Wraps a JSON object with a string `type` as an event to send or relay as is.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when `json` is not an object with a string `type`.
    pub fn from_json(json: &str) -> Result<Self, DecodeError> {
        let event_type = crate::codec::peek_type(json)?.into_owned();
        Self::new(&event_type, json)
    }

    /// The `type` as received.
    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    /// The frame as received.
    pub fn raw(&self) -> &str {
        self.raw.get()
    }

    /// The frame parsed into a JSON value.
    ///
    /// # Errors
    ///
    /// The raw text is valid JSON, but it may nest deeper than serde_json builds values
    /// (128 levels): an unknown event is kept without being parsed into a tree.
    pub fn to_value(&self) -> Result<serde_json::Value, serde_json::Error> {
        serde_json::from_str(self.raw.get())
    }
}

impl PartialEq for UnknownEvent {
    fn eq(&self, other: &Self) -> bool {
        self.event_type == other.event_type && self.raw.get() == other.raw.get()
    }
}
