//! The session configuration: what `session.update` sends and `session.created`/`.updated`
//! return. One set of types, written in the GA nested shape; the beta flat shape is a
//! translation (see [`crate::dialect`]).

use crate::Extra;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::codec::{nullable, tagged_enum};
use crate::ids::SessionId;
use crate::open_enum::{UnknownValue, open_enum};
use crate::resource::audio_format::AudioFormat;
use crate::resource::tool::{Tool, ToolChoice};
use crate::resource::voice::Voice;

tagged_enum! {
    /// A session configuration, by its `type`: a speech-to-speech session or a
    /// transcription-only one.
    pub enum Session {
        /// `type: "realtime"`: the model listens and answers.
        "realtime" => Realtime(Box<RealtimeSession>),
        /// `type: "transcription"`: the service only transcribes the input audio.
        "transcription" => Transcription(Box<TranscriptionSession>),
    }
}

impl Session {
    /// The realtime configuration, if this is one.
    pub fn as_realtime(&self) -> Option<&RealtimeSession> {
        match self {
            Self::Realtime(session) => Some(session),
            _ => None,
        }
    }

    /// The transcription configuration, if this is one.
    pub fn as_transcription(&self) -> Option<&TranscriptionSession> {
        match self {
            Self::Transcription(session) => Some(session),
            _ => None,
        }
    }

    /// The input audio format, if the configuration sets one.
    pub fn input_format(&self) -> Option<&AudioFormat> {
        match self {
            Self::Realtime(s) => s.audio.as_ref()?.input.as_ref()?.format.as_ref(),
            Self::Transcription(s) => s.audio.as_ref()?.input.as_ref()?.format.as_ref(),
            Self::Unknown(_) => None,
        }
    }

    /// The output audio format, if the configuration sets one.
    pub fn output_format(&self) -> Option<&AudioFormat> {
        match self {
            Self::Realtime(s) => s.audio.as_ref()?.output.as_ref()?.format.as_ref(),
            _ => None,
        }
    }
}

impl Session {
    /// A copy without the beta-only fields (`temperature`, `client_secret`, `modalities`), or
    /// `None` when there are none to drop.
    pub(crate) fn without_beta_only(&self) -> Option<Self> {
        match self {
            Self::Realtime(s)
                if s.temperature.is_some()
                    || s.client_secret.is_some()
                    || s.modalities.is_some() =>
            {
                let mut s = s.clone();
                s.temperature = None;
                s.client_secret = None;
                s.modalities = None;
                Some(Self::Realtime(s))
            }
            Self::Transcription(s) if s.client_secret.is_some() || s.modalities.is_some() => {
                let mut s = s.clone();
                s.client_secret = None;
                s.modalities = None;
                Some(Self::Transcription(s))
            }
            _ => None,
        }
    }
}

impl From<RealtimeSession> for Session {
    fn from(session: RealtimeSession) -> Self {
        Self::Realtime(Box::new(session))
    }
}

impl From<TranscriptionSession> for Session {
    fn from(session: TranscriptionSession) -> Self {
        Self::Transcription(Box::new(session))
    }
}

