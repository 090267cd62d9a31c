//! `X-Twilio-Signature`: validate Twilio's requests, and sign requests the way Twilio does.
//!
//! Twilio signs every webhook it sends (TwiML fetches, call status callbacks, AMD callbacks,
//! `<Stream>` status callbacks) and the WebSocket upgrade request of a media stream with
//! `base64(HMAC-SHA1(auth token, data))`, where `data` is:
//!
//! - **form-encoded POST**: the full URL Twilio requested (query string exactly as sent),
//!   followed by every POST parameter as `name` + `value`, sorted by name in code-point order
//!   ([`RequestValidator::validate_form`]);
//! - **JSON body**: the URL alone, which carries `bodySHA256=<hex SHA-256 of the raw body>` in
//!   its query string; the body hash is checked too ([`RequestValidator::validate_json`]);
//! - **WebSocket upgrade** (a GET): the `wss://` URL alone
//!   ([`RequestValidator::validate_websocket`]).
//!
//! Validation follows Twilio's official Python SDK exactly: the URL is tried without its port
//! and with it, where "with" keeps an explicit port or adds the default one. Note the SDK's
//! quirk, kept here for compatibility: the added default is `:443` only for `https`; every
//! other scheme, including `wss`, gets `:80`. So a signature made over `wss://host:443/path`
//! does not validate `wss://host/path`.
//!
//! Signatures are compared in constant time.
//!
//! # Webhook shared keys (HMAC-SHA256)
//!
//! Where a Twilio Webhooks rule matches the URL (a public beta), Twilio signs with the rule's
//! shared key and HMAC-SHA256 instead, and says so in the
//! [`X-Twilio-Webhooks-Signature-Settings`](SIGNATURE_SETTINGS_HEADER) header
//! (`key=<keyId>,algorithm=HMAC_SHA256`). The signed data is the same. Read the header with
//! [`Algorithm::from_settings_header`] and build the validator with
//! [`RequestValidator::with_algorithm`].
//!
//! # Which URL to validate
//!
//! Use the public URL Twilio called, not what your server saw behind a proxy: a
//! TLS-terminating proxy turns `https`/`wss` into `http`/`ws`, and every check then fails.
//! Rebuild it from a configured public base URL (best) or from `X-Forwarded-Proto` and
//! `X-Forwarded-Host`. For a media stream, that is exactly the `url` of your `<Stream>`.
//! Twilio's docs suggest retrying a WebSocket handshake with a trailing `/` appended if it will
//! not verify; the SDK does not do that by itself, and neither does this module (the
//! `server` feature's `Verifier::check_stream` does, and rebuilds the public URLs for you).
//!
//! # Examples
//!
//! ```
//! use twilio_media_stream::signature::{sign, AuthToken, RequestValidator};
//!
//! let token = AuthToken::new("12345");
//! let url = "https://example.com/myapp.php?foo=1&bar=2";
//! let params = [
//!     ("CallSid", "CA1234567890ABCDE"),
//!     ("Caller", "+14158675310"),
//!     ("Digits", "1234"),
//!     ("From", "+14158675310"),
//!     ("To", "+18005551212"),
//! ];
//! // Twilio's documented example.
//! assert_eq!(sign(&token, url, params), "L/OH5YylLD5NRKLltdqwSvS0BnU=");
//!
//! let validator = RequestValidator::new(token);
//! assert!(validator.validate_form(url, params, "L/OH5YylLD5NRKLltdqwSvS0BnU=").is_ok());
//! assert!(validator.validate_form(url, params, "bm90IHRoZSBzaWduYXR1cmU=").is_err());
//! ```

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

/// The name of the HTTP header that carries the signature.
pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

/// The header that names the key and algorithm when Twilio signs with a webhook shared key.
pub const SIGNATURE_SETTINGS_HEADER: &str = "X-Twilio-Webhooks-Signature-Settings";

/// The query parameter that carries the SHA-256 of a JSON body.
pub const BODY_SHA256_PARAM: &str = "bodySHA256";

/// A Twilio account's auth token: the key of every request signature, and the password of
/// the REST API. (It also holds a webhook shared key's secret, for
/// [`Algorithm::HmacSha256`].)
///
/// Its `Debug` output is redacted and it has no `Display`, so it cannot end up in a log by
/// accident. Read it with [`expose_secret`](Self::expose_secret) where it is really needed.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::signature::AuthToken;
///
/// let token = AuthToken::new("0123456789abcdef0123456789abcdef");
/// assert_eq!(format!("{token:?}"), "AuthToken(<redacted>)");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AuthToken(String);

