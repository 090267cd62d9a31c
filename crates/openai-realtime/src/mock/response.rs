//! Plans a scripted turn as the service's event sequence (GA names): output items, audio and
//! transcript deltas, function-call arguments, with each step's time offset for pacing.

use std::collections::VecDeque;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::audio::Format;
use super::script::{Audio, DeltaSchedule, Output, Pacing, Turn};

/// What sending a step changes in the conversation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Effect {
    None,
    /// The output item at this index is now in the conversation (in progress).
    ItemAdded(usize),
    /// Audio of this many milliseconds went out for the output item at this index.
    Audio(usize, f64),
    /// The output item at this index is complete.
    ItemDone(usize),
}

/// One event of a response, due `at` after the response started.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    pub(crate) at: Duration,
    pub(crate) event: Value,
    pub(crate) effect: Effect,
}

/// A response ready to play.
#[derive(Debug)]
pub(crate) struct Plan {
    /// The completed form of each output item.
    pub(crate) items: Vec<Value>,
    pub(crate) steps: VecDeque<Step>,
    pub(crate) audio_ms: f64,
    pub(crate) text_tokens: u64,
}

impl Plan {
    /// Adds `event`, due `at`, with what sending it changes.
    fn push(&mut self, at: Duration, event: Value, effect: Effect) {
        self.steps.push_back(Step { at, event, effect });
    }

    /// Adds an event about one output item's content (`common` names the response, item and
    /// output index; `extra` adds the type and the rest), which changes nothing by itself.
    fn push_part(&mut self, at: Duration, common: &Value, extra: Value) {
        self.push(at, with(common, extra), Effect::None);
    }
}

/// Makes unique ids within a session.
#[derive(Debug, Default)]
pub(crate) struct Ids {
    next: u64,
}

impl Ids {
    pub(crate) fn make(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}_mock{:06}", self.next)
    }
}

pub(crate) struct PlanInput<'a> {
    pub(crate) turn: &'a Turn,
    pub(crate) response_id: &'a str,
    pub(crate) format: Format,
    pub(crate) pacing: Pacing,
    pub(crate) deltas: &'a DeltaSchedule,
    pub(crate) previous_item_id: Option<String>,
}

