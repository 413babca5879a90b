// The WebSocket server that resocket's browser and JavaScript tests talk to.
//
//   node tests/server/server.mjs [--port-file PATH] [--exit-with-stdin]
//
// It listens on 127.0.0.1 on a port the OS picks, so parallel runs never
// collide, and announces itself with exactly one stdout line:
//
//   RESOCKET_TEST_SERVER=ws://127.0.0.1:PORT
//
// --port-file also writes that address to a file (removed again on a clean
// exit). --exit-with-stdin makes it exit when its stdin reaches end of file:
// start it with a pipe its parent holds, never with /dev/null (which ends at
// once) or no stdin.
//
// The URL path of a WebSocket handshake picks a behaviour (a "route"); options
// go in the query string and are validated strictly, so a typo in a test fails
// loudly (HTTP 400) instead of silently using a default. Plain HTTP GETs under
// /control/ let a test inject faults (restart, drop) and read counters.
//
//   WebSocket routes (query options, defaults)
//     /echo                                   echo, text as text, binary as binary
//     /burst?count=N (0)                      "0".."N-1" at once on open, then echo
//     /close?code=C (1000)&reason=R ('')&delay=MS (0)   echo, then a clean close
//     /drop?delay=MS (0)                      echo, then cut TCP, no close frame
//     /bad-frame?delay=MS (0)                 echo, then a frame with a reserved opcode
//     /refuse?status=S (403)                  answer the handshake with HTTP S
//     /stall                                  never answer the handshake
//     /protocol?choose=P                      pick P if offered, then echo
//     /slow?rate=BYTES_PER_SEC (16 MiB)       read slowly; "stats" -> counts
//     /count                                  fast sink; "stats" -> counts
//     /tally?key=K                            fast sink; notes each message's id (its
//                                             leading decimal digits) under K, across
//                                             connections, for /control/tally
//     /flood?count=N (1000)&size=S (1024)&binary=0|1 (0)  "go" -> N messages, "done"
//            &key=K (none)                 progress under K: /control/flood?key=K
//     /ping                                   "ping" -> "pong", echo the rest
//     /ping-silent                            echo all but "ping"
//     /ticker?interval=MS (100)               a JSON tick every MS, counted across clients
//     /chat?history=N (100)                   a chat room: text to everyone, sender too
//   HTTP control routes (GET, CORS open)
//     /control/restart?down=MS (0)   /control/drop-all
//     /control/close-all?code=C&reason=R   /control/stats   /control/reset-stats
//     /control/flood?key=K           how far the /flood under K got: messages sent, bytes
//                                    queued in the server (its send queue), done
//     /control/tally?key=K           what /tally received under K: messages, distinct ids,
//                                    the ids as sorted [first, last] ranges, and messages
//                                    without an id
//     (/control/stats also says since when the server listens: listeningSince, epoch ms)
//
// Each route's behaviour is described in more detail where it is defined.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { WebSocketServer, WebSocket } from 'ws';

const HOST = '127.0.0.1';
const MiB = 1024 * 1024;

// Large enough for the multi-megabyte messages the tests send, small enough
// that a runaway client cannot exhaust the machine.
const MAX_PAYLOAD = 256 * MiB;

// /flood stops queueing once this much is waiting in the socket, so a
// benchmark of millions of messages never holds them all in memory.
const FLOOD_HIGH_WATER = 4 * MiB;

// /chat keeps this many of the room's latest messages for the ones who join or come back.
const CHAT_HISTORY = 100;

// /slow refills its read budget on this tick and never lets more than
// THROTTLE_BURST_SECONDS of budget pile up, so reading stays smooth rather
// than a long stall followed by one huge gulp.
const THROTTLE_TICK_MS = 20;
const THROTTLE_BURST_SECONDS = 0.1;

// ---------------------------------------------------------------------------
// Query parameters
// ---------------------------------------------------------------------------

// A parameter parser takes the raw string (or null when absent) and returns
// the value, or throws a message that becomes the body of the 400 response.

function integer(min, max, fallback) {
  return (raw) => {
    if (raw === null) return fallback;
    // Digits only: Number() would otherwise accept "", "1e3", "0x10", " 5".
    if (!/^[0-9]{1,10}$/.test(raw)) throw `not a non-negative integer: ${raw}`;
    const value = Number(raw);
    if (value < min || value > max) throw `${value} is outside ${min}..${max}`;
    return value;
  };
}