/// A speech-to-speech session (`session.type: "realtime"`).
///
/// In `session.update` only the fields present change: leave a field `None` to keep it.
/// `Some(None)` on the nullable fields (turn detection, transcription, noise reduction,
/// tracing, prompt) writes `null`, which turns the feature off.
///
/// The fields `id`, `object` and `expires_at` are only sent by the service. `temperature`,
/// `modalities` and `client_secret` exist only in the beta dialect: a GA encoding leaves them
/// out (the GA service refuses them).
///
/// # Examples
///
/// ```
/// use openai_realtime::{AudioFormat, RealtimeSession, Voice};
///
/// let mut session = RealtimeSession::phone_call();
/// session.instructions = Some("Confirm the appointment.".into());
/// assert_eq!(session.input_format(), Some(&AudioFormat::Pcmu));
/// session.set_voice(Voice::Marin);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RealtimeSession {
    /// The session id (`sess_…`), sent by the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<SessionId>,
    /// `realtime.session`, sent by the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// The model. Set by the connect URL; it cannot change during a session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The system instructions. `""` clears them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// `["audio"]` (the default, includes a transcript) or `["text"]`, never both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_modalities: Option<Vec<Modality>>,
    /// Input and output audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioConfig>,
    /// The tools the model may call. `[]` clears them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<Tool>>,
    /// How the model chooses tools (`auto` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
    /// Whether the model may call several tools at once (reasoning models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parallel_tool_calls: Option<bool>,
    /// Reasoning effort (reasoning models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<Reasoning>,
    /// The output token cap per response: 1–4096 or `inf`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<MaxOutputTokens>,
    /// Tracing: `auto`, a configuration, or `null` (off). Immutable once enabled.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub tracing: Option<Option<Tracing>>,
    /// How old turns are dropped when the context fills.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncation: Option<Truncation>,
    /// A reference to a stored prompt, or `null`.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub prompt: Option<Option<Prompt>>,
    /// Extra outputs, e.g. `item.input_audio_transcription.logprobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// When the session ends (unix seconds), sent by the service. Sessions last 60 minutes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// Beta only: sampling temperature (0.6–1.2). Left out of GA encodings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Beta only: the beta `modalities` as they came, when [`output_modalities`] cannot say
    /// them (beta `["audio"]` or `["audio","text"]`, which are GA `["audio"]` as much as beta
    /// `["text","audio"]` is). A beta encoding writes them back while they still mean
    /// `output_modalities`; GA encodings leave them out.
    ///
    /// [`output_modalities`]: RealtimeSession::output_modalities
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<Modality>>,
    /// Beta only: the client secret settings, kept as JSON. Left out of GA encodings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Value>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl RealtimeSession {
    /// An empty update: changes nothing but is a valid GA `session.update` body.
    pub fn new() -> Self {
        Self::default()
    }

    /// The configuration a phone bridge needs: G.711 mu-law in and out (Twilio's audio
    /// passes through untouched), server VAD with its documented defaults (threshold 0.5,
    /// 300 ms prefix padding, 500 ms silence, respond and interrupt automatically), audio
    /// output.
    pub fn phone_call() -> Self {
        Self {
            output_modalities: Some(vec![Modality::Audio]),
            audio: Some(AudioConfig {
                input: Some(AudioInput {
                    format: Some(AudioFormat::Pcmu),
                    turn_detection: Some(Some(TurnDetection::ServerVad(ServerVad::phone_call()))),
                    ..AudioInput::default()
                }),
                output: Some(AudioOutput {
                    format: Some(AudioFormat::Pcmu),
                    ..AudioOutput::default()
                }),
                extra: Default::default(),
            }),
            ..Self::default()
        }
    }

    /// The input audio format, if set.
    pub fn input_format(&self) -> Option<&AudioFormat> {
        self.audio.as_ref()?.input.as_ref()?.format.as_ref()
    }

    /// The output audio format, if set.
    pub fn output_format(&self) -> Option<&AudioFormat> {
        self.audio.as_ref()?.output.as_ref()?.format.as_ref()
    }

    /// The output voice, if set.
    pub fn voice(&self) -> Option<&Voice> {
        self.audio.as_ref()?.output.as_ref()?.voice.as_ref()
    }

    /// Sets the output voice.
    pub fn set_voice(&mut self, voice: Voice) {
        self.audio_output_mut().voice = Some(voice);
    }

    /// The input side of the audio configuration, created empty if absent.
    pub fn audio_input_mut(&mut self) -> &mut AudioInput {
        self.audio
            .get_or_insert_with(AudioConfig::default)
            .input
            .get_or_insert_with(AudioInput::default)
    }

    /// The output side of the audio configuration, created empty if absent.
    pub fn audio_output_mut(&mut self) -> &mut AudioOutput {
        self.audio
            .get_or_insert_with(AudioConfig::default)
            .output
            .get_or_insert_with(AudioOutput::default)
    }
}

