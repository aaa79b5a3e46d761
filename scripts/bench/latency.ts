// Latency figures the benchmarks share: a nearest-rank percentile, and a closed loop of calls at a
// given concurrency (throughput and percentiles of the calls' own times).

/** The q-quantile (0..1) of ascending `sorted`, nearest rank. */
export function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** `total` calls of `send`, `concurrency` in flight at a time: calls per second, p50 and p95 (ms). */
export async function measure(send: () => Promise<void>, concurrency: number, total: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const t0 = performance.now();
        await send();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: latencies.length / seconds, p50: percentile(latencies, 0.5), p95: percentile(latencies, 0.95) };
}
