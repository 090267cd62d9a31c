//! The bot's server: the media-stream WebSocket and Twilio's webhooks, every request
//! checked against `X-Twilio-Signature` (403 and a log line with the reason otherwise).
//!
//! | route | what |
//! |---|---|
//! | `GET /media-stream` | the `<Connect><Stream>` WebSocket ([`crate::stream`]) |
//! | `POST /twilio/status?apt_id=…` | call status callbacks: logged; a call that was never answered is an outcome |
//! | `POST /twilio/amd?<signed context>` | answering-machine verdicts: a machine gets the voicemail |
//! | `POST /twilio/stream-status` | `<Stream>` status callbacks: a failed stream's reason is logged |
//! | `GET /healthz` | 200 while the process runs (liveness) |
//! | `GET /readyz` | 200 while it takes calls, 503 once it drains ([`crate::drain`]) |
//! | `GET /metrics` | the Prometheus text format ([`crate::metrics`]) |
//!
//! Stateless: the webhooks carry what they need in their (signed) URLs, and the stream
//! carries the appointment in its signed context; nothing about a call is kept between
//! requests, so any instance can serve any request.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::broadcast;
use twilio_media_stream::callback::{
    AmdCallback, CallStatus, CallStatusCallback, StreamStatusCallback, StreamStatusEvent,
};
use twilio_media_stream::context::SigningSecret;
use twilio_media_stream::rest;
use twilio_media_stream::server::{Refusal, Verifier};
use twilio_media_stream::twiml::VoiceResponse;
use voice_bridge::BridgeConfig;

use crate::appointment::Appointment;
use crate::config::{AgentConfig, PublicUrl};
use crate::connections::{self, Admission, Limits};
use crate::drain::Drain;
use crate::metrics::Metrics;
use crate::output::{CallOutcome, Output};
use crate::tap::Watcher;
use crate::tools::Decision;
use crate::warm::WarmSessions;

/// How requests are authenticated.
#[derive(Debug)]
pub enum Auth {
    /// With the account's auth token: every request's `X-Twilio-Signature` is checked
    /// against the URL rebuilt from `PUBLIC_URL`, and every stream's context against
    /// `secret`.
    Signed {
        /// Checks `X-Twilio-Signature` against the URLs rebuilt from `PUBLIC_URL`.
        verifier: Verifier,
        /// The public host Twilio calls.
        public: PublicUrl,
        /// Checks the call context.
        secret: SigningSecret,
    },
    /// No auth token (`serve` on loopback only): streams are accepted unsigned and get the
    /// demo appointment; webhooks are refused.
    UnsignedLoopback,
}

/// Something the commands that wait for a call want to know.
#[derive(Debug, Clone)]
pub enum BotEvent {
    /// A call's outcome was recorded (its stream ended, a voicemail was left, or it was
    /// never answered).
    Outcome(CallOutcome),
    /// A call status callback arrived.
    Status {
        /// The call.
        call_sid: String,
        /// Its status.
        status: CallStatus,
    },
}

/// Everything the server's handlers share.
#[derive(Debug)]
pub struct Bot {
    /// How requests are checked.
    pub auth: Auth,
    /// The agent's settings.
    pub agent: AgentConfig,
    /// Twilio's REST API (leaving voicemails); `None` without credentials.
    pub rest: Option<rest::Client>,
    /// Where reports and outcomes go.
    pub output: Output,
    /// The bridge's settings for every call.
    pub bridge: BridgeConfig,
    /// Whether calls are recorded (WAV).
    pub record: bool,
    /// Who watches calls live (the demo's transcript), if anyone.
    pub watcher: Option<WatcherSlot>,
    /// Outcomes and status callbacks, for commands that wait for their call.
    pub events: broadcast::Sender<BotEvent>,
    /// What a connection may hold before it authenticates.
    pub limits: Limits,
    /// What the service says of the model over the GA interface, asked once when a call
    /// is refused the retired beta interface ([`crate::advice::model_over_ga`]).
    pub model_over_ga: tokio::sync::OnceCell<String>,
    /// Whether new calls are taken, and the calls in progress ([`crate::drain`]).
    pub drain: Arc<Drain>,
    /// What `GET /metrics` shows: this bot's own registry ([`crate::metrics`]).
    pub metrics: Metrics,
    /// Agent sessions opened while the phone rings ([`crate::warm`]); `None`: every call
    /// connects its agent at the stream's start.
    pub warm: Option<WarmSessions>,
}

/// A [`Watcher`] with a `Debug` impl.
#[derive(Clone)]
pub struct WatcherSlot(pub Watcher);

