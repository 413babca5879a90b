//! Browser tests of the npm package's `ReconnectingWebSocket`, driven from JavaScript.
//!
//! - The conformance checks of js/tests/checks/conformance.js run against the browser's own
//!   `WebSocket` and against `ReconnectingWebSocket` (with `maxRetries: 0`): drop-in
//!   compatibility shown check by check, in Chromium and in Firefox.
//! - The checks of js/tests/checks/extras.js test what the class adds: options validation, URL and
//!   protocol providers, reconnecting and giveup events, the send queue, `reconnect()`,
//!   heartbeats, async iteration and message data passed through untouched.
//! - The checks of js/tests/checks/boundary.js test the class at its boundary with the user: fuzzed
//!   arguments never abort the module, callbacks may call back into the client, every client
//!   can be freed (live listeners and the Rust heap, counted by tests/common/heap.rs), re-sent
//!   data is the data sent, callback errors are reported, concurrent `next()` calls resolve.
//! - The class and the Rust API check URLs and close arguments each in their own language;
//!   two tests compare them input by input (16 URLs, 5,632 close calls).
//!
//! Every check is printed with its result; a test fails listing every failed check.
#![cfg(target_arch = "wasm32")]

#[path = "../../tests/common/mod.rs"]
mod common;

use common::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

// The check runner and helpers the check files share; imported here too, so wasm-bindgen
// ships it beside them (they import it as './kit.js').
#[wasm_bindgen(module = "/tests/checks/kit.js")]
extern "C" {
    #[wasm_bindgen(js_name = checkCount)]
    fn check_count(results: &JsValue) -> u32;
}

#[wasm_bindgen(module = "/tests/checks/conformance.js")]
extern "C" {
    #[wasm_bindgen(js_name = runNativeConformance)]
    async fn run_native_conformance(server: &str, closed_port: u16) -> JsValue;

    #[wasm_bindgen(js_name = runFacadeConformance)]
    async fn run_facade_conformance(class: &JsValue, server: &str, closed_port: u16) -> JsValue;
}

#[wasm_bindgen(module = "/tests/checks/boundary.js")]
extern "C" {
    #[wasm_bindgen(js_name = runFuzz)]
    async fn run_fuzz(class: &JsValue, server: &str, closed_port: u16) -> JsValue;

    #[wasm_bindgen(js_name = runCallbacks)]
    async fn run_callbacks(class: &JsValue, server: &str, closed_port: u16) -> JsValue;

    #[wasm_bindgen(js_name = runRelease)]
    async fn run_release(
        class: &JsValue,
        server: &str,
        closed_port: u16,
        probe: &JsValue,
    ) -> JsValue;

    #[wasm_bindgen(js_name = runBoundary)]
    async fn run_boundary(class: &JsValue, server: &str, closed_port: u16) -> JsValue;
}

#[wasm_bindgen(module = "/tests/checks/extras.js")]
extern "C" {
    #[wasm_bindgen(js_name = runExtras)]
    async fn run_extras(class: &JsValue, server: &str, closed_port: u16) -> JsValue;
}

