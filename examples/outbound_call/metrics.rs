//! `GET /metrics`: what the bot has done, in the Prometheus text format (version 0.0.4),
//! through the Prometheus project's Rust client (`prometheus-client`).
//!
//! Each [`Bot`] keeps its own [`Metrics`] (a registry is a plain value,
//! not a process-wide recorder), so two bots in one process count apart.
//!
//! | series | type | labels |
//! |---|---|---|
//! | `voice_agent_calls_active` | gauge | |
//! | `voice_agent_calls_finished_total` | counter | `outcome`, `ended_by`, `reason` |
//! | `voice_agent_agent_connect_seconds` | histogram | |
//! | `voice_agent_first_agent_audio_seconds` | histogram | |
//! | `voice_agent_barge_ins_total` | counter | |
//! | `voice_agent_errors_total` | counter | `cause`, `code` |
//! | `voice_agent_audio_bytes_total` | counter | `leg`, `direction` |
//! | `voice_agent_webhooks_total` | counter | `route`, `status` |
//!
//! A call's figures come from its [`CallReport`] when it ends; the live ones (calls under
//! way, audio bytes) from the bridge's observer ([`Metrics::observer`]) as they happen.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};
use voice_bridge::observer::{BridgeObserver, Observed};
use voice_bridge::report::EndReason;
use voice_bridge::{AgentCommand, AgentEvent, CallCommand, CallEvent, CallReport, LegEnd, Side};

use crate::server::Bot;

/// Bucket bounds of the latency histograms, in seconds: a connect or a first answer takes
/// from a few tens of milliseconds (a warm session) to several seconds (a slow service).
const LATENCY_BUCKETS: [f64; 12] = [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0];

/// Labels of a finished call.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Finished {
    /// The outcome line's label (`confirmed`, `agent_failed`, …).
    outcome: String,
    /// The side whose event ended the call.
    ended_by: String,
    /// [`EndReason::kind`].
    reason: String,
}

/// Labels of an error.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorCause {
    /// What failed (see [`error_causes`]).
    cause: String,
    /// Its code: an HTTP status, a close code, the provider's error code; empty if none.
    code: String,
}

/// Labels of an audio byte count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AudioBytes {
    /// `caller` or `agent`.
    leg: &'static str,
    /// `received` (from that leg) or `sent` (to it).
    direction: &'static str,
}

/// Labels of a webhook.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Webhook {
    /// The route's path.
    route: String,
    /// The answer's HTTP status.
    status: u16,
}

