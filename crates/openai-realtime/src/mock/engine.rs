//! The mock service's brain, sans-IO: client frames in, server frames and closes out, with
//! time passed in. Works on GA-shaped JSON; `wire` translates each frame to and from the
//! session's dialect.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use super::audio::Format;
use super::response::{self, Effect, Ids, PlanInput, Step};
use super::script::Script;
use super::session_state as state;
use super::vad::{Vad, VadEvent, VadParams};
use super::wire;
use crate::{ApiError, Dialect};

/// Something for the socket.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Outgoing {
    /// A text frame, already in the session's dialect.
    Text(String),
    /// A close frame; nothing follows it.
    Close(u16, String),
}

/// How a session starts.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub(crate) session_id: String,
    pub(crate) dialect: Dialect,
    pub(crate) model: String,
    pub(crate) script: Script,
    pub(crate) max_duration: Duration,
    /// Unix seconds at the start, for `expires_at`.
    pub(crate) unix_now: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    Assistant,
    Other,
}

#[derive(Debug)]
struct ConvItem {
    id: String,
    kind: Kind,
    /// Audio sent for an assistant item, in milliseconds.
    audio_ms: f64,
    item: Value,
}

#[derive(Debug)]
struct Active {
    id: String,
    started: Instant,
    steps: VecDeque<Step>,
    items: Vec<Value>,
    added: Vec<bool>,
    done: Vec<bool>,
    audio_ms_sent: f64,
    text_tokens: u64,
    format: Format,
}

/// One mock session's protocol state.
#[derive(Debug)]
pub(crate) struct Engine {
    dialect: Dialect,
    session: Value,
    max_duration: Duration,
    expires: Instant,
    ids: Ids,
    items: Vec<ConvItem>,
    buffer_bytes: usize,
    vad: Vad,
    speech_item: Option<String>,
    response: Option<Active>,
    responses: u64,
    script: Script,
    next_turn: usize,
    queue: VecDeque<Outgoing>,
    closed: bool,
    /// The refusal of the frame being handled.
    refusal: Option<ApiError>,
    /// Bumped whenever `session` changes, so the server copies it only then.
    session_version: u64,
}

impl Engine {
    /// Starts a session: queues `session.created`.
    pub(crate) fn new(setup: Setup, now: Instant) -> Self {
        let expires_at = setup.unix_now + setup.max_duration.as_secs();
        let session = state::default_session(&setup.session_id, &setup.model, expires_at);
        let mut engine = Self {
            dialect: setup.dialect,
            vad: Vad::new(VadParams::default()),
            session,
            max_duration: setup.max_duration,
            expires: now + setup.max_duration,
            ids: Ids::default(),
            items: Vec::new(),
            buffer_bytes: 0,
            speech_item: None,
            response: None,
            responses: 0,
            script: setup.script,
            next_turn: 0,
            queue: VecDeque::new(),
            closed: false,
            refusal: None,
            session_version: 0,
        };
        engine.sync_vad();
        let session = engine.session.clone();
        engine.emit(json!({"type": "session.created", "session": session}));
        engine
    }

    /// The effective session, GA shape.
    pub(crate) fn session(&self) -> &Value {
        &self.session
    }

    /// Changes whenever [`Engine::session`] does.
    pub(crate) fn session_version(&self) -> u64 {
        self.session_version
    }

    /// Next frame or close to send, including response steps that are due.
    pub(crate) fn poll_output(&mut self, now: Instant) -> Option<Outgoing> {
        if let Some(out) = self.queue.pop_front() {
            return Some(out);
        }
        if self.closed {
            return None;
        }
        if now >= self.expires {
            let minutes = self.max_duration.as_secs() / 60;
            self.fatal(
                ApiError::new(
                    "invalid_request_error",
                    format!("Your session hit the maximum duration of {minutes} minutes."),
                )
                .with_code("session_expired"),
                3000,
            );
            return self.queue.pop_front();
        }
        self.step_response(now);
        self.queue.pop_front()
    }

