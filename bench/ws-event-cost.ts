/**
 * npm run bench — the server CPU of one guarded socket event (DESIGN §9: an `@AgentAuth()` event,
 * with validation, throttling, metrics and audit hooks, costs at most 1.6× the server CPU of a bare
 * Socket.IO echo measured in the same run), and what the metrics instrumentation adds to it
 * (issue 5: it must not slow the guarded event path measurably).
 *
 * Each server runs in its own process on 127.0.0.1 and takes the same load from a separate load
 * process (bench/fixtures/load.ts): a bare Socket.IO echo (the baseline), a bare Nest gateway,
 * signalgate itself (dist/main.js, built if stale) and signalgate with its socket event metrics left
 * out (a preload makes SignalgateIoAdapter hand Nest every handler unwrapped; src/ untouched). The
 * load sends `agent:status {status:'idle'}` with an ack, a
 * bounded number in flight per socket: a warm-up, then a closed-loop run (as fast as the server
 * answers) and a paced run (the same rate for every server), each bounded in count and time. Server
 * CPU (utime + stime from /proc/<pid>/stat) over a run divided by the events answered gives
 * µs/event, reported as a ratio to the bare echo. Then, in this process and without a server, a
 * handler callback is called bare and as SignalgateIoAdapter wraps it (the real adapter, feeding the
 * real WsEventMetrics), bounded in count and time, to price the instrumentation's own work per event.
 */
import 'reflect-metadata';
import type { INestApplication } from '@nestjs/common';
import type { MessageMappingProperties } from '@nestjs/websockets';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { SignalgateIoAdapter } from '../src/transport/signalgate-io.adapter';
import type { AppConfig } from '../src/config/app-config';
import { MetricsInstruments } from '../src/metrics/metrics-instruments.service';
import { METRIC_PREFIX } from '../src/metrics/metrics-registry';
import { WsEventMetrics } from '../src/metrics/ws-event-metrics.service';
import type { LoadOptions, Phase, PhaseResult } from './fixtures/load';
import {
  baseEnv,
  buildIfNeeded,
  deleteRedisKeys,
  exampleAgents,
  fmt,
  mint,
  ROOT,
  type Running,
  type ServerSpec,
  signalgateEnv,
  startServer,
  STATE_BENCH_ENV,
  table,
  TS_NODE,
} from './fixtures/server-process';

/** Load shape: every server gets exactly this. */
const SOCKETS = 50;
const IN_FLIGHT_PER_SOCKET = 2;
const PACED_RATE = 4_000;
const PHASES: Phase[] = [
  { name: 'warm-up', events: 5_000, timeLimitMs: 5_000 },
  { name: 'closed loop', events: 50_000, timeLimitMs: 10_000 },
  { name: 'paced', events: 32_000, timeLimitMs: 10_000, ratePerSecond: PACED_RATE },
];
const STEP_TIMEOUT_MS = 30_000;

/** DESIGN §9. */
const BUDGET_RATIO = 1.6;

/**
 * The event. `heartbeat` is @AgentAuth() too, but its handler returns nothing, so no ack comes back
 * and neither latency nor a bounded number in flight can be measured. `agent:status` is
 * @AgentAuth(), validated (@IsIn), counted and timed by the socket adapter, goes through the
 * presence store and answers `{success, status}`. Re-sending `idle` to an idle agent changes
 * nothing others see (no broadcast, no routing), so its cost does not grow with the socket count.
 */
const EVENT = 'agent:status';
const PAYLOAD = { status: 'idle' };

/** In-process micro-benchmark: bounded in count and time, best of ROUNDS after a warm-up. */
const IN_PROCESS = { events: 500_000, timeLimitMs: 5_000 };
const ROUNDS = 3;

interface Target extends ServerSpec {
  logins: LoadOptions['logins'];
  /** Printed by the server once started, proving the variant is the one intended. */
  expectOutput?: string;
}

interface Measured {
  target: Target;
  phases: PhaseResult[];
}

/** Runs the load process against a started server; resolves with its phases (bounded). */
function runLoad(server: Running, target: Target): Promise<PhaseResult[]> {
  const options: LoadOptions = {
    url: server.url,
    serverPid: server.child.pid!,
    sockets: SOCKETS,
    inFlight: IN_FLIGHT_PER_SOCKET,
    event: EVENT,
    payload: PAYLOAD,
    logins: target.logins,
    phases: PHASES,
    stepTimeoutMs: STEP_TIMEOUT_MS,
  };
  const child = spawn(
    process.execPath,
    [...TS_NODE, join(__dirname, 'fixtures', 'load.ts'), JSON.stringify(options)],
    {
      cwd: ROOT,
      env: baseEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const limitMs = PHASES.reduce(
    (sum, phase) => sum + phase.timeLimitMs + STEP_TIMEOUT_MS,
    2 * STEP_TIMEOUT_MS,
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`load against ${target.name} did not finish within ${limitMs} ms`));
    }, limitMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('[')) {
        reject(new Error(`load against ${target.name} failed (${code}): ${stderr.trim()}`));
        return;
      }
      resolve(JSON.parse(line) as PhaseResult[]);
    });
  });
}

