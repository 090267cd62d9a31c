//! The offline demo: a whole appointment call on loopback, with no credentials and no
//! network.
//!
//! - The bot's own server ([`crate::server`]), with signatures on: the demo makes up an
//!   auth token, so the simulated call goes through the same checks as a real one.
//! - The OpenAI mock from `openai-realtime`, playing the scripted conversation below.
//! - The Twilio simulator from `twilio-media-stream` as the callee: it connects with a
//!   valid `X-Twilio-Signature`, carries the signed appointment in its `start`, and speaks
//!   in scripted windows, the first one over the agent's greeting (a barge-in).
//!
//! The conversation: the agent greets Jane with the appointment's details; Jane cuts in
//! to ask to move it; the agent calls `reschedule_appointment`, confirms, Jane thanks it,
//! the agent says goodbye and calls `end_call`, which hangs up once the goodbye was heard.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use openai_realtime::client::DEFAULT_MODEL;
use openai_realtime::mock::{
    Audio, KeyCheck, LiveMockServerBuilderExt as _, LiveScript, LiveTurn, MockServer, Script, Turn,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use twilio_media_stream::server::Verifier;
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallRecord, CallScript, CallerAudio};

use crate::appointment::Appointment;
use crate::config::{AgentConfig, PublicUrl, derive_context_secret};
use crate::output::{CallOutcome, Output, timestamp, unix_now};
use crate::server::{Auth, Bot, BotEvent, WatcherSlot};
use crate::tap::Watcher;
use crate::tools::{END_CALL, RESCHEDULE};

/// The public host the demo pretends Twilio calls (never resolved).
pub const DEMO_HOST: &str = "bot.demo.invalid";

/// When the callee speaks, from the start of the stream: over the greeting (the
/// barge-in), then to thank the agent.
pub const CALLER_SPEECH: [(Duration, Duration); 2] = [
    (Duration::from_millis(2000), Duration::from_millis(3600)),
    (Duration::from_millis(8600), Duration::from_millis(9600)),
];

