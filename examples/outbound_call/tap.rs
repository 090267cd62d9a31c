//! Taps on the two legs: every event and command passes through unchanged, and what
//! matters to a person watching (words, tool calls, barge-ins) is reported as a [`Live`]
//! event as it happens. The call tap also feeds the [`Recorder`].
//!
//! The bridge has no observer hook of its own yet; wrapping the legs is the least
//! intrusive way to watch a call live (the report covers the same ground afterwards).

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use serde_json::Value;
use voice_bridge::{
    AgentCommand, AgentEvent, AgentLeg, CallCommand, CallEvent, CallLeg, LegEnd, LegError, Speaker,
};

use crate::recording::Recorder;

/// Something a person watching the call wants to see.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Live {
    /// The media stream started.
    CallStarted {
        /// Twilio's `callSid`.
        call_sid: String,
        /// Twilio's `streamSid`.
        stream_sid: String,
    },
    /// The agent's session is ready (formats confirmed).
    AgentReady,
    /// A complete utterance.
    Said {
        /// Who.
        speaker: Speaker,
        /// The words.
        text: String,
    },
    /// The agent called a tool.
    ToolCall {
        /// The tool.
        name: String,
        /// Its arguments.
        arguments: Value,
    },
    /// A tool's result went back to the agent.
    ToolResult {
        /// The output, JSON-encoded.
        output: String,
    },
    /// The caller spoke over the agent: the caller's playback was cleared.
    BargeIn,
    /// The agent's interrupted answer was cut at what the caller heard.
    Truncated {
        /// Milliseconds of that answer the caller heard.
        audio_end_ms: u32,
    },
    /// The agent reported an error.
    AgentError {
        /// Its code and message.
        message: String,
    },
    /// A leg ended.
    Ended {
        /// `call` or `agent`.
        leg: &'static str,
        /// How.
        end: LegEnd,
    },
    /// The bridge hung up or handed the call back to its TwiML.
    HangUp {
        /// `hang up` or `hand over`.
        how: &'static str,
    },
}

/// Receives [`Live`] events; shared by both taps of a call.
pub type Watcher = Arc<dyn Fn(&Live) + Send + Sync>;

/// A call leg with a watcher and an optional recorder.
pub struct TapCall<L> {
    inner: L,
    watcher: Option<Watcher>,
    recorder: Option<Arc<Mutex<Recorder>>>,
}

impl<L> TapCall<L> {
    /// Wraps `inner`.
    pub fn new(inner: L, watcher: Option<Watcher>, recorder: Option<Arc<Mutex<Recorder>>>) -> Self {
        Self {
            inner,
            watcher,
            recorder,
        }
    }

    fn emit(&self, live: Live) {
        if let Some(watcher) = &self.watcher {
            watcher(&live);
        }
    }

    fn record(&self, f: impl FnOnce(&mut Recorder)) {
        if let Some(recorder) = &self.recorder {
            f(&mut recorder.lock().unwrap_or_else(|e| e.into_inner()));
        }
    }
}

#[async_trait]
impl<L: CallLeg> CallLeg for TapCall<L> {
    async fn recv(&mut self) -> Result<CallEvent, LegError> {
        let event = self.inner.recv().await?;
        match &event {
            CallEvent::Started(start) => self.emit(Live::CallStarted {
                call_sid: start.call_id.to_string(),
                stream_sid: start.stream_id.to_string(),
            }),
            CallEvent::Audio(chunk) => self.record(|r| r.caller(chunk)),
            CallEvent::Ended(end) => self.emit(Live::Ended {
                leg: "call",
                end: end.clone(),
            }),
            _ => {}
        }
        Ok(event)
    }

    async fn send(&mut self, command: CallCommand) -> Result<(), LegError> {
        match &command {
            CallCommand::Play { chunk, .. } => self.record(|r| r.agent(chunk)),
            CallCommand::Clear => {
                self.record(Recorder::clear);
                self.emit(Live::BargeIn);
            }
            CallCommand::HangUp => self.emit(Live::HangUp { how: "hang up" }),
            CallCommand::HandOver(_) => self.emit(Live::HangUp { how: "hand over" }),
            _ => {}
        }
        self.inner.send(command).await
    }
}

