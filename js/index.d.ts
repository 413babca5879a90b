/** Data a WebSocket can send. */
export type SendData = string | ArrayBufferLike | ArrayBufferView | Blob;

/** A URL, or a function (sync or async) called before every connection attempt. */
export type UrlSource = string | URL | (() => string | URL | Promise<string | URL>);

/** Subprotocols, or a function (sync or async) called before every attempt. */
export type ProtocolsSource =
  | string
  | string[]
  | (() => string | string[] | Promise<string | string[]>);

/**
 * The connection passed to `onOpen`: its `send` writes ahead of everything queued. It works
 * only while the hook runs (until the promise it returned settles); afterwards `send` throws
 * an `InvalidStateError` `DOMException`.
 */
export interface OpenHookSocket {
  send(data: SendData): void;
}

export interface HeartbeatOptions {
  /** Time, in ms, from the open or the last answer to the next ping (busy or not). */
  interval: number;
  /** Time, in ms, to wait for any message after a ping before the connection is replaced. */
  timeout: number;
  /** The ping message. Default: `"ping"`. */
  ping?: string | ArrayBuffer;
  /**
   * Recognises the answer; answers are not delivered as `message` events. If it throws, the
   * exception is reported (`reportError`) and the message delivered as a message.
   */
  isPong?: (data: string | ArrayBuffer | Blob) => boolean;
}

/**
 * Times are in milliseconds, at most 2147483647 (the longest a browser timer waits).
 * `minDelay`, `connectTimeout` and the heartbeat's times must be above 0. A wrong option
 * throws a `TypeError` naming it.
 */
export interface ReconnectingWebSocketOptions {
  /** Shortest delay before a retry, in ms. Default: 500. */
  minDelay?: number;
  /** Longest delay before a retry, in ms. Default: 30000. */
  maxDelay?: number;
  /** Growth of the delay per failed attempt. Default: 2. */
  factor?: number;
  /** How delays are spread so a fleet does not retry in lockstep. Default: `"full"`. */
  jitter?: 'full' | 'decorrelated' | 'none';
  /** Retries before giving up; `null` or `Infinity` for no limit. Default: `null`. */
  maxRetries?: number | null;
  /** A connection up this long (ms) resets the schedule. Default: 5000. */
  stableAfter?: number;
  /** Limit on the handshake plus `onOpen`, in ms; `null` for the browser's. Default: 10000. */
  connectTimeout?: number | null;
  /** Application-level heartbeat; `null` (the default) for none. */
  heartbeat?: HeartbeatOptions | null;
  /** Messages kept while disconnected. Default: 1000. */
  maxQueuedMessages?: number;
  /** Bytes kept while disconnected. Default: 1048576. */
  maxQueuedBytes?: number;
  /** When the queue is full: refuse the new message (`send` throws) or drop the oldest. */
  overflow?: 'reject' | 'drop-oldest';
  /**
   * Whether to reconnect after this close. Default: not after 1002, 1003, 1007-1010. If it
   * throws, the exception is reported (`reportError`) and taken as `false`.
   */
  /** `true`/`false`, or a number of milliseconds (> 0) to wait at least before retrying. */
  shouldReconnect?: (event: CloseEvent) => boolean | number;
  /**
   * Runs after each open, before queued messages are sent (an auth message goes first). If it
   * throws or its promise rejects, the exception is reported (`reportError`) and the attempt
   * fails: the connection is closed and retried on schedule.
   */
  onOpen?: (socket: OpenHookSocket) => void | Promise<void>;
  /** Send buffer size, in bytes, above which the socket counts as busy. Default: 1048576. */
  highWaterMark?: number;
  /**
   * `'backpressure'`: where the browser has `WebSocketStream`, an async iterator (`for await`)
   * that falls 64 messages or 256 KiB behind stops the reading, so the rest wait in the
   * network and the server slows down; `message` listeners get each message as it is read.
   * Elsewhere, and with the `WebSocket` option, the same as `'events'`. Default: `'events'`.
   */
  receive?: 'events' | 'backpressure';
  /**
   * Bytes of messages that may wait unread in an async iterator (`for await`); past that the
   * socket is closed for good with 4009, the iterator yields what arrived and then throws a
   * `QuotaExceededError`. `null` or `Infinity` for no bound. Default: `null`.
   */
  maxUnreadBytes?: number | null;
  /**
   * Start CLOSED, without connecting, until `reconnect()`; messages sent meanwhile are queued.
   * Default: false.
   */
  startClosed?: boolean;
  /**
   * The WebSocket constructor to use (the `ws` package's in Node before 22, or a test double).
   * Default: the platform's `WebSocket` as it was when the package loaded.
   */
  WebSocket?: WebSocketConstructor | null;
}

