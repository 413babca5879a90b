//! Helpers shared by the browser tests: where the test server is, how to ask it to misbehave,
//! and how to wait without hanging forever.
#![allow(dead_code)] // each test file uses its own subset

use std::future::Future;
use std::time::Duration;
use wasm_bindgen::prelude::*;

/// The test server's base address (`ws://127.0.0.1:PORT`), baked in at compile time by
/// scripts/test, which starts the server on a free port first.
pub fn server() -> &'static str {
    match option_env!("RESOCKET_TEST_SERVER") {
        Some(address) => address,
        None => panic!("RESOCKET_TEST_SERVER is unset: run the browser tests with scripts/test"),
    }
}

/// The URL of a route on the test server, such as `url("/echo")`.
pub fn url(route: &str) -> String {
    format!("{}{route}", server())
}

/// How the tests' connections receive: `RESOCKET_TEST_RECEIVE=backpressure` at compile time
/// reads through `WebSocketStream`; anything else, or nothing, through events. scripts/test
/// runs socket, reconnect and fates that way in Chromium too.
pub fn receive() -> resocket::Receive {
    match option_env!("RESOCKET_TEST_RECEIVE") {
        Some("backpressure") => resocket::Receive::Backpressure,
        _ => resocket::Receive::Events,
    }
}

/// Connection options for the tests: the defaults, receiving as [`receive`] says.
pub fn connect_options() -> resocket::ConnectOptions {
    resocket::ConnectOptions::default().receive(receive())
}

/// Whether this browser has `WebSocketStream`.
pub fn has_web_socket_stream() -> bool {
    js_sys::Reflect::has(&js_sys::global(), &"WebSocketStream".into()).unwrap_or(false)
}

/// The browser's `navigator.userAgent`, for messages about what a browser lacks.
pub fn user_agent() -> String {
    let navigator =
        js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    js_sys::Reflect::get(&navigator, &"userAgent".into())
        .ok()
        .and_then(|agent| agent.as_string())
        .unwrap_or_default()
}

/// A port on 127.0.0.1 where nothing listens, found free by scripts/test.
pub fn closed_port() -> u16 {
    match option_env!("RESOCKET_TEST_CLOSED_PORT").map(str::parse) {
        Some(Ok(port)) => port,
        _ => panic!("RESOCKET_TEST_CLOSED_PORT is unset: run the browser tests with scripts/test"),
    }
}

#[wasm_bindgen(inline_js = r#"
export function http_get(url) {
  return fetch(url).then((response) => {
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return response.text();
  });
}

// Counts listeners on WebSocket objects as the browser sees them, independently of the
// library's own bookkeeping: every addEventListener minus every removeEventListener. On the
// WebSocketStream path the socket is resocket's wrapper (src/socket/stream.rs), an
// EventTarget that registers each listener there too.
export function install_listener_counter() {
  if (globalThis.__resocketListeners !== undefined) return;
  globalThis.__resocketListeners = 0;
  const proto = EventTarget.prototype;
  const add = proto.addEventListener;
  const remove = proto.removeEventListener;
  const counted = (target) =>
    target instanceof WebSocket || target.constructor?.name === 'StreamSocket';
  proto.addEventListener = function (...args) {
    if (counted(this)) globalThis.__resocketListeners += 1;
    return add.apply(this, args);
  };
  proto.removeEventListener = function (...args) {
    if (counted(this)) globalThis.__resocketListeners -= 1;
    return remove.apply(this, args);
  };
}

export function browser_listener_count() {
  return globalThis.__resocketListeners ?? 0;
}
"#)]
extern "C" {
    #[wasm_bindgen(catch)]
    async fn http_get(url: &str) -> Result<JsValue, JsValue>;

    /// Starts counting listeners on WebSocket objects (idempotent).
    pub fn install_listener_counter();

    /// Listeners added to WebSocket objects minus those removed, since the counter was installed.
    pub fn browser_listener_count() -> i32;
}

/// Calls a control route of the test server (`/control/...`) and returns its answer.
pub async fn control(path_and_query: &str) -> String {
    let address = format!(
        "{}{path_and_query}",
        server().replacen("ws://", "http://", 1)
    );
    match within(10, &address, http_get(&address)).await {
        Ok(text) => text.as_string().unwrap_or_default(),
        Err(error) => panic!("control request {address} failed: {error:?}"),
    }
}

/// How far the test server's `/flood` under `key` got: messages sent, and whether it is done.
pub async fn flood_progress(key: &str) -> (u64, bool) {
    let report = control(&format!("/control/flood?key={key}")).await;
    let parsed = js_sys::JSON::parse(&report).unwrap_or_else(|_| panic!("not JSON: {report}"));
    let field = |name: &str| js_sys::Reflect::get(&parsed, &name.into()).unwrap_or_default();
    match (field("sent").as_f64(), field("done").as_bool()) {
        (Some(sent), Some(done)) => (sent as u64, done),
        _ => panic!("no progress in the server's report: {report}"),
    }
}

/// A random number in `low..high`, for keys that differ between runs.
pub fn random_below(low: u64, high: u64) -> u64 {
    low + (js_sys::Math::random() * (high - low) as f64) as u64
}

/// Sends `message` on `socket` and returns the next message it reads.
pub async fn echo(
    socket: &mut resocket::WebSocket,
    message: resocket::Message,
) -> resocket::Message {
    use futures::{SinkExt, StreamExt};
    socket.send(message).await.expect("send");
    within(20, "echo", socket.next())
        .await
        .expect("stream ended")
        .expect("stream error")
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: u64) {
    gloo_timers::future::sleep(Duration::from_millis(ms)).await;
}

/// Runs `future`, failing the test if it takes longer than `seconds`.
pub async fn within<F: Future>(seconds: u64, what: &str, future: F) -> F::Output {
    use futures::future::{select, Either};
    let deadline = gloo_timers::future::sleep(Duration::from_secs(seconds));
    match select(std::pin::pin!(future), std::pin::pin!(deadline)).await {
        Either::Left((output, _)) => output,
        Either::Right(_) => panic!("{what} did not finish within {seconds} s"),
    }
}

/// The size of wasm linear memory in bytes. It never shrinks, so growth is what a leak shows.
pub fn wasm_memory_bytes() -> u32 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length()
}

mod heap;
#[allow(unused_imports)] // each test file uses its own subset
pub use heap::{live_allocations, live_bytes};

pub mod reconnecting;
