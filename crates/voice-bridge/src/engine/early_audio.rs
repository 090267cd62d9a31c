//! Caller audio that arrives before the agent is ready.
//!
//! The caller's first words often come while the agent's socket is still opening. They
//! are held here, in order, up to a configured duration; when the buffer is full the
//! oldest frames go first (the newest audio matters most to a turn detector). Once the
//! agent is ready the engine delivers them all before any newer frame.
//!
//! Agent audio that comes after the agent is ready but before the call leg has started (an
//! agent that greets first, its audio racing the call's `start`) is held the same way, in
//! a buffer of its own, and played as soon as the call starts.

use std::collections::VecDeque;
use std::time::Duration;

use crate::agent::AgentAudio;
use crate::audio::AudioChunk;

/// Something held: audio with a duration.
pub(crate) trait Held {
    fn chunk(&self) -> &AudioChunk;
}

impl Held for AudioChunk {
    fn chunk(&self) -> &AudioChunk {
        self
    }
}

impl Held for AgentAudio {
    fn chunk(&self) -> &AudioChunk {
        &self.chunk
    }
}

#[derive(Debug)]
pub(crate) struct EarlyAudio<T = AudioChunk> {
    frames: VecDeque<T>,
    held_us: u64,
    limit_us: u64,
    pub(crate) buffered: u64,
    pub(crate) dropped: u64,
}

impl<T: Held> EarlyAudio<T> {
    pub(crate) fn new(limit: Duration) -> Self {
        Self {
            frames: VecDeque::new(),
            held_us: 0,
            limit_us: u64::try_from(limit.as_micros()).unwrap_or(u64::MAX),
            buffered: 0,
            dropped: 0,
        }
    }

    /// Holds a frame, dropping the oldest ones beyond the limit.
    pub(crate) fn hold(&mut self, held: T) {
        self.buffered += 1;
        self.held_us += duration_us(held.chunk());
        self.frames.push_back(held);
        while self.held_us > self.limit_us {
            let Some(oldest) = self.frames.pop_front() else {
                break;
            };
            self.held_us -= duration_us(oldest.chunk());
            self.dropped += 1;
        }
    }

    /// Hands over the held frames, oldest first.
    pub(crate) fn release(&mut self) -> impl Iterator<Item = T> + '_ {
        self.held_us = 0;
        self.frames.drain(..)
    }
}

fn duration_us(chunk: &AudioChunk) -> u64 {
    chunk.byte_len() as u64 * 1_000_000 / u64::from(chunk.format().bytes_per_second())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::AudioFormat;

    fn frame(tag: u8) -> AudioChunk {
        AudioChunk::from_bytes(AudioFormat::MuLaw, vec![tag; 160]).unwrap()
    }

    #[test]
    fn overflow_drops_the_oldest_and_keeps_order() {
        let mut early = EarlyAudio::new(Duration::from_millis(60));
        for tag in 0..5 {
            early.hold(frame(tag));
        }
        assert_eq!((early.buffered, early.dropped), (5, 2));
        let tags: Vec<u8> = early.release().map(|c| c.to_bytes()[0]).collect();
        assert_eq!(tags, [2, 3, 4]);
        assert_eq!(early.release().count(), 0);
    }
}