/// A transcription-only session (`session.type: "transcription"`).
///
/// `client_secret` and `modalities` exist only in the beta dialect (`transcription_session.*`):
/// a GA encoding leaves them out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptionSession {
    /// Input audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<TranscriptionAudio>,
    /// Extra outputs, e.g. `item.input_audio_transcription.logprobs`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include: Option<Vec<String>>,
    /// Beta only: the client secret (settings or the minted secret), kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<Value>,
    /// Beta only: the modalities of a beta transcription session. Left out of GA encodings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modalities: Option<Vec<Modality>>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl TranscriptionSession {
    /// An empty transcription session configuration.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The audio of a transcription session: input only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TranscriptionAudio {
    /// Input audio settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<AudioInput>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// `session.audio`: input and output audio settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AudioConfig {
    /// What the service hears.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<AudioInput>,
    /// What the service says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<AudioOutput>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// `session.audio.input`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AudioInput {
    /// The format of `input_audio_buffer.append` audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<AudioFormat>,
    /// Transcription of the caller's audio; `Some(None)` (`null`) turns it off.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub transcription: Option<Option<Transcription>>,
    /// Noise reduction; `Some(None)` (`null`) turns it off.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub noise_reduction: Option<Option<NoiseReduction>>,
    /// Voice activity detection; `Some(None)` (`null`) turns it off, and the client then
    /// commits the buffer and creates responses itself.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub turn_detection: Option<Option<TurnDetection>>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// `session.audio.output`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AudioOutput {
    /// The format of `response.output_audio.delta` audio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<AudioFormat>,
    /// The voice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voice: Option<Voice>,
    /// Speaking speed, 0.25–1.5 (default 1.0); changes only between turns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// `audio.input.transcription`: transcription of the input audio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Transcription {
    /// The transcription model (on Azure, a deployment name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<TranscriptionModel>,
    /// The input language (ISO-639-1, e.g. `en`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// Several input languages (gpt-transcribe, gpt-live-transcribe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub languages: Option<Vec<String>>,
    /// Words to favour (gpt-transcribe, gpt-live-transcribe).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keywords: Option<Vec<String>>,
    /// Text to guide the transcription.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Latency trade-off (gpt-realtime-whisper only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay: Option<TranscriptionDelay>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl Transcription {
    /// Transcription with a model.
    pub fn new(model: impl Into<TranscriptionModel>) -> Self {
        Self {
            model: Some(model.into()),
            ..Self::default()
        }
    }
}

open_enum! {
    /// A transcription model.
    pub enum TranscriptionModel {
        /// `whisper-1` (shutdown 2027-02-26)
        Whisper1 = "whisper-1",
        /// `gpt-transcribe`
        GptTranscribe = "gpt-transcribe",
        /// `gpt-live-transcribe`
        GptLiveTranscribe = "gpt-live-transcribe",
        /// `gpt-4o-mini-transcribe` (shutdown 2027-02-26)
        Gpt4oMiniTranscribe = "gpt-4o-mini-transcribe",
        /// `gpt-4o-mini-transcribe-2025-12-15` (shutdown 2027-02-26)
        Gpt4oMiniTranscribe20251215 = "gpt-4o-mini-transcribe-2025-12-15",
        /// `gpt-4o-transcribe` (shutdown 2027-02-26)
        Gpt4oTranscribe = "gpt-4o-transcribe",
        /// `gpt-4o-transcribe-diarize` (shutdown 2027-02-26)
        Gpt4oTranscribeDiarize = "gpt-4o-transcribe-diarize",
        /// `gpt-realtime-whisper` (streaming; needs `turn_detection: null`)
        GptRealtimeWhisper = "gpt-realtime-whisper",
    }
}

open_enum! {
    /// `transcription.delay`: how long gpt-realtime-whisper waits for context.
    pub enum TranscriptionDelay {
        /// `minimal`
        Minimal = "minimal",
        /// `low`
        Low = "low",
        /// `medium`
        Medium = "medium",
        /// `high`
        High = "high",
        /// `xhigh`
        Xhigh = "xhigh",
    }
}