function flag(fallback) {
  return (raw) => {
    if (raw === null) return fallback;
    if (raw !== '0' && raw !== '1') throw `expected 0 or 1, got ${raw}`;
    return raw === '1';
  };
}

// Codes an endpoint may put in a close frame (RFC 6455 section 7.4, and the
// same rule ws enforces); anything else would make ws.close() throw.
function closeCode(raw) {
  const code = integer(1000, 4999, 1000)(raw);
  const sendable =
    (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || code >= 3000;
  if (!sendable) throw `${code} cannot be sent in a close frame`;
  return code;
}

// A close frame has room for 123 bytes of UTF-8 reason.
function closeReason(raw) {
  if (raw === null) return '';
  if (Buffer.byteLength(raw) > 123) throw 'reason is longer than 123 bytes';
  return raw;
}

// Handshake refusals must be real failures: a 101 would be a success and a
// 1xx would leave the client waiting for a final response.
const refusalStatus = integer(200, 599, 403);

// A subprotocol is an HTTP token (RFC 7230 tchar).
function token(raw) {
  if (raw === null) return null;
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(raw)) throw `not a token: ${raw}`;
  return raw;
}

const delay = integer(0, 600_000, 0);

// Parses `search` against a route's parameter table. Unknown and repeated
// parameters are errors for the same reason bad numbers are.
function parseQuery(searchParams, table) {
  const options = {};
  for (const name of new Set(searchParams.keys())) {
    if (!Object.hasOwn(table, name)) throw `unknown parameter: ${name}`;
    if (searchParams.getAll(name).length > 1) throw `repeated parameter: ${name}`;
  }
  for (const [name, parse] of Object.entries(table)) {
    try {
      options[name] = parse(searchParams.get(name));
    } catch (message) {
      throw `${name}: ${message}`;
    }
  }
  return options;
}

// ---------------------------------------------------------------------------
// Connection behaviours
// ---------------------------------------------------------------------------

function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
}

// Runs `action` after `ms`, unless the connection has ended by then, so a
// client that leaves early never triggers work on a dead socket.
function whileOpen(ws, ms, action) {
  const timer = setTimeout(action, ms);
  ws.once('close', () => clearTimeout(timer));
}

// Counts what a client sends and reports it when asked with the text "stats".
// The report covers everything before the "stats" message itself.
function countingSink(ws) {
  let messages = 0;
  let bytes = 0;
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.length === 5 && data.toString() === 'stats') {
      ws.send(JSON.stringify({ messages, bytes }));
      return;
    }
    messages += 1;
    bytes += data.length;
  });
}

// Reads from the TCP socket at about `rate` bytes per second: a token bucket
// that pauses the WebSocket (ws.pause() also stops ws's own flow control from
// resuming the socket) whenever the budget runs out, and resumes it when the
// next ticks have refilled it. The client's data then piles up in the kernel
// buffers and finally in its own send buffer, which is what a
// send-backpressure test needs to see.
function throttleReading(ws, socket, rate) {
  let budget = 0;
  let last = performance.now();

  socket.on('data', (chunk) => {
    budget -= chunk.length;
    if (budget <= 0) ws.pause();
  });

  const timer = setInterval(() => {
    const now = performance.now();
    const refill = (rate * (now - last)) / 1000;
    last = now;
    budget = Math.min(budget + refill, rate * THROTTLE_BURST_SECONDS);
    if (budget > 0 && ws.isPaused) ws.resume();
  }, THROTTLE_TICK_MS);
  ws.once('close', () => clearInterval(timer));

  ws.pause();
}

// Sends `count` copies of one prebuilt payload as fast as the socket takes
// them. When ws has more than FLOOD_HIGH_WATER queued, the next send carries a
// callback (called once that message is handed to the OS) that resumes the
// loop, so memory stays bounded however large `count` is.
function flood(ws, { count, size, binary }, onDone, progress = {}) {
  const payload = Buffer.alloc(size, binary ? 0 : 'x');
  let sent = 0;
  progress.ws = ws;

  const pump = (error) => {
    if (error) return onDone();
    while (sent < count) {
      sent += 1;
      progress.sent = sent;
      if (ws.bufferedAmount >= FLOOD_HIGH_WATER) {
        ws.send(payload, { binary }, pump);
        return;
      }
      ws.send(payload, { binary });
    }
    ws.send('done');
    progress.done = true;
    onDone();
  };
  pump();
}

