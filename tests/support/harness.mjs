// What the end-to-end tests share: the bundled server started on a free port and stopped
// whatever happens, and Debian's Chromium launched headless with the flags this machine needs
// (no sandbox as root; no background networking, which the closed network would refuse).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

import { CHROMIUM_FLAGS } from './browser-flags.mjs';

export const ROOT = path.resolve(new URL('../..', import.meta.url).pathname);
const SERVER = path.join(ROOT, 'tests/server/server.mjs');
const START_MS = 10_000;

/** Headless Chromium from /usr/bin/chromium (nothing here may download a browser). */
export function launchChromium() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_FLAGS,
  });
}

/**
 * Starts the test server serving `staticRoot` on a free port, its address read back from
 * `portFile`. Resolves to `{ process, origin }`, `origin` being `http://127.0.0.1:PORT`.
 * With --exit-with-stdin the server also goes when this process does, however it ends.
 * `csp`, when given, is sent as the Content-Security-Policy of every static response.
 */
export async function startServer(staticRoot, portFile, { csp = null } = {}) {
  const server = spawn(
    process.execPath,
    [
      SERVER,
      '--static',
      staticRoot,
      '--port-file',
      portFile,
      '--exit-with-stdin',
      ...(csp ? ['--csp', csp] : []),
    ],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  let stderr = '';
  server.stderr.on('data', (chunk) => (stderr += chunk));
  const deadline = Date.now() + START_MS;
  while (!fs.existsSync(portFile)) {
    if (server.exitCode !== null)
      assert.fail(`the test server exited early (${server.exitCode}): ${stderr}`);
    if (Date.now() > deadline)
      assert.fail(`the test server did not start within ${START_MS} ms: ${stderr}`);
    await sleep(25);
  }
  const address = fs.readFileSync(portFile, 'utf8').trim();
  const match = /^ws:\/\/(127\.0\.0\.1:\d+)$/.exec(address);
  assert.ok(match, `unexpected address in the port file: ${address}`);
  return { process: server, origin: `http://${match[1]}` };
}

/** Stops a server from startServer: SIGTERM, then SIGKILL if it lingers. */
export async function stopServer(server) {
  const child = server?.process ?? server;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(2_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
