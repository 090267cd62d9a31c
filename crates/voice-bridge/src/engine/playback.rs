//! Playback accounting: which bytes of which agent item the caller has heard.
//!
//! After every media message of agent audio it sends to the caller, the engine sends one
//! mark. The ledger remembers, per mark, the item the message belonged to, the bytes of
//! that item (in the agent's format) the message covered, when it was sent and how long
//! it plays. Two sources of truth tell the heard position:
//!
//! - **Echoes** (exact). When the call leg echoes a mark, everything before it has been
//!   played, so the item's heard position becomes the message's end. Playback is in
//!   order, so an echo also settles every earlier mark whose own echo was lost or is late.
//! - **The clock** (between echoes). A call leg plays in real time, so once a mark is
//!   echoed the next message plays on from that instant, or from when it was sent if it
//!   reached an empty queue later. The heard position inside the oldest pending message
//!   is its start plus the time elapsed since then, capped at the message's end: never
//!   beyond the next mark not yet echoed, so a stalled or late playback can make the
//!   estimate short, never long.
//!
//! Accuracy: the echo reaches the bridge one network trip after the caller's side played
//! the mark, and a message reaching an empty queue starts one trip after it was sent; the
//! estimate is off by about that one-way latency (well under a 20 ms frame on loopback,
//! tens of ms across the internet) and never exceeds what was sent before the oldest
//! unechoed mark. The old way, a mark per 20 ms frame, had the same latency error plus up
//! to one frame, at eight times the messages.
//!
//! A clear makes the call leg echo every pending mark although their audio was thrown
//! away. The ledger therefore moves the pending marks to a "cleared" set at the moment of
//! the clear (after taking the clock's reading of what was heard), and an echo found
//! there counts as cleared, not heard.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::audio::AudioFormat;
use crate::ids::{ItemId, Mark};

/// How many clears to remember the marks of. Echoes of older clears are "unexpected".
const CLEARED_RANGES: usize = 16;

#[derive(Debug)]
pub(crate) struct Playback {
    next_seq: u64,
    /// The engine's time, advanced with every input.
    now: Instant,
    /// Marks sent and not yet echoed, in send order.
    pending: VecDeque<Entry>,
    /// Items with audio sent, in order of their first audio.
    items: Vec<ItemPlayback>,
    /// Inclusive ranges of mark numbers pending at a clear.
    cleared: VecDeque<(u64, u64)>,
    /// When the last mark played (its echo arrived); `None` after a clear.
    last_echo_at: Option<Instant>,
    /// When everything sent will have played, by the clock (anchored at the last echo).
    drained_at: Instant,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    seq: u64,
    /// Index in `items`, or `None` for audio that is not an agent item's (fallback).
    item: Option<usize>,
    /// Bytes of the item sent before this message.
    start_bytes: u64,
    /// Bytes of the item sent up to and including this message.
    end_bytes: u64,
    /// When the message went to the call leg.
    sent_at: Instant,
    /// How long the message plays.
    duration: Duration,
}

impl Entry {
    /// When the caller started (or will start) playing this message, given the last echo.
    fn began(&self, last_echo_at: Option<Instant>) -> Instant {
        last_echo_at.map_or(self.sent_at, |echo| echo.max(self.sent_at))
    }
}

