//! Whole calls over loopback sockets: the Twilio simulator calls a small tokio-tungstenite
//! server that runs a `Bridge` between a `TwilioLeg` and an `OpenAiLeg` pointed at the
//! OpenAI Realtime mock. Real sockets on 127.0.0.1 port 0, real time, short scripts.
//!
//! The peers are the protocol crates' fake peers (they follow the protocol references, not
//! the bridge): the simulator plays the agent's audio at real-time rate, echoes marks and
//! records what the caller heard; the mock runs server VAD on the caller's audio, answers
//! from a script and records every client event.
#![cfg(all(feature = "tokio-tungstenite-0_30", feature = "openai"))]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::{Audio, HttpRefusal, MockServer, MockSession, Script, Turn};
use openai_realtime::{RealtimeSession, TurnDetection};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use twilio_media_stream::simulator::{CallEnd, CallRecord, CallScript, CallerAudio};
use voice_bridge::adapter::twilio::{Frame, TungsteniteSocket, TwilioCounters};
use voice_bridge::audio::{AudioChunk, AudioFormat};
use voice_bridge::report::{EndReason, FallbackUsed};
use voice_bridge::{
    Bridge, BridgeConfig, CallReport, Fallback, HandOver, LegEnd, OpenAiLeg, Side, Speaker,
    TwilioLeg,
};

/// Generous bound for anything that should take well under a second.
const WAIT: Duration = Duration::from_secs(10);
/// The whole of one test's call.
const CALL_LIMIT: Duration = Duration::from_secs(30);
/// One caller frame.
const FRAME_MS: i64 = 20;
/// How far a truncation may be from what the simulator played, in these real-time tests:
/// the simulator plays in 20 ms packets while the bridge's clock runs smoothly (up to one
/// frame), and on a busy 2-core machine an echo or the clear can wait a few ms for a
/// thread (seen: 22 ms in 1 run of 3 under load). The exact bound, one frame, is held by
/// the paused-clock tests in `driver.rs` and `driver_barge_in.rs`.
const REAL_TIME_SLACK_MS: i64 = FRAME_MS + 10;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// What the server saw of its one call.
struct Served {
    report: CallReport,
    twilio: TwilioCounters,
    /// When the server read the caller's `stop`.
    stop_at: Option<Instant>,
}

/// A media-stream server for one call: accepts the WebSocket, bridges it to `agent`.
async fn serve_one_call(agent: OpenAiLeg, config: BridgeConfig) -> (String, JoinHandle<Served>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        // The leg takes any socket of frames: tap it to see when `stop` arrives.
        let stop_at = Arc::new(Mutex::new(None));
        let seen = Arc::clone(&stop_at);
        let socket = TungsteniteSocket::new(ws).inspect(move |frame| {
            if let Ok(Frame::Text(text)) = frame {
                if text.contains(r#""event":"stop""#) {
                    seen.lock().unwrap().get_or_insert_with(Instant::now);
                }
            }
        });
        let call = TwilioLeg::new(socket);
        let stats = call.stats();
        let report = Bridge::new(call, agent).with_config(config).run().await;
        let stop_at = *stop_at.lock().unwrap();
        Served {
            report,
            twilio: stats.counters(),
            stop_at,
        }
    });
    (url, task)
}

/// Server VAD with a short silence, so turns end quickly.
fn session() -> RealtimeSession {
    let mut session = RealtimeSession::phone_call();
    if let Some(Some(TurnDetection::ServerVad(vad))) = &mut session.audio_input_mut().turn_detection
    {
        vad.silence_duration_ms = Some(200);
    }
    session
}

fn agent(mock: &MockServer) -> OpenAiLeg {
    let config = Config::url(mock.url()).with_api_key(ApiKey::new("sk-test"));
    OpenAiLeg::builder(config).session(session()).build()
}

/// Bytes of `value` the caller heard: each scripted item is one byte value.
fn heard(record: &CallRecord, value: u8) -> usize {
    record.heard.iter().filter(|&&b| b == value).count()
}

async fn run_call(script: CallScript, served: JoinHandle<Served>) -> (CallRecord, Served) {
    let record = tokio::time::timeout(CALL_LIMIT, script.run())
        .await
        .expect("the call ends in time")
        .expect("the call connects");
    let served = tokio::time::timeout(WAIT, served)
        .await
        .expect("the bridge ends in time")
        .expect("the bridge task does not panic");
    (record, served)
}

/// Agent item audio: one byte value per item, so the caller's record tells them apart.
const FIRST: u8 = 0x1A;
const SECOND: u8 = 0x2B;
const THIRD: u8 = 0x3C;

