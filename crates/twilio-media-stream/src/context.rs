//! Signed call context: carry a call's data in `<Parameter>`s so it cannot be forged.
//!
//! Twilio hands the `<Parameter>`s of a `<Stream>` back, unchanged, in the `start` message's
//! `customParameters`, but it neither signs nor encrypts them. Whoever can open a WebSocket to
//! your stream endpoint, or sees the TwiML, could otherwise claim any appointment. This module
//! adds an HMAC-SHA256 over the parameters, an issue time, an expiry and an optional nonce, so
//! the stream endpoint can serve a call from the parameters alone (no registry shared between
//! instances) and still refuse forged, altered or expired contexts.
//!
//! Everything here is sans-IO: the current time is an argument.
//!
//! # Format
//!
//! Besides your fields, a signed context has these parameters (the `ctx_` prefix is reserved):
//!
//! | parameter | value |
//! |---|---|
//! | [`ISSUED_AT_PARAM`] `ctx_iat` | issue time, Unix seconds |
//! | [`EXPIRES_PARAM`] `ctx_exp` | expiry, Unix seconds |
//! | [`NONCE_PARAM`] `ctx_nonce` | the nonce, when one was set |
//! | [`SIGNATURE_PARAM`] `ctx_sig` | `v1.` + unpadded base64url of the HMAC-SHA256 |
//!
//! The HMAC covers every other parameter, sorted by name, each name and value prefixed with
//! its length in bytes (so characters cannot move between a name and its value, or between
//! neighbours), after a fixed domain-separation label. Verification therefore rejects any
//! parameter added, removed, renamed or changed after signing: put every parameter of the
//! stream in the context.
//!
//! # Replays
//!
//! A context is valid from signing until its expiry; keep the lifetime short (the time
//! between creating the call and the callee answering, plus a margin). Within that window the
//! same context is accepted again. To refuse even that, set a unique
//! [`nonce`](CallContext::nonce) and remember the nonces you served until they expire.
//!
//! # Examples
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::time::{Duration, SystemTime};
//! use twilio_media_stream::context::{CallContext, SigningSecret, VerifyError};
//! use twilio_media_stream::twiml::{Connect, Stream, VoiceResponse};
//!
//! let secret = SigningSecret::new(*b"an example secret of >= 32 bytes")?;
//! let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
//!
//! // When placing the call:
//! let signed = CallContext::new()
//!     .field("appointment_id", "apt_42")
//!     .field("patient_name", "Jane Doe")
//!     .sign(&secret, now, Duration::from_secs(600))?;
//! let twiml = VoiceResponse::new()
//!     .connect(Connect::new().stream(
//!         Stream::new("wss://bot.example.com/media-stream").parameters(signed.parameters()),
//!     ))
//!     .to_xml();
//!
//! // On the stream's `start` message (its `customParameters`):
//! let custom_parameters: BTreeMap<String, String> = signed.parameters().collect();
//! let context = secret.verify(&custom_parameters, now + Duration::from_secs(30))?;
//! assert_eq!(context.field("appointment_id"), Some("apt_42"));
//!
//! // Too late:
//! let late = secret.verify(&custom_parameters, now + Duration::from_secs(601));
//! assert!(matches!(late, Err(VerifyError::Expired { .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The parameter holding the issue time (Unix seconds).
pub const ISSUED_AT_PARAM: &str = "ctx_iat";
/// The parameter holding the expiry (Unix seconds).
pub const EXPIRES_PARAM: &str = "ctx_exp";
/// The parameter holding the nonce, when one was set.
pub const NONCE_PARAM: &str = "ctx_nonce";
/// The parameter holding the signature.
pub const SIGNATURE_PARAM: &str = "ctx_sig";
/// Parameter names with this prefix are reserved for the context itself.
pub const RESERVED_PREFIX: &str = "ctx_";

/// Twilio's limit: a `<Parameter>`'s name and value together must be shorter than this
/// many characters.
pub const MAX_PARAMETER_CHARS: usize = 500;

/// The shortest signing secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 32;

/// Version tag in front of the signature; a new format gets a new tag.
const SIGNATURE_VERSION: &str = "v1.";

