//! The Live mock's brain, sans-IO: client frames in, server frames and closes out, with time
//! passed in (tokio's clock in the socket loop, so paused test time drives it).

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Value, json};

use super::validate::{self, refusal};
use super::{LiveOutput, LiveScript, LiveTurn};
use crate::live::{ClientEvent, CloseReason, LiveError};
use crate::mock::audio::{alaw_to_linear, linear_to_alaw, linear_to_ulaw, ulaw_to_linear};
use crate::mock::engine::Outgoing;

/// The client events a primary Live WebSocket takes (the SDK's `ClientEvent` union).
const CLIENT_EVENTS: &[&str] = &[
    "session.start",
    "session.update",
    "session.input_audio.append",
    "session.input_audio.mute",
    "session.input_audio.unmute",
    "session.output_audio.fixture.play",
    "session.instructions.append",
    "session.thinking.append",
    "session.commentary.append",
    "decision.create",
    "decision.item.create",
    "decision.item.delete",
    "response.item.create",
    "response.create",
    "session.close",
];

/// How a Live session starts.
#[derive(Debug, Clone)]
pub(crate) struct LiveSetup {
    pub(crate) session_id: String,
    pub(crate) models: Vec<String>,
    pub(crate) script: LiveScript,
    pub(crate) max_duration: Duration,
    /// Unix seconds now, for `expires_at`.
    pub(crate) unix_now: u64,
}

/// The session's one audio format, both ways.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcm(u32),
    Pcmu,
    Pcma,
}

impl Format {
    fn from_json(format: &Value) -> Self {
        match format["type"].as_str() {
            Some("audio/pcmu") => Self::Pcmu,
            Some("audio/pcma") => Self::Pcma,
            _ => Self::Pcm(format["rate"].as_u64().map_or(24_000, |r| r as u32)),
        }
    }

    fn rate(self) -> u32 {
        match self {
            Self::Pcm(rate) => rate,
            Self::Pcmu | Self::Pcma => 8000,
        }
    }

    fn bytes_per_sample(self) -> usize {
        if matches!(self, Self::Pcm(_)) { 2 } else { 1 }
    }

    fn bytes_per_ms(self) -> usize {
        self.rate() as usize / 1000 * self.bytes_per_sample()
    }

    fn samples(self, bytes: &[u8]) -> Vec<i16> {
        bytes
            .chunks_exact(self.bytes_per_sample())
            .map(|c| match self {
                Self::Pcm(_) => i16::from_le_bytes([c[0], c[1]]),
                Self::Pcmu => ulaw_to_linear(c[0]),
                Self::Pcma => alaw_to_linear(c[0]),
            })
            .collect()
    }

    fn encode(self, samples: impl Iterator<Item = i16>) -> Vec<u8> {
        let mut out = Vec::new();
        for s in samples {
            match self {
                Self::Pcm(_) => out.extend_from_slice(&s.to_le_bytes()),
                Self::Pcmu => out.push(linear_to_ulaw(s)),
                Self::Pcma => out.push(linear_to_alaw(s)),
            }
        }
        out
    }

    /// A 440 Hz tone at a quarter of full scale.
    fn tone(self, ms: u32) -> Vec<u8> {
        let rate = f64::from(self.rate());
        let n = (u64::from(self.rate()) * u64::from(ms) / 1000) as usize;
        self.encode(
            (0..n)
                .map(|i| ((i as f64 / rate * 440.0 * std::f64::consts::TAU).sin() * 8192.0) as i16),
        )
    }

    fn silence(self, bytes: usize) -> Vec<u8> {
        let samples = bytes / self.bytes_per_sample();
        self.encode(std::iter::repeat_n(0, samples))
    }

    /// PCM16 24 kHz (a fixture) in this format, by nearest sample.
    fn convert_pcm24(self, pcm: &[u8]) -> Vec<u8> {
        let input = Format::Pcm(24_000).samples(pcm);
        let n = input.len() * self.rate() as usize / 24_000;
        self.encode((0..n).map(|i| input[i * 24_000 / self.rate() as usize]))
    }
}

