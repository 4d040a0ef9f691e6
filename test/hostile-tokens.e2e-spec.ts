import { expectLoginRefused, login } from './helpers/agent';
import { connected, startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { createEs256Keys, Es256Keys, hostile, JwksServer, mintHs256, startJwksServer } from './helpers/keys';

const { agent } = fixtures;
const ISSUER = 'https://signalgate-test.supabase.co/auth/v1';
const HOUR = 3600;
const now = (): number => Math.floor(Date.now() / 1000);

type Mint = (claims: Record<string, unknown>, options?: { omit?: ('exp' | 'sub')[] }) => Promise<string>;

interface Source {
  name: string;
  env(): Record<string, string>;
  /** Signs like the configured issuer would. */
  mint: Mint;
  /** A token signed by a key the server does not know. */
  stranger(): Promise<string>;
  /** A correctly signed token carrying a `jku` header that points elsewhere. */
  withJku(): Promise<string>;
  /** HS256 signed with the bytes of an asymmetric public key. */
  keyConfusion(): Promise<string>;
}

let es256: Es256Keys;
let unknownKey: Es256Keys;
let jwks: JwksServer;

beforeAll(async () => {
  es256 = await createEs256Keys('current');
  unknownKey = await createEs256Keys('never-published');
  jwks = await startJwksServer([es256.publicJwk]);
});
afterAll(() => jwks.close());

const sources: Source[] = [
  {
    name: 'HS256 secret',
    env: () => ({ AUTH_ISSUER: ISSUER }),
    mint: (claims, options) => mintHs256({ iss: ISSUER, ...claims }, options),
    stranger: () => unknownKey.mint({ sub: agent.userId, iss: ISSUER }),
    withJku: () =>
      mintHs256({ sub: agent.userId, iss: ISSUER }, { header: { jku: 'http://127.0.0.1:1/jwks.json' } }),
    keyConfusion: () => hostile.keyConfusion({ sub: agent.userId, iss: ISSUER }, es256.publicJwk),
  },
  {
    name: 'JWKS (ES256 on loopback)',
    env: () => ({ AUTH_JWT_SECRET: '', AUTH_JWKS_URL: jwks.url, AUTH_ISSUER: ISSUER }),
    mint: (claims, options) => es256.mint({ iss: ISSUER, ...claims }, options),
    stranger: () => unknownKey.mint({ sub: agent.userId, iss: ISSUER }),
    withJku: () => hostile.jku(es256, { sub: agent.userId, iss: ISSUER }),
    keyConfusion: () => hostile.keyConfusion({ sub: agent.userId, iss: ISSUER }, es256.publicJwk),
  },
];

describe.each(sources)('hostile tokens are refused at agent:login ($name)', (source) => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp(source.env());
  });
  afterAll(() => testApp.close());

  /** Refused with `code` (the socket left connected), and the decision published with `reason`. */
  async function refused(token: string, code: string, reason: string): Promise<void> {
    const before = testApp.events.length;
    await expectLoginRefused(testApp, { agentId: agent.agentId, token }, code);
    expect(testApp.events.slice(before)).toContainEqual(
      expect.objectContaining({ type: 'auth.login', outcome: 'failure', code, reason }),
    );
    // Nothing of the token reaches the event (never log a token).
    expect(JSON.stringify(testApp.events.slice(before))).not.toContain(token.slice(-20));
  }

  it('accepts a well-formed token of this source (the baseline the refusals are measured against)', async () => {
    const { socket, state } = await login(testApp, await source.mint({ sub: agent.userId }));
    expect(state.agentId).toBe(agent.agentId);
    socket.disconnect();
  });

  it('alg: none', () =>
    refused(hostile.algNone({ sub: agent.userId, iss: ISSUER }), 'AUTH_INVALID_TOKEN', 'alg_not_allowed'));

  it('HS256 signed with a public key’s bytes (key confusion)', async () => {
    const reason = source.name.startsWith('HS256') ? 'bad_signature' : 'alg_not_allowed';
    await refused(await source.keyConfusion(), 'AUTH_INVALID_TOKEN', reason);
  });

  it('expired beyond the clock tolerance', async () => {
    await refused(await source.mint({ sub: agent.userId, exp: now() - 60 }), 'AUTH_EXPIRED', 'expired');
  });

  it('not yet valid', async () => {
    await refused(
      await source.mint({ sub: agent.userId, nbf: now() + HOUR }),
      'AUTH_INVALID_TOKEN',
      'not_yet_valid',
    );
  });

  it('wrong issuer', async () => {
    const token = await source.mint({ sub: agent.userId, iss: 'https://elsewhere.example/auth/v1' });
    await refused(token, 'AUTH_INVALID_TOKEN', 'wrong_issuer');
  });

  it('wrong audience', async () => {
    await refused(
      await source.mint({ sub: agent.userId, aud: 'service_role' }),
      'AUTH_INVALID_TOKEN',
      'wrong_audience',
    );
  });

  it('missing sub', async () => {
    await refused(
      await source.mint({ sub: agent.userId }, { omit: ['sub'] }),
      'AUTH_INVALID_TOKEN',
      'missing_sub',
    );
  });

  it('missing exp', async () => {
    await refused(
      await source.mint({ sub: agent.userId }, { omit: ['exp'] }),
      'AUTH_INVALID_TOKEN',
      'missing_exp',
    );
  });

  it('signed by an unknown key (unknown kid)', async () => {
    const reason = source.name.startsWith('HS256') ? 'alg_not_allowed' : 'unknown_kid';
    await refused(await source.stranger(), 'AUTH_INVALID_TOKEN', reason);
  });

  it('a jku header pointing elsewhere, even on an otherwise valid token', async () => {
    await refused(await source.withJku(), 'AUTH_INVALID_TOKEN', 'untrusted_header');
  });

  it('oversized (over 8 KiB), refused before parsing', async () => {
    await refused(await hostile.oversized({ sub: agent.userId }), 'AUTH_INVALID_TOKEN', 'oversized');
  });

  it('garbage', () => refused(hostile.garbage, 'AUTH_INVALID_TOKEN', 'malformed'));

  it('the same hostile tokens are refused at the handshake with connect_error data.code', async () => {
    for (const [token, code] of [
      [hostile.algNone({ sub: agent.userId, iss: ISSUER }), 'AUTH_INVALID_TOKEN'],
      [await source.withJku(), 'AUTH_INVALID_TOKEN'],
      [await source.mint({ sub: agent.userId, exp: now() - 60 }), 'AUTH_EXPIRED'],
    ]) {
      const socket = testApp.connect({ auth: { token } });
      await expect(connected(socket)).rejects.toMatchObject({
        message: expect.stringMatching(/^Connection refused: /),
        data: { code },
      });
    }
  });
});

describe('an unreachable JWKS is a server-side failure, not an invalid token', () => {
  let testApp: TestApp;
  let down: JwksServer;
  beforeAll(async () => {
    down = await startJwksServer([es256.publicJwk]);
    await down.close();
    testApp = await startApp({ AUTH_JWT_SECRET: '', AUTH_JWKS_URL: down.url, AUTH_JWKS_TIMEOUT_MS: '500' });
  });
  afterAll(() => testApp.close());

  it('answers INTERNAL_ERROR (retry later) and keeps the socket so the dashboard can retry', async () => {
    const socket = testApp.connect();
    await connected(socket);
    const error = new Promise((resolve) => socket.once('error', resolve));
    socket.emit('agent:login', { agentId: agent.agentId, token: await es256.mint({ sub: agent.userId }) });
    expect(await error).toEqual(
      expect.objectContaining({
        code: 'INTERNAL_ERROR',
        event: 'agent:login',
        message: expect.stringContaining('retry'),
      }),
    );
    expect(socket.connected).toBe(true);
    expect(testApp.events).toContainEqual(
      expect.objectContaining({ type: 'auth.login', outcome: 'failure', reason: 'jwks_unavailable' }),
    );
    socket.disconnect();
  });
});
