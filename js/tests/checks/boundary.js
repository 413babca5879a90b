// Checks of ReconnectingWebSocket at its boundary with the user (issue 11): no value, callback
// or race may abort the WebAssembly module, leak a client, or lose or alter a message.
// js/tests/js_facade.rs calls each run* function from its own wasm-bindgen-test, in Chromium and
// Firefox.
//
// - runFuzz: a few thousand generated option objects, URLs, protocols, send data and close
//   arguments; each call either succeeds or throws its documented error (TypeError,
//   SyntaxError/InvalidAccessError/InvalidStateError DOMException, the queue's Error, or what
//   a user's getter threw), never a WebAssembly.RuntimeError; option errors name the JS option,
//   never a Rust field. Then a fresh client still connects and echoes.
// - runCallbacks: every user callback (URL function, onOpen, shouldReconnect, isPong, the open,
//   message, close, reconnecting and giveup listeners) calling close(), send(), reconnect(),
//   new ReconnectingWebSocket(...) or dispatching offline/online synchronously; nothing throws
//   a wasm error, and a fresh client still works after each.
// - runRelease: 200 clients that give up and are then closed, or dropped (where gc() is
//   exposed: Chromium), leave the live-listener count and the Rust heap as they were; an open
//   client nobody references keeps working.
// - runBoundary: re-sent data is the data that was sent; buffers WebSocket.send refuses throw
//   the same TypeError; exceptions of user callbacks are reported with reportError and the
//   documented fallback is taken; the onOpen socket used late throws InvalidStateError;
//   concurrent next() calls of the async iterator all resolve, in order.
//
// Each check is small, named, has its own time limit; the run functions never throw and return
// `[{ name, ok, error, note }]`. Every check fails on a WebAssembly.RuntimeError reported while
// it ran, and on any exception reported that it did not expect.

import {
  assert,
  describeError,
  echo,
  eq,
  eqList,
  fail,
  isWasmFailure,
  nextEvent,
  opened,
  runChecks,
  show,
  sleep,
  thrown,
} from './kit.js';

const TIMEOUT_MS = 10000;
const EVENT_MS = 5000;

const CLOSED = 3;

// Fast retries for the checks that reconnect.
const FAST = { minDelay: 20, maxDelay: 100 };

export function runFuzz(Class, server, closedPort) {
  return run(FUZZ_CHECKS, { Class, server, closedPort });
}

export function runCallbacks(Class, server, closedPort) {
  return run(CALLBACK_CHECKS, { Class, server, closedPort });
}

export function runRelease(Class, server, closedPort, probe) {
  return run(RELEASE_CHECKS, { Class, server, closedPort, probe });
}

export function runBoundary(Class, server, closedPort) {
  return run(BOUNDARY_CHECKS, { Class, server, closedPort });
}

// Every exception reported while a check runs fails it, unless the check takes it.
function run(checks, env) {
  return runChecks(checks, env, {
    timeoutMs: TIMEOUT_MS,
    eventWaitMs: EVENT_MS,
    watchReports: true,
  });
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/** `promise`, or a rejection saying `what` after `ms`. */
function within(ms, what, promise) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A fresh client to /echo connects and echoes: the module is still alive and well. */
async function freshClientWorks(t) {
  const socket = t.open('/echo');
  await opened(socket);
  eq(await echo(socket, 'still working'), 'still working', 'echo of a fresh client');
  socket.close();
}

function bytes(data) {
  return Array.from(new Uint8Array(data));
}

/** Waits until `condition()` holds, checking every 10 ms, or fails saying `what`. */
async function until(condition, what, ms = EVENT_MS) {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) fail(`${what} within ${ms} ms`);
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------
// Fuzz
// ---------------------------------------------------------------------------

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function generator(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    chance: (p) => next() < p,
    pick: (list) => list[Math.floor(next() * list.length)],
  };
}

/** What a user's getter, valueOf, toString or callback throws in the fuzz. */
class Thrown extends Error {}

const OPTION_NAMES = [
  'minDelay',
  'maxDelay',
  'factor',
  'jitter',
  'maxRetries',
  'stableAfter',
  'connectTimeout',
  'heartbeat',
  'maxQueuedMessages',
  'maxQueuedBytes',
  'overflow',
  'shouldReconnect',
  'onOpen',
  'highWaterMark',
];
// The Rust configuration's field names: an error message must never show one of them.
const RUST_NAMES =
  /min_delay|max_delay|stable_after|connect_timeout|max_retries|max_messages|max_bytes|high_water_mark|is_pong|should_reconnect|on_open|invalid option/;

const NUMBERS = [
  0,
  -0,
  1,
  0.5,
  1e-10,
  Number.MIN_VALUE,
  -1,
  -1e23,
  50,
  100,
  1000,
  2147483647,
  2147483647.5,
  2147483648,
  4294967295,
  4294967296,
  2 ** 53,
  1e23,
  1e300,
  Number.MAX_VALUE,
  Infinity,
  -Infinity,
  NaN,
];

function oddValue(g) {
  return g.pick([
    () => undefined,
    () => null,
    () => '',
    () => '100',
    () => 'soon',
    () => true,
    () => false,
    () => ({}),
    () => [],
    () => [1],
    () => Symbol('odd'),
    () => 10n,
    () => () => 1,
    () => new Number(5),
    () => Object.create(null),
    () => new Proxy({}, {}),
    () => ({
      valueOf() {
        throw new Thrown('valueOf');
      },
    }),
    () => new Date(0),
  ])();
}

