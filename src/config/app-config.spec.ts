import { AppConfig, ConfigValidationError, Environment, validateEnvironment } from './app-config';

/** The problems `validateEnvironment` reports for `env`, or fails the test if it accepts it. */
function problemsOf(env: Environment): readonly string[] {
  try {
    validateEnvironment(env);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
}

/** A production environment that passes every production rule. */
const PRODUCTION: Environment = {
  NODE_ENV: 'production',
  AUTH_JWT_SECRET: 's'.repeat(40),
  TICKET_SECRET: 't'.repeat(40),
  CORS_ORIGINS: 'https://app.example.com',
};

const TRUST_PROXY_TRUE =
  'TRUST_PROXY: "true" trusts every X-Forwarded-For hop and lets clients forge their address; give a hop count or the proxies\' addresses';

describe('validateEnvironment', () => {
  describe('defaults', () => {
    it('fills every value in development, with the development conveniences on', () => {
      const config = validateEnvironment({});
      expect(config).toBeInstanceOf(AppConfig);
      expect({ ...config }).toEqual({
        port: 3000,
        host: '0.0.0.0',
        nodeEnv: 'development',
        isProduction: false,
        logLevel: 'info',
        auth: {
          jwksUrl: null,
          jwtSecrets: [],
          publicKeysFile: null,
          issuer: null,
          audience: 'authenticated',
          clockToleranceS: 5,
          expiryGraceMs: 30_000,
          jwksTimeoutMs: 5_000,
          jwksCooldownMs: 30_000,
          devBypass: true,
        },
        ticketSecret: '',
        ticketSecretGenerated: true,
        agentsFile: './config/agents.example.json',
        agentDisconnectGraceMs: 10_000,
        callReconnectGraceMs: 10_000,
        agentStaleMs: 90_000,
        corsOrigins: '*',
        trustProxy: false,
        databaseUrl: null,
        sqlitePath: './data/signalgate.db',
        redisUrl: null,
        redisPrefix: 'signalgate:',
        instanceHeartbeatTtlMs: 5_000,
        rateLimit: {
          enabled: true,
          windowMs: 60_000,
          httpMax: 100,
          metricsMax: 60,
          loginMax: 10,
          loginAgentMax: 5,
        },
        audit: {
          retentionDays: 90,
          spillPath: 'data/audit-spill.ndjson',
          flushIntervalMs: 250,
          batchSize: 500,
          queueMax: 10_000,
        },
        callLog: { retentionDays: 90, spillPath: 'data/call-log-spill.ndjson' },
        metrics: {
          apiKeys: [],
          internalCidrs: [
            '127.0.0.0/8',
            '::1/128',
            '10.0.0.0/8',
            '172.16.0.0/12',
            '192.168.0.0/16',
            'fc00::/7',
          ],
          failureLimit: 10,
          failureCooldownMs: 300_000,
        },
        publicDocsEnabled: true,
      });
    });

    it('reads METRICS_API_KEYS and the older METRICS_API_KEY together; short keys stop a production boot', () => {
      expect(
        validateEnvironment({
          METRICS_API_KEYS: 'a-key-of-16-chars,b-key-of-16-chars',
          METRICS_API_KEY: 'c-key-of-16-chars',
        }).metrics.apiKeys,
      ).toEqual(['a-key-of-16-chars', 'b-key-of-16-chars', 'c-key-of-16-chars']);
      expect(() => validateEnvironment({ ...PRODUCTION, METRICS_API_KEYS: 'short' })).toThrow(
        'METRICS_API_KEYS: each key must be at least 16 characters in production',
      );
    });

    it('keeps the audit spill file next to the SQLite file unless told otherwise', () => {
      expect(validateEnvironment({ SQLITE_PATH: '/var/lib/sg/db.sqlite' }).audit.spillPath).toBe(
        '/var/lib/sg/audit-spill.ndjson',
      );
      expect(validateEnvironment({ AUDIT_SPILL_PATH: '/spill/a.ndjson' }).audit.spillPath).toBe(
        '/spill/a.ndjson',
      );
      expect(() => validateEnvironment({ AUDIT_RETENTION_DAYS: '0' })).toThrow('AUDIT_RETENTION_DAYS');
    });

    it('turns the development conveniences off in production', () => {
      const config = validateEnvironment(PRODUCTION);
      expect(config.isProduction).toBe(true);
      expect(config.auth.devBypass).toBe(false);
      expect(config.agentsFile).toBeNull();
      expect(config.publicDocsEnabled).toBe(false);
      expect(config.ticketSecretGenerated).toBe(false);
      expect(config.ticketSecret).toBe('t'.repeat(40));
      expect(config.corsOrigins).toEqual(['https://app.example.com']);
    });

    it('reads the plain string variables as given, trimmed', () => {
      const config = validateEnvironment({
        HOST: ' 127.0.0.1 ',
        AUTH_PUBLIC_KEYS_FILE: './keys.json',
        AUTH_ISSUER: 'https://ref.supabase.co/auth/v1',
        AUTH_AUDIENCE: 'api',
        AGENTS_FILE: './agents.json',
        SQLITE_PATH: '/var/lib/signalgate.db',
        NODE_ENV: 'test',
        LOG_LEVEL: 'debug',
      });
      expect(config.host).toBe('127.0.0.1');
      expect(config.auth).toMatchObject({
        publicKeysFile: './keys.json',
        issuer: 'https://ref.supabase.co/auth/v1',
        audience: 'api',
        devBypass: false,
      });
      expect(config.agentsFile).toBe('./agents.json');
      expect(config.sqlitePath).toBe('/var/lib/signalgate.db');
      expect(config.nodeEnv).toBe('test');
      expect(config.logLevel).toBe('debug');
    });

    it('ignores variables it does not know', () => {
      expect(() => validateEnvironment({ PATH: '/usr/bin', npm_config_cache: '', port: 'x' })).not.toThrow();
    });
  });

  describe('integers', () => {
    const read = (config: AppConfig): Record<string, number> => ({
      PORT: config.port,
      AUTH_CLOCK_TOLERANCE_S: config.auth.clockToleranceS,
      AUTH_EXPIRY_GRACE_MS: config.auth.expiryGraceMs,
      AUTH_JWKS_TIMEOUT_MS: config.auth.jwksTimeoutMs,
      AUTH_JWKS_COOLDOWN_MS: config.auth.jwksCooldownMs,
      AGENT_DISCONNECT_GRACE_MS: config.agentDisconnectGraceMs,
      CALL_RECONNECT_GRACE_MS: config.callReconnectGraceMs,
      AGENT_STALE_MS: config.agentStaleMs,
      RATE_LIMIT_WINDOW_MS: config.rateLimit.windowMs,
      RATE_LIMIT_HTTP_MAX: config.rateLimit.httpMax,
      RATE_LIMIT_METRICS_MAX: config.rateLimit.metricsMax,
      RATE_LIMIT_LOGIN_MAX: config.rateLimit.loginMax,
      RATE_LIMIT_LOGIN_AGENT_MAX: config.rateLimit.loginAgentMax,
      CALL_LOG_RETENTION_DAYS: config.callLog.retentionDays,
      METRICS_FAILURE_LIMIT: config.metrics.failureLimit,
      METRICS_FAILURE_COOLDOWN_MS: config.metrics.failureCooldownMs,
    });
    const bounds: [name: string, min: number, max: number][] = [
      ['PORT', 0, 65535],
      ['AUTH_CLOCK_TOLERANCE_S', 0, 300],
      ['AUTH_EXPIRY_GRACE_MS', 0, 3_600_000],
      ['AUTH_JWKS_TIMEOUT_MS', 100, 60_000],
      ['AUTH_JWKS_COOLDOWN_MS', 0, 3_600_000],
      ['AGENT_DISCONNECT_GRACE_MS', 0, 3_600_000],
      ['CALL_RECONNECT_GRACE_MS', 0, 3_600_000],
      ['AGENT_STALE_MS', 1_000, 86_400_000],
      ['RATE_LIMIT_WINDOW_MS', 1_000, 86_400_000],
      ['RATE_LIMIT_HTTP_MAX', 1, 1_000_000],
      ['RATE_LIMIT_METRICS_MAX', 1, 1_000_000],
      ['RATE_LIMIT_LOGIN_MAX', 1, 1_000_000],
      ['RATE_LIMIT_LOGIN_AGENT_MAX', 1, 1_000_000],
      ['CALL_LOG_RETENTION_DAYS', 1, 36_500],
      ['METRICS_FAILURE_LIMIT', 1, 10_000],
      ['METRICS_FAILURE_COOLDOWN_MS', 1_000, 86_400_000],
    ];

    it('covers every integer variable', () => {
      expect(bounds.map(([name]) => name)).toEqual(Object.keys(read(validateEnvironment({}))));
    });

    it.each(bounds)('%s accepts both bounds', (name, min, max) => {
      expect(read(validateEnvironment({ [name]: String(min) }))[name]).toBe(min);
      expect(read(validateEnvironment({ [name]: ` ${max} ` }))[name]).toBe(max);
    });

    it.each(bounds)(
      '%s refuses values below, above and between integers, naming the bounds',
      (name, min, max) => {
        for (const value of [String(min - 1), String(max + 1), '1.5', 'ten', '1e3', '0x10', '5 ms']) {
          expect(problemsOf({ [name]: value })).toEqual([
            `${name}: must be an integer between ${min} and ${max} (got "${value}")`,
          ]);
        }
      },
    );
  });

  describe('flags', () => {
    it.each([
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['yes', true],
      ['Yes', true],
      ['false', false],
      ['False', false],
      ['0', false],
      ['no', false],
      ['NO', false],
    ])('reads %s as %s', (value, expected) => {
      const config = validateEnvironment({ RATE_LIMIT_ENABLED: value, PUBLIC_DOCS_ENABLED: value });
      expect(config.rateLimit.enabled).toBe(expected);
      expect(config.publicDocsEnabled).toBe(expected);
    });

    it('refuses other words, quoting them', () => {
      expect(problemsOf({ RATE_LIMIT_ENABLED: 'on', PUBLIC_DOCS_ENABLED: 'Maybe' })).toEqual([
        'RATE_LIMIT_ENABLED: must be true or false (got "on")',
        'PUBLIC_DOCS_ENABLED: must be true or false (got "Maybe")',
      ]);
    });

    it('PUBLIC_DOCS_ENABLED can be turned on in production', () => {
      expect(validateEnvironment({ ...PRODUCTION, PUBLIC_DOCS_ENABLED: 'true' }).publicDocsEnabled).toBe(
        true,
      );
    });
  });

  describe('words', () => {
    it('refuses an unknown NODE_ENV or LOG_LEVEL (case-sensitive), listing the choices', () => {
      expect(problemsOf({ NODE_ENV: 'Production', LOG_LEVEL: 'trace' })).toEqual([
        'NODE_ENV: must be one of development, production, test (got "Production")',
        'LOG_LEVEL: must be one of error, warn, info, debug, verbose (got "trace")',
      ]);
    });
  });

  describe('lists', () => {
    it('splits AUTH_JWT_SECRET on commas for rotation, trimming and dropping empty entries', () => {
      const config = validateEnvironment({ AUTH_JWT_SECRET: ' first , second,, ' });
      expect(config.auth.jwtSecrets).toEqual(['first', 'second']);
      expect(config.auth.devBypass).toBe(false);
      expect(validateEnvironment({ AUTH_JWT_SECRET: ' , ' }).auth).toMatchObject({
        jwtSecrets: [],
        devBypass: true,
      });
    });

    it('reads CORS_ORIGINS as a list of origins, "*" meaning any origin outside production', () => {
      expect(
        validateEnvironment({ CORS_ORIGINS: 'https://app.example.com, http://localhost:3000' }).corsOrigins,
      ).toEqual(['https://app.example.com', 'http://localhost:3000']);
      expect(validateEnvironment({ CORS_ORIGINS: '*' }).corsOrigins).toBe('*');
      expect(validateEnvironment({ CORS_ORIGINS: ',' }).corsOrigins).toBe('*');
    });

    it('names every CORS_ORIGINS entry that is not an origin', () => {
      expect(
        problemsOf({ CORS_ORIGINS: 'https://ok.example.com, app.example.com, https://app.example.com/' }),
      ).toEqual([
        'CORS_ORIGINS: "app.example.com" is not an origin',
        'CORS_ORIGINS: "https://app.example.com/" is not an origin',
      ]);
      expect(problemsOf({ CORS_ORIGINS: 'ftp://files.example.com' })).toEqual([
        'CORS_ORIGINS: "ftp://files.example.com" is not an origin',
      ]);
    });

    it.each<[string, boolean | number | string[]]>([
      ['false', false],
      ['FALSE', false],
      ['true', true],
      ['0', 0],
      ['2', 2],
      ['loopback', ['loopback']],
      [
        'loopback, 10.0.0.0/8, ::1, fd00::/8, 192.168.1.10',
        ['loopback', '10.0.0.0/8', '::1', 'fd00::/8', '192.168.1.10'],
      ],
    ])('reads TRUST_PROXY=%s as Express takes it', (value, expected) => {
      expect(validateEnvironment({ TRUST_PROXY: value }).trustProxy).toEqual(expected);
    });

    it('names every TRUST_PROXY entry that is not an address, a CIDR or a proxy-addr name', () => {
      expect(
        problemsOf({
          TRUST_PROXY: 'proxy.internal, 10.0.0.1, 10.0.0.0/99, ::1/129, 10.0.0.0/0, Loopback, 10.0.0.0/8/8',
        }),
      ).toEqual(
        ['proxy.internal', '10.0.0.0/99', '::1/129', '10.0.0.0/0', 'Loopback', '10.0.0.0/8/8'].map(
          (entry) => `TRUST_PROXY: "${entry}" is not a hop count, an address or a CIDR`,
        ),
      );
    });

    it('reads METRICS_INTERNAL_CIDRS as addresses and CIDRs, IPv4 and IPv6, replacing the defaults', () => {
      expect(
        validateEnvironment({
          METRICS_INTERNAL_CIDRS: ' 10.20.0.0/16 , 192.168.1.10, ::1, fd00::/8,,100.64.0.0/10 ',
        }).metrics.internalCidrs,
      ).toEqual(['10.20.0.0/16', '192.168.1.10', '::1', 'fd00::/8', '100.64.0.0/10']);
      expect(validateEnvironment({ METRICS_INTERNAL_CIDRS: '127.0.0.1' }).metrics.internalCidrs).toEqual([
        '127.0.0.1',
      ]);
    });

    it('names every METRICS_INTERNAL_CIDRS entry that is not an address or a CIDR, proxy-addr names included', () => {
      expect(
        problemsOf({
          METRICS_INTERNAL_CIDRS:
            'x, 10.0.0.0/8, loopback, linklocal, uniquelocal, Loopback, 10.0.0.0/99, ::1/129, 10.0.0.0/8/8, 10.0.0.0/, internal.example.com, 10.0.0.0/0',
        }),
      ).toEqual(
        [
          'x',
          'loopback',
          'linklocal',
          'uniquelocal',
          'Loopback',
          '10.0.0.0/99',
          '::1/129',
          '10.0.0.0/8/8',
          '10.0.0.0/',
          'internal.example.com',
          '10.0.0.0/0',
        ].map((entry) => `METRICS_INTERNAL_CIDRS: "${entry}" is not an address or a CIDR`),
      );
      expect(problemsOf({ METRICS_INTERNAL_CIDRS: 'x' })).toEqual([
        'METRICS_INTERNAL_CIDRS: "x" is not an address or a CIDR',
      ]);
    });

    it('METRICS_INTERNAL_CIDRS is read the same in production', () => {
      expect(
        validateEnvironment({ ...PRODUCTION, METRICS_INTERNAL_CIDRS: '10.0.0.0/8' }).metrics.internalCidrs,
      ).toEqual(['10.0.0.0/8']);
      expect(problemsOf({ ...PRODUCTION, METRICS_INTERNAL_CIDRS: 'loopback' })).toEqual([
        'METRICS_INTERNAL_CIDRS: "loopback" is not an address or a CIDR',
      ]);
    });
  });

  describe('URLs', () => {
    it('accepts each URL with one of its protocols, as given', () => {
      const config = validateEnvironment({
        AUTH_JWKS_URL: 'https://ref.supabase.co/auth/v1/.well-known/jwks.json',
        DATABASE_URL: 'postgres://signalgate:secret@db:5432/signalgate',
        REDIS_URL: 'rediss://:secret@cache.example.com:6380/0',
      });
      expect(config.auth.jwksUrl).toBe('https://ref.supabase.co/auth/v1/.well-known/jwks.json');
      expect(config.databaseUrl).toBe('postgres://signalgate:secret@db:5432/signalgate');
      expect(config.redisUrl).toBe('rediss://:secret@cache.example.com:6380/0');
      expect(validateEnvironment({ DATABASE_URL: 'postgresql:///signalgate' }).databaseUrl).toBe(
        'postgresql:///signalgate',
      );
      expect(validateEnvironment({ REDIS_URL: 'redis://localhost:6379' }).redisUrl).toBe(
        'redis://localhost:6379',
      );
    });

    it('reads REDIS_PREFIX and INSTANCE_HEARTBEAT_TTL_MS, refusing what would break keys or leases', () => {
      const config = validateEnvironment({ REDIS_PREFIX: 'acme-prod:', INSTANCE_HEARTBEAT_TTL_MS: '3000' });
      expect([config.redisPrefix, config.instanceHeartbeatTtlMs]).toEqual(['acme-prod:', 3_000]);
      expect(problemsOf({ REDIS_PREFIX: 'has space', INSTANCE_HEARTBEAT_TTL_MS: '100' })).toEqual([
        'REDIS_PREFIX: letters, digits and _.:- only (at most 64)',
        expect.stringMatching(/^INSTANCE_HEARTBEAT_TTL_MS: /),
      ]);
    });

    it('refuses a URL with the wrong protocol, naming the protocols', () => {
      expect(
        problemsOf({
          AUTH_JWKS_URL: 'ftp://keys.example.com/jwks.json',
          DATABASE_URL: 'mysql://db/signalgate',
          REDIS_URL: 'http://cache:6379',
        }),
      ).toEqual([
        'AUTH_JWKS_URL: must be a http: or https: URL',
        'DATABASE_URL: must be a postgres: or postgresql: URL',
        'REDIS_URL: must be a redis: or rediss: URL',
      ]);
    });

    it('refuses text that is not a URL', () => {
      expect(problemsOf({ AUTH_JWKS_URL: 'keys.example.com/jwks.json', REDIS_URL: 'cache:6379 ' })).toEqual([
        'AUTH_JWKS_URL: is not a valid URL',
        'REDIS_URL: must be a redis: or rediss: URL',
      ]);
      expect(problemsOf({ DATABASE_URL: 'not a url' })).toEqual(['DATABASE_URL: is not a valid URL']);
    });
  });

  describe('production rules', () => {
    it('accepts a complete production environment', () => {
      expect(() => validateEnvironment(PRODUCTION)).not.toThrow();
    });

    it('with REDIS_URL (several instances) needs DATABASE_URL: SQLite cannot be shared', () => {
      expect(problemsOf({ ...PRODUCTION, REDIS_URL: 'redis://cache:6379' })).toEqual([
        'DATABASE_URL: required in production with REDIS_URL (instances share Redis, and SQLite cannot be shared between them)',
      ]);
      expect(() =>
        validateEnvironment({
          ...PRODUCTION,
          REDIS_URL: 'redis://cache:6379',
          DATABASE_URL: 'postgres://db/sg',
        }),
      ).not.toThrow();
      // Outside production a developer may try two instances on one machine's SQLite file.
      expect(() => validateEnvironment({ REDIS_URL: 'redis://cache:6379' })).not.toThrow();
    });

    it('needs at least one token key source, and any one is enough', () => {
      const { AUTH_JWT_SECRET: _secret, ...withoutKeys } = PRODUCTION;
      expect(problemsOf(withoutKeys)).toEqual([
        'AUTH_JWKS_URL, AUTH_JWT_SECRET or AUTH_PUBLIC_KEYS_FILE: production needs at least one token key source',
      ]);
      expect(() =>
        validateEnvironment({ ...withoutKeys, AUTH_PUBLIC_KEYS_FILE: './keys.json' }),
      ).not.toThrow();
      expect(() =>
        validateEnvironment({ ...withoutKeys, AUTH_JWKS_URL: 'https://ref.supabase.co/jwks.json' }),
      ).not.toThrow();
    });

    it('an invalid AUTH_JWKS_URL is no key source', () => {
      const { AUTH_JWT_SECRET: _secret, ...withoutKeys } = PRODUCTION;
      expect(problemsOf({ ...withoutKeys, AUTH_JWKS_URL: 'jwks.json' })).toEqual([
        'AUTH_JWKS_URL: is not a valid URL',
        'AUTH_JWKS_URL, AUTH_JWT_SECRET or AUTH_PUBLIC_KEYS_FILE: production needs at least one token key source',
      ]);
    });

    it('refuses a plain-http JWKS unless its host is a loopback address', () => {
      expect(problemsOf({ ...PRODUCTION, AUTH_JWKS_URL: 'http://keys.example.com/jwks.json' })).toEqual([
        'AUTH_JWKS_URL: must use https:// in production unless its host is a loopback address',
      ]);
      expect(problemsOf({ ...PRODUCTION, AUTH_JWKS_URL: 'http://10.0.0.5/jwks.json' })).toHaveLength(1);
      for (const url of [
        'http://localhost:9999/jwks',
        'http://127.0.0.1/jwks',
        'http://127.8.0.1/jwks',
        'http://[::1]/jwks',
      ]) {
        expect(validateEnvironment({ ...PRODUCTION, AUTH_JWKS_URL: url }).auth.jwksUrl).toBe(url);
      }
      // Outside production a remote plain-http JWKS is allowed (a local identity server).
      expect(validateEnvironment({ AUTH_JWKS_URL: 'http://keys.example.com/jwks' }).auth.jwksUrl).toBe(
        'http://keys.example.com/jwks',
      );
    });

    it('needs every AUTH_JWT_SECRET to be at least 32 characters, once per variable', () => {
      expect(problemsOf({ ...PRODUCTION, AUTH_JWT_SECRET: `${'a'.repeat(32)},short,tiny` })).toEqual([
        'AUTH_JWT_SECRET: each secret must be at least 32 characters in production',
      ]);
      expect(validateEnvironment({ AUTH_JWT_SECRET: 'short' }).auth.jwtSecrets).toEqual(['short']);
    });

    it('needs TICKET_SECRET, and at least 32 characters of it in every environment', () => {
      expect(problemsOf({ ...PRODUCTION, TICKET_SECRET: undefined })).toEqual([
        'TICKET_SECRET: required in production',
      ]);
      // Too short is reported once, not also as missing.
      expect(problemsOf({ ...PRODUCTION, TICKET_SECRET: 'short' })).toEqual([
        'TICKET_SECRET: must be at least 32 characters',
      ]);
      expect(problemsOf({ TICKET_SECRET: 'short' })).toEqual([
        'TICKET_SECRET: must be at least 32 characters',
      ]);
    });

    it('needs CORS_ORIGINS, and refuses "*"', () => {
      expect(problemsOf({ ...PRODUCTION, CORS_ORIGINS: undefined })).toEqual([
        'CORS_ORIGINS: required in production (comma-separated origins)',
      ]);
      expect(problemsOf({ ...PRODUCTION, CORS_ORIGINS: ' , ' })).toEqual([
        'CORS_ORIGINS: required in production (comma-separated origins)',
      ]);
      expect(problemsOf({ ...PRODUCTION, CORS_ORIGINS: 'https://app.example.com,*' })).toEqual([
        'CORS_ORIGINS: "*" is not allowed in production; list the origins',
      ]);
      // A bad entry is reported once, not also as missing.
      expect(problemsOf({ ...PRODUCTION, CORS_ORIGINS: 'app.example.com' })).toEqual([
        'CORS_ORIGINS: "app.example.com" is not an origin',
      ]);
    });

    it('refuses TRUST_PROXY=true, and accepts a hop count or addresses', () => {
      expect(problemsOf({ ...PRODUCTION, TRUST_PROXY: 'TRUE' })).toEqual([TRUST_PROXY_TRUE]);
      expect(validateEnvironment({ ...PRODUCTION, TRUST_PROXY: '1' }).trustProxy).toBe(1);
      expect(validateEnvironment({ ...PRODUCTION, TRUST_PROXY: '10.0.0.0/8' }).trustProxy).toEqual([
        '10.0.0.0/8',
      ]);
    });

    it('an invalid NODE_ENV is reported, not taken for production', () => {
      expect(problemsOf({ NODE_ENV: 'prod' })).toEqual([
        'NODE_ENV: must be one of development, production, test (got "prod")',
      ]);
    });
  });

  describe('reporting', () => {
    it('reports every problem at once in one error whose message lists each', () => {
      let error: unknown;
      try {
        validateEnvironment({
          NODE_ENV: 'production',
          PORT: '70000',
          RATE_LIMIT_ENABLED: 'maybe',
          REDIS_URL: 'http://cache',
          TRUST_PROXY: 'true',
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigValidationError);
      const { problems, message, name } = error as ConfigValidationError;
      expect(name).toBe('ConfigValidationError');
      expect([...problems].sort()).toEqual(
        [
          'PORT: must be an integer between 0 and 65535 (got "70000")',
          'RATE_LIMIT_ENABLED: must be true or false (got "maybe")',
          'REDIS_URL: must be a redis: or rediss: URL',
          'AUTH_JWKS_URL, AUTH_JWT_SECRET or AUTH_PUBLIC_KEYS_FILE: production needs at least one token key source',
          'TICKET_SECRET: required in production',
          'CORS_ORIGINS: required in production (comma-separated origins)',
          TRUST_PROXY_TRUE,
        ].sort(),
      );
      expect(message).toBe(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    });

    it('names the variable first in every problem, in the order of .env.example', () => {
      const problems = problemsOf({ PORT: '-1', LOG_LEVEL: 'loud', DATABASE_URL: 'x', TRUST_PROXY: 'a,b' });
      expect(problems.map((p) => p.split(':')[0])).toEqual([
        'PORT',
        'LOG_LEVEL',
        'TRUST_PROXY',
        'TRUST_PROXY',
        'DATABASE_URL',
      ]);
    });

    it('orders the metrics variables as .env.example does, whatever order they arrive in', () => {
      const problems = problemsOf({
        METRICS_FAILURE_COOLDOWN_MS: '999',
        METRICS_FAILURE_LIMIT: '0',
        METRICS_INTERNAL_CIDRS: 'x',
        RATE_LIMIT_METRICS_MAX: '0',
      });
      expect(problems).toEqual([
        'RATE_LIMIT_METRICS_MAX: must be an integer between 1 and 1000000 (got "0")',
        'METRICS_INTERNAL_CIDRS: "x" is not an address or a CIDR',
        'METRICS_FAILURE_LIMIT: must be an integer between 1 and 10000 (got "0")',
        'METRICS_FAILURE_COOLDOWN_MS: must be an integer between 1000 and 86400000 (got "999")',
      ]);
    });
  });

  describe('empty values', () => {
    const everyVariable = [
      'PORT',
      'HOST',
      'NODE_ENV',
      'LOG_LEVEL',
      'AUTH_JWKS_URL',
      'AUTH_JWT_SECRET',
      'AUTH_PUBLIC_KEYS_FILE',
      'AUTH_ISSUER',
      'AUTH_AUDIENCE',
      'AUTH_CLOCK_TOLERANCE_S',
      'AUTH_EXPIRY_GRACE_MS',
      'AUTH_JWKS_TIMEOUT_MS',
      'AUTH_JWKS_COOLDOWN_MS',
      'TICKET_SECRET',
      'AGENTS_FILE',
      'AGENT_DISCONNECT_GRACE_MS',
      'CALL_RECONNECT_GRACE_MS',
      'AGENT_STALE_MS',
      'CORS_ORIGINS',
      'TRUST_PROXY',
      'DATABASE_URL',
      'SQLITE_PATH',
      'REDIS_URL',
      'RATE_LIMIT_ENABLED',
      'RATE_LIMIT_WINDOW_MS',
      'RATE_LIMIT_HTTP_MAX',
      'RATE_LIMIT_METRICS_MAX',
      'RATE_LIMIT_LOGIN_MAX',
      'RATE_LIMIT_LOGIN_AGENT_MAX',
      'CALL_LOG_RETENTION_DAYS',
      'CALL_LOG_SPILL_PATH',
      'METRICS_API_KEYS',
      'METRICS_API_KEY',
      'METRICS_INTERNAL_CIDRS',
      'METRICS_FAILURE_LIMIT',
      'METRICS_FAILURE_COOLDOWN_MS',
      'PUBLIC_DOCS_ENABLED',
    ];

    it.each(['', '   '])('treat %j as unset for every variable (as .env.example leaves them)', (blank) => {
      const env = Object.fromEntries(everyVariable.map((name) => [name, blank]));
      expect({ ...validateEnvironment(env) }).toEqual({ ...validateEnvironment({}) });
    });

    it('an empty AUTH_JWT_SECRET is no secret', () => {
      expect(validateEnvironment({ AUTH_JWT_SECRET: '' }).auth).toMatchObject({
        jwtSecrets: [],
        devBypass: true,
      });
    });

    it('an empty required production variable is missing', () => {
      expect(
        problemsOf({ ...PRODUCTION, AUTH_JWT_SECRET: '', TICKET_SECRET: ' ', CORS_ORIGINS: '' }),
      ).toEqual([
        'AUTH_JWKS_URL, AUTH_JWT_SECRET or AUTH_PUBLIC_KEYS_FILE: production needs at least one token key source',
        'TICKET_SECRET: required in production',
        'CORS_ORIGINS: required in production (comma-separated origins)',
      ]);
    });
  });
});