impl AuthToken {
    /// Wraps an auth token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(token.into())
    }

    /// The token itself. Do not log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for AuthToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthToken(<redacted>)")
    }
}

impl From<String> for AuthToken {
    fn from(token: String) -> Self {
        Self(token)
    }
}

/// Why a request's signature was not accepted.
///
/// Answer all of these with HTTP 403 (or, right after a WebSocket upgrade, close code 1008)
/// and log the variant: the `Display` text names the URL that was checked, never a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The request carried no `X-Twilio-Signature` (or an empty one).
    #[error("request has no X-Twilio-Signature")]
    Missing,
    /// The signature matches neither form of the URL (with or without the port). Usually the
    /// wrong auth token, or a URL that differs from the one Twilio called (scheme or host
    /// rewritten by a proxy, a missing query string, a trailing `/`).
    #[error("X-Twilio-Signature does not match the request for url {url}")]
    Mismatch {
        /// The URL the signature was checked against, as given to the validator.
        url: String,
    },
    /// A JSON request's URL has no `bodySHA256` query parameter.
    #[error("url {url} has no bodySHA256 query parameter for the JSON body")]
    MissingBodyHash {
        /// The URL as given to the validator.
        url: String,
    },
    /// `X-Twilio-Webhooks-Signature-Settings` names an algorithm this crate does not
    /// implement; the request cannot be validated.
    #[error("unsupported signature algorithm {algorithm:?}")]
    UnsupportedAlgorithm {
        /// The algorithm as named in the header.
        algorithm: String,
    },
    /// The body's SHA-256 differs from the URL's `bodySHA256`: the body was changed.
    #[error("the body's SHA-256 does not match bodySHA256 in url {url}")]
    BodyHashMismatch {
        /// The URL as given to the validator.
        url: String,
    },
}

/// One form parameter (`name`, `value`) as the signature functions take it.
///
/// Implemented for pairs of anything string-like (`(&str, &str)`, `(String, String)`,
/// `(Cow<str>, Cow<str>)` from [`form_urlencoded::parse`], the `(&K, &V)` items of a map) and
/// for references to them, so `&Vec<(String, String)>` works as a parameter list too.
pub trait FormParam {
    /// The parameter's name, decoded.
    fn name(&self) -> &str;
    /// The parameter's value, decoded.
    fn value(&self) -> &str;
}

impl<K: AsRef<str>, V: AsRef<str>> FormParam for (K, V) {
    fn name(&self) -> &str {
        self.0.as_ref()
    }

    fn value(&self) -> &str {
        self.1.as_ref()
    }
}

impl<P: FormParam + ?Sized> FormParam for &P {
    fn name(&self) -> &str {
        (**self).name()
    }

    fn value(&self) -> &str {
        (**self).value()
    }
}

/// The HMAC Twilio signs a request with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA1 keyed with the auth token: every request without
    /// `X-Twilio-Webhooks-Signature-Settings`.
    #[default]
    HmacSha1,
    /// HMAC-SHA256 keyed with a webhook shared key (`algorithm=HMAC_SHA256`).
    HmacSha256,
}

impl Algorithm {
    /// Reads the algorithm from the `X-Twilio-Webhooks-Signature-Settings` header value
    /// (`None` when the request has no such header), as the SDKs do: no header or no
    /// `algorithm=` means [`Algorithm::HmacSha1`].
    ///
    /// # Errors
    ///
    /// [`SignatureError::UnsupportedAlgorithm`] for any other algorithm name.
    ///
    /// # Examples
    ///
    /// ```
    /// use twilio_media_stream::signature::Algorithm;
    ///
    /// assert_eq!(Algorithm::from_settings_header(None), Ok(Algorithm::HmacSha1));
    /// assert_eq!(
    ///     Algorithm::from_settings_header(Some("key=KS123,algorithm=HMAC_SHA256")),
    ///     Ok(Algorithm::HmacSha256)
    /// );
    /// assert!(Algorithm::from_settings_header(Some("algorithm=MD5")).is_err());
    /// ```
    pub fn from_settings_header(value: Option<&str>) -> Result<Self, SignatureError> {
        let algorithm = value.and_then(|value| {
            value
                .split(',')
                .filter_map(|part| part.split_once('='))
                .find(|(name, _)| name.trim() == "algorithm")
                .map(|(_, algorithm)| algorithm.trim())
        });
        match algorithm {
            None | Some("HMAC_SHA1") => Ok(Self::HmacSha1),
            Some("HMAC_SHA256") => Ok(Self::HmacSha256),
            Some(other) => Err(SignatureError::UnsupportedAlgorithm {
                algorithm: other.to_owned(),
            }),
        }
    }
}

