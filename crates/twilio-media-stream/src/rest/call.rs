//! The Calls resource: request parameters for create and update, and the call resource.

use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize};

use crate::callback::{AnsweredBy, CallStatus};
use crate::ids::{AccountSid, CallSid};
use crate::twiml::{Method, VoiceResponse};

use super::Error;

/// Twilio's limit on the `Twiml` parameter, in characters.
pub const MAX_TWIML_CHARS: usize = 4000;

/// What a call does once answered: inline TwiML or a URL to fetch it from.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::rest::CallInstructions;
/// use twilio_media_stream::twiml::{Method, VoiceResponse};
///
/// let inline: CallInstructions = VoiceResponse::new().say("Hello").hangup().into();
/// let fetched = CallInstructions::url("https://bot.example.com/twiml").method(Method::Get);
/// # let _ = (inline, fetched);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CallInstructions {
    /// `Twiml`: the document itself (at most [`MAX_TWIML_CHARS`] characters).
    Twiml(String),
    /// `Url` (and `Method`): Twilio fetches the TwiML from there.
    Url {
        /// The absolute URL.
        url: String,
        /// The method Twilio fetches it with (Twilio's default is `POST`).
        method: Option<Method>,
    },
}

impl CallInstructions {
    /// Inline TwiML.
    pub fn twiml(twiml: impl Into<String>) -> Self {
        Self::Twiml(twiml.into())
    }

    /// TwiML fetched from `url`.
    pub fn url(url: impl Into<String>) -> Self {
        Self::Url {
            url: url.into(),
            method: None,
        }
    }

    /// Sets the method for [`CallInstructions::Url`]; no effect on inline TwiML.
    #[must_use]
    pub fn method(self, method: Method) -> Self {
        match self {
            Self::Url { url, .. } => Self::Url {
                url,
                method: Some(method),
            },
            twiml => twiml,
        }
    }

    fn write_form(&self, form: &mut Vec<(&'static str, String)>) -> Result<(), Error> {
        match self {
            Self::Twiml(twiml) => {
                let chars = twiml.chars().count();
                if chars > MAX_TWIML_CHARS {
                    return Err(Error::InvalidRequest(format!(
                        "Twiml has {chars} characters; Twilio accepts at most {MAX_TWIML_CHARS}"
                    )));
                }
                form.push(("Twiml", twiml.clone()));
            }
            Self::Url { url, method } => {
                form.push(("Url", url.clone()));
                if let Some(method) = method {
                    form.push(("Method", method.as_str().to_owned()));
                }
            }
        }
        Ok(())
    }
}

impl From<VoiceResponse> for CallInstructions {
    /// Inline TwiML, written without the XML declaration (it counts against the limit).
    fn from(response: VoiceResponse) -> Self {
        Self::Twiml(response.to_xml_without_declaration())
    }
}

impl From<&VoiceResponse> for CallInstructions {
    /// Inline TwiML, written without the XML declaration (it counts against the limit).
    fn from(response: &VoiceResponse) -> Self {
        Self::Twiml(response.to_xml_without_declaration())
    }
}

/// A call progress event to be told about (`StatusCallbackEvent`). Without any, Twilio
/// sends `completed` only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusCallbackEvent {
    /// `initiated`: Twilio starts placing the call.
    Initiated,
    /// `ringing`: the far end rings.
    Ringing,
    /// `answered`: the call was answered (arrives with `CallStatus=in-progress`).
    Answered,
    /// `completed`: the call ended, with its final status.
    Completed,
}

impl StatusCallbackEvent {
    /// The value as Twilio writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiated => "initiated",
            Self::Ringing => "ringing",
            Self::Answered => "answered",
            Self::Completed => "completed",
        }
    }
}

/// Answering machine detection mode (`MachineDetection`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MachineDetection {
    /// `Enable`: the verdict as soon as it is known (`human`, `machine_start`, `fax`,
    /// `unknown`).
    Enable,
    /// `DetectMessageEnd`: for a machine, wait until its greeting ends (then
    /// `machine_end_beep`, `machine_end_silence` or `machine_end_other`), e.g. to leave a
    /// message.
    DetectMessageEnd,
}

