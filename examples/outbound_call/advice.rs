//! What to do about the agent's known refusals, in this command line's words
//! (`--dialect ga`, `OPENAI_MODEL`): the Realtime client's own advice is written for
//! library users and names its Rust API (`Dialect::Ga`).
//!
//! The retired beta interface hides a second problem: the service refuses it before it
//! looks at the model, so [`model_over_ga`] asks about the model over the GA interface
//! (`check` does it for its line, `serve` once per process for its calls' lines).

use std::time::Duration;

use openai_realtime::Dialect;
use openai_realtime::client::{CURRENT_MODELS, Connection, Error, KnownIssue};

use crate::appointment::Appointment;
use crate::config::AgentConfig;
use crate::tools::session;

/// The code the service gives a session over the retired beta interface.
pub const BETA_RETIRED_CODE: &str = "beta_api_shape_disabled";

/// What happened to the beta interface.
pub const BETA_RETIRED: &str = "OpenAI retired the Realtime beta interface in May 2026";

/// What to do about it.
pub const USE_GA: &str = "use `--dialect ga` or OPENAI_DIALECT=ga (the default)";

/// A dialect as `--dialect` and OPENAI_DIALECT name it: `ga` or `beta`.
pub fn dialect_word(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Beta => "beta",
        _ => "ga",
    }
}

/// The service's own words for a refusal (its error or close frame), without the
/// client's advice.
pub fn service_words(err: &Error) -> String {
    if let Some(api) = err.api_error() {
        let code = api
            .code
            .as_deref()
            .map(|c| format!(".{c}"))
            .unwrap_or_default();
        return format!("{}{code}: {}", api.kind, api.message);
    }
    if let Some(close) = err.close_frame() {
        return close.to_string();
    }
    match err.status() {
        Some(status) => format!("HTTP {}", status.as_u16()),
        None => "the service gave no reason".to_owned(),
    }
}

/// Opens a session with `agent`'s settings over `dialect` and confirms the bot's
/// `session.update`: the session id and the formats the service confirmed.
///
/// # Errors
///
/// The client's error: the connection, the upgrade or the update was refused.
pub async fn try_session(agent: &AgentConfig, dialect: Dialect) -> Result<String, Error> {
    let mut agent = agent.clone();
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
    // The session was confirmed; a failed close is still worth a line.
    if let Err(err) = connection.close().await {
        tracing::warn!(%session_id, error = %err, "closing the test session failed");
    }
    Ok(format!(
        "ok, session {session_id} confirmed the bot's settings ({formats})"
    ))
}

/// Opens a GPT-Live session with `agent`'s settings and the bot's session config (the
/// service confirms it with `session.started`), then closes it: the session id, model and
/// format the service resolved.
///
/// # Errors
///
/// The client's error: the connection or the start was refused, or the close failed.
pub async fn try_live_session(agent: &AgentConfig) -> Result<String, Error> {
    use openai_realtime::live::client::Connection as LiveConnection;
    let client = agent
        .live_client_config()
        .with_connect_timeout(Duration::from_secs(10));
    let session =
        crate::tools::live_session(&Appointment::demo(), &agent.model, agent.voice.as_ref());
    let connection = LiveConnection::connect(client, session).await?;
    let session_id = connection.session_id().to_owned();
    let resolved = connection.session();
    // `{"type":"audio/pcmu","rate":8000}`, as the service wrote it.
    let format = resolved.format().map_or_else(
        || "format confirmed".to_owned(),
        |f| serde_json::to_string(f).unwrap_or_default(),
    );
    let model = resolved.model.as_str().to_owned();
    // The session was confirmed; a failed close is still worth a line.
    if let Err(err) = connection.close().await {
        tracing::warn!(%session_id, error = %err, "closing the test session failed");
    }
    Ok(format!(
        "ok, session {session_id} started with the bot's settings (model {model}, {format} both ways)"
    ))
}

/// What the service says of `agent`'s model over the GA interface, as a clause.
pub async fn model_over_ga(agent: &AgentConfig) -> String {
    let model = &agent.model;
    match try_session(agent, Dialect::Ga).await {
        Ok(_) => format!("over the GA interface the model `{model}` works"),
        Err(err) if err.known_issue() == Some(KnownIssue::ModelNotFound) => format!(
            "the model `{model}` is retired or unknown too ({}): {} ({})",
            service_words(&err),
            "set `--model` or OPENAI_MODEL to a current one",
            CURRENT_MODELS.join(", ")
        ),
        Err(err) => format!("and over the GA interface: {err}"),
    }
}
