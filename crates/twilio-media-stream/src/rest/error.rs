//! REST errors: Twilio's refusals, network failures, undecodable answers.

use std::error::Error as StdError;
use std::fmt;

use serde::Deserialize;

/// Why a REST request failed.
///
/// Match on [`Error::Api`] to react to Twilio's error codes (e.g. 21211, an invalid `To`);
/// the other variants are for logging and retrying.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Twilio refused the request with its error JSON (code, message, more_info, status).
    #[error(transparent)]
    Api(ApiError),
    /// Twilio (or a proxy in front of it) answered with an error status and a body that is
    /// not Twilio's error JSON.
    #[error("twilio answered HTTP {status}: {body}")]
    Status {
        /// The HTTP status.
        status: u16,
        /// The body (at most 64 KiB of it), lossily decoded as UTF-8.
        body: String,
    },
    /// The request did not get an answer: connection refused, TLS failure, timeout.
    #[error(transparent)]
    Transport(TransportError),
    /// Twilio answered with success but the body is not the expected resource.
    #[error("twilio answered HTTP {status} with a body that could not be decoded: {source}")]
    Decode {
        /// The HTTP status.
        status: u16,
        /// The body (at most 64 KiB of it), lossily decoded as UTF-8.
        body: String,
        /// What serde made of it.
        source: serde_json::Error,
    },
    /// The answer was larger than the client accepts.
    #[error("twilio's answer (HTTP {status}) is larger than {limit} bytes")]
    ResponseTooLarge {
        /// The HTTP status.
        status: u16,
        /// The limit, in bytes.
        limit: usize,
    },
    /// The request was not sent because it cannot succeed (e.g. TwiML over 4000 characters).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The client could not be built (bad base URL, TLS set-up).
    #[error("invalid REST client configuration: {0}")]
    Config(String),
}

impl Error {
    /// Twilio's error, if Twilio refused the request.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Self::Api(api) => Some(api),
            _ => None,
        }
    }

    /// The HTTP status of Twilio's answer, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api(api) => Some(api.status),
            Self::Status { status, .. }
            | Self::Decode { status, .. }
            | Self::ResponseTooLarge { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Transport(transport) if transport.is_timeout())
    }
}

/// Twilio's error answer, in the legacy 2010 API shape
/// (`{"code":21211,"message":"...","more_info":"https://www.twilio.com/docs/errors/21211","status":400}`)
/// or the RFC 9457 shape some newer APIs use (`title`, `detail`, `type`).
///
/// `Display` shows the code and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    code: Option<u32>,
    message: String,
    more_info: Option<String>,
    status: u16,
    body: String,
}

impl ApiError {
    /// Twilio's error code (e.g. 21211: invalid `To`; 20003: authentication failed; 21220:
    /// the call is not in a state that allows the update), when the answer carried one.
    pub fn code(&self) -> Option<u32> {
        self.code
    }

    /// Twilio's message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The link to the error's documentation.
    pub fn more_info(&self) -> Option<&str> {
        self.more_info.as_deref()
    }

    /// The HTTP status of the answer.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The answer's body as received (at most 64 KiB of it).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// Reads Twilio's error JSON from an error answer; `None` when the body is not one.
    pub(crate) fn from_body(status: u16, body: &str) -> Option<Self> {
        #[derive(Deserialize)]
        struct Wire {
            code: Option<u32>,
            message: Option<String>,
            more_info: Option<String>,
            detail: Option<String>,
            title: Option<String>,
            #[serde(rename = "type")]
            kind: Option<String>,
        }
        let wire: Wire = serde_json::from_str(body).ok()?;
        let message = wire.message.or(wire.detail).or(wire.title);
        if message.is_none() && wire.code.is_none() {
            return None;
        }
        Some(Self {
            code: wire.code,
            message: message.unwrap_or_default(),
            more_info: wire.more_info.or(wire.kind),
            status,
            body: body.to_owned(),
        })
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "twilio error {code}")?,
            None => f.write_str("twilio error")?,
        }
        write!(f, " (HTTP {}): {}", self.status, self.message)?;
        if let Some(more_info) = &self.more_info {
            write!(f, " ({more_info})")?;
        }
        Ok(())
    }
}

impl StdError for ApiError {}

/// A request that got no answer: the connection, TLS or a timeout failed.
///
/// `Display` says what failed and `source()` gives the cause; neither contains credentials.
#[derive(Debug)]
pub struct TransportError {
    inner: reqwest::Error,
}

impl TransportError {
    pub(crate) fn new(inner: reqwest::Error) -> Self {
        Self { inner }
    }

    /// Whether the request timed out.
    pub fn is_timeout(&self) -> bool {
        self.inner.is_timeout()
    }

    /// Whether the connection could not be made.
    pub fn is_connect(&self) -> bool {
        self.inner.is_connect()
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Name the root cause too: "error sending request" alone says nothing. A cause
        // whose text the line already ends with (an error that prints its own source) is
        // not said twice.
        let mut line = format!("twilio request failed: {}", self.inner);
        let mut source = self.inner.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !text.is_empty() && !line.ends_with(&text) {
                line.push_str(": ");
                line.push_str(&text);
            }
            source = cause.source();
        }
        f.write_str(&line)
    }
}

impl StdError for TransportError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_error_json() {
        let body = r#"{"code":21211,"message":"The 'To' number 5551234567 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#;
        let err = ApiError::from_body(400, body).unwrap();
        assert_eq!(err.code(), Some(21211));
        assert_eq!(err.status(), 400);
        assert_eq!(
            err.more_info(),
            Some("https://www.twilio.com/docs/errors/21211")
        );
        assert_eq!(
            err.to_string(),
            "twilio error 21211 (HTTP 400): The 'To' number 5551234567 is not a valid phone \
             number. (https://www.twilio.com/docs/errors/21211)"
        );
        assert_eq!(err.body(), body);
    }

    #[test]
    fn rfc9457_error_json() {
        let body = r#"{"type":"https://www.twilio.com/docs/errors/20404","title":"Not Found","status":404,"code":20404,"detail":"The requested resource was not found","instance":"/v1/x"}"#;
        let err = ApiError::from_body(404, body).unwrap();
        assert_eq!(err.code(), Some(20404));
        assert_eq!(err.message(), "The requested resource was not found");
        assert_eq!(
            err.more_info(),
            Some("https://www.twilio.com/docs/errors/20404")
        );
    }

    #[test]
    fn bodies_that_are_not_twilio_errors() {
        for body in [
            "<html>Bad Gateway</html>",
            "",
            "{}",
            "[1]",
            r#"{"status":502}"#,
        ] {
            assert_eq!(ApiError::from_body(502, body), None, "{body}");
        }
    }

    #[test]
    fn errors_are_send_and_sync() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        assert_send_sync::<ApiError>();
    }
}
