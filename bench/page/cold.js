// One cold page load: the time from navigation start (performance.now()'s origin) to the
// first `open` of a connection to /echo, with the browser's WebSocket ("raw") or with the npm
// package's ReconnectingWebSocket ("js"), whose entry is imported here as an app's module
// would import it without a bundler, so its glue and .wasm are fetched and compiled in the
// measured time. Posted to the runner as { subject, openMs, readyMs } or { subject, error }.

const params = new URLSearchParams(location.search);
const subject = params.get('subject');
const runner = params.get('runner');
const url = `ws://${location.host}/echo`;

const report = (figures) =>
  fetch(`${runner}/cold`, { method: 'POST', body: JSON.stringify({ subject, ...figures }) });

// This module's start: the page's HTML and this script are in.
const moduleMs = performance.now();

try {
  let socket;
  let readyMs = null;
  if (subject === 'raw') {
    socket = new WebSocket(url);
  } else if (subject === 'js') {
    const { ReconnectingWebSocket, ready } = await import(params.get('pkg') ?? '/pkg/index.js');
    socket = new ReconnectingWebSocket(url);
    ready.then(() => (readyMs = performance.now()));
  } else {
    throw new Error(`unknown subject ${subject}`);
  }
  let opened = false;
  socket.addEventListener(
    'open',
    () => {
      opened = true;
      // Where the time went: when the page's own module had run, and the wasm's fetch.
      const wasm = performance
        .getEntriesByType('resource')
        .find((entry) => entry.name.endsWith('.wasm'));
      report({
        openMs: performance.now(),
        readyMs,
        moduleMs,
        wasmStartMs: wasm?.startTime ?? null,
        wasmEndMs: wasm?.responseEnd ?? null,
      });
    },
    { once: true },
  );
  socket.addEventListener(
    'close',
    (event) => {
      if (!opened) report({ error: `closed before open (${event.code})` });
    },
    { once: true },
  );
} catch (error) {
  report({ error: String(error?.stack ?? error) });
}