/// Speech being played: the audio left and the transcript fragments not yet sent.
#[derive(Debug)]
struct Speaking {
    audio: VecDeque<u8>,
    total: usize,
    sent: usize,
    /// (byte offset where the fragment starts, fragment, its start and end in ms within the
    /// speech).
    words: VecDeque<(usize, String, u64, u64)>,
    /// The track position where this speech started, in ms.
    start_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Wait {
    None,
    /// A delegation the application answers with commentary or thinking.
    Commentary(String),
    /// A function call of the Responses backend.
    ToolOutput {
        delegation_id: String,
        call_id: String,
        answered: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Waiting,
    Started,
    Closed,
}

/// One Live session's protocol state.
#[derive(Debug)]
pub(crate) struct LiveEngine {
    setup: LiveSetup,
    phase: Phase,
    format: Format,
    session: Value,
    delegation_kind: String,
    out: VecDeque<Outgoing>,
    counter: u64,
    started_at: Option<Instant>,
    expires: Option<Instant>,
    next_delta: Option<Instant>,
    next_usage: Option<Instant>,
    track_ms: u64,
    speaking: Option<Speaking>,
    queue: VecDeque<LiveOutput>,
    wait: Wait,
    turn_index: usize,
    delegations: HashSet<String>,
    // The caller.
    input_ms: u64,
    pending_input: Vec<u8>,
    caller_speaking: bool,
    caller_start_ms: u64,
    caller_last_voice_ms: u64,
    muted: bool,
    fixture: Option<(VecDeque<u8>, Option<String>)>,
    decision_event_ids: HashSet<String>,
    decision_items: Vec<String>,
    version: u64,
}

fn now_ms(from: Instant, now: Instant) -> u64 {
    now.saturating_duration_since(from).as_millis() as u64
}

impl LiveEngine {
    pub(crate) fn new(setup: LiveSetup) -> Self {
        Self {
            setup,
            phase: Phase::Waiting,
            format: Format::Pcm(24_000),
            session: Value::Null,
            delegation_kind: "client".to_owned(),
            out: VecDeque::new(),
            counter: 0,
            started_at: None,
            expires: None,
            next_delta: None,
            next_usage: None,
            track_ms: 0,
            speaking: None,
            queue: VecDeque::new(),
            wait: Wait::None,
            turn_index: 0,
            delegations: HashSet::new(),
            input_ms: 0,
            pending_input: Vec::new(),
            caller_speaking: false,
            caller_start_ms: 0,
            caller_last_voice_ms: 0,
            muted: false,
            fixture: None,
            decision_event_ids: HashSet::new(),
            decision_items: Vec::new(),
            version: 0,
        }
    }

    /// The resolved session (`Null` before `session.started`).
    pub(crate) fn session(&self) -> &Value {
        &self.session
    }

    /// Bumped whenever [`session`](Self::session) changes.
    pub(crate) fn session_version(&self) -> u64 {
        self.version
    }

    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}_mock{:06}", self.counter)
    }

    fn push(&mut self, mut event: Value) {
        if event.get("event_id").is_none() && event["type"] != "session.output_audio.delta" {
            let id = self.next_id("event");
            event["event_id"] = Value::from(id);
        }
        self.out.push_back(Outgoing::Text(event.to_string()));
    }

    /// A transcript fragment, then a `decision.event` for each Decisions trigger on its type
    /// (with the trigger's firing id and the fragment as its source).
    fn transcript(&mut self, mut event: Value) {
        let id = self.next_id("event");
        event["event_id"] = Value::from(id.clone());
        let kind = event["type"].clone();
        self.push(event);
        let triggers = self.session["triggers"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for trigger in triggers.iter().filter(|t| t["event_type"] == kind) {
            let questions = trigger["decisions"]["questions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let answers = questions.iter().map(default_answer).collect();
            let decision = self.decision(answers);
            let trigger_id = self.next_id("trig");
            self.push(json!({
                "type": "decision.event",
                "trigger_id": trigger_id,
                "source_event_id": id,
                "source_event_type": kind,
                "event": {"type": "decision.completed", "decision": decision},
            }));
        }
    }

    /// An `event` answering the client's `client_event_id`, when it gave one.
    fn push_reply(&mut self, mut event: Value, client_event_id: Option<&str>) {
        if let Some(id) = client_event_id {
            event["client_event_id"] = Value::from(id);
        }
        self.push(event);
    }

    /// Sends an `error` event naming the client's event (both places the SDK has it).
    pub(crate) fn send_error(&mut self, mut error: LiveError, client_event_id: Option<&str>) {
        if let Some(id) = client_event_id {
            error.client_event_id = Some(id.into());
        }
        let mut event = json!({"type": "error", "error": error});
        if let Some(id) = &error.client_event_id {
            event["client_event_id"] = Value::from(id.as_str());
        }
        self.push(event);
    }

    pub(crate) fn send_event(&mut self, event: Value) {
        self.push(event);
    }

    pub(crate) fn send_raw(&mut self, text: String) {
        self.out.push_back(Outgoing::Text(text));
    }

    /// A refusal that ends the socket: the error, then a close frame.
    fn fatal(&mut self, error: LiveError, client_event_id: Option<&str>, code: u16) {
        let reason = error.message.chars().take(120).collect::<String>();
        self.send_error(error, client_event_id);
        self.out.push_back(Outgoing::Close(code, reason));
        self.phase = Phase::Closed;
    }

    /// Refused at the upgrade (bad key, a query the endpoint does not take).
    pub(crate) fn refuse(&mut self, error: LiveError, code: u16) {
        self.fatal(error, None, code);
    }

    /// Closes the socket without `session.closed`.
    pub(crate) fn close(&mut self, code: u16, reason: String) {
        self.out.push_back(Outgoing::Close(code, reason));
        self.phase = Phase::Closed;
    }

    /// `session.closed` with the reason, the session and the usage, then close 1000.
    pub(crate) fn end(&mut self, now: Instant, reason: CloseReason, client_event_id: Option<&str>) {
        if self.phase != Phase::Started {
            self.close(1000, String::new());
            return;
        }
        let event = json!({
            "type": "session.closed",
            "reason": reason,
            "session": self.session,
            "usage": {"seconds": self.seconds(now)},
        });
        self.push_reply(event, client_event_id);
        self.close(1000, String::new());
    }

    fn seconds(&self, now: Instant) -> u64 {
        self.started_at.map_or(0, |at| now_ms(at, now) / 1000)
    }

    fn timeline_ms(&self, now: Instant) -> u64 {
        self.started_at.map_or(0, |at| now_ms(at, now))
    }

    /// The next timer: the next delta, usage report or the expiry.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.phase != Phase::Started {
            return None;
        }
        [self.next_delta, self.next_usage, self.expires]
            .into_iter()
            .flatten()
            .min()
    }

