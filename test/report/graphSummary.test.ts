/**
 * What a report keeps of each similarity graph (src/passes/scoring/graphSummary.ts): every unit's degree at τ and,
 * for graphs small enough to draw, the strongest edges. Checked against networkx on the same weights
 * (test/oracles/graph_reference.py), and for the size limits.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  channelSimilarityGraph, DRAWN_GRAPH_MAX_UNITS, drawnEdgeLimit, releaseGramSessions, summarizeGraph, type UnitVectors,
} from '../../src/passes/scoring/index.js';
import { describeWith, runPython, seededNormal } from '../support/index.js';

afterAll(releaseGramSessions);

/** Low-rank weights plus noise: many edges above τ, with distinct weights (no tie at the edge limit). */
function lowRank(n: number, d: number, seed: number): UnitVectors {
  const normals = seededNormal([3 * d + n * (3 + d)], seed);
  let next = 0;
  const gauss = (): number => normals[next++]!;
  const basis = Array.from({ length: 3 * d }, gauss);
  const rows = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    const mix = [gauss(), gauss(), gauss()];
    for (let k = 0; k < d; k++) rows[i * d + k] = mix[0]! * basis[k]! + mix[1]! * basis[d + k]! + mix[2]! * basis[2 * d + k]! + 0.8 * gauss();
  }
  return { rows, n, d };
}

interface Reference { degrees: number[]; edges: [number, number, number][]; total: number }

describeWith(['numpy', 'networkx'], 'graph summaries against networkx', () => {
  it('degrees, edge count and the strongest edges match networkx (all edges, and cut at the limit)', async () => {
    const cases = [
      { name: 'small', v: lowRank(40, 12, 1), tau: 0.2 },
      { name: 'sparse', v: lowRank(60, 16, 2), tau: 0.6 },
      { name: 'capped', v: lowRank(400, 10, 3), tau: 0.1 },
    ];
    const input = { cases: cases.map((c) => ({ name: c.name, n: c.v.n, d: c.v.d, rows: Array.from(c.v.rows), tau: c.tau })) };
    // A failing script throws with its exit status and stderr.
    const ref = runPython<Record<string, Reference>>('graph_reference.py', [], { input });
    for (const c of cases) {
      const graph = await channelSimilarityGraph([c.v], { threshold: c.tau, backend: 'typescript' });
      const summary = summarizeGraph(graph.parts[0]!);
      const want = ref[c.name]!;
      expect(summary.degrees, c.name).toEqual(want.degrees);
      expect(summary.degrees.reduce((a, b) => a + b, 0) / 2, c.name).toBe(want.total);
      // Ours are float32 similarities, networkx's float64: the order may differ only between weights closer than that.
      const limit = Math.min(want.total, drawnEdgeLimit(c.v.n));
      const exact = new Map(want.edges.map(([i, j, w]) => [`${i}-${j}`, w]));
      const pairs = summary.edges!.pairs;
      const got = summary.edges!.weights.map((w, k) => ({ key: `${pairs[2 * k]}-${pairs[2 * k + 1]}`, w }));
      expect(got.length, c.name).toBe(limit);
      expect(new Set(got.map((e) => e.key)).size, c.name).toBe(limit);
      const weakestKept = want.edges[limit - 1]![2];
      got.forEach(({ key, w }, k) => {
        const truth = exact.get(key);
        expect(truth, `${c.name}: ${key} is not an edge at τ`).toBeDefined();
        expect(truth!, `${c.name}: ${key} is not among the strongest`).toBeGreaterThanOrEqual(weakestKept - 1e-6);
        expect(Math.abs(w - truth!), `${c.name}: ${key} weight`).toBeLessThanOrEqual(0.0005 + 1e-6);
        if (k > 0) expect(truth!, `${c.name}: strongest first`).toBeLessThanOrEqual(exact.get(got[k - 1]!.key)! + 1e-6);
      });
    }
    expect(ref.capped!.total).toBeGreaterThan(drawnEdgeLimit(400)); // the limit was really reached
  });
});

describe('graph summary limits', () => {
  it(`a graph of more than ${DRAWN_GRAPH_MAX_UNITS} units keeps its degrees but no edges`, async () => {
    const v = lowRank(DRAWN_GRAPH_MAX_UNITS + 1, 4, 5);
    const graph = await channelSimilarityGraph([v], { threshold: 0.9 });
    const summary = summarizeGraph(graph.parts[0]!);
    expect(summary.edges).toBeUndefined();
    expect(summary.degrees).toHaveLength(v.n);
    expect(summary.degrees.reduce((a, b) => a + b, 0)).toBe(2 * graph.parts[0]!.edgeCount);
  });

  it('an unweighted graph reports weight 1 on every edge; an empty one no edge', async () => {
    const v = lowRank(30, 8, 6);
    const unweighted = summarizeGraph((await channelSimilarityGraph([v], { threshold: 0.3, weighted: false })).parts[0]!);
    expect(unweighted.edges!.weights.length).toBeGreaterThan(0);
    expect(new Set(unweighted.edges!.weights)).toEqual(new Set([1]));
    const empty = summarizeGraph((await channelSimilarityGraph([v], { threshold: 1 })).parts[0]!);
    expect(empty.edges).toEqual({ pairs: [], weights: [] });
    expect(empty.degrees.every((d) => d === 0)).toBe(true);
  });
});
