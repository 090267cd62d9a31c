//! The simulator against tiny loopback media-stream servers (127.0.0.1, port 0): audio
//! heard, marks echoed in order, `clear`, bad frames, a refused upgrade.
//!
//! Real time, short calls (each well under a second): tokio's paused clock jumps ahead
//! whenever the runtime waits on a socket, which real sockets make it do all the time.
//! Assertions that depend on timing only use bounds that a slow machine cannot break.
#![cfg(feature = "simulator")]

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use twilio_media_stream::signature::{AuthToken, RequestValidator, SIGNATURE_HEADER};
use twilio_media_stream::simulator::{CallEnd, CallScript, CallerAudio, SimulatorError};
use twilio_media_stream::{
    MarkOutcome, Payload, SessionError, StreamCommand, StreamEvent, StreamSession, StreamSid,
};

const PUBLIC_URL: &str = "wss://bot.example.com/media-stream";
const TOKEN: &str = "0123456789abcdef0123456789abcdef";

type Ws = WebSocketStream<TcpStream>;

async fn listen() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    (listener, url)
}

/// Accepts one WebSocket; returns it with the upgrade's `X-Twilio-Signature`.
#[allow(
    clippy::result_large_err,
    reason = "the handshake callback's error type is tungstenite's"
)]
async fn accept(listener: &TcpListener) -> (Ws, Option<String>) {
    let (tcp, _) = listener.accept().await.unwrap();
    let mut signature = None;
    let ws = tokio_tungstenite::accept_hdr_async(tcp, |request: &Request, response: Response| {
        signature = request
            .headers()
            .get(SIGNATURE_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Ok(response)
    })
    .await
    .unwrap();
    (ws, signature)
}

/// Reads the next message from the simulator and runs it through the session rules.
async fn next_event(
    ws: &mut Ws,
    session: &mut StreamSession,
) -> (StreamEvent, Option<MarkOutcome>) {
    loop {
        let message = ws.next().await.expect("simulator hung up").unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        let event = StreamEvent::decode(text.as_str()).unwrap();
        let accepted = session.handle(&event).unwrap();
        assert_eq!(accepted.gap, None, "sequence numbers are contiguous");
        return (event, accepted.mark.map(|m| m.outcome));
    }
}

/// Reads until the echo of a mark arrives; returns its name and outcome.
async fn next_mark(ws: &mut Ws, session: &mut StreamSession) -> (String, MarkOutcome) {
    loop {
        if let (StreamEvent::Mark(mark), Some(outcome)) = next_event(ws, session).await {
            return (mark.mark.name.as_str().to_owned(), outcome);
        }
    }
}

async fn send(ws: &mut Ws, command: StreamCommand) {
    ws.send(Message::text(command.encode())).await.unwrap();
}

/// connected + start, checked; returns the stream id.
async fn handshake(ws: &mut Ws, session: &mut StreamSession) -> StreamSid {
    let (connected, _) = next_event(ws, session).await;
    assert_eq!(connected.event_type(), "connected");
    let (start, _) = next_event(ws, session).await;
    assert_eq!(start.event_type(), "start");
    session.stream_sid().unwrap().clone()
}

async fn close(ws: &mut Ws, reason: &str) {
    ws.close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: reason.into(),
    }))
    .await
    .unwrap();
    // Finish the close handshake.
    while ws.next().await.is_some() {}
}

