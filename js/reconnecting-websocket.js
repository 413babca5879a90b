// The JavaScript face of resocket: a class that behaves like the browser's WebSocket (it
// extends EventTarget, so listeners, `once`, `handleEvent` and dispatchEvent are the real
// thing), backed by the Rust core that reconnects, queues and times everything.
//
// The core is created through `createCore(url, protocols, options, emit, WebSocket)`; it calls
// `emit(kind, a, b, c)` for everything that happens, and this class turns that into events.
// Incoming data reaches listeners as the browser's own value: it never goes through wasm.
//
// The class exists before the WebAssembly module has loaded (the package loads it lazily, so
// importing never waits and never fails): a client made before then is CONNECTING, queues
// what it is sent and gets its core when the module is ready. `startClosed` uses the same
// state, until `reconnect()`.

import { readOptions } from './options.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

// The close code when an iterator passes `maxUnreadBytes`: RFC 6455's nearest is 1009 (Message
// Too Big), but a page may send only 1000 and 3000-4999. The Rust `max_unread_bytes` uses it too.
const UNREAD_LIMIT_CLOSE_CODE = 4009;

// With `receive: 'backpressure'`, an iterator holding this many messages, or bytes, unread
// holds the connection's reading back until it has taken them (as the Rust stream does: see
// READER_AHEAD_MESSAGES and READ_AHEAD_BYTES there).
const ITERATOR_AHEAD_MESSAGES = 64;
const ITERATOR_AHEAD_BYTES = 256 * 1024;

// The kinds `emit` reports; they match `EventKind` in js/src/events.rs.
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

// Whether the platform had a WebSocket when resocket loaded (src/socket/native.rs keeps that
// one). Without it, and with no `WebSocket` option, every attempt would fail the same way:
// Node before 22 rendering a page on the server, say, which must not be kept alive retrying.
const PLATFORM_HAS_WEBSOCKET = typeof globalThis.WebSocket === 'function';

/** The bytes `send(data)` puts on the wire, or a TypeError for data a WebSocket cannot send. */
export function byteLength(data) {
  if (typeof data === 'string') {
    // Counting UTF-8 bytes without encoding: one pass over the UTF-16 code units.
    let bytes = 0;
    for (let i = 0; i < data.length; i++) {
      const unit = data.charCodeAt(i);
      if (unit < 0x80) bytes += 1;
      else if (unit < 0x800) bytes += 2;
      else if (
        unit >= 0xd800 &&
        unit <= 0xdbff &&
        i + 1 < data.length &&
        (data.charCodeAt(i + 1) & 0xfc00) === 0xdc00
      ) {
        bytes += 4;
        i++;
      } else bytes += 3;
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
    `ReconnectingWebSocket.send: expected a string, ArrayBuffer, ArrayBufferView or Blob, got ${describe(data)}`,
  );
}

// The buffers WebSocket.send refuses with a TypeError in Chromium and Firefox: WebIDL allows
// neither [AllowResizable] nor [AllowShared] there. (A detached one is sent, as natively, as
// an empty message: see `snapshot`.)
function sendable(buffer) {
  if (buffer.resizable || buffer.growable || !(buffer instanceof ArrayBuffer)) {
    throw new TypeError(
      'ReconnectingWebSocket.send: a resizable or shared ArrayBuffer (or a view on one) cannot be sent',
    );
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
          'InvalidStateError',
        );
      }
      live(data);
    },
  };
  return [
    socket,
    () => {
      live = null;
    },
  ];
}

function describe(value) {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'an object';
  return typeof value;
}

// The browser's WebSocket converts its arguments by WebIDL's rules; so does this class.

/** `send(data)`: binary data as it is, anything else as a string (`String(data)`; a Symbol throws). */
function sendArgument(data) {
  if (
    typeof data === 'string' ||
    data instanceof ArrayBuffer ||
    ArrayBuffer.isView(data) ||
    (typeof Blob === 'function' && data instanceof Blob)
  ) {
    return data;
  }
  return `${data}`;
}

/** The URL argument: a function (called before each attempt) as it is, anything else a string. */
function urlArgument(url) {
  return typeof url === 'function' ? url : `${url}`;
}

/**
 * The protocols argument: a function as it is; absent, none; any iterable, its items as
 * strings (a sequence<DOMString>); anything else, one protocol, as a string.
 */
