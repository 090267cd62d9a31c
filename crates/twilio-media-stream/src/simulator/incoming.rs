//! An incoming call: the voice webhook Twilio posts when someone dials your number, and the
//! `<Connect><Stream>` the bot's TwiML answers with, followed as Twilio would.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use quick_xml::events::{BytesStart, Event};

use super::{BoxError, CallScript, NEXT_ID};
use crate::ids::{AccountSid, CallSid};
use crate::signature::{self, AuthToken};

/// How long [`IncomingCall::ring`] waits for the TwiML (Twilio waits 15 s, then plays its
/// application error message).
pub const DEFAULT_WEBHOOK_TIMEOUT: Duration = Duration::from_secs(15);

/// A call coming in to one of your numbers: Twilio's voice webhook, then the stream.
///
/// [`ring`](Self::ring) posts the form Twilio posts to a number's Voice URL (signed with
/// `X-Twilio-Signature` when given an auth token) and reads the TwiML answer. When that
/// holds a `<Connect><Stream>`, [`Answer::stream_call`] gives the [`CallScript`] of the
/// stream Twilio would open: the same `CallSid` and `AccountSid`, the `<Parameter>`s as
/// `customParameters`, and the signature over the `<Stream url>` the TwiML named.
///
/// The simulator talks to your server directly, over plain `http://` (`ws://` for the
/// stream), while Twilio signs the public `https://` URL it was configured with: give that
/// one as [`signature_url`](Self::signature_url), as your server checks against it.
///
/// # Examples
///
/// ```no_run
/// use twilio_media_stream::signature::AuthToken;
/// use twilio_media_stream::simulator::IncomingCall;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let token = AuthToken::new("your auth token");
/// let answer = IncomingCall::new("http://127.0.0.1:5050/voice")
///     .auth_token(token.clone())
///     .signature_url("https://bot.example.com/voice")
///     .from("+14155550123")
///     .to("+14155550100")
///     .ring()
///     .await?;
/// assert_eq!(answer.status, 200);
/// let record = answer
///     .stream_call("ws://127.0.0.1:5050")? // where the `<Stream url>`'s path is served
///     .auth_token(token)
///     .run()
///     .await?;
/// println!("heard {} ms of the bot", record.heard_ms());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct IncomingCall {
    voice_url: String,
    signature_url: Option<String>,
    auth_token: Option<AuthToken>,
    call_sid: CallSid,
    account_sid: AccountSid,
    from: String,
    to: String,
    params: BTreeMap<String, String>,
    timeout: Duration,
}

impl IncomingCall {
    /// A call whose voice webhook goes to `voice_url` (`http://`, your server's address).
    pub fn new(voice_url: impl Into<String>) -> Self {
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        Self {
            voice_url: voice_url.into(),
            signature_url: None,
            auth_token: None,
            call_sid: CallSid::new(format!("CA{n:032x}")),
            account_sid: AccountSid::new(format!("AC{:032x}", 1)),
            from: "+14155550123".to_owned(),
            to: "+14155550100".to_owned(),
            params: BTreeMap::new(),
            timeout: DEFAULT_WEBHOOK_TIMEOUT,
        }
    }

    /// Signs the webhook with this auth token (`X-Twilio-Signature`), as Twilio does.
    pub fn auth_token(mut self, token: AuthToken) -> Self {
        self.auth_token = Some(token);
        self
    }

    /// The URL the signature covers (default: the URL posted to): the public `https://`
    /// Voice URL of your number.
    pub fn signature_url(mut self, url: impl Into<String>) -> Self {
        self.signature_url = Some(url.into());
        self
    }

