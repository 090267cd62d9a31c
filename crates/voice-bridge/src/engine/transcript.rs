//! The transcript of both sides.
//!
//! Agents send transcript fragments as they go and the whole text at the end of an item.
//! The report keeps whole texts; fragments are joined per item and kept as incomplete
//! lines if the whole text never came (the call ended, or a truncation deleted it).

use crate::agent::{Speaker, Transcript};
use crate::ids::ItemId;
use crate::report::TranscriptLine;

use super::Engine;

#[derive(Debug)]
pub(crate) struct Partial {
    speaker: Speaker,
    item_id: Option<ItemId>,
    text: String,
    at_ms: u64,
}

impl Engine {
    /// Records a transcript piece: a whole text becomes a line, a fragment is joined to
    /// the others of its item.
    pub(super) fn record_transcript(&mut self, piece: Transcript) {
        let Transcript {
            speaker,
            item_id,
            text,
            is_final,
        } = piece;
        let at_ms = self.at_ms();
        let pos = self
            .partials
            .iter()
            .position(|p| p.speaker == speaker && p.item_id == item_id);
        if is_final {
            if let Some(pos) = pos {
                self.partials.remove(pos);
            }
            tracing::debug!(?speaker, %text, "transcript");
            self.transcript.push(TranscriptLine {
                at_ms,
                speaker,
                item_id,
                text,
                complete: true,
            });
            return;
        }
        match pos {
            Some(pos) => self.partials[pos].text.push_str(&text),
            None => self.partials.push(Partial {
                speaker,
                item_id,
                text,
                at_ms,
            }),
        }
    }

    /// Keeps the fragments of items that never completed.
    pub(super) fn flush_partials(&mut self) {
        for Partial {
            speaker,
            item_id,
            text,
            at_ms,
        } in self.partials.drain(..)
        {
            self.transcript.push(TranscriptLine {
                at_ms,
                speaker,
                item_id,
                text,
                complete: false,
            });
        }
    }
}
