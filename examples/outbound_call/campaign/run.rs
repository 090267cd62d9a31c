//! The campaign runner: serves the bot, resumes what a previous run left, places the
//! calls that are due (paced, at most N in flight, inside calling hours), and moves each
//! appointment through its states as Twilio's callbacks and look-ups say.
//!
//! A call whose fate is unknown (its row says `dialing` or `in_call` with a CallSid) is
//! looked up with `GET .../Calls/{CallSid}.json`, never dialled again blindly. A row in
//! `dialing` without a CallSid is one whose create request never returned (the crash came
//! between writing `dialing` and Twilio's answer): Twilio may have created the call all the
//! same, so the calls to that number since the request went out are listed
//! (`GET .../Calls.json?To=…&From=…`); the one found is followed, and the call is placed
//! again only when Twilio has none.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::time::Instant;
use twilio_media_stream::callback::CallStatus;
use twilio_media_stream::ids::CallSid;
use twilio_media_stream::rest::{self, Call, ListCalls};

use super::lookup;
use super::state::{self, CallingHours, RetryPolicy, State};
use super::store::{Row, Store};
use twilio_media_stream::context::SigningSecret;

use crate::config::{Config, PublicUrl};
use crate::outbound::{self, PlaceError};
use crate::output::CallOutcome;
use crate::server::BotEvent;

/// The environment variable that sets the campaign's clock, for tests only: an RFC 3339
/// instant (`2026-03-03T01:00:00Z`) the clock starts at, running at real speed from there.
pub const TEST_NOW_ENV: &str = "OUTBOUND_CALL_TEST_NOW";

/// The campaign's wall clock: the system's, or shifted for tests ([`TEST_NOW_ENV`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Clock {
    offset_ms: i64,
}

impl Clock {
    /// The system clock shifted so that it reads `now` at this moment.
    pub fn starting_at(now: Timestamp) -> Self {
        Self {
            offset_ms: now.as_millisecond() - Timestamp::now().as_millisecond(),
        }
    }

    /// From [`TEST_NOW_ENV`] when set, else the system clock.
    ///
    /// # Errors
    ///
    /// The variable is set but is not an RFC 3339 instant.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var(TEST_NOW_ENV) {
            Ok(text) => text
                .parse::<Timestamp>()
                .map(Self::starting_at)
                .map_err(|err| format!("{TEST_NOW_ENV}={text:?} is not an instant: {err}")),
            Err(_) => Ok(Self::default()),
        }
    }

    /// Now.
    pub fn now(&self) -> Timestamp {
        Timestamp::from_millisecond(Timestamp::now().as_millisecond() + self.offset_ms)
            .unwrap_or_else(|_| Timestamp::now())
    }

    /// Now, unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }

    /// Now, unix seconds.
    pub fn now_secs(&self) -> u64 {
        self.now().as_second().max(0) as u64
    }
}

/// How the campaign runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Calls placed per second at most, across restarts.
    pub calls_per_second: f64,
    /// Calls in flight at most.
    pub max_in_flight: usize,
    /// Retries of busy, unanswered and failed calls.
    pub retry: RetryPolicy,
    /// When calls may go out, in the callee's local time.
    pub hours: CallingHours,
    /// The zone of appointments without one.
    pub default_zone: TimeZone,
    /// The wall clock.
    pub clock: Clock,
    /// How long a call in flight may go without news before Twilio is asked about it.
    pub poll: Duration,
}

/// What a run ended with.
#[derive(Debug, Default)]
pub struct Summary {
    /// Calls placed by this run.
    pub placed: usize,
    /// Calls of a previous run looked up on Twilio.
    pub looked_up: usize,
}

const LAST_PLACED: &str = "last_placed_ms";

/// A call in flight.
#[derive(Debug)]
struct Flight {
    id: String,
    check_at: Instant,
}

/// Runs the campaign in `store` until every appointment is final: serves on `listener`.
///
/// # Errors
///
/// The bot cannot be built, the configuration cannot place calls, or the store fails
/// (then the run stops: nothing is dialled without its row written first).
pub async fn run(
    config: &Config,
    listener: TcpListener,
    store: Store,
    settings: Settings,
) -> Result<Summary, String> {
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
        let _ = stopped.await;
    }));
    let mut runner = Runner {
        store,
        settings,
        client,
        public,
        secret,
        from,
        flights: HashMap::new(),
        summary: Summary::default(),
        output: bot.output.clone(),
    };
    let result = runner.drive(&mut events).await;
    let _ = stop.send(());
    crate::server::join(server).await;
    result.map(|()| runner.summary)
}

