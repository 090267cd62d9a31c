//! One caller frame through a running `Bridge` (in-memory legs, the tokio driver and the
//! engine) with no observer and with one: the observer's per-frame cost.
//!
//! Run with `cargo bench -p voice-bridge --bench bridge_observer`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::memory::{self, AgentPeer, CallPeer};
use voice_bridge::observer::{BridgeObserver, NoObserver, Observed, observe_fn};
use voice_bridge::{
    AgentCommand, AgentEvent, AgentReady, Bridge, BridgeConfig, CallEvent, CallStart,
};

/// A started call with a ready mu-law agent; the bridge runs on `rt`.
fn started<O: BridgeObserver + 'static>(
    rt: &tokio::runtime::Runtime,
    observer: Option<O>,
) -> (CallPeer, AgentPeer) {
    let (call, phone) = memory::call_leg(64);
    let (agent, model) = memory::agent_leg(64);
    let mut config = BridgeConfig::default();
    config.idle_timeout = None;
    config.max_call_duration = None;
    let bridge = Bridge::new(call, agent).with_config(config);
    rt.block_on(async {
        match observer {
            Some(observer) => drop(tokio::spawn(bridge.with_observer(observer).run())),
            None => drop(tokio::spawn(bridge.run())),
        }
        let mulaw = AudioFormat::MuLaw;
        phone
            .send(CallEvent::Started(CallStart::new("CA1", "MZ1", mulaw)))
            .await
            .unwrap();
        let ready = AgentReady::new(mulaw, mulaw);
        model.send(AgentEvent::Ready(ready)).await.unwrap();
        // Whatever the engine says on start (session set-up) is drained by the first frames.
    });
    (phone, model)
}

fn frame() -> AudioChunk {
    let bytes = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![0x55; 160]).unwrap();
    AudioChunk::from_base64(AudioFormat::MuLaw, bytes.into_base64()).unwrap()
}

/// Sends one caller frame and waits for it at the agent.
fn one_frame(
    rt: &tokio::runtime::Runtime,
    phone: &CallPeer,
    model: &mut AgentPeer,
    chunk: &AudioChunk,
) {
    rt.block_on(async {
        phone.send(CallEvent::Audio(chunk.clone())).await.unwrap();
        loop {
            if let Some(AgentCommand::Audio(audio)) = model.recv().await {
                black_box(audio);
                return;
            }
        }
    });
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let chunk = frame();
    let mut group = c.benchmark_group("bridge/caller_to_agent");

    let (phone, mut model) = started::<NoObserver>(&rt, None);
    group.bench_function("pcmu_no_observer", |b| {
        b.iter(|| one_frame(&rt, &phone, &mut model, &chunk));
    });

    let mut frames = 0u64;
    let counting = observe_fn(move |seen: Observed<'_>| {
        if let Observed::CallEvent(CallEvent::Audio(chunk)) = seen {
            frames += chunk.byte_len() as u64;
            black_box(frames);
        }
    });
    let (phone, mut model) = started(&rt, Some(counting));
    group.bench_function("pcmu_counting_observer", |b| {
        b.iter(|| one_frame(&rt, &phone, &mut model, &chunk));
    });
    group.finish();
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
        targets = bench
    }
}

criterion_main!(group::benches);
