//! One media stream, from the upgrade to the outcome line:
//!
//! 1. the upgrade's `X-Twilio-Signature` is checked against the public `wss://` URL (403
//!    otherwise: `twilio_media_stream::server::accept`);
//! 2. the Twilio leg reads `connected` and `start` (`wait_start`); the appointment comes
//!    from `start`'s signed context, which the leg verifies (`verify_context`): a missing,
//!    forged or expired one closes the socket with 1008 `call context refused: …` (after
//!    the upgrade, a close code is all HTTP leaves);
//! 3. the bridge runs the call between the Twilio leg and an OpenAI leg configured for
//!    the appointment, with the appointment tools;
//! 4. the report, the recording and the outcome line are written, and one log line says
//!    how the call ended, with its ids.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use openai_realtime::Dialect;
use twilio_media_stream::server::{self as twilio_server, MediaSocket};
use voice_bridge::recording::CallRecorder;
use voice_bridge::report::EndReason;
use voice_bridge::{Bridge, CallReport, LegEnd};

use crate::advice;
use crate::appointment::Appointment;
use crate::connections::Admission;
use crate::legs::{AgentLegBox, CallLeg};
use crate::output::{CallOutcome, unix_now};
use crate::server::{Auth, Bot};
use crate::tools::AppointmentTools;

/// How long Twilio may take from the upgrade to `start`.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Answers the upgrade request of `GET /media-stream`, and runs the stream on a task.
pub fn accept(bot: Arc<Bot>, mut request: Request<Body>) -> Response {
    let accepted = match &bot.auth {
        Auth::Signed { verifier, .. } => twilio_server::accept(&mut request, verifier),
        Auth::UnsignedLoopback => twilio_server::accept_unsigned(&mut request),
    };
    match accepted {
        Err(refusal) => {
            tracing::warn!(
                route = "/media-stream",
                status = refusal.status.as_u16(),
                reason = %refusal.reason,
                "media stream refused"
            );
            refusal.into_response()
        }
        Ok((response, pending)) => {
            if let Some(admission) = request.extensions().get::<Admission>() {
                admission.authenticated();
            }
            // Counted from here to the written report: a drain waits for it.
            let guard = bot.drain.call();
            tokio::spawn(async move {
                let _guard = guard;
                match pending.socket().await {
                    Ok(socket) => run(bot, socket).await,
                    Err(err) => tracing::warn!("media stream upgrade failed: {err}"),
                }
            });
            response
        }
    }
}

/// Runs one accepted stream to its end.
async fn run(bot: Arc<Bot>, socket: MediaSocket) {
    let mut call = crate::legs::call_leg(socket, bot.rest.clone());
    if let Auth::Signed { secret, .. } = &bot.auth {
        // A missing, forged or expired context closes the stream with 1008 and the reason.
        call = call.verify_context(secret.clone());
    }
    let start = match tokio::time::timeout(START_TIMEOUT, call.wait_start()).await {
        Ok(Ok(start)) => start,
        Ok(Err(end)) => {
            let (call_sid, stream_sid) = ids(&call);
            match stream_sid {
                // `start` came and was refused (its context, its format): closed with a code.
                // The Twilio leg logged the refusal with the ids; one line is enough.
                Some(stream_sid) => refused(&bot, call_sid, stream_sid, end.to_string()),
                None => tracing::warn!(reason = %end, "media stream ended before its start"),
            }
            return;
        }
        Err(_) => {
            tracing::warn!(timeout = ?START_TIMEOUT, "media stream sent no start in time");
            call.refuse("no start message in time").await;
            return;
        }
    };
    let call_sid = start.call_id.to_string();
    let stream_sid = start.stream_id.to_string();
    let appointment = match &bot.auth {
        // The parameters are the context's verified fields.
        Auth::Signed { .. } => Appointment::from_fields(&start.parameters),
        Auth::UnsignedLoopback => Ok(Appointment::demo()),
    };
    let appointment = match appointment {
        Ok(appointment) => appointment,
        Err(err) => {
            let reason = format!("call context refused: {err}");
            tracing::warn!(%call_sid, %stream_sid, %reason, "media stream refused");
            call.refuse(&reason).await;
            refused(&bot, call_sid, stream_sid, reason);
            return;
        }
    };
    run_call(bot, call, call_sid, stream_sid, appointment).await;
}

/// The call's agent leg: the session opened while the phone rang, if this instance has a
/// good one for the call ([`crate::warm`]), else a fresh one that connects now.
async fn agent_leg(bot: &Bot, call_sid: &str, appointment: &Appointment) -> AgentLegBox {
    if let Some(warm) = &bot.warm {
        if let Some(warmed) = warm.take(call_sid).await {
            tracing::info!(
                call_sid,
                open_ms = u64::try_from(warmed.waited().as_millis()).unwrap_or(u64::MAX),
                ready = warmed.was_ready(),
                "the call takes the agent session opened while it rang (warm)"
            );
            return Box::new(warmed);
        }
    }
    crate::legs::agent_leg(&bot.agent, appointment)
}