function isText(data, isBinary, text) {
  return !isBinary && data.length === text.length && data.toString() === text;
}

// ---------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------

// Each route has a parameter table and either `open(ws, options, socket)`,
// called as soon as the handshake completes, or a `handshake` that is not
// accepted at all ('refuse' or 'stall').
const ROUTES = {
  // Echoes every message, text as text and binary as binary.
  '/echo': {
    params: {},
    open: echo,
  },

  // Sends "0".."N-1" synchronously in the open handler, before anything can
  // interleave, to prove a client's listeners were in place before it opened.
  '/burst': {
    params: { count: integer(0, 1_000_000, 0) },
    open(ws, { count }) {
      for (let i = 0; i < count; i += 1) ws.send(String(i));
      echo(ws);
    },
  },

  // Closes cleanly with the given code and reason after `delay` ms.
  '/close': {
    params: { code: closeCode, reason: closeReason, delay },
    open(ws, options) {
      echo(ws);
      whileOpen(ws, options.delay, () => ws.close(options.code, options.reason));
    },
  },

  // Kills the TCP connection without a close frame after `delay` ms: the
  // client sees an abnormal closure (1006).
  '/drop': {
    params: { delay },
    open(ws, options) {
      echo(ws);
      whileOpen(ws, options.delay, () => ws.terminate());
    },
  },

  // Breaks the protocol after `delay` ms: a frame with a reserved opcode (3), which the
  // browser must answer by failing the connection (error, then close 1006).
  '/bad-frame': {
    params: { delay },
    open(ws, options, socket) {
      echo(ws);
      whileOpen(ws, options.delay, () => socket.write(Buffer.from([0x83, 0x00])));
    },
  },

  // Answers the handshake with an HTTP error instead of 101.
  '/refuse': {
    params: { status: refusalStatus },
    handshake: 'refuse',
  },

  // Reads the handshake and never answers it: a connect that hangs.
  '/stall': {
    params: {},
    handshake: 'stall',
  },

  // Chooses `choose` among the offered subprotocols (see chooseProtocol).
  '/protocol': {
    params: { choose: token },
    open: echo,
  },

  // A slow reader for send-backpressure tests; "stats" reports what it read.
  '/slow': {
    params: { rate: integer(1, 4096 * MiB, 16 * MiB) },
    open(ws, { rate }, socket) {
      countingSink(ws);
      throttleReading(ws, socket, rate);
    },
  },

  // A fast sink for send benchmarks: never echoes; "stats" reports counts.
  '/count': {
    params: {},
    open: countingSink,
  },

  // Where every message goes, across reconnections: a fast sink that notes the id each
  // message starts with (its leading ASCII digits) under `key`, so a test can ask which
  // messages arrived at least once (/control/tally), whatever connection carried them.
  '/tally': {
    params: { key: tallyKey },
    open(ws, { key }) {
      const tally = tallyFor(key);
      ws.on('message', (data) => {
        tally.messages += 1;
        const id = leadingNumber(data);
        if (id === null) tally.withoutId += 1;
        else tally.ids.add(id);
      });
    },
  },

  // For receive benchmarks: each "go" sends `count` messages of `size` bytes
  // then the text "done". A "go" during a flood is ignored.
  '/flood': {
    params: {
      count: integer(0, 100_000_000, 1000),
      size: integer(0, MAX_PAYLOAD, 1024),
      binary: flag(false),
      key: optional(tallyKey),
    },
    open(ws, options) {
      let flooding = false;
      ws.on('message', (data, isBinary) => {
        if (flooding || !isText(data, isBinary, 'go')) return;
        flooding = true;
        const progress = options.key === null ? {} : floodProgressFor(options.key);
        flood(ws, options, () => (flooding = false), progress);
      });
    },
  },

  // Answers "ping" with "pong" and echoes everything else.
  '/ping': {
    params: {},
    open(ws) {
      ws.on('message', (data, isBinary) => {
        if (isText(data, isBinary, 'ping')) ws.send('pong');
        else ws.send(data, { binary: isBinary });
      });
    },
  },

  // A peer that has gone quiet for heartbeats: echoes everything except the
  // text "ping", which it never answers.
  '/ping-silent': {
    params: {},
    open(ws) {
      ws.on('message', (data, isBinary) => {
        if (!isText(data, isBinary, 'ping')) ws.send(data, { binary: isBinary });
      });
    },
  },

  // A live feed for the framework examples: every `interval` ms a JSON text
  // {"tick":N,"at":MS}. N counts across all connections, so a client that
  // reconnects sees the numbers carry on rather than start again.
  '/ticker': {
    params: { interval: integer(1, 60_000, 100) },
    open(ws, { interval }) {
      const timer = setInterval(() => {
        tickCount += 1;
        ws.send(JSON.stringify({ tick: tickCount, at: Date.now() }));
      }, interval);
      ws.once('close', () => clearInterval(timer));
    },
  },

  // The demo's chat room (www/). Every text message goes to every open /chat
  // connection, the sender included: nobody shows their own message until the
  // room has it, so every page shows the room's one order. A connection first
  // gets the room's last `history` messages: reconnect delays are jittered, so
  // a page can come back after another page has already flushed what it typed
  // during an outage, and without the replay it would never see those
  // messages. Pages tell replays from news by an id inside each message; the
  // server never looks inside. Binary messages are ignored: the room is text.
  '/chat': {
    params: { history: integer(0, CHAT_HISTORY, CHAT_HISTORY) },
    open(ws, { history }) {
      for (const data of chatHistory.slice(Math.max(0, chatHistory.length - history))) {
        ws.send(data, { binary: false });
      }
      chatMembers.add(ws);
      ws.once('close', () => chatMembers.delete(ws));
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        chatHistory.push(data);
        if (chatHistory.length > CHAT_HISTORY) chatHistory.shift();
        for (const member of chatMembers) {
          if (member.readyState === WebSocket.OPEN) member.send(data, { binary: false });
        }
      });
    },
  },
};

