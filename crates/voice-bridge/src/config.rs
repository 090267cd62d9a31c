//! The bridge's settings.

use std::time::Duration;

use crate::audio::AudioChunk;
use crate::call::HandOver;

/// Settings for one call. `BridgeConfig::default()` is a sensible start; set the fields
/// you need.
///
/// ```
/// use std::time::Duration;
/// use voice_bridge::BridgeConfig;
/// let mut config = BridgeConfig::default();
/// config.max_call_duration = Some(Duration::from_secs(10 * 60));
/// config.idle_timeout = None;
/// config.playback_chunk = Duration::from_millis(100);
/// ```
#[non_exhaustive]
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// How much caller audio to hold while the agent leg is not ready yet; when full, the
    /// oldest frames are dropped (and counted). Default 5 s.
    pub early_audio_limit: Duration,
    /// How long the agent leg may take to become ready before it counts as failed.
    /// Default 10 s. The line and the report then name what the leg said it was waiting
    /// for ([`AgentEvent::Waiting`](crate::AgentEvent::Waiting): the OpenAI leg names the
    /// stage and the URL). A shorter timeout of the leg's own (the OpenAI client's connect
    /// timeout, 10 s by default) ends it first with the leg's own words.
    pub agent_ready_timeout: Duration,
    /// How long the agent may send nothing while a response is due (the caller's turn
    /// ended, the bridge asked for a response, or a response is under way) before the
    /// agent leg counts as stalled: it is ended with one line naming what was awaited, and
    /// the caller gets the fallback. Counted from the agent's last event, or from when the
    /// caller's queue of agent audio ran out if that is later (the caller was not in
    /// silence before). `None` turns the rule off (an agent whose turn detection does not
    /// answer each turn by itself, for instance). Default 5 s: the service answers a turn
    /// in well under a second and streams a response faster than it plays.
    ///
    /// Agent audio that comes after the agent was declared stalled is dropped and counted
    /// ([`Counters::agent_frames_late`](crate::report::Counters::agent_frames_late)),
    /// never played late.
    pub agent_stall_timeout: Option<Duration>,
    /// The longest a call may last. Default 55 minutes (OpenAI sessions end at 60).
    pub max_call_duration: Option<Duration>,
    /// End the call if no audio goes either way for this long. Default 30 s.
    pub idle_timeout: Option<Duration>,
    /// How long a tool handler may run before the agent gets an error result.
    /// Default 10 s.
    pub tool_timeout: Duration,
    /// How long the last command to a leg (close, hang up, hand over) may take before the
    /// leg is dropped. At most (and by default) one second.
    pub close_timeout: Duration,
    /// How long to wait for the caller to hear the rest (a goodbye before a tool ends the
    /// call or hands it over) when marks do not come back. Default 15 s.
    pub goodbye_timeout: Duration,
    /// How long to wait, beyond the fallback audio's own length, for its mark to come
    /// back before hanging up. Default 3 s.
    pub playout_grace: Duration,
    /// What the caller gets if the agent fails. Default
    /// [`Fallback::HandOver(HandOver::Continue)`](Fallback::HandOver): the platform goes
    /// on with the call's own instructions (for Twilio, the TwiML after `</Connect>`,
    /// e.g. a `<Say>` apology).
    pub fallback: Fallback,
    /// Send a cancel when the caller interrupts a response still being generated.
    /// Default true. (With server VAD and `interrupt_response`, the agent cancels by
    /// itself and the extra cancel may find nothing to cancel; the OpenAI leg recognises
    /// that answer to its own cancel and does not report it as an error.)
    pub cancel_on_barge_in: bool,
    /// Tell the agent about the caller's key presses. Default true.
    pub forward_dtmf: bool,
    /// How much agent audio the bridge aims to put in one media message to the caller,
    /// each message followed by one mark. Default 200 ms.
    ///
    /// Agents send audio faster than real time, so the caller's side soon has seconds
    /// queued. While it still has at least half of this length to play, new agent audio
    /// is held and joined until it reaches this length (or the response ends, or the
    /// queue runs down to half of it), so the held audio costs the caller no delay. Audio
    /// reaching an empty queue goes out at once, as it came. A message longer than twice
    /// this length (one huge delta) is cut into pieces of this length.
    ///
    /// The size of a message does not limit the precision of a barge-in: what the caller
    /// heard comes from the last echoed mark plus the time played since (see the guide's
    /// "Barge-in arithmetic"). It only sets how much audio a lost mark leaves uncertain.
    /// At 200 ms, a second of agent audio costs about five media messages and five marks;
    /// the old way, a mark per 20 ms frame, cost fifty of each.
    ///
    /// Kept within [`PLAYBACK_CHUNK_MIN`](Self::PLAYBACK_CHUNK_MIN) and
    /// [`PLAYBACK_CHUNK_MAX`](Self::PLAYBACK_CHUNK_MAX): a value outside is clamped to
    /// the nearest bound (with a warning in the log) when the engine is created.
    pub playback_chunk: Duration,
    /// The most agent audio the bridge keeps queued toward the caller, counted as time
    /// ahead of what the caller is hearing now. Default 60 s.
    ///
    /// Agents send audio faster than real time, so what is queued at the caller's side is
    /// about the length of the answer being spoken. Agent audio that would queue beyond
    /// this is not sent: the item's audio is cut there (the rest of that item, however it
    /// comes, is dropped too, so the caller never hears a gap in the middle), logged once
    /// per call and counted in [`Counters::agent_audio_cut_ms`]. This keeps one huge
    /// delta (say 20 MB, half an hour of audio) from becoming thousands of messages and
    /// marks at once; no reasonable spoken answer is a minute long. At least two
    /// [`playback_chunk`](Self::playback_chunk)s are always allowed. Keep
    /// `max_playback_ahead / playback_chunk` under the call leg's limit of pending marks
    /// (Twilio leg: 1024).
    ///
    /// [`Counters::agent_audio_cut_ms`]: crate::report::Counters::agent_audio_cut_ms
    pub max_playback_ahead: Duration,
}

