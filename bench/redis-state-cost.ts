/**
 * npm run bench (with REDIS_URL) — what signalgate's Redis state mode costs against its in-memory
 * mode on two flows, as server CPU per operation measured in the same run (target: Redis ≤ 1.5× in
 * memory): `visitor:join` (a visitor joins an organisation's page and is routed to an agent) and a
 * call set-up (`call:request` → `call:incoming` → `call:accept` → `call:accepted` + `call:started`).
 * The guarded `agent:status` event on Redis state is bench/ws-event-cost.ts's; not repeated here.
 *
 * signalgate (dist/main.js, built if stale, SQLite in a temp dir, the example directory, otherwise
 * the environment of ws-event-cost's signalgate) runs in its own process, once on in-memory state and once on REDIS_URL under a prefix
 * of its own, alternately over ROUNDS rounds; each run takes the same load from a separate process
 * (bench/fixtures/flows-load.ts), bounded in count and time. Rate limits are off: `call:request`
 * is limited to 5/min per visitor and call control to 20/min per agent, which a bench would hit at
 * once. NODE_ENV is `development` for both modes, with the docs off as production has them: a
 * production boot refuses REDIS_URL without DATABASE_URL (SQLite cannot be shared between instances),
 * and this bench measures state, not the database; past its boot checks NODE_ENV changes nothing on
 * the socket paths (an explicit agents file and token secret, so no development defaults apply).
 * The table gives the medians over the rounds. Every Redis key under the bench's prefix is
 * deleted afterwards. Without REDIS_URL it says so and stops.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { poolForPage } from '../src/signaling/routing/page-rules';
import type { FlowName, FlowResult, FlowsLoadOptions } from './fixtures/flows-load';
import {
  baseEnv,
  buildIfNeeded,
  deleteRedisKeys,
  exampleAgents,
  exampleDirectory,
  fmt,
  mint,
  ROOT,
  type Running,
  signalgateEnv,
  startServer,
  STATE_BENCH_ENV,
  table,
  TS_NODE,
} from './fixtures/server-process';

/** The organisation and a page of it whose pool every chosen agent serves (/pricing/** → Sales). */
const ORG_ID = 'org_acme';
const PAGE_URL = 'https://www.acme.example/pricing/plans';

const ROUNDS = 3;
const TARGET_RATIO = 1.5;
const STEP_TIMEOUT_MS = 10_000;

/**
 * What both modes run with over signalgateEnv: not `production`, which refuses REDIS_URL with SQLite;
 * docs off as in production. Nothing else of signalgate reads NODE_ENV.
 */

/** Load shape: every run gets exactly this. */
const LOAD = {
  // Two agents greet 25 visitors each (AGENT_VISITOR_CAPACITY): a batch stays under it.
  joinBatch: 40,
  joinInFlight: 4,
  warmUp: { joins: { ops: 400, timeLimitMs: 5_000 }, calls: { ops: 60, timeLimitMs: 5_000 } },
  joins: { ops: 2_000, timeLimitMs: 15_000 },
  calls: { ops: 400, timeLimitMs: 15_000 },
  quietMs: 15,
  stepTimeoutMs: STEP_TIMEOUT_MS,
} satisfies Omit<FlowsLoadOptions, 'url' | 'serverPid' | 'orgId' | 'pageUrl' | 'agents'>;

const FLOWS: FlowName[] = ['visitor:join', 'call set-up'];

type Mode = 'in-memory' | 'redis';

interface Run {
  mode: Mode;
  round: number;
  flows: Record<FlowName, FlowResult>;
}

const out = (line = ''): boolean => process.stdout.write(`${line}\n`);

