//! README.md's troubleshooting table keeps the words the code prints: each message below
//! must be in a row of the table and in the source that prints it, so a rewording on
//! either side fails here.

/// A fragment of each message, and the file that prints or logs it.
const MESSAGES: &[(&str, &str)] = &[
    (
        "the list was refused, nothing was imported or dialled",
        "examples/outbound_call/campaign/list.rs",
    ),
    (
        "is locked: another batch is running on it",
        "examples/outbound_call/campaign/store.rs",
    ),
    (
        "is not a usable SQLite file",
        "examples/outbound_call/campaign/store.rs",
    ),
    (
        "Twilio had created it: following it, not calling again",
        "examples/outbound_call/campaign/run.rs",
    ),
    (
        "Twilio has no call to this number since: placing it again",
        "examples/outbound_call/campaign/run.rs",
    ),
    (
        "the last run stopped while placing its call, and Twilio",
        "examples/outbound_call/campaign/run.rs",
    ),
    (
        "appointments without time_zone keep calling hours in this machine's zone",
        "examples/outbound_call/main.rs",
    ),
    (
        "the configuration cannot work",
        "examples/outbound_call/config.rs",
    ),
    (
        "cannot be parsed at character",
        "examples/outbound_call/config.rs",
    ),
    (
        "is this machine: Twilio cannot reach it",
        "examples/outbound_call/config.rs",
    ),
    (
        "is a local or private address Twilio cannot reach",
        "examples/outbound_call/config.rs",
    ),
    ("has a path or query", "examples/outbound_call/config.rs"),
    ("is not a host name", "examples/outbound_call/config.rs"),
    (
        "an API key SID (SK…) is not an Account SID",
        "crates/twilio-media-stream/src/ids.rs",
    ),
    (
        "an Account SID starts with AC",
        "crates/twilio-media-stream/src/ids.rs",
    ),
    (
        "an Account SID is 34 characters",
        "crates/twilio-media-stream/src/ids.rs",
    ),
    (
        "an Account SID is AC followed by 32 hex digits",
        "crates/twilio-media-stream/src/ids.rs",
    ),
    (
        "is not in E.164 form",
        "crates/twilio-media-stream/src/phone.rs",
    ),
    (
        "Twilio auth tokens are 32 hex digits",
        "examples/outbound_call/config.rs",
    ),
    (
        "OPENAI_API_KEY does not start with sk-",
        "examples/outbound_call/config.rs",
    ),
    (
        "it must be a full ws:// or",
        "examples/outbound_call/config.rs",
    ),
    ("is not a port number", "examples/outbound_call/config.rs"),
    ("is not an IP address", "examples/outbound_call/config.rs"),
    (
        "is not known: use `ga` (the default) or `beta`",
        "examples/outbound_call/config.rs",
    ),
    (
        "CALL_CONTEXT_SECRET is too short",
        "examples/outbound_call/config.rs",
    ),
    (
        "TWILIO_AUTH_TOKEN is not set, so streams cannot be checked",
        "examples/outbound_call/config.rs",
    ),
    (
        "(is another instance running?",
        "examples/outbound_call/serve.rs",
    ),
    (
        "--cps must be a positive number of calls per second",
        "examples/outbound_call/main.rs",
    ),
    (
        "the call did not reach its outcome",
        "examples/outbound_call/main.rs",
    ),
    (
        "cannot place calls until it is active again",
        "examples/outbound_call/check.rs",
    ),
    (
        "is neither a number of this account nor a verified caller",
        "examples/outbound_call/check.rs",
    ),
    (
        "belongs to this account but cannot make voice",
        "examples/outbound_call/check.rs",
    ),
    ("look-up failed", "examples/outbound_call/check.rs"),
    (
        "no such account; check TWILIO_ACCOUNT_SID",
        "examples/outbound_call/check.rs",
    ),
    (
        "Twilio refused the call: error",
        "examples/outbound_call/outbound.rs",
    ),
    (
        "the call could not be placed",
        "examples/outbound_call/outbound.rs",
    ),
    (
        "the appointment does not fit in the call context",
        "examples/outbound_call/outbound.rs",
    ),
    (
        "no news of the call from Twilio: check that PUBLIC_URL reaches this",
        "examples/outbound_call/calls.rs",
    ),
    ("media stream refused", "examples/outbound_call/stream.rs"),
    (
        "media stream sent no start in time",
        "examples/outbound_call/stream.rs",
    ),
    (
        "media stream ended before its start",
        "examples/outbound_call/stream.rs",
    ),
    (
        "media stream upgrade failed",
        "examples/outbound_call/stream.rs",
    ),
    (
        "call finished; its report could not be written",
        "examples/outbound_call/stream.rs",
    ),
    (
        "cannot write the outcome",
        "examples/outbound_call/server.rs",
    ),
    ("webhook refused", "examples/outbound_call/server.rs"),
    (
        "no TWILIO_AUTH_TOKEN is configured",
        "examples/outbound_call/server.rs",
    ),
    (
        "twilio reports the media stream failed",
        "examples/outbound_call/server.rs",
    ),
    (
        "a machine answered but no REST client is configured to leave the voicemail",
        "examples/outbound_call/server.rs",
    ),
    (
        "a machine answered, and the voicemail could not be left",
        "examples/outbound_call/server.rs",
    ),
    (
        "call context has no `",
        "examples/outbound_call/appointment.rs",
    ),
    (
        "twilio: call context refused; closing the stream",
        "crates/voice-bridge/src/adapter/twilio.rs",
    ),
    (
        "agent leg failed; giving the caller the fallback",
        "crates/voice-bridge/src/engine/lifecycle.rs",
    ),
    (
        "call context has no signature parameter ctx_sig",
        "crates/twilio-media-stream/src/context.rs",
    ),
    (
        "call context signature does not match",
        "crates/twilio-media-stream/src/context.rs",
    ),
    (
        "call context expired",
        "crates/twilio-media-stream/src/context.rs",
    ),
    (
        "request has no X-Twilio-Signature",
        "crates/twilio-media-stream/src/signature.rs",
    ),
    (
        "X-Twilio-Signature does not match the request for url",
        "crates/twilio-media-stream/src/signature.rs",
    ),
    (
        "Realtime connect timed out",
        "crates/openai-realtime/src/client/connect.rs",
    ),
    (
        "Realtime connect failed",
        "crates/openai-realtime/src/client/connect.rs",
    ),
    (
        "Realtime upgrade refused",
        "crates/openai-realtime/src/client/connect.rs",
    ),
    (
        "Realtime error event",
        "crates/openai-realtime/src/client/session.rs",
    ),
    (
        "the Realtime beta interface is retired",
        "crates/openai-realtime/src/client/error.rs",
    ),
    (
        "is retired, unknown or not available to this key",
        "crates/openai-realtime/src/client/error.rs",
    ),
    (
        "the API key is invalid or missing",
        "crates/openai-realtime/src/client/error.rs",
    ),
    (
        "has no access to",
        "crates/openai-realtime/src/client/error.rs",
    ),
    ("last command failed", "crates/voice-bridge/src/bridge.rs"),
    (
        "REST hang-up of",
        "crates/voice-bridge/src/adapter/twilio.rs",
    ),
    (
        "the bot's HTTP server failed",
        "examples/outbound_call/server.rs",
    ),
    (
        "cannot listen for Ctrl-C",
        "examples/outbound_call/serve.rs",
    ),
    (
        "closed a connection that sent no complete request header in time",
        "examples/outbound_call/connections.rs",
    ),
    (
        "too many connections not yet authenticated",
        "examples/outbound_call/connections.rs",
    ),
    (
        "cannot accept connections",
        "examples/outbound_call/connections.rs",
    ),
    (
        "refused a malformed HTTP request",
        "examples/outbound_call/connections.rs",
    ),
    (
        "stopping with requests still open",
        "examples/outbound_call/connections.rs",
    ),
    (
        "is not a positive whole number",
        "examples/outbound_call/config.rs",
    ),
    (
        "configuration: --dialect beta (OPENAI_DIALECT)",
        "examples/outbound_call/serve.rs",
    ),
    (
        "OpenAI retired the Realtime beta interface in May 2026",
        "examples/outbound_call/advice.rs",
    ),
    (
        "use `--dialect ga` or OPENAI_DIALECT=ga (the default)",
        "examples/outbound_call/advice.rs",
    ),
    (
        "is retired or unknown too",
        "examples/outbound_call/advice.rs",
    ),
    (
        "set `--model` or OPENAI_MODEL to a current one",
        "examples/outbound_call/advice.rs",
    ),
    ("(shutdown date)", "examples/outbound_call/check.rs"),
    ("shuts down on", "examples/outbound_call/retirement.rs"),
    ("was shut down on", "examples/outbound_call/retirement.rs"),
    (
        "sessions with it fail",
        "examples/outbound_call/retirement.rs",
    ),
    ("could not be read", "examples/outbound_call/check.rs"),
    (
        "configuration: the agent model",
        "examples/outbound_call/retirement.rs",
    ),
    (
        "the agent was refused the session",
        "examples/outbound_call/stream.rs",
    ),
    (
        "the agent session never started",
        "crates/voice-bridge/src/report.rs",
    ),
    (
        "the agent was not ready within",
        "crates/voice-bridge/src/report.rs",
    ),
    ("it was waiting for", "crates/voice-bridge/src/report.rs"),
    (
        "the WebSocket handshake and `session.created` from",
        "crates/voice-bridge/src/adapter/openai.rs",
    ),
    (
        "the agent sent nothing for",
        "crates/voice-bridge/src/report.rs",
    ),
    (
        "the caller's turn was waiting for an answer",
        "crates/voice-bridge/src/report.rs",
    ),
    (
        "Realtime keepalive timed out",
        "crates/openai-realtime/src/client/session.rs",
    ),
    (
        "refused the WebSocket upgrade with HTTP",
        "crates/openai-realtime/src/client/error.rs",
    ),
    (
        "(retry after ",
        "crates/openai-realtime/src/client/error.rs",
    ),
    (
        "agent audio cut: the caller's queue would be over max_playback_ahead",
        "crates/voice-bridge/src/engine/audio_path.rs",
    ),
    ("agent_audio_cut_ms", "crates/voice-bridge/src/report.rs"),
    (
        "twilio: sequenceNumber gap (messages lost, repeated or out of order)",
        "crates/voice-bridge/src/adapter/twilio.rs",
    ),
    (
        "twilio: mark not sent (the caller's side is not echoing marks)",
        "crates/voice-bridge/src/adapter/twilio.rs",
    ),
    (
        "too many pending marks",
        "crates/twilio-media-stream/src/error.rs",
    ),
    (
        "twilio: leg closed after irregular input",
        "crates/voice-bridge/src/adapter/twilio.rs",
    ),
    (
        "twilio: media-stream message too big; closing with 1009",
        "crates/voice-bridge/src/adapter/twilio.rs",
    ),
    (
        "draining: /readyz answers 503 and new calls are refused; the calls in progress go on (a second signal ends them at once)",
        "examples/outbound_call/serve.rs",
    ),
    (
        "media stream refused: the server is draining (SIGTERM) and takes no new calls",
        "examples/outbound_call/server.rs",
    ),
    (
        "the drain deadline passed: the calls still in progress get the fallback message and end",
        "examples/outbound_call/serve.rs",
    ),
    (
        "second signal: the calls in progress get the fallback message and end now",
        "examples/outbound_call/serve.rs",
    ),
    (
        "openai: the session's time limit is near; opening a fresh session to continue the call",
        "crates/voice-bridge/src/adapter/openai.rs",
    ),
    (
        "openai: the call continues in a fresh session, carrying the conversation",
        "crates/voice-bridge/src/adapter/openai.rs",
    ),
    (
        "openai: the call stays on its session until the service's limit ends it",
        "crates/voice-bridge/src/adapter/openai.rs",
    ),
];

#[test]
fn the_troubleshooting_table_has_a_row_for_each_message_in_the_code_s_words() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let table = readme
        .split("### Troubleshooting")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("README.md has a troubleshooting section");
    let rows: Vec<&str> = table.lines().filter(|l| l.starts_with("| ")).collect();
    let mut missing = Vec::new();
    for (message, file) in MESSAGES {
        let source = std::fs::read_to_string(root.join(file)).unwrap();
        if !source.contains(message) {
            missing.push(format!("{file} no longer says {message:?}"));
        }
        if !rows.iter().any(|row| row.contains(message)) {
            missing.push(format!("no row of the table says {message:?}"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}
