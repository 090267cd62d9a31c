//! The handshake: build the upgrade request, open TCP/TLS, read a refusal's status and body.
//!
//! The client opens TCP and TLS itself and hands tungstenite the request without its
//! credential headers: tungstenite logs every request it writes at trace (through the `log`
//! crate), so those headers are written below it, by [`SecretHeaders`].

use std::sync::{Arc, OnceLock};

use http::{HeaderName, HeaderValue};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, http as ws_http};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::config::{Config, Provider, redact_url};
use super::secret_headers::SecretHeaders;
use super::{Error, ErrorKind};
use crate::Dialect;

/// The socket type of a client session.
pub(crate) type Ws = WebSocketStream<SecretHeaders<MaybeTlsStream<TcpStream>>>;

/// The credential headers of the upgrade, kept apart from the request tungstenite sees.
pub(crate) type Secrets = Vec<(HeaderName, HeaderValue)>;

/// What the handshake learned, for logs and errors.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// The URL, credentials redacted.
    pub(crate) url: String,
    pub(crate) model: String,
    pub(crate) azure: bool,
    /// The upgrade carries `OpenAI-Beta: realtime=v1`.
    pub(crate) beta_header: bool,
    /// The service's id for the upgrade request (`x-request-id`), for support tickets.
    pub(crate) request_id: Option<String>,
    /// A GPT-Live connection (the advice and log lines name Live, not Realtime).
    pub(crate) live: bool,
}

impl Target {
    pub(crate) fn error(&self, kind: ErrorKind) -> Error {
        Error::new(kind)
            .with_context(&self.url, &self.model, self.azure)
            .with_beta_header(self.beta_header)
            .with_request_id(self.request_id.clone())
            .with_live(self.live)
    }

    /// A timeout error about this target.
    pub(crate) fn timeout(&self, what: impl Into<String>, after: std::time::Duration) -> Error {
        Error::timeout(what, after)
            .with_context(&self.url, &self.model, self.azure)
            .with_beta_header(self.beta_header)
            .with_request_id(self.request_id.clone())
            .with_live(self.live)
    }
}

/// Builds the upgrade request (URL with model, beta header, extras) and, apart, its
/// credential headers (the key's, and any hand-set `Authorization` or `api-key`).
pub(crate) fn build_request(
    config: &Config,
) -> Result<(ws_http::Request<()>, Secrets, Target), Error> {
    let url = config.request_url()?;
    let target = Target {
        url: redact_url(&url),
        model: config.model.clone(),
        azure: matches!(
            config.provider,
            Provider::Azure | Provider::AzurePreview { .. }
        ),
        beta_header: config.dialect == Dialect::Beta,
        request_id: None,
        live: config.live,
    };
    check_api(config, &url, &target)?;
    let mut request = url.as_str().into_client_request().map_err(|e| {
        Error::config(format!("cannot build a request for {}", target.url)).with_ws_source(e)
    })?;
    if config.dialect == Dialect::Beta {
        request.headers_mut().insert(
            HeaderName::from_static("openai-beta"),
            HeaderValue::from_static("realtime=v1"),
        );
    }
    let secrets = credential_headers(config, request.headers_mut())?;
    Ok((request, secrets, target))
}

/// The key's header and the configured extra headers: the credentials (the key's, and any
/// hand-set `Authorization` or `api-key`) apart and marked sensitive, the others into
/// `headers`. Shared by the upgrade and the REST lookups.
pub(crate) fn credential_headers(
    config: &Config,
    headers: &mut http::HeaderMap,
) -> Result<Secrets, Error> {
    let mut secrets = Secrets::new();
    if let Some(key) = &config.api_key {
        let (name, value) = match config.provider {
            Provider::OpenAi => ("authorization", format!("Bearer {}", key.expose_secret())),
            Provider::Azure | Provider::AzurePreview { .. } => {
                ("api-key", key.expose_secret().to_owned())
            }
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::config("the API key contains characters not allowed in a header")
        })?;
        value.set_sensitive(true);
        secrets.push((HeaderName::from_static(name), value));
    }
    for (name, value) in &config.headers {
        let header = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::config(format!("`{name}` is not a valid header name")))?;
        let mut value = HeaderValue::from_str(value)
            .map_err(|_| Error::config(format!("the value of header `{name}` is not valid")))?;
        if is_secret_header(header.as_str()) {
            value.set_sensitive(true);
            secrets.push((header, value));
        } else {
            headers.append(header, value);
        }
    }
    Ok(secrets)
}