/// An agent leg with a watcher.
pub struct TapAgent<L> {
    inner: L,
    watcher: Option<Watcher>,
}

impl<L> TapAgent<L> {
    /// Wraps `inner`.
    pub fn new(inner: L, watcher: Option<Watcher>) -> Self {
        Self { inner, watcher }
    }

    fn emit(&self, live: Live) {
        if let Some(watcher) = &self.watcher {
            watcher(&live);
        }
    }
}

#[async_trait]
impl<L: AgentLeg> AgentLeg for TapAgent<L> {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        let event = self.inner.recv().await?;
        match &event {
            AgentEvent::Ready(_) => self.emit(Live::AgentReady),
            AgentEvent::Transcript(t) if t.is_final => self.emit(Live::Said {
                speaker: t.speaker,
                text: t.text.clone(),
            }),
            AgentEvent::ToolCall(call) => self.emit(Live::ToolCall {
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            }),
            AgentEvent::Error(error) => self.emit(Live::AgentError {
                message: match &error.code {
                    Some(code) => format!("{code}: {}", error.message),
                    None => error.message.clone(),
                },
            }),
            AgentEvent::Ended(end) => self.emit(Live::Ended {
                leg: "agent",
                end: end.clone(),
            }),
            _ => {}
        }
        Ok(event)
    }

    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError> {
        match &command {
            AgentCommand::ToolResult { output, .. } => self.emit(Live::ToolResult {
                output: output.clone(),
            }),
            AgentCommand::Truncate { audio_end_ms, .. } => self.emit(Live::Truncated {
                audio_end_ms: *audio_end_ms,
            }),
            _ => {}
        }
        self.inner.send(command).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use voice_bridge::audio::{AudioChunk, AudioFormat};
    use voice_bridge::{AudioSource, CallStart, Transcript, memory};

    #[tokio::test]
    async fn taps_pass_everything_through_and_report_what_matters() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let watcher: Watcher = Arc::new(move |live: &Live| sink.lock().unwrap().push(live.clone()));

        let (call, phone) = memory::call_leg(8);
        let mut phone = phone;
        let recorder = Arc::new(Mutex::new(Recorder::new()));
        let mut call = TapCall::new(
            call,
            Some(Arc::clone(&watcher)),
            Some(Arc::clone(&recorder)),
        );
        phone
            .send(CallEvent::Started(CallStart::new(
                "CA1",
                "MZ1",
                AudioFormat::MuLaw,
            )))
            .await
            .unwrap();
        assert!(matches!(call.recv().await.unwrap(), CallEvent::Started(_)));
        let frame = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0x10; 160]).unwrap();
        phone.send(CallEvent::Audio(frame.clone())).await.unwrap();
        assert_eq!(call.recv().await.unwrap(), CallEvent::Audio(frame.clone()));
        call.send(CallCommand::Play {
            chunk: frame,
            source: AudioSource::Fallback,
        })
        .await
        .unwrap();
        assert!(matches!(phone.recv().await, Some(CallCommand::Play { .. })));
        call.send(CallCommand::Clear).await.unwrap();
        assert_eq!(phone.recv().await, Some(CallCommand::Clear));

        let (agent, model) = memory::agent_leg(8);
        let mut model = model;
        let mut agent = TapAgent::new(agent, Some(watcher));
        model
            .send(AgentEvent::Transcript(Transcript {
                speaker: Speaker::Agent,
                item_id: None,
                text: "Hello".into(),
                is_final: true,
            }))
            .await
            .unwrap();
        agent.recv().await.unwrap();
        agent
            .send(AgentCommand::Truncate {
                item_id: "item_1".into(),
                content_index: 0,
                audio_end_ms: 1200,
            })
            .await
            .unwrap();
        assert!(matches!(
            model.recv().await,
            Some(AgentCommand::Truncate { .. })
        ));

        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            vec![
                Live::CallStarted {
                    call_sid: "CA1".into(),
                    stream_sid: "MZ1".into()
                },
                Live::BargeIn,
                Live::Said {
                    speaker: Speaker::Agent,
                    text: "Hello".into()
                },
                Live::Truncated { audio_end_ms: 1200 },
            ]
        );
        assert_eq!(recorder.lock().unwrap().duration_ms(), 20);
    }
}
