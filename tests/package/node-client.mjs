// Run by node.test.mjs in a Node of its choice: node-client.mjs PKG SERVER MODE [...].
// Prints one line of JSON with what happened.
//
// import-only: imports the package every way a Node program can, with page globals
//   (window, document, navigator, location) made into traps that note any read.
// session CONSTRUCTOR LOADER: a client through a server drop (see node.test.mjs).
// no-websocket: a client where the platform has no WebSocket and none is passed (Node before
//   22); this one does not call process.exit, so a timer left behind would keep it running.

import path from 'node:path';
import { createRequire } from 'node:module';

const [pkg, server, mode, constructor, loader] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function importOnly() {
  const touched = [];
  for (const name of ['window', 'document', 'navigator', 'location']) {
    Object.defineProperty(globalThis, name, {
      configurable: true,
      get() {
        touched.push(name);
        return undefined;
      },
    });
  }
  const esm = await import(path.join(pkg, 'node.js'));
  const cjs = require(path.join(pkg, 'node.cjs'));
  // The browser entry in Node: it cannot fetch its module here, but importing must not throw.
  const browser = await import(path.join(pkg, 'index.js'));
  let ready = 'pending';
  await esm.ready.then(
    () => (ready = 'resolved'),
    (error) => (ready = `rejected: ${error}`),
  );
  await browser.ready.catch(() => {});
  return {
    touched: [...new Set(touched)],
    esm: typeof esm.ReconnectingWebSocket,
    cjs: typeof cjs.ReconnectingWebSocket,
    browserEntry: typeof browser.ReconnectingWebSocket,
    ready,
  };
}

async function session() {
  const { ReconnectingWebSocket } =
    loader === 'require'
      ? require(path.join(pkg, 'node.cjs'))
      : await import(path.join(pkg, 'node.js'));
  const options = { minDelay: 50, maxDelay: 100 };
  if (constructor === 'ws') options.WebSocket = (await import('ws')).default;
  // The server drops each connection 400 ms after it opens.
  const socket = new ReconnectingWebSocket(`${server}/drop?delay=400`, undefined, options);
  socket.binaryType = 'arraybuffer';
  const result = { received: [], opens: 0, closes: [], reconnecting: 0 };
  socket.addEventListener('message', (event) => {
    result.received.push(
      typeof event.data === 'string' ? event.data : `binary ${event.data.byteLength}`,
    );
  });
  socket.addEventListener('open', () => {
    result.opens += 1;
    if (result.opens === 1) socket.send(new Uint8Array([1, 2, 3]));
  });
  socket.addEventListener('close', (event) => {
    result.closes.push(event.code);
    if (result.closes.length === 1) socket.send('while down');
  });
  socket.addEventListener('reconnecting', () => (result.reconnecting += 1));
  socket.send('before open');
  for (let waited = 0; waited < 10_000 && !result.received.includes('while down'); waited += 20) {
    await sleep(20);
  }
  socket.close();
  await sleep(100);
  result.finalState = socket.readyState;
  return result;
}

async function noWebSocket() {
  delete globalThis.WebSocket;
  const { ReconnectingWebSocket } = await import(path.join(pkg, 'node.js'));
  const socket = new ReconnectingWebSocket(`${server}/echo`, undefined, {
    minDelay: 10,
    maxDelay: 20,
  });
  const events = [];
  for (const type of ['open', 'error', 'close', 'reconnecting', 'giveup']) {
    socket.addEventListener(type, (event) =>
      events.push(type === 'close' ? `close ${event.code}` : type),
    );
  }
  // The client is already failing (CLOSING): what it is sent is refused, not kept.
  let send = 'accepted';
  try {
    socket.send('hello');
  } catch (error) {
    send = error.name;
  }
  await sleep(500);
  return { events, send, readyState: socket.readyState };
}

const MODES = { 'import-only': importOnly, session, 'no-websocket': noWebSocket };
try {
  console.log(JSON.stringify(await MODES[mode]()));
} catch (error) {
  console.log(JSON.stringify({ error: String(error?.stack ?? error) }));
}
if (mode !== 'no-websocket') process.exit(0);
