//! The live transcript: one readable line per [`Live`] event, with the time since the
//! call started.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use voice_bridge::Speaker;

use crate::tap::{Live, Watcher};

/// A watcher that writes the transcript to `out` (stdout for the demo).
pub fn printer(out: impl Write + Send + 'static) -> Watcher {
    let state = Mutex::new((out, None::<Instant>));
    Arc::new(move |live: &Live| {
        let mut guard = state.lock().unwrap_or_else(|e| e.into_inner());
        let (out, start) = &mut *guard;
        let start = *start.get_or_insert_with(Instant::now);
        let line = format!(
            "[{}] {}",
            clock(start.elapsed().as_millis()),
            describe(live)
        );
        // A closed stdout (`| head`) must not end the call.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    })
}

/// `mm:ss.t`.
fn clock(ms: u128) -> String {
    format!(
        "{:02}:{:02}.{}",
        ms / 60_000,
        (ms / 1000) % 60,
        (ms / 100) % 10
    )
}

/// The text of one line.
pub fn describe(live: &Live) -> String {
    match live {
        Live::CallStarted {
            call_sid,
            stream_sid,
        } => format!("call    {call_sid} answered, stream {stream_sid}"),
        Live::AgentReady => "agent   session ready (G.711 mu-law both ways)".to_owned(),
        Live::Said { speaker, text } => match speaker {
            Speaker::Caller => format!("caller  \"{text}\""),
            _ => format!("agent   \"{text}\""),
        },
        Live::ToolCall { name, arguments } => format!("tool    {name}({arguments})"),
        Live::ToolResult { output } => format!("tool    -> {output}"),
        Live::BargeIn => "barge-in: the caller spoke over the agent; playback cleared".to_owned(),
        Live::Truncated { audio_end_ms } => {
            format!("barge-in: the agent's answer cut at {audio_end_ms} ms, what the caller heard")
        }
        Live::AgentError { message } => format!("agent   error {message}"),
        Live::Ended { leg, end } => format!("{leg:<7} ended: {end}"),
        Live::HangUp { how } => format!("bridge  {how}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_well() {
        assert_eq!(clock(83_456), "01:23.4");
        assert_eq!(
            describe(&Live::Said {
                speaker: Speaker::Caller,
                text: "Thursday?".into()
            }),
            "caller  \"Thursday?\""
        );
        assert!(describe(&Live::Truncated { audio_end_ms: 1520 }).contains("1520 ms"));
    }
}
