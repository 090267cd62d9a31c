//! The appointment a call is about: where it comes from (a JSON file, the command line,
//! the signed call context), and what the agent is told about it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Context field names (short: each `<Parameter>` must stay under 500 characters).
const ID: &str = "apt_id";
const NAME: &str = "apt_name";
const WHEN: &str = "apt_when";
const WITH: &str = "apt_with";
const WHERE: &str = "apt_where";
const CALLBACK: &str = "apt_callback";
const ORGANIZATION: &str = "apt_org";

/// One appointment to confirm.
///
/// In a file: `{"id": "apt_42", "name": "Jane Doe", "when": "Tuesday, March 3 at 10:30 AM",
/// "with": "Dr. Patel", "where": "12 Main Street", "callback_number": "+14155550123",
/// "organization": "Bright Smile Dental", "to": "+14155550100"}` (`to` is the number to
/// call; only `batch` needs it in the file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    /// Your id for it, echoed in every outcome.
    pub id: String,
    /// The patient or customer.
    pub name: String,
    /// The date and time, as the agent should say it.
    pub when: String,
    /// With whom.
    pub with: String,
    /// Where.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The number to call back to change it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_number: Option<String>,
    /// Who is calling (the practice or business).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// The number to call (E.164); `call --to` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The callee's IANA time zone (`America/New_York`), for `batch`'s calling hours;
    /// without it the machine's zone is assumed (with a warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

/// An appointment that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentError(String);

impl fmt::Display for AppointmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AppointmentError {}

impl Appointment {
    /// The appointment of the offline demo and of unsigned `serve` streams.
    pub fn demo() -> Self {
        Self {
            id: "apt_demo_42".to_owned(),
            name: "Jane Doe".to_owned(),
            when: "Tuesday, March 3 at 10:30 AM".to_owned(),
            with: "Dr. Patel".to_owned(),
            location: Some("12 Main Street".to_owned()),
            callback_number: Some("+14155550123".to_owned()),
            organization: Some("Bright Smile Dental".to_owned()),
            to: None,
            time_zone: None,
        }
    }

    /// Reads one appointment from a JSON file.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not JSON, or lacks a field (named).
    pub fn from_file(path: &Path) -> Result<Self, AppointmentError> {
        let text = read(path)?;
        let appointment: Self = serde_json::from_str(&text)
            .map_err(|err| AppointmentError(format!("{}: {err}", path.display())))?;
        appointment
            .validate()
            .map_err(|err| AppointmentError(format!("{}: {err}", path.display())))?;
        Ok(appointment)
    }

    /// Reads a list of appointments (a JSON array) from a file; each needs `to`.
    ///
    /// # Errors
    ///
    /// The file cannot be read, is not a JSON array of appointments, or one lacks `to`.
    pub fn list_from_file(path: &Path) -> Result<Vec<Self>, AppointmentError> {
        let text = read(path)?;
        let list: Vec<Self> = serde_json::from_str(&text)
            .map_err(|err| AppointmentError(format!("{}: {err}", path.display())))?;
        for (index, appointment) in list.iter().enumerate() {
            appointment.validate().map_err(|err| {
                AppointmentError(format!("{} entry {index}: {err}", path.display()))
            })?;
            if appointment.to.is_none() {
                return Err(AppointmentError(format!(
                    "{} entry {index} ({}): `to` (the number to call) is missing",
                    path.display(),
                    appointment.id
                )));
            }
        }
        Ok(list)
    }

    fn validate(&self) -> Result<(), String> {
        for (name, value) in [
            ("id", &self.id),
            ("name", &self.name),
            ("when", &self.when),
            ("with", &self.with),
        ] {
            if value.trim().is_empty() {
                return Err(format!("`{name}` is empty"));
            }
        }
        Ok(())
    }

