//! The example's own binary (`cargo run --example outbound_call -- serve`) as a child
//! process: what only the real process shows (its log subscriber, its file descriptors).
//!
//! The binary is built once per test run with `cargo build --example outbound_call`
//! (`cargo test` builds examples, but not under a `--test` filter, and a stale binary would
//! test old code); it is quick when up to date.

use std::io::{BufRead as _, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// The example's executable, built (or found up to date) by cargo.
pub fn binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .args([
                "build",
                "--workspace",
                "--all-features",
                "--example",
                "outbound_call",
                "--message-format=json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "cargo build --example outbound_call"
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter(|message| message["target"]["name"] == "outbound_call")
            .find_map(|message| message["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the example's executable")
    })
}

/// Runs `outbound_call ARGS` with exactly this environment in `dir` to its end (at most
/// 60 s): its exit status and everything it wrote, stdout and stderr.
pub fn run(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> (std::process::ExitStatus, String) {
    let mut child = Command::new(binary())
        .args(args)
        .env_clear()
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let output = Arc::new(Mutex::new(String::new()));
    let readers = [
        collect(child.stderr.take().unwrap(), Arc::clone(&output), None),
        collect(child.stdout.take().unwrap(), Arc::clone(&output), None),
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().expect("the example's status") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "outbound_call {args:?} did not end:\n{}",
                output.lock().unwrap()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    for reader in readers {
        let _ = reader.join();
    }
    let output = output.lock().unwrap().clone();
    (status, output)
}

/// A running `outbound_call serve`, its output collected.
pub struct Serve {
    pub addr: SocketAddr,
    child: Child,
    output: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Serve {
    /// Starts `serve` with exactly this environment (nothing inherited, no `.env`: it runs in
    /// `dir`), PORT=0, and waits for its `serving` line. `ulimit_n` lowers its descriptor
    /// limit (through `sh -c 'ulimit -n N'`).
    pub fn start(dir: &Path, env: &[(&str, &str)], ulimit_n: Option<u32>) -> Self {
        let mut command = match ulimit_n {
            None => Command::new(binary()),
            Some(limit) => {
                let mut command = Command::new("sh");
                command
                    .arg("-c")
                    .arg(format!("ulimit -n {limit} && exec \"$0\" \"$@\""))
                    .arg(binary());
                command
            }
        };
        let mut child = command
            .arg("serve")
            .env_clear()
            .envs(env.iter().copied())
            .env("PORT", "0")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let output = Arc::new(Mutex::new(String::new()));
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let readers = vec![
            collect(stderr, Arc::clone(&output), Some(addr_tx)),
            collect(stdout, Arc::clone(&output), None),
        ];
        let addr = match addr_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "serve did not say where it listens:\n{}",
                    output.lock().unwrap()
                );
            }
        };
        Self {
            addr,
            child,
            output,
            readers,
        }
    }

    /// Everything it wrote so far, stdout and stderr.
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Sends it SIGTERM (what a deploy or `docker stop` sends), through `kill(1)`.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill(1) runs");
        assert!(status.success(), "kill -TERM {}", self.child.id());
    }

    /// Waits (up to `limit`) for it to exit on its own: its status and everything it
    /// wrote. Killed, and the test fails, past the limit.
    pub fn wait_exit(mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let deadline = std::time::Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("the example's status") {
                break status;
            }
            if std::time::Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("serve did not exit within {limit:?}:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        (status, self.output())
    }

    /// Stops it and returns everything it wrote.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        self.output()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies a pipe into `output` line by line; the first `serving` line's `addr` goes to
/// `addr`.
pub fn collect(
    pipe: impl Read + Send + 'static,
    output: Arc<Mutex<String>>,
    addr: Option<std::sync::mpsc::Sender<SocketAddr>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut addr = addr;
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if line.contains("serving") {
                if let Some(found) = addr.as_ref().and_then(|_| addr_of(&line)) {
                    let _ = addr.take().unwrap().send(found);
                }
            }
            let mut output = output.lock().unwrap();
            output.push_str(&line);
            output.push('\n');
        }
    })
}

/// `addr=127.0.0.1:PORT` in a log line (colours or not).
fn addr_of(line: &str) -> Option<SocketAddr> {
    let plain: String = strip_ansi(line);
    let at = plain.find("addr=")? + "addr=".len();
    plain[at..].split_whitespace().next()?.parse().ok()
}

/// `line` without ANSI colour sequences.
pub fn strip_ansi(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}
