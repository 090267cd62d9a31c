//! The agent model's announced shutdown, read from `GET /v1/models/{model}` (the
//! `shutdown_date` OpenAI sets months ahead), in the command line's words: `check`'s line,
//! and `serve`'s one warning at start. A bot told weeks before does not go silent on the
//! day its model is retired.

use std::time::Duration;

use openai_realtime::client::{Error, retrieve_model};
use openai_realtime::models::{Date, Retirement};

use crate::config::AgentConfig;

/// How long the look-up may take (it never delays a call: `serve` runs it beside the
/// server).
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// The verdict on `agent`'s model on `today`, from the service's `shutdown_date`.
///
/// # Errors
///
/// The look-up failed: the client's error (a 404 `model_not_found`, a bad key, no route).
pub async fn look_up(agent: &AgentConfig, today: Date) -> Result<Retirement, Error> {
    let config = agent.client_config().with_connect_timeout(LOOKUP_TIMEOUT);
    let model = retrieve_model(&config, &agent.model).await?;
    Ok(model.retirement(today))
}

/// The verdict as a clause in the command line's words (`--model`, OPENAI_MODEL).
pub fn words(verdict: &Retirement) -> String {
    const SET: &str = "set `--model` or OPENAI_MODEL to";
    match verdict {
        Retirement::Ahead {
            model,
            date,
            days_left,
            replacement,
            ..
        } => {
            let days = if *days_left == 1 { "day" } else { "days" };
            format!(
                "`{model}` shuts down on {date}, in {days_left} {days}: {SET} `{replacement}` \
                 before then"
            )
        }
        Retirement::Retired {
            model,
            date,
            replacement,
            ..
        } => format!(
            "`{model}` was shut down on {date}: {SET} `{replacement}`; sessions with it fail"
        ),
        other => other.to_string(),
    }
}

/// Today, as the UTC day of the system clock.
pub fn today() -> Date {
    Date::from_system_time(std::time::SystemTime::now())
}

/// Logs the verdict once (for `serve`, at start): a warning for a shutdown ahead, an error
/// for a retired model, a warning when the date could not be read.
pub async fn log_at_start(agent: &AgentConfig, today: Date) {
    let model = &agent.model;
    match look_up(agent, today).await {
        Ok(verdict @ Retirement::Ahead { .. }) => tracing::warn!(
            %model,
            shutdown_date = %verdict.date().map(|d| d.to_string()).unwrap_or_default(),
            replacement = verdict.replacement().unwrap_or_default(),
            "configuration: the agent model {}",
            words(&verdict)
        ),
        Ok(verdict @ Retirement::Retired { .. }) => tracing::error!(
            %model,
            shutdown_date = %verdict.date().map(|d| d.to_string()).unwrap_or_default(),
            replacement = verdict.replacement().unwrap_or_default(),
            "configuration: the agent model {}",
            words(&verdict)
        ),
        Ok(verdict) => tracing::info!(%model, "{}", words(&verdict)),
        Err(err) => tracing::warn!(
            %model,
            error = %err.report(),
            "could not read the agent model's shutdown date (GET /v1/models/{model})"
        ),
    }
}
