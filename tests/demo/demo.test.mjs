// The demo (www/: a chat room on ReconnectingWebSocket) end to end, in headless Chromium
// against the bundled server, which serves the page and its /chat room:
//
// - two pages chat, and each sees the other's messages;
// - the fault buttons reach the server's control routes, and the pages come back after a drop;
// - the server goes away for 2 s; messages typed in both pages meanwhile are queued (the
//   status panel shows the count rising, the state and the countdown to the next attempt)
//   and, once the server is back, each page gets the other's in the order they were typed.
//
// It serves www/dist, the demo as webpack.config.js builds it from www/ and the npm package
// in www/pkg (scripts/demo does both). Run with `node --test tests/demo/`. Screenshots go
// to target/screenshots/demo-a.png and demo-b.png.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, launchChromium, startServer, stopServer } from '../support/harness.mjs';

const WWW = path.join(ROOT, 'www/dist');
const SCREENSHOTS = path.join(ROOT, 'target/screenshots');
const WAIT_MS = 10_000;
const DOWN_MS = 2_000;

let server;
let browser;
let origin;
let temporary;
const pages = {}; // a, b: { page, errors }

before(async () => {
  if (!fs.existsSync(path.join(WWW, 'chat.js'))) {
    throw new Error(
      'www/dist/chat.js is missing: run scripts/demo (it builds the package, copies it to ' +
        'www/pkg and builds the demo with webpack), or `npm run build` after those',
    );
  }

  temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-demo-'));
  server = await startServer(WWW, path.join(temporary, 'address'));
  origin = server.origin;
  browser = await launchChromium();
  for (const key of ['a', 'b']) {
    // A context each, like two people: each page is then in its own window and visible. Two
    // tabs of one window would leave one hidden, with its animation frames (which clicks
    // wait for) paused.
    const context = await browser.newContext({ viewport: { width: 960, height: 680 } });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    pages[key] = { page, errors };
  }
});

// Whatever happened, neither the browser nor the server may outlive the tests.
after(async () => {
  await browser?.close().catch(() => {});
  await stopServer(server);
  if (temporary) fs.rmSync(temporary, { recursive: true, force: true });
});

// What a page shows, read in one go so the values belong together.
function readPage({ page }) {
  return page.evaluate(() => {
    const text = (id) => document.getElementById(id)?.textContent ?? null;
    const items = (id) => [...document.querySelectorAll(`#${id} li`)];
    return {
      state: text('state'),
      attempt: Number(text('attempt')),
      countdown: text('countdown'),
      queued: Number(text('queued')),
      messages: items('messages').map((li) => ({
        name: li.querySelector('.name')?.textContent,
        text: li.querySelector('.text')?.textContent,
      })),
      pending: items('pending').map((li) => li.querySelector('.text')?.textContent),
      events: items('events').map((li) => li.textContent),
    };
  });
}

// Polls a page until `check` holds; on timeout, fails naming what was awaited and what the
// page showed last, with any page errors.
async function waitFor(which, what, check, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let shown;
  for (;;) {
    shown = await readPage(pages[which]);
    if (check(shown)) return shown;
    if (Date.now() > deadline) break;
    await sleep(25);
  }
  const { errors } = pages[which];
  assert.fail(
    `page ${which}: timed out after ${ms} ms waiting for ${what}; it shows ` +
      `${JSON.stringify(shown)}${errors.length ? `; page errors: ${errors.join(' | ')}` : ''}`,
  );
}

async function say(which, text) {
  const { page } = pages[which];
  await page.fill('#message', text);
  await page.click('#send');
}

const texts = (shown) => shown.messages.map((m) => m.text);

// The texts of `list` in the order they appear among `shown`'s messages.
const inOrderShown = (shown, list) => texts(shown).filter((text) => list.includes(text));

async function control(route) {
  const response = await fetch(`${origin}${route}`);
  assert.equal(response.status, 200, `${route} answered ${response.status}`);
  return response.text();
}

test('two pages chat', async () => {
  for (const [which, name] of [
    ['a', 'Alice'],
    ['b', 'Bob'],
  ]) {
    await pages[which].page.goto(`${origin}/`);
    await pages[which].page.fill('#name', name);
  }
  await waitFor('a', 'the state "open"', (s) => s.state === 'open');
  await waitFor('b', 'the state "open"', (s) => s.state === 'open');

  await say('a', 'Hello from A');
  await waitFor('b', "A's message", (s) => texts(s).includes('Hello from A'));
  await say('b', 'Hi A, B here');
  await waitFor('a', "B's message", (s) => texts(s).includes('Hi A, B here'));

  const a = await waitFor('a', 'both messages', (s) => s.messages.length === 2);
  const b = await waitFor('b', 'both messages', (s) => s.messages.length === 2);
  assert.deepEqual(a.messages, [
    { name: 'Alice', text: 'Hello from A' },
    { name: 'Bob', text: 'Hi A, B here' },
  ]);
  assert.deepEqual(b.messages, a.messages, 'both pages show the room in one order');
  assert.deepEqual([a.pending, b.pending], [[], []], 'no message is left waiting');
});

