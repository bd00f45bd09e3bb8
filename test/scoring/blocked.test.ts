import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  channelSimilarityGraph, eigenvectorCentrality, l2Norm, releaseGramSessions, type GramBackend, type LazyUnitVectors, type UnitVectors,
} from '../../src/passes/scoring/index.js';
import { describeWith, runPython } from '../support/index.js';

/** What test/oracles/blocked_reference.py prints: two producers' rows, and the dense numpy + networkx answer. */
interface Reference {
  producers: { n: number; d: number; rows: number[] }[];
  edges: number;
  networkx: number[] | null;
}

const N = 3000;
const TAU = 0.5;
let ref: Reference;
let vectors: UnitVectors[];

function worstDifference(a: Float64Array, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

afterAll(releaseGramSessions);

describeWith(['numpy', 'networkx'], 'the blocked similarity of a coupled group against a dense reference', () => {
  beforeAll(() => {
    ref = runPython<Reference>('blocked_reference.py', [], { input: { n: N, dims: [64, 48], k: 40, clustered: 0.4, spread: 0.5, seed: 7, tau: TAU } });
    vectors = ref.producers.map((p) => ({ rows: Float32Array.from(p.rows), n: p.n, d: p.d }));
  });

  for (const backend of ['typescript', 'onnxruntime'] as GramBackend[]) {
    it(`accumulates per-producer Gram blocks in 15 bands of 200 rows, as networkx on the dense matrix (${backend} GEMM)`, async () => {
      expect(ref.networkx).not.toBeNull();
      const loads: number[] = [];
      // Lazy producers, as the pass hands them over: each is loaded once per band, never both at once.
      const lazy: LazyUnitVectors[] = vectors.map((v, p) => ({ n: v.n, d: v.d, load: () => (loads.push(p), v) }));
      const graph = await channelSimilarityGraph(lazy, { threshold: TAU, concatenation: 'accumulate', bandFloats: 200 * N, backend });
      expect(loads).toEqual(Array.from({ length: 30 }, (_, i) => i % 2));
      expect(graph.backends).toEqual([backend]);
      expect(graph.parts[0]!.edgeCount).toBe(ref.edges);
      const blocked = eigenvectorCentrality(graph, { maxIter: 1000 });
      expect(blocked.method).toBe('power-iteration');
      expect(worstDifference(blocked.scores, ref.networkx!)).toBeLessThan(1e-5);
      // The same graph as the concatenation the small groups use (float32 products summed in another order), and the l2
      // norms as a by-product.
      const concatenated = await channelSimilarityGraph(vectors, { threshold: TAU, backend });
      expect(concatenated.parts[0]!.edgeCount).toBe(ref.edges);
      expect(worstDifference(blocked.scores, eigenvectorCentrality(concatenated, { maxIter: 1000 }).scores)).toBeLessThan(1e-6);
      expect(worstDifference(graph.norms!, l2Norm(vectors))).toBeLessThan(1e-9);
    });
  }
});
