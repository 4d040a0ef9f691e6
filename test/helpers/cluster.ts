import { Logger } from '@nestjs/common';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import type { AgentState } from '../../src/signaling/protocol';
import { connected } from './app';
import { OpenedDatabase, openPostgres } from './databases';
import { mintHs256, TEST_HS256_SECRET } from './keys';
import { spawnServer, ServerProcess } from './process';
import { openRedisSpace, RedisSpace } from './redis';
import { AgentClient, Client, Inbox, SALES_PAGE, SIGNALING_AGENTS_FILE, VisitorClient } from './signaling';

/**
 * A second directory for the cluster suite (test/fixtures/cluster-agents.json): one organisation,
 * org_cluster, whose only pool (its default, no rules) has five agents of one tier, c1…c5, a
 * 10-second ring timeout and 10-minute calls (long enough for a rolling restart).
 */
export const CLUSTER_AGENTS_FILE = join(__dirname, '..', 'fixtures', 'cluster-agents.json');
export const CLUSTER_ORG = 'org_cluster';
export const CLUSTER_POOL = 'pool_cluster';
/** Any page of org_cluster: its default pool takes every visitor. */
export const CLUSTER_PAGE = 'https://www.cluster.example/landing';

/** The identity an agent logs in with. */
export interface AgentUser {
  userId: string;
  agentId: string;
  orgId: string;
}

const clusterUsers = (
  JSON.parse(readFileSync(CLUSTER_AGENTS_FILE, 'utf8')) as { users: (AgentUser & { role: string })[] }
).users.filter((user) => user.role === 'agent');
const clusterUser = (agentId: string): AgentUser => clusterUsers.find((u) => u.agentId === agentId)!;

export const clusterAgents = {
  c1: clusterUser('agent_c1'),
  c2: clusterUser('agent_c2'),
  c3: clusterUser('agent_c3'),
  c4: clusterUser('agent_c4'),
  c5: clusterUser('agent_c5'),
};

/** The same ticket secret on every instance: a ticket issued by one is redeemed by another. */
export const CLUSTER_TICKET_SECRET = 'signalgate-cluster-e2e-ticket-secret-0123456789';

/** What a test reaches one instance through: its current URL, and fresh sockets to it. */
export interface Endpoint {
  url: string;
  connect(options?: Partial<ManagerOptions & SocketOptions>): Socket;
}

export interface ClusterOptions {
  instances: number;
  /** Variables over the defaults below, the same on every instance. */
  env?: Record<string, string>;
  /** A Redis of the test's own (one it stops and starts), instead of REDIS_URL's. */
  redisUrl?: string;
}

/** N real signalgate processes (src/main.ts) sharing one Redis space and one Postgres database. */
export interface Cluster {
  readonly size: number;
  /** The base URL of instance `i` (0-based) as it listens now (a restart moves it to a new port). */
  url(i: number): string;
  /** Instance `i` as an endpoint: sockets connect to the URL it listens on now. */
  at(i: number): Endpoint;
  /** SIGTERM, then waits for the process to exit with 0 (a graceful stop). */
  stop(i: number): Promise<void>;
  /** SIGKILL: the process vanishes without any shutdown step. */
  kill(i: number): Promise<void>;
  /** A new process for instance `i` with the same environment (a new port); resolves once it listens. */
  restart(i: number): Promise<void>;
  /** Everything instance `i` printed, over all its processes (restarts included). */
  output(i: number): string;
  /** Every instance's output, labelled, for a failure report. */
  report(): string;
  /** Kills every process and every client socket, deletes the Redis keys and drops the database. */
  close(): Promise<void>;
}

/** Shorter than a test's patience, long enough for ts-node to compile src/ on a busy machine. */
const BOOT_TIMEOUT_MS = 90_000;
/** The tail of each instance's output put into a failure message (the whole of it goes to a file). */
const REPORT_TAIL_CHARS = 40_000;

interface Generation {
  server: ServerProcess;
  url: string | null;
}

class ServerCluster implements Cluster {
  private readonly generations: Generation[][];
  private readonly sockets: Socket[] = [];
  private closed = false;

  constructor(
    private readonly envs: Record<string, string>[],
    private readonly space: RedisSpace,
    private readonly database: OpenedDatabase,
    private readonly dir: string,
  ) {
    this.generations = envs.map(() => []);
  }

