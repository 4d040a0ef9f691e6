import { Logger } from '@nestjs/common';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { Environment, validateEnvironment } from '../../config/app-config';
import {
  createEs256Keys,
  Es256Keys,
  hostile,
  JwksServer,
  mintHs256,
  MintOptions,
  startJwksServer,
  TEST_HS256_SECRET,
} from '../../../test/helpers/keys';
import { TokenVerifier } from './token-verifier.service';
import { TokenSource } from './token-verifier.types';

const ISSUER = 'https://project.supabase.test/auth/v1';
const SECOND_SECRET = 'signalgate-unit-second-hs256-secret-fedcba9876543210';
const OTHER_SECRET = 'signalgate-unit-unknown-hs256-secret-000000000000000';

const now = (): number => Math.floor(Date.now() / 1000);

function verifierFor(env: Environment): TokenVerifier {
  return new TokenVerifier(validateEnvironment({ NODE_ENV: 'test', ...env }));
}

/** The exact success result for a token: claims are re-read from the token itself. */
function okResult(token: string, source: TokenSource) {
  const payload = decodeJwt(token);
  return {
    ok: true,
    source,
    claims: { sub: payload.sub, exp: payload.exp, iat: payload.iat ?? 0, raw: payload },
  };
}

const invalid = (reason: string) => ({ ok: false, code: 'AUTH_INVALID_TOKEN', reason });
const expired = { ok: false, code: 'AUTH_EXPIRED', reason: 'expired' };
const jwksUnavailable = { ok: false, code: 'INTERNAL_ERROR', reason: 'jwks_unavailable' };