#[tokio::test]
async fn echo_server_audio_is_heard_and_marks_echo_in_order() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (mut ws, signature) = accept(&listener).await;
        let validator = RequestValidator::new(AuthToken::new(TOKEN));
        validator
            .validate_websocket(PUBLIC_URL, signature.as_deref().expect("signed upgrade"))
            .expect("valid signature");
        let mut session = StreamSession::new();
        let sid = handshake(&mut ws, &mut session).await;
        assert_eq!(
            session.custom_parameters().unwrap()["appointment_id"],
            "apt_42"
        );
        // Three 50 ms chunks, each followed by a mark.
        for i in 0..3u8 {
            send(
                &mut ws,
                StreamCommand::media(sid.clone(), Payload::from_mulaw(&[i + 1; 400])),
            )
            .await;
            let name = format!("chunk-{i}");
            session.mark_sent(name.as_str()).unwrap();
            send(&mut ws, StreamCommand::mark(sid.clone(), name)).await;
        }
        let mut echoes = Vec::new();
        for _ in 0..3 {
            echoes.push(next_mark(&mut ws, &mut session).await);
        }
        close(&mut ws, "done").await;
        echoes
    });

    let record = CallScript::new(url)
        .auth_token(AuthToken::new(TOKEN))
        .signature_url(PUBLIC_URL)
        .parameter("appointment_id", "apt_42")
        .caller_audio(CallerAudio::tone(440.0))
        .max_duration(Duration::from_secs(5))
        .run()
        .await
        .unwrap();

    let echoes = server.await.unwrap();
    assert_eq!(
        echoes,
        [
            ("chunk-0".to_owned(), MarkOutcome::Played),
            ("chunk-1".to_owned(), MarkOutcome::Played),
            ("chunk-2".to_owned(), MarkOutcome::Played),
        ]
    );

    let expected: Vec<u8> = [[1u8; 400], [2; 400], [3; 400]].concat();
    assert_eq!(record.heard, expected);
    assert_eq!(record.heard_ms(), 150);
    assert_eq!(record.mark_names(), ["chunk-0", "chunk-1", "chunk-2"]);
    assert_eq!(record.media_received, 3);
    assert!(record.clears.is_empty());
    assert!(record.issues.is_empty(), "{:?}", record.issues);
    assert_eq!(record.end, CallEnd::ServerClosed);
    let close = record.close.as_ref().expect("server close frame");
    assert_eq!((close.code, close.reason.as_str()), (1000, "done"));

    // Each mark is echoed once its chunk has finished playing: at the end of the 20 ms
    // frame that played its last byte, never earlier.
    let first_audio = record.first_audio_played.expect("audio played");
    let mut last_echo = first_audio;
    for (i, mark) in record.marks.iter().enumerate() {
        assert!(!mark.cleared);
        let echoed_at = mark.echoed_at.unwrap();
        assert!(echoed_at >= last_echo, "echoes in order");
        last_echo = echoed_at;
        let chunk_end = Duration::from_millis(50 * (i as u64 + 1));
        // Frames sit on a 20 ms grid and each may fire a few ms late, so the measured gap
        // may fall short of the audio's length by that much (never by a whole frame).
        let jitter = Duration::from_millis(5);
        assert!(
            echoed_at - first_audio + jitter >= chunk_end,
            "{} echoed {:?} after audio started",
            mark.name,
            echoed_at - first_audio
        );
        let heard = mark.heard_bytes_at_echo.unwrap();
        assert!(
            (400 * (i + 1)..400 * (i + 1) + 160).contains(&heard),
            "{heard}"
        );
    }
    assert!(record.media_frames_sent > 0);
}

#[tokio::test]
async fn clear_drops_queued_audio_and_echoes_pending_marks() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (mut ws, _) = accept(&listener).await;
        let mut session = StreamSession::new();
        let sid = handshake(&mut ws, &mut session).await;
        // Two seconds of agent audio in two marked halves.
        for name in ["m1", "m2"] {
            send(
                &mut ws,
                StreamCommand::media(sid.clone(), Payload::from_mulaw(&[5; 8000])),
            )
            .await;
            session.mark_sent(name).unwrap();
            send(&mut ws, StreamCommand::mark(sid.clone(), name)).await;
        }
        // The caller presses a key at 300 ms: barge in.
        loop {
            if let (StreamEvent::Dtmf(dtmf), _) = next_event(&mut ws, &mut session).await {
                assert_eq!(dtmf.dtmf.digit, "1");
                break;
            }
        }
        assert_eq!(session.clear_sent().unwrap(), 2);
        send(&mut ws, StreamCommand::clear(sid.clone())).await;
        let mut echoes = vec![
            next_mark(&mut ws, &mut session).await,
            next_mark(&mut ws, &mut session).await,
        ];
        // Audio sent after a clear plays normally.
        send(
            &mut ws,
            StreamCommand::media(sid.clone(), Payload::from_mulaw(&[7; 800])),
        )
        .await;
        session.mark_sent("m3").unwrap();
        send(&mut ws, StreamCommand::mark(sid.clone(), "m3")).await;
        echoes.push(next_mark(&mut ws, &mut session).await);
        close(&mut ws, "bye").await;
        echoes
    });

    let record = CallScript::new(url)
        .caller_audio(CallerAudio::speech([(
            Duration::from_millis(250),
            Duration::from_millis(600),
        )]))
        .dtmf(Duration::from_millis(300), "1")
        .max_duration(Duration::from_secs(5))
        .run()
        .await
        .unwrap();

    let echoes = server.await.unwrap();
    assert_eq!(
        echoes,
        [
            ("m1".to_owned(), MarkOutcome::Cleared),
            ("m2".to_owned(), MarkOutcome::Cleared),
            ("m3".to_owned(), MarkOutcome::Played),
        ]
    );

    assert_eq!(record.clears.len(), 1);
    let clear = &record.clears[0];
    assert_eq!(clear.marks_echoed, 2);
    let heard_before_clear = record.heard.iter().filter(|&&b| b == 5).count();
    assert_eq!(heard_before_clear + clear.dropped_bytes, 16_000);
    // The clear came right after the DTMF at 300 ms: at most 300 ms of audio (2400 bytes)
    // plus the frames played while the clear was on its way.
    assert!(
        (160..=3_200).contains(&heard_before_clear),
        "{heard_before_clear}"
    );
    assert_eq!(clear.dropped_ms(), clear.dropped_bytes as u64 / 8);
    assert_eq!(&record.heard[heard_before_clear..], &[7; 800]);
    assert_eq!(record.mark_names(), ["m1", "m2", "m3"]);
    let cleared: Vec<bool> = record.marks.iter().map(|m| m.cleared).collect();
    assert_eq!(cleared, [true, true, false]);
    assert_eq!(record.marks[0].echoed_at, Some(clear.at));
    assert_eq!(record.dtmf_sent.len(), 1);
    assert_eq!(record.end, CallEnd::ServerClosed);
    assert!(record.issues.is_empty(), "{:?}", record.issues);
}

