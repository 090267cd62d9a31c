//! `cargo run --example outbound_call [-- SUBCOMMAND]`: the appointment-confirmation bot.
//!
//! This file is the command line only. The bot's modules sit beside it, one job each,
//! and are compiled as the `voice_agent` library (see `src/lib.rs`) so that the tests in
//! `tests/` drive the same code: `config`, `appointment`, `tools`, `server`, `stream`,
//! `legs`, `outbound`, `calls`, `serve`, `check`, `demo`, `tap`, `transcript`, `output`.

mod cli;

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser as _;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use twilio_media_stream::simulator::CallEnd;
use voice_agent::appointment::Appointment;
use voice_agent::calls::{self, Waits};
use voice_agent::campaign::{list, report, run as campaign_run, state, store};
use voice_agent::config::{self, Env, Needs, e164_problem};
use voice_agent::tools::Decision;
use voice_agent::transcript;

use crate::cli::{BatchArgs, CampaignCommand, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logs(cli.command.is_none());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(cli))
}

/// Logs go to stderr. The demo's transcript is on stdout, so its default filter keeps
/// only warnings; the servers log each call's life at `info`.
///
/// Whatever `RUST_LOG` says, [`SECRET_TARGETS`] stay below `trace`: tungstenite's client
/// handshake logs the whole upgrade request at `trace` (through the `log` crate), and that
/// request carries `Authorization: Bearer sk-...`, the OpenAI key. Its `debug` lines
/// ("Client handshake done.") stay.
fn init_logs(demo: bool) {
    let default = if demo { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let secrets = SECRET_TARGETS.iter().fold(
        Targets::new().with_default(LevelFilter::TRACE),
        |targets, (target, most)| targets.with_target(*target, *most),
    );
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(filter)
                .with_filter(secrets),
        )
        .init();
}

/// Log targets whose lines at some level carry a secret, and the most they may log.
const SECRET_TARGETS: &[(&str, LevelFilter)] = &[
    // `Request: "GET /v1/realtime?model=... authorization: Bearer sk-..."` at trace.
    ("tungstenite::handshake", LevelFilter::DEBUG),
];

