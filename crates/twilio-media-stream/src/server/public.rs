//! The public base URL Twilio calls, and the URLs rebuilt from it.

use std::fmt;

use url::Url;

/// Where Twilio reaches your server: a scheme, a host, an optional port and an optional
/// path prefix, e.g. `https://abc123.ngrok.app` or `https://bot.example.com:8443/voice`.
///
/// Twilio calls webhooks over `https://` and streams over `wss://` on the same host; the
/// URLs it signs are rebuilt from this base plus the request's path and query.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::server::PublicBase;
///
/// let public = PublicBase::parse("abc123.ngrok.app/")?; // https:// is optional
/// assert_eq!(public.wss_url("/media-stream"), "wss://abc123.ngrok.app/media-stream");
/// assert_eq!(
///     public.https_url("/twilio/status?apt_id=7"),
///     "https://abc123.ngrok.app/twilio/status?apt_id=7"
/// );
///
/// // A proxy that mounts the app under /voice and strips the prefix.
/// let behind = PublicBase::parse("https://bot.example.com/voice")?;
/// assert_eq!(behind.wss_url("/media-stream"), "wss://bot.example.com/voice/media-stream");
/// # Ok::<(), twilio_media_stream::server::PublicBaseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicBase {
    /// `host[:port]`, lower-case, as Twilio writes it in the URL it signs.
    authority: String,
    /// The path prefix without its trailing `/` (empty for none).
    prefix: String,
}

/// Why a public base URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("public base URL {value:?}: {reason}")]
pub struct PublicBaseError {
    value: String,
    reason: &'static str,
}

impl PublicBaseError {
    fn new(value: &str, reason: &'static str) -> Self {
        Self {
            value: value.to_owned(),
            reason,
        }
    }

    /// What is wrong with it.
    pub fn reason(&self) -> &str {
        self.reason
    }
}

impl PublicBase {
    /// Reads a public base: `host`, `host:port`, or an `https://` or `wss://` URL with an
    /// optional path prefix. A trailing `/` is ignored.
    ///
    /// # Errors
    ///
    /// [`PublicBaseError`] for `http://` or `ws://` (Twilio only streams over TLS and signs
    /// the `https://` URL), another scheme, a query or fragment, credentials, or no host.
    pub fn parse(value: &str) -> Result<Self, PublicBaseError> {
        let trimmed = value.trim();
        let with_scheme = match trimmed.split_once("://") {
            Some((scheme, _)) => match scheme.to_ascii_lowercase().as_str() {
                "https" | "wss" => trimmed.to_owned(),
                "http" | "ws" => {
                    return Err(PublicBaseError::new(
                        value,
                        "Twilio streams to wss:// and signs https:// URLs; give the https host",
                    ));
                }
                _ => return Err(PublicBaseError::new(value, "the scheme must be https://")),
            },
            None => format!("https://{trimmed}"),
        };
        let url = Url::parse(&with_scheme)
            .map_err(|_| PublicBaseError::new(value, "not a valid URL or host"))?;
        let Some(host) = url.host_str() else {
            return Err(PublicBaseError::new(value, "no host"));
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(PublicBaseError::new(
                value,
                "credentials do not belong in it",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(PublicBaseError::new(
                value,
                "a query or fragment does not belong in it",
            ));
        }
        // `Url` drops the default port (443) for https; keep any other the user gave.
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(Self {
            authority: authority.to_ascii_lowercase(),
            prefix: url.path().trim_end_matches('/').to_owned(),
        })
    }

    /// The host, with its port if one was given.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The path prefix (empty for none), without a trailing `/`.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// `wss://` + host + prefix + `path_and_query`: a `<Stream url>`, and the URL Twilio
    /// signs the upgrade for.
    pub fn wss_url(&self, path_and_query: &str) -> String {
        self.url("wss", path_and_query)
    }

    /// `https://` + host + prefix + `path_and_query`: a webhook URL as Twilio calls and
    /// signs it.
    pub fn https_url(&self, path_and_query: &str) -> String {
        self.url("https", path_and_query)
    }

    fn url(&self, scheme: &str, path_and_query: &str) -> String {
        let slash = if path_and_query.starts_with('/') || path_and_query.is_empty() {
            ""
        } else {
            "/"
        };
        format!(
            "{scheme}://{}{}{slash}{path_and_query}",
            self.authority, self.prefix
        )
    }
}

impl fmt::Display for PublicBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "https://{}{}", self.authority, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_urls_ports_and_prefixes() {
        for (given, https) in [
            ("abc.ngrok.app", "https://abc.ngrok.app/x"),
            ("https://ABC.ngrok.app/", "https://abc.ngrok.app/x"),
            ("wss://abc.ngrok.app", "https://abc.ngrok.app/x"),
            ("abc.ngrok.app:443", "https://abc.ngrok.app/x"),
            ("abc.ngrok.app:8443", "https://abc.ngrok.app:8443/x"),
            ("https://h.example/voice/", "https://h.example/voice/x"),
            ("  h.example  ", "https://h.example/x"),
        ] {
            let base = PublicBase::parse(given).unwrap();
            assert_eq!(base.https_url("/x"), https, "{given}");
            assert_eq!(base.https_url("x"), https, "{given}: a path without its /");
        }
        assert_eq!(
            PublicBase::parse("h.example").unwrap().to_string(),
            "https://h.example"
        );
    }

    #[test]
    fn what_twilio_cannot_sign_is_refused() {
        for bad in [
            "http://h.example",
            "ws://h.example",
            "ftp://h.example",
            "https://h.example/?a=1",
            "https://h.example/#top",
            "https://user:pw@h.example",
            "",
            "https://",
        ] {
            let err = PublicBase::parse(bad).unwrap_err();
            assert!(err.to_string().contains("public base URL"), "{bad}: {err}");
        }
    }
}
