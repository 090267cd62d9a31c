//! The command line.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use voice_agent::appointment::Appointment;
use voice_agent::config::AgentOptions;

/// An appointment-confirmation bot: Twilio calls, an OpenAI agent speaks (the Realtime API,
/// or GPT-Live with `--model gpt-live-1`).
///
/// With no subcommand it runs a whole simulated call offline (no credentials, no network)
/// and writes its transcript, report and recording to ./out.
///
/// Configuration comes from the environment or a .env file in the working directory:
/// TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER, OPENAI_API_KEY, PUBLIC_URL
/// (the tunnel's https host), and optionally PORT (5050), BIND_ADDR (127.0.0.1),
/// OPENAI_REALTIME_URL, OPENAI_LIVE_URL, OPENAI_MODEL, OPENAI_VOICE, OPENAI_DIALECT,
/// CALL_CONTEXT_SECRET, OUTPUT_DIR, TWILIO_API_URL, HEADER_READ_TIMEOUT_MS (10000),
/// MAX_UNAUTHENTICATED_CONNECTIONS (128). Logs: RUST_LOG (e.g. RUST_LOG=debug).
#[derive(Debug, Parser)]
#[command(name = "outbound_call", version, verbatim_doc_comment)]
pub struct Cli {
    /// What to run (default: the offline demo).
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Settings shared by the subcommands.
    #[command(flatten)]
    pub options: Options,
}

/// Settings shared by the subcommands (they win over the environment).
#[derive(Debug, Args)]
#[command(next_help_heading = "Settings (also from the environment or .env)")]
pub struct Options {
    /// Agent model: a Realtime one, or gpt-live-1 / gpt-live-1.1 for GPT-Live [env: OPENAI_MODEL] [default: gpt-realtime-2.1]
    #[arg(long, global = true)]
    pub model: Option<String>,
    /// Agent voice, e.g. marin, cedar, alloy [env: OPENAI_VOICE]
    #[arg(long, global = true)]
    pub voice: Option<String>,
    /// Realtime interface (not for GPT-Live): ga or beta (retired by OpenAI) [env: OPENAI_DIALECT] [default: ga]
    #[arg(long, global = true)]
    pub dialect: Option<String>,
    /// Port the server listens on [env: PORT] [default: 5050]
    #[arg(long, global = true)]
    pub port: Option<u16>,
    /// Address the server binds [env: BIND_ADDR] [default: 127.0.0.1]
    #[arg(long, global = true)]
    pub bind: Option<IpAddr>,
    /// Folder for reports, recordings and outcomes.jsonl [env: OUTPUT_DIR] [default: out]
    #[arg(long, global = true)]
    pub out: Option<PathBuf>,
}

