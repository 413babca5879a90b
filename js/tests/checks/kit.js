// What the check files (conformance.js, extras.js, boundary.js) share: the runner that gives
// each check its context and time limit, and the assertions and waits they are written with.
// js/tests/js_facade.rs imports this module too, so wasm-bindgen ships it beside them.
//
// A check is `[name, body(t), timeout?]`; runChecks never throws and returns
// `[{ name, ok, error, note }]`.

/** How long a wait for one event may take, unless a check says otherwise. */
let eventMs = 5000;

/**
 * Runs `checks` one after another. `env` is handed to every check as part of `t` (the class
 * as `Class`, the server's `ws://` address as `server`, and `create(url, protocols)` when the
 * subject is not made with `new Class(url, protocols, options)`). With `watchReports`, an
 * exception reported while a check runs (reportError, uncaught, an unhandled rejection) fails
 * it unless the check takes it with `t.reported(predicate)`; a failure of the WebAssembly
 * module itself (a panic, a trap) always does.
 */
export async function runChecks(
  checks,
  env,
  { timeoutMs, eventWaitMs = 5000, watchReports = false },
) {
  eventMs = eventWaitMs;
  const results = [];
  for (const [name, body, timeout] of checks) {
    results.push(await runCheck(name, body, env, timeout ?? timeoutMs, watchReports));
  }
  return results;
}

/** The number of checks in a result list (what js/tests/js_facade.rs reports). */
export function checkCount(results) {
  return Array.isArray(results) ? results.length : 0;
}

async function runCheck(name, body, env, timeout, watchReports) {
  const sockets = [];
  const notes = [];
  const reported = [];
  const onError = (event) => {
    reported.push(event.error ?? event.message);
    event.preventDefault();
  };
  const onRejection = (event) => {
    reported.push(event.reason);
    event.preventDefault();
  };
  if (watchReports) {
    globalThis.addEventListener('error', onError);
    globalThis.addEventListener('unhandledrejection', onRejection);
  }
  const t = {
    ...env,
    http: env.server.replace(/^ws/, 'http'),
    // Something worth printing with the result, such as what the native WebSocket did.
    note(text) {
      notes.push(text);
    },
    // A socket from the subject on a route of the test server, closed after the check.
    open(route, protocols, options) {
      const url = `${env.server}${route}`;
      return t.track(
        env.create ? env.create(url, protocols) : new env.Class(url, protocols, options),
      );
    },
    // The same from the browser's own WebSocket, for a reference run.
    openNative(route, protocols) {
      const url = `${env.server}${route}`;
      return t.track(protocols === undefined ? new WebSocket(url) : new WebSocket(url, protocols));
    },
    track(socket) {
      sockets.push(socket);
      return socket;
    },
    // A control route of the test server (plain HTTP, CORS open).
    async control(pathAndQuery) {
      const response = await fetch(`${t.http}${pathAndQuery}`);
      const text = await response.text();
      if (!response.ok) fail(`${pathAndQuery}: HTTP ${response.status} ${text}`);
      return text;
    },
    /** Takes the reported exceptions for which `predicate` holds, and returns them. */
    reported(predicate) {
      const taken = reported.filter(predicate);
      for (const error of taken) reported.splice(reported.indexOf(error), 1);
      return taken;
    },
  };
  let timer;
  const result = (ok, error) => ({ name, ok, error, note: notes.join('; ') || null });
  try {
    await Promise.race([
      Promise.resolve().then(() => body(t)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout);
      }),
    ]);
    if (watchReports) {
      // Reports come from microtasks and tasks: let the last ones arrive.
      await sleep(0);
      const wasm = reported.filter(isWasmFailure);
      if (wasm.length > 0) {
        return result(false, `the module failed: ${wasm.map(describeError).join('; ')}`);
      }
      if (reported.length > 0) {
        return result(
          false,
          `unexpected exceptions reported: ${reported.map(describeError).join('; ')}`,
        );
      }
    }
    return result(true, null);
  } catch (error) {
    return result(
      false,
      [describeError(error), ...reported.map(describeError)].join('; reported: '),
    );
  } finally {
    clearTimeout(timer);
    for (const socket of sockets) {
      try {
        socket.close();
      } catch {
        // Closing is best effort: a check may have left the socket in any state.
      }
    }
    if (watchReports) {
      globalThis.removeEventListener('error', onError);
      globalThis.removeEventListener('unhandledrejection', onRejection);
    }
  }
}

