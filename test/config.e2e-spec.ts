import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigValidationError, validateEnvironment } from '../src/config/app-config';
import { spawnServer } from './helpers/process';

/** Boots the real entry point and waits for it to exit, as an operator would see it fail. */
async function boot(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const server = spawnServer(env);
  const code = await server.exited();
  return { code, stderr: server.output() };
}

describe('configuration (fail closed)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signalgate-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a production boot without key source, ticket secret and origins exits 1 naming each', async () => {
    const { code, stderr } = await boot({ NODE_ENV: 'production', SQLITE_PATH: join(dir, 'a.db') });
    expect(code).toBe(1);
    expect(stderr).toContain('AUTH_JWKS_URL, AUTH_JWT_SECRET or AUTH_PUBLIC_KEYS_FILE');
    expect(stderr).toContain('TICKET_SECRET');
    expect(stderr).toContain('CORS_ORIGINS');
    // One message, not one crash per variable.
    expect(stderr.match(/signalgate failed to start/g)).toHaveLength(1);
  });

  it('a bad AGENTS_FILE stops the boot naming the bad entry', async () => {
    const file = join(dir, 'agents.json');
    writeFileSync(
      file,
      JSON.stringify({
        organizations: [{ id: 'org_a', name: 'A', pools: [] }],
        users: [{ userId: 'u1', agentId: 'agent_x', orgId: 'org_nope', role: 'agent', displayName: 'X' }],
      }),
    );
    const { code, stderr } = await boot({
      NODE_ENV: 'development',
      AGENTS_FILE: file,
      SQLITE_PATH: join(dir, 'b.db'),
    });
    expect(code).toBe(1);
    expect(stderr).toContain('users[0]');
    expect(stderr).toContain('org_nope');
  });

  it('reports every bad variable at once', () => {
    let error: ConfigValidationError | undefined;
    try {
      validateEnvironment({
        PORT: 'eighty',
        NODE_ENV: 'staging',
        RATE_LIMIT_ENABLED: 'maybe',
        AUTH_JWKS_URL: 'not a url',
      });
    } catch (e) {
      error = e as ConfigValidationError;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    expect(error!.problems.map((p) => p.split(':')[0])).toEqual(
      expect.arrayContaining(['PORT', 'NODE_ENV', 'RATE_LIMIT_ENABLED', 'AUTH_JWKS_URL']),
    );
  });

  it('refuses TRUST_PROXY=true and a plain-http remote JWKS in production', () => {
    const base = {
      NODE_ENV: 'production',
      AUTH_JWT_SECRET: 'x'.repeat(40),
      TICKET_SECRET: 'y'.repeat(40),
      CORS_ORIGINS: 'https://app.example.com',
    };
    expect(() => validateEnvironment({ ...base, TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY/);
    expect(() =>
      validateEnvironment({ ...base, AUTH_JWKS_URL: 'http://keys.example.com/jwks.json' }),
    ).toThrow(/AUTH_JWKS_URL/);
    // Loopback JWKS over http is fine (a sidecar or a test server).
    expect(
      validateEnvironment({ ...base, AUTH_JWKS_URL: 'http://127.0.0.1:9999/jwks.json' }).auth.jwksUrl,
    ).toBe('http://127.0.0.1:9999/jwks.json');
  });

  it('development without any key source turns on the development fallback; production never does', () => {
    expect(validateEnvironment({}).auth.devBypass).toBe(true);
    expect(validateEnvironment({ AUTH_JWT_SECRET: 's'.repeat(32) }).auth.devBypass).toBe(false);
  });
});