/// Checks `X-Twilio-Signature` on requests from Twilio, as Twilio's official SDKs do.
///
/// Holds the auth token; its `Debug` output is redacted.
///
/// # Examples
///
/// Validating the WebSocket upgrade of a `<Connect><Stream url="wss://bot.example.com/media-stream">`:
///
/// ```
/// use twilio_media_stream::signature::{sign, AuthToken, RequestValidator, SignatureError};
///
/// let token = AuthToken::new("0123456789abcdef0123456789abcdef");
/// let url = "wss://bot.example.com/media-stream";
/// let header = sign(&token, url, [] as [(&str, &str); 0]);
///
/// let validator = RequestValidator::new(token);
/// assert_eq!(validator.validate_websocket(url, &header), Ok(()));
/// // The same signature does not fit the https:// form a proxy may show you.
/// assert!(matches!(
///     validator.validate_websocket("https://bot.example.com/media-stream", &header),
///     Err(SignatureError::Mismatch { .. })
/// ));
/// ```
#[derive(Debug, Clone)]
pub struct RequestValidator {
    token: AuthToken,
    algorithm: Algorithm,
}

impl RequestValidator {
    /// A validator for requests signed with this account's auth token (HMAC-SHA1).
    pub fn new(token: AuthToken) -> Self {
        Self {
            token,
            algorithm: Algorithm::HmacSha1,
        }
    }

    /// A validator for requests signed with `key` and `algorithm`: for a webhook shared key,
    /// the key's secret and [`Algorithm::HmacSha256`].
    ///
    /// # Examples
    ///
    /// ```
    /// use twilio_media_stream::signature::{Algorithm, AuthToken, RequestValidator};
    ///
    /// let settings = Some("key=KS0123,algorithm=HMAC_SHA256"); // the request's header
    /// let validator = RequestValidator::with_algorithm(
    ///     AuthToken::new("0123456789abcdef0123456789abcdef"),
    ///     Algorithm::from_settings_header(settings)?,
    /// );
    /// assert!(validator
    ///     .validate_websocket(
    ///         "wss://bot.example.com/media-stream",
    ///         "dQhuFDQdt90SwM9a6XpGlcGPEenDtCh03C/Nnau83w8=",
    ///     )
    ///     .is_ok());
    /// # Ok::<(), twilio_media_stream::signature::SignatureError>(())
    /// ```
    pub fn with_algorithm(key: AuthToken, algorithm: Algorithm) -> Self {
        Self {
            token: key,
            algorithm,
        }
    }

    /// Validates a form-encoded request (`application/x-www-form-urlencoded` POST) from its
    /// URL, all of its decoded POST parameters, and the `X-Twilio-Signature` header value.
    ///
    /// Pass every parameter received (Twilio adds new ones without notice), in any order.
    /// A name that appears several times is passed once per value. For a GET, the
    /// parameters are in the URL: pass none.
    ///
    /// # Errors
    ///
    /// [`SignatureError::Missing`] for an empty `signature`, [`SignatureError::Mismatch`]
    /// when it fits neither form of the URL.
    pub fn validate_form<P: FormParam>(
        &self,
        url: &str,
        params: impl IntoIterator<Item = P>,
        signature: &str,
    ) -> Result<(), SignatureError> {
        if signature.is_empty() {
            return Err(SignatureError::Missing);
        }
        let params: Vec<P> = params.into_iter().collect();
        let (without_port, with_port) = port_variants(url);
        let matches =
            signature_matches(
                self.algorithm,
                &self.token,
                &without_port,
                &params,
                signature,
            ) | signature_matches(self.algorithm, &self.token, &with_port, &params, signature);
        if bool::from(matches) {
            Ok(())
        } else {
            Err(SignatureError::Mismatch {
                url: url.to_owned(),
            })
        }
    }

