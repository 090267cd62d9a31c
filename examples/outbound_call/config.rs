//! Configuration: the environment, or a `.env` file in the working directory.
//!
//! Every subcommand needs a different part of it ([`Needs`]). Everything it needs is read
//! and checked at start, and every problem found goes into ONE error listing what to set
//! ([`ConfigError`]), so a user fixes all of them in one go. Values that look wrong but may
//! work (an auth token that is not 32 hex digits) are warnings, logged at start.
//!
//! Secrets are held in the crates' redacting types ([`AuthToken`], [`ApiKey`],
//! [`SigningSecret`]): `Debug` prints `<redacted>`, and nothing here logs them.
//!
//! # The call-context secret
//!
//! The appointment travels in the TwiML's `<Parameter>`s, signed with HMAC-SHA256
//! (`twilio_media_stream::context`). Its key is `CALL_CONTEXT_SECRET` (32 bytes or more) when
//! set. Otherwise it is derived from the Twilio auth token, as
//! `HMAC-SHA256(auth token, "voice-agent outbound_call call-context v1")`: every instance
//! that has the account's credentials can then place and serve calls with no extra secret
//! to distribute, and the auth token itself never signs anything but Twilio's own
//! requests. Rotating the auth token invalidates the contexts of calls placed in the last
//! few minutes (they are refused and the caller hears the fallback); set
//! `CALL_CONTEXT_SECRET` to decouple the two.

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use openai_realtime::Dialect;
use openai_realtime::Voice;
use openai_realtime::client::{ApiKey, DEFAULT_MODEL};
use sha2::Sha256;
use twilio_media_stream::context::SigningSecret;
use twilio_media_stream::server::PublicBase;
use twilio_media_stream::{AccountSid, AuthToken, PhoneNumber};

use crate::connections::Limits;

/// The default port of the bot's server.
pub const DEFAULT_PORT: u16 = 5050;

/// The label the derived call-context secret is computed over (see the module docs).
const CONTEXT_SECRET_LABEL: &[u8] = b"voice-agent outbound_call call-context v1";

/// The configuration variables: name and what to put there, as the error message says it.
const HELP: &[(&str, &str)] = &[
    (
        "TWILIO_ACCOUNT_SID",
        "your Account SID (AC followed by 32 hex digits), from the Twilio Console's home page",
    ),
    (
        "TWILIO_AUTH_TOKEN",
        "the account's Auth Token, next to the Account SID in the Twilio Console",
    ),
    (
        "TWILIO_FROM_NUMBER",
        "a voice-capable Twilio number of the account, in E.164 (e.g. +14155550100)",
    ),
    (
        "OPENAI_API_KEY",
        "an OpenAI API key (sk-...) with access to the Realtime model",
    ),
    (
        "PUBLIC_URL",
        "the public HTTPS host Twilio reaches this server at (e.g. abc123.ngrok.app), a tunnel to PORT",
    ),
];

/// Environment variables and `.env` pairs; the process environment wins.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<String, String>,
    dotenv: Option<PathBuf>,
}

impl fmt::Debug for Env {
    /// Names only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .field("dotenv", &self.dotenv)
            .finish()
    }
}

impl Env {
    /// The process environment, plus `./.env` for the names the environment does not set.
    ///
    /// # Errors
    ///
    /// A `.env` file that exists but cannot be read or parsed (with its line).
    pub fn load() -> Result<Self, ConfigError> {
        let mut env = Self::from_pairs(std::env::vars());
        env.merge_dotenv(Path::new(".env"))?;
        Ok(env)
    }

    /// An environment made of these pairs (for tests and embedding).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        Self {
            vars: pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            dotenv: None,
        }
    }

    /// Adds the pairs of a `.env` file for names not already set. A missing file is fine.
    ///
    /// # Errors
    ///
    /// The file exists but cannot be read or a line cannot be parsed.
    pub fn merge_dotenv(&mut self, path: &Path) -> Result<(), ConfigError> {
        let iter = match dotenvy::from_path_iter(path) {
            Ok(iter) => iter,
            Err(dotenvy::Error::Io(err)) if err.kind() == std::io::ErrorKind::NotFound => {
                return Ok(());
            }
            Err(err) => {
                return Err(ConfigError::single(format!(
                    "cannot read {}: {err}",
                    path.display()
                )));
            }
        };
        for item in iter {
            let (name, value) = item.map_err(|err| {
                // dotenvy's message quotes the whole line, which may hold a secret: name
                // only what precedes the `=`.
                let detail = match &err {
                    dotenvy::Error::LineParse(line, index) => format!(
                        "the line starting {:?} cannot be parsed at character {index}",
                        line.split('=').next().unwrap_or("").trim()
                    ),
                    dotenvy::Error::Io(io) => io.to_string(),
                    _ => "a line cannot be parsed".to_owned(),
                };
                ConfigError::single(format!("cannot read {}: {detail}", path.display()))
            })?;
            self.vars.entry(name).or_insert(value);
        }
        self.dotenv = Some(path.to_owned());
        Ok(())
    }

    /// A variable's value, trimmed; `None` when unset or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Where the `.env` pairs came from, if a file was read.
    pub fn dotenv(&self) -> Option<&Path> {
        self.dotenv.as_deref()
    }
}

