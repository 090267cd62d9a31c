//! An agent leg opened before its call: the session is connected (and, for a leg that
//! speaks first, its greeting under way) while the phone still rings, so the callee hears
//! the agent as soon as the stream starts instead of after the service's handshake.
//!
//! [`WarmAgent::open`] moves a leg onto a task that connects it and keeps reading its
//! events (a session must be read to stay alive: keepalive pings, the service's frames),
//! holding them for the call. The stream that belongs to the call takes it with
//! [`WarmAgent::claim`] and gets a [`Warmed`] leg that replays what came meanwhile, then
//! goes on live: give it to [`Bridge::new`](crate::Bridge::new) as any other agent leg.
//!
//! A warm session is never left open for nothing: it is closed (a normal close, logged)
//! when it is not claimed within the `limit`, when its [`WarmAgent`] is dropped unclaimed
//! (the call was not answered, or ended), or when it holds more than
//! [`MAX_EARLY_EVENTS`] events. A session that ends or fails before its claim
//! is dropped, and [`WarmAgent::claim`] answers `None`: connect a fresh leg then (the cold
//! path, always correct, reports the failure as usual).
//!
//! ```no_run
//! # #[cfg(feature = "openai")]
//! # async fn demo() {
//! use std::time::Duration;
//! use voice_bridge::openai_realtime::client::{ApiKey, Config};
//! use voice_bridge::warm::WarmAgent;
//! use voice_bridge::{AgentLeg, OpenAiLeg};
//!
//! let leg = || {
//!     OpenAiLeg::builder(Config::openai(ApiKey::new("sk-…")))
//!         .speak_first(true)
//!         .build()
//! };
//! // The phone rings: open the session now, for at most 75 s.
//! let warm = WarmAgent::open(leg(), Duration::from_secs(75));
//! // ... the callee answers; the stream's `start` arrives:
//! let agent: Box<dyn AgentLeg> = match warm.claim().await {
//!     Some(warmed) => Box::new(warmed),
//!     None => Box::new(leg()),
//! };
//! # let _ = agent;
//! # }
//! ```

use std::collections::VecDeque;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::agent::{AgentCommand, AgentEvent, AgentUsage};
use crate::agent_session::AgentSessionInfo;
use crate::leg::{AgentLeg, LegError};

/// The most events a warm session holds for its call (a greeting of several seconds in
/// 20 ms deltas, with its transcript, is a few hundred); past it the session is closed as
/// unclaimed.
pub const MAX_EARLY_EVENTS: usize = 4096;

/// How long closing an unclaimed session may take.
const CLOSE_LIMIT: Duration = Duration::from_secs(1);

/// An agent leg being opened ahead of its call (see the [module docs](self)).
pub struct WarmAgent<A> {
    claims: oneshot::Sender<oneshot::Sender<Warmed<A>>>,
    opened: Instant,
}

impl<A> std::fmt::Debug for WarmAgent<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarmAgent")
            .field("age", &self.opened.elapsed())
            .field("held", &!self.claims.is_closed())
            .finish()
    }
}

impl<A: AgentLeg + 'static> WarmAgent<A> {
    /// Starts connecting `leg` on a task of the current runtime, and keeps it for a claim
    /// for at most `limit`. The task runs in the caller's span, so its lines carry the
    /// call's ids.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime.
    pub fn open(leg: A, limit: Duration) -> Self {
        let (claims, claimed) = oneshot::channel();
        let opened = Instant::now();
        tokio::spawn(hold(leg, opened + limit, claimed).instrument(tracing::Span::current()));
        Self { claims, opened }
    }

    /// How long ago the session started opening.
    pub fn age(&self) -> Duration {
        self.opened.elapsed()
    }

    /// Takes the leg for its call, with the events that came meanwhile; `None` if the
    /// session ended, failed or was closed before (connect a fresh leg then).
    pub async fn claim(self) -> Option<Warmed<A>> {
        let (reply, warmed) = oneshot::channel();
        self.claims.send(reply).ok()?;
        warmed.await.ok()
    }
}

/// A leg taken from a [`WarmAgent`]: the events that came before the claim first, then the
/// leg's own.
#[derive(Debug)]
pub struct Warmed<A> {
    leg: A,
    early: VecDeque<AgentEvent>,
    waited: Duration,
}

impl<A> Warmed<A> {
    /// How long the session was open before its claim.
    pub fn waited(&self) -> Duration {
        self.waited
    }

    /// Whether the session had confirmed its formats before the claim.
    pub fn was_ready(&self) -> bool {
        self.early
            .iter()
            .any(|event| matches!(event, AgentEvent::Ready(_)))
    }
}

#[async_trait]
impl<A: AgentLeg> AgentLeg for Warmed<A> {
    async fn recv(&mut self) -> Result<AgentEvent, LegError> {
        match self.early.pop_front() {
            Some(event) => Ok(event),
            None => self.leg.recv().await,
        }
    }

    async fn send(&mut self, command: AgentCommand) -> Result<(), LegError> {
        self.leg.send(command).await
    }

    fn final_usage(&mut self) -> Option<AgentUsage> {
        self.leg.final_usage()
    }