pub(crate) fn plan(input: PlanInput<'_>, ids: &mut Ids) -> Plan {
    let PlanInput {
        turn,
        response_id,
        format,
        pacing,
        deltas,
        mut previous_item_id,
    } = input;
    let mut plan = Plan {
        items: Vec::new(),
        steps: VecDeque::new(),
        audio_ms: 0.0,
        text_tokens: 0,
    };
    let mut at = Duration::ZERO;
    // Deltas of this response so far (the schedule runs over the whole response).
    let mut sent_deltas = 0;
    for (index, output) in turn.outputs().iter().enumerate() {
        let item_id = ids.make("item");
        let common = json!({"response_id": response_id, "item_id": item_id, "output_index": index});
        match output {
            Output::Speech { transcript, audio } => {
                let added = json!({
                    "id": item_id, "object": "realtime.item", "type": "message",
                    "status": "in_progress", "role": "assistant", "content": []
                });
                let done = json!({
                    "id": item_id, "object": "realtime.item", "type": "message",
                    "status": "completed", "role": "assistant",
                    "content": [{"type": "output_audio", "transcript": transcript}]
                });
                plan.push(
                    at,
                    output_item_added(response_id, index, &added),
                    Effect::ItemAdded(index),
                );
                plan.push(at, item_added(&previous_item_id, &added), Effect::None);
                plan.push_part(
                    at,
                    &common,
                    json!({"type": "response.content_part.added", "content_index": 0,
                        "part": {"type": "audio", "transcript": ""}}),
                );
                let bytes = match audio {
                    Audio::Tone { hz, ms } => format.tone(*hz, *ms),
                    Audio::Silence { ms } => format.silence(*ms),
                    Audio::Raw(bytes) => bytes.clone(),
                };
                let mut chunks: Vec<&[u8]> = Vec::new();
                let mut rest = bytes.as_slice();
                while !rest.is_empty() {
                    let ms = deltas.nth(sent_deltas + chunks.len()).as_millis() as usize;
                    let (piece, after) = rest.split_at(
                        (format.bytes_per_ms() * ms)
                            .max(format.bytes_per_ms())
                            .min(rest.len()),
                    );
                    chunks.push(piece);
                    rest = after;
                }
                sent_deltas += chunks.len();
                let words = split_words(transcript, chunks.len().max(1));
                for (i, piece) in chunks.iter().enumerate() {
                    let ms = format.ms_of(piece.len());
                    plan.push(
                        at,
                        with(
                            &common,
                            json!({"type": "response.output_audio.delta", "content_index": 0,
                            "delta": BASE64.encode(piece)}),
                        ),
                        Effect::Audio(index, ms),
                    );
                    if let Some(text) = words.get(i).filter(|w| !w.is_empty()) {
                        plan.push_part(
                            at,
                            &common,
                            json!({"type": "response.output_audio_transcript.delta",
                                "content_index": 0, "delta": text}),
                        );
                    }
                    at += pacing.gap(Duration::from_secs_f64(ms / 1000.0));
                    plan.audio_ms += ms;
                }
                if chunks.is_empty() && !transcript.is_empty() {
                    plan.push_part(
                        at,
                        &common,
                        json!({"type": "response.output_audio_transcript.delta",
                            "content_index": 0, "delta": transcript}),
                    );
                }
                plan.push_part(
                    at,
                    &common,
                    json!({"type": "response.output_audio.done", "content_index": 0}),
                );
                plan.push_part(
                    at,
                    &common,
                    json!({"type": "response.output_audio_transcript.done",
                        "content_index": 0, "transcript": transcript}),
                );
                plan.push_part(
                    at,
                    &common,
                    json!({"type": "response.content_part.done", "content_index": 0,
                        "part": {"type": "audio", "transcript": transcript}}),
                );
                plan.text_tokens += transcript.split_whitespace().count() as u64;
                finish_item(&mut plan, at, response_id, index, &previous_item_id, done);
            }
            Output::FunctionCall { name, arguments } => {
                let call_id = ids.make("call");
                let added = json!({
                    "id": item_id, "object": "realtime.item", "type": "function_call",
                    "status": "in_progress", "call_id": call_id, "name": name, "arguments": ""
                });
                let done = json!({
                    "id": item_id, "object": "realtime.item", "type": "function_call",
                    "status": "completed", "call_id": call_id, "name": name, "arguments": arguments
                });
                plan.push(
                    at,
                    output_item_added(response_id, index, &added),
                    Effect::ItemAdded(index),
                );
                plan.push(at, item_added(&previous_item_id, &added), Effect::None);
                let mut rest = arguments.as_str();
                while !rest.is_empty() {
                    let mut cut = rest.len().min(16);
                    while !rest.is_char_boundary(cut) {
                        cut += 1;
                    }
                    let (piece, tail) = rest.split_at(cut);
                    rest = tail;
                    plan.push_part(
                        at,
                        &common,
                        json!({"type": "response.function_call_arguments.delta",
                            "call_id": call_id, "delta": piece}),
                    );
                }
                plan.push_part(
                    at,
                    &common,
                    json!({"type": "response.function_call_arguments.done",
                        "call_id": call_id, "name": name, "arguments": arguments}),
                );
                plan.text_tokens += (arguments.len() as u64 / 4).max(1);
                finish_item(&mut plan, at, response_id, index, &previous_item_id, done);
            }
        }
        previous_item_id = Some(item_id);
    }
    plan
}

fn finish_item(
    plan: &mut Plan,
    at: Duration,
    response_id: &str,
    index: usize,
    previous_item_id: &Option<String>,
    done: Value,
) {
    plan.push(
        at,
        json!({"type": "response.output_item.done", "response_id": response_id,
            "output_index": index, "item": done}),
        Effect::ItemDone(index),
    );
    plan.push(
        at,
        json!({"type": "conversation.item.done", "previous_item_id": previous_item_id, "item": done}),
        Effect::None,
    );
    plan.items.push(done);
}

fn output_item_added(response_id: &str, index: usize, item: &Value) -> Value {
    json!({"type": "response.output_item.added", "response_id": response_id, "output_index": index, "item": item})
}

fn item_added(previous_item_id: &Option<String>, item: &Value) -> Value {
    json!({"type": "conversation.item.added", "previous_item_id": previous_item_id, "item": item})
}

