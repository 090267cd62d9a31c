//! The voice webhook: Twilio's request to a number's Voice URL when a call comes in (or to
//! the `Url` of a call placed over REST, when it is answered), which the TwiML in the
//! answer tells what to do.

use std::collections::BTreeMap;

use super::{CallDirection, CallStatus, CallbackError, Form};
use crate::ids::{AccountSid, CallSid};
use crate::signature::FormParam;

/// The voice webhook: Twilio's request for the TwiML of a call.
///
/// Twilio sends it, form-encoded (POST by default, or as the query of a GET), when a call
/// reaches a number whose Voice URL points at your server, and for a call placed over REST
/// with a `Url`. Check `X-Twilio-Signature` first (`server::Verifier::check_webhook` with
/// feature `server`, or [`RequestValidator::validate_form`](crate::signature::RequestValidator::validate_form)),
/// then parse, then answer with TwiML (e.g. `<Connect><Stream>` from [`crate::twiml`]).
///
/// `From` and `To` are strings, not [`PhoneNumber`](crate::PhoneNumber)s: a call from a
/// Twilio Client or a SIP endpoint carries `client:alice` or a `sip:` URI there, and a
/// caller who withheld their number may come as `anonymous`.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::callback::{CallDirection, CallStatus, VoiceWebhook};
///
/// let body = b"AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01\
///     &CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=ringing&Direction=inbound\
///     &From=%2B14155550123&To=%2B14155550100&CallerName=&FromCountry=US";
/// let call = VoiceWebhook::from_form(form_urlencoded::parse(body))?;
/// assert_eq!(call.call_status, CallStatus::Ringing);
/// assert_eq!(call.direction, Some(CallDirection::Inbound));
/// assert_eq!(call.from, "+14155550123");
/// assert_eq!(call.caller_name, None); // sent empty: no caller-name look-up
/// assert_eq!(call.params["FromCountry"], "US"); // every parameter is kept
/// # Ok::<(), twilio_media_stream::callback::CallbackError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct VoiceWebhook {
    /// `AccountSid`: the account the called number belongs to.
    pub account_sid: AccountSid,
    /// `CallSid`: the call, as the stream's `start` and the REST API will name it.
    pub call_sid: CallSid,
    /// `CallStatus`: `ringing` for an incoming call, `in-progress` for an answered outbound one.
    pub call_status: CallStatus,
    /// `From`: who is calling (E.164, `client:…`, a SIP URI, or `anonymous`).
    pub from: String,
    /// `To`: the number (or client, or SIP URI) that was called.
    pub to: String,
    /// `Direction`.
    pub direction: Option<CallDirection>,
    /// `ApiVersion` (`2010-04-01`).
    pub api_version: Option<String>,
    /// `ForwardedFrom`: the number that forwarded the call, where the carrier tells.
    pub forwarded_from: Option<String>,
    /// `CallerName`: the caller's name, when the number has caller-name look-up on.
    pub caller_name: Option<String>,
    /// `ParentCallSid`: the call that created this one (a `<Dial>` leg), if any.
    pub parent_call_sid: Option<CallSid>,
    /// `CallToken`: lets this call be forwarded with the caller's number kept (SHAKEN/STIR).
    pub call_token: Option<String>,
    /// `StirVerstat`: the SHAKEN/STIR verification of the caller's number
    /// (e.g. `TN-Validation-Passed-A`), for calls that carry one.
    pub stir_verstat: Option<String>,
    /// Every parameter received, modelled above or not (`FromCity`, `FromCountry`, `ToZip`,
    /// the `SipHeader_…` of a SIP call, ...), with the value as sent.
    pub params: BTreeMap<String, String>,
}

impl VoiceWebhook {
    /// Parses the webhook from its decoded form pairs (the POST body, or a GET's query).
    ///
    /// # Errors
    ///
    /// [`CallbackError::MissingField`] without `AccountSid`, `CallSid`, `CallStatus`,
    /// `From` or `To` (an empty value counts as missing).
    pub fn from_form<P: FormParam>(
        params: impl IntoIterator<Item = P>,
    ) -> Result<Self, CallbackError> {
        let form = Form::new(params);
        Ok(Self {
            account_sid: AccountSid::new(form.required("AccountSid")?),
            call_sid: CallSid::new(form.required("CallSid")?),
            call_status: CallStatus::from(form.required("CallStatus")?),
            from: form.required("From")?.to_owned(),
            to: form.required("To")?.to_owned(),
            direction: form.optional("Direction").map(CallDirection::from),
            api_version: form.optional("ApiVersion").map(str::to_owned),
            forwarded_from: form.optional("ForwardedFrom").map(str::to_owned),
            caller_name: form.optional("CallerName").map(str::to_owned),
            parent_call_sid: form.optional("ParentCallSid").map(CallSid::new),
            call_token: form.optional("CallToken").map(str::to_owned),
            stir_verstat: form.optional("StirVerstat").map(str::to_owned),
            params: form.into_params(),
        })
    }

