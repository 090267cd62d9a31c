//! Design notes, and what a provider adapter must do. (Documentation only.)
//!
//! # Barge-in arithmetic
//!
//! A speech-to-speech agent produces audio faster than real time, and the telephony
//! side queues it. When the caller starts speaking, the agent must be told how much of
//! its answer was *heard*, so its memory of the conversation matches the caller's
//! (OpenAI: `conversation.item.truncate` with `audio_end_ms`).
//!
//! Wall-clock arithmetic ("now minus when the response started") is wrong whenever audio
//! of an earlier item is still queued, playback stalls, or an earlier answer played out
//! completely (a start time that is never reset makes every later truncation seconds too
//! long, and the service rejects it). The bridge uses only what the telephony side tells
//! it:
//!
//! - Agent audio goes to the caller in media messages of about
//!   [`BridgeConfig::playback_chunk`](crate::BridgeConfig::playback_chunk) (200 ms by
//!   default): a delta reaching an empty queue goes out as it came; deltas arriving while
//!   the caller still has audio queued are joined (holding them costs no delay: the caller
//!   could not hear them sooner). After each message the engine sends a mark named
//!   `vb-<n>` and writes in a ledger: mark `n` → (item, content index, the item's bytes
//!   before and after the message, when it was sent, how long it plays).
//! - When the telephony side echoes mark `n`, the audio before it has been played: that
//!   item's heard position becomes the ledger's byte count. Playback is in order, so the
//!   echo also settles earlier marks whose echoes were lost or are late.
//! - Between echoes the clock fills in: the telephony side plays in real time, so the
//!   message after the last echoed mark has played for the time since that echo (or since
//!   the message was sent, if it reached an empty queue), capped at the message's own end.
//!   The estimate is off by about the one-way network latency and never runs past a mark
//!   not yet echoed. With a mark per message rather than per 20 ms frame, a second of
//!   agent audio costs about five media messages and five marks instead of fifty of each.
//! - A clear makes Twilio echo every pending mark as if it had been played. The engine
//!   records which marks were pending at the clear and counts their echoes as cleared.
//! - On "caller started speaking": the item being heard is the item of the oldest
//!   pending mark; `audio_end_ms` is its heard bytes converted with the agent's format
//!   (8 bytes per ms for G.711, 48 for PCM16 at 24 kHz), and never beyond what was sent.
//! - With nothing queued and no response running (the answer played out whole), there is
//!   nothing to truncate, and nothing is sent.
//!
//! # Why G.711 passes through untouched
//!
//! Twilio sends and plays base64 mu-law at 8 kHz; OpenAI accepts and produces the same
//! (`audio/pcmu`). An [`AudioChunk`](crate::audio::AudioChunk) keeps the base64 text it
//! arrived as; its length and duration come from the text's length. When both legs
//! speak the same format the engine moves the chunk from one leg to the other: no
//! decode, no copy. (Deltas joined into one message are decoded and joined once per message;
//! a delta longer than two chunks is cut as text, still no decode.) Conversion ([`Transcoder`](crate::audio::Transcoder)) happens only
//! when the formats differ, with one allocation per frame for the converted audio.
//!
//! # When the agent fails: one line, the fallback
//!
//! Every way the agent leg can fail ends it the same way: the caller gets the
//! [`Fallback`](crate::Fallback), the report's outcome says what happened, and the log
//! has one WARN line for it, `agent leg failed; giving the caller the fallback`, whose
//! `why` reads as the outcome:
//!
//! | what happened | `why` |
//! |---|---|
//! | refused at the start, or failed before its session started | `the agent session never started: refused (status 401)` (the leg logged the words) |
//! | ended mid-call | `the agent ended mid-call: closed (1011)` (the leg logged the words) |
//! | not ready in time | `the agent was not ready within 10000 ms (it was waiting for the WebSocket handshake and session.created from wss://…)` |
//! | open but silent while a response was due | `the agent sent nothing for 5000 ms while the caller's turn was waiting for an answer` (or `a requested response had not started`, `a response was under way (mid-answer)`) |
//!
//! A leg's own failure is logged by the leg (the OpenAI client logs a refusal once, with
//! the service's code, message and advice); the bridge's line names only its kind, so one
//! cause is one line. The report's `errors` keep every word.
//!
//! A stall ([`BridgeConfig::agent_stall_timeout`](crate::BridgeConfig::agent_stall_timeout),
//! 5 s) is counted from the agent's last event or from when the caller's queue of agent
//! audio ran out, whichever is later: a caller still hearing a long answer is not in
//! silence. It covers the times a response is due; a path that dies while nobody speaks
//! is the client's keepalive's to find. What the agent sends after it was given up is
//! dropped and counted (`agent_frames_late`), never played late. Agent audio is also never
//! queued more than [`BridgeConfig::max_playback_ahead`](crate::BridgeConfig::max_playback_ahead)
//! (60 s) ahead of the caller: one huge delta is cut there with one line
//! (`agent audio cut: …`) and counted (`agent_audio_cut_ms`).
//!
//! # Writing a telephony adapter (a Twilio leg)
//!
//! Implement [`CallLeg`](crate::CallLeg) over a stream of Twilio Media Streams messages.
//! The structs of both legs' vocabulary are `#[non_exhaustive]` (a field added later breaks
//! no adapter): build them with their constructors, as below, and set optional parts with
//! their `with_*` methods.
//!
//! | Twilio message | `CallEvent` |
//! |---|---|
//! | `connected` | nothing (check protocol and version) |
//! | `start` | `Started(CallStart::new(callSid, streamSid, format from mediaFormat (audio/x-mulaw, 8000, 1 → MuLaw)))`, then `.with_parameter(name, value)` for each of `customParameters` and `.with_capabilities(capabilities)` |
//! | `media` (track `inbound`) | `Audio(AudioChunk::from_base64(MuLaw, payload))`; bad base64 is a logged skip |
//! | `mark` | `MarkPlayed(mark.name)` |
//! | `dtmf` | `Dtmf(DtmfDigit::new(digit))` |
//! | `stop` | `Ended(LegEnd::Finished)` |
//! | socket closed without `stop` | `Ended(LegEnd::Closed { code, reason })` |
//! | read error | `Err(LegError)` or `Ended(LegEnd::Failed { .. })` |
//!
//! | `CallCommand` | Twilio |
//! |---|---|
//! | `Play { chunk, .. }` | `{"event":"media","streamSid":…,"media":{"payload": chunk.into_base64()}}` |
//! | `Mark(mark)` | `{"event":"mark","streamSid":…,"mark":{"name": mark.to_string()}}` |
//! | `Clear` | `{"event":"clear","streamSid":…}` |
//! | `HangUp` | close the socket (with no TwiML after `<Connect>`, the call ends), or the REST call update `Status=completed` if the leg has a REST client |
//! | `HandOver(Continue)` | close the socket: Twilio runs the TwiML after `</Connect>` (capability `continue_call`) |
//! | `HandOver(Markup/Url)` | REST call update with `Twiml=`/`Url=` (capabilities `markup`/`url`, only with a REST client) |
//!
//! `recv` must be cancel safe (read the next WebSocket message; keep partial state in
//! the leg), must not send anything before `start`, and should never pass a message it
//! cannot decode as an event: log and skip it. Once `start` has been read (a
//! `wait_start` before the bridge runs), [`call_ids`](crate::CallLeg::call_ids) returns
//! `callSid` and `streamSid`, so the call's span carries them from the bridge's first
//! line, even on lines the agent leg logs while it connects.
//!
//! # Writing an agent adapter (an OpenAI Realtime leg)
//!
//! Implement [`AgentLeg`](crate::AgentLeg) over an OpenAI Realtime session:
//!
//! | OpenAI server event (GA; beta names alike) | `AgentEvent` |
//! |---|---|
//! | before each stage of the start (handshake, `session.update`) | `Waiting("the WebSocket handshake and session.created from <URL>")`: what the leg waits for, naming the URL without secrets |
//! | handshake refused (HTTP status, body) | `Ended(LegEnd::Refused { status, detail })` |
//! | `session.updated` with the formats the leg asked for | `Ready(AgentReady::new(input, output))` (audio/pcmu → MuLaw, audio/pcma → ALaw, audio/pcm 24 kHz → PCM16_24K) |
//! | `error` whose `param` starts with `session.` before ready | `Ended(LegEnd::Error { .. })` (the formats were not confirmed) |
//! | `response.output_audio.delta` | `Audio(AgentAudio::new(item_id, content_index, AudioChunk::from_base64(output format, delta)))` |
//! | `input_audio_buffer.speech_started` / `speech_stopped` | `SpeechStarted` / `SpeechStopped` |
//! | `response.output_audio_transcript.delta` / `.done` | `Transcript(Transcript::new(Agent, text, false / true).with_item_id(item_id))` |
//! | `conversation.item.input_audio_transcription.delta` / `.completed` | `Transcript(Transcript::new(Caller, text, false / true).with_item_id(item_id))` |
//! | `response.function_call_arguments.done` | `ToolCall(ToolCall::new(call_id, name, arguments))`, the arguments parsed, or the raw string as a JSON string if they do not parse |
//! | `response.created` / `response.done` | `ResponseStarted(id)` / `ResponseDone(ResponseDone::new(status).with_response_id(id))` |
//! | `error` | `Error(AgentError::new(message, fatal).with_code(code))`; fatal if a close follows or the code is one of `invalid_api_key`, `session_expired`, `insufficient_quota`, … |
//! | close frame | `Ended(LegEnd::Closed { code, reason })`, or `Finished` for a normal close |
//!
//! | `AgentCommand` | OpenAI client event |
//! |---|---|
//! | `Audio(chunk)` | `input_audio_buffer.append` with `audio: chunk.into_base64()` |
//! | `Truncate { item_id, content_index, audio_end_ms }` | `conversation.item.truncate` |
//! | `CancelResponse` | `response.cancel` with the leg's own `event_id`; nothing while no response runs or when the service's VAD already interrupted it |
//! | `ToolResult { call_id, output }` | `conversation.item.create` with a `function_call_output` item |
//! | `CreateResponse` | `response.create` |
//! | `Dtmf(digit)` | `conversation.item.create` with a user text item such as `[DTMF 5]` (and, if wanted, `response.create`) |
//! | `Close` | close the WebSocket (normal close) |
//!
//! The first `recv` may connect (keep the connecting future inside the leg so `recv`
//! stays cancel safe), send `session.update` with G.711 mu-law both ways when the call
//! speaks it, and report `Ready` only after `session.updated` confirms the formats.
//! Benign errors are non-fatal `Error` events, with one exception: with server VAD's
//! `interrupt_response` the service cancels a response itself when the caller starts
//! talking, so the bridge's `CancelResponse` on barge-in finds nothing left to cancel.
//! The leg knows the session's turn detection, so the rule is the leg's: track whether a
//! response is running (`response.created` to `response.done`), send no cancel when none
//! is nor for a response the service's VAD interrupted (it ran when `speech_started`
//! came), give each `response.cancel` an `event_id`, and treat a
//! `response_cancel_not_active` that echoes one of those ids as the expected end of a
//! remaining race: a debug log line, not an `Error` event.