function protocolsArgument(protocols) {
  if (protocols === undefined) return [];
  if (typeof protocols === 'function') return protocols;
  if (
    typeof protocols === 'object' &&
    protocols !== null &&
    typeof protocols[Symbol.iterator] === 'function'
  ) {
    return Array.from(protocols, (protocol) => `${protocol}`);
  }
  return [`${protocols}`];
}

// A subprotocol is an HTTP token (RFC 6455, section 4.1).
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The browser's SyntaxError for a subprotocol that is not a token, or one given twice. */
export function checkProtocols(protocols) {
  const seen = new Set();
  for (const protocol of protocols) {
    const invalid = (reason) =>
      new DOMException(`invalid subprotocol "${protocol}": ${reason}`, 'SyntaxError');
    if (protocol === '') throw invalid('it is empty');
    if (!TOKEN.test(protocol)) {
      const bad = [...protocol].find((c) => !TOKEN.test(c));
      throw invalid(`"${bad}" is not allowed in a subprotocol name`);
    }
    if (seen.has(protocol)) throw invalid('it is offered twice');
    seen.add(protocol);
  }
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

/**
 * The URL as the browser reports it, resolved against the page, http(s) becoming ws(s); or the
 * browser's SyntaxError, with the same rules as the Rust core (src/handshake.rs).
 */
export function resolveUrl(url) {
  const invalid = (reason) =>
    new DOMException(`invalid WebSocket URL "${url}": ${reason}`, 'SyntaxError');
  let parsed;
  try {
    parsed = new URL(url, globalThis.location?.href);
  } catch {
    throw invalid(globalThis.location ? 'it is not a URL' : 'it is not an absolute URL');
  }
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:';
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:';
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw invalid(
      `the scheme is "${parsed.protocol.slice(0, -1)}"; it must be ws, wss, http or https`,
    );
  }
  if (parsed.href.includes('#')) {
    throw invalid('a WebSocket URL cannot have a fragment (RFC 6455, section 3)');
  }
  return parsed.href;
}

// The same checks and exceptions as the browser's WebSocket.close().
function checkClose(code, reason) {
  if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
    throw new DOMException(
      `The close code must be either 1000, or between 3000 and 4999. ${code} is neither.`,
      'InvalidAccessError',
    );
  }
  if (reason !== undefined && utf8.encode(reason).byteLength > 123) {
    throw new DOMException(
      'The close reason must not be greater than 123 UTF-8 bytes.',
      'SyntaxError',
    );
  }
}

/**
 * `close(code, reason)`'s arguments converted as the browser converts them, and checked. A
 * close frame carries a reason only after a code: without one, the reason is checked and then
 * not sent (the close event has 1005), as the standard says.
 */
function closeArguments(code, reason) {
  if (code !== undefined) code = clampCode(code);
  if (reason !== undefined) reason = `${reason}`;
  checkClose(code, reason);
  return code === undefined ? [undefined, undefined] : [code, reason];
}

// The message event: a real MessageEvent (instanceof, lastEventId, ports, source as the
// browser's), whose data and origin are read from the instance. Passing them through the
// MessageEventInit dictionary costs Chromium 3 to 4 µs per event, measured, more than all the
// rest of the class's work per message; this costs under 1.
const SocketMessageEvent =
  typeof MessageEvent === 'function'
    ? class SocketMessageEvent extends MessageEvent {
        #data;
        #origin;
        constructor(data, origin) {
          super('message');
          this.#data = data;
          this.#origin = origin;
        }
        get data() {
          return this.#data;
        }
        get origin() {
          return this.#origin;
        }
      }
    : null;

// Where the platform has no CloseEvent (Node before 23), one with the same fields.
const SocketCloseEvent =
  typeof CloseEvent === 'function'
    ? CloseEvent
    : class CloseEvent extends Event {
        #init;
        constructor(type, init = {}) {
          super(type, init);
          this.#init = init;
        }
        get code() {
          return this.#init.code ?? 0;
        }
        get reason() {
          return this.#init.reason ?? '';
        }
        get wasClean() {
          return this.#init.wasClean ?? false;
        }
      };

/** An event with extra read-only fields (`attempt`, `reason`, `messages`...). */
function eventWith(type, fields) {
  const event = new Event(type);
  for (const [name, value] of Object.entries(fields)) {
    Object.defineProperty(event, name, { value, enumerable: true });
  }
  return event;
}

/**
 * Defines the class. `createCore` makes the Rust core of one client; when it is `null`, the
 * module is still loading and `whenReady` is a promise of it: clients made meanwhile are
 * CONNECTING, queue what they are sent, and get their core when it resolves (or fail, as a
 * connection that could not be made, if it rejects).
 */
