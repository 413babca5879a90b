// What WebSocketStream (issue 14's receive backpressure) can do for resocket, measured in
// each browser before any Rust is written for it:
//
//   node bench/stream-probe.mjs [--browsers chromium,firefox] [--rounds N]
//
// Starts tests/server/server.mjs (127.0.0.1, a port the OS picks), launches each browser
// headless on a page of its own (bench/page/stream-probe.html, plain JavaScript, nothing
// attached to the page) and prints messages per second received (32 B text and 64 KiB
// binary, from /flood) and sent (32 B, to /count) through the browser's WebSocket and
// through WebSocketStream, round by round, with the median ratio stream / events, and the
// writer's desiredSize when open. A browser without WebSocketStream says so.
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { CHROMIUM_FLAGS } from '../tests/support/browser-flags.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : fallback;
};
const browsers = option('--browsers', 'chromium,firefox').split(',');
const rounds = Number(option('--rounds', '3'));
// --memory [SECONDS]: the memory scenario instead (Chromium only: it has WebSocketStream), for
// the browser's two APIs in plain JavaScript and resocket's Rust WebSocket on either path.
const memorySeconds = args.includes('--memory') ? Number(option('--memory', '20')) || 20 : null;

/** The resident memory (VmRSS, bytes) of every renderer process under `pid`. */
function rendererRss(pid) {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(entry));
    } catch {
      // The process ended meanwhile.
    }
  }
  let total = 0;
  const visit = (p) => {
    for (const child of children.get(p) ?? []) {
      try {
        const cmdline = fs.readFileSync(`/proc/${child}/cmdline`, 'utf8');
        if (cmdline.includes('--type=renderer')) {
          const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child}/status`, 'utf8'));
          total += rss ? Number(rss[1]) * 1024 : 0;
        }
      } catch {
        // Gone.
      }
      visit(child);
    }
  };
  visit(pid);
  return total;
}

async function startTestServer(dir) {
  const portFile = path.join(dir, 'server');
  const child = spawn(
    process.execPath,
    [path.join(ROOT, 'tests/server/server.mjs'), '--port-file', portFile],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100 && !fs.existsSync(portFile); i++)
    await new Promise((r) => setTimeout(r, 100));
  return { child, address: fs.readFileSync(portFile, 'utf8').trim() };
}

function launch(browser, url, dir) {
  const profile = fs.mkdtempSync(path.join(dir, `${browser}-`));
  if (browser === 'chromium') {
    return spawn(
      process.env.CHROMIUM ?? '/usr/bin/chromium',
      [...CHROMIUM_FLAGS, '--enable-precise-memory-info', `--user-data-dir=${profile}`, url],
      { stdio: 'ignore' },
    );
  }
  return spawn(
    process.env.FIREFOX ?? 'firefox-esr',
    ['--headless', '--no-remote', '--profile', profile, url],
    {
      stdio: 'ignore',
    },
  );
}

function figuresFrom(browser, server, dir, query = `rounds=${rounds}`) {
  return new Promise((resolve, reject) => {
    let child;
    const samples = [];
    const page = http.createServer((req, res) => {
      const name = req.url.split('?')[0].slice(1);
      if (req.method === 'POST' && name === 'sample') {
        let body = '';
        req.on('data', (chunk) => (body += chunk));
        req.on('end', async () => {
          const sample = { ...JSON.parse(body), rss: rendererRss(child.pid) };
          // The server's send queue for this flood: what it holds because the page does not
          // take it.
          const progress = await fetch(
            `${server.replace(/^ws/, 'http')}/control/flood?key=${sample.key}`,
          ).then(
            (answer) => answer.json(),
            () => ({}),
          );
          samples.push({ ...sample, serverQueued: progress.queued ?? null });
          res.end();
        });
        return;
      }
      if (req.method === 'POST' && name === 'figures') {
        let body = '';
        req.on('data', (chunk) => (body += chunk));
        req.on('end', () => {
          res.end();
          child.kill('SIGKILL');
          page.close();
          resolve({ ...JSON.parse(body), samples });
        });
        return;
      }
      // The page, and the bench module for the Rust subjects (bench/pkg, by scripts/bench).
      const inPkg = name.startsWith('bench/pkg/') && !name.includes('..');
      const file = inPkg
        ? path.join(ROOT, name)
        : path.join(ROOT, 'bench/page', path.basename(name));
      if (!inPkg && !['stream-probe.html', 'stream-probe.js'].includes(path.basename(name))) {
        res.writeHead(404);
        return res.end();
      }
      if (!fs.existsSync(file)) {
        res.writeHead(404);
        return res.end();
      }
      const types = { js: 'text/javascript', wasm: 'application/wasm', html: 'text/html' };
      res.writeHead(200, { 'content-type': types[name.split('.').pop()] ?? 'text/plain' });
      res.end(fs.readFileSync(file));
    });
    page.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${page.address().port}/stream-probe.html?server=${encodeURIComponent(server)}&${query}`;
      child = launch(browser, url, dir);
      setTimeout(() => reject(new Error(`${browser}: no figures within 300 s`)), 300_000).unref();
    });
  });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-stream-probe-'));
