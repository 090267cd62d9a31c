//! `serve`: the bot's server alone, for calls placed elsewhere and for load tests; and
//! the bot and listener every serving command is built from.

use std::net::SocketAddr;
use std::sync::Arc;

use openai_realtime::Dialect;
use tokio::net::TcpListener;
use twilio_media_stream::rest;
use twilio_media_stream::server::Verifier;

use crate::advice;
use crate::config::Config;
use crate::output::Output;
use crate::server::{Auth, Bot};

/// The bot for a configuration: signatures checked when there is an auth token (and a
/// public URL to rebuild the signed URLs from), a REST client when there are credentials.
///
/// # Errors
///
/// The REST client cannot be built (a bad `TWILIO_API_URL`, no TLS roots).
pub fn bot(config: &Config, record: bool) -> Result<Bot, String> {
    let auth = match (&config.twilio, &config.public_url, &config.context_secret) {
        (Some(twilio), Some(public), Some(secret)) => Auth::Signed {
            verifier: Verifier::new(twilio.auth_token.clone(), public.base().clone()),
            public: public.clone(),
            secret: secret.clone(),
        },
        _ if config.bind.is_loopback() => Auth::UnsignedLoopback,
        _ => {
            return Err(format!(
                "streams cannot be checked without TWILIO_AUTH_TOKEN and PUBLIC_URL, so the \
                 server binds only to loopback, not {}",
                config.bind
            ));
        }
    };
    let rest = match &config.twilio {
        Some(twilio) if !twilio.account_sid.is_empty() => {
            let mut builder =
                rest::Client::builder(twilio.account_sid.as_str(), twilio.auth_token.clone());
            if let Some(base) = &twilio.api_base_url {
                builder = builder.base_url(base.clone());
            }
            Some(builder.build().map_err(|err| err.to_string())?)
        }
        _ => None,
    };
    let mut bot = Bot::new(auth, config.agent.clone(), Output::new(&config.out_dir));
    bot.rest = rest;
    bot.record = record;
    bot.limits = config.limits;
    Ok(bot)
}

/// Binds the configured address and port.
///
/// # Errors
///
/// The port is taken or the address is not this machine's, with what to do.
pub async fn listen(config: &Config) -> Result<TcpListener, String> {
    let addr = SocketAddr::new(config.bind, config.port);
    TcpListener::bind(addr).await.map_err(|err| {
        format!(
            "cannot listen on {addr}: {err} (is another instance running? set PORT or --port; \
             the tunnel must point at the same port)"
        )
    })
}

/// Logs what the server does, once, at start (no secret).
pub fn announce(config: &Config, bot: &Bot, addr: SocketAddr) {
    let agent = match config.agent.endpoint_override() {
        (name, Some(url)) => format!("{url} ({name})"),
        (_, None) => config.agent.api_name().to_owned(),
    };
    match &bot.auth {
        Auth::Signed { public, .. } => tracing::info!(
            %addr,
            stream_url = %public.stream_url(),
            agent,
            model = %config.agent.model,
            dialect = %advice::dialect_word(config.agent.dialect),
            context_secret = config.context_secret_source,
            "serving; X-Twilio-Signature and call contexts are checked"
        ),
        Auth::UnsignedLoopback => tracing::warn!(
            %addr,
            agent,
            model = %config.agent.model,
            "serving WITHOUT signature checks (no TWILIO_AUTH_TOKEN): loopback only, every \
             stream gets the demo appointment, webhooks are refused"
        ),
    }
    if config.agent.dialect == Dialect::Beta && !config.agent.is_live() {
        tracing::warn!(
            model = %config.agent.model,
            "configuration: --dialect beta (OPENAI_DIALECT): {} and refuses it, so every call \
             would get the fallback: {}, unless OPENAI_REALTIME_URL serves the beta interface",
            advice::BETA_RETIRED,
            advice::USE_GA
        );
    }
    for warning in &config.warnings {
        tracing::warn!("configuration: {warning}");
    }
}

/// Runs `serve` until Ctrl-C.
///
/// # Errors
///
/// The server could not start.
pub async fn run(config: &Config, record: bool) -> Result<(), String> {
    let bot = Arc::new(bot(config, record)?);
    let listener = listen(config).await?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    announce(config, &bot, addr);
    // The model's shutdown date, logged once; beside the server, so no call waits on it.
    let agent = config.agent.clone();
    tokio::spawn(async move {
        crate::retirement::log_at_start(&agent, crate::retirement::today()).await
    });
    crate::server::serve(listener, bot, async {
        match tokio::signal::ctrl_c().await {
            Ok(()) => tracing::info!("Ctrl-C: stopping"),
            Err(err) => tracing::error!(error = %err, "cannot listen for Ctrl-C: stopping"),
        }
    })
    .await
    .map_err(|err| format!("server failed: {err}"))
}