struct Runner {
    store: Store,
    settings: Settings,
    client: rest::Client,
    public: PublicUrl,
    secret: SigningSecret,
    from: String,
    flights: HashMap<String, Flight>,
    summary: Summary,
    output: crate::output::Output,
}

impl Runner {
    fn pace(&self) -> i64 {
        let cps = self.settings.calls_per_second;
        if cps.is_finite() && cps > 0.0 {
            (1000.0 / cps).ceil() as i64
        } else {
            0
        }
    }

    async fn drive(&mut self, events: &mut broadcast::Receiver<BotEvent>) -> Result<(), String> {
        self.resume().await?;
        loop {
            let rows = self.store.rows().map_err(|e| e.to_string())?;
            let open: Vec<&Row> = rows.iter().filter(|r| !r.state.is_final()).collect();
            if open.is_empty() && self.flights.is_empty() {
                tracing::info!(db = %self.store.path().display(), "campaign finished: every appointment is final");
                return Ok(());
            }
            let now = self.settings.clock.now();
            let now_ms = now.as_millisecond();
            // The earliest pending row that may be dialled, and when.
            let due = rows
                .iter()
                .filter(|r| r.state == State::Pending)
                .map(|r| (self.due_ms(r, now), r))
                .min_by_key(|(at, _)| *at);
            let last_placed: i64 = self
                .store
                .meta(LAST_PLACED)
                .map_err(|e| e.to_string())?
                .and_then(|v| v.parse().ok())
                .unwrap_or(i64::MIN / 2);
            let paced_ms = last_placed + self.pace();
            let room = self.flights.len() < self.settings.max_in_flight.max(1);
            let dial_at_ms = match due {
                Some((at, _)) if room => Some(at.max(paced_ms)),
                _ => None,
            };
            if let (Some(at), Some((_, row))) = (dial_at_ms, due) {
                if at <= now_ms {
                    let row = row.clone();
                    self.dial(&row).await?;
                    continue;
                }
            }
            let dial_sleep = dial_at_ms.map(|at| {
                Instant::now() + Duration::from_millis((at - now_ms).clamp(0, 3_600_000) as u64)
            });
            let check = self.flights.values().map(|f| f.check_at).min();
            tokio::select! {
                () = sleep_until(dial_sleep) => {}
                () = sleep_until(check) => self.check_flights().await?,
                event = events.recv() => match event {
                    Ok(event) => self.on_event(event)?,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("missed {n} call events: the calls in flight will be looked up");
                        for flight in self.flights.values_mut() {
                            flight.check_at = Instant::now();
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return Err("the bot's events ended".to_owned()),
                },
            }
        }
    }

    /// When `row` may be dialled: its backoff and the callee's calling hours.
    fn due_ms(&self, row: &Row, now: Timestamp) -> i64 {
        let zone = row
            .time_zone
            .as_deref()
            .and_then(|name| TimeZone::get(name).ok())
            .unwrap_or_else(|| self.settings.default_zone.clone());
        let after_backoff = Timestamp::from_second(row.next_attempt_at as i64)
            .unwrap_or(now)
            .max(now);
        self.settings
            .hours
            .next_open(after_backoff, &zone)
            .as_millisecond()
    }

    /// Rows a previous run left with a call: looked up on Twilio (or placed again when no
    /// call was created).
    async fn resume(&mut self) -> Result<(), String> {
        let now = self.settings.clock.now_secs();
        for row in self.store.rows().map_err(|e| e.to_string())? {
            if !row.state.has_call() {
                continue;
            }
            match &row.call_sid {
                None => {
                    match self.created_by_last_run(&row).await? {
                        Some(call) => {
                            let status = call.status.clone().unwrap_or(CallStatus::Queued);
                            tracing::warn!(
                                appointment_id = %row.id,
                                attempt = row.attempts,
                                call_sid = %call.sid,
                                status = status.as_str(),
                                "the last run stopped while placing this call, before Twilio returned a CallSid; Twilio had created it: following it, not calling again"
                            );
                            self.store
                                .set_call_sid(&row.id, call.sid.as_str(), status.as_str(), now)
                                .map_err(|e| e.to_string())?;
                            self.summary.looked_up += 1;
                            self.flights.insert(
                                call.sid.to_string(),
                                Flight {
                                    id: row.id.clone(),
                                    check_at: Instant::now(),
                                },
                            );
                        }
                        None => {
                            tracing::warn!(
                                appointment_id = %row.id,
                                attempt = row.attempts,
                                to = %row.to,
                                "the last run stopped while placing this call, before Twilio returned a CallSid; Twilio has no call to this number since: placing it again"
                            );
                            self.store
                            .transition(
                                &row.id,
                                State::Pending,
                                0,
                                None,
                                Some("interrupted while placing the call; Twilio had not created it"),
                                now,
                            )
                            .map_err(|e| e.to_string())?;
                        }
                    }
                }
                Some(call_sid) => {
                    tracing::info!(appointment_id = %row.id, %call_sid, state = %row.state, "resuming: looking the call up on Twilio");
                    self.summary.looked_up += 1;
                    self.flights.insert(
                        call_sid.clone(),
                        Flight {
                            id: row.id.clone(),
                            check_at: Instant::now(),
                        },
                    );
                }
            }
        }
        self.check_flights().await
    }

    /// The call Twilio created for `row`'s attempt although the last run never heard its
    /// CallSid, or `None` when Twilio has none.
    ///
    /// # Errors
    ///
    /// Twilio cannot be asked: then nobody is called (placing it again could ring the
    /// callee twice), and the run stops saying so.
    async fn created_by_last_run(&self, row: &Row) -> Result<Option<Call>, String> {
        let filter = ListCalls::new()
            .to(row.to.as_str())
            .from(self.from.as_str())
            .page_size(20);
        let calls = self.client.list_calls(&filter).await.map_err(|err| {
            format!(
                "appointment {}: the last run stopped while placing its call, and Twilio \
                 cannot be asked whether it created it ({err}); nobody was called again: run \
                 batch again once Twilio answers",
                row.id
            )
        })?;
        // Rows of version 1 have no real dialling time: their last change is when
        // `dialing` was written.
        let since = row.dialed_at_ms.unwrap_or(row.updated_at as i64 * 1000);
        let mut taken = std::collections::HashSet::new();
        for call in &calls {
            if let Some(other) = self
                .store
                .by_call_sid(call.sid.as_str())
                .map_err(|e| e.to_string())?
                .filter(|other| other.id != row.id)
            {
                taken.insert(other.call_sid.unwrap_or_default());
            }
        }
        Ok(lookup::created_since(&calls, since, |sid| taken.contains(sid)).cloned())
    }

    async fn dial(&mut self, row: &Row) -> Result<(), String> {
        let clock = self.settings.clock;
        // Written before the request: a crash from here on leaves `dialing`.
        let attempt = self
            .store
            .start_dialing(&row.id, clock.now_secs(), real_now_ms())
            .map_err(|e| e.to_string())?;
        self.store
            .set_meta(LAST_PLACED, &clock.now_ms().to_string())
            .map_err(|e| e.to_string())?;
        self.summary.placed += 1;
        let placed = outbound::place(
            &self.client,
            &self.public,
            &self.secret,
            &self.from,
            &row.to,
            &row.appointment,
        )
        .await;
        match placed {
            Ok(call_sid) => {
                self.store
                    .set_call_sid(&row.id, call_sid.as_str(), "queued", clock.now_secs())
                    .map_err(|e| e.to_string())?;
                tracing::info!(%call_sid, to = %row.to, appointment_id = %row.id, attempt, "call placed");
                self.flights.insert(
                    call_sid.to_string(),
                    Flight {
                        id: row.id.clone(),
                        check_at: Instant::now() + self.settings.poll,
                    },
                );
            }
            Err(err) => {
                let message = err.to_string();
                tracing::error!(to = %row.to, appointment_id = %row.id, attempt, "{message}");
                let outcome = CallOutcome::without_stream("", &row.id, "call_failed", &message);
                if let Err(write) = self.output.append(&outcome) {
                    tracing::error!(appointment_id = %row.id, "cannot write the outcome: {write}");
                }
                // Twilio's refusal is final (a bad number stays bad); a request that failed
                // on the way may be retried like an unanswered call.
                let next = match err {
                    PlaceError::Rest(rest::Error::Api(_)) | PlaceError::Context(_) => {
                        state::Transition {
                            state: State::Failed,
                            next_attempt_at: 0,
                        }
                    }
                    PlaceError::Rest(_) => state::on_status(
                        &CallStatus::Failed,
                        attempt,
                        clock.now_secs(),
                        &self.settings.retry,
                    )
                    .unwrap_or(state::Transition {
                        state: State::Failed,
                        next_attempt_at: 0,
                    }),
                };
                self.store
                    .transition(
                        &row.id,
                        next.state,
                        next.next_attempt_at,
                        None,
                        Some(&message),
                        clock.now_secs(),
                    )
                    .map_err(|e| e.to_string())?;
                self.store
                    .record_outcome(&row.id, "call_failed", None, clock.now_secs())
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// Applies Twilio's `status` for `call_sid` to its appointment.
    fn apply_status(&mut self, call_sid: &str, status: &CallStatus) -> Result<(), String> {
        let Some(flight) = self.flights.get(call_sid) else {
            return Ok(());
        };
        let id = flight.id.clone();
        let now = self.settings.clock.now_secs();
        let row = self.store.row(&id).map_err(|e| e.to_string())?;
        if row.call_sid.as_deref() != Some(call_sid) || row.state.is_final() {
            self.flights.remove(call_sid);
            return Ok(());
        }
        let next = state::on_status(status, row.attempts, now, &self.settings.retry);
        tracing::info!(
            appointment_id = %id,
            %call_sid,
            status = status.as_str(),
            state = %next.map_or(row.state, |n| n.state),
            "campaign call status"
        );
        match next {
            Some(next) => {
                self.store
                    .transition(
                        &id,
                        next.state,
                        next.next_attempt_at,
                        Some(status.as_str()),
                        None,
                        now,
                    )
                    .map_err(|e| e.to_string())?;
                if next.state != State::InCall {
                    tracing::info!(appointment_id = %id, %call_sid, status = status.as_str(), state = %next.state, attempt = row.attempts, "call ended");
                    self.flights.remove(call_sid);
                }
            }
            None => {
                self.store
                    .transition(
                        &id,
                        row.state,
                        row.next_attempt_at,
                        Some(status.as_str()),
                        None,
                        now,
                    )
                    .map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    fn on_event(&mut self, event: BotEvent) -> Result<(), String> {
        match event {
            BotEvent::Status { call_sid, status } => {
                if let Some(flight) = self.flights.get_mut(&call_sid) {
                    flight.check_at = Instant::now() + self.settings.poll;
                }
                self.apply_status(&call_sid, &status)
            }
            BotEvent::Outcome(outcome) => {
                let Some(row) = self
                    .store
                    .by_call_sid(&outcome.call_sid)
                    .map_err(|e| e.to_string())?
                else {
                    return Ok(());
                };
                let folder = outcome.folder.as_ref().map(|f| f.display().to_string());
                self.store
                    .record_outcome(
                        &row.id,
                        &outcome.outcome,
                        folder.as_deref(),
                        self.settings.clock.now_secs(),
                    )
                    .map_err(|e| e.to_string())?;
                tracing::info!(
                    appointment_id = %row.id,
                    call_sid = %outcome.call_sid,
                    outcome = %outcome.outcome,
                    "campaign outcome recorded"
                );
                if let Some(flight) = self.flights.get_mut(&outcome.call_sid) {
                    // The stream ended: the final callback should follow soon.
                    flight.check_at = Instant::now() + self.settings.poll;
                }
                Ok(())
            }
        }
    }

    /// Asks Twilio about every call in flight whose news is late.
    async fn check_flights(&mut self) -> Result<(), String> {
        let now = Instant::now();
        let late: Vec<String> = self
            .flights
            .iter()
            .filter(|(_, f)| f.check_at <= now)
            .map(|(sid, _)| sid.clone())
            .collect();
        for call_sid in late {
            let Some(id) = self.flights.get(&call_sid).map(|f| f.id.clone()) else {
                continue;
            };
            match self
                .client
                .fetch_call(&CallSid::new(call_sid.as_str()))
                .await
            {
                Ok(call) => {
                    let status = call.status.unwrap_or(CallStatus::Queued);
                    tracing::info!(appointment_id = %id, %call_sid, status = status.as_str(), "call looked up on Twilio");
                    if let Some(flight) = self.flights.get_mut(&call_sid) {
                        flight.check_at = Instant::now() + self.settings.poll;
                    }
                    self.apply_status(&call_sid, &status)?;
                }
                Err(rest::Error::Api(api)) if api.status() == 404 => {
                    // Twilio has no such call: nothing was placed, so nobody was reached.
                    tracing::warn!(appointment_id = %id, %call_sid, "Twilio knows no such call: placing it again");
                    self.flights.remove(&call_sid);
                    let now = self.settings.clock.now_secs();
                    self.store
                        .transition(
                            &id,
                            State::Pending,
                            0,
                            None,
                            Some("Twilio knows no such call"),
                            now,
                        )
                        .map_err(|e| e.to_string())?;
                }
                Err(err) => {
                    tracing::warn!(appointment_id = %id, %call_sid, "cannot look the call up on Twilio, will ask again: {err}");
                    if let Some(flight) = self.flights.get_mut(&call_sid) {
                        flight.check_at = Instant::now() + self.settings.poll;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Now on the machine's real clock (never the test clock), unix milliseconds: what
/// Twilio's `date_created` is compared with.
fn real_now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
