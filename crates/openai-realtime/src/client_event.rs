//! Events the client sends: [`ClientEvent`] and one struct per wire event.

mod conversation;
mod input_audio_buffer;
mod response;
mod session;

pub use conversation::{
    ConversationItemCreate, ConversationItemDelete, ConversationItemRetrieve,
    ConversationItemTruncate,
};
pub use input_audio_buffer::{
    InputAudioBufferAppend, InputAudioBufferClear, InputAudioBufferCommit, OutputAudioBufferClear,
};
pub use response::{ResponseCancel, ResponseCreate};
pub use session::SessionUpdate;

use crate::codec::{decode_in, encode_beta, event_enum};
use crate::dialect::Dialect;
use crate::error::DecodeError;
use crate::ids::{CallId, EventId, ItemId, ResponseId};
use crate::resource::item::Item;
use crate::resource::response::ResponseParams;
use crate::resource::session::Session;

event_enum! {
    /// An event the client sends to the service (the 11 GA client events; the beta
    /// `transcription_session.update` is a [`SessionUpdate`] with a transcription session).
    ///
    /// Build the ones a bridge sends with the constructors
    /// ([`ClientEvent::input_audio_append`], [`ClientEvent::truncate`],
    /// [`ClientEvent::function_call_output`], …), write them with [`ClientEvent::encode`].
    ///
    /// # Forward compatibility
    ///
    /// A `type` this version does not know decodes to `Unknown` with the raw JSON; encoding
    /// writes that JSON back unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::{ClientEvent, Dialect, RealtimeSession};
    ///
    /// let update = ClientEvent::session_update(RealtimeSession::phone_call());
    /// let json = update.encode(Dialect::Ga);
    /// assert!(json.contains(r#""type":"audio/pcmu""#));
    /// assert_eq!(ClientEvent::decode(&json, Dialect::Ga).unwrap(), update);
    ///
    /// let append = ClientEvent::input_audio_append("//8=");
    /// assert_eq!(append.encode(Dialect::Ga), r#"{"type":"input_audio_buffer.append","audio":"//8="}"#);
    /// ```
    pub enum ClientEvent {
        /// `session.update` (beta also `transcription_session.update`).
        SessionUpdate(SessionUpdate) = "session.update",
        /// `input_audio_buffer.append`
        InputAudioBufferAppend(InputAudioBufferAppend) = "input_audio_buffer.append",
        /// `input_audio_buffer.commit`
        InputAudioBufferCommit(InputAudioBufferCommit) = "input_audio_buffer.commit",
        /// `input_audio_buffer.clear`
        InputAudioBufferClear(InputAudioBufferClear) = "input_audio_buffer.clear",
        /// `conversation.item.create`
        ConversationItemCreate(ConversationItemCreate) = "conversation.item.create",
        /// `conversation.item.retrieve`
        ConversationItemRetrieve(ConversationItemRetrieve) = "conversation.item.retrieve",
        /// `conversation.item.truncate`
        ConversationItemTruncate(ConversationItemTruncate) = "conversation.item.truncate",
        /// `conversation.item.delete`
        ConversationItemDelete(ConversationItemDelete) = "conversation.item.delete",
        /// `response.create`
        ResponseCreate(ResponseCreate) = "response.create",
        /// `response.cancel`
        ResponseCancel(ResponseCancel) = "response.cancel",
        /// `output_audio_buffer.clear` (WebRTC/SIP only)
        OutputAudioBufferClear(OutputAudioBufferClear) = "output_audio_buffer.clear",
    }
}

impl ClientEvent {
    /// Decodes a client event written in `dialect`. Beta names and shapes decode to the same
    /// variants as GA.
    ///
    /// Lenient, like a client should be: unknown fields are kept in `extra` ([`Extra`](crate::Extra),
    /// written back by [`encode`](Self::encode)) and an unknown `type` is
    /// [`ClientEvent::Unknown`]. To refuse what the service refuses, use
    /// [`ClientEvent::decode_strict`].
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the frame is not a JSON object with a string `type`, or is a known
    /// event whose body does not match (the error names the event and field).
    pub fn decode(json: &str, dialect: Dialect) -> Result<Self, DecodeError> {
        decode_in(json, dialect, Self::GA_TYPES, Self::decode_ga)
    }

