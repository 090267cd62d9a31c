//! The agent leg's per-frame path: what a phone bridge does with OpenAI Realtime frames many
//! times a second per call.
//!
//! - `append/encode`: the caller's audio out, `input_audio_buffer.append` built from a Twilio
//!   payload (base64 text, moved in, not decoded) and written as JSON;
//! - `delta/decode`: the agent's audio in, a GA `response.output_audio.delta` (and the beta
//!   `response.audio.delta`) read into its struct with the base64 kept as text for Twilio.
//!
//! Each for a 20 ms G.711 mu-law frame (160 bytes, 216 base64 characters) and a 100 ms delta
//! (800 bytes, the mock's default and a typical service delta at 8 kHz).
//!
//! `cargo bench -p openai-realtime --bench per_frame`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use openai_realtime::{ClientEvent, Dialect, ServerEvent};

/// 20 ms and 100 ms of 8 kHz mu-law.
const SIZES: [(&str, usize); 2] = [("20ms", 160), ("100ms", 800)];

/// `bytes` of mu-law silence (0xFF) as base64, without a base64 dependency: every 3 bytes
/// are `////`, a trailing 1 or 2 bytes `/w==` or `//8=`.
fn audio_base64(bytes: usize) -> String {
    let mut text = "////".repeat(bytes / 3);
    text.push_str(["", "/w==", "//8="][bytes % 3]);
    text
}

/// An audio delta as the service writes it (ids of the service's length), under the
/// dialect's event name.
fn delta_frame(event_type: &str, base64: &str) -> String {
    format!(
        r#"{{"type":"{event_type}","event_id":"event_CcXk1Sq3ySd2ghSkBmzY1","response_id":"resp_CcXk1bFfE7CzYvEnWqhAj","item_id":"item_CcXk1dMj5Qz2V7GtRu4eP","output_index":0,"content_index":0,"delta":"{base64}"}}"#
    )
}

fn append_encode(c: &mut Criterion) {
    let mut group = c.benchmark_group("append/encode");
    for (name, bytes) in SIZES {
        let payload = audio_base64(bytes);
        if bytes == 160 {
            assert_eq!(payload.len(), 216, "a 20 ms frame is 216 base64 characters");
        }
        group.throughput(Throughput::Bytes(payload.len() as u64));
        // The payload string is cloned as the bridge receives it: an owned `String` from the
        // Twilio frame moves into the event. The clone is part of the measured time on both
        // sides of the comparison, so it is measured alone too.
        group.bench_with_input(BenchmarkId::new("clone payload", name), &payload, |b, p| {
            b.iter(|| black_box(p.clone()))
        });
        group.bench_with_input(
            BenchmarkId::new("build + encode", name),
            &payload,
            |b, p| {
                b.iter(|| ClientEvent::input_audio_append(black_box(p.clone())).encode(Dialect::Ga))
            },
        );
    }
    group.finish();
}

fn delta_decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("delta/decode");
    for (name, bytes) in SIZES {
        let audio = audio_base64(bytes);
        for (dialect, label, event_type) in [
            (Dialect::Ga, "ga", "response.output_audio.delta"),
            (Dialect::Beta, "beta", "response.audio.delta"),
        ] {
            let frame = delta_frame(event_type, &audio);
            group.throughput(Throughput::Bytes(frame.len() as u64));
            group.bench_with_input(BenchmarkId::new(label, name), &frame, |b, frame| {
                b.iter(|| {
                    let event = ServerEvent::decode(black_box(frame), dialect).expect("decodes");
                    let ServerEvent::ResponseOutputAudioDelta(delta) = event else {
                        unreachable!("an audio delta")
                    };
                    black_box(delta.delta)
                })
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: the machine is shared.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = append_encode, delta_decode
}
criterion_main!(benches);
