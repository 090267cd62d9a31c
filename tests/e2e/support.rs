//! Shared pieces: a loopback stand-in for Twilio's REST API, configurations, temp
//! folders, and reading TwiML back.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use voice_agent::config::{self, AgentOptions, Config, Env, Needs};

pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "fedcba9876543210fedcba9876543210";
pub const FROM: &str = "+14155550100";
pub const TO: &str = "+14155550199";
pub const PUBLIC_HOST: &str = "bot.example.test";
/// Long and unlike anything else a log could print, so that finding it means a leak.
pub const OPENAI_API_KEY: &str = "sk-test-e2e-0f1e2d3c4b5a69788796a5b4c3d2e1f0";

/// A fresh empty folder under the system's temp folder.
/// An HTTP client for the bot's webhooks on loopback (plain HTTP: TLS is set up with the
/// ring provider and no roots only because reqwest asks for a TLS configuration).
pub fn http() -> reqwest::Client {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .expect("an HTTP client")
}

pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "voice-agent-e2e-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The configuration `call` gets with everything set, pointed at loopback.
pub fn config(realtime_url: &str, twilio_api: &str, out: &std::path::Path) -> Config {
    let env = Env::from_pairs([
        ("TWILIO_ACCOUNT_SID", ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN),
        ("TWILIO_FROM_NUMBER", FROM),
        ("OPENAI_API_KEY", OPENAI_API_KEY),
        ("PUBLIC_URL", &format!("https://{PUBLIC_HOST}")),
        ("OPENAI_REALTIME_URL", realtime_url),
        ("TWILIO_API_URL", twilio_api),
    ]);
    let options = AgentOptions {
        out_dir: Some(out.to_owned()),
        port: Some(0),
        ..AgentOptions::default()
    };
    config::load(&env, &options, Needs::PlaceCalls).expect("test configuration loads")
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: &'static str,
    pub path: String,
    pub authorization: Option<String>,
    pub form: Vec<(String, String)>,
}

impl Received {
    /// The values of a form field, in order.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first value of a form field.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.all(name).first().copied()
    }
}

/// How the stand-in answers `POST .../Calls.json`.
#[derive(Debug, Clone)]
pub enum Create {
    /// 201 with a call resource of this sid.
    Created(&'static str),
    /// 201 with a new sid each time (`CA…01`, `CA…02`, …).
    Sequential,
    /// The first request is recorded and never answered, and no call is created (a
    /// process killed while its request was on the way); the next ones as `Sequential`.
    StallFirst,
    /// The first request creates its call (listed by `GET .../Calls.json`) but its answer
    /// never comes (a process killed after Twilio created the call, before it heard the
    /// CallSid); the next ones as `Sequential`.
    StallFirstAfterCreating,
    /// An error answer: status and Twilio's error JSON.
    Refused(u16, Value),
}

/// A loopback stand-in for `api.twilio.com`: checks basic auth, records every request.
pub struct StandIn {
    pub url: String,
    pub requests: mpsc::UnboundedReceiver<Received>,
    pub log: Arc<Mutex<Vec<Received>>>,
    /// What `GET .../Calls/{CallSid}.json` answers: the call's `status` by CallSid
    /// (`queued` when created; unknown sids get Twilio's 404, error 20404).
    pub calls: Arc<Mutex<BTreeMap<String, String>>>,
}

/// A call the stand-in created: what `GET .../Calls.json` lists.
#[derive(Debug, Clone)]
struct Created {
    sid: String,
    to: Option<String>,
    from: Option<String>,
    /// RFC 2822, as Twilio writes it.
    date_created: String,
}

#[derive(Clone)]
struct StandInState {
    calls: Arc<Mutex<BTreeMap<String, String>>>,
    listed: Arc<Mutex<Vec<Created>>>,
    create: Create,
    created: Arc<AtomicU64>,
    stalled: Arc<AtomicU64>,
    tx: mpsc::UnboundedSender<Received>,
    log: Arc<Mutex<Vec<Received>>>,
}

pub async fn stand_in(create: Create) -> StandIn {
    let (tx, requests) = mpsc::unbounded_channel();
    let log = Arc::new(Mutex::new(Vec::new()));
    let calls = Arc::new(Mutex::new(BTreeMap::new()));
    let state = StandInState {
        calls: Arc::clone(&calls),
        listed: Arc::new(Mutex::new(Vec::new())),
        create,
        created: Arc::new(AtomicU64::new(0)),
        stalled: Arc::new(AtomicU64::new(0)),
        tx,
        log: Arc::clone(&log),
    };
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Calls.json",
            post(create_call).get(list_calls),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{call}",
            post(update_call).get(fetch_call),
        )
        .route("/2010-04-01/Accounts/{account}", get(account))
        .route(
            "/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json",
            get(numbers),
        )
        .with_state(state);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    StandIn {
        url,
        requests,
        log,
        calls,
    }
}

