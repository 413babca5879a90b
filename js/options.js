// The options of `new ReconnectingWebSocket(url, protocols, options)`, read and checked in
// JavaScript: a wrong option is a TypeError thrown by the constructor, naming the option as
// the user wrote it, even before the WebAssembly module has loaded.
//
// This table is the one list of the option names: index.d.ts, the READMEs and the Rust reader
// (js/src/options.rs) are checked against it by tests/package/options.test.mjs.

/** The longest a browser timer waits (setTimeout's limit); longer delays fire at once. */
export const MAX_TIMER_DELAY = 2147483647;

/** The byte limit of `highWaterMark`: a u32. */
const MAX_HIGH_WATER_MARK = 4294967295;

/**
 * Every option, in the order the documentation lists them: `core` ones are handed on to the
 * Rust core, the others are the class's own.
 */
export const OPTIONS = [
  { name: 'minDelay', core: true },
  { name: 'maxDelay', core: true },
  { name: 'factor', core: true },
  { name: 'jitter', core: true },
  { name: 'maxRetries', core: true },
  { name: 'stableAfter', core: true },
  { name: 'connectTimeout', core: true },
  { name: 'heartbeat', core: true },
  { name: 'maxQueuedMessages', core: true },
  { name: 'maxQueuedBytes', core: true },
  { name: 'overflow', core: true },
  { name: 'shouldReconnect', core: true },
  { name: 'onOpen', core: true },
  { name: 'highWaterMark', core: true },
  { name: 'receive', core: true },
  { name: 'maxUnreadBytes', core: false },
  { name: 'startClosed', core: false },
  { name: 'WebSocket', core: false },
];

export const OPTION_NAMES = OPTIONS.map((option) => option.name);

/** The defaults the class needs before the core exists (the queue's limits). */
export const DEFAULT_MAX_QUEUED_MESSAGES = 1000;
export const DEFAULT_MAX_QUEUED_BYTES = 1048576;

/** How a value is shown in an error: strings quoted, numbers as JavaScript prints them. */
export function describeValue(value) {
  if (typeof value === 'string') return `"${value}"`;
  if (typeof value === 'number') return String(value);
  if (value === null) return 'null (object)';
  return typeof value;
}

function optionError(name, expected, value) {
  return new TypeError(
    `ReconnectingWebSocket: option "${name}" must be ${expected}, got ${describeValue(value)}`,
  );
}

/** A number of milliseconds a browser timer can wait; `zero` says whether 0 is allowed. */
function millis(name, value, zero) {
  const expected = zero
    ? `a number of milliseconds from 0 to ${MAX_TIMER_DELAY}`
    : `a number of milliseconds above 0, at most ${MAX_TIMER_DELAY}`;
  // Below a nanosecond is zero to the core's clock.
  const ok =
    typeof value === 'number' && value >= 0 && value <= MAX_TIMER_DELAY && (zero || value >= 1e-6);
  if (!ok) throw optionError(name, expected, value);
  return value;
}

function wholeCount(name, value, expected = 'a whole number, 0 or more') {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    !Number.isInteger(value)
  ) {
    throw optionError(name, expected, value);
  }
  return value;
}

function callback(name, value) {
  if (value === null) return null;
  if (typeof value !== 'function') throw optionError(name, 'a function', value);
  return value;
}

function choice(name, value, choices) {
  if (!choices.includes(value)) {
    throw optionError(name, `one of ${choices.map((c) => `"${c}"`).join(', ')}`, value);
  }
  return value;
}

/** Reads `name` once (a getter runs once; what it throws is thrown as it is). */
function read(object, name) {
  return object[name];
}

/**
 * Reads and checks the options argument. Anything that is not an object (or a function) is
 * ignored, as the browser ignores arguments past the ones it takes; `undefined` and `null`
 * are all defaults.
 *
 * Returns `{ core, startClosed, WebSocket, maxUnreadBytes, maxQueuedMessages, maxQueuedBytes,
 * overflow, receive }`:
 * `core` is a plain object of the checked values for the Rust core (each option read once,
 * so a getter is not asked twice).
 */
