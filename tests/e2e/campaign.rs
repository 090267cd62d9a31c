//! `batch`'s campaign as a real child process (the example's binary) against the REST
//! stand-in, killed with SIGKILL at each stage and started again on the same database:
//! nobody reached is called twice, a call whose fate is unknown is looked up on Twilio
//! instead of redialled (by its CallSid, or among the calls to the number when the run
//! stopped before Twilio returned one), unanswered calls are retried up to `--max-attempts`, calling
//! hours hold on the injected clock (`OUTBOUND_CALL_TEST_NOW`), and every appointment
//! ends final.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use twilio_media_stream::signature::{AuthToken, sign};

use crate::example;
use crate::support::{self, Create, Received, StandIn};

/// 10:00 in New York.
const DAY: &str = "2026-03-03T15:00:00Z";
/// 22:00 in New York.
const NIGHT: &str = "2026-03-04T03:00:00Z";

const LIST: &str = r#"[
  {"id": "apt_1", "name": "Ann", "when": "Tuesday at 10", "with": "Dr. Patel", "to": "+14155550101", "time_zone": "America/New_York"},
  {"id": "apt_2", "name": "Bob", "when": "Tuesday at 11", "with": "Dr. Patel", "to": "+14155550102", "time_zone": "America/New_York"},
  {"id": "apt_3", "name": "Cy", "when": "Tuesday at 12", "with": "Dr. Patel", "to": "+14155550103", "time_zone": "America/New_York"}
]"#;

/// A running `batch`.
struct Batch {
    child: Child,
    output: Arc<Mutex<String>>,
    addr: SocketAddr,
}

impl Batch {
    fn start(dir: &Path, twilio: &StandIn, now: &str) -> Self {
        Self::start_with(dir, twilio, now, "ws://127.0.0.1:9/v1/realtime")
    }

