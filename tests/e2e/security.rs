//! Every request is checked: the upgrade's `X-Twilio-Signature` (403 otherwise), the
//! stream's signed context (close 1008 `call context refused: …` otherwise: after the upgrade a close
//! code is what is left of HTTP), and every webhook's signature (403).

use std::time::{Duration, SystemTime};

use twilio_media_stream::signature::{AuthToken, sign};
use twilio_media_stream::simulator::{CallEnd, CallScript};
use voice_agent::appointment::Appointment;
use voice_agent::config::derive_context_secret;
use voice_agent::outbound;

use crate::logs::{self, Logs};
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

/// The one WARN line a refusal logged, checked for `words`.
fn one_warning(logs: &Logs, words: &[&str]) -> String {
    let warnings = logs.warnings();
    assert_eq!(warnings.len(), 1, "one line per refusal: {warnings:#?}");
    let line = warnings.into_iter().next().unwrap();
    for word in words {
        assert!(line.contains(word), "{word:?} missing from {line:?}");
    }
    line
}

#[test]
fn a_stream_without_a_signature_gets_403() {
    let ((), logs) = logs::run(0, |_| async {
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
    });
    // The upgrade carries no call ids: the route and the reason say what was refused.
    one_warning(
        &logs,
        &[
            "media stream refused",
            "/media-stream",
            "403",
            "no X-Twilio-Signature",
        ],
    );
}

#[test]
fn a_stream_with_a_forged_signature_gets_403() {
    let ((), logs) = logs::run(0, |_| async {
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
    });
    one_warning(
        &logs,
        &[
            "media stream refused",
            "/media-stream",
            "403",
            "does not match",
        ],
    );
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

/// Runs a validly signed stream with these custom parameters; the server must close it,
/// and log one line with the reason and the stream's ids.
fn refused_context(name: &str, parameters: Vec<(String, String)>, expect: &str) {
    let (record, logs) = logs::run(0, |_| async {
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
        let close = record.close.clone().expect("a close frame");
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
        record
    });
    one_warning(
        &logs,
        &[
            "call context refused",
            expect,
            &format!("call_sid={}", record.call_sid),
            &format!("stream_sid={}", record.stream_sid),
        ],
    );
}

#[test]
fn a_tampered_context_is_refused() {
    let mut parameters = context(SystemTime::now());
    for (name, value) in &mut parameters {
        if name == "apt_when" {
            *value = "never".into();
        }
    }
    refused_context("tampered", parameters, "does not match");
}

#[test]
fn an_expired_context_is_refused() {
    let parameters = context(SystemTime::now() - Duration::from_secs(11 * 60));
    refused_context("expired", parameters, "expired");
}

#[test]
fn a_stream_without_a_context_is_refused() {
    refused_context("no-context", Vec::new(), "no signature");
}

const WEBHOOK_BODY: &str =
    "AccountSid=AC0123456789abcdef0123456789abcdef&CallSid=CA1&CallStatus=ringing";

/// Posts the status webhook body with this `X-Twilio-Signature` (none if `None`).
async fn post_status(
    addr: std::net::SocketAddr,
    route: &str,
    signature: Option<&str>,
) -> reqwest::Response {
    let mut request = support::http()
        .post(format!("http://{addr}{route}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(WEBHOOK_BODY);
    if let Some(signature) = signature {
        request = request.header("x-twilio-signature", signature);
    }
    request.send().await.unwrap()
}

fn webhook_params() -> Vec<(String, String)> {
    form_urlencoded::parse(WEBHOOK_BODY.as_bytes())
        .into_owned()
        .collect()
}

#[test]
fn an_unsigned_webhook_gets_403_and_one_log_line() {
    let ((), logs) = logs::run(0, |_| async {
        let (addr, _out) = bot("unsigned-webhook").await;
        let response = post_status(addr, "/twilio/status?apt_id=apt_1", None).await;
        assert_eq!(response.status(), 403);
    });
    one_warning(
        &logs,
        &[
            "webhook refused",
            "/twilio/status",
            "403",
            "no X-Twilio-Signature",
            "call_sid=CA1",
        ],
    );
}

#[test]
fn a_forged_webhook_gets_403_and_one_log_line() {
    let ((), logs) = logs::run(0, |_| async {
        let (addr, _out) = bot("forged-webhook").await;
        let public_url = format!("https://{PUBLIC_HOST}/twilio/status?apt_id=apt_1");
        let forged = sign(
            &AuthToken::new("not the token"),
            &public_url,
            webhook_params(),
        );
        let response = post_status(addr, "/twilio/status?apt_id=apt_1", Some(&forged)).await;
        assert_eq!(response.status(), 403);
        assert!(response.text().await.unwrap().contains("does not match"));
    });
    one_warning(
        &logs,
        &[
            "webhook refused",
            "/twilio/status",
            "403",
            "does not match",
            "call_sid=CA1",
        ],
    );
}

#[tokio::test]
async fn a_signature_covers_its_own_webhook_url_only() {
    let (addr, _out) = bot("webhooks").await;
    let public_url = format!("https://{PUBLIC_HOST}/twilio/status?apt_id=apt_1");
    let good = sign(&AuthToken::new(AUTH_TOKEN), &public_url, webhook_params());
    for (route, expected) in [("/twilio/status?apt_id=apt_1", 204), ("/twilio/amd", 403)] {
        let response = post_status(addr, route, Some(&good)).await;
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
