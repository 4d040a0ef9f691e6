/**
 * Shows the product working in one command. Starts nothing itself: against a running server it logs
 * in an example agent, joins a visitor, places a call, relays a fake offer/answer, ends the call and
 * prints each step with its timing:
 *   npm run demo [-- <url>] [--agent <agentId>] [--token <jwt>] [--page <url>]
 * <url> defaults to http://localhost:3000. The agent (default: the first active agent of an active
 * organisation) is looked up in AGENTS_FILE, else config/agents.example.json. Its token is --token,
 * else DEMO_TOKEN, else one minted with AUTH_JWT_SECRET when set, else a placeholder that only the
 * development fallback (no key source configured) accepts. Tokens and SDPs are never printed.
 * Exit 0 when the whole call went through; 1 with the failed step, the server's code and a hint.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { io, Socket } from 'socket.io-client';
import { loadAgentsFile } from '../src/auth/directory/agents-file';
import type { DirectoryUser, Organization } from '../src/auth/directory/directory.types';
import { validateEnvironment } from '../src/config/app-config';
import { signDevToken } from './dev-token';
import { poolForPage } from '../src/signaling/routing/page-rules';
import type { ClientEvents, ErrorPayload, ServerEvents } from '../src/signaling/protocol';

type DemoSocket = Socket<ServerEvents, ClientEvents>;

const DEFAULT_URL = 'http://localhost:3000';
const STEP_TIMEOUT_MS = 5000;
/** Accepted by the development fallback only (tokens decoded, not verified); useless anywhere else. */
const PLACEHOLDER_TOKEN = 'signalgate-demo-development-token';
const EXAMPLE_AGENTS_FILE = join(__dirname, '..', 'config', 'agents.example.json');

const FAKE_OFFER = {
  type: 'offer',
  sdp: 'v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n',
};
const FAKE_ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };

/** A step that did not complete: what the server said (code, message) and what to do about it. */
class StepFailure extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------- output

const tty = process.stdout.isTTY === true && !process.env.NO_COLOR;
const paint =
  (open: number) =>
  (text: string): string =>
    tty ? `\x1b[${open}m${text}\x1b[0m` : text;
const green = paint(32);
const red = paint(31);
const dim = paint(2);
const bold = paint(1);

const print = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

// ---------------------------------------------------------------- one socket's events

/**
 * Every event a socket received, in order, so a step can wait for one that arrived while the
 * previous step was still running. `error` and events that mean the demo cannot go on fail the
 * current step (or the next one to start).
 */
class Party {
  private readonly received: { event: string; payload: unknown }[] = [];
  private readonly taken = new Set<number>();
  private readonly waiters = new Set<() => void>();
  private closing = false;

  constructor(
    readonly name: 'agent' | 'visitor',
    readonly socket: DemoSocket,
    private readonly fail: (failure: StepFailure) => void,
  ) {
    socket.onAny((event: string, payload: unknown) => {
      this.received.push({ event, payload });
      this.check(event, payload);
      this.waiters.forEach((wake) => wake());
    });
    socket.on('disconnect', (reason) => {
      if (!this.closing)
        fail(new StepFailure(`the ${name} socket was disconnected (${reason})`, 'DISCONNECTED'));
    });
  }

  /** The next `event` not yet taken (and matching `accept`), however long ago it arrived. */
  next<T>(event: string, accept: (payload: T) => boolean = () => true): Promise<T> {
    return new Promise((resolve) => {
      const take = (): boolean => {
        const index = this.received.findIndex(
          (r, i) => !this.taken.has(i) && r.event === event && accept(r.payload as T),
        );
        if (index === -1) return false;
        this.taken.add(index);
        this.waiters.delete(wake);
        resolve(this.received[index].payload as T);
        return true;
      };
      const wake = (): void => void take();
      if (!take()) this.waiters.add(wake);
    });
  }

  close(): void {
    this.closing = true;
    this.socket.disconnect();
  }