    /// Validates a form-encoded request from its URL and raw body (the decoding is done
    /// here). Same rules as [`validate_form`](Self::validate_form).
    ///
    /// # Errors
    ///
    /// As [`validate_form`](Self::validate_form).
    ///
    /// # Examples
    ///
    /// ```
    /// use twilio_media_stream::signature::{sign, AuthToken, RequestValidator};
    ///
    /// let token = AuthToken::new("secret");
    /// let url = "https://bot.example.com/twilio/amd";
    /// let body = b"CallSid=CA123&AnsweredBy=machine_end_beep&MachineDetectionDuration=4210";
    /// let header = sign(&token, url, form_urlencoded::parse(body));
    /// assert!(RequestValidator::new(token).validate_form_body(url, body, &header).is_ok());
    /// ```
    pub fn validate_form_body(
        &self,
        url: &str,
        body: &[u8],
        signature: &str,
    ) -> Result<(), SignatureError> {
        self.validate_form(url, form_urlencoded::parse(body), signature)
    }

    /// Validates a request with a JSON (or any non-form) body: the signature covers the URL
    /// only, and the URL's `bodySHA256` query parameter must equal the hex SHA-256 of
    /// `body`, the exact bytes received.
    ///
    /// # Errors
    ///
    /// [`SignatureError::Missing`] for an empty `signature`,
    /// [`SignatureError::MissingBodyHash`] when the URL has no `bodySHA256`,
    /// [`SignatureError::BodyHashMismatch`] when the body was changed, and
    /// [`SignatureError::Mismatch`] when the signature fits neither form of the URL.
    pub fn validate_json(
        &self,
        url: &str,
        body: &[u8],
        signature: &str,
    ) -> Result<(), SignatureError> {
        if signature.is_empty() {
            return Err(SignatureError::Missing);
        }
        let Some(expected_hash) = body_sha256_param(url) else {
            return Err(SignatureError::MissingBodyHash {
                url: url.to_owned(),
            });
        };
        let hash_matches = body_sha256_hex(body)
            .as_bytes()
            .ct_eq(expected_hash.as_bytes());
        let (without_port, with_port) = port_variants(url);
        let no_params: [(&str, &str); 0] = [];
        let signature_ok = signature_matches(
            self.algorithm,
            &self.token,
            &without_port,
            &no_params,
            signature,
        ) | signature_matches(
            self.algorithm,
            &self.token,
            &with_port,
            &no_params,
            signature,
        );
        if !bool::from(hash_matches) {
            Err(SignatureError::BodyHashMismatch {
                url: url.to_owned(),
            })
        } else if !bool::from(signature_ok) {
            Err(SignatureError::Mismatch {
                url: url.to_owned(),
            })
        } else {
            Ok(())
        }
    }

    /// Validates the WebSocket upgrade request of a media stream: a GET whose signature
    /// covers the URL alone. `url` is the public `wss://` URL of your `<Stream>`.
    ///
    /// # Errors
    ///
    /// As [`validate_form`](Self::validate_form).
    pub fn validate_websocket(&self, url: &str, signature: &str) -> Result<(), SignatureError> {
        self.validate_form(url, [] as [(&str, &str); 0], signature)
    }
}

/// Computes `X-Twilio-Signature` for a request to `url` with these form parameters, exactly
/// as Twilio does (HMAC-SHA1 over the URL followed by the sorted `name` + `value` pairs,
/// base64). The URL is used as given, port and all.
///
/// For a WebSocket upgrade or any GET, pass no parameters. For a JSON body, pass no
/// parameters and a URL made with [`url_with_body_sha256`].
///
/// Parameter order does not matter; repeated names are kept (each distinct value counts
/// once, as in the SDKs).
///
/// # Examples
///
/// ```
/// use twilio_media_stream::signature::{sign, AuthToken};
///
/// let token = AuthToken::new("0123456789abcdef0123456789abcdef");
/// let header = sign(&token, "wss://bot.example.com/media-stream", [] as [(&str, &str); 0]);
/// assert_eq!(header.len(), 28); // base64 of a 20-byte HMAC-SHA1
/// ```
pub fn sign<P: FormParam>(
    auth_token: &AuthToken,
    url: &str,
    params: impl IntoIterator<Item = P>,
) -> String {
    sign_with(Algorithm::HmacSha1, auth_token, url, params)
}

