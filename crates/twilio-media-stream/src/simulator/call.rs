//! The call loop: one task, one socket, a 20 ms clock.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::audio::CallerAudio;
use super::playout::Playout;
use super::record::{CallEnd, CallIssue, CallRecord, ClearRecord, CloseInfo, MarkRecord};
use super::{CallScript, SimulatorError};
use crate::command::StreamCommand;
use crate::event::{Connected, Dtmf, Mark, Media, Start, Stop, StreamEvent};
use crate::ids::MarkName;
use crate::payload::{MULAW_BYTES_PER_MS, Payload};
use crate::signature::{self, SIGNATURE_HEADER};

/// One caller frame: 20 ms.
const FRAME: Duration = Duration::from_millis(20);
/// Bytes of mu-law in one frame.
const FRAME_BYTES: usize = 160;
/// How long to wait for the server's close frame after ours.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub(super) async fn run(script: CallScript) -> Result<CallRecord, SimulatorError> {
    let socket = connect(&script).await?;
    let call = Call::new(script);
    Ok(call.run(socket).await)
}

/// Opens the WebSocket, signing the upgrade when the script has an auth token.
async fn connect(script: &CallScript) -> Result<Socket, SimulatorError> {
    let url = &script.url;
    let mut request =
        url.as_str()
            .into_client_request()
            .map_err(|e| SimulatorError::InvalidUrl {
                url: url.clone(),
                source: e.into(),
            })?;
    if let Some(token) = &script.auth_token {
        let signed_url = script.signature_url.as_deref().unwrap_or(url);
        let header = upgrade_signature(token, signed_url);
        let value = HeaderValue::from_str(&header).map_err(|e| SimulatorError::InvalidUrl {
            url: url.clone(),
            source: e.into(),
        })?;
        request.headers_mut().insert(SIGNATURE_HEADER, value);
    }
    match tokio_tungstenite::connect_async_with_config(request, None, true).await {
        Ok((socket, _response)) => Ok(socket),
        Err(tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body = response
                .body()
                .as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            tracing::warn!(%url, status, %body, "simulator: upgrade refused");
            Err(SimulatorError::Rejected { status, body })
        }
        Err(tungstenite::Error::Url(e)) => Err(SimulatorError::InvalidUrl {
            url: url.clone(),
            source: e.into(),
        }),
        Err(e) => {
            tracing::warn!(%url, error = %e, "simulator: cannot connect");
            Err(SimulatorError::Connect {
                url: url.clone(),
                source: cause(e),
            })
        }
    }
}

/// A tungstenite error as a cause that says its text once. Tungstenite's `IO error: {0}`
/// (and TLS, capacity, protocol, HTTP format) prints its inner error and returns it from
/// `source()` too, so a chain walked by `source()` would repeat it: the inner error is
/// the cause instead.
fn cause(error: tungstenite::Error) -> super::BoxError {
    match error {
        tungstenite::Error::Io(e) => e.into(),
        tungstenite::Error::Tls(e) => e.into(),
        tungstenite::Error::Capacity(e) => e.into(),
        tungstenite::Error::Protocol(e) => e.into(),
        tungstenite::Error::Url(e) => e.into(),
        tungstenite::Error::HttpFormat(e) => e.into(),
        other => other.into(),
    }
}

/// `X-Twilio-Signature` of a media-stream upgrade: a GET, so the URL alone is signed.
fn upgrade_signature(token: &signature::AuthToken, url: &str) -> String {
    signature::sign(token, url, [] as [(&str, &str); 0])
}

/// What the loop does next.
enum Step {
    Continue,
    End(CallEnd),
}

struct Call {
    script: CallScript,
    record: CallRecord,
    playout: Playout,
    playout_limit: usize,
    sequence: u64,
    frames_sent: u64,
    next_dtmf: usize,
    t0: Instant,
    /// A caller frame held back to go out after the next one (`out_of_order_media`).
    held_media: Option<StreamEvent>,
}