impl MachineDetection {
    /// The value as Twilio writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enable => "Enable",
            Self::DetectMessageEnd => "DetectMessageEnd",
        }
    }
}

/// The parameters of a new outbound call (`POST .../Calls.json`).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use twilio_media_stream::rest::{CreateCall, MachineDetection, StatusCallbackEvent};
/// use twilio_media_stream::twiml::VoiceResponse;
///
/// let call = CreateCall::new("+14155550100", "+15005550006", VoiceResponse::new().say("Hi"))
///     .status_callback("https://bot.example.com/twilio/status")
///     .status_callback_events([StatusCallbackEvent::Initiated, StatusCallbackEvent::Completed])
///     .machine_detection(MachineDetection::Enable)
///     .async_amd_status_callback("https://bot.example.com/twilio/amd")
///     .timeout(Duration::from_secs(30))
///     .record(false);
/// # let _ = call;
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct CreateCall {
    to: String,
    from: String,
    instructions: CallInstructions,
    status_callback: Option<String>,
    status_callback_method: Option<Method>,
    status_callback_events: Vec<StatusCallbackEvent>,
    machine_detection: Option<MachineDetection>,
    async_amd: Option<bool>,
    async_amd_status_callback: Option<String>,
    async_amd_status_callback_method: Option<Method>,
    machine_detection_timeout: Option<Duration>,
    machine_detection_speech_threshold: Option<Duration>,
    machine_detection_speech_end_threshold: Option<Duration>,
    machine_detection_silence_timeout: Option<Duration>,
    timeout: Option<Duration>,
    time_limit: Option<Duration>,
    record: Option<bool>,
}

impl CreateCall {
    /// A call `to` a number (E.164, e.g. `+14155550100`), SIP address or `client:name`,
    /// `from` one of your Twilio numbers or a verified caller id, doing `instructions` once
    /// answered.
    pub fn new(
        to: impl Into<String>,
        from: impl Into<String>,
        instructions: impl Into<CallInstructions>,
    ) -> Self {
        Self {
            to: to.into(),
            from: from.into(),
            instructions: instructions.into(),
            status_callback: None,
            status_callback_method: None,
            status_callback_events: Vec::new(),
            machine_detection: None,
            async_amd: None,
            async_amd_status_callback: None,
            async_amd_status_callback_method: None,
            machine_detection_timeout: None,
            machine_detection_speech_threshold: None,
            machine_detection_speech_end_threshold: None,
            machine_detection_silence_timeout: None,
            timeout: None,
            time_limit: None,
            record: None,
        }
    }

    /// `StatusCallback`: where Twilio posts call progress (see
    /// [`CallStatusCallback`](crate::callback::CallStatusCallback)).
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    /// `StatusCallbackMethod` (Twilio's default is `POST`).
    pub fn status_callback_method(mut self, method: Method) -> Self {
        self.status_callback_method = Some(method);
        self
    }

    /// `StatusCallbackEvent`: which progress events to post (one parameter per event).
    pub fn status_callback_events(
        mut self,
        events: impl IntoIterator<Item = StatusCallbackEvent>,
    ) -> Self {
        self.status_callback_events = events.into_iter().collect();
        self
    }

    /// `MachineDetection`: run answering machine detection. Without
    /// [`async_amd_status_callback`](Self::async_amd_status_callback) the call's TwiML waits
    /// for the verdict (seconds of silence for a person who answered).
    pub fn machine_detection(mut self, mode: MachineDetection) -> Self {
        self.machine_detection = Some(mode);
        self
    }

    /// `AsyncAmd=true` with `AsyncAmdStatusCallback`: the TwiML starts at once and the
    /// verdict is posted to `url` later (see [`AmdCallback`](crate::callback::AmdCallback)).
    pub fn async_amd_status_callback(mut self, url: impl Into<String>) -> Self {
        self.async_amd = Some(true);
        self.async_amd_status_callback = Some(url.into());
        self
    }

    /// `AsyncAmd`, set explicitly (it is set to `true` by
    /// [`async_amd_status_callback`](Self::async_amd_status_callback)).
    pub fn async_amd(mut self, enabled: bool) -> Self {
        self.async_amd = Some(enabled);
        self
    }

