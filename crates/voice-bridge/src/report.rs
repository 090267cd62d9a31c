//! The report every call ends with.
//!
//! Times are milliseconds since the bridge started the call (`at_ms`), so a report is
//! plain data: it serializes to JSON with `serde_json::to_string(&report)`. How the call
//! ended also reads as one sentence: [`Outcome`], [`EndReason`] and [`FallbackUsed`]
//! implement `Display`, for logs and outcome lines.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::agent::{AgentUsage, Speaker};
use crate::agent_session::AgentSessionInfo;
use crate::call::HandOver;
use crate::ids::{CallId, DtmfDigit, ItemId, StreamId, ToolCallId};
use crate::leg::{LegEnd, Side};

/// What happened on one call.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallReport {
    /// The call's id, once the call leg announced it.
    pub call_id: Option<CallId>,
    /// The media stream's id, once the call leg announced it.
    pub stream_id: Option<StreamId>,
    /// How and why the call ended.
    pub outcome: Outcome,
    /// From the bridge's start to the end, in milliseconds.
    pub duration_ms: u64,
    /// Both sides' words, in the order they were completed.
    pub transcript: Vec<TranscriptLine>,
    /// Every tool call and its result.
    pub tool_calls: Vec<ToolCallRecord>,
    /// Every time the caller spoke over the agent.
    pub barge_ins: Vec<BargeIn>,
    /// The keys the caller pressed.
    pub dtmf: Vec<DtmfPress>,
    /// Latencies.
    pub timings: Timings,
    /// Frames, bytes and marks.
    pub counters: Counters,
    /// Every error either side reported, and the bridge's own.
    pub errors: Vec<ErrorRecord>,
    /// What the agent's service billed, as it last reported it (GPT-Live's session
    /// seconds); `None` when the agent leg reports no usage.
    pub agent_usage: Option<AgentUsage>,
    /// The agent sessions the call ran on, in order, with when and why each ended
    /// ([`AgentLeg::sessions`](crate::AgentLeg::sessions)); empty when the agent leg does
    /// not tell.
    pub agent_sessions: Vec<AgentSessionInfo>,
}

/// How and why a call ended.
///
/// `Display` writes the reason, then what the caller got instead of the agent, if
/// anything: `the agent ended mid-call: closed (1011): server_error; the caller was handed
/// over to the instructions after the stream`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// The side whose event ended the call.
    pub ended_by: Side,
    /// Why.
    pub reason: EndReason,
    /// What the caller was given when the agent failed, if it did.
    pub fallback: Option<FallbackUsed>,
}

/// Why a call ended. Never "unknown": each path that ends a call names itself.
///
/// `Display` says it in words, with the limit or the peer's own words where there are:
///
/// ```
/// use voice_bridge::LegEnd;
/// use voice_bridge::report::EndReason;
///
/// let reason = EndReason::MaxDuration { limit_ms: 600_000 };
/// assert_eq!(reason.to_string(), "the call reached its 600000 ms limit");
/// let reason = EndReason::CallEnded { end: LegEnd::Finished };
/// assert_eq!(reason.to_string(), "the call ended: finished");
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EndReason {
    /// The telephony leg ended (the caller hung up, or its connection ended).
    CallEnded {
        /// How.
        end: LegEnd,
    },
    /// The agent leg ended or failed mid-call (the fallback was played).
    AgentEnded {
        /// How.
        end: LegEnd,
    },
    /// The agent leg ended before its session started (refused, or failed while
    /// connecting); the fallback was played.
    AgentNotStarted {
        /// How.
        end: LegEnd,
    },
    /// The agent did not confirm its audio formats in time.
    AgentNotReady {
        /// The configured limit.
        limit_ms: u64,
        /// What the leg said it was waiting for (e.g. the WebSocket handshake with a
        /// URL), if it said.
        waiting_for: Option<String>,
    },
    /// The agent's connection stayed open but sent nothing for the configured time
    /// ([`BridgeConfig::agent_stall_timeout`](crate::BridgeConfig::agent_stall_timeout))
    /// while a response was due; the agent leg was ended and the fallback played.
    AgentStalled {
        /// What the bridge was waiting for.
        awaited: Awaited,
        /// The configured limit.
        limit_ms: u64,
    },
    /// The two legs' audio formats cannot be converted into each other.
    AudioUnsupported {
        /// What could not be converted.
        message: String,
    },
    /// A tool asked to end the call.
    ToolEndedCall {
        /// The tool's name.
        tool: String,
    },
    /// A tool handed the call over.
    HandedOver {
        /// The tool's name.
        tool: String,
        /// Where to.
        to: HandOver,
    },
    /// The maximum call duration was reached.
    MaxDuration {
        /// The configured limit.
        limit_ms: u64,
    },
    /// No audio went either way for the configured time.
    IdleTimeout {
        /// The configured limit.
        limit_ms: u64,
    },
    /// The report was taken before the call ended (the bridge was stopped).
    Stopped,
    /// The program running the bridge asked it to end the call (e.g. its server is
    /// shutting down and the drain deadline passed,
    /// [`Bridge::with_shutdown`](crate::Bridge::with_shutdown)); the caller got the
    /// fallback and the agent leg was closed.
    Shutdown {
        /// Why, in the program's words.
        why: String,
    },
}

