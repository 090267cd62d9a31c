//! Load test of the voice bridge: N simulated Twilio calls at real-time pace against a
//! bridge, with the OpenAI Realtime mock on loopback (issue 6; figures in BENCHMARKS.md).
//!
//! ```text
//! cargo run --release --example load -- run --calls 100 --secs 20
//! cargo run --release --example load -- run --calls 100 --secs 20 --tls
//! cargo run --release --example load -- first-audio --calls 20 --service-ms 600 --ring-ms 3000
//! cargo run --release --example load -- run --calls 100 --bridge-cmd "target/release/examples/outbound_call serve"
//! cargo run --release --example load -- run --calls 100 --mock-port 8099 \
//!     --bridge-url ws://127.0.0.1:8080/media-stream --bridge-pid 12345
//! ```
//!
//! The tool is one process: the mock (scripted answers with tagged audio, paced in real
//! time, no per-frame log), and one task per simulated caller. The bridge is another
//! process: by default this same binary as `load bridge` (a voice-bridge `Bridge` between
//! a `TwilioLeg` per WebSocket and an `OpenAiLeg`, on a tokio runtime with `--bridge-threads`
//! workers); with `--bridge-cmd` any server that honours `OPENAI_REALTIME_URL` and `PORT`
//! (the example's `serve`); with `--bridge-url` a bridge that is already running (started
//! with its agent URL at `ws://127.0.0.1:<--mock-port>/v1/realtime`, which the tool relays
//! to its mock), measured only if `--bridge-pid` names its process. The bridge being its own process, its CPU time (the sum of its
//! threads' on-CPU time, /proc/PID/task/*/schedstat) and memory (VmRSS, VmHWM) are its own,
//! not the tool's.
//!
//! It prints: bridge CPU per call-second; RSS idle, peak, and per call; agent audio latency
//! (the mock wrote the delta -> the caller read the frame) and caller audio latency (the
//! caller wrote the frame -> the mock read the append), p50/p99/max; barge-in accuracy
//! (where the bridge truncated vs what the caller had heard); errors; lost audio; and how
//! late the callers' own 20 ms ticks ran, with a warning when the tool fell behind real
//! time (then the latencies include the tool's own delay).
//!
//! Everything is bounded: calls end after `--secs`, the run after `--secs + --ramp` plus
//! a fixed grace, and the bridge process is stopped at the end.
// The report is one `json!` literal of many members, deeper than the default limit.
#![recursion_limit = "256"]

mod bridge;
mod caller;
mod first_audio;
mod probe;
mod procfs;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use openai_realtime::mock::{Audio, DeltaSchedule, MockServer, Pacing, Script, Turn};
use serde_json::json;

use caller::{CallResult, Plan, TICK};
use probe::{AGENT, FRAME, Probes, SessionTap, Tag, write_tag};

#[derive(Parser)]
#[command(about = "Load test: simulated Twilio calls through a voice bridge to the OpenAI mock")]
struct Cli {
    #[command(subcommand)]
    command: Command_,
}

#[derive(Subcommand)]
enum Command_ {
    /// Run a load test.
    Run(RunArgs),
    /// Time from the stream's start to the first agent audio, cold vs warm (the agent
    /// session opened while the phone rings), in one run.
    FirstAudio(first_audio::Args),
    /// (Internal) The bridge under test; started by `run`.
    Bridge {
        /// The agent (mock) URL.
        #[arg(long)]
        agent_url: String,
        /// Tokio worker threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// The port to listen on (0: any; `--bridge-cmd` runs pass "$PORT").
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Read buffer of each Twilio socket in bytes (0: tungstenite's default, 128 KiB).
        #[arg(long, default_value_t = 2048)]
        read_buffer: usize,
        /// Read buffer of each agent socket in bytes (0: the client's default).
        #[arg(long, default_value_t = 0)]
        agent_read_buffer: usize,
        /// One current-thread runtime per thread (`--threads` of them), calls dealt out in
        /// turn, instead of one multi-thread runtime.
        #[arg(long)]
        per_core: bool,
    },
}

/// How the mock sends the agent's audio.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Workload {
    /// Equal deltas of `--delta-ms`, in real time.
    Even,
    /// 40 ms, then 100 and 200 ms alternating, 3x faster than real time.
    Realistic,
}

