import { isIP } from 'node:net';

export type NodeEnv = 'development' | 'production' | 'test';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'verbose';

/**
 * The validated, typed configuration. Built once at boot from the environment by
 * `validateEnvironment`; every other module injects this class and never reads `process.env`.
 */
export class AppConfig {
  readonly port!: number;
  readonly host!: string;
  readonly nodeEnv!: NodeEnv;
  readonly isProduction!: boolean;
  readonly logLevel!: LogLevel;

  readonly auth!: {
    readonly jwksUrl: string | null;
    readonly jwtSecrets: readonly string[];
    readonly publicKeysFile: string | null;
    readonly issuer: string | null;
    readonly audience: string | null;
    readonly clockToleranceS: number;
    readonly expiryGraceMs: number;
    readonly jwksTimeoutMs: number;
    readonly jwksCooldownMs: number;
    /** True when no key source is configured outside production: tokens are decoded, not verified. */
    readonly devBypass: boolean;
  };

  readonly ticketSecret!: string;
  /** True when TICKET_SECRET was not set and a random per-boot secret is used (development only). */
  readonly ticketSecretGenerated!: boolean;

  readonly agentsFile!: string | null;
  readonly agentDisconnectGraceMs!: number;
  readonly callReconnectGraceMs!: number;
  readonly agentStaleMs!: number;

  readonly corsOrigins!: '*' | readonly string[];
  readonly trustProxy!: boolean | number | readonly string[];

  readonly databaseUrl!: string | null;
  readonly sqlitePath!: string;
  readonly redisUrl!: string | null;

  readonly rateLimit!: {
    readonly enabled: boolean;
    readonly windowMs: number;
    readonly httpMax: number;
    readonly metricsMax: number;
    readonly loginMax: number;
  };

  readonly publicDocsEnabled!: boolean;

  constructor(values: AppConfig) {
    Object.assign(this, values);
  }
}

/** Thrown with every problem at once, so an operator fixes the environment in one pass. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

export type Environment = Record<string, string | undefined>;

const DEFAULT_AGENTS_FILE = './config/agents.example.json';

/** Reads and checks every variable, collecting all problems before failing. */
export function validateEnvironment(env: Environment): AppConfig {
  const problems: string[] = [];
  const read = new EnvReader(env, problems);

  const nodeEnv = read.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const isProduction = nodeEnv === 'production';

  const jwksUrl = read.url('AUTH_JWKS_URL');
  const jwtSecrets = read.list('AUTH_JWT_SECRET');
  const publicKeysFile = read.string('AUTH_PUBLIC_KEYS_FILE');
  const hasKeySource = jwksUrl !== null || jwtSecrets.length > 0 || publicKeysFile !== null;

  if (isProduction && !hasKeySource) {
    problems.push(
      'AUTH_JWKS_URL, AUTH_JWT_SECRET or AUTH_PUBLIC_KEYS_FILE: production needs at least one token key source',
    );
  }
  if (isProduction && jwksUrl && !isSecureJwksUrl(jwksUrl)) {
    problems.push('AUTH_JWKS_URL: must use https:// in production unless its host is a loopback address');
  }
  for (const secret of jwtSecrets) {
    if (secret.length < 32 && isProduction) {
      problems.push('AUTH_JWT_SECRET: each secret must be at least 32 characters in production');
      break;
    }
  }

  const ticketSecretRaw = read.string('TICKET_SECRET');
  if (isProduction && !ticketSecretRaw) problems.push('TICKET_SECRET: required in production');
  if (ticketSecretRaw && ticketSecretRaw.length < 32) {
    problems.push('TICKET_SECRET: must be at least 32 characters');
  }

  const corsRaw = read.list('CORS_ORIGINS');
  let corsOrigins: '*' | string[] = '*';
  if (corsRaw.length === 0) {
    if (isProduction) problems.push('CORS_ORIGINS: required in production (comma-separated origins)');
  } else if (corsRaw.includes('*')) {
    if (isProduction) problems.push('CORS_ORIGINS: "*" is not allowed in production; list the origins');
  } else {
    corsOrigins = corsRaw;
    for (const origin of corsRaw) {
      if (!/^https?:\/\/[^/\s]+$/.test(origin)) problems.push(`CORS_ORIGINS: "${origin}" is not an origin`);
    }
  }

  const trustProxy = read.trustProxy('TRUST_PROXY', isProduction);
  const agentsFile = read.string('AGENTS_FILE') ?? (isProduction ? null : DEFAULT_AGENTS_FILE);

  const config = new AppConfig({
    port: read.int('PORT', 3000, 0, 65535),
    host: read.string('HOST') ?? '0.0.0.0',
    nodeEnv,
    isProduction,
    logLevel: read.oneOf('LOG_LEVEL', ['error', 'warn', 'info', 'debug', 'verbose'] as const, 'info'),
    auth: {
      jwksUrl,
      jwtSecrets,
      publicKeysFile,
      issuer: read.string('AUTH_ISSUER'),
      audience: read.string('AUTH_AUDIENCE') ?? 'authenticated',
      clockToleranceS: read.int('AUTH_CLOCK_TOLERANCE_S', 5, 0, 300),
      expiryGraceMs: read.int('AUTH_EXPIRY_GRACE_MS', 30_000, 0, 3_600_000),
      jwksTimeoutMs: read.int('AUTH_JWKS_TIMEOUT_MS', 5_000, 100, 60_000),
      jwksCooldownMs: read.int('AUTH_JWKS_COOLDOWN_MS', 30_000, 0, 3_600_000),
      devBypass: !hasKeySource && !isProduction,
    },
    ticketSecret: ticketSecretRaw ?? '',
    ticketSecretGenerated: !ticketSecretRaw,
    agentsFile,
    agentDisconnectGraceMs: read.int('AGENT_DISCONNECT_GRACE_MS', 10_000, 0, 3_600_000),
    callReconnectGraceMs: read.int('CALL_RECONNECT_GRACE_MS', 10_000, 0, 3_600_000),
    agentStaleMs: read.int('AGENT_STALE_MS', 90_000, 1_000, 86_400_000),
    corsOrigins,
    trustProxy,
    databaseUrl: read.url('DATABASE_URL', ['postgres:', 'postgresql:']),
    sqlitePath: read.string('SQLITE_PATH') ?? './data/signalgate.db',
    redisUrl: read.url('REDIS_URL', ['redis:', 'rediss:']),
    rateLimit: {
      enabled: read.bool('RATE_LIMIT_ENABLED', true),
      windowMs: read.int('RATE_LIMIT_WINDOW_MS', 60_000, 1_000, 86_400_000),
      httpMax: read.int('RATE_LIMIT_HTTP_MAX', 100, 1, 1_000_000),
      metricsMax: read.int('RATE_LIMIT_METRICS_MAX', 60, 1, 1_000_000),
      loginMax: read.int('RATE_LIMIT_LOGIN_MAX', 10, 1, 1_000_000),
    },
    publicDocsEnabled: read.bool('PUBLIC_DOCS_ENABLED', !isProduction),
  } as AppConfig);

  if (problems.length > 0) throw new ConfigValidationError(problems);
  return config;
}