/// What a subcommand needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// `call` and `batch`: everything, to place calls and serve their streams.
    PlaceCalls,
    /// `serve`: the agent, and Twilio's auth token if streams are to be checked.
    Serve,
    /// `check`: the agent and the Twilio credentials; `PUBLIC_URL` only if set.
    Check,
}

/// Options that come from the command line (they win over the environment).
#[derive(Debug, Clone, Default)]
pub struct AgentOptions {
    /// `--model`.
    pub model: Option<String>,
    /// `--voice`.
    pub voice: Option<String>,
    /// `--dialect`.
    pub dialect: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--bind`.
    pub bind: Option<IpAddr>,
    /// `--out`.
    pub out_dir: Option<PathBuf>,
}

/// The public host Twilio reaches the server at, e.g. `abc123.ngrok.app` (a port is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUrl {
    host: String,
    base: PublicBase,
}

impl PublicUrl {
    /// Reads `PUBLIC_URL`: a host, with or without `https://` (or `wss://`), an optional port
    /// and an optional trailing `/`.
    ///
    /// # Errors
    ///
    /// A message saying what is wrong and what to write instead: `http://` or `ws://`
    /// (Twilio only streams over TLS), a path or query, or no host.
    pub fn parse(value: &str) -> Result<Self, String> {
        let value = value.trim();
        let (scheme, rest) = match value.split_once("://") {
            Some((scheme, rest)) => (Some(scheme.to_ascii_lowercase()), rest),
            None => (None, value),
        };
        match scheme.as_deref() {
            None | Some("https" | "wss") => {}
            Some("http" | "ws") => {
                return Err(format!(
                    "PUBLIC_URL {value:?} uses {}://, but Twilio only streams to wss:// and \
                     signs https:// webhooks: give the tunnel's https host, e.g. {:?}",
                    scheme.unwrap_or_default(),
                    rest.trim_end_matches('/')
                ));
            }
            Some(other) => {
                return Err(format!(
                    "PUBLIC_URL {value:?} has the scheme {other}://: give the host only \
                     (https:// is optional), e.g. abc123.ngrok.app"
                ));
            }
        }
        let host = rest.trim_end_matches('/');
        if let Some(index) = host.find(['/', '?', '#']) {
            return Err(format!(
                "PUBLIC_URL {value:?} has a path or query ({:?}): the bot serves /media-stream \
                 and /twilio/* at the root of the host, so give the host only, e.g. {:?}",
                &host[index..],
                &host[..index]
            ));
        }
        if host.is_empty() || host.contains(char::is_whitespace) || host.contains('@') {
            return Err(format!(
                "PUBLIC_URL {value:?} is not a host name: give the tunnel's host, e.g. abc123.ngrok.app"
            ));
        }
        let parsed = url::Url::parse(&format!("https://{host}"))
            .map_err(|err| format!("PUBLIC_URL {value:?} is not a valid host: {err}"))?;
        if parsed.host_str().is_none() {
            return Err(format!("PUBLIC_URL {value:?} has no host"));
        }
        let base = PublicBase::parse(host)
            .map_err(|err| format!("PUBLIC_URL {value:?}: {}", err.reason()))?;
        Ok(Self {
            host: host.to_ascii_lowercase(),
            base,
        })
    }

    /// Why Twilio could not reach this host, if it is obviously local (localhost, a
    /// loopback or private address). Fine for `serve` behind a local load generator; a
    /// mistake for `call`.
    pub fn local_reason(&self) -> Option<String> {
        let name = self.host_name();
        let name = name.trim_start_matches('[').trim_end_matches(']');
        if name == "localhost" || name.ends_with(".localhost") {
            return Some(format!(
                "PUBLIC_URL {:?} is this machine: Twilio cannot reach it; run a tunnel \
                 (e.g. `ngrok http {DEFAULT_PORT}`) and use its https host",
                self.host
            ));
        }
        if let Ok(ip) = name.parse::<IpAddr>() {
            let private = match ip {
                IpAddr::V4(v4) => {
                    v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_unspecified()
                }
                IpAddr::V6(v6) => v6.is_loopback() || v6.is_unspecified(),
            };
            if private {
                return Some(format!(
                    "PUBLIC_URL {:?} is a local or private address Twilio cannot reach; run a \
                     tunnel and use its https host",
                    self.host
                ));
            }
        }
        None
    }

    /// The host (and port, if one was given).
    pub fn host(&self) -> &str {
        &self.host
    }

