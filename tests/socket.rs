//! Browser tests of the single connection, `resocket::WebSocket`, against the real test server.
//!
//! Covered, one behaviour per test:
//! - echo keeps text as text and binary as binary: non-ASCII, empty and multi-megabyte messages;
//! - 1,000 messages sent by the server the instant it opens all arrive, in order;
//! - a refused port, a refused handshake and a stalled handshake (connect timeout) fail with
//!   typed errors and do not hang;
//! - bad URLs and subprotocols are typed errors; http: URLs become ws:;
//! - close codes and reasons are checked before the browser sees them;
//! - close after split, close events seen by the reader, abrupt TCP drop (1006);
//! - sending after close is an error, never a hang;
//! - the subprotocol is negotiated;
//! - backpressure holds bufferedAmount near the high-water mark for 64 MiB to a slow reader;
//! - dropping the connect future mid-handshake, or the socket, leaves no listener behind;
//! - 1,000 connect/send/close cycles grow neither memory nor listeners;
//! - `max_unread_bytes`: a reader that stops reading gets what arrived, then the typed error,
//!   and the connection is closed (4009); without it everything arrives;
//!
//! `RESOCKET_TEST_RECEIVE=backpressure` at compile time runs every connection of this file on
//! the `WebSocketStream` path; tests/backpressure.rs covers what that path adds.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use futures::{SinkExt, StreamExt};
use futures_core::FusedStream;
use resocket::{ConnectOptions, Error, Message, WebSocket};
use std::future::Future;
use std::time::Duration;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn connect(route: &str) -> WebSocket {
    match within(
        10,
        "connect",
        WebSocket::connect_with(&url(route), connect_options()),
    )
    .await
    {
        Ok(socket) => socket,
        Err(error) => panic!("connect to {route}: {error}"),
    }
}

#[wasm_bindgen_test]
async fn echo_keeps_text_as_text_including_non_ascii() {
    let mut socket = connect("/echo").await;
    let text = "héllo, wörld: 你好 🦀";
    assert_eq!(
        echo(&mut socket, text.into()).await,
        Message::Text(text.into())
    );
}

/// The pass built with `RESOCKET_TEST_RECEIVE=backpressure` must really read through
/// `WebSocketStream` where the browser has one, or it would test the event path twice.
#[wasm_bindgen_test]
async fn connections_receive_the_way_this_build_asks() {
    let socket = connect("/echo").await;
    let expected = receive() == resocket::Receive::Backpressure && has_web_socket_stream();
    assert_eq!(
        socket.receives_with_backpressure(),
        expected,
        "asked for {:?} in {}",
        receive(),
        user_agent()
    );
}

#[wasm_bindgen_test]
async fn echo_keeps_binary_as_binary() {
    let mut socket = connect("/echo").await;
    let bytes: Vec<u8> = (0..=255).collect();
    assert_eq!(
        echo(&mut socket, bytes.clone().into()).await,
        Message::Binary(bytes)
    );
}

#[wasm_bindgen_test]
async fn empty_messages_are_delivered() {
    let mut socket = connect("/echo").await;
    assert_eq!(
        echo(&mut socket, "".into()).await,
        Message::Text(String::new())
    );
    assert_eq!(
        echo(&mut socket, Vec::new().into()).await,
        Message::Binary(Vec::new())
    );
}

#[wasm_bindgen_test]
async fn multi_megabyte_messages_round_trip() {
    let mut socket = connect("/echo").await;
    let bytes: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 251) as u8).collect();
    assert_eq!(
        echo(&mut socket, bytes.clone().into()).await,
        Message::Binary(bytes)
    );
    let text = "ü€".repeat(1 << 20); // 5 MiB of UTF-8
    assert_eq!(
        echo(&mut socket, text.clone().into()).await,
        Message::Text(text)
    );
}

#[wasm_bindgen_test]
async fn messages_sent_at_open_all_arrive_in_order() {
    let mut socket = connect("/burst?count=1000").await;
    for expected in 0..1000 {
        let message = within(10, "burst", socket.next()).await;
        assert_eq!(message, Some(Ok(Message::Text(expected.to_string()))));
    }
}

#[wasm_bindgen_test]
async fn refused_port_fails_with_connect_failed() {
    let address = format!("ws://127.0.0.1:{}/", closed_port());
    let result = within(
        30,
        "connect to closed port",
        WebSocket::connect_with(&address, connect_options()),
    )
    .await;
    match result {
        Err(Error::ConnectFailed(event)) => {
            assert_eq!(event.code, 1006);
            assert!(!event.was_clean);
        }
        other => panic!("expected ConnectFailed, got {:?}", other.map(|_| "open")),
    }
}