test('the fault buttons reach the server; the pages come back after a drop', async () => {
  await pages.a.page.click('#drop');
  for (const which of ['a', 'b']) {
    await waitFor(which, 'a close without a close frame (1006) in the event list', (s) =>
      s.events.some((e) => e.includes('closed (1006, not clean)')),
    );
    await waitFor(which, 'the state "open" again', (s) => s.state === 'open');
  }
  await waitFor('a', 'the drop reported', (s) =>
    s.events.some((e) => e.includes('server cut 2 connection(s)')),
  );
  await say('b', 'Still here after the drop');
  await waitFor('a', "B's message after the drop", (s) =>
    texts(s).includes('Still here after the drop'),
  );

  // "Server away 5 s" asks for a 5 s restart; answered here so the test need not wait it out.
  let asked = null;
  await pages.a.page.route('**/control/restart*', (route) => {
    asked = new URL(route.request().url());
    return route.fulfill({ status: 200, body: 'ok' });
  });
  await pages.a.page.click('#away');
  await waitFor('a', 'the away request reported', (s) =>
    s.events.some((e) => e.includes('server away for 5 s')),
  );
  await pages.a.page.unroute('**/control/restart*');
  assert.equal(asked?.pathname, '/control/restart');
  assert.equal(asked?.search, '?down=5000');
});

test('messages typed while the server is away reach the other page, in order', async (t) => {
  const outage = {
    a: ['A while away 1', 'A while away 2', 'A while away 3'],
    b: ['B while away 1', 'B while away 2', 'B while away 3'],
  };
  const before = {
    a: (await readPage(pages.a)).messages.length,
    b: (await readPage(pages.b)).messages.length,
  };

  // The server stops listening and cuts every connection before it answers.
  assert.equal(await control(`/control/restart?down=${DOWN_MS}`), 'ok');
  const downSince = Date.now();
  for (const which of ['a', 'b']) {
    await waitFor(which, 'the state to leave "open"', (s) => s.state !== 'open', DOWN_MS / 2);
  }

  // A countdown to the next attempt, seen while waiting out a delay (jittered, >= 250 ms).
  for (const which of ['a', 'b']) {
    const shown = await waitFor(
      which,
      'the state "reconnecting" with a countdown',
      (s) =>
        s.state === 'reconnecting' &&
        /^\d+\.\d s$/.test(s.countdown) &&
        parseFloat(s.countdown) > 0,
      DOWN_MS / 2,
    );
    assert.ok(shown.attempt >= 1, `page ${which}: attempt ${shown.attempt} while reconnecting`);
  }
  const countdownAt = Date.now() - downSince;
  // What the pages re-queued from before the cut: the client sends again the newest messages
  // it cannot be sure left the browser (the room's ids make the second copy harmless).
  const requeued = {};
  for (const which of ['a', 'b']) requeued[which] = (await readPage(pages[which])).queued;

  // Typed in turns. Each send adds one to that page's queue, which also proves the server was
  // still away: an open connection would have sent it at once.
  for (let i = 0; i < 3; i += 1) {
    for (const which of ['a', 'b']) {
      await say(which, outage[which][i]);
      const shown = await readPage(pages[which]);
      const context =
        `${Date.now() - downSince} ms into the ${DOWN_MS} ms outage, page ${which} ` +
        `shows ${JSON.stringify(shown)}`;
      assert.equal(
        shown.queued,
        requeued[which] + i + 1,
        `queued after ${i + 1} sends while away (${requeued[which]} re-queued); ${context}`,
      );
      assert.deepEqual(
        shown.pending,
        outage[which].slice(0, i + 1),
        `waiting messages; ${context}`,
      );
      assert.match(shown.state, /^(reconnecting|connecting)$/, `state while away; ${context}`);
    }
  }
  t.diagnostic(
    `into the ${DOWN_MS} ms outage: countdowns seen at ${countdownAt} ms, ` +
      `6 messages typed and checked at ${Date.now() - downSince} ms`,
  );
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await pages.a.page.screenshot({ path: path.join(SCREENSHOTS, 'demo-a-away.png') });

  // Back: every page ends up with both outages, the other page's in the order it was typed.
  const done = {};
  for (const which of ['a', 'b']) {
    const other = which === 'a' ? 'b' : 'a';
    done[which] = await waitFor(
      which,
      `the state "open" with ${other}'s messages from the outage`,
      (s) =>
        s.state === 'open' &&
        s.queued === 0 &&
        s.pending.length === 0 &&
        outage[other].every((text) => texts(s).includes(text)),
    );
    assert.deepEqual(
      inOrderShown(done[which], outage[other]),
      outage[other],
      `page ${which}: ${other}'s messages in the order they were typed`,
    );
    assert.deepEqual(
      inOrderShown(done[which], outage[which]),
      outage[which],
      `page ${which}: its own messages in the order they were typed`,
    );
    assert.equal(
      done[which].messages.length,
      before[which] + 6,
      `page ${which}: each message once`,
    );
  }
  assert.deepEqual(done.b.messages, done.a.messages, 'both pages show the room in one order');
  for (const which of ['a', 'b']) {
    assert.deepEqual(pages[which].errors, [], `page ${which}: no uncaught errors`);
  }

  await pages.a.page.screenshot({ path: path.join(SCREENSHOTS, 'demo-a.png') });
  await pages.b.page.screenshot({ path: path.join(SCREENSHOTS, 'demo-b.png') });
});