    /// When to call [`Engine::poll_output`] next without new input.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let step = self
            .response
            .as_ref()
            .and_then(|r| r.steps.front().map(|s| r.started + s.at));
        Some(step.map_or(self.expires, |s| s.min(self.expires)))
    }

    /// Sends an `error` event (a mid-call error on command).
    pub(crate) fn send_error(&mut self, error: ApiError) {
        self.emit_error(error);
    }

    /// Sends any GA-shaped event (translated to the dialect).
    pub(crate) fn send_event(&mut self, event: Value) {
        self.emit(event);
    }

    /// Queues a text frame exactly as given, behind what is already queued.
    pub(crate) fn send_raw(&mut self, text: String) {
        self.queue.push_back(Outgoing::Text(text));
    }

    /// Queues a close with this code and reason.
    pub(crate) fn close(&mut self, code: u16, reason: impl Into<String>) {
        if !self.closed {
            self.closed = true;
            self.response = None;
            self.queue.push_back(Outgoing::Close(code, reason.into()));
        }
    }

    /// Refuses the session: the `error` event, then a close whose reason is `type.code`.
    pub(crate) fn fatal(&mut self, error: ApiError, close_code: u16) {
        let reason = match &error.code {
            Some(code) => format!("{}.{code}", error.kind),
            None => error.kind.clone(),
        };
        self.emit_error(error);
        self.close(close_code, reason);
    }

    /// Starts a response as `response.create` would (used on command, too).
    pub(crate) fn start_response(&mut self, now: Instant, params: Option<&Value>) {
        if self.response.is_some() {
            return;
        }
        self.responses += 1;
        let response_id = self.ids.make("resp");
        let format = params
            .and_then(|p| Format::from_ga(&p["audio"]["output"]["format"]))
            .unwrap_or_else(|| state::output_format(&self.session));
        let turn = self
            .script
            .turns
            .get(self.next_turn)
            .cloned()
            .unwrap_or_else(|| self.script.fallback.clone());
        self.next_turn += 1;
        let plan = response::plan(
            PlanInput {
                turn: &turn,
                response_id: &response_id,
                format,
                pacing: self.script.pacing,
                deltas: &self.script.deltas,
                previous_item_id: self.items.last().map(|i| i.id.clone()),
            },
            &mut self.ids,
        );
        let n = plan.items.len();
        let created = self.response_object(&response_id, "in_progress", None, &[], format, None);
        self.emit(json!({"type": "response.created", "response": created}));
        self.emit(json!({"type": "rate_limits.updated", "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 40000, "remaining": 38000, "reset_seconds": 3.0}
        ]}));
        self.response = Some(Active {
            id: response_id,
            // The service's time to first audio: every step comes that much later.
            started: now + self.script.latency,
            steps: plan.steps,
            items: plan.items,
            added: vec![false; n],
            done: vec![false; n],
            audio_ms_sent: 0.0,
            text_tokens: plan.text_tokens,
            format,
        });
        self.step_response(now);
    }

    /// Cancels the active response as the service does: unfinished items end `incomplete`,
    /// then `response.done` with status `cancelled`.
    pub(crate) fn cancel_response(&mut self, reason: &str) -> bool {
        let Some(active) = self.response.take() else {
            return false;
        };
        let mut output = Vec::new();
        for (index, item) in active.items.iter().enumerate() {
            if !active.added[index] {
                continue;
            }
            if active.done[index] {
                output.push(item.clone());
                continue;
            }
            let mut item = item.clone();
            item["status"] = json!("incomplete");
            let previous = self.previous_of(item["id"].as_str().unwrap_or_default());
            self.emit(
                json!({"type": "response.output_item.done", "response_id": active.id,
                "output_index": index, "item": item}),
            );
            self.emit(json!({"type": "conversation.item.done", "previous_item_id": previous, "item": item}));
            if let Some(conv) = self
                .items
                .iter_mut()
                .find(|c| Some(c.id.as_str()) == item["id"].as_str())
            {
                conv.item = item.clone();
            }
            output.push(item);
        }
        let details = json!({"type": "cancelled", "reason": reason});
        let usage = usage(active.audio_ms_sent, active.text_tokens);
        let done = self.response_object(
            &active.id,
            "cancelled",
            Some(details),
            &output,
            active.format,
            Some(usage),
        );
        self.emit(json!({"type": "response.done", "response": done}));
        true
    }

    /// Drops queued output (the `session.created` of a session refused right away).
    pub(crate) fn discard_pending(&mut self) {
        self.queue.clear();
    }

    /// Handles one text frame from the client; returns the `error` payload when the frame was
    /// refused.
    pub(crate) fn handle_text(&mut self, now: Instant, raw: &str) -> Option<ApiError> {
        if self.closed {
            return None;
        }
        self.refusal = None;
        match wire::decode_client(raw, self.dialect) {
            Ok(event) => self.dispatch(now, &event),
            Err(error) => {
                self.refusal = Some((*error).clone());
                self.emit_error(*error);
            }
        }
        self.refusal.take()
    }

    fn dispatch(&mut self, now: Instant, event: &Value) {
        let event_id = event
            .get("event_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match event["type"].as_str().unwrap_or_default() {
            "session.update" => self.session_update(&event["session"], event_id),
            "input_audio_buffer.append" => self.append(now, event, event_id),
            "input_audio_buffer.commit" => self.commit(event_id),
            "input_audio_buffer.clear" => {
                self.buffer_bytes = 0;
                self.speech_item = None;
                self.vad.reset_buffer();
                self.emit(json!({"type": "input_audio_buffer.cleared"}));
            }
            "conversation.item.create" => self.item_create(event),
            "conversation.item.retrieve" => self.item_retrieve(event, event_id),
            "conversation.item.truncate" => self.item_truncate(event, event_id),
            "conversation.item.delete" => self.item_delete(event, event_id),
            "response.create" => self.response_create(now, event, event_id),
            "response.cancel" => self.response_cancel(event_id),
            // output_audio_buffer.clear is WebRTC/SIP only; a WebSocket session has no
            // server-side playback buffer to clear, so there is nothing to do.
            _ => {}
        }
    }

    fn session_update(&mut self, update: &Value, event_id: Option<String>) {
        // A session's type is fixed at connect (`?intent=transcription` or a model).
        if update
            .get("type")
            .is_some_and(|t| *t != self.session["type"])
        {
            self.request_error(
                "invalid_value",
                "Passing a transcription session update event to a realtime session is not allowed.",
                Some("session.type"),
                event_id,
            );
            return;
        }
        state::apply_update(&mut self.session, update);
        self.session_version += 1;
        self.sync_vad();
        let session = self.session.clone();
        self.emit(json!({"type": "session.updated", "session": session}));
    }

    fn sync_vad(&mut self) {
        if let Some(td) = state::turn_detection(&self.session) {
            self.vad.set_params(td.vad);
        }
    }

    fn append(&mut self, now: Instant, event: &Value, event_id: Option<String>) {
        let audio = event["audio"].as_str().unwrap_or_default();
        let Ok(bytes) = BASE64.decode(audio) else {
            self.request_error(
                "invalid_value",
                "Invalid 'audio'. Expected base64-encoded audio data.",
                Some("audio"),
                event_id,
            );
            return;
        };
        self.buffer_bytes += bytes.len();
        let Some(td) = state::turn_detection(&self.session) else {
            return;
        };
        let format = state::input_format(&self.session);
        for vad_event in self.vad.push(format, &bytes) {
            match vad_event {
                VadEvent::SpeechStarted { audio_start_ms } => {
                    let item_id = self.ids.make("item");
                    self.speech_item = Some(item_id.clone());
                    self.emit(json!({"type": "input_audio_buffer.speech_started",
                        "audio_start_ms": audio_start_ms, "item_id": item_id}));
                    if td.interrupt_response {
                        self.cancel_response("turn_detected");
                    }
                }
                VadEvent::SpeechStopped { audio_end_ms } => {
                    let item_id = self
                        .speech_item
                        .take()
                        .unwrap_or_else(|| self.ids.make("item"));
                    self.emit(json!({"type": "input_audio_buffer.speech_stopped",
                        "audio_end_ms": audio_end_ms, "item_id": item_id}));
                    self.commit_user_item(item_id);
                    if td.create_response && self.response.is_none() {
                        self.start_response(now, None);
                    }
                }
            }
        }
    }

    fn commit(&mut self, event_id: Option<String>) {
        let ms = state::input_format(&self.session).ms_of(self.buffer_bytes);
        if ms < 100.0 {
            self.request_error(
                "input_audio_buffer_commit_empty",
                &format!(
                    "Error committing input audio buffer: buffer too small. Expected at least \
                     100ms of audio, but buffer only has {ms:.2}ms of audio."
                ),
                None,
                event_id,
            );
            return;
        }
        let item_id = self
            .speech_item
            .take()
            .unwrap_or_else(|| self.ids.make("item"));
        self.commit_user_item(item_id);
    }

    fn commit_user_item(&mut self, item_id: String) {
        let previous = self.items.last().map(|i| i.id.clone());
        self.emit(json!({"type": "input_audio_buffer.committed",
            "previous_item_id": previous, "item_id": item_id}));
        self.buffer_bytes = 0;
        self.vad.reset_buffer();
        let item = json!({"id": item_id, "object": "realtime.item", "type": "message",
            "status": "completed", "role": "user",
            "content": [{"type": "input_audio", "transcript": null}]});
        self.add_item(item, Kind::User, previous);
        if state::transcribes(&self.session) {
            let transcript = self
                .script
                .turns
                .get(self.next_turn)
                .and_then(|t| t.input_transcript())
                .unwrap_or("(caller speech)")
                .to_owned();
            self.emit(
                json!({"type": "conversation.item.input_audio_transcription.delta",
                "item_id": item_id, "content_index": 0, "delta": transcript}),
            );
            self.emit(
                json!({"type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id, "content_index": 0, "transcript": transcript,
                "usage": {"type": "duration", "seconds": 1}}),
            );
        }
    }

    fn add_item(&mut self, item: Value, kind: Kind, previous: Option<String>) {
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        self.emit(
            json!({"type": "conversation.item.added", "previous_item_id": previous, "item": item}),
        );
        self.emit(
            json!({"type": "conversation.item.done", "previous_item_id": previous, "item": item}),
        );
        self.items.push(ConvItem {
            id,
            kind,
            audio_ms: 0.0,
            item,
        });
    }

    fn item_create(&mut self, event: &Value) {
        let mut item = event["item"].clone();
        if !item.is_object() {
            // The strict decoder refuses this already; never index into a non-object.
            return;
        }
        if item.get("id").and_then(Value::as_str).is_none() {
            item["id"] = json!(self.ids.make("item"));
        }
        item["object"] = json!("realtime.item");
        if item.get("status").is_none() {
            item["status"] = json!("completed");
        }
        let kind = match (item["type"].as_str(), item["role"].as_str()) {
            (Some("message"), Some("user")) => Kind::User,
            (Some("message"), Some("assistant")) => Kind::Assistant,
            _ => Kind::Other,
        };
        let previous = event["previous_item_id"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| self.items.last().map(|i| i.id.clone()));
        self.add_item(item, kind, previous);
    }

    fn find(&self, event: &Value) -> Option<usize> {
        let id = event["item_id"].as_str()?;
        self.items.iter().position(|i| i.id == id)
    }

    fn not_found(&mut self, event: &Value, event_id: Option<String>) {
        let id = event["item_id"].as_str().unwrap_or_default();
        self.request_error(
            "item_not_found",
            &format!("Item with item_id '{id}' not found."),
            Some("item_id"),
            event_id,
        );
    }

    fn item_retrieve(&mut self, event: &Value, event_id: Option<String>) {
        match self.find(event) {
            Some(i) => {
                let item = self.items[i].item.clone();
                self.emit(json!({"type": "conversation.item.retrieved", "item": item}));
            }
            None => self.not_found(event, event_id),
        }
    }

    fn item_delete(&mut self, event: &Value, event_id: Option<String>) {
        match self.find(event) {
            Some(i) => {
                let item = self.items.remove(i);
                self.emit(json!({"type": "conversation.item.deleted", "item_id": item.id}));
            }
            None => self.not_found(event, event_id),
        }
    }

    fn item_truncate(&mut self, event: &Value, event_id: Option<String>) {
        let Some(i) = self.find(event) else {
            self.not_found(event, event_id);
            return;
        };
        if self.items[i].kind != Kind::Assistant {
            self.request_error(
                "invalid_value",
                "Only assistant messages can be truncated.",
                Some("item_id"),
                event_id,
            );
            return;
        }
        let asked = event["audio_end_ms"].as_u64().unwrap_or_default();
        let sent = self.items[i].audio_ms;
        if asked as f64 > sent + 0.5 {
            self.request_error(
                "invalid_value",
                &format!(
                    "Audio content of {}ms is already shorter than {asked}ms",
                    sent.floor()
                ),
                Some("audio_end_ms"),
                event_id,
            );
            return;
        }
        let content_index = event["content_index"].as_u64().unwrap_or_default();
        let conv = &mut self.items[i];
        conv.audio_ms = asked as f64;
        // The service drops the transcript of a truncated item.
        if let Some(parts) = conv.item["content"].as_array_mut() {
            for part in parts {
                if part.get("transcript").is_some() {
                    part["transcript"] = json!("");
                }
            }
        }
        let item_id = conv.id.clone();
        self.emit(
            json!({"type": "conversation.item.truncated", "item_id": item_id,
            "content_index": content_index, "audio_end_ms": asked}),
        );
    }

    fn response_create(&mut self, now: Instant, event: &Value, event_id: Option<String>) {
        if let Some(active) = &self.response {
            let message = format!(
                "Conversation already has an active response in progress: {}. Wait until the \
                 response is finished before creating a new one.",
                active.id
            );
            self.request_error(
                "conversation_already_has_active_response",
                &message,
                None,
                event_id,
            );
            return;
        }
        self.start_response(now, event.get("response"));
    }

    fn response_cancel(&mut self, event_id: Option<String>) {
        if !self.cancel_response("client_cancelled") {
            self.request_error(
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                None,
                event_id,
            );
        }
    }

    fn step_response(&mut self, now: Instant) {
        let Some(active) = self.response.as_mut() else {
            return;
        };
        let Some(step) = active.steps.front() else {
            self.finish_response();
            return;
        };
        if active.started + step.at > now {
            return;
        }
        let Some(step) = active.steps.pop_front() else {
            return;
        };
        match step.effect {
            Effect::ItemAdded(index) => {
                active.added[index] = true;
                let item = active.items[index].clone();
                let id = item["id"].as_str().unwrap_or_default().to_owned();
                let kind = if item["type"] == "message" {
                    Kind::Assistant
                } else {
                    Kind::Other
                };
                let mut in_progress = item;
                in_progress["status"] = json!("in_progress");
                self.items.push(ConvItem {
                    id,
                    kind,
                    audio_ms: 0.0,
                    item: in_progress,
                });
            }
            Effect::Audio(index, ms) => {
                active.audio_ms_sent += ms;
                let id = active.items[index]["id"].as_str().unwrap_or_default();
                if let Some(conv) = self.items.iter_mut().find(|c| c.id == id) {
                    conv.audio_ms += ms;
                }
            }
            Effect::ItemDone(index) => {
                active.done[index] = true;
                let item = active.items[index].clone();
                if let Some(conv) = self
                    .items
                    .iter_mut()
                    .find(|c| Some(c.id.as_str()) == item["id"].as_str())
                {
                    conv.item = item;
                }
            }
            Effect::None => {}
        }
        self.emit(step.event);
        if self.response.as_ref().is_some_and(|r| r.steps.is_empty()) {
            self.finish_response();
        }
    }

    fn finish_response(&mut self) {
        let Some(active) = self.response.take() else {
            return;
        };
        let usage = usage(active.audio_ms_sent, active.text_tokens);
        let done = self.response_object(
            &active.id,
            "completed",
            None,
            &active.items,
            active.format,
            Some(usage),
        );
        self.emit(json!({"type": "response.done", "response": done}));
    }

    fn response_object(
        &self,
        id: &str,
        status: &str,
        details: Option<Value>,
        output: &[Value],
        format: Format,
        usage: Option<Value>,
    ) -> Value {
        let format = match format {
            Format::Pcm16 => json!({"type": "audio/pcm", "rate": 24000}),
            Format::Pcmu => json!({"type": "audio/pcmu"}),
            Format::Pcma => json!({"type": "audio/pcma"}),
        };
        json!({
            "id": id, "object": "realtime.response", "status": status,
            "status_details": details, "output": output,
            "conversation_id": "conv_mock", "output_modalities": self.session["output_modalities"],
            "max_output_tokens": self.session["max_output_tokens"],
            "audio": {"output": {"format": format, "voice": self.session["audio"]["output"]["voice"]}},
            "usage": usage, "metadata": null
        })
    }

    fn previous_of(&self, id: &str) -> Option<String> {
        let at = self.items.iter().position(|i| i.id == id)?;
        at.checked_sub(1).map(|p| self.items[p].id.clone())
    }

    fn request_error(
        &mut self,
        code: &str,
        message: &str,
        param: Option<&str>,
        event_id: Option<String>,
    ) {
        let mut error = ApiError::new("invalid_request_error", message).with_code(code);
        if let Some(param) = param {
            error = error.with_param(param);
        }
        if let Some(event_id) = event_id {
            error = error.with_event_id(event_id);
        }
        self.refusal = Some(error.clone());
        self.emit_error(error);
    }

    fn emit_error(&mut self, error: ApiError) {
        let error = serde_json::to_value(&error).unwrap_or(Value::Null);
        let mut error = error;
        // The service writes every field, with null for the absent ones.
        for key in ["code", "param", "event_id"] {
            if error.get(key).is_none() {
                error[key] = Value::Null;
            }
        }
        self.emit(json!({"type": "error", "error": error}));
    }

    fn emit(&mut self, mut event: Value) {
        if self.closed {
            return;
        }
        if event.get("event_id").is_none() {
            event["event_id"] = json!(self.ids.make("event"));
        }
        if let Some(text) = wire::encode_server(event, self.dialect) {
            self.queue.push_back(Outgoing::Text(text));
        }
    }
}

