//! The Rust subject of the benchmark (bench/page/bench.js drives it): resocket's `WebSocket`
//! as a `Stream`/`Sink`, reading every message as the `String`/`Vec<u8>` it yields, and the
//! `Reconnecting` client for the reconnect and memory runs.
//!
//! Each run times itself with `performance.now()` at the same points as the JavaScript
//! subjects: from just before "go" (or the first send) to the last message. A counting
//! allocator lets the memory run see every live byte of the Rust heap, and the module also
//! exports resocket's own `ReconnectingWebSocket` class (`reconnectingWebSocketClass`), so
//! the JavaScript class can be run over that counted heap too.

// Linked for its exports alone (the class, `reconnectingWebSocketClass`): nothing here names it.
extern crate resocket_js;

use futures::future::{AbortHandle, Abortable};
use futures::{SinkExt, StreamExt};
use resocket::{
    Backoff, ConnectOptions, Event, Jitter, Message, Receive, ReconnectOptions, Reconnecting,
    WebSocket,
};
use std::time::Duration;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn now() -> f64;
}

// The counting allocator the browser tests use too: every live byte of the Rust heap.
#[path = "../../tests/common/heap.rs"]
mod heap;

/// Bytes the Rust heap holds right now.
#[wasm_bindgen(js_name = liveBytes)]
pub fn live_bytes() -> f64 {
    heap::live_bytes() as f64
}

/// Allocations the Rust heap holds right now.
#[wasm_bindgen(js_name = liveAllocations)]
pub fn live_allocations() -> f64 {
    heap::live_allocations() as f64
}

/// Event listeners resocket has in place, across all its sockets.
#[wasm_bindgen(js_name = liveListeners)]
pub fn live_listeners() -> u32 {
    resocket::live_listeners() as u32
}

/// The size of this module's wasm memory, in bytes.
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    let buffer: js_sys::ArrayBuffer = memory.buffer().unchecked_into();
    buffer.byte_length() as f64
}

fn to_js(error: resocket::Error) -> JsValue {
    JsValue::from_str(&error.to_string())
}

/// Connects on the path a subject names: `stream` reads through `WebSocketStream`
/// (`Receive::Backpressure`), and fails where the browser has none, so a row never measures
/// the event path under the stream path's name.
async fn connect(url: &str, stream: bool) -> Result<WebSocket, JsValue> {
    let receive = if stream {
        Receive::Backpressure
    } else {
        Receive::Events
    };
    let socket = WebSocket::connect_with(url, ConnectOptions::default().receive(receive))
        .await
        .map_err(to_js)?;
    if socket.receives_with_backpressure() != stream {
        return Err(JsValue::from_str(
            "this browser has no WebSocketStream: the rustStream subject does not apply",
        ));
    }
    Ok(socket)
}

fn closed_early() -> JsValue {
    JsValue::from_str("the connection ended before the run did")
}

// ---------------------------------------------------------------------------
// Throughput and latency runs on one connection
// ---------------------------------------------------------------------------

/// Receive: connects to a /flood URL, sends "go" and reads every message until the text
/// "done". Returns `[messages, bytes, milliseconds]`, timed from just before "go".
#[wasm_bindgen(js_name = rustReceive)]
pub async fn rust_receive(url: String, stream: bool) -> Result<Vec<f64>, JsValue> {
    let mut socket = connect(&url, stream).await?;
    let start = now();
    socket.send(Message::from("go")).await.map_err(to_js)?;
    let (mut messages, mut bytes) = (0u64, 0u64);
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                if text == "done" {
                    break;
                }
                bytes += text.len() as u64;
            }
            Some(Ok(Message::Binary(data))) => bytes += data.len() as u64,
            Some(Err(error)) => return Err(to_js(error)),
            None => return Err(closed_early()),
        }
        messages += 1;
    }
    let elapsed = now() - start;
    socket.close(1000, "").map_err(to_js)?;
    Ok(vec![messages as f64, bytes as f64, elapsed])
}

