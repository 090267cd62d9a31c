//! Where and how to connect: endpoint, credentials, model, dialect, headers and timings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::Dialect;

/// The model the client asks for when none is set.
pub const DEFAULT_MODEL: &str = "gpt-realtime-2.1";

/// The Realtime models the service offers today, newest first.
///
/// Used in the advice of a `model_not_found` refusal. `gpt-realtime` and `gpt-realtime-mini`
/// still work but shut down on 2027-01-20.
pub const CURRENT_MODELS: &[&str] = &[
    "gpt-realtime-2.1",
    "gpt-realtime-2.1-mini",
    "gpt-realtime-2",
    "gpt-realtime-1.5",
];

/// Whether the service has retired this model: the `gpt-4o-realtime-preview` and
/// `gpt-4o-mini-realtime-preview` families (dated snapshots included). The service answers
/// them with `model_not_found` and close 4004.
///
/// ```
/// use openai_realtime::client::is_retired_model;
///
/// assert!(is_retired_model("gpt-4o-realtime-preview-2024-12-17"));
/// assert!(!is_retired_model("gpt-realtime-2.1"));
/// ```
pub fn is_retired_model(model: &str) -> bool {
    ["gpt-4o-realtime-preview", "gpt-4o-mini-realtime-preview"]
        .iter()
        .any(|family| model.starts_with(family))
}

const OPENAI_URL: &str = "wss://api.openai.com/v1/realtime";

/// How often the client pings the service (see [`Config::with_keepalive`]): 2 s.
pub const DEFAULT_KEEPALIVE_INTERVAL: Duration = Duration::from_secs(2);

/// How long the client waits for any frame from the service (an event or a pong) before it
/// takes the path as dead (see [`Config::with_keepalive_timeout`]): 5 s.
pub const DEFAULT_KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(5);

/// How many bytes the client reads from its socket at a time (see
/// [`Config::with_read_buffer_size`]): 4 KiB, a 200 ms audio delta (about 2.4 KB of
/// JSON) in one read.
pub const DEFAULT_READ_BUFFER_SIZE: usize = 4 * 1024;
const AZURE_PREVIEW_API_VERSION: &str = "2025-04-01-preview";

/// A secret credential: an OpenAI API key, an ephemeral `ek_` client secret, or an Azure key.
///
/// `Debug` and `Display` print `<redacted>`; the value leaves this type only when the
/// handshake header is built, and that header is marked sensitive.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(Box<str>);

impl ApiKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into().into_boxed_str())
    }

    /// Reads the key from an environment variable, such as `OPENAI_API_KEY`.
    ///
    /// Returns `None` when the variable is unset, empty or not valid Unicode.
    pub fn from_env(var: &str) -> Option<Self> {
        std::env::var(var)
            .ok()
            .filter(|k| !k.is_empty())
            .map(Self::new)
    }

    /// The secret itself. Keep it out of logs.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl From<String> for ApiKey {
    fn from(key: String) -> Self {
        Self::new(key)
    }
}

impl From<&str> for ApiKey {
    fn from(key: &str) -> Self {
        Self::new(key)
    }
}

/// Which service shape the URL and the credential header follow.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Provider {
    /// OpenAI: `?model=<model>`, `Authorization: Bearer <key>`.
    OpenAi,
    /// Azure OpenAI GA (v1 API): `?model=<deployment>`, `api-key: <key>`.
    Azure,
    /// Azure OpenAI preview (beta protocol, deprecated 2026-04-30):
    /// `?api-version=<version>&deployment=<deployment>`, `api-key: <key>`.
    AzurePreview {
        /// The `api-version` query parameter, e.g. `2025-04-01-preview`.
        api_version: String,
    },
}

