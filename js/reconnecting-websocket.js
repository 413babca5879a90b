// The JavaScript face of resocket: a class that behaves like the browser's WebSocket (it
// extends EventTarget, so listeners, `once`, `handleEvent` and dispatchEvent are the real
// thing), backed by the Rust core that reconnects, queues and times everything.
//
// The core is created through `createCore(url, protocols, options, emit)`; it calls
// `emit(kind, a, b, c)` for everything that happens, and this class turns that into events.
// Incoming data reaches listeners as the browser's own value: it never goes through wasm.

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// The kinds `emit` reports; they match `EventKind` in src/js/mod.rs.
const KIND_OPEN = 0;
const KIND_MESSAGE = 1;
const KIND_CLOSE = 2;
const KIND_RECONNECTING = 3;
const KIND_GIVEUP = 4;
const KIND_DROPPED = 5;
const KIND_UNSENT = 6;
const KIND_ERROR = 7;
const KIND_SOCKET = 8;

const HANDLERS = ['open', 'message', 'close', 'error', 'reconnecting', 'giveup'];
const utf8 = new TextEncoder();

// Clients that may still connect, be open or retry, held as the browser holds an active
// WebSocket: `new ReconnectingWebSocket(url).onmessage = f` keeps working with no other
// reference. The core reaches its instance only through a WeakRef, so once a client is closed
// or has given up and nobody references it, it is collected and wasm-bindgen's finalizer
// frees its core.
const active = new Set();

/** The bytes `send(data)` puts on the wire, or a TypeError for data a WebSocket cannot send. */
export function byteLength(data) {
  if (typeof data === 'string') {
    // Counting UTF-8 bytes without encoding: one pass over the UTF-16 code units.
    let bytes = 0;
    for (let i = 0; i < data.length; i++) {
      const unit = data.charCodeAt(i);
      if (unit < 0x80) bytes += 1;
      else if (unit < 0x800) bytes += 2;
      else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < data.length &&
               (data.charCodeAt(i + 1) & 0xfc00) === 0xdc00) { bytes += 4; i++; }
      else bytes += 3;
    }
    return bytes;
  }
  if (data instanceof ArrayBuffer) return sendable(data).byteLength;
  if (ArrayBuffer.isView(data)) {
    sendable(data.buffer);
    return data.byteLength;
  }
  if (typeof Blob !== 'undefined' && data instanceof Blob) return data.size;
  throw new TypeError(
    `ReconnectingWebSocket.send: expected a string, ArrayBuffer, ArrayBufferView or Blob, got ${describe(data)}`);
}

// The buffers WebSocket.send refuses with a TypeError in Chromium and Firefox: WebIDL allows
// neither [AllowResizable] nor [AllowShared] there. (A detached one is sent, as natively, as
// an empty message: see `snapshot`.)
function sendable(buffer) {
  if (buffer.resizable || buffer.growable || !(buffer instanceof ArrayBuffer)) {
    throw new TypeError(
      'ReconnectingWebSocket.send: a resizable or shared ArrayBuffer (or a view on one) cannot be sent');
  }
  return buffer;
}

/**
 * A copy of binary data, taken at `send` time: the message may be sent again after a drop,
 * and the caller may meanwhile reuse its buffer. Strings and Blobs are immutable. A detached
 * buffer has no bytes left: it is copied as an empty one, which is what the browser sends.
 */
export function snapshot(data) {
  if (data instanceof ArrayBuffer) return data.detached ? new ArrayBuffer(0) : data.slice(0);
  if (ArrayBuffer.isView(data)) {
    if (data.buffer.detached) return new ArrayBuffer(0);
    return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  }
  return data;
}

/**
 * Reports an exception of a user callback (the URL function, `onOpen`, `shouldReconnect`,
 * `isPong`) as an uncaught one is reported. From a microtask, because `window` error
 * listeners are user code too and the core may be busy when it calls this.
 */
export function reportLater(error) {
  queueMicrotask(() => {
    if (typeof reportError === 'function') reportError(error);
    else console.error(error);
  });
}

