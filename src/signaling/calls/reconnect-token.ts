import { createHash, randomBytes } from 'node:crypto';

/** PROTOCOL §3: 32 random bytes as 64 lowercase hex characters. */
export const RECONNECT_TOKEN_PATTERN = /^[0-9a-f]{64}$/;

/** Only the SHA-256 of a reconnect token is stored: a leaked state dump cannot resume a call. */
export function hashReconnectToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function newReconnectToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('hex');
  return { token, hash: hashReconnectToken(token) };
}
