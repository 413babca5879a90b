// What a browser loses when a connection ends under a page that is streaming:
//
//   node bench/close-loss.mjs [--browsers chromium,firefox] [--trials N] [--only IDS] [--json FILE]
//
// For every trial, a page (served by this script, driving the browser's own WebSocket: no
// wasm) streams 1 KiB binary messages, each carrying its sequence number, as fast as it can,
// while the server (this script, `ws`, on 127.0.0.1 and a port the OS picks) ends the
// connection at a random moment: a clean close with 1001 or 1012, or a TCP cut without a
// close frame. Per trial it records
//   sent      messages the page handed to send() on that connection,
//   buffered  the socket's bufferedAmount read in the close handler (bytes, and messages:
//             a message partly counted there counts as buffered),
//   received  messages the server received on that connection (they must be 0..k-1),
// and lost = sent - buffered - received: messages that left bufferedAmount and never arrived.
// A resocket-style ledger that re-queues the newest (bufferedAmount + W) bytes at a close
// recovers every one of them when W >= the lost bytes; "bytes max" is the W the worst trial
// needed, and "over window" counts the trials resocket's window (1 MiB) would not cover.
// "after close" is the most messages the server received after sending its close frame.
//
// Scenarios (--only, comma-separated; default all):
//   close1001-hwm1m   server closes with 1001; the page keeps bufferedAmount under 1 MiB
//                     (resocket's default high-water mark)
//   close1012-hwm1m   the same with 1012
//   close1001-hwm64k  a 64 KiB high-water mark
//   close1001-nohwm   no high-water mark: 256 messages per task whatever bufferedAmount says
//                     (stopped at 64 MiB buffered so the page cannot run out of memory)
//   close1001-paced   1 MiB/s (16 messages every 16 ms): slower than the network drains
//   close1001-slow4m  the server reads at 4 MiB/s, so the browser's buffers stay full
//   close1001-slow512k  ... at 512 KiB/s
//   drop-hwm1m        TCP cut (ws.terminate(), no close frame), 1 MiB high-water mark
//   drop-nohwm        TCP cut, no high-water mark
//   client-hwm1m      the page itself closes with 1000 (for comparison: nothing may be lost)
//
// Browsers are launched directly with the page's URL, nothing attached to the page (a
// Playwright-driven Chromium reports every frame to Playwright, which slows the sender):
// Chromium (/usr/bin/chromium, or $CHROMIUM) with a throwaway profile, Firefox
// (/usr/bin/firefox-esr, or $FIREFOX) --headless with a throwaway profile. The page POSTs its
// figures back to this script. Every loop is bounded; the run stops with an error after
// --timeout seconds per browser (default 300).

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { WebSocketServer } from 'ws';
import {
  CHROMIUM_FLAGS,
  UNTHROTTLED_FLAGS,
  writeFirefoxPrefs,
} from '../tests/support/browser-flags.mjs';

const MESSAGE_BYTES = 1024;
const KiB = 1024;
const MiB = 1024 * KiB;

// resocket's RESEND_WINDOW (src/reconnect/in_flight.rs): what the reconnecting client sends
// again beyond bufferedAmount after a close it did not start. "over window" counts the trials
// that lost more than that.
const RESEND_WINDOW = MiB;

const SCENARIOS = {
  'close1001-hwm1m': { end: 'close', code: 1001, hwm: MiB, batch: 256 },
  'close1012-hwm1m': { end: 'close', code: 1012, hwm: MiB, batch: 256 },
  'close1001-hwm64k': { end: 'close', code: 1001, hwm: 64 * KiB, batch: 256 },
  'close1001-nohwm': { end: 'close', code: 1001, hwm: 0, batch: 256 },
  'close1001-paced': { end: 'close', code: 1001, hwm: MiB, batch: 16, pace: 16 },
  'close1001-slow4m': { end: 'close', code: 1001, hwm: MiB, batch: 256, serverRate: 4 * MiB },
  'close1001-slow512k': { end: 'close', code: 1001, hwm: MiB, batch: 256, serverRate: 512 * KiB },
  'drop-hwm1m': { end: 'drop', hwm: MiB, batch: 256 },
  'drop-nohwm': { end: 'drop', hwm: 0, batch: 256 },
  'client-hwm1m': { end: 'client', code: 1000, hwm: MiB, batch: 256 },
};

