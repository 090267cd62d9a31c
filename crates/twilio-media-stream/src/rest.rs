//! Twilio's Voice REST API, for what an outbound bot needs: create a call, look one up or
//! list them, hang it up, redirect it to new TwiML, and check beforehand that the account
//! is active and may call from a number (feature `rest`).
//!
//! [`Client`] talks to `https://api.twilio.com` (configurable, e.g. to a loopback server in
//! tests) with HTTP Basic auth (account SID and auth token) over reqwest and rustls with the
//! `ring` provider. Twilio's error answers become [`ApiError`]s carrying Twilio's code,
//! message and link, and every failure is logged as one line with the account and call ids.
//!
//! # Examples
//!
//! ```no_run
//! use twilio_media_stream::rest::{CallInstructions, Client, CreateCall, MachineDetection, StatusCallbackEvent};
//! use twilio_media_stream::twiml::{Connect, Stream, VoiceResponse};
//! use twilio_media_stream::AuthToken;
//!
//! # async fn run() -> Result<(), twilio_media_stream::rest::Error> {
//! let client = Client::new("AC0123456789abcdef0123456789abcdef", AuthToken::new("token"))?;
//! let twiml = VoiceResponse::new().connect(
//!     Connect::new().stream(Stream::new("wss://bot.example.com/media-stream")),
//! );
//! let call = client
//!     .create_call(
//!         &CreateCall::new("+14155550100", "+15005550006", twiml)
//!             .status_callback("https://bot.example.com/twilio/status")
//!             .status_callback_events([StatusCallbackEvent::Answered, StatusCallbackEvent::Completed])
//!             .machine_detection(MachineDetection::DetectMessageEnd)
//!             .async_amd_status_callback("https://bot.example.com/twilio/amd"),
//!     )
//!     .await?;
//!
//! // Later: end the call politely, or just hang up.
//! client
//!     .redirect(&call.sid, CallInstructions::twiml("<Response><Say>Goodbye.</Say><Hangup/></Response>"))
//!     .await?;
//! client.hang_up(&call.sid).await?;
//! # Ok(())
//! # }
//! ```

mod account;
mod call;
mod call_list;
mod client;
mod error;

pub use account::{
    Account, AccountStatus, AccountType, IncomingPhoneNumber, NumberCapabilities, OutgoingCallerId,
};
pub use call::{
    Call, CallInstructions, CreateCall, MAX_TWIML_CHARS, MachineDetection, StatusCallbackEvent,
    UpdateCall, UpdateStatus,
};
pub use call_list::{ListCalls, MAX_PAGE_SIZE};
pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use error::{ApiError, Error, TransportError};