#[derive(Debug)]
pub(crate) struct ItemPlayback {
    pub(crate) id: ItemId,
    pub(crate) content_index: u32,
    /// The agent's format, in which `audio_end_ms` is counted.
    pub(crate) format: AudioFormat,
    pub(crate) sent_bytes: u64,
    /// What the echoes (and the clock at a clear) settled as heard.
    pub(crate) heard_bytes: u64,
    /// Set by a barge-in: later audio of this item is not played.
    pub(crate) muted: bool,
    /// The item's audio was cut at the limit of audio queued ahead: later audio of this
    /// item is not played (counted as cut).
    pub(crate) cut: bool,
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
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            next_seq: 0,
            now,
            pending: VecDeque::new(),
            items: Vec::new(),
            cleared: VecDeque::new(),
            last_echo_at: None,
            drained_at: now,
        }
    }

    /// The engine's clock moved on (never backwards: the engine makes sure).
    pub(crate) fn advance(&mut self, now: Instant) {
        self.now = self.now.max(now);
    }

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
            cut: false,
        });
        self.items.len() - 1
    }

    pub(crate) fn item(&self, slot: usize) -> &ItemPlayback {
        &self.items[slot]
    }

    pub(crate) fn item_mut(&mut self, slot: usize) -> &mut ItemPlayback {
        &mut self.items[slot]
    }

    /// Records a message sent now that plays for `duration`: `bytes` more of `item` (in the
    /// agent's format), or, with `item` `None`, audio that is no item's (the fallback).
    /// Returns the mark to send after it.
    pub(crate) fn mark_after(
        &mut self,
        item: Option<usize>,
        bytes: u64,
        duration: Duration,
    ) -> Mark {
        let (start_bytes, end_bytes) = match item {
            Some(slot) => {
                let item = &mut self.items[slot];
                let start = item.sent_bytes;
                item.sent_bytes += bytes;
                (start, item.sent_bytes)
            }
            None => (0, 0),
        };
        let seq = self.next_seq;
        self.next_seq += 1;
        self.pending.push_back(Entry {
            seq,
            item,
            start_bytes,
            end_bytes,
            sent_at: self.now,
            duration,
        });
        self.drained_at = self.drained_at.max(self.now) + duration;
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
        self.last_echo_at = Some(self.now);
        // Re-anchor the clock's estimate of the queue at this echo.
        let mut at = self.now;
        for entry in &self.pending {
            at = at.max(entry.sent_at) + entry.duration;
        }
        self.drained_at = at;
        Echo::Played {
            implied: pos as u64,
        }
    }

    /// The bytes of `slot`'s item heard by now: the echoes' settled position, or, while
    /// the oldest pending message is this item's, how far into it the clock says the
    /// caller is (capped at the message's end).
    pub(crate) fn heard_bytes_now(&self, slot: usize) -> u64 {
        let item = &self.items[slot];
        let Some(entry) = self
            .pending
            .front()
            .filter(|entry| entry.item == Some(slot))
        else {
            return item.heard_bytes;
        };
        let began = entry.began(self.last_echo_at);
        let elapsed = self.now.saturating_duration_since(began);
        let span = entry.end_bytes - entry.start_bytes;
        let played = if entry.duration.is_zero() || elapsed >= entry.duration {
            span
        } else {
            // u128: bytes times nanoseconds cannot overflow.
            let part = u128::from(span) * elapsed.as_nanos() / entry.duration.as_nanos();
            let sample = u64::from(item.format.bytes_per_sample());
            u64::try_from(part).unwrap_or(span) / sample * sample
        };
        item.heard_bytes.max(entry.start_bytes + played)
    }

    /// Whether audio sent to the caller may still be playing (marks are pending).
    pub(crate) fn is_playing(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Whether `mark` is still pending.
    pub(crate) fn is_pending(&self, mark: Mark) -> bool {
        self.pending.iter().any(|entry| entry.seq == mark.seq())
    }

    /// How much of what was sent the caller still has to play, by the clock.
    pub(crate) fn queued_ahead(&self) -> Duration {
        if self.pending.is_empty() {
            return Duration::ZERO;
        }
        self.drained_at.saturating_duration_since(self.now)
    }

    /// When the caller's queue will be down to `ahead`, by the clock; `None` if nothing is
    /// queued.
    pub(crate) fn queue_down_to(&self, ahead: Duration) -> Option<Instant> {
        if self.pending.is_empty() {
            return None;
        }
        Some(
            self.drained_at
                .checked_sub(ahead)
                .unwrap_or(self.drained_at),
        )
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

    /// A clear was sent: every pending mark will be echoed as cleared. The item being
    /// heard keeps the clock's reading of its heard position. Returns the items whose
    /// queued audio was thrown away, the one being heard first.
    pub(crate) fn clear(&mut self) -> Cleared {
        if let Some(slot) = self.pending.front().and_then(|entry| entry.item) {
            let heard = self.heard_bytes_now(slot);
            self.items[slot].heard_bytes = heard;
        }
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
        self.last_echo_at = None;
        self.drained_at = self.now;
        cleared
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(playback: &mut Playback, id: &str) -> usize {
        playback.item_slot(&ItemId::new(id), 0, AudioFormat::MuLaw)
    }

    /// `ms` of mu-law (8 bytes per ms) of `slot` sent now.
    fn send(p: &mut Playback, slot: usize, ms: u64) -> Mark {
        p.mark_after(Some(slot), ms * 8, Duration::from_millis(ms))
    }

    #[test]
    fn echoes_settle_the_heard_position_message_by_message() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0);
        let a = item(&mut p, "a");
        let m0 = send(&mut p, a, 200);
        let m1 = send(&mut p, a, 300);
        p.advance(t0 + Duration::from_millis(200));
        assert_eq!(p.on_echo(m0), Echo::Played { implied: 0 });
        assert_eq!(p.item(a).heard_ms(), 200);
        assert_eq!(p.unheard_ms(), 300);
        p.advance(t0 + Duration::from_millis(500));
        assert_eq!(p.on_echo(m1), Echo::Played { implied: 0 });
        assert_eq!(p.item(a).heard_ms(), 500);
        assert!(!p.is_playing());
    }

    #[test]
    fn between_echoes_the_clock_runs_from_the_last_echo_capped_at_the_next_mark() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0);
        let a = item(&mut p, "a");
        let m0 = send(&mut p, a, 200);
        let _m1 = send(&mut p, a, 300);
        // 120 ms into the first message, by the clock from its sending.
        p.advance(t0 + Duration::from_millis(120));
        assert_eq!(p.heard_bytes_now(a), 120 * 8);
        // Its echo came late (at 260 ms): the second message plays from the echo.
        p.advance(t0 + Duration::from_millis(260));
        assert_eq!(p.heard_bytes_now(a), 200 * 8, "capped at the unechoed mark");
        p.on_echo(m0);
        p.advance(t0 + Duration::from_millis(310));
        assert_eq!(p.heard_bytes_now(a), 250 * 8);
        // A stalled playback: the estimate stops at the next unechoed mark.
        p.advance(t0 + Duration::from_millis(5_000));
        assert_eq!(p.heard_bytes_now(a), 500 * 8);
    }

    #[test]
    fn a_message_reaching_an_empty_queue_plays_from_when_it_was_sent() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0);
        let a = item(&mut p, "a");
        let m0 = send(&mut p, a, 100);
        p.advance(t0 + Duration::from_millis(100));
        p.on_echo(m0);
        // The queue ran dry; the next message comes 400 ms after the echo.
        p.advance(t0 + Duration::from_millis(500));
        send(&mut p, a, 200);
        p.advance(t0 + Duration::from_millis(550));
        assert_eq!(p.heard_bytes_now(a), 150 * 8);
        assert_eq!(p.queued_ahead(), Duration::from_millis(150));
    }

    #[test]
    fn a_later_echo_settles_lost_ones() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0);
        let a = item(&mut p, "a");
        let m0 = send(&mut p, a, 20);
        let _m1 = send(&mut p, a, 20);
        let m2 = send(&mut p, a, 20);
        assert_eq!(p.on_echo(m2), Echo::Played { implied: 2 });
        assert_eq!(p.item(a).heard_ms(), 60);
        // The late echo of the first mark changes nothing.
        assert_eq!(p.on_echo(m0), Echo::Unexpected);
        assert_eq!(p.item(a).heard_ms(), 60);
    }

    #[test]
    fn a_clear_keeps_the_clock_reading_and_counts_its_echoes_as_cleared_once() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0);
        let a = item(&mut p, "a");
        let b = item(&mut p, "b");
        let m0 = send(&mut p, a, 100);
        let m1 = send(&mut p, a, 200);
        let m2 = send(&mut p, b, 200);
        p.advance(t0 + Duration::from_millis(100));
        p.on_echo(m0);
        assert_eq!(p.item_being_heard(), Some(a));
        p.advance(t0 + Duration::from_millis(170));
        let cleared = p.clear();
        assert_eq!(cleared.items, [a, b]);
        assert_eq!(p.item(a).heard_ms(), 170);
        assert_eq!(p.item(b).heard_ms(), 0);
        assert_eq!(p.on_echo(m1), Echo::Cleared);
        assert_eq!(p.on_echo(m2), Echo::Cleared);
        assert_eq!(p.on_echo(m1), Echo::Unexpected);
        // The cleared echoes moved nothing, and nothing is queued any more.
        assert_eq!(p.item(a).heard_ms(), 170);
        assert_eq!(p.queued_ahead(), Duration::ZERO);
    }

    #[test]
    fn audio_of_no_item_counts_in_the_queue_but_moves_no_item() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0);
        let a = item(&mut p, "a");
        send(&mut p, a, 100);
        // The fallback prompt: 2 s of no item's audio behind item a's 100 ms.
        let fallback = p.mark_after(None, 0, Duration::from_secs(2));
        assert_eq!(p.queued_ahead(), Duration::from_millis(2100));
        p.advance(t0 + Duration::from_millis(2100));
        assert_eq!(p.on_echo(fallback), Echo::Played { implied: 1 });
        assert_eq!(p.item(a).heard_ms(), 100);
        assert!(!p.is_playing());
    }

    #[test]
    fn the_queue_estimate_is_re_anchored_at_each_echo() {
        let t0 = Instant::now();
        let mut p = Playback::new(t0);
        let a = item(&mut p, "a");
        let m0 = send(&mut p, a, 100);
        send(&mut p, a, 100);
        assert_eq!(p.queued_ahead(), Duration::from_millis(200));
        assert_eq!(
            p.queue_down_to(Duration::from_millis(50)),
            Some(t0 + Duration::from_millis(150))
        );
        // The first echo comes 30 ms late: the rest plays from then.
        p.advance(t0 + Duration::from_millis(130));
        p.on_echo(m0);
        assert_eq!(p.queued_ahead(), Duration::from_millis(100));
    }
}