    /// What to send next, with the timers run up to `now`.
    pub(crate) fn poll_output(&mut self, now: Instant) -> Option<Outgoing> {
        self.run_timers(now);
        self.out.pop_front()
    }

    fn run_timers(&mut self, now: Instant) {
        while self.phase == Phase::Started {
            let Some(due) = self.poll_timeout().filter(|t| *t <= now) else {
                break;
            };
            if Some(due) == self.expires {
                self.end(due, CloseReason::Expired, None);
            } else if Some(due) == self.next_delta {
                self.tick();
                self.next_delta = Some(due + self.setup.script.delta);
            } else {
                let seconds = self.seconds(due);
                self.push(json!({"type": "session.usage.updated", "usage": {"seconds": seconds}}));
                self.next_usage = Some(due + self.setup.script.usage_interval);
            }
        }
    }

    /// One delta of the output track.
    fn tick(&mut self) {
        let delta_ms = self.setup.script.delta.as_millis() as u64;
        let bytes = self.format.bytes_per_ms() * delta_ms as usize;
        let mut chunk = Vec::with_capacity(bytes);
        let mut voiced = false;
        let mut fixture_played = None;
        if let Some((fixture, id)) = &mut self.fixture {
            let n = bytes.min(fixture.len());
            chunk.extend(fixture.drain(..n));
            voiced = true;
            if fixture.is_empty() {
                fixture_played = Some(id.take());
                self.fixture = None;
            }
        } else if let Some(speaking) = &mut self.speaking {
            let n = bytes.min(speaking.audio.len());
            chunk.extend(speaking.audio.drain(..n));
            speaking.sent += n;
            voiced = true;
            let mut words = Vec::new();
            while speaking
                .words
                .front()
                .is_some_and(|(at, ..)| *at < speaking.sent || speaking.sent == speaking.total)
            {
                if let Some(word) = speaking.words.pop_front() {
                    words.push(word);
                }
            }
            let start = speaking.start_ms;
            let done = speaking.audio.is_empty();
            for (_, word, from, to) in words {
                self.transcript(json!({
                    "type": "session.output_transcript.delta",
                    "delta": word,
                    "start_ms": start + from,
                    "end_ms": start + to,
                }));
            }
            if done {
                self.speaking = None;
            }
        }
        if voiced || self.setup.script.continuous {
            let missing = bytes - chunk.len();
            chunk.extend(self.format.silence(missing));
            self.push(json!({
                "type": "session.output_audio.delta",
                "delta": BASE64.encode(&chunk),
            }));
        }
        if let Some(id) = fixture_played {
            self.push_reply(
                json!({"type": "session.output_audio.fixture.played"}),
                id.as_deref(),
            );
        }
        self.track_ms += delta_ms;
        if self.speaking.is_none() {
            self.advance();
        }
    }

    fn idle(&self) -> bool {
        self.speaking.is_none() && self.queue.is_empty() && self.wait == Wait::None
    }

    /// Plays the next scripted turn, unless the model is busy with one.
    pub(crate) fn start_turn(&mut self) {
        if self.phase != Phase::Started || !self.idle() {
            return;
        }
        let turn = self.next_turn().clone();
        self.turn_index += 1;
        self.queue.extend(turn.outputs().iter().cloned());
        self.advance();
    }

    fn next_turn(&self) -> &LiveTurn {
        self.setup
            .script
            .turns
            .get(self.turn_index)
            .unwrap_or(&self.setup.script.fallback)
    }

