//! What a peer that never authenticates can hold (issue 16, items 2 and 10): idle TCP
//! connections are closed at the header-read timeout, connections not yet authenticated
//! are capped (the oldest closed first, so a real call still gets through), and accept
//! errors are logged once, backed off, and free a descriptor.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use openai_realtime::mock::MockServer;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallEnd, CallScript, CallerAudio};
use voice_agent::appointment::Appointment;
use voice_agent::config::derive_context_secret;
use voice_agent::connections::{self, Accept, Limits};

use crate::logs::{self, Logs};
use crate::support::{self, AUTH_TOKEN, PUBLIC_HOST};

/// Lines of `logs` that contain `text`.
fn lines_with(logs: &Logs, text: &str) -> Vec<String> {
    logs.text()
        .lines()
        .filter(|line| line.contains(text))
        .map(str::to_owned)
        .collect()
}

/// Whether the server closed `socket` within `within` (EOF or reset); `false` if it is
/// still open then. Sends nothing.
async fn closed_within(socket: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    match tokio::time::timeout(within, socket.read(&mut byte)).await {
        Ok(Ok(0) | Err(_)) => true,
        Ok(Ok(_)) => panic!("the server sent bytes to a connection that asked nothing"),
        Err(_) => false,
    }
}

const NO_HEADER: &str = "closed a connection that sent no complete request header in time";

#[test]
fn an_idle_connection_is_closed_at_the_header_read_timeout() {
    let (waited, logs) = logs::run_paused(|_| async {
        let out = support::temp_dir("idle-tcp");
        let config = support::config("ws://127.0.0.1:9/v1/realtime", "http://127.0.0.1:9", &out);
        assert_eq!(config.limits, Limits::default(), "the default timeout");
        let (addr, _bot) = support::serve_bot(&config).await;
        let opened = Instant::now();
        let mut idle = TcpStream::connect(addr).await.unwrap();
        assert!(
            closed_within(&mut idle, Duration::from_secs(70)).await,
            "an idle connection is still open after 70 s"
        );
        opened.elapsed()
    });
    let timeout = connections::DEFAULT_HEADER_READ_TIMEOUT;
    assert!(
        waited >= timeout && waited < timeout + Duration::from_secs(1),
        "closed after {waited:?}, the timeout is {timeout:?}"
    );
    let lines = lines_with(&logs, NO_HEADER);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].trim_start().starts_with("WARN"), "{}", lines[0]);
    assert!(lines[0].contains("timeout_ms=10000"), "{}", lines[0]);
    assert!(lines[0].contains("HEADER_READ_TIMEOUT_MS"), "{}", lines[0]);
}

#[test]
fn many_idle_connections_are_closed_with_one_line() {
    let ((), logs) = logs::run_paused(|_| async {
        let out = support::temp_dir("idle-many");
        let mut config =
            support::config("ws://127.0.0.1:9/v1/realtime", "http://127.0.0.1:9", &out);
        config.limits.header_read_timeout = Duration::from_millis(500);
        let (addr, _bot) = support::serve_bot(&config).await;
        let mut idle = Vec::new();
        for _ in 0..15 {
            idle.push(TcpStream::connect(addr).await.unwrap());
        }
        for socket in &mut idle {
            assert!(closed_within(socket, Duration::from_secs(5)).await);
        }
        // A request that stalls halfway through its header is no better.
        let mut slow = TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET /media-stream HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        assert!(closed_within(&mut slow, Duration::from_secs(5)).await);
    });
    // 16 closed within the interval of one line: one line.
    let lines = lines_with(&logs, NO_HEADER);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains("timeout_ms=500"), "{}", lines[0]);
    assert!(lines[0].contains("held_back=0"), "{}", lines[0]);
}

const EVICTED: &str = "too many connections not yet authenticated";

#[test]
fn over_the_limit_the_oldest_unauthenticated_connection_is_closed_and_a_signed_call_gets_through() {
    let ((), logs) = logs::run(2, |_| limit_test());
    let lines = lines_with(&logs, EVICTED);
    // 6 closed within the interval of one line: one line, naming the limit.
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].trim_start().starts_with("WARN"), "{}", lines[0]);
    assert!(lines[0].contains("limit=4"), "{}", lines[0]);
    assert!(
        lines[0].contains("MAX_UNAUTHENTICATED_CONNECTIONS"),
        "{}",
        lines[0]
    );
}

