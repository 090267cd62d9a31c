//! The caller's playout buffer, sans-IO: audio and marks queued in arrival order, played at
//! the pace the caller drives it.

use std::collections::VecDeque;

use crate::ids::MarkName;

/// One thing queued for playback.
#[derive(Debug)]
enum Item {
    Audio { bytes: Vec<u8>, played: usize },
    Mark(MarkName),
}

/// Twilio's buffer of server audio, as the simulated caller hears it.
///
/// Marks are echoed when the audio queued before them has *finished* playing: a mark passed
/// while playing a frame becomes due at the end of that frame (the next [`take_due`]), and
/// a mark that arrives with nothing queued or playing is due at once.
///
/// [`take_due`]: Self::take_due
#[derive(Debug, Default)]
pub(crate) struct Playout {
    queue: VecDeque<Item>,
    queued_bytes: usize,
    /// Marks passed by playback, echoed when the frame that passed them ends.
    due: Vec<MarkName>,
    /// Whether the last frame played any audio (the "speaker" is busy until it ends).
    playing: bool,
}

impl Playout {
    /// Queues audio; returns `false` (and queues nothing) if it would exceed `limit` bytes.
    pub(crate) fn push_audio(&mut self, bytes: Vec<u8>, limit: usize) -> bool {
        if self.queued_bytes.saturating_add(bytes.len()) > limit {
            return false;
        }
        if !bytes.is_empty() {
            self.queued_bytes += bytes.len();
            self.queue.push_back(Item::Audio { bytes, played: 0 });
        }
        true
    }

    /// Queues a mark. Returns it back if it is due at once (nothing queued or playing).
    pub(crate) fn push_mark(&mut self, name: MarkName) -> Option<MarkName> {
        if self.queue.is_empty() && self.due.is_empty() && !self.playing {
            return Some(name);
        }
        if self.queue.is_empty() {
            self.due.push(name);
        } else {
            self.queue.push_back(Item::Mark(name));
        }
        None
    }

    /// Marks whose audio finished playing by the end of the last frame, in order. Call it at
    /// the start of every frame, before [`play`](Self::play).
    pub(crate) fn take_due(&mut self) -> Vec<MarkName> {
        let mut due = std::mem::take(&mut self.due);
        // Marks at the head of the queue with no audio left before them are reached too.
        while let Some(Item::Mark(_)) = self.queue.front() {
            if let Some(Item::Mark(name)) = self.queue.pop_front() {
                due.push(name);
            }
        }
        due
    }

    /// Plays up to `max` bytes into `heard`; returns how many. Marks passed become due at
    /// the next [`take_due`](Self::take_due).
    pub(crate) fn play(&mut self, max: usize, heard: &mut Vec<u8>) -> usize {
        let mut played = 0;
        while played < max {
            match self.queue.front_mut() {
                None => break,
                Some(Item::Mark(_)) => {
                    if let Some(Item::Mark(name)) = self.queue.pop_front() {
                        self.due.push(name);
                    }
                }
                Some(Item::Audio {
                    bytes,
                    played: done,
                }) => {
                    let take = (bytes.len() - *done).min(max - played);
                    heard.extend_from_slice(&bytes[*done..*done + take]);
                    *done += take;
                    played += take;
                    if *done == bytes.len() {
                        self.queue.pop_front();
                    }
                }
            }
        }
        // A mark right behind the audio just played is reached when this frame ends.
        if played == max {
            while let Some(Item::Mark(_)) = self.queue.front() {
                if let Some(Item::Mark(name)) = self.queue.pop_front() {
                    self.due.push(name);
                }
            }
        }
        self.queued_bytes -= played;
        self.playing = played > 0;
        played
    }

    /// Drops all queued audio; returns the bytes dropped and every pending mark, in order
    /// (due ones first), all of which are echoed at once.
    pub(crate) fn clear(&mut self) -> (usize, Vec<MarkName>) {
        let dropped = self.queued_bytes;
        let mut marks = std::mem::take(&mut self.due);
        for item in self.queue.drain(..) {
            if let Item::Mark(name) = item {
                marks.push(name);
            }
        }
        self.queued_bytes = 0;
        (dropped, marks)
    }

    /// Audio bytes queued and not yet played.
    #[cfg(test)]
    pub(crate) fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(marks: &[MarkName]) -> Vec<&str> {
        marks.iter().map(MarkName::as_str).collect()
    }

    #[test]
    fn mark_with_nothing_queued_is_due_at_once() {
        let mut p = Playout::default();
        assert_eq!(p.push_mark("a".into()).unwrap(), "a");
    }

    #[test]
    fn marks_are_due_after_their_audio_finished() {
        let mut p = Playout::default();
        let mut heard = Vec::new();
        assert!(p.push_audio(vec![1; 200], usize::MAX));
        assert!(p.push_mark("a".into()).is_none());
        assert!(p.push_audio(vec![2; 160], usize::MAX));
        assert!(p.push_mark("b".into()).is_none());
        assert!(p.take_due().is_empty());
        assert_eq!(p.play(160, &mut heard), 160);
        assert!(p.take_due().is_empty());
        // The second frame finishes "a"'s audio 40 bytes in.
        assert_eq!(p.play(160, &mut heard), 160);
        assert_eq!(names(&p.take_due()), ["a"]);
        assert_eq!(p.play(160, &mut heard), 40);
        assert_eq!(names(&p.take_due()), ["b"]);
        assert_eq!(heard.len(), 360);
        assert_eq!(p.queued_bytes(), 0);
        // The last frame still played audio, so a new mark waits for it to end.
        assert!(p.push_mark("c".into()).is_none());
        assert_eq!(p.play(160, &mut heard), 0);
        assert_eq!(names(&p.take_due()), ["c"]);
        assert_eq!(p.push_mark("d".into()).unwrap(), "d");
    }

    #[test]
    fn mark_exactly_at_a_frame_end_is_due_next_frame() {
        let mut p = Playout::default();
        let mut heard = Vec::new();
        p.push_audio(vec![1; 160], usize::MAX);
        p.push_mark("a".into());
        assert_eq!(p.play(160, &mut heard), 160);
        assert_eq!(names(&p.take_due()), ["a"]);
    }

    #[test]
    fn clear_drops_audio_and_returns_pending_marks() {
        let mut p = Playout::default();
        let mut heard = Vec::new();
        p.push_audio(vec![1; 100], usize::MAX);
        p.push_mark("a".into());
        p.push_audio(vec![1; 1000], usize::MAX);
        p.push_mark("b".into());
        p.play(160, &mut heard);
        let (dropped, marks) = p.clear();
        assert_eq!(dropped, 940);
        assert_eq!(names(&marks), ["a", "b"]);
        assert_eq!(p.queued_bytes(), 0);
        assert!(p.take_due().is_empty());
    }

    #[test]
    fn audio_over_the_limit_is_refused() {
        let mut p = Playout::default();
        assert!(p.push_audio(vec![0; 10], 15));
        assert!(!p.push_audio(vec![0; 10], 15));
        assert_eq!(p.queued_bytes(), 10);
    }
}