/// Send: connects to /count and sends `count` binary messages of `size` bytes through the
/// `Sink` (which waits while the browser holds more than its 1 MiB high-water mark), then
/// "stats". Returns `[messages, bytes, milliseconds]` as the server counted them, timed from
/// the first send to the server's answer.
#[wasm_bindgen(js_name = rustSend)]
pub async fn rust_send(
    url: String,
    count: u32,
    size: u32,
    stream: bool,
) -> Result<Vec<f64>, JsValue> {
    let mut socket = connect(&url, stream).await?;
    let payload = vec![0u8; size as usize];
    let start = now();
    for _ in 0..count {
        socket
            .send(Message::Binary(payload.clone()))
            .await
            .map_err(to_js)?;
    }
    socket.send(Message::from("stats")).await.map_err(to_js)?;
    let answer = match socket.next().await {
        Some(Ok(Message::Text(text))) => text,
        Some(Ok(Message::Binary(_))) => return Err(JsValue::from_str("stats came as binary")),
        Some(Err(error)) => return Err(to_js(error)),
        None => return Err(closed_early()),
    };
    let elapsed = now() - start;
    socket.close(1000, "").map_err(to_js)?;
    Ok(vec![
        json_number(&answer, "messages"),
        json_number(&answer, "bytes"),
        elapsed,
    ])
}

/// A number field of the server's flat JSON answer, NaN if absent.
fn json_number(json: &str, field: &str) -> f64 {
    let key = format!("\"{field}\":");
    json.find(&key)
        .map(|at| &json[at + key.len()..])
        .map(|rest| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Echo: `count` round trips of a `size`-byte text message to /echo, one at a time. Returns
/// every round trip's milliseconds.
#[wasm_bindgen(js_name = rustEcho)]
pub async fn rust_echo(
    url: String,
    count: u32,
    size: u32,
    stream: bool,
) -> Result<Vec<f64>, JsValue> {
    let mut socket = connect(&url, stream).await?;
    let text = "x".repeat(size as usize);
    let mut round_trips = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let start = now();
        socket
            .send(Message::Text(text.clone()))
            .await
            .map_err(to_js)?;
        match socket.next().await {
            Some(Ok(_)) => round_trips.push(now() - start),
            Some(Err(error)) => return Err(to_js(error)),
            None => return Err(closed_early()),
        }
    }
    socket.close(1000, "").map_err(to_js)?;
    Ok(round_trips)
}

/// A reader slower than its server, for bench/stream-probe.mjs --memory: connects to a /flood
/// URL (on the `WebSocketStream` path when `stream`), sends "go", then takes one message each
/// time `tick(consumed)` resolves, until it resolves to `false`. Returns the messages taken.
#[wasm_bindgen(js_name = rustSlowReader)]
pub async fn rust_slow_reader(
    url: String,
    stream: bool,
    tick: js_sys::Function,
) -> Result<f64, JsValue> {
    let mut socket = connect(&url, stream).await?;
    socket.send(Message::from("go")).await.map_err(to_js)?;
    let mut consumed = 0u32;
    loop {
        let more = tick.call1(&JsValue::NULL, &JsValue::from(consumed))?;
        let more = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&more)).await?;
        if !more.is_truthy() {
            break;
        }
        match socket.next().await {
            Some(Ok(_)) => consumed += 1,
            Some(Err(error)) => return Err(to_js(error)),
            None => return Err(closed_early()),
        }
    }
    socket.close(1000, "").map_err(to_js)?;
    Ok(f64::from(consumed))
}

/// One connect/exchange/drop cycle of the single connection, for the memory run.
#[wasm_bindgen(js_name = rustConnectOnce)]
pub async fn rust_connect_once(url: String) -> Result<(), JsValue> {
    let mut socket = WebSocket::connect(&url).await.map_err(to_js)?;
    socket.send(Message::from("x")).await.map_err(to_js)?;
    match socket.next().await {
        Some(Ok(_)) => Ok(()),
        Some(Err(error)) => Err(to_js(error)),
        None => Err(closed_early()),
    }
}

