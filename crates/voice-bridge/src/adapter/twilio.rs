//! The call leg over a Twilio Media Streams WebSocket (feature `twilio`).
//!
//! [`TwilioLeg`] turns the WebSocket of a bidirectional `<Connect><Stream>` into a
//! [`CallLeg`]. It works over any socket that reads [`Frame`]s and writes [`Outgoing`]
//! frames (`Stream<Item = Result<Frame, E>> + Sink<Outgoing>`): the
//! [`MediaSocket`](twilio_media_stream::server::MediaSocket) of a stream accepted with
//! `twilio_media_stream::server::accept` (hyper, axum), any other framework's socket mapped
//! to those frames, or (feature `tokio-tungstenite-0_30`, `TwilioLeg::from_websocket`) a
//! tokio-tungstenite socket you accepted yourself.
//!
//! What it does, per the [guide](crate::guide#writing-a-telephony-adapter-a-twilio-leg):
//!
//! - Every text frame is decoded ([`StreamEvent`]) and checked against the stream's rules
//!   ([`StreamSession`]: order, one `streamSid` per socket, `sequenceNumber`, mark
//!   bookkeeping with cleared marks). A frame that cannot be decoded or breaks a rule is
//!   skipped and counted in [`TwilioStats`]; a healthy call goes on. Each kind of skip
//!   (and each `sequenceNumber` gap, and marks not sent because too many are pending) logs
//!   one warning when it first happens and then at most one per [`LOG_REPEAT_INTERVAL`]
//!   with the number since (`since_last_line`); when the leg is dropped, one line sums up
//!   what happened (`twilio: leg closed after irregular input`), and only if anything did.
//! - `start` becomes [`CallEvent::Started`], inbound `media` [`CallEvent::Audio`] (the base64
//!   text kept as received), mark echoes [`CallEvent::MarkPlayed`], `dtmf`
//!   [`CallEvent::Dtmf`], `stop` [`CallEvent::Ended`] with [`LegEnd::Finished`]; a socket
//!   that closes without `stop` ends the leg with [`LegEnd::Closed`].
//! - Commands become `media`, `mark` and `clear` messages with the stream's id; nothing is
//!   sent before `start` or after `stop`.
//! - [`CallCommand::HangUp`] and [`HandOver::Continue`] close the socket: Twilio then runs
//!   the TwiML after `</Connect>` (with none, the call ends). With a REST client (feature
//!   `twilio-rest`, `TwilioLeg::with_rest`) hang-up is a REST call update and the call can
//!   be handed over to new TwiML or a TwiML URL.
//! - Optionally ([`TwilioLeg::verify_context`]) the signed call context in `start`'s
//!   `customParameters` is verified; a missing, forged or expired context ends the leg with
//!   [`LegEnd::Failed`] naming the reason, and the socket is closed with 1008 (policy
//!   violation) and that reason, so the peer sees a refusal, not a normal end.
//! - Closes the leg decides on carry a code: 1008 for a refused context or
//!   [`TwilioLeg::refuse`], 1002 for a protocol violation, 1003 for an unsupported audio
//!   format, 1009 for a message over the socket's size limit (`message of N bytes exceeds
//!   the limit of M bytes`), 1000 `stream stopped` after Twilio's `stop`; the reason is cut
//!   to the 123 bytes a close frame can hold, on a character boundary. Hang-ups and
//!   hand-overs close normally (1000). A close frame from the peer is answered (its code
//!   echoed, RFC 6455 section 5.5.1) before the leg reports [`LegEnd::Closed`]. The leg
//!   then reads briefly for the peer's reply to its own close, so the connection ends with
//!   a closing handshake, not a reset; all of it within a little over a second, and
//!   resumed where it was if the bridge drops a `recv` halfway.
//!
//! # Example: a stream accepted by `server::accept`
//!
//! The signed upgrade (see the [crate docs](crate) for the whole axum route) gives a
//! [`MediaSocket`](twilio_media_stream::server::MediaSocket), which is a Twilio leg's socket
//! as it is:
//!
//! ```no_run
//! use voice_bridge::adapter::twilio::TwilioLeg;
//! use voice_bridge::memory;
//! use voice_bridge::twilio_media_stream::server::PendingStream;
//!
//! # async fn serve(pending: PendingStream) -> Result<(), Box<dyn std::error::Error>> {
//! // `pending` from `server::accept`, once its `101` answer is on its way.
//! let socket = pending.socket().await?;
//! let mut call = TwilioLeg::new(socket);
//! // Read up to `start`: the call's ids and its `<Parameter>`s, before choosing an agent.
//! let start = call.wait_start().await.map_err(|end| format!("no call: {end}"))?;
//! println!("call {} with {:?}", start.call_id, start.parameters);
//! # let (agent, _model) = memory::agent_leg(8);
//! let report = voice_bridge::Bridge::new(call, agent).run().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Example: any other WebSocket (axum, hyper, your own)
//!
//! Map the socket's messages to [`Frame`]s (`StreamExt::map`) and write [`Outgoing`] frames
//! as text or close messages (`SinkExt::with`). Here `Message` stands for your framework's
//! message type;
//! axum's `axum::extract::ws::Message` (feature `ws`) has the same variants, with
//! `Utf8Bytes`/`Bytes` payloads and a `CloseFrame { code, reason }`:
//!
//! ```
//! use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
//! use voice_bridge::adapter::twilio::{Frame, Outgoing, TwilioLeg};
//!
//! /// Your framework's WebSocket message.
//! enum Message {
//!     Text(String),
//!     Binary(Vec<u8>),
//!     Ping(Vec<u8>),
//!     Pong(Vec<u8>),
//!     Close(Option<(u16, String)>),
//! }
//!
//! fn to_frame(message: Message) -> Frame {
//!     match message {
//!         Message::Text(text) => Frame::Text(text),
//!         Message::Binary(bytes) => Frame::Binary { len: bytes.len() },
//!         Message::Close(close) => {
//!             let (code, reason) = close.map_or((None, String::new()), |(c, r)| (Some(c), r));
//!             Frame::Close { code, reason }
//!         }
//!         Message::Ping(_) | Message::Pong(_) => Frame::Control,
//!     }
//! }
//!
//! fn to_message(frame: Outgoing) -> Message {
//!     match frame {
//!         Outgoing::Text(text) => Message::Text(text),
//!         Outgoing::Close { code, reason } => Message::Close(Some((code, reason))),
//!         // `Outgoing` may grow: anything new is closed as a normal end.
//!         _ => Message::Close(Some((1000, String::new()))),
//!     }
//! }
//!
//! /// A Twilio leg over the framework's socket (axum: `WebSocket`, error `axum::Error`).
//! fn twilio_leg<W, E>(
//!     socket: W,
//! ) -> TwilioLeg<impl Stream<Item = Result<Frame, E>> + Sink<Outgoing, Error = E> + Send + Unpin>
//! where
//!     W: Stream<Item = Result<Message, E>> + Sink<Message, Error = E> + Send + Unpin,
//!     E: std::error::Error + Send + Sync + 'static,
//! {
//!     let socket = socket
//!         .with(|frame: Outgoing| std::future::ready(Ok::<_, E>(to_message(frame))))
//!         .map(|message| message.map(to_frame));
//!     TwilioLeg::new(socket)
//! }
//! ```

