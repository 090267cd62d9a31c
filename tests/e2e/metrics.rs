//! `GET /metrics` read back with a Prometheus text-format parser (`prometheus-parse`) after
//! real calls through the bot's server: a whole demo call over the Twilio simulator and the
//! OpenAI mock, a call whose agent is refused (401), a webhook with a bad signature, and a
//! stream refused while the server drains.

use std::time::{Duration, SystemTime};

use openai_realtime::mock::{HttpRefusal, MockServer};
use prometheus_parse::{Sample, Scrape, Value};
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallScript, CallerAudio};
use voice_agent::appointment::Appointment;
use voice_agent::config::derive_context_secret;

use crate::support::{self, AUTH_TOKEN, Create, PUBLIC_HOST};

/// The bot's `/metrics`, parsed; also checks the content type Prometheus expects.
async fn scrape(addr: std::net::SocketAddr) -> Scrape {
    let response = support::http()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.unwrap();
    Scrape::parse(text.lines().map(|line| Ok(line.to_owned()))).unwrap()
}

/// The samples named `metric` whose labels include every `(name, value)` of `labels`.
fn samples<'a>(scrape: &'a Scrape, metric: &str, labels: &[(&str, &str)]) -> Vec<&'a Sample> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric)
        .filter(|s| labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect()
}

/// The one counter or gauge named `metric` with `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> f64 {
    let found = samples(scrape, metric, labels);
    assert_eq!(found.len(), 1, "{metric} {labels:?}: {:#?}", scrape.samples);
    match found[0].value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        ref other => panic!("{metric}: {other:?}"),
    }
}

/// A signed call through the simulator to the bot at `addr`, to its end.
async fn call(addr: std::net::SocketAddr) {
    let secret = derive_context_secret(AUTH_TOKEN);
    let signed =
        voice_agent::outbound::sign(&Appointment::demo(), &secret, SystemTime::now()).unwrap();
    CallScript::new(format!("ws://{addr}/media-stream"))
        .auth_token(AuthToken::new(AUTH_TOKEN))
        .signature_url(format!("wss://{PUBLIC_HOST}/media-stream"))
        .parameters(signed.parameters())
        .caller_audio(CallerAudio::silence())
        // Long enough for the greeting to start playing.
        .max_duration(Duration::from_secs(4))
        .run()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_parse_and_count_a_whole_call_a_refused_agent_and_refused_requests() {
    let appointment = Appointment::demo();
    let mock = MockServer::builder()
        .script(voice_agent::demo::script(&appointment))
        .start()
        .await
        .unwrap();
    let twilio = support::stand_in(Create::Created("CA1")).await;
    let out = support::temp_dir("metrics");
    let config = support::config(&mock.url(), &twilio.url, &out);
    let (addr, bot) = support::serve_bot(&config).await;

    // Before any call: the unlabelled series are there at zero, typed and described.
    let before = scrape(addr).await;
    assert_eq!(value(&before, "voice_agent_calls_active", &[]), 0.0);
    assert_eq!(value(&before, "voice_agent_barge_ins_total", &[]), 0.0);
    assert!(
        before
            .docs
            .contains_key("voice_agent_first_agent_audio_seconds"),
        "{:?}",
        before.docs
    );

    // One whole call: the demo greets, the silent callee hears it, the call ends.
    call(addr).await;
    let lines = support::wait_outcome_lines(&out, 1).await;
    let outcome = lines[0]["outcome"].as_str().unwrap().to_owned();

    // The agent refuses the next call's upgrade (a bad key): the caller gets the fallback.
    mock.refuse_upgrades(HttpRefusal::unauthorized());
    call(addr).await;
    support::wait_outcome_lines(&out, 2).await;

    // A status callback without a valid signature is refused.
    let forged = support::http()
        .post(format!("http://{addr}/twilio/status?apt_id=apt_demo_42"))
        .header("X-Twilio-Signature", "bm90IGEgc2lnbmF0dXJl")
        .form(&[("CallSid", "CA1"), ("CallStatus", "completed")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);

    // The server drains: a new stream is refused with 503.
    bot.drain.begin();
    let refused = support::http()
        .get(format!("http://{addr}/media-stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);

    let after = scrape(addr).await;
    assert_eq!(value(&after, "voice_agent_calls_active", &[]), 0.0);
    let finished = samples(&after, "voice_agent_calls_finished_total", &[]);
    let total: f64 = finished
        .iter()
        .map(|s| match s.value {
            Value::Counter(v) => v,
            ref other => panic!("{other:?}"),
        })
        .sum();
    assert_eq!(total, 2.0, "{finished:#?}");
    assert_eq!(
        value(
            &after,
            "voice_agent_calls_finished_total",
            &[("outcome", outcome.as_str())]
        ),
        1.0,
        "{finished:#?}"
    );
    assert_eq!(
        value(
            &after,
            "voice_agent_calls_finished_total",
            &[
                ("outcome", "agent_failed"),
                ("ended_by", "agent"),
                ("reason", "agent_not_started")
            ]
        ),
        1.0,
        "{finished:#?}"
    );
    // The refused upgrade, by its HTTP status.
    assert_eq!(
        value(
            &after,
            "voice_agent_errors_total",
            &[("cause", "agent_refused"), ("code", "401")]
        ),
        1.0
    );
    // The connect and first-audio histograms hold the whole call (the refused one never
    // connected, nor spoke).
    for histogram in [
        "voice_agent_agent_connect_seconds",
        "voice_agent_first_agent_audio_seconds",
    ] {
        assert_eq!(
            value(&after, &format!("{histogram}_count"), &[]),
            1.0,
            "{histogram}"
        );
        let buckets = samples(&after, histogram, &[]);
        assert_eq!(buckets.len(), 1, "{histogram}: {buckets:#?}");
        let Value::Histogram(counts) = &buckets[0].value else {
            panic!("{histogram}: {:?}", buckets[0].value)
        };
        let infinite = counts.iter().find(|c| c.less_than.is_infinite()).unwrap();
        assert_eq!(infinite.count, 1.0, "{histogram}: {counts:?}");
    }
    // The greeting went to the caller, the caller's silence to the agent.
    for (leg, direction) in [
        ("caller", "sent"),
        ("agent", "sent"),
        ("caller", "received"),
    ] {
        let bytes = value(
            &after,
            "voice_agent_audio_bytes_total",
            &[("leg", leg), ("direction", direction)],
        );
        assert!(bytes > 0.0, "{leg} {direction}: {bytes}");
    }
    // Twilio's requests by route and status: two accepted upgrades, the forged callback,
    // the stream refused while draining.
    assert_eq!(
        value(
            &after,
            "voice_agent_webhooks_total",
            &[("route", "/media-stream"), ("status", "101")]
        ),
        2.0
    );
    assert_eq!(
        value(
            &after,
            "voice_agent_webhooks_total",
            &[("route", "/twilio/status"), ("status", "403")]
        ),
        1.0
    );
    assert_eq!(
        value(
            &after,
            "voice_agent_webhooks_total",
            &[("route", "/media-stream"), ("status", "503")]
        ),
        1.0
    );
}
