//! The bridge under test, as its own process (`load bridge`): a media-stream server that
//! runs a voice-bridge `Bridge` between a `TwilioLeg` per accepted WebSocket and an
//! `OpenAiLeg` on the agent URL. Its CPU and memory are read from /proc by the parent, apart
//! from the load it carries.
//!
//! It prints `LISTENING <addr>` once bound, then serves until its standard input closes,
//! then prints one JSON line summing up the calls' reports and exits.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use openai_realtime::client::{ApiKey, Config};
use openai_realtime::{RealtimeSession, TurnDetection};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use voice_bridge::{Bridge, BridgeConfig, CallReport, OpenAiLeg, TwilioLeg};

/// What `load bridge` needs.
pub struct BridgeArgs {
    pub agent_url: String,
    /// DER of a root certificate to trust for `wss://` (the mock's self-signed one).
    pub agent_root: Option<Vec<u8>>,
    pub threads: usize,
    /// The read buffer of each Twilio socket (0: tungstenite's default).
    pub read_buffer: usize,
    /// The read buffer of each agent socket (0: the client's default).
    pub agent_read_buffer: usize,
    /// The port to listen on (0: any free port).
    pub port: u16,
    /// `threads` current-thread runtimes, one per thread, the calls dealt out in turn
    /// (instead of one multi-thread runtime with `threads` workers).
    pub per_core: bool,
}

/// The sum of the reports, printed when the parent closes our stdin.
#[derive(Default)]
struct Summary {
    calls: u64,
    ended: BTreeMap<String, u64>,
    errors: u64,
    fatal_errors: u64,
    /// Error messages (side and text) and how often each came.
    error_kinds: BTreeMap<String, u64>,
    barge_ins: u64,
    truncations: u64,
    caller_frames: u64,
    caller_frames_sent: u64,
    agent_frames: u64,
    agent_frames_sent: u64,
    agent_frames_discarded: u64,
    early_frames_dropped: u64,
    marks_sent: u64,
    marks_played: u64,
}

impl Summary {
    fn add(&mut self, report: &CallReport) {
        self.calls += 1;
        let reason = serde_json::to_value(&report.outcome.reason)
            .ok()
            .and_then(|v| v["kind"].as_str().map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned());
        *self.ended.entry(reason).or_default() += 1;
        self.errors += report.errors.len() as u64;
        for error in &report.errors {
            self.fatal_errors += u64::from(error.fatal);
            let kind = format!("{:?}: {}", error.side, error.message);
            if self.error_kinds.len() < 20 || self.error_kinds.contains_key(&kind) {
                *self.error_kinds.entry(kind).or_default() += 1;
            }
        }
        self.barge_ins += report.barge_ins.len() as u64;
        self.truncations += report
            .barge_ins
            .iter()
            .filter(|b| b.truncated_ms.is_some())
            .count() as u64;
        let c = &report.counters;
        self.caller_frames += c.caller_frames;
        self.caller_frames_sent += c.caller_frames_sent;
        self.agent_frames += c.agent_frames;
        self.agent_frames_sent += c.agent_frames_sent;
        self.agent_frames_discarded += c.agent_frames_discarded;
        self.early_frames_dropped += c.early_frames_dropped;
        self.marks_sent += c.marks_sent;
        self.marks_played += c.marks_played;
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "calls": self.calls, "ended": self.ended, "errors": self.errors,
            "fatal_errors": self.fatal_errors, "error_kinds": self.error_kinds,
            "barge_ins": self.barge_ins,
            "truncations": self.truncations, "caller_frames": self.caller_frames,
            "caller_frames_sent": self.caller_frames_sent, "agent_frames": self.agent_frames,
            "agent_frames_sent": self.agent_frames_sent,
            "agent_frames_discarded": self.agent_frames_discarded,
            "early_frames_dropped": self.early_frames_dropped,
            "marks_sent": self.marks_sent, "marks_played": self.marks_played,
        })
    }
}

/// The agent's session: the phone-call default (G.711 mu-law both ways, server VAD) with
/// a 300 ms end-of-turn silence.
fn session() -> RealtimeSession {
    let mut session = RealtimeSession::phone_call();
    if let Some(Some(TurnDetection::ServerVad(vad))) = &mut session.audio_input_mut().turn_detection
    {
        vad.silence_duration_ms = Some(300);
    }
    session
}

/// The name of the bridge's runtime threads, so that `--in-process` can tell their CPU time
/// from the tool's.
pub const THREAD_NAME: &str = "bridge-worker";

/// `load bridge`: serves until stdin closes, printing `LISTENING` and `SUMMARY` lines.
pub fn run(args: BridgeArgs) -> std::io::Result<()> {
    let (done_tx, done) = tokio::sync::oneshot::channel::<()>();
    // The parent closes our stdin to say "done".
    std::thread::spawn(move || {
        let stdin = std::io::stdin();
        for line in stdin.lock().lines() {
            if line.is_err() {
                break;
            }
        }
        let _ = done_tx.send(());
    });
    let summary = run_with(args, done, |addr| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "LISTENING {addr}");
        let _ = out.flush();
    })?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "SUMMARY {summary}")?;
    out.flush()
}

