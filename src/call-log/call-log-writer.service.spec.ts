import { Logger } from '@nestjs/common';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { AppConfig, validateEnvironment } from '../config/app-config';
import type { CallLogEntry } from './call-log';
import type { CallLogRecord } from './call-log-record';
import { CallLogWriter } from './call-log-writer.service';
import { InMemoryCallLogStore } from './in-memory-call-log.store';

/** A store double that fails while `down` is set, as a database outage would. */
class FlakyStore extends InMemoryCallLogStore {
  down = false;

  override upsert(records: readonly CallLogRecord[]): Promise<void> {
    if (this.down) return Promise.reject(new Error('connection refused'));
    return super.upsert(records);
  }
}

const T0 = Date.parse('2026-11-30T09:00:00.000Z');

function entry(n: number): CallLogEntry {
  return {
    callLogId: uuidv7(),
    callId: `call_${n}`,
    orgId: 'org_a',
    agentId: 'agent_a1',
    visitorId: `visitor_${n}`,
    pageUrl: 'https://www.a.example/pricing',
    requestedAt: T0 + n * 60_000 - 3_000,
    startedAt: T0 + n * 60_000,
  };
}

describe('CallLogWriter', () => {
  let dir: string;
  let store: FlakyStore;
  let config: AppConfig;
  const writers: CallLogWriter[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'call-log-writer-'));
    store = new FlakyStore();
    config = validateEnvironment({
      CALL_LOG_SPILL_PATH: join(dir, 'call-log-spill.ndjson'),
      AUDIT_SPILL_PATH: join(dir, 'audit-spill.ndjson'),
      AUDIT_FLUSH_INTERVAL_MS: '60000',
    });
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(async () => {
    for (const writer of writers.splice(0)) await writer.beforeApplicationShutdown();
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  async function started(): Promise<CallLogWriter> {
    const writer = new CallLogWriter(store, config);
    writers.push(writer);
    await writer.onModuleInit();
    return writer;
  }

  const stored = (): Promise<CallLogRecord[]> => store.list({}, 1_000);

  it('queues a start and completes the row at the end, with whole seconds of duration', async () => {
    const writer = await started();
    const call = entry(1);
    writer.started(call);
    expect(await stored()).toEqual([]);
    await writer.flush();
    expect(await stored()).toEqual([{ ...call, endedAt: null, endReason: null, durationSeconds: null }]);

    writer.ended({ ...call, endedAt: call.startedAt + 61_500, endReason: 'visitor_ended' });
    await writer.flush();
    expect(await stored()).toEqual([
      { ...call, endedAt: call.startedAt + 61_500, endReason: 'visitor_ended', durationSeconds: 62 },
    ]);
  });

  it('stores only the fields of the row, whatever else a caller passes', async () => {
    const writer = await started();
    const fields = entry(2);
    const call = { ...fields, reconnectToken: 'not-for-the-log' } as CallLogEntry;
    writer.ended({ ...call, endedAt: call.startedAt + 1_400, endReason: 'agent_ended' });
    await writer.flush();
    expect(await stored()).toEqual([
      { ...fields, endedAt: call.startedAt + 1_400, endReason: 'agent_ended', durationSeconds: 1 },
    ]);
  });

  it('never throws while the database is down; the rows are spilled and stored once it answers', async () => {
    const writer = await started();
    store.down = true;
    const calls = [entry(3), entry(4), entry(5)];
    expect(() => {
      for (const call of calls) writer.started(call);
      writer.ended({ ...calls[0], endedAt: calls[0].startedAt + 10_000, endReason: 'timeout' });
    }).not.toThrow();
    await writer.flush();
    expect(writer.stats()).toMatchObject({ spilled: 4, queueDepth: 0 });
    expect(existsSync(config.callLog.spillPath)).toBe(true);

    store.down = false;
    writer.started(entry(6));
    await writer.flush();
    const rows = await stored();
    expect(rows).toHaveLength(4);
    expect(rows.find((row) => row.callLogId === calls[0].callLogId)).toMatchObject({
      endReason: 'timeout',
      durationSeconds: 10,
    });
  });

  it('after shutdown, an end goes to the spill file and the next process stores it', async () => {
    const first = await started();
    const call = entry(7);
    first.started(call);
    await first.beforeApplicationShutdown();
    expect(await stored()).toHaveLength(1);
    first.ended({ ...call, endedAt: call.startedAt + 5_000, endReason: 'agent_ended' });
    expect((await stored())[0].endedAt).toBeNull();

    await started();
    expect(await stored()).toEqual([
      { ...call, endedAt: call.startedAt + 5_000, endReason: 'agent_ended', durationSeconds: 5 },
    ]);
  });
});
