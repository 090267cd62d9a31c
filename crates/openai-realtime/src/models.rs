//! Model retirements told in advance: the [`Model`] object of `GET /v1/models/{model}`, its
//! [`Date`], and the [`Retirement`] verdict for a model on a given day.
//!
//! OpenAI announces a model's shutdown months ahead and reports it as `shutdown_date`
//! (`YYYY-MM-DD`, or `null` when none is announced) on every model object. A bot that reads
//! it at start can say so weeks before, instead of going silent on the day. Nothing here does
//! IO or reads the clock: the lookup itself is `client::retrieve_model` (feature `client`),
//! and "today" is always given ([`Date::from_unix_seconds`] turns the clock into one).
//!
//! # Examples
//!
//! ```
//! use openai_realtime::models::{Date, Model, Retirement};
//!
//! let body = r#"{"id":"gpt-realtime","object":"model","created":1756339200,
//!     "owned_by":"system","shutdown_date":"2027-01-20"}"#;
//! let model: Model = serde_json::from_str(body)?;
//! let today: Date = "2026-12-03".parse().unwrap();
//! match model.retirement(today) {
//!     Retirement::Ahead { date, days_left, replacement, .. } => {
//!         assert_eq!(date.to_string(), "2027-01-20");
//!         assert_eq!(days_left, 48);
//!         assert_eq!(replacement, "gpt-realtime-2.1");
//!     }
//!     other => panic!("{other}"),
//! }
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::live::Extra;

/// The model a Realtime session asks for when none is set, and the replacement named for a
/// retired full-size Realtime model.
const REALTIME_REPLACEMENT: &str = "gpt-realtime-2.1";

/// The replacement named for a retired `-mini` model.
const MINI_REPLACEMENT: &str = "gpt-realtime-2.1-mini";

/// The GPT-Live model OpenAI points new voice applications to (another protocol:
/// [`live`](crate::live)).
pub const LIVE_MODEL: &str = "gpt-live-1";

/// The shutdown dates OpenAI announced for Realtime models, as the SDK's notes list them
/// (openai-python 3.57: "Announced shutdown date: 2027-01-20"). Models absent here have no
/// announced date (`gpt-realtime-2.1` among them).
pub const ANNOUNCED_SHUTDOWNS: &[(&str, Date)] = &[
    ("gpt-realtime", Date::JAN_20_2027),
    ("gpt-realtime-2025-08-28", Date::JAN_20_2027),
    ("gpt-realtime-mini", Date::JAN_20_2027),
    ("gpt-realtime-mini-2025-12-15", Date::JAN_20_2027),
    ("gpt-audio-mini", Date::JAN_20_2027),
    ("gpt-audio-mini-2025-12-15", Date::JAN_20_2027),
];

/// A model as `GET /v1/models/{model}` returns it.
///
/// Members this version does not name are kept in [`Model::extra`] and written back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Model {
    /// The model id, e.g. `gpt-realtime-2.1`.
    pub id: String,
    /// `model`.
    #[serde(default = "model_object")]
    pub object: String,
    /// When the model was created, Unix seconds.
    #[serde(default)]
    pub created: i64,
    /// Who owns it (`system`, `openai`, an organization).
    #[serde(default)]
    pub owned_by: String,
    /// The announced shutdown day, or `None` when none is announced.
    #[serde(
        default,
        with = "optional_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub shutdown_date: Option<Date>,
    /// Members this version does not name, as received.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

fn model_object() -> String {
    "model".to_owned()
}

impl Model {
    /// A model with this id and shutdown date (`object` `model`, owned by `system`).
    pub fn new(id: impl Into<String>, shutdown_date: Option<Date>) -> Self {
        Self {
            id: id.into(),
            object: model_object(),
            created: 0,
            owned_by: "system".to_owned(),
            shutdown_date,
            extra: Extra::new(),
        }
    }

    /// The verdict for this model on `today`: see [`Retirement::of`].
    pub fn retirement(&self, today: Date) -> Retirement {
        Retirement::of(&self.id, self.shutdown_date, today)
    }
}

