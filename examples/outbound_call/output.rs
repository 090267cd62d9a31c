//! Where calls leave their traces: `<out>/<callSid>/report.json` and `recording.wav` per
//! call, and one JSON line per outcome in `<out>/outcomes.jsonl`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use voice_bridge::CallReport;
use voice_bridge::Side;

use crate::appointment::Appointment;
use crate::tools::Decision;
use voice_bridge::recording::CallRecorder;

/// What became of one call, as appended to `outcomes.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallOutcome {
    /// Twilio's `callSid` (empty when no call was created).
    pub call_sid: String,
    /// Twilio's `streamSid`, once a stream started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_sid: Option<String>,
    /// The appointment's id.
    pub appointment_id: String,
    /// `confirmed`, `reschedule_requested`, `cancelled`, `voicemail_left`, `no_decision`,
    /// `agent_failed`, `stream_refused`, `not_answered`, `call_failed`.
    pub outcome: String,
    /// The decision, when one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<Decision>,
    /// Why the call ended, in words.
    pub why: String,
    /// Which side ended it, when a stream ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ended_by: Option<Side>,
    /// Unix seconds.
    pub at: u64,
    /// The call's folder, when a stream ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub folder: Option<PathBuf>,
}

impl CallOutcome {
    /// An outcome without a stream (not answered, refused, REST error).
    pub fn without_stream(
        call_sid: impl Into<String>,
        appointment_id: impl Into<String>,
        outcome: &str,
        why: impl Into<String>,
    ) -> Self {
        Self {
            call_sid: call_sid.into(),
            stream_sid: None,
            appointment_id: appointment_id.into(),
            outcome: outcome.to_owned(),
            decision: None,
            why: why.into(),
            ended_by: None,
            at: unix_now(),
            folder: None,
        }
    }

    /// Whether the call reached a decision (what the demo exits 0 on).
    pub fn reached(&self) -> bool {
        self.decision.is_some()
    }
}

/// The JSON written as `report.json`.
#[derive(Debug, Serialize)]
struct ReportFile<'a> {
    outcome: &'a CallOutcome,
    appointment: &'a Appointment,
    #[serde(skip_serializing_if = "Option::is_none")]
    recording: Option<RecordingInfo>,
    report: &'a CallReport,
}

#[derive(Debug, Serialize)]
struct RecordingInfo {
    file: &'static str,
    channels: &'static str,
    duration_ms: u64,
    cut_short: bool,
}

/// The output folder.
#[derive(Debug, Clone)]
pub struct Output {
    dir: PathBuf,
}

impl Output {
    /// Output under `dir` (created when first written).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<out>/outcomes.jsonl`.
    pub fn outcomes_file(&self) -> PathBuf {
        self.dir.join("outcomes.jsonl")
    }

    /// Writes a finished call's report (and recording), fills in `outcome.folder`, and
    /// appends the outcome line.
    ///
    /// # Errors
    ///
    /// A folder or file cannot be written.
    pub fn write_call(
        &self,
        outcome: &mut CallOutcome,
        appointment: &Appointment,
        report: &CallReport,
        recorder: Option<&CallRecorder>,
    ) -> io::Result<PathBuf> {
        let name = if outcome.call_sid.is_empty() {
            format!("call-{}", outcome.at)
        } else {
            outcome.call_sid.clone()
        };
        let folder = self.dir.join(sanitize(&name));
        std::fs::create_dir_all(&folder)?;
        outcome.folder = Some(folder.clone());
        let recording = match recorder {
            Some(recorder) => {
                recorder.write_wav_file(&folder.join("recording.wav"))?;
                Some(RecordingInfo {
                    file: "recording.wav",
                    channels: "stereo: caller left, agent right",
                    duration_ms: recorder.duration().as_millis() as u64,
                    cut_short: recorder.cut_short(),
                })
            }
            None => None,
        };
        let file = ReportFile {
            outcome,
            appointment,
            recording,
            report,
        };
        let json = serde_json::to_vec_pretty(&file).map_err(io::Error::other)?;
        std::fs::write(folder.join("report.json"), json)?;
        self.append(outcome)?;
        Ok(folder)
    }

    /// Appends one outcome line to `outcomes.jsonl`.
    ///
    /// # Errors
    ///
    /// The folder or file cannot be written.
    pub fn append(&self, outcome: &CallOutcome) -> io::Result<()> {
        std::fs::create_dir_all(&self.dir)?;
        let mut line = serde_json::to_vec(outcome).map_err(io::Error::other)?;
        line.push(b'\n');
        // One write of a whole line to a file opened for appending: lines from concurrent
        // calls do not interleave.
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.outcomes_file())?
            .write_all(&line)
    }
}

/// Keeps a file name to letters, digits, `-` and `_`.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Unix seconds now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYYMMDD-HHMMSS` (UTC) for folder names: the date from the days since 1970 by Howard
/// Hinnant's `civil_from_days` (a dozen lines, so no date crate for one folder name).
pub fn timestamp(unix: u64) -> String {
    let days = (unix / 86_400) as i64;
    let secs = unix % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}-{:02}{:02}{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_calendar_dates() {
        assert_eq!(timestamp(0), "19700101-000000");
        assert_eq!(timestamp(1_764_108_296), "20251125-220456");
        assert_eq!(timestamp(951_782_400), "20000229-000000");
        assert_eq!(timestamp(1_709_164_800), "20240229-000000");
        assert_eq!(timestamp(2_147_483_647), "20380119-031407");
        // 2100 is not a leap year.
        assert_eq!(timestamp(4_107_542_399), "21000228-235959");
        assert_eq!(timestamp(4_107_542_400), "21000301-000000");
    }

    #[test]
    fn every_day_to_2300_matches_a_day_by_day_calendar() {
        let (mut year, mut month, mut day) = (1970_u64, 1_u64, 1_u64);
        for days in 0..121_000_u64 {
            let expected = format!("{year:04}{month:02}{day:02}-235959");
            assert_eq!(timestamp(days * 86_400 + 86_399), expected, "day {days}");
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
            let length = match month {
                2 if leap => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            day += 1;
            if day > length {
                day = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
        assert_eq!(year, 2301, "the walk reached 2300");
    }

    #[test]
    fn outcome_lines_append() {
        let dir = std::env::temp_dir().join(format!("voice-agent-out-{}", std::process::id()));
        let output = Output::new(&dir);
        let outcome = CallOutcome::without_stream("CA1", "apt_1", "not_answered", "no-answer");
        output.append(&outcome).unwrap();
        output.append(&outcome).unwrap();
        let text = std::fs::read_to_string(output.outcomes_file()).unwrap();
        assert_eq!(text.lines().count(), 2);
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["outcome"], "not_answered");
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(sanitize("CA1/../x"), "CA1____x");
    }
}