async fn limit_test() {
    const LIMIT: usize = 4;
    let mock = MockServer::start().await.unwrap();
    let twilio = support::stand_in(support::Create::Created("CA1")).await;
    let out = support::temp_dir("limit");
    let mut config = support::config(&mock.url(), &twilio.url, &out);
    config.limits.max_unauthenticated = LIMIT;
    let (addr, _bot) = support::serve_bot(&config).await;

    let mut idle = Vec::new();
    for _ in 0..LIMIT {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    // Within the limit: all kept.
    for socket in &mut idle {
        assert!(!closed_within(socket, Duration::from_millis(100)).await);
    }
    // Two more: the two oldest are closed, the rest kept.
    for _ in 0..2 {
        idle.push(TcpStream::connect(addr).await.unwrap());
    }
    for (n, socket) in idle.iter_mut().enumerate() {
        let closed = closed_within(
            socket,
            Duration::from_millis(if n < 2 { 5000 } else { 100 }),
        );
        assert_eq!(closed.await, n < 2, "connection {n}");
    }
    // A signed call while the limit is full: it takes the place of the oldest idle one,
    // authenticates, and is not closed by the idle connections opened during it.
    let secret = derive_context_secret(AUTH_TOKEN);
    let signed =
        voice_agent::outbound::sign(&Appointment::demo(), &secret, SystemTime::now()).unwrap();
    let call = CallScript::new(format!("ws://{addr}/media-stream"))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url(format!("wss://{PUBLIC_HOST}/media-stream"))
        .parameters(signed.parameters())
        .caller_audio(CallerAudio::silence())
        .hang_up_after(Duration::from_millis(2000))
        .max_duration(Duration::from_secs(20))
        .run();
    let more_idle = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut more = Vec::new();
        for _ in 0..LIMIT {
            more.push(TcpStream::connect(addr).await.unwrap());
        }
        more
    };
    let (record, _more) = tokio::join!(call, more_idle);
    let record = record.unwrap();
    assert_eq!(record.end, CallEnd::HungUp, "{record:?}");
    assert!(record.media_received > 0, "the agent greeted the caller");
    let lines = support::wait_outcome_lines(&out, 1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["call_sid"], record.call_sid.as_str());
}

/// A listener that fails as a process out of descriptors does (`EMFILE`), `failures`
/// times after its first accept, then accepts again.
struct OutOfDescriptors {
    inner: TcpListener,
    calls: Arc<AtomicUsize>,
    failures: usize,
}

impl Accept for OutOfDescriptors {
    async fn accept(&mut self) -> io::Result<(TcpStream, SocketAddr)> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst);
        if (1..=self.failures).contains(&call) {
            // EMFILE: "Too many open files" on Linux and macOS.
            return Err(io::Error::from_raw_os_error(24));
        }
        self.inner.accept().await
    }
}

#[test]
fn an_accept_error_is_logged_once_backs_off_and_frees_a_descriptor() {
    const FAILURES: usize = 20;
    let ((), logs) = logs::run_paused(|_| async {
        let out = support::temp_dir("accept-error");
        let config = support::config("ws://127.0.0.1:9/v1/realtime", "http://127.0.0.1:9", &out);
        let bot = Arc::new(voice_agent::serve::bot(&config, false).unwrap());
        let inner = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = inner.local_addr().unwrap();
        // An idle connection, accepted first: it holds a descriptor.
        let mut idle = TcpStream::connect(addr).await.unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let listener = OutOfDescriptors {
            inner,
            calls: Arc::clone(&calls),
            failures: FAILURES,
        };
        let started = Instant::now();
        tokio::spawn(connections::serve(
            listener,
            voice_agent::server::router(bot),
            Limits::default(),
            std::future::pending(),
        ));
        // The first failure closes it to free its descriptor.
        assert!(closed_within(&mut idle, Duration::from_secs(5)).await);
        // After the failures, a request is served.
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /nothing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        tokio::time::timeout(Duration::from_secs(30), client.read_to_string(&mut answer))
            .await
            .expect("an answer after the accept errors")
            .unwrap();
        assert!(answer.starts_with("HTTP/1.1 404"), "{answer}");
        assert!(calls.load(Ordering::SeqCst) >= FAILURES + 2);
        // No busy loop: each failure waited before the next accept.
        let waited = started.elapsed();
        let least = connections::ACCEPT_BACKOFF * FAILURES as u32;
        assert!(waited >= least, "{FAILURES} failures in {waited:?}");
    });
    let lines = lines_with(&logs, "cannot accept connections");
    assert_eq!(
        lines.len(),
        1,
        "one line for {FAILURES} failures: {lines:#?}"
    );
    let line = &lines[0];
    assert!(line.trim_start().starts_with("ERROR"), "{line}");
    assert!(line.contains("Too many open files"), "{line}");
    assert!(
        line.contains("freed=\"127.0.0.1:"),
        "names what it closed: {line}"
    );
    assert!(line.contains("retry_ms=50"), "{line}");
}

