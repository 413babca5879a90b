// The benchmark runner: node bench/run.mjs [options]   (scripts/bench builds everything first)
//
// Starts the test server (tests/server/server.mjs, serving the repository as static files),
// measures the server's own rates against a Node `ws` client, then opens bench/page/ in a
// headless Chromium it launches itself, with nothing attached to the page (Playwright would
// have Chromium report every WebSocket frame, which halves the rates). The page runs every
// round by itself; around each run it asks this runner for CPU times, which are read from
// /proc: the renderer processes' utime+stime (all threads) and their main thread's run time
// (/proc/PID/schedstat, ns), the server's, and the rest of Chromium's. At the end the page
// posts its figures here and this prints the tables and the goals. Then come the cold page
// loads (bench/page/cold.html): a fresh Chromium and profile for each, raw and the npm package
// alternating, timed from navigation start to the first open.
//
// Options (also as environment variables BENCH_ROUNDS, BENCH_SCALE):
//   --rounds N        rounds of interleaved subjects (default 7)
//   --scale X         multiplies every message count (default 1; 0.1 for a quick look)
//   --only IDS        scenarios, comma-separated (recv-text32, recv-bin1k, recv-bin64k,
//                     send-bin1k, echo-text32, reconnect, memory, held, cold)
//   --subjects IDS    subjects, comma-separated (raw, rust, rustStream, js, raw2; memory: rust-socket,
//                     js-counted)
//   --profile         records a CPU profile (CDP Profiler, sampling every 100 µs) of each run
//                     and prints where the time goes; use with --only and --subjects
//   --pkg URL --benchpkg URL   other builds to load (for profiling builds with names)
//   --pkg-b URL       another build of the npm package's entry (a URL under the repository,
//                     e.g. /target/x/index.js), run as one more subject, "jsB", in the same
//                     rounds: how a change to the class compares, interleaved
//   --json FILE       also writes the raw figures

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { WebSocket } from 'ws';
import { throughputScenarios } from './page/scenarios.mjs';
import { gzipSize } from '../scripts/gzip-size.mjs';
import { CHROMIUM_FLAGS, UNTHROTTLED_FLAGS } from '../tests/support/browser-flags.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

// ---------------------------------------------------------------------------
// Options
// ---------------------------------------------------------------------------

function parseOptions(argv) {
  const options = {
    rounds: Number(process.env.BENCH_ROUNDS ?? 7),
    scale: Number(process.env.BENCH_SCALE ?? 1),
    only: null,
    subjects: null,
    profile: false,
    pkg: null,
    pkgB: null,
    benchpkg: null,
    json: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const value = () => {
      if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case '--rounds':
        options.rounds = Number(value());
        break;
      case '--scale':
        options.scale = Number(value());
        break;
      case '--only':
        options.only = value();
        break;
      case '--subjects':
        options.subjects = value();
        break;
      case '--profile':
        options.profile = true;
        break;
      case '--pkg':
        options.pkg = value();
        break;
      case '--pkg-b':
        options.pkgB = value();
        break;
      case '--benchpkg':
        options.benchpkg = value();
        break;
      case '--json':
        options.json = value();
        break;
      default:
        usage(`unknown option ${argv[i]}`);
    }
  }
  if (!(options.rounds >= 1) || !(options.scale > 0))
    usage('--rounds must be 1 or more, --scale above 0');
  return options;
}

function usage(message) {
  console.error(
    `bench: ${message}\nusage: node bench/run.mjs [--rounds N] [--scale X] [--only IDS] [--subjects IDS] [--profile] [--json FILE]`,
  );
  process.exit(2);
}

const say = (line) => process.stderr.write(`[bench] ${line}\n`);

// ---------------------------------------------------------------------------
// The test server
// ---------------------------------------------------------------------------

async function startServer(scratch) {
  const portFile = path.join(scratch, 'server-address');
  // --exit-with-stdin: the server ends with this process, whatever happens to it.
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'tests/server/server.mjs'),
      '--static',
      ROOT,
      '--port-file',
      portFile,
      '--exit-with-stdin',
    ],
    { stdio: ['pipe', 'ignore', 'inherit'] },
  );
  for (let i = 0; i < 100 && !fs.existsSync(portFile); i++) await sleep(50);
  if (!fs.existsSync(portFile)) throw new Error('the test server did not start');
  const ws = fs.readFileSync(portFile, 'utf8').trim();
  return { child, ws, http: ws.replace(/^ws:/, 'http:'), stop: () => child.stdin.end() };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------
// The server's own rates, against a Node ws client in this process
// ---------------------------------------------------------------------------

function nodeReceive(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    let messages = 0;
    let bytes = 0;
    let start = 0;
    ws.on('open', () => {
      start = performance.now();
      ws.send('go');
    });
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.length === 4 && data.toString() === 'done') {
        resolve({ messages, bytes, ms: performance.now() - start });
        ws.close();
        return;
      }
      messages += 1;
      bytes += data.length;
    });
    ws.on('error', reject);
  });
}