use std::collections::VecDeque;
use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use async_trait::async_trait;
use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
use tokio_tungstenite::tungstenite;
use twilio_media_stream::context::SigningSecret;
use twilio_media_stream::event::{Start, Track};
use twilio_media_stream::server::SocketError;
use twilio_media_stream::{
    DEFAULT_MAX_FRAME_LEN, Payload, Phase, StreamCommand, StreamEvent, StreamSession,
};

use crate::audio::{AudioChunk, AudioFormat};
use crate::call::{CallCapabilities, CallCommand, CallEvent, CallStart, HandOver};
use crate::ids::{CallId, DtmfDigit, StreamId};
use crate::leg::{CallLeg, LegEnd, LegError};

mod closing;
mod throttle;

use closing::CloseProgress;
use throttle::Throttles;

/// How often one kind of skipped or irregular input may log again on one call: its first
/// occurrence logs at once, repeats at most once per this interval with the number since
/// the last line (`since_last_line`); the counters ([`TwilioStats`]) keep every one.
pub const LOG_REPEAT_INTERVAL: Duration = throttle::REPEAT_INTERVAL;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Close codes (RFC 6455 section 7.4.1) of the closes the leg decides on.
const CLOSE_NORMAL: u16 = 1000;
const CLOSE_POLICY: u16 = 1008;
const CLOSE_PROTOCOL: u16 = 1002;
const CLOSE_UNSUPPORTED: u16 = 1003;
const CLOSE_TOO_BIG: u16 = 1009;

/// The close reason after Twilio's `stop`.
const STOPPED_REASON: &str = "stream stopped";

/// How long a REST hang-up or redirect may take before the stream is closed anyway: within
/// the bridge's one-second bound for a last command, so the close frame still goes out.
#[cfg(feature = "twilio-rest")]
const REST_WAIT: Duration = Duration::from_millis(700);

#[cfg(feature = "tokio-tungstenite-0_30")]
#[doc(no_inline)]
pub use twilio_media_stream::socket::TungsteniteSocket;
#[doc(no_inline)]
pub use twilio_media_stream::socket::{Frame, MAX_CLOSE_REASON_LEN, Outgoing, close_reason};

/// Counters of a [`TwilioLeg`], readable while the leg runs and after it is gone.
///
/// A cheap handle (cloning shares the counters): take it with [`TwilioLeg::stats`] before
/// moving the leg into a [`Bridge`](crate::Bridge).
#[derive(Debug, Clone, Default)]
pub struct TwilioStats {
    inner: Arc<StatsInner>,
}

#[derive(Debug, Default)]
struct StatsInner {
    frames_received: AtomicU64,
    media_frames: AtomicU64,
    decode_errors: AtomicU64,
    rule_violations: AtomicU64,
    sequence_gaps: AtomicU64,
    messages_missing: AtomicU64,
    bad_payloads: AtomicU64,
    skipped: AtomicU64,
    commands_sent: AtomicU64,
    commands_skipped: AtomicU64,
    marks_not_sent: AtomicU64,
}

/// A snapshot of [`TwilioStats`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TwilioCounters {
    /// Frames read from the socket (all kinds).
    pub frames_received: u64,
    /// Inbound `media` frames delivered as audio.
    pub media_frames: u64,
    /// Text frames that could not be decoded (bad JSON, missing or mistyped fields, too
    /// large): logged and skipped.
    pub decode_errors: u64,
    /// Messages that broke the stream's rules (before `start`, a foreign `streamSid`, a
    /// repeated `start`, an echo of a mark never sent, anything after `stop`): logged and
    /// skipped.
    pub rule_violations: u64,
    /// Times the `sequenceNumber` was not the next one.
    pub sequence_gaps: u64,
    /// Messages missing according to `sequenceNumber`.
    pub messages_missing: u64,
    /// `media` payloads that are not valid base64: logged and skipped.
    pub bad_payloads: u64,
    /// Other frames skipped: binary frames, unknown events, other tracks, odd DTMF.
    pub skipped: u64,
    /// Messages written to Twilio.
    pub commands_sent: u64,
    /// Commands not written because the stream was not streaming (before `start`, after
    /// `stop`) or too many marks were pending.
    pub commands_skipped: u64,
    /// Marks not written because too many were pending (sent and not echoed: the caller's
    /// side stopped reading or echoing); also counted in `commands_skipped`.
    pub marks_not_sent: u64,
}

