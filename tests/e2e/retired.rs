//! The seed's retired configuration (the beta interface and a preview model) in `serve`
//! (issue 16, items 4 and 8): one warning at start, and per call one line of the bot's
//! naming both the retired interface and the retired model in the command line's words,
//! as `check` does.

use std::time::{Duration, SystemTime};

use openai_realtime::mock::MockServer;
use twilio_media_stream::signature::AuthToken;
use twilio_media_stream::simulator::{CallEnd, CallScript, CallerAudio};
use voice_agent::appointment::Appointment;
use voice_agent::config::{self, AgentOptions, Env, Needs, derive_context_secret};

use crate::logs;
use crate::support::{self, AUTH_TOKEN, PUBLIC_HOST};

const MODEL: &str = "gpt-4o-realtime-preview-2024-12-17";

#[test]
fn serve_with_the_retired_configuration_warns_at_start_and_names_both_once_per_call() {
    const CALLS: usize = 2;
    let (outcomes, logs) = logs::run(2, |_| async {
        let mock = MockServer::start().await.unwrap();
        let out = support::temp_dir("retired");
        let env = Env::from_pairs([
            ("TWILIO_AUTH_TOKEN", AUTH_TOKEN.to_owned()),
            ("PUBLIC_URL", format!("https://{PUBLIC_HOST}")),
            ("OPENAI_API_KEY", support::OPENAI_API_KEY.to_owned()),
            ("OPENAI_REALTIME_URL", mock.url()),
            ("OPENAI_DIALECT", "beta".to_owned()),
            ("OPENAI_MODEL", MODEL.to_owned()),
        ]);
        let options = AgentOptions {
            out_dir: Some(out.clone()),
            ..AgentOptions::default()
        };
        let config = config::load(&env, &options, Needs::Serve).unwrap();
        let (addr, bot) = support::serve_bot(&config).await;
        voice_agent::serve::announce(&config, &bot, addr);
        let secret = derive_context_secret(AUTH_TOKEN);
        for _ in 0..CALLS {
            let signed =
                voice_agent::outbound::sign(&Appointment::demo(), &secret, SystemTime::now())
                    .unwrap();
            let record = CallScript::new(format!("ws://{addr}/media-stream"))
                .auth_token(AuthToken::new(AUTH_TOKEN))
                .signature_url(format!("wss://{PUBLIC_HOST}/media-stream"))
                .parameters(signed.parameters())
                .caller_audio(CallerAudio::silence())
                .max_duration(Duration::from_secs(20))
                .run()
                .await
                .unwrap();
            // The agent's refusal hands the caller to the TwiML's fallback.
            assert_eq!(record.end, CallEnd::ServerClosed, "{record:?}");
        }
        support::wait_outcome_lines(&out, CALLS).await
    });
    // The bot's own lines (not the crates' it uses: they log their own share).
    let ours: Vec<String> = logs
        .text()
        .lines()
        .filter(|line| {
            let level = line.split_whitespace().next();
            matches!(level, Some("INFO" | "WARN" | "ERROR")) && line.contains(" voice_agent::")
        })
        .map(str::to_owned)
        .collect();
    assert!(
        ours.iter().all(|line| !line.contains("Dialect::")),
        "the bot names the command line's words: {ours:#?}"
    );
    let start: Vec<&String> = ours
        .iter()
        .filter(|line| line.contains("--dialect beta"))
        .collect();
    assert_eq!(start.len(), 1, "one warning at start: {ours:#?}");
    assert!(start[0].trim_start().starts_with("WARN"), "{}", start[0]);
    assert!(
        start[0].contains("`--dialect ga` or OPENAI_DIALECT=ga"),
        "{}",
        start[0]
    );

    let refusals: Vec<&String> = ours
        .iter()
        .filter(|line| line.contains("beta_api_shape_disabled"))
        .collect();
    assert_eq!(refusals.len(), CALLS, "one line per call: {ours:#?}");
    for line in refusals {
        assert!(line.contains("call finished"), "{line}");
        assert!(
            line.contains("retired the Realtime beta interface"),
            "{line}"
        );
        assert!(
            line.contains("`--dialect ga` or OPENAI_DIALECT=ga"),
            "{line}"
        );
        assert!(
            line.contains(&format!("the model `{MODEL}` is retired or unknown too")),
            "{line}"
        );
        assert!(line.contains("`--model` or OPENAI_MODEL"), "{line}");
    }
    assert_eq!(outcomes.len(), CALLS, "{outcomes:?}");
    for outcome in &outcomes {
        assert_eq!(outcome["outcome"], "agent_failed", "{outcome}");
        let why = outcome["why"].as_str().unwrap();
        assert!(why.contains("`--dialect ga`"), "{why}");
        assert!(why.contains(MODEL), "{why}");
    }
}