/// What a model's shutdown date means on a given day.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retirement {
    /// No shutdown date is announced.
    NotAnnounced {
        /// The model.
        model: String,
    },
    /// A shutdown is announced for a day after today: move before then.
    Ahead {
        /// The model.
        model: String,
        /// The shutdown day.
        date: Date,
        /// Days from today to the shutdown day (at least 1).
        days_left: u32,
        /// What to use instead ([`replacement`]).
        replacement: &'static str,
    },
    /// The shutdown day is today or past: sessions with this model fail.
    Retired {
        /// The model.
        model: String,
        /// The shutdown day.
        date: Date,
        /// What to use instead ([`replacement`]).
        replacement: &'static str,
    },
}

impl Retirement {
    /// The verdict for `model` with `shutdown_date` on `today`: retired when the date is
    /// today or earlier, ahead when it is later, not announced without a date.
    ///
    /// ```
    /// use openai_realtime::models::{Date, Retirement};
    ///
    /// let day: Date = "2027-01-20".parse().unwrap();
    /// let retired = Retirement::of("gpt-realtime-mini", Some(day), day);
    /// assert!(retired.is_retired());
    /// assert_eq!(retired.replacement(), Some("gpt-realtime-2.1-mini"));
    /// assert!(!Retirement::of("gpt-realtime-2.1", None, day).is_announced());
    /// ```
    pub fn of(model: &str, shutdown_date: Option<Date>, today: Date) -> Self {
        let model = model.to_owned();
        let Some(date) = shutdown_date else {
            return Self::NotAnnounced { model };
        };
        let replacement = replacement(&model);
        match u32::try_from(today.days_until(date)) {
            Ok(days_left) if days_left > 0 => Self::Ahead {
                model,
                date,
                days_left,
                replacement,
            },
            _ => Self::Retired {
                model,
                date,
                replacement,
            },
        }
    }

    /// The shutdown day is today or past.
    pub fn is_retired(&self) -> bool {
        matches!(self, Self::Retired { .. })
    }

    /// A shutdown date is announced (ahead or past).
    pub fn is_announced(&self) -> bool {
        !matches!(self, Self::NotAnnounced { .. })
    }

    /// The shutdown day, when one is announced.
    pub fn date(&self) -> Option<Date> {
        match self {
            Self::NotAnnounced { .. } => None,
            Self::Ahead { date, .. } | Self::Retired { date, .. } => Some(*date),
        }
    }

    /// What to use instead, when a shutdown is announced.
    pub fn replacement(&self) -> Option<&'static str> {
        match self {
            Self::NotAnnounced { .. } => None,
            Self::Ahead { replacement, .. } | Self::Retired { replacement, .. } => {
                Some(replacement)
            }
        }
    }
}

impl fmt::Display for Retirement {
    /// One sentence: what happens to the model and what to use instead (the Realtime
    /// replacement, and GPT-Live as the other choice).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let or_live = |replacement: &str| {
            if replacement == LIVE_MODEL {
                String::new()
            } else {
                format!(" (or `{LIVE_MODEL}`, GPT-Live, another protocol)")
            }
        };
        match self {
            Self::NotAnnounced { model } => {
                write!(f, "the model `{model}` has no announced shutdown date")
            }
            Self::Ahead {
                model,
                date,
                days_left,
                replacement,
            } => {
                let days = if *days_left == 1 { "day" } else { "days" };
                write!(
                    f,
                    "the model `{model}` shuts down on {date}, in {days_left} {days}: move to \
                     `{replacement}`{} before then",
                    or_live(replacement)
                )
            }
            Self::Retired {
                model,
                date,
                replacement,
            } => write!(
                f,
                "the model `{model}` was shut down on {date}: use `{replacement}`{}",
                or_live(replacement)
            ),
        }
    }
}

