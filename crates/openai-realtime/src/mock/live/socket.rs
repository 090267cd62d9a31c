//! One Live session's socket loop: the checks after the upgrade, then frames between the
//! socket and the [`LiveEngine`], commands from the handle, and the engine's timers.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::engine::{LiveEngine, LiveSetup};
use super::handle::{LiveCommand, LiveLog, LiveReceived, LiveShared, MockLiveSession};
use super::validate::refusal;
use crate::live::{ClientEvent, LiveError};
use crate::mock::KeyCheck;
use crate::mock::engine::Outgoing;
use crate::mock::handle::Close;
use crate::mock::server::{State, mask_key};

/// What the upgrade request of a Live socket said.
#[derive(Debug)]
pub(crate) struct LiveUpgrade {
    pub(crate) uri: String,
    pub(crate) query: Vec<(String, String)>,
    /// Request headers, credentials redacted.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) credential: Option<String>,
}

/// The checks right after the upgrade: the key (as the Realtime side checks it), then a
/// `model` query parameter (the mock's choice: a Realtime client pointed at the Live URL).
fn refusal_after_upgrade(upgrade: &LiveUpgrade, key: &KeyCheck) -> Option<(LiveError, u16)> {
    let missing = || {
        Some((
            refusal(
                "invalid_api_key",
                "Missing bearer or basic authentication in header".to_owned(),
                None,
            ),
            3000,
        ))
    };
    match (key, &upgrade.credential) {
        (KeyCheck::None, _) => {}
        (_, None) => return missing(),
        (KeyCheck::AnyNonEmpty, Some(got)) if got.trim().is_empty() => return missing(),
        (KeyCheck::Exact(expected), Some(got)) if got != expected => {
            let message = format!(
                "Incorrect API key provided: {}. You can find your API key at \
                 https://platform.openai.com/account/api-keys.",
                mask_key(got)
            );
            return Some((refusal("invalid_api_key", message, None), 3000));
        }
        _ => {}
    }
    let mut error = None;
    if let Some((_, model)) = upgrade.query.iter().find(|(k, _)| k == "model") {
        let message = format!(
            "The Live endpoint takes no query parameters: send the model in session.start. \
             For the Realtime API (model `{model}`), connect to /v1/realtime?model={model}."
        );
        error = Some((refusal("unknown_parameter", message, Some("model")), 4000));
    }
    error
}