  private check(event: string, payload: unknown): void {
    const p = (payload ?? {}) as Record<string, unknown>;
    const server = (text: string, code?: string): void =>
      this.fail(new StepFailure(`${this.name} got ${event}: ${text}`, code));
    switch (event) {
      case 'error': {
        const error = payload as ErrorPayload;
        const on = error.event ? ` (on ${error.event})` : '';
        this.fail(new StepFailure(`${this.name} got error ${error.code}${on}: ${error.message}`, error.code));
        break;
      }
      case 'org:paused':
        return server(`${String(p.message)}`, 'ORG_PAUSED');
      case 'agent:unavailable':
        return server(`no agent available (reason ${String(p.reason ?? 'none')})`, 'NO_AGENT');
      case 'agent:marked_away':
        return server(`${String(p.message)} (reason ${String(p.reason)})`);
      case 'call:rejected':
        return server(`the agent rejected the call${p.reason ? ` (${String(p.reason)})` : ''}`);
      case 'call:reconnecting':
      case 'call:reconnect_failed':
      case 'session:revoked':
        return server(String(p.message));
    }
  }
}

// ---------------------------------------------------------------- configuration

interface DemoOptions {
  url: string;
  user: DirectoryUser;
  org: Organization;
  pageUrl: string;
  token: { value: string; source: string };
}

async function options(): Promise<DemoOptions> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      agent: { type: 'string' },
      token: { type: 'string' },
      page: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    print('usage: npm run demo [-- <url>] [--agent <agentId>] [--token <jwt>] [--page <url>]');
    process.exit(0);
  }
  if (positionals.length > 1) throw new StepFailure(`one URL at most (got ${positionals.join(' ')})`);
  const given = positionals[0] ?? DEFAULT_URL;
  // The origin only: socket.io-client would read a path as a namespace, and the server has one, `/`.
  const url = /^https?:\/\/[^/]/.test(given) ? new URL(given).origin : null;
  if (!url) throw new StepFailure(`"${given}" is not an http(s) URL`);

  const agentsFile = process.env.AGENTS_FILE?.trim() || EXAMPLE_AGENTS_FILE;
  const directory = loadAgentsFile(agentsFile);
  const activeOrgs = new Set(directory.organizations.filter((o) => o.status === 'active').map((o) => o.id));
  const user = values.agent
    ? directory.users.find((u) => u.agentId === values.agent)
    : directory.users.find((u) => u.agentId && u.active && u.orgId && activeOrgs.has(u.orgId));
  if (!user?.agentId || !user.orgId) {
    throw new StepFailure(
      values.agent
        ? `no agent "${values.agent}" in ${agentsFile}`
        : `no active agent of an active organisation in ${agentsFile}`,
    );
  }
  const org = directory.organizations.find((o) => o.id === user.orgId)!;
  const pageUrl = values.page ?? pageOfPools(org, user);
  return { url, user, org, pageUrl, token: await token(values.token, user) };
}

/** --token, else DEMO_TOKEN, else minted with the server's HS256 secret, else the placeholder. */
async function token(flag: string | undefined, user: DirectoryUser): Promise<DemoOptions['token']> {
  if (flag) return { value: flag, source: '--token' };
  const given = process.env.DEMO_TOKEN?.trim();
  if (given) return { value: given, source: 'DEMO_TOKEN' };
  // The server's own parsing of the variables (comma-separated secrets, default audience).
  const { auth } = validateEnvironment({
    AUTH_JWT_SECRET: process.env.AUTH_JWT_SECRET,
    AUTH_AUDIENCE: process.env.AUTH_AUDIENCE,
    AUTH_ISSUER: process.env.AUTH_ISSUER,
  });
  const [secret] = auth.jwtSecrets;
  if (!secret) return { value: PLACEHOLDER_TOKEN, source: 'a placeholder (development fallback)' };
  return {
    value: await signDevToken(auth, secret, user.userId, '10m'),
    source: 'minted with AUTH_JWT_SECRET',
  };
}

/**
 * A page that routes to one of the agent's pools (best rank first), built from the pools' rules
 * and checked with the server's own matcher: `/pricing/**` on `*` gives https://www.acme.example/pricing.
 */
