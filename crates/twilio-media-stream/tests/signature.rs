//! Every vector of `fixtures/twilio-signature-vectors.json` (made with Twilio's official
//! Python SDK 9.13.0, `RequestValidator.validate`) gives the SDK's answer.

use serde_json::Value;
use twilio_media_stream::signature::{AuthToken, RequestValidator, SignatureError, sign};

const FIXTURE: &str = include_str!("fixtures/twilio-signature-vectors.json");

struct Vector {
    index: usize,
    note: String,
    auth_token: String,
    url: String,
    params: Vec<(String, String)>,
    body: Option<String>,
    signature: String,
    valid: bool,
}

fn vectors() -> Vec<Vector> {
    let all: Vec<Value> = serde_json::from_str(FIXTURE).expect("fixture is a JSON array");
    all.iter()
        .enumerate()
        .map(|(index, v)| {
            let text = |field: &str| {
                v[field]
                    .as_str()
                    .unwrap_or_else(|| panic!("vector {index}: {field} is not a string"))
                    .to_owned()
            };
            Vector {
                index,
                note: text("note"),
                auth_token: text("auth_token"),
                url: text("url"),
                params: v["params"]
                    .as_object()
                    .expect("params is an object")
                    .iter()
                    .map(|(name, value)| (name.clone(), value.as_str().expect("string").to_owned()))
                    .collect(),
                body: v["body"].as_str().map(str::to_owned),
                signature: text("signature"),
                valid: v["valid"].as_bool().expect("valid is a bool"),
            }
        })
        .collect()
}

/// What our validator says for a vector, chosen as the SDK chooses: a string body means JSON.
fn validate(v: &Vector) -> Result<(), SignatureError> {
    let validator = RequestValidator::new(AuthToken::new(v.auth_token.clone()));
    match &v.body {
        Some(body) => validator.validate_json(&v.url, body.as_bytes(), &v.signature),
        None if v.params.is_empty() && v.url.starts_with("ws") => {
            validator.validate_websocket(&v.url, &v.signature)
        }
        None => validator.validate_form(&v.url, &v.params, &v.signature),
    }
}

#[test]
fn every_vector_gives_the_sdk_answer() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 76, "the fixture has 76 cases");
    assert_eq!(
        vectors.iter().filter(|v| v.valid).count(),
        32,
        "32 of them valid"
    );

    let failures: Vec<String> = vectors
        .iter()
        .filter_map(|v| {
            let result = validate(v);
            (result.is_ok() != v.valid).then(|| {
                format!(
                    "vector {} ({}): expected valid={}, got {:?}",
                    v.index, v.note, v.valid, result
                )
            })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} failing:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn form_params_are_order_independent_on_every_form_vector() {
    for v in vectors().iter().filter(|v| v.body.is_none()) {
        let mut reversed = v.params.clone();
        reversed.reverse();
        let validator = RequestValidator::new(AuthToken::new(v.auth_token.clone()));
        let result = validator.validate_form(&v.url, reversed, &v.signature);
        assert_eq!(result.is_ok(), v.valid, "vector {} ({})", v.index, v.note);
    }
}

#[test]
fn sign_reproduces_the_documented_example() {
    let v = &vectors()[0];
    assert_eq!(
        sign(&AuthToken::new(v.auth_token.clone()), &v.url, &v.params),
        v.signature
    );
}

#[test]
fn sign_reproduces_every_valid_vector_signed_over_the_url_as_received() {
    // Vectors whose note does not say the signature was made over another URL form.
    let mut checked = 0;
    for v in vectors().iter().filter(|v| v.valid) {
        let token = AuthToken::new(v.auth_token.clone());
        let ours = sign(&token, &v.url, &v.params);
        let other_url_form = v.note.contains("port")
            || v.note.contains(":443")
            || v.note.contains(":80")
            || v.note.contains("signed as");
        if v.body.is_none() && !other_url_form {
            assert_eq!(ours, v.signature, "vector {} ({})", v.index, v.note);
            checked += 1;
        }
    }
    assert_eq!(checked, 18, "vectors signed over the URL as received");
}

#[test]
fn error_kinds_for_json_vectors() {
    let vectors = vectors();
    let tampered = vectors
        .iter()
        .find(|v| v.body.is_some() && !v.valid)
        .expect("a tampered JSON vector");
    assert!(matches!(
        validate(tampered),
        Err(SignatureError::BodyHashMismatch { .. })
    ));
}
