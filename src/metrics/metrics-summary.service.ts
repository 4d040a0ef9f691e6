import { Injectable } from '@nestjs/common';
import { MetricValue, Registry } from 'prom-client';
import { METRIC_PREFIX } from './metrics-registry';

export interface MetricsSummaryBody {
  timestamp: string;
  connections: { agents: number; onlineAgents: number; visitors: number; sockets: number };
  calls: { active: number; pending: number };
  memory: { rss: number; heapUsed: number; heapTotal: number; external: number };
  uptime: number;
}

/** Agent statuses that count as online: working, whether free or in a call. */
const ONLINE_STATUSES: ReadonlySet<string> = new Set(['idle', 'in_call', 'in_simulation']);

/**
 * The JSON summary of `GET /metrics` (PROTOCOL §4), read from the same gauges Prometheus scrapes —
 * which the feature modules register — so the two never disagree and this module knows no feature.
 */
@Injectable()
export class MetricsSummary {
  constructor(private readonly registry: Registry) {}

  async read(): Promise<MetricsSummaryBody> {
    const agents = await this.samples('agents_online');
    const memory = process.memoryUsage();
    return {
      timestamp: new Date().toISOString(),
      connections: {
        agents: sum(agents),
        onlineAgents: sum(agents.filter((sample) => ONLINE_STATUSES.has(String(sample.labels.status)))),
        visitors: sum(await this.samples('visitors_connected')),
        sockets: sum(await this.samples('sockets_connected')),
      },
      calls: {
        active: sum(await this.samples('calls_active')),
        pending: sum(await this.samples('calls_pending')),
      },
      memory: {
        rss: memory.rss,
        heapUsed: memory.heapUsed,
        heapTotal: memory.heapTotal,
        external: memory.external,
      },
      uptime: Math.round(process.uptime()),
    };
  }

  /** The current samples of a gauge (its collect callback runs), none when it is not registered. */
  private async samples(name: string): Promise<MetricValue<string>[]> {
    const metric = this.registry.getSingleMetric(`${METRIC_PREFIX}${name}`);
    return metric ? (await metric.get()).values : [];
  }
}

function sum(samples: readonly { value: number }[]): number {
  return samples.reduce((total, sample) => total + sample.value, 0);
}