/// Everything [`connect`](super::connect) needs.
///
/// Built with [`Config::openai`], [`Config::azure`], [`Config::azure_preview`] or
/// [`Config::url`], then refined with the `with_*` methods. Every endpoint is configurable, so
/// tests point the client at the [mock server](crate::mock) on loopback.
///
/// ```
/// use std::time::Duration;
/// use openai_realtime::Dialect;
/// use openai_realtime::client::{ApiKey, Config};
///
/// let config = Config::openai(ApiKey::new("sk-test"))
///     .with_model("gpt-realtime-2.1-mini")
///     .with_project("proj_123")
///     .with_keepalive(Some(Duration::from_secs(20)));
/// assert_eq!(config.model(), "gpt-realtime-2.1-mini");
/// assert_eq!(config.dialect(), Dialect::Ga);
/// // The key never shows up in Debug output.
/// assert!(!format!("{config:?}").contains("sk-test"));
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) endpoint: String,
    pub(crate) provider: Provider,
    pub(crate) api_key: Option<ApiKey>,
    pub(crate) model: String,
    pub(crate) dialect: Dialect,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) keepalive: Option<Duration>,
    pub(crate) keepalive_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) first_event_timeout: Duration,
    pub(crate) session_update_timeout: Duration,
    pub(crate) close_grace: Duration,
    pub(crate) max_message_size: usize,
    pub(crate) read_buffer_size: usize,
    pub(crate) tls: Tls,
    /// A GPT-Live connection ([`crate::live::client`]): the URL takes no query, the model
    /// travels in `session.start`.
    pub(crate) live: bool,
}

/// Whom a `wss://` connection trusts.
#[derive(Clone, Default)]
pub(crate) enum Tls {
    /// The Mozilla roots built in (webpki-roots).
    #[default]
    BuiltIn,
    /// Only these roots.
    Roots(Arc<rustls::RootCertStore>),
    /// A configuration of the user's own.
    #[cfg_attr(
        not(feature = "rustls-0_23"),
        expect(dead_code, reason = "made by a method of the rustls-0_23 feature")
    )]
    Config(Arc<rustls::ClientConfig>),
    /// A root certificate given was refused: connecting fails with this reason.
    Refused(String),
}

impl Tls {
    /// These roots, added to the ones given before (instead of the built-in roots or a
    /// configuration); the first refused certificate is kept as the reason to fail.
    fn add_roots<I>(self, certificates: I) -> Self
    where
        I: IntoIterator<Item = Result<rustls::pki_types::CertificateDer<'static>, String>>,
    {
        let mut roots = match self {
            Self::Refused(reason) => return Self::Refused(reason),
            Self::Roots(roots) => roots,
            Self::BuiltIn | Self::Config(_) => Arc::new(rustls::RootCertStore::empty()),
        };
        let store = Arc::make_mut(&mut roots);
        for certificate in certificates {
            let number = store.len() + 1;
            let added = certificate.and_then(|der| store.add(der).map_err(|e| e.to_string()));
            if let Err(reason) = added {
                return Self::Refused(format!("root certificate {number} refused: {reason}"));
            }
        }
        Self::Roots(roots)
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BuiltIn => f.write_str("BuiltIn"),
            Self::Roots(roots) => write!(f, "Roots({} certificates)", roots.len()),
            Self::Config(_) => f.write_str("Config(..)"),
            Self::Refused(reason) => write!(f, "Refused({reason:?})"),
        }
    }
}

impl Tls {
    /// The rustls configuration to connect with; `None` for tokio-tungstenite's default.
    pub(crate) fn client_config(&self) -> Result<Option<Arc<rustls::ClientConfig>>, super::Error> {
        match self {
            Self::BuiltIn => Ok(None),
            Self::Config(config) => Ok(Some(Arc::clone(config))),
            Self::Refused(reason) => Err(super::Error::config(reason.clone())),
            Self::Roots(roots) => {
                let provider = Arc::new(rustls::crypto::ring::default_provider());
                let config = rustls::ClientConfig::builder_with_provider(provider)
                    .with_safe_default_protocol_versions()
                    .map_err(|e| {
                        super::Error::config("cannot set up TLS with the ring provider")
                            .with_source(e)
                    })?
                    .with_root_certificates(Arc::clone(roots))
                    .with_no_client_auth();
                Ok(Some(Arc::new(config)))
            }
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let shown = if super::connect::is_secret_header(name) {
                    "<redacted>"
                } else {
                    value.as_str()
                };
                (name.as_str(), shown)
            })
            .collect();
        f.debug_struct("Config")
            .field("endpoint", &self.endpoint)
            .field("provider", &self.provider)
            .field("api_key", &self.api_key)
            .field("model", &self.model)
            .field("dialect", &self.dialect)
            .field("headers", &headers)
            .field("keepalive", &self.keepalive)
            .field("keepalive_timeout", &self.keepalive_timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("first_event_timeout", &self.first_event_timeout)
            .field("session_update_timeout", &self.session_update_timeout)
            .field("close_grace", &self.close_grace)
            .field("max_message_size", &self.max_message_size)
            .field("read_buffer_size", &self.read_buffer_size)
            .field("tls", &self.tls)
            .field("live", &self.live)
            .finish()
    }
}

