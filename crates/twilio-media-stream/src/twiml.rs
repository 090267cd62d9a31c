//! A small TwiML builder for calls that stream audio.
//!
//! It covers the verbs a media-stream call needs: `<Connect><Stream>` (bidirectional),
//! `<Start><Stream>` and `<Stop><Stream>` (unidirectional), `<Say>`, `<Pause>`, `<Hangup>` and
//! `<Redirect>`. The output is byte-for-byte what Twilio's official Python SDK writes for the
//! same document: no whitespace between elements, attributes in alphabetical order, empty
//! elements written as `<Hangup />`, and ElementTree's escaping rules.
//!
//! # Examples
//!
//! ```
//! use twilio_media_stream::twiml::{Connect, Stream, VoiceResponse};
//!
//! let twiml = VoiceResponse::new()
//!     .connect(
//!         Connect::new().stream(
//!             Stream::new("wss://bot.example.com/media-stream")
//!                 .parameter("appointment_id", "apt_42")
//!                 .parameter("patient_name", "Jane Doe"),
//!         ),
//!     )
//!     .to_xml();
//!
//! assert_eq!(
//!     twiml,
//!     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Connect>\
//!      <Stream url=\"wss://bot.example.com/media-stream\">\
//!      <Parameter name=\"appointment_id\" value=\"apt_42\" />\
//!      <Parameter name=\"patient_name\" value=\"Jane Doe\" />\
//!      </Stream></Connect></Response>"
//! );
//! ```
//!
//! # Escaping
//!
//! Attribute values escape `&`, `<`, `>`, `"`, newline, carriage return and tab; text escapes
//! `&`, `<` and `>`. Apostrophes and non-ASCII characters are written as they are (UTF-8).
//! Characters that XML 1.0 cannot carry at all (control characters other than tab, newline
//! and carriage return) are replaced with U+FFFD, so the document always parses; the SDK
//! would write them through and produce a document Twilio rejects.

use std::fmt;

/// The XML declaration Twilio's SDKs put in front of every document.
const XML_DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

/// An HTTP method for a TwiML callback or a REST request parameter (`GET` or `POST`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST` (Twilio's default for every callback).
    Post,
}

impl Method {
    /// The method as Twilio writes it (`"GET"` or `"POST"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::Post => "POST",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which audio a `<Start><Stream>` forks to the WebSocket (the `track` attribute).
///
/// A `<Connect><Stream>` accepts only [`Track::InboundTrack`]; Twilio reports error 31941 for
/// any other value there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Track {
    /// `inbound_track`: the audio Twilio receives from the far end (the default).
    InboundTrack,
    /// `outbound_track`: the audio Twilio plays into the call.
    OutboundTrack,
    /// `both_tracks`: both directions (counts as two of the four tracks a call may stream).
    BothTracks,
}

impl Track {
    /// The value as Twilio writes it, e.g. `"both_tracks"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InboundTrack => "inbound_track",
            Self::OutboundTrack => "outbound_track",
            Self::BothTracks => "both_tracks",
        }
    }
}

impl fmt::Display for Track {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A TwiML document for a voice call: the `<Response>` element and its verbs, in order.
///
/// Build it with the verb methods, then write it with [`to_xml`](Self::to_xml) (or
/// `to_string()`, which is the same) or [`to_xml_without_declaration`](Self::to_xml_without_declaration).
///
/// # Examples
///
/// ```
/// use twilio_media_stream::twiml::VoiceResponse;
///
/// let goodbye = VoiceResponse::new()
///     .say("Thank you. Goodbye.")
///     .hangup();
/// assert_eq!(
///     goodbye.to_xml_without_declaration(),
///     "<Response><Say>Thank you. Goodbye.</Say><Hangup /></Response>"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct VoiceResponse {
    verbs: Vec<Element>,
}

impl VoiceResponse {
    /// An empty `<Response>`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `<Connect>` (for a bidirectional `<Stream>`). The verbs after it run only once
    /// your server closes the WebSocket.
    pub fn connect(mut self, connect: Connect) -> Self {
        self.verbs.push(connect.into_element());
        self
    }