  get size(): number {
    return this.envs.length;
  }

  /** Starts every instance that has no process yet, all at once, as a deployment would. */
  async boot(): Promise<void> {
    await Promise.all(this.envs.map((_, i) => this.launch(i)));
  }

  url(i: number): string {
    const url = this.current(i).url;
    if (!url) throw new Error(`instance ${i} is not listening`);
    return url;
  }

  at(i: number): Endpoint {
    const url = this.url(i);
    return {
      url,
      connect: (options = {}) => {
        const socket = io(url, {
          transports: ['websocket'],
          reconnection: false,
          forceNew: true,
          ...options,
        });
        this.sockets.push(socket);
        return socket;
      },
    };
  }

  async stop(i: number): Promise<void> {
    const { server } = this.current(i);
    server.child.kill('SIGTERM');
    const code = await server.exited(30_000);
    if (code !== 0) throw new Error(`instance ${i} exited with ${code} after SIGTERM`);
  }

  async kill(i: number): Promise<void> {
    const { server } = this.current(i);
    server.child.kill('SIGKILL');
    await server.exited(10_000);
  }

  async restart(i: number): Promise<void> {
    const { server } = this.current(i);
    if (server.child.exitCode === null && server.child.signalCode === null)
      throw new Error(`instance ${i} is still running: stop or kill it first`);
    await this.launch(i);
  }

  output(i: number): string {
    return this.generations[i]
      .map(
        (generation, n) =>
          `--- process ${n + 1} (pid ${generation.server.child.pid}) ---\n${generation.server.output()}`,
      )
      .join('\n');
  }