    /// Writes the event in `dialect`. `Unknown` events are written back as received.
    ///
    /// What one dialect cannot express is left out; see [the dialect notes](crate::dialect).
    pub fn encode(&self, dialect: Dialect) -> String {
        // The hot event, written directly when its text needs no escape (the same bytes, in
        // both dialects: the name is the same).
        if let Self::InputAudioBufferAppend(event) = self {
            if let Some(text) = crate::fast::append(event) {
                return text;
            }
        }
        self.encode_generic(dialect)
    }

    /// [`encode`](Self::encode) without the fast path: what the fast path must match.
    pub(crate) fn encode_generic(&self, dialect: Dialect) -> String {
        if let Self::Unknown(event) = self {
            return event.raw().to_owned();
        }
        match dialect {
            Dialect::Beta => encode_beta(
                self.event_type(),
                |name| self.encode_named(name),
                || self.to_ga_value(),
            ),
            // GA: the beta-only fields kept in the model are left out, the GA service refuses
            // them.
            _ => match self.without_beta_only() {
                Some(event) => event.encode_named(event.event_type()),
                None => self.encode_named(self.event_type()),
            },
        }
    }

    /// A copy without the fields only the beta dialect has, or `None` when there are none.
    fn without_beta_only(&self) -> Option<Self> {
        match self {
            Self::SessionUpdate(e) => e.session.without_beta_only().map(|session| {
                Self::SessionUpdate(SessionUpdate {
                    event_id: e.event_id.clone(),
                    session,
                    extra: Default::default(),
                })
            }),
            Self::ResponseCreate(e)
                if e.response.as_ref().is_some_and(|r| r.temperature.is_some()) =>
            {
                let mut e = e.clone();
                if let Some(response) = e.response.as_mut() {
                    response.temperature = None;
                }
                Some(Self::ResponseCreate(e))
            }
            _ => None,
        }
    }

    /// The `event_id` the client gave this event, if any.
    pub fn event_id(&self) -> Option<&EventId> {
        match self {
            Self::SessionUpdate(e) => e.event_id.as_ref(),
            Self::InputAudioBufferAppend(e) => e.event_id.as_ref(),
            Self::InputAudioBufferCommit(e) => e.event_id.as_ref(),
            Self::InputAudioBufferClear(e) => e.event_id.as_ref(),
            Self::ConversationItemCreate(e) => e.event_id.as_ref(),
            Self::ConversationItemRetrieve(e) => e.event_id.as_ref(),
            Self::ConversationItemTruncate(e) => e.event_id.as_ref(),
            Self::ConversationItemDelete(e) => e.event_id.as_ref(),
            Self::ResponseCreate(e) => e.event_id.as_ref(),
            Self::ResponseCancel(e) => e.event_id.as_ref(),
            Self::OutputAudioBufferClear(e) => e.event_id.as_ref(),
            Self::Unknown(_) => None,
        }
    }

    /// Sets the `event_id`, which an `error` this event causes will echo. No effect on
    /// `Unknown` events.
    #[must_use]
    pub fn with_event_id(mut self, event_id: impl Into<EventId>) -> Self {
        let id = Some(event_id.into());
        match &mut self {
            Self::SessionUpdate(e) => e.event_id = id,
            Self::InputAudioBufferAppend(e) => e.event_id = id,
            Self::InputAudioBufferCommit(e) => e.event_id = id,
            Self::InputAudioBufferClear(e) => e.event_id = id,
            Self::ConversationItemCreate(e) => e.event_id = id,
            Self::ConversationItemRetrieve(e) => e.event_id = id,
            Self::ConversationItemTruncate(e) => e.event_id = id,
            Self::ConversationItemDelete(e) => e.event_id = id,
            Self::ResponseCreate(e) => e.event_id = id,
            Self::ResponseCancel(e) => e.event_id = id,
            Self::OutputAudioBufferClear(e) => e.event_id = id,
            Self::Unknown(_) => {}
        }
        self
    }

