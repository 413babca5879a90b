// Checks of what ReconnectingWebSocket adds to the browser's WebSocket: options validation,
// URL and protocol providers, reconnecting and giveup events, the send queue, reconnect(),
// the open hook, heartbeats, async iteration, and message data passed through untouched.
// js/tests/js_facade.rs calls runExtras from wasm-bindgen-test, in Chromium and Firefox.
//
// The API under test:
//   new ReconnectingWebSocket(url, protocols?, options?)
//     url: string | URL | () => string | Promise<string>, called before every attempt
//     protocols: string | string[] | a function returning either (or a Promise of either)
//     options (times in ms): minDelay (500), maxDelay (30000), factor (2),
//       jitter ('full' | 'decorrelated' | 'none'), maxRetries (number | null), stableAfter (5000),
//       connectTimeout (number | null; 10000), heartbeat ({ interval, timeout, ping, isPong } |
//       null), maxQueuedMessages (1000), maxQueuedBytes (1048576),
//       overflow ('reject' | 'drop-oldest'), shouldReconnect (closeEvent => boolean),
//       onOpen (socket => void | Promise<void>; socket.send goes before anything queued),
//       receive ('events' | 'backpressure': a for await loop that falls behind stops reading).
//     A wrong option throws a TypeError whose message names the option.
//   events: reconnecting (attempt, delay), giveup (reason); onreconnecting, ongiveup
//   send() while not open queues; send() after close() throws InvalidStateError;
//   reconnect(); for await (const data of socket)
//
// Each check is small, named, has its own time limit; runExtras never throws and returns
// `[{ name, ok, error, note }]`.

import {
  assert,
  bytesOf,
  describeError,
  echo,
  eq,
  eqList,
  messagesDuring,
  nextEvent,
  nextMessages,
  opened,
  runChecks,
  show,
  sleep,
  thrown,
} from './kit.js';

const TIMEOUT_MS = 8000;
const EVENT_MS = 5000;

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 3;

/** Runs every check against the class `Class`; never throws. */
export async function runExtras(Class, server, closedPort) {
  return runChecks(
    CHECKS,
    { Class, server, closedPort },
    { timeoutMs: TIMEOUT_MS, eventWaitMs: EVENT_MS },
  );
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/**
 * Keeps a log of the socket's events from now on ("open", "close 1006", "reconnecting 1",
 * "giveup", "message hi", ...) and lets a check wait until some entry appears.
 */
function recorder(socket) {
  const log = [];
  let waiters = [];
  const push = (entry) => {
    log.push(entry);
    waiters = waiters.filter((waiter) => !waiter());
  };
  socket.addEventListener('open', () => push('open'));
  socket.addEventListener('close', (event) => push(`close ${event.code}`));
  socket.addEventListener('error', () => push('error'));
  socket.addEventListener('reconnecting', (event) => push(`reconnecting ${event.attempt}`));
  socket.addEventListener('giveup', () => push('giveup'));
  socket.addEventListener('message', (event) =>
    push(`message ${typeof event.data === 'string' ? event.data : show(event.data)}`),
  );
  return {
    log,
    /** Waits until an entry at index >= `from` starts with `prefix`; returns its index. */
    until(prefix, from = 0, ms = EVENT_MS) {
      return new Promise((resolve, reject) => {
        const found = () => {
          const index = log.findIndex((entry, i) => i >= from && entry.startsWith(prefix));
          if (index < 0) return false;
          clearTimeout(timer);
          resolve(index);
          return true;
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((waiter) => waiter !== found);
          reject(new Error(`no "${prefix}" within ${ms} ms; events: ${show(log)}`));
        }, ms);
        if (!found()) waiters.push(found);
      });
    },
  };
}

async function routeAttempts(t, route) {
  const stats = JSON.parse(await t.control('/control/stats'));
  return stats.routes[route]?.attempts ?? 0;
}

// A check that `options` is refused with a TypeError naming one of `names`.
function rejectsOption(options, names) {
  const shown = JSON.stringify(options, (_, value) =>
    typeof value === 'function' ? 'function' : value,
  );
  return [
    `options: ${shown} throws a TypeError naming ${names[0]}`,
    async (t) => {
      const error = thrown(
        () => t.track(new t.Class(`${t.server}/echo`, undefined, options)),
        `new ReconnectingWebSocket(url, undefined, ${shown})`,
      );
      assert(error instanceof TypeError, `expected a TypeError, got ${describeError(error)}`);
      assert(
        names.some((name) => error.message.includes(name)),
        `the message does not name ${names.join(' or ')}: ${error.message}`,
      );
      t.note(error.message);
    },
  ];
}

// Fast retries for the checks that reconnect.
const FAST = { minDelay: 50, maxDelay: 200 };

// ---------------------------------------------------------------------------
// The checks: [name, body(t), timeout?]
// ---------------------------------------------------------------------------

