//! Events the service sends on a Live connection: [`ServerEvent`] and one struct per wire
//! event (the SDK's `ServerEvent` union of the primary WebSocket, plus the sideband's
//! `session.paused` / `session.resumed`).

use serde::{Deserialize, Serialize};
use serde_json::{Number, Value};

use crate::codec::{nullable, peek_type};
use crate::open_enum::open_enum;
use crate::{ApiError, DecodeError, EventId, ItemId};

use super::decision::{Decision, DecisionItem, DecisionOutcome};
use super::event_enum::live_event_enum;
use super::extra::Extra;
use super::ids::{DelegationId, LiveSessionId, TriggerId};
use super::session::SessionResource;

live_event_enum! {
    /// An event the service sends on a Live connection.
    ///
    /// A phone bridge reads mostly [`ServerEvent::SessionStarted`], then a continuous,
    /// real-time paced [`ServerEvent::OutputAudioDelta`] track (silence included),
    /// transcript fragments both ways, delegations, and finally [`ServerEvent::SessionClosed`].
    /// There is no speech-started, response-done or truncation event: turn-taking and
    /// barge-in are the service's.
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::live::{CloseReason, ServerEvent};
    ///
    /// let frame = r#"{"type":"session.closed","event_id":"event_9","reason":"expired","session":{"id":"live_1","expires_at":1796300000,"model":"gpt-live-1","status":"active"},"usage":{"seconds":63}}"#;
    /// let ServerEvent::SessionClosed(closed) = ServerEvent::decode(frame)? else {
    ///     panic!("a close decodes to its variant");
    /// };
    /// assert_eq!(closed.reason, CloseReason::Expired);
    /// assert_eq!(closed.usage.seconds(), 63.0);
    /// assert_eq!(
    ///     serde_json::from_str::<serde_json::Value>(&ServerEvent::from(closed).encode()).unwrap(),
    ///     serde_json::from_str::<serde_json::Value>(frame).unwrap(),
    /// );
    /// # Ok::<(), openai_realtime::DecodeError>(())
    /// ```
    pub enum ServerEvent {
        decoded {
            /// `session.started`: the answer to `session.start`; send audio only after it.
            SessionStarted(SessionStarted) = "session.started",
            /// `session.updated`: the answer to `session.update`.
            SessionUpdated(SessionUpdated) = "session.updated",
            /// `session.input_audio.muted`
            InputAudioMuted(InputAudioMuted) = "session.input_audio.muted",
            /// `session.input_audio.unmuted`
            InputAudioUnmuted(InputAudioUnmuted) = "session.input_audio.unmuted",
            /// `session.output_audio.fixture.playing`: the fixture was accepted.
            OutputAudioFixturePlaying(OutputAudioFixturePlaying) = "session.output_audio.fixture.playing",
            /// `session.output_audio.fixture.played`: the fixture drained from the mixer.
            OutputAudioFixturePlayed(OutputAudioFixturePlayed) = "session.output_audio.fixture.played",
            /// `session.instructions.appended`
            InstructionsAppended(InstructionsAppended) = "session.instructions.appended",
            /// `session.thinking.appended`
            ThinkingAppended(ThinkingAppended) = "session.thinking.appended",
            /// `session.commentary.appended`
            CommentaryAppended(CommentaryAppended) = "session.commentary.appended",
            /// `session.input_audio.append` (sideband): input audio reflected as PCM16 24 kHz.
            InputAudioAppend(InputAudioAppend) = "session.input_audio.append",
            /// `session.output_audio.delta`: model audio in the session's format.
            OutputAudioDelta(OutputAudioDelta) = "session.output_audio.delta",
            /// `session.input_transcript.delta`: a fragment of what the caller said.
            InputTranscriptDelta(InputTranscriptDelta) = "session.input_transcript.delta",
            /// `session.output_transcript.delta`: a fragment of what the model said.
            OutputTranscriptDelta(OutputTranscriptDelta) = "session.output_transcript.delta",
            /// `session.delegation.created`: the model handed off a task.
            DelegationCreated(DelegationCreated) = "session.delegation.created",
            /// `decision.event`: a Decision API result.
            DecisionEvent(DecisionEvent) = "decision.event",
            /// `decision.item.created`
            DecisionItemCreated(DecisionItemCreated) = "decision.item.created",
            /// `decision.item.deleted`
            DecisionItemDeleted(DecisionItemDeleted) = "decision.item.deleted",
            /// `response.event`: a streaming event of the Responses backend.
            ResponseEvent(ResponseEvent) = "response.event",
            /// `session.usage.updated`: cumulative billed seconds.
            SessionUsageUpdated(SessionUsageUpdated) = "session.usage.updated",
            /// `session.closed`: the terminal event, with the reason.
            SessionClosed(SessionClosed) = "session.closed",
            /// `error`
            Error(ErrorEvent) = "error",
            /// `info`: a notice, e.g. `data_channel_permissions`.
            Info(InfoEvent) = "info",
            /// `transport.dtmf.received` (sideband): a key the caller pressed.
            TransportDtmfReceived(TransportDtmfReceived) = "transport.dtmf.received",
            /// `transport.dtmf.send`: the legacy name of `transport.dtmf.sent`, kept for saved
            /// events.
            TransportDtmfSend(TransportDtmfSend) = "transport.dtmf.send",
            /// `transport.dtmf.sent` (sideband): a key was sent to the trunk.
            TransportDtmfSent(TransportDtmfSent) = "transport.dtmf.sent",
            /// `transport.ringing` (sideband): the outbound SIP leg rings.
            TransportRinging(TransportRinging) = "transport.ringing",
            /// `transport.answered` (sideband): the outbound SIP leg answered.
            TransportAnswered(TransportAnswered) = "transport.answered",
            /// `transport.failed` (sideband): outbound SIP setup failed.
            TransportFailed(TransportFailed) = "transport.failed",
            /// `session.paused` (sideband, WebRTC): idle timeout paused inference.
            SessionPaused(SessionPaused) = "session.paused",
            /// `session.resumed` (sideband, WebRTC): speech resumed inference.
            SessionResumed(SessionResumed) = "session.resumed",
        }
        manual {}
    }
}

