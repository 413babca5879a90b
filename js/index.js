// The package entry for browsers and bundlers. Importing it never waits and never fails: the
// WebAssembly module starts loading now (compiled while it streams in, where the platform
// can), and a `new ReconnectingWebSocket(...)` made before it is ready is CONNECTING, queues
// what it is sent, and connects once it is. `ready` resolves then, for those who want to wait.
//
// scripts/build-package writes the class module's place in the package (a wasm-bindgen
// snippet folder, named by a hash) where this says CLASS_MODULE.
import init, { createCore } from './resocket.js';
import { defineReconnectingWebSocket } from 'CLASS_MODULE';

/** Resolves when the WebAssembly module is ready; rejects if it could not be loaded. */
export const ready = init().then(() => createCore);
// A failure is reported by each client it affects; `ready` still rejects for whoever awaits it.
ready.catch(() => {});

export const ReconnectingWebSocket = defineReconnectingWebSocket(null, ready);
export default ReconnectingWebSocket;
