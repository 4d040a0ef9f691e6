/**
 * npm run bench — audit recording throughput (DESIGN §9: ≥ 5,000 events/s into SQLite and into
 * Postgres). For each database: a baseline of raw batched inserts through the same store, then the
 * full path (bus → recorder → batches → store), both bounded in count and time, reported as
 * events/s and as a ratio to the baseline measured in the same run.
 */
import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import { hashRecord } from '../src/audit/audit-hash';
import { AuditRecorder } from '../src/audit/audit-recorder.service';
import { AuditRecord, GENESIS_HASH } from '../src/audit/audit-record';
import { KyselyAuditStore } from '../src/audit/kysely-audit.store';
import { DatabaseService } from '../src/common/database/database.service';
import { SecurityEventBus } from '../src/common/security/security-event-bus.service';
import { validateEnvironment } from '../src/config/app-config';

const EVENTS = 20_000;
const TIME_LIMIT_MS = 60_000;

function records(count: number): AuditRecord[] {
  let prevHash = GENESIS_HASH;
  return Array.from({ length: count }, (_, seq) => {
    const unsigned: Omit<AuditRecord, 'hash'> = {
      id: uuidv7(),
      occurredAt: new Date().toISOString(),
      type: 'auth.login',
      outcome: 'failure',
      reason: 'invalid_token',
      actor: {},
      source: { transport: 'ws', ip: '127.0.0.1', socketId: `s-${seq}` },
      target: 'agent:login',
      chain: 'baseline',
      seq,
      prevHash,
    };
    const record = { ...unsigned, hash: hashRecord(unsigned) };
    prevHash = record.hash;
    return record;
  });
}

async function measure(name: string, env: Record<string, string>, spillDir: string): Promise<void> {
  const config = validateEnvironment({ ...env, AUDIT_SPILL_PATH: join(spillDir, `${name}.ndjson`) });
  const database = new DatabaseService(config);
  const store = new KyselyAuditStore(database);
  await store.migrate();

  const batch = config.audit.batchSize;
  const prepared = records(EVENTS);
  const started = performance.now();
  for (let i = 0; i < prepared.length && performance.now() - started < TIME_LIMIT_MS; i += batch) {
    await store.append(prepared.slice(i, i + batch));
  }
  const baseline = EVENTS / ((performance.now() - started) / 1000);

  const bus = new SecurityEventBus();
  const recorder = new AuditRecorder(store, config, bus);
  await recorder.onModuleInit();
  const publishStart = performance.now();
  let publishMs = 0;
  for (let i = 0; i < EVENTS && performance.now() - publishStart < TIME_LIMIT_MS; i += 1) {
    // Events arrive over many event-loop turns, as socket traffic does: yield every 100.
    if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    const before = performance.now();
    bus.publish({
      type: 'auth.login',
      outcome: 'failure',
      reason: 'invalid_token',
      code: 'AUTH_INVALID_TOKEN',
      source: { transport: 'ws', ip: '127.0.0.1', socketId: `s-${i}` },
      target: 'agent:login',
    });
    publishMs += performance.now() - before;
  }
  const publishUs = (publishMs * 1000) / EVENTS;
  await recorder.beforeApplicationShutdown();
  const recorded = EVENTS / ((performance.now() - publishStart) / 1000);
  const stats = recorder.stats();
  await database.onApplicationShutdown();

  process.stdout.write(
    `${name.padEnd(8)} baseline inserts ${baseline.toFixed(0).padStart(7)}/s | recorder ${recorded
      .toFixed(0)
      .padStart(
        7,
      )}/s (${(recorded / baseline).toFixed(2)}× baseline) | publish cost ${publishUs.toFixed(2)} µs/event | written ${stats.written}, spilled ${stats.spilled}, replayed ${stats.replayed}\n`,
  );
}

async function main(): Promise<void> {
  Logger.overrideLogger(['error']);
  const dir = mkdtempSync(join(tmpdir(), 'signalgate-bench-'));
  try {
    await measure('sqlite', { SQLITE_PATH: join(dir, 'bench.db') }, dir);
    const url = process.env.DATABASE_URL;
    if (!url) {
      process.stdout.write('postgres skipped: DATABASE_URL not set\n');
      return;
    }
    const name = `sg_bench_${Date.now()}`;
    const admin = new Client({ connectionString: url });
    await admin.connect();
    await admin.query(`CREATE DATABASE "${name}"`);
    try {
      const target = new URL(url);
      target.pathname = `/${name}`;
      await measure('postgres', { DATABASE_URL: target.toString() }, dir);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
