// The WPT runner's own logic, without a browser or a WPT checkout: how results are compared
// and which differences excuse what, the META lines it reads, and the pages its server makes.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { compare } from './run.mjs';
import { metaOf, substitute, wrapperFor, injectSubject } from './server.mjs';

const page = (harness, ...tests) => ({
  harness,
  message: '',
  tests: tests.map(([name, status]) => ({ name, status, message: '' })),
});

test('a subtest that passes natively and fails on the class is unexplained', () => {
  const native = { '/websockets/a.html': page('OK', ['x', 'PASS'], ['y', 'PASS'], ['z', 'FAIL']) };
  const facade = { '/websockets/a.html': page('OK', ['x', 'PASS'], ['y', 'FAIL'], ['z', 'PASS']) };
  const result = compare(native, facade, []);
  assert.equal(result.nativePasses, 2);
  assert.equal(result.facadePasses, 1);
  assert.deepEqual(
    result.unexplained.map((e) => e.subtest),
    ['y'],
  );
  assert.deepEqual(result.explained, []);
});

test('a documented difference excuses only the page and subtest it names', () => {
  const native = {
    '/websockets/Send-before-open.any.html': page('OK', ['queues', 'PASS']),
    '/websockets/other.html': page('OK', ['queues', 'PASS']),
  };
  const facade = {
    '/websockets/Send-before-open.any.html': page('OK', ['queues', 'FAIL']),
    '/websockets/other.html': page('OK', ['queues', 'FAIL']),
  };
  const differences = [
    { page: '/Send-before-open', subtest: 'queue', why: 'sending while CONNECTING queues' },
  ];
  const result = compare(native, facade, differences);
  assert.deepEqual(
    result.explained.map((e) => e.page),
    ['/websockets/Send-before-open.any.html'],
  );
  assert.deepEqual(
    result.unexplained.map((e) => e.page),
    ['/websockets/other.html'],
  );
});

test('a page missing on the class, or one whose harness failed, counts against it', () => {
  const native = {
    '/websockets/a.html': page('OK', ['x', 'PASS']),
    '/websockets/b.html': page('OK', ['y', 'PASS']),
  };
  const facade = { '/websockets/b.html': page('ERROR') };
  const result = compare(native, facade, []);
  assert.deepEqual(
    result.unexplained.map((e) => `${e.page} ${e.subtest} ${e.facade}`),
    [
      '/websockets/a.html (harness) MISSING',
      '/websockets/a.html x MISSING',
      '/websockets/b.html (harness) ERROR',
      '/websockets/b.html y MISSING',
    ],
  );
});

test('META lines are read up to the first line of code', () => {
  const source =
    '// META: script=websocket.sub.js\n// META: timeout=long\n//  a comment\n\nvar x = 1;\n// META: script=late.js\n';
  assert.deepEqual(metaOf(source), [
    ['script', 'websocket.sub.js'],
    ['timeout', 'long'],
  ]);
});

test("WPT's substitutions: the host, our port for ws and http, a closed one for TLS", () => {
  const text =
    'ws://{{host}}:{{ports[ws][0]}} http:{{ports[http][0]}} wss:{{ports[wss][0]}} {{GET[x]}} {{unknown}}';
  assert.equal(
    substitute(text, { port: 1234, closedPort: 9, query: new URLSearchParams('x=y') }),
    'ws://127.0.0.1:1234 http:1234 wss:9 y {{unknown}}',
  );
  // The main host is 127.0.0.1; a subdomain is another origin on the same address.
  assert.equal(
    substitute('{{domains[]}} {{domains[www]}} {{hosts[][]}} {{hosts[][www]}}', {
      port: 1,
      closedPort: 9,
      query: new URLSearchParams(),
    }),
    '127.0.0.1 localhost 127.0.0.1 localhost',
  );
});

test('the class is put in place before any script of the test', () => {
  const wrapper = wrapperFor(
    '/websockets/a.any.js',
    '// META: script=constants.sub.js\n// META: timeout=long\ntest(() => {});\n',
    'class',
  );
  const order = [
    'testharness.js',
    'testharnessreport.js',
    '/__wpt/subject.js',
    'constants.sub.js',
    'a.any.js',
  ].map((name) => wrapper.indexOf(name));
  assert.ok(
    order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1])),
    wrapper,
  );
  assert.ok(wrapper.includes('<meta name="timeout" content="long">'));
  assert.ok(
    !wrapperFor('/websockets/a.any.js', 'test(() => {});\n', 'native').includes('subject.js'),
  );
  const html = injectSubject(
    '<!doctype html><title>t</title><script src=/resources/testharness.js></script>',
  );
  assert.ok(html.indexOf('/__wpt/subject.js') < html.indexOf('testharness.js'), html);
});
