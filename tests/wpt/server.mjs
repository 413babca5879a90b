// The server tests/wpt/run.mjs runs the WPT WebSocket tests on: one HTTP server on 127.0.0.1
// (a port the OS picks) that serves the test pages from a WPT checkout, the package, a runner
// page that loads each test in an iframe and collects its results, and, on the same port, the
// WebSocket endpoints the tests connect to (tests/wpt/handlers.mjs).
//
// Test pages are served twice: under /__native/ as they are, and under /__class/ with a
// script that puts ReconnectingWebSocket in the place of window.WebSocket before any of the
// test's own scripts run. `X.any.js` and `X.window.js` tests get the page WPT's own server
// would wrap them in; `.sub.` files get WPT's `{{...}}` substitutions.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';

import { handleUpgrade } from './handlers.mjs';

const HOST = '127.0.0.1';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.txt': 'text/plain; charset=utf-8',
  '.idl': 'text/plain; charset=utf-8',
};

// Replaces WPT's testharnessreport.js (a file WPT leaves to each runner): hands the results
// of a page to the runner page that framed it.
//
// It also gives an older testharness.js the assertions later tests use (a checkout's
// testharness.js and tests can be of different ages), in terms of its own `assert_throws`.
const REPORT_SCRIPT = `
if (!self.assert_throws_dom && self.assert_throws) {
  self.assert_throws_dom = function (type, a, b, c) {
    return typeof b === 'function' ? assert_throws(type, b, c) : assert_throws(type, a, b);
  };
}
if (!self.assert_throws_js && self.assert_throws) {
  self.assert_throws_js = function (ctor, fn, description) {
    return assert_throws({ name: ctor.name }, fn, description);
  };
}
add_completion_callback(function (tests, status) {
  var target = window.parent !== window ? window.parent : window.opener;
  if (!target) return;
  target.postMessage({
    type: 'resocket-wpt',
    harness: status.status,
    message: status.message || '',
    tests: tests.map(function (t) { return { name: t.name, status: t.status, message: t.message || '' }; }),
  }, '*');
});
`;

