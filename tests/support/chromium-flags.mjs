// The flags Debian's Chromium needs on these machines, headless: no sandbox (tests run as
// root), no GPU, no QUIC, and nothing that would reach out to the network (first-run pages,
// background networking, component updates, sync), which the closed network refuses. Every
// script that launches Chromium starts from these.
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// What a page measured or tested in the background needs too: its timers and rendering not
// slowed down for being hidden.
export const UNTHROTTLED_FLAGS = [
  '--disable-extensions',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];
