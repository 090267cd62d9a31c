//! Errors of the models layer: [`DecodeError`] (a frame we could not read), [`ApiError`] (the
//! service's `error` event payload) and [`RequestError`] (a client event the service would
//! refuse, as reproduced by [`ClientEvent::decode_strict`](crate::ClientEvent::decode_strict)).

use crate::Extra;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::EventId;

/// What kind of problem a [`DecodeError`] is. Meant for matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The frame is not valid JSON (or is nested too deeply). Skippable: log and read on.
    Syntax,
    /// The frame is JSON but not an object.
    NotAnObject,
    /// The object has no string `type` field.
    MissingType,
    /// The `type` is known, but the body does not match that event (a missing field, a wrong
    /// type). [`DecodeError::event_type`] and [`DecodeError::path`] name the event and field.
    ///
    /// Also a frame with more than one top-level `type` key, whatever the values (path
    /// `type`, "duplicate field `type`"): which one counts would depend on the parser.
    /// Duplicate keys elsewhere follow serde: an error for a field of a known struct
    /// ("duplicate field"), the last one kept inside JSON held as it is (unknown content).
    InvalidEvent,
}

/// A text frame that could not be decoded into an event.
///
/// An unknown `type` is not an error (it decodes to the `Unknown` variant); this error means
/// the frame is not JSON, has no `type`, or is a known event with a body that does not match.
/// Every case is skippable: a healthy call goes on after logging it.
///
/// The error is one pointer wide so a `Result<ServerEvent, DecodeError>` stays small on the
/// per-frame path.
#[derive(Debug)]
pub struct DecodeError {
    inner: Box<DecodeErrorInner>,
}

#[derive(Debug)]
struct DecodeErrorInner {
    kind: DecodeErrorKind,
    event_type: Option<String>,
    path: Option<String>,
    source: Option<serde_json::Error>,
}

impl DecodeError {
    pub(crate) fn new(
        kind: DecodeErrorKind,
        event_type: Option<String>,
        path: Option<String>,
        source: Option<serde_json::Error>,
    ) -> Self {
        Self {
            inner: Box::new(DecodeErrorInner {
                kind,
                event_type,
                path,
                source,
            }),
        }
    }

    /// Reports the event under the type it had on the wire (a beta name).
    pub(crate) fn with_event_type(mut self, event_type: &str) -> Self {
        if self.inner.event_type.is_some() {
            self.inner.event_type = Some(event_type.to_owned());
        }
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> DecodeErrorKind {
        self.inner.kind
    }

    /// The event `type` of the frame, when it could be read.
    pub fn event_type(&self) -> Option<&str> {
        self.inner.event_type.as_deref()
    }

    /// The dotted path of the offending field (`session.audio.input.format`), when known.
    ///
    /// For a beta frame this is the path in the GA shape the frame was translated to.
    pub fn path(&self) -> Option<&str> {
        self.inner.path.as_deref()
    }

    /// The 1-based line of the problem in the frame, when known.
    pub fn line(&self) -> Option<usize> {
        self.inner.source.as_ref().map(serde_json::Error::line)
    }

    /// The 1-based column of the problem in the frame, when known.
    pub fn column(&self) -> Option<usize> {
        self.inner.source.as_ref().map(serde_json::Error::column)
    }

    /// Whether the frame is not valid JSON at all.
    pub fn is_syntax(&self) -> bool {
        self.inner.kind == DecodeErrorKind::Syntax
    }

    /// The underlying message of the JSON parser, without the event and path prefix.
    pub(crate) fn detail(&self) -> Option<String> {
        self.inner.source.as_ref().map(|e| {
            let text = e.to_string();
            // serde_json appends " at line L column C"; the accessors give those separately.
            match text.rfind(" at line ") {
                Some(cut) => text[..cut].to_owned(),
                None => text,
            }
        })
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.inner.kind {
            DecodeErrorKind::Syntax => f.write_str("frame is not valid JSON")?,
            DecodeErrorKind::NotAnObject => f.write_str("frame is not a JSON object")?,
            DecodeErrorKind::MissingType => f.write_str("frame has no string `type` field")?,
            DecodeErrorKind::InvalidEvent => {
                write!(
                    f,
                    "invalid `{}` event",
                    self.inner.event_type.as_deref().unwrap_or("?")
                )?;
                if let Some(path) = &self.inner.path {
                    write!(f, " at `{path}`")?;
                }
            }
        }
        if let Some(source) = &self.inner.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

/// The parser's message is part of the `Display` text (with the event and the path), so
/// there is no separate `source()`: a chain of causes shows it once.
impl std::error::Error for DecodeError {}

/// The payload of the service's `error` event: what went wrong, and which client event caused it.
///
/// `type` and `message` are always present; `code`, `param` and `event_id` may be absent. Match
/// on [`code`](Self::code) (for example `invalid_api_key`, `session_expired`,
/// `conversation_already_has_active_response`) and keep [`message`](Self::message) for logs.
///
/// # Examples
///
/// ```
/// use openai_realtime::ApiError;
///
/// let err = ApiError::new("invalid_request_error", "Missing required parameter: 'session.type'.")
///     .with_code("missing_required_parameter")
///     .with_param("session.type");
/// assert_eq!(err.code.as_deref(), Some("missing_required_parameter"));
/// assert_eq!(
///     err.to_string(),
///     "invalid_request_error (missing_required_parameter): Missing required parameter: 'session.type'. [param session.type]"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApiError {
    /// The error class, e.g. `invalid_request_error` or `server_error` (`type` on the wire).
    #[serde(rename = "type")]
    pub kind: String,
    /// A machine-readable code, e.g. `invalid_api_key`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A human-readable message.
    pub message: String,
    /// The parameter the error is about, e.g. `session.type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The `event_id` of the client event that caused the error, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl ApiError {
    /// An error of class `kind` (e.g. `invalid_request_error`) with a message.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            code: None,
            message: message.into(),
            param: None,
            event_id: None,
            extra: Default::default(),
        }
    }

