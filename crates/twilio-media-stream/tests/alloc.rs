//! Heap blocks per decoded `media` frame: the payload's text and nothing else.
#![allow(missing_docs, reason = "a test binary")]

use twilio_media_stream::{Payload, StreamEvent};

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

#[test]
fn a_media_frame_costs_one_allocation_the_payload() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let payload = Payload::from_mulaw(&[0x7E; 160]);
    let frame = format!(
        r#"{{"event":"media","sequenceNumber":"4","media":{{"track":"inbound","chunk":"2","timestamp":"5","payload":"{}"}},"streamSid":"MZXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"}}"#,
        payload.as_base64()
    );
    let frames = 100;
    let before = dhat::HeapStats::get().total_blocks;
    for _ in 0..frames {
        let event = StreamEvent::decode(&frame).expect("decodes");
        assert!(matches!(event, StreamEvent::Media(_)));
    }
    let blocks = dhat::HeapStats::get().total_blocks - before;
    assert_eq!(
        blocks, frames,
        "one block per frame (the payload's Arc<str>)"
    );
}