/// Domain separation: this HMAC key signs nothing else with this label in front.
const DOMAIN_LABEL: &[u8] = b"twilio-media-stream call context v1\0";

/// The key of the context HMAC: your own random secret (not the Twilio auth token), shared
/// by everything that places calls and everything that serves their streams.
///
/// Its `Debug` output is redacted.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::context::SigningSecret;
///
/// let secret = SigningSecret::new(*b"an example secret of >= 32 bytes").unwrap();
/// assert_eq!(format!("{secret:?}"), "SigningSecret(<redacted>)");
/// assert!(SigningSecret::new(*b"too short").is_err());
/// ```
#[derive(Clone)]
pub struct SigningSecret(Vec<u8>);

impl SigningSecret {
    /// Wraps a secret of at least [`MIN_SECRET_LEN`] bytes (use 32 random bytes, e.g. from
    /// `openssl rand -base64 32`, decoded or not).
    ///
    /// # Errors
    ///
    /// [`SecretTooShort`] when `secret` has fewer than [`MIN_SECRET_LEN`] bytes.
    pub fn new(secret: impl Into<Vec<u8>>) -> Result<Self, SecretTooShort> {
        let secret = secret.into();
        if secret.len() < MIN_SECRET_LEN {
            return Err(SecretTooShort { len: secret.len() });
        }
        Ok(Self(secret))
    }

    /// Verifies a signed context from a `start` message's `customParameters` at time `now`,
    /// and returns its fields.
    ///
    /// The signature is checked first (in constant time), then the expiry.
    ///
    /// # Errors
    ///
    /// [`VerifyError::MissingSignature`] when there is no `ctx_sig` (an unsigned or foreign
    /// stream), [`VerifyError::Malformed`] when the context parameters cannot be read,
    /// [`VerifyError::BadSignature`] when it was forged or any parameter was changed, and
    /// [`VerifyError::Expired`] when `now` is at or past its expiry.
    pub fn verify(
        &self,
        custom_parameters: &BTreeMap<String, String>,
        now: SystemTime,
    ) -> Result<VerifiedContext, VerifyError> {
        let signature = custom_parameters
            .get(SIGNATURE_PARAM)
            .ok_or(VerifyError::MissingSignature)?;
        let encoded = signature
            .strip_prefix(SIGNATURE_VERSION)
            .ok_or(VerifyError::Malformed {
                reason: "signature has an unknown version",
            })?;
        let tag = URL_SAFE_NO_PAD
            .decode(encoded)
            .map_err(|_| VerifyError::Malformed {
                reason: "signature is not base64url",
            })?;

        let signed = custom_parameters
            .iter()
            .filter(|(name, _)| name.as_str() != SIGNATURE_PARAM)
            .map(|(name, value)| (name.as_str(), value.as_str()));
        self.mac(signed)
            .verify_slice(&tag)
            .map_err(|_| VerifyError::BadSignature)?;

        let issued_at = unix_param(custom_parameters, ISSUED_AT_PARAM)?;
        let expires_at = unix_param(custom_parameters, EXPIRES_PARAM)?;
        if expires_at < issued_at {
            return Err(VerifyError::Malformed {
                reason: "expiry is before the issue time",
            });
        }
        if now >= expires_at {
            return Err(VerifyError::Expired { expires_at, now });
        }

        let fields = custom_parameters
            .iter()
            .filter(|(name, _)| !name.starts_with(RESERVED_PREFIX))
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        Ok(VerifiedContext {
            fields,
            issued_at,
            expires_at,
            nonce: custom_parameters.get(NONCE_PARAM).cloned(),
        })
    }

