//! Events the client sends on a Live connection: [`ClientEvent`] and one struct per wire
//! event (the SDK's `ClientEvent` union of the primary WebSocket, plus the sideband's
//! `transport.dtmf.send` and the fork's `session.start`).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{nullable, peek_type, tagged_enum};
use crate::{CallId, DecodeError, EventId, ItemId};

use super::decision::DecisionItem;
use super::event_enum::live_event_enum;
use super::extra::Extra;
use super::ids::DelegationId;
use super::session::{ForkSessionConfig, SessionConfig, SessionUpdateConfig};

live_event_enum! {
    /// An event the client sends to a Live session.
    ///
    /// Build the ones a bridge sends with the constructors ([`ClientEvent::session_start`],
    /// [`ClientEvent::input_audio_append`], [`ClientEvent::session_update`],
    /// [`ClientEvent::session_close`], [`ClientEvent::commentary_append`], …) and write them
    /// with [`ClientEvent::encode`].
    ///
    /// Which connection takes which: a primary WebSocket all but `transport.dtmf.send`; a
    /// sideband all but `session.start` and `session.input_audio.append`, plus
    /// `transport.dtmf.send`; a fork the primary's set, with [`ForkSessionStart`] as its
    /// `session.start` (read it with [`ClientEvent::decode_fork`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::live::{ClientEvent, SessionConfig};
    ///
    /// let start = ClientEvent::session_start(SessionConfig::phone_call());
    /// assert_eq!(ClientEvent::decode(&start.encode())?, start);
    ///
    /// let append = ClientEvent::input_audio_append("//8=");
    /// assert_eq!(append.encode(), r#"{"type":"session.input_audio.append","audio":"//8="}"#);
    /// # Ok::<(), openai_realtime::DecodeError>(())
    /// ```
    pub enum ClientEvent {
        decoded {
            /// `session.start`: the first event of a primary WebSocket.
            SessionStart(SessionStart) = "session.start",
            /// `session.update`: delegation settings and triggers only.
            SessionUpdate(SessionUpdate) = "session.update",
            /// `session.input_audio.append`: caller audio in the session's format.
            InputAudioAppend(InputAudioAppend) = "session.input_audio.append",
            /// `session.input_audio.mute`
            InputAudioMute(InputAudioMute) = "session.input_audio.mute",
            /// `session.input_audio.unmute`
            InputAudioUnmute(InputAudioUnmute) = "session.input_audio.unmute",
            /// `session.output_audio.fixture.play`: canned PCM16 24 kHz audio.
            OutputAudioFixturePlay(OutputAudioFixturePlay) = "session.output_audio.fixture.play",
            /// `session.instructions.append`: a standing rule.
            InstructionsAppend(InstructionsAppend) = "session.instructions.append",
            /// `session.thinking.append`: silent context.
            ThinkingAppend(ThinkingAppend) = "session.thinking.append",
            /// `session.commentary.append`: something for the model to say in its own words.
            CommentaryAppend(CommentaryAppend) = "session.commentary.append",
            /// `decision.create`: evaluate the configured questions now.
            DecisionCreate(DecisionCreate) = "decision.create",
            /// `decision.item.create`: an input item for future decisions.
            DecisionItemCreate(DecisionItemCreate) = "decision.item.create",
            /// `decision.item.delete`
            DecisionItemDelete(DecisionItemDelete) = "decision.item.delete",
            /// `response.item.create`: an input item for the Responses backend (a
            /// `function_call_output`, typically).
            ResponseItemCreate(ResponseItemCreate) = "response.item.create",
            /// `response.create`: continue the Responses backend once every call has its
            /// output.
            ResponseCreate(ResponseCreate) = "response.create",
            /// `session.close`: the service answers `session.closed`.
            SessionClose(SessionClose) = "session.close",
            /// `transport.dtmf.send` (sideband of a SIP session only): one key.
            TransportDtmfSend(TransportDtmfSend) = "transport.dtmf.send",
        }
        manual {
            /// `session.start` on a fork WebSocket, read by [`ClientEvent::decode_fork`].
            ForkSessionStart(ForkSessionStart) = "session.start",
        }
    }
}

impl ClientEvent {
    /// Decodes a client event of a primary or sideband connection.
    ///
    /// Lenient: members the model does not name are kept in `extra`, an unknown `type` is
    /// [`ClientEvent::Unknown`].
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the frame is not a JSON object with a string `type`, or is a
    /// known event whose body does not match (the error names the event and the field).
    pub fn decode(json: &str) -> Result<Self, DecodeError> {
        let event_type = peek_type(json)?;
        Self::decode_as(json, &event_type)
    }