let tickCount = 0;

// /tally's records, by key. They outlive /control/restart, as a test's count must.
const tallies = new Map();

// How far each keyed /flood got, for a test or benchmark that asks whether a client's slow
// reading slowed the server down. The newest 100 keys are kept.
const floodProgress = new Map();

function floodProgressFor(key) {
  const progress = { sent: 0, done: false, ws: null };
  floodProgress.delete(key);
  floodProgress.set(key, progress);
  if (floodProgress.size > 100) floodProgress.delete(floodProgress.keys().next().value);
  return progress;
}

// A parameter that may be left out (null then).
function optional(parse) {
  return (raw) => (raw === null ? null : parse(raw));
}

// Keys are short, so a test can pick a random one per run.
function tallyKey(raw) {
  if (raw === null || !/^[0-9A-Za-z_-]{1,64}$/.test(raw)) throw 'expected 1..64 of [0-9A-Za-z_-]';
  return raw;
}

function tallyFor(key) {
  let tally = tallies.get(key);
  if (!tally) {
    tally = { messages: 0, withoutId: 0, ids: new Set() };
    tallies.set(key, tally);
  }
  return tally;
}

// The decimal number a message starts with (at most 15 digits), or null.
function leadingNumber(data) {
  let value = 0;
  let digits = 0;
  while (digits < data.length && digits < 15 && data[digits] >= 0x30 && data[digits] <= 0x39) {
    value = value * 10 + (data[digits] - 0x30);
    digits += 1;
  }
  return digits === 0 ? null : value;
}

// Sorted ids as [first, last] ranges of consecutive numbers: compact for a test to read.
function idRanges(ids) {
  const sorted = [...ids].sort((a, b) => a - b);
  const ranges = [];
  for (const id of sorted) {
    const last = ranges[ranges.length - 1];
    if (last && id === last[1] + 1) last[1] = id;
    else ranges.push([id, id]);
  }
  return ranges;
}

// The /chat room: who is in it, and what was said last (Buffers of UTF-8 text).
// It outlives /control/restart, as a real room would outlive a reconnect.
const chatMembers = new Set();
const chatHistory = [];