// The connection ends this long after it opened, drawn uniformly per trial (ms).
const MIN_DELAY = 30;
const MAX_DELAY = 400;

function parseOptions(argv) {
  const options = {
    browsers: ['chromium', 'firefox'],
    trials: 24,
    only: Object.keys(SCENARIOS),
    json: null,
    timeout: 300,
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
      return argv[++i];
    };
    if (argv[i] === '--browsers') options.browsers = value().split(',');
    else if (argv[i] === '--trials') options.trials = Number(value());
    else if (argv[i] === '--only') options.only = value().split(',');
    else if (argv[i] === '--json') options.json = value();
    else if (argv[i] === '--timeout') options.timeout = Number(value());
    else usage(`unknown option ${argv[i]}`);
  }
  if (!Number.isInteger(options.trials) || options.trials < 1 || options.trials > 10_000) {
    usage('--trials must be an integer in 1..10000');
  }
  for (const id of options.only) if (!SCENARIOS[id]) usage(`unknown scenario ${id}`);
  for (const b of options.browsers)
    if (!['chromium', 'firefox'].includes(b)) usage(`unknown browser ${b}`);
  return options;
}

function usage(message) {
  console.error(`close-loss: ${message}`);
  console.error(
    'usage: node bench/close-loss.mjs [--browsers chromium,firefox] [--trials N] [--only IDS] [--json FILE] [--timeout S]',
  );
  process.exit(2);
}

// ---------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------

const PAGE = `<!doctype html><meta charset="utf-8"><title>close-loss</title><body><pre id="log"></pre>
<script type="module">
const MESSAGE_BYTES = ${MESSAGE_BYTES};
const NO_HWM_CAP = 64 * 1024 * 1024;
const log = (line) => { document.getElementById('log').textContent += line + '\\n'; };
const post = (route, body) => fetch(route, { method: 'POST', body: JSON.stringify(body) });

// A macrotask with no clamping (setTimeout(0) is clamped to 4 ms once nested).
const channel = new MessageChannel();
const tasks = [];
channel.port1.onmessage = () => tasks.shift()?.();
const nextTask = (f) => { tasks.push(f); channel.port2.postMessage(0); };

function trial(plan) {
  return new Promise((resolve) => {
    const ws = new WebSocket(plan.url);
    ws.binaryType = 'arraybuffer';
    const payload = new Uint8Array(MESSAGE_BYTES);
    const view = new DataView(payload.buffer);
    let sent = 0;
    let sendCalls = 0;
    let openedAt = 0;
    const pump = () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      for (let n = 0; n < plan.batch; n++) {
        const buffered = ws.bufferedAmount;
        if (plan.hwm > 0 ? buffered >= plan.hwm : buffered >= NO_HWM_CAP) break;
        view.setUint32(0, sent);
        ws.send(payload); // send() copies: reusing the buffer is safe
        sent += 1;
      }
      sendCalls += 1;
      if (plan.pace) setTimeout(pump, plan.pace);
      else nextTask(pump);
    };
    ws.onopen = () => {
      openedAt = performance.now();
      if (plan.end === 'client') setTimeout(() => ws.close(plan.code), plan.delay);
      pump();
    };
    ws.onclose = (event) => {
      const bufferedAtClose = ws.bufferedAmount;
      const closedAfter = performance.now() - openedAt;
      setTimeout(() => {
        resolve({
          id: plan.id,
          sent,
          bufferedAtClose,
          bufferedLater: ws.bufferedAmount,
          code: event.code,
          wasClean: event.wasClean,
          closedAfter,
        });
      }, 50);
    };
  });
}

const plans = await (await fetch('/plan')).json();
for (const plan of plans) {
  const result = await trial(plan);
  await post('/report', result);
  log(JSON.stringify(result));
}
await post('/done', {});
log('done');
</script>`;

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

function makePlans(options) {
  const plans = [];
  let id = 0;
  // Interleaved, so a slow phase of the machine does not fall on one scenario.
  for (let round = 0; round < options.trials; round++) {
    for (const scenario of options.only) {
      const s = SCENARIOS[scenario];
      plans.push({
        id: id++,
        scenario,
        ...s,
        delay: Math.round(MIN_DELAY + Math.random() * (MAX_DELAY - MIN_DELAY)),
      });
    }
  }
  return plans;
}