/// The scripted GPT-Live agent: the same conversation in Live's terms. The greeting is
/// the bot's own `session.commentary.append` (the mock speaks it word for word), so the
/// turns start with the answer to the callee's first words: the reschedule call through
/// the Responses delegation, then the confirmation; the goodbye, then `end_call`.
pub fn live_script(appointment: &Appointment) -> LiveScript {
    LiveScript::new()
        .turn(
            LiveTurn::function_call(RESCHEDULE, r#"{"preferred_times":["Thursday afternoon"]}"#)
                .with_caller_transcript(
                    "Sorry, Tuesday doesn't work for me. Could we move it to Thursday afternoon?",
                )
                .then_say_for(
                    "Of course. I've asked for Thursday afternoon, and the office will call you \
                     to confirm the exact time. Is there anything else?",
                    3000,
                ),
        )
        .turn(
            LiveTurn::new()
                .with_caller_transcript("No, that's all. Thank you!")
                .then_say_for(
                    format!("You're welcome, {}. Goodbye!", appointment.first_name()),
                    1500,
                )
                .then_call(END_CALL, "{}"),
        )
        .fallback(LiveTurn::speech("Is there anything else I can help with?"))
}

/// The scripted Realtime agent: one turn per response, in order.
pub fn script(appointment: &Appointment) -> Script {
    let greeting = appointment.greeting();
    Script::new()
        .turn(Turn::new().say(greeting, Audio::tone(4000)))
        .turn(
            Turn::new()
                .with_input_transcript(
                    "Sorry, Tuesday doesn't work for me. Could we move it to Thursday afternoon?",
                )
                .call(RESCHEDULE, r#"{"preferred_times":["Thursday afternoon"]}"#),
        )
        .turn(Turn::new().say(
            "Of course. I've asked for Thursday afternoon, and the office will call you to \
             confirm the exact time. Is there anything else?",
            Audio::tone(3000),
        ))
        .turn(
            Turn::new()
                .with_input_transcript("No, that's all. Thank you!")
                .say(
                    format!("You're welcome, {}. Goodbye!", appointment.first_name()),
                    Audio::tone(1500),
                )
                .call(END_CALL, "{}"),
        )
        .fallback(Turn::speech("Is there anything else I can help with?"))
}

/// What the demo produced.
#[derive(Debug)]
pub struct DemoRun {
    /// The call's outcome line.
    pub outcome: CallOutcome,
    /// The demo's output folder.
    pub out_dir: PathBuf,
    /// What the simulated callee saw.
    pub record: CallRecord,
}

/// Runs the demo over the Realtime API ([`DEFAULT_MODEL`]); `out_base` gets a
/// `demo-<timestamp>/` folder.
///
/// # Errors
///
/// A loopback server could not start, the simulated call could not connect, or no
/// outcome was recorded.
pub async fn run(out_base: &Path, watcher: Option<Watcher>) -> Result<DemoRun, String> {
    run_with_model(out_base, watcher, DEFAULT_MODEL).await
}

/// Runs the demo with `model`: a `gpt-live-…` model runs it over GPT-Live (the mock's Live
/// side, [`live_script`]), any other over the Realtime API ([`script`]).
///
/// # Errors
///
/// As [`run`].
pub async fn run_with_model(
    out_base: &Path,
    watcher: Option<Watcher>,
    model: &str,
) -> Result<DemoRun, String> {
    let appointment = Appointment::demo();
    let mock = MockServer::builder()
        .key_check(KeyCheck::None)
        .script(script(&appointment))
        .live_script(live_script(&appointment))
        .start()
        .await
        .map_err(|err| format!("cannot start the OpenAI mock on loopback: {err}"))?;
    let mut agent = AgentConfig::local(mock.url());
    agent.model = model.to_owned();
    if agent.is_live() {
        agent = AgentConfig::local_live(mock.live_url(), mock.url(), model);
    }

    let token = demo_token();
    let public = PublicUrl::parse(DEMO_HOST).map_err(|err| err.to_string())?;
    let secret = derive_context_secret(token.expose_secret());
    let out_dir = out_base.join(format!("demo-{}", timestamp(unix_now())));
    let mut bot = Bot::new(
        Auth::Signed {
            verifier: Verifier::new(token.clone(), public.base().clone()),
            public: public.clone(),
            secret: secret.clone(),
        },
        agent,
        Output::new(&out_dir),
    );
    bot.watcher = watcher.map(WatcherSlot);
    let bot = Arc::new(bot);

    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|err| format!("cannot listen on loopback: {err}"))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    let mut events = bot.events.subscribe();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(crate::server::serve(listener, Arc::clone(&bot), async {
        // A dropped sender means stop as well.
        let _ = stopped.await;
    }));

    let signed = crate::outbound::sign(&appointment, &secret, SystemTime::now())
        .map_err(|err| err.to_string())?;
    let call = CallScript::new(format!("ws://{addr}/media-stream"))
        .auth_token(token)
        .signature_url(public.stream_url())
        .parameters(signed.parameters())
        .caller_audio(CallerAudio::speech(CALLER_SPEECH))
        .max_duration(Duration::from_secs(45));
    let record = call
        .run()
        .await
        .map_err(|err| format!("the simulated call could not connect: {err}"))?;

    let call_sid = record.call_sid.to_string();
    let wait = async {
        loop {
            match events.recv().await {
                Ok(BotEvent::Outcome(outcome)) if outcome.call_sid == call_sid => {
                    return Some(outcome);
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    };
    let outcome = tokio::time::timeout(Duration::from_secs(10), wait)
        .await
        .ok()
        .flatten();
    // Fails only when the server already stopped; `join` reports why it did.
    let _ = stop.send(());
    crate::server::join(server).await;
    drop(mock);
    let outcome = outcome.ok_or_else(|| {
        format!(
            "the call {call_sid} ended ({:?}) without an outcome being recorded",
            record.end
        )
    })?;
    Ok(DemoRun {
        outcome,
        out_dir,
        record,
    })
}

/// A made-up auth token for this run (the demo's signatures are real, its account is not).
fn demo_token() -> AuthToken {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    AuthToken::new(format!(
        "{:032x}",
        nanos ^ (u128::from(std::process::id()) << 64)
    ))
}
