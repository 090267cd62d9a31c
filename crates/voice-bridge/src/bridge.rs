//! The driver: runs one call's [`Engine`] between two legs on tokio.
//!
//! This is the only code in the crate with `select!`, sleeps and timeouts. It pumps both
//! legs into the engine, carries out the engine's actions in order, runs tool handlers,
//! and wakes the engine at the instant it asked for.
//!
//! Ending (in the manner of tokio's `copy_bidirectional`): when either leg ends, the
//! engine decides the other leg's last command (`Close` for the agent; hang-up, hand-over
//! or a fallback for the call). Each last command gets at most
//! [`BridgeConfig::close_timeout`] (at most one second), then the leg is dropped, which
//! releases its connection. While the driver waits on a slow send to one leg it keeps
//! listening to the other, so a hang-up is never stuck behind a full socket.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::FuturesUnordered;
use futures_util::{FutureExt as _, StreamExt as _};
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::agent::{AgentCommand, AgentEvent};
use crate::call::{CallCommand, CallEvent};
use crate::config::BridgeConfig;
use crate::engine::{Action, Engine};
use crate::ids::{CallId, StreamId};
use crate::leg::{AgentLeg, CallLeg, LegEnd, LegError, Side};
use crate::observer::{BridgeObserver, NoObserver, Observed};
use crate::report::CallReport;
use crate::tool::{NoTools, ToolCall, ToolHandler, ToolOutcome, ToolResult};

/// The longest any leg's last command may take.
const CLOSE_BOUND: Duration = Duration::from_secs(1);
/// The longest an ordinary command may take before the leg counts as broken.
const SEND_BOUND: Duration = Duration::from_secs(5);

/// One call between a telephony leg and an agent leg.
///
/// ```
/// use voice_bridge::{Bridge, BridgeConfig, memory};
/// # async fn example() {
/// let (call, _phone) = memory::call_leg(64);
/// let (agent, _model) = memory::agent_leg(64);
/// let report = Bridge::new(call, agent).with_config(BridgeConfig::default()).run().await;
/// println!("{}", serde_json::to_string(&report).unwrap());
/// # }
/// ```
#[derive(Debug)]
#[must_use = "a bridge does nothing until `run` is awaited"]
pub struct Bridge<C, A, T = NoTools, O = NoObserver> {
    call: C,
    agent: A,
    tools: T,
    observer: O,
    config: BridgeConfig,
    shutdown: Shutdown,
}

/// The program's request to end the call early ([`Bridge::with_shutdown`]).
#[derive(Default)]
struct Shutdown(Option<BoxFuture<'static, String>>);

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Shutdown(armed)"
        } else {
            "Shutdown(none)"
        })
    }
}

impl<C: CallLeg, A: AgentLeg> Bridge<C, A, NoTools, NoObserver> {
    /// A bridge with the default configuration, no tools and no observer.
    pub fn new(call: C, agent: A) -> Self {
        Self {
            call,
            agent,
            tools: NoTools,
            observer: NoObserver,
            config: BridgeConfig::default(),
            shutdown: Shutdown::default(),
        }
    }
}

impl<C: CallLeg, A: AgentLeg, T: ToolHandler, O: BridgeObserver> Bridge<C, A, T, O> {
    /// Replaces the configuration.
    pub fn with_config(mut self, config: BridgeConfig) -> Self {
        self.config = config;
        self
    }

    /// Sets the handler for the agent's tool calls.
    pub fn with_tools<U: ToolHandler>(self, tools: U) -> Bridge<C, A, U, O> {
        Bridge {
            call: self.call,
            agent: self.agent,
            tools,
            observer: self.observer,
            config: self.config,
            shutdown: self.shutdown,
        }
    }

    /// Watches the call live: `observer` sees every event from either leg as it arrives
    /// and every command as it is sent (see [`observer`](crate::observer)). It runs on the
    /// bridge's task, so keep it short. Without one, nothing is spent per frame.
    pub fn with_observer<U: BridgeObserver>(self, observer: U) -> Bridge<C, A, T, U> {
        Bridge {
            call: self.call,
            agent: self.agent,
            tools: self.tools,
            observer,
            config: self.config,
            shutdown: self.shutdown,
        }
    }

