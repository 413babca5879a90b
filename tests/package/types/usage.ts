// Type-checked against the package's declarations (pkg/index.d.ts) by types.test.mjs: what a
// TypeScript user writes must compile, and the mistakes marked below must not.
import { ReconnectingWebSocket, ready, type ReconnectingWebSocketOptions } from 'resocket';

const options: ReconnectingWebSocketOptions = {
  minDelay: 100,
  maxDelay: 5000,
  jitter: 'decorrelated',
  maxRetries: null,
  heartbeat: { interval: 1000, timeout: 500, isPong: (data) => data === 'pong' },
  overflow: 'drop-oldest',
  shouldReconnect: (event) => event.code !== 4001,
  onOpen: async (socket) => socket.send('auth'),
};

const ws = new ReconnectingWebSocket(() => Promise.resolve('wss://example.com'), ['v1'], options);
ws.addEventListener('reconnecting', (event) => {
  const waited: number = event.attempt + event.delay;
  console.log(waited);
});
ws.addEventListener('giveup', (event) => console.log(event.reason.toUpperCase()));
ws.onmessage = (event) => console.log(event.data);
ws.onclose = (event) => console.log(event.code, event.wasClean);
ws.send(new Uint8Array([1, 2, 3]));
const state: 0 | 1 | 2 | 3 = ws.readyState;
const open: 1 = ReconnectingWebSocket.OPEN;
console.log(state, open, ws.bufferedAmount + ws.queuedMessages);

async function read(): Promise<void> {
  for await (const data of ws) console.log(data);
}
void read();

// @ts-expect-error: jitter is one of three words
const wrongJitter: ReconnectingWebSocketOptions = { jitter: 'sometimes' };
// @ts-expect-error: delays are numbers of milliseconds
const wrongDelay: ReconnectingWebSocketOptions = { minDelay: '1s' };
// @ts-expect-error: a socket cannot send a plain object
ws.send({ hello: 'world' });
console.log(wrongJitter, wrongDelay);

// A drop-in: usable wherever a WebSocket is expected, with its own events still typed.
const asWebSocket: WebSocket = new ReconnectingWebSocket('wss://example.com');
function takesWebSocket(socket: WebSocket): number {
  return socket.readyState;
}
takesWebSocket(new ReconnectingWebSocket('wss://example.com', 'chat'));
asWebSocket.onmessage = function (event) {
  console.log(this.url, event.data);
};
ws.onopen = function (event) {
  const attempt: number | undefined = event.attempt;
  console.log(this.url, ws.retryCount, attempt);
};
ws.onreconnecting = (event) => console.log(event.delay);
ws.addEventListener('open', (event) => console.log(event.attempt));

// Options of reconnecting-websocket users, and the module's readiness.
const later = new ReconnectingWebSocket('wss://example.com', undefined, {
  startClosed: true,
  WebSocket: globalThis.WebSocket,
});
later.reconnect(4000, 'now');
await ready;
// @ts-expect-error: the WebSocket option is a constructor
new ReconnectingWebSocket('wss://example.com', undefined, { WebSocket: 'ws' });
