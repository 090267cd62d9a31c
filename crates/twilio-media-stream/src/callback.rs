//! Typed webhooks Twilio posts about a call: the voice webhook asking for a call's TwiML
//! ([`VoiceWebhook`]), call status callbacks, asynchronous answering machine detection
//! (AMD) verdicts and `<Stream>` status callbacks.
//!
//! Each parses from the decoded form pairs of the request body (e.g. from
//! [`form_urlencoded::parse`], or your web framework's form extractor). Validate the request's
//! signature first ([`crate::signature::RequestValidator::validate_form`]), then parse. Every
//! received parameter is kept in `params`, including those this crate does not model yet.
//!
//! # Examples
//!
//! ```
//! use twilio_media_stream::callback::{AmdCallback, AnsweredBy};
//!
//! let body = b"AccountSid=AC0123456789abcdef0123456789abcdef\
//!     &CallSid=CA0123456789abcdef0123456789abcdef\
//!     &AnsweredBy=machine_end_beep&MachineDetectionDuration=4210";
//! let amd = AmdCallback::from_form(form_urlencoded::parse(body))?;
//! assert_eq!(amd.answered_by, AnsweredBy::MachineEndBeep);
//! assert!(amd.answered_by.is_machine());
//! assert_eq!(amd.machine_detection_duration.unwrap().as_millis(), 4210);
//! # Ok::<(), twilio_media_stream::callback::CallbackError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ids::{AccountSid, CallSid, StreamSid};
use crate::signature::FormParam;

mod voice;

pub use voice::VoiceWebhook;

/// Declares an open string enum: known values as variants, anything else kept in `Other`.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $wire:literal,)*
        }
    ) => {
        $(#[$meta])*
        ///
        /// Forward compatibility: Twilio may add values. A value this version does not know
        /// parses to `Other` with the value as sent, and is written back unchanged; match on
        /// the known variants and treat `Other` as "unrecognised", never as a failure.
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this version of the crate does not know, as Twilio sent it.
            Other(String),
        }

        impl $name {
            /// The value as Twilio writes it.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Self::$variant => $wire,)*
                    Self::Other(value) => value,
                }
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value {
                    $($wire => Self::$variant,)*
                    other => Self::Other(other.to_owned()),
                }
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(Self::from(value))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::from(value.as_ref()))
            }
        }
    };
}

#[cfg_attr(not(feature = "rest"), allow(unused_imports))]
pub(crate) use open_enum;

open_enum! {
    /// A call's status, as in the call resource's `status` and a callback's `CallStatus`.
    pub enum CallStatus {
        /// Waiting to be placed (a fresh API call; see `queue_time`).
        Queued => "queued",
        /// Being placed (status callbacks only).
        Initiated => "initiated",
        /// Ringing at the far end.
        Ringing => "ringing",
        /// Answered and connected.
        InProgress => "in-progress",
        /// Answered, then ended (also when a voicemail answered).
        Completed => "completed",
        /// The far end was busy.
        Busy => "busy",
        /// Could not be placed (often a bad number).
        Failed => "failed",
        /// Not answered before the ring timeout.
        NoAnswer => "no-answer",
        /// Hung up while queued or ringing.
        Canceled => "canceled",
    }
}

open_enum! {
    /// A call's `Direction`.
    pub enum CallDirection {
        /// A call into one of your numbers.
        Inbound => "inbound",
        /// A call placed over the REST API.
        OutboundApi => "outbound-api",
        /// A call placed by `<Dial>`.
        OutboundDial => "outbound-dial",
    }
}

impl CallStatus {
    /// Whether the call has ended (`completed`, `busy`, `failed`, `no-answer`, `canceled`).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Busy | Self::Failed | Self::NoAnswer | Self::Canceled
        )
    }
}

