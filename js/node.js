// The package entry for Node (and server-side rendering, and test runners that run in Node):
// the WebAssembly module is read from the package's folder, not fetched: just after import
// (in a microtask, so the import itself never fails), or at the first `new` if that comes
// sooner, synchronously, so a client made at once works at once. Node 22
// and later have a global `WebSocket`; before that, pass one (the `ws` package's) as the
// `WebSocket` option. scripts/build-package also makes node.cjs from this, for `require`.
//
// scripts/build-package writes the class module's place in the package where this says
// CLASS_MODULE.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCore, initSync } from './resocket.js';
import { defineReconnectingWebSocket } from 'CLASS_MODULE';

let loaded = false;

/** Reads and instantiates the module, once; synchronous, so `new` works at once. */
function load() {
  if (loaded) return;
  // CommonJS (node.cjs) has __dirname; the ES module has import.meta.url.
  const here =
    typeof __dirname === 'string' ? __dirname : path.dirname(fileURLToPath(import.meta.url));
  initSync({ module: fs.readFileSync(path.join(here, 'resocket_bg.wasm')) });
  loaded = true;
}

/** Resolves once the WebAssembly module is ready; rejects if it could not be loaded. */
export const ready = Promise.resolve().then(() => {
  load();
  return createCore;
});
// A failure is thrown again by the first `new`; `ready` still rejects for whoever awaits it.
ready.catch(() => {});

export const ReconnectingWebSocket = defineReconnectingWebSocket((...args) => {
  load();
  return createCore(...args);
});
export default ReconnectingWebSocket;
