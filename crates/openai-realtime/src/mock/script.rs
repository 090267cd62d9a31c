//! What the mock says: a script of response turns, each a list of outputs.

use std::time::Duration;

/// Audio the mock plays in a spoken output.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Audio {
    /// A sine tone at `hz` for `ms` milliseconds, a quarter of full scale, encoded in the
    /// session's output format.
    Tone {
        /// Frequency in hertz.
        hz: f64,
        /// Length in milliseconds.
        ms: u32,
    },
    /// Digital silence for `ms` milliseconds, in the session's output format.
    Silence {
        /// Length in milliseconds.
        ms: u32,
    },
    /// Bytes already in the session's output format (24 kHz PCM16 LE, or 8 kHz G.711), sent
    /// as they are.
    Raw(Vec<u8>),
}

impl Audio {
    /// A 440 Hz tone of `ms` milliseconds.
    pub fn tone(ms: u32) -> Self {
        Self::Tone { hz: 440.0, ms }
    }
}

/// One output item of a scripted response.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// An assistant message with audio and its transcript.
    Speech {
        /// The transcript, sent as `response.output_audio_transcript.delta`s alongside the audio.
        transcript: String,
        /// The audio.
        audio: Audio,
    },
    /// A function call; the client answers with `function_call_output` and `response.create`.
    FunctionCall {
        /// The function name, as declared in the session's tools.
        name: String,
        /// The arguments, a JSON string.
        arguments: String,
    },
}

/// One scripted response: the outputs the mock produces, in order, for one `response.create`
/// (or one turn ended by server VAD).
///
/// ```
/// use openai_realtime::mock::{Audio, Turn};
///
/// let turn = Turn::new()
///     .say("Hello, this is the clinic.", Audio::tone(600))
///     .call("confirm_appointment", r#"{"appointment_id":"42"}"#);
/// assert_eq!(turn.outputs().len(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Turn {
    outputs: Vec<Output>,
    input_transcript: Option<String>,
}

impl Turn {
    /// An empty turn; a response with no output.
    pub fn new() -> Self {
        Self::default()
    }

    /// A turn that speaks `transcript` with a tone of about 60 ms per character (at most 5 s).
    pub fn speech(transcript: impl Into<String>) -> Self {
        let transcript = transcript.into();
        let ms = (transcript.chars().count() as u32 * 60).clamp(200, 5000);
        Self::new().say(transcript, Audio::tone(ms))
    }

    /// Adds a spoken message.
    #[must_use]
    pub fn say(mut self, transcript: impl Into<String>, audio: Audio) -> Self {
        self.outputs.push(Output::Speech {
            transcript: transcript.into(),
            audio,
        });
        self
    }

    /// Adds a function call with its JSON arguments.
    #[must_use]
    pub fn call(mut self, name: impl Into<String>, arguments: impl Into<String>) -> Self {
        self.outputs.push(Output::FunctionCall {
            name: name.into(),
            arguments: arguments.into(),
        });
        self
    }

    /// The transcript the mock reports for the caller's speech that leads to this turn (when
    /// the session has input transcription on). Default: `"(caller speech)"`.
    #[must_use]
    pub fn with_input_transcript(mut self, transcript: impl Into<String>) -> Self {
        self.input_transcript = Some(transcript.into());
        self
    }

    /// The outputs, in order.
    pub fn outputs(&self) -> &[Output] {
        &self.outputs
    }

    pub(crate) fn input_transcript(&self) -> Option<&str> {
        self.input_transcript.as_deref()
    }
}

/// How fast scripted audio goes out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Pacing {
    /// Every event of a response at once, like the real service, which produces audio faster
    /// than real time. The default.
    #[default]
    AsFastAsPossible,
    /// Each audio delta when the previous one would have finished playing (1x speed), so
    /// barge-in and truncation can be tested against a timeline (use tokio's paused clock).
    RealTime,
    /// Each audio delta after a fraction of the previous one's duration: this many times
    /// faster than real time (the real service sends speech about 3 times faster than it
    /// plays). `Faster(1)` is [`Pacing::RealTime`]; `Faster(0)` is taken as 1.
    Faster(u32),
}

impl Pacing {
    /// How long after a delta of `audio` the next one is due.
    pub(crate) fn gap(self, audio: Duration) -> Duration {
        match self {
            Pacing::AsFastAsPossible => Duration::ZERO,
            Pacing::RealTime => audio,
            Pacing::Faster(times) => audio / times.max(1),
        }
    }
}

