//! Browser tests of receive backpressure (`Receive::Backpressure`), against the real test server.
//!
//! Covered:
//! - it reads through `WebSocketStream` where the browser has it (Chromium), through events
//!   elsewhere (Firefox), and echoes text, binary, empty and 3 MiB messages either way, with
//!   every write finished (`bufferedAmount` back to 0);
//! - a reader that stops reading holds the server's flood back: the server has sent under
//!   half of 600 messages of 64 KiB after 1.5 s (on events it sends them all), and once the
//!   reader reads again every message arrives, then the end.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
use resocket::{ConnectOptions, Message, Receive, WebSocket};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn backpressure_reads_through_web_socket_stream_where_the_browser_has_it() {
    let options = ConnectOptions::default().receive(Receive::Backpressure);
    let mut socket = within(
        10,
        "connect",
        WebSocket::connect_with(&url("/echo"), options),
    )
    .await
    .expect("connect");
    assert_eq!(socket.receives_with_backpressure(), has_web_socket_stream());
    for message in [
        Message::from("héllo 🦀"),
        Message::from(""),
        Message::Binary((0..=255).collect()),
        Message::Binary(Vec::new()),
        Message::Binary(vec![7; 3 << 20]),
    ] {
        assert_eq!(echo(&mut socket, message.clone()).await, message);
    }
    assert_eq!(socket.buffered_amount(), 0, "every write has finished");
    let events = within(
        10,
        "connect",
        WebSocket::connect_with(&url("/echo"), ConnectOptions::default()),
    )
    .await
    .expect("connect");
    assert!(!events.receives_with_backpressure());
}

/// Floods `count` messages of 64 KiB under a fresh key, reads one, stops reading for 1.5 s,
/// then reads the rest. Returns how many the server had sent while the reader stood still,
/// and whether the connection had backpressure.
async fn flood_past_a_reader_that_stops(receive: Receive, count: u64) -> (u64, bool) {
    let key = format!("stops{}", random_below(0, 1_000_000_000));
    let route = format!("/flood?count={count}&size=65536&binary=1&key={key}");
    let options = ConnectOptions::default().receive(receive);
    let mut socket = within(
        10,
        "connect",
        WebSocket::connect_with(&url(&route), options),
    )
    .await
    .expect("connect");
    socket.send(Message::from("go")).await.expect("send go");
    let first = within(10, "the first message", socket.next()).await;
    assert!(matches!(first, Some(Ok(Message::Binary(_)))), "{first:?}");
    sleep(1500).await;
    let (sent_while_stopped, _) = flood_progress(&key).await;
    let mut received = 1;
    loop {
        match within(30, "the next message", socket.next()).await {
            Some(Ok(Message::Binary(bytes))) if bytes.len() == 65536 => received += 1,
            Some(Ok(Message::Text(text))) if text == "done" => break,
            other => panic!("after {received} messages: {other:?}"),
        }
    }
    assert_eq!(received, count, "every message arrives");
    assert_eq!(flood_progress(&key).await, (count, true));
    (sent_while_stopped, socket.receives_with_backpressure())
}

#[wasm_bindgen_test]
async fn a_reader_that_stops_holds_the_server_back_with_backpressure_and_not_on_events() {
    let count = 600; // 37.5 MiB
    let (sent, backpressure) = flood_past_a_reader_that_stops(Receive::Events, count).await;
    assert!(!backpressure);
    assert_eq!(
        sent, count,
        "on events the browser takes all the server sends"
    );
    if !has_web_socket_stream() {
        console_log!(
            "no WebSocketStream in {}: the backpressure half does not apply",
            user_agent()
        );
        return;
    }
    let (sent, backpressure) = flood_past_a_reader_that_stops(Receive::Backpressure, count).await;
    assert!(backpressure);
    console_log!("with backpressure the server had sent {sent} of {count} messages of 64 KiB");
    // What the server's own queue (4 MiB), the two kernels' socket buffers, the browser and
    // the 256 KiB read-ahead hold: well under half of the flood.
    assert!(
        sent < count / 2,
        "the server sent {sent} of {count} to a reader that stopped"
    );
}
