import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AGENTS_FILE } from './helpers/app';
import { onPath, runWithInput } from './helpers/exposition';
import { TEST_HS256_SECRET } from './helpers/keys';
import { ServerProcess, spawnServer } from './helpers/process';

/** The scrape job of the README's "Scraping it", with `__TARGET__` and `__CREDENTIALS_FILE__` to fill. */
const SCRAPE_JOB = readFileSync(join(__dirname, 'fixtures', 'prometheus-scrape-job.yml'), 'utf8');
const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
const PROMETHEUS = onPath('prometheus');
const PROMTOOL = onPath('promtool');
const METRICS_KEY = 'prometheus-e2e-key-0123456789abcd';
/**
 * Prometheus hands new targets to its scrapers within 5 s, and a 15 s job's first scrape comes at an
 * offset within its interval: allow both, and its start.
 */
const TARGET_DEADLINE_MS = 28_000;

interface Target {
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  scrapeUrl: string;
}

function scrapeJob(target: string, credentialsFile: string): string {
  return SCRAPE_JOB.replace('__TARGET__', target).replace('__CREDENTIALS_FILE__', credentialsFile);
}

/** A port nobody listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Exits (or is killed after 10 s); resolves either way. */
function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

describe("the README's scrape job", () => {
  it("is the fixture the Prometheus test runs, with the README's target and key file", () => {
    const inReadme = scrapeJob('signalgate.internal:3000', '/etc/prometheus/signalgate-metrics.key');
    expect(README).toContain('```yaml\n' + inReadme + '```');
    expect(SCRAPE_JOB).toContain('type: Bearer');
    expect(SCRAPE_JOB).toContain('credentials_file: __CREDENTIALS_FILE__');
  });
});

