//! What `campaign status` prints and `campaign export` writes, from the store's rows.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::state::State;
use super::store::Row;

/// Outcomes of a reached call that need nobody's attention.
const SETTLED: &[&str] = &["confirmed", "voicemail_left"];

/// Why a row needs a person, if it does: given up, refused by Twilio, declined
/// (cancelled), a new time asked for, or no decision reached.
pub fn needs_a_person(row: &Row) -> Option<String> {
    match row.state {
        State::GaveUp => Some(format!(
            "gave up after {} attempts (last status {})",
            row.attempts,
            row.last_status.as_deref().unwrap_or("unknown")
        )),
        State::Failed => Some(format!(
            "failed: {}",
            row.last_error
                .as_deref()
                .or(row.last_status.as_deref())
                .unwrap_or("unknown")
        )),
        State::Done => match row.outcome.as_deref() {
            Some(outcome) if SETTLED.contains(&outcome) => None,
            Some("cancelled") => Some("declined: cancelled the appointment".to_owned()),
            Some("reschedule_requested") => Some("asked for another time".to_owned()),
            Some(other) => Some(format!("reached, but no decision ({other})")),
            None => Some("reached, but no outcome was recorded".to_owned()),
        },
        _ => None,
    }
}

/// `campaign status`: the counts by state, then the rows that need a person.
pub fn status(counts: &BTreeMap<&'static str, usize>, rows: &[Row]) -> String {
    let mut text = String::new();
    for state in State::ALL {
        let _ = writeln!(
            text,
            "{:<8} {}",
            state.as_str(),
            counts.get(state.as_str()).copied().unwrap_or(0)
        );
    }
    let attention: Vec<(&Row, String)> = rows
        .iter()
        .filter_map(|row| needs_a_person(row).map(|why| (row, why)))
        .collect();
    if attention.is_empty() {
        text.push_str("nobody needs a person\n");
    } else {
        let _ = writeln!(text, "needs a person ({}):", attention.len());
        for (row, why) in attention {
            let _ = writeln!(
                text,
                "  {} {} ({}): {why}",
                row.id, row.to, row.appointment.name
            );
        }
    }
    text
}

/// One exported row.
#[derive(Debug, Serialize)]
struct Export<'a> {
    appointment_id: &'a str,
    name: &'a str,
    to: &'a str,
    time_zone: Option<&'a str>,
    state: &'static str,
    attempts: u32,
    last_status: Option<&'a str>,
    last_error: Option<&'a str>,
    outcome: Option<&'a str>,
    call_sid: Option<&'a str>,
    report_path: Option<&'a str>,
    needs_a_person: Option<String>,
}

fn export_row(row: &Row) -> Export<'_> {
    Export {
        appointment_id: &row.id,
        name: &row.appointment.name,
        to: &row.to,
        time_zone: row.time_zone.as_deref(),
        state: row.state.as_str(),
        attempts: row.attempts,
        last_status: row.last_status.as_deref(),
        last_error: row.last_error.as_deref(),
        outcome: row.outcome.as_deref(),
        call_sid: row.call_sid.as_deref(),
        report_path: row.report_path.as_deref(),
        needs_a_person: needs_a_person(row),
    }
}

/// `campaign export --format json`: an array of rows.
pub fn json(rows: &[Row]) -> String {
    let rows: Vec<Export<'_>> = rows.iter().map(export_row).collect();
    serde_json::to_string_pretty(&rows).unwrap_or_else(|err| format!("{{\"error\":\"{err}\"}}"))
}

/// `campaign export --format csv`: a header, then one line per row (RFC 4180 quoting).
pub fn csv(rows: &[Row]) -> String {
    let mut text = String::from(
        "appointment_id,name,to,time_zone,state,attempts,last_status,last_error,outcome,call_sid,report_path,needs_a_person\r\n",
    );
    for row in rows {
        let e = export_row(row);
        let attempts = e.attempts.to_string();
        let fields = [
            e.appointment_id,
            e.name,
            e.to,
            e.time_zone.unwrap_or(""),
            e.state,
            &attempts,
            e.last_status.unwrap_or(""),
            e.last_error.unwrap_or(""),
            e.outcome.unwrap_or(""),
            e.call_sid.unwrap_or(""),
            e.report_path.unwrap_or(""),
            e.needs_a_person.as_deref().unwrap_or(""),
        ];
        let line: Vec<String> = fields.iter().map(|f| quote(f)).collect();
        text.push_str(&line.join(","));
        text.push_str("\r\n");
    }
    text
}

fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appointment::Appointment;

    fn row(id: &str, state: State, outcome: Option<&str>) -> Row {
        Row {
            id: id.to_owned(),
            appointment: Appointment::demo(),
            to: "+14155550101".to_owned(),
            time_zone: None,
            state,
            attempts: 3,
            next_attempt_at: 0,
            call_sid: Some("CA1".to_owned()),
            last_status: Some("no-answer".to_owned()),
            last_error: None,
            outcome: outcome.map(str::to_owned),
            report_path: None,
            updated_at: 0,
            dialed_at_ms: None,
        }
    }

    #[test]
    fn status_counts_states_and_names_who_needs_a_person() {
        let rows = [
            row("a", State::Done, Some("confirmed")),
            row("b", State::Done, Some("reschedule_requested")),
            row("c", State::GaveUp, Some("not_answered")),
            row("d", State::Done, Some("voicemail_left")),
            row("e", State::Done, Some("cancelled")),
        ];
        let mut counts = BTreeMap::new();
        counts.insert("done", 4);
        counts.insert("gave_up", 1);
        let text = status(&counts, &rows);
        assert!(
            text.starts_with(
                "pending  0\ndialing  0\nin_call  0\ndone     4\nfailed   0\ngave_up  1\n"
            ),
            "{text}"
        );
        assert!(text.contains("needs a person (3):"), "{text}");
        assert!(
            text.contains("  b +14155550101 (Jane Doe): asked for another time"),
            "{text}"
        );
        assert!(
            text.contains(
                "  c +14155550101 (Jane Doe): gave up after 3 attempts (last status no-answer)"
            ),
            "{text}"
        );
        assert!(
            text.contains("  e +14155550101 (Jane Doe): declined"),
            "{text}"
        );
        assert!(!text.contains("  a "), "{text}");
        assert!(!text.contains("  d "), "{text}");
    }

    #[test]
    fn csv_quotes_and_json_round_trips() {
        let mut failed = row("x,1", State::Failed, Some("call_failed"));
        failed.last_error = Some("Twilio refused the call: \"bad\"".to_owned());
        let text = csv(&[failed.clone()]);
        let mut lines = text.split("\r\n");
        assert!(lines.next().unwrap().starts_with("appointment_id,name,to,"));
        let line = lines.next().unwrap();
        assert!(line.starts_with("\"x,1\",Jane Doe,+14155550101,,failed,3,no-answer,\"Twilio refused the call: \"\"bad\"\"\",call_failed,CA1,,"), "{line}");
        let value: serde_json::Value = serde_json::from_str(&json(&[failed])).unwrap();
        assert_eq!(value[0]["appointment_id"], "x,1");
        assert_eq!(value[0]["state"], "failed");
        assert_eq!(value[0]["attempts"], 3);
    }
}