    /// With the agent at `realtime_url` (a mock OpenAI server).
    fn start_with(dir: &Path, twilio: &StandIn, now: &str, realtime_url: &str) -> Self {
        let env = env(dir, twilio, now, realtime_url);
        let mut child = Command::new(example::binary())
            .args(batch_args(dir))
            .env_clear()
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let output = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        example::collect(child.stderr.take().unwrap(), Arc::clone(&output), Some(tx));
        example::collect(child.stdout.take().unwrap(), Arc::clone(&output), None);
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("batch did not serve:\n{}", output.lock().unwrap());
            }
        };
        Self {
            child,
            output,
            addr,
        }
    }

    fn output(&self) -> String {
        example::strip_ansi(&self.output.lock().unwrap())
    }

    /// Waits (up to 10 s) until the output holds `text`.
    fn wait_for(&self, text: &str) {
        for _ in 0..500 {
            if self.output().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("no {text:?} in:\n{}", self.output());
    }

    /// SIGKILL.
    fn kill(mut self) -> String {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
        self.output()
    }

    /// Waits for it to exit on its own (up to 20 s).
    fn wait(mut self) -> (std::process::ExitStatus, String) {
        for _ in 0..1000 {
            if let Some(status) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                return (status, self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("batch did not end:\n{}", self.output());
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn env(dir: &Path, twilio: &StandIn, now: &str, realtime_url: &str) -> Vec<(String, String)> {
    [
        ("TWILIO_ACCOUNT_SID", support::ACCOUNT_SID),
        ("TWILIO_AUTH_TOKEN", support::AUTH_TOKEN),
        ("TWILIO_FROM_NUMBER", support::FROM),
        ("OPENAI_API_KEY", support::OPENAI_API_KEY),
        ("PUBLIC_URL", &format!("https://{}", support::PUBLIC_HOST)),
        ("OPENAI_REALTIME_URL", realtime_url),
        ("TWILIO_API_URL", &twilio.url),
        ("PORT", "0"),
        ("OUTPUT_DIR", &dir.join("out").display().to_string()),
        ("OUTBOUND_CALL_TEST_NOW", now),
        ("RUST_LOG", "info"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn batch_args(dir: &Path) -> Vec<String> {
    [
        "batch",
        "--appointments",
        &dir.join("list.json").display().to_string(),
        "--cps",
        "50",
        "--max-attempts",
        "2",
        "--retry-after",
        "1",
        "--max-in-flight",
        "1",
        "--poll",
        "1",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

fn creates(twilio: &StandIn) -> Vec<Received> {
    twilio
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/Calls.json"))
        .cloned()
        .collect()
}

fn fetches(twilio: &StandIn) -> Vec<String> {
    twilio
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == "GET" && r.path.contains("/Calls/"))
        .map(|r| r.path.clone())
        .collect()
}

/// Waits (up to 10 s) for the `n`th create request.
fn wait_creates(twilio: &StandIn, n: usize) -> Vec<Received> {
    for _ in 0..500 {
        let found = creates(twilio);
        if found.len() >= n {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{n} calls were not placed: {:?}", creates(twilio));
}

fn sid(n: usize) -> String {
    format!("CA{n:032x}")
}

/// Posts Twilio's signed status callback for the `n`th call created.
async fn callback(addr: SocketAddr, request: &Received, n: usize, status: &str) {
    let status_url = request.one("StatusCallback").unwrap();
    let call_sid = sid(n);
    let form = [
        ("AccountSid", support::ACCOUNT_SID),
        ("CallSid", call_sid.as_str()),
        ("CallStatus", status),
    ];
    let signature = sign(&AuthToken::new(support::AUTH_TOKEN), status_url, form);
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let local = status_url.replace(
        &format!("https://{}", support::PUBLIC_HOST),
        &format!("http://{addr}"),
    );
    let response = support::http()
        .post(local)
        .header("x-twilio-signature", signature)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
}

fn set_status(twilio: &StandIn, n: usize, status: &str) {
    twilio
        .calls
        .lock()
        .unwrap()
        .insert(sid(n), status.to_owned());
}

fn db(dir: &Path) -> PathBuf {
    dir.join("out").join("campaign.sqlite")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_killed_at_every_stage_calls_nobody_reached_twice_and_ends_final() {
    let twilio = support::stand_in(Create::Sequential).await;
    let dir = support::temp_dir("campaign-kill");
    std::fs::write(dir.join("list.json"), LIST).unwrap();

    // 1. At night in New York: imported, nothing dialled (calling hours), killed.
    let night = Batch::start(&dir, &twilio, NIGHT);
    night.wait_for("campaign imported");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let output = night.kill();
    assert!(creates(&twilio).is_empty(), "dialled at 22:00:\n{output}");

    // 2. Daytime: apt_1 is placed and answered; killed mid-call.
    let run = Batch::start(&dir, &twilio, DAY);
    let placed = wait_creates(&twilio, 1);
    assert_eq!(placed[0].one("To"), Some("+14155550101"));
    set_status(&twilio, 1, "in-progress");
    callback(run.addr, &placed[0], 1, "in-progress").await;
    run.wait_for("state=in_call");
    let _ = run.kill();
    // While it was down, the call ended.
    set_status(&twilio, 1, "completed");

    // 3. Restart: apt_1 is looked up (done, not redialled); apt_2 is placed; killed after
    //    the create, before any callback.
    let run = Batch::start(&dir, &twilio, DAY);
    let placed = wait_creates(&twilio, 2);
    assert_eq!(placed[1].one("To"), Some("+14155550102"));
    let output = run.kill();
    assert!(
        fetches(&twilio)
            .iter()
            .any(|p| p.ends_with(&format!("{}.json", sid(1)))),
        "apt_1's call was not looked up:\n{output}"
    );
    // Nobody answered apt_2's call meanwhile.
    set_status(&twilio, 2, "no-answer");

    // 4. Restart: apt_2's call is looked up (no-answer: retried after 1 s); apt_3 is
    //    placed and completes; apt_2's retry is busy: it gives up at 2 attempts; the
    //    campaign ends by itself.
    let run = Batch::start(&dir, &twilio, DAY);
    let placed = wait_creates(&twilio, 3);
    assert_eq!(placed[2].one("To"), Some("+14155550103"));
    callback(run.addr, &placed[2], 3, "completed").await;
    let placed = wait_creates(&twilio, 4);
    assert_eq!(placed[3].one("To"), Some("+14155550102"), "apt_2's retry");
    callback(run.addr, &placed[3], 4, "busy").await;
    let (status, output) = run.wait();
    assert!(status.success(), "{output}");
    assert!(output.contains("done     2"), "{output}");
    assert!(output.contains("gave_up  1"), "{output}");
    assert!(
        output.contains("apt_2 +14155550102 (Bob): gave up after 2 attempts (last status busy)"),
        "{output}"
    );

    // 5. After the final callback: a restart dials nobody and ends at once.
    let run = Batch::start(&dir, &twilio, DAY);
    let (status, output) = run.wait();
    assert!(status.success(), "{output}");
    let tos: Vec<String> = creates(&twilio)
        .iter()
        .map(|r| r.one("To").unwrap().to_owned())
        .collect();
    assert_eq!(
        tos,
        [
            "+14155550101",
            "+14155550102",
            "+14155550103",
            "+14155550102"
        ],
        "only the unanswered apt_2 was called again"
    );

    // The store agrees, read back by `campaign status` and `campaign export`.
    let db = db(&dir).display().to_string();
    let (status, text) = example::run(&dir, &[], &["campaign", "status", "--db", &db]);
    assert!(status.success(), "{text}");
    assert!(
        text.contains("pending  0\ndialing  0\nin_call  0\ndone     2\nfailed   0\ngave_up  1"),
        "{text}"
    );
    let (status, json) = example::run(
        &dir,
        &[],
        &["campaign", "export", "--db", &db, "--format", "json"],
    );
    assert!(status.success(), "{json}");
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    let states: Vec<(&str, &str, u64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["appointment_id"].as_str().unwrap(),
                r["state"].as_str().unwrap(),
                r["attempts"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("apt_1", "done", 1),
            ("apt_2", "gave_up", 2),
            ("apt_3", "done", 1)
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_stream_ran_is_followed_after_a_kill_and_its_outcome_kept() {
    use openai_realtime::mock::MockServer;
    use twilio_media_stream::ids::CallSid;
    use twilio_media_stream::simulator::{CallScript, CallerAudio};
    use voice_agent::appointment::Appointment;

    let appointment = Appointment::demo();
    let mock = MockServer::builder()
        .api_key(support::OPENAI_API_KEY)
        .script(voice_agent::demo::script(&appointment))
        .start()
        .await
        .unwrap();
    let twilio = support::stand_in(Create::Sequential).await;
    let dir = support::temp_dir("campaign-stream");
    let mut entry = serde_json::to_value(&appointment).unwrap();
    entry["to"] = "+14155550101".into();
    entry["time_zone"] = "America/New_York".into();
    std::fs::write(
        dir.join("list.json"),
        serde_json::json!([entry]).to_string(),
    )
    .unwrap();

    // The call is placed, answered, and its stream runs through the simulator: the
    // callee asks to reschedule.
    let run = Batch::start_with(&dir, &twilio, DAY, &mock.url());
    let placed = wait_creates(&twilio, 1);
    set_status(&twilio, 1, "in-progress");
    callback(run.addr, &placed[0], 1, "in-progress").await;
    let (stream_url, parameters) = support::stream_of(placed[0].one("Twiml").unwrap());
    let record = CallScript::new(format!("ws://{}/media-stream", run.addr))
        .auth_token(AuthToken::new(support::AUTH_TOKEN))
        .signature_url(&stream_url)
        .call_sid(CallSid::new(sid(1)))
        .parameters(parameters)
        .caller_audio(CallerAudio::speech(voice_agent::demo::CALLER_SPEECH))
        .max_duration(Duration::from_secs(45))
        .run()
        .await
        .unwrap();
    assert!(record.media_received > 0, "the callee heard the agent");
    run.wait_for("campaign outcome recorded");
    // Killed before Twilio's final callback; the call ends while it is down.
    let _ = run.kill();
    set_status(&twilio, 1, "completed");

    // The restart looks the call up, does not place it again, and keeps the outcome.
    let run = Batch::start(&dir, &twilio, DAY);
    let (status, output) = run.wait();
    assert!(status.success(), "{output}");
    assert!(output.contains("done     1"), "{output}");
    assert!(
        output.contains("apt_demo_42 +14155550101 (Jane Doe): asked for another time"),
        "the rescheduling callee needs a person:\n{output}"
    );
    assert_eq!(creates(&twilio).len(), 1, "nobody was called twice");
    let db = db(&dir).display().to_string();
    let (status, json) = example::run(
        &dir,
        &[],
        &["campaign", "export", "--db", &db, "--format", "json"],
    );
    assert!(status.success(), "{json}");
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows[0]["state"], "done", "{rows}");
    assert_eq!(rows[0]["outcome"], "reschedule_requested", "{rows}");
    assert!(rows[0]["report_path"].is_string(), "{rows}");
}

/// A list of `LIST`'s first appointment only.
fn write_one(dir: &Path) {
    let one: Vec<serde_json::Value> = serde_json::from_str(LIST).unwrap();
    std::fs::write(
        dir.join("list.json"),
        serde_json::to_string(&one[..1]).unwrap(),
    )
    .unwrap();
}

fn lists(twilio: &StandIn) -> usize {
    twilio
        .log
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/Calls.json"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_before_twilio_answers_the_create_follows_the_call_twilio_created() {
    let twilio = support::stand_in(Create::StallFirstAfterCreating).await;
    let dir = support::temp_dir("campaign-kill-created");
    write_one(&dir);

    // `dialing` is written before the request; Twilio creates the call, its answer is
    // lost with the process.
    let run = Batch::start(&dir, &twilio, DAY);
    wait_creates(&twilio, 1);
    let _ = run.kill();
    // The callee's phone rings meanwhile.
    set_status(&twilio, 1, "ringing");

    let run = Batch::start(&dir, &twilio, DAY);
    run.wait_for("Twilio had created it: following it, not calling again");
    run.wait_for("call looked up on Twilio");
    assert!(run.output().contains("ringing"), "{}", run.output());
    assert_eq!(
        lists(&twilio),
        1,
        "the calls to the number were listed once"
    );
    // The callee answers and the call ends: the campaign hears it for the call it followed.
    callback(run.addr, &creates(&twilio)[0], 1, "completed").await;
    let (status, output) = run.wait();
    assert!(status.success(), "{output}");
    assert!(output.contains("done     1"), "{output}");
    assert_eq!(
        creates(&twilio).len(),
        1,
        "nobody was called twice:\n{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_before_twilio_created_anything_places_the_call_again() {
    let twilio = support::stand_in(Create::StallFirst).await;
    let dir = support::temp_dir("campaign-kill-dialing");
    write_one(&dir);

    // `dialing` is written before the request; the request never creates a call.
    let run = Batch::start(&dir, &twilio, DAY);
    wait_creates(&twilio, 1);
    let _ = run.kill();

    let run = Batch::start(&dir, &twilio, DAY);
    run.wait_for("Twilio has no call to this number since: placing it again");
    let placed = wait_creates(&twilio, 2);
    assert_eq!(placed[1].one("To"), Some("+14155550101"));
    assert_eq!(lists(&twilio), 1);
    callback(run.addr, &placed[1], 1, "completed").await;
    let (status, output) = run.wait();
    assert!(status.success(), "{output}");
    assert!(output.contains("done     1"), "{output}");
    assert_eq!(creates(&twilio).len(), 2, "{output}");
}

#[test]
fn a_bad_list_is_refused_whole_and_nothing_is_dialled() {
    let dir = support::temp_dir("campaign-bad-list");
    let list = r#"[
  {"id": "a", "name": "Ann", "when": "Monday", "with": "Dr. P", "to": "+14155550101"},
  {"id": "a", "name": "Al", "when": "Monday", "with": "Dr. P", "to": "555-0102", "time_zone": "Nowhere/Town"}
]"#;
    std::fs::write(dir.join("list.json"), list).unwrap();
    // No Twilio at all: refused before the configuration is even read.
    let (status, output) = example::run(&dir, &[], &["batch", "--appointments", "list.json"]);
    assert!(!status.success(), "{output}");
    assert!(
        output.contains("the list was refused, nothing was imported or dialled (3 problems)"),
        "{output}"
    );
    assert!(
        output.contains("line 3, entry 1 (a): `id` \"a\" is also the id on line 2"),
        "{output}"
    );
    assert!(
        output.contains("`time_zone` \"Nowhere/Town\" is not an IANA time zone"),
        "{output}"
    );
    assert!(!dir.join("out").exists(), "no database was made");
}

#[test]
fn a_corrupt_database_is_a_clear_error_not_a_fresh_start() {
    let dir = support::temp_dir("campaign-corrupt");
    std::fs::create_dir_all(dir.join("out")).unwrap();
    let junk = b"not a database ".repeat(200);
    std::fs::write(dir.join("out/campaign.sqlite"), &junk).unwrap();
    let (status, output) = example::run(&dir, &[], &["campaign", "status", "--out", "out"]);
    assert!(!status.success(), "{output}");
    assert!(output.contains("is not a usable SQLite file"), "{output}");
    assert_eq!(
        std::fs::read(dir.join("out/campaign.sqlite")).unwrap(),
        junk
    );
}
