// The one way resocket measures gzipped size: the files concatenated, Node's zlib at level 9.
// The benchmark's size table, scripts/build-package and the package test all use it, so their
// figures agree (GNU gzip -9 packs the same wasm about 1 % smaller).
//
//   node scripts/gzip-size.mjs FILE...   prints the gzipped size, in bytes, of the files together
import fs from 'node:fs';
import process from 'node:process';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

/** The files' bytes together: `raw`, and `gz` once gzipped. */
export function gzipSize(files) {
  const bytes = Buffer.concat(files.map((file) => fs.readFileSync(file)));
  return { raw: bytes.length, gz: zlib.gzipSync(bytes, { level: 9 }).length };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (!files.length) {
    console.error('usage: node scripts/gzip-size.mjs FILE...');
    process.exit(2);
  }
  console.log(gzipSize(files).gz);
}