const CHECKS = [
  // Options ---------------------------------------------------------------------
  rejectsOption({ minDelay: -1 }, ['minDelay']),
  rejectsOption({ minDelay: 'soon' }, ['minDelay']),
  rejectsOption({ maxDelay: -5 }, ['maxDelay']),
  rejectsOption({ factor: 'x' }, ['factor']),
  rejectsOption({ jitter: 'x' }, ['jitter']),
  rejectsOption({ maxRetries: -1 }, ['maxRetries']),
  rejectsOption({ maxRetries: 'forever' }, ['maxRetries']),
  rejectsOption({ stableAfter: -1 }, ['stableAfter']),
  rejectsOption({ connectTimeout: -1 }, ['connectTimeout']),
  rejectsOption({ heartbeat: 5 }, ['heartbeat']),
  rejectsOption({ heartbeat: { interval: -1, timeout: 100 } }, ['interval', 'heartbeat']),
  rejectsOption({ heartbeat: { interval: 100, timeout: 100, isPong: 'pong' } }, [
    'isPong',
    'heartbeat',
  ]),
  rejectsOption({ maxQueuedMessages: -1 }, ['maxQueuedMessages']),
  rejectsOption({ maxQueuedBytes: 'lots' }, ['maxQueuedBytes']),
  rejectsOption({ overflow: 3 }, ['overflow']),
  rejectsOption({ overflow: 'drop-newest' }, ['overflow']),
  rejectsOption({ receive: 'stream' }, ['receive']),
  rejectsOption({ receive: true }, ['receive']),
  rejectsOption({ shouldReconnect: true }, ['shouldReconnect']),
  rejectsOption({ onOpen: 'hello' }, ['onOpen']),
  rejectsOption({ maxUnreadBytes: 0 }, ['maxUnreadBytes']),
  rejectsOption({ maxUnreadBytes: 1.5 }, ['maxUnreadBytes']),
  rejectsOption({ maxUnreadBytes: '1mb' }, ['maxUnreadBytes']),
  rejectsOption({ nope: 1 }, ['nope']),

  [
    'options: every option with a valid value is accepted',
    async (t) => {
      const socket = t.open('/echo', undefined, {
        minDelay: 100,
        maxDelay: 1000,
        factor: 1.5,
        jitter: 'decorrelated',
        maxRetries: 3,
        stableAfter: 1000,
        connectTimeout: 2000,
        heartbeat: {
          interval: 1000,
          timeout: 1000,
          ping: 'ping',
          isPong: (data) => data === 'pong',
        },
        maxQueuedMessages: 10,
        maxQueuedBytes: 1000,
        overflow: 'drop-oldest',
        shouldReconnect: () => true,
        onOpen: () => {},
      });
      await opened(socket);
    },
  ],

  [
    'options: null for maxRetries, connectTimeout and heartbeat; jitter none and full',
    async (t) => {
      t.open('/echo', undefined, {
        maxRetries: null,
        connectTimeout: null,
        heartbeat: null,
        jitter: 'none',
      });
      t.open('/echo', undefined, { jitter: 'full', overflow: 'reject' });
      const binaryPing = new Uint8Array([1]).buffer;
      await opened(
        t.open('/echo', undefined, {
          heartbeat: { interval: 1000, timeout: 500, ping: binaryPing },
        }),
      );
    },
  ],

  [
    'options: undefined and {} are accepted',
    async (t) => {
      await opened(t.open('/echo', undefined, undefined));
      await opened(t.open('/echo', [], {}));
    },
  ],

  // URL and protocols -------------------------------------------------------------
  [
    'url: a URL object connects; url is its href',
    async (t) => {
      const url = new URL(`${t.server}/echo`);
      const socket = t.track(new t.Class(url));
      eq(socket.url, url.href, 'url');
      await opened(socket);
    },
  ],

  [
    'url: a function returning a string connects',
    async (t) => {
      const socket = t.track(new t.Class(() => `${t.server}/echo`));
      await opened(socket);
      eq(await echo(socket, 'hi'), 'hi', 'echo');
    },
  ],

  [
    'url: an async function connects',
    async (t) => {
      const socket = t.track(
        new t.Class(async () => {
          await sleep(50);
          return `${t.server}/echo`;
        }),
      );
      eq(socket.readyState, CONNECTING, 'readyState while the URL is pending');
      await opened(socket);
      eq(await echo(socket, 'hi'), 'hi', 'echo');
    },
  ],

  [
    'url: the provider is called once per attempt (refuse, refuse, then echo)',
    async (t) => {
      let calls = 0;
      const provider = () => {
        calls += 1;
        return calls <= 2 ? `${t.server}/refuse?status=401` : `${t.server}/echo`;
      };
      const socket = t.track(new t.Class(provider, undefined, { ...FAST, jitter: 'none' }));
      let reconnecting = 0;
      socket.addEventListener('reconnecting', () => (reconnecting += 1));
      await nextEvent(socket, 'open');
      eq(calls, 3, 'provider calls at open');
      eq(reconnecting, 2, 'reconnecting events before open');
      await sleep(300);
      eq(calls, 3, 'provider calls 300 ms after open');
    },
  ],

  [
    'url: with a provider, url is the URL of the current connection',
    async (t) => {
      const socket = t.track(new t.Class(() => `${t.server}/echo`));
      await opened(socket);
      eq(socket.url, `${t.server}/echo`, 'url');
    },
  ],

  [
    'protocols: a string is offered',
    async (t) => {
      const socket = t.open('/protocol?choose=b', 'b');
      await opened(socket);
      eq(socket.protocol, 'b', 'protocol');
    },
  ],

  [
    'protocols: an array is offered; the server picks one',
    async (t) => {
      const socket = t.open('/protocol?choose=b', ['a', 'b']);
      await opened(socket);
      eq(socket.protocol, 'b', 'protocol');
    },
  ],

  [
    'protocols: a function returning an array',
    async (t) => {
      let calls = 0;
      const socket = t.open('/protocol?choose=b', () => {
        calls += 1;
        return ['a', 'b'];
      });
      await opened(socket);
      eq(socket.protocol, 'b', 'protocol');
      eq(calls, 1, 'calls');
    },
  ],

  [
    'protocols: an async function returning a string',
    async (t) => {
      const socket = t.open('/protocol?choose=c', async () => 'c');
      await opened(socket);
      eq(socket.protocol, 'c', 'protocol');
    },
  ],

  // Reconnecting and giving up ------------------------------------------------------
  [
    'reconnecting: an Event with numeric attempt and delay; onreconnecting is called',
    async (t) => {
      const socket = t.open('/refuse?status=503', undefined, FAST);
      eq(socket.onreconnecting, null, 'onreconnecting before it is set');
      const handled = [];
      socket.onreconnecting = (event) => handled.push(event);
      const event = await nextEvent(socket, 'reconnecting');
      assert(event instanceof Event, `the event is ${show(event)}`);
      eq(event.type, 'reconnecting', 'type');
      eq(typeof event.attempt, 'number', 'typeof attempt');
      eq(typeof event.delay, 'number', 'typeof delay');
      assert(event.attempt >= 1, `attempt ${event.attempt}`);
      assert(
        event.delay >= 0 && event.delay <= FAST.maxDelay,
        `delay ${event.delay} outside 0..200`,
      );
      assert(event.target === socket, 'target is not the socket');
      assert(handled.includes(event), 'onreconnecting was not called with the event');
    },
  ],

  [
    'reconnecting: attempts count up by one',
    async (t) => {
      const socket = t.open('/refuse?status=503', undefined, { ...FAST, maxRetries: 3 });
      const attempts = [];
      socket.addEventListener('reconnecting', (event) => attempts.push(event.attempt));
      await nextEvent(socket, 'giveup');
      eq(attempts.length, 3, 'reconnecting events');
      assert(
        attempts.every((attempt, i) => i === 0 || attempt === attempts[i - 1] + 1),
        `attempts ${attempts}`,
      );
      t.note(`attempts ${attempts.join(', ')}`);
    },
  ],

  [
    'backoff: jitter none gives delays minDelay * factor^n up to maxDelay',
    async (t) => {
      const socket = t.open('/refuse?status=503', undefined, {
        minDelay: 100,
        maxDelay: 400,
        factor: 2,
        jitter: 'none',
        maxRetries: 4,
      });
      const delays = [];
      socket.addEventListener('reconnecting', (event) => delays.push(event.delay));
      await nextEvent(socket, 'giveup');
      eqList(delays.map(String), ['100', '200', '400', '400'], 'delays');
    },
  ],

  [
    'backoff: full jitter keeps delays within 0..maxDelay',
    async (t) => {
      const socket = t.open('/refuse?status=503', undefined, {
        minDelay: 20,
        maxDelay: 100,
        jitter: 'full',
        maxRetries: 5,
      });
      const delays = [];
      socket.addEventListener('reconnecting', (event) => delays.push(event.delay));
      await nextEvent(socket, 'giveup');
      eq(delays.length, 5, 'reconnecting events');
      assert(
        delays.every((delay) => delay >= 0 && delay <= 100),
        `delays ${delays}`,
      );
      t.note(`delays ${delays.map(Math.round).join(', ')}`);
    },
  ],

  [
    'readyState is CONNECTING during reconnecting',
    async (t) => {
      const socket = t.open('/drop?delay=100', undefined, FAST);
      await opened(socket);
      let seen = null;
      socket.addEventListener('reconnecting', () => (seen ??= socket.readyState));
      await nextEvent(socket, 'reconnecting');
      eq(seen, CONNECTING, 'readyState');
    },
  ],

  [
    'maxRetries 2: a refused handshake ends in giveup, readyState CLOSED, 3 attempts',
    async (t) => {
      const before = await routeAttempts(t, '/refuse');
      const socket = t.open('/refuse?status=403', undefined, { ...FAST, maxRetries: 2 });
      eq(socket.ongiveup, null, 'ongiveup before it is set');
      let reconnecting = 0;
      const handled = [];
      socket.addEventListener('reconnecting', () => (reconnecting += 1));
      socket.ongiveup = (event) => handled.push(event);
      const giveup = await nextEvent(socket, 'giveup');
      assert(giveup instanceof Event, `giveup is ${show(giveup)}`);
      eq(typeof giveup.reason, 'string', 'typeof reason');
      assert(giveup.reason.length > 0, 'the reason is empty');
      assert(handled.includes(giveup), 'ongiveup was not called with the event');
      eq(socket.readyState, CLOSED, 'readyState');
      eq(reconnecting, 2, 'reconnecting events');
      eq((await routeAttempts(t, '/refuse')) - before, 3, 'handshakes the server saw');
      await sleep(300);
      eq((await routeAttempts(t, '/refuse')) - before, 3, 'handshakes 300 ms after giveup');
      t.note(`reason: ${giveup.reason}`);
    },
  ],

  [
    'maxRetries 0: no reconnecting, giveup after the first failure',
    async (t) => {
      const socket = t.open('/refuse?status=403', undefined, { maxRetries: 0 });
      let reconnecting = 0;
      socket.addEventListener('reconnecting', () => (reconnecting += 1));
      await nextEvent(socket, 'giveup');
      eq(reconnecting, 0, 'reconnecting events');
      eq(socket.readyState, CLOSED, 'readyState');
    },
  ],

  [
    'connectTimeout: a stalled handshake is given up after the timeout',
    async (t) => {
      const started = performance.now();
      const socket = t.open('/stall', undefined, { connectTimeout: 300, maxRetries: 0 });
      await nextEvent(socket, 'giveup', 3000);
      const elapsed = performance.now() - started;
      assert(elapsed >= 250, `gave up after ${Math.round(elapsed)} ms, before the timeout`);
      eq(socket.readyState, CLOSED, 'readyState');
    },
  ],

  [
    'shouldReconnect: gets the CloseEvent; false ends in giveup for close 4000',
    async (t) => {
      const seen = [];
      const socket = t.open('/close?code=4000&reason=go', undefined, {
        ...FAST,
        shouldReconnect: (event) => {
          seen.push(event);
          return false;
        },
      });
      let reconnecting = 0;
      socket.addEventListener('reconnecting', () => (reconnecting += 1));
      await nextEvent(socket, 'giveup');
      eq(seen.length, 1, 'shouldReconnect calls');
      assert(seen[0] instanceof CloseEvent, `shouldReconnect got ${show(seen[0])}`);
      eq(seen[0].code, 4000, 'code');
      eq(seen[0].reason, 'go', 'reason');
      eq(reconnecting, 0, 'reconnecting events');
      eq(socket.readyState, CLOSED, 'readyState');
    },
  ],

  [
    'shouldReconnect: true reconnects after close 1008',
    async (t) => {
      const socket = t.open('/close?code=1008', undefined, {
        ...FAST,
        shouldReconnect: () => true,
      });
      await nextEvent(socket, 'reconnecting');
    },
  ],

  // A server's "not yet" (close 1013 / 1012, retry-after=S in the reason) and a delay asked
  // for by shouldReconnect: the first retry's announced delay, with FAST's backoff (at most
  // 200 ms) as the jitter on top.
  [
    'not yet: 1013 with retry-after=1 waits 1 s plus jitter, and reconnects no sooner',
    async (t) => {
      const socket = t.open('/close?code=1013&reason=retry-after%3D1&delay=50', undefined, FAST);
      // Every listener is added now: close and reconnecting come in one task.
      const opened = nextEvent(socket, 'open');
      const closed = nextEvent(socket, 'close').then(() => performance.now());
      const retry = nextEvent(socket, 'reconnecting');
      await opened;
      const closedAt = await closed;
      const { delay } = await retry;
      assert(delay >= 1000 && delay <= 1000 + FAST.maxDelay, `delay ${delay} ms`);
      await nextEvent(socket, 'open');
      const waited = performance.now() - closedAt;
      assert(waited >= 990, `reopened ${waited.toFixed(0)} ms after the close`);
    },
    10000,
  ],

  [
    'not yet: 1013 without a delay waits at least maxDelay',
    async (t) => {
      const socket = t.open('/close?code=1013&delay=50', undefined, FAST);
      const { delay } = await nextEvent(socket, 'reconnecting');
      assert(delay >= FAST.maxDelay && delay <= 2 * FAST.maxDelay, `delay ${delay} ms`);
    },
  ],

  [
    'not yet: retry-after=S in the reason of another retried code (4001) is honoured',
    async (t) => {
      const socket = t.open(
        '/close?code=4001&reason=busy%3B%20retry-after%3D0.5&delay=50',
        undefined,
        FAST,
      );
      const { delay } = await nextEvent(socket, 'reconnecting');
      assert(delay >= 500 && delay <= 500 + FAST.maxDelay, `delay ${delay} ms`);
    },
  ],

  [
    'not yet: 1012 (service restart) reconnects within minDelay',
    async (t) => {
      const socket = t.open('/close?code=1012&delay=50', undefined, {
        ...FAST,
        minDelay: 100,
        maxDelay: 5000,
      });
      const { delay } = await nextEvent(socket, 'reconnecting');
      assert(delay >= 0 && delay <= 100, `delay ${delay} ms`);
    },
  ],

  [
    'shouldReconnect: a number is a delay in ms to wait at least',
    async (t) => {
      const socket = t.open('/close?code=4000&delay=50', undefined, {
        ...FAST,
        shouldReconnect: () => 700,
      });
      const { delay } = await nextEvent(socket, 'reconnecting');
      assert(delay >= 700 && delay <= 700 + FAST.maxDelay, `delay ${delay} ms`);
    },
  ],

  [
    'default policy: close 1008 ends in giveup',
    async (t) => {
      const socket = t.open('/close?code=1008', undefined, FAST);
      let reconnecting = 0;
      socket.addEventListener('reconnecting', () => (reconnecting += 1));
      await nextEvent(socket, 'giveup');
      eq(reconnecting, 0, 'reconnecting events');
      eq(socket.readyState, CLOSED, 'readyState');
    },
  ],

  [
    'default policy: close 4000 reconnects',
    async (t) => {
      const socket = t.open('/close?code=4000', undefined, FAST);
      let giveups = 0;
      socket.addEventListener('giveup', () => (giveups += 1));
      await nextEvent(socket, 'reconnecting');
      eq(giveups, 0, 'giveup events');
    },
  ],

  [
    'default policy: an abrupt drop (1006) reconnects and opens again',
    async (t) => {
      const socket = t.open('/drop?delay=100', undefined, FAST);
      const events = recorder(socket);
      await events.until('open');
      const closed = await events.until('close 1006');
      const reconnecting = await events.until('reconnecting', closed);
      await events.until('open', reconnecting);
    },
  ],

  // The send queue ------------------------------------------------------------------
  [
    'queue: send() while CONNECTING does not throw and is sent after open',
    async (t) => {
      const socket = t.open('/echo');
      eq(socket.readyState, CONNECTING, 'readyState');
      const replies = nextMessages(socket, 2);
      socket.send('early 1');
      socket.send('early 2');
      eqList(await replies, ['early 1', 'early 2'], 'echoes');
    },
  ],

  [
    'queue: bufferedAmount includes queued bytes',
    async (t) => {
      const socket = t.open('/echo');
      const reply = nextEvent(socket, 'message');
      socket.send('abc');
      assert(
        socket.bufferedAmount >= 3,
        `bufferedAmount ${socket.bufferedAmount} after queueing "abc"`,
      );
      socket.send(new Uint8Array(10));
      assert(
        socket.bufferedAmount >= 13,
        `bufferedAmount ${socket.bufferedAmount} after 10 more bytes`,
      );
      await reply;
      await nextEvent(socket, 'message');
      eq(socket.bufferedAmount, 0, 'bufferedAmount once both echoes came back');
    },
  ],

  [
    'queue: a view queued while down is sent as it was at send()',
    async (t) => {
      const socket = t.open('/echo');
      const bytes = new Uint8Array([1, 2, 3, 4, 5, 6]);
      socket.send(bytes.subarray(2, 4));
      bytes.fill(0);
      const [data] = await nextMessages(socket, 1);
      eqList(await bytesOf(data), [3, 4], 'echoed bytes');
    },
  ],

  [
    'queue: overflow reject makes send() throw an Error about the queue',
    async (t) => {
      const socket = t.open('/echo', undefined, { maxQueuedMessages: 1, overflow: 'reject' });
      socket.send('kept');
      const error = thrown(() => socket.send('refused'), 'a second queued send');
      assert(error instanceof Error, `expected an Error, got ${describeError(error)}`);
      assert(
        /queue/i.test(error.message),
        `the message does not mention the queue: ${error.message}`,
      );
      t.note(error.message);
      await opened(socket);
      eqList(await messagesDuring(socket, 500), ['kept'], 'echoes after open');
    },
  ],

  [
    'queue: overflow drop-oldest keeps the newest',
    async (t) => {
      const socket = t.open('/echo', undefined, { maxQueuedMessages: 1, overflow: 'drop-oldest' });
      socket.send('old');
      socket.send('new');
      await opened(socket);
      eqList(await messagesDuring(socket, 500), ['new'], 'echoes after open');
    },
  ],

  [
    'queue: maxQueuedBytes bounds the queue',
    async (t) => {
      const socket = t.open('/echo', undefined, { maxQueuedBytes: 4, overflow: 'reject' });
      socket.send('abc');
      const error = thrown(() => socket.send('de'), 'a send past 4 queued bytes');
      assert(error instanceof Error, `expected an Error, got ${describeError(error)}`);
      assert(
        /queue/i.test(error.message),
        `the message does not mention the queue: ${error.message}`,
      );
      await opened(socket);
      eqList(await messagesDuring(socket, 500), ['abc'], 'echoes after open');
    },
  ],

  [
    'send() after close() throws InvalidStateError',
    async (t) => {
      const socket = t.open('/echo');
      await opened(socket);
      socket.close();
      const error = thrown(() => socket.send('late'), 'send after close');
      assert(error instanceof DOMException, `expected a DOMException, got ${describeError(error)}`);
      eq(error.name, 'InvalidStateError', 'name');
    },
  ],

  [
    'send() after giveup throws InvalidStateError',
    async (t) => {
      const socket = t.open('/refuse?status=403', undefined, { maxRetries: 0 });
      await nextEvent(socket, 'giveup');
      const error = thrown(() => socket.send('late'), 'send after giveup');
      assert(error instanceof DOMException, `expected a DOMException, got ${describeError(error)}`);
      eq(error.name, 'InvalidStateError', 'name');
    },
  ],

  [
    'send(42), send({}), send(null) send them as strings, as native (WebIDL); send(Symbol()) throws TypeError',
    async (t) => {
      const socket = t.open('/echo');
      const error = thrown(() => socket.send(Symbol('data')), 'send(Symbol())');
      assert(
        error instanceof TypeError,
        `send(Symbol()): expected a TypeError, got ${describeError(error)}`,
      );
      socket.send(42);
      socket.send({});
      socket.send(null);
      socket.send({ toString: () => 'custom' });
      await opened(socket);
      eqList(await nextMessages(socket, 4), ['42', '[object Object]', 'null', 'custom'], 'echoes');
    },
  ],

  // reconnect() and the open hook ------------------------------------------------------
  [
    'reconnect() closes and reopens at once, even with minDelay 5000',
    async (t) => {
      const socket = t.open('/echo', undefined, { minDelay: 5000, maxDelay: 5000 });
      const events = recorder(socket);
      await events.until('open');
      const started = performance.now();
      socket.reconnect();
      const closed = await events.until('close', 1, 1500);
      await events.until('open', closed, 1500);
      const elapsed = performance.now() - started;
      assert(elapsed < 1200, `reopened after ${Math.round(elapsed)} ms`);
      eq(socket.readyState, OPEN, 'readyState');
      eq(await echo(socket, 'again'), 'again', 'echo on the new connection');
      t.note(`events ${events.log.join(', ')}; ${Math.round(elapsed)} ms`);
    },
  ],

  [
    'onOpen: the hook gets a socket whose send goes before queued messages',
    async (t) => {
      let hookSocket = null;
      const socket = t.open('/echo', undefined, {
        onOpen: async (connection) => {
          hookSocket = connection;
          await sleep(100);
          connection.send('auth');
        },
      });
      socket.send('queued 1');
      socket.send('queued 2');
      eqList(await nextMessages(socket, 3), ['auth', 'queued 1', 'queued 2'], 'echoes');
      eq(typeof hookSocket?.send, 'function', 'typeof hook socket send');
    },
  ],

  [
    'server restart: close 1006, reconnecting, open; messages sent while down follow the onOpen message, in order',
    async (t) => {
      const socket = t.open('/echo', undefined, {
        ...FAST,
        onOpen: (connection) => connection.send('hello'),
      });
      socket.binaryType = 'arraybuffer';
      const events = recorder(socket);
      await events.until('message hello');
      const restartAt = events.log.length;
      await t.control('/control/restart?down=300');
      const closed = await events.until('close', restartAt);
      eq(events.log[closed], 'close 1006', 'the close after the restart');
      socket.send('while down 1');
      socket.send(new Uint8Array([7]));
      socket.send('while down 2');
      const reconnecting = await events.until('reconnecting', closed);
      const reopened = await events.until('open', reconnecting, 5000);
      const first = await events.until('message', reopened);
      await events.until('message while down 2', first);
      eqList(
        events.log.slice(reopened + 1).filter((entry) => entry.startsWith('message')),
        ['message hello', 'message while down 1', 'message ArrayBuffer(1)', 'message while down 2'],
        'messages after the reopen',
      );
      t.note(`events ${events.log.join(', ')}`);
    },
    12000,
  ],

  [
    'close() while waiting to reconnect stops for good',
    async (t) => {
      const socket = t.open('/drop?delay=100', undefined, { minDelay: 1000, maxDelay: 1000 });
      const events = recorder(socket);
      await events.until('reconnecting');
      socket.close();
      await sleep(1500);
      eq(socket.readyState, CLOSED, 'readyState');
      const first = events.log.findIndex((entry) => entry.startsWith('reconnecting'));
      const afterClose = events.log.slice(first + 1);
      assert(!afterClose.includes('open'), `opened again: ${show(events.log)}`);
    },
  ],

  // Heartbeat ------------------------------------------------------------------------
  [
    'heartbeat: a silent peer is closed with 4000 "heartbeat timeout", then reconnecting',
    async (t) => {
      const socket = t.open('/ping-silent', undefined, {
        ...FAST,
        heartbeat: { interval: 200, timeout: 200, isPong: (data) => data === 'pong' },
      });
      let closeEvent = null;
      socket.addEventListener('close', (event) => (closeEvent ??= event));
      const events = recorder(socket);
      await events.until('open');
      const closed = await events.until('close', 0, 3000);
      eq(closeEvent.code, 4000, 'close code');
      eq(closeEvent.reason, 'heartbeat timeout', 'close reason');
      await events.until('reconnecting', closed, 2000);
    },
  ],

  [
    'heartbeat: pongs are checked with isPong and not delivered as messages',
    async (t) => {
      const checked = [];
      const socket = t.open('/ping', undefined, {
        heartbeat: {
          interval: 100,
          timeout: 400,
          isPong: (data) => {
            checked.push(data);
            return data === 'pong';
          },
        },
      });
      const events = recorder(socket);
      await events.until('open');
      await sleep(800);
      eq(await echo(socket, 'hello'), 'hello', 'echo');
      assert(checked.includes('pong'), `isPong never saw "pong": ${show(checked)}`);
      const messages = events.log.filter((entry) => entry.startsWith('message'));
      eqList(messages, ['message hello'], 'message events');
      assert(!events.log.some((entry) => entry.startsWith('close')), `closed: ${show(events.log)}`);
    },
  ],

  // Async iteration -------------------------------------------------------------------
  [
    'for await: yields messages in order and ends after close()',
    async (t) => {
      const socket = t.open('/echo');
      socket.addEventListener('open', () => ['a', 'b', 'c'].forEach((data) => socket.send(data)));
      const got = [];
      for await (const data of socket) {
        got.push(data);
        if (got.length === 3) socket.close();
      }
      eqList(got, ['a', 'b', 'c'], 'yielded');
      eq(socket.readyState, CLOSED, 'readyState after the loop');
    },
  ],

  [
    'for await: break leaves the socket open',
    async (t) => {
      const socket = t.open('/burst?count=3');
      const events = recorder(socket);
      for await (const data of socket) {
        eq(data, '0', 'first');
        break;
      }
      eq(socket.readyState, OPEN, 'readyState');
      socket.send('still open');
      await events.until('message still open');
    },
  ],

  ...[
    [{}, 'read from the socket'],
    [{ heartbeat: { interval: 60000, timeout: 60000 } }, 'through the core (heartbeat)'],
  ].map(([extra, path]) => [
    `for await: maxUnreadBytes closes a socket whose iterator falls behind (4009), yields what arrived, then throws; messages ${path}`,
    async (t) => {
      // 50 messages of 1,000 bytes against a bound of 10,000: the iterator reads nothing until
      // the socket is closed, so the bound is passed at the 11th message.
      const socket = t.open('/flood?count=50&size=1000', undefined, {
        maxUnreadBytes: 10000,
        ...extra,
      });
      const events = recorder(socket);
      const iterator = socket[Symbol.asyncIterator]();
      await events.until('open');
      socket.send('go');
      await events.until('close');
      eqList(
        events.log.filter((entry) => entry.startsWith('close')),
        ['close 4009'],
        'close events',
      );
      eq(socket.readyState, CLOSED, 'readyState');
      const messages = events.log.filter((entry) => entry.startsWith('message')).length;
      let yielded = 0;
      let error = null;
      try {
        for (;;) {
          const { value, done } = await iterator.next();
          if (done) break;
          eq(value.length, 1000, `message ${yielded}`);
          yielded += 1;
        }
      } catch (caught) {
        error = caught;
      }
      eq(yielded, 11, 'messages yielded before the error');
      eq(messages, 11, 'message events');
      assert(
        error instanceof DOMException && error.name === 'QuotaExceededError',
        `expected a QuotaExceededError, got ${describeError(error)}`,
      );
      t.note(error.message);
      const after = await iterator.next();
      eq(after.done, true, 'done after the error');
    },
  ]),

  [
    'for await: maxUnreadBytes counts only what waits; a reader that keeps up is never cut off',
    async (t) => {
      const socket = t.open('/flood?count=200&size=1000', undefined, { maxUnreadBytes: 5000 });
      const events = recorder(socket);
      await events.until('open');
      socket.send('go');
      let got = 0;
      for await (const data of socket) {
        eq(data.length, 1000, `message ${got}`);
        got += 1;
        if (got === 200) break;
      }
      eq(socket.readyState, OPEN, 'readyState');
      assert(!events.log.some((entry) => entry.startsWith('close')), `closed: ${show(events.log)}`);
    },
  ],

  ...['events', 'backpressure'].map((receive) => [
    `for await: receive '${receive}': an iterator that stops reading ${
      receive === 'backpressure'
        ? 'holds the server back where the browser has WebSocketStream'
        : 'does not hold the server back'
    }, then gets every message`,
    async (t) => {
      // 600 messages of 64 KiB (37.5 MiB); the loop takes one, then stands still for 1.5 s.
      // What the server's queue (4 MiB), both kernels' buffers and the browser hold while
      // the reading waits comes to about 13 MiB (211 messages in Chromium).
      const count = 600;
      const key = `iterator${receive}${Math.floor(Math.random() * 1e9)}`;
      const socket = t.open(`/flood?count=${count}&size=65536&binary=1&key=${key}`, undefined, {
        receive,
      });
      socket.binaryType = 'arraybuffer';
      const events = recorder(socket);
      const iterator = socket[Symbol.asyncIterator]();
      await events.until('open');
      socket.send('go');
      const first = await iterator.next();
      eq(first.value.byteLength, 65536, 'the first message');
      await sleep(1500);
      const { sent } = JSON.parse(await t.control(`/control/flood?key=${key}`));
      let received = 1;
      for (;;) {
        const { value, done } = await iterator.next();
        assert(!done, `the loop ended after ${received} messages`);
        if (value === 'done') break;
        eq(value.byteLength, 65536, `message ${received}`);
        received += 1;
      }
      eq(received, count, 'messages the loop got');
      const paced = receive === 'backpressure' && typeof globalThis.WebSocketStream === 'function';
      t.note(`the server had sent ${sent} of ${count} while the loop stood still`);
      if (paced)
        assert(sent < count / 2, `the server sent ${sent} of ${count} to a loop that stopped`);
      else eq(sent, count, 'sent while the loop stood still (nothing holds the server back)');
    },
  ]),

  [
    'for await: ends at once on a socket already closed for good',
    async (t) => {
      const socket = t.open('/refuse?status=403', undefined, { maxRetries: 0 });
      await nextEvent(socket, 'giveup');
      await sleep(0);
      const got = [];
      for await (const data of socket) got.push(data);
      eqList(got, [], 'yielded');
    },
  ],

  // What reconnecting-websocket users expect ----------------------------------------------
  [
    'startClosed: CLOSED, no connection, sends queue; reconnect() connects and sends them',
    async (t) => {
      const socket = t.open('/echo', undefined, { startClosed: true });
      const events = recorder(socket);
      eq(socket.readyState, CLOSED, 'readyState');
      socket.send('queued while closed');
      eq(socket.queuedMessages, 1, 'queuedMessages');
      await sleep(200);
      eqList(events.log, [], 'events before reconnect()');
      socket.reconnect();
      eq(socket.readyState, CONNECTING, 'readyState after reconnect()');
      await events.until('message queued while closed');
    },
  ],

  [
    'retryCount: failed attempts since the last open, 0 again once open',
    async (t) => {
      const socket = t.open('/drop?delay=200', undefined, FAST);
      const events = recorder(socket);
      await events.until('open');
      eq(socket.retryCount, 0, 'retryCount when open');
      const closed = await events.until('close');
      const retry = await events.until('reconnecting', closed);
      eq(
        socket.retryCount,
        Number(events.log[retry].split(' ')[1]),
        'retryCount while reconnecting',
      );
      assert(socket.retryCount >= 1, `retryCount ${socket.retryCount}`);
      await events.until('open', retry);
      eq(socket.retryCount, 0, 'retryCount when open again');
    },
  ],

  [
    'reconnect(4001, "bye") closes with that code and reason and connects again; reconnect(1001) throws',
    async (t) => {
      const socket = t.open('/echo', undefined, FAST);
      const events = recorder(socket);
      await events.until('open');
      const refused = thrown(() => socket.reconnect(1001), 'reconnect(1001)');
      assert(
        refused instanceof DOMException && refused.name === 'InvalidAccessError',
        `reconnect(1001): got ${describeError(refused)}`,
      );
      let reason = null;
      socket.addEventListener('close', (event) => (reason = event.reason));
      socket.reconnect(4001, 'bye');
      const closed = await events.until('close');
      eq(events.log[closed], 'close 4001', 'the close event');
      eq(reason, 'bye', 'its reason');
      await events.until('open', closed);
    },
  ],

  [
    'the WebSocket option: every connection is made through the given constructor',
    async (t) => {
      let made = 0;
      class Counting extends WebSocket {
        constructor(url, protocols) {
          super(url, protocols);
          made += 1;
        }
      }
      const socket = t.open('/drop?delay=200', undefined, { ...FAST, WebSocket: Counting });
      const events = recorder(socket);
      const first = await events.until('open');
      await events.until('open', first + 1);
      eq(made, 2, 'sockets made through the option');
      const error = thrown(
        () => t.open('/echo', undefined, { WebSocket: 'ws' }),
        'WebSocket: "ws"',
      );
      assert(
        error instanceof TypeError && error.message.includes('"WebSocket"'),
        `got ${describeError(error)}`,
      );
    },
  ],

  // Message data ---------------------------------------------------------------------
  [
    'binaryType defaults to blob, as native; only its two values are taken',
    async (t) => {
      const socket = t.open('/echo');
      eq(socket.binaryType, 'blob', 'binaryType');
      socket.binaryType = 'nodebuffer';
      eq(socket.binaryType, 'blob', 'binaryType after an unknown value');
      socket.binaryType = 'arraybuffer';
      eq(socket.binaryType, 'arraybuffer', 'binaryType after arraybuffer');
    },
  ],

  [
    'message data: a burst of 2,000 arrives whole and in order, read from the socket itself and, with a heartbeat, through the core',
    async (t) => {
      const expected = Array.from({ length: 2000 }, (_, n) => String(n)).join(',');
      for (const [how, options] of [
        ['from the socket', {}],
        ['through the core', { heartbeat: { interval: 60000, timeout: 60000 } }],
      ]) {
        const socket = t.open('/burst?count=2000', undefined, options);
        const data = [];
        socket.addEventListener('message', (event) => data.push(event.data));
        for (let waited = 0; data.length < 2000 && waited < EVENT_MS; waited += 20) await sleep(20);
        eq(data.length, 2000, `messages ${how}`);
        assert(data.join(',') === expected, `messages ${how} are out of order`);
        socket.close();
      }
    },
  ],

  [
    'message data: text is a string',
    async (t) => {
      const socket = t.open('/echo');
      await opened(socket);
      const data = await echo(socket, 'héllo 🦀');
      eq(typeof data, 'string', 'typeof data');
      eq(data, 'héllo 🦀', 'data');
    },
  ],

  [
    'message data: binaryType arraybuffer gives an ArrayBuffer with the same bytes',
    async (t) => {
      const socket = t.open('/echo');
      socket.binaryType = 'arraybuffer';
      await opened(socket);
      const data = await echo(socket, new Uint8Array([0, 1, 127, 128, 255]));
      assert(data instanceof ArrayBuffer, `data is ${show(data)}`);
      eqList(await bytesOf(data), [0, 1, 127, 128, 255], 'bytes');
    },
  ],

  [
    'message data: binaryType blob gives a Blob with the same bytes',
    async (t) => {
      const socket = t.open('/echo');
      socket.binaryType = 'blob';
      await opened(socket);
      const data = await echo(socket, new Uint8Array([5, 6, 7]));
      assert(data instanceof Blob, `data is ${show(data)}`);
      eqList(await bytesOf(data), [5, 6, 7], 'bytes');
    },
  ],

  [
    'message data: every listener and the iterator get the same value',
    async (t) => {
      const socket = t.open('/echo');
      socket.binaryType = 'arraybuffer';
      await opened(socket);
      const iterator = socket[Symbol.asyncIterator]();
      const seen = [];
      socket.addEventListener('message', (event) => seen.push(event.data));
      socket.onmessage = (event) => seen.push(event.data);
      socket.send(new Uint8Array([1, 2]));
      const { value } = await iterator.next();
      await iterator.return?.();
      assert(value instanceof ArrayBuffer, `the iterator yielded ${show(value)}`);
      eq(seen.length, 2, 'listener calls');
      assert(
        seen[0] === value && seen[1] === value,
        'listeners and the iterator got different objects',
      );
    },
  ],
];