function numberOrOdd(g) {
  return g.chance(0.7) ? g.pick(NUMBERS) : oddValue(g);
}

function callbackValue(g) {
  return g.pick([
    () => () => true,
    () => () => false,
    () => async () => true,
    () => () => {
      throw new Thrown('callback');
    },
    () => null,
    () => 'function',
    () => 5,
  ])();
}

function optionValue(g, name) {
  switch (name) {
    case 'jitter':
    case 'overflow':
      return g.chance(0.6)
        ? g.pick(['full', 'decorrelated', 'none', 'reject', 'drop-oldest', 'FULL', ''])
        : numberOrOdd(g);
    case 'shouldReconnect':
    case 'onOpen':
      return callbackValue(g);
    case 'heartbeat': {
      if (g.chance(0.3)) return numberOrOdd(g);
      const heartbeat = {};
      if (g.chance(0.9)) heartbeat.interval = numberOrOdd(g);
      if (g.chance(0.9)) heartbeat.timeout = numberOrOdd(g);
      if (g.chance(0.3)) heartbeat.ping = sendValue(g);
      if (g.chance(0.3)) heartbeat.isPong = callbackValue(g);
      if (g.chance(0.05)) {
        Object.defineProperty(heartbeat, 'timeout', {
          enumerable: true,
          get() {
            throw new Thrown('heartbeat getter');
          },
        });
      }
      return heartbeat;
    }
    default:
      return numberOrOdd(g);
  }
}

function optionsValue(g) {
  if (g.chance(0.04)) return g.pick([5, 'options', Symbol('options'), 10n, true, () => ({})]);
  if (g.chance(0.02)) {
    return new Proxy(
      {},
      {
        ownKeys() {
          throw new Thrown('ownKeys');
        },
      },
    );
  }
  if (g.chance(0.1)) return undefined;
  const options = {};
  const count = Math.floor(g.next() * 4);
  for (let i = 0; i < count; i++) {
    const name = g.chance(0.03) ? g.pick(['nope', 'MinDelay', '']) : g.pick(OPTION_NAMES);
    if (g.chance(0.04)) {
      Object.defineProperty(options, name, {
        enumerable: true,
        configurable: true,
        get() {
          throw new Thrown(`getter of ${name}`);
        },
      });
    } else {
      // Over an earlier getter of the same name too.
      Object.defineProperty(options, name, {
        value: optionValue(g, name),
        enumerable: true,
        configurable: true,
        writable: true,
      });
    }
  }
  return options;
}

function urlValue(g, t) {
  if (g.chance(0.6)) return `${t.server}/echo`;
  return g.pick([
    () => `ws://127.0.0.1:${t.closedPort}/`,
    () => new URL(`${t.server}/echo`),
    () => '/relative',
    () => `${t.http}/echo`,
    () => 'ftp://example.invalid/',
    () => '',
    () => 'ws://[',
    () => `${t.server}/echo#fragment`,
    () => 'not a url',
    () => 5,
    () => null,
    () => undefined,
    () => Symbol('url'),
    () => 10n,
    () => ({}),
    () => ({ href: `${t.server}/echo` }),
    () => () => `${t.server}/echo`,
    () => async () => `${t.server}/echo`,
    () => async () => 5,
    () => () => {
      throw new Thrown('url function');
    },
    () =>
      new Proxy(
        {},
        {
          get() {
            throw new Thrown('url proxy');
          },
        },
      ),
  ])();
}

function protocolsValue(g) {
  if (g.chance(0.6)) return undefined;
  return g.pick([
    () => 'a',
    () => ['a', 'b'],
    () => ['a', 'a'],
    () => ['bad protocol'],
    () => [''],
    () => [1],
    () => [Symbol('p')],
    () => 'x y',
    () => () => 'a',
    () => async () => ['a'],
    () => () => {
      throw new Thrown('protocols function');
    },
    () => 5,
    () => null,
    () => ({}),
    () => Symbol('p'),
    () => 10n,
    () => [],
  ])();
}

function detached() {
  const buffer = new ArrayBuffer(8);
  structuredClone(buffer, { transfer: [buffer] });
  return buffer;
}

/** A view made before its buffer was detached (one cannot be made after). */
function viewOnDetached() {
  const view = new Uint8Array(8);
  structuredClone(view.buffer, { transfer: [view.buffer] });
  return view;
}

function resizable() {
  return new ArrayBuffer(4, { maxByteLength: 16 });
}

function sendValue(g) {
  return g.pick([
    () => 'text',
    () => '',
    () => 'é🦀',
    () => new ArrayBuffer(4),
    () => new Uint8Array(3),
    () => new DataView(new ArrayBuffer(2)),
    () => new Uint8Array(new ArrayBuffer(8), 2, 3),
    () => new Float64Array(2),
    () => new Blob(['blob']),
    () => resizable(),
    () => new Uint8Array(resizable()),
    () => detached(),
    () => viewOnDetached(),
    () =>
      typeof SharedArrayBuffer === 'function' ? new Uint8Array(new SharedArrayBuffer(4)) : 'x',
    () => 42,
    () => null,
    () => undefined,
    () => ({}),
    () => [],
    () => Symbol('data'),
    () => 10n,
    () => true,
    () => Promise.resolve('x'),
    () => ({
      toString() {
        throw new Thrown('toString');
      },
    }),
  ])();
}

