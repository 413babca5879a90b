// The npm package as a user gets it: `npm pack` of pkg/ gives a tarball, which is installed
// into a fresh webpack 5 app and a fresh Vite app (the templates beside this file, copied to
// a temporary folder), each app is built with its bundler's defaults, served by the test
// server on the same origin as its WebSocket routes, and run in headless Chromium, where it
// must show `ReconnectingWebSocket.OPEN` and the echo of the message it sent to /echo.
//
// It also prints the sizes: the tarball, and the gzipped size of what each app's dist ships
// (in total and the .wasm alone).
//
// Nothing in Rust is built here: run `scripts/build-package` first, then
// `node --test tests/package/`. The installs use the user's npm cache (shared by both apps
// and by later runs) and never download a browser.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, launchChromium, startServer, stopServer } from '../support/harness.mjs';
import { gzipSize } from '../../scripts/gzip-size.mjs';

// RESOCKET_PKG may point at another build of the package; by default, scripts/build-package's.
const PKG = path.resolve(process.env.RESOCKET_PKG ?? path.join(ROOT, 'pkg'));
const HERE = path.join(ROOT, 'tests/package');
const ECHO_WAIT_MS = 15_000;
// An install with a cold npm cache downloads the bundlers; a warm one takes seconds.
const APP_TIMEOUT_MS = 300_000;
// What a page needs to let the package run, and the same without compiling WebAssembly.
const CSP = "script-src 'self' 'wasm-unsafe-eval'";
const CSP_WITHOUT_WASM = "script-src 'self'";

const APPS = [
  { name: 'webpack-app', bundler: 'webpack', build: ['webpack'], message: 'hello from webpack' },
  { name: 'vite-app', bundler: 'vite', build: ['vite', 'build'], message: 'hello from vite' },
];

const INSTALL_ENV = {
  ...process.env,
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
  npm_config_update_notifier: 'false',
  npm_config_fund: 'false',
  npm_config_audit: 'false',
};

let temporary;
let browser;
const servers = [];

/**
 * Runs a command to its end; resolves to its stdout and its whole output (stdout and stderr),
 * fails with that output if it exits non-zero.
 */
function run(command, args, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: INSTALL_ENV,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let output = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      output += chunk;
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout, output });
      else
        reject(
          new Error(
            `${command} ${args.join(' ')} (in ${cwd}) failed (${code ?? signal}):\n${output}`,
          ),
        );
    });
  });
}

/** Seconds since `start`, to one decimal. */
const seconds = (start) => ((performance.now() - start) / 1000).toFixed(1);

/** Every file under `dir`, recursively. */
function filesUnder(dir) {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath ?? entry.path, entry.name));
}

const gzipped = (file) => gzipSize([file]).gz;

/** Starts the test server serving `staticRoot`; resolves to its http origin. */
async function serve(staticRoot, portFile, options) {
  const server = await startServer(staticRoot, portFile, options);
  servers.push(server);
  return server.origin;
}

/**
 * Packs pkg/ once, for every app: resolves to the tarball's path. A missing pkg/ fails each
 * test that needs it, with a message saying how to build it.
 */
let packing;
const packOnce = () => (packing ??= pack());

async function pack() {
  for (const file of ['package.json', 'index.js', 'resocket.js', 'resocket_bg.wasm']) {
    assert.ok(
      fs.existsSync(path.join(PKG, file)),
      `${path.join(PKG, file)} is missing: run scripts/build-package first (this test packs pkg/, it builds no Rust)`,
    );
  }
  // (index.js is built into one module with the glue and the class: not comparable.)
  for (const file of ['node.js', 'index.d.ts']) {
    const source = fs.readFileSync(path.join(ROOT, 'js', file), 'utf8');
    // scripts/build-package writes where the class module is in place of CLASS_MODULE.
    const built = fs
      .readFileSync(path.join(PKG, file), 'utf8')
      .replace(/'\.\/snippets\/[^']*\/reconnecting-websocket\.js'/g, "'CLASS_MODULE'");
    if (source !== built) {
      console.log(
        `warning: pkg/${file} differs from js/${file}: pkg/ is stale, run scripts/build-package`,
      );
    }
  }

  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', temporary], PKG);
  const packed = JSON.parse(stdout);
  const tarball = path.join(temporary, packed[0].filename);
  const names = packed[0].files.map((file) => file.path);
  for (const needed of [
    'package.json',
    'index.js',
    'index.d.ts',
    'resocket.js',
    'resocket_bg.wasm',
  ]) {
    assert.ok(names.includes(needed), `the tarball lacks ${needed}; it has ${names.join(', ')}`);
  }
  assert.ok(
    names.some(
      (name) => name.startsWith('snippets/') && name.endsWith('reconnecting-websocket.js'),
    ),
    `the tarball lacks the snippet reconnecting-websocket.js; it has ${names.join(', ')}`,
  );
  console.log(
    `[package] tarball ${packed[0].filename}: ${fs.statSync(tarball).size} bytes ` +
      `(${packed[0].entryCount} files, ${packed[0].unpackedSize} bytes unpacked)`,
  );
  return tarball;
}

before(async () => {
  temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-package-'));
  browser = await launchChromium();
});

// Whatever happened, neither the browser nor a server may outlive the tests.
after(async () => {
  await browser?.close().catch(() => {});
  await Promise.all(servers.map(stopServer));
  if (temporary) fs.rmSync(temporary, { recursive: true, force: true });
});

