//! [`PhoneNumber`]: a phone number in E.164 form, as Twilio's `To` and `From` take it.
//!
//! E.164 is `+`, the country code and the national number, digits only, 15 at most (ITU-T
//! E.164). Twilio refuses other forms in `To` and `From` (error 21211 or 21212), so a number
//! a person typed is worth checking before a call is placed: [`PhoneNumber::parse`] says
//! what is wrong and suggests the corrected form.

use std::fmt;

/// Fewest digits accepted: a 3-digit country code and a 4-digit number (Saint Helena,
/// Niue).
const MIN_DIGITS: usize = 7;
/// Most digits E.164 allows.
const MAX_DIGITS: usize = 15;

/// A phone number in E.164 form (`+14155550100`).
///
/// # Examples
///
/// ```
/// use twilio_media_stream::PhoneNumber;
///
/// let number = PhoneNumber::parse("+14155550100")?;
/// assert_eq!(number.as_str(), "+14155550100");
///
/// let err = PhoneNumber::parse("+1 (415) 555-0100").unwrap_err();
/// assert_eq!(err.suggestion(), "+14155550100");
/// # Ok::<(), twilio_media_stream::phone::InvalidPhoneNumber>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneNumber(String);

impl PhoneNumber {
    /// Checks that `value` is in E.164 form: `+`, then 7 to 15 digits, the first not `0`
    /// (no country code starts with 0), nothing else (no spaces, dashes or brackets).
    ///
    /// # Errors
    ///
    /// Any other form, with a suggested correction ([`InvalidPhoneNumber::suggestion`]).
    pub fn parse(value: &str) -> Result<Self, InvalidPhoneNumber> {
        let well_formed = value.strip_prefix('+').is_some_and(|digits| {
            (MIN_DIGITS..=MAX_DIGITS).contains(&digits.len())
                && digits.bytes().all(|b| b.is_ascii_digit())
                && !digits.starts_with('0')
        });
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(InvalidPhoneNumber {
                value: value.to_owned(),
                suggestion: suggest(value),
            })
        }
    }

    /// The number as text, `+` and digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The digits of `value` written as E.164: kept after a `+` or an international `00`
/// prefix, otherwise with a placeholder for the country code.
fn suggest(value: &str) -> String {
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    if value.trim_start().starts_with('+') {
        format!("+{digits}")
    } else if let Some(international) = digits.strip_prefix("00") {
        format!("+{international}")
    } else if digits.is_empty() {
        "+14155550100".to_owned()
    } else {
        format!("+<country code>{digits}")
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for PhoneNumber {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for PhoneNumber {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for PhoneNumber {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// Why a value is not an E.164 phone number ([`PhoneNumber::parse`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value:?} is not in E.164 form: a + and 7 to 15 digits with the country code, no spaces \
     or dashes (e.g. {suggestion})"
)]
pub struct InvalidPhoneNumber {
    value: String,
    suggestion: String,
}

impl InvalidPhoneNumber {
    /// The value as given.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The value rewritten in E.164 form where it can be (`+1 415-555-0100` gives
    /// `+14155550100`, `0044 20 7946 0000` gives `+442079460000`), or with
    /// `+<country code>` where the country code is missing.
    pub fn suggestion(&self) -> &str {
        &self.suggestion
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_numbers_are_accepted_as_given() {
        for number in [
            "+14155550100",
            "+4420794600000",
            "+2904000",
            "+123456789012345",
        ] {
            let parsed = PhoneNumber::parse(number).unwrap();
            assert_eq!(parsed, number);
            assert_eq!(parsed.to_string(), number);
        }
    }

    #[test]
    fn other_forms_are_refused_with_a_suggestion() {
        let cases = [
            ("+1 415-555-0100", "+14155550100"),
            ("+1 (415) 555-0100", "+14155550100"),
            ("14155550100", "+<country code>14155550100"),
            ("(415) 555-0100", "+<country code>4155550100"),
            ("0044 20 7946 0000", "+442079460000"),
            ("+0123456789", "+0123456789"),
            ("+123456", "+123456"),
            ("+1234567890123456", "+1234567890123456"),
            ("", "+14155550100"),
            ("+", "+"),
            ("+１４１５５５５０１００", "+"),
            (" +14155550100", "+14155550100"),
        ];
        for (value, suggestion) in cases {
            let err = PhoneNumber::parse(value).unwrap_err();
            assert_eq!(err.value(), value);
            assert_eq!(err.suggestion(), suggestion, "{value:?}");
            assert_eq!(
                err.to_string(),
                format!(
                    "{value:?} is not in E.164 form: a + and 7 to 15 digits with the country \
                     code, no spaces or dashes (e.g. {suggestion})"
                )
            );
        }
    }
}