/// The model to use instead of `model`: `gpt-realtime-2.1-mini` for a `-mini` model,
/// `gpt-realtime-2.1` for the others (the current models of the Realtime guides; OpenAI's
/// own replacement column was not seen, so this is the mapping integrators applied). When
/// that is `model` itself (its own shutdown announced), the next one: `gpt-realtime-2.1`
/// for the mini, [`LIVE_MODEL`] for `gpt-realtime-2.1`.
///
/// ```
/// use openai_realtime::models::replacement;
///
/// assert_eq!(replacement("gpt-realtime-2025-08-28"), "gpt-realtime-2.1");
/// assert_eq!(replacement("gpt-audio-mini-2025-12-15"), "gpt-realtime-2.1-mini");
/// assert_eq!(replacement("gpt-realtime-2.1"), "gpt-live-1");
/// ```
pub fn replacement(model: &str) -> &'static str {
    let candidates: &[&'static str] = if model.contains("-mini") {
        &[MINI_REPLACEMENT, REALTIME_REPLACEMENT, LIVE_MODEL]
    } else {
        &[REALTIME_REPLACEMENT, LIVE_MODEL]
    };
    candidates
        .iter()
        .copied()
        .find(|candidate| *candidate != model)
        .unwrap_or(LIVE_MODEL)
}

/// The announced shutdown day of `model` in [`ANNOUNCED_SHUTDOWNS`], if any.
pub fn announced_shutdown(model: &str) -> Option<Date> {
    ANNOUNCED_SHUTDOWNS
        .iter()
        .find(|(id, _)| *id == model)
        .map(|(_, date)| *date)
}

/// A calendar day (proleptic Gregorian, UTC), written `YYYY-MM-DD` as the API writes
/// `shutdown_date`.
///
/// ```
/// use openai_realtime::models::Date;
///
/// let day: Date = "2027-01-20".parse().unwrap();
/// assert_eq!(Date::from_unix_seconds(1_800_403_200), day);
/// assert_eq!("2026-12-03".parse::<Date>().unwrap().days_until(day), 48);
/// assert!("2027-02-29".parse::<Date>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

impl Date {
    /// 2027-01-20, the shutdown day of `gpt-realtime` and its siblings.
    pub const JAN_20_2027: Date = Date {
        year: 2027,
        month: 1,
        day: 20,
    };

