import { Logger } from '@nestjs/common';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DurableBatchWriter, DurableBatchWriterOptions, DurableSink } from './durable-batch-writer';

interface Item {
  n: number;
  /** Set by `prepare`, in the order records leave the queue. */
  stamp?: number;
}

/** A store that keeps whole batches or nothing, as a transaction would, and fails while `down`. */
class FakeStore implements DurableSink<Item> {
  down = false;
  readonly stored: Item[] = [];
  readonly batchSizes: number[] = [];

  write(batch: Item[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('connection refused'));
    this.stored.push(...structuredClone(batch));
    this.batchSizes.push(batch.length);
    return Promise.resolve();
  }
}

const items = (from: number, count: number): Item[] =>
  Array.from({ length: count }, (_, i) => ({ n: from + i }));
const range = (from: number, count: number): number[] => items(from, count).map((item) => item.n);

/** Resolves once `check` holds; fails the test after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('DurableBatchWriter', () => {
  let dir: string;
  let spillPath: string;
  let store: FakeStore;
  const writers: DurableBatchWriter<Item>[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'durable-writer-'));
    spillPath = join(dir, 'spill.ndjson');
    store = new FakeStore();
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const writer of writers.splice(0)) await writer.close();
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  /** A stamping `prepare` that, like the audit's seal, leaves records it already stamped alone. */
  function stamper(first = 0): { prepare: (batch: Item[]) => Item[]; stamped: () => number } {
    let next = first;
    return {
      prepare: (batch) => {
        for (const item of batch) item.stamp ??= next++;
        return batch;
      },
      stamped: () => next - first,
    };
  }

  async function started(
    options: Partial<DurableBatchWriterOptions<Item>> = {},
  ): Promise<DurableBatchWriter<Item>> {
    const writer = new DurableBatchWriter<Item>({
      label: 'test',
      sink: store,
      spillPath,
      batchSize: 50,
      queueMax: 10_000,
      flushIntervalMs: 60_000,
      logger: new Logger('DurableBatchWriterSpec'),
      ...options,
    });
    writers.push(writer);
    await writer.start();
    return writer;
  }

  const spilledLines = (): number =>
    [`${spillPath}.replaying`, spillPath]
      .filter((path) => existsSync(path))
      .reduce((sum, path) => sum + readFileSync(path, 'utf8').trim().split('\n').length, 0);

  it('writes as soon as a batch is full, in batches of at most batchSize, without waiting for the timer', async () => {
    const writer = await started({ batchSize: 10 });
    for (const item of items(0, 9)) writer.push(item);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(store.stored).toEqual([]);
    for (const item of items(9, 16)) writer.push(item);
    await until(() => store.stored.length === 25);
    expect(store.stored.map((item) => item.n)).toEqual(range(0, 25));
    expect(Math.max(...store.batchSizes)).toBe(10);
    expect(writer.stats()).toMatchObject({ queueDepth: 0, written: 25, spilled: 0, writeFailures: 0 });
  });

  it('writes a partial batch when the flush interval passes', async () => {
    const writer = await started({ flushIntervalMs: 20 });
    for (const item of items(0, 3)) writer.push(item);
    expect(writer.stats().queueDepth).toBe(3);
    await until(() => store.stored.length === 3);
    expect(store.batchSizes).toEqual([3]);
  });

  it('spills while the store fails and replays everything once, oldest first, when it answers again', async () => {
    const writer = await started();
    store.down = true;
    for (const item of items(0, 120)) writer.push(item);
    await writer.flush();
    expect(writer.stats()).toMatchObject({ queueDepth: 0, spilled: 120, written: 0 });
    expect(spilledLines()).toBe(120);

    // Still down: newer records queue behind the spilled ones, on disk.
    writer.push({ n: 120 });
    await writer.flush();
    expect(writer.stats().spilled).toBe(121);
    expect(store.stored).toEqual([]);

    store.down = false;
    writer.push({ n: 121 });
    await writer.flush();
    expect(store.stored.map((item) => item.n)).toEqual(range(0, 122));
    expect(existsSync(spillPath)).toBe(false);
    expect(existsSync(`${spillPath}.replaying`)).toBe(false);
    expect(writer.stats()).toMatchObject({ replayed: 121, written: 1, queueDepth: 0 });
    expect(writer.stats().writeFailures).toBeGreaterThan(0);

    // Nothing is left to replay: another flush and another start store nothing more.
    await writer.flush();
    await started();
    expect(store.stored).toHaveLength(122);
  });

  it('retries a failed write once at once: a connection the database closed while idle costs no spill', async () => {
    const writer = await started({ batchSize: 10 });
    let failNext = 1;
    const write = store.write.bind(store);
    jest
      .spyOn(store, 'write')
      .mockImplementation((batch) =>
        failNext-- > 0 ? Promise.reject(new Error('read ECONNRESET')) : write(batch),
      );
    for (const item of items(0, 10)) writer.push(item);
    await writer.flush();
    expect(store.stored.map((item) => item.n)).toEqual(range(0, 10));
    expect(writer.stats()).toMatchObject({ written: 10, spilled: 0, writeFailures: 0 });
  });

  it('sends the oldest records to disk when the queue is full, never dropping one, and keeps their order', async () => {
    const writer = await started({ queueMax: 100, batchSize: 10_000 });
    for (const item of items(0, 250)) writer.push(item);
    const { queueDepth, spilled } = writer.stats();
    expect(queueDepth).toBeLessThanOrEqual(100);
    expect(queueDepth + spilled).toBe(250);
    expect(spilled).toBeGreaterThan(0);
    await writer.flush();
    expect(store.stored.map((item) => item.n)).toEqual(range(0, 250));
  });

  it('replays what an earlier process left on disk at start', async () => {
    const first = await started();
    store.down = true;
    for (const item of items(0, 30)) first.push(item);
    await first.close();
    expect(store.stored).toEqual([]);
    expect(spilledLines()).toBe(30);

    store.down = false;
    await started();
    expect(store.stored.map((item) => item.n)).toEqual(range(0, 30));
    expect(spilledLines()).toBe(0);
  });

  it('close() writes the queue to the store; records pushed afterwards go to disk for the next start', async () => {
    const writer = await started();
    for (const item of items(0, 40)) writer.push(item);
    await writer.close();
    expect(store.stored).toHaveLength(40);
    writer.push({ n: 40 });
    expect(store.stored).toHaveLength(40);
    expect(readFileSync(spillPath, 'utf8').trim().split('\n')).toHaveLength(1);
    await started();
    expect(store.stored.map((item) => item.n)).toEqual(range(0, 41));
  });

  it('prepares each record once, in queue order, whether written or spilled; replays are not prepared again', async () => {
    const first = stamper();
    const writer = await started({ batchSize: 10, queueMax: 40, prepare: first.prepare });
    for (const item of items(0, 20)) writer.push(item);
    await writer.flush();
    store.down = true;
    // 60 more while down: the queue overflows to disk, and the flush spills the rest.
    for (const item of items(20, 60)) writer.push(item);
    await writer.flush();
    await writer.close();
    expect(first.stamped()).toBe(80);

    store.down = false;
    // A later process stamps from 1000: replayed records keep the stamps they were spilled with.
    const later = stamper(1_000);
    await started({ prepare: later.prepare });
    expect(later.stamped()).toBe(0);
    expect(store.stored.map((item) => item.n)).toEqual(range(0, 80));
    expect(store.stored.map((item) => item.stamp)).toEqual(range(0, 80));
  });

  it('never throws into the producer with the store and the disk both failing, and loses nothing', async () => {
    // A regular file where the spill directory should be: every spill fails with ENOTDIR.
    writeFileSync(join(dir, 'not-a-directory'), '');
    const writer = await started({ spillPath: join(dir, 'not-a-directory', 'spill.ndjson'), queueMax: 5 });
    store.down = true;
    expect(() => {
      for (const item of items(0, 8)) writer.push(item);
    }).not.toThrow();
    await writer.flush();
    // Kept in memory, beyond queueMax even, for the next attempt.
    expect(writer.stats().queueDepth).toBe(8);
    store.down = false;
    await writer.flush();
    expect(store.stored.map((item) => item.n)).toEqual(range(0, 8));
  });
});