open_enum! {
    /// Answering machine detection's verdict (`AnsweredBy`).
    ///
    /// With `MachineDetection=Enable` Twilio answers `human`, `machine_start`, `fax` or
    /// `unknown`; with `DetectMessageEnd`, `machine_end_beep`, `machine_end_silence` or
    /// `machine_end_other` instead of `machine_start`, once the greeting has ended.
    pub enum AnsweredBy {
        /// A person answered.
        Human => "human",
        /// A machine answered (`Enable`: decided at the start of the greeting).
        MachineStart => "machine_start",
        /// A machine's greeting ended with a beep (`DetectMessageEnd`).
        MachineEndBeep => "machine_end_beep",
        /// A machine's greeting ended in silence (`DetectMessageEnd`).
        MachineEndSilence => "machine_end_silence",
        /// A machine's greeting ended otherwise (`DetectMessageEnd`).
        MachineEndOther => "machine_end_other",
        /// A fax machine answered.
        Fax => "fax",
        /// Detection could not decide (Twilio's own value `unknown`). A confirmation bot
        /// usually treats this as a person.
        Unknown => "unknown",
    }
}

impl AnsweredBy {
    /// Whether an answering machine (not a fax) answered: `machine_start` or
    /// `machine_end_*`.
    pub fn is_machine(&self) -> bool {
        matches!(
            self,
            Self::MachineStart
                | Self::MachineEndBeep
                | Self::MachineEndSilence
                | Self::MachineEndOther
        )
    }
}

open_enum! {
    /// What a `<Stream>` status callback reports (`StreamEvent`).
    pub enum StreamStatusEvent {
        /// The stream started (the WebSocket is connected).
        StreamStarted => "stream-started",
        /// The stream stopped.
        StreamStopped => "stream-stopped",
        /// The stream failed; `StreamError` says why (e.g. a refused handshake).
        StreamError => "stream-error",
    }
}

/// A webhook's form could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CallbackError {
    /// A parameter the callback always carries is absent.
    #[error("callback parameter {field} is missing")]
    MissingField {
        /// The parameter's name, as Twilio spells it.
        field: &'static str,
    },
    /// A parameter has a value of the wrong shape (e.g. a number that is not one).
    #[error("callback parameter {field} has an invalid value {value:?}")]
    InvalidField {
        /// The parameter's name, as Twilio spells it.
        field: &'static str,
        /// The value received.
        value: String,
    },
}

/// A call status callback: Twilio's POST to the `StatusCallback` URL of a call.
///
/// With status callback events, callbacks are separate HTTP requests and may arrive out of
/// order: order them by [`sequence_number`](Self::sequence_number) (which starts at 0).
///
/// # Examples
///
/// ```
/// use twilio_media_stream::callback::{CallDirection, CallStatus, CallStatusCallback};
///
/// let form = [
///     ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
///     ("CallSid", "CA0123456789abcdef0123456789abcdef"),
///     ("CallStatus", "completed"),
///     ("Direction", "outbound-api"),
///     ("CallDuration", "42"),
///     ("SequenceNumber", "3"),
///     ("Timestamp", "Tue, 24 Nov 2026 17:40:00 +0000"),
/// ];
/// let callback = CallStatusCallback::from_form(form)?;
/// assert_eq!(callback.call_status, CallStatus::Completed);
/// assert!(callback.call_status.is_final());
/// assert_eq!(callback.call_duration.map(|d| d.as_secs()), Some(42));
/// assert_eq!(callback.sequence_number, Some(3));
/// assert_eq!(callback.direction, Some(CallDirection::OutboundApi));
/// # Ok::<(), twilio_media_stream::callback::CallbackError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallStatusCallback {
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `CallSid`.
    pub call_sid: CallSid,
    /// `CallStatus`; the `completed` event carries the final status.
    pub call_status: CallStatus,
    /// `ParentCallSid`, absent on a first leg.
    pub parent_call_sid: Option<CallSid>,
    /// `From`.
    pub from: Option<String>,
    /// `To`.
    pub to: Option<String>,
    /// `Direction` (`outbound-api` for calls created over REST).
    pub direction: Option<CallDirection>,
    /// `Timestamp`, as sent (RFC 2822, e.g. `Tue, 24 Nov 2026 17:40:00 +0000`).
    pub timestamp: Option<String>,
    /// `CallbackSource` (`call-progress-events`).
    pub callback_source: Option<String>,
    /// `SequenceNumber`: the order of this call's callbacks, from 0.
    pub sequence_number: Option<u32>,
    /// `CallDuration`, on the final event.
    pub call_duration: Option<Duration>,
    /// `SipResponseCode` (e.g. 487 for a ring timeout), on the final event.
    pub sip_response_code: Option<u16>,
    /// `AnsweredBy`, when machine detection ran.
    pub answered_by: Option<AnsweredBy>,
    /// Every parameter received, modelled above or not.
    pub params: BTreeMap<String, String>,
}

