//! Continuing a long call in a fresh Realtime session before the service's limit, sans-IO.
//!
//! The service ends every session at its `expires_at` (60 minutes after it started). The
//! [`OpenAiLeg`](super::OpenAiLeg) watches that deadline with a [`Planner`]: once the
//! [`RenewalPolicy::margin`] before it is reached the leg opens a second session with the
//! same configuration, and at the next turn boundary (no response running or being asked
//! for, the caller not speaking, no tool call waiting for its result) it seeds that session
//! with the conversation so far ([`History`]), moves the audio over and closes the old one.
//! If no boundary comes before [`RenewalPolicy::hard_margin`], it switches anyway.
//!
//! Both pieces here are plain data driven by the leg: the planner decides *when*, the
//! history keeps *what* to carry; neither does any I/O, so both are unit-tested with
//! paused time and hand-made events.

use std::time::Duration;

use openai_realtime::{ClientEvent, ContentPart, FunctionCallItem, Item, MessageItem, Role};
use tokio::time::Instant;

/// When an [`OpenAiLeg`](super::OpenAiLeg) continues its call in a fresh session.
///
/// ```
/// use std::time::Duration;
/// use voice_bridge::RenewalPolicy;
///
/// // Start looking for a turn boundary 5 minutes before the limit; switch at 1 minute
/// // even mid-turn.
/// let policy = RenewalPolicy::default();
/// assert_eq!(policy.margin(), Duration::from_secs(300));
/// assert_eq!(policy.hard_margin(), Duration::from_secs(60));
/// // A test with a 3-second mock session.
/// let short = RenewalPolicy::new(Duration::from_millis(2000), Duration::from_millis(700));
/// assert_eq!(short.hard_margin(), Duration::from_millis(700));
/// assert!(RenewalPolicy::disabled().is_disabled());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenewalPolicy {
    margin: Duration,
    hard_margin: Duration,
    enabled: bool,
}

impl Default for RenewalPolicy {
    /// 5 minutes before the limit, switching at 1 minute whatever the turn.
    fn default() -> Self {
        Self::new(Duration::from_secs(5 * 60), Duration::from_secs(60))
    }
}

impl RenewalPolicy {
    /// Look for a turn boundary from `margin` before the session's `expires_at`, and
    /// switch at `hard_margin` before it even mid-turn. A `hard_margin` larger than
    /// `margin` is cut to `margin`. A session that lasts no longer than `margin` from its
    /// start is not renewed (its successor would be renewed at once).
    pub fn new(margin: Duration, hard_margin: Duration) -> Self {
        Self {
            margin,
            hard_margin: hard_margin.min(margin),
            enabled: true,
        }
    }

    /// Never renew: the call ends with the session (the service's `session_expired`).
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// How long before `expires_at` the fresh session is opened and a turn boundary looked
    /// for.
    pub fn margin(&self) -> Duration {
        self.margin
    }

    /// How long before `expires_at` the switch happens even without a turn boundary.
    pub fn hard_margin(&self) -> Duration {
        self.hard_margin
    }

    /// Whether renewal is off ([`RenewalPolicy::disabled`]).
    pub fn is_disabled(&self) -> bool {
        !self.enabled
    }
}

/// A fresh session could not take the call over; the call stays on the old session.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenewalError {
    /// The client failed while the leg was at `stage`, with the service's words.
    #[error("continuing the call in a fresh session failed while {stage}: {source}")]
    Client {
        /// What the leg was doing.
        stage: &'static str,
        /// The client's error.
        #[source]
        source: openai_realtime::client::Error,
    },
    /// The fresh session ended, or the service reported an error in it, before the switch.
    #[error("continuing the call in a fresh session failed while it waited for the switch: {0}")]
    Standby(String),
}

impl RenewalError {
    /// Opening (handshake, `session.created`, `session.update`) failed, or the fresh
    /// session's socket failed while it waited.
    pub(crate) fn opening(source: openai_realtime::client::Error) -> Self {
        Self::Client {
            stage: "opening it",
            source,
        }
    }

    /// Sending the conversation so far failed.
    pub(crate) fn seeding(source: openai_realtime::client::Error) -> Self {
        Self::Client {
            stage: "sending it the conversation so far",
            source,
        }
    }
}

/// Why the leg switched to a fresh session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SwitchCause {
    /// At a turn boundary within the margin.
    TurnBoundary,
    /// The hard margin came first.
    HardMargin,
}

