//! One simulated Twilio call at real-time pace: a lean caller, not the crate's simulator,
//! because it must not allocate per frame (the simulator keeps a record of every frame).
//!
//! Every 20 ms the caller sends one media frame (speech or silence, tagged) and plays 20 ms
//! of the agent audio it has queued, echoing each mark once the audio before it has played,
//! as Twilio does, whatever the length of the bridge's media messages (20 ms frames or
//! 300 ms pieces with one mark each). A `clear` drops the queue and echoes the pending marks. Outgoing frames
//! are written into one reused buffer; incoming ones are read in place.
//!
//! The script: speak, listen to the answer, pause, speak again; every second turn the
//! caller talks over the answer after hearing part of it (a barge-in), and the tool later
//! compares what it had heard with where the bridge truncated the agent's item.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use futures_util::{SinkExt, StreamExt};
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use crate::probe::{FRAME, MAX_BARGE_INS, Probes, Tag, encode_base64, string_after, write_tag};

/// 20 ms.
pub const TICK: Duration = Duration::from_millis(20);
/// Caller frames whose latency is not sampled: the first second, while the bridge is still
/// opening the agent session and holds the caller's audio (by design).
pub const WARMUP_FRAMES: u32 = 50;
/// Marks queued at most (a bridge sends one per agent delta).
const MAX_QUEUE: usize = 4096;

/// The shape of every call.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Frames (20 ms) from `start` to `stop`.
    pub frames: u32,
    /// Frames of caller speech per turn.
    pub speak: u32,
    /// Frames of each agent answer (the script's turns all have this length).
    pub answer: u32,
    /// Frames of an answer heard before a barge-in.
    pub barge_after: u32,
    /// Frames of quiet after an answer before the caller speaks again.
    pub pause: u32,
    /// Frames to wait for an answer before speaking again anyway.
    pub answer_timeout: u32,
}

/// What one call did, from the caller's side.
#[derive(Debug, Default, Clone)]
pub struct CallResult {
    /// From `start` to `stop`, in seconds.
    pub seconds: f64,
    pub turns: u32,
    pub barge_ins: u32,
    /// Turns where no answer came within the timeout.
    pub unanswered: u32,
    pub agent_bytes: u64,
    /// The call leg's messages, both ways.
    pub messages: Messages,
    /// Agent turns the caller interrupted (bit per turn), so their unsent rest is not lost.
    pub barged_turns: u64,
    /// When the caller sent `stop` (µs on the probes' clock).
    pub stop_us: u64,
    pub error: Option<String>,
}

/// Messages on the call leg of one call (or summed over calls), as the caller saw them.
#[derive(Debug, Default, Clone)]
pub struct Messages {
    /// `media` from the bridge.
    pub media_in: u64,
    /// `mark` from the bridge.
    pub marks_in: u64,
    /// `clear` from the bridge.
    pub clears_in: u64,
    /// `media` to the bridge.
    pub media_out: u64,
    /// `mark` echoes to the bridge.
    pub marks_out: u64,
}

impl Messages {
    /// Adds another call's counts.
    pub fn add(&mut self, other: &Messages) {
        self.media_in += other.media_in;
        self.marks_in += other.marks_in;
        self.clears_in += other.clears_in;
        self.media_out += other.media_out;
        self.marks_out += other.marks_out;
    }
}

enum Queued {
    Audio { turn: u32, bytes: u32 },
    Mark { name: [u8; 64], len: u8 },
}

enum Phase {
    Speaking {
        until: u32,
    },
    /// Waiting for the answer to turn `turn`; `quiet` frames of nothing played.
    Listening {
        since: u32,
        heard_any: bool,
        quiet: u32,
    },
}

/// Writes Twilio's messages into one growing-then-reused buffer.
struct Writer {
    buf: BytesMut,
    sid: String,
    call_sid: String,
    seq: u64,
}