impl Call {
    fn new(script: CallScript) -> Self {
        let playout_limit = usize::try_from(script.playout_limit.as_millis())
            .unwrap_or(usize::MAX)
            .saturating_mul(MULAW_BYTES_PER_MS);
        let record = CallRecord {
            stream_sid: script.stream_sid.clone(),
            call_sid: script.call_sid.clone(),
            account_sid: script.account_sid.clone(),
            heard: Vec::new(),
            marks: Vec::new(),
            clears: Vec::new(),
            media_frames_sent: 0,
            dtmf_sent: Vec::new(),
            media_received: 0,
            first_media_received: None,
            first_audio_played: None,
            duration: Duration::ZERO,
            end: CallEnd::ConnectionLost,
            close: None,
            issues: Vec::new(),
        };
        Self {
            script,
            record,
            playout: Playout::default(),
            playout_limit,
            sequence: 0,
            frames_sent: 0,
            next_dtmf: 0,
            t0: Instant::now(),
            held_media: None,
        }
    }

    fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    fn next_sequence(&mut self) -> u64 {
        self.sequence += 1;
        self.sequence
    }

    async fn run(mut self, mut socket: Socket) -> CallRecord {
        self.t0 = Instant::now();
        tracing::info!(
            stream_sid = %self.script.stream_sid,
            call_sid = %self.script.call_sid,
            url = %self.script.url,
            "simulator: call connected"
        );
        let end = match self.converse(&mut socket).await {
            Ok(end) => end,
            Err(error) => {
                self.issue(CallIssue::Socket {
                    at: self.now(),
                    error: error.to_string(),
                });
                CallEnd::ConnectionLost
            }
        };
        match end {
            CallEnd::HungUp | CallEnd::MaxDuration => self.hang_up(&mut socket).await,
            // Let tungstenite send its reply to the server's close frame.
            CallEnd::ServerClosed => {
                let drain = async { while socket.next().await.is_some() {} };
                let _ = tokio::time::timeout(CLOSE_WAIT, drain).await;
            }
            CallEnd::ConnectionLost => {}
        }
        if self.held_media.take().is_some() {
            // Held back for `out_of_order_media`, and never sent: the server ended first.
            self.frames_sent -= 1;
        }
        self.record.end = end;
        self.record.duration = self.now();
        self.record.media_frames_sent = self.frames_sent;
        tracing::info!(
            stream_sid = %self.script.stream_sid,
            call_sid = %self.script.call_sid,
            end = ?end,
            close = ?self.record.close,
            heard_ms = self.record.heard_ms(),
            issues = self.record.issues.len(),
            "simulator: call ended"
        );
        self.record
    }