fn usage(audio_ms: f64, text_tokens: u64) -> Value {
    // About one audio token per 50 ms of output audio.
    let audio_tokens = (audio_ms / 50.0).ceil() as u64;
    json!({
        "total_tokens": 120 + audio_tokens + text_tokens,
        "input_tokens": 120, "output_tokens": audio_tokens + text_tokens,
        "input_token_details": {"text_tokens": 100, "audio_tokens": 20, "image_tokens": 0,
            "cached_tokens": 0, "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0}},
        "output_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens}
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::script::{Audio, Pacing, Turn};

    fn engine(script: Script, max: Duration, now: Instant) -> Engine {
        Engine::new(
            Setup {
                session_id: "sess_1".into(),
                dialect: Dialect::Ga,
                model: "gpt-realtime-2.1".into(),
                script,
                max_duration: max,
                unix_now: 1_700_000_000,
            },
            now,
        )
    }

    /// Every frame due at `now`, as JSON (closes as `{"close": code}`).
    fn drain(engine: &mut Engine, now: Instant) -> Vec<Value> {
        std::iter::from_fn(|| engine.poll_output(now))
            .map(|out| match out {
                Outgoing::Text(text) => serde_json::from_str(&text).unwrap(),
                Outgoing::Close(code, reason) => json!({"close": code, "reason": reason}),
            })
            .collect()
    }

    fn types(frames: &[Value]) -> Vec<&str> {
        frames
            .iter()
            .map(|f| f["type"].as_str().unwrap_or("close"))
            .collect()
    }

    #[test]
    fn the_session_expires_on_time_with_the_service_error_and_close() {
        let t0 = Instant::now();
        let mut e = engine(Script::new(), Duration::from_secs(600), t0);
        let first = drain(&mut e, t0);
        assert_eq!(types(&first), ["session.created"]);
        assert_eq!(first[0]["session"]["expires_at"], 1_700_000_600);
        assert_eq!(e.poll_timeout(), Some(t0 + Duration::from_secs(600)));
        assert!(drain(&mut e, t0 + Duration::from_secs(599)).is_empty());
        let last = drain(&mut e, t0 + Duration::from_secs(600));
        assert_eq!(last[0]["error"]["code"], "session_expired");
        assert_eq!(
            last[0]["error"]["message"],
            "Your session hit the maximum duration of 10 minutes."
        );
        assert_eq!(
            last[1],
            json!({"close": 3000, "reason": "invalid_request_error.session_expired"})
        );
        assert_eq!(e.poll_timeout(), None);
    }

    #[test]
    fn real_time_pacing_releases_audio_as_it_would_play() {
        let t0 = Instant::now();
        let script = Script::new()
            .pacing(Pacing::RealTime)
            .turn(Turn::new().say("One two three", Audio::tone(300)));
        let mut e = engine(script, Duration::from_secs(3600), t0);
        drain(&mut e, t0);
        assert!(e.handle_text(t0, r#"{"type":"response.create"}"#).is_none());
        let now = drain(&mut e, t0);
        assert_eq!(
            types(&now)
                .iter()
                .filter(|t| **t == "response.output_audio.delta")
                .count(),
            1,
            "{now:?}"
        );
        assert_eq!(e.poll_timeout(), Some(t0 + Duration::from_millis(100)));
        let later = drain(&mut e, t0 + Duration::from_millis(250));
        assert_eq!(
            types(&later)
                .iter()
                .filter(|t| **t == "response.output_audio.delta")
                .count(),
            2
        );
        let end = drain(&mut e, t0 + Duration::from_millis(300));
        assert_eq!(types(&end).last(), Some(&"response.done"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(128))]

        /// Whatever a client sends, the mock answers or refuses; it never panics and the
        /// session stays open.
        #[test]
        fn any_frame_is_answered_without_panic(
            frames in proptest::collection::vec(frame_strategy(), 1..8)
        ) {
            let t0 = Instant::now();
            let mut e = engine(Script::new(), Duration::from_secs(3600), t0);
            drain(&mut e, t0);
            for frame in &frames {
                e.handle_text(t0, frame);
                drain(&mut e, t0 + Duration::from_secs(10));
            }
            proptest::prop_assert!(!e.closed);
        }
    }

    fn frame_strategy() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let types = prop::sample::select(vec![
            "session.update",
            "input_audio_buffer.append",
            "input_audio_buffer.commit",
            "input_audio_buffer.clear",
            "conversation.item.create",
            "conversation.item.retrieve",
            "conversation.item.truncate",
            "conversation.item.delete",
            "response.create",
            "response.cancel",
            "output_audio_buffer.clear",
            "no.such.event",
        ]);
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            "[a-z_/]{0,12}".prop_map(Value::from),
            Just(json!({"type": "audio/pcmu"})),
            Just(json!({"type": "realtime"})),
            Just(json!({"type": "message", "role": "assistant", "content": []})),
        ];
        let field = prop::sample::select(vec![
            "session",
            "audio",
            "item",
            "item_id",
            "audio_end_ms",
            "content_index",
            "event_id",
            "response",
            "type",
        ]);
        let object = (types, prop::collection::vec((field, leaf), 0..4)).prop_map(|(t, fields)| {
            let mut v = json!({"type": t});
            for (k, val) in fields {
                v[k] = val;
            }
            v.to_string()
        });
        prop_oneof![object, ".{0,40}"]
    }

    #[test]
    fn a_refused_frame_is_reported_and_answered_with_the_client_event_id() {
        let t0 = Instant::now();
        let mut e = engine(Script::new(), Duration::from_secs(3600), t0);
        drain(&mut e, t0);
        let refused = e
            .handle_text(t0, r#"{"type":"response.cancel","event_id":"evt_9"}"#)
            .expect("refused");
        assert_eq!(refused.code.as_deref(), Some("response_cancel_not_active"));
        let out = drain(&mut e, t0);
        assert_eq!(out[0]["error"]["event_id"], "evt_9");
        assert_eq!(out[0]["error"]["param"], Value::Null);
    }
}