async function nodeSend(url, count, size) {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const payload = Buffer.alloc(size);
  const answer = new Promise((resolve) => ws.once('message', (data) => resolve(JSON.parse(data))));
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    if (ws.bufferedAmount > 1 << 20) await new Promise((resolve) => ws.send(payload, resolve));
    else ws.send(payload);
  }
  ws.send('stats');
  const stats = await answer;
  const ms = performance.now() - start;
  ws.close();
  return { messages: stats.messages, bytes: stats.bytes, ms };
}

async function serverCapacity(server, scenarios) {
  const results = {};
  for (const scenario of scenarios) {
    const rates = [];
    for (let i = 0; i < 3; i++) {
      const run =
        scenario.kind === 'receive'
          ? await nodeReceive(
              `${server.ws}/flood?count=${scenario.count}&size=${scenario.size}&binary=${scenario.binary}`,
            )
          : await nodeSend(`${server.ws}/count`, scenario.count, scenario.size);
      rates.push(run.messages / (run.ms / 1000));
    }
    results[scenario.id] = median(rates);
  }
  return results;
}

// ---------------------------------------------------------------------------
// CPU times from /proc
// ---------------------------------------------------------------------------

const TICK_MS = 10; // USER_HZ is 100 on Linux

function readStat(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuMs: (Number(fields[11]) + Number(fields[12])) * TICK_MS };
  } catch {
    return null;
  }
}

function readCmdline(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}

/** Run time of a process's main thread, in ms (ns precision). */
function mainThreadMs(pid) {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return 0;
  }
}

/** Every process descended from `root`, with its stat. */
function descendants(root) {
  const stats = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat) stats.set(Number(entry), stat);
  }
  const result = [];
  const wanted = new Set([root]);
  // Parents have smaller pids almost always, but not surely: iterate to a fixed point.
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, stat] of stats) {
      if (!wanted.has(pid) && wanted.has(stat.ppid)) {
        wanted.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of wanted) if (stats.has(pid)) result.push({ pid, ...stats.get(pid) });
  return result;
}

