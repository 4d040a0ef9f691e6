import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Socket } from 'socket.io-client';
import { connected, startApp, TestApp } from './app';
import { mintHs256 } from './keys';
import { TestScheduler } from './test-scheduler';
import { Scheduler } from '../../src/common/scheduler.service';
import type { SecurityEvent } from '../../src/common/security/security-event';
import type { AgentState } from '../../src/signaling/protocol';

/**
 * Signaling suites run on their own directory (test/fixtures/signaling-agents.json): organisations
 * with 1-second ring timeouts and 1-minute calls, sales tiers (a1, a2 rank 1; a3 rank 2), a second
 * organisation (b1), one whose only pool is not a default (o1), and a paused one (p1).
 */
export const SIGNALING_AGENTS_FILE = join(__dirname, '..', 'fixtures', 'signaling-agents.json');

interface FileUser {
  userId: string;
  agentId: string;
  orgId: string;
}
const file = JSON.parse(readFileSync(SIGNALING_AGENTS_FILE, 'utf8')) as { users: FileUser[] };
const user = (agentId: string): FileUser => file.users.find((u) => u.agentId === agentId)!;

export const agents = {
  a1: user('agent_a1'),
  a2: user('agent_a2'),
  a3: user('agent_a3'),
  b1: user('agent_b1'),
  o1: user('agent_o1'),
  p1: user('agent_p1'),
};
export type AgentKey = keyof typeof agents;

/** The built-in widget settings (PROTOCOL §2.3), pinned here apart from the code that serves them. */
export const BUILT_IN_WIDGET_SETTINGS = {
  size: 'medium',
  position: 'bottom-right',
  devices: 'all',
  trigger_delay: 3,
  auto_hide_delay: null,
  show_minimize_button: false,
  theme: 'dark',
  cobrowse_enabled: true,
};

/**
 * What a widget on a SALES_PAGE is served: org_one's settings over the built-in ones, every key the
 * existing widget reads.
 */
export const SALES_WIDGET_SETTINGS = {
  ...BUILT_IN_WIDGET_SETTINGS,
  position: 'bottom-left',
  trigger_delay: 5,
  theme: 'light',
};

/** A page of org_one that routes to pool_sales (its default pool and the /pricing/** rule). */
export const SALES_PAGE = 'https://www.one.example/pricing/plans';
export const SUPPORT_PAGE = 'https://help.one.example/support/billing';

export interface SignalingApp extends TestApp {
  scheduler: TestScheduler;
}

/** Boots the real app on the signaling directory with a scheduler whose timers tests can fire. */
export async function startSignalingApp(env: Record<string, string> = {}): Promise<SignalingApp> {
  const scheduler = new TestScheduler();
  const app = await startApp({ AGENTS_FILE: SIGNALING_AGENTS_FILE, ...env }, 0, {
    overrides: [{ provide: Scheduler, useValue: scheduler }],
  });
  return { ...app, scheduler };
}

/** Every event a socket receives, in order, so that a test can wait for one that already arrived. */
export class Inbox {
  readonly received: { event: string; payload: unknown }[] = [];
  private cursor = new Map<string, number>();
  private waiters: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.onAny((event: string, payload: unknown) => {
      this.received.push({ event, payload });
      this.waiters.forEach((wake) => wake());
    });
  }

  /** The next `event` not yet taken by `next`, waiting up to `timeoutMs` for it. */
  next<T = Record<string, unknown>>(event: string, timeoutMs = 4000): Promise<T> {
    return new Promise((resolve, reject) => {
      const take = (): boolean => {
        const from = this.cursor.get(event) ?? 0;
        const index = this.received.findIndex((r, i) => i >= from && r.event === event);
        if (index === -1) return false;
        this.cursor.set(event, index + 1);
        resolve(this.received[index].payload as T);
        return true;
      };
      if (take()) return;
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(new Error(`timed out waiting for "${event}"; got ${this.events().join(', ') || 'nothing'}`));
      }, timeoutMs);
      const wake = (): void => {
        if (!take()) return;
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== wake);
      };
      this.waiters.push(wake);
    });
  }

  /** Names of every event received so far. */
  events(): string[] {
    return this.received.map((r) => r.event);
  }

  /** Payloads of every `event` received so far. */
  all<T = Record<string, unknown>>(event: string): T[] {
    return this.received.filter((r) => r.event === event).map((r) => r.payload as T);
  }
}

export interface Client {
  socket: Socket;
  inbox: Inbox;
}

export interface AgentClient extends Client {
  agentId: string;
  state: AgentState;
}

