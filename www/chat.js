// The resocket demo: a chat room on ReconnectingWebSocket, the drop-in WebSocket that
// reconnects. The server (tests/server/server.mjs, route /chat) sends every message to
// everyone in the room, the sender included, so a message shows in the list once the room
// has it; until then it waits below the list, greyed out.
import { ReconnectingWebSocket } from './pkg/index.js';

const $ = (id) => document.getElementById(id);

// Short retry delays, so an outage in the demo ends seconds after the server is back.
const ws = new ReconnectingWebSocket(
  new URL('/chat', location.href.replace(/^http/, 'ws')),
  undefined,
  { minDelay: 250, maxDelay: 2000 },
);

// The room replays its latest messages to whoever joins or comes back, so a page can get a
// message twice: each one carries an id (this tab's, then a counter) and the first copy wins.
const tab = Math.random().toString(36).slice(2, 10);
let counter = 0;
const seen = new Set();
const pending = new Map(); // id -> its greyed-out entry, until the room sends it back

const NAMES = [
  'Ada',
  'Alan',
  'Barbara',
  'Dennis',
  'Edsger',
  'Frances',
  'Grace',
  'Ken',
  'Leslie',
  'Linus',
  'Margaret',
  'Radia',
  'Tim',
  'Vint',
];
// The module finishes loading after the page shows (the wasm loads first), so a name typed
// in the meantime is kept rather than replaced.
if (!$('name').value.trim()) {
  $('name').value =
    `${NAMES[Math.floor(Math.random() * NAMES.length)]} ${Math.floor(10 + Math.random() * 90)}`;
}

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

function messageItem({ id, name, text }) {
  const item = document.createElement('li');
  item.dataset.id = id;
  if (id.startsWith(`${tab}-`)) item.classList.add('mine');
  const who = document.createElement('b');
  who.className = 'name';
  who.textContent = name;
  const what = document.createElement('span');
  what.className = 'text';
  what.textContent = text;
  item.append(who, what);
  return item;
}

// Appends to a list, following along if the reader was at the bottom (or wrote it).
function show(listId, item) {
  const list = $(listId);
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.append(item);
  if (atBottom || item.classList.contains('mine')) list.scrollTop = list.scrollHeight;
}

ws.addEventListener('message', (event) => {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return; // not a chat message: someone else's client in the room
  }
  const { id, name, text } = message ?? {};
  if (typeof id !== 'string' || typeof name !== 'string' || typeof text !== 'string') return;
  if (seen.has(id)) return;
  seen.add(id);
  pending.get(id)?.remove();
  pending.delete(id);
  show('messages', messageItem(message));
});

$('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $('message').value.trim();
  const name = $('name').value.trim() || 'anonymous';
  if (!text) return;
  const message = { id: `${tab}-${++counter}`, name, text };
  try {
    // While the connection is down this queues, instead of throwing as WebSocket would.
    ws.send(JSON.stringify(message));
  } catch (error) {
    note(`not sent: ${error.message}`);
    return;
  }
  const item = messageItem(message);
  pending.set(message.id, item);
  show('pending', item);
  $('message').value = '';
  render();
});

// ---------------------------------------------------------------------------
// Connection status
// ---------------------------------------------------------------------------

let attempt = 0;
let retryAt = null; // performance.now() of the next attempt while waiting out a delay
let retryDelay = 0;

// CONNECTING covers both waiting out a delay and a handshake under way; the
// `reconnecting` event's delay tells them apart.
function connectionState() {
  switch (ws.readyState) {
    case ws.OPEN:
      return 'open';
    case ws.CLOSING:
      return 'closing';
    case ws.CLOSED:
      return 'closed';
    default:
      return retryAt !== null && performance.now() < retryAt ? 'reconnecting' : 'connecting';
  }
}

function render() {
  const state = connectionState();
  $('state').textContent = state;
  $('state').dataset.state = state;
  $('attempt').textContent = String(attempt);
  const left = state === 'reconnecting' ? retryAt - performance.now() : 0;
  $('countdown').textContent = state === 'reconnecting' ? `${(left / 1000).toFixed(1)} s` : '–';
  $('countdown-bar').style.width = retryDelay > 0 ? `${(100 * left) / retryDelay}%` : '0';
  $('queued').textContent = String(ws.queuedMessages);
  for (const item of pending.values())
    item.dataset.status = state === 'open' ? 'sending' : 'queued';
}

// The newest few things that happened, newest first.
function note(text) {
  const item = document.createElement('li');
  const time = document.createElement('time');
  time.textContent = new Date().toLocaleTimeString([], { hour12: false });
  item.append(time, ` ${text}`);
  $('events').prepend(item);
  while ($('events').children.length > 6) $('events').lastElementChild.remove();
}

ws.addEventListener('open', (event) => {
  attempt = event.attempt;
  retryAt = null;
  note(attempt === 0 ? 'open' : `open after ${attempt} ${attempt === 1 ? 'retry' : 'retries'}`);
  render();
});
ws.addEventListener('close', (event) => {
  note(`closed (${event.code}${event.wasClean ? '' : ', not clean'})`);
  render();
});
ws.addEventListener('reconnecting', (event) => {
  attempt = event.attempt;
  retryDelay = event.delay;
  retryAt = performance.now() + event.delay;
  note(`attempt ${event.attempt} in ${Math.round(event.delay)} ms`);
  render();
});
ws.addEventListener('giveup', (event) => {
  note(`gave up: ${event.reason}`);
  render();
});

// The countdown moves on its own; everything else is redrawn on events too.
setInterval(render, 100);
render();

// ---------------------------------------------------------------------------
// Faults: the server's control routes
// ---------------------------------------------------------------------------

async function control(button, route, describe) {
  button.disabled = true;
  try {
    const response = await fetch(new URL(route, location.href));
    const body = await response.text();
    note(response.ok ? describe(body) : `${route}: ${response.status} ${body}`);
  } catch (error) {
    note(`${route}: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

$('drop').addEventListener('click', () =>
  control($('drop'), '/control/drop-all', (count) => `server cut ${count} connection(s)`),
);
$('away').addEventListener('click', () =>
  control($('away'), '/control/restart?down=5000', () => 'server away for 5 s'),
);