impl TwilioStats {
    /// The counters now.
    pub fn counters(&self) -> TwilioCounters {
        let i = &self.inner;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        TwilioCounters {
            frames_received: get(&i.frames_received),
            media_frames: get(&i.media_frames),
            decode_errors: get(&i.decode_errors),
            rule_violations: get(&i.rule_violations),
            sequence_gaps: get(&i.sequence_gaps),
            messages_missing: get(&i.messages_missing),
            bad_payloads: get(&i.bad_payloads),
            skipped: get(&i.skipped),
            commands_sent: get(&i.commands_sent),
            commands_skipped: get(&i.commands_skipped),
            marks_not_sent: get(&i.marks_not_sent),
        }
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// The signed-context check: the secret and the clock.
#[derive(Clone)]
struct ContextCheck {
    secret: SigningSecret,
    clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
}

impl fmt::Debug for ContextCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ContextCheck")
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// A [`CallLeg`] over a Twilio Media Streams WebSocket.
///
/// See the [module docs](self) for what it does and how to build it over any socket.
#[derive(Debug)]
pub struct TwilioLeg<S> {
    socket: S,
    session: StreamSession,
    /// Events decided but not yet returned (`start` after [`TwilioLeg::wait_start`]).
    pending: VecDeque<CallEvent>,
    /// The call's start, once seen.
    start: Option<CallStart>,
    /// The leg decided to end (`stop`, the peer's close, a refused context, a protocol
    /// violation, a too-big frame): what to report once [`close`](Self::close) is done.
    ending: Option<Ending>,
    /// The socket's close, once begun (resumable, see [`CloseProgress`]).
    close: Option<CloseProgress>,
    /// The leg returned its `Ended` (or an error).
    ended: bool,
    context: Option<ContextCheck>,
    #[cfg(feature = "twilio-rest")]
    rest: Option<twilio_media_stream::rest::Client>,
    stats: TwilioStats,
    max_frame_len: usize,
    /// When each kind of skipped or irregular input may log again.
    throttles: Throttles,
}

impl<S> TwilioLeg<S> {
    /// The call's `callSid`, once `start` has been read (even a refused one).
    pub fn call_sid(&self) -> Option<&twilio_media_stream::CallSid> {
        self.session.call_sid()
    }

    /// The stream's `streamSid`, once `start` has been read (even a refused one).
    pub fn stream_sid(&self) -> Option<&twilio_media_stream::StreamSid> {
        self.session.stream_sid()
    }
}

#[cfg(feature = "tokio-tungstenite-0_30")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio-tungstenite-0_30")))]
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send>
    TwilioLeg<TungsteniteSocket<T>>
{
    /// A leg over a tokio-tungstenite 0.30 WebSocket you accepted yourself (from
    /// `tokio_tungstenite::accept_async`): feature `tokio-tungstenite-0_30`, whose types
    /// follow tokio-tungstenite's versions, not ours. A stream accepted with
    /// `twilio_media_stream::server::accept` needs no feature: `TwilioLeg::new(socket)`.
    pub fn from_websocket(ws: tokio_tungstenite::WebSocketStream<T>) -> Self {
        Self::new(TungsteniteSocket::new(ws))
    }
}

impl<S, E> TwilioLeg<S>
where
    S: Stream<Item = Result<Frame, E>> + Sink<Outgoing> + Send + Unpin,
    E: Into<BoxError>,
    <S as Sink<Outgoing>>::Error: Into<BoxError>,
{
    /// A leg over any socket that reads [`Frame`]s and writes [`Outgoing`] frames.
    pub fn new(socket: S) -> Self {
        Self {
            socket,
            session: StreamSession::new(),
            pending: VecDeque::new(),
            start: None,
            ending: None,
            close: None,
            ended: false,
            context: None,
            #[cfg(feature = "twilio-rest")]
            rest: None,
            stats: TwilioStats::default(),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            throttles: Throttles::default(),
        }
    }

    /// Verifies the signed call context in `start`'s `customParameters` with this secret
    /// (see [`twilio_media_stream::context`]), at the system clock's time.
    ///
    /// A missing, forged, altered or expired context ends the leg with [`LegEnd::Failed`]
    /// (`call context refused: …`) and closes the socket with 1008 (policy violation) and
    /// that message as the reason (cut to [`MAX_CLOSE_REASON_LEN`] bytes). A valid one replaces
    /// [`CallStart::parameters`] with the verified fields (without the `ctx_` ones).
    #[must_use]
    pub fn verify_context(self, secret: SigningSecret) -> Self {
        self.verify_context_with_clock(secret, SystemTime::now)
    }

    /// As [`verify_context`](Self::verify_context), with your clock (for tests).
    #[must_use]
    pub fn verify_context_with_clock(
        mut self,
        secret: SigningSecret,
        clock: impl Fn() -> SystemTime + Send + Sync + 'static,
    ) -> Self {
        self.context = Some(ContextCheck {
            secret,
            clock: Arc::new(clock),
        });
        self
    }

    /// Hangs up and hands calls over through Twilio's REST API (feature `twilio-rest`):
    /// [`CallCommand::HangUp`] becomes a call update `Status=completed`, and
    /// [`HandOver::Markup`] / [`HandOver::Url`] a redirect to that TwiML (the capabilities
    /// `markup` and `url`). The socket is closed afterwards either way, and at the latest
    /// after 700 ms without an answer from Twilio, within the bridge's one-second bound for
    /// a last command; a refused or unanswered REST request is still returned as the send's
    /// error (with Twilio's status and error), since TwiML after `</Connect>` may go on.
    #[cfg(feature = "twilio-rest")]
    #[must_use]
    pub fn with_rest(mut self, client: twilio_media_stream::rest::Client) -> Self {
        self.rest = Some(client);
        self
    }

    /// Refuses text frames longer than `limit` bytes (logged and skipped). Default
    /// [`DEFAULT_MAX_FRAME_LEN`].
    #[must_use]
    pub fn with_max_frame_len(mut self, limit: usize) -> Self {
        self.max_frame_len = limit;
        self
    }

    /// The leg's counters (a handle that outlives the leg).
    pub fn stats(&self) -> TwilioStats {
        self.stats.clone()
    }

    /// What the leg can do besides audio and marks: [`HandOver::Continue`] always (closing
    /// the socket), TwiML and URL hand-overs with a REST client.
    pub fn capabilities(&self) -> CallCapabilities {
        #[cfg(feature = "twilio-rest")]
        let rest = self.rest.is_some();
        #[cfg(not(feature = "twilio-rest"))]
        let rest = false;
        CallCapabilities {
            continue_call: true,
            markup: rest,
            url: rest,
        }
    }

    /// Reads up to the stream's `start` and returns it; [`recv`](CallLeg::recv) still
    /// delivers it as the first event. Use it to choose the agent from the call's
    /// parameters before running the bridge. Cancel safe.
    ///
    /// # Errors
    ///
    /// How the leg ended if it ended first (the caller hung up, the socket closed, the
    /// context was refused), or [`LegEnd::Failed`] if the socket failed.
    pub async fn wait_start(&mut self) -> Result<CallStart, LegEnd> {
        if let Some(start) = &self.start {
            return Ok(start.clone());
        }
        loop {
            match self.next_event().await {
                Ok(CallEvent::Started(start)) => {
                    self.pending.push_front(CallEvent::Started(start.clone()));
                    return Ok(start);
                }
                Ok(CallEvent::Ended(end)) => return Err(end),
                // Nothing else comes before `start` (the session skips it).
                Ok(other) => self.pending.push_back(other),
                Err(error) => return Err(LegEnd::from(&error)),
            }
        }
    }

    /// Refuses the stream: closes the socket with 1008 (policy violation) and `reason`
    /// (cut to [`MAX_CLOSE_REASON_LEN`] bytes on a character boundary), logs it with the
    /// stream's ids, and ends the leg (a later [`recv`](CallLeg::recv) is an error).
    ///
    /// Use it when your own check of the [`CallStart`] fails (an unknown customer, a
    /// context your application cannot use), or when `start` does not come in time (wrap
    /// [`wait_start`](Self::wait_start) in `tokio::time::timeout`: it is cancel safe).
    /// Takes at most a little over a second (the close frame and the close, then up to
    /// 200 ms for the peer's close reply).
    ///
    /// ```no_run
    /// # use voice_bridge::adapter::twilio::TwilioLeg;
    /// # async fn serve(socket: voice_bridge::twilio_media_stream::server::MediaSocket) {
    /// let mut call = TwilioLeg::new(socket);
    /// match tokio::time::timeout(std::time::Duration::from_secs(10), call.wait_start()).await {
    ///     Ok(Ok(start)) if start.parameters.contains_key("customer") => { /* run the bridge */ }
    ///     Ok(Ok(_)) => call.refuse("forbidden: no customer").await,
    ///     Ok(Err(end)) => eprintln!("no call: {end}"),
    ///     Err(_) => call.refuse("no start message in time").await,
    /// }
    /// # }
    /// ```
    pub async fn refuse(&mut self, reason: &str) {
        if self.ended {
            return;
        }
        tracing::warn!(
            call_sid = self.session.call_sid().map_or("-", |sid| sid.as_str()),
            stream_sid = self.sid(),
            reason,
            "twilio: stream refused; closing with 1008"
        );
        self.pending.clear();
        self.ending = None;
        self.ended = true;
        self.close_with(CloseProgress::with_frame(CLOSE_POLICY, reason))
            .await;
    }

    /// Begins the socket's close (unless one has begun) and carries it on. Cancel safe.
    async fn close_with(&mut self, close: CloseProgress) {
        let close = self.close.get_or_insert(close);
        let stream_sid = self.session.stream_sid().map_or("-", |sid| sid.as_str());
        close.drive(&mut self.socket, stream_sid).await;
    }

    /// Ends the leg after closing the socket this way: the next turn of
    /// [`next_event`](Self::next_event) closes, then reports `ending`.
    fn end_after(&mut self, ending: Ending, close: CloseProgress) {
        self.ending = Some(ending);
        self.close.get_or_insert(close);
    }

    /// The next event. Cancel safe: the awaits are the socket read (`StreamExt::next`) and
    /// the close before the leg's end, which resumes where it was ([`CloseProgress`]).
    async fn next_event(&mut self) -> Result<CallEvent, LegError> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Ok(event);
            }
            if self.ended {
                return Err(LegError::new("the twilio leg has already ended"));
            }
            if self.ending.is_some() {
                if let Some(close) = &mut self.close {
                    let stream_sid = self.session.stream_sid().map_or("-", |sid| sid.as_str());
                    close.drive(&mut self.socket, stream_sid).await;
                }
                self.ended = true;
                return match self.ending.take() {
                    Some(Ending::Event(end)) => Ok(CallEvent::Ended(end)),
                    Some(Ending::Error(error)) => Err(error),
                    None => Err(LegError::new("the twilio leg has already ended")),
                };
            }
            let frame = match self.socket.next().await {
                Some(Ok(frame)) => frame,
                Some(Err(error)) => {
                    let error: BoxError = error.into();
                    if let Some((size, limit)) = too_big(&*error) {
                        // A frame over the socket's limit: the peer hears why (1009).
                        let reason =
                            format!("message of {size} bytes exceeds the limit of {limit} bytes");
                        tracing::warn!(
                            stream_sid = self.sid(),
                            size,
                            limit,
                            "twilio: media-stream message too big; closing with 1009"
                        );
                        let error = LegError::with_source(
                            "twilio media-stream message too big; closed with 1009",
                            error,
                        );
                        self.end_after(
                            Ending::Error(error),
                            CloseProgress::after_failure(CLOSE_TOO_BIG, &reason),
                        );
                        continue;
                    }
                    self.ended = true;
                    let error = LegError::with_source("twilio media-stream socket failed", error);
                    tracing::warn!(error = %crate::leg::ErrorChain(&error), stream_sid = self.sid(),
                        "twilio: socket read failed");
                    return Err(error);
                }
                None => {
                    self.ended = true;
                    let end = self.closed(None, "socket ended without a close frame".into());
                    return Ok(CallEvent::Ended(end));
                }
            };
            StatsInner::bump(&self.stats.inner.frames_received);
            match frame {
                Frame::Text(text) => match self.on_text(&text) {
                    // `stop`: the stream is over; close it normally, as the protocol's end.
                    Some(CallEvent::Ended(end)) => self.end_after(
                        Ending::Event(end),
                        CloseProgress::with_frame(CLOSE_NORMAL, STOPPED_REASON),
                    ),
                    Some(event) => return Ok(event),
                    None => {}
                },
                Frame::Binary { len } => {
                    StatsInner::bump(&self.stats.inner.skipped);
                    if let Some(since_last_line) = self.throttles.binary.hit(Instant::now()) {
                        tracing::warn!(
                            len,
                            since_last_line,
                            stream_sid = self.sid(),
                            "twilio: binary frame skipped"
                        );
                    }
                }
                Frame::Close { code, reason } => {
                    // Answer the peer's close (the socket queued the answer; closing the
                    // sink sends it), then report.
                    let end = self.closed(code, reason);
                    self.end_after(Ending::Event(end), CloseProgress::answer());
                }
                // Ping, pong, and any frame a later version names: nothing for the call.
                _ => {}
            }
        }
    }

    fn closed(&self, code: Option<u16>, reason: String) -> LegEnd {
        tracing::info!(
            ?code,
            %reason,
            stream_sid = self.sid(),
            phase = ?self.session.phase(),
            "twilio: socket closed without `stop`"
        );
        LegEnd::Closed { code, reason }
    }

    fn sid(&self) -> &str {
        self.session.stream_sid().map_or("-", |sid| sid.as_str())
    }

    /// One text frame: decode, check the rules, map. `None` for frames that carry no event
    /// for the bridge (and for skipped ones).
    fn on_text(&mut self, text: &str) -> Option<CallEvent> {
        let stats = &self.stats.inner;
        let event = match StreamEvent::decode_with_limit(text, self.max_frame_len) {
            Ok(event) => event,
            Err(error) => {
                StatsInner::bump(&stats.decode_errors);
                if let Some(since_last_line) = self.throttles.undecodable.hit(Instant::now()) {
                    tracing::warn!(%error, len = text.len(), since_last_line,
                        stream_sid = self.sid(), "twilio: undecodable frame skipped");
                }
                return None;
            }
        };
        let accepted = match self.session.handle(&event) {
            Ok(accepted) => accepted,
            Err(error) if error.is_fatal() => {
                tracing::error!(%error, stream_sid = self.sid(),
                    "twilio: the peer does not follow the media-stream protocol");
                let message = format!("twilio protocol violation: {error}");
                let close = CloseProgress::with_frame(CLOSE_PROTOCOL, &message);
                self.end_after(Ending::Event(LegEnd::Failed { message }), close);
                return None;
            }
            Err(error) => {
                StatsInner::bump(&stats.rule_violations);
                if let Some(since_last_line) = self.throttles.rules.hit(Instant::now()) {
                    tracing::warn!(%error, event = event.event_type(), since_last_line,
                        stream_sid = self.sid(), "twilio: message breaks the stream's rules; skipped");
                }
                return None;
            }
        };
        if let Some(gap) = accepted.gap {
            StatsInner::bump(&stats.sequence_gaps);
            StatsInner::add_to(&stats.messages_missing, gap.missing());
            if let Some(since_last_line) = self.throttles.gaps.hit(Instant::now()) {
                tracing::warn!(
                    expected = gap.expected,
                    found = gap.found,
                    since_last_line,
                    stream_sid = self.sid(),
                    "twilio: sequenceNumber gap (messages lost, repeated or out of order)"
                );
            }
        }
        match event {
            StreamEvent::Connected(connected) => {
                if connected.protocol != "Call" || !connected.version.starts_with("1.") {
                    tracing::warn!(protocol = %connected.protocol, version = %connected.version,
                        "twilio: unexpected media-stream protocol or version");
                }
                None
            }
            StreamEvent::Start(start) => self.on_start(&start),
            StreamEvent::Media(media) => {
                if media.media.track != Track::Inbound {
                    StatsInner::bump(&stats.skipped);
                    tracing::debug!(track = %media.media.track, "twilio: media of another track skipped");
                    return None;
                }
                let payload = &media.media.payload;
                if payload.is_empty() {
                    return None;
                }
                let format = self.start.as_ref().map_or(AudioFormat::MuLaw, |s| s.format);
                match AudioChunk::from_base64(format, payload.as_base64().to_owned()) {
                    Ok(chunk) => {
                        StatsInner::bump(&stats.media_frames);
                        Some(CallEvent::Audio(chunk))
                    }
                    Err(error) => {
                        StatsInner::bump(&stats.bad_payloads);
                        if let Some(since_last_line) = self.throttles.payloads.hit(Instant::now()) {
                            tracing::warn!(%error, chunk = media.media.chunk, since_last_line,
                                stream_sid = self.sid(), "twilio: media payload skipped");
                        }
                        None
                    }
                }
            }
            StreamEvent::Dtmf(dtmf) => {
                let mut keys = dtmf.dtmf.digit.chars();
                match (keys.next(), keys.next()) {
                    (Some(key), None) => Some(CallEvent::Dtmf(DtmfDigit::new(key))),
                    _ => {
                        StatsInner::bump(&stats.skipped);
                        if let Some(since_last_line) = self.throttles.dtmf.hit(Instant::now()) {
                            tracing::warn!(digit = %dtmf.dtmf.digit, since_last_line,
                                stream_sid = self.sid(), "twilio: dtmf digit skipped");
                        }
                        None
                    }
                }
            }
            StreamEvent::Mark(_) => accepted
                .mark
                .map(|echo| CallEvent::MarkPlayed(echo.name.as_str().to_owned())),
            StreamEvent::Stop(_) => {
                tracing::info!(stream_sid = self.sid(), "twilio: stream stopped");
                Some(CallEvent::Ended(LegEnd::Finished))
            }
            other => {
                StatsInner::bump(&stats.skipped);
                tracing::debug!(event = other.event_type(), "twilio: unknown event skipped");
                None
            }
        }
    }

    fn on_start(&mut self, start: &Start) -> Option<CallEvent> {
        let meta = &start.start;
        let media = &meta.media_format;
        let format = match (media.encoding.as_str(), media.sample_rate, media.channels) {
            ("audio/x-mulaw", 8000, 1) => AudioFormat::MuLaw,
            ("audio/x-alaw", 8000, 1) => AudioFormat::ALaw,
            _ => {
                let message = format!(
                    "twilio stream format {}/{}/{} channel(s) is not supported",
                    media.encoding, media.sample_rate, media.channels
                );
                tracing::error!(call_sid = %meta.call_sid, stream_sid = %meta.stream_sid, %message);
                let close = CloseProgress::with_frame(CLOSE_UNSUPPORTED, &message);
                self.end_after(Ending::Event(LegEnd::Failed { message }), close);
                return None;
            }
        };
        let mut parameters = meta.custom_parameters.clone();
        if let Some(check) = &self.context {
            match check.secret.verify(&parameters, (check.clock)()) {
                Ok(context) => parameters = context.into_fields(),
                Err(error) => {
                    // A refused request, like a 403 at the upgrade: a warning, not a fault.
                    tracing::warn!(call_sid = %meta.call_sid, stream_sid = %meta.stream_sid,
                        %error, "twilio: call context refused; closing the stream");
                    let message = format!("call context refused: {error}");
                    let close = CloseProgress::with_frame(CLOSE_POLICY, &message);
                    self.end_after(Ending::Event(LegEnd::Failed { message }), close);
                    return None;
                }
            }
        }
        let mut call = CallStart::new(meta.call_sid.as_str(), meta.stream_sid.as_str(), format)
            .with_capabilities(self.capabilities());
        call.parameters = parameters;
        tracing::info!(call_sid = %meta.call_sid, stream_sid = %meta.stream_sid,
            tracks = meta.tracks.len(), "twilio: stream started");
        self.start = Some(call.clone());
        Some(CallEvent::Started(call))
    }

    /// Writes one message, if the stream is streaming.
    async fn write(&mut self, what: &'static str, command: StreamCommand) -> Result<(), LegError> {
        let text = command.encode();
        self.socket
            .send(Outgoing::Text(text))
            .await
            .map_err(|error| {
                let error =
                    LegError::with_source(format!("twilio: writing `{what}` failed"), error);
                tracing::warn!(error = %crate::leg::ErrorChain(&error), stream_sid = self.sid(),
                    "twilio: socket write failed");
                error
            })?;
        StatsInner::bump(&self.stats.inner.commands_sent);
        Ok(())
    }

    /// The stream's id if commands may be sent now; counts and logs the skip otherwise.
    fn streaming_sid(&self, what: &str) -> Option<twilio_media_stream::StreamSid> {
        match (self.session.phase(), self.session.stream_sid()) {
            (Phase::Streaming, Some(sid)) => Some(sid.clone()),
            (phase, _) => {
                StatsInner::bump(&self.stats.inner.commands_skipped);
                tracing::debug!(what, ?phase, "twilio: not streaming; command not sent");
                None
            }
        }
    }

    async fn hang_up(&mut self) -> Result<(), LegError> {
        #[cfg(feature = "twilio-rest")]
        let failed = self.hang_up_through_rest().await;
        #[cfg(not(feature = "twilio-rest"))]
        let failed: Option<LegError> = None;
        tracing::info!(
            stream_sid = self.sid(),
            "twilio: hanging up (closing the stream)"
        );
        self.close_with(CloseProgress::normal()).await;
        failed.map_or(Ok(()), Err)
    }

    /// Ends the call through REST when the leg has a client and a started call. Closing
    /// the socket still ends a call with no TwiML after `</Connect>`; one with more TwiML
    /// goes on, so a failure is returned (and logged by whoever sent the hang-up).
    #[cfg(feature = "twilio-rest")]
    async fn hang_up_through_rest(&mut self) -> Option<LegError> {
        let (Some(client), Some(call_sid), Phase::Streaming) =
            (&self.rest, self.session.call_sid(), self.session.phase())
        else {
            return None;
        };
        match tokio::time::timeout(REST_WAIT, client.hang_up(call_sid)).await {
            Ok(Ok(_)) => {
                tracing::info!(%call_sid, "twilio: call hung up through REST");
                None
            }
            Ok(Err(error)) => Some(LegError::with_source(
                format!("twilio: REST hang-up of {call_sid} failed; the stream was closed"),
                error,
            )),
            Err(_) => Some(LegError::new(format!(
                "twilio: REST hang-up of {call_sid} got no answer within {REST_WAIT:?}; \
                 the stream was closed"
            ))),
        }
    }

    async fn hand_over(&mut self, to: HandOver) -> Result<(), LegError> {
        let result = match to {
            HandOver::Continue => {
                tracing::info!(
                    stream_sid = self.sid(),
                    "twilio: handing over to the TwiML after </Connect> (closing the stream)"
                );
                Ok(())
            }
            #[cfg(feature = "twilio-rest")]
            HandOver::Markup(twiml) => {
                use twilio_media_stream::rest::CallInstructions;
                self.redirect(CallInstructions::twiml(twiml)).await
            }
            #[cfg(feature = "twilio-rest")]
            HandOver::Url(url) => {
                use twilio_media_stream::rest::CallInstructions;
                self.redirect(CallInstructions::url(url)).await
            }
            #[cfg(not(feature = "twilio-rest"))]
            HandOver::Markup(_) | HandOver::Url(_) => Err(LegError::new(
                "twilio: handing over to TwiML needs the REST client (feature `twilio-rest`)",
            )),
        };
        // Either way the stream ends; after a failed redirect Twilio at least goes on with
        // the TwiML after `</Connect>`.
        self.close_with(CloseProgress::normal()).await;
        result
    }

    #[cfg(feature = "twilio-rest")]
    async fn redirect(
        &mut self,
        instructions: twilio_media_stream::rest::CallInstructions,
    ) -> Result<(), LegError> {
        let (Some(client), Some(call_sid)) = (&self.rest, self.session.call_sid()) else {
            return Err(LegError::new(
                "twilio: handing over to TwiML needs a REST client (TwilioLeg::with_rest) and a started call",
            ));
        };
        match tokio::time::timeout(REST_WAIT, client.redirect(call_sid, instructions)).await {
            Ok(Ok(_)) => {
                tracing::info!(%call_sid, "twilio: call handed over through REST");
                Ok(())
            }
            Ok(Err(error)) => Err(LegError::with_source("twilio: REST redirect failed", error)),
            Err(_) => Err(LegError::new(format!(
                "twilio: REST redirect got no answer within {REST_WAIT:?}"
            ))),
        }
    }
}