    /// Ends the call early when `signal` completes, with the reason it yields: the caller
    /// gets the configured fallback (as when the agent fails), the agent leg is closed,
    /// and the report's reason is [`EndReason::Shutdown`](crate::report::EndReason::Shutdown).
    /// What a server does to the calls still running when its drain deadline passes.
    /// A call already ending (a goodbye, a fallback) finishes as it was.
    ///
    /// ```
    /// use voice_bridge::{Bridge, memory};
    /// # async fn example() {
    /// let (call, _phone) = memory::call_leg(64);
    /// let (agent, _model) = memory::agent_leg(64);
    /// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    /// let bridge = Bridge::new(call, agent).with_shutdown(async move {
    ///     let _ = stopped.await;
    ///     "the server is shutting down".to_owned()
    /// });
    /// # drop(stop);
    /// # let _ = bridge;
    /// # }
    /// ```
    pub fn with_shutdown(mut self, signal: impl Future<Output = String> + Send + 'static) -> Self {
        self.shutdown = Shutdown(Some(Box::pin(signal)));
        self
    }

    /// Runs the call to its end and returns its report.
    ///
    /// Every log line of the call is inside a `call` span with `call_id` and `stream_id`.
    /// The ids are on the span from its first line when the call leg knows them before the
    /// bridge starts ([`CallLeg::call_ids`]: a [`TwilioLeg`](crate::TwilioLeg) after
    /// [`wait_start`](crate::adapter::twilio::TwilioLeg::wait_start)); otherwise they are
    /// filled in when the call leg's `Started` arrives, and lines the agent leg logs before
    /// that (its connect, a refusal) have none. The agent leg is first polled, and so
    /// connects, inside the span.
    ///
    /// Tool handlers run concurrently with the call's audio, each under
    /// [`BridgeConfig::tool_timeout`]; handlers still running when the call ends are
    /// dropped.
    ///
    /// # Return value
    ///
    /// The [`CallReport`]; its `outcome` says which side ended the call and why. Both
    /// legs have been given their last command (or the bounded time for it) and dropped.
    pub async fn run(self) -> CallReport {
        let span = tracing::info_span!(
            "call",
            call_id = tracing::field::Empty,
            stream_id = tracing::field::Empty
        );
        let Self {
            call,
            agent,
            tools,
            observer,
            config,
            shutdown,
        } = self;
        // Before either leg is polled: the agent's connect logs inside the span, with the
        // ids if the call leg has them already.
        let ids_recorded = call
            .call_ids()
            .map(|(call_id, stream_id)| record_ids(&span, &call_id, &stream_id))
            .is_some();
        let driver = Driver {
            close_timeout: config.close_timeout.min(CLOSE_BOUND),
            tool_timeout: config.tool_timeout,
            engine: Engine::new(config, now()),
            call,
            agent,
            observer,
            call_leg: LegState::OPEN,
            agent_leg: LegState::OPEN,
            span: span.clone(),
            ids_recorded,
            agent_closing_by: None,
            shutdown: shutdown.0,
        };
        driver.drive(&tools).instrument(span).await
    }
}

/// What may still be done with a leg.
#[derive(Debug, Clone, Copy)]
struct LegState {
    recv: bool,
    send: bool,
}

impl LegState {
    const OPEN: Self = Self {
        recv: true,
        send: true,
    };
    const GONE: Self = Self {
        recv: false,
        send: false,
    };
}

struct Driver<C, A, O> {
    engine: Engine,
    call: C,
    agent: A,
    observer: O,
    call_leg: LegState,
    agent_leg: LegState,
    close_timeout: Duration,
    tool_timeout: Duration,
    span: tracing::Span,
    ids_recorded: bool,
    /// When the agent leg's last commands must be done by (set once the call has ended).
    agent_closing_by: Option<Instant>,
    /// The program's request to end the call; `None` once it has come (or without one).
    shutdown: Option<BoxFuture<'static, String>>,
}