describe('the npm package in fresh apps', () => {
  for (const app of APPS) {
    test(
      `${app.name}: installs from the tarball, builds and echoes in Chromium`,
      { timeout: APP_TIMEOUT_MS },
      async () => {
        const tarball = await packOnce();
        // A fresh copy of the template: no node_modules, no lockfile, no dist.
        const dir = path.join(temporary, app.name);
        fs.cpSync(path.join(HERE, app.name), dir, {
          recursive: true,
          filter: (source) => !/[/\\](node_modules|dist|package-lock\.json)$/.test(source),
        });

        let start = performance.now();
        await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline'], dir);
        const installed = JSON.parse(
          fs.readFileSync(path.join(dir, 'node_modules/resocket/package.json'), 'utf8'),
        );
        assert.equal(installed.name, 'resocket');
        const installTime = seconds(start);

        start = performance.now();
        const { output } = await run('npx', ['--no', ...app.build], dir);
        const buildTime = seconds(start);
        // A fresh app with the package should build cleanly; any warning is worth seeing.
        for (const line of output.split('\n').filter((l) => /WARNING|\(!\)/.test(l))) {
          console.log(`[${app.name}] build: ${line.trim()}`);
        }
        const bundler = JSON.parse(
          fs.readFileSync(path.join(dir, 'node_modules', app.bundler, 'package.json'), 'utf8'),
        );

        // What the app ships: every file of its dist, gzipped one by one.
        const dist = path.join(dir, 'dist');
        const files = filesUnder(dist);
        const wasm = files.filter((file) => file.endsWith('.wasm'));
        assert.equal(
          wasm.length,
          1,
          `expected one .wasm in ${app.name}'s dist, found: ${files.map((f) => path.relative(dist, f)).join(', ')}`,
        );
        const total = files.reduce((sum, file) => sum + gzipped(file), 0);
        console.log(
          `[${app.name}] ${app.bundler} ${bundler.version}: install ${installTime} s, ` +
            `build ${buildTime} s; dist gzipped: ${total} bytes in ${files.length} files ` +
            `(${files.map((file) => path.relative(dist, file)).join(', ')}), ` +
            `of which .wasm ${gzipped(wasm[0])} bytes (${fs.statSync(wasm[0]).size} raw)`,
        );

        const origin = await serve(dist, path.join(temporary, `${app.name}.port`));
        start = performance.now();
        const { shown, errors } = await visit(origin, ECHO_WAIT_MS);
        assert.ok(
          shown,
          `no echo within ${ECHO_WAIT_MS / 1000} s` +
            (errors.length ? `; page errors: ${errors.join(' | ')}` : ''),
        );
        assert.deepEqual(shown, { echo: app.message, echoText: app.message, open: '1' });
        assert.deepEqual(errors, [], 'the page logged errors');
        console.log(
          `[${app.name}] echo "${shown.echo}" shown ${seconds(start)} s after navigation`,
        );

        // The policy js/README.md documents: enough. Without 'wasm-unsafe-eval' the module
        // cannot compile: the page says why, and nothing is echoed.
        const strict = await serve(dist, path.join(temporary, `${app.name}-csp.port`), {
          csp: CSP,
        });
        const underPolicy = await visit(strict, ECHO_WAIT_MS);
        assert.deepEqual(
          underPolicy.shown,
          shown,
          `under "${CSP}"; page errors: ${underPolicy.errors.join(' | ')}`,
        );
        assert.deepEqual(underPolicy.errors, [], `the page logged errors under "${CSP}"`);
        const tooStrict = await serve(dist, path.join(temporary, `${app.name}-no-wasm.port`), {
          csp: CSP_WITHOUT_WASM,
        });
        const refused = await visit(tooStrict, 3_000);
        assert.equal(refused.shown, null, `echoed under "${CSP_WITHOUT_WASM}"`);
        assert.ok(
          refused.errors.some((error) => /WebAssembly|wasm/i.test(error)),
          `no error about WebAssembly under "${CSP_WITHOUT_WASM}": ${refused.errors.join(' | ')}`,
        );
        console.log(
          `[${app.name}] echoes under "${CSP}"; under "${CSP_WITHOUT_WASM}" reports: ${refused.errors[0].slice(0, 120)}`,
        );
      },
    );
  }
});

/**
 * Opens `origin` in a new page and waits up to `wait` ms for the app's echo. Resolves to
 * what the page shows (null without an echo) and the errors it logged.
 */
async function visit(origin, wait) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    // Failed loads are reported with their URL below; the console's line has none.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      errors.push(message.text());
    }
  });
  page.on('requestfailed', (request) => errors.push(`request failed: ${request.url()}`));
  page.on('response', (response) => {
    // The browser asks for a favicon that neither app has.
    if (response.status() >= 400 && new URL(response.url()).pathname !== '/favicon.ico') {
      errors.push(`${response.status()} for ${response.url()}`);
    }
  });
  try {
    await page.goto(`${origin}/`);
    try {
      await page.waitForFunction(() => document.body?.dataset.echo, null, { timeout: wait });
    } catch {
      return { shown: null, errors };
    }
    const shown = await page.evaluate(() => ({
      echo: document.body.dataset.echo,
      echoText: document.querySelector('#echo')?.textContent,
      open: document.querySelector('#open')?.textContent,
    }));
    return { shown, errors };
  } finally {
    await page.close().catch(() => {});
  }
}