impl ServerEvent {
    /// Decodes a server event of any Live connection (primary, sideband or fork).
    ///
    /// Lenient: members the model does not name are kept in `extra`, an unknown `type` is
    /// [`ServerEvent::Unknown`].
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the frame is not a JSON object with a string `type`, or is a
    /// known event whose body does not match (the error names the event and the field).
    pub fn decode(json: &str) -> Result<Self, DecodeError> {
        let event_type = peek_type(json)?;
        Self::decode_as(json, &event_type)
    }

    /// The `event_id` of the event. Output audio deltas and reflected input audio have
    /// none.
    pub fn event_id(&self) -> Option<&EventId> {
        Some(match self {
            Self::SessionStarted(e) => &e.event_id,
            Self::SessionUpdated(e) => &e.event_id,
            Self::InputAudioMuted(e) => &e.event_id,
            Self::InputAudioUnmuted(e) => &e.event_id,
            Self::OutputAudioFixturePlaying(e) => &e.event_id,
            Self::OutputAudioFixturePlayed(e) => &e.event_id,
            Self::SessionPaused(e) => &e.event_id,
            Self::SessionResumed(e) => &e.event_id,
            Self::InstructionsAppended(e) => &e.event_id,
            Self::ThinkingAppended(e) => &e.event_id,
            Self::CommentaryAppended(e) => &e.event_id,
            Self::InputTranscriptDelta(e) => &e.event_id,
            Self::OutputTranscriptDelta(e) => &e.event_id,
            Self::DelegationCreated(e) => &e.event_id,
            Self::DecisionEvent(e) => &e.event_id,
            Self::DecisionItemCreated(e) => &e.event_id,
            Self::DecisionItemDeleted(e) => &e.event_id,
            Self::ResponseEvent(e) => &e.event_id,
            Self::SessionUsageUpdated(e) => &e.event_id,
            Self::SessionClosed(e) => &e.event_id,
            Self::Error(e) => &e.event_id,
            Self::Info(e) => &e.event_id,
            Self::TransportDtmfReceived(e) => &e.event_id,
            Self::TransportDtmfSend(e) => &e.event_id,
            Self::TransportDtmfSent(e) => &e.event_id,
            Self::TransportRinging(e) => &e.event_id,
            Self::TransportAnswered(e) => &e.event_id,
            Self::TransportFailed(e) => &e.event_id,
            Self::InputAudioAppend(_) | Self::OutputAudioDelta(_) | Self::Unknown(_) => {
                return None;
            }
        })
    }