function closeCode(g) {
  return g.pick([
    () => undefined,
    () => 1000,
    () => 3000,
    () => 4999,
    () => 1001,
    () => 1005,
    () => 0,
    () => -1,
    () => 65535,
    () => 65536,
    () => 66536,
    () => NaN,
    () => Infinity,
    () => '1000',
    () => '4000',
    () => 1000.5,
    () => 2999.5,
    () => null,
    () => Symbol('code'),
    () => 1000n,
    () => ({
      valueOf() {
        throw new Thrown('code valueOf');
      },
    }),
    () => ({}),
    () => [4000],
  ])();
}

function closeReason(g) {
  return g.pick([
    () => undefined,
    () => '',
    () => 'bye',
    () => 'x'.repeat(123),
    () => 'x'.repeat(124),
    () => 'é'.repeat(62),
    () => '\ud800',
    () => null,
    () => 123,
    () => Symbol('reason'),
    () => ({
      toString() {
        throw new Thrown('reason toString');
      },
    }),
  ])();
}

const isDom = (error, ...names) => error instanceof DOMException && names.includes(error.name);

// What each call may throw; anything else fails the fuzz.
const ALLOWED = {
  constructor: (error) =>
    error instanceof Thrown || error instanceof TypeError || isDom(error, 'SyntaxError'),
  send: (error) =>
    error instanceof Thrown ||
    error instanceof TypeError ||
    isDom(error, 'InvalidStateError') ||
    // The queue refusing a message: a plain Error that says so.
    (error?.constructor === Error && /queue|too large/i.test(error.message)),
  close: (error) =>
    error instanceof Thrown ||
    error instanceof TypeError ||
    isDom(error, 'InvalidAccessError', 'SyntaxError'),
  reconnect: () => false,
};

const FUZZ_CASES = 3000;
const FUZZ_SEED = 0x5eed11;

const FUZZ_CHECKS = [
  [
    'fuzz: 3,000 generated constructions, sends, closes and reconnects throw only their documented errors; a fresh client then echoes',
    async (t) => {
      const g = generator(FUZZ_SEED);
      const tally = new Map();
      const count = (what) => tally.set(what, (tally.get(what) ?? 0) + 1);
      const problems = [];
      const kept = [];
      const attempt = (what, args, call) => {
        try {
          const value = call();
          count(`${what} ok`);
          return value;
        } catch (error) {
          if (isWasmFailure(error) || !ALLOWED[what](error)) {
            problems.push(`${what}(${args.map(show).join(', ')}) threw ${describeError(error)}`);
          } else if (
            what === 'constructor' &&
            error instanceof TypeError &&
            (RUST_NAMES.test(error.message) || /18446744073709551615/.test(error.message))
          ) {
            problems.push(
              `${what}(${args.map(show).join(', ')}): the error shows Rust's names or numbers: ${error.message}`,
            );
          } else {
            count(`${what} ${error instanceof DOMException ? error.name : error.constructor.name}`);
          }
          return undefined;
        }
      };
      for (let n = 0; n < FUZZ_CASES && problems.length < 10; n++) {
        const args = [urlValue(g, t), protocolsValue(g), optionsValue(g)];
        const socket = attempt('constructor', args, () => new t.Class(...args));
        if (socket) {
          const operations = Math.floor(g.next() * 4);
          for (let i = 0; i < operations; i++) {
            const which = g.next();
            if (which < 0.5) {
              const data = sendValue(g);
              attempt('send', [data], () => socket.send(data));
            } else if (which < 0.8) {
              const code = closeCode(g);
              const reason = closeReason(g);
              attempt('close', [code, reason], () => socket.close(code, reason));
            } else {
              attempt('reconnect', [], () => socket.reconnect());
            }
          }
          // Most are closed at once; a few live on a moment, so their callbacks and attempts run.
          if (n % 25 === 0) kept.push(socket);
          else attempt('close', [], () => socket.close());
        }
        // Lets the drivers of the clients just made run, and the browser breathe.
        if (n % 50 === 49) await sleep(0);
      }
      await sleep(200);
      for (const socket of kept) attempt('close', [], () => socket.close());
      await sleep(100);
      // URL and protocol functions that threw or returned nonsense are reported, as documented.
      t.reported((error) => error instanceof Thrown || error instanceof TypeError);
      t.note(`seed ${FUZZ_SEED}: ${[...tally].map(([what, n]) => `${what} ${n}`).join(', ')}`);
      assert(problems.length === 0, problems.join('\n'));
      await freshClientWorks(t);
    },
    120000,
  ],

  [
    'fuzz: every millisecond option at 1e23, Number.MAX_VALUE, 2^31 and below 0 is a TypeError naming the option and its range',
    async (t) => {
      const options = [
        ['minDelay', (v) => ({ minDelay: v, maxDelay: 2147483647 })],
        ['maxDelay', (v) => ({ maxDelay: v })],
        ['stableAfter', (v) => ({ stableAfter: v })],
        ['connectTimeout', (v) => ({ connectTimeout: v })],
        ['heartbeat.interval', (v) => ({ heartbeat: { interval: v, timeout: 1000 } })],
        ['heartbeat.timeout', (v) => ({ heartbeat: { interval: 1000, timeout: v } })],
      ];
      for (const [name, make] of options) {
        for (const value of [1e23, Number.MAX_VALUE, 2147483648, -1, NaN, Infinity]) {
          const error = thrown(
            () => t.track(new t.Class(`${t.server}/echo`, undefined, make(value))),
            `${name}: ${value}`,
          );
          assert(
            error instanceof TypeError,
            `${name}: ${value}: expected a TypeError, got ${describeError(error)}`,
          );
          assert(
            error.message.includes(`"${name}"`),
            `${name}: ${value}: the message does not name it: ${error.message}`,
          );
          assert(
            error.message.includes('2147483647'),
            `${name}: ${value}: the message does not give the range: ${error.message}`,
          );
          assert(
            !/18446744073709551615/.test(error.message),
            `${name}: ${value}: ${error.message}`,
          );
        }
        // The largest allowed value is accepted.
        t.track(new t.Class(`${t.server}/echo`, undefined, make(2147483647))).close();
      }
      t.note(
        thrown(() => new t.Class(`${t.server}/echo`, undefined, { minDelay: 1e23 }), 'minDelay')
          .message,
      );
      await freshClientWorks(t);
    },
  ],

  [
    'fuzz: each check of the Rust configuration is made first under the JS name',
    async (t) => {
      const cases = [
        [{ minDelay: 0 }, 'minDelay'],
        [{ minDelay: 1e-10 }, 'minDelay'],
        [{ minDelay: -0 }, 'minDelay'],
        [{ maxDelay: 100 }, 'minDelay'],
        [{ minDelay: 2000, maxDelay: 1000 }, 'minDelay'],
        [{ factor: NaN }, 'factor'],
        [{ factor: 0.5 }, 'factor'],
        [{ factor: Infinity }, 'factor'],
        [{ connectTimeout: 0 }, 'connectTimeout'],
        [{ heartbeat: { interval: 0, timeout: 100 } }, 'heartbeat.interval'],
        [{ heartbeat: { interval: 100, timeout: 1e-12 } }, 'heartbeat.timeout'],
        [{ maxRetries: -Infinity }, 'maxRetries'],
        [{ maxRetries: 1.5 }, 'maxRetries'],
        [{ maxQueuedMessages: NaN }, 'maxQueuedMessages'],
        [{ maxQueuedBytes: Infinity }, 'maxQueuedBytes'],
        [{ highWaterMark: 4294967296 }, 'highWaterMark'],
      ];
      for (const [options, name] of cases) {
        const shown = JSON.stringify(options);
        const error = thrown(
          () => t.track(new t.Class(`${t.server}/echo`, undefined, options)),
          shown,
        );
        assert(
          error instanceof TypeError,
          `${shown}: expected a TypeError, got ${describeError(error)}`,
        );
        assert(
          error.message.includes(`"${name}"`),
          `${shown}: the message does not name ${name}: ${error.message}`,
        );
        assert(!RUST_NAMES.test(error.message), `${shown}: a Rust name in ${error.message}`);
      }
      // Huge counts are accepted: they mean "no limit" in practice.
      for (const options of [
        { maxRetries: 1e300 },
        { maxQueuedMessages: 1e300 },
        { maxQueuedBytes: Number.MAX_VALUE },
        { factor: 1e300 },
        { highWaterMark: 4294967295 },
      ]) {
        t.track(new t.Class(`${t.server}/echo`, undefined, options)).close();
      }
      await freshClientWorks(t);
    },
  ],

  [
    'fuzz: maxRetries Infinity is no limit, as null is',
    async (t) => {
      const socket = t.open('/refuse?status=503', undefined, {
        minDelay: 10,
        maxDelay: 10,
        maxRetries: Infinity,
      });
      let reconnecting = 0;
      let giveup = false;
      socket.addEventListener('reconnecting', () => (reconnecting += 1));
      socket.addEventListener('giveup', () => (giveup = true));
      await until(() => reconnecting >= 5, 'five retries');
      assert(!giveup, 'gave up');
    },
  ],
];