/** Logs an agent in on a fresh socket; with `available` (default) it also sends `agent:back`. */
export async function agentOnline(
  app: TestApp,
  key: AgentKey,
  options: { available?: boolean } = {},
): Promise<AgentClient> {
  const { userId, agentId } = agents[key];
  const socket = app.connect();
  const inbox = new Inbox(socket);
  await connected(socket);
  socket.emit('agent:login', { agentId, token: await mintHs256({ sub: userId }) });
  const { agentState } = await inbox.next<{ agentState: AgentState }>('login:success');
  await inbox.next('stats:update');
  if (options.available ?? true) {
    const ack = (await socket.timeout(3000).emitWithAck('agent:back')) as { success: boolean };
    if (!ack.success) throw new Error(`agent:back refused for ${agentId}`);
  }
  return { socket, inbox, agentId, state: agentState };
}

export interface VisitorClient extends Client {
  visitorId: string;
}

/** Joins a visitor on a fresh socket; resolves once it was told its agent (or that none is free). */
export async function joinVisitor(
  app: TestApp,
  payload: { orgId?: string; pageUrl?: string; visitorId?: string } = {},
): Promise<VisitorClient> {
  const socket = app.connect();
  const inbox = new Inbox(socket);
  await connected(socket);
  const ack = (await socket.timeout(3000).emitWithAck('visitor:join', {
    orgId: agents.a1.orgId,
    pageUrl: SALES_PAGE,
    ...payload,
  })) as { success: boolean; visitorId: string };
  if (!ack.success) throw new Error(`visitor:join refused: ${JSON.stringify(ack)}`);
  await waitForAny(inbox, ['agent:assigned', 'agent:unavailable']);
  return { socket, inbox, visitorId: ack.visitorId };
}

async function waitForAny(inbox: Inbox, events: string[], timeoutMs = 4000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (inbox.events().some((event) => events.includes(event))) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for one of ${events.join(', ')}`);
}

/** Emits with an ack (3 s) and resolves with the response. */
export function ack<T = Record<string, unknown>>(
  socket: Socket,
  event: string,
  ...args: unknown[]
): Promise<T> {
  return socket.timeout(3000).emitWithAck(event, ...args) as Promise<T>;
}

/**
 * A signal goes from one party to the other and arrives as `{targetId: <sender>, signal}`;
 * `timeoutMs` for the ack and the delivery (longer across instances).
 */
export async function expectRelay(
  from: Client,
  fromId: string,
  to: Client,
  toId: string,
  sdp: string,
  timeoutMs = 3000,
): Promise<void> {
  const signal = { type: 'offer', sdp };
  const answer = await from.socket
    .timeout(timeoutMs)
    .emitWithAck('webrtc:signal', { targetId: toId, signal });
  expect(answer).toEqual({ success: true });
  expect(await to.inbox.next('webrtc:signal', timeoutMs)).toEqual({ targetId: fromId, signal });
}

/** Resolves after `ms` — only to let events that must NOT arrive have their chance. */
export function settle(ms = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A connected socket that has neither joined nor logged in. */
export async function bareClient(app: TestApp): Promise<Client> {
  const socket = app.connect();
  const inbox = new Inbox(socket);
  await connected(socket);
  return { socket, inbox };
}

/** The visitor asks for `agentId`; resolves with the request id from the ack. */
export async function requestCall(visitor: Client, agentId: string): Promise<string> {
  const requested = await ack<{ success: boolean; requestId: string }>(visitor.socket, 'call:request', {
    agentId,
  });
  expect(requested).toEqual({ success: true, requestId: expect.any(String) });
  return requested.requestId;
}

export interface Incoming {
  request: { requestId: string; visitorId: string; agentId: string };
  visitor: { visitorId: string };
}

/** The agent's next `call:incoming` is this request, ringing this agent. */
export async function expectIncoming(
  agent: AgentClient,
  requestId: string,
  visitorId?: string,
): Promise<void> {
  const incoming = await agent.inbox.next<Incoming>('call:incoming');
  expect(incoming.request).toMatchObject({ requestId, agentId: agent.agentId });
  if (visitorId) expect(incoming.visitor.visitorId).toBe(visitorId);
}

export interface CallSetup {
  callId: string;
  requestId: string;
  agentToken: string;
  visitorToken: string;
}

/** Request, ring and accept: a connected call between the two, with each side's reconnect token. */
export async function startCall(agent: AgentClient, visitor: VisitorClient): Promise<CallSetup> {
  const requestId = await requestCall(visitor, agent.agentId);
  await expectIncoming(agent, requestId, visitor.visitorId);
  const accepted = await ack<{ success: boolean; callId: string }>(agent.socket, 'call:accept', {
    requestId,
  });
  expect(accepted).toEqual({ success: true, callId: expect.any(String) });
  const visitorSide = await visitor.inbox.next<{ reconnectToken: string }>('call:accepted');
  const agentSide = await agent.inbox.next<{ reconnectToken: string }>('call:started');
  return {
    callId: accepted.callId,
    requestId,
    agentToken: agentSide.reconnectToken,
    visitorToken: visitorSide.reconnectToken,
  };
}

/** The `auth.forbidden` security events published for `target` so far. */
export function forbiddenEvents(app: TestApp, target: string): SecurityEvent[] {
  return app.events.filter((event) => event.type === 'auth.forbidden' && event.target === target);
}
