//! The stream's rules, sans-IO: [`StreamSession`].

use std::collections::{BTreeMap, VecDeque};

use serde::Deserialize;

use crate::error::SessionError;
use crate::event::{MediaFormat, StartMetadata, StreamEvent, Track, UnknownEvent};
use crate::ids::{AccountSid, CallSid, MarkName, StreamSid};

/// Default for [`StreamSession::with_max_pending_marks`].
pub const DEFAULT_MAX_PENDING_MARKS: usize = 1024;

/// The rules of one media stream, without sockets or timers.
///
/// It consumes decoded [`StreamEvent`]s and checks them against the protocol: the order
/// `connected` → `start` → (`media` | `dtmf` | `mark`)* → `stop`, one stream per socket
/// (`streamSid`), and Twilio's `sequenceNumber` counter. After `start` it knows the stream's
/// ids, format, tracks and custom parameters. It also keeps the books on marks: which marks
/// the server sent, which came back, and which came back only because a `clear` dropped
/// them.
///
/// # Call order
///
/// The methods come in three kinds:
///
/// - **Input**: [`handle`](Self::handle), once for every message decoded from the socket,
///   in arrival order. Its result is either [`Accepted`] (what the message meant: a mark
///   played or cleared, a gap before it) or a [`SessionError`] that says whether it is fatal
///   or skippable.
/// - **Commands**: [`mark_sent`](Self::mark_sent) for every `mark` you send and
///   [`clear_sent`](Self::clear_sent) for every `clear`, in the order you send them, and
///   before you handle any message that arrived after sending (the simplest way: call them
///   right before writing the frame). They refuse to run unless the stream is streaming,
///   since Twilio drops anything sent before `start`.
/// - **Getters**: [`phase`](Self::phase), [`stream_sid`](Self::stream_sid),
///   [`call_sid`](Self::call_sid), [`account_sid`](Self::account_sid),
///   [`media_format`](Self::media_format), [`tracks`](Self::tracks),
///   [`custom_parameters`](Self::custom_parameters), [`pending_marks`](Self::pending_marks).
///   Getters about the stream return `None` before `start`.
///
/// There are no timers and no output queue: the session never needs the time and never
/// sends anything by itself.
///
/// # Marks and `clear`
///
/// Twilio echoes a mark when the audio queued before it has played, and also, at once,
/// for every mark still pending when a `clear` arrives. The two echoes look the same. The
/// session remembers which marks were pending at [`clear_sent`](Self::clear_sent) and
/// reports their echoes as [`MarkOutcome::Cleared`]; other echoes are
/// [`MarkOutcome::Played`].
///
/// # Examples
///
/// ```
/// use twilio_media_stream::{MarkOutcome, Phase, StreamEvent, StreamSession};
///
/// let mut session = StreamSession::new();
/// for frame in [
///     r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
///     r#"{"event":"start","sequenceNumber":"1","streamSid":"MZ1","start":{"accountSid":"AC1",
///         "streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"customParameters":{},
///         "mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}}}"#,
/// ] {
///     session.handle(&StreamEvent::decode(frame)?)?;
/// }
/// assert_eq!(session.phase(), Phase::Streaming);
/// assert_eq!(session.call_sid().unwrap(), "CA1");
///
/// session.mark_sent("greeting")?; // and send StreamCommand::mark(..)
/// session.mark_sent("question")?;
/// // "greeting" played:
/// let echo = session.handle(&StreamEvent::decode(
///     r#"{"event":"mark","sequenceNumber":"2","streamSid":"MZ1","mark":{"name":"greeting"}}"#,
/// )?)?;
/// assert_eq!(echo.mark.unwrap().outcome, MarkOutcome::Played);
/// // The caller talks over the agent: send `clear`; "question" comes back at once.
/// assert_eq!(session.clear_sent()?, 1);
/// let echo = session.handle(&StreamEvent::decode(
///     r#"{"event":"mark","sequenceNumber":"3","streamSid":"MZ1","mark":{"name":"question"}}"#,
/// )?)?;
/// assert_eq!(echo.mark.unwrap().outcome, MarkOutcome::Cleared);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct StreamSession {
    phase: Phase,
    start: Option<StartMetadata>,
    next_sequence: u64,
    pending_marks: VecDeque<PendingMark>,
    max_pending_marks: usize,
}

#[derive(Debug, Clone)]
struct PendingMark {
    name: MarkName,
    cleared: bool,
}

/// Where a stream is in its life.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Nothing received yet; `connected` comes first.
    AwaitingConnected,
    /// `connected` received; waiting for `start`.
    AwaitingStart,
    /// `start` received: media, DTMF and marks flow; commands may be sent.
    Streaming,
    /// `stop` received: the stream is over.
    Stopped,
}