/// Runs one Live session until its socket ends.
pub(crate) async fn serve<S>(mut ws: WebSocketStream<S>, upgrade: LiveUpgrade, state: Arc<State>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let settings = &state.settings;
    let n = state.live_next_id.fetch_add(1, Ordering::SeqCst) + 1;
    let session_id = format!("live_mock{n:06}");
    let (tx, mut commands) = mpsc::channel(64);
    let shared = Arc::new(LiveShared {
        id: session_id.clone(),
        uri: upgrade.uri.clone(),
        headers: upgrade.headers.clone(),
        log: Mutex::new(LiveLog::default()),
        changed: Notify::new(),
        commands: tx,
    });
    state.live.push(MockLiveSession {
        shared: Arc::clone(&shared),
    });
    let record = settings.record;
    let unix_now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut engine = LiveEngine::new(LiveSetup {
        session_id,
        models: settings.live.models.clone(),
        script: settings.live.script.clone(),
        max_duration: settings.live.max_session_duration,
        unix_now,
    });
    if let Some((error, code)) = refusal_after_upgrade(&upgrade, &settings.key) {
        tracing::debug!(code, error = %error, "mock: refusing Live session after upgrade");
        engine.refuse(error, code);
    }
    let mut session_version = engine.session_version();
    let mut closing = false;
    let mut stalled = false;
    'session: loop {
        if stalled {
            match commands.recv().await {
                Some(command) => apply(&mut engine, command, &shared, &mut stalled),
                None => break,
            }
            continue;
        }
        while let Some(out) = engine.poll_output(now()) {
            match out {
                Outgoing::Text(text) => {
                    if record {
                        shared.update(|log| log.sent.push(text.clone()));
                    }
                    if ws.send(Message::text(text)).await.is_err() {
                        break 'session;
                    }
                }
                Outgoing::Close(code, reason) => {
                    shared.update(|log| {
                        log.closed_by_server = Some(Close {
                            code,
                            reason: reason.clone(),
                        });
                    });
                    let frame = CloseFrame {
                        code: CloseCode::from(code),
                        reason: reason.into(),
                    };
                    let _ = ws.send(Message::Close(Some(frame))).await;
                    closing = true;
                    break;
                }
            }
        }
        if engine.session_version() != session_version {
            session_version = engine.session_version();
            let session = engine.session().clone();
            shared.update(|log| log.session = session);
        }
        if closing {
            let drain = async {
                while let Some(Ok(msg)) = ws.next().await {
                    if let Message::Close(frame) = msg {
                        record_client_close(&shared, frame.as_ref());
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(std::time::Duration::from_secs(1), drain).await;
            break;
        }
        let deadline = engine.poll_timeout().map(tokio::time::Instant::from_std);
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str();
                    let refused = engine.handle_text(now(), text);
                    if record {
                        let event_type = peek_type(text);
                        let event = ClientEvent::decode(text).ok();
                        shared.update(|log| log.received.push(LiveReceived {
                            raw: text.to_owned(),
                            event_type,
                            event,
                            refused,
                        }));
                    }
                }
                Some(Ok(Message::Close(frame))) => {
                    record_client_close(&shared, frame.as_ref());
                    let _ = ws.flush().await;
                    while let Some(Ok(_)) = ws.next().await {}
                    break;
                }
                Some(Ok(Message::Binary(_))) => {
                    let error = refusal(
                        "invalid_value",
                        "Binary frames are not supported; send JSON text frames.".to_owned(),
                        None,
                    );
                    engine.send_error(error, None);
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    tracing::debug!(%error, "mock: Live socket error");
                    break;
                }
                None => break,
            },
            Some(command) = commands.recv() => apply(&mut engine, command, &shared, &mut stalled),
            () = sleep_until(deadline) => {}
        }
    }
    shared.update(|log| log.ended = true);
}

fn apply(engine: &mut LiveEngine, command: LiveCommand, shared: &LiveShared, stalled: &mut bool) {
    match command {
        LiveCommand::Close(code, reason) => engine.close(code, reason),
        LiveCommand::End(reason) => engine.end(now(), reason, None),
        LiveCommand::Error(error) => {
            let id = error
                .client_event_id
                .as_ref()
                .map(|id| id.as_str().to_owned());
            engine.send_error(error, id.as_deref());
        }
        LiveCommand::Event(event) => engine.send_event(event),
        LiveCommand::Raw(text) => engine.send_raw(text),
        LiveCommand::StartTurn => engine.start_turn(),
        LiveCommand::Stall(done) => {
            *stalled = true;
            shared.update(|log| log.stalled = true);
            let _ = done.send(());
        }
        LiveCommand::Resume(done) => {
            *stalled = false;
            shared.update(|log| log.stalled = false);
            let _ = done.send(());
        }
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn record_client_close(shared: &LiveShared, frame: Option<&CloseFrame>) {
    let close = frame.map(|f| Close {
        code: u16::from(f.code),
        reason: f.reason.to_string(),
    });
    shared.update(|log| {
        log.closed_by_client = close.or(Some(Close {
            code: 1005,
            reason: String::new(),
        }))
    });
}

fn peek_type(text: &str) -> Option<String> {
    let value: Value = serde_json::from_str(text).ok()?;
    value.get("type")?.as_str().map(str::to_owned)
}

fn now() -> std::time::Instant {
    tokio::time::Instant::now().into_std()
}
