//! `call` and `batch`: serve, place the calls, and wait until each one has its outcome.
//!
//! The waiting is only the command's: the server keeps nothing about a call (its stream
//! and webhooks carry their own context), so another instance could serve them as well.
//! A call is done at its final status callback; or a short while after its stream ended
//! (the final callback may not reach us); or when Twilio says nothing for too long before
//! it is answered.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::time::Instant;

use crate::appointment::Appointment;
use crate::config::Config;
use crate::outbound;
use crate::output::CallOutcome;
use crate::server::BotEvent;

/// How long the commands wait.
#[derive(Debug, Clone, Copy)]
pub struct Waits {
    /// From placing a call to its answer (ringing included), at most.
    pub unanswered: Duration,
    /// After a call's stream ended, for its final status callback.
    pub after_stream: Duration,
}

impl Default for Waits {
    fn default() -> Self {
        Self {
            unanswered: Duration::from_secs(120),
            after_stream: Duration::from_secs(10),
        }
    }
}

/// What a command learnt about its calls.
#[derive(Debug, Default)]
pub struct Results {
    /// Every outcome line recorded for the command's calls, in order.
    pub outcomes: Vec<CallOutcome>,
    /// Calls that gave no news in time.
    pub silent: Vec<String>,
}

impl Results {
    /// Whether every call reached a decision (confirmed, rescheduled, cancelled, voicemail).
    pub fn all_reached(&self, calls: usize) -> bool {
        let reached = self.outcomes.iter().filter(|o| o.reached()).count();
        self.silent.is_empty() && reached >= calls && calls > 0
    }
}

/// Runs `call`: serves on `listener`, places one call to `to`, waits for its outcome.
///
/// # Errors
///
/// The bot cannot be built, or Twilio refused the call (the message carries Twilio's
/// error code).
pub async fn call(
    config: &Config,
    listener: TcpListener,
    appointment: Appointment,
    to: &str,
    waits: Waits,
) -> Result<Results, String> {
    batch(
        config,
        listener,
        vec![(appointment, to.to_owned())],
        f64::INFINITY,
        waits,
    )
    .await
    .and_then(|(results, mut errors)| match errors.pop() {
        Some(error) => Err(error),
        None => Ok(results),
    })
}