    /// The day, if it exists (`2027-02-29` does not).
    pub fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        let valid = (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        valid.then_some(Self { year, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The UTC day of a Unix time (seconds since 1970-01-01T00:00:00Z).
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Self::from_days(seconds.div_euclid(86_400))
    }

    /// The UTC day of a system time (today: `Date::from_system_time(SystemTime::now())`).
    pub fn from_system_time(time: std::time::SystemTime) -> Self {
        let seconds = match time.duration_since(std::time::UNIX_EPOCH) {
            Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
            Err(before) => {
                let before = before.duration();
                // A time before 1970 with a fraction of a second is in the day before.
                let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
                -whole - i64::from(before.subsec_nanos() > 0)
            }
        };
        Self::from_unix_seconds(seconds)
    }

    /// Days from `self` to `other`: positive when `other` is later.
    pub fn days_until(self, other: Date) -> i64 {
        other.days() - self.days()
    }

    /// Days since 1970-01-01 (negative before).
    fn days(self) -> i64 {
        // Howard Hinnant's days_from_civil: years start in March, so the leap day is last.
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year - era * 400;
        let month = i64::from(self.month);
        let day_of_year =
            (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The day `days` after 1970-01-01.
    fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let day_of_era = z - era * 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let mp = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        Self {
            // Any i64 of days divided down to years fits an i32 only for sane inputs; clamp
            // rather than wrap for absurd ones.
            year: i32::try_from(year).unwrap_or(if year < 0 { i32::MIN } else { i32::MAX }),
            month: u8::try_from(month).unwrap_or(1),
            day: u8::try_from(day).unwrap_or(1),
        }
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A text that is not a `YYYY-MM-DD` day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a day written YYYY-MM-DD")]
pub struct DateError(String);

impl FromStr for Date {
    type Err = DateError;

    /// `YYYY-MM-DD`; a time after it (`2027-01-20T00:00:00Z`) is accepted and dropped.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let error = || DateError(text.chars().take(40).collect());
        let day_part = match text.split_once('T') {
            Some((day, _)) => day,
            None => text,
        };
        let bytes = day_part.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(error());
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u32> {
            let part = day_part.get(range)?;
            part.bytes()
                .all(|b| b.is_ascii_digit())
                .then(|| part.parse().ok())?
        };
        let (Some(year), Some(month), Some(day)) = (digits(0..4), digits(5..7), digits(8..10))
        else {
            return Err(error());
        };
        let year = i32::try_from(year).map_err(|_| error())?;
        let month = u8::try_from(month).map_err(|_| error())?;
        let day = u8::try_from(day).map_err(|_| error())?;
        Date::new(year, month, day).ok_or_else(error)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    /// A `YYYY-MM-DD` string, or Unix seconds.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Date;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a day written YYYY-MM-DD")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Date, E> {
                text.parse().map_err(E::custom)
            }

            fn visit_i64<E: serde::de::Error>(self, seconds: i64) -> Result<Date, E> {
                Ok(Date::from_unix_seconds(seconds))
            }

            fn visit_u64<E: serde::de::Error>(self, seconds: u64) -> Result<Date, E> {
                i64::try_from(seconds)
                    .map(Date::from_unix_seconds)
                    .map_err(|_| E::custom("a Unix time out of range"))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// `Option<Date>`, `null` or absent for `None`.
mod optional_date {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Date;

    pub(super) fn serialize<S: Serializer>(
        date: &Option<Date>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        date.serialize(serializer)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Date>, D::Error> {
        Option::<Date>::deserialize(deserializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Date {
        text.parse().unwrap()
    }

    #[test]
    fn days_agree_with_a_count_day_by_day() {
        // Walk every day from 1969-12-01 to 2101-03-01 and check the two conversions
        // against a plain calendar walk (leap years 2000 and 2100 included).
        let (mut year, mut month, mut dom) = (1969, 12u8, 1u8);
        for days in -31..48_000i64 {
            let date = Date::new(year, month, dom).unwrap();
            assert_eq!(Date::from_days(days), date, "{days}");
            assert_eq!(date.days(), days, "{date}");
            dom += 1;
            if dom > days_in_month(year, month) {
                dom = 1;
                month += 1;
                if month > 12 {
                    month = 1;
                    year += 1;
                }
            }
        }
    }

    #[test]
    fn parse_and_display_round_trip() {
        for text in ["2027-01-20", "2024-02-29", "0001-01-01", "9999-12-31"] {
            assert_eq!(day(text).to_string(), text);
        }
        assert_eq!(day("2027-01-20T12:30:00Z"), day("2027-01-20"));
        for bad in [
            "2027-1-20",
            "2027-01-32",
            "2023-02-29",
            "2100-02-29",
            "2027-13-01",
            "2027-00-10",
            "+027-01-20",
            "2027/01/20",
            "",
            "2027-01-2a",
            "２０２７-01-20",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
    }

    #[test]
    fn unix_seconds_give_the_utc_day() {
        assert_eq!(Date::from_unix_seconds(0), day("1970-01-01"));
        assert_eq!(Date::from_unix_seconds(-1), day("1969-12-31"));
        assert_eq!(Date::from_unix_seconds(86_399), day("1970-01-01"));
        // 2027-01-20T00:00:00Z and one second before it.
        let midnight = day("2027-01-20").days() * 86_400;
        assert_eq!(Date::from_unix_seconds(midnight), day("2027-01-20"));
        assert_eq!(Date::from_unix_seconds(midnight - 1), day("2027-01-19"));
        let at = |seconds: i64| {
            let offset = std::time::Duration::from_millis(seconds.unsigned_abs() * 1000 / 2);
            if seconds >= 0 {
                std::time::UNIX_EPOCH + offset
            } else {
                std::time::UNIX_EPOCH - offset
            }
        };
        // Half of `midnight` seconds after 1970, and half a second before it.
        assert_eq!(
            Date::from_system_time(at(midnight)),
            Date::from_unix_seconds(midnight / 2)
        );
        assert_eq!(Date::from_system_time(at(-1)), day("1969-12-31"));
        assert_eq!(
            Date::from_system_time(std::time::UNIX_EPOCH),
            day("1970-01-01")
        );
    }

    #[test]
    fn the_verdict_turns_on_the_shutdown_day() {
        let shutdown = Date::JAN_20_2027;
        let on = |today: &str| Retirement::of("gpt-realtime", Some(shutdown), day(today));
        assert_eq!(
            on("2027-01-19"),
            Retirement::Ahead {
                model: "gpt-realtime".to_owned(),
                date: shutdown,
                days_left: 1,
                replacement: "gpt-realtime-2.1",
            }
        );
        assert!(on("2027-01-20").is_retired());
        assert!(on("2031-06-01").is_retired());
        let Retirement::Ahead { days_left, .. } = on("2026-01-20") else {
            panic!("a year ahead");
        };
        assert_eq!(days_left, 365);
        assert_eq!(
            Retirement::of("gpt-realtime-2.1", None, day("2030-01-01")),
            Retirement::NotAnnounced {
                model: "gpt-realtime-2.1".to_owned()
            }
        );
    }

    #[test]
    fn the_sentences_name_the_date_the_days_and_the_replacement() {
        let ahead = Retirement::of(
            "gpt-realtime-mini",
            Some(Date::JAN_20_2027),
            day("2027-01-18"),
        );
        let text = ahead.to_string();
        assert!(
            text.contains("`gpt-realtime-mini` shuts down on 2027-01-20"),
            "{text}"
        );
        assert!(text.contains("in 2 days"), "{text}");
        assert!(text.contains("`gpt-realtime-2.1-mini`"), "{text}");
        assert!(text.contains("`gpt-live-1`"), "{text}");
        let live = Retirement::of(
            "gpt-realtime-2.1",
            Some(Date::JAN_20_2027),
            day("2027-01-19"),
        );
        let text = live.to_string();
        assert!(text.contains("move to `gpt-live-1` before then"), "{text}");
        assert_eq!(text.matches("gpt-live-1").count(), 1, "{text}");
        let one = Retirement::of("gpt-realtime", Some(Date::JAN_20_2027), day("2027-01-19"));
        assert!(one.to_string().contains("in 1 day:"), "{one}");
        let retired = Retirement::of("gpt-realtime", Some(Date::JAN_20_2027), day("2027-02-01"));
        let text = retired.to_string();
        assert!(text.contains("was shut down on 2027-01-20"), "{text}");
        assert!(text.contains("use `gpt-realtime-2.1`"), "{text}");
    }

    #[test]
    fn a_model_keeps_what_it_does_not_name() {
        let body = r#"{"id":"gpt-realtime","object":"model","created":1756339200,"owned_by":"system","shutdown_date":"2027-01-20","type":"x","capabilities":{"audio":true}}"#;
        let model: Model = serde_json::from_str(body).unwrap();
        assert_eq!(model.shutdown_date, Some(Date::JAN_20_2027));
        assert_eq!(model.extra["capabilities"]["audio"], true);
        let back: serde_json::Value = serde_json::to_value(&model).unwrap();
        let sent: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(back, sent);
        let none: Model = serde_json::from_str(
            r#"{"id":"gpt-realtime-2.1","object":"model","created":1,"owned_by":"system","shutdown_date":null}"#,
        )
        .unwrap();
        assert_eq!(none.shutdown_date, None);
        let bad = serde_json::from_str::<Model>(r#"{"id":"m","shutdown_date":"soon"}"#);
        assert!(bad.unwrap_err().to_string().contains("`soon`"));
    }

    #[test]
    fn the_announced_table_is_the_reference_s() {
        assert_eq!(announced_shutdown("gpt-realtime"), Some(Date::JAN_20_2027));
        assert_eq!(announced_shutdown("gpt-realtime-2.1"), None);
        assert_eq!(ANNOUNCED_SHUTDOWNS.len(), 6);
    }
}
