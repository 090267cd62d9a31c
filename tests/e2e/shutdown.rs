//! The model's announced shutdown (issue 15 part 6): `check` reads `shutdown_date` from the
//! OpenAI mock's `GET /v1/models/{model}` and names it (a warning while it is ahead, a
//! failure once it is past, with the replacement in the command line's words), and `serve`
//! logs it once at start.

use openai_realtime::mock::MockServer;
use openai_realtime::models::Date;
use voice_agent::{check, retirement};

use crate::logs;
use crate::support::{self, Create};

fn day(text: &str) -> Date {
    text.parse().unwrap()
}

#[tokio::test]
async fn check_names_gpt_realtime_s_2027_01_20_shutdown() {
    let mock = MockServer::start().await.unwrap();
    let twilio = support::stand_in(Create::Created("CA1")).await;
    let out = support::temp_dir("check-shutdown");
    let mut config = support::config(&mock.url(), &twilio.url, &out);
    config.agent.model = "gpt-realtime".to_owned();

    // The whole `check`, on today's clock: the model's line names the date and the
    // replacement (a warning before the day, a failure after it).
    let lines = check::run(&config).await;
    let text: Vec<String> = lines.iter().map(ToString::to_string).collect();
    let line = &lines[1];
    assert!(text[0].contains("confirmed the bot's settings"), "{text:?}");
    assert!(text[1].contains("OpenAI model gpt-realtime"), "{text:?}");
    assert!(text[1].contains("2027-01-20"), "{text:?}");
    assert!(
        text[1].contains("set `--model` or OPENAI_MODEL to `gpt-realtime-2.1`"),
        "{text:?}"
    );
    let before = retirement::today() < Date::JAN_20_2027;
    assert_eq!(line.warning, before, "{text:?}");
    assert_eq!(line.ok, before, "{text:?}");
    assert!(
        text[1].starts_with(if before { "WARN" } else { "FAIL" }),
        "{text:?}"
    );
    // The look-up carried the key (the mock answers 401 without one) and asked for the
    // configured model.
    let lookups = mock.model_lookups();
    assert_eq!(lookups.len(), 1, "{lookups:?}");
    assert_eq!(lookups[0].path, "/v1/models/gpt-realtime");
    assert_eq!(lookups[0].status, 200);

    // On a fixed day: ahead, with the days left; on and after the day, retired.
    let ahead = check::model(&config, day("2026-12-03")).await;
    assert!(ahead.ok && ahead.warning, "{ahead}");
    assert_eq!(
        ahead.to_string(),
        "WARN OpenAI model gpt-realtime (shutdown date): `gpt-realtime` shuts down on \
         2027-01-20, in 48 days: set `--model` or OPENAI_MODEL to `gpt-realtime-2.1` before \
         then"
    );
    for today in ["2027-01-20", "2027-03-01"] {
        let retired = check::model(&config, day(today)).await;
        assert!(!retired.ok, "{retired}");
        let text = retired.to_string();
        assert!(text.starts_with("FAIL"), "{text}");
        assert!(text.contains("was shut down on 2027-01-20"), "{text}");
        assert!(text.contains("`gpt-realtime-2.1`"), "{text}");
    }
}

#[tokio::test]
async fn a_current_model_passes_and_a_retired_or_unknown_one_fails() {
    let mock = MockServer::builder()
        .shutdown_date("gpt-realtime-2.1-mini", Date::new(2026, 11, 30))
        .start()
        .await
        .unwrap();
    let out = support::temp_dir("check-shutdown-models");
    let mut config = support::config(&mock.url(), "http://127.0.0.1:9", &out);
    let today = day("2026-12-03");

    let current = check::model(&config, today).await;
    assert!(current.ok && !current.warning, "{current}");
    assert!(
        current.to_string().contains("no announced shutdown date"),
        "{current}"
    );

    config.agent.model = "gpt-realtime-2.1-mini".to_owned();
    let retired = check::model(&config, today).await;
    assert!(!retired.ok, "{retired}");
    assert!(
        retired.to_string().contains("was shut down on 2026-11-30"),
        "{retired}"
    );
    assert!(
        retired.to_string().contains("to `gpt-realtime-2.1`"),
        "the next current model, not itself: {retired}"
    );

    config.agent.model = "gpt-4o-realtime-preview-2024-12-17".to_owned();
    let unknown = check::model(&config, today).await;
    assert!(!unknown.ok, "{unknown}");
    assert!(unknown.to_string().contains("model_not_found"), "{unknown}");
}

#[test]
fn serve_warns_once_at_start_with_the_date_and_the_replacement() {
    let ((), logs) = logs::run(1, |_| async {
        let mock = MockServer::start().await.unwrap();
        let out = support::temp_dir("serve-shutdown");
        let mut config = support::config(&mock.url(), "http://127.0.0.1:9", &out);
        config.agent.model = "gpt-realtime-mini".to_owned();
        retirement::log_at_start(&config.agent, day("2027-01-10")).await;
    });
    let warnings = logs.warnings();
    let ours: Vec<&String> = warnings
        .iter()
        .filter(|line| line.contains(" voice_agent::"))
        .collect();
    assert_eq!(ours.len(), 1, "{warnings:#?}");
    let line = ours[0];
    assert!(line.trim_start().starts_with("WARN"), "{line}");
    assert!(
        line.contains("`gpt-realtime-mini` shuts down on 2027-01-20, in 10 days"),
        "{line}"
    );
    assert!(
        line.contains("set `--model` or OPENAI_MODEL to `gpt-realtime-2.1-mini`"),
        "{line}"
    );
}