fn now() -> std::time::Instant {
    Instant::now().into_std()
}

/// The program's shutdown signal, or never.
async fn shutdown_signal(signal: &mut Option<BoxFuture<'static, String>>) -> String {
    match signal {
        Some(signal) => signal.await,
        None => std::future::pending().await,
    }
}

/// The engine's timer, kept for the whole call: armed at the engine's deadline when that
/// comes sooner than the armed one, left alone when it moves later (it then fires early,
/// and the engine, which checks every rule against the time, does nothing but say when to
/// come back). A caller frame moves the idle deadline later, so moving the timer with it
/// would register and deregister a timer per frame.
struct EngineTimer {
    sleep: std::pin::Pin<Box<tokio::time::Sleep>>,
    armed: Option<std::time::Instant>,
}

impl EngineTimer {
    fn new() -> Self {
        // Not registered with the runtime until armed and polled.
        Self {
            sleep: Box::pin(tokio::time::sleep(Duration::ZERO)),
            armed: None,
        }
    }

    /// Arms the timer for `deadline` unless it is already armed for an earlier instant.
    fn arm(&mut self, deadline: Option<std::time::Instant>) {
        let Some(deadline) = deadline else { return };
        if self.armed.is_none_or(|armed| deadline < armed) {
            self.sleep.as_mut().reset(Instant::from_std(deadline));
            self.armed = Some(deadline);
        }
    }

    /// Waits for the armed instant (forever when unarmed), then disarms.
    async fn fired(&mut self) {
        if self.armed.is_none() {
            return std::future::pending().await;
        }
        self.sleep.as_mut().await;
        self.armed = None;
    }
}

impl<C: CallLeg, A: AgentLeg, O: BridgeObserver> Driver<C, A, O> {
    async fn drive(mut self, tools: &dyn ToolHandler) -> CallReport {
        let mut running: FuturesUnordered<BoxFuture<'_, ToolResult>> = FuturesUnordered::new();
        let mut timer = EngineTimer::new();
        loop {
            // The drain invariant: after every input, carry out every action.
            while let Some(action) = self.engine.poll_action() {
                match action {
                    Action::Call(command) => self.send_call(command).await,
                    Action::Agent(command) => self.send_agent(command).await,
                    Action::RunTool(call) => {
                        running.push(Box::pin(run_tool(tools, call, self.tool_timeout)));
                    }
                    Action::End(outcome) => {
                        // The engine logged the end ("call ended"); this is its echo.
                        tracing::debug!(ended_by = %outcome.ended_by, "bridge finished");
                        let mut report = self.engine.into_report();
                        report.agent_sessions = self.agent.sessions();
                        return report;
                    }
                }
            }
            timer.arm(self.engine.poll_timeout());
            tokio::select! {
                event = self.call.recv(), if self.call_leg.recv => self.on_call(event),
                event = self.agent.recv(), if self.agent_leg.recv => self.on_agent(event),
                Some(result) = running.next(), if !running.is_empty() => {
                    self.engine.handle_tool_result(now(), result);
                }
                () = timer.fired() => self.engine.handle_timeout(now()),
                why = shutdown_signal(&mut self.shutdown) => {
                    self.shutdown = None;
                    self.engine.shut_down(now(), &why);
                }
            }
        }
    }

    fn on_call(&mut self, event: Result<CallEvent, LegError>) {
        on_call_event(
            &mut self.engine,
            &mut self.call_leg,
            &mut self.observer,
            event,
        );
        self.record_ids();
    }

    fn on_agent(&mut self, event: Result<AgentEvent, LegError>) {
        on_agent_event(
            &mut self.engine,
            &mut self.agent_leg,
            &mut self.observer,
            event,
        );
    }

    /// Puts the call's ids on the span once the call leg has announced them (unless the
    /// leg knew them before the call, see `run`).
    fn record_ids(&mut self) {
        if self.ids_recorded {
            return;
        }
        if let Some((call_id, stream_id)) = self.engine.call_ids() {
            record_ids(&self.span, call_id, stream_id);
            self.ids_recorded = true;
        }
    }