#[wasm_bindgen_test]
async fn refused_handshake_fails_with_connect_failed() {
    let result = within(
        10,
        "refused handshake",
        WebSocket::connect_with(&url("/refuse?status=403"), connect_options()),
    )
    .await;
    assert!(
        matches!(&result, Err(Error::ConnectFailed(event)) if event.code == 1006),
        "got {:?}",
        result.map(|_| "open")
    );
}

#[wasm_bindgen_test]
async fn stalled_handshake_fails_with_connect_timeout() {
    let options = connect_options().connect_timeout(Duration::from_millis(300));
    let result = within(
        10,
        "stalled handshake",
        WebSocket::connect_with(&url("/stall"), options),
    )
    .await;
    assert_eq!(
        result.err(),
        Some(Error::ConnectTimeout(Duration::from_millis(300)))
    );
    assert_eq!(resocket::live_listeners(), 0);
}

#[wasm_bindgen_test]
async fn unusable_urls_are_invalid_url_errors() {
    for bad in [
        "ftp://127.0.0.1/",
        "ws://127.0.0.1:99999/",
        "ws://127.0.0.1/#fragment",
        "http://[::1",
    ] {
        match WebSocket::connect_with(bad, connect_options()).await {
            Err(Error::InvalidUrl { url, reason }) => {
                assert_eq!(url, bad);
                assert!(!reason.is_empty());
            }
            other => panic!(
                "{bad}: expected InvalidUrl, got {:?}",
                other.map(|_| "open")
            ),
        }
    }
}

#[wasm_bindgen_test]
async fn http_url_connects_as_ws() {
    let address = url("/echo").replacen("ws://", "http://", 1);
    let socket = within(
        10,
        "connect",
        WebSocket::connect_with(&address, connect_options()),
    )
    .await
    .expect("connect");
    assert_eq!(socket.url(), url("/echo"));
}

#[wasm_bindgen_test]
async fn bad_subprotocols_are_invalid_protocol_errors() {
    let options = connect_options().protocols(["chat", "a b"]);
    let result = WebSocket::connect_with(&url("/protocol"), options).await;
    assert!(matches!(result, Err(Error::InvalidProtocol { protocol, .. }) if protocol == "a b"));
    assert_eq!(resocket::live_listeners(), 0);
}

#[wasm_bindgen_test]
async fn subprotocol_is_negotiated() {
    let options = connect_options().protocols(["alpha", "beta"]);
    let socket = within(
        10,
        "connect",
        WebSocket::connect_with(&url("/protocol?choose=beta"), options),
    )
    .await
    .expect("connect");
    assert_eq!(socket.protocol(), "beta");
}

#[wasm_bindgen_test]
async fn bad_close_code_and_reason_are_rejected_and_leave_the_socket_open() {
    let mut socket = connect("/echo").await;
    assert_eq!(
        socket.close(1001, ""),
        Err(Error::InvalidCloseCode { code: 1001 })
    );
    assert_eq!(
        socket.close(2999, ""),
        Err(Error::InvalidCloseCode { code: 2999 })
    );
    assert_eq!(
        socket.close(5000, ""),
        Err(Error::InvalidCloseCode { code: 5000 })
    );
    assert_eq!(
        socket.close(4000, &"x".repeat(124)),
        Err(Error::CloseReasonTooLong { bytes: 124 })
    );
    assert!(socket.is_open());
    assert_eq!(
        echo(&mut socket, "still open".into()).await,
        Message::from("still open")
    );
}

#[wasm_bindgen_test]
async fn close_after_split_ends_the_reader_cleanly() {
    let socket = connect("/echo").await;
    let closer = socket.closer();
    let (_writer, mut reader) = socket.split();
    closer.close(4000, "done").expect("close");
    assert_eq!(within(10, "reader end", reader.next()).await, None);
    assert!(reader.is_terminated());
    let event = reader.close_event().expect("close event");
    assert_eq!(
        (event.code, event.reason.as_str(), event.was_clean),
        (4000, "done", true)
    );
}

#[wasm_bindgen_test]
async fn server_close_code_and_reason_reach_the_reader() {
    let mut socket = connect("/close?code=4001&reason=bye%20now&delay=50").await;
    assert_eq!(within(10, "stream end", socket.next()).await, None);
    let event = socket.close_event().expect("close event");
    assert_eq!(
        (event.code, event.reason.as_str(), event.was_clean),
        (4001, "bye now", true)
    );
}

