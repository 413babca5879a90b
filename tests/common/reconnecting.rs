//! Helpers for the tests of the reconnecting client: quick options, and waiting for events.

use super::{control, receive, url, within};
use futures::StreamExt;
use resocket::{Backoff, Event, Message, ReconnectOptions, Reconnecting};
use std::time::Duration;
use wasm_bindgen::JsCast;

pub fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A quick schedule, so tests do not wait for the production defaults.
pub fn quick_backoff() -> Backoff {
    Backoff::default().min_delay(ms(50)).max_delay(ms(200))
}

/// Options for `route` on the test server, with [`quick_backoff`].
pub fn options(route: &str) -> ReconnectOptions {
    ReconnectOptions::new(url(route)).backoff(quick_backoff())
}

/// Starts a client, receiving as [`receive`] says.
pub fn start(options: ReconnectOptions) -> Reconnecting {
    match Reconnecting::connect_with(options.receive(receive())) {
        Ok(client) => client,
        Err(error) => panic!("connect_with: {error}"),
    }
}

/// Skips events until one matches, failing the test after `seconds`.
pub async fn until<T>(
    client: &mut Reconnecting,
    seconds: u64,
    what: &str,
    mut matches: impl FnMut(&Event) -> Option<T>,
) -> T {
    within(seconds, what, async {
        loop {
            match client.next().await {
                Some(event) => {
                    if let Some(found) = matches(&event) {
                        return found;
                    }
                }
                None => panic!("{what}: the client's events ended"),
            }
        }
    })
    .await
}

pub async fn until_open(client: &mut Reconnecting, seconds: u64) -> u32 {
    until(client, seconds, "open", |event| match event {
        Event::Open { attempt, .. } => Some(*attempt),
        _ => None,
    })
    .await
}

pub async fn until_message(client: &mut Reconnecting, seconds: u64) -> Message {
    until(client, seconds, "message", |event| match event {
        Event::Message(message) => Some(message.clone()),
        _ => None,
    })
    .await
}

/// Handshakes the test server has seen on `route` (a URL path) since it started.
pub async fn attempts_on(route: &str) -> u64 {
    let stats = control("/control/stats").await;
    let key = format!("\"{route}\":{{\"attempts\":");
    stats
        .split_once(&key)
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

/// Dispatches a plain event of `event_type` on the page's global object, synchronously.
pub fn dispatch(event_type: &str) {
    let event = web_sys::Event::new(event_type).expect("event");
    let window: web_sys::EventTarget = js_sys::global().unchecked_into();
    window.dispatch_event(&event).expect("dispatch");
}