    /// Appends `<Start>` (for a unidirectional `<Stream>`). The call goes on at once with the
    /// next verb; if there is none, Twilio hangs up.
    pub fn start(mut self, start: Start) -> Self {
        self.verbs.push(start.into_element());
        self
    }

    /// Appends `<Stop>` (stops a unidirectional stream started earlier).
    pub fn stop(mut self, stop: Stop) -> Self {
        self.verbs.push(stop.into_element());
        self
    }

    /// Appends `<Say>`. Takes a [`Say`] or, for the defaults, just the text.
    pub fn say(mut self, say: impl Into<Say>) -> Self {
        self.verbs.push(say.into().into_element());
        self
    }

    /// Appends `<Pause>`.
    pub fn pause(mut self, pause: Pause) -> Self {
        self.verbs.push(pause.into_element());
        self
    }

    /// Appends `<Hangup />`.
    pub fn hangup(mut self) -> Self {
        self.verbs.push(Element::new("Hangup"));
        self
    }

    /// Appends `<Redirect>`: Twilio fetches new TwiML from the URL and runs it instead.
    pub fn redirect(mut self, redirect: Redirect) -> Self {
        self.verbs.push(redirect.into_element());
        self
    }

    /// The document with the XML declaration in front, as Twilio's SDKs write it.
    pub fn to_xml(&self) -> String {
        let mut out = String::from(XML_DECLARATION);
        self.write_response(&mut out);
        out
    }

    /// The document without the `<?xml ...?>` declaration.
    pub fn to_xml_without_declaration(&self) -> String {
        let mut out = String::new();
        self.write_response(&mut out);
        out
    }

    fn write_response(&self, out: &mut String) {
        if self.verbs.is_empty() {
            out.push_str("<Response />");
            return;
        }
        out.push_str("<Response>");
        for verb in &self.verbs {
            verb.write(out);
        }
        out.push_str("</Response>");
    }
}

impl fmt::Display for VoiceResponse {
    /// Writes [`to_xml`](Self::to_xml).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_xml())
    }
}

/// The `<Connect>` verb, holding one bidirectional `<Stream>`.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::twiml::{Connect, Method, Stream, VoiceResponse};
///
/// let twiml = VoiceResponse::new()
///     .connect(Connect::new().stream(
///         Stream::new("wss://bot.example.com/media-stream")
///             .status_callback("https://bot.example.com/twilio/stream-status")
///             .status_callback_method(Method::Post),
///     ))
///     .say("Sorry, our assistant is not available right now.")
///     .hangup();
/// assert!(twiml.to_xml().contains(
///     "<Stream statusCallback=\"https://bot.example.com/twilio/stream-status\" \
///      statusCallbackMethod=\"POST\" url=\"wss://bot.example.com/media-stream\" />"
/// ));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Connect {
    children: Vec<Element>,
}

impl Connect {
    /// An empty `<Connect>`; add the stream with [`stream`](Self::stream).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the `<Stream>` (Twilio allows one bidirectional stream per call).
    pub fn stream(mut self, stream: Stream) -> Self {
        self.children.push(stream.into_element());
        self
    }

    fn into_element(self) -> Element {
        Element::new("Connect").children(self.children)
    }
}

/// The `<Start>` verb, holding unidirectional `<Stream>`s.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::twiml::{Start, Stream, Track, VoiceResponse};
///
/// let twiml = VoiceResponse::new()
///     .start(Start::new().stream(
///         Stream::new("wss://bot.example.com/listen").name("monitor").track(Track::BothTracks),
///     ))
///     .to_xml_without_declaration();
/// assert_eq!(
///     twiml,
///     "<Response><Start><Stream name=\"monitor\" track=\"both_tracks\" \
///      url=\"wss://bot.example.com/listen\" /></Start></Response>"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Start {
    children: Vec<Element>,
}

impl Start {
    /// An empty `<Start>`; add streams with [`stream`](Self::stream).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a `<Stream>`.
    pub fn stream(mut self, stream: Stream) -> Self {
        self.children.push(stream.into_element());
        self
    }

    fn into_element(self) -> Element {
        Element::new("Start").children(self.children)
    }
}

