// The benchmark page. bench/run.mjs serves it from the test server (same origin as the
// WebSocket routes) and opens it in a headless Chromium that nothing instruments; the page
// runs every round by itself, asks the runner for the renderer's CPU time around each run,
// and posts all raw figures to the runner, which does the statistics and prints the table.
//
// Subjects, interleaved round by round (the order rotates each round):
//   raw   the browser's WebSocket, with a handler that reads each message's length
//   rust  resocket's WebSocket as a Stream/Sink (bench/src/lib.rs), each message read as the
//         String / Vec<u8> it yields
//   rustStream  the same on the WebSocketStream path (Receive::Backpressure), where a reader
//         that falls behind slows the server
//   js    resocket's ReconnectingWebSocket from the npm package (pkg/)
//   raw2  two raw WebSockets at once (aggregate), to show where the limit is
//
// Query parameters: runner (required), rounds, scale (multiplies every message count),
// only (comma-separated scenario ids), subjects (comma-separated), pkg and benchpkg (other
// builds of the npm package entry and of the bench module, for profiling builds).

import { throughputScenarios } from './scenarios.mjs';

const params = new URLSearchParams(location.search);
const RUNNER = params.get('runner');
const ROUNDS = Number(params.get('rounds') ?? 7);
const SCALE = Number(params.get('scale') ?? 1);
const ONLY = params.get('only')?.split(',') ?? null;
const SUBJECTS = params.get('subjects')?.split(',') ?? null;
const PKG = params.get('pkg') ?? '/pkg/index.js';
const BENCH_PKG = params.get('benchpkg') ?? '/bench/pkg/resocket_bench.js';
const PROFILE = params.get('profile') === '1';
// Another build of the npm package (a candidate change), run as one more subject: "jsB".
const PKG_B = params.get('pkgB');
const WS = `ws://${location.host}`;
const HTTP = `http://${location.host}`;

// The high-water mark of every sender: the Rust Sink's default, 1 MiB.
const HIGH_WATER_MARK = 1 << 20;
// Backoff for the reconnect runs (min = max, no jitter), in ms; and for the memory cycles.
const RECONNECT_DELAY = 10;
const RECONNECT_DOWN = 200;
const RECONNECTS_PER_ROUND = 3;
const CYCLE_DELAY = 1;
// The warm-up is as long as the measurement. Over 4,300 cycles, the JS class's page heap rose
// 140 KiB in the first 1,300 and 3 KiB in the 3,000 after, while wasm memory and the Rust heap
// stayed flat throughout (so the rise is on the JS side, most likely V8 warming up its code and
// caches). A 300-cycle warm-up counted most of that rise as growth.
const WARMUP_CYCLES = 1000;
const MEASURED_CYCLES = 1000;

const SCENARIOS = [
  ...throughputScenarios(SCALE),
  { id: 'reconnect', kind: 'reconnect', count: RECONNECTS_PER_ROUND },
].filter((scenario) => !ONLY || ONLY.includes(scenario.id));

const SUBJECTS_BY_KIND = {
  receive: ['raw', 'rust', 'rustStream', 'js', 'raw2'],
  send: ['raw', 'rust', 'rustStream', 'js'],
  echo: ['raw', 'rust', 'rustStream', 'js'],
  reconnect: ['raw', 'rust', 'js'],
};
if (PKG_B) for (const list of Object.values(SUBJECTS_BY_KIND)) list.push('jsB');

// ---------------------------------------------------------------------------
// Plumbing
// ---------------------------------------------------------------------------

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const screen = document.getElementById('log');

