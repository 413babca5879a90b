// The WebSocket endpoints the WPT WebSocket tests connect to, written for this runner from
// what each endpoint of WPT's own server does on the wire (its handlers are Python, for
// pywebsocket). An endpoint nothing here implements is refused with HTTP 404 and logged, so
// a missing one shows up as a failure natively too, never as a difference.

import crypto from 'node:crypto';

import { WebSocketServer } from 'ws';

// No permessage-deflate, as WPT's handlers: the tests expect `extensions` to be "".
const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  maxPayload: 64 * 1024 * 1024,
  // As WPT's echo handler: the subprotocol "echo" if offered, else none (the tests that
  // need another one have their own endpoint).
  handleProtocols: (protocols, req) => {
    const path = new URL(req.url, 'http://127.0.0.1').pathname;
    if (path === '/protocol' || path === '/protocol_array') return [...protocols][0] ?? false;
    return protocols.has('echo') ? 'echo' : false;
  },
});

const GOODBYE = 'Goodbye';
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Echoes every message as it came; after echoing "Goodbye" the server closes. A close from
 * the client is answered with its code and reason (the `ws` package does that). */
function echo(ws) {
  ws.on('message', (data, isBinary) => {
    ws.send(data, { binary: isBinary });
    if (!isBinary && data.toString() === GOODBYE) ws.close();
  });
}

/** Echoes nothing; "Goodbye" makes the server close. */
function closeOnGoodbye(ws) {
  ws.on('message', (data, isBinary) => {
    if (!isBinary && data.toString() === GOODBYE) ws.close();
  });
}

/** Sends `text`, then closes (as a handler that returns after one message). */
const sendThenClose = (text) => (ws) => {
  ws.send(text);
  ws.close();
};

function acceptKey(req) {
  return crypto
    .createHash('sha1')
    .update(`${req.headers['sec-websocket-key']}${HANDSHAKE_GUID}`)
    .digest('base64');
}

/** Writes a hand-made handshake response (for the endpoints that test a broken one). */
function rawHandshake(socket, lines, then) {
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  then?.();
  setTimeout(() => socket.destroy(), 2000).unref();
}

// Endpoints handled before the `ws` package sees the upgrade: their handshake is the test.
const RAW_ENDPOINTS = {
  // Names a subprotocol the client did not offer: the client must fail the connection.
  '/handshake_protocol': (req, socket) =>
    rawHandshake(socket, [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${acceptKey(req)}`,
      'Sec-WebSocket-Protocol: foobar',
    ]),
  // Not a WebSocket handshake response at all.
  '/invalid': (req, socket) =>
    rawHandshake(socket, ['HTTP/1.1 101 Switching Protocols', 'Upgrade: nothing']),
  // A wrong Sec-WebSocket-Accept, then a message the client must not deliver.
  '/wrong_accept_key': (req, socket) =>
    rawHandshake(
      socket,
      [
        'HTTP/1.1 101 Switching Protocols',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Accept: thisisawrongacceptkey',
      ],
      () => socket.write(Buffer.from([0x81, 0x04, ...Buffer.from('test')])),
    ),
  // A hand-made 101, then at once a close frame (1000, no reason); the client's close frame
  // is read and the connection dropped without more.
  '/simple_handshake': (req, socket) => {
    socket.write(
      [
        'HTTP/1.1 101 Switching Protocols',
        'Connection: Upgrade',
        'Upgrade: WebSocket',
        `Sec-WebSocket-Accept: ${acceptKey(req)}`,
        '',
        '',
      ].join('\r\n'),
    );
    socket.write(Buffer.from([0x88, 0x02, 0x03, 0xe8]));
    socket.once('data', () => socket.destroy());
    setTimeout(() => socket.destroy(), 5000).unref();
  },
};

const ENDPOINTS = {
  '/echo': echo,
  '/': echo,
  '/echo_exit': closeOnGoodbye,
  '/echo_close_data': closeOnGoodbye,
  '/empty-message': (ws) => {
    ws.send('');
    echo(ws);
  },
  // Sends the subprotocol it selected (the first offered).
  '/protocol': (ws) => {
    ws.send(ws.protocol);
    echo(ws);
  },
  // Selects none, whatever was offered.
  '/handshake_no_protocol': echo,
  '/protocol_array': (ws) => {
    ws.send(ws.protocol);
    echo(ws);
  },
  // The query string as it came, without the "?".
  '/echo-query': (ws, req) => {
    const at = req.url.indexOf('?');
    ws.send(at < 0 ? '' : req.url.slice(at + 1));
    echo(ws);
  },
  '/origin': (ws, req) => sendThenClose(req.headers.origin ?? '')(ws),
  '/referrer': (ws, req) => sendThenClose(req.headers.referer ?? 'MISSING AS PER FETCH')(ws),
};

const logged = new Set();

export function handleUpgrade(req, socket, head) {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  // A client that fails a broken handshake resets the connection: that is expected.
  socket.on('error', () => {});
  const raw = RAW_ENDPOINTS[path];
  if (raw) return raw(req, socket);
  const endpoint = ENDPOINTS[path];
  if (!endpoint) {
    if (!logged.has(path)) {
      logged.add(path);
      console.log(`[wpt] no endpoint for ${path}: refused (404)`);
    }
    socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => endpoint(ws, req));
}