/// The `<Stop>` verb: stops unidirectional streams by the `name` they were started with.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::twiml::{Stop, VoiceResponse};
///
/// let twiml = VoiceResponse::new().stop(Stop::new().stream("monitor"));
/// assert_eq!(
///     twiml.to_xml_without_declaration(),
///     "<Response><Stop><Stream name=\"monitor\" /></Stop></Response>"
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[must_use]
pub struct Stop {
    children: Vec<Element>,
}

impl Stop {
    /// An empty `<Stop>`; name the streams with [`stream`](Self::stream).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `<Stream name="..." />` for the stream started with that `name`.
    pub fn stream(mut self, name: impl Into<String>) -> Self {
        self.children
            .push(Element::new("Stream").attribute("name", name.into()));
        self
    }

    fn into_element(self) -> Element {
        Element::new("Stop").children(self.children)
    }
}

/// The `<Stream>` noun inside `<Connect>` or `<Start>`.
///
/// The `url` must be an absolute `wss://` URL without a query string (Twilio does not support
/// one; pass data in [`parameter`](Self::parameter)s instead).
///
/// # Examples
///
/// ```
/// use twilio_media_stream::twiml::Stream;
///
/// let stream = Stream::new("wss://bot.example.com/media-stream")
///     .parameter("appointment_id", "apt_42");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Stream {
    url: String,
    name: Option<String>,
    track: Option<Track>,
    status_callback: Option<String>,
    status_callback_method: Option<Method>,
    parameters: Vec<(String, String)>,
}

impl Stream {
    /// A `<Stream>` to the given WebSocket URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            name: None,
            track: None,
            status_callback: None,
            status_callback_method: None,
            parameters: Vec::new(),
        }
    }

    /// Sets `name`, unique per call; it lets you stop the stream by name and shows up as
    /// `StreamName` in status callbacks.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets `track` (only meaningful for `<Start><Stream>`).
    pub fn track(mut self, track: Track) -> Self {
        self.track = Some(track);
        self
    }

    /// Sets `statusCallback`: Twilio posts `stream-started`, `stream-stopped` and
    /// `stream-error` there. It is the only place the reason for a refused handshake shows
    /// up outside Twilio's Console, so set it and log what arrives.
    pub fn status_callback(mut self, url: impl Into<String>) -> Self {
        self.status_callback = Some(url.into());
        self
    }

    /// Sets `statusCallbackMethod` (Twilio's default is `POST`).
    pub fn status_callback_method(mut self, method: Method) -> Self {
        self.status_callback_method = Some(method);
        self
    }

    /// Adds a `<Parameter name=".." value=".." />`. Parameters come back in the `start`
    /// message's `customParameters`, in no guaranteed order.
    ///
    /// Twilio requires `name` and `value` together to stay under 500 characters. Twilio
    /// neither signs nor encrypts them; use [`crate::context`] for values that must not be
    /// forged.
    pub fn parameter(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.parameters.push((name.into(), value.into()));
        self
    }

    /// Adds several parameters in order (see [`parameter`](Self::parameter)).
    pub fn parameters<K, V>(mut self, parameters: impl IntoIterator<Item = (K, V)>) -> Self
    where
        K: Into<String>,
        V: Into<String>,
    {
        self.parameters.extend(
            parameters
                .into_iter()
                .map(|(name, value)| (name.into(), value.into())),
        );
        self
    }

    fn into_element(self) -> Element {
        let mut element = Element::new("Stream")
            .optional_attribute("name", self.name)
            .optional_attribute("track", self.track.map(|t| t.as_str().to_owned()))
            .optional_attribute("statusCallback", self.status_callback)
            .optional_attribute(
                "statusCallbackMethod",
                self.status_callback_method.map(|m| m.as_str().to_owned()),
            )
            .attribute("url", self.url);
        for (name, value) in self.parameters {
            element.children.push(
                Element::new("Parameter")
                    .attribute("name", name)
                    .attribute("value", value),
            );
        }
        element
    }
}

/// The `<Say>` verb: text-to-speech.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::twiml::{Say, VoiceResponse};
///
/// let twiml = VoiceResponse::new()
///     .say(Say::new("Your appointment is confirmed.").voice("Polly.Joanna").language("en-US"));
/// assert_eq!(
///     twiml.to_xml_without_declaration(),
///     "<Response><Say language=\"en-US\" voice=\"Polly.Joanna\">\
///      Your appointment is confirmed.</Say></Response>"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Say {
    text: String,
    voice: Option<String>,
    language: Option<String>,
    loop_count: Option<u32>,
}