    /// The `event_id` of the client event this one answers, when the service names it.
    pub fn client_event_id(&self) -> Option<&EventId> {
        match self {
            Self::SessionStarted(e) => e.client_event_id.as_ref(),
            Self::SessionUpdated(e) => e.client_event_id.as_ref(),
            Self::InputAudioMuted(e) => e.client_event_id.as_ref(),
            Self::InputAudioUnmuted(e) => e.client_event_id.as_ref(),
            Self::OutputAudioFixturePlaying(e) => e.client_event_id.as_ref(),
            Self::OutputAudioFixturePlayed(e) => e.client_event_id.as_ref(),
            Self::SessionPaused(e) => e.client_event_id.as_ref(),
            Self::SessionResumed(e) => e.client_event_id.as_ref(),
            Self::InstructionsAppended(e) => e.client_event_id.as_ref(),
            Self::ThinkingAppended(e) => e.client_event_id.as_ref(),
            Self::CommentaryAppended(e) => e.client_event_id.as_ref(),
            Self::InputTranscriptDelta(e) => e.client_event_id.as_ref(),
            Self::OutputTranscriptDelta(e) => e.client_event_id.as_ref(),
            Self::DelegationCreated(e) => e.client_event_id.as_ref(),
            Self::DecisionItemCreated(e) => e.client_event_id.as_ref(),
            Self::DecisionItemDeleted(e) => e.client_event_id.as_ref(),
            Self::ResponseEvent(e) => e.client_event_id.as_ref(),
            Self::SessionUsageUpdated(e) => e.client_event_id.as_ref(),
            Self::SessionClosed(e) => e.client_event_id.as_ref(),
            Self::Error(e) => e
                .client_event_id
                .as_ref()
                .or(e.error.client_event_id.as_ref()),
            Self::Info(e) => e.client_event_id.as_ref(),
            Self::TransportDtmfSend(e) => e.client_event_id.as_ref(),
            Self::TransportDtmfSent(e) => e.client_event_id.as_ref(),
            _ => None,
        }
    }

    /// The error payload, when this is an `error` event.
    pub fn as_error(&self) -> Option<&LiveError> {
        match self {
            Self::Error(e) => Some(&e.error),
            _ => None,
        }
    }
}

/// The answer to `session.start`: the session as the service resolved it.
///
/// Wire name: `session.started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionStarted {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The session.
    pub session: SessionResource,
    /// The `event_id` of the `session.start`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl SessionStarted {
    /// A `session.started` for a snapshot (for a mock or a test).
    pub fn new(event_id: impl Into<EventId>, session: SessionResource) -> Self {
        Self {
            event_id: event_id.into(),
            session,
            client_event_id: None,
            extra: Extra::new(),
        }
    }
}

/// The answer to an accepted `session.update`.
///
/// Wire name: `session.updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUpdated {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The session after the update.
    pub session: SessionResource,
    /// The `event_id` of the `session.update`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Declares a server event whose body is its `event_id` and an optional `client_event_id`.