impl EndReason {
    /// The reason's kind as one short word, the `kind` tag of its JSON form (e.g.
    /// `"agent_not_started"`): a bounded set, fit for a metric's label or a log field.
    ///
    /// ```
    /// use voice_bridge::report::EndReason;
    ///
    /// assert_eq!(EndReason::IdleTimeout { limit_ms: 30_000 }.kind(), "idle_timeout");
    /// assert_eq!(EndReason::Stopped.kind(), "stopped");
    /// ```
    pub fn kind(&self) -> &'static str {
        match self {
            Self::CallEnded { .. } => "call_ended",
            Self::AgentEnded { .. } => "agent_ended",
            Self::AgentNotStarted { .. } => "agent_not_started",
            Self::AgentNotReady { .. } => "agent_not_ready",
            Self::AgentStalled { .. } => "agent_stalled",
            Self::AudioUnsupported { .. } => "audio_unsupported",
            Self::ToolEndedCall { .. } => "tool_ended_call",
            Self::HandedOver { .. } => "handed_over",
            Self::MaxDuration { .. } => "max_duration",
            Self::IdleTimeout { .. } => "idle_timeout",
            Self::Stopped => "stopped",
            Self::Shutdown { .. } => "shutdown",
        }
    }

    /// Whether the agent leg failed (ended, never started, was not ready, stalled, or
    /// spoke audio the call cannot carry): the caller got the fallback.
    pub fn is_agent_failure(&self) -> bool {
        matches!(
            self,
            Self::AgentEnded { .. }
                | Self::AgentNotStarted { .. }
                | Self::AgentNotReady { .. }
                | Self::AgentStalled { .. }
                | Self::AudioUnsupported { .. }
        )
    }
}

/// What a stalled agent was expected to send (see [`EndReason::AgentStalled`]).
///
/// `Display` says it as the end of a sentence: `the caller's turn was waiting for an
/// answer`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Awaited {
    /// The caller had stopped speaking; the agent's answer had not started.
    Answer,
    /// The bridge had asked for a response (after a tool's result); it had not started.
    RequestedResponse,
    /// A response had started and had not finished (its audio stopped mid-answer).
    RestOfResponse,
}

impl fmt::Display for Awaited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Answer => "the caller's turn was waiting for an answer",
            Self::RequestedResponse => "a requested response had not started",
            Self::RestOfResponse => "a response was under way (mid-answer)",
        })
    }
}

/// What the caller got instead of silence when the agent failed.
///
/// `Display` says it in words: `the fallback prompt was played in full`.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FallbackUsed {
    /// The fallback audio was played.
    Audio {
        /// Whether its end mark came back (the caller heard it all).
        heard: bool,
    },
    /// The call was handed over.
    HandOver {
        /// Where to.
        to: HandOver,
    },
    /// No fallback could be given; the call was hung up.
    HangUp {
        /// Why (nothing configured, or the leg cannot carry out the configured one).
        why: String,
    },
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.reason)?;
        match &self.fallback {
            Some(fallback) => write!(f, "; {fallback}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for EndReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CallEnded { end } => write!(f, "the call ended: {end}"),
            Self::AgentEnded { end } => write!(f, "the agent ended mid-call: {end}"),
            Self::AgentNotStarted { end } => write!(f, "the agent session never started: {end}"),
            Self::AgentNotReady {
                limit_ms,
                waiting_for,
            } => {
                write!(f, "the agent was not ready within {limit_ms} ms")?;
                match waiting_for {
                    Some(what) => write!(f, " (it was waiting for {what})"),
                    None => Ok(()),
                }
            }
            Self::AgentStalled { awaited, limit_ms } => write!(
                f,
                "the agent sent nothing for {limit_ms} ms while {awaited}"
            ),
            Self::AudioUnsupported { message } => {
                write!(f, "the legs' audio formats cannot be converted: {message}")
            }
            Self::ToolEndedCall { tool } => write!(f, "the tool {tool} ended the call"),
            Self::HandedOver { tool, to } => {
                write!(
                    f,
                    "the tool {tool} handed the call over {}",
                    Destination(to)
                )
            }
            Self::MaxDuration { limit_ms } => write!(f, "the call reached its {limit_ms} ms limit"),
            Self::IdleTimeout { limit_ms } => {
                write!(f, "no audio went either way for {limit_ms} ms")
            }
            Self::Stopped => f.write_str("the bridge was stopped before the call ended"),
            Self::Shutdown { why } => write!(f, "the call was ended by its server: {why}"),
        }
    }
}