#[derive(Parser, Clone)]
struct RunArgs {
    /// Concurrent calls.
    #[arg(long, default_value_t = 10)]
    calls: u32,
    /// Length of each call, in seconds.
    #[arg(long, default_value_t = 20)]
    secs: u32,
    /// Calls start evenly spread over this many seconds.
    #[arg(long, default_value_t = 5.0)]
    ramp: f64,
    /// The agent leg over TLS (the mock serves wss:// with a self-signed certificate that
    /// the bridge trusts).
    #[arg(long)]
    tls: bool,
    /// Worker threads of the bridge's runtime (the built-in bridge).
    #[arg(long, default_value_t = 2)]
    bridge_threads: usize,
    /// Read buffer of the built-in bridge's Twilio sockets, in bytes (0: tungstenite's
    /// default, 128 KiB; the default is `twilio-media-stream`'s server's, 2 KiB).
    #[arg(long, default_value_t = 2048)]
    bridge_read_buffer: usize,
    /// Read buffer of the built-in bridge's agent sockets, in bytes (0: the client's
    /// default, `openai_realtime::client::DEFAULT_READ_BUFFER_SIZE`).
    #[arg(long, default_value_t = 0)]
    bridge_agent_read_buffer: usize,
    /// The built-in bridge runs one current-thread runtime per thread (`--bridge-threads`
    /// of them) instead of one multi-thread runtime.
    #[arg(long)]
    bridge_per_core: bool,
    /// Worker threads of the tool's runtime (mock and callers).
    #[arg(long, default_value_t = 2)]
    tool_threads: usize,
    /// Audio per agent delta, in milliseconds (the mock's default is 100). Ignored with
    /// `--workload realistic`.
    #[arg(long, default_value_t = 100)]
    delta_ms: u64,
    /// The agent's audio: `even` (every delta `--delta-ms`, sent in real time: the issue 6
    /// figures) or `realistic` (deltas of 40 ms, then 100 and 200 ms alternating, sent 3
    /// times faster than real time, as the real service does).
    #[arg(long, value_enum, default_value_t = Workload::Even)]
    workload: Workload,
    /// Instead of the built-in bridge, run this shell command (it gets OPENAI_REALTIME_URL,
    /// PORT and OPENAI_API_KEY) and measure its process.
    #[arg(long)]
    bridge_cmd: Option<String>,
    /// Instead of starting a bridge, call the one already listening at this URL
    /// (`ws://HOST:PORT/PATH`; `--bridge-path` is then ignored). It must have been started
    /// with its agent URL at `ws://127.0.0.1:<--mock-port>/v1/realtime`. Its CPU time and
    /// memory are measured only with `--bridge-pid`.
    #[arg(long, requires = "mock_port", conflicts_with_all = ["bridge_cmd", "in_process", "tls"])]
    bridge_url: Option<String>,
    /// With `--bridge-url`: the process id of that bridge, for its CPU time and memory
    /// (without it those figures are reported as unavailable).
    #[arg(long, requires = "bridge_url")]
    bridge_pid: Option<u32>,
    /// With `--bridge-url`: the loopback port on which the tool relays TCP connections to its
    /// mock (the running bridge's agent URL must point there). The relay is one extra
    /// loopback hop on the agent leg, counted in the latencies.
    #[arg(long, requires = "bridge_url")]
    mock_port: Option<u16>,
    /// The media-stream path on the bridge.
    #[arg(long, default_value = "/media-stream")]
    bridge_path: String,
    /// Run the built-in bridge in this process, on its own runtime and threads (its CPU time
    /// is still its own: the threads are told apart by name; memory is the whole process's).
    #[arg(long)]
    in_process: bool,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<std::path::PathBuf>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().command {
        Command_::Bridge {
            agent_url,
            threads,
            port,
            read_buffer,
            agent_read_buffer,
            per_core,
        } => {
            let agent_root = std::env::var("LOAD_AGENT_ROOT_HEX")
                .ok()
                .map(|hex| from_hex(&hex))
                .transpose()?;
            bridge::run(bridge::BridgeArgs {
                agent_url,
                agent_root,
                threads,
                read_buffer,
                agent_read_buffer,
                port,
                per_core,
            })?;
            Ok(())
        }
        Command_::Run(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(args.tool_threads.max(1))
                .enable_all()
                .build()?;
            runtime.block_on(run(args))?;
            Ok(())
        }
        Command_::FirstAudio(args) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(first_audio::run(args))?;
            Ok(())
        }
    }
}

/// Frames of each agent answer (2.4 s).
const ANSWER_FRAMES: u32 = 120;

/// The mock's script: `turns` answers of tagged audio (a 500 Hz tone at about -18 dBFS),
/// serials running on across turns, in deltas and at the pace of `workload`.
fn script(turns: u32, delta: Duration, workload: Workload) -> Script {
    let tone: [u8; FRAME] = std::array::from_fn(|n| {
        let phase = (n % 16) as f64 / 16.0 * std::f64::consts::TAU;
        voice_bridge::audio::g711::linear_to_mulaw((phase.sin() * 6_000.0) as i16)
    });
    let mut script = match workload {
        Workload::Even => Script::new().pacing(Pacing::RealTime).delta_duration(delta),
        Workload::Realistic => Script::new()
            .pacing(Pacing::Faster(3))
            .delta_schedule(DeltaSchedule::service_like()),
    };
    for turn in 0..turns {
        let mut audio = Vec::with_capacity(ANSWER_FRAMES as usize * FRAME);
        for f in 0..ANSWER_FRAMES {
            let mut frame = tone;
            let tag = Tag {
                call: AGENT,
                serial: turn * ANSWER_FRAMES + f,
            };
            write_tag(&mut frame, tag);
            audio.extend_from_slice(&frame);
        }
        script = script.turn(Turn::new().say(format!("Answer {turn}."), Audio::Raw(audio)));
    }
    // Past the script: untagged silence (counted as untagged if it ever plays).
    script.fallback(Turn::new().say("More.", Audio::Silence { ms: 2400 }))
}

/// The bridge under test and where it listens.
struct BridgeProcess {
    kind: BridgeKind,
    url: String,
}

enum BridgeKind {
    Child {
        child: Child,
        stdout: Option<BufReader<std::process::ChildStdout>>,
    },
    Thread {
        done: tokio::sync::oneshot::Sender<()>,
        thread: std::thread::JoinHandle<std::io::Result<serde_json::Value>>,
    },
    /// Already running (`--bridge-url`): not started or stopped by the tool, measured only
    /// if its pid is known; the relay to the mock ends with the run.
    External {
        pid: Option<u32>,
        relay: tokio::task::JoinHandle<()>,
    },
}

