//! The offline demo, as `cargo run --example outbound_call` runs it.

use std::path::Path;
use std::sync::{Arc, Mutex};

use openai_realtime::client::DEFAULT_MODEL;
use serde_json::Value;
use voice_agent::demo::DemoRun;
use voice_agent::tap::{Live, Watcher};

use crate::support;

/// Runs the demo with `model`, watching it live, and checks the outcome both APIs reach:
/// the callee asked to move the appointment, and `end_call` hung up.
async fn run_demo(folder: &str, model: &str) -> (DemoRun, Vec<Live>) {
    let out = support::temp_dir(folder);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let watcher: Watcher = Arc::new(move |live: &Live| sink.lock().unwrap().push(live.clone()));

    let run = voice_agent::demo::run_with_model(&out, Some(watcher), model)
        .await
        .unwrap();

    assert!(run.outcome.reached(), "{:?}", run.outcome);
    assert_eq!(run.outcome.outcome, "reschedule_requested");
    assert!(
        run.outcome.why.contains("end_call ended the call"),
        "{}",
        run.outcome.why
    );
    let seen = seen.lock().unwrap().clone();
    (run, seen)
}

/// The final transcript lines, of either side.
fn said(seen: &[Live]) -> Vec<&str> {
    seen.iter()
        .filter_map(|l| match l {
            Live::Said { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The tools the agent called, in order.
fn tool_names(seen: &[Live]) -> Vec<&str> {
    seen.iter()
        .filter_map(|l| match l {
            Live::ToolCall { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect()
}

/// Caller left, agent right, as the callee heard it: the callee's first words where the
/// script puts them, the greeting first, cut short when the callee spoke over it at 2.0 s.
fn assert_greeting_cut_at_the_barge_in(wav: &Path) {
    let [caller, agent] = support::channel_activity(wav);
    let first = voice_agent::demo::CALLER_SPEECH[0];
    assert!(
        (caller[0].0 - first.0.as_secs_f64()).abs() < 0.05,
        "caller: {caller:?}"
    );
    assert!(agent[0].0 < 0.5, "the agent speaks first: {agent:?}");
    assert!(
        agent[0].1 > 1.0 && agent[0].1 < 2.5,
        "the greeting stops at the barge-in: {agent:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_call_reaches_its_outcome_and_leaves_a_report_and_a_recording() {
    let (run, seen) = run_demo("demo", DEFAULT_MODEL).await;

    // The live transcript saw the greeting, the barge-in, the tool calls and the goodbye.
    let said = said(&seen);
    assert!(
        said.iter()
            .any(|t| t.contains("Dr. Patel") && t.contains("Tuesday, March 3")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|t| t.contains("Thursday afternoon")),
        "{said:?}"
    );
    assert!(said.iter().any(|t| t.contains("Goodbye")), "{said:?}");
    assert!(seen.contains(&Live::BargeIn), "{seen:?}");
    assert!(
        seen.iter().any(|l| matches!(l, Live::Truncated { .. })),
        "{seen:?}"
    );
    assert_eq!(tool_names(&seen), ["reschedule_appointment", "end_call"]);

    // The callee heard the greeting cut short, then the rest, and was hung up on. (On a
    // loaded machine the second window may also overlap the agent: at least one clear.)
    assert!(!run.record.clears.is_empty(), "{:?}", run.record.clears);
    assert!(run.record.heard_ms() > 3000, "{}", run.record.heard_ms());

    // The report and the recording.
    let folder = run.outcome.folder.clone().expect("the call's folder");
    assert!(folder.starts_with(&run.out_dir));
    let report: Value =
        serde_json::from_slice(&std::fs::read(folder.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["outcome"]["outcome"], "reschedule_requested");
    assert_eq!(
        report["outcome"]["decision"]["preferred_times"][0],
        "Thursday afternoon"
    );
    assert_eq!(report["appointment"]["name"], "Jane Doe");
    assert_eq!(report["report"]["call_id"], run.record.call_sid.as_str());
    assert_eq!(
        report["report"]["outcome"]["reason"]["kind"],
        "tool_ended_call"
    );
    let barge_ins = report["report"]["barge_ins"].as_array().unwrap();
    assert!(!barge_ins.is_empty(), "{barge_ins:?}");
    let truncated = barge_ins[0]["truncated_ms"]
        .as_u64()
        .expect("the greeting was truncated");
    assert!(truncated > 0 && truncated < 4000, "{truncated}");
    assert_eq!(report["report"]["tool_calls"].as_array().unwrap().len(), 2);
    let recording_ms = report["recording"]["duration_ms"].as_u64().unwrap();
    assert!(recording_ms > 8000, "{recording_ms}");
    support::assert_stereo_mulaw_wav(&folder.join("recording.wav"), 8000);
    assert_greeting_cut_at_the_barge_in(&folder.join("recording.wav"));

    // One outcome line, with the call's ids.
    let lines = support::outcome_lines(&run.out_dir);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["call_sid"], run.record.call_sid.as_str());
    assert_eq!(lines[0]["stream_sid"], run.record.stream_sid.as_str());
}

/// The same demo over GPT-Live (`--model gpt-live-1`): the same outcome, report and
/// recording, with Live's barge-in (the service stops itself; the bridge clears the phone,
/// and there is no truncation to send).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_over_gpt_live_reaches_the_same_outcome_with_a_report_and_a_recording() {
    let (run, seen) = run_demo("demo-live", "gpt-live-1").await;

    // The agent's lines, one per turn: the greeting cut at the barge-in, the answer after
    // the reschedule call, the goodbye; the caller's two turns.
    let said = said(&seen);
    assert!(
        said.iter()
            .any(|t| t.starts_with("Hello Jane, this is Bright Smile Dental")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|t| t.starts_with("Of course.")),
        "the answer is a line of its own: {said:?}"
    );
    assert!(said.contains(&"You're welcome, Jane. Goodbye!"), "{said:?}");
    assert!(seen.contains(&Live::BargeIn), "{seen:?}");
    assert!(
        !seen.iter().any(|l| matches!(l, Live::Truncated { .. })),
        "Live has no truncation: {seen:?}"
    );
    assert_eq!(tool_names(&seen), ["reschedule_appointment", "end_call"]);
    assert!(!run.record.clears.is_empty(), "{:?}", run.record.clears);

    // The report: the barge-in with what the caller heard of the greeting, the two tools,
    // and a hang-up right after the goodbye (the silence of Live's continuous track between
    // turns is not played, so nothing is left to wait for).
    let folder = run.outcome.folder.clone().expect("the call's folder");
    let report: Value =
        serde_json::from_slice(&std::fs::read(folder.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["outcome"]["outcome"], "reschedule_requested");
    assert_eq!(
        report["report"]["outcome"]["reason"]["kind"],
        "tool_ended_call"
    );
    let barge_ins = report["report"]["barge_ins"].as_array().unwrap();
    assert!(!barge_ins.is_empty(), "{barge_ins:?}");
    let heard = barge_ins[0]["heard_ms"].as_u64().unwrap();
    assert!(heard > 1000 && heard < 2500, "{barge_ins:?}");
    assert!(barge_ins[0]["truncated_ms"].is_null(), "{barge_ins:?}");
    assert_eq!(report["report"]["tool_calls"].as_array().unwrap().len(), 2);
    // Billed seconds, from the session.closed that answered the bridge's close: the call is
    // shorter than the mock's 15 s between session.usage.updated, so only that can say it.
    let seconds = report["report"]["agent_usage"]["session_seconds"].as_f64();
    assert!(
        seconds.is_some_and(|s| s >= 10.0),
        "{:?}",
        report["report"]["agent_usage"]
    );
    let duration = report["report"]["duration_ms"].as_u64().unwrap();
    assert!(
        duration < 16_000,
        "the hang-up waited {duration} ms: the goodbye ends near 12 s"
    );
    support::assert_stereo_mulaw_wav(&folder.join("recording.wav"), 8000);
    assert_greeting_cut_at_the_barge_in(&folder.join("recording.wav"));

    // The bot spoke Live to the mock: one outcome line with the call's ids.
    let lines = support::outcome_lines(&run.out_dir);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["call_sid"], run.record.call_sid.as_str());
}