/** Whether `error` says the WebAssembly module failed (a panic, a trap, a bad borrow). */
export function isWasmFailure(error) {
  if (typeof WebAssembly !== 'undefined' && error instanceof WebAssembly.RuntimeError) return true;
  const message = String(error?.message ?? error);
  return /unreachable|recursive use of an object|already (mutably )?borrowed|closure invoked|memory access out of bounds|panicked/i.test(
    message,
  );
}

/** An exception as `Name: message` (and its class when that is another name). */
export function describeError(error) {
  if (error instanceof Error || error instanceof DOMException) {
    const kind = error.constructor?.name;
    return `${kind && kind !== error.name ? `${kind} ` : ''}${error.name}: ${error.message}`;
  }
  try {
    return String(error);
  } catch {
    return typeof error;
  }
}

export function fail(message) {
  throw new Error(message);
}

export function assert(condition, message) {
  if (!condition) fail(message);
}

/** A value as a failure message shows it: short, and never throwing. */
export function show(value) {
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
  if (typeof Blob !== 'undefined' && value instanceof Blob) return `Blob(${value.size})`;
  if (Array.isArray(value)) return `[${value.map(show).join(', ')}]`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'symbol') return 'Symbol()';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'function';
  if (typeof value === 'object') {
    try {
      return value.constructor?.name ?? 'object';
    } catch {
      return 'object';
    }
  }
  return String(value);
}

export function eq(actual, expected, what) {
  if (actual !== expected) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export function eqList(actual, expected, what) {
  const same =
    actual.length === expected.length && actual.every((value, i) => value === expected[i]);
  if (!same) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The next `type` event on `target`, or a rejection after `ms`. */
export function nextEvent(target, type, ms = eventMs) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      target.removeEventListener(type, listener);
      reject(new Error(`no ${type} event within ${ms} ms`));
    }, ms);
    const listener = (event) => {
      clearTimeout(timer);
      target.removeEventListener(type, listener);
      resolve(event);
    };
    target.addEventListener(type, listener);
  });
}

/** The data of the next `count` messages. */
export function nextMessages(socket, count, ms = eventMs) {
  return new Promise((resolve, reject) => {
    const data = [];
    const timer = setTimeout(() => {
      socket.removeEventListener('message', listener);
      reject(new Error(`only ${data.length} of ${count} messages within ${ms} ms: ${show(data)}`));
    }, ms);
    const listener = (event) => {
      data.push(event.data);
      if (data.length === count) {
        clearTimeout(timer);
        socket.removeEventListener('message', listener);
        resolve(data);
      }
    };
    socket.addEventListener('message', listener);
  });
}

/** The data of every message in the next `ms`. */
export async function messagesDuring(socket, ms) {
  const data = [];
  const listener = (event) => data.push(event.data);
  socket.addEventListener('message', listener);
  await sleep(ms);
  socket.removeEventListener('message', listener);
  return data;
}

/** Resolves once `socket` is open (at once if it is). */
export async function opened(socket) {
  if (socket.readyState === 1) return;
  await nextEvent(socket, 'open');
}

/** Sends `data` on an open socket and returns the echoed message's data. */
export async function echo(socket, data) {
  const reply = nextEvent(socket, 'message');
  socket.send(data);
  return (await reply).data;
}

/** The exception `fn` throws, or a failure if it throws none. */
export function thrown(fn, what) {
  try {
    fn();
  } catch (error) {
    return error;
  }
  fail(`${what} did not throw`);
}

/** The bytes of binary message data (an ArrayBuffer or a Blob), as an array of numbers. */
export async function bytesOf(data) {
  if (data instanceof ArrayBuffer) return Array.from(new Uint8Array(data));
  if (typeof Blob !== 'undefined' && data instanceof Blob) {
    return Array.from(new Uint8Array(await data.arrayBuffer()));
  }
  fail(`expected binary data, got ${show(data)}`);
}