/** The whole machine's CPU jiffies from /proc/stat: total, and stolen by the hypervisor. */
function machineJiffies() {
  const fields = fs
    .readFileSync('/proc/stat', 'utf8')
    .split('\n')[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const total = fields.slice(0, 8).reduce((sum, value) => sum + value, 0);
  return { total, steal: fields[7] ?? 0, idle: fields[3] + fields[4] };
}

function cpuSnapshot(browserPid, serverPid) {
  let renderer = 0;
  let rendererMain = 0;
  let chromium = 0;
  for (const child of descendants(browserPid)) {
    if (readCmdline(child.pid).includes('--type=renderer')) {
      renderer += child.cpuMs;
      rendererMain += mainThreadMs(child.pid);
    } else {
      chromium += child.cpuMs;
    }
  }
  const machine = machineJiffies();
  const runner = process.cpuUsage();
  return {
    wall: performance.now(),
    renderer,
    rendererMain,
    chromium,
    server: readStat(serverPid)?.cpuMs ?? NaN,
    runner: (runner.user + runner.system) / 1000,
    machineTotal: machine.total,
    machineSteal: machine.steal,
    machineIdle: machine.idle,
  };
}

// ---------------------------------------------------------------------------
// CDP, for --profile only: a raw DevTools connection to the page, Profiler domain only
// ---------------------------------------------------------------------------

async function devtoolsPage(userDataDir, pageUrlPrefix) {
  const portFile = path.join(userDataDir, 'DevToolsActivePort');
  for (let i = 0; i < 100 && !fs.existsSync(portFile); i++) await sleep(50);
  const port = fs.readFileSync(portFile, 'utf8').split('\n')[0];
  const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const target = targets.find((t) => t.type === 'page' && t.url.startsWith(pageUrlPrefix));
  if (!target) throw new Error('no page target for profiling');
  const ws = new WebSocket(target.webSocketDebuggerUrl, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let id = 0;
  const pending = new Map();
  ws.on('message', (data) => {
    const message = JSON.parse(data);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      if (message.error) reject(new Error(message.error.message));
      else resolve(message.result);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve, reject) => {
      id += 1;
      pending.set(id, { resolve, reject });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  return { send, close: () => ws.close() };
}

/** Self time per function, and per kind of code, from a CPU profile. */
function summariseProfile(profile, label) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    self.set(profile.samples[i], (self.get(profile.samples[i]) ?? 0) + delta);
  }
  const byFunction = new Map();
  const byKind = new Map();
  for (const [nodeId, time] of self) {
    const frame = nodes.get(nodeId).callFrame;
    const file = frame.url ? frame.url.replace(/^.*\//, '') : '';
    const name = `${frame.functionName || '(anonymous)'}${file ? ` [${file}${frame.lineNumber >= 0 ? `:${frame.lineNumber + 1}` : ''}]` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + time);
    let kind;
    if (frame.url.startsWith('wasm://')) kind = 'wasm';
    else if (frame.functionName === '(idle)') kind = 'idle';
    else if (frame.functionName === '(garbage collector)') kind = 'gc';
    else if (frame.functionName === '(program)') kind = 'program (browser internals)';
    else if (frame.url.includes('/bench/page/')) kind = 'page JS';
    else if (frame.url) kind = `JS ${file}`;
    else kind = `native ${frame.functionName}`;
    byKind.set(kind, (byKind.get(kind) ?? 0) + time);
  }
  const busy = total - (byKind.get('idle') ?? 0);
  const lines = [
    `profile ${label}: ${(total / 1000).toFixed(0)} ms sampled, ${(busy / 1000).toFixed(0)} ms busy`,
  ];
  lines.push('  by kind (share of busy time):');
  for (const [kind, time] of [...byKind].sort((a, b) => b[1] - a[1])) {
    if (kind === 'idle') continue;
    lines.push(`    ${((100 * time) / busy).toFixed(1).padStart(5)}%  ${kind}`);
  }
  lines.push('  top functions by self time:');
  for (const [name, time] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    if (name.startsWith('(idle)')) continue;
    lines.push(`    ${((100 * time) / busy).toFixed(1).padStart(5)}%  ${name}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------------------
// The page's HTTP endpoint: CPU times, log lines, the report
// ---------------------------------------------------------------------------

function startRunnerEndpoint(state) {
  let resolveReport;
  const report = new Promise((resolve) => (resolveReport = resolve));
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', async () => {
      const reply = (status, text, type = 'text/plain') => {
        res.writeHead(status, {
          'Content-Type': type,
          'Access-Control-Allow-Origin': '*',
          'Cache-Control': 'no-store',
        });
        res.end(text);
      };
      try {
        switch (req.url) {
          case '/cpu':
            return reply(
              200,
              JSON.stringify(cpuSnapshot(state.browserPid, state.serverPid)),
              'application/json',
            );
          case '/log':
            say(body);
            return reply(200, 'ok');
          case '/report':
            resolveReport(JSON.parse(body));
            return reply(200, 'ok');
          case '/cold':
            state.coldWaiters.shift()?.(JSON.parse(body));
            return reply(200, 'ok');
          case '/profile/start':
            await state.devtools.send('Profiler.start');
            return reply(200, 'ok');
          case '/profile/stop': {
            const { profile } = await state.devtools.send('Profiler.stop');
            state.profiles.push(summariseProfile(profile, body));
            return reply(200, 'ok');
          }
          default:
            return reply(404, 'no such route');
        }
      } catch (error) {
        reply(500, String(error));
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${server.address().port}`, report }),
    );
  });
}

// ---------------------------------------------------------------------------
// Chromium
// ---------------------------------------------------------------------------

function launchChromium(url, userDataDir, logFile) {
  const flags = [
    ...CHROMIUM_FLAGS,
    ...UNTHROTTLED_FLAGS,
    // gc() between runs, and exact JS heap sizes for the memory run.
    '--js-flags=--expose-gc',
    '--enable-precise-memory-info',
    `--user-data-dir=${userDataDir}`,
    '--remote-debugging-port=0',
    url,
  ];
  const log = fs.openSync(logFile, 'w');
  // Its own process group, so every Chromium process goes when it is stopped.
  return spawn(CHROMIUM, flags, { detached: true, stdio: ['ignore', log, log] });
}

// ---------------------------------------------------------------------------
// Cold page loads: a fresh Chromium with a fresh profile for each, so nothing is cached
// (HTTP cache, V8 code cache, compiled wasm), raw and js alternating round by round.
// ---------------------------------------------------------------------------

const COLD_WAIT_MS = 30_000;

async function coldLoads(server, runner, state, rounds, scratch) {
  const results = { raw: [], js: [] };
  for (let round = 0; round < rounds; round++) {
    for (const subject of round % 2 ? ['js', 'raw'] : ['raw', 'js']) {
      const profile = fs.mkdtempSync(path.join(scratch, 'cold-profile-'));
      const figure = new Promise((resolve) => state.coldWaiters.push(resolve));
      const query = new URLSearchParams({ subject, runner: runner.url });
      const chromium = launchChromium(
        `${server.http}/bench/page/cold.html?${query}`,
        profile,
        path.join(scratch, 'cold-chromium.log'),
      );
      const exited = new Promise((resolve) => chromium.once('exit', resolve));
      const result = await Promise.race([
        figure,
        sleep(COLD_WAIT_MS).then(() => ({ error: `no figure within ${COLD_WAIT_MS} ms` })),
      ]);
      state.coldWaiters.length = 0;
      stopChromium(chromium);
      await Promise.race([exited, sleep(5_000)]);
      fs.rmSync(profile, { recursive: true, force: true });
      if (result.error) throw new Error(`cold load, ${subject}: ${result.error}`);
      results[subject].push(result);
    }
  }
  return results;
}

function printCold(results, rounds) {
  const opens = (subject) => results[subject].map((result) => result.openMs);
  const extra = median(opens('js')) - median(opens('raw'));
  const js = (field) =>
    spread(
      results.js.map((result) => result[field]),
      1,
    );
  const rows = [
    [
      'raw WebSocket',
      spread(
        results.raw.map((result) => result.moduleMs),
        1,
      ),
      'n/a',
      'n/a',
      spread(opens('raw'), 1),
      '',
    ],
    [
      'JS ReconnectingWebSocket (npm package)',
      js('moduleMs'),
      `${js('wasmStartMs')} → ${js('wasmEndMs')}`,
      js('readyMs'),
      spread(opens('js'), 1),
      `${signed(extra)} ms`,
    ],
  ];
  return [
    `### Cold page load: navigation start to the first open of /echo (fresh Chromium and profile each time, ${rounds} rounds, median (min–max) ms)`,
    '',
    table(
      ['subject', 'page script runs', 'wasm fetched', 'wasm ready', 'first open', 'vs raw'],
      rows,
      ['l'],
    ),
    '',
    `${extra <= 50 ? 'PASS' : 'MISS'}  JS class cold load <= raw + 50 ms: ${signed(extra)} ms (medians)`,
  ].join('\n');
}

function stopChromium(chromium) {
  try {
    process.kill(-chromium.pid, 'SIGTERM');
  } catch {
    // already gone
  }
}

// ---------------------------------------------------------------------------
// Statistics and tables
// ---------------------------------------------------------------------------

function median(values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

const min = (values) => Math.min(...values.filter(Number.isFinite));
const max = (values) => Math.max(...values.filter(Number.isFinite));

function format(value, digits) {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** "median (min–max)" */
function spread(values, digits = 0) {
  if (values.length === 1) return format(values[0], digits);
  return `${format(median(values), digits)} (${format(min(values), digits)}–${format(max(values), digits)})`;
}

function table(headers, rows, align) {
  const lines = [`| ${headers.join(' | ')} |`];
  lines.push(`| ${headers.map((_, i) => (align?.[i] === 'l' ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  return lines.join('\n');
}

const SUBJECT_NAMES = {
  raw: 'raw WebSocket',
  rust: 'Rust Stream/Sink',
  rustStream: 'Rust Stream/Sink on WebSocketStream (Receive::Backpressure)',
  js: 'JS ReconnectingWebSocket',
  raw2: 'raw ×2 at once (aggregate)',
  jsB: 'JS ReconnectingWebSocket, build B (--pkg-b)',
};
const RECONNECT_NAMES = {
  raw: 'raw WebSocket, reconnect by hand',
  rust: 'Rust Reconnecting',
  js: 'JS ReconnectingWebSocket',
  jsB: 'JS ReconnectingWebSocket, build B (--pkg-b)',
};
const SCENARIO_NAMES = {
  'recv-text32': 'receive 32 B text',
  'recv-bin1k': 'receive 1 KiB binary',
  'recv-bin64k': 'receive 64 KiB binary',
  'send-bin1k': 'send 1 KiB binary',
  'echo-text32': 'echo 32 B text',
};

function jsFiles(dir, entries) {
  const files = entries.map((entry) => path.join(dir, entry));
  const snippets = path.join(dir, 'snippets');
  if (fs.existsSync(snippets)) {
    for (const entry of fs.readdirSync(snippets, { recursive: true })) {
      if (entry.endsWith('.js')) files.push(path.join(snippets, entry));
    }
  }
  return files;
}

function sizes() {
  const builds = [
    [
      'socket',
      'minimal app, single connection (bench/apps/socket)',
      'bench/apps/socket/pkg',
      'resocket_app_socket',
    ],
    [
      'floor',
      'the same app on web-sys alone, no resocket (bench/apps/floor)',
      'bench/apps/floor/pkg',
      'resocket_app_floor',
    ],
    [
      'reconnecting',
      'minimal app, reconnecting (bench/apps/reconnecting)',
      'bench/apps/reconnecting/pkg',
      'resocket_app_reconnecting',
    ],
    // What a page loads: the entry (the glue, the class and its options bundled in).
    ['package', 'npm package (pkg/)', 'pkg', 'resocket', ['index.js']],
  ];
  return builds.map(([id, label, dir, name, only = null]) => {
    const full = path.join(ROOT, dir);
    const wasm = gzipSize([path.join(full, `${name}_bg.wasm`)]);
    const js = gzipSize(
      only ? only.map((file) => path.join(full, file)) : jsFiles(full, [`${name}.js`]),
    );
    return { id, label, wasm, js, total: wasm.gz + js.gz };
  });
}

const KB = 1024;
const GOALS = { socketAppGz: 16 * KB, packageGz: 40 * KB };

function printReport(report, capacity, loads, sizeRows) {
  const { environment, runs, memory, apps } = report;
  const out = [];
  const verdicts = [];
  const goal = (ok, text) => verdicts.push(`${ok ? 'PASS' : 'MISS'}  ${text}`);

  const chromium = environment.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? '?';
  out.push(
    `resocket benchmark: Chromium ${chromium} headless, ${os.cpus().length} CPUs (${os.cpus()[0]?.model.trim()}), ` +
      `Node ${process.version}`,
  );
  const before = process.env.BENCH_LOAD_BEFORE
    ? `before the build ${process.env.BENCH_LOAD_BEFORE}, `
    : '';
  out.push(
    `load average (1 min) ${before}when the runs started ${loads.start.toFixed(2)}, at the end ${loads.end.toFixed(2)}; ` +
      `${environment.rounds} rounds, subjects interleaved (order rotated every round), scale ${environment.scale}`,
  );
  out.push(
    'Figures: median (min–max) over rounds. Ratios are taken in the same round against the raw ' +
      'WebSocket, then their median. CPU: the renderer process, all threads (utime+stime from /proc), and its ' +
      'main thread alone (/proc/PID/schedstat), per message, over the whole run.',
  );
  const timed = runs.filter((run) => run.cpu.machineTotal > 0);
  if (timed.length) {
    const steal = timed.map((run) => (100 * run.cpu.machineSteal) / run.cpu.machineTotal);
    const busy = timed.map((run) => 100 - (100 * run.cpu.machineIdle) / run.cpu.machineTotal);
    // Everything the machine ran that was not the benchmark (Chromium, the server, this runner).
    const others = timed.map((run) => {
      const busyMs = (run.cpu.machineTotal - run.cpu.machineIdle - run.cpu.machineSteal) * TICK_MS;
      const ours = run.cpu.renderer + run.cpu.chromium + run.cpu.server + run.cpu.runner;
      return (100 * Math.max(0, busyMs - ours)) / run.cpu.wall;
    });
    out.push(
      `During the runs: both CPUs ${format(median(busy), 0)}% busy (median; mostly the benchmark itself); other ` +
        `processes used ${format(median(others), 0)}% of one CPU (median, max ${format(max(others), 0)}%); CPU time stolen by ` +
        `the hypervisor median ${format(median(steal), 1)}%, max ${format(max(steal), 1)}%.`,
    );
  }
  if (apps && Object.keys(apps).length) {
    out.push(
      `Minimal apps checked against /echo: single connection read ${apps.socket} bytes back, ` +
        `reconnecting got ${apps.reconnecting} answers; the web-sys floor app read ${apps.floor} bytes back.`,
    );
  }

  const byKey = new Map();
  for (const run of runs) {
    const key = `${run.scenario}/${run.subject}`;
    if (!byKey.has(key)) byKey.set(key, []);
    byKey.get(key).push(run);
  }
  const rawOf = (scenario, round) =>
    runs.find((r) => r.scenario === scenario && r.subject === 'raw' && r.round === round);
  const rate = (run) => run.messages / (run.ms / 1000);
  const cpuPerMessage = (run) => (run.cpu.renderer * 1000) / run.messages;
  const mainPerMessage = (run) => (run.cpu.rendererMain * 1000) / run.messages;
  const ratios = (list, metric) =>
    list.map((run) => {
      const raw = rawOf(run.scenario, run.round);
      return raw ? metric(run) / metric(raw) : NaN;
    });
  const summary = {};

  // Throughput: receive, send
  const throughputScenarios = ['recv-text32', 'recv-bin1k', 'recv-bin64k', 'send-bin1k'];
  const throughputRows = [];
  for (const scenario of throughputScenarios) {
    for (const subject of ['raw', 'rust', 'rustStream', 'js', 'jsB', 'raw2']) {
      const list = byKey.get(`${scenario}/${subject}`);
      if (!list) continue;
      const rateRatio = ratios(list, rate);
      const cpuRatio = ratios(list, cpuPerMessage);
      summary[`${scenario}/${subject}`] = { rate: median(rateRatio), cpu: median(cpuRatio) };
      throughputRows.push([
        SCENARIO_NAMES[scenario],
        SUBJECT_NAMES[subject],
        spread(list.map(rate)),
        spread(
          list.map((run) => run.bytes / (run.ms / 1000) / 1e6),
          1,
        ),
        subject === 'raw' ? '1' : spread(rateRatio, 2),
        spread(list.map(cpuPerMessage), 1),
        subject === 'raw' ? '1' : spread(cpuRatio, 2),
        spread(list.map(mainPerMessage), 1),
        spread(list.map((run) => (100 * run.cpu.server) / run.cpu.wall)),
      ]);
    }
  }
  if (throughputRows.length) {
    out.push(
      '',
      '### Throughput (receive: /flood, "go" then N messages; send: /count, high-water mark 1 MiB)',
      '',
    );
    out.push(
      table(
        [
          'scenario',
          'subject',
          'msgs/s',
          'MB/s',
          'ratio to raw',
          'renderer CPU µs/msg',
          'CPU ratio',
          'main thread µs/msg',
          'server CPU %',
        ],
        throughputRows,
        ['l', 'l'],
      ),
    );
    const counts = environment.scenarios
      .filter((s) => s.kind !== 'reconnect')
      .map((s) => `${s.id} ${s.count.toLocaleString('en-US')}`)
      .join(', ');
    out.push(
      '',
      `Messages per run: ${counts}. raw ×2: two raw sockets at once, half the messages each.`,
    );
  }

  // Echo
  const echoRows = [];
  for (const subject of ['raw', 'rust', 'rustStream', 'js', 'jsB']) {
    const list = byKey.get(`echo-text32/${subject}`);
    if (!list) continue;
    const rateRatio = ratios(list, rate);
    const cpuRatio = ratios(list, cpuPerMessage);
    summary[`echo-text32/${subject}`] = { rate: median(rateRatio), cpu: median(cpuRatio) };
    echoRows.push([
      SUBJECT_NAMES[subject],
      spread(
        list.map((run) => quantile(run.roundTrips, 0.5)),
        3,
      ),
      spread(
        list.map((run) => quantile(run.roundTrips, 0.99)),
        3,
      ),
      spread(list.map(rate)),
      subject === 'raw' ? '1' : spread(rateRatio, 2),
      spread(list.map(cpuPerMessage), 1),
      subject === 'raw' ? '1' : spread(cpuRatio, 2),
    ]);
  }
  if (echoRows.length) {
    out.push('', '### Echo round trip (32 B text to /echo, one at a time)', '');
    out.push(
      table(
        [
          'subject',
          'p50 ms',
          'p99 ms',
          'round trips/s',
          'ratio to raw',
          'renderer CPU µs/round trip',
          'CPU ratio',
        ],
        echoRows,
        ['l'],
      ),
    );
  }

  // Reconnect
  const reconnectRows = [];
  for (const subject of ['raw', 'rust', 'js', 'jsB']) {
    const list = byKey.get(`reconnect/${subject}`);
    if (!list) continue;
    const samples = list.flatMap((run) => run.samples);
    reconnectRows.push([
      RECONNECT_NAMES[subject],
      format(median(samples), 1),
      format(quantile(samples, 0.9), 1),
      `${format(min(samples), 1)}–${format(max(samples), 1)}`,
      String(samples.length),
    ]);
  }
  if (reconnectRows.length) {
    const { delay, down } = environment.reconnect;
    out.push(
      '',
      `### Reconnect: server down ${down} ms (/control/restart), time from its return to the open event`,
      '',
    );
    out.push(
      table(['subject', 'median ms', 'p90 ms', 'min–max ms', 'samples'], reconnectRows, ['l']),
    );
    out.push(
      '',
      `Backoff for every subject: ${delay} ms before each retry (min = max = ${delay} ms, no jitter), so a ` +
        `retry lands 0–${delay} ms after the return plus the handshake; the library's own defaults are min 500 ms, ` +
        'max 30 s, full jitter.',
    );
  }

  // Memory
  if (memory.length) {
    const { warmup, cycles, delay } = environment.memory;
    const rows = [];
    const kib = (bytes) => (Number.isFinite(bytes) ? format(bytes / KB, 1) : 'n/a');
    const atCycle = (result, cycle) => result.probes.find((probe) => probe.cycle === cycle);
    for (const result of memory) {
      const start = atCycle(result, warmup);
      const end = atCycle(result, warmup + cycles);
      const first = atCycle(result, 0);
      const closed = atCycle(result, 'closed');
      const peakLive = max(
        result.probes
          .filter((p) => typeof p.cycle === 'number' && p.cycle >= warmup)
          .map((p) => p.liveBytes),
      );
      rows.push([
        result.label,
        format(result.msPerCycle, 2),
        `${kib(first.wasmMemory)} → ${kib(start.wasmMemory)} → ${kib(end.wasmMemory)}`,
        start.liveBytes === undefined
          ? 'n/a'
          : `${format(start.liveBytes, 0)} → ${format(end.liveBytes, 0)} (peak ${format(peakLive, 0)}, closed ${format(closed.liveBytes, 0)})`,
        `${kib(first.jsHeap)} → ${kib(start.jsHeap)} → ${kib(end.jsHeap)} (${signed((end.jsHeap - start.jsHeap) / KB)})`,
        start.liveListeners === undefined
          ? 'n/a'
          : `${end.liveListeners} → ${closed.liveListeners}`,
      ]);
      result.growth = {
        wasm: end.wasmMemory - start.wasmMemory,
        live: end.liveBytes - start.liveBytes,
        jsHeap: end.jsHeap - start.jsHeap,
      };
    }
    out.push(
      '',
      `### Memory over ${format(cycles, 0)} reconnect cycles after ${format(warmup, 0)} of warm-up ` +
        `(the server cuts each connection with /control/drop-all; ${delay} ms backoff)`,
      '',
    );
    out.push(
      table(
        [
          'subject',
          'ms/cycle',
          'wasm memory KiB (first → warm-up → end)',
          'Rust live heap bytes (warm-up → end)',
          'JS heap KiB (first → warm-up → end)',
          'listeners (end → after close())',
        ],
        rows,
        ['l'],
      ),
    );
    out.push(
      '',
      'JS heap: performance.memory.usedJSHeapSize of the whole page after gc(), so it includes the page itself. ' +
        'Rust live heap: a counting global allocator in the bench module; the npm package has none, so the ' +
        'class is also run from the bench module ("counted heap").',
    );
  }

  // Held after sending
  if (report.held?.results?.length) {
    const { messages, size, settleMs, results } = report.held;
    const mib = (bytes) => (Number.isFinite(bytes) ? format(bytes / (KB * KB), 2) : 'n/a');
    const rows = results.map((r) => [
      r.label,
      format(r.counted, 0),
      Number.isFinite(r.liveBefore) ? `${mib(r.liveBefore)} → ${mib(r.liveAfter)}` : 'n/a',
      Number.isFinite(r.wasmBefore) ? `${mib(r.wasmBefore)} → ${mib(r.wasmAfter)}` : 'n/a',
      Number.isFinite(r.heapBefore) ? `${mib(r.heapBefore)} → ${mib(r.heapAfter)}` : 'n/a',
    ]);
    out.push(
      '',
      `### Memory still held once ${messages.toLocaleString('en-US')} messages of ${size} B have reached the server ` +
        `(one connection to /count, all sent, the server's count read back; memory read ${format(settleMs / 1000, 1)} s later)`,
      '',
    );
    out.push(
      table(
        [
          'subject',
          'counted by the server',
          'Rust live heap MiB',
          'wasm memory MiB',
          'JS heap MiB (after gc)',
        ],
        rows,
        ['l'],
      ),
    );
  }

  // Sizes
  out.push(
    '',
    '### Size (gzip level 9; JS glue = the generated module and snippets together; for the package, its bundled entry)',
    '',
  );
  out.push(
    table(
      ['build', 'wasm bytes', 'wasm gz', 'JS bytes', 'JS gz', 'total gz'],
      sizeRows.map((row) => [
        row.label,
        format(row.wasm.raw, 0),
        format(row.wasm.gz, 0),
        format(row.js.raw, 0),
        format(row.js.gz, 0),
        format(row.total, 0),
      ]),
      ['l'],
    ),
  );
  out.push(
    '',
    'All built with wasm-pack --release (opt-level "z", LTO, one codegen unit, panic = abort; wasm-opt -O from the npm binaryen).',
  );

  // Server headroom
  if (capacity && Object.keys(capacity).length) {
    const rows = Object.entries(capacity).map(([scenario, nodeRate]) => {
      const raw = byKey.get(`${scenario}/raw`) ?? [];
      const raw2 = byKey.get(`${scenario}/raw2`) ?? [];
      return [
        SCENARIO_NAMES[scenario],
        format(nodeRate, 0),
        raw.length ? format(median(raw.map(rate)), 0) : 'n/a',
        raw2.length ? format(median(raw2.map(rate)), 0) : 'n/a',
        raw.length
          ? format(median(raw.map((run) => (100 * run.cpu.server) / run.cpu.wall)), 0)
          : 'n/a',
        raw.length ? format(nodeRate / median(raw.map(rate)), 1) : 'n/a',
      ];
    });
    out.push(
      '',
      '### Is the server the bottleneck? Its rates against a Node ws client, before Chromium starts',
      '',
    );
    out.push(
      table(
        [
          'route',
          'Node ws client msgs/s',
          'browser raw msgs/s',
          'browser raw ×2 msgs/s',
          'server CPU % during raw',
          'server headroom ×',
        ],
        rows,
        ['l'],
      ),
    );
    out.push(
      '',
      "The same server sustains the Node client at the headroom factor above the browser's rate, and is far from " +
        'one busy core while the browser runs: the limit is the browser (its renderer main thread), not the server.',
    );
  }

  // Goals
  const js = (scenario) => summary[`${scenario}/js`];
  const facadeScenarios = [...throughputScenarios, 'echo-text32'].filter((s) => js(s));
  if (facadeScenarios.length) {
    const worstRate = facadeScenarios.map((s) => [s, js(s).rate]).sort((a, b) => a[1] - b[1]);
    goal(
      worstRate.every(([, r]) => r >= 0.95),
      `JS class >= 0.95x raw msgs/s in every scenario: ${worstRate.map(([s, r]) => `${s} ${format(r, 2)}x`).join(', ')}`,
    );
    const worstCpu = facadeScenarios.map((s) => [s, js(s).cpu]).sort((a, b) => b[1] - a[1]);
    goal(
      worstCpu.every(([, r]) => r <= 1.1),
      `JS class <= 1.1x raw renderer CPU per message: ${worstCpu.map(([s, r]) => `${s} ${format(r, 2)}x`).join(', ')}`,
    );
  }
  // The same goals for the Rust Stream on either path (events, and WebSocketStream).
  for (const [subject, name] of [
    ['rust', 'Rust Stream'],
    ['rustStream', 'Rust Stream on WebSocketStream'],
  ]) {
    const rust = (scenario) => summary[`${scenario}/${subject}`];
    if (rust('recv-text32'))
      goal(
        rust('recv-text32').rate >= 0.85,
        `${name} >= 0.85x raw on 32 B text: ${format(rust('recv-text32').rate, 2)}x`,
      );
    if (rust('recv-bin64k'))
      goal(
        rust('recv-bin64k').rate >= 0.9,
        `${name} >= 0.9x raw on 64 KiB binary: ${format(rust('recv-bin64k').rate, 2)}x`,
      );
  }
  const size = (id) => sizeRows.find((row) => row.id === id);
  const [socketApp, floorApp, npmPackage] = ['socket', 'floor', 'package'].map(size);
  goal(
    socketApp.total <= GOALS.socketAppGz,
    `single-connection app <= 16 KB gz (16,384 bytes): ${format(socketApp.total, 0)} bytes ` +
      `(the same app on web-sys alone: ${format(floorApp.total, 0)} bytes)`,
  );
  goal(
    npmPackage.total <= GOALS.packageGz,
    `npm package <= 40 KB gz (40,960 bytes): ${format(npmPackage.total, 0)} bytes`,
  );
  // No growth: the wasm memory does not grow, the Rust heap (where counted) is back within
  // 1 KiB, and the page's JS heap within 64 KiB per 1,000 cycles after the warm-up (it is the
  // whole page's heap, which the browser's own bookkeeping moves by tens of KiB).
  const memoryCycles = environment.memory.cycles;
  const jsHeapLimit = (64 * KB * memoryCycles) / 1000;
  for (const result of memory) {
    if (result.subject === 'raw') continue;
    if (result.subject === 'js-instances') {
      // Not a reconnect-cycle figure: shown for what it says about finalization.
      const { wasm, live, jsHeap } = result.growth;
      verdicts.push(
        `INFO  ${result.label}: wasm ${signed(wasm / KB)} KiB, Rust heap ${signed(live)} bytes, ` +
          `JS heap ${signed(jsHeap / KB)} KiB over 1,000 instances (not a goal)`,
      );
      continue;
    }
    const { wasm, live, jsHeap } = result.growth;
    const ok = !(wasm > 0) && !(live > KB) && !(jsHeap > jsHeapLimit);
    goal(
      ok,
      `no memory growth after warm-up, ${result.label}: wasm ${signed(wasm / KB)} KiB, ` +
        `Rust heap ${Number.isFinite(live) ? `${signed(live)} bytes` : 'not counted'}, JS heap ${signed(jsHeap / KB)} KiB ` +
        `over ${format(memoryCycles, 0)} cycles (limits: 0, 1 KiB, ${format(jsHeapLimit / KB, 0)} KiB)`,
    );
  }

  out.push('', '### Goals', '', ...verdicts.map((line) => `    ${line}`));
  return out.join('\n');
}

function signed(value) {
  if (!Number.isFinite(value)) return 'n/a';
  return `${value >= 0 ? '+' : ''}${format(value, Math.abs(value) < 10 && value % 1 ? 1 : 0)}`;
}

// ---------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const loads = { start: os.loadavg()[0] };
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-bench-'));
  const userDataDir = path.join(scratch, 'chromium-profile');
  let server;
  let chromium;
  let runner;
  let devtools;
  const stopAll = () => {
    if (chromium) stopChromium(chromium);
    server?.stop();
    runner?.server.close();
    devtools?.close();
  };
  process.on('SIGINT', () => {
    stopAll();
    process.exit(130);
  });
  process.on('SIGTERM', () => {
    stopAll();
    process.exit(143);
  });

  try {
    server = await startServer(scratch);
    say(`server at ${server.http}`);

    const onlyIds = options.only?.split(',') ?? null;
    const runPage = !onlyIds || onlyIds.some((id) => id !== 'cold');
    const runCold = !options.profile && (!onlyIds || onlyIds.includes('cold'));
    const state = {
      browserPid: null,
      serverPid: server.child.pid,
      devtools: null,
      profiles: [],
      coldWaiters: [],
    };
    runner = await startRunnerEndpoint(state);
    if (runPage) {
      const capacityScenarios = throughputScenarios(options.scale)
        .filter((s) => s.kind !== 'echo')
        .filter((s) => !options.only || options.only.split(',').includes(s.id));
      let capacity = {};
      if (!options.profile) {
        say('server rates against a Node ws client');
        capacity = await serverCapacity(server, capacityScenarios);
      }

      const query = new URLSearchParams({
        runner: runner.url,
        rounds: String(options.rounds),
        scale: String(options.scale),
      });
      if (options.only) query.set('only', options.only);
      if (options.subjects) query.set('subjects', options.subjects);
      if (options.profile) query.set('profile', '1');
      if (options.pkg) query.set('pkg', options.pkg);
      if (options.pkgB) query.set('pkgB', options.pkgB);
      if (options.benchpkg) query.set('benchpkg', options.benchpkg);
      const pageUrl = `${server.http}/bench/page/index.html`;

      // With --profile the page waits for the profiler to be attached before it starts.
      chromium = launchChromium(
        `${pageUrl}?${query}`,
        userDataDir,
        path.join(scratch, 'chromium.log'),
      );
      state.browserPid = chromium.pid;
      say(`Chromium ${chromium.pid} opened the page; it runs ${options.rounds} rounds`);
      if (options.profile) {
        devtools = await devtoolsPage(userDataDir, pageUrl);
        state.devtools = devtools;
      }
      const exited = new Promise((resolve) =>
        chromium.once('exit', (code) => resolve({ exited: code })),
      );
      const report = await Promise.race([
        runner.report,
        exited,
        new Promise((resolve) =>
          setTimeout(resolve, 60 * 60 * 1000, { error: 'no report within an hour' }).unref(),
        ),
      ]);
      loads.end = os.loadavg()[0];
      if (report.exited !== undefined) {
        throw new Error(
          `Chromium exited (${report.exited}) before the page reported; its log:\n` +
            fs.readFileSync(path.join(scratch, 'chromium.log'), 'utf8').slice(-3000),
        );
      }
      if (report.error) throw new Error(`the page failed: ${report.error}`);
      if (options.json)
        fs.writeFileSync(options.json, JSON.stringify({ capacity, loads, ...report }, null, 1));
      if (options.profile) {
        console.log(state.profiles.join('\n\n'));
      } else {
        console.log(printReport(report, capacity, loads, sizes()));
      }
      // The cold loads that follow each start a Chromium of their own.
      stopChromium(chromium);
      chromium = null;
    }
    if (runCold) {
      say(`cold page loads: ${options.rounds} rounds of raw and js, a fresh Chromium each`);
      const cold = await coldLoads(server, runner, state, options.rounds, scratch);
      console.log(`\n${printCold(cold, options.rounds)}`);
    }
  } finally {
    stopAll();
    await sleep(200);
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`[bench] ${error.stack ?? error}`);
    process.exit(1);
  },
);