/// Prints every check's result and fails listing the failed ones.
fn report(subject: &str, results: JsValue) {
    let field = |result: &JsValue, name: &str| {
        js_sys::Reflect::get(result, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
    };
    assert!(check_count(&results) > 0, "{subject}: no checks ran");
    let results: js_sys::Array = match results.dyn_into() {
        Ok(results) => results,
        Err(other) => panic!("{subject}: the checks returned {other:?}, not an array"),
    };
    let mut failed = Vec::new();
    for result in results.iter() {
        let name = field(&result, "name").as_string().unwrap_or_default();
        let note = field(&result, "note")
            .as_string()
            .map(|note| format!(" ({note})"))
            .unwrap_or_default();
        if field(&result, "ok").as_bool() == Some(true) {
            console_log!("{subject}: ok    {name}{note}");
        } else {
            let error = field(&result, "error")
                .as_string()
                .unwrap_or_else(|| "(no error message)".into());
            console_log!("{subject}: FAIL  {name}: {error}{note}");
            failed.push(format!("  {name}: {error}"));
        }
    }
    console_log!(
        "{subject}: {} of {} checks passed",
        results.length() as usize - failed.len(),
        results.length()
    );
    assert!(
        failed.is_empty(),
        "{subject}: {} of {} checks failed:\n{}",
        failed.len(),
        results.length(),
        failed.join("\n")
    );
}

#[wasm_bindgen_test]
async fn native_websocket_passes_the_conformance_checks() {
    let results = run_native_conformance(server(), closed_port()).await;
    report("native WebSocket", results);
}

#[wasm_bindgen_test]
async fn reconnecting_websocket_passes_the_conformance_checks() {
    let class = resocket_js::reconnecting_websocket_class();
    let results = run_facade_conformance(&class, server(), closed_port()).await;
    report("ReconnectingWebSocket", results);
}

#[wasm_bindgen_test]
async fn reconnecting_websocket_extra_behaviour() {
    let class = resocket_js::reconnecting_websocket_class();
    let results = run_extras(&class, server(), closed_port()).await;
    report("ReconnectingWebSocket extras", results);
}

#[wasm_bindgen_test]
async fn reconnecting_websocket_survives_fuzzed_arguments() {
    let class = resocket_js::reconnecting_websocket_class();
    let results = run_fuzz(&class, server(), closed_port()).await;
    report("ReconnectingWebSocket fuzz", results);
}

#[wasm_bindgen_test]
async fn reconnecting_websocket_callbacks_may_call_back_into_the_client() {
    let class = resocket_js::reconnecting_websocket_class();
    let results = run_callbacks(&class, server(), closed_port()).await;
    report("ReconnectingWebSocket callbacks", results);
}

#[wasm_bindgen_test]
async fn reconnecting_websocket_clients_can_all_be_freed() {
    let class = resocket_js::reconnecting_websocket_class();
    // What the JS checks read: the library's live listeners and the Rust heap's live bytes
    // and allocations.
    let live_listeners = Closure::<dyn Fn() -> f64>::new(|| resocket::live_listeners() as f64);
    let live_bytes = Closure::<dyn Fn() -> f64>::new(|| live_bytes() as f64);
    let live_allocations = Closure::<dyn Fn() -> f64>::new(|| live_allocations() as f64);
    let probe = js_sys::Object::new();
    for (name, function) in [
        ("liveListeners", live_listeners.as_ref()),
        ("liveBytes", live_bytes.as_ref()),
        ("liveAllocations", live_allocations.as_ref()),
    ] {
        js_sys::Reflect::set(&probe, &JsValue::from_str(name), function).expect("a plain object");
    }
    let results = run_release(&class, server(), closed_port(), &probe).await;
    report("ReconnectingWebSocket release", results);
}

#[wasm_bindgen_test]
async fn reconnecting_websocket_boundary() {
    let class = resocket_js::reconnecting_websocket_class();
    let results = run_boundary(&class, server(), closed_port()).await;
    report("ReconnectingWebSocket boundary", results);
}

#[wasm_bindgen(inline_js = "
export async function openAll(Class, url, count) {
  const sockets = Array.from({ length: count }, () => new Class(url));
  await Promise.all(sockets.map((socket) => new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onclose = () => reject(new Error('closed before it opened'));
  })));
  return sockets;
}
export async function closeAll(sockets) {
  await Promise.all(sockets.map((socket) => new Promise((resolve) => {
    socket.onclose = resolve;
    socket.close();
  })));
}
")]
extern "C" {
    #[wasm_bindgen(js_name = openAll, catch)]
    async fn open_all(class: &JsValue, url: &str, count: u32) -> Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = closeAll)]
    async fn close_all(sockets: &JsValue);
}

/// A socket closed for good lets its Rust core go at once (its wasm memory and its
/// `online`/`offline` listeners), not whenever the garbage collector finalizes the object.
#[wasm_bindgen_test]
async fn close_lets_the_core_go_without_waiting_for_gc() {
    let class = resocket_js::reconnecting_websocket_class();
    let before = resocket::live_listeners();
    let sockets = open_all(&class, &url("/echo"), 20)
        .await
        .expect("20 sockets open");
    let open = resocket::live_listeners();
    assert!(
        open >= before + 20,
        "20 open sockets hold listeners: {before} before, {open} now"
    );
    close_all(&sockets).await;
    // The last close events are dispatched from the driver; let it finish its turn.
    sleep(50).await;
    // At most as many as before: the garbage collector may meanwhile finalize instances of
    // earlier tests, never add listeners; without the release each socket here keeps 3.
    let after = resocket::live_listeners();
    assert!(
        after <= before,
        "listeners still held after every socket closed for good: {before} before, \
         {open} while open, {after} after"
    );
}

