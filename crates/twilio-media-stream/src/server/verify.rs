//! `X-Twilio-Signature` checks of a stream's upgrade and of form webhooks, against the
//! public URLs Twilio called.

use std::fmt;

use http::{HeaderMap, Request, Response, StatusCode, Uri, header};

use crate::signature::{AuthToken, RequestValidator, SIGNATURE_HEADER, SignatureError};

use super::PublicBase;

/// Checks Twilio's requests against the URLs rebuilt from a [`PublicBase`].
///
/// `Debug` never shows the auth token.
///
/// # Examples
///
/// ```
/// use http::Request;
/// use twilio_media_stream::server::{PublicBase, Verifier};
/// use twilio_media_stream::signature::{sign, AuthToken};
///
/// let token = AuthToken::new("0123456789abcdef0123456789abcdef");
/// let verifier = Verifier::new(token.clone(), PublicBase::parse("bot.example.com")?);
///
/// // What Twilio sends: the upgrade to the `<Stream url>`, signed over that URL.
/// let signature = sign(&token, "wss://bot.example.com/media-stream", [] as [(&str, &str); 0]);
/// let upgrade = Request::get("/media-stream")
///     .header("x-twilio-signature", signature)
///     .body(())?;
/// assert!(verifier.check_stream(&upgrade).is_ok());
///
/// let unsigned = Request::get("/media-stream").body(())?;
/// let refusal = verifier.check_stream(&unsigned).unwrap_err();
/// assert_eq!(refusal.status, http::StatusCode::FORBIDDEN);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Verifier {
    validator: RequestValidator,
    public: PublicBase,
}

impl Verifier {
    /// Checks with the account's auth token (HMAC-SHA1, Twilio's default).
    pub fn new(token: AuthToken, public: PublicBase) -> Self {
        Self::with_validator(RequestValidator::new(token), public)
    }

    /// Checks with your validator (e.g. a Webhooks shared key with HMAC-SHA256).
    pub fn with_validator(validator: RequestValidator, public: PublicBase) -> Self {
        Self { validator, public }
    }

    /// The public base the URLs are rebuilt from.
    pub fn public(&self) -> &PublicBase {
        &self.public
    }

    /// Checks the upgrade request of a media stream: `X-Twilio-Signature` over the public
    /// `wss://` URL of the request's path and query (no body is signed).
    ///
    /// If that URL does not verify and has no query, the same URL with a trailing `/` is
    /// tried: Twilio's security documentation advises it for WebSocket handshakes. No
    /// other variant is tried (the validator itself tries the URL with and without the
    /// default port, as Twilio's SDKs do).
    ///
    /// The path is the request's as your handler sees it. Under axum's `Router::nest` that
    /// is the path with the nest's prefix stripped: put the prefix in the [`PublicBase`],
    /// or pass the original URI (axum's `OriginalUri`) to
    /// [`check_stream_parts`](Self::check_stream_parts).
    ///
    /// # Errors
    ///
    /// A 403 [`Refusal`] naming the URL checked: no signature, or one that matches neither
    /// URL (a wrong auth token, a public base that is not the `<Stream url>`'s host).
    pub fn check_stream<B>(&self, request: &Request<B>) -> Result<(), Refusal> {
        self.check_stream_parts(request.uri(), request.headers())
    }

    /// As [`check_stream`](Self::check_stream), from the request's URI and headers.
    ///
    /// # Errors
    ///
    /// As [`check_stream`](Self::check_stream).
    pub fn check_stream_parts(&self, uri: &Uri, headers: &HeaderMap) -> Result<(), Refusal> {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let url = self.public.wss_url(path);
        let signature = signature(headers);
        let first = match self.validator.validate_websocket(&url, signature) {
            Ok(()) => return Ok(()),
            Err(err) => err,
        };
        if matches!(first, SignatureError::Mismatch { .. })
            && uri.query().is_none()
            && !url.ends_with('/')
        {
            let slashed = format!("{url}/");
            if self
                .validator
                .validate_websocket(&slashed, signature)
                .is_ok()
            {
                return Ok(());
            }
        }
        Err(Refusal::forbidden(&first))
    }

