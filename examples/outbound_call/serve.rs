//! `serve`: the bot's server alone, for calls placed elsewhere and for load tests; and
//! the bot and listener every serving command is built from.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

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

/// Runs `serve` until SIGTERM or Ctrl-C, then drains ([`crate::drain`]): new calls are
/// refused at once, the calls in progress go on up to [`Config::drain_timeout`], then
/// each remaining one gets the fallback and ends; a second signal ends them at once.
/// Returns once every call's report and outcome are written.
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
    let mut signals = Signals::new();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut server = tokio::spawn(crate::server::serve(listener, Arc::clone(&bot), async {
        let _ = stopped.await;
    }));
    tokio::select! {
        () = signals.next() => {}
        ended = &mut server => {
            // The accept loop does not end on its own unless it failed for good.
            return match ended {
                Ok(Ok(())) => Ok(()),
                Ok(Err(err)) => Err(format!("server failed: {err}")),
                Err(err) => Err(format!("server task ended abnormally: {err}")),
            };
        }
    }
    drain(&bot, &mut signals, config.drain_timeout).await;
    let _ = stop.send(());
    crate::server::join(server).await;
    Ok(())
}

/// The drain after the first signal: see [`run`].
async fn drain(bot: &Bot, signals: &mut Signals, deadline: Duration) {
    let drain = &bot.drain;
    drain.begin();
    let calls = drain.calls();
    tracing::info!(
        calls_in_progress = calls,
        drain_timeout_secs = deadline.as_secs(),
        "draining: /readyz answers 503 and new calls are refused; the calls in progress go on (a second signal ends them at once)"
    );
    tokio::select! {
        () = drain.idle() => {
            tracing::info!("drained: no call in progress; stopping");
            return;
        }
        () = tokio::time::sleep(deadline) => {
            tracing::warn!(
                calls_in_progress = drain.calls(),
                drain_timeout_secs = deadline.as_secs(),
                "the drain deadline passed: the calls still in progress get the fallback message and end"
            );
        }
        () = signals.next() => {
            tracing::warn!(
                calls_in_progress = drain.calls(),
                "second signal: the calls in progress get the fallback message and end now"
            );
        }
    }
    drain.end_calls();
    // Each call plays its fallback (bounded by the bridge's playout grace) and writes its
    // report; a third signal stops without waiting for them.
    tokio::select! {
        () = drain.idle() => tracing::info!("every call ended and was reported; stopping"),
        () = signals.next() => tracing::warn!(
            calls_in_progress = drain.calls(),
            "another signal: stopping before every call's report is written"
        ),
    }
}

/// SIGTERM and Ctrl-C (SIGINT), each delivery once.
struct Signals {
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let terminate = match signal(SignalKind::terminate()) {
                Ok(signal) => Some(signal),
                Err(err) => {
                    tracing::error!(error = %err, "cannot listen for SIGTERM: only Ctrl-C drains");
                    None
                }
            };
            Self { terminate }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// The next SIGTERM or Ctrl-C.
    async fn next(&mut self) {
        #[cfg(unix)]
        let terminate = async {
            match self.terminate.as_mut() {
                Some(signal) => {
                    signal.recv().await;
                }
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = terminate => tracing::info!("SIGTERM"),
            result = tokio::signal::ctrl_c() => match result {
                Ok(()) => tracing::info!("Ctrl-C"),
                Err(err) => {
                    tracing::error!(error = %err, "cannot listen for Ctrl-C: stopping");
                }
            },
        }
    }
}