impl fmt::Display for FallbackUsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Audio { heard: true } => f.write_str("the fallback prompt was played in full"),
            Self::Audio { heard: false } => f.write_str(
                "the fallback prompt was played, but the call ended before it was heard in full",
            ),
            Self::HandOver { to } => write!(f, "the caller was handed over {}", Destination(to)),
            Self::HangUp { why } => write!(f, "the call was hung up without a fallback: {why}"),
        }
    }
}

/// Where a hand-over went, in words. A markup document is not quoted: it can be long.
struct Destination<'a>(&'a HandOver);

impl fmt::Display for Destination<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            HandOver::Continue => f.write_str("to the instructions after the stream"),
            HandOver::Markup(markup) => write!(f, "to new instructions ({} bytes)", markup.len()),
            HandOver::Url(url) => write!(f, "to the instructions at {url}"),
        }
    }
}

/// One completed piece of transcript.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TranscriptLine {
    /// When the text was complete (or, for `complete: false`, when it started).
    pub at_ms: u64,
    /// Whose words.
    pub speaker: Speaker,
    /// The agent item, if known.
    pub item_id: Option<ItemId>,
    /// The words.
    pub text: String,
    /// False if only fragments arrived before the call ended or the item was cut.
    pub complete: bool,
}

/// A tool call and its result.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCallRecord {
    /// The call's id.
    pub call_id: ToolCallId,
    /// The tool.
    pub name: String,
    /// The arguments.
    pub arguments: Value,
    /// When the agent asked.
    pub at_ms: u64,
    /// How long the handler took, once it finished.
    pub duration_ms: Option<u64>,
    /// The result, once there is one.
    pub result: Option<ToolCallResult>,
}

/// How a tool call turned out, for the report.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ToolCallResult {
    /// The handler answered.
    Ok {
        /// The output given to the agent.
        output: Value,
    },
    /// The handler failed.
    Error {
        /// Its error.
        message: String,
    },
    /// The handler did not answer in time.
    TimedOut,
}

/// The caller spoke over the agent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BargeIn {
    /// When the agent reported the caller's speech.
    pub at_ms: u64,
    /// The item the caller was hearing, if any audio was queued.
    pub item_id: Option<ItemId>,
    /// Milliseconds of that item the caller had heard (from echoed marks).
    pub heard_ms: u64,
    /// Milliseconds of that item that had been sent to the caller.
    pub sent_ms: u64,
    /// The `audio_end_ms` the item was truncated at, if it was.
    pub truncated_ms: Option<u32>,
    /// Whether the response being generated was cancelled.
    pub cancelled_response: bool,
}

/// A key press.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DtmfPress {
    /// When.
    pub at_ms: u64,
    /// Which key.
    pub digit: DtmfDigit,
}

/// Latencies.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Timings {
    /// When the call leg started its stream.
    pub call_started_ms: Option<u64>,
    /// When the agent confirmed its formats.
    pub agent_ready_ms: Option<u64>,
    /// When the first agent audio was sent to the caller.
    pub first_agent_audio_ms: Option<u64>,
    /// Each turn: from the end of the caller's speech to the agent's first audio.
    pub turns: Vec<Turn>,
}

impl Timings {
    /// From the call leg's start (the callee answered: Twilio's `start`) to the first agent
    /// audio sent to the caller, in milliseconds: the silence the callee heard before the
    /// agent spoke. `None` if either did not happen. When the bridge began before the
    /// call's start, only the time after the start counts.
    ///
    /// (The agent's connect time is [`agent_ready_ms`](Self::agent_ready_ms) itself: an
    /// agent leg starts connecting when the bridge starts.)
    ///
    /// ```
    /// use voice_bridge::report::Timings;
    ///
    /// let mut timings = Timings::default();
    /// assert_eq!(timings.first_audio_after_start_ms(), None);
    /// timings.call_started_ms = Some(40);
    /// timings.first_agent_audio_ms = Some(1_240);
    /// assert_eq!(timings.first_audio_after_start_ms(), Some(1_200));
    /// ```
    pub fn first_audio_after_start_ms(&self) -> Option<u64> {
        let audio = self.first_agent_audio_ms?;
        Some(audio.saturating_sub(self.call_started_ms?))
    }
}