// ---------------------------------------------------------------------------
// Counters for /control/stats
// ---------------------------------------------------------------------------

// Per-route handshake outcomes, so a test can assert "the client made exactly
// N attempts". Known routes are always present; unknown paths appear once hit.
let routeStats;

function resetStats() {
  // No prototype: a request for /__proto__ must be just another unknown path.
  routeStats = Object.create(null);
  for (const path of Object.keys(ROUTES)) routeStats[path] = newRouteStats();
}

function newRouteStats() {
  return { attempts: 0, accepted: 0, refused: 0, stalled: 0 };
}

function count(path, outcome) {
  routeStats[path] ??= newRouteStats();
  routeStats[path].attempts += 1;
  routeStats[path][outcome] += 1;
}

function statsReport() {
  const total = (field) => Object.values(routeStats).reduce((sum, route) => sum + route[field], 0);
  return {
    open: openWebSockets().length,
    // Handshakes /stall is holding right now; it drops to 0 once clients leave.
    stalling: stalledSockets.size,
    attempts: total('attempts'),
    accepted: total('accepted'),
    refused: total('refused'),
    stalled: total('stalled'),
    // When the server last started listening (after a /control/restart: came back), in
    // milliseconds since the epoch with sub-millisecond precision, so a client on this
    // machine can time its reconnection from the server's return.
    listeningSince,
    routes: routeStats,
  };
}

resetStats();

// ---------------------------------------------------------------------------
// The servers
// ---------------------------------------------------------------------------

// Handshake sockets that /stall holds open, so restart and shutdown can
// destroy them (they are no longer tracked by the HTTP server).
const stalledSockets = new Set();

// The route each upgrade request resolved to, for chooseProtocol.
const upgradeRoutes = new WeakMap();

const httpServer = http.createServer(handleHttpRequest);

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: MAX_PAYLOAD,
  handleProtocols: chooseProtocol,
});

let port = null;
let listeningSince = null;
let restartTimer = null;
let restarting = false;

function openWebSockets() {
  return [...wss.clients].filter((ws) => ws.readyState === WebSocket.OPEN);
}

// /protocol?choose=P picks P when offered; every route otherwise picks the
// first offered protocol. Only called when the client offered at least one;
// with none offered the handshake simply carries no protocol.
function chooseProtocol(offered, req) {
  const { options } = upgradeRoutes.get(req) ?? {};
  if (options?.choose && offered.has(options.choose)) return options.choose;
  return offered.values().next().value;
}

// Resolves an upgrade request's URL to its route and options, or to the HTTP
// status and message that refuse it.
function resolveRoute(req) {
  const url = new URL(req.url, 'http://localhost');
  const route = Object.hasOwn(ROUTES, url.pathname) ? ROUTES[url.pathname] : null;
  if (!route) return { path: url.pathname, status: 404, message: 'no such route' };
  try {
    const options = parseQuery(url.searchParams, route.params);
    return { path: url.pathname, route, options };
  } catch (message) {
    return { path: url.pathname, status: 400, message: String(message) };
  }
}

function handleUpgrade(req, socket, head) {
  // A client that vanishes mid-handshake must not crash the server.
  socket.on('error', () => {});

  const resolved = resolveRoute(req);
  const { path, route, options } = resolved;

  if (!route) {
    count(path, 'refused');
    refuseHandshake(socket, resolved.status, resolved.message);
  } else if (route.handshake === 'refuse') {
    count(path, 'refused');
    refuseHandshake(socket, options.status);
  } else if (route.handshake === 'stall') {
    count(path, 'stalled');
    stall(socket);
  } else {
    upgradeRoutes.set(req, resolved);
    wss.handleUpgrade(req, socket, head, (ws) => {
      count(path, 'accepted');
      ws.on('error', (error) => console.error(`${path}: ${error.message}`));
      route.open(ws, options, socket);
    });
  }
}

