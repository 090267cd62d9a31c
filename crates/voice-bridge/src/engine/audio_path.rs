//! Audio both ways, format checks, marks and key presses.
//!
//! Per frame, the path is: count it, check its format, convert it only if the two legs'
//! formats differ, forward it. Same-format frames move through untouched (no decode,
//! no copy).
//!
//! Agent audio goes to the caller as media messages of about
//! [`BridgeConfig::playback_chunk`] (200 ms by default), each followed by one mark: a
//! delta reaching an empty queue goes out as it came; deltas arriving while the caller
//! still has audio queued are joined first (`coalesce.rs`). A message longer than twice
//! the chunk (one huge delta) is cut, after any conversion, into pieces of a chunk
//! ([`AudioChunk::split_frames`]: base64 as text, never decoded), each with its own mark.
//! The ledger counts in the agent's format: each piece stands for its share of the
//! delta's bytes (the same bytes when nothing was converted). What the caller heard
//! between marks comes from the clock (`playback.rs`), not from more marks.
//!
//! [`BridgeConfig::playback_chunk`]: crate::BridgeConfig::playback_chunk

use std::time::Duration;

use crate::agent::{AgentAudio, AgentCommand, AgentReady};
use crate::audio::{AudioChunk, AudioError, AudioFormat, Transcoder};
use crate::call::{AudioSource, CallCommand, CallStart};
use crate::ids::{DtmfDigit, Mark};
use crate::leg::Side;
use crate::report::{DtmfPress, EndReason, Turn};

use super::playback::Echo;
use super::{Action, CallInfo, Engine, State, millis};

/// The conversions between the call's format and the agent's: `None` where a direction
/// needs none (same format, chunks pass through).
fn conversions(
    call: AudioFormat,
    agent: AgentReady,
) -> Result<(Option<Transcoder>, Option<Transcoder>), AudioError> {
    let to_agent = (call != agent.input)
        .then(|| Transcoder::new(call, agent.input))
        .transpose()?;
    let to_call = (agent.output != call)
        .then(|| Transcoder::new(agent.output, call))
        .transpose()?;
    Ok((to_agent, to_call))
}

impl Engine {
    pub(super) fn call_started(&mut self, start: CallStart) {
        if self.call.is_some() {
            self.record_error(
                Side::Call,
                None,
                "call leg started twice; ignored".into(),
                false,
            );
            return;
        }
        tracing::info!(call_id = %start.call_id, stream_id = %start.stream_id,
            format = %start.format, "call started");
        self.call = Some(CallInfo {
            call_id: start.call_id,
            stream_id: start.stream_id,
            format: start.format,
            capabilities: start.capabilities,
        });
        self.timings.call_started_ms = Some(self.at_ms());
        if matches!(self.state, State::FallingBack { mark: None, .. }) {
            // The agent failed before the call started: the fallback can go out now.
            self.start_fallback();
            return;
        }
        self.connect_audio();
    }

    pub(super) fn agent_ready(&mut self, ready: AgentReady) {
        if self.agent_ready == Some(ready) {
            return;
        }
        tracing::info!(input = %ready.input, output = %ready.output, "agent ready");
        if self.timings.agent_ready_ms.is_none() {
            self.timings.agent_ready_ms = Some(self.at_ms());
        }
        self.agent_ready = Some(ready);
        // New formats (or the first ones): build the conversions again.
        self.audio_connected = false;
        self.connect_audio();
    }

    /// Once both formats are known: set up conversions (only where the formats differ)
    /// and deliver the caller audio held so far, in order. A pair of formats the bridge
    /// cannot convert fails the agent leg; no audio goes out in a format the other side
    /// cannot play.
    fn connect_audio(&mut self) {
        let (Some(call), Some(ready)) = (&self.call, self.agent_ready) else {
            return;
        };
        if self.audio_connected || !matches!(self.state, State::Active | State::Ending(_)) {
            return;
        }
        let conversions = conversions(call.format, ready);
        match conversions {
            Ok((to_agent, to_call)) => {
                self.to_agent = to_agent;
                self.to_call = to_call;
                self.playback_chunk_bytes = call.format.frame_bytes(self.config.playback_chunk);
                self.audio_connected = true;
            }
            Err(error) => {
                let message = format!("agent audio formats unusable for this call: {error}");
                // Held agent audio cannot be played in this call either.
                self.counters.frames_refused += self.early_agent.release().count() as u64;
                self.agent_failed(EndReason::AudioUnsupported { message });
                return;
            }
        }
        let held: Vec<AudioChunk> = self.early.release().collect();
        if !held.is_empty() {
            tracing::debug!(frames = held.len(), "delivering early caller audio");
        }
        for chunk in held {
            self.send_to_agent(chunk);
        }
        let held: Vec<AgentAudio> = self.early_agent.release().collect();
        if !held.is_empty() {
            tracing::debug!(
                frames = held.len(),
                "playing agent audio that came before the call started"
            );
        }
        for audio in held {
            self.play_agent_audio(ready, audio);
        }
    }

