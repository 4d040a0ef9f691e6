import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { AccessDeclarationChecker } from '../src/common/access/access-declaration.checker';
import { startApp, TestApp } from './helpers/app';
import { fixtures } from './helpers/directory-fixtures';
import { hostile, mintHs256 } from './helpers/keys';

interface Operation {
  operationId: string;
  security?: Record<string, string[]>[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
  'x-required-roles'?: string[];
}

interface OpenApiDocument {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, unknown>; schemas: Record<string, unknown> };
}

interface DocumentedOperation extends Operation {
  path: string;
  method: string;
}

const ERROR_BODY = '#/components/schemas/ErrorBodyDto';
const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
  version: string;
};

function operationsOf(document: OpenApiDocument): DocumentedOperation[] {
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ ...operation, path, method })),
  );
}

/** `AuthController.wsTicket (POST route)` → the operationId and verb Swagger gives that handler. */
function expectedOperation(name: string): { operationId: string; method: string } {
  const match = /^(\w+)\.(\w+) \((\w+) route\)$/.exec(name);
  if (!match) throw new Error(`unexpected handler name ${name}`);
  return { operationId: `${match[1]}_${match[2]}`, method: match[3].toLowerCase() };
}

describe('OpenAPI with PUBLIC_DOCS_ENABLED=true', () => {
  let testApp: TestApp;
  let document: OpenApiDocument;
  beforeAll(async () => {
    testApp = await startApp({ PUBLIC_DOCS_ENABLED: 'true' });
    const res = await request(testApp.app.getHttpServer()).get('/docs-json');
    expect(res.status).toBe(200);
    document = res.body as OpenApiDocument;
  });
  afterAll(() => testApp.close());

  it('serves the UI at /docs with its assets, under a CSP that lets it load', async () => {
    const http = request(testApp.app.getHttpServer());
    const page = await http.get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.text).toContain('swagger-ui');
    const csp = page.headers['content-security-policy'];
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('upgrade-insecure-requests');
    // Only the docs are exempt from upgrade-insecure-requests.
    expect((await http.get('/health')).headers['content-security-policy']).toContain(
      'upgrade-insecure-requests',
    );
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui-init.js', 'swagger-ui.css']) {
      const res = await http.get(`/docs/${asset}`);
      expect({ asset, status: res.status }).toEqual({ asset, status: 200 });
    }
  });

  it('/docs-json is an OpenAPI 3 document of signalgate with the bearer scheme', () => {
    expect(document.openapi).toMatch(/^3\.\d+\.\d+$/);
    expect(document.info).toMatchObject({ title: 'signalgate', version });
    expect(document.components.securitySchemes.bearer).toEqual(
      expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    );
    expect(Object.keys(document.paths)).toEqual(
      expect.arrayContaining(['/health', '/live', '/ready', '/auth/ws-ticket']),
    );
  });

  it('documents every HTTP route the app maps, each with the auth requirement of its decorator', () => {
    const handlers = testApp.app
      .get(AccessDeclarationChecker)
      .enumerate()
      .filter((handler) => handler.transport === 'http');
    const operations = operationsOf(document);
    expect(handlers.length).toBeGreaterThanOrEqual(4);
    expect(operations).toHaveLength(handlers.length);

    for (const handler of handlers) {
      const { operationId, method } = expectedOperation(handler.name);
      const operation = operations.find((op) => op.operationId === operationId);
      expect({ handler: handler.name, method: operation?.method }).toEqual({ handler: handler.name, method });
      // Every access decorator states its requirement; none is left implied by absence.
      expect({ handler: handler.name, security: operation!.security }).toEqual({
        handler: handler.name,
        security: expect.any(Array),
      });
      if (handler.kinds[0] === 'public') {
        expect({ handler: handler.name, security: operation!.security }).toEqual({
          handler: handler.name,
          security: [],
        });
      }
      if (handler.kinds[0] === 'admin') {
        const { security, responses } = operation!;
        expect({ handler: handler.name, security }).toEqual({
          handler: handler.name,
          security: [{ bearer: [] }],
        });
        // Errors are JSON even on a route that produces CSV or NDJSON.
        for (const status of ['401', '403']) {
          expect({ handler: handler.name, status, content: responses[status]?.content }).toEqual({
            handler: handler.name,
            status,
            content: { 'application/json': { schema: { $ref: ERROR_BODY } } },
          });
        }
        expect(operation!['x-required-roles']).toEqual(expect.arrayContaining([expect.any(String)]));
      }
    }
  });

  it('documents the responses of the health probes and of the ticket exchange', () => {
    const ready = document.paths['/ready'].get;
    expect(Object.keys(ready.responses).sort()).toEqual(['200', '503']);
    expect(document.paths['/health'].get.responses['200']).toBeDefined();
    expect(document.paths['/live'].get.responses['200']).toBeDefined();

    const ticket = document.paths['/auth/ws-ticket'].post;
    expect(ticket['x-required-roles']).toEqual(['agent']);
    expect(Object.keys(ticket.responses)).toEqual(expect.arrayContaining(['200', '401', '403', '429']));
    expect(ticket.responses['200'].content?.['application/json']?.schema).toEqual({
      $ref: '#/components/schemas/WsTicketResponseDto',
    });
    expect(document.components.schemas.WsTicketResponseDto).toMatchObject({
      properties: { ticket: { type: 'string' }, expiresIn: { type: 'number' } },
      required: ['ticket', 'expiresIn'],
    });
    expect(document.components.schemas.ErrorBodyDto).toMatchObject({
      required: ['statusCode', 'error', 'code'],
    });
  });
});

