//! A long call outlives its agent session: the OpenAI leg opens a fresh session before the
//! service's `expires_at`, seeds it with the conversation so far at a turn boundary, moves
//! the call over and closes the old one. Against the Realtime mock with a 2-minute session
//! limit, on tokio's paused clock (the sockets are real; only the waits are skipped).
#![cfg(feature = "openai")]

use std::time::Duration;

use openai_realtime::client::{ApiKey, Config};
use openai_realtime::mock::{Audio, MockServer, MockSession, Script, Turn};
use serde_json::Value;
use tokio::sync::mpsc;
use voice_bridge::audio::AudioFormat;
use voice_bridge::report::EndReason;
use voice_bridge::{
    Bridge, BridgeConfig, CallCommand, CallEvent, CallStart, DtmfDigit, LegEnd, OpenAiLeg,
    RenewalPolicy, SessionEnd, memory,
};

/// Long enough for any step on the paused clock (time jumps to the next timer at once).
const WAIT: Duration = Duration::from_secs(600);
/// The mock's session limit.
const LIMIT: Duration = Duration::from_secs(120);

/// What the phone does, told by the test.
enum Phone {
    Press(char),
    HangUp,
}

/// The phone: echoes every mark at once (the caller heard it all) and does what it is told.
fn phone(mut peer: memory::CallPeer) -> mpsc::Sender<Phone> {
    let (tell, mut told) = mpsc::channel(8);
    tokio::spawn(async move {
        peer.send(CallEvent::Started(CallStart::new(
            "CA1",
            "MZ1",
            AudioFormat::MuLaw,
        )))
        .await
        .unwrap();
        loop {
            tokio::select! {
                command = peer.recv() => match command {
                    Some(CallCommand::Mark(mark)) => {
                        let _ = peer.send(CallEvent::MarkPlayed(mark.to_string())).await;
                    }
                    Some(_) => {}
                    None => return,
                },
                what = told.recv() => match what {
                    Some(Phone::Press(key)) => {
                        peer.send(CallEvent::Dtmf(DtmfDigit::new(key))).await.unwrap();
                    }
                    Some(Phone::HangUp) | None => {
                        let _ = peer.send(CallEvent::Ended(LegEnd::Finished)).await;
                    }
                },
            }
        }
    });
    tell
}

/// The texts of the items a session was seeded with, in order: `role: text`.
fn seeded(session: &MockSession) -> Vec<String> {
    session
        .received()
        .iter()
        .map(|r| r.json())
        .filter(|e| e["type"] == "conversation.item.create")
        .map(|e| {
            let item = &e["item"];
            let text = item["content"][0]["text"].as_str().unwrap_or_default();
            format!("{}: {text}", item["role"].as_str().unwrap_or_default())
        })
        .collect()
}

/// Waits until `session` has answered `n` responses (`response.done` sent), looking every
/// 10 ms of the paused clock.
async fn answered(session: &MockSession, n: usize) {
    let done = || {
        session
            .sent()
            .iter()
            .filter(|e| e.contains("\"response.done\""))
            .count()
    };
    tokio::time::timeout(WAIT, async {
        while done() < n {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{} of {n} responses: {:?}", done(), session.sent()));
}

#[tokio::test(start_paused = true)]
async fn a_call_over_three_sessions_keeps_its_conversation_and_reports_each_session() {
    let script = Script::new()
        .turn(Turn::new().say("Hello, this is the clinic.", Audio::Raw(vec![0x2A; 800])))
        .fallback(Turn::new().say("Noted.", Audio::Raw(vec![0x3C; 800])));
    let server = MockServer::builder()
        .script(script)
        .max_session_duration(LIMIT)
        .start()
        .await
        .unwrap();
    let agent = OpenAiLeg::builder(Config::url(server.url()).with_api_key(ApiKey::new("sk-test")))
        .instructions("Confirm the appointment.")
        .speak_first(true)
        // Open the next session 30 s before the limit, switch at 10 s whatever the turn.
        .renewal(RenewalPolicy::new(
            Duration::from_secs(30),
            Duration::from_secs(10),
        ))
        .build();
    let mut config = BridgeConfig::default();
    // The paused clock jumps over the quiet minutes between turns.
    config.idle_timeout = None;
    let (call, peer) = memory::call_leg(64);
    let bridge = tokio::spawn(Bridge::new(call, agent).with_config(config).run());
    let phone = phone(peer);

    // Session 0: the greeting, then a key press and its answer.
    let first = server.session(0, WAIT).await.unwrap();
    answered(&first, 1).await;
    phone.send(Phone::Press('1')).await.unwrap();
    answered(&first, 2).await;

    // Session 1 is opened before the limit and seeded with session 0's conversation.
    let second = server.session(1, WAIT).await.unwrap();
    second
        .wait_for_nth("conversation.item.create", 2, WAIT)
        .await
        .unwrap();
    assert_eq!(
        seeded(&second),
        [
            "assistant: Hello, this is the clinic.",
            "user: [DTMF 1]",
            "assistant: Noted."
        ]
    );
    assert!(
        second.received().iter().all(|r| r.refused.is_none()),
        "the service took every seeded item: {:?}",
        second.received()
    );
    // The fresh session does not greet again.
    assert!(
        !second
            .received_types()
            .iter()
            .any(|t| t == "response.create"),
        "{:?}",
        second.received_types()
    );
    // The old one is closed by the leg, normally, before the service's limit.
    let (server_close, client_close) = first.wait_ended(WAIT).await.unwrap();
    assert_eq!(client_close.map(|c| c.code), Some(1000));
    assert!(server_close.is_none(), "{server_close:?}");

    // Session 1 carries the call: the next key goes to it, and the answer comes back.
    phone.send(Phone::Press('2')).await.unwrap();
    answered(&second, 1).await;
    let dtmf = second
        .wait_for_nth("conversation.item.create", 3, WAIT)
        .await
        .unwrap();
    assert_eq!(dtmf.json()["item"]["content"][0]["text"], "[DTMF 2]");

    // Session 2 gets everything so far, in order.
    let third = server.session(2, WAIT).await.unwrap();
    third
        .wait_for_nth("conversation.item.create", 4, WAIT)
        .await
        .unwrap();
    assert_eq!(
        seeded(&third),
        [
            "assistant: Hello, this is the clinic.",
            "user: [DTMF 1]",
            "assistant: Noted.",
            "user: [DTMF 2]",
            "assistant: Hello, this is the clinic."
        ]
    );
    second.wait_ended(WAIT).await.unwrap();

    phone.send(Phone::HangUp).await.unwrap();
    let report = tokio::time::timeout(WAIT, bridge).await.unwrap().unwrap();
    assert!(
        matches!(report.outcome.reason, EndReason::CallEnded { .. }),
        "{:?}",
        report.outcome
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let sessions = &report.agent_sessions;
    assert_eq!(sessions.len(), 3, "{sessions:#?}");
    let ids: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [first.id(), second.id(), third.id()]);
    for renewed in &sessions[..2] {
        assert_eq!(
            renewed.end,
            Some(SessionEnd::Renewed {
                at_turn_boundary: true
            }),
            "{sessions:#?}"
        );
    }
    assert_eq!(sessions[2].end, Some(SessionEnd::Closed), "{sessions:#?}");
    // The report's JSON lists them.
    let json: Value = serde_json::to_value(&report).unwrap();
    assert_eq!(json["agent_sessions"][0]["end"]["kind"], "renewed");
}