impl std::fmt::Debug for WatcherSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watcher")
    }
}

/// The longest call the bot serves: 2 hours. Longer than the agent's session limit (the
/// OpenAI leg continues a call in a fresh session before it), short enough to end a call
/// that nobody hangs up (a stuck line, a loop between two bots).
pub const MAX_CALL_DURATION: Duration = Duration::from_secs(2 * 60 * 60);

impl Bot {
    /// A bot with these settings, no watcher, reports on, recordings on.
    pub fn new(auth: Auth, agent: AgentConfig, output: Output) -> Self {
        let (events, _) = broadcast::channel(256);
        Self {
            auth,
            agent,
            rest: None,
            output,
            bridge: {
                let mut bridge = BridgeConfig::default();
                bridge.max_call_duration = Some(MAX_CALL_DURATION);
                bridge
            },
            record: true,
            watcher: None,
            events,
            limits: Limits::default(),
            model_over_ga: tokio::sync::OnceCell::new(),
            drain: Arc::new(Drain::new()),
            metrics: Metrics::new(),
            warm: Some(WarmSessions::default()),
        }
    }

    /// Records an outcome line and tells whoever waits.
    pub fn publish(&self, outcome: CallOutcome) {
        // `send` fails only when nobody is subscribed (e.g. `serve`): the outcome is already in
        // the output file and the log, so there is nothing to lose.
        let _ = self.events.send(BotEvent::Outcome(outcome));
    }

    /// Checks a form-encoded webhook's signature against the public URL it was sent to;
    /// a signed one authenticates its connection.
    fn check_webhook(
        &self,
        admission: Option<&Admission>,
        uri: &Uri,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<(), Refusal> {
        let Auth::Signed { verifier, .. } = &self.auth else {
            return Err(Refusal::new(
                StatusCode::FORBIDDEN,
                "forbidden: no TWILIO_AUTH_TOKEN is configured, so webhooks cannot be checked",
            ));
        };
        verifier.check_webhook(uri, headers, body)?;
        if let Some(admission) = admission {
            admission.authenticated();
        }
        Ok(())
    }
}

/// The routes.
pub fn router(bot: Arc<Bot>) -> Router {
    Router::new()
        .route("/media-stream", get(media_stream))
        .route("/twilio/status", post(status_callback))
        .route("/twilio/amd", post(amd_callback))
        .route("/twilio/stream-status", post(stream_status_callback))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(crate::metrics::route))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&bot),
            crate::metrics::count_webhooks,
        ))
        .with_state(bot)
}

/// Liveness: the process answers.
async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: 200 while new calls are taken, 503 once the server drains.
async fn readyz(State(bot): State<Arc<Bot>>) -> Response {
    if bot.drain.is_accepting() {
        "ready\n".into_response()
    } else {
        draining_response()
    }
}

/// 503 with `Retry-After`: this instance takes no new calls.
fn draining_response() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(axum::http::header::RETRY_AFTER, "5")],
        "draining: this instance is shutting down and takes no new calls\n",
    )
        .into_response()
}

/// Serves until `shutdown` completes, within the bot's [`Limits`] (see
/// [`connections`]).
///
/// # Errors
///
/// The listener failed for good.
pub async fn serve(
    listener: TcpListener,
    bot: Arc<Bot>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = bot.limits;
    connections::serve(listener, router(bot), limits, shutdown).await
}

/// Waits for a server task started with [`serve`] to stop, and logs why if it did not stop
/// cleanly (an accept loop that failed, or a task that panicked): the caller has already
/// asked it to stop, so the failure is told here rather than lost with the task's result.
pub async fn join(server: tokio::task::JoinHandle<std::io::Result<()>>) {
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(err)) => tracing::error!(error = %err, "the bot's HTTP server failed"),
        Err(err) => tracing::error!(error = %err, "the bot's HTTP server task ended abnormally"),
    }
}

async fn media_stream(State(bot): State<Arc<Bot>>, request: Request<Body>) -> Response {
    if !bot.drain.is_accepting() {
        tracing::warn!(
            route = "/media-stream",
            status = 503,
            calls_in_progress = bot.drain.calls(),
            "media stream refused: the server is draining (SIGTERM) and takes no new calls"
        );
        return draining_response();
    }
    crate::stream::accept(bot, request)
}

/// The URL of the status callback for an appointment's call, carrying the signed
/// appointment (its `apt_id` among the fields): the `ringing` callback opens the agent
/// session with it ([`crate::warm`]).
pub fn status_callback_url(
    public: &PublicUrl,
    signed: impl IntoIterator<Item = (String, String)>,
) -> String {
    public.https_url(&format!("/twilio/status?{}", signed_query(signed)))
}

