//! Agent sessions opened while the phone rings (`voice_bridge::warm`), so the callee hears
//! the greeting as soon as they answer instead of after the service's handshake.
//!
//! The call's `ringing` (or, if that one was missed, `answered`) status callback carries
//! the signed appointment in its URL ([`crate::server::status_callback_url`]): the bot opens
//! the agent session for it, keyed by the CallSid. The stream whose `start` names that
//! CallSid takes it ([`WarmSessions::take`]); any other stream, or a call whose warm
//! session failed or expired, connects cold, as before. A call that ends without a stream
//! (busy, no answer, failed, canceled) closes its session at that status callback; one
//! nobody takes is closed [`CLAIM_LIMIT`] after it opened.
//!
//! With several instances the callback and the stream may reach different ones: the
//! stream's instance connects cold and the other closes its session at the limit.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use voice_bridge::warm::WarmAgent;

use crate::appointment::Appointment;
use crate::config::AgentConfig;
use crate::legs::{self, AgentLegBox};

/// How long a warm session waits for its stream: Twilio rings for 60 s by default, and
/// the stream starts within a second or two of the answer.
pub const CLAIM_LIMIT: Duration = Duration::from_secs(75);

/// The warm sessions of calls not yet streamed, by CallSid.
#[derive(Debug, Default)]
pub struct WarmSessions {
    open: Mutex<HashMap<String, WarmAgent<AgentLegBox>>>,
}

impl WarmSessions {
    /// Opens the agent session for `call_sid`'s `appointment`, unless one is already open
    /// for it. Returns whether one was opened.
    pub fn open(&self, call_sid: &str, agent: &AgentConfig, appointment: &Appointment) -> bool {
        let mut open = self.lock();
        // Entries nobody took are closed by their task at the limit; forget them here.
        open.retain(|_, warm| warm.age() < CLAIM_LIMIT);
        if open.contains_key(call_sid) {
            return false;
        }
        let span = tracing::info_span!("warm", call_sid, appointment_id = %appointment.id);
        let warm = span.in_scope(|| {
            tracing::debug!("opening the agent session while the phone rings");
            WarmAgent::open(legs::agent_leg(agent, appointment), CLAIM_LIMIT)
        });
        open.insert(call_sid.to_owned(), warm);
        true
    }

    /// The agent leg opened for `call_sid`, if one is open and still good.
    pub async fn take(&self, call_sid: &str) -> Option<voice_bridge::warm::Warmed<AgentLegBox>> {
        let warm = self.lock().remove(call_sid)?;
        warm.claim().await
    }

    /// Closes `call_sid`'s session, if any (its call ended without a stream).
    pub fn discard(&self, call_sid: &str) -> bool {
        self.lock().remove(call_sid).is_some()
    }

    /// How many are open.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, WarmAgent<AgentLegBox>>> {
        // A panic while holding the lock leaves the map as it was: keep using it.
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