/// One turn's latency.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Turn {
    /// When the caller stopped speaking.
    pub speech_stopped_ms: u64,
    /// From then to the agent's first audio sent to the caller.
    pub latency_ms: u64,
}

/// Frames, bytes and marks. Bytes are encoded audio bytes (after base64 decoding).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counters {
    /// Caller audio frames received.
    pub caller_frames: u64,
    /// Caller audio bytes received.
    pub caller_bytes: u64,
    /// Caller audio frames delivered to the agent.
    pub caller_frames_sent: u64,
    /// Agent audio frames received.
    pub agent_frames: u64,
    /// Agent audio bytes received.
    pub agent_bytes: u64,
    /// Media messages of agent audio sent to the caller (each followed by one mark): a
    /// delta as it came, several deltas joined, or a piece of a very long one.
    pub agent_frames_sent: u64,
    /// Agent deltas that went out joined to the one before them in a single message
    /// (see [`BridgeConfig::playback_chunk`](crate::BridgeConfig::playback_chunk)).
    pub agent_deltas_joined: u64,
    /// Agent audio frames dropped because the caller had interrupted them.
    pub agent_frames_discarded: u64,
    /// Milliseconds of agent audio not sent because the caller's queue was already
    /// [`BridgeConfig::max_playback_ahead`](crate::BridgeConfig::max_playback_ahead)
    /// ahead (the rest of an item cut there).
    pub agent_audio_cut_ms: u64,
    /// Agent audio frames dropped because they came after the agent had been declared
    /// stalled ([`BridgeConfig::agent_stall_timeout`](crate::BridgeConfig::agent_stall_timeout)):
    /// too late for the caller.
    pub agent_frames_late: u64,
    /// Frames that had to be transcoded (both directions).
    pub frames_transcoded: u64,
    /// Frames refused (bad format, arrived out of order).
    pub frames_refused: u64,
    /// Marks sent.
    pub marks_sent: u64,
    /// Mark echoes meaning the audio before them was played.
    pub marks_played: u64,
    /// Mark echoes of marks a clear discarded.
    pub marks_cleared: u64,
    /// Marks taken as played because a later mark came back first (echo lost or late).
    pub marks_implied: u64,
    /// Mark echoes the bridge did not expect (unknown names, duplicates).
    pub marks_unexpected: u64,
    /// Caller frames held back while the agent was not ready.
    pub early_frames_buffered: u64,
    /// Of those, frames dropped (oldest first) because the buffer was full.
    pub early_frames_dropped: u64,
}

