//! Listing calls (`GET .../Calls.json`): the filters Twilio takes and the page it answers.
//!
//! What a program asks when it lost the answer to its own create request (it crashed, or
//! the connection dropped, after Twilio may have created the call): "is there a call to
//! this number from mine, created since I sent the request?".

use serde::Deserialize;

use crate::callback::CallStatus;

use super::call::Call;

/// Twilio's largest page.
pub const MAX_PAGE_SIZE: u32 = 1000;

/// Filters for [`Client::list_calls`](super::Client::list_calls): every one set must match.
///
/// Twilio's date filters (`StartTime`, `EndTime` and their `<`/`>` forms) take whole
/// days in UTC and match when a call *started*, which a call still `queued` has not: to
/// find a call created a moment ago, filter by number and compare
/// [`Call::date_created`] yourself.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::callback::CallStatus;
/// use twilio_media_stream::rest::ListCalls;
///
/// let filter = ListCalls::new()
///     .to("+14155550101")
///     .from("+15005550006")
///     .status(CallStatus::InProgress)
///     .page_size(20);
/// assert_eq!(
///     filter.to_query(),
///     [("To", "+14155550101"), ("From", "+15005550006"), ("Status", "in-progress"), ("PageSize", "20")]
///         .map(|(k, v)| (k, v.to_owned())),
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct ListCalls {
    to: Option<String>,
    from: Option<String>,
    status: Option<CallStatus>,
    page_size: Option<u32>,
}

impl ListCalls {
    /// No filter: the account's most recent calls.
    pub fn new() -> Self {
        Self::default()
    }

    /// `To`: calls made to this number (or SIP address, client, SIM).
    pub fn to(mut self, to: impl Into<String>) -> Self {
        self.to = Some(to.into());
        self
    }

    /// `From`: calls made from this number.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// `Status`: calls in this status only.
    pub fn status(mut self, status: CallStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// `PageSize`: how many calls the page holds at most (Twilio's default 50, at most
    /// [`MAX_PAGE_SIZE`]; larger values are sent as the maximum).
    pub fn page_size(mut self, size: u32) -> Self {
        self.page_size = Some(size.clamp(1, MAX_PAGE_SIZE));
        self
    }

    /// The query string's pairs, in Twilio's names.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut query = Vec::new();
        if let Some(to) = &self.to {
            query.push(("To", to.clone()));
        }
        if let Some(from) = &self.from {
            query.push(("From", from.clone()));
        }
        if let Some(status) = &self.status {
            query.push(("Status", status.as_str().to_owned()));
        }
        if let Some(size) = self.page_size {
            query.push(("PageSize", size.to_string()));
        }
        query
    }
}

/// A page of `Calls.json`: the calls and the link to the next page.
#[derive(Debug, Deserialize)]
pub(super) struct CallPage {
    pub(super) calls: Vec<Call>,
}