// ---------------------------------------------------------------------------
// Callbacks that call back into the client
// ---------------------------------------------------------------------------

// What a callback does to its own client (or the page).
const ACTIONS = [
  ['close()', (ws) => ws.close()],
  ['send()', (ws) => ws.send('from a callback')],
  ['reconnect()', (ws) => ws.reconnect()],
  ['new ReconnectingWebSocket()', (ws, t) => t.track(new t.Class(`${t.server}/echo`))],
  [
    'offline and online dispatched',
    () => {
      globalThis.dispatchEvent(new Event('offline'));
      globalThis.dispatchEvent(new Event('online'));
    },
  ],
];

// Each makes a client whose callback calls `act(ws)` once.
const CALLBACKS = [
  [
    'the URL function',
    (t, act) => {
      const ws = t.track(
        new t.Class(
          () => {
            act(ws);
            return `${t.server}/echo`;
          },
          undefined,
          FAST,
        ),
      );
      return ws;
    },
  ],
  [
    'an async URL function',
    (t, act) => {
      const ws = t.track(
        new t.Class(
          async () => {
            act(ws);
            return `${t.server}/echo`;
          },
          undefined,
          FAST,
        ),
      );
      return ws;
    },
  ],
  [
    'onOpen',
    (t, act) => {
      const ws = t.open('/echo', undefined, { ...FAST, onOpen: () => act(ws) });
      return ws;
    },
  ],
  [
    'shouldReconnect',
    (t, act) => {
      const ws = t.open('/close?code=4000&delay=20', undefined, {
        ...FAST,
        shouldReconnect: () => {
          act(ws);
          return true;
        },
      });
      return ws;
    },
  ],
  [
    'heartbeat.isPong',
    (t, act) => {
      const ws = t.open('/echo', undefined, {
        ...FAST,
        heartbeat: {
          interval: 60000,
          timeout: 60000,
          isPong: () => {
            act(ws);
            return false;
          },
        },
      });
      ws.addEventListener('open', () => ws.send('hi'), { once: true });
      return ws;
    },
  ],
  [
    'an open listener',
    (t, act) => {
      const ws = t.open('/echo', undefined, FAST);
      ws.addEventListener('open', () => act(ws));
      return ws;
    },
  ],
  [
    'a message listener (messages read by the class)',
    (t, act) => {
      const ws = t.open('/echo', undefined, FAST);
      ws.addEventListener('open', () => ws.send('hi'), { once: true });
      ws.addEventListener('message', () => act(ws));
      return ws;
    },
  ],
  [
    'a message listener (messages through the core)',
    (t, act) => {
      const ws = t.open('/echo', undefined, {
        ...FAST,
        heartbeat: { interval: 60000, timeout: 60000 },
      });
      ws.addEventListener('open', () => ws.send('hi'), { once: true });
      ws.addEventListener('message', () => act(ws));
      return ws;
    },
  ],
  [
    'a close listener',
    (t, act) => {
      const ws = t.open('/drop?delay=20', undefined, FAST);
      ws.addEventListener('close', () => act(ws));
      return ws;
    },
  ],
  [
    'a reconnecting listener',
    (t, act) => {
      const ws = t.open('/drop?delay=20', undefined, FAST);
      ws.addEventListener('reconnecting', () => act(ws));
      return ws;
    },
  ],
  [
    'a giveup listener',
    (t, act) => {
      const ws = t.open('/refuse?status=403', undefined, { maxRetries: 0 });
      ws.addEventListener('giveup', () => act(ws));
      return ws;
    },
  ],
];

