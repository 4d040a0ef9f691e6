/**
 * `npm run cluster`: two signalgate instances on this machine sharing local Redis and Postgres,
 * behind a tiny round-robin TCP proxy — a load balancer in miniature — so that a newcomer can watch
 * a call cross instances: `npm run demo -- http://127.0.0.1:3000` in another terminal puts the
 * agent and the visitor on different instances (each new connection goes to the next instance).
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run cluster
 *
 * Variables: DATABASE_URL (required: SQLite cannot be shared), REDIS_URL (default
 * redis://127.0.0.1:6379), PORT (the proxy, default 3000; the instances take the next two ports),
 * INSTANCES (default 2). Everything else is passed through to the instances. Ctrl-C stops the
 * proxy and sends SIGTERM to each instance, which shuts down gracefully.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer, Socket } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const proxyPort = Number(process.env.PORT ?? 3000);
const count = Number(process.env.INSTANCES ?? 2);
const databaseUrl = process.env.DATABASE_URL;
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

if (!databaseUrl) {
  process.stderr.write(
    'cluster: DATABASE_URL is required (instances share the directory and the audit trail; SQLite cannot be shared).\n' +
      '  e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npm run cluster\n',
  );
  process.exit(1);
}

const ports = Array.from({ length: count }, (_, i) => proxyPort + 1 + i);
const children: ChildProcess[] = ports.map((port, i) => {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'main.js')], {
    cwd: ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      // One shared ticket secret: a ticket issued by one instance is redeemed by another.
      TICKET_SECRET: process.env.TICKET_SECRET ?? 'signalgate-cluster-demo-ticket-secret-0123456789',
      AUDIT_SPILL_PATH: join(ROOT, 'data', `cluster-${i + 1}-audit-spill.ndjson`),
      CALL_LOG_SPILL_PATH: join(ROOT, 'data', `cluster-${i + 1}-call-log-spill.ndjson`),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const label = `[instance ${i + 1} :${port}] `;
  const prefix = (chunk: Buffer): string =>
    chunk
      .toString()
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => label + line + '\n')
      .join('');
  child.stdout!.on('data', (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.once('exit', (code, signal) => {
    process.stdout.write(`${label}exited (${signal ?? code})\n`);
    if (!stopping) stop(1);
  });
  return child;
});

// Round robin per TCP connection: a WebSocket is one connection, so each socket stays on the
// instance it reached (HTTP long-polling would need sticky sessions; the demo uses WebSocket).
let nextTarget = 0;
const proxy = createServer((client: Socket) => {
  const port = ports[nextTarget++ % ports.length];
  const upstream = createConnection({ host: '127.0.0.1', port });
  client.pipe(upstream).pipe(client);
  const close = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
});
proxy.listen(proxyPort, '127.0.0.1', () => {
  process.stdout.write(
    `cluster: proxy on http://127.0.0.1:${proxyPort} → instances on ${ports.map((p) => `:${p}`).join(', ')}\n` +
      `cluster: try \`npm run demo -- http://127.0.0.1:${proxyPort}\` in another terminal\n`,
  );
});

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  proxy.close();
  const alive = children.filter((child) => child.exitCode === null && child.signalCode === null);
  for (const child of alive) child.kill('SIGTERM');
  void Promise.all(alive.map((child) => new Promise((resolve) => child.once('exit', resolve)))).then(() =>
    process.exit(code),
  );
}
process.once('SIGINT', () => stop(0));
process.once('SIGTERM', () => stop(0));