/// Runs the bridge on its own runtime (threads named [`THREAD_NAME`]) until `done`; calls
/// `ready` with the address once bound; returns the summary.
pub fn run_with(
    args: BridgeArgs,
    done: tokio::sync::oneshot::Receiver<()>,
    ready: impl FnOnce(std::net::SocketAddr) + Send,
) -> std::io::Result<serde_json::Value> {
    if args.per_core {
        return run_per_core(args, done, ready);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .thread_name(THREAD_NAME)
        .enable_all()
        .build()?;
    runtime.block_on(serve(args, done, ready, Vec::new()))
}

/// `--per-core`: a current-thread runtime on each of `threads` threads; the first also
/// accepts, and each call runs wholly on one runtime (no work stealing, no cross-thread
/// wake-ups), dealt out in turn.
fn run_per_core(
    args: BridgeArgs,
    done: tokio::sync::oneshot::Receiver<()>,
    ready: impl FnOnce(std::net::SocketAddr) + Send,
) -> std::io::Result<serde_json::Value> {
    let build = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    };
    let mut handles = Vec::new();
    let mut stops = Vec::new();
    let mut threads = Vec::new();
    for k in 1..args.threads.max(1) {
        let runtime = build()?;
        handles.push(runtime.handle().clone());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        stops.push(stop);
        threads.push(
            std::thread::Builder::new()
                .name(format!("{THREAD_NAME}-{k}"))
                .spawn(move || {
                    let _ = runtime.block_on(stopped);
                })?,
        );
    }
    // The accepting runtime runs on a thread of the same name, so that `--in-process`
    // counts it too.
    let first = build()?;
    handles.insert(0, first.handle().clone());
    let summary = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name(format!("{THREAD_NAME}-0"))
            .spawn_scoped(scope, move || {
                first.block_on(serve(args, done, ready, handles))
            })
            .map_err(std::io::Error::other)?
            .join()
            .map_err(|_| std::io::Error::other("the bridge's thread panicked"))?
    });
    drop(stops);
    for thread in threads {
        let _ = thread.join();
    }
    summary
}

/// Serves until `done`; each call runs on `runtimes[n % len]` (the current one if empty).
async fn serve(
    args: BridgeArgs,
    mut done: tokio::sync::oneshot::Receiver<()>,
    ready: impl FnOnce(std::net::SocketAddr),
    runtimes: Vec<tokio::runtime::Handle>,
) -> std::io::Result<serde_json::Value> {
    let mut agent = Config::url(&args.agent_url)
        .with_api_key(ApiKey::new("sk-load"))
        .with_keepalive(None);
    if let Some(der) = args.agent_root {
        agent = agent.with_root_certificate_der(der);
    }
    let mut config = BridgeConfig::default();
    // The load calls stay up however quiet they are; the tool ends them.
    config.idle_timeout = None;

    if args.agent_read_buffer > 0 {
        agent = agent.with_read_buffer_size(args.agent_read_buffer);
    }
    let args_read_buffer = if args.read_buffer > 0 {
        args.read_buffer
    } else {
        128 * 1024
    };
    let listener = TcpListener::bind(("127.0.0.1", args.port)).await?;
    ready(listener.local_addr()?);
    let summary = Arc::new(Mutex::new(Summary::default()));
    let mut calls = tokio::task::JoinSet::new();
    let mut accepted_calls = 0usize;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let _ = tcp.set_nodelay(true);
                // The socket moves to the call's runtime (its reactor) as a std socket.
                let tcp = match tcp.into_std() {
                    Ok(tcp) => tcp,
                    Err(e) => {
                        eprintln!("load bridge: cannot hand an accepted socket over: {e}");
                        continue;
                    }
                };
                let runtime = match runtimes.len() {
                    0 => tokio::runtime::Handle::current(),
                    n => runtimes[accepted_calls % n].clone(),
                };
                accepted_calls += 1;
                let agent = OpenAiLeg::builder(agent.clone()).session(session()).build();
                let config = config.clone();
                let summary = Arc::clone(&summary);
                calls.spawn_on(async move {
                    let tcp = match tokio::net::TcpStream::from_std(tcp) {
                        Ok(tcp) => tcp,
                        Err(e) => {
                            eprintln!("load bridge: cannot register a call's socket: {e}");
                            return;
                        }
                    };
                    // tungstenite zero-fills its read buffer before each read; Twilio's
                    // frames are a few hundred bytes, so 2 KiB (not the default 128 KiB).
                    let mut ws_config = WebSocketConfig::default();
                    ws_config.read_buffer_size = args_read_buffer;
                    let accepted =
                        tokio_tungstenite::accept_async_with_config(tcp, Some(ws_config));
                    let Ok(ws) = accepted.await else {
                        return;
                    };
                    let call = TwilioLeg::from_websocket(ws);
                    let report = Bridge::new(call, agent).with_config(config).run().await;
                    summary.lock().unwrap_or_else(|e| e.into_inner()).add(&report);
                }, &runtime);
            }
            Some(_) = calls.join_next(), if !calls.is_empty() => {}
            _ = &mut done => break,
        }
    }
    // Calls still running get a moment to finish their reports.
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while calls.join_next().await.is_some() {}
    })
    .await;
    Ok(summary.lock().unwrap_or_else(|e| e.into_inner()).json())
}
