#!/usr/bin/env node
// A cargo test runner for the wasm browser tests in headless Chromium, without chromedriver.
//
// Through chromedriver, a fresh headless Chromium now and then never finished loading the
// test page (no test ran, "Timed out receiving message from renderer"), and when the page
// crashed the runner said only "missing field `chunk`". Here wasm-bindgen's runner only serves
// the page (its interactive mode, NO_HEADLESS=1, on a free port), and this script drives
// Chromium itself over the DevTools protocol on a pipe: it opens the page, prints the
// harness's output as it grows and the page's console as it is written, names a crash as a
// crash, and starts the browser again when the page has not started the tests within
// PAGE_LOAD_SECONDS. Nothing is instrumented beyond that (no network domain), so the page runs
// as it would for a user.
//
// Use: CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER="node tests/support/chromium-runner.mjs"
// cargo test --target wasm32-unknown-unknown --test socket -- --nocapture
// Chromium's flags are webdriver.json's (the list a hand-run `wasm-pack test --chrome` uses).
// Exits 0 only when the harness prints "test result: ok".

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const CHROMIUM = process.env.RESOCKET_CHROMIUM ?? '/usr/bin/chromium';
const PAGE_LOAD_SECONDS = Number(process.env.PAGE_LOAD_SECONDS ?? 30);
const TRIES = 6;
const TEST_SECONDS = Number(process.env.WASM_BINDGEN_TEST_TIMEOUT ?? 300);
const POLL_MS = 100;

function chromiumFlags() {
  const config = JSON.parse(fs.readFileSync(path.join(ROOT, 'webdriver.json'), 'utf8'));
  return ['--headless', ...(config['goog:chromeOptions']?.args ?? [])];
}