// Writes a complete HTTP error response, then closes the connection once it
// has been flushed (destroying right away could discard it).
function refuseHandshake(socket, status, message = http.STATUS_CODES[status] ?? '') {
  const reason = http.STATUS_CODES[status] ?? 'Refused';
  const body = `${message}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      '\r\n' +
      body,
    () => socket.destroy(),
  );
}

function stall(socket) {
  stalledSockets.add(socket);
  socket.on('close', () => stalledSockets.delete(socket));
  // The client going away (FIN) is the cue to let go.
  socket.on('end', () => socket.destroy());
  socket.resume();
}

// Cuts every WebSocket without a close frame and releases stalled handshakes.
function dropAllConnections() {
  const dropped = openWebSockets();
  for (const ws of dropped) ws.terminate();
  for (const socket of stalledSockets) socket.destroy();
  return dropped.length;
}

// ---------------------------------------------------------------------------
// HTTP control routes
// ---------------------------------------------------------------------------

const CONTROL = {
  '/control/stats': {
    params: {},
    run: (_, reply) => reply(200, JSON.stringify(statsReport()), 'application/json'),
  },

  '/control/reset-stats': {
    params: {},
    run(_, reply) {
      resetStats();
      reply(200, 'ok');
    },
  },

  '/control/drop-all': {
    params: {},
    run(_, reply) {
      const dropped = openWebSockets();
      for (const ws of dropped) ws.terminate();
      reply(200, String(dropped.length));
    },
  },

  '/control/flood': {
    params: { key: tallyKey },
    run({ key }, reply) {
      const progress = floodProgress.get(key);
      const report =
        progress === undefined
          ? { started: false, sent: 0, queued: 0, done: false }
          : {
              started: true,
              sent: progress.sent,
              // What ws holds for this client that the OS has not taken: the server's send
              // queue, which grows while the client does not read.
              queued: progress.ws?.bufferedAmount ?? 0,
              done: progress.done,
            };
      reply(200, JSON.stringify(report), 'application/json');
    },
  },

  '/control/tally': {
    params: { key: tallyKey },
    run({ key }, reply) {
      const tally = tallyFor(key);
      reply(
        200,
        JSON.stringify({
          messages: tally.messages,
          distinct: tally.ids.size,
          withoutId: tally.withoutId,
          ranges: idRanges(tally.ids),
        }),
        'application/json',
      );
    },
  },

  '/control/close-all': {
    params: { code: closeCode, reason: closeReason },
    run({ code, reason }, reply) {
      const closing = openWebSockets();
      for (const ws of closing) ws.close(code, reason);
      reply(200, String(closing.length));
    },
  },

  // Simulates a server restart: everything goes down (new connections are
  // refused at TCP level, existing ones are cut without a close frame) and
  // the server listens again on the same port after `down` ms.
  //
  // The listener is closed and connections are cut *before* the 200 is
  // written, so a test that has the answer knows the server is down; the
  // answer's own connection is left alone until the answer has been flushed.
  '/control/restart': {
    params: { down: delay },
    run({ down }, reply) {
      if (restarting) return reply(409, 'already restarting');
      restarting = true;
      httpServer.close();
      dropAllConnections();
      reply(200, 'ok', 'text/plain', () => {
        // Idle keep-alive connections would otherwise survive the "restart".
        httpServer.closeAllConnections();
        restartTimer = setTimeout(relisten, down);
      });
    },
  },
};

function handleHttpRequest(req, res) {
  const reply = (status, body, type = 'text/plain', afterFlush) => {
    res.writeHead(status, {
      'Content-Type': `${type}; charset=utf-8`,
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': 'no-store',
    });
    res.end(body, afterFlush);
  };

  const url = new URL(req.url, 'http://localhost');
  const control = Object.hasOwn(CONTROL, url.pathname) ? CONTROL[url.pathname] : null;

  if (req.method === 'OPTIONS') {
    res.writeHead(204, {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Allow-Methods': 'GET',
      'Access-Control-Allow-Headers': '*',
    });
    return res.end();
  }
  if (!control) {
    const isWebSocketRoute = Object.hasOwn(ROUTES, url.pathname);
    if (isWebSocketRoute) return reply(426, 'WebSocket route');
    if (staticRoot && req.method === 'GET') return serveStatic(url.pathname, res);
    return reply(404, 'no such route');
  }
  if (req.method !== 'GET') return reply(405, 'GET only');

  let options;
  try {
    options = parseQuery(url.searchParams, control.params);
  } catch (message) {
    return reply(400, String(message));
  }
  control.run(options, reply);
}

// ---------------------------------------------------------------------------
// Lifecycle
// ---------------------------------------------------------------------------

// The demo is served by this same server (--static DIR), so the page and its WebSocket
// routes share one origin and one free port.
let staticRoot = null;
// A Content-Security-Policy header for every static response (--csp POLICY), to test pages
// under a policy.
let contentSecurityPolicy = null;
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.png': 'image/png',
};

function serveStatic(pathname, res) {
  const relative = path.normalize(decodeURIComponent(pathname)).replace(/^([/\\]|\.\.)+/, '');
  let file = path.join(staticRoot, relative);
  if (!file.startsWith(staticRoot)) return notFound(res);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
  fs.readFile(file, (error, body) => {
    if (error) return notFound(res);
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    const headers = { 'Content-Type': type, 'Cache-Control': 'no-store' };
    if (contentSecurityPolicy) headers['Content-Security-Policy'] = contentSecurityPolicy;
    res.writeHead(200, headers);
    res.end(body);
  });
}

function notFound(res) {
  res.writeHead(404, { 'Content-Type': 'text/plain' });
  res.end('not found');
}

function parseArguments(argv) {
  const args = { portFile: null, exitWithStdin: false, staticRoot: null, port: 0, csp: null };
  for (let i = 0; i < argv.length; i += 1) {
    if (argv[i] === '--port-file' && i + 1 < argv.length) args.portFile = argv[++i];
    else if (argv[i] === '--exit-with-stdin') args.exitWithStdin = true;
    else if (argv[i] === '--static' && i + 1 < argv.length)
      args.staticRoot = path.resolve(argv[++i]);
    else if (argv[i] === '--port' && i + 1 < argv.length) args.port = Number(argv[++i]);
    else if (argv[i] === '--csp' && i + 1 < argv.length) args.csp = argv[++i];
    else {
      console.error(
        `usage: server.mjs [--port-file PATH] [--exit-with-stdin] [--static DIR [--csp POLICY]] [--port N]`,
      );
      process.exit(2);
    }
  }
  return args;
}

// A reader polling for the file must never see it half written.
function writePortFile(path, address) {
  const temporary = `${path}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${address}\n`);
  fs.renameSync(temporary, path);
}

function relisten() {
  restartTimer = null;
  httpServer.listen(port, HOST, () => {
    listeningSince = performance.timeOrigin + performance.now();
    restarting = false;
  });
}

// A restart's re-listen can fail if something grabbed the port meanwhile;
// that is worth an error but not a crash of every test that follows.
function onServerError(error) {
  console.error(`server: ${error.message}`);
  if (restarting && error.code === 'EADDRINUSE') {
    restartTimer = setTimeout(relisten, 100);
  } else if (port === null) {
    process.exit(1);
  }
}

function shutdown(portFile) {
  clearTimeout(restartTimer);
  httpServer.close();
  dropAllConnections();
  httpServer.closeAllConnections();
  // A stale port file would point the next reader at a dead server.
  if (portFile) fs.rmSync(portFile, { force: true });
  process.exit(0);
}

function main() {
  const args = parseArguments(process.argv.slice(2));
  staticRoot = args.staticRoot;
  contentSecurityPolicy = args.csp;

  httpServer.on('upgrade', handleUpgrade);
  httpServer.on('error', onServerError);

  // Port 0 (the default) lets the OS pick a free port; the demo may ask for a fixed one.
  httpServer.listen(args.port, HOST, () => {
    port = httpServer.address().port;
    listeningSince = performance.timeOrigin + performance.now();
    const address = `ws://${HOST}:${port}`;
    if (args.portFile) writePortFile(args.portFile, address);
    process.stdout.write(`RESOCKET_TEST_SERVER=${address}\n`);
  });

  process.on('SIGTERM', () => shutdown(args.portFile));
  process.on('SIGINT', () => shutdown(args.portFile));

  // When the parent holds our stdin open as a lifeline, its end (parent
  // crashed or exited) means nobody will ever stop us otherwise.
  if (args.exitWithStdin) {
    process.stdin.on('end', () => shutdown(args.portFile));
    process.stdin.on('error', () => shutdown(args.portFile));
    process.stdin.resume();
  }
}

main();
