// The throughput scenarios, shared by the page (which runs them in Chromium) and the runner
// (which measures the server's own rates on the same ones against a Node client).

/** Every throughput scenario, with its message count multiplied by `scale` (at least 1). */
export function throughputScenarios(scale) {
  const count = (n) => Math.max(1, Math.round(n * scale));
  return [
    { id: 'recv-text32', kind: 'receive', size: 32, binary: 0, count: count(30_000) },
    { id: 'recv-bin1k', kind: 'receive', size: 1024, binary: 1, count: count(30_000) },
    { id: 'recv-bin64k', kind: 'receive', size: 65536, binary: 1, count: count(2_000) },
    { id: 'send-bin1k', kind: 'send', size: 1024, count: count(20_000) },
    { id: 'echo-text32', kind: 'echo', size: 32, count: count(1_000) },
  ];
}
