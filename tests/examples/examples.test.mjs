// The framework example apps (examples/leptos-app, examples/yew-app), run headless in
// Chromium against the bundled test server, which serves them too:
//
// - the page connects through resocket's reconnecting client and shows the state "open";
// - it shows the ticker's data arriving (#tick goes up, #received counts);
// - the send button goes through the same client;
// - after the server cuts every connection without a close frame (1006), the page counts
//   a reconnect, is "open" again, and the ticks carry on past where they were.
//
// Run `scripts/build-examples` first (the apps' pkg/ folders are not built here), then
// `node --test tests/examples/`. Screenshots go to target/screenshots/<app>.png.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, launchChromium, startServer, stopServer } from '../support/harness.mjs';

const SCREENSHOTS = path.join(ROOT, 'target/screenshots');
const WAIT_MS = 15_000;
const APPS = [
  { name: 'leptos-app', module: 'resocket_leptos_example.js' },
  { name: 'yew-app', module: 'resocket_yew_example.js' },
];

let server;
let browser;
let origin;
let temporary;

before(async () => {
  temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-examples-'));
  server = await startServer(path.join(ROOT, 'examples'), path.join(temporary, 'port'));
  origin = server.origin;
  browser = await launchChromium();
});

// Whatever happened, neither the browser nor the server may outlive the tests.
after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
  if (temporary) fs.rmSync(temporary, { recursive: true, force: true });
});

// What the page shows, read in one go so the values belong together.
function readPage(page) {
  return page.evaluate(() => {
    const text = (id) => document.getElementById(id)?.textContent ?? null;
    const number = (id) => {
      const value = Number.parseInt(text(id) ?? '', 10);
      return Number.isNaN(value) ? null : value;
    };
    return {
      state: text('state'),
      tick: number('tick'),
      received: number('received'),
      reconnects: number('reconnects'),
      sent: number('sent'),
      note: text('note'),
    };
  });
}

// Polls the page until `check` holds; on timeout, fails naming what was awaited and what
// the page showed last, with any page errors.
async function waitFor(page, errors, what, check) {
  const deadline = Date.now() + WAIT_MS;
  let shown;
  for (;;) {
    shown = await readPage(page);
    if (check(shown)) return shown;
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  assert.fail(
    `timed out after ${WAIT_MS / 1000} s waiting for ${what}; the page shows ` +
      `${JSON.stringify(shown)}` +
      (errors.length ? `; page errors: ${errors.join(' | ')}` : ''),
  );
}

async function control(route) {
  const response = await fetch(`${origin}${route}`);
  assert.equal(response.status, 200, `${route} answered ${response.status}`);
  return response.text();
}

describe('example apps', () => {
  for (const app of APPS) {
    test(`${app.name} shows the live feed and recovers after the server drops it`, async () => {
      const module = path.join(ROOT, 'examples', app.name, 'pkg', app.module);
      assert.ok(
        fs.existsSync(module),
        `${path.relative(ROOT, module)} is missing: run scripts/build-examples first`,
      );

      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (error) => errors.push(error.message));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      try {
        await page.goto(`${origin}/${app.name}/`);

        const opened = await waitFor(page, errors, '#state "open"', (s) => s.state === 'open');
        const first = await waitFor(page, errors, 'a first tick', (s) => s.tick !== null);
        await waitFor(
          page,
          errors,
          `#tick to go up 3 times from ${first.tick}`,
          (s) => s.tick >= first.tick + 3 && s.received >= first.received + 3,
        );
        assert.equal(opened.reconnects, 0, 'no reconnect before the drop');

        // The Sink side: the button's message goes through the same client.
        await page.click('#send');
        await waitFor(page, errors, '#sent to count the click', (s) => s.sent === 1);

        const atDrop = await readPage(page);
        const dropped = Number(await control('/control/drop-all'));
        assert.ok(dropped >= 1, `drop-all cut ${dropped} connections, expected the page's`);

        const back = await waitFor(
          page,
          errors,
          '#reconnects >= 1 and #state "open" again',
          (s) => s.reconnects >= 1 && s.state === 'open',
        );
        await waitFor(
          page,
          errors,
          `#tick to carry on past ${atDrop.tick} after reconnecting`,
          (s) => s.tick >= Math.max(atDrop.tick, back.tick) + 3 && s.received > atDrop.received,
        );

        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SCREENSHOTS, `${app.name}.png`) });
        assert.deepEqual(errors, [], 'the page logged errors');
      } finally {
        await page.close();
      }
    });
  }
});