async function runBrowser(browser, options) {
  const plans = makePlans(options);
  const server = http.createServer();
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * MiB });
  const byId = new Map(plans.map((plan) => [plan.id, { plan, server: null, page: null }]));
  let resolveDone;
  const done = new Promise((resolve) => (resolveDone = resolve));

  server.on('request', (req, res) => {
    const reply = (status, body, type = 'text/plain') => {
      res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(body);
    };
    const url = new URL(req.url, 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/')
      return reply(200, PAGE, 'text/html; charset=utf-8');
    if (req.method === 'GET' && url.pathname === '/plan') {
      const withUrls = plans.map((plan) => ({
        ...plan,
        url: `ws://127.0.0.1:${port}/sink?trial=${plan.id}`,
      }));
      return reply(200, JSON.stringify(withUrls), 'application/json');
    }
    if (req.method === 'POST' && (url.pathname === '/report' || url.pathname === '/done')) {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (url.pathname === '/done') resolveDone();
        else {
          const report = JSON.parse(body);
          const entry = byId.get(report.id);
          if (entry) entry.page = report;
        }
        reply(200, 'ok');
      });
      return;
    }
    reply(404, 'no such route');
  });

  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => {});
    const url = new URL(req.url, 'http://localhost');
    const entry = byId.get(Number(url.searchParams.get('trial')));
    if (url.pathname !== '/sink' || !entry) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const counts = { received: 0, outOfOrder: 0, afterCloseSent: 0, closeSent: false };
      ws.on('error', () => {});
      ws.on('message', (data) => {
        const seq = data.length >= 4 ? data.readUInt32BE(0) : -1;
        if (seq !== counts.received) counts.outOfOrder += 1;
        counts.received += 1;
        if (counts.closeSent) counts.afterCloseSent += 1;
      });
      ws.on('close', () => {
        entry.server = counts;
      });
      const { plan } = entry;
      if (plan.serverRate) throttle(ws, socket, plan.serverRate);
      if (plan.end !== 'client') {
        setTimeout(() => {
          counts.closeSent = true;
          if (plan.end === 'drop') ws.terminate();
          else ws.close(plan.code);
        }, plan.delay);
      }
    });
  });

  const port = await new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(server.address().port)),
  );
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `close-loss-${browser}-`));
  const child = launch(browser, `http://127.0.0.1:${port}/`, profile);
  const timeout = new Promise((_, reject) =>
    setTimeout(
      () => reject(new Error(`${browser}: not done within ${options.timeout} s`)),
      options.timeout * 1000,
    ).unref(),
  );
  try {
    await Promise.race([done, timeout]);
    // The server's last close may trail the page's report by a moment.
    for (let i = 0; i < 1000 && [...byId.values()].some((e) => e.server === null); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  } finally {
    await stop(child);
    for (const ws of wss.clients) ws.terminate();
    server.closeAllConnections();
    server.close();
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
  return [...byId.values()].map(({ plan, server: s, page }) => result(plan, s, page));
}

// Reads at about `rate` bytes per second (a token bucket that pauses the WebSocket, as
// tests/server/server.mjs's /slow does), so data piles up in the kernel and the browser.
function throttle(ws, socket, rate) {
  const TICK = 10;
  let budget = 0;
  socket.on('data', (chunk) => {
    budget -= chunk.length;
    if (budget <= 0) ws.pause();
  });
  const timer = setInterval(() => {
    budget = Math.min(budget + (rate * TICK) / 1000, rate / 10);
    if (budget > 0 && ws.isPaused) ws.resume();
  }, TICK);
  ws.once('close', () => clearInterval(timer));
  // Reading must go on after the close frame is sent, or the close handshake never ends.
}

function result(plan, server, page) {
  if (!server || !page) return { plan, missing: true };
  const bufferedMessages = Math.ceil(page.bufferedAtClose / MESSAGE_BYTES);
  const lost = page.sent - bufferedMessages - server.received;
  const lostBytes = (page.sent - server.received) * MESSAGE_BYTES - page.bufferedAtClose;
  return {
    plan,
    sent: page.sent,
    buffered: page.bufferedAtClose,
    bufferedLater: page.bufferedLater,
    bufferedMessages,
    received: server.received,
    outOfOrder: server.outOfOrder,
    afterCloseSent: server.afterCloseSent,
    lost,
    lostBytes,
    code: page.code,
    wasClean: page.wasClean,
  };
}

// ---------------------------------------------------------------------------
// Browsers
// ---------------------------------------------------------------------------

function launch(browser, url, profile) {
  const log = fs.openSync(path.join(profile, 'browser.log'), 'w');
  if (browser === 'chromium') {
    const flags = [...CHROMIUM_FLAGS, ...UNTHROTTLED_FLAGS, `--user-data-dir=${profile}`, url];
    return spawn(process.env.CHROMIUM ?? '/usr/bin/chromium', flags, {
      detached: true,
      stdio: ['ignore', log, log],
    });
  }
  // A fresh profile: no first-run pages, no telemetry, and no delay between WebSocket
  // connections to a host whose last connection failed (a TCP cut counts as one).
  writeFirefoxPrefs(profile, [
    'user_pref("network.websocket.delay-failed-reconnects", false);',
    'user_pref("app.update.enabled", false);',
  ]);
  return spawn(
    process.env.FIREFOX ?? '/usr/bin/firefox-esr',
    ['--headless', '--no-remote', '--profile', profile, url],
    {
      detached: true,
      stdio: ['ignore', log, log],
    },
  );
}

// Stops the browser's whole process group and waits (at most 5 s, then SIGKILL) for it to
// exit, so its profile can be removed.
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const signal = (name) => {
    try {
      process.kill(-child.pid, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const timer = setTimeout(() => signal('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
  // Helper processes of the group may outlive the main one by a moment.
  await new Promise((resolve) => setTimeout(resolve, 200));
}

// ---------------------------------------------------------------------------
// Figures
// ---------------------------------------------------------------------------

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function table(browser, results, options) {
  const rows = [];
  for (const scenario of options.only) {
    const all = results.filter((r) => r.plan.scenario === scenario);
    const ok = all.filter((r) => !r.missing);
    const lost = ok.map((r) => r.lost);
    const lostBytes = ok.map((r) => r.lostBytes);
    rows.push([
      scenario,
      `${ok.length}/${all.length}`,
      ok.filter((r) => r.lost > 0).length,
      quantile(lost, 0.5),
      Math.max(...lost),
      fmtBytes(quantile(lostBytes, 0.5)),
      fmtBytes(Math.max(...lostBytes)),
      quantile(
        ok.map((r) => r.bufferedMessages),
        0.5,
      ),
      quantile(
        ok.map((r) => r.sent),
        0.5,
      ),
      ok.filter((r) => r.lostBytes > RESEND_WINDOW).length,
      Math.max(...ok.map((r) => r.afterCloseSent)),
      ok.reduce((n, r) => n + r.outOfOrder, 0),
      [...new Set(ok.map((r) => `${r.code}${r.wasClean ? '' : '!'}`))].join(' '),
    ]);
  }
  const header = [
    'scenario',
    'trials',
    'lossy',
    'lost med',
    'lost max',
    'bytes med',
    'bytes max',
    'buffered med',
    'sent med',
    'over window',
    'after close',
    'disorder',
    'codes',
  ];
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((row) => String(row[i]).length)),
  );
  const line = (cells) => cells.map((c, i) => String(c).padStart(widths[i])).join('  ');
  console.log(
    `\n${browser}: messages of 1 KiB; lost = sent - buffered at close - received ("!": not clean)`,
  );
  console.log(line(header));
  for (const row of rows) console.log(line(row));
}

function fmtBytes(bytes) {
  if (!Number.isFinite(bytes)) return String(bytes);
  if (Math.abs(bytes) >= MiB) return `${(bytes / MiB).toFixed(2)} MiB`;
  if (Math.abs(bytes) >= KiB) return `${(bytes / KiB).toFixed(1)} KiB`;
  return `${bytes} B`;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const all = {};
  console.log(
    `close-loss: ${options.trials} trials per scenario, close ${MIN_DELAY}..${MAX_DELAY} ms after open`,
  );
  for (const browser of options.browsers) {
    const started = performance.now();
    const results = await runBrowser(browser, options);
    all[browser] = results;
    table(browser, results, options);
    console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
  }
  if (options.json) fs.writeFileSync(options.json, JSON.stringify(all, null, 1));
}

main().catch((error) => {
  console.error(`close-loss: ${error.message}`);
  process.exit(1);
});
