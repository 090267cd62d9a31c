//! Taps: every frame of a session as it passes, for load tools and latency probes that
//! cannot afford the session log (see [`MockServerBuilder::record`](super::MockServerBuilder::record)).

use std::fmt;
use std::sync::Arc;

use super::handle::MockSession;

/// Sees the frames of one session as they pass, on the session's own task.
///
/// Made per session by the function given to [`MockServerBuilder::tap`](super::MockServerBuilder::tap).
/// Both methods run inline on the session's task: keep them short (no blocking, no waiting).
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use openai_realtime::mock::{MockServer, Tap};
///
/// /// Counts the audio the client appended.
/// struct Appends(Arc<AtomicUsize>);
///
/// impl Tap for Appends {
///     fn received(&mut self, text: &str) {
///         if text.contains(r#""input_audio_buffer.append""#) {
///             self.0.fetch_add(1, Ordering::Relaxed);
///         }
///     }
///     fn sent(&mut self, _text: &str) {}
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let appends = Arc::new(AtomicUsize::new(0));
/// let counter = Arc::clone(&appends);
/// let server = MockServer::builder()
///     .record(false)
///     .tap(move |_session| Appends(Arc::clone(&counter)))
///     .start()
///     .await?;
/// # drop(server);
/// # Ok(())
/// # }
/// ```
pub trait Tap: Send {
    /// A text frame from the client, just read (before the mock acts on it).
    fn received(&mut self, text: &str);

    /// A text frame the mock sent, just written to the socket.
    fn sent(&mut self, text: &str);
}

type MakeTap = dyn Fn(&MockSession) -> Box<dyn Tap> + Send + Sync;

/// Makes each session's [`Tap`].
#[derive(Clone)]
pub(crate) struct TapFactory(Arc<MakeTap>);

impl TapFactory {
    pub(crate) fn new<F, T>(make: F) -> Self
    where
        F: Fn(&MockSession) -> T + Send + Sync + 'static,
        T: Tap + 'static,
    {
        Self(Arc::new(move |session: &MockSession| {
            Box::new(make(session)) as Box<dyn Tap>
        }))
    }

    pub(crate) fn make(&self, session: &MockSession) -> Box<dyn Tap> {
        (self.0)(session)
    }
}

impl fmt::Debug for TapFactory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TapFactory(..)")
    }
}