export function defineReconnectingWebSocket(createCore, whenReady = null) {
  // Clients waiting for the module, in the order they were made.
  const waiting = new Set();
  let loadError = null;

  class ReconnectingWebSocket extends EventTarget {
    #core = null;
    #binaryType = 'blob';
    #handlers = new Map();
    #readyState = CONNECTING;
    #url = '';
    #origin = null;
    #protocol = '';
    #extensions = '';
    #iterators = new Set();
    #retryCount = 0;
    // What the core is made from: the URL (resolved) or URL function, the subprotocols or
    // their function, and the checked options.
    #target;
    #offered;
    #settings;
    // Whether the core was told to stop reading; see #paceReading.
    #readingHeld = false;
    // Messages sent before the core exists (the module is loading, or `startClosed`), with
    // their byte count; null once the core has them.
    #early = { messages: [], bytes: 0 };
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

    // Whether the browser failed the current, open, connection (the server broke the
    // protocol, say): it fires `error` just before `close`, and so does this class, from
    // `#closed`, where readyState is already what it is during `close`.
    #failed = false;
    #onSocketError = (event) => {
      if (event.target === this.#socket && this.#opened) this.#failed = true;
    };

    constructor(url, protocols = undefined, options = undefined) {
      super();
      // As WebIDL: the URL is required (an explicit `undefined` is the string "undefined").
      if (arguments.length === 0) {
        throw new TypeError(
          'ReconnectingWebSocket: 1 argument (the URL) required, but only 0 present',
        );
      }
      url = urlArgument(url);
      protocols = protocolsArgument(protocols);
      if (typeof url === 'string') this.#url = resolveUrl(url);
      if (Array.isArray(protocols)) checkProtocols(protocols);
      this.#settings = readOptions(options);
      this.#target = typeof url === 'string' ? this.#url : url;
      this.#offered = protocols;
      if (this.#settings.startClosed) {
        this.#readyState = CLOSED;
        return;
      }
      this.#start(true);
    }

    get url() {
      return this.#url;
    }
    get protocol() {
      return this.#protocol;
    }
    get extensions() {
      return this.#extensions;
    }
    get readyState() {
      return this.#readyState;
    }
    /** Bytes given to `send` and not yet on the network: the socket's buffer plus the queue. */
    get bufferedAmount() {
      return this.#core?.bufferedAmount() ?? this.#early?.bytes ?? 0;
    }
    /** How many messages wait for the next connection. */
    get queuedMessages() {
      return this.#core?.queued() ?? this.#early?.messages.length ?? 0;
    }
    /** Failed attempts since the last open (0 while the first attempt is made, or open). */
    get retryCount() {
      return this.#retryCount;
    }

    get binaryType() {
      return this.#binaryType;
    }
    set binaryType(value) {
      // As in the browser: values other than the two types are ignored.
      if (value === 'arraybuffer' || value === 'blob') this.#binaryType = value;
    }

    send(data) {
      data = sendArgument(data);
      const bytes = byteLength(data);
      data = snapshot(data);
      if (this.#core) return this.#core.send(data, bytes);
      if (this.#early && this.#readyState !== CLOSING && !this.#closedForGood()) {
        return this.#queueEarly(data, bytes);
      }
      // The same refusal the core gives after close(), once the core has been let go.
      throw new DOMException(
        'the message was not sent: the socket is closed for good',
        'InvalidStateError',
      );
    }

    close(code = undefined, reason = undefined) {
      [code, reason] = closeArguments(code, reason);
      if (this.#readyState === CLOSING) return;
      // Not started (the module is loading, or startClosed): nothing to close but the queue.
      if (!this.#core) return this.#endWithoutCore();
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

    /**
     * Closes the current connection, if any (with `code` and `reason`, as `close` takes
     * them), and connects again at once. Starts a client made with `startClosed`, and one
     * that gave up.
     */
    reconnect(code = undefined, reason = undefined) {
      [code, reason] = closeArguments(code, reason);
      if (!this.#core) {
        // startClosed: this is the start.
        if (this.#readyState !== CLOSED || !this.#early) return;
        this.#readyState = CONNECTING;
        this.#start(false);
        return;
      }
      if (this.#readyState === CLOSING || this.#readyState === CLOSED) {
        if (this.#readyState === CLOSED && this.#core.gaveUp()) this.#readyState = CONNECTING;
        else return;
      }
      active.add(this);
      this.#retryCount = 0;
      this.#core.reconnect(code, reason);
    }

    /**
     * Yields the data of every message from now on, until the socket is closed for good.
     * Calls of `next()` that overlap each get their own message, in the order they were made.
     * With `maxUnreadBytes`, an iterator that falls that far behind closes the socket (4009),
     * yields what it holds and then throws a `QuotaExceededError`.
     */
    [Symbol.asyncIterator]() {
      const buffered = [];
      const limit = this.#settings.maxUnreadBytes;
      const paced = this.#settings.receive === 'backpressure';
      // With a bound, or paced: the size of each buffered message, taken as it arrives (a
      // listener may transfer an ArrayBuffer away before the iterator yields it), and their sum.
      const counted = limit !== null || paced;
      const sizes = [];
      let unreadBytes = 0;
      // The resolvers of pending next() calls, oldest first: one per call, so none is lost.
      const waitingNext = [];
      let done = this.#readyState === CLOSED && !this.#early;
      // Thrown by next() once `buffered` is empty, when the unread bound was passed.
      let failure = null;
      const finished = { value: undefined, done: true };
      const finish = () => {
        done = true;
        this.#iterators.delete(iterator);
        for (const resolve of waitingNext.splice(0)) resolve(finished);
        this.#paceReading();
      };
      const take = () => {
        const value = buffered.shift();
        if (counted) unreadBytes -= sizes.shift();
        if (paced) this.#paceReading();
        return Promise.resolve({ value, done: false });
      };
      const iterator = {
        // Whether this iterator holds as much unread as the connection may read ahead of it.
        behind: () =>
          buffered.length >= ITERATOR_AHEAD_MESSAGES || unreadBytes >= ITERATOR_AHEAD_BYTES,
        // Returns true when this message passed the unread bound.
        push: (data) => {
          if (waitingNext.length > 0) {
            waitingNext.shift()({ value: data, done: false });
            return false;
          }
          if (done || failure) return false;
          buffered.push(data);
          if (!counted) return false;
          const size = byteLength(data);
          sizes.push(size);
          unreadBytes += size;
          if (limit === null || unreadBytes <= limit) return false;
          failure = new DOMException(
            `more than ${limit} bytes of messages were waiting unread in the iterator; ` +
              `the socket was closed with ${UNREAD_LIMIT_CLOSE_CODE}`,
            'QuotaExceededError',
          );
          return true;
        },
        end: () => {
          // Messages already buffered (and then the failure) are still yielded; with any of
          // those there is no pending call, since a message goes to one before the buffer.
          if (buffered.length === 0 && !failure) finish();
          else done = true;
        },
        next: () => {
          if (buffered.length > 0) return take();
          if (failure) {
            const error = failure;
            failure = null;
            finish();
            return Promise.reject(error);
          }
          if (done) {
            this.#iterators.delete(iterator);
            return Promise.resolve(finished);
          }
          return new Promise((resolve) => waitingNext.push(resolve));
        },
        return: () => {
          failure = null;
          buffered.length = 0;
          sizes.length = 0;
          unreadBytes = 0;
          finish();
          return Promise.resolve(finished);
        },
        [Symbol.asyncIterator]() {
          return this;
        },
      };
      this.#iterators.add(iterator);
      return iterator;
    }

    // Makes the core, at construction (`sync`: what it throws is thrown to the caller), or
    // later: when the module has loaded, or at reconnect() after startClosed.
    #start(sync) {
      if (!PLATFORM_HAS_WEBSOCKET && !this.#settings.WebSocket) {
        // As a connection that could not be made, once: error, close 1006, no retry.
        return this.#failToStart(
          new TypeError(
            'resocket: this platform has no WebSocket (globalThis.WebSocket); pass one, for ' +
              "example the ws package's, as the WebSocket option",
          ),
        );
      }
      active.add(this);
      if (!createCore) {
        if (loadError) return this.#failToStart(loadError);
        waiting.add(this);
        return;
      }
      let core;
      try {
        core = createCore(
          this.#target,
          this.#offered,
          this.#settings.core,
          ReconnectingWebSocket.#emitTo(new WeakRef(this)),
          this.#settings.WebSocket,
        );
      } catch (error) {
        active.delete(this);
        if (sync) throw error;
        return this.#failToStart(error);
      }
      this.#core = core;
      this.#url = core.url() || this.#url;
      const early = this.#early;
      this.#early = null;
      // What was sent before: queued now, in order; what the queue refuses is reported.
      const refused = [];
      for (const { data, bytes } of early?.messages ?? []) {
        try {
          core.send(data, bytes);
        } catch {
          refused.push(data);
        }
      }
      if (refused.length > 0) {
        queueMicrotask(() => this.dispatchEvent(eventWith('dropped', { messages: refused })));
      }
    }

    // The module did not load, or the core could not be made after it did: reported, and
    // the client ends as a connection that could not be made.
    #failToStart(error) {
      reportLater(error);
      this.#endWithoutCore();
    }

    // Ends a client that has no core: what it queued is reported unsent, and, unless it was
    // never started (startClosed), it ends as a connection that could not be made.
    #endWithoutCore() {
      const early = this.#early;
      this.#early = null;
      waiting.delete(this);
      if (early) this.#unsent(early.messages.map((message) => message.data));
      if (this.#readyState === CLOSED) return;
      this.#readyState = CLOSING;
      setTimeout(() => this.#closed(1006, '', false, true), 0);
    }

    // A message sent before the core exists, under the queue's limits, as the core would.
    #queueEarly(data, bytes) {
      const early = this.#early;
      const { maxQueuedMessages, maxQueuedBytes, overflow } = this.#settings;
      if (bytes > maxQueuedBytes) {
        throw new Error(
          `the message was not sent: it is ${bytes} bytes, more than the send queue's limit of ${maxQueuedBytes}`,
        );
      }
      const fits = () =>
        early.messages.length < maxQueuedMessages && early.bytes + bytes <= maxQueuedBytes;
      if (!fits() && (overflow === 'reject' || maxQueuedMessages === 0)) {
        throw new Error(
          `the message was not sent: the send queue is full (at most ${maxQueuedMessages} messages and ${maxQueuedBytes} bytes)`,
        );
      }
      const dropped = [];
      while (!fits() && early.messages.length > 0) {
        const oldest = early.messages.shift();
        early.bytes -= oldest.bytes;
        dropped.push(oldest.data);
      }
      early.messages.push({ data, bytes });
      early.bytes += bytes;
      if (dropped.length > 0) {
        queueMicrotask(() => this.dispatchEvent(eventWith('dropped', { messages: dropped })));
      }
    }

    #closedForGood() {
      return this.#readyState === CLOSED && !this.#settings.startClosed;
    }

    // The `emit` a core gets. Weak: the instance holds its core, which must not hold the
    // instance in return (see `active`). Made here, not in the constructor, so the closure's
    // scope holds nothing else.
    static #emitTo(instance) {
      return (kind, a, b, c) => instance.deref()?.#emit(kind, a, b, c);
    }

    static {
      whenReady?.then(
        (create) => {
          createCore = create;
          for (const client of waiting) client.#start(false);
          waiting.clear();
        },
        (error) => {
          loadError = error;
          for (const client of waiting) client.#failToStart(error);
          waiting.clear();
        },
      );
    }

    #emit(kind, a, b, c) {
      switch (kind) {
        case KIND_MESSAGE:
          return this.#message(a);
        case KIND_SOCKET:
          return this.#listenTo(a, b);
        case KIND_OPEN: {
          this.#readyState = OPEN;
          this.#opened = true;
          this.#retryCount = 0;
          this.#url = this.#core.url() || this.#url;
          this.#origin = null;
          this.#protocol = b;
          this.#extensions = c;
          return this.dispatchEvent(eventWith('open', { attempt: a }));
        }
        case KIND_CLOSE:
          return this.#closed(a, b, c, false);
        case KIND_RECONNECTING: {
          this.#readyState = CONNECTING;
          this.#retryCount = a;
          return this.dispatchEvent(eventWith('reconnecting', { attempt: a, delay: b }));
        }
        case KIND_GIVEUP: {
          this.#readyState = CLOSED;
          // Kept by its core until closed (reconnect() may start it again), but no longer
          // kept alive for its own sake: see `active`.
          active.delete(this);
          this.dispatchEvent(eventWith('giveup', { reason: a }));
          return this.#endIterators();
        }
        case KIND_DROPPED:
          return this.dispatchEvent(eventWith('dropped', { messages: a }));
        case KIND_UNSENT:
          return this.dispatchEvent(eventWith('unsent', { messages: a }));
        case KIND_ERROR:
          return this.dispatchEvent(eventWith('error', { message: a }));
      }
    }

    #message(data) {
      if (this.#binaryType === 'blob' && data instanceof ArrayBuffer) data = new Blob([data]);
      let overflowed = false;
      if (this.#iterators.size) {
        for (const iterator of this.#iterators) overflowed = iterator.push(data) || overflowed;
        if (this.#settings.receive === 'backpressure') this.#paceReading();
      }
      this.#origin ??= originOf(this.#url);
      this.dispatchEvent(
        SocketMessageEvent
          ? new SocketMessageEvent(data, this.#origin)
          : eventWith('message', { data, origin: this.#origin }),
      );
      // After the listeners have this message too; a listener may have closed it already.
      if (overflowed && this.#readyState < CLOSING)
        this.close(UNREAD_LIMIT_CLOSE_CODE, 'unread limit');
    }

    #closed(code, reason, wasClean, final) {
      final = final || this.#readyState === CLOSING || (this.#core?.isFinished() ?? true);
      const failed = (!this.#opened && !wasClean) || this.#failed;
      this.#opened = false;
      this.#failed = false;
      if (final) {
        this.#readyState = CLOSED;
        active.delete(this);
      } else if (this.#readyState === OPEN) this.#readyState = CONNECTING;
      // As the browser does: `error` before `close` for a connection that failed before it
      // opened, or that the browser failed after (see `#onSocketError`).
      if (failed) this.dispatchEvent(new Event('error'));
      this.dispatchEvent(new SocketCloseEvent('close', { code, reason, wasClean }));
      if (final) {
        this.#endIterators();
        this.#listenTo(null, false);
        this.#release();
      }
    }

    // Called by the core as it creates a socket, before any of its events, with the client
    // borrowed: this only moves the listeners (and must not call into the core). The class
    // reads the socket's messages itself when `reads` is true.
    #listenTo(socket, reads) {
      this.#socket?.removeEventListener('message', this.#onSocketMessage);
      this.#socket?.removeEventListener('error', this.#onSocketError);
      this.#socket = socket;
      socket?.addEventListener('error', this.#onSocketError);
      if (reads) socket?.addEventListener('message', this.#onSocketMessage);
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
      queueMicrotask(() => this.dispatchEvent(eventWith('unsent', { messages })));
    }

    // With `receive: 'backpressure'`: holds the connection's reading back while an async
    // iterator is behind, so what it has not taken stays in the network and the server waits
    // (where the browser has WebSocketStream); reads on once every iterator has caught up.
    // `message` listeners get each message as it is read, so they are paced by the slowest
    // iterator too. On the event path this holds nothing back.
    #paceReading() {
      let behind = false;
      for (const iterator of this.#iterators) behind ||= iterator.behind();
      if (behind === this.#readingHeld || !this.#core) return;
      this.#readingHeld = behind;
      this.#core.holdReading(behind);
    }

    #endIterators() {
      for (const iterator of this.#iterators) iterator.end();
    }

    static {
      // onopen, onmessage, ...: an attribute handler is one listener, added where it was first
      // set, so it keeps its place among the others as in the browser. Any object is kept (an
      // EventHandler may be an object with handleEvent, which is not called: as natively); a
      // non-object is null.
      for (const type of HANDLERS) {
        const get = function () {
          return this.#handlers.get(type)?.handler ?? null;
        };
        const set = function (value) {
          const handler =
            typeof value === 'function' || (typeof value === 'object' && value !== null)
              ? value
              : null;
          let slot = this.#handlers.get(type);
          if (!slot) {
            slot = {
              handler: null,
              listener: (event) => {
                if (typeof slot.handler === 'function') return slot.handler.call(this, event);
              },
            };
            this.#handlers.set(type, slot);
          }
          if (handler && !slot.handler) this.addEventListener(type, slot.listener);
          if (!handler && slot.handler) this.removeEventListener(type, slot.listener);
          slot.handler = handler;
        };
        Object.defineProperty(get, 'name', { value: `get on${type}` });
        Object.defineProperty(set, 'name', { value: `set on${type}` });
        Object.defineProperty(this.prototype, `on${type}`, {
          configurable: true,
          enumerable: true,
          get,
          set,
        });
      }
      // As WebIDL defines an interface: attributes and methods are enumerable.
      for (const name of Object.getOwnPropertyNames(this.prototype)) {
        if (name === 'constructor') continue;
        const descriptor = Object.getOwnPropertyDescriptor(this.prototype, name);
        if (!descriptor.enumerable)
          Object.defineProperty(this.prototype, name, { enumerable: true });
      }
      Object.defineProperty(this.prototype, Symbol.toStringTag, {
        value: 'ReconnectingWebSocket',
        configurable: true,
        enumerable: false,
        writable: false,
      });
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