impl Config {
    fn new(endpoint: String, provider: Provider, api_key: Option<ApiKey>) -> Self {
        Self {
            endpoint,
            provider,
            api_key,
            model: DEFAULT_MODEL.to_owned(),
            dialect: Dialect::Ga,
            headers: Vec::new(),
            keepalive: Some(DEFAULT_KEEPALIVE_INTERVAL),
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            connect_timeout: Duration::from_secs(10),
            first_event_timeout: Duration::from_secs(10),
            session_update_timeout: Duration::from_secs(10),
            close_grace: Duration::from_secs(1),
            max_message_size: 32 << 20,
            read_buffer_size: DEFAULT_READ_BUFFER_SIZE,
            tls: Tls::BuiltIn,
            live: false,
        }
    }

    /// The configuration a GPT-Live client builds on: `endpoint` as given (no query added).
    pub(crate) fn live(endpoint: String, provider: Provider, api_key: Option<ApiKey>) -> Self {
        let mut config = Self::new(endpoint, provider, api_key);
        config.live = true;
        config
    }

    /// OpenAI at `wss://api.openai.com/v1/realtime`, with `Authorization: Bearer <key>`.
    pub fn openai(api_key: ApiKey) -> Self {
        Self::new(OPENAI_URL.to_owned(), Provider::OpenAi, Some(api_key))
    }

    /// Azure OpenAI GA: `wss://<resource>.openai.azure.com/openai/v1/realtime?model=<deployment>`
    /// with an `api-key` header.
    pub fn azure(resource: &str, deployment: &str, api_key: ApiKey) -> Self {
        let endpoint = format!("wss://{resource}.openai.azure.com/openai/v1/realtime");
        Self::new(endpoint, Provider::Azure, Some(api_key)).with_model(deployment)
    }

    /// Azure OpenAI preview (deprecated 2026-04-30, beta protocol):
    /// `wss://<resource>.openai.azure.com/openai/realtime?api-version=…&deployment=…`.
    ///
    /// Also selects [`Dialect::Beta`], which that endpoint speaks. Change the version with
    /// [`Config::with_provider`].
    pub fn azure_preview(resource: &str, deployment: &str, api_key: ApiKey) -> Self {
        let endpoint = format!("wss://{resource}.openai.azure.com/openai/realtime");
        let provider = Provider::AzurePreview {
            api_version: AZURE_PREVIEW_API_VERSION.to_owned(),
        };
        Self::new(endpoint, provider, Some(api_key))
            .with_model(deployment)
            .with_dialect(Dialect::Beta)
    }

    /// Any endpoint that speaks the OpenAI shape: the [mock server](crate::mock), a proxy, a
    /// compatible third-party server. No credential is sent unless one is set with
    /// [`Config::with_api_key`]. Plain `ws://` is fine for loopback.
    ///
    /// The URL is checked when connecting; a bad one gives an error of kind
    /// [`ErrorKind::Config`](super::ErrorKind::Config).
    pub fn url(url: impl Into<String>) -> Self {
        Self::new(url.into(), Provider::OpenAi, None)
    }

    /// Sets the credential (Bearer for OpenAI-shaped endpoints, `api-key` for Azure).
    #[must_use]
    pub fn with_api_key(mut self, api_key: ApiKey) -> Self {
        self.api_key = Some(api_key);
        self
    }

    /// Replaces the endpoint URL (without the query the client adds), keeping the provider.
    #[must_use]
    pub fn with_endpoint(mut self, url: impl Into<String>) -> Self {
        self.endpoint = url.into();
        self
    }