macro_rules! ack_event {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The service's id for this event.
            pub event_id: EventId,
            /// The `event_id` of the client command, when it had one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub client_event_id: Option<EventId>,
            /// Members this version does not name.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

ack_event!(
    /// The input is muted (the model hears silence).
    ///
    /// Wire name: `session.input_audio.muted`.
    InputAudioMuted
);
ack_event!(
    /// The input mute is lifted (an active fixture still pauses inference).
    ///
    /// Wire name: `session.input_audio.unmuted`.
    InputAudioUnmuted
);
ack_event!(
    /// The audio fixture was accepted and plays.
    ///
    /// Wire name: `session.output_audio.fixture.playing`.
    OutputAudioFixturePlaying
);
ack_event!(
    /// The audio fixture drained from the service's mixer (not: the listener heard it).
    ///
    /// Wire name: `session.output_audio.fixture.played`.
    OutputAudioFixturePlayed
);
ack_event!(
    /// The idle timeout paused inference (WebRTC; sideband and permitted data channels).
    ///
    /// Wire name: `session.paused`.
    SessionPaused
);
ack_event!(
    /// Speech resumed paused inference (WebRTC; sideband and permitted data channels).
    ///
    /// Wire name: `session.resumed`.
    SessionResumed
);

/// Declares the acknowledgement of an `…append`: where the text landed on the session
/// timeline. It does not mean the listener heard anything.
macro_rules! appended_event {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The service's id for this event.
            pub event_id: EventId,
            /// Start on the session timeline, in ms from the session's start.
            pub start_ms: u64,
            /// End on the session timeline, in ms.
            pub end_ms: u64,
            /// The `event_id` of the `…append`, when it had one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub client_event_id: Option<EventId>,
            /// Members this version does not name.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

appended_event!(
    /// A `session.instructions.append` entered the session timeline.
    ///
    /// Wire name: `session.instructions.appended`.
    InstructionsAppended
);
appended_event!(
    /// A `session.thinking.append` entered the session timeline.
    ///
    /// Wire name: `session.thinking.appended`.
    ThinkingAppended
);
appended_event!(
    /// A `session.commentary.append` entered the session timeline.
    ///
    /// Wire name: `session.commentary.appended`.
    CommentaryAppended
);

/// Input audio reflected to a sideband, as the primary transport received it (before
/// muting): base64 PCM16 24 kHz. Not an acknowledgement of the client's append (same name,
/// other direction: [`client_event::InputAudioAppend`](super::client_event::InputAudioAppend)).
///
/// Wire name: `session.input_audio.append` (server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioAppend {
    /// Base64 PCM16 24 kHz audio.
    pub audio: String,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A chunk of the model's audio: base64 raw audio in the session's format (on a phone
/// session, G.711 mu-law that Twilio plays unchanged). One continuous track at real-time
/// pace for the life of the session; no item or response id.
///
/// Wire name: `session.output_audio.delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputAudioDelta {
    /// Base64 audio.
    pub delta: String,
    /// Inclusive start on the session timeline, in ms (sideband reflections; absent on the
    /// primary socket as observed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_ms: Option<u64>,
    /// Exclusive end on the session timeline, in ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ms: Option<u64>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl OutputAudioDelta {
    /// A delta of base64 audio (for a mock or a test).
    pub fn new(delta: impl Into<String>) -> Self {
        Self {
            delta: delta.into(),
            start_ms: None,
            end_ms: None,
            extra: Extra::new(),
        }
    }
}

/// Declares a transcript fragment event: text on the session timeline (a 200 ms grid,
/// observed), with no item and no "done"; build turns from the gaps.
macro_rules! transcript_event {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The service's id for this event.
            pub event_id: EventId,
            /// The text of this time range.
            pub delta: String,
            /// Start on the session timeline, in ms.
            pub start_ms: u64,
            /// End on the session timeline, in ms.
            pub end_ms: u64,
            /// The `event_id` of a client command, when the service names one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub client_event_id: Option<EventId>,
            /// Members this version does not name.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

transcript_event!(
    /// A fragment of what the caller said. The nearest Live has to a speech-started signal.
    ///
    /// Wire name: `session.input_transcript.delta`.
    InputTranscriptDelta
);
transcript_event!(
    /// A fragment of what the model said.
    ///
    /// Wire name: `session.output_transcript.delta`.
    OutputTranscriptDelta
);

open_enum! {
    /// Where the model delegated a task.
    pub enum DelegationTarget {
        /// `client`: your application answers with `session.commentary.append` /
        /// `session.thinking.append` and this delegation's id.
        Client = "client",
        /// `responses`: the Responses backend works on it.
        Responses = "responses",
        /// `decisions`: the Decision API answers it.
        Decisions = "decisions",
    }
}

/// The model handed off a task. There is no task text: rebuild it from the input transcript
/// and your own state.
///
/// Wire name: `session.delegation.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DelegationCreated {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The delegation.
    pub delegation: DelegationInfo,
    /// Where on the session timeline it was created, in ms.
    pub offset_ms: u64,
    /// The `event_id` of a client command, when the service names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The delegation of a `session.delegation.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DelegationInfo {
    /// Its id, to repeat in the answer.
    pub id: DelegationId,
    /// Who handles it.
    pub target: DelegationTarget,
    /// Always `delegation`.
    #[serde(rename = "type")]
    pub object: String,
    /// The Responses response working on it (Responses delegation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Decision API result, for a delegation or a transcript trigger.
///
/// The service writes `null` for the members that do not apply (`delegation_id` for a
/// trigger, `trigger_id` and the sources for a delegation); they are kept apart from absent
/// (outer `None`) so that the event is written back as it came. Read them with
/// [`DecisionEvent::delegation`] and [`DecisionEvent::trigger`].
///
/// Wire name: `decision.event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionEvent {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The outcome: `decision.completed` with the answers.
    pub event: DecisionOutcome,
    /// The delegation it answers (`null` for a trigger).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub delegation_id: Option<Option<DelegationId>>,
    /// The trigger firing it answers (`null` for a delegation).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub trigger_id: Option<Option<TriggerId>>,
    /// The transcript delta that fired the trigger (`null` for a delegation).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub source_event_id: Option<Option<EventId>>,
    /// `session.input_transcript.delta` or `session.output_transcript.delta` (`null` for a
    /// delegation).
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub source_event_type: Option<Option<String>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl DecisionEvent {
    /// The delegation it answers, if any.
    pub fn delegation(&self) -> Option<&DelegationId> {
        self.delegation_id.as_ref().and_then(Option::as_ref)
    }

    /// The trigger firing it answers, if any.
    pub fn trigger(&self) -> Option<&TriggerId> {
        self.trigger_id.as_ref().and_then(Option::as_ref)
    }

    /// The Decision API's response, when the outcome is `decision.completed`.
    pub fn decision(&self) -> Option<&Decision> {
        match &self.event {
            DecisionOutcome::Completed(completed) => Some(&completed.decision),
            _ => None,
        }
    }
}

/// An input item was stored for future decisions.
///
/// Wire name: `decision.item.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionItemCreated {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The stored item, with its `id`.
    pub item: DecisionItem,
    /// The `event_id` of the `decision.item.create`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An input item was removed from future decisions.
///
/// Wire name: `decision.item.deleted`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionItemDeleted {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The removed item.
    pub item_id: ItemId,
    /// The `event_id` of the `decision.item.delete`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A streaming event of the Responses backend, nested whole (e.g.
/// `response.output_item.done` with a `function_call` to run).
///
/// Wire name: `response.event`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseEvent {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The nested Responses streaming event, as JSON.
    pub event: Value,
    /// The delegation it belongs to: absent, `null` (the service could not tell, as the SDK
    /// documents) or an id. Read it with [`ResponseEvent::delegation`].
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub delegation_id: Option<Option<DelegationId>>,
    /// The `event_id` of a client command, when the service names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl ResponseEvent {
    /// The delegation it belongs to, if the service named one.
    pub fn delegation(&self) -> Option<&DelegationId> {
        self.delegation_id.as_ref().and_then(Option::as_ref)
    }

    /// The nested event's `type` (e.g. `response.output_item.done`).
    pub fn nested_type(&self) -> Option<&str> {
        self.event.get("type").and_then(Value::as_str)
    }
}

/// Cumulative billed duration (`SessionUsage`). Values are running totals: never add them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUsage {
    /// Billed seconds so far. A number as the service wrote it (an integer on the wire as
    /// observed, a float in the SDK): read it with [`SessionUsage::seconds`].
    #[serde(rename = "seconds")]
    pub seconds_number: Number,
    /// Seconds of active audio (and unused prepaid time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_seconds: Option<u64>,
    /// Seconds of paused inference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_seconds: Option<u64>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl SessionUsage {
    /// Billed seconds so far.
    pub fn seconds(&self) -> f64 {
        self.seconds_number.as_f64().unwrap_or_default()
    }
}

/// The latest context-window usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ContextWindow {
    /// Active context tokens over the model's limit; it can drop after compaction. A number as
    /// the service wrote it: read it with [`ContextWindow::usage_ratio`].
    #[serde(rename = "usage_ratio")]
    pub usage_ratio_number: Number,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl ContextWindow {
    /// Active context tokens over the model's limit.
    pub fn usage_ratio(&self) -> f64 {
        self.usage_ratio_number.as_f64().unwrap_or_default()
    }
}

/// Cumulative usage, about every 15 s.
///
/// Wire name: `session.usage.updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUsageUpdated {
    /// The service's id for this event.
    pub event_id: EventId,
    /// Billed time so far.
    pub usage: SessionUsage,
    /// Context-window usage, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<ContextWindow>,
    /// The `event_id` of a client command, when the service names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

open_enum! {
    /// Why a Live session ended (`session.closed.reason`).
    pub enum CloseReason {
        /// `close_requested`: the application sent `session.close` (or hung up).
        CloseRequested = "close_requested",
        /// `expired`: the session reached its duration limit (`expires_at`).
        Expired = "expired",
        /// `content`: the safety filter ended it.
        Content = "content",
        /// `remote_hangup`: the far end of a SIP call hung up.
        RemoteHangup = "remote_hangup",
        /// `connection_lost`: the transport was lost.
        ConnectionLost = "connection_lost",
    }
}

/// The terminal event: the session finished finalising. A socket that closes without it
/// leaves the finalisation unconfirmed.
///
/// Wire name: `session.closed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionClosed {
    /// The service's id for this event.
    pub event_id: EventId,
    /// Why it ended.
    pub reason: CloseReason,
    /// The final snapshot (its `status` still reads `active`).
    pub session: SessionResource,
    /// The final usage.
    pub usage: SessionUsage,
    /// The `event_id` of the `session.close`, when it had one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The payload of a Live `error` event (`Error` in the SDK).
///
/// It differs from the Realtime [`ApiError`]: `code` is always present and the client event is
/// named by `client_event_id`. [`LiveError::to_api_error`] gives the Realtime shape, for code
/// that explains errors of both APIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LiveError {
    /// The class, e.g. `invalid_request_error` (`type` on the wire).
    #[serde(rename = "type")]
    pub kind: String,
    /// A machine-readable code, e.g. `unknown_parameter`, `immutable_field_update`,
    /// `model_not_found`.
    pub code: String,
    /// A human-readable message.
    pub message: String,
    /// The parameter at fault, e.g. `session.turn_detection`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub param: Option<String>,
    /// The `event_id` of the client event that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl LiveError {
    /// An error of class `kind` with a code and a message.
    pub fn new(
        kind: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.into(),
            code: code.into(),
            message: message.into(),
            param: None,
            client_event_id: None,
            extra: Extra::new(),
        }
    }

    /// The same error in the Realtime shape (`client_event_id` as `event_id`).
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::live::LiveError;
    ///
    /// let err = LiveError::new("invalid_request_error", "unknown_parameter", "Unknown parameter: 'session.voice'.");
    /// assert_eq!(
    ///     err.to_api_error().to_string(),
    ///     "invalid_request_error (unknown_parameter): Unknown parameter: 'session.voice'."
    /// );
    /// ```
    pub fn to_api_error(&self) -> ApiError {
        let mut err = ApiError::new(self.kind.clone(), self.message.clone()).with_code(&self.code);
        if let Some(param) = &self.param {
            err = err.with_param(param);
        }
        if let Some(id) = &self.client_event_id {
            err = err.with_event_id(id.clone());
        }
        err
    }
}

