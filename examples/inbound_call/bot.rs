//! The inbound bot's server: Twilio's voice webhook answered with `<Connect><Stream>`, and
//! the media stream bridged to an AI receptionist. Both routes check `X-Twilio-Signature`.

use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;
use voice_bridge::openai_realtime::client::Config;
use voice_bridge::twilio_media_stream::callback::VoiceWebhook;
use voice_bridge::twilio_media_stream::rest;
use voice_bridge::twilio_media_stream::server::{self, MediaSocket, PublicBase, Verifier};
use voice_bridge::twilio_media_stream::twiml::{Connect, Stream, VoiceResponse};
use voice_bridge::{Bridge, CallReport, OpenAiLeg, ToolReply, ToolSpec, Tools, TwilioLeg};

/// The receptionist's two tools.
pub const TAKE_MESSAGE: &str = "take_message";
/// Ends the call once the goodbye has been heard.
pub const END_CALL: &str = "end_call";

/// What the bot needs for every call.
pub struct Bot {
    /// Checks both webhooks and streams against the auth token and the public host.
    pub verifier: Verifier,
    /// The Realtime endpoint and key (OpenAI, or the mock offline).
    pub agent: Config,
    /// Hangs up through Twilio's API; without it, hanging up closes the stream and the
    /// TwiML after `</Connect>` runs (this bot's ends in `<Hangup/>`).
    pub rest: Option<rest::Client>,
    /// Each call's report, once the call has ended.
    pub reports: mpsc::UnboundedSender<CallReport>,
}

impl Bot {
    fn public(&self) -> &PublicBase {
        self.verifier.public()
    }
}

/// The bot's routes: `POST /voice` (the number's Voice URL) and `GET /media-stream`.
pub fn router(bot: Arc<Bot>) -> Router {
    Router::new()
        .route("/voice", post(voice))
        .route("/media-stream", get(media_stream))
        .with_state(bot)
}

/// Someone dialled the number: answer with the stream, the caller's number as a
/// `<Parameter>` (signed by Twilio with the rest of the stream's start).
async fn voice(State(bot): State<Arc<Bot>>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(refusal) = bot.verifier.check_webhook(&uri, &headers, &body) {
        tracing::warn!(%refusal, "voice webhook refused");
        return refusal.into_response();
    }
    let call = match VoiceWebhook::from_form(form_urlencoded::parse(&body)) {
        Ok(call) => call,
        Err(err) => {
            tracing::warn!(error = %err, "voice webhook unreadable");
            return (StatusCode::BAD_REQUEST, err.to_string()).into_response();
        }
    };
    tracing::info!(call_sid = %call.call_sid, from = %call.from, "incoming call");
    let stream = Stream::new(bot.public().wss_url("/media-stream")).parameter("caller", &call.from);
    let twiml = VoiceResponse::new()
        .connect(Connect::new().stream(stream))
        // Heard only if the stream ends without the bot hanging up (the agent failed
        // before the bridge could play anything, or no REST client to hang up with).
        .say("Sorry, our assistant cannot take your call right now. Please call again later.")
        .hangup()
        .to_xml();
    ([(header::CONTENT_TYPE, "text/xml")], twiml).into_response()
}

async fn media_stream(State(bot): State<Arc<Bot>>, mut request: Request) -> Response {
    let (response, pending) = match server::accept::<_, Body>(&mut request, &bot.verifier) {
        Ok(accepted) => accepted,
        Err(refusal) => {
            tracing::warn!(%refusal, "media stream refused");
            return refusal.into_response();
        }
    };
    tokio::spawn(async move {
        match pending.socket().await {
            Ok(socket) => run_call(&bot, socket).await,
            Err(error) => tracing::warn!(%error, "media stream upgrade failed"),
        }
    });
    response
}

/// One call: read up to `start` (to know who is calling), then bridge it to the agent.
async fn run_call(bot: &Bot, socket: MediaSocket) {
    let mut call = TwilioLeg::new(socket);
    if let Some(client) = bot.rest.clone() {
        call = call.with_rest(client);
    }
    let caller = match call.wait_start().await {
        Ok(start) => start.parameters.get("caller").cloned().unwrap_or_default(),
        Err(end) => return tracing::info!(%end, "media stream ended before its start"),
    };
    let tools = tools();
    let mut agent = OpenAiLeg::builder(bot.agent.clone())
        .instructions(format!(
            "You are the receptionist of Bright Smile Dental. The office is closed. Offer to \
             take a message; when you have the caller's name and message, call {TAKE_MESSAGE}. \
             Then say goodbye and call {END_CALL}. The caller's number is {caller}."
        ))
        .speak_first(true); // the receptionist answers the phone
    for spec in tools.specs() {
        agent = agent.tool(spec);
    }
    let report = Bridge::new(call, agent.build())
        .with_tools(tools)
        .run()
        .await;
    tracing::info!(
        call_sid = ?report.call_id,
        outcome = %report.outcome,
        duration_ms = report.duration_ms,
        "call ended"
    );
    // The receiver is gone only when the bot is shutting down.
    let _ = bot.reports.send(report);
}

/// A message for the office, as the agent fills it in.
#[derive(Debug, Deserialize, JsonSchema)]
struct Message {
    /// The caller's name.
    name: String,
    /// What the caller wants, in a sentence.
    message: String,
}

/// The receptionist's tools, each declared with its handler; the argument schema of
/// `take_message` comes from [`Message`].
fn tools() -> Tools {
    Tools::new()
        .typed(
            TAKE_MESSAGE,
            "Records a message for the office to call the caller back",
            |message: Message, _call| async move {
                tracing::info!(name = %message.name, message = %message.message, "message taken");
                Ok(ToolReply::new(json!({"recorded": true})))
            },
        )
        .tool(
            ToolSpec::new(
                END_CALL,
                "Hangs up once the goodbye has been heard",
                json!({"type": "object", "properties": {}}),
            ),
            |_call| async { Ok(ToolReply::new(json!({"ok": true})).end_call()) },
        )
}
