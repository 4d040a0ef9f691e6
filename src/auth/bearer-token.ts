import type { Request } from 'express';

/** `Authorization: Bearer <token>`; anything else counts as no token at all. */
export function bearerToken(req: Request): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}
