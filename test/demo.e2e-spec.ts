import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startApp, TestApp } from './helpers/app';
import { TEST_HS256_SECRET } from './helpers/keys';

const ROOT = join(__dirname, '..');

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `npm run demo` as a newcomer runs it: scripts/demo.ts through ts-node in its own process, with
 * only the given environment (nothing of the test runner's leaks in but PATH).
 */
function runDemo(args: string[], env: Record<string, string> = {}): Promise<DemoRun> {
  const child = spawn(
    join(ROOT, 'node_modules', '.bin', 'ts-node'),
    ['--transpile-only', 'scripts/demo.ts', ...args],
    { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the demo did not exit within 15 s; stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A loopback port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A step line: `<ms since previous> ms <ms since start> ms  ✓ <text>`. */
const stepLine = (text: string): RegExp => new RegExp(`^ *\\d+ ms +\\d+ ms  ✓ ${text}$`, 'm');

describe('npm run demo (e2e)', () => {
  let app: TestApp;

  // The example directory (config/agents.example.json) and an HS256 secret, as startApp defaults.
  beforeAll(async () => {
    app = await startApp();
  });
  afterAll(() => app.close());

  it('walks a whole call against a running server, one line per step, and exits 0', async () => {
    const run = await runDemo([app.url], { AUTH_JWT_SECRET: TEST_HS256_SECRET });

    expect(run).toMatchObject({ code: 0, stderr: '' });
    const expected = [
      'agent socket connected',
      'agent agent_ann logged in as Ann \\(status away\\)',
      'agent agent_ann is available \\(status idle\\)',
      'visitor socket connected',
      'visitor \\S+ joined org_acme on https://www\\.acme\\.example/pricing',
      'visitor assigned to Ann \\(agent_ann\\)',
      'visitor requested a call with agent_ann \\(requestId \\S+\\)',
      'agent agent_ann is ringing \\(call:incoming from \\S+\\)',
      'agent accepted the call \\(callId \\S+\\)',
      'visitor got call:accepted, agent got call:started \\(reconnect tokens of 64 and 64 chars, not shown\\)',
      'agent sent a fake offer \\(sdp \\d+ chars\\)',
      'visitor received the offer from agent_ann \\(sdp \\d+ chars\\)',
      'visitor sent a fake answer \\(sdp \\d+ chars\\)',
      'agent received the answer from \\S+ \\(sdp \\d+ chars\\)',
      'agent ended the call',
      'both parties got call:ended \\(reason agent_ended\\)',
      'visitor \\S+ left',
      'agent agent_ann logged out',
      'sockets disconnected',
    ];
    // Every step, in order.
    let from = 0;
    for (const text of expected) {
      const match = stepLine(text).exec(run.stdout.slice(from));
      expect({ step: text, found: match !== null }).toEqual({ step: text, found: true });
      from += match!.index + match![0].length;
    }
    expect(run.stdout).toMatch(/^✓ full call in \d+ ms \(call:request → call:ended\), demo took \d+ ms$/m);
    expect(run.stdout).toContain('token minted with AUTH_JWT_SECRET');
    // The ids printed are the server's own.
    const callId = /agent accepted the call \(callId (\S+)\)/.exec(run.stdout)![1];
    expect(callId).toMatch(/^call_/);

    // Never a token, a reconnect token, the secret or the SDP; no colour when not a terminal.
    expect(run.stdout).not.toMatch(/[0-9a-f]{64}/i);
    expect(run.stdout).not.toMatch(/eyJ[\w-]+\.[\w-]+/);
    expect(run.stdout).not.toContain(TEST_HS256_SECRET);
    expect(run.stdout).not.toContain('v=0');
    expect(run.stdout).not.toContain('\x1b[');

    // It really was this server, and the agent really authenticated with a verified token.
    expect(app.events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          type: 'auth.login',
          outcome: 'success',
          method: 'hs256',
          actor: expect.objectContaining({ agentId: 'agent_ann' }),
        }),
        expect.objectContaining({
          type: 'auth.logout',
          actor: expect.objectContaining({ agentId: 'agent_ann' }),
        }),
      ]),
    );
  });

  it('names the failed step, the server code and what to do when the token is refused (exit 1)', async () => {
    const run = await runDemo([app.url]);

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(stepLine('agent socket connected'));
    expect(run.stdout).toMatch(/^✗ step "agent:login" failed .*AUTH_INVALID_TOKEN/m);
    expect(run.stdout).toMatch(/hint: .*--token.*AUTH_JWT_SECRET/);
    expect(run.stdout).not.toContain('✓ full call');
  });

  it('says to start the server when nothing listens at the URL (exit 1)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const run = await runDemo([url], { AUTH_JWT_SECRET: TEST_HS256_SECRET });

    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /^✗ step "connect the agent socket" failed .*cannot connect to http:\/\/127\.0\.0\.1:\d+/m,
    );
    expect(run.stdout).toContain(`hint: is signalgate running at ${url}? start it with "npm start"`);
    expect(run.stdout).not.toMatch(/✓/);
  });
});
