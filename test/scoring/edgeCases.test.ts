import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../../src/ir/errors.js';
import {
  channelSimilarityGraph, eigenvectorCentrality, l2Norm, releaseGramSessions, scoreChannels, type UnitVectors,
} from '../../src/passes/scoring/index.js';

const cv = (n: number, d: number, values: number[]): UnitVectors => ({ rows: Float32Array.from(values), n, d });
afterAll(releaseGramSessions);

describe('scoring edge cases', () => {
  it('an empty graph scores 0 everywhere, says so, and scoreChannels falls back to the named criterion', async () => {
    // Orthogonal channels: every S_ij = 0, nothing above τ = 0.2.
    const v = [cv(3, 3, [1, 0, 0, 0, 2, 0, 0, 0, 3])];
    const result = eigenvectorCentrality(await channelSimilarityGraph(v, { threshold: 0.2 }));
    expect(result).toMatchObject({ empty: true, method: 'empty', components: 3, isolated: 3, converged: true });
    expect([...result.scores]).toEqual([0, 0, 0]);
    const scored = await scoreChannels(v, { method: 'eigenvector', threshold: 0.2 });
    expect(scored.method).toBe('l2');
    expect(scored.fellBack).toMatch(/no edge above τ = 0.2/);
    expect([...scored.scores]).toEqual([...l2Norm(v)]);
    expect((await scoreChannels(v, { method: 'degree', threshold: 0.2, emptyFallback: 'l1' })).method).toBe('l1');
  });

  it('the threshold is strict and there are no self-loops', async () => {
    // Two identical channels (S ≈ 1), a third at cos 0.6 to both, a fourth orthogonal to all (S = 0 exactly).
    const v = [cv(4, 3, [1, 0, 0, 1, 0, 0, 3, 4, 0, 0, 0, 1])];
    const edges = async (threshold: number): Promise<number> => (await channelSimilarityGraph(v, { threshold })).parts[0]!.edgeCount;
    expect(await edges(0.59)).toBe(3);
    expect(await edges(0.61)).toBe(1);
    expect(await edges(1)).toBe(0); // S_ii would be 1 − 2ε: never an edge, and never a self-loop
    expect(await edges(0)).toBe(3); // S = 0 is not above τ = 0
    expect(await edges(-1e-9)).toBe(6);
  });

  it('two symmetric channels and a pendant: the analytic eigenvector', async () => {
    // Path 0 — 1 — 2 with unit weights (unweighted): eigenvector (1, √2, 1)/2.
    const v = [cv(3, 2, [1, 0, 1, 1, 0, 1])];
    const result = eigenvectorCentrality(await channelSimilarityGraph(v, { threshold: 0.5, weighted: false }));
    expect(result.method).toBe('power-iteration');
    [0.5, Math.SQRT1_2, 0.5].forEach((e, i) => expect(result.scores[i]).toBeCloseTo(e, 5));
  });

  it('handles n = 0, n = 1 and zero-width vectors', async () => {
    for (const v of [cv(0, 4, []), cv(1, 4, [1, 2, 3, 4]), cv(3, 0, [])]) {
      const result = eigenvectorCentrality(await channelSimilarityGraph([v], { threshold: 0.2 }));
      expect(result.scores.length).toBe(v.n);
      expect(result.empty).toBe(true);
    }
  });

  it('rejects malformed input as user errors', async () => {
    await expect(channelSimilarityGraph([cv(2, 2, [1, 2, 3])], { threshold: 0.2 })).rejects.toThrow(UserError);
    await expect(channelSimilarityGraph([cv(2, 2, [1, 2, 3, 4]), cv(3, 1, [1, 2, 3])], { threshold: 0.2 })).rejects.toThrow(/must agree/);
    await expect(channelSimilarityGraph([cv(1, 2, [1, Number.NaN])], { threshold: 0.2 })).rejects.toThrow(/not finite/);
    await expect(channelSimilarityGraph([cv(1, 2, [1, 2])], { threshold: Number.NaN })).rejects.toThrow(UserError);
    await expect(channelSimilarityGraph([], { threshold: 0.2 })).rejects.toThrow(UserError);
  });

  it('random scores are seeded; l1/l2 need no graph', async () => {
    const v = [cv(4, 1, [1, -2, 3, -4])];
    const a = await scoreChannels(v, { method: 'random', threshold: 0.2, seed: 5 });
    expect(a.scores).toEqual((await scoreChannels(v, { method: 'random', threshold: 0.2, seed: 5 })).scores);
    expect([...(await scoreChannels(v, { method: 'l1', threshold: 0.2 })).scores]).toEqual([1, 2, 3, 4]);
  });
});