#[wasm_bindgen_test]
async fn abrupt_tcp_drop_ends_the_stream_with_1006() {
    let mut socket = connect("/drop?delay=50").await;
    match within(10, "drop", socket.next()).await {
        Some(Err(Error::ConnectionLost(event))) => assert_eq!(event.code, 1006),
        other => panic!("expected ConnectionLost, got {other:?}"),
    }
    assert_eq!(socket.next().await, None);
    assert!(socket.is_terminated());
    assert_eq!(socket.close_event().map(|event| event.code), Some(1006));
}

#[wasm_bindgen_test]
async fn sending_after_close_is_an_error() {
    let mut socket = connect("/echo").await;
    socket.close(1000, "").expect("close");
    let result = within(5, "send after close", socket.send("late".into())).await;
    assert_eq!(result, Err(Error::Closed));
    assert_eq!(within(10, "stream end", socket.next()).await, None);
    let result = within(5, "send after closed", socket.send("later".into())).await;
    assert_eq!(result, Err(Error::Closed));
}

#[wasm_bindgen_test]
async fn sending_after_the_server_dropped_is_an_error() {
    let socket = connect("/drop?delay=50").await;
    let (mut writer, mut reader) = socket.split();
    while within(10, "drop", reader.next()).await.is_some() {}
    assert_eq!(
        within(5, "send", writer.send("late".into())).await,
        Err(Error::Closed)
    );
}

#[wasm_bindgen_test]
async fn sink_close_does_the_closing_handshake() {
    let mut socket = connect("/echo").await;
    within(10, "sink close", SinkExt::close(&mut socket))
        .await
        .expect("close");
    let event = socket.close_event().expect("closed after poll_close");
    assert_eq!((event.code, event.was_clean), (1000, true));
}

#[wasm_bindgen_test]
async fn backpressure_keeps_buffered_amount_near_the_high_water_mark() {
    const HIGH_WATER_MARK: u32 = 256 * 1024;
    const CHUNK: usize = 64 * 1024;
    const TOTAL: usize = 64 << 20;
    let options = connect_options().high_water_mark(HIGH_WATER_MARK);
    let socket = within(
        10,
        "connect",
        WebSocket::connect_with(&url("/slow?rate=33554432"), options),
    )
    .await
    .expect("connect");
    let (mut writer, mut reader) = socket.split();
    let chunk = vec![7u8; CHUNK];
    let mut highest = 0;
    let mut waited = 0;
    within(60, "64 MiB to the slow reader", async {
        for _ in 0..TOTAL / CHUNK {
            if writer.buffered_amount() > HIGH_WATER_MARK {
                waited += 1;
            }
            writer
                .feed(Message::from(chunk.as_slice()))
                .await
                .expect("send");
            highest = highest.max(writer.buffered_amount());
        }
        writer.send("stats".into()).await.expect("send stats");
    })
    .await;
    assert!(
        highest <= HIGH_WATER_MARK + CHUNK as u32,
        "bufferedAmount reached {highest}, more than {HIGH_WATER_MARK} + one {CHUNK}-byte message"
    );
    assert!(
        waited > 0,
        "the slow reader never made the sink wait: the test proves nothing"
    );
    let stats = within(30, "stats", reader.next())
        .await
        .expect("stats")
        .expect("stats");
    let expected = format!("{{\"messages\":{},\"bytes\":{TOTAL}}}", TOTAL / CHUNK);
    assert_eq!(stats, Message::Text(expected));
}

#[wasm_bindgen_test]
async fn dropping_the_connect_future_mid_handshake_leaves_no_listener() {
    install_listener_counter();
    let before = browser_listener_count();
    let address = url("/stall");
    let mut connecting = Box::pin(WebSocket::connect_with(&address, connect_options()));
    let poll_once = futures::future::poll_fn(|cx| {
        let _ = connecting.as_mut().poll(cx);
        std::task::Poll::Ready(())
    });
    poll_once.await;
    assert!(
        browser_listener_count() > before,
        "the handshake never started"
    );
    assert!(resocket::live_listeners() > 0);
    drop(connecting);
    assert_eq!(browser_listener_count(), before);
    assert_eq!(resocket::live_listeners(), 0);
}