impl CallStatusCallback {
    /// Parses the callback from its decoded form pairs.
    ///
    /// # Errors
    ///
    /// [`CallbackError::MissingField`] without `AccountSid`, `CallSid` or `CallStatus`;
    /// [`CallbackError::InvalidField`] when a number is not one.
    pub fn from_form<P: FormParam>(
        params: impl IntoIterator<Item = P>,
    ) -> Result<Self, CallbackError> {
        let form = Form::new(params);
        Ok(Self {
            account_sid: AccountSid::new(form.required("AccountSid")?),
            call_sid: CallSid::new(form.required("CallSid")?),
            call_status: CallStatus::from(form.required("CallStatus")?),
            parent_call_sid: form.optional("ParentCallSid").map(CallSid::new),
            from: form.optional("From").map(str::to_owned),
            to: form.optional("To").map(str::to_owned),
            direction: form.optional("Direction").map(CallDirection::from),
            timestamp: form.optional("Timestamp").map(str::to_owned),
            callback_source: form.optional("CallbackSource").map(str::to_owned),
            sequence_number: form.number("SequenceNumber")?,
            call_duration: form.number("CallDuration")?.map(Duration::from_secs),
            sip_response_code: form.number("SipResponseCode")?,
            answered_by: form.optional("AnsweredBy").map(AnsweredBy::from),
            params: form.into_params(),
        })
    }
}

/// The asynchronous answering machine detection verdict: Twilio's POST to
/// `AsyncAmdStatusCallback`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AmdCallback {
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `CallSid`.
    pub call_sid: CallSid,
    /// `AnsweredBy`: the verdict.
    pub answered_by: AnsweredBy,
    /// `MachineDetectionDuration`: how long detection took.
    pub machine_detection_duration: Option<Duration>,
    /// Every parameter received, modelled above or not.
    pub params: BTreeMap<String, String>,
}

impl AmdCallback {
    /// Parses the callback from its decoded form pairs.
    ///
    /// # Errors
    ///
    /// [`CallbackError::MissingField`] without `AccountSid`, `CallSid` or `AnsweredBy`;
    /// [`CallbackError::InvalidField`] when `MachineDetectionDuration` is not a number.
    pub fn from_form<P: FormParam>(
        params: impl IntoIterator<Item = P>,
    ) -> Result<Self, CallbackError> {
        let form = Form::new(params);
        Ok(Self {
            account_sid: AccountSid::new(form.required("AccountSid")?),
            call_sid: CallSid::new(form.required("CallSid")?),
            answered_by: AnsweredBy::from(form.required("AnsweredBy")?),
            machine_detection_duration: form
                .number("MachineDetectionDuration")?
                .map(Duration::from_millis),
            params: form.into_params(),
        })
    }
}