/// Whether a model name is one of GPT-Live's (`gpt-live-1`, `gpt-live-1.1`, later ones).
pub(crate) fn is_live_model(model: &str) -> bool {
    model.starts_with("gpt-live")
}

/// Whether a model name is one of the Realtime API's (`gpt-realtime…`, the retired
/// `gpt-4o…-realtime-preview` families) or its audio models (`gpt-audio…`).
pub(crate) fn is_realtime_model(model: &str) -> bool {
    model.starts_with("gpt-realtime")
        || model.starts_with("gpt-audio")
        || (model.starts_with("gpt-4o") && model.contains("realtime"))
}

/// Refuses, before anything is sent, a configuration aimed at the other API: a Live model or
/// the Live path for the Realtime client, a Realtime model or path for the Live client.
/// Model names are checked for OpenAI only (an Azure deployment is named by its owner).
fn check_api(config: &Config, url: &url::Url, target: &Target) -> Result<(), Error> {
    let path = url.path().trim_end_matches('/');
    let openai = matches!(config.provider, Provider::OpenAi);
    let wrong = if config.live {
        let realtime_path = path.ends_with("/realtime") || path.contains("/realtime/");
        (realtime_path || (openai && is_realtime_model(&config.model)))
            .then_some(super::KnownIssue::RealtimeOnLive)
    } else {
        let live_path = path.ends_with("/live/sessions") || path.contains("/live/sessions/");
        (live_path || (openai && is_live_model(&config.model)))
            .then_some(super::KnownIssue::LiveOnRealtime)
    };
    match wrong {
        None => Ok(()),
        Some(issue) => {
            let what = if config.live {
                "a Realtime model or endpoint given to the GPT-Live client"
            } else {
                "a GPT-Live model or endpoint given to the Realtime client"
            };
            let err = target
                .error(ErrorKind::Config)
                .with_message(what)
                .with_issue(issue);
            tracing::error!(url = %target.url, model = %target.model, error = %err.report(), "refused before connecting");
            Err(err)
        }
    }
}

/// A log line whose message names the API: the Live message, then the Realtime one, both
/// written out whole (static messages; the README's troubleshooting table quotes them and a
/// test holds it to the words found here).
macro_rules! api_log {
    ($level:ident, $live:expr, $($field:tt)*) => {
        api_log!(@split $level, $live, [] $($field)*)
    };
    (@split $level:ident, $live:expr, [$($fields:tt)*] $live_message:literal, $realtime_message:literal) => {
        if $live {
            tracing::$level!($($fields)* $live_message);
        } else {
            tracing::$level!($($fields)* $realtime_message);
        }
    };
    (@split $level:ident, $live:expr, [$($fields:tt)*] $head:tt $($rest:tt)*) => {
        api_log!(@split $level, $live, [$($fields)* $head] $($rest)*)
    };
}