/** Only Date is faked: sockets, fetch and jose's AbortSignal timers keep running for real. */
function fakeDateOnly(at: number): void {
  jest.useFakeTimers({
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'requestAnimationFrame',
      'cancelAnimationFrame',
      'requestIdleCallback',
      'cancelIdleCallback',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
  jest.setSystemTime(at);
}

describe('TokenVerifier', () => {
  let keys: Es256Keys;
  let rotatedKeys: Es256Keys;
  let strangerKeys: Es256Keys;
  let jwks: JwksServer;
  let tempDir: string;
  let keysFile: string;

  beforeAll(async () => {
    keys = await createEs256Keys('current-key');
    rotatedKeys = await createEs256Keys('next-key');
    strangerKeys = await createEs256Keys('stranger-key');
    jwks = await startJwksServer([keys.publicJwk]);
    tempDir = mkdtempSync(join(tmpdir(), 'token-verifier-spec-'));
    keysFile = join(tempDir, 'jwks.json');
    writeFileSync(keysFile, JSON.stringify({ keys: [keys.publicJwk] }));
  });

  afterAll(async () => {
    await jwks.close();
    rmSync(tempDir, { recursive: true, force: true });
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  interface SourceCase {
    source: TokenSource;
    verifier(extra?: Environment): TokenVerifier;
    mint(claims: Record<string, unknown>, options?: Omit<MintOptions, 'secret'>): Promise<string>;
  }

  const sources: SourceCase[] = [
    {
      source: 'hs256',
      verifier: (extra = {}) =>
        verifierFor({ AUTH_JWT_SECRET: TEST_HS256_SECRET, AUTH_ISSUER: ISSUER, ...extra }),
      mint: (claims, options) => mintHs256({ iss: ISSUER, ...claims }, options),
    },
    {
      source: 'jwks',
      verifier: (extra = {}) =>
        verifierFor({
          AUTH_JWKS_URL: jwks.url,
          AUTH_JWKS_COOLDOWN_MS: '60000',
          AUTH_JWKS_TIMEOUT_MS: '2000',
          AUTH_ISSUER: ISSUER,
          ...extra,
        }),
      mint: (claims, options) => keys.mint({ iss: ISSUER, ...claims }, options),
    },
    {
      source: 'jwks_file',
      verifier: (extra = {}) =>
        verifierFor({ AUTH_PUBLIC_KEYS_FILE: keysFile, AUTH_ISSUER: ISSUER, ...extra }),
      mint: (claims, options) => keys.mint({ iss: ISSUER, ...claims }, options),
    },
  ];

  describe.each(sources)('with the $source key source', ({ source, verifier, mint }) => {
    it('accepts a valid token and returns its typed claims', async () => {
      const iat = now();
      const token = await mint({ sub: 'user-1', iat, exp: iat + 3600 });
      const result = await verifier().verify(token);
      expect(result).toEqual(okResult(token, source));
      expect(result).toEqual(
        expect.objectContaining({
          ok: true,
          source,
          claims: expect.objectContaining({ sub: 'user-1', exp: iat + 3600, iat }),
        }),
      );
    });

    it('refuses a token that expired 60 s ago (beyond the 5 s tolerance) as AUTH_EXPIRED', async () => {
      const token = await mint({ sub: 'user-1', iat: now() - 3600, exp: now() - 60 });
      expect(await verifier().verify(token)).toEqual(expired);
    });

    it('accepts a token that expired 2 s ago (inside the 5 s clock tolerance)', async () => {
      const token = await mint({ sub: 'user-1', iat: now() - 3600, exp: now() - 2 });
      expect(await verifier().verify(token)).toEqual(okResult(token, source));
    });

    it('refuses a token whose nbf is one hour ahead as not_yet_valid', async () => {
      const token = await mint({ sub: 'user-1', nbf: now() + 3600 });
      expect(await verifier().verify(token)).toEqual(invalid('not_yet_valid'));
    });

    it('refuses a token from another issuer as wrong_issuer', async () => {
      const token = await mint({ sub: 'user-1', iss: 'https://evil.test/auth/v1' });
      expect(await verifier().verify(token)).toEqual(invalid('wrong_issuer'));
    });

    it('refuses a token for another audience as wrong_audience', async () => {
      const token = await mint({ sub: 'user-1', aud: 'service_role_elsewhere' });
      expect(await verifier().verify(token)).toEqual(invalid('wrong_audience'));
    });

    it('honours a configured AUTH_AUDIENCE instead of the default', async () => {
      const token = await mint({ sub: 'user-1', aud: 'dashboard' });
      expect(await verifier({ AUTH_AUDIENCE: 'dashboard' }).verify(token)).toEqual(okResult(token, source));
      expect(await verifier().verify(token)).toEqual(invalid('wrong_audience'));
    });

    it('refuses a token without sub as missing_sub', async () => {
      const token = await mint({}, { omit: ['sub'] });
      expect(await verifier().verify(token)).toEqual(invalid('missing_sub'));
    });

    it('refuses a token with an empty sub as missing_sub', async () => {
      const token = await mint({ sub: '' });
      expect(await verifier().verify(token)).toEqual(invalid('missing_sub'));
    });

    it('refuses a token without exp as missing_exp', async () => {
      const token = await mint({ sub: 'user-1' }, { omit: ['exp'] });
      expect(await verifier().verify(token)).toEqual(invalid('missing_exp'));
    });

    it('refuses an alg:none token as AUTH_INVALID_TOKEN alg_not_allowed', async () => {
      expect(await verifier().verify(hostile.algNone({ sub: 'user-1', iss: ISSUER }))).toEqual(
        invalid('alg_not_allowed'),
      );
    });

    it.each(['jku', 'x5u', 'jwk', 'x5c'])(
      'refuses a token carrying a %s header as untrusted_header',
      async (name) => {
        const value = name === 'jwk' ? keys.publicJwk : name === 'x5c' ? ['MIIB'] : 'http://127.0.0.1:1/keys';
        const token = await mint({ sub: 'user-1' }, { header: { [name]: value } });
        expect(await verifier().verify(token)).toEqual(invalid('untrusted_header'));
      },
    );

    it('refuses an oversized token (> 8 KiB) before parsing it', async () => {
      const token = await hostile.oversized({ sub: 'user-1' });
      expect(token.length).toBeGreaterThan(8 * 1024);
      expect(await verifier().verify(token)).toEqual(invalid('oversized'));
    });

    it('refuses garbage as malformed and an empty string as missing_token', async () => {
      const subject = verifier();
      expect(await subject.verify(hostile.garbage)).toEqual(invalid('malformed'));
      expect(await subject.verify('a.b.c')).toEqual(invalid('malformed'));
      expect(await subject.verify('')).toEqual(invalid('missing_token'));
    });
  });

  describe('HS256 source', () => {
    const hs256Only = () => verifierFor({ AUTH_JWT_SECRET: TEST_HS256_SECRET });

    it('refuses a token signed with another secret as bad_signature', async () => {
      const token = await mintHs256({ sub: 'user-1' }, { secret: OTHER_SECRET });
      expect(await hs256Only().verify(token)).toEqual(invalid('bad_signature'));
    });

    it('accepts a token signed with either of two comma-separated secrets', async () => {
      const verifier = verifierFor({ AUTH_JWT_SECRET: `${TEST_HS256_SECRET}, ${SECOND_SECRET}` });
      const first = await mintHs256({ sub: 'user-first' });
      const second = await mintHs256({ sub: 'user-second' }, { secret: SECOND_SECRET });
      const neither = await mintHs256({ sub: 'user-neither' }, { secret: OTHER_SECRET });
      expect(await verifier.verify(first)).toEqual(okResult(first, 'hs256'));
      expect(await verifier.verify(second)).toEqual(okResult(second, 'hs256'));
      expect(await verifier.verify(neither)).toEqual(invalid('bad_signature'));
    });

    it('refuses an ES256 token when no asymmetric key source is configured', async () => {
      const token = await keys.mint({ sub: 'user-1' });
      expect(await hs256Only().verify(token)).toEqual(invalid('alg_not_allowed'));
    });

    it('reports an expired token as AUTH_EXPIRED even when the first of two secrets does not match', async () => {
      const verifier = verifierFor({ AUTH_JWT_SECRET: `${TEST_HS256_SECRET},${SECOND_SECRET}` });
      const token = await mintHs256({ sub: 'user-1', exp: now() - 60 }, { secret: SECOND_SECRET });
      expect(await verifier.verify(token)).toEqual(expired);
    });
  });

  describe('key confusion', () => {
    it('refuses HS256 signed with the public JWK bytes as alg_not_allowed when only a JWKS is configured', async () => {
      const server = await startJwksServer([keys.publicJwk]);
      try {
        const verifier = verifierFor({ AUTH_JWKS_URL: server.url, AUTH_JWKS_COOLDOWN_MS: '60000' });
        const token = await hostile.keyConfusion({ sub: 'user-1' }, keys.publicJwk);
        expect(await verifier.verify(token)).toEqual(invalid('alg_not_allowed'));
        expect(server.requests()).toBe(0);
      } finally {
        await server.close();
      }
    });

    it('refuses it as alg_not_allowed when only a local JWKS file is configured', async () => {
      const verifier = verifierFor({ AUTH_PUBLIC_KEYS_FILE: keysFile });
      const token = await hostile.keyConfusion({ sub: 'user-1' }, keys.publicJwk);
      expect(await verifier.verify(token)).toEqual(invalid('alg_not_allowed'));
    });

    it('refuses it as bad_signature when both an HS256 secret and a JWKS are configured', async () => {
      const server = await startJwksServer([keys.publicJwk]);
      try {
        const verifier = verifierFor({
          AUTH_JWT_SECRET: TEST_HS256_SECRET,
          AUTH_JWKS_URL: server.url,
          AUTH_JWKS_COOLDOWN_MS: '60000',
        });
        const token = await hostile.keyConfusion({ sub: 'user-1' }, keys.publicJwk);
        expect(await verifier.verify(token)).toEqual(invalid('bad_signature'));
        expect(server.requests()).toBe(0);

        // Both sources still work for their own tokens, each checked against its own keys.
        const hsToken = await mintHs256({ sub: 'user-hs' });
        const esToken = await keys.mint({ sub: 'user-es' });
        expect(await verifier.verify(hsToken)).toEqual(okResult(hsToken, 'hs256'));
        expect(server.requests()).toBe(0);
        expect(await verifier.verify(esToken)).toEqual(okResult(esToken, 'jwks'));
        expect(server.requests()).toBe(1);
      } finally {
        await server.close();
      }
    });
  });

  describe('JWKS source (ES256 on loopback)', () => {
    let server: JwksServer;

    beforeEach(async () => {
      server = await startJwksServer([keys.publicJwk]);
    });

    afterEach(async () => {
      await server.close();
    });

    const jwksVerifier = (cooldownMs: string, extra: Environment = {}) =>
      verifierFor({
        AUTH_JWKS_URL: server.url,
        AUTH_JWKS_COOLDOWN_MS: cooldownMs,
        AUTH_JWKS_TIMEOUT_MS: '2000',
        ...extra,
      });

    it('refuses a token signed by a key absent from the JWKS as unknown_kid', async () => {
      const token = await strangerKeys.mint({ sub: 'user-1' });
      expect(await jwksVerifier('60000').verify(token)).toEqual(invalid('unknown_kid'));
    });

    it('refuses a token whose kid is known but whose signature is not as bad_signature', async () => {
      const impostor = await createEs256Keys(keys.kid);
      const token = await impostor.mint({ sub: 'user-1' });
      expect(await jwksVerifier('60000').verify(token)).toEqual(invalid('bad_signature'));
    });

    it('refetches the JWKS on an unknown kid, but not again within the cooldown', async () => {
      const start = Date.now();
      fakeDateOnly(start);
      const verifier = jwksVerifier('60000');
      const stranger = await strangerKeys.mint({ sub: 'user-1' });
      const valid = await keys.mint({ sub: 'user-1' });

      expect(await verifier.verify(valid)).toEqual(okResult(valid, 'jwks'));
      expect(server.requests()).toBe(1);
      // Just fetched: an unknown kid inside the cooldown does not refetch.
      expect(await verifier.verify(stranger)).toEqual(invalid('unknown_kid'));
      expect(server.requests()).toBe(1);

      // Past the cooldown (but inside the 10 min cache age) an unknown kid refetches once…
      jest.setSystemTime(start + 61_000);
      expect(await verifier.verify(stranger)).toEqual(invalid('unknown_kid'));
      expect(server.requests()).toBe(2);
      // …and further unknown kids within the new cooldown do not.
      expect(await verifier.verify(stranger)).toEqual(invalid('unknown_kid'));
      expect(await verifier.verify(stranger)).toEqual(invalid('unknown_kid'));
      expect(server.requests()).toBe(2);
    });

    it('refetches on every unknown kid when the cooldown is 0', async () => {
      const verifier = jwksVerifier('0');
      const valid = await keys.mint({ sub: 'user-1' });
      const stranger = await strangerKeys.mint({ sub: 'user-1' });
      expect(await verifier.verify(valid)).toEqual(okResult(valid, 'jwks'));
      expect(server.requests()).toBe(1);
      expect(await verifier.verify(stranger)).toEqual(invalid('unknown_kid'));
      expect(server.requests()).toBe(2);
    });

    it('accepts a token of a rotated-in key once the JWKS is refetched (cooldown 0)', async () => {
      const verifier = jwksVerifier('0');
      const oldToken = await keys.mint({ sub: 'user-old' });
      expect(await verifier.verify(oldToken)).toEqual(okResult(oldToken, 'jwks'));
      expect(server.requests()).toBe(1);

      server.setKeys([keys.publicJwk, rotatedKeys.publicJwk]);
      const newToken = await rotatedKeys.mint({ sub: 'user-new' });
      expect(await verifier.verify(newToken)).toEqual(okResult(newToken, 'jwks'));
      expect(server.requests()).toBe(2);

      const anotherOldToken = await keys.mint({ sub: 'user-old-2' });
      expect(await verifier.verify(anotherOldToken)).toEqual(okResult(anotherOldToken, 'jwks'));
      expect(server.requests()).toBe(2);
    });

    it('does not pick up a rotated-in key while the cooldown is running', async () => {
      const verifier = jwksVerifier('60000');
      const oldToken = await keys.mint({ sub: 'user-old' });
      expect(await verifier.verify(oldToken)).toEqual(okResult(oldToken, 'jwks'));
      server.setKeys([keys.publicJwk, rotatedKeys.publicJwk]);
      const newToken = await rotatedKeys.mint({ sub: 'user-new' });
      expect(await verifier.verify(newToken)).toEqual(invalid('unknown_kid'));
      expect(server.requests()).toBe(1);
    });

    it('never fetches a jku URL named by the token', async () => {
      const attacker = await startJwksServer([strangerKeys.publicJwk]);
      try {
        const verifier = jwksVerifier('0');
        const token = await strangerKeys.mint({ sub: 'admin' }, { header: { jku: attacker.url } });
        expect(await verifier.verify(token)).toEqual(invalid('untrusted_header'));
        const helperToken = await hostile.jku(keys, { sub: 'admin' });
        expect(await verifier.verify(helperToken)).toEqual(invalid('untrusted_header'));
        expect(attacker.requests()).toBe(0);
        expect(server.requests()).toBe(0);
      } finally {
        await attacker.close();
      }
    });

    it('never fetches an x5u URL named by the token, nor trusts an embedded jwk', async () => {
      const attacker = await startJwksServer([strangerKeys.publicJwk]);
      try {
        const verifier = jwksVerifier('0');
        const viaX5u = await strangerKeys.mint({ sub: 'admin' }, { header: { x5u: attacker.url } });
        const viaJwk = await strangerKeys.mint({ sub: 'admin' }, { header: { jwk: strangerKeys.publicJwk } });
        expect(await verifier.verify(viaX5u)).toEqual(invalid('untrusted_header'));
        expect(await verifier.verify(viaJwk)).toEqual(invalid('untrusted_header'));
        expect(attacker.requests()).toBe(0);
        expect(server.requests()).toBe(0);
      } finally {
        await attacker.close();
      }
    });

    it('refuses shape problems without contacting the key server', async () => {
      const verifier = jwksVerifier('0');
      expect(await verifier.verify('')).toEqual(invalid('missing_token'));
      expect(await verifier.verify(hostile.garbage)).toEqual(invalid('malformed'));
      expect(await verifier.verify(await hostile.oversized({ sub: 'user-1' }))).toEqual(invalid('oversized'));
      expect(await verifier.verify(hostile.algNone({ sub: 'user-1' }))).toEqual(invalid('alg_not_allowed'));
      expect(server.requests()).toBe(0);
    });

    it('caches a verified token: a second verification fetches nothing and returns the same claims', async () => {
      const start = Date.now();
      fakeDateOnly(start);
      const verifier = jwksVerifier('60000');
      const token = await keys.mint({ sub: 'user-1' });
      const first = await verifier.verify(token);
      expect(first).toEqual(okResult(token, 'jwks'));
      expect(server.requests()).toBe(1);

      const second = await verifier.verify(token);
      expect(second).toEqual(first);
      expect(server.requests()).toBe(1);

      // 11 min later jose's own JWKS copy is stale (10 min max age); the verifier's cache still answers.
      jest.setSystemTime(start + 11 * 60_000);
      expect(await verifier.verify(token)).toEqual(first);
      expect(server.requests()).toBe(1);
    });

    it('reports a cached token as AUTH_EXPIRED once its exp has passed', async () => {
      const start = Date.now();
      fakeDateOnly(start);
      const verifier = jwksVerifier('60000', { AUTH_CLOCK_TOLERANCE_S: '0' });
      const exp = Math.floor(start / 1000) + 1;
      const token = await keys.mint({ sub: 'user-1', exp });
      expect(await verifier.verify(token)).toEqual(okResult(token, 'jwks'));
      expect(server.requests()).toBe(1);

      jest.setSystemTime((exp + 1) * 1000);
      expect(await verifier.verify(token)).toEqual(expired);
      expect(server.requests()).toBe(1);
      // Evicted from the cache, the token is re-verified by jose and still expired.
      expect(await verifier.verify(token)).toEqual(expired);
    });

    it('expires a cached token at the same instant jose would (exp + tolerance, whole seconds)', async () => {
      const start = Date.now();
      fakeDateOnly(start);
      const verifier = jwksVerifier('60000', { AUTH_CLOCK_TOLERANCE_S: '0' });
      const exp = Math.floor(start / 1000) + 1;
      const token = await keys.mint({ sub: 'user-1', exp });
      expect(await verifier.verify(token)).toEqual(okResult(token, 'jwks'));
      jest.setSystemTime(exp * 1000 - 1);
      expect(await verifier.verify(token)).toEqual(okResult(token, 'jwks'));
      jest.setSystemTime(exp * 1000);
      expect(await verifier.verify(token)).toEqual(expired);
      const fresh = verifierFor({ AUTH_JWKS_URL: server.url, AUTH_CLOCK_TOLERANCE_S: '0' });
      expect(await fresh.verify(token)).toEqual(expired);
    });

    it('applies the clock tolerance to cached tokens as well', async () => {
      const start = Date.now();
      fakeDateOnly(start);
      const verifier = jwksVerifier('60000');
      const exp = Math.floor(start / 1000) + 1;
      const token = await keys.mint({ sub: 'user-1', exp });
      expect(await verifier.verify(token)).toEqual(okResult(token, 'jwks'));

      jest.setSystemTime((exp + 3) * 1000);
      expect(await verifier.verify(token)).toEqual(okResult(token, 'jwks'));
      jest.setSystemTime((exp + 6) * 1000);
      expect(await verifier.verify(token)).toEqual(expired);
    });

    it('does not cache refusals', async () => {
      const verifier = jwksVerifier('0');
      const token = await rotatedKeys.mint({ sub: 'user-1' });
      expect(await verifier.verify(token)).toEqual(invalid('unknown_kid'));
      server.setKeys([keys.publicJwk, rotatedKeys.publicJwk]);
      expect(await verifier.verify(token)).toEqual(okResult(token, 'jwks'));
    });
  });

  describe('JWKS unavailable', () => {
    it('reports INTERNAL_ERROR jwks_unavailable when the key server refuses connections', async () => {
      const closed = await startJwksServer([keys.publicJwk]);
      const url = closed.url;
      await closed.close();
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);

      const verifier = verifierFor({
        AUTH_JWKS_URL: url,
        AUTH_JWKS_TIMEOUT_MS: '2000',
        AUTH_JWKS_COOLDOWN_MS: '0',
      });
      const token = await keys.mint({ sub: 'user-1' });
      expect(await verifier.verify(token)).toEqual(jwksUnavailable);
      expect(error).toHaveBeenCalledWith(expect.stringContaining('remote JWKS unavailable'));
    });

    it.each([
      ['answers 500', 500, '{"keys":[]}'],
      ['answers 404 (a wrong JWKS path)', 404, 'not found'],
      ['answers 200 with a body that is not JSON', 200, '{not json'],
    ])('reports INTERNAL_ERROR, not a bad token, when the key server %s', async (_what, status, body) => {
      const server = createServer((_req, res) => res.writeHead(status).end(body));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      try {
        const { port } = server.address() as AddressInfo;
        const verifier = verifierFor({ AUTH_JWKS_URL: `http://127.0.0.1:${port}/jwks.json` });
        expect(await verifier.verify(await keys.mint({ sub: 'user-1' }))).toEqual(jwksUnavailable);
        expect(error).toHaveBeenCalledWith(expect.stringContaining('remote JWKS unavailable'));
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('still verifies HS256 tokens while the JWKS is unreachable', async () => {
      const closed = await startJwksServer([keys.publicJwk]);
      const url = closed.url;
      await closed.close();
      jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);

      const verifier = verifierFor({ AUTH_JWKS_URL: url, AUTH_JWT_SECRET: TEST_HS256_SECRET });
      const hsToken = await mintHs256({ sub: 'user-hs' });
      expect(await verifier.verify(hsToken)).toEqual(okResult(hsToken, 'hs256'));
      expect(await verifier.verify(await keys.mint({ sub: 'user-es' }))).toEqual(jwksUnavailable);
    });
  });

  describe('local JWKS file', () => {
    it('verifies a token against AUTH_PUBLIC_KEYS_FILE with source jwks_file', async () => {
      const verifier = verifierFor({ AUTH_PUBLIC_KEYS_FILE: keysFile });
      const token = await keys.mint({ sub: 'user-1' });
      expect(verifier.hasKeySource).toBe(true);
      expect(await verifier.verify(token)).toEqual(okResult(token, 'jwks_file'));
    });

    it('refuses a token whose kid is not in the file as unknown_kid', async () => {
      const verifier = verifierFor({ AUTH_PUBLIC_KEYS_FILE: keysFile });
      expect(await verifier.verify(await strangerKeys.mint({ sub: 'user-1' }))).toEqual(
        invalid('unknown_kid'),
      );
    });

    it('falls through to the remote JWKS for a kid that is not in the file', async () => {
      const server = await startJwksServer([rotatedKeys.publicJwk]);
      try {
        const verifier = verifierFor({
          AUTH_PUBLIC_KEYS_FILE: keysFile,
          AUTH_JWKS_URL: server.url,
          AUTH_JWKS_COOLDOWN_MS: '60000',
        });
        const fileToken = await keys.mint({ sub: 'user-file' });
        expect(await verifier.verify(fileToken)).toEqual(okResult(fileToken, 'jwks_file'));
        expect(server.requests()).toBe(0);
        const remoteToken = await rotatedKeys.mint({ sub: 'user-remote' });
        expect(await verifier.verify(remoteToken)).toEqual(okResult(remoteToken, 'jwks'));
        expect(server.requests()).toBe(1);
        expect(await verifier.verify(await strangerKeys.mint({ sub: 'user-x' }))).toEqual(
          invalid('unknown_kid'),
        );
      } finally {
        await server.close();
      }
    });

    it.each([
      ['a JSON object without keys', JSON.stringify({ kty: 'EC' })],
      ['a JSON object whose keys is not an array', JSON.stringify({ keys: {} })],
      ['not JSON at all', 'not json'],
    ])('throws an error naming AUTH_PUBLIC_KEYS_FILE for %s', (_label, content) => {
      const path = join(tempDir, `bad-${Math.random().toString(36).slice(2)}.json`);
      writeFileSync(path, content);
      expect(() => verifierFor({ AUTH_PUBLIC_KEYS_FILE: path })).toThrow(Error);
      expect(() => verifierFor({ AUTH_PUBLIC_KEYS_FILE: path })).toThrow(/AUTH_PUBLIC_KEYS_FILE/);
    });

    it('throws an error naming AUTH_PUBLIC_KEYS_FILE for a missing file', () => {
      const path = join(tempDir, 'does-not-exist.json');
      expect(() => verifierFor({ AUTH_PUBLIC_KEYS_FILE: path })).toThrow(/AUTH_PUBLIC_KEYS_FILE/);
    });
  });

  describe('without any key source', () => {
    it('has no key source and refuses every token as alg_not_allowed', async () => {
      const verifier = verifierFor({});
      expect(verifier.hasKeySource).toBe(false);
      expect(await verifier.verify(await mintHs256({ sub: 'user-1' }))).toEqual(invalid('alg_not_allowed'));
      expect(await verifier.verify(await keys.mint({ sub: 'user-1' }))).toEqual(invalid('alg_not_allowed'));
    });
  });

  describe('decodeUnverified', () => {
    const verifier = () => verifierFor({ AUTH_JWT_SECRET: TEST_HS256_SECRET });

    it('returns the claims of a decodable token without checking its signature', async () => {
      const iat = now();
      const token = await mintHs256({ sub: 'user-1', iat, exp: iat + 60 }, { secret: OTHER_SECRET });
      expect(verifier().decodeUnverified(token)).toEqual({
        sub: 'user-1',
        exp: iat + 60,
        iat,
        raw: decodeJwt(token),
      });
    });

    it('reports exp and iat as 0 when the token has none', async () => {
      const token = await mintHs256({ sub: 'user-1' }, { omit: ['exp', 'iat'] });
      expect(verifier().decodeUnverified(token)).toEqual({
        sub: 'user-1',
        exp: 0,
        iat: 0,
        raw: decodeJwt(token),
      });
    });

    it('returns null for garbage, an empty string, a token without sub and an oversized token', async () => {
      const subject = verifier();
      expect(subject.decodeUnverified(hostile.garbage)).toBeNull();
      expect(subject.decodeUnverified('')).toBeNull();
      expect(subject.decodeUnverified(await mintHs256({}, { omit: ['sub'] }))).toBeNull();
      expect(subject.decodeUnverified(await hostile.oversized({ sub: 'user-1' }))).toBeNull();
    });
  });
});
