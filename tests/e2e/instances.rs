//! Two `serve` processes behind a real load balancer (HAProxy, from Debian's `haproxy`
//! package) that passes WebSocket upgrades: calls are spread over both, one instance is
//! drained with SIGTERM while calls run on it, and every call completes: those in progress
//! on the drained instance end as the callers end them, and the calls placed after the
//! signal are carried by the other instance. Calls are stateless (the appointment travels
//! in the stream's signed parameters), so any instance can take any call.
//!
//! Skipped, saying so, where no `haproxy` binary is on the machine.

use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};

use openai_realtime::mock::MockServer;
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallEnd, CallRecord, CallScript, CallerAudio};
use voice_agent::appointment::Appointment;
use voice_agent::config::derive_context_secret;

use crate::example::Serve;
use crate::support::{self, AUTH_TOKEN, OPENAI_API_KEY, PUBLIC_HOST};

/// How long each caller stays on the line before hanging up.
const CALL_LENGTH: Duration = Duration::from_millis(3500);

/// `haproxy` on the PATH or in Debian's place for it.
fn haproxy() -> Option<PathBuf> {
    let candidates = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([PathBuf::from("/usr/sbin")])
        .map(|dir| dir.join("haproxy"));
    candidates.into_iter().find(|path| path.is_file())
}

/// A free loopback port (bound and released: HAProxy binds it next).
fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// HAProxy in front of `backends`: round robin, `/readyz` checked every 100 ms (an
/// instance answering 503 is out at once), a stream refused with 503 retried on the other
/// instance, and upgraded connections kept open as tunnels.
fn haproxy_config(port: u16, backends: &[SocketAddr]) -> String {
    let mut config = format!(
        "global\n  maxconn 256\n\
         defaults\n  mode http\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n  \
         timeout tunnel 1h\n  retries 3\n  option redispatch 1\n  retry-on conn-failure empty-response 503\n\
         frontend calls\n  bind 127.0.0.1:{port}\n  default_backend bots\n\
         backend bots\n  balance roundrobin\n  option httpchk GET /readyz\n  http-check expect status 200\n"
    );
    for (n, addr) in backends.iter().enumerate() {
        config.push_str(&format!(
            "  server bot{n} {addr} check inter 100ms fall 1 rise 2\n"
        ));
    }
    config
}

/// The running balancer; killed when dropped.
struct Balancer {
    child: Child,
    addr: SocketAddr,
}

impl Balancer {
    fn start(binary: &Path, dir: &Path, backends: &[SocketAddr]) -> Self {
        let port = free_port();
        let config = dir.join("haproxy.cfg");
        std::fs::write(&config, haproxy_config(port, backends)).unwrap();
        let check = Command::new(binary)
            .args(["-c", "-f"])
            .arg(&config)
            .output()
            .expect("haproxy runs");
        assert!(
            check.status.success(),
            "haproxy refuses the configuration:\n{}",
            String::from_utf8_lossy(&check.stderr)
        );
        let mut child = Command::new(binary)
            .args(["-db", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("haproxy starts");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        for _ in 0..250 {
            if std::net::TcpStream::connect(addr).is_ok() {
                return Self { child, addr };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("haproxy did not listen on {addr}");
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One signed call through `balancer`: the callee stays [`CALL_LENGTH`], then hangs up.
async fn call(balancer: SocketAddr) -> Result<CallRecord, String> {
    let secret = derive_context_secret(AUTH_TOKEN);
    let signed = voice_agent::outbound::sign(&Appointment::demo(), &secret, SystemTime::now())
        .map_err(|err| err.to_string())?;
    CallScript::new(format!("ws://{balancer}/media-stream"))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url(format!("wss://{PUBLIC_HOST}/media-stream"))
        .parameters(signed.parameters())
        .caller_audio(CallerAudio::silence())
        .hang_up_after(CALL_LENGTH)
        .max_duration(Duration::from_secs(20))
        .run()
        .await
        .map_err(|err| err.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_haproxy_one_drained_mid_run_every_call_completes() {
    let Some(haproxy) = haproxy() else {
        #[allow(
            clippy::print_stderr,
            reason = "a skipped test says why, where cargo shows it"
        )]
        {
            eprintln!(
                "SKIPPED two_instances_behind_haproxy: no haproxy binary (Debian: apt-get install haproxy)"
            );
        }
        return;
    };
    let mock = MockServer::builder()
        .api_key(OPENAI_API_KEY)
        .start()
        .await
        .unwrap();
    let dir = support::temp_dir("instances");
    let mut instances = Vec::new();
    for name in ["a", "b"] {
        let out = dir.join(format!("out-{name}"));
        let env = [
            ("RUST_LOG", "info".to_owned()),
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
            ("PUBLIC_URL", format!("https://{PUBLIC_HOST}")),
            ("OPENAI_API_KEY", OPENAI_API_KEY.to_owned()),
            ("OPENAI_REALTIME_URL", mock.url()),
            ("OUTPUT_DIR", out.display().to_string()),
            ("DRAIN_TIMEOUT_SECS", "30".to_owned()),
        ];
        let serve_dir = dir.clone();
        let serve = tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
            Serve::start(&serve_dir, &env, None)
        })
        .await
        .unwrap();
        instances.push((serve, out));
    }
    let backends: Vec<SocketAddr> = instances.iter().map(|(serve, _)| serve.addr).collect();
    let balancer = Balancer::start(&haproxy, &dir, &backends);
    // Both instances pass their first checks (rise 2 at 100 ms).
    tokio::time::sleep(Duration::from_millis(400)).await;

    // Four calls, spread over both instances.
    let first: Vec<_> = (0..4).map(|_| tokio::spawn(call(balancer.addr))).collect();
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // Instance a drains while its calls go on.
    let (drained, drained_out) = instances.remove(0);
    drained.terminate();
    tokio::time::sleep(Duration::from_millis(100)).await;

    // Four more calls: only b takes them.
    let second: Vec<_> = (0..4).map(|_| tokio::spawn(call(balancer.addr))).collect();
    let mut records = Vec::new();
    for task in first.into_iter().chain(second) {
        records.push(task.await.unwrap());
    }
    let (status, drained_output) =
        tokio::task::spawn_blocking(move || drained.wait_exit(Duration::from_secs(20)))
            .await
            .unwrap();

    for (n, record) in records.iter().enumerate() {
        let record = record
            .as_ref()
            .unwrap_or_else(|err| panic!("call {n} failed: {err}\n{drained_output}"));
        assert_eq!(record.end, CallEnd::HungUp, "call {n}: {record:?}");
        assert!(
            record.media_received > 0,
            "call {n}: the callee heard the agent"
        );
    }
    assert!(
        status.success(),
        "the drained instance exits 0: {status:?}\n{drained_output}"
    );
    let (kept, kept_out) = instances.remove(0);
    let on_drained = support::wait_outcome_lines(&drained_out, 1).await.len();
    let on_kept = support::wait_outcome_lines(&kept_out, 8 - on_drained)
        .await
        .len();
    assert!(
        on_drained >= 1,
        "the drained instance had calls in progress:\n{drained_output}"
    );
    assert!(
        on_drained <= 2,
        "no call reached the drained instance after the signal:\n{drained_output}"
    );
    assert_eq!(
        on_drained + on_kept,
        8,
        "every call has its outcome\n{drained_output}\n{}",
        kept.output()
    );
    drop(balancer);
    let _ = kept.stop();
}
