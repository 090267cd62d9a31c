//! The closing handshake of a Twilio leg's socket (RFC 6455 section 7.1.1), resumable.
//!
//! A close is three steps: our close frame (none when the peer closed first: the socket
//! answers the peer's frame itself, and closing the sink sends that answer), closing the
//! sink, then reading on for the peer's close reply. Each step is bounded; the state lives
//! in [`CloseProgress`], so a `recv` dropped halfway (the bridge polls it in a `select!`)
//! resumes where it was, within the same deadlines, instead of starting over.

use std::error::Error as StdError;
use std::time::Duration;

use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
use tokio::time::{Instant, timeout_at};

use super::{Frame, Outgoing, close_reason};

type BoxError = Box<dyn StdError + Send + Sync>;

/// How long writing the close frame and closing the sink may take together.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// How long the leg reads after its close frame for the peer's close reply. Dropping the
/// socket with the caller's unread media in its receive buffer would make the kernel reset
/// the connection, and the peer could then see a lost connection instead of the close.
/// Short, so a hang-up after a REST wait stays within the bridge's one-second bound.
const CLOSE_REPLY_WAIT: Duration = Duration::from_millis(200);

/// Where a close is.
#[derive(Debug)]
pub(super) struct CloseProgress {
    /// The close frame still to write (`None` once written, for the socket's own normal
    /// close, or when answering the peer's close).
    frame: Option<Outgoing>,
    sink_closed: bool,
    /// Whether to read on for the peer's reply (not when the peer closed first or the
    /// socket failed).
    wait_reply: bool,
    close_by: Option<Instant>,
    reply_by: Option<Instant>,
    done: bool,
}

impl CloseProgress {
    /// A close with this frame, then the peer's reply.
    pub(super) fn with_frame(code: u16, reason: &str) -> Self {
        Self::new(
            Some(Outgoing::Close {
                code,
                reason: close_reason(reason).to_owned(),
            }),
            true,
        )
    }

    /// The socket's own close (1000 for tokio-tungstenite), then the peer's reply.
    pub(super) fn normal() -> Self {
        Self::new(None, true)
    }

    /// The answer to the peer's close frame: closing the sink sends it; nothing to await.
    pub(super) fn answer() -> Self {
        Self::new(None, false)
    }

    /// A close frame after a failed read: no reply can be read.
    pub(super) fn after_failure(code: u16, reason: &str) -> Self {
        let mut close = Self::with_frame(code, reason);
        close.wait_reply = false;
        close
    }

    fn new(frame: Option<Outgoing>, wait_reply: bool) -> Self {
        Self {
            frame,
            sink_closed: false,
            wait_reply,
            close_by: None,
            reply_by: None,
            done: false,
        }
    }

    /// Carries the close on to its end (or its deadlines). Cancel safe: dropped halfway, a
    /// later call goes on from there. Failures are logged (debug), not returned: the
    /// socket is gone either way.
    pub(super) async fn drive<S, E>(&mut self, socket: &mut S, stream_sid: &str)
    where
        S: Stream<Item = Result<Frame, E>> + Sink<Outgoing> + Unpin,
        <S as Sink<Outgoing>>::Error: Into<BoxError>,
    {
        if self.done {
            return;
        }
        let close_by = *self
            .close_by
            .get_or_insert_with(|| Instant::now() + CLOSE_WAIT);
        if let Some(frame) = self.frame.clone() {
            // `feed` hands the frame over in one poll once the sink is ready; only then is
            // it forgotten here.
            match timeout_at(close_by, socket.feed(frame)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    let error: BoxError = error.into();
                    tracing::debug!(%error, stream_sid, "twilio: writing the close frame failed");
                }
                Err(_) => tracing::debug!(stream_sid, "twilio: writing the close frame timed out"),
            }
            self.frame = None;
        }
        if !self.sink_closed {
            let closed = timeout_at(close_by, socket.close()).await;
            self.sink_closed = true;
            match closed {
                Ok(Ok(())) => tracing::debug!(stream_sid, "twilio: socket closed"),
                Ok(Err(error)) => {
                    let error: BoxError = error.into();
                    tracing::debug!(%error, stream_sid, "twilio: closing the socket failed");
                    self.wait_reply = false;
                }
                Err(_) => {
                    tracing::debug!(stream_sid, "twilio: closing the socket timed out");
                    self.wait_reply = false;
                }
            }
        }
        if self.wait_reply {
            // Read what the peer sent before its close reply (media the leg no longer
            // needs), so the connection ends with a close, not a reset.
            let reply_by = *self
                .reply_by
                .get_or_insert_with(|| Instant::now() + CLOSE_REPLY_WAIT);
            let reply = async {
                while let Some(Ok(frame)) = socket.next().await {
                    if matches!(frame, Frame::Close { .. }) {
                        return true;
                    }
                }
                false
            };
            match timeout_at(reply_by, reply).await {
                Ok(replied) => {
                    tracing::debug!(replied, stream_sid, "twilio: closing handshake done")
                }
                Err(_) => tracing::debug!(
                    ?CLOSE_REPLY_WAIT,
                    stream_sid,
                    "twilio: no close reply in time"
                ),
            }
        }
        self.done = true;
    }
}
