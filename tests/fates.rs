//! Browser test of the promise that no message is lost without being reported: each message
//! given to `resocket::Reconnecting` arrives at the server or is handed back, even while the
//! server keeps closing the connection under a client that streams at full speed.
//!
//! Covered:
//! - a client streaming 1 KiB messages through its `Sink` as fast as backpressure allows, while
//!   the server closes every connection cleanly (1001 and 1012 in turn) at random moments,
//!   24 times: every message it accepted arrives at the server at least once (the test
//!   server's `/tally` notes each message's id, across connections), or is handed back by
//!   `close()` or reported in `Event::Unsent` or `Event::Dropped`. Arriving twice is allowed:
//!   after a close the client did not start, the client sends again the newest
//!   `bufferedAmount + RESEND_WINDOW` bytes, because Chromium drops what it had already taken
//!   off `bufferedAmount` (bench/close-loss.mjs measures how much);
//! - what that costs while idle: after 100,000 messages of 32 bytes have reached the server,
//!   the client's Rust heap holds the newest `RESEND_WINDOW` bytes of them and their ledger
//!   entries, and no more (the benchmark's "held" figure).
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
use resocket::RESEND_WINDOW;
use resocket::{Backoff, Error, Event, Message, ReconnectOptions, Reconnecting, State};
use std::cell::Cell;
use std::collections::HashSet;
use std::time::Duration;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Clean closes by the server, at least 20 as the promise's test asks.
const CLOSES: u32 = 24;
const MESSAGE_BYTES: usize = 1024;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

/// A whole number of milliseconds in `low..high`, drawn afresh each time.
fn random_ms(low: u64, high: u64) -> u64 {
    low + (js_sys::Math::random() * (high - low) as f64) as u64
}

/// Message `id`: its id in 8 digits (which the server's /tally reads), then padding to 1 KiB.
fn message(id: u64, padding: &str) -> Message {
    Message::from(format!("{id:08} {padding}"))
}

/// The ids the server's /tally received under `key`, and how many messages it counted.
async fn tally(key: &str) -> (HashSet<u64>, u64, u64) {
    let answer = control(&format!("/control/tally?key={key}")).await;
    let value = js_sys::JSON::parse(&answer).expect("tally is JSON");
    let field = |name: &str| {
        js_sys::Reflect::get(&value, &name.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(f64::NAN)
    };
    let ranges: js_sys::Array = js_sys::Reflect::get(&value, &"ranges".into())
        .expect("ranges")
        .into();
    let mut ids = HashSet::new();
    for range in ranges.iter() {
        let range: js_sys::Array = range.into();
        let first = range.get(0).as_f64().expect("first") as u64;
        let last = range.get(1).as_f64().expect("last") as u64;
        ids.extend(first..=last);
    }
    assert_eq!(
        field("withoutId"),
        0.0,
        "the server got messages without an id"
    );
    (ids, field("messages") as u64, field("distinct") as u64)
}

fn ids_of(messages: &[Message]) -> impl Iterator<Item = u64> + '_ {
    messages.iter().map(|message| {
        message
            .as_text()
            .and_then(|text| text.get(..8))
            .and_then(|digits| digits.parse().ok())
            .expect("a message of ours")
    })
}