/// A `<Stream>` status callback: Twilio's POST to the stream's `statusCallback`. The only
/// place outside Twilio's Console where the reason for a failed stream shows up.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::callback::{StreamStatusCallback, StreamStatusEvent};
///
/// let form = [
///     ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
///     ("CallSid", "CA0123456789abcdef0123456789abcdef"),
///     ("StreamSid", "MZ0123456789abcdef0123456789abcdef"),
///     ("StreamName", "MZ0123456789abcdef0123456789abcdef"),
///     ("StreamEvent", "stream-error"),
///     ("StreamError", "Stream - WebSocket - Handshake Error"),
///     ("Timestamp", "2026-11-24T17:40:00.000Z"),
/// ];
/// let callback = StreamStatusCallback::from_form(form)?;
/// assert_eq!(callback.stream_event, StreamStatusEvent::StreamError);
/// assert_eq!(callback.stream_error.as_deref(), Some("Stream - WebSocket - Handshake Error"));
/// # Ok::<(), twilio_media_stream::callback::CallbackError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamStatusCallback {
    /// `AccountSid`.
    pub account_sid: AccountSid,
    /// `CallSid`.
    pub call_sid: CallSid,
    /// `StreamSid`.
    pub stream_sid: StreamSid,
    /// `StreamName`: the `<Stream name>`, or the stream SID when none was given.
    pub stream_name: Option<String>,
    /// `StreamEvent`.
    pub stream_event: StreamStatusEvent,
    /// `StreamError`, the detailed message when the stream failed.
    pub stream_error: Option<String>,
    /// `Timestamp`, as sent (ISO 8601).
    pub timestamp: Option<String>,
    /// Every parameter received, modelled above or not.
    pub params: BTreeMap<String, String>,
}

impl StreamStatusCallback {
    /// Parses the callback from its decoded form pairs.
    ///
    /// # Errors
    ///
    /// [`CallbackError::MissingField`] without `AccountSid`, `CallSid`, `StreamSid` or
    /// `StreamEvent`.
    pub fn from_form<P: FormParam>(
        params: impl IntoIterator<Item = P>,
    ) -> Result<Self, CallbackError> {
        let form = Form::new(params);
        Ok(Self {
            account_sid: AccountSid::new(form.required("AccountSid")?),
            call_sid: CallSid::new(form.required("CallSid")?),
            stream_sid: StreamSid::new(form.required("StreamSid")?),
            stream_name: form.optional("StreamName").map(str::to_owned),
            stream_event: StreamStatusEvent::from(form.required("StreamEvent")?),
            stream_error: form.optional("StreamError").map(str::to_owned),
            timestamp: form.optional("Timestamp").map(str::to_owned),
            params: form.into_params(),
        })
    }
}

/// The decoded form of a callback; for a repeated name the first value counts.
struct Form {
    params: BTreeMap<String, String>,
}

impl Form {
    fn new<P: FormParam>(params: impl IntoIterator<Item = P>) -> Self {
        let mut map = BTreeMap::new();
        for param in params {
            map.entry(param.name().to_owned())
                .or_insert_with(|| param.value().to_owned());
        }
        Self { params: map }
    }