    /// Sets the URL and header shape.
    #[must_use]
    pub fn with_provider(mut self, provider: Provider) -> Self {
        self.provider = provider;
        self
    }

    /// The model (OpenAI) or deployment name (Azure). Default [`DEFAULT_MODEL`].
    ///
    /// A GPT-Live model (`gpt-live-1`, `gpt-live-1.1`) speaks another protocol: with OpenAI
    /// it fails the connect before anything is sent ([`KnownIssue::LiveOnRealtime`](super::KnownIssue::LiveOnRealtime));
    /// connect with [`live::client`](crate::live::client) instead.
    #[must_use]
    pub fn with_model(mut self, model: impl Into<String>) -> Self {
        self.model = model.into();
        self
    }

    /// The wire dialect. Default [`Dialect::Ga`]; [`Dialect::Beta`] sends
    /// `OpenAI-Beta: realtime=v1`, which OpenAI refuses since May 2026.
    #[must_use]
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Adds `OpenAI-Organization`.
    #[must_use]
    pub fn with_organization(self, organization: impl Into<String>) -> Self {
        self.with_header("OpenAI-Organization", organization)
    }

    /// Adds `OpenAI-Project`.
    #[must_use]
    pub fn with_project(self, project: impl Into<String>) -> Self {
        self.with_header("OpenAI-Project", project)
    }

    /// Adds `OpenAI-Safety-Identifier`: a stable, hashed id of the end user.
    #[must_use]
    pub fn with_safety_identifier(self, id: impl Into<String>) -> Self {
        self.with_header("OpenAI-Safety-Identifier", id)
    }

    /// Adds any header to the upgrade request. A bad name or value is reported at connect.
    ///
    /// Credential headers (`Authorization`, for an Azure Entra token; `api-key`) are marked
    /// sensitive and redacted in `Debug`.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Ping interval; `None` turns keepalive off (no pings, no liveness check). Default
    /// [`DEFAULT_KEEPALIVE_INTERVAL`] (2 s).
    ///
    /// The receiver pings the service this often; a live service answers each ping with a
    /// pong within a round trip, so on a working path something arrives at least every
    /// interval even while the conversation is quiet. When nothing at all (no event, no pong)
    /// has arrived for the [keepalive timeout](Config::with_keepalive_timeout), the path is
    /// taken as dead: the receiver yields one [`ErrorKind::Timeout`](super::ErrorKind::Timeout)
    /// error, logs `Realtime keepalive timed out`, and ends. A phone call cannot wait longer
    /// than a few seconds for an agent that may never answer.
    #[must_use]
    pub fn with_keepalive(mut self, interval: Option<Duration>) -> Self {
        self.keepalive = interval.filter(|d| !d.is_zero());
        self
    }

    /// How long the receiver waits for any frame from the service (an event or a pong to its
    /// pings) before it ends the session as dead. Default [`DEFAULT_KEEPALIVE_TIMEOUT`]
    /// (5 s, two unanswered pings at the default interval). Keep it above the
    /// [ping interval](Config::with_keepalive) plus a round trip. Applies only while
    /// keepalive is on.
    ///
    /// ```
    /// use std::time::Duration;
    /// use openai_realtime::client::{ApiKey, Config};
    ///
    /// // A slow satellite link: ping every 5 s, give up after 15 s of silence.
    /// let config = Config::openai(ApiKey::new("sk-test"))
    ///     .with_keepalive(Some(Duration::from_secs(5)))
    ///     .with_keepalive_timeout(Duration::from_secs(15));
    /// assert!(format!("{config:?}").contains("keepalive_timeout: 15s"));
    /// ```
    #[must_use]
    pub fn with_keepalive_timeout(mut self, timeout: Duration) -> Self {
        self.keepalive_timeout = timeout;
        self
    }

    /// Limit for TCP, TLS and the HTTP upgrade together. Default 10 s.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Limit for `session.created` to arrive after the upgrade. Default 10 s.
    #[must_use]
    pub fn with_first_event_timeout(mut self, timeout: Duration) -> Self {
        self.first_event_timeout = timeout;
        self
    }