    fn host_name(&self) -> &str {
        match self.host.rsplit_once(':') {
            Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
            _ => &self.host,
        }
    }

    /// The public base the server's signature checks rebuild URLs from.
    pub fn base(&self) -> &PublicBase {
        &self.base
    }

    /// `wss://HOST/media-stream`: the `<Stream url>`, and the URL Twilio signs the upgrade for.
    pub fn stream_url(&self) -> String {
        self.base.wss_url("/media-stream")
    }

    /// `https://HOST{path_and_query}`: a webhook URL as Twilio calls and signs it.
    pub fn https_url(&self, path_and_query: &str) -> String {
        self.base.https_url(path_and_query)
    }
}

/// Twilio account settings.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// `TWILIO_ACCOUNT_SID`.
    pub account_sid: String,
    /// `TWILIO_AUTH_TOKEN`.
    pub auth_token: AuthToken,
    /// `TWILIO_FROM_NUMBER` (absent for `serve`).
    pub from_number: Option<String>,
    /// `TWILIO_API_URL`: the REST API's base URL (default Twilio's; tests use loopback).
    pub api_base_url: Option<String>,
}

/// The agent (OpenAI Realtime) settings.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// `OPENAI_API_KEY` (optional with the model's local endpoint: `OPENAI_REALTIME_URL`, or
    /// `OPENAI_LIVE_URL` for a `gpt-live` model).
    pub api_key: Option<ApiKey>,
    /// `OPENAI_REALTIME_URL`: a full ws:// or wss:// URL replacing OpenAI's Realtime
    /// endpoint (also the base of the model look-up, `GET /v1/models/{model}`).
    pub realtime_url: Option<String>,
    /// `OPENAI_LIVE_URL`: a full ws:// or wss:// URL replacing OpenAI's GPT-Live endpoint
    /// (`wss://api.openai.com/v1/live/sessions`), used when the model is a `gpt-live` one.
    pub live_url: Option<String>,
    /// `--model` / `OPENAI_MODEL` (default `gpt-realtime-2.1`). A `gpt-live-…` model
    /// selects the GPT-Live protocol ([`AgentConfig::is_live`]).
    pub model: String,
    /// `--voice` / `OPENAI_VOICE` (default: the service's).
    pub voice: Option<Voice>,
    /// `--dialect` / `OPENAI_DIALECT` (default GA).
    pub dialect: Dialect,
}

impl AgentConfig {
    /// Whether the model is a GPT-Live one (`gpt-live-1`, `gpt-live-1.1`, any later
    /// `gpt-live-…`): the bot then speaks the Live protocol to `OPENAI_LIVE_URL` or OpenAI's
    /// `/v1/live/sessions`, and the Realtime settings (`--dialect`) do not apply.
    pub fn is_live(&self) -> bool {
        self.model.starts_with("gpt-live")
    }

    /// The protocol the model speaks, as the bot's lines name it.
    pub fn api_name(&self) -> &'static str {
        if self.is_live() {
            "OpenAI GPT-Live"
        } else {
            "OpenAI Realtime"
        }
    }

    /// The endpoint variable that applies to the model, and its value if set.
    pub fn endpoint_override(&self) -> (&'static str, Option<&str>) {
        if self.is_live() {
            ("OPENAI_LIVE_URL", self.live_url.as_deref())
        } else {
            ("OPENAI_REALTIME_URL", self.realtime_url.as_deref())
        }
    }

    /// The GPT-Live client configuration for these settings (the model travels in the
    /// session's `session.start`, not in the URL).
    pub fn live_client_config(&self) -> openai_realtime::live::client::Config {
        use openai_realtime::live::client::Config as LiveConfig;
        match (&self.live_url, &self.api_key) {
            (Some(url), Some(key)) => LiveConfig::url(url.clone()).with_api_key(key.clone()),
            (Some(url), None) => LiveConfig::url(url.clone()),
            (None, Some(key)) => LiveConfig::openai(key.clone()),
            // An empty key gets the service's own refusal.
            (None, None) => LiveConfig::openai(ApiKey::new("")),
        }
    }

    /// The Realtime client configuration for these settings.
    pub fn client_config(&self) -> openai_realtime::client::Config {
        let config = match (&self.realtime_url, &self.api_key) {
            (Some(url), Some(key)) => {
                openai_realtime::client::Config::url(url.clone()).with_api_key(key.clone())
            }
            (Some(url), None) => openai_realtime::client::Config::url(url.clone()),
            (None, Some(key)) => openai_realtime::client::Config::openai(key.clone()),
            // `load` refuses this combination; an empty key gets the service's own refusal.
            (None, None) => openai_realtime::client::Config::openai(ApiKey::new("")),
        };
        config
            .with_model(self.model.clone())
            .with_dialect(self.dialect)
    }

    /// Settings for a local endpoint without a key (the offline demo, tests).
    pub fn local(url: impl Into<String>) -> Self {
        Self {
            api_key: None,
            realtime_url: Some(url.into()),
            live_url: None,
            model: DEFAULT_MODEL.to_owned(),
            voice: None,
            dialect: Dialect::Ga,
        }
    }

    /// Settings for a local GPT-Live endpoint without a key: `live_url` for the session,
    /// `realtime_url` (the same server's Realtime URL) as the base of the model look-up.
    pub fn local_live(
        live_url: impl Into<String>,
        realtime_url: impl Into<String>,
        model: impl Into<String>,
    ) -> Self {
        Self {
            live_url: Some(live_url.into()),
            model: model.into(),
            ..Self::local(realtime_url)
        }
    }
}

