// Where a .wasm file's bytes go: node bench/wasm-sizes.mjs FILE.wasm [--top N] [--gzip]
//
// Reads the module's sections, and each function body's size with its name from the name
// section (so build with names kept: wasm-bindgen keeps them; wasm-opt needs -g). Prints the
// sections, the largest functions, and the functions summed by the path they come from
// (crate::module, from the Rust symbol), which is what tells a feature's cost. Used when the
// size goals are missed, to find what to cut; scripts/bench --sizes runs it on the apps.

import fs from 'node:fs';
import zlib from 'node:zlib';

const args = process.argv.slice(2);
const file = args.find((arg) => !arg.startsWith('--') && !/^\d+$/.test(arg));
const top = Number(args[args.indexOf('--top') + 1]) || 40;
if (!file) {
  console.error('usage: node bench/wasm-sizes.mjs FILE.wasm [--top N]');
  process.exit(2);
}
const bytes = fs.readFileSync(file);

let at = 8; // past the magic number and version
function leb() {
  let result = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return result;
  }
}
function name() {
  const length = leb();
  const text = bytes.toString('utf8', at, at + length);
  at += length;
  return text;
}

const sectionNames = [
  'custom',
  'type',
  'import',
  'function',
  'table',
  'memory',
  'global',
  'export',
  'start',
  'element',
  'code',
  'data',
  'datacount',
  'tag',
];
const sections = [];
let importedFunctions = 0;
let bodies = [];
const names = new Map();
while (at < bytes.length) {
  const id = bytes[at++];
  const size = leb();
  const start = at;
  let label = sectionNames[id] ?? `#${id}`;
  if (id === 0) label = `custom "${name()}"`;
  if (id === 2) {
    for (let count = leb(), i = 0; i < count; i++) {
      name();
      name();
      const kind = bytes[at++];
      if (kind === 0) {
        importedFunctions++;
        leb();
      } else if (kind === 1) {
        at++;
        const flags = leb();
        leb();
        if (flags & 1) leb();
      } else if (kind === 2) {
        const flags = leb();
        leb();
        if (flags & 1) leb();
      } else if (kind === 3) {
        at++;
        at++;
      } else if (kind === 4) {
        at++;
        leb();
      }
    }
  }
  if (id === 10) {
    for (let count = leb(), i = 0; i < count; i++) {
      const bodySize = leb();
      bodies.push({ index: importedFunctions + i, size: bodySize });
      at += bodySize;
    }
  }
  if (label === 'custom "name"') {
    while (at < start + size) {
      const kind = bytes[at++];
      const length = leb();
      const end = at + length;
      if (kind === 1) {
        for (let count = leb(), i = 0; i < count; i++) {
          const index = leb();
          names.set(index, name());
        }
      }
      at = end;
    }
  }
  sections.push({ label, size });
  at = start + size;
}

// Legacy Rust mangling: _ZN, then length-prefixed segments, ending in a 17h<hash> segment.
function demangle(symbol) {
  if (!symbol?.startsWith('_ZN')) return symbol ?? '?';
  const parts = [];
  let i = 3;
  while (i < symbol.length && symbol[i] !== 'E') {
    const digits = /^\d+/.exec(symbol.slice(i))[0];
    i += digits.length;
    parts.push(symbol.slice(i, i + Number(digits)));
    i += Number(digits);
  }
  if (/^h[0-9a-f]{16}$/.test(parts.at(-1))) parts.pop();
  return parts
    .join('::')
    .replace(/\$LT\$/g, '<')
    .replace(/\$GT\$/g, '>')
    .replace(/\$u20\$/g, ' ')
    .replace(/\$RF\$/g, '&')
    .replace(/\$C\$/g, ',')
    .replace(/\.\./g, '::')
    .replace(/\$u7b\$/g, '{')
    .replace(/\$u7d\$/g, '}')
    .replace(/\$BP\$/g, '*');
}

// The path a function belongs to: the first two segments of its demangled name, looking
// through `<T as Trait>` to T.
function origin(fullName) {
  const unwrapped = fullName.replace(/^<+/, '').replace(/ as .*$/, '');
  const segments = unwrapped.split('::').filter(Boolean);
  return segments.slice(0, 2).join('::') || fullName;
}

const gz = (buffer) => zlib.gzipSync(buffer, { level: 9 }).length;
const total = bytes.length;
console.log(
  `${file}: ${total.toLocaleString('en-US')} bytes, ${gz(bytes).toLocaleString('en-US')} gzipped`,
);
console.log('\nsections');
for (const { label, size } of sections.sort((a, b) => b.size - a.size)) {
  console.log(`  ${String(size).padStart(9)}  ${label}`);
}
const named = bodies.map((body) => ({ ...body, name: demangle(names.get(body.index)) }));
console.log(`\nlargest functions (of ${named.length})`);
for (const { size, name: fn } of [...named].sort((a, b) => b.size - a.size).slice(0, top)) {
  console.log(`  ${String(size).padStart(9)}  ${fn.slice(0, 150)}`);
}
const byOrigin = new Map();
for (const { size, name: fn } of named) {
  const key = origin(fn);
  const entry = byOrigin.get(key) ?? { size: 0, count: 0 };
  entry.size += size;
  entry.count++;
  byOrigin.set(key, entry);
}
console.log('\nby origin (code bytes, functions)');
for (const [key, { size, count }] of [...byOrigin]
  .sort((a, b) => b[1].size - a[1].size)
  .slice(0, top)) {
  console.log(`  ${String(size).padStart(9)}  ${String(count).padStart(4)}  ${key}`);
}