    /// Agent audio before the call leg started, from an agent that is ready: held (in
    /// the agent's confirmed format only) until the call starts. Overflow drops the
    /// oldest, counted as refused and recorded once.
    fn hold_agent_audio(&mut self, ready: AgentReady, audio: AgentAudio) {
        if audio.chunk.format() != ready.output {
            let found = audio.chunk.format();
            self.refuse_frame(
                Side::Agent,
                AudioError::FormatMismatch {
                    expected: ready.output,
                    found,
                },
            );
            return;
        }
        self.early_agent.hold(audio);
        let dropped = self.early_agent.dropped - self.early_agent_dropped;
        if dropped > 0 {
            self.early_agent_dropped = self.early_agent.dropped;
            self.counters.frames_refused += dropped - 1;
            self.refuse_frame_with(
                Side::Agent,
                "agent audio before the call started overflowed its buffer; oldest dropped"
                    .to_owned(),
            );
        }
    }

    /// Caller audio: held while the agent is not ready, then delivered in order.
    pub(super) fn forward_caller_audio(&mut self, chunk: AudioChunk) {
        self.counters.caller_frames += 1;
        self.counters.caller_bytes += chunk.byte_len() as u64;
        self.last_audio = self.now;
        if !self.agent_open {
            return;
        }
        if !self.audio_connected {
            self.early.hold(chunk);
            return;
        }
        self.send_to_agent(chunk);
    }

    fn send_to_agent(&mut self, chunk: AudioChunk) {
        let chunk = match self.to_agent.as_mut() {
            None => {
                let expected = self.agent_ready.map(|ready| ready.input);
                if Some(chunk.format()) != expected {
                    let found = chunk.format();
                    let expected = expected.unwrap_or(found);
                    self.refuse_frame(Side::Call, AudioError::FormatMismatch { expected, found });
                    return;
                }
                chunk
            }
            Some(transcoder) => match transcoder.convert(&chunk) {
                Ok(converted) => {
                    self.counters.frames_transcoded += 1;
                    converted
                }
                Err(error) => {
                    self.refuse_frame(Side::Call, error);
                    return;
                }
            },
        };
        self.counters.caller_frames_sent += 1;
        self.push(Action::Agent(AgentCommand::Audio(chunk)));
    }

    /// Agent audio: counted, held while the call has not started, otherwise played.
    pub(super) fn forward_agent_audio(&mut self, audio: AgentAudio) {
        self.counters.agent_frames += 1;
        self.counters.agent_bytes += audio.chunk.byte_len() as u64;
        if self.stalled {
            // The caller was given up on this agent's audio: too late to play.
            self.counters.agent_frames_late += 1;
            return;
        }
        if !matches!(self.state, State::Active | State::Ending(_)) || !self.call_open {
            return;
        }
        let Some(ready) = self.agent_ready.filter(|_| self.audio_connected) else {
            match self.agent_ready {
                // The call leg has not started yet: hold it until it does.
                Some(ready) if self.call.is_none() => self.hold_agent_audio(ready, audio),
                _ => {
                    let message = "agent audio before the agent's formats were confirmed; \
                                   dropped";
                    self.refuse_frame_with(Side::Agent, message.to_owned());
                }
            }
            return;
        };
        self.play_agent_audio(ready, audio);
    }

    /// Agent audio once both formats are connected: checked, converted if needed, then
    /// sent or held to be joined (`coalesce.rs`).
    fn play_agent_audio(&mut self, ready: AgentReady, audio: AgentAudio) {
        if audio.chunk.format() != ready.output {
            let found = audio.chunk.format();
            self.refuse_frame(
                Side::Agent,
                AudioError::FormatMismatch {
                    expected: ready.output,
                    found,
                },
            );
            return;
        }
        if self.discard_response {
            self.counters.agent_frames_discarded += 1;
            return;
        }
        let slot = self
            .playback
            .item_slot(&audio.item_id, audio.content_index, ready.output);
        if self.playback.item(slot).muted {
            self.counters.agent_frames_discarded += 1;
            return;
        }
        let length = ready.output.play_time(audio.chunk.byte_len() as u64);
        if self.playback.item(slot).cut {
            self.counters.agent_audio_cut_ms += millis(length);
            return;
        }
        let room = self.playback_room();
        if length > room {
            self.cut_agent_audio(ready, slot, audio, room);
            return;
        }
        let agent_bytes = audio.chunk.byte_len() as u64;
        let chunk = match self.to_call.as_mut() {
            None => audio.chunk,
            Some(transcoder) => match transcoder.convert(&audio.chunk) {
                Ok(converted) => {
                    self.counters.frames_transcoded += 1;
                    converted
                }
                Err(error) => {
                    self.refuse_frame(Side::Agent, error);
                    return;
                }
            },
        };
        self.current_item = Some(slot);
        self.last_audio = self.now;
        self.note_first_audio();
        let source = AudioSource::Agent {
            item_id: audio.item_id,
            content_index: audio.content_index,
        };
        self.hold_or_send(slot, chunk, source, agent_bytes);
    }

