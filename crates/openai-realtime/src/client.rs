//! An async client for the Realtime API over WebSocket (feature `client`, on by default).
//!
//! Connects to OpenAI, Azure OpenAI, or any URL (the [mock server](crate::mock), a proxy),
//! waits for `session.created`, and hands back a [`Connection`] that splits into a [`Sender`]
//! and a [`Receiver`], so a bridge can read and write at once. No task is spawned.
//!
//! Nothing fails silently. Every failure is one [`Error`] that says what happened and what to
//! do:
//!
//! - a refused upgrade carries the HTTP status and the body's error code and message;
//! - a session refused after the upgrade (an `error` event, then a close) carries the error's
//!   type, code and message together with the close code and reason;
//! - known causes get advice: the retired beta interface (4000), a retired or unknown model
//!   (4004, with the current models named), a bad key (3000), no access (403), rate limits and
//!   quota (429), Azure's 400/401/404;
//! - a GPT-Live model (`gpt-live-1`) or the Live path (`/v1/live/sessions`) fails before
//!   anything is sent ([`KnownIssue::LiveOnRealtime`]): GPT-Live is another protocol, with its
//!   own client in [`live::client`](crate::live::client) (the same TLS, secret headers and
//!   [`Error`]);
//! - [`Connection::update_session`] waits for `session.updated` and checks the audio formats;
//! - an `error` event mid-session is an `Err` with its type, code, message, param and the id
//!   of the client event that caused it; a failure close carries its code and reason;
//! - the session's `expires_at` is visible ([`Connection::time_left`]) before it passes.
//!
//! [`retrieve_model`] asks `GET /v1/models/{model}` with the same configuration, for the
//! model's `shutdown_date` (see [`models`](crate::models)): a bot can warn weeks before its
//! model is retired.
//!
//! The handshake (URL without any key, model, dialect) is logged at debug; every failure at
//! warn or error with its cause. `wss://` uses rustls with the ring provider.
//!
//! The key appears in no log line at any level, `RUST_LOG=trace` included: tungstenite logs
//! each handshake request it writes (at trace, through the `log` crate), so the client opens
//! TCP and TLS itself and writes the credential headers into the request below tungstenite,
//! which never holds them.
//!
//! # Example
//!
//! ```no_run
//! use openai_realtime::client::{ApiKey, Config, Connection};
//! use openai_realtime::{ClientEvent, RealtimeSession, ServerEvent};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let key = ApiKey::from_env("OPENAI_API_KEY").ok_or("set OPENAI_API_KEY")?;
//! let mut conn = Connection::connect(Config::openai(key)).await?;
//! conn.update_session(RealtimeSession::phone_call()).await?; // G.711 mu-law, confirmed
//! let (tx, mut rx) = conn.split();
//! tx.send(&ClientEvent::response_create()).await?;
//! while let Some(event) = rx.recv().await {
//!     match event {
//!         Ok(ServerEvent::ResponseDone(_)) => break,
//!         Ok(other) => println!("{}", other.event_type()),
//!         Err(err) if err.is_fatal() => return Err(err.into()),
//!         Err(err) => eprintln!("{err}"), // an `error` event; the session goes on
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod config;
pub(crate) mod connect;
mod error;
mod models;
mod secret_headers;
mod session;

pub use config::{
    ApiKey, CURRENT_MODELS, Config, DEFAULT_KEEPALIVE_INTERVAL, DEFAULT_KEEPALIVE_TIMEOUT,
    DEFAULT_MODEL, DEFAULT_READ_BUFFER_SIZE, Provider, is_retired_model,
};
pub use error::{CloseFrame, Error, ErrorKind, KnownIssue, Report};
pub use models::retrieve_model;
pub use session::{Connection, Receiver, Sender};

/// Connects with this configuration; the same as [`Connection::connect`].
///
/// # Errors
///
/// See [`Connection::connect`].
pub async fn connect(config: Config) -> Result<Connection, Error> {
    Connection::connect(config).await
}