impl Options {
    /// As the configuration loader takes them.
    pub fn agent_options(&self) -> AgentOptions {
        AgentOptions {
            model: self.model.clone(),
            voice: self.voice.clone(),
            dialect: self.dialect.clone(),
            port: self.port,
            bind: self.bind,
            out_dir: self.out.clone(),
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call one number about one appointment, serve its stream, and print the outcome.
    Call(CallArgs),
    /// Import a list of appointments into the campaign database and call them: resumable
    /// after a crash, retried, paced, inside calling hours; outcomes also go to outcomes.jsonl.
    Batch(BatchArgs),
    /// Read the campaign database: `status` (counts, who needs a person) or `export`.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Serve streams and webhooks only (calls placed elsewhere, load tests).
    Serve(ServeArgs),
    /// Check the OpenAI key, model and interface, and the Twilio account and number,
    /// without dialling.
    Check,
}

/// `call`.
#[derive(Debug, Args)]
pub struct CallArgs {
    /// The number to call, in E.164 (e.g. +14155550100).
    #[arg(long)]
    pub to: String,
    /// The appointment as a JSON file (see README); or give its fields below.
    #[arg(long, conflicts_with_all = ["name", "when", "with"])]
    pub appointment: Option<PathBuf>,
    /// The patient's or customer's name.
    #[arg(long, required_unless_present = "appointment")]
    pub name: Option<String>,
    /// The date and time, as the agent should say it ("Tuesday, March 3 at 10:30 AM").
    #[arg(long, required_unless_present = "appointment")]
    pub when: Option<String>,
    /// With whom ("Dr. Patel").
    #[arg(long, required_unless_present = "appointment")]
    pub with: Option<String>,
    /// Where ("12 Main Street").
    #[arg(long = "where")]
    pub location: Option<String>,
    /// The number to call back to change the appointment.
    #[arg(long)]
    pub callback: Option<String>,
    /// Who is calling ("Bright Smile Dental").
    #[arg(long)]
    pub org: Option<String>,
    /// Your id for the appointment [default: apt-<unix time>].
    #[arg(long)]
    pub id: Option<String>,
}

impl CallArgs {
    /// The appointment these arguments describe.
    ///
    /// # Errors
    ///
    /// The file cannot be read.
    pub fn appointment(&self) -> Result<Appointment, String> {
        if let Some(path) = &self.appointment {
            return Appointment::from_file(path).map_err(|err| err.to_string());
        }
        Ok(Appointment {
            id: self
                .id
                .clone()
                .unwrap_or_else(|| format!("apt-{}", voice_agent::output::unix_now())),
            name: self.name.clone().unwrap_or_default(),
            when: self.when.clone().unwrap_or_default(),
            with: self.with.clone().unwrap_or_default(),
            location: self.location.clone(),
            callback_number: self.callback.clone(),
            organization: self.org.clone(),
            to: Some(self.to.clone()),
            time_zone: None,
        })
    }
}

/// `batch`.
#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A JSON array of appointments, each with `to`.
    #[arg(long)]
    pub appointments: PathBuf,
    /// Calls placed per second at most (Twilio's default limit is 1), across restarts.
    #[arg(long, default_value_t = 1.0)]
    pub cps: f64,
    /// The campaign database (SQLite) [default: <out>/campaign.sqlite].
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// Calls at most per appointment, the first included (busy, no answer, failed are retried).
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u32,
    /// Seconds to wait after the first unanswered call; doubled after each further one.
    #[arg(long, default_value_t = 600)]
    pub retry_after: u64,
    /// Calls in flight at most.
    #[arg(long, default_value_t = 5)]
    pub max_in_flight: usize,
    /// When calls may start, in the callee's local time (`time_zone`, else this machine's).
    #[arg(long, default_value = "09:00-19:00")]
    pub calling_hours: String,
    /// Seconds without news of a call before Twilio is asked about it.
    #[arg(long, default_value_t = 60)]
    pub poll: u64,
}

/// `campaign`.
#[derive(Debug, Subcommand)]
pub enum CampaignCommand {
    /// Counts by state, and the appointments that need a person.
    Status(DbArgs),
    /// Every appointment with its state and outcome, as CSV or JSON.
    Export(ExportArgs),
}

/// The database of `campaign status`.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// The campaign database [default: <out>/campaign.sqlite].
    #[arg(long)]
    pub db: Option<PathBuf>,
}

/// `campaign export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The campaign database [default: <out>/campaign.sqlite].
    #[arg(long)]
    pub db: Option<PathBuf>,
    /// csv or json.
    #[arg(long, default_value = "csv")]
    pub format: String,
    /// The file to write [default: standard output].
    #[arg(long)]
    pub output: Option<PathBuf>,
}

/// `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Record every call as a stereo WAV (off by default: it costs 16 KB per second per call).
    #[arg(long)]
    pub record: bool,
    /// After SIGTERM (or Ctrl-C), how long the calls in progress may go on before each
    /// gets the fallback message and ends, in seconds [env: DRAIN_TIMEOUT_SECS; default 600].
    #[arg(long, value_name = "SECS")]
    pub drain_timeout: Option<u64>,
}
