//! The per-frame path of a media stream: what a server does 50 times a second per call.
//!
//! `cargo bench -p twilio-media-stream --bench per_frame`
#![allow(
    missing_docs,
    reason = "criterion_group! generates an undocumented pub fn"
)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use twilio_media_stream::{Payload, StreamCommand, StreamEvent, StreamSession, StreamSid};

const SID: &str = "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";

/// A 20 ms inbound frame as Twilio sends it.
fn media_frame() -> String {
    let payload = Payload::from_mulaw(&[0x7E; 160]);
    format!(
        r#"{{"event":"media","sequenceNumber":"4","media":{{"track":"inbound","chunk":"2","timestamp":"5","payload":"{}"}},"streamSid":"{SID}"}}"#,
        payload.as_base64()
    )
}

fn started_session() -> StreamSession {
    let mut session = StreamSession::new();
    for text in [
        include_str!("../tests/fixtures/event/connected.json"),
        include_str!("../tests/fixtures/event/start.json"),
    ] {
        let event = StreamEvent::decode(text).expect("fixture decodes");
        session.handle(&event).expect("fixture is in order");
    }
    session
}

fn per_frame(c: &mut Criterion) {
    let frame = media_frame();
    let mut group = c.benchmark_group("inbound");
    group.throughput(Throughput::Bytes(frame.len() as u64));
    group.bench_function("decode media", |b| {
        b.iter(|| StreamEvent::decode(black_box(&frame)).expect("decodes"))
    });
    let event = StreamEvent::decode(&frame).expect("decodes");
    group.bench_function("decode + session rules", |b| {
        let mut session = started_session();
        b.iter(|| {
            let event = StreamEvent::decode(black_box(&frame)).expect("decodes");
            // The frame repeats its sequence number: a reported gap, still applied.
            black_box(session.handle(&event).expect("accepted"));
        })
    });
    let StreamEvent::Media(media) = &event else {
        unreachable!("a media frame")
    };
    let mut pcm = Vec::with_capacity(4096);
    group.bench_function("payload decode_into", |b| {
        b.iter(|| {
            pcm.clear();
            media
                .media
                .payload
                .decode_into(&mut pcm)
                .expect("valid base64")
        })
    });
    group.finish();

    let mut group = c.benchmark_group("outbound");
    let sid = StreamSid::new(SID);
    let payload = Payload::from_mulaw(&[0x7E; 160]);
    group.bench_function("encode media", |b| {
        b.iter(|| StreamCommand::media(sid.clone(), black_box(payload.clone())).encode())
    });
    group.bench_function("encode mark", |b| {
        b.iter(|| StreamCommand::mark(sid.clone(), black_box("item_abc:7")).encode())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    // Short runs: the machine is shared.
    config = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = per_frame
}
criterion_main!(benches);