/// Relays every TCP connection accepted on 127.0.0.1:`port` to the mock at `to`, so that an
/// already-running bridge configured with a fixed agent URL reaches this run's mock.
async fn relay_to_mock(
    port: u16,
    to: std::net::SocketAddr,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    Ok(tokio::spawn(async move {
        loop {
            let Ok((mut inbound, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                let Ok(mut outbound) = tokio::net::TcpStream::connect(to).await else {
                    eprintln!("load: relay: cannot reach the mock at {to}");
                    return;
                };
                let _ = inbound.set_nodelay(true);
                let _ = outbound.set_nodelay(true);
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    }))
}

async fn start_bridge(
    args: &RunArgs,
    mock: &MockServer,
) -> Result<BridgeProcess, Box<dyn std::error::Error>> {
    if let Some(url) = &args.bridge_url {
        let port = args.mock_port.ok_or("--bridge-url needs --mock-port")?;
        let relay = relay_to_mock(port, mock.addr())
            .await
            .map_err(|e| format!("cannot relay 127.0.0.1:{port} to the mock: {e}"))?;
        eprintln!(
            "load: the mock is reachable at ws://127.0.0.1:{port}/v1/realtime (relayed to {})",
            mock.url()
        );
        return Ok(BridgeProcess {
            kind: BridgeKind::External {
                pid: args.bridge_pid,
                relay,
            },
            url: url.clone(),
        });
    }
    if args.in_process {
        let (done, done_rx) = tokio::sync::oneshot::channel();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let bridge_args = bridge::BridgeArgs {
            agent_url: mock.url(),
            agent_root: mock.certificate_der().map(<[u8]>::to_vec),
            threads: args.bridge_threads,
            read_buffer: args.bridge_read_buffer,
            agent_read_buffer: args.bridge_agent_read_buffer,
            port: 0,
            per_core: args.bridge_per_core,
        };
        let thread = std::thread::Builder::new()
            .name("bridge-main".to_owned())
            .spawn(move || {
                bridge::run_with(bridge_args, done_rx, move |addr| {
                    let _ = addr_tx.send(addr);
                })
            })?;
        let addr = addr_rx.recv_timeout(Duration::from_secs(10))?;
        return Ok(BridgeProcess {
            kind: BridgeKind::Thread { done, thread },
            url: format!("ws://{addr}{}", args.bridge_path),
        });
    }
    if let Some(cmd) = &args.bridge_cmd {
        if args.tls {
            return Err(
                "--tls needs the built-in bridge (it must trust the mock's certificate)".into(),
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new("sh")
            .arg("-c")
            .arg(format!("exec {cmd}"))
            .env("OPENAI_REALTIME_URL", mock.url())
            .env("OPENAI_API_KEY", "sk-load")
            .env("PORT", port.to_string())
            // Closed at the end: `load bridge` then exits by itself (and a profiler around
            // it writes its output); anything else is killed after five seconds.
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(format!("`{cmd}` did not listen on port {port} within 60 s").into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        return Ok(BridgeProcess {
            kind: BridgeKind::Child {
                child,
                stdout: None,
            },
            url: format!("ws://127.0.0.1:{port}{}", args.bridge_path),
        });
    }
    let mut command = Command::new(std::env::current_exe()?);
    command
        .args(["bridge", "--agent-url", &mock.url(), "--threads"])
        .arg(args.bridge_threads.to_string())
        .arg("--read-buffer")
        .arg(args.bridge_read_buffer.to_string())
        .arg("--agent-read-buffer")
        .arg(args.bridge_agent_read_buffer.to_string())
        .args(args.bridge_per_core.then_some("--per-core"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(cert) = mock.certificate_der() {
        command.env("LOAD_AGENT_ROOT_HEX", to_hex(cert));
    }
    let mut child = command.spawn()?;
    let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut line = String::new();
    stdout.read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("LISTENING ")
        .ok_or_else(|| format!("bridge said {line:?}"))?
        .to_owned();
    Ok(BridgeProcess {
        kind: BridgeKind::Child {
            child,
            stdout: Some(stdout),
        },
        url: format!("ws://{addr}{}", args.bridge_path),
    })
}

impl BridgeProcess {
    /// The bridge's CPU time so far, in nanoseconds.
    fn cpu_ns(&self) -> Option<u64> {
        match &self.kind {
            BridgeKind::Child { child, .. } => procfs::cpu_ns(child.id()),
            BridgeKind::Thread { .. } => procfs::threads_cpu_ns(bridge::THREAD_NAME),
            BridgeKind::External { pid, .. } => procfs::cpu_ns((*pid)?),
        }
    }

    /// The pid whose memory is the bridge's (this process when in-process; unknown for a
    /// running bridge given without `--bridge-pid`).
    fn pid(&self) -> Option<u32> {
        match &self.kind {
            BridgeKind::Child { child, .. } => Some(child.id()),
            BridgeKind::Thread { .. } => Some(std::process::id()),
            BridgeKind::External { pid, .. } => *pid,
        }
    }

    /// Asks the built-in bridge for its summary, then ends it.
    fn finish(self) -> Option<serde_json::Value> {
        let (mut child, stdout) = match self.kind {
            BridgeKind::Thread { done, thread } => {
                let _ = done.send(());
                return thread.join().ok().and_then(Result::ok);
            }
            BridgeKind::External { relay, .. } => {
                relay.abort();
                return None;
            }
            BridgeKind::Child { child, stdout } => (child, stdout),
        };
        drop(child.stdin.take());
        let mut summary = None;
        if let Some(mut stdout) = stdout {
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let mut line = String::new();
                while stdout.read_line(&mut line).is_ok_and(|n| n > 0) {
                    if let Some(json) = line.trim().strip_prefix("SUMMARY ") {
                        let _ = tx.send(serde_json::from_str(json).ok());
                        return;
                    }
                    line.clear();
                }
            });
            summary = rx.recv_timeout(Duration::from_secs(10)).ok().flatten();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        if child.try_wait().ok().flatten().is_none() {
            let _ = child.kill();
            let _ = child.wait();
        }
        summary
    }
}

async fn run(args: RunArgs) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let frames = args.secs * 1000 / TICK.as_millis() as u32;
    let plan = Plan {
        frames,
        speak: 40, // 800 ms
        answer: ANSWER_FRAMES,
        barge_after: 30, // 600 ms of the answer heard
        pause: 20,       // 400 ms
        answer_timeout: 250,
    };
    // A normal turn takes about 0.8 + 0.3 + 2.4 + 0.4 s, a barge-in turn less: enough
    // scripted answers for the whole call.
    let turns = (args.secs / 2 + 2).min(60);
    let probes = Probes::new(
        args.calls as usize,
        frames as usize + 1,
        (turns * ANSWER_FRAMES) as usize,
    );
    let tap_probes = Arc::clone(&probes);
    let mut builder = MockServer::builder()
        .record(false)
        .tap(move |_| SessionTap::new(Arc::clone(&tap_probes)))
        .script(script(
            turns,
            Duration::from_millis(args.delta_ms),
            args.workload,
        ));
    if args.tls {
        builder = builder.tls_self_signed();
    }
    let mock = builder.start().await?;
    let bridge = start_bridge(&args, &mock).await?;
    let pid = bridge.pid();
    let me = std::process::id();
    // Measured unless it is a running bridge whose pid was not given.
    let measured = pid.is_some();

    // Idle: the bridge listening, no calls.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_rss = match pid {
        Some(pid) => {
            procfs::rss_kib(pid)
                .ok_or("cannot read the bridge's memory")?
                .0
        }
        None => 0,
    };
    let bridge_cpu0 = match measured {
        true => bridge.cpu_ns().ok_or("cannot read the bridge's CPU time")?,
        false => 0,
    };
    // In-process, the tool's share is the process's time less the bridge threads'.
    let tool_cpu0 = procfs::cpu_ns(me)
        .unwrap_or(0)
        .saturating_sub(if args.in_process { bridge_cpu0 } else { 0 });
    let machine0 = procfs::machine_jiffies();
    let load_before = procfs::loadavg();
    let started = Instant::now();

    let pid_text = pid.map_or("unknown: CPU and memory unavailable".to_owned(), |p| {
        p.to_string()
    });
    eprintln!(
        "load: {} calls of {} s, ramp {} s, agent leg {}, bridge {} (pid {pid_text}), load average {load_before}",
        args.calls,
        args.secs,
        args.ramp,
        if args.tls { "wss://" } else { "ws://" },
        bridge.url
    );
    let mut calls = tokio::task::JoinSet::new();
    for index in 0..args.calls {
        let at = Duration::from_secs_f64(args.ramp * f64::from(index) / f64::from(args.calls));
        let url = bridge.url.clone();
        let plan = plan.clone();
        let probes = Arc::clone(&probes);
        calls.spawn(async move {
            tokio::time::sleep(at).await;
            (index, caller::run(url, index, plan, probes).await)
        });
    }
    // Sample memory while the calls run; stop waiting at a hard bound.
    let bound = Duration::from_secs_f64(f64::from(args.secs) + args.ramp + 45.0);
    let mut peak_rss = idle_rss;
    let mut full_rss = 0;
    let full_from = Duration::from_secs_f64(args.ramp + 1.0);
    let full_until = Duration::from_secs(u64::from(args.secs));
    let mut results: Vec<Option<CallResult>> = vec![None; args.calls as usize];
    let mut sample = tokio::time::interval(Duration::from_millis(250));
    loop {
        tokio::select! {
            joined = calls.join_next() => match joined {
                Some(Ok((index, result))) => results[index as usize] = Some(result),
                Some(Err(e)) => eprintln!("load: a call task failed: {e}"),
                None => break,
            },
            _ = sample.tick() => {
                let elapsed = started.elapsed();
                if let Some((rss, _)) = pid.and_then(procfs::rss_kib) {
                    peak_rss = peak_rss.max(rss);
                    if elapsed >= full_from && elapsed <= full_until {
                        full_rss = full_rss.max(rss);
                    }
                }
                if elapsed > bound {
                    eprintln!("load: stopping at the run's bound ({bound:?})");
                    calls.abort_all();
                }
            }
        }
    }
    let wall = started.elapsed();
    let bridge_cpu_now = bridge.cpu_ns().unwrap_or(bridge_cpu0);
    // In-process, the bridge's figure sums the live threads of that name: another run in
    // the same process (tests run side by side) whose threads ended meanwhile makes the
    // sum fall, hence the saturating differences.
    let bridge_cpu = bridge_cpu_now.saturating_sub(bridge_cpu0);
    let tool_cpu = procfs::cpu_ns(me)
        .unwrap_or(0)
        .saturating_sub(if args.in_process { bridge_cpu_now } else { 0 })
        .saturating_sub(tool_cpu0);
    let machine = procfs::machine_jiffies()
        .zip(machine0)
        .map(|((b1, t1), (b0, t0))| (b1 - b0) as f64 / (t1 - t0).max(1) as f64);
    let (_, hwm) = pid.and_then(procfs::rss_kib).unwrap_or((0, 0));
    let bridge_url = bridge.url.clone();
    let summary = bridge.finish();
    drop(mock);

    let report = Report::new(&args, &probes, &results, &plan);
    let call_seconds = report.call_seconds;
    let cpu_ms_per_call_s = bridge_cpu as f64 / 1e6 / call_seconds.max(1e-9);
    let tool_ms_per_call_s = tool_cpu as f64 / 1e6 / call_seconds.max(1e-9);
    let per_call_kib = full_rss.saturating_sub(idle_rss) as f64 / f64::from(args.calls);
    let lat = |h: &probe::Histogram| {
        json!({
            "samples": h.count(),
            "p50_ms": h.quantile(0.50) as f64 / 1000.0,
            "p99_ms": h.quantile(0.99) as f64 / 1000.0,
            "max_ms": h.max() as f64 / 1000.0,
        })
    };
    let late = &probes.tick_lateness;
    let late_ticks = late.at_least(10_000);
    let behind = late.quantile(0.99) > 5_000 || late.max() > 50_000;
    let workload = match args.workload {
        Workload::Even => "even",
        Workload::Realistic => "realistic: 40 ms, then 100/200 ms deltas, 3x real time",
    };
    // The call leg's counts are added after: one more nested object inside `json!` passes
    // the macro's recursion limit.
    let mut out = json!({
        "calls": args.calls, "secs": args.secs, "ramp_s": args.ramp, "tls": args.tls,
        "delta_ms": (args.workload == Workload::Even).then_some(args.delta_ms),
        "workload": workload,
        "bridge": if args.bridge_url.is_some() { "running, at --bridge-url" } else if args.bridge_cmd.is_some() { "external" } else if args.in_process { "built-in, in-process" } else { "built-in" },
        "bridge_url": bridge_url, "bridge_measured": measured,
        "bridge_threads": args.bridge_threads, "tool_threads": args.tool_threads,
        "bridge_read_buffer": args.bridge_read_buffer,
        "bridge_agent_read_buffer": args.bridge_agent_read_buffer,
        "bridge_per_core": args.bridge_per_core,
        "wall_s": wall.as_secs_f64(), "call_seconds": call_seconds,
        "load_average_before": load_before, "load_average_after": procfs::loadavg(),
        "machine_busy": machine,
        "bridge_cpu_s": measured.then_some(bridge_cpu as f64 / 1e9),
        "bridge_cpu_ms_per_call_s": measured.then_some(cpu_ms_per_call_s),
        "tool_cpu_s": tool_cpu as f64 / 1e9,
        "tool_cpu_ms_per_call_s": tool_ms_per_call_s,
        "rss_idle_kib": measured.then_some(idle_rss), "rss_full_kib": measured.then_some(full_rss),
        "rss_peak_kib": measured.then_some(peak_rss.max(hwm)),
        "rss_per_call_kib": measured.then_some(per_call_kib),
        "agent_latency": lat(&probes.agent_latency),
        "caller_latency": lat(&probes.caller_latency),
        "tick_lateness": {
            "p50_ms": late.quantile(0.5) as f64 / 1000.0, "p99_ms": late.quantile(0.99) as f64 / 1000.0,
            "max_ms": late.max() as f64 / 1000.0, "ticks": late.count(), "late_10ms": late_ticks,
            "tool_behind": behind,
        },
        "barge_in": report.barge_json(),
        "calls_failed": report.failed, "errors": report.errors,
        "agent_frames_sent": report.agent_sent, "agent_frames_lost": report.agent_lost,
        "caller_frames_sent": report.caller_sent, "caller_frames_lost": report.caller_lost,
        "untagged_frames": probes.untagged.load(Ordering::Relaxed),
        "duplicate_frames": probes.duplicates.load(Ordering::Relaxed),
        "agent_error_events": probes.agent_errors.lock().unwrap_or_else(|e| e.into_inner()).clone(),
        "unanswered_turns": report.unanswered, "turns": report.turns,
        "bridge_summary": summary,
    });
    out["call_leg_messages"] = report.messages_json();
    print_report(&out);
    if let Some(path) = &args.json {
        let mut file = std::fs::File::create(path)?;
        writeln!(file, "{}", serde_json::to_string_pretty(&out)?)?;
    }
    Ok(out)
}

/// Sums over the calls' results and the probes' tables.
struct Report {
    call_seconds: f64,
    failed: u32,
    errors: Vec<String>,
    turns: u64,
    unanswered: u64,
    agent_sent: u64,
    agent_lost: u64,
    caller_sent: u64,
    caller_lost: u64,
    /// (heard, truncated) pairs.
    barge_pairs: Vec<(u32, u32)>,
    barge_ins: u64,
    truncations: u64,
    /// Messages on the call leg, counted at the callers, summed over the calls.
    messages: caller::Messages,
    /// Agent audio the callers received, in milliseconds.
    agent_audio_ms: f64,
}

impl Report {
    fn new(args: &RunArgs, probes: &Probes, results: &[Option<CallResult>], plan: &Plan) -> Self {
        let mut report = Report {
            call_seconds: 0.0,
            failed: 0,
            errors: Vec::new(),
            turns: 0,
            unanswered: 0,
            agent_sent: 0,
            agent_lost: 0,
            caller_sent: 0,
            caller_lost: 0,
            barge_pairs: Vec::new(),
            barge_ins: 0,
            truncations: 0,
            messages: caller::Messages::default(),
            agent_audio_ms: 0.0,
        };
        for (index, result) in results.iter().enumerate() {
            let Some(result) = result else {
                report.failed += 1;
                report.errors.push(format!("call {index}: did not finish"));
                continue;
            };
            if let Some(error) = &result.error {
                report.failed += 1;
                if report.errors.len() < 20 {
                    report.errors.push(format!("call {index}: {error}"));
                }
            }
            report.call_seconds += result.seconds;
            report.messages.add(&result.messages);
            report.agent_audio_ms += result.agent_bytes as f64 / 8.0;
            report.turns += u64::from(result.turns);
            if std::env::var_os("LOAD_DEBUG").is_some() {
                eprintln!("call {index}: {result:?}");
            }
            report.unanswered += u64::from(result.unanswered);
            let probe = &probes.calls[index];
            // Agent audio: sent by the mock, never reached the caller, in a turn the
            // caller did not interrupt, and sent at least 200 ms before the caller hung up.
            for (serial, sent) in probe.agent_sent.iter().enumerate() {
                let sent = sent.load(Ordering::Relaxed);
                if sent == 0 {
                    continue;
                }
                report.agent_sent += 1;
                let turn = serial as u32 / plan.answer;
                let barged = turn < 64 && result.barged_turns & (1 << turn) != 0;
                if !probe.agent_arrived[serial].load(Ordering::Relaxed)
                    && !barged
                    && sent + 200_000 < result.stop_us
                {
                    report.agent_lost += 1;
                }
            }
            // Caller audio: sent, never read by the mock (the last 200 ms before the
            // hang-up excepted: the bridge may close the agent session first).
            let last = result.stop_us.saturating_sub(200_000);
            for (serial, sent) in probe.caller_sent.iter().enumerate() {
                let sent = sent.load(Ordering::Relaxed);
                if sent == 0 {
                    continue;
                }
                report.caller_sent += 1;
                if !probe.caller_received[serial].load(Ordering::Relaxed)
                    && (sent < last || serial < caller::WARMUP_FRAMES as usize)
                {
                    if std::env::var_os("LOAD_DEBUG").is_some() {
                        eprintln!(
                            "call {index}: caller frame {serial} lost (sent at {sent} us, stop at {} us)",
                            result.stop_us
                        );
                    }
                    report.caller_lost += 1;
                }
            }
            let heard = probe.barge_ins.load(Ordering::Relaxed) as usize;
            let truncated = probe.truncations.load(Ordering::Relaxed) as usize;
            report.barge_ins += u64::from(result.barge_ins);
            report.truncations += truncated as u64;
            for k in 0..heard.min(truncated).min(probe::MAX_BARGE_INS) {
                report.barge_pairs.push((
                    probe.heard_ms[k].load(Ordering::Relaxed),
                    probe.truncated_ms[k].load(Ordering::Relaxed),
                ));
            }
        }
        let _ = args;
        report
    }

    /// The call leg's messages, in total, per call-second and (to the caller) per second of
    /// agent audio received.
    fn messages_json(&self) -> serde_json::Value {
        let m = &self.messages;
        let per_s = |n: u64| n as f64 / self.call_seconds.max(1e-9);
        let per_audio_s = |n: u64| n as f64 / (self.agent_audio_ms / 1000.0).max(1e-9);
        json!({
            "to_caller": {"media": m.media_in, "mark": m.marks_in, "clear": m.clears_in},
            "from_caller": {"media": m.media_out, "mark": m.marks_out},
            "per_call_second": {
                "to_caller": {"media": per_s(m.media_in), "mark": per_s(m.marks_in),
                    "clear": per_s(m.clears_in)},
                "from_caller": {"media": per_s(m.media_out), "mark": per_s(m.marks_out)},
            },
            "agent_audio_s": self.agent_audio_ms / 1000.0,
            "to_caller_per_agent_audio_s": {
                "media": per_audio_s(m.media_in), "mark": per_audio_s(m.marks_in),
                "media_plus_mark": per_audio_s(m.media_in + m.marks_in),
            },
        })
    }

    fn barge_json(&self) -> serde_json::Value {
        let mut errors: Vec<i64> = self
            .barge_pairs
            .iter()
            .map(|&(heard, truncated)| i64::from(truncated) - i64::from(heard))
            .collect();
        errors.sort_unstable();
        let within_frame = errors.iter().filter(|e| e.abs() <= 20).count();
        let pick = |q: f64| {
            errors
                .get(((errors.len() as f64 - 1.0) * q).round() as usize)
                .copied()
        };
        json!({
            "barge_ins": self.barge_ins, "truncations": self.truncations,
            "compared": errors.len(), "within_20ms": within_frame,
            "error_ms_min": errors.first(), "error_ms_p50": pick(0.5),
            "error_ms_max": errors.last(),
        })
    }
}

fn print_report(out: &serde_json::Value) {
    let f = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
    let mut s = String::new();
    use std::fmt::Write as _;
    let _ = writeln!(
        s,
        "\n== {} calls x {} s ({}, agent leg {}, workload {}) ==",
        out["calls"],
        out["secs"],
        out["bridge"].as_str().unwrap_or("?"),
        if out["tls"].as_bool() == Some(true) {
            "TLS"
        } else {
            "plain"
        },
        out["workload"].as_str().unwrap_or("?")
    );
    if out["bridge_measured"].as_bool() == Some(false) {
        let _ = writeln!(
            s,
            "bridge CPU, RSS unavailable: the running bridge's process is unknown (give --bridge-pid)"
        );
    } else {
        let _ = writeln!(
            s,
            "bridge CPU      {:.3} ms per call-second ({:.2} s CPU over {:.0} call-seconds)",
            f(&out["bridge_cpu_ms_per_call_s"]),
            f(&out["bridge_cpu_s"]),
            f(&out["call_seconds"])
        );
        let _ = writeln!(
            s,
            "bridge RSS      idle {} KiB, at full load {} KiB, peak {} KiB, {:.1} KiB per call",
            out["rss_idle_kib"],
            out["rss_full_kib"],
            out["rss_peak_kib"],
            f(&out["rss_per_call_kib"])
        );
    }
    for (name, key) in [
        ("agent audio", "agent_latency"),
        ("caller audio", "caller_latency"),
    ] {
        let l = &out[key];
        let _ = writeln!(
            s,
            "{name:<15} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
            f(&l["p50_ms"]),
            f(&l["p99_ms"]),
            f(&l["max_ms"]),
            l["samples"]
        );
    }
    let b = &out["barge_in"];
    let _ = writeln!(
        s,
        "barge-in        {} barge-ins, {} truncations; truncated - heard: min {} ms, median {} ms, max {} ms; {} of {} within one frame (20 ms)",
        b["barge_ins"],
        b["truncations"],
        b["error_ms_min"],
        b["error_ms_p50"],
        b["error_ms_max"],
        b["within_20ms"],
        b["compared"]
    );
    let m = &out["call_leg_messages"];
    let (to, from) = (
        &m["per_call_second"]["to_caller"],
        &m["per_call_second"]["from_caller"],
    );
    let _ = writeln!(
        s,
        "call leg        per call-second: to the caller {:.2} media, {:.2} mark, {:.3} clear; from it {:.2} media, {:.2} mark (echoes); {:.2} media + mark per second of agent audio",
        f(&to["media"]),
        f(&to["mark"]),
        f(&to["clear"]),
        f(&from["media"]),
        f(&from["mark"]),
        f(&m["to_caller_per_agent_audio_s"]["media_plus_mark"])
    );
    let _ = writeln!(
        s,
        "lost audio      agent {} of {} frames, caller {} of {} frames; untagged {}, duplicates {}",
        out["agent_frames_lost"],
        out["agent_frames_sent"],
        out["caller_frames_lost"],
        out["caller_frames_sent"],
        out["untagged_frames"],
        out["duplicate_frames"]
    );
    let _ = writeln!(
        s,
        "agent errors    error events the mock sent, by code: {}",
        out["agent_error_events"]
    );
    let _ = writeln!(
        s,
        "errors          {} calls failed; {} turns, {} unanswered; bridge: {}",
        out["calls_failed"], out["turns"], out["unanswered_turns"], out["bridge_summary"]
    );
    for e in out["errors"].as_array().into_iter().flatten().take(5) {
        let _ = writeln!(s, "                {}", e.as_str().unwrap_or_default());
    }
    let t = &out["tick_lateness"];
    let _ = writeln!(
        s,
        "tool            {:.3} ms CPU per call-second; caller ticks late p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} of {} ticks >= 10 ms late",
        f(&out["tool_cpu_ms_per_call_s"]),
        f(&t["p50_ms"]),
        f(&t["p99_ms"]),
        f(&t["max_ms"]),
        t["late_10ms"],
        t["ticks"]
    );
    let _ = writeln!(
        s,
        "machine         busy {:.0} % of all CPUs during the run; load average before {}, after {}",
        f(&out["machine_busy"]) * 100.0,
        out["load_average_before"],
        out["load_average_after"]
    );
    if t["tool_behind"].as_bool() == Some(true) {
        let _ = writeln!(
            s,
            "WARNING: the tool fell behind real time (caller ticks p99 > 5 ms or max > 50 ms late): \
             the latencies above include the tool's own delay and the bridge saw a slower load."
        );
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(s.as_bytes());
}

fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(hex: &str) -> Result<Vec<u8>, String> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "LOAD_AGENT_ROOT_HEX is not hex".to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two calls of 2 s through the in-process bridge with `extra` options: nothing lost,
    /// audio measured both ways, both calls ended by the caller. (Real time: about four
    /// seconds.)
    async fn two_short_calls(extra: &[&str]) {
        let mut argv = vec![
            "run",
            "--calls",
            "2",
            "--secs",
            "2",
            "--ramp",
            "0.2",
            "--in-process",
        ];
        argv.extend_from_slice(extra);
        let out = run(RunArgs::parse_from(argv))
            .await
            .expect("the run completes");
        assert_eq!(out["calls_failed"], 0, "{out:#}");
        assert_eq!(out["agent_frames_lost"], 0, "{out:#}");
        assert_eq!(out["caller_frames_lost"], 0, "{out:#}");
        assert_eq!(out["caller_frames_sent"], 200, "{out:#}");
        assert!(
            out["caller_latency"]["samples"].as_u64() > Some(0),
            "{out:#}"
        );
        assert!(
            out["agent_latency"]["samples"].as_u64() > Some(0),
            "{out:#}"
        );
        assert_eq!(out["bridge_summary"]["calls"], 2, "{out:#}");
        assert_eq!(out["bridge_summary"]["ended"]["call_ended"], 2, "{out:#}");
    }

    /// A smoke run: two short calls through the in-process bridge.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_short_calls_go_through_with_nothing_lost() {
        two_short_calls(&[]).await;
    }

    /// `first-audio`: every warm call takes the session opened while it rang (one agent
    /// session per call, none opened twice), and a cold call waits at least the service's
    /// latency and two agent round trips after its start (bounds the clock cannot undercut,
    /// not a timing target).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn first_audio_compares_cold_and_warm_sessions() {
        let args = first_audio::Args::parse_from([
            "first-audio",
            "--calls",
            "2",
            "--service-ms",
            "300",
            "--ring-ms",
            "600",
            "--spacing-ms",
            "50",
            "--agent-rtt-ms",
            "40",
        ]);
        let out = first_audio::run(args).await.expect("the run completes");
        assert_eq!(out["errors"], json!([]), "{out:#}");
        assert_eq!(out["agent_sessions"], 4, "{out:#}");
        for kind in ["cold", "warm"] {
            assert_eq!(out[kind]["at_caller"]["samples"], 2, "{out:#}");
            assert_eq!(out[kind]["at_bridge"]["samples"], 2, "{out:#}");
        }
        assert_eq!(out["warm"]["took_warm_session"], 2, "{out:#}");
        assert_eq!(out["warm"]["warm_session_ready"], 2, "{out:#}");
        assert_eq!(out["cold"]["took_warm_session"], 0, "{out:#}");
        // Cold: the service's 300 ms, and at least the connect's and the upgrade's round
        // trips (40 ms each through the delaying relay) after the start.
        let cold_fastest = out["cold"]["at_caller"]["p50_ms"].as_f64().unwrap_or(0.0);
        assert!(cold_fastest >= 380.0, "{out:#}");
    }

    /// `--bridge-per-core`: the calls dealt out over two current-thread runtimes go through
    /// as on one multi-thread runtime.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_go_through_a_runtime_per_core() {
        two_short_calls(&["--bridge-per-core"]).await;
    }

    /// The realistic workload (40/100/200 ms deltas, 3x real time) goes through too, and
    /// the call leg's messages are counted both ways.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_realistic_workload_goes_through_and_counts_messages() {
        let args = RunArgs::parse_from([
            "run",
            "--calls",
            "2",
            "--secs",
            "2",
            "--ramp",
            "0.2",
            "--in-process",
            "--workload",
            "realistic",
        ]);
        let out = run(args).await.expect("the run completes");
        assert_eq!(out["calls_failed"], 0, "{out:#}");
        assert_eq!(out["agent_frames_lost"], 0, "{out:#}");
        let m = &out["call_leg_messages"];
        assert_eq!(m["from_caller"]["media"], 200, "{out:#}");
        assert!(m["to_caller"]["media"].as_u64() > Some(0), "{out:#}");
        assert!(m["to_caller"]["mark"].as_u64() > Some(0), "{out:#}");
        // Every mark the bridge sent was echoed (played through, or released by a clear).
        assert!(m["from_caller"]["mark"].as_u64() >= Some(1), "{out:#}");
    }

    /// `--bridge-url`: the tool starts no bridge and calls one already listening (here the
    /// built-in bridge on a thread, its agent URL on the tool's relay port); without
    /// `--bridge-pid` it reports no CPU or memory figures.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_running_bridge_is_called_at_its_url() {
        let mock_port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let (done, done_rx) = tokio::sync::oneshot::channel();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let bridge_args = bridge::BridgeArgs {
            agent_url: format!("ws://127.0.0.1:{mock_port}/v1/realtime"),
            agent_root: None,
            threads: 1,
            read_buffer: 2048,
            agent_read_buffer: 0,
            port: 0,
            per_core: false,
        };
        let thread = std::thread::spawn(move || {
            bridge::run_with(bridge_args, done_rx, move |addr| {
                let _ = addr_tx.send(addr);
            })
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the bridge listens");
        let url = format!("ws://{addr}/media-stream");
        let port = mock_port.to_string();
        let args = RunArgs::parse_from([
            "run",
            "--calls",
            "1",
            "--secs",
            "2",
            "--ramp",
            "0",
            "--bridge-url",
            &url,
            "--mock-port",
            &port,
        ]);
        let out = run(args).await.expect("the run completes");
        let _ = done.send(());
        let summary = thread
            .join()
            .expect("the bridge thread")
            .expect("the bridge ran");
        assert_eq!(summary["calls"], 1, "{summary:#}");
        assert_eq!(out["calls_failed"], 0, "{out:#}");
        assert_eq!(out["caller_frames_lost"], 0, "{out:#}");
        assert_eq!(out["agent_frames_lost"], 0, "{out:#}");
        assert!(
            out["agent_latency"]["samples"].as_u64() > Some(0),
            "{out:#}"
        );
        assert_eq!(out["bridge_measured"], false, "{out:#}");
        assert!(out["bridge_cpu_ms_per_call_s"].is_null(), "{out:#}");
        assert!(out["rss_per_call_kib"].is_null(), "{out:#}");
    }
}
