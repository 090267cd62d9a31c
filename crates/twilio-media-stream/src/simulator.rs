//! A Twilio-like peer that places a simulated call against any media-stream URL (feature
//! `simulator`).
//!
//! The simulator plays Twilio's side of a bidirectional `<Connect><Stream>`, following the
//! protocol reference rather than this crate's server-side code:
//!
//! 1. It opens the WebSocket (with a valid `X-Twilio-Signature` header when given an auth
//!    token) and sends `connected`, then `start` with the script's ids and custom parameters.
//! 2. Every 20 ms it sends one `media` frame (160 bytes of mu-law) of the caller's audio
//!    ([`CallerAudio`]), and the script's `dtmf` digits when their time comes.
//! 3. It queues the server's `media` in a playout buffer and plays it at real-time rate,
//!    echoes each `mark` when playback reaches it (at once if nothing is queued), and on
//!    `clear` drops the queued audio and echoes every pending mark at once.
//! 4. It hangs up (`stop`, then a close frame) at the script's time, or ends when the server
//!    closes the socket (without `stop`, as Twilio does).
//!
//! What Twilio would drop silently (bad JSON, unknown events, extra fields, a wrong
//! `streamSid`, binary frames) is recorded as a [`CallIssue`] and logged with `tracing`; the
//! call goes on. A refused upgrade is a [`SimulatorError::Rejected`] with the HTTP status
//! and body.
//!
//! Frames are paced by tokio's clock and never run faster than real time: after a stall,
//! the next frame comes one period later rather than in a burst.
//!
//! An incoming call starts one step earlier: [`IncomingCall`] posts the signed voice
//! webhook to your server, reads the TwiML it answers, and turns its `<Connect><Stream>`
//! into the [`CallScript`] of the stream Twilio would open.
//!
//! # Misbehaving on purpose
//!
//! Twilio keeps its messages in order and reads the socket; a server should still cope
//! when a peer (a proxy, an overloaded link, a bug) does not. Two options make the
//! simulated caller misbehave, to test that the server goes on and keeps its logs short:
//!
//! - [`CallScript::out_of_order_media`]: caller `media` goes out in swapped pairs
//!   (`sequenceNumber` 3 before 2, 5 before 4, ...).
//! - [`CallScript::stop_reading_after`]: from then on the simulator reads nothing (no
//!   echoes, no `clear`), as a stuck peer; what the server writes piles up in the
//!   connection's buffers. It still sends its media and hangs up on time.
//!
//! # Testing with it
//!
//! Run it against your server on `127.0.0.1` port 0 and keep scripted calls short (a few
//! hundred milliseconds of audio is enough to exercise marks and `clear`). Tokio's paused
//! clock (`start_paused = true`) does not fit real sockets: when the runtime waits for
//! socket input, the paused clock jumps to the next timer, so the simulated call races ahead
//! of the server (its hang-up and maximum duration arrive before the server could answer).
//!
//! # Examples
//!
//! ```no_run
//! use std::time::Duration;
//! use twilio_media_stream::simulator::{CallEnd, CallScript, CallerAudio};
//! use twilio_media_stream::signature::AuthToken;
//!
//! # async fn demo() -> Result<(), twilio_media_stream::simulator::SimulatorError> {
//! let record = CallScript::new("ws://127.0.0.1:8080/media-stream")
//!     .auth_token(AuthToken::new("your auth token"))
//!     .signature_url("wss://bot.example.com/media-stream")
//!     .parameter("appointment_id", "apt_42")
//!     .caller_audio(CallerAudio::speech([(Duration::from_secs(2), Duration::from_secs(3))]))
//!     .dtmf(Duration::from_secs(4), "1")
//!     .hang_up_after(Duration::from_secs(6))
//!     .run()
//!     .await?;
//! assert_eq!(record.end, CallEnd::HungUp);
//! println!("heard {} ms, marks {:?}", record.heard_ms(), record.mark_names());
//! # Ok(())
//! # }
//! ```

