// Does this Chromium survive a WebSocketStream whose connection is reset while a write waits?
//
//   node bench/stream-reset-probe.mjs [--trials N]
//
// Found 2026-12-05 with Chromium 156: the tab crashes ("Target crashed") when the server cuts
// the TCP connection (no close frame) while a `writer.write()` has not resolved, which is what
// happens whenever the network is slower than the sender. resocket's `Receive::Backpressure`
// (`receive: 'backpressure'`) reads and writes through WebSocketStream, so its README warns of
// this; run this probe again on a newer Chromium to see whether the warning still holds.
//
// Cases, each in a fresh browser, on a page that uses nothing but WebSocketStream:
//   reset-pending   the server stops reading, the page writes 64 KiB messages until a write
//                   has waited 300 ms, then the server cuts the connection
//   reset-idle      the server cuts the connection while no write is pending (control)
//   close-pending   as reset-pending, but the server closes cleanly with 1001 (control)
// A page that survives reports how its stream ended, and every 250 ms that it still runs; one
// whose reports stop counts as crashed, one that runs but whose stream has not ended 10 s
// after the cut as hung. Chromium is launched directly (nothing attached to the page):
// /usr/bin/chromium, or $CHROMIUM, with a throwaway profile.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocketServer } from 'ws';
import { CHROMIUM_FLAGS, UNTHROTTLED_FLAGS } from '../tests/support/browser-flags.mjs';

const CASES = ['reset-pending', 'reset-idle', 'close-pending'];
const REPORT_SECONDS = 10;
const trials = Number(process.argv[process.argv.indexOf('--trials') + 1] || 3);

const PAGE = `<!doctype html><script type="module">
const mode = new URLSearchParams(location.search).get('mode');
const report = (what, body) => fetch('/' + what, { method: 'POST', body });
if (typeof WebSocketStream !== 'function') {
  report('after', 'no WebSocketStream in this browser');
} else {
  const stream = new WebSocketStream('ws://' + location.host + '/ws');
  const { writable } = await stream.opened;
  const writer = writable.getWriter();
  let written = 0;
  if (mode !== 'reset-idle') {
    // Write until one write has waited 300 ms: the server reads nothing, so the network fills.
    const message = new Uint8Array(64 * 1024);
    for (;;) {
      const done = writer.write(message).then(() => true, () => true);
      const waited = await Promise.race([done, new Promise((r) => setTimeout(() => r(false), 300))]);
      if (!waited) break;
      written++;
    }
  }
  report('ready', String(written));
  // A page that still runs says so, so that a stream that never ends is told from a crash.
  setInterval(() => report('alive', ''), 250);
  const ended = await stream.closed.then(
    (info) => 'closed cleanly with ' + info.closeCode,
    (error) => 'failed: ' + error.message,
  );
  report('after', ended);
}
</script>`;

async function runCase(mode) {
  let socket = null;
  let lastAlive = 0;
  let resolveReady;
  let resolveAfter;
  const ready = new Promise((resolve) => (resolveReady = resolve));
  const after = new Promise((resolve) => (resolveAfter = resolve));
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      if (request.url === '/ready') resolveReady(body);
      else if (request.url === '/alive') lastAlive = Date.now();
      else if (request.url === '/after') resolveAfter(body);
      response.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
    });
  });
  const wss = new WebSocketServer({ server, path: '/ws' });
  wss.on('connection', (ws) => {
    socket = ws;
    ws._socket.pause(); // read nothing: the page's writes back up
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-reset-probe-'));
  const url = `http://127.0.0.1:${server.address().port}/?mode=${mode}`;
  const browser = spawn(
    process.env.CHROMIUM ?? '/usr/bin/chromium',
    [...CHROMIUM_FLAGS, ...UNTHROTTLED_FLAGS, `--user-data-dir=${profile}`, url],
    { stdio: 'ignore' },
  );
  try {
    const written = await Promise.race([ready, sleep(30_000).then(() => null)]);
    if (written === null) return { mode, outcome: 'the page never got ready' };
    if (mode === 'close-pending') {
      socket._socket.resume();
      socket.close(1001, '');
    } else {
      socket.terminate();
    }
    const cut = Date.now();
    const outcome = await Promise.race([
      after,
      sleep(REPORT_SECONDS * 1000).then(() =>
        lastAlive > cut + 1000
          ? `hung: the page runs, its stream has not ended ${REPORT_SECONDS} s after the cut`
          : `CRASHED: the page stopped running ${lastAlive > cut ? lastAlive - cut : 0} ms after the cut`,
      ),
    ]);
    return { mode, written: Number(written), outcome };
  } finally {
    browser.kill('SIGKILL');
    wss.close();
    server.closeAllConnections();
    server.close();
    await sleep(200);
    fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}

const version = await new Promise((resolve) => {
  const child = spawn(process.env.CHROMIUM ?? '/usr/bin/chromium', ['--version']);
  let out = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.on('exit', () => resolve(out.trim()));
});
console.log(`${version}: WebSocketStream, the connection cut or closed by the server`);
console.log('case            trial  writes resolved before  outcome');
for (const mode of CASES) {
  for (let trial = 1; trial <= trials; trial++) {
    const { written, outcome } = await runCase(mode);
    console.log(
      `${mode.padEnd(16)}${String(trial).padEnd(7)}${String(written ?? '-').padEnd(24)}${outcome}`,
    );
  }
}
