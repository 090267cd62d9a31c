//! Warm agent sessions in the bot: the signed `ringing` status callback opens the agent
//! session, the call's stream takes it (one session in all, the greeting ready at the
//! start), and a call that is not answered closes its session at its `no-answer`.

use std::time::{Duration, SystemTime};

use openai_realtime::mock::MockServer;
use twilio_media_stream::context::SignedContext;
use twilio_media_stream::ids::CallSid;
use twilio_media_stream::signature::{AuthToken, sign};
use twilio_media_stream::simulator::{CallScript, CallerAudio};
use voice_agent::appointment::Appointment;
use voice_agent::config::{PublicUrl, derive_context_secret};

use crate::support::{self, AUTH_TOKEN, Create, PUBLIC_HOST};

const CALL_SID: &str = "CA00000000000000000000000000000077";
const WAIT: Duration = Duration::from_secs(10);

/// Posts the call's status callback as Twilio would: to the URL the call was placed with,
/// signed with the account's token.
async fn status(addr: std::net::SocketAddr, signed: &SignedContext, call_status: &str) {
    let public = PublicUrl::parse(PUBLIC_HOST).unwrap();
    let url = voice_agent::server::status_callback_url(&public, signed.parameters());
    let form = vec![
        ("CallSid".to_owned(), CALL_SID.to_owned()),
        ("AccountSid".to_owned(), support::ACCOUNT_SID.to_owned()),
        ("CallStatus".to_owned(), call_status.to_owned()),
    ];
    let signature = sign(&AuthToken::new(AUTH_TOKEN), &url, form.clone());
    let path = url.strip_prefix(&format!("https://{PUBLIC_HOST}")).unwrap();
    let response = support::http()
        .post(format!("http://{addr}{path}"))
        .header("x-twilio-signature", signature)
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204, "{call_status}");
}

fn signed() -> SignedContext {
    let secret = derive_context_secret(AUTH_TOKEN);
    voice_agent::outbound::sign(&Appointment::demo(), &secret, SystemTime::now()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ringing_callback_opens_the_session_the_stream_takes() {
    let appointment = Appointment::demo();
    let mock = MockServer::builder()
        .script(
            voice_agent::demo::script(&appointment).response_latency(Duration::from_millis(800)),
        )
        .start()
        .await
        .unwrap();
    let twilio = support::stand_in(Create::Created(CALL_SID)).await;
    let out = support::temp_dir("warm");
    let config = support::config(&mock.url(), &twilio.url, &out);
    let (addr, bot) = support::serve_bot(&config).await;
    let signed = signed();

    // Ringing: the agent session opens and is asked for the greeting.
    status(addr, &signed, "ringing").await;
    let session = mock.session(0, WAIT).await.unwrap();
    session.wait_for("response.create", WAIT).await.unwrap();
    // The greeting is generated while the phone rings.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    status(addr, &signed, "in-progress").await;
    assert_eq!(bot.warm.as_ref().unwrap().len(), 1);

    let record = CallScript::new(format!("ws://{addr}/media-stream"))
        .call_sid(CallSid::new(CALL_SID))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url(format!("wss://{PUBLIC_HOST}/media-stream"))
        .parameters(signed.parameters())
        .caller_audio(CallerAudio::silence())
        .max_duration(Duration::from_secs(3))
        .run()
        .await
        .unwrap();
    assert!(record.heard_ms() > 0, "{record:?}");
    let lines = support::wait_outcome_lines(&out, 1).await;
    assert_eq!(mock.sessions().len(), 1, "the stream took the warm session");
    assert!(bot.warm.as_ref().unwrap().is_empty());
    let report: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            std::path::Path::new(lines[0]["folder"].as_str().unwrap()).join("report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let timings = &report["report"]["timings"];
    let first_audio = timings["first_agent_audio_ms"].as_u64().unwrap()
        - timings["call_started_ms"].as_u64().unwrap();
    // Cold, the callee would wait for the handshake and the service's 800 ms.
    assert!(first_audio < 400, "{first_audio} ms: {timings}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_not_answered_closes_its_warm_session() {
    let mock = MockServer::start().await.unwrap();
    let twilio = support::stand_in(Create::Created(CALL_SID)).await;
    let out = support::temp_dir("warm-no-answer");
    let config = support::config(&mock.url(), &twilio.url, &out);
    let (addr, bot) = support::serve_bot(&config).await;
    let signed = signed();

    status(addr, &signed, "ringing").await;
    let session = mock.session(0, WAIT).await.unwrap();
    session.wait_for("session.update", WAIT).await.unwrap();
    status(addr, &signed, "no-answer").await;
    // The bot ends the session at once (with a normal close once it is confirmed; while
    // it is still being confirmed, by dropping the socket), not the service at its limit.
    let (server_close, client_close) = session.wait_ended(WAIT).await.unwrap();
    assert!(
        client_close.as_ref().is_none_or(|c| c.code == 1000),
        "{client_close:?}"
    );
    assert!(server_close.is_none(), "{server_close:?}");
    assert!(bot.warm.as_ref().unwrap().is_empty());
    // A status callback without the signed context opens nothing.
    let response = support::http()
        .post(format!("http://{addr}/twilio/status?apt_id=apt_1"))
        .form(&[("CallSid", CALL_SID), ("CallStatus", "ringing")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "unsigned");
    assert_eq!(mock.sessions().len(), 1);
}