const CALLBACK_CHECKS = CALLBACKS.flatMap(([where, make]) =>
  ACTIONS.map(([what, action]) => [
    `callbacks: ${where} calls ${what}; nothing fails, a fresh client works`,
    async (t) => {
      let called;
      const wasCalled = new Promise((resolve) => (called = resolve));
      let inside = null;
      let fired = false;
      const ws = make(t, (socket) => {
        if (fired) return;
        fired = true;
        try {
          action(socket, t);
        } catch (error) {
          inside = error;
        }
        called();
      });
      await within(EVENT_MS, `${where} was not called`, wasCalled);
      // What the action set off (a close, a new attempt, a send) happens now.
      await sleep(150);
      if (inside !== null) {
        // send() on a client the callback's own event closed for good is refused, as documented.
        const refused =
          what === 'send()' && isDom(inside, 'InvalidStateError') && ws.readyState === CLOSED;
        assert(refused, `${what} threw ${describeError(inside)}`);
        t.note(`${what} threw ${describeError(inside)}`);
      }
      await freshClientWorks(t);
    },
  ]),
);

// ---------------------------------------------------------------------------
// Freeing clients
// ---------------------------------------------------------------------------

const CLIENTS = 200;

/**
 * `count` clients that give up at the first failure; resolves once all have. Their URL
 * function answers a URL no WebSocket can use, so each attempt fails before any socket is
 * made: hundreds of failed connections would make Chromium hold back every later WebSocket
 * of this page (its per-process throttle), and stall the tests that run after this one.
 */
async function gaveUpClients(t, count, queued = false) {
  const clients = Array.from(
    { length: count },
    () => new t.Class(() => 'ftp://unusable.invalid/', undefined, { maxRetries: 0 }),
  );
  if (queued) for (const client of clients) client.send('queued before giving up');
  await within(
    EVENT_MS * 2,
    'not every client gave up',
    Promise.all(
      clients.map((client) =>
        client.readyState === CLOSED ? null : nextEvent(client, 'giveup', EVENT_MS * 2),
      ),
    ),
  );
  return clients;
}

const gc = globalThis.gc;

/**
 * Runs the garbage collector until `condition()` holds (finalizers run after it, in tasks).
 * Never in the task that ran `condition()`: a WeakRef's target read there is kept alive until
 * that task ends.
 */
async function collectUntil(condition) {
  for (let round = 0; round < 50 && !condition(); round++) {
    await sleep(0);
    gc();
    await sleep(20);
  }
  return condition();
}

