// The page of bench/stream-probe.mjs: in plain JavaScript, messages per second through the
// browser's WebSocket (events, bufferedAmount) and through WebSocketStream (a reader's
// read() promise per message, a writer's write() and ready), in interleaved rounds on the
// same server, and what the stream's writer reports as its desiredSize.
const params = new URLSearchParams(location.search);
const server = params.get('server');
const rounds = Number(params.get('rounds') ?? 3);
const SMALL = 32;
const LARGE = 65536;
const counts = {
  [SMALL]: Number(params.get('small') ?? 200000),
  [LARGE]: Number(params.get('large') ?? 2000),
};

const figures = {
  userAgent: navigator.userAgent,
  webSocketStream: typeof WebSocketStream === 'function',
};
const record = (name, value) => (figures[name] ??= []).push(value);
const floodUrl = (size) =>
  `${server}/flood?count=${counts[size]}&size=${size}&binary=${size === LARGE ? 1 : 0}`;
const rate = (messages, since) => Math.round((messages / (performance.now() - since)) * 1000);
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

async function eventsReceive(size) {
  const ws = new WebSocket(floodUrl(size));
  ws.binaryType = 'arraybuffer';
  await new Promise((resolve) => (ws.onopen = resolve));
  let messages = 0;
  const since = performance.now();
  await new Promise((resolve) => {
    ws.onmessage = (event) => (event.data === 'done' ? resolve() : messages++);
    ws.send('go');
  });
  ws.close();
  return rate(messages, since);
}

async function streamReceive(size) {
  const stream = new WebSocketStream(floodUrl(size));
  const { readable, writable } = await stream.opened;
  const reader = readable.getReader();
  await writable.getWriter().write('go');
  let messages = 0;
  const since = performance.now();
  for (;;) {
    const { value, done } = await reader.read();
    if (done || value === 'done') break;
    messages++;
  }
  stream.close();
  return rate(messages, since);
}

async function eventsSend(count) {
  const ws = new WebSocket(`${server}/count`);
  await new Promise((resolve) => (ws.onopen = resolve));
  const data = 'x'.repeat(SMALL);
  const since = performance.now();
  for (let i = 0; i < count; i++) {
    ws.send(data);
    if (ws.bufferedAmount > 1 << 20) await tick();
  }
  while (ws.bufferedAmount > 0) await tick();
  ws.close();
  return rate(count, since);
}

async function streamSend(count) {
  const stream = new WebSocketStream(`${server}/count`);
  const { writable } = await stream.opened;
  const writer = writable.getWriter();
  figures.writerDesiredSizeWhenOpen = writer.desiredSize;
  const data = 'x'.repeat(SMALL);
  let waits = 0;
  let last;
  const since = performance.now();
  for (let i = 0; i < count; i++) {
    last = writer.write(data);
    if (writer.desiredSize <= 0) {
      waits++;
      await writer.ready;
    }
  }
  await last;
  figures.writerWaitsPerMessage = waits / count;
  stream.close();
  return rate(count, since);
}

// --memory: one subject per page. The server streams 256 MiB in 64 KiB messages as fast as
// it can; the consumer takes one message every 50 ms. Every 2 s the page asks the runner to
// read the renderer's RSS and the server's send queue, with its own JS heap (and wasm memory)
// and what it has consumed and holds. Subjects: the browser's WebSocket (`events`) and
// WebSocketStream (`stream`) in plain JavaScript, and resocket's Rust `WebSocket` on either
// path (`rust-events`, `rust-stream`: bench/pkg, built by scripts/bench).
async function memory(subject, seconds) {
  const key = `probe${Math.floor(Math.random() * 1e9)}`;
  const url = `${server}/flood?count=4096&size=65536&binary=1&key=${key}`;
  let wasmMemory = () => null;
  const sample = (t, consumed, waiting) =>
    fetch('/sample', {
      method: 'POST',
      body: JSON.stringify({
        t,
        key,
        consumed,
        waiting,
        jsHeap: performance.memory?.usedJSHeapSize ?? null,
        wasmMemory: wasmMemory(),
      }),
    });
  const deadline = performance.now() + seconds * 1000;
  let consumed = 0;
  let waiting = null;
  let next = 0;
  const due = async () => {
    const t = Math.round((performance.now() - (deadline - seconds * 1000)) / 1000);
    if (t >= next) {
      next = t + 2;
      await sample(t, consumed, waiting);
    }
  };
  if (subject === 'events') {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const queue = [];
    await new Promise((resolve) => (ws.onopen = resolve));
    ws.onmessage = (event) => queue.push(event.data);
    ws.send('go');
    while (performance.now() < deadline) {
      await sleep(50);
      if (queue.shift() !== undefined) consumed++;
      waiting = queue.length;
      await due();
    }
    ws.close();
  } else if (subject === 'stream') {
    const stream = new WebSocketStream(url);
    const { readable, writable } = await stream.opened;
    const reader = readable.getReader();
    await writable.getWriter().write('go');
    while (performance.now() < deadline) {
      await sleep(50);
      const { done } = await reader.read();
      if (done) break;
      consumed++;
      await due();
    }
    stream.close();
  } else {
    const bench = await import('/bench/pkg/resocket_bench.js');
    await bench.default();
    wasmMemory = bench.wasmMemoryBytes;
    await bench.rustSlowReader(url, subject === 'rust-stream', async (taken) => {
      consumed = taken;
      await due();
      await sleep(50);
      return performance.now() < deadline;
    });
  }
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  if (params.get('memory')) {
    await memory(params.get('memory'), Number(params.get('seconds') ?? 20));
  } else if (figures.webSocketStream) {
    for (let round = 0; round < rounds; round++) {
      for (const size of [SMALL, LARGE]) {
        record(`receive ${size} B: events`, await eventsReceive(size));
        record(`receive ${size} B: stream`, await streamReceive(size));
      }
      record(`send ${SMALL} B: events`, await eventsSend(counts[SMALL] / 2));
      record(`send ${SMALL} B: stream`, await streamSend(counts[SMALL] / 2));
    }
  }
} catch (error) {
  figures.error = String(error?.stack ?? error);
}
await fetch('/figures', { method: 'POST', body: JSON.stringify(figures) });
