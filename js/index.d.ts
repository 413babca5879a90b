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
  /** Quiet time, in ms, before a ping is sent. */
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
  open: Event & { readonly attempt: number };
  message: MessageEvent;
  close: CloseEvent;
  error: Event;
  reconnecting: ReconnectingEvent;
  giveup: GiveUpEvent;
  dropped: MessagesEvent;
  unsent: MessagesEvent;
}

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

  onopen: ((this: ReconnectingWebSocket, event: ReconnectingWebSocketEventMap['open']) => unknown) | null;
  onmessage: ((this: ReconnectingWebSocket, event: MessageEvent) => unknown) | null;
  onclose: ((this: ReconnectingWebSocket, event: CloseEvent) => unknown) | null;
  onerror: ((this: ReconnectingWebSocket, event: Event) => unknown) | null;
  onreconnecting: ((this: ReconnectingWebSocket, event: ReconnectingEvent) => unknown) | null;
  ongiveup: ((this: ReconnectingWebSocket, event: GiveUpEvent) => unknown) | null;

  /** Sends now if open, else queues for the next connection. */
  send(data: SendData): void;
  /** Closes for good, a client that gave up too (which lets go of all it holds). */
  close(code?: number, reason?: string): void;
  /** Closes the current connection, if any, and connects again at once. */
  reconnect(): void;
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
