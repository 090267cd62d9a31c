//! Watching a call live through the bridge's observer (`Bridge::with_observer`): what
//! matters to a person watching (words, tool calls, barge-ins) is reported as a [`Live`]
//! event as it happens. (The recording is `voice_bridge::recording::CallRecorder`, a
//! second observer beside this one.)

use std::sync::Arc;

use serde_json::Value;
use voice_bridge::observer::{BridgeObserver, Observed, observe_fn};
use voice_bridge::{AgentCommand, AgentEvent, CallCommand, CallEvent, LegEnd, Speaker};

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

/// Receives [`Live`] events.
pub type Watcher = Arc<dyn Fn(&Live) + Send + Sync>;

/// The bridge's observer for one call: [`Live`] events to the watcher, if any.
pub fn observer(watcher: Option<Watcher>) -> impl BridgeObserver {
    let emit = move |live: Live| {
        if let Some(watcher) = &watcher {
            watcher(&live);
        }
    };
    observe_fn(move |seen: Observed<'_>| match seen {
        Observed::CallEvent(event) => match event {
            CallEvent::Started(start) => emit(Live::CallStarted {
                call_sid: start.call_id.to_string(),
                stream_sid: start.stream_id.to_string(),
            }),
            CallEvent::Ended(end) => emit(Live::Ended {
                leg: "call",
                end: end.clone(),
            }),
            _ => {}
        },
        Observed::CallCommand(command) => match command {
            CallCommand::Clear => emit(Live::BargeIn),
            CallCommand::HangUp => emit(Live::HangUp { how: "hang up" }),
            CallCommand::HandOver(_) => emit(Live::HangUp { how: "hand over" }),
            _ => {}
        },
        Observed::AgentEvent(event) => match event {
            AgentEvent::Ready(_) => emit(Live::AgentReady),
            AgentEvent::Transcript(t) if t.is_final => emit(Live::Said {
                speaker: t.speaker,
                text: t.text.clone(),
            }),
            AgentEvent::ToolCall(call) => emit(Live::ToolCall {
                name: call.name.clone(),
                arguments: call.arguments.clone(),
            }),
            AgentEvent::Error(error) => emit(Live::AgentError {
                message: match &error.code {
                    Some(code) => format!("{code}: {}", error.message),
                    None => error.message.clone(),
                },
            }),
            AgentEvent::Ended(end) => emit(Live::Ended {
                leg: "agent",
                end: end.clone(),
            }),
            _ => {}
        },
        Observed::AgentCommand(command) => match command {
            AgentCommand::ToolResult { output, .. } => emit(Live::ToolResult {
                output: output.clone(),
            }),
            AgentCommand::Truncate { audio_end_ms, .. } => emit(Live::Truncated {
                audio_end_ms: *audio_end_ms,
            }),
            _ => {}
        },
        _ => {}
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use voice_bridge::audio::{AudioChunk, AudioFormat};
    use voice_bridge::{AudioSource, CallStart, Transcript};

    #[test]
    fn the_observer_reports_what_matters() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        let watcher: Watcher = Arc::new(move |live: &Live| sink.lock().unwrap().push(live.clone()));
        let mut observer = observer(Some(watcher));

        let start = CallEvent::Started(CallStart::new("CA1", "MZ1", AudioFormat::MuLaw));
        observer.observe(Observed::CallEvent(&start));
        let frame = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0x10; 160]).unwrap();
        observer.observe(Observed::CallEvent(&CallEvent::Audio(frame.clone())));
        let play = CallCommand::Play {
            chunk: frame,
            source: AudioSource::Fallback,
        };
        observer.observe(Observed::CallCommand(&play));
        observer.observe(Observed::CallCommand(&CallCommand::Clear));
        let said = AgentEvent::Transcript(Transcript::new(Speaker::Agent, "Hello", true));
        observer.observe(Observed::AgentEvent(&said));
        let partial = AgentEvent::Transcript(Transcript::new(Speaker::Agent, "Hel", false));
        observer.observe(Observed::AgentEvent(&partial));
        let truncate = AgentCommand::Truncate {
            item_id: "item_1".into(),
            content_index: 0,
            audio_end_ms: 1200,
        };
        observer.observe(Observed::AgentCommand(&truncate));

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
    }
}