/// What the session made of a message it accepted.
#[non_exhaustive]
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accepted {
    /// For a `mark` echo: which mark, and whether it played or was cleared.
    pub mark: Option<MarkEcho>,
    /// Messages that went missing (or came twice) before this one, per `sequenceNumber`.
    /// The message was applied anyway and the counter resumes from it.
    pub gap: Option<SequenceGap>,
}

/// The echo of a mark the server sent.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarkEcho {
    /// The mark's name.
    pub name: MarkName,
    /// Why it came back.
    pub outcome: MarkOutcome,
}

/// Why a mark came back.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkOutcome {
    /// Playback reached the mark: the caller heard the audio before it.
    Played,
    /// The mark was pending when the server sent `clear`: the audio before it may not have
    /// played.
    Cleared,
}

/// A `sequenceNumber` other than the one expected.
///
/// Over TCP, a gap means Twilio dropped messages (warning 31930, buffer overflow) or a
/// bug; a number at or below the expected one means a repeat or a reorder.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SequenceGap {
    /// The number expected.
    pub expected: u64,
    /// The number received.
    pub found: u64,
}

impl SequenceGap {
    /// How many messages are missing (0 for a repeat or a reorder).
    pub fn missing(&self) -> u64 {
        self.found.saturating_sub(self.expected)
    }
}

/// Fields of an unknown event that the rules can still use.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UnknownFields {
    #[serde(default)]
    sequence_number: Option<crate::event::SequenceNumber>,
    #[serde(default)]
    stream_sid: Option<StreamSid>,
}

impl StreamSession {
    /// A session waiting for `connected`.
    pub fn new() -> Self {
        Self {
            phase: Phase::AwaitingConnected,
            start: None,
            next_sequence: 1,
            pending_marks: VecDeque::new(),
            max_pending_marks: DEFAULT_MAX_PENDING_MARKS,
        }
    }

    /// Sets how many marks may be pending (sent, not yet echoed) at once; beyond it
    /// [`mark_sent`](Self::mark_sent) refuses. Default: [`DEFAULT_MAX_PENDING_MARKS`].
    #[must_use]
    pub fn with_max_pending_marks(mut self, limit: usize) -> Self {
        self.max_pending_marks = limit;
        self
    }

    // --- input ---

    /// Checks one message from Twilio against the rules and applies it.
    ///
    /// # Errors
    ///
    /// A [`SessionError`] when the message breaks the rules. Its docs say, per variant,
    /// whether it is fatal or skippable; a skippable error left the session unchanged
    /// (except for counting the message's `sequenceNumber` when it belongs to this stream).
    /// Unknown events are accepted (log them); they only take part in the `streamSid` and
    /// `sequenceNumber` checks when they carry those fields.
    pub fn handle(&mut self, event: &StreamEvent) -> Result<Accepted, SessionError> {
        if self.phase == Phase::Stopped {
            return Err(SessionError::AfterStop {
                event: event.event_type().to_owned(),
            });
        }
        match event {
            StreamEvent::Connected(_) => {
                if self.phase != Phase::AwaitingConnected {
                    return Err(SessionError::ConnectedRepeated);
                }
                self.phase = Phase::AwaitingStart;
                Ok(Accepted::default())
            }
            StreamEvent::Unknown(unknown) => self.handle_unknown(unknown),
            _ if self.phase == Phase::AwaitingConnected => Err(SessionError::BeforeConnected {
                event: event.event_type().to_owned(),
            }),
            StreamEvent::Start(start) => {
                if let Some(current) = self.stream_sid() {
                    return Err(SessionError::StartRepeated {
                        current: current.clone(),
                        found: start.stream_sid.clone(),
                    });
                }
                self.next_sequence = 1;
                let gap = self.count(start.sequence_number.get());
                self.start = Some(start.start.clone());
                self.phase = Phase::Streaming;
                Ok(Accepted { mark: None, gap })
            }
            // Media, DTMF, marks and stop: they need a started stream of the same id.
            _ => {
                let (Some(sid), Some(sequence)) = (event.stream_sid(), event.sequence_number())
                else {
                    // Every known event but `connected` carries both (checked by the decoder);
                    // `connected` and unknown events were handled above.
                    return Ok(Accepted::default());
                };
                self.check_stream(event.event_type(), sid)?;
                let gap = self.count(sequence.get());
                let mark = match event {
                    StreamEvent::Mark(mark) => Some(self.mark_echoed(&mark.mark.name)?),
                    StreamEvent::Stop(_) => {
                        self.phase = Phase::Stopped;
                        None
                    }
                    _ => None,
                };
                Ok(Accepted { mark, gap })
            }
        }
    }

