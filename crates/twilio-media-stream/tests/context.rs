//! A signed call context survives the trip through TwiML: signed when the call is placed,
//! written as `<Parameter>`s by the builder, read back (as Twilio would hand them to the
//! stream in `start.customParameters`) and verified.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use twilio_media_stream::context::{CallContext, SigningSecret, VerifyError};
use twilio_media_stream::twiml::{Connect, Stream, VoiceResponse};

fn secret() -> SigningSecret {
    SigningSecret::new(*b"a test secret, 32 bytes or more!").expect("long enough")
}

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
}

/// The `<Parameter>`s of a TwiML document, unescaped, as Twilio puts them in
/// `customParameters`. Only handles what our builder writes.
fn custom_parameters(twiml: &str) -> BTreeMap<String, String> {
    let mut params = BTreeMap::new();
    for element in twiml.split("<Parameter ").skip(1) {
        let attribute = |name: &str| {
            let start = element.find(&format!("{name}=\"")).expect("attribute") + name.len() + 2;
            let end = start + element[start..].find('"').expect("closing quote");
            unescape(&element[start..end])
        };
        params.insert(attribute("name"), attribute("value"));
    }
    params
}

fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#10;", "\n")
        .replace("&#13;", "\r")
        .replace("&#09;", "\t")
        .replace("&amp;", "&")
}

fn signed_twiml(now: SystemTime) -> String {
    let signed = CallContext::new()
        .field("appointment_id", "apt_42")
        .field("patient_name", "Ana & <Bob> \"O'Neil\"")
        .field("appointment_time", "2026-12-01T09:30:00Z")
        .sign(&secret(), now, Duration::from_secs(900))
        .expect("sign");
    VoiceResponse::new()
        .connect(Connect::new().stream(
            Stream::new("wss://bot.example.com/media-stream").parameters(signed.parameters()),
        ))
        .to_xml()
}

#[test]
fn context_signed_into_twiml_verifies_from_the_parameters() {
    let twiml = signed_twiml(at(1_767_225_600));
    let params = custom_parameters(&twiml);
    assert_eq!(
        params.len(),
        6,
        "three fields, ctx_iat, ctx_exp, ctx_sig: {twiml}"
    );

    let context = secret()
        .verify(&params, at(1_767_225_600 + 60))
        .expect("valid context");
    assert_eq!(context.field("appointment_id"), Some("apt_42"));
    assert_eq!(
        context.field("patient_name"),
        Some("Ana & <Bob> \"O'Neil\"")
    );
    assert_eq!(
        context.field("appointment_time"),
        Some("2026-12-01T09:30:00Z")
    );
    assert_eq!(context.nonce(), None);
}

#[test]
fn forged_context_in_twiml_is_refused() {
    let twiml = signed_twiml(at(1_767_225_600));
    let forged = twiml.replace("apt_42", "apt_99");
    assert_eq!(
        secret().verify(&custom_parameters(&forged), at(1_767_225_600)),
        Err(VerifyError::BadSignature)
    );
}

#[test]
fn unsigned_twiml_parameters_are_refused() {
    let twiml = VoiceResponse::new()
        .connect(Connect::new().stream(
            Stream::new("wss://bot.example.com/media-stream").parameter("appointment_id", "apt_42"),
        ))
        .to_xml();
    assert_eq!(
        secret().verify(&custom_parameters(&twiml), at(1_767_225_600)),
        Err(VerifyError::MissingSignature)
    );
}

#[test]
fn replay_after_expiry_is_refused() {
    let twiml = signed_twiml(at(1_767_225_600));
    assert!(matches!(
        secret().verify(&custom_parameters(&twiml), at(1_767_225_600 + 900)),
        Err(VerifyError::Expired { .. })
    ));
}

#[test]
fn context_verifies_from_a_decoded_start_message() {
    use twilio_media_stream::StreamEvent;

    let twiml = signed_twiml(at(1_767_225_600));
    let params = custom_parameters(&twiml);
    // The `start` frame Twilio sends, with the parameters as a JSON object.
    let frame = serde_json::json!({
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": "MZ0123456789abcdef0123456789abcdef",
        "start": {
            "accountSid": "AC0123456789abcdef0123456789abcdef",
            "streamSid": "MZ0123456789abcdef0123456789abcdef",
            "callSid": "CA0123456789abcdef0123456789abcdef",
            "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": params,
        }
    })
    .to_string();
    let StreamEvent::Start(start) = StreamEvent::decode(&frame).expect("decodes") else {
        panic!("not a start message: {frame}");
    };
    let context = secret()
        .verify(&start.start.custom_parameters, at(1_767_225_600 + 1))
        .expect("valid");
    assert_eq!(context.field("appointment_id"), Some("apt_42"));
}
