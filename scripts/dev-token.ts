import { SignJWT } from 'jose';
import type { AppConfig } from '../src/config/app-config';

/**
 * Signs a development token for `sub` the way a Supabase access token looks to the server
 * (HS256, role `authenticated`, the configured audience and issuer). Used by `npm run token` and
 * `npm run demo`; never by the server.
 */
export async function signDevToken(
  auth: Pick<AppConfig['auth'], 'audience' | 'issuer'>,
  secret: string,
  sub: string,
  expiresIn: string,
): Promise<string> {
  let jwt = new SignJWT({ sub, role: 'authenticated' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime(expiresIn);
  if (auth.audience) jwt = jwt.setAudience(auth.audience);
  if (auth.issuer) jwt = jwt.setIssuer(auth.issuer);
  return jwt.sign(new TextEncoder().encode(secret));
}