    /// Limit for `session.updated` after [`Connection::update_session`](super::Connection::update_session).
    /// Default 10 s.
    #[must_use]
    pub fn with_session_update_timeout(mut self, timeout: Duration) -> Self {
        self.session_update_timeout = timeout;
        self
    }

    /// How long to wait for the close frame after a fatal `error` event, so that both reach
    /// the caller as one error. Default 1 s.
    #[must_use]
    pub fn with_close_grace(mut self, grace: Duration) -> Self {
        self.close_grace = grace;
        self
    }

    /// Largest accepted WebSocket message. Default 32 MiB.
    #[must_use]
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self
    }

    /// Bytes read from the socket at a time. Default [`DEFAULT_READ_BUFFER_SIZE`] (4 KiB).
    ///
    /// tungstenite zero-fills this much of its buffer before every read (also the reads
    /// that find nothing), so its own default (128 KiB) cost more CPU than everything else
    /// a phone call's small frames need, and 16 KiB still made `memset` 40 % of a bridge's
    /// instructions (BENCHMARKS.md); the buffer is also held per session. Larger messages
    /// still arrive whole, over several reads.
    #[must_use]
    pub fn with_read_buffer_size(mut self, bytes: usize) -> Self {
        self.read_buffer_size = bytes.max(1024);
        self
    }

    /// Trusts this root certificate (DER) for `wss://`, instead of the Mozilla roots built
    /// in: a private CA, a TLS-terminating proxy, or the mock server's self-signed
    /// certificate (`MockServer::certificate_der`, feature `mock-server`).
    /// Call again to trust more; TLS still uses rustls with the ring provider.
    ///
    /// A certificate that does not parse fails the connection (a
    /// [configuration error](super::ErrorKind::Config) naming it), not this call.
    ///
    /// ```
    /// use openai_realtime::client::Config;
    ///
    /// # let ca_der: Vec<u8> = Vec::new();
    /// let config = Config::url("wss://realtime.internal.example/v1/realtime")
    ///     .with_root_certificate_der(ca_der); // your CA's certificate, DER
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn with_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        let der = rustls::pki_types::CertificateDer::from(der.into());
        self.tls = std::mem::take(&mut self.tls).add_roots([Ok(der)]);
        self
    }

    /// Trusts the root certificates of this PEM text (every `CERTIFICATE` block, as in a
    /// CA bundle file) for `wss://`, as [`with_root_certificate_der`](Self::with_root_certificate_der)
    /// does for one. Text with no certificate, or one that does not parse, fails the
    /// connection.
    ///
    /// ```
    /// use openai_realtime::client::Config;
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let dir = std::env::temp_dir().join(format!("realtime-ca-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("ca.pem");
    /// # std::fs::write(&path, "")?;
    /// let pem = std::fs::read_to_string(&path)?; // e.g. /etc/ssl/private-ca.pem
    /// let config = Config::url("wss://realtime.internal.example/v1/realtime")
    ///     .with_root_certificates_pem(&pem);
    /// # let _ = config;
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn with_root_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject as _;
        let pem = pem.as_ref();
        let certificates: Vec<_> = CertificateDer::pem_slice_iter(pem)
            .map(|certificate| certificate.map_err(|e| format!("PEM: {e}")))
            .collect();
        self.tls = if certificates.is_empty() {
            Tls::Refused("the PEM text holds no CERTIFICATE".to_owned())
        } else {
            std::mem::take(&mut self.tls).add_roots(certificates)
        };
        self
    }

    /// Trusts only these root certificates for `wss://`, instead of the Mozilla roots built
    /// in. TLS still uses rustls with the ring provider.
    ///
    /// Feature `rustls-0_23`: the type is rustls 0.23's and follows rustls's versions, not
    /// this crate's; [`with_root_certificate_der`](Self::with_root_certificate_der) needs
    /// no feature.
    ///
    /// ```
    /// use openai_realtime::client::Config;
    ///
    /// let roots = rustls::RootCertStore::empty(); // add your CA's certificate
    /// let config = Config::url("wss://realtime.internal.example/v1/realtime")
    ///     .with_root_certificates(roots);
    /// assert!(format!("{config:?}").contains("Roots(0 certificates)"));
    /// ```
    #[cfg(feature = "rustls-0_23")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls-0_23")))]
    #[must_use]
    pub fn with_root_certificates(mut self, roots: impl Into<Arc<rustls::RootCertStore>>) -> Self {
        self.tls = Tls::Roots(roots.into());
        self
    }

    /// Uses this rustls configuration for `wss://` (roots, client certificates, protocol
    /// versions are then yours). It replaces the root certificates given before.
    ///
    /// Feature `rustls-0_23`: the type is rustls 0.23's and follows rustls's versions, not
    /// this crate's.
    #[cfg(feature = "rustls-0_23")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls-0_23")))]
    #[must_use]
    pub fn with_tls_config(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.tls = Tls::Config(config);
        self
    }

    /// The model or deployment.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL and header shape.
    pub fn provider(&self) -> &Provider {
        &self.provider
    }

    /// The URL the client will open, query included; it never contains the key.
    ///
    /// ```
    /// use openai_realtime::client::{ApiKey, Config};
    ///
    /// let url = Config::azure("contoso", "my-realtime", ApiKey::new("k")).request_url().unwrap();
    /// assert_eq!(url.as_str(), "wss://contoso.openai.azure.com/openai/v1/realtime?model=my-realtime");
    /// ```
    ///
    /// # Errors
    ///
    /// A URL that does not parse, or whose scheme is not `ws`/`wss`.
    pub fn request_url(&self) -> Result<url::Url, super::Error> {
        let mut url = url::Url::parse(&self.endpoint).map_err(|e| {
            super::Error::config(format!("endpoint `{}` is not a URL: {e}", self.endpoint))
        })?;
        if !matches!(url.scheme(), "ws" | "wss") {
            return Err(super::Error::config(format!(
                "endpoint scheme `{}` is not ws or wss",
                url.scheme()
            )));
        }
        if self.live {
            // GPT-Live: no query parameters of ours; the model goes in `session.start`.
            return Ok(url);
        }
        let (drop, add): (&[&str], Vec<(&str, &str)>) = match &self.provider {
            Provider::OpenAi | Provider::Azure => (&["model"], vec![("model", &self.model)]),
            Provider::AzurePreview { api_version } => (
                &["api-version", "deployment"],
                vec![("api-version", api_version), ("deployment", &self.model)],
            ),
        };
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !drop.contains(&k.as_ref()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.set_query(None);
        {
            let mut query = url.query_pairs_mut();
            for (k, v) in &kept {
                query.append_pair(k, v);
            }
            for (k, v) in add {
                query.append_pair(k, v);
            }
        }
        Ok(url)
    }
}

impl Config {
    /// The URL of the model lookup beside the endpoint (`GET /v1/models/{model}`, see
    /// [`retrieve_model`](super::retrieve_model)): `https` for `wss` (`http` for `ws`), the
    /// last path segment (`realtime`) replaced by `models/{model}`, the query kept without
    /// `model` and `deployment`.
    ///
    /// ```
    /// use openai_realtime::client::{ApiKey, Config};
    ///
    /// let config = Config::openai(ApiKey::new("k"));
    /// let url = config.models_url("gpt-realtime").unwrap();
    /// assert_eq!(url.as_str(), "https://api.openai.com/v1/models/gpt-realtime");
    /// let local = Config::url("ws://127.0.0.1:8080/v1/realtime?model=x&trace=1");
    /// assert_eq!(
    ///     local.models_url("gpt-realtime").unwrap().as_str(),
    ///     "http://127.0.0.1:8080/v1/models/gpt-realtime?trace=1"
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// The endpoint is not a `ws`/`wss` URL.
    pub fn models_url(&self, model: &str) -> Result<url::Url, super::Error> {
        let mut url = self.request_url()?;
        let scheme = if url.scheme() == "wss" {
            "https"
        } else {
            "http"
        };
        url.set_scheme(scheme).map_err(|()| {
            super::Error::config(format!("endpoint `{}` has no HTTP form", self.endpoint))
        })?;
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !matches!(k.as_ref(), "model" | "deployment"))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        url.set_query(None);
        if !kept.is_empty() {
            url.query_pairs_mut().extend_pairs(kept);
        }
        {
            let mut segments = url.path_segments_mut().map_err(|()| {
                super::Error::config(format!("endpoint `{}` has no path", self.endpoint))
            })?;
            segments.pop_if_empty().pop().push("models").push(model);
        }
        Ok(url)
    }
}

