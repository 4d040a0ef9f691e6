import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { io } from 'socket.io-client';
import { DatabaseService } from '../src/common/database/database.service';
import { ShutdownState } from '../src/common/shutdown-state.service';
import { connected, disconnected, startApp, TestApp } from './helpers/app';
import { spawnServer } from './helpers/process';

describe('health probes', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({ RATE_LIMIT_HTTP_MAX: '1' });
  });
  afterAll(() => testApp.close());

  it('/health, /live and /ready answer without credentials and are exempt from rate limits', async () => {
    const http = request(testApp.app.getHttpServer());
    for (let i = 0; i < 3; i++) {
      expect((await http.get('/health')).body).toEqual({ status: 'ok' });
      expect((await http.get('/live')).body).toEqual({ live: true });
      const ready = await http.get('/ready');
      expect([ready.status, ready.body]).toEqual([200, { ready: true }]);
    }
  });

  it('/ready turns 503 as soon as shutdown begins, before anything closes', async () => {
    const other = await startApp();
    try {
      const http = request(other.app.getHttpServer());
      expect((await http.get('/ready')).status).toBe(200);
      other.app.get(ShutdownState).begin();
      const ready = await http.get('/ready');
      expect([ready.status, ready.body]).toEqual([503, { ready: false }]);
      expect((await http.get('/live')).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('/ready is 503 when the database does not answer, with no details in the body', async () => {
    await testApp.app.get(DatabaseService).db.destroy();
    const ready = await request(testApp.app.getHttpServer()).get('/ready');
    expect([ready.status, ready.body]).toEqual([503, { ready: false }]);
    // Liveness is not readiness: the process itself is fine.
    expect((await request(testApp.app.getHttpServer()).get('/live')).status).toBe(200);
  });
});

describe('graceful shutdown', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signalgate-shutdown-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'on %s closes sockets and the server, then exits 0',
    async (signal) => {
      const server = spawnServer({
        NODE_ENV: 'development',
        HOST: '127.0.0.1',
        PORT: '0',
        SQLITE_PATH: join(dir, `${signal}.db`),
      });
      const url = await server.listening();
      expect((await request(url).get('/ready')).status).toBe(200);
      const socket = io(url, { transports: ['websocket'], reconnection: false });
      await connected(socket);
      const closed = disconnected(socket, 10_000);

      server.child.kill(signal);
      expect(await server.exited()).toBe(0);
      await closed;
      expect(server.output()).toContain(`${signal} received: shutting down gracefully`);
    },
  );
});