#[tokio::test]
async fn scripted_hang_up_sends_stop_and_bad_frames_are_recorded() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (mut ws, _) = accept(&listener).await;
        let mut session = StreamSession::new();
        let sid = handshake(&mut ws, &mut session).await;
        // What Twilio drops with 31950/31951: recorded by the simulator, the call goes on.
        ws.send(Message::text("{not json")).await.unwrap();
        ws.send(Message::text(
            r#"{"event":"media","streamSid":"MZ1","media":{"payload":"AAAA"}}"#,
        ))
        .await
        .unwrap();
        let extra = format!(r#"{{"event":"clear","streamSid":"{sid}","track":"outbound"}}"#);
        ws.send(Message::text(extra)).await.unwrap();
        ws.send(Message::binary(vec![0xFF; 160])).await.unwrap();
        send(
            &mut ws,
            StreamCommand::media(sid.clone(), Payload::from_base64("****")),
        )
        .await;
        let mut media = 0;
        loop {
            match next_event(&mut ws, &mut session).await.0 {
                StreamEvent::Media(_) => media += 1,
                StreamEvent::Stop(stop) => {
                    assert_eq!(stop.stop.call_sid, *session.call_sid().unwrap());
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        // After stop, the simulator closes; the session refuses anything more.
        assert!(matches!(
            session.mark_sent("late"),
            Err(SessionError::NotStreaming { .. })
        ));
        while ws.next().await.is_some() {}
        media
    });

    let record = CallScript::new(url)
        .hang_up_after(Duration::from_millis(200))
        .run()
        .await
        .unwrap();
    let media_seen = server.await.unwrap();

    assert_eq!(record.end, CallEnd::HungUp);
    // One frame every 20 ms from 0 to 180 ms at most (fewer if the machine stalls).
    assert!((1..=10).contains(&record.media_frames_sent));
    assert_eq!(media_seen, record.media_frames_sent);
    assert!(record.duration >= Duration::from_millis(200));
    assert_eq!(record.issues.len(), 5, "{:#?}", record.issues);
    assert!(record.heard.is_empty());
    // The server answered our close frame.
    assert_eq!(record.close.as_ref().map(|c| c.code), Some(1000));
}

#[tokio::test]
async fn refused_upgrade_is_a_typed_error_with_status_and_body() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "client hung up mid-request");
            request.extend_from_slice(&buf[..n]);
        }
        let signed = String::from_utf8_lossy(&request)
            .to_ascii_lowercase()
            .contains("x-twilio-signature:");
        let body = "missing X-Twilio-Signature";
        let response = format!(
            "HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        tcp.write_all(response.as_bytes()).await.unwrap();
        signed
    });

    let error = CallScript::new(url).run().await.unwrap_err();
    assert!(
        !server.await.unwrap(),
        "no auth token, so no signature header"
    );
    assert!(
        matches!(error, SimulatorError::Rejected { .. }),
        "{error:?}"
    );
    assert_eq!(error.status(), Some(403));
    assert_eq!(error.body(), Some("missing X-Twilio-Signature"));
    assert!(error.to_string().contains("403"), "{error}");
}