async function measureTarget(target: Target): Promise<Measured> {
  const server = await startServer(target, STEP_TIMEOUT_MS);
  try {
    const phases = await runLoad(server, target);
    if (server.child.exitCode !== null) throw new Error(`${target.name} died:\n${server.output()}`);
    if (target.expectOutput && !server.output().includes(target.expectOutput))
      throw new Error(`${target.name} did not print "${target.expectOutput}":\n${server.output()}`);
    return { target, phases: phases.filter((phase) => phase.name !== PHASES[0].name) };
  } finally {
    await server.stop();
  }
}

/** Server CPU per answered event, µs. */
function cpuUs(phase: PhaseResult): number | null {
  return phase.serverCpuMs === null || phase.events === 0 ? null : (phase.serverCpuMs * 1000) / phase.events;
}

/** Awaits `body` until `events` calls or `timeLimitMs`; ns per call. */
async function timeAsync(
  bounds: { events: number; timeLimitMs: number },
  body: () => Promise<unknown>,
): Promise<number> {
  const started = performance.now();
  let done = 0;
  while (done < bounds.events && performance.now() - started < bounds.timeLimitMs) {
    await body();
    done += 1;
  }
  return ((performance.now() - started) * 1e6) / done;
}

/** Best (lowest) of ROUNDS alternating runs of `a` and `b`, after one warm-up run of each. */
async function bestOf(a: () => Promise<number>, b: () => Promise<number>): Promise<[number, number]> {
  await a();
  await b();
  let bestA = Infinity;
  let bestB = Infinity;
  for (let round = 0; round < ROUNDS; round += 1) {
    bestA = Math.min(bestA, await a());
    bestB = Math.min(bestB, await b());
  }
  return [bestA, bestB];
}

type HandlerCallback = MessageMappingProperties['callback'];

interface InstrumentationCost {
  /** ns per awaited call: the handler callback bare vs as SignalgateIoAdapter.observed wraps it. */
  without: number;
  with: number;
  /** Calls of the wrapped callback, and what WsEventMetrics recorded for them (must be equal). */
  calls: number;
  counted: number;
  timed: number;
}

/**
 * The socket event instrumentation without a server: the real SignalgateIoAdapter (from src, so
 * what dist/ runs once built) wraps a handler callback that answers at once, as Nest's does (a
 * promise), and reports to a real WsEventMetrics. Wrapped, each call also reads hrtime twice, builds
 * a tracked ack, chains one `.then` and updates a bound histogram and counter; bare, it does none of
 * that. The client ack is a no-op function, as every event of the load carries one.
 */
async function instrumentationCost(): Promise<InstrumentationCost> {
  const instruments = new MetricsInstruments(new Registry());
  // AbstractWsAdapter takes an app or an http server and needs neither until a server is created;
  // AppConfig is read only by createIOServer, never called here.
  const adapter = new SignalgateIoAdapter(
    undefined as unknown as INestApplication,
    {} as AppConfig,
    new WsEventMetrics(instruments),
  );
  // Private in TypeScript (bindMessageHandlers calls it for every handler), a method at runtime.
  const { observed } = adapter as unknown as {
    observed(event: string, callback: HandlerCallback): HandlerCallback;
  };
  if (typeof observed !== 'function') throw new Error('SignalgateIoAdapter has no observed() to measure');

  const answer = { success: true, status: PAYLOAD.status };
  const bare: HandlerCallback = () => Promise.resolve(answer);
  const wrapped = observed.call(adapter, EVENT, bare);
  const clientAck = (): void => undefined;
  let calls = 0;
  const run = (callback: HandlerCallback, counting: boolean) => (): Promise<number> =>
    timeAsync(IN_PROCESS, () => {
      if (counting) calls += 1;
      return callback(PAYLOAD, clientAck) as Promise<unknown>;
    });
  const [without, withIt] = await bestOf(run(bare, false), run(wrapped, true));

  const counted = (await instruments.wsEvents.get()).values.reduce((sum, sample) => sum + sample.value, 0);
  const timed = (await instruments.wsEventDuration.get()).values
    .filter((sample) => sample.metricName === `${METRIC_PREFIX}ws_event_duration_seconds_count`)
    .reduce((sum, sample) => sum + sample.value, 0);
  if (counted !== calls || timed !== calls)
    throw new Error(`the wrapped callback ran ${calls} times but ${counted} were counted and ${timed} timed`);
  return { without, with: withIt, calls, counted, timed };
}

