//! Read-only look-ups of the account and its numbers: is the account active, is a `From`
//! number one of its voice-capable numbers or a verified caller id. A preflight can answer
//! these before any call is placed (nothing is dialled, nothing is changed).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::callback::open_enum;
use crate::ids::AccountSid;

open_enum! {
    /// An account's `status`.
    pub enum AccountStatus {
        /// The account can place calls.
        Active => "active",
        /// Suspended by Twilio or its owner: calls are refused until it is active again.
        Suspended => "suspended",
        /// Closed for good.
        Closed => "closed",
    }
}

open_enum! {
    /// An account's `type`.
    pub enum AccountType {
        /// A trial account: it can only call verified numbers, and callees hear a trial
        /// notice first.
        Trial => "Trial",
        /// An upgraded (paid) account.
        Full => "Full",
    }
}

/// An account resource (`GET /2010-04-01/Accounts/{AccountSid}.json`).
///
/// Fields not listed here are ignored; Twilio documents each as nullable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Account {
    /// `sid`: the account's id (`AC...`).
    pub sid: AccountSid,
    /// `friendly_name`: the name shown in the Console.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// `status`.
    #[serde(default)]
    pub status: Option<AccountStatus>,
    /// `type`.
    #[serde(default, rename = "type")]
    pub kind: Option<AccountType>,
    /// `owner_account_sid`: the parent of a subaccount (itself for a main account).
    #[serde(default)]
    pub owner_account_sid: Option<AccountSid>,
    /// `date_created`, an RFC 2822 date.
    #[serde(default)]
    pub date_created: Option<String>,
}

impl Account {
    /// Whether the account's status is `active`.
    pub fn is_active(&self) -> bool {
        self.status == Some(AccountStatus::Active)
    }

    /// Whether it is a trial account.
    pub fn is_trial(&self) -> bool {
        self.kind == Some(AccountType::Trial)
    }
}

/// What a number can do (`capabilities`); a capability Twilio leaves out is `false`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NumberCapabilities {
    /// Voice calls.
    #[serde(default)]
    pub voice: bool,
    /// SMS.
    #[serde(default)]
    pub sms: bool,
    /// MMS.
    #[serde(default)]
    pub mms: bool,
    /// Fax.
    #[serde(default)]
    pub fax: bool,
}

/// A phone number the account owns (an `IncomingPhoneNumber` resource).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IncomingPhoneNumber {
    /// `sid` (`PN...`).
    pub sid: String,
    /// `phone_number`, in E.164 (`+14155550100`).
    pub phone_number: String,
    /// `friendly_name`.
    #[serde(default)]
    pub friendly_name: Option<String>,
    /// `capabilities`.
    #[serde(default)]
    pub capabilities: NumberCapabilities,
}

/// A number verified as a caller id of the account (an `OutgoingCallerId` resource): the
/// account may use it as `From` without owning it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutgoingCallerId {
    /// `sid` (`PN...`).
    pub sid: String,
    /// `phone_number`, in E.164.
    pub phone_number: String,
    /// `friendly_name`.
    #[serde(default)]
    pub friendly_name: Option<String>,
}

/// A page of `IncomingPhoneNumbers.json`.
#[derive(Debug, Deserialize)]
pub(super) struct IncomingPhoneNumberPage {
    pub(super) incoming_phone_numbers: Vec<IncomingPhoneNumber>,
}

/// A page of `OutgoingCallerIds.json`.
#[derive(Debug, Deserialize)]
pub(super) struct OutgoingCallerIdPage {
    pub(super) outgoing_caller_ids: Vec<OutgoingCallerId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_decodes_with_unknown_values_kept() {
        let account: Account = serde_json::from_str(
            r#"{"sid":"AC1","friendly_name":"My account","status":"active","type":"Trial",
                "owner_account_sid":"AC1","auth_token":"never kept","date_created":null}"#,
        )
        .unwrap();
        assert!(account.is_active() && account.is_trial());
        assert_eq!(account.friendly_name.as_deref(), Some("My account"));
        let text = serde_json::to_string(&account).unwrap();
        assert!(!text.contains("never kept"), "{text}");

        let odd: Account =
            serde_json::from_str(r#"{"sid":"AC2","status":"paused","type":"Enterprise"}"#).unwrap();
        assert_eq!(odd.status, Some(AccountStatus::Other("paused".into())));
        assert_eq!(odd.kind, Some(AccountType::Other("Enterprise".into())));
        assert!(!odd.is_active() && !odd.is_trial());
    }

    #[test]
    fn missing_capabilities_are_false() {
        let number: IncomingPhoneNumber = serde_json::from_str(
            r#"{"sid":"PN1","phone_number":"+15005550006","capabilities":{"voice":true}}"#,
        )
        .unwrap();
        assert!(number.capabilities.voice && !number.capabilities.sms);
        let bare: IncomingPhoneNumber =
            serde_json::from_str(r#"{"sid":"PN1","phone_number":"+15005550006"}"#).unwrap();
        assert_eq!(bare.capabilities, NumberCapabilities::default());
    }
}
