import { RoutingCandidate, selectAgent } from './agent-selection';

const CAPACITY = 25;

function candidate(agentId: string, overrides: Partial<RoutingCandidate> = {}): RoutingCandidate {
  return { agentId, rank: 1, visitors: 0, lastAssignedAt: null, ...overrides };
}

const pick = (candidates: RoutingCandidate[], capacity = CAPACITY): string | null =>
  selectAgent(candidates, capacity)?.agentId ?? null;

describe('selectAgent', () => {
  it('returns null for no candidates', () => {
    expect(selectAgent([], CAPACITY)).toBeNull();
  });

  it('returns the chosen candidate itself', () => {
    const only = candidate('a', { visitors: 3, lastAssignedAt: 10 });
    expect(selectAgent([only], CAPACITY)).toEqual(only);
  });

  describe('priority tiers', () => {
    it('the lowest rank wins even when a higher rank is idler', () => {
      const candidates = [
        candidate('tier2', { rank: 2, visitors: 0 }),
        candidate('tier1', { rank: 1, visitors: 20, lastAssignedAt: 999 }),
      ];
      expect(pick(candidates)).toBe('tier1');
    });

    it('ranks are compared as numbers, not by list order', () => {
      const candidates = [
        candidate('r10', { rank: 10 }),
        candidate('r3', { rank: 3, visitors: 5 }),
        candidate('r7', { rank: 7 }),
      ];
      expect(pick(candidates)).toBe('r3');
    });

    it('stays in the best tier while anyone in it is under capacity', () => {
      const candidates = [
        candidate('full', { rank: 1, visitors: CAPACITY }),
        candidate('almost', { rank: 1, visitors: CAPACITY - 1 }),
        candidate('tier2', { rank: 2, visitors: 0 }),
      ];
      expect(pick(candidates)).toBe('almost');
    });

    it('falls to the next tier when the whole tier is full', () => {
      const candidates = [
        candidate('full1', { rank: 1, visitors: CAPACITY }),
        candidate('full2', { rank: 1, visitors: CAPACITY + 3 }),
        candidate('tier3', { rank: 3, visitors: 1 }),
        candidate('tier2', { rank: 2, visitors: 10 }),
      ];
      expect(pick(candidates)).toBe('tier2');
    });

    it('returns null when every tier is full', () => {
      const candidates = [
        candidate('a', { rank: 1, visitors: CAPACITY }),
        candidate('b', { rank: 2, visitors: CAPACITY }),
      ];
      expect(selectAgent(candidates, CAPACITY)).toBeNull();
    });
  });

  describe('capacity is exclusive', () => {
    it('an agent with exactly `capacity` visitors is full; one fewer is not', () => {
      expect(pick([candidate('a', { visitors: 2 })], 2)).toBeNull();
      expect(pick([candidate('a', { visitors: 1 })], 2)).toBe('a');
    });

    it('a capacity of 0 admits nobody', () => {
      expect(pick([candidate('a')], 0)).toBeNull();
    });
  });

  describe('within a tier', () => {
    it('an agent without visitors comes before any agent with visitors, however long ago they were assigned', () => {
      const candidates = [
        candidate('busy-never', { visitors: 1, lastAssignedAt: null }),
        candidate('busy-old', { visitors: 1, lastAssignedAt: 1 }),
        candidate('free-recent', { visitors: 0, lastAssignedAt: 1_000_000 }),
      ];
      expect(pick(candidates)).toBe('free-recent');
    });

    it('among agents without visitors, the least recently assigned; never assigned first', () => {
      expect(
        pick([
          candidate('recent', { lastAssignedAt: 300 }),
          candidate('old', { lastAssignedAt: 100 }),
          candidate('middle', { lastAssignedAt: 200 }),
        ]),
      ).toBe('old');
      expect(
        pick([
          candidate('old', { lastAssignedAt: 0 }),
          candidate('never', { lastAssignedAt: null }),
          candidate('recent', { lastAssignedAt: 300 }),
        ]),
      ).toBe('never');
    });

    it('else the fewest visitors', () => {
      const candidates = [
        candidate('five', { visitors: 5, lastAssignedAt: 1 }),
        candidate('two', { visitors: 2, lastAssignedAt: 900 }),
        candidate('three', { visitors: 3, lastAssignedAt: null }),
      ];
      expect(pick(candidates)).toBe('two');
    });

    it('equal loads: least recently assigned (never first), then agent id', () => {
      expect(
        pick([
          candidate('b', { visitors: 4, lastAssignedAt: 50 }),
          candidate('a', { visitors: 4, lastAssignedAt: 60 }),
        ]),
      ).toBe('b');
      expect(
        pick([
          candidate('b', { visitors: 4, lastAssignedAt: 50 }),
          candidate('c', { visitors: 4, lastAssignedAt: null }),
        ]),
      ).toBe('c');
      expect(
        pick([
          candidate('b', { visitors: 4, lastAssignedAt: 50 }),
          candidate('a', { visitors: 4, lastAssignedAt: 50 }),
          candidate('c', { visitors: 4, lastAssignedAt: 50 }),
        ]),
      ).toBe('a');
      expect(pick([candidate('agent_b'), candidate('agent_a')])).toBe('agent_a');
    });

    it('does not depend on the order of the candidates', () => {
      const candidates = [
        candidate('a', { visitors: 2, lastAssignedAt: 10 }),
        candidate('b', { visitors: 1, lastAssignedAt: 30 }),
        candidate('c', { visitors: 1, lastAssignedAt: 20 }),
        candidate('d', { visitors: 1, lastAssignedAt: 20 }),
        candidate('e', { rank: 2 }),
      ];
      const orders = [candidates, [...candidates].reverse(), [2, 4, 0, 3, 1].map((i) => candidates[i])];
      expect(orders.map((order) => pick(order))).toEqual(['c', 'c', 'c']);
    });

    it('a full agent is skipped even if it would otherwise come first', () => {
      const candidates = [
        candidate('full-never', { visitors: 3, lastAssignedAt: null }),
        candidate('open', { visitors: 2, lastAssignedAt: 500 }),
      ];
      expect(pick(candidates, 3)).toBe('open');
    });
  });

  it('does not mutate its input', () => {
    const candidates = [
      candidate('c', { rank: 2, visitors: 1, lastAssignedAt: 5 }),
      candidate('b', { visitors: 3, lastAssignedAt: null }),
      candidate('a', { visitors: 3, lastAssignedAt: 7 }),
      candidate('full', { visitors: CAPACITY }),
    ];
    const snapshot = structuredClone(candidates);
    const frozen = Object.freeze(candidates.map((c) => Object.freeze({ ...c })));

    expect(pick(candidates)).toBe('b');
    expect(candidates).toEqual(snapshot);
    expect(candidates.map((c) => c.agentId)).toEqual(['c', 'b', 'a', 'full']);
    // Frozen input works too (anything writing to it would throw in strict mode).
    expect(selectAgent(frozen, CAPACITY)?.agentId).toBe('b');
  });
});
