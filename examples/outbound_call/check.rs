//! `check`: a preflight that dials nothing.
//!
//! - OpenAI: opens a Realtime session with the configured key, model and dialect, sends
//!   the bot's `session.update` and waits for the service to confirm it; a refusal is the
//!   client's own error, whose text names the cause and what to do. When the beta
//!   interface is refused, the model is tried once more over the GA interface, so a
//!   retired model is named in the same line.
//! - Twilio: reads the account (credentials, status, type) and looks the `From` number up
//!   among the account's numbers and verified caller ids.
//! - `PUBLIC_URL`: shows where Twilio will stream to.
//!
//! Each check is one line; the command exits non-zero if any failed.

use std::sync::Arc;
use std::time::Duration;

use openai_realtime::Dialect;
use openai_realtime::client::{Connection, KnownIssue};
use rustls_platform_verifier::BuilderVerifierExt as _;
use serde_json::Value;

use crate::appointment::Appointment;
use crate::config::{Config, TwilioConfig};
use crate::tools::session;

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Whether it passed.
    pub ok: bool,
    /// What was found.
    pub text: String,
}

impl Line {
    fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            text: text.into(),
        }
    }

    fn failed(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            text: one_line(&text.into()),
        }
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", if self.ok { "ok  " } else { "FAIL" }, self.text)
    }
}

/// Runs every check.
pub async fn run(config: &Config) -> Vec<Line> {
    let mut lines = vec![openai(config).await];
    if let Some(twilio) = &config.twilio {
        lines.extend(self::twilio(twilio).await);
    }
    match &config.public_url {
        Some(public) => lines.push(Line::ok(format!(
            "PUBLIC_URL: Twilio will stream to {} and post callbacks to {}",
            public.stream_url(),
            public.https_url("/twilio/…")
        ))),
        None => lines.push(Line::ok(
            "PUBLIC_URL is not set: needed by `call` and `batch` (a tunnel's https host)",
        )),
    }
    lines
}

/// Opens a session and confirms the bot's configuration.
pub async fn openai(config: &Config) -> Line {
    let agent = &config.agent;
    let what = format!(
        "OpenAI Realtime (model {}, {} interface)",
        agent.model,
        dialect_name(agent.dialect)
    );
    match try_session(config, agent.dialect).await {
        Ok(detail) => Line::ok(format!("{what}: {detail}")),
        Err(err) if err.known_issue() == Some(KnownIssue::BetaRetired) => {
            // The service refuses the beta interface before it looks at the model: ask
            // about the model over GA, so the whole fix is in one line.
            let model = match try_session(config, Dialect::Ga).await {
                Ok(_) => format!("over the GA interface the model `{}` works", agent.model),
                Err(ga) => format!("and over the GA interface: {ga}"),
            };
            Line::failed(format!("{what}: {err}; {model}"))
        }
        Err(err) => Line::failed(format!("{what}: {err}")),
    }
}

async fn try_session(
    config: &Config,
    dialect: Dialect,
) -> Result<String, openai_realtime::client::Error> {
    let mut agent = config.agent.clone();
    agent.dialect = dialect;
    let client = agent
        .client_config()
        .with_connect_timeout(Duration::from_secs(10));
    let mut connection = Connection::connect(client).await?;
    let session_id = connection.session_id();
    let updated = connection
        .update_session(session(&Appointment::demo(), agent.voice.as_ref()))
        .await?;
    let formats = match (updated.input_format(), updated.output_format()) {
        (Some(input), Some(output)) => format!(
            "{} in, {} out",
            input.type_str().unwrap_or("?"),
            output.type_str().unwrap_or("?")
        ),
        _ => "formats confirmed".to_owned(),
    };
    let _ = connection.close().await;
    Ok(format!(
        "ok, session {session_id} confirmed the bot's settings ({formats})"
    ))
}

fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Beta => "beta",
        _ => "GA",
    }
}

