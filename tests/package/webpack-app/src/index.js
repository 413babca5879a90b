import { ReconnectingWebSocket } from 'resocket';

const open = document.createElement('p');
open.id = 'open';
open.textContent = String(ReconnectingWebSocket.OPEN);
const echo = document.createElement('p');
echo.id = 'echo';
document.body.append(open, echo);

// A relative URL, on the page's own origin, as with the browser's WebSocket.
const ws = new ReconnectingWebSocket('/echo');
// Sent at once, before the WebAssembly module has loaded: the client is CONNECTING and
// queues the message (where a WebSocket would throw).
ws.send('hello from webpack');
ws.onmessage = (event) => {
  echo.textContent = event.data;
  document.body.dataset.echo = event.data;
};