    /// Sends to the call leg, listening to the agent meanwhile. Last commands get the
    /// close bound; once the call is over, ordinary commands are skipped.
    async fn send_call(&mut self, command: CallCommand) {
        if !self.call_leg.send {
            return;
        }
        let last = matches!(command, CallCommand::HangUp | CallCommand::HandOver(_));
        if !last && self.engine.is_ended() {
            return;
        }
        let bound = if last { self.close_timeout } else { SEND_BOUND };
        self.observer.observe(Observed::CallCommand(&command));
        let result = {
            let mut send = self.call.send(command);
            // Most sends finish at once (there is room in the socket's buffer): then no timer
            // and no read of the other leg is set up for them.
            if let Some(result) = send.as_mut().now_or_never() {
                Some(Ok(result))
            } else {
                let send = tokio::time::timeout(bound, send);
                tokio::pin!(send);
                loop {
                    tokio::select! {
                        result = &mut send => break Some(result),
                        event = self.agent.recv(), if self.agent_leg.recv && !last => {
                            on_agent_event(&mut self.engine, &mut self.agent_leg, &mut self.observer, event);
                            if self.engine.is_ended() {
                                break None;
                            }
                        }
                    }
                }
            }
        };
        if last {
            self.call_leg = LegState::GONE;
        }
        match result {
            None | Some(Ok(Ok(()))) => {}
            Some(Ok(Err(error))) => self.call_send_failed(&error, last),
            Some(Err(_elapsed)) => {
                let error = LegError::new(format!("call leg send took over {bound:?}"));
                self.call_send_failed(&error, last);
            }
        }
    }

    fn call_send_failed(&mut self, error: &LegError, last: bool) {
        self.call_leg = LegState::GONE;
        if last {
            // The call is over: the report's errors carry it (and the engine logs it).
            let message = format!("call leg: last command failed: {}", LegEnd::from(error));
            self.engine
                .record_last_command_failure(now(), Side::Call, message);
        } else {
            tracing::warn!(%error, "call leg send failed");
            let event = CallEvent::Ended(LegEnd::from(error));
            self.observer.observe(Observed::CallEvent(&event));
            self.engine.handle_call(now(), event);
        }
    }

    /// Sends to the agent leg, listening to the call meanwhile (a caller hanging up while
    /// the agent's socket is slow still closes the agent within the bound).
    ///
    /// Caller audio the engine forwarded before the call ended still goes out ahead of the
    /// agent's `Close` (the service hears every frame the caller sent before `stop`); once
    /// the call has ended, that audio and the `Close` share one close bound.
    async fn send_agent(&mut self, command: AgentCommand) {
        if !self.agent_leg.send {
            return;
        }
        let last = matches!(command, AgentCommand::Close);
        let audio = matches!(command, AgentCommand::Audio(_));
        if !last && !audio && self.engine.is_ended() {
            return;
        }
        let bound = if last || self.engine.is_ended() {
            closing_bound(&mut self.agent_closing_by, self.close_timeout)
        } else {
            SEND_BOUND
        };
        self.observer.observe(Observed::AgentCommand(&command));
        let result = {
            let mut send = self.agent.send(command);
            // As for the call leg: a send that finishes at once needs no timer.
            if let Some(result) = send.as_mut().now_or_never() {
                Some(Ok(result))
            } else {
                let send = tokio::time::timeout(bound, send);
                tokio::pin!(send);
                loop {
                    tokio::select! {
                        result = &mut send => break Some(result),
                        event = self.call.recv(), if self.call_leg.recv && !last => {
                            on_call_event(&mut self.engine, &mut self.call_leg, &mut self.observer, event);
                            if self.engine.is_ended() {
                                if !audio {
                                    break None;
                                }
                                // This frame came before the end: finish it within the bound.
                                let bound = closing_bound(&mut self.agent_closing_by, self.close_timeout);
                                break Some(tokio::time::timeout(bound, &mut send).await.unwrap_or_else(Err));
                            }
                        }
                    }
                }
            }
        };
        if last {
            self.agent_leg = LegState::GONE;
        }
        match result {
            Some(Ok(Ok(()))) if last => {
                if let Some(usage) = self.agent.final_usage() {
                    self.engine.record_final_usage(usage);
                }
            }
            None | Some(Ok(Ok(()))) => {}
            Some(Ok(Err(error))) => self.agent_send_failed(&error, last),
            Some(Err(_elapsed)) => {
                let error = LegError::new(format!("agent leg send took over {bound:?}"));
                self.agent_send_failed(&error, last);
            }
        }
    }