/// Reads the account and looks the number up.
pub async fn twilio(twilio: &TwilioConfig) -> Vec<Line> {
    let http = match http_client() {
        Ok(http) => http,
        Err(err) => return vec![Line::failed(format!("Twilio: cannot set up HTTPS: {err}"))],
    };
    let base = twilio
        .api_base_url
        .clone()
        .unwrap_or_else(|| twilio_media_stream::rest::DEFAULT_BASE_URL.to_owned());
    let base = base.trim_end_matches('/');
    let account_url = format!("{base}/2010-04-01/Accounts/{}.json", twilio.account_sid);
    let account = match get(&http, twilio, &account_url, &[]).await {
        Ok(account) => account,
        Err(err) => {
            return vec![Line::failed(format!(
                "Twilio account {}: {err}",
                twilio.account_sid
            ))];
        }
    };
    let status = account["status"].as_str().unwrap_or("unknown");
    let kind = account["type"].as_str().unwrap_or("unknown");
    let name = account["friendly_name"].as_str().unwrap_or("");
    let mut lines = vec![if status == "active" {
        let trial = if kind == "Trial" {
            "; a trial account can only call verified numbers and plays a trial notice first"
        } else {
            ""
        };
        Line::ok(format!(
            "Twilio account {} ({name:?}): credentials accepted, status active, type {kind}{trial}",
            twilio.account_sid
        ))
    } else {
        Line::failed(format!(
            "Twilio account {} ({name:?}) is {status}: it cannot place calls until it is active again",
            twilio.account_sid
        ))
    }];
    if let Some(from) = &twilio.from_number {
        lines.push(number(&http, twilio, base, from).await);
    }
    lines
}

async fn number(http: &reqwest::Client, twilio: &TwilioConfig, base: &str, from: &str) -> Line {
    let accounts = format!("{base}/2010-04-01/Accounts/{}", twilio.account_sid);
    let owned = get(
        http,
        twilio,
        &format!("{accounts}/IncomingPhoneNumbers.json"),
        &[("PhoneNumber", from)],
    )
    .await;
    match owned {
        Ok(page) => {
            if let Some(found) = page["incoming_phone_numbers"]
                .as_array()
                .and_then(|n| n.first())
            {
                let voice = found["capabilities"]["voice"].as_bool().unwrap_or(false);
                return if voice {
                    Line::ok(format!(
                        "TWILIO_FROM_NUMBER {from}: a voice-capable number of this account"
                    ))
                } else {
                    Line::failed(format!(
                        "TWILIO_FROM_NUMBER {from} belongs to this account but cannot make voice \
                         calls: use a voice-capable number"
                    ))
                };
            }
        }
        Err(err) => {
            return Line::failed(format!("TWILIO_FROM_NUMBER {from}: look-up failed: {err}"));
        }
    }
    match get(
        http,
        twilio,
        &format!("{accounts}/OutgoingCallerIds.json"),
        &[("PhoneNumber", from)],
    )
    .await
    {
        Ok(page)
            if page["outgoing_caller_ids"]
                .as_array()
                .is_some_and(|ids| !ids.is_empty()) =>
        {
            Line::ok(format!(
                "TWILIO_FROM_NUMBER {from}: a verified caller id of this account"
            ))
        }
        Ok(_) => Line::failed(format!(
            "TWILIO_FROM_NUMBER {from} is neither a number of this account nor a verified caller \
             id: Twilio would refuse the call (error 21210); buy a number or use one listed in \
             the Console under Phone Numbers"
        )),
        Err(err) => Line::failed(format!("TWILIO_FROM_NUMBER {from}: look-up failed: {err}")),
    }
}

/// A GET with basic auth; Twilio's error JSON becomes its code and message.
async fn get(
    http: &reqwest::Client,
    twilio: &TwilioConfig,
    url: &str,
    query: &[(&str, &str)],
) -> Result<Value, String> {
    let mut full = url::Url::parse(url).map_err(|err| format!("bad URL {url}: {err}"))?;
    if !query.is_empty() {
        full.query_pairs_mut().extend_pairs(query);
    }
    let response = http
        .get(full)
        .basic_auth(&twilio.account_sid, Some(twilio.auth_token.expose_secret()))
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|err| format!("no answer from {url}: {err}"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if status.is_success() {
        return Ok(body);
    }
    let code = body["code"].as_u64();
    let message = body["message"].as_str().unwrap_or("(no message)");
    let advice = match (status.as_u16(), code) {
        (401, _) | (_, Some(20003)) => {
            ": check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the Auth Token, not an API key secret)"
        }
        (404, _) | (_, Some(20404)) => ": no such account; check TWILIO_ACCOUNT_SID",
        _ => "",
    };
    Err(match code {
        Some(code) => format!("Twilio error {code} (HTTP {status}): {message}{advice}"),
        None => format!("HTTP {status}: {message}{advice}"),
    })
}

/// reqwest over rustls with the ring provider and the platform's verifier, as the
/// crate's REST client does.
pub fn http_client() -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|err| err.to_string())?
        .with_no_client_auth();
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .timeout(Duration::from_secs(20))
        .build()
        .map_err(|err| err.to_string())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
