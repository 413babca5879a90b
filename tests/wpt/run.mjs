// Runs the Web Platform Tests' WebSocket API tests (`websockets/` of a WPT checkout you
// supply) against the browser's own WebSocket and against ReconnectingWebSocket put in its
// place (`window.WebSocket = ReconnectingWebSocket`, as a drop-in is used), in headless
// Chromium and Firefox, and reports every subtest that passes natively and fails on the
// class, apart from the documented differences (tests/wpt/differences.mjs).
//
//   node tests/wpt/run.mjs --wpt DIR [--browsers chromium,firefox] [--only SUBSTRING]
//                          [--pkg pkg] [--json FILE]
//
// DIR is a checkout of github.com/web-platform-tests/wpt (only its `websockets/`,
// `resources/` and `common/` folders are read). The tests are not part of this repository:
// this project writes its own code and copies none (see DEVELOPERS.md); scripts/wpt says how
// to get them. Only 127.0.0.1 is contacted. Exit status 0 when no unexplained difference was
// found, 1 otherwise.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { CHROMIUM_FLAGS, UNTHROTTLED_FLAGS, writeFirefoxPrefs } from '../support/browser-flags.mjs';
import { metaOf, startServer } from './server.mjs';
import { DIFFERENCES } from './differences.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Folders of websockets/ that test something other than the WebSocket interface in a window:
// WebSocketStream, cookies and other globals (they need more of WPT's server), HTTP/2.
const SKIPPED_FOLDERS = [
  'stream',
  'cookies',
  'multi-globals',
  'unload-a-document',
  'interfaces',
  'support',
];
// Variants this server cannot serve: TLS (wss) and HTTP/2.
const SKIPPED_VARIANTS = ['?wss', '?wpt_flags=h2'];

// How long one test page may take before it is counted as timed out (testharness itself stops
// a "long" test after 60 s).
const PAGE_LIMIT_MS = 90_000;

function parseArgs(argv) {
  const args = {
    wpt: null,
    browsers: ['chromium', 'firefox'],
    only: null,
    pkg: path.join(ROOT, 'pkg'),
    json: null,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const value = argv[i + 1];
    switch (argv[i]) {
      case '--wpt':
        args.wpt = path.resolve(value);
        i += 1;
        break;
      case '--browsers':
        args.browsers = value.split(',');
        i += 1;
        break;
      case '--only':
        args.only = value;
        i += 1;
        break;
      case '--pkg':
        args.pkg = path.resolve(value);
        i += 1;
        break;
      case '--json':
        args.json = value;
        i += 1;
        break;
      default:
        throw new Error(`unknown argument ${argv[i]}`);
    }
  }
  if (!args.wpt) throw new Error('--wpt DIR (a web-platform-tests checkout) is required');
  if (!fs.existsSync(path.join(args.wpt, 'websockets')))
    throw new Error(`${args.wpt}/websockets not found`);
  if (!fs.existsSync(path.join(args.pkg, 'index.js')))
    throw new Error(`${args.pkg}/index.js not found: run scripts/build-package`);
  return args;
}

/** Every test page of websockets/ this runner can run, as URL paths (with their variant). */
function listTests(wpt, only) {
  const pages = [];
  const walk = (dir, rel) => {
    for (const entry of fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => a.name.localeCompare(b.name))) {
      const relPath = `${rel}/${entry.name}`;
      if (entry.isDirectory()) {
        if (
          !SKIPPED_FOLDERS.includes(entry.name) &&
          entry.name !== 'resources' &&
          entry.name !== 'handlers'
        ) {
          walk(path.join(dir, entry.name), relPath);
        }
        continue;
      }
      const file = path.join(dir, entry.name);
      let page = null;
      let variants = [''];
      if (/\.(any|window)\.js$/.test(entry.name)) {
        const source = fs.readFileSync(file, 'utf8');
        // Older tests pick TLS with an argument rather than a variant.
        if (/Create(Control)?WebSocket\(true/.test(source)) continue;
        const meta = metaOf(source);
        const globals = meta.find(([key]) => key === 'global')?.[1];
        if (
          entry.name.endsWith('.any.js') &&
          globals &&
          !globals.split(',').some((g) => g.trim() === 'window')
        )
          continue;
        page = relPath.replace(/\.js$/, '.html');
        const declared = meta.filter(([key]) => key === 'variant').map(([, value]) => value);
        if (declared.length)
          variants = declared.filter((variant) => !SKIPPED_VARIANTS.includes(variant));
      } else if (/\.html?$/.test(entry.name) && !/-manual\.html?$/.test(entry.name)) {
        const source = fs.readFileSync(file, 'utf8');
        if (!source.includes('/resources/testharness.js')) continue;
        if (fs.existsSync(file.replace(/\.html?$/, '.any.js'))) continue;
        page = relPath;
      }
      if (!page) continue;
      for (const variant of variants) pages.push(`${page}${variant}`);
    }
  };
  walk(path.join(wpt, 'websockets'), '/websockets');
  return only ? pages.filter((page) => page.includes(only)) : pages;
}

