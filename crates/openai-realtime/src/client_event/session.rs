//! `session.update` (and the beta `transcription_session.update`).

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::EventId;
use crate::resource::session::Session;

/// Changes the session configuration. The service answers `session.updated` with the full
/// effective configuration, or an `error` (and then keeps the old configuration whole).
///
/// In the beta dialect a transcription session is written `transcription_session.update`.
///
/// Wire name: `session.update`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUpdate {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The configuration: a realtime or a transcription session. Only the fields present change.
    pub session: Session,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl SessionUpdate {
    /// An update with this configuration.
    pub fn new(session: impl Into<Session>) -> Self {
        Self {
            event_id: None,
            session: session.into(),
            extra: Default::default(),
        }
    }
}