function pageOfPools(org: Organization, user: DirectoryUser): string {
  const site = `www.${org.id
    .replace(/^org_/, '')
    .replace(/[^A-Za-z0-9-]/g, '-')
    .toLowerCase()}.example`;
  const host = (pattern: string): string =>
    pattern === '*' || pattern === '' ? site : pattern.startsWith('*.') ? `www.${pattern.slice(2)}` : pattern;
  const path = (pattern: string): string => {
    if (pattern === '*') return '/';
    if (pattern.endsWith('/**')) return pattern.slice(0, -3) || '/';
    if (pattern.endsWith('/*')) return `${pattern.slice(0, -2)}/demo`;
    if (pattern.endsWith('*')) return pattern.slice(0, -1) || '/';
    return pattern;
  };
  const mine = [...user.pools].sort((a, b) => a.priorityRank - b.priorityRank).map((m) => m.poolId);
  for (const poolId of mine) {
    const pool = org.pools.find((p) => p.id === poolId);
    const rules = [...(pool?.rules ?? [])].sort((a, b) => b.priority - a.priority);
    const candidates = [
      ...rules.map((r) => `https://${host(r.domainPattern)}${path(r.pathPattern)}`),
      `https://${site}/`,
    ];
    const page = candidates.find((url) => {
      const routed = poolForPage(url, org.pools);
      return routed === poolId || routed === null;
    });
    if (page) return page;
  }
  return `https://${site}/`;
}

// ---------------------------------------------------------------- the run

function hints(code: string | undefined, url: string): string[] {
  if (!code) return [];
  if (code === 'CONNECT_FAILED') {
    return [
      `is signalgate running at ${url}? start it with "npm start", or pass its URL: npm run demo -- <url>`,
    ];
  }
  const out: string[] = [];
  if (code === 'AUTH_AGENT_DISABLED') {
    out.push('this agent is inactive in the directory: pick another with --agent <agentId>');
  } else if (code.startsWith('AUTH_')) {
    out.push(
      "the server refused the token: pass --token <jwt> (or DEMO_TOKEN), or set AUTH_JWT_SECRET to the server's secret so the demo mints one",
    );
  }
  if (code === 'AUTH_PROFILE_NOT_FOUND' || code === 'AUTH_AGENT_MISMATCH' || code === 'ORG_NOT_FOUND') {
    out.push(
      'the demo reads AGENTS_FILE (default config/agents.example.json): use the directory the server uses',
    );
  }
  if (code === 'RATE_LIMITED')
    out.push(
      'too many failed logins from this address or for this agent (RATE_LIMIT_LOGIN_MAX, RATE_LIMIT_LOGIN_AGENT_MAX): wait a minute',
    );
  if (code === 'ORG_PAUSED' || code === 'FORBIDDEN')
    out.push('pick an agent of an active organisation with --agent <agentId>');
  if (code === 'NO_AGENT')
    out.push('the agent is not available for this page: try --page <url> of one of its pools');
  if (code === 'TIMEOUT')
    out.push(`nothing happened within ${STEP_TIMEOUT_MS / 1000} s: is ${url} a signalgate server?`);
  return out;
}

