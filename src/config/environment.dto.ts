import { IsOptional, IsString, MinLength, Matches } from 'class-validator';
import {
  CommaSeparated,
  IsFlag,
  IsIntegerBetween,
  IsOneOf,
  IsOriginList,
  IsAddressList,
  IsTrustProxy,
  IsUrlWithProtocol,
} from './environment-variable.decorator';

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug', 'verbose'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const WEB_URL = ['http:', 'https:'];

/**
 * The environment variables signalgate reads (`.env.example` documents each one and its default),
 * as class-validator sees them after conversion. Every variable is optional here: an unset or empty
 * variable is absent and takes its default in `validateEnvironment`, which also applies the rules
 * that depend on NODE_ENV or on several variables. Other variables in the environment are ignored.
 */
export class EnvironmentVariables {
  // --- server ---
  @IsOptional() @IsIntegerBetween(0, 65535) PORT?: number;
  @IsOptional() @IsString() HOST?: string;
  @IsOptional() @IsOneOf(NODE_ENVS) NODE_ENV?: NodeEnv;
  @IsOptional() @IsOneOf(LOG_LEVELS) LOG_LEVEL?: LogLevel;

  // --- token verification ---
  @IsOptional() @IsUrlWithProtocol(WEB_URL) AUTH_JWKS_URL?: string;
  /** Several secrets, comma-separated, while keys rotate. */
  @IsOptional() @CommaSeparated() AUTH_JWT_SECRET?: string[];
  @IsOptional() @IsString() AUTH_PUBLIC_KEYS_FILE?: string;
  @IsOptional() @IsString() AUTH_ISSUER?: string;
  @IsOptional() @IsString() AUTH_AUDIENCE?: string;
  @IsOptional() @IsIntegerBetween(0, 300) AUTH_CLOCK_TOLERANCE_S?: number;
  @IsOptional() @IsIntegerBetween(0, 3_600_000) AUTH_EXPIRY_GRACE_MS?: number;
  @IsOptional() @IsIntegerBetween(100, 60_000) AUTH_JWKS_TIMEOUT_MS?: number;
  @IsOptional() @IsIntegerBetween(0, 3_600_000) AUTH_JWKS_COOLDOWN_MS?: number;

  // --- sessions and presence ---
  /** Enforced in every environment: a short ticket secret is weak even in development. */
  @IsOptional() @MinLength(32, { message: 'must be at least 32 characters' }) TICKET_SECRET?: string;
  @IsOptional() @IsString() AGENTS_FILE?: string;
  @IsOptional() @IsIntegerBetween(0, 3_600_000) AGENT_DISCONNECT_GRACE_MS?: number;
  @IsOptional() @IsIntegerBetween(0, 3_600_000) CALL_RECONNECT_GRACE_MS?: number;
  @IsOptional() @IsIntegerBetween(1_000, 86_400_000) AGENT_STALE_MS?: number;

  // --- network ---
  @IsOptional() @CommaSeparated() @IsOriginList() CORS_ORIGINS?: string[];
  @IsOptional() @IsTrustProxy() TRUST_PROXY?: boolean | number | string[];

  // --- storage ---
  @IsOptional() @IsUrlWithProtocol(['postgres:', 'postgresql:']) DATABASE_URL?: string;
  @IsOptional() @IsString() SQLITE_PATH?: string;
  @IsOptional() @IsUrlWithProtocol(['redis:', 'rediss:']) REDIS_URL?: string;
  @IsOptional()
  @Matches(/^[A-Za-z0-9_.:-]{1,64}$/, { message: 'letters, digits and _.:- only (at most 64)' })
  REDIS_PREFIX?: string;
  @IsOptional() @IsIntegerBetween(1_000, 60_000) INSTANCE_HEARTBEAT_TTL_MS?: number;

  // --- rate limits ---
  @IsOptional() @IsFlag() RATE_LIMIT_ENABLED?: boolean;
  @IsOptional() @IsIntegerBetween(1_000, 86_400_000) RATE_LIMIT_WINDOW_MS?: number;
  @IsOptional() @IsIntegerBetween(1, 1_000_000) RATE_LIMIT_HTTP_MAX?: number;
  @IsOptional() @IsIntegerBetween(1, 1_000_000) RATE_LIMIT_METRICS_MAX?: number;
  @IsOptional() @IsIntegerBetween(1, 1_000_000) RATE_LIMIT_LOGIN_MAX?: number;
  @IsOptional() @IsIntegerBetween(1, 1_000_000) RATE_LIMIT_LOGIN_AGENT_MAX?: number;

  // --- metrics ---
  /** Several keys, comma-separated, so a key can be rotated without downtime. */
  @IsOptional() @CommaSeparated() METRICS_API_KEYS?: string[];
  @IsOptional() @IsString() METRICS_API_KEY?: string;
  /** Where `x-internal-request: true` is honoured (the client address as Express sees it). */
  @IsOptional() @CommaSeparated() @IsAddressList() METRICS_INTERNAL_CIDRS?: string[];
  /** Failed /metrics attempts from one address within RATE_LIMIT_WINDOW_MS before a cool-down. */
  @IsOptional() @IsIntegerBetween(1, 10_000) METRICS_FAILURE_LIMIT?: number;
  @IsOptional() @IsIntegerBetween(1_000, 86_400_000) METRICS_FAILURE_COOLDOWN_MS?: number;

  // --- audit trail ---
  @IsOptional() @IsIntegerBetween(1, 36_500) AUDIT_RETENTION_DAYS?: number;
  @IsOptional() @IsString() AUDIT_SPILL_PATH?: string;
  @IsOptional() @IsIntegerBetween(10, 60_000) AUDIT_FLUSH_INTERVAL_MS?: number;
  @IsOptional() @IsIntegerBetween(1, 10_000) AUDIT_BATCH_SIZE?: number;
  @IsOptional() @IsIntegerBetween(100, 1_000_000) AUDIT_QUEUE_MAX?: number;

  // --- call log ---
  @IsOptional() @IsIntegerBetween(1, 36_500) CALL_LOG_RETENTION_DAYS?: number;
  @IsOptional() @IsString() CALL_LOG_SPILL_PATH?: string;

  // --- docs ---
  @IsOptional() @IsFlag() PUBLIC_DOCS_ENABLED?: boolean;
}
