//! `GET /v1/models/{model}` and `GET /v1/models` on the mock's port, beside the WebSocket
//! upgrade: the request head is read first, and anything that is not a model lookup goes on
//! to the upgrade with the bytes already read put back in front.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use serde_json::{Value, json};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::KeyCheck;
use super::server::{State, mask_key};
use crate::models::{Date, LIVE_MODEL, announced_shutdown};

/// The largest request head read before giving the bytes to the upgrade as they are.
const MAX_HEAD: usize = 16 * 1024;

/// When the mock's models were created (2025-08-28, the Realtime API's GA day), for every
/// model object it serves.
const CREATED: i64 = 1_756_339_200;

/// The GPT-Live models the catalogue also knows (no shutdown date announced).
const LIVE_MODELS: &[&str] = &[LIVE_MODEL, "gpt-live-1.1"];

/// What the models endpoint knows beyond the accepted models, and what it was asked.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalogue {
    /// Shutdown dates set by the test (`None`: no date), overriding the announced ones.
    pub(crate) dates: Vec<(String, Option<Date>)>,
    /// Every lookup answered, in order.
    pub(crate) lookups: Arc<Mutex<Vec<ModelLookup>>>,
}

/// One request the mock's models endpoint answered.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ModelLookup {
    /// The request path, e.g. `/v1/models/gpt-realtime`.
    pub path: String,
    /// The status answered: 200, 401 for a bad key, 404 for an unknown model.
    pub status: u16,
}

impl Catalogue {
    /// The shutdown date of a model the mock knows: the test's, else the announced one.
    /// `None` for a model it does not know.
    fn lookup(&self, accepted: &[String], model: &str) -> Option<Option<Date>> {
        if let Some((_, date)) = self.dates.iter().find(|(id, _)| id == model) {
            return Some(*date);
        }
        let announced = announced_shutdown(model);
        let known = announced.is_some()
            || accepted.iter().any(|m| m == model)
            || LIVE_MODELS.contains(&model);
        known.then_some(announced)
    }

    /// Every model it knows, sorted by id.
    fn all(&self, accepted: &[String]) -> Vec<(String, Option<Date>)> {
        let mut ids: Vec<String> = accepted
            .iter()
            .cloned()
            .chain(
                crate::models::ANNOUNCED_SHUTDOWNS
                    .iter()
                    .map(|(id, _)| (*id).to_owned()),
            )
            .chain(LIVE_MODELS.iter().map(|id| (*id).to_owned()))
            .chain(self.dates.iter().map(|(id, _)| id.clone()))
            .collect();
        ids.sort();
        ids.dedup();
        ids.into_iter()
            .filter_map(|id| self.lookup(accepted, &id).map(|date| (id, date)))
            .collect()
    }
}

fn model_json(id: &str, date: Option<Date>) -> Value {
    json!({
        "id": id,
        "object": "model",
        "created": CREATED,
        "owned_by": "system",
        "shutdown_date": date.map(|d| d.to_string()),
    })
}

/// A stream with bytes already read put back in front.
#[derive(Debug)]
pub(crate) struct Rewound<S> {
    head: Vec<u8>,
    at: usize,
    inner: S,
}

impl<S: AsyncRead + Unpin> AsyncRead for Rewound<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.at < this.head.len() {
            let n = buf.remaining().min(this.head.len() - this.at);
            buf.put_slice(&this.head[this.at..this.at + n]);
            this.at += n;
            if this.at == this.head.len() {
                this.head = Vec::new();
                this.at = 0;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Rewound<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The parts of a request head the endpoint reads.
struct Head {
    method: String,
    path: String,
    credential: Option<String>,
}

/// Reads the request head; a model lookup is answered here (`None`), anything else comes
/// back with the head put in front, for the upgrade.
pub(crate) async fn route<S>(mut stream: S, state: &State) -> Option<Rewound<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    let parsed = loop {
        match parse(&head) {
            Ok(Some(parsed)) => break Some(parsed),
            Ok(None) if head.len() < MAX_HEAD => {}
            // Not HTTP, or too long: the upgrade refuses it in its own way.
            _ => break None,
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break None,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    };
    let is_models = parsed.as_ref().is_some_and(|h| {
        let path = h.path.split('?').next().unwrap_or_default();
        ["/v1/models", "/openai/v1/models"]
            .iter()
            .any(|p| path == *p || path.starts_with(&format!("{p}/")))
    });
    let Some(request) = parsed.filter(|_| is_models) else {
        return Some(Rewound {
            head,
            at: 0,
            inner: stream,
        });
    };
    let (status, body) = answer(&request, state);
    let catalogue = &state.settings.catalogue;
    catalogue
        .lookups
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(ModelLookup {
            path: request.path.clone(),
            status,
        });
    tracing::debug!(path = %request.path, status, "mock: models endpoint");
    let body = body.to_string();
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Error",
    };
    let response = format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-request-id: req_mockmodels{:06}\r\nconnection: close\r\n\r\n{body}",
        body.len(),
        next_request_id()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    None
}

fn next_request_id() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The head, once complete (`Ok(None)` while partial).
fn parse(bytes: &[u8]) -> Result<Option<Head>, httparse::Error> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    if request.parse(bytes)?.is_partial() {
        return Ok(None);
    }
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
    };
    let credential = header("authorization")
        .and_then(|v| v.strip_prefix("Bearer ").map(str::to_owned))
        .or_else(|| header("api-key"));
    Ok(Some(Head {
        method: request.method.unwrap_or_default().to_owned(),
        path: request.path.unwrap_or_default().to_owned(),
        credential,
    }))
}

