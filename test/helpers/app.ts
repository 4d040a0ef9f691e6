import { Type } from '@nestjs/common';
import { openRedisSpace, REDIS_URL, RedisSpace } from './redis';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { mkdtempSync, rmSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, Socket, SocketOptions, ManagerOptions } from 'socket.io-client';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/app.setup';
import { AppConfig, validateEnvironment } from '../../src/config/app-config';
import { SecurityEvent } from '../../src/common/security/security-event';
import { SecurityEventBus } from '../../src/common/security/security-event-bus.service';
import { TEST_HS256_SECRET } from './keys';

export const AGENTS_FILE = join(__dirname, '..', '..', 'config', 'agents.example.json');

export interface TestApp {
  app: NestExpressApplication;
  url: string;
  config: AppConfig;
  /** Every security event published since boot (what audit and metrics will hear). */
  events: SecurityEvent[];
  connect(options?: Partial<ManagerOptions & SocketOptions>): Socket;
  /** Stops the app; `keepClients` leaves client sockets to notice on their own (restart tests). */
  close(options?: { keepClients?: boolean }): Promise<void>;
}

/**
 * Boots the real AppModule on 127.0.0.1 port 0 with the given environment, exactly as main.ts
 * configures it, on a fresh SQLite file. Defaults: HS256 secret configured, rate limits on.
 */
export async function startApp(
  env: Record<string, string> = {},
  port = 0,
  /** Extra modules booted beside AppModule (probe routes for guard tests); providers replaced. */
  extra: {
    imports?: Type[];
    overrides?: { provide: Type | (abstract new (...args: never[]) => unknown); useValue: unknown }[];
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'signalgate-e2e-'));
  const redis = await redisStateSpace();
  try {
    return await bootApp(env, port, extra, dir, redis);
  } catch (error) {
    // Boot-refusal tests end here: the space they never used must not hold Jest open.
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

async function bootApp(
  env: Record<string, string>,
  port: number,
  extra: Parameters<typeof startApp>[2] = {},
  dir: string,
  redis: RedisSpace | null,
): Promise<TestApp> {
  const config = validateEnvironment({
    NODE_ENV: 'test',
    SQLITE_PATH: join(dir, 'signalgate.db'),
    AGENTS_FILE,
    AUTH_JWT_SECRET: TEST_HS256_SECRET,
    TICKET_SECRET: 'test-ticket-secret-0123456789abcdef0123456789',
    // Suites fail far more than 10 logins a minute from 127.0.0.1, many claiming one agent; the
    // budgets have their own tests.
    RATE_LIMIT_LOGIN_MAX: '1000',
    RATE_LIMIT_LOGIN_AGENT_MAX: '1000',
    ...redis?.env,
    ...env,
  });
  let builder = Test.createTestingModule({ imports: [AppModule, ...(extra.imports ?? [])] })
    .overrideProvider(AppConfig)
    .useValue(config);
  for (const { provide, useValue } of extra.overrides ?? [])
    builder = builder.overrideProvider(provide).useValue(useValue);
  const moduleRef = await builder.compile();
  const app = moduleRef.createNestApplication<NestExpressApplication>({ logger: ['error'] });
  configureApp(app);
  const events: SecurityEvent[] = [];
  app.get(SecurityEventBus).subscribe((event) => events.push({ ...event }));
  await app.listen(port, '127.0.0.1');
  const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  const sockets: Socket[] = [];
  return {
    app,
    url,
    config,
    events,
    connect(options = {}) {
      const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, ...options });
      sockets.push(socket);
      return socket;
    },
    async close({ keepClients = false } = {}) {
      if (!keepClients) sockets.forEach((socket) => socket.disconnect());
      await app.close();
      await redis?.dispose();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * With SIGNALGATE_TEST_STATE=redis (and REDIS_URL), every app a suite boots keeps its state in Redis
 * under a prefix of its own, deleted when it closes: `npm run test:redis-state` runs the signaling
 * suites that way, so both state modes answer the same protocol.
 */
async function redisStateSpace(): Promise<RedisSpace | null> {
  if (process.env.SIGNALGATE_TEST_STATE !== 'redis') return null;
  if (!REDIS_URL) throw new Error('SIGNALGATE_TEST_STATE=redis needs REDIS_URL');
  return openRedisSpace();
}

/** Resolves with the next `event` on the socket, or rejects after `timeoutMs`. */
export function next<T = unknown>(socket: Socket, event: string, timeoutMs = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`timed out waiting for "${event}"`));
    }, timeoutMs);
    const handler = (payload: T): void => {
      clearTimeout(timer);
      resolve(payload);
    };
    socket.once(event, handler);
  });
}

/** Resolves once the socket is connected (rejects with the connect_error). */
export function connected(socket: Socket, timeoutMs = 3000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.connected) return resolve();
    const timer = setTimeout(() => reject(new Error('timed out connecting')), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('connect_error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Resolves when the server disconnects the socket. */
export function disconnected(socket: Socket, timeoutMs = 3000): Promise<string> {
  return next<string>(socket, 'disconnect', timeoutMs);
}

/** Emits with an ack and resolves with the ack's response. */
export function request<T = unknown>(socket: Socket, event: string, ...args: unknown[]): Promise<T> {
  return socket.timeout(3000).emitWithAck(event, ...args) as Promise<T>;
}