    /// Whether the call came into one of your numbers (`Direction=inbound`).
    pub fn is_inbound(&self) -> bool {
        self.direction == Some(CallDirection::Inbound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signature::{AuthToken, RequestValidator};

    /// An incoming call's request as Twilio sends it, with the geographic fields.
    const INCOMING: &str = "AccountSid=AC0123456789abcdef0123456789abcdef&ApiVersion=2010-04-01\
        &CallSid=CA0123456789abcdef0123456789abcdef&CallStatus=ringing&Called=%2B14155550100\
        &CallerName=Jane+Doe&Direction=inbound&ForwardedFrom=%2B14155550199\
        &From=%2B14155550123&FromCity=SAN+FRANCISCO&FromCountry=US&FromState=CA&FromZip=94105\
        &StirVerstat=TN-Validation-Passed-A&To=%2B14155550100&ToCountry=US&CallToken=%7B%22a%22%3A1%7D";

    #[test]
    fn an_incoming_call_parses_with_every_field() {
        let call = VoiceWebhook::from_form(form_urlencoded::parse(INCOMING.as_bytes())).unwrap();
        assert_eq!(call.account_sid, "AC0123456789abcdef0123456789abcdef");
        assert_eq!(call.call_sid, "CA0123456789abcdef0123456789abcdef");
        assert_eq!(call.call_status, CallStatus::Ringing);
        assert!(call.is_inbound());
        assert_eq!(call.from, "+14155550123");
        assert_eq!(call.to, "+14155550100");
        assert_eq!(call.caller_name.as_deref(), Some("Jane Doe"));
        assert_eq!(call.forwarded_from.as_deref(), Some("+14155550199"));
        assert_eq!(call.stir_verstat.as_deref(), Some("TN-Validation-Passed-A"));
        assert_eq!(call.call_token.as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(call.api_version.as_deref(), Some("2010-04-01"));
        assert_eq!(call.parent_call_sid, None);
        assert_eq!(call.params["FromCity"], "SAN FRANCISCO");
        assert_eq!(call.params["Called"], "+14155550100");
    }

    #[test]
    fn an_answered_outbound_call_and_a_client_caller() {
        let form = [
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("CallStatus", "in-progress"),
            ("Direction", "outbound-api"),
            ("From", "client:alice"),
            ("To", "+14155550100"),
            ("ParentCallSid", "CA00000000000000000000000000000009"),
        ];
        let call = VoiceWebhook::from_form(form).unwrap();
        assert_eq!(call.direction, Some(CallDirection::OutboundApi));
        assert!(!call.is_inbound());
        assert_eq!(call.from, "client:alice");
        assert_eq!(
            call.parent_call_sid.as_ref().map(|sid| sid.as_str()),
            Some("CA00000000000000000000000000000009")
        );
    }

    #[test]
    fn an_unknown_direction_is_kept() {
        let mut form = base_form();
        form.push(("Direction", "trunking-terminating"));
        let call = VoiceWebhook::from_form(form).unwrap();
        assert_eq!(
            call.direction.as_ref().map(CallDirection::as_str),
            Some("trunking-terminating")
        );
    }

    #[test]
    fn each_required_field_is_named_when_missing_or_empty() {
        for field in ["AccountSid", "CallSid", "CallStatus", "From", "To"] {
            let missing: Vec<_> = base_form()
                .into_iter()
                .filter(|(n, _)| *n != field)
                .collect();
            assert_eq!(
                VoiceWebhook::from_form(missing),
                Err(CallbackError::MissingField { field }),
                "{field} missing"
            );
            let empty: Vec<_> = base_form()
                .into_iter()
                .map(|(n, v)| (n, if n == field { "" } else { v }))
                .collect();
            assert_eq!(
                VoiceWebhook::from_form(empty),
                Err(CallbackError::MissingField { field }),
                "{field} empty"
            );
        }
    }

    /// The signature vector "empty parameter values still contribute their names": the
    /// webhook is checked with every received pair (empty ones too), then parsed.
    #[test]
    fn validated_then_parsed_with_the_reference_vector() {
        let validator = RequestValidator::new(AuthToken::new("0123456789abcdef0123456789abcdef"));
        let form = [
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("CallerName", ""),
            ("ForwardedFrom", ""),
            ("ParentCallSid", ""),
        ];
        validator
            .validate_form(
                "https://bot.example.com/voice",
                form,
                "N/u1lWCiX6hd+OCji/9ahc3fAWM=",
            )
            .expect("the reference signature matches");
        // That vector's form is not a whole webhook: parsing names what is missing.
        assert_eq!(
            VoiceWebhook::from_form(form),
            Err(CallbackError::MissingField {
                field: "AccountSid"
            })
        );
    }

    fn base_form() -> Vec<(&'static str, &'static str)> {
        vec![
            ("AccountSid", "AC0123456789abcdef0123456789abcdef"),
            ("CallSid", "CA0123456789abcdef0123456789abcdef"),
            ("CallStatus", "ringing"),
            ("From", "+14155550123"),
            ("To", "+14155550100"),
        ]
    }
}
