//! `load first-audio`: how long the callee waits for the agent's first words, from the
//! stream's `start` (the answer) to the first agent `media` message, with the agent session
//! opened at the start (cold) or while the phone rings (warm, `voice_bridge::warm`), the
//! two kinds interleaved in one run against the same mock and bridge (issue 11).
//!
//! ```text
//! cargo run --release --example load -- first-audio --calls 20 --service-ms 600 --ring-ms 3000
//! cargo run --release --example load -- first-audio --tls --agent-rtt-ms 80
//! ```
//!
//! The mock answers `response.create` after `--service-ms` (the service's own time to
//! first audio, `Script::response_latency`), then streams a greeting in real time. The
//! bridge runs in this process, on the tool's runtime: a `Bridge` between a `TwilioLeg` per
//! accepted WebSocket and an `OpenAiLeg` that speaks first, as an outbound call does. A
//! warm call first "rings" the bridge (`POST /ring/{CallSid}` on its webhook port, standing
//! in for the `ringing` status callback): the bridge opens the agent session then
//! (`WarmAgent::open`), and the stream whose `start` names that CallSid takes it. A cold
//! call waits the same ring time without telling the bridge, and its stream connects the
//! agent after the `start`.
//!
//! It prints, for each kind, start -> first agent audio at the caller (p50, p99, max) and
//! the same as the bridge's report saw it (`Timings::first_audio_after_start_ms`), and the
//! wait beyond the service: what the caller waited beyond the part of the service's latency
//! still left at the start (cold, all of it; warm, what the ring did not cover, none when
//! the phone rang longer than the service takes). That is the bridge's share, plus, cold,
//! the round trips of its connect (TCP, TLS, the upgrade, the session's confirmation), which
//! `--agent-rtt-ms` puts back on loopback.

use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use futures_util::{SinkExt, StreamExt};
use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::{Audio, MockServer, Pacing, Script, Turn};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use voice_bridge::warm::WarmAgent;
use voice_bridge::{AgentLeg, Bridge, BridgeConfig, OpenAiLeg, TwilioLeg};

/// How long a warm session waits for its stream (as the example bot's `warm::CLAIM_LIMIT`).
const CLAIM_LIMIT: Duration = Duration::from_secs(75);
/// The most a call waits for anything (connect, start, first audio).
const WAIT: Duration = Duration::from_secs(30);

/// `load first-audio`'s options.
#[derive(clap::Parser, Clone, Debug)]
pub struct Args {
    /// Calls of each kind (cold and warm, interleaved).
    #[arg(long, default_value_t = 20)]
    pub calls: u32,
    /// The service's time from `response.create` to its first audio delta, in ms (the
    /// mock's `response_latency`).
    #[arg(long, default_value_t = 600)]
    pub service_ms: u64,
    /// How long the phone rings before the callee answers (the stream starts), in ms.
    #[arg(long, default_value_t = 3000)]
    pub ring_ms: u64,
    /// Time between one call's ring and the next's, in ms.
    #[arg(long, default_value_t = 250)]
    pub spacing_ms: u64,
    /// The agent leg over TLS (the mock serves wss:// with a self-signed certificate that
    /// the bridge trusts): the cold connect then pays a TLS handshake too.
    #[arg(long)]
    pub tls: bool,
    /// A round trip between the bridge and the service, in ms: the agent leg goes through
    /// a relay that holds every chunk for half of it each way (the mock is on loopback; a
    /// real service is tens of ms away, and a cold connect pays several round trips).
    #[arg(long, default_value_t = 0)]
    pub agent_rtt_ms: u64,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<std::path::PathBuf>,
}

/// Relays every connection accepted on `listener` to `to`, each chunk delivered `delay`
/// after it was read (in order), both ways.
async fn delaying_relay(listener: TcpListener, to: std::net::SocketAddr, delay: Duration) {
    while let Ok((inbound, _)) = listener.accept().await {
        tokio::spawn(async move {
            let Ok(outbound) = TcpStream::connect(to).await else {
                eprintln!("load first-audio: relay: cannot reach the mock at {to}");
                return;
            };
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let (in_read, in_write) = inbound.into_split();
            let (out_read, out_write) = outbound.into_split();
            tokio::join!(
                delayed_copy(in_read, out_write, delay),
                delayed_copy(out_read, in_write, delay)
            );
        });
    }
}