async function post(path, body) {
  // text/plain: a simple request, no preflight.
  await fetch(RUNNER + path, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function log(...parts) {
  const line = parts.join(' ');
  screen.textContent += `\n${line}`;
  return post('/log', line).catch(() => {});
}

/** Starts or stops the runner's CPU profiler (--profile); it may not be attached yet at first. */
async function profiler(action, label = '') {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${RUNNER}/profile/${action}`, { method: 'POST', body: label })).ok) return;
    await sleep(100);
  }
  throw new Error(`the profiler did not ${action}`);
}

/** CPU times (ms) of the renderer (all threads, and its main thread), the server and the rest of Chromium. */
async function cpu() {
  return (await fetch(`${RUNNER}/cpu`)).json();
}

function cpuDelta(before, after) {
  const delta = {};
  for (const key of Object.keys(after)) delta[key] = after[key] - before[key];
  return delta;
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise(
      (_, reject) =>
        (timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms)),
    ),
  ]).finally(() => clearTimeout(timer));
}

/** A full garbage collection, finalizers included, so one run's garbage is not the next one's cost. */
async function collect() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(10);
  }
}

function opened(ws) {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve(ws), { once: true });
    ws.addEventListener(
      'close',
      (event) => reject(new Error(`closed before open: ${event.code}`)),
      { once: true },
    );
  });
}

// ---------------------------------------------------------------------------
// Subjects: the raw WebSocket and the JS class share the same code (a WebSocket-like object)
// ---------------------------------------------------------------------------

let ReconnectingWebSocket;
let ReconnectingWebSocketB;
let bench;
let packageExports;
let benchExports;

function rawSocket(url) {
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  return ws;
}

// The class's default options, except that it must not reconnect in the middle of a run, and
// binary data as ArrayBuffers, as for the raw socket (the class's default is 'blob', as the
// browser's: a Blob per message would measure Blob creation, not the class).
function facadeOf(Class) {
  return (url) => {
    const ws = new Class(url, undefined, { maxRetries: 0 });
    ws.binaryType = 'arraybuffer';
    return ws;
  };
}
const facadeSocket = (url) => facadeOf(ReconnectingWebSocket)(url);
const facadeSocketB = (url) => facadeOf(ReconnectingWebSocketB)(url);

/** Receive with a WebSocket-like object: "go", then count messages and bytes until "done". */
function receiveWith(makeSocket, url) {
  return new Promise((resolve, reject) => {
    const ws = makeSocket(url);
    let messages = 0;
    let bytes = 0;
    let start = 0;
    ws.onopen = () => {
      start = performance.now();
      ws.send('go');
    };
    ws.onmessage = (event) => {
      const data = event.data;
      if (typeof data === 'string') {
        if (data === 'done') {
          const end = performance.now();
          ws.onclose = null;
          ws.close();
          resolve({ messages, bytes, ms: end - start, start, end });
          return;
        }
        bytes += data.length;
      } else {
        bytes += data.byteLength;
      }
      messages += 1;
    };
    ws.onclose = (event) => reject(new Error(`closed during the run: ${event.code}`));
  });
}

/** Send `count` binary messages, waiting while bufferedAmount is over the high-water mark. */
async function sendWith(makeSocket, url, count, size) {
  const ws = await opened(makeSocket(url));
  const payload = new ArrayBuffer(size);
  let answer;
  const answered = new Promise((resolve) => (answer = resolve));
  ws.onmessage = (event) => answer(event.data);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    // The Rust Sink waits the same way: it polls bufferedAmount every 1 ms (setTimeout).
    while (ws.bufferedAmount > HIGH_WATER_MARK) await sleep(1);
    ws.send(payload);
  }
  ws.send('stats');
  const stats = JSON.parse(await answered);
  const ms = performance.now() - start;
  ws.close();
  return { messages: stats.messages, bytes: stats.bytes, ms };
}

/** `count` echo round trips of a `size`-byte text, one at a time. */
async function echoWith(makeSocket, url, count, size) {
  const ws = await opened(makeSocket(url));
  const text = 'x'.repeat(size);
  let answer;
  ws.onmessage = (event) => answer(event.data);
  const roundTrips = new Float64Array(count);
  const begin = performance.now();
  for (let i = 0; i < count; i++) {
    const reply = new Promise((resolve) => (answer = resolve));
    const start = performance.now();
    ws.send(text);
    await reply;
    roundTrips[i] = performance.now() - start;
  }
  const wall = performance.now() - begin;
  ws.close();
  // As for Rust: the sum of the round trips is the time.
  const ms = roundTrips.reduce((sum, value) => sum + value, 0);
  return { messages: count, bytes: count * size, ms, wall, roundTrips: Array.from(roundTrips) };
}

async function rustEcho(url, count, size, stream) {
  const begin = performance.now();
  const roundTrips = await bench.rustEcho(url, count, size, stream);
  // Connecting is inside the Rust call; the sum of round trips is the comparable time.
  const ms = roundTrips.reduce((sum, value) => sum + value, 0);
  return {
    messages: count,
    bytes: count * size,
    ms,
    wall: performance.now() - begin,
    roundTrips: Array.from(roundTrips),
  };
}

const fromTriple = ([messages, bytes, ms]) => ({ messages, bytes, ms });

// Reconnecting subjects: start(url, delay, onOpen) -> { close() }.
const RECONNECTORS = {
  raw(url, delay, onOpen) {
    let closed = false;
    let ws;
    const connect = () => {
      ws = new WebSocket(url);
      ws.onopen = () => onOpen();
      ws.onclose = () => {
        if (!closed) setTimeout(connect, delay);
      };
    };
    connect();
    return {
      close() {
        closed = true;
        ws.close();
      },
    };
  },
  rust(url, delay, onOpen) {
    const client = new bench.RustReconnecting(url, delay, (kind) => {
      if (kind === 'open') onOpen();
    });
    return {
      close() {
        client.close();
        client.free();
      },
    };
  },
  js(url, delay, onOpen, Class = ReconnectingWebSocket) {
    const ws = new Class(url, undefined, { minDelay: delay, maxDelay: delay, jitter: 'none' });
    ws.onopen = () => onOpen();
    return {
      close() {
        ws.close();
      },
    };
  },
  jsB(url, delay, onOpen) {
    return RECONNECTORS.js(url, delay, onOpen, ReconnectingWebSocketB);
  },
};

/** Times `count` reconnections after a server restart, from its return to the open event. */
async function reconnectRun(subject, count) {
  let waiter = null;
  const onOpen = () => {
    const at = performance.timeOrigin + performance.now();
    const resolve = waiter;
    waiter = null;
    resolve?.(at);
  };
  const nextOpen = () => new Promise((resolve) => (waiter = resolve));
  let open = nextOpen();
  const client = RECONNECTORS[subject](`${WS}/echo`, RECONNECT_DELAY, onOpen);
  const samples = [];
  try {
    await withTimeout(open, 10_000, `${subject} first open`);
    for (let i = 0; i < count; i++) {
      open = nextOpen();
      await fetch(`${HTTP}/control/restart?down=${RECONNECT_DOWN}`);
      const at = await withTimeout(open, 10_000, `${subject} reopen`);
      const { listeningSince } = await (await fetch(`${HTTP}/control/stats`)).json();
      samples.push(at - listeningSince);
    }
  } finally {
    client.close();
  }
  return { messages: count, bytes: 0, ms: 0, samples };
}

/** Every message must have arrived: a subject that loses some must not look fast. */
function checkCount(scenario, subject, result) {
  const expected = subject === 'raw2' ? 2 * Math.ceil(scenario.count / 2) : scenario.count;
  if (result.messages !== expected) {
    throw new Error(`${scenario.id} ${subject}: ${result.messages} messages, expected ${expected}`);
  }
}

async function runOne(scenario, subject) {
  const { kind, size, count } = scenario;
  if (kind === 'receive') {
    const url = (messages) =>
      `${WS}/flood?count=${messages}&size=${size}&binary=${scenario.binary}`;
    switch (subject) {
      case 'raw':
        return receiveWith(rawSocket, url(count));
      case 'js':
        return receiveWith(facadeSocket, url(count));
      case 'jsB':
        return receiveWith(facadeSocketB, url(count));
      case 'rust':
      case 'rustStream':
        return fromTriple(await bench.rustReceive(url(count), subject === 'rustStream'));
      case 'raw2': {
        const half = Math.ceil(count / 2);
        const runs = await Promise.all([
          receiveWith(rawSocket, url(half)),
          receiveWith(rawSocket, url(half)),
        ]);
        const start = Math.min(...runs.map((run) => run.start));
        const end = Math.max(...runs.map((run) => run.end));
        return {
          messages: runs[0].messages + runs[1].messages,
          bytes: runs[0].bytes + runs[1].bytes,
          ms: end - start,
        };
      }
    }
  }
  if (kind === 'send') {
    const url = `${WS}/count`;
    switch (subject) {
      case 'raw':
        return sendWith(rawSocket, url, count, size);
      case 'js':
        return sendWith(facadeSocket, url, count, size);
      case 'jsB':
        return sendWith(facadeSocketB, url, count, size);
      case 'rust':
      case 'rustStream':
        return fromTriple(await bench.rustSend(url, count, size, subject === 'rustStream'));
    }
  }
  if (kind === 'echo') {
    const url = `${WS}/echo`;
    switch (subject) {
      case 'raw':
        return echoWith(rawSocket, url, count, size);
      case 'js':
        return echoWith(facadeSocket, url, count, size);
      case 'jsB':
        return echoWith(facadeSocketB, url, count, size);
      case 'rust':
      case 'rustStream':
        return rustEcho(url, count, size, subject === 'rustStream');
    }
  }
  if (kind === 'reconnect') return reconnectRun(subject, count);
  throw new Error(`no ${subject} for ${scenario.id}`);
}

// ---------------------------------------------------------------------------
// Memory: 1,000 reconnect cycles after a warm-up, each cut by the server (/control/drop-all)
// ---------------------------------------------------------------------------

function memoryProbe(wasmBytes, withHeapCounter) {
  return async (cycle) => {
    await collect();
    const probe = {
      cycle,
      jsHeap: performance.memory?.usedJSHeapSize ?? NaN,
      wasmMemory: wasmBytes(),
    };
    if (withHeapCounter) {
      probe.liveBytes = bench.liveBytes();
      probe.liveAllocations = bench.liveAllocations();
      probe.liveListeners = bench.liveListeners();
    }
    return probe;
  };
}

// Memory is probed every 250 cycles, and at the end of the warm-up and of the measurement.
const CHECKPOINTS = new Set([
  ...Array.from(
    { length: Math.floor((WARMUP_CYCLES + MEASURED_CYCLES) / 250) + 1 },
    (_, i) => i * 250,
  ),
  WARMUP_CYCLES,
  WARMUP_CYCLES + MEASURED_CYCLES,
]);

/** Cycles a reconnecting subject: each open is answered by the server cutting the connection. */
async function memoryCycles(start, probe) {
  let waiter = null;
  const nextOpen = () => new Promise((resolve) => (waiter = resolve));
  let open = nextOpen();
  const client = start(`${WS}/echo`, CYCLE_DELAY, () => {
    const resolve = waiter;
    waiter = null;
    resolve?.();
  });
  const probes = [];
  let cycling = 0;
  try {
    await withTimeout(open, 10_000, 'memory: first open');
    for (let cycle = 0; ; cycle++) {
      if (CHECKPOINTS.has(cycle)) probes.push(await probe(cycle));
      if (cycle === WARMUP_CYCLES + MEASURED_CYCLES) break;
      const begin = performance.now();
      open = nextOpen();
      await fetch(`${HTTP}/control/drop-all`);
      await withTimeout(open, 10_000, `memory cycle ${cycle + 1}`);
      if (cycle >= WARMUP_CYCLES) cycling += performance.now() - begin;
    }
  } finally {
    client.close();
  }
  await sleep(100);
  probes.push({ ...(await probe('closed')), cycle: 'closed' });
  return { probes, msPerCycle: cycling / MEASURED_CYCLES };
}

/** Repeats `once()` (one whole connection's life) after a warm-up, probing at the checkpoints. */
async function memoryRepeat(once, probe) {
  const probes = [];
  let cycling = 0;
  for (let cycle = 0; cycle <= WARMUP_CYCLES + MEASURED_CYCLES; cycle++) {
    if (CHECKPOINTS.has(cycle)) probes.push(await probe(cycle));
    if (cycle === WARMUP_CYCLES + MEASURED_CYCLES) break;
    const begin = performance.now();
    await withTimeout(once(), 10_000, `cycle ${cycle}`);
    if (cycle >= WARMUP_CYCLES) cycling += performance.now() - begin;
  }
  await sleep(100);
  probes.push({ ...(await probe('closed')), cycle: 'closed' });
  return { probes, msPerCycle: cycling / MEASURED_CYCLES };
}

/** One instance of the JS class: open, one echo, close, wait for its close event. */
async function facadeOnce(Class) {
  const ws = new Class(`${WS}/echo`);
  await opened(ws);
  const closed = new Promise((resolve) => ws.addEventListener('close', resolve, { once: true }));
  const echoed = new Promise((resolve) => ws.addEventListener('message', resolve, { once: true }));
  ws.send('x');
  await echoed;
  ws.close();
  await closed;
}

// What a client still holds once everything it sent has reached the server, and a moment
// later: the reconnecting client trims its ledger of sent messages once a second when idle.
const HELD_MESSAGES = 100_000;
const HELD_SIZE = 32;
const HELD_SETTLE_MS = 1500;

async function heldAfterSending() {
  const results = [];
  const url = `${WS}/count`;
  if (!SUBJECTS || SUBJECTS.includes('rust')) {
    await collect();
    const [liveBefore, liveAfter, wasmBefore, wasmAfter, counted] =
      await bench.rustReconnectingSend(url, HELD_MESSAGES, HELD_SIZE, HELD_SETTLE_MS);
    results.push({
      subject: 'rust',
      label: 'Rust Reconnecting',
      liveBefore,
      liveAfter,
      wasmBefore,
      wasmAfter,
      counted,
    });
  }
  for (const [subject, label, Class] of [
    ['raw', 'raw WebSocket', null],
    ['js', 'JS class (bench build, counted heap)', bench.reconnectingWebSocketClass()],
  ]) {
    if (SUBJECTS && !SUBJECTS.includes(subject)) continue;
    const ws = Class ? new Class(url) : new WebSocket(url);
    await opened(ws);
    await collect();
    const before = {
      live: bench.liveBytes(),
      wasm: benchExports.memory.buffer.byteLength,
      heap: performance.memory.usedJSHeapSize,
    };
    const text = 'x'.repeat(HELD_SIZE - 1);
    let answer;
    const answered = new Promise((resolve) => (answer = resolve));
    ws.onmessage = (event) => answer(event.data);
    for (let i = 0; i < HELD_MESSAGES; i++) {
      while (ws.bufferedAmount > HIGH_WATER_MARK) await sleep(1);
      // A fresh string each time, as real messages are.
      ws.send(text + (i % 10));
    }
    ws.send('stats');
    const { messages: counted } = JSON.parse(await answered);
    await sleep(HELD_SETTLE_MS);
    await collect();
    results.push({
      subject,
      label,
      counted,
      liveBefore: Class ? before.live : NaN,
      liveAfter: Class ? bench.liveBytes() : NaN,
      wasmBefore: Class ? before.wasm : NaN,
      wasmAfter: Class ? benchExports.memory.buffer.byteLength : NaN,
      heapBefore: before.heap,
      heapAfter: performance.memory.usedJSHeapSize,
    });
    ws.close();
  }
  return { messages: HELD_MESSAGES, size: HELD_SIZE, settleMs: HELD_SETTLE_MS, results };
}

async function memoryRuns() {
  const packageMemory = () => packageExports.memory.buffer.byteLength;
  const benchMemory = () => benchExports.memory.buffer.byteLength;
  const BenchClass = bench.reconnectingWebSocketClass();
  const runs = [
    [
      'raw',
      'raw WebSocket, reconnect by hand',
      () =>
        memoryCycles(
          RECONNECTORS.raw,
          memoryProbe(() => NaN, false),
        ),
    ],
    [
      'rust-socket',
      'Rust WebSocket: connect, echo, drop',
      () => memoryRepeat(() => bench.rustConnectOnce(`${WS}/echo`), memoryProbe(benchMemory, true)),
    ],
    [
      'rust',
      'Rust Reconnecting',
      () => memoryCycles(RECONNECTORS.rust, memoryProbe(benchMemory, true)),
    ],
    [
      'js',
      'JS class (npm package)',
      () => memoryCycles(RECONNECTORS.js, memoryProbe(packageMemory, false)),
    ],
    [
      'js-counted',
      'JS class (bench build, counted heap)',
      () =>
        memoryCycles(
          (url, delay, onOpen) => RECONNECTORS.js(url, delay, onOpen, BenchClass),
          memoryProbe(benchMemory, true),
        ),
    ],
    // Not reconnect cycles: whole instances of the class, as a page that opens and closes
    // sockets all day makes them.
    [
      'js-instances',
      'JS class (bench build): new, open, echo, close',
      () => memoryRepeat(() => facadeOnce(BenchClass), memoryProbe(benchMemory, true)),
    ],
  ];
  const results = [];
  for (const [subject, label, run] of runs) {
    if (SUBJECTS && !SUBJECTS.includes(subject)) continue;
    await log(`memory: ${label}`);
    const begin = performance.now();
    const result = await run();
    results.push({ subject, label, ...result, seconds: (performance.now() - begin) / 1000 });
  }
  return results;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main() {
  ({ ReconnectingWebSocket } = await import(PKG));
  if (PKG_B) ({ ReconnectingWebSocket: ReconnectingWebSocketB } = await import(PKG_B));
  packageExports = await (await import(PKG.replace(/index\.js$/, 'resocket.js'))).default();
  bench = await import(BENCH_PKG);
  benchExports = await bench.default();

  const environment = {
    userAgent: navigator.userAgent,
    hardwareConcurrency: navigator.hardwareConcurrency,
    visibilityState: document.visibilityState,
    gcExposed: typeof globalThis.gc === 'function',
    rounds: ROUNDS,
    scale: SCALE,
    highWaterMark: HIGH_WATER_MARK,
    reconnect: { delay: RECONNECT_DELAY, down: RECONNECT_DOWN, perRound: RECONNECTS_PER_ROUND },
    memory: { delay: CYCLE_DELAY, warmup: WARMUP_CYCLES, cycles: MEASURED_CYCLES },
    scenarios: SCENARIOS,
    pkg: PKG,
    pkgB: PKG_B,
  };

  // The minimal apps whose size is reported must work: each runs once against /echo.
  const apps = {};
  if (!ONLY) {
    const socketApp = await import('/bench/apps/socket/pkg/resocket_app_socket.js');
    await socketApp.default();
    apps.socket = await withTimeout(socketApp.run(`${WS}/echo`, 4), 10_000, 'socket app');
    const reconnectingApp =
      await import('/bench/apps/reconnecting/pkg/resocket_app_reconnecting.js');
    await reconnectingApp.default();
    apps.reconnecting = await withTimeout(
      reconnectingApp.run(`${WS}/echo`, 3),
      10_000,
      'reconnecting app',
    );
    const floorApp = await import('/bench/apps/floor/pkg/resocket_app_floor.js');
    await floorApp.default();
    apps.floor = await withTimeout(floorApp.run(`${WS}/echo`, 4), 10_000, 'floor app');
    await log(
      `apps: socket echoed ${apps.socket} bytes, reconnecting got ${apps.reconnecting} answers, floor echoed ${apps.floor} bytes`,
    );
  }

  // A warm-up pass with a tenth of the messages, not recorded: every code path is compiled
  // and optimised before the first measured round.
  await log('warm-up');
  for (const scenario of SCENARIOS) {
    const small = { ...scenario, count: Math.max(1, Math.round(scenario.count / 10)) };
    if (scenario.kind === 'reconnect') continue;
    for (const subject of SUBJECTS_BY_KIND[scenario.kind]) {
      if (!SUBJECTS || SUBJECTS.includes(subject))
        await withTimeout(runOne(small, subject), 120_000, `warm-up ${scenario.id} ${subject}`);
    }
  }

  const runs = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const scenario of SCENARIOS) {
      const subjects = SUBJECTS_BY_KIND[scenario.kind].filter(
        (s) => !SUBJECTS || SUBJECTS.includes(s),
      );
      // Rotate the order every round so no subject always runs first or last.
      const order = subjects.map((_, i) => subjects[(i + round) % subjects.length]);
      for (const subject of order) {
        await collect();
        const before = await cpu();
        if (PROFILE) await profiler('start');
        const result = await withTimeout(
          runOne(scenario, subject),
          120_000,
          `${scenario.id} ${subject}`,
        );
        checkCount(scenario, subject, result);
        if (PROFILE) await profiler('stop', `${scenario.id} ${subject} round ${round + 1}`);
        const after = await cpu();
        runs.push({
          round,
          scenario: scenario.id,
          subject,
          ...result,
          cpu: cpuDelta(before, after),
        });
      }
      const last = runs.slice(-subjects.length);
      await log(
        `round ${round + 1}/${ROUNDS} ${scenario.id}: ` +
          last
            .map(
              (run) =>
                `${run.subject} ${
                  scenario.kind === 'reconnect'
                    ? run.samples.map((s) => s.toFixed(1)).join('/') + ' ms'
                    : Math.round(run.messages / (run.ms / 1000)) + '/s'
                }`,
            )
            .join(', '),
      );
    }
  }

  const memory = ONLY && !ONLY.includes('memory') ? [] : await memoryRuns();
  let held = null;
  if (!ONLY || ONLY.includes('held')) {
    await log('memory: held after sending');
    held = await heldAfterSending();
  }
  await post('/report', { environment, apps, runs, memory, held });
  screen.textContent += '\ndone';
}

main().catch(async (error) => {
  screen.textContent += `\n${error.stack ?? error}`;
  await post('/report', { error: String(error.stack ?? error) });
});