/// Two turns and a barge-in: the first answer plays out whole, the caller talks over the
/// second, and the truncation matches what the caller heard of it, to the frame.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_turns_and_a_barge_in_truncate_at_what_the_caller_heard() {
    init_logs();
    let script = Script::new()
        .turn(Turn::new().say("One.", Audio::Raw(vec![FIRST; 2400]))) // 300 ms
        .turn(Turn::new().say("Two is a longer answer.", Audio::Raw(vec![SECOND; 8000]))) // 1 s
        .fallback(Turn::new().say("Okay.", Audio::Raw(vec![THIRD; 800]))) // 100 ms
        .delta_duration(ms(20));
    let mock = MockServer::builder().script(script).start().await.unwrap();
    let (url, served) = serve_one_call(agent(&mock), BridgeConfig::default()).await;

    // Speech, 200 ms silence ends the turn; the answer plays; speech again; the second
    // answer starts at about 1.8 s and the caller talks over it from 2.1 s.
    let caller = CallerAudio::speech([
        (ms(200), ms(500)),
        (ms(1300), ms(1600)),
        (ms(2100), ms(2400)),
    ]);
    let call = CallScript::new(url)
        .caller_audio(caller)
        .hang_up_after(ms(3200));
    let (record, served) = run_call(call, served).await;
    let report = &served.report;
    let session = mock.session(0, WAIT).await.unwrap();

    assert_eq!(record.end, CallEnd::HungUp);
    assert!(record.issues.is_empty(), "{:?}", record.issues);
    assert_eq!(report.outcome.ended_by, Side::Call, "{:?}", report.outcome);
    assert!(matches!(
        &report.outcome.reason,
        EndReason::CallEnded {
            end: LegEnd::Finished
        }
    ));
    // The first and the last answers were heard whole; the second was cut by one clear.
    assert_eq!(heard(&record, FIRST), 2400);
    assert_eq!(heard(&record, THIRD), 800);
    assert_eq!(record.clears.len(), 1, "{:?}", record.clears);

    // One truncation, of the second item, accepted by the service.
    let truncates: Vec<_> = session
        .received()
        .into_iter()
        .filter(|r| r.event_type.as_deref() == Some("conversation.item.truncate"))
        .collect();
    assert_eq!(truncates.len(), 1, "{:?}", session.received_types());
    let truncate = &truncates[0];
    assert!(truncate.refused.is_none(), "{:?}", truncate.refused);
    let audio_end_ms = truncate.json()["audio_end_ms"].as_i64().unwrap();

    // Within one frame of what the simulator says the caller heard of that item (plus
    // scheduling slack: see `REAL_TIME_SLACK_MS`).
    let heard_ms = (heard(&record, SECOND) / 8) as i64;
    tracing::info!(
        audio_end_ms,
        heard_ms,
        "barge-in: truncation against what was heard"
    );
    assert!(
        (audio_end_ms - heard_ms).abs() <= REAL_TIME_SLACK_MS,
        "truncated at {audio_end_ms} ms, the caller heard {heard_ms} ms"
    );
    assert!(
        heard_ms > 100 && heard_ms < 900,
        "the barge-in came mid-answer: {heard_ms} ms"
    );

    // The report tells the same story.
    assert_eq!(report.barge_ins.len(), 1, "{:?}", report.barge_ins);
    let barge_in = &report.barge_ins[0];
    assert_eq!(barge_in.truncated_ms, Some(audio_end_ms as u32));
    assert_eq!(
        barge_in.item_id.as_ref().map(|i| i.as_str()),
        truncate.json()["item_id"].as_str()
    );
    assert!(
        barge_in.sent_ms >= 900,
        "the whole answer had been sent: {barge_in:?}"
    );
    assert!(report.timings.turns.len() >= 2, "{:?}", report.timings);
    assert!(
        report
            .transcript
            .iter()
            .any(|line| line.speaker == Speaker::Agent && line.text == "One."),
        "{:?}",
        report.transcript
    );
    // Mu-law both ways: nothing was transcoded, nothing refused or lost on the way.
    let counters = report.counters;
    assert_eq!(counters.frames_transcoded, 0);
    assert_eq!(counters.frames_refused, 0);
    assert!(counters.marks_cleared > 0, "{counters:?}");
    assert_eq!(
        served.twilio.decode_errors + served.twilio.rule_violations,
        0
    );
    assert_eq!(served.twilio.media_frames, record.media_frames_sent);
}