/// The URL as it may appear in logs and errors: query values that carry credentials are
/// replaced by `<redacted>`.
pub(crate) fn redact_url(url: &url::Url) -> String {
    const SECRET_PARAMS: &[&str] = &["api-key", "api_key", "key", "token", "access_token"];
    if !url
        .query_pairs()
        .any(|(k, _)| SECRET_PARAMS.contains(&k.as_ref()))
    {
        return url.to_string();
    }
    let mut out = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if SECRET_PARAMS.contains(&k.as_ref()) {
                "<redacted>".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    out.set_query(None);
    out.query_pairs_mut().extend_pairs(pairs);
    out.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_url_carries_the_model() {
        let url = Config::openai(ApiKey::new("k")).request_url().unwrap();
        assert_eq!(
            url.as_str(),
            "wss://api.openai.com/v1/realtime?model=gpt-realtime-2.1"
        );
    }

    #[test]
    fn custom_url_keeps_its_query_and_replaces_the_model() {
        let url = Config::url("ws://127.0.0.1:9/v1/realtime?model=old&x=1")
            .with_model("gpt-realtime-2")
            .request_url()
            .unwrap();
        assert_eq!(
            url.as_str(),
            "ws://127.0.0.1:9/v1/realtime?x=1&model=gpt-realtime-2"
        );
    }

    #[test]
    fn azure_preview_url_has_version_and_deployment() {
        let config = Config::azure_preview("contoso", "rt", ApiKey::new("k"));
        assert_eq!(config.dialect(), Dialect::Beta);
        assert_eq!(
            config.request_url().unwrap().as_str(),
            "wss://contoso.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=rt"
        );
    }

    #[test]
    fn bad_scheme_is_a_config_error() {
        let err = Config::url("https://example.com")
            .request_url()
            .unwrap_err();
        assert!(err.is_config(), "{err}");
    }

    #[test]
    fn key_in_query_is_redacted() {
        let url =
            url::Url::parse("wss://x.openai.azure.com/openai/v1/realtime?api-key=SECRET&model=m")
                .unwrap();
        let shown = redact_url(&url);
        assert!(!shown.contains("SECRET"));
        assert!(shown.contains("model=m"));
    }

    #[test]
    fn hand_set_credential_headers_are_redacted_in_debug() {
        let config = Config::azure("r", "d", ApiKey::new("azure-key"))
            .with_header("Authorization", "Bearer entra-token")
            .with_project("proj_1");
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("entra-token") && !shown.contains("azure-key"),
            "{shown}"
        );
        assert!(shown.contains("proj_1"), "{shown}");
        let (request, secrets, _) = super::super::connect::build_request(&config).unwrap();
        // Kept apart from the request tungstenite sees (and logs at trace).
        assert!(request.headers().get("authorization").is_none());
        assert!(request.headers().get("api-key").is_none());
        assert!(secrets.iter().all(|(_, value)| value.is_sensitive()));
        let names: Vec<&str> = secrets.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["api-key", "authorization"]);
        assert_eq!(request.headers()["openai-project"], "proj_1");
    }

    #[test]
    fn beta_dialect_sends_the_beta_header_and_ga_does_not() {
        let ga = Config::openai(ApiKey::new("k"));
        let (request, secrets, _) = super::super::connect::build_request(&ga).unwrap();
        assert!(request.headers().get("openai-beta").is_none());
        assert_eq!(secrets[0].0, "authorization");
        assert_eq!(secrets[0].1, "Bearer k");
        let (request, _, _) =
            super::super::connect::build_request(&ga.with_dialect(Dialect::Beta)).unwrap();
        assert_eq!(request.headers()["openai-beta"], "realtime=v1");
    }

    #[test]
    fn api_key_debug_is_redacted() {
        assert_eq!(
            format!("{:?}", ApiKey::new("sk-secret")),
            "ApiKey(<redacted>)"
        );
    }
}
