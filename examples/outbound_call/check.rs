//! `check`: a preflight that dials nothing.
//!
//! - OpenAI: opens a Realtime session with the configured key, model and dialect, sends
//!   the bot's `session.update` and waits for the service to confirm it; a refusal is the
//!   client's own error, whose text names the cause and what to do. When the beta
//!   interface is refused, the model is tried once more over the GA interface, so a
//!   retired model is named in the same line. A `gpt-live` model opens a GPT-Live session
//!   instead, with the bot's session config in `session.start`, and waits for
//!   `session.started`.
//! - The model's shutdown date (`GET /v1/models/{model}`): a retired model fails the
//!   check, naming the replacement; a date ahead is a warning with the date, the days left
//!   and the replacement.
//! - Twilio: reads the account (credentials, status, type) and looks the `From` number up
//!   among the account's numbers and verified caller ids.
//! - `PUBLIC_URL`: shows where Twilio will stream to.
//!
//! Each check is one line; the command exits non-zero if any failed.

use std::time::Duration;

use openai_realtime::Dialect;
use openai_realtime::client::KnownIssue;
use openai_realtime::models::{Date, Retirement};
use twilio_media_stream::rest;

use crate::advice;
use crate::config::{Config, TwilioConfig};
use crate::retirement;

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// Whether it passed.
    pub ok: bool,
    /// Passed, with something to act on soon (shown `WARN`).
    pub warning: bool,
    /// What was found.
    pub text: String,
}

impl Line {
    fn ok(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            warning: false,
            text: text.into(),
        }
    }

    fn warning(text: impl Into<String>) -> Self {
        Self {
            ok: true,
            warning: true,
            text: one_line(&text.into()),
        }
    }

    fn failed(text: impl Into<String>) -> Self {
        Self {
            ok: false,
            warning: false,
            text: one_line(&text.into()),
        }
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let status = match (self.ok, self.warning) {
            (false, _) => "FAIL",
            (true, true) => "WARN",
            (true, false) => "ok  ",
        };
        write!(f, "{status} {}", self.text)
    }
}

/// Runs every check.
pub async fn run(config: &Config) -> Vec<Line> {
    let mut lines = vec![
        openai(config).await,
        model(config, retirement::today()).await,
    ];
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
    if agent.is_live() {
        let what = format!("OpenAI GPT-Live (model {})", agent.model);
        return match advice::try_live_session(agent).await {
            Ok(detail) => Line::ok(format!("{what}: {detail}")),
            Err(err) => Line::failed(format!("{what}: {err}")),
        };
    }
    let what = format!(
        "OpenAI Realtime (model {}, {} interface)",
        agent.model,
        dialect_name(agent.dialect)
    );
    match advice::try_session(agent, agent.dialect).await {
        Ok(detail) => Line::ok(format!("{what}: {detail}")),
        Err(err) if err.known_issue() == Some(KnownIssue::BetaRetired) => {
            // The service refuses the beta interface before it looks at the model: ask
            // about the model over GA, so the whole fix is in one line.
            let model = advice::model_over_ga(agent).await;
            Line::failed(format!(
                "{what}: refused ({}); {}: {}; {model}",
                advice::service_words(&err),
                advice::BETA_RETIRED,
                advice::USE_GA
            ))
        }
        Err(err) => Line::failed(format!("{what}: {err}")),
    }
}

/// Reads the model's shutdown date and judges it on `today`.
pub async fn model(config: &Config, today: Date) -> Line {
    let what = format!("OpenAI model {} (shutdown date)", config.agent.model);
    match retirement::look_up(&config.agent, today).await {
        Ok(verdict @ Retirement::Retired { .. }) => {
            Line::failed(format!("{what}: {}", retirement::words(&verdict)))
        }
        Ok(verdict @ Retirement::Ahead { .. }) => {
            Line::warning(format!("{what}: {}", retirement::words(&verdict)))
        }
        Ok(verdict) => Line::ok(format!("{what}: {}", retirement::words(&verdict))),
        // The service does not know the model: the same answer a session gets.
        Err(err) if err.known_issue() == Some(KnownIssue::ModelNotFound) => {
            Line::failed(format!("{what}: {err}"))
        }
        // A proxy or stand-in without the models endpoint: calls may still work.
        Err(err) => Line::warning(format!("{what}: could not be read: {err}")),
    }
}

