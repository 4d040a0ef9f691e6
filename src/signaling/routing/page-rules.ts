import type { AgentPool, RoutingRule } from '../../auth/directory/directory.types';

/** Where a visitor is: the host and path of its page, as the routing rules see them. */
export interface PageLocation {
  /** Lower case, without port. */
  host: string;
  /** Without query or fragment; a trailing slash removed except for the root. */
  path: string;
}

/**
 * The host and path of a `pageUrl`, or null when it is not an absolute http(s) URL (such a
 * visitor matches no rule and goes to the default pool).
 */
export function pageLocation(pageUrl: string): PageLocation | null {
  let url: URL;
  try {
    url = new URL(pageUrl);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') || '/' : '/';
  return { host: url.hostname.toLowerCase(), path };
}

/**
 * Domain patterns (PROTOCOL §3): `*` any host; `*.base` any subdomain of `base` (not `base`
 * itself: list it too when it should match); anything else the exact host, case-insensitively.
 */
export function domainMatches(pattern: string, host: string): boolean {
  const normalized = pattern.trim().toLowerCase();
  if (normalized === '*' || normalized === '') return true;
  if (normalized.startsWith('*.'))
    return host.endsWith(normalized.slice(1)) && host.length > normalized.length - 1;
  return host === normalized;
}

/**
 * Path patterns (PROTOCOL §3): `*` any path; `/x/**` `/x` and everything below it; `/x/*` exactly
 * one segment below `/x`; `/x*` every path starting with `/x`; anything else the exact path
 * (a trailing slash does not matter). Matching is case-sensitive, as URL paths are.
 */
export function pathMatches(pattern: string, path: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('/**')) {
    const base = pattern.slice(0, -3);
    return path === (base || '/') || path.startsWith(`${base}/`);
  }
  if (pattern.endsWith('/*')) {
    const base = pattern.slice(0, -2);
    if (!path.startsWith(`${base}/`)) return false;
    const rest = path.slice(base.length + 1);
    return rest.length > 0 && !rest.includes('/');
  }
  if (pattern.endsWith('*')) return path.startsWith(pattern.slice(0, -1));
  const exact = pattern.length > 1 ? pattern.replace(/\/+$/, '') : pattern;
  return path === exact;
}

export function ruleMatches(rule: RoutingRule, location: PageLocation): boolean {
  return domainMatches(rule.domainPattern, location.host) && pathMatches(rule.pathPattern, location.path);
}

/**
 * The pool a visitor's page routes to within one organisation (PROTOCOL §3): the matching rule
 * of highest priority wins (ties go to the pool, then the rule, listed first); with no match, the
 * organisation's default pool; with no default pool, null (any agent of the organisation).
 */
export function poolForPage(
  pageUrl: string,
  pools: readonly Pick<AgentPool, 'id' | 'isDefault' | 'rules'>[],
): string | null {
  const location = pageLocation(pageUrl);
  let best: { poolId: string; priority: number } | null = null;
  if (location) {
    for (const pool of pools) {
      for (const rule of pool.rules) {
        if ((best === null || rule.priority > best.priority) && ruleMatches(rule, location)) {
          best = { poolId: pool.id, priority: rule.priority };
        }
      }
    }
  }
  return best?.poolId ?? pools.find((pool) => pool.isDefault)?.id ?? null;
}