const server = await startTestServer(dir);
const MiB = 1024 * 1024;
const mib = (bytes) => (bytes === null || bytes === undefined ? 'n/a' : (bytes / MiB).toFixed(1));
try {
  if (memorySeconds !== null) {
    console.log(
      `memory: 256 MiB offered in 64 KiB messages, one consumed every 50 ms, ${memorySeconds} s (Chromium)`,
    );
    console.log(
      'subject | s | consumed | held by the page | renderer RSS MiB | JS heap MiB | wasm memory MiB | server send queue MiB',
    );
    const built = fs.existsSync(path.join(ROOT, 'bench/pkg/resocket_bench.js'));
    if (!built) console.log('(no bench/pkg: run scripts/bench once for the Rust subjects)');
    const subjects = ['events', 'stream', ...(built ? ['rust-events', 'rust-stream'] : [])];
    for (const subject of subjects) {
      const figures = await figuresFrom(
        'chromium',
        server.address,
        dir,
        `memory=${subject}&seconds=${memorySeconds}`,
      );
      if (figures.error) console.log(`  ${subject}: error: ${figures.error}`);
      for (const sample of figures.samples) {
        console.log(
          `${subject} | ${sample.t} | ${sample.consumed} | ${sample.waiting ?? 'n/a'} | ${mib(sample.rss)} | ${mib(sample.jsHeap)} | ${mib(sample.wasmMemory)} | ${mib(sample.serverQueued)}`,
        );
      }
    }
  }
  for (const browser of memorySeconds === null ? browsers : []) {
    const figures = await figuresFrom(browser, server.address, dir);
    console.log(`${browser} (${figures.userAgent})`);
    if (!figures.webSocketStream) {
      console.log('  no WebSocketStream');
      continue;
    }
    if (figures.error) console.log(`  error: ${figures.error}`);
    for (const kind of ['receive 32 B', 'receive 65536 B', 'send 32 B']) {
      const events = figures[`${kind}: events`] ?? [];
      const stream = figures[`${kind}: stream`] ?? [];
      const ratios = stream.map((value, i) => value / events[i]);
      console.log(
        `  ${kind.padEnd(16)} msgs/s events ${events.join(' ')} | stream ${stream.join(' ')} | median ratio ${median(ratios).toFixed(2)}`,
      );
    }
    console.log(
      `  writer desiredSize when open: ${figures.writerDesiredSizeWhenOpen}; waits for ready per message: ${figures.writerWaitsPerMessage}`,
    );
  }
} finally {
  server.child.kill();
  fs.rmSync(dir, { recursive: true, force: true });
}