// wasm-bindgen's runner builds the test page (its interactive mode, NO_HEADLESS=1), and this
// script serves it. The runner's own server now and then never answers one of the page's
// module requests (the page then shows "Loading scripts..." for ever; seen on 2-core
// machines), so it is asked for the page's HTML once and then stopped, and Node serves that
// HTML and the files the runner wrote, as the runner would: from its build directory first,
// then from the working directory, a path without an extension as a `.js` file, with the
// cross-origin isolation headers. The build directory is in `scratch`, removed at exit.
async function servePage(args, scratch) {
  const runner = spawn(process.env.WASM_BINDGEN_TEST_RUNNER ?? 'wasm-bindgen-test-runner', args, {
    env: {
      ...process.env,
      NO_HEADLESS: '1',
      WASM_BINDGEN_TEST_ADDRESS: '127.0.0.1:0',
      TMPDIR: scratch,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let html;
  try {
    const runnerUrl = await new Promise((resolve, reject) => {
      let seen = '';
      runner.stdout.on('data', (chunk) => {
        seen += chunk;
        const match = /available at (http:\/\/\S+)/.exec(seen);
        if (match) resolve(match[1]);
      });
      runner.on('exit', (code) =>
        reject(new Error(`wasm-bindgen-test-runner exited (${code}):\n${seen}`)),
      );
    });
    html = await (await fetch(runnerUrl, { signal: AbortSignal.timeout(10_000) })).text();
  } finally {
    runner.kill('SIGKILL');
  }
  const [build] = fs.readdirSync(scratch).map((name) => path.join(scratch, name));
  const server = http.createServer((request, response) => {
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    };
    const route = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    if (route === '/') {
      response.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(html);
      return;
    }
    const candidates = [build, process.cwd()].flatMap((dir) => {
      const file = path.join(dir, path.normalize(route));
      return path.extname(file) ? [file] : [file, `${file}.js`];
    });
    const file = candidates.find((candidate) =>
      fs.statSync(candidate, { throwIfNoEntry: false })?.isFile(),
    );
    if (!file) {
      response.writeHead(404, headers).end();
      return;
    }
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    response.writeHead(200, { ...headers, 'Content-Type': type });
    fs.createReadStream(file).pipe(response);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, server };
}

const CONTENT_TYPES = {
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.html': 'text/html',
};

// One Chromium with the DevTools protocol on fds 3 (to it) and 4 (from it), messages separated
// by NUL bytes.
function launch() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-chromium-'));
  const browser = spawn(
    CHROMIUM,
    [...chromiumFlags(), '--remote-debugging-pipe', `--user-data-dir=${profile}`, 'about:blank'],
    { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
  );
  // Chromium's own log, shown when it exits early.
  let log = '';
  browser.stderr.on('data', (chunk) => (log = (log + chunk).slice(-4000)));
  const toBrowser = browser.stdio[3];
  // A browser that dies closes its pipes; `exited` reports that, not an unhandled error.
  toBrowser.on('error', () => {});
  browser.stdio[4].on('error', () => {});
  const pending = new Map();
  const listeners = [];
  let nextId = 1;
  let buffered = '';
  browser.stdio[4].on('data', (chunk) => {
    buffered += chunk;
    let end;
    while ((end = buffered.indexOf('\0')) >= 0) {
      const message = JSON.parse(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
      if (message.id !== undefined) {
        const call = pending.get(message.id);
        pending.delete(message.id);
        if (message.error) call?.reject(new Error(`${call.method}: ${message.error.message}`));
        else call?.resolve(message.result);
      } else {
        for (const listener of listeners) listener(message);
      }
    }
  });
  const exited = new Promise((resolve) =>
    browser.on('exit', (code, signal) => resolve(`${code ?? signal}; its log ends:\n${log}`)),
  );
  const send = (method, params = {}, sessionId) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject, method });
      toBrowser.write(JSON.stringify({ id, method, params, sessionId }) + '\0');
    });
  const close = async () => {
    browser.kill('SIGKILL');
    await exited;
    // Chromium's helpers may still be writing to the profile for a moment after it exits.
    try {
      fs.rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch {
      // Left in the temp directory; nothing depends on it.
    }
  };
  return { send, on: (listener) => listeners.push(listener), exited, close, log: () => log };
}

const describe = (argument) =>
  argument.value !== undefined ? String(argument.value) : (argument.description ?? argument.type);

// Opens the page in a fresh browser and follows it. Resolves to { output } once the harness
// has printed its result, or { stalled: true } when the tests did not start in time.
async function runOnce(url) {
  const browser = launch();
  try {
    const failure = new Promise((_, reject) => {
      browser.exited.then((code) => reject(new Error(`Chromium exited (${code})`)));
      browser.on((message) => {
        if (message.method === 'Inspector.targetCrashed') {
          // Chromium writes the reason (a failed CHECK, out of memory) to its log first.
          sleep(500).then(() =>
            reject(new Error(`the page crashed; Chromium's log ends:\n${browser.log()}`)),
          );
        }
        if (message.method === 'Runtime.consoleAPICalled')
          process.stdout.write(message.params.args.map(describe).join(' ') + '\n');
        if (message.method === 'Runtime.exceptionThrown') {
          const details = message.params.exceptionDetails;
          process.stdout.write(`uncaught: ${details.exception?.description ?? details.text}\n`);
        }
      });
    });
    failure.catch(() => {});
    const run = async () => {
      const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' });
      const { sessionId } = await browser.send('Target.attachToTarget', {
        targetId,
        flatten: true,
      });
      await browser.send('Inspector.enable', {}, sessionId);
      await browser.send('Runtime.enable', {}, sessionId);
      // The network is watched only until the tests start, to name what a stalled page waits
      // for; the tests themselves run unobserved.
      const requests = new Map();
      browser.on(({ method, params }) => {
        if (method === 'Network.requestWillBeSent')
          requests.set(params.requestId, `${params.request.url}: sent`);
        else if (method === 'Network.responseReceived')
          requests.set(params.requestId, `${params.response.url}: ${params.response.status}`);
        else if (method === 'Network.dataReceived')
          requests.set(
            params.requestId,
            requests
              .get(params.requestId)
              ?.replace(/( \d+ bytes)?$/, ` ${params.dataLength} bytes`),
          );
        else if (method === 'Network.loadingFinished' || method === 'Network.loadingFailed')
          requests.delete(params.requestId);
      });
      await browser.send('Network.enable', {}, sessionId);
      let watching = true;
      await browser.send('Page.navigate', { url }, sessionId);
      const started = Date.now();
      let printed = 0;
      for (;;) {
        const { result } = await browser.send(
          'Runtime.evaluate',
          {
            expression:
              "document.getElementById('output')?.textContent ?? `(no output yet: ${document.readyState} ${location.href})`",
            returnByValue: true,
          },
          sessionId,
        );
        const output = String(result.value ?? '');
        const running = /running \d+ tests?/.test(output);
        if (running && watching) {
          watching = false;
          await browser.send('Network.disable', {}, sessionId);
        }
        if (running && output.length > printed) {
          // The harness replaces "Loading scripts..." with its own output; print only that.
          const from = Math.max(printed, output.indexOf('running'));
          process.stdout.write(output.slice(from));
          printed = output.length;
        }
        if (output.includes('test result: ')) return { output };
        const elapsed = (Date.now() - started) / 1000;
        if (!running && elapsed > PAGE_LOAD_SECONDS) {
          const { result: loaded } = await browser.send(
            'Runtime.evaluate',
            {
              expression:
                "JSON.stringify(performance.getEntriesByType('resource').map((e) => [e.name, Math.round(e.duration)]))",
              returnByValue: true,
            },
            sessionId,
          );
          return {
            stalled: `${output.slice(0, 200)}; loaded: ${loaded.value}; unfinished: ${[...requests.values()].join(', ')}`,
          };
        }
        if (elapsed > TEST_SECONDS) {
          return { output: `${output}\nno test result after ${TEST_SECONDS} s\n` };
        }
        await sleep(POLL_MS);
      }
    };
    return await Promise.race([run(), failure]);
  } finally {
    await browser.close();
  }
}

async function main() {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-runner-'));
  process.on('exit', () => fs.rmSync(scratch, { recursive: true, force: true }));
  const { url: pageUrl, server } = await servePage(process.argv.slice(2), scratch);
  try {
    for (let attempt = 1; attempt <= TRIES; attempt++) {
      let outcome;
      try {
        outcome = await runOnce(pageUrl);
      } catch (error) {
        console.log(`\nresocket: ${error.message}`);
        return 1;
      }
      if (!outcome.stalled) return /test result: ok/.test(outcome.output) ? 0 : 1;
      console.log(
        `resocket: the page had not started the tests after ${PAGE_LOAD_SECONDS} s ` +
          `(try ${attempt} of ${TRIES}); it showed: ${outcome.stalled}`,
      );
    }
    return 1;
  } finally {
    server.close();
    server.closeAllConnections();
  }
}

console.log(
  'Running headless tests in Chromium (DevTools protocol, tests/support/chromium-runner.mjs)',
);
process.exitCode = await main();
