//! A Yew page showing a live feed from the bundled test server's `/ticker` route through
//! resocket's reconnecting client, with the connection state, and a button that sends
//! through the same client.
//!
//! One task owns the client: it reads the events and sends what the page hands it over a
//! channel, so nothing borrows the client across an `.await` and the component holds only a
//! sender. When the component unmounts, the effect's teardown closes that channel, the task
//! ends, and the client goes with it: no socket, timer or listener outlives the page.

use futures::channel::mpsc::{self, UnboundedReceiver, UnboundedSender};
use futures::{select_biased, SinkExt, StreamExt};
use resocket::{Backoff, Event, Message, ReconnectOptions, Reconnecting, State};
use serde::Deserialize;
use std::time::Duration;
use wasm_bindgen::prelude::wasm_bindgen;
use yew::platform::spawn_local;
use yew::prelude::*;

#[wasm_bindgen(start)]
pub fn start() {
    yew::Renderer::<Ticker>::new().render();
}

#[function_component]
fn Ticker() -> Html {
    let feed = use_state(Feed::default);
    let outbox = use_state(|| None::<UnboundedSender<String>>);
    {
        let (feed, outbox) = (feed.setter(), outbox.setter());
        // Runs once after the first render; what it returns runs at unmount.
        use_effect_with((), move |()| {
            let (sender, inbox) = mpsc::unbounded();
            outbox.set(Some(sender.clone()));
            spawn_local(run(inbox, move |next| feed.set(next)));
            move || sender.close_channel()
        });
    }

    let send = {
        let (outbox, tick) = (outbox.clone(), feed.tick.unwrap_or_default());
        Callback::from(move |_: MouseEvent| {
            if let Some(outbox) = outbox.as_ref() {
                // Fails only once the task has ended, when there is nothing left to send to.
                let _ = outbox.unbounded_send(format!("hello at tick {tick}"));
            }
        })
    };

    html! {
        <>
            <h1>{ "resocket + Yew" }</h1>
            <dl>
                <dt>{ "Connection" }</dt>
                <dd id="state">{ feed.state }</dd>
                <dt>{ "Latest tick" }</dt>
                <dd id="tick">{ feed.tick.map_or("-".to_owned(), |t| t.to_string()) }</dd>
                <dt>{ "Ticks received" }</dt>
                <dd id="received">{ feed.received }</dd>
                <dt>{ "Reconnects" }</dt>
                <dd id="reconnects">{ feed.opens.saturating_sub(1) }</dd>
                <dt>{ "Messages sent" }</dt>
                <dd id="sent">{ feed.sent }</dd>
                <dt>{ "Last event" }</dt>
                <dd id="note">{ feed.note.clone() }</dd>
            </dl>
            <button id="send" onclick={send}>{ "Send hello" }</button>
        </>
    }
}

/// What the page shows, rebuilt by the task after every event.
#[derive(Clone, Debug)]
struct Feed {
    state: &'static str,
    tick: Option<u64>,
    received: u64,
    opens: u64,
    sent: u64,
    note: String,
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
async fn run(mut outbox: UnboundedReceiver<String>, show: impl Fn(Feed)) {
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