/**
 * The socket given to `onOpen`: its `send` writes ahead of the queue while the hook runs.
 * Returns it with the function that ends it, after which `send` throws InvalidStateError
 * rather than reaching a closure the core has let go.
 */
export function openHookSocket(send) {
  let live = send;
  const socket = {
    send(data) {
      if (!live) {
        throw new DOMException(
          'the socket given to onOpen works only while the hook runs (until the promise it ' +
          'returned settles); use the ReconnectingWebSocket itself to send afterwards',
          'InvalidStateError');
      }
      live(data);
    },
  };
  return [socket, () => { live = null; }];
}

function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

// WebIDL's [Clamp] unsigned short, as the browser converts close(code): NaN is 0, the rest
// is clamped to 0..65535 and rounded to the nearest integer, ties to even.
function clampCode(value) {
  // Unary plus is WebIDL's ToNumber: a Symbol or a BigInt throws a TypeError, as natively.
  let code = +value;
  if (Number.isNaN(code)) return 0;
  code = Math.min(Math.max(code, 0), 65535);
  const floor = Math.floor(code);
  const fraction = code - floor;
  if (fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1)) return floor + 1;
  return floor;
}

// The URL as the browser reports it: resolved against the page, http(s) becoming ws(s).
function resolveUrl(url) {
  try {
    const resolved = new URL(url, globalThis.location?.href);
    if (resolved.protocol === 'http:') resolved.protocol = 'ws:';
    else if (resolved.protocol === 'https:') resolved.protocol = 'wss:';
    return resolved.href;
  } catch {
    return String(url);
  }
}

// The same checks and exceptions as the browser's WebSocket.close().
function checkClose(code, reason) {
  if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
    throw new DOMException(
      `The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`,
      'InvalidAccessError');
  }
  if (reason !== undefined && utf8.encode(reason).byteLength > 123) {
    throw new DOMException('The close reason must not be greater than 123 UTF-8 bytes.', 'SyntaxError');
  }
}

