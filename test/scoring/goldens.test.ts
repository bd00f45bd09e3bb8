import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  channelSimilarityGraph, degreeCentrality, eigenvectorCentrality, l1Norm, l2Norm, releaseGramSessions, selectKeep,
  type UnitVectors, type GramBackend,
} from '../../src/passes/scoring/index.js';
import { describeWith, runPython } from '../support/index.js';

/** What test/oracles/networkx_reference.py prints (numpy + networkx, independent of our code). */
interface Reference {
  weights: Record<string, { n: number; d: number; rows: number[] }[]>;
  cases: {
    name: string; tau: number; n: number; coupling?: 'concat' | 'average';
    edges?: number; components?: number; isolated?: number;
    networkx: number[] | null; networkxUnweighted?: number[] | null; perComponent?: number[]; degree?: number[];
    keepCentral?: number[]; keepPeripheral?: number[];
  }[];
  l1: Record<string, number[]>;
  l2: Record<string, number[]>;
}

let ref: Reference;
const vectors = (name: string): UnitVectors[] =>
  ref.weights[name]!.map((w) => ({ rows: Float32Array.from(w.rows), n: w.n, d: w.d }));

function expectClose(actual: Float64Array, expected: number[], tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tol);
}

afterAll(releaseGramSessions);

describeWith(['numpy', 'networkx'], 'against numpy and networkx', () => {
  beforeAll(() => {
    ref = runPython<Reference>('networkx_reference.py');
  });

  describe('eigenvector centrality against networkx', () => {
    it('covers the cases the brief asks for', () => {
      const single = ref.cases.filter((c) => !c.coupling);
      expect(new Set(single.map((c) => c.tau))).toEqual(new Set([0, 0.2, 0.5, 0.8]));
      expect(single.some((c) => c.isolated! > 0 && c.networkx)).toBe(true); // isolated nodes, networkx converges
      expect(single.some((c) => c.edges! > 0 && !c.networkx)).toBe(true); // networkx raises
      expect(single.some((c) => c.edges === 0)).toBe(true); // empty graph
      const lowrank = single.find((c) => c.name === 'lowrank' && c.tau === 0.2)!;
      expect(lowrank.edges! / ((lowrank.n * (lowrank.n - 1)) / 2)).toBeGreaterThan(0.15); // ~20 % dense
    });

    for (const backend of ['typescript', 'onnxruntime'] as GramBackend[]) {
      it(`matches scores, degrees and kept sets for every single-producer case (${backend} GEMM)`, async () => {
        for (const c of ref.cases.filter((k) => !k.coupling)) {
          const label = `${c.name} τ=${c.tau}`;
          const graph = await channelSimilarityGraph(vectors(c.name), { threshold: c.tau, backend });
          expect(graph.backends, label).toEqual([backend]);
          expect(graph.parts[0]!.edgeCount, label).toBe(c.edges);
          expectClose(degreeCentrality(graph), c.degree!, 1e-12);
          const result = eigenvectorCentrality(graph, { maxIter: 1000 });
          expect(result.components, label).toBe(c.components);
          expect(result.isolated, label).toBe(c.isolated);
          if (c.edges === 0) {
            expect(result.empty, label).toBe(true);
            expect(result.method).toBe('empty');
            expect([...result.scores].every((s) => s === 0)).toBe(true);
            continue;
          }
          expect(result.converged, label).toBe(true);
          if (c.networkx) {
            expect(result.method, label).toBe('power-iteration');
            expectClose(result.scores, c.networkx, 1e-5);
          } else {
            expect(result.method, label).toBe('per-component');
            expect(result.note, label).toMatch(/did not converge in 1000 iterations/);
            expectClose(result.scores, c.perComponent!, 1e-5);
          }
          expect(selectKeep(result.scores, { ratio: 0.3 }).keep, label).toEqual(c.keepCentral);
          expect(selectKeep(result.scores, { ratio: 0.5, keep: 'peripheral' }).keep, label).toEqual(c.keepPeripheral);
        }
      });
    }

    it('per-component definition matches numpy.linalg.eigh per component (Jacobi and Lanczos sizes)', async () => {
      for (const c of ref.cases.filter((k) => !k.coupling && k.edges! > 0)) {
        const graph = await channelSimilarityGraph(vectors(c.name), { threshold: c.tau });
        const result = eigenvectorCentrality(graph, { perComponent: 'always' });
        expect(result.method).toBe('per-component');
        expect(result.converged).toBe(true);
        expectClose(result.scores, c.perComponent!, 1e-6);
      }
    });

    it('falls back with networkx defaults (max_iter 100) where power iteration stalls, and says so', async () => {
      const c = ref.cases.find((k) => k.name === 'clusters' && k.tau === 0.8)!;
      const result = eigenvectorCentrality(await channelSimilarityGraph(vectors(c.name), { threshold: 0.8 }));
      expect(result.iterations).toBe(100);
      expect(result.method).toBe('per-component');
      expect(result.note).toMatch(/did not converge in 100 iterations; 32 components \(8 isolated nodes\)/);
      expectClose(result.scores, c.perComponent!, 1e-5);
    });

    it('a connected graph with a tiny spectral gap: Lanczos gives the principal eigenvector networkx is heading for', async () => {
      const c = ref.cases.find((k) => k.name === 'bridged' && k.tau === 0.5)!;
      expect(c.components).toBe(1);
      const graph = await channelSimilarityGraph(vectors(c.name), { threshold: c.tau });
      const quick = eigenvectorCentrality(graph); // networkx's default max_iter = 100 is not enough here
      expect(quick).toMatchObject({ method: 'per-component', converged: true, components: 1, iterations: 100 });
      expectClose(quick.scores, c.perComponent!, 1e-6); // numpy.linalg.eigh
      expectClose(quick.scores, c.networkx!, 1e-4); // networkx with max_iter = 1000 stops within its tolerance of it
    });

    it('unweighted graphs match networkx with weight=None', async () => {
      for (const c of ref.cases.filter((k) => !k.coupling && k.networkxUnweighted)) {
        const graph = await channelSimilarityGraph(vectors(c.name), { threshold: c.tau, weighted: false });
        expect(graph.parts[0]!.weighted).toBe(false);
        expectClose(eigenvectorCentrality(graph, { maxIter: 1000 }).scores, c.networkxUnweighted!, 1e-5);
      }
    });

    it('coupled groups: concat rule and average of per-producer centralities', async () => {
      const coupled = ref.cases.filter((k) => k.coupling);
      expect(coupled.length).toBe(4);
      for (const c of coupled) {
        const graph = await channelSimilarityGraph(vectors(c.name), { threshold: c.tau, coupling: c.coupling! });
        expect(graph.parts.length).toBe(c.coupling === 'concat' ? 1 : 2);
        if (c.coupling === 'concat') expect(graph.parts[0]!.edgeCount).toBe(c.edges);
        const result = eigenvectorCentrality(graph, { maxIter: 1000 });
        expectClose(result.scores, c.networkx!, 1e-5);
        if (c.coupling === 'concat') expect(selectKeep(result.scores, { ratio: 0.3 }).keep).toEqual(c.keepCentral);
        else expect(result.parts?.length).toBe(2);
      }
    });
  });

  describe('magnitude baselines against numpy', () => {
    it('l1 and l2 norms of the raw vectors (summed over a coupled group)', () => {
      for (const name of Object.keys(ref.weights)) {
        expectClose(l1Norm(vectors(name)), ref.l1[name]!, 1e-9);
        expectClose(l2Norm(vectors(name)), ref.l2[name]!, 1e-9);
      }
    });
  });
});