/** Runs the load process against a started server; resolves with its flows (bounded). */
function runLoad(server: Running, options: FlowsLoadOptions, name: string): Promise<FlowResult[]> {
  const child = spawn(
    process.execPath,
    [...TS_NODE, join(__dirname, 'fixtures', 'flows-load.ts'), JSON.stringify(options)],
    { cwd: ROOT, env: baseEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Each phase stops starting windows at its time limit; the last window, its departures and the
  // logins are bounded by step timeouts.
  const phases = [LOAD.warmUp.joins, LOAD.warmUp.calls, LOAD.joins, LOAD.calls];
  const limitMs = phases.reduce((sum, p) => sum + p.timeLimitMs + 6 * STEP_TIMEOUT_MS, 6 * STEP_TIMEOUT_MS);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load against ${name} did not finish within ${limitMs} ms`));
    }, limitMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('[')) {
        reject(new Error(`load against ${name} failed (${code}): ${stderr.trim()}\n${server.output()}`));
        return;
      }
      resolve(JSON.parse(line) as FlowResult[]);
    });
  });
}

async function measure(
  mode: Mode,
  round: number,
  env: Record<string, string>,
  load: Omit<FlowsLoadOptions, 'url' | 'serverPid'>,
): Promise<Run> {
  const name = `signalgate (${mode}, round ${round + 1})`;
  const server = await startServer({ name, args: [join(ROOT, 'dist', 'main.js')], env }, 30_000);
  try {
    const results = await runLoad(server, { ...load, url: server.url, serverPid: server.child.pid! }, name);
    if (server.child.exitCode !== null) throw new Error(`${name} died:\n${server.output()}`);
    const flows = Object.fromEntries(
      FLOWS.map((flow) => {
        const result = results.find((r) => r.name === flow);
        if (!result) throw new Error(`load against ${name} reported no ${flow}`);
        return [flow, result];
      }),
    ) as Record<FlowName, FlowResult>;
    return { mode, round, flows };
  } finally {
    await server.stop();
  }
}

function median(values: (number | null)[]): number | null {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const mid = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? known[mid] : (known[mid - 1] + known[mid]) / 2;
}

function describe(run: Run): string {
  return FLOWS.map((flow) => {
    const r = run.flows[flow];
    const warnings = [
      r.failed > 0 ? `${r.failed} FAILED` : '',
      r.unassigned > 0 ? `${r.unassigned} unassigned` : '',
      r.settleTimeouts > 0 ? `${r.settleTimeouts} unsettled` : '',
    ].filter(Boolean);
    return (
      `${flow} ${r.ops} ops (${r.stoppedBy}) ${fmt(r.usPerOp)} µs/op p50 ${fmt(r.latencyP50Ms, 2)} ms` +
      (warnings.length > 0 ? ` [${warnings.join(', ')}]` : '')
    );
  }).join('; ');
}

function report(runs: Run[], agentIds: string[], poolId: string): void {
  const of = (mode: Mode, flow: FlowName, pick: (r: FlowResult) => number | null): number | null =>
    median(runs.filter((run) => run.mode === mode).map((run) => pick(run.flows[flow])));
  out();
  out(
    `Redis state cost: signalgate on Redis state vs in memory, server CPU per operation, medians of ${ROUNDS} ` +
      `alternating rounds; node ${process.version}, ${cpus().length} CPUs`,
  );
  const rows = FLOWS.map((flow) => {
    const memory = of('in-memory', flow, (r) => r.usPerOp);
    const redis = of('redis', flow, (r) => r.usPerOp);
    const ratio = memory === null || redis === null ? null : redis / memory;
    return [
      flow,
      fmt(memory),
      fmt(redis),
      ratio === null ? 'n/a' : `${ratio.toFixed(2)}×`,
      `${fmt(
        of('in-memory', flow, (r) => r.latencyP50Ms),
        2,
      )} / ${fmt(
        of('redis', flow, (r) => r.latencyP50Ms),
        2,
      )}`,
      `${fmt(
        of('in-memory', flow, (r) => r.latencyP99Ms),
        2,
      )} / ${fmt(
        of('redis', flow, (r) => r.latencyP99Ms),
        2,
      )}`,
      ratio === null ? 'n/a' : ratio <= TARGET_RATIO ? `within ${TARGET_RATIO}×` : `OVER ${TARGET_RATIO}×`,
    ];
  });
  table(
    [
      'flow',
      'in-memory µs/op',
      'Redis µs/op',
      'ratio',
      'p50 ms (mem / Redis)',
      'p99 ms (mem / Redis)',
      `target ≤ ${TARGET_RATIO}×`,
    ],
    rows,
  ).forEach((line) => out(line));
  const source = runs[0]?.flows['visitor:join'].cpuSource;
  out(
    `visitor:join: fresh sockets connected before the window, batches of ${LOAD.joinBatch}, ${LOAD.joinInFlight} in ` +
      `flight, op = emit to ack; call set-up: ${agentIds.length} agents (${agentIds.join(', ')}) in parallel, one ` +
      `call each per round, op = call:request to both call:accepted and call:started (hang-up not measured).`,
  );
  out(
    `${ORG_ID}, ${PAGE_URL} → ${poolId}; server CPU over the measured windows only ` +
      `(${source === 'schedstat' ? 'per-thread run time from /proc/<pid>/task/*/schedstat' : 'utime + stime from /proc/<pid>/stat'}), ` +
      'divided by the operations completed; Redis server CPU is not counted.',
  );
}

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    out(
      'Redis state cost: skipped — REDIS_URL is not set (this bench compares Redis state with in-memory state).',
    );
    return;
  }
  buildIfNeeded();

  const directory = exampleDirectory();
  const org = directory.organizations.find((o) => o.id === ORG_ID);
  if (!org) throw new Error(`${ORG_ID} is not in the example directory`);
  const pools = (org.pools ?? []).map((p) => ({
    id: p.id,
    isDefault: p.isDefault ?? false,
    rules: (p.rules ?? []).map((r) => ({ ...r, domainPattern: r.domainPattern ?? '*' })),
  }));
  const poolId = poolForPage(PAGE_URL, pools);
  if (!poolId) throw new Error(`${PAGE_URL} routes to no pool of ${ORG_ID}`);
  const agents = exampleAgents().filter((a) => a.orgId === ORG_ID && a.poolIds.includes(poolId));
  if (agents.length === 0) throw new Error(`no active agent of ${ORG_ID} serves ${poolId}`);

  const secret = randomBytes(32).toString('hex');
  const load: Omit<FlowsLoadOptions, 'url' | 'serverPid'> = {
    ...LOAD,
    orgId: ORG_ID,
    pageUrl: PAGE_URL,
    agents: await Promise.all(
      agents.map(async (a) => ({ agentId: a.agentId, token: await mint(secret, a.userId) })),
    ),
  };
  // One prefix for the bench, one below it per run: no run sees another's state.
  const prefix = `signalgate-bench:${randomBytes(6).toString('hex')}:`;
  const dir = mkdtempSync(join(tmpdir(), 'signalgate-bench-redis-'));
  out(
    `Redis state cost: ${ROUNDS} rounds of in-memory and Redis state (${redisUrl}, prefix ${prefix}); ` +
      'rate limits are off for this bench (RATE_LIMIT_ENABLED=false: call:request is limited to 5/min per visitor ' +
      'and call control to 20/min per agent).',
  );
  out(
    'Redis state cost: both modes run with NODE_ENV=development (docs off): a production boot refuses REDIS_URL ' +
      'without DATABASE_URL, and SQLite is kept so that only the state differs.',
  );
  const runs: Run[] = [];
  try {
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternating which goes first, so a drift of the machine over the run weighs on both.
      const modes: Mode[] = round % 2 === 0 ? ['in-memory', 'redis'] : ['redis', 'in-memory'];
      for (const mode of modes) {
        const name = `${mode}-${round + 1}`;
        const env = { ...signalgateEnv({ dir, name, secret }), ...STATE_BENCH_ENV };
        if (mode === 'redis')
          Object.assign(env, { REDIS_URL: redisUrl, REDIS_PREFIX: `${prefix}${round + 1}:` });
        const run = await measure(mode, round, env, load);
        out(`Redis state cost: round ${round + 1}, ${mode}: ${describe(run)}`);
        runs.push(run);
      }
    }
    report(
      runs,
      agents.map((a) => a.agentId),
      poolId,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    try {
      const deleted = await deleteRedisKeys(redisUrl, prefix);
      out(`Redis state cost: deleted ${deleted} Redis keys under ${prefix}`);
    } catch (error) {
      process.stderr.write(`Redis state cost: could not delete the keys under ${prefix}: ${String(error)}\n`);
      process.exitCode = 1;
    }
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