    /// Sets the code.
    #[must_use]
    pub fn with_code(mut self, code: impl Into<String>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Sets the param.
    #[must_use]
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Sets the id of the client event that caused the error.
    #[must_use]
    pub fn with_event_id(mut self, event_id: impl Into<EventId>) -> Self {
        self.event_id = Some(event_id.into());
        self
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(param) = &self.param {
            write!(f, " [param {param}]")?;
        }
        if let Some(event_id) = &self.event_id {
            write!(f, " [event {event_id}]")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The codes the service uses to refuse a client event, as reproduced by
/// [`ClientEvent::decode_strict`](crate::ClientEvent::decode_strict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RequestErrorCode {
    /// `invalid_event`: not JSON, not an object, or no `type`.
    InvalidEvent,
    /// `invalid_value`: an unknown event type, or an unknown value of a closed field
    /// (`session.type: "session"`).
    InvalidValue,
    /// `missing_required_parameter`: e.g. `session.type` missing.
    MissingRequiredParameter,
    /// `unknown_parameter`: a field the dialect does not have (e.g. the beta
    /// `session.input_audio_format` on a GA socket). The whole event is refused.
    UnknownParameter,
    /// `invalid_type`: a field of the wrong JSON type.
    InvalidType,
}

impl RequestErrorCode {
    /// The code string, as the service writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidEvent => "invalid_event",
            Self::InvalidValue => "invalid_value",
            Self::MissingRequiredParameter => "missing_required_parameter",
            Self::UnknownParameter => "unknown_parameter",
            Self::InvalidType => "invalid_type",
        }
    }
}

impl fmt::Display for RequestErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client event the service would refuse: its code, message and param, as the service
/// writes them in its `error` event.
///
/// Turn it into the service's error payload with [`RequestError::to_api_error`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestError {
    code: RequestErrorCode,
    message: String,
    param: Option<String>,
    event_id: Option<EventId>,
}

impl RequestError {
    pub(crate) fn new(
        code: RequestErrorCode,
        message: impl Into<String>,
        param: Option<String>,
        event_id: Option<EventId>,
    ) -> Self {
        Self {
            code,
            message: message.into(),
            param,
            event_id,
        }
    }

    /// The refusal code.
    pub fn code(&self) -> RequestErrorCode {
        self.code
    }

    /// The message, worded like the service's.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The offending parameter's path (`session.input_audio_format`), when there is one.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// The `event_id` of the refused event, when it could be read.
    pub fn event_id(&self) -> Option<&EventId> {
        self.event_id.as_ref()
    }

    /// The `error` payload the service sends for this refusal (`type` is
    /// `invalid_request_error`).
    pub fn to_api_error(&self) -> ApiError {
        ApiError {
            kind: "invalid_request_error".to_owned(),
            code: Some(self.code.as_str().to_owned()),
            message: self.message.clone(),
            param: self.param.clone(),
            event_id: self.event_id.clone(),
            extra: Default::default(),
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for RequestError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_error_is_one_pointer_wide() {
        assert_eq!(size_of::<DecodeError>(), size_of::<usize>());
    }

    #[test]
    fn errors_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<DecodeError>();
        assert_send_sync::<ApiError>();
        assert_send_sync::<RequestError>();
    }
}
