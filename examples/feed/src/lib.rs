//! What the Leptos and Yew example apps share: the task that owns a reconnecting client to
//! the test server's `/ticker` route, and the feed it shows. Each app only renders a [`Feed`]
//! and hands [`run`] the messages its button sends.
//!
//! One task owns the client: it reads the events and sends what the page hands it over a
//! channel, so nothing borrows the client across an `.await` and the component holds only a
//! sender. When the page closes that channel, the task ends, and the client goes with it: no
//! socket, timer or listener outlives the page.

use futures::channel::mpsc::UnboundedReceiver;
use futures::{select_biased, SinkExt, StreamExt};
use resocket::{Backoff, Event, Message, ReconnectOptions, Reconnecting, State};
use serde::Deserialize;
use std::time::Duration;

/// What the page shows, rebuilt by the task after every event.
#[derive(Clone, Debug)]
pub struct Feed {
    pub state: &'static str,
    pub tick: Option<u64>,
    pub received: u64,
    pub opens: u64,
    pub sent: u64,
    pub note: String,
}

impl Default for Feed {
    fn default() -> Self {
        Feed {
            state: "connecting",
            tick: None,
            received: 0,
            opens: 0,
            sent: 0,
            note: String::new(),
        }
    }
}

/// The ticker's JSON message; its `at` field is not needed here.
#[derive(Deserialize)]
struct Tick {
    tick: u64,
}

/// Owns the client until `outbox` is closed, showing each change through `show`.
pub async fn run(mut outbox: UnboundedReceiver<String>, show: impl Fn(Feed)) {
    let mut feed = Feed::default();
    // A relative URL: resocket resolves it against the page, so the page's server answers.
    let options = ReconnectOptions::new("/ticker?interval=100").backoff(
        Backoff::default()
            .min_delay(Duration::from_millis(200))
            .max_delay(Duration::from_secs(2)),
    );
    let mut client = match Reconnecting::connect_with(options) {
        Ok(client) => client,
        Err(error) => {
            feed.state = "closed";
            feed.note = error.to_string();
            return show(feed);
        }
    };
    loop {
        // Biased towards the outbox, so a closed outbox ends the task before another event
        // is shown on a component that is gone.
        select_biased! {
            text = outbox.next() => match text {
                Some(text) => match client.send(Message::Text(text)).await {
                    Ok(()) => feed.sent += 1,
                    Err(error) => feed.note = format!("send failed: {error}"),
                },
                None => return,
            },
            event = client.next() => match event {
                Some(event) => feed.apply(event),
                None => return,
            },
        }
        feed.state = state_word(client.state());
        show(feed.clone());
    }
}

impl Feed {
    fn apply(&mut self, event: Event) {
        match event {
            Event::Open { attempt, .. } => {
                self.opens += 1;
                self.note = match attempt {
                    0 => "opened".to_owned(),
                    retry => format!("opened on retry {retry}"),
                };
            }
            Event::Message(Message::Text(text)) => {
                if let Ok(Tick { tick }) = serde_json::from_str(&text) {
                    self.tick = Some(tick);
                    self.received += 1;
                }
            }
            Event::Closed(close) => self.note = format!("connection closed, code {}", close.code),
            Event::Reconnecting { attempt, delay } => {
                self.note = format!("retry {attempt} in {} ms", delay.as_millis());
            }
            Event::GaveUp { reason } => self.note = reason.to_string(),
            Event::Error(error) => self.note = error.to_string(),
            _ => {}
        }
    }
}

/// `client.state()` as one word. There is no event for a backoff delay ending, so "waiting"
/// lasts until the next attempt opens or fails.
fn state_word(state: State) -> &'static str {
    match state {
        State::Idle | State::Connecting { .. } | State::OpenHook { .. } => "connecting",
        State::Open => "open",
        State::Waiting { .. } => "waiting",
        State::Paused { .. } => "paused",
        State::GaveUp => "gave up",
        State::Closed => "closed",
        _ => "unknown",
    }
}