impl StandInState {
    /// Creates the call `sid` (`queued`, dated now): fetched and listed from here on.
    fn add_call(&self, sid: &str, request: &Received) -> String {
        let now = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC);
        let date_created = jiff::fmt::rfc2822::to_string(&now).unwrap();
        self.calls
            .lock()
            .unwrap()
            .insert(sid.to_owned(), "queued".to_owned());
        self.listed.lock().unwrap().push(Created {
            sid: sid.to_owned(),
            to: request.one("To").map(str::to_owned),
            from: request.one("From").map(str::to_owned),
            date_created: date_created.clone(),
        });
        date_created
    }

    /// Records the request; `Err` with Twilio's 20003 answer when basic auth is wrong.
    fn record(
        &self,
        method: &'static str,
        path: String,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Received, Box<Response>> {
        let authorization = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let received = Received {
            method,
            path,
            authorization: authorization.clone(),
            form: form_urlencoded::parse(body).into_owned().collect(),
        };
        self.log.lock().unwrap().push(received.clone());
        let _ = self.tx.send(received.clone());
        let expected = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT_SID}:{AUTH_TOKEN}"))
        );
        if authorization.as_deref() != Some(expected.as_str()) {
            return Err(Box::new((
                StatusCode::UNAUTHORIZED,
                axum::Json(json!({"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})),
            )
                .into_response()));
        }
        Ok(received)
    }
}

async fn create_call(
    State(state): State<StandInState>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account}/Calls.json");
    let received = match state.record("POST", path, &headers, &body) {
        Ok(received) => received,
        Err(response) => return *response,
    };
    let sid = match &state.create {
        Create::Created(sid) => (*sid).to_owned(),
        Create::Sequential => {
            let n = state.created.fetch_add(1, Ordering::Relaxed) + 1;
            format!("CA{n:032x}")
        }
        Create::StallFirst => {
            if state.stalled.fetch_add(1, Ordering::Relaxed) == 0 {
                std::future::pending::<()>().await;
            }
            let n = state.created.fetch_add(1, Ordering::Relaxed) + 1;
            format!("CA{n:032x}")
        }
        Create::StallFirstAfterCreating => {
            let n = state.created.fetch_add(1, Ordering::Relaxed) + 1;
            let sid = format!("CA{n:032x}");
            if state.stalled.fetch_add(1, Ordering::Relaxed) == 0 {
                state.add_call(&sid, &received);
                std::future::pending::<()>().await;
            }
            sid
        }
        Create::Refused(status, body) => {
            return (
                StatusCode::from_u16(*status).unwrap(),
                axum::Json(body.clone()),
            )
                .into_response();
        }
    };
    let date_created = state.add_call(&sid, &received);
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "sid": sid,
            "account_sid": account,
            "status": "queued",
            "to": received.one("To"),
            "from": received.one("From"),
            "direction": "outbound-api",
            "date_created": date_created
        })),
    )
        .into_response()
}

