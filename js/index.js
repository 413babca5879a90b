// The package entry: loads the WebAssembly module once, then exports the class.
// Top-level await keeps `new ReconnectingWebSocket(...)` synchronous, like `new WebSocket(...)`.
import init, { reconnectingWebSocketClass } from './resocket.js';

await init();

export const ReconnectingWebSocket = reconnectingWebSocketClass();
export default ReconnectingWebSocket;