/** What the `WebSocket` option takes: anything constructed as `new WebSocket(url, protocols)`. */
export type WebSocketConstructor = abstract new (url: string, protocols?: string | string[]) => unknown;

/** The `open` event: which attempt (since the last open) connected. */
export interface OpenEvent extends Event {
  readonly attempt: number;
}

/** Fired before each retry. */
export interface ReconnectingEvent extends Event {
  readonly attempt: number;
  /** Milliseconds until the attempt. */
  readonly delay: number;
}

/** Fired when no more attempts will be made. */
export interface GiveUpEvent extends Event {
  readonly reason: string;
}

/** Fired with messages that will never be sent (dropped from a full queue, or left at close). */
export interface MessagesEvent extends Event {
  readonly messages: SendData[];
}

export interface ReconnectingWebSocketEventMap {
  open: OpenEvent;
  message: MessageEvent;
  close: CloseEvent;
  error: Event;
  reconnecting: ReconnectingEvent;
  giveup: GiveUpEvent;
  dropped: MessagesEvent;
  unsent: MessagesEvent;
}

/**
 * An event handler property's type. In the handlers `WebSocket` has too, `this` is a
 * `WebSocket` and the event is one `WebSocket` would give (the open event's `attempt` is
 * optional there): TypeScript compares handler properties strictly, and a
 * ReconnectingWebSocket must be assignable to `WebSocket`. `addEventListener('open', ...)`
 * gives the fully typed event, and the socket's own variable its extra properties.
 */
type Handler<E, This = ReconnectingWebSocket> = ((this: This, event: E) => unknown) | null;

/** Resolves when the WebAssembly module is ready (clients made before then wait for it). */
export declare const ready: Promise<unknown>;

/** A drop-in for the browser's `WebSocket` that reconnects, queues and stays alive. */
export declare class ReconnectingWebSocket extends EventTarget {
  constructor(url: UrlSource, protocols?: ProtocolsSource, options?: ReconnectingWebSocketOptions);

  static readonly CONNECTING: 0;
  static readonly OPEN: 1;
  static readonly CLOSING: 2;
  static readonly CLOSED: 3;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;

  readonly url: string;
  readonly protocol: string;
  readonly extensions: string;
  readonly readyState: 0 | 1 | 2 | 3;
  /** Bytes not yet on the network: the socket's buffer plus the queue. */
  readonly bufferedAmount: number;
  /** Messages waiting for the next connection. */
  readonly queuedMessages: number;
  binaryType: BinaryType;

  /** Failed attempts since the last open (0 during the first attempt, and while open). */
  readonly retryCount: number;

  onopen: Handler<Event & { readonly attempt?: number }, WebSocket>;
  onmessage: Handler<MessageEvent, WebSocket>;
  onclose: Handler<CloseEvent, WebSocket>;
  onerror: Handler<Event, WebSocket>;
  onreconnecting: Handler<ReconnectingEvent>;
  ongiveup: Handler<GiveUpEvent>;

  /** Sends now if open, else queues for the next connection. */
  send(data: SendData): void;
  /** Closes for good, a client that gave up too (which lets go of all it holds). */
  close(code?: number, reason?: string): void;
  /**
   * Closes the current connection, if any (with `code` and `reason`, checked as `close`
   * checks them), and connects again at once. Starts a client made with `startClosed`, and
   * one that gave up.
   */
  reconnect(code?: number, reason?: string): void;
  /** The data of every incoming message until the socket is closed for good. */
  [Symbol.asyncIterator](): AsyncIterableIterator<string | ArrayBuffer | Blob>;

  addEventListener<K extends keyof ReconnectingWebSocketEventMap>(
    type: K,
    listener: (this: ReconnectingWebSocket, event: ReconnectingWebSocketEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof ReconnectingWebSocketEventMap>(
    type: K,
    listener: (this: ReconnectingWebSocket, event: ReconnectingWebSocketEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

export default ReconnectingWebSocket;