/// Everything a subcommand was given.
#[derive(Debug, Clone)]
pub struct Config {
    /// Twilio; `None` for `serve` without an auth token.
    pub twilio: Option<TwilioConfig>,
    /// The agent.
    pub agent: AgentConfig,
    /// `PUBLIC_URL`.
    pub public_url: Option<PublicUrl>,
    /// The call-context key (see the module docs); `None` without an auth token.
    pub context_secret: Option<SigningSecret>,
    /// Where that key comes from, for the start-up log.
    pub context_secret_source: &'static str,
    /// `--port` / `PORT` (default 5050).
    pub port: u16,
    /// `--bind` / `BIND_ADDR` (default 127.0.0.1; tunnels connect to loopback).
    pub bind: IpAddr,
    /// `--out` / `OUTPUT_DIR` (default `./out`).
    pub out_dir: PathBuf,
    /// `HEADER_READ_TIMEOUT_MS` (default 10000) and `MAX_UNAUTHENTICATED_CONNECTIONS`
    /// (default 128): what a connection may hold before it authenticates.
    pub limits: Limits,
    /// `--drain-timeout` / `DRAIN_TIMEOUT_SECS` (default 600): how long `serve`'s calls
    /// in progress may go on after SIGTERM before they get the fallback and end.
    pub drain_timeout: std::time::Duration,
    /// Values that look wrong but may work; log them at start.
    pub warnings: Vec<String>,
}

/// The default drain deadline: ten minutes, longer than most calls.
pub const DEFAULT_DRAIN_TIMEOUT_SECS: u64 = 600;

/// Configuration that cannot work: every problem found, with what to set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<String>,
}

impl ConfigError {
    fn single(problem: String) -> Self {
        Self {
            problems: vec![problem],
        }
    }

    /// Each problem, one line each.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    /// Adds a problem found elsewhere (a command-line value), so one message lists all.
    #[must_use]
    pub fn with(mut self, problem: String) -> Self {
        self.problems.push(problem);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "the configuration cannot work: set or fix these in the environment or in ./.env, \
             then run again"
        )?;
        for problem in &self.problems {
            writeln!(f, "  - {problem}")?;
        }
        write!(
            f,
            "(`cargo run --example outbound_call -- check` verifies them without dialling; \
             with no subcommand the bot runs offline and needs none)"
        )
    }
}

impl std::error::Error for ConfigError {}

