//! The Twilio leg's log lines when the caller's side misbehaves, over loopback: a raw
//! tokio-tungstenite client plays Twilio and the leg's output is captured. One line per
//! cause at its first occurrence, a summary at the end only when something happened, and
//! the counters keep every occurrence.
#![cfg(feature = "tokio-tungstenite-0_30")]

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tracing::instrument::WithSubscriber as _;
use twilio_media_stream::event::{Connected, Media, Start, Stop, StreamEvent};
use twilio_media_stream::simulator::{CallEnd, CallScript};
use twilio_media_stream::{Payload, StreamSid};
use voice_bridge::adapter::twilio::{TungsteniteSocket, TwilioCounters};
use voice_bridge::{CallCommand, CallEvent, CallLeg, Mark, TwilioLeg};

const WAIT: Duration = Duration::from_secs(10);
const SID: &str = "MZ00000000000000000000000000000042";

type Leg = TwilioLeg<TungsteniteSocket<TcpStream>>;
type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Everything the leg logs (DEBUG and up), as the fmt subscriber writes it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        let writer = self.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
    }

    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    /// Lines that contain `needle`.
    fn lines_with(&self, needle: &str) -> Vec<String> {
        self.text()
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A leg served on 127.0.0.1 port 0, run by `serve` under the capturing subscriber (the
/// leg is dropped inside, so its last line is captured too), and the client's socket.
async fn serve<F, Fut, T>(captured: &Captured, serve: F) -> (Client, tokio::task::JoinHandle<T>)
where
    F: FnOnce(Leg) -> Fut + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    let subscriber = captured.subscriber();
    let task = tokio::spawn(
        async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            serve(TwilioLeg::from_websocket(ws)).await
        }
        .with_subscriber(subscriber),
    );
    let (client, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    (client, task)
}

async fn send(client: &mut Client, event: StreamEvent) {
    client.send(Message::text(event.encode())).await.unwrap();
}

fn sid() -> StreamSid {
    StreamSid::new(SID)
}

/// `connected`, then `start` with sequence number 1.
async fn open(client: &mut Client) {
    send(client, Connected::new().into()).await;
    let start = Start::new(1, sid(), "AC1".into(), "CA1".into());
    send(client, start.into()).await;
}

fn media(sequence: u64) -> StreamEvent {
    let chunk = sequence - 1;
    Media::new(
        sequence,
        sid(),
        chunk,
        chunk * 20,
        Payload::from_mulaw(&[0xff; 160]),
    )
    .into()
}

/// Reads the leg to its end; returns how many audio chunks came and the counters, after
/// dropping the leg.
async fn read_to_end(mut leg: Leg) -> (usize, TwilioCounters) {
    let stats = leg.stats();
    let mut audio = 0;
    loop {
        match leg.recv().await.expect("the leg reads") {
            CallEvent::Audio(_) => audio += 1,
            CallEvent::Ended(_) => break,
            _ => {}
        }
    }
    drop(leg);
    (audio, stats.counters())
}

#[tokio::test]
async fn media_out_of_order_logs_one_gap_line_and_one_summary() {
    let captured = Captured::default();
    let (mut client, served) = serve(&captured, read_to_end).await;
    open(&mut client).await;
    // 100 swapped pairs: 3, 2, 5, 4, ... 201, 200.
    for pair in 0..100 {
        let first = 2 + 2 * pair;
        send(&mut client, media(first + 1)).await;
        send(&mut client, media(first)).await;
    }
    let stop = Stop::new(202, sid(), "AC1".into(), "CA1".into());
    send(&mut client, stop.into()).await;
    let (audio, counters) = tokio::time::timeout(WAIT, served).await.unwrap().unwrap();

    assert_eq!(audio, 200, "every frame is delivered");
    // Each pair is one early and one late number; the count does not go back.
    assert_eq!(counters.sequence_gaps, 200, "{counters:?}");
    let gaps = captured.lines_with("twilio: sequenceNumber gap");
    assert_eq!(
        gaps.len(),
        1,
        "one line for the cause:\n{}",
        captured.text()
    );
    assert!(gaps[0].contains("since_last_line=0"), "{}", gaps[0]);
    let summary = captured.lines_with("leg closed");
    assert_eq!(summary.len(), 1, "{}", captured.text());
    assert!(
        summary[0].contains("after irregular input")
            && summary[0].contains("200 sequenceNumber gap(s) (100 message(s) missing)")
            && !summary[0].contains("skipped"),
        "nothing was skipped: {}",
        summary[0]
    );
}

#[tokio::test]
async fn a_caller_that_stops_reading_gets_one_mark_warning() {
    let captured = Captured::default();
    let (mut client, served) = serve(&captured, |mut leg: Leg| async move {
        let stats = leg.stats();
        assert!(matches!(leg.recv().await, Ok(CallEvent::Started(_))));
        // The caller's side never echoes (it stopped reading): past the pending-marks
        // limit (1024) each mark is refused.
        for n in 1..=1524 {
            leg.send(CallCommand::Mark(Mark::new(n))).await.unwrap();
        }
        drop(leg);
        stats.counters()
    })
    .await;
    open(&mut client).await;
    let counters = tokio::time::timeout(WAIT, served).await.unwrap().unwrap();

    assert_eq!(counters.marks_not_sent, 500, "{counters:?}");
    let refused = captured.lines_with("mark not sent");
    assert_eq!(refused.len(), 1, "{}", captured.text());
    assert!(
        refused[0].contains("too many pending marks"),
        "{}",
        refused[0]
    );
    let summary = captured.lines_with("leg closed after irregular input");
    assert_eq!(summary.len(), 1, "{}", captured.text());
    assert!(
        summary[0].contains("500 mark(s) not sent"),
        "{}",
        summary[0]
    );
    drop(client);
}

#[tokio::test]
async fn a_clean_call_ends_without_a_summary_warning() {
    let captured = Captured::default();
    let (mut client, served) = serve(&captured, read_to_end).await;
    open(&mut client).await;
    for sequence in 2..12 {
        send(&mut client, media(sequence)).await;
    }
    let stop = Stop::new(12, sid(), "AC1".into(), "CA1".into());
    send(&mut client, stop.into()).await;
    let (audio, counters) = tokio::time::timeout(WAIT, served).await.unwrap().unwrap();

    assert_eq!((audio, counters.sequence_gaps), (10, 0), "{counters:?}");
    assert!(
        captured.lines_with("WARN").is_empty(),
        "a clean call warns about nothing:\n{}",
        captured.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_simulated_caller_out_of_order_and_not_reading_gets_one_line_per_cause() {
    let captured = Captured::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("ws://{}/media-stream", listener.local_addr().unwrap());
    let served = tokio::spawn(
        async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
            let mut leg: Leg = TwilioLeg::from_websocket(ws);
            let stats = leg.stats();
            let mut next_mark = 0;
            // 100 marks per caller frame: past the pending limit within a few hundred ms,
            // since the caller stops echoing.
            loop {
                match leg.recv().await.expect("the leg reads") {
                    CallEvent::Audio(_) => {
                        for _ in 0..100 {
                            next_mark += 1;
                            leg.send(CallCommand::Mark(Mark::new(next_mark)))
                                .await
                                .unwrap();
                        }
                    }
                    CallEvent::Ended(_) => break,
                    _ => {}
                }
            }
            drop(leg);
            stats.counters()
        }
        .with_subscriber(captured.subscriber()),
    );
    let record = tokio::time::timeout(
        WAIT,
        CallScript::new(url)
            .out_of_order_media()
            .stop_reading_after(Duration::from_millis(100))
            .hang_up_after(Duration::from_millis(600))
            .run(),
    )
    .await
    .unwrap()
    .unwrap();
    let counters = tokio::time::timeout(WAIT, served).await.unwrap().unwrap();

    assert_eq!(record.end, CallEnd::HungUp);
    assert_eq!(
        record.close.map(|c| c.code),
        Some(1000),
        "stop is closed normally"
    );
    assert!(counters.sequence_gaps >= 4, "{counters:?}");
    assert!(counters.marks_not_sent > 0, "{counters:?}");
    for cause in ["twilio: sequenceNumber gap", "twilio: mark not sent"] {
        let lines = captured.lines_with(cause);
        assert_eq!(lines.len(), 1, "{cause}:\n{}", captured.text());
    }
    let summary = captured.lines_with("leg closed after irregular input");
    assert_eq!(summary.len(), 1, "{}", captured.text());
    assert!(
        summary[0].contains(&format!("{} mark(s) not sent", counters.marks_not_sent))
            && summary[0].contains(&format!("{} sequenceNumber gap(s)", counters.sequence_gaps)),
        "{}",
        summary[0]
    );
}