/// What a leg that ends by itself reports once its socket is closed.
#[derive(Debug)]
enum Ending {
    /// The leg's last event.
    Event(LegEnd),
    /// The error `recv` returns.
    Error(LegError),
}

/// The size and limit of a message the socket refused as too big, if that is the error (a
/// [`MediaSocket`](twilio_media_stream::server::MediaSocket)'s, or a tungstenite capacity
/// error anywhere in the chain, so axum's wrapper counts too).
fn too_big(error: &(dyn StdError + 'static)) -> Option<(usize, usize)> {
    use tungstenite::error::CapacityError;
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(socket) = error.downcast_ref::<SocketError>() {
            return socket.message_too_big();
        }
        let capacity = match error.downcast_ref::<tungstenite::Error>() {
            Some(tungstenite::Error::Capacity(capacity)) => Some(capacity),
            _ => error.downcast_ref::<CapacityError>(),
        };
        if let Some(CapacityError::MessageTooLong { size, max_size }) = capacity {
            return Some((*size, *max_size));
        }
        cause = error.source();
    }
    None
}

impl StatsInner {
    fn bump(counter: &AtomicU64) {
        TwilioStats::add(counter, 1);
    }

    fn add_to(counter: &AtomicU64, n: u64) {
        TwilioStats::add(counter, n);
    }
}