fn signed_query(signed: impl IntoIterator<Item = (String, String)>) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in signed {
        query.append_pair(&name, &value);
    }
    query.finish()
}

/// The URL of the AMD callback, carrying the signed appointment (the voicemail needs it).
pub fn amd_callback_url(
    public: &PublicUrl,
    signed: impl IntoIterator<Item = (String, String)>,
) -> String {
    public.https_url(&format!("/twilio/amd?{}", signed_query(signed)))
}

/// The URL of the `<Stream>` status callback.
pub fn stream_status_url(public: &PublicUrl) -> String {
    public.https_url("/twilio/stream-status")
}

/// The `CallSid` a webhook's form names: logged with a refusal so that the line says which
/// call it was about (as the form claims it: a refused request is not trusted otherwise).
fn claimed_call_sid(body: &[u8]) -> String {
    form_urlencoded::parse(body)
        .find(|(name, _)| name == "CallSid")
        .map(|(_, sid)| sid.into_owned())
        .unwrap_or_default()
}

fn refuse(route: &str, body: &[u8], refusal: Refusal) -> Response {
    tracing::warn!(
        route,
        call_sid = %claimed_call_sid(body),
        status = refusal.status.as_u16(),
        reason = %refusal.reason,
        "webhook refused"
    );
    refusal.into_response()
}

fn bad_form(route: &str, body: &[u8], err: impl std::fmt::Display) -> Response {
    tracing::warn!(
        route,
        call_sid = %claimed_call_sid(body),
        "webhook refused: {err}"
    );
    (StatusCode::BAD_REQUEST, err.to_string()).into_response()
}

async fn status_callback(
    State(bot): State<Arc<Bot>>,
    admission: Option<Extension<Admission>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const ROUTE: &str = "/twilio/status";
    if let Err(refusal) = bot.check_webhook(admission.as_deref(), &uri, &headers, &body) {
        return refuse(ROUTE, &body, refusal);
    }
    let callback = match CallStatusCallback::from_form(form_urlencoded::parse(&body)) {
        Ok(callback) => callback,
        Err(err) => return bad_form(ROUTE, &body, err),
    };
    let appointment_id = uri
        .query()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "apt_id")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_default();
    tracing::info!(
        call_sid = %callback.call_sid,
        appointment_id,
        status = callback.call_status.as_str(),
        answered_by = callback.answered_by.as_ref().map(|a| a.as_str()),
        sip_response_code = callback.sip_response_code,
        "call status"
    );
    let status = callback.call_status.clone();
    warm_up(&bot, &uri, callback.call_sid.as_str(), &status);
    if status.is_final() && status != CallStatus::Completed {
        let outcome = if status == CallStatus::Failed {
            "call_failed"
        } else {
            "not_answered"
        };
        let why = match callback.sip_response_code {
            Some(code) => format!("call {} (SIP {code})", status.as_str()),
            None => format!("call {}", status.as_str()),
        };
        let outcome =
            CallOutcome::without_stream(callback.call_sid.as_str(), appointment_id, outcome, why);
        if let Err(err) = bot.output.append(&outcome) {
            tracing::error!(call_sid = %callback.call_sid, "cannot write the outcome: {err}");
        }
        bot.publish(outcome);
    }
    // Fails only when nobody is subscribed: the status is for waiting batches, not a record.
    let _ = bot.events.send(BotEvent::Status {
        call_sid: callback.call_sid.to_string(),
        status,
    });
    StatusCode::NO_CONTENT.into_response()
}

/// The appointment signed into a callback's URL (the call's context, as the stream carries
/// it): a missing, forged or expired context is the reason why not.
fn signed_appointment(secret: &SigningSecret, uri: &Uri) -> Result<Appointment, String> {
    let params = uri
        .query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let context = secret
        .verify(&params, SystemTime::now())
        .map_err(|err| err.to_string())?;
    Appointment::from_fields(context.fields()).map_err(|err| err.to_string())
}

