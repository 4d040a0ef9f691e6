/** An available agent as routing weighs it (PROTOCOL §3). */
export interface RoutingCandidate {
  agentId: string;
  /** The agent's `priorityRank` in the pool: tier 1 is tried before tier 2. */
  rank: number;
  visitors: number;
  /** null = never assigned, which counts as least recently assigned. */
  lastAssignedAt: number | null;
}

/**
 * Chooses an agent: the best tier (lowest rank) that has anyone under `capacity`; within it an
 * agent without visitors, least recently assigned; else the one with the fewest visitors (ties:
 * least recently assigned). Deterministic: a final tie is broken by agent id.
 */
export function selectAgent(
  candidates: readonly RoutingCandidate[],
  capacity: number,
): RoutingCandidate | null {
  const open = candidates.filter((candidate) => candidate.visitors < capacity);
  if (open.length === 0) return null;
  const bestRank = Math.min(...open.map((candidate) => candidate.rank));
  const tier = open.filter((candidate) => candidate.rank === bestRank);
  return [...tier].sort(byLoadThenRecency)[0];
}

function byLoadThenRecency(a: RoutingCandidate, b: RoutingCandidate): number {
  // Fewest visitors first puts every agent without visitors ahead of the rest.
  if (a.visitors !== b.visitors) return a.visitors - b.visitors;
  const aAt = a.lastAssignedAt ?? -Infinity;
  const bAt = b.lastAssignedAt ?? -Infinity;
  if (aAt !== bAt) return aAt < bAt ? -1 : 1;
  return a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : 0;
}