/// The bot's registry and the handles its series are counted through.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    calls_active: Gauge,
    calls_finished: Family<Finished, Counter>,
    agent_connect: Histogram,
    first_audio: Histogram,
    barge_ins: Counter,
    errors: Family<ErrorCause, Counter>,
    audio_bytes: Family<AudioBytes, Counter>,
    webhooks: Family<Webhook, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A registry with every series at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("voice_agent");
        let calls_active = Gauge::default();
        registry.register(
            "calls_active",
            "Calls whose media stream is being bridged now",
            calls_active.clone(),
        );
        let calls_finished = Family::<Finished, Counter>::default();
        registry.register(
            "calls_finished",
            "Bridged calls that ended, by the outcome line's label, the side that ended the \
             call and the reason's kind",
            calls_finished.clone(),
        );
        let agent_connect = Histogram::new(LATENCY_BUCKETS);
        registry.register_with_unit(
            "agent_connect",
            "From the bridge's start to the agent session's confirmed formats (handshake and \
             session set-up)",
            Unit::Seconds,
            agent_connect.clone(),
        );
        let first_audio = Histogram::new(LATENCY_BUCKETS);
        registry.register_with_unit(
            "first_agent_audio",
            "From the stream's start (the callee answered) to the first agent audio sent to \
             the caller",
            Unit::Seconds,
            first_audio.clone(),
        );
        let barge_ins = Counter::default();
        registry.register(
            "barge_ins",
            "Times a caller spoke over the agent",
            barge_ins.clone(),
        );
        let errors = Family::<ErrorCause, Counter>::default();
        registry.register(
            "errors",
            "Errors by cause: agent_refused (code: HTTP status), agent_closed (close code), \
             agent_error (provider error code), agent_failed, agent_not_ready, agent_stalled, \
             audio_unsupported, call_closed (close code), call_error, call_failed, bridge_error",
            errors.clone(),
        );
        let audio_bytes = Family::<AudioBytes, Counter>::default();
        registry.register_with_unit(
            "audio",
            "Encoded audio bytes by leg (caller, agent) and direction (received from it, \
             sent to it)",
            Unit::Bytes,
            audio_bytes.clone(),
        );
        let webhooks = Family::<Webhook, Counter>::default();
        registry.register(
            "webhooks",
            "Twilio's requests (webhooks and media-stream upgrades) by route and answer status",
            webhooks.clone(),
        );
        Self {
            registry,
            calls_active,
            calls_finished,
            agent_connect,
            first_audio,
            barge_ins,
            errors,
            audio_bytes,
            webhooks,
        }
    }

    /// Every series, in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if let Err(err) = prometheus_text::encode(&mut text, &self.registry) {
            // Writing to a String fails only if a metric's own encoding does; say so in the
            // answer and the log rather than serve half a page as if it were whole.
            tracing::error!("cannot render the metrics: {err}");
            text.clear();
            let _ = writeln!(text, "# cannot render the metrics: {err}");
        }
        text
    }

    /// Counts a call as under way until the returned guard is dropped.
    pub fn call_started(&self) -> ActiveCall {
        self.calls_active.inc();
        ActiveCall(self.calls_active.clone())
    }

    /// The bridge's observer for one call: counts audio bytes each way as they pass.
    pub fn observer(&self) -> AudioObserver {
        let bytes = |leg, direction| {
            self.audio_bytes
                .get_or_create(&AudioBytes { leg, direction })
                .clone()
        };
        AudioObserver {
            from_caller: bytes("caller", "received"),
            to_caller: bytes("caller", "sent"),
            from_agent: bytes("agent", "received"),
            to_agent: bytes("agent", "sent"),
        }
    }

    /// Records a bridged call's figures from its report, with its outcome line's label.
    pub fn call_finished(&self, outcome: &str, report: &CallReport) {
        self.calls_finished
            .get_or_create(&Finished {
                outcome: outcome.to_owned(),
                ended_by: report.outcome.ended_by.to_string(),
                reason: report.outcome.reason.kind().to_owned(),
            })
            .inc();
        if let Some(ms) = report.timings.agent_ready_ms {
            self.agent_connect.observe(seconds(ms));
        }
        if let Some(ms) = report.timings.first_audio_after_start_ms() {
            self.first_audio.observe(seconds(ms));
        }
        self.barge_ins.inc_by(report.barge_ins.len() as u64);
        for (cause, code) in error_causes(report) {
            self.errors.get_or_create(&ErrorCause { cause, code }).inc();
        }
    }

    /// Counts one of Twilio's requests by its route and the answer's status.
    fn webhook(&self, route: &str, status: StatusCode) {
        self.webhooks
            .get_or_create(&Webhook {
                route: route.to_owned(),
                status: status.as_u16(),
            })
            .inc();
    }
}

fn seconds(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// A call counted in `voice_agent_calls_active`, until dropped.
#[derive(Debug)]
pub struct ActiveCall(Gauge);

impl Drop for ActiveCall {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Counts a call's audio bytes as the bridge passes them (see [`Metrics::observer`]).
#[derive(Debug)]
pub struct AudioObserver {
    from_caller: Counter,
    to_caller: Counter,
    from_agent: Counter,
    to_agent: Counter,
}

impl BridgeObserver for AudioObserver {
    fn observe(&mut self, seen: Observed<'_>) {
        let (counter, chunk) = match seen {
            Observed::CallEvent(CallEvent::Audio(chunk)) => (&self.from_caller, chunk),
            Observed::CallCommand(CallCommand::Play { chunk, .. }) => (&self.to_caller, chunk),
            Observed::AgentEvent(AgentEvent::Audio(audio)) => (&self.from_agent, &audio.chunk),
            Observed::AgentCommand(AgentCommand::Audio(chunk)) => (&self.to_agent, chunk),
            _ => return,
        };
        counter.inc_by(chunk.byte_len() as u64);
    }
}

/// The `(cause, code)` of each error a report holds: how the call ended, when a leg failed
/// it, and the errors either leg reported on the way. A leg's failure is counted once, from
/// the end it caused (the report also lists it among its errors, without the code).
fn error_causes(report: &CallReport) -> Vec<(String, String)> {
    let mut causes = Vec::new();
    let mut ended_agent = false;
    match &report.outcome.reason {
        EndReason::AgentEnded { end } | EndReason::AgentNotStarted { end } => {
            ended_agent = true;
            if let Some(cause) = leg_end_cause("agent", end) {
                causes.push(cause);
            }
        }
        EndReason::AgentNotReady { .. } => {
            ended_agent = true;
            causes.push(("agent_not_ready".into(), String::new()));
        }
        EndReason::AgentStalled { .. } => {
            ended_agent = true;
            causes.push(("agent_stalled".into(), String::new()));
        }
        EndReason::AudioUnsupported { .. } => {
            causes.push(("audio_unsupported".into(), String::new()));
        }
        EndReason::CallEnded { end } => causes.extend(leg_end_cause("call", end)),
        _ => {}
    }
    for error in &report.errors {
        let cause = match error.side {
            // The fatal one is the end counted above.
            Side::Agent if error.fatal && ended_agent => continue,
            Side::Agent => "agent_error",
            Side::Call => "call_error",
            _ => "bridge_error",
        };
        causes.push((cause.into(), error.code.clone().unwrap_or_default()));
    }
    causes
}

/// The cause of a leg's end that was not the protocol's goodbye.
fn leg_end_cause(leg: &str, end: &LegEnd) -> Option<(String, String)> {
    let (what, code) = match end {
        LegEnd::Finished => return None,
        LegEnd::Refused { status, .. } => ("refused", status.map(|s| s.to_string())),
        LegEnd::Closed { code, .. } => ("closed", code.map(|c| c.to_string())),
        LegEnd::Error { code, .. } => ("error", code.clone()),
        _ => ("failed", None),
    };
    Some((format!("{leg}_{what}"), code.unwrap_or_default()))
}

/// `GET /metrics`.
pub async fn route(State(bot): State<Arc<Bot>>) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus_text::CONTENT_TYPE)],
        bot.metrics.render(),
    )
        .into_response()
}

