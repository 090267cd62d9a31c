//! The `error` event.

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::ids::EventId;

/// The service refused something, or failed. Most errors leave the session open; the fatal ones
/// (`invalid_api_key`, `beta_api_shape_disabled`, `model_not_found`, `session_expired`) are
/// followed by a close.
///
/// Wire name: `error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorEvent {
    /// The server event id.
    pub event_id: EventId,
    /// What went wrong, and which client event caused it.
    pub error: ApiError,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ErrorEvent {
    /// The event for an error payload.
    pub fn new(event_id: impl Into<EventId>, error: ApiError) -> Self {
        Self {
            event_id: event_id.into(),
            error,
            extra: Default::default(),
        }
    }
}