    /// Checks a form-encoded webhook (status callbacks, AMD verdicts, `<Stream>` status):
    /// `X-Twilio-Signature` over the public `https://` URL of the request's path and query
    /// followed by the form's fields. `body` is the raw body as received. As for streams,
    /// `uri` must carry the path Twilio called below the [`PublicBase`] (see
    /// [`check_stream`](Self::check_stream) about nested routers).
    ///
    /// # Errors
    ///
    /// A 403 [`Refusal`] naming the URL checked.
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, Uri};
    /// use twilio_media_stream::server::{PublicBase, Verifier};
    /// use twilio_media_stream::signature::{sign, AuthToken};
    ///
    /// let token = AuthToken::new("0123456789abcdef0123456789abcdef");
    /// let verifier = Verifier::new(token.clone(), PublicBase::parse("bot.example.com")?);
    /// let body = b"CallSid=CA1&CallStatus=completed";
    /// let signed = sign(
    ///     &token,
    ///     "https://bot.example.com/twilio/status?apt_id=7",
    ///     form_urlencoded::parse(body),
    /// );
    /// let mut headers = HeaderMap::new();
    /// headers.insert("x-twilio-signature", HeaderValue::from_str(&signed)?);
    /// let uri: Uri = "/twilio/status?apt_id=7".parse()?;
    /// assert!(verifier.check_webhook(&uri, &headers, body).is_ok());
    /// assert!(verifier.check_webhook(&uri, &headers, b"CallSid=CA2&CallStatus=completed").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_webhook(
        &self,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), Refusal> {
        let path = uri.path_and_query().map_or("/", |p| p.as_str());
        let url = self.public.https_url(path);
        self.validator
            .validate_form_body(&url, body, signature(headers))
            .map_err(|err| Refusal::forbidden(&err))
    }
}

fn signature(headers: &HeaderMap) -> &str {
    headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Why a request was refused: answer with `status` and `reason` as a plain-text body, and
/// log it. The reason names the URL checked, never a secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Refusal {
    /// 403 for a signature problem; 400 or 426 for a request that is not a WebSocket
    /// upgrade; 500 if the answer could not be built.
    pub status: StatusCode,
    /// What was wrong, e.g. `forbidden: X-Twilio-Signature does not match the request for
    /// url wss://bot.example.com/media-stream`.
    pub reason: String,
}