describe("the README's alert rules", () => {
  const rules = /```yaml\n(groups:[\s\S]*?)```/.exec(README)?.[1];

  it('are in the README, on the auth-attempt and agents-online series', () => {
    expect(rules).toContain('signalgate_auth_attempts_total{outcome="failure"}');
    expect(rules).toContain('signalgate_agents_online{status=~"idle|in_call"}');
  });

  if (!PROMTOOL) {
    process.stderr.write(
      'WARNING: alert rules not checked: `promtool` is not on PATH (.ci/run installs it)\n',
    );
    // A real skip, so the totals count it as skipped: the reason is in its title.
    it.skip('pass `promtool check rules` (skipped: promtool is not on PATH)', () => undefined);
    return;
  }

  it('pass `promtool check rules`', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'signalgate-rules-'));
    try {
      const file = join(dir, 'signalgate.rules.yml');
      writeFileSync(file, rules!);
      const { code, output } = await runWithInput(PROMTOOL, ['check', 'rules', file], '');
      expect({ code, output }).toEqual({
        code: 0,
        output: expect.stringContaining('SUCCESS: 2 rules found'),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Prometheus scrapes a production server with the README job', () => {
  if (!PROMETHEUS) {
    process.stderr.write(
      'WARNING: Prometheus scrape test not run: `prometheus` is not on PATH ' +
        "(Debian's `prometheus` package provides it; .ci/run installs it)\n",
    );
    // A real skip, so the totals count it as skipped: the reason is in its title.
    it.skip('scrapes with the README job (skipped: prometheus is not on PATH)', () => undefined);
    return;
  }

  let dir: string;
  let server: ServerProcess;
  let prometheus: ChildProcess;
  let prometheusOutput = '';
  let prometheusUrl: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signalgate-prometheus-'));
    server = spawnServer({
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: '0',
      AUTH_JWT_SECRET: TEST_HS256_SECRET,
      TICKET_SECRET: 'prometheus-e2e-ticket-secret-0123456789abcdef',
      CORS_ORIGINS: 'https://dashboard.example.com',
      AGENTS_FILE,
      SQLITE_PATH: join(dir, 'signalgate.db'),
      METRICS_API_KEYS: METRICS_KEY,
    });
    const target = new URL(await server.listening()).host;

    // The key as an operator writes it (`echo KEY > file`), and a wrong one for a second job.
    const keyFile = join(dir, 'signalgate-metrics.key');
    const wrongKeyFile = join(dir, 'wrong-metrics.key');
    writeFileSync(keyFile, `${METRICS_KEY}\n`, { mode: 0o600 });
    writeFileSync(wrongKeyFile, 'not-the-metrics-key-0123456789abcd\n', { mode: 0o600 });
    const job = scrapeJob(target, keyFile);
    const wrongJob = scrapeJob(target, wrongKeyFile)
      .replace('scrape_configs:\n', '')
      .replace('job_name: signalgate\n', 'job_name: signalgate-wrong-key\n');
    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, `global:\n  scrape_interval: 1s\n\n${job}${wrongJob}`);

    const listen = `127.0.0.1:${await freePort()}`;
    prometheusUrl = `http://${listen}`;
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'tsdb')}`,
        `--web.listen-address=${listen}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusOutput += chunk.toString()));
    prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusOutput += chunk.toString()));
  }, 40_000);

  afterAll(async () => {
    if (prometheus) await stop(prometheus);
    if (server) await stop(server.child);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  /** Polls the targets API until both jobs have been scraped at least once. */
  async function scrapedTargets(): Promise<Map<string, Target>> {
    const deadline = Date.now() + TARGET_DEADLINE_MS;
    let last = new Map<string, Target>();
    while (Date.now() < deadline) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited:\n${prometheusOutput}`);
      try {
        const body = await getJson<{ data: { activeTargets: Target[] } }>(`${prometheusUrl}/api/v1/targets`);
        last = new Map(body.data.activeTargets.map((target) => [target.labels.job, target]));
        const jobs = ['signalgate', 'signalgate-wrong-key'].map((job) => last.get(job));
        if (jobs.every((target) => target && target.health !== 'unknown')) return last;
      } catch {
        // Prometheus is still starting.
      }
      await sleep(250);
    }
    throw new Error(
      `targets not scraped within ${TARGET_DEADLINE_MS} ms: ${JSON.stringify([...last.values()])}\n` +
        `prometheus:\n${prometheusOutput}\nserver:\n${server.output()}`,
    );
  }

  it('the right key: target up and signalgate_sockets_connected queryable; a wrong key: down with 403', async () => {
    const targets = await scrapedTargets();
    const up = targets.get('signalgate')!;
    const down = targets.get('signalgate-wrong-key')!;
    // Printed so that a CI log shows what Prometheus saw.
    process.stdout.write(
      `prometheus targets: ${JSON.stringify([up, down].map(({ labels, health, lastError, scrapeUrl }) => ({ job: labels.job, health, lastError, scrapeUrl })))}\n`,
    );
    expect(up).toMatchObject({ health: 'up', lastError: '' });
    expect(down.health).toBe('down');
    expect(down.lastError).toMatch(/40[13]/);

    const query = await getJson<{
      status: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    }>(`${prometheusUrl}/api/v1/query?query=signalgate_sockets_connected`);
    expect(query.status).toBe('success');
    expect(query.data.result).toEqual([
      {
        metric: expect.objectContaining({ __name__: 'signalgate_sockets_connected', job: 'signalgate' }),
        value: [expect.any(Number), '0'],
      },
    ]);
    // A counter arrives under its full name whichever format Prometheus negotiated.
    const scrapes = await getJson<{ data: { result: { metric: Record<string, string> }[] } }>(
      `${prometheusUrl}/api/v1/query?query=signalgate_metrics_scrapes_total`,
    );
    expect(scrapes.data.result.map((result) => result.metric.outcome).sort()).toEqual(
      expect.arrayContaining(['success']),
    );
  }, 35_000);
});