    /// The HMAC over the canonical encoding of `params` (which must be sorted by name).
    fn mac<'a>(&self, params: impl Iterator<Item = (&'a str, &'a str)>) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.0)
            .expect("HMAC accepts a key of any length");
        mac.update(DOMAIN_LABEL);
        for (name, value) in params {
            for part in [name, value] {
                mac.update(&(part.len() as u64).to_be_bytes());
                mac.update(part.as_bytes());
            }
        }
        mac
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// A [`SigningSecret`] shorter than [`MIN_SECRET_LEN`] bytes was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("signing secret has {len} bytes; at least {MIN_SECRET_LEN} are required")]
#[non_exhaustive]
pub struct SecretTooShort {
    /// The length given, in bytes.
    pub len: usize,
}

/// A call's context before signing: named fields that will become `<Parameter>`s.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use twilio_media_stream::context::{CallContext, SigningSecret};
///
/// let secret = SigningSecret::new([7u8; 32])?;
/// let signed = CallContext::new()
///     .field("appointment_id", "apt_42")
///     .nonce("attempt-1")
///     .sign(&secret, SystemTime::now(), Duration::from_secs(300))?;
/// assert!(signed.parameters().any(|(name, _)| name == "ctx_sig"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct CallContext {
    fields: BTreeMap<String, String>,
    nonce: Option<String>,
}

impl CallContext {
    /// An empty context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field (setting a name again replaces its value). Names must not start with
    /// [`RESERVED_PREFIX`]; that and Twilio's length limit are checked by [`sign`](Self::sign).
    pub fn field(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// Sets a nonce: a value unique to this call attempt (e.g. an attempt id), which you can
    /// remember to refuse a second stream with the same context before it expires.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// Signs the context, valid from `now` for `ttl` (rounded down to whole seconds).
    ///
    /// # Errors
    ///
    /// [`SignError::ReservedName`] for a field named with the `ctx_` prefix,
    /// [`SignError::ParameterTooLong`] when a name and value together reach Twilio's
    /// 500-character limit, and [`SignError::TimeOutOfRange`] when `now` is before 1970 or
    /// `now + ttl` overflows.
    pub fn sign(
        self,
        secret: &SigningSecret,
        now: SystemTime,
        ttl: Duration,
    ) -> Result<SignedContext, SignError> {
        if let Some(name) = self.fields.keys().find(|n| n.starts_with(RESERVED_PREFIX)) {
            return Err(SignError::ReservedName { name: name.clone() });
        }
        let issued_at = unix_seconds(now).ok_or(SignError::TimeOutOfRange)?;
        let expires_at = issued_at
            .checked_add(ttl.as_secs())
            .ok_or(SignError::TimeOutOfRange)?;

        let mut params = self.fields;
        params.insert(ISSUED_AT_PARAM.to_owned(), issued_at.to_string());
        params.insert(EXPIRES_PARAM.to_owned(), expires_at.to_string());
        if let Some(nonce) = self.nonce {
            params.insert(NONCE_PARAM.to_owned(), nonce);
        }

        let tag = secret
            .mac(params.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .finalize()
            .into_bytes();
        let signature = format!("{SIGNATURE_VERSION}{}", URL_SAFE_NO_PAD.encode(tag));
        params.insert(SIGNATURE_PARAM.to_owned(), signature);

        for (name, value) in &params {
            let chars = name.chars().count() + value.chars().count();
            if chars >= MAX_PARAMETER_CHARS {
                return Err(SignError::ParameterTooLong {
                    name: name.clone(),
                    chars,
                });
            }
        }
        Ok(SignedContext { params })
    }
}

/// A signed context: the parameters to put in the `<Stream>`.
///
/// Pass [`parameters`](Self::parameters) to
/// [`Stream::parameters`](crate::twiml::Stream::parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedContext {
    params: BTreeMap<String, String>,
}

impl SignedContext {
    /// Every parameter, the context's own included, as `(name, value)` pairs sorted by name.
    pub fn parameters(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.params
            .iter()
            .map(|(name, value)| (name.clone(), value.clone()))
    }

    /// The parameters as a map.
    pub fn into_map(self) -> BTreeMap<String, String> {
        self.params
    }
}

/// A context whose signature and expiry were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedContext {
    fields: BTreeMap<String, String>,
    issued_at: SystemTime,
    expires_at: SystemTime,
    nonce: Option<String>,
}

impl VerifiedContext {
    /// One of your fields.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// All of your fields (the `ctx_` parameters left out).
    pub fn fields(&self) -> &BTreeMap<String, String> {
        &self.fields
    }