/// `GET .../Calls.json`: the calls created, newest first, filtered by `To` and `From`.
async fn list_calls(
    State(state): State<StandInState>,
    Path(account): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account}/Calls.json");
    if let Err(response) = state.record("GET", path, &headers, b"") {
        return *response;
    }
    let query: BTreeMap<String, String> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let statuses = state.calls.lock().unwrap().clone();
    let calls: Vec<Value> = state
        .listed
        .lock()
        .unwrap()
        .iter()
        .rev()
        .filter(|c| query.get("To").is_none_or(|to| c.to.as_ref() == Some(to)))
        .filter(|c| {
            query
                .get("From")
                .is_none_or(|from| c.from.as_ref() == Some(from))
        })
        .map(|c| {
            json!({
                "sid": c.sid,
                "account_sid": account,
                "status": statuses.get(&c.sid),
                "to": c.to,
                "from": c.from,
                "direction": "outbound-api",
                "date_created": c.date_created
            })
        })
        .collect();
    axum::Json(json!({"calls": calls, "page": 0, "page_size": 50, "next_page_uri": null}))
        .into_response()
}

async fn update_call(
    State(state): State<StandInState>,
    Path((account, call)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account}/Calls/{call}");
    if let Err(response) = state.record("POST", path, &headers, &body) {
        return *response;
    }
    let sid = call.trim_end_matches(".json");
    axum::Json(json!({"sid": sid, "status": "completed"})).into_response()
}

async fn fetch_call(
    State(state): State<StandInState>,
    Path((account, call)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account}/Calls/{call}");
    if let Err(response) = state.record("GET", path, &headers, b"") {
        return *response;
    }
    let sid = call.trim_end_matches(".json");
    let status = state.calls.lock().unwrap().get(sid).cloned();
    match status {
        Some(status) => axum::Json(json!({
            "sid": sid,
            "account_sid": account,
            "status": status,
            "direction": "outbound-api"
        }))
        .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"code": 20404, "message": "The requested resource was not found", "more_info": "https://www.twilio.com/docs/errors/20404", "status": 404})),
        )
            .into_response(),
    }
}

async fn account(
    State(state): State<StandInState>,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account}");
    if let Err(response) = state.record("GET", path, &headers, b"") {
        return *response;
    }
    axum::Json(json!({
        "sid": account.trim_end_matches(".json"),
        "friendly_name": "Test account",
        "status": "active",
        "type": "Full"
    }))
    .into_response()
}

async fn numbers(
    State(state): State<StandInState>,
    Path(account): Path<String>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account}/IncomingPhoneNumbers.json");
    if let Err(response) = state.record("GET", path, &headers, b"") {
        return *response;
    }
    let query: BTreeMap<String, String> = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let found = query.get("PhoneNumber").map(String::as_str) == Some(FROM);
    let numbers = if found {
        json!([{
            "sid": "PN0123456789abcdef0123456789abcdef",
            "phone_number": FROM,
            "friendly_name": "Test number",
            "capabilities": {"voice": true, "sms": true, "mms": false, "fax": false}
        }])
    } else {
        json!([])
    };
    axum::Json(json!({"incoming_phone_numbers": numbers})).into_response()
}

/// The bot's server for `config` on 127.0.0.1 port 0; it runs until the test ends.
pub async fn serve_bot(config: &Config) -> (std::net::SocketAddr, Arc<voice_agent::server::Bot>) {
    let bot = Arc::new(voice_agent::serve::bot(config, true).unwrap());
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(voice_agent::server::serve(
        listener,
        Arc::clone(&bot),
        std::future::pending(),
    ));
    (addr, bot)
}