    /// `AsyncAmdStatusCallbackMethod` (Twilio's default is `POST`).
    pub fn async_amd_status_callback_method(mut self, method: Method) -> Self {
        self.async_amd_status_callback_method = Some(method);
        self
    }

    /// `MachineDetectionTimeout` (whole seconds; Twilio's default is 30).
    pub fn machine_detection_timeout(mut self, timeout: Duration) -> Self {
        self.machine_detection_timeout = Some(timeout);
        self
    }

    /// `MachineDetectionSpeechThreshold` (milliseconds, 1000 to 6000; default 2400).
    pub fn machine_detection_speech_threshold(mut self, threshold: Duration) -> Self {
        self.machine_detection_speech_threshold = Some(threshold);
        self
    }

    /// `MachineDetectionSpeechEndThreshold` (milliseconds, 500 to 5000; default 1200).
    pub fn machine_detection_speech_end_threshold(mut self, threshold: Duration) -> Self {
        self.machine_detection_speech_end_threshold = Some(threshold);
        self
    }

    /// `MachineDetectionSilenceTimeout` (milliseconds, 2000 to 10000; default 5000).
    pub fn machine_detection_silence_timeout(mut self, timeout: Duration) -> Self {
        self.machine_detection_silence_timeout = Some(timeout);
        self
    }

    /// `Timeout`: how long to let it ring (whole seconds; default 60, at most 600).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// `TimeLimit`: the longest the call may last (whole seconds).
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// `Record`: record the call (Twilio's default is not to).
    pub fn record(mut self, record: bool) -> Self {
        self.record = Some(record);
        self
    }

    /// The form parameters, in a fixed order.
    pub(crate) fn to_form(&self) -> Result<Vec<(&'static str, String)>, Error> {
        let mut form = vec![("To", self.to.clone()), ("From", self.from.clone())];
        self.instructions.write_form(&mut form)?;
        push(&mut form, "StatusCallback", self.status_callback.clone());
        push(
            &mut form,
            "StatusCallbackMethod",
            self.status_callback_method.map(|m| m.as_str().to_owned()),
        );
        for event in &self.status_callback_events {
            form.push(("StatusCallbackEvent", event.as_str().to_owned()));
        }
        push(
            &mut form,
            "MachineDetection",
            self.machine_detection.map(|m| m.as_str().to_owned()),
        );
        push(&mut form, "AsyncAmd", self.async_amd.map(|b| b.to_string()));
        push(
            &mut form,
            "AsyncAmdStatusCallback",
            self.async_amd_status_callback.clone(),
        );
        push(
            &mut form,
            "AsyncAmdStatusCallbackMethod",
            self.async_amd_status_callback_method
                .map(|m| m.as_str().to_owned()),
        );
        push(
            &mut form,
            "MachineDetectionTimeout",
            self.machine_detection_timeout.map(seconds),
        );
        push(
            &mut form,
            "MachineDetectionSpeechThreshold",
            self.machine_detection_speech_threshold.map(millis),
        );
        push(
            &mut form,
            "MachineDetectionSpeechEndThreshold",
            self.machine_detection_speech_end_threshold.map(millis),
        );
        push(
            &mut form,
            "MachineDetectionSilenceTimeout",
            self.machine_detection_silence_timeout.map(millis),
        );
        push(&mut form, "Timeout", self.timeout.map(seconds));
        push(&mut form, "TimeLimit", self.time_limit.map(seconds));
        push(&mut form, "Record", self.record.map(|b| b.to_string()));
        Ok(form)
    }
}

/// The `Status` an update sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpdateStatus {
    /// `completed`: hang up a call in progress.
    Completed,
    /// `canceled`: cancel a call still queued or ringing (no effect once answered).
    Canceled,
}

impl UpdateStatus {
    /// The value as Twilio writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Canceled => "canceled",
        }
    }
}