const RELEASE_CHECKS = [
  [
    'release: a client nobody references keeps working while it is open or retrying',
    async (t) => {
      if (typeof gc !== 'function')
        t.note('no gc() in this browser: checked without forcing a collection');
      let got;
      const received = new Promise((resolve) => (got = resolve));
      const seen = [];
      (() => {
        const ws = new t.Class(`${t.server}/drop?delay=50`, undefined, {
          ...FAST,
          heartbeat: { interval: 60000, timeout: 60000 },
        });
        let opens = 0;
        ws.onclose = (event) => seen.push(`close ${event.code}`);
        ws.onopen = () => {
          seen.push('open');
          opens += 1;
          // The second connection: the client lived through a drop and a retry unreferenced.
          if (opens === 2) ws.send('unreferenced');
        };
        ws.onmessage = (event) => {
          got(event.data);
          ws.close();
        };
      })();
      for (let i = 0; i < 10 && typeof gc === 'function'; i++) {
        gc();
        await sleep(10);
      }
      const echoed = await within(EVENT_MS, 'no echo', received).catch((error) =>
        fail(`${error.message}; events: ${seen}`),
      );
      eq(echoed, 'unreferenced', 'echo');
    },
  ],

  [
    'release: close() after giving up reports the queued messages as unsent and lets the core go',
    async (t) => {
      const [client] = await gaveUpClients(t, 1, true);
      eq(client.readyState, CLOSED, 'readyState after giving up');
      eq(client.queuedMessages, 1, 'queued messages after giving up');
      const unsent = nextEvent(client, 'unsent');
      client.close();
      eqList((await unsent).messages, ['queued before giving up'], 'unsent messages');
      eq(client.queuedMessages, 0, 'queued messages after close()');
      eq(client.readyState, CLOSED, 'readyState after close()');
      const error = thrown(() => client.send('late'), 'send after close');
      assert(isDom(error, 'InvalidStateError'), `send after close threw ${describeError(error)}`);
      client.close();
      client.reconnect();
      eq(client.readyState, CLOSED, 'readyState after reconnect() on a closed client');
    },
  ],

  [
    `release: ${CLIENTS} clients that gave up and are closed leave listeners and the Rust heap as they were`,
    async (t) => {
      // A first round grows what is grown once (the task queue, the externref table).
      for (const client of await gaveUpClients(t, CLIENTS, true)) client.close();
      await sleep(50);
      const listeners = t.probe.liveListeners();
      const heap = t.probe.liveBytes();
      const allocations = t.probe.liveAllocations();
      const clients = await gaveUpClients(t, CLIENTS, true);
      const held = t.probe.liveBytes() - heap;
      const heldListeners = t.probe.liveListeners() - listeners;
      for (const client of clients) client.close();
      await sleep(50);
      const afterListeners = t.probe.liveListeners();
      const afterHeap = t.probe.liveBytes();
      t.note(
        `while gave up: +${heldListeners} listeners, +${held} bytes; after close(): ${afterListeners - listeners} listeners, ${afterHeap - heap} bytes, ${t.probe.liveAllocations() - allocations} allocations`,
      );
      assert(
        held > 0 && heldListeners > 0,
        'the clients held nothing while gave up: the check proves nothing',
      );
      eq(afterListeners, listeners, 'live listeners after close()');
      eq(afterHeap, heap, 'Rust heap bytes after close()');
    },
    30000,
  ],

  [
    `release: ${CLIENTS} clients that gave up and are dropped are collected and their cores freed`,
    async (t) => {
      if (typeof gc !== 'function') {
        t.note(
          'skipped: this browser exposes no gc() (Chromium does, with --js-flags=--expose-gc); the closed half covers what close() frees',
        );
        return;
      }
      for (const client of await gaveUpClients(t, CLIENTS)) client.close();
      await collectUntil(() => false);
      const listeners = t.probe.liveListeners();
      const heap = t.probe.liveBytes();
      let refs = (await gaveUpClients(t, CLIENTS)).map((client) => new WeakRef(client));
      const held = t.probe.liveBytes() - heap;
      const collected = await collectUntil(() => refs.every((ref) => ref.deref() === undefined));
      const alive = refs.flatMap((ref, i) =>
        ref.deref() === undefined ? [] : [`#${i} readyState ${ref.deref().readyState}`],
      );
      refs = null;
      assert(
        collected,
        `${alive.length} of ${CLIENTS} dropped clients were never collected: something holds them (${alive.join(', ')}; ${t.probe.liveListeners() - listeners} listeners, ${t.probe.liveBytes() - heap} bytes more than before)`,
      );
      const freed = await collectUntil(
        () => t.probe.liveListeners() === listeners && t.probe.liveBytes() === heap,
      );
      t.note(
        `while gave up: +${held} bytes; after gc: ${t.probe.liveListeners() - listeners} listeners, ${t.probe.liveBytes() - heap} bytes`,
      );
      assert(
        freed,
        `cores not freed after gc: ${t.probe.liveListeners() - listeners} listeners, ${t.probe.liveBytes() - heap} bytes more than before`,
      );
    },
    30000,
  ],

  // Chromium holds new connections back for several seconds after the hundreds of failed
  // ones above (7.5 s measured), so this waits up to 20 s.
  [
    'release: after the finalizers ran, a client still reconnects after a drop',
    async (t) => {
      const socket = t.open('/drop?delay=50', undefined, FAST);
      const seen = [];
      socket.addEventListener('open', () => seen.push('open'));
      socket.addEventListener('close', () => seen.push('close'));
      socket.addEventListener('reconnecting', () => seen.push('reconnecting'));
      const started = performance.now();
      await until(() => seen.filter((e) => e === 'open').length >= 2, 'a second open', 20000).catch(
        (error) => fail(`${error.message}; events: ${seen}; readyState ${socket.readyState}`),
      );
      t.note(`second open after ${Math.round(performance.now() - started)} ms`);
    },
    25000,
  ],
];

// ---------------------------------------------------------------------------
// Data, reported errors, the onOpen socket, the iterator
// ---------------------------------------------------------------------------

/** How `send(make())` ends on an open native WebSocket: "sent", or the exception's name. */
function outcome(fn) {
  try {
    fn();
    return 'sent';
  } catch (error) {
    return `${error.constructor.name} ${error.name}`;
  }
}

