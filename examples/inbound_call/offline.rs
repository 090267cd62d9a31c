//! The offline run: a whole inbound call on loopback, with no credentials and no network.
//! The bot's real server, the OpenAI mock playing a receptionist, and the Twilio
//! simulator ringing the number (the signed voice webhook), then streaming the call the
//! TwiML opens, with the caller speaking after the greeting.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::mpsc;
use voice_bridge::CallReport;
use voice_bridge::openai_realtime::client::Config;
use voice_bridge::openai_realtime::mock::{Audio, KeyCheck, MockServer, Script, Turn};
use voice_bridge::twilio_media_stream::server::{PublicBase, Verifier};
use voice_bridge::twilio_media_stream::signature::AuthToken;
use voice_bridge::twilio_media_stream::simulator::{CallRecord, CallerAudio, IncomingCall};

use crate::bot::{Bot, END_CALL, TAKE_MESSAGE};

/// The public host the offline run pretends Twilio calls (never resolved).
const HOST: &str = "inbound.demo.invalid";

/// What the caller says, and when (from the stream's start).
pub const CALLER_SAYS: &str =
    "Hi, this is Sam Lee. Could Dr. Patel call me back about my prescription?";
const CALLER_SPEECH: [(Duration, Duration); 1] =
    [(Duration::from_millis(2200), Duration::from_millis(3400))];

/// The scripted receptionist: greet, take the message, say goodbye and hang up.
fn script() -> Script {
    Script::new()
        .turn(Turn::new().say(
            "Thank you for calling Bright Smile Dental. The office is closed; can I take a message?",
            Audio::tone(1800),
        ))
        .turn(Turn::new().with_input_transcript(CALLER_SAYS).call(
            TAKE_MESSAGE,
            r#"{"name":"Sam Lee","message":"please call back about the prescription"}"#,
        ))
        .turn(
            Turn::new()
                .say("I've passed your message on. Goodbye, Sam!", Audio::tone(1200))
                .call(END_CALL, "{}"),
        )
        .fallback(Turn::speech("Is there anything else?"))
}

/// The offline call's results.
#[derive(Debug)]
pub struct Run {
    /// What the simulated caller heard and saw.
    pub record: CallRecord,
    /// The bridge's report of the call.
    pub report: CallReport,
    /// Whether the mock's AI session had ended when the call did.
    pub session_closed: bool,
}

/// Runs one inbound call on loopback.
///
/// # Errors
///
/// A loopback server could not start, the webhook or stream failed, or no report came.
pub async fn run() -> Result<Run, String> {
    let mock = MockServer::builder()
        .key_check(KeyCheck::None)
        .script(script())
        .start()
        .await
        .map_err(|err| format!("cannot start the OpenAI mock: {err}"))?;
    // Made up for this run: the signatures are real, the account is not.
    let token = AuthToken::new(format!("{:032x}", std::process::id()));
    let public = PublicBase::parse(HOST).map_err(|err| err.to_string())?;
    let (reports, mut reports_rx) = mpsc::unbounded_channel();
    let bot = Arc::new(Bot {
        verifier: Verifier::new(token.clone(), public.clone()),
        agent: Config::url(mock.url()),
        rest: None,
        reports,
    });
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|err| format!("cannot listen on loopback: {err}"))?;
    let addr = listener.local_addr().map_err(|err| err.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, crate::bot::router(bot)).await });

    let answer = IncomingCall::new(format!("http://{addr}/voice"))
        .auth_token(token.clone())
        .signature_url(public.https_url("/voice"))
        .from("+14155550123")
        .ring()
        .await
        .map_err(|err| format!("the voice webhook failed: {err}"))?;
    if answer.status != 200 {
        return Err(format!(
            "the bot answered the webhook with {}: {}",
            answer.status, answer.twiml
        ));
    }
    let record = answer
        .stream_call(&format!("ws://{addr}"))
        .map_err(|err| err.to_string())?
        .auth_token(token)
        .caller_audio(CallerAudio::speech(CALLER_SPEECH))
        .max_duration(Duration::from_secs(30))
        .run()
        .await
        .map_err(|err| format!("the stream could not connect: {err}"))?;
    let report = tokio::time::timeout(Duration::from_secs(10), reports_rx.recv())
        .await
        .ok()
        .flatten()
        .ok_or("the call ended without a report")?;
    let session_closed = mock.sessions().iter().all(|session| session.is_ended());
    server.abort();
    Ok(Run {
        record,
        report,
        session_closed,
    })
}

#[cfg(test)]
mod tests {
    use voice_bridge::report::{EndReason, ToolCallResult};

    use super::*;

    /// The whole inbound path on loopback: webhook, TwiML, signed stream, the agent's
    /// greeting heard, the message taken by the tool, the goodbye, the hang-up, the AI
    /// session closed with the call.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_inbound_call_takes_a_message_and_hangs_up() {
        let run = run().await.expect("the offline call runs");
        let tools: Vec<_> = run
            .report
            .tool_calls
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        assert_eq!(tools, [TAKE_MESSAGE, END_CALL], "{:#?}", run.report);
        assert_eq!(run.report.tool_calls[0].arguments["name"], "Sam Lee");
        // The typed handler parsed the arguments (a mismatch would be an error result).
        assert_eq!(
            run.report.tool_calls[0].result,
            Some(ToolCallResult::Ok {
                output: serde_json::json!({"recorded": true})
            })
        );
        assert!(
            matches!(run.report.outcome.reason, EndReason::ToolEndedCall { .. }),
            "{:?}",
            run.report.outcome
        );
        assert_eq!(
            run.report.call_id.as_ref().map(|id| id.as_str()),
            Some(run.record.call_sid.as_str()),
            "the report names the call that rang"
        );
        // Greeting (1.8 s) and goodbye (1.2 s) of tone, less what a barge-in may cut.
        assert!(
            run.record.heard_ms() >= 2000,
            "heard {} ms",
            run.record.heard_ms()
        );
        assert!(run.session_closed, "the AI session ends with the call");
    }
}