/// The parameters of a call update (`POST .../Calls/{CallSid}.json`).
///
/// # Examples
///
/// ```
/// use twilio_media_stream::rest::UpdateCall;
/// use twilio_media_stream::twiml::VoiceResponse;
///
/// let hang_up = UpdateCall::hang_up();
/// let goodbye = UpdateCall::redirect(VoiceResponse::new().say("Goodbye.").hangup());
/// # let _ = (hang_up, goodbye);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct UpdateCall {
    status: Option<UpdateStatus>,
    instructions: Option<CallInstructions>,
    status_callback: Option<String>,
    status_callback_method: Option<Method>,
    time_limit: Option<Duration>,
}

impl UpdateCall {
    /// An update that changes nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// `Status=completed`: hang up.
    pub fn hang_up() -> Self {
        Self::new().status(UpdateStatus::Completed)
    }

    /// `Status=canceled`: cancel a call that is not answered yet.
    pub fn cancel() -> Self {
        Self::new().status(UpdateStatus::Canceled)
    }

    /// Replace what the call is doing (this ends a running `<Connect><Stream>`).
    pub fn redirect(instructions: impl Into<CallInstructions>) -> Self {
        Self::new().instructions(instructions)
    }

    /// Sets `Status`.
    pub fn status(mut self, status: UpdateStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets `Twiml` or `Url`/`Method`.
    pub fn instructions(mut self, instructions: impl Into<CallInstructions>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets `StatusCallback`.
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    /// Sets `StatusCallbackMethod`.
    pub fn status_callback_method(mut self, method: Method) -> Self {
        self.status_callback_method = Some(method);
        self
    }

    /// Sets `TimeLimit` (whole seconds).
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    pub(crate) fn to_form(&self) -> Result<Vec<(&'static str, String)>, Error> {
        let mut form = Vec::new();
        push(
            &mut form,
            "Status",
            self.status.map(|s| s.as_str().to_owned()),
        );
        if let Some(instructions) = &self.instructions {
            instructions.write_form(&mut form)?;
        }
        push(&mut form, "StatusCallback", self.status_callback.clone());
        push(
            &mut form,
            "StatusCallbackMethod",
            self.status_callback_method.map(|m| m.as_str().to_owned()),
        );
        push(&mut form, "TimeLimit", self.time_limit.map(seconds));
        if form.is_empty() {
            return Err(Error::InvalidRequest(
                "call update has nothing to change".to_owned(),
            ));
        }
        Ok(form)
    }
}

fn push(form: &mut Vec<(&'static str, String)>, name: &'static str, value: Option<String>) {
    if let Some(value) = value {
        form.push((name, value));
    }
}

fn seconds(duration: Duration) -> String {
    duration.as_secs().to_string()
}

fn millis(duration: Duration) -> String {
    duration.as_millis().to_string()
}

/// A call resource, as Twilio returns it from create and update.
///
/// Twilio documents every field as nullable; dates are RFC 2822 strings, and `duration`,
/// `price` and `queue_time` are strings too. Fields not listed here are ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Call {
    /// `sid`: the call's id (`CA...`).
    pub sid: CallSid,
    /// `account_sid`.
    #[serde(default)]
    pub account_sid: Option<AccountSid>,
    /// `parent_call_sid`.
    #[serde(default)]
    pub parent_call_sid: Option<CallSid>,
    /// `status`: `queued` for a fresh call.
    #[serde(default)]
    pub status: Option<CallStatus>,
    /// `to`.
    #[serde(default)]
    pub to: Option<String>,
    /// `from`.
    #[serde(default)]
    pub from: Option<String>,
    /// `direction` (`outbound-api` for calls created here).
    #[serde(default)]
    pub direction: Option<String>,
    /// `answered_by`, when machine detection ran.
    #[serde(default)]
    pub answered_by: Option<AnsweredBy>,
    /// `start_time`.
    #[serde(default)]
    pub start_time: Option<String>,
    /// `end_time`.
    #[serde(default)]
    pub end_time: Option<String>,
    /// `duration`, in seconds.
    #[serde(default, deserialize_with = "string_or_number")]
    pub duration: Option<String>,
    /// `price`.
    #[serde(default, deserialize_with = "string_or_number")]
    pub price: Option<String>,
    /// `price_unit`.
    #[serde(default)]
    pub price_unit: Option<String>,
    /// `queue_time`, in milliseconds.
    #[serde(default, deserialize_with = "string_or_number")]
    pub queue_time: Option<String>,
    /// `date_created`.
    #[serde(default)]
    pub date_created: Option<String>,
    /// `date_updated`.
    #[serde(default)]
    pub date_updated: Option<String>,
    /// `api_version`.
    #[serde(default)]
    pub api_version: Option<String>,
    /// `uri`.
    #[serde(default)]
    pub uri: Option<String>,
}

/// A nullable field Twilio documents as a string but which could come as a number.
fn string_or_number<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Loose {
        Text(String),
        Number(serde_json::Number),
    }
    Ok(match Option::<Loose>::deserialize(deserializer)? {
        Some(Loose::Text(text)) => Some(text),
        Some(Loose::Number(number)) => Some(number.to_string()),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_form_has_every_option_in_order() {
        let form = CreateCall::new(
            "+14155550100",
            "+15005550006",
            CallInstructions::url("https://h/t").method(Method::Get),
        )
        .status_callback("https://h/s")
        .status_callback_method(Method::Post)
        .status_callback_events([
            StatusCallbackEvent::Initiated,
            StatusCallbackEvent::Answered,
        ])
        .machine_detection(MachineDetection::Enable)
        .async_amd_status_callback("https://h/amd")
        .async_amd_status_callback_method(Method::Post)
        .machine_detection_timeout(Duration::from_secs(20))
        .machine_detection_speech_threshold(Duration::from_millis(2400))
        .machine_detection_speech_end_threshold(Duration::from_millis(1200))
        .machine_detection_silence_timeout(Duration::from_millis(5000))
        .timeout(Duration::from_secs(30))
        .time_limit(Duration::from_secs(600))
        .record(false)
        .to_form()
        .unwrap();
        let expected = [
            ("To", "+14155550100"),
            ("From", "+15005550006"),
            ("Url", "https://h/t"),
            ("Method", "GET"),
            ("StatusCallback", "https://h/s"),
            ("StatusCallbackMethod", "POST"),
            ("StatusCallbackEvent", "initiated"),
            ("StatusCallbackEvent", "answered"),
            ("MachineDetection", "Enable"),
            ("AsyncAmd", "true"),
            ("AsyncAmdStatusCallback", "https://h/amd"),
            ("AsyncAmdStatusCallbackMethod", "POST"),
            ("MachineDetectionTimeout", "20"),
            ("MachineDetectionSpeechThreshold", "2400"),
            ("MachineDetectionSpeechEndThreshold", "1200"),
            ("MachineDetectionSilenceTimeout", "5000"),
            ("Timeout", "30"),
            ("TimeLimit", "600"),
            ("Record", "false"),
        ];
        let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(form, expected);
    }

    #[test]
    fn twiml_over_the_limit_is_refused_before_sending() {
        let long = format!("<Response><Say>{}</Say></Response>", "a".repeat(4000));
        let err = CreateCall::new("+1", "+2", CallInstructions::twiml(long))
            .to_form()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidRequest(_)), "{err}");
        assert!(err.to_string().contains("4000"), "{err}");
    }

    #[test]
    fn empty_update_is_refused() {
        assert!(matches!(
            UpdateCall::new().to_form(),
            Err(Error::InvalidRequest(_))
        ));
        let form = UpdateCall::hang_up().to_form().unwrap();
        assert_eq!(form, [("Status", "completed".to_owned())]);
    }

    #[test]
    fn call_decodes_with_numbers_where_strings_are_documented() {
        let call: Call = serde_json::from_str(
            r#"{"sid":"CA1","status":"completed","duration":42,"price":"-0.013","queue_time":null,"answered_by":"machine_end_beep","subresource_uris":{}}"#,
        )
        .unwrap();
        assert_eq!(call.duration.as_deref(), Some("42"));
        assert_eq!(call.price.as_deref(), Some("-0.013"));
        assert_eq!(call.queue_time, None);
        assert_eq!(call.answered_by, Some(AnsweredBy::MachineEndBeep));
        assert_eq!(call.status, Some(CallStatus::Completed));
    }
}
