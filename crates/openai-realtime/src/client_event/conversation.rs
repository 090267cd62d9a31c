//! `conversation.item.*` client events.

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::{EventId, ItemId};
use crate::resource::item::Item;

/// Adds an item to the conversation: a message, or a `function_call_output` answering a call.
/// The answer is `conversation.item.added` then `.done` (beta: `conversation.item.created`).
///
/// Wire name: `conversation.item.create`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemCreate {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// Insert after this item (`root` for the beginning); the default is the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Item,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Asks for an item, audio included. The answer is `conversation.item.retrieved`.
///
/// Wire name: `conversation.item.retrieve`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemRetrieve {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The item.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Cuts an assistant item's audio at what the caller actually heard, and deletes its transcript,
/// so the model does not believe it said unheard words. The answer is
/// `conversation.item.truncated`; an `audio_end_ms` past the item's audio is an error.
///
/// Wire name: `conversation.item.truncate`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemTruncate {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The assistant item being played.
    pub item_id: ItemId,
    /// The content part (use 0).
    pub content_index: u32,
    /// Milliseconds of that item's audio that were played.
    pub audio_end_ms: u32,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Removes an item. The answer is `conversation.item.deleted`.
///
/// Wire name: `conversation.item.delete`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConversationItemDelete {
    /// Your id for this event; an `error` it causes echoes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<EventId>,
    /// The item.
    pub item_id: ItemId,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}
