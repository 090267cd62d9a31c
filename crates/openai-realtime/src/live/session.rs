//! The session configuration of `session.start`, the session snapshot of `session.started`,
//! `session.updated` and `session.closed`, the sparse `session.update`, and the audio, voice
//! and history payloads they carry.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::tagged_enum;
use crate::open_enum::open_enum;

use super::decision::Trigger;
use super::delegation::{Delegation, DelegationUpdate};
use super::extra::Extra;
use super::ids::LiveSessionId;

open_enum! {
    /// A Live model (`session.model`). Any string is accepted.
    pub enum Model {
        /// `gpt-live-1`
        GptLive1 = "gpt-live-1",
        /// `gpt-live-1.1`: better transcription, steadier voice across languages, a standby
        /// rate while WebRTC inference is paused.
        GptLive1_1 = "gpt-live-1.1",
    }
}

tagged_enum! {
    /// The audio encoding and rate of a primary WebSocket (`session.audio.format`): one format
    /// for both directions, chosen at `session.start` and immutable. WebRTC and SIP negotiate
    /// their own.
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::live::AudioFormat;
    ///
    /// let format = AudioFormat::pcmu();
    /// assert_eq!(serde_json::to_string(&format).unwrap(), r#"{"type":"audio/pcmu","rate":8000}"#);
    /// assert_eq!(format.rate(), Some(8000));
    /// ```
    pub enum AudioFormat {
        /// `audio/pcm`: raw mono 16-bit little-endian PCM at 16000 or 24000 Hz.
        "audio/pcm" => Pcm(Rate),
        /// `audio/pcmu`: raw mono G.711 mu-law at 8000 Hz, Twilio's format.
        "audio/pcmu" => Pcmu(Rate),
        /// `audio/pcma`: raw mono G.711 A-law at 8000 Hz.
        "audio/pcma" => Pcma(Rate),
    }
}

/// The body of an [`AudioFormat`]: its sample rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Rate {
    /// Samples per second: 16000 or 24000 for `audio/pcm`, 8000 for G.711.
    pub rate: u32,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl Rate {
    /// A rate in hertz.
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            extra: Extra::new(),
        }
    }
}

impl AudioFormat {
    /// `{"type":"audio/pcmu","rate":8000}`: G.711 mu-law, what Twilio Media Streams carry.
    pub fn pcmu() -> Self {
        Self::Pcmu(Rate::new(8000))
    }

    /// `{"type":"audio/pcma","rate":8000}`: G.711 A-law.
    pub fn pcma() -> Self {
        Self::Pcma(Rate::new(8000))
    }

    /// `{"type":"audio/pcm","rate":rate}`: PCM16 at 16000 or 24000 Hz (the service refuses
    /// other rates).
    pub fn pcm(rate: u32) -> Self {
        Self::Pcm(Rate::new(rate))
    }

    /// The sample rate, when the format is one this version knows.
    pub fn rate(&self) -> Option<u32> {
        match self {
            Self::Pcm(r) | Self::Pcmu(r) | Self::Pcma(r) => Some(r.rate),
            _ => None,
        }
    }

    /// Whether audio in this format passes between Twilio and the model untouched (G.711
    /// mu-law at 8000 Hz).
    pub fn is_twilio_native(&self) -> bool {
        matches!(self, Self::Pcmu(r) if r.rate == 8000)
    }
}

open_enum! {
    /// A built-in voice name. The docs' voice table names more than the SDK does, so any
    /// string is accepted.
    pub enum BuiltInVoice {
        /// `alloy`
        Alloy = "alloy",
        /// `ash`
        Ash = "ash",
        /// `ballad`
        Ballad = "ballad",
        /// `beacon`
        Beacon = "beacon",
        /// `bossa`
        Bossa = "bossa",
        /// `cedar`
        Cedar = "cedar",
        /// `cinder`
        Cinder = "cinder",
        /// `coral`
        Coral = "coral",
        /// `delta`
        Delta = "delta",
        /// `echo`
        Echo = "echo",
        /// `gleam`
        Gleam = "gleam",
        /// `marin`, the default.
        Marin = "marin",
        /// `meridian`
        Meridian = "meridian",
        /// `quartz`
        Quartz = "quartz",
        /// `ripple`
        Ripple = "ripple",
        /// `sage`
        Sage = "sage",
        /// `shida`
        Shida = "shida",
        /// `shimmer`
        Shimmer = "shimmer",
        /// `stone`
        Stone = "stone",
        /// `tempo`
        Tempo = "tempo",
        /// `verse`
        Verse = "verse",
        /// `vesper`
        Vesper = "vesper",
        /// `willow`
        Willow = "willow",
    }
}