/// How much audio each `response.output_audio.delta` of a response carries: the `lead`
/// durations in order, then the `cycle` durations round and round until the audio ends.
///
/// The real service sends a short first delta and longer ones after it; the preset
/// [`DeltaSchedule::service_like`] follows that (40 ms, then 100 and 200 ms alternating).
/// Each duration is at least 10 ms. The schedule starts again with every response.
///
/// ```
/// use std::time::Duration;
/// use openai_realtime::mock::{DeltaSchedule, Pacing, Script};
///
/// let ms = Duration::from_millis;
/// let schedule = DeltaSchedule::new([ms(40)], [ms(100), ms(200)]);
/// assert_eq!(schedule, DeltaSchedule::service_like());
/// let script = Script::new().delta_schedule(schedule).pacing(Pacing::Faster(3));
/// # let _ = script;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaSchedule {
    lead: Vec<Duration>,
    cycle: Vec<Duration>,
}

impl Default for DeltaSchedule {
    /// Every delta 100 ms (the mock's default).
    fn default() -> Self {
        Self::fixed(Duration::from_millis(100))
    }
}

impl DeltaSchedule {
    /// The `lead` durations first, then the `cycle` ones repeated. An empty `cycle` repeats
    /// the last lead duration; both empty is the default (100 ms each).
    pub fn new(
        lead: impl IntoIterator<Item = Duration>,
        cycle: impl IntoIterator<Item = Duration>,
    ) -> Self {
        let floor = |d: Duration| d.max(Duration::from_millis(10));
        let lead: Vec<Duration> = lead.into_iter().map(floor).collect();
        let mut cycle: Vec<Duration> = cycle.into_iter().map(floor).collect();
        if cycle.is_empty() {
            match lead.last() {
                Some(last) => cycle.push(*last),
                None => return Self::default(),
            }
        }
        Self { lead, cycle }
    }

    /// Every delta the same duration (at least 10 ms).
    pub fn fixed(delta: Duration) -> Self {
        Self {
            lead: Vec::new(),
            cycle: vec![delta.max(Duration::from_millis(10))],
        }
    }

    /// 40 ms first, then 100 and 200 ms alternating: the shape of the real service's deltas.
    pub fn service_like() -> Self {
        let ms = Duration::from_millis;
        Self::new([ms(40)], [ms(100), ms(200)])
    }

    /// The duration of the `n`th delta of a response (from 0).
    pub fn nth(&self, n: usize) -> Duration {
        match self.lead.get(n) {
            Some(d) => *d,
            // `new` and `fixed` never leave the cycle empty.
            None => self
                .cycle
                .get((n - self.lead.len()) % self.cycle.len().max(1))
                .copied()
                .unwrap_or(Duration::from_millis(100)),
        }
    }
}

/// The responses of a session: the scripted turns in order, then `fallback` for every further
/// response.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    pub(crate) turns: Vec<Turn>,
    pub(crate) fallback: Turn,
    pub(crate) pacing: Pacing,
    pub(crate) deltas: DeltaSchedule,
    pub(crate) latency: Duration,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            turns: Vec::new(),
            fallback: Turn::speech("Hello from the mock."),
            pacing: Pacing::default(),
            deltas: DeltaSchedule::default(),
            latency: Duration::ZERO,
        }
    }
}

impl Script {
    /// The default script: every response says "Hello from the mock." over a tone.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a turn.
    #[must_use]
    pub fn turn(mut self, turn: Turn) -> Self {
        self.turns.push(turn);
        self
    }

    /// The response used once the turns are used up.
    #[must_use]
    pub fn fallback(mut self, turn: Turn) -> Self {
        self.fallback = turn;
        self
    }

    /// Sets the pacing of audio deltas.
    #[must_use]
    pub fn pacing(mut self, pacing: Pacing) -> Self {
        self.pacing = pacing;
        self
    }

    /// Audio per `response.output_audio.delta` (default 100 ms; at least 10 ms): the same
    /// as `delta_schedule(DeltaSchedule::fixed(delta))`.
    #[must_use]
    pub fn delta_duration(mut self, delta: Duration) -> Self {
        self.deltas = DeltaSchedule::fixed(delta);
        self
    }

    /// How long each response takes after `response.created` before its first item (and
    /// so its first audio) comes: the service's own time to first audio, a few hundred
    /// milliseconds on OpenAI. Default none, so tests that do not care do not wait.
    ///
    /// ```
    /// use std::time::Duration;
    /// use openai_realtime::mock::Script;
    ///
    /// let script = Script::new().response_latency(Duration::from_millis(400));
    /// # let _ = script;
    /// ```
    #[must_use]
    pub fn response_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Audio per `response.output_audio.delta` by a schedule, e.g.
    /// [`DeltaSchedule::service_like`] (default: 100 ms each). Replaces `delta_duration`.
    #[must_use]
    pub fn delta_schedule(mut self, schedule: DeltaSchedule) -> Self {
        self.deltas = schedule;
        self
    }
}
