import { collectDefaultMetrics, Metric, OpenMetricsContentType, Registry } from 'prom-client';

/** Every series signalgate exposes starts with this. */
export const METRIC_PREFIX = 'signalgate_';

/**
 * prom-client's default gauges that are sums of the per-type gauges beside them and are named
 * `..._total`, which Prometheus reserves for counters (`promtool check metrics` rejects them).
 * The per-type gauges stay: `sum(signalgate_nodejs_active_handles)` gives the same number.
 */
const MISNAMED_DEFAULT_GAUGES = ['active_handles_total', 'active_requests_total', 'active_resources_total'];

/**
 * The registry every instrument is registered in: its own, never prom-client's global one, so that
 * two apps in one process (tests) do not share series. Default process metrics included.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(`${METRIC_PREFIX}nodejs_${name}`);
  return registry;
}

/**
 * The registry's series in the OpenMetrics text format. prom-client formats one content type per
 * registry and, asked for OpenMetrics, renames counters in place; so the shared registry's data is
 * copied into a throw-away OpenMetrics registry, which formats it, leaving the shared one untouched.
 */
export async function openMetricsText(registry: Registry): Promise<string> {
  const formatter = new Registry<OpenMetricsContentType>();
  formatter.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const data of await registry.getMetricsAsJSON()) {
    // A read-only family: prom-client renames it (a counter's `_total` moves to its samples).
    const family = {
      name: data.name,
      type: data.type,
      help: data.help,
      get: () => Promise.resolve({ ...data, name: family.name }),
    };
    formatter.registerMetric(family as unknown as Metric);
  }
  return formatter.metrics();
}