// ---------------------------------------------------------------------------
// The reconnecting client
// ---------------------------------------------------------------------------

/// What a `Reconnecting` client holds after sending: connects to a /count URL, sends `count`
/// text messages of `size` bytes, then "stats", and once the server has counted them all
/// (and `settle_ms` later, for the client's idle trim of its in-flight ledger) reads the heap
/// again. Returns `[live bytes before, after, wasm memory before, after,
/// messages the server counted]`.
#[wasm_bindgen(js_name = rustReconnectingSend)]
pub async fn rust_reconnecting_send(
    url: String,
    count: u32,
    size: u32,
    settle_ms: u32,
) -> Result<Vec<f64>, JsValue> {
    let mut client = Reconnecting::connect(&url).map_err(to_js)?;
    loop {
        match client.next().await {
            Some(Event::Open { .. }) => break,
            Some(_) => {}
            None => return Err(closed_early()),
        }
    }
    let (live_before, memory_before) = (live_bytes(), wasm_memory_bytes());
    let text = "x".repeat(size as usize);
    for _ in 0..count {
        client
            .send(Message::Text(text.clone()))
            .await
            .map_err(to_js)?;
    }
    client.send(Message::from("stats")).await.map_err(to_js)?;
    let answer = loop {
        match client.next().await {
            Some(Event::Message(Message::Text(text))) => break text,
            Some(_) => {}
            None => return Err(closed_early()),
        }
    };
    sleep(settle_ms).await;
    let (live_after, memory_after) = (live_bytes(), wasm_memory_bytes());
    client.close(1000, "").map_err(to_js)?;
    Ok(vec![
        live_before,
        live_after,
        memory_before,
        memory_after,
        json_number(&answer, "messages"),
    ])
}

/// A `Reconnecting` client whose events are reported to `on_event(kind, attempt)` with
/// `kind` one of "open", "close", "reconnecting", "message", "other". The backoff is a fixed
/// `delay_ms` (min = max, no jitter), so a run measures the client, not the schedule.
#[wasm_bindgen]
pub struct RustReconnecting {
    abort: AbortHandle,
}

#[wasm_bindgen]
impl RustReconnecting {
    #[wasm_bindgen(constructor)]
    pub fn new(
        url: String,
        delay_ms: u32,
        on_event: js_sys::Function,
    ) -> Result<RustReconnecting, JsValue> {
        let delay = Duration::from_millis(u64::from(delay_ms.max(1)));
        let backoff = Backoff::default()
            .min_delay(delay)
            .max_delay(delay)
            .jitter(Jitter::None);
        let mut client = Reconnecting::connect_with(ReconnectOptions::new(url).backoff(backoff))
            .map_err(to_js)?;
        let (abort, registration) = AbortHandle::new_pair();
        let events = async move {
            while let Some(event) = client.next().await {
                let (kind, attempt) = match event {
                    Event::Open { attempt, .. } => ("open", attempt),
                    Event::Closed(_) => ("close", 0),
                    Event::Reconnecting { attempt, .. } => ("reconnecting", attempt),
                    Event::Message(_) => ("message", 0),
                    _ => ("other", 0),
                };
                let _ = on_event.call2(
                    &JsValue::UNDEFINED,
                    &JsValue::from_str(kind),
                    &JsValue::from(attempt),
                );
            }
        };
        wasm_bindgen_futures::spawn_local(async move {
            // Aborting drops the client, which closes its socket and stops its timers.
            let _ = Abortable::new(events, registration).await;
        });
        Ok(RustReconnecting { abort })
    }

    /// Closes the client for good (it is dropped).
    pub fn close(&self) {
        self.abort.abort();
    }
}

/// Waits `ms` milliseconds on the browser's timer.
async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        let set_timeout = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("setTimeout"))
            .map(|value| value.unchecked_into::<js_sys::Function>());
        if let Ok(set_timeout) = set_timeout {
            let _ = set_timeout.call2(&JsValue::UNDEFINED, &resolve, &JsValue::from(ms));
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
