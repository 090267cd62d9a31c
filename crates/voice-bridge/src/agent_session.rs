//! The agent sessions a call ran on, for the report: one, or several when a long call was
//! continued in a fresh session before the service's limit.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

/// One agent session of a call, as [`AgentLeg::sessions`](crate::AgentLeg::sessions)
/// reports it and [`CallReport::agent_sessions`](crate::CallReport::agent_sessions) lists.
///
/// ```
/// use voice_bridge::{AgentSessionInfo, SessionEnd};
/// let mut first = AgentSessionInfo::started("sess_1", 1_700_000_000_000);
/// first.end(1_700_003_300_000, SessionEnd::Renewed { at_turn_boundary: true });
/// assert_eq!(first.ended_unix_ms, Some(1_700_003_300_000));
/// assert_eq!(first.to_string(), "sess_1: continued in a fresh session at a turn boundary");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AgentSessionInfo {
    /// The service's id for the session (OpenAI: `sess_…`).
    pub id: String,
    /// When it was confirmed, in milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// When it ended, in milliseconds since the Unix epoch; `None` while it is open.
    pub ended_unix_ms: Option<u64>,
    /// Why it ended; `None` while it is open.
    pub end: Option<SessionEnd>,
}

impl AgentSessionInfo {
    /// A session `id` that started at `started_unix_ms` and is still open.
    pub fn started(id: impl Into<String>, started_unix_ms: u64) -> Self {
        Self {
            id: id.into(),
            started_unix_ms,
            ended_unix_ms: None,
            end: None,
        }
    }

    /// Records its end (the first one told counts).
    pub fn end(&mut self, ended_unix_ms: u64, end: SessionEnd) {
        if self.end.is_none() {
            self.ended_unix_ms = Some(ended_unix_ms);
            self.end = Some(end);
        }
    }
}

impl std::fmt::Display for AgentSessionInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.end {
            Some(end) => write!(f, "{}: {end}", self.id),
            None => write!(f, "{}: open", self.id),
        }
    }
}

/// Why an agent session ended.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionEnd {
    /// The call went on in a fresh session, carrying the conversation: at a turn boundary,
    /// or (`at_turn_boundary` false) at the hard margin before the service's limit.
    Renewed {
        /// Whether the switch came between turns.
        at_turn_boundary: bool,
    },
    /// The bridge closed it (the call ended).
    Closed,
    /// It ended on its own: the service closed it, it expired, or the connection failed.
    Ended {
        /// The end in words (the leg's end, with the service's code and reason).
        reason: String,
    },
}

impl std::fmt::Display for SessionEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Renewed {
                at_turn_boundary: true,
            } => f.write_str("continued in a fresh session at a turn boundary"),
            Self::Renewed {
                at_turn_boundary: false,
            } => f.write_str("continued in a fresh session at the hard margin, mid-turn"),
            Self::Closed => f.write_str("closed by the bridge"),
            Self::Ended { reason } => write!(f, "ended: {reason}"),
        }
    }
}

/// Now, in milliseconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_ms_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