    /// When the context was signed.
    pub fn issued_at(&self) -> SystemTime {
        self.issued_at
    }

    /// When the context expires.
    pub fn expires_at(&self) -> SystemTime {
        self.expires_at
    }

    /// The nonce, if one was set when signing.
    pub fn nonce(&self) -> Option<&str> {
        self.nonce.as_deref()
    }

    /// Takes the fields out.
    pub fn into_fields(self) -> BTreeMap<String, String> {
        self.fields
    }
}

/// Why a context could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// A field's name starts with the reserved `ctx_` prefix.
    #[error("context field name {name:?} uses the reserved prefix ctx_")]
    ReservedName {
        /// The field's name.
        name: String,
    },
    /// A parameter's name and value together have [`MAX_PARAMETER_CHARS`] characters or more,
    /// which Twilio does not accept in a `<Parameter>`.
    #[error(
        "context parameter {name:?} has {chars} characters with its name; Twilio requires fewer than 500"
    )]
    ParameterTooLong {
        /// The parameter's name.
        name: String,
        /// Characters in its name and value together.
        chars: usize,
    },
    /// The issue time is before 1970 or the expiry is not representable.
    #[error("context time is out of range")]
    TimeOutOfRange,
}

/// Why a context was refused. Refuse the stream on any of these, and log the variant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `ctx_sig` parameter: the stream was not started with a signed context.
    #[error("call context has no signature parameter ctx_sig")]
    MissingSignature,
    /// The signature does not match: the context was forged, or a parameter was added,
    /// removed or changed, or it was signed with another secret.
    #[error("call context signature does not match")]
    BadSignature,
    /// The context expired (or was replayed after its expiry).
    #[error("call context expired at {} (now {})", fmt_unix(*expires_at), fmt_unix(*now))]
    Expired {
        /// The context's expiry.
        expires_at: SystemTime,
        /// The time it was checked at.
        now: SystemTime,
    },
    /// The context parameters cannot be read.
    #[error("call context is malformed: {reason}")]
    Malformed {
        /// What is wrong.
        reason: &'static str,
    },
}

fn unix_seconds(time: SystemTime) -> Option<u64> {
    time.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs())
}

fn fmt_unix(time: SystemTime) -> String {
    match time.duration_since(UNIX_EPOCH) {
        Ok(since) => format!("unix {}", since.as_secs()),
        Err(_) => "before 1970".to_owned(),
    }
}

