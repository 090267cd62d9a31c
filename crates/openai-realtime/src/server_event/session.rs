//! `session.created` and `session.updated` (beta also `transcription_session.*`).

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::EventId;
use crate::resource::session::Session;

/// The first event of every session, with the default configuration. In the beta dialect a
/// transcription session arrives as `transcription_session.created`.
///
/// Wire name: `session.created`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionCreated {
    /// The server event id.
    pub event_id: EventId,
    /// The effective configuration (with `expires_at`).
    pub session: Session,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// The answer to `session.update`: the full effective configuration. Check its audio formats
/// before forwarding audio. In the beta dialect a transcription session arrives as
/// `transcription_session.updated`.
///
/// Wire name: `session.updated`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUpdated {
    /// The server event id.
    pub event_id: EventId,
    /// The effective configuration.
    pub session: Session,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl SessionCreated {
    /// The event for a session configuration.
    pub fn new(event_id: impl Into<EventId>, session: impl Into<Session>) -> Self {
        Self {
            event_id: event_id.into(),
            session: session.into(),
            extra: Default::default(),
        }
    }
}

impl SessionUpdated {
    /// The event for a session configuration.
    pub fn new(event_id: impl Into<EventId>, session: impl Into<Session>) -> Self {
        Self {
            event_id: event_id.into(),
            session: session.into(),
            extra: Default::default(),
        }
    }
}
