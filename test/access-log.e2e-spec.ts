import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { spawnServer } from './helpers/process';

const KEY = 'metrics-key-that-must-never-be-logged-0123';

/** The real process at LOG_LEVEL=debug writes one access line per request, never a credential. */
describe('HTTP access log (real process)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signalgate-access-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('logs every request with its status and redacts ?key= and ?token=', async () => {
    const server = spawnServer({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: '0',
      LOG_LEVEL: 'debug',
      SQLITE_PATH: join(dir, 'access.db'),
      METRICS_API_KEYS: KEY,
    });
    try {
      const url = await server.listening();
      await request(url).get(`/metrics?key=${KEY}`).expect(200);
      await request(url).get(`/metrics?key=wrong-${KEY}`).expect(403);
      await request(url).get('/health?token=eyJhbGciOiJIUzI1NiJ9.e30.sig').expect(200);
      await server.waitFor('GET /health?token=[REDACTED] 200');

      const output = server.output();
      expect(output).toMatch(/GET \/metrics\?key=\[REDACTED\] 200 [\d.]+ms 127\.0\.0\.1/);
      expect(output).toMatch(/GET \/metrics\?key=\[REDACTED\] 403 /);
      expect(output).not.toContain(KEY);
      expect(output).not.toContain('eyJhbGciOiJIUzI1NiJ9');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited();
    }
  });
});