/** The package as one classic script that installs the class as `window.WebSocket`. */
function buildSubject(pkg, outDir) {
  const entry = path.join(outDir, 'subject-entry.js');
  fs.writeFileSync(
    entry,
    [
      `import { ReconnectingWebSocket } from ${JSON.stringify(path.join(pkg, 'index.js'))};`,
      'self.WebSocket = ReconnectingWebSocket;',
      '',
    ].join('\n'),
  );
  const out = path.join(outDir, 'subject.js');
  // A classic script runs before the test's own scripts; the glue finds the .wasm through
  // import.meta.url, which a classic script lacks, so it is given the package's address.
  execFileSync(path.join(ROOT, 'node_modules/.bin/esbuild'), [
    entry,
    '--bundle',
    '--format=iife',
    '--target=es2022',
    '--log-level=error',
    '--define:import.meta.url=__resocketPackageUrl',
    `--outfile=${out}`,
  ]);
  return `self.__resocketPackageUrl = new URL('/__pkg/index.js', location.href).href;\n${fs.readFileSync(out, 'utf8')}`;
}

function launchBrowser(browser, url, workDir) {
  const profile = fs.mkdtempSync(path.join(workDir, `${browser}-`));
  if (browser === 'chromium') {
    return spawn(
      '/usr/bin/chromium',
      [...CHROMIUM_FLAGS, ...UNTHROTTLED_FLAGS, `--user-data-dir=${profile}`, url],
      { stdio: 'ignore' },
    );
  }
  if (browser === 'firefox') {
    writeFirefoxPrefs(profile, [
      'user_pref("app.update.disabledForTesting", true);',
      'user_pref("network.captive-portal-service.enabled", false);',
      'user_pref("network.connectivity-service.enabled", false);',
      'user_pref("browser.safebrowsing.update.enabled", false);',
      'user_pref("dom.min_background_timeout_value", 4);',
    ]);
    return spawn('firefox-esr', ['--headless', '--no-remote', '--profile', profile, url], {
      stdio: 'ignore',
      env: { ...process.env, MOZ_DISABLE_AUTO_SAFE_MODE: '1' },
    });
  }
  throw new Error(`unknown browser ${browser}`);
}

/** Runs every page for one subject in one browser; resolves to { page: result }. */
async function runSubject(server, browser, subject, pages, workDir) {
  const run = server.newRun(subject, pages, PAGE_LIMIT_MS);
  const child = launchBrowser(browser, `${server.origin}/__wpt/runner.html?run=${run.id}`, workDir);
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  try {
    return await run.done;
  } finally {
    if (!exited) child.kill('SIGKILL');
  }
}

/** What differs: subtests that pass natively and not on the class, minus documented ones. */
export function compare(native, facade, differences) {
  const unexplained = [];
  const explained = [];
  let nativePasses = 0;
  let facadePasses = 0;
  for (const [page, expected] of Object.entries(native)) {
    const got = facade[page] ?? { harness: 'MISSING', tests: [] };
    const byName = new Map(got.tests.map((test) => [test.name, test]));
    const pageDifference = differences.find((d) => page.includes(d.page) && !d.subtest);
    if (expected.harness === 'OK' && got.harness !== 'OK') {
      (pageDifference ? explained : unexplained).push({
        page,
        subtest: '(harness)',
        native: 'OK',
        facade: got.harness,
        message: got.message ?? '',
        why: pageDifference?.why,
      });
    }
    for (const test of expected.tests) {
      if (test.status !== 'PASS') continue;
      nativePasses += 1;
      const mine = byName.get(test.name);
      if (mine?.status === 'PASS') {
        facadePasses += 1;
        continue;
      }
      const difference = differences.find(
        (d) => page.includes(d.page) && (!d.subtest || test.name.includes(d.subtest)),
      );
      const entry = {
        page,
        subtest: test.name,
        native: 'PASS',
        facade: mine?.status ?? 'MISSING',
        message: mine?.message ?? '',
        why: difference?.why,
      };
      (difference ? explained : unexplained).push(entry);
    }
  }
  return { nativePasses, facadePasses, explained, unexplained };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-wpt-'));
  const pages = listTests(args.wpt, args.only);
  const subjectScript = buildSubject(args.pkg, workDir);
  const server = await startServer({ wpt: args.wpt, pkg: args.pkg, subjectScript });
  console.log(
    `[wpt] ${pages.length} test pages from ${args.wpt}/websockets, served at ${server.origin}`,
  );
  const report = {};
  let failures = 0;
  try {
    for (const browser of args.browsers) {
      const started = Date.now();
      const native = await runSubject(server, browser, 'native', pages, workDir);
      const facade = await runSubject(server, browser, 'class', pages, workDir);
      const result = compare(native, facade, DIFFERENCES);
      report[browser] = { native, facade, ...result };
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      console.log(
        `[wpt] ${browser}: the class passes ${result.facadePasses} of the ${result.nativePasses} subtests native WebSocket passes ` +
          `(${result.explained.length} documented differences, ${result.unexplained.length} unexplained; ${seconds} s)`,
      );
      for (const entry of result.explained) {
        console.log(
          `[wpt] ${browser}:   documented  ${entry.page} :: ${entry.subtest} (${entry.why})`,
        );
      }
      for (const entry of result.unexplained) {
        console.log(
          `[wpt] ${browser}:   FAILED      ${entry.page} :: ${entry.subtest}: ${entry.facade} ${entry.message}`,
        );
      }
      failures += result.unexplained.length;
      // In the form scripts/test counts.
      console.log(
        `test result: ${result.unexplained.length ? 'FAILED' : 'ok'}. ${result.facadePasses} passed; ${result.unexplained.length} failed; wpt ${browser}`,
      );
    }
  } finally {
    await server.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  if (args.json) fs.writeFileSync(args.json, JSON.stringify(report, null, 1));
  console.log(`[wpt] ${failures === 0 ? 'ok' : 'FAILED'}: ${failures} unexplained differences`);
  process.exitCode = failures === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`[wpt] ${error.stack ?? error}`);
    process.exitCode = 2;
  });
}
