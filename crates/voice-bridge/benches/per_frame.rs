//! Per-frame costs: the engine both ways (with mark bookkeeping), G.711, resampling and
//! transcoding of one 20 ms frame; and one 200 ms agent delta cut into playback frames.
//!
//! Run with `cargo bench -p voice-bridge --bench per_frame`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use voice_bridge::audio::{AudioChunk, AudioFormat, Resampler, SampleRate, Transcoder, g711};
use voice_bridge::{
    AgentAudio, AgentEvent, AgentReady, BridgeConfig, CallEvent, CallStart, Engine, ItemId, Mark,
};

/// Frames prepared per untimed setup batch (keeps memory flat for large iteration counts).
const BATCH: u64 = 1024;

fn connected(agent_format: AudioFormat, now: Instant) -> Engine {
    let mut config = BridgeConfig::default();
    config.idle_timeout = None;
    config.max_call_duration = None;
    let mut engine = Engine::new(config, now);
    let start = CallStart::new("CA1", "MZ1", AudioFormat::MuLaw);
    engine.handle_call(now, CallEvent::Started(start));
    let ready = AgentReady::new(agent_format, agent_format);
    engine.handle_agent(now, AgentEvent::Ready(ready));
    engine.handle_agent(now, AgentEvent::ResponseStarted(None));
    while engine.poll_action().is_some() {}
    engine
}

fn drain(engine: &mut Engine) {
    while let Some(action) = engine.poll_action() {
        black_box(action);
    }
}

/// A 20 ms frame as an adapter hands it over: base64 text decoded from JSON.
fn base64_frame(format: AudioFormat) -> AudioChunk {
    base64_audio(format, 20)
}

/// `ms` of audio as an adapter hands it over.
fn base64_audio(format: AudioFormat, ms: usize) -> AudioChunk {
    let bytes = ms * format.bytes_per_second() as usize / 1000;
    let chunk = AudioChunk::from_bytes(format, vec![0x55u8; bytes]).unwrap();
    AudioChunk::from_base64(format, chunk.into_base64()).unwrap()
}

/// Times `iters` frames in batches; `prepare` builds a batch untimed, `run` is timed.
fn batched<T>(
    iters: u64,
    mut prepare: impl FnMut(u64, u64) -> Vec<T>,
    mut run: impl FnMut(T),
) -> Duration {
    let mut total = Duration::ZERO;
    let mut done = 0;
    while done < iters {
        let n = BATCH.min(iters - done);
        let inputs = prepare(done, n);
        let started = Instant::now();
        for input in inputs {
            run(input);
        }
        total += started.elapsed();
        done += n;
    }
    total
}

fn engine_caller_to_agent(c: &mut Criterion) {
    for (name, agent_format) in [
        (
            "engine/caller_to_agent/pcmu_passthrough",
            AudioFormat::MuLaw,
        ),
        (
            "engine/caller_to_agent/pcmu_to_pcm24k",
            AudioFormat::PCM16_24K,
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let now = Instant::now();
                let mut engine = connected(agent_format, now);
                let frame = base64_frame(AudioFormat::MuLaw);
                batched(
                    iters,
                    |_, n| (0..n).map(|_| frame.clone()).collect(),
                    |chunk| {
                        engine.handle_call(now, CallEvent::Audio(chunk));
                        drain(&mut engine);
                    },
                )
            });
        });
    }
}

fn engine_agent_to_caller(c: &mut Criterion) {
    for (name, agent_format) in [
        (
            "engine/agent_to_caller/pcmu_passthrough_with_mark_echo",
            AudioFormat::MuLaw,
        ),
        (
            "engine/agent_to_caller/pcm24k_to_pcmu_with_mark_echo",
            AudioFormat::PCM16_24K,
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let now = Instant::now();
                let mut engine = connected(agent_format, now);
                let frame = base64_frame(agent_format);
                let item = ItemId::new("item_bench");
                batched(
                    iters,
                    |first, n| {
                        // What the adapters hand over: the delta (with its item id) and,
                        // later, the echoed mark's name.
                        (first..first + n)
                            .map(|seq| {
                                let audio = AgentAudio::new(item.clone(), 0, frame.clone());
                                (audio, Mark::new(seq).to_string())
                            })
                            .collect()
                    },
                    |(audio, echo)| {
                        engine.handle_agent(now, AgentEvent::Audio(audio));
                        drain(&mut engine);
                        engine.handle_call(now, CallEvent::MarkPlayed(echo));
                        drain(&mut engine);
                    },
                )
            });
        });
    }
}