/// Opens the call's agent session while it rings (or once answered, if the ringing
/// callback was missed), from the signed appointment in the callback's URL; closes it when
/// the call ends without a stream. A URL without a valid context opens nothing (the stream
/// connects cold, and its own check refuses a bad context).
fn warm_up(bot: &Bot, uri: &Uri, call_sid: &str, status: &CallStatus) {
    let Some(warm) = &bot.warm else { return };
    if status.is_final() {
        if warm.discard(call_sid) {
            tracing::debug!(
                call_sid,
                status = status.as_str(),
                "the call ended before its stream: its warm agent session is closed"
            );
        }
        return;
    }
    if !matches!(status, CallStatus::Ringing | CallStatus::InProgress) {
        return;
    }
    let Auth::Signed { secret, .. } = &bot.auth else {
        return;
    };
    match signed_appointment(secret, uri) {
        Ok(appointment) => {
            if warm.open(call_sid, &bot.agent, &appointment) {
                tracing::info!(call_sid, appointment_id = %appointment.id, status = status.as_str(),
                    "opening the agent session before the stream (warm)");
            }
        }
        Err(reason) => tracing::debug!(call_sid, %reason,
            "no warm agent session: the status callback's URL has no valid call context"),
    }
}

async fn amd_callback(
    State(bot): State<Arc<Bot>>,
    admission: Option<Extension<Admission>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const ROUTE: &str = "/twilio/amd";
    if let Err(refusal) = bot.check_webhook(admission.as_deref(), &uri, &headers, &body) {
        return refuse(ROUTE, &body, refusal);
    }
    let callback = match AmdCallback::from_form(form_urlencoded::parse(&body)) {
        Ok(callback) => callback,
        Err(err) => return bad_form(ROUTE, &body, err),
    };
    let call_sid = callback.call_sid.clone();
    tracing::info!(
        %call_sid,
        answered_by = callback.answered_by.as_str(),
        detection_ms = callback.machine_detection_duration.map(|d| d.as_millis() as u64),
        "answering machine detection"
    );
    if !callback.answered_by.is_machine() {
        return StatusCode::NO_CONTENT.into_response();
    }
    let Auth::Signed { secret, .. } = &bot.auth else {
        return StatusCode::NO_CONTENT.into_response();
    };
    let appointment = match signed_appointment(secret, &uri) {
        Ok(appointment) => appointment,
        Err(reason) => {
            return refuse(
                ROUTE,
                &body,
                Refusal::new(
                    StatusCode::FORBIDDEN,
                    format!("forbidden: call context: {reason}"),
                ),
            );
        }
    };
    let Some(client) = &bot.rest else {
        tracing::error!(%call_sid, "a machine answered but no REST client is configured to leave the voicemail");
        return StatusCode::NO_CONTENT.into_response();
    };
    // Replacing the call's TwiML ends its stream (and with it the agent's session).
    let voicemail = VoiceResponse::new().say(appointment.voicemail()).hangup();
    let outcome = match client.redirect(&call_sid, &voicemail).await {
        Ok(_) => {
            let mut outcome = CallOutcome::without_stream(
                call_sid.as_str(),
                &appointment.id,
                "voicemail_left",
                format!(
                    "answered by {}: voicemail left",
                    callback.answered_by.as_str()
                ),
            );
            outcome.decision = Some(Decision::VoicemailLeft);
            outcome
        }
        Err(err) => CallOutcome::without_stream(
            call_sid.as_str(),
            &appointment.id,
            "call_failed",
            format!("a machine answered, and the voicemail could not be left: {err}"),
        ),
    };
    if let Err(err) = bot.output.append(&outcome) {
        tracing::error!(%call_sid, "cannot write the outcome: {err}");
    }
    bot.publish(outcome);
    StatusCode::NO_CONTENT.into_response()
}

async fn stream_status_callback(
    State(bot): State<Arc<Bot>>,
    admission: Option<Extension<Admission>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    const ROUTE: &str = "/twilio/stream-status";
    if let Err(refusal) = bot.check_webhook(admission.as_deref(), &uri, &headers, &body) {
        return refuse(ROUTE, &body, refusal);
    }
    match StreamStatusCallback::from_form(form_urlencoded::parse(&body)) {
        Ok(callback) if callback.stream_event == StreamStatusEvent::StreamError => {
            tracing::warn!(
                call_sid = %callback.call_sid,
                stream_sid = %callback.stream_sid,
                error = callback.stream_error.as_deref().unwrap_or("(no reason given)"),
                "twilio reports the media stream failed"
            );
        }
        Ok(callback) => tracing::info!(
            call_sid = %callback.call_sid,
            stream_sid = %callback.stream_sid,
            event = callback.stream_event.as_str(),
            "media stream status"
        ),
        Err(err) => return bad_form(ROUTE, &body, err),
    }
    StatusCode::NO_CONTENT.into_response()
}

/// How long a signed context stays valid: placing the call, ringing (Twilio's default
/// timeout is 60 s), answering, plus a margin.
pub const CONTEXT_TTL: Duration = Duration::from_secs(10 * 60);