/// What the leg should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Nothing yet.
    Wait,
    /// Start opening the fresh session.
    Open,
    /// The fresh session is ready: seed it and switch to it.
    Switch(SwitchCause),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No deadline known (or renewal is off).
    Idle,
    /// Watching the current session's deadline.
    Watching,
    /// The fresh session is being opened.
    Opening,
    /// The fresh session is confirmed and waits for the switch.
    Standby,
    /// Seeding and switching.
    Switching,
    /// This session's renewal failed: the call stays on it until it ends.
    Failed,
}

/// The renewal's decision logic for the current session.
#[derive(Debug, Clone)]
pub(crate) struct Planner {
    policy: RenewalPolicy,
    expires: Option<Instant>,
    phase: Phase,
    cause: SwitchCause,
}

impl Planner {
    pub(crate) fn new(policy: RenewalPolicy) -> Self {
        Self {
            policy,
            expires: None,
            phase: Phase::Idle,
            cause: SwitchCause::TurnBoundary,
        }
    }

    /// A session became the current one at `now`, with `time_left` until the service ends
    /// it (`None`: it did not say).
    pub(crate) fn on_session(&mut self, now: Instant, time_left: Option<Duration>) {
        self.expires = time_left.map(|left| now + left);
        // A session that lasts no longer than the margin is not renewed: its successor
        // would be renewed at once, and so on, a session per turn.
        let long_enough = time_left.is_some_and(|left| left > self.policy.margin);
        self.phase = if self.policy.enabled && long_enough {
            Phase::Watching
        } else {
            Phase::Idle
        };
    }

    /// When the current session ends, if known.
    pub(crate) fn expires(&self) -> Option<Instant> {
        self.expires
    }

    fn soft(&self) -> Option<Instant> {
        self.expires
            .map(|at| at.checked_sub(self.policy.margin).unwrap_or(at))
    }

    fn hard(&self) -> Option<Instant> {
        self.expires
            .map(|at| at.checked_sub(self.policy.hard_margin).unwrap_or(at))
    }

    /// What to do at `now`; `boundary` tells whether the call is between turns.
    pub(crate) fn poll(&self, now: Instant, boundary: bool) -> Step {
        match self.phase {
            Phase::Watching if self.soft().is_some_and(|soft| now >= soft) => Step::Open,
            Phase::Standby if boundary => Step::Switch(SwitchCause::TurnBoundary),
            Phase::Standby if self.hard().is_some_and(|hard| now >= hard) => {
                Step::Switch(SwitchCause::HardMargin)
            }
            _ => Step::Wait,
        }
    }

    /// When [`poll`](Self::poll) may answer something new without new events.
    pub(crate) fn next_wake(&self) -> Option<Instant> {
        match self.phase {
            Phase::Watching => self.soft(),
            Phase::Standby => self.hard(),
            _ => None,
        }
    }

    /// The leg started opening the fresh session.
    pub(crate) fn opening(&mut self) {
        self.phase = Phase::Opening;
    }

    /// The fresh session is confirmed.
    pub(crate) fn opened(&mut self) {
        self.phase = Phase::Standby;
    }

    /// The leg started seeding the fresh session, for `cause`.
    pub(crate) fn switching(&mut self, cause: SwitchCause) {
        self.phase = Phase::Switching;
        self.cause = cause;
    }

    /// Whether the fresh session is being seeded (else, if anything, opened).
    pub(crate) fn is_switching(&self) -> bool {
        self.phase == Phase::Switching
    }

    /// Why the switch under way happens.
    pub(crate) fn cause(&self) -> SwitchCause {
        self.cause
    }

    /// Opening or seeding failed: no more tries for this session.
    pub(crate) fn failed(&mut self) {
        self.phase = Phase::Failed;
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    /// A caller's turn, its text once transcribed.
    User {
        item_id: String,
        text: Option<String>,
    },
    /// An agent's spoken item, its text once the transcript is done.
    Assistant {
        item_id: String,
        text: Option<String>,
    },
    /// A function call the agent made.
    Call {
        call_id: String,
        name: String,
        arguments: String,
    },
    /// A tool's result.
    Output { call_id: String, output: String },
}

impl Entry {
    /// The item it becomes in the fresh session; `None` for a message without words.
    fn item(&self) -> Option<Item> {
        let words = |text: &Option<String>| text.clone().filter(|t| !t.is_empty());
        Some(match self {
            Self::User { text, .. } => Item::user_text(words(text)?),
            Self::Assistant { text, .. } => Item::Message(MessageItem::new(
                Role::Assistant,
                vec![ContentPart::output_text(words(text)?)],
            )),
            Self::Call {
                call_id,
                name,
                arguments,
            } => {
                let mut call = FunctionCallItem::default();
                call.call_id = Some(call_id.as_str().into());
                call.name.clone_from(name);
                call.arguments.clone_from(arguments);
                Item::FunctionCall(call)
            }
            Self::Output { call_id, output } => {
                Item::function_call_output(call_id.as_str(), output.clone())
            }
        })
    }

