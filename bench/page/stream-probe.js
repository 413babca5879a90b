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

try {
  if (figures.webSocketStream) {
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
