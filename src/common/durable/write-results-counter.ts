import { Counter, Registry } from 'prom-client';
import type { DurableWriterStats } from './durable-batch-writer';

/** Writer counters as `result` label values. */
const RESULTS: readonly [keyof DurableWriterStats, string][] = [
  ['written', 'written'],
  ['spilled', 'spilled'],
  ['replayed', 'replayed'],
  ['writeFailures', 'write_failed'],
];

/**
 * A counter `name{result}` over a DurableBatchWriter: records written to the store, spilled to the
 * local file, replayed from it, and failed batch writes (each retried or spilled, never dropped).
 * Read from the writer's stats at scrape time, so that writing itself does no metrics work.
 */
export function registerWriteResults(
  registry: Registry,
  name: string,
  help: string,
  stats: () => DurableWriterStats,
): Counter<'result'> {
  const reported: Partial<Record<keyof DurableWriterStats, number>> = {};
  return new Counter({
    name,
    help,
    labelNames: ['result'],
    registers: [registry],
    collect() {
      const current = stats();
      for (const [field, result] of RESULTS) {
        // Never negative: a counter only goes up (and prom-client throws on a negative increment).
        const delta = Math.max(0, current[field] - (reported[field] ?? 0));
        reported[field] = current[field];
        // Zero included, so that every result is exposed from the first scrape.
        this.inc({ result }, delta);
      }
    },
  });
}