/// Reads and checks the configuration a subcommand needs.
///
/// # Errors
///
/// Every missing or malformed value, in one [`ConfigError`].
pub fn load(env: &Env, options: &AgentOptions, needs: Needs) -> Result<Config, ConfigError> {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();

    let mut require = |name: &str, needed: bool| -> Option<String> {
        match env.get(name) {
            Some(value) => Some(value.to_owned()),
            None => {
                if needed {
                    let help = HELP.iter().find(|(n, _)| *n == name).map_or("", |(_, h)| h);
                    problems.push(format!("{name} is not set: {help}"));
                }
                None
            }
        }
    };

    let realtime_url = env.get("OPENAI_REALTIME_URL").map(str::to_owned);
    let live_url = env.get("OPENAI_LIVE_URL").map(str::to_owned);
    let twilio_needed = matches!(needs, Needs::PlaceCalls | Needs::Check);
    let account_sid = require("TWILIO_ACCOUNT_SID", twilio_needed);
    let auth_token = require("TWILIO_AUTH_TOKEN", twilio_needed);
    let from_number = require("TWILIO_FROM_NUMBER", twilio_needed);
    // A local endpoint for the model's protocol needs no key (a mock, a proxy that adds it).
    let live_model = options
        .model
        .as_deref()
        .or_else(|| env.get("OPENAI_MODEL"))
        .is_some_and(|m| m.starts_with("gpt-live"));
    let local_endpoint = if live_model {
        live_url.is_some()
    } else {
        realtime_url.is_some()
    };
    let api_key = require("OPENAI_API_KEY", !local_endpoint);
    let public_url_raw = require(
        "PUBLIC_URL",
        needs == Needs::PlaceCalls
            || (needs == Needs::Serve && env.get("TWILIO_AUTH_TOKEN").is_some()),
    );

    if let Some(sid) = &account_sid {
        if let Some(problem) = account_sid_problem(sid) {
            problems.push(problem);
        }
    }
    if let Some(token) = &auth_token {
        if token.len() != 32 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
            warnings.push(format!(
                "TWILIO_AUTH_TOKEN has {} characters; Twilio auth tokens are 32 hex digits \
                 (an API key secret does not sign webhooks)",
                token.chars().count()
            ));
        }
    }
    if let Some(number) = &from_number {
        if let Some(problem) = e164_problem("TWILIO_FROM_NUMBER", number) {
            problems.push(problem);
        }
    }
    if let Some(key) = &api_key {
        if !(key.starts_with("sk-") || key.starts_with("ek_")) {
            warnings.push(
                "OPENAI_API_KEY does not start with sk- (or ek_ for a client secret); \
                 `check` tells whether it works"
                    .to_owned(),
            );
        }
    }
    for (name, url, path) in [
        ("OPENAI_REALTIME_URL", &realtime_url, "/v1/realtime"),
        ("OPENAI_LIVE_URL", &live_url, "/v1/live/sessions"),
    ] {
        let Some(url) = url else { continue };
        match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "ws" | "wss") => {}
            Ok(parsed) => problems.push(format!(
                "{name} {url:?} has the scheme {}://; it must be a full ws:// or \
                 wss:// URL (e.g. ws://127.0.0.1:8080{path})",
                parsed.scheme()
            )),
            Err(err) => problems.push(format!(
                "{name} {url:?} is not a URL ({err}); it must be a full ws:// or \
                 wss:// URL"
            )),
        }
    }

    let public_url = public_url_raw
        .as_deref()
        .and_then(|raw| match PublicUrl::parse(raw) {
            Ok(public) => {
                if let Some(reason) = public.local_reason() {
                    if needs == Needs::Serve {
                        warnings.push(reason);
                    } else {
                        problems.push(reason);
                    }
                }
                Some(public)
            }
            Err(problem) => {
                problems.push(problem);
                None
            }
        });

    let port = match options.port {
        Some(port) => port,
        None => match env.get("PORT") {
            None => DEFAULT_PORT,
            Some(raw) => match raw.parse::<u16>() {
                Ok(port) => port,
                Err(_) => {
                    problems.push(format!(
                        "PORT {raw:?} is not a port number (1-65535; default {DEFAULT_PORT})"
                    ));
                    DEFAULT_PORT
                }
            },
        },
    };
    let bind = match options.bind {
        Some(bind) => bind,
        None => match env.get("BIND_ADDR") {
            None => IpAddr::V4(Ipv4Addr::LOCALHOST),
            Some(raw) => raw.parse().unwrap_or_else(|_| {
                problems.push(format!(
                    "BIND_ADDR {raw:?} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)"
                ));
                IpAddr::V4(Ipv4Addr::LOCALHOST)
            }),
        },
    };

    let model = options
        .model
        .clone()
        .or_else(|| env.get("OPENAI_MODEL").map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_MODEL.to_owned());
    let voice = options
        .voice
        .clone()
        .or_else(|| env.get("OPENAI_VOICE").map(str::to_owned))
        .map(|v| Voice::from(v.as_str()));
    let dialect = match options
        .dialect
        .clone()
        .or_else(|| env.get("OPENAI_DIALECT").map(str::to_owned))
    {
        None => Dialect::Ga,
        Some(raw) => parse_dialect(&raw).unwrap_or_else(|problem| {
            problems.push(problem);
            Dialect::Ga
        }),
    };

    let (context_secret, context_secret_source) = match env.get("CALL_CONTEXT_SECRET") {
        Some(raw) => match SigningSecret::new(raw.as_bytes().to_vec()) {
            Ok(secret) => (Some(secret), "CALL_CONTEXT_SECRET"),
            Err(err) => {
                problems.push(format!(
                    "CALL_CONTEXT_SECRET is too short ({err}); use e.g. `openssl rand -base64 32`"
                ));
                (None, "CALL_CONTEXT_SECRET")
            }
        },
        None => match &auth_token {
            Some(token) => (
                Some(derive_context_secret(token)),
                "derived from TWILIO_AUTH_TOKEN",
            ),
            None => (None, "none (no TWILIO_AUTH_TOKEN)"),
        },
    };

    if needs == Needs::Serve && auth_token.is_none() && !bind.is_loopback() {
        problems.push(format!(
            "TWILIO_AUTH_TOKEN is not set, so streams cannot be checked: `serve` then binds \
             only to loopback, but BIND_ADDR/--bind is {bind}; set TWILIO_AUTH_TOKEN (and \
             PUBLIC_URL) or bind to 127.0.0.1"
        ));
    }

    let out_dir = options
        .out_dir
        .clone()
        .or_else(|| env.get("OUTPUT_DIR").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("out"));

    let limits = limits(env, &mut problems);
    let drain_timeout = drain_timeout(env, &mut problems);

    if !problems.is_empty() {
        return Err(ConfigError { problems });
    }

    let twilio = match (account_sid, auth_token) {
        (Some(account_sid), Some(token)) => Some(TwilioConfig {
            account_sid,
            auth_token: AuthToken::new(token),
            from_number,
            api_base_url: env.get("TWILIO_API_URL").map(str::to_owned),
        }),
        (None, Some(token)) => Some(TwilioConfig {
            account_sid: String::new(),
            auth_token: AuthToken::new(token),
            from_number,
            api_base_url: env.get("TWILIO_API_URL").map(str::to_owned),
        }),
        _ => None,
    };

    Ok(Config {
        twilio,
        agent: AgentConfig {
            api_key: api_key.map(ApiKey::new),
            realtime_url,
            live_url,
            model,
            voice,
            dialect,
        },
        public_url,
        context_secret,
        context_secret_source,
        port,
        bind,
        out_dir,
        limits,
        drain_timeout,
        warnings,
    })
}