fn with(common: &Value, extra: Value) -> Value {
    let mut out = common.clone();
    if let (Some(out), Some(extra)) = (out.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

/// Spreads the transcript's words over `n` deltas (the first deltas carry the words; each
/// word keeps its leading space so the deltas concatenate to the transcript).
fn split_words(transcript: &str, n: usize) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    let mut start = 0;
    for (i, c) in transcript.char_indices() {
        if c == ' ' && i > start {
            pieces.push(transcript[start..i].to_owned());
            start = i;
        }
    }
    if start < transcript.len() {
        pieces.push(transcript[start..].to_owned());
    }
    if pieces.len() <= n {
        return pieces;
    }
    // More words than deltas: group them.
    let per = pieces.len().div_ceil(n);
    pieces.chunks(per).map(|c| c.concat()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_concatenate_to_the_transcript() {
        let t = "Hello there, this is the clinic calling";
        for n in 1..10 {
            let parts = split_words(t, n);
            assert!(parts.len() <= n.max(1));
            assert_eq!(parts.concat(), t);
        }
    }

    #[test]
    fn speech_plan_follows_the_service_order() {
        let turn = Turn::new().say("Hi there", Audio::tone(250));
        let mut ids = Ids::default();
        let plan = plan(
            PlanInput {
                turn: &turn,
                response_id: "resp_1",
                format: Format::Pcmu,
                pacing: Pacing::RealTime,
                deltas: &DeltaSchedule::default(),
                previous_item_id: None,
            },
            &mut ids,
        );
        let types: Vec<&str> = plan
            .steps
            .iter()
            .map(|s| s.event["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            [
                "response.output_item.added",
                "conversation.item.added",
                "response.content_part.added",
                "response.output_audio.delta",
                "response.output_audio_transcript.delta",
                "response.output_audio.delta",
                "response.output_audio_transcript.delta",
                "response.output_audio.delta",
                "response.output_audio.done",
                "response.output_audio_transcript.done",
                "response.content_part.done",
                "response.output_item.done",
                "conversation.item.done",
            ]
        );
        assert!((plan.audio_ms - 250.0).abs() < 1e-9);
        // Real-time pacing: the third delta is due after the first two played.
        let third = plan
            .steps
            .iter()
            .filter(|s| matches!(s.effect, Effect::Audio(..)))
            .nth(2)
            .unwrap();
        assert_eq!(third.at, Duration::from_millis(200));
    }

    /// The audio deltas of a plan: (due, milliseconds).
    fn audio_steps(plan: &Plan) -> Vec<(Duration, f64)> {
        plan.steps
            .iter()
            .filter_map(|s| match s.effect {
                Effect::Audio(_, ms) => Some((s.at, ms)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_service_like_schedule_at_three_times_real_time() {
        // 40 + 100 + 200 + 100 + 60 (the rest) = 500 ms.
        let turn = Turn::new().say("One two three four five", Audio::tone(500));
        let plan = plan(
            PlanInput {
                turn: &turn,
                response_id: "resp_1",
                format: Format::Pcmu,
                pacing: Pacing::Faster(3),
                deltas: &DeltaSchedule::service_like(),
                previous_item_id: None,
            },
            &mut Ids::default(),
        );
        let steps = audio_steps(&plan);
        let sizes: Vec<f64> = steps.iter().map(|s| s.1).collect();
        assert_eq!(sizes, [40.0, 100.0, 200.0, 100.0, 60.0]);
        let due: Vec<Duration> = steps.iter().map(|s| s.0).collect();
        let third = |ms: u64| Duration::from_millis(ms) / 3;
        assert_eq!(due[0], Duration::ZERO);
        assert_eq!(due[1], third(40));
        // Each gap is rounded down to the nanosecond on its own.
        assert!(third(440) - due[4] < Duration::from_micros(1), "{due:?}");
        assert!((plan.audio_ms - 500.0).abs() < 1e-9);
    }

    #[test]
    fn the_schedule_runs_over_the_whole_response() {
        let turn = Turn::new()
            .say("First", Audio::tone(140))
            .say("Second", Audio::tone(200));
        let plan = plan(
            PlanInput {
                turn: &turn,
                response_id: "resp_1",
                format: Format::Pcmu,
                pacing: Pacing::AsFastAsPossible,
                deltas: &DeltaSchedule::service_like(),
                previous_item_id: None,
            },
            &mut Ids::default(),
        );
        let steps = audio_steps(&plan);
        let sizes: Vec<f64> = steps.iter().map(|s| s.1).collect();
        // The second item goes on with the schedule (200 ms) instead of starting at 40.
        assert_eq!(sizes, [40.0, 100.0, 200.0]);
        assert!(steps.iter().all(|s| s.0 == Duration::ZERO));
    }

    #[test]
    fn schedules_floor_at_ten_ms_and_never_run_empty() {
        let ms = Duration::from_millis;
        assert_eq!(DeltaSchedule::new([], []), DeltaSchedule::default());
        let lead_only = DeltaSchedule::new([ms(40), ms(80)], []);
        assert_eq!(lead_only.nth(0), ms(40));
        assert_eq!(lead_only.nth(5), ms(80));
        assert_eq!(DeltaSchedule::fixed(ms(1)).nth(3), ms(10));
        assert_eq!(Pacing::Faster(0).gap(ms(90)), ms(90));
        assert_eq!(Pacing::Faster(3).gap(ms(90)), ms(30));
    }
}
