//! Joining agent deltas into fewer media messages.
//!
//! Agents send audio faster than real time in deltas of 20-200 ms. Each delta forwarded
//! as it came costs a media message and a mark to the call leg, and a mark echo back.
//! The caller's side plays in real time, so once it has audio queued, a new delta will
//! not be heard before the queue ahead of it has played: holding it costs nothing.
//!
//! The rule, for agent audio of one item of a running response:
//!
//! - Nothing held and less than half a [`playback_chunk`] queued at the caller (by the
//!   ledger's clock): send the delta now, as it came (the first audio of an answer
//!   always goes out at once).
//! - Otherwise hold it behind what is held. Once the held audio reaches a
//!   [`playback_chunk`], send it as one message.
//! - Send what is held when the caller's queue runs down to half a chunk (a timer), when
//!   the response ends or the agent leg closes, and before audio of another item.
//! - A barge-in drops what is held (it was never sent, so nobody heard it); so does the
//!   end of the call or a failed agent.
//!
//! Held deltas are joined as decoded bytes (a base64 text can only be appended to at a
//! 3-byte boundary, which 20 ms frames of G.711 are not); a message of one delta keeps
//! the delta's own payload untouched.
//!
//! [`playback_chunk`]: crate::BridgeConfig::playback_chunk

use std::time::{Duration, Instant};

use crate::audio::{AudioChunk, AudioFormat};
use crate::call::AudioSource;

use super::{Engine, State};

/// Agent audio waiting to go out as one message.
#[derive(Debug)]
pub(crate) struct Held {
    /// The item's ledger slot.
    slot: usize,
    source: AudioSource,
    /// Bytes of the item, in the agent's format, that the held audio stands for.
    agent_bytes: u64,
    /// Deltas held (for the counters).
    deltas: u64,
    /// The first delta, untouched while it is alone.
    first: Option<AudioChunk>,
    /// The decoded bytes, in the call's format, once a second delta joined.
    joined: Vec<u8>,
    format: AudioFormat,
}

impl Held {
    fn new(slot: usize, source: AudioSource, chunk: AudioChunk, agent_bytes: u64) -> Self {
        Self {
            slot,
            source,
            agent_bytes,
            deltas: 1,
            format: chunk.format(),
            first: Some(chunk),
            joined: Vec::new(),
        }
    }

    fn push(&mut self, chunk: &AudioChunk, agent_bytes: u64) {
        if let Some(first) = self.first.take() {
            first.append_to(&mut self.joined);
        }
        chunk.append_to(&mut self.joined);
        self.agent_bytes += agent_bytes;
        self.deltas += 1;
    }

    fn byte_len(&self) -> usize {
        match &self.first {
            Some(first) => first.byte_len(),
            None => self.joined.len(),
        }
    }

    fn into_chunk(self) -> AudioChunk {
        match self.first {
            Some(first) => first,
            None => AudioChunk::from_whole_samples(self.format, self.joined),
        }
    }
}

impl Engine {
    /// Half a chunk: below this much queued at the caller, audio goes out at once.
    fn low_water(&self) -> Duration {
        self.config.playback_chunk / 2
    }

    /// Sends agent audio now or holds it to join the next message (see the module docs).
    pub(super) fn hold_or_send(
        &mut self,
        slot: usize,
        chunk: AudioChunk,
        source: AudioSource,
        agent_bytes: u64,
    ) {
        if self.held.as_ref().is_some_and(|held| held.slot != slot) {
            self.flush_held();
        }
        let queue_full = self.playback.queued_ahead() >= self.low_water();
        match self.held.as_mut() {
            Some(held) => held.push(&chunk, agent_bytes),
            None if self.response_active && queue_full => {
                self.held = Some(Held::new(slot, source, chunk, agent_bytes));
            }
            None => {
                self.send_agent_message(slot, chunk, source, agent_bytes);
                return;
            }
        }
        let target = self.playback_chunk_bytes;
        if self
            .held
            .as_ref()
            .is_some_and(|held| held.byte_len() >= target)
        {
            self.flush_held();
        }
    }

    /// Sends what is held, if anything, as one message (cut if too long).
    pub(super) fn flush_held(&mut self) {
        let Some(held) = self.held.take() else {
            return;
        };
        let (slot, source, agent_bytes) = (held.slot, held.source.clone(), held.agent_bytes);
        self.counters.agent_deltas_joined += held.deltas.saturating_sub(1);
        self.send_agent_message(slot, held.into_chunk(), source, agent_bytes);
    }

    /// Drops what is held (a barge-in, a failed agent, the end): nobody heard it.
    pub(super) fn drop_held(&mut self) {
        if let Some(held) = self.held.take() {
            self.counters.agent_frames_discarded += held.deltas;
        }
    }

    /// How long the held audio plays, if any.
    pub(super) fn held_play_time(&self) -> Duration {
        self.held.as_ref().map_or(Duration::ZERO, |held| {
            held.format.play_time(held.byte_len() as u64)
        })
    }

    /// When held audio must go out: the caller's queue is down to half a chunk.
    pub(super) fn held_deadline(&self) -> Option<Instant> {
        self.held.as_ref()?;
        Some(
            self.playback
                .queue_down_to(self.low_water())
                .unwrap_or(self.now),
        )
    }

    /// After every input: send held audio that is due, or drop it if it can no longer be
    /// played.
    pub(super) fn settle_held(&mut self) {
        if self.held.is_none() {
            return;
        }
        let playable = matches!(self.state, State::Active | State::Ending(_)) && self.call_open;
        if !playable || self.discard_response {
            self.drop_held();
            return;
        }
        let due = self.held_deadline().is_some_and(|at| at <= self.now);
        if due || !self.response_active || !self.agent_open {
            self.flush_held();
        }
    }
}