async function main(): Promise<number> {
  let demo: DemoOptions;
  try {
    demo = await options();
  } catch (error) {
    print(`${red('✗')} demo: ${(error as Error).message}`);
    return 1;
  }
  const { url, user, org, pageUrl } = demo;
  const agentId = user.agentId!;

  let failWith: (failure: StepFailure) => void = () => undefined;
  const failed = new Promise<never>((_, reject) => (failWith = reject));
  failed.catch(() => undefined);
  const parties: Party[] = [];
  const connect = (name: 'agent' | 'visitor'): Party => {
    const socket: DemoSocket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: STEP_TIMEOUT_MS,
    });
    const party = new Party(name, socket, (failure) => failWith(failure));
    parties.push(party);
    return party;
  };

  const started = Date.now();
  let last = started;
  let current = '';
  /** Runs one step within STEP_TIMEOUT_MS, failing on any server error meanwhile, and prints it. */
  const step = async <T>(label: string, run: () => Promise<T>, done: (result: T) => string): Promise<T> => {
    current = label;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new StepFailure(`no answer within ${STEP_TIMEOUT_MS} ms`, 'TIMEOUT')),
        STEP_TIMEOUT_MS,
      );
    });
    try {
      const result = await Promise.race([run(), failed, timeout]);
      const now = Date.now();
      print(
        `${dim(`${String(now - last).padStart(5)} ms ${String(now - started).padStart(6)} ms`)}  ${green('✓')} ${done(result)}`,
      );
      last = now;
      return result;
    } finally {
      clearTimeout(timer);
    }
  };
  /** An ack with `success: false` is a failure carrying the server's code. */
  const ok = <T extends { success: boolean; error?: { code: string; message: string } }>(ack: T): T => {
    if (!ack.success) {
      throw new StepFailure(
        ack.error ? `${ack.error.code}: ${ack.error.message}` : 'the server answered success: false',
        ack.error?.code,
      );
    }
    return ack;
  };
  const connected = (party: Party): Promise<void> =>
    new Promise((resolve, reject) => {
      party.socket.once('connect', resolve);
      party.socket.once('connect_error', (error: Error & { description?: unknown }) => {
        const cause = describeCause(error.description);
        reject(
          new StepFailure(
            `cannot connect to ${url} (${error.message}${cause ? `: ${cause}` : ''})`,
            'CONNECT_FAILED',
          ),
        );
      });
    });

  print(bold(`signalgate demo against ${url}`));
  print(
    dim(
      `agent ${agentId} (${user.displayName}) of ${org.id}, visitor on ${pageUrl}, token ${demo.token.source}`,
    ),
  );
  print(dim(' step     total'));

  try {
    const agent = connect('agent');
    await step(
      'connect the agent socket',
      () => connected(agent),
      () => 'agent socket connected',
    );

    await step(
      'agent:login',
      () => {
        agent.socket.emit('agent:login', { agentId, token: demo.token.value });
        return agent.next<Parameters<ServerEvents['login:success']>[0]>('login:success');
      },
      ({ agentState }) =>
        `agent ${agentId} logged in as ${agentState.profile.displayName} (status ${agentState.status})`,
    );

    await step(
      'agent:back',
      async () => ok(await agent.socket.emitWithAck('agent:back')),
      (ack) => `agent ${agentId} is available (status ${ack.status})`,
    );

    const visitor = connect('visitor');
    await step(
      'connect the visitor socket',
      () => connected(visitor),
      () => 'visitor socket connected',
    );

    const joined = await step(
      'visitor:join',
      async () => ok(await visitor.socket.emitWithAck('visitor:join', { orgId: org.id, pageUrl })),
      (ack) => `visitor ${ack.visitorId} joined ${org.id} on ${pageUrl}`,
    );
    const visitorId = joined.visitorId!;

    await step(
      'agent:assigned',
      () => visitor.next<Parameters<ServerEvents['agent:assigned']>[0]>('agent:assigned'),
      ({ agent: assigned }) =>
        assigned.id === agentId
          ? `visitor assigned to ${assigned.displayName} (${assigned.id})`
          : `visitor assigned to ${assigned.displayName} (${assigned.id}); the demo calls ${agentId} anyway`,
    );

    const callStarted = Date.now();
    const requested = await step(
      'call:request',
      async () => ok(await visitor.socket.emitWithAck('call:request', { agentId })),
      (ack) => `visitor requested a call with ${agentId} (requestId ${ack.requestId})`,
    );
    const requestId = requested.requestId!;
    // The demo's request must not stop ringing before it is accepted.
    let ringing = true;
    const stopped = (event: 'call:cancelled' | 'call:rna_timeout'): void =>
      void agent
        .next<{ requestId: string }>(event, (p) => p.requestId === requestId)
        .then(() => ringing && failWith(new StepFailure(`agent got ${event} for the demo's request`)));
    stopped('call:cancelled');
    stopped('call:rna_timeout');

    await step(
      'call:incoming',
      () =>
        agent.next<Parameters<ServerEvents['call:incoming']>[0]>(
          'call:incoming',
          (p) => p.request.requestId === requestId,
        ),
      ({ request }) => `agent ${agentId} is ringing (call:incoming from ${request.visitorId})`,
    );

    const accepted = await step(
      'call:accept',
      async () => ok(await agent.socket.emitWithAck('call:accept', { requestId })),
      (ack) => `agent accepted the call (callId ${ack.callId})`,
    );
    const callId = accepted.callId!;
    ringing = false;

    await step(
      'call:accepted / call:started',
      () =>
        Promise.all([
          visitor.next<Parameters<ServerEvents['call:accepted']>[0]>(
            'call:accepted',
            (p) => p.callId === callId,
          ),
          agent.next<Parameters<ServerEvents['call:started']>[0]>(
            'call:started',
            (p) => p.call.callId === callId,
          ),
        ]),
      ([toVisitor, toAgent]) =>
        `visitor got call:accepted, agent got call:started (reconnect tokens of ${toVisitor.reconnectToken.length} and ${toAgent.reconnectToken.length} chars, not shown)`,
    );

    await step(
      'webrtc:signal offer (agent → visitor)',
      async () =>
        ok(await agent.socket.emitWithAck('webrtc:signal', { targetId: visitorId, signal: FAKE_OFFER })),
      () => `agent sent a fake offer (sdp ${FAKE_OFFER.sdp.length} chars)`,
    );
    await step(
      'webrtc:signal offer delivery',
      () =>
        visitor
          .next<Parameters<ServerEvents['webrtc:signal']>[0]>('webrtc:signal')
          .then(relayed(agentId, 'offer')),
      (signal) => `visitor received the ${signal.type} from ${agentId} (sdp ${signal.sdpLength} chars)`,
    );
    await step(
      'webrtc:signal answer (visitor → agent)',
      async () =>
        ok(await visitor.socket.emitWithAck('webrtc:signal', { targetId: agentId, signal: FAKE_ANSWER })),
      () => `visitor sent a fake answer (sdp ${FAKE_ANSWER.sdp.length} chars)`,
    );
    await step(
      'webrtc:signal answer delivery',
      () =>
        agent
          .next<Parameters<ServerEvents['webrtc:signal']>[0]>('webrtc:signal')
          .then(relayed(visitorId, 'answer')),
      (signal) => `agent received the ${signal.type} from ${visitorId} (sdp ${signal.sdpLength} chars)`,
    );

    await step(
      'call:end',
      async () => ok(await agent.socket.emitWithAck('call:end', { callId })),
      () => 'agent ended the call',
    );
    await step(
      'call:ended',
      () =>
        Promise.all(
          [visitor, agent].map((party) =>
            party.next<Parameters<ServerEvents['call:ended']>[0]>('call:ended', (p) => p.callId === callId),
          ),
        ),
      ([toVisitor, toAgent]) =>
        toVisitor.reason === toAgent.reason
          ? `both parties got call:ended (reason ${toVisitor.reason})`
          : `visitor got call:ended (reason ${toVisitor.reason}), agent (reason ${toAgent.reason})`,
    );
    const callMs = Date.now() - callStarted;

    // The visitor leaves first: an agent logging out with a visitor assigned would reassign it.
    await step(
      'visitor:disconnect',
      async () => ok(await visitor.socket.emitWithAck('visitor:disconnect')),
      () => `visitor ${visitorId} left`,
    );
    await step(
      'agent:logout',
      async () => ok(await agent.socket.emitWithAck('agent:logout')),
      () => `agent ${agentId} logged out`,
    );
    parties.forEach((party) => party.close());
    await step(
      'disconnect',
      async () => undefined,
      () => 'sockets disconnected',
    );

    print(
      `${green('✓')} ${bold(`full call in ${callMs} ms`)} (call:request → call:ended), demo took ${Date.now() - started} ms`,
    );
    return 0;
  } catch (error) {
    const failure = error instanceof StepFailure ? error : new StepFailure((error as Error).message);
    print(`${red('✗')} step "${current}" failed after ${Date.now() - last} ms: ${failure.message}`);
    for (const hint of hints(failure.code, url)) print(`  hint: ${hint}`);
    return 1;
  } finally {
    parties.forEach((party) => party.close());
  }
}