impl std::fmt::Display for LiveError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.to_api_error(), f)
    }
}

impl std::error::Error for LiveError {}

/// An error of the session, e.g. a refused client event. An admission error (no access to
/// the model, no credit) can also arrive this way after a successful upgrade.
///
/// Wire name: `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorEvent {
    /// The service's id for this event.
    pub event_id: EventId,
    /// What went wrong.
    pub error: LiveError,
    /// The `event_id` of the client event that caused it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A notice, e.g. the event permissions applied to a WebRTC data channel.
///
/// Wire name: `info`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InfoEvent {
    /// The service's id for this event.
    pub event_id: EventId,
    /// A machine-readable code, e.g. `data_channel_permissions`.
    pub code: String,
    /// A human-readable message.
    pub message: String,
    /// The `event_id` of a client command, when the service names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_event_id: Option<EventId>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A key the caller pressed on a SIP call (sideband only).
///
/// Wire name: `transport.dtmf.received`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransportDtmfReceived {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The key: `0`–`9`, `A`–`D`, `*` or `#`.
    pub event: String,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Declares a DTMF delivery event: one key sent to the trunk.
macro_rules! dtmf_sent_event {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The service's id for this event.
            pub event_id: EventId,
            /// The key: `0`–`9`, `A`–`D`, `*` or `#`.
            pub event: String,
            /// The `event_id` of the `transport.dtmf.send` command, when it had one.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub client_event_id: Option<EventId>,
            /// Members this version does not name.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

dtmf_sent_event!(
    /// A key was sent to the SIP trunk (sideband only).
    ///
    /// Wire name: `transport.dtmf.sent`.
    TransportDtmfSent
);
dtmf_sent_event!(
    /// The legacy name of `transport.dtmf.sent`, kept for saved events (today
    /// `transport.dtmf.send` is the client command).
    ///
    /// Wire name: `transport.dtmf.send` (server).
    TransportDtmfSend
);

/// Declares an outbound SIP progress event.
macro_rules! progress_event {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// The service's id for this event.
            pub event_id: EventId,
            /// The Live session.
            pub session_id: LiveSessionId,
            /// Members this version does not name.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

progress_event!(
    /// The outbound SIP leg rings or plays early media (sideband only).
    ///
    /// Wire name: `transport.ringing`.
    TransportRinging
);
progress_event!(
    /// The outbound SIP leg answered and media flows (sideband only).
    ///
    /// Wire name: `transport.answered`.
    TransportAnswered
);

/// Outbound SIP setup failed.
///
/// Wire name: `transport.failed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransportFailed {
    /// The service's id for this event.
    pub event_id: EventId,
    /// The Live session.
    pub session_id: LiveSessionId,
    /// What failed (`type: "call_error"`).
    pub error: LiveError,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}