    /// Starts the next output of the turn when nothing is playing or awaited.
    fn advance(&mut self) {
        while self.speaking.is_none() && self.wait == Wait::None && self.phase == Phase::Started {
            let Some(output) = self.queue.pop_front() else {
                return;
            };
            match output {
                LiveOutput::Speech { transcript, ms } => self.say(transcript, ms),
                LiveOutput::Delegate => {
                    let id = self.delegate("client", None);
                    self.wait = Wait::Commentary(id);
                }
                LiveOutput::FunctionCall { name, arguments } => {
                    if self.delegation_kind != "responses" {
                        tracing::warn!(
                            "mock: a scripted function call in a session without Responses delegation; delegating to the client instead"
                        );
                        let id = self.delegate("client", None);
                        self.wait = Wait::Commentary(id);
                        continue;
                    }
                    self.function_call(name, arguments);
                }
                LiveOutput::Decide { answers } => {
                    let id = self.delegate("decisions", None);
                    let decision = self.decision(answers);
                    self.push(json!({
                        "type": "decision.event",
                        "delegation_id": id,
                        "event": {"type": "decision.completed", "decision": decision},
                    }));
                }
            }
        }
    }

    fn say(&mut self, transcript: String, ms: u32) {
        let audio = self.format.tone(ms);
        let total = audio.len();
        let fragments: Vec<&str> = transcript.split_inclusive(' ').collect();
        let n = fragments.len().max(1);
        let words = fragments
            .iter()
            .enumerate()
            .map(|(i, word)| {
                let at = total * i / n;
                let from = u64::from(ms) * i as u64 / n as u64;
                let to = u64::from(ms) * (i as u64 + 1) / n as u64;
                (at, (*word).to_owned(), from, to)
            })
            .collect();
        self.speaking = Some(Speaking {
            audio: audio.into(),
            total,
            sent: 0,
            words,
            start_ms: self.track_ms,
        });
    }

    fn delegate(&mut self, target: &str, response_id: Option<&str>) -> String {
        let id = self.next_id("item");
        let mut delegation = json!({"type": "delegation", "id": id, "target": target});
        if let Some(response_id) = response_id {
            delegation["response_id"] = Value::from(response_id);
        }
        self.delegations.insert(id.clone());
        let offset_ms = self.track_ms;
        self.push(json!({
            "type": "session.delegation.created",
            "offset_ms": offset_ms,
            "delegation": delegation,
        }));
        id
    }

    fn backend_model(&self) -> String {
        let kind = &self.delegation_kind;
        self.session["delegation"][kind]["model"]
            .as_str()
            .unwrap_or("gpt-5.5")
            .to_owned()
    }

    fn response_events(&mut self, delegation_id: &str, events: Vec<Value>) {
        for (n, mut event) in events.into_iter().enumerate() {
            event["sequence_number"] = Value::from(n);
            self.push(
                json!({"type": "response.event", "delegation_id": delegation_id, "event": event}),
            );
        }
    }

    fn function_call(&mut self, name: String, arguments: String) {
        let response_id = self.next_id("resp");
        let id = self.delegate("responses", Some(&response_id));
        let item_id = self.next_id("fc");
        let call_id = self.next_id("call");
        let model = self.backend_model();
        let response = |status: &str, output: Value| json!({"id": response_id, "object": "response", "status": status, "model": model, "output": output});
        let item = |status: &str, arguments: &str| json!({"type": "function_call", "id": item_id, "call_id": call_id, "name": name, "arguments": arguments, "status": status});
        let done = item("completed", &arguments);
        let events = vec![
            json!({"type": "response.created", "response": response("in_progress", json!([]))}),
            json!({"type": "response.output_item.added", "output_index": 0, "item": item("in_progress", "")}),
            json!({"type": "response.function_call_arguments.delta", "item_id": item_id, "output_index": 0, "delta": arguments}),
            json!({"type": "response.function_call_arguments.done", "item_id": item_id, "output_index": 0, "arguments": arguments}),
            json!({"type": "response.output_item.done", "output_index": 0, "item": done}),
            json!({"type": "response.completed", "response": response("completed", json!([done]))}),
        ];
        self.response_events(&id, events);
        self.wait = Wait::ToolOutput {
            delegation_id: id,
            call_id,
            answered: false,
        };
    }

    /// A `Decision`: the scripted answers, or one default answer per configured question.
    fn decision(&self, answers: Vec<Value>) -> Value {
        let decisions = &self.session["delegation"]["decisions"];
        let answers = if answers.is_empty() {
            decisions["questions"]
                .as_array()
                .map(|qs| qs.iter().map(default_answer).collect())
                .unwrap_or_default()
        } else {
            answers
        };
        json!({
            "answers": answers,
            "model": decisions["model"].as_str().unwrap_or("gpt-5.5"),
            "usage": {
                "input_tokens": 120, "input_tokens_details": {"cache_write_tokens": 0, "cached_tokens": 0},
                "output_tokens": 4, "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": 124,
            },
        })
    }

