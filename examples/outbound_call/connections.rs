//! The bot's HTTP server loop: accepting TCP connections, and what keeps a peer that never
//! authenticates from holding them (`axum::serve` has neither a header timeout nor a limit).
//!
//! - Each connection is served by hyper's HTTP/1.1 server with upgrades, with a
//!   **header-read timeout** ([`Limits::header_read_timeout`], `HEADER_READ_TIMEOUT_MS`): a
//!   connection that sends no complete request header in time is closed, the first one or
//!   between two requests of a kept-alive connection.
//! - A connection counts as **not yet authenticated** from its accept until a request on it
//!   passes its signature check (a media stream's upgrade, a webhook), which the handler
//!   tells through the connection's [`Admission`]. At most
//!   [`Limits::max_unauthenticated`] (`MAX_UNAUTHENTICATED_CONNECTIONS`) such connections
//!   are kept: one more closes the **oldest** of them, so a pile of idle connections cannot
//!   lock out the real call that arrives after it (a limit that refused the newcomer would).
//!   Behind a tunnel every connection comes from 127.0.0.1, so the limit is global, not per
//!   address.
//! - An **accept error** (`EMFILE`: the process is out of file descriptors) is logged,
//!   closes the oldest unauthenticated connection to free a descriptor for the next accept,
//!   and is retried after [`ACCEPT_BACKOFF`] instead of in a busy loop. With the limit below
//!   the descriptor limit (`ulimit -n`), idle peers can never take the descriptors real
//!   calls need.
//!
//! Each of these is one log line, rate-limited per kind ([`crate::throttle`]): the next
//! line written counts the ones held back (`held_back`).

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::time::Instant;

use crate::throttle::Throttle;

/// The default of [`Limits::header_read_timeout`]: Twilio sends its request at once.
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The default of [`Limits::max_unauthenticated`]: far above a burst of real calls
/// arriving together, far below the usual descriptor limit of 1024 (each call holds two).
pub const DEFAULT_MAX_UNAUTHENTICATED: usize = 128;

/// How long the accept loop waits after an accept error before it tries again.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// How long a stopping server waits for its connections to finish their requests.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What a peer may hold before it authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A connection that sends no complete request header for this long is closed
    /// (`HEADER_READ_TIMEOUT_MS`, default 10 s).
    pub header_read_timeout: Duration,
    /// At most this many connections not yet authenticated; one more closes the oldest
    /// (`MAX_UNAUTHENTICATED_CONNECTIONS`, default 128). At least 1.
    pub max_unauthenticated: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            max_unauthenticated: DEFAULT_MAX_UNAUTHENTICATED,
        }
    }
}

/// Where connections come from: a [`TcpListener`]. Tests put a listener in front that
/// fails as a process out of descriptors does.
pub trait Accept: Send + 'static {
    /// The next connection and its peer's address.
    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send;
}

impl Accept for TcpListener {
    fn accept(&mut self) -> impl Future<Output = io::Result<(TcpStream, SocketAddr)>> + Send {
        TcpListener::accept(self)
    }
}

/// A connection's standing, in every request's extensions: the handler that checked a
/// request's signature calls [`authenticated`](Self::authenticated).
#[derive(Debug, Clone)]
pub struct Admission {
    pool: Arc<Pool>,
    id: u64,
}

impl Admission {
    /// The connection passed a signature check: it no longer counts against
    /// [`Limits::max_unauthenticated`] and is never closed to make room.
    pub fn authenticated(&self) {
        self.pool.leave(self.id);
    }
}

/// The connections not yet authenticated, oldest first.
#[derive(Debug)]
struct Pool {
    limit: usize,
    waiting: Mutex<VecDeque<Waiting>>,
    next_id: AtomicU64,
}

#[derive(Debug)]
struct Waiting {
    id: u64,
    peer: SocketAddr,
    since: Instant,
    /// Dropped when the connection leaves the pool; sent to close it.
    close: oneshot::Sender<()>,
}

/// A connection the pool closed: who, and how long it had been open.
#[derive(Debug)]
struct Closed {
    peer: SocketAddr,
    since: Instant,
}

impl Waiting {
    fn close(self) -> Closed {
        // The connection may have ended meanwhile: nothing left to close then.
        let _ = self.close.send(());
        Closed {
            peer: self.peer,
            since: self.since,
        }
    }
}