    /// Decodes a client event of a fork connection, where `session.start` carries a
    /// [`ForkSessionConfig`] (no model).
    ///
    /// # Errors
    ///
    /// As [`ClientEvent::decode`].
    pub fn decode_fork(json: &str) -> Result<Self, DecodeError> {
        let event_type = peek_type(json)?;
        if event_type == "session.start" {
            return crate::codec::decode_body(json, &event_type).map(Self::ForkSessionStart);
        }
        Self::decode_as(json, &event_type)
    }

    /// The `event_id` the client gave this event, if any.
    pub fn event_id(&self) -> Option<&EventId> {
        match self {
            Self::SessionStart(e) => e.event_id.as_ref(),
            Self::SessionUpdate(e) => e.event_id.as_ref(),
            Self::InputAudioAppend(e) => e.event_id.as_ref(),
            Self::InputAudioMute(e) => e.event_id.as_ref(),
            Self::InputAudioUnmute(e) => e.event_id.as_ref(),
            Self::OutputAudioFixturePlay(e) => e.event_id.as_ref(),
            Self::InstructionsAppend(e) => e.event_id.as_ref(),
            Self::ThinkingAppend(e) => e.event_id.as_ref(),
            Self::CommentaryAppend(e) => e.event_id.as_ref(),
            Self::DecisionCreate(e) => Some(&e.event_id),
            Self::DecisionItemCreate(e) => e.event_id.as_ref(),
            Self::DecisionItemDelete(e) => e.event_id.as_ref(),
            Self::ResponseItemCreate(e) => e.event_id.as_ref(),
            Self::ResponseCreate(e) => e.event_id.as_ref(),
            Self::SessionClose(e) => e.event_id.as_ref(),
            Self::TransportDtmfSend(e) => e.event_id.as_ref(),
            Self::ForkSessionStart(e) => e.event_id.as_ref(),
            Self::Unknown(_) => None,
        }
    }

    /// Sets the `event_id`, which the service echoes as `client_event_id` in the events this
    /// one causes (an `error` among them). No effect on `Unknown` events.
    #[must_use]
    pub fn with_event_id(mut self, event_id: impl Into<EventId>) -> Self {
        let id = event_id.into();
        match &mut self {
            Self::SessionStart(e) => e.event_id = Some(id),
            Self::SessionUpdate(e) => e.event_id = Some(id),
            Self::InputAudioAppend(e) => e.event_id = Some(id),
            Self::InputAudioMute(e) => e.event_id = Some(id),
            Self::InputAudioUnmute(e) => e.event_id = Some(id),
            Self::OutputAudioFixturePlay(e) => e.event_id = Some(id),
            Self::InstructionsAppend(e) => e.event_id = Some(id),
            Self::ThinkingAppend(e) => e.event_id = Some(id),
            Self::CommentaryAppend(e) => e.event_id = Some(id),
            Self::DecisionCreate(e) => e.event_id = id,
            Self::DecisionItemCreate(e) => e.event_id = Some(id),
            Self::DecisionItemDelete(e) => e.event_id = Some(id),
            Self::ResponseItemCreate(e) => e.event_id = Some(id),
            Self::ResponseCreate(e) => e.event_id = Some(id),
            Self::SessionClose(e) => e.event_id = Some(id),
            Self::TransportDtmfSend(e) => e.event_id = Some(id),
            Self::ForkSessionStart(e) => e.event_id = Some(id),
            Self::Unknown(_) => {}
        }
        self
    }

    /// `session.start` with a configuration, e.g. [`SessionConfig::phone_call`]. Send it
    /// first and wait for `session.started` before audio or any command.
    pub fn session_start(session: SessionConfig) -> Self {
        Self::SessionStart(SessionStart {
            event_id: None,
            session,
            extra: Extra::new(),
        })
    }

    /// `session.input_audio.append` with base64 audio in the session's format, sent as given
    /// (a Twilio `media.payload` fits unchanged with `audio/pcmu`). Keep sending, silence
    /// included: the session's timeline advances only while input audio flows.
    pub fn input_audio_append(base64_audio: impl Into<String>) -> Self {
        Self::InputAudioAppend(InputAudioAppend {
            event_id: None,
            audio: base64_audio.into(),
            extra: Extra::new(),
        })
    }

    /// `session.update` with sparse delegation or trigger changes.
    pub fn session_update(session: SessionUpdateConfig) -> Self {
        Self::SessionUpdate(SessionUpdate {
            event_id: None,
            session,
            extra: Extra::new(),
        })
    }

    /// `session.close`; the service finalises and answers `session.closed`.
    pub fn session_close() -> Self {
        Self::SessionClose(SessionClose {
            event_id: None,
            extra: Extra::new(),
        })
    }