#[async_trait]
impl<S, E> CallLeg for TwilioLeg<S>
where
    S: Stream<Item = Result<Frame, E>> + Sink<Outgoing> + Send + Unpin,
    E: Into<BoxError>,
    <S as Sink<Outgoing>>::Error: Into<BoxError>,
{
    async fn recv(&mut self) -> Result<CallEvent, LegError> {
        self.next_event().await
    }

    /// `callSid` and `streamSid` once `start` has been read: after
    /// [`wait_start`](TwilioLeg::wait_start), so a bridge's span has them from its first
    /// line.
    fn call_ids(&self) -> Option<(CallId, StreamId)> {
        let call_sid = self.session.call_sid()?;
        let stream_sid = self.session.stream_sid()?;
        Some((
            CallId::new(call_sid.as_str()),
            StreamId::new(stream_sid.as_str()),
        ))
    }

    async fn send(&mut self, command: CallCommand) -> Result<(), LegError> {
        match command {
            CallCommand::Play { chunk, .. } => {
                let Some(sid) = self.streaming_sid("media") else {
                    return Ok(());
                };
                let payload = Payload::from_base64(chunk.into_base64());
                self.write("media", StreamCommand::media(sid, payload))
                    .await
            }
            CallCommand::Mark(mark) => {
                let Some(sid) = self.streaming_sid("mark") else {
                    return Ok(());
                };
                let name = mark.to_string();
                if let Err(error) = self.session.mark_sent(name.as_str()) {
                    StatsInner::bump(&self.stats.inner.commands_skipped);
                    StatsInner::bump(&self.stats.inner.marks_not_sent);
                    if let Some(since_last_line) = self.throttles.marks.hit(Instant::now()) {
                        tracing::warn!(%error, since_last_line, stream_sid = self.sid(),
                            "twilio: mark not sent (the caller's side is not echoing marks)");
                    }
                    return Ok(());
                }
                self.write("mark", StreamCommand::mark(sid, name)).await
            }
            CallCommand::Clear => {
                let Some(sid) = self.streaming_sid("clear") else {
                    return Ok(());
                };
                if let Err(error) = self.session.clear_sent()
                    && let Some(since_last_line) = self.throttles.clears.hit(Instant::now())
                {
                    tracing::warn!(%error, since_last_line, stream_sid = self.sid(),
                        "twilio: clear not recorded");
                }
                self.write("clear", StreamCommand::clear(sid)).await
            }
            CallCommand::HangUp => self.hang_up().await,
            CallCommand::HandOver(to) => self.hand_over(to).await,
        }
    }
}

