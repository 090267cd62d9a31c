//! Barge-in: the caller speaks over the agent.
//!
//! The agent produces audio faster than real time, so at any moment the caller's phone
//! may hold seconds of queued audio, possibly of an earlier item than the one arriving
//! now. What the caller heard comes from the marks the call leg echoed, and, between two
//! echoes, from the clock: the call leg plays in real time, so the message after the last
//! echoed mark has played for the time since that echo (or since it was sent, if it
//! reached an empty queue), never past its own mark (`playback.rs`). On "caller started
//! speaking", in this order:
//!
//! 1. Agent audio held to be joined into the next message (`coalesce.rs`) is dropped: it
//!    was never sent.
//! 2. `Clear` to the call leg, if any agent audio is still queued there (pending marks).
//!    The echoes of the marks pending now will say "cleared", not "heard".
//! 3. `CancelResponse` to the agent, if a response is still being generated (and the
//!    config asks for it); later audio of that response is dropped.
//! 4. `Truncate` to the agent for the item the caller was hearing (the item of the oldest
//!    pending mark) at the milliseconds of it the caller heard. Items queued behind it,
//!    and the item still being generated, are truncated at what was heard of them (often
//!    0), so the agent does not believe it said words nobody heard.
//!
//! The truncation does not depend on the size of the media messages: with one mark per
//! message of about 200 ms ([`BridgeConfig::playback_chunk`]) it is as exact as a mark
//! per 20 ms frame was, within the network's one-way latency, at a tenth of the messages.
//!
//! [`BridgeConfig::playback_chunk`]: crate::BridgeConfig::playback_chunk
//!
//! After an answer that played out whole (every mark echoed, response done) there is
//! nothing to clear, cancel or truncate: the agent's memory already matches what the
//! caller heard, and truncating at the full length would only risk the "audio_end_ms
//! beyond the item's length" error. Such a barge-in is not recorded.
//!
//! An agent that stops itself ([`Interruption::Agent`], GPT-Live) gets neither the cancel
//! nor the truncation: the service already stopped, and its memory is what it played in
//! real time. Steps 1 and 2 still run: the caller's queue holds agent audio the service
//! has abandoned.
//!
//! While the call is ending (a tool's goodbye is playing) or the fallback is playing,
//! the caller's speech interrupts nothing: the call is about to end either way.

use crate::agent::{AgentCommand, Interruption};
use crate::call::CallCommand;
use crate::report::BargeIn;

use super::{Action, Engine, State};

impl Engine {
    /// The barge-in rule (see the module docs).
    pub(super) fn barge_in(&mut self) {
        if !matches!(self.state, State::Active) {
            return;
        }
        let playing = self.playback.is_playing();
        let generating = self.response_active;
        if !playing && !generating {
            return;
        }
        // Audio held to be joined was never sent: nobody heard it.
        self.drop_held();
        let mut items = Vec::new();
        if playing {
            self.push(Action::Call(CallCommand::Clear));
            items = self.playback.clear().items;
        }
        let mut record = BargeIn {
            at_ms: self.at_ms(),
            item_id: None,
            heard_ms: 0,
            sent_ms: 0,
            truncated_ms: None,
            cancelled_response: false,
        };
        // An agent that stops itself (GPT-Live) is neither cancelled nor truncated: its
        // timeline is what it played.
        let bridge_stops = self
            .agent_ready
            .is_none_or(|ready| ready.interruption == Interruption::Bridge);
        if generating {
            if let Some(current) = self.current_item.filter(|slot| !items.contains(slot)) {
                items.push(current);
            }
            self.discard_response = true;
            if self.config.cancel_on_barge_in && bridge_stops {
                self.push(Action::Agent(AgentCommand::CancelResponse));
                record.cancelled_response = true;
            }
        }
        for (n, slot) in items.into_iter().enumerate() {
            let item = self.playback.item_mut(slot);
            item.muted = true;
            let heard_ms = item.heard_ms();
            let audio_end_ms = u32::try_from(heard_ms).unwrap_or(u32::MAX);
            let truncate = AgentCommand::Truncate {
                item_id: item.id.clone(),
                content_index: item.content_index,
                audio_end_ms,
            };
            if n == 0 {
                record.item_id = Some(item.id.clone());
                record.heard_ms = heard_ms;
                record.sent_ms = item.sent_ms();
                record.truncated_ms = bridge_stops.then_some(audio_end_ms);
            }
            if bridge_stops {
                self.push(Action::Agent(truncate));
            }
        }
        tracing::info!(
            item_id = record.item_id.as_ref().map(|id| id.as_str()),
            heard_ms = record.heard_ms,
            sent_ms = record.sent_ms,
            cancelled = record.cancelled_response,
            "barge-in"
        );
        self.barge_ins.push(record);
    }
}