    /// `session.commentary.append`: `content` for the model to say in its own words, for the
    /// delegation `delegation_id` or, with `None`, unprompted (an outbound call's greeting).
    /// The `delegation_id` member is always written (`null` for `None`): the service
    /// requires it.
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::live::ClientEvent;
    ///
    /// let greet = ClientEvent::commentary_append("Greet the caller and say who you are.", None);
    /// assert_eq!(
    ///     greet.encode(),
    ///     r#"{"type":"session.commentary.append","content":"Greet the caller and say who you are.","delegation_id":null}"#
    /// );
    /// ```
    pub fn commentary_append(
        content: impl Into<String>,
        delegation_id: Option<DelegationId>,
    ) -> Self {
        Self::CommentaryAppend(CommentaryAppend::new(content, delegation_id))
    }

    /// `session.instructions.append`: a standing rule, optionally for a delegation.
    pub fn instructions_append(
        content: impl Into<String>,
        delegation_id: Option<DelegationId>,
    ) -> Self {
        Self::InstructionsAppend(InstructionsAppend::new(content, delegation_id))
    }

    /// `session.thinking.append`: silent context, optionally the result of a delegation.
    pub fn thinking_append(
        content: impl Into<String>,
        delegation_id: Option<DelegationId>,
    ) -> Self {
        Self::ThinkingAppend(ThinkingAppend::new(content, delegation_id))
    }

    /// `response.item.create` with a `function_call_output` answering `call_id` (Responses
    /// delegation). When every open call has its output, send one
    /// [`ClientEvent::response_create`].
    pub fn function_call_output(call_id: impl Into<CallId>, output: impl Into<String>) -> Self {
        Self::ResponseItemCreate(ResponseItemCreate {
            event_id: None,
            item: ResponseItem::FunctionCallOutput(FunctionCallOutput::new(call_id, output)),
            extra: Extra::new(),
        })
    }

    /// `decision.item.create`: context for later decisions (Decisions delegation or
    /// triggers), e.g. [`DecisionItem::user_text`].
    pub fn decision_item_create(item: DecisionItem) -> Self {
        Self::DecisionItemCreate(DecisionItemCreate {
            event_id: None,
            item,
            extra: Extra::new(),
        })
    }

    /// `response.create`.
    pub fn response_create() -> Self {
        Self::ResponseCreate(ResponseCreate {
            event_id: None,
            extra: Extra::new(),
        })
    }
}

/// Starts a Live session on a primary WebSocket (`SessionStartEvent`).
///
/// Wire name: `session.start`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionStart {
    /// Your id for this event; `session.started` or an `error` echo it as
    /// `client_event_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The configuration.
    pub session: SessionConfig,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Starts a fork of a stored session (`ForkSessionStartEvent`).
///
/// Wire name: `session.start` (on a fork WebSocket).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ForkSessionStart {
    /// Your id for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The fork's overrides.
    pub session: ForkSessionConfig,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Changes the delegation settings or triggers of a running session.
///
/// Wire name: `session.update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUpdate {
    /// Your id for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The sparse changes.
    pub session: SessionUpdateConfig,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Sends caller audio: base64 raw audio in the session's format, no header. No commit, no
/// acknowledgement.
///
/// Wire name: `session.input_audio.append`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputAudioAppend {
    /// Your id for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Base64 audio.
    pub audio: String,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Declares an event whose body is only an optional `event_id` (and what the model does not
/// name).
macro_rules! id_only_event {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// Your id for this event; the answer echoes it as `client_event_id`.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub event_id: Option<EventId>,
            /// Members this version does not name.
            #[serde(flatten)]
            pub extra: Extra,
        }
    };
}

id_only_event!(
    /// Mutes the model's input (it hears silence, and keeps speaking); answered by
    /// `session.input_audio.muted`.
    ///
    /// Wire name: `session.input_audio.mute`.
    InputAudioMute
);
id_only_event!(
    /// Unmutes the model's input; answered by `session.input_audio.unmuted`.
    ///
    /// Wire name: `session.input_audio.unmute`.
    InputAudioUnmute
);
id_only_event!(
    /// Asks the Responses backend for a response, or continues one waiting for tool results
    /// (Responses delegation only).
    ///
    /// Wire name: `response.create`.
    ResponseCreate
);
id_only_event!(
    /// Asks the service to close the session; the terminal answer is `session.closed`.
    ///
    /// Wire name: `session.close`.
    SessionClose
);