/// The voice of the model (`session.audio.output.voice`): a name, or `{id}` for a custom
/// voice. Immutable after `session.start`.
///
/// # Examples
///
/// ```
/// use openai_realtime::live::{BuiltInVoice, Voice};
///
/// let voice: Voice = serde_json::from_str(r#""cedar""#).unwrap();
/// assert_eq!(voice, Voice::from(BuiltInVoice::Cedar));
/// let custom: Voice = serde_json::from_str(r#"{"id":"voice_1"}"#).unwrap();
/// assert!(matches!(custom, Voice::Custom(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum Voice {
    /// A voice by name (built in, or any other string).
    Named(BuiltInVoice),
    /// A custom voice by id.
    Custom(CustomVoice),
}

impl From<BuiltInVoice> for Voice {
    fn from(voice: BuiltInVoice) -> Self {
        Self::Named(voice)
    }
}

/// A custom voice, `{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomVoice {
    /// The custom voice's id.
    pub id: String,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// `session.audio`: the format (both directions) and the output voice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Audio {
    /// The encoding and rate of audio both ways, on a primary WebSocket or a fork.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<AudioFormat>,
    /// The output voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<AudioOutput>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// `session.audio.output`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AudioOutput {
    /// The voice; `marin` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<Voice>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// The configuration sent in `session.start` on a primary connection (`SessionConfig` in the
/// SDK). The service is strict: a field it does not know refuses the whole start, so an
/// [`Extra`] member read from a recording is sent back only by a relay.
///
/// Instructions, audio format and voice are immutable once started; `session.update`
/// changes only the delegation settings and triggers.
///
/// # Examples
///
/// ```
/// use openai_realtime::live::{AudioFormat, BuiltInVoice, SessionConfig};
///
/// let config = SessionConfig::phone_call()
///     .with_instructions("You confirm appointments for Acme Dental. Be brief.")
///     .with_voice(BuiltInVoice::Cedar);
/// assert_eq!(config.audio.as_ref().and_then(|a| a.format.clone()), Some(AudioFormat::pcmu()));
/// let json = serde_json::to_value(&config).unwrap();
/// assert_eq!(json["model"], "gpt-live-1");
/// assert_eq!(json["audio"]["format"]["type"], "audio/pcmu");
/// assert_eq!(json["audio"]["format"]["rate"], 8000);
/// assert_eq!(json["audio"]["output"]["voice"], "cedar");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionConfig {
    /// The Live model.
    pub model: Model,
    /// Frontend instructions (at most 16,384 tokens); blank means the service's defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Audio format and voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Audio>,
    /// Who handles delegated tasks; absent means `client`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<Delegation>,
    /// Text-only history given before start (at most 128 messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Vec<InitialItem>>,
    /// What an untrusted WebRTC frontend may send and receive on its data channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientConfig>,
    /// A stable id of your end user, for the service's abuse monitoring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Whether to store the session for forks and recordings (default `false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Decisions triggers on transcript events (at most one per event type).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<Trigger>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl SessionConfig {
    /// A configuration with only the model; everything else is the service's default
    /// (PCM16 at 24 kHz, voice `marin`, client delegation).
    pub fn new(model: impl Into<Model>) -> Self {
        Self {
            model: model.into(),
            instructions: None,
            audio: None,
            delegation: None,
            input: None,
            client: None,
            safety_identifier: None,
            store: None,
            triggers: None,
            extra: Extra::new(),
        }
    }

    /// The session a phone bridge asks for: `gpt-live-1` with G.711 mu-law at 8000 Hz both
    /// ways, so Twilio's base64 payloads pass through unchanged in both directions.
    ///
    /// Turn-taking and barge-in are the service's (Live has no VAD setting to choose).
    ///
    /// # Examples
    ///
    /// ```
    /// use openai_realtime::live::{ClientEvent, SessionConfig};
    ///
    /// let start = ClientEvent::session_start(SessionConfig::phone_call());
    /// assert_eq!(
    ///     start.encode(),
    ///     r#"{"type":"session.start","session":{"model":"gpt-live-1","audio":{"format":{"type":"audio/pcmu","rate":8000}}}}"#
    /// );
    /// ```
    pub fn phone_call() -> Self {
        Self::new(Model::GptLive1).with_format(AudioFormat::pcmu())
    }

    /// Sets the instructions.
    #[must_use]
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets the model.
    #[must_use]
    pub fn with_model(mut self, model: impl Into<Model>) -> Self {
        self.model = model.into();
        self
    }

    /// Sets the audio format of both directions.
    #[must_use]
    pub fn with_format(mut self, format: AudioFormat) -> Self {
        self.audio.get_or_insert_with(Audio::default).format = Some(format);
        self
    }

    /// Sets the output voice.
    #[must_use]
    pub fn with_voice(mut self, voice: impl Into<Voice>) -> Self {
        let audio = self.audio.get_or_insert_with(Audio::default);
        audio.output.get_or_insert_with(AudioOutput::default).voice = Some(voice.into());
        self
    }

    /// Sets who handles delegated tasks.
    #[must_use]
    pub fn with_delegation(mut self, delegation: Delegation) -> Self {
        self.delegation = Some(delegation);
        self
    }

    /// The audio format, when set.
    pub fn format(&self) -> Option<&AudioFormat> {
        self.audio.as_ref().and_then(|a| a.format.as_ref())
    }
}