    /// `session.update` with a configuration, e.g. [`RealtimeSession::phone_call`](crate::RealtimeSession::phone_call).
    pub fn session_update(session: impl Into<Session>) -> Self {
        Self::SessionUpdate(SessionUpdate::new(session))
    }

    /// `input_audio_buffer.append` with base64 audio in the session's input format. The text
    /// is sent as given (a Twilio `media.payload` fits unchanged with G.711 mu-law).
    pub fn input_audio_append(base64_audio: impl Into<String>) -> Self {
        Self::InputAudioBufferAppend(InputAudioBufferAppend {
            event_id: None,
            audio: base64_audio.into(),
            extra: Default::default(),
        })
    }

    /// `input_audio_buffer.commit`.
    pub fn input_audio_commit() -> Self {
        Self::InputAudioBufferCommit(InputAudioBufferCommit {
            event_id: None,
            extra: Default::default(),
        })
    }

    /// `input_audio_buffer.clear`.
    pub fn input_audio_clear() -> Self {
        Self::InputAudioBufferClear(InputAudioBufferClear {
            event_id: None,
            extra: Default::default(),
        })
    }

    /// `conversation.item.create` appending an item.
    pub fn item_create(item: Item) -> Self {
        Self::ConversationItemCreate(ConversationItemCreate {
            event_id: None,
            previous_item_id: None,
            item,
            extra: Default::default(),
        })
    }

    /// `conversation.item.create` with a `function_call_output` answering `call_id`.
    /// Follow it with [`ClientEvent::response_create`] so the model speaks again.
    pub fn function_call_output(call_id: impl Into<CallId>, output: impl Into<String>) -> Self {
        Self::item_create(Item::function_call_output(call_id, output))
    }

    /// `conversation.item.retrieve`.
    pub fn item_retrieve(item_id: impl Into<ItemId>) -> Self {
        Self::ConversationItemRetrieve(ConversationItemRetrieve {
            event_id: None,
            item_id: item_id.into(),
            extra: Default::default(),
        })
    }

    /// `conversation.item.truncate`: cut the assistant item `item_id` at `audio_end_ms` of its
    /// audio (what the caller heard); `content_index` is 0 for audio.
    pub fn truncate(item_id: impl Into<ItemId>, content_index: u32, audio_end_ms: u32) -> Self {
        Self::ConversationItemTruncate(ConversationItemTruncate {
            event_id: None,
            item_id: item_id.into(),
            content_index,
            audio_end_ms,
            extra: Default::default(),
        })
    }

    /// `conversation.item.delete`.
    pub fn item_delete(item_id: impl Into<ItemId>) -> Self {
        Self::ConversationItemDelete(ConversationItemDelete {
            event_id: None,
            item_id: item_id.into(),
            extra: Default::default(),
        })
    }

    /// `response.create` with no overrides.
    pub fn response_create() -> Self {
        Self::ResponseCreate(ResponseCreate {
            event_id: None,
            response: None,
            extra: Default::default(),
        })
    }

    /// `response.create` with per-response overrides.
    pub fn response_create_with(params: ResponseParams) -> Self {
        Self::ResponseCreate(ResponseCreate {
            event_id: None,
            response: Some(Box::new(params)),
            extra: Default::default(),
        })
    }

    /// `response.cancel` of the running response.
    pub fn response_cancel() -> Self {
        Self::ResponseCancel(ResponseCancel {
            event_id: None,
            response_id: None,
            extra: Default::default(),
        })
    }

    /// `response.cancel` of a given response.
    pub fn response_cancel_id(response_id: impl Into<ResponseId>) -> Self {
        Self::ResponseCancel(ResponseCancel {
            event_id: None,
            response_id: Some(response_id.into()),
            extra: Default::default(),
        })
    }

    /// `output_audio_buffer.clear` (WebRTC/SIP only).
    pub fn output_audio_clear() -> Self {
        Self::OutputAudioBufferClear(OutputAudioBufferClear {
            event_id: None,
            extra: Default::default(),
        })
    }
}