impl Pool {
    fn new(limit: usize) -> Self {
        Self {
            limit: limit.max(1),
            waiting: Mutex::new(VecDeque::new()),
            next_id: AtomicU64::new(0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Waiting>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A new connection; when the pool is full, the oldest one is closed and returned.
    fn enter(
        self: &Arc<Self>,
        peer: SocketAddr,
    ) -> (Admission, oneshot::Receiver<()>, Option<Closed>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (close, closed) = oneshot::channel();
        let mut waiting = self.lock();
        let evicted = if waiting.len() >= self.limit {
            waiting.pop_front()
        } else {
            None
        };
        waiting.push_back(Waiting {
            id,
            peer,
            since: Instant::now(),
            close,
        });
        drop(waiting);
        let evicted = evicted.map(Waiting::close);
        let admission = Admission {
            pool: Arc::clone(self),
            id,
        };
        (admission, closed, evicted)
    }

    /// Closes the oldest connection, if any.
    fn close_oldest(&self) -> Option<Closed> {
        let oldest = self.lock().pop_front();
        oldest.map(Waiting::close)
    }

    fn leave(&self, id: u64) {
        let mut waiting = self.lock();
        if let Some(at) = waiting.iter().position(|w| w.id == id) {
            waiting.remove(at);
        }
    }
}

/// The rate-limited lines, one [`Throttle`] per kind.
#[derive(Debug, Default)]
struct Lines {
    accept: Throttle,
    evicted: Throttle,
    header_timeout: Throttle,
    malformed: Throttle,
}

/// Serves `app` on the connections `listener` accepts until `shutdown` completes, then
/// lets the open requests finish (up to 5 s). Upgraded connections (media streams) are
/// the handlers' own and go on.
///
/// # Errors
///
/// None so far: accept errors are logged and retried. The `Result` is for a listener
/// that can fail for good.
pub async fn serve(
    mut listener: impl Accept,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let pool = Arc::new(Pool::new(limits.max_unauthenticated));
    let lines = Arc::new(Lines::default());
    // Dropping `stop` tells every connection to finish; `done` closes when all have.
    let (stop, stopped) = watch::channel(());
    let (done, running) = watch::channel(());
    let mut shutdown = pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((io, peer)) => {
                // Media frames are small and paced every 20 ms: without TCP_NODELAY, Nagle's
                // algorithm holds each one back behind the previous one's ACK.
                if let Err(err) = io.set_nodelay(true) {
                    tracing::warn!(error = %err, "cannot set TCP_NODELAY on an accepted connection");
                }
                let (admission, evict, evicted) = pool.enter(peer);
                if let Some(old) = evicted {
                    if let Some(held_back) = lines.evicted.hit() {
                        tracing::warn!(
                            peer = %old.peer,
                            open_ms = old.since.elapsed().as_millis() as u64,
                            limit = pool.limit,
                            held_back,
                            "too many connections not yet authenticated \
                             (MAX_UNAUTHENTICATED_CONNECTIONS): closed the oldest"
                        );
                    }
                }
                tokio::spawn(connection(
                    io,
                    peer,
                    app.clone(),
                    limits,
                    Conn {
                        admission,
                        evict,
                        stop: stop.clone(),
                        running: running.clone(),
                        lines: Arc::clone(&lines),
                    },
                ));
            }
            // The peer gave up before its connection was accepted: its own business.
            Err(err) if is_peer_gone(&err) => {
                tracing::debug!(error = %err, "a connection ended before it was accepted");
            }
            Err(err) => {
                // Most likely out of descriptors (EMFILE): one held by a peer that has not
                // authenticated is worth less than the call waiting in the backlog.
                let freed = pool.close_oldest();
                if let Some(held_back) = lines.accept.hit() {
                    tracing::error!(
                        error = %err,
                        freed = freed.map(|w| w.peer.to_string()),
                        retry_ms = ACCEPT_BACKOFF.as_millis() as u64,
                        held_back,
                        "cannot accept connections: {err}"
                    );
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
        }
    }
    drop(running);
    drop(stopped);
    if tokio::time::timeout(SHUTDOWN_GRACE, done.closed())
        .await
        .is_err()
    {
        tracing::warn!(
            grace_ms = SHUTDOWN_GRACE.as_millis() as u64,
            "stopping with requests still open"
        );
    }
    Ok(())
}

fn is_peer_gone(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
    )
}

/// What a connection's task shares with the server.
struct Conn {
    admission: Admission,
    /// Fires when the pool closes this connection to make room.
    evict: oneshot::Receiver<()>,
    /// Closed when the server stops.
    stop: watch::Sender<()>,
    /// Held while the connection runs.
    running: watch::Receiver<()>,
    lines: Arc<Lines>,
}

async fn connection(io: TcpStream, peer: SocketAddr, app: Router, limits: Limits, conn: Conn) {
    let Conn {
        admission,
        mut evict,
        stop,
        running,
        lines,
    } = conn;
    let requests = Arc::new(AtomicU64::new(0));
    let service = {
        let app = TowerToHyperService::new(app);
        let admission = admission.clone();
        let requests = Arc::clone(&requests);
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            requests.fetch_add(1, Ordering::Relaxed);
            request.extensions_mut().insert(admission.clone());
            app.call(request)
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let mut served = pin!(
        builder
            .serve_connection(TokioIo::new(io), service)
            .with_upgrades()
    );
    let mut stopping = pin!(stop.closed());
    let (mut in_pool, mut stopped) = (true, false);
    let result = loop {
        tokio::select! {
            result = served.as_mut() => break result,
            closed = &mut evict, if in_pool => match closed {
                // Logged by the server, which closed it.
                Ok(()) => return,
                // Authenticated: out of the pool for good.
                Err(_) => in_pool = false,
            },
            () = &mut stopping, if !stopped => {
                stopped = true;
                served.as_mut().graceful_shutdown();
            }
        }
    };
    admission.pool.leave(admission.id);
    drop(running);
    let Err(err) = result else { return };
    let served = requests.load(Ordering::Relaxed);
    if err.is_timeout() && served == 0 {
        if let Some(held_back) = lines.header_timeout.hit() {
            tracing::warn!(
                %peer,
                timeout_ms = limits.header_read_timeout.as_millis() as u64,
                held_back,
                "closed a connection that sent no complete request header in time \
                 (HEADER_READ_TIMEOUT_MS)"
            );
        }
    } else if err.is_timeout() {
        tracing::debug!(%peer, requests = served, "closed an idle kept-alive connection");
    } else if err.is_parse() || err.is_parse_too_large() {
        if let Some(held_back) = lines.malformed.hit() {
            tracing::warn!(%peer, held_back, "refused a malformed HTTP request: {err}");
        }
    } else {
        tracing::debug!(%peer, "connection ended: {err}");
    }
}