fn error_body(message: String, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}})
}

/// The status and body the service gives this request.
fn answer(request: &Head, state: &State) -> (u16, Value) {
    let settings = &state.settings;
    let path = request.path.split('?').next().unwrap_or_default();
    if request.method != "GET" {
        let message = format!("Invalid URL ({} {path})", request.method);
        return (404, error_body(message, None));
    }
    match (&settings.key, &request.credential) {
        (KeyCheck::None, _) => {}
        (_, None) => {
            let message = "You didn't provide an API key. Provide it in an Authorization \
                header using Bearer auth (Authorization: Bearer YOUR_KEY)."
                .to_owned();
            return (401, error_body(message, None));
        }
        (KeyCheck::AnyNonEmpty, Some(got)) if got.trim().is_empty() => {
            let message = "You didn't provide an API key.".to_owned();
            return (401, error_body(message, None));
        }
        (KeyCheck::Exact(expected), Some(got)) if got != expected => {
            let message = format!(
                "Incorrect API key provided: {}. You can find your API key at \
                 https://platform.openai.com/account/api-keys.",
                mask_key(got)
            );
            return (401, error_body(message, Some("invalid_api_key")));
        }
        _ => {}
    }
    let catalogue = &settings.catalogue;
    let model = path
        .strip_prefix("/openai")
        .unwrap_or(path)
        .strip_prefix("/v1/models")
        .unwrap_or_default()
        .trim_start_matches('/');
    if model.is_empty() {
        let data: Vec<Value> = catalogue
            .all(&settings.models)
            .into_iter()
            .map(|(id, date)| model_json(&id, date))
            .collect();
        return (200, json!({"object": "list", "data": data}));
    }
    let model = percent_decode(model);
    match catalogue.lookup(&settings.models, &model) {
        Some(date) => (200, model_json(&model, date)),
        None => (
            404,
            error_body(
                format!("The model `{model}` does not exist or you do not have access to it."),
                Some("model_not_found"),
            ),
        ),
    }
}

/// `%2D` and the like in a path segment; a broken escape stays as it is.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&hi), Some(&lo)) if hex(hi).is_some() && hex(lo).is_some() => {
                let value = hex(hi).unwrap_or(0) * 16 + hex(lo).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_knows_accepted_announced_and_live_models() {
        let accepted = vec!["gpt-realtime-2.1".to_owned(), "gpt-realtime".to_owned()];
        let mut catalogue = Catalogue::default();
        assert_eq!(catalogue.lookup(&accepted, "gpt-realtime-2.1"), Some(None));
        assert_eq!(
            catalogue.lookup(&accepted, "gpt-realtime"),
            Some(Some(Date::JAN_20_2027))
        );
        assert_eq!(
            catalogue.lookup(&accepted, "gpt-audio-mini"),
            Some(Some(Date::JAN_20_2027))
        );
        assert_eq!(catalogue.lookup(&accepted, "gpt-live-1"), Some(None));
        assert_eq!(catalogue.lookup(&accepted, "gpt-4o-realtime-preview"), None);
        let yesterday = Date::new(2026, 12, 2);
        catalogue
            .dates
            .push(("gpt-realtime-2.1".to_owned(), yesterday));
        assert_eq!(
            catalogue.lookup(&accepted, "gpt-realtime-2.1"),
            Some(yesterday)
        );
        let all = catalogue.all(&accepted);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "{all:?}");
        assert!(all.iter().any(|(id, _)| id == "gpt-live-1.1"));
    }

    #[test]
    fn escapes_in_the_path_are_decoded() {
        assert_eq!(percent_decode("gpt%2Drealtime"), "gpt-realtime");
        assert_eq!(percent_decode("a%zz%4"), "a%zz%4");
    }
}