/// Runs `batch`: serves on `listener`, places the calls at most `calls_per_second`,
/// and waits for every outcome. Calls Twilio refused are outcomes too (`call_failed`);
/// their messages come back as the second value.
///
/// # Errors
///
/// The bot cannot be built.
pub async fn batch(
    config: &Config,
    listener: TcpListener,
    calls: Vec<(Appointment, String)>,
    calls_per_second: f64,
    waits: Waits,
) -> Result<(Results, Vec<String>), String> {
    let bot = Arc::new(crate::serve::bot(config, true)?);
    let (Some(client), Some(public), Some(secret), Some(from)) = (
        bot.rest.clone(),
        config.public_url.clone(),
        config.context_secret.clone(),
        config.twilio.as_ref().and_then(|t| t.from_number.clone()),
    ) else {
        return Err(
            "placing calls needs the Twilio credentials, TWILIO_FROM_NUMBER and PUBLIC_URL"
                .to_owned(),
        );
    };
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    crate::serve::announce(config, &bot, addr);
    let mut events = bot.events.subscribe();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(crate::server::serve(listener, Arc::clone(&bot), async {
        // A dropped sender means stop as well.
        let _ = stopped.await;
    }));

    let pace = if calls_per_second.is_finite() && calls_per_second > 0.0 {
        Duration::from_secs_f64(1.0 / calls_per_second)
    } else {
        Duration::ZERO
    };
    let mut tracker = Tracker::new(waits);
    let mut errors = Vec::new();
    let mut queue = calls.into_iter();
    let mut next_call = Some(Instant::now());
    loop {
        if next_call.is_none() && tracker.all_done() {
            break;
        }
        let deadline = tracker.next_deadline();
        tokio::select! {
            () = sleep_until(next_call) => {
                match queue.next() {
                    Some((appointment, to)) => {
                        match outbound::place(&client, &public, &secret, &from, &to, &appointment).await {
                            Ok(call_sid) => {
                                tracing::info!(%call_sid, %to, appointment_id = %appointment.id, "call placed");
                                tracker.placed(call_sid.to_string());
                            }
                            Err(err) => {
                                let message = err.to_string();
                                tracing::error!(%to, appointment_id = %appointment.id, "{message}");
                                let outcome = CallOutcome::without_stream("", &appointment.id, "call_failed", &message);
                                if let Err(write) = bot.output.append(&outcome) {
                                    tracing::error!(appointment_id = %appointment.id, "cannot write the outcome: {write}");
                                }
                                tracker.results.outcomes.push(outcome);
                                errors.push(message);
                            }
                        }
                        next_call = Some(Instant::now() + pace);
                    }
                    None => next_call = None,
                }
            }
            event = events.recv() => match event {
                Ok(event) => tracker.on_event(event),
                Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!("missed {n} call events"),
                Err(broadcast::error::RecvError::Closed) => break,
            },
            () = sleep_until(deadline) => tracker.expire(Instant::now()),
        }
    }
    // Fails only when the server already stopped; `join` reports why it did.
    let _ = stop.send(());
    crate::server::join(server).await;
    Ok((tracker.results, errors))
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Per-call waiting.
#[derive(Debug)]
struct Tracker {
    waits: Waits,
    calls: HashMap<String, Waiting>,
    results: Results,
}

#[derive(Debug)]
struct Waiting {
    /// When to stop waiting; `None` while the call is in progress.
    deadline: Option<Instant>,
    done: bool,
}

impl Tracker {
    fn new(waits: Waits) -> Self {
        Self {
            waits,
            calls: HashMap::new(),
            results: Results::default(),
        }
    }

    fn placed(&mut self, call_sid: String) {
        self.calls.insert(
            call_sid,
            Waiting {
                deadline: Some(Instant::now() + self.waits.unanswered),
                done: false,
            },
        );
    }

    fn on_event(&mut self, event: BotEvent) {
        let now = Instant::now();
        match event {
            BotEvent::Outcome(outcome) => {
                let Some(call) = self.calls.get_mut(&outcome.call_sid) else {
                    return;
                };
                if outcome.stream_sid.is_some() || outcome.outcome == "not_answered" {
                    call.deadline = Some(now + self.waits.after_stream);
                }
                self.results.outcomes.push(outcome);
            }
            BotEvent::Status { call_sid, status } => {
                let Some(call) = self.calls.get_mut(&call_sid) else {
                    return;
                };
                if status.is_final() {
                    call.done = true;
                } else if status == twilio_media_stream::callback::CallStatus::InProgress {
                    call.deadline = None;
                }
            }
        }
    }

    fn expire(&mut self, now: Instant) {
        for (call_sid, call) in &mut self.calls {
            if !call.done && call.deadline.is_some_and(|d| d <= now) {
                call.done = true;
                let heard = self
                    .results
                    .outcomes
                    .iter()
                    .any(|o| &o.call_sid == call_sid);
                if !heard {
                    tracing::warn!(
                        %call_sid,
                        "no news of the call from Twilio: check that PUBLIC_URL reaches this \
                         server (status callbacks and the stream go there)"
                    );
                    self.results.silent.push(call_sid.clone());
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.calls
            .values()
            .filter(|c| !c.done)
            .filter_map(|c| c.deadline)
            .min()
    }

    fn all_done(&self) -> bool {
        self.calls.values().all(|c| c.done)
    }
}

/// The outcome lines of `results`, for printing.
pub fn lines(results: &Results) -> Vec<String> {
    results
        .outcomes
        .iter()
        .map(|o| serde_json::to_string(o).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use twilio_media_stream::callback::CallStatus;

    #[tokio::test(start_paused = true)]
    async fn a_call_is_done_at_its_final_status_or_after_its_stream() {
        let waits = Waits {
            unanswered: Duration::from_secs(60),
            after_stream: Duration::from_secs(5),
        };
        let mut tracker = Tracker::new(waits);
        tracker.placed("CA1".into());
        tracker.placed("CA2".into());
        tracker.on_event(BotEvent::Status {
            call_sid: "CA1".into(),
            status: CallStatus::InProgress,
        });
        // CA1 is in progress: no deadline; CA2 rings.
        assert_eq!(
            tracker.next_deadline(),
            Some(Instant::now() + Duration::from_secs(60))
        );
        let mut outcome = CallOutcome::without_stream("CA1", "apt", "confirmed", "done");
        outcome.stream_sid = Some("MZ1".into());
        tracker.on_event(BotEvent::Outcome(outcome));
        assert_eq!(
            tracker.next_deadline(),
            Some(Instant::now() + Duration::from_secs(5))
        );
        tracker.on_event(BotEvent::Status {
            call_sid: "CA2".into(),
            status: CallStatus::NoAnswer,
        });
        tokio::time::advance(Duration::from_secs(5)).await;
        tracker.expire(Instant::now());
        assert!(tracker.all_done());
        assert!(tracker.results.silent.is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn silence_from_twilio_is_reported() {
        let mut tracker = Tracker::new(Waits::default());
        tracker.placed("CA9".into());
        tokio::time::advance(Waits::default().unanswered).await;
        tracker.expire(Instant::now());
        assert!(tracker.all_done());
        assert_eq!(tracker.results.silent, ["CA9"]);
    }
}