/// `DRAIN_TIMEOUT_SECS`: a whole number of seconds (0: end the calls at once).
fn drain_timeout(env: &Env, problems: &mut Vec<String>) -> std::time::Duration {
    let secs = match env.get("DRAIN_TIMEOUT_SECS") {
        None => DEFAULT_DRAIN_TIMEOUT_SECS,
        Some(raw) => raw.trim().parse::<u64>().unwrap_or_else(|_| {
            problems.push(format!(
                "DRAIN_TIMEOUT_SECS {raw:?} is not a whole number of seconds \
                 (default {DEFAULT_DRAIN_TIMEOUT_SECS})"
            ));
            DEFAULT_DRAIN_TIMEOUT_SECS
        }),
    };
    std::time::Duration::from_secs(secs)
}

/// `HEADER_READ_TIMEOUT_MS` and `MAX_UNAUTHENTICATED_CONNECTIONS`, each a positive whole
/// number; the defaults when unset.
fn limits(env: &Env, problems: &mut Vec<String>) -> Limits {
    let defaults = Limits::default();
    let mut positive = |name: &str, default: u64| -> u64 {
        match env.get(name) {
            None => default,
            Some(raw) => match raw.parse::<u64>() {
                Ok(value) if value > 0 => value,
                _ => {
                    problems.push(format!(
                        "{name} {raw:?} is not a positive whole number (default {default})"
                    ));
                    default
                }
            },
        }
    };
    let timeout_ms = positive(
        "HEADER_READ_TIMEOUT_MS",
        defaults.header_read_timeout.as_millis() as u64,
    );
    let max = positive(
        "MAX_UNAUTHENTICATED_CONNECTIONS",
        defaults.max_unauthenticated as u64,
    );
    Limits {
        header_read_timeout: std::time::Duration::from_millis(timeout_ms),
        max_unauthenticated: usize::try_from(max).unwrap_or(usize::MAX),
    }
}

/// Reads a dialect name: `ga` or `beta`.
///
/// # Errors
///
/// Any other name, with the two accepted.
pub fn parse_dialect(raw: &str) -> Result<Dialect, String> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "ga" => Ok(Dialect::Ga),
        "beta" => Ok(Dialect::Beta),
        other => Err(format!(
            "dialect {other:?} is not known: use `ga` (the default) or `beta` (retired by OpenAI)"
        )),
    }
}

/// The call-context key derived from the auth token (see the module docs).
pub fn derive_context_secret(auth_token: &str) -> SigningSecret {
    let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(CONTEXT_SECRET_LABEL);
    let key = mac.finalize().into_bytes().to_vec();
    SigningSecret::new(key).expect("an HMAC-SHA256 output is 32 bytes, the minimum")
}

fn account_sid_problem(sid: &str) -> Option<String> {
    AccountSid::parse(sid)
        .err()
        .map(|err| format!("TWILIO_ACCOUNT_SID: {err}"))
}