mod audio;
mod call;
mod incoming;
mod playout;
mod record;

use std::collections::BTreeMap;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use audio::{CallerAudio, WavError};
pub use incoming::{
    Answer, DEFAULT_WEBHOOK_TIMEOUT, IncomingCall, IncomingCallError, StreamTarget,
};
pub use record::{CallEnd, CallIssue, CallRecord, ClearRecord, CloseInfo, MarkRecord};

use crate::ids::{AccountSid, CallSid, StreamSid};
use crate::signature::AuthToken;

/// Default for [`CallScript::max_duration`]: 10 minutes.
pub const DEFAULT_MAX_DURATION: Duration = Duration::from_secs(600);

/// Default for [`CallScript::playout_limit`]: 10 minutes of audio (4.8 MB).
pub const DEFAULT_PLAYOUT_LIMIT: Duration = Duration::from_secs(600);

/// The script of one simulated call: a builder, then [`run`](Self::run).
///
/// Every setting has a default: fresh unique ids, no custom parameters, no signature header,
/// silence from the caller, no DTMF, and no hang-up (the call lasts until the server closes
/// the socket or [`max_duration`](Self::max_duration) passes).
#[derive(Debug, Clone)]
#[must_use]
pub struct CallScript {
    url: String,
    auth_token: Option<AuthToken>,
    signature_url: Option<String>,
    stream_sid: StreamSid,
    call_sid: CallSid,
    account_sid: AccountSid,
    custom_parameters: BTreeMap<String, String>,
    caller_audio: CallerAudio,
    dtmf: Vec<(Duration, String)>,
    hang_up_after: Option<Duration>,
    max_duration: Duration,
    playout_limit: Duration,
    out_of_order_media: bool,
    stop_reading_after: Option<Duration>,
}