impl Say {
    /// `<Say>` with this text, in Twilio's default voice and language.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            voice: None,
            language: None,
            loop_count: None,
        }
    }

    /// Sets `voice` (e.g. `alice`, `Polly.Joanna`, `Google.en-US-Neural2-F`).
    pub fn voice(mut self, voice: impl Into<String>) -> Self {
        self.voice = Some(voice.into());
        self
    }

    /// Sets `language` (e.g. `en-US`, `es-ES`).
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }

    /// Sets `loop`: how many times Twilio says the text (Twilio's default is 1; `0`
    /// repeats it until the call ends, up to 1000 times), e.g. a voicemail message said
    /// twice.
    ///
    /// ```
    /// use twilio_media_stream::twiml::{Say, VoiceResponse};
    ///
    /// let twiml = VoiceResponse::new().say(Say::new("Please call us back.").loop_count(2));
    /// assert_eq!(
    ///     twiml.to_xml_without_declaration(),
    ///     "<Response><Say loop=\"2\">Please call us back.</Say></Response>"
    /// );
    /// ```
    pub fn loop_count(mut self, times: u32) -> Self {
        self.loop_count = Some(times);
        self
    }

    fn into_element(self) -> Element {
        Element::new("Say")
            .optional_attribute("voice", self.voice)
            .optional_attribute("language", self.language)
            .optional_attribute("loop", self.loop_count.map(|n| n.to_string()))
            .text(self.text)
    }
}

impl From<&str> for Say {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for Say {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

/// The `<Pause>` verb: silence for `length` seconds (Twilio's default is 1).
///
/// # Examples
///
/// ```
/// use twilio_media_stream::twiml::{Pause, VoiceResponse};
///
/// let twiml = VoiceResponse::new().pause(Pause::new().length(60));
/// assert_eq!(
///     twiml.to_xml_without_declaration(),
///     "<Response><Pause length=\"60\" /></Response>"
/// );
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[must_use]
pub struct Pause {
    length: Option<u32>,
}

impl Pause {
    /// `<Pause />` with Twilio's default length (1 second).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `length` in seconds.
    pub fn length(mut self, seconds: u32) -> Self {
        self.length = Some(seconds);
        self
    }

    fn into_element(self) -> Element {
        Element::new("Pause").optional_attribute("length", self.length.map(|n| n.to_string()))
    }
}

/// The `<Redirect>` verb: continue with the TwiML at another URL.
///
/// # Examples
///
/// ```
/// use twilio_media_stream::twiml::{Method, Redirect, VoiceResponse};
///
/// let twiml = VoiceResponse::new()
///     .redirect(Redirect::new("https://bot.example.com/next").method(Method::Post));
/// assert_eq!(
///     twiml.to_xml_without_declaration(),
///     "<Response><Redirect method=\"POST\">https://bot.example.com/next</Redirect></Response>"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Redirect {
    url: String,
    method: Option<Method>,
}

impl Redirect {
    /// `<Redirect>` to this URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            method: None,
        }
    }

    /// Sets `method` (Twilio's default is `POST`).
    pub fn method(mut self, method: Method) -> Self {
        self.method = Some(method);
        self
    }

    fn into_element(self) -> Element {
        Element::new("Redirect")
            .optional_attribute("method", self.method.map(|m| m.as_str().to_owned()))
            .text(self.url)
    }
}

/// One XML element; attributes are sorted by name when written, as the Python SDK does.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Element {
    name: &'static str,
    attributes: Vec<(&'static str, String)>,
    text: String,
    children: Vec<Element>,
}

