//! The bridge's two legs for one call: `voice-bridge`'s Twilio adapter over the accepted
//! socket, and its OpenAI adapter over the Realtime client.

use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::{Sink, SinkExt as _, Stream, StreamExt as _};
use openai_realtime::RealtimeSession;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use twilio_media_stream::rest;
use voice_bridge::adapter::openai::OpenAiLeg;
use voice_bridge::adapter::twilio::{Frame, TwilioLeg};

use crate::upgrade::MediaSocket;

/// The call leg over an accepted media stream whose first `frames` (`connected`,
/// `start`) were already read to verify the call's context; the leg reads them again
/// first. With a REST client the leg hangs up through Twilio's API, so the TwiML's
/// spoken fallback after `</Connect>` is only heard when the agent fails.
pub fn call_leg(
    socket: MediaSocket,
    frames: Vec<String>,
    rest: Option<rest::Client>,
) -> TwilioLeg<Replay> {
    let leg = TwilioLeg::new(Replay {
        replay: frames.into_iter().map(Frame::Text).collect(),
        socket,
        close_sent: false,
    });
    match rest {
        Some(client) => leg.with_rest(client),
        None => leg,
    }
}

/// The media-stream socket as the Twilio leg reads it ([`Frame`]s in, text out), first
/// replaying the frames already read. Closing it sends a normal close (1000), after which
/// Twilio goes on with the TwiML after `</Connect>`.
#[derive(Debug)]
pub struct Replay {
    replay: VecDeque<Frame>,
    socket: MediaSocket,
    close_sent: bool,
}

impl Stream for Replay {
    type Item = Result<Frame, tungstenite::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(frame) = self.replay.pop_front() {
            return Poll::Ready(Some(Ok(frame)));
        }
        let message = match ready!(self.socket.poll_next_unpin(cx)) {
            None => return Poll::Ready(None),
            Some(Err(error)) => return Poll::Ready(Some(Err(error))),
            Some(Ok(message)) => message,
        };
        Poll::Ready(Some(Ok(match message {
            Message::Text(text) => Frame::Text(text.as_str().to_owned()),
            Message::Binary(bytes) => Frame::Binary { len: bytes.len() },
            Message::Close(close) => Frame::Close {
                code: close.as_ref().map(|c| u16::from(c.code)),
                reason: close
                    .map(|c| c.reason.as_str().to_owned())
                    .unwrap_or_default(),
            },
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => Frame::Control,
        })))
    }
}

impl Sink<String> for Replay {
    type Error = tungstenite::Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.socket.poll_ready_unpin(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, text: String) -> Result<(), Self::Error> {
        self.socket.start_send_unpin(Message::text(text))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.socket.poll_flush_unpin(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if !self.close_sent {
            ready!(self.socket.poll_ready_unpin(cx))?;
            let frame = CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            };
            self.socket.start_send_unpin(Message::Close(Some(frame)))?;
            self.close_sent = true;
        }
        self.socket.poll_close_unpin(cx)
    }
}

/// The agent leg: a Realtime session configured for the appointment, speaking first (an
/// outbound call's greeting). It connects when the bridge first asks it for an event; a
/// refused connection becomes the leg's end, and the caller gets the fallback.
pub fn agent_leg(config: openai_realtime::client::Config, session: RealtimeSession) -> OpenAiLeg {
    OpenAiLeg::builder(config)
        .session(session)
        .speak_first(true)
        .build()
}
