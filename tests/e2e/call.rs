//! `call` against a loopback stand-in for Twilio's REST API.

use std::time::Duration;

use serde_json::json;
use tokio::net::TcpListener;
use voice_agent::appointment::Appointment;
use voice_agent::calls::{self, Waits};

use crate::support::{self, Create, TO};

fn waits() -> Waits {
    Waits {
        unanswered: Duration::from_secs(20),
        after_stream: Duration::from_millis(200),
    }
}

#[tokio::test]
async fn a_twilio_rest_error_is_shown_with_its_code() {
    let twilio = support::stand_in(Create::Refused(
        400,
        json!({
            "code": 21211,
            "message": "The 'To' number +15550000000 is not a valid phone number.",
            "more_info": "https://www.twilio.com/docs/errors/21211",
            "status": 400
        }),
    ))
    .await;
    let out = support::temp_dir("rest-error");
    let config = support::config("ws://127.0.0.1:9/v1/realtime", &twilio.url, &out);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();

    let err = calls::call(
        &config,
        listener,
        Appointment::demo(),
        "+15550000000",
        waits(),
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("Twilio refused the call: error 21211"),
        "{err}"
    );
    assert!(err.contains("is not a valid phone number"), "{err}");
    let lines = support::outcome_lines(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["outcome"], "call_failed");
    assert_eq!(lines[0]["appointment_id"], "apt_demo_42");
    assert!(
        lines[0]["why"].as_str().unwrap().contains("21211"),
        "{lines:?}"
    );
}

const CALL_SID: &str = "CA00000000000000000000000000000042";

/// Waits for the stand-in's next request.
async fn next(twilio: &mut support::StandIn) -> support::Received {
    tokio::time::timeout(Duration::from_secs(10), twilio.requests.recv())
        .await
        .expect("a request to the stand-in in time")
        .expect("the stand-in is running")
}

fn expected_basic_auth() -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            support::ACCOUNT_SID,
            support::AUTH_TOKEN
        ))
    )
}

/// The whole call, with everything the server logs captured: no secret in any line.
#[test]
fn call_places_the_call_and_serves_its_signed_stream() {
    let ((), logs) = crate::logs::run(2, |logs| async move {
        use openai_realtime::mock::MockServer;
        use twilio_media_stream::ids::CallSid;
        use twilio_media_stream::signature::AuthToken;
        use twilio_media_stream::simulator::{CallScript, CallerAudio};

        let appointment = Appointment::demo();
        let mock = MockServer::builder()
            .api_key(support::OPENAI_API_KEY)
            .script(voice_agent::demo::script(&appointment))
            .start()
            .await
            .unwrap();
        let mut twilio = support::stand_in(Create::Created(CALL_SID)).await;
        let out = support::temp_dir("call");
        let config = support::config(&mock.url(), &twilio.url, &out);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let call =
            tokio::spawn(
                async move { calls::call(&config, listener, appointment, TO, waits()).await },
            );

        // The REST request: basic auth and the form.
        let create = next(&mut twilio).await;
        assert_eq!(create.method, "POST");
        assert_eq!(
            create.path,
            format!("/2010-04-01/Accounts/{}/Calls.json", support::ACCOUNT_SID)
        );
        assert_eq!(
            create.authorization.as_deref(),
            Some(expected_basic_auth().as_str())
        );
        assert_eq!(create.one("To"), Some(TO));
        assert_eq!(create.one("From"), Some(support::FROM));
        let twiml = create.one("Twiml").expect("inline TwiML");
        let (stream_url, parameters) = support::stream_of(twiml);
        assert_eq!(stream_url, "wss://bot.example.test/media-stream");
        assert_eq!(parameters["apt_name"], "Jane Doe");
        assert_eq!(parameters["apt_when"], "Tuesday, March 3 at 10:30 AM");
        assert!(parameters["ctx_sig"].starts_with("v1."), "{parameters:?}");
        let fallback = twiml
            .split("</Connect>")
            .nth(1)
            .expect("TwiML after </Connect>");
        assert!(
            fallback.starts_with("<Say>Sorry, our assistant is not available"),
            "{fallback}"
        );
        assert!(fallback.ends_with("<Hangup /></Response>"), "{fallback}");
        // The status callback carries the signed appointment (the ringing one opens the
        // agent session), as the AMD callback does.
        let status_callback = create.one("StatusCallback").unwrap();
        assert!(
            status_callback.starts_with("https://bot.example.test/twilio/status?")
                && status_callback.contains("&apt_id=apt_demo_42&"),
            "{status_callback}"
        );
        assert!(status_callback.contains("ctx_sig=v1."), "{status_callback}");
        assert_eq!(
            create.all("StatusCallbackEvent"),
            ["initiated", "ringing", "answered", "completed"]
        );
        assert_eq!(create.one("MachineDetection"), Some("DetectMessageEnd"));
        assert_eq!(create.one("AsyncAmd"), Some("true"));
        let amd = create.one("AsyncAmdStatusCallback").unwrap();
        assert!(
            amd.starts_with("https://bot.example.test/twilio/amd?") && amd.contains("ctx_sig="),
            "{amd}"
        );

        // Twilio connects the stream from that TwiML, signed as Twilio signs it.
        let record = CallScript::new(format!("ws://{addr}/media-stream"))
            .auth_token(AuthToken::new(support::AUTH_TOKEN))
            .signature_url(&stream_url)
            .call_sid(CallSid::new(CALL_SID))
            .parameters(parameters)
            .caller_audio(CallerAudio::speech(voice_agent::demo::CALLER_SPEECH))
            .max_duration(Duration::from_secs(45))
            .run()
            .await
            .unwrap();
        assert!(
            !record.clears.is_empty(),
            "the barge-in cleared Twilio's playback"
        );

        let results = tokio::time::timeout(Duration::from_secs(20), call)
            .await
            .expect("call returns")
            .unwrap()
            .unwrap();
        assert!(results.all_reached(1), "{results:?}");
        assert_eq!(results.outcomes[0].outcome, "reschedule_requested");
        assert_eq!(results.outcomes[0].call_sid, CALL_SID);

        // The bot hung up through the REST API, so Twilio does not go on to the fallback.
        let log = twilio.log.lock().unwrap().clone();
        let hang_up = log
            .iter()
            .find(|r| r.path.ends_with(&format!("/Calls/{CALL_SID}.json")))
            .expect("a REST hang-up");
        assert_eq!(hang_up.one("Status"), Some("completed"));
        let lines = support::outcome_lines(&out);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["outcome"], "reschedule_requested");
        // The stream's task logs its last line once the report is on disk.
        assert!(logs.wait_for("call finished").await, "{}", logs.text());
    });
    let text = logs.text();
    assert!(text.contains(CALL_SID), "the capture saw the call: {text}");
    // ...and the REST client's lines, next to where the auth token is used.
    assert!(text.contains(support::ACCOUNT_SID), "{text}");
    for (name, secret) in secrets() {
        assert!(!text.contains(&secret), "the {name} is in the logs: {text}");
    }
}