  report(): string {
    const logDir = mkdtempSync(join(tmpdir(), 'signalgate-cluster-logs-'));
    return this.envs
      .map((_, i) => {
        const full = this.output(i);
        const file = join(logDir, `instance-${i}.log`);
        writeFileSync(file, full);
        const tail =
          full.length > REPORT_TAIL_CHARS
            ? `(… ${full.length - REPORT_TAIL_CHARS} earlier characters cut; all of it in ${file})\n` +
              full.slice(-REPORT_TAIL_CHARS)
            : full;
        return `===== instance ${i} (${file}) =====\n${tail}`;
      })
      .join('\n');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.sockets.forEach((socket) => socket.disconnect());
    const alive = this.generations
      .flat()
      .map((generation) => generation.server)
      .filter((server) => server.child.exitCode === null && server.child.signalCode === null);
    alive.forEach((server) => server.child.kill('SIGKILL'));
    await Promise.all(alive.map((server) => server.exited(10_000).catch(() => null)));
    try {
      await this.space.dispose();
    } finally {
      await this.database.dispose();
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private current(i: number): Generation {
    const generation = this.generations[i]?.at(-1);
    if (!generation) throw new Error(`instance ${i} was never started`);
    return generation;
  }

  private async launch(i: number): Promise<void> {
    const generation: Generation = { server: spawnServer(this.envs[i]), url: null };
    this.generations[i].push(generation);
    generation.url = await generation.server.listening(BOOT_TIMEOUT_MS);
  }
}

/**
 * Opens a Redis space and a fresh Postgres database (DATABASE_URL's server) and starts `instances`
 * servers on them, on 127.0.0.1 and free ports, in development mode (the production checks that
 * need CORS origins and HTTPS are not what this harness is about). Login budgets are out of the
 * way and the grace periods and the instance heartbeat are short unless `env` says otherwise.
 * A boot failure closes everything and throws with each instance's output.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const space = await openRedisSpace(options.redisUrl);
  // The helper's own DatabaseService says which database it opened; only the servers use it.
  const quiet = jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
  let database: OpenedDatabase;
  try {
    database = await openPostgres();
    await database.database.onApplicationShutdown();
  } catch (error) {
    await space.dispose();
    throw error;
  } finally {
    quiet.mockRestore();
  }
  const dir = mkdtempSync(join(tmpdir(), 'signalgate-cluster-'));
  const envs = Array.from({ length: options.instances }, (_, i) => {
    const own = join(dir, `instance-${i}`);
    mkdirSync(own, { recursive: true });
    return {
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'development',
      ...space.env,
      ...database.env,
      AUTH_JWT_SECRET: TEST_HS256_SECRET,
      AGENTS_FILE: SIGNALING_AGENTS_FILE,
      TICKET_SECRET: CLUSTER_TICKET_SECRET,
      RATE_LIMIT_LOGIN_MAX: '1000',
      RATE_LIMIT_LOGIN_AGENT_MAX: '1000',
      AGENT_DISCONNECT_GRACE_MS: '1500',
      CALL_RECONNECT_GRACE_MS: '1500',
      INSTANCE_HEARTBEAT_TTL_MS: '1500',
      AUDIT_SPILL_PATH: join(own, 'audit-spill.ndjson'),
      CALL_LOG_SPILL_PATH: join(own, 'call-log-spill.ndjson'),
      ...options.env,
    };
  });
  const cluster = new ServerCluster(envs, space, database, dir);
  try {
    await cluster.boot();
  } catch (error) {
    const report = cluster.report();
    await cluster.close();
    throw withReport(error, report);
  }
  return cluster;
}

/**
 * Runs `body` on a cluster started for it and always closes the cluster. When anything fails, the
 * thrown error carries every server's log output (also written to files named in it).
 */
export async function inCluster(
  options: ClusterOptions,
  body: (cluster: Cluster) => Promise<void>,
): Promise<void> {
  const cluster = await startCluster(options);
  try {
    await body(cluster);
  } catch (error) {
    throw withReport(error, cluster.report());
  } finally {
    await cluster.close();
  }
}

function withReport(error: unknown, report: string): Error {
  const failure = error instanceof Error ? error : new Error(String(error));
  failure.message = `${failure.message}\n\nserver output:\n${report}`;
  return failure;
}

// ── Clients (the helpers of signaling.ts, for an endpoint of the cluster) ──────────────────────

/** Logs an agent in on a fresh socket to `endpoint`; with `available` (default) it also sends `agent:back`. */
export async function agentAt(
  endpoint: Endpoint,
  agent: AgentUser,
  options: { available?: boolean } = {},
): Promise<AgentClient> {
  const socket = endpoint.connect();
  const inbox = new Inbox(socket);
  await connected(socket, 10_000);
  socket.emit('agent:login', { agentId: agent.agentId, token: await mintHs256({ sub: agent.userId }) });
  const { agentState } = await inbox.next<{ agentState: AgentState }>('login:success', 10_000);
  await inbox.next('stats:update', 10_000);
  if (options.available ?? true) {
    const back = await send<{ success: boolean }>(socket, 'agent:back');
    if (!back.success) throw new Error(`agent:back refused for ${agent.agentId}: ${JSON.stringify(back)}`);
  }
  return { socket, inbox, agentId: agent.agentId, state: agentState };
}

/** A connected socket to `endpoint` that has neither joined nor logged in. */
export async function bareAt(endpoint: Endpoint): Promise<Client> {
  const socket = endpoint.connect();
  const inbox = new Inbox(socket);
  await connected(socket, 10_000);
  return { socket, inbox };
}

/**
 * Joins a visitor on a fresh socket to `endpoint` (org_one's sales page unless told otherwise);
 * resolves with its id once the join was acknowledged. Its routing outcome is left in its inbox.
 */
export async function visitorAt(
  endpoint: Endpoint,
  payload: { orgId: string; pageUrl: string; visitorId?: string } = { orgId: 'org_one', pageUrl: SALES_PAGE },
): Promise<VisitorClient> {
  const { socket, inbox } = await bareAt(endpoint);
  const joined = await send<{ success: boolean; visitorId: string }>(socket, 'visitor:join', payload);
  if (!joined.success) throw new Error(`visitor:join refused: ${JSON.stringify(joined)}`);
  return { socket, inbox, visitorId: joined.visitorId };
}

/**
 * Emits with an ack and resolves with the response; 10 s, as an event may cross instances through
 * Redis on a machine that also runs the servers.
 */
export function send<T = Record<string, unknown>>(
  socket: Socket,
  event: string,
  ...args: unknown[]
): Promise<T> {
  return socket.timeout(10_000).emitWithAck(event, ...args) as Promise<T>;
}

/** Resolves once `condition` holds, polling every 20 ms; rejects naming `what` after `timeoutMs`. */
export async function eventually(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