    fn handle_unknown(&mut self, unknown: &UnknownEvent) -> Result<Accepted, SessionError> {
        let Ok(fields) = serde_json::from_str::<UnknownFields>(unknown.json()) else {
            return Ok(Accepted::default());
        };
        if self.phase != Phase::Streaming {
            return Ok(Accepted::default());
        }
        if let Some(sid) = &fields.stream_sid {
            self.check_stream(unknown.event_type(), sid)?;
        }
        let gap = fields
            .sequence_number
            .and_then(|sequence| self.count(sequence.get()));
        Ok(Accepted { mark: None, gap })
    }

    /// `BeforeStart` / `ForeignStream` checks for a message of this stream.
    fn check_stream(&self, event: &str, sid: &StreamSid) -> Result<(), SessionError> {
        match self.stream_sid() {
            None => Err(SessionError::BeforeStart {
                event: event.to_owned(),
            }),
            Some(expected) if expected != sid => Err(SessionError::ForeignStream {
                expected: expected.clone(),
                found: sid.clone(),
            }),
            Some(_) => Ok(()),
        }
    }

    /// Counts a sequence number, reporting a gap when it is not the expected one. A late
    /// number (a repeat or a reorder) does not move the count back: the message after it is
    /// still expected where the stream had got to, so one swapped pair is two gaps, not
    /// three.
    fn count(&mut self, found: u64) -> Option<SequenceGap> {
        let expected = self.next_sequence;
        if found >= expected {
            self.next_sequence = found.saturating_add(1);
        }
        (found != expected).then_some(SequenceGap { expected, found })
    }

    fn mark_echoed(&mut self, name: &MarkName) -> Result<MarkEcho, SessionError> {
        let Some(index) = self.pending_marks.iter().position(|m| &m.name == name) else {
            return Err(SessionError::UnexpectedMark { name: name.clone() });
        };
        // `index` was just found, so the entry exists.
        let cleared = self
            .pending_marks
            .remove(index)
            .is_some_and(|mark| mark.cleared);
        Ok(MarkEcho {
            name: name.clone(),
            outcome: if cleared {
                MarkOutcome::Cleared
            } else {
                MarkOutcome::Played
            },
        })
    }

    // --- commands ---

    /// Records that the server sent a `mark` with this name (call it as you send it).
    ///
    /// # Errors
    ///
    /// [`SessionError::NotStreaming`] before `start` or after `stop`;
    /// [`SessionError::TooManyPendingMarks`] at the pending-marks limit. Nothing is recorded
    /// in either case.
    pub fn mark_sent(&mut self, name: impl Into<MarkName>) -> Result<(), SessionError> {
        self.require_streaming()?;
        if self.pending_marks.len() >= self.max_pending_marks {
            return Err(SessionError::TooManyPendingMarks {
                limit: self.max_pending_marks,
            });
        }
        self.pending_marks.push_back(PendingMark {
            name: name.into(),
            cleared: false,
        });
        Ok(())
    }

    /// Records that the server sent `clear`: the echoes of all marks pending now will be
    /// reported as [`MarkOutcome::Cleared`]. Returns how many marks that is.
    ///
    /// # Errors
    ///
    /// [`SessionError::NotStreaming`] before `start` or after `stop`.
    pub fn clear_sent(&mut self) -> Result<usize, SessionError> {
        self.require_streaming()?;
        let mut newly_cleared = 0;
        for mark in self.pending_marks.iter_mut().filter(|m| !m.cleared) {
            mark.cleared = true;
            newly_cleared += 1;
        }
        Ok(newly_cleared)
    }

    fn require_streaming(&self) -> Result<(), SessionError> {
        if self.phase == Phase::Streaming {
            Ok(())
        } else {
            Err(SessionError::NotStreaming { phase: self.phase })
        }
    }

    // --- getters ---

    /// Where the stream is in its life.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The `start` message's metadata, once started.
    pub fn start(&self) -> Option<&StartMetadata> {
        self.start.as_ref()
    }

    /// The stream's id, once started (put it in every command).
    pub fn stream_sid(&self) -> Option<&StreamSid> {
        self.start.as_ref().map(|s| &s.stream_sid)
    }

    /// The call's id, once started.
    pub fn call_sid(&self) -> Option<&CallSid> {
        self.start.as_ref().map(|s| &s.call_sid)
    }

    /// The account's id, once started.
    pub fn account_sid(&self) -> Option<&AccountSid> {
        self.start.as_ref().map(|s| &s.account_sid)
    }

