//! The REST client: credentials, base URL, TLS, and the request/answer cycle.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls_platform_verifier::BuilderVerifierExt as _;
use url::Url;

use crate::ids::{AccountSid, CallSid};
use crate::signature::AuthToken;

use serde::de::DeserializeOwned;

use super::account::{
    Account, IncomingPhoneNumber, IncomingPhoneNumberPage, OutgoingCallerId, OutgoingCallerIdPage,
};
use super::call::{Call, CallInstructions, CreateCall, UpdateCall};
use super::call_list::{CallPage, ListCalls};
use super::error::{ApiError, Error, TransportError};

/// Twilio's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// The API version in every path.
const API_VERSION: &str = "2010-04-01";

/// The longest answer read, in bytes (a call resource is about 2 KiB).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// How much of an error body is kept for messages.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// A client for Twilio's Voice REST API.
///
/// Cheap to clone (the connection pool is shared). `Debug` shows the account SID and base
/// URL, never the auth token.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::rest::Client;
/// use twilio_media_stream::AuthToken;
///
/// let client = Client::builder("AC0123456789abcdef0123456789abcdef", AuthToken::new("s3cr3t"))
///     .base_url("http://127.0.0.1:8080")
///     .build()?;
/// assert!(!format!("{client:?}").contains("s3cr3t"));
/// # Ok::<(), twilio_media_stream::rest::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    account_sid: AccountSid,
    auth_token: AuthToken,
    base_url: Url,
}

impl Client {
    /// A client for `https://api.twilio.com` with the default settings.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] when TLS cannot be set up (e.g. no usable root certificates).
    pub fn new(account_sid: impl Into<AccountSid>, auth_token: AuthToken) -> Result<Self, Error> {
        Self::builder(account_sid, auth_token).build()
    }

    /// A builder, to change the base URL, timeouts or TLS configuration.
    pub fn builder(account_sid: impl Into<AccountSid>, auth_token: AuthToken) -> ClientBuilder {
        ClientBuilder {
            account_sid: account_sid.into(),
            auth_token,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            tls: None,
        }
    }

    /// The account the client acts for.
    pub fn account_sid(&self) -> &AccountSid {
        &self.account_sid
    }

    /// Places an outbound call (`POST /2010-04-01/Accounts/{AccountSid}/Calls.json`).
    ///
    /// Twilio answers at once with the call `queued`; its progress arrives at the status
    /// callback.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when Twilio refuses (e.g. 21211 invalid `To`, 21210 unverified `From`,
    /// 20003 bad credentials), [`Error::InvalidRequest`] for TwiML over 4000 characters, and
    /// the transport and decoding errors of every request.
    pub async fn create_call(&self, call: &CreateCall) -> Result<Call, Error> {
        let form = call.to_form()?;
        let url = self.calls_url(None);
        let result = self.post(url, &form).await;
        match &result {
            Ok(created) => tracing::info!(
                account_sid = %self.account_sid,
                call_sid = %created.sid,
                status = created.status.as_ref().map(|s| s.as_str()),
                "twilio call created"
            ),
            Err(err) => tracing::warn!(
                account_sid = %self.account_sid,
                "twilio call could not be created: {err}"
            ),
        }
        result
    }

    /// Updates a call (`POST /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when Twilio refuses (e.g. 21220: the call already ended, 20404: no such
    /// call), [`Error::InvalidRequest`] for an empty update or TwiML over 4000 characters,
    /// and the transport and decoding errors of every request.
    pub async fn update_call(
        &self,
        call_sid: &CallSid,
        update: &UpdateCall,
    ) -> Result<Call, Error> {
        let form = update.to_form()?;
        let url = self.calls_url(Some(call_sid));
        let result = self.post(url, &form).await;
        match &result {
            Ok(call) => tracing::info!(
                account_sid = %self.account_sid,
                call_sid = %call_sid,
                status = call.status.as_ref().map(|s| s.as_str()),
                "twilio call updated"
            ),
            Err(err) => tracing::warn!(
                account_sid = %self.account_sid,
                call_sid = %call_sid,
                "twilio call could not be updated: {err}"
            ),
        }
        result
    }

