//! Playback accounting: which bytes of which agent item the caller has heard.
//!
//! After every frame of audio it sends to the caller (agent deltas are cut into playback
//! frames first), the engine sends a mark. The ledger remembers, per mark, the item the
//! frame belonged to and how many bytes of that item, in the agent's format, had been
//! sent up to and including the frame. When the call leg echoes a mark,
//! everything before it has been played, so the item's heard position becomes that
//! count. Playback is in order, so an echo also settles every earlier mark whose own echo
//! was lost or is late.
//!
//! A clear makes the call leg echo every pending mark although their audio was thrown
//! away. The ledger therefore moves the pending marks to a "cleared" set at the moment of
//! the clear, and an echo found there counts as cleared, not heard.

use std::collections::VecDeque;

use crate::audio::AudioFormat;
use crate::ids::{ItemId, Mark};

/// How many clears to remember the marks of. Echoes of older clears are "unexpected".
const CLEARED_RANGES: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct Playback {
    next_seq: u64,
    /// Marks sent and not yet echoed, in send order.
    pending: VecDeque<Entry>,
    /// Items with audio sent, in order of their first audio.
    items: Vec<ItemPlayback>,
    /// Inclusive ranges of mark numbers pending at a clear.
    cleared: VecDeque<(u64, u64)>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    /// Index in `items`, or `None` for audio that is not an agent item's (fallback).
    item: Option<usize>,
    /// Bytes of the item sent up to and including the chunk before this mark.
    end_bytes: u64,
}

#[derive(Debug)]
pub(crate) struct ItemPlayback {
    pub(crate) id: ItemId,
    pub(crate) content_index: u32,
    /// The agent's format, in which `audio_end_ms` is counted.
    pub(crate) format: AudioFormat,
    pub(crate) sent_bytes: u64,
    pub(crate) heard_bytes: u64,
    /// Set by a barge-in: later audio of this item is not played.
    pub(crate) muted: bool,
}

impl ItemPlayback {
    pub(crate) fn heard_ms(&self) -> u64 {
        self.format.duration_ms(self.heard_bytes)
    }

    pub(crate) fn sent_ms(&self) -> u64 {
        self.format.duration_ms(self.sent_bytes)
    }
}

/// What an echoed mark meant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Echo {
    /// Playback reached the mark; `implied` earlier marks were settled with it.
    Played { implied: u64 },
    /// The mark was pending when a clear was sent.
    Cleared,
    /// Not a pending or cleared mark (a duplicate, or from long ago).
    Unexpected,
}

/// The state of playback at a clear.
#[derive(Debug, Default)]
pub(crate) struct Cleared {
    /// Items that had audio queued or still arriving, the one being heard first.
    pub(crate) items: Vec<usize>,
}

impl Playback {
    /// The slot of `id`'s item, created on its first audio.
    pub(crate) fn item_slot(
        &mut self,
        id: &ItemId,
        content_index: u32,
        format: AudioFormat,
    ) -> usize {
        // The newest item is by far the most likely: check it first, then the rest.
        if let Some(pos) = self
            .items
            .iter()
            .rposition(|item| item.id == *id && item.content_index == content_index)
        {
            return pos;
        }
        self.items.push(ItemPlayback {
            id: id.clone(),
            content_index,
            format,
            sent_bytes: 0,
            heard_bytes: 0,
            muted: false,
        });
        self.items.len() - 1
    }

    pub(crate) fn item(&self, slot: usize) -> &ItemPlayback {
        &self.items[slot]
    }

    pub(crate) fn item_mut(&mut self, slot: usize) -> &mut ItemPlayback {
        &mut self.items[slot]
    }