const BOUNDARY_CHECKS = [
  [
    'data: an ArrayBuffer queued while connecting is copied at send() (dropped event shows the copy)',
    async (t) => {
      const socket = t.open('/echo', undefined, { maxQueuedMessages: 1, overflow: 'drop-oldest' });
      const buffer = new Uint8Array([1, 2, 3]).buffer;
      const view = new Uint8Array([4, 5, 6]);
      const dropped = [];
      socket.addEventListener('dropped', (event) => dropped.push(...event.messages));
      socket.send(buffer);
      socket.send(view);
      new Uint8Array(buffer).fill(0);
      view.fill(0);
      socket.send('last');
      await until(() => dropped.length === 2, 'two dropped messages');
      eqList(bytes(dropped[0]), [1, 2, 3], 'the dropped ArrayBuffer');
      eqList(bytes(dropped[1]), [4, 5, 6], 'the dropped view');
      assert(dropped[0] !== buffer, "the queue holds the caller's own ArrayBuffer");
    },
  ],

  [
    'data: buffers sent while open and then reused are re-sent after a heartbeat timeout as they were sent',
    async (t) => {
      // A reader that takes 1 byte/s holds the big message in the browser's buffer
      // (bufferedAmount); the heartbeat then gives the connection up and the client sends what
      // the browser still held again, on an echo connection, from its in-flight ledger.
      let calls = 0;
      const socket = t.track(
        new t.Class(
          () => (calls++ === 0 ? `${t.server}/slow?rate=1` : `${t.server}/echo`),
          undefined,
          // The heartbeat also runs on the echo connection, where its ping waits behind the 24 MiB
          // being sent again and the pong behind their echo: Firefox, which counts a message in
          // bufferedAmount until all of it is written, took over 300 ms for that under load, and
          // the client then gave that connection up too, again and again. 3 s covers it.
          {
            ...FAST,
            maxQueuedBytes: 64 * 1024 * 1024,
            heartbeat: { interval: 100, timeout: 3000 },
          },
        ),
      );
      socket.binaryType = 'arraybuffer';
      await opened(socket);
      const big = new Uint8Array(24 * 1024 * 1024).fill(7);
      const small = new Uint8Array([1, 2, 3, 4]);
      socket.send(big.buffer);
      socket.send(small);
      const buffered = socket.bufferedAmount;
      big.fill(9);
      small.fill(0);
      const echoes = [];
      socket.addEventListener('message', (event) => {
        if (event.data instanceof ArrayBuffer) echoes.push(event.data);
      });
      const seen = [];
      socket.addEventListener('close', (event) =>
        seen.push(`close ${event.code} at bufferedAmount ${socket.bufferedAmount}`),
      );
      socket.addEventListener('open', () => seen.push(`open, ${socket.queuedMessages} queued`));
      const readings = [];
      for (let i = 0; i < 5; i++) {
        readings.push(socket.bufferedAmount);
        await sleep(50);
      }
      t.note(`bufferedAmount after the sends ${buffered}, then ${readings}`);
      await until(
        () => echoes.length === 2,
        `two binary echoes on the second connection (${seen})`,
        8000,
      );
      const first = new Uint8Array(echoes[0]);
      eq(first.length, big.length, 'bytes of the big message');
      assert(
        first.every((byte) => byte === 7),
        `the big message was re-sent with the bytes written after send(): ${first[0]}…`,
      );
      eqList(bytes(echoes[1]), [1, 2, 3, 4], 'the small view re-sent');
    },
    20000,
  ],

  [
    'data: resizable, detached and shared buffers: send() throws, or sends, as the native WebSocket does',
    async (t) => {
      const native = new WebSocket(`${t.server}/echo`);
      native.binaryType = 'arraybuffer';
      await opened(native);
      const subject = t.open('/echo');
      subject.binaryType = 'arraybuffer';
      await opened(subject);
      const kinds = [
        ['a resizable ArrayBuffer', resizable],
        ['a view on a resizable ArrayBuffer', () => new Uint8Array(resizable())],
        ['a detached ArrayBuffer', detached],
        ['a view on a detached ArrayBuffer', viewOnDetached],
      ];
      if (typeof SharedArrayBuffer === 'function') {
        kinds.push([
          'a view on a SharedArrayBuffer',
          () => new Uint8Array(new SharedArrayBuffer(4)),
        ]);
      }
      const arrived = { native: [], subject: [] };
      native.addEventListener('message', (event) => arrived.native.push(event.data.byteLength));
      subject.addEventListener('message', (event) => arrived.subject.push(event.data.byteLength));
      const outcomes = { native: [], subject: [] };
      for (const [kind, make] of kinds) {
        outcomes.native.push(`${kind}: ${outcome(() => native.send(make()))}`);
        outcomes.subject.push(`${kind}: ${outcome(() => subject.send(make()))}`);
      }
      native.send('end');
      subject.send('end');
      await until(
        () =>
          arrived.native.length > 0 &&
          arrived.native.at(-1) === undefined &&
          arrived.subject.length > 0 &&
          arrived.subject.at(-1) === undefined,
        'the end of both echoes',
      );
      t.note(
        `native: ${outcomes.native.join('; ')}; sizes that arrived: ${arrived.native.slice(0, -1)}`,
      );
      native.close();
      eqList(outcomes.subject, outcomes.native, 'outcomes (as native)');
      eqList(arrived.subject, arrived.native, 'sizes of the messages that arrived (as native)');
    },
  ],

  [
    'errors: shouldReconnect that throws is reported; the close is not retried (giveup)',
    async (t) => {
      const error = new Error('shouldReconnect failed');
      const socket = t.open('/close?code=4000', undefined, {
        ...FAST,
        shouldReconnect: () => {
          throw error;
        },
      });
      await nextEvent(socket, 'giveup');
      await sleep(0);
      eq(t.reported((e) => e === error).length, 1, 'reports of the exception');
    },
  ],

  [
    'errors: isPong that throws is reported; the message is delivered',
    async (t) => {
      const error = new Error('isPong failed');
      const socket = t.open('/echo', undefined, {
        heartbeat: {
          interval: 60000,
          timeout: 60000,
          isPong: () => {
            throw error;
          },
        },
      });
      await opened(socket);
      eq(await echo(socket, 'delivered'), 'delivered', 'the message');
      await sleep(0);
      eq(t.reported((e) => e === error).length, 1, 'reports of the exception');
    },
  ],

  [
    'errors: a URL function that throws, or rejects, is reported; the attempt fails and is retried',
    async (t) => {
      for (const [how, failWith] of [
        [
          'throws',
          (e) => {
            throw e;
          },
        ],
        [
          'rejects',
          async (e) => {
            throw e;
          },
        ],
      ]) {
        const error = new Error(`URL function ${how}`);
        let calls = 0;
        const socket = t.track(
          new t.Class(
            () => (calls++ === 0 ? failWith(error) : `${t.server}/echo`),
            undefined,
            FAST,
          ),
        );
        const close = await nextEvent(socket, 'close');
        eq(close.code, 1006, `${how}: close code`);
        assert(close.reason.includes(error.message), `${how}: close reason ${close.reason}`);
        await nextEvent(socket, 'open');
        eq(t.reported((e) => e === error).length, 1, `${how}: reports of the exception`);
      }
    },
  ],

  [
    'errors: a URL function that returns no URL is reported as a TypeError',
    async (t) => {
      let calls = 0;
      const socket = t.track(
        new t.Class(() => (calls++ === 0 ? 42 : `${t.server}/echo`), undefined, FAST),
      );
      await nextEvent(socket, 'open');
      eq(t.reported((e) => e instanceof TypeError).length, 1, 'reported TypeErrors');
    },
  ],

  [
    'errors: onOpen that throws, or rejects, is reported; the connection closes 4000 and is retried',
    async (t) => {
      for (const [how, failWith] of [
        [
          'throws',
          (e) => {
            throw e;
          },
        ],
        [
          'rejects',
          async (e) => {
            throw e;
          },
        ],
      ]) {
        const error = new Error(`onOpen ${how}`);
        let calls = 0;
        const socket = t.open('/echo', undefined, {
          ...FAST,
          onOpen: () => (calls++ === 0 ? failWith(error) : undefined),
        });
        const close = await nextEvent(socket, 'close');
        eq(close.code, 4000, `${how}: close code`);
        await nextEvent(socket, 'open');
        eq(calls, 2, `${how}: hook calls`);
        eq(t.reported((e) => e === error).length, 1, `${how}: reports of the exception`);
      }
    },
  ],

  [
    "onOpen: the hook's socket used after the hook resolved throws InvalidStateError saying why",
    async (t) => {
      let hookSocket = null;
      const socket = t.open('/echo', undefined, {
        onOpen: (s) => {
          hookSocket = s;
        },
      });
      await opened(socket);
      const error = thrown(() => hookSocket.send('late'), 'send on the hook socket after the hook');
      assert(
        isDom(error, 'InvalidStateError'),
        `expected InvalidStateError, got ${describeError(error)}`,
      );
      assert(
        /onOpen/.test(error.message) && /while the hook runs/.test(error.message),
        `the message: ${error.message}`,
      );
      t.note(error.message);
      eq(await echo(socket, 'after'), 'after', 'the client still works');
    },
  ],

  [
    "onOpen: the hook's socket kept past a connection that dropped throws InvalidStateError",
    async (t) => {
      const sockets = [];
      const socket = t.open('/drop?delay=50', undefined, {
        ...FAST,
        onOpen: (s) => {
          sockets.push(s);
        },
      });
      await nextEvent(socket, 'reconnecting');
      const error = thrown(() => sockets[0].send('late'), 'send on a dropped hook socket');
      assert(
        isDom(error, 'InvalidStateError'),
        `expected InvalidStateError, got ${describeError(error)}`,
      );
    },
  ],

  [
    'iterator: three concurrent next() calls each get a message, in order',
    async (t) => {
      const socket = t.open('/echo');
      await opened(socket);
      const iterator = socket[Symbol.asyncIterator]();
      const pending = [iterator.next(), iterator.next(), iterator.next()];
      socket.send('a');
      socket.send('b');
      socket.send('c');
      const results = await within(EVENT_MS, 'not every next() resolved', Promise.all(pending));
      eqList(
        results.map((result) => result.value),
        ['a', 'b', 'c'],
        'values',
      );
      eqList(
        results.map((result) => result.done),
        [false, false, false],
        'done',
      );
      await iterator.return();
    },
  ],

  [
    'iterator: pending next() calls all end when the socket closes, and after return()',
    async (t) => {
      const socket = t.open('/echo');
      await opened(socket);
      const iterator = socket[Symbol.asyncIterator]();
      const pending = [iterator.next(), iterator.next()];
      socket.close();
      const results = await within(EVENT_MS, 'not every next() ended', Promise.all(pending));
      eqList(
        results.map((result) => result.done),
        [true, true],
        'done',
      );
      eq((await iterator.next()).done, true, 'next() after the end');
      const other = t.open('/echo')[Symbol.asyncIterator]();
      const waiting = other.next();
      await other.return();
      eq(
        (await within(EVENT_MS, 'next() after return()', waiting)).done,
        true,
        'a next() pending at return()',
      );
    },
  ],
];