    /// How much more agent audio may be queued toward the caller: the limit
    /// (`max_playback_ahead`, at least two chunks) less what is queued there by the clock
    /// and what is held to be joined.
    fn playback_room(&self) -> Duration {
        let limit = self
            .config
            .max_playback_ahead
            .max(2 * self.config.playback_chunk);
        let ahead = self.playback.queued_ahead() + self.held_play_time();
        limit.saturating_sub(ahead)
    }

    /// Agent audio longer than the room left ahead of the caller: the pieces (of one
    /// chunk, cut in the agent's format before any conversion) that fit go the usual
    /// way; the rest, and any later audio of the item, is dropped and counted. The rest is
    /// never decoded. Logged once per call.
    fn cut_agent_audio(
        &mut self,
        ready: AgentReady,
        slot: usize,
        audio: AgentAudio,
        room: Duration,
    ) {
        let AgentAudio {
            item_id,
            content_index,
            chunk,
        } = audio;
        let length = chunk.format().play_time(chunk.byte_len() as u64);
        let mut kept = Duration::ZERO;
        for piece in chunk.split_frames(self.config.playback_chunk) {
            let piece_length = piece.format().play_time(piece.byte_len() as u64);
            if kept + piece_length > room {
                break;
            }
            kept += piece_length;
            let piece = AgentAudio {
                item_id: item_id.clone(),
                content_index,
                chunk: piece,
            };
            self.play_agent_audio(ready, piece);
        }
        self.playback.item_mut(slot).cut = true;
        let cut_ms = millis(length - kept);
        self.counters.agent_audio_cut_ms += cut_ms;
        if !self.cut_logged {
            self.cut_logged = true;
            let limit_ms = millis(self.config.max_playback_ahead);
            tracing::warn!(
                %item_id,
                cut_ms,
                limit_ms,
                "agent audio cut: the caller's queue would be over max_playback_ahead; the \
                 rest of this item is dropped (later cuts in this call are only counted, \
                 in agent_audio_cut_ms)"
            );
        }
    }

    /// One media message of agent audio to the caller, with its mark: `agent_bytes` more
    /// of the item in `slot` sent. A message over twice the chunk length is cut into
    /// pieces of one chunk, each with its own mark.
    pub(super) fn send_agent_message(
        &mut self,
        slot: usize,
        chunk: AudioChunk,
        source: AudioSource,
        agent_bytes: u64,
    ) {
        if chunk.byte_len() <= 2 * self.playback_chunk_bytes {
            self.play_agent_frame(slot, chunk, source, agent_bytes);
            return;
        }
        let agent_format = self.playback.item(slot).format;
        let mut share = Share::new(agent_bytes, chunk.byte_len() as u64, agent_format);
        let mut frames = chunk.split_frames(self.config.playback_chunk);
        while let Some(frame) = frames.next() {
            let last = frames.len() == 0;
            let bytes = share.take(frame.byte_len() as u64, last);
            // The item id is shared (`Arc`): a clone per piece is a counter increment.
            self.play_agent_frame(slot, frame, source.clone(), bytes);
        }
    }

    /// One message of agent audio to the caller, and its mark: `agent_bytes` more of the
    /// item in `slot` sent.
    fn play_agent_frame(
        &mut self,
        slot: usize,
        chunk: AudioChunk,
        source: AudioSource,
        agent_bytes: u64,
    ) {
        let duration = chunk.format().play_time(chunk.byte_len() as u64);
        self.push(Action::Call(CallCommand::Play { chunk, source }));
        let mark = self.playback.mark_after(Some(slot), agent_bytes, duration);
        self.push(Action::Call(CallCommand::Mark(mark)));
        self.counters.marks_sent += 1;
        self.counters.agent_frames_sent += 1;
    }