#[tokio::test]
async fn connection_refused_is_a_typed_error() {
    // Bind then drop, so nothing listens on the port.
    let url = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("ws://{}/media-stream", listener.local_addr().unwrap())
    };
    let error = CallScript::new(url).run().await.unwrap_err();
    assert!(matches!(error, SimulatorError::Connect { .. }), "{error:?}");
    assert!(std::error::Error::source(&error).is_some());
    // The chain, walked by `source()`, names the refusal once.
    let mut chain = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(error) = cause {
        chain = format!("{chain}: {error}");
        cause = error.source();
    }
    assert_eq!(chain.matches("Connection refused").count(), 1, "{chain}");
    let invalid = CallScript::new("not a url").run().await.unwrap_err();
    assert!(
        matches!(invalid, SimulatorError::InvalidUrl { .. }),
        "{invalid:?}"
    );
}

/// Reads the simulator's messages up to `stop`: the `sequenceNumber`s of its media in
/// arrival order, and the names of the marks it echoed.
async fn read_to_stop(ws: &mut Ws) -> (Vec<u64>, Vec<String>) {
    let (mut media, mut echoes) = (Vec::new(), Vec::new());
    loop {
        let message = ws.next().await.expect("simulator hung up").unwrap();
        let Message::Text(text) = message else {
            continue;
        };
        match StreamEvent::decode(text.as_str()).unwrap() {
            StreamEvent::Media(m) => media.push(m.sequence_number.get()),
            StreamEvent::Mark(m) => echoes.push(m.mark.name.as_str().to_owned()),
            StreamEvent::Stop(_) => return (media, echoes),
            _ => {}
        }
    }
}

#[tokio::test]
async fn out_of_order_media_comes_in_swapped_pairs() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (mut ws, _) = accept(&listener).await;
        let mut session = StreamSession::new();
        handshake(&mut ws, &mut session).await;
        let (media, _) = read_to_stop(&mut ws).await;
        close(&mut ws, "done").await;
        media
    });
    let record = CallScript::new(url)
        .out_of_order_media()
        .hang_up_after(Duration::from_millis(200))
        .run()
        .await
        .unwrap();
    let media = server.await.unwrap();
    assert_eq!(media.len() as u64, record.media_frames_sent, "{media:?}");
    assert!(media.len() >= 4, "{media:?}");
    // 3, 2, 5, 4, ...: each pair swapped (an odd frame held at the hang-up comes last).
    for pair in media.chunks(2).filter(|p| p.len() == 2) {
        assert_eq!(pair[0], pair[1] + 1, "{media:?}");
    }
    let mut sorted = media.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (2..2 + media.len() as u64).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_caller_that_stops_reading_echoes_no_more_marks() {
    let (listener, url) = listen().await;
    let server = tokio::spawn(async move {
        let (mut ws, _) = accept(&listener).await;
        let mut session = StreamSession::new();
        let sid = handshake(&mut ws, &mut session).await;
        // Before the caller stops reading: echoed at once (nothing queued).
        session.mark_sent("early").unwrap();
        send(&mut ws, StreamCommand::mark(sid.clone(), "early")).await;
        assert_eq!(next_mark(&mut ws, &mut session).await.0, "early");
        // After it stopped: never echoed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        send(&mut ws, StreamCommand::mark(sid, "late")).await;
        let (media, echoes) = read_to_stop(&mut ws).await;
        close(&mut ws, "done").await;
        (media.len(), echoes)
    });
    let record = CallScript::new(url)
        .stop_reading_after(Duration::from_millis(150))
        .hang_up_after(Duration::from_millis(500))
        .run()
        .await
        .unwrap();
    let (media, echoes) = server.await.unwrap();
    assert!(echoes.is_empty(), "{echoes:?}");
    assert_eq!(record.mark_names(), ["early"], "{:?}", record.marks);
    assert!(media > 0, "the caller's media goes on");
    // The hang-up still reads the server's close.
    assert_eq!(record.end, CallEnd::HungUp);
    assert_eq!(record.close.map(|c| c.code), Some(1000));
}