    /// `connected`, `start`, then the 20 ms loop until the call ends.
    async fn converse(&mut self, socket: &mut Socket) -> Result<CallEnd, tungstenite::Error> {
        send(socket, &Connected::new().into()).await?;
        let mut start = Start::new(
            self.next_sequence(),
            self.script.stream_sid.clone(),
            self.script.account_sid.clone(),
            self.script.call_sid.clone(),
        );
        start.start.custom_parameters = self.script.custom_parameters.clone();
        send(socket, &start.into()).await?;

        let mut ticker = tokio::time::interval_at(self.t0, FRAME);
        // Never faster than real time: after a stall (a loaded machine), the next frame
        // comes one period later instead of a burst of catch-up frames, so a mark is never
        // echoed before its audio could have played.
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let reading = self
                .script
                .stop_reading_after
                .is_none_or(|after| self.now() < after);
            let step = tokio::select! {
                biased;
                message = socket.next(), if reading => match message {
                    Some(Ok(message)) => self.on_message(socket, message).await?,
                    Some(Err(error)) => return Err(error),
                    None => {
                        self.issue(CallIssue::Socket {
                            at: self.now(),
                            error: "socket ended without a close frame".to_owned(),
                        });
                        Step::End(CallEnd::ConnectionLost)
                    }
                },
                _ = ticker.tick() => self.on_frame(socket).await?,
            };
            if let Step::End(end) = step {
                return Ok(end);
            }
        }
    }

    /// One 20 ms frame: hang-up check, DTMF, caller audio, playback.
    async fn on_frame(&mut self, socket: &mut Socket) -> Result<Step, tungstenite::Error> {
        let now = self.now();
        if self.script.hang_up_after.is_some_and(|at| now >= at) {
            return Ok(Step::End(CallEnd::HungUp));
        }
        if now >= self.script.max_duration {
            return Ok(Step::End(CallEnd::MaxDuration));
        }
        // Marks whose audio finished during the last frame.
        for name in self.playout.take_due() {
            self.echo_mark(socket, name, now, false).await?;
        }
        while let Some((at, digit)) = self.script.dtmf.get(self.next_dtmf).cloned() {
            if at > now {
                break;
            }
            self.next_dtmf += 1;
            let sequence = self.next_sequence();
            let dtmf = Dtmf::new(sequence, self.script.stream_sid.clone(), digit.clone());
            send(socket, &dtmf.into()).await?;
            self.record.dtmf_sent.push((now, digit));
        }
        let mut frame = [0u8; FRAME_BYTES];
        let index = self.frames_sent;
        CallerAudio::fill(
            &self.script.caller_audio,
            index * FRAME_BYTES as u64,
            &mut frame,
        );
        let sequence = self.next_sequence();
        let media = Media::new(
            sequence,
            self.script.stream_sid.clone(),
            index + 1,
            index * FRAME.as_millis() as u64,
            Payload::from_mulaw(&frame),
        );
        let media = StreamEvent::from(media);
        if self.script.out_of_order_media {
            // Every other frame waits for the next one, and goes out after it.
            match self.held_media.take() {
                Some(held) => {
                    send(socket, &media).await?;
                    send(socket, &held).await?;
                }
                None => self.held_media = Some(media),
            }
        } else {
            send(socket, &media).await?;
        }
        self.frames_sent += 1;

        let played = self.playout.play(FRAME_BYTES, &mut self.record.heard);
        if played > 0 && self.record.first_audio_played.is_none() {
            self.record.first_audio_played = Some(now);
        }
        Ok(Step::Continue)
    }

    async fn on_message(
        &mut self,
        socket: &mut Socket,
        message: Message,
    ) -> Result<Step, tungstenite::Error> {
        let now = self.now();
        let text = match message {
            Message::Text(text) => text,
            Message::Binary(bytes) => {
                self.issue(CallIssue::BinaryFrame {
                    at: now,
                    len: bytes.len(),
                });
                return Ok(Step::Continue);
            }
            Message::Close(frame) => {
                self.record.close = frame.map(close_info);
                return Ok(Step::End(CallEnd::ServerClosed));
            }
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {
                return Ok(Step::Continue);
            }
        };
        let command = match StreamCommand::decode(text.as_str()) {
            Ok(command) => command,
            Err(error) => {
                self.issue(CallIssue::InvalidFrame {
                    at: now,
                    error: error.to_string(),
                });
                return Ok(Step::Continue);
            }
        };
        if command.stream_sid() != &self.script.stream_sid {
            self.issue(CallIssue::ForeignStreamSid {
                at: now,
                found: command.stream_sid().clone(),
            });
            return Ok(Step::Continue);
        }
        match command {
            StreamCommand::Media(media) => self.on_media(&media.media.payload, now),
            StreamCommand::Mark(mark) => {
                self.record.marks.push(MarkRecord {
                    name: mark.mark.name.clone(),
                    received_at: now,
                    echoed_at: None,
                    heard_bytes_at_echo: None,
                    cleared: false,
                });
                if let Some(name) = self.playout.push_mark(mark.mark.name) {
                    self.echo_mark(socket, name, now, false).await?;
                }
            }
            StreamCommand::Clear(_) => {
                let (dropped_bytes, marks) = self.playout.clear();
                self.record.clears.push(ClearRecord {
                    at: now,
                    dropped_bytes,
                    marks_echoed: marks.len(),
                });
                for name in marks {
                    self.echo_mark(socket, name, now, true).await?;
                }
            }
        }
        Ok(Step::Continue)
    }

    fn on_media(&mut self, payload: &Payload, now: Duration) {
        let bytes = match payload.decode() {
            Ok(bytes) => bytes,
            Err(error) => {
                self.issue(CallIssue::InvalidPayload { at: now, error });
                return;
            }
        };
        self.record.media_received += 1;
        self.record.first_media_received.get_or_insert(now);
        let len = bytes.len();
        if !self.playout.push_audio(bytes, self.playout_limit) {
            self.issue(CallIssue::PlayoutOverflow {
                at: now,
                dropped_bytes: len,
            });
        }
    }

    /// Sends the echo of a mark and completes its record (the oldest unechoed one of that
    /// name).
    async fn echo_mark(
        &mut self,
        socket: &mut Socket,
        name: MarkName,
        now: Duration,
        cleared: bool,
    ) -> Result<(), tungstenite::Error> {
        let sequence = self.next_sequence();
        let echo = Mark::new(sequence, self.script.stream_sid.clone(), name.clone());
        send(socket, &echo.into()).await?;
        let heard = self.record.heard.len();
        // Echoes come in arrival order, so the echo is for the oldest unechoed mark of
        // that name.
        if let Some(record) = self
            .record
            .marks
            .iter_mut()
            .find(|m| m.name == name && m.echoed_at.is_none())
        {
            record.echoed_at = Some(now);
            record.heard_bytes_at_echo = Some(heard);
            record.cleared = cleared;
        }
        Ok(())
    }

    /// `stop`, our close frame, then the server's close frame (for a short while).
    async fn hang_up(&mut self, socket: &mut Socket) {
        if let Some(held) = self.held_media.take()
            && let Err(error) = send(socket, &held).await
        {
            self.issue(CallIssue::Socket {
                at: self.now(),
                error: error.to_string(),
            });
            return;
        }
        let stop = Stop::new(
            self.next_sequence(),
            self.script.stream_sid.clone(),
            self.script.account_sid.clone(),
            self.script.call_sid.clone(),
        );
        let sent = async {
            send(socket, &stop.into()).await?;
            socket
                .close(Some(CloseFrame {
                    code: CloseCode::Normal,
                    reason: "call ended".into(),
                }))
                .await
        }
        .await;
        if let Err(error) = sent {
            self.issue(CallIssue::Socket {
                at: self.now(),
                error: error.to_string(),
            });
            return;
        }
        let drain = async {
            while let Some(message) = socket.next().await {
                match message {
                    Ok(Message::Close(frame)) => return frame.map(close_info),
                    Ok(_) => {}
                    Err(_) => return None,
                }
            }
            None
        };
        if let Ok(close) = tokio::time::timeout(CLOSE_WAIT, drain).await {
            self.record.close = close;
        }
    }

    fn issue(&mut self, issue: CallIssue) {
        tracing::warn!(
            stream_sid = %self.script.stream_sid,
            call_sid = %self.script.call_sid,
            ?issue,
            "simulator: server sent something Twilio would drop, or the socket failed"
        );
        self.record.issues.push(issue);
    }
}

async fn send(socket: &mut Socket, event: &StreamEvent) -> Result<(), tungstenite::Error> {
    socket.send(Message::text(event.encode())).await
}

fn close_info(frame: CloseFrame) -> CloseInfo {
    CloseInfo {
        code: u16::from(frame.code),
        reason: frame.reason.as_str().to_owned(),
    }
}