/// One 200 ms agent delta (as the OpenAI service may send): cut into ten 20 ms playback
/// frames (as base64 text, or after transcoding), each with its mark, and every mark
/// echoed.
fn engine_agent_delta_to_caller(c: &mut Criterion) {
    for (name, agent_format, frames) in [
        (
            "engine/agent_to_caller/pcmu_200ms_delta_split_with_mark_echoes",
            AudioFormat::MuLaw,
            10,
        ),
        (
            "engine/agent_to_caller/pcm24k_200ms_delta_to_pcmu_split_with_mark_echoes",
            AudioFormat::PCM16_24K,
            10,
        ),
    ] {
        c.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let now = Instant::now();
                let mut engine = connected(agent_format, now);
                let delta = base64_audio(agent_format, 200);
                let item = ItemId::new("item_bench");
                batched(
                    iters,
                    |first, n| {
                        (first..first + n)
                            .map(|i| {
                                let audio = AgentAudio::new(item.clone(), 0, delta.clone());
                                let echoes: Vec<String> = (i * frames..(i + 1) * frames)
                                    .map(|seq| Mark::new(seq).to_string())
                                    .collect();
                                (audio, echoes)
                            })
                            .collect()
                    },
                    |(audio, echoes)| {
                        engine.handle_agent(now, AgentEvent::Audio(audio));
                        drain(&mut engine);
                        for echo in echoes {
                            engine.handle_call(now, CallEvent::MarkPlayed(echo));
                            drain(&mut engine);
                        }
                    },
                )
            });
        });
    }
}

fn codecs(c: &mut Criterion) {
    let samples: Vec<i16> = (0..160)
        .map(|n| ((n * 397) % 65536 - 32768) as i16)
        .collect();
    let mulaw: Vec<u8> = samples.iter().map(|&s| g711::linear_to_mulaw(s)).collect();
    let mut bytes = Vec::with_capacity(160);
    let mut pcm = Vec::with_capacity(160);
    c.bench_function("g711/mulaw_encode_20ms", |b| {
        b.iter(|| {
            bytes.clear();
            g711::encode_mulaw(black_box(&samples), &mut bytes);
        });
    });
    c.bench_function("g711/mulaw_decode_20ms", |b| {
        b.iter(|| {
            pcm.clear();
            g711::decode_mulaw(black_box(&mulaw), &mut pcm);
        });
    });
    c.bench_function("g711/alaw_encode_20ms", |b| {
        b.iter(|| {
            bytes.clear();
            g711::encode_alaw(black_box(&samples), &mut bytes);
        });
    });

    let low: Vec<i16> = (0..160)
        .map(|n| ((n as f64 * 0.7).sin() * 8000.0) as i16)
        .collect();
    let high: Vec<i16> = (0..480)
        .map(|n| ((n as f64 * 0.2).sin() * 8000.0) as i16)
        .collect();
    let mut out = Vec::with_capacity(480);
    let mut up = Resampler::new(SampleRate::Hz8000, SampleRate::Hz24000).unwrap();
    c.bench_function("resample/8k_to_24k_20ms", |b| {
        b.iter(|| {
            out.clear();
            up.process(black_box(&low), &mut out);
        });
    });
    let mut down = Resampler::new(SampleRate::Hz24000, SampleRate::Hz8000).unwrap();
    c.bench_function("resample/24k_to_8k_20ms", |b| {
        b.iter(|| {
            out.clear();
            down.process(black_box(&high), &mut out);
        });
    });
    let mut to_pcm = Transcoder::new(AudioFormat::MuLaw, AudioFormat::PCM16_24K).unwrap();
    let frame = base64_frame(AudioFormat::MuLaw);
    c.bench_function("transcode/pcmu_base64_to_pcm24k_20ms", |b| {
        b.iter(|| black_box(to_pcm.convert(black_box(&frame)).unwrap()));
    });
}

// `criterion_group!` generates an undocumented `pub fn`.
#[allow(missing_docs)]
mod group {
    use super::*;

    criterion_group! {
        name = benches;
        // Short runs: the machine is shared.
        config = Criterion::default()
            .sample_size(30)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(2));
        targets = engine_caller_to_agent, engine_agent_to_caller, engine_agent_delta_to_caller,
            codecs
    }
}
criterion_main!(group::benches);