    /// Caller audio, in the session's format.
    fn hear(&mut self, now: Instant, bytes: &[u8]) {
        if self.fixture.is_some() {
            // A fixture drops input while it plays.
            return;
        }
        self.pending_input.extend_from_slice(bytes);
        let frame = self.format.bytes_per_ms() * 10;
        let end_of_turn = self.setup.script.end_of_turn.as_millis() as u64;
        while self.pending_input.len() >= frame {
            let chunk: Vec<u8> = self.pending_input.drain(..frame).collect();
            let samples = self.format.samples(&chunk);
            let energy = samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>();
            let rms = (energy / samples.len().max(1) as f64).sqrt();
            // -25 dBFS, as the Realtime mock's VAD at its default threshold.
            let voiced = !self.muted && rms > 1843.0;
            let start = self.input_ms;
            self.input_ms += 10;
            if voiced {
                if !self.caller_speaking {
                    self.caller_speaking = true;
                    self.caller_start_ms = start;
                }
                let after = self.setup.script.barge_in_after.as_millis() as u64;
                if self.input_ms - self.caller_start_ms >= after.max(10) {
                    self.barge_in();
                }
                self.caller_last_voice_ms = self.input_ms;
            } else if self.caller_speaking
                && self.input_ms - self.caller_last_voice_ms >= end_of_turn
            {
                self.caller_speaking = false;
                self.caller_stopped(now);
            }
        }
    }

    /// The caller spoke over the model: the model stops (the rest of its speech and turn is
    /// dropped; the track goes on with silence). Delegated work goes on.
    fn barge_in(&mut self) {
        if self.speaking.take().is_some() {
            self.queue.clear();
            tracing::debug!("mock: caller barged in; output stopped");
        }
    }

    fn caller_stopped(&mut self, _now: Instant) {
        let said = self
            .next_turn()
            .caller_transcript()
            .unwrap_or("(caller speech)")
            .to_owned();
        let (from, to) = (self.caller_start_ms, self.caller_last_voice_ms);
        let fragments: Vec<&str> = said.split_inclusive(' ').collect();
        let n = fragments.len().max(1) as u64;
        for (i, word) in fragments.iter().enumerate() {
            let i = i as u64;
            self.transcript(json!({
                "type": "session.input_transcript.delta",
                "delta": word,
                "start_ms": from + (to - from) * i / n,
                "end_ms": from + (to - from) * (i + 1) / n,
            }));
        }
        self.start_turn();
    }

    /// A client frame. Returns the refusal, when the mock refused it.
    pub(crate) fn handle_text(&mut self, now: Instant, text: &str) -> Option<LiveError> {
        let before = self.out.len();
        self.dispatch(now, text);
        // The refusal, if the frame got one.
        self.out.iter().skip(before).find_map(|out| match out {
            Outgoing::Text(text) => {
                let value: Value = serde_json::from_str(text).ok()?;
                if value["type"] == "error" {
                    serde_json::from_value(value["error"].clone()).ok()
                } else {
                    None
                }
            }
            Outgoing::Close(..) => None,
        })
    }

