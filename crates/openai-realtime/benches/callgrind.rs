//! Instruction counts of the agent leg's per-frame encode and decode, for
//! `valgrind --tool=callgrind`.
//!
//! Runs one step `N` times; the difference between two runs with different `N`, divided by
//! the difference in `N`, is the cost of one event without the process's setup:
//!
//! ```text
//! cargo bench -p openai-realtime-api --bench callgrind --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/callgrind-HASH append 1000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/callgrind-HASH append 11000
//! ```
//!
//! Steps:
//! - `append`, `append-id`: `ClientEvent::encode(Dialect::Ga)` of an
//!   `input_audio_buffer.append` of 20 ms of G.711 (160 bytes, 216 base64 characters), built
//!   once, without and with an `event_id`; `append-beta` the same in the beta dialect;
//! - `delta`, `delta-beta`: `ServerEvent::decode` of a 100 ms G.711 audio delta (800 bytes,
//!   1,068 base64 characters) as the service writes it, `response.output_audio.delta` in GA,
//!   `response.audio.delta` in beta.
#![allow(missing_docs, reason = "a measuring binary, not an API")]

use std::hint::black_box;

use openai_realtime::{ClientEvent, Dialect, ServerEvent};

/// `bytes` of mu-law silence (0xFF) as base64: every 3 bytes are `////`, a trailing 1 or 2
/// bytes `/w==` or `//8=`.
fn audio_base64(bytes: usize) -> String {
    let mut text = "////".repeat(bytes / 3);
    text.push_str(["", "/w==", "//8="][bytes % 3]);
    text
}

/// An audio delta with ids of the service's length, under `event_type`.
fn delta_frame(event_type: &str, base64: &str) -> String {
    format!(
        r#"{{"type":"{event_type}","event_id":"event_CcXk1Sq3ySd2ghSkBmzY1","response_id":"resp_CcXk1bFfE7CzYvEnWqhAj","item_id":"item_CcXk1dMj5Qz2V7GtRu4eP","output_index":0,"content_index":0,"delta":"{base64}"}}"#
    )
}

fn encode(n: u64, event: &ClientEvent, dialect: Dialect) {
    for _ in 0..n {
        black_box(black_box(event).encode(dialect));
    }
}

fn decode(n: u64, frame: &str, dialect: Dialect) {
    for _ in 0..n {
        let event = ServerEvent::decode(black_box(frame), dialect).expect("decodes");
        assert!(matches!(event, ServerEvent::ResponseOutputAudioDelta(_)));
        black_box(event);
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let step = args.next().unwrap_or_else(|| String::from("delta"));
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let append = audio_base64(160);
    assert_eq!(append.len(), 216);
    let delta = audio_base64(800);
    assert_eq!(delta.len(), 1068);
    let event = ClientEvent::input_audio_append(append);
    match step.as_str() {
        "append" => encode(n, &event, Dialect::Ga),
        "append-id" => encode(n, &event.with_event_id("evt_42"), Dialect::Ga),
        "append-beta" => encode(n, &event, Dialect::Beta),
        "delta" => decode(
            n,
            &delta_frame("response.output_audio.delta", &delta),
            Dialect::Ga,
        ),
        "delta-beta" => decode(
            n,
            &delta_frame("response.audio.delta", &delta),
            Dialect::Beta,
        ),
        other => panic!("unknown step {other}: append, append-id, append-beta, delta, delta-beta"),
    }
}