#[wasm_bindgen_test]
async fn every_message_streamed_through_server_closes_arrives_or_is_reported() {
    let key = format!("fates{}", random_ms(0, 1_000_000_000));
    let options = ReconnectOptions::new(url(&format!("/tally?key={key}")))
        .backoff(Backoff::default().min_delay(ms(20)).max_delay(ms(100)));
    let mut client = match Reconnecting::connect_with(options.receive(receive())) {
        Ok(client) => client,
        Err(error) => panic!("connect_with: {error}"),
    };
    let padding = "x".repeat(MESSAGE_BYTES - 9);
    let done = Cell::new(false);
    let refusals = Cell::new(0u64);

    // Closes whatever connection is open, at a random moment, until CLOSES have been closed.
    let closer = async {
        let mut closed = 0;
        let mut asked = 0;
        while closed < CLOSES {
            asked += 1;
            assert!(asked < 2_000, "only {closed} closes after {asked} tries");
            sleep(random_ms(30, 300)).await;
            let code = if closed % 2 == 0 { 1001 } else { 1012 };
            let answer = control(&format!("/control/close-all?code={code}&reason=fates")).await;
            closed += answer.parse::<u32>().unwrap_or(0);
        }
        done.set(true);
        closed
    };

    // Feeds messages as fast as the client takes them. A message the queue refuses (while the
    // client is down and the queue is full) is offered again a little later: only accepted
    // messages count as sent.
    let sender = async {
        let mut sent = 0u64;
        while !done.get() {
            match client.feed(message(sent, &padding)).await {
                Ok(()) => sent += 1,
                Err(Error::QueueFull { .. }) => {
                    refusals.set(refusals.get() + 1);
                    sleep(5).await;
                }
                Err(error) => panic!("send {sent}: {error}"),
            }
        }
        sent
    };

    let (closed, sent) = within(300, "streaming through the closes", async {
        futures::join!(closer, sender)
    })
    .await;

    // Let the last connection open and flush what was queued, then close for good.
    within(10, "the last reconnection", async {
        while client.state() != State::Open {
            sleep(10).await;
        }
    })
    .await;
    sleep(300).await;
    let mut reported: Vec<u64> = match client.close(1000, "done") {
        Ok(handed_back) => ids_of(&handed_back).collect(),
        Err(error) => panic!("close: {error}"),
    };
    let handed_back = reported.len();
    let mut closes_seen = 0;
    within(10, "the end of the events", async {
        while let Some(event) = client.next().await {
            match event {
                Event::Unsent(messages) | Event::Dropped(messages) => {
                    reported.extend(ids_of(&messages))
                }
                Event::Closed(_) => closes_seen += 1,
                Event::GaveUp { reason } => panic!("gave up: {reason}"),
                _ => {}
            }
        }
    })
    .await;
    // The close handshake is over, so the server has read everything sent before it.
    let (arrived, messages, distinct) = tally(&key).await;

    let reported: HashSet<u64> = reported.into_iter().collect();
    let missing: Vec<u64> = (0..sent)
        .filter(|id| !arrived.contains(id) && !reported.contains(id))
        .collect();
    let both = reported.iter().filter(|id| arrived.contains(id)).count();
    console_log!(
        "fates: {closed} server closes ({closes_seen} closes seen); {sent} messages sent \
         ({} refused by a full queue and offered again); the server received {messages} \
         ({distinct} distinct, {} duplicates); {} reported ({handed_back} handed back by \
         close(), {} in events; {both} of them also arrived); {} missing",
        refusals.get(),
        messages - distinct,
        reported.len(),
        reported.len() - handed_back,
        missing.len(),
    );
    assert!(closed >= CLOSES);
    assert!(
        sent > u64::from(CLOSES) * 100,
        "only {sent} messages sent: the test proves nothing"
    );
    assert!(
        arrived.iter().all(|id| *id < sent),
        "the server received ids that were never sent"
    );
    let shown: Vec<u64> = missing.iter().copied().take(20).collect();
    assert!(
        missing.is_empty(),
        "{} messages neither arrived nor were reported, e.g. {shown:?}",
        missing.len()
    );
}

#[wasm_bindgen_test]
async fn once_idle_the_ledger_holds_the_window_and_no_more() {
    const COUNT: u32 = 100_000;
    const SIZE: usize = 32;
    let mut client = match Reconnecting::connect(&url("/count")) {
        Ok(client) => client,
        Err(error) => panic!("connect: {error}"),
    };
    within(10, "open", async {
        while !matches!(client.next().await, Some(Event::Open { .. })) {}
    })
    .await;
    let before = live_bytes();
    let text = "x".repeat(SIZE);
    for _ in 0..COUNT {
        client
            .send(Message::Text(text.clone()))
            .await
            .expect("send");
    }
    client.send(Message::from("stats")).await.expect("send");
    let answer = within(30, "the server's count", async {
        loop {
            if let Some(Event::Message(Message::Text(answer))) = client.next().await {
                break answer;
            }
        }
    })
    .await;
    // The driver trims the ledger once a second while idle.
    sleep(1500).await;
    let held = live_bytes().saturating_sub(before);
    client.close(1000, "").expect("close");
    // The newest RESEND_WINDOW bytes of messages: their text, and one ledger entry (24 bytes
    // on wasm32) each, in a VecDeque that may keep up to 2.5 times the room it needs.
    let messages = RESEND_WINDOW as usize / SIZE;
    let bound = messages * SIZE + messages * 24 * 5 / 2;
    console_log!(
        "held: {held} bytes of Rust heap once {COUNT} messages of {SIZE} B reached the server \
         ({answer}); the window's {messages} messages bound it at {bound}"
    );
    assert!(
        answer.contains(&format!("\"messages\":{COUNT}")),
        "{answer}"
    );
    assert!(held <= bound, "held {held} bytes, more than {bound}");
}