impl BridgeConfig {
    /// The shortest [`playback_chunk`](Self::playback_chunk): 20 ms, one Twilio frame.
    pub const PLAYBACK_CHUNK_MIN: Duration = Duration::from_millis(20);
    /// The longest [`playback_chunk`](Self::playback_chunk): 1 s. Longer messages would
    /// leave a lost mark's second of audio unaccounted for and hold more audio back.
    pub const PLAYBACK_CHUNK_MAX: Duration = Duration::from_secs(1);

    /// [`playback_chunk`](Self::playback_chunk) within its bounds.
    pub(crate) fn bounded_playback_chunk(&self) -> Duration {
        self.playback_chunk
            .clamp(Self::PLAYBACK_CHUNK_MIN, Self::PLAYBACK_CHUNK_MAX)
    }
}

impl Default for BridgeConfig {
    fn default() -> Self {
        Self {
            early_audio_limit: Duration::from_secs(5),
            agent_ready_timeout: Duration::from_secs(10),
            agent_stall_timeout: Some(Duration::from_secs(5)),
            max_call_duration: Some(Duration::from_secs(55 * 60)),
            idle_timeout: Some(Duration::from_secs(30)),
            tool_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(1),
            goodbye_timeout: Duration::from_secs(15),
            playout_grace: Duration::from_secs(3),
            fallback: Fallback::HandOver(HandOver::Continue),
            cancel_on_barge_in: true,
            forward_dtmf: true,
            playback_chunk: Duration::from_millis(200),
            max_playback_ahead: Duration::from_secs(60),
        }
    }
}

/// What the caller gets when the agent leg fails (refused, closed, fatal error, never
/// ready), so the line never goes silent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Fallback {
    /// Play this prompt (converted to the call's format if needed), wait until it has
    /// been heard, then hang up.
    Audio(AudioChunk),
    /// Hand the call over, if the call leg can ([`CallCapabilities`]); otherwise hang up.
    ///
    /// [`CallCapabilities`]: crate::CallCapabilities
    HandOver(HandOver),
    /// Hang up at once.
    HangUp,
}