/// `audio.input.noise_reduction`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NoiseReduction {
    /// `near_field` (headsets) or `far_field` (laptops, rooms) (`type` on the wire).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<NoiseReductionType>,
    /// Strength of the reduction (GA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strength: Option<f64>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl NoiseReduction {
    /// Noise reduction of a kind.
    pub fn new(kind: NoiseReductionType) -> Self {
        Self {
            kind: Some(kind),
            strength: None,
            extra: Default::default(),
        }
    }
}

open_enum! {
    /// The kind of noise reduction.
    pub enum NoiseReductionType {
        /// `near_field`: a microphone close to the mouth (headset, phone handset).
        NearField = "near_field",
        /// `far_field`: a microphone at a distance (laptop, room).
        FarField = "far_field",
    }
}

tagged_enum! {
    /// `audio.input.turn_detection`: voice activity detection.
    pub enum TurnDetection {
        /// `server_vad`: silence-based.
        "server_vad" => ServerVad(ServerVad),
        /// `semantic_vad`: the model judges whether the speaker has finished.
        "semantic_vad" => SemanticVad(SemanticVad),
    }
}

/// `server_vad` turn detection. Every field is optional; the service's defaults are in the
/// field docs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ServerVad {
    /// Activation level, 0–1 (default 0.5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    /// Audio kept before detected speech, in ms (default 300).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_padding_ms: Option<u32>,
    /// Silence that ends the turn, in ms (documented default 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence_duration_ms: Option<u32>,
    /// Start a response when speech stops (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_response: Option<bool>,
    /// Cancel the running response when speech starts (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupt_response: Option<bool>,
    /// After the last response's audio has played, wait this long, then send
    /// `input_audio_buffer.timeout_triggered` and respond.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_timeout_ms: Option<u32>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl ServerVad {
    /// Server VAD with every parameter left to the service.
    pub fn new() -> Self {
        Self::default()
    }

    /// The documented defaults written out: threshold 0.5, 300 ms padding, 500 ms silence,
    /// create and interrupt responses.
    pub fn phone_call() -> Self {
        Self {
            threshold: Some(0.5),
            prefix_padding_ms: Some(300),
            silence_duration_ms: Some(500),
            create_response: Some(true),
            interrupt_response: Some(true),
            idle_timeout_ms: None,
            extra: Default::default(),
        }
    }
}

/// `semantic_vad` turn detection.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SemanticVad {
    /// How eager the model is to answer: `low` waits up to 8 s, `medium` 4 s, `high` 2 s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eagerness: Option<Eagerness>,
    /// Start a response when the turn ends (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_response: Option<bool>,
    /// Cancel the running response when speech starts (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupt_response: Option<bool>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

impl SemanticVad {
    /// Semantic VAD with every parameter left to the service.
    pub fn new() -> Self {
        Self::default()
    }
}

open_enum! {
    /// `semantic_vad.eagerness`.
    pub enum Eagerness {
        /// `low`: waits up to 8 s.
        Low = "low",
        /// `medium`: up to 4 s.
        Medium = "medium",
        /// `high`: up to 2 s.
        High = "high",
        /// `auto`: same as medium.
        Auto = "auto",
    }
}

open_enum! {
    /// An output modality.
    pub enum Modality {
        /// `text`
        Text = "text",
        /// `audio` (includes a transcript)
        Audio = "audio",
    }
}

open_enum! {
    /// `reasoning.effort`.
    pub enum ReasoningEffort {
        /// `minimal`
        Minimal = "minimal",
        /// `low`
        Low = "low",
        /// `medium`
        Medium = "medium",
        /// `high`
        High = "high",
        /// `xhigh`
        Xhigh = "xhigh",
    }
}

/// `reasoning` (gpt-realtime-2 and later).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Reasoning {
    /// The effort.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<ReasoningEffort>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