    /// The caller (`From`; default `+14155550123`). Any string: `client:alice`,
    /// `anonymous`, a SIP URI.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = from.into();
        self
    }

    /// The number called (`To`; default `+14155550100`).
    pub fn to(mut self, to: impl Into<String>) -> Self {
        self.to = to.into();
        self
    }

    /// Sets the `CallSid` (default: a fresh one).
    pub fn call_sid(mut self, sid: CallSid) -> Self {
        self.call_sid = sid;
        self
    }

    /// Sets the `AccountSid`.
    pub fn account_sid(mut self, sid: AccountSid) -> Self {
        self.account_sid = sid;
        self
    }

    /// Adds or replaces a form parameter (`CallerName`, `FromCountry`, `StirVerstat`, ...).
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.insert(name.into(), value.into());
        self
    }

    /// How long to wait for the answer (default [`DEFAULT_WEBHOOK_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The form Twilio posts, in the order written.
    pub fn form(&self) -> BTreeMap<String, String> {
        let mut form = BTreeMap::from([
            (
                "AccountSid".to_owned(),
                self.account_sid.as_str().to_owned(),
            ),
            ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
            ("CallSid".to_owned(), self.call_sid.as_str().to_owned()),
            ("CallStatus".to_owned(), "ringing".to_owned()),
            ("Called".to_owned(), self.to.clone()),
            ("Caller".to_owned(), self.from.clone()),
            ("Direction".to_owned(), "inbound".to_owned()),
            ("From".to_owned(), self.from.clone()),
            ("To".to_owned(), self.to.clone()),
        ]);
        form.extend(self.params.clone());
        form
    }

    /// Posts the voice webhook and reads the TwiML answer.
    ///
    /// # Errors
    ///
    /// [`IncomingCallError`] when the webhook could not be posted (a bad or `https://` URL,
    /// no connection, no answer in time) or the answer is not readable TwiML. An answer
    /// with an error status is an [`Answer`], not an error: a test can assert the 403.
    pub async fn ring(&self) -> Result<Answer, IncomingCallError> {
        let url = reqwest::Url::parse(&self.voice_url).map_err(|err| IncomingCallError::Url {
            url: self.voice_url.clone(),
            reason: err.to_string(),
        })?;
        if url.scheme() != "http" {
            return Err(IncomingCallError::Url {
                url: self.voice_url.clone(),
                reason: "the simulator posts to your server directly: give its http:// \
                         address, and the public https:// URL as signature_url"
                    .to_owned(),
            });
        }
        let form = self.form();
        let client = reqwest::Client::builder()
            .timeout(self.timeout)
            .tls_backend_preconfigured(plain_http_only())
            .build()
            .map_err(|err| IncomingCallError::Post {
                url: self.voice_url.clone(),
                source: Box::new(err),
            })?;
        let mut request = client.post(url).form(&form);
        if let Some(token) = &self.auth_token {
            let signed_url = self.signature_url.as_deref().unwrap_or(&self.voice_url);
            let signature = signature::sign(token, signed_url, &form);
            request = request.header("X-Twilio-Signature", signature);
        }
        tracing::debug!(url = %self.voice_url, call_sid = %self.call_sid, "simulator: posting the voice webhook");
        let response = request
            .send()
            .await
            .map_err(|err| IncomingCallError::Post {
                url: self.voice_url.clone(),
                source: Box::new(err),
            })?;
        let status = response.status().as_u16();
        let twiml = response
            .text()
            .await
            .map_err(|err| IncomingCallError::Post {
                url: self.voice_url.clone(),
                source: Box::new(err),
            })?;
        let read = if (200..300).contains(&status) {
            read_twiml(&twiml)?
        } else {
            ReadTwiml::default()
        };
        Ok(Answer {
            status,
            twiml,
            verbs: read.verbs,
            stream: read.stream,
            call_sid: self.call_sid.clone(),
            account_sid: self.account_sid.clone(),
        })
    }
}

/// What the bot answered the voice webhook with.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The body as received (TwiML, or the reason of a refusal).
    pub twiml: String,
    /// The verbs under `<Response>`, in order (`Say`, `Connect`, `Hangup`, ...); empty
    /// when the status was not 2xx.
    pub verbs: Vec<String>,
    /// The first `<Connect><Stream>`, if any.
    pub stream: Option<StreamTarget>,
    call_sid: CallSid,
    account_sid: AccountSid,
}