open_enum! {
    /// The `status` of a session snapshot. Stays `active` even in `session.closed`.
    pub enum SessionStatus {
        /// `active`
        Active = "active",
    }
}

/// The session as the service resolved it (`SessionResource`): the configuration plus `id`,
/// `expires_at` and `status`. Carried by `session.started`, `session.updated` and
/// `session.closed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionResource {
    /// The session id (`live_…`).
    pub id: LiveSessionId,
    /// When the session expires, in Unix seconds; it then ends with `session.closed`
    /// `reason: "expired"`.
    pub expires_at: u64,
    /// The Live model.
    pub model: Model,
    /// Always `active`.
    pub status: SessionStatus,
    /// The instructions in effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// Audio format and voice in effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Audio>,
    /// The delegation in effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<Delegation>,
    /// The history given at start (observed as `[]` when none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Vec<InitialItem>>,
    /// WebRTC data-channel permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientConfig>,
    /// The end-user id given at start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_identifier: Option<String>,
    /// Whether the session is stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Decisions triggers in effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<Trigger>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl SessionResource {
    /// A snapshot with the required fields only (for a mock or a test).
    pub fn new(id: impl Into<LiveSessionId>, model: impl Into<Model>, expires_at: u64) -> Self {
        Self {
            id: id.into(),
            expires_at,
            model: model.into(),
            status: SessionStatus::Active,
            instructions: None,
            audio: None,
            delegation: None,
            input: None,
            client: None,
            safety_identifier: None,
            store: None,
            triggers: None,
            extra: Extra::new(),
        }
    }

    /// The audio format in effect, when reported.
    pub fn format(&self) -> Option<&AudioFormat> {
        self.audio.as_ref().and_then(|a| a.format.as_ref())
    }
}

/// The sparse changes of `session.update` (`SessionUpdateConfig`): only the settings of the
/// current delegation type, and triggers. Changing the delegation type is refused
/// (`immutable_field_update`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionUpdateConfig {
    /// Delegation settings to change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<DelegationUpdate>,
    /// Decisions triggers to set: a list replaces them, an empty list turns them off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<Trigger>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl SessionUpdateConfig {
    /// An update of the delegation settings.
    pub fn delegation(delegation: DelegationUpdate) -> Self {
        Self {
            delegation: Some(delegation),
            ..Self::default()
        }
    }
}

