//! Which of Twilio's calls is the one a stopped run was placing (pure, no IO).
//!
//! A run that stops after writing `dialing` but before Twilio answers the create request
//! cannot know whether the call exists: Twilio may have created it (the callee's phone
//! may be ringing) and only the answer was lost. On restart the runner lists the calls to
//! the appointment's number from the campaign's number and asks [`created_since`] which
//! one, if any, is that attempt's: it follows that call instead of ringing the callee a
//! second time, and places the call again only when Twilio has none.

use jiff::Timestamp;
use jiff::fmt::rfc2822::DateTimeParser;
use twilio_media_stream::rest::Call;

/// How far Twilio's clock may be behind ours when comparing its `date_created` with the
/// time the request went out. Small next to the retry backoff (minutes), so an earlier
/// attempt's call is not mistaken for this one.
pub const CLOCK_SKEW_MS: i64 = 30_000;

static RFC2822: DateTimeParser = DateTimeParser::new();

/// Twilio's `date_created` ("Tue, 24 Nov 2026 17:40:00 +0000") as unix milliseconds.
pub fn date_created_ms(call: &Call) -> Option<i64> {
    let text = call.date_created.as_deref()?;
    RFC2822
        .parse_timestamp(text)
        .ok()
        .map(Timestamp::as_millisecond)
}

/// The newest of `calls` created at or after `dialed_at_ms` (less [`CLOCK_SKEW_MS`]) and
/// not the current call of another appointment (`taken`), or `None`: then Twilio created
/// no call for this attempt. A call without a readable `date_created` is never chosen.
pub fn created_since(
    calls: &[Call],
    dialed_at_ms: i64,
    taken: impl Fn(&str) -> bool,
) -> Option<&Call> {
    calls
        .iter()
        .filter(|call| !taken(call.sid.as_str()))
        .filter_map(|call| Some((date_created_ms(call)?, call)))
        .filter(|(created, _)| *created >= dialed_at_ms - CLOCK_SKEW_MS)
        .max_by_key(|(created, _)| *created)
        .map(|(_, call)| call)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(sid: &str, date_created: Option<&str>) -> Call {
        let mut json = serde_json::json!({"sid": sid, "status": "ringing"});
        if let Some(date) = date_created {
            json["date_created"] = date.into();
        }
        serde_json::from_value(json).unwrap()
    }

    /// 2026-11-24T17:40:00Z.
    const DIALED: i64 = 1_795_542_000_000;

    #[test]
    fn twilios_dates_are_read() {
        let c = call("CA1", Some("Tue, 24 Nov 2026 17:40:00 +0000"));
        assert_eq!(date_created_ms(&c), Some(DIALED));
        assert_eq!(date_created_ms(&call("CA1", Some("yesterday"))), None);
        assert_eq!(date_created_ms(&call("CA1", None)), None);
    }

    #[test]
    fn the_newest_call_since_the_request_is_this_attempts() {
        let calls = [
            // An earlier attempt, an hour before.
            call("CA_old", Some("Tue, 24 Nov 2026 16:40:00 +0000")),
            call("CA_new", Some("Tue, 24 Nov 2026 17:40:01 +0000")),
            // Twilio's clock a few seconds behind ours.
            call("CA_skew", Some("Tue, 24 Nov 2026 17:39:50 +0000")),
        ];
        let found = created_since(&calls, DIALED, |_| false).unwrap();
        assert_eq!(found.sid.as_str(), "CA_new");
        let found = created_since(&calls[..1], DIALED, |_| false);
        assert!(found.is_none(), "an earlier attempt's call is not this one");
        let found = created_since(&calls[2..], DIALED, |_| false).unwrap();
        assert_eq!(found.sid.as_str(), "CA_skew", "within the clock skew");
    }

    #[test]
    fn another_appointments_call_and_unreadable_dates_are_never_chosen() {
        let calls = [
            call("CA_other", Some("Tue, 24 Nov 2026 17:41:00 +0000")),
            call("CA_nodate", None),
        ];
        assert!(created_since(&calls, DIALED, |sid| sid == "CA_other").is_none());
        let found = created_since(&calls, DIALED, |_| false).unwrap();
        assert_eq!(found.sid.as_str(), "CA_other");
    }
}
