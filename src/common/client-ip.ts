import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';

export type TrustProxySetting = boolean | number | readonly string[];

/**
 * Resolves a request's client address the way Express does for `trust proxy`, so that sockets
 * (whose handshake Express never sees) and HTTP routes agree on who is calling.
 */
export function createClientIpResolver(trust: TrustProxySetting): (req: IncomingMessage) => string {
  const trustFn =
    typeof trust === 'boolean'
      ? () => trust
      : typeof trust === 'number'
        ? (_addr: string, hop: number) => hop < trust
        : proxyAddr.compile([...trust]);
  return (req) => normaliseIp(proxyAddr(req as Parameters<typeof proxyAddr>[0], trustFn));
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, so one client has one key in limits and audit records. */
export function normaliseIp(ip: string | undefined): string {
  if (!ip) return 'unknown';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