describe('OpenAPI with PUBLIC_DOCS_ENABLED=false: auditors and above only', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await startApp({ PUBLIC_DOCS_ENABLED: 'false' });
  });
  afterAll(() => testApp.close());

  const bearer = async (sub: string): Promise<string> => `Bearer ${await mintHs256({ sub })}`;
  // Express routes case-insensitively and ignores a trailing slash: every spelling is guarded.
  const docsPaths = [
    '/docs',
    '/docs/',
    '/docs/index.html',
    '/docs-json',
    '/docs-yaml',
    '/docs/swagger-ui-init.js',
    '/docs/swagger-ui-bundle.js',
    '/DOCS-JSON',
    '/Docs/',
    '/docs-json/',
  ];

  it('401 AUTH_REQUIRED with WWW-Authenticate: Bearer without a token, on every docs path', async () => {
    const http = request(testApp.app.getHttpServer());
    for (const path of docsPaths) {
      const res = await http.get(path);
      expect({
        path,
        status: res.status,
        body: res.body,
        challenge: res.headers['www-authenticate'],
      }).toEqual({
        path,
        status: 401,
        body: { statusCode: 401, error: expect.any(String), code: 'AUTH_REQUIRED' },
        challenge: 'Bearer',
      });
    }
    expect(testApp.events).toContainEqual(
      expect.objectContaining({ type: 'auth.required', reason: 'missing_token', target: 'GET /docs-json' }),
    );
  });

  it('401 for a bad or expired token', async () => {
    const http = request(testApp.app.getHttpServer());
    const garbage = await http.get('/docs-json').set('Authorization', `Bearer ${hostile.garbage}`);
    expect(garbage.status).toBe(401);
    expect(garbage.body).toEqual({ statusCode: 401, error: expect.any(String), code: 'AUTH_INVALID_TOKEN' });
    expect(garbage.headers['www-authenticate']).toBe('Bearer');
    const expired = await mintHs256({
      sub: fixtures.auditor.userId,
      exp: Math.floor(Date.now() / 1000) - 60,
    });
    const expiredRes = await http.get('/docs').set('Authorization', `Bearer ${expired}`);
    expect([expiredRes.status, expiredRes.body.code]).toEqual([401, 'AUTH_EXPIRED']);
  });

  it('403 FORBIDDEN for an agent, whatever role its token claims', async () => {
    const http = request(testApp.app.getHttpServer());
    const token = await mintHs256({ sub: fixtures.agent.userId, role: 'platform_admin' });
    for (const path of ['/docs', '/docs-json', '/docs/swagger-ui-init.js']) {
      const res = await http.get(path).set('Authorization', `Bearer ${token}`);
      expect({ path, status: res.status, body: res.body }).toEqual({
        path,
        status: 403,
        body: { statusCode: 403, error: expect.any(String), code: 'FORBIDDEN' },
      });
    }
    expect(testApp.events).toContainEqual(
      expect.objectContaining({
        type: 'auth.forbidden',
        reason: 'insufficient_role',
        target: 'GET /docs-json',
        actor: expect.objectContaining({ userId: fixtures.agent.userId, role: 'agent' }),
      }),
    );
  });

  it('serves the UI and the document to an auditor, an admin and a platform admin', async () => {
    const http = request(testApp.app.getHttpServer());
    const auditor = await bearer(fixtures.auditor.userId);
    const page = await http.get('/docs').set('Authorization', auditor);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const asset = await http.get('/docs/swagger-ui-init.js').set('Authorization', auditor);
    expect(asset.status).toBe(200);

    for (const user of [fixtures.auditor, fixtures.admin, fixtures.platformAdmin]) {
      const res = await http.get('/docs-json').set('Authorization', await bearer(user.userId));
      expect({ role: user.role, status: res.status }).toEqual({ role: user.role, status: 200 });
      expect(res.body.openapi).toMatch(/^3\./);
      expect(res.body.paths['/auth/ws-ticket']).toBeDefined();
    }
  });

  it('leaves every other route alone', async () => {
    const http = request(testApp.app.getHttpServer());
    expect((await http.get('/health')).status).toBe(200);
    expect((await http.get('/documentation')).status).toBe(404);
  });
});