function report(results: Measured[], cost: InstrumentationCost): void {
  const out = (line = ''): boolean => process.stdout.write(`${line}\n`);
  const [bare, , subject, withoutMetrics] = results;
  out();
  out(
    `ws event cost: ${EVENT} ${JSON.stringify(PAYLOAD)} with an ack; ${SOCKETS} sockets, at most ${IN_FLIGHT_PER_SOCKET} ` +
      `in flight each; after a warm-up of ${PHASES[0].events}; node ${process.version}, ${cpus().length} CPUs`,
  );
  PHASES.slice(1).forEach((phase, p) => {
    const baseline = cpuUs(bare.phases[p]);
    const title =
      phase.ratePerSecond === undefined
        ? `closed loop (each answer sends the next: as fast as the server goes), ${phase.events} events or ${phase.timeLimitMs / 1000} s`
        : `paced at ${phase.ratePerSecond}/s (the same load for every server), ${phase.events} events or ${phase.timeLimitMs / 1000} s`;
    out();
    out(title);
    const rows = results.map(({ target, phases }) => {
      const run = phases[p];
      const us = cpuUs(run);
      return [
        target.name,
        String(run.events),
        fmt((run.events * 1000) / run.elapsedMs, 0),
        `${fmt(run.latencyP50Ms, 2)} / ${fmt(run.latencyP99Ms, 2)}`,
        fmt(us),
        us === null || baseline === null ? 'n/a' : `${(us / baseline).toFixed(2)}×`,
        `${fmt((run.loadCpuMs * 100) / run.elapsedMs, 0)}%`,
        run.failed === 0 ? run.stoppedBy : `${run.stoppedBy}, ${run.failed} FAILED`,
      ];
    });
    table(
      [
        'server',
        'events',
        'events/s',
        'p50 / p99 ms',
        'server CPU µs/event',
        'vs bare echo',
        'load CPU',
        'ended by',
      ],
      rows,
    ).forEach((line) => out(line));
  });

  const paced = PHASES.length - 2;
  const ratio = (m: Measured): number | null => {
    const [us, base] = [cpuUs(m.phases[paced]), cpuUs(bare.phases[paced])];
    return us === null || base === null ? null : us / base;
  };
  const subjectRatio = ratio(subject);
  out();
  if (subjectRatio !== null)
    out(
      `signalgate / bare echo, paced: ${subjectRatio.toFixed(2)}× (DESIGN §9: ≤ ${BUDGET_RATIO}×, ` +
        `${subjectRatio <= BUDGET_RATIO ? 'within' : 'OVER'} budget; a bare Nest gateway: ${fmt(ratio(results[1]), 2)}×)`,
    );
  const onRedis = results.find((m) => m.target.name === 'signalgate on Redis state');
  if (onRedis) {
    const [redisUs, memoryUs] = [cpuUs(onRedis.phases[paced]), cpuUs(subject.phases[paced])];
    if (redisUs !== null && memoryUs !== null)
      out(
        `signalgate on Redis state / in memory, paced: ${(redisUs / memoryUs).toFixed(2)}× server CPU per event ` +
          `(target ≤ 1.5×; p50 ${fmt(onRedis.phases[paced].latencyP50Ms, 2)} ms vs ${fmt(subject.phases[paced].latencyP50Ms, 2)} ms)`,
      );
  }
  out(
    `why ${EVENT}: @AgentAuth(), validated, answers an ack (heartbeat answers none); idle again broadcasts nothing.`,
  );
  out(
    'signalgate: dist/main.js, NODE_ENV=production, SQLite, example directory, RATE_LIMIT_ENABLED=false (the throttler ' +
      'guard runs but returns at once: rate-limit storage is not in these numbers; this bench is about the event path).',
  );
  out(
    'server CPU: utime + stime of the server process from /proc/<pid>/stat, in clock ticks (usually 10 ms). ' +
      "load CPU: the load process's own share of one core; near 100% means it, not the server, set the closed-loop rate.",
  );

  out();
  out('socket event metrics (adapter: SignalgateIoAdapter.observed → WsEventMetrics), µs per event');
  const us = (value: number | null): string => fmt(value, 2);
  const rows: string[][] = subject.phases.map((run, p) => {
    const withUs = cpuUs(run);
    const withoutUs = cpuUs(withoutMetrics.phases[p]);
    const added = withUs === null || withoutUs === null ? null : withUs - withoutUs;
    return [
      `signalgate server CPU, ${PHASES[p + 1].name}`,
      us(withoutUs),
      us(withUs),
      us(added),
      added === null || withUs === null ? 'n/a' : `${((added / withUs) * 100).toFixed(1)}%`,
    ];
  });
  const subjectPacedUs = cpuUs(subject.phases[paced]);
  const added = (cost.with - cost.without) / 1000;
  rows.push([
    'in this process, bare vs wrapped callback',
    us(cost.without / 1000),
    us(cost.with / 1000),
    us(added),
    subjectPacedUs === null ? 'n/a' : `${((added / subjectPacedUs) * 100).toFixed(1)}%`,
  ]);
  table(['measured', 'without', 'with', 'added', 'of signalgate CPU/event'], rows).forEach((line) =>
    out(line),
  );
  out(
    `in this process: ${fmt(cost.without, 0)} ns bare, ${fmt(cost.with, 0)} ns wrapped, ` +
      `${fmt(cost.with - cost.without, 0)} ns/event added (best of ${ROUNDS}; ${cost.calls} wrapped calls, ` +
      `${cost.counted} counted and ${cost.timed} timed by WsEventMetrics).`,
  );
  out(
    'server rows: signalgate as built vs the same build with SignalgateIoAdapter.observed returning each handler ' +
      'unwrapped (a preload): no wrapper, tracked ack, hrtime or prom-client update. The in-process row awaits a ' +
      'handler callback that answers at once, bare and as the real adapter wraps it (reporting to a real ' +
      "WsEventMetrics); its percentage is of signalgate's paced server CPU per event. A server difference " +
      'smaller than the spread between runs (a few µs/event here) is noise; the in-process row is free of it.',
  );
}