/// The agent sends its answer in 200 ms deltas: the bridge sends each as one message with
/// one mark, and the truncation is still within one frame of what the caller heard (from
/// the last echo alone it could be off by a whole delta; the clock fills in the rest).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_agent_deltas_go_out_whole_and_still_truncate_within_a_frame_of_what_was_heard() {
    init_logs();
    let script = Script::new()
        .turn(Turn::new().say("A long answer.", Audio::Raw(vec![SECOND; 16_000]))) // 2 s
        .fallback(Turn::new().say("Okay.", Audio::Raw(vec![THIRD; 800]))) // 100 ms
        .delta_duration(ms(200));
    let mock = MockServer::builder().script(script).start().await.unwrap();
    let (url, served) = serve_one_call(agent(&mock), BridgeConfig::default()).await;

    // Speech, 200 ms of silence ends the turn, the answer starts at about 0.7 s and the
    // caller talks over it from 1.4 s: about 700 ms heard, in the middle of a delta.
    let caller = CallerAudio::speech([(ms(200), ms(500)), (ms(1400), ms(1700))]);
    let call = CallScript::new(url)
        .caller_audio(caller)
        .hang_up_after(ms(2300));
    let (record, served) = run_call(call, served).await;
    let report = &served.report;
    let session = mock.session(0, WAIT).await.unwrap();

    assert!(record.issues.is_empty(), "{:?}", record.issues);
    assert_eq!(record.clears.len(), 1, "{:?}", record.clears);
    let truncates: Vec<_> = session
        .received()
        .into_iter()
        .filter(|r| r.event_type.as_deref() == Some("conversation.item.truncate"))
        .collect();
    assert_eq!(truncates.len(), 1, "{:?}", session.received_types());
    let truncate = &truncates[0];
    assert!(truncate.refused.is_none(), "{:?}", truncate.refused);
    let audio_end_ms = truncate.json()["audio_end_ms"].as_i64().unwrap();
    // What the caller had heard when the simulator echoed the last mark before the clear
    // (all of it this answer's audio: nothing else had played yet).
    let clear_at = record.clears[0].at;
    let at_last_echo = record
        .marks
        .iter()
        .filter(|m| !m.cleared && m.echoed_at.is_some_and(|at| at <= clear_at))
        .filter_map(|m| m.heard_bytes_at_echo)
        .max()
        .unwrap_or(0);
    let at_last_echo_ms = (at_last_echo / 8) as i64;
    let heard_ms = (heard(&record, SECOND) / 8) as i64;
    let story = format!(
        "truncated at {audio_end_ms} ms; heard {at_last_echo_ms} ms at the last echo, \
         {heard_ms} ms at the clear; {:?}",
        report.barge_ins
    );
    // One mark per 200 ms message: the last echo alone would leave the truncation up to
    // 200 ms behind. The bridge adds the time played since that echo, so it is never
    // short of the echo (`audio_end_ms` is rounded down: 1 ms)...
    assert!(audio_end_ms + 1 >= at_last_echo_ms, "{story}");
    // ...and within one 20 ms packet of what the simulator had played at the clear (it
    // plays in 20 ms packets; the bridge's clock runs smoothly), plus scheduling slack.
    assert!(
        (audio_end_ms - heard_ms).abs() <= REAL_TIME_SLACK_MS,
        "{story}"
    );
    assert!(
        heard_ms > 100 && heard_ms < 1900,
        "the barge-in came mid-answer: {heard_ms} ms"
    );
    // Each 200 ms delta went out whole, as one message with one mark (not cut into ten
    // frames with ten marks).
    let counters = report.counters;
    assert_eq!(counters.agent_frames_sent, counters.marks_sent);
    assert!(
        counters.agent_frames_sent <= counters.agent_frames,
        "{counters:?}"
    );
    assert_eq!(counters.frames_transcoded, 0);
}

/// The caller hangs up: the AI session is closed (by a close frame, not a dropped socket)
/// within a second of the `stop`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_session_closes_within_a_second_of_the_callers_stop() {
    init_logs();
    let script = Script::new().fallback(Turn::new().say("Hello.", Audio::Raw(vec![FIRST; 1600])));
    let mock = MockServer::builder().script(script).start().await.unwrap();
    let (url, served) = serve_one_call(agent(&mock), BridgeConfig::default()).await;
    let call = CallScript::new(url)
        .caller_audio(CallerAudio::speech([(ms(100), ms(400))]))
        .hang_up_after(ms(1000));
    let call = tokio::spawn(call.run());

    let session = mock.session(0, WAIT).await.unwrap();
    let ended = tokio::spawn(async move {
        let closes = session
            .wait_ended(CALL_LIMIT)
            .await
            .expect("the session ends");
        (Instant::now(), closes)
    });
    let record = tokio::time::timeout(CALL_LIMIT, call)
        .await
        .expect("the call ends in time")
        .unwrap()
        .expect("the call connects");
    let served = tokio::time::timeout(WAIT, served).await.unwrap().unwrap();
    let (ended_at, (_, client_close)) = ended.await.unwrap();

    assert_eq!(record.end, CallEnd::HungUp);
    let stop_at = served.stop_at.expect("the server saw the stop");
    let after = ended_at.saturating_duration_since(stop_at);
    tracing::info!(?after, "agent session ended after the stop");
    assert!(
        after < Duration::from_secs(1),
        "the session outlived the call by {after:?}"
    );
    assert_eq!(
        client_close.map(|c| c.code),
        Some(1000),
        "closed by the bridge"
    );
    assert!(matches!(
        served.report.outcome.reason,
        EndReason::CallEnded {
            end: LegEnd::Finished
        }
    ));
    assert!(heard(&record, FIRST) > 0, "the call was a real one");
}

