//! The campaign's state machine, without IO: which transitions are allowed, what a call's
//! final status means for its appointment, the backoff between attempts, and when calling
//! hours let a call go out. Time is always passed in (unix seconds or a
//! [`jiff::Timestamp`]), so the runner's clock can be a test's.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use twilio_media_stream::callback::CallStatus;

/// Where an appointment is in its campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Waiting for its (next) call: never called, or a retry after busy / no answer.
    Pending,
    /// A call is being placed: written before the REST request, with the CallSid once
    /// Twilio returns it.
    Dialing,
    /// Twilio said the call was answered (`in-progress`).
    InCall,
    /// Reached: a person answered (whatever they decided) or a voicemail was left.
    Done,
    /// Twilio refused to place the call (a bad number, a blocked route), or it was
    /// cancelled: not retried.
    Failed,
    /// Busy, no answer or failed on every attempt allowed.
    GaveUp,
}

impl State {
    /// Every state, in the order `campaign status` prints them.
    pub const ALL: [Self; 6] = [
        Self::Pending,
        Self::Dialing,
        Self::InCall,
        Self::Done,
        Self::Failed,
        Self::GaveUp,
    ];

    /// The name in the store and in the command's output.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Dialing => "dialing",
            Self::InCall => "in_call",
            Self::Done => "done",
            Self::Failed => "failed",
            Self::GaveUp => "gave_up",
        }
    }

    /// The state of a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether nothing more happens to the appointment.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed | Self::GaveUp)
    }

    /// Whether a call may exist for it right now (its fate is unknown after a crash).
    pub fn has_call(self) -> bool {
        matches!(self, Self::Dialing | Self::InCall)
    }

    /// Whether `self -> to` is a transition of the campaign.
    pub fn may_become(self, to: Self) -> bool {
        use State::{Dialing, Done, Failed, GaveUp, InCall, Pending};
        match (self, to) {
            (Pending, Dialing) => true,
            // Dialing -> Pending: the create request was refused before a call existed
            // (kept for a retry), or a crash left no CallSid and no call was made.
            (Dialing, InCall | Done | Failed | GaveUp | Pending) => true,
            (InCall, Done | Failed | GaveUp | Pending) => true,
            _ => false,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How often and how far apart a call that did not reach anyone is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls at most per appointment (the first one included); at least 1.
    pub max_attempts: u32,
    /// The wait after the first unanswered attempt; doubled after each further one.
    pub backoff: Duration,
    /// The longest wait between two attempts.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            backoff: Duration::from_secs(600),
            max_backoff: Duration::from_secs(4 * 3600),
        }
    }
}

impl RetryPolicy {
    /// The wait after `attempts` calls that reached nobody: `backoff * 2^(attempts-1)`,
    /// at most `max_backoff`.
    pub fn wait_after(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(20);
        self.backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

/// What an appointment becomes when its call has a status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The new state.
    pub state: State,
    /// For [`State::Pending`]: unix seconds before which the next call waits.
    pub next_attempt_at: u64,
}

/// What Twilio's `status` for the appointment's current call means, after `attempts`
/// calls, at `now` (unix seconds). `None` while the call is not over and not answered
/// (queued, initiated, ringing).
pub fn on_status(
    status: &CallStatus,
    attempts: u32,
    now: u64,
    policy: &RetryPolicy,
) -> Option<Transition> {
    let to = |state| Transition {
        state,
        next_attempt_at: 0,
    };
    match status {
        CallStatus::InProgress => Some(to(State::InCall)),
        // Answered and ended: a person (whatever they said) or a machine that took the
        // voicemail. Never called again.
        CallStatus::Completed => Some(to(State::Done)),
        CallStatus::Busy | CallStatus::NoAnswer | CallStatus::Failed => {
            if attempts >= policy.max_attempts.max(1) {
                Some(to(State::GaveUp))
            } else {
                Some(Transition {
                    state: State::Pending,
                    next_attempt_at: now + policy.wait_after(attempts).as_secs(),
                })
            }
        }
        CallStatus::Canceled => Some(to(State::Failed)),
        _ => None,
    }
}

/// The daily window in which calls may go out, in the callee's local time
/// (`09:00-19:00`: from 09:00 to before 19:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallingHours {
    /// The first minute a call may start.
    pub start: Time,
    /// The end of the window (calls start before it).
    pub end: Time,
}

impl Default for CallingHours {
    fn default() -> Self {
        Self {
            start: Time::constant(9, 0, 0, 0),
            end: Time::constant(19, 0, 0, 0),
        }
    }
}

impl CallingHours {
    /// Reads `HH:MM-HH:MM` (start before end, both on the same day).
    ///
    /// # Errors
    ///
    /// The text is not two times with a `-`, or the window is empty.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (start, end) = text
            .split_once('-')
            .ok_or_else(|| format!("calling hours {text:?}: expected HH:MM-HH:MM"))?;
        let time = |part: &str| {
            Time::strptime("%H:%M", part.trim())
                .map_err(|err| format!("calling hours {text:?}: {part:?} is not HH:MM ({err})"))
        };
        let hours = Self {
            start: time(start)?,
            end: time(end)?,
        };
        if hours.start >= hours.end {
            return Err(format!(
                "calling hours {text:?}: the start must come before the end"
            ));
        }
        Ok(hours)
    }

    /// The first instant at or after `now` inside the window in `zone`: `now` itself
    /// when inside, else the window's next start (today's or tomorrow's, local time).
    pub fn next_open(&self, now: Timestamp, zone: &TimeZone) -> Timestamp {
        let local = now.to_zoned(zone.clone());
        let time = local.time();
        if time >= self.start && time < self.end {
            return now;
        }
        let mut date = local.date();
        if time >= self.end {
            date = date.tomorrow().unwrap_or(date);
        }
        date.to_datetime(self.start)
            .to_zoned(zone.clone())
            .map_or(now, |z| z.timestamp())
    }
}