/// Why `number` is not an E.164 phone number, if it is not, named as `name`.
pub fn e164_problem(name: &str, number: &str) -> Option<String> {
    PhoneNumber::parse(number)
        .err()
        .map(|err| format!("{name} {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TWILIO_ACCOUNT_SID", "AC0123456789abcdef0123456789abcdef"),
            ("TWILIO_AUTH_TOKEN", "fedcba9876543210fedcba9876543210"),
            ("TWILIO_FROM_NUMBER", "+14155550100"),
            ("OPENAI_API_KEY", "sk-test-key"),
            ("PUBLIC_URL", "https://abc123.ngrok.app/"),
        ]
    }

    #[test]
    fn everything_set_loads_with_defaults() {
        let config = load(
            &Env::from_pairs(full()),
            &AgentOptions::default(),
            Needs::PlaceCalls,
        )
        .unwrap();
        assert_eq!(config.port, DEFAULT_PORT);
        assert_eq!(config.agent.model, "gpt-realtime-2.1");
        assert_eq!(config.agent.dialect, Dialect::Ga);
        assert_eq!(
            config.public_url.unwrap().stream_url(),
            "wss://abc123.ngrok.app/media-stream"
        );
        assert_eq!(
            config.context_secret_source,
            "derived from TWILIO_AUTH_TOKEN"
        );
        assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    }

    #[test]
    fn nothing_set_is_one_error_listing_every_variable() {
        let err = load(&Env::default(), &AgentOptions::default(), Needs::PlaceCalls).unwrap_err();
        let text = err.to_string();
        for name in [
            "TWILIO_ACCOUNT_SID",
            "TWILIO_AUTH_TOKEN",
            "TWILIO_FROM_NUMBER",
            "OPENAI_API_KEY",
            "PUBLIC_URL",
        ] {
            assert!(text.contains(name), "{name} missing from: {text}");
        }
        assert_eq!(err.problems().len(), 5);
    }

    #[test]
    fn malformed_values_are_named_with_their_fix() {
        let mut pairs = full();
        pairs.retain(|(k, _)| !matches!(*k, "PUBLIC_URL" | "TWILIO_FROM_NUMBER"));
        pairs.push(("PUBLIC_URL", "http://abc123.ngrok.app"));
        pairs.push(("TWILIO_FROM_NUMBER", "(415) 555-0100"));
        pairs.push(("PORT", "eighty"));
        let err = load(
            &Env::from_pairs(pairs),
            &AgentOptions::default(),
            Needs::PlaceCalls,
        )
        .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("uses http://"), "{text}");
        assert!(text.contains("+<country code>4155550100"), "{text}");
        assert!(text.contains("PORT \"eighty\""), "{text}");
        assert_eq!(err.problems().len(), 3);
    }

    #[test]
    fn an_api_key_sid_or_a_pasted_secret_is_not_an_account_sid() {
        for (sid, expected) in [
            (
                "SK0123456789abcdef0123456789abcdef",
                "TWILIO_ACCOUNT_SID: an API key SID (SK…) is not an Account SID",
            ),
            (
                "fedcba9876543210fedcba9876543210",
                "TWILIO_ACCOUNT_SID: an Account SID starts with AC",
            ),
        ] {
            let mut pairs = full();
            pairs.retain(|(k, _)| *k != "TWILIO_ACCOUNT_SID");
            pairs.push(("TWILIO_ACCOUNT_SID", sid));
            let err = load(
                &Env::from_pairs(pairs),
                &AgentOptions::default(),
                Needs::PlaceCalls,
            )
            .unwrap_err();
            let text = err.to_string();
            assert!(text.contains(expected), "{text}");
            // The value is not repeated: it may be a secret in the wrong variable.
            assert!(!text.contains(&sid[2..]), "{text}");
        }
    }

    #[test]
    fn public_url_forms() {
        for ok in [
            "abc.ngrok.app",
            "https://abc.ngrok.app",
            "https://abc.ngrok.app/",
            "wss://abc.ngrok.app",
            "ABC.ngrok.app:8443",
        ] {
            let url = PublicUrl::parse(ok).unwrap();
            assert!(url.stream_url().starts_with("wss://abc.ngrok.app"), "{ok}");
        }
        assert!(
            PublicUrl::parse("https://abc.ngrok.app/media-stream")
                .unwrap_err()
                .contains("path")
        );
        assert!(
            PublicUrl::parse("ws://abc.ngrok.app")
                .unwrap_err()
                .contains("ws://")
        );
        assert!(PublicUrl::parse("ftp://abc").is_err());
        assert!(PublicUrl::parse("").is_err());
        for local in ["localhost:5050", "127.0.0.1", "192.168.1.20:5050"] {
            assert!(
                PublicUrl::parse(local).unwrap().local_reason().is_some(),
                "{local}"
            );
        }
        assert!(
            PublicUrl::parse("abc.ngrok.app")
                .unwrap()
                .local_reason()
                .is_none()
        );
    }

    #[test]
    fn localhost_is_an_error_for_calls_and_a_warning_for_serve() {
        let mut pairs = full();
        pairs.retain(|(k, _)| *k != "PUBLIC_URL");
        pairs.push(("PUBLIC_URL", "localhost:5050"));
        let env = Env::from_pairs(pairs);
        assert!(load(&env, &AgentOptions::default(), Needs::PlaceCalls).is_err());
        let serve = load(&env, &AgentOptions::default(), Needs::Serve).unwrap();
        assert_eq!(serve.warnings.len(), 1);
    }

    #[test]
    fn serve_without_a_token_must_stay_on_loopback() {
        let env = Env::from_pairs([("OPENAI_REALTIME_URL", "ws://127.0.0.1:9/v1/realtime")]);
        let config = load(&env, &AgentOptions::default(), Needs::Serve).unwrap();
        assert!(config.twilio.is_none());
        assert!(config.agent.api_key.is_none());
        let options = AgentOptions {
            bind: Some("0.0.0.0".parse().unwrap()),
            ..AgentOptions::default()
        };
        let err = load(&env, &options, Needs::Serve).unwrap_err();
        assert!(err.to_string().contains("loopback"), "{err}");
    }

    #[test]
    fn the_drain_deadline_has_a_default_and_refuses_nonsense() {
        let load_with = |value: Option<&'static str>| {
            let mut pairs = full();
            pairs.extend(value.map(|v| ("DRAIN_TIMEOUT_SECS", v)));
            load(
                &Env::from_pairs(pairs),
                &AgentOptions::default(),
                Needs::Serve,
            )
        };
        let config = load_with(None).unwrap();
        assert_eq!(config.drain_timeout, std::time::Duration::from_secs(600));
        let config = load_with(Some("30")).unwrap();
        assert_eq!(config.drain_timeout, std::time::Duration::from_secs(30));
        let err = load_with(Some("ten minutes")).unwrap_err();
        assert!(
            err.to_string()
                .contains("DRAIN_TIMEOUT_SECS \"ten minutes\""),
            "{err}"
        );
    }

    #[test]
    fn connection_limits_have_defaults_and_refuse_nonsense() {
        let config = load(
            &Env::from_pairs(full()),
            &AgentOptions::default(),
            Needs::Serve,
        )
        .unwrap();
        assert_eq!(config.limits, Limits::default());
        let mut pairs = full();
        pairs.push(("HEADER_READ_TIMEOUT_MS", "250"));
        pairs.push(("MAX_UNAUTHENTICATED_CONNECTIONS", "8"));
        let config = load(
            &Env::from_pairs(pairs),
            &AgentOptions::default(),
            Needs::Serve,
        )
        .unwrap();
        assert_eq!(
            config.limits.header_read_timeout,
            std::time::Duration::from_millis(250)
        );
        assert_eq!(config.limits.max_unauthenticated, 8);
        let mut pairs = full();
        pairs.push(("HEADER_READ_TIMEOUT_MS", "0"));
        pairs.push(("MAX_UNAUTHENTICATED_CONNECTIONS", "many"));
        let err = load(
            &Env::from_pairs(pairs),
            &AgentOptions::default(),
            Needs::Serve,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("HEADER_READ_TIMEOUT_MS \"0\""), "{err}");
        assert!(
            err.contains("MAX_UNAUTHENTICATED_CONNECTIONS \"many\""),
            "{err}"
        );
    }

    #[test]
    fn options_win_over_the_environment() {
        let mut pairs = full();
        pairs.push(("OPENAI_MODEL", "gpt-realtime-2.1-mini"));
        pairs.push(("OPENAI_DIALECT", "ga"));
        let options = AgentOptions {
            model: Some("gpt-4o-realtime-preview-2024-10-01".into()),
            dialect: Some("beta".into()),
            ..AgentOptions::default()
        };
        let config = load(&Env::from_pairs(pairs), &options, Needs::Check).unwrap();
        assert_eq!(config.agent.model, "gpt-4o-realtime-preview-2024-10-01");
        assert_eq!(config.agent.dialect, Dialect::Beta);
        assert!(parse_dialect("v2").is_err());
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let config = load(
            &Env::from_pairs(full()),
            &AgentOptions::default(),
            Needs::PlaceCalls,
        )
        .unwrap();
        let shown = format!("{config:?}");
        assert!(!shown.contains("fedcba98"), "{shown}");
        assert!(!shown.contains("sk-test-key"), "{shown}");
        let env = format!("{:?}", Env::from_pairs(full()));
        assert!(!env.contains("sk-test-key"), "{env}");
    }

    #[test]
    fn dotenv_fills_gaps_and_the_environment_wins() {
        let dir = std::env::temp_dir().join(format!("voice-agent-env-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(".env");
        std::fs::write(&path, "PORT=6000\nOPENAI_API_KEY=sk-from-file\n").unwrap();
        let mut env = Env::from_pairs([("PORT", "7000")]);
        env.merge_dotenv(&path).unwrap();
        assert_eq!(env.get("PORT"), Some("7000"));
        assert_eq!(env.get("OPENAI_API_KEY"), Some("sk-from-file"));
        assert_eq!(env.dotenv(), Some(path.as_path()));
        std::fs::write(&path, "OPENAI_API_KEY=\"sk-secret-value\n").unwrap();
        let err = Env::default().merge_dotenv(&path).unwrap_err().to_string();
        assert!(err.contains("OPENAI_API_KEY"), "{err}");
        assert!(!err.contains("sk-secret"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