/// Opens the socket and performs the upgrade.
pub(crate) async fn open(config: &Config) -> Result<(Ws, Target), Error> {
    let (request, secrets, target) = build_request(config)?;
    if config.live {
        tracing::debug!(url = %target.url, model = %config.model, provider = ?config.provider, "opening Live session");
    } else {
        tracing::debug!(
            url = %target.url,
            model = %config.model,
            dialect = ?config.dialect,
            provider = ?config.provider,
            "opening Realtime session"
        );
    }
    let tls = config.tls.client_config()?;
    let mut ws_config = WebSocketConfig::default();
    ws_config.max_message_size = Some(config.max_message_size);
    ws_config.max_frame_size = Some(config.max_message_size);
    ws_config.read_buffer_size = config.read_buffer_size;
    let handshake = async {
        let stream = open_stream(request.uri(), tls).await?;
        let lines: Vec<(&str, &[u8])> = secrets
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        let stream = SecretHeaders::new(stream, &lines);
        tokio_tungstenite::client_async_with_config(request, stream, Some(ws_config)).await
    };
    let Ok(result) = tokio::time::timeout(config.connect_timeout, handshake).await else {
        let err = target.timeout(
            format!("connecting to {}", target.url),
            config.connect_timeout,
        );
        api_log!(warn, target.live, url = %target.url, error = %err.report(), "Live connect timed out", "Realtime connect timed out");
        return Err(err);
    };
    match result {
        Ok((ws, response)) => {
            let mut target = target;
            target.request_id = request_id(response.headers());
            api_log!(
                debug,
                target.live,
                url = %target.url,
                status = response.status().as_u16(),
                request_id = target.request_id.as_deref().unwrap_or("-"),
                "Live WebSocket upgraded", "Realtime WebSocket upgraded"
            );
            Ok((ws, target))
        }
        Err(tungstenite::Error::Http(response)) => {
            let mut target = target;
            target.request_id = request_id(response.headers());
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned());
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let err = target
                .error(ErrorKind::Refused)
                .with_http(status, body)
                .with_retry_after(retry_after);
            api_log!(
                error,
                target.live,
                url = %target.url,
                model = %target.model,
                status,
                request_id = target.request_id.as_deref().unwrap_or("-"),
                error = %err.report(),
                "Live upgrade refused", "Realtime upgrade refused"
            );
            Err(err)
        }
        Err(e) => {
            let err = target.error(ErrorKind::Connect).with_ws_source(e);
            api_log!(error, target.live, url = %target.url, error = %err.report(), "Live connect failed", "Realtime connect failed");
            Err(err)
        }
    }
}

/// TCP (no Nagle: small frames go out at once), then TLS for `wss://` with rustls.
pub(crate) async fn open_stream(
    uri: &ws_http::Uri,
    tls: Option<Arc<rustls::ClientConfig>>,
) -> Result<MaybeTlsStream<TcpStream>, tungstenite::Error> {
    use tungstenite::error::{TlsError, UrlError};
    let host = uri
        .host()
        .ok_or(tungstenite::Error::Url(UrlError::NoHostName))?;
    let secure = match uri.scheme_str() {
        Some("wss") => true,
        Some("ws") => false,
        _ => return Err(tungstenite::Error::Url(UrlError::UnsupportedUrlScheme)),
    };
    let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
    let tcp = TcpStream::connect(format!("{host}:{port}")).await?;
    tcp.set_nodelay(true)?;
    if !secure {
        return Ok(MaybeTlsStream::Plain(tcp));
    }
    // rustls wants an IPv6 address without its brackets.
    let name = host.trim_start_matches('[').trim_end_matches(']');
    let name = rustls::pki_types::ServerName::try_from(name.to_owned())
        .map_err(|_| tungstenite::Error::Tls(TlsError::InvalidDnsName))?;
    let config = match tls {
        Some(config) => config,
        None => {
            built_in_tls().map_err(|e| tungstenite::Error::Tls(TlsError::Rustls(Box::new(e))))?
        }
    };
    let stream = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await?;
    Ok(MaybeTlsStream::Rustls(stream))
}

/// rustls with the ring provider (the workspace builds no other) and the Mozilla roots of
/// webpki-roots, made once.
fn built_in_tls() -> Result<Arc<rustls::ClientConfig>, rustls::Error> {
    static CONFIG: OnceLock<Arc<rustls::ClientConfig>> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(Arc::clone(config));
    }
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::clone(CONFIG.get_or_init(|| Arc::new(config))))
}

/// The request id the service or Azure put on the upgrade answer.
pub(crate) fn request_id(headers: &http::HeaderMap) -> Option<String> {
    ["x-request-id", "apim-request-id", "x-ms-request-id"]
        .iter()
        .find_map(|name| headers.get(*name)?.to_str().ok().map(str::to_owned))
}

/// Headers whose values are credentials (an Entra token, a key set by hand).
pub(crate) fn is_secret_header(name: &str) -> bool {
    ["authorization", "api-key", "proxy-authorization", "cookie"]
        .iter()
        .any(|secret| name.eq_ignore_ascii_case(secret))
}