/// The overrides of `session.start` on a fork WebSocket (`ForkSessionConfig`): no model, an
/// optional audio format, storage and Responses overrides.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ForkSessionConfig {
    /// The fork's audio format (`audio.format` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<Audio>,
    /// WebRTC data-channel permissions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<ClientConfig>,
    /// Responses backend overrides (`type: "responses"` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delegation: Option<DelegationUpdate>,
    /// Whether to store the fork.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<bool>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

open_enum! {
    /// The author of an [`InitialItem`] (its discriminator on the wire).
    pub enum Role {
        /// `developer`
        Developer = "developer",
        /// `user`
        User = "user",
        /// `assistant`
        Assistant = "assistant",
    }
}

/// A text message of the history given at start (`session.input`), discriminated by `role`.
/// Developer and user parts are `input_text`; assistant parts `text` or `output_text`.
///
/// # Examples
///
/// ```
/// use openai_realtime::live::{InitialItem, Role};
///
/// let item = InitialItem::text(Role::User, "I called yesterday about order 123.");
/// assert_eq!(
///     serde_json::to_string(&item).unwrap(),
///     r#"{"role":"user","content":[{"type":"input_text","text":"I called yesterday about order 123."}]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InitialItem {
    /// Who wrote it.
    pub role: Role,
    /// Its text parts (one each, today).
    pub content: Vec<InitialContent>,
    /// Your id for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `incomplete` or `completed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Always `message` when present.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub item_type: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

impl InitialItem {
    /// A message of one text part, typed as the role requires (`input_text` for developer and
    /// user, `output_text` for assistant).
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        let part_type = if role == Role::Assistant {
            "output_text"
        } else {
            "input_text"
        };
        Self {
            role,
            content: vec![InitialContent {
                part_type: Some(part_type.to_owned()),
                text: text.into(),
                extra: Extra::new(),
            }],
            id: None,
            status: None,
            item_type: None,
            extra: Extra::new(),
        }
    }
}

/// A text part of an [`InitialItem`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InitialContent {
    /// `input_text`, `text` or `output_text`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub part_type: Option<String>,
    /// The text.
    pub text: String,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `session.client` (`ClientConfig`): startup-only limits for an untrusted frontend on a
/// WebRTC session; trusted sidebands are not limited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The data channel's permissions.
    pub data_channel: DataChannelConfig,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// Which events a WebRTC frontend's data channel may carry (`DataChannelConfig`). Absent
/// means all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DataChannelConfig {
    /// Client event types the frontend may send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_client_events: Option<Allowed<String>>,
    /// Server events the frontend may receive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed_server_events: Option<Allowed<ServerEventSelector>>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// An allow-list: `"all"`, or the listed entries only (an empty list allows none).
///
/// # Examples
///
/// ```
/// use openai_realtime::live::Allowed;
///
/// let all: Allowed<String> = serde_json::from_str(r#""all""#).unwrap();
/// assert_eq!(all, Allowed::All);
/// let some: Allowed<String> = serde_json::from_str(r#"["session.close"]"#).unwrap();
/// assert_eq!(some, Allowed::Only(vec!["session.close".to_owned()]));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Allowed<T> {
    /// `"all"`.
    All,
    /// The listed entries only.
    Only(Vec<T>),
}

impl<T: Serialize> Serialize for Allowed<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::All => serializer.serialize_str("all"),
            Self::Only(list) => list.serialize(serializer),
        }
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Allowed<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(deserializer)? {
            Value::String(text) if text == "all" => Ok(Self::All),
            list @ Value::Array(_) => serde_json::from_value(list)
                .map(Self::Only)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format_args!(
                "expected \"all\" or a list, found {}",
                crate::codec::json_kind(&other)
            ))),
        }
    }
}

/// A server event a WebRTC frontend may receive (`ServerEventSelector`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerEventSelector {
    /// The Live server event type; `response.event` for the Responses backend's events.
    #[serde(rename = "type")]
    pub event_type: String,
    /// With `response.event` (and only then): the nested Responses event type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_event: Option<String>,
    /// Members this version does not name.
    #[serde(flatten)]
    pub extra: Extra,
}