/// An error, from either side or from the bridge.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorRecord {
    /// When.
    pub at_ms: u64,
    /// Whose.
    pub side: Side,
    /// A machine-readable code, if any.
    pub code: Option<String>,
    /// What happened.
    pub message: String,
    /// Whether it ended that side.
    pub fatal: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(reason: EndReason, fallback: Option<FallbackUsed>) -> String {
        Outcome {
            ended_by: Side::Agent,
            reason,
            fallback,
        }
        .to_string()
    }

    #[test]
    fn each_end_reason_reads_as_words_with_its_details() {
        let closed = LegEnd::Closed {
            code: Some(1011),
            reason: "server_error".into(),
        };
        let cases = [
            (
                EndReason::CallEnded {
                    end: LegEnd::Finished,
                },
                "the call ended: finished",
            ),
            (
                EndReason::AgentEnded { end: closed },
                "the agent ended mid-call: closed (1011): server_error",
            ),
            (
                EndReason::AgentNotStarted {
                    end: LegEnd::Refused {
                        status: None,
                        detail: "beta_api_shape_disabled".into(),
                    },
                },
                "the agent session never started: refused: beta_api_shape_disabled",
            ),
            (
                EndReason::AgentNotReady {
                    limit_ms: 5000,
                    waiting_for: None,
                },
                "the agent was not ready within 5000 ms",
            ),
            (
                EndReason::AgentNotReady {
                    limit_ms: 5000,
                    waiting_for: Some("the WebSocket handshake with ws://127.0.0.1:9/".into()),
                },
                "the agent was not ready within 5000 ms (it was waiting for the WebSocket \
                 handshake with ws://127.0.0.1:9/)",
            ),
            (
                EndReason::AgentStalled {
                    awaited: Awaited::Answer,
                    limit_ms: 4000,
                },
                "the agent sent nothing for 4000 ms while the caller's turn was waiting for \
                 an answer",
            ),
            (
                EndReason::AudioUnsupported {
                    message: "opus".into(),
                },
                "the legs' audio formats cannot be converted: opus",
            ),
            (
                EndReason::ToolEndedCall {
                    tool: "end_call".into(),
                },
                "the tool end_call ended the call",
            ),
            (
                EndReason::HandedOver {
                    tool: "transfer".into(),
                    to: HandOver::Url("https://example.test/next".into()),
                },
                "the tool transfer handed the call over to the instructions at https://example.test/next",
            ),
            (
                EndReason::HandedOver {
                    tool: "transfer".into(),
                    to: HandOver::Markup("<Response><Dial>+15550100</Dial></Response>".into()),
                },
                "the tool transfer handed the call over to new instructions (43 bytes)",
            ),
            (
                EndReason::MaxDuration { limit_ms: 600_000 },
                "the call reached its 600000 ms limit",
            ),
            (
                EndReason::IdleTimeout { limit_ms: 30_000 },
                "no audio went either way for 30000 ms",
            ),
            (
                EndReason::Stopped,
                "the bridge was stopped before the call ended",
            ),
        ];
        for (reason, words) in cases {
            assert_eq!(reason.to_string(), words);
            // Without a fallback, the outcome is the reason alone.
            assert_eq!(outcome(reason, None), words);
        }
    }

    #[test]
    fn each_end_reason_kind_is_its_json_tag() {
        let end = || LegEnd::Finished;
        let reasons = [
            EndReason::CallEnded { end: end() },
            EndReason::AgentEnded { end: end() },
            EndReason::AgentNotStarted { end: end() },
            EndReason::AgentNotReady {
                limit_ms: 1,
                waiting_for: None,
            },
            EndReason::AgentStalled {
                awaited: Awaited::Answer,
                limit_ms: 1,
            },
            EndReason::AudioUnsupported {
                message: "opus".into(),
            },
            EndReason::ToolEndedCall { tool: "t".into() },
            EndReason::HandedOver {
                tool: "t".into(),
                to: HandOver::Continue,
            },
            EndReason::MaxDuration { limit_ms: 1 },
            EndReason::IdleTimeout { limit_ms: 1 },
            EndReason::Stopped,
            EndReason::Shutdown {
                why: "SIGTERM".into(),
            },
        ];
        for reason in reasons {
            let json = serde_json::to_value(&reason).unwrap();
            assert_eq!(json["kind"], reason.kind(), "{reason:?}");
        }
    }

    #[test]
    fn first_audio_counts_from_the_calls_start() {
        let timings = |started, audio| Timings {
            call_started_ms: started,
            first_agent_audio_ms: audio,
            ..Timings::default()
        };
        assert_eq!(
            timings(Some(100), Some(1_600)).first_audio_after_start_ms(),
            Some(1_500)
        );
        // Audio sent before the start was announced (an early agent) counts as none.
        assert_eq!(
            timings(Some(900), Some(800)).first_audio_after_start_ms(),
            Some(0)
        );
        assert_eq!(timings(None, Some(800)).first_audio_after_start_ms(), None);
        assert_eq!(timings(Some(10), None).first_audio_after_start_ms(), None);
    }

    #[test]
    fn an_outcome_with_a_fallback_says_what_the_caller_got() {
        let reason = || EndReason::AgentEnded {
            end: LegEnd::Refused {
                status: Some(401),
                detail: "invalid_api_key".into(),
            },
        };
        let cause = "the agent ended mid-call: refused (status 401): invalid_api_key";
        let cases = [
            (
                FallbackUsed::Audio { heard: true },
                "the fallback prompt was played in full",
            ),
            (
                FallbackUsed::Audio { heard: false },
                "the fallback prompt was played, but the call ended before it was heard in full",
            ),
            (
                FallbackUsed::HandOver {
                    to: HandOver::Continue,
                },
                "the caller was handed over to the instructions after the stream",
            ),
            (
                FallbackUsed::HangUp {
                    why: "no fallback configured".into(),
                },
                "the call was hung up without a fallback: no fallback configured",
            ),
        ];
        for (fallback, words) in cases {
            assert_eq!(fallback.to_string(), words);
            assert_eq!(
                outcome(reason(), Some(fallback)),
                format!("{cause}; {words}")
            );
        }
    }
}