impl Element {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            attributes: Vec::new(),
            text: String::new(),
            children: Vec::new(),
        }
    }

    fn attribute(mut self, name: &'static str, value: String) -> Self {
        self.attributes.push((name, value));
        self
    }

    fn optional_attribute(self, name: &'static str, value: Option<String>) -> Self {
        match value {
            Some(value) => self.attribute(name, value),
            None => self,
        }
    }

    fn text(mut self, text: String) -> Self {
        self.text = text;
        self
    }

    fn children(mut self, children: Vec<Element>) -> Self {
        self.children = children;
        self
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(self.name);
        let mut attributes: Vec<&(&str, String)> = self.attributes.iter().collect();
        attributes.sort_by_key(|(name, _)| *name);
        for (name, value) in attributes {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape(value, out, Context::Attribute);
            out.push('"');
        }
        if self.text.is_empty() && self.children.is_empty() {
            out.push_str(" />");
            return;
        }
        out.push('>');
        escape(&self.text, out, Context::Text);
        for child in &self.children {
            child.write(out);
        }
        out.push_str("</");
        out.push_str(self.name);
        out.push('>');
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    Attribute,
    Text,
}

/// Escapes `input` the way Python's ElementTree does, replacing characters XML 1.0 forbids.
fn escape(input: &str, out: &mut String, context: Context) {
    for c in input.chars() {
        match (c, context) {
            ('&', _) => out.push_str("&amp;"),
            ('<', _) => out.push_str("&lt;"),
            ('>', _) => out.push_str("&gt;"),
            ('"', Context::Attribute) => out.push_str("&quot;"),
            ('\n', Context::Attribute) => out.push_str("&#10;"),
            ('\r', Context::Attribute) => out.push_str("&#13;"),
            ('\t', Context::Attribute) => out.push_str("&#09;"),
            ('\t' | '\n' | '\r', Context::Text) => out.push(c),
            (c, _) if is_forbidden_in_xml(c) => out.push(char::REPLACEMENT_CHARACTER),
            (c, _) => out.push(c),
        }
    }
}

/// Characters outside XML 1.0's `Char` production.
fn is_forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_escaping_covers_quotes_and_whitespace() {
        let xml = VoiceResponse::new()
            .connect(
                Connect::new()
                    .stream(Stream::new("wss://h/p").parameter("k", "a\"b\nc\td\re&f<g>h'i")),
            )
            .to_xml_without_declaration();
        assert!(
            xml.contains("value=\"a&quot;b&#10;c&#09;d&#13;e&amp;f&lt;g&gt;h'i\""),
            "{xml}"
        );
    }

    #[test]
    fn text_escaping_leaves_quotes_and_whitespace() {
        let xml = VoiceResponse::new()
            .say("a\"b\nc'd & <e>")
            .to_xml_without_declaration();
        assert_eq!(
            xml,
            "<Response><Say>a\"b\nc'd &amp; &lt;e&gt;</Say></Response>"
        );
    }

    #[test]
    fn forbidden_control_characters_are_replaced() {
        let xml = VoiceResponse::new()
            .say("a\u{0}b\u{1b}c")
            .to_xml_without_declaration();
        assert_eq!(xml, "<Response><Say>a\u{FFFD}b\u{FFFD}c</Say></Response>");
    }

    #[test]
    fn empty_response_and_empty_say_are_self_closing() {
        assert_eq!(
            VoiceResponse::new().to_xml(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response />"
        );
        assert_eq!(
            VoiceResponse::new().say("").to_xml_without_declaration(),
            "<Response><Say /></Response>"
        );
    }

    #[test]
    fn display_writes_the_declaration() {
        let response = VoiceResponse::new().hangup();
        assert_eq!(response.to_string(), response.to_xml());
    }

    #[test]
    fn stop_names_several_streams() {
        let xml = VoiceResponse::new()
            .stop(Stop::new().stream("a").stream("b"))
            .to_xml_without_declaration();
        assert_eq!(
            xml,
            "<Response><Stop><Stream name=\"a\" /><Stream name=\"b\" /></Stop></Response>"
        );
    }

    #[test]
    fn parameters_keep_insertion_order() {
        let xml = VoiceResponse::new()
            .connect(
                Connect::new()
                    .stream(Stream::new("wss://h/p").parameters([("z", "1"), ("a", "2")])),
            )
            .to_xml_without_declaration();
        assert!(
            xml.contains(
                "<Parameter name=\"z\" value=\"1\" /><Parameter name=\"a\" value=\"2\" />"
            ),
            "{xml}"
        );
    }
}