impl Writer {
    fn message(&mut self, write: impl FnOnce(&mut BytesMut, u64, &str)) -> Message {
        self.seq += 1;
        // Reclaims the space of frames tungstenite has written and dropped.
        self.buf.reserve(1024);
        write(&mut self.buf, self.seq, &self.sid);
        let bytes = self.buf.split().freeze();
        // Only ASCII was written.
        Message::Text(Utf8Bytes::try_from(bytes).unwrap_or_else(|_| Utf8Bytes::from_static("")))
    }
}

/// A `fmt::Write` over `BytesMut` (its own impl needs the `std` feature's writer).
struct Fmt<'a>(&'a mut BytesMut);

impl std::fmt::Write for Fmt<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.put_slice(s.as_bytes());
        Ok(())
    }
}

/// The caller's loud frame: a 400 Hz tone at about -12 dBFS (20 samples a period, so every
/// 20 ms frame is the same).
pub fn speech_frame() -> [u8; FRAME] {
    std::array::from_fn(|n| {
        let phase = (n % 20) as f64 / 20.0 * std::f64::consts::TAU;
        voice_bridge::audio::g711::linear_to_mulaw((phase.sin() * 12_000.0) as i16)
    })
}

/// Runs one call against `url`; `index` is the call's number (its tag).
pub async fn run(url: String, index: u32, plan: Plan, probes: Arc<Probes>) -> CallResult {
    let mut result = CallResult::default();
    // A small read buffer: tungstenite zero-fills it before every read.
    let mut ws_config = WebSocketConfig::default();
    ws_config.read_buffer_size = 8 * 1024;
    let connect = tokio_tungstenite::connect_async_with_config(url.as_str(), Some(ws_config), true);
    let mut ws = match tokio::time::timeout(Duration::from_secs(30), connect).await {
        Ok(Ok((ws, _))) => ws,
        Ok(Err(e)) => {
            result.error = Some(format!("connect: {e}"));
            return result;
        }
        Err(_) => {
            result.error = Some("connect: timed out after 30 s".to_owned());
            return result;
        }
    };
    let mut writer = Writer {
        buf: BytesMut::with_capacity(64 * 1024),
        sid: format!("MZ{index:032x}"),
        call_sid: format!("CA{index:032x}"),
        seq: 0,
    };
    let speech = speech_frame();
    let silence = [0xFFu8; FRAME];
    let mut frame = [0u8; FRAME];
    let mut queue: VecDeque<Queued> = VecDeque::with_capacity(MAX_QUEUE);
    let mut heard = vec![0u32; 64]; // bytes heard per agent turn

    let connected = Message::text(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#);
    let call_sid = writer.call_sid.clone();
    let start = writer.message(|b, seq, sid| {
        let _ = write!(
            Fmt(b),
            r#"{{"event":"start","sequenceNumber":"{seq}","start":{{"accountSid":"AC{z}","streamSid":"{sid}","callSid":"{call_sid}","tracks":["inbound"],"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"customParameters":{{"load_call":"{index}"}}}},"streamSid":"{sid}"}}"#,
            z = "0".repeat(32),
        );
    });
    if ws.send(connected).await.is_err() || ws.send(start).await.is_err() {
        result.error = Some("socket closed at start".to_owned());
        return result;
    }
    let started = Instant::now();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut n: u32 = 0;
    let mut phase = Phase::Speaking { until: plan.speak };
    let mut playing_turn: Option<u32> = None;
    // The agent turns the caller talked over, in order.
    let mut barged = [0u32; MAX_BARGE_INS];
    result.turns = 1;
    let probe = &probes.calls[index as usize];

    while n < plan.frames {
        enum Event {
            Tick(Instant),
            Frame(Option<Result<Message, tokio_tungstenite::tungstenite::Error>>),
        }
        let event = tokio::select! {
            biased;
            at = tick.tick() => Event::Tick(at),
            msg = ws.next() => Event::Frame(msg),
        };
        match event {
            Event::Tick(at) => {
                let late = Instant::now().saturating_duration_since(at);
                probes.tick_lateness.record(late.as_micros() as u64);
                // Play 20 ms of queued agent audio, echoing each mark it reaches on the way
                // (media messages of any length: a mark inside this 20 ms is echoed and the
                // audio after it plays on in the same tick, as a real-time player does).
                let mut left = FRAME as u32;
                let mut played = false;
                let mut closed = false;
                loop {
                    match queue.front_mut() {
                        Some(Queued::Audio { turn, bytes }) if left > 0 => {
                            let take = left.min(*bytes);
                            *bytes -= take;
                            left -= take;
                            played |= take > 0;
                            let turn = *turn;
                            playing_turn = Some(turn);
                            if let Some(h) = heard.get_mut(turn as usize) {
                                *h += take;
                            }
                            if *bytes == 0 {
                                queue.pop_front();
                            }
                        }
                        Some(Queued::Mark { name, len }) => {
                            let echo = mark_echo(&mut writer, &name[..usize::from(*len)]);
                            queue.pop_front();
                            result.messages.marks_out += 1;
                            if ws.send(echo).await.is_err() {
                                closed = true;
                                break;
                            }
                        }
                        _ => break,
                    }
                }
                if closed {
                    result.error = Some("socket closed (mark)".to_owned());
                    break;
                }
                // The caller's side of the script.
                let speaking = match &mut phase {
                    Phase::Speaking { until } => {
                        if n + 1 >= *until {
                            phase = Phase::Listening {
                                since: n + 1,
                                heard_any: false,
                                quiet: 0,
                            };
                        }
                        true
                    }
                    Phase::Listening {
                        since,
                        heard_any,
                        quiet,
                    } => {
                        *heard_any |= played;
                        *quiet = if played { 0 } else { *quiet + 1 };
                        let barge_turn_now = result.turns % 2 == 0;
                        let answer_heard = playing_turn
                            .and_then(|t| heard.get(t as usize))
                            .map_or(0, |h| h / FRAME as u32);
                        let next = if barge_turn_now && played && answer_heard >= plan.barge_after {
                            if let Some(t) = playing_turn {
                                if (result.barge_ins as usize) < MAX_BARGE_INS {
                                    barged[result.barge_ins as usize] = t;
                                }
                                result.barge_ins += 1;
                                if t < 64 {
                                    result.barged_turns |= 1 << t;
                                }
                            }
                            true
                        } else if *heard_any && *quiet >= plan.pause {
                            true
                        } else if !*heard_any && n - *since >= plan.answer_timeout {
                            result.unanswered += 1;
                            true
                        } else {
                            false
                        };
                        if next {
                            result.turns += 1;
                            phase = Phase::Speaking {
                                until: n + plan.speak,
                            };
                        }
                        next
                    }
                };
                frame.copy_from_slice(if speaking { &speech } else { &silence });
                let tag = Tag {
                    call: index,
                    serial: n,
                };
                write_tag(&mut frame, tag);
                let media = writer.message(|b, seq, sid| {
                    let ts = u64::from(n) * 20;
                    let _ = write!(
                        Fmt(b),
                        r#"{{"event":"media","sequenceNumber":"{seq}","media":{{"track":"inbound","chunk":"{chunk}","timestamp":"{ts}","payload":""#,
                        chunk = n + 1
                    );
                    encode_base64(&frame, b);
                    let _ = write!(Fmt(b), r#""}},"streamSid":"{sid}"}}"#);
                });
                if n >= WARMUP_FRAMES {
                    probes.caller_sent(tag, probes.clock.now_us());
                } else {
                    // Still marked as sent (for loss counting), without a latency sample.
                    probes.caller_sent(tag, 1);
                }
                if ws.send(media).await.is_err() {
                    result.error = Some("socket closed by the bridge".to_owned());
                    break;
                }
                result.messages.media_out += 1;
                n += 1;
            }
            Event::Frame(Some(Ok(Message::Text(text)))) => {
                let text = text.as_bytes();
                match string_after(text, br#""event":""#) {
                    Some(b"media") => {
                        result.messages.media_in += 1;
                        let Some(payload) = string_after(text, br#""payload":""#) else {
                            continue;
                        };
                        let padding = payload.iter().rev().take_while(|&&c| c == b'=').count();
                        let bytes = (payload.len() / 4 * 3).saturating_sub(padding) as u32;
                        result.agent_bytes += u64::from(bytes);
                        let turn = probes.agent_arrived(index, payload, bytes as usize);
                        let turn = turn.map_or(u32::MAX, |serial| serial / plan.answer);
                        let full = queue.len() >= MAX_QUEUE;
                        match queue.back_mut() {
                            Some(Queued::Audio { turn: t, bytes: b }) if *t == turn => *b += bytes,
                            _ if !full => queue.push_back(Queued::Audio { turn, bytes }),
                            _ => {}
                        }
                    }
                    Some(b"mark") => {
                        result.messages.marks_in += 1;
                        let Some(name) = string_after(text, br#""name":""#) else {
                            continue;
                        };
                        let mut stored = [0u8; 64];
                        let len = name.len().min(64);
                        stored[..len].copy_from_slice(&name[..len]);
                        if queue.is_empty() {
                            let echo = mark_echo(&mut writer, &stored[..len]);
                            result.messages.marks_out += 1;
                            if ws.send(echo).await.is_err() {
                                break;
                            }
                        } else if queue.len() < MAX_QUEUE {
                            queue.push_back(Queued::Mark {
                                name: stored,
                                len: len as u8,
                            });
                        }
                    }
                    Some(b"clear") => {
                        result.messages.clears_in += 1;
                        while let Some(entry) = queue.pop_front() {
                            if let Queued::Mark { name, len } = entry {
                                let echo = mark_echo(&mut writer, &name[..usize::from(len)]);
                                result.messages.marks_out += 1;
                                if ws.send(echo).await.is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            Event::Frame(Some(Ok(Message::Close(_))) | None) => {
                result.error = Some(format!("the bridge closed the stream after {n} frames"));
                break;
            }
            Event::Frame(Some(Ok(_))) => {}
            Event::Frame(Some(Err(e))) => {
                result.error = Some(format!("socket error: {e}"));
                break;
            }
        }
    }
    // What the caller heard of each item it interrupted: all it ever played of it (after
    // the barge-in the bridge clears the rest, or nothing more of it was queued).
    for (k, turn) in barged
        .iter()
        .take((result.barge_ins as usize).min(MAX_BARGE_INS))
        .enumerate()
    {
        let heard_ms = heard.get(*turn as usize).map_or(0, |b| b / 8);
        probe.heard_ms[k].store(heard_ms, Ordering::Relaxed);
    }
    probe.barge_ins.store(
        result.barge_ins.min(MAX_BARGE_INS as u32),
        Ordering::Relaxed,
    );
    result.seconds = started.elapsed().as_secs_f64();
    result.stop_us = probes.clock.now_us();
    let call_sid = writer.call_sid.clone();
    let stop = writer.message(|b, seq, sid| {
        let _ = write!(
            Fmt(b),
            r#"{{"event":"stop","sequenceNumber":"{seq}","stop":{{"accountSid":"AC{z}","callSid":"{call_sid}"}},"streamSid":"{sid}"}}"#,
            z = "0".repeat(32)
        );
    });
    let _ = ws.send(stop).await;
    // Twilio closes the socket after `stop`; wait briefly for the bridge's side.
    let _ = ws.close(None).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    result
}

fn mark_echo(writer: &mut Writer, name: &[u8]) -> Message {
    writer.message(|b, seq, sid| {
        let _ = write!(
            Fmt(b),
            r#"{{"event":"mark","sequenceNumber":"{seq}","streamSid":"{sid}","mark":{{"name":""#
        );
        b.put_slice(name);
        b.put_slice(br#""}}"#);
    })
}
