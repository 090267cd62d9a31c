//! Reading `batch`'s list: every entry checked (fields, number, time zone, duplicate
//! ids), and the whole list refused with every problem named by line and field when one
//! is wrong, before anything is imported or dialled.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;

use jiff::tz::TimeZone;
use serde_json::value::RawValue;

use crate::appointment::Appointment;
use crate::config::e164_problem;

/// A list that cannot be imported, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListError {
    /// The file.
    pub file: String,
    /// `line N, entry I (id): field: what is wrong`, in file order.
    pub problems: Vec<String>,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the list was refused, nothing was imported or dialled ({} problem{}):",
            self.file,
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" }
        )?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ListError {}

/// Reads and checks the list in `path`: each appointment with the number to call.
///
/// # Errors
///
/// The file cannot be read or is not a JSON array, or any entry is wrong (all listed).
pub fn read(path: &Path) -> Result<Vec<(Appointment, String)>, ListError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|err| ListError {
        file: file.clone(),
        problems: vec![format!("cannot be read: {err}")],
    })?;
    check(&file, &text)
}

/// Checks the list `text` (from `file`).
///
/// # Errors
///
/// As [`read`].
pub fn check(file: &str, text: &str) -> Result<Vec<(Appointment, String)>, ListError> {
    let refuse = |problems| ListError {
        file: file.to_owned(),
        problems,
    };
    let entries: Vec<&RawValue> = serde_json::from_str(text).map_err(|err| {
        refuse(vec![format!(
            "line {}: not a JSON array of appointments: {err}",
            err.line()
        )])
    })?;
    let mut problems = Vec::new();
    let mut list = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, raw) in entries.iter().enumerate() {
        let line = line_of(text, raw.get());
        let appointment: Appointment = match serde_json::from_str(raw.get()) {
            Ok(appointment) => appointment,
            Err(err) => {
                problems.push(format!("line {line}, entry {index}: {err}"));
                continue;
            }
        };
        let at = format!("line {line}, entry {index} ({})", appointment.id);
        for (name, value) in [
            ("id", &appointment.id),
            ("name", &appointment.name),
            ("when", &appointment.when),
            ("with", &appointment.with),
        ] {
            if value.trim().is_empty() {
                problems.push(format!("{at}: `{name}` is empty"));
            }
        }
        if !appointment.id.trim().is_empty() {
            if let Some(first) = seen.insert(appointment.id.clone(), line) {
                problems.push(format!(
                    "{at}: `id` {:?} is also the id on line {first}",
                    appointment.id
                ));
            }
        }
        let to = appointment.to.clone().unwrap_or_default();
        match &appointment.to {
            None => problems.push(format!("{at}: `to` (the number to call) is missing")),
            Some(to) => {
                if let Some(problem) = e164_problem("`to`", to) {
                    problems.push(format!("{at}: {problem}"));
                }
            }
        }
        if let Some(zone) = &appointment.time_zone {
            if TimeZone::get(zone).is_err() {
                problems.push(format!(
                    "{at}: `time_zone` {zone:?} is not an IANA time zone (e.g. America/New_York)"
                ));
            }
        }
        list.push((appointment, to));
    }
    if problems.is_empty() {
        Ok(list)
    } else {
        Err(refuse(problems))
    }
}

/// The 1-based line where `part` (a slice of `text`) starts.
fn line_of(text: &str, part: &str) -> usize {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize);
    text.get(..offset.min(text.len()))
        .map_or(1, |before| before.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_good_list_reads_with_its_numbers() {
        let text = r#"[
 {"id": "a", "name": "Ann", "when": "Monday", "with": "Dr. P", "to": "+14155550101", "time_zone": "Europe/Paris"},
 {"id": "b", "name": "Bob", "when": "Monday", "with": "Dr. P", "to": "+14155550102"}
]"#;
        let list = check("list.json", text).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].1, "+14155550101");
        assert_eq!(list[0].0.time_zone.as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn every_problem_is_listed_by_line_and_field() {
        let text = r#"[
  {"id": "a", "name": "Ann", "when": "Monday", "with": "Dr. P", "to": "+14155550101"},
  {"id": "a", "name": "Al", "when": "Monday", "with": "Dr. P", "to": "+14155550102"},
  {"id": "c", "name": "Cy", "when": "Monday", "with": "Dr. P", "to": "415 555 0103"},
  {"id": "d", "name": "Di", "when": "Monday", "with": "Dr. P", "to": "+14155550104", "time_zone": "Mars/Olympus"},
  {"id": "e", "name": "", "when": "Monday", "with": "Dr. P"},
  {"id": "f", "when": "Monday"}
]"#;
        let err = check("list.json", text).unwrap_err();
        let problems = err.problems.join("\n");
        assert_eq!(err.problems.len(), 6, "{problems}");
        assert!(
            problems.contains("line 3, entry 1 (a): `id` \"a\" is also the id on line 2"),
            "{problems}"
        );
        assert!(
            problems.contains("line 4, entry 2 (c): `to` "),
            "{problems}"
        );
        assert!(problems.contains("E.164"), "{problems}");
        assert!(
            problems.contains(
                "line 5, entry 3 (d): `time_zone` \"Mars/Olympus\" is not an IANA time zone"
            ),
            "{problems}"
        );
        assert!(
            problems.contains("line 6, entry 4 (e): `name` is empty"),
            "{problems}"
        );
        assert!(
            problems.contains("line 6, entry 4 (e): `to` (the number to call) is missing"),
            "{problems}"
        );
        assert!(
            problems.contains("line 7, entry 5: missing field `name`"),
            "{problems}"
        );
        let shown = err.to_string();
        assert!(
            shown.starts_with(
                "list.json: the list was refused, nothing was imported or dialled (6 problems):"
            ),
            "{shown}"
        );
    }

    #[test]
    fn not_an_array_is_one_problem() {
        let err = check("list.json", "{\"id\": 1}").unwrap_err();
        assert_eq!(err.problems.len(), 1);
        assert!(err.problems[0].contains("not a JSON array"), "{err}");
    }
}