impl Answer {
    /// The stream Twilio would open for this answer, as a [`CallScript`] connecting to
    /// `server` (e.g. `ws://127.0.0.1:5050`) with the `<Stream url>`'s path and query, and
    /// signed (once given [`CallScript::auth_token`]) over the `<Stream url>` itself.
    ///
    /// # Errors
    ///
    /// [`IncomingCallError::Refused`] when the webhook's status was not 2xx (its status
    /// and body); [`IncomingCallError::NoStream`] when the TwiML has no
    /// `<Connect><Stream>`; [`IncomingCallError::Url`] when its `url` is not a `wss://`
    /// (or `ws://`) URL.
    pub fn stream_call(&self, server: &str) -> Result<CallScript, IncomingCallError> {
        if !(200..300).contains(&self.status) {
            return Err(IncomingCallError::Refused {
                status: self.status,
                body: self.twiml.clone(),
            });
        }
        let stream = self
            .stream
            .as_ref()
            .ok_or_else(|| IncomingCallError::NoStream {
                twiml: self.twiml.clone(),
            })?;
        let public = reqwest::Url::parse(&stream.url).map_err(|err| IncomingCallError::Url {
            url: stream.url.clone(),
            reason: err.to_string(),
        })?;
        if !matches!(public.scheme(), "wss" | "ws") {
            return Err(IncomingCallError::Url {
                url: stream.url.clone(),
                reason: "a <Stream url> must be wss:// (Twilio streams to nothing else)".to_owned(),
            });
        }
        let mut path = public.path().to_owned();
        if let Some(query) = public.query() {
            path.push('?');
            path.push_str(query);
        }
        Ok(
            CallScript::new(format!("{}{path}", server.trim_end_matches('/')))
                .signature_url(stream.url.clone())
                .call_sid(self.call_sid.clone())
                .account_sid(self.account_sid.clone())
                .parameters(stream.parameters.clone()),
        )
    }
}

/// A `<Connect><Stream>` read from TwiML.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamTarget {
    /// `<Stream url>`, as written (entities decoded).
    pub url: String,
    /// The `<Parameter name value>`s inside it.
    pub parameters: BTreeMap<String, String>,
}

/// An incoming call that could not be simulated.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum IncomingCallError {
    /// A URL the simulator cannot use.
    #[error("cannot use {url:?}: {reason}")]
    Url {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The webhook could not be posted, or no answer came in time.
    #[error("cannot post the voice webhook to {url}")]
    Post {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The bot refused the webhook (a status other than 2xx): Twilio would play its
    /// application error and open no stream.
    #[error("the voice webhook was refused with HTTP {status}: {body}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The body as received.
        body: String,
    },
    /// The answer is not well-formed TwiML.
    #[error("the answer is not TwiML: {reason}")]
    Twiml {
        /// What the XML reader found.
        reason: String,
    },
    /// The TwiML opens no stream.
    #[error("the TwiML has no <Connect><Stream>: {twiml}")]
    NoStream {
        /// The TwiML received.
        twiml: String,
    },
}

/// The client never speaks TLS (the URL is checked to be `http://`); rustls still wants a
/// configuration, so it gets one that trusts nothing.
fn plain_http_only() -> rustls::ClientConfig {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
}

#[derive(Debug, Default)]
struct ReadTwiml {
    verbs: Vec<String>,
    stream: Option<StreamTarget>,
}

/// Reads the verbs under `<Response>` and the first `<Connect><Stream>` (sans-IO).
fn read_twiml(twiml: &str) -> Result<ReadTwiml, IncomingCallError> {
    let mut reader = quick_xml::Reader::from_str(twiml);
    reader.config_mut().trim_text(true);
    let mut read = ReadTwiml::default();
    // Open elements, outermost first.
    let mut path: Vec<String> = Vec::new();
    let mut saw_response = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|err| IncomingCallError::Twiml {
                reason: format!("at byte {}: {err}", reader.error_position()),
            })?;
        let (element, empty) = match &event {
            Event::Start(element) => (element, false),
            Event::Empty(element) => (element, true),
            Event::End(_) => {
                path.pop();
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
        match path
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            [] if name == "Response" => saw_response = true,
            [] => {
                return Err(IncomingCallError::Twiml {
                    reason: format!("the root element is <{name}>, not <Response>"),
                });
            }
            ["Response"] => read.verbs.push(name.clone()),
            ["Response", "Connect"] if name == "Stream" && read.stream.is_none() => {
                let url = attribute(element, "url")?.ok_or_else(|| IncomingCallError::Twiml {
                    reason: "a <Stream> has no url".to_owned(),
                })?;
                read.stream = Some(StreamTarget {
                    url,
                    parameters: BTreeMap::new(),
                });
            }
            ["Response", "Connect", "Stream"] if name == "Parameter" => {
                if let (Some(stream), Some(name)) = (&mut read.stream, attribute(element, "name")?)
                {
                    let value = attribute(element, "value")?.unwrap_or_default();
                    stream.parameters.insert(name, value);
                }
            }
            _ => {}
        }
        if !empty {
            path.push(name);
        }
    }
    if !saw_response {
        return Err(IncomingCallError::Twiml {
            reason: "no <Response> element".to_owned(),
        });
    }
    Ok(read)
}