impl Refusal {
    /// A refusal with this status and reason.
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
        }
    }

    fn forbidden(err: &SignatureError) -> Self {
        Self::new(StatusCode::FORBIDDEN, format!("forbidden: {err}"))
    }

    /// The answer: the status, and the reason as a `text/plain` body (axum's `Body`,
    /// `String`, `http_body_util::Full<Bytes>`, ...).
    pub fn into_response<R: From<String>>(self) -> Response<R> {
        let mut response = Response::new(R::from(self.reason));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        response
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.reason, self.status)
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use crate::signature::sign;

    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    fn verifier(base: &str) -> Verifier {
        Verifier::new(AuthToken::new(TOKEN), PublicBase::parse(base).unwrap())
    }

    fn upgrade(path: &str, signed_url: &str) -> Request<()> {
        let signature = sign(&AuthToken::new(TOKEN), signed_url, [] as [(&str, &str); 0]);
        Request::get(path)
            .header(SIGNATURE_HEADER, signature)
            .body(())
            .unwrap()
    }

    #[test]
    fn a_stream_is_checked_against_its_public_wss_url() {
        let v = verifier("https://bot.example.com");
        assert!(
            v.check_stream(&upgrade(
                "/media-stream",
                "wss://bot.example.com/media-stream"
            ))
            .is_ok()
        );
        // The default port is one of the validator's own variants.
        assert!(
            v.check_stream(&upgrade(
                "/media-stream",
                "wss://bot.example.com:443/media-stream"
            ))
            .is_err(),
            "Twilio's SDK adds :80 for wss, so a :443 signature does not verify"
        );
        // Signed for https:// (twilio-aspnet#162), another path, another host: refused.
        for signed in [
            "https://bot.example.com/media-stream",
            "wss://bot.example.com/other",
            "wss://evil.example.com/media-stream",
        ] {
            let refusal = v
                .check_stream(&upgrade("/media-stream", signed))
                .unwrap_err();
            assert_eq!(refusal.status, StatusCode::FORBIDDEN, "{signed}");
            assert!(
                refusal
                    .reason
                    .contains("wss://bot.example.com/media-stream"),
                "names the URL checked: {refusal}"
            );
        }
    }

    #[test]
    fn the_trailing_slash_variant_is_tried_for_streams_only_without_a_query() {
        let v = verifier("bot.example.com");
        assert!(
            v.check_stream(&upgrade(
                "/media-stream",
                "wss://bot.example.com/media-stream/"
            ))
            .is_ok()
        );
        assert!(
            v.check_stream(&upgrade(
                "/media-stream?a=1",
                "wss://bot.example.com/media-stream?a=1/"
            ))
            .is_err()
        );
        assert!(
            v.check_stream(&upgrade(
                "/media-stream?a=1",
                "wss://bot.example.com/media-stream?a=1"
            ))
            .is_ok()
        );
        // Not the other way round: a request for `/x/` signed as `/x`.
        assert!(
            v.check_stream(&upgrade(
                "/media-stream/",
                "wss://bot.example.com/media-stream"
            ))
            .is_err()
        );
    }

    #[test]
    fn a_prefix_and_a_port_are_part_of_the_public_url() {
        let v = verifier("https://bot.example.com:8443/voice");
        assert!(
            v.check_stream(&upgrade(
                "/media-stream",
                "wss://bot.example.com:8443/voice/media-stream"
            ))
            .is_ok()
        );
    }

    #[test]
    fn a_missing_signature_is_named() {
        let refusal = verifier("bot.example.com")
            .check_stream(&Request::get("/media-stream").body(()).unwrap())
            .unwrap_err();
        assert!(
            refusal.reason.contains("no X-Twilio-Signature"),
            "{refusal}"
        );
        let response: Response<String> = refusal.clone().into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(response.body(), &refusal.reason);
    }

    #[test]
    fn webhooks_are_checked_against_path_query_and_form() {
        let v = verifier("bot.example.com");
        let body = b"CallSid=CA1&CallStatus=ringing&Empty=";
        let url = "https://bot.example.com/twilio/status?apt_id=apt_1";
        let mut headers = HeaderMap::new();
        let signed = sign(&AuthToken::new(TOKEN), url, form_urlencoded::parse(body));
        headers.insert(SIGNATURE_HEADER, signed.parse().unwrap());
        let uri: Uri = "/twilio/status?apt_id=apt_1".parse().unwrap();
        assert!(v.check_webhook(&uri, &headers, body).is_ok());
        // The query is signed: another appointment's URL does not verify.
        let other: Uri = "/twilio/status?apt_id=apt_2".parse().unwrap();
        assert!(v.check_webhook(&other, &headers, body).is_err());
        // Nor does a changed field.
        let refusal = v
            .check_webhook(&uri, &headers, b"CallSid=CA1&CallStatus=completed&Empty=")
            .unwrap_err();
        assert!(refusal.reason.contains(url), "{refusal}");
    }

    #[test]
    fn debug_never_shows_the_token() {
        let shown = format!("{:?}", verifier("bot.example.com"));
        assert!(!shown.contains(TOKEN), "{shown}");
    }
}