/// Plays canned audio (base64 PCM16 24 kHz mono, at most 30 s) through the session output,
/// whatever the session's format.
///
/// Wire name: `session.output_audio.fixture.play`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutputAudioFixturePlay {
    /// Your id for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Base64 PCM16 24 kHz audio.
    pub audio: String,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Declares an `…append` event: at most 500 tokens of text, for a delegation or none.
/// Rejected while an audio fixture plays.
macro_rules! append_event {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[non_exhaustive]
        pub struct $name {
            /// Your id for this event; the `…appended` acknowledgement echoes it.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub event_id: Option<EventId>,
            /// The text.
            pub content: String,
            /// The delegation this answers: absent (outer `None`), `null` (`Some(None)`: none)
            /// or an id. The service requires the member; the SDK lets it be left out.
            #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
            pub delegation_id: Option<Option<DelegationId>>,
            /// Members this version does not name.
            #[serde(flatten)]
            pub extra: Extra,
        }

        impl $name {
            /// Text for a delegation, or none; the `delegation_id` member is written either
            /// way.
            pub fn new(content: impl Into<String>, delegation_id: Option<DelegationId>) -> Self {
                Self {
                    event_id: None,
                    content: content.into(),
                    delegation_id: Some(delegation_id),
                    extra: Extra::new(),
                }
            }

            /// The delegation this answers, if any.
            pub fn delegation(&self) -> Option<&DelegationId> {
                self.delegation_id.as_ref().and_then(Option::as_ref)
            }
        }
    };
}

append_event!(
    /// Appends a standing rule: it survives compaction and goes to later delegations.
    ///
    /// Wire name: `session.instructions.append`.
    InstructionsAppend
);
append_event!(
    /// Appends silent context (reasoning, progress, a delegation's result the model should
    /// not read out).
    ///
    /// Wire name: `session.thinking.append`.
    ThinkingAppend
);
append_event!(
    /// Appends something for the model to say in its own words: a delegation's answer, or a
    /// greeting to speak first (after `session.started`, with input audio flowing).
    ///
    /// Wire name: `session.commentary.append`.
    CommentaryAppend
);

/// Evaluates the configured Decisions questions now. The `event_id` is required, and reusing
/// one is refused for the life of the session.
///
/// Wire name: `decision.create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionCreate {
    /// Your id for this evaluation, unique in the session.
    pub event_id: EventId,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Adds an input item for future decisions: a message by `role`, or a `function_call`,
/// `function_call_output`, `custom_tool_call`, `custom_tool_call_output`.
///
/// Wire name: `decision.item.create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionItemCreate {
    /// Your id for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The item.
    pub item: DecisionItem,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Removes an input item from future decisions.
///
/// Wire name: `decision.item.delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionItemDelete {
    /// Your id for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The item to remove.
    pub item_id: ItemId,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Adds an input item to the Responses backend's conversation (Responses delegation only).
///
/// Wire name: `response.item.create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseItemCreate {
    /// Your id for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The item.
    pub item: ResponseItem,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

tagged_enum! {
    /// An input item of the Responses backend (the Responses API's `ResponseInputItem`).
    /// `function_call_output` is typed; messages and the other item types are `Unknown` with
    /// their JSON.
    pub enum ResponseItem {
        /// `function_call_output`: the result of a function call.
        "function_call_output" => FunctionCallOutput(FunctionCallOutput),
    }
}

/// The result of a function call the backend asked for (the Responses API's
/// `FunctionCallOutput` input item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionCallOutput {
    /// The `call_id` of the `function_call` this answers. Optional in the SDK's type; the
    /// service needs it to match the output to its call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<CallId>,
    /// The output: a string (JSON text, usually) or a list of content parts, as JSON.
    pub output: Value,
    /// The item's id, when the API returned it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What produced the call: `{type:"direct"}` or `{type:"program", caller_id}`, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caller: Option<Value>,
    /// The name of the tool that produced the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The namespace of the tool that produced the output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `in_progress`, `completed` or `incomplete`, when the API returned the item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl FunctionCallOutput {
    /// The output `output` (a string, JSON text usually) of the call `call_id`.
    pub fn new(call_id: impl Into<CallId>, output: impl Into<String>) -> Self {
        Self {
            call_id: Some(call_id.into()),
            output: Value::String(output.into()),
            id: None,
            caller: None,
            name: None,
            namespace: None,
            status: None,
            extra: Extra::new(),
        }
    }
}

/// Sends one DTMF key to the SIP trunk (sideband of a SIP session only); confirmed by
/// `transport.dtmf.sent`.
///
/// Wire name: `transport.dtmf.send`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TransportDtmfSend {
    /// Your id for this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The key: `0`–`9`, `A`–`D`, `*` or `#`.
    pub event: String,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}