/// Middleware counting Twilio's requests (`/twilio/…` and `/media-stream`) by route and
/// status; applied to matched routes only, so the path is one of the router's.
pub async fn count_webhooks(State(bot): State<Arc<Bot>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if path.starts_with("/twilio/") || path == "/media-stream" {
        bot.metrics.webhook(&path, response.status());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_described(text: &str, name: &str) {
        assert!(text.contains(&format!("# HELP {name} ")), "{name}: {text}");
        assert!(text.contains(&format!("# TYPE {name} ")), "{name}: {text}");
    }

    #[test]
    fn unlabelled_series_render_at_zero_and_labelled_ones_once_counted() {
        let metrics = Metrics::new();
        let text = metrics.render();
        for name in [
            "voice_agent_calls_active",
            "voice_agent_agent_connect_seconds",
            "voice_agent_first_agent_audio_seconds",
            "voice_agent_barge_ins_total",
        ] {
            assert_described(&text, name);
        }
        assert!(text.contains("voice_agent_calls_active 0\n"), "{text}");
        assert!(!text.contains("voice_agent_webhooks_total"), "{text}");

        metrics.webhook("/twilio/status", StatusCode::FORBIDDEN);
        metrics.webhook("/twilio/status", StatusCode::FORBIDDEN);
        let mut observer = metrics.observer();
        let chunk = voice_bridge::audio::AudioChunk::from_bytes(
            voice_bridge::audio::AudioFormat::MuLaw,
            vec![0xff; 160],
        )
        .unwrap();
        observer.observe(Observed::CallEvent(&CallEvent::Audio(chunk.clone())));
        observer.observe(Observed::AgentCommand(&AgentCommand::Audio(chunk)));
        let text = metrics.render();
        assert_described(&text, "voice_agent_webhooks_total");
        assert!(
            text.contains(
                "voice_agent_webhooks_total{route=\"/twilio/status\",status=\"403\"} 2\n"
            ),
            "{text}"
        );
        assert_described(&text, "voice_agent_audio_bytes_total");
        assert!(
            text.contains(
                "voice_agent_audio_bytes_total{leg=\"caller\",direction=\"received\"} 160\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("voice_agent_audio_bytes_total{leg=\"agent\",direction=\"sent\"} 160\n"),
            "{text}"
        );
        assert!(
            text.contains("voice_agent_audio_bytes_total{leg=\"caller\",direction=\"sent\"} 0\n"),
            "{text}"
        );
    }

    #[test]
    fn an_active_call_counts_until_its_guard_is_dropped() {
        let metrics = Metrics::new();
        let one = metrics.call_started();
        let two = metrics.call_started();
        assert_eq!(metrics.calls_active.get(), 2);
        drop(one);
        drop(two);
        assert_eq!(metrics.calls_active.get(), 0);
    }
}
