// The npm package in Node, as server-side rendering and test runners (Vitest, Jest) use it:
// importing it (ES module or `require`) never throws and touches no page global, and the
// class connects, echoes, survives a server drop, reconnects and sends what it queued, with
// Node 22's global WebSocket and with the `ws` package's passed as the `WebSocket` option.
//
// Nothing in Rust is built here: run `scripts/build-package` first. Node 22 is the one on
// PATH if it is new enough, else the one scripts/setup installs into .tools/node22.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, startServer, stopServer } from '../support/harness.mjs';

const PKG = path.resolve(process.env.RESOCKET_PKG ?? path.join(ROOT, 'pkg'));
const CLIENT = path.join(ROOT, 'tests/package/node-client.mjs');

function node22() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= 22) return process.execPath;
  const installed = path.join(ROOT, '.tools/node22/node_modules/.bin/node');
  assert.ok(
    fs.existsSync(installed),
    `Node ${process.versions.node} is too old and ${installed} is missing: run scripts/setup`,
  );
  return installed;
}

let server;
let temporary;

before(async () => {
  assert.ok(
    fs.existsSync(path.join(PKG, 'node.js')),
    `${PKG}/node.js is missing: run scripts/build-package first`,
  );
  temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-node-'));
  server = await startServer(temporary, path.join(temporary, 'port'));
});

after(async () => {
  await stopServer(server);
  fs.rmSync(temporary, { recursive: true, force: true });
});

/** Runs node-client.mjs with `node` and returns what it printed, as JSON. */
function client(nodePath, ...args) {
  const ws = server.origin.replace(/^http/, 'ws');
  // Its stderr is not shown: the no-websocket client reports its error there, as it should.
  const output = execFileSync(nodePath, [CLIENT, PKG, ws, ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return JSON.parse(output.trim().split('\n').at(-1));
}

test('importing never throws and touches no page global: import, require, and the browser entry', () => {
  const result = client(process.execPath, 'import-only');
  assert.deepEqual(result.touched, [], `page globals read while importing: ${result.touched}`);
  assert.equal(result.esm, 'function');
  assert.equal(result.cjs, 'function');
  assert.equal(result.browserEntry, 'function');
  assert.equal(result.ready, 'resolved');
});

for (const [name, runtime, constructor, loader] of [
  ['Node 22, its global WebSocket, import', node22, 'global', 'import'],
  ['Node 22, its global WebSocket, require', node22, 'global', 'require'],
  [
    `Node ${process.versions.node}, the ws package as the WebSocket option`,
    () => process.execPath,
    'ws',
    'import',
  ],
]) {
  test(`${name}: connect, echo, a server drop, reconnect, the queue`, () => {
    const result = client(runtime(), 'session', constructor, loader);
    assert.equal(result.error, undefined, result.error);
    // Sent before the first open, then on the first connection, then while the server was gone.
    assert.deepEqual(result.received.slice(0, 2), ['before open', 'binary 3']);
    assert.ok(result.received.includes('while down'), `received: ${result.received}`);
    assert.ok(result.opens >= 2, `opens: ${result.opens}`);
    assert.equal(result.closes[0], 1006, `closes: ${result.closes}`);
    assert.ok(result.reconnecting >= 1, `reconnecting events: ${result.reconnecting}`);
    assert.equal(result.finalState, 3);
  });
}

test('with no WebSocket on the platform and none passed: error and close 1006 once, no retry, and nothing keeps Node running', () => {
  const started = performance.now();
  const result = client(process.execPath, 'no-websocket');
  const took = performance.now() - started;
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(result.events, ['error', 'close 1006']);
  assert.equal(result.send, 'InvalidStateError', 'send() on the failing client');
  assert.equal(result.readyState, 3);
  // It ran 500 ms, then had nothing left to wait for (a retry timer would keep it alive).
  assert.ok(took < 5_000, `the client process took ${took.toFixed(0)} ms to end`);
});

test('esbuild bundles the browser entry as an IIFE for ES2020 (no top-level await)', () => {
  const out = path.join(temporary, 'bundle.js');
  execFileSync(
    path.join(ROOT, 'node_modules/.bin/esbuild'),
    [
      path.join(PKG, 'index.js'),
      '--bundle',
      '--format=iife',
      '--target=es2020',
      '--log-level=error',
      `--outfile=${out}`,
    ],
    { encoding: 'utf8' },
  );
  assert.ok(fs.statSync(out).size > 0);
});