function isSecureJwksUrl(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return true;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Small typed readers; each records a problem instead of throwing, so all are reported together. */
class EnvReader {
  constructor(
    private readonly env: Environment,
    private readonly problems: string[],
  ) {}

  string(name: string): string | null {
    const value = this.env[name]?.trim();
    return value ? value : null;
  }

  list(name: string): string[] {
    const value = this.string(name);
    return value
      ? value
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean)
      : [];
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.string(name);
    if (value === null) return fallback;
    const parsed = Number(value);
    if (!/^-?\d+$/.test(value) || parsed < min || parsed > max) {
      this.problems.push(`${name}: must be an integer between ${min} and ${max} (got "${value}")`);
      return fallback;
    }
    return parsed;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.string(name)?.toLowerCase();
    if (value === undefined || value === null) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.problems.push(`${name}: must be true or false (got "${value}")`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name);
    if (value === null) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}: must be one of ${allowed.join(', ')} (got "${value}")`);
    return fallback;
  }

  url(name: string, protocols: string[] = ['http:', 'https:']): string | null {
    const value = this.string(name);
    if (value === null) return null;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) {
        this.problems.push(`${name}: must be a ${protocols.join(' or ')} URL`);
        return null;
      }
      return value;
    } catch {
      this.problems.push(`${name}: is not a valid URL`);
      return null;
    }
  }

  trustProxy(name: string, isProduction: boolean): boolean | number | string[] {
    const value = this.string(name);
    if (value === null || value.toLowerCase() === 'false') return false;
    if (value.toLowerCase() === 'true') {
      if (isProduction) {
        this.problems.push(
          `${name}: "true" trusts every X-Forwarded-For hop and lets clients forge their address; give a hop count or the proxies' addresses`,
        );
      }
      return true;
    }
    if (/^\d+$/.test(value)) return Number(value);
    const entries = value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean);
    for (const entry of entries) {
      const [address, prefix] = entry.split('/');
      const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry);
      if (!named && (isIP(address) === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix)))) {
        this.problems.push(`${name}: "${entry}" is not a hop count, an address or a CIDR`);
      }
    }
    return entries;
  }
}
