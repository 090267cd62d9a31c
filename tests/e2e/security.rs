//! Every request is checked: the upgrade's `X-Twilio-Signature` (403 otherwise), the
//! stream's signed context (close 1008 `call context refused: …` otherwise: after the upgrade a close
//! code is what is left of HTTP), and every webhook's signature (403).

use std::time::{Duration, SystemTime};

use twilio_media_stream::signature::{AuthToken, sign};
use twilio_media_stream::simulator::{CallEnd, CallScript};
use voice_agent::appointment::Appointment;
use voice_agent::config::derive_context_secret;
use voice_agent::outbound;

use crate::support::{self, AUTH_TOKEN, PUBLIC_HOST};

/// A bot whose agent is unreachable: nothing here may get as far as the agent.
async fn bot(name: &str) -> (std::net::SocketAddr, std::path::PathBuf) {
    let out = support::temp_dir(name);
    let config = support::config("ws://127.0.0.1:9/v1/realtime", "http://127.0.0.1:9", &out);
    let (addr, _bot) = support::serve_bot(&config).await;
    (addr, out)
}

fn stream_url() -> String {
    format!("wss://{PUBLIC_HOST}/media-stream")
}

/// A context for the demo appointment signed at `at`.
fn context(at: SystemTime) -> Vec<(String, String)> {
    let secret = derive_context_secret(AUTH_TOKEN);
    outbound::sign(&Appointment::demo(), &secret, at)
        .unwrap()
        .parameters()
        .collect()
}

#[tokio::test]
async fn a_stream_without_a_signature_gets_403() {
    let (addr, _out) = bot("no-signature").await;
    let err = CallScript::new(format!("ws://{addr}/media-stream"))
        .parameters(context(SystemTime::now()))
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(
        err.body().unwrap().contains("no X-Twilio-Signature"),
        "{err}"
    );
}

#[tokio::test]
async fn a_stream_with_a_forged_signature_gets_403() {
    let (addr, _out) = bot("forged-signature").await;
    let err = CallScript::new(format!("ws://{addr}/media-stream"))
        .auth_token(AuthToken::new("00000000000000000000000000000000"))
        .signature_url(stream_url())
        .parameters(context(SystemTime::now()))
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    assert!(err.body().unwrap().contains("does not match"), "{err}");
}

#[tokio::test]
async fn a_signature_for_another_url_gets_403() {
    let (addr, _out) = bot("other-url").await;
    let err = CallScript::new(format!("ws://{addr}/media-stream"))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url("wss://attacker.example/media-stream")
        .parameters(context(SystemTime::now()))
        .run()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
}

/// Runs a validly signed stream with these custom parameters; the server must close it.
async fn refused_context(name: &str, parameters: Vec<(String, String)>, expect: &str) {
    let (addr, out) = bot(name).await;
    let record = CallScript::new(format!("ws://{addr}/media-stream"))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url(stream_url())
        .parameters(parameters)
        .max_duration(Duration::from_secs(10))
        .run()
        .await
        .unwrap();
    assert_eq!(record.end, CallEnd::ServerClosed, "{record:?}");
    let close = record.close.expect("a close frame");
    assert_eq!(close.code, 1008, "{close:?}");
    assert!(
        close.reason.starts_with("call context refused: "),
        "{close:?}"
    );
    assert!(close.reason.contains(expect), "{close:?}");
    assert_eq!(record.media_received, 0, "nothing was served");
    let lines = support::wait_outcome_lines(&out, 1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "stream_refused");
    assert_eq!(lines[0]["call_sid"], record.call_sid.as_str());
}

#[tokio::test]
async fn a_tampered_context_is_refused() {
    let mut parameters = context(SystemTime::now());
    for (name, value) in &mut parameters {
        if name == "apt_when" {
            *value = "never".into();
        }
    }
    refused_context("tampered", parameters, "does not match").await;
}

#[tokio::test]
async fn an_expired_context_is_refused() {
    let parameters = context(SystemTime::now() - Duration::from_secs(11 * 60));
    refused_context("expired", parameters, "expired").await;
}

#[tokio::test]
async fn a_stream_without_a_context_is_refused() {
    refused_context("no-context", Vec::new(), "no signature").await;
}

#[tokio::test]
async fn webhooks_need_a_valid_signature() {
    let (addr, _out) = bot("webhooks").await;
    let http = support::http();
    let body = "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA1&CallStatus=ringing";
    let public_url = format!("https://{PUBLIC_HOST}/twilio/status?apt_id=apt_1");
    let local_url = format!("http://{addr}/twilio/status?apt_id=apt_1");

    let unsigned = http
        .post(&local_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 403);

    let params: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let forged = sign(&AuthToken::new("not the token"), &public_url, &params);
    let response = http
        .post(&local_url)
        .header("x-twilio-signature", forged)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("does not match"));

    let good = sign(&AuthToken::new(AUTH_TOKEN), &public_url, &params);
    for (route, expected) in [("/twilio/status?apt_id=apt_1", 204), ("/twilio/amd", 403)] {
        let response = http
            .post(format!("http://{addr}{route}"))
            .header("x-twilio-signature", &good)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        // The signature covers the status URL only: the same one on /twilio/amd is refused.
        assert_eq!(response.status(), expected, "{route}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_a_token_takes_unsigned_loopback_streams_with_the_demo_appointment() {
    use openai_realtime::mock::{KeyCheck, MockServer};
    use voice_agent::config::{self, AgentOptions, Env, Needs};
    use voice_agent::server::Auth;

    // A local Realtime endpoint that needs no key, as OPENAI_REALTIME_URL may name.
    let mock = MockServer::builder()
        .key_check(KeyCheck::None)
        .start()
        .await
        .unwrap();
    let out = support::temp_dir("unsigned");
    let env = Env::from_pairs([("OPENAI_REALTIME_URL", mock.url())]);
    let options = AgentOptions {
        out_dir: Some(out.clone()),
        ..AgentOptions::default()
    };
    let config = config::load(&env, &options, Needs::Serve).unwrap();
    let (addr, bot) = support::serve_bot(&config).await;
    assert!(matches!(bot.auth, Auth::UnsignedLoopback));

    let record = CallScript::new(format!("ws://{addr}/media-stream"))
        .hang_up_after(Duration::from_millis(1500))
        .run()
        .await
        .unwrap();
    assert_eq!(record.end, CallEnd::HungUp, "{record:?}");
    assert!(record.media_received > 0, "the agent greeted the caller");
    let lines = support::wait_outcome_lines(&out, 1).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["appointment_id"], "apt_demo_42");
    assert_eq!(lines[0]["outcome"], "no_decision");
    assert_eq!(lines[0]["ended_by"], "call");

    // Webhooks cannot be checked without the token: refused.
    let response = support::http()
        .post(format!("http://{addr}/twilio/status"))
        .body("CallSid=CA1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
}