    /// A parameter that is present; an empty value counts as absent.
    fn optional(&self, field: &str) -> Option<&str> {
        self.params
            .get(field)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    fn required(&self, field: &'static str) -> Result<&str, CallbackError> {
        self.optional(field)
            .ok_or(CallbackError::MissingField { field })
    }

    fn number<T: FromStr>(&self, field: &'static str) -> Result<Option<T>, CallbackError> {
        self.optional(field)
            .map(|value| {
                value.parse().map_err(|_| CallbackError::InvalidField {
                    field,
                    value: value.to_owned(),
                })
            })
            .transpose()
    }

    fn into_params(self) -> BTreeMap<String, String> {
        self.params
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01\
        &CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=no-answer&CallDuration=0\
        &Direction=outbound-api&From=%2B15005550006&To=%2B14155550100\
        &Timestamp=Tue%2C+24+Nov+2026+17%3A40%3A00+%2B0000&CallbackSource=call-progress-events\
        &SequenceNumber=2&SipResponseCode=487&ForwardedFrom=&NewThing=kept";

    #[test]
    fn status_callback_from_a_real_body() {
        let callback = CallStatusCallback::from_form(form_urlencoded::parse(STATUS.as_bytes()))
            .expect("parses");
        assert_eq!(callback.call_sid, "CA0123456789abcdef0123456789abcdef");
        assert_eq!(callback.call_status, CallStatus::NoAnswer);
        assert!(callback.call_status.is_final());
        assert_eq!(callback.from.as_deref(), Some("+15005550006"));
        assert_eq!(
            callback.timestamp.as_deref(),
            Some("Tue, 24 Nov 2026 17:40:00 +0000")
        );
        assert_eq!(callback.sequence_number, Some(2));
        assert_eq!(callback.sip_response_code, Some(487));
        assert_eq!(callback.call_duration, Some(Duration::ZERO));
        assert_eq!(callback.parent_call_sid, None);
        assert_eq!(callback.params["NewThing"], "kept");
        assert_eq!(callback.params["ForwardedFrom"], "");
    }

    #[test]
    fn missing_and_invalid_fields_are_named() {
        assert_eq!(
            CallStatusCallback::from_form([("CallSid", "CA1"), ("CallStatus", "ringing")]),
            Err(CallbackError::MissingField {
                field: "AccountSid"
            })
        );
        assert_eq!(
            CallStatusCallback::from_form([
                ("AccountSid", "AC1"),
                ("CallSid", "CA1"),
                ("CallStatus", "ringing"),
                ("SequenceNumber", "two"),
            ]),
            Err(CallbackError::InvalidField {
                field: "SequenceNumber",
                value: "two".into()
            })
        );
        assert_eq!(
            AmdCallback::from_form([("AccountSid", "AC1"), ("CallSid", "CA1")]),
            Err(CallbackError::MissingField {
                field: "AnsweredBy"
            })
        );
    }

    #[test]
    fn every_answered_by_value_round_trips() {
        let known = [
            ("human", AnsweredBy::Human, false),
            ("machine_start", AnsweredBy::MachineStart, true),
            ("machine_end_beep", AnsweredBy::MachineEndBeep, true),
            ("machine_end_silence", AnsweredBy::MachineEndSilence, true),
            ("machine_end_other", AnsweredBy::MachineEndOther, true),
            ("fax", AnsweredBy::Fax, false),
            ("unknown", AnsweredBy::Unknown, false),
        ];
        for (wire, value, machine) in known {
            assert_eq!(AnsweredBy::from(wire), value);
            assert_eq!(value.as_str(), wire);
            assert_eq!(value.is_machine(), machine, "{wire}");
        }
        let new = AnsweredBy::from("machine_end_music");
        assert_eq!(new, AnsweredBy::Other("machine_end_music".into()));
        assert_eq!(new.as_str(), "machine_end_music");
        assert!(!new.is_machine());
    }

    #[test]
    fn every_call_status_round_trips_through_json() {
        for wire in [
            "queued",
            "initiated",
            "ringing",
            "in-progress",
            "completed",
            "busy",
            "failed",
            "no-answer",
            "canceled",
            "something-new",
        ] {
            let status: CallStatus = serde_json::from_str(&format!("\"{wire}\"")).unwrap();
            assert_eq!(status.as_str(), wire);
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{wire}\"")
            );
            assert_eq!(
                matches!(status, CallStatus::Other(_)),
                wire == "something-new"
            );
        }
    }

    #[test]
    fn amd_callback_reads_the_duration_in_milliseconds() {
        let amd = AmdCallback::from_form([
            ("AccountSid", "AC1"),
            ("CallSid", "CA1"),
            ("AnsweredBy", "human"),
            ("MachineDetectionDuration", "1234"),
        ])
        .unwrap();
        assert_eq!(amd.answered_by, AnsweredBy::Human);
        assert_eq!(
            amd.machine_detection_duration,
            Some(Duration::from_millis(1234))
        );
    }

    #[test]
    fn repeated_names_keep_the_first_value() {
        let amd = AmdCallback::from_form([
            ("AccountSid", "AC1"),
            ("CallSid", "CA1"),
            ("AnsweredBy", "human"),
            ("AnsweredBy", "machine_start"),
        ])
        .unwrap();
        assert_eq!(amd.answered_by, AnsweredBy::Human);
    }
}