async function main(): Promise<void> {
  // The real server, built: dist/ is rebuilt only when missing or older than src/ (as `npm start`).
  buildIfNeeded();

  const dir = mkdtempSync(join(tmpdir(), 'signalgate-bench-ws-'));
  const redisPrefix = `signalgate-bench:${randomBytes(4).toString('hex')}:`;
  try {
    const secret = randomBytes(32).toString('hex');
    const agents = exampleAgents();
    const logins = await Promise.all(
      agents.map(async ({ userId, agentId }) => ({ agentId, token: await mint(secret, userId) })),
    );
    const targets: Target[] = [
      {
        name: 'bare Socket.IO echo',
        args: [...TS_NODE, join(__dirname, 'fixtures', 'bare-echo-server.ts')],
        env: baseEnv(),
        logins: [],
      },
      {
        name: 'bare Nest gateway',
        args: [...TS_NODE, join(__dirname, 'fixtures', 'bare-nest-server.ts')],
        env: baseEnv(),
        logins: [],
      },
      {
        name: `signalgate (${agents.length} agents)`,
        args: [join(ROOT, 'dist', 'main.js')],
        env: signalgateEnv({ dir, name: 'signalgate', secret }),
        logins,
      },
      {
        name: 'signalgate, no socket event metrics',
        args: [
          ...TS_NODE,
          '-r',
          join(__dirname, 'fixtures', 'without-ws-event-metrics.ts'),
          join(ROOT, 'dist', 'main.js'),
        ],
        // ts-node compiles the preload only; dist/ is loaded as built, as in the row above.
        env: {
          ...signalgateEnv({ dir, name: 'without-ws-metrics', secret }),
          TS_NODE_IGNORE: '(?:^|/)node_modules/,(?:^|/)dist/',
        },
        logins,
        expectOutput: 'bench: socket event metrics left out',
      },
    ];
    // With REDIS_URL: the same server on Redis state (stores, deadlines, counters, fan-out), under a
    // prefix of its own (deleted afterwards), so the row beside the in-memory one gives Redis mode's
    // cost per event. In development: production refuses Redis with SQLite (STATE_BENCH_ENV).
    if (process.env.REDIS_URL)
      targets.push({
        name: 'signalgate on Redis state',
        args: [join(ROOT, 'dist', 'main.js')],
        env: {
          ...signalgateEnv({ dir, name: 'signalgate-redis', secret }),
          ...STATE_BENCH_ENV,
          REDIS_URL: process.env.REDIS_URL,
          REDIS_PREFIX: redisPrefix,
        },
        logins,
      });
    else process.stdout.write('ws event cost: REDIS_URL not set; the Redis state row is left out\n');
    const results: Measured[] = [];
    for (const target of targets) {
      process.stdout.write(`ws event cost: measuring ${target.name}…\n`);
      results.push(await measureTarget(target));
    }
    process.stdout.write('ws event cost: timing the socket event metrics in this process…\n');
    report(results, await instrumentationCost());
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (process.env.REDIS_URL) await deleteRedisKeys(process.env.REDIS_URL, redisPrefix);
  }
}

main().catch((error: Error) => {
  process.stderr.write(`bench failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
