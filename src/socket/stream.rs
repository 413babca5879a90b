//! Reading through the browser's `WebSocketStream`, where it has one (Chromium 124 and
//! later), so that a reader that falls behind slows the server down.
//!
//! The browser's `WebSocket` fires `message` as fast as the network delivers: a slow reader
//! can only pile messages up in memory. A `WebSocketStream` hands out a message only when
//! asked; until then the data stays in the network stack, the TCP window closes and the
//! server's writes wait.
//!
//! The snippet below wraps one `WebSocketStream` in an object shaped like a `WebSocket`
//! (`addEventListener` for `open`, `message` and `close`, `send`, `close`, `bufferedAmount`,
//! `url`, `protocol`, `extensions`), so the connection attaches the same listeners on either
//! path. The differences are kept to two:
//!
//! - **Reading ahead, then waiting.** The wrapper reads messages and hands them on until it
//!   has handed over `readAhead` bytes, then fires `pause` and reads nothing more until
//!   [`StreamSocket::pull`]. The connection pulls once its reader has taken everything, so at
//!   most about `readAhead` bytes (plus one message) wait in wasm, and none pile up anywhere
//!   else. Reading ahead keeps one promise round trip per message off the reader's path.
//! - **Counted sends.** A stream's writer says nothing like `bufferedAmount`, so the wrapper
//!   counts it: the bytes of every write whose promise has not yet resolved. That is what
//!   the sink's high-water mark and the reconnecting client's ledger read, as on the event
//!   path. `send` takes the byte count from Rust, which knows it, rather than measuring a
//!   string's UTF-8 length again in JavaScript.
//!
//! The `close` event comes only after the last message the browser received, as on the event
//! path; once the stream has closed, or `close` was called, the wrapper stops pausing, so the
//! end of a connection is never held up behind a reader that is not reading.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
const NativeWebSocketStream = globalThis.WebSocketStream;

export function web_socket_stream_supported() {
  return typeof NativeWebSocketStream === 'function';
}

// A binary message may come as an ArrayBuffer or as a view of one; the connection reads
// ArrayBuffers, as a WebSocket with binaryType 'arraybuffer' delivers them.
const arrayBufferOf = (value) =>
  value.byteOffset === 0 && value.byteLength === value.buffer.byteLength
    ? value.buffer
    : value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);

const settle = (promise) => promise.then(
  (info) => ({ code: info?.closeCode ?? 1005, reason: info?.reason ?? '', wasClean: true }),
  (error) => ({ code: error?.closeCode ?? 1006, reason: error?.reason ?? '', wasClean: false }),
);

// An EventTarget only so that listeners are registered where the browser (and a tool or test
// that watches EventTarget) sees them, as on a WebSocket; events are handed to the lists below
// directly, which is cheaper per message than dispatchEvent.
export class StreamSocket extends EventTarget {
  constructor(url, protocols, readAhead) {
    super();
    // Throws a SyntaxError for a bad URL or subprotocol, as new WebSocket() does.
    this.stream = new NativeWebSocketStream(url, protocols === undefined ? {} : { protocols });
    this.url = this.stream.url ?? url;
    this.protocol = '';
    this.extensions = '';
    this.bufferedAmount = 0;
    this.binaryType = 'arraybuffer';
    this.listeners = { open: [], message: [], close: [], pause: [] };
    this.readAhead = readAhead;
    this.taken = 0;
    this.resume = null;
    this.ended = false;
    this.writer = null;
    this.run();
  }

  addEventListener(type, listener) {
    const list = this.listeners[type];
    if (!list || list.includes(listener)) return;
    list.push(listener);
    super.addEventListener(type, listener);
  }

  removeEventListener(type, listener) {
    const list = this.listeners[type];
    const at = list ? list.indexOf(listener) : -1;
    if (at < 0) return;
    list.splice(at, 1);
    super.removeEventListener(type, listener);
  }

  emit(type, event) {
    for (const listener of this.listeners[type].slice()) listener(event);
  }

  // Stops pausing for good: the stream has closed, or is closing.
  release() {
    this.ended = true;
    this.pull();
  }

  pull() {
    this.taken = 0;
    const resume = this.resume;
    this.resume = null;
    resume?.();
  }

  async run() {
    const closed = settle(this.stream.closed);
    closed.then(() => this.release());
    let opened;
    try {
      opened = await this.stream.opened;
    } catch {
      this.emit('close', await closed);
      return;
    }
    this.protocol = opened.protocol ?? '';
    this.extensions = opened.extensions ?? '';
    this.writer = opened.writable.getWriter();
    const reader = opened.readable.getReader();
    this.emit('open', {});
    try {
      for (;;) {
        if (this.taken >= this.readAhead && !this.ended) {
          const resumed = new Promise((resolve) => (this.resume = resolve));
          this.emit('pause', {});
          await resumed;
        }
        const { value, done } = await reader.read();
        if (done) break;
        const data = typeof value === 'string' || value instanceof ArrayBuffer
          ? value
          : arrayBufferOf(value);
        this.taken += typeof data === 'string' ? data.length : data.byteLength;
        this.emit('message', { data });
      }
    } catch {
      // The stream failed; `closed` says how.
    }
    this.emit('close', await closed);
  }

  send(data, bytes) {
    if (this.writer === null) throw new DOMException('not open yet', 'InvalidStateError');
    this.bufferedAmount += bytes;
    // A write that fails did not reach the network: its bytes stay counted as unsent.
    this.writer.write(data).then(() => (this.bufferedAmount -= bytes), () => {});
  }

  close(code, reason) {
    this.release();
    if (code === undefined) {
      this.stream.close();
    } else {
      this.stream.close({ closeCode: code, reason: reason ?? '' });
    }
  }
}
"#)]
extern "C" {
    #[wasm_bindgen(js_name = web_socket_stream_supported)]
    fn supported() -> bool;

    /// One `WebSocketStream`, shaped like a browser `WebSocket` (see the module's notes).
    #[derive(Debug, Clone)]
    pub(crate) type StreamSocket;

    #[wasm_bindgen(constructor, catch)]
    fn new(
        url: &str,
        protocols: Option<js_sys::Array>,
        read_ahead: f64,
    ) -> Result<StreamSocket, JsValue>;

    /// Lets the wrapper read ahead again after it fired `pause`.
    #[wasm_bindgen(method)]
    pub(crate) fn pull(this: &StreamSocket);

    /// Writes one message of `bytes` bytes, counting them in `bufferedAmount` until written.
    #[wasm_bindgen(method, catch)]
    pub(crate) fn send(this: &StreamSocket, data: &JsValue, bytes: f64) -> Result<(), JsValue>;
}

/// How many bytes of messages the wrapper hands over before it waits for the reader: enough
/// that a fast reader rarely waits for a promise round trip, little enough that a slow one
/// holds no more than this.
pub(crate) const READ_AHEAD_BYTES: usize = 256 * 1024;

/// Whether this browser has `WebSocketStream` (captured when the module loaded, as the
/// `WebSocket` constructor is).
pub(crate) fn is_supported() -> bool {
    supported()
}

/// `new WebSocketStream(url, { protocols })` in its wrapper, reading ahead at most
/// `read_ahead` bytes.
///
/// # Errors
///
/// Whatever the constructor throws: a `SyntaxError` for a bad URL or subprotocol.
pub(crate) fn open(
    url: &str,
    protocols: &[String],
    read_ahead: usize,
) -> Result<StreamSocket, JsValue> {
    StreamSocket::new(
        url,
        super::native::protocol_list(protocols),
        read_ahead as f64,
    )
}