/** Checks a relayed signal came from the expected peer with the expected type; only sizes are kept. */
function relayed(from: string, type: string) {
  return (payload: {
    targetId: string;
    signal: Record<string, unknown>;
  }): { type: string; sdpLength: number } => {
    const got = String(payload.signal.type);
    if (payload.targetId !== from || got !== type) {
      throw new StepFailure(`expected a ${type} from ${from}, got a ${got} from ${payload.targetId}`);
    }
    return { type: got, sdpLength: typeof payload.signal.sdp === 'string' ? payload.signal.sdp.length : 0 };
  };
}

/** The reason under a transport error (ECONNREFUSED…), without the whole error object. */
function describeCause(description: unknown): string {
  if (description instanceof Error) return description.message;
  if (typeof description === 'object' && description !== null) {
    const inner = (description as { error?: unknown; message?: unknown }).error ?? description;
    if (inner instanceof Error) return inner.message;
    const message = (inner as { message?: unknown }).message;
    if (typeof message === 'string') return message;
  }
  return typeof description === 'string' || typeof description === 'number' ? String(description) : '';
}

main().then(
  (code) => {
    process.exitCode = code;
    // Sockets are closed; anything still holding the loop (a stuck transport) must not hang the demo.
    setTimeout(() => process.exit(code), 1000).unref();
  },
  (error: Error) => {
    print(`${red('✗')} demo: ${error.message}`);
    process.exit(1);
  },
);
