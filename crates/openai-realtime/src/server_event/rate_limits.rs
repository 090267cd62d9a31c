//! `rate_limits.updated`.

use crate::Extra;
use serde::{Deserialize, Serialize};

use crate::ids::EventId;
use crate::open_enum::open_enum;

/// The limits after the tokens of a starting response were reserved. Information only.
///
/// Wire name: `rate_limits.updated`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RateLimitsUpdated {
    /// The server event id.
    pub event_id: EventId,
    /// One entry per limit.
    pub rate_limits: Vec<RateLimit>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// One rate limit.
///
/// JSON field: `rate_limits[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RateLimit {
    /// `requests` or `tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<RateLimitName>,
    /// The limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// What is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remaining: Option<u64>,
    /// Seconds until it resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset_seconds: Option<f64>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

open_enum! {
    /// The name of a rate limit.
    pub enum RateLimitName {
        /// `requests`
        Requests = "requests",
        /// `tokens`
        Tokens = "tokens",
    }
}
