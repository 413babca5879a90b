//! The platform's own `WebSocket` constructor, captured once, when the module loads.
//!
//! A page may replace `globalThis.WebSocket` with a drop-in (resocket's own class, for one).
//! Looking the constructor up on the global object for every connection, as `web_sys` does,
//! would then construct the drop-in, which constructs itself again: the page hangs. The
//! snippet below is evaluated when the wasm-bindgen glue is imported, before any user code
//! can run in between, so it holds the browser's constructor.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
const NativeWebSocket = globalThis.WebSocket;
export function create_native_socket(constructor, url, protocols) {
  const WebSocket = constructor ?? NativeWebSocket;
  if (typeof WebSocket !== 'function') {
    throw new TypeError(
      'resocket: this platform had no WebSocket constructor (globalThis.WebSocket) when resocket ' +
      'loaded; pass one (for example the ws package\'s) as the WebSocket option');
  }
  return protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols);
}
"#)]
extern "C" {
    #[wasm_bindgen(catch, js_name = create_native_socket)]
    fn create(
        constructor: Option<&js_sys::Function>,
        url: &str,
        protocols: Option<js_sys::Array>,
    ) -> Result<web_sys::WebSocket, JsValue>;
}

/// `new WebSocket(url)` or `new WebSocket(url, protocols)`, with `constructor`, or else the
/// one captured at load.
///
/// # Errors
///
/// Whatever the constructor throws (a `SyntaxError` for a bad URL or subprotocol), or a
/// `TypeError` where the platform had no `WebSocket` when the module loaded.
pub(crate) fn new_socket(
    constructor: Option<&js_sys::Function>,
    url: &str,
    protocols: &[String],
) -> Result<web_sys::WebSocket, JsValue> {
    create(constructor, url, protocol_list(protocols))
}

/// The subprotocols as a JS array, or `None` for none (so the constructor is called without
/// them, as `new WebSocket(url)`).
pub(crate) fn protocol_list(protocols: &[String]) -> Option<js_sys::Array> {
    (!protocols.is_empty()).then(|| {
        protocols
            .iter()
            .map(|protocol| JsValue::from_str(protocol))
            .collect::<js_sys::Array>()
    })
}
