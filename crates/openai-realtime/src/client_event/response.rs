//! `response.create` and `response.cancel`.

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, ResponseId};
use crate::resource::response::ResponseParams;

/// Asks the model to respond. The answer is `response.created` ... `response.done`, or
/// `conversation_already_has_active_response` while another response runs.
///
/// Wire name: `response.create`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseCreate {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Overrides for this response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<Box<ResponseParams>>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Cancels a response. The answer is `response.done` with status `cancelled`, or the harmless
/// error `response_cancel_not_active`.
///
/// Wire name: `response.cancel`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ResponseCancel {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The response; the default is the running one of the default conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<ResponseId>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}
