//! Instruction counts of the per-frame decode and encode, for `valgrind --tool=callgrind`.
//!
//! Runs one step `N` times; the difference between two runs with different `N`, divided by
//! the difference in `N`, is the cost of one message without the process's setup:
//!
//! ```text
//! cargo bench -p twilio-media-stream --bench callgrind --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/callgrind-HASH decode 1000
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/callgrind-HASH decode 11000
//! ```
//!
//! Steps: `decode` (a 20 ms inbound `media` frame), `encode` (a 160-byte `media` command).
#![allow(missing_docs, reason = "a measuring binary, not an API")]

use std::hint::black_box;

use twilio_media_stream::{Payload, StreamCommand, StreamEvent, StreamSid};

const SID: &str = "MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX";

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let step = args.next().unwrap_or_else(|| String::from("decode"));
    let n: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1000);
    let payload = Payload::from_mulaw(&[0x7E; 160]);
    let frame = format!(
        r#"{{"event":"media","sequenceNumber":"4","media":{{"track":"inbound","chunk":"2","timestamp":"5","payload":"{}"}},"streamSid":"{SID}"}}"#,
        payload.as_base64()
    );
    let sid = StreamSid::new(SID);
    match step.as_str() {
        "decode" => {
            for _ in 0..n {
                black_box(StreamEvent::decode(black_box(&frame)).expect("decodes"));
            }
        }
        "encode" => {
            for _ in 0..n {
                black_box(StreamCommand::media(sid.clone(), black_box(payload.clone())).encode());
            }
        }
        other => panic!("unknown step {other}: decode or encode"),
    }
}