fn attribute(element: &BytesStart<'_>, name: &str) -> Result<Option<String>, IncomingCallError> {
    for attribute in element.attributes() {
        let attribute = attribute.map_err(|err| IncomingCallError::Twiml {
            reason: err.to_string(),
        })?;
        if attribute.key.as_ref() == name.as_bytes() {
            let value = attribute
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| IncomingCallError::Twiml {
                    reason: err.to_string(),
                })?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::twiml::{Connect, Stream, VoiceResponse};

    #[test]
    fn reads_the_stream_and_its_parameters_from_our_own_twiml() {
        let twiml = VoiceResponse::new()
            .connect(
                Connect::new().stream(
                    Stream::new("wss://bot.example.com/media-stream?x=1&y=2")
                        .parameter("caller", "+14155550123")
                        .parameter("note", "a <b> & \"c\""),
                ),
            )
            .to_xml();
        let read = read_twiml(&twiml).unwrap();
        assert_eq!(read.verbs, ["Connect"]);
        let stream = read.stream.unwrap();
        assert_eq!(stream.url, "wss://bot.example.com/media-stream?x=1&y=2");
        assert_eq!(stream.parameters["caller"], "+14155550123");
        assert_eq!(stream.parameters["note"], "a <b> & \"c\"");
    }

    #[test]
    fn reads_verbs_in_order_and_a_stream_written_by_hand() {
        let twiml = r#"<?xml version="1.0" encoding="UTF-8"?>
            <Response>
              <Say voice="alice">Hello</Say>
              <Connect><Stream url='wss://h.example/s'><Parameter name="a" value="1"/></Stream></Connect>
              <Say>Goodbye</Say><Hangup/>
            </Response>"#;
        let read = read_twiml(twiml).unwrap();
        assert_eq!(read.verbs, ["Say", "Connect", "Say", "Hangup"]);
        assert_eq!(read.stream.unwrap().parameters["a"], "1");
    }

    #[test]
    fn twiml_without_a_stream_reads_as_none() {
        let read = read_twiml("<Response><Say>Closed today</Say><Hangup/></Response>").unwrap();
        assert_eq!(read.verbs, ["Say", "Hangup"]);
        assert_eq!(read.stream, None);
    }

    #[test]
    fn what_is_not_twiml_is_an_error_that_says_why() {
        for (body, expected) in [
            ("<Response><Say>unclosed</Response>", "not TwiML"),
            ("<html><body>502</body></html>", "not <Response>"),
            ("", "no <Response>"),
            (
                "<Response><Connect><Stream/></Connect></Response>",
                "has no url",
            ),
        ] {
            let err = read_twiml(body).unwrap_err().to_string();
            assert!(err.contains(expected), "{body:?}: {err}");
        }
    }

    #[test]
    fn the_stream_call_keeps_the_call_and_signs_the_public_url() {
        let answer = Answer {
            status: 200,
            twiml: String::new(),
            verbs: vec!["Connect".into()],
            stream: Some(StreamTarget {
                url: "wss://bot.example.com/media-stream?tenant=7".into(),
                parameters: BTreeMap::from([("caller".into(), "+14155550123".into())]),
            }),
            call_sid: CallSid::new("CA0123456789abcdef0123456789abcdef"),
            account_sid: AccountSid::new("AC0123456789abcdef0123456789abcdef"),
        };
        let script = answer.stream_call("ws://127.0.0.1:5050/").unwrap();
        assert_eq!(script.url, "ws://127.0.0.1:5050/media-stream?tenant=7");
        assert_eq!(
            script.signature_url.as_deref(),
            Some("wss://bot.example.com/media-stream?tenant=7")
        );
        assert_eq!(script.call_sid, "CA0123456789abcdef0123456789abcdef");
        assert_eq!(script.custom_parameters["caller"], "+14155550123");

        let none = Answer {
            stream: None,
            ..answer
        };
        assert!(matches!(
            none.stream_call("ws://127.0.0.1:5050"),
            Err(IncomingCallError::NoStream { .. })
        ));
    }

    #[test]
    fn the_form_is_what_twilio_posts_for_an_incoming_call() {
        let call = IncomingCall::new("http://127.0.0.1:1/voice")
            .from("client:alice")
            .param("CallerName", "Alice");
        let form = call.form();
        assert_eq!(form["Direction"], "inbound");
        assert_eq!(form["CallStatus"], "ringing");
        assert_eq!(form["From"], "client:alice");
        assert_eq!(form["CallerName"], "Alice");
        let parsed = crate::callback::VoiceWebhook::from_form(&form).unwrap();
        assert!(parsed.is_inbound());
    }
}
