// Names written down in more than one place must agree. js/options.js holds the one list of
// the class's options; index.d.ts, both READMEs and the Rust reader (js/src/options.rs) each
// name them again, and this test fails when one of them drifts. The same for the numbers of
// the event kinds, which js/src/events.rs sends and js/reconnecting-websocket.js receives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { OPTIONS, OPTION_NAMES } from '../../js/options.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8');

/** The text between `start` and the first `end` after it. */
function section(text, start, end, where) {
  const from = text.indexOf(start);
  assert.ok(from >= 0, `${where}: "${start}" not found`);
  const to = text.indexOf(end, from + start.length);
  return text.slice(from, to < 0 ? undefined : to);
}

/** The option names in the first column of a Markdown table, in order (`a`, `b` rows split). */
function tableNames(table) {
  return table
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .flatMap((line) =>
      line
        .split('|')[1]
        .match(/`[A-Za-z]+`/g)
        .map((name) => name.slice(1, -1)),
    );
}

test('index.d.ts declares every option, in the same order, and no other', () => {
  const body = section(
    read('js/index.d.ts'),
    'export interface ReconnectingWebSocketOptions',
    '\n}',
    'index.d.ts',
  );
  const declared = [...body.matchAll(/^ {2}([A-Za-z]+)\?:/gm)].map((match) => match[1]);
  assert.deepEqual(declared, OPTION_NAMES);
});

test('js/README.md lists every option in its table, in the same order', () => {
  const table = section(read('js/README.md'), '| option |', '\n\n', 'js/README.md');
  assert.deepEqual(tableNames(table), OPTION_NAMES);
});

test("README.md's JavaScript section lists every option", () => {
  const javascript = section(read('README.md'), '## JavaScript', '\n## ', 'README.md');
  const table = section(javascript, '| option |', '\n\n', "README.md's JavaScript section");
  assert.deepEqual(tableNames(table), OPTION_NAMES);
});

test('the Rust reader reads exactly the options handed on to the core', () => {
  // Each read is a helper call on the options object: millis(options, "minDelay"), ...
  const reader = read('js/src/options.rs');
  const names = new Set(
    [...reader.matchAll(/\b[a-z]+\(options, "([A-Za-z]+)"/g)].map((match) => match[1]),
  );
  assert.deepEqual(
    [...names].sort(),
    OPTIONS.filter((option) => option.core)
      .map((option) => option.name)
      .sort(),
  );
});

test('the event kinds have the same numbers in Rust and in the class', () => {
  const rust = section(read('js/src/events.rs'), 'enum EventKind {', '\n}', 'js/src/events.rs');
  const sent = Object.fromEntries(
    [...rust.matchAll(/^ {4}([A-Za-z]+) = (\d+),/gm)].map(([, name, number]) => [
      name.toUpperCase(),
      Number(number),
    ]),
  );
  const js = read('js/reconnecting-websocket.js');
  const received = Object.fromEntries(
    [...js.matchAll(/^const KIND_([A-Z]+) = (\d+);/gm)].map(([, name, number]) => [
      name,
      Number(number),
    ]),
  );
  assert.ok(
    Object.keys(sent).length >= 9,
    `only ${Object.keys(sent).length} kinds found in js/src/events.rs`,
  );
  assert.deepEqual(received, sent);
});
