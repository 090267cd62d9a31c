//! Placing a call: the inline TwiML and the REST request.
//!
//! ```text
//! <Response>
//!   <Connect><Stream url="wss://PUBLIC_URL/media-stream" statusCallback="…/twilio/stream-status">
//!     <Parameter name="apt_id" value="…"/> … <Parameter name="ctx_sig" value="v1.…"/>
//!   </Stream></Connect>
//!   <Say>spoken fallback, heard if the stream ends early</Say>
//!   <Hangup/>
//! </Response>
//! ```
//!
//! with status callbacks (initiated, ringing, answered, completed) and asynchronous
//! answering-machine detection that waits for the end of a machine's greeting, so a
//! voicemail starts after the beep.

use std::time::SystemTime;

use twilio_media_stream::context::{CallContext, SignError, SignedContext, SigningSecret};
use twilio_media_stream::ids::CallSid;
use twilio_media_stream::rest::{self, CreateCall, MachineDetection, StatusCallbackEvent};
use twilio_media_stream::twiml::{Connect, Method, Stream, VoiceResponse};

use crate::appointment::Appointment;
use crate::config::PublicUrl;
use crate::server::{CONTEXT_TTL, amd_callback_url, status_callback_url, stream_status_url};

/// The appointment signed into the call's context, valid from `now` for [`CONTEXT_TTL`].
///
/// # Errors
///
/// A field is too long for a `<Parameter>`.
pub fn sign(
    appointment: &Appointment,
    secret: &SigningSecret,
    now: SystemTime,
) -> Result<SignedContext, SignError> {
    let context = appointment
        .to_fields()
        .into_iter()
        .fold(CallContext::new(), |context, (name, value)| {
            context.field(name, value)
        });
    context.sign(secret, now, CONTEXT_TTL)
}

/// What the callee hears if the stream ends before the agent could speak (the agent
/// refused or failed): the `<Say>` after `</Connect>`.
pub fn fallback_text(appointment: &Appointment) -> String {
    let org = appointment.organization.as_deref().unwrap_or("Our office");
    let callback = appointment
        .callback_number
        .as_deref()
        .map(|n| format!(" You can also call us at {n}."))
        .unwrap_or_default();
    format!(
        "Sorry, our assistant is not available right now. {org} will call you back about your \
         appointment on {}.{callback} Goodbye.",
        appointment.when
    )
}

/// The call's TwiML: the stream with the signed context, then the spoken fallback.
pub fn twiml(
    public: &PublicUrl,
    signed: &SignedContext,
    appointment: &Appointment,
) -> VoiceResponse {
    VoiceResponse::new()
        .connect(
            Connect::new().stream(
                Stream::new(public.stream_url())
                    .status_callback(stream_status_url(public))
                    .status_callback_method(Method::Post)
                    .parameters(signed.parameters()),
            ),
        )
        .say(fallback_text(appointment))
        .hangup()
}

/// The REST request that places the call.
pub fn create_call(
    public: &PublicUrl,
    from: &str,
    to: &str,
    signed: &SignedContext,
    appointment: &Appointment,
) -> CreateCall {
    CreateCall::new(to, from, twiml(public, signed, appointment))
        .status_callback(status_callback_url(public, signed.parameters()))
        .status_callback_events([
            StatusCallbackEvent::Initiated,
            StatusCallbackEvent::Ringing,
            StatusCallbackEvent::Answered,
            StatusCallbackEvent::Completed,
        ])
        .machine_detection(MachineDetection::DetectMessageEnd)
        .async_amd_status_callback(amd_callback_url(public, signed.parameters()))
}

/// Signs the appointment and places the call.
///
/// # Errors
///
/// Twilio refused (its code and message are in the error), or the request failed.
pub async fn place(
    client: &rest::Client,
    public: &PublicUrl,
    secret: &SigningSecret,
    from: &str,
    to: &str,
    appointment: &Appointment,
) -> Result<CallSid, PlaceError> {
    let signed = sign(appointment, secret, SystemTime::now()).map_err(PlaceError::Context)?;
    let request = create_call(public, from, to, &signed, appointment);
    let call = client
        .create_call(&request)
        .await
        .map_err(PlaceError::Rest)?;
    Ok(call.sid)
}

/// Why a call could not be placed.
#[derive(Debug)]
pub enum PlaceError {
    /// The appointment does not fit in the call context.
    Context(SignError),
    /// Twilio refused, or the request failed.
    Rest(rest::Error),
}

impl std::fmt::Display for PlaceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Context(err) => {
                write!(f, "the appointment does not fit in the call context: {err}")
            }
            Self::Rest(rest::Error::Api(api)) => {
                write!(
                    f,
                    "Twilio refused the call: error {}",
                    api.code().map_or("(no code)".into(), |c| c.to_string())
                )?;
                write!(f, " (HTTP {}): {}", api.status(), api.message())?;
                if let Some(link) = api.more_info() {
                    write!(f, " ({link})")?;
                }
                Ok(())
            }
            Self::Rest(err) => write!(f, "the call could not be placed: {err}"),
        }
    }
}

impl std::error::Error for PlaceError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_twiml_streams_with_the_signed_context_then_falls_back() {
        let secret = SigningSecret::new([7u8; 32]).unwrap();
        let appointment = Appointment::demo();
        let signed = sign(&appointment, &secret, SystemTime::now()).unwrap();
        let public = PublicUrl::parse("bot.example.com").unwrap();
        let xml = twiml(&public, &signed, &appointment).to_xml();
        assert!(
            xml.contains("<Stream statusCallback=\"https://bot.example.com/twilio/stream-status\""),
            "{xml}"
        );
        assert!(
            xml.contains("url=\"wss://bot.example.com/media-stream\""),
            "{xml}"
        );
        assert!(
            xml.contains("<Parameter name=\"apt_name\" value=\"Jane Doe\" />"),
            "{xml}"
        );
        assert!(xml.contains("<Parameter name=\"ctx_sig\""), "{xml}");
        let after = xml.split("</Connect>").nth(1).unwrap();
        assert!(after.starts_with("<Say>Sorry, our assistant"), "{after}");
        assert!(after.ends_with("<Hangup /></Response>"), "{after}");
        assert!(xml.len() < rest::MAX_TWIML_CHARS);
    }
}
