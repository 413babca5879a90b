// The package's TypeScript declarations: tests/package/types/usage.ts must type-check against
// pkg/index.d.ts under `strict`, including its `@ts-expect-error` lines (each must be an error).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the declarations type-check a strict TypeScript user', () => {
  assert.ok(
    fs.existsSync(path.join(root, 'pkg/index.d.ts')),
    'pkg/index.d.ts is missing: run scripts/build-package first',
  );
  const tsc = path.join(root, 'node_modules/.bin/tsc');
  try {
    execFileSync(tsc, ['-p', path.join(root, 'tests/package/types')], { encoding: 'utf8' });
  } catch (error) {
    assert.fail(`tsc found errors:\n${error.stdout}${error.stderr}`);
  }
});