    /// The stream's audio format, once started.
    pub fn media_format(&self) -> Option<&MediaFormat> {
        self.start.as_ref().map(|s| &s.media_format)
    }

    /// The stream's tracks (empty before `start`).
    pub fn tracks(&self) -> &[Track] {
        self.start.as_ref().map_or(&[], |s| &s.tracks)
    }

    /// The `<Parameter>`s of the `<Stream>`, once started.
    pub fn custom_parameters(&self) -> Option<&BTreeMap<String, String>> {
        self.start.as_ref().map(|s| &s.custom_parameters)
    }

    /// The marks sent and not yet echoed, oldest first, with whether a `clear` covers them.
    pub fn pending_marks(&self) -> impl ExactSizeIterator<Item = (&MarkName, bool)> + '_ {
        self.pending_marks.iter().map(|m| (&m.name, m.cleared))
    }
}

impl Default for StreamSession {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Connected, Dtmf, Mark, Media, Start, Stop};
    use crate::payload::Payload;

    const SID: &str = "MZ00000000000000000000000000000001";

    fn sid() -> StreamSid {
        StreamSid::new(SID)
    }

    fn started() -> StreamSession {
        let mut s = StreamSession::new();
        s.handle(&Connected::new().into()).unwrap();
        s.handle(&Start::new(1, sid(), "AC1".into(), "CA1".into()).into())
            .unwrap();
        s
    }

    fn media(seq: u64) -> StreamEvent {
        Media::new(
            seq,
            sid(),
            seq - 1,
            (seq - 2) * 20,
            Payload::from_mulaw(&[0xFF; 160]),
        )
        .into()
    }

    fn mark(seq: u64, name: &str) -> StreamEvent {
        Mark::new(seq, sid(), name.into()).into()
    }

    #[test]
    fn happy_path_knows_the_stream() {
        let mut s = started();
        assert_eq!(s.phase(), Phase::Streaming);
        assert_eq!(s.stream_sid().unwrap(), SID);
        assert_eq!(s.account_sid().unwrap(), "AC1");
        assert!(s.media_format().unwrap().is_mulaw_8k_mono());
        assert_eq!(s.tracks(), &[Track::Inbound]);
        assert!(s.custom_parameters().unwrap().is_empty());
        assert_eq!(s.handle(&media(2)).unwrap(), Accepted::default());
        assert_eq!(
            s.handle(&Dtmf::new(3, sid(), "5").into()).unwrap(),
            Accepted::default()
        );
        s.handle(&Stop::new(4, sid(), "AC1".into(), "CA1".into()).into())
            .unwrap();
        assert_eq!(s.phase(), Phase::Stopped);
    }

    #[test]
    fn media_before_start_is_skippable() {
        let mut s = StreamSession::new();
        s.handle(&Connected::new().into()).unwrap();
        let err = s.handle(&media(2)).unwrap_err();
        assert_eq!(
            err,
            SessionError::BeforeStart {
                event: "media".into()
            }
        );
        assert!(!err.is_fatal());
        assert_eq!(s.phase(), Phase::AwaitingStart);
    }

    #[test]
    fn start_before_connected_is_fatal() {
        let mut s = StreamSession::new();
        let err = s
            .handle(&Start::new(1, sid(), "AC1".into(), "CA1".into()).into())
            .unwrap_err();
        assert!(err.is_fatal(), "{err}");
        assert_eq!(s.phase(), Phase::AwaitingConnected);
    }

    #[test]
    fn repeated_messages_are_refused() {
        let mut s = started();
        assert_eq!(
            s.handle(&Connected::new().into()),
            Err(SessionError::ConnectedRepeated)
        );
        let other = StreamSid::new("MZ2");
        assert_eq!(
            s.handle(&Start::new(1, other.clone(), "AC1".into(), "CA1".into()).into()),
            Err(SessionError::StartRepeated {
                current: sid(),
                found: other
            })
        );
        assert_eq!(s.stream_sid().unwrap(), SID);
    }

    #[test]
    fn foreign_stream_is_skipped_without_counting() {
        let mut s = started();
        let foreign = Media::new(2, "MZ9".into(), 1, 0, Payload::empty()).into();
        assert!(matches!(
            s.handle(&foreign),
            Err(SessionError::ForeignStream { .. })
        ));
        assert_eq!(s.handle(&media(2)).unwrap().gap, None);
    }

    #[test]
    fn gaps_are_reported_and_applied() {
        let mut s = started();
        let accepted = s.handle(&media(5)).unwrap();
        assert_eq!(
            accepted.gap,
            Some(SequenceGap {
                expected: 2,
                found: 5
            })
        );
        assert_eq!(accepted.gap.unwrap().missing(), 3);
        assert_eq!(s.handle(&media(6)).unwrap().gap, None);
        let repeat = s.handle(&media(6)).unwrap().gap.unwrap();
        assert_eq!(repeat.missing(), 0);
        // A swapped pair (9 before 8) is a gap and a late message; 10 is on time again.
        assert_eq!(s.handle(&media(7)).unwrap().gap, None);
        let early = s.handle(&media(9)).unwrap().gap.unwrap();
        assert_eq!((early.expected, early.missing()), (8, 1));
        let late = s.handle(&media(8)).unwrap().gap.unwrap();
        assert_eq!((late.expected, late.missing()), (10, 0));
        assert_eq!(s.handle(&media(10)).unwrap().gap, None);
    }

    #[test]
    fn after_stop_everything_is_skipped() {
        let mut s = started();
        s.handle(&Stop::new(2, sid(), "AC1".into(), "CA1".into()).into())
            .unwrap();
        assert_eq!(
            s.handle(&media(3)),
            Err(SessionError::AfterStop {
                event: "media".into()
            })
        );
        assert!(matches!(
            s.mark_sent("x"),
            Err(SessionError::NotStreaming {
                phase: Phase::Stopped
            })
        ));
    }

    #[test]
    fn marks_played_then_cleared() {
        let mut s = started();
        s.mark_sent("a").unwrap();
        s.mark_sent("b").unwrap();
        s.mark_sent("c").unwrap();
        let echo = s.handle(&mark(2, "a")).unwrap().mark.unwrap();
        assert_eq!(echo.outcome, MarkOutcome::Played);
        assert_eq!(s.clear_sent().unwrap(), 2);
        s.mark_sent("d").unwrap();
        assert_eq!(
            s.pending_marks()
                .map(|(n, c)| (n.as_str(), c))
                .collect::<Vec<_>>(),
            [("b", true), ("c", true), ("d", false)]
        );
        for (seq, name) in [(3, "b"), (4, "c")] {
            let echo = s.handle(&mark(seq, name)).unwrap().mark.unwrap();
            assert_eq!(echo.outcome, MarkOutcome::Cleared, "{name}");
        }
        let echo = s.handle(&mark(5, "d")).unwrap().mark.unwrap();
        assert_eq!(echo.outcome, MarkOutcome::Played);
        assert_eq!(s.pending_marks().len(), 0);
    }

    #[test]
    fn unexpected_mark_is_skippable() {
        let mut s = started();
        let err = s.handle(&mark(2, "nope")).unwrap_err();
        assert!(matches!(err, SessionError::UnexpectedMark { .. }));
        assert!(!err.is_fatal());
    }

    #[test]
    fn duplicate_names_match_oldest_first() {
        let mut s = started();
        s.mark_sent("x").unwrap();
        s.clear_sent().unwrap();
        s.mark_sent("x").unwrap();
        let first = s.handle(&mark(2, "x")).unwrap().mark.unwrap();
        let second = s.handle(&mark(3, "x")).unwrap().mark.unwrap();
        assert_eq!(first.outcome, MarkOutcome::Cleared);
        assert_eq!(second.outcome, MarkOutcome::Played);
    }

    #[test]
    fn pending_marks_are_bounded() {
        let mut s = started().with_max_pending_marks(2);
        s.mark_sent("a").unwrap();
        s.mark_sent("b").unwrap();
        assert_eq!(
            s.mark_sent("c"),
            Err(SessionError::TooManyPendingMarks { limit: 2 })
        );
    }

    #[test]
    fn commands_before_start_are_refused() {
        let mut s = StreamSession::new();
        assert!(matches!(
            s.clear_sent(),
            Err(SessionError::NotStreaming {
                phase: Phase::AwaitingConnected
            })
        ));
    }

    #[test]
    fn unknown_events_take_part_in_checks() {
        let mut s = started();
        let unknown = StreamEvent::decode(&format!(
            r#"{{"event":"future","sequenceNumber":"3","streamSid":"{SID}"}}"#
        ))
        .unwrap();
        assert_eq!(s.handle(&unknown).unwrap().gap.unwrap().expected, 2);
        let foreign =
            StreamEvent::decode(r#"{"event":"future","sequenceNumber":"4","streamSid":"MZ9"}"#)
                .unwrap();
        assert!(matches!(
            s.handle(&foreign),
            Err(SessionError::ForeignStream { .. })
        ));
        let bare = StreamEvent::decode(r#"{"event":"future"}"#).unwrap();
        assert_eq!(s.handle(&bare).unwrap(), Accepted::default());
    }
}
