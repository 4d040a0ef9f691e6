import { Logger } from '@nestjs/common';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecurityEvent } from '../common/security/security-event';
import { SecurityEventBus } from '../common/security/security-event-bus.service';
import { AppConfig, validateEnvironment } from '../config/app-config';
import { AuditRecorder } from './audit-recorder.service';
import type { AuditRecord } from './audit-record';
import { AuditVerifier } from './audit-verifier.service';
import { InMemoryAuditStore } from './in-memory-audit.store';

/** A store double that fails while `down` is set, as a database outage would. */
class FlakyStore extends InMemoryAuditStore {
  down = false;
  appendCalls = 0;

  override append(records: readonly AuditRecord[]): Promise<number> {
    this.appendCalls += 1;
    if (this.down) return Promise.reject(new Error('connection refused'));
    return super.append(records);
  }
}

const failure = (i: number): SecurityEvent => ({
  type: 'auth.login',
  outcome: 'failure',
  reason: 'invalid_token',
  code: 'AUTH_INVALID_TOKEN',
  source: { transport: 'ws', ip: '203.0.113.9', socketId: `s-${i}` },
  target: 'agent:login',
  details: { attempt: i },
});

describe('AuditRecorder', () => {
  let dir: string;
  let store: FlakyStore;
  let bus: SecurityEventBus;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'audit-recorder-'));
    store = new FlakyStore();
    bus = new SecurityEventBus();
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    jest.restoreAllMocks();
  });

  function config(overrides: Record<string, string> = {}): AppConfig {
    return validateEnvironment({
      AUDIT_SPILL_PATH: join(dir, 'spill.ndjson'),
      AUDIT_FLUSH_INTERVAL_MS: '60000',
      AUDIT_BATCH_SIZE: '50',
      ...overrides,
    });
  }

  async function started(overrides: Record<string, string> = {}): Promise<AuditRecorder> {
    const recorder = new AuditRecorder(store, config(overrides), bus);
    await recorder.onModuleInit();
    return recorder;
  }

  const stored = async (): Promise<AuditRecord[]> => store.list({}, 100_000);

  it('records what the bus publishes as chained, verifiable records, without credentials', async () => {
    const recorder = await started();
    bus.publish(failure(1));
    bus.publish({
      type: 'auth.ticket_issued',
      outcome: 'success',
      method: 'hs256',
      actor: { userId: 'u-1', agentId: 'agent_a', role: 'agent' },
      orgId: 'org_a',
      source: { transport: 'http', ip: '127.0.0.1' },
      target: 'POST /auth/ws-ticket',
      // Publishers never do this; the recorder still must not store it.
      details: {
        ticketId: 'jti-1',
        token: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1In0.sig',
        nested: { x: 'eyJa.eyJb.c' },
      },
    });
    await recorder.flush();
    const records = (await stored()).reverse();
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({
      type: 'auth.login',
      outcome: 'failure',
      reason: 'invalid_token',
      actor: {},
      source: { transport: 'ws', ip: '203.0.113.9', socketId: 's-1' },
      target: 'agent:login',
      details: { attempt: 1, code: 'AUTH_INVALID_TOKEN' },
      chain: recorder.chain,
      seq: 0,
      prevHash: '0'.repeat(64),
    });
    expect(records[0].occurredAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(records[1].prevHash).toBe(records[0].hash);
    expect(records[1].details).toEqual({
      ticketId: 'jti-1',
      token: expect.stringMatching(/^sha256:[0-9a-f]{12}$/),
      nested: { x: expect.stringMatching(/^sha256:/) },
      method: 'hs256',
    });
    expect(JSON.stringify(records)).not.toContain('eyJ');
    expect(await new AuditVerifier(store).verify()).toEqual({ ok: true, checked: 2 });
  });

  it('writes in batches by size without waiting for the timer', async () => {
    const recorder = await started({ AUDIT_BATCH_SIZE: '10' });
    for (let i = 0; i < 25; i += 1) bus.publish(failure(i));
    await new Promise((resolve) => setImmediate(resolve));
    await recorder.flush();
    expect(await stored()).toHaveLength(25);
    expect(recorder.stats()).toMatchObject({ queueDepth: 0, written: 25, spilled: 0 });
  });

  it('spills while the store fails and replays exactly once, in order, when it answers again', async () => {
    const recorder = await started();
    store.down = true;
    for (let i = 0; i < 120; i += 1) bus.publish(failure(i));
    await recorder.flush();
    expect(await stored()).toHaveLength(0);
    expect(recorder.stats()).toMatchObject({ queueDepth: 0, spilled: 120 });
    // On disk, split between the file a failed replay set aside and the current one.
    const lines = (name: string): string[] =>
      existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').trim().split('\n') : [];
    expect([...lines('spill.ndjson.replaying'), ...lines('spill.ndjson')]).toHaveLength(120);

    // Still down: new records queue behind the spilled ones, on disk.
    bus.publish(failure(120));
    await recorder.flush();
    expect(recorder.stats().spilled).toBe(121);

    store.down = false;
    bus.publish(failure(121));
    await recorder.flush();
    const records = await stored();
    expect(records).toHaveLength(122);
    expect(new Set(records.map((r) => r.id)).size).toBe(122);
    expect(existsSync(join(dir, 'spill.ndjson'))).toBe(false);
    expect(existsSync(join(dir, 'spill.ndjson.replaying'))).toBe(false);
    expect(recorder.stats()).toMatchObject({ replayed: 121, queueDepth: 0 });
    expect(await new AuditVerifier(store).verify()).toEqual({ ok: true, checked: 122 });
  });

  it('replays a spill file left by an earlier process at start, and a second replay changes nothing', async () => {
    const first = await started();
    store.down = true;
    for (let i = 0; i < 30; i += 1) bus.publish(failure(i));
    await first.beforeApplicationShutdown();
    expect(await stored()).toHaveLength(0);

    store.down = false;
    const second = new AuditRecorder(store, config(), new SecurityEventBus());
    await second.onModuleInit();
    expect(await stored()).toHaveLength(30);
    // A crash between the insert and the file's removal replays again: idempotent.
    await store.append((await stored()).slice(0, 10));
    expect(await stored()).toHaveLength(30);
  });

  it('sends the oldest records to the spill file when the queue is full, never dropping one', async () => {
    const recorder = await started({ AUDIT_QUEUE_MAX: '100', AUDIT_BATCH_SIZE: '10000' });
    store.down = true;
    for (let i = 0; i < 250; i += 1) bus.publish(failure(i));
    const { queueDepth, spilled } = recorder.stats();
    expect(queueDepth).toBeLessThanOrEqual(100);
    expect(queueDepth + spilled).toBe(250);
    store.down = false;
    await recorder.flush();
    const records = await stored();
    expect(records).toHaveLength(250);
    expect(records.map((r) => (r.details as { attempt: number }).attempt).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 250 }, (_, i) => i),
    );
  });

  it('at shutdown flushes to the store, and records published afterwards go to the spill file', async () => {
    const recorder = await started();
    for (let i = 0; i < 40; i += 1) bus.publish(failure(i));
    await recorder.beforeApplicationShutdown();
    expect(await stored()).toHaveLength(40);
    bus.publish(failure(40));
    expect(readFileSync(join(dir, 'spill.ndjson'), 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('never throws into the publisher, even with the store and the disk both failing', async () => {
    // A regular file where the spill directory should be: every write fails with ENOTDIR.
    writeFileSync(join(dir, 'not-a-directory'), '');
    const recorder = await started({ AUDIT_SPILL_PATH: join(dir, 'not-a-directory', 'spill.ndjson') });
    store.down = true;
    expect(() => bus.publish(failure(1))).not.toThrow();
    await recorder.flush();
    // Kept in memory for the next attempt rather than lost.
    expect(recorder.stats().queueDepth).toBe(1);
    store.down = false;
    await recorder.flush();
    expect(await stored()).toHaveLength(1);
  });
});
