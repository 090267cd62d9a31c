//! An inbound phone agent: an AI receptionist answers calls to your Twilio number and
//! takes a message.
//!
//! ```text
//! cargo run --example inbound_call           # offline: one whole call on loopback
//! cargo run --example inbound_call -- serve  # for real (see below)
//! ```
//!
//! For real calls, set the number's Voice URL (Twilio Console, Phone Numbers, your number,
//! "A call comes in": Webhook, HTTP POST) to `https://<PUBLIC_URL>/voice`, run a tunnel to
//! `PORT` (default 5050; the server binds 127.0.0.1), and set `TWILIO_ACCOUNT_SID`,
//! `TWILIO_AUTH_TOKEN`, `PUBLIC_URL` (the tunnel's host) and `OPENAI_API_KEY`
//! (`OPENAI_REALTIME_URL` overrides the endpoint). Every webhook and stream must carry a
//! valid `X-Twilio-Signature`: anything else gets 403 with the reason, in the log too.

mod bot;
mod offline;

use std::process::ExitCode;
use std::sync::Arc;

use bot::Bot;
use tokio::sync::mpsc;
use tracing_subscriber::EnvFilter;
use voice_bridge::openai_realtime::client::{ApiKey, Config};
use voice_bridge::twilio_media_stream::rest;
use voice_bridge::twilio_media_stream::server::{PublicBase, Verifier};
use voice_bridge::twilio_media_stream::signature::AuthToken;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let result = match std::env::args().nth(1).as_deref() {
        None => offline().await,
        Some("serve") => serve().await,
        Some(other) => Err(format!(
            "unknown command {other:?}: run with no argument, or `serve`"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn offline() -> Result<(), String> {
    eprintln!("inbound_call: offline, one call on loopback (no credentials, no network)");
    let run = offline::run().await?;
    eprintln!("caller:   \"{}\"", offline::CALLER_SAYS);
    for tool in &run.report.tool_calls {
        eprintln!("tool:     {}({})", tool.name, tool.arguments);
    }
    eprintln!("outcome:  {}", run.report.outcome);
    eprintln!("heard:    {} ms of the agent", run.record.heard_ms());
    if run.report.tool_calls.is_empty() {
        return Err("the call ended without taking a message".to_owned());
    }
    if !run.session_closed {
        return Err("the AI session outlived the call".to_owned());
    }
    eprintln!("agent:    the AI session ended with the call");
    Ok(())
}

/// Reads the settings (naming every one that is missing at once) and serves calls.
async fn serve() -> Result<(), String> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let missing: Vec<_> = [
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "PUBLIC_URL",
        "OPENAI_API_KEY",
    ]
    .into_iter()
    .filter(|name| var(name).is_none())
    .collect();
    if !missing.is_empty() {
        return Err(format!("set {} (in the environment)", missing.join(", ")));
    }
    let token = AuthToken::new(var("TWILIO_AUTH_TOKEN").unwrap_or_default());
    let public = PublicBase::parse(&var("PUBLIC_URL").unwrap_or_default())
        .map_err(|err| format!("PUBLIC_URL: {err}"))?;
    let rest = rest::Client::builder(var("TWILIO_ACCOUNT_SID").unwrap_or_default(), token.clone())
        .build()
        .map_err(|err| format!("the Twilio REST client: {err}"))?;
    let mut agent = Config::openai(ApiKey::new(var("OPENAI_API_KEY").unwrap_or_default()));
    if let Some(url) = var("OPENAI_REALTIME_URL") {
        agent = agent.with_endpoint(url);
    }
    let port = var("PORT").unwrap_or_else(|| "5050".to_owned());
    let (reports, mut reports_rx) = mpsc::unbounded_channel();
    let bot = Arc::new(Bot {
        verifier: Verifier::new(token, public.clone()),
        agent,
        rest: Some(rest),
        reports,
    });
    // The reports, as they come (a real bot would store them).
    tokio::spawn(async move {
        while let Some(report) = reports_rx.recv().await {
            tracing::info!(outcome = %report.outcome, tools = report.tool_calls.len(), "report");
        }
    });
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
        .await
        .map_err(|err| format!("cannot listen on 127.0.0.1:{port}: {err}"))?;
    eprintln!(
        "inbound_call: serving; set the number's Voice URL to {}",
        public.https_url("/voice")
    );
    axum::serve(listener, bot::router(bot))
        .await
        .map_err(|err| format!("the server failed: {err}"))
}