/// `outbound_call serve` with at most `ulimit_n` descriptors and this cap, and `idle`
/// connections opened to it that send nothing; then a signed call. Returns the call's
/// record (`None`: its handshake never got through) and everything serve wrote.
async fn serve_out_of_descriptors(
    name: &str,
    ulimit_n: u32,
    max_unauthenticated: usize,
    idle: usize,
) -> (Option<twilio_media_stream::simulator::CallRecord>, String) {
    use crate::example::Serve;
    let mock = MockServer::start().await.unwrap();
    let dir = support::temp_dir(name);
    let env = [
        ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
        ("PUBLIC_URL", format!("https://{PUBLIC_HOST}")),
        ("OPENAI_API_KEY", support::OPENAI_API_KEY.to_owned()),
        ("OPENAI_REALTIME_URL", mock.url()),
        ("OUTPUT_DIR", dir.join("out").display().to_string()),
        (
            "MAX_UNAUTHENTICATED_CONNECTIONS",
            max_unauthenticated.to_string(),
        ),
        ("RUST_LOG", "info".to_owned()),
    ];
    let serve = tokio::task::spawn_blocking(move || {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        Serve::start(&dir, &env, Some(ulimit_n))
    })
    .await
    .unwrap();
    let mut sockets = Vec::new();
    for _ in 0..idle {
        sockets.push(TcpStream::connect(serve.addr).await.unwrap());
    }
    // Let serve take in what it can.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let secret = derive_context_secret(AUTH_TOKEN);
    let signed =
        voice_agent::outbound::sign(&Appointment::demo(), &secret, SystemTime::now()).unwrap();
    let call = CallScript::new(format!("ws://{}/media-stream", serve.addr))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url(format!("wss://{PUBLIC_HOST}/media-stream"))
        .parameters(signed.parameters())
        .caller_audio(CallerAudio::silence())
        .hang_up_after(Duration::from_millis(1500))
        .max_duration(Duration::from_secs(20))
        .run();
    let record = match tokio::time::timeout(Duration::from_secs(15), call).await {
        Ok(Ok(record)) => Some(record),
        Ok(Err(err)) => panic!("the call failed: {err}\n{}", serve.output()),
        Err(_) => None,
    };
    drop(sockets);
    (record, serve.stop())
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_descriptors_serve_says_so_and_a_signed_call_still_gets_its_handshake() {
    // No cap to speak of: the idle connections take every descriptor.
    let (record, output) = serve_out_of_descriptors("emfile", 64, 1000, 80).await;
    let lines: Vec<String> = output
        .lines()
        .map(crate::example::strip_ansi)
        .filter(|line| line.contains("cannot accept connections"))
        .collect();
    assert!(
        !lines.is_empty(),
        "nothing says the descriptors ran out:\n{output}"
    );
    assert!(lines[0].contains("Too many open files"), "{}", lines[0]);
    assert!(lines.len() <= 2, "rate-limited: {lines:#?}");
    let record =
        record.unwrap_or_else(|| panic!("the call's handshake never got through:\n{output}"));
    assert!(record.call_sid.as_str().starts_with("CA"), "{record:?}");
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cap_keeps_descriptors_for_real_calls() {
    // 16 idle connections at most, in 64 descriptors: after the burst (during which the
    // closed ones may briefly outnumber the free descriptors on a loaded machine) the call
    // has what it needs, its agent's connection included.
    let (record, output) = serve_out_of_descriptors("margin", 64, 16, 80).await;
    let record =
        record.unwrap_or_else(|| panic!("the call's handshake never got through:\n{output}"));
    assert_eq!(record.end, CallEnd::HungUp, "{record:?}\n{output}");
    assert!(record.media_received > 0, "the agent spoke:\n{output}");
    assert!(output.contains(EVICTED), "{output}");
}