    /// One call as Twilio knows it now
    /// (`GET /2010-04-01/Accounts/{AccountSid}/Calls/{CallSid}.json`): its `status`,
    /// `answered_by`, times and duration. What a program that lost track of a call (it
    /// crashed between placing it and hearing its final status callback) asks before it
    /// decides anything about it.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when Twilio refuses (20404: no such call on this account, 20003:
    /// wrong credentials), and the transport and decoding errors of every request.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use twilio_media_stream::{rest::Client, CallSid};
    /// # async fn run(client: Client) -> Result<(), twilio_media_stream::rest::Error> {
    /// let call = client.fetch_call(&CallSid::new("CA0123456789abcdef0123456789abcdef")).await?;
    /// if call.status.as_ref().is_some_and(|s| s.is_final()) {
    ///     // the call is over: its status says how it ended
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn fetch_call(&self, call_sid: &CallSid) -> Result<Call, Error> {
        let url = self.calls_url(Some(call_sid));
        let result = self.get(url, &[]).await;
        match &result {
            Ok(call) => {
                let call: &Call = call;
                tracing::debug!(
                    account_sid = %self.account_sid,
                    call_sid = %call_sid,
                    status = call.status.as_ref().map(|s| s.as_str()),
                    "twilio call fetched"
                );
            }
            Err(err) => tracing::warn!(
                account_sid = %self.account_sid,
                call_sid = %call_sid,
                "twilio call could not be fetched: {err}"
            ),
        }
        result
    }