    /// Whether it becomes an item (see [`item`](Self::item)), without building it.
    fn is_sent(&self) -> bool {
        match self {
            Self::User { text, .. } | Self::Assistant { text, .. } => {
                text.as_deref().is_some_and(|t| !t.is_empty())
            }
            Self::Call { .. } | Self::Output { .. } => true,
        }
    }
}

/// The conversation so far, in the order of its items, to seed a fresh session with.
#[derive(Debug, Clone, Default)]
pub(crate) struct History {
    entries: Vec<Entry>,
}

impl History {
    fn find(&mut self, id: &str) -> Option<&mut Option<String>> {
        self.entries.iter_mut().find_map(|entry| match entry {
            Entry::User { item_id, text } | Entry::Assistant { item_id, text } if item_id == id => {
                Some(text)
            }
            _ => None,
        })
    }

    /// The caller's audio was committed as item `item_id`: its place in the order.
    pub(crate) fn user_item(&mut self, item_id: &str) {
        if self.find(item_id).is_none() {
            self.entries.push(Entry::User {
                item_id: item_id.to_owned(),
                text: None,
            });
        }
    }

    /// The agent started the message item `item_id`: its place in the order.
    pub(crate) fn assistant_item(&mut self, item_id: &str) {
        if self.find(item_id).is_none() {
            self.entries.push(Entry::Assistant {
                item_id: item_id.to_owned(),
                text: None,
            });
        }
    }

    /// The whole text of the caller's item (its place kept if it was committed before).
    pub(crate) fn user_text(&mut self, item_id: &str, text: &str) {
        self.user_item(item_id);
        if let Some(slot) = self.find(item_id) {
            *slot = Some(text.to_owned());
        }
    }

    /// The whole text of the agent's item.
    pub(crate) fn assistant_text(&mut self, item_id: &str, text: &str) {
        self.assistant_item(item_id);
        if let Some(slot) = self.find(item_id) {
            *slot = Some(text.to_owned());
        }
    }

    /// A message the bridge typed for the caller (a key press), with no item id of ours.
    pub(crate) fn user_typed(&mut self, text: &str) {
        self.entries.push(Entry::User {
            item_id: String::new(),
            text: Some(text.to_owned()),
        });
    }

    /// The agent called a function.
    pub(crate) fn call(&mut self, call_id: &str, name: &str, arguments: &str) {
        self.entries.push(Entry::Call {
            call_id: call_id.to_owned(),
            name: name.to_owned(),
            arguments: arguments.to_owned(),
        });
    }

    /// A tool's result went to the agent.
    pub(crate) fn output(&mut self, call_id: &str, output: &str) {
        self.entries.push(Entry::Output {
            call_id: call_id.to_owned(),
            output: output.to_owned(),
        });
    }

    /// How many items [`events`](Self::events) sends: the entries with words, and the tool
    /// traffic.
    pub(crate) fn len(&self) -> usize {
        self.entries.iter().filter(|entry| entry.is_sent()).count()
    }