/// Reads a Unix-seconds parameter.
fn unix_param(
    params: &BTreeMap<String, String>,
    name: &'static str,
) -> Result<SystemTime, VerifyError> {
    let value = params.get(name).ok_or(VerifyError::Malformed {
        reason: "a time parameter (ctx_iat or ctx_exp) is missing",
    })?;
    let seconds: u64 = value.parse().map_err(|_| VerifyError::Malformed {
        reason: "a time parameter (ctx_iat or ctx_exp) is not a number",
    })?;
    UNIX_EPOCH
        .checked_add(Duration::from_secs(seconds))
        .ok_or(VerifyError::Malformed {
            reason: "a time parameter (ctx_iat or ctx_exp) is out of range",
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: u64 = 1_767_225_600;

    fn secret() -> SigningSecret {
        SigningSecret::new(*b"0123456789abcdef0123456789abcdef").unwrap()
    }

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    fn signed() -> BTreeMap<String, String> {
        CallContext::new()
            .field("appointment_id", "apt_42")
            .field("patient_name", "Jane Doe")
            .nonce("attempt-1")
            .sign(&secret(), at(T0), Duration::from_secs(600))
            .unwrap()
            .into_map()
    }

    #[test]
    fn happy_path_returns_fields_times_and_nonce() {
        let context = secret().verify(&signed(), at(T0 + 599)).unwrap();
        assert_eq!(context.field("appointment_id"), Some("apt_42"));
        assert_eq!(context.field("patient_name"), Some("Jane Doe"));
        assert_eq!(context.fields().len(), 2, "ctx_ parameters are not fields");
        assert_eq!(context.issued_at(), at(T0));
        assert_eq!(context.expires_at(), at(T0 + 600));
        assert_eq!(context.nonce(), Some("attempt-1"));
    }

    #[test]
    fn parameters_carry_times_and_a_versioned_signature() {
        let params = signed();
        assert_eq!(params[ISSUED_AT_PARAM], T0.to_string());
        assert_eq!(params[EXPIRES_PARAM], (T0 + 600).to_string());
        assert!(params[SIGNATURE_PARAM].starts_with("v1."));
    }

    #[test]
    fn missing_signature() {
        let mut params = signed();
        params.remove(SIGNATURE_PARAM);
        assert_eq!(
            secret().verify(&params, at(T0)),
            Err(VerifyError::MissingSignature)
        );
    }

    #[test]
    fn changed_added_removed_or_renamed_parameters_are_bad_signatures() {
        let base = signed();
        let mut cases: Vec<(&str, BTreeMap<String, String>)> = Vec::new();
        let mut changed = base.clone();
        changed.insert("appointment_id".into(), "apt_43".into());
        cases.push(("value changed", changed));
        let mut added = base.clone();
        added.insert("role".into(), "admin".into());
        cases.push(("parameter added", added));
        let mut removed = base.clone();
        removed.remove("patient_name");
        cases.push(("parameter removed", removed));
        let mut renamed = base.clone();
        let value = renamed.remove("patient_name").unwrap();
        renamed.insert("patient_Name".into(), value);
        cases.push(("parameter renamed", renamed));
        let mut extended = base.clone();
        extended.insert(EXPIRES_PARAM.into(), (T0 + 86_400).to_string());
        cases.push(("expiry extended", extended));
        let mut nonce = base.clone();
        nonce.remove(NONCE_PARAM);
        cases.push(("nonce dropped", nonce));
        for (what, params) in cases {
            assert_eq!(
                secret().verify(&params, at(T0)),
                Err(VerifyError::BadSignature),
                "{what}"
            );
        }
    }

    #[test]
    fn another_secret_is_a_bad_signature() {
        let other = SigningSecret::new([1u8; 32]).unwrap();
        assert_eq!(
            other.verify(&signed(), at(T0)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn moving_characters_between_name_and_value_changes_the_signature() {
        let sig = |name: &str, value: &str| {
            CallContext::new()
                .field(name, value)
                .sign(&secret(), at(T0), Duration::from_secs(60))
                .unwrap()
                .into_map()
                .remove(SIGNATURE_PARAM)
                .unwrap()
        };
        assert_ne!(sig("ab", "c"), sig("a", "bc"));
        // The same bytes split over two fields differently.
        let two = |a: (&str, &str), b: (&str, &str)| {
            CallContext::new()
                .field(a.0, a.1)
                .field(b.0, b.1)
                .sign(&secret(), at(T0), Duration::from_secs(60))
                .unwrap()
                .into_map()
                .remove(SIGNATURE_PARAM)
                .unwrap()
        };
        assert_ne!(two(("a", "1b"), ("c", "2")), two(("a", "1"), ("bc", "2")));
    }

    #[test]
    fn expired_at_the_expiry_second_and_after() {
        let params = signed();
        assert!(secret().verify(&params, at(T0 + 599)).is_ok());
        for now in [T0 + 600, T0 + 10_000] {
            assert_eq!(
                secret().verify(&params, at(now)),
                Err(VerifyError::Expired {
                    expires_at: at(T0 + 600),
                    now: at(now)
                })
            );
        }
        let shown = secret()
            .verify(&params, at(T0 + 601))
            .unwrap_err()
            .to_string();
        assert_eq!(
            shown,
            format!(
                "call context expired at unix {} (now unix {})",
                T0 + 600,
                T0 + 601
            )
        );
    }

    #[test]
    fn malformed_signatures() {
        for bad in ["", "v2.abc", "v1.!!!", "abc"] {
            let mut params = signed();
            params.insert(SIGNATURE_PARAM.into(), bad.into());
            assert!(
                matches!(
                    secret().verify(&params, at(T0)),
                    Err(VerifyError::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
        // "v1." and 8 base64 characters: decodes, but to a 6-byte tag.
        let mut truncated = signed();
        let short: String = truncated[SIGNATURE_PARAM].chars().take(11).collect();
        truncated.insert(SIGNATURE_PARAM.into(), short);
        assert_eq!(
            secret().verify(&truncated, at(T0)),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn malformed_times_are_reported_when_correctly_signed() {
        // A signer that left out the times (not this module's, but the same secret).
        let mut params = BTreeMap::new();
        params.insert("appointment_id".to_owned(), "apt_42".to_owned());
        let tag = secret()
            .mac(params.iter().map(|(n, v)| (n.as_str(), v.as_str())))
            .finalize()
            .into_bytes();
        params.insert(
            SIGNATURE_PARAM.to_owned(),
            format!("v1.{}", URL_SAFE_NO_PAD.encode(tag)),
        );
        assert!(matches!(
            secret().verify(&params, at(T0)),
            Err(VerifyError::Malformed { .. })
        ));
    }

    #[test]
    fn reserved_names_are_refused_at_signing() {
        let err = CallContext::new()
            .field("ctx_exp", "99999999999")
            .sign(&secret(), at(T0), Duration::from_secs(60))
            .unwrap_err();
        assert_eq!(
            err,
            SignError::ReservedName {
                name: "ctx_exp".into()
            }
        );
    }

    #[test]
    fn twilio_parameter_limit_is_checked_at_signing() {
        let sign = |name: &str, value: String| {
            CallContext::new()
                .field(name, value)
                .sign(&secret(), at(T0), Duration::from_secs(60))
        };
        // "note" is 4 characters: 495 more make 499, the longest Twilio accepts.
        assert!(sign("note", "é".repeat(495)).is_ok());
        assert_eq!(
            sign("note", "é".repeat(496)),
            Err(SignError::ParameterTooLong {
                name: "note".into(),
                chars: 500
            })
        );
        let long_nonce = CallContext::new().nonce("n".repeat(600)).sign(
            &secret(),
            at(T0),
            Duration::from_secs(60),
        );
        assert!(matches!(
            long_nonce,
            Err(SignError::ParameterTooLong { name, .. }) if name == NONCE_PARAM
        ));
    }

    #[test]
    fn times_out_of_range_are_refused_at_signing() {
        let before_1970 = UNIX_EPOCH - Duration::from_secs(1);
        assert_eq!(
            CallContext::new().sign(&secret(), before_1970, Duration::from_secs(1)),
            Err(SignError::TimeOutOfRange)
        );
        assert_eq!(
            CallContext::new().sign(&secret(), at(T0), Duration::from_secs(u64::MAX)),
            Err(SignError::TimeOutOfRange)
        );
    }

    #[test]
    fn short_secrets_are_refused_and_secrets_never_print() {
        assert_eq!(
            SigningSecret::new(vec![0u8; 31]).unwrap_err(),
            SecretTooShort { len: 31 }
        );
        let shown = format!("{:?}", secret());
        assert!(!shown.contains("0123456789abcdef"), "{shown}");
    }

    proptest! {
        #[test]
        fn any_context_round_trips_and_any_changed_value_fails(
            fields in prop::collection::btree_map("[a-z][a-z0-9_]{0,10}", "\\PC{0,40}", 0..6),
            ttl in 1u64..100_000,
            pick in any::<prop::sample::Index>(),
        ) {
            let mut context = CallContext::new();
            for (name, value) in &fields {
                context = context.field(name.clone(), value.clone());
            }
            let params = context.sign(&secret(), at(T0), Duration::from_secs(ttl)).unwrap().into_map();
            let verified = secret().verify(&params, at(T0 + ttl - 1)).unwrap();
            prop_assert_eq!(verified.fields(), &fields);

            let names: Vec<&String> = params.keys().filter(|n| *n != SIGNATURE_PARAM).collect();
            let name = pick.get(&names);
            let mut tampered = params.clone();
            tampered.get_mut(*name).unwrap().push('x');
            prop_assert_eq!(secret().verify(&tampered, at(T0)), Err(VerifyError::BadSignature));
        }
    }
}
