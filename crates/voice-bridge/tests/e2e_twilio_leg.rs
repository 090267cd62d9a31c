//! The Twilio leg on its own over loopback: the simulator calls a tokio-tungstenite server
//! whose `TwilioLeg` checks the signed call context, and (feature `twilio-rest`) hangs up
//! and hands over through a loopback stand-in for Twilio's REST API.
#![cfg(feature = "tokio-tungstenite-0_30")]

use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use twilio_media_stream::context::{CallContext, SigningSecret};
use twilio_media_stream::simulator::{CallEnd, CallRecord, CallScript, CallerAudio};
use voice_bridge::adapter::twilio::TungsteniteSocket;
use voice_bridge::{CallEvent, CallLeg, LegEnd, TwilioLeg};

const WAIT: Duration = Duration::from_secs(10);

type Leg = TwilioLeg<TungsteniteSocket<tokio::net::TcpStream>>;

/// Accepts one media stream and hands its leg to `serve`.
async fn server<F, Fut, T>(serve: F) -> (String, JoinHandle<T>)
where
    F: FnOnce(Leg) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send,
    T: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        serve(TwilioLeg::from_websocket(ws)).await
    });
    (url, task)
}

async fn call(script: CallScript) -> CallRecord {
    tokio::time::timeout(WAIT, script.max_duration(Duration::from_secs(5)).run())
        .await
        .expect("the call ends in time")
        .expect("the call connects")
}