/// Every secret the bot holds in the tests' configuration, in each form a log could show.
fn secrets() -> Vec<(&'static str, String)> {
    use base64::Engine as _;
    use hmac::{Hmac, Mac};

    // As `config::derive_context_secret` derives it.
    let mut mac =
        <Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(support::AUTH_TOKEN.as_bytes())
            .expect("HMAC takes a key of any length");
    mac.update(b"voice-agent outbound_call call-context v1");
    let context_key = mac.finalize().into_bytes().to_vec();
    let hex: String = context_key.iter().map(|b| format!("{b:02x}")).collect();
    let debug = format!("{:?}", &context_key[..8]);
    let engines = [
        base64::engine::general_purpose::STANDARD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    let mut secrets = vec![
        ("Twilio auth token", support::AUTH_TOKEN.to_owned()),
        (
            "Twilio basic auth",
            expected_basic_auth()
                .trim_start_matches("Basic ")
                .to_owned(),
        ),
        ("OpenAI API key", support::OPENAI_API_KEY.to_owned()),
        ("context signing secret (hex)", hex.clone()),
        ("context signing secret (hex)", hex.to_uppercase()),
        (
            "context signing secret (bytes)",
            debug[..debug.len() - 1].to_owned(),
        ),
    ];
    for engine in engines {
        let encoded = engine.encode(&context_key);
        secrets.push(("context signing secret (base64)", encoded[..40].to_owned()));
    }
    secrets
}

#[tokio::test]
async fn a_machine_gets_the_voicemail_and_the_call_ends_at_its_final_status() {
    use twilio_media_stream::signature::{AuthToken, sign};

    let mut twilio = support::stand_in(Create::Created(CALL_SID)).await;
    let out = support::temp_dir("voicemail");
    let config = support::config("ws://127.0.0.1:9/v1/realtime", &twilio.url, &out);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let call = tokio::spawn(async move {
        calls::call(&config, listener, Appointment::demo(), TO, waits()).await
    });
    let create = next(&mut twilio).await;
    let amd_url = create.one("AsyncAmdStatusCallback").unwrap().to_owned();
    let status_url = create.one("StatusCallback").unwrap().to_owned();

    // Twilio posts the verdict, signed over the URL it was given.
    let post = |public_url: String, form: Vec<(&'static str, &'static str)>| {
        let local = public_url.replace("https://bot.example.test", &format!("http://{addr}"));
        let signature = sign(&AuthToken::new(support::AUTH_TOKEN), &public_url, &form);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        async move {
            support::http()
                .post(local)
                .header("x-twilio-signature", signature)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let status = post(
        amd_url,
        vec![
            ("AccountSid", support::ACCOUNT_SID),
            ("CallSid", CALL_SID),
            ("AnsweredBy", "machine_end_beep"),
            ("MachineDetectionDuration", "4210"),
        ],
    )
    .await;
    assert_eq!(status, 204);

    // The voicemail replaces the call's TwiML.
    let redirect = next(&mut twilio).await;
    assert!(
        redirect.path.ends_with(&format!("/Calls/{CALL_SID}.json")),
        "{redirect:?}"
    );
    let twiml = redirect.one("Twiml").unwrap();
    assert!(
        twiml.contains("<Say>Hello, this is a message for Jane Doe from Bright Smile Dental"),
        "{twiml}"
    );
    assert!(
        twiml.contains("please call 1 4 1 5 5 5 5 0 1 2 3"),
        "{twiml}"
    );
    assert!(twiml.ends_with("<Hangup /></Response>"), "{twiml}");

    let status = post(
        status_url,
        vec![
            ("AccountSid", support::ACCOUNT_SID),
            ("CallSid", CALL_SID),
            ("CallStatus", "completed"),
            ("AnsweredBy", "machine_end_beep"),
        ],
    )
    .await;
    assert_eq!(status, 204);
    let results = tokio::time::timeout(Duration::from_secs(10), call)
        .await
        .expect("call returns at the final status")
        .unwrap()
        .unwrap();
    assert!(results.all_reached(1), "{results:?}");
    assert_eq!(results.outcomes[0].outcome, "voicemail_left");
    assert_eq!(support::outcome_lines(&out)[0]["outcome"], "voicemail_left");
}

#[tokio::test]
async fn batch_paces_its_calls_and_records_every_outcome() {
    use twilio_media_stream::signature::{AuthToken, sign};

    let mut twilio = support::stand_in(Create::Sequential).await;
    let out = support::temp_dir("batch");
    let config = support::config("ws://127.0.0.1:9/v1/realtime", &twilio.url, &out);
    let listener = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut list = Vec::new();
    for (id, to) in [
        ("apt_1", "+14155550101"),
        ("apt_2", "+14155550102"),
        ("apt_3", "+14155550103"),
    ] {
        let mut appointment = Appointment::demo();
        appointment.id = id.to_owned();
        list.push((appointment, to.to_owned()));
    }
    let batch =
        tokio::spawn(async move { calls::batch(&config, listener, list, 20.0, waits()).await });

    // Three calls, at most 20 per second.
    let mut placed = Vec::new();
    for _ in 0..3 {
        let request = next(&mut twilio).await;
        placed.push((tokio::time::Instant::now(), request));
    }
    for pair in placed.windows(2) {
        let gap = pair[1].0 - pair[0].0;
        assert!(
            gap >= Duration::from_millis(40),
            "calls placed {gap:?} apart"
        );
    }
    let tos: Vec<&str> = placed.iter().map(|(_, r)| r.one("To").unwrap()).collect();
    assert_eq!(tos, ["+14155550101", "+14155550102", "+14155550103"]);

    // Nobody answers: Twilio's final status callbacks end each call.
    let http = support::http();
    for (n, (_, request)) in placed.iter().enumerate() {
        let status_url = request.one("StatusCallback").unwrap();
        let call_sid = format!("CA{:032x}", n + 1);
        let form = [
            ("AccountSid", support::ACCOUNT_SID),
            ("CallSid", call_sid.as_str()),
            ("CallStatus", "no-answer"),
        ];
        let signature = sign(&AuthToken::new(support::AUTH_TOKEN), status_url, form);
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let local = status_url.replace("https://bot.example.test", &format!("http://{addr}"));
        let response = http
            .post(local)
            .header("x-twilio-signature", signature)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 204);
    }
    let (results, refused) = tokio::time::timeout(Duration::from_secs(10), batch)
        .await
        .expect("batch returns")
        .unwrap()
        .unwrap();
    assert!(refused.is_empty(), "{refused:?}");
    assert!(!results.all_reached(3));
    let lines = support::outcome_lines(&out);
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l["appointment_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["apt_1", "apt_2", "apt_3"]);
    assert!(
        lines.iter().all(|l| l["outcome"] == "not_answered"),
        "{lines:?}"
    );
}