// The class checks URLs and close arguments in JavaScript (it must throw the browser's
// exceptions before its module has loaded); the Rust API checks them in Rust
// (src/handshake.rs, src/close.rs). These tests hold the two to one rule.
#[wasm_bindgen(inline_js = "
export function jsUrl(Class, url) {
  try {
    return 'ok ' + new Class(url, undefined, { startClosed: true }).url;
  } catch (error) {
    return 'invalid ' + error.name;
  }
}
export function jsClose(Class, code, reason) {
  const socket = new Class('ws://127.0.0.1:1/', undefined, { startClosed: true });
  try {
    socket.close(code, reason);
    return 'ok';
  } catch (error) {
    return 'invalid ' + error.name;
  }
}
")]
extern "C" {
    #[wasm_bindgen(js_name = jsUrl)]
    fn js_url(class: &JsValue, url: &str) -> String;
    #[wasm_bindgen(js_name = jsClose)]
    fn js_close(class: &JsValue, code: u16, reason: &str) -> String;
}

/// Every URL the class accepts, Rust's `WebSocket::connect` accepts, resolved to the same
/// address; every URL one refuses (a `SyntaxError`, `Error::InvalidUrl`) the other refuses.
#[wasm_bindgen_test]
async fn the_class_and_the_rust_api_resolve_and_refuse_the_same_urls() {
    let class = resocket_js::reconnecting_websocket_class();
    let server = server();
    let http = server.replacen("ws", "http", 1);
    let authority = server.trim_start_matches("ws://");
    let urls = [
        format!("{server}/echo"),
        format!("{http}/echo"),
        format!("HTTP://{authority}/echo"),
        format!("ws://{authority}/echo?a=1&b=%20"),
        format!("ws://{authority}/./echo/../echo"),
        format!("  {server}/echo  "),
        format!("{server}/echo#"),
        format!("{server}/echo#fragment"),
        format!("ftp://{authority}/echo"),
        "about:blank".to_owned(),
        "mailto:someone@example.org".to_owned(),
        "ws://exa mple.org/".to_owned(),
        "ws://[::1".to_owned(),
        "#only-a-fragment".to_owned(),
        "ws://".to_owned(),
        String::new(),
    ];
    let mut disagreements = Vec::new();
    for url in &urls {
        let js = js_url(&class, url);
        let rust = match resocket::WebSocket::connect(url).await {
            Ok(socket) => {
                let resolved = socket.url();
                let _ = socket.close(1000, "");
                format!("ok {resolved}")
            }
            Err(resocket::Error::InvalidUrl { .. }) => "invalid SyntaxError".to_owned(),
            // A URL both accept may still lead nowhere (the page's own server, say): then
            // only whether it was accepted is compared.
            Err(_) => "accepted".to_owned(),
        };
        let agree = js == rust || (rust == "accepted" && js.starts_with("ok "));
        console_log!("{url:?}: class {js}; Rust {rust}");
        if !agree {
            disagreements.push(format!("  {url:?}: class {js}, Rust {rust}"));
        }
    }
    assert!(
        disagreements.is_empty(),
        "the class and the Rust API disagree on {} URLs:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
}

/// `close(code, reason)`: the class throws exactly where `resocket::validate_close` refuses.
#[wasm_bindgen_test]
fn the_class_and_the_rust_api_accept_the_same_close_codes_and_reasons() {
    let class = resocket_js::reconnecting_websocket_class();
    let reasons = [
        String::new(),
        "bye".to_owned(),
        "x".repeat(123),
        "x".repeat(124),
        "é".repeat(61),
        "é".repeat(62),
        "😀".repeat(30),
        "😀".repeat(31),
    ];
    let mut disagreements = Vec::new();
    let mut compared = 0;
    for code in (0..=u16::MAX).filter(|code| {
        code % 97 == 0 || matches!(code, 999..=1016 | 2999..=3001 | 3999..=4001 | 4998..=5001)
    }) {
        for reason in &reasons {
            let js = js_close(&class, code, reason);
            let rust = match resocket::validate_close(code, reason) {
                Ok(()) => "ok".to_owned(),
                Err(resocket::Error::InvalidCloseCode { .. }) => {
                    "invalid InvalidAccessError".to_owned()
                }
                Err(resocket::Error::CloseReasonTooLong { .. }) => "invalid SyntaxError".to_owned(),
                Err(other) => format!("invalid {other:?}"),
            };
            compared += 1;
            if js != rust {
                disagreements.push(format!(
                    "  close({code}, {} bytes): class {js}, Rust {rust}",
                    reason.len()
                ));
            }
        }
    }
    console_log!("close: {compared} code and reason pairs compared");
    assert!(
        disagreements.is_empty(),
        "the class and the Rust API disagree on {} of {compared} close calls:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[wasm_bindgen(inline_js = "
export function hostileCoreOptions() {
  const many = (n) => Array.from({ length: n }, () => 1);
  return [
    { minDelay: 'soon' }, { minDelay: -1 }, { minDelay: NaN }, { minDelay: 1e300 },
    { minDelay: 0 }, { maxDelay: Infinity }, { factor: NaN }, { factor: 0.5 },
    { minDelay: 2000, maxDelay: 1000 }, { jitter: 'some' }, { jitter: 3 },
    { maxRetries: -1 }, { maxRetries: 1e300 }, { stableAfter: -0.5 },
    { connectTimeout: 0 }, { heartbeat: 5 }, { heartbeat: { interval: 1 } },
    { heartbeat: { interval: 0, timeout: 0 } }, { heartbeat: { interval: 1, timeout: 1, ping: 7 } },
    { heartbeat: { interval: 1, timeout: 1, isPong: 'yes' } }, { maxQueuedMessages: -5 },
    { maxQueuedBytes: 1e300 }, { overflow: 'drop' }, { shouldReconnect: {} }, { onOpen: many(3) },
    { highWaterMark: -1 }, { highWaterMark: 1e20 }, { receive: true },
    { get minDelay() { throw new RangeError('from a getter'); } },
  ];
}
export function outcome(run) {
  try {
    const core = run();
    if (core && typeof core.close === 'function') core.close(1000, '');
    if (core && typeof core.free === 'function') core.free();
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.name : typeof error;
  }
}
")]
extern "C" {
    #[wasm_bindgen(js_name = hostileCoreOptions)]
    fn hostile_core_options() -> js_sys::Array;
    fn outcome(run: &js_sys::Function) -> String;
}

/// The core takes the options the class has checked; made directly (it is exported), with
/// values the class would refuse, it throws a TypeError (or what a getter threw) or accepts
/// a value that cannot hurt it (a negative count is 0), and never aborts the module: a fresh
/// class still echoes afterwards.
#[wasm_bindgen_test]
async fn the_core_made_directly_refuses_hostile_options_without_aborting() {
    let mut outcomes = Vec::new();
    for options in hostile_core_options().iter() {
        let run = Closure::<dyn Fn() -> Result<JsValue, JsValue>>::new(move || {
            resocket_js::create_core(
                JsValue::from_str(&url("/echo")),
                JsValue::UNDEFINED,
                options.clone(),
                js_sys::Function::new_no_args("").into(),
                JsValue::UNDEFINED,
            )
            .map(JsValue::from)
        });
        outcomes.push(outcome(run.as_ref().unchecked_ref()));
    }
    console_log!("createCore with hostile options: {outcomes:?}");
    let refused = outcomes.iter().filter(|o| *o == "TypeError").count();
    assert!(
        outcomes
            .iter()
            .all(|o| ["ok", "TypeError", "RangeError"].contains(&o.as_str())),
        "{outcomes:?}"
    );
    assert!(refused >= 20, "only {refused} refused: {outcomes:?}");
    assert_eq!(outcomes.last().map(String::as_str), Some("RangeError"));
    // The module is alive: a class made afterwards connects and echoes.
    let class = resocket_js::reconnecting_websocket_class();
    let checks = run_boundary_echo(&class, &url("/echo")).await;
    assert_eq!(checks.as_string().as_deref(), Some("echo"));
}

#[wasm_bindgen(inline_js = "
export async function runBoundaryEcho(Class, url) {
  const ws = new Class(url);
  const reply = await new Promise((resolve, reject) => {
    ws.onmessage = (event) => resolve(event.data);
    ws.onerror = () => reject(new Error('error event'));
    ws.onopen = () => ws.send('echo');
    setTimeout(() => reject(new Error('no echo in 5 s')), 5000);
  });
  ws.close();
  return reply;
}
")]
extern "C" {
    #[wasm_bindgen(js_name = runBoundaryEcho)]
    async fn run_boundary_echo(class: &JsValue, url: &str) -> JsValue;
}