fn secret() -> SigningSecret {
    SigningSecret::new(*b"a test secret of at least 32 byt").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_context_is_served_and_a_forged_one_is_closed() {
    let now = SystemTime::now();
    let signed = CallContext::new()
        .field("appointment_id", "apt_42")
        .sign(&secret(), now, Duration::from_secs(600))
        .unwrap();

    // Valid: the leg starts with the verified fields; the server ends the call itself.
    let (url, served) = server(|leg: Leg| async move {
        let mut leg = leg.verify_context(secret());
        let start = leg.wait_start().await;
        leg.send(voice_bridge::CallCommand::HangUp).await.unwrap();
        start
    })
    .await;
    let record = call(CallScript::new(url).parameters(signed.parameters())).await;
    let start = served.await.unwrap().expect("a verified start");
    assert_eq!(start.parameters["appointment_id"], "apt_42");
    assert!(!start.parameters.contains_key("ctx_sig"));
    assert_eq!(start.call_id.as_str(), record.call_sid.as_str());
    assert_eq!(record.end, CallEnd::ServerClosed);

    // Forged: the leg ends with the reason and closes the stream.
    let (url, served) = server(|leg: Leg| async move {
        let mut leg = leg.verify_context(secret());
        leg.wait_start().await
    })
    .await;
    let mut forged = signed.into_map();
    forged.insert("appointment_id".into(), "apt_43".into());
    let record = call(CallScript::new(url).parameters(forged)).await;
    let Err(LegEnd::Failed { message }) = served.await.unwrap() else {
        panic!("a forged context was accepted")
    };
    assert!(message.contains("signature does not match"), "{message}");
    assert_eq!(record.end, CallEnd::ServerClosed);
    // The caller's side sees a refusal (1008) with the reason, not a normal end.
    let close = record.close.expect("a close frame");
    assert_eq!(close.code, 1008, "{close:?}");
    assert_eq!(close.reason, message, "{close:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_stream_maps_to_events_in_order() {
    let (url, served) = server(|mut leg: Leg| async move {
        let stats = leg.stats();
        let mut events = Vec::new();
        loop {
            let event = leg.recv().await.unwrap();
            let end = matches!(event, CallEvent::Ended(_));
            events.push(event);
            if end {
                return (events, stats.counters());
            }
        }
    })
    .await;
    let record = call(
        CallScript::new(url)
            .caller_audio(CallerAudio::tone(440.0))
            .dtmf(Duration::from_millis(100), "4")
            .hang_up_after(Duration::from_millis(300)),
    )
    .await;
    let (events, counters) = served.await.unwrap();
    assert!(matches!(events[0], CallEvent::Started(_)));
    let frames = events
        .iter()
        .filter(|e| matches!(e, CallEvent::Audio(c) if c.byte_len() == 160))
        .count() as u64;
    assert_eq!(frames, record.media_frames_sent);
    assert_eq!(counters.media_frames, frames);
    assert!(events.contains(&CallEvent::Dtmf(voice_bridge::DtmfDigit::new('4'))));
    assert_eq!(events.last(), Some(&CallEvent::Ended(LegEnd::Finished)));
    assert_eq!(counters.decode_errors + counters.rule_violations, 0);
}

#[cfg(feature = "twilio-rest")]
mod rest {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::sync::mpsc;
    use twilio_media_stream::AuthToken;
    use twilio_media_stream::rest::Client;
    use voice_bridge::{CallCommand, HandOver};

    use super::*;

    const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";

    /// A loopback stand-in for Twilio's REST API: answers each request with the call
    /// resource (or `status`) and reports the request line and body.
    async fn rest_api(status: u16) -> (Client, mpsc::UnboundedReceiver<(String, String)>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let mut buffer = Vec::new();
                let (head, body) = loop {
                    let mut chunk = [0u8; 4096];
                    let n = socket.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "request cut short");
                    buffer.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buffer).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break (head.to_owned(), body.to_owned());
                        }
                    }
                };
                let request_line = head.lines().next().unwrap_or_default().to_owned();
                tx.send((request_line, body)).unwrap();
                let answer = if status == 200 {
                    format!(r#"{{"sid":"CA1","account_sid":"{ACCOUNT}","status":"in-progress"}}"#)
                } else {
                    r#"{"code":21220,"message":"Call is not in-progress. Cannot redirect.","more_info":"https://www.twilio.com/docs/errors/21220","status":400}"#.to_owned()
                };
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{answer}",
                    answer.len()
                );
                socket.write_all(response.as_bytes()).await.unwrap();
                socket.shutdown().await.ok();
            }
        });
        let client = Client::builder(ACCOUNT, AuthToken::new("test-token"))
            .base_url(base)
            .build()
            .unwrap();
        (client, rx)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn with_rest_a_hand_over_to_twiml_is_a_redirect_and_hang_up_a_status_update() {
        let (client, mut requests) = rest_api(200).await;
        let rest = client.clone();
        let (url, served) = server(move |leg: Leg| async move {
            let mut leg = leg.with_rest(rest);
            let start = leg.wait_start().await.unwrap();
            assert!(start.capabilities.markup && start.capabilities.url);
            let twiml = "<Response><Say>Bye</Say></Response>".to_owned();
            leg.send(CallCommand::HandOver(HandOver::Markup(twiml)))
                .await
                .unwrap();
            start
        })
        .await;
        let record = call(CallScript::new(url)).await;
        let start = served.await.unwrap();
        let (line, body) = requests.recv().await.unwrap();
        assert_eq!(
            line,
            format!(
                "POST /2010-04-01/Accounts/{ACCOUNT}/Calls/{}.json HTTP/1.1",
                start.call_id
            )
        );
        assert!(body.contains("Twiml=%3CResponse%3E%3CSay%3EBye"), "{body}");
        // The stream is closed after the redirect.
        assert_eq!(record.end, CallEnd::ServerClosed);

        let (url, served) = server(move |leg: Leg| async move {
            let mut leg = leg.with_rest(client);
            leg.wait_start().await.unwrap();
            leg.send(CallCommand::HangUp).await.unwrap();
        })
        .await;
        let record = call(CallScript::new(url)).await;
        served.await.unwrap();
        let (_, body) = requests.recv().await.unwrap();
        assert_eq!(body, "Status=completed");
        assert_eq!(record.end, CallEnd::ServerClosed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_redirect_is_an_error_and_the_stream_still_ends() {
        let (client, _requests) = rest_api(400).await;
        let (url, served) = server(move |leg: Leg| async move {
            let mut leg = leg.with_rest(client);
            leg.wait_start().await.unwrap();
            leg.send(CallCommand::HandOver(HandOver::Url(
                "https://bot.example.com/after".into(),
            )))
            .await
        })
        .await;
        let record = call(CallScript::new(url)).await;
        let error = served.await.unwrap().unwrap_err();
        let cause = LegEnd::from(&error).to_string();
        assert!(
            cause.contains("21220"),
            "the cause names Twilio's error: {cause}"
        );
        assert_eq!(
            record.end,
            CallEnd::ServerClosed,
            "TwiML after </Connect> runs"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_hang_up_is_an_error_and_the_stream_still_ends() {
        let (client, _requests) = rest_api(400).await;
        let (url, served) = server(move |leg: Leg| async move {
            let mut leg = leg.with_rest(client);
            leg.wait_start().await.unwrap();
            leg.send(CallCommand::HangUp).await
        })
        .await;
        let record = call(CallScript::new(url)).await;
        let error = served.await.unwrap().unwrap_err();
        let cause = LegEnd::from(&error).to_string();
        assert!(
            cause.contains("21220"),
            "the cause names Twilio's error: {cause}"
        );
        assert_eq!(record.end, CallEnd::ServerClosed);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_silent_rest_api_does_not_hold_the_stream_past_the_bridges_bound() {
        // Twilio's API accepts the connection and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        let client = Client::builder(ACCOUNT, AuthToken::new("test-token"))
            .base_url(base)
            .build()
            .unwrap();
        let (url, served) = server(move |leg: Leg| async move {
            let mut leg = leg.with_rest(client);
            leg.wait_start().await.unwrap();
            let began = std::time::Instant::now();
            let result = leg.send(CallCommand::HangUp).await;
            (result, began.elapsed())
        })
        .await;
        let record = call(CallScript::new(url)).await;
        let (result, took) = served.await.unwrap();
        let error = result.expect_err("the unanswered hang-up is reported");
        assert!(error.to_string().contains("no answer"), "{error}");
        assert!(took < Duration::from_secs(1), "took {took:?}");
        assert_eq!(record.end, CallEnd::ServerClosed);
        assert_eq!(record.close.map(|c| c.code), Some(1000));
    }
}