fn dialect_name(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Beta => "beta",
        _ => "GA",
    }
}

/// Reads the account and looks the number up.
pub async fn twilio(twilio: &TwilioConfig) -> Vec<Line> {
    let mut client = rest::Client::builder(twilio.account_sid.as_str(), twilio.auth_token.clone())
        .timeout(Duration::from_secs(20));
    if let Some(base) = &twilio.api_base_url {
        client = client.base_url(base);
    }
    let client = match client.build() {
        Ok(client) => client,
        Err(err) => return vec![Line::failed(format!("Twilio: {err}"))],
    };
    let account = match client.account().await {
        Ok(account) => account,
        Err(err) => {
            return vec![Line::failed(format!(
                "Twilio account {}: {}",
                twilio.account_sid,
                explain(&err)
            ))];
        }
    };
    let name = account.friendly_name.as_deref().unwrap_or("");
    let kind = account.kind.as_ref().map_or("unknown", |k| k.as_str());
    let mut lines = vec![if account.is_active() {
        let trial = if account.is_trial() {
            "; a trial account can only call verified numbers and plays a trial notice first"
        } else {
            ""
        };
        Line::ok(format!(
            "Twilio account {} ({name:?}): credentials accepted, status active, type {kind}{trial}",
            twilio.account_sid
        ))
    } else {
        let status = account.status.as_ref().map_or("unknown", |s| s.as_str());
        Line::failed(format!(
            "Twilio account {} ({name:?}) is {status}: it cannot place calls until it is active again",
            twilio.account_sid
        ))
    }];
    if let Some(from) = &twilio.from_number {
        lines.push(number(&client, from).await);
    }
    lines
}

/// Whether the account may call from `from`: one of its voice-capable numbers, or a
/// verified caller id.
async fn number(client: &rest::Client, from: &str) -> Line {
    let failed = |err: rest::Error| {
        Line::failed(format!(
            "TWILIO_FROM_NUMBER {from}: look-up failed: {}",
            explain(&err)
        ))
    };
    match client.incoming_phone_numbers(from).await {
        Ok(owned) => {
            if let Some(found) = owned.iter().find(|n| n.phone_number == from) {
                return if found.capabilities.voice {
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
        Err(err) => return failed(err),
    }
    match client.outgoing_caller_ids(from).await {
        Ok(ids) if ids.iter().any(|id| id.phone_number == from) => Line::ok(format!(
            "TWILIO_FROM_NUMBER {from}: a verified caller id of this account"
        )),
        Ok(_) => Line::failed(format!(
            "TWILIO_FROM_NUMBER {from} is neither a number of this account nor a verified caller \
             id: Twilio would refuse the call (error 21210); buy a number or use one listed in \
             the Console under Phone Numbers"
        )),
        Err(err) => failed(err),
    }
}

/// A REST error in the check's words: Twilio's code and message, and what to fix.
fn explain(err: &rest::Error) -> String {
    let Some(api) = err.api_error() else {
        return err.to_string();
    };
    let advice = match (api.status(), api.code()) {
        (401, _) | (_, Some(20003)) => {
            ": check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (the Auth Token, not an API key secret)"
        }
        (404, _) | (_, Some(20404)) => ": no such account; check TWILIO_ACCOUNT_SID",
        _ => "",
    };
    let code = api.code().map(|c| format!(" {c}")).unwrap_or_default();
    format!(
        "Twilio error{code} (HTTP {}): {}{advice}",
        api.status(),
        api.message()
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