/// Gives every script its own ids, so parallel calls never share a `streamSid`.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl CallScript {
    /// A call to the media-stream endpoint at `url` (`ws://` or `wss://`).
    pub fn new(url: impl Into<String>) -> Self {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Self {
            url: url.into(),
            auth_token: None,
            signature_url: None,
            stream_sid: StreamSid::new(format!("MZ{n:032x}")),
            call_sid: CallSid::new(format!("CA{n:032x}")),
            account_sid: AccountSid::new(format!("AC{:032x}", 1)),
            custom_parameters: BTreeMap::new(),
            caller_audio: CallerAudio::silence(),
            dtmf: Vec::new(),
            hang_up_after: None,
            max_duration: DEFAULT_MAX_DURATION,
            playout_limit: DEFAULT_PLAYOUT_LIMIT,
            out_of_order_media: false,
            stop_reading_after: None,
        }
    }

    /// Signs the upgrade request with this auth token (`X-Twilio-Signature`), as Twilio does.
    pub fn auth_token(mut self, token: AuthToken) -> Self {
        self.auth_token = Some(token);
        self
    }

    /// The URL the signature covers (default: the URL connected to). Twilio signs the
    /// public `wss://` URL of your `<Stream>`; set it when the simulator connects to a local
    /// address behind which that public URL is served.
    pub fn signature_url(mut self, url: impl Into<String>) -> Self {
        self.signature_url = Some(url.into());
        self
    }

    /// Sets the `streamSid`.
    pub fn stream_sid(mut self, sid: StreamSid) -> Self {
        self.stream_sid = sid;
        self
    }

    /// Sets the `callSid`.
    pub fn call_sid(mut self, sid: CallSid) -> Self {
        self.call_sid = sid;
        self
    }

    /// Sets the `accountSid`.
    pub fn account_sid(mut self, sid: AccountSid) -> Self {
        self.account_sid = sid;
        self
    }

    /// Adds a custom parameter to `start.customParameters` (a `<Parameter>` of the
    /// `<Stream>`).
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.custom_parameters.insert(name.into(), value.into());
        self
    }

    /// Adds custom parameters (see [`parameter`](Self::parameter)).
    pub fn parameters<K: Into<String>, V: Into<String>>(
        mut self,
        parameters: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.custom_parameters.extend(
            parameters
                .into_iter()
                .map(|(name, value)| (name.into(), value.into())),
        );
        self
    }

    /// What the caller says (default: silence).
    pub fn caller_audio(mut self, audio: CallerAudio) -> Self {
        self.caller_audio = audio;
        self
    }

    /// Presses a key at `at` after the stream starts (sent on the next 20 ms frame).
    pub fn dtmf(mut self, at: Duration, digit: impl Into<String>) -> Self {
        self.dtmf.push((at, digit.into()));
        self.dtmf.sort_by_key(|(at, _)| *at);
        self
    }

    /// Hangs up `after` the stream starts: sends `stop`, then closes the socket.
    pub fn hang_up_after(mut self, after: Duration) -> Self {
        self.hang_up_after = Some(after);
        self
    }

    /// Ends the call (as a hang-up) if it is still running after this long (default
    /// [`DEFAULT_MAX_DURATION`]).
    pub fn max_duration(mut self, max: Duration) -> Self {
        self.max_duration = max;
        self
    }

    /// Most server audio the playout buffer holds; `media` beyond it is dropped and
    /// recorded as [`CallIssue::PlayoutOverflow`] (default [`DEFAULT_PLAYOUT_LIMIT`]).
    pub fn playout_limit(mut self, limit: Duration) -> Self {
        self.playout_limit = limit;
        self
    }

    /// Sends the caller's `media` in swapped pairs: each frame's message (with its
    /// `sequenceNumber`, `chunk` and `timestamp`) goes out one frame late, after the next
    /// one, so the server sees 3 before 2, 5 before 4, and so on. Twilio keeps order over
    /// its TCP connection; this tests a server's `sequenceNumber` checks (and that they
    /// do not flood its log). A frame still held at the hang-up goes out before `stop`.
    pub fn out_of_order_media(mut self) -> Self {
        self.out_of_order_media = true;
        self
    }

    /// Stops reading the socket `after` the stream starts, as a stuck or overloaded peer
    /// would: no more marks are echoed and nothing the server sends is played or
    /// recorded; it piles up in the connection's buffers. The caller's media and DTMF go
    /// on, and the hang-up (if any) still reads the server's close frame.
    pub fn stop_reading_after(mut self, after: Duration) -> Self {
        self.stop_reading_after = Some(after);
        self
    }

    /// Places the call and runs it to its end.
    ///
    /// # Errors
    ///
    /// [`SimulatorError`] when the call could not be set up: a bad URL, a connection
    /// failure, or an upgrade the server refused (with its HTTP status and body). Anything
    /// that goes wrong after the socket opened is in the [`CallRecord`] instead.
    pub async fn run(self) -> Result<CallRecord, SimulatorError> {
        call::run(self).await
    }
}

type BoxError = Box<dyn StdError + Send + Sync>;

/// Why a simulated call could not be placed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// The URL or the request built from it is not valid.
    #[error("invalid media-stream URL {url:?}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The server answered the upgrade with a status other than 101 (Twilio error 31920).
    #[error("server refused the WebSocket upgrade with HTTP {status}: {body:?}")]
    Rejected {
        /// The HTTP status code.
        status: u16,
        /// The response body (lossy UTF-8), empty when there was none.
        body: String,
    },
    /// The connection could not be made or the handshake failed (Twilio errors 31901,
    /// 31902, 31910).
    #[error("cannot open a WebSocket to {url}")]
    Connect {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: BoxError,
    },
}

impl SimulatorError {
    /// The HTTP status of a refused upgrade.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The response body of a refused upgrade.
    pub fn body(&self) -> Option<&str> {
        match self {
            Self::Rejected { body, .. } => Some(body),
            _ => None,
        }
    }
}
