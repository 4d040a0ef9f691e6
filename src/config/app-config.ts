import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { EnvironmentVariables, LogLevel, NodeEnv } from './environment.dto';

export type { LogLevel, NodeEnv } from './environment.dto';

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
  /** Every Redis key and channel of this deployment starts with it (several deployments, one Redis). */
  readonly redisPrefix!: string;
  /** An instance whose heartbeat is older than this is dead; the survivors take over its sockets. */
  readonly instanceHeartbeatTtlMs!: number;

  readonly rateLimit!: {
    readonly enabled: boolean;
    readonly windowMs: number;
    readonly httpMax: number;
    readonly metricsMax: number;
    /** Failed logins (and handshake tokens) per IP per window; successful ones never count. */
    readonly loginMax: number;
    /** Failed logins claiming one agentId per window. */
    readonly loginAgentMax: number;
  };

  readonly audit!: {
    readonly retentionDays: number;
    /** Append-only file where records wait while the database does not answer. */
    readonly spillPath: string;
    readonly flushIntervalMs: number;
    readonly batchSize: number;
    /** Records held in memory at most; beyond it the oldest go to the spill file. */
    readonly queueMax: number;
  };

  readonly callLog!: {
    /** Rows of calls that ended longer ago than this are purged daily (and at boot). */
    readonly retentionDays: number;
    /** Append-only file where rows wait while the database does not answer. */
    readonly spillPath: string;
  };

  readonly metrics!: {
    /** Accepted scrape keys; empty means internal requests only in production, open in development. */
    readonly apiKeys: readonly string[];
    /** Networks whose `x-internal-request: true` is honoured without a key. */
    readonly internalCidrs: readonly string[];
    /** Failures from one address per rate-limit window before it is cooled down (429). */
    readonly failureLimit: number;
    readonly failureCooldownMs: number;
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

/** Loopback and the private ranges: where a cluster's own Prometheus usually runs. */
const DEFAULT_INTERNAL_CIDRS = [
  '127.0.0.0/8',
  '::1/128',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  'fc00::/7',
];

/**
 * Validates the environment with class-validator (`EnvironmentVariables`), then applies the rules
 * that depend on NODE_ENV or on several variables, collecting every problem before failing.
 */
export function validateEnvironment(env: Environment): AppConfig {
  const variables = plainToInstance(EnvironmentVariables, presentVariables(env));
  // Not whitelisted: the process environment holds many variables that are none of our business.
  const errors = validateSync(variables, { whitelist: false, forbidUnknownValues: false });
  const problems = errors.flatMap(describeError);
  // A bad variable is reported above and then treated as unset, so the rules below and the
  // defaults only ever see valid values (and every problem is still reported in one pass).
  const rejected = new Set(errors.map((error) => error.property));
  for (const error of errors) delete variables[error.property as keyof EnvironmentVariables];
  const vars: Readonly<EnvironmentVariables> = variables;

  const nodeEnv: NodeEnv = vars.NODE_ENV ?? 'development';
  const isProduction = nodeEnv === 'production';
  const jwksUrl = vars.AUTH_JWKS_URL ?? null;
  const jwtSecrets = vars.AUTH_JWT_SECRET ?? [];
  const publicKeysFile = vars.AUTH_PUBLIC_KEYS_FILE ?? null;
  const hasKeySource = jwksUrl !== null || jwtSecrets.length > 0 || publicKeysFile !== null;
  const corsList = vars.CORS_ORIGINS ?? [];
  const trustProxy = vars.TRUST_PROXY ?? false;
  // METRICS_API_KEYS (several, for rotation) and the older single METRICS_API_KEY are both read.
  const metricsApiKeys = [
    ...new Set([...(vars.METRICS_API_KEYS ?? []), ...(vars.METRICS_API_KEY ? [vars.METRICS_API_KEY] : [])]),
  ];

  if (isProduction) {
    if (!hasKeySource) {
      problems.push(
        'AUTH_JWKS_URL, AUTH_JWT_SECRET or AUTH_PUBLIC_KEYS_FILE: production needs at least one token key source',
      );
    }
    if (jwksUrl && !isSecureJwksUrl(jwksUrl)) {
      problems.push('AUTH_JWKS_URL: must use https:// in production unless its host is a loopback address');
    }
    if (jwtSecrets.some((secret) => secret.length < 32)) {
      problems.push('AUTH_JWT_SECRET: each secret must be at least 32 characters in production');
    }
    // Set but invalid is already reported; saying "required" as well would mislead.
    if (!vars.TICKET_SECRET && !rejected.has('TICKET_SECRET')) {
      problems.push('TICKET_SECRET: required in production');
    }
    if (!rejected.has('CORS_ORIGINS')) {
      if (corsList.length === 0) {
        problems.push('CORS_ORIGINS: required in production (comma-separated origins)');
      } else if (corsList.includes('*')) {
        problems.push('CORS_ORIGINS: "*" is not allowed in production; list the origins');
      }
    }
    if (metricsApiKeys.some((key) => key.length < 16)) {
      problems.push('METRICS_API_KEYS: each key must be at least 16 characters in production');
    }
    if (trustProxy === true) {
      problems.push(
        'TRUST_PROXY: "true" trusts every X-Forwarded-For hop and lets clients forge their address; give a hop count or the proxies\' addresses',
      );
    }
  }

  if (isProduction && vars.REDIS_URL && !vars.DATABASE_URL && !rejected.has('DATABASE_URL')) {
    problems.push(
      'DATABASE_URL: required in production with REDIS_URL (instances share Redis, and SQLite cannot be shared between them)',
    );
  }

  if (problems.length > 0) throw new ConfigValidationError(problems);

  const sqlitePath = vars.SQLITE_PATH ?? './data/signalgate.db';
  return new AppConfig({
    port: vars.PORT ?? 3000,
    host: vars.HOST ?? '0.0.0.0',
    nodeEnv,
    isProduction,
    logLevel: vars.LOG_LEVEL ?? 'info',
    auth: {
      jwksUrl,
      jwtSecrets,
      publicKeysFile,
      issuer: vars.AUTH_ISSUER ?? null,
      audience: vars.AUTH_AUDIENCE ?? 'authenticated',
      clockToleranceS: vars.AUTH_CLOCK_TOLERANCE_S ?? 5,
      expiryGraceMs: vars.AUTH_EXPIRY_GRACE_MS ?? 30_000,
      jwksTimeoutMs: vars.AUTH_JWKS_TIMEOUT_MS ?? 5_000,
      jwksCooldownMs: vars.AUTH_JWKS_COOLDOWN_MS ?? 30_000,
      devBypass: !hasKeySource && !isProduction,
    },
    ticketSecret: vars.TICKET_SECRET ?? '',
    ticketSecretGenerated: !vars.TICKET_SECRET,
    agentsFile: vars.AGENTS_FILE ?? (isProduction ? null : DEFAULT_AGENTS_FILE),
    agentDisconnectGraceMs: vars.AGENT_DISCONNECT_GRACE_MS ?? 10_000,
    callReconnectGraceMs: vars.CALL_RECONNECT_GRACE_MS ?? 10_000,
    agentStaleMs: vars.AGENT_STALE_MS ?? 90_000,
    corsOrigins: corsList.length === 0 || corsList.includes('*') ? '*' : corsList,
    trustProxy,
    databaseUrl: vars.DATABASE_URL ?? null,
    sqlitePath,
    redisUrl: vars.REDIS_URL ?? null,
    redisPrefix: vars.REDIS_PREFIX ?? 'signalgate:',
    instanceHeartbeatTtlMs: vars.INSTANCE_HEARTBEAT_TTL_MS ?? 5_000,
    rateLimit: {
      enabled: vars.RATE_LIMIT_ENABLED ?? true,
      windowMs: vars.RATE_LIMIT_WINDOW_MS ?? 60_000,
      httpMax: vars.RATE_LIMIT_HTTP_MAX ?? 100,
      metricsMax: vars.RATE_LIMIT_METRICS_MAX ?? 60,
      loginMax: vars.RATE_LIMIT_LOGIN_MAX ?? 10,
      loginAgentMax: vars.RATE_LIMIT_LOGIN_AGENT_MAX ?? 5,
    },
    audit: {
      retentionDays: vars.AUDIT_RETENTION_DAYS ?? 90,
      spillPath: vars.AUDIT_SPILL_PATH ?? join(dirname(sqlitePath), 'audit-spill.ndjson'),
      flushIntervalMs: vars.AUDIT_FLUSH_INTERVAL_MS ?? 250,
      batchSize: vars.AUDIT_BATCH_SIZE ?? 500,
      queueMax: vars.AUDIT_QUEUE_MAX ?? 10_000,
    },
    callLog: {
      retentionDays: vars.CALL_LOG_RETENTION_DAYS ?? 90,
      spillPath: vars.CALL_LOG_SPILL_PATH ?? join(dirname(sqlitePath), 'call-log-spill.ndjson'),
    },
    metrics: {
      apiKeys: metricsApiKeys,
      internalCidrs: vars.METRICS_INTERNAL_CIDRS ?? DEFAULT_INTERNAL_CIDRS,
      failureLimit: vars.METRICS_FAILURE_LIMIT ?? 10,
      failureCooldownMs: vars.METRICS_FAILURE_COOLDOWN_MS ?? 300_000,
    },
    publicDocsEnabled: vars.PUBLIC_DOCS_ENABLED ?? !isProduction,
  });
}

/** Trimmed values of the set variables; an empty or blank variable counts as unset. */
function presentVariables(env: Environment): Record<string, string> {
  const present: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const trimmed = typeof value === 'string' ? value.trim() : '';
    if (trimmed) present[name] = trimmed;
  }
  return present;
}

/** `NAME: why`, one problem per distinct message line (IsInt, Min and Max share one message). */
function describeError(error: ValidationError): string[] {
  const lines = Object.values(error.constraints ?? {}).flatMap((message) => message.split('\n'));
  return [...new Set(lines)].map((line) => `${error.property}: ${line}`);
}

function isSecureJwksUrl(url: string): boolean {
  const parsed = new URL(url);
  if (parsed.protocol === 'https:') return true;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}