export function readOptions(options) {
  const settings = {
    core: {},
    startClosed: false,
    WebSocket: null,
    maxUnreadBytes: null,
    maxQueuedMessages: DEFAULT_MAX_QUEUED_MESSAGES,
    maxQueuedBytes: DEFAULT_MAX_QUEUED_BYTES,
    overflow: 'reject',
    receive: 'events',
  };
  if (options === null || (typeof options !== 'object' && typeof options !== 'function')) {
    return settings;
  }
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) {
      throw new TypeError(
        `ReconnectingWebSocket: unknown option "${key}"; the options are ${OPTION_NAMES.join(', ')}`,
      );
    }
  }
  const core = settings.core;
  let value;
  let minDelay = 500;
  let maxDelay = 30000;
  if ((value = read(options, 'minDelay')) !== undefined)
    core.minDelay = minDelay = millis('minDelay', value, false);
  if ((value = read(options, 'maxDelay')) !== undefined)
    core.maxDelay = maxDelay = millis('maxDelay', value, true);
  if ((value = read(options, 'factor')) !== undefined) {
    if (typeof value !== 'number' || !Number.isFinite(value) || !(value >= 1)) {
      throw optionError('factor', 'a number, 1 or more', value);
    }
    core.factor = value;
  }
  if ((value = read(options, 'jitter')) !== undefined)
    core.jitter = choice('jitter', value, ['full', 'decorrelated', 'none']);
  if ((value = read(options, 'maxRetries')) !== undefined) {
    // Infinity is how other reconnecting libraries spell "no limit"; null is ours.
    core.maxRetries =
      value === null || value === Infinity
        ? null
        : wholeCount(
            'maxRetries',
            value,
            'a whole number, 0 or more, or null or Infinity for no limit',
          );
  }
  if ((value = read(options, 'stableAfter')) !== undefined)
    core.stableAfter = millis('stableAfter', value, true);
  if (minDelay > maxDelay) {
    throw new TypeError(
      `ReconnectingWebSocket: option "minDelay" (${minDelay}) must not be above "maxDelay" (${maxDelay})`,
    );
  }
  if ((value = read(options, 'connectTimeout')) !== undefined) {
    core.connectTimeout = value === null ? null : millis('connectTimeout', value, false);
  }
  if ((value = read(options, 'heartbeat')) !== undefined && value !== null) {
    if (typeof value !== 'object') throw optionError('heartbeat', 'an object or null', value);
    const interval = read(value, 'interval');
    const timeout = read(value, 'timeout');
    if (interval === undefined || timeout === undefined) {
      throw optionError(
        'heartbeat',
        'an object with "interval" and "timeout" in milliseconds',
        value,
      );
    }
    const heartbeat = {
      interval: millis('heartbeat.interval', interval, false),
      timeout: millis('heartbeat.timeout', timeout, false),
    };
    const ping = read(value, 'ping');
    if (ping !== undefined) {
      if (typeof ping !== 'string' && !(ping instanceof ArrayBuffer)) {
        throw optionError('heartbeat.ping', 'a string or an ArrayBuffer', ping);
      }
      heartbeat.ping = ping;
    }
    const isPong = read(value, 'isPong');
    if (isPong !== undefined) heartbeat.isPong = callback('heartbeat.isPong', isPong);
    core.heartbeat = heartbeat;
  }
  if ((value = read(options, 'maxQueuedMessages')) !== undefined) {
    core.maxQueuedMessages = settings.maxQueuedMessages = wholeCount('maxQueuedMessages', value);
  }
  if ((value = read(options, 'maxQueuedBytes')) !== undefined) {
    core.maxQueuedBytes = settings.maxQueuedBytes = wholeCount('maxQueuedBytes', value);
  }
  if ((value = read(options, 'overflow')) !== undefined) {
    core.overflow = settings.overflow = choice('overflow', value, ['reject', 'drop-oldest']);
  }
  if ((value = read(options, 'shouldReconnect')) !== undefined)
    core.shouldReconnect = callback('shouldReconnect', value);
  if ((value = read(options, 'onOpen')) !== undefined) core.onOpen = callback('onOpen', value);
  if ((value = read(options, 'highWaterMark')) !== undefined) {
    if (typeof value !== 'number' || !(value >= 0 && value <= MAX_HIGH_WATER_MARK)) {
      throw optionError(
        'highWaterMark',
        `a number of bytes from 0 to ${MAX_HIGH_WATER_MARK}`,
        value,
      );
    }
    core.highWaterMark = value;
  }
  if ((value = read(options, 'receive')) !== undefined)
    core.receive = settings.receive = choice('receive', value, ['events', 'backpressure']);
  if (
    (value = read(options, 'maxUnreadBytes')) !== undefined &&
    value !== null &&
    value !== Infinity
  ) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw optionError(
        'maxUnreadBytes',
        'a whole number of bytes above 0, or null for no bound',
        value,
      );
    }
    settings.maxUnreadBytes = value;
  }
  if ((value = read(options, 'startClosed')) !== undefined) {
    if (typeof value !== 'boolean') throw optionError('startClosed', 'true or false', value);
    settings.startClosed = value;
  }
  if ((value = read(options, 'WebSocket')) !== undefined && value !== null) {
    if (typeof value !== 'function') {
      throw optionError('WebSocket', 'a WebSocket constructor (a class or function)', value);
    }
    settings.WebSocket = value;
  }
  return settings;
}