// The message event: a real MessageEvent (instanceof, lastEventId, ports, source as the
// browser's), whose data and origin are read from the instance. Passing them through the
// MessageEventInit dictionary costs Chromium 3 to 4 µs per event, measured, more than all the
// rest of the class's work per message; this costs under 1.
class SocketMessageEvent extends MessageEvent {
  #data;
  #origin;
  constructor(data, origin) {
    super('message');
    this.#data = data;
    this.#origin = origin;
  }
  get data() { return this.#data; }
  get origin() { return this.#origin; }
}

export function defineReconnectingWebSocket(createCore) {
  class ReconnectingWebSocket extends EventTarget {
    #core;
    #binaryType = 'arraybuffer';
    #handlers = new Map();
    #readyState = CONNECTING;
    #url = '';
    #origin = null;
    #protocol = '';
    #extensions = '';
    #iterators = new Set();
    // Whether the current socket opened: the browser fires `error` only for one that did not.
    #opened = false;
    // The browser socket whose messages this class reads itself (the core hands each new one
    // over when nothing needs judging per message: no heartbeat, no isPong, no onOpen), and
    // the listener it has there. Messages then never pass through wasm.
    #socket = null;
    #onSocketMessage = (event) => {
      // Only the current socket's, and none after close(), as the browser's own WebSocket.
      if (event.target !== this.#socket || this.#readyState >= CLOSING) return;
      this.#message(event.data);
    };

    constructor(url, protocols = undefined, options = undefined) {
      super();
      if (url instanceof URL) url = url.href;
      if (typeof url === 'string') this.#url = resolveUrl(url);
      this.#core = createCore(url, protocols, options ?? {}, ReconnectingWebSocket.#emitTo(new WeakRef(this)));
      this.#url = this.#core.url() || this.#url;
      active.add(this);
    }

    get url() { return this.#url; }
    get protocol() { return this.#protocol; }
    get extensions() { return this.#extensions; }
    get readyState() { return this.#readyState; }
    /** Bytes given to `send` and not yet on the network: the socket's buffer plus the queue. */
    get bufferedAmount() { return this.#core?.bufferedAmount() ?? 0; }
    /** How many messages wait for the next connection. */
    get queuedMessages() { return this.#core?.queued() ?? 0; }

    get binaryType() { return this.#binaryType; }
    set binaryType(value) {
      // As in the browser: values other than the two types are ignored.
      if (value === 'arraybuffer' || value === 'blob') this.#binaryType = value;
    }

    send(data) {
      const bytes = byteLength(data);
      data = snapshot(data);
      if (!this.#core) {
        // The same refusal the core gives after close(), once the core has been let go.
        throw new DOMException('the message was not sent: the socket is closed for good', 'InvalidStateError');
      }
      this.#core.send(data, bytes);
    }

    close(code = undefined, reason = undefined) {
      if (code !== undefined) code = clampCode(code);
      if (reason !== undefined) reason = String(reason);
      checkClose(code, reason);
      if (this.#readyState === CLOSING || !this.#core) return;
      if (this.#readyState === CLOSED) {
        // Gave up: nothing more to report but what was queued; the core is let go now.
        this.#unsent(this.#core.close(code, reason));
        this.#release();
        return;
      }
      this.#unsent(this.#core.close(code, reason));
      this.#readyState = CLOSING;
      if (!this.#core.isClosing()) {
        // No socket was open: as the browser does when closed while connecting.
        setTimeout(() => this.#closed(1006, '', false, true), 0);
      }
    }

    /** Closes the current connection, if any, and connects again at once. */
    reconnect() {
      if (this.#readyState === CLOSING || this.#readyState === CLOSED) {
        if (this.#readyState === CLOSED && this.#core?.gaveUp()) this.#readyState = CONNECTING;
        else return;
      }
      active.add(this);
      this.#core.reconnect();
    }

    /**
     * Yields the data of every message from now on, until the socket is closed for good.
     * Calls of `next()` that overlap each get their own message, in the order they were made.
     */
    [Symbol.asyncIterator]() {
      const buffered = [];
      // The resolvers of pending next() calls, oldest first: one per call, so none is lost.
      const waiting = [];
      let done = this.#readyState === CLOSED;
      const finished = { value: undefined, done: true };
      const finish = () => {
        done = true;
        this.#iterators.delete(iterator);
        for (const resolve of waiting.splice(0)) resolve(finished);
      };
      const iterator = {
        push: (data) => {
          if (waiting.length > 0) waiting.shift()({ value: data, done: false });
          else buffered.push(data);
        },
        end: () => {
          // Messages already buffered are still yielded; pending calls can have none.
          done = true;
          for (const resolve of waiting.splice(0)) resolve(finished);
          if (buffered.length === 0) this.#iterators.delete(iterator);
        },
        next: () => {
          if (buffered.length > 0) return Promise.resolve({ value: buffered.shift(), done: false });
          if (done) {
            this.#iterators.delete(iterator);
            return Promise.resolve(finished);
          }
          return new Promise((resolve) => waiting.push(resolve));
        },
        return: () => {
          finish();
          buffered.length = 0;
          return Promise.resolve(finished);
        },
        [Symbol.asyncIterator]() { return this; },
      };
      this.#iterators.add(iterator);
      return iterator;
    }

    // The `emit` a core gets. Weak: the instance holds its core, which must not hold the
    // instance in return (see `active`). Made here, not in the constructor, so the closure's
    // scope holds nothing else.
    static #emitTo(instance) {
      return (kind, a, b, c) => instance.deref()?.#emit(kind, a, b, c);
    }

    #emit(kind, a, b, c) {
      switch (kind) {
        case KIND_MESSAGE: return this.#message(a);
        case KIND_SOCKET: return this.#readFrom(a);
        case KIND_OPEN: {
          this.#readyState = OPEN;
          this.#opened = true;
          this.#url = this.#core.url() || this.#url;
          this.#origin = null;
          this.#protocol = b;
          this.#extensions = c;
          return this.dispatchEvent(Object.assign(new Event('open'), { attempt: a }));
        }
        case KIND_CLOSE: return this.#closed(a, b, c, false);
        case KIND_RECONNECTING: {
          this.#readyState = CONNECTING;
          return this.dispatchEvent(Object.assign(new Event('reconnecting'), { attempt: a, delay: b }));
        }
        case KIND_GIVEUP: {
          this.#readyState = CLOSED;
          // Kept by its core until closed (reconnect() may start it again), but no longer
          // kept alive for its own sake: see `active`.
          active.delete(this);
          this.dispatchEvent(Object.assign(new Event('giveup'), { reason: a }));
          return this.#endIterators();
        }
        case KIND_DROPPED:
          return this.dispatchEvent(Object.assign(new Event('dropped'), { messages: a }));
        case KIND_UNSENT:
          return this.dispatchEvent(Object.assign(new Event('unsent'), { messages: a }));
        case KIND_ERROR:
          return this.dispatchEvent(Object.assign(new Event('error'), { message: a }));
      }
    }

    #message(data) {
      if (this.#binaryType === 'blob' && data instanceof ArrayBuffer) data = new Blob([data]);
      if (this.#iterators.size) for (const iterator of this.#iterators) iterator.push(data);
      this.#origin ??= originOf(this.#url);
      this.dispatchEvent(new SocketMessageEvent(data, this.#origin));
    }

    #closed(code, reason, wasClean, final) {
      final = final || this.#readyState === CLOSING || (this.#core?.isFinished() ?? true);
      const failed = !this.#opened && !wasClean;
      this.#opened = false;
      if (final) {
        this.#readyState = CLOSED;
        active.delete(this);
      }
      else if (this.#readyState === OPEN) this.#readyState = CONNECTING;
      // As the browser does: `error` before `close` for a connection that failed before it
      // opened (not for an open one that was cut).
      if (failed) this.dispatchEvent(new Event('error'));
      this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
      if (final) {
        this.#endIterators();
        this.#readFrom(null);
        this.#release();
      }
    }

    // Called by the core as it creates a socket, before any of its events, with the client
    // borrowed: this only moves the listener (and must not call into the core).
    #readFrom(socket) {
      this.#socket?.removeEventListener('message', this.#onSocketMessage);
      this.#socket = socket;
      socket?.addEventListener('message', this.#onSocketMessage);
    }

    // Closed for good by close(): the Rust core (its wasm memory, its window listeners) is let
    // go now rather than whenever the garbage collector finalizes this object. A client that
    // gave up keeps its core, because reconnect() may start it again, until close().
    #release() {
      if (!this.#core || !this.#core.isFinished() || this.#core.gaveUp()) return;
      const core = this.#core;
      this.#core = null;
      active.delete(this);
      core.free();
    }

    // The messages close() took back unsent, reported after close() returns, as events are.
    #unsent(messages) {
      if (messages.length === 0) return;
      queueMicrotask(() =>
        this.dispatchEvent(Object.assign(new Event('unsent'), { messages })));
    }

    #endIterators() {
      for (const iterator of this.#iterators) iterator.end();
    }

    static {
      // onopen, onmessage, ...: an attribute handler is one listener, added where it was first
      // set, so it keeps its place among the others as in the browser.
      for (const type of HANDLERS) {
        Object.defineProperty(this.prototype, `on${type}`, {
          configurable: true,
          enumerable: true,
          get() { return this.#handlers.get(type)?.handler ?? null; },
          set(value) {
            const handler = typeof value === 'function' ? value : null;
            let slot = this.#handlers.get(type);
            if (!slot) {
              slot = { handler: null, listener: (event) => slot.handler?.call(this, event) };
              this.#handlers.set(type, slot);
            }
            if (handler && !slot.handler) this.addEventListener(type, slot.listener);
            if (!handler && slot.handler) this.removeEventListener(type, slot.listener);
            slot.handler = handler;
          },
        });
      }
    }
  }

  for (const [name, value] of Object.entries({ CONNECTING, OPEN, CLOSING, CLOSED })) {
    Object.defineProperty(ReconnectingWebSocket, name, { value, enumerable: true });
    Object.defineProperty(ReconnectingWebSocket.prototype, name, { value, enumerable: true });
  }
  return ReconnectingWebSocket;
}

function originOf(url) {
  try {
    return new URL(url).origin.replace(/^http/, 'ws');
  } catch {
    return '';
  }
}
