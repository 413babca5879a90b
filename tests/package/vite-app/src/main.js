import { ReconnectingWebSocket } from 'resocket';

document.querySelector('#open').textContent = String(ReconnectingWebSocket.OPEN);

// A ws: URL made from the page's location (a relative '/echo' works too).
const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/echo`;
const ws = new ReconnectingWebSocket(url);
// Made and sent to at once, before the WebAssembly module has loaded: the client is
// CONNECTING and queues the message, as a WebSocket would not (it throws).
ws.send('hello from vite');
ws.addEventListener('message', (event) => {
  document.querySelector('#echo').textContent = event.data;
  document.body.dataset.echo = event.data;
});
