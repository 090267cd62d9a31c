//! `GET /v1/models/{model}`: the model's `shutdown_date`, asked with the session's own
//! configuration (base URL, key, headers, roots, timeout).
//!
//! HTTP/1.1 with hyper's connection-level client over the stream the WebSocket handshake
//! uses (TCP with rustls, the same roots), so the lookup trusts exactly what the session
//! trusts. The credential headers go below hyper, as below tungstenite: [`SecretHeaders`]
//! writes them into the request head, so no HTTP library holds or logs the key.

use std::future::poll_fn;
use std::pin::Pin;

use http::header::{ACCEPT, HOST};
use http::{HeaderValue, Method, Request};
use hyper::body::Body as _;
use hyper_util::rt::TokioIo;

use super::config::{Config, Provider, redact_url};
use super::connect::{Target, credential_headers, open_stream, request_id};
use super::secret_headers::SecretHeaders;
use super::{Error, ErrorKind};
use crate::models::Model;

/// Largest model object read (a model is a few hundred bytes).
const MAX_BODY: usize = 1 << 20;

/// Looks `model` up at `GET /v1/models/{model}` beside the configuration's endpoint
/// ([`Config::models_url`]), with its key, headers, root certificates and connect timeout.
///
/// # Errors
///
/// - [`ErrorKind::Lookup`]: the service answered with an HTTP error; [`Error::status`],
///   [`Error::body`] and [`Error::api_error`] hold its words (404 `model_not_found` for a
///   model it does not know, 401 for a bad key), [`Error::advice`] what to do.
/// - [`ErrorKind::Config`], [`ErrorKind::Connect`], [`ErrorKind::Timeout`] as for a
///   session.
/// - [`ErrorKind::Protocol`]: the answer is not a model object.
///
/// # Examples
///
/// ```no_run
/// use openai_realtime::client::{ApiKey, Config, retrieve_model};
/// use openai_realtime::models::{Date, Retirement};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = Config::openai(ApiKey::from_env("OPENAI_API_KEY").ok_or("no key")?)
///     .with_model("gpt-realtime");
/// let model = retrieve_model(&config, config.model()).await?;
/// let verdict = model.retirement(Date::from_system_time(std::time::SystemTime::now()));
/// if let Retirement::Ahead { .. } | Retirement::Retired { .. } = verdict {
///     eprintln!("{verdict}"); // `gpt-realtime` shuts down on 2027-01-20, in … days: …
/// }
/// # Ok(())
/// # }
/// ```
pub async fn retrieve_model(config: &Config, model: &str) -> Result<Model, Error> {
    let url = config.models_url(model)?;
    let target = Target {
        url: redact_url(&url),
        model: model.to_owned(),
        azure: matches!(
            config.provider,
            Provider::Azure | Provider::AzurePreview { .. }
        ),
        beta_header: false,
        request_id: None,
        live: false,
    };
    tracing::debug!(url = %target.url, model, "looking the model up");
    let lookup = async {
        let result = get(config, &url, &target).await;
        if let Err(err) = &result {
            tracing::warn!(url = %target.url, model, error = %err.report(), "model lookup failed");
        }
        result
    };
    let Ok(result) = tokio::time::timeout(config.connect_timeout, lookup).await else {
        let err = target.timeout(format!("GET {}", target.url), config.connect_timeout);
        tracing::warn!(url = %target.url, model, error = %err.report(), "model lookup timed out");
        return Err(err);
    };
    result
}

/// The request and its answer, without the deadline.
async fn get(config: &Config, url: &url::Url, target: &Target) -> Result<Model, Error> {
    let connect_error = |source: Box<dyn std::error::Error + Send + Sync>| {
        target
            .error(ErrorKind::Connect)
            .with_message(format!("GET {}", target.url))
            .with_source(source)
    };
    let uri: http::Uri = url.as_str().parse().map_err(|e| {
        Error::config(format!("`{}` is not a request URI", target.url)).with_source(e)
    })?;
    let mut request = Request::builder()
        .method(Method::GET)
        .uri(path_and_query(url))
        .body(String::new())
        .map_err(|e| Error::config("cannot build the model request").with_source(e))?;
    let headers = request.headers_mut();
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    headers.insert(
        HOST,
        HeaderValue::from_str(&host)
            .map_err(|_| Error::config(format!("`{host}` is not a valid host")))?,
    );
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    let secrets = credential_headers(config, headers)?;

    // `open_stream` speaks the WebSocket schemes; the TLS decision is the same.
    let ws_uri: http::Uri = {
        let scheme = if uri.scheme_str() == Some("https") {
            "wss"
        } else {
            "ws"
        };
        let authority = uri.authority().map(|a| a.as_str()).unwrap_or_default();
        format!("{scheme}://{authority}/")
            .parse()
            .map_err(|e| Error::config(format!("`{}` has no host", target.url)).with_source(e))?
    };
    let tls = config.tls.client_config()?;
    let stream = open_stream(&ws_uri, tls)
        .await
        .map_err(|e| target.error(ErrorKind::Connect).with_ws_source(e))?;
    let lines: Vec<(&str, &[u8])> = secrets
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    let io = TokioIo::new(SecretHeaders::new(stream, &lines));
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| connect_error(e.into()))?;
    // The exchange owns the sender: dropping it when the answer is read lets the
    // connection task, driven beside it, end.
    let exchange = async move {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| connect_error(e.into()))?;
        let (parts, mut body) = response.into_parts();
        let mut bytes = Vec::new();
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let frame = frame.map_err(|e| connect_error(e.into()))?;
            if let Ok(data) = frame.into_data() {
                bytes.extend_from_slice(&data);
                if bytes.len() > MAX_BODY {
                    return Err(target
                        .error(ErrorKind::Protocol)
                        .with_message(format!("the answer to GET {} is over 1 MiB", target.url)));
                }
            }
        }
        drop(sender);
        Ok::<_, Error>((parts, bytes))
    };
    // A connection failure shows in the exchange's own error; the connection ends once the
    // answer is read and the sender dropped.
    let (parts, bytes) = tokio::join!(exchange, async {
        let _ = connection.await;
    })
    .0?;
    let mut target = target.clone();
    target.request_id = request_id(&parts.headers);
    let status = parts.status.as_u16();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    if !parts.status.is_success() {
        return Err(target
            .error(ErrorKind::Lookup)
            .with_message(format!("GET {}", target.url))
            .with_http(status, Some(text)));
    }
    let model: Model = serde_json::from_str(&text).map_err(|e| {
        target
            .error(ErrorKind::Protocol)
            .with_message(format!("the answer to GET {} is not a model", target.url))
            .with_source(e)
    })?;
    tracing::debug!(
        url = %target.url,
        model = %model.id,
        shutdown_date = %model.shutdown_date.map_or_else(|| "none".to_owned(), |d| d.to_string()),
        "model looked up"
    );
    Ok(model)
}

/// `/v1/models/x?y=z`, the request target of an HTTP/1.1 request to an origin server.
fn path_and_query(url: &url::Url) -> String {
    match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    }
}