/// Computes a signature with the given algorithm and key, e.g. [`Algorithm::HmacSha256`]
/// and a webhook shared key's secret. [`sign`] is this with [`Algorithm::HmacSha1`].
///
/// # Examples
///
/// ```
/// use twilio_media_stream::signature::{sign_with, Algorithm, AuthToken};
///
/// let key = AuthToken::new("0123456789abcdef0123456789abcdef");
/// let params = [
///     ("CallSid", "CA0123456789abcdef0123456789abcdef"),
///     ("CallStatus", "completed"),
/// ];
/// assert_eq!(
///     sign_with(Algorithm::HmacSha256, &key, "https://bot.example.com/twilio/status", params),
///     "zWowZoZ/dqgtsvvbDejfbxp+NlKcKBsV1SJI4PKC9WI="
/// );
/// ```
pub fn sign_with<P: FormParam>(
    algorithm: Algorithm,
    key: &AuthToken,
    url: &str,
    params: impl IntoIterator<Item = P>,
) -> String {
    let params: Vec<P> = params.into_iter().collect();
    BASE64.encode(mac(algorithm, key, url, &params))
}

/// Appends `bodySHA256=<hex SHA-256 of body>` to `url`, as Twilio does before signing a
/// request with a JSON body.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::signature::url_with_body_sha256;
///
/// assert_eq!(
///     url_with_body_sha256("https://example.com/myapp", br#"{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}"#),
///     "https://example.com/myapp?bodySHA256=5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"
/// );
/// ```
pub fn url_with_body_sha256(url: &str, body: &[u8]) -> String {
    let separator = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{separator}{BODY_SHA256_PARAM}={}",
        body_sha256_hex(body)
    )
}

/// The lowercase hex SHA-256 of `body`.
fn body_sha256_hex(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    hex
}

/// The first `bodySHA256` value of the URL's query string, percent-decoded.
fn body_sha256_param(url: &str) -> Option<Cow<'_, str>> {
    let (_, query) = url.split_once('?')?;
    let query = query.split('#').next().unwrap_or_default();
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == BODY_SHA256_PARAM)
        .map(|(_, value)| value)
}

fn signature_matches<P: FormParam>(
    algorithm: Algorithm,
    key: &AuthToken,
    url: &str,
    params: &[P],
    signature: &str,
) -> Choice {
    let expected = BASE64.encode(mac(algorithm, key, url, params));
    expected.as_bytes().ct_eq(signature.as_bytes())
}

/// The HMAC over the signed data: the URL, then each sorted `name` + `value`.
fn mac<P: FormParam>(algorithm: Algorithm, key: &AuthToken, url: &str, params: &[P]) -> Vec<u8> {
    let mut pairs: Vec<(&str, &str)> = params
        .iter()
        .map(|param| (param.name(), param.value()))
        .collect();
    // Names in code-point order (Rust's `str` order is byte order, which for UTF-8 is
    // code-point order), each distinct value of a repeated name once, values sorted.
    pairs.sort_unstable();
    pairs.dedup();

    let key = key.expose_secret().as_bytes();
    match algorithm {
        Algorithm::HmacSha1 => hmac::<Hmac<Sha1>>(key, url, &pairs),
        Algorithm::HmacSha256 => hmac::<Hmac<Sha256>>(key, url, &pairs),
    }
}

