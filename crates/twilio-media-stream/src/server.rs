//! Serving Twilio: accept a media stream's WebSocket upgrade and check webhooks, both
//! against `X-Twilio-Signature` for the public URL Twilio called (feature `server`).
//!
//! - [`PublicBase`]: where Twilio reaches your server (`https://abc123.ngrok.app`, maybe
//!   with a path prefix a proxy strips). Behind a tunnel or a TLS-terminating proxy your
//!   server sees `http://127.0.0.1:5050/...`, but Twilio signs the public URL: every check
//!   here rebuilds that URL from the configured base and the request's path and query.
//! - [`Verifier`]: checks the upgrade of a media stream (signed over its public `wss://`
//!   URL, no body) and form-encoded webhooks (signed over the public `https://` URL and
//!   the form's fields). A refusal is a [`Refusal`]: 403 and the reason, which names the
//!   URL checked and never a secret.
//! - [`accept`]: upgrades an `http::Request` (hyper 1, axum) to a WebSocket after the
//!   check. The answer is `101 Switching Protocols`; once it is sent,
//!   [`PendingStream::socket`] gives the server-side [`MediaSocket`], ready for a Twilio
//!   leg (`voice_bridge::TwilioLeg::new`) or your own loop over
//!   [`StreamEvent`](crate::StreamEvent)s.
//!
//! The request must come from hyper (directly or through axum), which puts the
//! connection's upgrade handle into the request's extensions; serve HTTP/1.1 with
//! upgrades enabled (`http1::Builder::serve_connection(..).with_upgrades()`; axum does
//! this).
//!
//! # Example: an axum route
//!
//! ```no_run
//! use std::sync::Arc;
//! use axum::{Router, body::Body, extract::{Request, State}, response::Response, routing::get};
//! use twilio_media_stream::AuthToken;
//! use twilio_media_stream::server::{self, PublicBase, Verifier};
//!
//! async fn media_stream(State(verifier): State<Arc<Verifier>>, mut request: Request) -> Response {
//!     match server::accept::<_, Body>(&mut request, &verifier) {
//!         Err(refusal) => {
//!             tracing::warn!(%refusal, "media stream refused");
//!             refusal.into_response()
//!         }
//!         Ok((response, pending)) => {
//!             tokio::spawn(async move {
//!                 let socket = match pending.socket().await {
//!                     Ok(socket) => socket,
//!                     Err(error) => return tracing::warn!(%error, "media stream upgrade failed"),
//!                 };
//!                 // Run the call over `socket`, a `MediaSocket` of frames.
//!                 # drop(socket);
//!             });
//!             response
//!         }
//!     }
//! }
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let public = PublicBase::parse("abc123.ngrok.app")?;
//! let verifier = Arc::new(Verifier::new(AuthToken::new("your auth token"), public));
//! let app = Router::new().route("/media-stream", get(media_stream)).with_state(verifier);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:5050").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```

mod public;
mod upgrade;
mod verify;

pub use public::{PublicBase, PublicBaseError};
pub use upgrade::{MediaSocket, PendingStream, SocketError, UpgradeError, accept, accept_unsigned};
pub use verify::{Refusal, Verifier};