    fn agent_send_failed(&mut self, error: &LegError, last: bool) {
        self.agent_leg = LegState::GONE;
        if last {
            // The call is over: the report's errors carry it (and the engine logs it).
            let message = format!("agent leg: last command failed: {}", LegEnd::from(error));
            self.engine
                .record_last_command_failure(now(), Side::Agent, message);
        } else {
            tracing::warn!(%error, "agent leg send failed");
            let event = AgentEvent::Ended(LegEnd::from(error));
            self.observer.observe(Observed::AgentEvent(&event));
            self.engine.handle_agent(now(), event);
        }
    }
}

/// What is left of the agent leg's close bound, which starts when it is first asked for
/// (the engine has ended, or the agent is being closed): the caller audio still going out
/// and the `Close` together get at most `close_timeout`.
fn closing_bound(closing_by: &mut Option<Instant>, close_timeout: Duration) -> Duration {
    let deadline = *closing_by.get_or_insert_with(|| Instant::now() + close_timeout);
    deadline.saturating_duration_since(Instant::now())
}

/// Puts the call's ids on its span.
fn record_ids(span: &tracing::Span, call_id: &CallId, stream_id: &StreamId) {
    span.record("call_id", tracing::field::display(call_id));
    span.record("stream_id", tracing::field::display(stream_id));
}

/// An event from the call leg (also while a send to the agent is pending).
fn on_call_event(
    engine: &mut Engine,
    leg: &mut LegState,
    observer: &mut impl BridgeObserver,
    event: Result<CallEvent, LegError>,
) {
    let event = event.unwrap_or_else(|error| {
        tracing::warn!(%error, "call leg failed");
        *leg = LegState::GONE;
        CallEvent::Ended(LegEnd::from(&error))
    });
    if matches!(event, CallEvent::Ended(_)) {
        leg.recv = false;
    }
    observer.observe(Observed::CallEvent(&event));
    engine.handle_call(now(), event);
}

/// An event from the agent leg (also while a send to the call is pending).
fn on_agent_event(
    engine: &mut Engine,
    leg: &mut LegState,
    observer: &mut impl BridgeObserver,
    event: Result<AgentEvent, LegError>,
) {
    let event = event.unwrap_or_else(|error| {
        tracing::warn!(%error, "agent leg failed");
        *leg = LegState::GONE;
        AgentEvent::Ended(LegEnd::from(&error))
    });
    if matches!(event, AgentEvent::Ended(_)) {
        leg.recv = false;
    }
    observer.observe(Observed::AgentEvent(&event));
    engine.handle_agent(now(), event);
}

/// Runs one tool call under the timeout; a failure, a panic or a late answer becomes an
/// error outcome, never a hung call.
async fn run_tool(handler: &dyn ToolHandler, call: ToolCall, limit: Duration) -> ToolResult {
    let call_id = call.call_id.clone();
    let name = call.name.clone();
    let work = AssertUnwindSafe(handler.call(call)).catch_unwind();
    let outcome = match tokio::time::timeout(limit, work).await {
        Ok(Ok(Ok(reply))) => ToolOutcome::Reply(reply),
        Ok(Ok(Err(error))) => ToolOutcome::Failed(error.to_string()),
        Ok(Err(_panic)) => {
            tracing::error!(tool = %name, "tool handler panicked");
            ToolOutcome::Failed("the tool failed unexpectedly".into())
        }
        Err(_elapsed) => ToolOutcome::TimedOut,
    };
    ToolResult { call_id, outcome }
}