// The runner page: loads each test page of a run in a fresh iframe, one at a time, and posts
// each page's results to the server.
const RUNNER_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>resocket WPT runner</title>
<script>
const STATUS = ['PASS', 'FAIL', 'TIMEOUT', 'NOTRUN', 'PRECONDITION_FAILED'];
const HARNESS = ['OK', 'ERROR', 'TIMEOUT', 'PRECONDITION_FAILED'];
(async () => {
  const id = new URLSearchParams(location.search).get('run');
  const run = await (await fetch('/__wpt/run/' + id)).json();
  for (const page of run.pages) {
    const frame = document.createElement('iframe');
    const result = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ harness: 'PAGE_TIMEOUT', message: 'no results within ' + run.limit + ' ms', tests: [] }), run.limit);
      const listener = (event) => {
        if (event.source !== frame.contentWindow || event.data?.type !== 'resocket-wpt') return;
        clearTimeout(timer);
        removeEventListener('message', listener);
        resolve({
          harness: HARNESS[event.data.harness] ?? String(event.data.harness),
          message: event.data.message,
          tests: event.data.tests.map((t) => ({ name: t.name, status: STATUS[t.status] ?? String(t.status), message: t.message })),
        });
      };
      addEventListener('message', listener);
      frame.src = '/__' + run.subject + page;
      document.body.append(frame);
    });
    frame.remove();
    await fetch('/__wpt/result/' + id, { method: 'POST', body: JSON.stringify({ page, ...result }) });
  }
  await fetch('/__wpt/done/' + id, { method: 'POST' });
})();
</script>
<body></body>
`;

/** The `META:` lines of an `.any.js` / `.window.js` test, as [key, value] pairs. */
export function metaOf(source) {
  const meta = [];
  for (const line of source.split('\n')) {
    const match = /^\/\/ META: *([a-z_]+)=(.*)$/.exec(line.trim());
    if (match) meta.push([match[1], match[2].trim()]);
    else if (line.trim() !== '' && !line.trim().startsWith('//')) break;
  }
  return meta;
}

/** WPT's `{{...}}` substitutions, as far as the WebSocket tests use them. */
export function substitute(text, { port, closedPort, query }) {
  return text.replace(/\{\{([^}]+)\}\}/g, (whole, expression) => {
    const expr = expression.trim();
    if (expr === 'host') return HOST;
    let match;
    if ((match = /^ports\[(\w+)\]\[(\d+)\]$/.exec(expr))) {
      return ['ws', 'http'].includes(match[1]) ? String(port) : String(closedPort);
    }
    // The main host ("domains[]", "hosts[][]") is 127.0.0.1; a subdomain ("domains[www]")
    // is another origin on the same address.
    if (/^(domains|hosts)\[/.test(expr)) return /\[\]$/.test(expr) ? HOST : 'localhost';
    if ((match = /^GET\[(\w+)\]$/.exec(expr))) return query.get(match[1]) ?? '';
    if (expr === 'uuid()') return crypto.randomUUID();
    return whole;
  });
}

/** The page WPT's server makes for an `.any.js` / `.window.js` test, in a window. */
export function wrapperFor(jsPath, source, subject) {
  const meta = metaOf(source);
  const lines = ['<!doctype html>', '<meta charset="utf-8">'];
  for (const [key, value] of meta) {
    if (key === 'timeout' && value === 'long') lines.push('<meta name="timeout" content="long">');
    if (key === 'title') lines.push(`<title>${value}</title>`);
  }
  lines.push(
    '<script>self.GLOBAL = { isWindow: () => true, isWorker: () => false, isShadowRealm: () => false };</script>',
  );
  lines.push('<script src="/resources/testharness.js"></script>');
  lines.push('<script src="/resources/testharnessreport.js"></script>');
  if (subject === 'class') lines.push('<script src="/__wpt/subject.js"></script>');
  for (const [key, value] of meta)
    if (key === 'script') lines.push(`<script src="${value}"></script>`);
  lines.push('<div id="log"></div>');
  lines.push(`<script src="${path.posix.basename(jsPath)}"></script>`);
  return lines.join('\n') + '\n';
}

/** Puts the class in place before the first script of an HTML test page. */
export function injectSubject(html) {
  const tag = '<script src="/__wpt/subject.js"></script>';
  const at = html.search(/<script/i);
  return at < 0 ? tag + html : html.slice(0, at) + tag + html.slice(at);
}

export async function startServer({ wpt, pkg, subjectScript }) {
  const runs = new Map();
  let nextRun = 1;
  // A port nothing listens on, for the wss/https ports the tests may name.
  const closedPort = await new Promise((resolve) => {
    const probe = http.createServer();
    probe.listen(0, HOST, () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
  let port = 0;

  const send = (res, status, type, body) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };

  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });

  // A file of the checkout, or null when the path leaves it or names nothing.
  const fileOf = (urlPath) => {
    const file = path.join(wpt, path.normalize(decodeURIComponent(urlPath)));
    if (!file.startsWith(wpt + path.sep)) return null;
    return fs.existsSync(file) && fs.statSync(file).isFile() ? file : null;
  };

  const serveTestFile = (res, urlPath, subject, query) => {
    const wrapped = /\.(any|window)\.html$/.exec(urlPath);
    if (wrapped) {
      const jsPath = urlPath.replace(/\.html$/, '.js');
      const file = fileOf(jsPath);
      if (!file) return send(res, 404, 'text/plain', 'not found');
      return send(
        res,
        200,
        TYPES['.html'],
        wrapperFor(jsPath, fs.readFileSync(file, 'utf8'), subject),
      );
    }
    const file = fileOf(urlPath);
    if (!file) return send(res, 404, 'text/plain', 'not found');
    const ext = path.extname(file);
    let body = fs.readFileSync(file);
    if (path.basename(file).includes('.sub.') || query.get('pipe') === 'sub')
      body = substitute(body.toString('utf8'), { port, closedPort, query });
    if (subject === 'class' && (ext === '.html' || ext === '.htm'))
      body = injectSubject(body.toString('utf8'));
    send(res, 200, TYPES[ext] ?? 'application/octet-stream', body);
  };

  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, `http://${HOST}:${port}`);
      const p = url.pathname;
      let match;
      if (p === '/__wpt/runner.html') return send(res, 200, TYPES['.html'], RUNNER_PAGE);
      if (p === '/__wpt/subject.js') return send(res, 200, TYPES['.js'], subjectScript);
      if (p === '/resources/testharnessreport.js')
        return send(res, 200, TYPES['.js'], REPORT_SCRIPT);
      if ((match = /^\/__wpt\/run\/(\d+)$/.exec(p))) {
        const run = runs.get(Number(match[1]));
        return send(
          res,
          200,
          TYPES['.json'],
          JSON.stringify({ subject: run.subject, pages: run.pages, limit: run.limit }),
        );
      }
      if ((match = /^\/__wpt\/result\/(\d+)$/.exec(p)) && req.method === 'POST') {
        const result = JSON.parse(await readBody(req));
        const run = runs.get(Number(match[1]));
        run.results[result.page] = {
          harness: result.harness,
          message: result.message,
          tests: result.tests,
        };
        process.stdout.write(
          `[wpt]   ${run.subject} ${result.page}: ${result.harness}, ${result.tests.filter((t) => t.status === 'PASS').length}/${result.tests.length}\n`,
        );
        return send(res, 204, 'text/plain', '');
      }
      if ((match = /^\/__wpt\/done\/(\d+)$/.exec(p)) && req.method === 'POST') {
        const run = runs.get(Number(match[1]));
        run.finish(run.results);
        return send(res, 204, 'text/plain', '');
      }
      if (p.startsWith('/__pkg/')) {
        const file = path.join(pkg, path.normalize(p.slice('/__pkg/'.length)));
        if (!file.startsWith(pkg + path.sep) || !fs.existsSync(file))
          return send(res, 404, 'text/plain', 'not found');
        return send(
          res,
          200,
          TYPES[path.extname(file)] ?? 'application/octet-stream',
          fs.readFileSync(file),
        );
      }
      if ((match = /^\/__(native|class)(\/.*)$/.exec(p)))
        return serveTestFile(res, match[2], match[1], url.searchParams);
      return serveTestFile(res, p, 'native', url.searchParams);
    } catch (error) {
      send(res, 500, 'text/plain', String(error.stack ?? error));
    }
  });
  server.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head));
  await new Promise((resolve) => server.listen(0, HOST, resolve));
  port = server.address().port;

  return {
    origin: `http://${HOST}:${port}`,
    newRun(subject, pages, limit) {
      const id = nextRun++;
      let finish;
      const done = new Promise((resolve) => {
        finish = resolve;
      });
      runs.set(id, { subject, pages, limit, results: {}, finish });
      return { id, done };
    },
    close() {
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