    /// The fields to sign into the call context.
    pub fn to_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            (ID, self.id.clone()),
            (NAME, self.name.clone()),
            (WHEN, self.when.clone()),
            (WITH, self.with.clone()),
        ];
        for (name, value) in [
            (WHERE, &self.location),
            (CALLBACK, &self.callback_number),
            (ORGANIZATION, &self.organization),
        ] {
            if let Some(value) = value {
                fields.push((name, value.clone()));
            }
        }
        fields
    }

    /// The appointment from a verified context's fields.
    ///
    /// # Errors
    ///
    /// A required field is missing (the context was signed by something else).
    pub fn from_fields(fields: &BTreeMap<String, String>) -> Result<Self, AppointmentError> {
        let required = |name: &str| {
            fields
                .get(name)
                .cloned()
                .ok_or_else(|| AppointmentError(format!("call context has no `{name}`")))
        };
        Ok(Self {
            id: required(ID)?,
            name: required(NAME)?,
            when: required(WHEN)?,
            with: required(WITH)?,
            location: fields.get(WHERE).cloned(),
            callback_number: fields.get(CALLBACK).cloned(),
            organization: fields.get(ORGANIZATION).cloned(),
            to: None,
            time_zone: None,
        })
    }

    fn caller(&self) -> &str {
        self.organization.as_deref().unwrap_or("the office")
    }

    /// The agent's instructions for this appointment.
    pub fn instructions(&self) -> String {
        let place = self
            .location
            .as_deref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        let callback = self
            .callback_number
            .as_deref()
            .map(|n| format!(" If they need anything else, they can call {n}."))
            .unwrap_or_default();
        format!(
            "You are a friendly, brief phone assistant calling on behalf of {org}. You are \
             calling {name} about their appointment with {with} on {when}{place}. Speak \
             first: greet {name}, say who you are calling for, and state the appointment \
             (who, when, where). Ask whether they can make it.\n\
             - If they confirm, call `confirm_appointment`.\n\
             - If they want another time, ask which times suit them, then call \
             `reschedule_appointment` with their preferred times; tell them the office will \
             confirm the new time.\n\
             - If they want to cancel, call `cancel_appointment` with their reason if they \
             give one.\n\
             When the matter is settled, say a short goodbye, and only after saying it call \
             `end_call`.{callback} Keep every answer to one or two sentences, never invent \
             times or details, and do not discuss anything but this appointment.",
            org = self.caller(),
            name = self.name,
            with = self.with,
            when = self.when,
        )
    }

    /// The callee's first name (the first word of the name).
    pub fn first_name(&self) -> &str {
        self.name.split_whitespace().next().unwrap_or(&self.name)
    }

    /// The greeting the agent opens the call with: who calls, and the appointment.
    pub fn greeting(&self) -> String {
        let place = self
            .location
            .as_deref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        format!(
            "Hello {}, this is {} calling about your appointment with {} on {}{place}. Can \
             you make it?",
            self.first_name(),
            self.caller(),
            self.with,
            self.when,
        )
    }

    /// The short message left on an answering machine.
    pub fn voicemail(&self) -> String {
        let place = self
            .location
            .as_deref()
            .map(|l| format!(" at {l}"))
            .unwrap_or_default();
        let callback = match &self.callback_number {
            Some(number) => format!(
                " To confirm or change it, please call {}.",
                spoken_number(number)
            ),
            None => String::new(),
        };
        format!(
            "Hello, this is a message for {name} from {org}, about your appointment with \
             {with} on {when}{place}.{callback} Thank you, goodbye.",
            name = self.name,
            org = self.caller(),
            with = self.with,
            when = self.when,
        )
    }
}

/// A phone number as `<Say>` should read it: digit by digit.
fn spoken_number(number: &str) -> String {
    number
        .chars()
        .filter(char::is_ascii_digit)
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ")
}

fn read(path: &Path) -> Result<String, AppointmentError> {
    std::fs::read_to_string(path)
        .map_err(|err| AppointmentError(format!("cannot read {}: {err}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_through_the_context() {
        let appointment = Appointment::demo();
        let fields: BTreeMap<String, String> = appointment
            .to_fields()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        assert_eq!(Appointment::from_fields(&fields).unwrap(), appointment);
        let mut partial = fields.clone();
        partial.remove(WHEN);
        assert!(
            Appointment::from_fields(&partial)
                .unwrap_err()
                .to_string()
                .contains(WHEN)
        );
    }

    #[test]
    fn instructions_and_voicemail_carry_the_details() {
        let appointment = Appointment::demo();
        let instructions = appointment.instructions();
        for part in [
            "Jane Doe",
            "Dr. Patel",
            "Tuesday, March 3 at 10:30 AM",
            "12 Main Street",
            "+14155550123",
            "end_call",
        ] {
            assert!(instructions.contains(part), "{part} missing");
        }
        let voicemail = appointment.voicemail();
        assert!(voicemail.contains("1 4 1 5 5 5 5 0 1 2 3"), "{voicemail}");
        assert!(voicemail.contains("Dr. Patel"), "{voicemail}");
    }

    #[test]
    fn files_name_what_is_wrong() {
        let dir = std::env::temp_dir().join(format!("voice-agent-apt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let one = dir.join("one.json");
        std::fs::write(
            &one,
            r#"{"id":"a1","name":"Ann","when":"Monday 9 AM","with":"Dr. Who"}"#,
        )
        .unwrap();
        assert_eq!(Appointment::from_file(&one).unwrap().name, "Ann");
        let bad = dir.join("bad.json");
        std::fs::write(&bad, r#"{"id":"a1","name":"Ann"}"#).unwrap();
        assert!(
            Appointment::from_file(&bad)
                .unwrap_err()
                .to_string()
                .contains("when")
        );
        let list = dir.join("list.json");
        std::fs::write(
            &list,
            r#"[{"id":"a1","name":"Ann","when":"Monday","with":"Dr. Who"}]"#,
        )
        .unwrap();
        assert!(
            Appointment::list_from_file(&list)
                .unwrap_err()
                .to_string()
                .contains("`to`")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