#[wasm_bindgen_test]
async fn dropping_the_socket_closes_it_and_removes_its_listeners() {
    install_listener_counter();
    let before = browser_listener_count();
    // Counted from this test's start: a connection another test left to the server (or its
    // restarts) must not decide this one.
    let open_before = open_at_server().await;
    let socket = connect("/echo").await;
    assert!(browser_listener_count() > before);
    drop(socket);
    assert_eq!(browser_listener_count(), before);
    assert_eq!(resocket::live_listeners(), 0);
    // The server sees the close: no connection of ours stays open on its side.
    let mut open = 0;
    for _ in 0..50 {
        open = open_at_server().await;
        if open <= open_before {
            return;
        }
        sleep(20).await;
    }
    panic!("the server still has {open} connections open, {open_before} before this test");
}

#[wasm_bindgen_test]
async fn a_thousand_connect_send_close_cycles_leak_nothing() {
    install_listener_counter();
    // Deltas from this test's own start: a failed test elsewhere aborts without dropping
    // what it held.
    let listeners_before = browser_listener_count();
    let live_before = resocket::live_listeners();
    let heap_before = live_bytes();
    for _ in 0..1000 {
        let mut socket = connect("/echo").await;
        assert_eq!(
            echo(&mut socket, "ping".into()).await,
            Message::from("ping")
        );
        within(10, "close", SinkExt::close(&mut socket))
            .await
            .expect("close");
        drop(socket);
    }
    let heap_after = live_bytes();
    console_log!(
        "leak check: Rust heap {heap_before} bytes before 1000 cycles, {heap_after} after; \
         listeners alive {}",
        resocket::live_listeners() - live_before
    );
    // At most: what earlier tests left may be let go meanwhile.
    assert!(
        heap_after <= heap_before,
        "1000 closed sockets left {} bytes behind",
        heap_after - heap_before
    );
    assert_eq!(resocket::live_listeners(), live_before);
    assert_eq!(browser_listener_count(), listeners_before);
}

/// The connections the test server has open now.
async fn open_at_server() -> u64 {
    let stats = control("/control/stats").await;
    stats
        .split_once("\"open\":")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or_else(|| panic!("no open count in the server's stats: {stats}"))
}

/// The flood route sends `count` binary messages of 64 KiB on "go"; the reader waits before
/// reading anything, then reads to the end.
async fn unread_flood(options: ConnectOptions, count: usize) -> (usize, Option<Error>, bool) {
    let route = format!("/flood?count={count}&size=65536&binary=1");
    let mut socket = within(
        10,
        "connect",
        WebSocket::connect_with(&url(&route), options),
    )
    .await
    .expect("connect");
    let backpressure = socket.receives_with_backpressure();
    socket
        .send(Message::Text("go".into()))
        .await
        .expect("send go");
    sleep(1500).await;
    let mut received = 0;
    loop {
        match within(10, "the next message", socket.next()).await {
            Some(Ok(Message::Binary(bytes))) if bytes.len() == 65536 => received += 1,
            // The route's closing "done".
            Some(Ok(Message::Text(text))) if text == "done" => {
                if received == count {
                    return (received, None, backpressure);
                }
            }
            Some(Ok(other)) => panic!("unexpected message {other:?}"),
            Some(Err(error)) => return (received, Some(error), backpressure),
            None => return (received, None, backpressure),
        }
    }
}

#[wasm_bindgen_test]
async fn max_unread_bytes_closes_with_4009_after_delivering_what_arrived() {
    let limit = 1 << 20;
    let options = connect_options().max_unread_bytes(limit);
    let (received, error, backpressure) = unread_flood(options, 200).await;
    if backpressure {
        // The stream reads no further ahead than the bound: the server waits instead.
        assert!(error.is_none(), "unexpected {error:?}");
        assert_eq!(received, 200);
        return;
    }
    assert!(
        matches!(error, Some(Error::UnreadLimitExceeded { limit: 1_048_576 })),
        "expected UnreadLimitExceeded after {received} messages, got {error:?}"
    );
    // The bound is passed by the 17th message; a few more may arrive while the close is on its
    // way, but nothing like the 200 (12.5 MiB) the server sent.
    assert!(
        (17..200).contains(&received),
        "{received} messages of 64 KiB arrived before the error"
    );
}

#[wasm_bindgen_test]
async fn without_max_unread_bytes_a_slow_reader_gets_everything() {
    let (received, error, _) = unread_flood(connect_options(), 200).await;
    assert!(error.is_none(), "unexpected {error:?}");
    assert_eq!(received, 200);
}

#[wasm_bindgen_test]
fn max_unread_bytes_of_zero_is_refused() {
    let error = connect_options().max_unread_bytes(0).validate();
    assert!(
        matches!(
            error,
            Err(Error::InvalidOption {
                option: "max_unread_bytes",
                ..
            })
        ),
        "{error:?}"
    );
}