    /// The `conversation.item.create` events that rebuild the conversation, in order.
    /// Messages without text (audio never transcribed) are left out: the service cannot
    /// take assistant audio back, and a message without content says nothing.
    pub(crate) fn events(&self) -> Vec<ClientEvent> {
        self.entries
            .iter()
            .filter_map(Entry::item)
            .map(ClientEvent::item_create)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: Duration = Duration::from_secs(60);

    fn planner(left: Duration) -> (Planner, Instant) {
        let mut planner = Planner::new(RenewalPolicy::default());
        let now = Instant::now();
        planner.on_session(now, Some(left));
        (planner, now)
    }

    #[tokio::test(start_paused = true)]
    async fn the_fresh_session_opens_at_the_margin_and_switches_at_a_turn_boundary() {
        let (mut planner, start) = planner(60 * MIN);
        assert_eq!(planner.next_wake(), Some(start + 55 * MIN));
        tokio::time::advance(54 * MIN).await;
        assert_eq!(planner.poll(Instant::now(), true), Step::Wait);
        tokio::time::advance(MIN).await;
        assert_eq!(planner.poll(Instant::now(), false), Step::Open);
        planner.opening();
        // While it opens, nothing else is asked, boundary or not.
        assert_eq!(planner.poll(Instant::now(), true), Step::Wait);
        assert_eq!(planner.next_wake(), None);
        planner.opened();
        assert_eq!(planner.next_wake(), Some(start + 59 * MIN));
        // Mid-turn: wait.
        assert_eq!(planner.poll(Instant::now(), false), Step::Wait);
        tokio::time::advance(MIN).await;
        assert_eq!(
            planner.poll(Instant::now(), true),
            Step::Switch(SwitchCause::TurnBoundary)
        );
        planner.switching(SwitchCause::TurnBoundary);
        assert!(planner.is_switching());
        assert_eq!(planner.poll(Instant::now(), true), Step::Wait);
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_turn_boundary_the_hard_margin_switches_anyway() {
        let (mut planner, _) = planner(60 * MIN);
        tokio::time::advance(55 * MIN).await;
        assert_eq!(planner.poll(Instant::now(), false), Step::Open);
        planner.opening();
        planner.opened();
        tokio::time::advance(3 * MIN).await;
        assert_eq!(planner.poll(Instant::now(), false), Step::Wait);
        tokio::time::advance(MIN).await;
        assert_eq!(
            planner.poll(Instant::now(), false),
            Step::Switch(SwitchCause::HardMargin)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_renewal_is_not_tried_again_and_a_new_session_starts_over() {
        let (mut planner, _) = planner(60 * MIN);
        tokio::time::advance(56 * MIN).await;
        assert_eq!(planner.poll(Instant::now(), true), Step::Open);
        planner.opening();
        planner.failed();
        tokio::time::advance(3 * MIN).await;
        assert_eq!(planner.poll(Instant::now(), true), Step::Wait);
        assert_eq!(planner.next_wake(), None);
        // The next session (after a switch) is watched afresh.
        planner.on_session(Instant::now(), Some(60 * MIN));
        assert_eq!(planner.next_wake(), Some(Instant::now() + 55 * MIN));
    }

    #[tokio::test(start_paused = true)]
    async fn no_deadline_or_renewal_off_never_renews() {
        let mut planner = Planner::new(RenewalPolicy::default());
        planner.on_session(Instant::now(), None);
        assert_eq!(planner.next_wake(), None);
        let mut off = Planner::new(RenewalPolicy::disabled());
        off.on_session(Instant::now(), Some(Duration::ZERO));
        assert_eq!(off.poll(Instant::now(), true), Step::Wait);
        assert_eq!(off.next_wake(), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_session_no_longer_than_the_margin_is_not_renewed() {
        let (short, _) = planner(5 * MIN);
        assert_eq!(short.poll(Instant::now(), true), Step::Wait);
        assert_eq!(short.next_wake(), None);
        let (longer, start) = planner(5 * MIN + Duration::from_secs(1));
        assert_eq!(longer.next_wake(), Some(start + Duration::from_secs(1)));
    }

    #[test]
    fn the_hard_margin_is_never_above_the_margin() {
        let policy = RenewalPolicy::new(Duration::from_secs(2), Duration::from_secs(9));
        assert_eq!(policy.hard_margin(), Duration::from_secs(2));
    }

    fn wire(history: &History) -> Vec<serde_json::Value> {
        history
            .events()
            .iter()
            .map(|event| {
                let wire: serde_json::Value =
                    serde_json::from_str(&event.encode(openai_realtime::Dialect::Ga)).unwrap();
                wire["item"].clone()
            })
            .collect()
    }

    #[test]
    fn the_history_keeps_the_items_order_not_the_transcripts() {
        let mut history = History::default();
        history.user_item("item_u1");
        history.assistant_item("item_a1");
        history.assistant_text("item_a1", "Hello, this is the clinic.");
        // The caller's transcription finishes after the agent answered.
        history.user_text("item_u1", "Hi, who is this?");
        history.call("call_1", "confirm", r#"{"id":"42"}"#);
        history.output("call_1", r#"{"ok":true}"#);
        // Never transcribed: left out.
        history.user_item("item_u2");
        history.assistant_text("item_a2", "Done.");
        assert_eq!(history.len(), 5);
        let items = wire(&history);
        assert_eq!(items[0]["role"], "user");
        assert_eq!(items[0]["content"][0]["type"], "input_text");
        assert_eq!(items[0]["content"][0]["text"], "Hi, who is this?");
        assert_eq!(items[1]["role"], "assistant");
        assert_eq!(items[1]["content"][0]["type"], "output_text");
        assert_eq!(items[1]["content"][0]["text"], "Hello, this is the clinic.");
        assert_eq!(items[2]["type"], "function_call");
        assert_eq!(items[2]["call_id"], "call_1");
        assert_eq!(items[2]["name"], "confirm");
        assert_eq!(items[2]["arguments"], r#"{"id":"42"}"#);
        assert_eq!(items[3]["type"], "function_call_output");
        assert_eq!(items[4]["content"][0]["text"], "Done.");
    }
}