async fn run(cli: Cli) -> ExitCode {
    let options = cli.options.agent_options();
    let Some(command) = cli.command else {
        let out = options
            .out_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("out"));
        // Offline: only `--model` counts (a .env's OPENAI_MODEL is for real calls).
        let model = options
            .model
            .clone()
            .unwrap_or_else(|| openai_realtime::client::DEFAULT_MODEL.to_owned());
        return demo(out, &model).await;
    };
    if let Command::Campaign(campaign) = &command {
        let out = options
            .out_dir
            .clone()
            .or_else(|| std::env::var_os("OUTPUT_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("out"));
        return campaign_command(campaign, &out);
    }
    // The list is refused whole, every problem listed, before anything else.
    let batch_list = match &command {
        Command::Batch(args) => match list::read(&args.appointments) {
            Ok(list) => Some(list),
            Err(err) => return fail(&err.to_string()),
        },
        _ => None,
    };
    let env = match Env::load() {
        Ok(env) => env,
        Err(err) => return config_error(&err),
    };
    let needs = match &command {
        Command::Campaign(_) => Needs::Check,
        Command::Call(_) | Command::Batch(_) => Needs::PlaceCalls,
        Command::Serve(_) => Needs::Serve,
        Command::Check => Needs::Check,
    };
    // A bad --to belongs in the same one message as the environment's problems.
    let to_problem = match &command {
        Command::Call(args) => e164_problem("--to", &args.to),
        _ => None,
    };
    let config = match (config::load(&env, &options, needs), to_problem) {
        (Ok(config), None) => config,
        (Ok(_), Some(problem)) => return fail(&problem),
        (Err(err), None) => return config_error(&err),
        (Err(err), Some(problem)) => return config_error(&err.with(problem)),
    };
    match command {
        Command::Check => check(&config).await,
        Command::Serve(args) => {
            let mut config = config;
            if let Some(secs) = args.drain_timeout {
                config.drain_timeout = std::time::Duration::from_secs(secs);
            }
            serve_command(&config, args.record).await
        }
        Command::Call(args) => {
            let appointment = match args.appointment() {
                Ok(appointment) => appointment,
                Err(err) => return fail(&err),
            };
            let listener = match voice_agent::serve::listen(&config).await {
                Ok(listener) => listener,
                Err(err) => return fail(&err),
            };
            match calls::call(&config, listener, appointment, &args.to, Waits::default()).await {
                Ok(results) => print_results(&results, 1),
                Err(err) => fail(&err),
            }
        }
        Command::Batch(args) => batch(&config, &args, batch_list.unwrap_or_default()).await,
        Command::Campaign(_) => ExitCode::SUCCESS,
    }
}

/// `batch`: import the list into the campaign database, then run the campaign to its end.
async fn batch(
    config: &config::Config,
    args: &BatchArgs,
    appointments: Vec<(Appointment, String)>,
) -> ExitCode {
    if !(args.cps.is_finite() && args.cps > 0.0) {
        return fail("--cps must be a positive number of calls per second");
    }
    let hours = match state::CallingHours::parse(&args.calling_hours) {
        Ok(hours) => hours,
        Err(err) => return fail(&format!("--calling-hours: {err}")),
    };
    let clock = match campaign_run::Clock::from_env() {
        Ok(clock) => clock,
        Err(err) => return fail(&err),
    };
    let db = args
        .db
        .clone()
        .unwrap_or_else(|| config.out_dir.join("campaign.sqlite"));
    let mut store = match store::Store::open(&db) {
        Ok(store) => store,
        Err(err) => return fail(&err.to_string()),
    };
    let imported = match store.import(&appointments, clock.now_secs()) {
        Ok(imported) => imported,
        Err(err) => return fail(&err.to_string()),
    };
    tracing::info!(
        db = %db.display(),
        added = imported.added,
        known = imported.known.len(),
        "campaign imported"
    );
    let default_zone = jiff::tz::TimeZone::system();
    let zoneless = appointments
        .iter()
        .filter(|(a, _)| a.time_zone.is_none())
        .count();
    if zoneless > 0 {
        tracing::warn!(
            appointments = zoneless,
            zone = default_zone.iana_name().unwrap_or("the system's"),
            hours = %hours,
            "appointments without time_zone keep calling hours in this machine's zone"
        );
    }
    let listener = match voice_agent::serve::listen(config).await {
        Ok(listener) => listener,
        Err(err) => return fail(&err),
    };
    let settings = campaign_run::Settings {
        calls_per_second: args.cps,
        max_in_flight: args.max_in_flight,
        retry: state::RetryPolicy {
            max_attempts: args.max_attempts,
            backoff: std::time::Duration::from_secs(args.retry_after),
            ..state::RetryPolicy::default()
        },
        hours,
        default_zone,
        clock,
        poll: std::time::Duration::from_secs(args.poll.max(1)),
    };
    if let Err(err) = campaign_run::run(config, listener, store, settings).await {
        return fail(&err);
    }
    campaign_command(
        &CampaignCommand::Status(cli::DbArgs { db: Some(db) }),
        &config.out_dir,
    )
}

/// `campaign status` and `campaign export`.
fn campaign_command(command: &CampaignCommand, out: &std::path::Path) -> ExitCode {
    let db = match command {
        CampaignCommand::Status(args) => args.db.clone(),
        CampaignCommand::Export(args) => args.db.clone(),
    }
    .unwrap_or_else(|| out.join("campaign.sqlite"));
    let store = match store::Store::open_existing(&db) {
        Ok(store) => store,
        Err(err) => return fail(&err.to_string()),
    };
    let rows = match store.rows() {
        Ok(rows) => rows,
        Err(err) => return fail(&err.to_string()),
    };
    let text = match command {
        CampaignCommand::Status(_) => match store.counts() {
            Ok(counts) => report::status(&counts, &rows),
            Err(err) => return fail(&err.to_string()),
        },
        CampaignCommand::Export(args) => match args.format.as_str() {
            "csv" => report::csv(&rows),
            "json" => report::json(&rows) + "\n",
            other => return fail(&format!("--format {other:?}: use csv or json")),
        },
    };
    match command {
        CampaignCommand::Export(cli::ExportArgs {
            output: Some(path), ..
        }) => {
            if let Err(err) = std::fs::write(path, text) {
                return fail(&format!("cannot write {}: {err}", path.display()));
            }
        }
        _ => {
            let _ = std::io::stdout().lock().write_all(text.as_bytes());
        }
    }
    let open = rows.iter().any(|r| !r.state.is_final());
    if open {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

async fn demo(out: PathBuf, model: &str) -> ExitCode {
    let appointment = Appointment::demo();
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(
        stdout,
        "outbound_call: offline demo, a whole call on loopback (no credentials, no network)\n\
         \x20 bot:     this example's server, checking X-Twilio-Signature and the signed call context\n\
         \x20 agent:   the OpenAI mock (openai-realtime) speaking {} with model {model}, playing a scripted conversation\n\
         \x20 callee:  the Twilio simulator (twilio-media-stream), talking at {} (the first over the greeting)\n\
         \x20 about:   {}'s appointment with {} on {}\n",
        if model.starts_with("gpt-live") {
            "GPT-Live"
        } else {
            "the Realtime API"
        },
        voice_agent::demo::CALLER_SPEECH
            .iter()
            .map(|(from, to)| format!("{:.1}-{:.1} s", from.as_secs_f32(), to.as_secs_f32()))
            .collect::<Vec<_>>()
            .join(" and "),
        appointment.name,
        appointment.with,
        appointment.when,
    );
    drop(stdout);
    let watcher = transcript::printer(std::io::stdout());
    let run = match voice_agent::demo::run_with_model(&out, Some(watcher), model).await {
        Ok(run) => run,
        Err(err) => return fail(&err),
    };
    let outcome = &run.outcome;
    let mut stdout = std::io::stdout().lock();
    let decision = match &outcome.decision {
        Some(Decision::RescheduleRequested { preferred_times }) => {
            format!(
                "{} (preferred: {})",
                outcome.outcome,
                preferred_times.join(", ")
            )
        }
        _ => outcome.outcome.clone(),
    };
    let _ = writeln!(stdout, "\noutcome:   {decision}");
    let _ = writeln!(stdout, "why:       {}", outcome.why);
    if let Some(folder) = &outcome.folder {
        let _ = writeln!(
            stdout,
            "report:    {}",
            folder.join("report.json").display()
        );
        let _ = writeln!(
            stdout,
            "recording: {} (stereo: caller left, agent right)",
            folder.join("recording.wav").display()
        );
    }
    let _ = writeln!(
        stdout,
        "outcomes:  {}",
        run.out_dir.join("outcomes.jsonl").display()
    );
    let end = match run.record.end {
        CallEnd::ServerClosed => "the bot ended the call",
        CallEnd::HungUp => "the callee hung up",
        CallEnd::MaxDuration => "the simulated call reached its time limit",
        _ => "the connection failed",
    };
    let _ = writeln!(
        stdout,
        "callee:    heard {} ms of the agent, {} playback clear(s) on barge-in; {end}",
        run.record.heard_ms(),
        run.record.clears.len(),
    );
    if outcome.reached() {
        ExitCode::SUCCESS
    } else {
        let _ = writeln!(stdout, "the call did not reach its outcome");
        ExitCode::FAILURE
    }
}

async fn check(config: &config::Config) -> ExitCode {
    for warning in &config.warnings {
        tracing::warn!("configuration: {warning}");
    }
    let lines = voice_agent::check::run(config).await;
    let mut stdout = std::io::stdout().lock();
    for line in &lines {
        let _ = writeln!(stdout, "{line}");
    }
    let failed = lines.iter().filter(|l| !l.ok).count();
    let warnings = lines.iter().filter(|l| l.warning).count();
    if failed == 0 && warnings > 0 {
        let _ = writeln!(
            stdout,
            "all checks passed, {warnings} with a warning to act on: nothing was dialled"
        );
        ExitCode::SUCCESS
    } else if failed == 0 {
        let _ = writeln!(stdout, "all checks passed: nothing was dialled");
        ExitCode::SUCCESS
    } else {
        let _ = writeln!(stdout, "{failed} check(s) failed: nothing was dialled");
        ExitCode::FAILURE
    }
}

fn print_results(results: &calls::Results, calls: usize) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    for line in calls::lines(results) {
        let _ = writeln!(stdout, "{line}");
    }
    if results.all_reached(calls) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn config_error(err: &config::ConfigError) -> ExitCode {
    eprintln!("{err}");
    ExitCode::from(2)
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::FAILURE
}

/// `serve`: runs until a signal, drained (see `voice_agent::drain`).
async fn serve_command(config: &voice_agent::config::Config, record: bool) -> ExitCode {
    match voice_agent::serve::run(config, record).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => fail(&err),
    }
}