/// An output token cap: a number (1–4096) or `"inf"`.
///
/// # Forward compatibility
///
/// A string other than `"inf"` decodes to `Unknown` and is written back as received; a number
/// that is not a non-negative integer is a decode error.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaxOutputTokens {
    /// At most this many tokens.
    Limit(u32),
    /// `"inf"`: no cap beyond the model's (the default).
    Inf,
    /// A string this version does not know, kept as received.
    Unknown(UnknownValue),
}

impl Serialize for MaxOutputTokens {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Limit(limit) => serializer.serialize_u32(*limit),
            Self::Inf => serializer.serialize_str("inf"),
            Self::Unknown(value) => serializer.serialize_str(value.as_str()),
        }
    }
}

impl<'de> Deserialize<'de> for MaxOutputTokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(deserializer)? {
            Value::String(text) if text == "inf" => Ok(Self::Inf),
            Value::String(text) => Ok(Self::Unknown(UnknownValue(text))),
            Value::Number(number) => number
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Self::Limit)
                .ok_or_else(|| D::Error::custom("token cap must be a positive integer")),
            other => Err(D::Error::custom(format_args!(
                "expected an integer or \"inf\", got {other}"
            ))),
        }
    }
}

/// `tracing`: `"auto"` or a configuration (`null`, off, is the outer `Option`).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Tracing {
    /// `"auto"`: default workflow name, group id and metadata.
    Auto,
    /// An explicit configuration.
    Config(TracingConfig),
    /// A value this version does not know, kept as received.
    Unknown(Value),
}

/// A tracing configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TracingConfig {
    /// The workflow name in the traces dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow_name: Option<String>,
    /// The group id in the traces dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl Serialize for Tracing {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Auto => serializer.serialize_str("auto"),
            Self::Config(config) => config.serialize(serializer),
            Self::Unknown(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Tracing {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        match Value::deserialize(deserializer)? {
            Value::String(text) if text == "auto" => Ok(Self::Auto),
            value @ Value::Object(_) => TracingConfig::deserialize(value)
                .map(Self::Config)
                .map_err(D::Error::custom),
            other => Ok(Self::Unknown(other)),
        }
    }
}

/// `truncation`: how old turns are dropped when the context fills.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Truncation {
    /// `"auto"` (the default).
    Auto,
    /// `"disabled"`: errors instead of dropping.
    Disabled,
    /// `{"type":"retention_ratio", ...}`.
    RetentionRatio(RetentionRatio),
    /// A value this version does not know, kept as received.
    Unknown(Value),
}

/// The `retention_ratio` truncation strategy.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RetentionRatio {
    /// The share of the context kept, 0–1.
    pub retention_ratio: f64,
    /// Token limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_limits: Option<TokenLimits>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// `truncation.token_limits`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenLimits {
    /// Tokens kept after the instructions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_instructions: Option<u32>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl Serialize for Truncation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Auto => serializer.serialize_str("auto"),
            Self::Disabled => serializer.serialize_str("disabled"),
            Self::RetentionRatio(ratio) => {
                crate::codec::serialize_tagged("retention_ratio", ratio, serializer)
            }
            Self::Unknown(value) => value.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Truncation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        match &value {
            Value::String(text) if text == "auto" => Ok(Self::Auto),
            Value::String(text) if text == "disabled" => Ok(Self::Disabled),
            Value::Object(map) if map.get("type") == Some(&Value::from("retention_ratio")) => {
                RetentionRatio::deserialize(value)
                    .map(Self::RetentionRatio)
                    .map_err(D::Error::custom)
            }
            _ => Ok(Self::Unknown(value)),
        }
    }
}

/// `prompt`: a reference to a stored prompt.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Prompt {
    /// The prompt id.
    pub id: String,
    /// The prompt version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Values for the prompt's variables (strings or input objects), kept as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Map<String, Value>>,
    /// Members this version does not name, kept as received and written back
    /// (see [`Extra`]).
    #[serde(flatten)]
    pub extra: Extra<true>,
}

impl Prompt {
    /// A reference to a stored prompt.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }
}
