// Where ReconnectingWebSocket means to differ from the browser's WebSocket: the differences
// README.md lists, and only those. A WPT subtest that passes natively and fails on the class
// is a failure unless it is here, matched by page (a substring of its path) and, when given,
// by subtest (a substring of its name).
//
export const DIFFERENCES = [
  { page: '/Send-before-open', why: 'sending while CONNECTING queues the message' },
];