fn hmac<M: Mac + hmac::digest::KeyInit>(key: &[u8], url: &str, pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut mac = <M as hmac::digest::KeyInit>::new_from_slice(key)
        .expect("HMAC accepts a key of any length");
    mac.update(url.as_bytes());
    for (name, value) in pairs {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// The two URLs the SDK signs against: without the port, and with it (an explicit port, or
/// the scheme's default as the SDK computes it: 443 for `https`, 80 for anything else).
///
/// Mirrors `urllib.parse`: the scheme is lowercased; a URL without `scheme://authority` is
/// used as it is for both.
fn port_variants(url: &str) -> (Cow<'_, str>, Cow<'_, str>) {
    let Some((scheme, authority, tail)) = split_authority(url) else {
        return (Cow::Borrowed(url), Cow::Borrowed(url));
    };
    let scheme = scheme.to_ascii_lowercase();
    match explicit_port(authority) {
        Some(port) => {
            let host = &authority[..authority.len() - port.len() - 1];
            (
                Cow::Owned(format!("{scheme}://{host}{tail}")),
                Cow::Owned(format!("{scheme}://{authority}{tail}")),
            )
        }
        None => {
            let default_port = if scheme == "https" { 443 } else { 80 };
            (
                Cow::Owned(format!("{scheme}://{authority}{tail}")),
                Cow::Owned(format!("{scheme}://{authority}:{default_port}{tail}")),
            )
        }
    }
}

/// Splits `scheme://authority/rest` into its three parts (the third keeps its `/`, `?` or
/// `#`).
fn split_authority(url: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let valid_scheme = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !valid_scheme {
        return None;
    }
    let rest = rest.strip_prefix("//")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    Some((scheme, authority, tail))
}

/// The digits of an explicit, non-zero port at the end of `authority`, as Python's
/// `urlparse(..).port` finds it (after any `user:password@`, after an IPv6 `[...]`).
fn explicit_port(authority: &str) -> Option<&str> {
    let host_and_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let port = if let Some(bracketed) = host_and_port.strip_prefix('[') {
        bracketed.split_once(']')?.1.strip_prefix(':')?
    } else {
        host_and_port.split_once(':')?.1
    };
    let number: u16 = if port.bytes().all(|b| b.is_ascii_digit()) {
        port.parse().ok()?
    } else {
        return None;
    };
    (number != 0).then_some(port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn token() -> AuthToken {
        AuthToken::new(TOKEN)
    }

    #[test]
    fn port_variants_follow_the_sdk() {
        let cases = [
            ("https://h/p?q=1", "https://h/p?q=1", "https://h:443/p?q=1"),
            ("https://h:443/p", "https://h/p", "https://h:443/p"),
            ("https://h:8443/p", "https://h/p", "https://h:8443/p"),
            ("wss://h/p", "wss://h/p", "wss://h:80/p"),
            ("http://h", "http://h", "http://h:80"),
            ("HTTPS://h/p", "https://h/p", "https://h:443/p"),
            (
                "https://u:pw@h:444/p",
                "https://u:pw@h/p",
                "https://u:pw@h:444/p",
            ),
            (
                "https://[::1]:8443/p",
                "https://[::1]/p",
                "https://[::1]:8443/p",
            ),
            ("https://[::1]/p", "https://[::1]/p", "https://[::1]:443/p"),
            ("https://h:0/p", "https://h:0/p", "https://h:0:443/p"),
            ("https:/evil//h/p", "https:/evil//h/p", "https:/evil//h/p"),
            ("not a url", "not a url", "not a url"),
        ];
        for (url, without, with) in cases {
            let (a, b) = port_variants(url);
            assert_eq!((a.as_ref(), b.as_ref()), (without, with), "{url}");
        }
    }

    #[test]
    fn repeated_parameters_match_the_sdk_unit_test() {
        // twilio-python's multi-value vector: values deduplicated and sorted per name.
        let params = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ];
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        assert_eq!(
            sign(&AuthToken::new("12345"), url, params),
            "IK+Dwps556ElfBT0I3Rgjkr1wJU="
        );
    }

    #[test]
    fn shared_key_hmac_sha256_matches_the_sdk() {
        // Computed with twilio-python 9.13.0 (reference section 5, "shared keys").
        let key = AuthToken::new("0123456789abcdef0123456789abcdef");
        let params = [
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("CallStatus", "completed"),
        ];
        let url = "https://bot.example.com/twilio/status";
        let status = "zWowZoZ/dqgtsvvbDejfbxp+NlKcKBsV1SJI4PKC9WI=";
        let upgrade = "dQhuFDQdt90SwM9a6XpGlcGPEenDtCh03C/Nnau83w8=";
        assert_eq!(sign_with(Algorithm::HmacSha256, &key, url, params), status);

        let sha256 = RequestValidator::with_algorithm(key.clone(), Algorithm::HmacSha256);
        assert_eq!(sha256.validate_form(url, params, status), Ok(()));
        assert_eq!(
            sha256.validate_websocket("wss://bot.example.com/media-stream", upgrade),
            Ok(())
        );
        // The same key with the other algorithm does not validate.
        let sha1 = RequestValidator::new(key);
        assert!(sha1.validate_form(url, params, status).is_err());
    }

    #[test]
    fn settings_header_parsing() {
        let cases = [
            (None, Ok(Algorithm::HmacSha1)),
            (Some("key=KS1"), Ok(Algorithm::HmacSha1)),
            (
                Some("key=KS1,algorithm=HMAC_SHA256"),
                Ok(Algorithm::HmacSha256),
            ),
            (
                Some("algorithm=HMAC_SHA256, key=KS1"),
                Ok(Algorithm::HmacSha256),
            ),
            (Some("algorithm=HMAC_SHA1"), Ok(Algorithm::HmacSha1)),
            (
                Some("key=KS1,algorithm=HMAC_SHA512"),
                Err(SignatureError::UnsupportedAlgorithm {
                    algorithm: "HMAC_SHA512".into(),
                }),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(
                Algorithm::from_settings_header(header),
                expected,
                "{header:?}"
            );
        }
    }

    #[test]
    fn empty_signature_is_missing() {
        let validator = RequestValidator::new(token());
        assert_eq!(
            validator.validate_websocket("wss://h/p", ""),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            validator.validate_json("https://h/p?bodySHA256=00", b"{}", ""),
            Err(SignatureError::Missing)
        );
    }

    #[test]
    fn json_without_body_hash_is_a_typed_error() {
        let validator = RequestValidator::new(token());
        let url = "https://h/p?x=1";
        let header = sign(&token(), url, [] as [(&str, &str); 0]);
        assert_eq!(
            validator.validate_json(url, b"{}", &header),
            Err(SignatureError::MissingBodyHash { url: url.into() })
        );
    }

    #[test]
    fn json_round_trip_and_tampering() {
        let validator = RequestValidator::new(token());
        let body = br#"{"a":1}"#;
        let url = url_with_body_sha256("https://h/p?x=1", body);
        let header = sign(&token(), &url, [] as [(&str, &str); 0]);
        assert_eq!(validator.validate_json(&url, body, &header), Ok(()));
        assert!(matches!(
            validator.validate_json(&url, br#"{"a":2}"#, &header),
            Err(SignatureError::BodyHashMismatch { .. })
        ));
        assert!(matches!(
            validator.validate_json(&url, body, "AAAAAAAAAAAAAAAAAAAAAAAAAAA="),
            Err(SignatureError::Mismatch { .. })
        ));
    }

    #[test]
    fn errors_name_the_url_and_no_secret() {
        let err = RequestValidator::new(token())
            .validate_websocket("wss://h/p", "nope")
            .unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(shown.contains("wss://h/p"), "{shown}");
        assert!(!shown.contains(TOKEN), "{shown}");
        let validator = format!("{:?}", RequestValidator::new(token()));
        assert!(!validator.contains(TOKEN), "{validator}");
    }

    #[test]
    fn signature_with_wrong_length_is_rejected_without_panic() {
        let validator = RequestValidator::new(token());
        for header in ["x", "é", &"A".repeat(10_000)] {
            assert!(validator.validate_websocket("wss://h/p", header).is_err());
        }
    }

    fn params_strategy() -> impl Strategy<Value = Vec<(String, String)>> {
        prop::collection::vec(("[A-Za-z_]{0,6}", "\\PC{0,8}"), 0..8)
    }

    proptest! {
        #[test]
        fn parameter_order_does_not_change_the_signature(
            (params, shuffled) in params_strategy()
                .prop_flat_map(|p| (Just(p.clone()), Just(p).prop_shuffle())),
        ) {
            let url = "https://bot.example.com/hook";
            prop_assert_eq!(sign(&token(), url, params), sign(&token(), url, shuffled));
        }

        #[test]
        fn a_signed_request_validates_and_a_changed_value_does_not(
            params in params_strategy(),
            extra in "\\PC{1,4}",
        ) {
            let url = "https://bot.example.com/hook?x=1";
            let pairs: Vec<(&str, &str)> = params.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            let header = sign(&token(), url, pairs.iter().copied());
            let validator = RequestValidator::new(token());
            prop_assert!(validator.validate_form(url, pairs.iter().copied(), &header).is_ok());

            let mut changed = params.clone();
            changed.push(("Added!".to_owned(), extra)); // the strategy never makes this name
            prop_assert!(validator.validate_form(url, changed, &header).is_err());
        }
    }
}