    /// The account's calls that match `filter`, most recent first, first page only
    /// (`GET /2010-04-01/Accounts/{AccountSid}/Calls.json?To=…&From=…`).
    ///
    /// What a program that lost the answer to its create request asks: Twilio may have
    /// created the call all the same, and placing it again would ring the callee twice.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when Twilio refuses (20003: wrong credentials), [`Error::Decode`] for
    /// a page without its `calls`, and the transport errors of every request.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use twilio_media_stream::rest::{Client, ListCalls};
    /// # async fn run(client: Client) -> Result<(), twilio_media_stream::rest::Error> {
    /// let calls = client
    ///     .list_calls(&ListCalls::new().to("+14155550101").from("+15005550006").page_size(20))
    ///     .await?;
    /// for call in &calls {
    ///     println!("{} {:?} created {:?}", call.sid, call.status, call.date_created);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn list_calls(&self, filter: &ListCalls) -> Result<Vec<Call>, Error> {
        let url = self.calls_url(None);
        let query = filter.to_query();
        let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let page: Result<CallPage, Error> = self.get(url, &query).await;
        let calls = self.logged("call list", page.map(|p| p.calls))?;
        tracing::debug!(account_sid = %self.account_sid, found = calls.len(), "twilio calls listed");
        Ok(calls)
    }

    /// Hangs up a call in progress (`Status=completed`).
    ///
    /// # Errors
    ///
    /// As [`update_call`](Self::update_call).
    pub async fn hang_up(&self, call_sid: &CallSid) -> Result<Call, Error> {
        self.update_call(call_sid, &UpdateCall::hang_up()).await
    }

    /// Replaces what a call is doing with new TwiML or a TwiML URL (this ends a running
    /// `<Connect><Stream>`).
    ///
    /// # Errors
    ///
    /// As [`update_call`](Self::update_call).
    pub async fn redirect(
        &self,
        call_sid: &CallSid,
        instructions: impl Into<CallInstructions>,
    ) -> Result<Call, Error> {
        self.update_call(call_sid, &UpdateCall::redirect(instructions))
            .await
    }

    /// Reads the account the client acts for (`GET /2010-04-01/Accounts/{AccountSid}.json`):
    /// its status (only an `active` account can place calls), type (a `Trial` account can
    /// only call verified numbers) and name. A cheap way to check the credentials.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when Twilio refuses (20003: the account SID or auth token is wrong,
    /// 20404: no such account), and the transport and decoding errors of every request.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use twilio_media_stream::{rest::Client, AuthToken};
    /// # async fn run(client: Client) -> Result<(), twilio_media_stream::rest::Error> {
    /// let account = client.account().await?;
    /// if !account.is_active() {
    ///     eprintln!("account {} is {:?}: it cannot place calls", account.sid, account.status);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn account(&self) -> Result<Account, Error> {
        let sid = format!("{}.json", self.account_sid.as_str());
        let url = self.api_url(&[&sid]);
        self.logged("account look-up", self.get(url, &[]).await)
    }

    /// The account's own numbers matching `phone_number`
    /// (`GET /2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json?PhoneNumber=…`),
    /// first page (Twilio's default page size, 50). Twilio matches partial numbers too, so
    /// compare [`IncomingPhoneNumber::phone_number`] when you need the exact one. Empty
    /// when the account does not own the number.
    ///
    /// # Errors
    ///
    /// As [`account`](Self::account).
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use twilio_media_stream::rest::Client;
    /// # async fn run(client: Client) -> Result<(), twilio_media_stream::rest::Error> {
    /// let from = "+15005550006";
    /// let owned = client.incoming_phone_numbers(from).await?;
    /// let can_call = owned.iter().any(|n| n.phone_number == from && n.capabilities.voice)
    ///     || client.outgoing_caller_ids(from).await?.iter().any(|id| id.phone_number == from);
    /// # let _ = can_call;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn incoming_phone_numbers(
        &self,
        phone_number: &str,
    ) -> Result<Vec<IncomingPhoneNumber>, Error> {
        let url = self.api_url(&[self.account_sid.as_str(), "IncomingPhoneNumbers.json"]);
        let page: Result<IncomingPhoneNumberPage, Error> =
            self.get(url, &[("PhoneNumber", phone_number)]).await;
        self.logged("number look-up", page.map(|p| p.incoming_phone_numbers))
    }

    /// The account's verified caller ids matching `phone_number`
    /// (`GET /2010-04-01/Accounts/{AccountSid}/OutgoingCallerIds.json?PhoneNumber=…`),
    /// first page: numbers the account may call from without owning them. Empty when the
    /// number is not verified.
    ///
    /// # Errors
    ///
    /// As [`account`](Self::account).
    pub async fn outgoing_caller_ids(
        &self,
        phone_number: &str,
    ) -> Result<Vec<OutgoingCallerId>, Error> {
        let url = self.api_url(&[self.account_sid.as_str(), "OutgoingCallerIds.json"]);
        let page: Result<OutgoingCallerIdPage, Error> =
            self.get(url, &[("PhoneNumber", phone_number)]).await;
        self.logged("caller id look-up", page.map(|p| p.outgoing_caller_ids))
    }

    /// Logs a look-up's failure as one line with the account's id.
    fn logged<T>(&self, what: &str, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(err) = &result {
            tracing::warn!(account_sid = %self.account_sid, "twilio {what} failed: {err}");
        }
        result
    }

    /// `{base}/2010-04-01/Accounts/{AccountSid}/Calls.json` or `.../Calls/{CallSid}.json`.
    fn calls_url(&self, call_sid: Option<&CallSid>) -> Url {
        let account = self.account_sid.as_str();
        match call_sid {
            None => self.api_url(&[account, "Calls.json"]),
            Some(sid) => self.api_url(&[account, "Calls", &format!("{}.json", sid.as_str())]),
        }
    }

    /// `{base}/2010-04-01/Accounts/` followed by `segments` (each percent-encoded).
    fn api_url(&self, segments: &[&str]) -> Url {
        let mut url = self.base_url.clone();
        // The base URL was checked to be a base in `build`, so segments are available.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty()
                .extend([API_VERSION, "Accounts"])
                .extend(segments);
        }
        url
    }

    async fn post(&self, url: Url, form: &[(&'static str, String)]) -> Result<Call, Error> {
        self.send(self.http.post(url).form(form)).await
    }

    async fn get<T: DeserializeOwned>(
        &self,
        mut url: Url,
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        self.send(self.http.get(url)).await
    }

    /// Sends with the account's credentials; decodes a success as `T` and a refusal as
    /// Twilio's error.
    async fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        let response = request
            .basic_auth(
                self.account_sid.as_str(),
                Some(self.auth_token.expose_secret()),
            )
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|err| Error::Transport(TransportError::new(err)))?;
        let status = response.status();
        let body = read_body(response, status.as_u16()).await?;
        if status.is_success() {
            serde_json::from_slice(&body).map_err(|source| Error::Decode {
                status: status.as_u16(),
                body: error_text(&body),
                source,
            })
        } else {
            let text = error_text(&body);
            Err(match ApiError::from_body(status.as_u16(), &text) {
                Some(api) => Error::Api(api),
                None => Error::Status {
                    status: status.as_u16(),
                    body: text,
                },
            })
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token)
            .field("base_url", &self.base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// Reads the answer, refusing more than [`MAX_RESPONSE_BYTES`].
async fn read_body(mut response: reqwest::Response, status: u16) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| Error::Transport(TransportError::new(err)))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(Error::ResponseTooLarge {
                status,
                limit: MAX_RESPONSE_BYTES,
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The body as text for error messages, cut to [`MAX_ERROR_BODY_BYTES`].
fn error_text(body: &[u8]) -> String {
    let kept = &body[..body.len().min(MAX_ERROR_BODY_BYTES)];
    String::from_utf8_lossy(kept).into_owned()
}

/// Configures a [`Client`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use twilio_media_stream::rest::Client;
/// use twilio_media_stream::AuthToken;
///
/// let client = Client::builder("AC0123456789abcdef0123456789abcdef", AuthToken::new("token"))
///     .timeout(Duration::from_secs(10))
///     .build()?;
/// # let _ = client;
/// # Ok::<(), twilio_media_stream::rest::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    account_sid: AccountSid,
    auth_token: AuthToken,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    tls: Option<rustls::ClientConfig>,
}

impl ClientBuilder {
    /// The API's base URL (default [`DEFAULT_BASE_URL`]); a path prefix is kept. Tests point
    /// it at a loopback server, e.g. `http://127.0.0.1:PORT`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// The limit on a whole request, answer included (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The limit on establishing a connection (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Your own rustls configuration (e.g. with extra root certificates). By default the
    /// client uses rustls with the `ring` provider and the platform's certificate verifier.
    ///
    /// Feature `rustls-0_23`: the type is rustls 0.23's and follows rustls's versions, not
    /// this crate's.
    #[cfg(feature = "rustls-0_23")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls-0_23")))]
    pub fn tls_config(mut self, config: rustls::ClientConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`Error::Config`] for a base URL that does not parse or cannot take a path, or when
    /// TLS cannot be set up.
    pub fn build(self) -> Result<Client, Error> {
        let base_url = Url::parse(&self.base_url)
            .map_err(|err| Error::Config(format!("base url {:?}: {err}", self.base_url)))?;
        if base_url.cannot_be_a_base() || !matches!(base_url.scheme(), "http" | "https") {
            return Err(Error::Config(format!(
                "base url {:?} must be an http or https URL",
                self.base_url
            )));
        }
        let tls = match self.tls {
            Some(config) => config,
            None => default_tls_config()?,
        };
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .user_agent(concat!(
                env!("CARGO_PKG_NAME"),
                "/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|err| Error::Config(format!("http client: {err}")))?;
        Ok(Client {
            http,
            account_sid: self.account_sid,
            auth_token: self.auth_token,
            base_url,
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("account_sid", &self.account_sid)
            .field("auth_token", &self.auth_token)
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("custom_tls", &self.tls.is_some())
            .finish()
    }
}

/// rustls with the `ring` provider (never the process default) and the platform verifier,
/// offering HTTP/2 and HTTP/1.1.
fn default_tls_config() -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|builder| builder.with_platform_verifier())
        .map_err(|err| Error::Config(format!("tls: {err}")))?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        Client::builder("AC123", AuthToken::new("tok"))
            .base_url(base)
            .build()
            .unwrap()
    }

    #[test]
    fn urls_keep_a_base_path_and_name_the_account_and_call() {
        assert_eq!(
            client("https://api.twilio.com").calls_url(None).as_str(),
            "https://api.twilio.com/2010-04-01/Accounts/AC123/Calls.json"
        );
        assert_eq!(
            client("http://127.0.0.1:9/prefix/")
                .calls_url(Some(&CallSid::new("CA9")))
                .as_str(),
            "http://127.0.0.1:9/prefix/2010-04-01/Accounts/AC123/Calls/CA9.json"
        );
    }

    #[test]
    fn look_up_urls_name_the_account() {
        let client = client("http://127.0.0.1:9/p");
        assert_eq!(
            client.api_url(&["AC123.json"]).as_str(),
            "http://127.0.0.1:9/p/2010-04-01/Accounts/AC123.json"
        );
        assert_eq!(
            client
                .api_url(&["AC123", "IncomingPhoneNumbers.json"])
                .as_str(),
            "http://127.0.0.1:9/p/2010-04-01/Accounts/AC123/IncomingPhoneNumbers.json"
        );
    }

    #[test]
    fn bad_base_urls_are_config_errors() {
        for base in ["not a url", "mailto:x@y", "ftp://h/"] {
            let err = Client::builder("AC1", AuthToken::new("t"))
                .base_url(base)
                .build()
                .unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{base}: {err}");
        }
    }

    #[test]
    fn debug_never_shows_the_token() {
        let builder = Client::builder("AC1", AuthToken::new("hunter2hunter2"));
        assert!(!format!("{builder:?}").contains("hunter2"));
        let client = builder.build().unwrap();
        let shown = format!("{client:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("AC1"), "{shown}");
    }
}