/// The `url` of the TwiML's `<Stream>` and its `<Parameter>`s.
pub fn stream_of(twiml: &str) -> (String, BTreeMap<String, String>) {
    let stream = twiml
        .split("<Stream ")
        .nth(1)
        .expect("the TwiML has a <Stream>");
    let url = attribute(stream, "url").expect("the <Stream> has a url");
    let mut parameters = BTreeMap::new();
    for parameter in twiml.split("<Parameter ").skip(1) {
        let name = attribute(parameter, "name").unwrap();
        let value = attribute(parameter, "value").unwrap();
        parameters.insert(name, value);
    }
    (url, parameters)
}

fn attribute(element: &str, name: &str) -> Option<String> {
    let start = element
        .find(&format!(" {name}=\""))
        .map(|i| i + name.len() + 3)
        .or_else(|| {
            element
                .starts_with(&format!("{name}=\""))
                .then_some(name.len() + 2)
        })?;
    let rest = &element[start..];
    let end = rest.find('"')?;
    Some(unescape(&rest[..end]))
}

fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#10;", "\n")
        .replace("&#13;", "\r")
        .replace("&#09;", "\t")
        .replace("&amp;", "&")
}

/// The lines of `outcomes.jsonl`.
pub fn outcome_lines(out: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("outcomes.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The lines of `outcomes.jsonl` once there are `n` (the line is written right after the
/// bridge ends, a moment after the simulated call sees the socket close).
pub async fn wait_outcome_lines(out: &std::path::Path, n: usize) -> Vec<Value> {
    let mut lines = Vec::new();
    for _ in 0..100 {
        lines = outcome_lines(out);
        if lines.len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    lines
}

/// Checks a WAV file's header: RIFF/WAVE, mu-law (7), stereo, 8 kHz, and a data chunk
/// of `min_ms` or more.
pub fn assert_stereo_mulaw_wav(path: &std::path::Path, min_ms: u64) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], b"RIFF", "{}", path.display());
    assert_eq!(&bytes[8..12], b"WAVE");
    let riff_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff_len + 8, bytes.len(), "RIFF size matches the file");
    let mut at = 12;
    let mut format = None;
    let mut data = None;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &bytes[at + 8..(at + 8 + len).min(bytes.len())];
        match id {
            b"fmt " => format = Some(body.to_vec()),
            b"data" => data = Some(len),
            _ => {}
        }
        at += 8 + len + (len % 2);
    }
    let format = format.expect("fmt chunk");
    assert_eq!(u16::from_le_bytes([format[0], format[1]]), 7, "mu-law");
    assert_eq!(u16::from_le_bytes([format[2], format[3]]), 2, "stereo");
    assert_eq!(
        u32::from_le_bytes(format[4..8].try_into().unwrap()),
        8000,
        "8 kHz"
    );
    let data = data.expect("data chunk");
    let ms = (data / 2 / 8) as u64;
    assert!(
        ms >= min_ms,
        "recording is {ms} ms, expected at least {min_ms}"
    );
}

/// When each channel of a stereo mu-law recording is not silent: `(start, end)` seconds,
/// at 10 ms resolution, for the left and the right channel.
pub fn channel_activity(path: &std::path::Path) -> [Vec<(f64, f64)>; 2] {
    let bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(4)
        .position(|w| w == b"data")
        .expect("data chunk");
    let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
    let data = &bytes[at + 8..at + 8 + len];
    let activity = |channel: usize| {
        let samples: Vec<u8> = data.iter().skip(channel).step_by(2).copied().collect();
        let mut spans = Vec::new();
        let mut open: Option<f64> = None;
        for (n, window) in samples.chunks(80).enumerate() {
            let t = n as f64 * 0.01;
            // Mu-law silence is 0xFF (or 0x7F, negative zero).
            let sound = window.iter().any(|&b| b != 0xFF && b != 0x7F);
            match (sound, open) {
                (true, None) => open = Some(t),
                (false, Some(start)) => {
                    spans.push((start, t));
                    open = None;
                }
                _ => {}
            }
        }
        if let Some(start) = open {
            spans.push((start, samples.len() as f64 / 8000.0));
        }
        spans
    };
    [activity(0), activity(1)]
}