/// The ids a stream's `start` carried, if it came.
fn ids(call: &CallLeg) -> (String, Option<String>) {
    (
        call.call_sid().map(ToString::to_string).unwrap_or_default(),
        call.stream_sid().map(ToString::to_string),
    )
}

/// Records the outcome of a stream refused after its `start`.
fn refused(bot: &Bot, call_sid: String, stream_sid: String, reason: String) {
    let mut outcome = CallOutcome::without_stream(
        &call_sid,
        "",
        "stream_refused",
        format!("stream refused: {reason}"),
    );
    outcome.stream_sid = Some(stream_sid);
    if let Err(err) = bot.output.append(&outcome) {
        tracing::error!(%call_sid, "cannot write the outcome: {err}");
    }
    bot.publish(outcome);
}

/// Runs the bridge for a verified stream, then writes what happened.
async fn run_call(
    bot: Arc<Bot>,
    call: CallLeg,
    call_sid: String,
    stream_sid: String,
    appointment: Appointment,
) {
    tracing::info!(%call_sid, %stream_sid, appointment_id = %appointment.id, "media stream accepted");

    let tools = AppointmentTools::new(&call_sid, &appointment);
    let mut recorder = bot.record.then(CallRecorder::new);
    let watcher = bot.watcher.as_ref().map(|w| w.0.clone());
    let agent = agent_leg(&bot, &call_sid, &appointment).await;
    let active = bot.metrics.call_started();
    let observer = (bot.metrics.observer(), recorder.as_mut());
    let report = Bridge::new(call, agent)
        .with_shutdown(bot.drain.ending())
        .with_config(bot.bridge.clone())
        .with_tools(tools.clone())
        .with_observer((crate::tap::observer(watcher), observer))
        .run()
        .await;
    drop(active);

    let mut outcome = summarize(&call_sid, &stream_sid, &appointment, &tools, &report);
    bot.metrics.call_finished(&outcome.outcome, &report);
    if let Some(advice) = beta_refused(&bot, &report).await {
        outcome.why = advice;
    }
    // File writes off the runtime's threads: a busy `serve` keeps forwarding audio.
    let output = bot.output.clone();
    let written = tokio::task::spawn_blocking(move || {
        let result = output.write_call(&mut outcome, &appointment, &report, recorder.as_ref());
        (outcome, result)
    })
    .await;
    let outcome = match written {
        Ok((outcome, Ok(folder))) => {
            tracing::info!(
                %call_sid,
                %stream_sid,
                outcome = %outcome.outcome,
                why = %outcome.why,
                folder = %folder.display(),
                "call finished"
            );
            outcome
        }
        Ok((outcome, Err(err))) => {
            tracing::error!(
                %call_sid,
                %stream_sid,
                outcome = %outcome.outcome,
                why = %outcome.why,
                "call finished; its report could not be written: {err}"
            );
            outcome
        }
        Err(join) => {
            tracing::error!(%call_sid, %stream_sid, "writing the call's report failed: {join}");
            return;
        }
    };
    bot.publish(outcome);
}

/// The outcome's reason when the agent was refused the retired beta interface: in the
/// command line's words, naming what the service says of the model too (asked once per
/// process: the beta refusal comes before the service looks at the model), as `check`
/// does. `None` for any other end.
async fn beta_refused(bot: &Bot, report: &CallReport) -> Option<String> {
    let (EndReason::AgentEnded { end } | EndReason::AgentNotStarted { end }) =
        &report.outcome.reason
    else {
        return None;
    };
    let (LegEnd::Refused { detail, .. }
    | LegEnd::Error {
        message: detail, ..
    }) = end
    else {
        return None;
    };
    if bot.agent.dialect != Dialect::Beta || !detail.contains(advice::BETA_RETIRED_CODE) {
        return None;
    }
    let model = bot
        .model_over_ga
        .get_or_init(|| advice::model_over_ga(&bot.agent))
        .await;
    let fallback = match &report.outcome.fallback {
        Some(fallback) => format!("; {fallback}"),
        None => String::new(),
    };
    Some(format!(
        "the agent was refused the session ({}): {}: {}; {model}{fallback}",
        advice::BETA_RETIRED_CODE,
        advice::BETA_RETIRED,
        advice::USE_GA
    ))
}

/// The outcome line of a call that ran.
fn summarize(
    call_sid: &str,
    stream_sid: &str,
    appointment: &Appointment,
    tools: &AppointmentTools,
    report: &CallReport,
) -> CallOutcome {
    let decision = tools.decision();
    let agent_failed =
        report.outcome.fallback.is_some() || report.outcome.reason.is_agent_failure();
    let label = match (&decision, agent_failed) {
        (Some(decision), _) => decision.label(),
        (None, true) => "agent_failed",
        (None, false) => "no_decision",
    };
    CallOutcome {
        call_sid: call_sid.to_owned(),
        stream_sid: Some(stream_sid.to_owned()),
        appointment_id: appointment.id.clone(),
        outcome: label.to_owned(),
        decision,
        why: report.outcome.to_string(),
        ended_by: Some(report.outcome.ended_by),
        at: unix_now(),
        folder: None,
    }
}