impl<S> Drop for TwilioLeg<S> {
    fn drop(&mut self) {
        let c = self.stats.counters();
        let call_sid = self.session.call_sid().map_or("-", |sid| sid.as_str());
        let stream_sid = self.session.stream_sid().map_or("-", |sid| sid.as_str());
        match irregular_input(&c) {
            Some(summary) => tracing::warn!(call_sid, stream_sid, %summary,
                "twilio: leg closed after irregular input"),
            None => tracing::debug!(call_sid, stream_sid, counters = ?c, "twilio: leg closed"),
        }
    }
}

/// What the leg skipped or found out of order, for its last line: only the causes that
/// happened, `None` for a clean call.
fn irregular_input(c: &TwilioCounters) -> Option<String> {
    let mut parts = Vec::new();
    let mut count = |n: u64, what: &str| {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    };
    count(c.decode_errors, "undecodable frame(s) skipped");
    count(
        c.rule_violations,
        "message(s) breaking the stream's rules skipped",
    );
    count(c.bad_payloads, "media payload(s) skipped");
    count(c.skipped, "other frame(s) skipped");
    count(c.marks_not_sent, "mark(s) not sent");
    if c.sequence_gaps > 0 {
        parts.push(format!(
            "{} sequenceNumber gap(s) ({} message(s) missing)",
            c.sequence_gaps, c.messages_missing
        ));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use std::time::{Duration, UNIX_EPOCH};

    use twilio_media_stream::context::CallContext;

    use super::*;
    use crate::call::AudioSource;
    use crate::ids::{ItemId, Mark};

    /// A socket fed from a list of frames that records what the leg writes.
    #[derive(Debug, Default)]
    struct Script {
        frames: VecDeque<Frame>,
        written: Vec<String>,
        close_frame: Option<(u16, String)>,
        closed: bool,
    }

    impl Stream for Script {
        type Item = Result<Frame, Infallible>;

        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            Poll::Ready(self.frames.pop_front().map(Ok))
        }
    }

    impl Sink<Outgoing> for Script {
        type Error = Infallible;

        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn start_send(mut self: Pin<&mut Self>, frame: Outgoing) -> Result<(), Infallible> {
            assert!(
                self.close_frame.is_none(),
                "{frame:?} written after a close frame"
            );
            match frame {
                Outgoing::Text(text) => self.written.push(text),
                Outgoing::Close { code, reason } => self.close_frame = Some((code, reason)),
                other => panic!("the leg writes no {other:?}"),
            }
            Ok(())
        }

        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
            Poll::Ready(Ok(()))
        }

        fn poll_close(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Result<(), Infallible>> {
            self.closed = true;
            Poll::Ready(Ok(()))
        }
    }

    const SID: &str = "MZ00000000000000000000000000000001";

    fn text(json: impl Into<String>) -> Frame {
        Frame::Text(json.into())
    }

    fn connected() -> Frame {
        text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#)
    }

    fn start_with(seq: u64, params: &BTreeMap<String, String>) -> Frame {
        let params = serde_json::to_string(params).unwrap();
        text(format!(
            r#"{{"event":"start","sequenceNumber":"{seq}","streamSid":"{SID}","start":{{"accountSid":"AC1",
            "streamSid":"{SID}","callSid":"CA1","tracks":["inbound"],"customParameters":{params},
            "mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}}}}"#
        ))
    }

    fn start() -> Frame {
        start_with(1, &BTreeMap::from([("who".to_owned(), "jane".to_owned())]))
    }

    fn media(seq: u64, sid: &str, payload: &str) -> Frame {
        text(format!(
            r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"{sid}",
            "media":{{"track":"inbound","chunk":"1","timestamp":"0","payload":"{payload}"}}}}"#
        ))
    }

    fn mark(seq: u64, name: &str) -> Frame {
        text(format!(
            r#"{{"event":"mark","sequenceNumber":"{seq}","streamSid":"{SID}","mark":{{"name":"{name}"}}}}"#
        ))
    }

    fn stop(seq: u64) -> Frame {
        text(format!(
            r#"{{"event":"stop","sequenceNumber":"{seq}","streamSid":"{SID}","stop":{{"accountSid":"AC1","callSid":"CA1"}}}}"#
        ))
    }

    fn leg(frames: impl IntoIterator<Item = Frame>) -> TwilioLeg<Script> {
        TwilioLeg::new(Script {
            frames: frames.into_iter().collect(),
            ..Script::default()
        })
    }

    async fn events(leg: &mut TwilioLeg<Script>) -> Vec<CallEvent> {
        let mut out = Vec::new();
        loop {
            let event = leg.recv().await.unwrap();
            let last = matches!(event, CallEvent::Ended(_));
            out.push(event);
            if last {
                return out;
            }
        }
    }

    #[tokio::test]
    async fn a_call_maps_to_events_and_bad_input_is_skipped_and_counted() {
        let mut leg = leg([
            connected(),
            media(1, SID, "////"), // before start: a rule violation
            start(),
            text("{not json"),
            media(2, SID, "//8="),
            media(3, "MZ_other", "//8="),
            media(4, SID, "not base64!"),
            Frame::Binary { len: 3 },
            text(
                r#"{"event":"transcript","sequenceNumber":"5","streamSid":"MZ00000000000000000000000000000001"}"#,
            ),
            text(format!(
                r#"{{"event":"dtmf","sequenceNumber":"6","streamSid":"{SID}","dtmf":{{"track":"inbound_track","digit":"7"}}}}"#
            )),
            media(9, SID, "/w=="), // three messages lost
            stop(10),
        ]);
        let stats = leg.stats();
        let events = events(&mut leg).await;
        let CallEvent::Started(start) = &events[0] else {
            panic!("{events:?}")
        };
        assert_eq!(start.call_id.as_str(), "CA1");
        assert_eq!(start.stream_id.as_str(), SID);
        assert_eq!(start.format, AudioFormat::MuLaw);
        assert_eq!(start.parameters["who"], "jane");
        assert_eq!(start.capabilities, leg.capabilities());
        assert!(start.capabilities.continue_call);
        let CallEvent::Audio(chunk) = &events[1] else {
            panic!("{events:?}")
        };
        assert_eq!((chunk.byte_len(), chunk.to_base64().as_ref()), (2, "//8="));
        assert_eq!(events[2], CallEvent::Dtmf(DtmfDigit::new('7')));
        assert!(matches!(&events[3], CallEvent::Audio(c) if c.byte_len() == 1));
        assert_eq!(events[4], CallEvent::Ended(LegEnd::Finished));
        assert_eq!(events.len(), 5);

        let c = stats.counters();
        assert_eq!(c.decode_errors, 1, "{c:?}");
        assert_eq!(
            c.rule_violations, 2,
            "media before start, foreign stream: {c:?}"
        );
        assert_eq!(c.bad_payloads, 1, "{c:?}");
        assert_eq!(c.skipped, 2, "binary frame, unknown event: {c:?}");
        // The foreign message is not counted, so 3 looks missing before 4, and 7, 8 before 9.
        assert_eq!((c.sequence_gaps, c.messages_missing), (2, 3), "{c:?}");
        assert_eq!(c.media_frames, 2);
        assert!(leg.recv().await.is_err(), "nothing after the end");
    }

    #[tokio::test]
    async fn the_call_ids_are_known_once_start_has_been_read() {
        let mut leg = leg([connected(), start()]);
        assert_eq!(leg.call_ids(), None);
        leg.wait_start().await.unwrap();
        let (call_id, stream_id) = leg.call_ids().expect("ids after start");
        assert_eq!((call_id.as_str(), stream_id.as_str()), ("CA1", SID));
    }

    #[tokio::test]
    async fn commands_carry_the_stream_id_and_marks_are_booked() {
        let mut leg = leg([connected(), start()]);
        // Nothing is written before `start`.
        leg.send(CallCommand::Clear).await.unwrap();
        assert!(leg.socket.written.is_empty());
        assert!(matches!(leg.recv().await.unwrap(), CallEvent::Started(_)));

        let chunk = AudioChunk::from_base64(AudioFormat::MuLaw, "//8=".into()).unwrap();
        let source = AudioSource::Agent {
            item_id: ItemId::new("item_1"),
            content_index: 0,
        };
        leg.send(CallCommand::Play { chunk, source }).await.unwrap();
        leg.send(CallCommand::Mark(Mark::new(1))).await.unwrap();
        leg.send(CallCommand::Mark(Mark::new(2))).await.unwrap();
        leg.send(CallCommand::Clear).await.unwrap();
        let written: Vec<StreamCommand> = leg
            .socket
            .written
            .iter()
            .map(|t| StreamCommand::decode(t).unwrap())
            .collect();
        assert_eq!(
            written,
            [
                StreamCommand::media(SID.into(), Payload::from_base64("//8=")),
                StreamCommand::mark(SID.into(), "vb-1"),
                StreamCommand::mark(SID.into(), "vb-2"),
                StreamCommand::clear(SID.into()),
            ]
        );
        // Both marks come back (cleared); an unknown one is a skipped rule violation.
        leg.socket
            .frames
            .extend([mark(2, "vb-1"), mark(3, "nope"), mark(4, "vb-2")]);
        assert_eq!(
            leg.recv().await.unwrap(),
            CallEvent::MarkPlayed("vb-1".into())
        );
        assert_eq!(
            leg.recv().await.unwrap(),
            CallEvent::MarkPlayed("vb-2".into())
        );
        assert_eq!(leg.stats().counters().rule_violations, 1);

        leg.send(CallCommand::HangUp).await.unwrap();
        assert!(leg.socket.closed);
    }

    #[tokio::test]
    async fn a_close_without_stop_is_a_closed_end() {
        let mut leg = leg([
            connected(),
            start(),
            Frame::Close {
                code: Some(1011),
                reason: "boom".into(),
            },
        ]);
        let ended = events(&mut leg).await;
        assert_eq!(
            ended.last(),
            Some(&CallEvent::Ended(LegEnd::Closed {
                code: Some(1011),
                reason: "boom".into()
            }))
        );
        let mut leg = leg_without_end();
        let ended = events(&mut leg).await;
        assert!(matches!(
            ended.last(),
            Some(CallEvent::Ended(LegEnd::Closed { code: None, .. }))
        ));
    }

    fn leg_without_end() -> TwilioLeg<Script> {
        leg([connected(), start()])
    }

    fn secret() -> SigningSecret {
        SigningSecret::new(*b"an example secret of >= 32 bytes").unwrap()
    }

    #[tokio::test]
    async fn a_signed_context_is_verified_at_start() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        let signed = CallContext::new()
            .field("appointment_id", "apt_42")
            .sign(&secret(), t0, Duration::from_secs(600))
            .unwrap()
            .into_map();

        // Valid: the parameters are the verified fields.
        let mut ok = leg([connected(), start_with(1, &signed)])
            .verify_context_with_clock(secret(), move || t0 + Duration::from_secs(5));
        let start = ok.wait_start().await.unwrap();
        assert_eq!(
            start.parameters,
            BTreeMap::from([("appointment_id".to_owned(), "apt_42".to_owned())])
        );
        // `recv` still delivers the start.
        assert_eq!(ok.recv().await.unwrap(), CallEvent::Started(start));

        // Expired, forged and missing contexts end the leg with the reason.
        let mut forged = signed.clone();
        forged.insert("appointment_id".into(), "apt_43".into());
        for (params, reason) in [
            (signed.clone(), "expired"),
            (forged, "does not match"),
            (BTreeMap::new(), "no signature"),
        ] {
            let mut leg = leg([connected(), start_with(1, &params), stop(2)])
                .verify_context_with_clock(secret(), move || t0 + Duration::from_secs(601));
            let Err(LegEnd::Failed { message }) = leg.wait_start().await else {
                panic!("{reason}: the context was accepted")
            };
            assert!(message.starts_with("call context refused: "), "{message}");
            assert!(message.contains(reason), "{message}");
            assert!(leg.socket.closed, "{reason}: the socket stays open");
            // A refusal, not a normal end: 1008 with the reason the leg ended with.
            assert_eq!(
                leg.socket.close_frame,
                Some((1008, close_reason(&message).to_owned()))
            );
            assert_eq!(leg.call_sid().map(|s| s.as_str()), Some("CA1"));
            assert_eq!(leg.stream_sid().map(|s| s.as_str()), Some(SID));
            assert!(leg.recv().await.is_err(), "nothing after the refusal");
        }
    }

    #[test]
    fn close_reasons_are_cut_on_a_char_boundary() {
        let ascii = "x".repeat(200);
        assert_eq!(close_reason(&ascii).len(), MAX_CLOSE_REASON_LEN);
        // 'é' is 2 bytes, '€' 3, '😀' 4: none may be split at byte 123.
        for ch in ['é', '€', '😀'] {
            let text = format!("a{}", ch.to_string().repeat(100));
            let cut = close_reason(&text);
            assert!(cut.len() <= MAX_CLOSE_REASON_LEN, "{ch}: {}", cut.len());
            assert!(
                cut.len() > MAX_CLOSE_REASON_LEN - ch.len_utf8(),
                "{ch}: {}",
                cut.len()
            );
            assert!(text.starts_with(cut));
        }
        let exact = "y".repeat(MAX_CLOSE_REASON_LEN);
        assert_eq!(close_reason(&exact), exact);
        assert_eq!(close_reason(""), "");
    }

    #[tokio::test]
    async fn refuse_closes_with_1008_and_a_cut_reason_and_ends_the_leg() {
        let mut leg = leg([connected(), start(), media(2, SID, "//8=")]);
        let start = leg.wait_start().await.unwrap();
        assert_eq!(start.parameters["who"], "jane");
        let reason = format!("forbidden: {}", "ü".repeat(80));
        leg.refuse(&reason).await;
        let (code, sent) = leg.socket.close_frame.clone().expect("a close frame");
        assert_eq!(code, 1008);
        assert!(
            sent.len() <= MAX_CLOSE_REASON_LEN && reason.starts_with(&sent),
            "{sent}"
        );
        assert!(leg.socket.closed);
        assert!(
            leg.recv().await.is_err(),
            "the pending start is not delivered"
        );
        // A second refusal writes nothing more (the script asserts no frame after close).
        leg.refuse("again").await;
    }

    #[tokio::test]
    async fn a_protocol_violation_closes_with_1002() {
        // A stream that does not open with `connected` cannot go on.
        let mut leg = leg([start(), stop(2)]);
        let events = events(&mut leg).await;
        let [CallEvent::Ended(LegEnd::Failed { message })] = events.as_slice() else {
            panic!("{events:?}")
        };
        assert!(
            message.starts_with("twilio protocol violation"),
            "{message}"
        );
        assert_eq!(
            leg.socket.close_frame,
            Some((1002, close_reason(message).to_owned()))
        );
    }

    #[tokio::test]
    async fn a_stream_in_another_format_is_refused() {
        let other = text(format!(
            r#"{{"event":"start","sequenceNumber":"1","streamSid":"{SID}","start":{{"accountSid":"AC1",
            "streamSid":"{SID}","callSid":"CA1","tracks":["inbound"],
            "mediaFormat":{{"encoding":"audio/l16","sampleRate":16000,"channels":1}}}}}}"#
        ));
        let mut leg = leg([connected(), other]);
        let Err(LegEnd::Failed { message }) = leg.wait_start().await else {
            panic!("accepted")
        };
        assert!(message.contains("audio/l16/16000"), "{message}");
        assert_eq!(leg.socket.close_frame.as_ref().map(|c| c.0), Some(1003));
    }

    #[tokio::test]
    async fn hand_over_continue_closes_the_socket_and_markup_needs_rest() {
        let mut leg = leg([connected(), start()]);
        leg.wait_start().await.unwrap();
        if !leg.capabilities().markup {
            let err = leg
                .send(CallCommand::HandOver(HandOver::Markup(
                    "<Response/>".into(),
                )))
                .await
                .unwrap_err();
            assert!(err.to_string().contains("REST"), "{err}");
        }
        leg.send(CallCommand::HandOver(HandOver::Continue))
            .await
            .unwrap();
        assert!(leg.socket.closed);
    }
}