    fn dispatch(&mut self, now: Instant, text: &str) {
        if self.phase == Phase::Closed {
            return;
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(error) => {
                let message = format!("The frame is not valid JSON: {error}.");
                return self.send_error(refusal("invalid_json", message, None), None);
            }
        };
        let client_event_id = value
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let id = client_event_id.as_deref();
        let Some(kind) = value.get("type").and_then(Value::as_str) else {
            let error = refusal(
                "missing_required_parameter",
                "Missing required parameter: 'type'.".to_owned(),
                Some("type"),
            );
            return self.send_error(error, id);
        };
        if !CLIENT_EVENTS.contains(&kind) {
            let message = format!(
                "Invalid value: '{kind}'. Supported values are: {}.",
                CLIENT_EVENTS
                    .iter()
                    .map(|t| format!("'{t}'"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return self.send_error(refusal("invalid_value", message, Some("type")), id);
        }
        if kind == "session.start" {
            // The strict checks first: they name the field as the service does.
            return self.start(now, &value["session"], id);
        }
        let event = match ClientEvent::decode(text) {
            Ok(event) => event,
            Err(error) => {
                let message = format!("The `{kind}` event is malformed: {error}");
                return self.send_error(refusal("invalid_value", message, None), id);
            }
        };
        if self.phase == Phase::Waiting && kind != "session.start" {
            let message = format!(
                "The first client event must be session.start; got {kind}. Send session.start and wait for session.started."
            );
            return self.send_error(refusal("session_not_started", message, None), id);
        }
        match event {
            ClientEvent::SessionUpdate(_) => self.update(&value["session"], id),
            ClientEvent::InputAudioAppend(append) => match BASE64.decode(&append.audio) {
                Ok(bytes) => self.hear(now, &bytes),
                Err(_) => {
                    let error = refusal(
                        "invalid_value",
                        "Invalid value for 'audio': expected base64-encoded audio.".to_owned(),
                        Some("audio"),
                    );
                    self.send_error(error, id);
                }
            },
            ClientEvent::InputAudioMute(_) => {
                self.muted = true;
                self.push_reply(json!({"type": "session.input_audio.muted"}), id);
            }
            ClientEvent::InputAudioUnmute(_) => {
                self.muted = false;
                self.push_reply(json!({"type": "session.input_audio.unmuted"}), id);
            }
            ClientEvent::OutputAudioFixturePlay(play) => self.fixture(&play.audio, id),
            ClientEvent::InstructionsAppend(_)
            | ClientEvent::ThinkingAppend(_)
            | ClientEvent::CommentaryAppend(_) => self.append(now, kind, &value, id),
            ClientEvent::DecisionCreate(_) => self.decision_create(id),
            ClientEvent::DecisionItemCreate(_) => self.decision_item_create(&value["item"], id),
            ClientEvent::DecisionItemDelete(_) => {
                let item_id = value["item_id"].as_str().unwrap_or_default().to_owned();
                self.decision_item_delete(item_id, id);
            }
            ClientEvent::ResponseItemCreate(_) => self.response_item(&value["item"], id),
            ClientEvent::ResponseCreate(_) => self.response_create(id),
            ClientEvent::SessionClose(_) => self.end(now, CloseReason::CloseRequested, id),
            _ => {
                let message = format!("{kind} is not supported on a primary WebSocket.");
                self.send_error(refusal("invalid_value", message, Some("type")), id);
            }
        }
    }

    fn start(&mut self, now: Instant, config: &Value, id: Option<&str>) {
        if config.is_null() {
            let error = refusal(
                "missing_required_parameter",
                "Missing required parameter: 'session'.".to_owned(),
                Some("session"),
            );
            return self.send_error(error, id);
        }
        if self.phase == Phase::Started {
            let error = refusal(
                "session_already_started",
                "The session has already started; session.start is sent once.".to_owned(),
                None,
            );
            return self.send_error(error, id);
        }
        let model = match validate::session_config(config) {
            Ok(model) => model,
            Err(error) => return self.send_error(error, id),
        };
        if model.starts_with("gpt-realtime") || model.starts_with("gpt-4o") {
            let message = format!(
                "The model `{model}` is a Realtime model and cannot be used with the Live API. Connect to /v1/realtime?model={model}, or use gpt-live-1."
            );
            let error = refusal("invalid_model", message, Some("session.model"));
            return self.fatal(error, id, 4004);
        }
        if !self.setup.models.contains(&model) {
            let message =
                format!("The model `{model}` does not exist or you do not have access to it.");
            let error = refusal("model_not_found", message, Some("session.model"));
            return self.fatal(error, id, 4004);
        }
        let mut session = Map::new();
        session.insert("id".into(), Value::from(self.setup.session_id.clone()));
        let expires_at = self.setup.unix_now + self.setup.max_duration.as_secs();
        session.insert("expires_at".into(), Value::from(expires_at));
        session.insert("model".into(), Value::from(model));
        if let Some(instructions) = config.get("instructions").filter(|v| !v.is_null()) {
            session.insert("instructions".into(), instructions.clone());
        }
        let format = config["audio"]
            .get("format")
            .filter(|f| !f.is_null())
            .cloned()
            .unwrap_or_else(|| json!({"type": "audio/pcm", "rate": 24000}));
        let voice = config["audio"]["output"]
            .get("voice")
            .filter(|v| !v.is_null())
            .cloned()
            .unwrap_or_else(|| Value::from("marin"));
        session.insert(
            "audio".into(),
            json!({"format": format, "output": {"voice": voice}}),
        );
        let delegation = config
            .get("delegation")
            .filter(|d| !d.is_null())
            .cloned()
            .unwrap_or_else(|| json!({"type": "client"}));
        self.delegation_kind = delegation["type"].as_str().unwrap_or("client").to_owned();
        session.insert("delegation".into(), delegation);
        session.insert("status".into(), Value::from("active"));
        let input = config.get("input").filter(|i| !i.is_null()).cloned();
        session.insert("input".into(), input.unwrap_or_else(|| json!([])));
        for key in ["client", "store", "safety_identifier", "triggers"] {
            if let Some(v) = config.get(key).filter(|v| !v.is_null()) {
                session.insert(key.into(), v.clone());
            }
        }
        self.format = Format::from_json(&format);
        self.session = Value::Object(session);
        self.version += 1;
        self.phase = Phase::Started;
        self.started_at = Some(now);
        self.expires = Some(now + self.setup.max_duration);
        self.next_delta = Some(now + self.setup.script.delta);
        self.next_usage = Some(now + self.setup.script.usage_interval);
        // As observed, `session.started` carries no `client_event_id`.
        let session = self.session.clone();
        self.push(json!({"type": "session.started", "session": session}));
    }

    // The refusal is the Live error payload itself, built once per bad update.
    #[allow(clippy::result_large_err)]
    fn update(&mut self, update: &Value, id: Option<&str>) {
        let result = (|| {
            let map = update.as_object().ok_or_else(|| {
                refusal(
                    "invalid_value",
                    "Invalid value for 'session': expected an object.".to_owned(),
                    Some("session"),
                )
            })?;
            for key in map.keys() {
                if key == "delegation" || key == "triggers" {
                    continue;
                }
                let path = format!("session.{key}");
                return Err(
                    if validate::session_config(&json!({"model": "m", key: map[key]})).is_ok()
                        || [
                            "model",
                            "instructions",
                            "audio",
                            "input",
                            "client",
                            "store",
                            "safety_identifier",
                        ]
                        .contains(&key.as_str())
                    {
                        refusal(
                            "immutable_field_update",
                            format!(
                                "Cannot update '{path}' after the session has started; only 'session.delegation' settings and 'session.triggers' can change."
                            ),
                            Some(&path),
                        )
                    } else {
                        refusal(
                            "unknown_parameter",
                            format!("Unknown parameter: '{path}'."),
                            Some(&path),
                        )
                    },
                );
            }
            if let Some(triggers) = map.get("triggers").and_then(Value::as_array) {
                validate::triggers_config(triggers)?;
            }
            if let Some(delegation) = map.get("delegation").filter(|d| !d.is_null()) {
                let kind = validate::delegation_config(delegation, "session.delegation", true)?;
                if kind != self.delegation_kind {
                    return Err(refusal(
                        "immutable_field_update",
                        format!(
                            "Cannot change the delegation type from '{}' to '{kind}' after the session has started.",
                            self.delegation_kind
                        ),
                        Some("session.delegation.type"),
                    ));
                }
            }
            Ok(())
        })();
        if let Err(error) = result {
            return self.send_error(error, id);
        }
        if let Some(delegation) = update.get("delegation").and_then(Value::as_object) {
            let current = &mut self.session["delegation"];
            for (key, value) in delegation {
                match (current.get_mut(key), value) {
                    (Some(Value::Object(old)), Value::Object(new)) => {
                        for (k, v) in new {
                            old.insert(k.clone(), v.clone());
                        }
                    }
                    _ => current[key] = value.clone(),
                }
            }
        }
        if let Some(triggers) = update.get("triggers").filter(|t| !t.is_null()) {
            self.session["triggers"] = triggers.clone();
        }
        self.version += 1;
        let session = self.session.clone();
        self.push_reply(json!({"type": "session.updated", "session": session}), id);
    }

    fn fixture(&mut self, audio: &str, id: Option<&str>) {
        let Ok(pcm) = BASE64.decode(audio) else {
            let error = refusal(
                "invalid_value",
                "Invalid value for 'audio': expected base64-encoded PCM16 at 24 kHz.".to_owned(),
                Some("audio"),
            );
            return self.send_error(error, id);
        };
        if pcm.len() > 24_000 * 2 * 30 {
            let error = refusal(
                "invalid_value",
                "A fixture plays at most 30 seconds of audio.".to_owned(),
                Some("audio"),
            );
            return self.send_error(error, id);
        }
        // It interrupts the model's speech.
        self.speaking = None;
        self.queue.clear();
        let converted = self.format.convert_pcm24(&pcm);
        self.fixture = Some((converted.into(), id.map(str::to_owned)));
        self.push_reply(json!({"type": "session.output_audio.fixture.playing"}), id);
    }

    fn append(&mut self, now: Instant, kind: &str, value: &Value, id: Option<&str>) {
        if self.fixture.is_some() {
            let error = refusal(
                "fixture_playing",
                format!("{kind} is not accepted while a fixture plays."),
                None,
            );
            return self.send_error(error, id);
        }
        let delegation_id = value["delegation_id"].as_str().map(str::to_owned);
        if let Some(d) = &delegation_id
            && !self.delegations.contains(d)
        {
            let error = refusal(
                "invalid_value",
                format!("Invalid value for 'delegation_id': no delegation '{d}' in this session."),
                Some("delegation_id"),
            );
            return self.send_error(error, id);
        }
        let at = self.timeline_ms(now);
        let acknowledged = kind.replace(".append", ".appended");
        self.push_reply(
            json!({"type": acknowledged, "start_ms": at, "end_ms": at}),
            id,
        );
        let answers_wait =
            matches!((&self.wait, &delegation_id), (Wait::Commentary(w), Some(d)) if w == d);
        let content = value["content"].as_str().unwrap_or_default().to_owned();
        match kind {
            "session.commentary.append" => {
                if answers_wait {
                    self.wait = Wait::None;
                }
                if self.speaking.is_none() {
                    self.queue.push_front(LiveOutput::Speech {
                        ms: (content.chars().count() as u32 * 60).clamp(200, 5000),
                        transcript: content,
                    });
                } else {
                    self.queue.push_back(LiveOutput::Speech {
                        ms: (content.chars().count() as u32 * 60).clamp(200, 5000),
                        transcript: content,
                    });
                }
                self.advance();
            }
            "session.thinking.append" => {
                if answers_wait {
                    self.wait = Wait::None;
                    self.advance();
                }
            }
            _ => {
                if answers_wait {
                    self.wait = Wait::None;
                    self.advance();
                } else if delegation_id.is_none() {
                    // Asked to speak (a greeting on an outbound call): the next turn plays.
                    self.start_turn();
                }
            }
        }
    }

    fn require(&mut self, kind: &str, what: &str, id: Option<&str>) -> bool {
        if self.delegation_kind == kind {
            return true;
        }
        let name = if kind == "responses" {
            "Responses"
        } else {
            "Decisions"
        };
        let error = refusal(
            "invalid_request_error",
            format!("{what} requires {name} delegation."),
            None,
        );
        self.send_error(error, id);
        false
    }

    fn decision_create(&mut self, id: Option<&str>) {
        if !self.require("decisions", "decision.create", id) {
            return;
        }
        let event_id = id.unwrap_or_default().to_owned();
        if !self.decision_event_ids.insert(event_id.clone()) {
            let error = refusal(
                "duplicate_event_id",
                format!(
                    "decision.create with event_id '{event_id}' was already received; use a new event_id."
                ),
                Some("event_id"),
            );
            return self.send_error(error, id);
        }
        let decision = self.decision(Vec::new());
        self.push(json!({
            "type": "decision.event",
            "event": {"type": "decision.completed", "decision": decision},
        }));
    }

    fn decision_item_create(&mut self, item: &Value, id: Option<&str>) {
        if !self.require("decisions", "decision.item.create", id) {
            return;
        }
        let item_id = item["id"]
            .as_str()
            .map_or_else(|| self.next_id("item"), str::to_owned);
        let mut item = item.clone();
        item["id"] = Value::from(item_id.clone());
        self.decision_items.push(item_id);
        self.push_reply(json!({"type": "decision.item.created", "item": item}), id);
    }

    fn decision_item_delete(&mut self, item_id: String, id: Option<&str>) {
        if !self.require("decisions", "decision.item.delete", id) {
            return;
        }
        let Some(at) = self.decision_items.iter().position(|i| *i == item_id) else {
            let error = refusal(
                "invalid_value",
                format!("Invalid value for 'item_id': no decision item '{item_id}'."),
                Some("item_id"),
            );
            return self.send_error(error, id);
        };
        self.decision_items.remove(at);
        self.push_reply(
            json!({"type": "decision.item.deleted", "item_id": item_id}),
            id,
        );
    }

    fn response_item(&mut self, item: &Value, id: Option<&str>) {
        if !self.require("responses", "response.item.create", id) {
            return;
        }
        if item["type"] != "function_call_output" {
            return;
        }
        let call = item["call_id"].as_str().unwrap_or_default();
        match &mut self.wait {
            Wait::ToolOutput {
                call_id, answered, ..
            } if call_id == call => *answered = true,
            _ => {
                let error = refusal(
                    "invalid_value",
                    format!("Invalid value for 'item.call_id': no open function call '{call}'."),
                    Some("item.call_id"),
                );
                self.send_error(error, id);
            }
        }
    }

    fn response_create(&mut self, id: Option<&str>) {
        if !self.require("responses", "response.create", id) {
            return;
        }
        let delegation_id = match &self.wait {
            Wait::ToolOutput {
                answered: false,
                call_id,
                ..
            } => {
                let error = refusal(
                    "invalid_request_error",
                    format!(
                        "response.create needs an output for every open function call; '{call_id}' has none."
                    ),
                    None,
                );
                return self.send_error(error, id);
            }
            Wait::ToolOutput { delegation_id, .. } => delegation_id.clone(),
            _ => match self.delegations.iter().max() {
                Some(d) => d.clone(),
                None => return,
            },
        };
        let response_id = self.next_id("resp");
        let model = self.backend_model();
        let response = |status: &str| json!({"id": response_id, "object": "response", "status": status, "model": model, "output": []});
        let events = vec![
            json!({"type": "response.created", "response": response("in_progress")}),
            json!({"type": "response.completed", "response": response("completed")}),
        ];
        self.response_events(&delegation_id, events);
        if matches!(self.wait, Wait::ToolOutput { .. }) {
            self.wait = Wait::None;
            self.advance();
        }
    }
}

/// A plausible answer to a configured Decisions question.
fn default_answer(question: &Value) -> Value {
    let mut answer = match question["type"].as_str() {
        Some("choice") => {
            let value = question["choices"][0]["value"].clone();
            json!({"type": "choice", "choice": value, "confidence": 0.9,
                   "probabilities": [{"value": value, "probability": 0.9}]})
        }
        Some("score") => {
            let label = question["levels"][0]["label"].clone();
            json!({"type": "score", "score": 1.0, "confidence": 0.9,
                   "probabilities": [{"label": label, "value": 1, "probability": 0.9}]})
        }
        _ => json!({"type": "predicate", "probability": 0.9}),
    };
    if let Some(name) = question.get("name").filter(|n| n.is_string()) {
        answer["name"] = name.clone();
    }
    answer
}