/// The agent refuses the handshake with 401: the caller is handed back to the call's own
/// TwiML (the socket closed cleanly), and the report names the refusal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_at_connect_hands_the_call_over_with_the_cause_in_the_report() {
    init_logs();
    let mock = MockServer::start().await.unwrap();
    mock.refuse_upgrades(HttpRefusal::unauthorized());
    let (url, served) = serve_one_call(agent(&mock), BridgeConfig::default()).await;
    let call = CallScript::new(url)
        .caller_audio(CallerAudio::speech([(ms(100), ms(400))]))
        .max_duration(ms(10_000));
    let (record, served) = run_call(call, served).await;
    let report = &served.report;

    // A clean end: the server closed the stream with a normal close frame.
    assert_eq!(record.end, CallEnd::ServerClosed);
    assert_eq!(record.close.as_ref().map(|c| c.code), Some(1000));
    assert!(record.issues.is_empty(), "{:?}", record.issues);
    assert!(
        record.duration < Duration::from_secs(5),
        "{:?}",
        record.duration
    );
    // The fallback, and the cause.
    assert_eq!(
        report.outcome.fallback,
        Some(FallbackUsed::HandOver {
            to: HandOver::Continue
        })
    );
    assert_eq!(report.outcome.ended_by, Side::Agent);
    let EndReason::AgentNotStarted {
        end: LegEnd::Refused { status, detail },
    } = &report.outcome.reason
    else {
        panic!("{:?}", report.outcome)
    };
    assert_eq!(*status, Some(401));
    assert!(detail.contains("invalid_api_key"), "{detail}");
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.side == Side::Agent && e.fatal),
        "{:?}",
        report.errors
    );
    assert_eq!(mock.refused_upgrades(), 1);
}

/// The agent's session closes with 1011 mid-call: the caller hears the fallback prompt
/// whole, then the call is hung up; the report names the close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_1011_close_mid_call_plays_the_fallback_with_the_cause_in_the_report() {
    init_logs();
    const PROMPT: u8 = 0x5D;
    let mock = MockServer::start().await.unwrap();
    let mut config = BridgeConfig::default();
    let prompt = AudioChunk::from_bytes(AudioFormat::MuLaw, vec![PROMPT; 1600]).unwrap(); // 200 ms
    config.fallback = Fallback::Audio(prompt);
    let (url, served) = serve_one_call(agent(&mock), config).await;
    let call = CallScript::new(url)
        .caller_audio(CallerAudio::speech([(ms(100), ms(300))]))
        .max_duration(ms(10_000));
    let call = tokio::spawn(call.run());

    // Mid-call: the session is up and the caller's audio flows; then the service fails.
    let session: MockSession = mock.session(0, WAIT).await.unwrap();
    session
        .wait_for_nth("input_audio_buffer.append", 5, WAIT)
        .await
        .unwrap();
    session.close(1011, "internal server error").await;

    let record = tokio::time::timeout(CALL_LIMIT, call)
        .await
        .expect("the call ends in time")
        .unwrap()
        .expect("the call connects");
    let served = tokio::time::timeout(WAIT, served).await.unwrap().unwrap();
    let report = &served.report;

    assert_eq!(heard(&record, PROMPT), 1600, "the whole prompt was heard");
    assert_eq!(record.end, CallEnd::ServerClosed);
    assert_eq!(record.close.as_ref().map(|c| c.code), Some(1000));
    assert!(record.issues.is_empty(), "{:?}", record.issues);
    assert_eq!(
        report.outcome.fallback,
        Some(FallbackUsed::Audio { heard: true })
    );
    assert_eq!(report.outcome.ended_by, Side::Agent);
    assert_eq!(
        report.outcome.reason,
        EndReason::AgentEnded {
            end: LegEnd::Closed {
                code: Some(1011),
                reason: "internal server error".into()
            }
        }
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| e.side == Side::Agent && e.message.contains("1011")),
        "{:?}",
        report.errors
    );
}
