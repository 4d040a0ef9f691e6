import type { AuditRecord } from './audit-record';
import { AuditFilter, AuditStore, AuditSummary, ChainAnchor } from './audit.store';

/** For fast unit tests; integration and e2e tests use the real database. Same semantics as KyselyAuditStore. */
export class InMemoryAuditStore extends AuditStore {
  private readonly records = new Map<string, AuditRecord>();
  private readonly anchors = new Map<string, ChainAnchor>();

  migrate(): Promise<void> {
    return Promise.resolve();
  }

  append(records: readonly AuditRecord[]): Promise<number> {
    let inserted = 0;
    for (const record of records) {
      if (this.records.has(record.id)) continue;
      this.records.set(record.id, structuredClone(record));
      inserted += 1;
    }
    return Promise.resolve(inserted);
  }

  list(filter: AuditFilter, limit: number, before?: string): Promise<AuditRecord[]> {
    const matching = this.matching(filter)
      .filter((record) => before === undefined || record.id < before)
      .sort((a, b) => (a.id < b.id ? 1 : -1));
    return Promise.resolve(structuredClone(matching.slice(0, limit)));
  }

  get(id: string): Promise<AuditRecord | null> {
    const record = this.records.get(id);
    return Promise.resolve(record ? structuredClone(record) : null);
  }

  summary(filter: AuditFilter, topSources: number): Promise<AuditSummary> {
    const counts = new Map<string, { type: string; outcome: string; count: number }>();
    const sources = new Map<string, number>();
    for (const record of this.matching(filter)) {
      const key = `${record.type}\u0000${record.outcome}`;
      const entry = counts.get(key) ?? { type: record.type, outcome: record.outcome, count: 0 };
      entry.count += 1;
      counts.set(key, entry);
      if (record.outcome === 'failure' && record.source.ip) {
        sources.set(record.source.ip, (sources.get(record.source.ip) ?? 0) + 1);
      }
    }
    return Promise.resolve({
      counts: [...counts.values()].sort(
        (a, b) => a.type.localeCompare(b.type) || a.outcome.localeCompare(b.outcome),
      ),
      topFailureSources: [...sources.entries()]
        .map(([ip, count]) => ({ ip, count }))
        .sort((a, b) => b.count - a.count || (a.ip < b.ip ? -1 : 1))
        .slice(0, topSources),
    });
  }

  chains(): Promise<string[]> {
    return Promise.resolve([...new Set([...this.records.values()].map((record) => record.chain))].sort());
  }

  chainSlice(chain: string, afterSeq: number, limit: number): Promise<AuditRecord[]> {
    return Promise.resolve(
      structuredClone(
        [...this.records.values()]
          .filter((record) => record.chain === chain && record.seq > afterSeq)
          .sort((a, b) => a.seq - b.seq)
          .slice(0, limit),
      ),
    );
  }

  anchor(chain: string): Promise<ChainAnchor | null> {
    return Promise.resolve(this.anchors.get(chain) ?? null);
  }

  async purgeBatch(cutoff: string, limit: number): Promise<number> {
    for (const chain of await this.chains()) {
      const ordered = [...this.records.values()]
        .filter((r) => r.chain === chain)
        .sort((a, b) => a.seq - b.seq);
      const keepFrom = ordered.findIndex((record) => record.occurredAt >= cutoff);
      const victims = (keepFrom === -1 ? ordered : ordered.slice(0, keepFrom)).slice(0, limit);
      if (victims.length === 0) continue;
      for (const victim of victims) this.records.delete(victim.id);
      const first = ordered[victims.length];
      if (first) this.anchors.set(chain, { chain, seq: first.seq, prevHash: first.prevHash });
      return victims.length;
    }
    return 0;
  }

  /** Test hook: the raw stored records (tamper tests alter them directly). */
  raw(): Map<string, AuditRecord> {
    return this.records;
  }

  private matching(filter: AuditFilter): AuditRecord[] {
    return [...this.records.values()].filter(
      (r) =>
        (!filter.types?.length || filter.types.includes(r.type)) &&
        (!filter.outcome || r.outcome === filter.outcome) &&
        (!filter.agentId || r.actor.agentId === filter.agentId) &&
        (!filter.userId || r.actor.userId === filter.userId) &&
        (!filter.ip || r.source.ip === filter.ip) &&
        (!filter.orgId || r.orgId === filter.orgId) &&
        (!filter.from || r.occurredAt >= filter.from) &&
        (!filter.to || r.occurredAt < filter.to),
    );
  }
}