impl fmt::Display for CallingHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start.hour(),
            self.start.minute(),
            self.end.hour(),
            self.end.minute()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_only_allowed_transitions_pass() {
        for state in State::ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
            if state.is_final() {
                assert!(
                    State::ALL.iter().all(|&to| !state.may_become(to)),
                    "{state}"
                );
            }
        }
        assert_eq!(State::parse("ringing"), None);
        assert!(State::Pending.may_become(State::Dialing));
        assert!(
            !State::Pending.may_become(State::Done),
            "nothing is done without a call"
        );
        assert!(!State::Pending.may_become(State::InCall));
        assert!(State::Dialing.may_become(State::InCall));
        assert!(State::InCall.may_become(State::Pending));
        assert!(!State::InCall.may_become(State::Dialing));
    }

    #[test]
    fn unanswered_calls_retry_with_doubling_backoff_then_give_up() {
        let policy = RetryPolicy {
            max_attempts: 3,
            backoff: Duration::from_secs(60),
            max_backoff: Duration::from_secs(100),
        };
        assert_eq!(policy.wait_after(1), Duration::from_secs(60));
        assert_eq!(policy.wait_after(2), Duration::from_secs(100), "capped");
        let first = on_status(&CallStatus::NoAnswer, 1, 1000, &policy).unwrap();
        assert_eq!(first.state, State::Pending);
        assert_eq!(first.next_attempt_at, 1060);
        let busy = on_status(&CallStatus::Busy, 2, 1000, &policy).unwrap();
        assert_eq!((busy.state, busy.next_attempt_at), (State::Pending, 1100));
        let last = on_status(&CallStatus::Failed, 3, 1000, &policy).unwrap();
        assert_eq!(last.state, State::GaveUp);
        let one = RetryPolicy {
            max_attempts: 0,
            ..policy
        };
        assert_eq!(
            on_status(&CallStatus::Busy, 1, 0, &one).unwrap().state,
            State::GaveUp,
            "0 attempts means 1"
        );
    }

    #[test]
    fn answered_calls_are_done_and_ringing_changes_nothing() {
        let policy = RetryPolicy::default();
        assert_eq!(
            on_status(&CallStatus::Completed, 1, 0, &policy)
                .unwrap()
                .state,
            State::Done
        );
        assert_eq!(
            on_status(&CallStatus::InProgress, 1, 0, &policy)
                .unwrap()
                .state,
            State::InCall
        );
        assert_eq!(
            on_status(&CallStatus::Canceled, 1, 0, &policy)
                .unwrap()
                .state,
            State::Failed
        );
        for status in [
            CallStatus::Queued,
            CallStatus::Initiated,
            CallStatus::Ringing,
        ] {
            assert_eq!(on_status(&status, 1, 0, &policy), None, "{status:?}");
        }
    }

    #[test]
    fn calling_hours_parse_and_refuse_empty_windows() {
        let hours = CallingHours::parse("08:30-17:45").unwrap();
        assert_eq!(hours.to_string(), "08:30-17:45");
        assert_eq!(CallingHours::default().to_string(), "09:00-19:00");
        for bad in ["9-17", "19:00-09:00", "10:00-10:00", "25:00-26:00", "09:00"] {
            assert!(CallingHours::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn outside_the_window_a_call_waits_for_the_next_local_start() {
        let hours = CallingHours::default();
        let new_york = TimeZone::get("America/New_York").unwrap();
        // 2026-03-02 23:30 UTC is 18:30 in New York (EST): inside.
        let inside: Timestamp = "2026-03-02T23:30:00Z".parse().unwrap();
        assert_eq!(hours.next_open(inside, &new_york), inside);
        // 2026-03-03 01:00 UTC is 20:00 the day before in New York: tomorrow 09:00 EST.
        let evening: Timestamp = "2026-03-03T01:00:00Z".parse().unwrap();
        assert_eq!(
            hours.next_open(evening, &new_york).to_string(),
            "2026-03-03T14:00:00Z"
        );
        // 06:00 in New York: today 09:00.
        let early: Timestamp = "2026-03-03T11:00:00Z".parse().unwrap();
        assert_eq!(
            hours.next_open(early, &new_york).to_string(),
            "2026-03-03T14:00:00Z"
        );
        // The day DST starts (March 8, 2026): 09:00 is EDT, 13:00 UTC.
        let dst: Timestamp = "2026-03-08T05:00:00Z".parse().unwrap();
        assert_eq!(
            hours.next_open(dst, &new_york).to_string(),
            "2026-03-08T13:00:00Z"
        );
        // The same instant is 10:00 in Tokyo: inside.
        let tokyo = TimeZone::get("Asia/Tokyo").unwrap();
        assert_eq!(hours.next_open(evening, &tokyo), evening);
    }
}