/// Copies `from` to `to`, writing each chunk `delay` after it was read; shuts `to` down at
/// the end of `from`.
async fn delayed_copy(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    delay: Duration,
) {
    let (chunks, mut queued) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf).await {
            if chunks
                .send((Instant::now() + delay, buf[..n].to_vec()))
                .is_err()
            {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((at, chunk)) = queued.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

/// What the bridge's side saw of one call.
#[derive(Debug, Clone, Copy, Default)]
struct Sample {
    /// The bridge's report: the `start` received -> the first audio sent, in ms.
    bridge_ms: Option<u64>,
    /// The stream took a warm session (and whether it was confirmed by then).
    took_warm: bool,
    warm_ready: bool,
}

/// The bridge's side: warm sessions by CallSid, and what each stream's report said.
struct Served {
    agent: Config,
    warm: Mutex<HashMap<String, WarmAgent<OpenAiLeg>>>,
    reports: Mutex<HashMap<String, Sample>>,
}

impl Served {
    fn leg(&self) -> OpenAiLeg {
        OpenAiLeg::builder(self.agent.clone())
            .speak_first(true)
            .build()
    }

    fn take_warm(&self, call_sid: &str) -> Option<WarmAgent<OpenAiLeg>> {
        self.warm
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(call_sid)
    }
}

/// The ringing callback's stand-in: opens the call's agent session now.
async fn ring(State(served): State<Arc<Served>>, Path(call_sid): Path<String>) -> StatusCode {
    let warm = WarmAgent::open(served.leg(), CLAIM_LIMIT);
    served
        .warm
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(call_sid, warm);
    StatusCode::NO_CONTENT
}

/// One media stream: waits for its `start`, takes the call's warm session if there is one
/// (else connects cold), runs the bridge, keeps the report's figures.
async fn stream(served: Arc<Served>, tcp: TcpStream) {
    let _ = tcp.set_nodelay(true);
    let ws = match tokio_tungstenite::accept_async(tcp).await {
        Ok(ws) => ws,
        Err(e) => {
            eprintln!("load first-audio: a stream's upgrade failed: {e}");
            return;
        }
    };
    let mut call = TwilioLeg::from_websocket(ws);
    let start = match tokio::time::timeout(WAIT, call.wait_start()).await {
        Ok(Ok(start)) => start,
        Ok(Err(end)) => {
            eprintln!("load first-audio: a stream ended before its start: {end}");
            return;
        }
        Err(_) => {
            eprintln!("load first-audio: a stream sent no start within {WAIT:?}");
            return;
        }
    };
    let call_sid = start.call_id.to_string();
    let mut sample = Sample::default();
    let warmed = match served.take_warm(&call_sid) {
        Some(warm) => warm.claim().await,
        None => None,
    };
    let agent: Box<dyn AgentLeg> = match warmed {
        Some(warmed) => {
            sample.took_warm = true;
            sample.warm_ready = warmed.was_ready();
            Box::new(warmed)
        }
        None => Box::new(served.leg()),
    };
    let mut config = BridgeConfig::default();
    config.idle_timeout = None;
    let report = Bridge::new(call, agent).with_config(config).run().await;
    sample.bridge_ms = report.timings.first_audio_after_start_ms();
    served
        .reports
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(call_sid, sample);
}

/// `POST /ring/{call_sid}` over a plain HTTP/1.1 connection; the status code.
async fn post_ring(addr: std::net::SocketAddr, call_sid: &str) -> std::io::Result<u16> {
    let mut tcp = TcpStream::connect(addr).await?;
    let request = format!(
        "POST /ring/{call_sid} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    tcp.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    tcp.read_to_end(&mut answer).await?;
    let status = std::str::from_utf8(&answer)
        .ok()
        .and_then(|a| a.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    Ok(status)
}

/// One simulated call: rings (telling the bridge if `warm`), answers after the ring, and
/// measures its `start` -> the first agent audio; then hangs up.
async fn call(
    stream_url: String,
    ring_addr: std::net::SocketAddr,
    index: u32,
    warm: bool,
    ring_for: Duration,
) -> Result<(String, f64), String> {
    let call_sid = format!("CA{index:032x}");
    let stream_sid = format!("MZ{index:032x}");
    if warm {
        let status = post_ring(ring_addr, &call_sid)
            .await
            .map_err(|e| format!("ring: {e}"))?;
        if status != 204 {
            return Err(format!("ring: HTTP {status}"));
        }
    }
    tokio::time::sleep(ring_for).await;
    // No Nagle: `start` right after `connected` would otherwise wait for a delayed ACK.
    let connect = tokio_tungstenite::connect_async_with_config(stream_url.as_str(), None, true);
    let (mut ws, _) = tokio::time::timeout(WAIT, connect)
        .await
        .map_err(|_| "connect: timed out".to_owned())?
        .map_err(|e| format!("connect: {e}"))?;
    let connected = r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#;
    let start = format!(
        r#"{{"event":"start","sequenceNumber":"1","start":{{"accountSid":"AC{z}","streamSid":"{stream_sid}","callSid":"{call_sid}","tracks":["inbound"],"mediaFormat":{{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1}},"customParameters":{{}}}},"streamSid":"{stream_sid}"}}"#,
        z = "0".repeat(32)
    );
    ws.send(Message::text(connected))
        .await
        .map_err(|e| format!("send: {e}"))?;
    let started = Instant::now();
    ws.send(Message::text(start))
        .await
        .map_err(|e| format!("send: {e}"))?;
    let first_audio = tokio::time::timeout(WAIT, async {
        while let Some(message) = ws.next().await {
            match message {
                Ok(Message::Text(text)) if text.contains(r#""event":"media""#) => {
                    return Ok(started.elapsed());
                }
                Ok(Message::Close(_)) => break,
                Ok(_) => {}
                Err(e) => return Err(format!("socket: {e}")),
            }
        }
        Err("the bridge closed the stream before any audio".to_owned())
    })
    .await
    .map_err(|_| "no agent audio within 30 s".to_owned())??;
    let stop = format!(
        r#"{{"event":"stop","sequenceNumber":"2","stop":{{"accountSid":"AC{z}","callSid":"{call_sid}"}},"streamSid":"{stream_sid}"}}"#,
        z = "0".repeat(32)
    );
    let _ = ws.send(Message::text(stop)).await;
    let _ = ws.close(None).await;
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = ws.next().await {}
    })
    .await;
    Ok((call_sid, first_audio.as_secs_f64() * 1000.0))
}

/// Nearest-rank quantiles of a few samples: p50, p99, max (ms).
fn quantiles(mut values: Vec<f64>) -> serde_json::Value {
    if values.is_empty() {
        return json!({"samples": 0});
    }
    values.sort_by(f64::total_cmp);
    let rank =
        |q: f64| values[((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1];
    json!({
        "samples": values.len(),
        "p50_ms": rank(0.50), "p99_ms": rank(0.99), "max_ms": values[values.len() - 1],
    })
}

/// The mock's greeting: one second of a tone, after the service's latency.
fn mock_script(service: Duration) -> Script {
    let tone: Vec<u8> = (0..8000)
        .map(|n| {
            let phase = (n % 16) as f64 / 16.0 * std::f64::consts::TAU;
            voice_bridge::audio::g711::linear_to_mulaw((phase.sin() * 6_000.0) as i16)
        })
        .collect();
    Script::new()
        .pacing(Pacing::RealTime)
        .response_latency(service)
        .delta_duration(Duration::from_millis(100))
        .turn(Turn::new().say("Hello, this is the clinic.", Audio::Raw(tone)))
}

/// Runs the measurement; prints the table and returns the figures.
pub async fn run(args: Args) -> Result<serde_json::Value, Box<dyn std::error::Error>> {
    let service = Duration::from_millis(args.service_ms);
    let mut builder = MockServer::builder().script(mock_script(service));
    if args.tls {
        builder = builder.tls_self_signed();
    }
    let mock = builder.start().await?;
    let mut agent_url = mock.url();
    let relay = if args.agent_rtt_ms > 0 {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        agent_url = agent_url.replace(&format!(":{}/", mock.addr().port()), &format!(":{port}/"));
        let delay = Duration::from_millis(args.agent_rtt_ms) / 2;
        Some(tokio::spawn(delaying_relay(listener, mock.addr(), delay)))
    } else {
        None
    };
    let mut agent = Config::url(agent_url)
        .with_api_key(ApiKey::new("sk-load"))
        .with_keepalive(None);
    if let Some(der) = mock.certificate_der() {
        agent = agent.with_root_certificate_der(der.to_vec());
    }
    let served = Arc::new(Served {
        agent,
        warm: Mutex::new(HashMap::new()),
        reports: Mutex::new(HashMap::new()),
    });

    // The bridge: media streams on one port, the ring webhook on another.
    let streams = TcpListener::bind("127.0.0.1:0").await?;
    let stream_url = format!("ws://{}/media-stream", streams.local_addr()?);
    let accept = {
        let served = Arc::clone(&served);
        tokio::spawn(async move {
            while let Ok((tcp, _)) = streams.accept().await {
                tokio::spawn(stream(Arc::clone(&served), tcp));
            }
        })
    };
    let webhooks = TcpListener::bind("127.0.0.1:0").await?;
    let ring_addr = webhooks.local_addr()?;
    let app = axum::Router::new()
        .route("/ring/{call_sid}", axum::routing::post(ring))
        .with_state(Arc::clone(&served));
    let http = tokio::spawn(async move {
        let _ = axum::serve(webhooks, app).await;
    });

    eprintln!(
        "load first-audio: {} cold and {} warm calls, ringing {} ms, service latency {} ms, agent leg {}",
        args.calls,
        args.calls,
        args.ring_ms,
        args.service_ms,
        if args.tls { "wss://" } else { "ws://" },
    );
    let mut calls = tokio::task::JoinSet::new();
    for index in 0..args.calls * 2 {
        let warm = index % 2 == 1;
        let at = Duration::from_millis(args.spacing_ms * u64::from(index));
        let stream_url = stream_url.clone();
        let ring_for = Duration::from_millis(args.ring_ms);
        calls.spawn(async move {
            tokio::time::sleep(at).await;
            (
                warm,
                call(stream_url, ring_addr, index, warm, ring_for).await,
            )
        });
    }
    let mut caller: HashMap<String, (bool, f64)> = HashMap::new();
    let mut errors = Vec::new();
    while let Some(joined) = calls.join_next().await {
        match joined {
            Ok((warm, Ok((call_sid, ms)))) => {
                caller.insert(call_sid, (warm, ms));
            }
            Ok((warm, Err(e))) => errors.push(format!("{} call: {e}", kind(warm))),
            Err(e) => errors.push(format!("a call task failed: {e}")),
        }
    }
    // The bridges write their reports once the streams have ended.
    let deadline = Instant::now() + WAIT;
    while served
        .reports
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .len()
        < caller.len()
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    accept.abort();
    http.abort();
    if let Some(relay) = relay {
        relay.abort();
    }
    let sessions = mock.sessions().len();
    let reports = served
        .reports
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();

    let mut out = json!({
        "calls_each": args.calls, "ring_ms": args.ring_ms, "service_ms": args.service_ms,
        "tls": args.tls, "agent_rtt_ms": args.agent_rtt_ms,
        "agent_sessions": sessions, "errors": errors,
    });
    for warm in [false, true] {
        let mut at_caller = Vec::new();
        let mut at_bridge = Vec::new();
        let mut took_warm = 0;
        let mut warm_ready = 0;
        for (call_sid, (w, ms)) in &caller {
            if *w != warm {
                continue;
            }
            at_caller.push(*ms);
            let report = reports.get(call_sid).copied().unwrap_or_default();
            if let Some(ms) = report.bridge_ms {
                at_bridge.push(ms as f64);
            }
            took_warm += u32::from(report.took_warm);
            warm_ready += u32::from(report.warm_ready);
        }
        // Beyond the service: the wait less what was left of the service's latency at the
        // start (all of it cold; what the ring did not cover warm).
        let head_start = if warm { args.ring_ms } else { 0 };
        let left = args.service_ms.saturating_sub(head_start) as f64;
        let share: Vec<f64> = at_caller.iter().map(|ms| ms - left).collect();
        out[kind(warm)] = json!({
            "at_caller": quantiles(at_caller),
            "at_bridge": quantiles(at_bridge),
            "beyond_service": quantiles(share),
            "took_warm_session": took_warm,
            "warm_session_ready": warm_ready,
        });
    }
    print_table(&out);
    if let Some(path) = &args.json {
        let mut file = std::fs::File::create(path)?;
        writeln!(file, "{}", serde_json::to_string_pretty(&out)?)?;
    }
    Ok(out)
}

fn kind(warm: bool) -> &'static str {
    if warm { "warm" } else { "cold" }
}

fn print_table(out: &serde_json::Value) {
    let ms = |v: &serde_json::Value| v.as_f64().map_or("-".to_owned(), |v| format!("{v:.1}"));
    println!(
        "first agent audio after the stream's start ({} calls each, ringing {} ms, service latency {} ms, agent round trip {} ms{}):",
        out["calls_each"],
        out["ring_ms"],
        out["service_ms"],
        out["agent_rtt_ms"],
        if out["tls"] == true { ", wss://" } else { "" }
    );
    println!(
        "  {:<6} {:>28} {:>28} {:>32}",
        "",
        "at the caller p50/p99/max",
        "bridge report p50/p99/max",
        "beyond the service p50/p99/max"
    );
    for k in ["cold", "warm"] {
        let row = |name: &str| {
            let q = &out[k][name];
            format!(
                "{} / {} / {}",
                ms(&q["p50_ms"]),
                ms(&q["p99_ms"]),
                ms(&q["max_ms"])
            )
        };
        println!(
            "  {:<6} {:>28} {:>28} {:>32}",
            k,
            row("at_caller"),
            row("at_bridge"),
            row("beyond_service")
        );
    }
    println!(
        "  warm calls that took their warm session: {} (confirmed by the answer: {}); agent sessions opened: {}",
        out["warm"]["took_warm_session"], out["warm"]["warm_session_ready"], out["agent_sessions"]
    );
    println!(
        "  (beyond the service: the wait less the service's latency still left at the start, all of it cold, what the ring did not cover warm; the bridge's share, and the agent round trips of a cold connect)"
    );
    if let Some(errors) = out["errors"].as_array().filter(|e| !e.is_empty()) {
        println!("  errors: {errors:?}");
    }
}
