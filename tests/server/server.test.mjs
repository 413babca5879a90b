// Tests of the test server itself: run with `node --test tests/server/`.
// Each test starts its own server process, so one failure cannot leak
// connections or counters into the next.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import WebSocket from 'ws';

const SERVER = new URL('./server.mjs', import.meta.url).pathname;
const LINE = /^RESOCKET_TEST_SERVER=(ws:\/\/127\.0\.0\.1:(\d+))$/;

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

// Starts the server and resolves once it has announced its address. Every
// stdout line is kept so a test can check that the announcement is the only
// one.
async function startServer(t, extraArgs = []) {
  const child = spawn(process.execPath, [SERVER, '--exit-with-stdin', ...extraArgs], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = [];
  const reader = createInterface({ input: child.stdout });
  const announced = new Promise((resolve, reject) => {
    reader.on('line', (line) => {
      lines.push(line);
      if (lines.length === 1) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
  // Whatever happens in the test, the process must not outlive it.
  t.after(() => child.exitCode === null && child.kill('SIGKILL'));

  const match = LINE.exec(await announced);
  assert.ok(match, `unexpected announcement: ${lines[0]}`);
  const [, url, port] = match;

  return {
    url,
    port: Number(port),
    child,
    // GETs a control route, resolving to { status, text, headers }.
    async control(route) {
      const response = await fetch(`http://127.0.0.1:${port}${route}`);
      return { status: response.status, text: await response.text(), headers: response.headers };
    },
    async stats() {
      return JSON.parse((await this.control('/control/stats')).text);
    },
    // Stops with SIGTERM and checks the exit was clean and stdout stayed quiet.
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = await exited;
      assert.equal(code, 0);
      assert.deepEqual(lines, [`RESOCKET_TEST_SERVER=${url}`]);
    },
  };
}

// Opens a client, resolving once open; rejects with the HTTP status on a
// refused handshake or with the error otherwise.
function connect(url, protocols = []) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
    ws.once('unexpected-response', (_, res) => {
      const error = new Error(`HTTP ${res.statusCode}`);
      error.status = res.statusCode;
      ws.terminate();
      reject(error);
    });
  });
}

// Resolves with the next `n` messages as { text | bytes, isBinary }.
function messages(ws, n) {
  return new Promise((resolve) => {
    const received = [];
    const onMessage = (data, isBinary) => {
      received.push({ isBinary, data: isBinary ? data : data.toString() });
      if (received.length === n) {
        ws.off('message', onMessage);
        resolve(received);
      }
    };
    ws.on('message', onMessage);
  });
}

async function nextMessage(ws) {
  return (await messages(ws, 1))[0];
}

function closed(ws) {
  return new Promise((resolve) => {
    ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
  });
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

test('echo keeps text as text and binary as binary, even multi-megabyte', async (t) => {
  const server = await startServer(t);
  const ws = await connect(`${server.url}/echo`);

  ws.send('héllo');
  assert.deepEqual(await nextMessage(ws), { isBinary: false, data: 'héllo' });

  ws.send(Buffer.from([0, 1, 2, 255]));
  const binary = await nextMessage(ws);
  assert.equal(binary.isBinary, true);
  assert.deepEqual([...binary.data], [0, 1, 2, 255]);

  const big = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  ws.send(big);
  const echoed = await nextMessage(ws);
  assert.equal(echoed.isBinary, true);
  assert.ok(echoed.data.equals(big));

  ws.close();
  await server.stop();
});

test('burst delivers N messages in order, then echoes', async (t) => {
  const server = await startServer(t);
  const ws = new WebSocket(`${server.url}/burst?count=200`);
  const burst = await messages(ws, 200);
  assert.deepEqual(
    burst.map((m) => m.data),
    Array.from({ length: 200 }, (_, i) => String(i)),
  );
  ws.send('after');
  assert.equal((await nextMessage(ws)).data, 'after');
  ws.close();
  await server.stop();
});

test('close route closes with the code and reason after the delay', async (t) => {
  const server = await startServer(t);
  const ws = await connect(`${server.url}/close?code=4001&reason=going%20away&delay=150`);
  const whenClosed = closed(ws);
  ws.send('still echoing');
  assert.equal((await nextMessage(ws)).data, 'still echoing');
  assert.deepEqual(await whenClosed, { code: 4001, reason: 'going away' });

  const plain = await connect(`${server.url}/close`);
  assert.deepEqual(await closed(plain), { code: 1000, reason: '' });
  await server.stop();
});

test('drop route cuts the connection without a close frame (1006)', async (t) => {
  const server = await startServer(t);
  const ws = await connect(`${server.url}/drop?delay=100`);
  const whenClosed = closed(ws);
  ws.send('x');
  assert.equal((await nextMessage(ws)).data, 'x');
  assert.equal((await whenClosed).code, 1006);
  await server.stop();
});

test('refused handshakes carry the HTTP status; bad paths and queries too', async (t) => {
  const server = await startServer(t);
  const status = (route) =>
    connect(`${server.url}${route}`).then(
      () => 'opened',
      (e) => e.status,
    );

  assert.equal(await status('/refuse'), 403);
  assert.equal(await status('/refuse?status=503'), 503);
  assert.equal(await status('/nowhere'), 404);
  assert.equal(await status('/burst?count=abc'), 400);
  assert.equal(await status('/burst?count=-1'), 400);
  assert.equal(await status('/echo?typo=1'), 400);
  assert.equal(await status('/close?code=1006'), 400);
  assert.equal(await status('/refuse?status=101'), 400);
  await server.stop();
});

test('stall never answers the handshake', async (t) => {
  const server = await startServer(t);
  const ws = new WebSocket(`${server.url}/stall`);
  let opened = false;
  ws.on('open', () => (opened = true));
  ws.on('error', () => {});
  await sleep(300);
  assert.equal(opened, false);
  assert.equal(ws.readyState, WebSocket.CONNECTING);
  const stats = await server.stats();
  assert.equal(stats.routes['/stall'].stalled, 1);
  assert.equal(stats.stalling, 1);
  ws.terminate();
  // The server lets go of the socket once the client has gone.
  let stalling = 1;
  for (let i = 0; i < 40 && stalling > 0; i += 1) {
    await sleep(25);
    stalling = (await server.stats()).stalling;
  }
  assert.equal(stalling, 0);
  await server.stop();
});

test('protocol route chooses the requested protocol, else the first', async (t) => {
  const server = await startServer(t);
  const chosen = async (route, offered) => {
    const ws = await connect(`${server.url}${route}`, offered);
    ws.close();
    return ws.protocol;
  };
  assert.equal(await chosen('/protocol?choose=b', ['a', 'b']), 'b');
  assert.equal(await chosen('/protocol?choose=z', ['a', 'b']), 'a');
  assert.equal(await chosen('/protocol?choose=b', []), '');
  assert.equal(await chosen('/echo', ['x', 'y']), 'x');
  await server.stop();
});

test('slow route reads at about its rate and still answers stats', async (t) => {
  const server = await startServer(t);
  const rate = 4 * 1024 * 1024;
  const ws = await connect(`${server.url}/slow?rate=${rate}`);
  const chunk = Buffer.alloc(1024 * 1024);
  const started = performance.now();
  for (let i = 0; i < 4; i += 1) ws.send(chunk);
  ws.send('text!');
  ws.send('stats');
  const reply = await nextMessage(ws);
  const elapsed = performance.now() - started;

  assert.deepEqual(JSON.parse(reply.data), { messages: 5, bytes: 4 * chunk.length + 5 });
  // 4 MiB at 4 MiB/s is 1 s; the only head start is the 0.1 s burst budget.
  assert.ok(elapsed > 750, `read 4 MiB in ${elapsed} ms, too fast for ${rate} B/s`);
  ws.close();
  await server.stop();
});

test('count route counts without echoing', async (t) => {
  const server = await startServer(t);
  const ws = await connect(`${server.url}/count`);
  for (let i = 0; i < 1000; i += 1) ws.send(Buffer.alloc(100));
  ws.send('stats');
  assert.deepEqual(JSON.parse((await nextMessage(ws)).data), { messages: 1000, bytes: 100_000 });
  ws.close();
  await server.stop();
});

test('tally notes message ids across connections; control/tally reports them as ranges', async (t) => {
  const server = await startServer(t);
  const first = await connect(`${server.url}/tally?key=run-1`);
  for (const id of [0, 1, 2, 5]) first.send(`${id} payload`);
  first.send(Buffer.from('7'));
  first.send('no id');
  const firstClosed = closed(first);
  first.close();
  await firstClosed;
  // Another connection, duplicates included, and another key that must stay apart.
  const second = await connect(`${server.url}/tally?key=run-1`);
  for (const id of [2, 3, 6, 123456789012]) second.send(`${id}x`);
  const other = await connect(`${server.url}/tally?key=other`);
  other.send('4');
  // Sent after the others on the same connections, so the counts above are in.
  await sleep(100);
  const tally = JSON.parse((await server.control('/control/tally?key=run-1')).text);
  assert.deepEqual(tally, {
    messages: 10,
    distinct: 8,
    withoutId: 1,
    ranges: [
      [0, 3],
      [5, 7],
      [123456789012, 123456789012],
    ],
  });
  assert.equal(JSON.parse((await server.control('/control/tally?key=other')).text).distinct, 1);
  assert.equal((await server.control('/control/tally?key=no%20spaces')).status, 400);
  assert.equal((await server.control('/control/tally')).status, 400);
  second.close();
  other.close();
  await server.stop();
});

test('flood sends N messages of S bytes then "done", on every "go"', async (t) => {
  const server = await startServer(t);
  for (const binary of [1, 0]) {
    const ws = await connect(`${server.url}/flood?count=2000&size=3000&binary=${binary}`);
    for (let round = 0; round < 2; round += 1) {
      ws.send('go');
      const received = await messages(ws, 2001);
      const last = received.pop();
      assert.deepEqual(last, { isBinary: false, data: 'done' });
      assert.ok(received.every((m) => m.isBinary === Boolean(binary) && m.data.length === 3000));
      if (!binary) assert.equal(received[0].data, 'x'.repeat(3000));
    }
    ws.close();
  }
  await server.stop();
});

test('a keyed flood reports how far it got, and waits for a client that does not read', async (t) => {
  const server = await startServer(t);
  const progress = async () => JSON.parse((await server.control('/control/flood?key=slow')).text);
  assert.deepEqual(await progress(), { started: false, sent: 0, queued: 0, done: false });
  const ws = await connect(`${server.url}/flood?count=2000&size=65536&binary=1&key=slow`);
  ws.pause(); // reads nothing more from the network
  ws.send('go');
  await new Promise((resolve) => setTimeout(resolve, 500));
  const held = await progress();
  assert.ok(held.started && !held.done, JSON.stringify(held));
  assert.ok(held.sent < 2000, `the flood went on without a reader: ${JSON.stringify(held)}`);
  assert.ok(held.queued > 0, `nothing waits in the server's queue: ${JSON.stringify(held)}`);
  const all = messages(ws, 2001);
  ws.resume();
  assert.equal((await all).pop().data, 'done');
  assert.deepEqual(await progress(), { started: true, sent: 2000, queued: 0, done: true });
  assert.equal((await server.control('/control/flood?key=a%20b')).status, 400);
  ws.close();
  await server.stop();
});

test('ping answers pong; ping-silent never does but echoes the rest', async (t) => {
  const server = await startServer(t);
  const ping = await connect(`${server.url}/ping`);
  ping.send('ping');
  assert.equal((await nextMessage(ping)).data, 'pong');
  ping.send('other');
  assert.equal((await nextMessage(ping)).data, 'other');

  const silent = await connect(`${server.url}/ping-silent`);
  silent.send('ping');
  silent.send('other');
  assert.equal((await nextMessage(silent)).data, 'other');
  ping.close();
  silent.close();
  await server.stop();
});

test('chat sends every text to every member, sender included, in one order', async (t) => {
  const server = await startServer(t);
  const members = await Promise.all([1, 2, 3].map(() => connect(`${server.url}/chat`)));
  const [a, b, c] = members;
  const received = members.map((ws) => messages(ws, 4));
  a.send('a1');
  b.send('b1');
  a.send(Buffer.from([1, 2, 3])); // binary: not for the room
  a.send('a2');
  b.send('b2');
  const seen = (await Promise.all(received)).map((list) => list.map((m) => m.data));
  // Each sender's own order holds, and everyone saw the same interleaving.
  assert.deepEqual(
    seen[0].filter((m) => m.startsWith('a')),
    ['a1', 'a2'],
  );
  assert.deepEqual(
    seen[0].filter((m) => m.startsWith('b')),
    ['b1', 'b2'],
  );
  assert.deepEqual(seen[1], seen[0]);
  assert.deepEqual(seen[2], seen[0]);

  // A member that left is simply no longer sent to.
  const gone = closed(c);
  c.close();
  await gone;
  a.send('after');
  for (const ws of [a, b])
    assert.deepEqual(await nextMessage(ws), { isBinary: false, data: 'after' });
  a.close();
  b.close();
  await server.stop();
});

test('chat replays the last messages to who joins, even after a restart', async (t) => {
  const server = await startServer(t);
  const joinWith = async (query) => {
    // Listening before the handshake completes: the replay comes right after it.
    const ws = new WebSocket(`${server.url}/chat${query}`);
    const collected = [];
    ws.on('message', (data) => collected.push(data.toString()));
    await once(ws, 'open');
    return { ws, collected };
  };

  const writer = await connect(`${server.url}/chat`);
  const all = messages(writer, 105);
  for (let i = 0; i < 105; i += 1) writer.send(`m${i}`);
  await all;

  const full = await joinWith('');
  const three = await joinWith('?history=3');
  const none = await joinWith('?history=0');
  writer.send('live');
  await sleep(200);
  const names = (from, to) => Array.from({ length: to - from }, (_, i) => `m${from + i}`);
  assert.deepEqual(full.collected, [...names(5, 105), 'live'], 'at most 100 are kept');
  assert.deepEqual(three.collected, ['m102', 'm103', 'm104', 'live']);
  assert.deepEqual(none.collected, ['live']);
  assert.equal((await connect(`${server.url}/chat?history=101`).catch((e) => e)).status, 400);

  // The room outlives a restart, as a real one outlives a reconnect.
  await server.control('/control/restart?down=100');
  let back = null;
  for (let tries = 0; !back && tries < 100; tries += 1) {
    back = await joinWith('?history=2').catch(() => sleep(25).then(() => null));
  }
  assert.ok(back, 'server did not come back');
  await sleep(100);
  assert.deepEqual(back.collected, ['m104', 'live']);
  for (const ws of [writer, full.ws, three.ws, none.ws, back.ws]) ws.close();
  await server.stop();
});

test('restart drops everything, refuses while down, then listens on the same port', async (t) => {
  const server = await startServer(t);
  const firstListen = (await server.stats()).listeningSince;
  assert.ok(Math.abs(firstListen - Date.now()) < 60_000, 'listeningSince is epoch milliseconds');
  const ws = await connect(`${server.url}/echo`);
  const whenClosed = closed(ws);
  const stalled = new WebSocket(`${server.url}/stall`);
  stalled.on('error', () => {});
  const stalledGone = closed(stalled);
  await sleep(50); // let the stalled handshake reach the server

  const answer = await server.control('/control/restart?down=500');
  const restartedAt = performance.now();
  assert.equal(answer.status, 200);
  assert.equal(answer.headers.get('access-control-allow-origin'), '*');
  assert.equal((await whenClosed).code, 1006);
  await stalledGone;

  await assert.rejects(connect(`${server.url}/echo`), { code: 'ECONNREFUSED' });

  // Poll until it is back; it must be on the same address.
  let back = null;
  while (!back && performance.now() - restartedAt < 3000) {
    back = await connect(`${server.url}/echo`).catch(() => sleep(25).then(() => null));
  }
  assert.ok(back, 'server did not come back');
  assert.ok(performance.now() - restartedAt >= 450, 'server came back too early');
  // The benchmark times reconnections from this moment.
  const returnedAt = (await server.stats()).listeningSince;
  assert.ok(returnedAt - firstListen >= 450, 'listeningSince marks the return');
  assert.ok(returnedAt <= performance.timeOrigin + performance.now());
  back.send('again');
  assert.equal((await nextMessage(back)).data, 'again');
  back.close();
  await server.stop();
});

test('drop-all cuts every connection; close-all closes them cleanly', async (t) => {
  const server = await startServer(t);
  const first = await Promise.all([1, 2].map(() => connect(`${server.url}/echo`)));
  const dropped = first.map(closed);
  assert.deepEqual(await server.control('/control/drop-all').then((r) => r.text), '2');
  for (const { code } of await Promise.all(dropped)) assert.equal(code, 1006);

  const second = await Promise.all([1, 2, 3].map(() => connect(`${server.url}/ping`)));
  const whenClosed = second.map(closed);
  const answer = await server.control('/control/close-all?code=4002&reason=bye');
  assert.equal(answer.text, '3');
  for (const result of await Promise.all(whenClosed)) {
    assert.deepEqual(result, { code: 4002, reason: 'bye' });
  }
  assert.equal((await server.control('/control/close-all?code=1005')).status, 400);
  await server.stop();
});

test('stats count handshakes per route and reset-stats zeroes them', async (t) => {
  const server = await startServer(t);
  const a = await connect(`${server.url}/echo`);
  const b = await connect(`${server.url}/echo`);
  await connect(`${server.url}/refuse`).catch(() => {});
  await connect(`${server.url}/missing`).catch(() => {});

  let stats = await server.stats();
  assert.equal(stats.open, 2);
  assert.equal(stats.accepted, 2);
  assert.equal(stats.refused, 2);
  assert.equal(stats.attempts, 4);
  assert.deepEqual(stats.routes['/echo'], { attempts: 2, accepted: 2, refused: 0, stalled: 0 });
  assert.equal(stats.routes['/refuse'].refused, 1);
  assert.equal(stats.routes['/missing'].refused, 1);

  assert.equal((await server.control('/control/reset-stats')).text, 'ok');
  stats = await server.stats();
  assert.equal(stats.accepted, 0);
  assert.equal(stats.routes['/echo'].accepted, 0);
  assert.equal(stats.routes['/missing'], undefined);
  assert.equal(stats.open, 2, 'open connections are a gauge, not a counter');

  a.close();
  b.close();
  await server.stop();
});

test('port file is written atomically and the server exits when stdin closes', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'resocket-server-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const portFile = path.join(dir, 'address');
  const server = await startServer(t, ['--port-file', portFile]);

  assert.equal(fs.readFileSync(portFile, 'utf8').trim(), server.url);
  assert.deepEqual(fs.readdirSync(dir), ['address'], 'no temporary file left behind');

  const exited = once(server.child, 'exit');
  server.child.stdin.end();
  assert.deepEqual(await exited, [0, null]);
  assert.equal(fs.existsSync(portFile), false);
});