    fn sessions(&self) -> Vec<AgentSessionInfo> {
        self.leg.sessions()
    }
}

/// The warm session's task: reads the leg until it is claimed, dropped or out of time.
async fn hold<A: AgentLeg>(
    mut leg: A,
    deadline: Instant,
    mut claimed: oneshot::Receiver<oneshot::Sender<Warmed<A>>>,
) {
    let opened = Instant::now();
    let mut early = VecDeque::new();
    let why = loop {
        tokio::select! {
            biased;
            claim = &mut claimed => match claim {
                Ok(reply) => {
                    let warmed = Warmed { leg, early, waited: opened.elapsed() };
                    tracing::debug!(waited_ms = millis(warmed.waited), events = warmed.early.len(),
                        "warm agent session claimed by its call");
                    match reply.send(warmed) {
                        Ok(()) => return,
                        // The claimer gave up while waiting: close it as unclaimed.
                        Err(warmed) => {
                            leg = warmed.leg;
                            break "its claim was abandoned";
                        }
                    }
                }
                Err(_) => break "its call will not take it (not answered, or ended)",
            },
            () = tokio::time::sleep_until(deadline) => break "it was not claimed in time",
            event = leg.recv() => match event {
                Ok(AgentEvent::Ended(end)) => {
                    tracing::info!(%end, "warm agent session ended before its call took it; the call will connect afresh");
                    return;
                }
                Ok(event) => {
                    early.push_back(event);
                    if early.len() > MAX_EARLY_EVENTS {
                        break "it held too many events unclaimed";
                    }
                }
                Err(error) => {
                    tracing::info!(%error, "warm agent session failed before its call took it; the call will connect afresh");
                    return;
                }
            },
        }
    };
    tracing::info!(
        open_ms = millis(opened.elapsed()),
        "closing a warm agent session: {why}"
    );
    match tokio::time::timeout(CLOSE_LIMIT, leg.send(AgentCommand::Close)).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "closing the warm agent session failed"),
        Err(_) => tracing::debug!("closing the warm agent session timed out"),
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::AgentReady;
    use crate::audio::AudioFormat;
    use crate::memory;

    fn ready() -> AgentEvent {
        AgentEvent::Ready(AgentReady::new(AudioFormat::MuLaw, AudioFormat::MuLaw))
    }

    #[tokio::test(start_paused = true)]
    async fn a_claim_gets_the_early_events_first_then_the_live_ones() {
        let (leg, mut service) = memory::agent_leg(8);
        let warm = WarmAgent::open(leg, Duration::from_secs(60));
        service.send(ready()).await.unwrap();
        service.send(AgentEvent::SpeechStarted).await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        let mut warmed = warm.claim().await.expect("claimed");
        assert!(warmed.was_ready());
        assert!(warmed.waited() >= Duration::from_secs(5));
        assert_eq!(warmed.recv().await.unwrap(), ready());
        assert_eq!(warmed.recv().await.unwrap(), AgentEvent::SpeechStarted);
        service.send(AgentEvent::SpeechStopped).await.unwrap();
        assert_eq!(warmed.recv().await.unwrap(), AgentEvent::SpeechStopped);
        // Commands go to the leg.
        warmed.send(AgentCommand::CreateResponse).await.unwrap();
        assert_eq!(service.recv().await, Some(AgentCommand::CreateResponse));
    }

    #[tokio::test(start_paused = true)]
    async fn an_unclaimed_session_is_closed_at_its_limit() {
        let (leg, mut service) = memory::agent_leg(8);
        let warm = WarmAgent::open(leg, Duration::from_secs(60));
        service.send(ready()).await.unwrap();
        let start = Instant::now();
        assert_eq!(service.recv().await, Some(AgentCommand::Close));
        assert_eq!(start.elapsed(), Duration::from_secs(60));
        assert!(warm.claim().await.is_none(), "nothing left to claim");
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_handle_closes_the_session_at_once() {
        let (leg, mut service) = memory::agent_leg(8);
        let warm = WarmAgent::open(leg, Duration::from_secs(60));
        tokio::task::yield_now().await;
        let start = Instant::now();
        drop(warm);
        assert_eq!(service.recv().await, Some(AgentCommand::Close));
        assert_eq!(start.elapsed(), Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_that_ended_before_its_claim_is_not_handed_over() {
        let (leg, service) = memory::agent_leg(8);
        let warm = WarmAgent::open(leg, Duration::from_secs(60));
        service
            .send(AgentEvent::Ended(crate::LegEnd::Refused {
                status: Some(401),
                detail: "invalid_api_key".into(),
            }))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(warm.claim().await.is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn a_flood_of_unclaimed_events_closes_the_session() {
        let (leg, mut service) = memory::agent_leg(8);
        let _warm = WarmAgent::open(leg, Duration::from_secs(600));
        let flood = async {
            for _ in 0..=MAX_EARLY_EVENTS {
                if service.send(AgentEvent::SpeechStarted).await.is_err() {
                    break;
                }
            }
        };
        flood.await;
        assert_eq!(service.recv().await, Some(AgentCommand::Close));
    }
}