    /// Records `bytes` more of `item` sent to the caller and returns the mark to send
    /// after them.
    pub(crate) fn mark_after_chunk(&mut self, item: Option<usize>, bytes: u64) -> Mark {
        let end_bytes = match item {
            Some(slot) => {
                let item = &mut self.items[slot];
                item.sent_bytes += bytes;
                item.sent_bytes
            }
            None => 0,
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back(Entry {
            seq,
            item,
            end_bytes,
        });
        Mark::new(seq)
    }

    /// Learns from an echoed mark.
    pub(crate) fn on_echo(&mut self, mark: Mark) -> Echo {
        let seq = mark.seq();
        if let Some(pos) = self
            .cleared
            .iter()
            .position(|&(lo, hi)| (lo..=hi).contains(&seq))
        {
            let (lo, hi) = self.cleared[pos];
            // Each cleared mark is echoed once; shrink the range when the lowest comes.
            if seq == lo && lo == hi {
                self.cleared.remove(pos);
            } else if seq == lo {
                self.cleared[pos].0 = lo + 1;
            }
            return Echo::Cleared;
        }
        let Some(pos) = self.pending.iter().position(|entry| entry.seq == seq) else {
            return Echo::Unexpected;
        };
        for entry in self.pending.drain(..=pos) {
            if let Some(slot) = entry.item {
                let item = &mut self.items[slot];
                item.heard_bytes = item.heard_bytes.max(entry.end_bytes);
            }
        }
        Echo::Played {
            implied: pos as u64,
        }
    }

    /// Whether audio sent to the caller may still be playing (marks are pending).
    pub(crate) fn is_playing(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether `mark` is still pending.
    pub(crate) fn is_pending(&self, mark: Mark) -> bool {
        self.pending.iter().any(|entry| entry.seq == mark.seq())
    }

    /// The item the caller is hearing now: the one of the oldest pending mark.
    #[cfg(test)]
    pub(crate) fn item_being_heard(&self) -> Option<usize> {
        self.pending.iter().find_map(|entry| entry.item)
    }

    /// Milliseconds of audio sent and not yet played, by the items' own formats.
    pub(crate) fn unheard_ms(&self) -> u64 {
        let mut seen: Vec<usize> = Vec::new();
        let mut total = 0;
        for slot in self.pending.iter().filter_map(|entry| entry.item) {
            if !seen.contains(&slot) {
                seen.push(slot);
                let item = &self.items[slot];
                total += item.format.duration_ms(item.sent_bytes - item.heard_bytes);
            }
        }
        total
    }

    /// A clear was sent: every pending mark will be echoed as cleared. Returns the items
    /// whose queued audio was thrown away, the one being heard first.
    pub(crate) fn clear(&mut self) -> Cleared {
        let mut cleared = Cleared::default();
        for slot in self.pending.iter().filter_map(|entry| entry.item) {
            if !cleared.items.contains(&slot) {
                cleared.items.push(slot);
            }
        }
        if let (Some(first), Some(last)) = (self.pending.front(), self.pending.back()) {
            if self.cleared.len() == CLEARED_RANGES {
                self.cleared.pop_front();
            }
            self.cleared.push_back((first.seq, last.seq));
        }
        self.pending.clear();
        cleared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(playback: &mut Playback, id: &str) -> usize {
        playback.item_slot(&ItemId::new(id), 0, AudioFormat::MuLaw)
    }

    #[test]
    fn echoes_move_the_heard_position_frame_by_frame() {
        let mut p = Playback::default();
        let a = item(&mut p, "a");
        let m0 = p.mark_after_chunk(Some(a), 160);
        let m1 = p.mark_after_chunk(Some(a), 160);
        assert_eq!(p.on_echo(m0), Echo::Played { implied: 0 });
        assert_eq!(p.item(a).heard_ms(), 20);
        assert_eq!(p.unheard_ms(), 20);
        assert_eq!(p.on_echo(m1), Echo::Played { implied: 0 });
        assert_eq!(p.item(a).heard_ms(), 40);
        assert!(!p.is_playing());
    }

    #[test]
    fn a_later_echo_settles_lost_ones() {
        let mut p = Playback::default();
        let a = item(&mut p, "a");
        let m0 = p.mark_after_chunk(Some(a), 160);
        let _m1 = p.mark_after_chunk(Some(a), 160);
        let m2 = p.mark_after_chunk(Some(a), 160);
        assert_eq!(p.on_echo(m2), Echo::Played { implied: 2 });
        assert_eq!(p.item(a).heard_ms(), 60);
        // The late echo of the first mark changes nothing.
        assert_eq!(p.on_echo(m0), Echo::Unexpected);
        assert_eq!(p.item(a).heard_ms(), 60);
    }

    #[test]
    fn echoes_after_a_clear_count_as_cleared_once() {
        let mut p = Playback::default();
        let a = item(&mut p, "a");
        let b = item(&mut p, "b");
        let m0 = p.mark_after_chunk(Some(a), 160);
        let m1 = p.mark_after_chunk(Some(a), 160);
        let m2 = p.mark_after_chunk(Some(b), 160);
        p.on_echo(m0);
        assert_eq!(p.item_being_heard(), Some(a));
        let cleared = p.clear();
        assert_eq!(cleared.items, [a, b]);
        assert_eq!(p.on_echo(m1), Echo::Cleared);
        assert_eq!(p.on_echo(m2), Echo::Cleared);
        assert_eq!(p.on_echo(m1), Echo::Unexpected);
        assert_eq!(p.item(a).heard_ms(), 20);
        assert_eq!(p.item(b).heard_ms(), 0);
    }
}