    /// Time to first audio, and the latency of the turn the caller just ended.
    fn note_first_audio(&mut self) {
        let at_ms = self.at_ms();
        self.timings.first_agent_audio_ms.get_or_insert(at_ms);
        if let Some(stopped) = self.speech_stopped_at.take() {
            self.timings.turns.push(Turn {
                speech_stopped_ms: millis(stopped - self.start),
                latency_ms: millis(self.now - stopped),
            });
        }
    }

    fn refuse_frame(&mut self, side: Side, error: AudioError) {
        self.refuse_frame_with(side, format!("audio frame refused: {error}"));
    }

    /// Counts every refused frame; records (and logs) only the first, so a stream of bad
    /// frames does not flood the report.
    fn refuse_frame_with(&mut self, side: Side, message: String) {
        self.counters.frames_refused += 1;
        if !self.refusal_logged {
            self.refusal_logged = true;
            self.record_error(side, None, message, false);
        }
    }

    pub(super) fn mark_played(&mut self, name: &str) {
        let Some(mark) = Mark::parse(name) else {
            tracing::debug!(name, "echo of a mark the bridge did not send");
            self.counters.marks_unexpected += 1;
            return;
        };
        match self.playback.on_echo(mark) {
            Echo::Played { implied } => {
                self.counters.marks_played += 1;
                self.counters.marks_implied += implied;
            }
            Echo::Cleared => self.counters.marks_cleared += 1,
            Echo::Unexpected => {
                tracing::debug!(%mark, "unexpected mark echo (duplicate or stale)");
                self.counters.marks_unexpected += 1;
            }
        }
        self.fallback_mark_echoed();
    }

    pub(super) fn dtmf_pressed(&mut self, digit: DtmfDigit) {
        tracing::debug!(%digit, "dtmf");
        self.dtmf.push(DtmfPress {
            at_ms: self.at_ms(),
            digit,
        });
        if self.config.forward_dtmf && self.agent_open && self.audio_connected {
            self.push(Action::Agent(AgentCommand::Dtmf(digit)));
        }
    }
}

/// Shares one agent chunk's bytes (in the agent's format, in which the ledger counts)
/// among the frames it was cut into (in the call's format, after any conversion), in
/// proportion to the frames' lengths and on the agent format's sample boundaries. The
/// frames together account for exactly the chunk; without conversion each frame accounts
/// for its own bytes.
#[derive(Debug)]
struct Share {
    agent_bytes: u64,
    call_bytes: u64,
    agent_sample: u64,
    /// Call-side bytes handed out so far.
    call_done: u64,
    /// Agent bytes accounted for so far.
    agent_done: u64,
}

impl Share {
    fn new(agent_bytes: u64, call_bytes: u64, agent_format: AudioFormat) -> Self {
        Self {
            agent_bytes,
            call_bytes,
            agent_sample: u64::from(agent_format.bytes_per_sample()),
            call_done: 0,
            agent_done: 0,
        }
    }

    /// The agent bytes a frame of `call_bytes` stands for; the `last` frame takes the rest.
    fn take(&mut self, call_bytes: u64, last: bool) -> u64 {
        self.call_done += call_bytes;
        let end = if last || self.call_done >= self.call_bytes {
            self.agent_bytes
        } else {
            // u128: bytes times bytes cannot overflow.
            let end = u128::from(self.agent_bytes) * u128::from(self.call_done)
                / u128::from(self.call_bytes);
            let end = u64::try_from(end).unwrap_or(self.agent_bytes);
            end / self.agent_sample * self.agent_sample
        };
        let end = end.clamp(self.agent_done, self.agent_bytes);
        let share = end - self.agent_done;
        self.agent_done = end;
        share
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_chunk_on_sample_boundaries() {
        // 100 ms of PCM16 at 24 kHz (4800 bytes) became 800 bytes of mu-law in five frames.
        let mut share = Share::new(4800, 800, AudioFormat::PCM16_24K);
        let shares: Vec<u64> = (0..5).map(|n| share.take(160, n == 4)).collect();
        assert_eq!(shares, [960; 5]);
        // Uneven: 1000 agent bytes over 3 frames of 7 call bytes.
        let mut share = Share::new(1000, 21, AudioFormat::PCM16_24K);
        let shares: Vec<u64> = (0..3).map(|n| share.take(7, n == 2)).collect();
        assert_eq!(shares.iter().sum::<u64>(), 1000);
        assert!(shares.iter().all(|s| s % 2 == 0));
        // The same format: each frame is its own bytes (200 ms of base64 mu-law).
        let frames = [159, 159, 162, 159, 159, 162, 159, 159, 162, 160];
        let mut share = Share::new(1600, 1600, AudioFormat::MuLaw);
        let shares: Vec<u64> = (0..10).map(|n| share.take(frames[n], n == 9)).collect();
        assert_eq!(shares, frames);
    }
}
