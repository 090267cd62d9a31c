//! What the bot logs, captured per test: a `tracing` subscriber writing into memory is made
//! the default of every thread of the test's own runtime (its workers, its blocking pool and
//! the thread driving it), so tests running in parallel never see each other's lines.
//!
//! `tracing` decides once per call site, for the whole process, whether anyone listens. With
//! a single subscriber registered, that decision is taken against the default of whichever
//! thread reaches the call site first: a parallel test with no subscriber would turn the
//! site off for good, and the capture would silently lose its lines. A second, permanent
//! subscriber that listens to everything ([`anchor`]) makes `tracing` ask every registered
//! subscriber instead.

use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use tracing::Dispatch;
use tracing::dispatcher::DefaultGuard;
use tracing_subscriber::fmt::MakeWriter;

/// The lines a test's subscriber wrote, every level from TRACE up.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    /// Everything captured so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    /// The server's captured lines at WARN or ERROR: the bot's and its crates', not those
    /// of the fake peers (the Twilio simulator, the OpenAI mock) running in the same test.
    pub fn warnings(&self) -> Vec<String> {
        const PEERS: [&str; 2] = ["twilio_media_stream::simulator", "openai_realtime::mock"];
        self.text()
            .lines()
            .filter(|line| {
                // `LEVEL [spans:] target: message fields`
                let level = line.split_whitespace().next();
                matches!(level, Some("WARN" | "ERROR"))
                    && !PEERS.iter().any(|peer| line.contains(&format!(" {peer}")))
            })
            .map(str::to_owned)
            .collect()
    }

    /// Waits (up to 10 s) until a line contains `text`; `false` if none did.
    pub async fn wait_for(&self, text: &str) -> bool {
        for _ in 0..500 {
            if self.text().contains(text) {
                return true;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        false
    }

    fn dispatch(&self) -> Dispatch {
        anchor();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(self.clone())
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .without_time()
            .finish();
        Dispatch::new(subscriber)
    }
}

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// A subscriber registered for the life of the process, never the default of any thread.
fn anchor() {
    static ANCHOR: OnceLock<Dispatch> = OnceLock::new();
    ANCHOR.get_or_init(|| {
        Dispatch::new(
            tracing_subscriber::fmt()
                .with_writer(std::io::sink)
                .with_max_level(tracing::Level::TRACE)
                .finish(),
        )
    });
}

thread_local! {
    static GUARD: RefCell<Option<DefaultGuard>> = const { RefCell::new(None) };
}

/// Runs `test` on a fresh runtime (`workers` worker threads; 0 for a current-thread
/// runtime) whose every thread logs into the returned [`Logs`] (also handed to `test`).
pub fn run<F: Future>(workers: usize, test: impl FnOnce(Logs) -> F) -> (F::Output, Logs) {
    run_on(workers, false, test)
}

/// As [`run`], on a current-thread runtime whose clock starts paused (it jumps ahead
/// whenever every task waits): timeouts of seconds pass at once, sockets stay real.
pub fn run_paused<F: Future>(test: impl FnOnce(Logs) -> F) -> (F::Output, Logs) {
    run_on(0, true, test)
}

fn run_on<F: Future>(
    workers: usize,
    paused: bool,
    test: impl FnOnce(Logs) -> F,
) -> (F::Output, Logs) {
    let logs = Logs::default();
    let dispatch = logs.dispatch();
    let _main = tracing::dispatcher::set_default(&dispatch);
    let mut builder = if workers == 0 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(workers);
        builder
    };
    let on_start = dispatch.clone();
    let runtime = builder
        .enable_all()
        .start_paused(paused)
        .on_thread_start(move || {
            let guard = tracing::dispatcher::set_default(&on_start);
            GUARD.with(|slot| *slot.borrow_mut() = Some(guard));
        })
        .on_thread_stop(|| GUARD.with(|slot| drop(slot.borrow_mut().take())))
        .build()
        .expect("a test runtime");
    let output = runtime.block_on(test(logs.clone()));
    drop(runtime);
    (output, logs)
}
