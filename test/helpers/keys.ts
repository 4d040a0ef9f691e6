import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, JWK, SignJWT } from 'jose';

/** The HS256 secret e2e apps are configured with (AUTH_JWT_SECRET). */
export const TEST_HS256_SECRET = 'signalgate-e2e-hs256-secret-0123456789abcdef';

export interface MintOptions {
  secret?: string;
  /** Claims to leave out entirely (to test "missing sub/exp"). */
  omit?: ('exp' | 'sub' | 'iat' | 'aud')[];
  header?: Record<string, unknown>;
}

/** Default claims of a Supabase access token: audience `authenticated`, issued now, 1 h life. */
function withDefaults(
  claims: Record<string, unknown>,
  omit: MintOptions['omit'] = [],
): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const full: Record<string, unknown> = {
    aud: 'authenticated',
    iat: now,
    exp: now + 3600,
    role: 'authenticated',
    ...claims,
  };
  for (const claim of omit) delete full[claim];
  return full;
}

export async function mintHs256(claims: Record<string, unknown>, options: MintOptions = {}): Promise<string> {
  const secret = new TextEncoder().encode(options.secret ?? TEST_HS256_SECRET);
  return new SignJWT(withDefaults(claims, options.omit))
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...options.header })
    .sign(secret);
}

export interface Es256Keys {
  kid: string;
  publicJwk: JWK;
  mint(claims: Record<string, unknown>, options?: Omit<MintOptions, 'secret'>): Promise<string>;
}

/** A real ES256 key pair, as Supabase's asymmetric signing keys are. */
export async function createEs256Keys(kid = 'test-es256'): Promise<Es256Keys> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  return {
    kid,
    publicJwk,
    mint: (claims, options = {}) =>
      new SignJWT(withDefaults(claims, options.omit))
        .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid, ...options.header })
        .sign(privateKey),
  };
}

export interface JwksServer {
  url: string;
  requests(): number;
  setKeys(keys: JWK[]): void;
  close(): Promise<void>;
}

/** Serves a JWKS on 127.0.0.1 (port 0) and counts fetches, to observe caching and refetches. */
export async function startJwksServer(keys: JWK[]): Promise<JwksServer> {
  let current = keys;
  let count = 0;
  const server: Server = createServer((req, res) => {
    count += 1;
    if (req.url !== '/.well-known/jwks.json') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: current }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    requests: () => count,
    setKeys: (next) => (current = next),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Hostile tokens for refusal tests. */
export const hostile = {
  /** `alg: none`, no signature. */
  algNone: (claims: Record<string, unknown>): string =>
    `${b64({ alg: 'none', typ: 'JWT' })}.${b64(withDefaults(claims))}.`,
  /** HS256 "signed" with the bytes of a public key (key confusion). */
  keyConfusion: (claims: Record<string, unknown>, publicJwk: JWK): Promise<string> =>
    mintHs256(claims, { secret: JSON.stringify(publicJwk) }),
  /** A header pointing at an attacker's key server. */
  jku: (keys: Es256Keys, claims: Record<string, unknown>): Promise<string> =>
    keys.mint(claims, { header: { jku: 'http://127.0.0.1:1/evil-jwks.json' } }),
  garbage: 'this-is-not.a-jwt-at.all!',
  oversized: (claims: Record<string, unknown>): Promise<string> =>
    mintHs256({ ...claims, padding: 'x'.repeat(9000) }),
};
